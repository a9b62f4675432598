//! A plugin that counts words in a `HashMap`: std seeds it from `wasi:random/insecure-seed`,
//! which the host refuses at upload with a hint (BTreeMap, or a fixed-seed hasher).

use std::collections::HashMap;

use clientele_plugin_sdk::{Json, Manifest, Plugin, Refusal, register_plugin, to_json};

struct Words;

impl Plugin for Words {
    fn describe() -> Manifest {
        Manifest::new("words", "0.1.0", "Counts words (must be refused: HashMap needs a random seed).").action(
            "count",
            "Counts the words of `text`.",
            vec![],
        )
    }

    fn action(_name: String, input: Json) -> Result<Json, Refusal> {
        let mut counts: HashMap<String, u32> = HashMap::new();
        for word in input.split_whitespace() {
            *counts.entry(word.to_owned()).or_default() += 1;
        }
        Ok(to_json(&counts))
    }
}

register_plugin!(Words);
