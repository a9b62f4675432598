//! Password hashing with argon2id (19 MiB, 2 passes, 1 lane: the OWASP baseline).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use clientele_kernel::ports::Entropy;
use clientele_kernel::{AppError, AppResult, ErrorCode};

pub const MIN_LEN: usize = 12;
/// Bounds the work an attacker can make us do per attempt.
pub const MAX_LEN: usize = 1024;

fn hasher() -> AppResult<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the password policy; the error names `field`.
pub fn validate(field: &str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(AppError::invalid(field, format!("Use at least {MIN_LEN} characters.")));
    }
    if password.len() > MAX_LEN {
        return Err(AppError::invalid(field, format!("Use at most {MAX_LEN} bytes.")));
    }
    Ok(())
}

/// The password hashes (or checks) one HTTP request may still make: argon2 is the costliest
/// thing an anonymous caller can ask for, and aliases or a batch would otherwise multiply it.
/// Clones share the count, so every GraphQL request of a batch draws on one budget.
#[derive(Clone, Debug)]
pub struct HashBudget(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl Default for HashBudget {
    /// One password operation per request.
    fn default() -> Self {
        Self::new(1)
    }
}

impl HashBudget {
    pub fn new(hashes: u32) -> Self {
        Self(std::sync::Arc::new(std::sync::atomic::AtomicU32::new(hashes)))
    }

    /// Takes one hash from the budget, or refuses with `TOO_MANY_ATTEMPTS`.
    pub fn spend(&self) -> AppResult<()> {
        use std::sync::atomic::Ordering;
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .map(|_| ())
            .map_err(|_| AppError::new(ErrorCode::TooManyAttempts, "One password per request: send the others apart."))
    }
}

/// Bounds the argon2 work running at once, whoever asked: each takes 19 MiB and a core.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 16))
    })
}

/// How long a password operation waits for a free slot before the request is refused.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn run_bounded<T: Send + 'static>(work: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    let busy = || AppError::new(ErrorCode::TooManyAttempts, "The server is busy checking passwords; try again.");
    let _slot =
        tokio::time::timeout(SLOT_WAIT, hashing_slots().acquire()).await.map_err(|_| busy())?.map_err(|_| busy())?;
    tokio::task::spawn_blocking(work).await.map_err(AppError::internal)?
}

/// Hashes on the blocking pool: argon2 is deliberately slow.
pub async fn hash(password: String, entropy: &dyn Entropy) -> AppResult<String> {
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt);
    run_bounded(move || {
        hasher()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(e.to_string()))
    })
    .await
}

/// Verifies `password` against a stored PHC string; `None` verifies against a dummy hash so an
/// unknown account costs the same time as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    run_bounded(move || {
        let hasher = hasher()?;
        if let Some(stored) = stored {
            Ok(hasher.verify_password(password.as_bytes(), stored.as_str()).is_ok())
        } else {
            let _ = hasher.verify_password(password.as_bytes(), dummy_hash(&hasher)?);
            Ok(false)
        }
    })
    .await
}

/// A real hash with the production parameters, of a password nobody is told.
fn dummy_hash(hasher: &Argon2<'static>) -> AppResult<&'static str> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hasher
        .hash_password_with_salt(b"clientele-dummy-password", b"clientele-dummy-salt")
        .map_err(|e| AppError::internal(e.to_string()))?
        .to_string();
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_kernel::ports::SeededEntropy;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let stored = hash("correct horse battery".into(), &SeededEntropy::new(7)).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    // issue 12 #7
    #[test]
    fn a_budget_is_shared_by_its_clones_and_runs_out() {
        let budget = HashBudget::default();
        let clone = budget.clone();
        assert!(clone.spend().is_ok());
        assert_eq!(budget.spend().unwrap_err().code(), ErrorCode::TooManyAttempts);
        assert_eq!(clone.spend().unwrap_err().code(), ErrorCode::TooManyAttempts);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("password", "short").is_err());
        assert!(validate("password", "long enough pass").is_ok());
    }
}
