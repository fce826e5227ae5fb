//! The feedback form: a question to the support service. It sends the question to the support
//! mailbox and a confirmation to the person through the outbox, in one transaction.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, State, rejection::FormRejection},
    http::HeaderMap,
    response::Html,
};
use serde::Deserialize;
use uslugi_core::{
    cabinet::support::{self, NewQuestion, SupportError},
    identity::accounts::Contact,
};
use uslugi_domain::{email::Email, person_name::NamePart, phone::Phone, plural::format_count};

use crate::{
    AppError, AppState,
    context::client_ip,
    forms::FieldErrors,
    layout::{Layout, render},
    session::{Session, random_token},
};

const MESSAGE_MIN: usize = 10;
const MESSAGE_MAX: usize = 2000;

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeedbackForm {
    submission_id: String,
    name: String,
    contact: String,
    message: String,
}

#[derive(Debug, Template)]
#[template(path = "support/feedback.html")]
struct FeedbackPage {
    layout: Layout,
    csrf_token: String,
    submission_id: String,
    form: FeedbackForm,
    errors: FieldErrors,
}

#[derive(Debug, Template)]
#[template(path = "support/feedback_sent.html")]
struct FeedbackSentPage {
    layout: Layout,
    number: String,
    by_sms: bool,
}

/// `GET /feedback` — anyone.
pub async fn feedback_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, AppError> {
    let page = FeedbackPage {
        layout: Layout::new(&state, "Обратная связь"),
        csrf_token: session.csrf_token(&state),
        submission_id: random_token(),
        form: FeedbackForm::default(),
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?))
}

/// `POST /feedback` — anyone. A repeated post of the same form sends once.
pub async fn feedback_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Html<String>, AppError> {
    let Form(mut form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();

    let name = match NamePart::parse(uslugi_domain::person_name::NameField::First, &form.name) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.add("name", e.to_string());
            None
        }
    };
    let contact_raw = form.contact.trim();
    let contact = if contact_raw.is_empty() {
        errors.add(
            "contact",
            "Введите адрес электронной почты или номер мобильного телефона",
        );
        None
    } else if contact_raw.contains('@') {
        match Email::parse(contact_raw) {
            Ok(e) => Some(Contact::Email(e)),
            Err(e) => {
                errors.add("contact", e.to_string());
                None
            }
        }
    } else {
        match Phone::parse(contact_raw) {
            Ok(p) => Some(Contact::Phone(p)),
            Err(e) => {
                errors.add("contact", e.to_string());
                None
            }
        }
    };
    let text = form.message.trim();
    let len = text.chars().count();
    if len == 0 {
        errors.add("message", "Опишите ваш вопрос");
    } else if len < MESSAGE_MIN {
        errors.add(
            "message",
            "Опишите вопрос подробнее — не меньше 10 символов",
        );
    } else if len > MESSAGE_MAX {
        errors.add(
            "message",
            format!(
                "Сократите сообщение: сейчас {}, можно не больше {}",
                format_count(len as u64, "символ", "символа", "символов"),
                format_count(MESSAGE_MAX as u64, "символ", "символа", "символов"),
            ),
        );
    }
    let submission_ok = form.submission_id.len() == 43
        && form
            .submission_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !submission_ok {
        form.submission_id = random_token();
    }

    let (Some(name), Some(contact), true) = (name, contact, errors.is_empty()) else {
        let page = FeedbackPage {
            layout: Layout::new(&state, "Обратная связь").with_errors(true),
            csrf_token: session.csrf_token(&state),
            submission_id: form.submission_id.clone(),
            form,
            errors,
        };
        return Ok(Html(render(&page)?));
    };

    let by_sms = matches!(contact, Contact::Phone(_));
    let question = NewQuestion {
        name: name.as_str().to_owned(),
        contact,
        text: text.to_owned(),
        submission_id: form.submission_id.clone(),
    };
    let ctx = crate::context::ctx(&state);
    let number = match support::submit(ctx, question, &client_ip(&state, peer, &headers)).await {
        Ok(n) => n,
        Err(SupportError::TooMany) => return Err(AppError::TooManyRequests(3600)),
        Err(e) => return Err(AppError::internal(e)),
    };
    tracing::info!(request_number = %number, "feedback accepted");

    Ok(Html(render(&FeedbackSentPage {
        layout: Layout::new(&state, "Обращение отправлено"),
        number,
        by_sms,
    })?))
}
