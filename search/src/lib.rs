//! Adapters of the [`SearchIndex`](clientele_core::search::SearchIndex) port: tantivy embedded
//! in the process (the default, an index under the data directory) and Meilisearch (at scale).
//! Both put the tenant filter inside every query they send.

mod meili;
mod tantivy_index;

pub use meili::MeiliIndex;
pub use tantivy_index::TantivyIndex;

use clientele_core::AppError;

fn failed(what: &str, err: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("search index: {what}: {err}"))
}
