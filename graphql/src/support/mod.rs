//! Small building blocks that keep the dynamic schema readable: typed parent access, enums,
//! connections, mutation payloads and error mapping.

pub mod coded;
pub mod field_types;
pub mod input;
pub mod loaders;
pub mod mutations;
pub mod wire;

use std::any::Any;

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Name, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use clientele_kernel::page::{Page, PageRequest, decode_cursor, encode_cursor};
use clientele_kernel::{AppError, ErrorCode, TenantCtx};
use clientele_tenants::{ClientInfo, TenantServices};
pub use wire::{InputNames, Payload};

/// Per-request data: the caller (if any) and where the request came from.
pub struct RequestData {
    pub auth: Option<clientele_tenants::Authenticated>,
    pub client: ClientInfo,
    pub request_id: Option<std::sync::Arc<str>>,
}

/// Turns an [`AppError`] into a GraphQL error with `extensions.code` and the field as its
/// input is named ([`InputNames`]); internal causes go to the log only.
pub fn to_gql(err: AppError) -> async_graphql::Error {
    InputNames::CAMEL.to_gql(err)
}

pub fn services<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a TenantServices> {
    rc.data::<TenantServices>()
}

pub fn request<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a RequestData> {
    rc.data::<RequestData>()
}

/// The caller's tenant context, or `UNAUTHENTICATED`.
pub fn tenant<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a TenantCtx> {
    request(rc)?.auth.as_ref().map(|a| &a.ctx).ok_or_else(|| to_gql(ErrorCode::Unauthenticated.into()))
}

/// The file sent for an `Upload` value (a GraphQL multipart part); anything else, such as a
/// plain string in a JSON request, is `VALIDATION` on `field`.
pub fn upload_file(
    rc: &ResolverContext<'_>,
    value: &async_graphql::dynamic::ValueAccessor<'_>,
    field: &str,
) -> async_graphql::Result<async_graphql::UploadValue> {
    value
        .upload()
        .ok()
        .and_then(|upload| upload.value(rc.ctx).ok())
        .ok_or_else(|| to_gql(AppError::invalid(field, "Send a file here, as a part of a multipart request.")))
}

/// Parses a typed id argument; a malformed one is `INVALID_ID`.
pub fn id_arg<T: std::str::FromStr<Err = AppError>>(rc: &ResolverContext<'_>, name: &str) -> async_graphql::Result<T> {
    let value = rc.args.try_get(name)?;
    let raw = match value.as_value() {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    raw.parse::<T>().map_err(to_gql)
}

pub fn datetime(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

pub fn opt_datetime(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, datetime)
}

pub fn parse_datetime(field: &str, raw: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| AppError::invalid(field, "Use an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z."))
}

/// The GraphQL name of a Rust enum's stored value: `super_admin` → `SUPER_ADMIN`, `en-US` → `EN_US`.
pub fn gql_enum_name(stored: &str) -> String {
    stored.replace('-', "_").to_uppercase()
}

pub fn enum_value<E: Into<&'static str>>(value: E) -> Value {
    Value::Enum(Name::new(gql_enum_name(value.into())))
}

/// A GraphQL enum with one item per variant of `E`.
pub fn enum_type<E>(name: &str) -> Enum
where
    E: strum::IntoEnumIterator + Into<&'static str>,
{
    E::iter().fold(Enum::new(name), |e, v| e.item(EnumItem::new(gql_enum_name(v.into()))))
}

/// Reads an enum argument back into `E`.
pub fn parse_enum<E>(raw: &str) -> Option<E>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    E::iter().find(|v| gql_enum_name((*v).into()) == raw)
}

/// A field that reads a plain value off a parent of type `T`.
pub fn field<T, F>(name: &str, ty: impl Into<TypeRef>, get: F) -> Field
where
    T: Any + Send + Sync,
    F: for<'a> Fn(&'a T) -> Value + Send + Sync + 'static,
{
    Field::new(name, ty, move |rc| {
        let value = rc.parent_value.try_downcast_ref::<T>().map(&get);
        // Null goes back as "no value": enum and object fields refuse a literal null value.
        FieldFuture::new(async move { Ok(Some(value?).filter(|v| *v != Value::Null).map(FieldValue::value)) })
    })
}

