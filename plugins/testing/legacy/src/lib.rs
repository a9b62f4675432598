//! A plugin built against `clientele:plugin@0.1.0` with the bare WIT bindings (no SDK, which
//! follows the newest version): the host still serves it. Visits of a client, a check that
//! reads the client through the host, and an action that queries and writes records.

wit_bindgen::generate!({ world: "plugin", path: "../../wit/0.1.0" });

use clientele::plugin::host;
use clientele::plugin::types::{CollectionDef, FieldDef, FieldType, Parent, RecordInput, RecordQuery};

struct Legacy;

fn field(name: &str, required: bool) -> FieldDef {
    FieldDef {
        name: name.into(),
        description: String::new(),
        type_: FieldType::Text,
        required,
        personal: false,
        searchable: false,
        choices: Vec::new(),
        reference: None,
    }
}

impl Guest for Legacy {
    fn describe() -> Manifest {
        Manifest {
            name: "legacy".into(),
            version: "1.0.0".into(),
            description: "Visits, from a 0.1.0 component.".into(),
            collections: vec![CollectionDef {
                name: "visit".into(),
                plural: "visits".into(),
                description: "A visit of the client.".into(),
                parent: Parent::Client,
                fields: vec![field("place", true), field("counter", false)],
            }],
            custom_fields: Vec::new(),
            computed: Vec::new(),
            actions: vec![clientele::plugin::types::ActionDef {
                name: "copyVisits".into(),
                description: "Copies each visit of a client once.".into(),
                input: vec![field("clientId", true)],
            }],
            events: Vec::new(),
        }
    }

    fn validate(record: StoredRecord) -> Result<(), Vec<FieldError>> {
        let client = record.client_id.as_deref().and_then(host::get_client);
        if client.is_some_and(|c| c.blocked) {
            return Err(vec![FieldError { field: "place".into(), message: "The client is blocked.".into() }]);
        }
        Ok(())
    }

    fn compute(field: String, _ids: Vec<String>) -> Result<Vec<String>, String> {
        Err(format!("unknown computed field {field}"))
    }

    fn action(_name: String, input: String) -> Result<String, Refusal> {
        // Input: {"clientId":"…"}; the client id is the text between the last pair of quotes.
        let client = input.rsplit('"').nth(1).unwrap_or_default().to_owned();
        let query =
            RecordQuery { collection: "visit".into(), parent_id: None, client_ids: vec![client.clone()], limit: 100 };
        let visits = host::query_records(&query);
        for v in &visits {
            let copy = RecordInput {
                id: None,
                collection: "visit".into(),
                parent_id: Some(client.clone()),
                data: v.data.clone(),
            };
            host::put_record(&copy).map_err(Refusal::Refused)?;
        }
        host::log(host::LogLevel::Info, &format!("copied {} visits", visits.len()));
        Ok(format!("{{\"copied\":{}}}", visits.len()))
    }

    fn on_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

export!(Legacy);
