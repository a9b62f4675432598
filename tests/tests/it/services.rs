//! Domain rules tested on the services themselves, without HTTP or GraphQL: each test calls
//! service methods with a `TenantCtx`, on both databases, with a fixed clock and seeded entropy
//! (`TestApp::start_fixed`). HTTP is used only to set up organisations and users.

use clientele_kernel::person::ContactPatch;
use clientele_kernel::tenancy::Principal;
use clientele_kernel::{
    Actor, AppError, CategoryId, ErrorCode, OrgKind, Role, SessionId, TenantCtx, TenantId, TokenScope, UserId,
};
use clientele_records::clients::{
    AccountKind, AddressInput, AddressKind, CategoryInput, ClientInput, ClientKind, ConsentChannel, ConsentStatus,
    ContactInput, EntryInput, LedgerKind,
};
use clientele_tenants::ClientInfo;
use clientele_tenants::password::HashBudget;

use crate::both_dbs_fixed;
use crate::common::{Tenant, TestApp, fixed_now};
use crate::customers::{customer, customer_admin};

both_dbs_fixed!(
    client_create_reports_every_invalid_field,
    credit_accounts_stop_at_their_limit_and_deposits_at_zero,
    category_and_group_names_are_required_and_unique,
    the_last_super_admin_stays,
    direct_login_needs_the_customers_consent,
    a_trashed_client_is_frozen_until_restored,
);

/// A context acting as `user` of `tenant` with `role`, as a signed-in session would.
fn acting(app: &TestApp, tenant: &str, kind: OrgKind, user: &str, role: Role) -> TenantCtx {
    let principal = Principal::User { user: UserId(user.parse().unwrap()), session: SessionId(uuid::Uuid::nil()) };
    let actor = Actor { principal, role, scope: TokenScope::ReadWrite, on_behalf_of: None };
    TenantCtx::new(app.state.handles.clone(), TenantId(tenant.parse().unwrap()), kind, actor)
}

fn supplier_ctx(app: &TestApp, t: &Tenant) -> TenantCtx {
    acting(app, &t.id, OrgKind::Supplier, &t.admin_id, Role::SuperAdmin)
}

/// The fields an error reports, in order.
fn fields(err: &AppError) -> Vec<&str> {
    err.each().map(|e| e.field().unwrap_or("")).collect()
}

/// A `Patch` that sets the field.
#[allow(clippy::unnecessary_wraps)] // the shape of every patched input field
fn text(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_owned()))
}

// CLI-03 CLI-08 CLI-11 BIL-14
async fn client_create_reports_every_invalid_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let ctx = supplier_ctx(&app, &t);
    let clients = &app.state.records.clients;
    let bad = ClientInput {
        last_name: text("Dupont"),
        first_name: text("Anne"),
        email: text("not an address"),
        siret: text("123"),
        bank_iban: text("FR00 0000"),
        ..ClientInput::default()
    };
    let err = clients.create(&ctx, bad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    assert_eq!(fields(&err), ["email", "bank_iban", "siret"], "every invalid field at once, by domain name: {err:?}");
    assert_eq!(app.count("clients").await, 0, "nothing is saved");

    let good = ClientInput {
        last_name: text("Dupont"),
        first_name: text("Anne"),
        email: text("anne@example.test"),
        ..ClientInput::default()
    };
    let made = clients.create(&ctx, good).await.unwrap();
    assert_eq!((made.number, made.code.as_str()), (1, "1"), "CLI-03: numbered, the code defaults to the number");
    assert_eq!(made.created_at, fixed_now(), "dated by the fixed clock");
}

