//! Password hashing with argon2id (19 MiB, 2 passes, 1 lane: the OWASP baseline).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use clientele_core::ports::Entropy;
use clientele_core::{AppError, AppResult};

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

/// Hashes on the blocking pool: argon2 is deliberately slow.
pub async fn hash(password: String, entropy: &dyn Entropy) -> AppResult<String> {
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt);
    tokio::task::spawn_blocking(move || {
        hasher()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(e.to_string()))
    })
    .await
    .map_err(AppError::internal)?
}

/// Verifies `password` against a stored PHC string; `None` verifies against a dummy hash so an
/// unknown account costs the same time as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let hasher = hasher()?;
        if let Some(stored) = stored {
            Ok(hasher.verify_password(password.as_bytes(), stored.as_str()).is_ok())
        } else {
            let _ = hasher.verify_password(password.as_bytes(), dummy_hash(&hasher)?);
            Ok(false)
        }
    })
    .await
    .map_err(AppError::internal)?
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
    use clientele_core::ports::SeededEntropy;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let stored = hash("correct horse battery".into(), &SeededEntropy::new(7)).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("password", "short").is_err());
        assert!(validate("password", "long enough pass").is_ok());
    }
}
