//! Which column feeds which field, and how a cell's text becomes a `ClientInput` value.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::table::Table;
use super::{ColumnMapping, ImportField, ImportPreview, PreviewColumn};
use crate::clients::custom_fields::CustomFieldDef;
use crate::clients::export::{CORE_COLUMNS, Names, custom_header};
use crate::clients::fields::{FIELDS, FieldValue, Kind, Target as Refers, camel, choice_of, spec};
use crate::clients::model::ClientInput;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::fields::FieldType;
use clientele_kernel::ids::{CategoryId, GroupId};

/// A hand-written client field an import can set (the others come from the client table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum Hand {
    Code,
    Kind,
    Mobile,
    HomePhone,
    WorkPhone,
}

/// Where a column's values go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A field of the client table, by domain name.
    Core(&'static str),
    Hand(Hand),
    Custom(CustomFieldDef),
}

/// A mapped column: its index in the file, the field name as given, and its target.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub index: usize,
    pub field: String,
    pub target: Target,
}

/// The target of a field as a mapping names it: its GraphQL name (`lastName`,
/// `customFields.shoeSize`) or its domain name (`last_name`).
fn target(field: &str, defs: &[CustomFieldDef]) -> Option<Target> {
    if let Some(key) = field.strip_prefix("customFields.").or_else(|| field.strip_prefix("custom_fields.")) {
        return defs.iter().find(|d| d.active && d.key == key).cloned().map(Target::Custom);
    }
    let named = |name: &str| name == field || camel(name) == field;
    if let Some(spec) = FIELDS.iter().find(|f| f.input && f.import && named(f.name)) {
        return Some(Target::Core(spec.name));
    }
    [Hand::Code, Hand::Kind, Hand::Mobile, Hand::HomePhone, Hand::WorkPhone]
        .into_iter()
        .find(|h| named(<&str>::from(*h)))
        .map(Target::Hand)
}

/// The domain name of a target (`last_name`, `custom_fields.shoeSize`).
fn field_name(target: &Target) -> String {
    match target {
        Target::Core(name) => (*name).to_owned(),
        Target::Hand(h) => <&str>::from(*h).to_owned(),
        Target::Custom(def) => format!("custom_fields.{}", def.key),
    }
}

/// The headers French shops' files use (their tills' and spreadsheets' exports), compared
/// without case, accents or punctuation, and the field each names.
const FRENCH_HEADERS: &[(&str, &str)] = &[
    ("nom", "last_name"),
    ("nom de famille", "last_name"),
    ("prenom", "first_name"),
    ("civilite", "civility"),
    ("raison sociale", "company_name"),
    ("societe", "company_name"),
    ("entreprise", "company_name"),
    ("courriel", "email"),
    ("mail", "email"),
    ("adresse email", "email"),
    ("adresse mail", "email"),
    ("portable", "mobile"),
    ("tel portable", "mobile"),
    ("telephone portable", "mobile"),
    ("telephone", "home_phone"),
    ("tel", "home_phone"),
    ("tel fixe", "home_phone"),
    ("telephone fixe", "home_phone"),
    ("tel domicile", "home_phone"),
    ("tel pro", "work_phone"),
    ("telephone professionnel", "work_phone"),
    ("telephone bureau", "work_phone"),
    ("date de naissance", "birth_date"),
    ("code client", "code"),
    ("categorie", "category"),
    ("groupe", "group"),
    ("etablissement", "establishment"),
    ("code comptable", "accounting_code"),
    ("remarque", "notes"),
    ("remarques", "notes"),
    ("notes", "notes"),
    ("alerte", "alert"),
];

