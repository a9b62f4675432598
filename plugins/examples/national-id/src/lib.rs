//! A custom field on clients, checked by code: the French social security number (NIR), 13
//! digits and a 2-digit key equal to 97 − (number mod 97). Shows the custom-field path: the
//! host stores and serves `Client.nationalId`, the plugin only validates it.

use clientele_plugin_sdk::{FieldError, FieldType, Manifest, Plugin, StoredRecord, field, invalid, register_plugin};

struct NationalId;

/// `None` when valid, else what is wrong. Spaces are ignored.
fn problem(raw: &str) -> Option<&'static str> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some("A social security number has 15 digits.");
    }
    let (number, key) = digits.split_at(13);
    let (Ok(number), Ok(key)) = (number.parse::<u64>(), key.parse::<u64>()) else {
        return Some("A social security number has 15 digits.");
    };
    if !matches!(digits.as_bytes()[0], b'1' | b'2') {
        return Some("The first digit (sex) is 1 or 2.");
    }
    (97 - number % 97 != key).then_some("The key does not match the number.")
}

impl Plugin for NationalId {
    fn describe() -> Manifest {
        Manifest::new("national-id", env!("CARGO_PKG_VERSION"), "The client's social security number, checked.")
            .custom_field(
                "client",
                field("nationalId", FieldType::Text)
                    .personal()
                    .searchable()
                    .describe("French social security number (NIR), 15 digits, key checked."),
            )
    }

    fn validate(record: StoredRecord) -> Result<(), Vec<FieldError>> {
        let data: serde_json::Value =
            serde_json::from_str(&record.data).map_err(|e| vec![invalid("data", e.to_string())])?;
        match data.get("nationalId").and_then(|v| v.as_str()).and_then(problem) {
            Some(message) => Err(vec![invalid("nationalId", message)]),
            None => Ok(()),
        }
    }
}

register_plugin!(NationalId);

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_checked() {
        assert_eq!(super::problem("1 85 05 78 006 084 91"), None);
        assert!(super::problem("1 85 05 78 006 084 90").is_some());
        assert!(super::problem("3850578006084").is_some());
    }
}
