//! Document references in the schema (OTH-01, LED-14): `Client.documents` with its filters,
//! `Client.documentSummary`, and recording, changing and deleting references.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder,
    TypeRef,
};
use clientele_kernel::{AddressId, ClientDocumentId, ClientId};
use clientele_records::clients::{
    Client, ClientDocument, ClientDocumentInput, DocumentFilter, DocumentKind, DocumentSummary,
};

use crate::areas::clients::client::{ClientById, records};
use crate::areas::contacts::addresses::load_address;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{date_arg, opt_bool, opt_enum, opt_id, opt_str, patch_date, patch_id};
use crate::support::loaders::{One, load_error};
use crate::support::mutations::{Mutation, Mutations, id_field, input, input_id};
use crate::support::payload;
use crate::support::{
    Connection, InputNames, connection_types, datetime, enum_type, enum_value, field, id_arg, page_args, parse_enum,
    payload_type, tenant, to_gql, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, client_fields, ..Area::NONE };

fn money(m: clientele_kernel::Money) -> Value {
    Value::String(m.to_decimal_string())
}

fn document_type() -> Object {
    let flag = |name: &str, get: fn(&ClientDocument) -> bool| {
        field::<ClientDocument, _>(name, TypeRef::named_nn(TypeRef::BOOLEAN), move |d| Value::from(get(d)))
    };
    Object::new("ClientDocument")
        .implement("Node")
        .description("OTH-01: a document of the client (quote, order, invoice…) as a reference.")
        .field(field::<ClientDocument, _>("id", TypeRef::named_nn(TypeRef::ID), |d| Value::String(d.id.to_string())))
        .field(field::<ClientDocument, _>("clientId", TypeRef::named_nn(TypeRef::ID), |d| {
            Value::String(d.client.to_string())
        }))
        .field(Field::new("client", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<ClientDocument>()?.client;
                let loaded = rc.data::<async_graphql::dataloader::DataLoader<One<ClientById>>>()?;
                let loaded = loaded.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(field::<ClientDocument, _>("type", TypeRef::named_nn("DocumentType"), |d| enum_value(d.kind)))
        .field(
            field::<ClientDocument, _>("number", TypeRef::named_nn(TypeRef::STRING), |d| {
                Value::String(d.number.clone())
            })
            .description("Unique in the organisation for its type."),
        )
        .field(field::<ClientDocument, _>("date", TypeRef::named_nn("Date"), |d| Value::String(d.date.to_string())))
        .field(field::<ClientDocument, _>("amount", TypeRef::named_nn("Decimal"), |d| money(d.amount)))
        .field(field::<ClientDocument, _>("siteId", TypeRef::named(TypeRef::ID), |d| {
            d.site.map_or(Value::Null, |s| Value::String(s.to_string()))
        }))
        .field(
            Field::new("site", TypeRef::named("Address"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<ClientDocument>()?.site;
                    load_address(&rc, id).await
                })
            })
            .description("The client's address the document was made out for."),
        )
        .field(flag("invoiced", |d| d.invoiced))
        .field(flag("ordered", |d| d.ordered))
        .field(flag("delivered", |d| d.delivered))
        .field(field::<ClientDocument, _>("createdAt", TypeRef::named_nn("DateTime"), |d| datetime(d.created_at)))
        .field(field::<ClientDocument, _>("updatedAt", TypeRef::named_nn("DateTime"), |d| datetime(d.updated_at)))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let flag = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::BOOLEAN));
    let [connection, edge] = connection_types("ClientDocument");
    builder
        .register(enum_type::<DocumentKind>("DocumentType"))
        .register(document_type())
        .register(connection)
        .register(edge)
        .register(
            InputObject::new("ClientDocumentFilter")
                .description("OTH-01: dates are inclusive; every condition given must hold.")
                .field(InputValue::new("from", TypeRef::named("Date")))
                .field(InputValue::new("to", TypeRef::named("Date")))
                .field(InputValue::new("types", TypeRef::named_nn_list("DocumentType")).description("Default: all."))
                .field(InputValue::new("siteId", TypeRef::named(TypeRef::ID)))
                .field(flag("notInvoiced"))
                .field(flag("notOrdered"))
                .field(flag("notDelivered")),
        )
        .register(
            Object::new("DocumentSummary")
                .description("LED-14: a client's documents of one type.")
                .field(field::<DocumentSummary, _>("type", TypeRef::named_nn("DocumentType"), |s| enum_value(s.kind)))
                .field(field::<DocumentSummary, _>("count", TypeRef::named_nn(TypeRef::INT), |s| Value::from(s.count)))
                .field(field::<DocumentSummary, _>("total", TypeRef::named_nn("Decimal"), |s| money(s.total))),
        )
        .register(payload_type("ClientDocumentPayload", "document", "ClientDocument"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "clientDocument",
            TypeRef::named("ClientDocument"),
            resolver!(|rc| {
                let id: ClientDocumentId = id_arg(&rc, "id")?;
                let found = records(&rc)?.documents.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(found)))
            }),
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
    )
}

