//! E-mail addresses.
//!
//! The rules are a practical subset of RFC 5321: what real mail systems deliver and people
//! type, including Cyrillic domains such as `почта.рф`. Addresses are lower-cased so that one
//! mailbox is one account.
//!
//! ```
//! use uslugi_domain::Email;
//! let email = Email::parse(" Ivan.Petrov@Example.RU ").unwrap();
//! assert_eq!(email.as_str(), "ivan.petrov@example.ru");
//! assert_eq!(email.masked(), "i***@example.ru");
//! ```

use std::fmt;

/// A lower-cased e-mail address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// A typed e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was typed.
    #[error("Введите адрес электронной почты")]
    Empty,
    /// Not shaped like an address.
    #[error("Введите адрес электронной почты в формате name@example.ru")]
    Format,
    /// Longer than 254 characters, or a name longer than 64.
    #[error("Адрес электронной почты слишком длинный")]
    TooLong,
}

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

impl Email {
    /// Trims, lower-cases and checks an address.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let address = input.trim().to_lowercase();
        if address.is_empty() {
            return Err(EmailError::Empty);
        }
        if address.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = address.split_once('@') else {
            return Err(EmailError::Format);
        };
        if local.chars().count() > MAX_LOCAL_LEN {
            return Err(EmailError::TooLong);
        }
        if !valid_local(local) || !valid_domain(domain) {
            return Err(EmailError::Format);
        }
        Ok(Email(address))
    }

    /// The address, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }

    /// `i***@example.ru`: enough to recognise one's own address on a confirmation page.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

/// A lower-case letter of the Latin or Russian alphabet.
fn is_domain_letter(c: char) -> bool {
    c.is_ascii_lowercase() || ('а'..='я').contains(&c) || c == 'ё'
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, _)) = labels.split_last() else {
        return false;
    };
    labels.len() >= 2
        && labels.iter().all(|label| valid_label(label))
        && (tld.chars().count() >= 2 && tld.chars().all(is_domain_letter)
            // Punycode top-level domains such as `xn--p1ai` (.рф) as some programs paste them.
            || tld.starts_with("xn--") && tld.len() > 4)
}

fn valid_label(label: &str) -> bool {
    let len = label.chars().count();
    (1..=MAX_LABEL_LEN).contains(&len)
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .chars()
            .all(|c| is_domain_letter(c) || c.is_ascii_digit() || c == '-')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    /// Masked, because `Debug` ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_and_lower_cased() {
        for (input, stored) in [
            ("ivan@example.ru", "ivan@example.ru"),
            (" Ivan.Petrov@Mail.RU ", "ivan.petrov@mail.ru"),
            ("a+tag@sub.example.com", "a+tag@sub.example.com"),
            ("o'neil@example.co.uk", "o'neil@example.co.uk"),
            (
                "user@xn--80ak6aa92e.xn--p1ai",
                "user@xn--80ak6aa92e.xn--p1ai",
            ),
            ("ivan@ПОЧТА.РФ", "ivan@почта.рф"),
            ("ivan@ёлка-2.рф", "ivan@ёлка-2.рф"),
        ] {
            assert_eq!(Email::parse(input).unwrap().as_str(), stored, "{input}");
        }
        assert_eq!(Email::parse("ivan@почта.рф").unwrap().domain(), "почта.рф");
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_format_message() {
        for input in [
            "ivan",
            "ivan@",
            "@example.ru",
            "ivan@example",
            "ivan@@example.ru",
            "iv@n@example.ru",
            ".ivan@example.ru",
            "ivan.@example.ru",
            "iv..an@example.ru",
            "иван@example.ru",
            "ivan petrov@example.ru",
            "ivan@-example.ru",
            "ivan@example-.ru",
            "ivan@example..ru",
            "ivan@example.r",
            "ivan@example.r1",
            "ivan@exa_mple.ru",
        ] {
            assert_eq!(Email::parse(input), Err(EmailError::Format), "{input}");
        }
        assert_eq!(
            EmailError::Format.to_string(),
            "Введите адрес электронной почты в формате name@example.ru"
        );
    }

    #[test]
    fn empty_and_too_long_addresses_are_refused() {
        assert_eq!(Email::parse("  "), Err(EmailError::Empty));
        assert_eq!(
            EmailError::Empty.to_string(),
            "Введите адрес электронной почты"
        );
        let long_local = format!("{}@example.ru", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::TooLong));
        let long_domain = format!("ivan@{}.ru", vec!["a".repeat(60); 5].join("."));
        assert_eq!(Email::parse(&long_domain), Err(EmailError::TooLong));
        let long_label = format!("ivan@{}.ru", "a".repeat(64));
        assert_eq!(Email::parse(&long_label), Err(EmailError::Format));
        assert_eq!(
            EmailError::TooLong.to_string(),
            "Адрес электронной почты слишком длинный"
        );
    }

    #[test]
    fn debug_shows_only_the_masked_address() {
        let email = Email::parse("ivan@example.ru").unwrap();
        assert_eq!(format!("{email:?}"), "Email(i***@example.ru)");
    }
}
