//! Pets (FEATURES.md §16, PET-01..07): the tenant's species and breeds, a client's pets with
//! their history of services and sales, the pets' names on the client (the till shows them)
//! and each pet's age.

use clientele_plugin_sdk::{
    FieldError, FieldType, Json, Manifest, Parent, Plugin, StoredRecord, collection, data, field, host, invalid,
    records, register_plugin, to_json,
};
use serde::Deserialize;

struct Pets;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pet {
    name: String,
    species: String,
    breed: Option<String>,
    birth_date: String,
    identification: Option<String>,
}

/// The organisation's settings of the plugin (`config_field`s), as the host checked them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    identification_required: bool,
}

impl Settings {
    fn read() -> Self {
        serde_json::from_str(&host::config()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Breed {
    name: String,
}

impl Plugin for Pets {
    fn describe() -> Manifest {
        Manifest::new(
            "pets",
            env!("CARGO_PKG_VERSION"),
            "Pets of clients, with the tenant's species and breeds (pet shops).",
        )
        // PET-02: the tenant's lists.
        .collection(
            collection("species", "species", Parent::Tenant)
                .describe("PET-02: a species («genre») the tenant offers: dog, cat, pony…")
                .field(field("name", FieldType::Text).required().searchable()),
        )
        .collection(
            collection("breed", "breeds", Parent::Record("species".into()))
                .describe("PET-02: a breed of a species: labrador, persian…")
                .field(field("name", FieldType::Text).required().searchable()),
        )
        // PET-03: several pets per client; name, species, breed and birth date.
        .collection(
            collection("pet", "pets", Parent::Client)
                .describe("PET-03: a pet of the client.")
                .field(field("name", FieldType::Text).required().personal().searchable())
                .field(
                    field("species", FieldType::Text).exportable().required().describe("One of the tenant's species."),
                )
                .field(field("breed", FieldType::Text).exportable().describe("One of the species' breeds."))
                .field(field("sex", FieldType::Choice).exportable().choices(&["MALE", "FEMALE", "UNKNOWN"]))
                .field(field("birthDate", FieldType::Date).exportable().required())
                .field(
                    field("identification", FieldType::Text).personal().searchable().describe("Chip or tattoo number."),
                )
                .field(field("notes", FieldType::LongText).personal()),
        )
        // PET-05: the pet's history of services and sales.
        .collection(
            collection("petEvent", "history", Parent::Record("pet".into()))
                .describe("PET-05: a service or sale for the pet, dated.")
                .field(field("date", FieldType::Date).exportable().required())
                .field(
                    field("kind", FieldType::Choice)
                        .exportable()
                        .required()
                        .choices(&["SERVICE", "SALE", "VISIT", "OTHER"]),
                )
                .field(field("description", FieldType::Text).required().personal())
                .field(field("amount", FieldType::Decimal).exportable()),
        )
        // PET-06: the till shows the pets' names when the client is called up.
        .computed("client", "petNames", FieldType::Text, "PET-06: the client's pets, by name.")
        .computed("pet", "ageInMonths", FieldType::Integer, "Whole months since the birth date.")
        .config_field(field("shop", FieldType::Text).describe("The shop's name, as its pet cards show it."))
        .config_field(
            field("identificationRequired", FieldType::Boolean)
                .describe("Refuse a pet without its chip or tattoo number."),
        )
    }

    fn validate(record: StoredRecord) -> Result<(), Vec<FieldError>> {
        if record.collection != "pet" {
            return Ok(());
        }
        let pet: Pet = data(&record).map_err(|e| vec![invalid("data", e)])?;
        let mut errors = Vec::new();
        let today = &host::now()[..10];
        // ISO dates compare as text.
        if pet.birth_date.as_str() > today {
            errors.push(invalid("birthDate", "The birth date is in the future."));
        }
        if pet.name.trim().is_empty() {
            errors.push(invalid("name", "Give the pet a name."));
        }
        if Settings::read().identification_required && pet.identification.as_deref().is_none_or(|i| i.trim().is_empty())
        {
            errors.push(invalid("identification", "This shop records every pet's chip or tattoo number."));
        }
        // With a species list (PET-02), the species and breed must come from it.
        let species = records::all("species");
        if !species.is_empty() {
            match species.iter().find(|s| data::<Named>(s).is_ok_and(|n| n.name.eq_ignore_ascii_case(&pet.species))) {
                None => errors.push(invalid("species", "Pick one of the organisation's species.")),
                Some(found) => {
                    let breeds = records::children("breed", &found.id);
                    if let Some(breed) = &pet.breed
                        && !breeds.is_empty()
                        && !breeds.iter().any(|b| data::<Breed>(b).is_ok_and(|b| b.name.eq_ignore_ascii_case(breed)))
                    {
                        errors.push(invalid("breed", "Pick one of the species' breeds."));
                    }
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn compute(field: String, ids: Vec<String>) -> Result<Vec<Json>, String> {
        match field.as_str() {
            "petNames" => {
                // One query for the whole page of clients.
                let pets = records::of_clients("pet", &ids);
                Ok(ids
                    .iter()
                    .map(|client| {
                        let names: Vec<String> = pets
                            .iter()
                            .filter(|p| p.client_id.as_deref() == Some(client))
                            .filter_map(|p| data::<Named>(p).ok().map(|n| n.name))
                            .collect();
                        if names.is_empty() { "null".into() } else { to_json(&names.join(", ")) }
                    })
                    .collect())
            }
            "ageInMonths" => {
                let now = host::now();
                Ok(ids
                    .iter()
                    .map(|id| {
                        let age = records::get("pet", id)
                            .and_then(|r| data::<Pet>(&r).ok())
                            .and_then(|p| months_between(&p.birth_date, &now));
                        age.map_or_else(|| "null".into(), |m| m.to_string())
                    })
                    .collect())
            }
            other => Err(format!("unknown computed field {other}")),
        }
    }
}

/// Whole months from `from` to `to` (both starting "YYYY-MM-DD").
fn months_between(from: &str, to: &str) -> Option<i64> {
    let parse = |s: &str| -> Option<(i64, i64, i64)> {
        Some((s.get(0..4)?.parse().ok()?, s.get(5..7)?.parse().ok()?, s.get(8..10)?.parse().ok()?))
    };
    let (fy, fm, fd) = parse(from)?;
    let (ty, tm, td) = parse(to)?;
    let months = (ty - fy) * 12 + (tm - fm) - i64::from(td < fd);
    Some(months.max(0))
}

register_plugin!(Pets);
