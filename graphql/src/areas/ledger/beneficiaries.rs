//! Beneficiaries in the schema (CRD-01..04, CRD-06, LED-15, LED-16): the `Beneficiary` type
//! with its cards and statement, `Client.beneficiaries`, and their mutations.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::{BeneficiaryId, ClientId};
use clientele_records::clients::{Beneficiary, BeneficiaryInput, Card, Civility, Client};

use crate::areas::clients::client::{ClientById, records};
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{date_arg, opt_bool, patch_enum, patch_str};
use crate::support::loaders::{LoadCtx, Many, One, load_error, many, one, relation};
use crate::support::mutations::{Mutation, Mutations, id_in, input, input_id};
use crate::support::payload;
use crate::support::{datetime, enum_value, field, id_arg, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Beneficiaries of each client: one statement per page of clients.
    BeneficiariesOfClient: ClientId => Beneficiary,
    |cx, keys| cx.records.beneficiaries.by_clients(&cx.ctx, keys).await,
    |row| Some(row.client)
);
relation!(
    /// Beneficiaries by id (a card's holder).
    BeneficiaryById: BeneficiaryId => Beneficiary,
    |cx, keys| cx.records.beneficiaries.by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Cards of each beneficiary, for `Beneficiary.cards`.
    CardsOfBeneficiary: BeneficiaryId => Card,
    |cx, keys| cx.records.cards.by_beneficiaries(&cx.ctx, keys).await,
    |row| row.beneficiary
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request
        .data(many::<BeneficiariesOfClient>(cx))
        .data(one::<BeneficiaryById>(cx))
        .data(many::<CardsOfBeneficiary>(cx))
}

/// A beneficiary (a card's holder) through the request's loader.
pub async fn load_beneficiary(
    rc: &ResolverContext<'_>,
    id: Option<BeneficiaryId>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = rc.data::<DataLoader<One<BeneficiaryById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
    Ok(loaded.map(FieldValue::owned_any))
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn beneficiary_type() -> Object {
    let f = |name: &str, get: fn(&Beneficiary) -> Option<&str>| {
        field::<Beneficiary, _>(name, TypeRef::named(TypeRef::STRING), move |b| s(get(b)))
    };
    let flag = |name: &str, get: fn(&Beneficiary) -> bool| {
        field::<Beneficiary, _>(name, TypeRef::named_nn(TypeRef::BOOLEAN), move |b| Value::from(get(b)))
    };
    Object::new("Beneficiary")
        .implement("Node")
        .description("CRD-01: a person attached to a client's account who may hold cards.")
        .field(field::<Beneficiary, _>("id", TypeRef::named_nn(TypeRef::ID), |b| Value::String(b.id.to_string())))
        .field(field::<Beneficiary, _>("clientId", TypeRef::named_nn(TypeRef::ID), |b| {
            Value::String(b.client.to_string())
        }))
        .field(Field::new("client", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Beneficiary>()?.client;
                let loaded =
                    rc.data::<DataLoader<One<ClientById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(field::<Beneficiary, _>("civility", TypeRef::named("Civility"), |b| {
            b.civility.map_or(Value::Null, enum_value)
        }))
        .field(f("lastName", |b| b.last_name.as_deref()).description("Null only once the client is anonymised."))
        .field(f("firstName", |b| b.first_name.as_deref()))
        .field(field::<Beneficiary, _>("displayName", TypeRef::named_nn(TypeRef::STRING), |b| {
            Value::String(b.display_name())
        }))
        .field(f("street", |b| b.street.as_deref()))
        .field(f("complement", |b| b.complement.as_deref()))
        .field(f("postcode", |b| b.postcode.as_deref()))
        .field(f("city", |b| b.city.as_deref()))
        .field(f("country", |b| b.country.as_deref()).description("ISO 3166-1 alpha-2 code."))
        .field(f("mobile", |b| b.mobile.as_ref().map(|p| p.typed.as_str())))
        .field(f("mobileE164", |b| b.mobile.as_ref().and_then(|p| p.e164.as_deref())))
        .field(f("email", |b| b.email.as_deref()))
        .field(flag("loyalty", |b| b.loyalty).description("LED-15: enrolled in the loyalty scheme."))
        .field(flag("wallet", |b| b.wallet).description("LED-16: pays from the client's wallet."))
        .field(flag("blocked", |b| b.blocked).description("CRD-04: no new card, no posting."))
        .field(f("blockedReason", |b| b.blocked_reason.as_deref()))
        .field(field::<Beneficiary, _>("createdAt", TypeRef::named_nn("DateTime"), |b| datetime(b.created_at)))
        .field(field::<Beneficiary, _>("updatedAt", TypeRef::named_nn("DateTime"), |b| datetime(b.updated_at)))
        .field(
            Field::new("cards", TypeRef::named_nn_list_nn("Card"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Beneficiary>()?.id;
                    let loaded = rc
                        .data::<DataLoader<Many<CardsOfBeneficiary>>>()?
                        .load_one(id)
                        .await
                        .map_err(|e| load_error(&e))?;
                    Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("CRD-05: the beneficiary's cards by number."),
        )
        .field(
            Field::new("statement", TypeRef::named_nn("AccountStatement"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Beneficiary>()?.id;
                    let (from, to) = (date_arg(&rc, "from")?, date_arg(&rc, "to")?);
                    let ledger = &records(&rc)?.ledger;
                    let statement = ledger.beneficiary_statement(tenant(&rc)?, id, from, to).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(statement)))
                })
            })
            .argument(InputValue::new("from", TypeRef::named("Date")).description("Default: since the first entry."))
            .argument(InputValue::new("to", TypeRef::named("Date")).description("Default: today."))
            .description("CRD-06, LED-13: the entries posted for this beneficiary over a period."),
        )
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder.register(beneficiary_type()).register(payload_type("BeneficiaryPayload", "beneficiary", "Beneficiary"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "beneficiary",
            TypeRef::named("Beneficiary"),
            resolver!(|rc| {
                let id: BeneficiaryId = id_arg(&rc, "id")?;
                let found = records(&rc)?.beneficiaries.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(found)))
            }),
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
        .description("CRD-03: one beneficiary."),
    )
}

