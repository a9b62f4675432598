//! The kernel's [`Organisations`] port over this crate's tables, for the crates that must not
//! read them (records, plugins).

use clientele_kernel::{AppResult, OrgKind, Organisations, TenantCtx, TenantId, TenantTx, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::customers::CustomerService;
use crate::entity::{organisation, user};

/// [`Organisations`] for every crate of the process.
#[derive(Debug, Default)]
pub struct OrganisationDirectory;

#[async_trait::async_trait]
impl Organisations for OrganisationDirectory {
    async fn bump_config_version(&self, tx: &TenantTx) -> AppResult<()> {
        organisation::Entity::update_many()
            .col_expr(organisation::Column::ConfigVersion, Expr::col(organisation::Column::ConfigVersion).add(1i64))
            .filter(organisation::Column::Id.eq(tx.tenant()))
            .exec(tx.conn())
            .await?;
        Ok(())
    }

    async fn customers_of(&self, tx: &TenantTx, supplier: TenantId) -> AppResult<Vec<TenantId>> {
        Ok(organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .filter(organisation::Column::ParentId.eq(supplier))
            .filter(organisation::Column::Kind.eq(OrgKind::Customer.as_str()))
            .order_by_asc(organisation::Column::Id)
            .into_tuple()
            .all(tx.conn())
            .await?)
    }

    async fn user_exists(&self, tx: &TenantTx, user: UserId) -> AppResult<bool> {
        let found = user::Entity::find()
            .filter(user::Column::TenantId.eq(tx.tenant()))
            .filter(user::Column::Id.eq(user))
            .count(tx.conn())
            .await?;
        Ok(found > 0)
    }

    async fn kind(&self, tx: &TenantTx) -> AppResult<Option<OrgKind>> {
        let kind: Option<String> = organisation::Entity::find_by_id(tx.tenant())
            .select_only()
            .column(organisation::Column::Kind)
            .into_tuple()
            .one(tx.conn())
            .await?;
        Ok(kind.as_deref().and_then(OrgKind::from_stored))
    }

    async fn enter(&self, ctx: &TenantCtx, tx: &mut TenantTx, customer: TenantId) -> AppResult<TenantCtx> {
        CustomerService::enter(ctx, tx, customer).await
    }
}