/// A header as [`FRENCH_HEADERS`] holds it: lower case, French accents and punctuation gone.
fn folded(header: &str) -> String {
    let plain: String = header
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a header means without a mapping: an export's header, a French shop's header, a field
/// name, or a custom field's label or key. `Some(None)`: a column an export writes that an
/// import does not set (`Number`, `Created at`); `None`: a header that names nothing.
fn guess(header: &str, defs: &[CustomFieldDef]) -> Option<Option<Target>> {
    if let Some(core) = CORE_COLUMNS.iter().find(|c| c.is_named(header)) {
        return Some(core.field.and_then(|f| target(f, defs)));
    }
    // Either language's export may have set a custom field's header apart from a core one.
    let labels: Vec<String> = CORE_COLUMNS.iter().flat_map(|c| [c.header.en, c.header.fr]).map(str::to_owned).collect();
    let custom = defs.iter().filter(|d| d.active).find(|d| {
        custom_header(d, &labels).eq_ignore_ascii_case(header)
            || d.label.eq_ignore_ascii_case(header)
            || d.key == header
    });
    let found = custom.cloned().map(Target::Custom).or_else(|| target(header, defs));
    let french = || FRENCH_HEADERS.iter().find(|(h, _)| *h == folded(header)).and_then(|(_, f)| target(f, defs));
    found.or_else(french).map(Some)
}

/// Resolves the mapping (or guesses one from the headers) to file columns.
pub(crate) fn plan(
    headers: &[String],
    mapping: Option<&[ColumnMapping]>,
    defs: &[CustomFieldDef],
) -> AppResult<Vec<Column>> {
    let mut columns: Vec<Column> = Vec::new();
    let mut errors = Vec::new();
    if let Some(mapping) = mapping {
        if mapping.is_empty() {
            errors.push(AppError::invalid("mapping", "Map at least one column to a client field."));
        }
        for m in mapping {
            let index = headers.iter().position(|h| h.eq_ignore_ascii_case(m.column.trim()));
            let Some(index) = index else {
                errors.push(AppError::invalid("mapping", format!("The file has no column named \"{}\".", m.column)));
                continue;
            };
            let Some(target) = target(m.field.trim(), defs) else {
                errors.push(AppError::invalid("mapping", format!("\"{}\" is not a field an import can set.", m.field)));
                continue;
            };
            columns.push(Column { index, field: field_name(&target), target });
        }
    } else {
        let mut unknown = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            match guess(header, defs) {
                Some(Some(target)) => columns.push(Column { index, field: field_name(&target), target }),
                Some(None) => {}
                None if header.trim().is_empty() => {}
                None => unknown.push(format!("\"{header}\"")),
            }
        }
        if columns.is_empty() {
            errors.push(AppError::invalid("mapping", "No column header names a client field: give a mapping."));
        } else if !unknown.is_empty() {
            // Said before any row: a column read as nothing would lose its data without a word.
            let list = unknown.join(", ");
            let message =
                format!("These columns name no client field: {list}. Give a mapping of the columns to import.");
            errors.push(AppError::invalid("mapping", message));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for c in &columns {
        if !seen.insert(c.field.as_str()) {
            errors.push(AppError::invalid("mapping", format!("Two columns feed {}.", camel(&c.field))));
        }
    }
    match AppError::all(errors) {
        Some(err) => Err(err),
        None => Ok(columns),
    }
}

/// Values shown per column in a preview.
const SAMPLES: usize = 3;

/// What each header of `table` feeds without a mapping, with its first non-empty values, and
/// every field a mapping can name.
pub(crate) fn preview(table: &Table, defs: &[CustomFieldDef]) -> ImportPreview {
    let columns = table
        .headers
        .iter()
        .enumerate()
        .map(|(index, header)| PreviewColumn {
            header: header.clone(),
            field: guess(header, defs).flatten().map(|t| field_name(&t)),
            samples: table
                .rows
                .iter()
                .filter_map(|row| row.cells.get(index))
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .take(SAMPLES)
                .map(str::to_owned)
                .collect(),
        })
        .collect();
    ImportPreview { columns, fields: choices(defs), rows: table.rows.len() }
}

/// Every field a mapping can name, in the export's column order, then the active custom fields.
fn choices(defs: &[CustomFieldDef]) -> Vec<ImportField> {
    let core = CORE_COLUMNS.iter().filter_map(|c| {
        let name = c.field?;
        target(name, defs).is_some().then(|| ImportField { name: name.to_owned(), label: c.header.en.to_owned() })
    });
    let unexported = FIELDS
        .iter()
        .filter(|f| f.input && f.import && !CORE_COLUMNS.iter().any(|c| c.field == Some(f.name)))
        .map(|f| ImportField { name: f.name.to_owned(), label: camel(f.name) });
    let custom = defs
        .iter()
        .filter(|d| d.active)
        .map(|d| ImportField { name: format!("custom_fields.{}", d.key), label: d.label.clone() });
    core.chain(unexported).chain(custom).collect()
}

/// Category and group ids by lower-cased name, for cells that name them.
pub(crate) struct Lookups {
    categories: HashMap<String, CategoryId>,
    groups: HashMap<String, GroupId>,
}

impl Lookups {
    pub(crate) fn new(names: Names) -> Self {
        Self {
            categories: names.categories.into_iter().map(|(id, n)| (n.to_lowercase(), id)).collect(),
            groups: names.groups.into_iter().map(|(id, n)| (n.to_lowercase(), id)).collect(),
        }
    }

    /// A category named by id or name.
    fn category(&self, raw: &str) -> Option<uuid::Uuid> {
        let id = raw.trim().parse::<CategoryId>().ok();
        id.or_else(|| self.categories.get(&raw.trim().to_lowercase()).copied()).map(|c| c.0)
    }

    fn group(&self, raw: &str) -> Option<uuid::Uuid> {
        let id = raw.trim().parse::<GroupId>().ok();
        id.or_else(|| self.groups.get(&raw.trim().to_lowercase()).copied()).map(|g| g.0)
    }
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "x" | "oui" | "o" | "vrai" => Ok(true),
        "false" | "no" | "n" | "0" | "non" | "faux" => Ok(false),
        _ => Err("Use true or false.".into()),
    }
}

/// ISO dates, or day/month/year as French spreadsheets write them.
fn date(raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| "Use a date as YYYY-MM-DD.".into())
}

