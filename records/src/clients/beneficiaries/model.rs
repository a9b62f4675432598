//! The beneficiary as services hand it out, its input and its validation (CRD-02, Q-4).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};

use crate::clients::entity::beneficiary;
use crate::clients::model::{Civility, Patch, Phone};
use crate::clients::validate;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{BeneficiaryId, ClientId};

/// A person attached to a client (CRD-01).
#[derive(Clone, Debug, PartialEq)]
pub struct Beneficiary {
    pub id: BeneficiaryId,
    pub client: ClientId,
    pub civility: Option<Civility>,
    /// Required; `None` only once the client is anonymised.
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub street: Option<String>,
    pub complement: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub mobile: Option<Phone>,
    pub email: Option<String>,
    /// LED-15: enrolled in the loyalty scheme.
    pub loyalty: bool,
    /// LED-16: pays from the client's wallet.
    pub wallet: bool,
    /// CRD-04: a blocked beneficiary gets no new card and no posting.
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes a beneficiary: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct BeneficiaryInput {
    pub civility: Patch<Civility>,
    pub last_name: Patch<String>,
    pub first_name: Patch<String>,
    pub street: Patch<String>,
    pub complement: Patch<String>,
    pub postcode: Patch<String>,
    pub city: Patch<String>,
    pub country: Patch<String>,
    pub mobile: Patch<String>,
    pub email: Patch<String>,
    pub loyalty: Option<bool>,
    pub wallet: Option<bool>,
}

impl TryFrom<beneficiary::Model> for Beneficiary {
    type Error = AppError;
    fn try_from(r: beneficiary::Model) -> AppResult<Self> {
        let civility = r
            .civility
            .map(|c| c.parse().map_err(|_| AppError::internal(format!("bad stored civility: {c}"))))
            .transpose()?;
        Ok(Self {
            id: r.id,
            client: r.client_id,
            civility,
            last_name: r.last_name,
            first_name: r.first_name,
            street: r.street,
            complement: r.complement,
            postcode: r.postcode,
            city: r.city,
            country: r.country,
            mobile: r.mobile.map(|typed| Phone { typed, e164: r.mobile_e164 }),
            email: r.email,
            loyalty: r.loyalty,
            wallet: r.wallet,
            blocked: r.blocked,
            blocked_reason: r.blocked_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Beneficiary {
    /// A new beneficiary of `client` with every field empty, before its input is applied.
    pub fn blank(id: BeneficiaryId, client: ClientId, now: DateTime<Utc>) -> Self {
        Self {
            id,
            client,
            civility: None,
            last_name: None,
            first_name: None,
            street: None,
            complement: None,
            postcode: None,
            city: None,
            country: None,
            mobile: None,
            email: None,
            loyalty: false,
            wallet: false,
            blocked: false,
            blocked_reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// "Last First", as lists show it.
    pub fn display_name(&self) -> String {
        [self.last_name.as_deref(), self.first_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }

    pub(super) fn to_active(&self, tenant: clientele_kernel::TenantId) -> beneficiary::ActiveModel {
        beneficiary::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            client_id: Set(self.client),
            civility: Set(self.civility.map(|c| c.as_str().to_owned())),
            last_name: Set(self.last_name.clone()),
            first_name: Set(self.first_name.clone()),
            street: Set(self.street.clone()),
            complement: Set(self.complement.clone()),
            postcode: Set(self.postcode.clone()),
            city: Set(self.city.clone()),
            country: Set(self.country.clone()),
            mobile: Set(self.mobile.as_ref().map(|p| p.typed.clone())),
            mobile_e164: Set(self.mobile.as_ref().and_then(|p| p.e164.clone())),
            email: Set(self.email.clone()),
            loyalty: Set(self.loyalty),
            wallet: Set(self.wallet),
            blocked: Set(self.blocked),
            blocked_reason: Set(self.blocked_reason.clone()),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        }
    }

    /// Every stored field: the audit view and the export.
    pub(crate) fn view(&self) -> Value {
        json!({
            "client": self.client, "civility": self.civility.map(Civility::as_str),
            "last_name": self.last_name, "first_name": self.first_name, "street": self.street,
            "complement": self.complement, "postcode": self.postcode, "city": self.city,
            "country": self.country, "mobile": self.mobile.as_ref().map(|p| &p.typed),
            "mobile_e164": self.mobile.as_ref().and_then(|p| p.e164.as_ref()), "email": self.email,
            "loyalty": self.loyalty, "wallet": self.wallet, "blocked": self.blocked,
            "blocked_reason": self.blocked_reason,
        })
    }

    /// Applies and validates `input`, reporting every problem at once.
    pub(super) fn apply(&mut self, input: BeneficiaryInput) -> AppResult<()> {
        let mut errors = Vec::new();
        let clean = |p: Patch<String>| p.map(validate::clean);
        if let Some(civility) = input.civility {
            self.civility = civility;
        }
        for (target, value) in [
            (&mut self.last_name, input.last_name),
            (&mut self.first_name, input.first_name),
            (&mut self.street, input.street),
            (&mut self.complement, input.complement),
            (&mut self.postcode, input.postcode),
            (&mut self.city, input.city),
        ] {
            if let Some(v) = clean(value) {
                *target = v;
            }
        }
        // a beneficiary is a person, named like an individual client.
        if self.last_name.is_none() {
            errors.push(AppError::invalid("last_name", "A beneficiary needs a last name."));
        }
        if self.first_name.is_none() {
            errors.push(AppError::invalid("first_name", "A beneficiary needs a first name."));
        }
        if let Some(country) = clean(input.country) {
            self.country = country;
        }
        self.country = validate::country(&mut errors, "country", self.country.as_deref());
        validate::postcode(&mut errors, "postcode", self.postcode.as_deref(), self.country.as_deref());
        if let Some(mobile) = clean(input.mobile) {
            self.mobile = validate::phone(&mut errors, "mobile", mobile);
        }
        if let Some(email) = clean(input.email) {
            self.email = email.map(|e| e.to_lowercase());
        }
        validate::email(&mut errors, "email", self.email.as_deref());
        for (field, value, max) in [
            ("last_name", &self.last_name, 100),
            ("first_name", &self.first_name, 100),
            ("street", &self.street, 200),
            ("complement", &self.complement, 200),
            ("city", &self.city, 100),
        ] {
            validate::text(&mut errors, field, value.as_deref(), max, false);
        }
        if let Some(loyalty) = input.loyalty {
            self.loyalty = loyalty;
        }
        if let Some(wallet) = input.wallet {
            self.wallet = wallet;
        }
        AppError::all(errors).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> Beneficiary {
        Beneficiary::blank(BeneficiaryId(uuid::Uuid::nil()), ClientId(uuid::Uuid::nil()), DateTime::<Utc>::UNIX_EPOCH)
    }

    fn fields(err: &AppError) -> Vec<&str> {
        err.each().filter_map(AppError::field).collect()
    }

    #[test]
    // CRD-02 Q-4
    fn beneficiaries_need_both_names_and_valid_contact_details() {
        let err = blank().apply(BeneficiaryInput::default()).unwrap_err();
        assert_eq!(fields(&err), ["last_name", "first_name"]);
        let input = BeneficiaryInput {
            last_name: Some(Some("Dupont".into())),
            first_name: Some(Some("Léa".into())),
            mobile: Some(Some("call me".into())),
            email: Some(Some("nope".into())),
            country: Some(Some("FR".into())),
            postcode: Some(Some("750".into())),
            ..BeneficiaryInput::default()
        };
        let err = blank().apply(input).unwrap_err();
        assert_eq!(fields(&err), ["postcode", "mobile", "email"]);
    }

    #[test]
    // CRD-02 LED-15 LED-16
    fn mobiles_are_normalised_like_client_phones() {
        let mut b = blank();
        let input = BeneficiaryInput {
            last_name: Some(Some(" Dupont ".into())),
            first_name: Some(Some("Léa".into())),
            mobile: Some(Some("06 12 34 56 78".into())),
            email: Some(Some("Lea@Example.TEST".into())),
            country: Some(Some("fr".into())),
            loyalty: Some(true),
            ..BeneficiaryInput::default()
        };
        b.apply(input).unwrap();
        assert_eq!(b.last_name.as_deref(), Some("Dupont"));
        assert_eq!(b.mobile.as_ref().and_then(|p| p.e164.as_deref()), Some("+33612345678"));
        assert_eq!((b.email.as_deref(), b.country.as_deref()), (Some("lea@example.test"), Some("FR")));
        assert!(b.loyalty && !b.wallet);
        assert_eq!(b.display_name(), "Dupont Léa");
    }
}
