//! A component built against `clientele:plugin@0.0.9`: the host refuses it at upload.

wit_bindgen::generate!({ world: "plugin", path: "wit" });

struct Old;

impl Guest for Old {
    fn describe() -> String {
        "old".into()
    }
}

export!(Old);
