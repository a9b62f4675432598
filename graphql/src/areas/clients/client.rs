//! Clients in the schema: the `Client` type with its tenant's custom fields as typed fields,
//! the list with filters and keyset pages, and the record mutations.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ObjectAccessor, ResolverContext,
    Scalar, SchemaBuilder, TypeRef,
};
use async_graphql::{Name, Value};
use clientele_kernel::Money;
use clientele_kernel::{AppError, CategoryId, ClientId, ErrorCode, GroupId, SelectionId};
use clientele_records::clients::fields::{self, FIELDS, FieldSpec, FieldValue as TableValue, Kind};
use clientele_records::clients::{
    AccountKind, Category, Civility, Client, ClientFilter, ClientInput, ClientKind, ClientOrder, ClientStatus,
    ConsentChannel, ConsentStatus, CustomCondition, CustomFieldDef, Group, Neighbours, NewClient, Phone,
    RecordServices, TrashFilter, WebClient,
};
use serde_json::Value as Json;

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::field_types;
use crate::support::input::{
    self, json_object, opt_bool, opt_enum, opt_enum_name, opt_i64, opt_id, opt_str, patch_str,
};
use crate::support::loaders::{LoadCtx, Many, One, load_error, many, one, relation};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{
    Connection, Payload, connection_types, datetime, enum_type, enum_value, field, id_arg, opt_datetime,
    parse_datetime, payload_type, raw_page_args, tenant, to_gql, with_page_args,
};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// Categories by id.
    CategoryById: CategoryId => Category,
    |cx, keys| cx.records.categories.categories_by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Groups by id.
    GroupById: GroupId => Group,
    |cx, keys| cx.records.categories.groups_by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Clients by id.
    ClientById: ClientId => Client,
    |cx, keys| cx.records.clients.by_ids(&cx.ctx, keys).await,
    |row| Some(row.id)
);
relation!(
    /// Sponsees of a sponsor (REF-04).
    SponseesOfClient: ClientId => Client,
    |cx, keys| cx.records.clients.sponsees(&cx.ctx, keys).await,
    |row| row.sponsor
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request
        .data(one::<CategoryById>(cx))
        .data(one::<GroupById>(cx))
        .data(one::<ClientById>(cx))
        .data(many::<SponseesOfClient>(cx))
}

pub fn records<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a Arc<RecordServices>> {
    rc.data::<Arc<RecordServices>>()
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn phone_typed(p: Option<&Phone>) -> Value {
    s(p.map(|p| p.typed.as_str()))
}

fn phone_e164(p: Option<&Phone>) -> Value {
    s(p.and_then(|p| p.e164.as_deref()))
}

/// The GraphQL type name of a custom field's choice enum: `ClientLateralityChoice`.
fn choice_enum_name(prefix: &str, key: &str) -> String {
    let mut chars = key.chars();
    let pascal: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
    format!("{prefix}{pascal}Choice")
}

fn custom_type(prefix: &str, def: &CustomFieldDef) -> TypeRef {
    field_types::type_ref(def.kind, &choice_enum_name(prefix, &def.key))
}

/// The custom-field types of one entity: output object, input object, filter input, enums.
pub(crate) fn register_custom_fields(
    mut builder: SchemaBuilder,
    prefix: &str,
    defs: &[CustomFieldDef],
) -> SchemaBuilder {
    if defs.is_empty() {
        return builder;
    }
    let mut output = Object::new(format!("{prefix}CustomFields")).description("This organisation's custom fields.");
    let mut input = InputObject::new(format!("{prefix}CustomFieldsInput"));
    let mut filter = InputObject::new(format!("{prefix}CustomFieldsFilter"))
        .description("Equality per field; for multi-choice fields, records holding the value.");
    for def in defs {
        let choice_enum = choice_enum_name(prefix, &def.key);
        if def.kind.has_choices() {
            builder = builder.register(field_types::choice_enum(&choice_enum, &def.choices));
        }
        let (key, kind) = (def.key.clone(), def.kind);
        output = output.field(
            field::<serde_json::Map<String, Json>, _>(&def.key, custom_type(prefix, def), move |values| {
                field_types::output(kind, values.get(&key))
            })
            .description(def.label.clone()),
        );
        input = input.field(InputValue::new(&def.key, custom_type(prefix, def)).description(def.label.clone()));
        // A filter takes one value: a multi-choice filter matches records holding it.
        filter = filter.field(InputValue::new(&def.key, field_types::item_type_ref(def.kind, &choice_enum)));
    }
    builder.register(output).register(input).register(filter)
}

/// The GraphQL name of a client-table field: camelCase, references with an `Id` suffix.
fn wire_name(spec: &FieldSpec) -> String {
    let name = fields::camel(spec.name);
    if matches!(spec.kind, Kind::Ref(_)) { name + "Id" } else { name }
}

/// The GraphQL type of a client-table field's values.
fn wire_type(spec: &FieldSpec) -> &'static str {
    match spec.kind {
        Kind::Bool => TypeRef::BOOLEAN,
        Kind::Choice(graphql_enum) => graphql_enum,
        Kind::Ref(_) => TypeRef::ID,
        Kind::PastDate => "Date",
        Kind::Percent | Kind::Money => "Decimal",
        Kind::Text { .. } | Kind::Email | Kind::Code | Kind::Siren | Kind::Siret | Kind::Iban | Kind::Bic => {
            TypeRef::STRING
        }
    }
}

