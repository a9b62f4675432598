//! Files in the schema (FIL-01, FIL-05, FIL-06, FIL-07): `Client.photo`, `Client.attachments`,
//! `CustomerOrganisation.attachments`, `organisationFiles` and `deleteFile`. Uploads go through
//! `POST /files` (multipart); every file is read through a signed link (`url`, ≤ 300 s).

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::{AppError, ClientId, FileId, Permission, TenantId};
use clientele_records::clients::Client;
use clientele_records::files::{Crop, FileKind, Owner, PhotoEdit, StoredFile, Upload, Variant};
use clientele_tenants::customers::CustomerOrg;

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::opt_id;
use crate::support::loaders::{LoadCtx, Many, load_error, many, relation};
use crate::support::mutations::{Mutation, Mutations, id_field, input};
use crate::support::{
    InputNames, datetime, enum_type, enum_value, field, parse_enum, payload, payload_type, tenant, to_gql,
};

pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

relation!(
    /// The files of clients, oldest first; one statement per page of clients.
    FilesOfClient: ClientId => StoredFile,
    |cx, keys| cx.records.files.of_clients(&cx.ctx, keys).await,
    |row| Some(ClientId(row.owner_id))
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(many::<FilesOfClient>(cx))
}

fn link(
    variant: Variant,
) -> impl for<'a> Fn(async_graphql::dynamic::ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |rc| {
        FieldFuture::new(async move {
            let file = rc.parent_value.try_downcast_ref::<StoredFile>()?;
            Ok(records(&rc)?.files.url(file, variant).map(|u| FieldValue::value(Value::String(u))))
        })
    }
}

fn file_type() -> Object {
    let opt_int = |v: Option<i32>| v.map_or(Value::Null, Value::from);
    Object::new("File")
        .description("FIL-01, FIL-06: a stored file. Its content is read through `url`, a link valid a few minutes.")
        .field(field::<StoredFile, _>("id", TypeRef::named_nn(TypeRef::ID), |f| Value::String(f.id.to_string())))
        .field(field::<StoredFile, _>("kind", TypeRef::named_nn("FileKind"), |f| enum_value(f.kind)))
        .field(
            field::<StoredFile, _>("fileName", TypeRef::named_nn(TypeRef::STRING), |f| {
                Value::String(f.file_name.clone())
            })
            .description("The name it was uploaded with; it is stored under a generated key."),
        )
        .field(
            field::<StoredFile, _>("contentType", TypeRef::named_nn(TypeRef::STRING), |f| {
                Value::String(f.content_type.clone())
            })
            .description("What the content really is (sniffed), never what the upload declared."),
        )
        .field(field::<StoredFile, _>("size", TypeRef::named_nn(TypeRef::INT), |f| Value::from(f.size)))
        .field(field::<StoredFile, _>("sha256", TypeRef::named_nn(TypeRef::STRING), |f| {
            Value::String(f.sha256.clone())
        }))
        .field(field::<StoredFile, _>("width", TypeRef::named(TypeRef::INT), move |f| opt_int(f.width)))
        .field(field::<StoredFile, _>("height", TypeRef::named(TypeRef::INT), move |f| opt_int(f.height)))
        .field(field::<StoredFile, _>("createdAt", TypeRef::named_nn("DateTime"), |f| datetime(f.created_at)))
        .field(
            Field::new("url", TypeRef::named_nn(TypeRef::STRING), link(Variant::Original))
                .description("A signed download link, valid at most 300 seconds."),
        )
        .field(
            Field::new("thumbnailUrl", TypeRef::named(TypeRef::STRING), link(Variant::Thumbnail))
                .description("Images only: a signed link to the thumbnail."),
        )
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let crop = ["x", "y", "width", "height"]
        .into_iter()
        .fold(InputObject::new("PhotoCropInput").description("FIL-04: a rectangle of a photo, in pixels."), |o, f| {
            o.field(InputValue::new(f, TypeRef::named_nn(TypeRef::INT)))
        });
    builder
        .enable_uploading()
        .register(enum_type::<FileKind>("FileKind"))
        .register(file_type())
        .register(payload_type("FilePayload", "file", "File"))
        .register(crop)
}

