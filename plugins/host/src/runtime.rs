//! The wasmtime side: one engine with a pooling allocator, components checked and compiled
//! once per version (the compiled artifact is cached in memory and on disk), and every call
//! in a fresh `Store` with fuel, an epoch deadline and a memory cap, on a blocking thread.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele_kernel::{AppError, AppResult, ErrorCode, PluginId, TenantId};
use parking_lot::Mutex;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder, Trap,
};

use crate::manifest::Manifest as HostManifest;

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
    imports: { default: trappable },
});

pub use clientele::plugin::types as wit;

/// The WIT package a component must be built against.
pub const WIT_PACKAGE: &str = "clientele:plugin";
pub const WIT_VERSION: &str = "0.1.0";

/// What one call may use.
#[derive(Clone, Copy, Debug)]
pub struct CallLimits {
    /// Instructions (wasmtime fuel) per call.
    pub fuel: u64,
    /// Wall-clock time per call, counted in epoch ticks.
    pub deadline: Duration,
    /// Linear memory of one instance.
    pub memory: usize,
    /// Total bytes of text a call may return (computed values, action results).
    pub max_output: usize,
    /// Records a call may write.
    pub max_writes: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            fuel: 2_000_000_000,
            deadline: Duration::from_millis(100),
            memory: 64 << 20,
            max_output: 1 << 20,
            max_writes: 500,
        }
    }
}

/// One epoch tick; the deadline is a whole number of them.
const TICK: Duration = Duration::from_millis(5);
/// A call ends after this many times its deadline of wall-clock time, whatever its host
/// functions took.
const WALL_FACTOR: u32 = 20;
/// Instances alive at once (the pool's size); calls beyond wait for a permit.
const POOL: u32 = 64;
/// Consecutive failures of one plugin in one tenant that trip its breaker, and for how long.
const BREAKER_FAILURES: u32 = 5;
const BREAKER_PAUSE: Duration = Duration::from_mins(1);
/// Largest component accepted.
pub const MAX_COMPONENT: usize = 10 << 20;

/// WASI p2 interfaces a `wasm32-wasip2` std guest imports even when unused. They are linked
/// to traps: a plugin gets no environment, no stdio, no exit, and no filesystem, sockets,
/// clocks or randomness at all (those are refused at upload).
const WASI_ALLOWED: &[&str] = &[
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:io/poll",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
];

/// What the host functions do for one call: bound to one tenant and one plugin by the caller.
pub trait HostApi: Send {
    fn get_record(&mut self, collection: &str, id: &str) -> Result<Option<wit::StoredRecord>, String>;
    fn query_records(&mut self, query: wit::RecordQuery) -> Result<Vec<wit::StoredRecord>, String>;
    /// `Ok(Err(_))` is a refusal the guest sees; `Err(_)` traps the call.
    fn put_record(&mut self, record: wit::RecordInput) -> Result<Result<wit::StoredRecord, String>, String>;
    fn delete_record(&mut self, collection: &str, id: &str) -> Result<bool, String>;
    fn get_client(&mut self, id: &str) -> Result<Option<wit::ClientInfo>, String>;
    fn config(&mut self) -> String;
    fn now(&mut self) -> String;
    fn log(&mut self, level: wit::LogLevel, message: &str);
    /// The writes buffered during the call.
    fn into_writes(self: Box<Self>) -> Vec<crate::records::Write>;
}

/// The store's data for one call.
pub struct CallState {
    limits: StoreLimits,
    host: Box<dyn HostApi>,
    /// When the call started, and how long it spent in host functions (database reads): the
    /// deadline counts the guest's own time only, up to a hard cap of [`WALL_FACTOR`] × it.
    started: Instant,
    in_host: Duration,
    /// Bytes of text the guest sent through host functions, capped like outputs.
    sent: usize,
    max_output: usize,
}

fn trap(message: String) -> wasmtime::Error {
    wasmtime::Error::msg(message)
}

impl CallState {
    /// Runs a host function, counting its time apart from the guest's.
    fn timed<R>(&mut self, f: impl FnOnce(&mut Box<dyn HostApi>) -> R) -> R {
        let t = Instant::now();
        let out = f(&mut self.host);
        self.in_host += t.elapsed();
        out
    }

