//! The host functions of one call, bound to the caller's tenant and one plugin. They run on
//! the call's blocking thread and reach the database through the runtime handle. Writes are
//! buffered (reads see them) and applied by the caller only when the call succeeds, so a
//! plugin that traps half-way changes nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use clientele_kernel::{AppError, AppResult, ClientId, PluginRecordId, TenantCtx};
use clientele_records::clients::entity::client;
use clientele_records::clients::fields::camel;
use clientele_records::clients::lookups::LookupService;
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::quotas::{Exceeded, Quota, Quotas};
use crate::records::{self, MAX_LIST, PluginRecord, Write};
use crate::registry::Installed;
use crate::runtime::{HostApi, Runtime, wit};

pub struct TenantHost {
    ctx: TenantCtx,
    lookups: LookupService,
    plugin: Installed,
    handle: tokio::runtime::Handle,
    writable: bool,
    runtime: Arc<Runtime>,
    quotas: Quotas,
    writes: Vec<Write>,
    /// What each collection written to holds with the call's writes: records, bytes.
    stored: HashMap<String, (u64, u64)>,
    /// The quota a write went past (the guest got an `Err`; the call then answers it).
    exceeded: Option<Exceeded>,
    log: LogBudget,
    /// The latest error lines, kept past the budget too, for the call's failure if it fails.
    errors: VecDeque<String>,
}

/// Error lines kept per call for its failure, and the most of each.
const ERROR_LINES: usize = 5;
const ERROR_LINE: usize = 1 << 10;

/// What a call may still log, and what it logged past that (dropped, counted once at its end).
struct LogBudget {
    lines: usize,
    bytes: usize,
    dropped: u64,
}

impl TenantHost {
    /// Must be built on the runtime (it keeps its handle for the call's thread).
    pub fn new(
        ctx: TenantCtx,
        lookups: LookupService,
        plugin: Installed,
        writable: bool,
        runtime: Arc<Runtime>,
    ) -> Self {
        let quotas = runtime.quotas.with(&plugin.quotas);
        Self {
            ctx,
            lookups,
            plugin,
            handle: tokio::runtime::Handle::current(),
            writable,
            runtime,
            quotas,
            writes: Vec::new(),
            stored: HashMap::new(),
            exceeded: None,
            log: LogBudget {
                lines: quotas.log_lines_per_call as usize,
                bytes: quotas.log_bytes_per_call as usize,
                dropped: 0,
            },
            errors: VecDeque::new(),
        }
    }

    /// The writes buffered during the call, to apply.
    pub(crate) fn into_writes(host: Box<dyn HostApi>) -> Vec<Write> {
        HostApi::into_writes(host)
    }

    fn run<T>(&self, f: impl Future<Output = AppResult<T>>) -> Result<T, String> {
        self.handle.block_on(f).map_err(|e| e.to_string())
    }

    /// The buffered state of a record: `Some(None)` deleted, `Some(Some(r))` written.
    fn pending(&self, id: PluginRecordId) -> Option<Option<PluginRecord>> {
        self.writes.iter().rev().find_map(|w| match w {
            Write::Put { record, .. } if record.id == id => Some(Some(record.clone())),
            Write::Delete(record) if record.id == id => Some(None),
            _ => None,
        })
    }

    fn current(&self, id: PluginRecordId) -> Result<Option<PluginRecord>, String> {
        if let Some(p) = self.pending(id) {
            return Ok(p);
        }
        let plugin = self.plugin.plugin;
        self.run(async {
            let tx = self.ctx.read().await?;
            let found = records::load(&tx, plugin, id).await?;
            tx.commit().await?;
            Ok(found)
        })
    }

    /// Remembers the quota gone past and gives the guest's refusal.
    fn refuse(&mut self, exceeded: Exceeded) -> String {
        self.exceeded.get_or_insert(exceeded);
        exceeded.to_string()
    }

