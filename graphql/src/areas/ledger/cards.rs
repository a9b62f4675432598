//! Cards in the schema (CRD-05): the `Card` type, `Client.cards` (the client's and its
//! beneficiaries'), and issuing, changing and deleting cards.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, SchemaBuilder, TypeRef,
};
use clientele_kernel::{CardId, ClientId};
use clientele_records::clients::{Card, CardHolder, CardInput, CardStatus, Client};

use crate::areas::clients::client::{ClientById, records};
use crate::areas::ledger::beneficiaries::load_beneficiary;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_enum, opt_str, patch_date};
use crate::support::loaders::{LoadCtx, Many, One, load_error, many, relation};
use crate::support::mutations::{Mutation, Mutations, id_in, input, input_id};
use crate::support::payload;
use crate::support::{datetime, enum_type, enum_value, field, id_arg, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Cards of each client's account: one statement per page of clients.
    CardsOfClient: ClientId => Card,
    |cx, keys| cx.records.cards.by_clients(&cx.ctx, keys).await,
    |row| Some(row.client)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(many::<CardsOfClient>(cx))
}

fn card_type() -> Object {
    let date = |d: chrono::NaiveDate| Value::String(d.to_string());
    Object::new("Card")
        .implement("Node")
        .description("CRD-05: a card held by a client or one of its beneficiaries.")
        .field(field::<Card, _>("id", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.id.to_string())))
        .field(
            field::<Card, _>("number", TypeRef::named_nn(TypeRef::STRING), |c| Value::String(c.number.clone()))
                .description("Unique in the organisation."),
        )
        .field(field::<Card, _>("status", TypeRef::named_nn("CardStatus"), |c| enum_value(c.status)))
        .field(field::<Card, _>("issuedOn", TypeRef::named_nn("Date"), move |c| date(c.issued_on)))
        .field(
            field::<Card, _>("expiresOn", TypeRef::named("Date"), move |c| c.expires_on.map_or(Value::Null, date))
                .description("Valid through this day; null: no expiry."),
        )
        .field(
            field::<Card, _>("clientId", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.client.to_string()))
                .description("The account the card belongs to."),
        )
        .field(Field::new("client", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Card>()?.client;
                let loaded =
                    rc.data::<DataLoader<One<ClientById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(
            field::<Card, _>("beneficiaryId", TypeRef::named(TypeRef::ID), |c| {
                c.beneficiary.map_or(Value::Null, |b| Value::String(b.to_string()))
            })
            .description("The holder when it is a beneficiary; null: the client holds it."),
        )
        .field(Field::new("beneficiary", TypeRef::named("Beneficiary"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Card>()?.beneficiary;
                load_beneficiary(&rc, id).await
            })
        }))
        .field(field::<Card, _>("createdAt", TypeRef::named_nn("DateTime"), |c| datetime(c.created_at)))
        .field(field::<Card, _>("updatedAt", TypeRef::named_nn("DateTime"), |c| datetime(c.updated_at)))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder.register(enum_type::<CardStatus>("CardStatus")).register(card_type()).register(payload_type(
        "CardPayload",
        "card",
        "Card",
    ))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "card",
            TypeRef::named("Card"),
            resolver!(|rc| {
                let id: CardId = id_arg(&rc, "id")?;
                let found = records(&rc)?.cards.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(found)))
            }),
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
    )
}

fn card_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<CardInput> {
    Ok(CardInput {
        number: opt_str(input, "number")?,
        status: opt_enum::<CardStatus>(input, "status")?,
        issued_on: patch_date(input, "issuedOn")?.flatten(),
        expires_on: patch_date(input, "expiresOn")?,
    })
}

/// The fields of the inputs that were `CardInput`.
fn card_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("number", TypeRef::named(TypeRef::STRING)),
        InputValue::new("status", TypeRef::named("CardStatus")).description("Default: ACTIVE."),
        InputValue::new("issuedOn", TypeRef::named("Date")).description("Default: today."),
        InputValue::new("expiresOn", TypeRef::named("Date")).description("After issuedOn; null: none."),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = |name: &str| InputValue::new(name, TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createClientCard",
                "CardPayload",
                resolver!(|rc| {
                    let holder = CardHolder::Client(id_in(&rc, "clientId")?);
                    let input = card_input(&input(&rc)?)?;
                    payload(records(&rc)?.cards.create(tenant(&rc)?, holder, input).await)
                }),
            )
            .input(id("clientId"))
            .inputs(card_fields())
            .input_description("number is required on creation; the holder never changes.")
            .description("CRD-05: issues a card to the client. Refused with CLIENT_BLOCKED (LIF-01)."),
        )
        .field(
            Mutation::new(
                "createBeneficiaryCard",
                "CardPayload",
                resolver!(|rc| {
                    let holder = CardHolder::Beneficiary(id_in(&rc, "beneficiaryId")?);
                    let input = card_input(&input(&rc)?)?;
                    payload(records(&rc)?.cards.create(tenant(&rc)?, holder, input).await)
                }),
            )
            .input(id("beneficiaryId"))
            .inputs(card_fields())
            .input_description("number is required on creation; the holder never changes.")
            .description("CRD-05: adds a card to a beneficiary. Refused with CLIENT_BLOCKED or BENEFICIARY_BLOCKED."),
        )
        .field(
            Mutation::new(
                "updateCard",
                "CardPayload",
                resolver!(|rc| {
                    let id: CardId = input_id(&rc)?;
                    let input = card_input(&input(&rc)?)?;
                    payload(records(&rc)?.cards.update(tenant(&rc)?, id, input).await)
                }),
            )
            .input(id("id"))
            .inputs(card_fields())
            .input_description("number is required on creation; the holder never changes.")
            .description("Changes a card's number, status (block, unblock) or dates."),
        )
        .field(
            Mutation::new(
                "deleteCard",
                "DeletePayload",
                resolver!(|rc| {
                    let id: CardId = input_id(&rc)?;
                    let result = records(&rc)?.cards.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id("id"))
            .description("Refused with LINKED_RECORDS once ledger entries name the card: block it instead."),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client.field(
        Field::new("cards", TypeRef::named_nn_list_nn("Card"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                let loaded =
                    rc.data::<DataLoader<Many<CardsOfClient>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("CRD-05: the cards of the client and of its beneficiaries, by number."),
    )
}
