//! A supplier's view of how its plugin fares in one customer organisation (issue 17): the
//! quotas it runs under and its breaker's state and latest transitions.

use crate::resolver;
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{datetime, field, id_arg, payload, payload_type, tenant, to_gql};

/// A quota: its GraphQL name, its config key, and its value.
type QuotaField = (&'static str, &'static str, fn(&Quotas) -> Value);

const QUOTAS: &[QuotaField] = &[
    ("hostCallsPerCall", "host_calls_per_call", |q| int(q.host_calls_per_call)),
    ("writesPerCall", "writes_per_call", |q| int(q.writes_per_call)),
    ("writesPerMinute", "writes_per_minute", |q| int(q.writes_per_minute)),
    ("recordsPerCollection", "records_per_collection", |q| int(q.records_per_collection)),
    ("bytesPerCollection", "bytes_per_collection", |q| int(q.bytes_per_collection)),
    ("concurrentCalls", "concurrent_calls", |q| int(q.concurrent_calls)),
    ("guestMsPerMinute", "guest_ms_per_minute", |q| int(q.guest_ms_per_minute)),
    ("logLinesPerCall", "log_lines_per_call", |q| int(q.log_lines_per_call)),
    ("logBytesPerCall", "log_bytes_per_call", |q| int(q.log_bytes_per_call)),
    ("turnWaitMs", "turn_wait_ms", |q| int(q.turn_wait_ms)),
];
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, SchemaBuilder, TypeRef,
};
use async_graphql::{Name, Value};
use clientele_kernel::{PluginId, TenantId};
use clientele_plugins::breaker::{Failure, State, Transition};
use clientele_plugins::{PluginHealth, Plugins, Quotas};

fn int(n: impl TryInto<i32>) -> Value {
    Value::from(n.try_into().unwrap_or(i32::MAX))
}

fn state(s: State) -> Value {
    Value::Enum(Name::new(s.as_str()))
}

pub(super) fn register(builder: SchemaBuilder) -> SchemaBuilder {
    let states = [State::Closed, State::Open, State::HalfOpen];
    builder
        .register(
            states
                .iter()
                .fold(Enum::new("PluginBreakerState"), |e, s| e.item(EnumItem::new(s.as_str())))
                .description("Where a plugin's circuit breaker stands in an organisation."),
        )
        .register(QUOTAS.iter().fold(
            Object::new("PluginQuotas").description(
                "What a plugin may use in an organisation: the server's `[plugins.quotas]`, or its supplier's.",
            ),
            |o, &(name, _, get)| o.field(field::<Quotas, _>(name, TypeRef::named_nn(TypeRef::INT), get)),
        ))
        .register(payload_type("SetPluginQuotasPayload", "pluginHealth", "PluginHealth"))
        .register(
            Object::new("PluginBreakerTransition")
                .description("A change of a plugin breaker's state, with when and why.")
                .field(field::<Transition, _>("at", TypeRef::named_nn("DateTime"), |t| datetime(t.at)))
                .field(field::<Transition, _>("state", TypeRef::named_nn("PluginBreakerState"), |t| state(t.state)))
                .field(field::<Transition, _>("reason", TypeRef::named_nn(TypeRef::STRING), |t| {
                    Value::String(t.reason.clone())
                })),
        )
        .register(
            Object::new("PluginFailure")
                .description(
                    "A failed call of a plugin in an organisation, with its whole cause: what its callers are never \
                     shown, for the plugin's developer.",
                )
                .field(field::<Failure, _>("at", TypeRef::named_nn("DateTime"), |f| datetime(f.at)))
                .field(
                    field::<Failure, _>("call", TypeRef::named_nn(TypeRef::STRING), |f| Value::String(f.call.clone()))
                        .description("The export that ran and on what: `action crash`, `compute spin`, `validate pet`, `event pet.created`."),
                )
                .field(field::<Failure, _>("reason", TypeRef::named_nn(TypeRef::STRING), |f| {
                    Value::String(f.reason.clone())
                }))
                .field(
                    field::<Failure, _>("detail", TypeRef::named_nn(TypeRef::STRING), |f| {
                        Value::String(f.detail.clone())
                    })
                    .description(
                        "The error and the guest's backtrace (with function names when the component kept them), \
                         then the error lines the call logged, a panic's message among them; at most 8 KiB.",
                    ),
                ),
        )
        .register(
            Object::new("PluginHealth")
                .description("How a plugin fares in one organisation, as this server process counts it.")
                .field(Field::new("quotas", TypeRef::named_nn("PluginQuotas"), |rc| {
                    FieldFuture::new(async move {
                        let h = rc.parent_value.try_downcast_ref::<PluginHealth>()?;
                        Ok(Some(FieldValue::owned_any(h.quotas)))
                    })
                }))
                .field(field::<PluginHealth, _>("breakerState", TypeRef::named_nn("PluginBreakerState"), |h| {
                    state(h.breaker.state)
                }))
                .field(
                    Field::new("breakerHistory", TypeRef::named_nn_list_nn("PluginBreakerTransition"), |rc| {
                        FieldFuture::new(async move {
                            let h = rc.parent_value.try_downcast_ref::<PluginHealth>()?;
                            Ok(Some(FieldValue::list(h.breaker.history.iter().cloned().map(FieldValue::owned_any))))
                        })
                    })
                    .description("The latest transitions, oldest first."),
                )
                .field(
                    Field::new("failures", TypeRef::named_nn_list_nn("PluginFailure"), |rc| {
                        FieldFuture::new(async move {
                            let h = rc.parent_value.try_downcast_ref::<PluginHealth>()?;
                            Ok(Some(FieldValue::list(h.breaker.failures.iter().cloned().map(FieldValue::owned_any))))
                        })
                    })
                    .description("The latest failed calls (at most 20), newest first."),
                ),
        )
}

