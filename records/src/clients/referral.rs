//! Sponsorship («Parrainage», REF-01..05): the organisation's settings, the rewards a sponsor
//! earned and used (Q-14: each sponsee earns one; using one decrements what is left), and the
//! switch without which no sponsor can be chosen.
//!
//! An organisation that never saved its settings has sponsorship on, with a 0 % reward: sponsor
//! links predate the switch, and turning it on by default keeps them working unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::clients::entity::{client, referral_settings as settings, referral_use};
use crate::clients::model::Patch;
use crate::clients::service::ensure_live;
use crate::clients::service::load_for_update;
use crate::clients::validate;
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode, Reason};
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

stored_enum!(
    /// REF-02: what a sponsor gets: a percentage off the sale, or a fixed amount off it.
    RewardKind { DiscountPercent, FixedRebate }
);

/// The organisation's sponsorship settings (REF-01..03).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralSettings {
    /// REF-01: «Gestion du Parrainage».
    pub enabled: bool,
    pub reward_kind: RewardKind,
    /// Hundredths of a percent (discount) or of the currency (rebate): shown as a decimal.
    pub reward_value: Money,
    /// REF-02: the discount skips items flagged "discount forbidden".
    pub skip_discount_forbidden: bool,
    /// REF-03: the offer's text.
    pub offer_text: Option<String>,
    /// REF-03: print the offer on every receipt.
    pub print_on_receipt: bool,
    /// `None` until first saved.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for ReferralSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            reward_kind: RewardKind::DiscountPercent,
            reward_value: Money(0),
            skip_discount_forbidden: false,
            offer_text: None,
            print_on_receipt: false,
            updated_at: None,
        }
    }
}

/// Changes the settings; `None` keeps a value.
#[derive(Clone, Debug, Default)]
pub struct ReferralSettingsInput {
    pub enabled: Option<bool>,
    pub reward_kind: Option<RewardKind>,
    /// Decimal string: 0–100 for a discount, a positive amount for a rebate.
    pub reward_value: Option<String>,
    pub skip_discount_forbidden: Option<bool>,
    pub offer_text: Patch<String>,
    pub print_on_receipt: Option<bool>,
}

/// REF-05: a sponsor's rewards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferralRewards {
    pub client: ClientId,
    /// One per sponsee outside the trash.
    pub earned: i64,
    pub used: i64,
}

impl ReferralRewards {
    /// Never below zero: a sponsee leaving takes back a reward not yet used, not one spent.
    pub fn remaining(&self) -> i64 {
        (self.earned - self.used).max(0)
    }
}

impl ReferralSettings {
    fn from_row(r: settings::Model) -> AppResult<Self> {
        let reward_kind = r
            .reward_kind
            .parse()
            .map_err(|_| AppError::internal(format!("bad stored reward kind: {}", r.reward_kind)))?;
        Ok(Self {
            enabled: r.enabled,
            reward_kind,
            reward_value: Money(r.reward_value),
            skip_discount_forbidden: r.skip_discount_forbidden,
            offer_text: r.offer_text,
            print_on_receipt: r.print_on_receipt,
            updated_at: Some(r.updated_at),
        })
    }

    fn view(&self) -> Value {
        json!({
            "enabled": self.enabled, "reward_kind": self.reward_kind.as_str(),
            "reward_value": self.reward_value.to_decimal_string(),
            "skip_discount_forbidden": self.skip_discount_forbidden, "offer_text": self.offer_text,
            "print_on_receipt": self.print_on_receipt,
        })
    }

