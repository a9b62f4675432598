//! Services name an invalid field by its domain path (`credit_limit`, `contacts.1.last_name`,
//! `custom_fields.shoeSize`); the API shows the path of the input that holds it. This is the
//! one mapping between the two, applied where an [`AppError`] becomes a GraphQL error or a
//! `userErrors` entry: each segment in camelCase (`contacts.1.lastName`), except where an
//! area's input is named otherwise ([`InputNames::renaming`]: domain `site`, input `siteId`).
//! On the wire a path is a list (`["input", "contacts", "1", "lastName"]`): every mutation
//! takes its input as its one argument, `input`.

use async_graphql::dynamic::FieldValue;
use async_graphql::{ErrorExtensions, Value};
use clientele_kernel::{AppError, ErrorCode};
use clientele_records::clients::fields::camel;

/// The one argument of every mutation.
pub const INPUT: &str = "input";

/// How one area's inputs name domain fields: camelCase, but for its renames, optionally under
/// one field of the input.
#[derive(Clone, Copy, Debug)]
pub struct InputNames {
    under: Option<&'static str>,
    renames: &'static [(&'static str, &'static str)],
}

impl InputNames {
    /// Every input is the camelCase of its domain name.
    pub const CAMEL: Self = Self { under: None, renames: &[] };

    /// Inputs whose name is not the camelCase of the domain's: `(domain path, input path)`. A
    /// rename applies to the path and to the paths under it.
    pub const fn renaming(renames: &'static [(&'static str, &'static str)]) -> Self {
        Self { under: None, renames }
    }

    /// As [`InputNames::renaming`], for a record the input holds in its field `under`.
    pub const fn nested(under: &'static str, renames: &'static [(&'static str, &'static str)]) -> Self {
        Self { under: Some(under), renames }
    }

    /// The input path of a domain path.
    pub fn path(self, domain: &str) -> String {
        let path = self
            .renames
            .iter()
            .find_map(|&(from, to)| {
                let rest = domain.strip_prefix(from)?;
                (rest.is_empty() || rest.starts_with('.')).then(|| format!("{to}{}", camel_path(rest)))
            })
            .unwrap_or_else(|| camel_path(domain));
        match self.under {
            Some(under) => format!("{under}.{path}"),
            None => path,
        }
    }

    /// `err` with its field paths (and those reported with it) as the inputs name them.
    pub fn error(self, err: AppError) -> AppError {
        err.rename_fields(&|f: &str| self.path(f))
    }

    /// A GraphQL error with `extensions.code` (and `field`, the input path as a list: under
    /// `input` in a mutation); internal causes go to the log only.
    #[allow(clippy::needless_pass_by_value)] // shaped for `.map_err(|e| NAMES.to_gql(e))`
    pub fn to_gql(self, err: AppError) -> async_graphql::Error {
        let code = err.code();
        if code == ErrorCode::Internal {
            tracing::error!(error = %err, "internal error");
        }
        let field = err.field().map(|f| self.path(f));
        async_graphql::Error::new(err.public_message()).extend_with(|_, e| {
            e.set("code", code.as_str());
            if let Some(field) = &field {
                e.set("field", Value::List(segments(field).map(Value::from).collect()));
            }
        })
    }

    /// What [`AppError::is_payload_error`] says becomes `userErrors`; everything else is a GraphQL
    /// error.
    pub fn payload_of<T: std::any::Any + Send + Sync>(
        self,
        result: Result<T, AppError>,
    ) -> async_graphql::Result<Payload> {
        match result {
            Ok(node) => Ok(Payload::ok(node)),
            Err(err) if err.is_payload_error() => {
                Ok(Payload { node: None, user_errors: vec![self.error(err)], secret: None })
            }
            Err(err) => Err(self.to_gql(err)),
        }
    }

    /// A mutation's answer: its payload with the node, or with `userErrors`.
    pub fn payload<T: std::any::Any + Send + Sync>(
        self,
        result: Result<T, AppError>,
    ) -> async_graphql::Result<Option<FieldValue<'static>>> {
        Ok(Some(FieldValue::owned_any(self.payload_of(result)?)))
    }
}

/// The segments of a dotted input path; `""` (the input as a whole) has none.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('.').filter(|s| !s.is_empty())
}

/// `userErrors[].field`: the input path under the mutation's `input` argument.
pub fn user_error_path(path: &str) -> Value {
    Value::List(std::iter::once(INPUT).chain(segments(path)).map(Value::from).collect())
}

/// Each segment of a dotted path in camelCase (`.last_name` → `.lastName`).
fn camel_path(path: &str) -> String {
    path.split('.').map(camel).collect::<Vec<_>>().join(".")
}

/// The input path of a domain path, for the routes beside GraphQL (`POST /files`, exports),
/// whose inputs are named as GraphQL's.
pub fn input_path(domain: &str) -> String {
    InputNames::CAMEL.path(domain)
}

/// The result of a mutation: the changed record or the validation errors.
pub struct Payload {
    pub node: Option<Box<dyn std::any::Any + Send + Sync>>,
    pub user_errors: Vec<AppError>,
    /// A secret shown once (session or API token), when the mutation mints one.
    pub secret: Option<String>,
}

impl Payload {
    pub fn ok<T: std::any::Any + Send + Sync>(node: T) -> Self {
        Self { node: Some(Box::new(node)), user_errors: Vec::new(), secret: None }
    }

    /// Record and input errors become `userErrors`; everything else is a GraphQL error.
    pub fn from_result<T: std::any::Any + Send + Sync>(result: Result<T, AppError>) -> async_graphql::Result<Self> {
        InputNames::CAMEL.payload_of(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: InputNames = InputNames::renaming(&[("site", "siteId"), ("contact", "contactId")]);

    #[test]
    fn domain_paths_become_input_paths() {
        assert_eq!(InputNames::CAMEL.path("credit_limit"), "creditLimit");
        assert_eq!(InputNames::CAMEL.path("contacts.1.last_name"), "contacts.1.lastName");
        assert_eq!(InputNames::CAMEL.path("custom_fields.shoeSize"), "customFields.shoeSize");
        assert_eq!(InputNames::CAMEL.path("mergeId"), "mergeId");
        assert_eq!(NAMES.path("site"), "siteId");
        assert_eq!(NAMES.path("contact.email"), "contactId.email");
        assert_eq!(NAMES.path("contacts.0.first_name"), "contacts.0.firstName");
        assert_eq!(NAMES.path("custom_fields.site"), "customFields.site");
        assert_eq!(InputNames::nested("address", &[]).path("po_box"), "address.poBox");
    }

    #[test]
    fn every_error_reported_together_is_renamed() {
        let err = AppError::all(vec![AppError::invalid("site", "a"), AppError::conflict("job_title", "b")]);
        let err = NAMES.error(err.unwrap_or_else(AppError::not_found));
        let fields: Vec<_> = err.each().map(AppError::field).collect();
        assert_eq!(fields, [Some("siteId"), Some("jobTitle")]);
    }
}
