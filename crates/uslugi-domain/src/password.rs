//! Password policy and strength estimate, after the rules of Gosuslugi.
//!
//! The policy never stores, logs or returns the password: it only reads it. Checks return
//! every failure at once so the page can list them all:
//!
//! ```
//! use uslugi_domain::{PasswordContext, PasswordError, PasswordPolicy};
//! let policy = PasswordPolicy::default();
//! let ctx = PasswordContext::default();
//! assert!(policy.check("Vx7!mRt#2q", &ctx).is_ok());
//! let errors = policy.check("Password1!", &ctx).unwrap_err();
//! assert_eq!(errors, vec![PasswordError::Common]);
//! ```
//!
//! The common-password list is Django's (see `data/COMMON-PASSWORDS-LICENSE.txt`). It is
//! compared after lower-casing, after mapping the Russian keyboard layout to the Latin one
//! (`йцукен123` is `qwerty123` typed with the wrong layout, `привет` is `ghbdtn`), and after
//! stripping leading and trailing digits and symbols (`Password1!` is `password`).

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use crate::date::Date;
use crate::plural::plural;

/// Django's list of 20 000 common passwords, lower-cased, one per line.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// A word left after stripping digits and symbols must be at least this long to be
/// compared with the list: the list holds short entries such as `abc` that would otherwise
/// match almost any password.
const MIN_STRIPPED_LEN: usize = 4;

/// Runs of this many sequential, keyboard-adjacent or identical characters are refused.
const RUN_LEN: usize = 4;

/// Name parts shorter than this (Ян, Ли) are too common as substrings to refuse.
const MIN_NAME_LEN: usize = 3;

/// Whether `password` is in the common-password list, in any of the forms described in the
/// module documentation.
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    let latin = ru_to_latin_layout(&lower);
    [lower.as_str(), latin.as_str()].into_iter().any(|form| {
        COMMON_PASSWORDS.contains(form) || {
            let stripped = form.trim_matches(|c: char| !c.is_alphabetic());
            stripped.chars().count() >= MIN_STRIPPED_LEN && COMMON_PASSWORDS.contains(stripped)
        }
    })
}

/// Maps characters typed with the Russian ЙЦУКЕН layout to the keys of the Latin QWERTY
/// layout: `ghbdtn` is what `привет` gives, `йцукен` is `qwerty`.
pub fn ru_to_latin_layout(text: &str) -> String {
    const RU: &str = "ёйцукенгшщзхъфывапролджэячсмитьбю";
    const EN: &str = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.";
    text.chars()
        .map(|c| {
            RU.chars()
                .position(|r| r == c)
                .and_then(|i| EN.chars().nth(i))
                .unwrap_or(c)
        })
        .collect()
}

/// Rows whose runs of 4 (forwards or backwards) are too easy to guess.
const SEQUENCES: [&str; 11] = [
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "абвгдежзийклмнопрстуфхцчшщъыьэюя",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "!@#$%^&*()",
];

/// Whether the lower-cased `chars` hold a run of [`RUN_LEN`] sequential or keyboard-adjacent
/// characters.
fn has_sequence(chars: &[char]) -> bool {
    chars.windows(RUN_LEN).any(|window| {
        let forward: String = window.iter().collect();
        let backward: String = window.iter().rev().collect();
        SEQUENCES
            .iter()
            .any(|row| row.contains(&forward) || row.contains(&backward))
    })
}

/// Whether `chars` hold [`RUN_LEN`] identical characters in a row.
fn has_repeat(chars: &[char]) -> bool {
    chars
        .windows(RUN_LEN)
        .any(|window| window.iter().all(|c| *c == window[0]))
}