    fn apply(&mut self, input: ReferralSettingsInput) -> AppResult<()> {
        let mut errors = Vec::new();
        for (target, value) in [
            (&mut self.enabled, input.enabled),
            (&mut self.skip_discount_forbidden, input.skip_discount_forbidden),
            (&mut self.print_on_receipt, input.print_on_receipt),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
        if let Some(kind) = input.reward_kind {
            self.reward_kind = kind;
        }
        let value = input.reward_value.unwrap_or_else(|| self.reward_value.to_decimal_string());
        // Checked against the kind it ends up with: 150 is a fine rebate but no percentage.
        match self.reward_kind {
            RewardKind::DiscountPercent => {
                if let Some(bp) = validate::percent(&mut errors, "reward_value", Some(&value)) {
                    self.reward_value = Money(i64::from(bp));
                }
            }
            RewardKind::FixedRebate => match Money::parse(&value) {
                Some(m) if m.0 >= 0 => self.reward_value = m,
                _ => {
                    errors.push(AppError::refused("reward_value", Reason::PositiveAmount));
                }
            },
        }
        if let Some(text) = input.offer_text {
            self.offer_text = validate::clean(text);
        }
        validate::text(&mut errors, "offer_text", self.offer_text.as_deref(), 500, true);
        AppError::all(errors).map_or(Ok(()), Err)
    }
}

/// The settings as stored in `tx`, or the defaults.
pub(crate) async fn settings_in(tx: &TenantTx) -> AppResult<ReferralSettings> {
    match settings::Entity::find_by_id(tx.tenant()).one(tx.conn()).await? {
        Some(row) => ReferralSettings::from_row(row),
        None => Ok(ReferralSettings::default()),
    }
}

/// REF-01: with sponsorship off, no client may get a new sponsor (existing links stay).
pub(crate) async fn check_sponsor(
    tx: &TenantTx,
    before: Option<ClientId>,
    after: Option<ClientId>,
    errors: &mut Vec<AppError>,
) -> AppResult<()> {
    if after.is_some() && after != before && !settings_in(tx).await?.enabled {
        errors.push(AppError::invalid("sponsor", "Sponsorship is turned off for this organisation."));
    }
    Ok(())
}

/// Earned and used rewards of `ids`, in two grouped statements.
async fn rewards_in(tx: &TenantTx, ids: &[ClientId]) -> AppResult<Vec<ReferralRewards>> {
    let earned: HashMap<ClientId, i64> = client::Entity::find()
        .select_only()
        .column(client::Column::Sponsor)
        .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(client::Column::TenantId.eq(tx.tenant()))
        .filter(client::Column::Sponsor.is_in(ids.iter().map(|i| i.0)))
        .filter(client::Column::DeletedAt.is_null())
        .group_by(client::Column::Sponsor)
        .into_tuple::<(uuid::Uuid, i64)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|(id, n)| (ClientId(id), n))
        .collect();
    let used: HashMap<ClientId, i64> = referral_use::Entity::find()
        .select_only()
        .column(referral_use::Column::ClientId)
        .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(referral_use::Column::TenantId.eq(tx.tenant()))
        .filter(referral_use::Column::ClientId.is_in(ids.iter().copied()))
        .group_by(referral_use::Column::ClientId)
        .into_tuple::<(ClientId, i64)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .map(|id| ReferralRewards {
            client: *id,
            earned: earned.get(id).copied().unwrap_or(0),
            used: used.get(id).copied().unwrap_or(0),
        })
        .collect())
}

pub struct ReferralService {
    handles: Arc<Handles>,
}

