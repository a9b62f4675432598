//! Client lists: filters (SRC-07, SRC-08, MKT-03), orders (SRC-09) and keyset pages.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clients::custom_fields::{CustomEntity, CustomFieldService};
use crate::clients::entity::client;
use crate::clients::mapping::mmdd;
use crate::clients::model::{Client, ClientKind, ClientStatus, ConsentChannel, ConsentStatus};
use crate::clients::service::ClientService;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::fields::FieldType;
use clientele_kernel::ids::{CategoryId, ClientId, GroupId, SelectionId};
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::TenantCtx;

/// Trashed clients are hidden unless asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrashFilter {
    #[default]
    Exclude,
    Only,
    Include,
}

/// A condition on one custom field: equality, or membership for multi-choice fields.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomCondition {
    pub key: String,
    pub equals: Value,
}

/// A day of the year as (month, day).
pub type MonthDay = (u32, u32);

/// What a list keeps. Serialisable: a saved selection (SRC-14) stores one, so fields are only
/// ever added, with their default meaning "no condition".
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientFilter {
    /// Case-insensitive prefix of the last name, first name or company name.
    pub name_prefix: Option<String>,
    pub email: Option<String>,
    /// Digits contained in any phone number, whatever the formatting (`06 12`, `+33612`).
    pub phone: Option<String>,
    /// Exact client code, barcode or number (badge scan, SRC-04).
    pub code: Option<String>,
    pub kind: Option<ClientKind>,
    pub category: Option<CategoryId>,
    pub group: Option<GroupId>,
    /// Default: active clients only (LIF-02).
    pub statuses: Option<Vec<ClientStatus>>,
    pub blocked: Option<bool>,
    pub loyalty: Option<bool>,
    pub wallet: Option<bool>,
    pub has_email: Option<bool>,
    pub has_mobile: Option<bool>,
    /// Birthdays between two month-days (inclusive, across the year end when `from > to`).
    pub birthday_between: Option<(MonthDay, MonthDay)>,
    /// Birthdays from `back` days ago to `ahead` days from today, year ignored (MKT-03: J−n…J+n,
    /// just passed or coming); see [`ClientFilter::birthdays_around_today`].
    pub birthday_within: Option<(u32, u32)>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub trash: TrashFilter,
    pub custom: Vec<CustomCondition>,
    /// SRC-08: the consent recorded on each channel.
    pub consent_email: Option<ConsentStatus>,
    pub consent_sms: Option<ConsentStatus>,
    /// MKT-02, GDP-02: the clients a campaign on this channel may reach: with an e-mail address
    /// (a mobile for SMS) and no refusal recorded on it. The others stay in the list, flagged
    /// by their consent, and are never reached.
    pub reachable_by: Option<ConsentChannel>,
    /// SRC-14: the clients of a saved selection the caller sees (its filter, and its ticked
    /// clients when some were), which this filter narrows.
    pub selection: Option<SelectionId>,
}

impl ClientFilter {
    /// `birthday_between` from its two ends as `MM-DD` (both or neither), each with the field
    /// name the caller knows it by.
    pub fn birthdays(from: (&str, Option<&str>), to: (&str, Option<&str>)) -> AppResult<Option<(MonthDay, MonthDay)>> {
        match (from.1, to.1) {
            (Some(f), Some(t)) => Ok(Some((month_day_of(from.0, f)?, month_day_of(to.0, t)?))),
            (None, None) => Ok(None),
            _ => Err(AppError::invalid(to.0, format!("Give both {} and {}.", from.0, to.0))),
        }
    }
}

