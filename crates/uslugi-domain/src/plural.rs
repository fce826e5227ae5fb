//! Russian plural forms and number formatting.
//!
//! All counted words on the portal go through [`plural`] so that «1 заявление, 2 заявления,
//! 5 заявлений, 21 заявление» is right everywhere:
//!
//! ```
//! use uslugi_domain::plural::{format_count, plural};
//! assert_eq!(plural(5, "заявление", "заявления", "заявлений"), "заявлений");
//! assert_eq!(format_count(21, "заявление", "заявления", "заявлений"), "21 заявление");
//! ```

/// Non-breaking space: keeps «1 500» and «1 500 ₽» on one line.
pub const NBSP: char = '\u{a0}';

/// Picks the Russian plural form for `n`.
///
/// `one` is used for 1, 21, 31, … (but not 11), `few` for 2–4, 22–24, … (but not 12–14),
/// `many` for everything else, including 0 and 11–14.
pub fn plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    // 11–14 take the "many" form although they end in 1–4.
    if (11..=14).contains(&(n % 100)) {
        return many;
    }
    match n % 10 {
        1 => one,
        2..=4 => few,
        _ => many,
    }
}

/// Formats a count with its word: «21 заявление», «1 500 заявлений».
///
/// Thousands are grouped with non-breaking spaces (see [`group_digits`]).
pub fn format_count(n: u64, one: &str, few: &str, many: &str) -> String {
    format!("{} {}", group_digits(n), plural(n, one, few, many))
}

/// Groups thousands with non-breaking spaces, as Russian typography asks: `1500` → «1 500».
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(NBSP);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn word(n: u64) -> &'static str {
        plural(n, "заявление", "заявления", "заявлений")
    }

    #[test]
    fn the_usual_examples_get_the_right_form() {
        assert_eq!(word(0), "заявлений");
        assert_eq!(word(1), "заявление");
        assert_eq!(word(2), "заявления");
        assert_eq!(word(4), "заявления");
        assert_eq!(word(5), "заявлений");
        assert_eq!(word(11), "заявлений");
        assert_eq!(word(12), "заявлений");
        assert_eq!(word(14), "заявлений");
        assert_eq!(word(21), "заявление");
        assert_eq!(word(22), "заявления");
        assert_eq!(word(111), "заявлений");
        assert_eq!(word(1001), "заявление");
    }

    #[test]
    fn every_count_below_200_follows_the_russian_rule() {
        for n in 0..200u64 {
            let last = n % 10;
            let last_two = n % 100;
            let expected = if (11..=19).contains(&last_two) {
                "many"
            } else if last == 1 {
                "one"
            } else if (2..=4).contains(&last) {
                "few"
            } else {
                "many"
            };
            assert_eq!(plural(n, "one", "few", "many"), expected, "n = {n}");
        }
    }

    #[test]
    fn format_count_puts_the_number_before_the_word() {
        assert_eq!(
            format_count(21, "заявление", "заявления", "заявлений"),
            "21 заявление"
        );
        assert_eq!(
            format_count(1500, "рубль", "рубля", "рублей"),
            "1\u{a0}500 рублей"
        );
    }

    #[test]
    fn thousands_are_grouped_with_non_breaking_spaces() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1\u{a0}000");
        assert_eq!(group_digits(1234567), "1\u{a0}234\u{a0}567");
    }

    proptest! {
        #[test]
        fn grouped_digits_read_back_as_the_same_number(n in any::<u64>()) {
            let grouped = group_digits(n);
            let back: String = grouped.chars().filter(|c| *c != NBSP).collect();
            prop_assert_eq!(back, n.to_string());
        }

        #[test]
        fn plural_depends_only_on_the_last_two_digits(n in any::<u64>()) {
            prop_assert_eq!(plural(n, "1", "2", "5"), plural(n % 100, "1", "2", "5"));
        }
    }
}
