//! The console's account pages (issue 15, foundation) over real HTTP: a password chosen from an
//! invitation or bootstrap link then used to sign in, a forgotten password reset by mail (real
//! SMTP sink) with one answer for every address, the session list with revocation and "sign out
//! everywhere else", CSRF refused without the token, and an OIDC sign-in through a real
//! provider that lands signed in in the console.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Tenant, TestApp};
use crate::console::{PASSWORD, browser, csrf, get, location, signed_in, without_csrf};
use crate::customers::{customer, customer_admin};
use crate::oidc::allow_loopback_provider;
use crate::smtp_sink::{SmtpSink, link_token};
use crate::{both_dbs, both_dbs_with, with_smtp};

with_smtp!(
    an_invited_user_chooses_a_password_in_the_console_then_signs_in,
    a_forgotten_password_is_reset_by_mail_and_every_address_gets_the_same_answer,
);
both_dbs!(the_bootstrap_link_opens_the_console_page, sessions_are_listed_and_revoked_and_csrf_is_required);
both_dbs_with!(allow_loopback_provider; an_oidc_sign_in_through_the_real_provider_lands_in_the_console);

async fn customer_with_admin(app: &TestApp) -> (serde_json::Value, Tenant) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(app, &acme, "Boulangerie Martin", "ada@martin.test", 4).await;
    let admin = customer_admin(app, &org).await;
    (org, admin)
}

/// Posts `form` to `path`; the status, `Location` and body.
async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let res = http.post(url).form(form).send().await.unwrap();
    let to = location(&res).to_owned();
    (res.status(), to, res.text().await.unwrap())
}

/// The `Set-Cookie` value of cookie `name` in `res`, if set.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Signs in through the console's form with `password`; the status.
async fn sign_in_with(app: &TestApp, http: &reqwest::Client, email: &str, password: &str) -> StatusCode {
    let (_, page) = get(http, format!("{}/sign-in", app.url)).await;
    let token = csrf(&page);
    let form = [("_csrf", token.as_str()), ("email", email), ("password", password)];
    post(http, format!("{}/sign-in", app.url), &form).await.0
}

// issue 15 (set-password page): USR-03 (the password set through the invitation's link), ORG-20
async fn an_invited_user_chooses_a_password_in_the_console_then_signs_in(app: TestApp, sink: SmtpSink) {
    let _ = customer_with_admin(&app).await;
    let admin = signed_in(&app, "ada@martin.test").await;
    let (_, page) = get(&admin, format!("{}/users", app.url)).await;
    let invite = [
        ("_csrf", csrf(&page)),
        ("email", "bob@martin.test".to_owned()),
        ("display_name", "Bob".to_owned()),
        ("role", "member".to_owned()),
        ("language", "en".to_owned()),
    ];
    let res = admin.post(format!("{}/users", app.url)).form(&invite).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["bob@martin.test"]));
    let token = link_token(mail["body"].as_str().unwrap());

    // The link opens the console's page, in the browser's language, with the rules shown.
    let mut english = reqwest::header::HeaderMap::new();
    english.insert("accept-language", reqwest::header::HeaderValue::from_static("en-GB,en;q=0.8"));
    let bob = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(english)
        .build()
        .unwrap();
    let link = format!("{}/set-password?token={token}", app.url);
    let res = bob.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("Choose your password"), "{page}");
    assert!(page.contains("Use at least 12 characters") && page.contains("id=\"set-password-form\""), "{page}");
    assert!(page.contains("pico") && page.contains("id=\"switch-language\""), "the console's look: {page}");
    let csrf_token = csrf(&page);
    let url = format!("{}/set-password", app.url);

    // Each broken rule is said next to its field; nothing is spent.
    let short = [("_csrf", csrf_token.as_str()), ("token", &token), ("password", "short"), ("confirm", "short")];
    let (status, _, page) = post(&bob, url.clone(), &short).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-password-error\"") && page.contains("Too short"), "{page}");
    assert!(page.contains("aria-describedby=\"f-password-hint f-password-error\""), "{page}");
    let differ = [
        ("_csrf", csrf_token.as_str()),
        ("token", &token),
        ("password", "bob's long password"),
        ("confirm", "another"),
    ];
    let (status, _, page) = post(&bob, url.clone(), &differ).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-confirm-error\"") && page.contains("The two passwords differ."), "{page}");
    // Without the CSRF token the form is refused before anything runs.
    let forged = [("token", token.as_str()), ("password", "bob's long password"), ("confirm", "bob's long password")];
    let (status, _, _) = post(&bob, url.clone(), &forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The right one: signed in, in the console.
    let good = [
        ("_csrf", csrf_token.as_str()),
        ("token", &token),
        ("password", "bob's long password"),
        ("confirm", "bob's long password"),
    ];
    let res = bob.post(&url).form(&good).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients"));
    let cookie = set_cookie(&res, "clientele_session").expect("the session cookie");
    assert!(cookie.starts_with("clientele_session=cls_") && cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(set_cookie(&res, "clientele_lang").as_deref().map(|c| c.starts_with("clientele_lang=en")), Some(true));
    let (status, page) = get(&bob, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"sign-out\""), "{page}");

    // The link works once (the page's token now follows the session); the password signs in
    // from another browser.
    let signed_token = csrf(&get(&bob, link).await.1);
    let good = [
        ("_csrf", signed_token.as_str()),
        ("token", &token),
        ("password", "bob's long password"),
        ("confirm", "bob's long password"),
    ];
    let (status, _, page) = post(&bob, url, &good).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"account-message\"") && page.contains("href=\"/forgot-password\""), "{page}");
    assert_eq!(sign_in_with(&app, &browser(), "bob@martin.test", "bob's long password").await, StatusCode::SEE_OTHER);
}

