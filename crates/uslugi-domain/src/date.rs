//! Calendar dates without a time zone, and birth dates with age limits.
//!
//! The domain only needs whole days (birth dates, passport issue dates), so this is a tiny
//! own type instead of a dependency. The web layer passes "today" in, which keeps the rules
//! pure and testable:
//!
//! ```
//! use uslugi_domain::date::{AgeLimits, BirthDate, Date};
//! let today = Date::from_ymd(2026, 3, 14).unwrap();
//! let born = BirthDate::parse("14.03.1985", today, AgeLimits::default()).unwrap();
//! assert_eq!(born.age_on(today), 41);
//! assert_eq!(Date::parse_ru("1985-03-14").unwrap().to_string(), "14.03.1985");
//! ```

use std::fmt;

use crate::plural::plural;

/// A calendar date from 01.01.0001 to 31.12.9999.
///
/// Fields are ordered year, month, day so the derived ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// A typed date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Nothing was typed.
    #[error("Введите дату")]
    Empty,
    /// Not `ДД.ММ.ГГГГ` nor `ГГГГ-ММ-ДД`.
    #[error("Введите дату в формате ДД.ММ.ГГГГ, например 14.03.1985")]
    Format,
    /// Well-formed but no such day (31.02, 29.02 in a common year, month 13).
    #[error("Такой даты нет: проверьте день и месяц")]
    Invalid,
}

/// Whether `year` has 29 February in the Gregorian calendar.
pub const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in `month` (1–12) of `year`; 0 for a month out of range.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date, refusing days that do not exist.
    pub const fn from_ymd(year: u16, month: u8, day: u8) -> Result<Date, DateError> {
        // `const` so that fixed dates (like the passport's introduction) are checked at
        // compile time.
        if year == 0 || year > 9999 || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::Invalid);
        }
        Ok(Date { year, month, day })
    }

    /// Reads `ДД.ММ.ГГГГ` as typed by people (`14.03.1985`, also `4.3.1985`) or
    /// `ГГГГ-ММ-ДД` as sent by an HTML `<input type="date">`.
    pub fn parse_ru(input: &str) -> Result<Date, DateError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DateError::Empty);
        }
        let (year, month, day) = if let Some((d, m, y)) = split3(input, '.') {
            if !(1..=2).contains(&d.len()) || !(1..=2).contains(&m.len()) || y.len() != 4 {
                return Err(DateError::Format);
            }
            (y, m, d)
        } else if let Some((y, m, d)) = split3(input, '-') {
            if y.len() != 4 || m.len() != 2 || d.len() != 2 {
                return Err(DateError::Format);
            }
            (y, m, d)
        } else {
            return Err(DateError::Format);
        };
        let year = number(year)?;
        let month = number(month)?;
        let day = number(day)?;
        let month = u8::try_from(month).map_err(|_| DateError::Invalid)?;
        let day = u8::try_from(day).map_err(|_| DateError::Invalid)?;
        Date::from_ymd(year, month, day)
    }

    /// The year, 1–9999.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// `ГГГГ-ММ-ДД`, for storage and for the `value` of `<input type="date">`.
    pub fn to_iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// «14 марта 2026 г.», the form used in running text.
    pub fn to_long_ru(self) -> String {
        const MONTHS: [&str; 12] = [
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря",
        ];
        let month = MONTHS[usize::from(self.month - 1)];
        format!("{}\u{a0}{month} {}\u{a0}г.", self.day, self.year)
    }

    /// The same day `years` later; 29 February becomes 28 February in a common year,
    /// as article 192 of the Civil Code counts terms in years.
    pub fn add_years(self, years: u16) -> Option<Date> {
        let year = self.year.checked_add(years)?;
        let day = self.day.min(days_in_month(year, self.month));
        Date::from_ymd(year, self.month, day).ok()
    }
}

/// Splits `s` into exactly three parts at `sep`.
fn split3(s: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut parts = s.split(sep);
    let triple = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(triple)
}

fn number(s: &str) -> Result<u16, DateError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateError::Format);
    }
    s.parse().map_err(|_| DateError::Format)
}

impl fmt::Display for Date {
    /// `ДД.ММ.ГГГГ`, the form used in fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }
}

