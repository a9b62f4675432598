//! The kernel's [`Organisations`] port over this crate's tables, for the crates that must not
//! read them (records, plugins).

use std::collections::HashMap;

use clientele_kernel::audit::trail::{ActorNames, ActorQuery, DirectLoginWindow, Person, SupplierNames};
use clientele_kernel::{Actor, AppResult, OrgKind, Organisations, TenantCtx, TenantId, TenantTx, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::customers::CustomerService;
use crate::entity::{api_token, organisation, session, user};

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

    async fn actors(&self, tx: &TenantTx, query: &ActorQuery) -> AppResult<ActorNames> {
        let mut names = ActorNames::default();
        if !query.users.is_empty() {
            let rows = user::Entity::find()
                .filter(user::Column::TenantId.eq(tx.tenant()))
                .filter(user::Column::Id.is_in(query.users.iter().copied()))
                .all(tx.conn())
                .await?;
            names.users = rows.into_iter().map(|u| (u.id, person(u))).collect();
        }
        if !query.api_tokens.is_empty() {
            let rows = api_token::Entity::find()
                .filter(api_token::Column::TenantId.eq(tx.tenant()))
                .filter(api_token::Column::Id.is_in(query.api_tokens.iter().copied()))
                .all(tx.conn())
                .await?;
            names.api_tokens = rows.into_iter().map(|t| (t.id, t.name)).collect();
        }
        if !query.supplier_users.is_empty() {
            // No session outlives its hour, so those opened an hour before the page cover it.
            let mut sessions = session::Entity::find()
                .filter(session::Column::TenantId.eq(tx.tenant()))
                .filter(session::Column::ImpersonatorUserId.is_in(query.supplier_users.iter().map(|(_, u)| u.0)));
            if let Some(since) = query.since {
                sessions = sessions.filter(session::Column::ExpiresAt.gte(since));
            }
            let rows = sessions.all(tx.conn()).await?;
            names.direct_logins = rows
                .into_iter()
                .filter_map(|s| {
                    Some(DirectLoginWindow {
                        supplier: TenantId(s.impersonator_tenant_id?),
                        user: UserId(s.impersonator_user_id?),
                        opened_at: s.created_at,
                        ended_at: s.revoked_at.map_or(s.expires_at, |r| std::cmp::min(r, s.expires_at)),
                        reason: s.impersonation_reason.unwrap_or_default(),
                    })
                })
                .collect();
        }
        Ok(names)
    }

    async fn suppliers(&self, ctx: &TenantCtx, users: &[(TenantId, UserId)]) -> AppResult<SupplierNames> {
        let mut wanted: HashMap<TenantId, Vec<UserId>> = HashMap::new();
        for (supplier, user) in users {
            wanted.entry(*supplier).or_default().push(*user);
        }
        let mut names = SupplierNames::default();
        for (supplier, ids) in wanted {
            let inside = ctx.derive(supplier, OrgKind::Supplier, Actor::system());
            let tx = inside.read().await?;
            let org = organisation::Entity::find_by_id(supplier).one(tx.conn()).await?;
            let rows = user::Entity::find()
                .filter(user::Column::TenantId.eq(supplier))
                .filter(user::Column::Id.is_in(ids))
                .all(tx.conn())
                .await?;
            tx.commit().await?;
            names.organisations.insert(supplier, org.map(|o| o.name).unwrap_or_default());
            names.users.extend(rows.into_iter().map(|u| ((supplier, u.id), person(u))));
        }
        Ok(names)
    }
}

fn person(row: user::Model) -> Person {
    Person { id: row.id, email: row.email, display_name: row.display_name }
}
