//! Client imports from CSV or .xlsx: a job per upload, run in the background, all or nothing.
//!
//! Every row goes through the same validation as `createClient`/`updateClient`
//! ([`ClientService::apply_input`]); a dry run reports the row errors and writes nothing; a real
//! run writes in one transaction, committed only when no row failed. Duplicates are found by
//! e-mail, code, barcode or phone (E.164 digits) against existing clients, and by e-mail, code
//! or barcode against earlier rows of the same file; the job's policy skips, updates or
//! creates them anyway (unique e-mails and codes still hold).

mod fields;
mod prepare;
mod run;
mod table;
mod workbook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbBackend, EntityTrait};
use serde_json::json;

use crate::clients::entity::import_job;
use crate::clients::service::client_field_defs;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::ImportJobId;
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

pub use table::{MAX_FILE_BYTES, MAX_ROWS};

macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str { self.into() }
        }
    };
}

stored_enum!(
    /// What the uploaded file is.
    ImportFormat { Csv, Xlsx }
);
stored_enum!(
    /// What to do with a row that matches a client: leave it, update it, or create another.
    DuplicatePolicy { Skip, Update, Create }
);
stored_enum!(
    /// A job runs, then succeeds (everything written, or a clean dry run) or fails (nothing written).
    ImportStatus { Running, Succeeded, Failed }
);

/// Which file column feeds which client field (`lastName`, `customFields.shoeSize`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMapping {
    pub column: String,
    pub field: String,
}

/// An import as asked for. Without a mapping, columns are matched by header: an export's
/// headers, field names and custom-field labels or keys.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub content: Vec<u8>,
    pub format: ImportFormat,
    pub mapping: Option<Vec<ColumnMapping>>,
    pub duplicates: DuplicatePolicy,
    pub dry_run: bool,
}

/// A problem with one row (`row` is the spreadsheet row: the header is row 1) or, without a
/// row, with the whole job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportRowError {
    pub row: Option<u32>,
    pub field: Option<String>,
    pub message: String,
}

/// A file's columns as an import reads them, for a person to map before starting: the field
/// each header is taken for (its mapping name, `last_name` or `custom_fields.shoeSize`), a few of
/// its values, and every field a column can feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPreview {
    pub columns: Vec<PreviewColumn>,
    pub fields: Vec<ImportField>,
    /// Data rows in the file (the header row not counted).
    pub rows: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewColumn {
    pub header: String,
    pub field: Option<String>,
    pub samples: Vec<String>,
}

/// A field an import can set: its mapping name and its label (the export's header, or the
/// custom field's own label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportField {
    pub name: String,
    pub label: String,
}

