//! The audit trail in the schema (issue 16, item 7): `auditEntries`, the caller's organisation's
//! entries newest first, filtered and paged both ways, each naming who acted and, apart, the
//! supplier identity of a direct login.

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, SchemaBuilder,
    TypeRef,
};
use clientele_kernel::UserId;
use clientele_kernel::audit::trail::{AuditActor, AuditChange, AuditFilter, AuditRecord, OnBehalfOf, Person};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_id, opt_str};
use crate::support::{
    Connection, connection_types, datetime, field, page_args, parse_datetime, services, tenant, to_gql, with_page_args,
};

pub const AREA: Area = Area { register, query, ..Area::NONE };

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn json(value: &serde_json::Value) -> Value {
    if value.is_null() { Value::Null } else { Value::from_json(value.clone()).unwrap_or(Value::Null) }
}

fn entry_type() -> Object {
    Object::new("AuditEntry")
        .description("One audited change, written with the change itself.")
        .field(field::<AuditRecord, _>("id", TypeRef::named_nn(TypeRef::ID), |e| Value::String(e.id.to_string())))
        .field(field::<AuditRecord, _>("at", TypeRef::named_nn("DateTime"), |e| datetime(e.at)))
        .field(
            field::<AuditRecord, _>("action", TypeRef::named_nn(TypeRef::STRING), |e| text(&e.action))
                .description("`entity.verb`, e.g. `client.update`."),
        )
        .field(field::<AuditRecord, _>("entityType", TypeRef::named_nn(TypeRef::STRING), |e| text(&e.entity_type)))
        .field(field::<AuditRecord, _>("entityId", TypeRef::named_nn(TypeRef::STRING), |e| text(&e.entity_id)))
        .field(
            Field::new("actor", TypeRef::named_nn("AuditActor"), |rc| {
                FieldFuture::new(async move {
                    Ok(Some(FieldValue::borrowed_any(&rc.parent_value.try_downcast_ref::<AuditRecord>()?.actor)))
                })
            })
            .description("Who wrote the entry: a user of this organisation, an API token, or the server."),
        )
        .field(
            Field::new("onBehalfOf", TypeRef::named("AuditOnBehalfOf"), |rc| {
                FieldFuture::new(async move {
                    let entry = rc.parent_value.try_downcast_ref::<AuditRecord>()?;
                    Ok(entry.on_behalf_of.as_ref().map(|o| FieldValue::borrowed_any(o)))
                })
            })
            .description(
                "Set when the supplier acted: a supplier user's direct login, or the supplier administering this \
                 organisation.",
            ),
        )
        .field(Field::new("changes", TypeRef::named_nn_list_nn("AuditChange"), |rc| {
            FieldFuture::new(async move {
                let entry = rc.parent_value.try_downcast_ref::<AuditRecord>()?;
                Ok(Some(FieldValue::list(entry.changes.iter().map(|c| FieldValue::borrowed_any(c)))))
            })
        }))
        .field(field::<AuditRecord, _>("requestId", TypeRef::named(TypeRef::STRING), |e| {
            e.request_id.as_deref().map_or(Value::Null, text)
        }))
}

