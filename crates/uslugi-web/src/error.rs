//! The one place where errors become HTTP responses.
//!
//! Pages get a Russian error page; the API (`/api/…`) gets RFC 9457 problem details. An internal
//! error is logged here, once, with its `source()` chain and a reference id that the page shows,
//! so a person calling support can quote it and nothing internal is revealed.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::layout::{ErrorPage, render};

/// Errors a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing at this address.
    #[error("not found")]
    NotFound,
    /// The CSRF token or the Origin did not match.
    #[error("forbidden: {0}")]
    Csrf(&'static str),
    /// The request cannot be understood.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Too many requests; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// Anything unexpected.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// Wraps any error as internal.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<uslugi_core::StoreError> for AppError {
    fn from(e: uslugi_core::StoreError) -> Self {
        AppError::internal(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

/// Marks a response as an error that should be rendered as a page (or problem JSON) by the
/// middleware, which knows the request path, the request id and the session.
#[derive(Debug, Clone)]
pub struct ErrorKind {
    /// Status to show.
    pub status: StatusCode,
    /// Reference id for internal errors.
    pub reference: Option<String>,
    /// Short English reason for the problem JSON.
    pub detail: String,
}

/// The error and every `source()` under it, so that a log line names the root cause.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, reference, detail) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, None, "not found".to_owned()),
            AppError::Csrf(why) => (StatusCode::FORBIDDEN, None, (*why).to_owned()),
            AppError::BadRequest(why) => (StatusCode::BAD_REQUEST, None, why.clone()),
            AppError::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                None,
                "too many requests".to_owned(),
            ),
            AppError::Internal(source)
                if uslugi_core::kernel::database_unavailable(source.as_ref()) =>
            {
                tracing::warn!(error = %chain(source.as_ref()), "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "service unavailable".to_owned(),
                )
            }
            AppError::Internal(source) => {
                let reference = reference_id();
                tracing::error!(reference = %reference, error = %chain(source.as_ref()), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some(reference),
                    "internal error".to_owned(),
                )
            }
        };
        let mut resp = status.into_response();
        if let AppError::TooManyRequests(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_UNAVAILABLE),
            );
        }
        resp.extensions_mut().insert(ErrorKind {
            status,
            reference,
            detail,
        });
        resp
    }
}

/// Seconds a client should wait when the database cannot be reached: long enough for a restart
/// or a fail-over, short enough that people are not turned away for long.
pub const RETRY_UNAVAILABLE: &str = "30";

/// A short reference id for an incident, readable over the phone.
pub fn reference_id() -> String {
    let mut b = [0u8; 5];
    if getrandom::fill(&mut b).is_err() {
        return "UNKNOWN".into();
    }
    // Crockford base32 without ambiguous letters.
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let n = b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    (0..8)
        .map(|i| char::from(ALPHABET[usize::try_from((n >> (35 - i * 5)) & 31).unwrap_or(0)]))
        .collect()
}

/// The Russian `detail` of a problem the API answers without a handler's own words (people read
/// these too: every `detail` is Russian).
pub fn api_detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Запрос не распознан",
        403 => "Запрос отклонён: он пришёл не со страниц портала или без тела в формате JSON",
        404 => "Не найдено",
        405 => "Этот метод здесь не поддерживается",
        408 => "Запрос не успел прийти целиком. Повторите его",
        413 => "Слишком большой запрос. Уменьшите его и повторите",
        415 => "Отправьте тело запроса в формате JSON",
        429 => "Слишком много запросов. Подождите немного и попробуйте снова",
        503 => "Сервис временно недоступен. Попробуйте через несколько минут",
        _ => "Внутренняя ошибка. Назовите код ошибки службе поддержки",
    }
}

/// Renders an error marked by [`ErrorKind`] for the request path.
pub fn render_error(kind: &ErrorKind, api: bool, layout: crate::layout::Layout) -> Response {
    if api {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": kind.status.canonical_reason().unwrap_or("Error"),
            "status": kind.status.as_u16(),
            "detail": api_detail(kind.status),
            "reference": kind.reference,
        });
        let mut resp = (kind.status, Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        return resp;
    }
    let page = ErrorPage::for_status(kind.status, kind.reference.clone(), layout);
    match render(&page) {
        Ok(html) => (kind.status, Html(html)).into_response(),
        Err(_) => (kind.status, "Ошибка").into_response(),
    }
}
