//! Pure domain types and rules of Uslugi: no I/O, no async, no framework.
//!
//! Every value a person types into a form (СНИЛС, ИНН, паспорт, телефон, почта, ФИО, пароль)
//! has a newtype here with a private field and one fallible `parse` constructor. Handlers turn
//! raw form strings into these types at the edge; nothing past the handler sees a raw `String`.
//! Every error's `Display` is a plain Russian message that says what to do, ready to show
//! above the field.
//!
//! `Debug` of values that identify a person (СНИЛС, ИНН, паспорт, телефон, почта) prints a
//! masked form, because `Debug` output ends up in logs.

// Tests may unwrap: a failing unwrap is a failing test with the error in its message.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "tests fail loudly on unwrap")
)]

pub mod application;
pub mod calendar;
pub mod date;
pub mod email;
pub mod inn;
pub mod level;
pub mod money;
pub mod passport;
pub mod password;
pub mod person_name;
pub mod phone;
pub mod plural;
pub mod role;
pub mod snils;

pub use application::{Actor, Event, Status as ApplicationStatus, TransitionError};
pub use date::{AgeLimits, BirthDate, BirthDateError, Date, DateError, years_between};
pub use email::{Email, EmailError};
pub use inn::{Inn, InnError, Kpp, KppError, Ogrn, OgrnError, Ogrnip, OgrnipError};
pub use level::{AccountLevel, AccountLevelError};
pub use money::{Money, MoneyError};
pub use passport::{
    DivisionCode, DivisionCodeError, IssueDateError, Passport, PassportError, PassportField,
    PassportInput, PassportIssuer, PassportIssuerError, PassportNumber, PassportNumberError,
    PassportSeries, PassportSeriesError,
};
pub use password::{
    PasswordContext, PasswordError, PasswordPolicy, Strength, is_common_password, strength,
};
pub use person_name::{NameError, NameField, NamePart, PersonName};
pub use phone::{Phone, PhoneError};
pub use plural::{format_count, group_digits, plural};
pub use role::{Role, RoleError, ScopeKind};
pub use snils::{Snils, SnilsError};