// LED-04 LED-05 LED-06 LED-07
async fn credit_accounts_stop_at_their_limit_and_deposits_at_zero(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let ctx = supplier_ctx(&app, &t);
    let (clients, ledger) = (&app.state.records.clients, &app.state.records.ledger);
    // LED-06: a credit account needs a company name and an e-mail address.
    let account = |kind, limit: Option<&str>, email: &str| ClientInput {
        kind: Some(ClientKind::Company),
        company_name: text("Owing SA"),
        email: text(email),
        account_kind: Some(kind),
        credit_limit: limit.map(str::to_owned),
        ..ClientInput::default()
    };
    let entry = |kind, amount: &str| EntryInput {
        kind,
        amount: amount.to_owned(),
        date: None,
        document_ref: None,
        note: None,
        beneficiary: None,
        card: None,
    };

    let credit = clients.create(&ctx, account(AccountKind::Credit, Some("100"), "credit@x.test")).await.unwrap();
    let posted = ledger.post(&ctx, credit.id, entry(LedgerKind::Invoice, "60")).await.unwrap();
    assert_eq!(posted.balance.to_decimal_string(), "-60.00");
    assert_eq!(posted.entry.date, fixed_now().date_naive(), "dated today by default");
    let over = ledger.post(&ctx, credit.id, entry(LedgerKind::Invoice, "40.01")).await.unwrap_err();
    assert_eq!(over.code(), ErrorCode::CreditLimitExceeded);
    let exact = ledger.post(&ctx, credit.id, entry(LedgerKind::Invoice, "40")).await.unwrap();
    assert_eq!(exact.balance.to_decimal_string(), "-100.00", "the limit itself is allowed");

    let deposit = clients.create(&ctx, account(AccountKind::Deposit, None, "deposit@x.test")).await.unwrap();
    let below = ledger.post(&ctx, deposit.id, entry(LedgerKind::Invoice, "0.01")).await.unwrap_err();
    assert_eq!(below.code(), ErrorCode::CreditLimitExceeded, "a deposit never goes below zero");
    ledger.post(&ctx, deposit.id, entry(LedgerKind::Payment, "10")).await.unwrap();
    let spent = ledger.post(&ctx, deposit.id, entry(LedgerKind::Invoice, "10")).await.unwrap();
    assert_eq!(spent.balance.to_decimal_string(), "0.00");
}

// CAT-01 CAT-06
async fn category_and_group_names_are_required_and_unique(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let ctx = supplier_ctx(&app, &t);
    let categories = &app.state.records.categories;
    let named = |name: &str| CategoryInput { name: Some(name.to_owned()), ..CategoryInput::default() };

    let blank = categories.save_category(&ctx, None, named("  ")).await.unwrap_err();
    assert_eq!((blank.code(), fields(&blank)), (ErrorCode::Validation, vec!["name"]));
    let vip = categories.save_category(&ctx, None, named(" VIP ")).await.unwrap();
    assert_eq!(vip.name, "VIP", "trimmed");
    let again = categories.save_category(&ctx, None, named("VIP")).await.unwrap_err();
    assert_eq!((again.code(), fields(&again)), (ErrorCode::Conflict, vec!["name"]));
    let missing = categories.save_category(&ctx, Some(CategoryId(uuid::Uuid::nil())), named("X")).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);

    // Deleting a category keeps its clients, without it.
    let input = ClientInput {
        last_name: text("Dupont"),
        first_name: text("Anne"),
        category: Some(Some(vip.id)),
        ..ClientInput::default()
    };
    let client = app.state.records.clients.create(&ctx, input).await.unwrap();
    assert_eq!(client.category, Some(vip.id));
    categories.delete_category(&ctx, vip.id).await.unwrap();
    assert_eq!(app.state.records.clients.get(&ctx, client.id).await.unwrap().category, None);

    let group = categories.save_group(&ctx, None, Some("Newsletter".to_owned()), None).await.unwrap();
    let twice = categories.save_group(&ctx, None, Some("Newsletter".to_owned()), None).await.unwrap_err();
    assert_eq!((twice.code(), fields(&twice)), (ErrorCode::Conflict, vec!["name"]));
    let emptied = categories.save_group(&ctx, Some(group.id), Some(String::new()), None).await.unwrap_err();
    assert_eq!(fields(&emptied), ["name"]);

    // A reader cannot change settings.
    let reader = ctx_with_scope(&app, &t, TokenScope::Read);
    let refused = categories.save_category(&reader, None, named("Other")).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
}

fn ctx_with_scope(app: &TestApp, t: &Tenant, scope: TokenScope) -> TenantCtx {
    let principal =
        Principal::User { user: UserId(t.admin_id.parse().unwrap()), session: SessionId(uuid::Uuid::nil()) };
    let actor = Actor { principal, role: Role::SuperAdmin, scope, on_behalf_of: None };
    TenantCtx::new(app.state.handles.clone(), TenantId(t.id.parse().unwrap()), OrgKind::Supplier, actor)
}

// USR-07 issue 13
async fn the_last_super_admin_stays(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let ctx = supplier_ctx(&app, &t);
    let users = &app.state.services.users;
    let owner = UserId(t.admin_id.parse().unwrap());
    let demoted = users.change_role(&ctx, owner, Role::Admin).await.unwrap_err();
    assert_eq!(demoted.code(), ErrorCode::LastSuperAdmin);
    let deactivated = users.deactivate(&ctx, owner).await.unwrap_err();
    assert_eq!(deactivated.code(), ErrorCode::LastSuperAdmin);

    // With a second super-admin, the first may step down; then the second is the last.
    let (second_id, _) = app.user(&t, "second@acme.test", "SUPER_ADMIN").await;
    assert_eq!(users.change_role(&ctx, owner, Role::Admin).await.unwrap().role, Role::Admin);
    let second = acting(&app, &t.id, OrgKind::Supplier, &second_id, Role::SuperAdmin);
    let refused = users.deactivate(&second, UserId(second_id.parse().unwrap())).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::LastSuperAdmin);
}

