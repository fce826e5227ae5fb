//! RFC 9457 problem details: the one renderer of JSON API errors, with `errors: [{field,
//! message}]` carrying the same Russian messages as the pages.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::forms::FieldErrors;

/// A field error as the API returns it.
#[derive(Debug, Serialize)]
pub struct FieldProblem {
    /// Field name as in the request body.
    pub field: String,
    /// What is wrong and what to do, in Russian.
    pub message: String,
}

/// An API error: RFC 9457 problem details.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    detail: String,
    errors: Vec<FieldProblem>,
    retry_after: Option<i64>,
    captcha_question: Option<String>,
    captcha_site_key: Option<String>,
}

impl Problem {
    /// A problem with a status and a human-readable detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            captcha_question: None,
            captcha_site_key: None,
        }
    }

    /// 422 with field errors.
    pub fn fields(errors: &FieldErrors) -> Problem {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: "Исправьте ошибки в данных".into(),
            errors: errors
                .all()
                .iter()
                .map(|(f, m)| FieldProblem {
                    field: (*f).to_owned(),
                    message: m.clone(),
                })
                .collect(),
            retry_after: None,
            captcha_question: None,
            captcha_site_key: None,
        }
    }

    /// 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Problem {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: "Исправьте ошибки в данных".into(),
            errors: vec![FieldProblem {
                field: field.into(),
                message: message.into(),
            }],
            retry_after: None,
            captcha_question: None,
            captcha_site_key: None,
        }
    }

    /// The same problem with these field errors.
    pub fn set_errors(&mut self, errors: Vec<FieldProblem>) {
        self.errors = errors;
    }

    /// 429 with Retry-After.
    pub fn too_many(retry_after: i64, detail: impl Into<String>) -> Problem {
        Problem {
            status: StatusCode::TOO_MANY_REQUESTS,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: Some(retry_after),
            captcha_question: None,
            captcha_site_key: None,
        }
    }

    /// With the captcha the next request must answer: the built-in question, or the client key
    /// of the widget whose token goes in `captcha`.
    pub fn with_captcha(mut self, question: Option<&str>, site_key: Option<&str>) -> Problem {
        self.captcha_question = question.map(str::to_owned);
        self.captcha_site_key = site_key.map(str::to_owned);
        self
    }

    /// A core error as its [`crate::explain::Explain`] tells it; a fault becomes
    /// [`Problem::internal`]. `field` names the request field the words belong to, when they do.
    pub fn explain<E>(e: E, field: &str) -> Problem
    where
        E: crate::explain::Explain + std::error::Error + 'static,
    {
        let Some(x) = e.explain() else {
            return Problem::internal(e);
        };
        let mut p = if x.at_field {
            Problem::field(field, x.message)
        } else {
            Problem::new(x.status, x.message)
        };
        p.status = x.status;
        p.retry_after = x.retry_after;
        p
    }

    /// An internal error: logged once here with a reference id, never described to the client.
    pub fn internal(e: impl std::error::Error + 'static) -> Problem {
        if uslugi_core::kernel::database_unavailable(&e) {
            tracing::warn!(error = %crate::error::chain(&e), "database unavailable");
            let mut p = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                crate::error::api_detail(StatusCode::SERVICE_UNAVAILABLE),
            );
            p.retry_after = crate::error::RETRY_UNAVAILABLE.parse().ok();
            return p;
        }
        let reference = crate::error::reference_id();
        let error = crate::error::chain(&e);
        tracing::error!(reference = %reference, error = %error, "API request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Внутренняя ошибка. Код ошибки: {reference}"),
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        if let Some(q) = &self.captcha_question {
            body["captcha_question"] = serde_json::json!(q);
        }
        if let Some(k) = &self.captcha_site_key {
            body["captcha_site_key"] = serde_json::json!(k);
        }
        let mut resp = (self.status, Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Maps a JSON body rejection to a 400 problem.
pub fn bad_json(e: axum::extract::rejection::JsonRejection) -> Problem {
    use axum::extract::rejection::JsonRejection as Why;
    // In Russian, without the parser's English: people read these details too.
    match &e {
        _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            crate::error::api_detail(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        Why::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            crate::error::api_detail(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ),
        Why::JsonDataError(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Поля запроса не того вида: проверьте типы значений по описанию API",
        ),
        _ => Problem::new(
            StatusCode::BAD_REQUEST,
            "Тело запроса не разобрано: это не JSON или он оборван",
        ),
    }
}
