//! Subscriptions — coupon packs («Abonnement», FEATURES.md §15, SUB-01..06): the tenant's
//! packs (name, coupons, price, validity in days or months counted from purchase or from
//! first use), a client's subscriptions with their remaining coupons and every coupon used,
//! selling a pack to a client, using a coupon (refused when expired, exhausted or the client is
//! blocked), and the expiry countdown. Subscriptions and uses recorded by hand (the generic
//! `createCouponSubscription` / `createCouponUse`, an import) are completed by event listeners:
//! a subscription gets the expiry its pack gives, a use counts on its subscription.

use chrono::{Months, NaiveDate};
use clientele_plugin_sdk::{
    Event, FieldError, FieldType, Json, Manifest, Parent, Plugin, Refusal, StoredRecord, collection, data, field, host,
    invalid, parse, records, register_plugin, to_json,
};
use serde::{Deserialize, Serialize};

struct Subscriptions;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pack {
    name: String,
    coupons: i64,
    price: String,
    validity_days: Option<i64>,
    validity_months: Option<i64>,
    count_from: String,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    pack: String,
    pack_name: String,
    purchased_on: String,
    coupons: i64,
    used: i64,
    price: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_used_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_on: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sell {
    client_id: String,
    pack_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Use {
    subscription_id: String,
}

fn today() -> NaiveDate {
    date(&host::now()[..10]).unwrap_or_default()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// The last valid day of a pack counted from `start`; none without a validity.
fn expiry(pack: &Pack, start: NaiveDate) -> Option<String> {
    let end = match (pack.validity_days, pack.validity_months) {
        (Some(d), _) => start.checked_add_days(chrono::Days::new(u64::try_from(d).ok()?)),
        (None, Some(m)) => start.checked_add_months(Months::new(u32::try_from(m).ok()?)),
        (None, None) => None,
    }?;
    Some(end.format("%Y-%m-%d").to_string())
}

fn refused(message: &str) -> Refusal {
    Refusal::Refused(message.into())
}

impl Plugin for Subscriptions {
    fn describe() -> Manifest {
        Manifest::new(
            "subscriptions",
            env!("CARGO_PKG_VERSION"),
            "Coupon packs sold to clients and used one coupon at a time.",
        )
        // SUB-01, SUB-02, SUB-03: the packs on sale.
        .collection(
            collection("couponPack", "couponPacks", Parent::Tenant)
                .describe("SUB-02: a pack of coupons on sale («Abonnement»), e.g. Discovery: 10 entries.")
                .field(field("name", FieldType::Text).required().searchable())
                .field(field("coupons", FieldType::Integer).required().describe("Coupons in the pack."))
                .field(field("price", FieldType::Decimal).required().describe("Sale price incl. VAT; 0 allowed."))
                .field(field("couponName", FieldType::Text).describe("SUB-01: the coupon item, e.g. Entry."))
                .field(field("validityDays", FieldType::Integer).describe("SUB-03: valid this many days…"))
                .field(field("validityMonths", FieldType::Integer).describe("…or this many months (not both)."))
                .field(
                    field("countFrom", FieldType::Choice)
                        .required()
                        .choices(&["PURCHASE", "FIRST_USE"])
                        .describe("SUB-03: the validity runs from the purchase or from the first use."),
                ),
        )
        // SUB-04, SUB-06: a client's subscriptions and their coupons.
        .collection(
            collection("couponSubscription", "subscriptions", Parent::Client)
                .describe("SUB-04: a pack sold to the client.")
                .field(field("pack", FieldType::Reference).required().references("couponPack"))
                .field(field("packName", FieldType::Text).exportable().required())
                .field(field("purchasedOn", FieldType::Date).exportable().required())
                .field(field("coupons", FieldType::Integer).exportable().required())
                .field(field("used", FieldType::Integer).exportable().required())
                .field(field("price", FieldType::Decimal).exportable().required())
                .field(field("firstUsedOn", FieldType::Date).exportable())
                .field(
                    field("expiresOn", FieldType::Date).exportable().describe("Last valid day; none: never expires."),
                ),
        )
        .collection(
            collection("couponUse", "uses", Parent::Record("couponSubscription".into()))
                .describe("SUB-06: one consumed coupon.")
                .field(field("usedOn", FieldType::Date).exportable().required()),
        )
        .computed("couponSubscription", "remainingCoupons", FieldType::Integer, "SUB-05: coupons left.")
        .computed(
            "couponSubscription",
            "daysLeft",
            FieldType::Integer,
            "Expiry countdown in days; none without expiry.",
        )
        .computed("client", "couponsLeft", FieldType::Integer, "SUB-06: coupons left over all usable subscriptions.")
        .action(
            "sellSubscription",
            "SUB-04: sells a pack to a client, crediting its coupons.",
            vec![
                field("clientId", FieldType::Text).required(),
                field("packId", FieldType::Reference).required().references("couponPack"),
            ],
        )
        .on("couponSubscription.created")
        .on("couponUse.created")
        .action(
            "useCoupon",
            "SUB-05: uses one coupon; refused if none is left, the pack expired or the client is blocked.",
            vec![field("subscriptionId", FieldType::Reference).required().references("couponSubscription")],
        )
    }

    fn validate(record: StoredRecord) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match record.collection.as_str() {
            "couponPack" => {
                let p: Pack = data(&record).map_err(|e| vec![invalid("data", e)])?;
                if p.coupons < 1 {
                    errors.push(invalid("coupons", "A pack holds at least one coupon."));
                }
                if p.price.starts_with('-') {
                    errors.push(invalid("price", "The price cannot be negative."));
                }
                if p.validity_days.is_some() && p.validity_months.is_some() {
                    errors.push(invalid("validityMonths", "Give the validity in days or in months, not both."));
                }
                if p.validity_days.is_some_and(|d| d < 1) || p.validity_months.is_some_and(|m| m < 1) {
                    errors.push(invalid("validityDays", "A validity is at least one day or month."));
                }
                if p.name.trim().is_empty() {
                    errors.push(invalid("name", "Name the pack."));
                }
            }
            "couponSubscription" => {
                let s: Subscription = data(&record).map_err(|e| vec![invalid("data", e)])?;
                if s.coupons < 1 || s.used < 0 || s.used > s.coupons {
                    errors.push(invalid("used", "Between 0 and the pack's coupons."));
                }
                // SUB-01: the coupons used stay used; a correction cannot give them back.
                let uses = records::children("couponUse", &record.id).len();
                if usize::try_from(s.used).is_ok_and(|used| used < uses) {
                    errors.push(invalid("used", format!("{uses} coupons were used: not fewer.")));
                }
            }
            _ => {}
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn compute(field: String, ids: Vec<String>) -> Result<Vec<Json>, String> {
        let today = today();
        let remaining = |s: &Subscription| {
            let expired = s.expires_on.as_deref().and_then(date).is_some_and(|e| e < today);
            if expired { 0 } else { s.coupons - s.used }
        };
        match field.as_str() {
            "remainingCoupons" => Ok(ids
                .iter()
                .map(|id| records::get("couponSubscription", id).and_then(|r| data::<Subscription>(&r).ok()))
                .map(|s| s.map_or_else(|| "null".into(), |s| (s.coupons - s.used).to_string()))
                .collect()),
            "couponsLeft" => {
                // On clients: one query for the page.
                let subs = records::of_clients("couponSubscription", &ids);
                Ok(ids
                    .iter()
                    .map(|client| {
                        let total: i64 = subs
                            .iter()
                            .filter(|r| r.client_id.as_deref() == Some(client))
                            .filter_map(|r| data::<Subscription>(r).ok())
                            .map(|s| remaining(&s))
                            .sum();
                        total.to_string()
                    })
                    .collect())
            }
            "daysLeft" => Ok(ids
                .iter()
                .map(|id| {
                    let s = records::get("couponSubscription", id).and_then(|r| data::<Subscription>(&r).ok());
                    let end = s.and_then(|s| s.expires_on).and_then(|e| date(&e));
                    end.map_or_else(|| "null".into(), |e| (e - today).num_days().max(0).to_string())
                })
                .collect()),
            other => Err(format!("unknown computed field {other}")),
        }
    }

    fn on_event(event: Event) -> Result<(), String> {
        match event.name.as_str() {
            // SUB-03: recorded by hand, it expires when its pack says (from the purchase, or from
            // a first use it already has).
            "couponSubscription.created" => {
                let mut sub: Subscription = data(&event.record)?;
                if sub.expires_on.is_some() {
                    return Ok(());
                }
                let Some(pack) = records::get("couponPack", &sub.pack).and_then(|p| data::<Pack>(&p).ok()) else {
                    return Ok(());
                };
                let start = match pack.count_from.as_str() {
                    "PURCHASE" => date(&sub.purchased_on),
                    _ => sub.first_used_on.as_deref().and_then(date),
                };
                if let Some(start) = start {
                    sub.expires_on = expiry(&pack, start);
                    records::put("couponSubscription", Some(&event.record.id), None, &sub)?;
                }
                Ok(())
            }
            // SUB-05: a use recorded by hand counts on its subscription and starts a first-use
            // countdown, as `useCoupon` does.
            "couponUse.created" => {
                let Some(parent) = event.record.parent_id.as_deref() else { return Ok(()) };
                let Some(record) = records::get("couponSubscription", parent) else { return Ok(()) };
                let mut sub: Subscription = data(&record)?;
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Used {
                    used_on: String,
                }
                let used: Used = data(&event.record)?;
                if sub.first_used_on.is_none() {
                    sub.first_used_on = Some(used.used_on.clone());
                    if sub.expires_on.is_none()
                        && let Some(pack) = records::get("couponPack", &sub.pack).and_then(|p| data::<Pack>(&p).ok())
                        && pack.count_from == "FIRST_USE"
                        && let Some(start) = date(&used.used_on)
                    {
                        sub.expires_on = expiry(&pack, start);
                    }
                }
                sub.used += 1;
                records::put("couponSubscription", Some(&record.id), None, &sub)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn action(name: String, input: Json) -> Result<Json, Refusal> {
        match name.as_str() {
            "sellSubscription" => {
                let sell: Sell = parse(&input)?;
                let client = host::get_client(&sell.client_id).ok_or_else(|| refused("No such client."))?;
                if client.in_trash {
                    return Err(refused("This client is in the trash."));
                }
                let pack_record = records::get("couponPack", &sell.pack_id).ok_or_else(|| refused("No such pack."))?;
                let pack: Pack = data(&pack_record).map_err(|e| refused(&e))?;
                let today = today();
                let sub = Subscription {
                    pack: pack_record.id.clone(),
                    pack_name: pack.name.clone(),
                    purchased_on: today.format("%Y-%m-%d").to_string(),
                    coupons: pack.coupons,
                    used: 0,
                    price: pack.price.clone(),
                    first_used_on: None,
                    expires_on: if pack.count_from == "PURCHASE" { expiry(&pack, today) } else { None },
                };
                let stored =
                    records::put("couponSubscription", None, Some(&client.id), &sub).map_err(|e| refused(&e))?;
                Ok(to_json(
                    &serde_json::json!({ "subscriptionId": stored.id, "coupons": sub.coupons, "expiresOn": sub.expires_on }),
                ))
            }
            "useCoupon" => {
                let wanted: Use = parse(&input)?;
                let record = records::get("couponSubscription", &wanted.subscription_id)
                    .ok_or_else(|| refused("No such subscription."))?;
                let mut sub: Subscription = data(&record).map_err(|e| refused(&e))?;
                let client =
                    record.client_id.as_deref().and_then(host::get_client).ok_or_else(|| refused("No such client."))?;
                if client.blocked {
                    return Err(refused("This client is blocked."));
                }
                let today = today();
                if sub.expires_on.as_deref().and_then(date).is_some_and(|e| e < today) {
                    return Err(refused("This subscription has expired."));
                }
                if sub.used >= sub.coupons {
                    return Err(refused("No coupon is left on this subscription."));
                }
                if sub.first_used_on.is_none() {
                    sub.first_used_on = Some(today.format("%Y-%m-%d").to_string());
                    if sub.expires_on.is_none()
                        && let Some(pack) = records::get("couponPack", &sub.pack).and_then(|p| data::<Pack>(&p).ok())
                        && pack.count_from == "FIRST_USE"
                    {
                        sub.expires_on = expiry(&pack, today);
                    }
                }
                sub.used += 1;
                records::put("couponSubscription", Some(&record.id), None, &sub).map_err(|e| refused(&e))?;
                let day = serde_json::json!({ "usedOn": today.format("%Y-%m-%d").to_string() });
                records::put("couponUse", None, Some(&record.id), &day).map_err(|e| refused(&e))?;
                Ok(to_json(&serde_json::json!({ "remaining": sub.coupons - sub.used, "expiresOn": sub.expires_on })))
            }
            other => Err(refused(&format!("unknown action {other}"))),
        }
    }
}

register_plugin!(Subscriptions);
