//! Conversions between the `clients` row and the domain [`Client`].

use sea_orm::ActiveValue::Set;
use serde_json::{Map, Value};

use serde_json::json;

use crate::clients::entity::client;
use crate::clients::fields::{self, client_fields};
use crate::clients::model::{Client, ClientKind, Phone};
use clientele_kernel::error::{AppError, AppResult};

fn parse<T: std::str::FromStr>(column: &str, value: &str) -> AppResult<T> {
    value.parse().map_err(|_| AppError::internal(format!("bad stored clients.{column}: {value}")))
}

fn phone(typed: Option<String>, e164: Option<String>) -> Option<Phone> {
    typed.map(|typed| Phone { typed, e164 })
}

/// The key records sort by by default (SRC-09): last name then first name, or the company.
pub fn sort_name(c: &Client) -> String {
    c.display_name().to_lowercase()
}

/// Month * 100 + day of a birth date (year ignored).
pub fn mmdd(date: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    i32::try_from(date.month() * 100 + date.day()).unwrap_or_default()
}

macro_rules! row_mapping {
    ($($(#[$column:meta])* $name:ident : $ty:ty $(as $input:ty)? = $spec:expr),* $(,)?) => {
        impl Client {
            pub(crate) fn from_row(r: client::Model) -> AppResult<Self> {
                Ok(Self {
                    id: r.id,
                    number: r.number,
                    kind: parse::<ClientKind>("kind", &r.kind)?,
                    mobile: phone(r.mobile, r.mobile_e164),
                    home_phone: phone(r.home_phone, r.home_phone_e164),
                    work_phone: phone(r.work_phone, r.work_phone_e164),
                    custom_fields: match r.custom_fields {
                        Some(Value::Object(map)) => map,
                        _ => Map::new(),
                    },
                    code: r.code,
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    deleted_at: r.deleted_at,
                    anonymised_at: r.anonymised_at,
                    $($name: r.$name,)*
                })
            }

            /// Every column set from the domain value (inserts and full updates).
            pub(crate) fn to_active(
                &self,
                tenant: clientele_kernel::TenantId,
                created_by: Option<uuid::Uuid>,
            ) -> client::ActiveModel {
                let (mobile, mobile_e164) = split_phone(self.mobile.as_ref());
                let (home_phone, home_phone_e164) = split_phone(self.home_phone.as_ref());
                let (work_phone, work_phone_e164) = split_phone(self.work_phone.as_ref());
                client::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(self.id),
                    number: Set(self.number),
                    code: Set(self.code.clone()),
                    kind: Set(self.kind.as_str().to_owned()),
                    sort_name: Set(sort_name(self)),
                    mobile: Set(mobile),
                    mobile_e164: Set(mobile_e164),
                    home_phone: Set(home_phone),
                    home_phone_e164: Set(home_phone_e164),
                    work_phone: Set(work_phone),
                    work_phone_e164: Set(work_phone_e164),
                    birth_mmdd: Set(self.birth_date.map(mmdd)),
                    custom_fields: Set((!self.custom_fields.is_empty()).then(|| Value::Object(self.custom_fields.clone()))),
                    version: Set(self.version),
                    created_by: Set(created_by),
                    created_at: Set(self.created_at),
                    updated_at: Set(self.updated_at),
                    deleted_at: Set(self.deleted_at),
                    anonymised_at: Set(self.anonymised_at),
                    $($name: Set(self.$name.clone()),)*
                }
            }
        }
    };
}
client_fields!(row_mapping);

impl Client {
    /// What the audit log records of a client: every field of the table, the hand-written
    /// ones users change, and the custom fields.
    pub(crate) fn audit_view(&self) -> Value {
        let mut view = fields::json_view(self);
        for (key, value) in [
            ("code", json!(self.code)),
            ("kind", json!(self.kind.as_str())),
            ("mobile", json!(self.mobile.as_ref().map(|p| &p.typed))),
            ("home_phone", json!(self.home_phone.as_ref().map(|p| &p.typed))),
            ("work_phone", json!(self.work_phone.as_ref().map(|p| &p.typed))),
            ("custom_fields", json!(self.custom_fields)),
            ("deleted_at", json!(self.deleted_at)),
        ] {
            view.insert(key.to_owned(), value);
        }
        Value::Object(view)
    }
}

fn split_phone(phone: Option<&Phone>) -> (Option<String>, Option<String>) {
    phone.map_or((None, None), |p| (Some(p.typed.clone()), p.e164.clone()))
}
