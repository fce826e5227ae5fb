//! The Russian internal passport: серия, номер, дата выдачи, кем выдан, код подразделения.
//!
//! Each field has its own type and error; [`Passport::parse`] reads a whole form at once and
//! returns every field's error, so the page can show them all in the error summary:
//!
//! ```
//! use uslugi_domain::{Date, Passport, PassportInput};
//! let today = Date::from_ymd(2026, 3, 14).unwrap();
//! let input = PassportInput {
//!     series: "45 06",
//!     number: "123456",
//!     issued_on: "20.04.2006",
//!     issuer: "ОВД района Хамовники гор. Москвы",
//!     division_code: "772-053",
//! };
//! let passport = Passport::parse(input, today, None).unwrap();
//! assert_eq!(passport.to_string(), "45 06 123456");
//! ```

use std::fmt;

use crate::date::{Date, DateError, years_between};
use crate::snils::is_dash;

/// Keeps only ASCII digits after dropping spaces (and, if `dashes`, hyphens); `None` if
/// anything else is left.
fn digits_only(input: &str, dashes: bool) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && (!dashes || !is_dash(*c)))
        .collect();
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

/// Passport series: 4 digits (region code and year of the form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportSeries(String);

/// A typed passport series was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportSeriesError {
    /// Nothing was typed.
    #[error("Введите серию паспорта")]
    Empty,
    /// Not 4 digits.
    #[error("Серия паспорта — 4 цифры, например 45 06")]
    Format,
}

impl PassportSeries {
    /// Reads `4506` or `45 06`.
    pub fn parse(input: &str) -> Result<PassportSeries, PassportSeriesError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PassportSeriesError::Empty);
        }
        match digits_only(input, false) {
            Some(d) if d.len() == 4 => Ok(PassportSeries(d)),
            _ => Err(PassportSeriesError::Format),
        }
    }

    /// The 4 digits without a space.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PassportSeries {
    /// `45 06`, as printed in the passport.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", &self.0[..2], &self.0[2..])
    }
}

/// Passport number: 6 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

/// A typed passport number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportNumberError {
    /// Nothing was typed.
    #[error("Введите номер паспорта")]
    Empty,
    /// Not 6 digits.
    #[error("Номер паспорта — 6 цифр, например 123456")]
    Format,
}

impl PassportNumber {
    /// Reads `123456` (spaces are ignored).
    pub fn parse(input: &str) -> Result<PassportNumber, PassportNumberError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PassportNumberError::Empty);
        }
        match digits_only(input, false) {
            Some(d) if d.len() == 6 => Ok(PassportNumber(d)),
            _ => Err(PassportNumberError::Format),
        }
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PassportNumber {
    /// Masked, because `Debug` ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PassportNumber(****{})", &self.0[4..])
    }
}

/// Код подразделения: 6 digits, shown as `770-001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DivisionCode(String);

/// A typed division code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    /// Nothing was typed.
    #[error("Введите код подразделения")]
    Empty,
    /// Not 6 digits.
    #[error("Код подразделения — 6 цифр, например 770-001")]
    Format,
}

impl DivisionCode {
    /// Reads `770-001` or `770001`.
    pub fn parse(input: &str) -> Result<DivisionCode, DivisionCodeError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DivisionCodeError::Empty);
        }
        match digits_only(input, true) {
            Some(d) if d.len() == 6 => Ok(DivisionCode(d)),
            _ => Err(DivisionCodeError::Format),
        }
    }

    /// The 6 digits without the hyphen.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DivisionCode {
    /// `770-001`, as printed in the passport.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..3], &self.0[3..])
    }
}

/// «Кем выдан»: the issuing office as written in the passport.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportIssuer(String);

/// A typed issuing office was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportIssuerError {
    /// Nothing was typed.
    #[error("Укажите, кем выдан паспорт")]
    Empty,
    /// Fewer than 3 characters.
    #[error("Укажите, кем выдан паспорт, полностью — как написано в паспорте")]
    TooShort,
    /// More than 200 characters.
    #[error("Поле «Кем выдан» слишком длинное: не больше 200 символов")]
    TooLong,
    /// Characters that do not occur in office names.
    #[error(
        "В поле «Кем выдан» могут быть только буквы, цифры, пробелы и знаки . , - № \" « » ( ) /"
    )]
    InvalidChars,
}

