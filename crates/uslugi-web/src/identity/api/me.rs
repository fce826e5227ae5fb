//! `/api/v1/me`: the signed-in account, its personal data and contacts.

use axum::{
    Json,
    extract::{ConnectInfo, Path, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::accounts::{self, Contact},
    identity::contacts::{self, ContactError},
    identity::profile::{self, ProfileError, ProfileState},
    identity::registration::RegistrationError,
};
use uslugi_domain::{Email, Phone};
use uuid::Uuid;

use crate::problem::{Problem, bad_json};
use crate::{
    AppState,
    context::{client_ip, ctx},
    forms::{FieldErrors, code_error},
    identity::profile::{PersonalForm, parse},
    session::Session,
};

fn signed_in(session: &Session) -> Result<Uuid, Problem> {
    session
        .account_id()
        .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "Войдите в личный кабинет"))
}

/// `GET /api/v1/me` — the signed-in person.
pub async fn get(State(state): State<AppState>, session: Session) -> Result<Response, Problem> {
    let id = signed_in(&session)?;
    let account = accounts::load(&state.db, &state.keys, id)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "Войдите в личный кабинет"))?;
    let mut phone = None;
    let mut email = None;
    for c in &account.contacts {
        match c {
            Contact::Phone(p) => phone = Some(p.as_e164().to_owned()),
            Contact::Email(e) => email = Some(e.as_str().to_owned()),
        }
    }
    Ok(Json(serde_json::json!({
        "id": id,
        "last_name": account.name.last,
        "first_name": account.name.first,
        "middle_name": account.name.middle,
        "level": account.level.as_str(),
        "phone": phone,
        "email": email,
    }))
    .into_response())
}

/// `GET /api/v1/me/personal-data` — the signed-in person.
pub async fn personal_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, Problem> {
    let id = signed_in(&session)?;
    let st = profile::state(&state.db, &state.keys, id)
        .await
        .map_err(Problem::internal)?;
    let (name, data, failures) = match st {
        ProfileState::Empty => ("empty", None, Vec::new()),
        ProfileState::Pending(d) => ("pending", Some(d), Vec::new()),
        ProfileState::Verified(d) => ("verified", Some(d), Vec::new()),
        ProfileState::Failed(d, f) => ("failed", Some(d), f),
    };
    let errors: Vec<_> = failures
        .iter()
        .map(|f| serde_json::json!({ "field": f.field(), "message": f.message() }))
        .collect();
    Ok(Json(serde_json::json!({ "state": name, "data": data, "errors": errors })).into_response())
}

/// `PUT /api/v1/me/personal-data` — the signed-in person: «Отправить на проверку».
pub async fn personal_put(
    State(state): State<AppState>,
    session: Session,
    body: Result<Json<PersonalForm>, JsonRejection>,
) -> Result<Response, Problem> {
    let id = signed_in(&session)?;
    let Json(form) = body.map_err(bad_json)?;
    let mut errors = FieldErrors::default();
    let Some(data) = parse(&form, &mut errors) else {
        return Err(Problem::fields(&errors));
    };
    match profile::submit(&state.db, &state.keys, &state.config, id, data).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "state": "pending" })),
        )
            .into_response()),
        Err(ProfileError::Pending) => Err(Problem::new(
            StatusCode::CONFLICT,
            "Данные уже на проверке. Дождитесь результата",
        )),
        Err(ProfileError::SnilsTaken) => Err(Problem::field(
            "snils",
            "Этот СНИЛС указан в другой учётной записи. Если он ваш, обратитесь в центр обслуживания с паспортом",
        )),
        Err(ProfileError::InnTaken) => Err(Problem::field(
            "inn",
            "Этот ИНН указан в другой учётной записи. Если он ваш, обратитесь в центр обслуживания с паспортом",
        )),
        Err(e) => Err(Problem::internal(e)),
    }
}

/// A new contact as posted.
#[derive(Debug, Deserialize)]
pub struct ContactBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// The account's password: a contact change needs it again (a stolen session is not enough).
    #[serde(default)]
    password: String,
}

