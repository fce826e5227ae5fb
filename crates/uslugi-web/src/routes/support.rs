//! The feedback form: a question to the support service. It sends the question to the support
//! mailbox and a confirmation to the person through the outbox, in one transaction.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    response::Html,
};
use sea_orm::TransactionTrait;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uslugi_core::delivery::{self, Channel, Message};
use uslugi_domain::{email::Email, person_name::NamePart, phone::Phone, plural::format_count};

use crate::{
    AppError, AppState,
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

enum Contact {
    Phone(Phone),
    Email(Email),
}

/// The request number shown to the person, derived from the submission id so that a repeated
/// submission shows the same number.
fn request_number(submission_id: &str) -> String {
    let digest = Sha256::digest(submission_id.as_bytes());
    let n = u64::from_be_bytes([
        0, 0, 0, digest[0], digest[1], digest[2], digest[3], digest[4],
    ]);
    format!("{:08}", n % 100_000_000)
}

/// `POST /feedback` — anyone. A repeated post of the same form sends once.
pub async fn feedback_post(
    State(state): State<AppState>,
    session: Session,
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

    let number = request_number(&form.submission_id);
    let (contact_text, confirmation) = match &contact {
        Contact::Phone(p) => (
            p.to_string(),
            Message {
                channel: Channel::Sms,
                to: p.as_e164().to_owned(),
                subject: String::new(),
                body: format!(
                    "Госуслуги: обращение № {number} принято. Ответим в течение 5 рабочих дней."
                ),
            },
        ),
        Contact::Email(e) => (
            e.to_string(),
            Message {
                channel: Channel::Email,
                to: e.as_str().to_owned(),
                subject: format!("Обращение № {number} принято"),
                body: format!(
                    "Здравствуйте, {name}!\n\nВаше обращение № {number} принято. Мы ответим в течение 5 рабочих дней.\n\nВаше сообщение:\n{text}\n\n— Служба поддержки портала госуслуг"
                ),
            },
        ),
    };
    let to_support = Message {
        channel: Channel::Email,
        to: state.config.support.email.clone(),
        subject: format!("Обращение № {number} с портала"),
        body: format!("Имя: {name}\nКонтакт: {contact_text}\n\n{text}"),
    };
    let cipher = state.keys.cipher();
    let txn = state.db.begin().await?;
    let dedup = format!("feedback:{}", form.submission_id);
    delivery::enqueue(&txn, cipher, &to_support, &format!("{dedup}:support"))
        .await
        .map_err(AppError::internal)?;
    delivery::enqueue(&txn, cipher, &confirmation, &format!("{dedup}:person"))
        .await
        .map_err(AppError::internal)?;
    txn.commit().await?;
    tracing::info!(request_number = %number, "feedback accepted");

    Ok(Html(render(&FeedbackSentPage {
        layout: Layout::new(&state, "Обращение отправлено"),
        number,
        by_sms: matches!(contact, Contact::Phone(_)),
    })?))
}