    /// Buffers a write within the call's and the minute's write quotas; the refusal is what
    /// the guest sees (`records::put` answers it as its `Err`).
    fn push(&mut self, write: Write) -> Result<(), String> {
        if !self.writable {
            return Err("this call may not write records".into());
        }
        let q = self.quotas;
        if self.writes.len() >= q.writes_per_call as usize {
            return Err(self.refuse(Exceeded { quota: Quota::WritesPerCall, limit: q.writes_per_call.into() }));
        }
        let (tenant, plugin, now) = (self.ctx.tenant(), self.plugin.plugin, self.ctx.handles().now());
        if let Err(exceeded) = self.runtime.usage.write(tenant, plugin, now, q.writes_per_minute) {
            return Err(self.refuse(exceeded));
        }
        self.writes.push(write);
        Ok(())
    }

    /// What `collection` holds with the call's writes so far: read once per call and
    /// collection, then kept up to date by [`Self::stored_after`]'s callers.
    fn held(&mut self, collection: &str) -> Result<(u64, u64), String> {
        if let Some(held) = self.stored.get(collection) {
            return Ok(*held);
        }
        let plugin = self.plugin.plugin;
        let held = self.run(async {
            let tx = self.ctx.read().await?;
            let held = records::stored(&tx, plugin, collection).await?;
            tx.commit().await?;
            Ok(held)
        })?;
        self.stored.insert(collection.to_owned(), held);
        Ok(held)
    }

    /// What `put`'s collection would hold once `put` replaces `current` (its state now, if
    /// any), or the refusal past the stored records or bytes quotas.
    fn stored_after(
        &mut self,
        put: &PluginRecord,
        current: Option<&PluginRecord>,
    ) -> Result<Result<(u64, u64), String>, String> {
        let (n, bytes) = self.held(&put.collection)?;
        let (n, bytes) = match current {
            Some(old) => (n, (bytes + size(put)).saturating_sub(size(old))),
            None => (n + 1, bytes + size(put)),
        };
        let q = self.quotas;
        if n > q.records_per_collection {
            let limit = q.records_per_collection;
            return Ok(Err(self.refuse(Exceeded { quota: Quota::RecordsPerCollection, limit })));
        }
        if bytes > q.bytes_per_collection {
            let limit = q.bytes_per_collection;
            return Ok(Err(self.refuse(Exceeded { quota: Quota::BytesPerCollection, limit })));
        }
        Ok(Ok((n, bytes)))
    }
}

/// Bytes of a record's JSON data, as the stored quotas count them.
fn size(r: &PluginRecord) -> u64 {
    serde_json::to_string(&r.data).map_or(0, |s| s.len() as u64)
}

impl HostApi for TenantHost {
    fn get_record(&mut self, collection: &str, id: &str) -> Result<Option<wit::StoredRecord>, String> {
        let Ok(id) = id.parse::<uuid::Uuid>() else { return Ok(None) };
        Ok(self.current(PluginRecordId(id))?.filter(|r| r.collection == collection).map(|r| r.to_wit()))
    }

