//! Addresses and sites in the schema (ADR-01..06, CON-01, CON-04), `Client.addresses`, and the
//! document readiness of a client (CLI-16).

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder,
    TypeRef,
};
use clientele_kernel::{AddressId, AppError, ClientId, StaffId};
use clientele_records::clients::document_readiness::billing_address;
use clientele_records::clients::{Address, AddressInput, AddressKind, Client, Contact, DocumentReadiness};

use crate::areas::clients::client::{ClientById, records};
use crate::areas::lookups::load_staff;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{self, opt_bool, opt_enum, patch_id, patch_str};
use crate::support::loaders::{LoadCtx, Many, One, load_error, many, one, relation};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::payload;
use crate::support::{InputNames, datetime, enum_type, enum_value, field, id_arg, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Every address of each client, defaults first: one statement per page of clients.
    AddressesOfClient: ClientId => Address,
    |cx, keys| cx.records.addresses.by_clients(&cx.ctx, keys).await,
    |row| Some(row.client)
);
relation!(
    /// Addresses by id (a contact's site).
    AddressById: AddressId => Address,
    |cx, keys| cx.records.addresses.by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Contacts of each site (CON-02), for `Address.contacts`.
    ContactsOfSite: AddressId => Contact,
    |cx, keys| cx.records.contacts.by_sites(&cx.ctx, keys).await,
    |row| row.site
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(many::<AddressesOfClient>(cx)).data(one::<AddressById>(cx)).data(many::<ContactsOfSite>(cx))
}

