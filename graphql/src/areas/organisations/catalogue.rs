//! The supplier's catalogue in the schema (ORG-13..ORG-16): items, views, their assignment to
//! customer organisations, customer groups, and each customer's own catalogue at its prices.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::TenantId;
use clientele_tenants::catalogue::{
    AssignedView, CatalogueItem, CatalogueView, CustomerCatalogue, CustomerGroup, ItemInput, PricedItem, ViewInput,
};

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{self, opt_bool, opt_id, opt_str, patch_str};
use crate::support::mutations::{Mutation, Mutations, id_in, input};
use crate::support::payload;
use crate::support::{Payload, field, id_arg, outcome_payload_type, payload_type, services, tenant, to_gql};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn id(v: uuid::Uuid) -> Value {
    Value::String(v.to_string())
}

fn item_fields<T: std::any::Any + Send + Sync>(object: Object, get: fn(&T) -> &CatalogueItem) -> Object {
    object
        .field(field::<T, _>("id", TypeRef::named_nn(TypeRef::ID), move |x| id(get(x).id)))
        .field(field::<T, _>("sku", TypeRef::named_nn(TypeRef::STRING), move |x| Value::String(get(x).sku.clone())))
        .field(field::<T, _>("name", TypeRef::named_nn(TypeRef::STRING), move |x| Value::String(get(x).name.clone())))
        .field(field::<T, _>("description", TypeRef::named(TypeRef::STRING), move |x| s(get(x).description.as_deref())))
        .field(field::<T, _>("category", TypeRef::named(TypeRef::STRING), move |x| s(get(x).category.as_deref())))
        .field(field::<T, _>("unitPrice", TypeRef::named_nn("Decimal"), move |x| {
            Value::String(get(x).unit_price.to_decimal_string())
        }))
        .field(field::<T, _>("currency", TypeRef::named_nn(TypeRef::STRING), move |x| {
            Value::String(get(x).currency.clone())
        }))
        .field(field::<T, _>("active", TypeRef::named_nn(TypeRef::BOOLEAN), move |x| Value::from(get(x).active)))
}

fn view_fields<T: std::any::Any + Send + Sync>(object: Object, get: fn(&T) -> &CatalogueView) -> Object {
    object
        .field(field::<T, _>("id", TypeRef::named_nn(TypeRef::ID), move |x| id(get(x).id)))
        .field(field::<T, _>("name", TypeRef::named_nn(TypeRef::STRING), move |x| Value::String(get(x).name.clone())))
        .field(field::<T, _>("description", TypeRef::named(TypeRef::STRING), move |x| s(get(x).description.as_deref())))
        .field(field::<T, _>("categories", TypeRef::named_nn_list_nn(TypeRef::STRING), move |x| {
            Value::List(get(x).categories.iter().cloned().map(Value::String).collect())
        }))
        .field(field::<T, _>("itemIds", TypeRef::named_nn_list_nn(TypeRef::ID), move |x| {
            Value::List(get(x).items.iter().copied().map(id).collect())
        }))
        .field(field::<T, _>("supplierDefault", TypeRef::named_nn(TypeRef::BOOLEAN), move |x| {
            Value::from(get(x).supplier_default)
        }))
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder
        .register(outcome_payload_type("SetOrganisationCustomerGroupPayload"))
        .register(item_fields::<CatalogueItem>(
            Object::new("CatalogueItem").description("An item of the supplier's catalogue."),
            |i| i,
        ))
        .register(
            item_fields::<PricedItem>(
                Object::new("PricedCatalogueItem").description("An item at the price this organisation pays."),
                |p| &p.item,
            )
            .field(field::<PricedItem, _>("discount", TypeRef::named_nn("Decimal"), |p| {
                Value::String(clientele_kernel::Money(i64::from(p.discount_bp)).to_decimal_string())
            }))
            .field(field::<PricedItem, _>("effectivePrice", TypeRef::named_nn("Decimal"), |p| {
                Value::String(p.effective_price.to_decimal_string())
            })),
        )
        .register(view_fields::<CatalogueView>(
            Object::new("CatalogueView").description("ORG-13: a named selection of items by category and/or item."),
            |v| v,
        ))
        .register(view_fields::<AssignedView>(Object::new("AssignedCatalogueView"), |a| &a.view).field(field::<
            AssignedView,
            _,
        >(
            "isDefault",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            |a| Value::from(a.is_default),
        )))
        .register(
            Object::new("CustomerGroup")
                .description("ORG-15: a customer group and the discount its organisations get.")
                .field(field::<CustomerGroup, _>("id", TypeRef::named_nn(TypeRef::ID), |g| id(g.id)))
                .field(field::<CustomerGroup, _>("name", TypeRef::named_nn(TypeRef::STRING), |g| {
                    Value::String(g.name.clone())
                }))
                .field(field::<CustomerGroup, _>("discount", TypeRef::named_nn("Decimal"), |g| {
                    Value::String(clientele_kernel::Money(i64::from(g.discount_bp)).to_decimal_string())
                }))
                .field(field::<CustomerGroup, _>("sameAsSupplier", TypeRef::named_nn(TypeRef::BOOLEAN), |g| {
                    Value::from(g.same_as_supplier)
                })),
        )
        .register(
            Object::new("CustomerCatalogue")
                .description(
                    "What the caller's organisation sees: its views, or its supplier's default one, at its prices.",
                )
                .field(Field::new("views", TypeRef::named_nn_list_nn("AssignedCatalogueView"), |rc| {
                    FieldFuture::new(async move {
                        let c = rc.parent_value.try_downcast_ref::<CustomerCatalogue>()?;
                        Ok(Some(FieldValue::list(c.views.iter().map(|v| FieldValue::borrowed_any(v)))))
                    })
                }))
                .field(Field::new("items", TypeRef::named_nn_list_nn("PricedCatalogueItem"), |rc| {
                    FieldFuture::new(async move {
                        let c = rc.parent_value.try_downcast_ref::<CustomerCatalogue>()?;
                        Ok(Some(FieldValue::list(c.items.iter().map(|i| FieldValue::borrowed_any(i)))))
                    })
                })),
        )
        .register(payload_type("CatalogueItemPayload", "item", "CatalogueItem"))
        .register(payload_type("CatalogueViewPayload", "view", "CatalogueView"))
        .register(payload_type("CustomerGroupPayload", "group", "CustomerGroup"))
        .register(
            Object::new("AssignedViewsPayload")
                .field(Field::new("views", TypeRef::named_nn_list("AssignedCatalogueView"), |rc| {
                    FieldFuture::new(async move {
                        let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let views = p.node.as_deref().and_then(|n| n.downcast_ref::<Vec<AssignedView>>());
                        Ok(views.map(|v| FieldValue::list(v.iter().map(|a| FieldValue::borrowed_any(a)))))
                    })
                }))
                .field(crate::support::user_errors_field()),
        )
}

