//! The one error-code table. Codes are part of the API: never rename or reuse one.

use std::fmt;

/// Stable machine-readable error codes, sent to clients as `extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No valid session or API token was presented.
    Unauthenticated,
    /// The caller is authenticated but its role or token scope does not allow this.
    Forbidden,
    /// The record does not exist in the caller's organisation.
    NotFound,
    /// Input failed validation; see `userErrors` or the message.
    Validation,
    /// An id argument is not a UUID.
    InvalidId,
    /// A unique value (e-mail, code…) is already taken in this organisation.
    Conflict,
    /// E-mail or password wrong, or the account is unknown or inactive.
    InvalidCredentials,
    /// Too many failed sign-ins for this account or client address; retry later.
    TooManyAttempts,
    /// The organisation is blocked, inactive or not yet valid.
    OrganisationUnavailable,
    /// A one-time link is unknown, used or expired.
    TokenInvalid,
    /// The last active super-admin cannot be demoted or deactivated.
    LastSuperAdmin,
    /// The current terms of use must be accepted first.
    TermsNotAccepted,
    /// The record changed since it was read (optimistic concurrency); reload and retry.
    StaleVersion,
    /// The client is blocked: postings and other operations that need an active client are refused.
    ClientBlocked,
    /// Other records still point at this one (ledger balance, referrals, plugin records…).
    LinkedRecords,
    /// The posting would take the balance past the account's limit.
    CreditLimitExceeded,
    /// Only a record in the trash can be restored or purged.
    NotInTrash,
    /// The operation needs a zero balance (anonymisation).
    BalanceNotZero,
    /// Every licence seat of the organisation is taken.
    SeatLimitReached,
    /// The licence is in use beyond what the change would leave.
    LicenceInUse,
    /// The client is in the trash or anonymised: its account cannot move.
    ClientUnavailable,
    /// The beneficiary is blocked: no new card, no posting on its behalf (CRD-04).
    BeneficiaryBlocked,
    /// The card is blocked: it cannot be used (CRD-05).
    CardBlocked,
    /// The sponsor has no referral reward left to use (REF-05, Q-14).
    NoReferralRewardLeft,
    /// The customer organisation does not allow its supplier to sign in directly.
    DirectLoginNotAllowed,
    /// An OIDC sign-in came back with an unknown, used or expired state.
    OidcStateInvalid,
    /// The identity provider refused the sign-in (denied, or the code was expired, used or wrong).
    OidcSignInRefused,
    /// The identity provider's ID token failed verification (signature, issuer, audience, expiry, nonce).
    OidcTokenInvalid,
    /// The identity provider did not assert a verified e-mail address.
    OidcEmailNotVerified,
    /// No active user of this organisation has the verified e-mail address.
    OidcAccountNotFound,
    /// The identity provider could not be reached or answered nonsense.
    OidcProviderUnavailable,
    /// The OIDC issuer or one of its endpoints is not a public https address (loopback, private,
    /// link-local… are refused: the server would be made to call its own network).
    OidcIssuerRefused,
    /// A plugin failed: it trapped, ran too long, used too much memory or answered too much.
    PluginFailed,
    /// A plugin failed repeatedly in this organisation and is paused for a while (circuit breaker).
    PluginSuspended,
    /// The request body is not valid JSON or not a GraphQL request.
    BadRequest,
    /// The request's content type is not supported.
    UnsupportedMediaType,
    /// The request body exceeds the size limit.
    PayloadTooLarge,
    /// The GraphQL document could not be parsed.
    GraphqlParseFailed,
    /// The GraphQL document does not match the schema (unknown field, wrong type…).
    GraphqlValidationFailed,
    /// The query nests deeper than allowed.
    QueryTooDeep,
    /// The query would select too many fields.
    QueryTooComplex,
    /// The query uses more aliases than allowed.
    TooManyAliases,
    /// The batch holds more operations than allowed.
    BatchTooLarge,
    /// The request ran longer than the server allows.
    Timeout,
    /// The uploaded file's content is not of an accepted type (whatever its name or declared type).
    UnsupportedFileType,
    /// The image has more pixels than the server decodes (decompression bombs included).
    ImageTooLarge,
    /// An uploaded workbook is too large once uncompressed (parts, entries or shared strings).
    ImportFileTooLarge,
    /// A download link's signature is wrong, or the link has expired.
    LinkInvalid,
    /// An automatic persisted query's hash is not known (yet): send the query with its hash.
    PersistedQueryNotFound,
    /// A plugin went past one of its quotas in this organisation (writes per minute, stored
    /// records, concurrent calls…); the message names which. Nothing of the call was changed.
    PluginQuotaExceeded,
    /// The plugin is switched off in this organisation (disabled by its supplier, or every
    /// organisation at once by the kill switch): its fields answer null, its mutations nothing.
    PluginDisabled,
    /// The caller's organisation has its share of requests running on this server already and
    /// none ended in time (a flood waits its turn, then gets this).
    TooManyRequests,
    /// Clients of the organisation may be the one being created (same e-mail, code, phone, or
    /// name and postcode): nothing was created; the payload lists them.
    PossibleDuplicate,
    /// Something failed on our side; details are in the server log under the request id.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The message shown for this code when the caller must not learn more.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::Unauthenticated => "Sign in first.",
            Self::Forbidden => "You are not allowed to do this.",
            Self::NotFound => "Not found.",
            Self::Validation => "Invalid input.",
            Self::InvalidId => "Invalid id.",
            Self::Conflict => "This value is already taken.",
            Self::InvalidCredentials => "E-mail or password is wrong.",
            Self::TooManyAttempts => "Too many failed attempts; try again later.",
            Self::OrganisationUnavailable => "This organisation cannot be used at the moment.",
            Self::TokenInvalid => "This link is invalid or has expired.",
            Self::LastSuperAdmin => "The organisation must keep at least one active super-admin.",
            Self::TermsNotAccepted => "Accept the current terms of use first.",
            Self::StaleVersion => "This record was changed by someone else; reload it and try again.",
            Self::ClientBlocked => "This client is blocked.",
            Self::LinkedRecords => "Other records still depend on this one.",
            Self::CreditLimitExceeded => "This would exceed the account's limit.",
            Self::NotInTrash => "This record is not in the trash.",
            Self::BalanceNotZero => "The account balance must be zero first.",
            Self::SeatLimitReached => "All licence seats of this organisation are taken.",
            Self::LicenceInUse => "More users hold this licence than the change would leave.",
            Self::ClientUnavailable => "This client is in the trash or anonymised.",
            Self::BeneficiaryBlocked => "This beneficiary is blocked.",
            Self::CardBlocked => "This card is blocked.",
            Self::NoReferralRewardLeft => "This client has no referral reward left.",
            Self::DirectLoginNotAllowed => "This organisation does not allow direct login.",
            Self::OidcStateInvalid => "This sign-in is unknown, used or expired: start it again.",
            Self::OidcSignInRefused => "The identity provider refused the sign-in.",
            Self::OidcTokenInvalid => "The identity provider's answer could not be verified.",
            Self::OidcEmailNotVerified => "The identity provider did not confirm a verified e-mail address.",
            Self::OidcAccountNotFound => "No active user of this organisation has this e-mail address.",
            Self::OidcProviderUnavailable => "The identity provider cannot be reached at the moment.",
            Self::OidcIssuerRefused => "This identity provider address is not allowed: use a public https address.",
            Self::PluginFailed => "A plugin failed to answer; nothing was changed.",
            Self::PluginSuspended => "This plugin failed repeatedly and is paused; try again in a minute.",
            Self::BadRequest => "The request is malformed.",
            Self::UnsupportedMediaType => "Send the request as application/json.",
            Self::PayloadTooLarge => "The request body is too large.",
            Self::GraphqlParseFailed => "The GraphQL document could not be parsed.",
            Self::GraphqlValidationFailed => "The GraphQL document is not valid for this schema.",
            Self::QueryTooDeep => "The query is nested too deeply.",
            Self::QueryTooComplex => "The query is too complex.",
            Self::TooManyAliases => "The query uses too many aliases.",
            Self::BatchTooLarge => "Too many operations in one batch.",
            Self::Timeout => "The request took too long.",
            Self::UnsupportedFileType => "This type of file is not accepted.",
            Self::ImageTooLarge => "This image is too large.",
            Self::ImportFileTooLarge => "This workbook is too large once uncompressed.",
            Self::LinkInvalid => "This download link is invalid or has expired.",
            Self::PersistedQueryNotFound => "PersistedQueryNotFound",
            Self::PluginQuotaExceeded => "A plugin went past one of its quotas; nothing was changed.",
            Self::PluginDisabled => "This plugin is switched off in this organisation.",
            Self::TooManyRequests => "Your organisation has too many requests running; try again in a moment.",
            Self::PossibleDuplicate => {
                "This client may already exist: check the possible duplicates, or create it anyway."
            }
            Self::Internal => "Internal error.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input value is refused, for the refusals people meet most in forms: the API's message
