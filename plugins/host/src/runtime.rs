//! The wasmtime side: one engine with a pooling allocator, components checked and compiled
//! once per version (the compiled artifact is cached in memory and on disk), and every call
//! in a fresh `Store` with fuel, an epoch deadline and a memory cap, on a blocking thread.
//!
//! Guest time is bounded by fuel first: a call gets `guest_time × fuel_per_ms` instructions,
//! `fuel_per_ms` being what a well-behaved guest burns per millisecond on this machine kind
//! (calibrated by `tests::calibrate_fuel_per_ms`, docs/plugins.md). Fuel counts the guest's
//! own work whatever the load, so a correct call is not failed by a busy machine. Epoch
//! ticks are the backstop: past `backstop` of the thread's CPU time outside host functions (a
//! guest whose instructions run slower than calibrated), or `wall` in all, the call is
//! interrupted.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele_kernel::{AppError, AppResult, ErrorCode, TenantId};
use parking_lot::Mutex;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder, Trap,
};

use crate::PluginSettings;
use crate::breaker::Breakers;
use crate::manifest::Manifest as HostManifest;
use crate::quotas::{Exceeded, Quota, Quotas, Usage};

pub use crate::guest::{Guest, GuestPre, WIT_PACKAGE, WIT_VERSIONS, wit};

/// What one call may use.
#[derive(Clone, Copy, Debug)]
pub struct CallLimits {
    /// Guest time per call, enforced as fuel (`guest_time` × `fuel_per_ms`).
    pub guest_time: Duration,
    /// Fuel a well-behaved guest burns in one millisecond on this machine kind (calibrated).
    pub fuel_per_ms: u64,
    /// Backstop: CPU time of the call's thread outside host functions after which a call is
    /// interrupted, checked at every epoch tick (a guest whose instructions cost more time
    /// than calibrated). CPU time, not wall time: a busy machine does not count against it.
    pub backstop: Duration,
    /// Hard cap on a call's wall-clock time, host functions included.
    pub wall: Duration,
    /// Linear memory of one instance.
    pub memory: usize,
    /// Total bytes of text a call may return (computed values, action results).
    pub max_output: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            guest_time: Duration::from_millis(100),
            fuel_per_ms: FUEL_PER_MS,
            backstop: Duration::from_millis(180),
            wall: Duration::from_secs(1),
            memory: 64 << 20,
            max_output: 1 << 20,
        }
    }
}

impl CallLimits {
    /// The fuel of one call.
    pub fn fuel(&self) -> u64 {
        u64::try_from(self.guest_time.as_millis()).unwrap_or(u64::MAX).saturating_mul(self.fuel_per_ms)
    }
}

