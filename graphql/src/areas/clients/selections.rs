//! Saved selections in the schema (SRC-14): `savedSelections`, `savedSelection(id)`, and
//! `createSavedSelection` / `updateSavedSelection` / `deleteSavedSelection`. A list, a search,
//! an export or a birthday list uses one through `ClientFilter.selectionId`.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, SchemaBuilder, TypeRef,
};
use clientele_kernel::{ClientId, SelectionId};
use clientele_records::clients::{ClientFilter, ClientOrder, Selection, SelectionInput, TrashFilter};
use serde_json::{Map, Value as Json, json};

use crate::areas::clients::client::{filter_of, records};
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{self, opt_bool, opt_enum, opt_ids, opt_str};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{InputNames, datetime, enum_value, field, gql_enum_name, payload, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

/// A domain filter as the `ClientFilter` input that makes it: what a saved selection shows back.
fn filter_json(f: &ClientFilter) -> Json {
    let mut out = Map::new();
    let mut put = |key: &str, value: Json| {
        if !value.is_null() {
            out.insert(key.to_owned(), value);
        }
    };
    let enum_name = |stored: &str| Json::String(gql_enum_name(stored));
    put("namePrefix", json!(f.name_prefix));
    put("email", json!(f.email));
    put("phone", json!(f.phone));
    put("code", json!(f.code));
    put("kind", f.kind.map_or(Json::Null, |k| enum_name(k.as_str())));
    put("categoryId", json!(f.category.map(|id| id.to_string())));
    put("groupId", json!(f.group.map(|id| id.to_string())));
    put("statuses", f.statuses.as_ref().map_or(Json::Null, |s| s.iter().map(|s| enum_name(s.as_str())).collect()));
    put("blocked", json!(f.blocked));
    put("loyalty", json!(f.loyalty));
    put("wallet", json!(f.wallet));
    put("hasEmail", json!(f.has_email));
    put("hasMobile", json!(f.has_mobile));
    if let Some(((fm, fd), (tm, td))) = f.birthday_between {
        put("birthdayFrom", json!(format!("{fm:02}-{fd:02}")));
        put("birthdayTo", json!(format!("{tm:02}-{td:02}")));
    }
    if let Some((back, ahead)) = f.birthday_within {
        put("birthdayInLastDays", json!(back));
        put("birthdayInNextDays", json!(ahead));
    }
    put("createdFrom", json!(f.created_from.map(|t| t.to_rfc3339())));
    put("createdTo", json!(f.created_to.map(|t| t.to_rfc3339())));
    put(
        "trash",
        match f.trash {
            TrashFilter::Exclude => Json::Null,
            TrashFilter::Only => json!("ONLY"),
            TrashFilter::Include => json!("INCLUDE"),
        },
    );
    if !f.custom.is_empty() {
        put("customFields", f.custom.iter().map(|c| (c.key.clone(), c.equals.clone())).collect::<Map<_, _>>().into());
    }
    put("consentEmail", f.consent_email.map_or(Json::Null, |c| enum_name(c.as_str())));
    put("consentSms", f.consent_sms.map_or(Json::Null, |c| enum_name(c.as_str())));
    put("reachableBy", f.reachable_by.map_or(Json::Null, |c| enum_name(c.as_str())));
    Json::Object(out)
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let selection = Object::new("SavedSelection")
        .description(
            "SRC-14: a named client filter with its order, and the clients ticked in the list when some were; \
             personal to the user who saved it or shared with the organisation. Use it with \
             `ClientFilter.selectionId` in `clients`, `searchClients` and the exports.",
        )
        .field(field::<Selection, _>("id", TypeRef::named_nn(TypeRef::ID), |s| Value::String(s.id.to_string())))
        .field(field::<Selection, _>("name", TypeRef::named_nn(TypeRef::STRING), |s| Value::String(s.name.clone())))
        .field(
            field::<Selection, _>("shared", TypeRef::named_nn(TypeRef::BOOLEAN), |s| Value::from(s.owner.is_none()))
                .description("Seen by every user of the organisation; otherwise by its owner only."),
        )
        .field(Field::new("mine", TypeRef::named_nn(TypeRef::BOOLEAN), |rc| {
            FieldFuture::new(async move {
                let owner = rc.parent_value.try_downcast_ref::<Selection>()?.owner;
                let me = tenant(&rc)?.actor().user();
                Ok(Some(FieldValue::value(owner.is_some() && owner == me)))
            })
        }))
        .field(
            field::<Selection, _>("filter", TypeRef::named_nn("JSON"), |s| {
                Value::from_json(filter_json(&s.filter)).unwrap_or(Value::Null)
            })
            .description("The saved `ClientFilter`, as the input object that makes it."),
        )
        .field(field::<Selection, _>("orderBy", TypeRef::named_nn("ClientOrder"), |s| enum_value(s.order)))
        .field(
            field::<Selection, _>("clientIds", TypeRef::named_nn_list(TypeRef::ID), |s| {
                s.clients.as_ref().map_or(Value::Null, |ids| {
                    Value::List(ids.iter().map(|id| Value::String(id.to_string())).collect())
                })
            })
            .description("The clients ticked in the list; null: every client the filter keeps."),
        )
        .field(field::<Selection, _>("createdAt", TypeRef::named_nn("DateTime"), |s| datetime(s.created_at)))
        .field(field::<Selection, _>("updatedAt", TypeRef::named_nn("DateTime"), |s| datetime(s.updated_at)));
    builder.register(selection).register(payload_type("SavedSelectionPayload", "selection", "SavedSelection"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            Field::new(
                "savedSelections",
                TypeRef::named_nn_list_nn("SavedSelection"),
                resolver!(|rc| {
                    let list = records(&rc)?.selections.list(tenant(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
                }),
            )
            .description("SRC-14: the caller's saved selections and the shared ones, by name."),
        )
        .field(
            Field::new(
                "savedSelection",
                TypeRef::named("SavedSelection"),
                resolver!(|rc| {
                    let id: SelectionId = rc.args.try_get("id")?.string()?.parse().map_err(to_gql)?;
                    let found = records(&rc)?.selections.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(found)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
}

fn selection_fields() -> [InputValue; 5] {
    [
        InputValue::new("name", TypeRef::named(TypeRef::STRING)).description("Unique in the organisation."),
        InputValue::new("shared", TypeRef::named(TypeRef::BOOLEAN))
            .description("Shared with the organisation (default), or the caller's own (signed-in users)."),
        InputValue::new("filter", TypeRef::named("ClientFilter")).description("May not name a `selectionId`."),
        InputValue::new("orderBy", TypeRef::named("ClientOrder")),
        InputValue::new("clientIds", TypeRef::named_nn_list(TypeRef::ID))
            .description("The clients ticked in the list (at most 10,000); null clears them."),
    ]
}

fn selection_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<SelectionInput> {
    let filter = match input.get("filter").filter(|v| !v.is_null()) {
        Some(v) => Some(filter_of(&v.object()?)?),
        None => None,
    };
    let order = opt_enum::<ClientOrder>(input, "orderBy")?;
    let clients = match input.get("clientIds") {
        None => None,
        Some(v) if v.is_null() => Some(None),
        Some(_) => Some(opt_ids::<ClientId>(input, "clientIds")?),
    };
    Ok(SelectionInput { name: opt_str(input, "name")?, shared: opt_bool(input, "shared")?, filter, order, clients })
}

/// Selection inputs' fields not named as the camelCase of their domain field.
const SELECTION_INPUT: InputNames = InputNames::renaming(&[("filter.selection", "filter.selectionId")]);

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = || InputValue::new("id", TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createSavedSelection",
                "SavedSelectionPayload",
                resolver!(|rc| {
                    let selection = selection_input(&input(&rc)?)?;
                    SELECTION_INPUT.payload(records(&rc)?.selections.save(tenant(&rc)?, None, selection).await)
                }),
            )
            .inputs(selection_fields())
            .description("SRC-14: saves a filter, its order and optionally the ticked clients under a name."),
        )
        .field(
            Mutation::new(
                "updateSavedSelection",
                "SavedSelectionPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: SelectionId = input::id(&input, "id")?;
                    let selection = selection_input(&input)?;
                    SELECTION_INPUT.payload(records(&rc)?.selections.save(tenant(&rc)?, Some(id), selection).await)
                }),
            )
            .input(id())
            .inputs(selection_fields()),
        )
        .field(
            Mutation::new(
                "deleteSavedSelection",
                "DeletePayload",
                resolver!(|rc| {
                    let id: SelectionId = input::id(&input(&rc)?, "id")?;
                    let result = records(&rc)?.selections.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id()),
        )
}