impl ReferralService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// The organisation's sponsorship settings; every user may read them.
    pub async fn settings(&self, ctx: &TenantCtx) -> AppResult<ReferralSettings> {
        let tx = ctx.read().await?;
        let found = settings_in(&tx).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Changes the settings (admins: `ManageSettings`).
    pub async fn update_settings(&self, ctx: &TenantCtx, input: ReferralSettingsInput) -> AppResult<ReferralSettings> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let before = settings_in(&tx).await?;
        let now = self.handles.now();
        let mut after = ReferralSettings { updated_at: Some(now), ..before.clone() };
        after.apply(input)?;
        let row = settings::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            enabled: Set(after.enabled),
            reward_kind: Set(after.reward_kind.as_str().to_owned()),
            reward_value: Set(after.reward_value.0),
            skip_discount_forbidden: Set(after.skip_discount_forbidden),
            offer_text: Set(after.offer_text.clone()),
            print_on_receipt: Set(after.print_on_receipt),
            updated_at: Set(now),
        };
        let columns = [
            settings::Column::Enabled,
            settings::Column::RewardKind,
            settings::Column::RewardValue,
            settings::Column::SkipDiscountForbidden,
            settings::Column::OfferText,
            settings::Column::PrintOnReceipt,
            settings::Column::UpdatedAt,
        ];
        settings::Entity::insert(row)
            .on_conflict(OnConflict::column(settings::Column::TenantId).update_columns(columns).to_owned())
            .exec(tx.conn())
            .await?;
        let changes = audit::diff(&before.view(), &after.view());
        let entry = AuditEntry::new("referral_settings.update", "referral_settings", ctx.tenant(), changes);
        audit::record(&tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// REF-05: rewards of several clients (for batched loading).
    pub async fn rewards(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<ReferralRewards>> {
        let tx = ctx.read().await?;
        let found = rewards_in(&tx, ids).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// the sponsor uses one reward at the till. Refused with `NO_REFERRAL_REWARD_LEFT`
    /// when none is left, `CLIENT_BLOCKED` for a blocked client (LIF-01), and while
    /// sponsorship is off.
    pub async fn use_reward(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<ReferralRewards> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        // The lock queues concurrent uses: each sees the ones before it.
        let sponsor = load_for_update(&tx, id).await?;
        ensure_live(&sponsor)?;
        if sponsor.blocked {
            return Err(AppError::code_only(ErrorCode::ClientBlocked));
        }
        if !settings_in(&tx).await?.enabled {
            return Err(AppError::new(ErrorCode::Validation, "Sponsorship is turned off for this organisation."));
        }
        let before = rewards_in(&tx, &[id]).await?.remove(0);
        if before.remaining() == 0 {
            return Err(AppError::code_only(ErrorCode::NoReferralRewardLeft));
        }
        let now = self.handles.now();
        referral_use::Entity::insert(referral_use::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(self.handles.new_id()),
            client_id: Set(id),
            actor_user_id: Set(ctx.actor().user().map(|u| u.0)),
            used_at: Set(now),
        })
        .exec(tx.conn())
        .await?;
        let after = ReferralRewards { used: before.used + 1, ..before };
        let changes =
            json!({ "referral_rewards_remaining": { "before": before.remaining(), "after": after.remaining() } });
        audit::record(&tx, ctx, AuditEntry::new("client.use_referral_reward", "client", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Points every reward use of `from` at `to` (merging duplicates, whose sponsees move too).
pub(crate) async fn move_uses(tx: &TenantTx, to: ClientId, from: ClientId) -> AppResult<Vec<uuid::Uuid>> {
    let ids: Vec<uuid::Uuid> = referral_use::Entity::find()
        .filter(referral_use::Column::TenantId.eq(tx.tenant()))
        .filter(referral_use::Column::ClientId.eq(from))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    referral_use::Entity::update_many()
        .col_expr(referral_use::Column::ClientId, Expr::value(to.0))
        .filter(referral_use::Column::TenantId.eq(tx.tenant()))
        .filter(referral_use::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: AppResult<()>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    // REF-02 REF-03
    fn reward_values_are_checked_against_their_kind() {
        let mut s = ReferralSettings::default();
        let input = |kind, value: &str| ReferralSettingsInput {
            reward_kind: kind,
            reward_value: Some(value.to_owned()),
            ..ReferralSettingsInput::default()
        };
        assert!(s.apply(input(None, "10")).is_ok());
        assert_eq!(s.reward_value, Money(1000));
        assert_eq!(field(s.clone().apply(input(None, "150"))).as_deref(), Some("reward_value"));
        assert!(s.apply(input(Some(RewardKind::FixedRebate), "150")).is_ok());
        assert_eq!(s.reward_value.to_decimal_string(), "150.00");
        // Switching back to a percentage re-checks the value it keeps.
        let back = ReferralSettingsInput { reward_kind: Some(RewardKind::DiscountPercent), ..Default::default() };
        assert_eq!(field(s.clone().apply(back)).as_deref(), Some("reward_value"));
        let long = ReferralSettingsInput { offer_text: Some(Some("x".repeat(501))), ..Default::default() };
        assert_eq!(field(s.apply(long)).as_deref(), Some("offer_text"));
    }

    #[test]
    // REF-05 Q-14
    fn remaining_rewards_never_go_below_zero() {
        let r = ReferralRewards { client: ClientId(uuid::Uuid::nil()), earned: 3, used: 1 };
        assert_eq!(r.remaining(), 2);
        assert_eq!(ReferralRewards { used: 4, ..r }.remaining(), 0);
    }
}
