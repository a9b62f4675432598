//! The actions of an organisation's settings and files tabs (issue 16, screen 2): its
//! categories (ORG-23), chosen among the supplier's, a new one made on the way; its files
//! (FIL-06), which its own users read and its supplier uploads and deletes. Same services as
//! the API's `setOrganisationCategories` and file routes.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use clientele_kernel::{AppError, AppResult, FileId};
use clientele_records::files::{FileKind, Owner, Upload};

use crate::Console;
use crate::clients::opt;
use crate::organisations::{action_answer, parse_org};
use crate::session::Signed;
use crate::view;

/// `POST /organisations/{id}/categories`: the categories ticked (`category`), and a new one
/// (`new_category`) when a title is given.
pub(crate) async fn set_categories(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let (ctx, categories) = (&caller.auth.ctx, &console.tenants.org_categories);
    let done = async {
        let mut ticked: Vec<uuid::Uuid> = form
            .iter()
            .filter(|(k, _)| k == "category")
            .map(|(_, v)| v.parse().map_err(|_| AppError::not_found()))
            .collect::<AppResult<_>>()?;
        if let Some(title) = form.iter().find(|(k, _)| k == "new_category").and_then(|(_, v)| opt(v)) {
            ticked.push(categories.save(ctx, None, Some(title), None).await?.id);
        }
        categories.set_for(ctx, org, &ticked).await?;
        Ok("org-categories-saved")
    }
    .await;
    action_answer(&console, &caller, org, "settings", done, form).await
}

/// `POST /organisations/{id}/files` (multipart, its CSRF token in the query): a file for the
/// organisation's users; the service checks its size and content.
pub(crate) async fn upload(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async {
        let (file_name, bytes) = view::file_part(view::multipart(request, "file").await?, "file", "Choose a file.")?;
        let upload = Upload { owner: Owner::Organisation(org), kind: FileKind::Attachment, file_name, bytes };
        console.records.files.upload(&caller.auth.ctx, upload).await?;
        Ok("org-file-added")
    }
    .await;
    action_answer(&console, &caller, org, "files", done, Vec::new()).await
}

/// `POST /organisations/{id}/files/{file}/delete`.
pub(crate) async fn delete_file(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async {
        let file = file.parse::<uuid::Uuid>().map(FileId).map_err(|_| AppError::not_found())?;
        console.records.files.delete(&caller.auth.ctx, file, Some(org)).await?;
        Ok("org-file-deleted")
    }
    .await;
    action_answer(&console, &caller, org, "files", done, Vec::new()).await
}
