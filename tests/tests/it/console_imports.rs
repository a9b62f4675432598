//! The console's import wizard (issue 15, screen 4) over real HTTP: a CSV with the seeds' French
//! headers uploaded as a dry run shows its per-row errors and writes nothing, a clean file
//! imports with its summary, htmx refreshes the job alone, an upload without the CSRF token
//! and a reader's upload are refused.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(a_dry_run_shows_row_errors_and_a_clean_file_imports);
both_dbs!(the_columns_of_a_file_are_mapped_before_it_imports);

/// The CSRF token the upload form carries in its action.
fn upload_token(page: &str) -> String {
    let at = page.find("action=\"/import?_csrf=").unwrap_or_else(|| panic!("no upload form in {page}"));
    let rest = &page[at + "action=\"/import?_csrf=".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn upload(csv: &str, dry_run: bool) -> Form {
    let file = Part::bytes(csv.as_bytes().to_vec()).file_name("clients.csv").mime_str("text/csv").unwrap();
    let form = Form::new().part("file", file).text("duplicates", "skip");
    if dry_run { form.text("dry_run", "1") } else { form }
}

/// The file and the columns with the field chosen for each (an empty field ignores its column).
fn mapped(csv: &str, mapping: &[(&str, &str)], dry_run: bool) -> Form {
    mapping.iter().fold(upload(csv, dry_run), |form, (column, field)| {
        form.text("column", (*column).to_owned()).text("field", (*field).to_owned())
    })
}

/// Follows the job page until the job is no longer running; returns the page.
async fn finished(http: &reqwest::Client, url: String) -> String {
    for _ in 0..100 {
        let (status, page) = get(http, url.clone()).await;
        assert_eq!(status, 200, "{page}");
        if !page.contains("hx-trigger=\"every 1s\"") {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import at {url} did not finish");
}

// issue 15 (the import wizard: a dry run first, then all rows or none)
async fn a_dry_run_shows_row_errors_and_a_clean_file_imports(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let (_, list) = get(&http, format!("{}/clients", app.url)).await;
    assert!(list.contains("id=\"import-clients\""), "{list}");
    let (status, page) = get(&http, format!("{}/import", app.url)).await;
    assert_eq!(status, 200);
    let token = upload_token(&page);

    // Without the token: refused before anything is read.
    let res = http.post(format!("{}/import", app.url)).multipart(upload("Nom\nDurand\n", false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A dry run of a file with a bad row: the row and its problem, nothing written.
    let bad = "Nom,Prénom,Courriel\nDurand,Marie,marie@exemple.fr\nMartin,Paul,pas-un-courriel\n";
    let url = format!("{}/import?_csrf={token}", app.url);
    let res = http.post(&url).multipart(upload(bad, true)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let job = location(&res).to_owned();
    assert!(job.starts_with("/import/"), "{job}");
    let page = finished(&http, format!("{}{job}", app.url)).await;
    assert!(page.contains("id=\"import-errors\"") && page.contains("<td>3</td>"), "row 3 is wrong: {page}");
    assert_eq!(app.count("clients").await, 0, "a dry run writes nothing");

    // A clean file, for real: every row, the summary; htmx gets the job's state alone.
    let good = "Nom,Prénom,Courriel\nDurand,Marie,marie@exemple.fr\nMartin,Paul,paul@exemple.fr\n";
    let res = http.post(&url).multipart(upload(good, false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let job = location(&res).to_owned();
    let page = finished(&http, format!("{}{job}", app.url)).await;
    assert!(page.contains("id=\"import-summary\"") && !page.contains("id=\"import-errors\""), "{page}");
    assert_eq!(app.count("clients").await, 2);
    let res = http.get(format!("{}{job}", app.url)).header("hx-request", "true").send().await.unwrap();
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("id=\"import-job\"") && !fragment.contains("<html"), "{fragment}");
    let body = app
        .gql_ok(Some(&admin.token), "{ clients { nodes { lastName firstName email } } }", serde_json::json!({}))
        .await;
    assert!(body.to_string().contains("paul@exemple.fr"), "the French headers filled the fields: {body}");

    // A reader may not import.
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (_, page) = get(&rita, format!("{}/import", app.url)).await;
    let url = format!("{}/import?_csrf={}", app.url, upload_token(&page));
    let res = rita.post(&url).multipart(upload(good, false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("clients").await, 2);
}

// issue 15 (the import wizard: columns shown with their guessed fields, changed or ignored)
async fn the_columns_of_a_file_are_mapped_before_it_imports(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let (_, page) = get(&http, format!("{}/import", app.url)).await;
    let token = upload_token(&page);
    let file = "Nom;Prénom;Fidélité;Portable\nDurand;Marie;carte or;06 12 34 56 78\nMartin;Paul;;\n";

    // Started as it is, the column no header names stops it before any row.
    let url = format!("{}/import?_csrf={token}", app.url);
    let res = http.post(&url).multipart(upload(file, false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"import-error\""), "{page}");
    assert_eq!(app.count("import_jobs").await, 0, "refused before a job starts");

    // The columns, with the field each header is taken for and its first values; htmx gets them alone.
    let columns = format!("{}/import/columns?_csrf={token}", app.url);
    let res = http.post(&columns).header("hx-request", "true").multipart(upload(file, false)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("id=\"import-mapping\"") && !fragment.contains("<html"), "{fragment}");
    assert!(fragment.contains("<option value=\"last_name\" selected>"), "Nom is the last name: {fragment}");
    assert!(fragment.contains("<option value=\"mobile\" selected>"), "Portable is the mobile: {fragment}");
    assert_eq!(fragment.matches(" selected>").count(), 3, "Fidélité is taken for nothing: {fragment}");
    assert!(fragment.contains("carte or") && fragment.contains("Durand · Martin"), "{fragment}");
    assert_eq!(app.count("clients").await, 0, "showing the columns writes nothing");
    // Without htmx, the whole page with the columns in its form.
    let res = http.post(&columns).multipart(upload(file, false)).send().await.unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("<html") && page.contains("id=\"import-mapping\""), "{page}");

    // Every column ignored: refused, said.
    let none = [("Nom", ""), ("Prénom", ""), ("Fidélité", ""), ("Portable", "")];
    let res = http.post(&url).header("hx-request", "true").multipart(mapped(file, &none, false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal = res.text().await.unwrap();
    assert!(refusal.contains("id=\"import-error\"") && !refusal.contains("<html"), "{refusal}");
    assert_eq!(app.count("clients").await, 0);

    // Fidélité fed to the notes, Portable ignored: to htmx the job's state below the form.
    let mapping = [("Nom", "last_name"), ("Prénom", "first_name"), ("Fidélité", "notes"), ("Portable", "")];
    let res =
        http.post(&url).header("hx-request", "true").multipart(mapped(file, &mapping, false)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("id=\"import-job\"") && !fragment.contains("<html"), "{fragment}");
    let at = fragment.find("hx-get=\"/import/").map(|at| &fragment[at + "hx-get=\"".len()..]);
    let job = at.and_then(|rest| rest.split('"').next()).map(str::to_owned);
    if let Some(job) = job {
        let page = finished(&http, format!("{}{job}", app.url)).await;
        assert!(!page.contains("id=\"import-errors\""), "{page}");
    }
    for _ in 0..100 {
        if app.count("clients").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = app
        .gql_ok(
            Some(&admin.token),
            "{ clients(orderBy: NAME) { nodes { lastName notes mobile } } }",
            serde_json::json!({}),
        )
        .await;
    let nodes = &body["data"]["clients"]["nodes"];
    assert_eq!(nodes[0]["lastName"], "Durand", "{body}");
    assert_eq!(nodes[0]["notes"], "carte or", "the column went where it was mapped: {body}");
    assert!(nodes[0]["mobile"].is_null(), "the ignored column wrote nothing: {body}");

    // A reader sees no columns either.
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (_, page) = get(&rita, format!("{}/import", app.url)).await;
    let url = format!("{}/import/columns?_csrf={}", app.url, upload_token(&page));
    let res = rita.post(&url).multipart(upload(file, false)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