fn list<T: std::any::Any + Send + Sync>(items: Vec<T>) -> FieldValue<'static> {
    FieldValue::list(items.into_iter().map(FieldValue::owned_any))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(Field::new(
            "catalogueItems",
            TypeRef::named_nn_list_nn("CatalogueItem"),
            resolver!(|rc| Ok(Some(list(services(&rc)?.catalogue.items(tenant(&rc)?).await.map_err(to_gql)?)))),
        ))
        .field(Field::new(
            "catalogueViews",
            TypeRef::named_nn_list_nn("CatalogueView"),
            resolver!(|rc| Ok(Some(list(services(&rc)?.catalogue.views(tenant(&rc)?).await.map_err(to_gql)?)))),
        ))
        .field(Field::new(
            "customerGroups",
            TypeRef::named_nn_list_nn("CustomerGroup"),
            resolver!(|rc| Ok(Some(list(services(&rc)?.catalogue.groups(tenant(&rc)?).await.map_err(to_gql)?)))),
        ))
        .field(
            Field::new(
                "organisationCatalogueViews",
                TypeRef::named_nn_list_nn("AssignedCatalogueView"),
                resolver!(|rc| {
                    let org: TenantId = id_arg(&rc, "organisationId")?;
                    Ok(Some(list(services(&rc)?.catalogue.views_of(tenant(&rc)?, org).await.map_err(to_gql)?)))
                }),
            )
            .argument(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID))),
        )
        .field(Field::new(
            "myCatalogue",
            TypeRef::named_nn("CustomerCatalogue"),
            resolver!(|rc| {
                let catalogue = services(&rc)?.catalogue.my_catalogue(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(catalogue)))
            }),
        ))
}

fn opt_uuid(rc: &ResolverContext<'_>, name: &str) -> async_graphql::Result<Option<uuid::Uuid>> {
    Ok(opt_id::<TenantId>(&input(rc)?, name)?.map(|id| id.0))
}

fn item_input(rc: &ResolverContext<'_>) -> async_graphql::Result<ItemInput> {
    let i = input(rc)?;
    Ok(ItemInput {
        sku: opt_str(&i, "sku")?,
        name: opt_str(&i, "name")?,
        description: patch_str(&i, "description")?,
        category: patch_str(&i, "category")?,
        unit_price: opt_str(&i, "unitPrice")?,
        currency: opt_str(&i, "currency")?,
        active: opt_bool(&i, "active")?,
    })
}

fn view_input(rc: &ResolverContext<'_>) -> async_graphql::Result<ViewInput> {
    let i = input(rc)?;
    let strings = |name: &str| -> async_graphql::Result<Option<Vec<String>>> {
        match i.get(name).filter(|v| !v.is_null()) {
            Some(list) => {
                Ok(Some(list.list()?.iter().map(|v| v.string().map(str::to_owned)).collect::<Result<_, _>>()?))
            }
            None => Ok(None),
        }
    };
    let items = strings("itemIds")?
        .map(|ids| {
            ids.iter()
                .map(|s| s.parse::<TenantId>().map(|t| t.0).map_err(to_gql))
                .collect::<async_graphql::Result<Vec<_>>>()
        })
        .transpose()?;
    Ok(ViewInput {
        name: opt_str(&i, "name")?,
        description: patch_str(&i, "description")?,
        categories: strings("categories")?,
        items,
        supplier_default: opt_bool(&i, "supplierDefault")?,
    })
}

