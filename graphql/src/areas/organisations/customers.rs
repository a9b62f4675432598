//! A supplier's customer organisations in the schema: master data, contact persons, licences.

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder,
    TypeRef,
};
use clientele_kernel::person::ContactDetails;
use clientele_kernel::{AppError, Language, TenantId};
use clientele_records::clients::fields::camel;
use clientele_tenants::OrganisationStatus;
use clientele_tenants::customers::{CustomerFilter, CustomerInput, CustomerOrg, NewCustomer, OrgContact, OrgText};
use clientele_tenants::licences::{Licence, LicenceInput, LicenceKind};
use clientele_tenants::org_categories::OrgCategory;
use strum::IntoEnumIterator;

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{id, opt_bool, opt_enum, opt_i64, opt_id, opt_str, patch_date, patch_str};
use crate::support::mutations::{Mutation, Mutations, id_in, input, input_id};
use crate::support::payload;
use crate::support::{
    Connection, connection_types, datetime, enum_type, enum_value, field, id_arg, list_payload_type, page_args,
    payload_type, services, tenant, to_gql, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn organisation_type() -> Object {
    let mut object = Object::new("CustomerOrganisation")
        .implement("Node")
        .description("A customer organisation of the calling supplier (ORG-01..ORG-23).")
        .field(field::<CustomerOrg, _>("id", TypeRef::named_nn(TypeRef::ID), |o| Value::String(o.row.id.to_string())))
        .field(field::<CustomerOrg, _>("number", TypeRef::named(TypeRef::INT), |o| {
            o.row.number.map_or(Value::Null, Value::from)
        }))
        .field(field::<CustomerOrg, _>("name", TypeRef::named_nn(TypeRef::STRING), |o| {
            Value::String(o.row.name.clone())
        }))
        .field(field::<CustomerOrg, _>("status", TypeRef::named_nn("OrganisationStatus"), |o| enum_value(o.status())))
        .field(field::<CustomerOrg, _>("language", TypeRef::named_nn("Language"), |o| enum_value(o.language())))
        .field(field::<CustomerOrg, _>("blocked", TypeRef::named_nn(TypeRef::BOOLEAN), |o| Value::from(o.row.blocked)))
        .field(field::<CustomerOrg, _>("validFrom", TypeRef::named("Date"), |o| {
            o.row.valid_from.map_or(Value::Null, |d| Value::String(d.to_string()))
        }))
        .field(field::<CustomerOrg, _>("directLoginAllowed", TypeRef::named_nn(TypeRef::BOOLEAN), |o| {
            Value::from(o.row.direct_login_allowed)
        }))
        .field(field::<CustomerOrg, _>("createdAt", TypeRef::named_nn("DateTime"), |o| datetime(o.row.created_at)));
    for text in OrgText::iter() {
        object = object.field(field::<CustomerOrg, _>(&text_name(text), TypeRef::named(TypeRef::STRING), move |o| {
            s(text.get(&o.row))
        }));
    }
    crate::areas::clients::files::organisation_fields(crate::areas::accounts::terms::organisation_fields(object))
        .field(Field::new("contacts", TypeRef::named_nn_list_nn("OrganisationContact"), |rc| {
            FieldFuture::new(async move {
                let org = rc.parent_value.try_downcast_ref::<CustomerOrg>()?.row.id;
                let list = services(&rc)?.customers.contacts(tenant(&rc)?, org).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            })
        }))
        .field(Field::new("categories", TypeRef::named_nn_list_nn("OrganisationCategory"), |rc| {
            FieldFuture::new(async move {
                let org = rc.parent_value.try_downcast_ref::<CustomerOrg>()?.row.id;
                let list = services(&rc)?.org_categories.of(tenant(&rc)?, org).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            })
        }))
        .field(Field::new("licences", TypeRef::named_nn_list_nn("Licence"), |rc| {
            FieldFuture::new(async move {
                let org = rc.parent_value.try_downcast_ref::<CustomerOrg>()?.row.id;
                let list = services(&rc)?.licences.list(tenant(&rc)?, org).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            })
        }))
}

/// The GraphQL name of a master-data text: `number_at_customer` → `numberAtCustomer`.
pub(crate) fn text_name(text: OrgText) -> String {
    camel(text.into())
}

fn contact_type() -> Object {
    let f = |name: &str, get: fn(&ContactDetails) -> Option<&str>| {
        field::<OrgContact, _>(name, TypeRef::named(TypeRef::STRING), move |c| s(get(&c.details)))
    };
    Object::new("OrganisationContact")
        .description("ORG-18: a contact person of a customer organisation.")
        .field(field::<OrgContact, _>("id", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.id.to_string())))
        .field(field::<OrgContact, _>("lastName", TypeRef::named_nn(TypeRef::STRING), |c| {
            Value::String(c.details.last_name.clone())
        }))
        .field(f("title", |c| c.title.as_deref()))
        .field(f("firstName", |c| c.first_name.as_deref()))
        .field(f("jobTitle", |c| c.job_title.as_deref()))
        .field(f("department", |c| c.department.as_deref()))
        .field(f("phone", |c| c.phone.as_deref()))
        .field(f("fax", |c| c.fax.as_deref()))
        .field(f("mobile", |c| c.mobile.as_deref()))
        .field(f("email", |c| c.email.as_deref()))
        .field(f("remark", |c| c.remark.as_deref()))
        .field(field::<OrgContact, _>("userId", TypeRef::named(TypeRef::ID), |c| {
            c.user.map_or(Value::Null, |u| Value::String(u.to_string()))
        }))
}

