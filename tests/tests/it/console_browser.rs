//! The web console (issue 15) in a real headless Chromium (`common/browser.rs`): a customer's
//! super-admin approves the terms, searches from one character, creates a company, opens it,
//! posts a ledger entry, switches language, opens the users, sessions, direct-login, settings and import screens
//! (and before sign-in the forgotten-password, set-password and OIDC landing pages), and a
//! supplier inside sees the direct-login banner (and, in its own portal, uploads and enables a
//! plugin whose tab the customer then has), with htmx doing the partial updates; axe-core
//! (the npm devDependency of `assets/package.json`, never embedded) runs on every screen and
//! finds no serious or critical violation.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::common::browser::{Driver, click, until};
use crate::common::{Tenant, TestApp};
use crate::console::company;
use crate::console_direct_login::{GRANT, OPEN};
use crate::customers::{customer, customer_admin};
use crate::plugins::wasm_path;
use crate::smtp_sink::{SmtpSink, link_token};
use crate::terms::{accept, publish};
use crate::{both_dbs, with_smtp};

both_dbs!(a_super_admin_works_through_the_console_in_chromium);
with_smtp!(a_supplier_runs_its_portal_in_chromium);

/// axe-core's browser build, from the npm install `build.rs` made for the embedded assets.
fn axe_source() -> String {
    let path = std::path::Path::new(clientele::ASSETS_NODE_MODULES).join("axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The serious and critical violations axe-core finds on the page as it is now (injected
/// through `WebDriver`, which the page's CSP does not govern), each as one line.
async fn serious_violations(browser: &Client, axe: &str, screen: &str) -> Vec<String> {
    let present = browser.execute("return typeof window.axe === 'object';", vec![]).await.unwrap();
    if present != json!(true) {
        let loaded = browser.execute(&format!("{axe}\n;return typeof window.axe === 'object';"), vec![]).await.unwrap();
        assert_eq!(loaded, json!(true), "axe-core loads on {screen}");
    }
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done({ ran: r.passes.length + r.violations.length + r.incomplete.length,
                            bad: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                              .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' @ '
                                   + v.nodes.map(n => n.target.join(' ')).join(', ')) }))
          .catch(e => done({ ran: 0, bad: ['axe failed: ' + e] }));";
    let result = browser.execute_async(run, vec![]).await.unwrap();
    assert!(result["ran"].as_u64().unwrap_or(0) > 0, "axe checked rules on {screen}: {result}");
    result["bad"].as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// Fails on any serious or critical axe-core violation, naming the screen.
pub async fn no_serious_violations(browser: &Client, axe: &str, screen: &str) {
    let bad = serious_violations(browser, axe, screen).await;
    assert!(bad.is_empty(), "serious or critical axe violations on {screen}: {bad:#?}");
}

/// Types `text` into the field `css`.
async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.send_keys(text).await.unwrap();
}

async fn path(browser: &Client) -> String {
    browser.current_url().await.unwrap().path().to_owned()
}

/// Waits until the page at `path` shows the element `css`.
async fn at(browser: &Client, path: &str, css: &str) {
    let script = format!(
        "return location.pathname === {} && document.readyState === 'complete' && document.querySelector({}) !== null;",
        json!(path),
        json!(css)
    );
    until(browser, &format!("{css} at {path}"), &script).await;
}

/// The text of the element `css` once it contains `wanted`.
async fn text_with(browser: &Client, css: &str, wanted: &str) -> String {
    let script = format!(
        "const e = document.querySelector({}); return e && e.textContent.includes({}) && e.textContent;",
        json!(css),
        json!(wanted)
    );
    let value = until(browser, &format!("{css} containing {wanted:?}"), &script).await;
    value.as_str().unwrap_or_default().to_owned()
}

