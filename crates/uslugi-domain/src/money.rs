//! Amounts in roubles: госпошлины, штрафы, payments.
//!
//! Stored in kopecks so arithmetic is exact; shown as people read prices:
//!
//! ```
//! use uslugi_domain::Money;
//! assert_eq!(Money::from_rubles(1500).to_string(), "1\u{a0}500\u{a0}₽");
//! assert_eq!(Money::parse("1 500,50").unwrap().kopecks(), 150_050);
//! ```

use std::fmt;

use crate::plural::{NBSP, group_digits};

/// A non-negative amount of money in kopecks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(u64);

/// A typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing was typed.
    #[error("Введите сумму")]
    Empty,
    /// Not a number of roubles with at most two digits of kopecks.
    #[error("Введите сумму в рублях, например 1 500 или 1 500,50")]
    Format,
    /// Larger than any amount the portal handles.
    #[error("Слишком большая сумма")]
    TooLarge,
}

/// Largest accepted amount: a trillion roubles is well beyond any fee or fine.
const MAX_KOPECKS: u64 = 100_000_000_000_000;

impl Money {
    /// Zero roubles.
    pub const ZERO: Money = Money(0);

    /// An amount in kopecks.
    pub const fn from_kopecks(kopecks: u64) -> Money {
        Money(kopecks)
    }

    /// A whole number of roubles (saturating at the largest `u64` amount).
    pub const fn from_rubles(rubles: u64) -> Money {
        Money(rubles.saturating_mul(100))
    }

    /// Reads `1500`, `1 500`, `1500,5`, `1500.50` or `1 500 ₽`.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let cleaned: String = input
            .trim()
            .trim_end_matches('₽')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if cleaned.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (rubles, kopecks) = match cleaned.split_once([',', '.']) {
            Some((r, k)) => (r, k),
            None => (cleaned.as_str(), ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if rubles.is_empty() || !all_digits(rubles) || !all_digits(kopecks) || kopecks.len() > 2 {
            return Err(MoneyError::Format);
        }
        let rubles: u64 = rubles.parse().map_err(|_| MoneyError::TooLarge)?;
        let kopecks: u64 = match kopecks.len() {
            0 => 0,
            // «1500,5» means fifty kopecks.
            1 => kopecks.parse::<u64>().map_err(|_| MoneyError::Format)? * 10,
            _ => kopecks.parse().map_err(|_| MoneyError::Format)?,
        };
        let total = rubles
            .checked_mul(100)
            .and_then(|r| r.checked_add(kopecks))
            .filter(|t| *t <= MAX_KOPECKS)
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money(total))
    }

    /// The amount in kopecks.
    pub const fn kopecks(self) -> u64 {
        self.0
    }

    /// Sum of two amounts; `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    /// «1 500 ₽», «1 500,50 ₽», with non-breaking spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rubles = group_digits(self.0 / 100);
        match self.0 % 100 {
            0 => write!(f, "{rubles}{NBSP}₽"),
            kopecks => write!(f, "{rubles},{kopecks:02}{NBSP}₽"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_shown_with_non_breaking_spaces() {
        assert_eq!(Money::from_rubles(1500).to_string(), "1\u{a0}500\u{a0}₽");
        assert_eq!(
            Money::from_kopecks(150_050).to_string(),
            "1\u{a0}500,50\u{a0}₽"
        );
        assert_eq!(Money::from_kopecks(5).to_string(), "0,05\u{a0}₽");
        assert_eq!(Money::ZERO.to_string(), "0\u{a0}₽");
    }

    #[test]
    fn typed_amounts_are_read_in_kopecks() {
        assert_eq!(Money::parse("1500"), Ok(Money::from_rubles(1500)));
        assert_eq!(Money::parse(" 1 500 ₽ "), Ok(Money::from_rubles(1500)));
        assert_eq!(Money::parse("1500,5"), Ok(Money::from_kopecks(150_050)));
        assert_eq!(Money::parse("1500.05"), Ok(Money::from_kopecks(150_005)));
        let shown = Money::from_kopecks(123_456_789).to_string();
        assert_eq!(Money::parse(&shown), Ok(Money::from_kopecks(123_456_789)));
    }

    #[test]
    fn malformed_amounts_are_refused() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("1,500,00"), Err(MoneyError::Format));
        assert_eq!(Money::parse("15.005"), Err(MoneyError::Format));
        assert_eq!(Money::parse("-5"), Err(MoneyError::Format));
        assert_eq!(Money::parse(",50"), Err(MoneyError::Format));
        assert_eq!(
            Money::parse("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            MoneyError::Format.to_string(),
            "Введите сумму в рублях, например 1 500 или 1 500,50"
        );
    }
}
