//! The import wizard (issue 15, screen 4): choose a CSV or .xlsx file, see its columns with a
//! few values and the field each is taken for (French and English headers recognised, as the
//! API's import does), change or ignore any of them, choose what a duplicate does, run it dry
//! (per-row errors and duplicates, nothing written), then for real, following a progress bar.
//!
//! With htmx the file stays chosen in the form: its columns come in as soon as it is chosen and
//! each run's result below the form. Without script each step is a plain form and page (the
//! browser forgets a chosen file across pages: the mapping is kept, the file is chosen again).

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, ImportJobId};
use clientele_records::clients::{
    ColumnMapping, DuplicatePolicy, ImportFormat, ImportJob, ImportPreview, ImportRequest, ImportStatus,
};

use crate::session::Signed;
use crate::view::{self, Base, redirect};
use crate::{Console, Lang};

/// The file's columns and the field chosen for each.
#[derive(Template)]
#[template(path = "import_columns.html")]
struct Columns {
    t: Lang,
    preview: ImportPreview,
}

impl Columns {
    fn label(&self, name: &str) -> String {
        let key = format!("field-{name}");
        let label = self.t.s(&key);
        if label == key {
            self.preview.fields.iter().find(|f| f.name == name).map_or_else(|| name.to_owned(), |f| f.label.clone())
        } else {
            label
        }
    }
}

#[derive(Template)]
#[template(path = "import_new.html")]
struct NewImportPage {
    base: Base,
    error: Option<String>,
    columns: Option<String>,
    result: Option<String>,
}

impl NewImportPage {
    fn of(console: &Console, caller: &Signed) -> Self {
        Self { base: Base::of(console, caller, "/import"), error: None, columns: None, result: None }
    }
}

/// A refusal shown where the step's result goes.
#[derive(Template)]
#[template(source = r#"<p role="alert" class="error" id="import-error">{{ message }}</p>"#, ext = "html")]
struct Refusal {
    message: String,
}

/// `GET /import`.
pub(crate) async fn new_form(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    view::ok(&NewImportPage::of(&console, &caller))
}

/// What the form sent: the file, the columns shown with the field chosen for each (in order),
/// the duplicate policy and the dry-run box.
struct Upload {
    file_name: String,
    content: Vec<u8>,
    columns: Vec<String>,
    fields: Vec<String>,
    duplicates: String,
    dry_run: bool,
}

impl Upload {
    async fn read(request: Request) -> Result<Self, AppError> {
        let bad = |_| AppError::invalid("file", "The upload could not be read.");
        let mut multipart =
            Multipart::from_request(request, &()).await.map_err(|_| AppError::invalid("file", "Send a file."))?;
        let mut upload = Self {
            file_name: String::new(),
            content: Vec::new(),
            columns: Vec::new(),
            fields: Vec::new(),
            duplicates: String::new(),
            dry_run: false,
        };
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            match field.name().unwrap_or_default() {
                "file" => {
                    upload.file_name = field.file_name().unwrap_or_default().to_owned();
                    upload.content = field.bytes().await.map_err(bad)?.to_vec();
                }
                "column" => upload.columns.push(field.text().await.map_err(bad)?),
                "field" => upload.fields.push(field.text().await.map_err(bad)?),
                "duplicates" => upload.duplicates = field.text().await.map_err(bad)?,
                "dry_run" => upload.dry_run = field.text().await.map_err(bad)? == "1",
                _ => {}
            }
        }
        if upload.content.is_empty() {
            return Err(AppError::invalid("file", "Choose a file."));
        }
        Ok(upload)
    }

    fn format(&self) -> ImportFormat {
        if self.file_name.to_ascii_lowercase().ends_with(".xlsx") { ImportFormat::Xlsx } else { ImportFormat::Csv }
    }

    /// The columns as mapped in the form (an empty field ignores its column); none when the
    /// form showed no columns, so the headers are matched as the API matches them.
    fn mapping(&self) -> Option<Vec<ColumnMapping>> {
        (!self.columns.is_empty()).then(|| {
            let pairs = self.columns.iter().zip(&self.fields).filter(|(_, field)| !field.is_empty());
            pairs.map(|(column, field)| ColumnMapping { column: column.clone(), field: field.clone() }).collect()
        })
    }

    /// The form's previous mapping over a fresh preview (the plain form's second pass).
    fn keep_choices(&self, preview: &mut ImportPreview) {
        for column in &mut preview.columns {
            if let Some(at) = self.columns.iter().position(|c| *c == column.header) {
                column.field = self.fields.get(at).filter(|f| !f.is_empty()).cloned();
            }
        }
    }
}

