//! French and English: every string of the console through Fluent (`locales/<lang>/console.ftl`,
//! embedded at compile time), dates, numbers and money formatted for the locale, and the
//! message of every error code of the one table (`kernel/src/error.rs`): English is the table's
//! own `default_message`, French is `error-<CODE>` in `locales/fr`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use clientele_kernel::language::Language;
use clientele_kernel::{ErrorCode, Money, Reason};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "fr",
        // No Unicode isolation marks around arguments: the console shows left-to-right text only.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static FR: LanguageIdentifier = langid!("fr");
static EN: LanguageIdentifier = langid!("en");

/// A language the console speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// The seeds' language, and the default.
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// `fr` or `en` (a region is ignored: `en-US`, `fr-CA`).
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.trim().split(['-', '_']).next().map(str::to_ascii_lowercase).as_deref() {
            Some("fr") => Some(Self::Fr),
            Some("en") => Some(Self::En),
            _ => None,
        }
    }

    /// The stored language this console language is.
    pub fn language(self) -> Language {
        match self {
            Self::Fr => Language::Fr,
            Self::En => Language::EnUs,
        }
    }

    /// The console language for a user's or an organisation's stored language, if it has one.
    pub fn of(language: Language) -> Option<Self> {
        Self::parse(language.tag())
    }

    /// The first language of an `Accept-Language` header the console speaks.
    pub fn from_accept(header: &str) -> Option<Self> {
        header.split(',').find_map(|range| Self::parse(range.split(';').next().unwrap_or("")))
    }

    /// The other language (the switch in the header).
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Fr => Self::En,
            Self::En => Self::Fr,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Self::Fr => &FR,
            Self::En => &EN,
        }
    }

    /// The string `key`; a missing key shows as itself (the unit test keeps both files complete).
    pub fn s(self, key: &str) -> String {
        LOCALES.try_lookup(self.id(), key).unwrap_or_else(|| key.to_owned())
    }

    /// The string `key` with one argument.
    pub fn arg(self, key: &str, name: &'static str, value: &str) -> String {
        self.args(key, &[(name, value)])
    }

    /// The string `key` with its arguments.
    pub fn args(self, key: &str, values: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            values.iter().map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from((*value).to_owned()))).collect();
        LOCALES.try_lookup_with_args(self.id(), key, &args).unwrap_or_else(|| key.to_owned())
    }

    /// Why a value was refused, for people.
    pub fn reason(self, reason: &Reason) -> String {
        let args = reason.args();
        let values: Vec<(&'static str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match self {
            Self::En => reason.message(),
            Self::Fr => self.args(reason.key(), &values),
        }
    }

    /// The message of an error code, for people.
    pub fn error(self, code: ErrorCode) -> String {
        match self {
            Self::En => code.default_message().to_owned(),
            Self::Fr => self.s(&format!("error-{}", code.as_str())),
        }
    }

    /// `1 234,50 €` or `€1,234.50`.
    pub fn money(self, amount: Money) -> String {
        let sign = if amount.0 < 0 { "-" } else { "" };
        let minor = amount.0.unsigned_abs();
        let (units, cents) = (minor / 100, minor % 100);
        match self {
            // Narrow no-break spaces group thousands, a no-break space precedes the symbol.
            Self::Fr => format!("{sign}{},{cents:02}\u{a0}€", group(units, '\u{202f}')),
            Self::En => format!("{sign}€{}.{cents:02}", group(units, ',')),
        }
    }

    /// A whole number with the locale's thousands separator.
    pub fn number(self, n: i64) -> String {
        let sign = if n < 0 { "-" } else { "" };
        let sep = if self == Self::Fr { '\u{202f}' } else { ',' };
        format!("{sign}{}", group(n.unsigned_abs(), sep))
    }

    /// `02/12/2026 14:05 UTC` or `2 Dec 2026, 14:05 UTC` (the server keeps UTC).
    pub fn date_time(self, at: DateTime<Utc>) -> String {
        let time = at.format("%H:%M");
        match self {
            Self::Fr => format!("{} {time} UTC", self.date(at.date_naive())),
            Self::En => format!("{}, {time} UTC", self.date(at.date_naive())),
        }
    }

    /// `02/12/2026` or `2 Dec 2026`.
    pub fn date(self, date: NaiveDate) -> String {
        match self {
            Self::Fr => date.format("%d/%m/%Y").to_string(),
            Self::En => format!("{} {}", date.day(), date.format("%b %Y")),
        }
    }
}

