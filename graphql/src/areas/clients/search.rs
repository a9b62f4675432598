//! Search in the schema (SRC-01..08, DESIGN.md §7): `searchClients(query, mode,
//! frenchPhonesOnly, filter, first, after)` with highlights, and `searchStatus { pending
//! lastIndexedAt }`.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, SchemaBuilder, TypeRef};
use clientele_records::search::{MatchMode, Matching, SearchHit, SearchPage, SearchStatus};

use crate::areas::clients::client::{parse_filter, records};
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{opt_bool, opt_enum};
use crate::support::{Connection, Edge, enum_type, field, opt_datetime, raw_page_args, tenant, to_gql, with_page_args};

pub const AREA: Area = Area { register, query, ..Area::NONE };

/// The page as a [`Connection`] (so `PageInfo` resolves as everywhere), each edge a hit.
struct SearchConnection {
    connection: Connection,
    estimated_total: u64,
}

impl From<SearchPage> for SearchConnection {
    fn from(page: SearchPage) -> Self {
        let edges = page.hits.into_iter().map(|hit| Edge { cursor: hit.cursor.clone(), node: Box::new(hit) }).collect();
        let connection = Connection {
            edges,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.estimated_total,
        };
        Self { connection, estimated_total: page.estimated_total }
    }
}

fn hits(conn: &SearchConnection) -> impl Iterator<Item = &SearchHit> {
    conn.connection.edges.iter().filter_map(|e| e.node.downcast_ref::<SearchHit>())
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let highlight = Object::new("SearchHighlight")
        .description("A field that matched, with `<em>` around the matching words.")
        .field(field::<(String, String), _>("field", TypeRef::named_nn(TypeRef::STRING), |h| {
            Value::String(h.0.clone())
        }))
        .field(field::<(String, String), _>("snippet", TypeRef::named_nn(TypeRef::STRING), |h| {
            Value::String(h.1.clone())
        }));
    let hit = Object::new("ClientSearchHit")
        .field(field::<SearchHit, _>("cursor", TypeRef::named_nn(TypeRef::STRING), |h| Value::String(h.cursor.clone())))
        .field(field::<SearchHit, _>("score", TypeRef::named_nn(TypeRef::FLOAT), |h| Value::from(f64::from(h.score))))
        .field(Field::new("node", TypeRef::named_nn("Client"), |rc| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::borrowed_any(&rc.parent_value.try_downcast_ref::<SearchHit>()?.client)))
            })
        }))
        .field(Field::new("highlights", TypeRef::named_nn_list_nn("SearchHighlight"), |rc| {
            FieldFuture::new(async move {
                let hit = rc.parent_value.try_downcast_ref::<SearchHit>()?;
                Ok(Some(FieldValue::list(hit.highlights.iter().map(|h| FieldValue::borrowed_any(h)))))
            })
        }));
    let connection = Object::new("ClientSearchConnection")
        .field(Field::new("edges", TypeRef::named_nn_list_nn("ClientSearchHit"), |rc| {
            FieldFuture::new(async move {
                let conn = rc.parent_value.try_downcast_ref::<SearchConnection>()?;
                Ok(Some(FieldValue::list(hits(conn).map(|h| FieldValue::borrowed_any(h)))))
            })
        }))
        .field(Field::new("nodes", TypeRef::named_nn_list_nn("Client"), |rc| {
            FieldFuture::new(async move {
                let conn = rc.parent_value.try_downcast_ref::<SearchConnection>()?;
                Ok(Some(FieldValue::list(hits(conn).map(|h| FieldValue::borrowed_any(&h.client)))))
            })
        }))
        .field(Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |rc| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::borrowed_any(&rc.parent_value.try_downcast_ref::<SearchConnection>()?.connection)))
            })
        }))
        .field(
            field::<SearchConnection, _>("estimatedTotal", TypeRef::named_nn(TypeRef::INT), |c| {
                Value::from(i64::try_from(c.estimated_total).unwrap_or(i64::MAX))
            })
            .description("Hits in the index before the filter."),
        );
    let status = Object::new("SearchStatus")
        .field(
            field::<SearchStatus, _>("pending", TypeRef::named_nn(TypeRef::INT), |s| {
                Value::from(i64::try_from(s.pending).unwrap_or(i64::MAX))
            })
            .description("Changed clients the index does not show yet."),
        )
        .field(field::<SearchStatus, _>("lastIndexedAt", TypeRef::named("DateTime"), |s| {
            opt_datetime(s.last_indexed_at)
        }));
    let mode = enum_type::<MatchMode>("SearchMode").description(
        "How each word of a search matches: CONTAINS anywhere inside a word or a number from three \
         characters (shorter words: at the start), PREFIX at the start of words and numbers («Début»), \
         EXACT whole words and whole numbers without typos («Validation»).",
    );
    builder.register(highlight).register(hit).register(connection).register(status).register(mode)
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            with_page_args(Field::new(
                "searchClients",
                TypeRef::named_nn("ClientSearchConnection"),
                resolver!(|rc| {
                    let text = rc.args.try_get("query")?.string()?.to_owned();
                    let matching = Matching {
                        mode: opt_enum(&rc.args, "mode")?.unwrap_or_default(),
                        french_phones: opt_bool(&rc.args, "frenchPhonesOnly")?.unwrap_or(false),
                    };
                    let filter = parse_filter(&rc)?;
                    let records = records(&rc)?;
                    let page = records
                        .search
                        .search(tenant(&rc)?, &records.clients, &text, matching, &filter, raw_page_args(&rc)?)
                        .await
                        .map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(SearchConnection::from(page))))
                }),
            ))
            .argument(InputValue::new("query", TypeRef::named_nn(TypeRef::STRING)))
            .argument(
                InputValue::new("mode", TypeRef::named("SearchMode"))
                    .default_value(Value::Enum(async_graphql::Name::new("CONTAINS"))),
            )
            .argument(
                InputValue::new("frenchPhonesOnly", TypeRef::named(TypeRef::BOOLEAN))
                    .default_value(false)
                    .description("Digits match French numbers only («FR>»), not numbers of other countries."),
            )
            .argument(InputValue::new("filter", TypeRef::named("ClientFilter")))
            .description(
                "Clients matching every word of `query` as `mode` says (names, company, e-mail, code, \
                 city, phone digits in any format, searchable custom fields, alerts), at one typo from \
                 five characters except in the exact mode, whole words first, then starts, then \
                 fragments; narrowed by `filter` as in `clients`.",
            ),
        )
        .field(Field::new(
            "searchStatus",
            TypeRef::named_nn("SearchStatus"),
            resolver!(|rc| {
                let status = records(&rc)?.search.status(tenant(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(status)))
            }),
        ))
}
