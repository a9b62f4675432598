//! The WebAssembly plugin platform (DESIGN.md §6): the wasmtime runtime (`runtime`), manifests
//! (`manifest`), the registry of uploaded plugins and their installations (`registry`), and the
//! host-owned plugin records with their calls into plugins (`records`).

mod artifact;
pub mod breaker;
mod convert;
pub mod entity;
mod guest;
mod host;
pub mod manifest;
pub mod metrics;
pub mod quotas;
pub mod records;
pub mod registry;
pub mod runtime;

pub use breaker::BreakerSettings;
pub use manifest::Manifest;
pub use quotas::Quotas;
pub use records::{PluginRecord, PluginRecords, RecordsSource, SearchFields};
pub use registry::{Installed, Installs, PluginHealth, PluginRegistry, PluginSummary, UploadedVersion};
pub use runtime::{CallLimits, Runtime};

use std::sync::Arc;

use clientele_kernel::AppResult;
use clientele_kernel::db::Handles;

/// What the configuration sets of plugins (`[plugins]`): their quotas and breaker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginSettings {
    pub quotas: Quotas,
    pub breaker: BreakerSettings,
}

/// The plugin platform of one server process: runtime, registry and records.
pub struct Plugins {
    pub runtime: Arc<Runtime>,
    pub registry: Arc<PluginRegistry>,
    pub records: PluginRecords,
}

impl Plugins {
    /// Starts the runtime; compiled artifacts are cached under `cache_dir` when given.
    pub fn new(
        handles: &Arc<Handles>,
        limits: CallLimits,
        settings: PluginSettings,
        cache_dir: Option<std::path::PathBuf>,
    ) -> AppResult<Self> {
        let runtime = Arc::new(Runtime::new(limits, settings, cache_dir)?);
        let registry = Arc::new(PluginRegistry::new(handles.clone(), runtime.clone()));
        let records = PluginRecords::new(handles.clone(), runtime.clone(), registry.clone());
        Ok(Self { runtime, registry, records })
    }
}