/// A Relay connection value: edges hold their nodes as `Any` so one type serves every node kind.
pub struct Connection {
    pub edges: Vec<Edge>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

pub struct Edge {
    pub cursor: String,
    pub node: Box<dyn Any + Send + Sync>,
}

impl Connection {
    /// A page whose cursors are its items' ids.
    pub fn from_page<T: Any + Send + Sync>(page: Page<T>, id: impl Fn(&T) -> uuid::Uuid) -> Self {
        let cursors = page.items.iter().map(|item| encode_cursor(id(item))).collect();
        Self::with_cursors(page, cursors)
    }

    /// A page with the cursor of each item (lists keyed by more than their ids).
    pub fn with_cursors<T: Any + Send + Sync>(page: Page<T>, cursors: Vec<String>) -> Self {
        let edges =
            page.items.into_iter().zip(cursors).map(|(item, cursor)| Edge { cursor, node: Box::new(item) }).collect();
        Self {
            edges,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.total_count,
        }
    }
}

/// The Relay arguments of every connection field (`first`/`after` forward, `last`/`before`
/// backward), their bounds in their descriptions.
pub fn with_page_args(field: Field) -> Field {
    use clientele_kernel::page::{DEFAULT_PAGE, MAX_PAGE};
    let count = |direction: &str| {
        format!(
            "How many items {direction}: 1 to {MAX_PAGE}, {DEFAULT_PAGE} when omitted. Not with `first` and `last` together."
        )
    };
    field
        .argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT)).description(count("from the start or `after`")),
        )
        .argument(
            InputValue::new("after", TypeRef::named(TypeRef::STRING))
                .description("The `endCursor` of the previous page; omitted: the first page."),
        )
        .argument(InputValue::new("last", TypeRef::named(TypeRef::INT)).description(count("up to the end or `before`")))
        .argument(
            InputValue::new("before", TypeRef::named(TypeRef::STRING))
                .description("The `startCursor` of the next page; omitted with `last`: the last page."),
        )
}

/// The page arguments with their cursor as sent (lists that decode their own cursors).
pub fn raw_page_args(rc: &ResolverContext<'_>) -> async_graphql::Result<PageRequest<String>> {
    let int = |name| rc.args.get(name).filter(|v| !v.is_null()).map(|v| v.i64()).transpose();
    let string = |name| rc.args.get(name).filter(|v| !v.is_null()).map(|v| v.string().map(str::to_owned)).transpose();
    PageRequest::parse(int("first")?, string("after")?, int("last")?, string("before")?).map_err(to_gql)
}

/// The page arguments of a list whose cursors are ids.
pub fn page_args(rc: &ResolverContext<'_>) -> async_graphql::Result<PageRequest> {
    raw_page_args(rc)?.decode(decode_cursor).map_err(to_gql)
}

/// `<Node>Connection` and `<Node>Edge` types for a node type.
pub fn connection_types(node: &str) -> [Object; 2] {
    let edge_name = format!("{node}Edge");
    let edge = Object::new(&edge_name)
        .field(field::<Edge, _>("cursor", TypeRef::named_nn(TypeRef::STRING), |e| Value::String(e.cursor.clone())))
        .field(Field::new("node", TypeRef::named_nn(node), |rc| {
            FieldFuture::new(async move {
                let edge = rc.parent_value.try_downcast_ref::<Edge>()?;
                Ok(Some(FieldValue::borrowed_any(edge.node.as_ref())))
            })
        }));
    let connection = Object::new(format!("{node}Connection"))
        .field(Field::new("edges", TypeRef::named_nn_list_nn(&edge_name), |rc| {
            FieldFuture::new(async move {
                let conn = rc.parent_value.try_downcast_ref::<Connection>()?;
                Ok(Some(FieldValue::list(conn.edges.iter().map(|e| FieldValue::borrowed_any(e)))))
            })
        }))
        .field(Field::new("nodes", TypeRef::named_nn_list_nn(node), |rc| {
            FieldFuture::new(async move {
                let conn = rc.parent_value.try_downcast_ref::<Connection>()?;
                Ok(Some(FieldValue::list(conn.edges.iter().map(|e| FieldValue::borrowed_any(e.node.as_ref())))))
            })
        }))
        .field(Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |rc| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::borrowed_any(rc.parent_value.try_downcast_ref::<Connection>()?)))
            })
        }))
        .field(field::<Connection, _>("totalCount", TypeRef::named_nn(TypeRef::INT), |c| {
            Value::from(i64::try_from(c.total_count).unwrap_or(i64::MAX))
        }));
    [connection, edge]
}

