//! Files through HTTP and GraphQL: uploads (`POST /files`), signed download links, photos,
//! attachments of clients and of customer organisations, lifecycle (purge, anonymisation),
//! GDPR export, and the cross-tenant matrix. The storage scenarios run on the filesystem
//! backend and on a real S3 server (moto), each on SQLite and PostgreSQL.

use std::io::Cursor;

use base64::Engine as _;
use chrono::Duration;
use clientele_kernel::TenantId;
use clientele_kernel::blobs::BlobKey;
use clientele_records::files::entity::tombstone;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clients::person;
use crate::common::{Backend, Tenant, TestApp, code};
use crate::customers::{customer, customer_admin};
use crate::s3_server::S3Server;

/// The upload cap of these tests.
const CAP: usize = 256 << 10;

#[derive(Clone, Copy, Debug)]
pub enum Store {
    Fs,
    S3,
}

/// A server for the file tests, on `backend` with blobs in `store`; the S3 server lives as long
/// as the returned guard.
pub async fn files_app(backend: Backend, store: Store) -> (TestApp, Option<S3Server>) {
    let s3 = match store {
        Store::Fs => None,
        Store::S3 => Some(S3Server::start("clientele-files").await),
    };
    let endpoint = s3.as_ref().map(|s| s.endpoint.clone());
    let app = TestApp::start_with(backend, move |s| {
        s.files.max_upload_bytes = CAP;
        if let Some(endpoint) = endpoint {
            s.files.backend = clientele::config::FilesBackend::S3;
            s.files.s3_endpoint = endpoint;
            "clientele-files".clone_into(&mut s.files.s3_bucket);
            s.files.s3_access_key_id = Some(clientele::config::Secret::new("test-key"));
            s.files.s3_secret_access_key = Some(clientele::config::Secret::new("test-secret"));
            s.files.url_signing_key = Some(clientele::config::Secret::new("a-test-signing-key-of-32-bytes-at-least"));
        }
    })
    .await;
    (app, s3)
}

/// Generates, for each scenario, its runs on SQLite and PostgreSQL with blobs on the local
/// filesystem and on S3: one scenario list, two storage backends.
macro_rules! storage_scenarios {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::{Store, files_app};
            use crate::common::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_fs() {
                let (app, _s3) = files_app(Backend::Sqlite, Store::Fs).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_fs() {
                let (app, _s3) = files_app(Backend::Postgres, Store::Fs).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                let (app, _s3) = files_app(Backend::Sqlite, Store::S3).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                let (app, _s3) = files_app(Backend::Postgres, Store::S3).await;
                super::$name(app).await;
            }
        }
    )*};
}

storage_scenarios!(
    photos_are_reencoded_without_exif_or_gps_and_thumbnailed,
    a_new_photo_replaces_the_old_one_and_deleting_erases_the_blobs,
    attachments_take_pdf_and_text_but_never_a_renamed_executable,
    uploads_over_the_cap_are_refused_with_413,
    decompression_bombs_are_refused,
    download_links_expire_and_are_bound_to_their_tenant_and_file,
    trash_keeps_files_and_purge_and_anonymisation_erase_them,
    the_gdpr_export_holds_the_files_themselves,
    suppliers_attach_files_their_customers_read,
    foreign_ids_are_not_found_and_change_nothing,
    the_sweep_job_deletes_what_a_crash_left_behind,
    archiving_copies_the_photo_into_the_gallery,
    graphql_multipart_uploads_pass_the_same_checks,
);

// ---------------------------------------------------------------- helpers

/// A JPEG with an EXIF block holding GPS-like text, as a phone would send.
fn jpeg_with_exif() -> Vec<u8> {
    let img = RgbImage::from_fn(64, 48, |x, y| Rgb([u8::try_from(x * 4).unwrap(), u8::try_from(y * 5).unwrap(), 128]));
    let mut plain = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut plain, ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    // APP1 "Exif": a valid big-endian TIFF header with an empty IFD, then the GPS text.
    let mut payload = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    payload.extend_from_slice(b"GPSLatitude 48.858370 N GPSLongitude 2.294481 E CLIENTELE-GPS-MARK");
    let len = u16::try_from(payload.len() + 2).unwrap();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(w, h).write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A small JPEG whose header claims 60000 × 60000 pixels.
fn jpeg_bomb() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(16, 16).write_to(&mut out, ImageFormat::Jpeg).unwrap();
    let mut bytes = out.into_inner();
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // FF C0, length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    bytes
}

