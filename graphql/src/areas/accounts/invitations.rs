//! Getting people in, in the schema: access-data mails (ORG-20), password reset (USR-04) and
//! registration links with self-registration (ORG-02, USR-05).

use std::any::Any;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputObject, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_kernel::person::ContactDetails;
use clientele_kernel::{Language, TenantId};
use clientele_tenants::access::AccessDataSent;
use clientele_tenants::customers::{CustomerInput, OrgText};
use clientele_tenants::registration::{
    CreatedLink, LinkStatus, NewRegistrationLink, Prospect, Registered, Registration, RegistrationLink,
};

use crate::areas::organisations::customers::text_name;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_enum, opt_i64, opt_id, opt_str};
use crate::support::mutations::{Mutation, Mutations, id_field, input, input_id};
use crate::support::payload;
use crate::support::{
    Connection, InputNames, Payload, connection_types, datetime, enum_type, enum_value, field, opt_datetime,
    outcome_payload_type, page_args, parse_datetime, payload_type, request, services, tenant, to_gql,
    user_errors_field, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

/// The master-data fields a prospect may fill in when registering.
const REGISTRATION_TEXTS: [OrgText; 8] = [
    OrgText::LegalForm,
    OrgText::Street,
    OrgText::PoBox,
    OrgText::Postcode,
    OrgText::City,
    OrgText::Country,
    OrgText::Phone,
    OrgText::Email,
];

fn link_type() -> Object {
    Object::new("RegistrationLink")
        .description("ORG-02: a supplier's self-registration link; its secret is shown only when created.")
        .field(field::<RegistrationLink, _>("id", TypeRef::named_nn(TypeRef::ID), |l| Value::String(l.id.to_string())))
        .field(field::<RegistrationLink, _>("note", TypeRef::named(TypeRef::STRING), |l| {
            l.note.clone().map_or(Value::Null, Value::String)
        }))
        .field(field::<RegistrationLink, _>("maxUses", TypeRef::named(TypeRef::INT), |l| {
            l.max_uses.map_or(Value::Null, Value::from)
        }))
        .field(field::<RegistrationLink, _>("uses", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.uses)))
        .field(field::<RegistrationLink, _>("status", TypeRef::named_nn("RegistrationLinkStatus"), |l| {
            enum_value(l.status)
        }))
        .field(field::<RegistrationLink, _>("createdAt", TypeRef::named_nn("DateTime"), |l| datetime(l.created_at)))
        .field(field::<RegistrationLink, _>("expiresAt", TypeRef::named_nn("DateTime"), |l| datetime(l.expires_at)))
        .field(field::<RegistrationLink, _>("revokedAt", TypeRef::named("DateTime"), |l| opt_datetime(l.revoked_at)))
}

/// A payload field read off the payload's node of type `T`.
fn node_value<T: Any + Send + Sync>(name: &str, ty: TypeRef, get: fn(&T) -> Value) -> Field {
    field::<Payload, _>(name, ty, move |p| {
        p.node.as_deref().and_then(|n| n.downcast_ref::<T>()).map_or(Value::Null, get)
    })
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let [connection, edge] = connection_types("RegistrationLink");
    builder
        .register(outcome_payload_type("RequestPasswordResetPayload"))
        .register(enum_type::<LinkStatus>("RegistrationLinkStatus"))
        .register(link_type())
        .register(connection)
        .register(edge)
        .register(
            InputObject::new("RegistrationContactInput")
                .field(InputValue::new("title", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("firstName", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("lastName", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("phone", TypeRef::named(TypeRef::STRING))),
        )
        .register(
            Object::new("SendAccessDataPayload")
                .field(node_value::<AccessDataSent>("recipient", TypeRef::named(TypeRef::STRING), |s| {
                    Value::String(s.recipient.clone())
                }))
                .field(node_value::<AccessDataSent>("userId", TypeRef::named(TypeRef::ID), |s| {
                    Value::String(s.user.to_string())
                }))
                .field(user_errors_field()),
        )
        .register(
            Object::new("CreateRegistrationLinkPayload")
                .field(Field::new("registrationLink", TypeRef::named("RegistrationLink"), |rc| {
                    FieldFuture::new(async move {
                        let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let created = payload.node.as_deref().and_then(|n| n.downcast_ref::<CreatedLink>());
                        Ok(created.map(|c| FieldValue::borrowed_any(&c.link)))
                    })
                }))
                .field(
                    node_value::<CreatedLink>("token", TypeRef::named(TypeRef::STRING), |c| {
                        Value::String(c.token.clone())
                    })
                    .description("The link's secret, shown this once."),
                )
                .field(
                    node_value::<CreatedLink>("url", TypeRef::named(TypeRef::STRING), |c| Value::String(c.url.clone()))
                        .description("The link to hand out, shown this once."),
                )
                .field(user_errors_field()),
        )
        .register(payload_type("RegistrationLinkPayload", "registrationLink", "RegistrationLink"))
        .register(
            Object::new("RegisterOrganisationPayload")
                .field(node_value::<Registered>("organisationId", TypeRef::named(TypeRef::ID), |r| {
                    Value::String(r.organisation.to_string())
                }))
                .field(
                    node_value::<Registered>("email", TypeRef::named(TypeRef::STRING), |r| {
                        Value::String(r.email.clone())
                    })
                    .description("Where the link to set a password was sent."),
                )
                .field(user_errors_field()),
        )
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        with_page_args(Field::new(
            "registrationLinks",
            TypeRef::named_nn("RegistrationLinkConnection"),
            resolver!(|rc| {
                let page = services(&rc)?.registration.links(tenant(&rc)?, page_args(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(Connection::from_page(page, |l| l.id))))
            }),
        ))
        .description("ORG-02: the supplier's registration links, oldest first."),
    )
}

fn registration(input: &async_graphql::dynamic::ObjectAccessor<'_>) -> async_graphql::Result<Registration> {
    let mut texts = Vec::new();
    for text in REGISTRATION_TEXTS {
        if let Some(value) = opt_str(input, &text_name(text))? {
            texts.push((text, Some(value)));
        }
    }
    let contact = input.try_get("contact")?.object()?;
    Ok(Registration {
        organisation: CustomerInput {
            name: Some(input.try_get("name")?.string()?.to_owned()),
            texts,
            language: opt_enum::<Language>(input, "language")?,
            ..CustomerInput::default()
        },
        contact: ContactDetails {
            title: opt_str(&contact, "title")?,
            first_name: opt_str(&contact, "firstName")?,
            last_name: contact.try_get("lastName")?.string()?.to_owned(),
            email: opt_str(&contact, "email")?,
            phone: opt_str(&contact, "phone")?,
            ..ContactDetails::default()
        },
    })
}

/// `sendAccessData` arguments not named as the camelCase of their domain field.
const ACCESS_INPUT: InputNames = InputNames::renaming(&[("contact", "contactId"), ("organisation", "organisationId")]);

/// The fields of the inputs that were `CreateRegistrationLinkInput`.
fn create_registration_link_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("expiresAt", TypeRef::named_nn("DateTime")),
        InputValue::new("maxUses", TypeRef::named(TypeRef::INT))
            .description("How many organisations may register with it; left out: no limit."),
        InputValue::new("note", TypeRef::named(TypeRef::STRING)),
        InputValue::new("sendTo", TypeRef::named(TypeRef::STRING))
            .description("ORG-02: a prospect's e-mail address to mail the link to."),
        InputValue::new("language", TypeRef::named("Language")).description("The language of that mail."),
    ]
}

