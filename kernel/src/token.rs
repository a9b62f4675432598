//! Opaque bearer secrets (sessions, API tokens, one-time links).
//!
//! A secret is `<prefix>_<base64url(tenant uuid ‖ 32 random bytes)>`. The tenant travels in
//! the token so the lookup runs inside that tenant (RLS) on one indexed key; only a SHA-256
//! of the whole secret is stored, so a database leak yields no usable token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::ids::TenantId;
use crate::ports::Entropy;

const RANDOM_LEN: usize = 32;

/// What a secret is for; the prefix makes leaked tokens easy to recognise and scan for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    Session,
    ApiToken,
    OneTime,
    /// A supplier's self-registration link (ORG-02).
    Registration,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Session => "cls",
            Self::ApiToken => "clt",
            Self::OneTime => "clo",
            Self::Registration => "clr",
        }
    }
}

/// A freshly minted secret: show `plain` once, store `hash`.
#[derive(Debug)]
pub struct MintedSecret {
    pub plain: String,
    pub hash: Vec<u8>,
}

pub fn mint(kind: SecretKind, tenant: TenantId, entropy: &dyn Entropy) -> MintedSecret {
    let mut raw = [0u8; 16 + RANDOM_LEN];
    raw[..16].copy_from_slice(tenant.0.as_bytes());
    entropy.fill(&mut raw[16..]);
    let plain = format!("{}_{}", kind.prefix(), URL_SAFE_NO_PAD.encode(raw));
    let hash = hash(&plain);
    MintedSecret { plain, hash }
}

/// Splits a presented secret into its tenant and stored hash; `None` if it is malformed.
pub fn parse(kind: SecretKind, presented: &str) -> Option<(TenantId, Vec<u8>)> {
    let body = presented.strip_prefix(kind.prefix())?.strip_prefix('_')?;
    let raw = URL_SAFE_NO_PAD.decode(body).ok()?;
    if raw.len() != 16 + RANDOM_LEN {
        return None;
    }
    let tenant = uuid::Uuid::from_slice(&raw[..16]).ok()?;
    Some((TenantId(tenant), hash(presented)))
}

/// Which kind a presented bearer token is, from its prefix.
pub fn kind_of(presented: &str) -> Option<SecretKind> {
    [SecretKind::Session, SecretKind::ApiToken, SecretKind::OneTime, SecretKind::Registration]
        .into_iter()
        .find(|k| presented.starts_with(k.prefix()) && presented[k.prefix().len()..].starts_with('_'))
}

pub fn hash(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SeededEntropy;

    #[test]
    fn minted_secret_round_trips_to_its_tenant_and_hash() {
        let tenant = TenantId(uuid::Uuid::from_u128(42));
        let minted = mint(SecretKind::Session, tenant, &SeededEntropy::new(1));
        assert!(minted.plain.starts_with("cls_"));
        assert_eq!(parse(SecretKind::Session, &minted.plain), Some((tenant, minted.hash.clone())));
        assert_eq!(kind_of(&minted.plain), Some(SecretKind::Session));
        assert_eq!(parse(SecretKind::ApiToken, &minted.plain), None);
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        for bad in ["", "cls_", "cls_!!!", "cls_AAAA", "nope_AAAA", "clsAAAA"] {
            assert_eq!(parse(SecretKind::Session, bad), None, "{bad}");
        }
    }
}