/// is [`message`](Self::message) (English), the console words it in the reader's language from
/// [`key`](Self::key) and [`args`](Self::args). Refusals without a reason show their code's
/// message there.
#[derive(Clone, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case", prefix = "reason-")]
pub enum Reason {
    TooLong {
        max: usize,
    },
    /// 1 to `max` characters.
    Length {
        max: usize,
    },
    /// A name of 1 to `max` characters.
    NameLength {
        max: usize,
    },
    ControlCharacters,
    Email,
    Username,
    PhoneCharacters,
    Phone,
    Postcode,
    Country,
    Siren,
    Siret,
    SiretPrefix,
    Iban,
    Bic,
    IndividualLastName,
    IndividualFirstName,
    CompanyName,
    Amount,
    PositiveAmount,
    FutureEntry,
    BlockReason,
}

impl Reason {
    /// Its Fluent message id (`reason-too-long`).
    pub fn key(&self) -> &'static str {
        self.into()
    }

    /// Its Fluent arguments.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::TooLong { max } | Self::Length { max } | Self::NameLength { max } => vec![("max", max.to_string())],
            _ => Vec::new(),
        }
    }

    /// The English message.
    pub fn message(&self) -> String {
        let text = match self {
            Self::TooLong { max } => return format!("Use at most {max} characters."),
            Self::Length { max } => return format!("Enter 1 to {max} characters."),
            Self::NameLength { max } => return format!("Enter a name of 1 to {max} characters."),
            Self::ControlCharacters => "Remove control characters.",
            Self::Email => "Enter a valid e-mail address.",
            Self::Username => "Use 3 to 64 letters, digits, dots, underscores or dashes (no @).",
            Self::PhoneCharacters => "Enter a phone number with digits, spaces, dots, dashes or a leading +.",
            Self::Phone => "This is not a valid phone number.",
            Self::Postcode => "This is not a valid postcode for the country.",
            Self::Country => "Use a two-letter ISO 3166-1 country code, e.g. FR or BE.",
            Self::Siren => "A SIREN is 9 digits with a valid check digit.",
            Self::Siret => "A SIRET is 14 digits with a valid check digit.",
            Self::SiretPrefix => "The SIRET must start with the SIREN.",
            Self::Iban => "This IBAN is not valid.",
            Self::Bic => "A BIC is 8 or 11 letters and digits.",
            Self::IndividualLastName => "An individual needs a last name.",
            Self::IndividualFirstName => "An individual needs a first name.",
            Self::CompanyName => "A company needs a company name.",
            Self::Amount => "Enter an amount with at most two decimals.",
            Self::PositiveAmount => "Enter a positive amount with at most two decimals.",
            Self::FutureEntry => "An entry cannot be dated in the future.",
            Self::BlockReason => "Say why the client is blocked.",
        };
        text.to_owned()
    }
}