/// `POST /files` with `fields` and one file part.
pub async fn upload(app: &TestApp, token: &str, fields: &[(&str, &str)], name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    // The declared type is a lie on purpose: the server must not believe it.
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/jpeg").unwrap();
    let res = app
        .http
        .post(format!("{}/files", app.url))
        .bearer_auth(token)
        .multipart(form.part("file", part))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn stored(app: &TestApp, token: &str, fields: &[(&str, &str)], name: &str, bytes: Vec<u8>) -> Value {
    let (status, body) = upload(app, token, fields, name, bytes).await;
    assert_eq!(status, 201, "{body}");
    body["file"].clone()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn get(app: &TestApp, url: &str) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let res = app.http.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.bytes().await.unwrap().to_vec(), headers)
}

/// The blob keys of a file, by the layout `t/<tenant>/<entity>/<owner>/<file>[.thumb]`.
fn keys(tenant: &str, entity: &str, owner: &str, file: &Value) -> Vec<String> {
    let base = format!("t/{tenant}/{entity}/{owner}/{}", id(file));
    if file["thumbnailUrl"].is_string() { vec![base.clone(), format!("{base}.thumb")] } else { vec![base] }
}

async fn blob_exists(app: &TestApp, key: &str) -> bool {
    let tenant: TenantId = key.split('/').nth(1).unwrap().parse().unwrap();
    app.state.handles.blobs.exists(&BlobKey::parse(tenant, key).unwrap()).await.unwrap()
}

async fn all_exist(app: &TestApp, keys: &[String]) -> Vec<bool> {
    let mut out = Vec::new();
    for k in keys {
        out.push(blob_exists(app, k).await);
    }
    out
}

const CLIENT_FILES: &str = "query($id: ID!) { client(id: $id) { photo { id kind fileName contentType size sha256 width height url thumbnailUrl } attachments { id kind fileName contentType size url thumbnailUrl } } }";

async fn client_files(app: &TestApp, t: &Tenant, client: &Value) -> Value {
    let body = app.gql_ok(Some(&t.token), CLIENT_FILES, json!({ "id": client["id"] })).await;
    body["data"]["client"].clone()
}

const DELETE: &str =
    "mutation($id: ID!, $c: ID) { deleteFile(input: {id: $id, customerId: $c}) { deletedId userErrors { code } } }";

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.rows("audit_log").await.into_iter().filter(|r| r.contains("file.")).collect()
}

// ---------------------------------------------------------------- scenarios