/// A client-table value as GraphQL output.
fn wire_value(spec: &FieldSpec, value: TableValue) -> Value {
    match value {
        TableValue::Null => Value::Null,
        TableValue::Int(bp) if spec.kind == Kind::Percent => Value::String(Money(bp).to_decimal_string()),
        TableValue::Int(n) => Value::from(n),
        TableValue::Bool(b) => Value::from(b),
        TableValue::Choice(stored) => Value::Enum(Name::new(crate::support::gql_enum_name(&stored))),
        TableValue::Date(d) => Value::String(d.to_string()),
        TableValue::Id(id) => Value::String(id.to_string()),
        TableValue::Text(s) | TableValue::Decimal(s) => Value::String(s),
    }
}

/// One GraphQL input value of a client-table field, read by kind; `None` when absent.
fn wire_input(input: &ObjectAccessor<'_>, spec: &FieldSpec) -> async_graphql::Result<Option<TableValue>> {
    let Some(value) = input.get(&wire_name(spec)) else { return Ok(None) };
    if value.is_null() {
        return Ok(Some(TableValue::Null));
    }
    Ok(Some(match spec.kind {
        Kind::Bool => TableValue::Bool(value.boolean()?),
        Kind::Choice(_) => TableValue::Choice(value.enum_name()?.to_owned()),
        Kind::Ref(_) => {
            let raw = match value.as_value() {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            TableValue::Id(raw.parse::<ClientId>().map_err(to_gql)?.0) // any id type: the same check
        }
        _ => TableValue::Text(value.string()?.to_owned()),
    }))
}

/// The core fields of `Client`; the areas after this one in `schema::AREAS` add theirs. The
/// fields of the client table come in table order; the hand-written ones sit where the type
/// always had them.
fn client_fields(client: Object, shape: &SchemaShape) -> Object {
    let f = |name: &str, ty: TypeRef, get: fn(&Client) -> Value| field::<Client, _>(name, ty, get);
    let string = || TypeRef::named(TypeRef::STRING);
    let mut object = client
        .description("A customer record: an individual or a company.")
        .field(f("id", TypeRef::named_nn(TypeRef::ID), |c| Value::String(c.id.to_string())))
        .field(
            f("number", TypeRef::named_nn(TypeRef::INT), |c| Value::from(c.number))
                .description("CLI-02: sequential per organisation, never reused."),
        )
        .field(f("code", TypeRef::named_nn(TypeRef::STRING), |c| Value::String(c.code.clone())));
    for spec in FIELDS {
        if spec.name == "civility" {
            object = object.field(f("kind", TypeRef::named_nn("ClientKind"), |c| enum_value(c.kind))).field(f(
                "displayName",
                TypeRef::named_nn(TypeRef::STRING),
                |c| Value::String(c.display_name()),
            ));
        }
        let ty = if spec.nullable { TypeRef::named(wire_type(spec)) } else { TypeRef::named_nn(wire_type(spec)) };
        let mut out = field::<Client, _>(&wire_name(spec), ty, move |c| wire_value(spec, spec.value(c)));
        if let Some(about) = spec.about {
            out = out.description(about);
        }
        object = object.field(out);
        if spec.name == "email" {
            object = object
                .field(f("mobile", string(), |c| phone_typed(c.mobile.as_ref())))
                .field(f("mobileE164", string(), |c| phone_e164(c.mobile.as_ref())))
                .field(f("homePhone", string(), |c| phone_typed(c.home_phone.as_ref())))
                .field(f("homePhoneE164", string(), |c| phone_e164(c.home_phone.as_ref())))
                .field(f("workPhone", string(), |c| phone_typed(c.work_phone.as_ref())))
                .field(f("workPhoneE164", string(), |c| phone_e164(c.work_phone.as_ref())));
        }
    }
    object = object
        .field(f("version", TypeRef::named_nn(TypeRef::INT), |c| Value::from(c.version)))
        .field(f("createdAt", TypeRef::named_nn("DateTime"), |c| datetime(c.created_at)))
        .field(f("updatedAt", TypeRef::named_nn("DateTime"), |c| datetime(c.updated_at)))
        .field(f("deletedAt", TypeRef::named("DateTime"), |c| opt_datetime(c.deleted_at)))
        .field(f("anonymisedAt", TypeRef::named("DateTime"), |c| opt_datetime(c.anonymised_at)))
        .field(Field::new("category", TypeRef::named("Category"), |rc| {
            FieldFuture::new(async move {
                let Some(id) = rc.parent_value.try_downcast_ref::<Client>()?.category else { return Ok(None) };
                let loaded =
                    rc.data::<DataLoader<One<CategoryById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(Field::new("group", TypeRef::named("Group"), |rc| {
            FieldFuture::new(async move {
                let Some(id) = rc.parent_value.try_downcast_ref::<Client>()?.group else { return Ok(None) };
                let loaded = rc.data::<DataLoader<One<GroupById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(Field::new("sponsor", TypeRef::named("Client"), |rc| {
            FieldFuture::new(async move {
                let Some(id) = rc.parent_value.try_downcast_ref::<Client>()?.sponsor else { return Ok(None) };
                let loaded =
                    rc.data::<DataLoader<One<ClientById>>>()?.load_one(id).await.map_err(|e| load_error(&e))?;
                Ok(loaded.map(FieldValue::owned_any))
            })
        }))
        .field(
            Field::new("sponsees", TypeRef::named_nn_list_nn("Client"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let loaded = rc
                        .data::<DataLoader<Many<SponseesOfClient>>>()?
                        .load_one(id)
                        .await
                        .map_err(|e| load_error(&e))?;
                    Ok(Some(FieldValue::list(loaded.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("REF-04: clients this client sponsors."),
        );
    if !shape.client_fields.is_empty() {
        object = object.field(Field::new("customFields", TypeRef::named_nn("ClientCustomFields"), |rc| {
            FieldFuture::new(async move {
                let client = rc.parent_value.try_downcast_ref::<Client>()?;
                Ok(Some(FieldValue::borrowed_any(&client.custom_fields)))
            })
        }));
    }
    object
}

/// The fields of a client's input: the client table's input fields in table order, the
/// hand-written ones where they always were. Fields left out keep their value; null clears one.
fn client_input_fields(shape: &SchemaShape) -> Vec<InputValue> {
    let string = || TypeRef::named(TypeRef::STRING);
    let mut fields = vec![InputValue::new("code", string())];
    for spec in FIELDS.iter().filter(|f| f.input) {
        if spec.name == "civility" {
            fields.push(InputValue::new("kind", TypeRef::named("ClientKind")));
        }
        fields.push(InputValue::new(wire_name(spec), TypeRef::named(wire_type(spec))));
        if spec.name == "email" {
            for phone in ["mobile", "homePhone", "workPhone"] {
                fields.push(InputValue::new(phone, string()));
            }
        }
    }
    fields.push(
        InputValue::new("expectedVersion", TypeRef::named(TypeRef::INT))
            .description("The version you read: refused with STALE_VERSION if the client changed since."),
    );
    if !shape.client_fields.is_empty() {
        fields.push(InputValue::new("customFields", TypeRef::named("ClientCustomFieldsInput")));
    }
    fields
}

fn parse_client_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<ClientInput> {
    let mut parsed = ClientInput {
        code: opt_str(input, "code")?,
        kind: opt_enum::<ClientKind>(input, "kind")?,
        mobile: patch_str(input, "mobile")?,
        home_phone: patch_str(input, "homePhone")?,
        work_phone: patch_str(input, "workPhone")?,
        custom_fields: json_object(input, "customFields")?,
        expected_version: opt_i64(input, "expectedVersion")?,
        ..ClientInput::default()
    };
    for spec in FIELDS.iter().filter(|f| f.input) {
        if let Some(value) = wire_input(input, spec)? {
            spec.set_input(&mut parsed, value).map_err(|message| to_gql(AppError::invalid(spec.name, message)))?;
        }
    }
    Ok(parsed)
}

fn filter_type(shape: &SchemaShape) -> InputObject {
    let mut filter = InputObject::new("ClientFilter")
        .field(
            InputValue::new("namePrefix", TypeRef::named(TypeRef::STRING))
                .description("Prefix of last, first or company name."),
        )
        .field(InputValue::new("email", TypeRef::named(TypeRef::STRING)))
        .field(
            InputValue::new("phone", TypeRef::named(TypeRef::STRING))
                .description("Digits of any phone, whatever the formatting."),
        )
        .field(InputValue::new("code", TypeRef::named(TypeRef::STRING)).description("Client code, barcode or number."))
        .field(InputValue::new("kind", TypeRef::named("ClientKind")))
        .field(InputValue::new("categoryId", TypeRef::named(TypeRef::ID)))
        .field(InputValue::new("groupId", TypeRef::named(TypeRef::ID)))
        .field(InputValue::new("statuses", TypeRef::named_nn_list("ClientStatus")).description("Default: ACTIVE only."))
        .field(InputValue::new("blocked", TypeRef::named(TypeRef::BOOLEAN)))
        .field(InputValue::new("loyalty", TypeRef::named(TypeRef::BOOLEAN)))
        .field(InputValue::new("wallet", TypeRef::named(TypeRef::BOOLEAN)))
        .field(InputValue::new("hasEmail", TypeRef::named(TypeRef::BOOLEAN)))
        .field(InputValue::new("hasMobile", TypeRef::named(TypeRef::BOOLEAN)))
        .field(
            InputValue::new("birthdayFrom", TypeRef::named(TypeRef::STRING))
                .description("MM-DD, with birthdayTo; may wrap past the year end."),
        )
        .field(InputValue::new("birthdayTo", TypeRef::named(TypeRef::STRING)))
        .field(
            InputValue::new("birthdayInNextDays", TypeRef::named(TypeRef::INT))
                .description("MKT-03: birthdays from today to this many days ahead (0–366), year ignored."),
        )
        .field(
            InputValue::new("birthdayInLastDays", TypeRef::named(TypeRef::INT))
                .description("MKT-03: birthdays just passed, from this many days ago (0–366) to today."),
        )
        .field(InputValue::new("createdFrom", TypeRef::named("DateTime")))
        .field(InputValue::new("createdTo", TypeRef::named("DateTime")))
        .field(InputValue::new("trash", TypeRef::named("TrashFilter")))
        .field(InputValue::new("consentEmail", TypeRef::named("ConsentStatus")).description("SRC-08."))
        .field(InputValue::new("consentSms", TypeRef::named("ConsentStatus")))
        .field(InputValue::new("reachableBy", TypeRef::named("ConsentChannel")).description(
            "MKT-02, GDP-02: the clients a campaign on this channel may reach: with an e-mail address (a mobile \
             for SMS) and no refusal on it. Without it, refusals stay in the list, flagged by `consentEmail` / \
             `consentSms`.",
        ))
        .field(InputValue::new("selectionId", TypeRef::named(TypeRef::ID)).description(
            "SRC-14: only the clients of this saved selection (its filter, and its ticked clients when some \
             were), which the rest of this filter narrows.",
        ));
    if !shape.client_fields.is_empty() {
        filter = filter.field(InputValue::new("customFields", TypeRef::named("ClientCustomFieldsFilter")));
    }
    filter
}

/// The `orderBy` argument of a client list (default: by name).
fn parse_order(rc: &ResolverContext<'_>) -> async_graphql::Result<ClientOrder> {
    Ok(opt_enum::<ClientOrder>(&rc.args, "orderBy")?.unwrap_or_default())
}

pub(crate) fn parse_filter(rc: &ResolverContext<'_>) -> async_graphql::Result<ClientFilter> {
    let Some(input) = rc.args.get("filter").filter(|v| !v.is_null()) else { return Ok(ClientFilter::default()) };
    filter_of(&input.object()?)
}

/// A `ClientFilter` input object as the domain's filter.
pub(crate) fn filter_of(input: &ObjectAccessor<'_>) -> async_graphql::Result<ClientFilter> {
    let statuses = match input.get("statuses").filter(|v| !v.is_null()) {
        Some(list) => Some(
            list.list()?
                .iter()
                .filter_map(|v| v.enum_name().ok().and_then(crate::support::parse_enum::<ClientStatus>))
                .collect(),
        ),
        None => None,
    };
    let birthday_between = ClientFilter::birthdays(
        ("birthdayFrom", opt_str(input, "birthdayFrom")?.as_deref()),
        ("birthdayTo", opt_str(input, "birthdayTo")?.as_deref()),
    )
    .map_err(to_gql)?;
    let when = |name: &str| -> async_graphql::Result<Option<chrono::DateTime<chrono::Utc>>> {
        opt_str(input, name)?.map(|raw| parse_datetime(name, &raw).map_err(to_gql)).transpose()
    };
    let custom = json_object(input, "customFields")?
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(key, equals)| CustomCondition { key, equals })
        .collect();
    Ok(ClientFilter {
        name_prefix: opt_str(input, "namePrefix")?,
        email: opt_str(input, "email")?,
        phone: opt_str(input, "phone")?,
        code: opt_str(input, "code")?,
        kind: opt_enum::<ClientKind>(input, "kind")?,
        category: opt_id::<CategoryId>(input, "categoryId")?,
        group: opt_id::<GroupId>(input, "groupId")?,
        statuses,
        blocked: opt_bool(input, "blocked")?,
        loyalty: opt_bool(input, "loyalty")?,
        wallet: opt_bool(input, "wallet")?,
        has_email: opt_bool(input, "hasEmail")?,
        has_mobile: opt_bool(input, "hasMobile")?,
        birthday_between,
        birthday_within: ClientFilter::birthdays_around_today(
            ("birthdayInNextDays", opt_i64(input, "birthdayInNextDays")?),
            ("birthdayInLastDays", opt_i64(input, "birthdayInLastDays")?),
        )
        .map_err(to_gql)?,
        created_from: when("createdFrom")?,
        created_to: when("createdTo")?,
        trash: match opt_enum_name(input, "trash")?.as_deref() {
            Some("ONLY") => TrashFilter::Only,
            Some("INCLUDE") => TrashFilter::Include,
            _ => TrashFilter::Exclude,
        },
        custom,
        consent_email: opt_enum::<ConsentStatus>(input, "consentEmail")?,
        consent_sms: opt_enum::<ConsentStatus>(input, "consentSms")?,
        reachable_by: opt_enum::<ConsentChannel>(input, "reachableBy")?,
        selection: opt_id::<SelectionId>(input, "selectionId")?,
    })
}

/// Registers the client types but `Client` itself, which the registry registers once every
/// area has added its fields.
fn register(builder: SchemaBuilder, shape: &SchemaShape) -> SchemaBuilder {
    let is_date = |v: &Value| matches!(v, Value::String(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok());
    let is_decimal = |v: &Value| matches!(v, Value::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite));
    let builder = builder
        .register(
            Scalar::new("Date")
                .description("A calendar date, YYYY-MM-DD.")
                .specified_by_url("https://www.rfc-editor.org/rfc/rfc3339#section-5.6")
                .validator(is_date),
        )
        .register(
            Scalar::new("Decimal")
                .description("An exact decimal number as a string, e.g. \"12.50\".")
                .specified_by_url("https://www.w3.org/TR/xmlschema11-2/#decimal")
                .validator(is_decimal),
        )
        .register(enum_type::<ClientKind>("ClientKind"))
        .register(enum_type::<Civility>("Civility"))
        .register(enum_type::<ClientStatus>("ClientStatus"))
        .register(enum_type::<AccountKind>("AccountKind"))
        .register(enum_type::<ConsentStatus>("ConsentStatus"))
        .register(enum_type::<ClientOrder>("ClientOrder"))
        .register(
            Enum::new("TrashFilter")
                .item(EnumItem::new("EXCLUDE"))
                .item(EnumItem::new("ONLY"))
                .item(EnumItem::new("INCLUDE")),
        )
        .register(filter_type(shape))
        .register(payload_type("ClientPayload", "client", "Client"))
        .register(create_client_payload())
        .register(["first", "previous", "next", "last"].into_iter().fold(
            Object::new("ClientNeighbours").description("SRC-12: a client's place in a list."),
            |o, name| {
                o.field(Field::new(name, TypeRef::named("Client"), move |rc| {
                    FieldFuture::new(async move {
                        let n = rc.parent_value.try_downcast_ref::<Neighbours>()?;
                        let c = match name {
                            "first" => &n.first,
                            "previous" => &n.previous,
                            "next" => &n.next,
                            _ => &n.last,
                        };
                        Ok(c.as_ref().map(|c| FieldValue::borrowed_any(c)))
                    })
                }))
            },
        ))
        .register(
            Object::new("WebClientPayload")
                .field(Field::new("client", TypeRef::named("Client"), |rc| {
                    FieldFuture::new(async move {
                        let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let web = p.node.as_deref().and_then(|n| n.downcast_ref::<WebClient>());
                        Ok(web.map(|w| FieldValue::borrowed_any(&w.client)))
                    })
                }))
                .field(
                    Field::new("created", TypeRef::named(TypeRef::BOOLEAN), |rc| {
                        FieldFuture::new(async move {
                            let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                            let web = p.node.as_deref().and_then(|n| n.downcast_ref::<WebClient>());
                            Ok(web.map(|w| FieldValue::value(w.created)))
                        })
                    })
                    .description("True when this call made the client; false when it was found by its e-mail."),
                )
                .field(crate::support::user_errors_field()),
        )
        .register(
            Object::new("DeletePayload")
                .field(field::<Payload, _>("deletedId", TypeRef::named(TypeRef::ID), |p| {
                    p.node
                        .as_deref()
                        .and_then(|n| n.downcast_ref::<String>())
                        .map_or(Value::Null, |id| Value::String(id.clone()))
                }))
                .field(crate::support::user_errors_field()),
        );
    let [connection, edge] = connection_types("Client");
    let builder = builder.register(connection).register(edge);
    register_custom_fields(builder, "Client", &shape.client_fields)
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            with_page_args(Field::new(
                "clients",
                TypeRef::named_nn("ClientConnection"),
                resolver!(|rc| {
                    let (filter, order) = (parse_filter(&rc)?, parse_order(&rc)?);
                    let clients = &records(&rc)?.clients;
                    // The total costs a statement: counted only when asked for.
                    let with_total = rc.look_ahead().field("totalCount").exists();
                    let (page, cursors) = clients
                        .list_page(tenant(&rc)?, &filter, order, raw_page_args(&rc)?, with_total)
                        .await
                        .map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(Connection::with_cursors(page, cursors))))
                }),
            ))
            .argument(InputValue::new("filter", TypeRef::named("ClientFilter")))
            .argument(InputValue::new("orderBy", TypeRef::named("ClientOrder")))
            .description("Clients of the caller's organisation; dormant and trashed ones only when asked for."),
        )
        .field(
            Field::new(
                "clientNeighbours",
                TypeRef::named_nn("ClientNeighbours"),
                resolver!(|rc| {
                    let id: ClientId = id_arg(&rc, "id")?;
                    let (filter, order) = (parse_filter(&rc)?, parse_order(&rc)?);
                    let around = records(&rc)?.clients.neighbours(tenant(&rc)?, &filter, order, id).await;
                    Ok(Some(FieldValue::owned_any(around.map_err(to_gql)?)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .argument(InputValue::new("filter", TypeRef::named("ClientFilter")))
            .argument(InputValue::new("orderBy", TypeRef::named("ClientOrder")))
            .description(
                "SRC-12: the first, previous, next and last clients of the list `clients(filter, orderBy)` gives, around \
                 this client's place in it.",
            ),
        )
        .field(
            Field::new(
                "client",
                TypeRef::named("Client"),
                resolver!(|rc| {
                    let id: ClientId = id_arg(&rc, "id")?;
                    let client = records(&rc)?.clients.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(client)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
}

fn client_payload(result: Result<Client, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
}

fn delete_payload(result: Result<ClientId, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    Ok(Some(FieldValue::owned_any(Payload::from_result(result.map(|id| id.to_string()))?)))
}

fn with_id(
    name: &str,
    ty: &str,
    resolver: impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static,
) -> Mutation {
    Mutation::new(name, ty, resolver).input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
}

/// Issue 19: `createClient` refuses a client that may already exist, unless `allowDuplicate`.
fn create_client(shape: &SchemaShape) -> Mutation {
    Mutation::new(
        "createClient",
        "CreateClientPayload",
        resolver!(|rc| {
            let input = input(&rc)?;
            let (client, clients) = (parse_client_input(&input)?, &records(&rc)?.clients);
            let created = if opt_bool(&input, "allowDuplicate")? == Some(true) {
                clients.create(tenant(&rc)?, client).await.map(NewClient::Created)
            } else {
                let postcode = opt_str(&input, "postcode")?;
                clients.create_unless_duplicate(tenant(&rc)?, client, postcode.as_deref()).await
            };
            Ok(Some(FieldValue::owned_any(created_payload(created)?)))
        }),
    )
    .inputs(client_input_fields(shape))
    .input(InputValue::new("postcode", TypeRef::named(TypeRef::STRING)).description(
        "The postcode of the address you will add (createAddress); not saved here: with `lastName` it finds \
         clients of the same name at that postcode (see `allowDuplicate`).",
    ))
    .input(InputValue::new("allowDuplicate", TypeRef::named(TypeRef::BOOLEAN)).default_value(false).description(
        "False refuses to create a client that may already exist (same e-mail, code, barcode or \
         phone, or same last name at `postcode`) with POSSIBLE_DUPLICATE and lists them in `duplicates`; \
         true creates it anyway (an e-mail, code or barcode stays unique).",
    ))
}

fn create_client_payload() -> Object {
    Object::new("CreateClientPayload")
        .field(Field::new("client", TypeRef::named("Client"), |rc| {
            FieldFuture::new(async move {
                let created = rc.parent_value.try_downcast_ref::<Payload>()?.node.as_deref();
                Ok(match created.and_then(|n| n.downcast_ref()) {
                    Some(NewClient::Created(client)) => Some(FieldValue::borrowed_any(client)),
                    _ => None,
                })
            })
        }))
        .field(
            Field::new("duplicates", TypeRef::named_nn_list_nn("Client"), |rc| {
                FieldFuture::new(async move {
                    let created = rc.parent_value.try_downcast_ref::<Payload>()?.node.as_deref();
                    let found = match created.and_then(|n| n.downcast_ref()) {
                        Some(NewClient::PossibleDuplicates(found)) => found.as_slice(),
                        _ => &[],
                    };
                    Ok(Some(FieldValue::list(found.iter().map(|c| FieldValue::borrowed_any(c)))))
                })
            })
            .description("The clients this one may duplicate, when it was not created for them."),
        )
        .field(crate::support::user_errors_field())
}

/// `createClient`'s answer: possible duplicates come as one user error beside their list.
fn created_payload(result: Result<NewClient, AppError>) -> async_graphql::Result<Payload> {
    let mut payload = Payload::from_result(result)?;
    if let Some(NewClient::PossibleDuplicates(found)) = payload.node.as_deref().and_then(|n| n.downcast_ref()) {
        let n = found.len();
        let message = format!(
            "This client may already exist: {n} possible duplicate{} in `duplicates`. Send `allowDuplicate: true` \
             to create it anyway.",
            if n == 1 { "" } else { "s" }
        );
        payload.user_errors.push(AppError::new(ErrorCode::PossibleDuplicate, message).on_field(""));
    }
    Ok(payload)
}

fn mutation(mutation: Mutations, shape: &SchemaShape) -> Mutations {
    mutation
        .field(create_client(shape))
        .field(
            Mutation::new(
                "registerWebClient",
                "WebClientPayload",
                resolver!(|rc| {
                    let input = parse_client_input(&input(&rc)?)?;
                    let web = records(&rc)?.clients.ensure_by_email(tenant(&rc)?, input).await;
                    Ok(Some(FieldValue::owned_any(Payload::from_result(web)?)))
                }),
            )
            .inputs(client_input_fields(shape))
            .description(
                "CLI-17: for a web shop, when a user self-registers or orders: the client with this e-mail, \
                 else a new one from the input (e-mail required). Idempotent: retries and concurrent orders give one client.",
            ),
        )
        .field(
            with_id(
                "updateClient",
                "ClientPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ClientId = input::id(&input, "id")?;
                    let client = parse_client_input(&input)?;
                    client_payload(records(&rc)?.clients.update(tenant(&rc)?, id, client).await)
                }),
            )
            .inputs(client_input_fields(shape)),
        )
        .field(
            with_id(
                "deleteClient",
                "ClientPayload",
                resolver!(|rc| {
                    let id: ClientId = input::id(&input(&rc)?, "id")?;
                    client_payload(records(&rc)?.clients.trash(tenant(&rc)?, id).await)
                }),
            )
            .description("LIF-03: moves the client to the trash; refused while records depend on it."),
        )
        .field(with_id(
            "restoreClient",
            "ClientPayload",
            resolver!(|rc| {
                let id: ClientId = input::id(&input(&rc)?, "id")?;
                client_payload(records(&rc)?.clients.restore(tenant(&rc)?, id).await)
            }),
        ))
        .field(
            with_id(
                "purgeClient",
                "DeletePayload",
                resolver!(|rc| {
                    let id: ClientId = input::id(&input(&rc)?, "id")?;
                    delete_payload(records(&rc)?.clients.purge(tenant(&rc)?, id).await)
                }),
            )
            .description("Deletes a trashed client for good (super-admins)."),
        )
        .field(
            with_id(
                "blockClient",
                "ClientPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: ClientId = input::id(&input, "id")?;
                    let reason = input.try_get("reason")?.string()?.to_owned();
                    client_payload(records(&rc)?.clients.set_blocked(tenant(&rc)?, id, Some(reason)).await)
                }),
            )
            .input(InputValue::new("reason", TypeRef::named_nn(TypeRef::STRING))),
        )
        .field(with_id(
            "unblockClient",
            "ClientPayload",
            resolver!(|rc| {
                let id: ClientId = input::id(&input(&rc)?, "id")?;
                client_payload(records(&rc)?.clients.set_blocked(tenant(&rc)?, id, None).await)
            }),
        ))
}
