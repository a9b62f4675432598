//! A contact person's details and their one validation, shared by a client's contacts
//! (records, CON-03) and an organisation's contact persons (tenants, ORG-18). Each owner adds
//! what is its own (a client contact's site and custom fields, an organisation contact's login).

use crate::error::{AppError, Reason};

/// Who a contact person is and how to reach them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactDetails {
    pub title: Option<String>,
    pub first_name: Option<String>,
    /// Required.
    pub last_name: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub mobile: Option<String>,
    /// Stored lower-case.
    pub email: Option<String>,
    pub remark: Option<String>,
}

/// A change to [`ContactDetails`]: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactPatch {
    pub title: Option<Option<String>>,
    pub first_name: Option<Option<String>>,
    /// The last name cannot be cleared, only replaced.
    pub last_name: Option<String>,
    pub job_title: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub fax: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub remark: Option<Option<String>>,
}

impl ContactPatch {
    /// Writes the fields this patch sets onto `details` (validate afterwards).
    pub fn apply(&self, details: &mut ContactDetails) {
        for (target, value) in [
            (&mut details.title, &self.title),
            (&mut details.first_name, &self.first_name),
            (&mut details.job_title, &self.job_title),
            (&mut details.department, &self.department),
            (&mut details.phone, &self.phone),
            (&mut details.fax, &self.fax),
            (&mut details.mobile, &self.mobile),
            (&mut details.email, &self.email),
            (&mut details.remark, &self.remark),
        ] {
            if let Some(value) = value {
                target.clone_from(value);
            }
        }
        if let Some(last) = &self.last_name {
            details.last_name.clone_from(last);
        }
    }
}

impl ContactDetails {
    /// Trims every field (an empty one means "no value"), lower-cases the e-mail and checks
    /// the last name is there, the lengths, control characters and the e-mail's shape. Errors
    /// name the field by its domain path under `prefix` (`last_name`, `contacts.1.email`).
    pub fn validate(&mut self, prefix: &str, errors: &mut Vec<AppError>) {
        let trim =
            |v: &mut Option<String>| *v = v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        for value in [
            &mut self.title,
            &mut self.first_name,
            &mut self.job_title,
            &mut self.department,
            &mut self.phone,
            &mut self.fax,
            &mut self.mobile,
            &mut self.email,
            &mut self.remark,
        ] {
            trim(value);
        }
        self.last_name = self.last_name.trim().to_owned();
        self.email = self.email.as_deref().map(str::to_lowercase);
        let field = |name: &str| format!("{prefix}{name}");
        if self.last_name.is_empty() {
            errors.push(AppError::invalid(&field("last_name"), "A contact needs a last name."));
        }
        for (name, value, max, multiline) in [
            ("title", self.title.as_deref(), 40, false),
            ("first_name", self.first_name.as_deref(), 100, false),
            ("last_name", Some(self.last_name.as_str()), 100, false),
            ("job_title", self.job_title.as_deref(), 100, false),
            ("department", self.department.as_deref(), 100, false),
            ("phone", self.phone.as_deref(), 40, false),
            ("fax", self.fax.as_deref(), 40, false),
            ("mobile", self.mobile.as_deref(), 40, false),
            ("remark", self.remark.as_deref(), 2000, true),
        ] {
            check_text(errors, &field(name), value, max, multiline);
        }
        check_email(errors, &field("email"), self.email.as_deref());
    }
}

/// Refuses text over `max` characters and control characters (tabs and newlines allowed when
/// `multiline`).
pub fn check_text(errors: &mut Vec<AppError>, field: &str, value: Option<&str>, max: usize, multiline: bool) {
    let Some(value) = value else { return };
    if value.chars().count() > max {
        errors.push(AppError::refused(field, Reason::TooLong { max }));
    } else if value.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        errors.push(AppError::refused(field, Reason::ControlCharacters));
    }
}

/// Refuses a value that is not shaped like an e-mail address.
pub fn check_email(errors: &mut Vec<AppError>, field: &str, value: Option<&str>) {
    if value.is_some_and(|v| !is_email(v)) {
        errors.push(AppError::refused(field, Reason::Email));
    }
}

/// An e-mail address's shape: one `@` between a local part and a dotted domain, at most 254
/// bytes, no spaces or control characters.
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[AppError]) -> Vec<&str> {
        errors.iter().map(|e| e.field().unwrap_or_default()).collect()
    }

    #[test]
    fn details_are_trimmed_and_the_email_lower_cased() {
        let mut details = ContactDetails {
            title: Some("  ".into()),
            last_name: " Durand ".into(),
            email: Some(" Ann@Example.COM ".into()),
            ..ContactDetails::default()
        };
        let mut errors = Vec::new();
        details.validate("", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((details.title, details.last_name.as_str()), (None, "Durand"));
        assert_eq!(details.email.as_deref(), Some("ann@example.com"));
    }

    #[test]
    fn every_problem_is_named_under_the_prefix() {
        let mut details = ContactDetails {
            title: Some("x".repeat(41)),
            last_name: " ".into(),
            email: Some("nope".into()),
            remark: Some("two\nlines".into()),
            fax: Some("1\u{7}".into()),
            ..ContactDetails::default()
        };
        let mut errors = Vec::new();
        details.validate("contacts.1.", &mut errors);
        assert_eq!(fields(&errors), ["contacts.1.last_name", "contacts.1.title", "contacts.1.fax", "contacts.1.email"]);
    }

    #[test]
    fn a_patch_keeps_clears_or_replaces() {
        let mut details =
            ContactDetails { last_name: "Durand".into(), phone: Some("01".into()), ..ContactDetails::default() };
        let patch =
            ContactPatch { phone: Some(None), job_title: Some(Some("Buyer".into())), ..ContactPatch::default() };
        patch.apply(&mut details);
        assert_eq!(
            (details.phone, details.job_title.as_deref(), details.last_name.as_str()),
            (None, Some("Buyer"), "Durand")
        );
    }

    #[test]
    fn emails_are_shaped() {
        for good in ["a@b.fr", "first.last+tag@sub.example.com"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "nope", "@b.fr", "a@b", "a@.fr", "a@b.", "a b@c.fr", "a@b@c.fr"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
