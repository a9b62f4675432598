//! A plugin's manifest as the host keeps it (stored as JSON, hashed into the tenant's schema
//! fingerprint), its checks at upload, and the check of record data against it.

use clientele_kernel::fields::{FieldType, ValueRules, Wording, check_value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The field types a plugin may use: those of `plugins/wit/plugin.wit`.
pub const PLUGIN_FIELD_TYPES: &[FieldType] = &[
    FieldType::Text,
    FieldType::LongText,
    FieldType::Integer,
    FieldType::Decimal,
    FieldType::Boolean,
    FieldType::Date,
    FieldType::Datetime,
    FieldType::Choice,
    FieldType::Reference,
];

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub required: bool,
    pub personal: bool,
    pub searchable: bool,
    /// In the client's data export beside the personal fields (WIT 0.2.0); manifests of 0.1.0
    /// components, and those stored before 0.2.0, export every field.
    #[serde(default = "exported")]
    pub exportable: bool,
    pub choices: Vec<String>,
    pub reference: Option<String>,
}

const fn exported() -> bool {
    true
}

impl FieldDef {
    /// An optional, non-personal, non-searchable, non-exported field.
    pub fn plain(name: &str, ty: FieldType) -> Self {
        Self {
            name: name.to_owned(),
            description: String::new(),
            ty,
            required: false,
            personal: false,
            searchable: false,
            exportable: false,
            choices: Vec::new(),
            reference: None,
        }
    }
}