impl ClientFilter {
    /// `birthday_within` from the days ahead and the days back (either or both), each with the
    /// field name the caller knows it by: 0 to 366, a negative window is refused with what to
    /// use instead.
    pub fn birthdays_around_today(
        ahead: (&str, Option<i64>),
        back: (&str, Option<i64>),
    ) -> AppResult<Option<(u32, u32)>> {
        let days = |(field, n): (&str, Option<i64>), other: &str| match n {
            None => Ok(None),
            Some(n) => u32::try_from(n).ok().filter(|d| *d <= 366).map(Some).ok_or_else(|| {
                AppError::invalid(field, format!("Give 0 to 366 days; for the other side of today use {other}."))
            }),
        };
        match (days(ahead, back.0)?, days(back, ahead.0)?) {
            (None, None) => Ok(None),
            (a, b) => Ok(Some((b.unwrap_or(0), a.unwrap_or(0)))),
        }
    }
}

/// `MM-DD` as (month, day), refused unless it is a day of a leap year.
fn month_day_of(field: &str, raw: &str) -> AppResult<MonthDay> {
    let invalid = || AppError::invalid(field, "Use MM-DD, e.g. 12-24.");
    let (m, d) = raw.split_once('-').ok_or_else(invalid)?;
    let (m, d): (u32, u32) = (m.parse().map_err(|_| invalid())?, d.parse().map_err(|_| invalid())?);
    if chrono::NaiveDate::from_ymd_opt(2024, m, d).is_none() {
        return Err(invalid());
    }
    Ok((m, d))
}

/// Stored by its snake-case name (a saved selection's `order_by`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ClientOrder {
    /// Last name, first name, or company (SRC-09).
    #[default]
    Name,
    Number,
    CreatedAt,
}

/// A keyset cursor: the sort value and id of the last row of the previous page.
fn encode_cursor(order: ClientOrder, c: &Client) -> String {
    let (key, id) = keyset_of(order, c);
    URL_SAFE_NO_PAD.encode(serde_json::json!([key, id]).to_string())
}

fn decode_cursor(raw: &str, field: &'static str) -> AppResult<Keyset> {
    let invalid = || AppError::invalid(field, "This cursor is not valid.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let (key, id): (Value, uuid::Uuid) = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok((key, id))
}

fn month_day(mmdd: (u32, u32)) -> i32 {
    i32::try_from(mmdd.0 * 100 + mmdd.1).unwrap_or_default()
}

/// The consent conditions of `f`: its status on each channel (SRC-08), and whether a channel
/// may reach the client (MKT-02, GDP-02).
fn consent_condition(f: &ClientFilter) -> Condition {
    let mut cond = Condition::all();
    for (col, value) in [(client::Column::ConsentEmail, f.consent_email), (client::Column::ConsentSms, f.consent_sms)] {
        if let Some(status) = value {
            cond = cond.add(col.eq(status.as_str()));
        }
    }
    if let Some(channel) = f.reachable_by {
        let (address, consent) = match channel {
            ConsentChannel::Email => (client::Column::Email, client::Column::ConsentEmail),
            ConsentChannel::Sms => (client::Column::Mobile, client::Column::ConsentSms),
        };
        cond = cond.add(address.is_not_null()).add(consent.ne(ConsentStatus::Refused.as_str()));
    }
    cond
}

/// Digits contained in any phone number: a national number typed with its leading 0 matches
/// the E.164 form without it. `None` without a digit.
fn phone_condition(phone: &str) -> Option<Condition> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix('0').unwrap_or(&digits);
    (!digits.is_empty()).then(|| {
        let pattern = format!("%{digits}%");
        Condition::any()
            .add(client::Column::MobileE164.like(pattern.clone()))
            .add(client::Column::HomePhoneE164.like(pattern.clone()))
            .add(client::Column::WorkPhoneE164.like(pattern))
    })
}

/// Birthdays in a month-day window; a window that wraps past December 31st is two ranges.
fn birthday_condition(from: i32, to: i32) -> Condition {
    let col = client::Column::BirthMmdd;
    if from <= to {
        Condition::all().add(col.gte(from)).add(col.lte(to))
    } else {
        Condition::any().add(col.gte(from)).add(col.lte(to))
    }
}

impl ClientService {
    /// One page of clients matching `filter`, in `order`, beyond the page's cursor.
    pub async fn list(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        page: PageRequest<String>,
    ) -> AppResult<(Page<Client>, Vec<String>)> {
        self.list_page(ctx, filter, order, page, true).await
    }