/// A decimal with a comma or a point.
fn decimal(raw: &str) -> String {
    raw.trim().replace(',', ".")
}

fn custom_value(def: &CustomFieldDef, raw: &str) -> Result<Value, String> {
    let pick = |item: &str| {
        let item = item.trim();
        def.choices.iter().find(|c| c.eq_ignore_ascii_case(item)).cloned().unwrap_or_else(|| item.to_owned())
    };
    Ok(match def.kind {
        FieldType::Text | FieldType::LongText | FieldType::Datetime | FieldType::Reference => Value::from(raw),
        FieldType::Integer => Value::from(raw.trim().parse::<i64>().map_err(|_| "Enter a whole number.".to_owned())?),
        FieldType::Decimal => Value::from(decimal(raw)),
        FieldType::Boolean => Value::from(boolean(raw)?),
        FieldType::Date => Value::from(date(raw)?.to_string()),
        FieldType::Choice => Value::from(pick(raw)),
        FieldType::MultiChoice => {
            Value::from(raw.split([',', ';']).filter(|s| !s.trim().is_empty()).map(pick).collect::<Vec<_>>())
        }
    })
}

/// Sets one field of `input` from a non-empty cell; the error says what the cell should hold.
/// Values are only read here: `ClientService::apply_input` validates them like any input.
pub(crate) fn set(input: &mut ClientInput, target: &Target, raw: &str, lookups: &Lookups) -> Result<(), String> {
    let text = || Some(Some(raw.to_owned()));
    match target {
        Target::Custom(def) => {
            input.custom_fields.get_or_insert_default().insert(def.key.clone(), custom_value(def, raw)?);
        }
        Target::Hand(Hand::Code) => input.code = Some(raw.to_owned()),
        Target::Hand(Hand::Kind) => input.kind = Some(choice_of(raw)?),
        Target::Hand(Hand::Mobile) => input.mobile = text(),
        Target::Hand(Hand::HomePhone) => input.home_phone = text(),
        Target::Hand(Hand::WorkPhone) => input.work_phone = text(),
        Target::Core(name) => {
            let spec = spec(name).ok_or("Not a client field.")?;
            let value = match spec.kind {
                Kind::Bool => FieldValue::Bool(boolean(raw)?),
                Kind::PastDate => FieldValue::Date(date(raw)?),
                Kind::Percent | Kind::Money => FieldValue::Text(decimal(raw)),
                Kind::Choice(_) => FieldValue::Choice(raw.to_owned()),
                Kind::Ref(Refers::Category) => FieldValue::Id(lookups.category(raw).ok_or("No such category.")?),
                Kind::Ref(Refers::Group) => FieldValue::Id(lookups.group(raw).ok_or("No such group.")?),
                _ => FieldValue::Text(raw.to_owned()),
            };
            (spec.set)(input, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::model::{ClientKind, ClientStatus};
    use clientele_kernel::ids::CustomFieldId;

    fn def(key: &str, label: &str, kind: FieldType, choices: &[&str]) -> CustomFieldDef {
        CustomFieldDef {
            id: CustomFieldId(uuid::Uuid::nil()),
            entity: crate::clients::CustomEntity::Client,
            key: key.into(),
            label: label.into(),
            kind,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            position: 0,
            required: false,
            searchable: false,
            active: true,
        }
    }

    // Issue 15 (import wizard): the columns a person maps, with what each header is taken for.
    #[test]
    fn a_preview_guesses_each_header_and_lists_every_field() {
        let defs = [def("shoeSize", "Pointure", FieldType::Integer, &[])];
        let csv = "Nom;Prénom;Pointure;Fidélité\nDupont;Anne;38;oui\n;Jean;;\nMartin;;41;\n";
        let table = super::super::table::read(super::super::ImportFormat::Csv, csv.as_bytes()).unwrap();
        let preview = preview(&table, &defs);
        assert_eq!(preview.rows, 3);
        let seen: Vec<_> = preview.columns.iter().map(|c| (c.header.as_str(), c.field.as_deref())).collect();
        assert_eq!(
            seen,
            [
                ("Nom", Some("last_name")),
                ("Prénom", Some("first_name")),
                ("Pointure", Some("custom_fields.shoeSize")),
                ("Fidélité", None)
            ]
        );
        // Empty cells are not samples.
        assert_eq!(preview.columns[0].samples, ["Dupont", "Martin"]);
        assert_eq!(preview.columns[3].samples, ["oui"]);
        let names: Vec<_> = preview.fields.iter().map(|f| f.name.as_str()).collect();
        for name in ["last_name", "code", "mobile", "email", "custom_fields.shoeSize"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        // Every choice is a field a mapping accepts, once.
        for f in &preview.fields {
            assert!(target(&f.name, &defs).is_some(), "{}", f.name);
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn headers_of_an_export_map_back_to_fields() {
        let defs = [def("shoeSize", "Shoe size", FieldType::Integer, &[])];
        let headers: Vec<String> =
            ["Number", "Last name", "E-mail", "Shoe size", "whatever", "firstName"].map(str::to_owned).into();
        // A header that names nothing is said before any row, not dropped with its data.
        let unknown = plan(&headers, None, &defs).unwrap_err();
        assert!(unknown.public_message().contains("\"whatever\""), "{unknown:?}");
        let known: Vec<String> = headers.iter().filter(|h| *h != "whatever").cloned().collect();
        let columns = plan(&known, None, &defs).unwrap();
        let fields: Vec<_> = columns.iter().map(|c| (c.index, c.field.as_str())).collect();
        assert_eq!(fields, [(1, "last_name"), (2, "email"), (3, "custom_fields.shoeSize"), (4, "first_name")]);
        let wrong = [ColumnMapping { column: "Nope".into(), field: "lastName".into() }];
        assert!(plan(&headers, Some(&wrong), &defs).is_err());
        let twice = [
            ColumnMapping { column: "Last name".into(), field: "lastName".into() },
            ColumnMapping { column: "whatever".into(), field: "lastName".into() },
        ];
        assert!(plan(&headers, Some(&twice), &defs).is_err());
    }

    #[test]
    fn french_shops_headers_map_without_a_mapping() {
        let headers: Vec<String> =
            ["Nom", "Prénom", "Civilité", "Courriel", "Tél. portable", "Téléphone", "Date de naissance", "Catégorie"]
                .map(str::to_owned)
                .into();
        let columns = plan(&headers, None, &[]).unwrap();
        let fields: Vec<_> = columns.iter().map(|c| c.field.as_str()).collect();
        let expected =
            ["last_name", "first_name", "civility", "email", "mobile", "home_phone", "birth_date", "category"];
        assert_eq!(fields, expected);
    }

    #[test]
    fn cells_become_input_values() {
        let lookups = Lookups { categories: HashMap::new(), groups: HashMap::new() };
        let mut input = ClientInput::default();
        let side = def("side", "Side", FieldType::MultiChoice, &["LEFT", "RIGHT"]);
        set(&mut input, &Target::Hand(Hand::Kind), "company", &lookups).unwrap();
        set(&mut input, &Target::Core("status"), "DORMANT", &lookups).unwrap();
        set(&mut input, &Target::Core("birth_date"), "29/02/1980", &lookups).unwrap();
        set(&mut input, &Target::Core("loyalty"), "oui", &lookups).unwrap();
        set(&mut input, &Target::Custom(side), "left; Right", &lookups).unwrap();
        assert_eq!(input.kind, Some(ClientKind::Company));
        assert_eq!(input.status, Some(ClientStatus::Dormant));
        assert_eq!(input.birth_date, Some(NaiveDate::from_ymd_opt(1980, 2, 29)));
        assert_eq!(input.loyalty, Some(true));
        assert_eq!(input.custom_fields.as_ref().unwrap()["side"], serde_json::json!(["LEFT", "RIGHT"]));
        assert!(set(&mut input, &Target::Core("category"), "VIP", &lookups).is_err());
        assert!(set(&mut input, &Target::Hand(Hand::Kind), "robot", &lookups).unwrap_err().contains("INDIVIDUAL"));
    }
}
