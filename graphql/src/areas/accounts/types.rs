//! Object types of the base schema: viewer, organisation, user, session, API token.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, Scalar, SchemaBuilder, TypeRef};
use clientele_kernel::{Language, OrgKind, Role, TokenScope};
use clientele_tenants::model::{ApiToken, Organisation, OrganisationStatus, Session, User, UserStatus};

use crate::shape::{Area, SchemaShape};
use crate::support::{
    connection_types, datetime, enum_type, enum_value, field, opt_datetime, page_info_type, payload_type, services,
    tenant, to_gql, user_error_type,
};

pub const AREA: Area = Area { register, ..Area::NONE };

/// What `viewer` resolves to; its fields load lazily.
pub struct Viewer;

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let builder = builder
        .register(
            Scalar::new("DateTime")
                .description("An RFC 3339 timestamp in UTC.")
                .specified_by_url("https://scalars.graphql.org/andimarek/date-time.html"),
        )
        .register(enum_type::<Role>("Role"))
        .register(enum_type::<UserStatus>("UserStatus"))
        .register(enum_type::<OrgKind>("OrganisationKind"))
        .register(enum_type::<OrganisationStatus>("OrganisationStatus"))
        .register(enum_type::<TokenScope>("TokenScope"))
        .register(enum_type::<Language>("Language"))
        .register(
            async_graphql::dynamic::Enum::new("AuthMethod")
                .item(async_graphql::dynamic::EnumItem::new("SESSION"))
                .item(async_graphql::dynamic::EnumItem::new("API_TOKEN")),
        )
        .register(page_info_type())
        .register(user_error_type())
        .register(user_type())
        .register(organisation_type())
        .register(session_type())
        .register(api_token_type())
        .register(viewer_type())
        .register(payload_type("UserPayload", "user", "User"))
        .register(payload_type("ApiTokenPayload", "apiToken", "ApiToken"))
        .register(payload_type("SessionPayload", "session", "Session"));
    let [users, user_edge] = connection_types("User");
    let [tokens, token_edge] = connection_types("ApiToken");
    builder.register(users).register(user_edge).register(tokens).register(token_edge)
}

fn user_type() -> Object {
    Object::new("User")
        .implement("Node")
        .description("A person who signs in to one organisation.")
        .field(field::<User, _>("id", TypeRef::named_nn(TypeRef::ID), |u| Value::String(u.id.to_string())))
        .field(field::<User, _>("email", TypeRef::named_nn(TypeRef::STRING), |u| Value::String(u.email.clone())))
        .field(
            field::<User, _>("username", TypeRef::named(TypeRef::STRING), |u| {
                u.username.clone().map_or(Value::Null, Value::String)
            })
            .description("USR-02: a second name to sign in with, in lower case."),
        )
        .field(field::<User, _>("displayName", TypeRef::named_nn(TypeRef::STRING), |u| {
            Value::String(u.display_name.clone())
        }))
        .field(field::<User, _>("role", TypeRef::named_nn("Role"), |u| enum_value(u.role)))
        .field(field::<User, _>("status", TypeRef::named_nn("UserStatus"), |u| enum_value(u.status)))
        .field(field::<User, _>("language", TypeRef::named_nn("Language"), |u| enum_value(u.language)))
        .field(field::<User, _>("createdAt", TypeRef::named_nn("DateTime"), |u| datetime(u.created_at)))
        .field(field::<User, _>("updatedAt", TypeRef::named_nn("DateTime"), |u| datetime(u.updated_at)))
        .field(field::<User, _>("lastSignInAt", TypeRef::named("DateTime"), |u| opt_datetime(u.last_sign_in_at)))
        .field(
            field::<User, _>("canDirectLogin", TypeRef::named_nn(TypeRef::BOOLEAN), |u| {
                Value::from(u.can_direct_login)
            })
            .description("ORG-21: a supplier user who may sign in to the supplier's customers as their super-admin."),
        )
}

fn organisation_type() -> Object {
    Object::new("Organisation")
        .description("A tenant: the platform, a supplier or a supplier's customer organisation.")
        .field(field::<Organisation, _>("id", TypeRef::named_nn(TypeRef::ID), |o| Value::String(o.id.to_string())))
        .field(field::<Organisation, _>("kind", TypeRef::named_nn("OrganisationKind"), |o| enum_value(o.kind)))
        .field(field::<Organisation, _>("name", TypeRef::named_nn(TypeRef::STRING), |o| Value::String(o.name.clone())))
        .field(field::<Organisation, _>("status", TypeRef::named_nn("OrganisationStatus"), |o| enum_value(o.status)))
        .field(field::<Organisation, _>("createdAt", TypeRef::named_nn("DateTime"), |o| datetime(o.created_at)))
        .field(field::<Organisation, _>("directLoginAllowed", TypeRef::named_nn(TypeRef::BOOLEAN), |o| {
            Value::from(o.direct_login_allowed)
        }))
}