/// The fields of `registerOrganisation`'s input.
fn register_organisation_fields() -> Vec<InputValue> {
    let mut fields = vec![
        InputValue::new("token", TypeRef::named_nn(TypeRef::STRING)).description("The registration link's token."),
        InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)),
        InputValue::new("language", TypeRef::named("Language")),
        InputValue::new("contact", TypeRef::named_nn("RegistrationContactInput"))
            .description("The person registering: the organisation's first super-admin."),
    ];
    fields.extend(
        REGISTRATION_TEXTS.into_iter().map(|text| InputValue::new(text_name(text), TypeRef::named(TypeRef::STRING))),
    );
    fields
}

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "sendAccessData",
                "SendAccessDataPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let org: TenantId = crate::support::input::id(&input, "organisationId")?;
                    let contact = opt_id::<TenantId>(&input, "contactId")?.map(|c| c.0);
                    ACCESS_INPUT.payload(services(&rc)?.access.send_access_data(tenant(&rc)?, org, contact).await)
                }),
            )
            .description(
                "ORG-20: mails the organisation's super-admin (or the contact's user) a welcome with their login and a \
                 one-time link to set a password, at that user's own e-mail address only. A user who already has a \
                 password gets a short-lived reset link instead.",
            )
            .input(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("contactId", TypeRef::named(TypeRef::ID))),
        )
        .field(
            Mutation::new(
                "requestPasswordReset",
                "RequestPasswordResetPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let email = input.try_get("email")?.string()?;
                    let organisation = opt_id::<TenantId>(&input, "organisation")?;
                    let client = &request(&rc)?.client;
                    payload(services(&rc)?.access.request_password_reset(email, organisation, client).await)
                }),
            )
            .description(
                "USR-04: mails a link to choose a new password when the account exists. The answer is the same \
                 (no userErrors), whether or not it does.",
            )
            .input(InputValue::new("email", TypeRef::named_nn(TypeRef::STRING)))
            .input(InputValue::new("organisation", TypeRef::named(TypeRef::ID))),
        )
        .field(
            Mutation::new(
                "createRegistrationLink",
                "CreateRegistrationLinkPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let expires_at = match parse_datetime("expiresAt", input.try_get("expiresAt")?.string()?) {
                        Ok(at) => at,
                        Err(err) => return payload::<()>(Err(err)),
                    };
                    let new = NewRegistrationLink {
                        expires_at,
                        max_uses: opt_i64(&input, "maxUses")?.map(|m| i32::try_from(m).unwrap_or(-1)),
                        note: opt_str(&input, "note")?,
                        send_to: match opt_str(&input, "sendTo")? {
                            Some(email) => Some(Prospect {
                                email,
                                language: opt_enum::<Language>(&input, "language")?.unwrap_or_default(),
                            }),
                            None => None,
                        },
                    };
                    payload(services(&rc)?.registration.create_link(tenant(&rc)?, new).await)
                }),
            )
            .inputs(create_registration_link_fields()),
        )
        .field(
            Mutation::new(
                "revokeRegistrationLink",
                "RegistrationLinkPayload",
                resolver!(|rc| {
                    let id: TenantId = input_id(&rc)?;
                    payload(services(&rc)?.registration.revoke_link(tenant(&rc)?, id.0).await)
                }),
            )
            .input(id_field()),
        )
        .field(
            Mutation::new(
                "registerOrganisation",
                "RegisterOrganisationPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let token = input.try_get("token")?.string()?;
                    payload(services(&rc)?.registration.register(token, registration(&input)?).await)
                }),
            )
            .description(
                "USR-05: registers a customer organisation through a supplier's registration link, without signing \
                 in. The contact becomes its super-admin and is mailed a link to set a password.",
            )
            .inputs(register_organisation_fields()),
        )
}