// FIL-01 FIL-05 FIL-07
async fn photos_are_reencoded_without_exif_or_gps_and_thumbnailed(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let original = jpeg_with_exif();
    assert!(contains(&original, b"Exif") && contains(&original, b"CLIENTELE-GPS-MARK"));
    let photo =
        stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "C:\\fakepath\\IMG_0001.JPG", original).await;
    assert_eq!((photo["kind"].as_str(), photo["contentType"].as_str()), (Some("PHOTO"), Some("image/jpeg")));
    assert_eq!(
        (photo["fileName"].as_str(), photo["width"].as_i64(), photo["height"].as_i64()),
        (Some("IMG_0001.JPG"), Some(64), Some(48))
    );

    let files = client_files(&app, &t, &c).await;
    assert_eq!(files["photo"]["id"], photo["id"]);
    assert_eq!(files["attachments"], json!([]));
    let (status, bytes, headers) = get(&app, files["photo"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(!contains(&bytes, b"Exif"), "EXIF survived the re-encoding");
    assert!(!contains(&bytes, b"CLIENTELE-GPS-MARK") && !contains(&bytes, b"GPSLatitude"), "GPS survived");
    assert_eq!(i64::try_from(bytes.len()).unwrap(), files["photo"]["size"].as_i64().unwrap());
    assert_eq!(format!("{:x}", Sha256::digest(&bytes)), files["photo"]["sha256"].as_str().unwrap());
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));

    let (status, thumb, _) = get(&app, files["photo"]["thumbnailUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert!(thumb.width() <= 256 && thumb.height() <= 256);
    // Keys are generated and prefixed by the tenant.
    let keys = keys(&t.id, "client", id(&c), &photo);
    assert_eq!(all_exist(&app, &keys).await, [true, true]);
    assert!(!keys[0].contains("IMG_0001"));
    assert_eq!(audit_actions(&app).await.len(), 1);
}

// FIL-01
async fn a_new_photo_replaces_the_old_one_and_deleting_erases_the_blobs(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let first = stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "a.png", png(40, 30)).await;
    let first_keys = keys(&t.id, "client", id(&c), &first);
    assert_eq!(first["contentType"], "image/png");
    let second = stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "b.jpg", jpeg_with_exif()).await;
    assert_eq!(client_files(&app, &t, &c).await["photo"]["id"], second["id"]);
    assert_eq!(all_exist(&app, &first_keys).await, [false, false], "the replaced photo's blobs are gone");
    assert_eq!(app.count("files").await, 1);

    let second_keys = keys(&t.id, "client", id(&c), &second);
    let body = app.gql_ok(Some(&t.token), DELETE, json!({ "id": second["id"] })).await;
    assert_eq!(body["data"]["deleteFile"]["deletedId"], second["id"], "{body}");
    assert_eq!(client_files(&app, &t, &c).await["photo"], Value::Null);
    assert_eq!(all_exist(&app, &second_keys).await, [false, false]);
    assert_eq!((app.count("files").await, app.count("blob_tombstones").await), (0, 0));
    let audit = audit_actions(&app).await;
    assert_eq!(audit.iter().filter(|r| r.contains("file.upload")).count(), 2);
    assert_eq!(audit.iter().filter(|r| r.contains("file.delete")).count(), 1);
}

// FIL-07
async fn attachments_take_pdf_and_text_but_never_a_renamed_executable(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let pdf =
        stored(&app, &t.token, &[("client", id(&c))], "quote.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n".to_vec()).await;
    assert_eq!((pdf["kind"].as_str(), pdf["contentType"].as_str()), (Some("ATTACHMENT"), Some("application/pdf")));
    assert_eq!(pdf["thumbnailUrl"], Value::Null);
    let csv =
        stored(&app, &t.token, &[("client", id(&c)), ("kind", "attachment")], "list.csv", b"a;b\n1;2\n".to_vec()).await;
    assert_eq!(csv["contentType"], "text/csv; charset=utf-8");
    let (status, body, headers) = get(&app, pdf["url"].as_str().unwrap()).await;
    assert_eq!((status, body.starts_with(b"%PDF-")), (200, true));
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename*=UTF-8''quote.pdf"));

    let before = app.snapshot().await;
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00PE\0\0".to_vec();
    let (status, body) =
        upload(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "holiday.jpg", exe.clone()).await;
    assert_eq!((status, code(&body)), (415, "UNSUPPORTED_FILE_TYPE"));
    let (status, body) = upload(&app, &t.token, &[("client", id(&c))], "holiday.jpg", exe).await;
    assert_eq!((status, code(&body)), (415, "UNSUPPORTED_FILE_TYPE"));
    let (status, body) =
        upload(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "scan.pdf", b"%PDF-1.4\n".to_vec()).await;
    assert_eq!((status, code(&body)), (415, "UNSUPPORTED_FILE_TYPE"), "a photo is an image");
    let (status, body) = upload(&app, &t.token, &[("client", id(&c)), ("kind", "poster")], "a.png", png(2, 2)).await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"));
    assert_eq!(app.snapshot().await, before, "refused uploads leave nothing behind");
    let files = client_files(&app, &t, &c).await;
    assert_eq!(files["attachments"].as_array().unwrap().len(), 2);
}

