//! The committed SDL of the reference tenant must match what the server builds, so every API
//! change shows up in review. Regenerate with `UPDATE_SCHEMA=1 scripts/test schema`.

use clientele_graphql::GraphqlService;
use clientele_graphql::schema::TenantConfig;

#[test]
fn committed_sdl_matches_the_reference_tenant_schema() {
    let sdl = GraphqlService::sdl(&TenantConfig::reference()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../graphql/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "graphql/schema.graphql is stale: run UPDATE_SCHEMA=1 scripts/test schema and review the diff"
    );
}
