//! The page layout shared by every HTML page, the error pages, and the render helper.

use askama::Template;
use axum::http::StatusCode;
use uslugi_core::kernel::config::SupportConfig;

use crate::{AppError, AppState};

/// What the base layout needs to know about the request.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `<title>` without the portal name; starts with «Ошибка: » when the form has errors.
    pub title: String,
    /// Signed-in person's display name.
    pub account_name: Option<String>,
    /// CSRF token for forms in the layout itself (logout).
    pub csrf_token: Option<String>,
    /// Support contacts.
    pub support: SupportConfig,
    /// Development mode: shows the link to the development outbox.
    pub dev_mode: bool,
}

impl Layout {
    /// A layout for a page titled `title`.
    pub fn new(state: &AppState, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            account_name: None,
            csrf_token: None,
            support: state.config.support.clone(),
            dev_mode: state.dev_mode(),
        }
    }

    /// Marks the page as showing form errors (the title says so first, for screen readers).
    pub fn with_errors(mut self, has_errors: bool) -> Layout {
        if has_errors && !self.title.starts_with("Ошибка: ") {
            self.title = format!("Ошибка: {}", self.title);
        }
        self
    }
}

/// Renders a template, turning a template failure into an internal error.
pub fn render(t: &impl Template) -> Result<String, AppError> {
    Ok(t.render()?)
}

/// The error page for 403, 404, 405, 408, 413, 429 and 5xx.
#[derive(Debug, Template)]
#[template(path = "errors/error.html")]
pub struct ErrorPage {
    /// Layout.
    pub layout: Layout,
    /// Status code shown in small print.
    pub status: u16,
    /// Heading.
    pub heading: &'static str,
    /// What happened and what to do, paragraph by paragraph.
    pub advice: Vec<&'static str>,
    /// Reference id of an internal error.
    pub reference: Option<String>,
}

impl ErrorPage {
    /// The page for a status.
    pub fn for_status(status: StatusCode, reference: Option<String>, mut layout: Layout) -> Self {
        let (heading, advice): (&'static str, Vec<&'static str>) = match status.as_u16() {
            404 => (
                "Страница не найдена",
                vec![
                    "Возможно, адрес введён с ошибкой или страница была удалена.",
                    "Проверьте адрес или перейдите на главную страницу.",
                ],
            ),
            403 => (
                "Страница устарела",
                vec![
                    "Мы не смогли подтвердить, что запрос отправлен с этой страницы портала. Так бывает, если страница долго была открыта или вы вышли из личного кабинета в другой вкладке.",
                    "Вернитесь назад, обновите страницу и повторите действие.",
                ],
            ),
            405 => (
                "Действие недоступно",
                vec!["По этому адресу нельзя выполнить такое действие."],
            ),
            408 => (
                "Сервер не успел ответить",
                vec!["Попробуйте повторить действие через несколько минут."],
            ),
            413 => (
                "Слишком большой запрос",
                vec![
                    "Вы отправили слишком много данных. Уменьшите размер файла или текста и попробуйте снова.",
                ],
            ),
            429 => (
                "Слишком много запросов",
                vec!["Подождите немного и попробуйте снова."],
            ),
            503 => (
                "Сервис временно недоступен",
                vec![
                    "Портал не может сейчас обратиться к своим данным. Ваши данные в безопасности.",
                    "Попробуйте повторить действие через несколько минут.",
                ],
            ),
            400 => (
                "Запрос не распознан",
                vec!["Вернитесь назад и попробуйте снова."],
            ),
            _ => (
                "Что-то пошло не так",
                vec![
                    "Произошла ошибка на нашей стороне. Ваши данные в безопасности.",
                    "Попробуйте повторить действие через несколько минут. Если ошибка повторяется, позвоните в службу поддержки и назовите код ошибки.",
                ],
            ),
        };
        layout.title = heading.to_owned();
        ErrorPage {
            layout,
            status: status.as_u16(),
            heading,
            advice,
            reference,
        }
    }
}

/// «23.11.2026 16:05» in Moscow time (UTC+3 all year since 2014) for a Unix time in
/// milliseconds; the pages name the zone («МСК») where they show it.
pub fn date_time(ms: i64) -> String {
    uslugi_core::cabinet::alerts::moscow_date_time(ms)
}

/// «23.11.2026», the date in Moscow, for a Unix time in milliseconds.
pub fn date(ms: i64) -> String {
    let mut s = uslugi_core::cabinet::alerts::moscow_date_time(ms);
    s.truncate(10);
    s
}

/// The layout of a signed-in page: the header shows the cabinet link and «Выйти».
pub fn signed_in_layout(
    state: &crate::AppState,
    session: &crate::session::Session,
    title: &str,
) -> Layout {
    let mut layout = Layout::new(state, title);
    layout.account_name = Some("Личный кабинет".into());
    layout.csrf_token = Some(session.csrf_token(state));
    layout
}
