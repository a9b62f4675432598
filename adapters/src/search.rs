//! Adapters of the [`SearchIndex`](clientele_records::search::SearchIndex) port.

mod meili;
mod tantivy_index;

pub use meili::MeiliIndex;
pub use tantivy_index::TantivyIndex;

use clientele_kernel::AppError;

fn failed(what: &str, err: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("search index: {what}: {err}"))
}
