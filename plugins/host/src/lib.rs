//! WebAssembly plugin host (wasmtime, component model). The plugin issue fills this crate:
//! component validation, compiled-artifact cache, per-call stores with fuel and epoch limits,
//! and host-owned plugin storage. Until then the GraphQL schema builder has no plugin types.
