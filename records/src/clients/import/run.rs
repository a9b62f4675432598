//! Running an import job: rows in batches, each checked against the clients it may duplicate,
//! then (real runs, while no row failed) written in the job's one transaction.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ActiveModelTrait, Condition, ConnectionTrait, DbBackend};

use super::fields::{Column, Lookups};
use super::prepare::{Consents, Prepared, Preparer};
use super::table::{Row, Table};
use super::{DuplicatePolicy, ImportRowError, ImportStatus, Live, Progress, finish, persist_progress};
use crate::clients::duplicates::{phones, sharing_keys};
use crate::clients::export::Names;
use crate::clients::model::Client;
use crate::clients::service::{
    ClientService, check_updatable, client_field_defs, consent_rows, next_numbers, unique_violation,
};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::{Handles, insert_moving};
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{ClientId, ImportJobId};
use clientele_kernel::tenancy::{TenantCtx, TenantTx};

/// Rows checked and written together: one duplicate lookup per batch.
const BATCH: usize = 1000;
/// Client rows per INSERT: 71 columns each stay under SQLite's 32766 bound parameters.
const INSERT_CHUNK: usize = 400;
/// SQLite page cache of a real run, in KiB (the default is 2000).
const IMPORT_CACHE_KIB: u32 = 64 * 1024;
/// Row errors kept in the job; the rest are counted.
const MAX_ERRORS: usize = 1000;

pub(crate) struct Plan {
    pub columns: Vec<Column>,
    pub duplicates: DuplicatePolicy,
    pub dry_run: bool,
}

pub(crate) struct Runner {
    pub handles: Arc<Handles>,
    pub live: Live,
}

/// What one row becomes.
#[allow(clippy::large_enum_variant)] // a batch's worth at most, short-lived
enum Action {
    Create(Client, Consents),
    Update { before: Client, after: Client, consents: Consents },
}

/// The state of one run: what earlier rows did, and the counts so far.
struct Run<'a> {
    plan: &'a Plan,
    preparer: Arc<Preparer>,
    /// E-mails, codes and barcodes of rows already accepted, and the row that holds them.
    taken: HashMap<(&'static str, String), u32>,
    /// Existing clients an earlier row updates.
    touched: HashMap<ClientId, u32>,
    progress: Progress,
    errors: Vec<ImportRowError>,
    more_errors: usize,
}