pub(super) fn query_field() -> Field {
    Field::new(
        "pluginHealth",
        TypeRef::named_nn("PluginHealth"),
        resolver!(|rc| {
            let plugin: PluginId = id_arg(&rc, "pluginId")?;
            let organisation: TenantId = id_arg(&rc, "organisationId")?;
            let health = rc
                .data::<std::sync::Arc<Plugins>>()?
                .registry
                .health(tenant(&rc)?, plugin, organisation)
                .await
                .map_err(to_gql)?;
            Ok(Some(FieldValue::owned_any(health)))
        }),
    )
    .argument(InputValue::new("pluginId", TypeRef::named_nn(TypeRef::ID)))
    .argument(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID)))
    .description(
        "Suppliers: the quotas, breaker and latest failures of one of their plugins in one of their customer \
         organisations.",
    )
}

/// `setPluginQuotas`: a supplier sets some quotas of its plugin in one customer organisation.
pub(super) fn mutation(mutation: Mutations) -> Mutations {
    let set = Mutation::new(
        "setPluginQuotas",
        "SetPluginQuotasPayload",
        resolver!(|rc| {
            let input = input(&rc)?;
            let plugin: PluginId = crate::support::input::id(&input, "pluginId")?;
            let organisation: TenantId = crate::support::input::id(&input, "organisationId")?;
            let mut overrides = serde_json::Map::new();
            for &(name, key, _) in QUOTAS {
                if let Some(n) = crate::support::input::opt_i64(&input, name)? {
                    overrides.insert(key.to_owned(), n.into());
                }
            }
            let registry = &rc.data::<std::sync::Arc<Plugins>>()?.registry;
            payload(registry.set_quotas(tenant(&rc)?, plugin, organisation, overrides).await)
        }),
    )
    .input(InputValue::new("pluginId", TypeRef::named_nn(TypeRef::ID)))
    .input(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID)));
    let set = QUOTAS.iter().fold(set, |m, &(name, _, _)| m.input(InputValue::new(name, TypeRef::named(TypeRef::INT))));
    mutation.field(set.description(
        "Suppliers: sets the quotas of a plugin in one of their customer organisations; a quota left out goes back to \
         the server's. Audited.",
    ))
}
