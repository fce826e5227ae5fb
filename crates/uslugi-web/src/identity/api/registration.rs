//! `/api/v1/registrations`: the registration steps of the pages, as JSON.

use axum::{
    Json,
    extract::{ConnectInfo, Path, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::accounts::Contact,
    identity::registration::{self, CompleteRegistration, RegistrationError},
};
use uuid::Uuid;

use crate::problem::{Problem, bad_json};
use crate::{
    AppState,
    context::{client_ip, ctx},
    forms::FieldErrors,
    identity::registration::{StartForm, parse_start},
    session::Session,
};

fn flow_problem(e: RegistrationError, field: &str) -> Problem {
    Problem::explain(e, field)
}

async fn state_json(state: &AppState, id: Uuid) -> Result<serde_json::Value, Problem> {
    let st = registration::state(ctx(state), id)
        .await
        .map_err(|e| flow_problem(e, "code"))?;
    let (channel, masked) = match &st.contact {
        Contact::Phone(p) => ("sms", p.masked()),
        Contact::Email(e) => ("email", e.masked()),
    };
    Ok(serde_json::json!({
        "id": id,
        "channel": channel,
        "masked_contact": masked,
        "contact_taken": st.taken,
        "confirmed": st.confirmed,
        "expired": st.expired,
        "resend_after_seconds": st.resend_in_secs,
    }))
}

/// `POST /api/v1/registrations` — anyone: step 1; sends the code or link.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<StartForm>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(form) = body.map_err(bad_json)?;
    let mut errors = FieldErrors::default();
    let Some((name, contact)) = parse_start(&form, &mut errors) else {
        return Err(Problem::fields(&errors));
    };
    let field = if matches!(contact, Contact::Phone(_)) {
        "phone"
    } else {
        "email"
    };
    let id = registration::start(
        ctx(&state),
        name,
        contact,
        &client_ip(&state, peer, &headers),
    )
    .await
    .map_err(|e| flow_problem(e, field))?;
    Ok((StatusCode::CREATED, Json(state_json(&state, id).await?)).into_response())
}

/// `GET /api/v1/registrations/{id}` — whoever started it.
pub async fn state(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    Ok(Json(state_json(&state, id).await?).into_response())
}

/// The code as posted.
#[derive(Debug, Deserialize)]
pub struct CodeBody {
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/registrations/{id}/code` — whoever started it.
pub async fn code(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(bad_json)?;
    let code = body.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::field(
            "code",
            "Код состоит из 6 цифр — введите его без пробелов и букв",
        ));
    }
    registration::confirm_code(ctx(&state), id, code)
        .await
        .map_err(|e| flow_problem(e, "code"))?;
    Ok(Json(state_json(&state, id).await?).into_response())
}

/// `POST /api/v1/registrations/{id}/resend` — whoever started it.
pub async fn resend(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    registration::resend(ctx(&state), id, &client_ip(&state, peer, &headers))
        .await
        .map_err(|e| flow_problem(e, "code"))?;
    Ok((StatusCode::ACCEPTED, Json(state_json(&state, id).await?)).into_response())
}

/// `POST /api/v1/email-links/{token}` — anyone with the link from the e-mail.
pub async fn email_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    let id = registration::confirm_link(ctx(&state), &token)
        .await
        .map_err(|e| match e {
            RegistrationError::NotFound => Problem::new(StatusCode::NOT_FOUND, "Ссылка не найдена"),
            RegistrationError::Expired => {
                Problem::new(StatusCode::GONE, "Срок действия ссылки истёк")
            }
            RegistrationError::AlreadyCompleted => Problem::new(
                StatusCode::GONE,
                "По этой ссылке уже зарегистрирована учётная запись",
            ),
            other => Problem::internal(other),
        })?;
    Ok(Json(state_json(&state, id).await?).into_response())
}

/// The last step as posted.
#[derive(Debug, Deserialize)]
pub struct CompleteBody {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    consent: bool,
}

/// `POST /api/v1/registrations/{id}/complete` — whoever started it, after confirming; creates
/// the account and signs this client in (session cookie).
pub async fn complete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    body: Result<Json<CompleteBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(bad_json)?;
    let st = registration::state(ctx(&state), id)
        .await
        .map_err(|e| flow_problem(e, "password"))?;
    if !st.confirmed {
        return Err(flow_problem(RegistrationError::NotConfirmed, "password"));
    }
    let mut errors = FieldErrors::default();
    if body.password.is_empty() {
        errors.add("password", "Придумайте пароль");
    } else if let Err(list) = registration::check_password(&st.name, &st.contact, &body.password) {
        errors.add(
            "password",
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(". "),
        );
    } else if body.password != body.password_confirmation {
        errors.add(
            "password_confirmation",
            "Пароли не совпадают. Введите пароль ещё раз",
        );
    }
    if !body.consent {
        errors.add("consent", "Подтвердите согласие на обработку персональных данных — без него регистрация невозможна");
    }
    if !errors.is_empty() {
        return Err(Problem::fields(&errors));
    }
    let account_id = registration::complete(
        ctx(&state),
        id,
        CompleteRegistration {
            password: body.password,
            password_confirmation: body.password_confirmation,
            consent: body.consent,
        },
    )
    .await
    .map_err(|e| flow_problem(e, "password"))?;
    session.set_account(&state, Some(account_id));
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "account_id": account_id, "level": "simplified" })),
    )
        .into_response())
}
