//! Sponsorship in the schema (REF-01..05, Q-14): the organisation's settings,
//! `Client.referralRewards`, and using a reward.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_kernel::ClientId;
use clientele_records::clients::{Client, ReferralRewards, ReferralSettings, ReferralSettingsInput, RewardKind};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_bool, opt_enum, opt_str, patch_str};
use crate::support::loaders::{LoadCtx, One, load_error, one, relation};
use crate::support::mutations::{Mutation, Mutations, id_in, input};
use crate::support::payload;
use crate::support::{enum_type, enum_value, field, opt_datetime, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Rewards of each client of a page, in two grouped statements.
    RewardsOfClient: ClientId => ReferralRewards,
    |cx, keys| cx.records.referral.rewards(&cx.ctx, keys).await,
    |row| Some(row.client)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(one::<RewardsOfClient>(cx))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let flag = |name: &str, get: fn(&ReferralSettings) -> bool| {
        field::<ReferralSettings, _>(name, TypeRef::named_nn(TypeRef::BOOLEAN), move |s| Value::from(get(s)))
    };
    let count = |name: &str, get: fn(&ReferralRewards) -> i64| {
        field::<ReferralRewards, _>(name, TypeRef::named_nn(TypeRef::INT), move |r| Value::from(get(r)))
    };
    builder
        .register(enum_type::<RewardKind>("ReferralRewardKind"))
        .register(
            Object::new("ReferralSettings")
                .description("REF-01..03: the organisation's sponsorship («Parrainage») settings.")
                .field(flag("enabled", |s| s.enabled).description("REF-01: off, no client may get a new sponsor."))
                .field(field::<ReferralSettings, _>("rewardKind", TypeRef::named_nn("ReferralRewardKind"), |s| {
                    enum_value(s.reward_kind)
                }))
                .field(
                    field::<ReferralSettings, _>("rewardValue", TypeRef::named_nn("Decimal"), |s| {
                        Value::String(s.reward_value.to_decimal_string())
                    })
                    .description("Percent for DISCOUNT_PERCENT, an amount for FIXED_REBATE."),
                )
                .field(
                    flag("skipDiscountForbidden", |s| s.skip_discount_forbidden)
                        .description("REF-02: items flagged \"discount forbidden\" get no discount."),
                )
                .field(field::<ReferralSettings, _>("offerText", TypeRef::named(TypeRef::STRING), |s| {
                    s.offer_text.clone().map_or(Value::Null, Value::String)
                }))
                .field(flag("printOnReceipt", |s| s.print_on_receipt).description("REF-03: on every receipt."))
                .field(
                    field::<ReferralSettings, _>("updatedAt", TypeRef::named("DateTime"), |s| {
                        opt_datetime(s.updated_at)
                    })
                    .description("Null until first saved (the defaults apply)."),
                ),
        )
        .register(payload_type("ReferralSettingsPayload", "referralSettings", "ReferralSettings"))
        .register(
            Object::new("ReferralRewards")
                .description("REF-05, Q-14: each sponsee earns its sponsor one reward; using one decrements.")
                .field(field::<ReferralRewards, _>("clientId", TypeRef::named_nn(TypeRef::ID), |r| {
                    Value::String(r.client.to_string())
                }))
                .field(count("earned", |r| r.earned).description("One per sponsee outside the trash."))
                .field(count("used", |r| r.used))
                .field(count("remaining", ReferralRewards::remaining).description("«Parrainages restants».")),
        )
        .register(payload_type("ReferralRewardsPayload", "rewards", "ReferralRewards"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "referralSettings",
            TypeRef::named_nn("ReferralSettings"),
            resolver!(|rc| {
                let settings = records(&rc)?.referral.settings(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(settings)))
            }),
        )
        .description("REF-01..03: readable by every user."),
    )
}

/// The fields of the inputs that were `ReferralSettingsInput`.
fn referral_settings_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("enabled", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("rewardKind", TypeRef::named("ReferralRewardKind")),
        InputValue::new("rewardValue", TypeRef::named("Decimal"))
            .description("0–100 for a discount, a positive amount for a rebate."),
        InputValue::new("skipDiscountForbidden", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("offerText", TypeRef::named(TypeRef::STRING)),
        InputValue::new("printOnReceipt", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "updateReferralSettings",
                "ReferralSettingsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let input = ReferralSettingsInput {
                        enabled: opt_bool(&input, "enabled")?,
                        reward_kind: opt_enum::<RewardKind>(&input, "rewardKind")?,
                        reward_value: opt_str(&input, "rewardValue")?,
                        skip_discount_forbidden: opt_bool(&input, "skipDiscountForbidden")?,
                        offer_text: patch_str(&input, "offerText")?,
                        print_on_receipt: opt_bool(&input, "printOnReceipt")?,
                    };
                    payload(records(&rc)?.referral.update_settings(tenant(&rc)?, input).await)
                }),
            )
            .inputs(referral_settings_fields())
            .input_description("Fields left out keep their value.")
            .description("REF-01..03: admins only."),
        )
        .field(
            Mutation::new(
                "useReferralReward",
                "ReferralRewardsPayload",
                resolver!(|rc| {
                    let id: ClientId = id_in(&rc, "clientId")?;
                    payload(records(&rc)?.referral.use_reward(tenant(&rc)?, id).await)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .description(
                "Q-14: the sponsor uses one reward. Refused with NO_REFERRAL_REWARD_LEFT when none is left, \
                 CLIENT_BLOCKED for a blocked client.",
            ),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client.field(
        Field::new("referralRewards", TypeRef::named_nn("ReferralRewards"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                let loaded =
                    rc.data::<DataLoader<One<RewardsOfClient>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                let rewards = loaded.unwrap_or(ReferralRewards { client: id, earned: 0, used: 0 });
                Ok(Some(FieldValue::owned_any(rewards)))
            })
        })
        .description("REF-05: the sponsorships this client has left («parrainages restants»)."),
    )
}
