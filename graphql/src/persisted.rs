//! Automatic persisted queries, Apollo's protocol: a request may carry
//! `extensions.persistedQuery = { version: 1, sha256Hash }` instead of its document. An unknown
//! hash answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends the document again with its
//! hash, which is checked and remembered. Documents are kept per schema (the fingerprint of the
//! tenant's configuration), in one LRU bounded by count and bytes; only documents that passed
//! the limits are kept, and every use is checked again like any other document.

use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

/// Most documents kept, over all schemas.
const ENTRIES: NonZeroUsize = NonZeroUsize::new(4_096).expect("non-zero");
/// Most bytes of documents kept, over all schemas.
const BYTES: usize = 16 << 20;
/// Larger documents run but are not kept.
const MAX_DOCUMENT: usize = 64 << 10;

/// What a request's `persistedQuery` extension asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// No persisted query: the document is the request's.
    None,
    /// Run the document kept under this hash.
    Lookup([u8; 32]),
    /// Run the request's document and keep it under this (checked) hash.
    Store([u8; 32]),
}

/// Why a `persistedQuery` extension cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not `{ version: 1, sha256Hash: <64 hex digits> }`.
    Malformed,
    /// The document sent does not have the hash sent with it.
    HashMismatch,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed => "extensions.persistedQuery must be { version: 1, sha256Hash: <64 hex digits> }.",
            Self::HashMismatch => "The persisted query's sha256Hash is not the SHA-256 of its query.",
        }
    }
}

/// Reads the request's `persistedQuery` extension.
pub(crate) fn ask(request: &async_graphql::Request) -> Result<Ask, Refusal> {
    use async_graphql::Value;
    let Some(extension) = request.extensions.get("persistedQuery") else { return Ok(Ask::None) };
    let Value::Object(fields) = extension else { return Err(Refusal::Malformed) };
    let version_one = matches!(fields.get("version"), Some(Value::Number(n)) if n.as_u64() == Some(1));
    let hash = match fields.get("sha256Hash") {
        Some(Value::String(hex)) if version_one => parse_hex(hex).ok_or(Refusal::Malformed)?,
        _ => return Err(Refusal::Malformed),
    };
    if request.query.is_empty() {
        return Ok(Ask::Lookup(hash));
    }
    let digest: [u8; 32] = Sha256::digest(request.query.as_bytes()).into();
    if digest != hash {
        return Err(Refusal::HashMismatch);
    }
    Ok(Ask::Store(hash))
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| char::from(b).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

/// The kept documents, keyed by schema fingerprint and hash.
pub(crate) struct PersistedQueries {
    inner: Mutex<Kept>,
}

struct Kept {
    documents: LruCache<(u64, [u8; 32]), Arc<str>>,
    bytes: usize,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self { inner: Mutex::new(Kept { documents: LruCache::new(ENTRIES), bytes: 0 }) }
    }
}

impl PersistedQueries {
    pub fn get(&self, schema: u64, hash: &[u8; 32]) -> Option<Arc<str>> {
        self.inner.lock().documents.get(&(schema, *hash)).cloned()
    }

    pub fn put(&self, schema: u64, hash: [u8; 32], document: &str) {
        if document.len() > MAX_DOCUMENT {
            return;
        }
        let mut kept = self.inner.lock();
        let kept = &mut *kept;
        if let Some((_, old)) = kept.documents.push((schema, hash), Arc::from(document)) {
            kept.bytes -= old.len();
        }
        kept.bytes += document.len();
        while kept.bytes > BYTES {
            match kept.documents.pop_lru() {
                Some((_, old)) => kept.bytes -= old.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, extension: serde_json::Value) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        let value = async_graphql::Value::from_json(extension).expect("json");
        request.extensions.insert("persistedQuery".to_owned(), value);
        request
    }

    fn hex(query: &str) -> String {
        Sha256::digest(query.as_bytes()).iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    // issue 14
    #[test]
    fn the_apollo_protocol_is_read_and_checked() {
        let q = "{ viewer { role } }";
        let hash: [u8; 32] = Sha256::digest(q.as_bytes()).into();
        assert_eq!(ask(&async_graphql::Request::new(q)), Ok(Ask::None));
        let pq = serde_json::json!({ "version": 1, "sha256Hash": hex(q) });
        assert_eq!(ask(&request("", pq.clone())), Ok(Ask::Lookup(hash)));
        assert_eq!(ask(&request(q, pq)), Ok(Ask::Store(hash)));
        let upper = serde_json::json!({ "version": 1, "sha256Hash": hex(q).to_uppercase() });
        assert_eq!(ask(&request(q, upper)), Ok(Ask::Store(hash)), "hex digits in either case");
        let other = serde_json::json!({ "version": 1, "sha256Hash": hex("{ x }") });
        assert_eq!(ask(&request(q, other)), Err(Refusal::HashMismatch));
        for bad in [
            serde_json::json!({ "version": 2, "sha256Hash": hex(q) }),
            serde_json::json!({ "version": 1, "sha256Hash": "abc" }),
            serde_json::json!({ "version": 1 }),
            serde_json::json!("x"),
        ] {
            assert_eq!(ask(&request(q, bad)), Err(Refusal::Malformed));
        }
    }

    // issue 14
    #[test]
    fn documents_are_kept_per_schema_within_bounds() {
        let kept = PersistedQueries::default();
        let hash = [7u8; 32];
        kept.put(1, hash, "{ a }");
        assert_eq!(kept.get(1, &hash).as_deref(), Some("{ a }"));
        assert_eq!(kept.get(2, &hash), None, "another schema does not see it");
        kept.put(1, [8u8; 32], &"x".repeat(MAX_DOCUMENT + 1));
        assert_eq!(kept.get(1, &[8u8; 32]), None, "too large to keep");
        let big = "y".repeat(MAX_DOCUMENT);
        for i in 0..=(BYTES / MAX_DOCUMENT) {
            kept.put(3, [u8::try_from(i % 256).unwrap_or(0); 32], &big);
        }
        assert!(kept.inner.lock().bytes <= BYTES);
    }
}
