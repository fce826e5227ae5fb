//! Tax and registration numbers: ИНН, ОГРН, ОГРНИП, КПП.
//!
//! ```
//! use uslugi_domain::{Inn, Kpp, Ogrn, Ogrnip};
//! assert!(Inn::parse("500100732259").unwrap().is_person());
//! assert!(!Inn::parse("7707083893").unwrap().is_person());
//! assert!(Ogrn::parse("1027700132195").is_ok());
//! assert!(Ogrnip::parse("304500116000157").is_ok());
//! assert!(Kpp::parse("773601001").is_ok());
//! ```
//!
//! Spaces typed between digit groups are ignored; anything else that is not a digit is refused.

use std::fmt;

/// A ИНН whose check digits match: 12 digits for a person, 10 for an organisation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Inn(String);

/// A typed ИНН was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InnError {
    /// Nothing was typed.
    #[error("Введите ИНН")]
    Empty,
    /// Something other than digits.
    #[error("ИНН может состоять только из цифр")]
    NotDigits,
    /// Neither 10 nor 12 digits.
    #[error("ИНН физического лица — 12 цифр, организации — 10 цифр")]
    WrongLength,
    /// A person's ИНН was expected.
    #[error("ИНН физического лица должен состоять из 12 цифр")]
    NotPersonLength,
    /// An organisation's ИНН was expected.
    #[error("ИНН организации должен состоять из 10 цифр")]
    NotOrganisationLength,
    /// Only zeros: never issued.
    #[error("ИНН не может состоять из одних нулей. Проверьте цифры")]
    AllZeros,
    /// The check digits do not match.
    #[error("ИНН указан с ошибкой: не сходятся контрольные цифры. Проверьте цифры")]
    CheckDigits,
}

const INN10_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

/// `(Σ digit × weight mod 11) mod 10`, the check digit rule of ИНН.
fn weighted_check(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    // The result is below 10, so it fits in u8.
    (sum % 11 % 10) as u8
}

/// The check digit of the first nine digits of an organisation's ИНН.
pub fn inn10_check_digit(first_nine: &[u8]) -> u8 {
    weighted_check(first_nine, &INN10_WEIGHTS)
}

/// The two check digits of the first ten digits of a person's ИНН.
pub fn inn12_check_digits(first_ten: &[u8]) -> (u8, u8) {
    let n11 = weighted_check(first_ten, &INN12_WEIGHTS_11);
    let mut first_eleven = first_ten.to_vec();
    first_eleven.push(n11);
    (n11, weighted_check(&first_eleven, &INN12_WEIGHTS_12))
}

/// Trims, drops inner spaces and checks that only ASCII digits remain.
fn clean_digits(input: &str) -> Result<String, ShapeError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ShapeError::Empty);
    }
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShapeError::NotDigits);
    }
    if digits.bytes().all(|b| b == b'0') {
        return Err(ShapeError::AllZeros);
    }
    Ok(digits)
}

enum ShapeError {
    Empty,
    NotDigits,
    AllZeros,
}

fn digit_values(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b - b'0').collect()
}

impl Inn {
    /// Reads a ИНН of a person (12 digits) or an organisation (10 digits).
    pub fn parse(input: &str) -> Result<Inn, InnError> {
        let digits = clean_digits(input).map_err(|e| match e {
            ShapeError::Empty => InnError::Empty,
            ShapeError::NotDigits => InnError::NotDigits,
            ShapeError::AllZeros => InnError::AllZeros,
        })?;
        let d = digit_values(&digits);
        let valid = match d.len() {
            10 => inn10_check_digit(&d[..9]) == d[9],
            12 => inn12_check_digits(&d[..10]) == (d[10], d[11]),
            _ => return Err(InnError::WrongLength),
        };
        if valid {
            Ok(Inn(digits))
        } else {
            Err(InnError::CheckDigits)
        }
    }

    /// Reads a person's ИНН: only 12 digits are accepted.
    pub fn parse_person(input: &str) -> Result<Inn, InnError> {
        match Inn::parse(input) {
            Ok(inn) if inn.is_person() => Ok(inn),
            Ok(_) | Err(InnError::WrongLength) => Err(InnError::NotPersonLength),
            Err(e) => Err(e),
        }
    }

    /// Reads an organisation's ИНН: only 10 digits are accepted.
    pub fn parse_organisation(input: &str) -> Result<Inn, InnError> {
        match Inn::parse(input) {
            Ok(inn) if !inn.is_person() => Ok(inn),
            Ok(_) | Err(InnError::WrongLength) => Err(InnError::NotOrganisationLength),
            Err(e) => Err(e),
        }
    }