async fn html_lang(browser: &Client) -> String {
    let value = browser.execute("return document.documentElement.lang;", vec![]).await.unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

/// A supplier and its customer organisation's super-admin, with two clients and terms of use
/// still to approve.
pub async fn customer_with_pending_terms(app: &TestApp) -> (Tenant, Tenant) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(app, &org).await;
    company(app, &admin, "Boulangerie Dupont").await;
    company(app, &admin, "Garage Vidal").await;
    let terms = publish(app, &acme, "FR", "Conditions d'utilisation", "Soyez aimables.", None).await;
    assert_eq!(terms["version"], 1, "{terms}");
    app.state.records.search.apply_all_pending().await.unwrap();
    (acme, admin)
}

/// Signs `email` in through the console's form.
pub async fn sign_in(browser: &Client, url: &str, email: &str) {
    browser.goto(&format!("{url}/sign-in")).await.unwrap();
    at(browser, "/sign-in", "#email").await;
    fill(browser, "#email", email).await;
    fill(browser, "#password", "correct horse battery").await;
    click(browser, "form[action='/sign-in'] button[type=submit]").await;
}

// issue 15: ORG-24 Q-20 (terms screen), SRC-01 SRC-13 (search from one character), CLI-01
// CLI-10 (a new company), CLI-18 (client page tabs), LED-02 (a posted entry and the balance)
async fn a_super_admin_works_through_the_console_in_chromium(app: TestApp) {
    let (acme, admin) = customer_with_pending_terms(&app).await;
    let pets = crate::plugins::uploaded(&app, &acme, "pets").await;
    crate::plugins::enable(&app, &acme, &pets, &[&admin]).await;
    let axe = axe_source();
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    let url = app.url.clone();

    // Signed out, every page leads to the sign-in form.
    browser.goto(&format!("{url}/clients")).await.unwrap();
    at(&browser, "/sign-in", "#email").await;
    // The check itself sees a field without a label (critical), then the page as served.
    let planted =
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=\"planted\">'); return true;";
    browser.execute(planted, vec![]).await.unwrap();
    let bad = serious_violations(&browser, &axe, "the sign-in page with a planted fault").await;
    assert!(bad.iter().any(|v| v.contains("#planted")), "axe reports the unlabelled field: {bad:?}");
    browser.execute("document.getElementById('planted').remove(); return true;", vec![]).await.unwrap();
    no_serious_violations(&browser, &axe, "the sign-in page").await;
    fill(&browser, "#email", "ada@martin.test").await;
    fill(&browser, "#password", "wrong password").await;
    click(&browser, "form[action='/sign-in'] button[type=submit]").await;
    at(&browser, "/sign-in", "#sign-in-error").await;
    no_serious_violations(&browser, &axe, "the sign-in page with its error").await;

    // The account pages before sign-in: a forgotten password, a set-password link, an OIDC landing.
    click(&browser, "#forgot-password").await;
    at(&browser, "/forgot-password", "#f-email").await;
    no_serious_violations(&browser, &axe, "the forgotten-password form").await;
    fill(&browser, "#f-email", "nobody@martin.test").await;
    click(&browser, "#forgot-submit").await;
    at(&browser, "/forgot-password", "#account-message").await;
    no_serious_violations(&browser, &axe, "the forgotten-password answer").await;
    browser.goto(&format!("{url}/set-password?token=clo_not-a-real-link")).await.unwrap();
    at(&browser, "/set-password", "#f-password").await;
    no_serious_violations(&browser, &axe, "the set-password page").await;
    click(&browser, "#set-password-submit").await;
    at(&browser, "/set-password", "#f-password-error").await;
    no_serious_violations(&browser, &axe, "the set-password page with its errors").await;
    // The landing submits itself (console.js); with no finished OIDC sign-in it says so.
    browser.goto(&format!("{url}/sign-in/oidc")).await.unwrap();
    at(&browser, "/oidc/session/console", "#account-message").await;
    no_serious_violations(&browser, &axe, "the OIDC landing's refusal").await;

    // Pending terms come first; approving them opens the clients list.
    sign_in(&browser, &url, "ada@martin.test").await;
    at(&browser, "/terms", "#approve-terms").await;
    text_with(&browser, "main", "Soyez aimables.").await;
    no_serious_violations(&browser, &axe, "the terms screen").await;
    click(&browser, "#approve-terms").await;
    at(&browser, "/clients", "#q").await;
    no_serious_violations(&browser, &axe, "the clients list").await;
    let lang = html_lang(&browser).await;
    assert!(lang == "fr" || lang == "en", "{lang}");

    // One character is enough: htmx swaps the results in as you type, the page stays.
    let before = browser.execute("window.__same_page = true; return true;", vec![]).await.unwrap();
    assert_eq!(before, json!(true));
    fill(&browser, "#q", "b").await;
    until(
        &browser,
        "only the clients matching «b»",
        "const t = document.querySelector('#results').textContent;
         return t.includes('Boulangerie Dupont') && !t.includes('Garage Vidal');",
    )
    .await;
    let same = browser.execute("return window.__same_page === true;", vec![]).await.unwrap();
    assert_eq!(same, json!(true), "the results were swapped in, not a new page");
    assert!(browser.current_url().await.unwrap().query().unwrap_or("").contains("q=b"), "the URL follows the search");
    no_serious_violations(&browser, &axe, "the clients list with search results").await;

    // A new company: the required name is checked next to its field, then it is saved.
    click(&browser, "#new-company").await;
    at(&browser, "/clients/new", "#f-company_name").await;
    no_serious_violations(&browser, &axe, "the new company form").await;
    click(&browser, "#save-client").await;
    at(&browser, "/clients", "#f-company_name-error").await;
    no_serious_violations(&browser, &axe, "the new company form with its errors").await;
    fill(&browser, "#f-company_name", "Boulangerie Martin Fils").await;
    fill(&browser, "#f-email", "fils@martin.test").await;
    click(&browser, "#save-client").await;
    let created = until(
        &browser,
        "the new client's page",
        "return location.pathname.startsWith('/clients/') && location.pathname !== '/clients/new'
           && document.querySelector('#client-name') !== null && location.pathname;",
    )
    .await;
    let href = created.as_str().unwrap().to_owned();
    text_with(&browser, "#client-name", "Boulangerie Martin Fils").await;
    browser.goto(&format!("{url}/clients/new?kind=individual")).await.unwrap();
    at(&browser, "/clients/new", "#f-last_name").await;
    no_serious_violations(&browser, &axe, "the new individual form").await;

    // Open it from the list, found by searching.
    app.state.records.search.apply_all_pending().await.unwrap();
    browser.goto(&format!("{url}/clients")).await.unwrap();
    at(&browser, "/clients", "#q").await;
    fill(&browser, "#q", "Fils").await;
    until(
        &browser,
        "the new client found",
        "const t = document.querySelector('#results').textContent;
         return t.includes('Boulangerie Martin Fils') && !t.includes('Boulangerie Dupont');",
    )
    .await;
    click(&browser, &format!("#results a[href='{href}']")).await;
    at(&browser, &href, "#tab-details").await;
    text_with(&browser, "#tab", "fils@martin.test").await;
    no_serious_violations(&browser, &axe, "the client page (details)").await;
    click(&browser, "#tab-addresses").await;
    until(
        &browser,
        "the addresses tab",
        "return location.search.includes('tab=addresses') && !!document.querySelector('#tab h2');",
    )
    .await;
    no_serious_violations(&browser, &axe, "the client page (addresses and contacts)").await;

    // A ledger entry, posted with a French decimal comma; htmx swaps the tab with it.
    click(&browser, "#tab-ledger").await;
    until(&browser, "the ledger tab", "return !!document.querySelector('#post-entry');").await;
    no_serious_violations(&browser, &axe, "the client page (ledger)").await;
    fill(&browser, "#entry-amount", "12,50").await;
    fill(&browser, "#entry-doc", "F-001").await;
    click(&browser, "#post-entry-submit").await;
    let table = text_with(&browser, "#ledger-table", "F-001").await;
    let balance = browser.find(Locator::Id("balance")).await.unwrap().text().await.unwrap();
    assert!(table.contains("12") && balance.contains("12"), "{table} / {balance}");
    let same = browser.execute("return location.pathname;", vec![]).await.unwrap();
    assert_eq!(same, json!(href), "still on the client page");
    no_serious_violations(&browser, &axe, "the client page (ledger with an entry)").await;
    assert_eq!(app.count("ledger_entries").await, 1);

    // The record's other tabs, and the one the pets plugin adds (its form refused empty: the
    // messages by their fields, swapped in by htmx).
    for tab in ["cards", "consent", "files", "record"] {
        click(&browser, &format!("#tab-{tab}")).await;
        until(&browser, &format!("the {tab} tab"), &format!("return location.search.includes('tab={tab}');")).await;
        until(&browser, &format!("the {tab} tab's content"), "return !!document.querySelector('#tab h2');").await;
        no_serious_violations(&browser, &axe, &format!("the client page ({tab})")).await;
    }
    click(&browser, "#tab-pets-pet").await;
    until(&browser, "the pets tab", "return !!document.querySelector('#plugin-form');").await;
    no_serious_violations(&browser, &axe, "the client page (a plugin's tab)").await;
    click(&browser, "#plugin-save").await;
    until(&browser, "the pet refused", "return !!document.querySelector('#plugin-name-error');").await;
    no_serious_violations(&browser, &axe, "the client page (a plugin's form with its errors)").await;

    // The other language, on the same page.
    let other = if lang == "fr" { "en" } else { "fr" };
    click(&browser, "#switch-language").await;
    until(&browser, "the other language", &format!("return document.documentElement.lang === {};", json!(other))).await;
    assert_eq!(path(&browser).await, href, "the switch comes back to the same page");
    let tab = browser.find(Locator::Id("tab-ledger")).await.unwrap().text().await.unwrap();
    assert_eq!(tab, if other == "fr" { "Compte" } else { "Account" });
    let details = browser.find(Locator::Id("tab-details")).await.unwrap().text().await.unwrap();
    assert_eq!(details, if other == "fr" { "Informations" } else { "Details" });
    no_serious_violations(&browser, &axe, &format!("the client page in {other}")).await;
    browser.goto(&format!("{url}/clients")).await.unwrap();
    at(&browser, "/clients", "#q").await;
    assert_eq!(html_lang(&browser).await, other, "the language holds on the next page");
    no_serious_violations(&browser, &axe, &format!("the clients list in {other}")).await;

    // The users screen, with a super-admin's controls.
    click(&browser, "#nav-users").await;
    at(&browser, "/users", "#invite-user").await;
    text_with(&browser, "#user-table", "ada@martin.test").await;
    no_serious_violations(&browser, &axe, "the users screen").await;

    // The audit trail, with what was just done (issue 16, item 7).
    click(&browser, "#nav-audit").await;
    at(&browser, "/audit", "#audit-filters").await;
    text_with(&browser, "#audit-table", "ada@martin.test").await;
    no_serious_violations(&browser, &axe, "the audit trail").await;

    click(&browser, "#nav-sessions").await;
    at(&browser, "/account/sessions", "#this-session").await;
    no_serious_violations(&browser, &axe, "the sessions screen").await;
    click(&browser, "#nav-users").await;
    at(&browser, "/users", "#invite-user").await;

    click(&browser, "#tokens-link").await;
    at(&browser, "/users/tokens", "#new-token").await;
    fill(&browser, "#t-name", "Caisse").await;
    click(&browser, "#create-token").await;
    text_with(&browser, "#token-created", "Caisse").await;
    no_serious_violations(&browser, &axe, "the API tokens screen with a new token").await;
    click(&browser, "#nav-users").await;
    at(&browser, "/users", "#invite-user").await;

    click(&browser, "#direct-login-link").await;
    at(&browser, "/direct-login", "#direct-login-consent").await;
    no_serious_violations(&browser, &axe, "the direct-login screen").await;

    click(&browser, "#nav-settings").await;
    at(&browser, "/settings", "#new-field").await;
    fill(&browser, "#category-name", "Fidèles").await;
    click(&browser, "#add-category").await;
    text_with(&browser, "#categories", "Fidèles").await;
    fill(&browser, "#group-name", "Tournée du mardi").await;
    click(&browser, "#add-group").await;
    text_with(&browser, "#groups", "Tournée du mardi").await;
    for (key, label) in [("loyaltyCard", "Carte fidélité"), ("shoeSize", "Pointure")] {
        fill(&browser, "#field-label", label).await;
        fill(&browser, "#field-key", key).await;
        click(&browser, "#add-field").await;
        text_with(&browser, "#field-table", key).await;
    }
    click(&browser, "button[name='to'][value='up']").await;
    until(&browser, "the field moved up", "const rows = [...document.querySelectorAll('#field-table tbody tr')]; return rows.length === 2 && rows[0].textContent.includes('shoeSize');").await;
    no_serious_violations(&browser, &axe, "the settings screen").await;
    click(&browser, "a[href='/settings/lists']").await;
    at(&browser, "/settings/lists", "#new-payment_terms").await;
    fill(&browser, "#payment_terms-code", "30J").await;
    click(&browser, "#add-payment_terms").await;
    until(&browser, "the payment term refused", "return !!document.querySelector('#payment_terms-label-error');").await;
    no_serious_violations(&browser, &axe, "the lists and staff settings with an error").await;
    click(&browser, "a[href='/settings/referral']").await;
    at(&browser, "/settings/referral", "#referral-form").await;
    no_serious_violations(&browser, &axe, "the sponsorship settings").await;
    click(&browser, "a[href='/settings']").await;
    at(&browser, "/settings", "#new-field").await;
    click(&browser, "a[href='/clients']").await;
    at(&browser, "/clients", "#bulk-group").await;
    no_serious_violations(&browser, &axe, "the clients list with its bulk assignment").await;

    // The import wizard: a dry run of a file with the seeds' French headers, its progress and summary.
    click(&browser, "#import-clients").await;
    at(&browser, "/import", "#import-form").await;
    no_serious_violations(&browser, &axe, "the import wizard").await;
    let file = profile.path().join("clients.csv");
    std::fs::write(&file, "Nom,Prénom,Courriel\nDurand,Marie,marie@exemple.fr\nMartin,Paul,pas-un-courriel\n").unwrap();
    fill(&browser, "#import-file", file.to_str().unwrap()).await;
    // Chosen, the file's columns come in with the field each is taken for.
    until(&browser, "the file's columns", "return !!document.querySelector('#import-mapping');").await;
    let mapped = browser.execute("return document.querySelector('#map-0').value;", vec![]).await.unwrap();
    assert_eq!(mapped, json!("last_name"), "Nom is the last name");
    no_serious_violations(&browser, &axe, "the import wizard with the file's columns").await;
    click(&browser, "#start-import").await;
    until(&browser, "the finished dry run", "return !!document.querySelector('#import-errors');").await;
    no_serious_violations(&browser, &axe, "the import job with its row errors").await;

    // A client that is not there: the error page.
    browser.goto(&format!("{url}/clients/{}", uuid::Uuid::nil())).await.unwrap();
    at(&browser, &format!("/clients/{}", uuid::Uuid::nil()), "#error-message").await;
    no_serious_violations(&browser, &axe, "the error page").await;

    // Sign-out ends the session.
    click(&browser, "#sign-out").await;
    at(&browser, "/sign-in", "#email").await;
    browser.goto(&format!("{url}/clients")).await.unwrap();
    at(&browser, "/sign-in", "#email").await;
    let value: Value = browser.execute("return document.cookie;", vec![]).await.unwrap();
    assert!(!value.as_str().unwrap_or("").contains("cls_"), "the session cookie is HttpOnly and gone");

    // A supplier inside (direct login): the banner on every page, and its button ends it.
    accept(&app, &acme.token, 1).await;
    let granted = app.gql_ok(Some(&acme.token), GRANT, json!({ "u": acme.admin_id, "a": true })).await;
    assert_eq!(granted["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true, "{granted}");
    let org = app.gql_ok(Some(&acme.token), "{ customerOrganisations { nodes { id } } }", json!({})).await;
    let org_id = org["data"]["customerOrganisations"]["nodes"][0]["id"].clone();
    let opened = app.gql_ok(Some(&acme.token), OPEN, json!({ "o": org_id, "r": "Help with the import" })).await;
    let inside = opened["data"]["directLogin"]["token"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    // The browser holds the direct-login session as if it had opened it (ours is signed out).
    let set = "document.cookie = 'clientele_session=' + arguments[0] + '; path=/'; return true;";
    browser.execute(set, vec![json!(inside)]).await.unwrap();
    browser.goto(&format!("{url}/clients")).await.unwrap();
    at(&browser, "/clients", "#direct-login-banner").await;
    text_with(&browser, "#direct-login-banner", "Acme").await;
    no_serious_violations(&browser, &axe, "the clients list during a direct login").await;
    click(&browser, "#end-direct-login").await;
    at(&browser, "/sign-in", "#email").await;
    assert_eq!(app.gql_status(Some(&inside), "{ viewer { role } }", json!({})).await.0, 401, "ended for the API too");
    browser.close().await.unwrap();
}

// issue 16: ORG-01 (the list and its search), ORG-03 (a new organisation), ORG-04..ORG-10 (its
// tabs), ORG-11 (licences), ORG-13..ORG-15 (catalogue), ORG-20 (access data by mail), ORG-24
// (terms of use), ORG-26 (the organisation's users), in both languages, a plugin uploaded and
// enabled whose tab the customer has (PET-01), and the platform's suppliers, with axe-core on
// every screen
async fn a_supplier_runs_its_portal_in_chromium(app: TestApp, sink: SmtpSink) {
    let (_, ada) = customer_with_pending_terms(&app).await;
    let axe = axe_source();
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    let url = app.url.clone();
    sign_in(&browser, &url, "owner@acme.test").await;
    until(&browser, "signed in", "return document.querySelector('#nav-organisations') !== null;").await;

    // A new organisation: its errors beside the fields, then its page.
    click(&browser, "#nav-organisations").await;
    at(&browser, "/organisations", "#org-table").await;
    text_with(&browser, "#org-table", "Boulangerie Martin").await;
    no_serious_violations(&browser, &axe, "the organisations list").await;
    click(&browser, "#new-organisation").await;
    at(&browser, "/organisations/new", "#o-name").await;
    click(&browser, "#create-org").await;
    at(&browser, "/organisations", "#o-name-error").await;
    no_serious_violations(&browser, &axe, "the new organisation form with its errors").await;
    fill(&browser, "#o-name", "Fromagerie Durand").await;
    fill(&browser, "#o-last_name", "Durand").await;
    fill(&browser, "#o-email", "jean@durand.test").await;
    click(&browser, "#create-org").await;
    until(
        &browser,
        "the new organisation's page",
        "return document.querySelector('#tab-basic[aria-current]') !== null;",
    )
    .await;
    text_with(&browser, "#org-name", "Fromagerie Durand").await;
    let page = path(&browser).await;
    // Its access data by mail: the link the SMTP sink received opens the set-password page.
    click(&browser, "#send-access-data").await;
    until(&browser, "the access data sent", "return document.querySelector('#org-notice') !== null;").await;
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["jean@durand.test"]), "{mail}");
    let token = link_token(mail["body"].as_str().unwrap());
    browser.goto(&format!("{url}/set-password?token={token}")).await.unwrap();
    at(&browser, "/set-password", "#set-password-form").await;
    no_serious_violations(&browser, &axe, "the set-password page of the access-data mail").await;
    for lang in ["fr", "en"] {
        if html_lang(&browser).await != lang {
            click(&browser, "#switch-language").await;
            until(&browser, lang, &format!("return document.documentElement.lang === {};", json!(lang))).await;
        }
        for tab in ["basic", "advanced", "settings", "catalogue", "files", "contacts", "licences", "plugins", "users"] {
            browser.goto(&format!("{url}{page}?tab={tab}")).await.unwrap();
            until(&browser, tab, &format!("return document.querySelector('#tab-{tab}[aria-current]') !== null;")).await;
            no_serious_violations(&browser, &axe, &format!("the organisation's {tab} tab in {lang}")).await;
        }
        text_with(&browser, "#org-user-table", "jean@durand.test").await;
        click(&browser, "#nav-catalogue").await;
        at(&browser, "/catalogue", "#new-item").await;
        no_serious_violations(&browser, &axe, &format!("the catalogue in {lang}")).await;
        click(&browser, "#nav-terms-of-use").await;
        at(&browser, "/terms-of-use", "#terms-table").await;
        no_serious_violations(&browser, &axe, &format!("the terms of use in {lang}")).await;
    }
    // A translation of the published version, from the form.
    browser.find(Locator::Css("#t-version option[value='1']")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Css("#t-language option[value='en-US']")).await.unwrap().click().await.unwrap();
    fill(&browser, "#t-title", "Terms of use").await;
    fill(&browser, "#t-body", "Be kind.").await;
    click(&browser, "#publish-terms-button").await;
    text_with(&browser, "#terms-notice", "1").await;
    text_with(&browser, "#terms-table", "en-US").await;
    no_serious_violations(&browser, &axe, "the terms of use with a translation").await;

    // Plugins (screen 6): the pets component uploaded through the form, enabled for Boulangerie
    // Martin with a setting from its manifest; the customer's client page has its tab at once.
    click(&browser, "#nav-plugins").await;
    at(&browser, "/plugins", "#no-plugins").await;
    no_serious_violations(&browser, &axe, "the plugins").await;
    let component = browser.find(Locator::Css("#p-component")).await.unwrap();
    component.send_keys(&wasm_path("pets")).await.unwrap();
    click(&browser, "#upload-plugin-button").await;
    text_with(&browser, "#plugin-notice", "1.0.0").await;
    no_serious_violations(&browser, &axe, "a plugin's page").await;
    click(&browser, &format!("#offered input[value='{}']", ada.id)).await;
    fill(&browser, "#plugin-shop", "Boulangerie Martin").await;
    click(&browser, "#enable-plugin-button").await;
    text_with(&browser, "#installs-table", "Boulangerie Martin").await;
    no_serious_violations(&browser, &axe, "a plugin enabled in an organisation").await;
    accept(&app, &ada.token, 1).await;
    let client = company(&app, &ada, "Chenil du Lac").await;
    click(&browser, "#sign-out").await;
    at(&browser, "/sign-in", "#email").await;
    sign_in(&browser, &url, "ada@martin.test").await;
    at(&browser, "/clients", "main").await;
    browser.goto(&format!("{url}/clients/{client}")).await.unwrap();
    click(&browser, "#tab-pets-pet").await;
    until(&browser, "the plugin's tab", "return document.querySelector('#plugin-form') !== null;").await;
    no_serious_violations(&browser, &axe, "a plugin's tab on the customer's client page").await;

    // The platform's administrator: the suppliers, a refused new one, then blocked Acme.
    let s = &app.state.services;
    let (_, token) = s.organisations.platform_admin(&s.auth, &s.users, "root@clientele.test").await.unwrap();
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { userErrors { code } } }";
    let body = app.gql_ok(None, set, json!({ "t": token })).await;
    assert_eq!(body["data"]["setPassword"]["userErrors"], json!([]), "{body}");
    click(&browser, "#sign-out").await;
    at(&browser, "/sign-in", "#email").await;
    sign_in(&browser, &url, "root@clientele.test").await;
    at(&browser, "/suppliers", "#supplier-table").await;
    text_with(&browser, "#supplier-table", "Acme").await;
    no_serious_violations(&browser, &axe, "the suppliers").await;
    click(&browser, "#create-supplier").await;
    at(&browser, "/suppliers", "#s-name-error").await;
    no_serious_violations(&browser, &axe, "the new supplier form with its errors").await;
    click(&browser, "#supplier-table button.outline").await;
    until(&browser, "the block's notice", "return document.querySelector('#supplier-notice') !== null;").await;
    let unblock = "return document.querySelector('#supplier-table button[id^=unblock-]') !== null;";
    until(&browser, "Acme blocked, with its unblock button", unblock).await;
    no_serious_violations(&browser, &axe, "the suppliers with one blocked").await;
    browser.close().await.unwrap();
}
