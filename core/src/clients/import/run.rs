//! Running an import job: rows in batches, each checked against the clients it may duplicate,
//! then (real runs, while no row failed) written in the job's one transaction.

use std::collections::{HashMap, HashSet};
use std::sync::PoisonError;

use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::fields::{self, Column, Lookups};
use super::table::{Row, Table};
use super::{DuplicatePolicy, ImportRowError, ImportStatus, Live, Progress, finish, persist_progress};
use crate::audit::{self, AuditEntry};
use crate::clients::custom_fields::CustomFieldDef;
use crate::clients::entity::{client, consent};
use crate::clients::export::Names;
use crate::clients::model::{Client, ClientInput};
use crate::clients::service::{
    ClientService, check_updatable, client_field_defs, consent_rows, next_numbers, unique_violation,
};
use crate::db::Kernel;
use crate::error::{AppError, AppResult};
use crate::ids::{ClientId, ImportJobId};
use crate::tenancy::{TenantCtx, TenantTx};

/// Rows checked and written together: one duplicate lookup per batch.
const BATCH: usize = 1000;
/// Client rows per INSERT: 71 columns each stay under SQLite's 32766 bound parameters.
const INSERT_CHUNK: usize = 400;
/// Row errors kept in the job; the rest are counted.
const MAX_ERRORS: usize = 1000;

pub(crate) struct Plan {
    pub columns: Vec<Column>,
    pub duplicates: DuplicatePolicy,
    pub dry_run: bool,
}

pub(crate) struct Runner {
    pub kernel: std::sync::Arc<Kernel>,
    pub live: Live,
    pub clients: ClientService,
}

/// What one row becomes.
#[allow(clippy::large_enum_variant)] // a batch's worth at most, short-lived
enum Action {
    Create(Client, ClientInput),
    Update { before: Client, after: Client, input: ClientInput },
}

/// The state of one run: what earlier rows did, and the counts so far.
struct Run<'a> {
    runner: &'a Runner,
    plan: &'a Plan,
    defs: Vec<CustomFieldDef>,
    lookups: Lookups,
    /// E-mails, codes and barcodes of rows already accepted, and the row that holds them.
    taken: HashMap<(&'static str, String), u32>,
    /// Existing clients an earlier row updates.
    touched: HashMap<ClientId, u32>,
    /// Clients this run inserted: real runs see them in later lookups, dry runs do not.
    inserted: HashSet<ClientId>,
    progress: Progress,
    errors: Vec<ImportRowError>,
    more_errors: usize,
}