// FIL-07
async fn uploads_over_the_cap_are_refused_with_413(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let (status, body) = upload(&app, &t.token, &[("client", id(&c))], "big.txt", vec![b'a'; CAP + 1]).await;
    assert_eq!((status, code(&body)), (413, "PAYLOAD_TOO_LARGE"));
    let (status, body) = upload(&app, &t.token, &[("client", id(&c))], "huge.txt", vec![b'a'; 5 << 20]).await;
    assert_eq!((status, code(&body)), (413, "PAYLOAD_TOO_LARGE"));
    let ok = stored(&app, &t.token, &[("client", id(&c))], "fits.txt", vec![b'a'; CAP]).await;
    assert_eq!(ok["size"].as_u64(), Some(CAP as u64));
    assert_eq!(app.count("files").await, 1);
    // Unauthenticated uploads never reach the body.
    let res = app.http.post(format!("{}/files", app.url)).body("x").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

// FIL-07
async fn decompression_bombs_are_refused(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let bomb = jpeg_bomb();
    assert!(bomb.len() < 2048, "a small file claiming 3.6 gigapixels");
    let (status, body) = upload(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "bomb.jpg", bomb).await;
    assert_eq!((status, code(&body)), (422, "IMAGE_TOO_LARGE"));
    assert_eq!((app.count("files").await, app.count("blob_tombstones").await), (0, 0));
}

// FIL-07
async fn download_links_expire_and_are_bound_to_their_tenant_and_file(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let other = app.supplier("Other", "owner@other.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let f = stored(&app, &t.token, &[("client", id(&c))], "notes.txt", b"secret notes".to_vec()).await;
    let g = stored(&app, &t.token, &[("client", id(&c))], "other.txt", b"other notes".to_vec()).await;
    let url = f["url"].as_str().unwrap().to_owned();
    let exp: i64 = url.split("exp=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    assert!(exp - app.state.handles.now().timestamp() <= 300, "links live at most 300 s");
    assert_eq!(get(&app, &url).await.1, b"secret notes");

    let refused = |u: String| {
        let http = app.http.clone();
        async move {
            let res = http.get(&u).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"].clone())
        }
    };
    let tampered = url.replace("sig=", "sig=A");
    assert_eq!(refused(tampered).await, (403, json!("LINK_INVALID")));
    let foreign = url.replace(&format!("t={}", t.id), &format!("t={}", other.id));
    assert_eq!(refused(foreign).await, (403, json!("LINK_INVALID")), "another tenant in the link");
    let swapped = url.replace(id(&f), id(&g));
    assert_eq!(refused(swapped).await, (403, json!("LINK_INVALID")), "another file under the same signature");
    let longer = url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600));
    assert_eq!(refused(longer).await, (403, json!("LINK_INVALID")));
    let thumb = url.replace("v=original", "v=thumbnail");
    assert_eq!(refused(thumb).await, (403, json!("LINK_INVALID")));

    app.clock.advance(Duration::seconds(301));
    assert_eq!(refused(url).await, (403, json!("LINK_INVALID")), "expired");
    // A fresh link works again.
    let fresh = client_files(&app, &t, &c).await["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, &fresh).await.0, 200);
}

// FIL-07 LIF-05 GDP-03
async fn trash_keeps_files_and_purge_and_anonymisation_erase_them(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let gone = person(&app, &t, "Gone", "Soon").await;
    let photo = stored(&app, &t.token, &[("client", id(&gone)), ("kind", "photo")], "p.png", png(20, 20)).await;
    let doc = stored(&app, &t.token, &[("client", id(&gone))], "id.pdf", b"%PDF-1.7\n".to_vec()).await;
    let mut gone_keys = keys(&t.id, "client", id(&gone), &photo);
    gone_keys.extend(keys(&t.id, "client", id(&gone), &doc));
    let trash = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code } } }";
    app.gql_ok(Some(&t.token), trash, json!({ "id": gone["id"] })).await;
    assert_eq!(all_exist(&app, &gone_keys).await, [true; 3], "the trash keeps files: a restore brings them back");
    let (status, body) = upload(&app, &t.token, &[("client", id(&gone))], "late.txt", b"x".to_vec()).await;
    assert_eq!((status, code(&body)), (409, "CLIENT_UNAVAILABLE"));
    let purge = "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }";
    let body = app.gql_ok(Some(&t.token), purge, json!({ "id": gone["id"] })).await;
    assert_eq!(body["data"]["purgeClient"]["deletedId"], gone["id"], "{body}");
    assert_eq!(all_exist(&app, &gone_keys).await, [false; 3]);

    let anon = person(&app, &t, "Forget", "Me").await;
    let photo = stored(&app, &t.token, &[("client", id(&anon)), ("kind", "photo")], "p.jpg", jpeg_with_exif()).await;
    let anon_keys = keys(&t.id, "client", id(&anon), &photo);
    let anonymise = "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { anonymisedAt } userErrors { code } } }";
    let body = app.gql_ok(Some(&t.token), anonymise, json!({ "id": anon["id"] })).await;
    assert!(body["data"]["anonymiseClient"]["client"]["anonymisedAt"].is_string(), "{body}");
    assert_eq!(all_exist(&app, &anon_keys).await, [false, false], "a photo is personal data");
    assert_eq!(client_files(&app, &t, &anon).await, json!({ "photo": null, "attachments": [] }));
    assert_eq!((app.count("files").await, app.count("blob_tombstones").await), (0, 0));
}

