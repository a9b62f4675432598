//! Contacts in the schema (CON-02, CON-03), `Client.contacts`, and the contacts listing across
//! clients (CON-05).

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder,
    TypeRef,
};
use clientele_kernel::person::ContactPatch;
use clientele_kernel::{AddressId, ClientId, ContactId};
use clientele_records::clients::{Client, Contact, ContactFilter, ContactInput};

use crate::areas::clients::client::{ClientById, records, register_custom_fields};
use crate::areas::contacts::addresses::load_address;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{self, json_object, opt_bool, opt_id, opt_str, patch_id, patch_str};
use crate::support::loaders::{LoadCtx, Many, One, load_error, many, relation};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::payload;
use crate::support::{
    Connection, InputNames, connection_types, datetime, field, id_arg, payload_type, raw_page_args, tenant, to_gql,
    with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Contacts of each client: one statement per page of clients.
    ContactsOfClient: ClientId => Contact,
    |cx, keys| cx.records.contacts.by_clients(&cx.ctx, keys).await,
    |row| Some(row.client)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(many::<ContactsOfClient>(cx))
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn contact_type(shape: &SchemaShape) -> Object {
    let f = |name: &str, get: fn(&Contact) -> Option<&str>| {
        field::<Contact, _>(name, TypeRef::named(TypeRef::STRING), move |c| s(get(c)))
    };
    let mut object = Object::new("Contact")
        .implement("Node")
        .description("CON-03: a person to reach at a client, optionally at one of its sites.")
        .field(field::<Contact, _>("id", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.id.to_string())))
        .field(field::<Contact, _>("clientId", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.client.to_string())))
        .field(Field::new("client", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Contact>()?.client;
                let loaded =
                    rc.data::<DataLoader<One<ClientById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(field::<Contact, _>("siteId", TypeRef::named(TypeRef::ID), |c| {
            c.site.map_or(Value::Null, |a| Value::String(a.to_string()))
        }))
        .field(
            Field::new("site", TypeRef::named("Address"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Contact>()?.site;
                    load_address(&rc, id).await
                })
            })
            .description("CON-02: the address this contact belongs to."),
        )
        .field(f("title", |c| c.details.title.as_deref()))
        .field(f("firstName", |c| c.details.first_name.as_deref()))
        .field(field::<Contact, _>("lastName", TypeRef::named_nn(TypeRef::STRING), |c| {
            Value::String(c.details.last_name.clone())
        }))
        .field(f("jobTitle", |c| c.details.job_title.as_deref()))
        .field(f("department", |c| c.details.department.as_deref()))
        .field(f("phone", |c| c.details.phone.as_deref()))
        .field(f("fax", |c| c.details.fax.as_deref()))
        .field(f("mobile", |c| c.details.mobile.as_deref()))
        .field(f("email", |c| c.details.email.as_deref()))
        .field(f("remark", |c| c.details.remark.as_deref()))
        .field(field::<Contact, _>("createdAt", TypeRef::named_nn("DateTime"), |c| datetime(c.created_at)))
        .field(field::<Contact, _>("updatedAt", TypeRef::named_nn("DateTime"), |c| datetime(c.updated_at)));
    if !shape.contact_fields.is_empty() {
        object = object.field(Field::new("customFields", TypeRef::named_nn("ContactCustomFields"), |rc| {
            FieldFuture::new(async move {
                let contact = rc.parent_value.try_downcast_ref::<Contact>()?;
                Ok(Some(FieldValue::borrowed_any(&contact.custom_fields)))
            })
        }));
    }
    object
}

/// The fields of a contact's input: lastName is required on creation; null clears a field.
fn contact_fields(shape: &SchemaShape) -> Vec<InputValue> {
    let text = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::STRING));
    let mut fields = vec![
        InputValue::new("siteId", TypeRef::named(TypeRef::ID)).description("An address of the same client."),
        text("title"),
        text("firstName"),
        text("lastName").description("Required on creation."),
        text("jobTitle"),
        text("department"),
        text("phone"),
        text("fax"),
        text("mobile"),
        text("email"),
        text("remark"),
    ];
    if !shape.contact_fields.is_empty() {
        fields.push(InputValue::new("customFields", TypeRef::named("ContactCustomFieldsInput")));
    }
    fields
}

