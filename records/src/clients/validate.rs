//! Field validation and normalisation for customer records. Every check names the field it
//! concerns by its domain name (`last_name`; the GraphQL layer shows the input's name), so
//! clients get precise `userErrors`.

use crate::clients::model::Phone;
use clientele_kernel::error::{AppError, Reason};

/// Trims; an empty string means "no value".
pub fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Rejects overlong text and control characters (tabs and newlines allowed in long text);
/// e-mail addresses by their shape. The kernel's, shared with contact persons' details.
pub use clientele_kernel::person::{check_email as email, check_text as text};

/// Parses a phone as typed; French numbering by default, international with `+` (CLI-07).
pub fn phone(errors: &mut Vec<AppError>, field: &str, value: Option<String>) -> Option<Phone> {
    let typed = value?;
    if typed.chars().count() > 40 || !typed.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c)) {
        errors.push(AppError::refused(field, Reason::PhoneCharacters));
        return None;
    }
    let e164 = phonenumber::parse(Some(phonenumber::country::Id::FR), &typed)
        .ok()
        .filter(phonenumber::is_valid)
        .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
    if e164.is_none() {
        errors.push(AppError::refused(field, Reason::Phone));
    }
    Some(Phone { typed, e164 })
}

/// The Luhn checksum used by SIREN and SIRET numbers.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn digits_only(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).collect()
}

/// CLI-11: SIREN is 9 digits with a Luhn checksum; SIRET is 14, Luhn, and starts with the SIREN.
pub fn siren_siret(
    errors: &mut Vec<AppError>,
    siren: Option<&str>,
    siret: Option<&str>,
) -> (Option<String>, Option<String>) {
    let siren = siren.map(digits_only);
    let siret = siret.map(digits_only);
    if let Some(s) = &siren
        && (s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) || !luhn(s))
    {
        errors.push(AppError::refused("siren", Reason::Siren));
    }
    if let Some(s) = &siret {
        if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) || !luhn(s) {
            errors.push(AppError::refused("siret", Reason::Siret));
        } else if siren.as_ref().is_some_and(|siren| !s.starts_with(siren.as_str())) {
            errors.push(AppError::refused("siret", Reason::SiretPrefix));
        }
    }
    (siren, siret)
}

/// BIL-14: IBAN checked by its ISO 13616 checksum, stored without spaces; BIC 8 or 11 characters.
pub fn bank(errors: &mut Vec<AppError>, iban: Option<&str>, bic: Option<&str>) -> (Option<String>, Option<String>) {
    let iban = iban.map(|v| digits_only(v).to_uppercase());
    if let Some(value) = &iban
        && value.parse::<iban::Iban>().is_err()
    {
        errors.push(AppError::refused("bank_iban", Reason::Iban));
    }
    let bic = bic.map(|v| digits_only(v).to_uppercase());
    if let Some(value) = &bic {
        let ok = matches!(value.len(), 8 | 11)
            && value[..6].bytes().all(|b| b.is_ascii_uppercase())
            && value[6..].bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            errors.push(AppError::refused("bank_bic", Reason::Bic));
        }
    }
    (iban, bic)
}

/// BIL-07: a percent from 0 to 100 with at most two decimals, in hundredths of a percent.
pub fn percent(errors: &mut Vec<AppError>, field: &str, value: Option<&str>) -> Option<i32> {
    let raw = value?;
    let parsed = clientele_kernel::Money::parse(raw)
        .and_then(|m| i32::try_from(m.0).ok())
        .filter(|bp| (0..=10_000).contains(bp));
    if parsed.is_none() {
        errors.push(AppError::invalid(field, "Enter a percentage from 0 to 100 with at most two decimals."));
    }
    parsed
}

/// Codes and barcodes are scanned: printable ASCII without spaces.
pub fn code(errors: &mut Vec<AppError>, field: &str, value: Option<&str>) {
    let Some(value) = value else { return };
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        errors.push(AppError::invalid(field, "Use 1 to 64 printable characters without spaces."));
    }
}

