//! Фамилия, имя, отчество.
//!
//! Names are written in Russian or Latin letters, as in the passport or the foreign
//! document; hyphens (Салтыков-Щедрин), apostrophes (Д'Артаньян) and single inner spaces
//! (Гусейн оглы) are allowed. Messages are grammatical for each field:
//!
//! ```
//! use uslugi_domain::PersonName;
//! let name = PersonName::parse("Иванов", "Иван", Some("Иванович")).unwrap();
//! assert_eq!(name.to_string(), "Иванов Иван Иванович");
//! assert_eq!(name.short(), "Иванов И. И.");
//! ```

use std::fmt;

/// One of the three parts of a person's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameField {
    /// Фамилия.
    Last,
    /// Имя.
    First,
    /// Отчество.
    Middle,
}

impl NameField {
    /// Stable form field name: `last_name`, `first_name`, `middle_name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Last => "last_name",
            Self::First => "first_name",
            Self::Middle => "middle_name",
        }
    }

    /// Nominative with a capital letter, the field's label: «Фамилия», «Имя», «Отчество».
    pub fn label(self) -> &'static str {
        match self {
            Self::Last => "Фамилия",
            Self::First => "Имя",
            Self::Middle => "Отчество",
        }
    }

    /// Accusative, for «Введите фамилию».
    pub fn label_accusative(self) -> &'static str {
        match self {
            Self::Last => "фамилию",
            Self::First => "имя",
            Self::Middle => "отчество",
        }
    }

    /// Genitive, for «в начале фамилии».
    pub fn label_genitive(self) -> &'static str {
        match self {
            Self::Last => "фамилии",
            Self::First => "имени",
            Self::Middle => "отчества",
        }
    }

    /// Prepositional, for «в отчестве».
    pub fn label_prepositional(self) -> &'static str {
        match self {
            Self::Last => "фамилии",
            Self::First => "имени",
            Self::Middle => "отчестве",
        }
    }

    /// «длинная» or «длинное», agreeing with the field's gender.
    fn long_adjective(self) -> &'static str {
        match self {
            Self::Last => "длинная",
            Self::First | Self::Middle => "длинное",
        }
    }
}

/// Longest accepted name part, in characters.
pub const MAX_NAME_LEN: usize = 60;

/// A name part was refused. Each variant carries the field so the message is grammatical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing was typed.
    #[error("Введите {}", .0.label_accusative())]
    Empty(NameField),
    /// Longer than 60 characters.
    #[error("{} слишком {}: не больше 60 символов", .0.label(), .0.long_adjective())]
    TooLong(NameField),
    /// Digits or symbols.
    #[error(
        "{} может содержать только буквы русского или латинского алфавита, дефис, апостроф и пробел",
        .0.label()
    )]
    InvalidChars(NameField),
    /// Both Russian and Latin letters.
    #[error("Не смешивайте русские и латинские буквы в {}", .0.label_prepositional())]
    MixedScripts(NameField),
    /// Starts or ends with a hyphen or an apostrophe.
    #[error("В начале и в конце {} должна быть буква", .0.label_genitive())]
    EdgeNotLetter(NameField),
    /// Two hyphens, apostrophes or spaces next to each other.
    #[error(
        "Уберите из {} лишние знаки: дефис, апостроф и пробел не могут стоять подряд",
        .0.label_genitive()
    )]
    DoubledSign(NameField),
}

impl NameError {
    /// The field this error belongs to.
    pub fn field(&self) -> NameField {
        match self {
            Self::Empty(f)
            | Self::TooLong(f)
            | Self::InvalidChars(f)
            | Self::MixedScripts(f)
            | Self::EdgeNotLetter(f)
            | Self::DoubledSign(f) => *f,
        }
    }
}

/// One part of a name: фамилия, имя or отчество.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NamePart(String);

impl fmt::Debug for NamePart {
    /// Only the initial, because names are personal data and `Debug` ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first: String = self.0.chars().take(1).collect();
        write!(f, "NamePart({first}***)")
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё')
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '\'' | '’' | ' ')
}

