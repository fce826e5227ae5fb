//! Working days under the Russian production calendar (производственный календарь), for the
//! time limits of services («срок — 30 рабочих дней»).
//!
//! The non-working holidays and transfers are listed per year as the Government's decree sets
//! them; for a year not listed yet, the holidays of the Labour Code (art. 112) without the
//! transfers that only the decree makes.

use crate::date::Date;

/// Days that are off although they fall on Monday–Friday, by year (from the Government's
/// decree on the transfer of days off for 2026).
const OFF_2026: &[(u8, u8)] = &[
    (1, 1),
    (1, 2),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (1, 9),
    (2, 23),
    (3, 9),
    (5, 1),
    (5, 11),
    (6, 12),
    (11, 4),
    (12, 31),
];

/// The holidays of art. 112 of the Labour Code.
const HOLIDAYS: &[(u8, u8)] = &[
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
];

/// Days since 1970-01-01 (negative before it), by Howard Hinnant's `days_from_civil`.
pub fn days_from_civil(date: Date) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> Option<Date> {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::from_ymd(
        u16::try_from(y).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(d).ok()?,
    )
    .ok()
}

/// Whether people work on `date`.
pub fn is_working_day(date: Date) -> bool {
    // 1970-01-01 was a Thursday: 0 = Monday … 6 = Sunday.
    let weekday = (days_from_civil(date) + 3).rem_euclid(7);
    if weekday >= 5 {
        return false;
    }
    let off: &[(u8, u8)] = match date.year() {
        2026 => OFF_2026,
        _ => HOLIDAYS,
    };
    !off.contains(&(date.month(), date.day()))
}

/// The date `n` working days after `start` (the day itself not counted).
pub fn add_working_days(start: Date, n: u32) -> Date {
    let mut days = days_from_civil(start);
    let mut left = n;
    let mut date = start;
    while left > 0 {
        days += 1;
        match civil_from_days(days) {
            Some(d) => date = d,
            None => return date,
        }
        if is_working_day(date) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::from_ymd(y, m, day).unwrap()
    }

    #[test]
    fn days_round_trip() {
        assert_eq!(days_from_civil(d(1970, 1, 1)), 0);
        assert_eq!(days_from_civil(d(2026, 12, 6)), 20_793);
        for n in [-1000, 0, 1, 20_793, 40_000] {
            assert_eq!(days_from_civil(civil_from_days(n).unwrap()), n);
        }
    }

    #[test]
    fn weekends_and_holidays_are_off() {
        assert!(!is_working_day(d(2026, 12, 5)), "Saturday");
        assert!(!is_working_day(d(2026, 12, 6)), "Sunday");
        assert!(is_working_day(d(2026, 12, 7)), "Monday");
        assert!(!is_working_day(d(2026, 1, 8)));
        assert!(!is_working_day(d(2026, 5, 11)));
        assert!(!is_working_day(d(2026, 11, 4)));
        assert!(is_working_day(d(2026, 1, 12)));
    }

    #[test]
    fn working_days_skip_the_days_off() {
        // 31.12.2026 is a day off, and 2027 keeps the Labour Code's holidays: 1–8 January.
        assert_eq!(add_working_days(d(2026, 12, 4), 1), d(2026, 12, 7));
        assert_eq!(add_working_days(d(2026, 12, 30), 1), d(2027, 1, 11));
        // From the last working day of 2025's holidays: 5 working days after 31.12.2025 are
        // 12–16 January 2026.
        assert_eq!(add_working_days(d(2025, 12, 31), 5), d(2026, 1, 16));
        assert_eq!(add_working_days(d(2026, 6, 10), 2), d(2026, 6, 15));
    }
}
