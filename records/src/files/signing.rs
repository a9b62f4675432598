//! Short-lived signed download links: HMAC-SHA256 over the tenant, the file, the variant and
//! the expiry, with a server secret. A link names its tenant, and the signature binds the file
//! to it, so a link of one tenant never opens another's file.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{FileId, TenantId};

/// Links never live longer than this.
pub const MAX_TTL_SECONDS: i64 = 300;

/// Which blob of a file a link opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Thumbnail => "thumbnail",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "original" => Some(Self::Original),
            "thumbnail" => Some(Self::Thumbnail),
            _ => None,
        }
    }
}

/// Signs and checks download links.
pub struct UrlSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(***)")
    }
}

impl UrlSigner {
    /// A signer with `key` (at least 32 bytes).
    pub fn new(key: Vec<u8>) -> AppResult<Self> {
        if key.len() < 32 {
            return Err(AppError::internal("the URL signing key must be at least 32 bytes"));
        }
        Ok(Self { key })
    }

    fn mac(&self, tenant: TenantId, file: FileId, variant: Variant, expires: i64) -> Hmac<Sha256> {
        // The key length is checked in `new`; HMAC takes keys of any length anyway.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(format!("clientele-file-v1\n{tenant}\n{file}\n{}\n{expires}", variant.as_str()).as_bytes());
        mac
    }

    /// The signature of a link valid until `expires` (Unix seconds).
    pub fn sign(&self, tenant: TenantId, file: FileId, variant: Variant, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(tenant, file, variant, expires).finalize().into_bytes())
    }

    /// Checks a link at `now`: the signature (in constant time), then the expiry, which must be
    /// in the future and no further than [`MAX_TTL_SECONDS`] away.
    pub fn verify(
        &self,
        tenant: TenantId,
        file: FileId,
        variant: Variant,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let invalid = || AppError::code_only(ErrorCode::LinkInvalid);
        let raw = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        self.mac(tenant, file, variant, expires).verify_slice(&raw).map_err(|_| invalid())?;
        let left = expires - now.timestamp();
        if (0..=MAX_TTL_SECONDS).contains(&left) { Ok(()) } else { Err(invalid()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (TenantId, TenantId, FileId) {
        (TenantId(uuid::Uuid::from_u128(1)), TenantId(uuid::Uuid::from_u128(2)), FileId(uuid::Uuid::from_u128(3)))
    }

    #[test]
    fn a_link_opens_only_its_file_in_its_tenant_until_it_expires() {
        let signer = UrlSigner::new(vec![7; 32]).unwrap();
        let (a, b, f) = ids();
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let exp = now.timestamp() + 300;
        let sig = signer.sign(a, f, Variant::Original, exp);
        assert!(signer.verify(a, f, Variant::Original, exp, &sig, now).is_ok());
        assert!(signer.verify(b, f, Variant::Original, exp, &sig, now).is_err(), "other tenant");
        assert!(signer.verify(a, f, Variant::Thumbnail, exp, &sig, now).is_err(), "other variant");
        assert!(signer.verify(a, f, Variant::Original, exp + 1, &sig, now).is_err(), "expiry changed");
        let later = now + chrono::Duration::seconds(301);
        assert!(signer.verify(a, f, Variant::Original, exp, &sig, later).is_err(), "expired");
        let far = now.timestamp() + 3600;
        let long = signer.sign(a, f, Variant::Original, far);
        assert!(signer.verify(a, f, Variant::Original, far, &long, now).is_err(), "longer than 300 s");
        assert!(UrlSigner::new(vec![1; 8]).is_err());
    }
}
