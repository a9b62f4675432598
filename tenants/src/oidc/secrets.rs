//! OIDC client secrets at rest: XChaCha20-Poly1305 (`RustCrypto`'s `chacha20poly1305`) under a key
//! from config (`oidc.secret_key`), with a random 192-bit nonce per write and the tenant and
//! provider ids as associated data, so a ciphertext copied into another row does not open.
//!
//! Stored form, in the `client_secret` column: `enc:v1:<key id>:<base64(nonce ‖ ciphertext)>`.
//! The key id is the first 8 bytes (hex) of SHA-256 over the key: it names the key without
//! revealing it, and lets old keys (`oidc.old_secret_keys`) keep opening old rows during a
//! rotation. A value without the `enc:` prefix is a plaintext secret from before encryption:
//! it is read as is and re-encrypted with the current key the first time it is used.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use clientele_kernel::ports::Entropy;
use clientele_kernel::{AppError, AppResult};
use sha2::{Digest, Sha256};

const PREFIX: &str = "enc:v1:";

#[derive(Clone)]
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(raw: &[u8; 32]) -> Self {
        let digest = Sha256::digest(raw);
        let id = digest[..8].iter().fold(String::with_capacity(16), |mut id, b| {
            use std::fmt::Write as _;
            let _ = write!(id, "{b:02x}");
            id
        });
        Self { id, cipher: XChaCha20Poly1305::new(raw.into()) }
    }
}

/// The keys of OIDC client secrets: the current one (writes and reads) and retired ones (reads).
#[derive(Clone, Default)]
pub struct SecretKeys {
    current: Option<Key>,
    old: Vec<Key>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("current", &self.current.as_ref().map(|k| &k.id))
            .field("old", &self.old.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

/// A key as configured: base64 (standard or URL-safe, padding optional) of exactly 32 bytes.
pub fn parse_key(setting: &str, encoded: &str) -> AppResult<[u8; 32]> {
    let encoded = encoded.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
        .map_err(|_| AppError::internal(format!("{setting} is not base64")))?;
    decoded
        .try_into()
        .map_err(|_| AppError::internal(format!("{setting} must be 32 bytes (base64 of 32 random bytes)")))
}

/// What [`SecretKeys::open`] found.
#[derive(Debug)]
pub struct Opened {
    pub secret: String,
    /// Stored in plaintext or under a retired key: write it again with the current key.
    pub stale: bool,
}

impl SecretKeys {
    /// `current` encrypts and decrypts; `old` (separated by commas or white space) only decrypt.
    pub fn new(current: [u8; 32], old: &[[u8; 32]]) -> Self {
        Self { current: Some(Key::new(&current)), old: old.iter().map(Key::new).collect() }
    }

    /// The id of the key new writes use.
    pub fn current_id(&self) -> Option<&str> {
        self.current.as_ref().map(|k| k.id.as_str())
    }

    /// Encrypts `secret` for the row `aad` names.
    pub fn seal(&self, secret: &str, aad: &str, entropy: &dyn Entropy) -> AppResult<String> {
        let key = self.current.as_ref().ok_or_else(|| {
            AppError::internal("oidc.secret_key is not configured: OIDC client secrets cannot be stored")
        })?;
        let mut nonce = [0u8; 24];
        entropy.fill(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: secret.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| AppError::internal("encrypting the OIDC client secret failed"))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}:{}", key.id, STANDARD.encode(blob)))
    }

    /// Decrypts a stored value of the row `aad` names (a plaintext one passes through, stale).
    pub fn open(&self, stored: &str, aad: &str) -> AppResult<Opened> {
        let Some(rest) = stored.strip_prefix("enc:") else {
            return Ok(Opened { secret: stored.to_owned(), stale: true });
        };
        let rest = rest.strip_prefix("v1:").ok_or_else(|| AppError::internal("unknown OIDC secret format"))?;
        let (id, encoded) = rest.split_once(':').ok_or_else(|| AppError::internal("malformed OIDC secret"))?;
        let key = self.current.iter().chain(&self.old).find(|k| k.id == id).ok_or_else(|| {
            AppError::internal(format!(
                "the OIDC secret is under key {id}, which is not configured (oidc.secret_key, oidc.old_secret_keys)"
            ))
        })?;
        let blob = STANDARD.decode(encoded).map_err(|_| AppError::internal("malformed OIDC secret"))?;
        if blob.len() < 24 {
            return Err(AppError::internal("malformed OIDC secret"));
        }
        let (nonce, sealed) = blob.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| AppError::internal("malformed OIDC secret"))?;
        let plain = key
            .cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| AppError::internal("the OIDC secret does not open under its key (tampered or moved)"))?;
        let secret = String::from_utf8(plain).map_err(AppError::internal)?;
        let stale = self.current_id() != Some(id);
        Ok(Opened { secret, stale })
    }
}

#[cfg(test)]
mod tests {
    use clientele_kernel::ports::SeededEntropy;

    use super::*;

    #[test]
    fn secrets_round_trip_rotate_and_stay_in_their_row() {
        let entropy = SeededEntropy::new(7);
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let first = SecretKeys::new(k1, &[]);
        let stored = first.seal("s3cret", "row-a", &entropy).unwrap();
        assert!(stored.starts_with("enc:v1:") && !stored.contains("s3cret"), "{stored}");
        let opened = first.open(&stored, "row-a").unwrap();
        assert_eq!((opened.secret.as_str(), opened.stale), ("s3cret", false));
        // Another row's associated data does not open it; nor does a flipped byte.
        assert!(first.open(&stored, "row-b").is_err());
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(first.open(std::str::from_utf8(&tampered).unwrap(), "row-a").is_err());
        // Rotation: the new key reads old rows (stale: to be rewritten), writes under itself.
        let rotated = SecretKeys::new(k2, &[k1]);
        let opened = rotated.open(&stored, "row-a").unwrap();
        assert_eq!((opened.secret.as_str(), opened.stale), ("s3cret", true));
        let again = rotated.seal("s3cret", "row-a", &entropy).unwrap();
        assert!(again.contains(rotated.current_id().unwrap()));
        // Without the old key, old rows do not open.
        assert!(SecretKeys::new(k2, &[]).open(&stored, "row-a").is_err());
        // Plaintext from before encryption passes through, stale.
        let legacy = rotated.open("plain-secret", "row-a").unwrap();
        assert_eq!((legacy.secret.as_str(), legacy.stale), ("plain-secret", true));
        // No key, no writes.
        assert!(SecretKeys::default().seal("x", "row-a", &entropy).is_err());
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(parse_key("k", &STANDARD.encode([9u8; 32])).is_ok());
        assert!(parse_key("k", &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 32])).is_ok());
        assert!(parse_key("k", &STANDARD.encode([9u8; 16])).is_err());
        assert!(parse_key("k", "not base64!").is_err());
    }
}
