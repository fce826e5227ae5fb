//! `/recover`: «Восстановление доступа» — code, new password, every session ended.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{identity::recovery, identity::registration::RegistrationError};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    forms::{FieldErrors, code_error},
    layout::{Layout, render},
    session::Session,
};

const SESSION_KEY: &str = "recovery";

#[derive(Debug, Template)]
#[template(path = "recovery/start.html")]
struct StartPage {
    layout: Layout,
    csrf_token: String,
    login: String,
    errors: FieldErrors,
}

#[derive(Debug, Template)]
#[template(path = "recovery/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf_token: String,
    masked: String,
    errors: FieldErrors,
}

#[derive(Debug, Template)]
#[template(path = "recovery/password.html")]
struct PasswordPage {
    layout: Layout,
    csrf_token: String,
    errors: FieldErrors,
}

/// The login as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    login: String,
}

/// `GET /recover` — anyone.
pub async fn start_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let page = StartPage {
        layout: Layout::new(&state, "Восстановление доступа"),
        csrf_token: session.csrf_token(&state),
        login: String::new(),
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /recover` — anyone. Unknown logins get the same next page.
pub async fn start_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<StartForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    let login = form.login.trim();
    let valid =
        uslugi_domain::Phone::parse(login).is_ok() || uslugi_domain::Email::parse(login).is_ok();
    if login.is_empty() {
        errors.add("login", "Введите телефон или почту");
    } else if !valid {
        errors.add("login", "Введите номер мобильного телефона, например +7 912 345-67-89, или адрес почты, например name@example.ru");
    } else {
        match recovery::start(ctx(&state), login, &client_ip(&state, peer, &headers)).await {
            Ok(id) => {
                session.insert(&state, SESSION_KEY, &id);
                return Ok(Redirect::to("/recover/confirm").into_response());
            }
            Err(RegistrationError::TooManyCodes { retry_after_secs }) => {
                errors.add("login", crate::messages::TOO_MANY_CODES);
                let page = StartPage {
                    layout: Layout::new(&state, "Восстановление доступа").with_errors(true),
                    csrf_token: session.csrf_token(&state),
                    login: form.login.clone(),
                    errors,
                };
                let mut resp =
                    (StatusCode::TOO_MANY_REQUESTS, Html(render(&page)?)).into_response();
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return Ok(resp);
            }
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    let page = StartPage {
        layout: Layout::new(&state, "Восстановление доступа").with_errors(true),
        csrf_token: session.csrf_token(&state),
        login: form.login,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

async fn confirm_page(
    state: &AppState,
    session: &Session,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let Some(id) = session.get::<Uuid>(SESSION_KEY) else {
        return Ok(Redirect::to("/recover").into_response());
    };
    let st = match recovery::state(ctx(state), id).await {
        Ok(st) => st,
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
            session.remove(SESSION_KEY);
            return Ok(Redirect::to("/recover").into_response());
        }
        Err(e) => return Err(AppError::internal(e)),
    };
    if st.confirmed {
        return Ok(Redirect::to("/recover/password").into_response());
    }
    let page = ConfirmPage {
        layout: Layout::new(state, "Введите код").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        masked: st.masked,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /recover/confirm` — the person recovering.
pub async fn confirm_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    confirm_page(&state, &session, FieldErrors::default()).await
}

/// The code as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// `POST /recover/confirm` — the person recovering.
pub async fn confirm_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(id) = session.get::<Uuid>(SESSION_KEY) else {
        return Ok(Redirect::to("/recover").into_response());
    };
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut errors = FieldErrors::default();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        errors.add("code", "Введите код — 6 цифр");
    } else {
        match recovery::confirm_code(ctx(&state), id, &code).await {
            Ok(()) => return Ok(Redirect::to("/recover/password").into_response()),
            Err(
                e @ (RegistrationError::WrongCode { .. }
                | RegistrationError::CodeVoid
                | RegistrationError::Expired),
            ) => errors.add("code", code_error(&e).unwrap_or_default()),
            Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/recover").into_response());
            }
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    confirm_page(&state, &session, errors).await
}

/// The new password as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    password: String,
    password_confirmation: String,
}

/// The confirmed recovery of this session, or a redirect: to the start when there is none, to
/// the second step when the account has a factor that has not been given yet.
async fn confirmed(
    state: &AppState,
    session: &Session,
) -> Result<Result<Uuid, Response>, AppError> {
    let to_start = Ok(Err(Redirect::to("/recover").into_response()));
    let Some(id) = session.get::<Uuid>(SESSION_KEY) else {
        return to_start;
    };
    match recovery::state(ctx(state), id).await {
        Ok(st) if st.confirmed => {
            let Some(account_id) = st.account_id else {
                return to_start;
            };
            if crate::identity::second_step::recovery_needs_factor(
                state,
                session,
                id,
                account_id,
                &st.channel,
            )
            .await?
            {
                return Ok(Err(Redirect::to("/login/factor").into_response()));
            }
            Ok(Ok(id))
        }
        Ok(_) | Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => to_start,
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `GET /recover/password` — the person recovering, after the code.
pub async fn password_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if let Err(redirect) = confirmed(&state, &session).await? {
        return Ok(redirect);
    }
    let page = PasswordPage {
        layout: Layout::new(&state, "Новый пароль"),
        csrf_token: session.csrf_token(&state),
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /recover/password` — the person recovering: sets the password, ends every session of
/// the account, and signs this browser in with a new session.
pub async fn password_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let id = match confirmed(&state, &session).await? {
        Ok(id) => id,
        Err(redirect) => return Ok(redirect),
    };
    let mut errors = FieldErrors::default();
    if form.password.is_empty() {
        errors.add("password", "Придумайте новый пароль");
    } else if let Err(list) = recovery::check_password(ctx(&state), id, &form.password).await {
        errors.add(
            "password",
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(". "),
        );
    } else if form.password != form.password_confirmation {
        errors.add(
            "password_confirmation",
            "Пароли не совпадают. Введите пароль ещё раз",
        );
    }
    if errors.is_empty() {
        match recovery::complete(ctx(&state), id, form.password).await {
            Ok(account_id) => {
                session.remove(SESSION_KEY);
                session.remove(crate::identity::second_step::RECOVERY_FACTOR_OK);
                session.set_account(&state, Some(account_id));
                session.insert(
                    &state,
                    "flash",
                    &"Пароль изменён. Все остальные сеансы завершены",
                );
                return Ok(Redirect::to("/cabinet").into_response());
            }
            Err(
                RegistrationError::AlreadyCompleted
                | RegistrationError::NotFound
                | RegistrationError::Expired
                | RegistrationError::NotConfirmed,
            ) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/recover").into_response());
            }
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    let page = PasswordPage {
        layout: Layout::new(&state, "Новый пароль").with_errors(true),
        csrf_token: session.csrf_token(&state),
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}
