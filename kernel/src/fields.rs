//! Field types, shared by the two kinds of field definitions (a tenant's custom fields and a
//! plugin's fields): one list of types, stored under one set of names, and one check of a
//! value against its type. Each kind of definition accepts a subset of the types and brings
//! its own [`ValueRules`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The type of a field's values. Stored by its `snake_case` name (`long_text`), as the `kind`
/// of a custom field (strum) and as the `type` of a field in a plugin manifest (serde): these
/// names never change.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Integer,
    Decimal,
    Boolean,
    Date,
    /// An RFC 3339 timestamp, stored in UTC.
    Datetime,
    /// One of the definition's choices.
    Choice,
    /// A list of the definition's choices.
    MultiChoice,
    /// The id of a record.
    Reference,
}

impl FieldType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether values come from the definition's list of choices.
    pub fn has_choices(self) -> bool {
        matches!(self, Self::Choice | Self::MultiChoice)
    }
}

/// How the messages of [`check_value`] are worded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// What to enter: "Enter a whole number."
    Enter,
    /// What was expected: "Expected a whole number."
    Expected,
}

/// What differs between the kinds of definitions when a value is checked.
#[derive(Clone, Copy, Debug)]
pub struct ValueRules {
    /// At most this many characters in a `Text` value.
    pub text_max: usize,
    /// At most this many characters in a `LongText` value.
    pub long_text_max: usize,
    /// At most this many digits before and after a decimal's point; `None`: any decimal.
    pub decimal_digits: Option<(usize, usize)>,
    /// `true`: values are trimmed and otherwise kept as written, blank text is no value.
    /// `false`: decimals (`1.50` → `1.5`) and dates are normalised, text limits count the text
    /// as given, and text is stored trimmed.
    pub as_written: bool,
    pub wording: Wording,
}

/// Checks one value against its type (and `choices`) and returns it in its stored form;
/// `Null` means no value. The error is the message for the user.
pub fn check_value(ty: FieldType, choices: &[String], value: &Value, rules: &ValueRules) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let says = |enter: &str, expected: &str| match rules.wording {
        Wording::Enter => enter.to_owned(),
        Wording::Expected => expected.to_owned(),
    };
    let listed = choices.join(", ");
    let choice = |v: &Value| v.as_str().filter(|s| choices.iter().any(|c| c == s)).map(str::to_owned);
    match ty {
        FieldType::Text | FieldType::LongText => {
            let max = if ty == FieldType::Text { rules.text_max } else { rules.long_text_max };
            let given = value.as_str().ok_or_else(|| says("Enter text.", "Expected text."))?;
            let text = given.trim();
            if rules.as_written && text.is_empty() {
                return Ok(Value::Null);
            }
            let counted = if rules.as_written { text } else { given };
            if counted.chars().count() > max {
                return Err(match rules.wording {
                    Wording::Enter => format!("Use at most {max} characters."),
                    Wording::Expected => format!("At most {max} characters."),
                });
            }
            Ok(Value::from(text))
        }
        FieldType::Integer => {
            value.as_i64().map(Value::from).ok_or_else(|| says("Enter a whole number.", "Expected a whole number."))
        }
        FieldType::Decimal => decimal(value, rules)
            .map(Value::String)
            .ok_or_else(|| says("Enter a decimal number.", "Expected a decimal number, e.g. 12.50.")),
        FieldType::Boolean => {
            value.as_bool().map(Value::from).ok_or_else(|| says("Enter true or false.", "Expected true or false."))
        }
        FieldType::Date => value
            .as_str()
            .and_then(|s| {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
                Some(if rules.as_written { Value::from(s) } else { Value::String(date.to_string()) })
            })
            .ok_or_else(|| says("Enter a date as YYYY-MM-DD.", "Expected a date, YYYY-MM-DD.")),
        FieldType::Datetime => value
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| Value::String(d.with_timezone(&chrono::Utc).to_rfc3339()))
            .ok_or_else(|| says("Enter an RFC 3339 timestamp.", "Expected an RFC 3339 timestamp.")),
        FieldType::Choice => choice(value).map(Value::from).ok_or_else(|| match rules.wording {
            Wording::Enter => format!("Choose one of {listed}."),
            Wording::Expected => format!("Expected one of {listed}."),
        }),
        FieldType::MultiChoice => {
            let items =
                value.as_array().ok_or_else(|| says("Choose a list of values.", "Expected a list of values."))?;
            let mut picked: Vec<String> =
                items.iter().map(choice).collect::<Option<_>>().ok_or_else(|| match rules.wording {
                    Wording::Enter => format!("Choose among {listed}."),
                    Wording::Expected => format!("Expected values among {listed}."),
                })?;
            picked.dedup();
            Ok(Value::from(picked))
        }
        FieldType::Reference => value
            .as_str()
            .filter(|s| uuid::Uuid::parse_str(s).is_ok())
            .map(Value::from)
            .ok_or_else(|| says("Enter a record id.", "Expected a record id.")),
    }
}

