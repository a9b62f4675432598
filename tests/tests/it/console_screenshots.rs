//! `scripts/screenshots`: a PNG of each main console screen, in French and in English, taken
//! in the same headless Chromium as the browser tests (`common/browser.rs`). Ignored by default:
//! the script runs it with `CLIENTELE_TEST_SCREENSHOTS` naming the folder to write.

use fantoccini::Client;
use serde_json::json;

use crate::common::browser::{Driver, click, until};
use crate::common::{Backend, Tenant, TestApp};
use crate::console_browser::sign_in;
use crate::customers::{customer, customer_admin};
use crate::terms::{accept, publish};

/// Width and height of every screenshot, in CSS pixels.
const SIZE: (u32, u32) = (1100, 900);

async fn gql(app: &TestApp, tenant: &Tenant, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let body = app.gql_ok(Some(&tenant.token), query, variables).await;
    let payload = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or_default();
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload
}

/// A few clients that look like a bakery's, one of them with an alert, an address, a contact
/// and a ledger.
async fn bakery_clients(app: &TestApp, admin: &Tenant) -> String {
    let create =
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field message } } }";
    for input in [
        json!({ "kind": "INDIVIDUAL", "lastName": "Bernard", "firstName": "Chloé", "email": "chloe.bernard@exemple.fr", "mobile": "06 12 34 56 78" }),
        json!({ "kind": "INDIVIDUAL", "lastName": "Bonnet", "firstName": "Hugo", "mobile": "06 98 76 54 32" }),
        json!({ "kind": "INDIVIDUAL", "lastName": "Lefèvre", "firstName": "Inès", "email": "ines.lefevre@exemple.fr" }),
        json!({ "kind": "COMPANY", "companyName": "Café des Arts", "email": "contact@cafedesarts.fr", "mobile": "04 78 00 11 22" }),
    ] {
        gql(app, admin, create, json!({ "i": input })).await;
    }
    let hotel = json!({ "kind": "COMPANY", "companyName": "Hôtel Bellecour", "legalForm": "SARL", "email": "compta@hotel-bellecour.fr",
                        "mobile": "04 72 10 20 30", "alert": "Livraison avant 7 h, porte de service.", "notes": "Pain de mie tranché le lundi." });
    let id = gql(app, admin, create, json!({ "i": hotel })).await["client"]["id"].as_str().unwrap().to_owned();
    let address = json!({ "clientId": id, "kind": "MAIN", "label": "Siège", "street": "12 place Bellecour", "postcode": "69002", "city": "Lyon", "country": "FR", "isDefault": true });
    gql(
        app,
        admin,
        "mutation($i: CreateAddressInput!) { createAddress(input: $i) { address { id } userErrors { field message } } }",
        json!({ "i": address }),
    )
    .await;
    let contact = json!({ "clientId": id, "firstName": "Marc", "lastName": "Giraud", "jobTitle": "Chef de cuisine", "email": "marc.giraud@hotel-bellecour.fr", "phone": "04 72 10 20 31" });
    gql(
        app,
        admin,
        "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } userErrors { field message } } }",
        json!({ "i": contact }),
    )
    .await;
    for (kind, amount, doc) in
        [("INVOICE", "184.20", "F-2026-0141"), ("PAYMENT", "150.00", "VIR-0932"), ("INVOICE", "96.40", "F-2026-0157")]
    {
        gql(
            app,
            admin,
            "mutation($i: PostLedgerEntryInput!) { postLedgerEntry(input: $i) { entry { id } userErrors { field message } } }",
            json!({ "i": { "clientId": id, "kind": kind, "amount": amount, "documentRef": doc } }),
        )
        .await;
    }
    app.state.records.search.apply_all_pending().await.unwrap();
    id
}

