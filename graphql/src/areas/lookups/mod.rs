//! Tenant lists (BIL-15) and the staff directory (OTH-04) in the schema, and the client's
//! representative, tariff, terms and methods as objects.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::{AppError, LookupId, StaffId, UserId};
use clientele_records::clients::{Client, Lookup, LookupInput, LookupKind, StaffInput, StaffMember};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{self, opt_bool, opt_enum, opt_i64, opt_str, patch_id};
use crate::support::loaders::{LoadCtx, One, load_error, one, relation};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::payload;
use crate::support::{InputNames, enum_type, enum_value, field, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// List entries by id, whatever their list.
    LookupById: LookupId => Lookup,
    |cx, keys| cx.records.lookups.lookups_by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Staff members by id.
    StaffById: StaffId => StaffMember,
    |cx, keys| cx.records.lookups.staff_by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(one::<LookupById>(cx)).data(one::<StaffById>(cx))
}

/// A staff member through the request's loader (`None` stays `None`).
pub async fn load_staff(
    rc: &ResolverContext<'_>,
    id: Option<StaffId>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = rc.data::<DataLoader<One<StaffById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
    Ok(loaded.map(FieldValue::owned_any))
}

async fn load_lookup(
    rc: &ResolverContext<'_>,
    id: Option<LookupId>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = rc.data::<DataLoader<One<LookupById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
    Ok(loaded.map(FieldValue::owned_any))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let string = |v: &str| Value::String(v.to_owned());
    builder
        .register(enum_type::<LookupKind>("LookupKind"))
        .register(
            Object::new("Lookup")
                .description("BIL-15: an entry of a tenant list (tariff, payment terms…).")
                .field(field::<Lookup, _>("id", TypeRef::named_nn(TypeRef::ID), |l| Value::String(l.id.to_string())))
                .field(field::<Lookup, _>("kind", TypeRef::named_nn("LookupKind"), |l| enum_value(l.kind)))
                .field(field::<Lookup, _>("code", TypeRef::named_nn(TypeRef::STRING), move |l| string(&l.code)))
                .field(field::<Lookup, _>("label", TypeRef::named_nn(TypeRef::STRING), move |l| string(&l.label)))
                .field(field::<Lookup, _>("position", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.position)))
                .field(field::<Lookup, _>("active", TypeRef::named_nn(TypeRef::BOOLEAN), |l| Value::from(l.active))),
        )
        .register(
            Object::new("Staff")
                .description("OTH-04: a member of the staff directory.")
                .field(field::<StaffMember, _>("id", TypeRef::named_nn(TypeRef::ID), |s| {
                    Value::String(s.id.to_string())
                }))
                .field(field::<StaffMember, _>("name", TypeRef::named_nn(TypeRef::STRING), move |s| string(&s.name)))
                .field(
                    field::<StaffMember, _>("isRepresentative", TypeRef::named_nn(TypeRef::BOOLEAN), |s| {
                        Value::from(s.is_representative)
                    })
                    .description("BIL-12: may look after clients."),
                )
                .field(
                    field::<StaffMember, _>("isDeliveryPerson", TypeRef::named_nn(TypeRef::BOOLEAN), |s| {
                        Value::from(s.is_delivery_person)
                    })
                    .description("ADR-06: may deliver to addresses."),
                )
                .field(field::<StaffMember, _>("isSalesperson", TypeRef::named_nn(TypeRef::BOOLEAN), |s| {
                    Value::from(s.is_salesperson)
                }))
                .field(field::<StaffMember, _>("active", TypeRef::named_nn(TypeRef::BOOLEAN), |s| {
                    Value::from(s.active)
                }))
                .field(field::<StaffMember, _>("userId", TypeRef::named(TypeRef::ID), |s| {
                    s.user.map_or(Value::Null, |u| Value::String(u.to_string()))
                })),
        )
        .register(payload_type("LookupPayload", "lookup", "Lookup"))
        .register(payload_type("StaffPayload", "staff", "Staff"))
}

