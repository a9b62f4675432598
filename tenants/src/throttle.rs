//! Throttling of sign-ins, password-reset requests and set-password links, per key, kept in
//! the database so every replica sees the same counts. Keys are hashes: the table holds no
//! e-mail or address.
//!
//! An attempt is counted before its password is checked, in one short transaction that holds
//! the key's row (`FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`), so concurrent attempts queue on
//! the count: of 40 concurrent guesses against a limit of 5, exactly 5 are checked. Reaching the
//! limit locks the key for `lock_for`, doubling with each further attempt let through after a
//! lock (exponential back-off, capped at `max_lock`); a key is forgotten after `window` of quiet
//! following its last lock.
//!
//! Sign-in counts per (account, client address) pair and per address: a stranger elsewhere
//! locks only their own pair, never the account. A per-account ceiling, much higher, only slows
//! attempts down (see [`ACCOUNT_CEILING`]).

use chrono::{DateTime, Duration, Utc};
use clientele_kernel::AppResult;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QuerySelect, TransactionOptions,
    TransactionTrait,
};

use crate::entity::sign_in_throttle;

/// How many attempts a key may make before it is locked, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub attempts: i32,
    /// Quiet time after which a key starts afresh.
    pub window: Duration,
    /// The first lock; each further one doubles it.
    pub lock_for: Duration,
    pub max_lock: Duration,
}

/// One account seen from one client address (sign-in), or one e-mail (reset requests).
pub const ACCOUNT: Limit =
    Limit { attempts: 5, window: Duration::minutes(15), lock_for: Duration::minutes(1), max_lock: Duration::hours(1) };
/// One client address, whatever account it tries.
pub const ADDRESS: Limit =
    Limit { attempts: 50, window: Duration::minutes(15), lock_for: Duration::minutes(1), max_lock: Duration::hours(1) };
/// One account from everywhere: past this many failures, each attempt waits [`CEILING_DELAY`]
/// before its check instead of being refused, so nobody can lock the real user out.
pub const ACCOUNT_CEILING: Limit = Limit {
    attempts: 100,
    window: Duration::minutes(15),
    lock_for: Duration::minutes(1),
    max_lock: Duration::hours(1),
};
pub const CEILING_DELAY: std::time::Duration = std::time::Duration::from_secs(2);
/// Redeeming one-time links from one client address: counts the links that did not work.
pub const LINK_ADDRESS: Limit =
    Limit { attempts: 20, window: Duration::minutes(15), lock_for: Duration::minutes(1), max_lock: Duration::hours(1) };

/// What the throttle says about one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; go ahead.
    Allowed,
    /// The key is locked: refuse without checking anything.
    Locked,
}

/// The key of one account as seen from one client address (sign-in).
pub fn pair_key(email: &str, addr: Option<&str>) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("pair:{email}\n{}", addr.unwrap_or_default()))
}

/// The key of one account from every address (the ceiling).
pub fn account_key(email: &str) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("account:{email}"))
}

pub fn address_key(addr: &str) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("address:{addr}"))
}

/// Password-reset requests are counted apart from sign-in failures.
pub fn reset_key(email: &str) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("reset:{email}"))
}

pub fn reset_address_key(addr: &str) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("reset-address:{addr}"))
}

/// One-time link redemptions from one address.
pub fn link_address_key(addr: &str) -> Vec<u8> {
    clientele_kernel::token::hash(&format!("link-address:{addr}"))
}

/// The state of a key after one more attempt at `now`; `None` when the key is locked (the
/// attempt is refused and not counted, so refused attempts do not extend the lock).
fn next(
    row: Option<&sign_in_throttle::Model>,
    limit: Limit,
    now: DateTime<Utc>,
) -> Option<(i32, DateTime<Utc>, Option<DateTime<Utc>>)> {
    if row.and_then(|r| r.locked_until).is_some_and(|until| until > now) {
        return None;
    }
    // `window_started_at` holds the time the quiet window runs from: the last attempt, or the
    // end of the lock it set.
    let attempts = match row {
        Some(r) if now - r.window_started_at <= limit.window => r.attempts_plus_one(),
        _ => 1,
    };
    let locked_until = (attempts >= limit.attempts).then(|| now + lock_duration(limit, attempts - limit.attempts));
    Some((attempts, locked_until.unwrap_or(now).max(now), locked_until))
}

