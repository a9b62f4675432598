//! The role matrix as a test (issue 12, "Tests that attack"): every mutation of the live schema,
//! enumerated by introspection, × every kind of credential → allowed or denied as the table
//! below says; on a deny nothing changes in the database. A mutation the table does not know
//! fails the test until someone classifies it.
//!
//! Classes follow `Permission::allows` (handles/src/tenancy.rs), docs/internals.md and issue 12
//! finding #3: a direct-login session works on records and settings, but mints no credentials,
//! creates no users, changes no roles, passwords or consent, and revokes none of the
//! customer's own sessions.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::TestApp;
use crate::customers::{customer, customer_admin};
use crate::generative::{Field, Rng, Schema, TypeRef};

both_dbs!(every_mutation_allows_exactly_the_credentials_of_its_class);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Works without a credential (sign-in, set-password links, registration): whatever the
    /// arguments, never `INTERNAL`; who calls it is not checked.
    Anonymous,
    /// Any signed-in user acts on itself (sign out); tokens: not checked.
    SelfService,
    /// Answering the terms of use is the user's own consent: users, not a direct-login session.
    Terms,
    /// Revoking a session: the test aims at a spare session of the super-admin, so only that
    /// user may (not tokens, not another user, not a direct-login session acting as them).
    OwnSessions,
    /// Record changes: member and above, `READ_WRITE` token, direct-login session.
    Write,
    /// Organisation settings: admin and super-admin, `READ_WRITE` token, direct-login session.
    ManageSettings,
    /// Users, roles, passwords, the organisation's sign-in: super-admin users only.
    ManageUsers,
    /// Minting and revoking API tokens: admin and super-admin users.
    ManageApiTokens,
    /// The customer's consent to direct login: the customer's super-admin users only.
    Consent,
    /// Purge and anonymise: super-admin users only.
    Purge,
    /// A supplier's administration of its customers (and its plugins, terms, registration
    /// links): supplier admins and super-admins.
    SupplierManageCustomers,
    /// Granting and using direct login: supplier super-admins only.
    SupplierSuperAdmin,
}

/// Every mutation's class. A new mutation must be added here.
fn class_of(mutation: &str) -> Option<Class> {
    use Class::{
        Anonymous, Consent, ManageApiTokens, ManageSettings, ManageUsers, OwnSessions, Purge, SelfService,
        SupplierManageCustomers, SupplierSuperAdmin, Terms, Write,
    };
    Some(match mutation {
        "signIn" | "setPassword" | "requestPasswordReset" | "registerOrganisation" => Anonymous,
        "signOut" => SelfService,
        "respondToTerms" => Terms,
        "revokeSession" => OwnSessions,
        "createUser" | "updateUser" | "changeUserRole" | "deactivateUser" | "reactivateUser" | "setUserPassword"
        | "configureOidcProvider" | "revokeDirectLoginSession" => ManageUsers,
        "createApiToken" | "revokeApiToken" => ManageApiTokens,
        "setDirectLoginAllowed" => Consent,
        "purgeClient" | "anonymiseClient" | "anonymiseClients" => Purge,
        "setDirectLoginPermission" | "directLogin" => SupplierSuperAdmin,
        "createCustomerOrganisation"
        | "updateCustomerOrganisation"
        | "addOrganisationContact"
        | "createLicence"
        | "updateLicence"
        | "deleteLicence"
        | "saveOrganisationCategory"
        | "setOrganisationCategories"
        | "saveCatalogueItem"
        | "saveCatalogueView"
        | "saveCustomerGroup"
        | "setOrganisationCustomerGroup"
        | "assignCatalogueView"
        | "unassignCatalogueView"
        | "publishTerms"
        | "sendAccessData"
        | "createRegistrationLink"
        | "revokeRegistrationLink"
        | "uploadPlugin"
        | "enablePlugin"
        | "upgradePlugin"
        | "disablePlugin"
        | "setPluginQuotas" => SupplierManageCustomers,
        "createCategory" | "updateCategory" | "deleteCategory" | "createGroup" | "updateGroup" | "deleteGroup"
        | "createCustomField" | "updateCustomField" | "createLookup" | "updateLookup" | "deleteLookup"
        | "createStaff" | "updateStaff" | "deactivateStaff" | "updateReferralSettings" => ManageSettings,
        "createClient"
        | "registerWebClient"
        | "createSavedSelection"
        | "updateSavedSelection"
        | "deleteSavedSelection"
        | "updateClient"
        | "deleteClient"
        | "restoreClient"
        | "blockClient"
        | "unblockClient"
        | "assignClientsToGroup"
        | "postLedgerEntry"
        | "reverseLedgerEntry"
        | "postDotation"
        | "setClientConsent"
        | "mergeClients"
        | "createAddress"
        | "updateAddress"
        | "deleteAddress"
        | "copyClientToAddress"
        | "completeClientForDocuments"
        | "createContact"
        | "updateContact"
        | "deleteContact"
        | "createBeneficiary"
        | "updateBeneficiary"
        | "deleteBeneficiary"
        | "blockBeneficiary"
        | "unblockBeneficiary"
        | "createClientCard"
        | "createBeneficiaryCard"
        | "updateCard"
        | "deleteCard"
        | "createClientDocument"
        | "updateClientDocument"
        | "deleteClientDocument"
        | "useReferralReward"
        | "startClientImport"
        | "uploadFile"
        | "archiveClientPhoto"
        | "editClientPhoto"
        | "deleteFile"
        // Plugin records and actions (enabled plugins add these).
        | "sellSubscription"
        | "useCoupon"
        | "setNationalId" => Write,
        m if ["create", "update", "delete"].iter().any(|p| m.starts_with(p))
            && PLUGIN_COLLECTIONS.iter().any(|c| m.ends_with(c)) =>
        {
            Write
        }
        _ => return None,
    })
}