fn list(files: Vec<StoredFile>) -> FieldValue<'static> {
    FieldValue::list(files.into_iter().map(FieldValue::owned_any))
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query.field(
        Field::new(
            "organisationFiles",
            TypeRef::named_nn_list_nn("File"),
            resolver!(|rc| {
                let ctx = tenant(&rc)?;
                Ok(Some(list(records(&rc)?.files.of_organisation(ctx, ctx.tenant()).await.map_err(to_gql)?)))
            }),
        )
        .description("FIL-06: the files the caller's supplier attached to the caller's organisation."),
    )
}

/// The `uploadFile` input as a domain upload.
fn upload_input(rc: &ResolverContext<'_>) -> async_graphql::Result<Result<Upload, AppError>> {
    let input = rc.args.try_get("input")?.object()?;
    let kind = match input.get("kind").filter(|v| !v.is_null()) {
        Some(v) => parse_enum::<FileKind>(v.enum_name()?).ok_or("unknown file kind")?,
        None => FileKind::Attachment,
    };
    let owner = match (opt_id::<ClientId>(&input, "clientId")?, opt_id::<TenantId>(&input, "customerId")?) {
        (Some(client), None) => Owner::Client(client),
        (None, Some(customer)) => Owner::Organisation(customer),
        _ => return Ok(Err(AppError::invalid("clientId", "Name either a client or a customer organisation."))),
    };
    let file = crate::support::upload_file(rc, &input.try_get("file")?, "file")?;
    Ok(Ok(Upload { owner, kind, file_name: file.filename, bytes: file.content.to_vec() }))
}

/// `archiveClientPhoto` arguments not named as the camelCase of their domain field.
const ARCHIVE_INPUT: InputNames = InputNames::renaming(&[("client", "clientId")]);

