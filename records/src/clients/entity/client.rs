//! Entity of `clients`: the hand-written columns, and one per field of the client table
//! (`clients::fields`), of the field's own type.

use chrono::NaiveDate;
use sea_orm::entity::prelude::*;

use crate::clients::model::{AccountKind, Civility, ClientStatus, ConsentStatus};
use clientele_kernel::ids::{CategoryId, GroupId, LookupId, StaffId};
use clientele_kernel::{ClientId, Language, Money, TenantId};

macro_rules! entity_model {
    ($($(#[$column:meta])* $name:ident : $ty:ty $(as $input:ty)? = $spec:expr),* $(,)?) => {
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "clients")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: TenantId,
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: ClientId,
            pub number: i64,
            pub code: String,
            pub kind: String,
            /// Derived: the default sort key (`mapping::sort_name`).
            pub sort_name: String,
            pub mobile: Option<String>,
            pub mobile_e164: Option<String>,
            pub home_phone: Option<String>,
            pub home_phone_e164: Option<String>,
            pub work_phone: Option<String>,
            pub work_phone_e164: Option<String>,
            /// Derived: month * 100 + day of the birth date, for birthday filters.
            pub birth_mmdd: Option<i32>,
            pub custom_fields: Option<Json>,
            pub version: i64,
            pub created_by: Option<Uuid>,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub deleted_at: Option<DateTimeUtc>,
            pub anonymised_at: Option<DateTimeUtc>,
            $($(#[$column])* pub $name: $ty,)*
        }
    };
}
crate::clients::fields::client_fields!(entity_model);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Stored enums of the table are `TEXT` columns holding their stored value.
macro_rules! string_columns {
    ($($ty:ty),*) => {$(
        impl From<$ty> for sea_orm::Value {
            fn from(value: $ty) -> Self {
                <&'static str>::from(value).into()
            }
        }
        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, idx: I) -> Result<Self, sea_orm::TryGetError> {
                let stored = String::try_get_by(res, idx)?;
                stored.parse().map_err(|err: strum::ParseError| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::TryIntoErr {
                        from: "String",
                        into: stringify!($ty),
                        source: std::sync::Arc::new(err),
                    })
                })
            }
        }
        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let stored = <String as sea_orm::sea_query::ValueType>::try_from(value)?;
                stored.parse().map_err(|_| sea_orm::sea_query::ValueTypeErr)
            }
            fn type_name() -> String {
                stringify!($ty).to_owned()
            }
            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }
            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }
        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }
    )*};
}
string_columns!(Civility, ClientStatus, AccountKind, ConsentStatus);
