//! API tokens of an organisation: hashed at rest, scoped, expiring, revocable.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::token::{self, SecretKind};
use clientele_kernel::{ApiTokenId, AppError, AppResult, Permission, Reason, TenantCtx, TokenScope};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::entity::api_token;
use crate::model::ApiToken;
use crate::users::authorize;

pub struct ApiTokenService {
    handles: Arc<Handles>,
}

impl ApiTokenService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Creates a token; the returned secret is shown once and never stored.
    pub async fn create(
        &self,
        ctx: &TenantCtx,
        name: &str,
        scope: TokenScope,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::refused("name", Reason::NameLength { max: 100 }));
        }
        let now = self.handles.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::invalid("expires_at", "The expiry must be in the future."));
        }
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageApiTokens).await?;
        let secret = token::mint(SecretKind::ApiToken, ctx.tenant(), self.handles.entropy.as_ref());
        let row = api_token::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(ApiTokenId(self.handles.new_id())),
            name: Set(name.to_owned()),
            scope: Set(scope.as_str().to_owned()),
            token_hash: Set(secret.hash),
            created_by: Set(ctx.actor().user().map(|u| u.0)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(tx.conn())
        .await?;
        let created = ApiToken::from_row(row)?;
        let changes = json!({ "name": created.name, "scope": scope.as_str(), "expires_at": expires_at });
        audit::record(&tx, ctx, AuditEntry::new("api_token.create", "api_token", created.id, audit::created(&changes)))
            .await?;
        tx.commit().await?;
        Ok((created, secret.plain))
    }

    pub async fn list(&self, ctx: &TenantCtx, page: PageRequest) -> AppResult<Page<ApiToken>> {
        ctx.require(Permission::ManageApiTokens)?;
        let tx = ctx.read().await?;
        let base = api_token::Entity::find().filter(api_token::Column::TenantId.eq(ctx.tenant()));
        let total = base.clone().count(tx.conn()).await?;
        let rows = page.by_id(base, api_token::Column::Id, true).all(tx.conn()).await?;
        tx.commit().await?;
        let tokens = rows.into_iter().map(ApiToken::from_row).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(tokens, &page, total))
    }

    pub async fn revoke(&self, ctx: &TenantCtx, id: ApiTokenId) -> AppResult<ApiToken> {
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageApiTokens).await?;
        let row = api_token::Entity::find_by_id((ctx.tenant(), id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let already = row.revoked_at;
        let mut active: api_token::ActiveModel = row.into();
        active.revoked_at = Set(Some(already.unwrap_or_else(|| self.handles.now())));
        let row = active.update(tx.conn()).await?;
        audit::record(&tx, ctx, AuditEntry::new("api_token.revoke", "api_token", id, json!({}))).await?;
        tx.commit().await?;
        ApiToken::from_row(row)
    }
}
