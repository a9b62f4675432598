//! The plugin platform (DESIGN.md §6): a supplier's plugins and their uploaded versions, each
//! customer organisation's installations with its config, and the host-owned records of every
//! plugin. Every key leads with `tenant_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, blob, boolean, json, string, timestamp_with_time_zone, uuid, uuid_null};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New tenant tables of this migration, with the app role's privileges on each.
pub const TABLES: [(&str, &str); 4] = [
    ("plugins", "SELECT, INSERT, UPDATE, DELETE"),
    // An uploaded version never changes: it is what installations point at.
    ("plugin_versions", "SELECT, INSERT"),
    ("plugin_installs", "SELECT, INSERT, UPDATE, DELETE"),
    ("plugin_records", "SELECT, INSERT, UPDATE, DELETE"),
];

fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(Index::create().col("tenant_id").col("id"))
        .foreign_key(ForeignKey::create().from_tbl(name).from_col("tenant_id").to_tbl("organisations").to_col("id"))
        .to_owned()
}

/// `FOREIGN KEY (tenant_id, <col>) REFERENCES <to> (tenant_id, id)`.
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
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        // A supplier's plugin (tenant = the supplier), named by its manifest.
        manager
            .create_table(
                tenant_table("plugins")
                    .col(string("name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "plugins", "plugins_name", &["tenant_id", "name"], true).await?;

        // An uploaded version: the component as validated, its hash and its manifest.
        manager
            .create_table(
                tenant_table("plugin_versions")
                    .col(uuid("plugin_id"))
                    .col(string("version"))
                    .col(string("sha256"))
                    .col(blob("component"))
                    .col(json("manifest"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut tenant_fk("plugin_versions", "plugin_id", "plugins", Restrict))
                    .to_owned(),
            )
            .await?;
        index(manager, "plugin_versions", "plugin_versions_version", &["tenant_id", "plugin_id", "version"], true)
            .await?;

        // A plugin installed in a customer organisation (tenant = the customer): the version it
        // runs (hash and manifest copied, so the customer's schema needs no supplier read),
        // its config, and whether it is enabled.
        manager
            .create_table(
                tenant_table("plugin_installs")
                    .col(uuid("supplier_id"))
                    .col(uuid("plugin_id"))
                    .col(string("plugin_name"))
                    .col(uuid("version_id"))
                    .col(string("version"))
                    .col(string("sha256"))
                    .col(json("manifest"))
                    .col(json("config"))
                    .col(boolean("enabled"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "plugin_installs", "plugin_installs_plugin", &["tenant_id", "plugin_id"], true).await?;

        // The records of every plugin, stored by the host. `client_id` is the client a record
        // belongs to (directly or through its parent record): purging the client removes them.
        manager
            .create_table(
                tenant_table("plugin_records")
                    .col(uuid("plugin_id"))
                    .col(string("collection"))
                    .col(uuid_null("parent_id"))
                    .col(uuid_null("client_id"))
                    .col(json("data"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut tenant_fk("plugin_records", "client_id", "clients", Cascade))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "plugin_records",
            "plugin_records_client",
            &["tenant_id", "plugin_id", "collection", "client_id"],
            false,
        )
        .await?;
        index(
            manager,
            "plugin_records",
            "plugin_records_parent",
            &["tenant_id", "plugin_id", "collection", "parent_id"],
            false,
        )
        .await?;
        index(manager, "plugin_records", "plugin_records_by_client", &["tenant_id", "client_id"], false).await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for (table, privileges) in TABLES {
                pg::tenant_table(manager, table, "tenant_id", privileges).await?;
            }
        }
        Ok(())
    }
}
