//! Schema migrations for SQLite and PostgreSQL. Append-only: never edit a landed migration;
//! fix forward with a new one. PostgreSQL-only parts (roles, RLS) branch on the backend.

pub use sea_orm_migration::prelude::*;

// Landed migrations are frozen byte for byte: neither rustfmt nor a newer clippy's style advice
// may force an edit.
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000001_foundation;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000002_customer_records;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000005_audit_by_entity_id;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000007_supplier_administration;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000010_cards_documents;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000011_import_jobs;
#[rustfmt::skip]
#[allow(clippy::style, clippy::complexity, clippy::pedantic)]
mod m20261124_000012_search_outbox;
mod m20261124_000013_files;
mod m20261124_000014_plugins;
mod m20261202_000015_client_fax;
mod m20261203_000016_plugin_quotas;
mod m20261203_000017_audit_by_actor;
mod m20261207_000018_saved_selections;
mod m20261208_000020_usernames;
mod pg;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_customer_records::Migration),
            Box::new(m20261124_000005_audit_by_entity_id::Migration),
            Box::new(m20261124_000007_supplier_administration::Migration),
            Box::new(m20261124_000010_cards_documents::Migration),
            Box::new(m20261124_000011_import_jobs::Migration),
            Box::new(m20261124_000012_search_outbox::Migration),
            Box::new(m20261124_000013_files::Migration),
            Box::new(m20261124_000014_plugins::Migration),
            Box::new(m20261202_000015_client_fax::Migration),
            Box::new(m20261203_000016_plugin_quotas::Migration),
            Box::new(m20261203_000017_audit_by_actor::Migration),
            Box::new(m20261207_000018_saved_selections::Migration),
            Box::new(m20261208_000020_usernames::Migration),
        ]
    }
}

/// The role the server connects as on PostgreSQL: neither owner nor BYPASSRLS.
pub const APP_ROLE: &str = "clientele_app";

/// Every table holding tenant rows, all under row-level security on PostgreSQL.
pub const TENANT_TABLES: &[&str] = &[
    "organisations",
    "users",
    "credentials",
    "sessions",
    "api_tokens",
    "one_time_tokens",
    "audit_log",
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
    "beneficiaries",
    "cards",
    "client_documents",
    "referral_settings",
    "referral_reward_uses",
    "ledger_entry_holders",
    "import_jobs",
    "search_outbox",
    "files",
    "blob_tombstones",
    "plugins",
    "plugin_versions",
    "plugin_installs",
    "plugin_records",
    "saved_selections",
];
