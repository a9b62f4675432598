//! Throttling of failed sign-ins and of password-reset requests, per account and per client
//! address, kept in the database so every replica sees the same counts. Keys are hashes: the
//! table holds no e-mail or address.

use chrono::{DateTime, Duration, Utc};
use clientele_core::AppResult;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};

use crate::entity::sign_in_throttle;

/// How many failures a key may collect in one window before it is locked.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub failures: i32,
    pub window: Duration,
    pub lock_for: Duration,
}

pub const ACCOUNT: Limit = Limit { failures: 5, window: Duration::minutes(15), lock_for: Duration::minutes(15) };
pub const ADDRESS: Limit = Limit { failures: 50, window: Duration::minutes(15), lock_for: Duration::minutes(15) };

pub fn account_key(email: &str) -> Vec<u8> {
    clientele_core::token::hash(&format!("account:{email}"))
}

pub fn address_key(addr: &str) -> Vec<u8> {
    clientele_core::token::hash(&format!("address:{addr}"))
}

pub async fn is_locked(db: &DatabaseConnection, key: &[u8], now: DateTime<Utc>) -> AppResult<bool> {
    let row = sign_in_throttle::Entity::find_by_id(key.to_vec()).one(db).await?;
    Ok(row.and_then(|r| r.locked_until).is_some_and(|until| until > now))
}

/// Counts one failure in a single atomic upsert (no lost updates between replicas).
pub async fn record_failure(db: &DatabaseConnection, key: Vec<u8>, limit: Limit, now: DateTime<Utc>) -> AppResult<()> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO sign_in_throttle (key, failures, window_started_at, locked_until)
               VALUES ($1, 1, $2, NULL)
               ON CONFLICT (key) DO UPDATE SET
                 failures = CASE WHEN sign_in_throttle.window_started_at < $3 THEN 1
                                 ELSE sign_in_throttle.failures + 1 END,
                 window_started_at = CASE WHEN sign_in_throttle.window_started_at < $3 THEN $2
                                          ELSE sign_in_throttle.window_started_at END,
                 locked_until = CASE WHEN sign_in_throttle.window_started_at >= $3
                                          AND sign_in_throttle.failures + 1 >= $4 THEN $5
                                     ELSE sign_in_throttle.locked_until END";
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [key.into(), now.into(), (now - limit.window).into(), limit.failures.into(), (now + limit.lock_for).into()],
    ))
    .await?;
    Ok(())
}

pub async fn clear(db: &DatabaseConnection, key: Vec<u8>) -> AppResult<()> {
    sign_in_throttle::Entity::delete_by_id(key).exec(db).await?;
    Ok(())
}

/// Password-reset requests are counted apart from sign-in failures.
pub fn reset_key(email: &str) -> Vec<u8> {
    clientele_core::token::hash(&format!("reset:{email}"))
}

pub fn reset_address_key(addr: &str) -> Vec<u8> {
    clientele_core::token::hash(&format!("reset-address:{addr}"))
}
