//! The supplier's portal in the console (issue 16, screens 1–3) over real HTTP: a supplier's
//! admin finds and creates customer organisations, edits their tabs (refusals shown by field,
//! in French), adds licences and contact persons, sends the access data (the mail lands in the
//! SMTP sink and its link opens the set-password page), blocks and unblocks, goes into the
//! customer by direct login and back to its own session, publishes terms of use and sees who
//! approved them; a customer's user has no such screen. A platform administrator creates a
//! supplier (its super-admin's access data land in the sink) and blocks and unblocks it.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, code};
use crate::console::{csrf, get, location, signed_in};
use crate::console_direct_login::GRANT;
use crate::customers::customer;
use crate::smtp_sink::{SmtpSink, link_token};
use crate::{both_dbs, with_smtp};

with_smtp!(a_supplier_runs_its_customer_organisations_in_the_console, a_platform_admin_runs_the_suppliers);
both_dbs!(
    the_organisation_list_filters_by_category_language_and_blocked_and_exports,
    an_organisations_categories_files_and_plugins_tabs,
);

/// Posts `form` (with the page's CSRF token) to `path`; the status, `Location` and body.
async fn post(http: &reqwest::Client, url: String, page: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let token = csrf(page);
    let mut fields = vec![("_csrf", token.as_str())];
    fields.extend_from_slice(form);
    let res = http.post(url).form(&fields).send().await.unwrap();
    let to = location(&res).to_owned();
    (res.status(), to, res.text().await.unwrap())
}