    /// As [`list`](Self::list); the total is counted only when `with_total` (else it is 0), so a
    /// page costs one statement.
    pub async fn list_page(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        page: PageRequest<String>,
        with_total: bool,
    ) -> AppResult<(Page<Client>, Vec<String>)> {
        let request = page.decode(decode_cursor)?;
        let tx = ctx.read().await?;
        let condition = self.condition(ctx, &tx, filter).await?;
        let clients = keyset_page(&tx, condition.clone(), order, &request).await?;
        let total = if with_total {
            client::Entity::find()
                .filter(client::Column::TenantId.eq(ctx.tenant()))
                .filter(condition)
                .count(tx.conn())
                .await?
        } else {
            0
        };
        tx.commit().await?;
        let page = Page::from_overfetch(clients, &request, total);
        let cursors = page.items.iter().map(|c| encode_cursor(order, c)).collect();
        Ok((page, cursors))
    }

    /// SRC-12: the first, previous, next and last clients of the list that `filter` and `order`
    /// make, around client `id` (its previous and next are those around its place in that
    /// order, whether it matches the filter or not); four one-row keyset reads.
    pub async fn neighbours(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        id: ClientId,
    ) -> AppResult<Neighbours> {
        let tx = ctx.read().await?;
        let current = crate::clients::service::load(&tx, id).await?;
        let condition = self.condition(ctx, &tx, filter).await?;
        let at = Some(keyset_of(order, &current));
        let first = nearest(&tx, &condition, order, None, false).await?;
        let previous = nearest(&tx, &condition, order, at.clone(), true).await?;
        let next = nearest(&tx, &condition, order, at, false).await?;
        let last = nearest(&tx, &condition, order, None, true).await?;
        tx.commit().await?;
        Ok(Neighbours { first, previous, next, last })
    }