/// A decimal given as a string or a number, in its stored form: normalised, or as written.
fn decimal(value: &Value, rules: &ValueRules) -> Option<String> {
    let raw = match value {
        Value::String(s) if rules.as_written => s.trim().to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let stored = if rules.as_written {
        let (int, frac) = split_decimal(&raw);
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        (!int.is_empty() && digits(int) && digits(frac)).then_some(raw.clone())?
    } else {
        raw.parse::<rust_decimal::Decimal>().ok()?.normalize().to_string()
    };
    let within = |(int_max, frac_max): (usize, usize)| {
        let (int, frac) = split_decimal(&stored);
        int.len() <= int_max && frac.len() <= frac_max
    };
    rules.decimal_digits.is_none_or(within).then_some(stored)
}

/// The digits before and after the point of `-12.50`: `("12", "50")`.
fn split_decimal(raw: &str) -> (&str, &str) {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    unsigned.split_once('.').unwrap_or((unsigned, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use strum::IntoEnumIterator;

    const NORMALISED: ValueRules =
        ValueRules { text_max: 5, long_text_max: 10, decimal_digits: None, as_written: false, wording: Wording::Enter };
    const AS_WRITTEN: ValueRules = ValueRules {
        text_max: 5,
        long_text_max: 10,
        decimal_digits: Some((3, 2)),
        as_written: true,
        wording: Wording::Expected,
    };

    #[test]
    fn stored_names_are_the_same_for_strum_and_serde() {
        let names: Vec<&str> = FieldType::iter().map(FieldType::as_str).collect();
        let expected = [
            "text",
            "long_text",
            "integer",
            "decimal",
            "boolean",
            "date",
            "datetime",
            "choice",
            "multi_choice",
            "reference",
        ];
        assert_eq!(names, expected);
        for ty in FieldType::iter() {
            assert_eq!(serde_json::to_value(ty).unwrap(), json!(ty.as_str()));
            assert_eq!(serde_json::from_value::<FieldType>(json!(ty.as_str())).unwrap(), ty);
            assert_eq!(ty.as_str().parse::<FieldType>().unwrap(), ty);
        }
    }

    #[test]
    fn text_is_counted_and_trimmed_by_the_rules() {
        let check = |v: Value, rules| check_value(FieldType::Text, &[], &v, rules);
        assert_eq!(check(json!(" abc "), &NORMALISED), Ok(json!("abc")));
        assert_eq!(check(json!("  "), &NORMALISED), Ok(json!("")));
        assert_eq!(check(json!(" abcde "), &NORMALISED), Err("Use at most 5 characters.".into()));
        assert_eq!(check(json!(" abcde "), &AS_WRITTEN), Ok(json!("abcde")));
        assert_eq!(check(json!("  "), &AS_WRITTEN), Ok(Value::Null));
        assert_eq!(check(json!(1), &AS_WRITTEN), Err("Expected text.".into()));
        assert!(check_value(FieldType::LongText, &[], &json!("abcdefghij"), &NORMALISED).is_ok());
    }

    #[test]
    fn decimals_are_normalised_or_kept_as_written() {
        let check = |v: Value, rules| check_value(FieldType::Decimal, &[], &v, rules);
        assert_eq!(check(json!("1.50"), &NORMALISED), Ok(json!("1.5")));
        assert_eq!(check(json!(2.25), &NORMALISED), Ok(json!("2.25")));
        assert_eq!(check(json!(" 1.50 "), &AS_WRITTEN), Ok(json!("1.50")));
        assert_eq!(check(json!("-123.45"), &AS_WRITTEN), Ok(json!("-123.45")));
        for bad in [json!("1234"), json!("1.234"), json!("1e3"), json!(".5"), json!("--1.5"), json!(true)] {
            assert!(check(bad.clone(), &AS_WRITTEN).is_err(), "{bad}");
        }
        assert!(check(json!("x"), &NORMALISED).is_err());
    }

    #[test]
    fn dates_choices_and_references_are_checked() {
        let choices = ["LEFT".to_owned(), "RIGHT".to_owned()];
        assert_eq!(check_value(FieldType::Date, &[], &json!("2020-2-9"), &NORMALISED), Ok(json!("2020-02-09")));
        assert_eq!(check_value(FieldType::Date, &[], &json!("2020-2-9"), &AS_WRITTEN), Ok(json!("2020-2-9")));
        assert!(check_value(FieldType::Date, &[], &json!("2021-02-29"), &NORMALISED).is_err());
        assert_eq!(
            check_value(FieldType::Datetime, &[], &json!("2024-01-01T10:00:00+02:00"), &AS_WRITTEN),
            Ok(json!("2024-01-01T08:00:00+00:00"))
        );
        assert_eq!(
            check_value(FieldType::Choice, &choices, &json!("UP"), &NORMALISED),
            Err("Choose one of LEFT, RIGHT.".into())
        );
        assert_eq!(
            check_value(FieldType::MultiChoice, &choices, &json!(["LEFT", "LEFT", "RIGHT"]), &NORMALISED),
            Ok(json!(["LEFT", "RIGHT"]))
        );
        assert!(check_value(FieldType::MultiChoice, &choices, &json!("LEFT"), &NORMALISED).is_err());
        let id = uuid::Uuid::nil().to_string();
        assert_eq!(check_value(FieldType::Reference, &[], &json!(id), &AS_WRITTEN), Ok(json!(id)));
        assert_eq!(
            check_value(FieldType::Reference, &[], &json!("x"), &AS_WRITTEN),
            Err("Expected a record id.".into())
        );
        assert_eq!(check_value(FieldType::Integer, &[], &Value::Null, &AS_WRITTEN), Ok(Value::Null));
    }
}