    /// Whether this is a person's ИНН (12 digits) rather than an organisation's (10).
    pub fn is_person(&self) -> bool {
        self.0.len() == 12
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Inn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Inn {
    /// Masked, because `Debug` ends up in logs: `Inn(********2259)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.len() - 4;
        write!(f, "Inn({}{})", "*".repeat(shown), &self.0[shown..])
    }
}

/// ОГРН of an organisation: 13 digits with a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ogrn(String);

/// A typed ОГРН was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OgrnError {
    /// Nothing was typed.
    #[error("Введите ОГРН")]
    Empty,
    /// Something other than digits.
    #[error("ОГРН может состоять только из цифр")]
    NotDigits,
    /// Not 13 digits.
    #[error("ОГРН должен состоять из 13 цифр")]
    WrongLength,
    /// Only zeros: never issued.
    #[error("ОГРН не может состоять из одних нулей. Проверьте цифры")]
    AllZeros,
    /// The last digit does not match.
    #[error("ОГРН указан с ошибкой: не сходится контрольная цифра. Проверьте цифры")]
    CheckDigit,
}

/// The check digit of ОГРН (`modulus` 11, 12 digits) and ОГРНИП (`modulus` 13, 14 digits):
/// the number formed by the leading digits, modulo `modulus`, then modulo 10.
fn registration_check_digit(leading: &str, modulus: u64) -> Option<u8> {
    let value: u64 = leading.parse().ok()?;
    // The result is below 10, so it fits in u8.
    Some((value % modulus % 10) as u8)
}

/// The check digit of the first 12 digits of an ОГРН.
pub fn ogrn_check_digit(first_twelve: &str) -> Option<u8> {
    registration_check_digit(first_twelve, 11)
}

/// The check digit of the first 14 digits of an ОГРНИП.
pub fn ogrnip_check_digit(first_fourteen: &str) -> Option<u8> {
    registration_check_digit(first_fourteen, 13)
}

