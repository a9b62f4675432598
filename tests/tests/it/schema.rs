//! The SDL of the reference tenant is an insta snapshot (`snapshots/it__schema__reference_tenant_sdl.snap`),
//! so every API change shows up in review, and is also committed as graphql/schema.graphql for
//! readers and client generators, which must equal it.
//!
//! After an intended change: `INSTA_UPDATE=always UPDATE_SCHEMA=1 scripts/test -E 'test(/schema::/)'`
//! (or `cargo insta review` for the snapshot), then review both diffs.

use clientele_graphql::GraphqlService;
use clientele_graphql::schema::SchemaShape;

// issue 13
#[test]
fn committed_sdl_matches_the_reference_tenant_schema() {
    let sdl = GraphqlService::sdl(&SchemaShape::reference()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../graphql/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    insta::assert_snapshot!("reference_tenant_sdl", sdl);
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "graphql/schema.graphql is stale: run UPDATE_SCHEMA=1 scripts/test -E 'test(/schema::/)' and review the diff"
    );
}