fn register(builder: SchemaBuilder, shape: &SchemaShape) -> SchemaBuilder {
    let text = |name: &str| InputValue::new(name, TypeRef::named(TypeRef::STRING));
    let [connection, edge] = connection_types("Contact");
    let builder = builder
        .register(contact_type(shape))
        .register(
            InputObject::new("ContactFilter")
                .description("CON-05: contacts of trashed clients never appear.")
                .field(text("namePrefix").description("Prefix of the last or first name."))
                .field(InputValue::new("clientId", TypeRef::named(TypeRef::ID)))
                .field(InputValue::new("hasEmail", TypeRef::named(TypeRef::BOOLEAN))),
        )
        .register(payload_type("ContactPayload", "contact", "Contact"))
        .register(connection)
        .register(edge);
    register_custom_fields(builder, "Contact", &shape.contact_fields)
}

fn parse_filter(rc: &ResolverContext<'_>) -> async_graphql::Result<ContactFilter> {
    let Some(input) = rc.args.get("filter").filter(|v| !v.is_null()) else { return Ok(ContactFilter::default()) };
    let input = input.object()?;
    Ok(ContactFilter {
        name_prefix: opt_str(&input, "namePrefix")?,
        client: opt_id::<ClientId>(&input, "clientId")?,
        has_email: opt_bool(&input, "hasEmail")?,
    })
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            with_page_args(Field::new(
                "contacts",
                TypeRef::named_nn("ContactConnection"),
                resolver!(|rc| {
                    let filter = parse_filter(&rc)?;
                    let contacts = &records(&rc)?.contacts;
                    let with_total = rc.look_ahead().field("totalCount").exists();
                    let (page, cursors) =
                        contacts.list(tenant(&rc)?, &filter, raw_page_args(&rc)?, with_total).await.map_err(to_gql)?;
                    let connection = Connection::with_cursors(page, cursors);
                    Ok(Some(FieldValue::owned_any(connection)))
                }),
            ))
            .argument(InputValue::new("filter", TypeRef::named("ContactFilter")))
            .description("CON-05: contacts across clients by last name («Listing Contacts»)."),
        )
        .field(
            Field::new(
                "contact",
                TypeRef::named("Contact"),
                resolver!(|rc| {
                    let id: ContactId = id_arg(&rc, "id")?;
                    let contact = records(&rc)?.contacts.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(contact)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
}

fn contact_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<ContactInput> {
    Ok(ContactInput {
        site: patch_id::<AddressId>(input, "siteId")?,
        details: ContactPatch {
            title: patch_str(input, "title")?,
            first_name: patch_str(input, "firstName")?,
            last_name: opt_str(input, "lastName")?,
            job_title: patch_str(input, "jobTitle")?,
            department: patch_str(input, "department")?,
            phone: patch_str(input, "phone")?,
            fax: patch_str(input, "fax")?,
            mobile: patch_str(input, "mobile")?,
            email: patch_str(input, "email")?,
            remark: patch_str(input, "remark")?,
        },
        custom_fields: json_object(input, "customFields")?,
    })
}

/// `ContactInput` fields not named as the camelCase of their domain field.
const CONTACT_INPUT: InputNames = InputNames::renaming(&[("site", "siteId")]);

fn mutation(mutation: Mutations, shape: &SchemaShape) -> Mutations {
    let id = |name: &str| InputValue::new(name, TypeRef::named_nn(TypeRef::ID));
    mutation
        .field(
            Mutation::new(
                "createContact",
                "ContactPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = input::id(&input, "clientId")?;
                    let contact = contact_input(&input)?;
                    CONTACT_INPUT.payload(records(&rc)?.contacts.create(tenant(&rc)?, client, contact).await)
                }),
            )
            .input(id("clientId"))
            .inputs(contact_fields(shape)),
        )
        .field(
            Mutation::new(
                "updateContact",
                "ContactPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ContactId = input::id(&input, "id")?;
                    let contact = contact_input(&input)?;
                    CONTACT_INPUT.payload(records(&rc)?.contacts.update(tenant(&rc)?, id, contact).await)
                }),
            )
            .input(id("id"))
            .inputs(contact_fields(shape)),
        )
        .field(
            Mutation::new(
                "deleteContact",
                "DeletePayload",
                resolver!(|rc| {
                    let id: ContactId = input::id(&input(&rc)?, "id")?;
                    let result = records(&rc)?.contacts.delete(tenant(&rc)?, id).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id("id")),
        )
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client.field(
        Field::new("contacts", TypeRef::named_nn_list_nn("Contact"), |rc| {
            FieldFuture::new(async move {
                let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                let loaded =
                    rc.data::<DataLoader<Many<ContactsOfClient>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("CON-02: the client's contacts by last name."),
    )
}
