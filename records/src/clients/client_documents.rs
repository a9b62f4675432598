//! Document references of a client (OTH-01): which quotes, orders, invoices, credit notes,
//! delivery notes, pro formas and service invoices exist, numbered per type, with their date,
//! amount, site and progress flags. The documents themselves live in the till or back office.
//! A client with documents stays out of the trash (LIF-04); the operations view groups them by
//! type (LED-14). Reading is in `client_documents/read.rs`.

mod read;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr};
use serde_json::{Value, json};

use crate::clients::entity::{address, client_document as doc};
use crate::clients::model::Patch;
use crate::clients::service::ensure_live;
use crate::clients::service::{self, DeletionGuard};
use crate::clients::validate;
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode, Reason};
use clientele_kernel::ids::{AddressId, ClientDocumentId, ClientId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

stored_enum!(
    /// OTH-01: the types of document a client can be linked to.
    DocumentKind { Quote, Order, Invoice, CreditNote, DeliveryNote, ProForma, ServiceInvoice }
);

/// A document reference (OTH-01).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientDocument {
    pub id: ClientDocumentId,
    pub client: ClientId,
    pub kind: DocumentKind,
    /// Unique per tenant and type.
    pub number: String,
    pub date: NaiveDate,
    pub amount: Money,
    /// The client's address (site, CON-01) the document is for.
    pub site: Option<AddressId>,
    pub invoiced: bool,
    pub ordered: bool,
    pub delivered: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes a document reference; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct ClientDocumentInput {
    /// Required on creation; never changes.
    pub kind: Option<DocumentKind>,
    /// Required on creation.
    pub number: Option<String>,
    /// Default: today.
    pub date: Option<NaiveDate>,
    /// Decimal string, required on creation.
    pub amount: Option<String>,
    pub site: Patch<AddressId>,
    pub invoiced: Option<bool>,
    pub ordered: Option<bool>,
    pub delivered: Option<bool>,
}

pub use read::{DocumentFilter, DocumentSummary};

impl TryFrom<doc::Model> for ClientDocument {
    type Error = AppError;
    fn try_from(r: doc::Model) -> AppResult<Self> {
        let kind = r.kind.parse().map_err(|_| AppError::internal(format!("bad stored document kind: {}", r.kind)))?;
        Ok(Self {
            id: r.id,
            client: r.client_id,
            kind,
            number: r.number,
            date: r.document_date,
            amount: Money(r.amount_minor),
            site: r.site_id,
            invoiced: r.invoiced,
            ordered: r.ordered,
            delivered: r.delivered,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl ClientDocument {
    fn to_active(&self, tenant: clientele_kernel::TenantId) -> doc::ActiveModel {
        doc::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            client_id: Set(self.client),
            kind: Set(self.kind.as_str().to_owned()),
            number: Set(self.number.clone()),
            document_date: Set(self.date),
            amount_minor: Set(self.amount.0),
            site_id: Set(self.site),
            invoiced: Set(self.invoiced),
            ordered: Set(self.ordered),
            delivered: Set(self.delivered),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        }
    }

    pub(crate) fn view(&self) -> Value {
        json!({
            "client": self.client, "kind": self.kind.as_str(), "number": self.number,
            "date": self.date.to_string(), "amount": self.amount.to_decimal_string(), "site": self.site,
            "invoiced": self.invoiced, "ordered": self.ordered, "delivered": self.delivered,
        })
    }

    /// Applies and validates `input` (the site is checked against the database apart).
    fn apply(&mut self, input: &ClientDocumentInput, creating: bool, errors: &mut Vec<AppError>) {
        match input.kind {
            Some(kind) if creating => self.kind = kind,
            Some(kind) if kind != self.kind => {
                errors.push(AppError::invalid("kind", "A document keeps its type: record a new one instead."));
            }
            None if creating => errors.push(AppError::invalid("kind", "Choose the type of document.")),
            _ => {}
        }
        if let Some(number) = &input.number {
            number.trim().clone_into(&mut self.number);
        }
        if self.number.is_empty() {
            errors.push(AppError::invalid("number", "Enter the document number."));
        }
        validate::text(errors, "number", Some(&self.number), 40, false);
        if let Some(date) = input.date {
            self.date = date;
        }
        match input.amount.as_deref().map(Money::parse) {
            Some(Some(amount)) => self.amount = amount,
            Some(None) => errors.push(AppError::refused("amount", Reason::Amount)),
            None if creating => errors.push(AppError::invalid("amount", "Enter the document's amount.")),
            None => {}
        }
        for (target, value) in [
            (&mut self.invoiced, input.invoiced),
            (&mut self.ordered, input.ordered),
            (&mut self.delivered, input.delivered),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
    }
}

async fn find(tx: &TenantTx, id: ClientDocumentId) -> AppResult<ClientDocument> {
    let row = doc::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    ClientDocument::try_from(row.ok_or_else(AppError::not_found)?)
}

fn of_client(tx: &TenantTx, client: ClientId) -> sea_orm::Select<doc::Entity> {
    doc::Entity::find().filter(doc::Column::TenantId.eq(tx.tenant())).filter(doc::Column::ClientId.eq(client))
}

pub struct ClientDocumentService {
    handles: Arc<Handles>,
}

impl ClientDocumentService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    pub async fn get(&self, ctx: &TenantCtx, id: ClientDocumentId) -> AppResult<ClientDocument> {
        let tx = ctx.read().await?;
        let found = find(&tx, id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Links a document to a client. Refused with `CLIENT_BLOCKED` for a blocked client (LIF-01).
    pub async fn create(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        input: ClientDocumentInput,
    ) -> AppResult<ClientDocument> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = service::load(&tx, client).await?;
        ensure_live(&owner)?;
        if owner.blocked {
            return Err(AppError::new(ErrorCode::ClientBlocked, "This client is blocked: no document can be linked."));
        }
        let now = self.handles.now();
        let created = ClientDocument {
            id: ClientDocumentId(self.handles.new_id()),
            client: owner.id,
            kind: DocumentKind::Quote,
            number: String::new(),
            date: now.date_naive(),
            amount: Money(0),
            site: None,
            invoiced: false,
            ordered: false,
            delivered: false,
            created_at: now,
            updated_at: now,
        };
        let created = self.save_in(&tx, ctx, None, created, &input).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update(
        &self,
        ctx: &TenantCtx,
        id: ClientDocumentId,
        input: ClientDocumentInput,
    ) -> AppResult<ClientDocument> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let after = ClientDocument { updated_at: self.handles.now(), ..before.clone() };
        let after = self.save_in(&tx, ctx, Some(before), after, &input).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete(&self, ctx: &TenantCtx, id: ClientDocumentId) -> AppResult<ClientDocumentId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        doc::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&before.view(), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("client_document.delete", "client_document", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn save_in(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        before: Option<ClientDocument>,
        mut after: ClientDocument,
        input: &ClientDocumentInput,
    ) -> AppResult<ClientDocument> {
        let mut errors = Vec::new();
        after.apply(input, before.is_none(), &mut errors);
        if let Some(site) = input.site {
            if let Some(id) = site {
                let found = address::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
                if found.is_none_or(|a| a.client_id != after.client) {
                    errors.push(AppError::invalid("site", "No such address for this client."));
                }
            }
            after.site = site;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let kind = after.kind;
        let unique = move |err: sea_orm::DbErr| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(
                "number",
                format!("Another document of type {} already has this number.", kind.as_str()),
            ),
            _ => err.into(),
        };
        let model = after.to_active(tx.tenant());
        let (action, before) = if let Some(before) = before {
            model.update(tx.conn()).await.map_err(unique)?;
            ("client_document.update", before.view())
        } else {
            model.insert(tx.conn()).await.map_err(unique)?;
            ("client_document.create", Value::Null)
        };
        let changes = audit::diff(&before, &after.view());
        audit::record(tx, ctx, AuditEntry::new(action, "client_document", after.id, changes)).await?;
        Ok(after)
    }
}

/// LIF-04: a client linked to documents cannot go to the trash.
pub struct LinkedDocuments;

#[async_trait::async_trait]
impl DeletionGuard for LinkedDocuments {
    async fn blocks_deletion(&self, tx: &TenantTx, client: ClientId) -> AppResult<Option<String>> {
        let linked = of_client(tx, client).count(tx.conn()).await?;
        Ok((linked > 0).then(|| {
            format!(
                "This client is linked to {linked} document(s) (quotes, orders, invoices…) and cannot be deleted: \
                 make it dormant instead."
            )
        }))
    }
}

/// Points every document of `from` at `to` (merging duplicates); returns their ids.
pub(crate) async fn move_documents(tx: &TenantTx, to: ClientId, from: ClientId) -> AppResult<Vec<uuid::Uuid>> {
    let ids: Vec<uuid::Uuid> = of_client(tx, from).all(tx.conn()).await?.into_iter().map(|d| d.id.0).collect();
    doc::Entity::update_many()
        .col_expr(doc::Column::ClientId, Expr::value(to.0))
        .filter(doc::Column::TenantId.eq(tx.tenant()))
        .filter(doc::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> ClientDocument {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        ClientDocument {
            id: ClientDocumentId(uuid::Uuid::nil()),
            client: ClientId(uuid::Uuid::nil()),
            kind: DocumentKind::Quote,
            number: String::new(),
            date: at.date_naive(),
            amount: Money(0),
            site: None,
            invoiced: false,
            ordered: false,
            delivered: false,
            created_at: at,
            updated_at: at,
        }
    }

    fn fields(errors: &[AppError]) -> Vec<&str> {
        errors.iter().filter_map(AppError::field).collect()
    }

    #[test]
    // OTH-01
    fn documents_need_a_type_a_number_and_an_exact_amount() {
        let mut errors = Vec::new();
        blank().apply(&ClientDocumentInput::default(), true, &mut errors);
        assert_eq!(fields(&errors), ["kind", "number", "amount"]);
        errors.clear();
        let input = ClientDocumentInput {
            kind: Some(DocumentKind::Invoice),
            number: Some(" FA-0001 ".into()),
            amount: Some("-12.5".into()),
            delivered: Some(true),
            ..ClientDocumentInput::default()
        };
        let mut d = blank();
        d.apply(&input, true, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            (d.kind, d.number.as_str(), d.amount, d.delivered),
            (DocumentKind::Invoice, "FA-0001", Money(-1250), true)
        );
        let change = ClientDocumentInput {
            kind: Some(DocumentKind::Order),
            amount: Some("1.234".into()),
            ..ClientDocumentInput::default()
        };
        d.apply(&change, false, &mut errors);
        assert_eq!(fields(&errors), ["kind", "amount"]);
    }
}
