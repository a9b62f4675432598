//! A plugin's GraphQL names never clash with the API's, with names GraphQL tools reserve, or
//! with the other plugins of its supplier: the upload refuses such a manifest, one `CONFLICT`
//! per name, each naming the manifest field that makes it (`plugins/testing/name-clash`).

use serde_json::json;

use crate::both_dbs;
use crate::common::TestApp;
use crate::plugins::{upload, uploaded, wasm};

both_dbs!(uploads_refuse_clashing_names_naming_the_manifest_field);

// issue 14
async fn uploads_refuse_clashing_names_naming_the_manifest_field(app: TestApp) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    uploaded(&app, &s, "pets").await;
    let refused = upload(&app, &s.token, &wasm("name_clash")).await;
    assert!(refused["pluginVersion"].is_null(), "{refused}");
    let errors = refused["userErrors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["code"] == "CONFLICT"), "{refused}");
    let said = |field: &str, words: &[&str]| {
        errors.iter().any(|e| {
            let message = e["message"].as_str().unwrap_or_default();
            crate::common::input_field(e) == field && words.iter().all(|w| message.contains(w))
        })
    };
    assert!(said("component.collections.0.name", &["`Subscription`", "reserve"]), "{refused}");
    assert!(said("component.collections.1.name", &["Pet`", "`pets`"]), "the pets plugin's names: {refused}");
    assert!(said("component.actions.0.name", &["`createClient`", "`Mutation`"]), "the API's mutation: {refused}");
    // Nothing was stored: the supplier still has the pets plugin alone.
    let listed = app.gql_ok(Some(&s.token), "{ plugins { name } }", json!({})).await;
    assert_eq!(listed["data"]["plugins"], json!([{ "name": "pets" }]));
}