fn group(mut n: u64, sep: char) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = groups.pop().map(|g| g.to_string()).unwrap_or_default();
    while let Some(g) = groups.pop() {
        out.push(sep);
        let _ = write!(out, "{g:03}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_kernel::AppError;
    use strum::IntoEnumIterator as _;

    fn keys(ftl: &str) -> Vec<&str> {
        ftl.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim()))
            .collect()
    }

    // issue 15
    #[test]
    fn both_languages_have_every_string_and_every_error_code() {
        let fr = keys(include_str!("../locales/fr/console.ftl"));
        let en = keys(include_str!("../locales/en/console.ftl"));
        let code_keys: Vec<String> = ErrorCode::iter().map(|c| format!("error-{}", c.as_str())).collect();
        let ui: Vec<&str> = fr.iter().copied().filter(|k| !code_keys.iter().any(|c| c == k)).collect();
        assert_eq!(ui, en, "the same strings, in the same order, in both files");
        for code in ErrorCode::iter() {
            let key = format!("error-{}", code.as_str());
            assert!(fr.contains(&key.as_str()), "{key} has a French message");
            assert_ne!(Lang::Fr.error(code), key);
            assert!(!Lang::En.error(code).is_empty());
        }
        assert_eq!(Lang::En.s("sign-in"), "Sign in");
        assert_eq!(Lang::Fr.s("sign-in"), "Se connecter");
    }

    // issue 15: every other file of strings (account, tokens…) has its twin, key for key.
    #[test]
    fn every_file_of_strings_has_the_same_keys_in_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut files = 0;
        for entry in std::fs::read_dir(root.join("fr")).unwrap().flatten() {
            let name = entry.file_name();
            if name == "console.ftl" || name == "reasons.ftl" {
                continue; // checked above and below: error codes and reasons only French spells out
            }
            let fr = std::fs::read_to_string(entry.path()).unwrap();
            let en = std::fs::read_to_string(root.join("en").join(&name))
                .unwrap_or_else(|_| panic!("{} has no English twin", name.display()));
            assert_eq!(keys(&fr), keys(&en), "{}: the same strings, in the same order", name.display());
            files += 1;
        }
        assert!(files >= 2, "account.ftl and tokens.ftl at least");
    }

    // issue 15: a refusal the kernel gives a reason for reads in French as precisely as in English.
    #[test]
    fn every_reason_has_a_french_message_with_its_arguments() {
        let fr = keys(include_str!("../locales/fr/reasons.ftl"));
        let reasons: Vec<Reason> = Reason::iter().collect();
        assert_eq!(fr, reasons.iter().map(Reason::key).collect::<Vec<_>>(), "one message per reason, in order");
        let long = Reason::TooLong { max: 200 };
        assert_eq!(Lang::Fr.reason(&long), "200 caractères au plus.");
        assert_eq!(Lang::En.reason(&long), "Use at most 200 characters.");
        for reason in &reasons {
            assert!(!Lang::Fr.reason(reason).starts_with("reason-"), "{reason:?} is worded");
        }
        let refused = AppError::all(vec![
            AppError::refused("email", Reason::Email),
            AppError::invalid("code", "Something only English words."),
        ])
        .unwrap();
        let fr = crate::view::FieldErrors::of(&refused, Lang::Fr);
        assert_eq!(fr.get("email"), Some("Saisissez une adresse e-mail valable."));
        assert_eq!(fr.get("code"), Some(Lang::Fr.error(ErrorCode::Validation).as_str()));
        let en = crate::view::FieldErrors::of(&refused, Lang::En);
        assert_eq!(en.get("code"), Some("Something only English words."));
    }

    /// The string keys written literally in the templates and handlers (`t.s("key")`,
    /// `t.arg("key", …)`, `t.args("key", …)`).
    fn used_keys() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut keys = Vec::new();
        for dir in ["templates", "src"] {
            for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
                // This file names keys only as examples.
                if entry.file_name() == "i18n.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for call in [".s(\"", ".arg(\"", ".args(\""] {
                    for (at, _) in text.match_indices(call) {
                        let rest = &text[at + call.len()..];
                        let key = &rest[..rest.find('"').unwrap_or(0)];
                        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                            keys.push(key.to_owned());
                        }
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    // issue 16 (the audit trail): its strings, in the same order, in both languages.
    #[test]
    fn the_audit_trail_speaks_both_languages() {
        let fr = keys(include_str!("../locales/fr/audit.ftl"));
        assert!(fr.contains(&"audit-via-supplier"));
        assert_eq!(fr, keys(include_str!("../locales/en/audit.ftl")));
    }

    // issue 15 (every string through Fluent): a key a page names is in both languages.
    #[test]
    fn every_key_the_pages_name_is_translated() {
        let used = used_keys();
        assert!(used.len() > 100, "the pages were read: {}", used.len());
        for lang in [Lang::Fr, Lang::En] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.tag());
            let text: String = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
                .collect();
            let defined = keys(&text);
            for key in &used {
                assert!(defined.contains(&key.as_str()), "{key} has no {} string", lang.tag());
            }
        }
    }

    // issue 15
    #[test]
    fn money_dates_and_numbers_follow_the_locale() {
        assert_eq!(Lang::Fr.money(Money(123_456)), "1\u{202f}234,56\u{a0}€");
        assert_eq!(Lang::En.money(Money(123_456)), "€1,234.56");
        assert_eq!(Lang::En.money(Money(-5)), "-€0.05");
        assert_eq!(Lang::Fr.money(Money(100_000_000)), "1\u{202f}000\u{202f}000,00\u{a0}€");
        let d = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
        assert_eq!(Lang::Fr.date(d), "02/12/2026");
        assert_eq!(Lang::En.date(d), "2 Dec 2026");
        assert_eq!(Lang::En.number(1_234_567), "1,234,567");
        assert_eq!(Lang::from_accept("de-DE, en-GB;q=0.8, fr;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
    }
}
