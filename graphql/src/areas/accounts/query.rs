//! Root query fields of the base schema: the viewer, users and API tokens.

use async_graphql::dynamic::{Field, FieldValue, InputValue, Object, TypeRef};
use clientele_kernel::UserId;

use crate::areas::accounts::types::Viewer;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::{Connection, id_arg, page_args, request, services, tenant, to_gql, with_page_args};

pub const AREA: Area = Area { query, ..Area::NONE };

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            Field::new(
                "viewer",
                TypeRef::named("Viewer"),
                resolver!(|rc| Ok(request(&rc)?.auth.as_ref().map(|_| FieldValue::owned_any(Viewer)))),
            )
            .description("The caller, or null when not signed in."),
        )
        .field(
            with_page_args(Field::new(
                "users",
                TypeRef::named_nn("UserConnection"),
                resolver!(|rc| {
                    let page = services(&rc)?.users.list(tenant(&rc)?, page_args(&rc)?).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(Connection::from_page(page, |u| u.id.0))))
                }),
            ))
            .description("Users of the caller's organisation (admins and super-admins)."),
        )
        .field(
            Field::new(
                "user",
                TypeRef::named("User"),
                resolver!(|rc| {
                    let id: UserId = id_arg(&rc, "id")?;
                    let user = services(&rc)?.users.get(tenant(&rc)?, id).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(user)))
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        )
        .field(with_page_args(Field::new(
            "apiTokens",
            TypeRef::named_nn("ApiTokenConnection"),
            resolver!(|rc| {
                let page = services(&rc)?.api_tokens.list(tenant(&rc)?, page_args(&rc)?).await.map_err(to_gql)?;
                Ok(Some(FieldValue::owned_any(Connection::from_page(page, |t| t.id.0))))
            }),
        )))
}
