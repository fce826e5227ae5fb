//! Russian text that more than one page or API answer says: the same situation gets the same
//! words everywhere. Plural forms go through `uslugi_domain::format_count` (CLDR rules for
//! Russian: one, few, many).

use uslugi_domain::format_count;

/// Codes or links asked for too often (per number or address, or per client, in an hour).
pub const TOO_MANY_CODES: &str = "Слишком много запросов кода. Попробуйте через час";

/// «N секунд» in the right form.
pub fn seconds(n: u64) -> String {
    format_count(n, "секунду", "секунды", "секунд")
}

/// A new code asked for before the wait is over.
pub fn new_code_in(wait_secs: i64) -> String {
    format!(
        "Новый код можно получить через {}",
        seconds(u64::try_from(wait_secs).unwrap_or(0).max(1))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_right_plural_form() {
        assert_eq!(new_code_in(1), "Новый код можно получить через 1 секунду");
        assert_eq!(new_code_in(22), "Новый код можно получить через 22 секунды");
        assert_eq!(new_code_in(60), "Новый код можно получить через 60 секунд");
        assert_eq!(new_code_in(0), "Новый код можно получить через 1 секунду");
    }
}
