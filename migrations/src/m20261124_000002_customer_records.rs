//! Customer records: clients (individuals and companies), their numbering, lookups, staff,
//! categories, groups, addresses and sites, contacts, consent history, account ledger and
//! custom-field definitions. Every key leads with `tenant_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, date, date_null, integer, integer_null, json, json_null, string, string_null, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn key(cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    for c in cols {
        index.col(*c);
    }
    index
}

/// `FOREIGN KEY (tenant_id, <col>) REFERENCES <to> (tenant_id, id)`: a row can never point
/// into another tenant.
fn tenant_fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from)
        .from_col("tenant_id")
        .from_col(col)
        .to_tbl(to)
        .to_col("tenant_id")
        .to_col("id")
        .on_delete(on_delete)
        .to_owned()
}

fn org_fk(from: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from_tbl(from).from_col("tenant_id").to_tbl("organisations").to_col("id").to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
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

/// The tenant and id columns every tenant table starts with.
fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(&mut key(&["tenant_id", "id"]))
        .foreign_key(&mut org_fk(name))
        .to_owned()
}

pub const TABLES: [&str; 11] = [
    "client_counters",
    "lookups",
    "staff",
    "categories",
    "client_groups",
    "clients",
    "client_consents",
    "addresses",
    "contacts",
    "ledger_entries",
    "custom_field_definitions",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)] // one table after the other reads best in one place
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        // Per-tenant client numbers: incremented in the writing transaction, never reused.
        manager
            .create_table(
                Table::create()
                    .table("client_counters")
                    .col(uuid("tenant_id").primary_key())
                    .col(big_integer("last_number"))
                    .foreign_key(&mut org_fk("client_counters"))
                    .to_owned(),
            )
            .await?;

        // Tenant lists (BIL-15): tariffs, payment terms, shipping terms, payment methods,
        // cross-discount categories, civilities. Referenced entries are deactivated, not deleted.
        manager
            .create_table(
                tenant_table("lookups")
                    .col(string("kind"))
                    .col(string("code"))
                    .col(string("label"))
                    .col(integer("position").default(0))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "lookups", "lookups_kind_code", &["tenant_id", "kind", "code"], true).await?;

        // Staff directory (OTH-04): representatives, delivery persons, salespeople.
        manager
            .create_table(
                tenant_table("staff")
                    .col(string("name"))
                    .col(boolean("is_representative").default(false))
                    .col(boolean("is_delivery_person").default(false))
                    .col(boolean("is_salesperson").default(false))
                    .col(boolean("active").default(true))
                    .col(uuid_null("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                tenant_table("categories")
                    .col(string("name"))
                    .col(text_null("description"))
                    // Hundredths of a percent: 1250 = 12.50 %.
                    .col(integer_null("default_discount_bp"))
                    .col(uuid_null("tariff_id"))
                    .col(boolean("hold_forbidden").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("categories", "tariff_id", "lookups", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "categories", "categories_name", &["tenant_id", "name"], true).await?;

        manager
            .create_table(
                tenant_table("client_groups")
                    .col(string("name"))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "client_groups", "client_groups_name", &["tenant_id", "name"], true).await?;

        manager
            .create_table(
                tenant_table("clients")
                    .col(big_integer("number"))
                    .col(string("code"))
                    .col(string_null("barcode"))
                    .col(string("kind"))
                    .col(string_null("civility"))
                    .col(string_null("last_name"))
                    .col(string_null("first_name"))
                    .col(string_null("company_name"))
                    // Lower-cased "last first" or company name: the default order (SRC-09).
                    .col(string("sort_name"))
                    .col(string_null("legal_form"))
                    .col(string_null("head_office"))
                    .col(string_null("siren"))
                    .col(string_null("siret"))
                    .col(string_null("naf_code"))
                    .col(string_null("vat_number"))
                    .col(string_null("email"))
                    .col(string_null("mobile"))
                    .col(string_null("mobile_e164"))
                    .col(string_null("home_phone"))
                    .col(string_null("home_phone_e164"))
                    .col(string_null("work_phone"))
                    .col(string_null("work_phone_e164"))
                    .col(string_null("manager_mobile"))
                    .col(string("language"))
                    .col(date_null("birth_date"))
                    // Month * 100 + day, for birthday windows that ignore the year.
                    .col(integer_null("birth_mmdd"))
                    .col(text_null("alert"))
                    .col(text_null("notes"))
                    .col(string_null("establishment"))
                    .col(string("status"))
                    .col(boolean("blocked").default(false))
                    .col(string_null("blocked_reason"))
                    .col(uuid_null("category_id"))
                    .col(uuid_null("group_id"))
                    .col(uuid_null("sponsor_id"))
                    .col(uuid_null("representative_id"))
                    .col(boolean("vat_exempt").default(false))
                    .col(boolean("bill_excl_tax").default(false))
                    .col(string_null("accounting_code"))
                    .col(boolean("anonymous_accounting").default(false))
                    .col(boolean("multi_tariff").default(false))
                    .col(uuid_null("tariff_id"))
                    .col(boolean("no_tiered_prices").default(false))
                    .col(integer_null("discount_bp"))
                    .col(uuid_null("cross_discount_id"))
                    .col(uuid_null("payment_terms_id"))
                    .col(uuid_null("shipping_terms_id"))
                    .col(uuid_null("payment_method_id"))
                    .col(boolean("alcohol_tax_exempt").default(false))
                    .col(string("account_kind"))
                    // Minor units (cents) of the tenant currency.
                    .col(big_integer("credit_limit_minor").default(0))
                    .col(string_null("bank_name"))
                    .col(string_null("bank_iban"))
                    .col(string_null("bank_bic"))
                    .col(string_null("bank_holder"))
                    .col(boolean("loyalty").default(false))
                    .col(boolean("wallet").default(false))
                    .col(boolean("email_receipts").default(false))
                    .col(string("consent_email"))
                    .col(string("consent_sms"))
                    .col(boolean("billing_uses_delivery").default(false))
                    .col(json_null("custom_fields"))
                    .col(big_integer("version").default(1))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .col(timestamp_with_time_zone_null("anonymised_at"))
                    .foreign_key(&mut tenant_fk("clients", "category_id", "categories", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "group_id", "client_groups", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "sponsor_id", "clients", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "representative_id", "staff", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "tariff_id", "lookups", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "cross_discount_id", "lookups", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "payment_terms_id", "lookups", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "shipping_terms_id", "lookups", Restrict))
                    .foreign_key(&mut tenant_fk("clients", "payment_method_id", "lookups", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "clients", "clients_number", &["tenant_id", "number"], true).await?;
        index(manager, "clients", "clients_code", &["tenant_id", "code"], true).await?;
        index(manager, "clients", "clients_barcode", &["tenant_id", "barcode"], true).await?;
        index(manager, "clients", "clients_email", &["tenant_id", "email"], true).await?;
        index(manager, "clients", "clients_sort_name", &["tenant_id", "sort_name", "id"], false).await?;
        index(manager, "clients", "clients_company", &["tenant_id", "company_name"], false).await?;
        index(manager, "clients", "clients_mobile", &["tenant_id", "mobile_e164"], false).await?;
        index(manager, "clients", "clients_birthday", &["tenant_id", "birth_mmdd"], false).await?;
        index(manager, "clients", "clients_category", &["tenant_id", "category_id"], false).await?;
        index(manager, "clients", "clients_group", &["tenant_id", "group_id"], false).await?;
        index(manager, "clients", "clients_sponsor", &["tenant_id", "sponsor_id"], false).await?;
        index(manager, "clients", "clients_created", &["tenant_id", "created_at"], false).await?;

        // Consent history (GDP-01): every change of a channel's consent, with its source.
        manager
            .create_table(
                tenant_table("client_consents")
                    .col(uuid("client_id"))
                    .col(string("channel"))
                    .col(string("status"))
                    .col(string_null("source"))
                    .col(uuid_null("actor_user_id"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut tenant_fk("client_consents", "client_id", "clients", Cascade))
                    .to_owned(),
            )
            .await?;
        index(manager, "client_consents", "client_consents_client", &["tenant_id", "client_id"], false).await?;

        // Addresses: main/billing and delivery sites (ADR-01..06, CON-01).
        manager
            .create_table(
                tenant_table("addresses")
                    .col(uuid("client_id"))
                    .col(string("kind"))
                    .col(string_null("label"))
                    .col(string_null("company"))
                    .col(string_null("street"))
                    .col(string_null("complement"))
                    .col(string_null("po_box"))
                    .col(string_null("postcode"))
                    .col(string_null("city"))
                    .col(string_null("country"))
                    .col(text_null("remark"))
                    .col(boolean("is_default").default(false))
                    .col(uuid_null("delivery_person_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("addresses", "client_id", "clients", Cascade))
                    .foreign_key(&mut tenant_fk("addresses", "delivery_person_id", "staff", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "addresses", "addresses_client", &["tenant_id", "client_id"], false).await?;

        // Contacts (CON-02, CON-03), optionally attached to a site.
        manager
            .create_table(
                tenant_table("contacts")
                    .col(uuid("client_id"))
                    .col(uuid_null("address_id"))
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
                    .col(json_null("custom_fields"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("contacts", "client_id", "clients", Cascade))
                    .foreign_key(&mut tenant_fk("contacts", "address_id", "addresses", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "contacts", "contacts_client", &["tenant_id", "client_id"], false).await?;

        // Account ledger (LED-*): append-only signed entries; corrections are reversals.
        manager
            .create_table(
                tenant_table("ledger_entries")
                    .col(uuid("client_id"))
                    .col(date("entry_date"))
                    .col(string("kind"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string_null("document_ref"))
                    .col(text_null("note"))
                    .col(uuid_null("author_user_id"))
                    .col(uuid_null("reverses_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut tenant_fk("ledger_entries", "client_id", "clients", Restrict))
                    .foreign_key(&mut tenant_fk("ledger_entries", "reverses_id", "ledger_entries", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "ledger_entries", "ledger_entries_client", &["tenant_id", "client_id", "entry_date"], false)
            .await?;

        // Custom fields (CF-*): typed definitions per tenant and entity; values live as
        // validated JSON on the record.
        manager
            .create_table(
                tenant_table("custom_field_definitions")
                    .col(string("entity"))
                    .col(string("key"))
                    .col(string("label"))
                    .col(string("kind"))
                    .col(json("choices"))
                    .col(integer("position").default(0))
                    .col(boolean("required").default(false))
                    .col(boolean("searchable").default(false))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "custom_field_definitions",
            "custom_field_definitions_key",
            &["tenant_id", "entity", "key"],
            true,
        )
        .await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for table in TABLES {
                pg::tenant_table(manager, table, "tenant_id", "SELECT, INSERT, UPDATE, DELETE").await?;
            }
        }
        Ok(())
    }
}