    fn count(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.sent += bytes;
        if self.sent > self.max_output { Err(trap("the plugin sent too much data to the host".into())) } else { Ok(()) }
    }
}

impl wit::Host for CallState {}

impl clientele::plugin::host::Host for CallState {
    fn get_record(&mut self, collection: String, id: String) -> wasmtime::Result<Option<wit::StoredRecord>> {
        self.timed(|h| h.get_record(&collection, &id)).map_err(trap)
    }

    fn query_records(&mut self, query: wit::RecordQuery) -> wasmtime::Result<Vec<wit::StoredRecord>> {
        self.timed(|h| h.query_records(query)).map_err(trap)
    }

    fn put_record(&mut self, record: wit::RecordInput) -> wasmtime::Result<Result<wit::StoredRecord, String>> {
        self.count(record.data.len())?;
        self.timed(|h| h.put_record(record)).map_err(trap)
    }

    fn delete_record(&mut self, collection: String, id: String) -> wasmtime::Result<bool> {
        self.timed(|h| h.delete_record(&collection, &id)).map_err(trap)
    }

    fn get_client(&mut self, id: String) -> wasmtime::Result<Option<wit::ClientInfo>> {
        self.timed(|h| h.get_client(&id)).map_err(trap)
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        Ok(self.host.config())
    }

    fn now(&mut self) -> wasmtime::Result<String> {
        Ok(self.host.now())
    }

    fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        self.count(message.len())?;
        self.host.log(level, &message);
        Ok(())
    }
}

/// A compiled, linked plugin version, ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    pre: PluginPre<CallState>,
}

#[derive(Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
}

/// The plugin runtime of one server process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: CallLimits,
    /// Compiled versions by content hash.
    compiled: Mutex<HashMap<String, Prepared>>,
    /// Where compiled artifacts are kept between restarts (none: memory only).
    cache_dir: Option<PathBuf>,
    permits: tokio::sync::Semaphore,
    breakers: Mutex<HashMap<(TenantId, PluginId), BreakerState>>,
    ticks: u64,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// A failure of the plugin (trap, fuel, deadline, memory, size): logged with its whole cause
/// (backtrace, host error text), shown to the caller as `PLUGIN_FAILED` with a short reason
/// that holds nothing of either.
fn failed(plugin: &str, err: &wasmtime::Error) -> AppError {
    let (reason, label) = match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ("it ran out of fuel", "fuel"),
        Some(Trap::Interrupt) => ("it ran past its deadline", "deadline"),
        Some(Trap::MemoryOutOfBounds | Trap::TableOutOfBounds) => ("it accessed memory out of bounds", "memory"),
        Some(Trap::StackOverflow) => ("its stack overflowed", "stack"),
        Some(_) => ("it trapped", "trap"),
        None => ("it could not complete", "other"),
    };
    crate::metrics::failed(plugin, label);
    tracing::warn!(plugin, reason, cause = format!("{err:?}"), "plugin call failed");
    AppError::new(ErrorCode::PluginFailed, format!("The plugin {plugin} failed ({reason}); nothing was changed."))
}

