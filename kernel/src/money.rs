//! Money: exact amounts in minor units of the tenant currency.

/// An amount in minor units (cents) of the tenant currency: exact, summable.
/// Stored as its minor units (a `BIGINT` column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, sea_orm::DeriveValueType)]
pub struct Money(pub i64);

impl Money {
    /// Parses a decimal string with at most two decimals (`"12.5"`, `"-3.20"`).
    pub fn parse(raw: &str) -> Option<Self> {
        let value: rust_decimal::Decimal = raw.trim().parse().ok()?;
        if value.scale() > 2 {
            return None;
        }
        let cents = value * rust_decimal::Decimal::ONE_HUNDRED;
        i64::try_from(cents.trunc()).ok().map(Money)
    }

    pub fn to_decimal_string(self) -> String {
        rust_decimal::Decimal::new(self.0, 2).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_decimals_at_most() {
        assert_eq!(Money::parse("12.5"), Some(Money(1250)));
        assert_eq!(Money::parse("-3.20"), Some(Money(-320)));
        assert_eq!(Money::parse("0.001"), None);
        assert_eq!(Money::parse("abc"), None);
        assert_eq!(Money(-320).to_decimal_string(), "-3.20");
    }
}
