//! GDPR in the schema: consent decisions (GDP-02; the history is in `consents`), the personal-data
//! export (GDP-06), anonymisation single and bulk (GDP-03, GDP-05, Q-12) and the candidate
//! lists (GDP-04).

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, Scalar, SchemaBuilder, TypeRef,
};
use clientele_kernel::{AppError, ClientId};
use clientele_records::clients::{BalanceFilter, Client, ConsentChannel, ConsentStatus};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{enumeration, opt_bool, opt_str};
use crate::support::mutations::{Mutation, Mutations, id_field, input};
use crate::support::payload;
use crate::support::{
    Connection, Payload, enum_type, id_arg, page_args, tenant, to_gql, user_errors_field, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(
            Scalar::new("JSON")
                .description("Any JSON value.")
                .specified_by_url("https://www.rfc-editor.org/rfc/rfc8259"),
        )
        .register(enum_type::<ConsentChannel>("ConsentChannel"))
        .register(
            Enum::new("AnonymisationBalance")
                .item(EnumItem::new("ZERO").description("Balance exactly zero: may be anonymised."))
                .item(EnumItem::new("NON_ZERO").description("To regularise by hand before anonymising.")),
        )
        .register(
            Object::new("AnonymiseClientsPayload")
                .field(Field::new("clients", TypeRef::named_nn_list("Client"), |rc| {
                    FieldFuture::new(async move {
                        let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let clients = payload.node.as_deref().and_then(|n| n.downcast_ref::<Vec<Client>>());
                        Ok(clients.map(|list| FieldValue::list(list.iter().map(|c| FieldValue::borrowed_any(c)))))
                    })
                }))
                .field(user_errors_field()),
        )
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            Field::new(
                "exportClientData",
                TypeRef::named_nn("JSON"),
                resolver!(|rc| {
                    let id: ClientId = id_arg(&rc, "id")?;
                    let doc = records(&rc)?.gdpr.export(tenant(&rc)?, id).await.map_err(to_gql)?;
                    let doc = Value::from_json(doc).map_err(|e| to_gql(AppError::internal(e)))?;
                    Ok(Some(FieldValue::value(doc)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .description(
                "GDP-06: everything stored about a client (record, contacts, addresses, consent history, \
                 ledger, referrals, audit entries) as one JSON document. Admins; audited.",
            ),
        )
        .field(
            with_page_args(Field::new(
                "anonymisationCandidates",
                TypeRef::named_nn("ClientConnection"),
                resolver!(|rc| {
                    let filter = match rc.args.try_get("balance")?.enum_name()? {
                        "NON_ZERO" => BalanceFilter::NonZero,
                        _ => BalanceFilter::Zero,
                    };
                    let gdpr = &records(&rc)?.gdpr;
                    let page = gdpr.candidates(tenant(&rc)?, filter, page_args(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(Connection::from_page(page, |c| c.id.0))))
                }),
            ))
            .argument(InputValue::new("balance", TypeRef::named_nn("AnonymisationBalance")))
            .description(
                "GDP-04: clients not yet anonymised, trashed and dormant ones included, whose balance is \
                 zero (to anonymise) or not (to regularise first).",
            ),
        )
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "setClientConsent",
                "ClientPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ClientId = crate::support::input::id(&input, "clientId")?;
                    let channel = enumeration::<ConsentChannel>(&input, "channel")?;
                    let status = enumeration::<ConsentStatus>(&input, "status")?;
                    let source = input.try_get("source")?.string()?;
                    payload(records(&rc)?.clients.set_consent(tenant(&rc)?, id, channel, status, source).await)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("channel", TypeRef::named_nn("ConsentChannel")))
            .input(InputValue::new("status", TypeRef::named_nn("ConsentStatus")))
            .input(
                InputValue::new("source", TypeRef::named_nn(TypeRef::STRING))
                    .description("Where the decision came from: web form, shop, phone…"),
            )
            .description("GDP-01, GDP-02: records a consent decision in the history."),
        )
        .field(
            Mutation::new(
                "anonymiseClient",
                "ClientPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ClientId = crate::support::input::id(&input, "id")?;
                    let confirm = input.try_get("confirm")?.boolean()?;
                    let force = opt_bool(&input, "force")?.unwrap_or(false);
                    let reason = opt_str(&input, "reason")?.unwrap_or_default();
                    let force_reason = force.then_some(reason.as_str());
                    payload(records(&rc)?.gdpr.anonymise(tenant(&rc)?, id, confirm, force_reason).await)
                }),
            )
            .input(id_field())
            .input(InputValue::new("confirm", TypeRef::named_nn(TypeRef::BOOLEAN)).description("Must be true."))
            .input(
                InputValue::new("force", TypeRef::named(TypeRef::BOOLEAN))
                    .description("Q-12: anonymise despite a non-zero balance; needs a reason."),
            )
            .input(InputValue::new("reason", TypeRef::named(TypeRef::STRING)))
            .description(
                "GDP-03: erases the client's personal data for good; number, category and ledger stay. \
                 Super-admins; the balance must be zero (BALANCE_NOT_ZERO).",
            ),
        )
        .field(
            Mutation::new(
                "anonymiseClients",
                "AnonymiseClientsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let ids = crate::support::input::ids::<ClientId>(&input, "ids")?;
                    let confirm = input.try_get("confirm")?.boolean()?;
                    payload(records(&rc)?.gdpr.anonymise_many(tenant(&rc)?, &ids, confirm).await)
                }),
            )
            .input(InputValue::new("ids", TypeRef::named_nn_list_nn(TypeRef::ID)))
            .input(InputValue::new("confirm", TypeRef::named_nn(TypeRef::BOOLEAN)))
            .description("GDP-03: anonymises up to 100 clients, all or none; each balance must be zero."),
        )
}
