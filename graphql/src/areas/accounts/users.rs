//! Root mutation fields of the base schema: sign-in, sessions, users, API tokens.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, SchemaBuilder, TypeRef,
};
use clientele_kernel::{ApiTokenId, AppError, Language, Role, SessionId, TenantId, TokenScope, UserId};
use clientele_tenants::SignedIn;
use clientele_tenants::users::{NewUser, UserPatch};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::{Mutation, Mutations, id_field, input, input_id};
use crate::support::payload;
use crate::support::{
    Payload, datetime, field, outcome_payload_type, parse_datetime, parse_enum, request, services, tenant, to_gql,
};

pub const AREA: Area = Area { register, mutation, ..Area::NONE };

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(outcome_payload_type("SignOutPayload"))
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

/// The fields of the inputs that were `SignInInput`.
fn sign_in_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)).description("The e-mail or the username."),
        InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("organisation", TypeRef::named(TypeRef::ID))
            .description("Needed only when the e-mail or username belongs to several organisations."),
    ]
}

/// The fields of the inputs that were `SetPasswordInput`.
fn set_password_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("token", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)),
    ]
}

/// The fields of the inputs that were `CreateUserInput`.
fn create_user_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)),
        username_field(""),
        InputValue::new("displayName", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("role", TypeRef::named_nn("Role")),
        InputValue::new("language", TypeRef::named("Language")).description("Default: the organisation's language."),
        InputValue::new("password", TypeRef::named(TypeRef::STRING))
            .description("Left out: the user is mailed a link to set one."),
    ]
}

/// USR-02: the `username` of `createUser` and `updateUser`.
fn username_field(more: &str) -> InputValue {
    InputValue::new("username", TypeRef::named(TypeRef::STRING)).description(format!(
        "A second name to sign in with, unique in the organisation: 3 to 64 letters, digits, dots, underscores or dashes.{more}"
    ))
}

/// The fields of the inputs that were `CreateApiTokenInput`.
fn create_api_token_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("scope", TypeRef::named_nn("TokenScope")),
        InputValue::new("expiresAt", TypeRef::named("DateTime")),
    ]
}

#[allow(clippy::too_many_lines)] // the list of root mutations reads best in one place
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "signIn",
                "SignInPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let organisation =
                        opt_str(&input, "organisation")?.map(str::parse::<TenantId>).transpose().map_err(to_gql)?;
                    let email = input.try_get("email")?.string()?;
                    let password = input.try_get("password")?.string()?;
                    let req = request(&rc)?;
                    signed_in(services(&rc)?.auth.sign_in(email, password, organisation, &req.client).await)
                }),
            )
            .inputs(sign_in_fields()),
        )
        .field(
            Mutation::new(
                "setPassword",
                "SignInPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let token = input.try_get("token")?.string()?;
                    let password = input.try_get("password")?.string()?;
                    let req = request(&rc)?;
                    signed_in(services(&rc)?.auth.set_password_with_token(token, password, &req.client).await)
                }),
            )
            .description("Redeems a one-time set-password link and signs in.")
            .inputs(set_password_fields()),
        )
        .field(Mutation::new(
            "signOut",
            "SignOutPayload",
            resolver!(|rc| payload(services(&rc)?.auth.sign_out(tenant(&rc)?).await)),
        ))
        .field(
            Mutation::new(
                "revokeSession",
                "SessionPayload",
                resolver!(|rc| {
                    let id: SessionId = input_id(&rc)?;
                    payload(services(&rc)?.auth.revoke_session(tenant(&rc)?, id).await)
                }),
            )
            .input(id_field()),
        )
        .field(
            Mutation::new(
                "createUser",
                "UserPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let new_user = NewUser {
                        email: input.try_get("email")?.string()?.to_owned(),
                        username: opt_str(&input, "username")?.map(str::to_owned),
                        display_name: input.try_get("displayName")?.string()?.to_owned(),
                        role: parse_enum::<Role>(input.try_get("role")?.enum_name()?).unwrap_or(Role::ReadOnly),
                        language: opt_enum::<Language>(&input, "language")?,
                        password: opt_str(&input, "password")?.map(str::to_owned),
                    };
                    let invite = new_user.password.is_none();
                    let (services, ctx) = (services(&rc)?, tenant(&rc)?);
                    let created = match services.users.create(ctx, new_user).await {
                        // Without a password the new user is mailed a link to set one (USR-03).
                        Ok(user) if invite => services.access.invite(ctx, user.id).await.map(|_| user),
                        other => other,
                    };
                    payload(created)
                }),
            )
            .inputs(create_user_fields()),
        )
        .field(
            Mutation::new(
                "updateUser",
                "UserPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: UserId = crate::support::input::id(&input, "id")?;
                    let patch = UserPatch {
                        email: opt_str(&input, "email")?.map(str::to_owned),
                        username: crate::support::input::patch_str(&input, "username")?,
                        display_name: opt_str(&input, "displayName")?.map(str::to_owned),
                        language: opt_enum::<Language>(&input, "language")?,
                    };
                    payload(services(&rc)?.users.update(tenant(&rc)?, id, patch).await)
                }),
            )
            .input(id_field())
            .inputs([
                InputValue::new("email", TypeRef::named(TypeRef::STRING)),
                username_field(" Null clears it."),
                InputValue::new("displayName", TypeRef::named(TypeRef::STRING)),
                InputValue::new("language", TypeRef::named("Language")),
            ]),
        )
        .field(
            Mutation::new(
                "changeUserRole",
                "UserPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: UserId = crate::support::input::id(&input, "id")?;
                    let role = parse_enum::<Role>(input.try_get("role")?.enum_name()?).unwrap_or(Role::ReadOnly);
                    payload(services(&rc)?.users.change_role(tenant(&rc)?, id, role).await)
                }),
            )
            .input(id_field())
            .input(InputValue::new("role", TypeRef::named_nn("Role"))),
        )
        .field(
            Mutation::new(
                "deactivateUser",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = input_id(&rc)?;
                    payload(services(&rc)?.users.deactivate(tenant(&rc)?, id).await)
                }),
            )
            .input(id_field()),
        )
        .field(
            Mutation::new(
                "reactivateUser",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = input_id(&rc)?;
                    payload(services(&rc)?.users.reactivate(tenant(&rc)?, id).await)
                }),
            )
            .input(id_field()),
        )
        .field(
            Mutation::new(
                "setUserPassword",
                "UserPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: UserId = crate::support::input::id(&input, "id")?;
                    let password = input.try_get("password")?.string()?.to_owned();
                    payload(services(&rc)?.users.set_password(tenant(&rc)?, id, password).await)
                }),
            )
            .input(id_field())
            .input(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING))),
        )
        .field(
            Mutation::new(
                "createApiToken",
                "CreateApiTokenPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
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
            .inputs(create_api_token_fields()),
        )
        .field(
            Mutation::new(
                "revokeApiToken",
                "ApiTokenPayload",
                resolver!(|rc| {
                    let id: ApiTokenId = input_id(&rc)?;
                    payload(services(&rc)?.api_tokens.revoke(tenant(&rc)?, id).await)
                }),
            )
            .input(id_field()),
        )
}
