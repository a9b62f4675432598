//! A client's consent history in the schema (GDP-01): the `ConsentChange` type and
//! `Client.consentHistory`, one statement per page of clients. Decisions are recorded in `gdpr`.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, SchemaBuilder, TypeRef};
use clientele_kernel::ClientId;
use clientele_records::clients::{Client, ConsentChange};

use crate::shape::{Area, SchemaShape};
use crate::support::loaders::{LoadCtx, Many, load_error, many, relation};
use crate::support::{datetime, enum_value, field};

pub const AREA: Area = Area { register, client_fields, loaders, ..Area::NONE };

relation!(
    /// Consent histories of clients, newest first (GDP-01).
    ConsentHistoryOfClient: ClientId => ConsentChange,
    |cx, keys| cx.records.clients.consent_history(&cx.ctx, keys).await,
    |row| Some(row.client)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(many::<ConsentHistoryOfClient>(cx))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder.register(
        Object::new("ConsentChange")
            .description("GDP-01: one consent decision on one channel.")
            .field(field::<ConsentChange, _>("channel", TypeRef::named_nn("ConsentChannel"), |c| enum_value(c.channel)))
            .field(field::<ConsentChange, _>("status", TypeRef::named_nn("ConsentStatus"), |c| enum_value(c.status)))
            .field(
                field::<ConsentChange, _>("source", TypeRef::named(TypeRef::STRING), |c| {
                    c.source.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
                })
                .description("Where the decision came from; erased when the client is anonymised."),
            )
            .field(
                field::<ConsentChange, _>("actorId", TypeRef::named(TypeRef::ID), |c| {
                    c.actor.map_or(Value::Null, |u| Value::String(u.to_string()))
                })
                .description("The user who recorded it; null for API tokens."),
            )
            .field(field::<ConsentChange, _>("at", TypeRef::named_nn("DateTime"), |c| datetime(c.at))),
    )
}

/// `Client.consentHistory`.
fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client.field(
        Field::new("consentHistory", TypeRef::named_nn_list_nn("ConsentChange"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                let loaded = rc
                    .data::<DataLoader<Many<ConsentHistoryOfClient>>>()?
                    .load_one(id)
                    .await
                    .map_err(|e| load_error(&e))?;
                Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("GDP-01: every consent decision, newest first."),
    )
}