/// An error with a public code and message; `Internal` keeps its cause for the log only.
#[derive(Debug)]
pub struct AppError {
    code: ErrorCode,
    message: String,
    /// Why a value was refused, when it is one of the [`Reason`]s.
    reason: Option<Reason>,
    field: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Further validation errors reported together with this one.
    more: Vec<AppError>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), reason: None, field: None, source: None, more: Vec::new() }
    }

    pub fn code_only(code: ErrorCode) -> Self {
        Self::new(code, code.default_message())
    }

    /// A validation failure on one input field (becomes a `userErrors` entry).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_owned()), ..Self::new(ErrorCode::Validation, message) }
    }

    /// A validation failure on one input field, for one of the common [`Reason`]s.
    pub fn refused(field: &str, reason: Reason) -> Self {
        let message = reason.message();
        Self { reason: Some(reason), ..Self::invalid(field, message) }
    }

    /// This error on one input field; `""` names the input as a whole.
    #[must_use]
    pub fn on_field(self, field: &str) -> Self {
        Self { field: Some(field.to_owned()), ..self }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_owned()), ..Self::new(ErrorCode::Conflict, message) }
    }

    pub fn not_found() -> Self {
        Self::code_only(ErrorCode::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::code_only(ErrorCode::Forbidden)
    }

    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { source: Some(source.into()), ..Self::code_only(ErrorCode::Internal) }
    }

    /// Several validation errors as one: the first, carrying the others.
    pub fn all(mut errors: Vec<AppError>) -> Option<Self> {
        if errors.is_empty() {
            return None;
        }
        let mut first = errors.remove(0);
        first.more.extend(errors);
        Some(first)
    }

    /// This error and the ones reported with it.
    pub fn each(&self) -> impl Iterator<Item = &AppError> {
        std::iter::once(self).chain(self.more.iter())
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Whether the database refused the transaction only because of a concurrent one
    /// (PostgreSQL serialization failure or deadlock, SQLite busy): running it again may work.
    pub fn is_retryable(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let Some(DbErr::Query(RuntimeErr::SqlxError(err)) | DbErr::Exec(RuntimeErr::SqlxError(err))) =
            self.source.as_deref().and_then(|s| s.downcast_ref::<DbErr>())
        else {
            return false;
        };
        err.as_database_error().and_then(sea_orm::sqlx::error::DatabaseError::code).is_some_and(|code| {
            // 40001 serialization_failure, 40P01 deadlock_detected; SQLite 5 BUSY, 517 BUSY_SNAPSHOT.
            matches!(&*code, "40001" | "40P01" | "5" | "517")
        })
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }

    /// This error and the ones reported with it, each field path passed through `rename`:
    /// services name domain fields, the API layer shows them as its inputs name them.
    #[must_use]
    pub fn rename_fields(mut self, rename: &impl Fn(&str) -> String) -> Self {
        self.field = self.field.as_deref().map(rename);
        self.more = self.more.into_iter().map(|e| e.rename_fields(rename)).collect();
        self
    }

    /// What a client may read: never the internal cause.
    pub fn public_message(&self) -> &str {
        if self.code == ErrorCode::Internal { ErrorCode::Internal.default_message() } else { &self.message }
    }

    /// True for errors in what the caller sent (a form shows them beside its inputs).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::Validation | ErrorCode::Conflict | ErrorCode::LastSuperAdmin | ErrorCode::StaleVersion
        )
    }

    /// True for errors a mutation reports in `userErrors` rather than as a GraphQL error: the
    /// user errors, and what the named record's existence or state refuses. Errors of the
    /// request itself (credentials, permission, limits, our faults) stay GraphQL errors.
    pub fn is_payload_error(&self) -> bool {
        use ErrorCode as C;
        self.is_user_error()
            || matches!(
                self.code,
                C::NotFound
                    | C::ClientBlocked
                    | C::LinkedRecords
                    | C::CreditLimitExceeded
                    | C::NotInTrash
                    | C::BalanceNotZero
                    | C::SeatLimitReached
                    | C::LicenceInUse
                    | C::ClientUnavailable
                    | C::BeneficiaryBlocked
                    | C::CardBlocked
                    | C::NoReferralRewardLeft
                    | C::DirectLoginNotAllowed
                    | C::UnsupportedFileType
                    | C::ImageTooLarge
                    | C::ImportFileTooLarge
                    | C::PluginDisabled
                    | C::PossibleDuplicate
            )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(err)
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        Self::code_only(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn wire_names_are_screaming_snake_and_unique() {
        let names: Vec<&str> = ErrorCode::iter().map(ErrorCode::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_')));
        assert_eq!(ErrorCode::TermsNotAccepted.as_str(), "TERMS_NOT_ACCEPTED");
    }

    #[test]
    fn renaming_reaches_every_error_reported_together() {
        let err = AppError::all(vec![AppError::invalid("last_name", "x"), AppError::conflict("site", "y")])
            .map(|e| e.rename_fields(&|f: &str| f.to_uppercase()));
        let fields: Vec<_> = err.iter().flat_map(AppError::each).map(|e| (e.code(), e.field())).collect();
        assert_eq!(fields, [(ErrorCode::Validation, Some("LAST_NAME")), (ErrorCode::Conflict, Some("SITE"))]);
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let err = AppError::internal(std::io::Error::other("relation \"users\" does not exist"));
        assert_eq!(err.public_message(), "Internal error.");
        assert!(err.to_string().contains("users"));
    }
}
