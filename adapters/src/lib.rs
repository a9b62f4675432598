//! Adapters of the domain's ports: search (tantivy embedded, Meilisearch at scale; both put
//! the tenant filter inside every query they send), blobs (opendal: filesystem or S3) and mail
//! (lettre: `.eml` files or SMTP).

pub mod blobs;
pub mod mail;
pub mod search;

pub use blobs::{OpendalBlobStore, S3Config};
pub use search::{MeiliIndex, TantivyIndex};
