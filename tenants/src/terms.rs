//! Terms of use (ORG-24, Q-20): a supplier publishes numbered versions, each in one or more
//! languages; its own users and those of its customer organisations must approve the current
//! version before using anything else (the gate is in the GraphQL layer, fed by
//! `Authenticated::terms_pending`). A refusal keeps the user blocked.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, Language, OrgKind, Permission, TenantCtx, TenantId, TenantTx, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::customers::CustomerService;
use crate::entity::{organisation, terms_document, terms_response, user};
use crate::model::{User, parse_stored};
use crate::system_ctx;

/// A user's answer to the current version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum TermsStatus {
    NotRead,
    Approved,
    Refused,
}

/// One published text of the terms, with the caller's answer to its version.
#[derive(Clone, Debug)]
pub struct TermsView {
    pub version: i32,
    pub language: Language,
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
    pub status: TermsStatus,
    pub responded_at: Option<DateTime<Utc>>,
}

/// ORG-26: a user of a customer organisation as its supplier sees it.
#[derive(Clone, Debug)]
pub struct UserLogin {
    pub user: User,
    pub terms_status: TermsStatus,
    pub terms_responded_at: Option<DateTime<Utc>>,
}

/// One text a supplier published, as its list of versions shows it.
#[derive(Clone, Debug)]
pub struct PublishedText {
    pub version: i32,
    pub language: Language,
    pub title: String,
    pub published_at: DateTime<Utc>,
}

/// `publishTerms`: without `version` a new version (everyone is asked again); with an existing
/// version, a translation of it (nobody is asked again).
#[derive(Clone, Debug)]
pub struct PublishTerms {
    pub language: Language,
    pub title: String,
    pub body: String,
    pub version: Option<i32>,
}

pub struct TermsService {
    handles: Arc<Handles>,
}

/// The latest answer per user among `rows` (ordered oldest first).
fn latest_answers(rows: Vec<terms_response::Model>) -> AppResult<HashMap<UserId, (TermsStatus, DateTime<Utc>)>> {
    let mut out = HashMap::new();
    for row in rows {
        out.insert(row.user_id, (parse_stored("status", &row.status)?, row.at));
    }
    Ok(out)
}

fn view(doc: terms_document::Model, answer: Option<(TermsStatus, DateTime<Utc>)>) -> AppResult<TermsView> {
    Ok(TermsView {
        version: doc.version,
        language: parse_stored("language", &doc.language)?,
        title: doc.title,
        body: doc.body,
        published_at: doc.published_at,
        status: answer.map_or(TermsStatus::NotRead, |a| a.0),
        responded_at: answer.map(|a| a.1),
    })
}