// GDP-06 FIL-07
async fn the_gdpr_export_holds_the_files_themselves(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let photo = stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "me.png", png(10, 10)).await;
    stored(&app, &t.token, &[("client", id(&c))], "note.txt", b"hello".to_vec()).await;
    let body =
        app.gql_ok(Some(&t.token), "query($id: ID!) { exportClientData(id: $id) }", json!({ "id": c["id"] })).await;
    let files = body["data"]["exportClientData"]["files"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["id"], photo["id"]);
    assert_eq!((files[0]["kind"].as_str(), files[1]["file_name"].as_str()), (Some("photo"), Some("note.txt")));
    let text = base64::engine::general_purpose::STANDARD.decode(files[1]["content_base64"].as_str().unwrap()).unwrap();
    assert_eq!(text, b"hello");
    let image = base64::engine::general_purpose::STANDARD.decode(files[0]["content_base64"].as_str().unwrap()).unwrap();
    assert_eq!(format!("{:x}", Sha256::digest(&image)), files[0]["sha256"].as_str().unwrap());
}

const ORG_FILES: &str =
    "query($id: ID!) { customerOrganisation(id: $id) { attachments { id fileName contentType url } } }";

// FIL-06
async fn suppliers_attach_files_their_customers_read(app: TestApp) {
    let s = app.supplier("Vendor", "owner@vendor.test").await;
    let org = customer(&app, &s, "Salon", "ada@salon.test", 3).await;
    let org_id = org["id"].as_str().unwrap();
    let file = stored(&app, &s.token, &[("customer", org_id)], "contract.pdf", b"%PDF-1.7\ncontract".to_vec()).await;
    let file_keys = keys(org_id, "organisation", org_id, &file);
    assert_eq!(all_exist(&app, &file_keys).await, [true], "stored under the customer's prefix");
    let (status, body) = upload(&app, &s.token, &[("customer", org_id), ("kind", "photo")], "p.png", png(2, 2)).await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "organisations have attachments only");
    let input = json!({ "customerId": org_id, "kind": "PHOTO", "file": null });
    let (_, body) = gql_upload(&app, &s.token, input, "p.png", png(2, 2)).await;
    assert_eq!(body["data"]["uploadFile"]["userErrors"], json!([{ "field": ["input", "kind"], "code": "VALIDATION" }]));

    let listed = app.gql_ok(Some(&s.token), ORG_FILES, json!({ "id": org_id })).await;
    assert_eq!(listed["data"]["customerOrganisation"]["attachments"][0]["id"], file["id"], "{listed}");

    let admin = customer_admin(&app, &org).await;
    let own = app.gql_ok(Some(&admin.token), "{ organisationFiles { id fileName url } }", json!({})).await;
    let own = own["data"]["organisationFiles"].as_array().unwrap_or_else(|| panic!("{own}")).clone();
    assert_eq!((own.len(), own[0]["fileName"].as_str()), (1, Some("contract.pdf")));
    assert_eq!(get(&app, own[0]["url"].as_str().unwrap()).await.1, b"%PDF-1.7\ncontract");
    // The customer reads its files; only its supplier changes them.
    let body = app.gql(Some(&admin.token), DELETE, json!({ "id": file["id"] })).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let (status, body) = upload(&app, &admin.token, &[("customer", org_id)], "mine.txt", b"x".to_vec()).await;
    assert_eq!((status, code(&body)), (403, "FORBIDDEN"));

    let body = app.gql_ok(Some(&s.token), DELETE, json!({ "id": file["id"], "c": org_id })).await;
    assert_eq!(body["data"]["deleteFile"]["deletedId"], file["id"], "{body}");
    assert_eq!(all_exist(&app, &file_keys).await, [false]);
    let audit = app.rows("audit_log").await;
    let deleted = audit.iter().find(|r| r.contains("file.delete")).unwrap();
    assert!(crate::common::mentions_id(deleted, &s.admin_id), "the supplier user is recorded: {deleted}");
}