/// An import job and where it stands.
#[derive(Clone, Debug)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub status: ImportStatus,
    pub format: ImportFormat,
    pub duplicates: DuplicatePolicy,
    pub dry_run: bool,
    pub total: i64,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub errors: Vec<ImportRowError>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportJob {
    fn from_row(row: import_job::Model) -> AppResult<Self> {
        let bad = |c: &str| AppError::internal(format!("bad stored import_jobs.{c}"));
        Ok(Self {
            id: row.id,
            status: row.status.parse().map_err(|_| bad("status"))?,
            format: row.format.parse().map_err(|_| bad("format"))?,
            duplicates: row.duplicates.parse().map_err(|_| bad("duplicates"))?,
            dry_run: row.dry_run,
            total: row.total,
            processed: row.processed,
            created: row.created,
            updated: row.updated,
            skipped: row.skipped,
            errors: serde_json::from_value(row.errors).map_err(|_| bad("errors"))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

/// Counts of a running job, as it goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
}

/// Progress of the jobs this process runs. A real import holds SQLite's write lock until it
/// commits, so progress cannot go to the job row meanwhile; PostgreSQL also gets it in the row
/// (other replicas read it there).
type Live = Arc<Mutex<HashMap<ImportJobId, Progress>>>;

pub struct ImportService {
    handles: Arc<Handles>,
    live: Live,
}

impl ImportService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles, live: Live::default() }
    }

    /// Checks the request, reads the file, records the job and runs it in the background.
    /// Problems with the request itself (file unreadable, unknown column or field) are
    /// validation errors; problems with rows end up in the job.
    pub async fn start(&self, ctx: &TenantCtx, request: ImportRequest) -> AppResult<ImportJob> {
        ctx.require(Permission::Write)?;
        let ImportRequest { content, format, mapping, duplicates, dry_run } = request;
        let table =
            tokio::task::spawn_blocking(move || table::read(format, &content)).await.map_err(AppError::internal)??;
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        let defs = client_field_defs(&tx).await?;
        let columns = fields::plan(&table.headers, mapping.as_deref(), &defs)?;
        let total = i64::try_from(table.rows.len()).unwrap_or(i64::MAX);
        let job = ImportJob {
            id: ImportJobId(self.handles.new_id()),
            status: ImportStatus::Running,
            format,
            duplicates,
            dry_run,
            total,
            processed: 0,
            created: 0,
            updated: 0,
            skipped: 0,
            errors: Vec::new(),
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        import_job::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(job.id),
            status: Set(job.status.as_str().to_owned()),
            format: Set(format.as_str().to_owned()),
            duplicates: Set(duplicates.as_str().to_owned()),
            dry_run: Set(dry_run),
            total: Set(total),
            processed: Set(0),
            created: Set(0),
            updated: Set(0),
            skipped: Set(0),
            errors: Set(json!([])),
            created_by: Set(ctx.actor().user().map(|u| u.0)),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
        }
        .insert(tx.conn())
        .await?;
        let what =
            json!({ "format": format.as_str(), "duplicates": duplicates.as_str(), "dry_run": dry_run, "total": total });
        audit::record(&tx, ctx, AuditEntry::new("import_job.start", "import_job", job.id, audit::created(&what)))
            .await?;
        // Live before the row is visible, so the interrupted-jobs sweep never takes it for orphaned.
        self.live.lock().unwrap_or_else(PoisonError::into_inner).insert(job.id, Progress::default());
        if let Err(err) = tx.commit().await {
            self.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&job.id);
            return Err(err);
        }

        let runner = run::Runner { handles: self.handles.clone(), live: self.live.clone() };
        let plan = run::Plan { columns, duplicates, dry_run };
        let ctx = ctx.clone();
        let id = job.id;
        tokio::spawn(async move { runner.run(ctx, id, table, plan).await });
        Ok(job)
    }

    /// Reads a file's header row and first values, and what each header would feed without a
    /// mapping; writes nothing. A file an import would refuse to read is refused here too.
    pub async fn preview(&self, ctx: &TenantCtx, format: ImportFormat, content: Vec<u8>) -> AppResult<ImportPreview> {
        ctx.require(Permission::Write)?;
        let table =
            tokio::task::spawn_blocking(move || table::read(format, &content)).await.map_err(AppError::internal)??;
        let tx = ctx.read().await?;
        let defs = client_field_defs(&tx).await?;
        tx.commit().await?;
        Ok(fields::preview(&table, &defs))
    }

    /// Ends the running jobs of the caller's tenant that nothing runs any more (the server that
    /// ran them stopped): FAILED, saying so, so they can be started again. On SQLite one process
    /// runs them all, so a running job this process does not run is orphaned; on PostgreSQL
    /// another replica may run it, so it is orphaned once its progress row, written after every
    /// batch, has not moved for [`IMPORT_LEASE_SECONDS`]. Returns how many jobs it ended.
    pub async fn fail_interrupted(&self, ctx: &TenantCtx) -> AppResult<u64> {
        let now = self.handles.now();
        let lease_start = now - chrono::Duration::seconds(IMPORT_LEASE_SECONDS);
        let shared = self.handles.backend() == DbBackend::Postgres;
        let is_orphan = |row: &import_job::Model| {
            let here = self.live.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&row.id);
            !here && (!shared || row.updated_at < lease_start)
        };
        // Read first: a running import holds SQLite's write lock, and usually nothing is orphaned.
        let tx = ctx.read().await?;
        let running = running_jobs(&tx).await?;
        tx.commit().await?;
        if !running.iter().any(is_orphan) {
            return Ok(0);
        }
        let tx = ctx.begin().await?;
        let mut ended = 0;
        for row in running_jobs(&tx).await?.iter().filter(|row| is_orphan(row)) {
            let message = "The import was interrupted (the server stopped): nothing of it was kept. Start it again.";
            let errors = json!([{ "row": null, "field": null, "message": message }]);
            import_job::ActiveModel {
                tenant_id: Set(ctx.tenant()),
                id: Set(row.id),
                status: Set(ImportStatus::Failed.as_str().to_owned()),
                errors: Set(errors),
                updated_at: Set(now),
                finished_at: Set(Some(now)),
                ..Default::default()
            }
            .update(tx.conn())
            .await?;
            let change = audit::diff(&json!({ "status": "running" }), &json!({ "status": "failed" }));
            audit::record(&tx, ctx, AuditEntry::new("import_job.interrupted", "import_job", row.id, change)).await?;
            ended += 1;
        }
        tx.commit().await?;
        Ok(ended)
    }

    /// A job of the caller's tenant, with its live progress while it runs here.
    pub async fn job(&self, ctx: &TenantCtx, id: ImportJobId) -> AppResult<ImportJob> {
        let tx = ctx.read().await?;
        let row = import_job::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?;
        tx.commit().await?;
        let mut job = ImportJob::from_row(row.ok_or_else(AppError::not_found)?)?;
        if job.status == ImportStatus::Running {
            let live = self.live.lock().unwrap_or_else(PoisonError::into_inner).get(&id).copied();
            if let Some(p) = live {
                (job.processed, job.created, job.updated, job.skipped) = (p.processed, p.created, p.updated, p.skipped);
            }
        }
        Ok(job)
    }
}

