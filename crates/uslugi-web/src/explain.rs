//! How a use case's refusal is told to the person, once per core error: its HTTP status, its
//! Russian words, and how long to wait. Pages show the words next to the field; the API answers
//! them as problem details ([`crate::problem::Problem::explain`]). An error with nothing to
//! explain (`None`) is a fault: logged with its chain, never described.

use std::borrow::Cow;

use axum::http::StatusCode;
use uslugi_core::identity::{contacts::ContactError, registration::RegistrationError};
use uslugi_domain::{format_count, plural};

/// A refusal as the person is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The status of the answer.
    pub status: StatusCode,
    /// What happened and what to do, in Russian.
    pub message: Cow<'static, str>,
    /// Whether the words belong next to the field that was sent (the code, the contact, the
    /// password) rather than at the top of the page.
    pub at_field: bool,
    /// Seconds to wait before trying again (429).
    pub retry_after: Option<i64>,
}

impl Explained {
    fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Explained {
        Explained {
            status,
            message: message.into(),
            at_field: false,
            retry_after: None,
        }
    }

    fn at_field(message: impl Into<Cow<'static, str>>) -> Explained {
        Explained {
            at_field: true,
            ..Explained::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
    }

    fn wait(secs: i64, message: impl Into<Cow<'static, str>>) -> Explained {
        Explained {
            retry_after: Some(secs),
            ..Explained::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }
}

/// A core error that can be told to the person.
pub trait Explain {
    /// The refusal as the person is told it; `None` for a fault.
    fn explain(&self) -> Option<Explained>;
}

impl Explain for RegistrationError {
    fn explain(&self) -> Option<Explained> {
        Some(match self {
            RegistrationError::TooManyCodes { retry_after_secs } => {
                Explained::wait(*retry_after_secs, crate::messages::TOO_MANY_CODES)
            }
            RegistrationError::ResendTooEarly { wait_secs } => {
                Explained::wait(*wait_secs, crate::messages::new_code_in(*wait_secs))
            }
            RegistrationError::WrongCode { left } => {
                let n = u64::try_from(*left).unwrap_or(0);
                Explained::at_field(format!(
                    "Неверный код. {} {}",
                    plural(n, "Осталась", "Осталось", "Осталось"),
                    format_count(n, "попытка", "попытки", "попыток")
                ))
            }
            RegistrationError::CodeVoid => {
                Explained::at_field("Вы трижды ввели неверный код. Получите новый код")
            }
            RegistrationError::Expired => {
                Explained::at_field("Срок действия кода истёк. Получите новый код")
            }
            RegistrationError::NotFound => {
                Explained::new(StatusCode::NOT_FOUND, "Регистрация не найдена")
            }
            RegistrationError::AlreadyCompleted => {
                Explained::new(StatusCode::CONFLICT, "Регистрация уже завершена")
            }
            RegistrationError::NotConfirmed => Explained::new(
                StatusCode::CONFLICT,
                "Сначала подтвердите телефон или почту",
            ),
            RegistrationError::ContactTaken => Explained::new(
                StatusCode::CONFLICT,
                "Этот контакт только что подтвердил другой человек. Начните регистрацию заново",
            ),
            _ => return None,
        })
    }
}

impl Explain for ContactError {
    fn explain(&self) -> Option<Explained> {
        match self {
            ContactError::AlreadyYours => Some(Explained::at_field(
                "Этот контакт уже указан в вашей учётной записи",
            )),
            ContactError::Flow(e) => e.explain(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_errors_belong_to_the_field_and_limits_say_when() {
        let wrong = RegistrationError::WrongCode { left: 2 }.explain().unwrap();
        assert!(wrong.at_field);
        assert_eq!(wrong.message, "Неверный код. Осталось 2 попытки");
        let one = RegistrationError::WrongCode { left: 1 }.explain().unwrap();
        assert_eq!(one.message, "Неверный код. Осталась 1 попытка");
        let wait = RegistrationError::ResendTooEarly { wait_secs: 21 }
            .explain()
            .unwrap();
        assert_eq!(
            (wait.status, wait.retry_after),
            (StatusCode::TOO_MANY_REQUESTS, Some(21))
        );
        assert_eq!(wait.message, "Новый код можно получить через 21 секунду");
        let fault = RegistrationError::Store(uslugi_core::StoreError::Corrupt("x".into()));
        assert!(fault.explain().is_none(), "a fault is not explained");
    }
}
