//! Between the WIT types of `runtime` and the host's own manifest types.

use clientele_kernel::FieldType;

use crate::manifest::{Action, Collection, Computed, CustomField, FieldDef, Manifest, Parent};
use crate::runtime::wit;

fn field_type(t: wit::FieldType) -> FieldType {
    match t {
        wit::FieldType::Text => FieldType::Text,
        wit::FieldType::LongText => FieldType::LongText,
        wit::FieldType::Integer => FieldType::Integer,
        wit::FieldType::Decimal => FieldType::Decimal,
        wit::FieldType::Boolean => FieldType::Boolean,
        wit::FieldType::Date => FieldType::Date,
        wit::FieldType::Datetime => FieldType::Datetime,
        wit::FieldType::Choice => FieldType::Choice,
        wit::FieldType::Reference => FieldType::Reference,
    }
}

fn field(f: wit::FieldDef) -> FieldDef {
    FieldDef {
        name: f.name,
        description: f.description,
        ty: field_type(f.type_),
        required: f.required,
        personal: f.personal,
        searchable: f.searchable,
        exportable: f.exportable,
        choices: f.choices,
        reference: f.reference,
    }
}

fn fields(fs: Vec<wit::FieldDef>) -> Vec<FieldDef> {
    fs.into_iter().map(field).collect()
}

/// The manifest a component's `describe` returned.
pub fn manifest(m: wit::Manifest) -> Manifest {
    Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        collections: m
            .collections
            .into_iter()
            .map(|c| Collection {
                name: c.name,
                plural: c.plural,
                description: c.description,
                parent: match c.parent {
                    wit::Parent::Tenant => Parent::Tenant,
                    wit::Parent::Client => Parent::Client,
                    wit::Parent::Record(r) => Parent::Record(r),
                },
                fields: fields(c.fields),
            })
            .collect(),
        custom_fields: m
            .custom_fields
            .into_iter()
            .map(|c| CustomField { entity: c.entity, field: field(c.field) })
            .collect(),
        computed: m
            .computed
            .into_iter()
            .map(|c| Computed { name: c.name, description: c.description, entity: c.entity, ty: field_type(c.type_) })
            .collect(),
        actions: m
            .actions
            .into_iter()
            .map(|a| Action { name: a.name, description: a.description, input: fields(a.input) })
            .collect(),
        events: m.events,
    }
}