fn licence_type() -> Object {
    Object::new("Licence")
        .description("ORG-25: seats of a customer organisation; used and free are computed.")
        .field(field::<Licence, _>("id", TypeRef::named_nn(TypeRef::ID), |l| Value::String(l.id.to_string())))
        .field(field::<Licence, _>("title", TypeRef::named_nn(TypeRef::STRING), |l| Value::String(l.title.clone())))
        .field(field::<Licence, _>("description", TypeRef::named(TypeRef::STRING), |l| s(l.description.as_deref())))
        .field(field::<Licence, _>("kind", TypeRef::named_nn("LicenceKind"), |l| enum_value(l.kind)))
        .field(field::<Licence, _>("quantity", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.quantity)))
        .field(field::<Licence, _>("transmitted", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.transmitted)))
        .field(field::<Licence, _>("used", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.used)).description(
            "This licence's seats held by active users: they fill the customer-user licences oldest first.",
        ))
        .field(
            field::<Licence, _>("free", TypeRef::named_nn(TypeRef::INT), |l| Value::from(l.free()))
                .description("This licence's seats left: quantity − transmitted − used."),
        )
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let [connection, edge] = connection_types("CustomerOrganisation");
    builder
        .register(
            Object::new("OrganisationCategory")
                .description("CAT-08: a category of customer organisations.")
                .field(field::<OrgCategory, _>("id", TypeRef::named_nn(TypeRef::ID), |c| {
                    Value::String(c.id.to_string())
                }))
                .field(field::<OrgCategory, _>("title", TypeRef::named_nn(TypeRef::STRING), |c| {
                    Value::String(c.title.clone())
                }))
                .field(field::<OrgCategory, _>("description", TypeRef::named(TypeRef::STRING), |c| {
                    s(c.description.as_deref())
                })),
        )
        .register(payload_type("OrganisationCategoryPayload", "category", "OrganisationCategory"))
        .register(list_payload_type::<OrgCategory>(
            "SetOrganisationCategoriesPayload",
            "categories",
            "OrganisationCategory",
        ))
        .register(organisation_type())
        .register(contact_type())
        .register(licence_type())
        .register(enum_type::<LicenceKind>("LicenceKind"))
        .register(
            org_fields()
                .into_iter()
                .fold(InputObject::new("CustomerOrganisationInput"), InputObject::field)
                .description("Fields left out keep their value; null clears one."),
        )
        .register(contact_fields().into_iter().fold(InputObject::new("OrganisationContactInput"), InputObject::field))
        .register(payload_type("CustomerOrganisationPayload", "organisation", "CustomerOrganisation"))
        .register(payload_type("OrganisationContactPayload", "contact", "OrganisationContact"))
        .register(payload_type("LicencePayload", "licence", "Licence"))
        .register(connection)
        .register(edge)
}