/// Full years from `earlier` to `later` (a person's age); 0 if `later` is before `earlier`.
///
/// Someone born on 29 February comes of age on 28 February of a common year (article 192 of
/// the Civil Code: a term ending in a month without that day ends on the month's last day).
pub fn years_between(earlier: Date, later: Date) -> u32 {
    if later <= earlier {
        return 0;
    }
    let mut years = u32::from(later.year - earlier.year);
    let anniversary_day = earlier.day.min(days_in_month(later.year, earlier.month));
    if (later.month, later.day) < (earlier.month, anniversary_day) {
        years -= 1;
    }
    years
}

/// Youngest and oldest age accepted for a birth date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgeLimits {
    /// Youngest accepted age in full years.
    pub min_years: u32,
    /// Oldest plausible age in full years; anything older is a typo in the year.
    pub max_years: u32,
}

impl Default for AgeLimits {
    /// Registration on the portal: from 14 years (the age of the first passport) to 120.
    fn default() -> Self {
        AgeLimits {
            min_years: 14,
            max_years: 120,
        }
    }
}

/// A birth date checked against "today" and age limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate(Date);

/// A typed birth date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    /// Nothing was typed.
    #[error("Введите дату рождения")]
    Empty,
    /// Not `ДД.ММ.ГГГГ` nor `ГГГГ-ММ-ДД`.
    #[error("Введите дату рождения в формате ДД.ММ.ГГГГ, например 14.03.1985")]
    Format,
    /// No such day.
    #[error("Такой даты нет: проверьте день и месяц")]
    Invalid,
    /// After today.
    #[error("Дата рождения не может быть в будущем")]
    InFuture,
    /// Younger than the minimum age (carried in full years).
    #[error("Регистрация доступна с {} {}", .0, plural(u64::from(*.0), "года", "лет", "лет"))]
    TooYoung(u32),
    /// Older than the maximum age: almost certainly a typo in the year.
    #[error("Проверьте год рождения")]
    TooOld,
}

impl BirthDate {
    /// Reads a birth date and checks it against `today` and `limits`.
    pub fn parse(input: &str, today: Date, limits: AgeLimits) -> Result<BirthDate, BirthDateError> {
        let date = Date::parse_ru(input).map_err(|e| match e {
            DateError::Empty => BirthDateError::Empty,
            DateError::Format => BirthDateError::Format,
            DateError::Invalid => BirthDateError::Invalid,
        })?;
        BirthDate::new(date, today, limits)
    }

    /// Checks an already parsed date against `today` and `limits`.
    pub fn new(date: Date, today: Date, limits: AgeLimits) -> Result<BirthDate, BirthDateError> {
        if date > today {
            return Err(BirthDateError::InFuture);
        }
        let age = years_between(date, today);
        if age < limits.min_years {
            return Err(BirthDateError::TooYoung(limits.min_years));
        }
        if age > limits.max_years {
            return Err(BirthDateError::TooOld);
        }
        Ok(BirthDate(date))
    }

    /// The date itself.
    pub fn date(self) -> Date {
        self.0
    }

