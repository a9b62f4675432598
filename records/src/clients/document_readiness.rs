//! Document readiness (CLI-16): what a client lacks to go on a quote, order, invoice, delivery
//! note or pro forma, and completing it in one call. Documents are billed to the address ADR-04
//! picks.

use crate::clients::addresses::{Address, AddressInput, AddressKind, AddressService, lock_client, of_clients};
use crate::clients::service;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::{Permission, TenantCtx};

/// Fields a document (quote, order, invoice, delivery note, pro forma) needs on the billing
/// address (CLI-16), as `AddressInput` field names.
pub const DOCUMENT_FIELDS: [&str; 3] = ["street", "postcode", "city"];

/// The address documents are billed to (ADR-04): the default delivery address when the client
/// bills to it, else the default billing address, else the default main address.
pub fn billing_address(addresses: &[Address], uses_delivery: bool) -> Option<&Address> {
    let order: &[AddressKind] = if uses_delivery {
        &[AddressKind::Delivery, AddressKind::Billing, AddressKind::Main]
    } else {
        &[AddressKind::Billing, AddressKind::Main]
    };
    order.iter().find_map(|kind| addresses.iter().find(|a| a.kind == *kind && a.is_default))
}

/// The document fields the billing address lacks (all of them when there is none).
pub fn missing_for_documents(address: Option<&Address>) -> Vec<&'static str> {
    let Some(a) = address else { return DOCUMENT_FIELDS.to_vec() };
    [("street", &a.street), ("postcode", &a.postcode), ("city", &a.city)]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(f, _)| f)
        .collect()
}

/// CLI-16: whether a client can go on a document, and what is missing.
#[derive(Clone, Debug)]
pub struct DocumentReadiness {
    pub client: ClientId,
    /// The address documents will be billed to, if any.
    pub address: Option<Address>,
    /// `AddressInput` fields to fill; empty when ready.
    pub missing: Vec<&'static str>,
}

impl AddressService {
    /// CLI-16: what the client lacks to go on a document.
    pub async fn readiness(&self, ctx: &TenantCtx, client: ClientId) -> AppResult<DocumentReadiness> {
        let tx = ctx.read().await?;
        let owner = service::load(&tx, client).await?;
        let addresses = of_clients(&tx, &[client]).await?;
        tx.commit().await?;
        let address = billing_address(&addresses, owner.billing_uses_delivery).cloned();
        Ok(DocumentReadiness { client, missing: missing_for_documents(address.as_ref()), address })
    }

    /// CLI-16: completes the billing address in one call (creating a default one when there is
    /// none) and saves it on the client; refused unless every document field ends up filled.
    pub async fn complete_for_documents(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        input: AddressInput,
    ) -> AppResult<DocumentReadiness> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = lock_client(&tx, client).await?;
        let addresses = of_clients(&tx, &[client]).await?;
        let target = billing_address(&addresses, owner.billing_uses_delivery).cloned();
        let kind = match &target {
            Some(t) => t.kind,
            None if owner.billing_uses_delivery => AddressKind::Delivery,
            None => AddressKind::Billing,
        };
        if input.kind.is_some_and(|k| k != kind) {
            return Err(AppError::invalid("kind", "Documents are billed to the address already chosen."));
        }
        let input = AddressInput { kind: Some(kind), is_default: Some(true), ..input };
        let address = self.save_in(&tx, ctx, &owner, target, input).await?;
        let missing = missing_for_documents(Some(&address));
        let errors = missing.iter().map(|f| AppError::invalid(f, "Documents need this field.")).collect();
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        tx.commit().await?;
        Ok(DocumentReadiness { client, address: Some(address), missing })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use clientele_kernel::ids::AddressId;

    fn address(kind: AddressKind, is_default: bool, street: Option<&str>) -> Address {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        Address {
            id: AddressId(uuid::Uuid::nil()),
            client: ClientId(uuid::Uuid::nil()),
            kind,
            label: None,
            company: None,
            street: street.map(str::to_owned),
            complement: None,
            po_box: None,
            postcode: Some("75001".into()),
            city: Some("Paris".into()),
            country: None,
            remark: None,
            is_default,
            delivery_person: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    // ADR-04 CLI-16
    fn documents_bill_to_delivery_billing_or_main_address() {
        let all = [
            address(AddressKind::Main, true, Some("1 rue A")),
            address(AddressKind::Billing, false, Some("2 rue B")),
            address(AddressKind::Billing, true, None),
            address(AddressKind::Delivery, true, Some("3 rue C")),
        ];
        assert_eq!(billing_address(&all, false).map(|a| a.street.as_deref()), Some(None));
        assert_eq!(billing_address(&all, true).and_then(|a| a.street.as_deref()), Some("3 rue C"));
        assert_eq!(billing_address(&all[..2], false).and_then(|a| a.street.as_deref()), Some("1 rue A"));
        assert_eq!(missing_for_documents(billing_address(&all, false)), ["street"]);
        assert_eq!(missing_for_documents(None), DOCUMENT_FIELDS);
        assert!(missing_for_documents(billing_address(&all, true)).is_empty());
    }
}