fn document_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<ClientDocumentInput> {
    Ok(ClientDocumentInput {
        kind: opt_enum::<DocumentKind>(input, "type")?,
        number: opt_str(input, "number")?,
        date: patch_date(input, "date")?.flatten(),
        amount: opt_str(input, "amount")?,
        site: patch_id::<AddressId>(input, "siteId")?,
        invoiced: opt_bool(input, "invoiced")?,
        ordered: opt_bool(input, "ordered")?,
        delivered: opt_bool(input, "delivered")?,
    })
}

fn parse_filter(rc: &ResolverContext<'_>) -> async_graphql::Result<DocumentFilter> {
    let Some(input) = rc.args.get("filter").filter(|v| !v.is_null()) else { return Ok(DocumentFilter::default()) };
    let input = input.object()?;
    let kinds = match input.get("types").filter(|v| !v.is_null()) {
        Some(list) => list.list()?.iter().filter_map(|v| v.enum_name().ok().and_then(parse_enum)).collect(),
        None => Vec::new(),
    };
    Ok(DocumentFilter {
        from: patch_date(&input, "from")?.flatten(),
        to: patch_date(&input, "to")?.flatten(),
        kinds,
        site: opt_id::<AddressId>(&input, "siteId")?,
        not_invoiced: opt_bool(&input, "notInvoiced")?.unwrap_or(false),
        not_ordered: opt_bool(&input, "notOrdered")?.unwrap_or(false),
        not_delivered: opt_bool(&input, "notDelivered")?.unwrap_or(false),
    })
}

/// `ClientDocumentInput` fields not named as the camelCase of their domain field.
const DOCUMENT_INPUT: InputNames = InputNames::renaming(&[("kind", "type"), ("site", "siteId")]);

/// The fields of a document's inputs: type, number and amount are required on creation; the type
/// never changes.
fn document_fields() -> [InputValue; 8] {
    let flag = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::BOOLEAN));
    [
        InputValue::new("type", TypeRef::named("DocumentType")).description("Required on creation; never changes."),
        InputValue::new("number", TypeRef::named(TypeRef::STRING)).description("Required on creation."),
        InputValue::new("date", TypeRef::named("Date")).description("Default: today."),
        InputValue::new("amount", TypeRef::named("Decimal")).description("Required on creation."),
        InputValue::new("siteId", TypeRef::named(TypeRef::ID)).description("An address of the client."),
        flag("invoiced"),
        flag("ordered"),
        flag("delivered"),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "createClientDocument",
                "ClientDocumentPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = crate::support::input::id(&input, "clientId")?;
                    let document = document_input(&input)?;
                    DOCUMENT_INPUT.payload(records(&rc)?.documents.create(tenant(&rc)?, client, document).await)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .inputs(document_fields())
            .description("OTH-01: links a document to a client. Refused with CLIENT_BLOCKED (LIF-01)."),
        )
        .field(
            Mutation::new(
                "updateClientDocument",
                "ClientDocumentPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ClientDocumentId = crate::support::input::id(&input, "id")?;
                    let document = document_input(&input)?;
                    DOCUMENT_INPUT.payload(records(&rc)?.documents.update(tenant(&rc)?, id, document).await)
                }),
            )
            .input(id_field())
            .inputs(document_fields()),
        )
        .field(
            Mutation::new(
                "deleteClientDocument",
                "DeletePayload",
                resolver!(|rc| {
                    let id: ClientDocumentId = input_id(&rc)?;
                    let result = records(&rc)?.documents.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id_field()),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client
        .field(
            with_page_args(Field::new("documents", TypeRef::named_nn("ClientDocumentConnection"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let filter = parse_filter(&rc)?;
                    let page = records(&rc)?
                        .documents
                        .list(tenant(&rc)?, id, &filter, page_args(&rc)?)
                        .await
                        .map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(Connection::from_page(page, |d| d.id.0))))
                })
            }))
            .argument(InputValue::new("filter", TypeRef::named("ClientDocumentFilter")))
            .description("OTH-01: the client's documents, newest first."),
        )
        .field(
            Field::new("documentSummary", TypeRef::named_nn_list_nn("DocumentSummary"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let (from, to) = (date_arg(&rc, "from")?, date_arg(&rc, "to")?);
                    let list = records(&rc)?.documents.summary(tenant(&rc)?, id, from, to).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
                })
            })
            .argument(InputValue::new("from", TypeRef::named("Date")))
            .argument(InputValue::new("to", TypeRef::named("Date")))
            .description("LED-14: the client's documents grouped by type («Client > Opérations»)."),
        )
}
