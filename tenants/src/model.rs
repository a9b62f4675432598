//! Domain views of this crate's rows, as services hand them out.

use chrono::{DateTime, Utc};
use clientele_kernel::{
    ApiTokenId, AppError, AppResult, ErrorCode, Language, OrgKind, Role, SessionId, TenantId, TokenScope, UserId,
};
use serde::Serialize;

use crate::entity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Inactive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OrganisationStatus {
    Active,
    Inactive,
}

/// USR-08: an inactive, blocked or not-yet-valid organisation cannot be used (its data stays);
/// `ORGANISATION_UNAVAILABLE` says which of the three it is.
pub(crate) fn check_available(
    status: &str,
    blocked: bool,
    valid_from: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> AppResult<()> {
    let unavailable = |why: String| Err(AppError::new(ErrorCode::OrganisationUnavailable, why));
    if blocked {
        return unavailable("This organisation is blocked by its supplier.".to_owned());
    }
    if parse_stored::<OrganisationStatus>("status", status)? != OrganisationStatus::Active {
        return unavailable("This organisation is inactive.".to_owned());
    }
    match valid_from {
        Some(from) if from > today => unavailable(format!("This organisation can be used from {from}.")),
        _ => Ok(()),
    }
}

/// Parses a stored enum column; a bad value is corruption, hence internal.
pub(crate) fn parse_stored<T: std::str::FromStr>(column: &str, value: &str) -> AppResult<T> {
    value.parse().map_err(|_| AppError::internal(format!("bad stored {column}: {value}")))
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub tenant: TenantId,
    pub email: String,
    /// USR-02: an optional second sign-in name, in lower case.
    pub username: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub language: Language,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// A supplier user who may open direct-login sessions in the supplier's customers (ORG-21).
    pub can_direct_login: bool,
}

impl User {
    pub(crate) fn from_row(row: entity::user::Model) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            tenant: row.tenant_id,
            role: parse_stored("role", &row.role)?,
            status: parse_stored("status", &row.status)?,
            language: parse_stored("language", &row.language)?,
            email: row.email,
            username: row.username,
            display_name: row.display_name,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_sign_in_at: row.last_sign_in_at,
            can_direct_login: row.can_direct_login,
        })
    }

    /// The audited fields (never credentials).
    pub(crate) fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.as_str(),
            "status": self.status,
            "language": self.language.tag(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Organisation {
    pub id: TenantId,
    pub kind: OrgKind,
    pub parent: Option<TenantId>,
    pub name: String,
    pub status: OrganisationStatus,
    pub created_at: DateTime<Utc>,
    /// Whether the supplier may sign in as this organisation's super-admin (ORG-21).
    pub direct_login_allowed: bool,
}

impl Organisation {
    pub(crate) fn from_row(row: entity::organisation::Model) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            kind: parse_stored("kind", &row.kind)?,
            parent: row.parent_id,
            status: parse_stored("status", &row.status)?,
            name: row.name,
            created_at: row.created_at,
            direct_login_allowed: row.direct_login_allowed,
        })
    }
}

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub(crate) fn from_row(row: entity::api_token::Model) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            scope: parse_stored("scope", &row.scope)?,
            name: row.name,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: SessionId,
    pub user: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The address and user agent the session was opened from, as the HTTP layer saw them.
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

impl From<entity::session::Model> for Session {
    fn from(row: entity::session::Model) -> Self {
        Self {
            id: row.id,
            user: row.user_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            client_addr: row.client_addr,
            user_agent: row.user_agent,
        }
    }
}