/// Fuel per millisecond of the hostile guest's `work` (JSON building, printing and parsing:
/// allocation-heavy like most plugin code), measured on the 2-core reference machine by
/// `tests::calibrate_fuel_per_ms` (20 runs of 2,000 units of 33,534 fuel each; the machine
/// was shared, load ~3: min 0.8 M/ms, median 1.4 M/ms, max 2.1 M/ms). The fastest run is the
/// closest to an idle core, so 2 M/ms: on an idle core a call's fuel lasts about its guest
/// time, on a busy one longer in wall time but never more CPU time. A runaway loop is tight
/// arithmetic, which burns fuel several times faster than this, so fuel stops it well within
/// 200 ms even on a loaded machine.
pub const FUEL_PER_MS: u64 = 2_000_000;
/// Fuel of one unit of the hostile guest's `work` (deterministic; checked by a test).
pub const WORK_FUEL_PER_UNIT: u64 = 33_534;
/// One epoch tick: how often the backstop is checked.
const TICK: Duration = Duration::from_millis(5);
/// Instances alive at once (the pool's size); calls beyond wait for a permit.
const POOL: u32 = 64;
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
    fn staff(&mut self) -> Result<Vec<wit::StaffMember>, String>;
    fn config(&mut self) -> String;
    fn now(&mut self) -> String;
    fn log(&mut self, level: wit::LogLevel, message: &str);
    /// The writes buffered during the call.
    fn into_writes(self: Box<Self>) -> Vec<crate::records::Write>;
    /// The quota a host function refused the call past (the guest saw an `Err`), if any.
    fn exceeded(&self) -> Option<Exceeded> {
        None
    }
    /// The latest error lines the call logged (a panic's message among them), for its failure.
    fn logged_errors(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The store's data for one call.
pub struct CallState {
    limits: StoreLimits,
    host: Box<dyn HostApi>,
    /// When the call started (wall clock and the thread's CPU clock), and the CPU time it
    /// spent in host functions (database reads): the backstop counts the CPU time outside
    /// them, up to the hard cap `wall`.
    started: Instant,
    cpu_started: Duration,
    in_host: Duration,
    /// Bytes of text the guest sent through host functions, capped like outputs.
    sent: usize,
    max_output: usize,
    /// Host functions called so far, and the quota of them.
    host_calls: u32,
    max_host_calls: u32,
}

/// CPU time of the calling thread (the guest's: a call runs on one blocking thread, and the
/// epoch callback runs on it).
#[allow(unsafe_code)] // clock_gettime on a stack value; the one other unsafe call of this crate
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

fn trap(message: String) -> wasmtime::Error {
    wasmtime::Error::msg(message)
}

impl CallState {
    /// Counts a host function call: past the quota, the call ends with the quota's error.
    fn tick(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.host_calls > self.max_host_calls {
            let limit = self.max_host_calls.into();
            return Err(wasmtime::Error::new(Exceeded { quota: Quota::HostCallsPerCall, limit }));
        }
        Ok(())
    }

    /// Runs a host function (counted), its time apart from the guest's.
    fn timed<R>(&mut self, f: impl FnOnce(&mut Box<dyn HostApi>) -> Result<R, String>) -> wasmtime::Result<R> {
        self.tick()?;
        let t = thread_cpu();
        let out = f(&mut self.host);
        self.in_host += thread_cpu().saturating_sub(t);
        out.map_err(trap)
    }

    fn count(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.sent += bytes;
        if self.sent > self.max_output { Err(trap("the plugin sent too much data to the host".into())) } else { Ok(()) }
    }
}

impl wit::Host for CallState {}

impl crate::guest::v2::clientele::plugin::host::Host for CallState {
    fn get_record(&mut self, collection: String, id: String) -> wasmtime::Result<Option<wit::StoredRecord>> {
        self.timed(|h| h.get_record(&collection, &id))
    }

    fn query_records(&mut self, query: wit::RecordQuery) -> wasmtime::Result<Vec<wit::StoredRecord>> {
        self.timed(|h| h.query_records(query))
    }

    fn put_record(&mut self, record: wit::RecordInput) -> wasmtime::Result<Result<wit::StoredRecord, String>> {
        self.count(record.data.len())?;
        self.timed(|h| h.put_record(record))
    }

    fn delete_record(&mut self, collection: String, id: String) -> wasmtime::Result<bool> {
        self.timed(|h| h.delete_record(&collection, &id))
    }

    fn get_client(&mut self, id: String) -> wasmtime::Result<Option<wit::ClientInfo>> {
        self.timed(|h| h.get_client(&id))
    }

    fn staff(&mut self) -> wasmtime::Result<Vec<wit::StaffMember>> {
        self.timed(|h| h.staff())
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        self.tick()?;
        Ok(self.host.config())
    }

    fn now(&mut self) -> wasmtime::Result<String> {
        self.tick()?;
        Ok(self.host.now())
    }

    fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        self.tick()?;
        self.count(message.len())?;
        self.host.log(level, &message);
        Ok(())
    }
}

/// A compiled, linked plugin version, ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    pre: GuestPre,
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
    /// The quotas of every organisation and plugin, what they used, and their breakers.
    pub quotas: Quotas,
    pub usage: Usage,
    pub breakers: Breakers,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// A failure of the plugin (trap, fuel, deadline, memory, size): logged with its whole cause
/// (backtrace, host error text), shown to the caller as `PLUGIN_FAILED` with a short reason
/// that holds nothing of either.
pub(crate) fn failed(plugin: &str, tenant: Option<TenantId>, err: &wasmtime::Error) -> AppError {
    let (reason, label) = reason(err);
    crate::metrics::failed(plugin, label);
    let tenant = tenant.map(|t| t.to_string());
    tracing::warn!(plugin, tenant, reason, cause = format!("{err:?}"), "plugin call failed");
    AppError::new(ErrorCode::PluginFailed, format!("The plugin {plugin} failed ({reason}); nothing was changed."))
}

/// Why a call failed, in a few words, and as a metrics label.
pub(crate) fn reason(err: &wasmtime::Error) -> (&'static str, &'static str) {
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ("it ran out of fuel", "fuel"),
        Some(Trap::Interrupt) => ("it ran past its deadline", "deadline"),
        Some(Trap::MemoryOutOfBounds | Trap::TableOutOfBounds) => ("it accessed memory out of bounds", "memory"),
        Some(Trap::StackOverflow) => ("its stack overflowed", "stack"),
        Some(_) => ("it trapped", "trap"),
        None => ("it could not complete", "other"),
    }
}

