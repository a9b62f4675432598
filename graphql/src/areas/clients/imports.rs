//! Client imports in the schema: `startClientImport` (the file as base64, for files that fit
//! the 1 MiB request limit; larger ones go to `POST /imports`) and `importJob`.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputObject, InputValue, Object, SchemaBuilder, TypeRef};
use base64::Engine as _;
use clientele_kernel::{AppError, ImportJobId, Permission};
use clientele_records::clients::{
    ColumnMapping, DuplicatePolicy, ImportFormat, ImportJob, ImportRequest, ImportRowError, ImportStatus,
};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::{Mutation, Mutations};
use crate::support::{
    Payload, datetime, enum_type, enum_value, field, id_arg, opt_datetime, payload_type, tenant, to_gql,
};

/// Client imports as jobs.
pub const AREA: Area = Area { register, query, mutation, ..Area::NONE };

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let int = |get: fn(&ImportJob) -> i64| move |j: &ImportJob| Value::from(get(j));
    builder
        .register(enum_type::<ImportFormat>("ImportFormat"))
        .register(enum_type::<DuplicatePolicy>("DuplicatePolicy"))
        .register(enum_type::<ImportStatus>("ImportStatus"))
        .register(
            InputObject::new("ImportColumnInput")
                .description("Which file column (by header) feeds which ClientInput field, e.g. customFields.shoeSize.")
                .field(InputValue::new("column", TypeRef::named_nn(TypeRef::STRING)))
                .field(InputValue::new("field", TypeRef::named_nn(TypeRef::STRING))),
        )
        .register(
            Object::new("ImportRowError")
                .description("A problem with one row (the header is row 1), or with the whole job when row is null.")
                .field(field::<ImportRowError, _>("row", TypeRef::named(TypeRef::INT), |e| {
                    e.row.map_or(Value::Null, Value::from)
                }))
                .field(field::<ImportRowError, _>("field", TypeRef::named(TypeRef::STRING), |e| {
                    e.field.as_deref().map_or(Value::Null, |f| Value::String(crate::support::wire::input_path(f)))
                }))
                .field(field::<ImportRowError, _>("message", TypeRef::named_nn(TypeRef::STRING), |e| {
                    Value::String(e.message.clone())
                })),
        )
        .register(
            Object::new("ImportJob")
                .implement("Node")
                .description("A client import: a dry run checks every row, a real run writes all of them or none.")
                .field(field::<ImportJob, _>("id", TypeRef::named_nn(TypeRef::ID), |j| Value::String(j.id.to_string())))
                .field(field::<ImportJob, _>("status", TypeRef::named_nn("ImportStatus"), |j| enum_value(j.status)))
                .field(field::<ImportJob, _>("format", TypeRef::named_nn("ImportFormat"), |j| enum_value(j.format)))
                .field(field::<ImportJob, _>("duplicates", TypeRef::named_nn("DuplicatePolicy"), |j| {
                    enum_value(j.duplicates)
                }))
                .field(field::<ImportJob, _>("dryRun", TypeRef::named_nn(TypeRef::BOOLEAN), |j| Value::from(j.dry_run)))
                .field(field::<ImportJob, _>("total", TypeRef::named_nn(TypeRef::INT), int(|j| j.total)))
                .field(field::<ImportJob, _>("processed", TypeRef::named_nn(TypeRef::INT), int(|j| j.processed)))
                .field(field::<ImportJob, _>("created", TypeRef::named_nn(TypeRef::INT), int(|j| j.created)))
                .field(field::<ImportJob, _>("updated", TypeRef::named_nn(TypeRef::INT), int(|j| j.updated)))
                .field(field::<ImportJob, _>("skipped", TypeRef::named_nn(TypeRef::INT), int(|j| j.skipped)))
                .field(Field::new("errors", TypeRef::named_nn_list_nn("ImportRowError"), |rc| {
                    async_graphql::dynamic::FieldFuture::new(async move {
                        let job = rc.parent_value.try_downcast_ref::<ImportJob>()?;
                        Ok(Some(FieldValue::list(job.errors.iter().map(|e| FieldValue::borrowed_any(e)))))
                    })
                }))
                .field(field::<ImportJob, _>("createdAt", TypeRef::named_nn("DateTime"), |j| datetime(j.created_at)))
                .field(field::<ImportJob, _>("updatedAt", TypeRef::named_nn("DateTime"), |j| datetime(j.updated_at)))
                .field(field::<ImportJob, _>("finishedAt", TypeRef::named("DateTime"), |j| {
                    opt_datetime(j.finished_at)
                })),
        )
        .register(payload_type("StartClientImportPayload", "importJob", "ImportJob"))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "importJob",
            TypeRef::named("ImportJob"),
            resolver!(|rc| {
                let id: ImportJobId = id_arg(&rc, "id")?;
                let job = records(&rc)?.imports.job(tenant(&rc)?, id).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(job)))
            }),
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
    )
}

fn parse_request(
    rc: &async_graphql::dynamic::ResolverContext<'_>,
) -> async_graphql::Result<Result<ImportRequest, AppError>> {
    let input = crate::support::mutations::input(rc)?;
    let Ok(content) = base64::engine::general_purpose::STANDARD.decode(input.try_get("file")?.string()?.trim()) else {
        return Ok(Err(AppError::invalid("file", "Send the file's content as base64.")));
    };
    let mapping = match input.get("mapping").filter(|v| !v.is_null()) {
        None => None,
        Some(list) => Some(
            list.list()?
                .iter()
                .map(|item| {
                    let item = item.object()?;
                    Ok(ColumnMapping {
                        column: item.try_get("column")?.string()?.to_owned(),
                        field: item.try_get("field")?.string()?.to_owned(),
                    })
                })
                .collect::<async_graphql::Result<Vec<_>>>()?,
        ),
    };
    Ok(Ok(ImportRequest {
        content,
        format: crate::support::input::opt_enum(&input, "format")?.unwrap_or(ImportFormat::Csv),
        mapping,
        duplicates: crate::support::input::opt_enum(&input, "duplicates")?.unwrap_or(DuplicatePolicy::Skip),
        dry_run: crate::support::input::opt_bool(&input, "dryRun")?.unwrap_or(false),
    }))
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation.field(
        Mutation::new(
            "startClientImport",
            "StartClientImportPayload",
            resolver!(|rc| {
                let ctx = tenant(&rc)?;
                // A caller who may not import learns that before anything about the file.
                let result = match ctx.require(Permission::Write) {
                    Ok(()) => match parse_request(&rc)? {
                        Ok(request) => records(&rc)?.imports.start(ctx, request).await,
                        Err(err) => Err(err),
                    },
                    Err(denied) => Err(denied),
                };
                Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
            }),
        )
        .description(
            "Starts importing clients from a CSV or .xlsx file given as base64 (larger files: POST /imports). \
             Poll importJob for progress and row errors.",
        )
        .input(InputValue::new("file", TypeRef::named_nn(TypeRef::STRING)).description("The file, base64-encoded."))
        .input(InputValue::new("format", TypeRef::named_nn("ImportFormat")))
        .input(
            InputValue::new("mapping", TypeRef::named_nn_list("ImportColumnInput"))
                .description("Default: columns whose header is an export header, a field name or a custom field."),
        )
        .input(
            InputValue::new("duplicates", TypeRef::named("DuplicatePolicy"))
                .description("Rows matching a client by e-mail, code, barcode or phone. Default: SKIP."),
        )
        .input(
            InputValue::new("dryRun", TypeRef::named(TypeRef::BOOLEAN))
                .description("Check every row and report errors without writing."),
        ),
    )
}