// FIL-06 FIL-07
async fn foreign_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Acme", "owner@acme.test").await;
    let b = app.supplier("Other", "owner@other.test").await;
    let c = person(&app, &a, "Dupont", "Anne").await;
    let f = stored(&app, &a.token, &[("client", id(&c)), ("kind", "photo")], "p.png", png(8, 8)).await;
    let org = customer(&app, &a, "Salon", "ada@salon.test", 3).await;
    let org_id = org["id"].as_str().unwrap();
    let of = stored(&app, &a.token, &[("customer", org_id)], "c.txt", b"contract".to_vec()).await;
    let before = app.snapshot().await;

    let (status, body) = upload(&app, &b.token, &[("client", id(&c))], "x.txt", b"x".to_vec()).await;
    assert_eq!((status, code(&body)), (404, "NOT_FOUND"));
    let (status, body) = upload(&app, &b.token, &[("customer", org_id)], "x.txt", b"x".to_vec()).await;
    assert_eq!((status, code(&body)), (404, "NOT_FOUND"));
    assert_eq!(code(&app.gql(Some(&b.token), DELETE, json!({ "id": f["id"] })).await), "NOT_FOUND");
    assert_eq!(code(&app.gql(Some(&b.token), DELETE, json!({ "id": of["id"], "c": org_id })).await), "NOT_FOUND");
    assert_eq!(code(&app.gql(Some(&b.token), DELETE, json!({ "id": of["id"] })).await), "NOT_FOUND");
    assert_eq!(code(&app.gql(Some(&b.token), ORG_FILES, json!({ "id": org_id })).await), "NOT_FOUND");
    let body = app.gql(Some(&b.token), CLIENT_FILES, json!({ "id": c["id"] })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(code(&app.gql(Some(&b.token), ARCHIVE, json!({ "c": c["id"] })).await), "NOT_FOUND");
    let own = app.gql_ok(Some(&b.token), "{ organisationFiles { id } }", json!({})).await;
    assert_eq!(own["data"]["organisationFiles"], json!([]));
    // Read-only callers upload and delete nothing.
    let ro = app
        .gql_ok(
            Some(&a.token),
            "mutation { createApiToken(input: {name: \"ro\", scope: READ}) { token userErrors { code } } }",
            json!({}),
        )
        .await["data"]["createApiToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = upload(&app, &ro, &[("client", id(&c))], "x.txt", b"x".to_vec()).await;
    assert_eq!((status, code(&body)), (403, "FORBIDDEN"));
    assert_eq!(code(&app.gql(Some(&ro), DELETE, json!({ "id": f["id"] })).await), "FORBIDDEN");
    let after = app.snapshot().await;
    // Creating the read-only token wrote its own rows; file tables are unchanged.
    let tables = clientele_migrations::TENANT_TABLES;
    for (i, table) in tables.iter().enumerate() {
        if ["files", "blob_tombstones", "clients"].contains(table) {
            assert_eq!(before[i], after[i], "{table} changed");
        }
    }
    assert_eq!(get(&app, f["url"].as_str().unwrap()).await.0, 200, "A's photo is still there");
}

// FIL-07
async fn the_sweep_job_deletes_what_a_crash_left_behind(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let tenant: TenantId = t.id.parse().unwrap();
    // An upload that died between writing its blob and inserting its row: the blob and the
    // claim its first transaction committed, due 15 minutes later.
    let key = BlobKey::new(tenant, "client", uuid::Uuid::from_u128(7), "orphan");
    app.state.handles.blobs.put(&key, b"half an upload".to_vec()).await.unwrap();
    let now = app.state.handles.now();
    tombstone::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(clientele_kernel::TombstoneId(app.state.handles.new_id())),
        blob_key: Set(key.as_str().to_owned()),
        not_before: Set(now + Duration::minutes(15)),
        created_at: Set(now),
    }
    .insert(&app.admin_db)
    .await
    .unwrap();
    // An upload still under way keeps its blob.
    assert_eq!(clientele::jobs::sweep_forgotten_blobs(&app.state).await.unwrap(), 0);
    assert!(blob_exists(&app, key.as_str()).await);
    app.clock.advance(Duration::minutes(16));
    assert_eq!(clientele::jobs::sweep_forgotten_blobs(&app.state).await.unwrap(), 1);
    assert!(!blob_exists(&app, key.as_str()).await);
    assert_eq!(app.count("blob_tombstones").await, 0);
    // Sweeping again finds nothing and fails on nothing.
    assert_eq!(clientele::jobs::sweep_forgotten_blobs(&app.state).await.unwrap(), 0);
}

