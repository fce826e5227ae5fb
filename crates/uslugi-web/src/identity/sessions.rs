//! `/security`: active sessions with «Завершить», the login history, changing the password.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State, rejection::FormRejection},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::identity::security::{self, ChangePasswordError};
use uslugi_core::identity::sessions;

use crate::{
    AppError, AppState,
    forms::FieldErrors,
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::Citizen,
    session::Session,
};

struct SessionRowView {
    id: String,
    device: String,
    ip: String,
    started: String,
    last_seen: String,
    current: bool,
}

impl std::fmt::Debug for SessionRowView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRowView")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

struct AttemptRowView {
    at: String,
    method: &'static str,
    device: String,
    ip: String,
    success: bool,
    outcome: &'static str,
}

impl std::fmt::Debug for AttemptRowView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptRowView")
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// Login history rows per page.
const HISTORY_PAGE: u64 = 20;

#[derive(Debug, Template)]
#[template(path = "security/index.html")]
struct SecurityPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    sessions: Vec<SessionRowView>,
    history: Vec<AttemptRowView>,
    page: u64,
    pages: u64,
    factors_on: Vec<&'static str>,
}

/// The page of the login history.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    page: String,
}

/// `GET /security` — the signed-in person.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    // A page number that is not a number is read as the first page, not an error.
    let page = q.page.trim().parse::<u64>().unwrap_or(1).clamp(1, 100_000);
    let current = session.current_hash();
    let list = security::sessions_of(&state.db, &state.keys, account_id).await?;
    let (history, total) = security::history(
        &state.db,
        &state.keys,
        account_id,
        (page - 1) * HISTORY_PAGE,
        HISTORY_PAGE,
    )
    .await?;
    let summary = uslugi_core::identity::factors::summary(&state.db, account_id)
        .await
        .map_err(AppError::internal)?;
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = SecurityPage {
        layout: signed_in_layout(&state, &session, "Безопасность"),
        csrf_token: session.csrf_token(&state),
        flash,
        sessions: list
            .into_iter()
            .map(|s| SessionRowView {
                current: current.as_deref() == Some(s.id.as_str()),
                id: s.id,
                device: s.device,
                ip: s.ip,
                started: crate::layout::date_time(s.started_at),
                last_seen: crate::layout::date_time(s.last_seen_at),
            })
            .collect(),
        history: history
            .into_iter()
            .map(|a| AttemptRowView {
                at: crate::layout::date_time(a.at),
                method: a.method,
                device: a.device,
                ip: a.ip,
                success: a.success,
                outcome: a.outcome,
            })
            .collect(),
        page,
        pages: total.div_ceil(HISTORY_PAGE).max(1),
        factors_on: summary
            .factors
            .iter()
            .map(|f| match f.kind.as_str() {
                "totp" => "приложение-аутентификатор",
                "sms" => "код по СМС",
                _ => "ключ безопасности",
            })
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// The session to end.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndForm {
    id: String,
}

/// `POST /security/sessions/end` — the signed-in person, for one of their own sessions.
pub async fn end_one(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    form: Result<Form<EndForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if sessions::end_one(&state.db, account_id, &form.id).await? {
        session.insert(&state, "flash", &"Сеанс завершён");
    }
    Ok(Redirect::to("/security").into_response())
}

/// `POST /security/sessions/end-others` — the signed-in person.
pub async fn end_others(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let keep = session.current_hash().unwrap_or_default();
    let n = sessions::end_others(&state.db, account_id, &keep).await?;
    session.insert(
        &state,
        "flash",
        &format!(
            "Завершено: {}",
            uslugi_domain::format_count(n, "сеанс", "сеанса", "сеансов")
        ),
    );
    Ok(Redirect::to("/security").into_response())
}

#[derive(Debug, Template)]
#[template(path = "security/password.html")]
struct PasswordPage {
    layout: Layout,
    csrf_token: String,
    errors: FieldErrors,
    fields: Vec<(&'static str, &'static str, &'static str)>,
    must_change: bool,
    revoke_apps: bool,
}

fn password_page(
    state: &AppState,
    session: &Session,
    errors: FieldErrors,
    revoke_apps: bool,
) -> Result<Response, AppError> {
    let page = PasswordPage {
        revoke_apps,
        layout: signed_in_layout(state, session, "Смена пароля").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        errors,
        must_change: session.get::<bool>(crate::identity::second_step::MUST_CHANGE) == Some(true),
        fields: vec![
            ("current_password", "Текущий пароль", "current-password"),
            ("password", "Новый пароль", "new-password"),
            (
                "password_confirmation",
                "Повторите новый пароль",
                "new-password",
            ),
        ],
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /security/password` — the signed-in person.
pub async fn password_get(
    State(state): State<AppState>,
    session: Session,
    _signed_in: Citizen,
) -> Result<Response, AppError> {
    password_page(&state, &session, FieldErrors::default(), true)
}

/// The passwords as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_confirmation: String,
    /// `yes` revokes the services' access as well.
    revoke_apps: String,
}

/// `POST /security/password` — the signed-in person: needs the current password; ends every
/// other session and gives this one a new id.
pub async fn password_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    if form.current_password.is_empty() {
        errors.add("current_password", "Введите текущий пароль");
    }
    if form.password.is_empty() {
        errors.add("password", "Придумайте новый пароль");
    } else if form.password != form.password_confirmation {
        errors.add(
            "password_confirmation",
            "Пароли не совпадают. Введите пароль ещё раз",
        );
    }
    if errors.is_empty() {
        let keep = session.current_hash().unwrap_or_default();
        let ip = crate::context::client_ip(&state, peer, &headers);
        let client = uslugi_core::identity::login::Client {
            ip: &ip,
            user_agent: crate::identity::second_step::user_agent(&headers),
        };
        let revoke = form.revoke_apps == "yes";
        match security::change_password(
            crate::context::ctx(&state),
            account_id,
            &keep,
            &form.current_password,
            &form.password,
            revoke,
            &client,
        )
        .await
        {
            Ok(()) => {
                session.set_account(&state, Some(account_id));
                session.remove(crate::identity::second_step::MUST_CHANGE);
                session.insert(
                    &state,
                    crate::identity::second_step::AUTH_AT,
                    &uslugi_core::now_ms(),
                );
                session.insert(
                    &state,
                    "flash",
                    if revoke {
                        &"Пароль изменён. Сеансы на других устройствах завершены, доступ сервисов к данным отозван"
                    } else {
                        &"Пароль изменён. Сеансы на других устройствах завершены"
                    },
                );
                return Ok(Redirect::to("/security").into_response());
            }
            Err(ChangePasswordError::WrongCurrent) => {
                errors.add("current_password", "Неверный текущий пароль")
            }
            Err(ChangePasswordError::Throttled) => {
                return Err(AppError::TooManyRequests(15 * 60));
            }
            Err(ChangePasswordError::Policy(list)) => errors.add(
                "password",
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(". "),
            ),
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    password_page(&state, &session, errors, form.revoke_apps == "yes")
}
