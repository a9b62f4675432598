//! Write Clientele plugins in Rust.
//!
//! A plugin is a `cdylib` crate built with `cargo build --release --target wasm32-wasip2`. It
//! implements [`Plugin`] (only `describe` is required) and calls [`register_plugin!`] once:
//!
//! ```ignore
//! use clientele_plugin_sdk::*;
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn describe() -> Manifest {
//!         Manifest::new("hello", "0.1.0", "Greets clients.").collection(
//!             collection("greeting", "greetings", Parent::Client)
//!                 .field(field("text", FieldType::Text).required()),
//!         )
//!     }
//! }
//!
//! register_plugin!(Hello);
//! ```
//!
//! The host stores the records, checks them against the manifest, and serves them through
//! GraphQL; code runs only for `validate`, `compute`, `action` and `on_event`.

/// The generated bindings of `clientele:plugin@0.2.0` (`plugins/wit/0.2.0/plugin.wit`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../wit/0.2.0",
        pub_export_macro: true,
        export_macro_name: "export_plugin",
        default_bindings_module: "clientele_plugin_sdk::bindings",
    });
}

pub use bindings::clientele::plugin::host;
pub use bindings::clientele::plugin::types::{
    ActionDef, ClientInfo, CollectionDef, ComputedDef, CustomFieldDef, Event, FieldDef, FieldError, FieldType, Json,
    LogLevel, Manifest, Parent, RecordInput, RecordQuery, Refusal, StaffMember, StoredRecord,
};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a plugin implements. Everything but `describe` has a default: a plugin with only
/// collections needs no code at all.
pub trait Plugin {
    /// The manifest: collections, custom fields, computed fields, actions and events.
    fn describe() -> Manifest;

    /// Checks a record the host has already checked against the manifest (types, required
    /// fields, choices). Return one error per offending field.
    fn validate(_record: StoredRecord) -> Result<(), Vec<FieldError>> {
        Ok(())
    }

    /// Values of the computed field `field` for each id, in the same order.
    fn compute(field: String, _ids: Vec<String>) -> Result<Vec<Json>, String> {
        Err(format!("unknown computed field {field}"))
    }

    /// Runs an action declared in the manifest.
    fn action(name: String, _input: Json) -> Result<Json, Refusal> {
        Err(Refusal::Refused(format!("unknown action {name}")))
    }

    /// Reacts to an event listed in the manifest.
    fn on_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

/// Exports a [`Plugin`] implementation as the component's `plugin` world.
#[macro_export]
macro_rules! register_plugin {
    ($plugin:ty) => {
        struct __ClientelePluginExport;

        impl $crate::bindings::Guest for __ClientelePluginExport {
            fn describe() -> $crate::Manifest {
                $crate::panic_hook();
                <$plugin as $crate::Plugin>::describe()
            }
            fn validate(record: $crate::StoredRecord) -> Result<(), Vec<$crate::FieldError>> {
                $crate::panic_hook();
                <$plugin as $crate::Plugin>::validate(record)
            }
            fn compute(field: String, ids: Vec<String>) -> Result<Vec<$crate::Json>, String> {
                $crate::panic_hook();
                <$plugin as $crate::Plugin>::compute(field, ids)
            }
            fn action(name: String, input: $crate::Json) -> Result<$crate::Json, $crate::Refusal> {
                $crate::panic_hook();
                <$plugin as $crate::Plugin>::action(name, input)
            }
            fn on_event(event: $crate::Event) -> Result<(), String> {
                $crate::panic_hook();
                <$plugin as $crate::Plugin>::on_event(event)
            }
        }

        $crate::bindings::export_plugin!(__ClientelePluginExport with_types_in $crate::bindings);
    };
}

/// Sends a panic's message and place to the host's log (level error) instead of std's default
/// hook, which would ask for the environment (refused: the call would end with an unrelated
/// `wasi:cli/environment` trap). Installed by every export of [`register_plugin!`]; the call
/// still ends, as a plugin failure the supplier sees with this message.
#[doc(hidden)]
pub fn panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| host::log(LogLevel::Error, &format!("panic: {info}"))));
    });
}