/// ADR-02: an ISO 3166-1 alpha-2 country code, stored upper-case.
pub fn country(errors: &mut Vec<AppError>, field: &str, value: Option<&str>) -> Option<String> {
    let value = value?;
    let upper = value.to_ascii_uppercase();
    if value.len() != 2 || celes::Country::from_alpha2(&upper).is_err() {
        errors.push(AppError::refused(field, Reason::Country));
    }
    Some(upper)
}

/// French postcodes are five digits; elsewhere, letters, digits, spaces and dashes.
pub fn postcode(errors: &mut Vec<AppError>, field: &str, value: Option<&str>, country: Option<&str>) {
    let Some(value) = value else { return };
    let ok = if country == Some("FR") {
        value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit())
    } else {
        value.len() <= 12 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    };
    if !ok {
        errors.push(AppError::refused(field, Reason::Postcode));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_and_siret_checksums() {
        let mut errors = Vec::new();
        // A real SIREN/SIRET pair (INSEE's own).
        siren_siret(&mut errors, Some("120 027 016"), Some("12002701600357"));
        assert!(errors.is_empty(), "{errors:?}");
        siren_siret(&mut errors, Some("120027017"), None);
        siren_siret(&mut errors, Some("120027016"), Some("73282932000074"));
        assert_eq!(errors.iter().map(|e| e.field().unwrap_or("")).collect::<Vec<_>>(), ["siren", "siret"]);
    }

    #[test]
    fn phones_keep_what_was_typed_and_gain_e164() {
        let mut errors = Vec::new();
        let p = phone(&mut errors, "mobile", Some("06 12 34 56 78".into())).unwrap();
        assert_eq!(p.e164.as_deref(), Some("+33612345678"));
        assert_eq!(p.typed, "06 12 34 56 78");
        let p = phone(&mut errors, "mobile", Some("+44 20 7946 0958".into())).unwrap();
        assert_eq!(p.e164.as_deref(), Some("+442079460958"));
        assert!(errors.is_empty());
        phone(&mut errors, "mobile", Some("call me".into()));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn bank_details_are_checked() {
        let mut errors = Vec::new();
        let (iban, bic) = bank(&mut errors, Some("fr76 3000 6000 0112 3456 7890 189"), Some("agrifrpp"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(iban.as_deref(), Some("FR7630006000011234567890189"));
        assert_eq!(bic.as_deref(), Some("AGRIFRPP"));
        bank(&mut errors, Some("FR7630006000011234567890180"), Some("AG"));
        assert_eq!(errors.len(), 2);
    }

    #[test]
    // ADR-02
    fn countries_are_iso_codes_and_french_postcodes_five_digits() {
        let mut errors = Vec::new();
        assert_eq!(country(&mut errors, "country", Some("fr")).as_deref(), Some("FR"));
        assert_eq!(country(&mut errors, "country", Some("BE")).as_deref(), Some("BE"));
        assert!(errors.is_empty(), "{errors:?}");
        country(&mut errors, "country", Some("ZZ"));
        country(&mut errors, "country", Some("FRA"));
        assert_eq!(errors.len(), 2);
        errors.clear();
        postcode(&mut errors, "postcode", Some("75001"), Some("FR"));
        postcode(&mut errors, "postcode", Some("SW1A 1AA"), Some("GB"));
        assert!(errors.is_empty(), "{errors:?}");
        postcode(&mut errors, "postcode", Some("7500"), Some("FR"));
        postcode(&mut errors, "postcode", Some("75001;"), None);
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn percentages_are_bounded() {
        let mut errors = Vec::new();
        assert_eq!(percent(&mut errors, "discount", Some("12.5")), Some(1250));
        assert_eq!(percent(&mut errors, "discount", Some("100")), Some(10_000));
        percent(&mut errors, "discount", Some("100.01"));
        percent(&mut errors, "discount", Some("-1"));
        assert_eq!(errors.len(), 2);
    }
}
