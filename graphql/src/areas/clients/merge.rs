//! Merging duplicate clients in the schema.

use async_graphql::dynamic::{FieldValue, InputValue, TypeRef};
use clientele_kernel::ClientId;

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::mutations::{Mutation, Mutations, input};
use crate::support::{Payload, tenant};

pub const AREA: Area = Area { mutation, ..Area::NONE };

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation.field(
        Mutation::new(
            "mergeClients",
            "ClientPayload",
            resolver!(|rc| {
                let input = input(&rc)?;
                let keep: ClientId = crate::support::input::id(&input, "keepId")?;
                let merge: ClientId = crate::support::input::id(&input, "mergeId")?;
                let result = records(&rc)?.clients.merge(tenant(&rc)?, keep, merge).await;
                Ok(Some(FieldValue::owned_any(Payload::from_result(result)?)))
            }),
        )
        .input(InputValue::new("keepId", TypeRef::named_nn(TypeRef::ID)))
        .input(InputValue::new("mergeId", TypeRef::named_nn(TypeRef::ID)))
        .description(
            "Merges a duplicate into the kept client: contacts, addresses, ledger entries, sponsees and \
             consent history move over, the kept client's empty fields are filled (never overwritten), \
             and the duplicate goes to the trash. Returns the kept client.",
        ),
    )
}