// issue 15 (set-password page): USR-03, the link the bootstrap command prints (was src/set_password.rs)
async fn the_bootstrap_link_opens_the_console_page(app: TestApp) {
    let s = &app.state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Acme", "owner@acme.test", false).await.unwrap();
    let http = browser();
    let (status, page) = get(&http, format!("{}/set-password?token={}", app.url, done.set_password_token)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&done.set_password_token) && page.contains("<html lang=\"fr\">"), "{page}");
    assert!(page.contains("Choisissez votre mot de passe"), "{page}");
    let (status, page) = get(&http, format!("{}/set-password?token=%3Cscript%3E", app.url)).await;
    assert_eq!(status, 400);
    assert!(!page.contains("<script>") && page.contains("id=\"account-message\""), "{page}");
    let (status, _) = get(&http, format!("{}/set-password", app.url)).await;
    assert_eq!(status, 400, "no token");
    let token = csrf(&get(&http, format!("{}/set-password?token=x", app.url)).await.1);
    let form = |p: &'static str, c: &'static str| {
        let fields = [
            ("_csrf", token.clone()),
            ("token", done.set_password_token.clone()),
            ("password", p.to_owned()),
            ("confirm", c.to_owned()),
        ];
        http.post(format!("{}/set-password", app.url)).form(&fields).send()
    };
    let differ = form("a long password!", "a different one!").await.unwrap();
    assert_eq!(differ.status(), 422);
    assert!(differ.text().await.unwrap().contains("Les deux mots de passe diffèrent."));
    assert_eq!(form("a long password!", "a long password!").await.unwrap().status(), 303);
    app.sign_in("owner@acme.test", "a long password!").await;
    // Signed in now: the page's token follows the session cookie.
    let token = csrf(&get(&http, format!("{}/set-password?token=x", app.url)).await.1);
    let again = [
        ("_csrf", token.as_str()),
        ("token", &done.set_password_token),
        ("password", "a long password!"),
        ("confirm", "a long password!"),
    ];
    assert_eq!(post(&http, format!("{}/set-password", app.url), &again).await.0, 400, "single use");
}

