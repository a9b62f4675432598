//! Root mutation fields of the base schema: sign-in, sessions, users, API tokens.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, SchemaBuilder, TypeRef,
};
use clientele_kernel::{ApiTokenId, AppError, Language, Role, SessionId, TenantId, TokenScope, UserId};
use clientele_tenants::SignedIn;
use clientele_tenants::users::{NewUser, UserPatch};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::{Mutation, Mutations};
use crate::support::payload;
use crate::support::{
    Payload, datetime, field, id_arg, outcome_payload_type, parse_datetime, parse_enum, request, services, tenant,
    to_gql,
};

pub const AREA: Area = Area { register, mutation, ..Area::NONE };

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(outcome_payload_type("SignOutPayload"))
        .register(
            InputObject::new("SignInInput")
                .field(InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)))
                .field(
                    InputValue::new("organisation", TypeRef::named(TypeRef::ID))
                        .description("Needed only when the e-mail belongs to several organisations."),
                ),
        )
        .register(
            InputObject::new("SetPasswordInput")
                .field(InputValue::new("token", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING))),
        )
        .register(
            InputObject::new("CreateUserInput")
                .field(InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("displayName", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("role", TypeRef::named_nn("Role")))
                .field(InputValue::new("language", TypeRef::named("Language")))
                .field(InputValue::new("password", TypeRef::named(TypeRef::STRING))),
        )
        .register(
            InputObject::new("UpdateUserInput")
                .field(InputValue::new("email", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("displayName", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("language", TypeRef::named("Language"))),
        )
        .register(
            InputObject::new("CreateApiTokenInput")
                .field(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("scope", TypeRef::named_nn("TokenScope")))
                .field(InputValue::new("expiresAt", TypeRef::named("DateTime"))),
        )
        .register(
            secret_payload("SignInPayload", "token", "The session token: send it as `Authorization: Bearer …`.")
                .field(node_field::<SignedIn>("user", "User", |s| FieldValue::borrowed_any(&s.user)))
                .field(node_value::<SignedIn>("expiresAt", "DateTime", |s| datetime(s.session.expires_at))),
        )
        .register(
            secret_payload("CreateApiTokenPayload", "token", "The token's secret, shown this once.").field(
                node_field::<clientele_tenants::ApiToken>("apiToken", "ApiToken", |t| FieldValue::borrowed_any(t)),
            ),
        )
}

/// A payload that also carries a secret shown once.
fn secret_payload(name: &str, secret_field: &str, description: &str) -> Object {
    Object::new(name)
        .field(
            field::<Payload, _>(secret_field, TypeRef::named(TypeRef::STRING), |p| {
                p.secret.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
            })
            .description(description),
        )
        .field(crate::support::user_errors_field())
}

/// A nullable object field read off the payload's node of type `T`.
fn node_field<T: std::any::Any + Send + Sync>(name: &str, ty: &str, get: for<'a> fn(&'a T) -> FieldValue<'a>) -> Field {
    Field::new(name, TypeRef::named(ty), move |rc| {
        FieldFuture::new(async move {
            let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
            Ok(payload.node.as_deref().and_then(|n| n.downcast_ref::<T>()).map(get))
        })
    })
}

fn node_value<T: std::any::Any + Send + Sync>(name: &str, ty: &str, get: fn(&T) -> Value) -> Field {
    field::<Payload, _>(name, TypeRef::named(ty), move |p| {
        p.node.as_deref().and_then(|n| n.downcast_ref::<T>()).map_or(Value::Null, get)
    })
}

fn opt_str<'a>(input: &'a ObjectAccessor<'a>, name: &str) -> async_graphql::Result<Option<&'a str>> {
    match input.get(name) {
        Some(v) if !v.is_null() => Ok(Some(v.string()?)),
        _ => Ok(None),
    }
}

fn opt_enum<E>(input: &ObjectAccessor<'_>, name: &str) -> async_graphql::Result<Option<E>>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    match input.get(name) {
        Some(v) if !v.is_null() => Ok(parse_enum::<E>(v.enum_name()?)),
        _ => Ok(None),
    }
}

fn signed_in(result: Result<SignedIn, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let payload = match result {
        Ok(signed_in) => {
            let secret = Some(signed_in.token.clone());
            Payload { secret, ..Payload::ok(signed_in) }
        }
        Err(err) => Payload::from_result::<()>(Err(err))?,
    };
    Ok(Some(FieldValue::owned_any(payload)))
}

fn id_field(
    name: &str,
    ty: &str,
    resolver: impl for<'a> Fn(async_graphql::dynamic::ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static,
) -> Field {
    Field::new(name, TypeRef::named_nn(ty), resolver).argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
}