/// Switches the page to `lang` with the header's button, if it is in the other language.
async fn in_lang(browser: &Client, lang: &str) {
    let now = browser.execute("return document.documentElement.lang;", vec![]).await.unwrap();
    if now != json!(lang) {
        click(browser, "#switch-language").await;
        until(
            browser,
            lang,
            &format!("return document.documentElement.lang === {} && document.readyState === 'complete';", json!(lang)),
        )
        .await;
    }
}

async fn ready(browser: &Client, css: &str) {
    let script =
        format!("return document.readyState === 'complete' && document.querySelector({}) !== null;", json!(css));
    until(browser, css, &script).await;
}

async fn shot(browser: &Client, dir: &str, screen: &str, lang: &str) {
    // No caret or focus ring caught mid-blink.
    browser.execute("document.activeElement && document.activeElement.blur(); return true;", vec![]).await.unwrap();
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{screen}: a PNG");
    let path = format!("{dir}/console-{screen}-{lang}.png");
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{path}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes PNGs: run by scripts/screenshots"]
async fn every_main_screen_in_both_languages() {
    let dir =
        std::env::var("CLIENTELE_TEST_SCREENSHOTS").expect("CLIENTELE_TEST_SCREENSHOTS names the folder to write");
    let app = TestApp::start(Backend::Sqlite).await;
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let hotel = bakery_clients(&app, &admin).await;
    app.user(&admin, "lucie.moreau@martin.test", "MEMBER").await;
    for (name, description) in [("Fidèles", "Plus de 10 passages"), ("Professionnels", "Hôtels et restaurants")] {
        let q = "mutation($n: String!, $d: String) { createCategory(input: {name: $n, description: $d}) { category { id } userErrors { field message } } }";
        gql(&app, &admin, q, json!({ "n": name, "d": description })).await;
    }
    app.user(&admin, "paul.roux@martin.test", "READ_ONLY").await;
    let q =
        "mutation { createGroup(input: {name: \"Tournée du mardi\"}) { group { id } userErrors { field message } } }";
    gql(&app, &admin, q, json!({})).await;
    for (code, label) in [("COMPTANT", "Comptant"), ("30J", "30 jours fin de mois")] {
        let q = "mutation($c: String!, $l: String!) { createLookup(input: {kind: PAYMENT_TERMS, code: $c, label: $l}) { lookup { id } userErrors { field message } } }";
        gql(&app, &admin, q, json!({ "c": code, "l": label })).await;
    }
    for (key, label, kind) in [("loyaltyCard", "Carte fidélité", "TEXT"), ("shoeSize", "Pointure", "INTEGER")] {
        let q = "mutation($k: String!, $l: String!, $t: CustomFieldKind!) { createCustomField(input: {key: $k, label: $l, kind: $t}) { customField { id } userErrors { field message } } }";
        gql(&app, &admin, q, json!({ "k": key, "l": label, "t": kind })).await;
    }
    let q = "mutation { createApiToken(input: {name: \"Caisse du magasin\", scope: READ_WRITE}) { token userErrors { field message } } }";
    gql(&app, &admin, q, json!({})).await;
    let pets = crate::plugins::uploaded(&app, &acme, "pets").await;
    crate::plugins::enable_with(&app, &acme, &pets, &[&admin], json!({ "shop": "Boulangerie Martin" })).await;
    let q = "mutation($c: ID!) { createPet(input: {clientId: $c, name: \"Ficelle\", species: \"Chien\", sex: FEMALE, birthDate: \"2023-04-12\"}) { pet { id } userErrors { field message } } }";
    gql(&app, &admin, q, json!({ "c": hotel })).await;
    let q = "mutation($i: SaveCatalogueItemInput!) { saveCatalogueItem(input: $i) { item { id } userErrors { field message } } }";
    for (sku, name, category, price) in [
        ("PAIN-01", "Baguette tradition", "Pain", "1.30"),
        ("VIEN-01", "Croissant au beurre", "Viennoiserie", "1.45"),
        ("PAT-01", "Tarte aux pommes", "Pâtisserie", "18.00"),
    ] {
        let item = json!({ "sku": sku, "name": name, "category": category, "unitPrice": price });
        gql(&app, &acme, q, json!({ "i": item })).await;
    }
    let q = "mutation($i: SaveCatalogueViewInput!) { saveCatalogueView(input: $i) { view { id } userErrors { field message } } }";
    let view = json!({ "name": "Boulangerie", "categories": ["Pain", "Viennoiserie"], "supplierDefault": true });
    gql(&app, &acme, q, json!({ "i": view })).await;
    let s = &app.state.services;
    let (_, token) = s.organisations.platform_admin(&s.auth, &s.users, "root@clientele.test").await.unwrap();
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token userErrors { field message } } }";
    let body = app.gql_ok(None, set, json!({ "t": token })).await;
    assert_eq!(body["data"]["setPassword"]["userErrors"], json!([]), "{body}");
    let driver = Driver::start().await;
    for (version, lang) in [(1, "fr"), (2, "en")] {
        // Each version asks again, so the terms screen shows in both languages.
        let body = "Vos données clients restent les vôtres : Clientele ne les partage avec personne.\n\n\
            Chaque utilisateur garde son mot de passe pour lui et ferme sa session sur un poste partagé.";
        if version > 1 {
            // The supplier's own users are asked too, publishing included.
            accept(&app, &acme.token, version - 1).await;
        }
        let terms = publish(&app, &acme, "FR", "Conditions d'utilisation", body, None).await;
        assert_eq!(terms["version"], version, "{terms}");
        let profile = tempfile::tempdir().unwrap();
        let browser = driver.browser_sized(profile.path(), SIZE.0, SIZE.1).await;
        let url = &app.url;
        browser.goto(&format!("{url}/sign-in")).await.unwrap();
        ready(&browser, "#email").await;
        in_lang(&browser, lang).await;
        shot(&browser, &dir, "sign-in", lang).await;
        browser.goto(&format!("{url}/forgot-password")).await.unwrap();
        ready(&browser, "#forgot-form").await;
        shot(&browser, &dir, "forgot-password", lang).await;
        browser.goto(&format!("{url}/set-password?token=clo_example")).await.unwrap();
        ready(&browser, "#set-password-submit").await;
        click(&browser, "#set-password-submit").await;
        ready(&browser, "#f-password-error").await;
        shot(&browser, &dir, "set-password", lang).await;

        sign_in(&browser, url, "ada@martin.test").await;
        ready(&browser, "#approve-terms").await;
        in_lang(&browser, lang).await;
        shot(&browser, &dir, "terms", lang).await;
        click(&browser, "#approve-terms").await;
        ready(&browser, "#client-table").await;
        shot(&browser, &dir, "clients", lang).await;

        browser.goto(&format!("{url}/clients?q=b")).await.unwrap();
        ready(&browser, "#client-table").await;
        shot(&browser, &dir, "search", lang).await;

        browser.goto(&format!("{url}/clients/new?kind=company")).await.unwrap();
        ready(&browser, "#save-client").await;
        click(&browser, "#save-client").await;
        ready(&browser, "#f-company_name-error").await;
        shot(&browser, &dir, "new-company", lang).await;

        for tab in ["details", "addresses", "ledger", "cards", "consent", "files", "record", "pets.pet"] {
            browser.goto(&format!("{url}/clients/{hotel}?tab={tab}")).await.unwrap();
            ready(&browser, "#client-name").await;
            shot(&browser, &dir, &format!("client-{tab}"), lang).await;
        }
        browser.goto(&format!("{url}/users")).await.unwrap();
        ready(&browser, "#user-table").await;
        shot(&browser, &dir, "users", lang).await;
        browser.goto(&format!("{url}/users/tokens")).await.unwrap();
        ready(&browser, "#t-name").await;
        browser.find(fantoccini::Locator::Css("#t-name")).await.unwrap().send_keys("Export comptable").await.unwrap();
        click(&browser, "#create-token").await;
        ready(&browser, "#token-created").await;
        shot(&browser, &dir, "api-tokens", lang).await;
        browser.goto(&format!("{url}/audit")).await.unwrap();
        ready(&browser, "#audit-table").await;
        shot(&browser, &dir, "audit", lang).await;
        browser.goto(&format!("{url}/account/sessions")).await.unwrap();
        ready(&browser, "#session-table").await;
        shot(&browser, &dir, "sessions", lang).await;
        browser.goto(&format!("{url}/settings")).await.unwrap();
        ready(&browser, "#new-field").await;
        shot(&browser, &dir, "settings", lang).await;
        browser.goto(&format!("{url}/settings#custom-fields")).await.unwrap();
        ready(&browser, "#field-table").await;
        shot(&browser, &dir, "settings-fields", lang).await;
        browser.goto(&format!("{url}/settings/lists")).await.unwrap();
        ready(&browser, "#new-staff").await;
        shot(&browser, &dir, "settings-lists", lang).await;
        browser.goto(&format!("{url}/settings/referral")).await.unwrap();
        ready(&browser, "#referral-form").await;
        shot(&browser, &dir, "settings-referral", lang).await;
        browser.goto(&format!("{url}/import")).await.unwrap();
        ready(&browser, "#import-form").await;
        let file = profile.path().join("clients.csv");
        std::fs::write(&file, "Nom;Prénom;Portable;Fidélité\nDurand;Marie;06 12 34 56 78;carte or\nMartin;Paul;;\n")
            .unwrap();
        browser
            .find(fantoccini::Locator::Css("#import-file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        ready(&browser, "#import-mapping").await;
        shot(&browser, &dir, "import", lang).await;
        browser.close().await.unwrap();

        // The supplier's portal (issue 16).
        let profile = tempfile::tempdir().unwrap();
        let browser = driver.browser_sized(profile.path(), SIZE.0, SIZE.1).await;
        sign_in(&browser, url, "owner@acme.test").await;
        ready(&browser, "#nav-organisations").await;
        in_lang(&browser, lang).await;
        browser.goto(&format!("{url}/organisations")).await.unwrap();
        ready(&browser, "#org-table").await;
        shot(&browser, &dir, "organisations", lang).await;
        for tab in ["basic", "catalogue", "licences", "users"] {
            browser.goto(&format!("{url}/organisations/{}?tab={tab}", org["id"].as_str().unwrap())).await.unwrap();
            ready(&browser, &format!("#tab-{tab}[aria-current]")).await;
            shot(&browser, &dir, &format!("organisation-{tab}"), lang).await;
        }
        browser.goto(&format!("{url}/terms-of-use")).await.unwrap();
        ready(&browser, "#terms-table").await;
        shot(&browser, &dir, "terms-of-use", lang).await;
        browser.goto(&format!("{url}/catalogue")).await.unwrap();
        ready(&browser, "#items-table").await;
        shot(&browser, &dir, "catalogue", lang).await;
        browser.goto(&format!("{url}/plugins")).await.unwrap();
        ready(&browser, "#plugins-table").await;
        shot(&browser, &dir, "plugins", lang).await;
        browser.goto(&format!("{url}/plugins/{pets}")).await.unwrap();
        ready(&browser, "#installs-table").await;
        shot(&browser, &dir, "plugin", lang).await;
        browser.close().await.unwrap();

        // The platform's suppliers.
        let profile = tempfile::tempdir().unwrap();
        let browser = driver.browser_sized(profile.path(), SIZE.0, SIZE.1).await;
        sign_in(&browser, url, "root@clientele.test").await;
        ready(&browser, "#supplier-table").await;
        in_lang(&browser, lang).await;
        ready(&browser, "#supplier-table").await;
        shot(&browser, &dir, "suppliers", lang).await;
        browser.close().await.unwrap();
    }
}
