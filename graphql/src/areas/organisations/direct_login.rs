//! Direct login in the schema (ORG-21): the supplier's right and its use, the customer's
//! consent, list and revocation, and the `viewer.impersonation` banner.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_kernel::{SessionId, TenantId, UserId};
use clientele_tenants::direct_login::{DirectLogin, DirectLoginSession, SupplierUser};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::{Mutation, Mutations, id_in, input, input_id};
use crate::support::payload;
use crate::support::{
    Connection, Payload, connection_types, datetime, field, opt_datetime, page_args, payload_type, request, services,
    tenant, to_gql, user_errors_field, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn session_type() -> Object {
    Object::new("DirectLoginSession")
        .description("ORG-21: a session a supplier user opened in this organisation as its super-admin.")
        .field(field::<DirectLoginSession, _>("id", TypeRef::named_nn(TypeRef::ID), |s| {
            Value::String(s.id.to_string())
        }))
        .field(Field::new("supplierOrganisation", TypeRef::named_nn("SupplierOrganisation"), |rc| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::borrowed_any(rc.parent_value.try_downcast_ref::<DirectLoginSession>()?)))
            })
        }))
        .field(Field::new("supplierUser", TypeRef::named_nn("SupplierUser"), |rc| {
            FieldFuture::new(async move {
                let session = rc.parent_value.try_downcast_ref::<DirectLoginSession>()?;
                Ok(Some(FieldValue::borrowed_any(&session.supplier_user)))
            })
        }))
        .field(
            field::<DirectLoginSession, _>("actingAsUserId", TypeRef::named_nn(TypeRef::ID), |s| {
                Value::String(s.acting_as.to_string())
            })
            .description("The organisation's super-admin the session acts as."),
        )
        .field(field::<DirectLoginSession, _>("reason", TypeRef::named_nn(TypeRef::STRING), |s| {
            Value::String(s.reason.clone())
        }))
        .field(field::<DirectLoginSession, _>("createdAt", TypeRef::named_nn("DateTime"), |s| datetime(s.created_at)))
        .field(field::<DirectLoginSession, _>("expiresAt", TypeRef::named_nn("DateTime"), |s| datetime(s.expires_at)))
        .field(field::<DirectLoginSession, _>("revokedAt", TypeRef::named("DateTime"), |s| opt_datetime(s.revoked_at)))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let [connection, edge] = connection_types("DirectLoginSession");
    builder
        .register(session_type())
        .register(
            Object::new("SupplierOrganisation")
                .field(field::<DirectLoginSession, _>("id", TypeRef::named_nn(TypeRef::ID), |s| {
                    Value::String(s.supplier.to_string())
                }))
                .field(field::<DirectLoginSession, _>("name", TypeRef::named_nn(TypeRef::STRING), |s| {
                    Value::String(s.supplier_name.clone())
                })),
        )
        .register(
            Object::new("SupplierUser")
                .field(field::<SupplierUser, _>("id", TypeRef::named_nn(TypeRef::ID), |u| {
                    Value::String(u.id.to_string())
                }))
                .field(field::<SupplierUser, _>("email", TypeRef::named_nn(TypeRef::STRING), |u| {
                    Value::String(u.email.clone())
                }))
                .field(field::<SupplierUser, _>("displayName", TypeRef::named_nn(TypeRef::STRING), |u| {
                    Value::String(u.display_name.clone())
                })),
        )
        .register(
            Object::new("DirectLoginPayload")
                .field(
                    field::<Payload, _>("token", TypeRef::named(TypeRef::STRING), |p| {
                        p.secret.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
                    })
                    .description("The session token inside the customer organisation, shown this once."),
                )
                .field(field::<Payload, _>("expiresAt", TypeRef::named("DateTime"), |p| {
                    p.node
                        .as_deref()
                        .and_then(|n| n.downcast_ref::<DirectLogin>())
                        .map_or(Value::Null, |d| datetime(d.session.expires_at))
                }))
                .field(field::<Payload, _>("actingAsUserId", TypeRef::named(TypeRef::ID), |p| {
                    p.node
                        .as_deref()
                        .and_then(|n| n.downcast_ref::<DirectLogin>())
                        .map_or(Value::Null, |d| Value::String(d.acting_as.to_string()))
                }))
                .field(user_errors_field()),
        )
        .register(payload_type("DirectLoginSessionPayload", "session", "DirectLoginSession"))
        .register(payload_type("DirectLoginAllowedPayload", "organisation", "Organisation"))
        .register(connection)
        .register(edge)
}

