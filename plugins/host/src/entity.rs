//! Entities of the plugin tables (migration 0014).

/// `plugins`: a supplier's plugin.
pub mod plugin {
    use clientele_kernel::{PluginId, TenantId};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "plugins")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: PluginId,
        pub name: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `plugin_versions`: an uploaded component.
pub mod version {
    use clientele_kernel::{PluginId, PluginVersionId, TenantId};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "plugin_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: PluginVersionId,
        pub plugin_id: PluginId,
        pub version: String,
        pub sha256: String,
        pub component: Vec<u8>,
        pub manifest: Json,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `plugin_installs`: a plugin in a customer organisation.
pub mod install {
    use clientele_kernel::{PluginId, PluginInstallId, PluginVersionId, TenantId};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "plugin_installs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: PluginInstallId,
        pub supplier_id: TenantId,
        pub plugin_id: PluginId,
        pub plugin_name: String,
        pub version_id: PluginVersionId,
        pub version: String,
        pub sha256: String,
        pub manifest: Json,
        pub config: Json,
        pub enabled: bool,
        /// The supplier's quota overrides (some `Quotas` keys), null for none.
        pub quotas: Option<Json>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `plugin_records`: the records of every plugin.
pub mod record {
    use clientele_kernel::{PluginId, PluginRecordId, TenantId};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "plugin_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: PluginRecordId,
        pub plugin_id: PluginId,
        pub collection: String,
        pub parent_id: Option<Uuid>,
        pub client_id: Option<Uuid>,
        pub data: Json,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
