//! Typed ids: every id is a newtype over a UUID v7, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use crate::error::{AppError, ErrorCode};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
                 serde::Serialize, serde::Deserialize, sea_orm::DeriveValueType)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub const fn uuid(self) -> uuid::Uuid { self.0 }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }

        impl FromStr for $name {
            type Err = AppError;
            fn from_str(s: &str) -> Result<Self, AppError> {
                uuid::Uuid::parse_str(s).map(Self).map_err(|_| {
                    AppError::new(ErrorCode::InvalidId, format!("`{s}` is not a valid id"))
                })
            }
        }

        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self { Self(id) }
        }
    )*};
}

id_type!(
    /// An organisation; every organisation is a tenant.
    TenantId,
    UserId,
    SessionId,
    ApiTokenId,
    AuditId,
    OneTimeTokenId,
    ClientId,
    CategoryId,
    GroupId,
    AddressId,
    ContactId,
    LedgerEntryId,
    CustomFieldId,
    /// An entry of a tenant list (tariff, payment terms…, BIL-15).
    LookupId,
    /// A saved selection of clients (SRC-14).
    SelectionId,
    /// A member of the staff directory (OTH-04).
    StaffId,
    /// A person attached to a client who may hold cards (CRD-01).
    BeneficiaryId,
    /// A card held by a client or one of its beneficiaries (CRD-05).
    CardId,
    /// A document reference of a client: quote, order, invoice… (OTH-01).
    ClientDocumentId,
    ImportJobId,
    /// A stored file: a client photo or attachment, or a file of an organisation (FIL-*).
    FileId,
    /// A blob waiting to be deleted from the store.
    TombstoneId,
    PluginId,
    PluginVersionId,
    PluginInstallId,
    PluginRecordId,
);
