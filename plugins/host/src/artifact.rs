//! Compiled components on disk, so a restart does not compile every plugin again. The file
//! name carries the component's hash and the engine's compatibility hash.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

/// A compiled component from the cache, if one is there and loads.
#[allow(unsafe_code)]
pub fn load(engine: &Engine, path: &Path) -> Option<Component> {
    // SAFETY: wasmtime requires the file to be an artifact it produced. Only `store` below
    // writes into this directory (the server's own data dir), under a name keyed by the
    // component hash and this engine's compatibility hash; wasmtime checks the header too.
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "unusable plugin artifact, compiling again");
            None
        }
    }
}

/// Writes a compiled component to the cache; a failure only costs a compilation later.
pub fn store(component: &Component, path: &Path) {
    let written = component.serialize().map_err(|e| e.to_string()).and_then(|bytes| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        // Written aside then renamed: a reader never sees half a file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| e.to_string())
    });
    if let Err(err) = written {
        tracing::warn!(path = %path.display(), error = %err, "could not cache a plugin artifact");
    }
}
