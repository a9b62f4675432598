//! The organisation's OpenID provider in the schema; the sign-in itself runs over plain HTTP
//! (`/oidc/{organisation}/start` and `/callback`), since it is browser redirects.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_tenants::oidc::{OidcProvider, ProviderInput};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_bool, opt_str};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{Payload, datetime, field, payload_type, services, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn provider_type() -> Object {
    Object::new("OidcProvider")
        .description(
            "The organisation's OpenID provider. Register the redirect URI \
             `<server>/oidc/<organisation id>/callback` there; users start at `/oidc/<organisation id>/start`. \
             The client secret is stored but never shown.",
        )
        .field(field::<OidcProvider, _>("id", TypeRef::named_nn(TypeRef::ID), |p| Value::String(p.id.to_string())))
        .field(field::<OidcProvider, _>("issuer", TypeRef::named_nn(TypeRef::STRING), |p| {
            Value::String(p.issuer.clone())
        }))
        .field(field::<OidcProvider, _>("clientId", TypeRef::named_nn(TypeRef::STRING), |p| {
            Value::String(p.client_id.clone())
        }))
        .field(field::<OidcProvider, _>("enabled", TypeRef::named_nn(TypeRef::BOOLEAN), |p| Value::from(p.enabled)))
        .field(field::<OidcProvider, _>("createdAt", TypeRef::named_nn("DateTime"), |p| datetime(p.created_at)))
        .field(field::<OidcProvider, _>("updatedAt", TypeRef::named_nn("DateTime"), |p| datetime(p.updated_at)))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder.register(provider_type()).register(payload_type("OidcProviderPayload", "provider", "OidcProvider"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "oidcProvider",
            TypeRef::named("OidcProvider"),
            resolver!(|rc| {
                let provider = services(&rc)?.oidc.provider(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(provider.map(FieldValue::owned_any))
            }),
        )
        .description("The organisation's OpenID provider, for its super-admins."),
    )
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation.field(
        Mutation::new(
            "configureOidcProvider",
            "OidcProviderPayload",
            resolver!(|rc| {
                let fields = input(&rc)?;
                let input = ProviderInput {
                    issuer: opt_str(&fields, "issuer")?.unwrap_or_default(),
                    client_id: opt_str(&fields, "clientId")?.unwrap_or_default(),
                    client_secret: opt_str(&fields, "clientSecret")?,
                    enabled: opt_bool(&fields, "enabled")?.unwrap_or(true),
                };
                let result = services(&rc)?.oidc.configure(tenant(&rc)?, input).await;
                Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
            }),
        )
        .description("Sets the organisation's OpenID provider (super-admins). Leave `clientSecret` out to keep it.")
        .input(InputValue::new("issuer", TypeRef::named_nn(TypeRef::STRING)))
        .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::STRING)))
        .input(InputValue::new("clientSecret", TypeRef::named(TypeRef::STRING)))
        .input(InputValue::new("enabled", TypeRef::named(TypeRef::BOOLEAN))),
    )
}