/// How long a running job's progress row may stand still on PostgreSQL before the job counts as
/// interrupted: far above the time of one batch, which writes it.
pub const IMPORT_LEASE_SECONDS: i64 = 120;

async fn running_jobs(tx: &TenantTx) -> AppResult<Vec<import_job::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(import_job::Entity::find()
        .filter(import_job::Column::TenantId.eq(tx.tenant()))
        .filter(import_job::Column::Status.eq(ImportStatus::Running.as_str()))
        .all(tx.conn())
        .await?)
}

/// Writes a running job's progress to its row (PostgreSQL only, see [`Live`]), in its own
/// transaction beside the import's.
async fn persist_progress(ctx: &TenantCtx, id: ImportJobId, p: Progress) -> AppResult<()> {
    if ctx.handles().backend() != DbBackend::Postgres {
        return Ok(());
    }
    let tx = ctx.begin().await?;
    import_job::ActiveModel {
        tenant_id: Set(ctx.tenant()),
        id: Set(id),
        processed: Set(p.processed),
        created: Set(p.created),
        updated: Set(p.updated),
        skipped: Set(p.skipped),
        updated_at: Set(ctx.handles().now()),
        ..Default::default()
    }
    .update(tx.conn())
    .await?;
    tx.commit().await
}

/// Records how a job ended.
async fn finish(
    ctx: &TenantCtx,
    id: ImportJobId,
    status: ImportStatus,
    p: Progress,
    errors: &[ImportRowError],
) -> AppResult<()> {
    let now = ctx.handles().now();
    let tx = ctx.begin().await?;
    import_job::ActiveModel {
        tenant_id: Set(ctx.tenant()),
        id: Set(id),
        status: Set(status.as_str().to_owned()),
        processed: Set(p.processed),
        created: Set(p.created),
        updated: Set(p.updated),
        skipped: Set(p.skipped),
        errors: Set(serde_json::to_value(errors).map_err(AppError::internal)?),
        updated_at: Set(now),
        finished_at: Set(Some(now)),
        ..Default::default()
    }
    .update(tx.conn())
    .await?;
    tx.commit().await
}