/// A user error of a step: to htmx its message where the step's result goes, otherwise the
/// page with it.
fn refused(console: &Console, caller: &Signed, err: &AppError) -> Response {
    if !err.is_user_error() {
        return view::failed(console, caller, err);
    }
    let message = view::FieldErrors::of(err, caller.lang).summary();
    if caller.htmx {
        return view::html(StatusCode::UNPROCESSABLE_ENTITY, &Refusal { message });
    }
    let page = NewImportPage { error: Some(message), ..NewImportPage::of(console, caller) };
    view::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// `POST /import/columns` (multipart): the chosen file's columns to map; nothing is written.
pub(crate) async fn columns(State(console): State<Arc<Console>>, caller: Signed, request: Request) -> Response {
    let previewed = async {
        let upload = Upload::read(request).await?;
        let mut preview =
            console.records.imports.preview(&caller.auth.ctx, upload.format(), upload.content.clone()).await?;
        upload.keep_choices(&mut preview);
        Ok::<_, AppError>(preview)
    }
    .await;
    match previewed {
        Ok(preview) => {
            let columns = Columns { t: caller.lang, preview };
            if caller.htmx {
                return view::ok(&columns);
            }
            let page = NewImportPage { columns: columns.render().ok(), ..NewImportPage::of(&console, &caller) };
            view::ok(&page)
        }
        Err(err) => refused(&console, &caller, &err),
    }
}

/// `POST /import` (multipart; the API keeps `POST /imports` for raw files): starts the job. To
/// htmx the job's state below the form (the file stays chosen for the next run), otherwise its page.
pub(crate) async fn start(State(console): State<Arc<Console>>, caller: Signed, request: Request) -> Response {
    let started = async {
        let upload = Upload::read(request).await?;
        let duplicates = match upload.duplicates.as_str() {
            "update" => DuplicatePolicy::Update,
            "create" => DuplicatePolicy::Create,
            _ => DuplicatePolicy::Skip,
        };
        let (format, mapping) = (upload.format(), upload.mapping());
        let request = ImportRequest { content: upload.content, format, mapping, duplicates, dry_run: upload.dry_run };
        console.records.imports.start(&caller.auth.ctx, request).await
    }
    .await;
    match started {
        Ok(job) if caller.htmx => view::ok(&part(&job, caller.lang)),
        Ok(job) => redirect(&format!("/import/{}", job.id), false),
        Err(err) => refused(&console, &caller, &err),
    }
}

/// A row error as shown.
pub(crate) struct ErrorRow {
    row: String,
    field: String,
    message: String,
}

/// The job's state: a full page holds it, htmx refreshes it alone while the job runs.
#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPart {
    t: Lang,
    id: String,
    running: bool,
    succeeded: bool,
    dry_run: bool,
    total: i64,
    processed: i64,
    summary: String,
    errors: Vec<ErrorRow>,
}

#[derive(Template)]
#[template(path = "import_page.html")]
struct JobPage {
    base: Base,
    job: JobPart,
}

fn part(job: &ImportJob, t: Lang) -> JobPart {
    let counts = [
        ("total", job.total.to_string()),
        ("created", job.created.to_string()),
        ("updated", job.updated.to_string()),
        ("skipped", job.skipped.to_string()),
    ];
    let values: Vec<(&'static str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    JobPart {
        t,
        id: job.id.to_string(),
        running: job.status == ImportStatus::Running,
        succeeded: job.status == ImportStatus::Succeeded,
        dry_run: job.dry_run,
        total: job.total,
        processed: job.processed,
        summary: t.args("import-summary", &values),
        errors: job
            .errors
            .iter()
            .map(|e| ErrorRow {
                row: e.row.map(|r| r.to_string()).unwrap_or_default(),
                field: e.field.clone().unwrap_or_default(),
                message: e.message.clone(),
            })
            .collect(),
    }
}

/// `GET /import/{id}`: the job, or (to htmx) its refreshed state.
pub(crate) async fn show(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let job = async {
        let id = id.parse::<uuid::Uuid>().map(ImportJobId).map_err(|_| AppError::not_found())?;
        console.records.imports.job(&caller.auth.ctx, id).await
    }
    .await;
    match job {
        Ok(job) if caller.htmx => view::ok(&part(&job, caller.lang)),
        Ok(job) => view::ok(&JobPage {
            base: Base::of(&console, &caller, &format!("/import/{}", job.id)),
            job: part(&job, caller.lang),
        }),
        Err(err) => view::failed(&console, &caller, &err),
    }
}
