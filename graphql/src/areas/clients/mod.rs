//! The client record: its type, input and filter, consents, merge, GDPR, search, files, imports,
//! documents.

pub mod client;
pub mod consents;
pub mod documents;
pub mod files;
pub mod gdpr;
pub mod imports;
pub mod merge;
pub mod search;
pub mod selections;