// issue 16: ORG-01 (search), ORG-02 (registration link), ORG-03 (new organisation), ORG-04..ORG-10
// (master data tabs), ORG-11 (licences, used and free), ORG-13 (block), ORG-17 (contact persons),
// ORG-19 (the first contact is the super-admin), ORG-20 (access data), ORG-21 (direct login),
// ORG-24 (terms of use, versions and translations), ORG-26 (the organisation's users and their answers)
async fn a_supplier_runs_its_customer_organisations_in_the_console(app: TestApp, sink: SmtpSink) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let granted = app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id, "a": true })).await;
    assert_eq!(granted["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true, "{granted}");
    customer(&app, &supplier, "Fromagerie Durand", "jean@durand.test", 2).await;
    let owner = signed_in(&app, "owner@acme.test").await;
    let base = &app.url;

    // The list: in the menu, searchable.
    let (status, list) = get(&owner, format!("{base}/organisations")).await;
    assert_eq!(status, 200);
    assert!(list.contains("id=\"nav-organisations\"") && list.contains("Fromagerie Durand"), "{list}");
    let (_, found) = get(&owner, format!("{base}/organisations?q=fromag")).await;
    assert!(found.contains("Fromagerie Durand"), "{found}");
    let (_, none) = get(&owner, format!("{base}/organisations?q=boulangerie")).await;
    assert!(none.contains("id=\"no-organisations\""), "{none}");

    // A registration link for a prospect, shown once.
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/registration-link"), &list, &[("days", "7")]).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(page.contains("id=\"link-url\"") && page.contains("/register?token="), "{page}");
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/registration-link"), &list, &[("days", "0")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"link-days-error\""), "{page}");
    // Mailed to a prospect too, in the language chosen; a wrong address is refused at its field.
    let to = [("days", "7"), ("send_to", "nobody@"), ("language", "fr")];
    let (status, _, page) = post(&owner, format!("{base}/organisations/registration-link"), &list, &to).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"link-send-to-error\""), "{page}");
    let to = [("days", "7"), ("send_to", "Prospect@Boulangerie.test"), ("language", "fr")];
    let (status, _, page) = post(&owner, format!("{base}/organisations/registration-link"), &list, &to).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["prospect@boulangerie.test"]));
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("Acme Software vous invite") && body.contains("/register?token="), "{body}");
    let link = body.split_whitespace().find(|w| w.contains("/register?token=")).unwrap();
    assert!(page.contains(&format!("value=\"{link}\"")), "the link shown is the one mailed: {page}");

    // A new organisation: refusals by field, in French (the language chosen), then made.
    let (_, form) = get(&owner, format!("{base}/organisations/new")).await;
    let switch = [("lang", "fr"), ("back", "/organisations/new")];
    let (status, _, _) = post(&owner, format!("{base}/language"), &form, &switch).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, form) = get(&owner, format!("{base}/organisations/new")).await;
    assert!(form.contains("<html lang=\"fr\">"), "{form}");
    let refused = [("name", ""), ("language", "fr"), ("seats", "3"), ("last_name", "Martin"), ("email", "ada@")];
    let (status, _, page) = post(&owner, format!("{base}/organisations"), &form, &refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"o-name-error\""), "{page}");
    assert!(page.contains("Saisissez une adresse e-mail valable."), "the reason, in French: {page}");
    let made = [
        ("name", "Boulangerie Martin"),
        ("language", "fr"),
        ("seats", "3"),
        ("first_name", "Ada"),
        ("last_name", "Martin"),
        ("email", "ada@martin.test"),
    ];
    let (status, to, _) = post(&owner, format!("{base}/organisations"), &form, &made).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let org = to.trim_start_matches("/organisations/").to_owned();
    let (status, page) = get(&owner, format!("{base}{to}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Boulangerie Martin") && page.contains("id=\"tab-advanced\""), "{page}");

    // Basic data: a bad country is refused beside its field, then the address is saved.
    let url = format!("{base}/organisations/{org}?tab=basic");
    let bad = [("name", "Boulangerie Martin"), ("street", "3 rue du Four"), ("city", "Lyon"), ("country", "France")];
    let (status, _, page) = post(&owner, url.clone(), &page, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"o-country-error\"") && page.contains("value=\"3 rue du Four\""), "kept: {page}");
    let good = [
        ("name", "Boulangerie Martin"),
        ("street", "3 rue du Four"),
        ("postcode", "69001"),
        ("city", "Lyon"),
        ("country", "FR"),
        ("remarks", "Livraison le mardi"),
    ];
    let (status, _, page) = post(&owner, url, &page, &good).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"org-notice\"") && page.contains("value=\"Lyon\""), "{page}");
    // Advanced: bank and legal data.
    let (_, page) = get(&owner, format!("{base}/organisations/{org}?tab=advanced")).await;
    let advanced = [("vat_id", "FR12345678901"), ("payment_terms", "30 jours fin de mois")];
    let (status, _, page) = post(&owner, format!("{base}/organisations/{org}?tab=advanced"), &page, &advanced).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("FR12345678901") && page.contains("30 jours fin de mois"), "{page}");
    let (_, found) = get(&owner, format!("{base}/organisations?q=69001")).await;
    assert!(found.contains("Boulangerie Martin") && !found.contains("Fromagerie Durand"), "{found}");

    // Licences: used and free seats; a new licence.
    let (_, page) = get(&owner, format!("{base}/organisations/{org}?tab=licences")).await;
    assert!(page.contains("id=\"licence-table\""), "{page}");
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/{org}/licences"), &page, &[("title", "Caisse"), ("quantity", "5")])
            .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Caisse") && page.contains("id=\"org-notice\""), "{page}");
    // ORG-25: each licence its own seats; the super-admin holds one of the first licence's 3.
    assert!(
        page.contains("<td>3</td><td>1</td><td>2</td>") && page.contains("<td>5</td><td>0</td><td>5</td>"),
        "{page}"
    );
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/{org}/licences"), &page, &[("title", ""), ("quantity", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"l-title-error\""), "{page}");

    // Contact persons: the first is the super-admin; another is added.
    let (_, page) = get(&owner, format!("{base}/organisations/{org}?tab=contacts")).await;
    assert!(page.contains("Ada Martin") && page.contains("Super-administrateur"), "{page}");
    let (status, _, page) = post(
        &owner,
        format!("{base}/organisations/{org}/contacts"),
        &page,
        &[("last_name", "Petit"), ("email", "paul@martin.test")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Petit") && page.contains("paul@martin.test"), "{page}");

    // Access data: to the super-admin's own address; its link opens the set-password page.
    let (status, _, page) = post(&owner, format!("{base}/organisations/{org}/access-data"), &page, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("ada@martin.test") && page.contains("id=\"org-notice\""), "{page}");
    let mail = sink.wait_for(2).await.remove(1);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    let token = link_token(mail["body"].as_str().unwrap());
    let (status, set) = get(&reqwest::Client::new(), format!("{base}/set-password?token={token}")).await;
    assert_eq!(status, 200);
    assert!(set.contains("id=\"set-password-form\""), "{set}");

    // Block, then unblock.
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/{org}/blocked"), &page, &[("blocked", "1")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"org-is-blocked\"") && page.contains("id=\"unblock-org\""), "{page}");
    let (_, found) = get(&owner, format!("{base}/organisations?q=martin")).await;
    assert!(found.contains("Bloquée"), "{found}");
    let (_, _, page) = post(&owner, format!("{base}/organisations/{org}/blocked"), &page, &[("blocked", "0")]).await;
    assert!(!page.contains("id=\"org-is-blocked\""), "{page}");

    // Direct login: a reason is required; inside, the banner; ending it brings the supplier back.
    let (status, _, refused) =
        post(&owner, format!("{base}/organisations/{org}/direct-login"), &page, &[("reason", " ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"dl-reason-error\""), "{refused}");
    let (status, to, _) =
        post(&owner, format!("{base}/organisations/{org}/direct-login"), &page, &[("reason", "Aide à la saisie")])
            .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/clients"));
    let (status, inside) = get(&owner, format!("{base}/clients")).await;
    assert_eq!(status, 200);
    assert!(inside.contains("id=\"direct-login-banner\"") && inside.contains("Acme Software"), "{inside}");
    assert!(!inside.contains("id=\"nav-organisations\""), "not the supplier's menu inside: {inside}");
    let (status, to, _) = post(&owner, format!("{base}/sign-out"), &inside, &[]).await;
    assert_eq!((status, to.clone()), (StatusCode::SEE_OTHER, format!("/organisations/{org}")));
    let (status, back) = get(&owner, format!("{base}{to}")).await;
    assert_eq!(status, 200, "the supplier's own session again");
    assert!(back.contains("id=\"nav-organisations\"") && !back.contains("direct-login-banner"), "{back}");

    // The customer's super-admin (with the password its link set) forbids direct login: refused, said.
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { userErrors { code } } }";
    let body = app.gql_ok(None, set, json!({ "t": token })).await;
    assert_eq!(body["data"]["setPassword"]["userErrors"], json!([]), "{body}");
    let ada = signed_in(&app, "ada@martin.test").await;
    let (_, dl) = get(&ada, format!("{base}/direct-login")).await;
    let (status, _, _) = post(&ada, format!("{base}/direct-login/allowed"), &dl, &[("allowed", "0")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&owner, format!("{base}/organisations/{org}")).await;
    assert!(page.contains("id=\"direct-login-forbidden\""), "{page}");
    let (status, _, page) =
        post(&owner, format!("{base}/organisations/{org}/direct-login"), &page, &[("reason", "Encore")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"org-error\""), "a clear refusal: {page}");

    // Terms of use: a version in French, refused without a title, then its English translation.
    let (_, page) = get(&owner, format!("{base}/terms-of-use")).await;
    assert!(page.contains("id=\"nav-terms-of-use\"") && page.contains("id=\"no-terms\""), "{page}");
    let untitled = [("version", ""), ("language", "fr"), ("title", " "), ("body", "Article 1.")];
    let (status, _, page) = post(&owner, format!("{base}/terms-of-use"), &page, &untitled).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"t-title-error\"") && page.contains("Article 1."), "kept: {page}");
    let v1 = [("version", ""), ("language", "fr"), ("title", "Conditions générales"), ("body", "Article 1.")];
    let (status, _, page) = post(&owner, format!("{base}/terms-of-use"), &page, &v1).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(page.contains("id=\"terms-notice\"") && page.contains("Conditions générales"), "{page}");
    let en = [("version", "1"), ("language", "en-US"), ("title", "General terms"), ("body", "Article 1.")];
    let (status, _, page) = post(&owner, format!("{base}/terms-of-use"), &page, &en).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(page.contains("General terms"), "{page}");
    let (status, _, page) = post(&owner, format!("{base}/terms-of-use"), &page, &en).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "one text per version and language");
    assert!(page.contains("id=\"t-language-error\""), "{page}");
    // The customer's users are asked; the users tab shows who answered what, and when.
    let users = format!("{base}/organisations/{org}?tab=users");
    let (_, page) = get(&owner, users.clone()).await;
    assert!(page.contains("id=\"org-user-table\"") && page.contains("ada@martin.test"), "{page}");
    assert!(page.contains("Non lues") && !page.contains("Approuvées"), "{page}");
    let res = ada.get(format!("{base}/clients")).send().await.unwrap();
    assert_eq!(location(&res), "/terms", "the terms come first");
    let (_, terms) = get(&ada, format!("{base}/terms")).await;
    let (status, to, _) = post(&ada, format!("{base}/terms"), &terms, &[("version", "1"), ("answer", "approve")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/clients"));
    let (_, page) = get(&owner, users).await;
    assert!(page.contains("Approuvées") && !page.contains("Non lues"), "{page}");

    // A customer's user has no portal: no menu entry, and the screens are refused.
    let (_, clients) = get(&ada, format!("{base}/clients")).await;
    assert!(!clients.contains("nav-organisations"), "{clients}");
    assert_eq!(get(&ada, format!("{base}/organisations")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&ada, format!("{base}/organisations/{org}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&ada, format!("{base}/terms-of-use")).await.0, StatusCode::FORBIDDEN);
}

// issue 16 (screen 8): the platform's suppliers, a new one with its super-admin, blocked and unblocked
async fn a_platform_admin_runs_the_suppliers(app: TestApp, sink: SmtpSink) {
    let acme = app.supplier("Acme Software", "owner@acme.test").await;
    let martin = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 1).await;
    let martin = crate::customers::customer_admin(&app, &martin).await;
    let s = &app.state.services;
    let (_, token) = s.organisations.platform_admin(&s.auth, &s.users, "root@clientele.test").await.unwrap();
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { userErrors { code } } }";
    let body = app.gql_ok(None, set, json!({ "t": token })).await;
    assert_eq!(body["data"]["setPassword"]["userErrors"], json!([]), "{body}");
    let root = signed_in(&app, "root@clientele.test").await;
    let base = &app.url;

    // The platform has no clients: its administrator lands on the suppliers.
    let res = root.get(format!("{base}/clients")).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/suppliers"));
    let (status, page) = get(&root, format!("{base}/suppliers")).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"nav-suppliers\"") && page.contains("Acme Software"), "{page}");
    assert!(!page.contains("href=\"/clients\""), "no clients in the platform's menu: {page}");

    // A new supplier: refused by field, then made; its super-admin gets the access data.
    let refused = [("name", " "), ("language", "fr"), ("admin_name", ""), ("email", "nobody@")];
    let (status, _, page) = post(&root, format!("{base}/suppliers"), &page, &refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"s-name-error\"") && page.contains("id=\"s-email-error\""), "{page}");
    let made = [
        ("name", "Logiciels Bernard"),
        ("language", "fr"),
        ("admin_name", "Léa Bernard"),
        ("email", "lea@bernard.test"),
    ];
    let (status, _, page) = post(&root, format!("{base}/suppliers"), &page, &made).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(page.contains("id=\"supplier-notice\"") && page.contains("Logiciels Bernard"), "{page}");
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["lea@bernard.test"]));
    let link = link_token(mail["body"].as_str().unwrap());
    let body = app.gql_ok(None, set, json!({ "t": link })).await;
    assert_eq!(body["data"]["setPassword"]["userErrors"], json!([]), "the link sets Léa's password: {body}");
    let lea = signed_in(&app, "lea@bernard.test").await;
    let (status, own) = get(&lea, format!("{base}/organisations")).await;
    assert_eq!(status, 200, "Léa runs her supplier's customers: {own}");
    assert_eq!(get(&lea, format!("{base}/suppliers")).await.0, StatusCode::FORBIDDEN, "not the platform's screen");

    // Blocked, Acme's users cannot sign in; unblocked, they can again.
    let (status, _, page) =
        post(&root, format!("{base}/suppliers/{}/blocked", acme.id), &page, &[("blocked", "1")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("id=\"unblock-{}\"", acme.id)), "{page}");
    let refused = app.sign_in_raw("owner@acme.test", "correct horse battery").await;
    assert_eq!(code(&refused), "ORGANISATION_UNAVAILABLE", "blocked: {refused}");
    // Its customers keep working: their session, a new sign-in, their own clients.
    app.gql_ok(Some(&martin.token), "{ clients(first: 1) { nodes { id } } }", json!({})).await;
    app.sign_in("ada@martin.test", "correct horse battery").await;
    let ada = signed_in(&app, "ada@martin.test").await;
    assert_eq!(get(&ada, format!("{base}/clients")).await.0, 200, "a blocked supplier's customer works on");
    let (status, _, page) =
        post(&root, format!("{base}/suppliers/{}/blocked", acme.id), &page, &[("blocked", "0")]).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("id=\"block-{}\"", acme.id)), "{page}");
    app.sign_in("owner@acme.test", "correct horse battery").await; // unblocked: a token again

    // Nobody else gets the screen, nor forges its forms.
    let owner = signed_in(&app, "owner@acme.test").await;
    let (status, clients) = get(&owner, format!("{base}/clients")).await;
    assert_eq!(status, 200);
    assert!(!clients.contains("nav-suppliers"), "{clients}");
    assert_eq!(get(&owner, format!("{base}/suppliers")).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) =
        post(&owner, format!("{base}/suppliers/{}/blocked", acme.id), &clients, &[("blocked", "1")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// issue 16 (screen 1: "filters (status, category, language, blocked); export of the list to
// .xlsx"), ORG-01 ORG-23
async fn the_organisation_list_filters_by_category_language_and_blocked_and_exports(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let martin = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 1).await;
    let durand = customer(&app, &supplier, "Fromagerie Durand", "jean@durand.test", 1).await;
    let save = "mutation($i: SaveOrganisationCategoryInput!) { saveOrganisationCategory(input: $i) { category { id } userErrors { field } } }";
    let body = app.gql_ok(Some(&supplier.token), save, json!({ "i": { "title": "Boulangers" } })).await;
    let bakers = body["data"]["saveOrganisationCategory"]["category"]["id"].as_str().unwrap().to_owned();
    let set = "mutation($o: ID!, $c: [ID!]!) { setOrganisationCategories(input: {organisationId: $o, categoryIds: $c}) { categories { title } userErrors { code } } }";
    app.gql_ok(Some(&supplier.token), set, json!({ "o": martin["id"], "c": [bakers] })).await;
    let owner = signed_in(&app, "owner@acme.test").await;
    let base = &app.url;

    let (_, page) = get(&owner, format!("{base}/organisations")).await;
    assert!(page.contains(&format!("<option value=\"{bakers}\">Boulangers</option>")), "{page}");
    let (_, page) = get(&owner, format!("{base}/organisations?category={bakers}")).await;
    assert!(page.contains("Boulangerie Martin") && !page.contains("Fromagerie Durand"), "{page}");
    assert!(page.contains(&format!("href=\"/organisations/export.xlsx?category={bakers}\"")), "{page}");
    let (_, page) = get(&owner, format!("{base}/organisations?language=en-US")).await;
    assert!(page.contains("id=\"no-organisations\""), "both are French: {page}");
    // Blocked: the one blocked, then the others.
    let token = csrf(&page);
    let res = owner
        .post(format!("{base}/organisations/{}/blocked", martin["id"].as_str().unwrap()))
        .form(&[("_csrf", token.as_str()), ("blocked", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = get(&owner, format!("{base}/organisations?blocked=1")).await;
    assert!(page.contains("Boulangerie Martin") && !page.contains("Fromagerie Durand"), "{page}");
    let (_, page) = get(&owner, format!("{base}/organisations?blocked=0")).await;
    assert!(!page.contains("Boulangerie Martin") && page.contains("Fromagerie Durand"), "{page}");
    let (status, _) = get(&owner, format!("{base}/organisations?blocked=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The export: every organisation the filters find, read back with a real .xlsx reader.
    let res = owner.get(format!("{base}/organisations/export.xlsx?language=fr")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("organisations.xlsx"));
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a workbook");
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).expect("a sheet").expect("readable");
    assert_eq!(sheet.height(), 3, "a header and both organisations");
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    assert!(rows[1..].iter().any(|r| r[1] == "Boulangerie Martin" && r.contains(&"Lyon".to_owned())), "{rows:?}");
    let res = owner.get(format!("{base}/organisations/export.xlsx?category={bakers}")).send().await.unwrap();
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a workbook");
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).expect("a sheet").expect("readable");
    assert_eq!(sheet.height(), 2, "a header and the category's one organisation");
    // A customer cannot export its supplier's list.
    crate::customers::customer_admin(&app, &durand).await;
    let jean = signed_in(&app, "jean@durand.test").await;
    let (status, _) = get(&jean, format!("{base}/organisations/export.xlsx")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// issue 16 (screen 2: "settings (categories…)", "files", "and its plugins"), ORG-23 FIL-06
async fn an_organisations_categories_files_and_plugins_tabs(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 1).await;
    let ada = crate::customers::customer_admin(&app, &org).await;
    let id = org["id"].as_str().unwrap();
    let owner = signed_in(&app, "owner@acme.test").await;
    let base = &app.url;

    // Categories: a new one made and ticked from the settings tab.
    let (_, page) = get(&owner, format!("{base}/organisations/{id}?tab=settings")).await;
    assert!(page.contains("id=\"no-categories\""), "{page}");
    let token = csrf(&page);
    let form = [("_csrf", token.as_str()), ("new_category", "Boulangers")];
    let res = owner.post(format!("{base}/organisations/{id}/categories")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"org-notice\"") && page.contains("checked> Boulangers"), "{page}");
    let q = "query($id: ID!) { customerOrganisation(id: $id) { categories { title } } }";
    let body = app.gql_ok(Some(&supplier.token), q, json!({ "id": id })).await;
    assert_eq!(body["data"]["customerOrganisation"]["categories"], json!([{ "title": "Boulangers" }]), "{body}");
    // Unticked: none, the category still offered.
    let res = owner
        .post(format!("{base}/organisations/{id}/categories"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("> Boulangers</label>") && !page.contains("checked> Boulangers"), "{page}");
    let body = app.gql_ok(Some(&supplier.token), q, json!({ "id": id })).await;
    assert_eq!(body["data"]["customerOrganisation"]["categories"], json!([]), "{body}");

    // Files: uploaded by the supplier, downloadable by a signed link, read by the customer, deleted.
    let part = reqwest::multipart::Part::bytes(b"Tarifs 2027\n".to_vec())
        .file_name("tarifs.txt")
        .mime_str("text/plain")
        .unwrap();
    let res = owner
        .post(format!("{base}/organisations/{id}/files?_csrf={token}"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"file-table\"") && page.contains(">tarifs.txt</a>"), "{page}");
    let at = page.find(">tarifs.txt</a>").unwrap();
    let href = page[..at].rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&#38;", "&");
    let res = owner.get(&href).send().await.unwrap();
    assert_eq!(res.status(), 200, "{href}");
    assert_eq!(res.text().await.unwrap(), "Tarifs 2027\n");
    let body = app.gql_ok(Some(&ada.token), "{ organisationFiles { fileName } }", json!({})).await;
    assert_eq!(body["data"]["organisationFiles"], json!([{ "fileName": "tarifs.txt" }]), "its users read it: {body}");
    let delete = format!("action=\"/organisations/{id}/files/");
    let file = page[page.find(&delete).unwrap() + delete.len()..].split('/').next().unwrap().to_owned();
    let res = owner
        .post(format!("{base}/organisations/{id}/files/{file}/delete"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("id=\"no-files\""));

    // Plugins: none, then the pets plugin once enabled here.
    let (_, page) = get(&owner, format!("{base}/organisations/{id}?tab=plugins")).await;
    assert!(page.contains("id=\"no-plugins\""), "{page}");
    let pets = crate::plugins::uploaded(&app, &supplier, "pets").await;
    crate::plugins::enable(&app, &supplier, &pets, &[&ada]).await;
    let (_, page) = get(&owner, format!("{base}/organisations/{id}?tab=plugins")).await;
    assert!(
        page.contains(&format!("<a href=\"/plugins/{pets}\">pets</a>")) && page.contains("<td>1.0.0</td>"),
        "{page}"
    );
}
