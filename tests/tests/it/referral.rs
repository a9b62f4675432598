//! Sponsorship through GraphQL: the organisation's settings and who may change them, rewards
//! earned and used (under concurrency too), the switch, and the cross-tenant matrix.

use serde_json::{Value, json};

use crate::addresses::{audit_actions, read_token};
use crate::both_dbs;
use crate::clients::{create, person};
use crate::common::{Tenant, TestApp, code, input_field, input_path, user_error_codes};
use crate::customers::{customer, customer_admin};

both_dbs!(
    referral_settings_are_read_by_everyone_and_changed_by_admins,
    each_sponsee_earns_one_reward_and_using_one_decrements,
    concurrent_uses_never_spend_more_rewards_than_earned,
    with_sponsorship_off_no_client_gets_a_new_sponsor,
    foreign_record_ids_are_not_found_and_change_nothing,
);

const SETTINGS: &str = "enabled rewardKind rewardValue skipDiscountForbidden offerText printOnReceipt";
const USE: &str = "mutation($id: ID!) { useReferralReward(input: {clientId: $id}) { rewards { clientId earned used remaining } userErrors { code } } }";

async fn update_settings(app: &TestApp, token: &str, input: Value) -> Value {
    let q = format!(
        "mutation($i: UpdateReferralSettingsInput!) {{ updateReferralSettings(input: $i) {{ referralSettings {{ {SETTINGS} updatedAt }} userErrors {{ field code message }} }} }}"
    );
    app.gql(Some(token), &q, json!({ "i": input })).await
}

async fn rewards(app: &TestApp, t: &Tenant, client: &Value) -> Value {
    let q = "query($id: ID!) { client(id: $id) { referralRewards { earned used remaining } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await["data"]["client"]["referralRewards"].clone()
}

async fn sponsee(app: &TestApp, t: &Tenant, sponsor: &Value, last: &str) -> Value {
    let made = create(app, t, json!({ "lastName": last, "firstName": "F", "sponsorId": sponsor["id"] })).await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    made["client"].clone()
}

// REF-01 REF-02 REF-03
async fn referral_settings_are_read_by_everyone_and_changed_by_admins(app: TestApp) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &s, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let (_, member) = app.user(&admin, "marc@martin.test", "MEMBER").await;
    let q = format!("{{ referralSettings {{ {SETTINGS} updatedAt }} }}");
    let defaults = app.gql_ok(Some(&member), &q, json!({})).await;
    assert_eq!(
        defaults["data"]["referralSettings"],
        json!({ "enabled": true, "rewardKind": "DISCOUNT_PERCENT", "rewardValue": "0.00", "skipDiscountForbidden": false,
                "offerText": null, "printOnReceipt": false, "updatedAt": null }),
        "{defaults}"
    );
    let input = json!({ "rewardValue": "10", "skipDiscountForbidden": true, "offerText": "Parrainez un ami : -10 % pour vous !",
                        "printOnReceipt": true });
    assert_eq!(code(&update_settings(&app, &member, input.clone()).await), "FORBIDDEN");
    assert_eq!(code(&update_settings(&app, &read_token(&app, &admin).await, input.clone()).await), "FORBIDDEN");
    let saved = update_settings(&app, &admin.token, input).await;
    let saved = &saved["data"]["updateReferralSettings"];
    assert_eq!(saved["userErrors"], json!([]), "{saved}");
    assert_eq!(saved["referralSettings"]["rewardValue"], "10.00");
    assert!(saved["referralSettings"]["updatedAt"].is_string());
    let read = app.gql_ok(Some(&member), &q, json!({})).await;
    assert_eq!(read["data"]["referralSettings"]["offerText"], "Parrainez un ami : -10 % pour vous !", "{read}");
    assert_eq!(read["data"]["referralSettings"]["printOnReceipt"], true);

    // REF-02: a discount in percent or a fixed rebate, each checked as such.
    let refused = update_settings(&app, &admin.token, json!({ "rewardValue": "150" })).await;
    assert_eq!(
        refused["data"]["updateReferralSettings"]["userErrors"][0]["field"],
        json!(["input", "rewardValue"]),
        "{refused}"
    );
    let rebate =
        update_settings(&app, &admin.token, json!({ "rewardKind": "FIXED_REBATE", "rewardValue": "150" })).await;
    let rebate = &rebate["data"]["updateReferralSettings"];
    assert_eq!(
        (rebate["referralSettings"]["rewardKind"].as_str(), rebate["referralSettings"]["rewardValue"].as_str()),
        (Some("FIXED_REBATE"), Some("150.00"))
    );
    let bad = update_settings(&app, &admin.token, json!({ "rewardValue": "-1", "offerText": "x".repeat(501) })).await;
    let fields: Vec<String> =
        bad["data"]["updateReferralSettings"]["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["rewardValue", "offerText"]);
    let cleared = update_settings(&app, &admin.token, json!({ "offerText": null, "enabled": false })).await;
    let cleared = &cleared["data"]["updateReferralSettings"]["referralSettings"];
    assert_eq!(
        (cleared["offerText"].clone(), cleared["enabled"].as_bool(), cleared["rewardKind"].as_str()),
        (Value::Null, Some(false), Some("FIXED_REBATE"))
    );
    assert_eq!(audit_actions(&app, "referral_settings.update").await, 3);
    assert_eq!(app.count("referral_settings").await, 1, "one row per organisation");
}