const ARCHIVE: &str = "mutation($c: ID!) { archiveClientPhoto(input: {clientId: $c}) { file { id kind fileName sha256 url thumbnailUrl } userErrors { field code } } }";

// FIL-03 FIL-04
async fn archiving_copies_the_photo_into_the_gallery(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let none = app.gql(Some(&t.token), ARCHIVE, json!({ "c": c["id"] })).await;
    assert_eq!(
        none["data"]["archiveClientPhoto"]["userErrors"],
        json!([{ "field": ["input", "clientId"], "code": "VALIDATION" }])
    );
    let photo = stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "first.jpg", jpeg_with_exif()).await;
    let body = app.gql_ok(Some(&t.token), ARCHIVE, json!({ "c": c["id"] })).await;
    let copy = body["data"]["archiveClientPhoto"]["file"].clone();
    assert_eq!((copy["kind"].as_str(), copy["fileName"].as_str()), (Some("ARCHIVED"), Some("first.jpg")), "{body}");
    assert_eq!(copy["sha256"], photo["sha256"]);
    assert_ne!(copy["id"], photo["id"]);
    // A new photo replaces the current one; the archived copy keeps its own blobs (FIL-04: modify).
    stored(&app, &t.token, &[("client", id(&c)), ("kind", "photo")], "second.png", png(30, 30)).await;
    let files = app
        .gql_ok(
            Some(&t.token),
            "query($id: ID!) { client(id: $id) { photo { fileName } gallery { id thumbnailUrl } } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(files["data"]["client"]["photo"]["fileName"], "second.png");
    assert_eq!(files["data"]["client"]["gallery"][0]["id"], copy["id"]);
    let (status, preview, _) = get(&app, files["data"]["client"]["gallery"][0]["thumbnailUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&preview).is_ok());
    assert_eq!(all_exist(&app, &keys(&t.id, "client", id(&c), &copy)).await, [true, true]);
    assert_eq!(all_exist(&app, &keys(&t.id, "client", id(&c), &photo)).await, [false, false]);
    assert!(audit_actions(&app).await.iter().any(|r| r.contains("file.archive")));

    // FIL-04: modify the photo: crop, then rotate; the edited one replaces it.
    let edit = "mutation($c: ID!, $crop: PhotoCropInput, $r: Int) { editClientPhoto(input: {clientId: $c, crop: $crop, rotate: $r}) { file { id kind fileName contentType width height url } userErrors { field code message } } }";
    let crop = json!({ "x": 5, "y": 0, "width": 20, "height": 10 });
    let edited = app.gql_ok(Some(&t.token), edit, json!({ "c": c["id"], "crop": crop, "r": 90 })).await;
    let edited = &edited["data"]["editClientPhoto"]["file"];
    assert_eq!(
        (edited["kind"].clone(), edited["fileName"].clone(), edited["width"].clone(), edited["height"].clone()),
        (json!("PHOTO"), json!("second.png"), json!(10), json!(20)),
        "{edited}"
    );
    let (status, bytes, _) = get(&app, edited["url"].as_str().unwrap()).await;
    let shown = image::load_from_memory(&bytes).unwrap();
    assert_eq!((status, shown.width(), shown.height()), (200, 10, 20));
    let files = app
        .gql_ok(Some(&t.token), "query($id: ID!) { client(id: $id) { photo { id } } }", json!({ "id": c["id"] }))
        .await;
    assert_eq!(files["data"]["client"]["photo"]["id"], edited["id"], "the edited photo is the client's");
    let outside = json!({ "x": 0, "y": 0, "width": 50, "height": 50 });
    let refused = app.gql(Some(&t.token), edit, json!({ "c": c["id"], "crop": outside })).await;
    assert_eq!(refused["data"]["editClientPhoto"]["userErrors"][0]["field"], json!(["input", "crop"]), "{refused}");
    let skew = app.gql(Some(&t.token), edit, json!({ "c": c["id"], "r": 45 })).await;
    assert_eq!(skew["data"]["editClientPhoto"]["userErrors"][0]["field"], json!(["input", "rotate"]), "{skew}");
    assert!(audit_actions(&app).await.iter().any(|r| r.contains("file.edit")));
}

const UPLOAD_FILE: &str = "mutation($i: UploadFileInput!) { uploadFile(input: $i) { \
    file { id kind fileName contentType url thumbnailUrl } userErrors { field code } } }";

/// A GraphQL multipart request (the spec of jaydenseric/graphql-multipart-request-spec).
async fn gql_upload(app: &TestApp, token: &str, input: Value, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let operations = json!({ "query": UPLOAD_FILE, "variables": { "i": input } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{ "0": ["variables.i.file"] }"#)
        .part("0", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/png").unwrap());
    let res = app.http.post(format!("{}/graphql", app.url)).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

// FIL-01 FIL-07
async fn graphql_multipart_uploads_pass_the_same_checks(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let other = app.supplier("Other", "owner@other.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let photo = json!({ "clientId": c["id"], "kind": "PHOTO", "file": null });
    let (status, body) = gql_upload(&app, &t.token, photo.clone(), "me.jpg", jpeg_with_exif()).await;
    let file = body["data"]["uploadFile"]["file"].clone();
    assert_eq!(
        (status, file["kind"].as_str(), file["contentType"].as_str()),
        (200, Some("PHOTO"), Some("image/jpeg")),
        "{body}"
    );
    let (_, bytes, _) = get(&app, file["url"].as_str().unwrap()).await;
    assert!(!contains(&bytes, b"Exif") && !contains(&bytes, b"CLIENTELE-GPS-MARK"));
    assert_eq!(client_files(&app, &t, &c).await["photo"]["id"], file["id"]);

    let exe = b"MZ\x90\x00\x03\x00\x00\x00PE\0\0".to_vec();
    let (_, body) = gql_upload(&app, &t.token, photo.clone(), "me.jpg", exe).await;
    assert_eq!(code(&body), "UNSUPPORTED_FILE_TYPE");
    let (_, body) = gql_upload(&app, &t.token, photo.clone(), "bomb.jpg", jpeg_bomb()).await;
    assert_eq!(code(&body), "IMAGE_TOO_LARGE");
    let attachment = json!({ "clientId": c["id"], "file": null });
    // Over the file cap: refused by the file service (the body may be as large as a plugin
    // component, `uploadPlugin`); over the body cap: refused before it is read.
    let (_, body) = gql_upload(&app, &t.token, attachment.clone(), "big.txt", vec![b'a'; CAP + 1]).await;
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
    let body_cap = clientele_plugins::runtime::MAX_COMPONENT.max(CAP) + (1 << 20);
    let (status, body) = gql_upload(&app, &t.token, attachment.clone(), "big.txt", vec![b'a'; body_cap + 1]).await;
    assert_eq!((status, code(&body)), (413, "PAYLOAD_TOO_LARGE"));
    let (_, body) = gql_upload(&app, &t.token, json!({ "file": null }), "a.txt", b"a".to_vec()).await;
    assert_eq!(
        body["data"]["uploadFile"]["userErrors"],
        json!([{ "field": ["input", "clientId"], "code": "VALIDATION" }])
    );
    let before = app.snapshot().await;
    let (_, body) = gql_upload(&app, &other.token, attachment, "a.txt", b"a".to_vec()).await;
    assert_eq!(code(&body), "NOT_FOUND", "another tenant's client");
    assert_eq!(app.snapshot().await, before);
    assert_eq!(app.count("files").await, 1);
    let form = reqwest::multipart::Form::new().text("operations", "{}").text("map", "{}");
    let res = app.http.post(format!("{}/graphql", app.url)).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401, "anonymous uploads are refused before the body is read");
}