/// What a collection's records attach to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parent {
    Tenant,
    Client,
    Record(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Collection {
    pub name: String,
    pub plural: String,
    pub description: String,
    pub parent: Parent,
    pub fields: Vec<FieldDef>,
}

/// The entity of a client's custom field.
pub const CLIENT: &str = "client";
/// The entity of a setting of the plugin: the supplier gives its value for each organisation
/// when it enables the plugin (the console's form is made of these fields), the host checks it,
/// and the plugin reads it with `config`.
pub const CONFIG: &str = "config";

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomField {
    /// [`CLIENT`] or [`CONFIG`].
    pub entity: String,
    pub field: FieldDef,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Computed {
    pub name: String,
    pub description: String,
    pub entity: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Action {
    pub name: String,
    pub description: String,
    pub input: Vec<FieldDef>,
}

/// Everything a plugin declares in `describe`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    pub collections: Vec<Collection>,
    pub custom_fields: Vec<CustomField>,
    pub computed: Vec<Computed>,
    pub actions: Vec<Action>,
    pub events: Vec<String>,
}

/// Field names the host itself puts on every record type.
const RESERVED: &[&str] = &["id", "clientId", "parentId", "version", "createdAt", "updatedAt", "client"];

/// Sizes a manifest may not exceed.
const MAX_COLLECTIONS: usize = 20;
const MAX_FIELDS: usize = 50;

/// How plugin field values are checked: text of at most 500 and 10 000 characters, decimals of
/// at most 15 digits and 6 decimals.
const RULES: ValueRules = ValueRules {
    text_max: 500,
    long_text_max: 10_000,
    decimal_digits: Some((15, 6)),
    as_written: true,
    wording: Wording::Expected,
};

fn camel(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric()) && name.len() <= 40
}

/// `pet` → `Pet`, `petEvent` → `PetEvent`.
pub fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

impl Manifest {
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// Whether a collection's records belong to a client, directly or through their parents.
    fn client_owned(&self, collection: &Collection) -> bool {
        let mut parent = &collection.parent;
        // Parents come first (checked in `problems`), so the walk ends.
        for _ in 0..=self.collections.len() {
            match parent {
                Parent::Client => return true,
                Parent::Tenant => return false,
                Parent::Record(name) => match self.collection(name) {
                    Some(c) => parent = &c.parent,
                    None => return false,
                },
            }
        }
        false
    }

    /// The fields the plugin adds to clients.
    pub fn client_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields_of(CLIENT)
    }

    /// The plugin's settings, given per organisation when it is enabled.
    pub fn config_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields_of(CONFIG)
    }

    fn fields_of<'a>(&'a self, entity: &'a str) -> impl Iterator<Item = &'a FieldDef> {
        self.custom_fields.iter().filter(move |f| f.entity == entity).map(|f| &f.field)
    }

    /// Checks an organisation's config against [`Self::config_fields`]: unknown keys, wrong
    /// types, missing required values, one problem per field; normalised as record data is.
    pub fn check_config(&self, config: &Value) -> Result<Map<String, Value>, Vec<FieldProblem>> {
        let fields: Vec<FieldDef> = self.config_fields().cloned().collect();
        check_data(&fields, config)
    }

    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The GraphQL type names the manifest's declarations make, each with the manifest field
    /// it comes from (as `areas/plugins` in the GraphQL crate names them): a collection's
    /// type, input and payload, an action's input, and an enum per choice field.
    pub fn type_names(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let choices = |out: &mut Vec<(String, String)>, ty: &str, at: &str, fields: &[FieldDef]| {
            for (j, f) in fields.iter().enumerate().filter(|(_, f)| f.ty == FieldType::Choice) {
                out.push((format!("{ty}{}", pascal(&f.name)), format!("{at}.{j}.name")));
            }
        };
        for (i, c) in self.collections.iter().enumerate() {
            let (ty, at) = (pascal(&c.name), format!("collections.{i}.name"));
            for suffix in ["", "Input", "Payload"] {
                out.push((format!("{ty}{suffix}"), at.clone()));
            }
            choices(&mut out, &ty, &format!("collections.{i}.fields"), &c.fields);
        }
        for (i, a) in self.actions.iter().enumerate().filter(|(_, a)| !a.input.is_empty()) {
            let ty = pascal(&a.name);
            out.push((format!("{ty}Input"), format!("actions.{i}.name")));
            choices(&mut out, &ty, &format!("actions.{i}.input"), &a.input);
        }
        for (i, f) in self.custom_fields.iter().enumerate().filter(|(_, f)| f.entity == CLIENT) {
            choices(&mut out, "Client", &format!("customFields.{i}.field"), std::slice::from_ref(&f.field));
        }
        out
    }

    /// Every problem with the manifest's names and references, empty when it is sound.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let names = self.type_names();
        for (i, (name, at)) in names.iter().enumerate() {
            if let Some((_, first)) = names[..i].iter().find(|(n, _)| n == name) {
                out.push(format!("`{at}` makes the GraphQL type `{name}`, as `{first}` does"));
            }
        }
        let lower = |s: &str| !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        if !lower(&self.name) {
            out.push(format!("plugin name `{}` must be lower-case letters and dashes", self.name));
        }
        if self.version.is_empty() || self.version.len() > 40 {
            out.push("the version must be 1 to 40 characters".into());
        }
        if self.collections.len() > MAX_COLLECTIONS {
            out.push(format!("at most {MAX_COLLECTIONS} collections"));
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, c) in self.collections.iter().enumerate() {
            for n in [&c.name, &c.plural] {
                if !camel(n) {
                    out.push(format!("collection name `{n}` must be camelCase"));
                }
            }
            if names.contains(&c.name.as_str()) {
                out.push(format!("collection `{}` is declared twice", c.name));
            }
            names.push(&c.name);
            // A parent collection comes first: no cycles, and a record's client is its parent's.
            if let Parent::Record(parent) = &c.parent
                && !self.collections[..i].iter().any(|p| &p.name == parent)
            {
                out.push(format!("collection `{}`: parent `{parent}` must be declared before it", c.name));
            }
            Self::check_fields(&mut out, &format!("collection `{}`", c.name), &c.fields, &self.collections, true);
        }
        for cf in &self.custom_fields {
            match cf.entity.as_str() {
                CLIENT => {}
                CONFIG => {
                    let f = &cf.field;
                    if f.personal || f.searchable || f.ty == FieldType::Reference {
                        out.push(format!(
                            "config field `{}`: a setting is not personal, searchable or a reference",
                            f.name
                        ));
                    }
                }
                _ => out.push(format!("custom field `{}`: the entity must be `client` or `config`", cf.field.name)),
            }
        }
        let client: Vec<FieldDef> = self.client_fields().cloned().collect();
        Self::check_fields(&mut out, "custom fields", &client, &self.collections, true);
        // What a client's search document holds is erased with the client: a searchable field
        // of a client's records identifies the client (a number plate, a chip number).
        let of_clients = self
            .collections
            .iter()
            .filter(|c| self.client_owned(c))
            .flat_map(|c| c.fields.iter().map(move |f| (format!("collection `{}`", c.name), f)));
        for (owner, f) in of_clients.chain(client.iter().map(|f| ("custom fields".to_owned(), f))) {
            if f.searchable && !f.personal {
                out.push(format!(
                    "{owner}: searchable field `{}` is indexed with the client, so it must be personal (erased with the client)",
                    f.name
                ));
            }
        }
        let config: Vec<FieldDef> = self.config_fields().cloned().collect();
        Self::check_fields(&mut out, "config fields", &config, &self.collections, false);
        for c in &self.computed {
            if !camel(&c.name) {
                out.push(format!("computed field `{}` must be camelCase", c.name));
            }
            if c.entity != "client" && self.collection(&c.entity).is_none() {
                out.push(format!("computed field `{}`: unknown entity `{}`", c.name, c.entity));
            }
            if !PLUGIN_FIELD_TYPES.contains(&c.ty) {
                out.push(format!("computed field `{}`: plugins cannot use type `{}`", c.name, c.ty.as_str()));
            } else if matches!(c.ty, FieldType::Choice | FieldType::Reference) {
                out.push(format!("computed field `{}`: choice and reference are not computable", c.name));
            }
        }
        for a in &self.actions {
            if !camel(&a.name) {
                out.push(format!("action `{}` must be camelCase", a.name));
            }
            // An action's input is its own: the record fields' reserved names are free there.
            Self::check_fields(&mut out, &format!("action `{}`", a.name), &a.input, &self.collections, false);
        }
        for e in &self.events {
            let ok = e.split_once('.').is_some_and(|(c, verb)| {
                self.collection(c).is_some() && matches!(verb, "created" | "updated" | "deleted")
            });
            if !ok {
                out.push(format!("event `{e}` must be `<collection>.created|updated|deleted`"));
            }
        }
        out
    }

    fn check_fields(
        out: &mut Vec<String>,
        owner: &str,
        fields: &[FieldDef],
        collections: &[Collection],
        reserved: bool,
    ) {
        if fields.len() > MAX_FIELDS {
            out.push(format!("{owner}: at most {MAX_FIELDS} fields"));
        }
        for (i, f) in fields.iter().enumerate() {
            if !camel(&f.name) || (reserved && RESERVED.contains(&f.name.as_str())) {
                out.push(format!("{owner}: field name `{}` must be camelCase and not reserved", f.name));
            }
            if fields[..i].iter().any(|g| g.name == f.name) {
                out.push(format!("{owner}: field `{}` is declared twice", f.name));
            }
            if !PLUGIN_FIELD_TYPES.contains(&f.ty) {
                out.push(format!("{owner}: field `{}`: plugins cannot use type `{}`", f.name, f.ty.as_str()));
            }
            let upper = |s: &String| {
                s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            };
            if f.ty == FieldType::Choice && (f.choices.is_empty() || !f.choices.iter().all(upper)) {
                out.push(format!("{owner}: choice field `{}` needs UPPER_SNAKE_CASE choices", f.name));
            }
            if f.ty == FieldType::Reference
                && !f.reference.as_ref().is_some_and(|r| collections.iter().any(|c| &c.name == r))
            {
                out.push(format!("{owner}: reference field `{}` must name one of the plugin's collections", f.name));
            }
        }
    }
}

