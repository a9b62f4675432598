//! GDPR in the schema: consent decisions (GDP-02; the history is in `consents`), the personal-data
//! export (GDP-06), anonymisation single and bulk (GDP-03, GDP-05, Q-12) and the candidate
//! lists (GDP-04).

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, Scalar, SchemaBuilder, TypeRef,
};
use clientele_kernel::{AppError, ClientId};
use clientele_records::clients::{BalanceFilter, Client, ConsentChannel, ConsentStatus};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::Mutations;
use crate::support::payload;
use crate::support::{
    Connection, Payload, enum_type, id_arg, page_args, parse_enum, tenant, to_gql, user_errors_field, with_page_args,
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

fn enum_arg<E>(rc: &ResolverContext<'_>, name: &str) -> async_graphql::Result<E>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    let value = rc.args.try_get(name)?;
    parse_enum::<E>(value.enum_name()?).ok_or_else(|| to_gql(AppError::invalid(name, "Unknown value.")))
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
            Field::new(
                "setClientConsent",
                TypeRef::named_nn("ClientPayload"),
                resolver!(|rc| {
                    let id: ClientId = id_arg(&rc, "clientId")?;
                    let channel = enum_arg::<ConsentChannel>(&rc, "channel")?;
                    let status = enum_arg::<ConsentStatus>(&rc, "status")?;
                    let source = rc.args.try_get("source")?.string()?;
                    payload(records(&rc)?.clients.set_consent(tenant(&rc)?, id, channel, status, source).await)
                }),
            )
            .argument(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .argument(InputValue::new("channel", TypeRef::named_nn("ConsentChannel")))
            .argument(InputValue::new("status", TypeRef::named_nn("ConsentStatus")))
            .argument(
                InputValue::new("source", TypeRef::named_nn(TypeRef::STRING))
                    .description("Where the decision came from: web form, shop, phone…"),
            )
            .description("GDP-01, GDP-02: records a consent decision in the history."),
        )
        .field(
            Field::new(
                "anonymiseClient",
                TypeRef::named_nn("ClientPayload"),
                resolver!(|rc| {
                    let id: ClientId = id_arg(&rc, "id")?;
                    let confirm = rc.args.try_get("confirm")?.boolean()?;
                    let force = rc.args.get("force").filter(|v| !v.is_null()).map(|v| v.boolean()).transpose()?;
                    let reason = match rc.args.get("reason").filter(|v| !v.is_null()) {
                        Some(v) => v.string()?.to_owned(),
                        None => String::new(),
                    };
                    let force_reason = force.unwrap_or(false).then_some(reason.as_str());
                    payload(records(&rc)?.gdpr.anonymise(tenant(&rc)?, id, confirm, force_reason).await)
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .argument(InputValue::new("confirm", TypeRef::named_nn(TypeRef::BOOLEAN)).description("Must be true."))
            .argument(
                InputValue::new("force", TypeRef::named(TypeRef::BOOLEAN))
                    .description("Q-12: anonymise despite a non-zero balance; needs a reason."),
            )
            .argument(InputValue::new("reason", TypeRef::named(TypeRef::STRING)))
            .description(
                "GDP-03: erases the client's personal data for good; number, category and ledger stay. \
                 Super-admins; the balance must be zero (BALANCE_NOT_ZERO).",
            ),
        )
        .field(
            Field::new(
                "anonymiseClients",
                TypeRef::named_nn("AnonymiseClientsPayload"),
                resolver!(|rc| {
                    let ids = rc
                        .args
                        .try_get("ids")?
                        .list()?
                        .iter()
                        .map(|v| v.string().and_then(|s| s.parse::<ClientId>().map_err(to_gql)))
                        .collect::<async_graphql::Result<Vec<_>>>()?;
                    let confirm = rc.args.try_get("confirm")?.boolean()?;
                    payload(records(&rc)?.gdpr.anonymise_many(tenant(&rc)?, &ids, confirm).await)
                }),
            )
            .argument(InputValue::new("ids", TypeRef::named_nn_list_nn(TypeRef::ID)))
            .argument(InputValue::new("confirm", TypeRef::named_nn(TypeRef::BOOLEAN)))
            .description("GDP-03: anonymises up to 100 clients, all or none; each balance must be zero."),
        )
}