    fn query_records(&mut self, query: wit::RecordQuery) -> Result<Vec<wit::StoredRecord>, String> {
        let parse = |s: &String| s.parse::<uuid::Uuid>().ok();
        let parent: Option<Vec<uuid::Uuid>> = query.parent_id.as_ref().map(|p| parse(p).into_iter().collect());
        let clients: Option<Vec<uuid::Uuid>> =
            (!query.client_ids.is_empty()).then(|| query.client_ids.iter().filter_map(parse).collect());
        let limit = u64::from(query.limit).clamp(1, MAX_LIST);
        let plugin = self.plugin.plugin;
        let collection = query.collection.clone();
        let mut found = self.run(async {
            let tx = self.ctx.read().await?;
            let rows = records::find(&tx, plugin, &collection, parent.as_deref(), clients.as_deref(), limit).await?;
            tx.commit().await?;
            Ok(rows)
        })?;
        // Buffered writes win over stored rows.
        let touched: HashSet<PluginRecordId> = self
            .writes
            .iter()
            .map(|w| match w {
                Write::Put { record, .. } | Write::Delete(record) => record.id,
            })
            .collect();
        found.retain(|r| !touched.contains(&r.id));
        let matches = |r: &PluginRecord| {
            r.collection == collection
                && parent.as_ref().is_none_or(|p| r.parent_id.is_some_and(|id| p.contains(&id)))
                && clients.as_ref().is_none_or(|c| r.client_id.is_some_and(|id| c.contains(&id.0)))
        };
        for id in touched {
            if let Some(Some(r)) = self.pending(id).filter(|p| p.as_ref().is_some_and(matches)) {
                found.push(r);
            }
        }
        Ok(found.iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).map(PluginRecord::to_wit).collect())
    }

    fn put_record(&mut self, input: wit::RecordInput) -> Result<Result<wit::StoredRecord, String>, String> {
        let Some(collection) = self.plugin.manifest.collection(&input.collection).cloned() else {
            return Ok(Err(format!("unknown collection {}", input.collection)));
        };
        let Ok(data) = serde_json::from_str::<Value>(&input.data) else { return Ok(Err("data is not JSON".into())) };
        let existing = match input.id.as_deref().map(str::parse::<uuid::Uuid>) {
            None => None,
            Some(Err(_)) => return Ok(Err("not a record id".into())),
            Some(Ok(id)) => match self.current(PluginRecordId(id))? {
                Some(r) if r.collection == collection.name => Some(r),
                _ => return Ok(Err("no such record".into())),
            },
        };
        let parent = match (input.parent_id.as_deref().map(str::parse::<uuid::Uuid>), &existing) {
            (Some(Err(_)), _) => return Ok(Err("not a parent id".into())),
            (Some(Ok(p)), _) => Some(p),
            (None, Some(r)) => r.parent_id,
            (None, None) => None,
        };
        let plugin = self.plugin.plugin;
        let checked = self.handle.block_on(async {
            let tx = self.ctx.read().await?;
            let client = records::resolve_parent(&tx, plugin, &collection, parent, &self.writes).await?;
            let clean = records::check_record(&tx, plugin, &collection, &data).await?;
            tx.commit().await?;
            Ok::<_, clientele_kernel::AppError>((client, clean))
        });
        let (client, clean) = match checked {
            Ok(ok) => ok,
            Err(err) => {
                // The plugin's own fields keep their names; the host's read as in records' JSON.
                let field = |e: &AppError| e.field().map_or_else(|| "record".to_owned(), camel);
                let problems: Vec<String> =
                    err.each().map(|e| format!("{}: {}", field(e), e.public_message())).collect();
                return Ok(Err(problems.join("; ")));
            }
        };
        let handles = self.ctx.handles();
        let now = handles.now();
        let record = match &existing {
            Some(before) => PluginRecord {
                parent_id: parent,
                client_id: client,
                data: clean,
                version: before.version + 1,
                updated_at: now,
                ..before.clone()
            },
            None => PluginRecord::new(handles, plugin, &collection.name, parent, client, clean),
        };
        let held = if self.writable {
            match self.stored_after(&record, existing.as_ref())? {
                Ok(held) => Some(held),
                Err(refusal) => return Ok(Err(refusal)),
            }
        } else {
            None
        };
        // A record written twice in one call: the stored row is still the "before".
        let before = match existing {
            Some(r) => self
                .writes
                .iter()
                .find_map(|w| match w {
                    Write::Put { record, before } if record.id == r.id => Some(before.clone()),
                    _ => None,
                })
                .unwrap_or(Some(r)),
            None => None,
        };
        let (stored, collection) = (record.to_wit(), record.collection.clone());
        if let Err(refusal) = self.push(Write::Put { record, before }) {
            return Ok(Err(refusal));
        }
        if let Some(held) = held {
            self.stored.insert(collection, held);
        }
        Ok(Ok(stored))
    }

    fn delete_record(&mut self, collection: &str, id: &str) -> Result<bool, String> {
        let Ok(id) = id.parse::<uuid::Uuid>() else { return Ok(false) };
        match self.current(PluginRecordId(id))? {
            Some(r) if r.collection == collection => {
                let gone = size(&r);
                self.push(Write::Delete(r))?;
                let (n, bytes) = self.held(collection)?;
                self.stored.insert(collection.to_owned(), (n.saturating_sub(1), bytes.saturating_sub(gone)));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn get_client(&mut self, id: &str) -> Result<Option<wit::ClientInfo>, String> {
        let Ok(id) = id.parse::<uuid::Uuid>() else { return Ok(None) };
        let tenant = self.ctx.tenant();
        let row = self.run(async {
            let tx = self.ctx.read().await?;
            let row = client::Entity::find_by_id((tenant, ClientId(id))).one(tx.conn()).await?;
            tx.commit().await?;
            Ok(row)
        })?;
        Ok(row.map(|c| {
            let person = [c.last_name.as_deref(), c.first_name.as_deref()].into_iter().flatten().collect::<Vec<_>>();
            let display_name = match (c.kind.as_str(), &c.company_name) {
                ("company", Some(company)) => company.clone(),
                _ => person.join(" "),
            };
            wit::ClientInfo {
                id: c.id.to_string(),
                number: c.number,
                display_name,
                email: c.email.clone(),
                blocked: c.blocked,
                in_trash: c.deleted_at.is_some(),
            }
        }))
    }

    fn staff(&mut self) -> Result<Vec<wit::StaffMember>, String> {
        let staff = self.run(self.lookups.staff(&self.ctx, false))?;
        Ok(staff
            .into_iter()
            .map(|m| wit::StaffMember {
                id: m.id.to_string(),
                name: m.name,
                representative: m.is_representative,
                delivery_person: m.is_delivery_person,
                salesperson: m.is_salesperson,
                active: m.active,
            })
            .collect())
    }

    fn config(&mut self) -> String {
        self.plugin.config.to_string()
    }

    fn now(&mut self) -> String {
        self.ctx.handles().now().to_rfc3339()
    }

    fn log(&mut self, level: wit::LogLevel, message: &str) {
        if matches!(level, wit::LogLevel::Error) {
            if self.errors.len() == ERROR_LINES {
                self.errors.pop_front();
            }
            self.errors.push_back(message.chars().take(ERROR_LINE).collect());
        }
        if self.log.lines == 0 || message.len() > self.log.bytes {
            self.log.dropped += 1;
            return;
        }
        self.log.lines -= 1;
        self.log.bytes -= message.len();
        let (tenant, plugin) = (self.ctx.tenant(), self.plugin.name.as_str());
        match level {
            wit::LogLevel::Debug => tracing::debug!(%tenant, plugin, message),
            wit::LogLevel::Info => tracing::info!(%tenant, plugin, message),
            wit::LogLevel::Warn => tracing::warn!(%tenant, plugin, message),
            wit::LogLevel::Error => tracing::error!(%tenant, plugin, message),
        }
    }

    fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded
    }

    fn logged_errors(&self) -> Vec<String> {
        self.errors.iter().cloned().collect()
    }

    fn into_writes(self: Box<Self>) -> Vec<Write> {
        if self.log.dropped > 0 {
            let (tenant, plugin, dropped) = (self.ctx.tenant(), self.plugin.name.as_str(), self.log.dropped);
            tracing::warn!(%tenant, plugin, dropped, "plugin log lines over the call's quota were dropped");
            crate::metrics::logs_dropped(plugin, dropped);
        }
        self.writes
    }
}

/// The host of `describe` at upload: no tenant, no records.
pub struct UploadHost {
    pub now: String,
}

impl HostApi for UploadHost {
    fn get_record(&mut self, _: &str, _: &str) -> Result<Option<wit::StoredRecord>, String> {
        Ok(None)
    }
    fn query_records(&mut self, _: wit::RecordQuery) -> Result<Vec<wit::StoredRecord>, String> {
        Ok(Vec::new())
    }
    fn put_record(&mut self, _: wit::RecordInput) -> Result<Result<wit::StoredRecord, String>, String> {
        Err("describe may not write records".into())
    }
    fn delete_record(&mut self, _: &str, _: &str) -> Result<bool, String> {
        Err("describe may not delete records".into())
    }
    fn get_client(&mut self, _: &str) -> Result<Option<wit::ClientInfo>, String> {
        Ok(None)
    }
    fn staff(&mut self) -> Result<Vec<wit::StaffMember>, String> {
        Ok(Vec::new())
    }
    fn config(&mut self) -> String {
        "{}".into()
    }
    fn now(&mut self) -> String {
        self.now.clone()
    }
    fn log(&mut self, _: wit::LogLevel, _: &str) {}
    fn into_writes(self: Box<Self>) -> Vec<Write> {
        Vec::new()
    }
}
