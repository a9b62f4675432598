//! The posting rules as pure functions: the sign each kind gives, the kinds each account
//! takes, and the floor each account keeps (see the module doc of `ledger`).

use crate::clients::model::AccountKind;
use clientele_kernel::Money;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};

/// The largest amount one entry may carry, in cents (one billion): sums stay far from overflow.
const MAX_AMOUNT: u64 = 100_000_000_000;

/// LED-07: what an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LedgerKind {
    /// The balance carried over when the account starts (LED-03); once per client.
    Opening,
    Invoice,
    CreditNote,
    Payment,
    /// Money put on the account (deposit top-up, account credit, LED-08).
    CreditAdded,
    /// Money taken off the account (spent from the wallet or paid back, LED-08).
    CreditWithdrawn,
    /// An allowance credited to the client (LED-17).
    Dotation,
    /// A signed correction that is not a reversal.
    Adjustment,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The signed amount of an entry of this kind typed as `typed`: a positive amount for kinds
    /// with a direction, any non-zero amount for OPENING and ADJUSTMENT.
    pub fn signed(self, typed: Money) -> Result<Money, &'static str> {
        if typed.0 == 0 {
            return Err("Enter an amount other than zero.");
        }
        if typed.0.unsigned_abs() > MAX_AMOUNT {
            return Err("This amount is too large.");
        }
        match self {
            Self::Opening | Self::Adjustment => Ok(typed),
            _ if typed.0 < 0 => Err("Enter a positive amount: the kind of entry gives the sign."),
            Self::Invoice | Self::CreditWithdrawn => Ok(Money(-typed.0)),
            Self::CreditNote | Self::Payment | Self::CreditAdded | Self::Dotation => Ok(typed),
        }
    }

    /// Whether the entry pays what the client owes: the only postings a blocked client still
    /// takes (LIF-01: a bad payer may settle its debt; no new sale).
    pub fn settles_debt(self) -> bool {
        matches!(self, Self::Payment | Self::CreditNote)
    }

    /// Whether an account of kind `account` takes entries of this kind (see the module doc).
    pub fn allowed_on(self, account: AccountKind) -> bool {
        account != AccountKind::None || !matches!(self, Self::CreditAdded | Self::CreditWithdrawn | Self::Dotation)
    }
}

/// The lowest balance an account may reach: 0 for deposit accounts (LED-05), −limit for credit
/// accounts (LED-04), none for accounts of kind NONE.
pub fn floor(account: AccountKind, credit_limit: Money) -> Option<Money> {
    match account {
        AccountKind::None => None,
        AccountKind::Deposit => Some(Money(0)),
        AccountKind::Credit => Some(Money(-credit_limit.0)),
    }
}

/// LED-12: what a client may still spend, the balance above its account's floor: credit limit +
/// balance on credit accounts, the balance on deposit accounts; none for accounts of kind NONE.
pub fn available_credit(account: AccountKind, credit_limit: Money, balance: Money) -> Option<Money> {
    floor(account, credit_limit).map(|floor| Money(balance.0.saturating_sub(floor.0)))
}

/// The balance after posting `amount` on `balance`. A posting that lowers the balance may not
/// take it below the floor; one that raises it always passes, so a payment is taken even on an
/// account already past a limit that was lowered since.
pub fn after_posting(account: AccountKind, limit: Money, balance: Money, amount: Money) -> AppResult<Money> {
    let after = balance
        .0
        .checked_add(amount.0)
        .map(Money)
        .ok_or_else(|| AppError::invalid("amount", "This amount is too large."))?;
    if amount.0 < 0 && floor(account, limit).is_some_and(|f| after < f) {
        return Err(AppError::code_only(ErrorCode::CreditLimitExceeded));
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_give_the_sign_and_refuse_typed_negatives() {
        assert_eq!(LedgerKind::Invoice.signed(Money(1250)), Ok(Money(-1250)), "an invoice: the client owes");
        assert_eq!(LedgerKind::Payment.signed(Money(1250)), Ok(Money(1250)));
        assert_eq!(LedgerKind::CreditWithdrawn.signed(Money(5)), Ok(Money(-5)));
        assert_eq!(LedgerKind::Dotation.signed(Money(5)), Ok(Money(5)));
        assert!(LedgerKind::Payment.signed(Money(-5)).is_err());
        assert_eq!(LedgerKind::Adjustment.signed(Money(-5)), Ok(Money(-5)));
        assert_eq!(LedgerKind::Opening.signed(Money(-5)), Ok(Money(-5)));
        assert!(LedgerKind::Opening.signed(Money(0)).is_err());
        assert!(LedgerKind::Adjustment.signed(Money(i64::MIN)).is_err());
    }

    #[test]
    fn accounts_without_facility_take_documents_only() {
        assert!(LedgerKind::Invoice.allowed_on(AccountKind::None));
        assert!(LedgerKind::Opening.allowed_on(AccountKind::None));
        assert!(!LedgerKind::CreditAdded.allowed_on(AccountKind::None));
        assert!(!LedgerKind::Dotation.allowed_on(AccountKind::None));
        assert!(LedgerKind::Dotation.allowed_on(AccountKind::Deposit));
    }

    #[test]
    fn available_credit_is_what_is_left_above_the_floor() {
        let limit = Money(10_000);
        assert_eq!(available_credit(AccountKind::Credit, limit, Money(-2_500)), Some(Money(7_500)));
        assert_eq!(available_credit(AccountKind::Credit, limit, Money(-12_000)), Some(Money(-2_000)), "past the limit");
        assert_eq!(available_credit(AccountKind::Deposit, Money(0), Money(4_200)), Some(Money(4_200)));
        assert_eq!(available_credit(AccountKind::Deposit, limit, Money(4_200)), Some(Money(4_200)), "limit ignored");
        assert_eq!(available_credit(AccountKind::None, limit, Money(-500)), None);
    }

    #[test]
    fn floors_hold_only_against_postings_that_lower_the_balance() {
        let (limit, zero) = (Money(10_000), Money(0));
        assert_eq!(after_posting(AccountKind::Credit, limit, zero, Money(-10_000)).ok(), Some(Money(-10_000)));
        let over = after_posting(AccountKind::Credit, limit, zero, Money(-10_001));
        assert_eq!(over.map_err(|e| e.code()).err(), Some(ErrorCode::CreditLimitExceeded));
        let deposit = after_posting(AccountKind::Deposit, limit, Money(500), Money(-501));
        assert_eq!(deposit.map_err(|e| e.code()).err(), Some(ErrorCode::CreditLimitExceeded), "limit ignored");
        assert!(after_posting(AccountKind::None, zero, zero, Money(-1_000_000)).is_ok());
        assert_eq!(
            after_posting(AccountKind::Credit, limit, Money(-20_000), Money(100)).ok(),
            Some(Money(-19_900)),
            "a payment passes on an account already past its limit"
        );
    }
}