#[allow(clippy::too_many_lines)] // the list of root mutations reads best in one place
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Field::new(
                "signIn",
                TypeRef::named_nn("SignInPayload"),
                resolver!(|rc| {
                    let input = rc.args.try_get("input")?.object()?;
                    let organisation =
                        opt_str(&input, "organisation")?.map(str::parse::<TenantId>).transpose().map_err(to_gql)?;
                    let email = input.try_get("email")?.string()?;
                    let password = input.try_get("password")?.string()?;
                    let req = request(&rc)?;
                    signed_in(services(&rc)?.auth.sign_in(email, password, organisation, &req.client).await)
                }),
            )
            .argument(InputValue::new("input", TypeRef::named_nn("SignInInput"))),
        )
        .field(
            Field::new(
                "setPassword",
                TypeRef::named_nn("SignInPayload"),
                resolver!(|rc| {
                    let input = rc.args.try_get("input")?.object()?;
                    let token = input.try_get("token")?.string()?;
                    let password = input.try_get("password")?.string()?;
                    let req = request(&rc)?;
                    signed_in(services(&rc)?.auth.set_password_with_token(token, password, &req.client).await)
                }),
            )
            .description("Redeems a one-time set-password link and signs in.")
            .argument(InputValue::new("input", TypeRef::named_nn("SetPasswordInput"))),
        )
        .field(Mutation::new(
            "signOut",
            "SignOutPayload",
            resolver!(|rc| payload(services(&rc)?.auth.sign_out(tenant(&rc)?).await)),
        ))
        .field(id_field(
            "revokeSession",
            "SessionPayload",
            resolver!(|rc| {
                let id: SessionId = id_arg(&rc, "id")?;
                payload(services(&rc)?.auth.revoke_session(tenant(&rc)?, id).await)
            }),
        ))
        .field(
            Field::new(
                "createUser",
                TypeRef::named_nn("UserPayload"),
                resolver!(|rc| {
                    let input = rc.args.try_get("input")?.object()?;
                    let new_user = NewUser {
                        email: input.try_get("email")?.string()?.to_owned(),
                        display_name: input.try_get("displayName")?.string()?.to_owned(),
                        role: parse_enum::<Role>(input.try_get("role")?.enum_name()?).unwrap_or(Role::ReadOnly),
                        language: opt_enum::<Language>(&input, "language")?.unwrap_or_default(),
                        password: opt_str(&input, "password")?.map(str::to_owned),
                    };
                    payload(services(&rc)?.users.create(tenant(&rc)?, new_user).await)
                }),
            )
            .argument(InputValue::new("input", TypeRef::named_nn("CreateUserInput"))),
        )
        .field(
            id_field(
                "updateUser",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = id_arg(&rc, "id")?;
                    let input = rc.args.try_get("input")?.object()?;
                    let patch = UserPatch {
                        email: opt_str(&input, "email")?.map(str::to_owned),
                        display_name: opt_str(&input, "displayName")?.map(str::to_owned),
                        language: opt_enum::<Language>(&input, "language")?,
                    };
                    payload(services(&rc)?.users.update(tenant(&rc)?, id, patch).await)
                }),
            )
            .argument(InputValue::new("input", TypeRef::named_nn("UpdateUserInput"))),
        )
        .field(
            id_field(
                "changeUserRole",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = id_arg(&rc, "id")?;
                    let role = parse_enum::<Role>(rc.args.try_get("role")?.enum_name()?).unwrap_or(Role::ReadOnly);
                    payload(services(&rc)?.users.change_role(tenant(&rc)?, id, role).await)
                }),
            )
            .argument(InputValue::new("role", TypeRef::named_nn("Role"))),
        )
        .field(id_field(
            "deactivateUser",
            "UserPayload",
            resolver!(|rc| {
                let id: UserId = id_arg(&rc, "id")?;
                payload(services(&rc)?.users.deactivate(tenant(&rc)?, id).await)
            }),
        ))
        .field(id_field(
            "reactivateUser",
            "UserPayload",
            resolver!(|rc| {
                let id: UserId = id_arg(&rc, "id")?;
                payload(services(&rc)?.users.reactivate(tenant(&rc)?, id).await)
            }),
        ))
        .field(
            id_field(
                "setUserPassword",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = id_arg(&rc, "id")?;
                    let password = rc.args.try_get("password")?.string()?.to_owned();
                    payload(services(&rc)?.users.set_password(tenant(&rc)?, id, password).await)
                }),
            )
            .argument(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING))),
        )
        .field(
            Field::new(
                "createApiToken",
                TypeRef::named_nn("CreateApiTokenPayload"),
                resolver!(|rc| {
                    let input = rc.args.try_get("input")?.object()?;
                    let name = input.try_get("name")?.string()?;
                    let scope =
                        parse_enum::<TokenScope>(input.try_get("scope")?.enum_name()?).unwrap_or(TokenScope::Read);
                    let expires_at = match opt_str(&input, "expiresAt")? {
                        Some(raw) => match parse_datetime("expiresAt", raw) {
                            Ok(at) => Some(at),
                            Err(err) => return payload::<()>(Err(err)),
                        },
                        None => None,
                    };
                    let created = services(&rc)?.api_tokens.create(tenant(&rc)?, name, scope, expires_at).await;
                    let payload = match created {
                        Ok((token, secret)) => Payload { secret: Some(secret), ..Payload::ok(token) },
                        Err(err) => Payload::from_result::<()>(Err(err))?,
                    };
                    Ok(Some(FieldValue::owned_any(payload)))
                }),
            )
            .argument(InputValue::new("input", TypeRef::named_nn("CreateApiTokenInput"))),
        )
        .field(id_field(
            "revokeApiToken",
            "ApiTokenPayload",
            resolver!(|rc| {
                let id: ApiTokenId = id_arg(&rc, "id")?;
                payload(services(&rc)?.api_tokens.revoke(tenant(&rc)?, id).await)
            }),
        ))
}
