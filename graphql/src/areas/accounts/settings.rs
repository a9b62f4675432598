//! Organisation settings in the schema: client categories, groups and custom-field definitions.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputValue, Object, ObjectAccessor, SchemaBuilder, TypeRef};
use clientele_kernel::FieldType;
use clientele_kernel::Money;
use clientele_kernel::{AppError, CategoryId, ClientId, CustomFieldId, GroupId, LookupId};
use clientele_records::clients::{
    CUSTOM_FIELD_TYPES, Category, CategoryInput, CustomEntity, CustomFieldDef, CustomFieldInput, Group,
};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::field_types;
use crate::support::input::{self, opt_bool, opt_enum, opt_i64, opt_str, patch_id, patch_str};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::payload;
use crate::support::{Payload, enum_type, enum_value, field, payload_type, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn deleted(result: Result<String, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    payload(result)
}

#[allow(clippy::too_many_lines)] // one type after the other
fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let s = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    builder
        .register(enum_type::<CustomEntity>("CustomFieldEntity"))
        .register(field_types::type_enum("CustomFieldKind", CUSTOM_FIELD_TYPES))
        .register(
            Object::new("Category")
                .description("CAT-01: a client category (individual vs pro, VIP…).")
                .field(field::<Category, _>("id", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.id.to_string())))
                .field(field::<Category, _>("name", TypeRef::named_nn(TypeRef::STRING), |c| {
                    Value::String(c.name.clone())
                }))
                .field(field::<Category, _>("description", TypeRef::named(TypeRef::STRING), move |c| {
                    s(c.description.as_deref())
                }))
                .field(field::<Category, _>("defaultDiscount", TypeRef::named("Decimal"), |c| {
                    c.default_discount_bp
                        .map_or(Value::Null, |bp| Value::String(Money(i64::from(bp)).to_decimal_string()))
                }))
                .field(field::<Category, _>("tariffId", TypeRef::named(TypeRef::ID), |c| {
                    c.tariff.map_or(Value::Null, |t| Value::String(t.to_string()))
                }))
                .field(field::<Category, _>("holdForbidden", TypeRef::named_nn(TypeRef::BOOLEAN), |c| {
                    Value::from(c.hold_forbidden)
                })),
        )
        .register(
            Object::new("Group")
                .description("CAT-06: a client group.")
                .field(field::<Group, _>("id", TypeRef::named_nn(TypeRef::ID), |g| Value::String(g.id.to_string())))
                .field(field::<Group, _>("name", TypeRef::named_nn(TypeRef::STRING), |g| Value::String(g.name.clone())))
                .field(field::<Group, _>("description", TypeRef::named(TypeRef::STRING), move |g| {
                    s(g.description.as_deref())
                })),
        )
        .register(
            Object::new("CustomField")
                .description("CF-02: a custom field definition; active ones appear as typed fields in the schema.")
                .field(field::<CustomFieldDef, _>("id", TypeRef::named_nn(TypeRef::ID), |d| {
                    Value::String(d.id.to_string())
                }))
                .field(field::<CustomFieldDef, _>("entity", TypeRef::named_nn("CustomFieldEntity"), |d| {
                    enum_value(d.entity)
                }))
                .field(field::<CustomFieldDef, _>("key", TypeRef::named_nn(TypeRef::STRING), |d| {
                    Value::String(d.key.clone())
                }))
                .field(field::<CustomFieldDef, _>("label", TypeRef::named_nn(TypeRef::STRING), |d| {
                    Value::String(d.label.clone())
                }))
                .field(field::<CustomFieldDef, _>("kind", TypeRef::named_nn("CustomFieldKind"), |d| enum_value(d.kind)))
                .field(field::<CustomFieldDef, _>("choices", TypeRef::named_nn_list_nn(TypeRef::STRING), |d| {
                    Value::List(d.choices.iter().cloned().map(Value::String).collect())
                }))
                .field(field::<CustomFieldDef, _>("position", TypeRef::named_nn(TypeRef::INT), |d| {
                    Value::from(d.position)
                }))
                .field(field::<CustomFieldDef, _>("required", TypeRef::named_nn(TypeRef::BOOLEAN), |d| {
                    Value::from(d.required)
                }))
                .field(field::<CustomFieldDef, _>("searchable", TypeRef::named_nn(TypeRef::BOOLEAN), |d| {
                    Value::from(d.searchable)
                }))
                .field(field::<CustomFieldDef, _>("active", TypeRef::named_nn(TypeRef::BOOLEAN), |d| {
                    Value::from(d.active)
                })),
        )
        .register(payload_type("CategoryPayload", "category", "Category"))
        .register(payload_type("GroupPayload", "group", "Group"))
        .register(payload_type("CustomFieldPayload", "customField", "CustomField"))
        .register(
            Object::new("AssignGroupPayload")
                .field(field::<Payload, _>("count", TypeRef::named(TypeRef::INT), |p| {
                    p.node.as_deref().and_then(|n| n.downcast_ref::<u64>()).map_or(Value::Null, |n| Value::from(*n))
                }))
                .field(crate::support::user_errors_field()),
        )
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(Field::new(
            "categories",
            TypeRef::named_nn_list_nn("Category"),
            resolver!(|rc| {
                let list = records(&rc)?.categories.categories(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            }),
        ))
        .field(Field::new(
            "groups",
            TypeRef::named_nn_list_nn("Group"),
            resolver!(|rc| {
                let list = records(&rc)?.categories.groups(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            }),
        ))
        .field(Field::new(
            "customFields",
            TypeRef::named_nn_list_nn("CustomField"),
            resolver!(|rc| {
                let list = records(&rc)?.custom_fields.list(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            }),
        ))
}

fn category_fields() -> [InputValue; 5] {
    [
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
        InputValue::new("defaultDiscount", TypeRef::named("Decimal")),
        InputValue::new("tariffId", TypeRef::named(TypeRef::ID)),
        InputValue::new("holdForbidden", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

fn group_fields() -> [InputValue; 2] {
    [
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
    ]
}

fn custom_field_fields() -> [InputValue; 9] {
    [
        InputValue::new("entity", TypeRef::named("CustomFieldEntity")).description("Set at creation, never changed."),
        InputValue::new("key", TypeRef::named(TypeRef::STRING)).description("Set at creation, never changed."),
        InputValue::new("label", TypeRef::named(TypeRef::STRING)),
        InputValue::new("kind", TypeRef::named("CustomFieldKind")).description("Set at creation, never changed."),
        InputValue::new("choices", TypeRef::named_nn_list(TypeRef::STRING)),
        InputValue::new("position", TypeRef::named(TypeRef::INT)),
        InputValue::new("required", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("searchable", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("active", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

fn category_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<CategoryInput> {
    Ok(CategoryInput {
        name: opt_str(input, "name")?,
        description: patch_str(input, "description")?,
        default_discount: patch_str(input, "defaultDiscount")?,
        tariff: patch_id::<LookupId>(input, "tariffId")?,
        hold_forbidden: opt_bool(input, "holdForbidden")?,
    })
}

fn custom_field_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<CustomFieldInput> {
    let choices = match input.get("choices").filter(|v| !v.is_null()) {
        Some(list) => Some(list.list()?.iter().map(|v| v.string().map(str::to_owned)).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    Ok(CustomFieldInput {
        entity: opt_enum::<CustomEntity>(input, "entity")?,
        key: opt_str(input, "key")?,
        label: opt_str(input, "label")?,
        kind: opt_enum::<FieldType>(input, "kind")?,
        choices,
        position: opt_i64(input, "position")?.map(|p| i32::try_from(p.clamp(-10_000, 10_000)).unwrap_or(0)),
        required: opt_bool(input, "required")?,
        searchable: opt_bool(input, "searchable")?,
        active: opt_bool(input, "active")?,
    })
}

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id = || InputValue::new("id", TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createCategory",
                "CategoryPayload",
                resolver!(|rc| {
                    let category = category_input(&input(&rc)?)?;
                    payload(records(&rc)?.categories.save_category(tenant(&rc)?, None, category).await)
                }),
            )
            .inputs(category_fields()),
        )
        .field(
            Mutation::new(
                "updateCategory",
                "CategoryPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: CategoryId = input::id(&input, "id")?;
                    let category = category_input(&input)?;
                    payload(records(&rc)?.categories.save_category(tenant(&rc)?, Some(id), category).await)
                }),
            )
            .input(id())
            .inputs(category_fields()),
        )
        .field(
            Mutation::new(
                "deleteCategory",
                "DeletePayload",
                resolver!(|rc| {
                    let id: CategoryId = input::id(&input(&rc)?, "id")?;
                    deleted(records(&rc)?.categories.delete_category(tenant(&rc)?, id).await.map(|id| id.to_string()))
                }),
            )
            .input(id()),
        )
        .field(
            Mutation::new(
                "createGroup",
                "GroupPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let (name, description) = (opt_str(&input, "name")?, patch_str(&input, "description")?);
                    payload(records(&rc)?.categories.save_group(tenant(&rc)?, None, name, description).await)
                }),
            )
            .inputs(group_fields()),
        )
        .field(
            Mutation::new(
                "updateGroup",
                "GroupPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: GroupId = input::id(&input, "id")?;
                    let (name, description) = (opt_str(&input, "name")?, patch_str(&input, "description")?);
                    payload(records(&rc)?.categories.save_group(tenant(&rc)?, Some(id), name, description).await)
                }),
            )
            .input(id())
            .inputs(group_fields()),
        )
        .field(
            Mutation::new(
                "deleteGroup",
                "DeletePayload",
                resolver!(|rc| {
                    let id: GroupId = input::id(&input(&rc)?, "id")?;
                    deleted(records(&rc)?.categories.delete_group(tenant(&rc)?, id).await.map(|id| id.to_string()))
                }),
            )
            .input(id()),
        )
        .field(
            Mutation::new(
                "assignClientsToGroup",
                "AssignGroupPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let group: Option<GroupId> = input::opt_id(&input, "groupId")?;
                    let ids = input::ids::<ClientId>(&input, "clientIds")?;
                    payload(records(&rc)?.categories.assign_group(tenant(&rc)?, group, &ids).await)
                }),
            )
            .description("CAT-07: puts several clients in a group at once (no groupId: out of any group).")
            .input(InputValue::new("groupId", TypeRef::named(TypeRef::ID)))
            .input(InputValue::new("clientIds", TypeRef::named_nn_list_nn(TypeRef::ID))),
        )
        .field(
            Mutation::new(
                "createCustomField",
                "CustomFieldPayload",
                resolver!(|rc| {
                    let field = custom_field_input(&input(&rc)?)?;
                    payload(records(&rc)?.custom_fields.create(tenant(&rc)?, field).await)
                }),
            )
            .inputs(custom_field_fields()),
        )
        .field(
            Mutation::new(
                "updateCustomField",
                "CustomFieldPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: CustomFieldId = input::id(&input, "id")?;
                    let field = custom_field_input(&input)?;
                    payload(records(&rc)?.custom_fields.update(tenant(&rc)?, id, field).await)
                }),
            )
            .input(id())
            .inputs(custom_field_fields()),
        )
}