impl Runtime {
    /// An engine with the pooling allocator, fuel and epochs, and a thread ticking the epoch.
    pub fn new(limits: CallLimits, settings: PluginSettings, cache_dir: Option<PathBuf>) -> AppResult<Self> {
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
        crate::guest::link_host(&mut linker).map_err(|e| AppError::internal(format!("plugin linker: {e:#}")))?;
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
        Ok(Self {
            engine,
            linker,
            limits,
            compiled: Mutex::new(HashMap::new()),
            cache_dir,
            permits: tokio::sync::Semaphore::new(POOL as usize),
            quotas: settings.quotas,
            usage: Usage::default(),
            breakers: Breakers::new(settings.breaker),
        })
    }

    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// Refuses imports other than ours (at a version this server runs, one for all) and the
    /// inert WASI p2 set: one error per offending import. Gives the version imported, if any.
    fn check_imports(&self, component: &Component) -> AppResult<Option<&'static str>> {
        let ty = component.component_type();
        let mut forbidden = Vec::new();
        let mut targets = None;
        for (name, _) in ty.imports(&self.engine) {
            let (base, version) = name.split_once('@').unwrap_or((name, ""));
            let ours = base.starts_with(&format!("{WIT_PACKAGE}/"));
            if ours {
                let known = WIT_VERSIONS.iter().find(|v| **v == version);
                if known.is_none() || targets.is_some_and(|t| Some(&t) != known) {
                    let runs = WIT_VERSIONS.map(|v| format!("{WIT_PACKAGE}@{v}")).join(" or ");
                    return Err(AppError::invalid(
                        "component",
                        format!("The component targets {WIT_PACKAGE}@{version}; this server runs {runs}."),
                    ));
                }
                targets = known.copied();
            }
            if !ours && !WASI_ALLOWED.contains(&base) {
                forbidden.push(format!("`{name}`"));
            }
        }
        let each = forbidden.iter().map(|name| {
            let hint = if name.contains("wasi:random/") {
                " std's HashMap and HashSet import wasi:random for their seed: use BTreeMap and BTreeSet, or a \
                 hasher with a fixed seed."
            } else {
                ""
            };
            AppError::invalid(
                "component",
                format!(
                    "The component imports {name}, which plugins may not use (no filesystem, sockets, clocks, \
                     randomness or environment).{hint}"
                ),
            )
        });
        AppError::all(each.collect()).map_or(Ok(targets), Err)
    }

    fn link(&self, component: &Component) -> AppResult<Prepared> {
        let version = self.check_imports(component)?;
        let mut linker = self.linker.clone();
        // The inert WASI imports trap if ever called.
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(|e| AppError::invalid("component", format!("Unusable imports: {e}")))?;
        let pre = GuestPre::new(&linker, component, version).map_err(|e| {
            let world = version.map_or_else(
                || WIT_VERSIONS.map(|v| format!("{WIT_PACKAGE}/plugin@{v}")).join(" or "),
                |v| format!("{WIT_PACKAGE}/plugin@{v}"),
            );
            AppError::invalid("component", format!("The component does not implement the world {world}: {e}"))
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
        let (manifest, _) = self.call(&prepared, "being uploaded", host, Guest::call_describe).await?;
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
        F: FnOnce(&Guest, &mut Store<CallState>) -> wasmtime::Result<R> + Send + 'static,
    {
        let ran = self.run(prepared, plugin, host, self.quotas.host_calls_per_call, f).await?;
        match ran.result {
            Ok(value) => Ok((value, ran.host)),
            Err(err) => Err(failed(plugin, None, &err)),
        }
    }

    /// As [`call`](Self::call), with the call's quota of host calls, giving the fuel the call
    /// burnt and its raw outcome.
    pub async fn run<R, F>(
        &self,
        prepared: &Prepared,
        plugin: &str,
        host: Box<dyn HostApi>,
        max_host_calls: u32,
        f: F,
    ) -> AppResult<Ran<R>>
    where
        R: Send + 'static,
        F: FnOnce(&Guest, &mut Store<CallState>) -> wasmtime::Result<R> + Send + 'static,
    {
        let started = Instant::now();
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let engine = self.engine.clone();
        let pre = prepared.pre.clone();
        let limits = self.limits;
        let task = tokio::task::spawn_blocking(move || {
            let state = CallState {
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory)
                    .instances(8)
                    .trap_on_grow_failure(true)
                    .build(),
                host,
                started: Instant::now(),
                cpu_started: thread_cpu(),
                in_host: Duration::ZERO,
                sent: 0,
                max_output: limits.max_output,
                host_calls: 0,
                max_host_calls,
            };
            let mut store = Store::new(&engine, state);
            store.limiter(|s| &mut s.limits);
            let (backstop, cap) = (limits.backstop, limits.wall);
            // At every tick: go on while the CPU time outside host functions is under the
            // backstop and the whole call under its cap.
            store.epoch_deadline_callback(move |ctx| {
                let state = ctx.data();
                let guest = thread_cpu().saturating_sub(state.cpu_started).saturating_sub(state.in_host);
                if guest < backstop && state.started.elapsed() < cap {
                    Ok(wasmtime::UpdateDeadline::Continue(1))
                } else {
                    Err(wasmtime::Error::from(Trap::Interrupt))
                }
            });
            let result = (|| {
                store.set_fuel(limits.fuel())?;
                store.set_epoch_deadline(1);
                let plugin = pre.instantiate(&mut store)?;
                f(&plugin, &mut store)
            })();
            let fuel = limits.fuel().saturating_sub(store.get_fuel().unwrap_or(0));
            Ran { result, host: store.into_data().host, fuel }
        });
        let ran = task.await.map_err(AppError::internal)?;
        crate::metrics::called(plugin, started.elapsed());
        Ok(ran)
    }
}

/// A finished call: the guest's result (or trap), the host, and the fuel burnt.
pub struct Ran<R> {
    pub result: wasmtime::Result<R>,
    pub host: Box<dyn HostApi>,
    pub fuel: u64,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::print_stderr, clippy::cast_precision_loss)] // a measurement prints and panics

    use super::*;
    use crate::host::UploadHost;

    fn hostile() -> Option<Vec<u8>> {
        let dir = std::env::var("CLIENTELE_TEST_PLUGIN_DIR").ok()?;
        std::fs::read(format!("{dir}/hostile.wasm")).ok()
    }

    /// Runs `work` with `units`: (fuel burnt, time spent in the guest call).
    async fn work(runtime: &Arc<Runtime>, prepared: &Prepared, units: u32) -> (u64, Duration) {
        let input = format!("{{\"units\":{units}}}");
        let host = Box::new(UploadHost { now: String::new() });
        let (out, _) = runtime
            .call(prepared, "hostile", host, move |p, s| {
                let fuel = s.get_fuel()?;
                let t = Instant::now();
                let answer = p.call_action(&mut *s, "work", &input)?;
                let took = t.elapsed();
                assert!(answer.is_ok(), "{answer:?}");
                Ok((fuel - s.get_fuel()?, took))
            })
            .await
            .unwrap();
        out
    }

    /// The fuel of `work` is a fixed amount per unit (the integration tests size their calls
    /// with [`WORK_FUEL_PER_UNIT`]; longer numbers print a little longer, hence 1%).
    #[tokio::test]
    async fn work_burns_a_fixed_fuel_per_unit() {
        let Some(bytes) = hostile() else {
            eprintln!("skipped: CLIENTELE_TEST_PLUGIN_DIR has no hostile.wasm (scripts/build-guests)");
            return;
        };
        let runtime = Arc::new(Runtime::new(CallLimits::default(), PluginSettings::default(), None).unwrap());
        let prepared = runtime.prepare(&sha256(&bytes), &bytes).unwrap();
        let (small, _) = work(&runtime, &prepared, 100).await;
        let (large, _) = work(&runtime, &prepared, 1100).await;
        let per_unit = (large - small) / 1000;
        assert!(
            per_unit.abs_diff(WORK_FUEL_PER_UNIT) * 100 <= WORK_FUEL_PER_UNIT,
            "{per_unit} fuel per unit: update WORK_FUEL_PER_UNIT (and recalibrate FUEL_PER_MS)"
        );
    }

    /// Measures the fuel a well-behaved guest burns per millisecond here: the figure behind
    /// [`FUEL_PER_MS`]. Run on an otherwise idle machine:
    /// `CLIENTELE_TEST_PLUGIN_DIR=$(scripts/build-guests) cargo test -p clientele-plugins calibrate -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a measurement, not a check: run by hand when the machine kind or wasmtime changes"]
    async fn calibrate_fuel_per_ms() {
        let bytes = hostile().expect("CLIENTELE_TEST_PLUGIN_DIR with hostile.wasm");
        let limits = CallLimits {
            guest_time: Duration::from_secs(10),
            backstop: Duration::from_secs(10),
            wall: Duration::from_secs(20),
            ..CallLimits::default()
        };
        let runtime = Arc::new(Runtime::new(limits, PluginSettings::default(), None).unwrap());
        let prepared = runtime.prepare(&sha256(&bytes), &bytes).unwrap();
        let mut rates = Vec::new();
        for _ in 0..20 {
            let (fuel, took) = work(&runtime, &prepared, 2000).await;
            rates.push(fuel as f64 / (took.as_secs_f64() * 1e3));
        }
        rates.sort_by(f64::total_cmp);
        eprintln!(
            "work: {} fuel/unit; fuel per ms over 20 runs of 2000 units: min {:.1} M, median {:.1} M, max {:.1} M",
            WORK_FUEL_PER_UNIT,
            rates[0] / 1e6,
            rates[10] / 1e6,
            rates[19] / 1e6
        );
    }
}