impl PassportIssuer {
    /// Trims, collapses runs of spaces, and checks length (3–200) and characters.
    pub fn parse(input: &str) -> Result<PassportIssuer, PassportIssuerError> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = text.chars().count();
        if len == 0 {
            return Err(PassportIssuerError::Empty);
        }
        let allowed =
            |c: char| c.is_alphanumeric() || c == ' ' || is_dash(c) || ".,№\"«»()/".contains(c);
        if !text.chars().all(allowed) {
            return Err(PassportIssuerError::InvalidChars);
        }
        if len < 3 {
            return Err(PassportIssuerError::TooShort);
        }
        if len > 200 {
            return Err(PassportIssuerError::TooLong);
        }
        Ok(PassportIssuer(text))
    }

    /// The office name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PassportIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A typed issue date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueDateError {
    /// Nothing was typed.
    #[error("Введите дату выдачи паспорта")]
    Empty,
    /// Not `ДД.ММ.ГГГГ`.
    #[error("Введите дату выдачи в формате ДД.ММ.ГГГГ, например 20.04.2006")]
    Format,
    /// No such day.
    #[error("Такой даты нет: проверьте день и месяц")]
    Invalid,
    /// After today.
    #[error("Дата выдачи не может быть в будущем")]
    InFuture,
    /// Before passports of this form were issued.
    #[error("Паспорта этого образца выдаются с 01.10.1997. Проверьте дату выдачи")]
    BeforeIntroduced,
    /// Before the holder turned 14.
    #[error("Паспорт выдаётся с 14 лет. Проверьте дату выдачи и дату рождения")]
    BeforeAge14,
}

/// The first day passports of the current form were issued.
pub const PASSPORT_INTRODUCED: Date = match Date::from_ymd(1997, 10, 1) {
    Ok(d) => d,
    Err(_) => panic!("01.10.1997 is a valid date"),
};

/// Age at which the first passport is issued.
const PASSPORT_AGE: u32 = 14;

/// A field of the passport form, to link an error to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassportField {
    /// Серия.
    Series,
    /// Номер.
    Number,
    /// Дата выдачи.
    IssuedOn,
    /// Кем выдан.
    Issuer,
    /// Код подразделения.
    DivisionCode,
}

impl PassportField {
    /// Stable name of the form field (`series`, `number`, `issued_on`, `issuer`,
    /// `division_code`), for input ids and error-summary links.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Series => "series",
            Self::Number => "number",
            Self::IssuedOn => "issued_on",
            Self::Issuer => "issuer",
            Self::DivisionCode => "division_code",
        }
    }

    /// The field's label on the form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Series => "Серия",
            Self::Number => "Номер",
            Self::IssuedOn => "Дата выдачи",
            Self::Issuer => "Кем выдан",
            Self::DivisionCode => "Код подразделения",
        }
    }
}

