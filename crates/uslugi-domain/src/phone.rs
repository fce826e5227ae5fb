//! Russian mobile phone numbers.
//!
//! People type numbers in many ways; all of them become one E.164 form for storage and
//! SMS, and one readable form for pages:
//!
//! ```
//! use uslugi_domain::Phone;
//! let phone = Phone::parse("8 (912) 345-67-89").unwrap();
//! assert_eq!(phone.as_e164(), "+79123456789");
//! assert_eq!(phone.to_string(), "+7 912 345-67-89");
//! assert_eq!(phone.masked(), "+7 912 ***-**-89");
//! ```

use std::fmt;

use crate::snils::is_dash;

/// A Russian mobile number, stored as `+79XXXXXXXXX`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// A typed phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was typed.
    #[error("Введите номер мобильного телефона")]
    Empty,
    /// Letters or other symbols, or a `+` not at the start.
    #[error("В номере телефона могут быть только цифры, пробелы, скобки, дефисы и знак +")]
    InvalidChars,
    /// Fewer than 10 digits after the country code.
    #[error("В номере телефона не хватает цифр: нужно 10 цифр после +7")]
    TooShort,
    /// More than 10 digits after the country code.
    #[error("В номере телефона лишние цифры: нужно 10 цифр после +7")]
    TooLong,
    /// Another country's code.
    #[error("Укажите российский номер: он начинается с +7 или 8")]
    NotRussian,
    /// A landline or service number: Russian mobile numbers start with 9 after +7.
    #[error("Укажите номер мобильного телефона: после +7 он начинается с 9")]
    NotMobile,
}

impl Phone {
    /// Reads `+7 (912) 345-67-89`, `8 912 345 67 89`, `89123456789`, `9123456789`,
    /// `7 912 345-67-89` and similar spellings.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(11);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '(' | ')' | '.' => {}
                c if c.is_whitespace() || is_dash(c) => {}
                _ => return Err(PhoneError::InvalidChars),
            }
        }
        let national = if plus {
            match digits.strip_prefix('7') {
                Some(national) => national,
                None if digits.is_empty() => return Err(PhoneError::TooShort),
                None => return Err(PhoneError::NotRussian),
            }
        } else {
            match digits.len() {
                0..=9 => return Err(PhoneError::TooShort),
                // A ten-digit number starting with 7 or 8 is a trunk prefix with a digit
                // missing, not a national number: those start with 3, 4, 8 (toll-free) or 9.
                10 if digits.starts_with(['7', '8']) => return Err(PhoneError::TooShort),
                10 => &digits[..],
                11 if digits.starts_with(['7', '8']) => &digits[1..],
                11 => return Err(PhoneError::NotRussian),
                _ => return Err(PhoneError::TooLong),
            }
        };
        if national.len() < 10 {
            return Err(PhoneError::TooShort);
        }
        if national.len() > 10 {
            return Err(PhoneError::TooLong);
        }
        if !national.starts_with('9') {
            return Err(PhoneError::NotMobile);
        }
        Ok(Phone(format!("+7{national}")))
    }

    /// `+79123456789`, for storage and the SMS gateway.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The ten digits after +7, `9123456789`.
    pub fn national_digits(&self) -> &str {
        &self.0[2..]
    }

    /// `+7 912 ***-**-89`: enough to recognise one's own number, e.g. «Код отправлен на …».
    pub fn masked(&self) -> String {
        format!("+7 {} ***-**-{}", &self.0[2..5], &self.0[10..12])
    }
}

impl fmt::Display for Phone {
    /// `+7 912 345-67-89`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(
            f,
            "+7 {} {}-{}-{}",
            &d[2..5],
            &d[5..8],
            &d[8..10],
            &d[10..12]
        )
    }
}

impl fmt::Debug for Phone {
    /// Masked, because `Debug` ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usual_spellings_become_the_same_number() {
        for input in [
            "+7 (912) 345-67-89",
            "8 912 345 67 89",
            "89123456789",
            "9123456789",
            "7 912 345-67-89",
            "+79123456789",
            " 8(912)345.67.89 ",
            "+7 912 345–67–89",
        ] {
            assert_eq!(
                Phone::parse(input).map(|p| p.as_e164().to_owned()),
                Ok("+79123456789".to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn phone_is_shown_grouped_and_masked() {
        let phone = Phone::parse("89123456789").unwrap();
        assert_eq!(phone.to_string(), "+7 912 345-67-89");
        assert_eq!(phone.masked(), "+7 912 ***-**-89");
        assert_eq!(phone.national_digits(), "9123456789");
        assert_eq!(format!("{phone:?}"), "Phone(+7 912 ***-**-89)");
    }

    #[test]
    fn each_problem_gets_its_own_message() {
        let check = |s: &str| Phone::parse(s).unwrap_err();
        assert_eq!(check(""), PhoneError::Empty);
        assert_eq!(check("912 345 67 8"), PhoneError::TooShort);
        assert_eq!(check("8 912 345 67 8"), PhoneError::TooShort);
        assert_eq!(check("+7 912 345 67 8"), PhoneError::TooShort);
        assert_eq!(check("+"), PhoneError::TooShort);
        assert_eq!(check("8 912 345 67 899"), PhoneError::TooLong);
        assert_eq!(check("+7 912 345 67 899"), PhoneError::TooLong);
        assert_eq!(check("+380 50 123 45 67"), PhoneError::NotRussian);
        assert_eq!(check("+1 202 555 01 00"), PhoneError::NotRussian);
        assert_eq!(check("3 912 345 67 89"), PhoneError::NotRussian);
        assert_eq!(check("8 495 123-45-67"), PhoneError::NotMobile);
        assert_eq!(check("+7 800 123-45-67"), PhoneError::NotMobile);
        assert_eq!(check("8 912 345 67 8Я"), PhoneError::InvalidChars);
        assert_eq!(check("8 912+345 67 89"), PhoneError::InvalidChars);
        assert_eq!(check("++79123456789"), PhoneError::InvalidChars);
        assert_eq!(
            PhoneError::TooShort.to_string(),
            "В номере телефона не хватает цифр: нужно 10 цифр после +7"
        );
        assert_eq!(
            PhoneError::NotMobile.to_string(),
            "Укажите номер мобильного телефона: после +7 он начинается с 9"
        );
        assert_eq!(
            PhoneError::InvalidChars.to_string(),
            "В номере телефона могут быть только цифры, пробелы, скобки, дефисы и знак +"
        );
    }

    fn formatted(national: &str, style: usize) -> String {
        let (a, b, c, d) = (
            &national[..3],
            &national[3..6],
            &national[6..8],
            &national[8..],
        );
        match style {
            0 => format!("+7 ({a}) {b}-{c}-{d}"),
            1 => format!("8 {a} {b} {c} {d}"),
            2 => format!("8{national}"),
            3 => national.to_owned(),
            4 => format!("7 {a} {b}-{c}-{d}"),
            5 => format!("+7{national}"),
            6 => format!("  8 ({a}) {b}.{c}.{d} "),
            _ => format!("+7-{a}-{b}-{c}-{d}"),
        }
    }

    proptest! {
        #[test]
        fn any_spelling_of_a_mobile_number_normalises_to_the_same_e164(
            national in "9[0-9]{9}",
            style in 0usize..8,
        ) {
            let phone = Phone::parse(&formatted(&national, style)).unwrap();
            let expected = format!("+7{national}");
            prop_assert_eq!(phone.as_e164(), expected.as_str());
            prop_assert_eq!(Phone::parse(&phone.to_string()), Ok(phone));
        }
    }
}