impl NamePart {
    /// Trims, collapses inner spaces and checks the part for `field`.
    pub fn parse(field: NameField, input: &str) -> Result<NamePart, NameError> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(NameError::Empty(field));
        }
        if text.chars().count() > MAX_NAME_LEN {
            return Err(NameError::TooLong(field));
        }
        if !text
            .chars()
            .all(|c| is_cyrillic(c) || c.is_ascii_alphabetic() || is_separator(c))
        {
            return Err(NameError::InvalidChars(field));
        }
        if text.chars().any(is_cyrillic) && text.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(NameError::MixedScripts(field));
        }
        let first_is_letter = text.chars().next().is_some_and(|c| !is_separator(c));
        let last_is_letter = text.chars().next_back().is_some_and(|c| !is_separator(c));
        if !first_is_letter || !last_is_letter {
            return Err(NameError::EdgeNotLetter(field));
        }
        let chars: Vec<char> = text.chars().collect();
        if chars
            .windows(2)
            .any(|pair| is_separator(pair[0]) && is_separator(pair[1]))
        {
            return Err(NameError::DoubledSign(field));
        }
        Ok(NamePart(text))
    }

    /// The name part as it will be shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The initial with a dot: «И.».
    pub fn initial(&self) -> String {
        let first: String = self.0.chars().take(1).collect();
        format!("{first}.")
    }
}

impl fmt::Display for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's full name; отчество is optional (not everyone has one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    last: NamePart,
    first: NamePart,
    middle: Option<NamePart>,
}

impl PersonName {
    /// Reads the three fields, collecting each field's error. An empty or blank `middle`
    /// means «нет отчества».
    pub fn parse(
        last: &str,
        first: &str,
        middle: Option<&str>,
    ) -> Result<PersonName, Vec<(NameField, NameError)>> {
        let mut errors = Vec::new();
        let mut keep = |e: NameError| errors.push((e.field(), e));
        let last = NamePart::parse(NameField::Last, last).map_err(&mut keep);
        let first = NamePart::parse(NameField::First, first).map_err(&mut keep);
        let middle = match middle.map(str::trim) {
            None | Some("") => Ok(None),
            Some(m) => NamePart::parse(NameField::Middle, m)
                .map(Some)
                .map_err(&mut keep),
        };
        match (last, first, middle) {
            (Ok(last), Ok(first), Ok(middle)) => Ok(PersonName {
                last,
                first,
                middle,
            }),
            _ => Err(errors),
        }
    }

    /// Фамилия.
    pub fn last(&self) -> &NamePart {
        &self.last
    }

    /// Имя.
    pub fn first(&self) -> &NamePart {
        &self.first
    }

    /// Отчество, if any.
    pub fn middle(&self) -> Option<&NamePart> {
        self.middle.as_ref()
    }

    /// «Иванов И. И.», for headers and lists.
    pub fn short(&self) -> String {
        let mut out = format!("{} {}", self.last, self.first.initial());
        if let Some(middle) = &self.middle {
            out.push(' ');
            out.push_str(&middle.initial());
        }
        out
    }

    /// «Иван Иванович» (or «Иван»), for a polite greeting.
    pub fn first_and_middle(&self) -> String {
        match &self.middle {
            Some(middle) => format!("{} {}", self.first, middle),
            None => self.first.to_string(),
        }
    }
}