/// `viewer.impersonation`: the direct login the caller is in, for a banner; null otherwise.
pub fn viewer_impersonation() -> Field {
    Field::new("impersonation", TypeRef::named("DirectLoginSession"), |rc| {
        FieldFuture::new(async move {
            let current = services(&rc)?.direct_login.current(tenant(&rc)?).await.map_err(to_gql)?;
            Ok(current.map(FieldValue::owned_any))
        })
    })
    .description("Set when a supplier user signed in here through a direct login (ORG-21).")
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        with_page_args(Field::new(
            "directLoginSessions",
            TypeRef::named_nn("DirectLoginSessionConnection"),
            resolver!(|rc| {
                let page = services(&rc)?.direct_login.list(tenant(&rc)?, page_args(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(Connection::from_page(page, |s| s.id.0))))
            }),
        ))
        .description("ORG-21: direct logins of the supplier into this organisation, newest first (super-admins)."),
    )
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "setDirectLoginPermission",
                "UserPayload",
                resolver!(|rc| {
                    let id: UserId = id_in(&rc, "userId")?;
                    let allowed = input(&rc)?.try_get("allowed")?.boolean()?;
                    payload(services(&rc)?.direct_login.set_permission(tenant(&rc)?, id, allowed).await)
                }),
            )
            .description("A supplier's super-admins grant or revoke a user's right to direct login.")
            .input(InputValue::new("userId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("allowed", TypeRef::named_nn(TypeRef::BOOLEAN))),
        )
        .field(
            Mutation::new(
                "directLogin",
                "DirectLoginPayload",
                resolver!(|rc| {
                    let org: TenantId = id_in(&rc, "organisationId")?;
                    let input = input(&rc)?;
                    let reason = input.try_get("reason")?.string()?;
                    let client = &request(&rc)?.client;
                    let opened = services(&rc)?.direct_login.open(tenant(&rc)?, org, reason, client).await;
                    let payload = match opened {
                        Ok(done) => Payload { secret: Some(done.token.clone()), ..Payload::ok(done) },
                        Err(err) => Payload::from_result::<()>(Err(err))?,
                    };
                    Ok(Some(FieldValue::owned_any(payload)))
                }),
            )
            .description(
                "ORG-21: opens a session of at most 60 minutes in one of the supplier's customer organisations, \
                 as its super-admin. Needs the direct-login right and a reason.",
            )
            .input(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("reason", TypeRef::named_nn(TypeRef::STRING))),
        )
        .field(
            Mutation::new(
                "revokeDirectLoginSession",
                "DirectLoginSessionPayload",
                resolver!(|rc| {
                    let id: SessionId = input_id(&rc)?;
                    payload(services(&rc)?.direct_login.revoke(tenant(&rc)?, id).await)
                }),
            )
            .input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
        .field(
            Mutation::new(
                "setDirectLoginAllowed",
                "DirectLoginAllowedPayload",
                resolver!(|rc| {
                    let allowed = input(&rc)?.try_get("allowed")?.boolean()?;
                    payload(services(&rc)?.direct_login.set_allowed(tenant(&rc)?, allowed).await)
                }),
            )
            .description(
                "A customer's own super-admins, signed in as themselves, allow or forbid direct login (audited in \
                 the customer); forbidding ends open ones.",
            )
            .input(InputValue::new("allowed", TypeRef::named_nn(TypeRef::BOOLEAN))),
        )
}