fn customer_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<CustomerInput> {
    let mut texts = Vec::new();
    for text in OrgText::iter() {
        if let Some(value) = patch_str(input, &text_name(text))? {
            texts.push((text, value));
        }
    }
    Ok(CustomerInput {
        name: opt_str(input, "name")?,
        texts,
        status: opt_enum::<OrganisationStatus>(input, "status")?,
        language: opt_enum::<Language>(input, "language")?,
        blocked: opt_bool(input, "blocked")?,
        valid_from: patch_date(input, "validFrom")?,
        direct_login_allowed: opt_bool(input, "directLoginAllowed")?,
    })
}

fn contact_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<ContactDetails> {
    Ok(ContactDetails {
        title: opt_str(input, "title")?,
        first_name: opt_str(input, "firstName")?,
        last_name: opt_str(input, "lastName")?.unwrap_or_default(),
        job_title: opt_str(input, "jobTitle")?,
        department: opt_str(input, "department")?,
        phone: opt_str(input, "phone")?,
        fax: opt_str(input, "fax")?,
        mobile: opt_str(input, "mobile")?,
        email: opt_str(input, "email")?,
        remark: opt_str(input, "remark")?,
    })
}

fn licence_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<LicenceInput> {
    let int = |name: &str| -> async_graphql::Result<Option<i32>> {
        opt_i64(input, name)?
            .map(|n| i32::try_from(n).map_err(|_| to_gql(AppError::invalid(name, "Out of range."))))
            .transpose()
    };
    Ok(LicenceInput {
        title: opt_str(input, "title")?,
        description: patch_str(input, "description")?,
        kind: opt_enum::<LicenceKind>(input, "kind")?,
        quantity: int("quantity")?,
        transmitted: int("transmitted")?,
    })
}