/// Two common Latin spellings of a Russian name: the passport one (ICAO: Юлия → iuliia) and
/// the everyday one (yuliya).
fn transliterations(name: &str) -> [String; 2] {
    let passport = |c: char| -> Option<&'static str> {
        Some(match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' => "ie",
            'ы' => "y",
            'ь' => "",
            'ю' => "iu",
            'я' => "ia",
            _ => return None,
        })
    };
    let everyday = |c: char| -> Option<&'static str> {
        match c {
            'й' => Some("y"),
            'х' => Some("h"),
            'ъ' => Some(""),
            'ю' => Some("yu"),
            'я' => Some("ya"),
            _ => passport(c),
        }
    };
    let spell = |table: &dyn Fn(char) -> Option<&'static str>| -> String {
        name.chars()
            .map(|c| table(c).map_or_else(|| c.to_string(), str::to_owned))
            .collect()
    };
    [spell(&passport), spell(&everyday)]
}

/// What is known about the person, to refuse passwords built from it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PasswordContext {
    /// First name, last name (and middle name, if wanted); parts shorter than 3 letters are
    /// ignored.
    pub names: Vec<String>,
    /// Birth date.
    pub birth_date: Option<Date>,
    /// Phone number in any format; its last 7 digits are refused in the password.
    pub phone_digits: Option<String>,
}

impl fmt::Debug for PasswordContext {
    /// Redacted: names, birth date and phone are personal data and must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordContext")
            .field("names", &self.names.len())
            .field("birth_date", &self.birth_date.map(|_| "***"))
            .field("phone_digits", &self.phone_digits.as_ref().map(|_| "***"))
            .finish()
    }
}

impl PasswordContext {
    /// Lower-cased strings that must not appear in the password.
    fn forbidden_fragments(&self) -> Vec<String> {
        let mut out = Vec::new();
        for name in &self.names {
            let lower = name.to_lowercase();
            for part in lower.split(|c: char| !c.is_alphabetic()) {
                if part.chars().count() < MIN_NAME_LEN {
                    continue;
                }
                out.push(part.to_owned());
                out.push(ru_to_latin_layout(part));
                out.extend(transliterations(part));
            }
        }
        if let Some(d) = self.birth_date {
            let (day, month, year) = (d.day(), d.month(), d.year());
            out.push(format!("{day:02}{month:02}{year:04}"));
            out.push(format!("{day:02}.{month:02}.{year:04}"));
            out.push(format!("{year:04}{month:02}{day:02}"));
            out.push(format!("{year:04}"));
            out.push(format!("{day:02}{month:02}{:02}", year % 100));
        }
        if let Some(phone) = &self.phone_digits {
            let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 7 {
                out.push(digits[digits.len() - 7..].iter().collect());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether the password contains any of the person's data.
    fn is_in(&self, password: &str) -> bool {
        let lower = password.to_lowercase();
        let latin = ru_to_latin_layout(&lower);
        self.forbidden_fragments()
            .iter()
            .any(|fragment| lower.contains(fragment.as_str()) || latin.contains(fragment.as_str()))
    }
}

/// One rule the password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PasswordError {
    /// Nothing was typed.
    #[error("Введите пароль")]
    Empty,
    /// Fewer characters than the policy's minimum.
    #[error(
        "Пароль должен быть не короче {} {}",
        .0,
        plural(*.0 as u64, "символа", "символов", "символов")
    )]
    TooShort(usize),
    /// More characters than the policy's maximum.
    #[error(
        "Пароль должен быть не длиннее {} {}",
        .0,
        plural(*.0 as u64, "символа", "символов", "символов")
    )]
    TooLong(usize),
    /// No capital letter.
    #[error("Добавьте в пароль заглавную букву")]
    NoUppercase,
    /// No small letter.
    #[error("Добавьте строчную букву")]
    NoLowercase,
    /// No digit.
    #[error("Добавьте цифру")]
    NoDigit,
    /// No symbol other than letters, digits and spaces.
    #[error("Добавьте специальный символ, например ! ? % #")]
    NoSpecial,
    /// A run like `1234`, `dcba`, `qwer`, `фыва`.
    #[error("Уберите из пароля последовательность вроде 1234 или qwer")]
    Sequence,
    /// A run like `aaaa`, `1111`.
    #[error("Уберите из пароля повторы вроде aaaa или 1111")]
    Repeated,
    /// The person's name, birth date or phone number.
    #[error("Пароль не должен содержать ваше имя, фамилию, дату рождения или номер телефона")]
    PersonalData,
    /// In the common-password list.
    #[error("Этот пароль слишком распространён: придумайте другой")]
    Common,
}