impl Runtime {
    /// An engine with the pooling allocator, fuel and epochs, and a thread ticking the epoch.
    pub fn new(limits: CallLimits, cache_dir: Option<PathBuf>) -> AppResult<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL)
            .total_core_instances(POOL * 4)
            .total_memories(POOL * 2)
            .total_tables(POOL * 4)
            .max_memory_size(limits.memory);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| AppError::internal(format!("plugin engine: {e:#}")))?;
        let mut linker = Linker::new(&engine);
        Plugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| AppError::internal(format!("plugin linker: {e:#}")))?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                // Stops once the engine is gone.
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(AppError::internal)?;
        let ticks = u64::try_from(limits.deadline.as_millis() / TICK.as_millis()).unwrap_or(10).max(1);
        Ok(Self {
            engine,
            linker,
            limits,
            compiled: Mutex::new(HashMap::new()),
            cache_dir,
            permits: tokio::sync::Semaphore::new(POOL as usize),
            breakers: Mutex::new(HashMap::new()),
            ticks,
        })
    }

    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// Refuses imports other than ours (at our version) and the inert WASI p2 set, naming
    /// every offending import.
    fn check_imports(&self, component: &Component) -> AppResult<()> {
        let ty = component.component_type();
        let mut forbidden = Vec::new();
        for (name, _) in ty.imports(&self.engine) {
            let (base, version) = name.split_once('@').unwrap_or((name, ""));
            let ours = base.starts_with(&format!("{WIT_PACKAGE}/"));
            if ours && version != WIT_VERSION {
                return Err(AppError::invalid(
                    "component",
                    format!(
                        "The component targets {WIT_PACKAGE}@{version}; this server runs {WIT_PACKAGE}@{WIT_VERSION}."
                    ),
                ));
            }
            if !ours && !WASI_ALLOWED.contains(&base) {
                forbidden.push(format!("`{name}`"));
            }
        }
        if forbidden.is_empty() {
            return Ok(());
        }
        Err(AppError::invalid(
            "component",
            format!(
                "The component imports {}, which plugins may not use (no filesystem, sockets, clocks or environment).",
                forbidden.join(", ")
            ),
        ))
    }

    fn link(&self, component: &Component) -> AppResult<Prepared> {
        self.check_imports(component)?;
        let mut linker = self.linker.clone();
        // The inert WASI imports trap if ever called.
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(|e| AppError::invalid("component", format!("Unusable imports: {e}")))?;
        let pre = linker.instantiate_pre(component).and_then(PluginPre::new).map_err(|e| {
            AppError::invalid(
                "component",
                format!("The component does not implement the world {WIT_PACKAGE}/plugin@{WIT_VERSION}: {e}"),
            )
        })?;
        Ok(Prepared { pre })
    }

    /// Checks an uploaded component and reads its manifest (`describe`), without storing it.
    pub async fn inspect(
        self: &Arc<Self>,
        bytes: Vec<u8>,
        host: Box<dyn HostApi>,
    ) -> AppResult<(String, HostManifest)> {
        if bytes.len() > MAX_COMPONENT {
            return Err(AppError::invalid("component", format!("At most {} MiB.", MAX_COMPONENT >> 20)));
        }
        let hash = sha256(&bytes);
        // Compiling takes tens of milliseconds: off the async threads.
        let (this, key) = (self.clone(), hash.clone());
        let prepared =
            tokio::task::spawn_blocking(move || this.prepare(&key, &bytes)).await.map_err(AppError::internal)??;
        // Not a plugin name (those have no spaces): the metrics label of uploads stays apart.
        let (manifest, _) = self.call(&prepared, "being uploaded", host, |p, s| p.call_describe(s)).await?;
        let manifest = crate::convert::manifest(manifest);
        Ok((hash, manifest))
    }

    fn artifact_path(&self, hash: &str) -> Option<PathBuf> {
        self.cache_dir.as_ref().map(|d| d.join(format!("{hash}-{}.cwasm", self.engine_key())))
    }

    /// The compiled version with content hash `hash`, from memory or from the disk cache.
    pub fn cached(&self, hash: &str) -> Option<Prepared> {
        if let Some(p) = self.compiled.lock().get(hash) {
            return Some(p.clone());
        }
        let path = self.artifact_path(hash).filter(|p| p.exists())?;
        let prepared = crate::artifact::load(&self.engine, &path).and_then(|c| self.link(&c).ok())?;
        self.compiled.lock().insert(hash.to_owned(), prepared.clone());
        Some(prepared)
    }

    /// Compiles `bytes` (whose hash is `hash`) once, keeping the artifact in memory and on
    /// disk. Blocking: call it off the async threads.
    pub fn prepare(&self, hash: &str, bytes: &[u8]) -> AppResult<Prepared> {
        if let Some(p) = self.cached(hash) {
            return Ok(p);
        }
        if sha256(bytes) != hash {
            return Err(AppError::internal("plugin component does not match its hash"));
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| AppError::invalid("component", format!("Not a WebAssembly component: {e}")))?;
        let prepared = self.link(&component)?;
        if let Some(path) = self.artifact_path(hash) {
            crate::artifact::store(&component, &path);
        }
        self.compiled.lock().insert(hash.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// Distinguishes artifacts of engines with other settings or versions.
    fn engine_key(&self) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// Fails fast while the breaker of (`tenant`, `plugin`) is open.
    pub fn check_breaker(&self, tenant: TenantId, plugin: PluginId) -> AppResult<()> {
        let mut breakers = self.breakers.lock();
        let state = breakers.entry((tenant, plugin)).or_default();
        match state.open_until {
            Some(until) if Instant::now() < until => Err(AppError::code_only(ErrorCode::PluginSuspended)),
            Some(_) => {
                // Half-open: one more failure trips it again.
                state.open_until = None;
                state.failures = BREAKER_FAILURES - 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records the outcome of a call of `plugin` (named `name`) for the breaker.
    pub fn record_outcome(&self, tenant: TenantId, plugin: PluginId, name: &str, ok: bool) {
        let mut breakers = self.breakers.lock();
        let state = breakers.entry((tenant, plugin)).or_default();
        if ok {
            *state = BreakerState::default();
        } else {
            state.failures += 1;
            if state.failures >= BREAKER_FAILURES {
                tracing::warn!(%tenant, %plugin, "plugin breaker tripped");
                if state.open_until.is_none() {
                    crate::metrics::tripped(name); // calls in flight when it opened do not count again
                }
                state.open_until = Some(Instant::now() + BREAKER_PAUSE);
            }
        }
    }

    /// Runs `f` on a fresh instance, on a blocking thread, under the call limits. Returns its
    /// result and the host, whose buffered writes the caller may then apply.
    pub async fn call<R, F>(
        &self,
        prepared: &Prepared,
        plugin: &str,
        host: Box<dyn HostApi>,
        f: F,
    ) -> AppResult<(R, Box<dyn HostApi>)>
    where
        R: Send + 'static,
        F: FnOnce(&Plugin, &mut Store<CallState>) -> wasmtime::Result<R> + Send + 'static,
    {
        let started = Instant::now();
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let engine = self.engine.clone();
        let pre = prepared.pre.clone();
        let limits = self.limits;
        let ticks = self.ticks;
        let task = tokio::task::spawn_blocking(move || {
            let state = CallState {
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory)
                    .instances(8)
                    .trap_on_grow_failure(true)
                    .build(),
                host,
                started: Instant::now(),
                in_host: Duration::ZERO,
                sent: 0,
                max_output: limits.max_output,
            };
            let mut store = Store::new(&engine, state);
            store.limiter(|s| &mut s.limits);
            let deadline = limits.deadline;
            // Past the deadline: go on, tick by tick, while the guest's own time is under it.
            store.epoch_deadline_callback(move |ctx| {
                let state = ctx.data();
                let wall = state.started.elapsed();
                if wall.saturating_sub(state.in_host) < deadline && wall < deadline * WALL_FACTOR {
                    Ok(wasmtime::UpdateDeadline::Continue(1))
                } else {
                    Err(wasmtime::Error::from(Trap::Interrupt))
                }
            });
            let run = (|| {
                store.set_fuel(limits.fuel)?;
                store.set_epoch_deadline(ticks);
                let plugin = pre.instantiate(&mut store)?;
                f(&plugin, &mut store)
            })();
            (run, store.into_data().host)
        });
        let (run, host) = task.await.map_err(AppError::internal)?;
        crate::metrics::called(plugin, started.elapsed());
        match run {
            Ok(value) => Ok((value, host)),
            Err(err) => Err(failed(plugin, &err)),
        }
    }
}

/// Refuses an answer larger than the output cap: `PLUGIN_FAILED`, like a trap.
pub fn check_output(plugin: &str, limits: CallLimits, bytes: usize) -> AppResult<()> {
    if bytes > limits.max_output {
        tracing::warn!(plugin, bytes, "plugin answer too large");
        crate::metrics::failed(plugin, "output_too_large");
        return Err(AppError::new(
            ErrorCode::PluginFailed,
            format!(
                "The plugin {plugin} failed (its answer exceeds {} KiB); nothing was changed.",
                limits.max_output >> 10
            ),
        ));
    }
    Ok(())
}

/// Hex SHA-256 of a component: its identity in the registry and the caches.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    })
}