/// `POST /api/v1/me/contacts` — the signed-in person, with their password: sends a code to a new
/// phone or e-mail. An account with a second factor changes contacts on the site, where the
/// factor is asked too (the API has no second step).
pub async fn contact_start(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ContactBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let id = signed_in(&session)?;
    let Json(body) = body.map_err(bad_json)?;
    if uslugi_core::identity::factors::summary(&state.db, id)
        .await
        .map_err(Problem::internal)?
        .required()
    {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "Для учётной записи включено подтверждение входа. Изменить контакты можно на сайте",
        ));
    }
    if body.password.is_empty() {
        return Err(Problem::field("password", "Введите пароль"));
    }
    let ip = client_ip(&state, peer, &headers);
    let client = uslugi_core::identity::login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    match uslugi_core::identity::security::reauthenticate(ctx(&state), id, &body.password, &client)
        .await
    {
        Ok(()) => {}
        Err(uslugi_core::identity::security::ReauthError::WrongPassword) => {
            return Err(Problem::field("password", "Неверный пароль"));
        }
        Err(uslugi_core::identity::security::ReauthError::Throttled) => {
            return Err(Problem::too_many(
                15 * 60,
                "Слишком много попыток. Попробуйте через 15 минут",
            ));
        }
        Err(e) => return Err(Problem::internal(e)),
    }
    let (field, contact) = match (body.phone, body.email) {
        (Some(p), None) => (
            "phone",
            Phone::parse(&p)
                .map(Contact::Phone)
                .map_err(|e| Problem::field("phone", e.to_string()))?,
        ),
        (None, Some(e)) => (
            "email",
            Email::parse(&e)
                .map(Contact::Email)
                .map_err(|e| Problem::field("email", e.to_string()))?,
        ),
        _ => {
            return Err(Problem::field(
                "phone",
                "Укажите что-то одно: номер мобильного телефона или адрес электронной почты",
            ));
        }
    };
    let verification = contacts::start(ctx(&state), id, contact, &ip)
        .await
        .map_err(|e| match e {
            ContactError::AlreadyYours => {
                Problem::field(field, "Этот контакт уже указан в вашей учётной записи")
            }
            ContactError::Flow(RegistrationError::TooManyCodes { retry_after_secs }) => {
                Problem::too_many(retry_after_secs, crate::messages::TOO_MANY_CODES)
            }
            other => Problem::internal(other),
        })?;
    // `contact_taken` is always false here: only the code proves the contact (see its answer).
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": verification, "contact_taken": false })),
    )
        .into_response())
}

/// The code as posted.
#[derive(Debug, Deserialize)]
pub struct CodeBody {
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/me/contacts/{id}/code` — the signed-in person.
pub async fn contact_code(
    State(state): State<AppState>,
    session: Session,
    Path(verification): Path<Uuid>,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let id = signed_in(&session)?;
    let Json(body) = body.map_err(bad_json)?;
    let code = body.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::field("code", "Введите код — 6 цифр"));
    }
    match contacts::confirm(ctx(&state), id, verification, code).await {
        Ok(done) => Ok(Json(serde_json::json!({
            "kind": done.contact.kind(),
            "confirmed": true,
            // «Номер занят»: another account held it; it moves here and that account is told.
            "contact_taken": done.taken,
            // RFC 3339; absent when the contact is the account's already.
            "effective_at": done.effective_at.and_then(|ms| {
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .ok()
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            }),
        }))
        .into_response()),
        Err(ContactError::Flow(
            e @ (RegistrationError::WrongCode { .. }
            | RegistrationError::CodeVoid
            | RegistrationError::Expired),
        )) => Err(Problem::field("code", code_error(&e).unwrap_or_default())),
        Err(ContactError::Flow(RegistrationError::NotFound)) => {
            Err(Problem::new(StatusCode::NOT_FOUND, "Запрос не найден"))
        }
        Err(
            ContactError::Flow(RegistrationError::AlreadyCompleted) | ContactError::AlreadyYours,
        ) => Err(Problem::new(
            StatusCode::CONFLICT,
            "Контакт уже подтверждён",
        )),
        Err(e) => Err(Problem::internal(e)),
    }
}