impl Runner {
    /// Runs the job to its end and records the outcome; never fails itself.
    pub(crate) async fn run(self, ctx: TenantCtx, id: ImportJobId, table: Table, plan: Plan) {
        let outcome = self.execute(&ctx, id, Arc::new(table), &plan).await;
        let (status, progress, errors) = match outcome {
            Ok((progress, errors)) if errors.is_empty() => (ImportStatus::Succeeded, progress, errors),
            Ok((progress, errors)) => {
                // Nothing was written: a real run reports what it would have done as nothing.
                let progress = if plan.dry_run {
                    progress
                } else {
                    Progress { processed: progress.processed, ..Progress::default() }
                };
                (ImportStatus::Failed, progress, errors)
            }
            Err(err) => {
                tracing::error!(error = %err, job = %id, "import failed");
                let message = err.public_message().to_owned();
                let error = ImportRowError { row: None, field: err.field().map(str::to_owned), message };
                (ImportStatus::Failed, Progress::default(), vec![error])
            }
        };
        if let Err(err) = finish(&ctx, id, status, progress, &errors).await {
            tracing::error!(error = %err, job = %id, "recording the end of an import failed");
        }
        self.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    async fn execute(
        &self,
        ctx: &TenantCtx,
        id: ImportJobId,
        table: Arc<Table>,
        plan: &Plan,
    ) -> AppResult<(Progress, Vec<ImportRowError>)> {
        let tx = if plan.dry_run { ctx.read().await? } else { ctx.begin().await? };
        let preparer = Arc::new(Preparer {
            handles: self.handles.clone(),
            clients: ClientService::new(self.handles.clone()),
            columns: plan.columns.clone(),
            lookups: Lookups::new(Names::load(&tx).await?),
            defs: client_field_defs(&tx).await?,
            keep_input: plan.duplicates == DuplicatePolicy::Update,
        });
        let mut run = Run {
            plan,
            preparer: preparer.clone(),
            taken: HashMap::new(),
            touched: HashMap::new(),
            progress: Progress::default(),
            errors: Vec::new(),
            more_errors: 0,
        };
        // Duplicates are looked for among the clients as they were before the import, through a
        // read transaction of their own: rows of the same file are compared in memory, and
        // PostgreSQL's plans (made from statistics that know nothing of this transaction's
        // inserts) would scan the growing table for every batch.
        let before = if plan.dry_run { None } else { Some(ctx.read().await?) };
        let big_cache = !plan.dry_run && tx.get_database_backend() == DbBackend::Sqlite;
        if big_cache {
            // A large write touches every index of `clients`: SQLite's default 2 MB page cache
            // would re-read pages from the WAL all the time. Set back below.
            tx.execute_unprepared(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}")).await?;
        }
        let (mut checking, mut writing) = (Duration::ZERO, Duration::ZERO);
        let batches: Vec<Range<usize>> =
            (0..table.rows.len()).step_by(BATCH).map(|start| start..table.rows.len().min(start + BATCH)).collect();
        let prepare = |range: Range<usize>| {
            let (preparer, table) = (preparer.clone(), table.clone());
            tokio::task::spawn_blocking(move || preparer.prepare(&table, range))
        };
        let mut next = batches.first().cloned().map(prepare);
        for (i, range) in batches.iter().enumerate() {
            let prepared = match next.take() {
                Some(task) => task.await.map_err(AppError::internal)?,
                None => Vec::new(),
            };
            // The next batch is prepared on another thread while this one is checked and written.
            next = batches.get(i + 1).cloned().map(prepare);
            let started = Instant::now();
            let actions = run.check(before.as_ref().unwrap_or(&tx), &table.rows[range.clone()], prepared).await?;
            checking += started.elapsed();
            if !plan.dry_run && run.errors.is_empty() {
                let started = Instant::now();
                write(&tx, ctx, id, actions).await?;
                writing += started.elapsed();
            }
            self.live.lock().unwrap_or_else(PoisonError::into_inner).insert(id, run.progress);
            persist_progress(ctx, id, run.progress).await?;
        }
        let mut errors = run.errors;
        if run.more_errors > 0 {
            let message = format!("{} more errors are not shown.", run.more_errors);
            errors.push(ImportRowError { row: None, field: None, message });
        }
        if big_cache {
            tx.execute_unprepared("PRAGMA cache_size = -2000").await?;
        }
        let started = Instant::now();
        if errors.is_empty() {
            tx.commit().await?;
        } // else the transaction rolls back as it drops: nothing changes.
        tracing::info!(
            job = %id, rows = table.rows.len(), errors = errors.len(), checking_ms = checking.as_millis(),
            writing_ms = writing.as_millis(), commit_ms = started.elapsed().as_millis(), "import run"
        );
        Ok((run.progress, errors))
    }
}

impl Run<'_> {
    fn fail(&mut self, row: u32, field: Option<&str>, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            let error = ImportRowError { row: Some(row), field: field.map(str::to_owned), message: message.into() };
            self.errors.push(error);
        } else {
            self.more_errors += 1;
        }
    }

    fn fail_all(&mut self, row: u32, errors: &[AppError]) {
        for e in errors.iter().flat_map(AppError::each) {
            self.fail(row, e.field(), e.public_message().to_owned());
        }
    }

    /// Decides what each row of a batch does (`tx` sees the clients as they were before the
    /// import); counts and errors go to the run.
    async fn check(
        &mut self,
        tx: &TenantTx,
        rows: &[Row],
        prepared: Vec<Result<Prepared, Vec<AppError>>>,
    ) -> AppResult<Vec<Action>> {
        self.progress.processed += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let fresh = prepared.iter().flatten().map(|p| &p.fresh);
        let found = sharing_keys(tx, fresh, Condition::all(), None).await?;
        let existing = Existing::new(found);
        let mut actions = Vec::new();
        for (row, prepared) in rows.iter().zip(prepared) {
            let Prepared { line, input: kept, consents, fresh, errors } = match prepared {
                Ok(prepared) => prepared,
                Err(unreadable) => {
                    self.fail_all(row.line, &unreadable);
                    continue;
                }
            };
            let matched = existing.matching(&fresh);
            let repeats = keys(&fresh).into_iter().find_map(|k| self.taken.get(&k).copied());
            let action = match (self.plan.duplicates, matched) {
                (DuplicatePolicy::Skip, _) if matched.is_some() || repeats.is_some() => {
                    self.progress.skipped += 1;
                    continue;
                }
                (DuplicatePolicy::Update, Some(before)) if kept.is_some() => {
                    if let Some(first) = self.touched.get(&before.id) {
                        self.fail(line, None, format!("Row {first} already updates this client."));
                        continue;
                    }
                    if let Err(err) = check_updatable(before) {
                        self.fail_all(line, &[err]);
                        continue;
                    }
                    let mut after = before.clone();
                    let input = kept.unwrap_or_default();
                    let errors = self.preparer.clients.apply_input(&mut after, input, false, &self.preparer.defs);
                    if !errors.is_empty() {
                        self.fail_all(line, &errors);
                        continue;
                    }
                    Action::Update { before: before.clone(), after, consents }
                }
                _ if !errors.is_empty() => {
                    self.fail_all(line, &errors);
                    continue;
                }
                _ => Action::Create(fresh, consents),
            };
            let record = match &action {
                Action::Create(c, _) | Action::Update { after: c, .. } => c,
            };
            if let Some(err) = self.conflict(&existing, record) {
                self.fail_all(line, &[err]);
                continue;
            }
            for key in keys(record) {
                self.taken.entry(key).or_insert(line);
            }
            match &action {
                Action::Create(..) => self.progress.created += 1,
                Action::Update { before, .. } => {
                    self.touched.insert(before.id, line);
                    self.progress.updated += 1;
                }
            }
            actions.push(action);
        }
        Ok(actions)
    }

    /// A unique value of `c` held by another client or by an earlier row of the file.
    fn conflict(&self, existing: &Existing, c: &Client) -> Option<AppError> {
        for (field, value) in keys(c) {
            if existing.holder(field, &value).is_some_and(|o| o.id != c.id) {
                return Some(AppError::conflict(field, format!("Another client already has this {field}.")));
            }
            if let Some(row) = self.taken.get(&(field, value)) {
                return Some(AppError::conflict(field, format!("Row {row} already has this {field}.")));
            }
        }
        None
    }
}