/// The fields of the inputs that were `UploadFileInput`.
fn upload_file_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("clientId", TypeRef::named(TypeRef::ID)),
        InputValue::new("customerId", TypeRef::named(TypeRef::ID)),
        InputValue::new("kind", TypeRef::named("FileKind")).description("Default: ATTACHMENT."),
        InputValue::new("file", TypeRef::named_nn(TypeRef::UPLOAD)),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "uploadFile",
                "FilePayload",
                resolver!(|rc| {
                    let ctx = tenant(&rc)?;
                    // A caller who may not upload learns that before anything about the file.
                    let result = match ctx.require(Permission::Write) {
                        Ok(()) => match upload_input(&rc)? {
                            Ok(upload) => records(&rc)?.files.upload(ctx, upload).await,
                            Err(invalid) => Err(invalid),
                        },
                        Err(denied) => Err(denied),
                    };
                    payload(result)
                }),
            )
            .inputs(upload_file_fields())
            .input_description("FIL-01, FIL-06: name a client, or (a supplier) one of its customer organisations.")
            .description(
                "FIL-01, FIL-06, FIL-07: stores a file sent as a GraphQL multipart request (the same checks as \
                 `POST /files`: size cap, sniffed type, pixel limit, re-encoding without metadata).",
            ),
        )
        .field(
            Mutation::new(
                "archiveClientPhoto",
                "FilePayload",
                resolver!(|rc| {
                    let client: ClientId = crate::support::input::id(&input(&rc)?, "clientId")?;
                    let result = records(&rc)?.files.archive_photo(tenant(&rc)?, client).await;
                    ARCHIVE_INPUT.payload(result)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .description("FIL-03: copies the client's current photo into its gallery; the photo stays."),
        )
        .field(
            Mutation::new(
                "editClientPhoto",
                "FilePayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let client: ClientId = crate::support::input::id(&input, "clientId")?;
                    let rotate = crate::support::input::opt_i64(&input, "rotate")?.unwrap_or(0);
                    let crop = match input.get("crop").filter(|v| !v.is_null()) {
                        Some(crop) => {
                            let crop = crop.object()?;
                            let side = |name: &str| -> async_graphql::Result<u32> {
                                let n = crop.try_get(name)?.i64()?;
                                u32::try_from(n)
                                    .map_err(|_| to_gql(AppError::invalid(&format!("crop.{name}"), "At least 0.")))
                            };
                            Some(Crop { x: side("x")?, y: side("y")?, width: side("width")?, height: side("height")? })
                        }
                        None => None,
                    };
                    let edit = PhotoEdit { crop, rotate: u16::try_from(rotate).unwrap_or(u16::MAX) };
                    let result = records(&rc)?.files.edit_photo(tenant(&rc)?, client, edit).await;
                    ARCHIVE_INPUT.payload(result)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .input(
                InputValue::new("crop", TypeRef::named("PhotoCropInput"))
                    .description("The part to keep, in the photo's pixels as shown."),
            )
            .input(
                InputValue::new("rotate", TypeRef::named(TypeRef::INT))
                    .description("Clockwise, after the crop: 90, 180 or 270."),
            )
            .description(
                "FIL-04: crops and/or rotates the client's photo; the edited photo replaces it (archive it first to \
                 keep the original).",
            ),
        )
        .field(
            Mutation::new(
                "deleteFile",
                "DeletePayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let id: FileId = crate::support::input::id(&input, "id")?;
                    let customer = crate::support::input::opt_id::<TenantId>(&input, "customerId")?;
                    let result = records(&rc)?.files.delete(tenant(&rc)?, id, customer).await;
                    payload(result.map(|id| id.to_string()))
                }),
            )
            .input(id_field())
            .input(
                InputValue::new("customerId", TypeRef::named(TypeRef::ID))
                    .description("A supplier deleting a file of this customer organisation."),
            )
            .description("FIL-01: deletes a photo, attachment or archived image; its content is erased from storage."),
        )
}

async fn client_files(rc: &async_graphql::dynamic::ResolverContext<'_>) -> async_graphql::Result<Vec<StoredFile>> {
    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
    let loader = rc.data::<DataLoader<Many<FilesOfClient>>>()?;
    Ok(loader.load_one(id).await.map_err(|e| load_error(&e))?.unwrap_or_default())
}

fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client
        .field(
            Field::new("photo", TypeRef::named("File"), |rc| {
                FieldFuture::new(async move {
                    let files = client_files(&rc).await?;
                    Ok(files.into_iter().find(|f| f.kind == FileKind::Photo).map(FieldValue::owned_any))
                })
            })
            .description("FIL-01, FIL-05: the client's photo, if any."),
        )
        .field(
            Field::new("attachments", TypeRef::named_nn_list_nn("File"), |rc| {
                FieldFuture::new(async move {
                    let files = client_files(&rc).await?;
                    Ok(Some(list(files.into_iter().filter(|f| f.kind == FileKind::Attachment).collect())))
                })
            })
            .description("Files attached to the client, oldest first."),
        )
        .field(
            Field::new("gallery", TypeRef::named_nn_list_nn("File"), |rc| {
                FieldFuture::new(async move {
                    let files = client_files(&rc).await?;
                    Ok(Some(list(files.into_iter().filter(|f| f.kind == FileKind::Archived).collect())))
                })
            })
            .description(
                "FIL-03: archived copies of the client's photos, oldest first (`thumbnailUrl` previews them).",
            ),
        )
}

/// `CustomerOrganisation.attachments` (FIL-06), for the supplier.
pub fn organisation_fields(object: Object) -> Object {
    object.field(
        Field::new("attachments", TypeRef::named_nn_list_nn("File"), |rc| {
            FieldFuture::new(async move {
                let org = rc.parent_value.try_downcast_ref::<CustomerOrg>()?.row.id;
                Ok(Some(list(records(&rc)?.files.of_organisation(tenant(&rc)?, org).await.map_err(to_gql)?)))
            })
        })
        .description("FIL-06: files attached to this customer organisation, which its users can read."),
    )
}
