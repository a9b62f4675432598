//! Organisation settings in the schema: client categories, groups and custom-field definitions.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputObject, InputValue, Object, SchemaBuilder, TypeRef};
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
use crate::support::input::{opt_bool, opt_enum, opt_i64, opt_str, patch_id, patch_str};
use crate::support::mutations::Mutations;
use crate::support::payload;
use crate::support::{Payload, enum_type, enum_value, field, id_arg, payload_type, tenant, to_gql};

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
        .register(
            InputObject::new("CategoryInput")
                .field(InputValue::new("name", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("description", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("defaultDiscount", TypeRef::named("Decimal")))
                .field(InputValue::new("tariffId", TypeRef::named(TypeRef::ID)))
                .field(InputValue::new("holdForbidden", TypeRef::named(TypeRef::BOOLEAN))),
        )
        .register(
            InputObject::new("GroupInput")
                .field(InputValue::new("name", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("description", TypeRef::named(TypeRef::STRING))),
        )
        .register(
            InputObject::new("CustomFieldInput")
                .description("entity, key and kind are set at creation and never change.")
                .field(InputValue::new("entity", TypeRef::named("CustomFieldEntity")))
                .field(InputValue::new("key", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("label", TypeRef::named(TypeRef::STRING)))
                .field(InputValue::new("kind", TypeRef::named("CustomFieldKind")))
                .field(InputValue::new("choices", TypeRef::named_nn_list(TypeRef::STRING)))
                .field(InputValue::new("position", TypeRef::named(TypeRef::INT)))
                .field(InputValue::new("required", TypeRef::named(TypeRef::BOOLEAN)))
                .field(InputValue::new("searchable", TypeRef::named(TypeRef::BOOLEAN)))
                .field(InputValue::new("active", TypeRef::named(TypeRef::BOOLEAN))),
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

fn category_input(rc: &async_graphql::dynamic::ResolverContext<'_>) -> async_graphql::Result<CategoryInput> {
    let input = rc.args.try_get("input")?.object()?;
    Ok(CategoryInput {
        name: opt_str(&input, "name")?,
        description: patch_str(&input, "description")?,
        default_discount: patch_str(&input, "defaultDiscount")?,
        tariff: patch_id::<LookupId>(&input, "tariffId")?,
        hold_forbidden: opt_bool(&input, "holdForbidden")?,
    })
}

fn custom_field_input(rc: &async_graphql::dynamic::ResolverContext<'_>) -> async_graphql::Result<CustomFieldInput> {
    let input = rc.args.try_get("input")?.object()?;
    let choices = match input.get("choices").filter(|v| !v.is_null()) {
        Some(list) => Some(list.list()?.iter().map(|v| v.string().map(str::to_owned)).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    Ok(CustomFieldInput {
        entity: opt_enum::<CustomEntity>(&input, "entity")?,
        key: opt_str(&input, "key")?,
        label: opt_str(&input, "label")?,
        kind: opt_enum::<FieldType>(&input, "kind")?,
        choices,
        position: opt_i64(&input, "position")?.map(|p| i32::try_from(p.clamp(-10_000, 10_000)).unwrap_or(0)),
        required: opt_bool(&input, "required")?,
        searchable: opt_bool(&input, "searchable")?,
        active: opt_bool(&input, "active")?,
    })
}

fn input_arg(field: Field, ty: &str) -> Field {
    field.argument(InputValue::new("input", TypeRef::named_nn(ty)))
}

fn id_arg_field(field: Field) -> Field {
    field.argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
}

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(input_arg(
            Field::new(
                "createCategory",
                TypeRef::named_nn("CategoryPayload"),
                resolver!(|rc| {
                    let input = category_input(&rc)?;
                    payload(records(&rc)?.categories.save_category(tenant(&rc)?, None, input).await)
                }),
            ),
            "CategoryInput",
        ))
        .field(id_arg_field(input_arg(
            Field::new(
                "updateCategory",
                TypeRef::named_nn("CategoryPayload"),
                resolver!(|rc| {
                    let id: CategoryId = id_arg(&rc, "id")?;
                    let input = category_input(&rc)?;
                    payload(records(&rc)?.categories.save_category(tenant(&rc)?, Some(id), input).await)
                }),
            ),
            "CategoryInput",
        )))
        .field(id_arg_field(Field::new(
            "deleteCategory",
            TypeRef::named_nn("DeletePayload"),
            resolver!(|rc| {
                let id: CategoryId = id_arg(&rc, "id")?;
                deleted(records(&rc)?.categories.delete_category(tenant(&rc)?, id).await.map(|id| id.to_string()))
            }),
        )))
        .field(input_arg(
            Field::new(
                "createGroup",
                TypeRef::named_nn("GroupPayload"),
                resolver!(|rc| {
                    let input = rc.args.try_get("input")?.object()?;
                    let (name, description) = (opt_str(&input, "name")?, patch_str(&input, "description")?);
                    payload(records(&rc)?.categories.save_group(tenant(&rc)?, None, name, description).await)
                }),
            ),
            "GroupInput",
        ))
        .field(id_arg_field(input_arg(
            Field::new(
                "updateGroup",
                TypeRef::named_nn("GroupPayload"),
                resolver!(|rc| {
                    let id: GroupId = id_arg(&rc, "id")?;
                    let input = rc.args.try_get("input")?.object()?;
                    let (name, description) = (opt_str(&input, "name")?, patch_str(&input, "description")?);
                    payload(records(&rc)?.categories.save_group(tenant(&rc)?, Some(id), name, description).await)
                }),
            ),
            "GroupInput",
        )))
        .field(id_arg_field(Field::new(
            "deleteGroup",
            TypeRef::named_nn("DeletePayload"),
            resolver!(|rc| {
                let id: GroupId = id_arg(&rc, "id")?;
                deleted(records(&rc)?.categories.delete_group(tenant(&rc)?, id).await.map(|id| id.to_string()))
            }),
        )))
        .field(
            Field::new(
                "assignClientsToGroup",
                TypeRef::named_nn("AssignGroupPayload"),
                resolver!(|rc| {
                    let group = match rc.args.get("groupId").filter(|v| !v.is_null()) {
                        Some(v) => Some(v.string()?.parse::<GroupId>().map_err(to_gql)?),
                        None => None,
                    };
                    let ids = rc
                        .args
                        .try_get("clientIds")?
                        .list()?
                        .iter()
                        .map(|v| v.string().and_then(|s| s.parse::<ClientId>().map_err(to_gql)))
                        .collect::<async_graphql::Result<Vec<_>>>()?;
                    payload(records(&rc)?.categories.assign_group(tenant(&rc)?, group, &ids).await)
                }),
            )
            .description("CAT-07: puts several clients in a group at once (no groupId: out of any group).")
            .argument(InputValue::new("groupId", TypeRef::named(TypeRef::ID)))
            .argument(InputValue::new("clientIds", TypeRef::named_nn_list_nn(TypeRef::ID))),
        )
        .field(input_arg(
            Field::new(
                "createCustomField",
                TypeRef::named_nn("CustomFieldPayload"),
                resolver!(|rc| {
                    let input = custom_field_input(&rc)?;
                    payload(records(&rc)?.custom_fields.create(tenant(&rc)?, input).await)
                }),
            ),
            "CustomFieldInput",
        ))
        .field(id_arg_field(input_arg(
            Field::new(
                "updateCustomField",
                TypeRef::named_nn("CustomFieldPayload"),
                resolver!(|rc| {
                    let id: CustomFieldId = id_arg(&rc, "id")?;
                    let input = custom_field_input(&rc)?;
                    payload(records(&rc)?.custom_fields.update(tenant(&rc)?, id, input).await)
                }),
            ),
            "CustomFieldInput",
        )))
}