// REF-04 REF-05 Q-14 LIF-01
async fn each_sponsee_earns_one_reward_and_using_one_decrements(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let sponsor = person(&app, &t, "Parrain", "Paul").await;
    assert_eq!(rewards(&app, &t, &sponsor).await, json!({ "earned": 0, "used": 0, "remaining": 0 }));
    let refused = app.gql(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(code(&refused), "NO_REFERRAL_REWARD_LEFT", "{refused}");
    let first = sponsee(&app, &t, &sponsor, "Filleul1").await;
    sponsee(&app, &t, &sponsor, "Filleul2").await;
    assert_eq!(rewards(&app, &t, &sponsor).await, json!({ "earned": 2, "used": 0, "remaining": 2 }));
    let used = app.gql_ok(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(
        used["data"]["useReferralReward"]["rewards"],
        json!({ "clientId": sponsor["id"], "earned": 2, "used": 1, "remaining": 1 }),
        "{used}"
    );
    assert_eq!(audit_actions(&app, "client.use_referral_reward").await, 1);

    // A sponsee in the trash earns nothing; used rewards stay used.
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": first["id"] }),
    )
    .await;
    assert_eq!(rewards(&app, &t, &sponsor).await, json!({ "earned": 1, "used": 1, "remaining": 0 }));
    let none = app.gql(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(code(&none), "NO_REFERRAL_REWARD_LEFT");
    sponsee(&app, &t, &sponsor, "Filleul3").await;
    // LIF-01: a blocked sponsor uses nothing.
    let q = "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Bad payer\"}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": sponsor["id"] })).await;
    assert_eq!(code(&app.gql(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await), "CLIENT_BLOCKED");
    let q = "mutation($id: ID!) { unblockClient(input: {id: $id}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": sponsor["id"] })).await;
    let again = app.gql_ok(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(again["data"]["useReferralReward"]["rewards"]["remaining"], 0, "{again}");
    let reader = read_token(&app, &t).await;
    assert_eq!(code(&app.gql(Some(&reader), USE, json!({ "id": sponsor["id"] })).await), "FORBIDDEN");
    // The list shows each client's rewards.
    let list = app
        .gql_ok(
            Some(&t.token),
            "{ clients(orderBy: NAME) { nodes { lastName referralRewards { remaining } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["clients"]["nodes"][2],
        json!({ "lastName": "Parrain", "referralRewards": { "remaining": 0 } }),
        "{list}"
    );
}

//
async fn concurrent_uses_never_spend_more_rewards_than_earned(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let sponsor = person(&app, &t, "Parrain", "Paul").await;
    for i in 0..3 {
        sponsee(&app, &t, &sponsor, &format!("Filleul{i}")).await;
    }
    let attempts = (0..8).map(|_| app.gql(Some(&t.token), USE, json!({ "id": sponsor["id"] })));
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r["data"]["useReferralReward"]["rewards"].is_object()).count();
    let refused = results
        .iter()
        .filter(|r| user_error_codes(&r["data"]["useReferralReward"]) == ["NO_REFERRAL_REWARD_LEFT"])
        .count();
    assert_eq!((won, refused), (3, 5), "{results:#?}");
    assert_eq!(rewards(&app, &t, &sponsor).await, json!({ "earned": 3, "used": 3, "remaining": 0 }));
}

