//! What plugins add to the console's client page (issue 15, screen 2), over real HTTP with the
//! real pets component: its client collection as a tab generated from the manifest (a table of
//! the client's records, a form built from the field types, delete), each refusal by its field,
//! the host's and the plugin's own checks; nothing of it where the plugin is not enabled, and no
//! controls for a reader.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{company, csrf, get, location, signed_in};
use crate::plugins::{enable, organisations, uploaded};

both_dbs!(a_plugins_collection_is_a_client_tab);

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