fn with(mutation: Mutation, args: &[(&str, TypeRef)]) -> Mutation {
    args.iter().fold(mutation, |m, (name, ty)| m.input(InputValue::new(*name, ty.clone())))
}

/// The fields of the inputs that were `CatalogueItemInput`.
fn item_input_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("sku", TypeRef::named(TypeRef::STRING)),
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
        InputValue::new("category", TypeRef::named(TypeRef::STRING)),
        InputValue::new("unitPrice", TypeRef::named("Decimal")),
        InputValue::new("currency", TypeRef::named(TypeRef::STRING)),
        InputValue::new("active", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

/// The fields of the inputs that were `CatalogueViewInput`.
fn view_input_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
        InputValue::new("categories", TypeRef::named_nn_list(TypeRef::STRING)),
        InputValue::new("itemIds", TypeRef::named_nn_list(TypeRef::ID)),
        InputValue::new("supplierDefault", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

/// The fields of the inputs that were `CustomerGroupInput`.
fn group_input_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("discount", TypeRef::named("Decimal")),
        InputValue::new("sameAsSupplier", TypeRef::named(TypeRef::BOOLEAN)),
    ]
}

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let id_opt = || ("id", TypeRef::named(TypeRef::ID));
    let org = || ("organisationId", TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            with(
                Mutation::new(
                    "saveCatalogueItem",
                    "CatalogueItemPayload",
                    resolver!(|rc| {
                        let id = opt_uuid(&rc, "id")?;
                        let input = item_input(&rc)?;
                        payload(services(&rc)?.catalogue.save_item(tenant(&rc)?, id, input).await)
                    }),
                )
                .description("Creates an item, or changes the item `id`."),
                &[id_opt()],
            )
            .inputs(item_input_fields()),
        )
        .field(
            with(
                Mutation::new(
                    "saveCatalogueView",
                    "CatalogueViewPayload",
                    resolver!(|rc| {
                        let id = opt_uuid(&rc, "id")?;
                        let input = view_input(&rc)?;
                        payload(services(&rc)?.catalogue.save_view(tenant(&rc)?, id, input).await)
                    }),
                ),
                &[id_opt()],
            )
            .inputs(view_input_fields()),
        )
        .field(
            with(
                Mutation::new(
                    "saveCustomerGroup",
                    "CustomerGroupPayload",
                    resolver!(|rc| {
                        let id = opt_uuid(&rc, "id")?;
                        let i = input(&rc)?;
                        let (name, discount, same) =
                            (opt_str(&i, "name")?, opt_str(&i, "discount")?, opt_bool(&i, "sameAsSupplier")?);
                        payload(services(&rc)?.catalogue.save_group(tenant(&rc)?, id, name, discount, same).await)
                    }),
                ),
                &[id_opt()],
            )
            .inputs(group_input_fields()),
        )
        .field(
            Mutation::new(
                "setOrganisationCustomerGroup",
                "SetOrganisationCustomerGroupPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let org: TenantId = input::id(&input, "organisationId")?;
                    let group = opt_id::<TenantId>(&input, "groupId")?.map(|g| g.0);
                    payload(services(&rc)?.catalogue.set_customer_group(tenant(&rc)?, org, group).await)
                }),
            )
            .input(InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("groupId", TypeRef::named(TypeRef::ID)).description("Null: no group.")),
        )
        .field(with(
            Mutation::new(
                "assignCatalogueView",
                "AssignedViewsPayload",
                resolver!(|rc| {
                    let org: TenantId = id_in(&rc, "organisationId")?;
                    let view: TenantId = id_in(&rc, "viewId")?;
                    let default = opt_bool(&input(&rc)?, "default")?.unwrap_or(false);
                    payload(services(&rc)?.catalogue.assign_view(tenant(&rc)?, org, view.0, default).await)
                }),
            )
            .description("ORG-13: gives a view to a customer; exactly one of its views is the default."),
            &[org(), ("viewId", TypeRef::named_nn(TypeRef::ID)), ("default", TypeRef::named(TypeRef::BOOLEAN))],
        ))
        .field(with(
            Mutation::new(
                "unassignCatalogueView",
                "AssignedViewsPayload",
                resolver!(|rc| {
                    let org: TenantId = id_in(&rc, "organisationId")?;
                    let view: TenantId = id_in(&rc, "viewId")?;
                    payload(services(&rc)?.catalogue.unassign_view(tenant(&rc)?, org, view.0).await)
                }),
            ),
            &[org(), ("viewId", TypeRef::named_nn(TypeRef::ID))],
        ))
}