/// A problem with one field of record data: (field, message).
pub type FieldProblem = (String, String);

/// Checks `data` against `fields` and returns it normalised (text trimmed, empty text as
/// absent). Unknown keys, wrong types, missing required values: one problem per field.
pub fn check_data(fields: &[FieldDef], data: &Value) -> Result<Map<String, Value>, Vec<FieldProblem>> {
    let Value::Object(input) = data else {
        return Err(vec![("data".into(), "Give the record's fields as an object.".into())]);
    };
    let mut problems = Vec::new();
    for key in input.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            problems.push((key.clone(), "Unknown field.".into()));
        }
    }
    let mut out = Map::new();
    for f in fields {
        let value = input.get(&f.name).unwrap_or(&Value::Null);
        match check_value(f.ty, &f.choices, value, &RULES) {
            Ok(Value::Null) if f.required => problems.push((f.name.clone(), "Required.".into())),
            Ok(Value::Null) => {}
            Ok(v) => {
                out.insert(f.name.clone(), v);
            }
            Err(message) => problems.push((f.name.clone(), message)),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str, ty: FieldType) -> FieldDef {
        FieldDef::plain(name, ty)
    }

    #[test]
    fn data_is_checked_field_by_field() {
        let fields = vec![
            FieldDef { required: true, ..f("name", FieldType::Text) },
            f("birthDate", FieldType::Date),
            FieldDef { choices: vec!["MALE".into(), "FEMALE".into()], ..f("sex", FieldType::Choice) },
            f("weight", FieldType::Decimal),
        ];
        let ok = check_data(&fields, &json!({ "name": " Rex ", "birthDate": "2020-02-29", "weight": "12.5" }));
        assert_eq!(
            ok.unwrap(),
            json!({ "name": "Rex", "birthDate": "2020-02-29", "weight": "12.5" }).as_object().cloned().unwrap()
        );
        let bad = check_data(
            &fields,
            &json!({ "name": "  ", "birthDate": "2021-02-29", "sex": "X", "weight": "1e3", "x": 1 }),
        )
        .unwrap_err();
        let named: Vec<&str> = bad.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(named, ["x", "name", "birthDate", "sex", "weight"]);
    }

    #[test]
    fn manifests_with_dangling_names_are_refused() {
        let manifest = Manifest {
            name: "Pets".into(),
            version: "1".into(),
            description: String::new(),
            collections: vec![Collection {
                name: "petEvent".into(),
                plural: "history".into(),
                description: String::new(),
                parent: Parent::Record("pet".into()),
                fields: vec![f("id", FieldType::Text)],
            }],
            custom_fields: Vec::new(),
            computed: vec![Computed {
                name: "age".into(),
                description: String::new(),
                entity: "dog".into(),
                ty: FieldType::Integer,
            }],
            actions: Vec::new(),
            events: vec!["pet.eaten".into()],
        };
        assert_eq!(manifest.problems().len(), 5, "{:?}", manifest.problems());
    }

    #[test]
    fn only_plugin_field_types_are_accepted() {
        let manifest = Manifest {
            name: "tags".into(),
            version: "1".into(),
            description: String::new(),
            collections: vec![Collection {
                name: "tag".into(),
                plural: "tags".into(),
                description: String::new(),
                parent: Parent::Client,
                fields: vec![FieldDef { choices: vec!["A".into()], ..f("labels", FieldType::MultiChoice) }],
            }],
            custom_fields: Vec::new(),
            computed: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        };
        assert_eq!(manifest.problems(), ["collection `tag`: field `labels`: plugins cannot use type `multi_choice`"]);
    }

    #[test]
    fn stored_field_types_read_back() {
        let stored = json!({ "name": "notes", "description": "", "type": "long_text", "required": false,
                             "personal": true, "searchable": false, "choices": [], "reference": null });
        let def: FieldDef = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(def.ty, FieldType::LongText);
        // Stored before WIT 0.2.0 (no `exportable`): exported, as every field was then.
        assert!(def.exportable);
        let mut written = stored;
        written["exportable"] = json!(true);
        assert_eq!(serde_json::to_value(&def).unwrap(), written);
    }

    #[test]
    fn two_declarations_never_make_one_type() {
        let collection = |name: &str, fields| Collection {
            name: name.into(),
            plural: format!("{name}s"),
            description: String::new(),
            parent: Parent::Client,
            fields,
        };
        let sex = FieldDef { choices: vec!["MALE".into()], ..f("sex", FieldType::Choice) };
        let manifest = Manifest {
            name: "pets".into(),
            version: "1".into(),
            description: String::new(),
            collections: vec![
                collection("pet", vec![sex]),
                collection("petSex", vec![]),
                collection("petEvent", vec![]),
            ],
            custom_fields: Vec::new(),
            computed: Vec::new(),
            actions: vec![Action {
                name: "petEvent".into(),
                description: String::new(),
                input: vec![f("at", FieldType::Date)],
            }],
            events: Vec::new(),
        };
        assert_eq!(
            manifest.problems(),
            [
                "`collections.1.name` makes the GraphQL type `PetSex`, as `collections.0.fields.0.name` does",
                "`actions.0.name` makes the GraphQL type `PetEventInput`, as `collections.2.name` does",
            ]
        );
    }

    #[test]
    fn searchable_fields_of_a_clients_records_are_personal() {
        let collection = |name: &str, parent, fields| Collection {
            name: name.into(),
            plural: format!("{name}s"),
            description: String::new(),
            parent,
            fields,
        };
        let plate = FieldDef { searchable: true, ..f("plate", FieldType::Text) };
        let manifest = Manifest {
            name: "garage".into(),
            version: "1".into(),
            description: String::new(),
            collections: vec![
                // A tenant's list may be searchable without being personal.
                collection("brand", Parent::Tenant, vec![FieldDef { searchable: true, ..f("name", FieldType::Text) }]),
                collection("car", Parent::Client, vec![FieldDef { personal: true, ..plate.clone() }]),
                collection("repair", Parent::Record("car".into()), vec![plate.clone()]),
            ],
            custom_fields: vec![CustomField {
                entity: CLIENT.into(),
                field: FieldDef { searchable: true, ..f("fleet", FieldType::Text) },
            }],
            computed: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        };
        assert_eq!(
            manifest.problems(),
            [
                "collection `repair`: searchable field `plate` is indexed with the client, so it must be personal (erased with the client)",
                "custom fields: searchable field `fleet` is indexed with the client, so it must be personal (erased with the client)",
            ]
        );
    }

    #[test]
    fn config_fields_are_settings() {
        let setting = |field: FieldDef| CustomField { entity: CONFIG.into(), field };
        let manifest = Manifest {
            name: "shop".into(),
            version: "1".into(),
            description: String::new(),
            collections: Vec::new(),
            custom_fields: vec![
                setting(FieldDef { required: true, ..f("shop", FieldType::Text) }),
                setting(f("reminderDays", FieldType::Integer)),
                setting(FieldDef { personal: true, ..f("owner", FieldType::Text) }),
                CustomField { entity: "order".into(), field: f("x", FieldType::Text) },
            ],
            computed: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        };
        assert_eq!(
            manifest.problems(),
            [
                "config field `owner`: a setting is not personal, searchable or a reference",
                "custom field `x`: the entity must be `client` or `config`",
            ]
        );
        assert_eq!(manifest.client_fields().count(), 0);
        let clean = manifest.check_config(&json!({ "shop": " Le Chenil ", "reminderDays": 30 })).unwrap();
        assert_eq!(Value::Object(clean), json!({ "shop": "Le Chenil", "reminderDays": 30 }));
        let refused = manifest.check_config(&json!({ "reminderDays": "soon", "colour": 1 })).unwrap_err();
        let fields: Vec<&str> = refused.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["colour", "shop", "reminderDays"]);
    }

    #[test]
    fn type_names_are_pascal_case() {
        assert_eq!(pascal("petEvent"), "PetEvent");
    }
}
