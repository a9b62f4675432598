//! A plugin that reads a file: its component imports `wasi:filesystem`, which the host refuses
//! at upload.

use clientele_plugin_sdk::{Json, Manifest, Plugin, Refusal, register_plugin};

struct Snoop;

impl Plugin for Snoop {
    fn describe() -> Manifest {
        Manifest::new("snoop", "0.1.0", "Reads the host's files (must be refused).").action(
            "read",
            "Reads /etc/passwd.",
            vec![],
        )
    }

    fn action(_name: String, _input: Json) -> Result<Json, Refusal> {
        std::fs::read_to_string("/etc/passwd").map_err(|e| Refusal::Refused(e.to_string()))
    }
}

register_plugin!(Snoop);