fn actor_type() -> Object {
    Object::new("AuditActor")
        .field(field::<AuditActor, _>("kind", TypeRef::named_nn("AuditActorKind"), |a| {
            let name = match a {
                AuditActor::User(_) => "USER",
                AuditActor::ApiToken { .. } => "API_TOKEN",
                AuditActor::System => "SYSTEM",
            };
            Value::Enum(async_graphql::Name::new(name))
        }))
        .field(Field::new("user", TypeRef::named("AuditPerson"), |rc| {
            FieldFuture::new(async move {
                let actor = rc.parent_value.try_downcast_ref::<AuditActor>()?;
                let AuditActor::User(person) = actor else { return Ok(None) };
                Ok(Some(FieldValue::borrowed_any(person)))
            })
        }))
        .field(field::<AuditActor, _>("apiTokenId", TypeRef::named(TypeRef::ID), |a| match a {
            AuditActor::ApiToken { id, .. } => Value::String(id.to_string()),
            _ => Value::Null,
        }))
        .field(
            field::<AuditActor, _>("apiTokenName", TypeRef::named(TypeRef::STRING), |a| match a {
                AuditActor::ApiToken { name: Some(name), .. } => text(name),
                _ => Value::Null,
            })
            .description("Null for a token since deleted."),
        )
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let [connection, edge] = connection_types("AuditEntry");
    let text_filter = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::STRING));
    builder
        .register(entry_type())
        .register(actor_type())
        .register(
            Enum::new("AuditActorKind")
                .item(EnumItem::new("USER"))
                .item(EnumItem::new("API_TOKEN"))
                .item(EnumItem::new("SYSTEM")),
        )
        .register(
            Object::new("AuditPerson")
                .description("A user as the trail names them; e-mail and name are empty for a user since gone.")
                .field(field::<Person, _>("id", TypeRef::named_nn(TypeRef::ID), |p| Value::String(p.id.to_string())))
                .field(field::<Person, _>("email", TypeRef::named_nn(TypeRef::STRING), |p| text(&p.email)))
                .field(field::<Person, _>("displayName", TypeRef::named_nn(TypeRef::STRING), |p| {
                    text(&p.display_name)
                })),
        )
        .register(
            Object::new("AuditOnBehalfOf")
                .description("The supplier identity behind an entry.")
                .field(field::<OnBehalfOf, _>("organisationId", TypeRef::named_nn(TypeRef::ID), |o| {
                    Value::String(o.supplier.to_string())
                }))
                .field(field::<OnBehalfOf, _>("organisationName", TypeRef::named_nn(TypeRef::STRING), |o| {
                    text(&o.supplier_name)
                }))
                .field(Field::new("user", TypeRef::named_nn("AuditPerson"), |rc| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(&rc.parent_value.try_downcast_ref::<OnBehalfOf>()?.user)))
                    })
                }))
                .field(
                    field::<OnBehalfOf, _>("reason", TypeRef::named(TypeRef::STRING), |o| {
                        o.reason.as_deref().map_or(Value::Null, text)
                    })
                    .description("The reason the direct login was opened with; null outside a direct login."),
                ),
        )
        .register(
            Object::new("AuditChange")
                .description("One field: its value before and after (before is null for a value that appeared).")
                .field(field::<AuditChange, _>("field", TypeRef::named_nn(TypeRef::STRING), |c| text(&c.field)))
                .field(field::<AuditChange, _>("before", TypeRef::named("JSON"), |c| json(&c.before)))
                .field(field::<AuditChange, _>("after", TypeRef::named("JSON"), |c| json(&c.after))),
        )
        .register(
            InputObject::new("AuditEntryFilter")
                .description("Every condition given must hold.")
                .field(
                    InputValue::new("actorId", TypeRef::named(TypeRef::ID))
                        .description("A user who acted, in person or as the supplier user behind a direct login."),
                )
                .field(text_filter("action").description("An action, or a prefix ending with a dot: `client.`."))
                .field(text_filter("entityType"))
                .field(text_filter("entityId"))
                .field(InputValue::new("from", TypeRef::named("DateTime")).description("From this instant on."))
                .field(InputValue::new("to", TypeRef::named("DateTime")).description("Before this instant.")),
        )
        .register(connection)
        .register(edge)
}

fn parse_filter(rc: &ResolverContext<'_>) -> async_graphql::Result<AuditFilter> {
    let Some(input) = rc.args.get("filter").filter(|v| !v.is_null()) else { return Ok(AuditFilter::default()) };
    let input = input.object()?;
    let instant = |name: &str| -> async_graphql::Result<_> {
        opt_str(&input, name)?.map(|raw| parse_datetime(name, &raw).map_err(to_gql)).transpose()
    };
    Ok(AuditFilter {
        actor: opt_id::<UserId>(&input, "actorId")?,
        action: opt_str(&input, "action")?,
        entity_type: opt_str(&input, "entityType")?,
        entity_id: opt_str(&input, "entityId")?,
        from: instant("from")?,
        to: instant("to")?,
    })
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        with_page_args(Field::new(
            "auditEntries",
            TypeRef::named_nn("AuditEntryConnection"),
            resolver!(|rc| {
                let filter = parse_filter(&rc)?;
                let page = services(&rc)?.audit.list(tenant(&rc)?, &filter, page_args(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(Connection::from_page(page, |e| e.id.0))))
            }),
        ))
        .argument(InputValue::new("filter", TypeRef::named("AuditEntryFilter")))
        .description(
            "The audit trail of the caller's organisation, newest first (super-admins and admins): in a customer, \
             also what its supplier did there.",
        ),
    )
}
