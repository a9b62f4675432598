//! The one integration-test binary: boots the real router on a loopback port against real
//! SQLite and real PostgreSQL, and drives it over HTTP.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // tests fail loudly by design
#![allow(clippy::format_collect)] // building test documents, not hot paths
#![allow(clippy::too_many_lines)] // a scenario reads top to bottom
#![allow(clippy::many_single_char_names)] // a, b, c are the clients of a scenario

mod common;
mod s3_server;
mod smtp_sink;

mod access;
mod addresses;
mod api_tokens;
mod audit;
mod auth;
mod bad_input;
mod cards;
mod catalogue;
mod clients;
mod console;
mod console_account;
mod console_audit;
mod console_browser;
mod console_catalogue;
mod console_direct_login;
mod console_imports;
mod console_lists;
mod console_organisations;
mod console_plugins;
mod console_record;
mod console_screenshots;
mod console_settings;
mod console_users;
mod consumers;
mod contacts;
mod cross_tenant;
mod custom_fields;
mod customers;
mod direct_login;
mod documents;
mod duplicates;
mod edge;
mod errors;
mod exports;
mod files;
mod gdpr;
mod generative;
mod graphiql;
mod graphql_http;
mod helm;
mod http;
mod ledger;
mod lookups;
mod metrics;
mod oidc;
mod plugin_limits;
mod plugin_names;
mod plugin_quotas;
mod plugins;
mod query_cost;
mod referral;
mod registration;
mod relay;
mod replicas;
mod rls;
mod role_matrix;
mod schema;
mod search;
mod search_meili;
mod selections;
mod services;
mod tenant_schema;
mod terms;
mod usernames;
mod users;
mod worker;