impl Manifest {
    /// An empty manifest; add to it with the builder methods.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            collections: Vec::new(),
            custom_fields: Vec::new(),
            computed: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        }
    }

    #[must_use]
    pub fn collection(mut self, collection: CollectionDef) -> Self {
        self.collections.push(collection);
        self
    }

    /// A field added to a core entity ("client").
    #[must_use]
    pub fn custom_field(mut self, entity: &str, field: FieldDef) -> Self {
        self.custom_fields.push(CustomFieldDef { entity: entity.into(), field });
        self
    }

    /// A setting of the plugin, given per organisation by the supplier who enables it (read it
    /// with `host::config()`).
    #[must_use]
    pub fn config_field(self, field: FieldDef) -> Self {
        self.custom_field("config", field)
    }

    /// A computed read-only field on "client" or on one of the plugin's collections.
    #[must_use]
    pub fn computed(mut self, entity: &str, name: &str, ty: FieldType, description: &str) -> Self {
        self.computed.push(ComputedDef {
            name: name.into(),
            description: description.into(),
            entity: entity.into(),
            type_: ty,
        });
        self
    }

    #[must_use]
    pub fn action(mut self, name: &str, description: &str, input: Vec<FieldDef>) -> Self {
        self.actions.push(ActionDef { name: name.into(), description: description.into(), input });
        self
    }

    /// Listens to `<collection>.created|updated|deleted`.
    #[must_use]
    pub fn on(mut self, event: &str) -> Self {
        self.events.push(event.into());
        self
    }
}

/// A collection of records attached to `parent`.
pub fn collection(name: &str, plural: &str, parent: Parent) -> CollectionDef {
    CollectionDef { name: name.into(), plural: plural.into(), description: String::new(), parent, fields: Vec::new() }
}

impl CollectionDef {
    #[must_use]
    pub fn field(mut self, field: FieldDef) -> Self {
        self.fields.push(field);
        self
    }

    #[must_use]
    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }
}

/// An optional, non-personal, non-searchable field, left out of the client's data export.
pub fn field(name: &str, ty: FieldType) -> FieldDef {
    FieldDef {
        name: name.into(),
        description: String::new(),
        type_: ty,
        required: false,
        personal: false,
        searchable: false,
        exportable: false,
        choices: Vec::new(),
        reference: None,
    }
}

impl FieldDef {
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Personal data: exported and erased with the client (GDPR).
    #[must_use]
    pub fn personal(mut self) -> Self {
        self.personal = true;
        self
    }

    #[must_use]
    pub fn searchable(mut self) -> Self {
        self.searchable = true;
        self
    }

    /// In the client's data export (GDPR access) though not personal; personal fields always
    /// are. Leave it out for what means nothing to the client (counters, caches, ids).
    #[must_use]
    pub fn exportable(mut self) -> Self {
        self.exportable = true;
        self
    }

    #[must_use]
    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }

    /// The allowed values of a `choice` field.
    #[must_use]
    pub fn choices(mut self, choices: &[&str]) -> Self {
        self.choices = choices.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// The collection a `reference` field points into.
    #[must_use]
    pub fn references(mut self, collection: &str) -> Self {
        self.reference = Some(collection.into());
        self
    }
}

/// A problem with one field, for `validate` and actions.
pub fn invalid(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// A record's data as a typed value.
pub fn data<T: DeserializeOwned>(record: &StoredRecord) -> Result<T, String> {
    serde_json::from_str(&record.data).map_err(|e| format!("record {} has unexpected data: {e}", record.id))
}

/// Serialises a value as the JSON text the host expects.
pub fn to_json<T: Serialize>(value: &T) -> Json {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Parses an action's input (or any JSON text) into a typed value; a mismatch is a refusal.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Refusal> {
    serde_json::from_str(json).map_err(|e| Refusal::Refused(format!("unexpected input: {e}")))
}

/// The host functions, with typed data.
pub mod records {
    use super::{RecordInput, RecordQuery, StoredRecord, host};
    use serde::Serialize;

    /// One of this plugin's records.
    pub fn get(collection: &str, id: &str) -> Option<StoredRecord> {
        host::get_record(collection, id)
    }

    /// Records of `collection` under `parent` (a client or a record), oldest first.
    pub fn children(collection: &str, parent: &str) -> Vec<StoredRecord> {
        host::query_records(&RecordQuery {
            collection: collection.into(),
            parent_id: Some(parent.into()),
            client_ids: Vec::new(),
            limit: 1000,
        })
    }

    /// Records of `collection` belonging to any of `clients`, oldest first: one host call.
    pub fn of_clients(collection: &str, clients: &[String]) -> Vec<StoredRecord> {
        host::query_records(&RecordQuery {
            collection: collection.into(),
            parent_id: None,
            client_ids: clients.to_vec(),
            limit: 1000,
        })
    }

    /// Every record of a tenant-wide collection (at most 1000).
    pub fn all(collection: &str) -> Vec<StoredRecord> {
        host::query_records(&RecordQuery {
            collection: collection.into(),
            parent_id: None,
            client_ids: Vec::new(),
            limit: 1000,
        })
    }

    /// Writes a record: `id: None` creates one. The write lands when the current call succeeds.
    pub fn put<T: Serialize>(
        collection: &str,
        id: Option<&str>,
        parent: Option<&str>,
        data: &T,
    ) -> Result<StoredRecord, String> {
        host::put_record(&RecordInput {
            id: id.map(Into::into),
            collection: collection.into(),
            parent_id: parent.map(Into::into),
            data: super::to_json(data),
        })
    }
}
