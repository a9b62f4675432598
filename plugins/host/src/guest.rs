//! The WIT versions a component may be built against, side by side: `clientele:plugin@0.2.0`
//! (the host's own types, [`wit`]) and `@0.1.0`, whose components keep running unchanged. A
//! 0.1.0 component is served through the 0.2.0 host: its calls and answers are converted
//! here, and what 0.1.0 lacks takes the value that keeps its meaning (every field exportable).

use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use crate::runtime::CallState;

pub mod v1 {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/0.1.0",
        imports: { default: trappable },
    });
}

pub mod v2 {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/0.2.0",
        imports: { default: trappable },
    });
}

use v1::clientele::plugin::types as old;
/// The host's WIT types: those of the newest version.
pub use v2::clientele::plugin::types as wit;

/// The WIT package a component must be built against, and the versions this server runs.
pub const WIT_PACKAGE: &str = "clientele:plugin";
pub const WIT_VERSIONS: [&str; 2] = ["0.1.0", "0.2.0"];

/// Adds the host functions of every version to `linker`.
pub fn link_host(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    v2::Plugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |s| s)?;
    v1::Plugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |s| s)
}

/// A component linked against its version, ready to instantiate.
#[derive(Clone)]
pub enum GuestPre {
    V1(v1::PluginPre<CallState>),
    V2(v2::PluginPre<CallState>),
}

impl GuestPre {
    /// Links `component` as the version it imports (`version`), or as either when it imports
    /// none of our interfaces (a plugin of collections only).
    pub fn new(linker: &Linker<CallState>, component: &Component, version: Option<&str>) -> wasmtime::Result<Self> {
        let pre = linker.instantiate_pre(component)?;
        match version {
            Some("0.1.0") => Ok(Self::V1(v1::PluginPre::new(pre)?)),
            Some(_) => Ok(Self::V2(v2::PluginPre::new(pre)?)),
            None => v2::PluginPre::new(pre.clone()).map(Self::V2).or_else(|_| Ok(Self::V1(v1::PluginPre::new(pre)?))),
        }
    }

    pub fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Guest> {
        Ok(match self {
            Self::V1(pre) => Guest::V1(pre.instantiate(store)?),
            Self::V2(pre) => Guest::V2(pre.instantiate(store)?),
        })
    }
}

/// An instance of a plugin, whatever its version; its exports take and give the host's types.
pub enum Guest {
    V1(v1::Plugin),
    V2(v2::Plugin),
}

impl Guest {
    pub fn call_describe(&self, store: &mut Store<CallState>) -> wasmtime::Result<wit::Manifest> {
        match self {
            Self::V1(p) => p.call_describe(store).map(manifest),
            Self::V2(p) => p.call_describe(store),
        }
    }

    pub fn call_validate(
        &self,
        store: &mut Store<CallState>,
        record: &wit::StoredRecord,
    ) -> wasmtime::Result<Result<(), Vec<wit::FieldError>>> {
        match self {
            Self::V1(p) => {
                let answer = p.call_validate(store, &stored_record(record.clone()))?;
                Ok(answer.map_err(|errors| errors.into_iter().map(field_error).collect()))
            }
            Self::V2(p) => p.call_validate(store, record),
        }
    }

    pub fn call_compute(
        &self,
        store: &mut Store<CallState>,
        field: &str,
        ids: &[String],
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        match self {
            Self::V1(p) => p.call_compute(store, field, ids),
            Self::V2(p) => p.call_compute(store, field, ids),
        }
    }

    pub fn call_action(
        &self,
        store: &mut Store<CallState>,
        name: &str,
        input: &str,
    ) -> wasmtime::Result<Result<String, wit::Refusal>> {
        let (name, input) = (&name.to_owned(), &input.to_owned());
        match self {
            Self::V1(p) => Ok(p.call_action(store, name, input)?.map_err(|refusal| match refusal {
                old::Refusal::Invalid(errors) => wit::Refusal::Invalid(errors.into_iter().map(field_error).collect()),
                old::Refusal::Refused(message) => wit::Refusal::Refused(message),
            })),
            Self::V2(p) => p.call_action(store, name, input),
        }
    }

    pub fn call_on_event(
        &self,
        store: &mut Store<CallState>,
        event: &wit::Event,
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Self::V1(p) => {
                let event = old::Event { name: event.name.clone(), record: stored_record(event.record.clone()) };
                p.call_on_event(store, &event)
            }
            Self::V2(p) => p.call_on_event(store, event),
        }
    }
}

fn field_error(e: old::FieldError) -> wit::FieldError {
    wit::FieldError { field: e.field, message: e.message }
}