// issue 15 (forgotten password): USR-04 (reset by mail, no account enumeration, throttled)
async fn a_forgotten_password_is_reset_by_mail_and_every_address_gets_the_same_answer(app: TestApp, sink: SmtpSink) {
    let _ = customer_with_admin(&app).await;
    let http = browser();
    let (_, page) = get(&http, format!("{}/sign-in", app.url)).await;
    assert!(page.contains("href=\"/forgot-password\" id=\"forgot-password\""), "{page}");
    let (status, page) = get(&http, format!("{}/forgot-password", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"forgot-form\"") && page.contains("Mot de passe oublié"), "{page}");
    let token = csrf(&page);
    let url = format!("{}/forgot-password", app.url);
    let ask = |email: &'static str| {
        let form = [("_csrf", token.clone()), ("email", email.to_owned())];
        let http = http.clone();
        let url = url.clone();
        async move {
            let res = http.post(url).form(&form).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };

    // The same page for an unknown address and a known one.
    let unknown = ask("nobody@martin.test").await;
    let known = ask(" ADA@martin.test ").await;
    assert_eq!(unknown.0, 200);
    assert!(
        unknown.1.contains("id=\"account-message\"") && unknown.1.contains("Si un compte utilise"),
        "{}",
        unknown.1
    );
    assert_eq!(
        (known.0, without_csrf(&known.1)),
        (unknown.0, without_csrf(&unknown.1)),
        "the answer does not tell whether the account exists"
    );
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "nothing went to the unknown address");

    // The link opens the set-password page; the new password signs in, the old one no longer.
    let link = link_token(mail["body"].as_str().unwrap());
    let ada = browser();
    let (status, page) = get(&ada, format!("{}/set-password?token={link}", app.url)).await;
    assert_eq!(status, 200);
    let form = [
        ("_csrf", csrf(&page)),
        ("token", link.clone()),
        ("password", "another long password".to_owned()),
        ("confirm", "another long password".to_owned()),
    ];
    let res = ada.post(format!("{}/set-password", app.url)).form(&form).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients"), "signed in");
    assert_eq!(get(&ada, format!("{}/clients", app.url)).await.0, 200);
    assert_eq!(sign_in_with(&app, &browser(), "ada@martin.test", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in_with(&app, &browser(), "ada@martin.test", "another long password").await, StatusCode::SEE_OTHER);

    // Throttled like the API, alike for every address: the refusal is said on the form.
    let mut answers = Vec::new();
    for _ in 0..12 {
        let answer = ask("zoe@martin.test").await;
        if answer.0 != StatusCode::OK {
            answers.push(answer);
            break;
        }
        assert_eq!((answer.0, without_csrf(&answer.1)), (unknown.0, without_csrf(&unknown.1)));
    }
    let (status, page) = answers.pop().expect("the requests are throttled");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("id=\"forgot-error\"") && page.contains("value=\"zoe@martin.test\""), "{page}");
}

/// The id of the session row whose cells contain `text`.
fn session_row(page: &str, text: &str) -> String {
    let at = page.find(text).unwrap_or_else(|| panic!("{text} in {page}"));
    let row = page[..at].rfind("id=\"session-").unwrap() + "id=\"session-".len();
    page[row..row + 36].to_owned()
}