/// Password rules. `Default` is the portal's policy: 8 to 128 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordPolicy {
    /// Fewest characters allowed.
    pub min_len: usize,
    /// Most characters allowed; longer input is refused before any other check.
    pub max_len: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_len: 8,
            max_len: 128,
        }
    }
}

impl PasswordPolicy {
    /// Checks `password` against every rule and returns all the rules it breaks.
    pub fn check(&self, password: &str, ctx: &PasswordContext) -> Result<(), Vec<PasswordError>> {
        if password.is_empty() {
            return Err(vec![PasswordError::Empty]);
        }
        let len = password.chars().count();
        if len > self.max_len {
            // Refused before the other checks, which would otherwise run on huge input.
            return Err(vec![PasswordError::TooLong(self.max_len)]);
        }
        let mut errors = Vec::new();
        if len < self.min_len {
            errors.push(PasswordError::TooShort(self.min_len));
        }
        if !password.chars().any(char::is_uppercase) {
            errors.push(PasswordError::NoUppercase);
        }
        if !password.chars().any(char::is_lowercase) {
            errors.push(PasswordError::NoLowercase);
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            errors.push(PasswordError::NoDigit);
        }
        if !password.chars().any(is_special) {
            errors.push(PasswordError::NoSpecial);
        }
        let lower: Vec<char> = password.to_lowercase().chars().collect();
        if has_sequence(&lower) {
            errors.push(PasswordError::Sequence);
        }
        if has_repeat(&lower) {
            errors.push(PasswordError::Repeated);
        }
        if ctx.is_in(password) {
            errors.push(PasswordError::PersonalData);
        }
        if is_common_password(password) {
            errors.push(PasswordError::Common);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Estimates how hard `password` is to guess, for the meter under the field.
    ///
    /// A common password or one built from personal data is «Очень слабый»; one that breaks
    /// any other rule is at most «Слабый»; one that meets the policy is at least «Средний».
    pub fn strength(&self, password: &str, ctx: &PasswordContext) -> Strength {
        let by_size = score_by_entropy(password);
        let score = match self.check(password, ctx) {
            Ok(()) => by_size.max(2),
            Err(errors)
                if errors.iter().any(|e| {
                    matches!(
                        e,
                        PasswordError::Common | PasswordError::PersonalData | PasswordError::Empty
                    )
                }) =>
            {
                0
            }
            Err(_) => by_size.min(1),
        };
        Strength::from_score(score)
    }
}

/// Strength under the default policy; see [`PasswordPolicy::strength`].
pub fn strength(password: &str, ctx: &PasswordContext) -> Strength {
    PasswordPolicy::default().strength(password, ctx)
}

/// A symbol that is neither a letter, a digit nor a space.
fn is_special(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

/// 0–4 from the brute-force search space: length × log2(size of the alphabets used).
fn score_by_entropy(password: &str) -> u8 {
    let has = |f: &dyn Fn(char) -> bool| password.chars().any(f);
    let mut pool = 0u32;
    if has(&|c| c.is_ascii_lowercase()) {
        pool += 26;
    }
    if has(&|c| c.is_ascii_uppercase()) {
        pool += 26;
    }
    if has(&|c| c.is_lowercase() && !c.is_ascii()) {
        pool += 33;
    }
    if has(&|c| c.is_uppercase() && !c.is_ascii()) {
        pool += 33;
    }
    if has(&|c| c.is_ascii_digit()) {
        pool += 10;
    }
    if has(&|c| is_special(c) || c.is_whitespace()) {
        pool += 33;
    }
    if pool == 0 {
        return 0;
    }
    let bits = password.chars().count() as f64 * f64::from(pool).log2();
    match bits {
        b if b < 28.0 => 0,
        b if b < 40.0 => 1,
        b if b < 60.0 => 2,
        b if b < 80.0 => 3,
        _ => 4,
    }
}

/// Password strength for the meter: a score 0–4 and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Strength {
    /// 0 (very weak) to 4 (very strong).
    pub score: u8,
    /// «Очень слабый», «Слабый», «Средний», «Надёжный» or «Очень надёжный».
    pub label: &'static str,
}

impl Strength {
    const LABELS: [&'static str; 5] = [
        "Очень слабый",
        "Слабый",
        "Средний",
        "Надёжный",
        "Очень надёжный",
    ];

    /// The strength for `score`; scores above 4 count as 4.
    pub fn from_score(score: u8) -> Strength {
        let score = score.min(4);
        Strength {
            score,
            label: Self::LABELS[usize::from(score)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> PasswordContext {
        PasswordContext::default()
    }

    fn errors(password: &str, ctx: &PasswordContext) -> Vec<PasswordError> {
        PasswordPolicy::default()
            .check(password, ctx)
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn strong_password_meets_the_policy() {
        for password in ["Vx7!mRt#2q", "Зима2024 в Тюмени!", "k9#Lz pQ w7"] {
            assert_eq!(errors(password, &none()), vec![], "{password}");
        }
    }

    #[test]
    fn each_missing_class_is_reported() {
        assert_eq!(
            errors("vx7!mrt#2q", &none()),
            vec![PasswordError::NoUppercase]
        );
        assert_eq!(
            errors("VX7!MRT#2Q", &none()),
            vec![PasswordError::NoLowercase]
        );
        assert_eq!(errors("Vxz!mRt#kq", &none()), vec![PasswordError::NoDigit]);
        assert_eq!(
            errors("Vx7 mRt 2q", &none()),
            vec![PasswordError::NoSpecial]
        );
        assert_eq!(errors("Вж7!мРт#2щ", &none()), vec![]);
    }

    #[test]
    fn short_and_empty_passwords_are_refused() {
        assert_eq!(errors("", &none()), vec![PasswordError::Empty]);
        assert_eq!(errors("Vx7!mRt", &none()), vec![PasswordError::TooShort(8)]);
        assert_eq!(
            PasswordError::TooShort(8).to_string(),
            "Пароль должен быть не короче 8 символов"
        );
        assert_eq!(
            PasswordError::TooShort(21).to_string(),
            "Пароль должен быть не короче 21 символа"
        );
    }

    #[test]
    fn overlong_password_is_refused_without_other_checks() {
        let long = "Vx7!mRt#".repeat(20);
        assert_eq!(errors(&long, &none()), vec![PasswordError::TooLong(128)]);
        assert_eq!(
            PasswordError::TooLong(128).to_string(),
            "Пароль должен быть не длиннее 128 символов"
        );
    }

    #[test]
    fn all_failures_are_returned_together() {
        assert_eq!(
            errors("abc", &none()),
            vec![
                PasswordError::TooShort(8),
                PasswordError::NoUppercase,
                PasswordError::NoDigit,
                PasswordError::NoSpecial,
                PasswordError::Common,
            ]
        );
    }

    #[test]
    fn sequences_and_keyboard_runs_are_refused() {
        for password in [
            "Vx1234!mRq",
            "Vx4321!mRq",
            "Vx!mRabcd7",
            "Vx!mRDCBA7",
            "Qwer!7mRzx",
            "Vx7!asdf#R",
            "Мы7!йцук#R",
            "Мы7!Фыва#R",
            "Мы7!абвг#R",
            "Vx7!mR0987",
        ] {
            assert!(
                errors(password, &none()).contains(&PasswordError::Sequence),
                "{password}"
            );
        }
        assert_eq!(
            PasswordError::Sequence.to_string(),
            "Уберите из пароля последовательность вроде 1234 или qwer"
        );
        assert_eq!(errors("Vx123!mRq8", &none()), vec![]);
    }

    #[test]
    fn four_identical_characters_are_refused() {
        assert_eq!(errors("Vx7!mRaaaa", &none()), vec![PasswordError::Repeated]);
        assert_eq!(errors("Vx7!mR1111", &none()), vec![PasswordError::Repeated]);
        assert_eq!(errors("Vx7!mRaaAA", &none()), vec![PasswordError::Repeated]);
        assert_eq!(errors("Vx7!mRaaa2", &none()), vec![]);
    }

    #[test]
    fn personal_data_is_refused() {
        let ctx = PasswordContext {
            names: vec!["Иван".into(), "Петров-Водкин".into(), "Ли".into()],
            birth_date: Some(Date::from_ymd(1985, 3, 14).unwrap()),
            phone_digits: Some("+7 912 345-67-89".into()),
        };
        for password in [
            "ИВАН!x7Rq",
            "Zq!7Водкин",
            "Zq!7vodkin",
            "Zq!7Ivan#",
            "Zq!7Petrov#",
            "Zq!7gtnhjd#",
            "Zq!14031985",
            "Zq!14.03.1985",
            "Zq!1985#Rk",
            "Zq!140385#Rk",
            "Zq!3456789k",
        ] {
            assert!(
                errors(password, &ctx).contains(&PasswordError::PersonalData),
                "{password}"
            );
        }
        // Parts shorter than three letters and unrelated digits are fine.
        assert_eq!(errors("Ли!7Zq#mRw", &ctx), vec![]);
        assert_eq!(errors("Zq!7mR#912", &ctx), vec![]);
        assert_eq!(
            PasswordError::PersonalData.to_string(),
            "Пароль не должен содержать ваше имя, фамилию, дату рождения или номер телефона"
        );
    }

    #[test]
    fn common_passwords_are_refused_in_every_disguise() {
        for password in [
            "password",
            "Password1!",
            "!!Password2024",
            "Qwerty123!",
            "йцукен123",
            "ЙЦУКЕН123",
            "привет",
            "Привет!2024",
            "gfhjkm",
            "пароль1!",
            "1q2w3e4r",
        ] {
            assert!(is_common_password(password), "{password}");
        }
        assert!(!is_common_password("Vx7!mRt#2q"));
        assert!(!is_common_password("Zq!7abc"));
        assert_eq!(errors("Zebra!42Qw", &none()), vec![]);
        assert_eq!(
            PasswordError::Common.to_string(),
            "Этот пароль слишком распространён: придумайте другой"
        );
    }

    #[test]
    fn russian_layout_maps_to_latin_keys() {
        assert_eq!(ru_to_latin_layout("йцукен"), "qwerty");
        assert_eq!(ru_to_latin_layout("привет"), "ghbdtn");
        assert_eq!(ru_to_latin_layout("жэхъбюё"), ";'[],.`");
        assert_eq!(ru_to_latin_layout("abc 123"), "abc 123");
    }

    #[test]
    fn strength_grows_with_length_and_variety() {
        let s = |p: &str| strength(p, &none());
        assert_eq!(s(""), Strength::from_score(0));
        assert_eq!(s("password").label, "Очень слабый");
        assert_eq!(s("Zq!7mR").score, 1);
        assert_eq!(s("Vx7!mRt#").label, "Средний");
        assert_eq!(s("Vx7!mRt#2qLp").label, "Надёжный");
        assert_eq!(s("Vx7!mRt#2qLp9@Wk").label, "Очень надёжный");
        let ctx = PasswordContext {
            names: vec!["Иван".into()],
            ..none()
        };
        assert_eq!(strength("Vx7!mRt#2qLpИван", &ctx).score, 0);
    }

    #[test]
    fn context_debug_does_not_show_personal_data() {
        let ctx = PasswordContext {
            names: vec!["Иван".into()],
            birth_date: None,
            phone_digits: Some("79123456789".into()),
        };
        let shown = format!("{ctx:?}");
        assert!(!shown.contains("Иван"));
        assert!(!shown.contains("912"));
    }
}
