//! What plugins add to the console's client page (issue 15, screen 2), over real HTTP with the
//! real pets component: its client collection as a tab generated from the manifest (a table of
//! the client's records, a form built from the field types, delete), each refusal by its field,
//! the host's and the plugin's own checks; nothing of it where the plugin is not enabled, and no
//! controls for a reader. And the supplier's plugins screen (issue 16, screen 6): upload with
//! each refusal shown, enable with a config form from the manifest, upgrade, disable, kill switch.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{company, csrf, get, location, signed_in};
use crate::plugins::{enable, organisations, uploaded, wasm};

both_dbs!(a_plugins_collection_is_a_client_tab, a_supplier_uploads_enables_upgrades_and_kills_a_plugin);

async fn pets_of(app: &TestApp, token: &str) -> serde_json::Value {
    let body =
        app.gql_ok(Some(token), "{ clients(first: 10) { nodes { pets { name sex birthDate } } } }", json!({})).await;
    body["data"]["clients"]["nodes"][0]["pets"].clone()
}

// issue 15 (screen 2: "every plugin enabled for the organisation adds its collections as tabs"),
// PET-01 (a client's pets)
async fn a_plugins_collection_is_a_client_tab(app: TestApp) {
    let (supplier, martin, lea) = organisations(&app).await;
    let pets = uploaded(&app, &supplier, "pets").await;
    enable(&app, &supplier, &pets, &[&martin]).await;
    let client = company(&app, &martin, "Chenil du Lac").await;
    let elsewhere = company(&app, &lea, "Salon Léa").await;
    let ada = signed_in(&app, "ada@martin.test").await;

    let (status, page) = get(&ada, format!("{}/clients/{client}", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"tab-pets-pet\""), "the pets tab is listed: {page}");
    let tab = format!("{}/clients/{client}?tab=pets.pet", app.url);
    let (status, page) = get(&ada, tab.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"plugin-none\"") && page.contains("id=\"plugin-form\""), "{page}");
    // The form follows the manifest's types.
    assert!(page.contains("id=\"plugin-birthDate\" name=\"birthDate\" value=\"\" type=\"date\" required"), "{page}");
    assert!(
        page.contains("<option value=\"FEMALE\">FEMALE</option>") && page.contains("<textarea id=\"plugin-notes\""),
        "{page}"
    );
    let token = csrf(&page);
    let create = format!("{}/clients/{client}/plugins/pets.pet", app.url);

    // The host's check: the required name, said next to it, the rest kept.
    let form = [("_csrf", token.as_str()), ("name", ""), ("species", "Chien"), ("birthDate", "2024-05-01")];
    let res = ada.post(&create).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"plugin-name-error\"") && page.contains("value=\"Chien\""), "{page}");
    // The plugin's own check: a birth date in the future.
    let form = [
        ("_csrf", token.as_str()),
        ("name", "Rex"),
        ("species", "Chien"),
        ("sex", "MALE"),
        ("birthDate", "2099-01-01"),
    ];
    let res = ada.post(&create).header("hx-request", "true").form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("id=\"plugin-birthDate-error\"") && !fragment.contains("<html"), "{fragment}");
    assert_eq!(pets_of(&app, &martin.token).await, json!([]));

    let form = [
        ("_csrf", token.as_str()),
        ("name", "Rex"),
        ("species", "Chien"),
        ("sex", "MALE"),
        ("birthDate", "2024-05-01"),
    ];
    let res = ada.post(&create).form(&form).send().await.unwrap();
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, format!("/clients/{client}?tab=pets.pet").as_str())
    );
    assert_eq!(
        pets_of(&app, &martin.token).await,
        json!([{ "name": "Rex", "sex": "MALE", "birthDate": "2024-05-01" }])
    );
    let (_, page) = get(&ada, tab.clone()).await;
    assert!(page.contains("<td>Rex</td>") && page.contains("<td>01/05/2024</td>"), "shown for French readers: {page}");

    // A reader sees the records, no form, and a forged POST is refused.
    app.user(&martin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (_, page) = get(&rita, tab.clone()).await;
    assert!(
        page.contains("<td>Rex</td>") && !page.contains("id=\"plugin-form\"") && !page.contains("/delete\""),
        "{page}"
    );
    let forged = [
        ("_csrf", csrf(&page)),
        ("name", "Forged".to_owned()),
        ("species", "Chat".to_owned()),
        ("birthDate", "2024-01-01".to_owned()),
    ];
    assert_eq!(rita.post(&create).form(&forged).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // Deleted from its row.
    let (_, page) = get(&ada, tab.clone()).await;
    let prefix = format!("action=\"/clients/{client}/plugins/pets.pet/");
    let at = page.find(&prefix).unwrap_or_else(|| panic!("no delete form in {page}")) + prefix.len();
    let record = page[at..].split('/').next().unwrap().to_owned();
    let res = ada.post(format!("{create}/{record}/delete")).form(&[("_csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(pets_of(&app, &martin.token).await, json!([]));

    // Another organisation's client is not found; where the plugin is not enabled there is no tab.
    let (status, _) = get(&ada, format!("{}/clients/{elsewhere}?tab=pets.pet", app.url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let salon = signed_in(&app, "lea@salon.test").await;
    let (_, page) = get(&salon, format!("{}/clients/{elsewhere}", app.url)).await;
    assert!(page.contains("id=\"tab-details\"") && !page.contains("tab-pets-pet"), "{page}");
    let (status, _) = get(&salon, format!("{}/clients/{elsewhere}?tab=pets.pet", app.url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Uploads a component through the plugins screen's form.
async fn upload(http: &reqwest::Client, app: &TestApp, token: &str, name: &str) -> (StatusCode, String) {
    let part = Part::bytes(wasm(name)).file_name(format!("{name}.wasm")).mime_str("application/wasm").unwrap();
    let res = http
        .post(format!("{}/plugins?_csrf={token}", app.url))
        .multipart(Form::new().part("component", part))
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn post(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = http.post(url).form(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

// issue 16 (screen 6: "upload a component (validation errors shown per import and manifest
// field), versions, enable for chosen organisations with their config (a form generated from
// the plugin's config schema), upgrade, kill switch for all organisations at once,
// per-organisation breaker state"), PET-01
async fn a_supplier_uploads_enables_upgrades_and_kills_a_plugin(app: TestApp) {
    let (supplier, martin, lea) = organisations(&app).await;
    let owner = signed_in(&app, "owner@acme.test").await;
    let (status, page) = get(&owner, format!("{}/plugins", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-plugins\"") && page.contains("id=\"nav-plugins\""), "{page}");
    let token = csrf(&page);

    // Refused components: every forbidden import, every clashing name at its manifest field.
    let (status, page) = upload(&owner, &app, &token, "forbidden_import").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"upload-errors\"") && page.contains("wasi:filesystem"), "{page}");
    let (status, page) = upload(&owner, &app, &token, "name_clash").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for at in ["collections.0.name", "actions.0.name"] {
        assert!(page.contains(&format!("<code>{at}</code>")), "{at} is named: {page}");
    }

    // Accepted: its page, with its version and a config form made of the manifest's fields.
    let (status, page) = upload(&owner, &app, &token, "pets").await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(page.contains("id=\"plugin-notice\"") && page.contains("<td>1.0.0</td>"), "{page}");
    assert!(page.contains("id=\"no-installs\""), "{page}");
    assert!(page.contains("id=\"plugin-shop\" name=\"shop\""), "a text setting: {page}");
    assert!(page.contains("type=\"checkbox\" id=\"plugin-identificationRequired\""), "a yes/no one: {page}");
    let plugin = uploaded_id(&page);
    let base = format!("{}/plugins/{plugin}", app.url);

    // Enabling needs an organisation and a sound config, each said at its field.
    let long = "x".repeat(501);
    let (status, page) =
        post(&owner, &format!("{base}/enable"), &[("_csrf", token.as_str()), ("shop", long.as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"e-organisation-error\""), "{page}");
    let form = [("_csrf", token.as_str()), ("organisation", martin.id.as_str()), ("shop", long.as_str())];
    let (status, page) = post(&owner, &format!("{base}/enable"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"plugin-shop-error\""), "{page}");
    let form = [
        ("_csrf", token.as_str()),
        ("version", "1.0.0"),
        ("organisation", martin.id.as_str()),
        ("shop", "Le Chenil"),
        ("identificationRequired", "1"),
    ];
    let (status, page) = post(&owner, &format!("{base}/enable"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("id=\"install-{}\"", martin.id)) && page.contains("Animalerie Martin"), "{page}");
    let mine = app.gql_ok(Some(&martin.token), "{ installedPlugins { name version config } }", json!({})).await;
    assert_eq!(
        mine["data"]["installedPlugins"],
        json!([{ "name": "pets", "version": "1.0.0", "config": { "shop": "Le Chenil", "identificationRequired": true } }])
    );
    // The plugin reads the setting: this shop records every pet's chip number.
    let client = company(&app, &martin, "Chenil du Lac").await;
    let pet = "mutation($i: CreatePetInput!) { createPet(input: $i) { pet { id } userErrors { field message } } }";
    let input = json!({ "i": { "clientId": client, "name": "Rex", "species": "Chien", "birthDate": "2024-05-01" } });
    let body = app.gql(Some(&martin.token), pet, input).await;
    assert_eq!(body["data"]["createPet"]["userErrors"][0]["field"], json!(["input", "identification"]), "{body}");
    // The customer's console has the plugin's tab at once; the other organisation has none.
    let ada = signed_in(&app, "ada@martin.test").await;
    let (_, page) = get(&ada, format!("{}/clients/{client}", app.url)).await;
    assert!(page.contains("id=\"tab-pets-pet\""), "{page}");
    let (status, _) = get(&ada, format!("{}/plugins", app.url)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a customer has no plugins screen");

    // Upgrade: every organisation running it moves to the new version.
    let (status, page) = upload(&owner, &app, &token, "pets_next").await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let (status, page) =
        post(&owner, &format!("{base}/upgrade"), &[("_csrf", token.as_str()), ("version", "1.1.0")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<td>1.1.0</td>") && page.contains("id=\"plugin-notice\""), "{page}");
    let mine = app.gql_ok(Some(&martin.token), "{ installedPlugins { version } }", json!({})).await;
    assert_eq!(mine["data"]["installedPlugins"], json!([{ "version": "1.1.0" }]));

    // Disabled in one organisation, then the kill switch (only once confirmed) everywhere.
    enable(&app, &supplier, &plugin, &[&lea]).await;
    let form = [("_csrf", token.as_str()), ("organisation", martin.id.as_str())];
    let (status, page) = post(&owner, &format!("{base}/disable"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mine = app.gql_ok(Some(&martin.token), "{ installedPlugins { name } }", json!({})).await;
    assert_eq!(mine["data"]["installedPlugins"], json!([]));
    let (status, page) = post(&owner, &format!("{base}/disable"), &[("_csrf", token.as_str()), ("all", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"kill-confirm-error\""), "{page}");
    let theirs = app.gql_ok(Some(&lea.token), "{ installedPlugins { name } }", json!({})).await;
    assert_eq!(theirs["data"]["installedPlugins"], json!([{ "name": "pets" }]), "not yet");
    let form = [("_csrf", token.as_str()), ("all", "1"), ("confirm", "1")];
    let (status, page) = post(&owner, &format!("{base}/disable"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let theirs = app.gql_ok(Some(&lea.token), "{ installedPlugins { name } }", json!({})).await;
    assert_eq!(theirs["data"]["installedPlugins"], json!([]));
    // Both organisations still show, each marked disabled.
    assert!(page.contains(&format!("id=\"install-{}\"", lea.id)), "{page}");
    assert_eq!(page.matches("<td><mark>").count(), 2, "{page}");
}

/// The plugin id of its page (the address its forms post to).
fn uploaded_id(page: &str) -> String {
    let at = page.find("action=\"/plugins/").unwrap_or_else(|| panic!("no plugin form in {page}"));
    page[at + "action=\"/plugins/".len()..].split(['/', '"']).next().unwrap().to_owned()
}