// REF-01 REF-04
async fn with_sponsorship_off_no_client_gets_a_new_sponsor(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let sponsor = person(&app, &t, "Parrain", "Paul").await;
    let linked = sponsee(&app, &t, &sponsor, "Ancien").await;
    let off = update_settings(&app, &t.token, json!({ "enabled": false })).await;
    assert_eq!(off["data"]["updateReferralSettings"]["userErrors"], json!([]), "{off}");

    let made = create(&app, &t, json!({ "lastName": "Nouveau", "firstName": "N", "sponsorId": sponsor["id"] })).await;
    assert_eq!(
        (made["userErrors"][0]["field"].clone(), user_error_codes(&made)),
        (input_path("sponsor"), vec!["VALIDATION".to_owned()]),
        "{made}"
    );
    assert!(made["client"].is_null());
    let other = person(&app, &t, "Autre", "A").await;
    let q = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { sponsorId notes } userErrors { field code } } }";
    let set = app.gql(Some(&t.token), q, json!({ "i": { "id": other["id"], "sponsorId": sponsor["id"] } })).await;
    assert_eq!(
        set["data"]["updateClient"]["userErrors"],
        json!([{ "field": ["input", "sponsor"], "code": "VALIDATION" }]),
        "{set}"
    );
    // Links made before stay, the sponsee stays editable, and a link may be removed.
    let kept = app.gql_ok(Some(&t.token), q, json!({ "i": { "id": linked["id"], "notes": "still here" } })).await;
    assert_eq!(
        kept["data"]["updateClient"]["client"],
        json!({ "sponsorId": sponsor["id"], "notes": "still here" }),
        "{kept}"
    );
    let off_use = app.gql(Some(&t.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(
        user_error_codes(&off_use["data"]["useReferralReward"]),
        ["VALIDATION"],
        "no reward while off: {off_use}"
    );
    let removed = app.gql_ok(Some(&t.token), q, json!({ "i": { "id": linked["id"], "sponsorId": null } })).await;
    assert_eq!(removed["data"]["updateClient"]["client"]["sponsorId"], Value::Null, "{removed}");

    update_settings(&app, &t.token, json!({ "enabled": true })).await;
    let back = app.gql_ok(Some(&t.token), q, json!({ "i": { "id": other["id"], "sponsorId": sponsor["id"] } })).await;
    assert_eq!(back["data"]["updateClient"]["client"]["sponsorId"], sponsor["id"], "{back}");
}

// Cross-tenant matrix of this area's operations (see cross_tenant.rs for the pattern).
async fn foreign_record_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let sponsor = person(&app, &b, "Parrain", "Paul").await;
    sponsee(&app, &b, &sponsor, "Filleul").await;
    update_settings(&app, &b.token, json!({ "rewardValue": "5" })).await;

    let before = app.snapshot().await;
    let body = app.gql(Some(&a.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let q = "query($id: ID!) { client(id: $id) { referralRewards { remaining } } }";
    assert_eq!(code(&app.gql(Some(&a.token), q, json!({ "id": sponsor["id"] })).await), "NOT_FOUND");
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");

    // Settings are per organisation: A sees its own defaults and its change leaves B's alone.
    let read = app.gql_ok(Some(&a.token), "{ referralSettings { rewardValue } }", json!({})).await;
    assert_eq!(read["data"]["referralSettings"]["rewardValue"], "0.00");
    update_settings(&app, &a.token, json!({ "enabled": false })).await;
    let theirs = app.gql_ok(Some(&b.token), "{ referralSettings { enabled rewardValue } }", json!({})).await;
    assert_eq!(theirs["data"]["referralSettings"], json!({ "enabled": true, "rewardValue": "5.00" }));
    let again = app.gql_ok(Some(&b.token), USE, json!({ "id": sponsor["id"] })).await;
    assert_eq!(again["data"]["useReferralReward"]["rewards"]["remaining"], 0, "{again}");
}