fn session_type() -> Object {
    Object::new("Session")
        .field(field::<Session, _>("id", TypeRef::named_nn(TypeRef::ID), |s| Value::String(s.id.to_string())))
        .field(field::<Session, _>("createdAt", TypeRef::named_nn("DateTime"), |s| datetime(s.created_at)))
        .field(field::<Session, _>("expiresAt", TypeRef::named_nn("DateTime"), |s| datetime(s.expires_at)))
        .field(field::<Session, _>("revokedAt", TypeRef::named("DateTime"), |s| opt_datetime(s.revoked_at)))
        .field(
            Field::new("current", TypeRef::named_nn(TypeRef::BOOLEAN), |rc| {
                FieldFuture::new(async move {
                    let session = rc.parent_value.try_downcast_ref::<Session>()?;
                    Ok(Some(FieldValue::value(tenant(&rc)?.actor().session() == Some(session.id))))
                })
            })
            .description("Whether the request came with this session."),
        )
}

fn api_token_type() -> Object {
    Object::new("ApiToken")
        .description("An organisation's API token; its secret is shown only when it is created.")
        .field(field::<ApiToken, _>("id", TypeRef::named_nn(TypeRef::ID), |t| Value::String(t.id.to_string())))
        .field(field::<ApiToken, _>("name", TypeRef::named_nn(TypeRef::STRING), |t| Value::String(t.name.clone())))
        .field(field::<ApiToken, _>("scope", TypeRef::named_nn("TokenScope"), |t| enum_value(t.scope)))
        .field(field::<ApiToken, _>("createdAt", TypeRef::named_nn("DateTime"), |t| datetime(t.created_at)))
        .field(field::<ApiToken, _>("expiresAt", TypeRef::named("DateTime"), |t| opt_datetime(t.expires_at)))
        .field(field::<ApiToken, _>("lastUsedAt", TypeRef::named("DateTime"), |t| opt_datetime(t.last_used_at)))
        .field(field::<ApiToken, _>("revokedAt", TypeRef::named("DateTime"), |t| opt_datetime(t.revoked_at)))
}

fn viewer_type() -> Object {
    Object::new("Viewer")
        .description("The caller: who they are, in which organisation, with which rights.")
        .field(Field::new("user", TypeRef::named("User"), |rc| {
            FieldFuture::new(async move {
                let ctx = tenant(&rc)?;
                let Some(id) = ctx.actor().user() else { return Ok(None) };
                let user = services(&rc)?.users.get(ctx, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(user)))
            })
        }))
        .field(Field::new("organisation", TypeRef::named_nn("Organisation"), |rc| {
            FieldFuture::new(async move {
                let ctx = tenant(&rc)?;
                let org = services(&rc)?.organisations.current(ctx).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(org)))
            })
        }))
        .field(Field::new("role", TypeRef::named_nn("Role"), |rc| {
            FieldFuture::new(async move { Ok(Some(FieldValue::value(enum_value(tenant(&rc)?.actor().role)))) })
        }))
        .field(Field::new("scope", TypeRef::named_nn("TokenScope"), |rc| {
            FieldFuture::new(async move { Ok(Some(FieldValue::value(enum_value(tenant(&rc)?.actor().scope)))) })
        }))
        .field(Field::new("authMethod", TypeRef::named_nn("AuthMethod"), |rc| {
            FieldFuture::new(async move {
                let method = if tenant(&rc)?.actor().api_token().is_some() { "API_TOKEN" } else { "SESSION" };
                Ok(Some(FieldValue::value(Value::Enum(async_graphql::Name::new(method)))))
            })
        }))
        .field(crate::areas::organisations::direct_login::viewer_impersonation())
        .field(Field::new("sessions", TypeRef::named_nn_list_nn("Session"), |rc| {
            FieldFuture::new(async move {
                let sessions = services(&rc)?.auth.my_sessions(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(sessions.into_iter().map(FieldValue::owned_any))))
            })
        }))
}
