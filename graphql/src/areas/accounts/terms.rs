//! Terms of use in the schema (ORG-24, ORG-26, Q-20): publishing, reading and answering the
//! current version, and the supplier's view of its customers' user logins.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_kernel::{AppError, Language};
use clientele_tenants::customers::CustomerOrg;
use clientele_tenants::terms::{PublishTerms, TermsStatus, TermsView, UserLogin};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_enum, opt_i64};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{
    Payload, datetime, enum_type, enum_value, field, opt_datetime, payload_type, services, tenant, to_gql,
};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn terms_type() -> Object {
    Object::new("TermsOfUse")
        .description("One published text of the terms of use, with the caller's answer to its version.")
        .field(field::<TermsView, _>("version", TypeRef::named_nn(TypeRef::INT), |t| Value::from(t.version)))
        .field(field::<TermsView, _>("language", TypeRef::named_nn("Language"), |t| enum_value(t.language)))
        .field(field::<TermsView, _>("title", TypeRef::named_nn(TypeRef::STRING), |t| Value::String(t.title.clone())))
        .field(field::<TermsView, _>("body", TypeRef::named_nn(TypeRef::STRING), |t| Value::String(t.body.clone())))
        .field(field::<TermsView, _>("publishedAt", TypeRef::named_nn("DateTime"), |t| datetime(t.published_at)))
        .field(field::<TermsView, _>("status", TypeRef::named_nn("TermsStatus"), |t| enum_value(t.status)))
        .field(field::<TermsView, _>("respondedAt", TypeRef::named("DateTime"), |t| opt_datetime(t.responded_at)))
}

fn user_login_type() -> Object {
    Object::new("UserLogin")
        .description("ORG-26: a user of a customer organisation, with their answer to the current terms of use.")
        .field(field::<UserLogin, _>("id", TypeRef::named_nn(TypeRef::ID), |l| Value::String(l.user.id.to_string())))
        .field(field::<UserLogin, _>("email", TypeRef::named_nn(TypeRef::STRING), |l| {
            Value::String(l.user.email.clone())
        }))
        .field(field::<UserLogin, _>("username", TypeRef::named(TypeRef::STRING), |l| {
            l.user.username.clone().map_or(Value::Null, Value::String)
        }))
        .field(field::<UserLogin, _>("displayName", TypeRef::named_nn(TypeRef::STRING), |l| {
            Value::String(l.user.display_name.clone())
        }))
        .field(field::<UserLogin, _>("role", TypeRef::named_nn("Role"), |l| enum_value(l.user.role)))
        .field(field::<UserLogin, _>("status", TypeRef::named_nn("UserStatus"), |l| enum_value(l.user.status)))
        .field(field::<UserLogin, _>("lastSignInAt", TypeRef::named("DateTime"), |l| {
            opt_datetime(l.user.last_sign_in_at)
        }))
        .field(field::<UserLogin, _>("termsStatus", TypeRef::named_nn("TermsStatus"), |l| enum_value(l.terms_status)))
        .field(field::<UserLogin, _>("termsRespondedAt", TypeRef::named("DateTime"), |l| {
            opt_datetime(l.terms_responded_at)
        }))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(enum_type::<TermsStatus>("TermsStatus"))
        .register(terms_type())
        .register(user_login_type())
        .register(payload_type("TermsPayload", "terms", "TermsOfUse"))
}

/// Adds `userLogins` to `CustomerOrganisation`.
pub fn organisation_fields(object: Object) -> Object {
    object.field(
        Field::new("userLogins", TypeRef::named_nn_list_nn("UserLogin"), |rc| {
            FieldFuture::new(async move {
                let org = rc.parent_value.try_downcast_ref::<CustomerOrg>()?.row.id;
                let list = services(&rc)?.terms.user_logins(tenant(&rc)?, org).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("ORG-26: the organisation's users with role, status, last sign-in and terms-of-use answer."),
    )
}

fn payload(result: Result<TermsView, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "currentTerms",
            TypeRef::named("TermsOfUse"),
            resolver!(|rc| {
                let terms = services(&rc)?.terms.current(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(terms.map(FieldValue::owned_any))
            }),
        )
        .description(
            "The terms of use the caller must approve, in the caller's language (else English); null when none.",
        ),
    )
}

/// The fields of the inputs that were `PublishTermsInput`.
fn publish_terms_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("language", TypeRef::named_nn("Language")),
        InputValue::new("title", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("body", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("version", TypeRef::named(TypeRef::INT)).description(
                    "Left out: a new version that every user must approve again. An existing version: its text in another language.",
                ),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "publishTerms",
                "TermsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let version = opt_i64(&input, "version")?.map(|v| i32::try_from(v).unwrap_or(-1));
                    let publish = PublishTerms {
                        language: opt_enum::<Language>(&input, "language")?.unwrap_or_default(),
                        title: input.try_get("title")?.string()?.to_owned(),
                        body: input.try_get("body")?.string()?.to_owned(),
                        version,
                    };
                    payload(services(&rc)?.terms.publish(tenant(&rc)?, publish).await)
                }),
            )
            .description("A supplier publishes terms of use for its users and its customers' users.")
            .inputs(publish_terms_fields()),
        )
        .field(
            Mutation::new(
                "respondToTerms",
                "TermsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let version = i32::try_from(input.try_get("version")?.i64()?).unwrap_or(-1);
                    let approve = input.try_get("approve")?.boolean()?;
                    payload(services(&rc)?.terms.respond(tenant(&rc)?, version, approve).await)
                }),
            )
            .description("Approves or refuses the current terms of use; a refusal keeps the caller blocked.")
            .input(InputValue::new("version", TypeRef::named_nn(TypeRef::INT)))
            .input(InputValue::new("approve", TypeRef::named_nn(TypeRef::BOOLEAN))),
        )
}
