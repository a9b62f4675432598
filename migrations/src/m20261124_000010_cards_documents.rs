//! Cards and beneficiaries (CRD-*), document references (OTH-01), referral settings and
//! reward uses (REF-*, Q-14), and the beneficiary or card a ledger entry was posted for
//! (LED-07, LED-13). Every key leads with `tenant_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, date, date_null, string, string_null, text_null, timestamp_with_time_zone, uuid,
    uuid_null,
};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New tenant tables of this migration, with the app role's privileges on each.
pub const TABLES: [(&str, &str); 6] = [
    ("beneficiaries", "SELECT, INSERT, UPDATE, DELETE"),
    ("cards", "SELECT, INSERT, UPDATE, DELETE"),
    ("client_documents", "SELECT, INSERT, UPDATE, DELETE"),
    ("referral_settings", "SELECT, INSERT, UPDATE, DELETE"),
    ("referral_reward_uses", "SELECT, INSERT, UPDATE, DELETE"),
    // Like the ledger it annotates: written once, never changed.
    ("ledger_entry_holders", "SELECT, INSERT"),
];

fn key(cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    for c in cols {
        index.col(*c);
    }
    index
}

fn org_fk(from: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from_tbl(from).from_col("tenant_id").to_tbl("organisations").to_col("id").to_owned()
}

/// `FOREIGN KEY (tenant_id, <col>) REFERENCES <to> (tenant_id, id)`: a row never points into
/// another tenant.
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

fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(&mut key(&["tenant_id", "id"]))
        .foreign_key(&mut org_fk(name))
        .to_owned()
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)] // one table after the other reads best in one place
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        // Beneficiaries of a client (CRD-01..04). Names are nullable only so anonymisation can
        // erase them in place: cards and ledger entries keep pointing at the row.
        manager
            .create_table(
                tenant_table("beneficiaries")
                    .col(uuid("client_id"))
                    .col(string_null("civility"))
                    .col(string_null("last_name"))
                    .col(string_null("first_name"))
                    .col(string_null("street"))
                    .col(string_null("complement"))
                    .col(string_null("postcode"))
                    .col(string_null("city"))
                    .col(string_null("country"))
                    .col(string_null("mobile"))
                    .col(string_null("mobile_e164"))
                    .col(string_null("email"))
                    .col(boolean("loyalty").default(false))
                    .col(boolean("wallet").default(false))
                    .col(boolean("blocked").default(false))
                    .col(string_null("blocked_reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("beneficiaries", "client_id", "clients", Cascade))
                    .to_owned(),
            )
            .await?;
        index(manager, "beneficiaries", "beneficiaries_client", &["tenant_id", "client_id"], false).await?;

        // Cards (CRD-05): held by the client itself or by one of its beneficiaries.
        manager
            .create_table(
                tenant_table("cards")
                    .col(uuid("client_id"))
                    .col(uuid_null("beneficiary_id"))
                    .col(string("number"))
                    .col(string("status"))
                    .col(date("issued_on"))
                    .col(date_null("expires_on"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("cards", "client_id", "clients", Cascade))
                    .foreign_key(&mut tenant_fk("cards", "beneficiary_id", "beneficiaries", Cascade))
                    .to_owned(),
            )
            .await?;
        index(manager, "cards", "cards_number", &["tenant_id", "number"], true).await?;
        index(manager, "cards", "cards_client", &["tenant_id", "client_id"], false).await?;
        index(manager, "cards", "cards_beneficiary", &["tenant_id", "beneficiary_id"], false).await?;

        // Document references (OTH-01): what keeps a client out of the trash (LIF-04).
        manager
            .create_table(
                tenant_table("client_documents")
                    .col(uuid("client_id"))
                    .col(string("kind"))
                    .col(string("number"))
                    .col(date("document_date"))
                    // Minor units (cents) of the tenant currency.
                    .col(big_integer("amount_minor"))
                    .col(uuid_null("site_id"))
                    .col(boolean("invoiced").default(false))
                    .col(boolean("ordered").default(false))
                    .col(boolean("delivered").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("client_documents", "client_id", "clients", Restrict))
                    .foreign_key(&mut tenant_fk("client_documents", "site_id", "addresses", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "client_documents", "client_documents_number", &["tenant_id", "kind", "number"], true).await?;
        index(
            manager,
            "client_documents",
            "client_documents_client",
            &["tenant_id", "client_id", "document_date"],
            false,
        )
        .await?;
        index(manager, "client_documents", "client_documents_site", &["tenant_id", "site_id"], false).await?;

        // Sponsorship settings (REF-01..03): one row per tenant, defaults until first saved.
        manager
            .create_table(
                Table::create()
                    .table("referral_settings")
                    .col(uuid("tenant_id").primary_key())
                    .col(boolean("enabled"))
                    .col(string("reward_kind"))
                    // Hundredths: of a percent for a discount, of the currency for a rebate.
                    .col(big_integer("reward_value"))
                    .col(boolean("skip_discount_forbidden").default(false))
                    .col(text_null("offer_text"))
                    .col(boolean("print_on_receipt").default(false))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut org_fk("referral_settings"))
                    .to_owned(),
            )
            .await?;

        // Each use of a sponsor's reward: rewards left = sponsees − uses.
        manager
            .create_table(
                tenant_table("referral_reward_uses")
                    .col(uuid("client_id"))
                    .col(uuid_null("actor_user_id"))
                    .col(timestamp_with_time_zone("used_at"))
                    .foreign_key(&mut tenant_fk("referral_reward_uses", "client_id", "clients", Cascade))
                    .to_owned(),
            )
            .await?;
        index(manager, "referral_reward_uses", "referral_reward_uses_client", &["tenant_id", "client_id"], false)
            .await?;

        // The beneficiary and card a ledger entry was posted for (LED-07); `id` is the entry's.
        manager
            .create_table(
                tenant_table("ledger_entry_holders")
                    .col(uuid_null("beneficiary_id"))
                    .col(uuid_null("card_id"))
                    .foreign_key(&mut tenant_fk("ledger_entry_holders", "id", "ledger_entries", Restrict))
                    .foreign_key(&mut tenant_fk("ledger_entry_holders", "beneficiary_id", "beneficiaries", Restrict))
                    .foreign_key(&mut tenant_fk("ledger_entry_holders", "card_id", "cards", Restrict))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ledger_entry_holders",
            "ledger_entry_holders_beneficiary",
            &["tenant_id", "beneficiary_id"],
            false,
        )
        .await?;
        index(manager, "ledger_entry_holders", "ledger_entry_holders_card", &["tenant_id", "card_id"], false).await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for (table, privileges) in TABLES {
                pg::tenant_table(manager, table, "tenant_id", privileges).await?;
            }
        }
        Ok(())
    }
}
