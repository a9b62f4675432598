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
