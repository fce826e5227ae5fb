//! `/security/factors`: turning the second factors on and off, backup codes; `/security/confirm`:
//! the password check that changes to them need (within the last five minutes);
//! `/security/deactivate`: «Отключить учётную запись».

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State, rejection::FormRejection},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::deactivation::{self, DeactivateError},
    identity::factors::{self, FactorError},
    identity::login::Client,
    identity::security::{self, ReauthError},
};
use uslugi_core::{identity::factors::kind, now_ms};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    forms::FieldErrors,
    identity::second_step::{AUTH_AT, FACTOR_AT, user_agent},
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::Citizen,
    session::Session,
};

/// Session key of a TOTP secret being set up (encrypted).
const TOTP_SETUP: &str = "totp_setup";
const TOTP_SETUP_PURPOSE: &str = "session.totp_setup";

/// Whether the person checked their password (or signed in) within the window.
fn recently_authenticated(state: &AppState, session: &Session) -> bool {
    session
        .get::<i64>(AUTH_AT)
        .is_some_and(|at| at + state.config.auth.reauth_window_secs * 1000 > now_ms())
}

/// The signed-in account if its password was checked recently, or where to send the person:
/// to sign in, or to the password check coming back to `next`.
fn recent_account(state: &AppState, session: &Session, next: &str) -> Result<Uuid, String> {
    let Some(account_id) = session.account_id() else {
        return Err("/login".into());
    };
    if !recently_authenticated(state, session) {
        return Err(format!("/security/confirm?next={next}"));
    }
    Ok(account_id)
}

/// Changes that could hand the account over to whoever makes them: they need the second
/// factor as well as the password (a step-up), not the password alone.
const STEP_UP_TARGETS: [&str; 2] = ["/profile/contacts/phone", "/profile/contacts/email"];

/// The signed-in account if its password and, where it has a second factor, the factor were
/// checked within the window; else where to send the person (to sign in, or to the check
/// coming back to `next`).
pub async fn stepped_up_account(
    state: &AppState,
    session: &Session,
    next: &str,
) -> Result<Result<Uuid, String>, AppError> {
    let account_id = match recent_account(state, session, next) {
        Ok(id) => id,
        Err(to) => return Ok(Err(to)),
    };
    if factor_missing(state, session, account_id).await? {
        return Ok(Err(format!("/security/confirm?next={next}")));
    }
    Ok(Ok(account_id))
}

/// Whether the account has a second factor that this session has not passed within the window.
async fn factor_missing(
    state: &AppState,
    session: &Session,
    account_id: Uuid,
) -> Result<bool, AppError> {
    let recent = session
        .get::<i64>(FACTOR_AT)
        .is_some_and(|at| at + state.config.auth.reauth_window_secs * 1000 > now_ms());
    if recent {
        return Ok(false);
    }
    Ok(factors::summary(&state.db, account_id)
        .await
        .map_err(AppError::internal)?
        .required())
}

/// Only our own security pages and the step-up targets are valid targets after the check (no
/// open redirect).
fn safe_next(next: &str) -> &str {
    if STEP_UP_TARGETS.contains(&next) {
        return next;
    }
    if next.starts_with("/security/")
        && next
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'-')
    {
        next
    } else {
        "/security/factors"
    }
}

#[derive(Debug, Template)]
#[template(path = "security/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf_token: String,
    next: String,
    errors: FieldErrors,
}