    /// The clients among `ids` that match `filter` (search hits narrowed by the list filters).
    pub async fn matching(&self, ctx: &TenantCtx, filter: &ClientFilter, ids: &[ClientId]) -> AppResult<Vec<Client>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let tx = ctx.read().await?;
        let condition = self.condition(ctx, &tx, filter).await?;
        let rows = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Id.is_in(ids.iter().map(|i| i.0)))
            .filter(condition)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Client::from_row).collect()
    }

    /// The clients of saved selection `id` as `ctx`'s caller sees it: its ticked clients, if
    /// any, that its filter keeps.
    async fn selection_condition(
        &self,
        ctx: &TenantCtx,
        tx: &clientele_kernel::TenantTx,
        id: SelectionId,
    ) -> AppResult<Condition> {
        let saved = crate::clients::selections::visible(tx, ctx.actor(), id).await?;
        let mut cond = Condition::all();
        if let Some(ids) = &saved.clients {
            cond = cond.add(client::Column::Id.is_in(ids.iter().map(|c| c.0)));
        }
        // A saved filter names no selection (refused at saving): one level deep.
        Ok(cond.add(Box::pin(self.condition(ctx, tx, &saved.filter)).await?))
    }

    /// The SQL condition of a filter (shared by lists and exports), read in `tx` as `ctx`'s
    /// caller (whose saved selections it may name); unknown custom fields are refused.
    pub(crate) async fn condition(
        &self,
        ctx: &TenantCtx,
        tx: &clientele_kernel::TenantTx,
        f: &ClientFilter,
    ) -> AppResult<Condition> {
        let backend = tx.get_database_backend();
        let mut cond = Condition::all();
        if let Some(id) = f.selection {
            cond = cond.add(self.selection_condition(ctx, tx, id).await?);
        }
        cond = cond.add(consent_condition(f));
        cond = match f.trash {
            TrashFilter::Exclude => cond.add(client::Column::DeletedAt.is_null()),
            TrashFilter::Only => cond.add(client::Column::DeletedAt.is_not_null()),
            TrashFilter::Include => cond,
        };
        let statuses = f.statuses.clone().unwrap_or_else(|| vec![ClientStatus::Active]);
        cond = cond.add(client::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        if let Some(prefix) = f.name_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            let pattern = clientele_kernel::db::like_prefix(prefix);
            let like = |col: client::Column| {
                Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            cond = cond.add(
                Condition::any()
                    .add(like(client::Column::LastName))
                    .add(like(client::Column::FirstName))
                    .add(like(client::Column::CompanyName)),
            );
        }
        if let Some(email) = &f.email {
            cond = cond.add(client::Column::Email.eq(email.trim().to_lowercase()));
        }
        if let Some(phone) = f.phone.as_deref().and_then(phone_condition) {
            cond = cond.add(phone);
        }
        if let Some(code) = f.code.as_deref().map(str::trim) {
            let mut any = Condition::any().add(client::Column::Code.eq(code)).add(client::Column::Barcode.eq(code));
            if let Ok(number) = code.parse::<i64>() {
                any = any.add(client::Column::Number.eq(number));
            }
            cond = cond.add(any);
        }
        if let Some(kind) = f.kind {
            cond = cond.add(client::Column::Kind.eq(kind.as_str()));
        }
        if let Some(id) = f.category {
            cond = cond.add(client::Column::Category.eq(id.0));
        }
        if let Some(id) = f.group {
            cond = cond.add(client::Column::Group.eq(id.0));
        }
        for (col, value) in [
            (client::Column::Blocked, f.blocked),
            (client::Column::Loyalty, f.loyalty),
            (client::Column::Wallet, f.wallet),
        ] {
            if let Some(v) = value {
                cond = cond.add(col.eq(v));
            }
        }
        for (col, value) in [(client::Column::Email, f.has_email), (client::Column::Mobile, f.has_mobile)] {
            match value {
                Some(true) => cond = cond.add(col.is_not_null()),
                Some(false) => cond = cond.add(col.is_null()),
                None => {}
            }
        }
        if let Some((from, to)) = f.birthday_between {
            cond = cond.add(birthday_condition(month_day(from), month_day(to)));
        }
        if let Some((back, ahead)) = f.birthday_within {
            let today: NaiveDate = tx_now(self).date_naive();
            let (start, end) = (today - Duration::days(i64::from(back)), today + Duration::days(i64::from(ahead)));
            let whole_year = back + ahead >= 365;
            cond = cond.add(if whole_year { Condition::all() } else { birthday_condition(mmdd(start), mmdd(end)) });
            cond = cond.add(client::Column::BirthMmdd.is_not_null());
        }
        if let Some(from) = f.created_from {
            cond = cond.add(client::Column::CreatedAt.gte(from));
        }
        if let Some(to) = f.created_to {
            cond = cond.add(client::Column::CreatedAt.lt(to));
        }
        if !f.custom.is_empty() {
            let defs = CustomFieldService::list_in(tx).await?;
            for c in &f.custom {
                let def =
                    defs.iter().find(|d| d.entity == CustomEntity::Client && d.key == c.key).ok_or_else(|| {
                        AppError::invalid(&format!("custom_fields.{}", c.key), "There is no such custom field.")
                    })?;
                cond = cond.add(custom_condition(backend, &def.key, def.kind, &c.equals));
            }
        }
        Ok(cond)
    }
}

/// A client's place in a list ([`ClientService::neighbours`]), for first/previous/next/last.
#[derive(Clone, Debug, Default)]
pub struct Neighbours {
    pub first: Option<Client>,
    pub previous: Option<Client>,
    pub next: Option<Client>,
    pub last: Option<Client>,
}

/// Where a keyset page starts: the sort key and id of the last row of the previous page.
pub(crate) type Keyset = (Value, uuid::Uuid);

/// The key a page that ends on `c` continues after.
pub(crate) fn keyset_of(order: ClientOrder, c: &Client) -> Keyset {
    let key = match order {
        ClientOrder::Name => Value::from(crate::clients::mapping::sort_name(c)),
        ClientOrder::Number => Value::from(c.number),
        ClientOrder::CreatedAt => Value::from(c.created_at.to_rfc3339()),
    };
    (key, c.id.0)
}