fn beneficiary_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<BeneficiaryInput> {
    Ok(BeneficiaryInput {
        civility: patch_enum::<Civility>(input, "civility")?,
        last_name: patch_str(input, "lastName")?,
        first_name: patch_str(input, "firstName")?,
        street: patch_str(input, "street")?,
        complement: patch_str(input, "complement")?,
        postcode: patch_str(input, "postcode")?,
        city: patch_str(input, "city")?,
        country: patch_str(input, "country")?,
        mobile: patch_str(input, "mobile")?,
        email: patch_str(input, "email")?,
        loyalty: opt_bool(input, "loyalty")?,
        wallet: opt_bool(input, "wallet")?,
    })
}

/// The fields of the inputs that were `BeneficiaryInput`.
fn beneficiary_fields() -> Vec<InputValue> {
    let text = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::STRING));
    vec![
        InputValue::new("civility", TypeRef::named("Civility")),
        text("lastName"),
        text("firstName"),
        text("street"),
        text("complement"),
        text("postcode"),
        text("city"),
        text("country").description("ISO 3166-1 alpha-2 code, e.g. FR."),
        text("mobile"),
        text("email"),
        InputValue::new("loyalty", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("wallet", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = |name: &str| InputValue::new(name, TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createBeneficiary",
                "BeneficiaryPayload",
                resolver!(|rc| {
                    let client: ClientId = id_in(&rc, "clientId")?;
                    let input = beneficiary_input(&input(&rc)?)?;
                    payload(records(&rc)?.beneficiaries.create(tenant(&rc)?, client, input).await)
                }),
            )
            .input(id("clientId"))
            .inputs(beneficiary_fields())
            .input_description("CRD-02: lastName and firstName are required; null clears a field.")
            .description("CRD-02: adds a beneficiary to a client."),
        )
        .field(
            Mutation::new(
                "updateBeneficiary",
                "BeneficiaryPayload",
                resolver!(|rc| {
                    let id: BeneficiaryId = input_id(&rc)?;
                    let input = beneficiary_input(&input(&rc)?)?;
                    payload(records(&rc)?.beneficiaries.update(tenant(&rc)?, id, input).await)
                }),
            )
            .input(id("id"))
            .inputs(beneficiary_fields())
            .input_description("CRD-02: lastName and firstName are required; null clears a field."),
        )
        .field(
            Mutation::new(
                "deleteBeneficiary",
                "DeletePayload",
                resolver!(|rc| {
                    let id: BeneficiaryId = input_id(&rc)?;
                    let result = records(&rc)?.beneficiaries.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id("id"))
            .description(
                "CRD-03: deletes a beneficiary and its cards (the caller confirms first). Refused with \
                 LINKED_RECORDS once ledger entries name it: block it instead.",
            ),
        )
        .field(
            Mutation::new(
                "blockBeneficiary",
                "BeneficiaryPayload",
                resolver!(|rc| {
                    let id: BeneficiaryId = input_id(&rc)?;
                    let reason = input(&rc)?.try_get("reason")?.string()?.to_owned();
                    payload(records(&rc)?.beneficiaries.set_blocked(tenant(&rc)?, id, Some(reason)).await)
                }),
            )
            .input(id("id"))
            .input(InputValue::new("reason", TypeRef::named_nn(TypeRef::STRING)))
            .description("CRD-04: blocks a beneficiary: no new card, no posting on its behalf."),
        )
        .field(
            Mutation::new(
                "unblockBeneficiary",
                "BeneficiaryPayload",
                resolver!(|rc| {
                    let id: BeneficiaryId = input_id(&rc)?;
                    payload(records(&rc)?.beneficiaries.set_blocked(tenant(&rc)?, id, None).await)
                }),
            )
            .input(id("id")),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client.field(
        Field::new("beneficiaries", TypeRef::named_nn_list_nn("Beneficiary"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                let blocked = rc.args.get("blocked").filter(|v| !v.is_null()).map(|v| v.boolean()).transpose()?;
                let loaded = rc
                    .data::<DataLoader<Many<BeneficiariesOfClient>>>()?
                    .load_one(id)
                    .await
                    .map_err(|e| load_error(&e))?;
                let list =
                    loaded.unwrap_or_default().into_iter().filter(move |b| blocked.is_none_or(|x| b.blocked == x));
                Ok(Some(FieldValue::list(list.map(FieldValue::owned_any))))
            })
        })
        .argument(
            InputValue::new("blocked", TypeRef::named(TypeRef::BOOLEAN))
                .description("CRD-04: true lists the blocked ones only; default: all."),
        )
        .description("CRD-01: the client's beneficiaries by name."),
    )
}
