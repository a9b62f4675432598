//! The client page's other tabs in the console (issue 15, screen 2) over real HTTP: consent
//! with its history, a photo uploaded and downloaded through its signed link, the GDPR export,
//! merge, trash, restore, purge and anonymisation, each refusal shown on its tab.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{company, csrf, get, location, signed_in};

both_dbs!(a_client_record_is_managed_from_its_tabs);

/// The client's number, as the API shows it.
async fn number(app: &TestApp, token: &str, id: &str) -> i64 {
    let body = app.gql_ok(Some(token), "query($id: ID!) { client(id: $id) { number } }", json!({ "id": id })).await;
    body["data"]["client"]["number"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

// issue 15: GDP-01 (consent and its history), FIL-01 FIL-02 (photo upload, signed download),
// GDP-02 (export), CLI-16 (merge), LIF-03 (trash, restore, purge), GDP-03 (anonymise)
async fn a_client_record_is_managed_from_its_tabs(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let keep = company(&app, &acme, "Boulangerie Martin").await;
    let twin = company(&app, &acme, "Boulangerie Martin SARL").await;
    let http = signed_in(&app, "owner@acme.test").await;
    let page_of = |id: &str, tab: &str| format!("{}/clients/{id}?tab={tab}", app.url);

    // Consent: a decision needs its source; once given it is current and in the history.
    let (status, consent) = get(&http, page_of(&keep, "consent")).await;
    assert_eq!(status, 200);
    assert!(consent.contains("id=\"consent-email\">Not asked<"), "{consent}");
    let token = csrf(&consent);
    let url = format!("{}/clients/{keep}/consent", app.url);
    let form = [("_csrf", token.as_str()), ("channel", "email"), ("status", "granted"), ("source", " ")];
    let res = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"record-error\""), "{page}");
    let form =
        [("_csrf", token.as_str()), ("channel", "email"), ("status", "granted"), ("source", "Formulaire en boutique")];
    let res = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, format!("/clients/{keep}?tab=consent").as_str())
    );
    let (_, consent) = get(&http, page_of(&keep, "consent")).await;
    assert!(consent.contains("id=\"consent-email\">Granted<"), "{consent}");
    assert!(consent.contains("<td>Formulaire en boutique</td>"), "{consent}");

    // A photo: uploaded with its token in the query, listed with a thumbnail, downloaded whole
    // through the signed link; without the token nothing is stored.
    let mut png = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(40, 30).write_to(&mut png, ImageFormat::Png).unwrap();
    let png = png.into_inner();
    let form = || {
        Form::new()
            .text("kind", "photo")
            .part("file", Part::bytes(png.clone()).file_name("vitrine.png").mime_str("image/png").unwrap())
    };
    let res = http.post(format!("{}/clients/{keep}/files", app.url)).multipart(form()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(app.count("files").await, 0);
    let res =
        http.post(format!("{}/clients/{keep}/files?_csrf={token}", app.url)).multipart(form()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let (_, files) = get(&http, page_of(&keep, "files")).await;
    assert!(files.contains(">vitrine.png</a>") && files.contains("<img src=\""), "{files}");
    let list = &files[files.find("id=\"files-list\"").unwrap()..];
    let at = list.find("<a href=\"").unwrap() + "<a href=\"".len();
    let link = list[at..at + list[at..].find('"').unwrap()].replace("&#38;", "&");
    assert!(link.starts_with(&format!("{}/files/", app.url)), "{link}");
    let res = reqwest::get(&link).await.unwrap();
    assert_eq!(res.status(), 200, "{link}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice(), "the original comes back whole");

    // The GDPR export: everything held, as a download.
    let res = http.get(format!("{}/clients/{keep}/export.json", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["format"], "clientele.client-export.v1", "{doc}");

    // Merge: an unknown number is refused on the tab; the twin's number merges it into this
    // client and sends it to the trash.
    let url = format!("{}/clients/{keep}/merge", app.url);
    let res = http.post(&url).form(&[("_csrf", token.as_str()), ("other", "999999")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("No client has this number."));
    let twin_number = number(&app, &acme.token, &twin).await.to_string();
    let res = http.post(&url).form(&[("_csrf", token.as_str()), ("other", twin_number.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, twin_page) = get(&http, page_of(&twin, "record")).await;
    assert!(twin_page.contains("id=\"trashed-note\"") && twin_page.contains("id=\"restore\""), "{twin_page}");

    // The twin: restored, trashed again, then purged (the box must be ticked): then it is gone.
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        http.post(format!("{}/clients/{twin}/{path}", app.url)).form(&form).send()
    };
    let with_token = |more: &[(&'static str, &str)]| {
        let mut form = vec![("_csrf", token.clone())];
        form.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
        form
    };
    assert_eq!(post("restore", with_token(&[])).await.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, twin_page) = get(&http, page_of(&twin, "record")).await;
    assert!(!twin_page.contains("id=\"trashed-note\"") && twin_page.contains("id=\"trash\""), "{twin_page}");
    assert_eq!(post("trash", with_token(&[])).await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(post("purge", with_token(&[])).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post("purge", with_token(&[("confirm", "1")])).await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients?trash=only"));
    assert_eq!(get(&http, page_of(&twin, "record")).await.0, StatusCode::NOT_FOUND);

    // Anonymisation: refused unconfirmed, then the page says the data is erased.
    let url = format!("{}/clients/{keep}/anonymise", app.url);
    let res = http.post(&url).form(&[("_csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = http.post(&url).form(&[("_csrf", token.as_str()), ("confirm", "1")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, record) = get(&http, page_of(&keep, "record")).await;
    assert!(record.contains("id=\"anonymised-note\"") && !record.contains("id=\"anonymise\""), "{record}");
    let (_, consent) = get(&http, page_of(&keep, "consent")).await;
    assert!(!consent.contains("Formulaire en boutique"), "the consent's source is erased: {consent}");
}
