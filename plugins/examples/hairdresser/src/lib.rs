//! Hairdresser technical sheets («Fiches techniques», FEATURES.md §17, HAI-01..04): the tenant's
//! tree of themes → criteria → answers (each creatable, renamable, deletable), and per client a
//! dated sheet for each visit with its author and entries (theme, criterion, answer, dosage),
//! so an exact mix can be reproduced later.

use clientele_plugin_sdk::{
    FieldError, FieldType, Json, Manifest, Parent, Plugin, StoredRecord, collection, data, field, host, invalid,
    records, register_plugin, to_json,
};
use serde::Deserialize;

struct Hairdresser;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    theme: String,
    criterion: String,
    answer: Option<String>,
}

#[derive(Deserialize)]
struct Sheet {
    date: String,
    author: String,
}

impl Plugin for Hairdresser {
    fn describe() -> Manifest {
        let named = |name: &str, plural: &str, parent: Parent, about: &str| {
            collection(name, plural, parent)
                .describe(about)
                .field(field("name", FieldType::Text).required().searchable())
        };
        Manifest::new("hairdresser", env!("CARGO_PKG_VERSION"), "Technical sheets of hairdressing and beauty salons.")
            // HAI-03: the tree, defined per organisation.
            .collection(named("theme", "themes", Parent::Tenant, "HAI-03: a theme, e.g. Colouring."))
            .collection(named(
                "criterion",
                "criteria",
                Parent::Record("theme".into()),
                "HAI-03: a criterion of a theme, e.g. Blond.",
            ))
            .collection(named(
                "answer",
                "answers",
                Parent::Record("criterion".into()),
                "HAI-03: an answer of a criterion, e.g. Coloration Bld HL444321.",
            ))
            // HAI-04: a sheet per client visit, with its entries.
            .collection(
                collection("sheet", "technicalSheets", Parent::Client)
                    .describe("HAI-04: the technical sheet of one visit.")
                    .field(field("date", FieldType::Date).exportable().required())
                    .field(
                        field("author", FieldType::Text)
                            .exportable()
                            .required()
                            .describe("HAI-02: the id of the salesperson who did it (an active one of the staff)."),
                    )
                    .field(field("notes", FieldType::LongText).personal()),
            )
            .collection(
                collection("sheetEntry", "entries", Parent::Record("sheet".into()))
                    .describe("HAI-04: theme, criterion, answer and the free-text value (dosages).")
                    .field(field("theme", FieldType::Reference).required().references("theme"))
                    .field(field("criterion", FieldType::Reference).required().references("criterion"))
                    .field(field("answer", FieldType::Reference).references("answer"))
                    .field(field("value", FieldType::Text).exportable().describe("Dosages, e.g. 30 g + 45 ml 6 %.")),
            )
            .computed("client", "lastVisit", FieldType::Date, "HAI-04: the date of the client's latest sheet.")
    }

    fn validate(record: StoredRecord) -> Result<(), Vec<FieldError>> {
        if record.collection == "sheet" {
            // HAI-02: only an active salesperson of the staff directory can be the author.
            let sheet: Sheet = data(&record).map_err(|e| vec![invalid("data", e)])?;
            let staff = host::staff();
            let author = staff.iter().find(|m| m.id == sheet.author);
            return match author {
                Some(m) if m.salesperson && m.active => Ok(()),
                Some(m) if m.salesperson => Err(vec![invalid("author", format!("{} no longer works here.", m.name))]),
                Some(m) => Err(vec![invalid("author", format!("{} is not a salesperson.", m.name))]),
                None => Err(vec![invalid("author", "Pick a salesperson of the staff.")]),
            };
        }
        if record.collection != "sheetEntry" {
            return Ok(());
        }
        // The criterion must be the theme's, the answer the criterion's.
        let entry: Entry = data(&record).map_err(|e| vec![invalid("data", e)])?;
        let mut errors = Vec::new();
        let criterion = records::get("criterion", &entry.criterion);
        if criterion.as_ref().and_then(|c| c.parent_id.as_deref()) != Some(entry.theme.as_str()) {
            errors.push(invalid("criterion", "Pick a criterion of the chosen theme."));
        }
        if let Some(answer) = &entry.answer {
            let parent = records::get("answer", answer).and_then(|a| a.parent_id);
            if parent.as_deref() != Some(entry.criterion.as_str()) {
                errors.push(invalid("answer", "Pick an answer of the chosen criterion."));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn compute(field: String, ids: Vec<String>) -> Result<Vec<Json>, String> {
        if field != "lastVisit" {
            return Err(format!("unknown computed field {field}"));
        }
        let sheets = records::of_clients("sheet", &ids);
        Ok(ids
            .iter()
            .map(|client| {
                let last = sheets
                    .iter()
                    .filter(|s| s.client_id.as_deref() == Some(client))
                    .filter_map(|s| data::<Sheet>(s).ok().map(|s| s.date))
                    .max();
                last.map_or_else(|| "null".into(), |d| to_json(&d))
            })
            .collect())
    }
}

register_plugin!(Hairdresser);