fn active_only(rc: &ResolverContext<'_>) -> async_graphql::Result<bool> {
    Ok(rc.args.get("activeOnly").filter(|v| !v.is_null()).map(|v| v.boolean()).transpose()?.unwrap_or(false))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            Field::new(
                "lookups",
                TypeRef::named_nn_list_nn("Lookup"),
                resolver!(|rc| {
                    let kind = rc.args.try_get("kind")?;
                    let kind = crate::support::parse_enum::<LookupKind>(kind.enum_name()?)
                        .ok_or_else(|| to_gql(AppError::invalid("kind", "Unknown list.")))?;
                    let list =
                        records(&rc)?.lookups.lookups(tenant(&rc)?, kind, active_only(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
                }),
            )
            .argument(InputValue::new("kind", TypeRef::named_nn("LookupKind")))
            .argument(InputValue::new("activeOnly", TypeRef::named(TypeRef::BOOLEAN)))
            .description("BIL-15: one tenant list in display order."),
        )
        .field(
            Field::new(
                "staff",
                TypeRef::named_nn_list_nn("Staff"),
                resolver!(|rc| {
                    let list = records(&rc)?.lookups.staff(tenant(&rc)?, active_only(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
                }),
            )
            .argument(InputValue::new("activeOnly", TypeRef::named(TypeRef::BOOLEAN)))
            .description("OTH-04: the staff directory by name."),
        )
}

fn lookup_fields() -> [InputValue; 5] {
    [
        InputValue::new("kind", TypeRef::named("LookupKind")).description("Set at creation, never changed."),
        InputValue::new("code", TypeRef::named(TypeRef::STRING)),
        InputValue::new("label", TypeRef::named(TypeRef::STRING)),
        InputValue::new("position", TypeRef::named(TypeRef::INT)),
        InputValue::new("active", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

fn staff_fields() -> [InputValue; 6] {
    [
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("isRepresentative", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("isDeliveryPerson", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("isSalesperson", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("active", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("userId", TypeRef::named(TypeRef::ID)),
    ]
}

fn lookup_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<LookupInput> {
    Ok(LookupInput {
        kind: opt_enum::<LookupKind>(input, "kind")?,
        code: opt_str(input, "code")?,
        label: opt_str(input, "label")?,
        position: opt_i64(input, "position")?.map(|p| i32::try_from(p.clamp(-10_000, 10_000)).unwrap_or(0)),
        active: opt_bool(input, "active")?,
    })
}

fn staff_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<StaffInput> {
    Ok(StaffInput {
        name: opt_str(input, "name")?,
        is_representative: opt_bool(input, "isRepresentative")?,
        is_delivery_person: opt_bool(input, "isDeliveryPerson")?,
        is_salesperson: opt_bool(input, "isSalesperson")?,
        active: opt_bool(input, "active")?,
        user: patch_id::<UserId>(input, "userId")?,
    })
}

/// Staff inputs' fields not named as the camelCase of their domain field.
const STAFF_INPUT: InputNames = InputNames::renaming(&[("user", "userId")]);

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = || InputValue::new("id", TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createLookup",
                "LookupPayload",
                resolver!(|rc| {
                    let lookup = lookup_input(&input(&rc)?)?;
                    payload(records(&rc)?.lookups.save_lookup(tenant(&rc)?, None, lookup).await)
                }),
            )
            .inputs(lookup_fields()),
        )
        .field(
            Mutation::new(
                "updateLookup",
                "LookupPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: LookupId = input::id(&input, "id")?;
                    let lookup = lookup_input(&input)?;
                    payload(records(&rc)?.lookups.save_lookup(tenant(&rc)?, Some(id), lookup).await)
                }),
            )
            .input(id())
            .inputs(lookup_fields()),
        )
        .field(
            Mutation::new(
                "deleteLookup",
                "DeletePayload",
                resolver!(|rc| {
                    let id: LookupId = input::id(&input(&rc)?, "id")?;
                    let result = records(&rc)?.lookups.delete_lookup(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id())
            .description("Refused with LINKED_RECORDS while clients or categories use the entry: deactivate it."),
        )
        .field(
            Mutation::new(
                "createStaff",
                "StaffPayload",
                resolver!(|rc| {
                    let staff = staff_input(&input(&rc)?)?;
                    STAFF_INPUT.payload(records(&rc)?.lookups.save_staff(tenant(&rc)?, None, staff).await)
                }),
            )
            .inputs(staff_fields()),
        )
        .field(
            Mutation::new(
                "updateStaff",
                "StaffPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: StaffId = input::id(&input, "id")?;
                    let staff = staff_input(&input)?;
                    STAFF_INPUT.payload(records(&rc)?.lookups.save_staff(tenant(&rc)?, Some(id), staff).await)
                }),
            )
            .input(id())
            .inputs(staff_fields()),
        )
        .field(
            Mutation::new(
                "deactivateStaff",
                "StaffPayload",
                resolver!(|rc| {
                    let id: StaffId = input::id(&input(&rc)?, "id")?;
                    payload(records(&rc)?.lookups.deactivate_staff(tenant(&rc)?, id).await)
                }),
            )
            .input(id())
            .description("Staff are never deleted: records keep pointing at former staff."),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    let lookup = |name: &str, get: fn(&Client) -> Option<LookupId>| {
        Field::new(name, TypeRef::named("Lookup"), move |rc| {
            FieldFuture::new(async move {
                let id = get(rc.parent_value.try_downcast_ref::<Client>()?);
                load_lookup(&rc, id).await
            })
        })
    };
    client
        .field(
            Field::new("representative", TypeRef::named("Staff"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.representative;
                    load_staff(&rc, id).await
                })
            })
            .description("BIL-12: the staff member looking after this client."),
        )
        .field(lookup("tariff", |c| c.tariff))
        .field(lookup("crossDiscount", |c| c.cross_discount))
        .field(lookup("paymentTerms", |c| c.payment_terms))
        .field(lookup("shippingTerms", |c| c.shipping_terms))
        .field(lookup("paymentMethod", |c| c.payment_method))
}
