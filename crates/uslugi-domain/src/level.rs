//! Account levels: упрощённая, стандартная, подтверждённая учётная запись.
//!
//! Levels are ordered, so a service that needs at least a standard account checks
//! `level >= AccountLevel::Standard`.

use std::fmt;
use std::str::FromStr;

/// The level of an account, from the least to the most trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountLevel {
    /// Name, phone or e-mail only.
    Simplified,
    /// Passport and СНИЛС checked against the registries.
    Standard,
    /// Identity confirmed in person, by bank or by electronic signature.
    Confirmed,
}

/// A stored or submitted level code is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Неизвестный уровень учётной записи")]
pub struct AccountLevelError;

impl AccountLevel {
    /// All levels, from the lowest.
    pub const ALL: [AccountLevel; 3] = [Self::Simplified, Self::Standard, Self::Confirmed];

    /// Stable code for storage and URLs: `simplified`, `standard`, `confirmed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simplified => "simplified",
            Self::Standard => "standard",
            Self::Confirmed => "confirmed",
        }
    }

    /// The status tag shown to people: «Упрощённая», «Стандартная», «Подтверждённая».
    pub fn label(self) -> &'static str {
        match self {
            Self::Simplified => "Упрощённая",
            Self::Standard => "Стандартная",
            Self::Confirmed => "Подтверждённая",
        }
    }
}

impl FromStr for AccountLevel {
    type Err = AccountLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or(AccountLevelError)
    }
}

impl fmt::Display for AccountLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_the_same_level() {
        for level in AccountLevel::ALL {
            assert_eq!(level.as_str().parse::<AccountLevel>(), Ok(level));
        }
    }

    #[test]
    fn unknown_code_is_refused() {
        assert_eq!("gold".parse::<AccountLevel>(), Err(AccountLevelError));
        assert_eq!("Standard".parse::<AccountLevel>(), Err(AccountLevelError));
    }

    #[test]
    fn levels_are_ordered_from_simplified_to_confirmed() {
        assert!(AccountLevel::Simplified < AccountLevel::Standard);
        assert!(AccountLevel::Standard < AccountLevel::Confirmed);
    }

    #[test]
    fn labels_are_the_status_tags() {
        assert_eq!(AccountLevel::Simplified.label(), "Упрощённая");
        assert_eq!(AccountLevel::Standard.label(), "Стандартная");
        assert_eq!(AccountLevel::Confirmed.to_string(), "Подтверждённая");
    }
}