impl Ogrn {
    /// Reads an ОГРН: 13 digits, the last one a check digit.
    pub fn parse(input: &str) -> Result<Ogrn, OgrnError> {
        let digits = clean_digits(input).map_err(|e| match e {
            ShapeError::Empty => OgrnError::Empty,
            ShapeError::NotDigits => OgrnError::NotDigits,
            ShapeError::AllZeros => OgrnError::AllZeros,
        })?;
        if digits.len() != 13 {
            return Err(OgrnError::WrongLength);
        }
        let check = digits.as_bytes()[12] - b'0';
        if ogrn_check_digit(&digits[..12]) != Some(check) {
            return Err(OgrnError::CheckDigit);
        }
        Ok(Ogrn(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ogrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ОГРНИП of an individual entrepreneur: 15 digits with a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ogrnip(String);

/// A typed ОГРНИП was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OgrnipError {
    /// Nothing was typed.
    #[error("Введите ОГРНИП")]
    Empty,
    /// Something other than digits.
    #[error("ОГРНИП может состоять только из цифр")]
    NotDigits,
    /// Not 15 digits.
    #[error("ОГРНИП должен состоять из 15 цифр")]
    WrongLength,
    /// Only zeros: never issued.
    #[error("ОГРНИП не может состоять из одних нулей. Проверьте цифры")]
    AllZeros,
    /// The last digit does not match.
    #[error("ОГРНИП указан с ошибкой: не сходится контрольная цифра. Проверьте цифры")]
    CheckDigit,
}

impl Ogrnip {
    /// Reads an ОГРНИП: 15 digits, the last one a check digit.
    pub fn parse(input: &str) -> Result<Ogrnip, OgrnipError> {
        let digits = clean_digits(input).map_err(|e| match e {
            ShapeError::Empty => OgrnipError::Empty,
            ShapeError::NotDigits => OgrnipError::NotDigits,
            ShapeError::AllZeros => OgrnipError::AllZeros,
        })?;
        if digits.len() != 15 {
            return Err(OgrnipError::WrongLength);
        }
        let check = digits.as_bytes()[14] - b'0';
        if ogrnip_check_digit(&digits[..14]) != Some(check) {
            return Err(OgrnipError::CheckDigit);
        }
        Ok(Ogrnip(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ogrnip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// КПП of an organisation: 4 digits (tax office), 2 digits or capital Latin letters
/// (reason), 3 digits (number). Lower-case letters are accepted and stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kpp(String);

/// A typed КПП was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KppError {
    /// Nothing was typed.
    #[error("Введите КПП")]
    Empty,
    /// Not 9 characters of the right kinds.
    #[error("КПП должен состоять из 9 символов, например 773601001")]
    Format,
    /// Only zeros: never issued.
    #[error("КПП не может состоять из одних нулей. Проверьте цифры")]
    AllZeros,
}

impl Kpp {
    /// Reads a КПП: `NNNNPPNNN`, where `P` is a digit or a Latin letter A–Z.
    pub fn parse(input: &str) -> Result<Kpp, KppError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(KppError::Empty);
        }
        let kpp: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = kpp.as_bytes();
        let shape_ok = b.len() == 9
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4..6]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && b[6..].iter().all(u8::is_ascii_digit);
        if !shape_ok {
            return Err(KppError::Format);
        }
        if b.iter().all(|c| *c == b'0') {
            return Err(KppError::AllZeros);
        }
        Ok(Kpp(kpp))
    }

    /// The nine characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kpp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_person_and_organisation_inn_are_accepted() {
        let person = Inn::parse("500100732259").unwrap();
        assert!(person.is_person());
        assert_eq!(person.to_string(), "500100732259");
        let org = Inn::parse(" 7707083893 ").unwrap();
        assert!(!org.is_person());
        assert_eq!(org.as_str(), "7707083893");
    }

    #[test]
    fn inn_with_wrong_check_digits_is_refused() {
        assert_eq!(Inn::parse("500100732258"), Err(InnError::CheckDigits));
        assert_eq!(Inn::parse("500100732269"), Err(InnError::CheckDigits));
        assert_eq!(Inn::parse("7707083894"), Err(InnError::CheckDigits));
        assert_eq!(
            InnError::CheckDigits.to_string(),
            "ИНН указан с ошибкой: не сходятся контрольные цифры. Проверьте цифры"
        );
    }

    #[test]
    fn inn_of_wrong_shape_is_refused_with_a_message_saying_why() {
        assert_eq!(Inn::parse(""), Err(InnError::Empty));
        assert_eq!(InnError::Empty.to_string(), "Введите ИНН");
        assert_eq!(Inn::parse("77070838931"), Err(InnError::WrongLength));
        assert_eq!(
            InnError::WrongLength.to_string(),
            "ИНН физического лица — 12 цифр, организации — 10 цифр"
        );
        assert_eq!(Inn::parse("77070-83893"), Err(InnError::NotDigits));
        assert_eq!(Inn::parse("0000000000"), Err(InnError::AllZeros));
        assert_eq!(Inn::parse("000000000000"), Err(InnError::AllZeros));
    }

    #[test]
    fn person_and_organisation_parsers_accept_only_their_length() {
        assert!(Inn::parse_person("500100732259").is_ok());
        assert_eq!(
            Inn::parse_person("7707083893"),
            Err(InnError::NotPersonLength)
        );
        assert_eq!(Inn::parse_person("123"), Err(InnError::NotPersonLength));
        assert_eq!(
            InnError::NotPersonLength.to_string(),
            "ИНН физического лица должен состоять из 12 цифр"
        );
        assert!(Inn::parse_organisation("7707083893").is_ok());
        assert_eq!(
            Inn::parse_organisation("500100732259"),
            Err(InnError::NotOrganisationLength)
        );
        assert_eq!(
            Inn::parse_person("500100732258"),
            Err(InnError::CheckDigits)
        );
    }

    #[test]
    fn debug_of_inn_shows_only_the_last_four_digits() {
        let inn = Inn::parse("500100732259").unwrap();
        assert_eq!(format!("{inn:?}"), "Inn(********2259)");
    }

    #[test]
    fn real_ogrn_and_ogrnip_are_accepted() {
        assert_eq!(
            Ogrn::parse("1027700132195").unwrap().as_str(),
            "1027700132195"
        );
        assert_eq!(
            Ogrnip::parse("304500116000157").unwrap().to_string(),
            "304500116000157"
        );
    }

    #[test]
    fn ogrn_and_ogrnip_with_wrong_check_digit_are_refused() {
        assert_eq!(Ogrn::parse("1027700132196"), Err(OgrnError::CheckDigit));
        assert_eq!(
            Ogrnip::parse("304500116000158"),
            Err(OgrnipError::CheckDigit)
        );
        assert_eq!(
            OgrnError::CheckDigit.to_string(),
            "ОГРН указан с ошибкой: не сходится контрольная цифра. Проверьте цифры"
        );
    }

    #[test]
    fn ogrn_and_ogrnip_of_wrong_shape_are_refused() {
        assert_eq!(Ogrn::parse("102770013219"), Err(OgrnError::WrongLength));
        assert_eq!(
            OgrnError::WrongLength.to_string(),
            "ОГРН должен состоять из 13 цифр"
        );
        assert_eq!(Ogrn::parse("10277OO132195"), Err(OgrnError::NotDigits));
        assert_eq!(Ogrn::parse(" "), Err(OgrnError::Empty));
        assert_eq!(Ogrn::parse("0000000000000"), Err(OgrnError::AllZeros));
        assert_eq!(
            Ogrnip::parse("1027700132195"),
            Err(OgrnipError::WrongLength)
        );
        assert_eq!(
            OgrnipError::WrongLength.to_string(),
            "ОГРНИП должен состоять из 15 цифр"
        );
        assert_eq!(Ogrnip::parse("000000000000000"), Err(OgrnipError::AllZeros));
    }

    #[test]
    fn real_kpp_is_accepted_and_letters_are_upper_cased() {
        assert_eq!(Kpp::parse("773601001").unwrap().as_str(), "773601001");
        assert_eq!(Kpp::parse("7736ab001").unwrap().to_string(), "7736AB001");
    }

    #[test]
    fn kpp_of_wrong_shape_is_refused() {
        assert_eq!(Kpp::parse(""), Err(KppError::Empty));
        assert_eq!(Kpp::parse("77360100"), Err(KppError::Format));
        assert_eq!(Kpp::parse("7736010011"), Err(KppError::Format));
        assert_eq!(Kpp::parse("A73601001"), Err(KppError::Format));
        assert_eq!(Kpp::parse("7736ЖЖ001"), Err(KppError::Format));
        assert_eq!(Kpp::parse("773601A01"), Err(KppError::Format));
        assert_eq!(Kpp::parse("000000000"), Err(KppError::AllZeros));
        assert_eq!(
            KppError::Format.to_string(),
            "КПП должен состоять из 9 символов, например 773601001"
        );
    }

    fn to_string(d: &[u8]) -> String {
        d.iter().map(|v| char::from(b'0' + v)).collect()
    }

    fn not_all_zero(d: &[u8]) -> bool {
        d.iter().any(|v| *v != 0)
    }

    proptest! {
        #[test]
        fn organisation_inn_with_computed_check_digit_is_accepted(
            mut d in proptest::collection::vec(0u8..10, 9).prop_filter("zeros", |d| not_all_zero(d)),
            delta in 1u8..10,
        ) {
            d.push(inn10_check_digit(&d));
            let inn = Inn::parse(&to_string(&d)).unwrap();
            prop_assert!(!inn.is_person());
            prop_assert_eq!(inn.to_string(), to_string(&d));
            d[9] = (d[9] + delta) % 10;
            prop_assert_eq!(Inn::parse(&to_string(&d)), Err(InnError::CheckDigits));
        }

        #[test]
        fn person_inn_with_computed_check_digits_is_accepted(
            mut d in proptest::collection::vec(0u8..10, 10).prop_filter("zeros", |d| not_all_zero(d)),
            which in 10usize..12,
            delta in 1u8..10,
        ) {
            let (n11, n12) = inn12_check_digits(&d);
            d.push(n11);
            d.push(n12);
            let inn = Inn::parse(&to_string(&d)).unwrap();
            prop_assert!(inn.is_person());
            prop_assert_eq!(inn.to_string(), to_string(&d));
            d[which] = (d[which] + delta) % 10;
            prop_assert_eq!(Inn::parse(&to_string(&d)), Err(InnError::CheckDigits));
        }

        #[test]
        fn ogrn_with_computed_check_digit_is_accepted(
            leading in "[1-9][0-9]{11}",
            delta in 1u8..10,
        ) {
            let check = ogrn_check_digit(&leading).unwrap();
            let ogrn = format!("{leading}{check}");
            prop_assert_eq!(Ogrn::parse(&ogrn).unwrap().to_string(), ogrn);
            let wrong = format!("{leading}{}", (check + delta) % 10);
            prop_assert_eq!(Ogrn::parse(&wrong), Err(OgrnError::CheckDigit));
        }

        #[test]
        fn ogrnip_with_computed_check_digit_is_accepted(
            leading in "[1-9][0-9]{13}",
            delta in 1u8..10,
        ) {
            let check = ogrnip_check_digit(&leading).unwrap();
            let ogrnip = format!("{leading}{check}");
            prop_assert_eq!(Ogrnip::parse(&ogrnip).unwrap().to_string(), ogrnip);
            let wrong = format!("{leading}{}", (check + delta) % 10);
            prop_assert_eq!(Ogrnip::parse(&wrong), Err(OgrnipError::CheckDigit));
        }
    }
}