fn org_arg(rc: &ResolverContext<'_>) -> async_graphql::Result<TenantId> {
    id_in(rc, "organisationId")
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(Field::new(
            "organisationCategories",
            TypeRef::named_nn_list_nn("OrganisationCategory"),
            resolver!(|rc| {
                let list = services(&rc)?.org_categories.list(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
            }),
        ))
        .field(
            with_page_args(Field::new(
                "customerOrganisations",
                TypeRef::named_nn("CustomerOrganisationConnection"),
                resolver!(|rc| {
                    let arg = |name: &str| rc.args.get(name).filter(|v| !v.is_null());
                    let filter = CustomerFilter {
                        query: arg("query").map(|v| v.string().map(str::to_owned)).transpose()?,
                        status: arg("status")
                            .map(|v| v.enum_name().map(crate::support::parse_enum::<OrganisationStatus>))
                            .transpose()?
                            .flatten(),
                        category: arg("categoryId")
                            .map(|v| v.string().and_then(|s| s.parse::<TenantId>().map(|t| t.0).map_err(to_gql)))
                            .transpose()?,
                        language: arg("language")
                            .map(|v| v.enum_name().map(crate::support::parse_enum::<Language>))
                            .transpose()?
                            .flatten(),
                        blocked: arg("blocked").map(|v| v.boolean()).transpose()?,
                    };
                    let page = services(&rc)?.customers.list(tenant(&rc)?, &filter, page_args(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(Connection::from_page(page, |o| o.row.id.0))))
                }),
            ))
            .description("SRC-16: the supplier's customers, searched over number, company, complement, street, country, postcode, city and remark.")
            .argument(InputValue::new("query", TypeRef::named(TypeRef::STRING)))
            .argument(InputValue::new("status", TypeRef::named("OrganisationStatus")))
            .argument(InputValue::new("categoryId", TypeRef::named(TypeRef::ID)).description("ORG-23: in this category."))
            .argument(InputValue::new("language", TypeRef::named("Language")))
            .argument(InputValue::new("blocked", TypeRef::named(TypeRef::BOOLEAN))),
        )
        .field(
            Field::new(
                "customerOrganisation",
                TypeRef::named("CustomerOrganisation"),
                resolver!(|rc| {
                    let id: TenantId = id_arg(&rc, "id")?;
                    let org = services(&rc)?.customers.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(org)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
}

/// The fields of `CustomerOrganisationInput` (inside `createCustomerOrganisation`'s input) and of
/// `updateCustomerOrganisation`'s.
fn org_fields() -> Vec<InputValue> {
    let mut fields = vec![
        InputValue::new("name", TypeRef::named(TypeRef::STRING)),
        InputValue::new("status", TypeRef::named("OrganisationStatus")),
        InputValue::new("language", TypeRef::named("Language")),
        InputValue::new("blocked", TypeRef::named(TypeRef::BOOLEAN)),
        InputValue::new("validFrom", TypeRef::named("Date")),
        InputValue::new("directLoginAllowed", TypeRef::named(TypeRef::BOOLEAN)).description(
            "On creation only: afterwards the consent is the customer's (`setDirectLoginAllowed`), and \
             `updateCustomerOrganisation` refuses this field with FORBIDDEN.",
        ),
    ];
    fields.extend(OrgText::iter().map(|text| InputValue::new(text_name(text), TypeRef::named(TypeRef::STRING))));
    fields
}

/// The fields of `OrganisationContactInput` (the contacts of a new organisation) and of
/// `addOrganisationContact`'s input.
fn contact_fields() -> Vec<InputValue> {
    ["title", "firstName", "lastName", "jobTitle", "department", "phone", "fax", "mobile", "email", "remark"]
        .into_iter()
        .map(|name| {
            let ty =
                if name == "lastName" { TypeRef::named_nn(TypeRef::STRING) } else { TypeRef::named(TypeRef::STRING) };
            InputValue::new(name, ty)
        })
        .collect()
}

/// The fields of the inputs that were `NewCustomerOrganisationInput`.
fn new_org_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("organisation", TypeRef::named_nn("CustomerOrganisationInput")),
        InputValue::new("contacts", TypeRef::named_nn_list("OrganisationContactInput"))
            .description("The first contact becomes the super-admin."),
        InputValue::new("seats", TypeRef::named(TypeRef::INT)).description("Seats of the first licence (default 1)."),
    ]
}

/// The fields of the inputs that were `LicenceInput`.
fn licence_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("title", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
        InputValue::new("kind", TypeRef::named("LicenceKind")),
        InputValue::new("quantity", TypeRef::named(TypeRef::INT)),
        InputValue::new("transmitted", TypeRef::named(TypeRef::INT)),
    ]
}

/// The fields of the inputs that were `OrganisationCategoryInput`.
fn org_category_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("title", TypeRef::named(TypeRef::STRING)),
        InputValue::new("description", TypeRef::named(TypeRef::STRING)),
    ]
}

