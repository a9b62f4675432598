//! A plugin that stays just under (or goes past) each limit, for the host's fairness tests
//! and `bench/plugins.sh`: well-behaved CPU work of a chosen size (`work`, the fuel
//! calibration's guest), floods of reads, writes and log lines, and a runaway loop. None of
//! them needs a clock: a guest has none, so sizes are counted in work units.

use clientele_plugin_sdk::{
    FieldType, Json, LogLevel, Manifest, Parent, Plugin, Refusal, collection, field, host, parse, records,
    register_plugin, to_json,
};
use serde::Deserialize;
use serde_json::{Value, json};

struct Hostile;

#[derive(Deserialize)]
struct Size {
    #[serde(default)]
    units: u32,
    #[serde(default)]
    count: u32,
}

impl Plugin for Hostile {
    fn describe() -> Manifest {
        Manifest::new("hostile", "0.1.0", "Stays under, or goes past, each limit (tests).")
            .collection(collection("crumb", "crumbs", Parent::Tenant).field(field("label", FieldType::Text).required()))
            .computed("client", "weight", FieldType::Integer, "A little CPU work per client.")
            .action(
                "work",
                "Well-behaved CPU work: `units` of JSON building, printing and parsing.",
                vec![field("units", FieldType::Integer).required()],
            )
            .action("readFlood", "Reads records until the host says no.", vec![])
            .action(
                "writeFlood",
                "Writes `count` records; answers how many were accepted.",
                vec![field("count", FieldType::Integer).required()],
            )
            .action("logFlood", "Logs `count` lines of 1 KiB.", vec![field("count", FieldType::Integer).required()])
            .action("spin", "A runaway loop.", vec![])
    }

    fn compute(_field: String, ids: Vec<String>) -> Result<Vec<Json>, String> {
        Ok(ids.iter().map(|_| work(20).to_string()).collect())
    }

    fn action(name: String, input: Json) -> Result<Json, Refusal> {
        let size: Size = parse(&input)?;
        match name.as_str() {
            "work" => {
                // When the guest ran, by the host's clock: tests check calls did not overlap.
                let started = host::now();
                let sum = work(size.units);
                Ok(to_json(&json!({ "units": size.units, "sum": sum, "started": started, "ended": host::now() })))
            }
            "readFlood" => {
                let mut reads: u64 = 0;
                loop {
                    std::hint::black_box(records::get("crumb", "00000000-0000-7000-8000-000000000000"));
                    reads += 1;
                    std::hint::black_box(reads);
                }
            }
            "writeFlood" => {
                let mut accepted = 0;
                let mut refusal = None;
                for i in 0..size.count {
                    match records::put("crumb", None, None, &json!({ "label": format!("crumb {i}") })) {
                        Ok(_) => accepted += 1,
                        Err(e) => {
                            refusal = Some(e);
                            break;
                        }
                    }
                }
                Ok(to_json(&json!({ "accepted": accepted, "refusal": refusal })))
            }
            "logFlood" => {
                let line = "x".repeat(1024);
                for _ in 0..size.count {
                    host::log(LogLevel::Info, &line);
                }
                Ok(to_json(&json!({ "logged": size.count })))
            }
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            _ => Err(Refusal::Refused(format!("unknown action {name}"))),
        }
    }
}

/// `units` rounds of building a small JSON document, printing it and parsing it back: the
/// allocation, formatting and parsing a typical plugin does. Deterministic, so its fuel per
/// unit is a constant (the host's calibration test measures it).
fn work(units: u32) -> u64 {
    let mut sum: u64 = 0;
    for i in 0..units {
        let doc = json!({
            "id": format!("record-{i}"),
            "label": "Rendez-vous de contrôle",
            "amount": f64::from(i) * 1.5,
            "tags": ["a", "b", "c"],
            "nested": { "n": i, "ok": i % 2 == 0 },
        });
        let text = doc.to_string();
        let back: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        sum = sum.wrapping_add(back["nested"]["n"].as_u64().unwrap_or(0) + text.len() as u64);
    }
    std::hint::black_box(sum)
}

register_plugin!(Hostile);