impl Runner {
    /// Runs the job to its end and records the outcome; never fails itself.
    pub(crate) async fn run(self, ctx: TenantCtx, id: ImportJobId, table: Table, plan: Plan) {
        let outcome = self.execute(&ctx, id, &table, &plan).await;
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
        table: &Table,
        plan: &Plan,
    ) -> AppResult<(Progress, Vec<ImportRowError>)> {
        let tx = if plan.dry_run { ctx.read().await? } else { ctx.begin().await? };
        let mut run = Run {
            runner: self,
            plan,
            defs: client_field_defs(&tx).await?,
            lookups: Lookups::new(Names::load(&tx).await?),
            taken: HashMap::new(),
            touched: HashMap::new(),
            inserted: HashSet::new(),
            progress: Progress::default(),
            errors: Vec::new(),
            more_errors: 0,
        };
        for rows in table.rows.chunks(BATCH) {
            let actions = run.check(&tx, rows).await?;
            if !plan.dry_run && run.errors.is_empty() {
                write(&tx, ctx, actions).await?;
            }
            self.live.lock().unwrap_or_else(PoisonError::into_inner).insert(id, run.progress);
            persist_progress(ctx, id, run.progress).await?;
        }
        let mut errors = run.errors;
        if run.more_errors > 0 {
            let message = format!("{} more errors are not shown.", run.more_errors);
            errors.push(ImportRowError { row: None, field: None, message });
        }
        if errors.is_empty() {
            tx.commit().await?;
        } // else the transaction rolls back as it drops: nothing changes.
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

    /// The row's cells as a client input, or the cells that could not be read.
    fn input(&self, row: &Row) -> Result<ClientInput, Vec<AppError>> {
        let mut input = ClientInput::default();
        let mut errors = Vec::new();
        for column in &self.plan.columns {
            let raw = row.cells.get(column.index).map_or("", str::trim);
            if raw.is_empty() {
                continue; // empty cells leave a field as it is
            }
            if let Err(message) = fields::set(&mut input, &column.target, raw, &self.lookups) {
                errors.push(AppError::invalid(&column.field, message));
            }
        }
        if errors.is_empty() { Ok(input) } else { Err(errors) }
    }

    /// Decides what each row of a batch does; counts and errors go to the run.
    async fn check(&mut self, tx: &TenantTx, rows: &[Row]) -> AppResult<Vec<Action>> {
        let now = self.runner.kernel.now();
        let mut prepared = Vec::with_capacity(rows.len());
        for row in rows {
            self.progress.processed += 1;
            prepared.push(self.input(row).map(|input| {
                // Applied to a new record first: normalised keys for the lookup, and the record to create.
                let mut fresh = Client::blank(ClientId(self.runner.kernel.new_id()), now);
                let errors = self.runner.clients.apply_input(&mut fresh, input.clone(), true, &self.defs);
                (row.line, input, fresh, errors)
            }));
        }
        let existing = lookup(tx, prepared.iter().flatten().map(|(_, _, fresh, _)| fresh)).await?;
        let existing: Vec<Client> = existing.into_iter().filter(|c| !self.inserted.contains(&c.id)).collect();
        let mut actions = Vec::new();
        for (row, prepared) in rows.iter().zip(prepared) {
            let (line, input, fresh, errors) = match prepared {
                Ok(prepared) => prepared,
                Err(unreadable) => {
                    self.fail_all(row.line, &unreadable);
                    continue;
                }
            };
            let matched = find_match(&existing, &fresh);
            let repeats = keys(&fresh).into_iter().find_map(|k| self.taken.get(&k).copied());
            let action = match (self.plan.duplicates, matched) {
                (DuplicatePolicy::Skip, _) if matched.is_some() || repeats.is_some() => {
                    self.progress.skipped += 1;
                    continue;
                }
                (DuplicatePolicy::Update, Some(before)) => {
                    if let Some(first) = self.touched.get(&before.id) {
                        self.fail(line, None, format!("Row {first} already updates this client."));
                        continue;
                    }
                    if let Err(err) = check_updatable(before) {
                        self.fail_all(line, &[err]);
                        continue;
                    }
                    let mut after = before.clone();
                    let errors = self.runner.clients.apply_input(&mut after, input.clone(), false, &self.defs);
                    if !errors.is_empty() {
                        self.fail_all(line, &errors);
                        continue;
                    }
                    Action::Update { before: before.clone(), after, input }
                }
                _ if !errors.is_empty() => {
                    self.fail_all(line, &errors);
                    continue;
                }
                _ => Action::Create(fresh, input),
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
                Action::Create(c, _) => {
                    self.inserted.insert(c.id);
                    self.progress.created += 1;
                }
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
    fn conflict(&self, existing: &[Client], c: &Client) -> Option<AppError> {
        for (field, value) in keys(c) {
            if existing.iter().any(|o| o.id != c.id && keys(o).contains(&(field, value.clone()))) {
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

fn phones(c: &Client) -> impl Iterator<Item = &str> {
    [&c.mobile, &c.home_phone, &c.work_phone].into_iter().flatten().filter_map(|p| p.e164.as_deref())
}

/// The client a row duplicates: same e-mail, else same code, else barcode, else a phone in common.
fn find_match<'a>(existing: &'a [Client], row: &Client) -> Option<&'a Client> {
    let same =
        |get: fn(&Client) -> Option<&str>| get(row).and_then(|value| existing.iter().find(|c| get(c) == Some(value)));
    same(|c| c.email.as_deref())
        .or_else(|| same(|c| Some(c.code.as_str()).filter(|s| !s.is_empty())))
        .or_else(|| same(|c| c.barcode.as_deref()))
        .or_else(|| {
            let mine: Vec<&str> = phones(row).collect();
            existing.iter().find(|c| phones(c).any(|p| mine.contains(&p)))
        })
}

/// Existing clients sharing an e-mail, code, barcode or phone with any of `rows`: one query.
async fn lookup<'a>(tx: &TenantTx, rows: impl Iterator<Item = &'a Client>) -> AppResult<Vec<Client>> {
    let (mut emails, mut codes, mut barcodes, mut phone_keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in rows {
        emails.extend(c.email.clone());
        codes.extend(Some(c.code.clone()).filter(|s| !s.is_empty()));
        barcodes.extend(c.barcode.clone());
        phone_keys.extend(phones(c).map(str::to_owned));
    }
    let mut any = Condition::any();
    for (column, values) in [
        (client::Column::Email, &emails),
        (client::Column::Code, &codes),
        (client::Column::Barcode, &barcodes),
        (client::Column::MobileE164, &phone_keys),
        (client::Column::HomePhoneE164, &phone_keys),
        (client::Column::WorkPhoneE164, &phone_keys),
    ] {
        if !values.is_empty() {
            any = any.add(column.is_in(values.iter().cloned()));
        }
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    let rows =
        client::Entity::find().filter(client::Column::TenantId.eq(tx.tenant())).filter(any).all(tx.conn()).await?;
    rows.into_iter().map(Client::from_row).collect()
}

/// Writes a batch: inserts in a few statements, updates one by one, audit rows and consent
/// history as `createClient` and `updateClient` write them.
async fn write(tx: &TenantTx, ctx: &TenantCtx, actions: Vec<Action>) -> AppResult<()> {
    let now = ctx.kernel().now();
    let creates = actions.iter().filter(|a| matches!(a, Action::Create(..))).count();
    let mut numbers = next_numbers(tx, i64::try_from(creates).unwrap_or(i64::MAX)).await?;
    let (mut inserts, mut consents, mut entries) = (Vec::new(), Vec::new(), Vec::new());
    for action in actions {
        match action {
            Action::Create(mut c, input) => {
                c.number = numbers.next().ok_or_else(|| AppError::internal("client numbers ran out"))?;
                if c.code.is_empty() {
                    c.code = c.number.to_string(); // CLI-03, as createClient
                }
                consents.extend(consent_rows(ctx, c.id, (input.consent_email, input.consent_sms), Some("import"), now));
                entries.push(AuditEntry::new("client.import", "client", c.id, audit::created(&c.audit_view())));
                inserts.push(c.to_active(ctx.tenant(), ctx.actor().user().map(|u| u.0)));
            }
            Action::Update { before, mut after, input } => {
                after.version += 1;
                after.updated_at = now;
                after.to_active(ctx.tenant(), None).reset_all().update(tx.conn()).await?;
                let changed = (
                    input.consent_email.filter(|c| *c != before.consent_email),
                    input.consent_sms.filter(|c| *c != before.consent_sms),
                );
                consents.extend(consent_rows(ctx, after.id, changed, Some("import"), now));
                let changes = audit::diff(&before.audit_view(), &after.audit_view());
                entries.push(AuditEntry::new("client.import_update", "client", after.id, changes));
            }
        }
    }
    let mut inserts = inserts.into_iter();
    loop {
        let chunk: Vec<_> = inserts.by_ref().take(INSERT_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        client::Entity::insert_many(chunk).exec_without_returning(tx.conn()).await.map_err(unique_violation)?;
    }
    if !consents.is_empty() {
        consent::Entity::insert_many(consents).exec_without_returning(tx.conn()).await?;
    }
    audit::record_many(tx, ctx, entries).await
}
