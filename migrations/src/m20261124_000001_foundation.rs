//! Organisations, users, credentials, sessions, API tokens, one-time links, audit log,
//! sign-in throttle. Every tenant table leads its keys with `tenant_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, binary, integer, json, string, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::{APP_ROLE, pg};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, cols: &[&'static str], to: &'static str, to_cols: &[&'static str]) -> ForeignKeyCreateStatement {
    let mut fk = ForeignKey::create();
    fk.from_tbl(from).to_tbl(to).on_delete(ForeignKeyAction::Cascade);
    for c in cols {
        fk.from_col(*c);
    }
    for c in to_cols {
        fk.to_col(*c);
    }
    fk
}

fn pk(cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    for c in cols {
        index.col(*c);
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)] // one table after the other reads best in one place
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organisations")
                    .col(uuid("id").primary_key())
                    .col(string("kind"))
                    .col(uuid_null("parent_id"))
                    .col(string("name"))
                    .col(string("status"))
                    .col(big_integer("config_version").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(fk("organisations", &["parent_id"], "organisations", &["id"]).on_delete(ForeignKeyAction::Restrict))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("organisations_parent").table("organisations").col("parent_id").to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(string("email"))
                    .col(string("display_name"))
                    .col(string("role"))
                    .col(string("status"))
                    .col(string("language"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("last_sign_in_at"))
                    .primary_key(&mut pk(&["tenant_id", "id"]))
                    .foreign_key(&mut fk("users", &["tenant_id"], "organisations", &["id"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("users_tenant_email").table("users").col("tenant_id").col("email").unique().to_owned(),
            )
            .await?;
        // Sign-in finds the organisations an e-mail belongs to before any tenant is known.
        manager.create_index(Index::create().name("users_email").table("users").col("email").to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table("credentials")
                    .col(uuid("tenant_id"))
                    .col(uuid("user_id"))
                    .col(string("password_hash"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(&mut pk(&["tenant_id", "user_id"]))
                    .foreign_key(&mut fk("credentials", &["tenant_id", "user_id"], "users", &["tenant_id", "id"]))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(uuid("user_id"))
                    .col(binary("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(string_null("client_addr"))
                    .col(string_null("user_agent"))
                    .primary_key(&mut pk(&["tenant_id", "id"]))
                    .foreign_key(&mut fk("sessions", &["tenant_id", "user_id"], "users", &["tenant_id", "id"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("sessions_token").table("sessions").col("tenant_id").col("token_hash").unique().to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("sessions_user").table("sessions").col("tenant_id").col("user_id").to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(string("name"))
                    .col(string("scope"))
                    .col(binary("token_hash"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .primary_key(&mut pk(&["tenant_id", "id"]))
                    .foreign_key(&mut fk("api_tokens", &["tenant_id"], "organisations", &["id"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("api_tokens_token").table("api_tokens").col("tenant_id").col("token_hash").unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("one_time_tokens")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("purpose"))
                    .col(binary("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .primary_key(&mut pk(&["tenant_id", "id"]))
                    .foreign_key(&mut fk("one_time_tokens", &["tenant_id", "user_id"], "users", &["tenant_id", "id"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("one_time_tokens_token")
                    .table("one_time_tokens")
                    .col("tenant_id")
                    .col("token_hash")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(uuid_null("actor_user_id"))
                    .col(uuid_null("actor_api_token_id"))
                    .col(uuid_null("on_behalf_of_tenant_id"))
                    .col(uuid_null("on_behalf_of_user_id"))
                    .col(string("action"))
                    .col(string("entity_type"))
                    .col(string("entity_id"))
                    .col(json("changes"))
                    .col(string_null("request_id"))
                    .primary_key(&mut pk(&["tenant_id", "id"]))
                    .foreign_key(&mut fk("audit_log", &["tenant_id"], "organisations", &["id"]).on_delete(ForeignKeyAction::Restrict))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("audit_log_entity").table("audit_log").col("tenant_id").col("entity_type").col("entity_id").to_owned(),
            )
            .await?;

        // Not tenant data: keyed by a hash of the e-mail or client address.
        manager
            .create_table(
                Table::create()
                    .table("sign_in_throttle")
                    .col(binary("key").primary_key())
                    .col(integer("failures"))
                    .col(timestamp_with_time_zone("window_started_at"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            postgres_security(manager).await?;
        }
        Ok(())
    }
}

async fn postgres_security(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    pg::ensure_app_role(manager).await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema()); END $$;
         CREATE FUNCTION clientele_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
           $f$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $f$;
         GRANT EXECUTE ON FUNCTION clientele_current_tenant() TO {APP_ROLE};"
    ))
    .await?;

    // An organisation sees itself and its children (a supplier administers its customers).
    db.execute_unprepared(&format!(
        "ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
         ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON organisations
           USING (id = clientele_current_tenant() OR parent_id = clientele_current_tenant())
           WITH CHECK (id = clientele_current_tenant() OR parent_id = clientele_current_tenant());
         GRANT SELECT, INSERT, UPDATE ON organisations TO {APP_ROLE};"
    ))
    .await?;
    for table in ["users", "credentials", "sessions", "api_tokens", "one_time_tokens"] {
        pg::tenant_table(manager, table, "tenant_id", "SELECT, INSERT, UPDATE, DELETE").await?;
    }
    pg::tenant_table(manager, "audit_log", "tenant_id", "SELECT, INSERT").await?;

    db.execute_unprepared(&format!(
        // Sign-in: before the tenant is known, a transaction may see the user rows of exactly
        // one e-mail address, the one it is signing in with.
        "CREATE POLICY sign_in_lookup ON users FOR SELECT
           USING (email = NULLIF(current_setting('app.sign_in_email', true), ''));
         GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle TO {APP_ROLE};

         -- Session resolution in one round trip and one indexed lookup: the tenant comes from
         -- the token itself and is set for this statement's transaction only.
         CREATE FUNCTION clientele_resolve_session(p_tenant uuid, p_hash bytea)
         RETURNS TABLE (session_id uuid, user_id uuid, expires_at timestamptz, revoked_at timestamptz,
                        role text, user_status text, org_kind text, org_status text, config_version bigint)
         LANGUAGE plpgsql AS $f$
         BEGIN
           PERFORM set_config('app.tenant_id', p_tenant::text, true);
           RETURN QUERY
             SELECT s.id, s.user_id, s.expires_at, s.revoked_at, u.role::text, u.status::text,
                    o.kind::text, o.status::text, o.config_version
             FROM sessions s
             JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
             JOIN organisations o ON o.id = s.tenant_id
             WHERE s.tenant_id = p_tenant AND s.token_hash = p_hash;
         END $f$;

         -- API tokens also stamp last_used_at, at most once a minute per token.
         CREATE FUNCTION clientele_resolve_api_token(p_tenant uuid, p_hash bytea, p_now timestamptz)
         RETURNS TABLE (token_id uuid, scope text, expires_at timestamptz, revoked_at timestamptz,
                        org_kind text, org_status text, config_version bigint)
         LANGUAGE plpgsql AS $f$
         BEGIN
           PERFORM set_config('app.tenant_id', p_tenant::text, true);
           UPDATE api_tokens t SET last_used_at = p_now
             WHERE t.tenant_id = p_tenant AND t.token_hash = p_hash
               AND (t.last_used_at IS NULL OR t.last_used_at < p_now - interval '60 seconds');
           RETURN QUERY
             SELECT t.id, t.scope::text, t.expires_at, t.revoked_at, o.kind::text, o.status::text, o.config_version
             FROM api_tokens t JOIN organisations o ON o.id = t.tenant_id
             WHERE t.tenant_id = p_tenant AND t.token_hash = p_hash;
         END $f$;
         GRANT EXECUTE ON FUNCTION clientele_resolve_session(uuid, bytea) TO {APP_ROLE};
         GRANT EXECUTE ON FUNCTION clientele_resolve_api_token(uuid, bytea, timestamptz) TO {APP_ROLE};"
    ))
    .await?;
    Ok(())
}