/// `PageInfo`, resolved off the parent [`Connection`]. Past the cursor a page starts from, it
/// answers `true` without reading further (Relay lets a server say so when unsure).
pub fn page_info_type() -> Object {
    let cursor = |edge: Option<&Edge>| edge.map_or(Value::Null, |e| Value::String(e.cursor.clone()));
    Object::new("PageInfo")
        .field(field::<Connection, _>("hasNextPage", TypeRef::named_nn(TypeRef::BOOLEAN), |c| {
            Value::from(c.has_next_page)
        }))
        .field(field::<Connection, _>("hasPreviousPage", TypeRef::named_nn(TypeRef::BOOLEAN), |c| {
            Value::from(c.has_previous_page)
        }))
        .field(field::<Connection, _>("startCursor", TypeRef::named(TypeRef::STRING), move |c| cursor(c.edges.first())))
        .field(field::<Connection, _>("endCursor", TypeRef::named(TypeRef::STRING), move |c| cursor(c.edges.last())))
}

/// A mutation's answer: its payload with the node, or with `userErrors` for validation failures;
/// other errors become GraphQL errors.
pub fn payload<T: Any + Send + Sync>(
    result: Result<T, AppError>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    InputNames::CAMEL.payload(result)
}

pub fn user_error_type() -> Object {
    Object::new("UserError")
        .description(
            "Why the mutation did not happen: invalid input, or the record it names is missing or in another state.",
        )
        .field(
            field::<AppError, _>("field", TypeRef::named_nn_list(TypeRef::STRING), |e| {
                e.field().map_or(Value::Null, wire::user_error_path)
            })
            .description("The input field at fault, as a path from the argument: `[\"input\", \"email\"]`."),
        )
        .field(field::<AppError, _>("code", TypeRef::named_nn(TypeRef::STRING), |e| {
            Value::String(e.code().as_str().into())
        }))
        .field(field::<AppError, _>("message", TypeRef::named_nn(TypeRef::STRING), |e| {
            Value::String(e.public_message().to_owned())
        }))
}

/// `userErrors: [UserError!]!` of a [`Payload`], every error reported together flattened.
pub fn user_errors_field() -> Field {
    Field::new("userErrors", TypeRef::named_nn_list_nn("UserError"), |rc| {
        FieldFuture::new(async move {
            let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
            let errors = payload.user_errors.iter().flat_map(AppError::each);
            Ok(Some(FieldValue::list(errors.map(|e| FieldValue::borrowed_any(e)))))
        })
    })
}

/// `<Name>Payload { <node_field>: <NodeType>, userErrors: [UserError!]! }`.
pub fn payload_type(name: &str, node_field: &str, node_type: &str) -> Object {
    Object::new(name)
        .field(Field::new(node_field, TypeRef::named(node_type), |rc| {
            FieldFuture::new(async move {
                let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
                Ok(payload.node.as_deref().map(FieldValue::borrowed_any))
            })
        }))
        .field(user_errors_field())
}

/// `<Name>Payload { userErrors: [UserError!]! }`: the answer of a mutation that changes no record
/// it could show.
pub fn outcome_payload_type(name: &str) -> Object {
    Object::new(name).field(user_errors_field())
}

/// `<Name>Payload { <list_field>: [<ItemType>!], userErrors: [UserError!]! }` of a [`Payload`]
/// whose node is a `Vec<T>`.
pub fn list_payload_type<T: Any + Send + Sync>(name: &str, list_field: &str, item_type: &str) -> Object {
    Object::new(name)
        .field(Field::new(list_field, TypeRef::named_nn_list(item_type), |rc| {
            FieldFuture::new(async move {
                let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
                let items = payload.node.as_deref().and_then(|n| n.downcast_ref::<Vec<T>>());
                Ok(items.map(|items| FieldValue::list(items.iter().map(|item| FieldValue::borrowed_any(item)))))
            })
        }))
        .field(user_errors_field())
}

/// A mutation or query field whose resolver is an async block returning `FieldValue`.
#[macro_export]
macro_rules! resolver {
    (|$rc:ident| $body:expr) => {
        move |$rc: async_graphql::dynamic::ResolverContext<'_>| {
            async_graphql::dynamic::FieldFuture::new(async move { $body })
        }
    };
}