// issue 15 (session list, sign-out, CSRF protection on every state-changing request)
async fn sessions_are_listed_and_revoked_and_csrf_is_required(app: TestApp) {
    let (_, api) = customer_with_admin(&app).await;
    let here = signed_in(&app, "ada@martin.test").await;
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Firefox on the shop till")
        .build()
        .unwrap();
    assert_eq!(sign_in_with(&app, &other, "ada@martin.test", PASSWORD).await, StatusCode::SEE_OTHER);

    // The list: every open session (the API one too), this one marked, the other's browser shown.
    let (_, clients) = get(&here, format!("{}/clients", app.url)).await;
    assert!(clients.contains("href=\"/account/sessions\" id=\"nav-sessions\""), "linked from the layout");
    let (status, page) = get(&here, format!("{}/account/sessions", app.url)).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr id=\"session-").count(), 3, "{page}");
    assert_eq!(page.matches("id=\"this-session\"").count(), 1, "{page}");
    assert!(page.contains("127.0.0.1") && page.contains("id=\"revoke-others\""), "{page}");
    let till = session_row(&page, "Firefox on the shop till");
    let mine = session_row(&page, "id=\"this-session\"");
    assert_ne!(till, mine);
    let token = csrf(&page);

    // A revoke without the token (or with another session's) is refused, and changes nothing.
    let revoke = format!("{}/account/sessions/{till}/revoke", app.url);
    assert_eq!(post(&here, revoke.clone(), &[]).await.0, StatusCode::FORBIDDEN);
    let (_, other_page) = get(&other, format!("{}/clients", app.url)).await;
    let other_token = csrf(&other_page);
    assert_eq!(post(&here, revoke.clone(), &[("_csrf", &other_token)]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&other, format!("{}/clients", app.url)).await.0, 200, "still signed in");

    // Revoked: the till's cookie no longer works.
    let (status, to, _) = post(&here, revoke.clone(), &[("_csrf", &token)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/account/sessions?ended=1"));
    let res = other.get(format!("{}/clients", app.url)).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"));
    assert_eq!(post(&here, revoke, &[("_csrf", &token)]).await.0, StatusCode::NOT_FOUND, "not open any more");
    let (_, page) = get(&here, format!("{}/account/sessions?ended=1", app.url)).await;
    assert!(page.contains("id=\"notice\"") && page.matches("<tr id=\"session-").count() == 2, "{page}");

    // Everywhere else: the API session ends, this one stays.
    let (status, to, _) = post(&here, format!("{}/account/sessions/others", app.url), &[("_csrf", &token)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/account/sessions?ended=1"));
    assert_eq!(app.gql_status(Some(&api.token), "{ viewer { role } }", json!({})).await.0, 401);
    let (status, page) = get(&here, format!("{}/account/sessions", app.url)).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr id=\"session-").count(), 1, "{page}");
    assert!(!page.contains("id=\"revoke-others\""), "nothing else to end: {page}");

    // Ending this one is signing out.
    let (status, to, _) =
        post(&here, format!("{}/account/sessions/{mine}/revoke", app.url), &[("_csrf", &token)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/sign-in"));
    let res = here.get(format!("{}/clients", app.url)).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"));
}

// issue 15 (sign-in with the organisation's OIDC provider where configured)
async fn an_oidc_sign_in_through_the_real_provider_lands_in_the_console(app: TestApp) {
    let s = crate::oidc::setup(&app, 60).await;
    // No organisation named, or one without a provider: no button.
    let (_, page) = get(&s.browser, format!("{}/sign-in", app.url)).await;
    assert!(!page.contains("id=\"sign-in-oidc\""), "{page}");
    let (_, page) = get(&s.browser, format!("{}/sign-in?organisation={}", app.url, s.supplier.id)).await;
    assert!(!page.contains("id=\"sign-in-oidc\"") && page.contains("name=\"organisation\""), "{page}");

    // The organisation's page offers its provider, through the start URL with the console's landing.
    let (status, page) = get(&s.browser, format!("{}/sign-in?organisation={}", app.url, s.org)).await;
    assert_eq!(status, 200);
    let start = format!("href=\"/oidc/{}/start?return_to=%2Fsign-in%2Foidc\"", s.org);
    assert!(page.contains(&start) && page.contains("Se connecter avec 127.0.0.1"), "{page}");

    let url = crate::oidc::to_callback(&app, &s, "ada@martin.test", "/sign-in/oidc").await;
    let (status, to, cookie, _) = crate::oidc::callback(&s, &url).await;
    assert_eq!((status, to.as_deref()), (303, Some("/sign-in/oidc")));
    assert!(cookie.is_some_and(|c| c.contains("HttpOnly")), "the hand-off cookie");
    let (status, page) = get(&s.browser, format!("{}/sign-in/oidc", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/oidc/session/console\"") && page.contains("data-autosubmit"), "{page}");
    assert!(!page.contains("cls_"), "the page never holds the secret: {page}");
    let token = csrf(&page);

    // Without the CSRF token nothing is handed over.
    let res = s.browser.post(format!("{}/oidc/session/console", app.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        s.browser.post(format!("{}/oidc/session/console", app.url)).form(&[("_csrf", &token)]).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients"));
    let session = set_cookie(&res, "clientele_session").expect("the console's session cookie");
    assert!(session.starts_with("clientele_session=cls_") && session.contains("SameSite=Lax"), "{session}");
    let cleared = set_cookie(&res, "clientele_oidc").expect("the hand-off cookie is cleared");
    assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/oidc/session"), "{cleared}");
    let (status, page) = get(&s.browser, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200, "signed in in the console: {page}");
    assert!(page.contains("id=\"sign-out\""), "{page}");
    let (_, sessions) = get(&s.browser, format!("{}/account/sessions", app.url)).await;
    assert!(sessions.contains("id=\"this-session\""), "{sessions}");

    // Once only: the hand-off is spent (the page's token now follows the session cookie).
    let (_, page) = get(&s.browser, format!("{}/sign-in/oidc", app.url)).await;
    let token = csrf(&page);
    let res =
        s.browser.post(format!("{}/oidc/session/console", app.url)).form(&[("_csrf", &token)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&res, "clientele_session").is_none());
}