/// Collections of the example plugins (pets, subscriptions, questionnaires).
const PLUGIN_COLLECTIONS: &[&str] = &[
    "Species",
    "Breed",
    "Pet",
    "PetEvent",
    "CouponPack",
    "CouponSubscription",
    "CouponUse",
    "Theme",
    "Criterion",
    "Answer",
    "Sheet",
    "SheetEntry",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cred {
    ReadOnly,
    ReadToken,
    Member,
    ReadWriteToken,
    Admin,
    DirectLogin,
    SuperAdmin,
    SupplierAdmin,
    SupplierSuperAdmin,
}

impl Cred {
    /// Least privileged first, so what a stronger credential changes cannot hide a deny.
    const ALL: [Self; 9] = [
        Self::ReadOnly,
        Self::ReadToken,
        Self::Member,
        Self::ReadWriteToken,
        Self::Admin,
        Self::DirectLogin,
        Self::SuperAdmin,
        Self::SupplierAdmin,
        Self::SupplierSuperAdmin,
    ];
    fn is_supplier(self) -> bool {
        matches!(self, Self::SupplierAdmin | Self::SupplierSuperAdmin)
    }
    fn is_token(self) -> bool {
        matches!(self, Self::ReadToken | Self::ReadWriteToken)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny,
    /// Only the never-fail properties are checked.
    Any,
}

fn expected(class: Class, cred: Cred) -> Expect {
    use Cred::{Admin, DirectLogin, Member, ReadWriteToken, SuperAdmin, SupplierAdmin, SupplierSuperAdmin};
    let allow = |yes: bool| if yes { Expect::Allow } else { Expect::Deny };
    match class {
        Class::Anonymous => Expect::Any,
        Class::SelfService | Class::Terms if cred.is_token() => Expect::Any,
        Class::SelfService => Expect::Allow,
        Class::Terms => allow(cred != DirectLogin),
        Class::OwnSessions => allow(matches!(cred, SuperAdmin | SupplierSuperAdmin)),
        Class::Write => allow(matches!(
            cred,
            Member | ReadWriteToken | Admin | DirectLogin | SuperAdmin | SupplierAdmin | SupplierSuperAdmin
        )),
        Class::ManageSettings => allow(matches!(
            cred,
            ReadWriteToken | Admin | DirectLogin | SuperAdmin | SupplierAdmin | SupplierSuperAdmin
        )),
        Class::ManageUsers | Class::Purge => allow(matches!(cred, SuperAdmin | SupplierSuperAdmin)),
        Class::ManageApiTokens => allow(matches!(cred, Admin | SuperAdmin | SupplierAdmin | SupplierSuperAdmin)),
        Class::Consent => allow(cred == SuperAdmin),
        Class::SupplierManageCustomers => allow(cred.is_supplier()),
        Class::SupplierSuperAdmin => allow(cred == SupplierSuperAdmin),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed(String),
    Denied(String),
    /// HTTP 5xx, an `INTERNAL` code or internal text: always a failure.
    Broken(String),
}

const DENIED: [&str; 3] = ["FORBIDDEN", "UNAUTHENTICATED", "TERMS_NOT_ACCEPTED"];

fn outcome(status: u16, body: &Value, mutation: &str) -> Outcome {
    if let Some(why) = crate::generative::check(status, body, Duration::ZERO, Duration::MAX) {
        return Outcome::Broken(why);
    }
    let error = body["errors"][0]["extensions"]["code"].as_str();
    let user_error = body["data"][mutation]["userErrors"][0]["code"].as_str();
    for code in [error, user_error].into_iter().flatten() {
        if DENIED.contains(&code) {
            return Outcome::Denied(code.to_owned());
        }
    }
    let shown = match (error, user_error) {
        (Some(e), _) => format!("error {e}"),
        (None, Some(u)) => format!("userError {u}"),
        (None, None) if body["errors"].is_array() => format!("uncoded error {}", body["errors"][0]["message"]),
        _ => "ok".to_owned(),
    };
    Outcome::Allowed(shown)
}

/// What the arguments may name: existing objects of the caller's world, so a missing
/// permission check cannot hide behind `NOT_FOUND`. The user, session and token are spares
/// nobody in the matrix signs in with.
struct Ids {
    client: String,
    organisation: String,
    user: String,
    session: String,
    api_token: String,
}

/// A plausible value of `ty` for argument or input field `name` of `mutation`.
fn arg_value(
    schema: &Schema,
    ty: &TypeRef,
    name: &str,
    mutation: &str,
    ids: &Ids,
    rng: &mut Rng,
    depth: usize,
) -> Value {
    let lower = name.to_lowercase();
    match ty {
        TypeRef::NonNull(t) => arg_value(schema, t, name, mutation, ids, rng, depth),
        TypeRef::List(t) => json!([arg_value(schema, t, name, mutation, ids, rng, depth + 1)]),
        TypeRef::Named(n) => match n.as_str() {
            "ID" if lower.contains("client")
                || (mutation.contains("Client") && ["id", "ids", "keepid"].contains(&lower.as_str())) =>
            {
                json!(ids.client)
            }
            "ID" if lower.contains("organisation")
                || lower == "customerid"
                || (mutation.contains("CustomerOrganisation") && lower == "id") =>
            {
                json!(ids.organisation)
            }
            "ID" if lower.contains("user") || (mutation.contains("User") && lower == "id") => json!(ids.user),
            "ID" if mutation == "revokeSession" => json!(ids.session),
            "ID" if mutation == "revokeApiToken" => json!(ids.api_token),
            "ID" => json!(rng.uuid()),
            "String" if lower.contains("email") => json!(format!("m{}@matrix.test", rng.below(1_000_000))),
            "String" if lower.contains("password") => json!("correct horse battery staple"),
            "String" if lower == "country" => json!("FR"),
            "String" if lower == "token" => json!("clo_not_a_real_link"),
            "String" if lower == "file" => json!("bGFzdE5hbWUKWmVkCg"), // base64 of "lastName\nZed\n"
            "String" if lower == "issuer" => json!("https://127.0.0.1:9/"),
            "String" => json!(format!("Matrix {}", rng.below(1_000_000))),
            "Int" => json!(1),
            "Float" => json!(1.0),
            "Boolean" => json!(true),
            "Decimal" => json!("1.00"),
            "Date" => json!("2030-01-01"),
            "DateTime" => json!("2030-01-01T00:00:00Z"),
            "JSON" => json!({}),
            "Upload" => json!(""),
            other => match schema.kind(other) {
                "ENUM" => json!(schema.types[other].enum_values.first()),
                "INPUT_OBJECT" if depth < 5 => {
                    let mut obj = serde_json::Map::new();
                    // Required fields, and the names services require (a title, a name).
                    let wanted = |f: &&crate::generative::InputValue| {
                        f.ty.is_required() || ["title", "name", "lastName", "label"].contains(&f.name.as_str())
                    };
                    for f in schema.types[other].input_fields.iter().filter(wanted) {
                        obj.insert(f.name.clone(), arg_value(schema, &f.ty, &f.name, mutation, ids, rng, depth + 1));
                    }
                    Value::Object(obj)
                }
                _ => json!("x"),
            },
        },
    }
}

/// The document and variables calling `field` with its required arguments.
fn call(schema: &Schema, field: &Field, ids: &Ids, rng: &mut Rng) -> (String, Value) {
    let required: Vec<_> = field.args.iter().filter(|a| a.ty.is_required()).collect();
    let defs: Vec<String> = required.iter().map(|a| format!("${}: {}", a.name, a.ty.sdl())).collect();
    let args: Vec<String> = required.iter().map(|a| format!("{}: ${}", a.name, a.name)).collect();
    let mut vars = serde_json::Map::new();
    for a in &required {
        vars.insert(a.name.clone(), arg_value(schema, &a.ty, &a.name, &field.name, ids, rng, 0));
    }
    let wrap = |v: &[String]| if v.is_empty() { String::new() } else { format!("({})", v.join(", ")) };
    let doc =
        format!("mutation M{} {{ {}{}{} }}", wrap(&defs), field.name, wrap(&args), schema.payload_selection(&field.ty));
    (doc, Value::Object(vars))
}

/// Every tenant table, minus what a request stamps by itself (an API token's last use).
async fn snapshot(app: &TestApp) -> Vec<(&'static str, Vec<String>)> {
    let backend = app.admin_db.get_database_backend();
    let mut all = Vec::new();
    for table in clientele_migrations::TENANT_TABLES {
        let rows = if *table == "api_tokens" {
            let sql = if backend == DbBackend::Postgres {
                "SELECT id::text || ',' || scope || ',' || coalesce(expires_at::text, '') || ',' || coalesce(revoked_at::text, '') AS r FROM api_tokens ORDER BY 1"
            } else {
                "SELECT quote(id) || ',' || scope || ',' || quote(expires_at) || ',' || quote(revoked_at) AS r FROM api_tokens ORDER BY 1"
            };
            let rows = app.admin_db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
            rows.iter().map(|r| r.try_get::<String>("", "r").unwrap()).collect()
        } else {
            app.rows(table).await
        };
        all.push((*table, rows));
    }
    all
}

fn changed_tables(before: &[(&'static str, Vec<String>)], after: &[(&'static str, Vec<String>)]) -> Vec<&'static str> {
    before.iter().zip(after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0).collect()
}

/// Waits until background work (search indexing, mail, imports) leaves the database still.
async fn settle(app: &TestApp) -> Vec<(&'static str, Vec<String>)> {
    let mut last = snapshot(app).await;
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = snapshot(app).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the database never settled: {:?} kept changing", changed_tables(&last, &snapshot(app).await));
}

/// Approves the current terms of use if the session has some pending (a supplier credential
/// earlier in the matrix may have published new ones).
async fn accept_pending_terms(app: &TestApp, token: &str) {
    let current = app.gql_ok(Some(token), "{ currentTerms { version status } }", json!({})).await;
    let terms = &current["data"]["currentTerms"];
    if terms.is_object() && terms["status"] != "APPROVED" {
        let res = app
            .gql_ok(
                Some(token),
                "mutation($v: Int!) { respondToTerms(input: {version: $v, approve: true}) { terms { status } userErrors { code } } }",
                json!({ "v": terms["version"] }),
            )
            .await;
        assert_eq!(res["data"]["respondToTerms"]["terms"]["status"], "APPROVED", "{res}");
    }
}

async fn create_client(app: &TestApp, token: &str, last: &str) -> String {
    let body = app
        .gql_ok(
            Some(token),
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { code } } }",
            json!({ "i": { "lastName": last, "firstName": "Matrix" } }),
        )
        .await;
    body["data"]["createClient"]["client"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// Mints a token; its id and secret.
async fn create_token(app: &TestApp, session: &str, scope: &str) -> (String, String) {
    let body = app
        .gql_ok(
            Some(session),
            "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id } userErrors { code } } }",
            json!({ "i": { "name": format!("matrix {scope}"), "scope": scope } }),
        )
        .await;
    let payload = &body["data"]["createApiToken"];
    let secret = payload["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    (payload["apiToken"]["id"].as_str().unwrap().to_owned(), secret)
}

/// A spare session of the user `email` signs in as, by id: the session a revocation aims at.
async fn spare_session(app: &TestApp, email: &str) -> String {
    let token = app.sign_in(email, "correct horse battery").await;
    let body = app.gql_ok(Some(&token), "{ viewer { sessions { id current } } }", json!({})).await;
    let sessions = body["data"]["viewer"]["sessions"].as_array().unwrap_or_else(|| panic!("{body}"));
    let current = sessions.iter().find(|s| s["current"] == true).unwrap_or_else(|| panic!("{body}"));
    current["id"].as_str().unwrap().to_owned()
}

/// Mutations that end or change the caller's own standing run last in a credential's batch.
const LAST: &[&str] = &["publishTerms", "signOut"];

// issue 12 #3 #4 #5 (the role matrix of "Tests that attack")
async fn every_mutation_allows_exactly_the_credentials_of_its_class(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let grant = app
        .gql_ok(
            Some(&supplier.token),
            "mutation($u: ID!) { setDirectLoginPermission(input: {userId: $u, allowed: true}) { user { canDirectLogin } userErrors { code } } }",
            json!({ "u": supplier.admin_id }),
        )
        .await;
    assert_eq!(grant["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true, "{grant}");
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 10).await;
    let admin = customer_admin(&app, &org).await;
    let (_, read_only) = app.user(&admin, "reader@martin.test", "READ_ONLY").await;
    let (_, member) = app.user(&admin, "member@martin.test", "MEMBER").await;
    let (_, customer_admin_token) = app.user(&admin, "admin@martin.test", "ADMIN").await;
    let (_, read_token) = create_token(&app, &admin.token, "READ").await;
    let (_, rw_token) = create_token(&app, &admin.token, "READ_WRITE").await;
    let (customer_spare_token, _) = create_token(&app, &admin.token, "READ").await;
    let (customer_spare_user, _) = app.user(&admin, "spare@martin.test", "MEMBER").await;
    let customer_spare_session = spare_session(&app, "ada@martin.test").await;
    let opened = app
        .gql_ok(
            Some(&supplier.token),
            "mutation($o: ID!) { directLogin(input: {organisationId: $o, reason: \"Role matrix\"}) { token userErrors { code } } }",
            json!({ "o": org["id"] }),
        )
        .await;
    let direct = opened["data"]["directLogin"]["token"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    let (_, supplier_admin) = app.user(&supplier, "helper@acme.test", "ADMIN").await;
    let (supplier_spare_user, _) = app.user(&supplier, "spare@acme.test", "ADMIN").await;
    let (supplier_spare_token, _) = create_token(&app, &supplier.token, "READ").await;
    let customer_ids = Ids {
        client: create_client(&app, &admin.token, "Zed").await,
        organisation: org["id"].as_str().unwrap().to_owned(),
        user: customer_spare_user,
        session: customer_spare_session,
        api_token: customer_spare_token,
    };
    let supplier_ids = Ids {
        client: create_client(&app, &supplier.token, "Supplierclient").await,
        organisation: customer_ids.organisation.clone(),
        user: supplier_spare_user,
        session: spare_session(&app, "owner@acme.test").await,
        api_token: supplier_spare_token,
    };

    let customer_schema = Schema::introspect(&app, &admin.token).await;
    let supplier_schema = Schema::introspect(&app, &supplier.token).await;
    let mut unclassified: Vec<String> = customer_schema
        .mutations()
        .into_iter()
        .chain(supplier_schema.mutations())
        .filter(|m| class_of(&m.name).is_none())
        .map(|m| m.name)
        .collect();
    unclassified.sort();
    unclassified.dedup();
    assert!(
        unclassified.is_empty(),
        "classify these mutations in role_matrix.rs `class_of` (who may call them?): {unclassified:?}"
    );
    assert!(customer_schema.mutations().len() > 50, "introspection found too few mutations");

    let mut rng = Rng::new(12);
    let mut mismatches = Vec::new();
    let mut calls = 0;
    for cred in Cred::ALL {
        let token = match cred {
            Cred::ReadOnly => &read_only,
            Cred::ReadToken => &read_token,
            Cred::Member => &member,
            Cred::ReadWriteToken => &rw_token,
            Cred::Admin => &customer_admin_token,
            Cred::DirectLogin => &direct,
            Cred::SuperAdmin => &admin.token,
            Cred::SupplierAdmin => &supplier_admin,
            Cred::SupplierSuperAdmin => &supplier.token,
        };
        if !cred.is_token() {
            accept_pending_terms(&app, token).await;
        }
        let (schema, ids) =
            if cred.is_supplier() { (&supplier_schema, &supplier_ids) } else { (&customer_schema, &customer_ids) };
        let mut fields = schema.mutations();
        // Expected denials first, each between two snapshots; then the rest; `LAST` at the end.
        fields.sort_by_key(|f| {
            let class = class_of(&f.name).unwrap();
            (LAST.contains(&f.name.as_str()), expected(class, cred) != Expect::Deny, f.name.clone())
        });
        let mut before = settle(&app).await;
        let mut stale = false;
        for field in &fields {
            let want = expected(class_of(&field.name).unwrap(), cred);
            if want == Expect::Deny && stale {
                before = settle(&app).await;
                stale = false;
            }
            let (doc, vars) = call(schema, field, ids, &mut rng);
            let (status, body, _) = crate::generative::send(&app, Some(token), &doc, &vars).await;
            calls += 1;
            let mut got = outcome(status, &body, &field.name);
            // Someone else's session is not found: that is how a revocation is refused.
            if class_of(&field.name) == Some(Class::OwnSessions)
                && got == Outcome::Allowed("userError NOT_FOUND".to_owned())
            {
                got = Outcome::Denied("NOT_FOUND".to_owned());
            }
            let report = |what: &str| {
                format!(
                    "{:?} × {}: {what}\n  document: {doc}\n  variables: {vars}\n  answer ({status}): {body}",
                    cred, field.name
                )
            };
            match (&got, want) {
                (Outcome::Broken(why), _) => mismatches.push(report(&format!("broken answer ({why})"))),
                (Outcome::Allowed(code), Expect::Deny) if code.contains("VALIDATION") => {
                    mismatches.push(report(&format!(
                        "expected DENIED, was allowed ({code}: the input was checked before the caller's permission)"
                    )));
                }
                (Outcome::Allowed(code), Expect::Deny) => {
                    mismatches.push(report(&format!("expected DENIED, was allowed ({code})")));
                }
                (Outcome::Denied(code), Expect::Allow) => {
                    mismatches.push(report(&format!("expected allowed, was denied ({code})")));
                }
                _ => {}
            }
            if want == Expect::Deny {
                if let Outcome::Denied(code) = &got {
                    let after = snapshot(&app).await;
                    let changed = changed_tables(&before, &after);
                    if !changed.is_empty() {
                        mismatches.push(report(&format!("denied ({code}) but changed {changed:?}")));
                    }
                    before = after;
                } else {
                    stale = true;
                }
            } else {
                stale = true;
            }
        }
    }
    assert!(calls > 9 * 50, "the matrix made only {calls} calls");
    assert!(
        mismatches.is_empty(),
        "{} of {calls} role-matrix cells are wrong:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