/// One more than a page of the tenant's clients matching `condition`, in `order`, read in the
/// page's direction beyond its cursor.
pub(crate) async fn keyset_page(
    tx: &clientele_kernel::TenantTx,
    condition: Condition,
    order: ClientOrder,
    page: &PageRequest<Keyset>,
) -> AppResult<Vec<Client>> {
    let query = client::Entity::find().filter(client::Column::TenantId.eq(tx.tenant())).filter(condition);
    let column = match order {
        ClientOrder::Name => client::Column::SortName,
        ClientOrder::Number => client::Column::Number,
        ClientOrder::CreatedAt => client::Column::CreatedAt,
    };
    // A row-value comparison is one range on the (tenant, key, id) index for both databases;
    // PostgreSQL cannot scan a range for the equivalent `key > k OR (key = k AND id > i)`.
    let key = match &page.cursor {
        Some((key, id)) => Some(vec![key_value(order, key, page.cursor_field())?, (*id).into()]),
        None => None,
    };
    let rows = page.keyset(query, [column, client::Column::Id], key, true).all(tx.conn()).await?;
    rows.into_iter().map(Client::from_row).collect()
}

/// The one client just beyond `cursor` (or at the start of the list) in `order`, or before it.
async fn nearest(
    tx: &clientele_kernel::TenantTx,
    condition: &Condition,
    order: ClientOrder,
    cursor: Option<Keyset>,
    backward: bool,
) -> AppResult<Option<Client>> {
    let one = PageRequest { size: 1, cursor, backward };
    Ok(keyset_page(tx, condition.clone(), order, &one).await?.into_iter().next())
}

fn tx_now(service: &ClientService) -> DateTime<Utc> {
    service.handles.now()
}

/// The cursor's sort key as a value of the order's column.
fn key_value(order: ClientOrder, key: &Value, field: &'static str) -> AppResult<sea_orm::Value> {
    let invalid = || AppError::invalid(field, "This cursor is not valid.");
    Ok(match order {
        ClientOrder::Name => key.as_str().ok_or_else(invalid)?.to_owned().into(),
        ClientOrder::Number => key.as_i64().ok_or_else(invalid)?.into(),
        ClientOrder::CreatedAt => {
            let at = key.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).ok_or_else(invalid)?;
            at.with_timezone(&Utc).into()
        }
    })
}

/// `custom_fields.<key> = value` (or contains, for multi-choice), per backend's JSON functions.
fn custom_condition(backend: DbBackend, key: &str, kind: FieldType, value: &Value) -> SimpleExpr {
    let path = format!("$.{key}");
    let scalar = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (backend, kind) {
        (DbBackend::Postgres, FieldType::MultiChoice) => {
            Expr::cust_with_values("(custom_fields::jsonb -> $1) ? $2", [key.to_owned(), scalar])
        }
        (DbBackend::Postgres, _) => {
            Expr::cust_with_values("custom_fields::jsonb ->> $1 = $2", [key.to_owned(), scalar])
        }
        // sea-query writes each backend's own placeholders: `$n` above, `?` here.
        (_, FieldType::MultiChoice) => Expr::cust_with_values(
            "EXISTS (SELECT 1 FROM json_each(custom_fields, ?) WHERE json_each.value = ?)",
            [path, scalar],
        ),
        (_, FieldType::Boolean) => Expr::cust_with_values(
            "json_extract(custom_fields, ?) = ?",
            [path.into(), sea_orm::Value::from(value.as_bool() == Some(true))],
        ),
        (_, FieldType::Integer) => Expr::cust_with_values(
            "json_extract(custom_fields, ?) = ?",
            [path.into(), sea_orm::Value::from(value.as_i64().unwrap_or_default())],
        ),
        _ => Expr::cust_with_values("json_extract(custom_fields, ?) = ?", [path, scalar]),
    }
}