impl fmt::Display for PersonName {
    /// «Иванов Иван Иванович».
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.last, self.first)?;
        if let Some(middle) = &self.middle {
            write!(f, " {middle}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_names_are_accepted() {
        for input in [
            "Иванов",
            "Салтыков-Щедрин",
            "Д'Артаньян",
            "О’Коннор",
            "Гусейн оглы",
            "Ёлкина",
            "Smith",
            "O'Brien",
            "Anne-Marie",
            "Я",
        ] {
            assert_eq!(
                NamePart::parse(NameField::Last, input).map(|n| n.to_string()),
                Ok(input.to_owned())
            );
        }
    }

    #[test]
    fn spaces_are_trimmed_and_collapsed() {
        let part = NamePart::parse(NameField::Middle, "  Гусейн   оглы ").unwrap();
        assert_eq!(part.as_str(), "Гусейн оглы");
    }

    #[test]
    fn messages_name_the_field_grammatically() {
        let err = |field, s: &str| NamePart::parse(field, s).unwrap_err().to_string();
        assert_eq!(err(NameField::Last, " "), "Введите фамилию");
        assert_eq!(err(NameField::First, ""), "Введите имя");
        assert_eq!(err(NameField::Middle, ""), "Введите отчество");
        assert_eq!(
            err(NameField::Last, "Иванов2"),
            "Фамилия может содержать только буквы русского или латинского алфавита, дефис, апостроф и пробел"
        );
        assert_eq!(
            err(NameField::First, &"И".repeat(61)),
            "Имя слишком длинное: не больше 60 символов"
        );
        assert_eq!(
            err(NameField::Last, &"И".repeat(61)),
            "Фамилия слишком длинная: не больше 60 символов"
        );
        assert_eq!(
            err(NameField::Middle, "Иванoвич"),
            "Не смешивайте русские и латинские буквы в отчестве"
        );
        assert_eq!(
            err(NameField::First, "-Иван"),
            "В начале и в конце имени должна быть буква"
        );
        assert_eq!(
            err(NameField::Last, "Салтыков--Щедрин"),
            "Уберите из фамилии лишние знаки: дефис, апостроф и пробел не могут стоять подряд"
        );
    }

    #[test]
    fn names_with_wrong_characters_or_shape_are_refused() {
        let check = |s: &str| NamePart::parse(NameField::First, s).unwrap_err();
        assert_eq!(check("Ivan!"), NameError::InvalidChars(NameField::First));
        assert_eq!(check("Иван_"), NameError::InvalidChars(NameField::First));
        assert_eq!(check("Jérôme"), NameError::InvalidChars(NameField::First));
        assert_eq!(check("Иван-"), NameError::EdgeNotLetter(NameField::First));
        assert_eq!(check("'Иван"), NameError::EdgeNotLetter(NameField::First));
        assert_eq!(
            check("Анна- Мария"),
            NameError::DoubledSign(NameField::First)
        );
        assert_eq!(
            check("Ivan Иван"),
            NameError::MixedScripts(NameField::First)
        );
        assert!(NamePart::parse(NameField::First, &"И".repeat(60)).is_ok());
    }

    #[test]
    fn full_name_is_shown_in_full_and_short_forms() {
        let name = PersonName::parse(" Иванов ", "Иван", Some("Иванович")).unwrap();
        assert_eq!(name.to_string(), "Иванов Иван Иванович");
        assert_eq!(name.short(), "Иванов И. И.");
        assert_eq!(name.first_and_middle(), "Иван Иванович");
    }

    #[test]
    fn debug_shows_only_initials() {
        let name = PersonName::parse("Иванов", "Иван", None).unwrap();
        let shown = format!("{name:?}");
        assert!(shown.contains("NamePart(И***)"), "{shown}");
        assert!(!shown.contains("Иванов"), "{shown}");
    }

    #[test]
    fn middle_name_may_be_absent() {
        for middle in [None, Some(""), Some("   ")] {
            let name = PersonName::parse("Smith", "John", middle).unwrap();
            assert_eq!(name.middle(), None);
            assert_eq!(name.to_string(), "Smith John");
            assert_eq!(name.short(), "Smith J.");
        }
    }

    #[test]
    fn every_wrong_field_is_reported() {
        let errors = PersonName::parse("", "Ivan1", Some("Петровich")).unwrap_err();
        assert_eq!(
            errors,
            vec![
                (NameField::Last, NameError::Empty(NameField::Last)),
                (NameField::First, NameError::InvalidChars(NameField::First)),
                (
                    NameField::Middle,
                    NameError::MixedScripts(NameField::Middle)
                ),
            ]
        );
    }
}