/// Where to go after the check.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// `GET /security/confirm` — the signed-in person.
pub async fn confirm_get(
    State(state): State<AppState>,
    session: Session,
    _signed_in: Citizen,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let page = ConfirmPage {
        layout: signed_in_layout(&state, &session, "Подтверждение паролем"),
        csrf_token: session.csrf_token(&state),
        next: safe_next(&q.next).to_owned(),
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// The password check as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    password: String,
    next: String,
}

/// `POST /security/confirm` — the signed-in person.
pub async fn confirm_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let next = safe_next(&form.next).to_owned();
    let mut errors = FieldErrors::default();
    if form.password.is_empty() {
        errors.add("password", "Введите пароль");
    } else {
        let ip = client_ip(&state, peer, &headers);
        let client = Client {
            ip: &ip,
            user_agent: user_agent(&headers),
        };
        match security::reauthenticate(ctx(&state), account_id, &form.password, &client).await {
            Ok(()) => {
                session.insert(&state, AUTH_AT, &now_ms());
                if STEP_UP_TARGETS.contains(&next.as_str())
                    && factor_missing(&state, &session, account_id).await?
                {
                    crate::identity::second_step::start_step_up(
                        &state, &session, account_id, &next,
                    );
                    return Ok(Redirect::to("/login/factor").into_response());
                }
                return Ok(Redirect::to(&next).into_response());
            }
            Err(ReauthError::WrongPassword) => errors.add("password", "Неверный пароль"),
            Err(ReauthError::Throttled) => return Err(AppError::TooManyRequests(15 * 60)),
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    let page = ConfirmPage {
        layout: signed_in_layout(&state, &session, "Подтверждение паролем").with_errors(true),
        csrf_token: session.csrf_token(&state),
        next,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

struct FactorRowView {
    id: Uuid,
    kind: String,
    since: String,
}

impl std::fmt::Debug for FactorRowView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorRowView")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Template)]
#[template(path = "security/factors.html")]
struct FactorsPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    totp: Option<FactorRowView>,
    sms: Option<FactorRowView>,
    backup_left: u64,
    any: bool,
    error: Option<String>,
    passkeys: Vec<(Uuid, String, String)>,
}

async fn factors_page(
    state: &AppState,
    session: &Session,
    account_id: Uuid,
    error: Option<String>,
) -> Result<Response, AppError> {
    let summary = factors::summary(&state.db, account_id)
        .await
        .map_err(AppError::internal)?;
    let view = |k: &str| {
        summary.of_kind(k).map(|f| FactorRowView {
            id: f.id,
            kind: f.kind.clone(),
            since: crate::layout::date(f.created_at),
        })
    };
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = FactorsPage {
        layout: signed_in_layout(state, session, "Подтверждение входа")
            .with_errors(error.is_some()),
        csrf_token: session.csrf_token(state),
        flash,
        totp: view(kind::TOTP),
        sms: view(kind::SMS),
        backup_left: summary.backup_left,
        any: summary.required(),
        error,
        passkeys: summary
            .factors
            .iter()
            .filter(|f| f.kind == kind::WEBAUTHN)
            .map(|f| {
                (
                    f.id,
                    f.label.clone().unwrap_or_else(|| "Ключ доступа".into()),
                    crate::layout::date(f.created_at),
                )
            })
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /security/factors` — the signed-in person.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    factors_page(&state, &session, account_id, None).await
}

#[derive(Debug, Template)]
#[template(path = "security/totp.html")]
struct TotpPage {
    layout: Layout,
    csrf_token: String,
    secret_groups: String,
    qr_svg: String,
    errors: FieldErrors,
}

fn totp_page(
    state: &AppState,
    session: &Session,
    secret: &str,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let setup = factors::totp_setup("Госуслуги", "Личный кабинет", secret);
    let groups = setup
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let page = TotpPage {
        layout: signed_in_layout(state, session, "Приложение-аутентификатор")
            .with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        secret_groups: groups,
        qr_svg: setup.qr_svg,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

fn setup_secret(state: &AppState, session: &Session) -> Option<String> {
    session
        .get::<String>(TOTP_SETUP)
        .and_then(|c| state.keys.cipher().decrypt(TOTP_SETUP_PURPOSE, &c).ok())
}

/// `GET /security/factors/totp` — the signed-in person, recently authenticated: a new secret
/// (kept in the session until confirmed), its QR code and its text.
pub async fn totp_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if let Err(to) = recent_account(&state, &session, "/security/factors/totp") {
        return Ok(Redirect::to(&to).into_response());
    }
    let secret = factors::new_totp_secret().map_err(AppError::internal)?;
    let sealed = state
        .keys
        .cipher()
        .encrypt(TOTP_SETUP_PURPOSE, &secret)
        .map_err(AppError::internal)?;
    session.insert(&state, TOTP_SETUP, &sealed);
    totp_page(&state, &session, &secret, FieldErrors::default())
}

/// The confirming code.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[derive(Debug, Template)]
#[template(path = "security/backup_codes.html")]
struct BackupCodesPage {
    layout: Layout,
    intro: String,
    codes: Vec<String>,
}

fn codes_page(
    state: &AppState,
    session: &Session,
    intro: &str,
    codes: Vec<String>,
) -> Result<Response, AppError> {
    let page = BackupCodesPage {
        layout: signed_in_layout(state, session, "Резервные коды"),
        intro: intro.to_owned(),
        codes,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /security/factors/totp` — the signed-in person, recently authenticated.
pub async fn totp_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = match recent_account(&state, &session, "/security/factors/totp") {
        Ok(id) => id,
        Err(to) => return Ok(Redirect::to(&to).into_response()),
    };
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(secret) = setup_secret(&state, &session) else {
        return Ok(Redirect::to("/security/factors/totp").into_response());
    };
    let mut errors = FieldErrors::default();
    if form.code.trim().is_empty() {
        errors.add("code", "Введите код из приложения");
        return totp_page(&state, &session, &secret, errors);
    }
    match factors::enable_totp(ctx(&state), account_id, &secret, &form.code).await {
        Ok(codes) => {
            session.remove(TOTP_SETUP);
            match codes {
                Some(codes) => codes_page(
                    &state,
                    &session,
                    "Вход с кодом из приложения включён. Сохраните резервные коды: они помогут войти, если телефона с приложением не будет под рукой.",
                    codes,
                ),
                None => {
                    session.insert(&state, "flash", &"Вход с кодом из приложения включён");
                    Ok(Redirect::to("/security/factors").into_response())
                }
            }
        }
        Err(FactorError::WrongCode) => {
            errors.add(
                "code",
                "Неверный код. Проверьте, что время на телефоне точное, и введите код, который сейчас показывает приложение",
            );
            totp_page(&state, &session, &secret, errors)
        }
        Err(FactorError::AlreadyEnabled) => {
            session.remove(TOTP_SETUP);
            session.insert(&state, "flash", &"Вход с кодом из приложения уже включён");
            Ok(Redirect::to("/security/factors").into_response())
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `POST /security/factors/sms` — the signed-in person, recently authenticated.
pub async fn sms_post(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let account_id = match recent_account(&state, &session, "/security/factors") {
        Ok(id) => id,
        Err(to) => return Ok(Redirect::to(&to).into_response()),
    };
    match factors::enable_sms(ctx(&state), account_id).await {
        Ok(Some(codes)) => codes_page(
            &state,
            &session,
            "Вход с кодом по СМС включён. Сохраните резервные коды: они помогут войти, если телефона не будет под рукой.",
            codes,
        ),
        Ok(None) | Err(FactorError::AlreadyEnabled) => {
            session.insert(&state, "flash", &"Вход с кодом по СМС включён");
            Ok(Redirect::to("/security/factors").into_response())
        }
        Err(FactorError::NoPhone) => {
            factors_page(
                &state,
                &session,
                account_id,
                Some("Чтобы получать коды по СМС, добавьте и подтвердите номер телефона в разделе «Контакты»".into()),
            )
            .await
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

/// The factor to remove.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RemoveForm {
    id: String,
}

/// `POST /security/factors/remove` — the signed-in person, recently authenticated.
pub async fn remove_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<RemoveForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = match recent_account(&state, &session, "/security/factors") {
        Ok(id) => id,
        Err(to) => return Ok(Redirect::to(&to).into_response()),
    };
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Ok(id) = Uuid::parse_str(form.id.trim()) else {
        return Err(AppError::NotFound);
    };
    match factors::remove(ctx(&state), account_id, id).await {
        Ok(()) => {
            session.insert(&state, "flash", &"Способ подтверждения входа отключён");
            Ok(Redirect::to("/security/factors").into_response())
        }
        Err(FactorError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `POST /security/factors/backup` — the signed-in person, recently authenticated: ten new codes.
pub async fn backup_post(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let account_id = match recent_account(&state, &session, "/security/factors") {
        Ok(id) => id,
        Err(to) => return Ok(Redirect::to(&to).into_response()),
    };
    let summary = factors::summary(&state.db, account_id)
        .await
        .map_err(AppError::internal)?;
    if !summary.required() {
        return factors_page(
            &state,
            &session,
            account_id,
            Some("Резервные коды нужны, когда включено подтверждение входа. Сначала включите приложение или СМС".into()),
        )
        .await;
    }
    let codes = factors::regenerate_backup_codes(ctx(&state), account_id)
        .await
        .map_err(AppError::internal)?;
    codes_page(
        &state,
        &session,
        "Новые резервные коды созданы, прежние больше не действуют.",
        codes,
    )
}

#[derive(Debug, Template)]
#[template(path = "security/deactivate.html")]
struct DeactivatePage {
    layout: Layout,
    csrf_token: String,
    days: i64,
    errors: FieldErrors,
}

/// `GET /security/deactivate` — the signed-in person.
pub async fn deactivate_get(
    State(state): State<AppState>,
    session: Session,
    _signed_in: Citizen,
) -> Result<Response, AppError> {
    let page = DeactivatePage {
        layout: signed_in_layout(&state, &session, "Отключение учётной записи"),
        csrf_token: session.csrf_token(&state),
        days: state.config.auth.deactivation_grace_days,
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// The password and the confirmation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeactivateForm {
    password: String,
    confirm: String,
}

#[derive(Debug, Template)]
#[template(path = "security/deactivated.html")]
struct DeactivatedPage {
    layout: Layout,
    until: String,
}

/// `POST /security/deactivate` — the signed-in person, with their password.
pub async fn deactivate_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<DeactivateForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    if form.password.is_empty() {
        errors.add("password", "Введите пароль");
    }
    if form.confirm != "yes" {
        errors.add(
            "confirm",
            "Отметьте, что понимаете: учётная запись будет удалена, если не войти вовремя",
        );
    }
    if errors.is_empty() {
        let ip = client_ip(&state, peer, &headers);
        let client = Client {
            ip: &ip,
            user_agent: user_agent(&headers),
        };
        match deactivation::deactivate(ctx(&state), account_id, &form.password, &client).await {
            Ok(delete_at) => {
                session.destroy();
                let page = DeactivatedPage {
                    layout: Layout::new(&state, "Учётная запись отключена"),
                    until: crate::layout::date(delete_at),
                };
                return Ok(Html(render(&page)?).into_response());
            }
            Err(DeactivateError::WrongPassword) => errors.add("password", "Неверный пароль"),
            Err(DeactivateError::Throttled) => return Err(AppError::TooManyRequests(15 * 60)),
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    let page = DeactivatePage {
        layout: signed_in_layout(&state, &session, "Отключение учётной записи").with_errors(true),
        csrf_token: session.csrf_token(&state),
        days: state.config.auth.deactivation_grace_days,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// Session key of a passkey registration under way.
const PASSKEY_REG: &str = "passkey_reg";
/// Session key of backup codes to show once after a passkey was added by script (encrypted).
const CODES_ONCE: &str = "codes_once";
const CODES_PURPOSE: &str = "session.codes_once";

#[derive(Debug, Template)]
#[template(path = "security/passkey.html")]
struct PasskeyPage {
    layout: Layout,
    csrf_token: String,
}

/// `GET /security/factors/passkey` — the signed-in person, recently authenticated.
pub async fn passkey_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if let Err(to) = recent_account(&state, &session, "/security/factors/passkey") {
        return Ok(Redirect::to(&to).into_response());
    }
    let page = PasskeyPage {
        layout: signed_in_layout(&state, &session, "Ключ доступа"),
        csrf_token: session.csrf_token(&state),
    };
    Ok(Html(render(&page)?).into_response())
}

fn problem(status: axum::http::StatusCode, detail: &str) -> Response {
    crate::problem::Problem::new(status, detail).into_response()
}

/// `POST /security/factors/passkey/options` — the signed-in person, recently authenticated
/// (script): the options for `navigator.credentials.create`.
pub async fn passkey_options(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let Some(account_id) = session.account_id() else {
        return Ok(problem(
            axum::http::StatusCode::UNAUTHORIZED,
            "Войдите в личный кабинет",
        ));
    };
    if !recently_authenticated(&state, &session) {
        return Ok(problem(
            axum::http::StatusCode::FORBIDDEN,
            "Подтвердите пароль ещё раз: прошло больше 5 минут",
        ));
    }
    let (options, ceremony) = uslugi_core::identity::passkeys::start_registration(
        ctx(&state),
        account_id,
        "Личный кабинет",
    )
    .await
    .map_err(AppError::internal)?;
    session.insert(&state, PASSKEY_REG, &ceremony);
    Ok(axum::Json(options).into_response())
}

/// A new passkey as the script posts it.
#[derive(Debug, Deserialize)]
pub struct PasskeyRegistrationForm {
    #[serde(default)]
    label: String,
    credential: serde_json::Value,
}

/// `POST /security/factors/passkey` — the signed-in person, recently authenticated (script).
pub async fn passkey_post(
    State(state): State<AppState>,
    session: Session,
    body: Result<axum::Json<PasskeyRegistrationForm>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Some(account_id) = session.account_id() else {
        return Ok(problem(
            axum::http::StatusCode::UNAUTHORIZED,
            "Войдите в личный кабинет",
        ));
    };
    let Ok(axum::Json(form)) = body else {
        return Ok(problem(
            axum::http::StatusCode::BAD_REQUEST,
            "Неверный ответ ключа доступа",
        ));
    };
    let Some(ceremony) = session.get::<String>(PASSKEY_REG) else {
        return Ok(problem(
            axum::http::StatusCode::CONFLICT,
            "Добавление ключа не начато. Обновите страницу и попробуйте ещё раз",
        ));
    };
    session.remove(PASSKEY_REG);
    if !recently_authenticated(&state, &session) {
        return Ok(problem(
            axum::http::StatusCode::FORBIDDEN,
            "Подтвердите пароль ещё раз: прошло больше 5 минут",
        ));
    }
    match uslugi_core::identity::passkeys::finish_registration(
        ctx(&state),
        account_id,
        &ceremony,
        &form.credential.to_string(),
        &form.label,
    )
    .await
    {
        Ok(codes) => {
            if let Some(codes) = codes {
                let sealed = state
                    .keys
                    .cipher()
                    .encrypt(CODES_PURPOSE, &codes.join("\n"))
                    .map_err(AppError::internal)?;
                session.insert(&state, CODES_ONCE, &sealed);
                return Ok(axum::Json(
                    serde_json::json!({ "redirect": "/security/factors/codes" }),
                )
                .into_response());
            }
            session.insert(&state, "flash", &"Ключ доступа добавлен");
            Ok(axum::Json(serde_json::json!({ "redirect": "/security/factors" })).into_response())
        }
        Err(uslugi_core::identity::passkeys::PasskeyError::Rejected(_))
        | Err(uslugi_core::identity::passkeys::PasskeyError::Factor(FactorError::AlreadyEnabled)) => {
            Ok(problem(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "Не удалось добавить ключ. Возможно, он уже добавлен. Попробуйте ещё раз",
            ))
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `GET /security/factors/codes` — the signed-in person: backup codes made when a passkey was
/// added, shown once.
pub async fn codes_once(
    State(state): State<AppState>,
    session: Session,
    _signed_in: Citizen,
) -> Result<Response, AppError> {
    let Some(codes) = session
        .get::<String>(CODES_ONCE)
        .and_then(|c| state.keys.cipher().decrypt(CODES_PURPOSE, &c).ok())
    else {
        return Ok(Redirect::to("/security/factors").into_response());
    };
    session.remove(CODES_ONCE);
    codes_page(
        &state,
        &session,
        "Ключ доступа добавлен. Сохраните резервные коды: они помогут войти, если ключа не будет под рукой.",
        codes.lines().map(str::to_owned).collect(),
    )
}