/// An address (the contact's site) through the request's loader.
pub async fn load_address(
    rc: &ResolverContext<'_>,
    id: Option<AddressId>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = rc.data::<DataLoader<One<AddressById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
    Ok(loaded.map(FieldValue::owned_any))
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

#[allow(clippy::too_many_lines)] // one field after the other
fn address_type() -> Object {
    let f = |name: &str, get: fn(&Address) -> Option<&str>| {
        field::<Address, _>(name, TypeRef::named(TypeRef::STRING), move |a| s(get(a)))
    };
    Object::new("Address")
        .implement("Node")
        .description("ADR-02: a postal address of a client; DELIVERY addresses are its sites (CON-01).")
        .field(field::<Address, _>("id", TypeRef::named_nn(TypeRef::ID), |a| Value::String(a.id.to_string())))
        .field(field::<Address, _>("clientId", TypeRef::named_nn(TypeRef::ID), |a| Value::String(a.client.to_string())))
        .field(field::<Address, _>("kind", TypeRef::named_nn("AddressKind"), |a| enum_value(a.kind)))
        .field(f("label", |a| a.label.as_deref()))
        .field(f("company", |a| a.company.as_deref()))
        .field(f("street", |a| a.street.as_deref()))
        .field(f("complement", |a| a.complement.as_deref()))
        .field(f("poBox", |a| a.po_box.as_deref()))
        .field(f("postcode", |a| a.postcode.as_deref()))
        .field(f("city", |a| a.city.as_deref()))
        .field(f("country", |a| a.country.as_deref()).description("ISO 3166-1 alpha-2 code."))
        .field(
            f("remark", |a| a.remark.as_deref())
                .description("ADR-05: external remark, shown to the customer's side at delivery."),
        )
        .field(
            field::<Address, _>("isDefault", TypeRef::named_nn(TypeRef::BOOLEAN), |a| Value::from(a.is_default))
                .description("Exactly one address of each kind is the default."),
        )
        .field(field::<Address, _>("deliveryPersonId", TypeRef::named(TypeRef::ID), |a| {
            a.delivery_person.map_or(Value::Null, |p| Value::String(p.to_string()))
        }))
        .field(
            Field::new("deliveryPerson", TypeRef::named("Staff"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Address>()?.delivery_person;
                    load_staff(&rc, id).await
                })
            })
            .description("ADR-06: who delivers here."),
        )
        .field(
            Field::new("contacts", TypeRef::named_nn_list_nn("Contact"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Address>()?.id;
                    let loaded = rc
                        .data::<DataLoader<Many<ContactsOfSite>>>()?
                        .load_one(id)
                        .await
                        .map_err(|e| load_error(&e))?;
                    Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("CON-02: contacts for this address."),
        )
        .field(Field::new("client", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Address>()?.client;
                let loaded =
                    rc.data::<DataLoader<One<ClientById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(field::<Address, _>("createdAt", TypeRef::named_nn("DateTime"), |a| datetime(a.created_at)))
        .field(field::<Address, _>("updatedAt", TypeRef::named_nn("DateTime"), |a| datetime(a.updated_at)))
}

/// The fields of an address's input: kind is required on creation and never changes; null
/// clears a field.
fn address_fields() -> Vec<InputValue> {
    let text = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::STRING));
    vec![
        InputValue::new("kind", TypeRef::named("AddressKind")).description("Required on creation; never changes."),
        text("label"),
        text("company"),
        text("street"),
        text("complement"),
        text("poBox"),
        text("postcode"),
        text("city"),
        text("country").description("ISO 3166-1 alpha-2 code, e.g. FR."),
        text("remark"),
        InputValue::new("isDefault", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("deliveryPersonId", TypeRef::named(TypeRef::ID)),
    ]
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(enum_type::<AddressKind>("AddressKind"))
        .register(address_type())
        .register(
            address_fields()
                .into_iter()
                .fold(InputObject::new("AddressInput"), InputObject::field)
                .description("An address as `completeClientForDocuments` takes it; null clears a field."),
        )
        .register(payload_type("AddressPayload", "address", "Address"))
        .register(
            Object::new("DocumentReadiness")
                .description(
                    "CLI-16: whether the client can go on a quote, order, invoice, delivery note or pro forma.",
                )
                .field(field::<DocumentReadiness, _>("clientId", TypeRef::named_nn(TypeRef::ID), |r| {
                    Value::String(r.client.to_string())
                }))
                .field(field::<DocumentReadiness, _>("ready", TypeRef::named_nn(TypeRef::BOOLEAN), |r| {
                    Value::from(r.missing.is_empty())
                }))
                .field(
                    field::<DocumentReadiness, _>("missing", TypeRef::named_nn_list_nn(TypeRef::STRING), |r| {
                        Value::List(r.missing.iter().map(|m| Value::String((*m).to_owned())).collect())
                    })
                    .description("AddressInput fields to fill, e.g. [\"street\", \"postcode\"]."),
                )
                .field(
                    Field::new("address", TypeRef::named("Address"), |rc| {
                        FieldFuture::new(async move {
                            let readiness = rc.parent_value.try_downcast_ref::<DocumentReadiness>()?;
                            Ok(readiness.address.as_ref().map(|a| FieldValue::borrowed_any(a)))
                        })
                    })
                    .description("The address documents are billed to."),
                ),
        )
        .register(payload_type("DocumentReadinessPayload", "readiness", "DocumentReadiness"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "clientDocumentReadiness",
            TypeRef::named_nn("DocumentReadiness"),
            resolver!(|rc| {
                let id: ClientId = id_arg(&rc, "id")?;
                let readiness = records(&rc)?.addresses.readiness(tenant(&rc)?, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(readiness)))
            }),
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
        .description("CLI-16: the fields a client lacks to go on a document."),
    )
}

fn address_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<AddressInput> {
    Ok(AddressInput {
        kind: opt_enum::<AddressKind>(input, "kind")?,
        label: patch_str(input, "label")?,
        company: patch_str(input, "company")?,
        street: patch_str(input, "street")?,
        complement: patch_str(input, "complement")?,
        po_box: patch_str(input, "poBox")?,
        postcode: patch_str(input, "postcode")?,
        city: patch_str(input, "city")?,
        country: patch_str(input, "country")?,
        remark: patch_str(input, "remark")?,
        is_default: opt_bool(input, "isDefault")?,
        delivery_person: patch_id::<StaffId>(input, "deliveryPersonId")?,
    })
}

/// `AddressInput` fields not named as the camelCase of their domain field.
const ADDRESS_INPUT: InputNames = InputNames::renaming(&[("delivery_person", "deliveryPersonId")]);

/// `completeClientForDocuments` takes the address as its `address` field.
const COMPLETE_INPUT: InputNames = InputNames::nested("address", &[("delivery_person", "deliveryPersonId")]);

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = |name: &str| InputValue::new(name, TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createAddress",
                "AddressPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = input::id(&input, "clientId")?;
                    let address = address_input(&input)?;
                    ADDRESS_INPUT.payload(records(&rc)?.addresses.create(tenant(&rc)?, client, address).await)
                }),
            )
            .input(id("clientId"))
            .inputs(address_fields()),
        )
        .field(
            Mutation::new(
                "updateAddress",
                "AddressPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: AddressId = input::id(&input, "id")?;
                    let address = address_input(&input)?;
                    ADDRESS_INPUT.payload(records(&rc)?.addresses.update(tenant(&rc)?, id, address).await)
                }),
            )
            .input(id("id"))
            .inputs(address_fields()),
        )
        .field(
            Mutation::new(
                "deleteAddress",
                "DeletePayload",
                resolver!(|rc| {
                    let id: AddressId = input::id(&input(&rc)?, "id")?;
                    let result = records(&rc)?.addresses.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id("id"))
            .description("Refused with LINKED_RECORDS while contacts belong to the address."),
        )
        .field(
            Mutation::new(
                "copyClientToAddress",
                "AddressPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = input::id(&input, "clientId")?;
                    let kind = match input.get("kind").filter(|v| !v.is_null()) {
                        Some(v) => crate::support::parse_enum::<AddressKind>(v.enum_name()?)
                            .ok_or_else(|| to_gql(AppError::invalid("kind", "Unknown address kind.")))?,
                        None => AddressKind::Delivery,
                    };
                    payload(records(&rc)?.addresses.copy_client(tenant(&rc)?, client, kind).await)
                }),
            )
            .input(id("clientId"))
            .input(InputValue::new("kind", TypeRef::named("AddressKind")))
            .description(
                "CON-04 «Recopier les Informations Générales»: a new address (default DELIVERY) holding the \
                 client's name and main address.",
            ),
        )
        .field(
            Mutation::new(
                "completeClientForDocuments",
                "DocumentReadinessPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = input::id(&input, "id")?;
                    let address = address_input(&input.try_get("address")?.object()?)?;
                    let addresses = &records(&rc)?.addresses;
                    COMPLETE_INPUT.payload(addresses.complete_for_documents(tenant(&rc)?, client, address).await)
                }),
            )
            .input(id("id"))
            .input(InputValue::new("address", TypeRef::named_nn("AddressInput")))
            .description("CLI-16: fills the billing address in one call (creating it if needed)."),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client
        .field(
            Field::new("addresses", TypeRef::named_nn_list_nn("Address"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let kind = match rc.args.get("kind").filter(|v| !v.is_null()) {
                        Some(v) => crate::support::parse_enum::<AddressKind>(v.enum_name()?),
                        None => None,
                    };
                    let loaded = rc
                        .data::<DataLoader<Many<AddressesOfClient>>>()?
                        .load_one(id)
                        .await
                        .map_err(|e| load_error(&e))?
                        .unwrap_or_default();
                    let kept = loaded.into_iter().filter(move |a| kind.is_none_or(|k| a.kind == k));
                    Ok(Some(FieldValue::list(kept.map(FieldValue::owned_any))))
                })
            })
            .argument(InputValue::new("kind", TypeRef::named("AddressKind")))
            .description("Addresses, defaults first; DELIVERY ones are the client's sites (CON-01)."),
        )
        .field(
            Field::new("billingAddress", TypeRef::named("Address"), |rc| {
                FieldFuture::new(async move {
                    let client = rc.parent_value.try_downcast_ref::<Client>()?;
                    let loaded = rc
                        .data::<DataLoader<Many<AddressesOfClient>>>()?
                        .load_one(client.id)
                        .await
                        .map_err(|e| load_error(&e))?
                        .unwrap_or_default();
                    Ok(billing_address(&loaded, client.billing_uses_delivery).cloned().map(FieldValue::owned_any))
                })
            })
            .description(
                "ADR-04: the default delivery address when billingUsesDelivery, else the default billing \
                 address, else the default main address.",
            ),
        )
}
