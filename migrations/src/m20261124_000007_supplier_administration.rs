//! Supplier administration: customer-organisation master data, organisation categories and
//! contact persons, licences, customer groups, catalogue and views, terms of use, registration
//! links, direct-login sessions and OIDC providers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, integer, json, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New tenant tables of this migration (all under row-level security on PostgreSQL).
pub const TABLES: [&str; 15] = [
    "supplier_counters",
    "org_categories",
    "org_category_links",
    "org_contacts",
    "licences",
    "customer_groups",
    "catalogue_items",
    "catalogue_views",
    "catalogue_view_assignments",
    "terms_documents",
    "terms_responses",
    "registration_links",
    "oidc_providers",
    "oidc_flows",
    "mail_outbox",
];

fn key(cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    for c in cols {
        index.col(*c);
    }
    index
}

fn org_fk(from: &'static str, col: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from_tbl(from).from_col(col).to_tbl("organisations").to_col("id").on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn tenant_fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from)
        .from_col("tenant_id")
        .from_col(col)
        .to_tbl(to)
        .to_col("tenant_id")
        .to_col("id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(&mut key(&["tenant_id", "id"]))
        .foreign_key(&mut org_fk(name, "tenant_id"))
        .to_owned()
}

async fn add_column(manager: &SchemaManager<'_>, table: &'static str, column: ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    manager.alter_table(Table::alter().table(table).add_column(column).to_owned()).await
}

async fn index(manager: &SchemaManager<'_>, table: &'static str, name: &str, cols: &[&'static str], unique: bool) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for c in cols {
        index.col(*c);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)] // one table after the other reads best in one place
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Master data of an organisation (ORG-03..ORG-23), kept on the organisation row so a
        // supplier lists and searches its customers in one query (parent visibility).
        for column in [
            ColumnDef::new("number").big_integer().null().to_owned(),
            ColumnDef::new("legal_form").string().null().to_owned(),
            ColumnDef::new("street").string().null().to_owned(),
            ColumnDef::new("po_box").string().null().to_owned(),
            ColumnDef::new("postcode").string().null().to_owned(),
            ColumnDef::new("city").string().null().to_owned(),
            ColumnDef::new("country").string().null().to_owned(),
            ColumnDef::new("phone").string().null().to_owned(),
            ColumnDef::new("fax").string().null().to_owned(),
            ColumnDef::new("email").string().null().to_owned(),
            ColumnDef::new("homepage").string().null().to_owned(),
            ColumnDef::new("notification_email").string().null().to_owned(),
            ColumnDef::new("remarks").text().null().to_owned(),
            ColumnDef::new("bank_name").string().null().to_owned(),
            ColumnDef::new("bank_city").string().null().to_owned(),
            ColumnDef::new("bank_street").string().null().to_owned(),
            ColumnDef::new("bank_country").string().null().to_owned(),
            ColumnDef::new("bank_bic").string().null().to_owned(),
            ColumnDef::new("bank_code").string().null().to_owned(),
            ColumnDef::new("bank_account").string().null().to_owned(),
            ColumnDef::new("payment_terms").string().null().to_owned(),
            ColumnDef::new("delivery_terms").string().null().to_owned(),
            ColumnDef::new("number_at_customer").string().null().to_owned(),
            ColumnDef::new("vat_id").string().null().to_owned(),
            ColumnDef::new("tax_number").string().null().to_owned(),
            ColumnDef::new("registration_number").string().null().to_owned(),
            ColumnDef::new("registration_court").string().null().to_owned(),
            ColumnDef::new("language").string().not_null().default("en-US").to_owned(),
            ColumnDef::new("customer_group_id").uuid().null().to_owned(),
            ColumnDef::new("settings_template").string().null().to_owned(),
            ColumnDef::new("blocked").boolean().not_null().default(false).to_owned(),
            ColumnDef::new("valid_from").date().null().to_owned(),
            ColumnDef::new("shop_url").string().null().to_owned(),
            ColumnDef::new("direct_login_allowed").boolean().not_null().default(true).to_owned(),
            // The terms-of-use version its users must have approved (0: none published).
            ColumnDef::new("terms_version").integer().not_null().default(0).to_owned(),
        ] {
            add_column(manager, "organisations", column).await?;
        }
        index(manager, "organisations", "organisations_number", &["parent_id", "number"], true).await?;

        // Users: the terms version they approved, and the supplier-side direct-login right.
        add_column(manager, "users", ColumnDef::new("terms_accepted_version").integer().not_null().default(0).to_owned()).await?;
        add_column(manager, "users", ColumnDef::new("can_direct_login").boolean().not_null().default(false).to_owned()).await?;
        // Sessions opened by a supplier's direct login carry both identities and a reason.
        add_column(manager, "sessions", ColumnDef::new("impersonator_tenant_id").uuid().null().to_owned()).await?;
        add_column(manager, "sessions", ColumnDef::new("impersonator_user_id").uuid().null().to_owned()).await?;
        add_column(manager, "sessions", ColumnDef::new("impersonation_reason").string().null().to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table("supplier_counters")
                    .col(uuid("tenant_id").primary_key())
                    .col(big_integer("last_customer_number"))
                    .foreign_key(&mut org_fk("supplier_counters", "tenant_id"))
                    .to_owned(),
            )
            .await?;

        // CAT-08: organisation categories of a supplier.
        manager
            .create_table(
                tenant_table("org_categories")
                    .col(string("title"))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("org_category_links")
                    .col(uuid("tenant_id"))
                    .col(uuid("organisation_id"))
                    .col(uuid("category_id"))
                    .primary_key(&mut key(&["tenant_id", "organisation_id", "category_id"]))
                    .foreign_key(&mut org_fk("org_category_links", "organisation_id"))
                    .foreign_key(&mut tenant_fk("org_category_links", "category_id", "org_categories"))
                    .to_owned(),
            )
            .await?;

        // ORG-17, ORG-18: contact persons of a customer organisation (tenant = the customer).
        manager
            .create_table(
                tenant_table("org_contacts")
                    .col(string_null("title"))
                    .col(string_null("first_name"))
                    .col(string("last_name"))
                    .col(string_null("job_title"))
                    .col(string_null("department"))
                    .col(string_null("phone"))
                    .col(string_null("fax"))
                    .col(string_null("mobile"))
                    .col(string_null("email"))
                    .col(text_null("remark"))
                    .col(uuid_null("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        // ORG-25: licences of a customer organisation (tenant = the customer).
        manager
            .create_table(
                tenant_table("licences")
                    .col(string("title"))
                    .col(text_null("description"))
                    .col(string("kind"))
                    .col(integer("quantity"))
                    .col(integer("transmitted").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        // ORG-15: customer groups of a supplier with their conditions.
        manager
            .create_table(
                tenant_table("customer_groups")
                    .col(string("name"))
                    .col(integer("discount_bp").default(0))
                    .col(boolean("same_as_supplier").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "customer_groups", "customer_groups_name", &["tenant_id", "name"], true).await?;

        // ORG-13, ORG-14: the supplier's catalogue, views, and their assignment to customers.
        manager
            .create_table(
                tenant_table("catalogue_items")
                    .col(string("sku"))
                    .col(string("name"))
                    .col(text_null("description"))
                    .col(string_null("category"))
                    .col(big_integer("unit_price_minor"))
                    .col(string("currency"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "catalogue_items", "catalogue_items_sku", &["tenant_id", "sku"], true).await?;
        manager
            .create_table(
                tenant_table("catalogue_views")
                    .col(string("name"))
                    .col(text_null("description"))
                    // Selected categories and item ids, as JSON arrays.
                    .col(json("categories"))
                    .col(json("item_ids"))
                    .col(boolean("is_supplier_default").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("catalogue_view_assignments")
                    .col(uuid("tenant_id"))
                    .col(uuid("organisation_id"))
                    .col(uuid("view_id"))
                    .col(boolean("is_default").default(false))
                    .primary_key(&mut key(&["tenant_id", "organisation_id", "view_id"]))
                    .foreign_key(&mut org_fk("catalogue_view_assignments", "organisation_id"))
                    .foreign_key(&mut tenant_fk("catalogue_view_assignments", "view_id", "catalogue_views"))
                    .to_owned(),
            )
            .await?;
        // Exactly one default view per organisation: at most one by this index, at least one by the service.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX catalogue_view_assignments_default ON catalogue_view_assignments (tenant_id, organisation_id) WHERE is_default",
            )
            .await?;

        // ORG-24: terms of use, versioned per supplier and language, and each user's answer.
        manager
            .create_table(
                tenant_table("terms_documents")
                    .col(integer("version"))
                    .col(string("language"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(uuid_null("published_by"))
                    .col(timestamp_with_time_zone("published_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "terms_documents", "terms_documents_version", &["tenant_id", "version", "language"], true).await?;
        manager
            .create_table(
                tenant_table("terms_responses")
                    .col(uuid("user_id"))
                    .col(integer("version"))
                    .col(string("status"))
                    .col(uuid_null("acted_by"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut tenant_fk("terms_responses", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "terms_responses", "terms_responses_user", &["tenant_id", "user_id", "version"], false).await?;

        // ORG-02: self-registration links of a supplier.
        manager
            .create_table(
                tenant_table("registration_links")
                    .col(ColumnDef::new("token_hash").binary().not_null())
                    .col(string_null("note"))
                    .col(integer_null_default("max_uses"))
                    .col(integer("uses").default(0))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "registration_links", "registration_links_token", &["tenant_id", "token_hash"], true).await?;

        // OIDC sign-in per organisation, and the short-lived state of flows in progress.
        manager
            .create_table(
                tenant_table("oidc_providers")
                    .col(string("issuer"))
                    .col(string("client_id"))
                    .col(string("client_secret"))
                    .col(boolean("enabled").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table("oidc_flows")
                    .col(uuid("provider_id"))
                    .col(ColumnDef::new("state_hash").binary().not_null())
                    .col(string("nonce"))
                    .col(string("pkce_verifier"))
                    .col(string_null("return_to"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut tenant_fk("oidc_flows", "provider_id", "oidc_providers"))
                    .to_owned(),
            )
            .await?;
        index(manager, "oidc_flows", "oidc_flows_state", &["tenant_id", "state_hash"], true).await?;

        // Outgoing mail, written in the transaction that decides to send it and delivered after.
        manager
            .create_table(
                tenant_table("mail_outbox")
                    .col(string("recipient"))
                    .col(string("subject"))
                    .col(text("body"))
                    .col(string("kind"))
                    .col(integer("attempts").default(0))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for table in TABLES {
                pg::tenant_table(manager, table, "tenant_id", "SELECT, INSERT, UPDATE, DELETE").await?;
            }
            postgres_resolution(manager).await?;
        }
        Ok(())
    }
}

fn integer_null_default(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().null().to_owned()
}

/// Session and API-token resolution now also return what access control needs: blocked and
/// not-yet-valid organisations, pending terms of use, and the direct-login identity.
async fn postgres_resolution(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "DROP FUNCTION clientele_resolve_session(uuid, bytea);
             CREATE FUNCTION clientele_resolve_session(p_tenant uuid, p_hash bytea)
             RETURNS TABLE (session_id uuid, user_id uuid, expires_at timestamptz, revoked_at timestamptz,
                            role text, user_status text, org_kind text, org_status text, config_version bigint,
                            org_blocked boolean, org_valid_from date, terms_version integer,
                            terms_accepted_version integer, impersonator_tenant_id uuid, impersonator_user_id uuid)
             LANGUAGE plpgsql AS $f$
             BEGIN
               PERFORM set_config('app.tenant_id', p_tenant::text, true);
               RETURN QUERY
                 SELECT s.id, s.user_id, s.expires_at, s.revoked_at, u.role::text, u.status::text,
                        o.kind::text, o.status::text, o.config_version, o.blocked, o.valid_from, o.terms_version,
                        u.terms_accepted_version, s.impersonator_tenant_id, s.impersonator_user_id
                 FROM sessions s
                 JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
                 JOIN organisations o ON o.id = s.tenant_id
                 WHERE s.tenant_id = p_tenant AND s.token_hash = p_hash;
             END $f$;
             DROP FUNCTION clientele_resolve_api_token(uuid, bytea, timestamptz);
             CREATE FUNCTION clientele_resolve_api_token(p_tenant uuid, p_hash bytea, p_now timestamptz)
             RETURNS TABLE (token_id uuid, scope text, expires_at timestamptz, revoked_at timestamptz,
                            org_kind text, org_status text, config_version bigint, org_blocked boolean, org_valid_from date)
             LANGUAGE plpgsql AS $f$
             BEGIN
               PERFORM set_config('app.tenant_id', p_tenant::text, true);
               UPDATE api_tokens t SET last_used_at = p_now
                 WHERE t.tenant_id = p_tenant AND t.token_hash = p_hash
                   AND (t.last_used_at IS NULL OR t.last_used_at < p_now - interval '60 seconds');
               RETURN QUERY
                 SELECT t.id, t.scope::text, t.expires_at, t.revoked_at, o.kind::text, o.status::text,
                        o.config_version, o.blocked, o.valid_from
                 FROM api_tokens t JOIN organisations o ON o.id = t.tenant_id
                 WHERE t.tenant_id = p_tenant AND t.token_hash = p_hash;
             END $f$;
             GRANT EXECUTE ON FUNCTION clientele_resolve_session(uuid, bytea) TO {app};
             GRANT EXECUTE ON FUNCTION clientele_resolve_api_token(uuid, bytea, timestamptz) TO {app};",
            app = crate::APP_ROLE
        ))
        .await?;
    Ok(())
}