impl TermsService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Publishes a text. A new version gets the next number and is required at once of the
    /// supplier's users and of every user of its customer organisations.
    pub async fn publish(&self, ctx: &TenantCtx, input: PublishTerms) -> AppResult<TermsView> {
        CustomerService::require_supplier(ctx)?;
        let title = input.title.trim().to_owned();
        let mut errors = Vec::new();
        if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
            errors.push(AppError::invalid("title", "Enter a title of 1 to 200 characters."));
        }
        if input.body.trim().is_empty() || input.body.chars().count() > 100_000 {
            errors.push(AppError::invalid("body", "Enter a text of 1 to 100000 characters."));
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let supplier = ctx.tenant();
        let tx = ctx.begin().await?;
        crate::users::authorize(&tx, ctx, Permission::ManageCustomers).await?;
        // Lock the supplier row: two publications at once must not take the same number.
        organisation::Entity::find_by_id(supplier).lock_exclusive().one(tx.conn()).await?;
        let latest: Option<i32> = terms_document::Entity::find()
            .select_only()
            .column_as(terms_document::Column::Version.max(), "v")
            .filter(terms_document::Column::TenantId.eq(supplier))
            .into_tuple::<Option<i32>>()
            .one(tx.conn())
            .await?
            .flatten();
        let latest = latest.unwrap_or(0);
        let version = match input.version {
            None => latest + 1,
            Some(v) if (1..=latest).contains(&v) => v,
            Some(_) => return Err(AppError::invalid("version", "Translate a version that was published.")),
        };
        let exists = terms_document::Entity::find()
            .filter(terms_document::Column::TenantId.eq(supplier))
            .filter(terms_document::Column::Version.eq(version))
            .filter(terms_document::Column::Language.eq(input.language.tag()))
            .one(tx.conn())
            .await?;
        if exists.is_some() {
            return Err(AppError::conflict("language", "This version already has a text in this language."));
        }
        let now = self.handles.now();
        let doc = terms_document::ActiveModel {
            tenant_id: Set(supplier),
            id: Set(self.handles.new_id()),
            version: Set(version),
            language: Set(input.language.tag().to_owned()),
            title: Set(title),
            body: Set(input.body),
            published_by: Set(ctx.actor().user().map(|u| u.0)),
            published_at: Set(now),
        }
        .insert(tx.conn())
        .await?;
        let mut asked = 0;
        if version > latest {
            // The supplier and its customers (its children: visible in its tenant) ask again.
            asked = organisation::Entity::update_many()
                .col_expr(organisation::Column::TermsVersion, Expr::value(version))
                .filter(
                    Condition::any().add(organisation::Column::Id.eq(supplier)).add(
                        Condition::all()
                            .add(organisation::Column::ParentId.eq(supplier))
                            .add(organisation::Column::Kind.eq(OrgKind::Customer.as_str())),
                    ),
                )
                .exec(tx.conn())
                .await?
                .rows_affected;
        }
        let changes = audit::created(&json!({
            "version": version, "language": doc.language, "title": doc.title, "organisations_asked": asked,
        }));
        audit::record(&tx, ctx, AuditEntry::new("terms.publish", "terms_document", doc.id, changes)).await?;
        // Who publishes a version has read and agreed to it: they stay able to work, to add its
        // translations first of all (an API token has nothing to answer).
        let publisher = ctx.actor().user().filter(|_| ctx.actor().on_behalf_of.is_none() && version > latest);
        let answered = match publisher {
            Some(user_id) => {
                self.answer(&tx, ctx, user_id, version, true).await?;
                Some((TermsStatus::Approved, now))
            }
            None => None,
        };
        tx.commit().await?;
        view(doc, answered)
    }

    /// Every text the supplier published, newest version first, its languages in order.
    pub async fn published(&self, ctx: &TenantCtx) -> AppResult<Vec<PublishedText>> {
        CustomerService::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let docs = terms_document::Entity::find()
            .filter(terms_document::Column::TenantId.eq(ctx.tenant()))
            .order_by_desc(terms_document::Column::Version)
            .order_by_asc(terms_document::Column::Language)
            .limit(500)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        docs.into_iter()
            .map(|doc| {
                Ok(PublishedText {
                    version: doc.version,
                    language: parse_stored("language", &doc.language)?,
                    title: doc.title,
                    published_at: doc.published_at,
                })
            })
            .collect()
    }

    /// The version the caller must have approved, in the caller's language (else English, else
    /// any published language), with the caller's answer; `None` when nothing is required.
    pub async fn current(&self, ctx: &TenantCtx) -> AppResult<Option<TermsView>> {
        let tx = ctx.read().await?;
        let own =
            organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let supplier = match parse_stored::<OrgKind>("kind", &own.kind)? {
            OrgKind::Supplier => own.id,
            OrgKind::Customer => own.parent_id.ok_or_else(|| AppError::internal("customer without supplier"))?,
            OrgKind::Platform => return Ok(None),
        };
        if own.terms_version == 0 {
            return Ok(None);
        }
        let (language, answer) = match ctx.actor().user() {
            Some(id) => {
                let row = user::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?;
                let language = row.map_or(Ok(Language::default()), |u| parse_stored("language", &u.language))?;
                let answers = terms_response::Entity::find()
                    .filter(terms_response::Column::TenantId.eq(ctx.tenant()))
                    .filter(terms_response::Column::UserId.eq(id))
                    .filter(terms_response::Column::Version.eq(own.terms_version))
                    .order_by_asc(terms_response::Column::At)
                    .order_by_asc(terms_response::Column::Id)
                    .all(tx.conn())
                    .await?;
                (language, latest_answers(answers)?.remove(&id))
            }
            None => (parse_stored("language", &own.language)?, None),
        };
        tx.commit().await?;
        // The texts live in the supplier's tenant; the caller's own row named that supplier, so
        // reading them there on the caller's behalf shows nothing it may not see.
        let supplier_ctx = system_ctx(&self.handles, supplier, OrgKind::Supplier);
        let tx = supplier_ctx.read().await?;
        let docs = terms_document::Entity::find()
            .filter(terms_document::Column::TenantId.eq(supplier))
            .filter(terms_document::Column::Version.eq(own.terms_version))
            .order_by_asc(terms_document::Column::Language)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let pick = [language.tag(), Language::EnUs.tag()]
            .iter()
            .find_map(|tag| docs.iter().position(|d| d.language == *tag))
            .unwrap_or(0);
        docs.into_iter().nth(pick).map(|doc| view(doc, answer)).transpose()
    }

    /// Records the caller's answer to the current `version`. Approving unblocks the caller;
    /// refusing blocks them until they approve.
    pub async fn respond(&self, ctx: &TenantCtx, version: i32, approve: bool) -> AppResult<TermsView> {
        // Only the person may answer: not an API token, nor a supplier on a direct login.
        let Some(user_id) = ctx.actor().user().filter(|_| ctx.actor().on_behalf_of.is_none()) else {
            return Err(AppError::forbidden());
        };
        let tx = ctx.begin().await?;
        let own =
            organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        if own.terms_version == 0 || version != own.terms_version {
            return Err(AppError::invalid("version", "Answer the current version of the terms of use."));
        }
        self.answer(&tx, ctx, user_id, version, approve).await?;
        tx.commit().await?;
        self.current(ctx).await?.ok_or_else(|| AppError::internal("answered terms vanished"))
    }

    /// Records `user_id`'s answer to `version` and what it unblocks, audited.
    async fn answer(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        user_id: UserId,
        version: i32,
        approve: bool,
    ) -> AppResult<()> {
        let row = user::Entity::find_by_id((ctx.tenant(), user_id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::forbidden)?;
        let status = if approve { TermsStatus::Approved } else { TermsStatus::Refused };
        terms_response::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(self.handles.new_id()),
            user_id: Set(user_id),
            version: Set(version),
            status: Set(<&str>::from(status).to_owned()),
            acted_by: Set(Some(user_id.0)),
            at: Set(self.handles.now()),
        }
        .insert(tx.conn())
        .await?;
        let before = row.terms_accepted_version;
        let accepted = if approve { version } else { before.min(version - 1) };
        let mut active: user::ActiveModel = row.into();
        active.terms_accepted_version = Set(accepted);
        active.update(tx.conn()).await?;
        let changes = audit::diff(
            &json!({ "terms_accepted_version": before }),
            &json!({ "terms_accepted_version": accepted, "terms_status": <&str>::from(status), "terms_version": version }),
        );
        audit::record(tx, ctx, AuditEntry::new("terms.respond", "user", user_id, changes)).await?;
        Ok(())
    }

    /// ORG-26: every user of the supplier's customer `org` with role, status, last sign-in and
    /// answer to the current terms (`NOT_READ` without one).
    pub async fn user_logins(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<UserLogin>> {
        CustomerService::require_supplier(ctx)?;
        let mut tx = ctx.read().await?;
        let customer = CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        tx.scope_to(org).await?;
        let users = user::Entity::find()
            .filter(user::Column::TenantId.eq(org))
            .order_by_asc(user::Column::Id)
            .limit(1000)
            .all(tx.conn())
            .await?;
        let answers = terms_response::Entity::find()
            .filter(terms_response::Column::TenantId.eq(org))
            .filter(terms_response::Column::Version.eq(customer.terms_version))
            .order_by_asc(terms_response::Column::At)
            .order_by_asc(terms_response::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut answers = latest_answers(answers)?;
        users
            .into_iter()
            .map(|row| {
                let answer = answers.remove(&row.id);
                Ok(UserLogin {
                    user: User::from_row(row)?,
                    terms_status: answer.map_or(TermsStatus::NotRead, |a| a.0),
                    terms_responded_at: answer.map(|a| a.1),
                })
            })
            .collect()
    }
}
