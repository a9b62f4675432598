//! The one integration-test binary: boots the real router on a loopback port against real
//! SQLite and real PostgreSQL, and drives it over HTTP.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // tests fail loudly by design
#![allow(clippy::format_collect)] // building test documents, not hot paths

mod common;

mod api_tokens;
mod auth;
mod bad_input;
mod clients;
mod cross_tenant;
mod exports;
mod http;
mod rls;
mod schema;
mod users;