#[allow(clippy::too_many_lines)] // one mutation after the other
fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    let org_id = || InputValue::new("organisationId", TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "saveOrganisationCategory",
                "OrganisationCategoryPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id = opt_id::<TenantId>(&input, "id")?.map(|id| id.0);
                    let (title, description) = (opt_str(&input, "title")?, patch_str(&input, "description")?);
                    payload(services(&rc)?.org_categories.save(tenant(&rc)?, id, title, description).await)
                }),
            )
            .description("Creates a category, or changes the category `id`.")
            .input(InputValue::new("id", TypeRef::named(TypeRef::ID)))
            .inputs(org_category_fields()),
        )
        .field(
            Mutation::new(
                "setOrganisationCategories",
                "SetOrganisationCategoriesPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let org: TenantId = id(&input, "organisationId")?;
                    let ids = input
                        .try_get("categoryIds")?
                        .list()?
                        .iter()
                        .map(|v| v.string().and_then(|s| s.parse::<TenantId>().map(|t| t.0).map_err(to_gql)))
                        .collect::<async_graphql::Result<Vec<_>>>()?;
                    payload(services(&rc)?.org_categories.set_for(tenant(&rc)?, org, &ids).await)
                }),
            )
            .input(org_id())
            .input(InputValue::new("categoryIds", TypeRef::named_nn_list_nn(TypeRef::ID))),
        )
        .field(
            Mutation::new(
                "createCustomerOrganisation",
                "CustomerOrganisationPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let contacts = match input.get("contacts").filter(|v| !v.is_null()) {
                        Some(list) => list
                            .list()?
                            .iter()
                            .map(|c| contact_input(&c.object()?))
                            .collect::<async_graphql::Result<Vec<_>>>()?,
                        None => Vec::new(),
                    };
                    let seats = opt_i64(&input, "seats")?.map(|s| i32::try_from(s).unwrap_or(-1));
                    let new = NewCustomer {
                        data: customer_input(&input.try_get("organisation")?.object()?)?,
                        contacts,
                        seats: seats.unwrap_or(NewCustomer::DEFAULT_SEATS),
                    };
                    payload(services(&rc)?.customers.create(tenant(&rc)?, new).await.map(|(org, _)| org))
                }),
            )
            .inputs(new_org_fields()),
        )
        .field(
            Mutation::new(
                "updateCustomerOrganisation",
                "CustomerOrganisationPayload",
                resolver!(|rc| {
                    let id: TenantId = input_id(&rc)?;
                    let update = customer_input(&input(&rc)?)?;
                    payload(services(&rc)?.customers.update(tenant(&rc)?, id, update).await)
                }),
            )
            .input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .inputs(org_fields()),
        )
        .field(
            Mutation::new(
                "addOrganisationContact",
                "OrganisationContactPayload",
                resolver!(|rc| {
                    let org = org_arg(&rc)?;
                    let input = contact_input(&input(&rc)?)?;
                    payload(services(&rc)?.customers.add_contact(tenant(&rc)?, org, input).await)
                }),
            )
            .input(org_id())
            .inputs(contact_fields()),
        )
        .field(
            Mutation::new(
                "createLicence",
                "LicencePayload",
                resolver!(|rc| {
                    let org = org_arg(&rc)?;
                    let input = licence_input(&input(&rc)?)?;
                    payload(services(&rc)?.licences.create(tenant(&rc)?, org, input).await)
                }),
            )
            .input(org_id())
            .inputs(licence_fields()),
        )
        .field(
            Mutation::new(
                "updateLicence",
                "LicencePayload",
                resolver!(|rc| {
                    let org = org_arg(&rc)?;
                    let id: TenantId = input_id(&rc)?;
                    let input = licence_input(&input(&rc)?)?;
                    payload(services(&rc)?.licences.update(tenant(&rc)?, org, id.0, input).await)
                }),
            )
            .input(org_id())
            .input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .inputs(licence_fields()),
        )
        .field(
            Mutation::new(
                "deleteLicence",
                "DeletePayload",
                resolver!(|rc| {
                    let org = org_arg(&rc)?;
                    let id: TenantId = input_id(&rc)?;
                    payload(services(&rc)?.licences.delete(tenant(&rc)?, org, id.0).await.map(|id| id.to_string()))
                }),
            )
            .description("Refused while the organisation's active users need its seats.")
            .input(org_id())
            .input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
}
