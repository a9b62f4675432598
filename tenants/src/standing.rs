//! The auth layer's [`Standing`]: every write of a caller's context first re-reads, inside its
//! transaction, the credential and the user it was built from.

use chrono::{DateTime, Utc};
use clientele_kernel::tenancy::{Principal, Standing};
use clientele_kernel::{Actor, AppError, AppResult, ErrorCode, Role, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::model::parse_stored;

/// On PostgreSQL the rows are share-locked: a concurrent demotion, deactivation or revocation
/// waits for this transaction, and this transaction never acts on one that committed first.
const SESSION: &str = "SELECT u.role, u.status, s.revoked_at, s.expires_at FROM sessions s \
     JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id WHERE s.tenant_id = $1 AND s.id = $2";
const API_TOKEN: &str = "SELECT revoked_at, expires_at FROM api_tokens WHERE tenant_id = $1 AND id = $2";

pub(crate) struct CredentialStanding {
    pub(crate) clock: std::sync::Arc<dyn clientele_kernel::ports::Clock>,
}

#[async_trait::async_trait]
impl Standing for CredentialStanding {
    async fn confirm(&self, tx: &TenantTx, actor: &Actor) -> AppResult<()> {
        let backend = tx.get_database_backend();
        let lock = if backend == DbBackend::Postgres { " FOR SHARE" } else { "" };
        let gone = || AppError::code_only(ErrorCode::Unauthenticated);
        let now = self.clock.now();
        let (sql, id) = match actor.principal {
            Principal::User { session, .. } => (SESSION, session.0),
            Principal::ApiToken(token) => (API_TOKEN, token.0),
            Principal::System => return Ok(()),
        };
        let statement =
            Statement::from_sql_and_values(backend, format!("{sql}{lock}"), [tx.tenant().0.into(), id.into()]);
        let row = tx.query_one_raw(statement).await?.ok_or_else(gone)?;
        let revoked_at: Option<DateTime<Utc>> = row.try_get("", "revoked_at")?;
        let expires_at: Option<DateTime<Utc>> = row.try_get("", "expires_at")?;
        if revoked_at.is_some() || expires_at.is_some_and(|at| at <= now) {
            return Err(gone());
        }
        if let Principal::User { .. } = actor.principal {
            let status: String = row.try_get("", "status")?;
            let role: Role = parse_stored("role", &row.try_get::<String>("", "role")?)?;
            if status != "active" {
                return Err(gone());
            }
            // Demoted (or promoted) since the request started: it acts on neither role.
            if role != actor.role {
                return Err(AppError::forbidden());
            }
        }
        Ok(())
    }
}