// ORG-21 issue 12 #4
async fn direct_login_needs_the_customers_consent(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &t, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    let direct = &app.state.services.direct_login;
    let supplier = supplier_ctx(&app, &t);
    let customer = acting(&app, &admin.id, OrgKind::Customer, &admin.admin_id, Role::SuperAdmin);
    let customer_id = TenantId(admin.id.parse().unwrap());
    let info = ClientInfo { addr: None, user_agent: None, hashes: HashBudget::default() };
    direct.set_permission(&supplier, UserId(t.admin_id.parse().unwrap()), true).await.unwrap();

    // The consent is the customer's: the supplier cannot give it.
    assert_eq!(direct.set_allowed(&supplier, true).await.unwrap_err().code(), ErrorCode::Forbidden);
    assert!(!direct.set_allowed(&customer, false).await.unwrap().direct_login_allowed);
    let refused = direct.open(&supplier, customer_id, "Support", &info).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::DirectLoginNotAllowed);

    assert!(direct.set_allowed(&customer, true).await.unwrap().direct_login_allowed);
    let opened = direct.open(&supplier, customer_id, "Support", &info).await.unwrap();
    assert_eq!(opened.acting_as.to_string(), admin.admin_id, "as the customer's super-admin");
    assert_eq!(opened.session.expires_at.date_naive(), fixed_now().date_naive());
}

// LIF-03 LIF-05: a client in the trash comes back exactly as it left: nothing under it changes
// (its record, contacts, addresses, block, consents) until it is restored; reads still answer.
async fn a_trashed_client_is_frozen_until_restored(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let ctx = supplier_ctx(&app, &t);
    let r = &app.state.records;
    let made = r
        .clients
        .create(&ctx, ClientInput { last_name: text("Dupont"), first_name: text("Anne"), ..ClientInput::default() })
        .await
        .unwrap();
    let contact_input = || ContactInput {
        details: ContactPatch { last_name: Some("Martin".into()), ..ContactPatch::default() },
        ..ContactInput::default()
    };
    let address_input =
        || AddressInput { kind: Some(AddressKind::Main), city: text("Lyon"), ..AddressInput::default() };
    let contact = r.contacts.create(&ctx, made.id, contact_input()).await.unwrap();
    let address = r.addresses.create(&ctx, made.id, address_input()).await.unwrap();
    r.clients.trash(&ctx, made.id).await.unwrap();
    let audit_rows = app.count("audit_log").await;

    let unavailable = |what: &str, err: AppError| {
        assert_eq!(err.code(), ErrorCode::ClientUnavailable, "{what} under a trashed client: {err:?}");
    };
    let rename = ClientInput { first_name: text("Anna"), ..ClientInput::default() };
    unavailable("update", r.clients.update(&ctx, made.id, rename.clone()).await.unwrap_err());
    unavailable("block", r.clients.set_blocked(&ctx, made.id, Some("unpaid".into())).await.unwrap_err());
    unavailable("new contact", r.contacts.create(&ctx, made.id, contact_input()).await.unwrap_err());
    unavailable("contact change", r.contacts.update(&ctx, contact.id, contact_input()).await.unwrap_err());
    unavailable("contact deletion", r.contacts.delete(&ctx, contact.id).await.unwrap_err());
    unavailable("new address", r.addresses.create(&ctx, made.id, address_input()).await.unwrap_err());
    unavailable("address change", r.addresses.update(&ctx, address.id, AddressInput::default()).await.unwrap_err());
    unavailable("address deletion", r.addresses.delete(&ctx, address.id).await.unwrap_err());
    let consent = r.clients.set_consent(&ctx, made.id, ConsentChannel::Email, ConsentStatus::Granted, "shop").await;
    unavailable("consent", consent.unwrap_err());
    assert_eq!(app.count("audit_log").await, audit_rows, "nothing refused was written");
    assert_eq!(r.clients.get(&ctx, made.id).await.unwrap().first_name.as_deref(), Some("Anne"), "reads still answer");

    let restored = r.clients.restore(&ctx, made.id).await.unwrap();
    assert_eq!(restored.first_name.as_deref(), Some("Anne"), "it came back as it left");
    assert_eq!(r.clients.update(&ctx, made.id, rename).await.unwrap().first_name.as_deref(), Some("Anna"));
    r.contacts.update(&ctx, contact.id, contact_input()).await.unwrap();
    r.addresses.delete(&ctx, address.id).await.unwrap();
}
