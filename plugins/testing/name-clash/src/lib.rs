//! A sound manifest whose GraphQL names clash: a collection whose type would be `Subscription`
//! (a name tools reserve for the subscription root), one whose type `Pet` the pets plugin of
//! the same supplier makes, and an action named like the API's `createClient`. The upload
//! must refuse it, naming each manifest field.

use clientele_plugin_sdk::{FieldType, Manifest, Parent, Plugin, collection, field, register_plugin};

struct NameClash;

impl Plugin for NameClash {
    fn describe() -> Manifest {
        Manifest::new("name-clash", "1.0.0", "Names that collide.")
            .collection(
                collection("subscription", "memberships", Parent::Client).field(field("label", FieldType::Text)),
            )
            .collection(collection("pet", "animals", Parent::Client).field(field("label", FieldType::Text)))
            .action("createClient", "Clashes with the API's mutation.", vec![field("label", FieldType::Text)])
    }
}

register_plugin!(NameClash);
