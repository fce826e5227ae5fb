//! СНИЛС, the personal insurance account number.
//!
//! ```
//! use uslugi_domain::Snils;
//! let snils = Snils::parse("112-233-445 95").unwrap();
//! assert_eq!(snils.as_digits(), "11223344595");
//! assert_eq!(snils.to_string(), "112-233-445 95");
//! ```

use std::fmt;

/// A СНИЛС whose check number matches: 11 digits stored without separators.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

/// A typed СНИЛС was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnilsError {
    /// Nothing was typed.
    #[error("Введите СНИЛС")]
    Empty,
    /// Something other than digits, spaces and hyphens.
    #[error("В СНИЛС могут быть только цифры, дефисы и пробелы")]
    NotDigits,
    /// Not 11 digits.
    #[error("СНИЛС должен состоять из 11 цифр, например 123-456-789 01")]
    WrongLength,
    /// Only zeros: never issued.
    #[error("СНИЛС не может состоять из одних нулей. Проверьте цифры")]
    AllZeros,
    /// The last two digits do not match the first nine.
    #[error("СНИЛС указан с ошибкой: не сходится контрольное число. Проверьте цифры")]
    CheckNumber,
}

/// Numbers up to 001-001-998 were issued before the check number rule and are not checked.
const LAST_UNCHECKED: u32 = 1_001_998;

impl Snils {
    /// Reads a СНИЛС typed as `112-233-445 95`, `11223344595` or with spaces and hyphens
    /// anywhere, and checks its check number.
    pub fn parse(input: &str) -> Result<Snils, SnilsError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(SnilsError::Empty);
        }
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !is_dash(*c))
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(SnilsError::NotDigits);
        }
        if digits.len() != 11 {
            return Err(SnilsError::WrongLength);
        }
        if digits.bytes().all(|b| b == b'0') {
            return Err(SnilsError::AllZeros);
        }
        let (number, check) = digits.split_at(9);
        let number_value: u32 = number.parse().map_err(|_| SnilsError::NotDigits)?;
        if number_value > LAST_UNCHECKED && check != format!("{:02}", check_number(number)) {
            return Err(SnilsError::CheckNumber);
        }
        Ok(Snils(digits))
    }

    /// The 11 digits without separators, for storage and registry requests.
    pub fn as_digits(&self) -> &str {
        &self.0
    }
}

/// Hyphen-like characters people paste from documents.
pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '‒' | '–' | '—' | '−')
}

/// The check number of the first nine digits: weights 9..1, then reduced to two digits.
///
/// `nine_digits` must be nine ASCII digits.
pub fn check_number(nine_digits: &str) -> u32 {
    let sum: u32 = nine_digits
        .bytes()
        .zip((1..=9u32).rev())
        .map(|(b, weight)| u32::from(b - b'0') * weight)
        .sum();
    match sum {
        0..=99 => sum,
        100 | 101 => 0,
        _ => match sum % 101 {
            100 => 0,
            rest => rest,
        },
    }
}

impl fmt::Display for Snils {
    /// `112-233-445 95`, as printed on the card.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{} {}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

impl fmt::Debug for Snils {
    /// Masked, because `Debug` ends up in logs: `Snils(***-***-*** 95)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snils(***-***-*** {})", &self.0[9..11])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_snils_is_accepted_in_both_spellings() {
        let dashed = Snils::parse("112-233-445 95").unwrap();
        let plain = Snils::parse("11223344595").unwrap();
        assert_eq!(dashed, plain);
        assert_eq!(dashed.as_digits(), "11223344595");
        assert_eq!(dashed.to_string(), "112-233-445 95");
        assert_eq!(Snils::parse(" 112 233 445 95 ").unwrap(), plain);
        assert_eq!(Snils::parse("112-233-445-95").unwrap(), plain);
    }

    #[test]
    fn snils_with_wrong_check_number_is_refused() {
        assert_eq!(Snils::parse("112-233-445 96"), Err(SnilsError::CheckNumber));
        assert_eq!(
            SnilsError::CheckNumber.to_string(),
            "СНИЛС указан с ошибкой: не сходится контрольное число. Проверьте цифры"
        );
    }

    #[test]
    fn snils_of_wrong_shape_is_refused_with_a_message_saying_why() {
        assert_eq!(Snils::parse("   "), Err(SnilsError::Empty));
        assert_eq!(SnilsError::Empty.to_string(), "Введите СНИЛС");
        assert_eq!(Snils::parse("112-233-445"), Err(SnilsError::WrongLength));
        assert_eq!(
            SnilsError::WrongLength.to_string(),
            "СНИЛС должен состоять из 11 цифр, например 123-456-789 01"
        );
        assert_eq!(Snils::parse("112-233-445 9O"), Err(SnilsError::NotDigits));
        assert_eq!(Snils::parse("112/233/445 95"), Err(SnilsError::NotDigits));
        assert_eq!(
            SnilsError::NotDigits.to_string(),
            "В СНИЛС могут быть только цифры, дефисы и пробелы"
        );
        assert_eq!(Snils::parse("000-000-000 00"), Err(SnilsError::AllZeros));
    }

    #[test]
    fn old_numbers_up_to_001_001_998_are_not_checked() {
        assert!(Snils::parse("001-001-998 00").is_ok());
        assert!(Snils::parse("000-123-456 77").is_ok());
        let next = format!("001001999{:02}", check_number("001001999"));
        assert!(Snils::parse(&next).is_ok());
        let wrong = format!("001001999{:02}", (check_number("001001999") + 1) % 100);
        assert_eq!(Snils::parse(&wrong), Err(SnilsError::CheckNumber));
    }

    #[test]
    fn check_number_follows_the_official_reduction() {
        assert_eq!(check_number("112233445"), 95);
        // sum 100 and 101 give 00; sums above 101 are taken modulo 101.
        assert_eq!(check_number("900000001"), 82);
        assert_eq!(check_number("550000055"), 0); // sum 100
        assert_eq!(check_number("550000056"), 0); // sum 101
        assert_eq!(check_number("550000057"), 1); // sum 102
        assert_eq!(check_number("996100000"), 0); // sum 201, and 201 mod 101 is 100
        assert_eq!(check_number("999999999"), 1); // sum 405
    }

    #[test]
    fn debug_does_not_show_the_number() {
        let snils = Snils::parse("112-233-445 95").unwrap();
        assert_eq!(format!("{snils:?}"), "Snils(***-***-*** 95)");
    }

    fn valid_snils_digits() -> impl Strategy<Value = String> {
        "[0-9]{9}"
            .prop_filter("checked range", |n| {
                n.parse::<u32>().is_ok_and(|v| v > LAST_UNCHECKED)
            })
            .prop_map(|n| format!("{n}{:02}", check_number(&n)))
    }

    proptest! {
        #[test]
        fn snils_with_computed_check_number_is_accepted_in_both_spellings(digits in valid_snils_digits()) {
            let plain = Snils::parse(&digits).unwrap();
            let shown = plain.to_string();
            prop_assert_eq!(Snils::parse(&shown).unwrap(), plain.clone());
            prop_assert_eq!(plain.as_digits(), digits.as_str());
            prop_assert_eq!(shown.len(), 14);
        }

        #[test]
        fn snils_with_any_other_check_number_is_refused(digits in valid_snils_digits(), delta in 1u32..100) {
            let right: u32 = digits[9..].parse().unwrap();
            let wrong = format!("{}{:02}", &digits[..9], (right + delta) % 100);
            prop_assert_eq!(Snils::parse(&wrong), Err(SnilsError::CheckNumber));
        }
    }
}