    /// Age in full years on `day`.
    pub fn age_on(self, day: Date) -> u32 {
        years_between(self.0, day)
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<BirthDate> for Date {
    fn from(b: BirthDate) -> Date {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::from_ymd(y, m, day).unwrap()
    }

    #[test]
    fn russian_and_iso_spellings_give_the_same_date() {
        assert_eq!(Date::parse_ru("14.03.1985"), Ok(d(1985, 3, 14)));
        assert_eq!(Date::parse_ru(" 1985-03-14 "), Ok(d(1985, 3, 14)));
        assert_eq!(Date::parse_ru("4.3.1985"), Ok(d(1985, 3, 4)));
    }

    #[test]
    fn date_is_shown_as_day_month_year() {
        assert_eq!(d(1985, 3, 4).to_string(), "04.03.1985");
        assert_eq!(d(1985, 3, 4).to_iso(), "1985-03-04");
        assert_eq!(d(2026, 3, 14).to_long_ru(), "14\u{a0}марта 2026\u{a0}г.");
    }

    #[test]
    fn badly_shaped_dates_are_refused_with_the_format_message() {
        for input in [
            "14/03/1985",
            "14.03.85",
            "1985-3-14",
            "14.03.1985.",
            "аа.бб.вввв",
            "+1.03.1985",
        ] {
            assert_eq!(Date::parse_ru(input), Err(DateError::Format), "{input}");
        }
        assert_eq!(
            DateError::Format.to_string(),
            "Введите дату в формате ДД.ММ.ГГГГ, например 14.03.1985"
        );
        assert_eq!(Date::parse_ru("  "), Err(DateError::Empty));
    }

    #[test]
    fn days_that_do_not_exist_are_refused() {
        assert_eq!(Date::parse_ru("31.02.2020"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("29.02.2023"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("29.02.1900"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("00.01.2020"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("01.13.2020"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("01.01.0000"), Err(DateError::Invalid));
        assert_eq!(Date::parse_ru("29.02.2000"), Ok(d(2000, 2, 29)));
        assert_eq!(Date::parse_ru("29.02.2024"), Ok(d(2024, 2, 29)));
    }

    #[test]
    fn dates_are_ordered_chronologically() {
        assert!(d(1999, 12, 31) < d(2000, 1, 1));
        assert!(d(2000, 1, 31) < d(2000, 2, 1));
    }

    #[test]
    fn age_counts_full_years_only() {
        assert_eq!(years_between(d(1985, 3, 14), d(2026, 3, 13)), 40);
        assert_eq!(years_between(d(1985, 3, 14), d(2026, 3, 14)), 41);
        assert_eq!(years_between(d(2026, 3, 14), d(1985, 3, 14)), 0);
    }

    #[test]
    fn born_on_29_february_comes_of_age_on_28_february() {
        assert_eq!(years_between(d(2008, 2, 29), d(2022, 2, 27)), 13);
        assert_eq!(years_between(d(2008, 2, 29), d(2022, 2, 28)), 14);
        assert_eq!(years_between(d(2008, 2, 29), d(2024, 2, 28)), 15);
        assert_eq!(years_between(d(2008, 2, 29), d(2024, 2, 29)), 16);
        assert_eq!(d(2008, 2, 29).add_years(14), Some(d(2022, 2, 28)));
    }

    #[test]
    fn birth_date_messages_say_what_to_do() {
        let today = d(2026, 3, 14);
        let limits = AgeLimits::default();
        let check = |s: &str| BirthDate::parse(s, today, limits).map_err(|e| e.to_string());
        assert_eq!(check(""), Err("Введите дату рождения".into()));
        assert_eq!(
            check("1985"),
            Err("Введите дату рождения в формате ДД.ММ.ГГГГ, например 14.03.1985".into())
        );
        assert_eq!(
            check("30.02.1985"),
            Err("Такой даты нет: проверьте день и месяц".into())
        );
        assert_eq!(
            check("15.03.2026"),
            Err("Дата рождения не может быть в будущем".into())
        );
        assert_eq!(
            check("15.03.2012"),
            Err("Регистрация доступна с 14 лет".into())
        );
        assert_eq!(check("01.01.1900"), Err("Проверьте год рождения".into()));
        assert!(check("14.03.2012").is_ok());
    }

    #[test]
    fn too_young_message_uses_the_genitive_plural() {
        assert_eq!(
            BirthDateError::TooYoung(18).to_string(),
            "Регистрация доступна с 18 лет"
        );
        assert_eq!(
            BirthDateError::TooYoung(21).to_string(),
            "Регистрация доступна с 21 года"
        );
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1u16..=9999, 1u8..=12, 1u8..=31)
            .prop_map(|(y, m, day)| d(y, m, day.min(days_in_month(y, m))))
    }

    proptest! {
        #[test]
        fn displayed_date_parses_back_to_the_same_date(date in any_date()) {
            prop_assert_eq!(Date::parse_ru(&date.to_string()), Ok(date));
            prop_assert_eq!(Date::parse_ru(&date.to_iso()), Ok(date));
        }

        #[test]
        fn age_on_the_anniversary_is_exact(date in any_date(), years in 0u16..100) {
            if let Some(later) = date.add_years(years) {
                prop_assert_eq!(years_between(date, later), u32::from(years));
            }
        }
    }
}