/// One field's error in the passport form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    /// Серия.
    #[error(transparent)]
    Series(#[from] PassportSeriesError),
    /// Номер.
    #[error(transparent)]
    Number(#[from] PassportNumberError),
    /// Дата выдачи.
    #[error(transparent)]
    IssuedOn(#[from] IssueDateError),
    /// Кем выдан.
    #[error(transparent)]
    Issuer(#[from] PassportIssuerError),
    /// Код подразделения.
    #[error(transparent)]
    DivisionCode(#[from] DivisionCodeError),
}

impl PassportError {
    /// The field this error belongs to.
    pub fn field(&self) -> PassportField {
        match self {
            Self::Series(_) => PassportField::Series,
            Self::Number(_) => PassportField::Number,
            Self::IssuedOn(_) => PassportField::IssuedOn,
            Self::Issuer(_) => PassportField::Issuer,
            Self::DivisionCode(_) => PassportField::DivisionCode,
        }
    }
}

/// The passport form as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassportInput<'a> {
    /// Серия, `45 06`.
    pub series: &'a str,
    /// Номер, `123456`.
    pub number: &'a str,
    /// Дата выдачи, `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`.
    pub issued_on: &'a str,
    /// Кем выдан.
    pub issuer: &'a str,
    /// Код подразделения, `770-001`.
    pub division_code: &'a str,
}

/// A passport whose every field has been checked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Passport {
    series: PassportSeries,
    number: PassportNumber,
    issued_on: Date,
    issuer: PassportIssuer,
    division_code: DivisionCode,
}

impl Passport {
    /// Reads the whole passport form, collecting every field's error.
    ///
    /// The issue date must not be after `today`, not before 01.10.1997, and, when the
    /// `birth_date` is known, not before the holder turned 14.
    pub fn parse(
        input: PassportInput<'_>,
        today: Date,
        birth_date: Option<Date>,
    ) -> Result<Passport, Vec<(PassportField, PassportError)>> {
        let mut errors = Vec::new();
        let mut keep = |e: PassportError| errors.push((e.field(), e));
        let series = PassportSeries::parse(input.series).map_err(|e| keep(e.into()));
        let number = PassportNumber::parse(input.number).map_err(|e| keep(e.into()));
        let issued_on =
            parse_issue_date(input.issued_on, today, birth_date).map_err(|e| keep(e.into()));
        let issuer = PassportIssuer::parse(input.issuer).map_err(|e| keep(e.into()));
        let division_code = DivisionCode::parse(input.division_code).map_err(|e| keep(e.into()));
        match (series, number, issued_on, issuer, division_code) {
            (Ok(series), Ok(number), Ok(issued_on), Ok(issuer), Ok(division_code)) => {
                Ok(Passport {
                    series,
                    number,
                    issued_on,
                    issuer,
                    division_code,
                })
            }
            _ => Err(errors),
        }
    }

    /// Серия.
    pub fn series(&self) -> &PassportSeries {
        &self.series
    }

    /// Номер.
    pub fn number(&self) -> &PassportNumber {
        &self.number
    }

    /// Дата выдачи.
    pub fn issued_on(&self) -> Date {
        self.issued_on
    }

    /// Кем выдан.
    pub fn issuer(&self) -> &PassportIssuer {
        &self.issuer
    }

    /// Код подразделения.
    pub fn division_code(&self) -> &DivisionCode {
        &self.division_code
    }

    /// Series and number as 10 digits, `4506123456`, for storage and registry requests.
    pub fn series_and_number(&self) -> String {
        format!("{}{}", self.series.as_str(), self.number.as_str())
    }
}

/// Reads and checks the issue date.
pub fn parse_issue_date(
    input: &str,
    today: Date,
    birth_date: Option<Date>,
) -> Result<Date, IssueDateError> {
    let date = Date::parse_ru(input).map_err(|e| match e {
        DateError::Empty => IssueDateError::Empty,
        DateError::Format => IssueDateError::Format,
        DateError::Invalid => IssueDateError::Invalid,
    })?;
    if date > today {
        return Err(IssueDateError::InFuture);
    }
    if date < PASSPORT_INTRODUCED {
        return Err(IssueDateError::BeforeIntroduced);
    }
    if let Some(born) = birth_date
        && years_between(born, date) < PASSPORT_AGE
    {
        return Err(IssueDateError::BeforeAge14);
    }
    Ok(date)
}

impl fmt::Display for Passport {
    /// `45 06 123456`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.series, self.number)
    }
}

impl fmt::Debug for Passport {
    /// Masked, because `Debug` ends up in logs: `Passport(** ** ****56)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Passport(** ** ****{})", &self.number.0[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::from_ymd(y, m, day).unwrap()
    }

    fn today() -> Date {
        d(2026, 3, 14)
    }

    fn good_input() -> PassportInput<'static> {
        PassportInput {
            series: "45 06",
            number: "123456",
            issued_on: "20.04.2006",
            issuer: "  ОВД  района Хамовники гор. Москвы ",
            division_code: "772-053",
        }
    }

    #[test]
    fn valid_passport_is_accepted_and_shown_as_series_and_number() {
        let p = Passport::parse(good_input(), today(), Some(d(1985, 3, 14))).unwrap();
        assert_eq!(p.to_string(), "45 06 123456");
        assert_eq!(p.series().as_str(), "4506");
        assert_eq!(p.series_and_number(), "4506123456");
        assert_eq!(p.issued_on(), d(2006, 4, 20));
        assert_eq!(p.issuer().as_str(), "ОВД района Хамовники гор. Москвы");
        assert_eq!(p.division_code().to_string(), "772-053");
        assert_eq!(format!("{p:?}"), "Passport(** ** ****56)");
    }

    #[test]
    fn division_code_is_accepted_with_or_without_hyphen() {
        assert_eq!(
            DivisionCode::parse("770001").unwrap().to_string(),
            "770-001"
        );
        assert_eq!(DivisionCode::parse("770-001").unwrap().as_str(), "770001");
        assert_eq!(
            DivisionCode::parse("77-0001"),
            Ok(DivisionCode("770001".into()))
        );
        assert_eq!(
            DivisionCode::parse("770-01"),
            Err(DivisionCodeError::Format)
        );
        assert_eq!(
            DivisionCodeError::Format.to_string(),
            "Код подразделения — 6 цифр, например 770-001"
        );
    }

    #[test]
    fn series_and_number_must_have_the_right_number_of_digits() {
        assert_eq!(PassportSeries::parse("4506").unwrap().to_string(), "45 06");
        assert_eq!(
            PassportSeries::parse("45 0"),
            Err(PassportSeriesError::Format)
        );
        assert_eq!(
            PassportSeries::parse("45-06"),
            Err(PassportSeriesError::Format)
        );
        assert_eq!(PassportSeries::parse(""), Err(PassportSeriesError::Empty));
        assert_eq!(
            PassportNumber::parse("12345"),
            Err(PassportNumberError::Format)
        );
        assert_eq!(
            PassportNumber::parse("12345a"),
            Err(PassportNumberError::Format)
        );
        assert_eq!(
            PassportNumberError::Format.to_string(),
            "Номер паспорта — 6 цифр, например 123456"
        );
    }

    #[test]
    fn issuer_is_checked_for_length_and_characters() {
        assert!(PassportIssuer::parse("Отделом УФМС России по гор. Москве, № 5 (ЮЗАО)").is_ok());
        assert!(PassportIssuer::parse("ГУ МВД «Москва»/ОВД").is_ok());
        assert_eq!(PassportIssuer::parse("  "), Err(PassportIssuerError::Empty));
        assert_eq!(
            PassportIssuer::parse("ОВ"),
            Err(PassportIssuerError::TooShort)
        );
        assert_eq!(
            PassportIssuer::parse(&"О".repeat(201)),
            Err(PassportIssuerError::TooLong)
        );
        assert_eq!(
            PassportIssuer::parse("ОВД <script>"),
            Err(PassportIssuerError::InvalidChars)
        );
        assert_eq!(
            PassportIssuerError::Empty.to_string(),
            "Укажите, кем выдан паспорт"
        );
    }

    #[test]
    fn issue_date_in_the_future_is_refused() {
        let input = PassportInput {
            issued_on: "15.03.2026",
            ..good_input()
        };
        let errors = Passport::parse(input, today(), None).unwrap_err();
        assert_eq!(
            errors,
            vec![(
                PassportField::IssuedOn,
                PassportError::IssuedOn(IssueDateError::InFuture)
            )]
        );
        assert_eq!(
            errors[0].1.to_string(),
            "Дата выдачи не может быть в будущем"
        );
    }

    #[test]
    fn issue_date_before_october_1997_is_refused() {
        assert_eq!(
            parse_issue_date("30.09.1997", today(), None),
            Err(IssueDateError::BeforeIntroduced)
        );
        assert_eq!(
            parse_issue_date("01.10.1997", today(), None),
            Ok(d(1997, 10, 1))
        );
    }

    #[test]
    fn passport_issued_before_the_age_of_14_is_refused() {
        let born = Some(d(2000, 5, 10));
        assert_eq!(
            parse_issue_date("09.05.2014", today(), born),
            Err(IssueDateError::BeforeAge14)
        );
        assert_eq!(
            parse_issue_date("10.05.2014", today(), born),
            Ok(d(2014, 5, 10))
        );
        assert_eq!(
            IssueDateError::BeforeAge14.to_string(),
            "Паспорт выдаётся с 14 лет. Проверьте дату выдачи и дату рождения"
        );
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let input = PassportInput {
            series: "",
            number: "12",
            issued_on: "31.02.2010",
            issuer: "",
            division_code: "abc",
        };
        let errors = Passport::parse(input, today(), None).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["series", "number", "issued_on", "issuer", "division_code"]
        );
        assert_eq!(errors[0].1.to_string(), "Введите серию паспорта");
        assert_eq!(
            errors[2].1.to_string(),
            "Такой даты нет: проверьте день и месяц"
        );
    }
}
