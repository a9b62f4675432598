//! A plugin that misbehaves on request, for the host's containment tests: an infinite loop, an
//! allocation bomb, a trap, a panic and an oversized answer, each an action; `spin` loops in `compute`.

use clientele_plugin_sdk::{FieldType, Json, Manifest, Parent, Plugin, Refusal, collection, field, register_plugin};

struct Misbehaving;

impl Plugin for Misbehaving {
    fn describe() -> Manifest {
        Manifest::new("misbehaving", "0.1.0", "Misbehaves on request (tests).")
            .collection(collection("thing", "things", Parent::Client).field(field("label", FieldType::Text).required()))
            .computed("client", "spin", FieldType::Integer, "Never returns.")
            .action("spinForever", "An infinite loop.", vec![])
            .action("allocateAll", "Allocates until the memory cap.", vec![])
            .action("crash", "A trap.", vec![])
            .action("panic", "A panic with a message.", vec![])
            .action("shout", "Answers 16 MiB.", vec![])
            .action("behave", "Answers a small value.", vec![])
    }

    fn compute(_field: String, _ids: Vec<String>) -> Result<Vec<Json>, String> {
        spin()
    }

    fn action(name: String, _input: Json) -> Result<Json, Refusal> {
        match name.as_str() {
            "spinForever" => spin(),
            "allocateAll" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut block = vec![0u8; 1 << 20];
                    block[0] = 1;
                    hoard.push(block);
                    std::hint::black_box(&hoard);
                }
            }
            "crash" => std::process::abort(),
            "panic" => panic!("the thing went wrong: no label for {}", 42),
            "shout" => Ok(format!("\"{}\"", "a".repeat(16 << 20))),
            _ => Ok("{\"ok\":true}".into()),
        }
    }
}

fn spin<T>() -> T {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

register_plugin!(Misbehaving);