/// `lock_for × 2^over`, capped.
fn lock_duration(limit: Limit, over: i32) -> Duration {
    let factor = 1i32.checked_shl(u32::try_from(over.clamp(0, 20)).unwrap_or(20)).unwrap_or(i32::MAX);
    limit.lock_for.checked_mul(factor).map_or(limit.max_lock, |d| d.min(limit.max_lock))
}

impl sign_in_throttle::Model {
    fn attempts_plus_one(&self) -> i32 {
        self.failures.saturating_add(1)
    }
}

/// Counts one attempt against `key`, atomically, before anything is checked.
pub async fn attempt(db: &DatabaseConnection, key: &[u8], limit: Limit, now: DateTime<Utc>) -> AppResult<Verdict> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let tx = db.begin_with_options(options).await?;
    let row = sign_in_throttle::Entity::find_by_id(key.to_vec()).lock_exclusive().one(&tx).await?;
    let Some((attempts, quiet_from, locked_until)) = next(row.as_ref(), limit, now) else {
        tx.commit().await?;
        return Ok(Verdict::Locked);
    };
    let model = sign_in_throttle::ActiveModel {
        key: Set(key.to_vec()),
        failures: Set(attempts),
        window_started_at: Set(quiet_from),
        locked_until: Set(locked_until),
    };
    if row.is_some() {
        model.update(&tx).await?;
    } else {
        // Two first attempts may race to insert: the loser counts again on the winner's row.
        if let Err(err) = sign_in_throttle::Entity::insert(model).exec(&tx).await {
            tx.rollback().await?;
            if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
                return Box::pin(attempt(db, key, limit, now)).await;
            }
            return Err(err.into());
        }
    }
    tx.commit().await?;
    Ok(Verdict::Allowed)
}

/// A successful attempt: the key starts afresh.
pub async fn clear(db: &DatabaseConnection, key: Vec<u8>) -> AppResult<()> {
    sign_in_throttle::Entity::delete_by_id(key).exec(db).await?;
    Ok(())
}

/// Takes back one counted attempt that turned out to succeed (an address's count is of failures).
pub async fn forgive(db: &DatabaseConnection, key: &[u8]) -> AppResult<()> {
    use sea_orm::{
        ColumnTrait, QueryFilter,
        sea_query::{Expr, ExprTrait},
    };
    sign_in_throttle::Entity::update_many()
        .col_expr(sign_in_throttle::Column::Failures, Expr::col(sign_in_throttle::Column::Failures).sub(1))
        .filter(sign_in_throttle::Column::Key.eq(key.to_vec()))
        .filter(sign_in_throttle::Column::Failures.gt(0))
        .filter(sign_in_throttle::Column::LockedUntil.is_null())
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(failures: i32, quiet_from: DateTime<Utc>, locked_until: Option<DateTime<Utc>>) -> sign_in_throttle::Model {
        sign_in_throttle::Model { key: vec![1], failures, window_started_at: quiet_from, locked_until }
    }

    // issue 12 #10
    #[test]
    fn the_attempt_reaching_the_limit_locks_and_locks_double() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(1);
        let mut state: Option<sign_in_throttle::Model> = None;
        for expected in 1..=5 {
            let (n, quiet, lock) = next(state.as_ref(), ACCOUNT, now).unwrap();
            assert_eq!(n, expected);
            state = Some(row(n, quiet, lock));
        }
        assert_eq!(state.as_ref().unwrap().locked_until, Some(now + Duration::minutes(1)));
        assert!(next(state.as_ref(), ACCOUNT, now + Duration::seconds(59)).is_none(), "locked, not counted");
        let later = now + Duration::minutes(1);
        let (n, quiet, lock) = next(state.as_ref(), ACCOUNT, later).unwrap();
        assert_eq!((n, lock), (6, Some(later + Duration::minutes(2))), "one more try, then twice as long");
        let state = row(n, quiet, lock);
        // Fifteen quiet minutes after the lock ends, the key starts afresh.
        let fresh = later + Duration::minutes(2) + Duration::minutes(16);
        assert_eq!(next(Some(&state), ACCOUNT, fresh).map(|s| s.0), Some(1));
        assert_eq!(lock_duration(ACCOUNT, 30), Duration::hours(1), "capped");
    }
}