fn stored_record(r: wit::StoredRecord) -> old::StoredRecord {
    old::StoredRecord {
        id: r.id,
        collection: r.collection,
        parent_id: r.parent_id,
        client_id: r.client_id,
        data: r.data,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn field_type(t: old::FieldType) -> wit::FieldType {
    match t {
        old::FieldType::Text => wit::FieldType::Text,
        old::FieldType::LongText => wit::FieldType::LongText,
        old::FieldType::Integer => wit::FieldType::Integer,
        old::FieldType::Decimal => wit::FieldType::Decimal,
        old::FieldType::Boolean => wit::FieldType::Boolean,
        old::FieldType::Date => wit::FieldType::Date,
        old::FieldType::Datetime => wit::FieldType::Datetime,
        old::FieldType::Choice => wit::FieldType::Choice,
        old::FieldType::Reference => wit::FieldType::Reference,
    }
}

/// A 0.1.0 field: exported, as every field was.
fn field(f: old::FieldDef) -> wit::FieldDef {
    wit::FieldDef {
        name: f.name,
        description: f.description,
        type_: field_type(f.type_),
        required: f.required,
        personal: f.personal,
        searchable: f.searchable,
        exportable: true,
        choices: f.choices,
        reference: f.reference,
    }
}

fn manifest(m: old::Manifest) -> wit::Manifest {
    let fields = |fs: Vec<old::FieldDef>| fs.into_iter().map(field).collect();
    wit::Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        collections: m
            .collections
            .into_iter()
            .map(|c| wit::CollectionDef {
                name: c.name,
                plural: c.plural,
                description: c.description,
                parent: match c.parent {
                    old::Parent::Tenant => wit::Parent::Tenant,
                    old::Parent::Client => wit::Parent::Client,
                    old::Parent::Record(r) => wit::Parent::Record(r),
                },
                fields: fields(c.fields),
            })
            .collect(),
        custom_fields: m
            .custom_fields
            .into_iter()
            .map(|c| wit::CustomFieldDef { entity: c.entity, field: field(c.field) })
            .collect(),
        computed: m
            .computed
            .into_iter()
            .map(|c| wit::ComputedDef {
                name: c.name,
                description: c.description,
                entity: c.entity,
                type_: field_type(c.type_),
            })
            .collect(),
        actions: m
            .actions
            .into_iter()
            .map(|a| wit::ActionDef { name: a.name, description: a.description, input: fields(a.input) })
            .collect(),
        events: m.events,
    }
}

impl old::Host for CallState {}

/// The 0.1.0 host functions: the 0.2.0 ones, their arguments and answers converted.
impl v1::clientele::plugin::host::Host for CallState {
    fn get_record(&mut self, collection: String, id: String) -> wasmtime::Result<Option<old::StoredRecord>> {
        v2::clientele::plugin::host::Host::get_record(self, collection, id).map(|r| r.map(stored_record))
    }

    fn query_records(&mut self, q: old::RecordQuery) -> wasmtime::Result<Vec<old::StoredRecord>> {
        let q = wit::RecordQuery {
            collection: q.collection,
            parent_id: q.parent_id,
            client_ids: q.client_ids,
            limit: q.limit,
        };
        let found = v2::clientele::plugin::host::Host::query_records(self, q)?;
        Ok(found.into_iter().map(stored_record).collect())
    }

    fn put_record(&mut self, r: old::RecordInput) -> wasmtime::Result<Result<old::StoredRecord, String>> {
        let r = wit::RecordInput { id: r.id, collection: r.collection, parent_id: r.parent_id, data: r.data };
        Ok(v2::clientele::plugin::host::Host::put_record(self, r)?.map(stored_record))
    }

    fn delete_record(&mut self, collection: String, id: String) -> wasmtime::Result<bool> {
        v2::clientele::plugin::host::Host::delete_record(self, collection, id)
    }

    fn get_client(&mut self, id: String) -> wasmtime::Result<Option<old::ClientInfo>> {
        let found = v2::clientele::plugin::host::Host::get_client(self, id)?;
        Ok(found.map(|c| old::ClientInfo {
            id: c.id,
            number: c.number,
            display_name: c.display_name,
            email: c.email,
            blocked: c.blocked,
            in_trash: c.in_trash,
        }))
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        v2::clientele::plugin::host::Host::config(self)
    }

    fn now(&mut self) -> wasmtime::Result<String> {
        v2::clientele::plugin::host::Host::now(self)
    }

    fn log(&mut self, level: old::LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            old::LogLevel::Debug => wit::LogLevel::Debug,
            old::LogLevel::Info => wit::LogLevel::Info,
            old::LogLevel::Warn => wit::LogLevel::Warn,
            old::LogLevel::Error => wit::LogLevel::Error,
        };
        v2::clientele::plugin::host::Host::log(self, level, message)
    }
}
