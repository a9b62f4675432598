//! Merging duplicate clients in the schema.

use async_graphql::dynamic::{Field, FieldValue, InputValue, TypeRef};
use clientele_kernel::ClientId;

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::Mutations;
use crate::support::{Payload, id_arg, tenant};

pub const AREA: Area = Area { mutation, ..Area::NONE };

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation.field(
        Field::new(
            "mergeClients",
            TypeRef::named_nn("ClientPayload"),
            resolver!(|rc| {
                let keep: ClientId = id_arg(&rc, "keepId")?;
                let merge: ClientId = id_arg(&rc, "mergeId")?;
                let result = records(&rc)?.clients.merge(tenant(&rc)?, keep, merge).await;
                Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
            }),
        )
        .argument(InputValue::new("keepId", TypeRef::named_nn(TypeRef::ID)))
        .argument(InputValue::new("mergeId", TypeRef::named_nn(TypeRef::ID)))
        .description(
            "Merges a duplicate into the kept client: contacts, addresses, ledger entries, sponsees and \
             consent history move over, the kept client's empty fields are filled (never overwritten), \
             and the duplicate goes to the trash. Returns the kept client.",
        ),
    )
}