/// The unique values of a client: e-mail, code and barcode (a code left empty gets the number).
fn keys(c: &Client) -> Vec<(&'static str, String)> {
    let mut keys = Vec::with_capacity(3);
    if let Some(email) = &c.email {
        keys.push(("email", email.clone()));
    }
    if !c.code.is_empty() {
        keys.push(("code", c.code.clone()));
    }
    if let Some(barcode) = &c.barcode {
        keys.push(("barcode", barcode.clone()));
    }
    keys
}

/// The existing clients a batch may duplicate, indexed by their unique values and phones.
struct Existing {
    clients: Vec<Client>,
    by_key: HashMap<(&'static str, String), usize>,
    by_phone: HashMap<String, usize>,
}

impl Existing {
    fn new(clients: Vec<Client>) -> Self {
        let mut by_key = HashMap::new();
        let mut by_phone = HashMap::new();
        for (i, c) in clients.iter().enumerate() {
            by_key.extend(keys(c).into_iter().map(|k| (k, i)));
            for phone in phones(c) {
                by_phone.entry(phone.to_owned()).or_insert(i);
            }
        }
        Self { clients, by_key, by_phone }
    }

    /// The client holding a unique value (e-mail, code and barcode are unique per tenant).
    fn holder(&self, field: &'static str, value: &str) -> Option<&Client> {
        self.by_key.get(&(field, value.to_owned())).map(|i| &self.clients[*i])
    }

    /// The client a row duplicates: same e-mail, else code, else barcode, else a phone in common.
    fn matching(&self, row: &Client) -> Option<&Client> {
        let by_key = keys(row).into_iter().find_map(|(field, value)| self.holder(field, &value));
        by_key.or_else(|| phones(row).find_map(|p| self.by_phone.get(p)).map(|i| &self.clients[*i]))
    }
}

/// Writes a batch: inserts in a few statements, updates one by one, audit rows and consent
/// history as `createClient` and `updateClient` write them.
async fn write(tx: &TenantTx, ctx: &TenantCtx, job: ImportJobId, actions: Vec<Action>) -> AppResult<()> {
    let now = ctx.handles().now();
    let creates = actions.iter().filter(|a| matches!(a, Action::Create(..))).count();
    let mut numbers = next_numbers(tx, i64::try_from(creates).unwrap_or(i64::MAX)).await?;
    let (mut inserts, mut history, mut entries) = (Vec::new(), Vec::new(), Vec::new());
    let changed: Vec<ClientId> = actions
        .iter()
        .map(|a| match a {
            Action::Create(c, _) | Action::Update { after: c, .. } => c.id,
        })
        .collect();
    for action in actions {
        match action {
            Action::Create(mut c, consents) => {
                c.number = numbers.next().ok_or_else(|| AppError::internal("client numbers ran out"))?;
                if c.code.is_empty() {
                    c.code = c.number.to_string(); // CLI-03, as createClient
                }
                history.extend(consent_rows(ctx, c.id, consents, Some("import"), now));
                // The values are the new row's; later changes are audited as diffs from them. Naming
                // the job keeps this light for the many rows of an import.
                let changes = audit::created(&serde_json::json!({ "import_job": job }));
                entries.push(AuditEntry::new("client.import", "client", c.id, changes));
                inserts.push(c.to_active(ctx.tenant(), ctx.actor().user().map(|u| u.0)));
            }
            Action::Update { before, mut after, consents } => {
                after.version += 1;
                after.updated_at = now;
                after.to_active(ctx.tenant(), None).reset_all().update(tx.conn()).await?;
                let changed = (
                    consents.0.filter(|c| *c != before.consent_email),
                    consents.1.filter(|c| *c != before.consent_sms),
                );
                history.extend(consent_rows(ctx, after.id, changed, Some("import"), now));
                let changes = audit::diff(&before.audit_view(), &after.audit_view());
                entries.push(AuditEntry::new("client.import_update", "client", after.id, changes));
            }
        }
    }
    insert_moving(tx.conn(), inserts, INSERT_CHUNK).await.map_err(unique_violation)?;
    insert_moving(tx.conn(), history, INSERT_CHUNK).await?;
    crate::search::touch_many(tx, &changed).await?;
    audit::record_many(tx, ctx, entries).await
}
