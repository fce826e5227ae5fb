//! The second step of signing in (`/login/factor`): a code from the authenticator app, a code by
//! SMS or a backup code. The password step leaves a pending sign-in in the session; the account
//! is signed in (and the session id replaced) only when the second step passes.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use uslugi_core::now_ms;
use uslugi_core::{
    identity::factors::{self, FactorError, Method},
    identity::login::{Client, SignedIn},
    identity::registration::RegistrationError,
};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    forms::{FieldErrors, code_error},
    layout::{Layout, render},
    session::Session,
};

/// Session key of a sign-in waiting for its second step.
const PENDING: &str = "pending_login";
/// Session key of the time of the last password or factor check (for re-authentication).
pub const AUTH_AT: &str = "auth_at";
/// Session key of the time the second step (if the account has one) was last passed: at sign-in
/// or in a step-up for a sensitive change.
pub const FACTOR_AT: &str = "factor_at";
/// Session key set while an operator-issued password must be replaced.
pub const MUST_CHANGE: &str = "must_change_password";
/// A pending sign-in lasts this long.
const PENDING_TTL_MS: i64 = 10 * 60_000;
/// Wrong codes per pending sign-in before the password must be given again.
const TRIES: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    account_id: Uuid,
    started_at: i64,
    reactivated: bool,
    must_change_password: bool,
    sms_id: Option<Uuid>,
    sms_masked: Option<String>,
    sms_sent_at: Option<i64>,
    tries: u32,
    /// Set when the second step guards a recovery (its id) rather than a sign-in.
    #[serde(default)]
    recovery: Option<Uuid>,
    /// The recovery code went by SMS: the SMS factor is proven already.
    #[serde(default)]
    skip_sms: bool,
    /// Set when the second step confirms a sensitive change of the signed-in person (a step-up):
    /// where to go once it passes.
    #[serde(default)]
    reauth: Option<String>,
}

impl Pending {
    /// A second step starting now for a sign-in of `account_id`, nothing tried yet.
    fn new(account_id: Uuid) -> Pending {
        Pending {
            account_id,
            started_at: now_ms(),
            reactivated: false,
            must_change_password: false,
            sms_id: None,
            sms_masked: None,
            sms_sent_at: None,
            tries: 0,
            recovery: None,
            skip_sms: false,
            reauth: None,
        }
    }
}

/// Starts a step-up: the signed-in person, whose password was just checked, passes the second
/// step again before a change that could hand the account over; then goes on to `next`.
pub fn start_step_up(state: &AppState, session: &Session, account_id: Uuid, next: &str) {
    session.insert(
        state,
        PENDING,
        &Pending {
            reauth: Some(next.to_owned()),
            ..Pending::new(account_id)
        },
    );
}

/// Session key holding the recovery whose second step passed.
pub const RECOVERY_FACTOR_OK: &str = "recover_factor_ok";

/// Whether a confirmed recovery still needs the second step: with a factor on, it is required
/// as well (a code by SMS counts for the SMS factor). Starts the step when it does.
pub async fn recovery_needs_factor(
    state: &AppState,
    session: &Session,
    recovery_id: Uuid,
    account_id: Uuid,
    channel: &str,
) -> Result<bool, AppError> {
    if session.get::<Uuid>(RECOVERY_FACTOR_OK) == Some(recovery_id) {
        return Ok(false);
    }
    let summary = factors::summary(&state.db, account_id)
        .await
        .map_err(AppError::internal)?;
    let skip_sms = channel == "sms";
    let needed = summary.required()
        && summary
            .methods()
            .iter()
            .any(|m| !(skip_sms && *m == Method::Sms) && *m != Method::Backup);
    if needed && pending(session).and_then(|p| p.recovery) != Some(recovery_id) {
        session.insert(
            state,
            PENDING,
            &Pending {
                recovery: Some(recovery_id),
                skip_sms,
                ..Pending::new(account_id)
            },
        );
    }
    Ok(needed)
}

/// The user agent of a request.
pub fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// After a right password: ask for the second step when the account has one, else sign in.
pub async fn after_password(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    signed: SignedIn,
) -> Result<Response, AppError> {
    let summary = factors::summary(&state.db, signed.account_id)
        .await
        .map_err(AppError::internal)?;
    if summary.required() {
        session.insert(
            state,
            PENDING,
            &Pending {
                reactivated: signed.reactivated,
                must_change_password: signed.must_change_password,
                ..Pending::new(signed.account_id)
            },
        );
        return Ok(Redirect::to("/login/factor").into_response());
    }
    Ok(complete(state, session, headers, signed).await)
}

/// Session flag: the sign-in under way came through a partner bank.
pub const BANK_SIGN_IN: &str = "bank_sign_in";
/// Session key: a bank identity waiting to be linked once its account's owner signs in.
pub const BANK_LINK: &str = "bank_link";

/// Signs the account in: a new session id, the re-authentication clock, the device check.
pub async fn complete(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    signed: SignedIn,
) -> Response {
    session.remove(PENDING);
    // A bank sign-in is not a password: it does not count as a recent re-authentication.
    let through_bank = session.get::<bool>(BANK_SIGN_IN).unwrap_or(false);
    session.remove(BANK_SIGN_IN);
    let link = session.get::<uslugi_core::sso::banks::PendingLink>(BANK_LINK);
    session.remove(BANK_LINK);
    // A deactivated account comes back only now, after every step of the sign-in.
    if signed.reactivated
        && let Err(e) =
            uslugi_core::identity::deactivation::reactivate(ctx(state), signed.account_id).await
    {
        tracing::error!(error = %e, "reactivating an account at sign-in failed");
    }
    session.set_account(state, Some(signed.account_id));
    if !through_bank {
        session.insert(state, AUTH_AT, &now_ms());
    }
    // Staff act for others: without a second factor they set one up before anything else.
    match crate::principal::staff_without_factor(state, signed.account_id).await {
        Ok(true) => session.insert(state, crate::principal::STAFF_NEEDS_FACTOR, &true),
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "reading the roles at sign-in failed"),
    }
    // Every way here passed the account's second step, if it has one.
    session.insert(state, FACTOR_AT, &now_ms());
    // The owner of the account a bank identity matched has now signed in the usual way.
    if let Some(link) = link {
        match uslugi_core::sso::banks::confirm_link(
            crate::context::ctx(state),
            &link,
            signed.account_id,
        )
        .await
        {
            Ok(true) => session.insert(
                state,
                "flash",
                &"Вход через банк привязан к вашей учётной записи",
            ),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "bank link after sign-in failed"),
        }
    }
    let target = if signed.must_change_password {
        session.insert(state, MUST_CHANGE, &true);
        "/security/password"
    } else if session
        .get::<serde_json::Value>(crate::sso::oauth::REQUEST)
        .is_some()
    {
        // A service sent the person here to sign in: back to its authorization request.
        "/oauth2/authorize/continue"
    } else {
        "/cabinet"
    };
    if signed.reactivated {
        session.insert(
            state,
            "flash",
            &"Учётная запись снова активна: отключение отменено",
        );
    }
    let mut resp = Redirect::to(target).into_response();
    crate::device::after_sign_in(state, headers, signed.account_id, &mut resp).await;
    resp
}

fn pending(session: &Session) -> Option<Pending> {
    session
        .get::<Pending>(PENDING)
        .filter(|p| p.started_at + PENDING_TTL_MS > now_ms())
        // A step-up belongs to the person signed in when it started.
        .filter(|p| p.reauth.is_none() || session.account_id() == Some(p.account_id))
}

#[derive(Debug, Template)]
#[template(path = "login/factor.html")]
struct FactorPage {
    layout: Layout,
    csrf_token: String,
    method: &'static str,
    others: Vec<(&'static str, &'static str)>,
    sms_hint: String,
    sms_sent: bool,
    errors: FieldErrors,
    recovery: bool,
    reauth: bool,
}

/// The methods this second step accepts: the account's, less the SMS code where the recovery
/// code already went by SMS.
async fn offered_methods(state: &AppState, p: &Pending) -> Result<Vec<Method>, AppError> {
    let summary = factors::summary(&state.db, p.account_id)
        .await
        .map_err(AppError::internal)?;
    Ok(summary
        .methods()
        .into_iter()
        .filter(|m| !(p.skip_sms && *m == Method::Sms))
        .collect())
}

fn method_link(m: Method) -> &'static str {
    match m {
        Method::Passkey => "Ключ доступа или биометрия",
        Method::Totp => "Код из приложения-аутентификатора",
        Method::Sms => "Код по СМС",
        Method::Backup => "Резервный код",
    }
}

/// Which method the page is for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MethodQuery {
    method: String,
}

async fn page(
    state: &AppState,
    session: &Session,
    p: &Pending,
    requested: &str,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let methods = offered_methods(state, p).await?;
    let method = Method::parse(requested)
        .filter(|m| methods.contains(m))
        .or_else(|| methods.first().copied())
        .unwrap_or(Method::Backup);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FactorPage {
        layout: Layout::new(
            state,
            if p.recovery.is_some() {
                "Восстановление доступа"
            } else if p.reauth.is_some() {
                "Подтверждение действия"
            } else {
                "Подтверждение входа"
            },
        )
        .with_errors(!errors.is_empty()),
        recovery: p.recovery.is_some(),
        reauth: p.reauth.is_some(),
        csrf_token: session.csrf_token(state),
        method: method.as_str(),
        others: methods
            .iter()
            .filter(|m| **m != method)
            .map(|m| (m.as_str(), method_link(*m)))
            .collect(),
        sms_hint: format!(
            "Код отправлен на номер {}",
            p.sms_masked.as_deref().unwrap_or("телефона")
        ),
        sms_sent: p.sms_id.is_some(),
        errors,
    };
    Ok((status, Html(render(&page)?)).into_response())
}

/// `GET /login/factor` — someone who gave the right password.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<MethodQuery>,
) -> Result<Response, AppError> {
    let Some(p) = pending(&session) else {
        return Ok(Redirect::to("/login").into_response());
    };
    page(&state, &session, &p, &q.method, FieldErrors::default()).await
}

/// The second step as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FactorForm {
    method: String,
    code: String,
    /// `send` asks for an SMS code instead of checking one.
    action: String,
}

/// `POST /login/factor` — someone who gave the right password.
pub async fn post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<FactorForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(mut p) = pending(&session) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let ip = client_ip(&state, peer, &headers);
    let mut errors = FieldErrors::default();
    let Some(method) = Method::parse(&form.method) else {
        return page(&state, &session, &p, "", errors).await;
    };
    // Only a method this step offers counts: the page hides the SMS code when the recovery code
    // went by SMS, and the server must refuse it the same way, or a SIM swap alone would pass.
    let offered = offered_methods(&state, &p).await?;
    if !offered.contains(&method) {
        errors.add("code", "Этот способ сейчас недоступен. Выберите другой");
        return page(&state, &session, &p, "", errors).await;
    }
    if form.action == "send" && method == Method::Sms {
        let wait = p
            .sms_sent_at
            .map(|at| at + state.config.auth.resend_after_secs * 1000 - now_ms())
            .unwrap_or(0);
        if wait > 0 {
            errors.add("code", crate::messages::new_code_in(wait / 1000 + 1));
            return page(&state, &session, &p, "sms", errors).await;
        }
        match factors::send_sms_code(ctx(&state), p.account_id, &ip).await {
            Ok((id, masked)) => {
                p.sms_id = Some(id);
                p.sms_masked = Some(masked);
                p.sms_sent_at = Some(now_ms());
                session.insert(&state, PENDING, &p);
                return Ok(Redirect::to("/login/factor?method=sms").into_response());
            }
            Err(FactorError::Code(RegistrationError::TooManyCodes { .. })) => {
                errors.add(
                    "code",
                    "Слишком много запросов кода за последний час. Попробуйте позже или выберите другой способ",
                );
                return page(&state, &session, &p, "sms", errors).await;
            }
            Err(FactorError::NoPhone) => {
                errors.add(
                    "code",
                    "К учётной записи не привязан телефон. Выберите другой способ",
                );
                return page(&state, &session, &p, "sms", errors).await;
            }
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    if form.code.trim().is_empty() {
        errors.add("code", "Введите код");
        return page(&state, &session, &p, method.as_str(), errors).await;
    }
    let client = Client {
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    match factors::verify(
        ctx(&state),
        p.account_id,
        method,
        &form.code,
        p.sms_id,
        &client,
    )
    .await
    {
        Ok(()) if p.recovery.is_some() => {
            session.remove(PENDING);
            session.insert(&state, RECOVERY_FACTOR_OK, &p.recovery);
            Ok(Redirect::to("/recover/password").into_response())
        }
        Ok(()) if p.reauth.is_some() => {
            session.remove(PENDING);
            session.insert(&state, FACTOR_AT, &now_ms());
            Ok(Redirect::to(p.reauth.as_deref().unwrap_or("/security")).into_response())
        }
        Ok(()) => {
            let signed = SignedIn {
                account_id: p.account_id,
                reactivated: p.reactivated,
                must_change_password: p.must_change_password,
            };
            Ok(complete(&state, &session, &headers, signed).await)
        }
        Err(FactorError::Throttled { .. }) => {
            session.remove(PENDING);
            Err(AppError::TooManyRequests(15 * 60))
        }
        Err(e) => {
            p.tries += 1;
            if p.tries >= TRIES {
                session.remove(PENDING);
                session.insert(
                    &state,
                    "flash",
                    &"Слишком много неверных кодов. Войдите заново",
                );
                return Ok(Redirect::to("/login").into_response());
            }
            session.insert(&state, PENDING, &p);
            let message = match &e {
                FactorError::Code(c) => code_error(c).unwrap_or_else(|| "Неверный код".into()),
                FactorError::WrongCode => match method {
                    Method::Totp => {
                        "Неверный код. Введите код, который сейчас показывает приложение".into()
                    }
                    Method::Backup => "Неверный или уже использованный резервный код".into(),
                    Method::Sms | Method::Passkey => "Неверный код".into(),
                },
                _ => return Err(AppError::internal(e)),
            };
            errors.add("code", message);
            page(&state, &session, &p, method.as_str(), errors).await
        }
    }
}

/// While an operator-issued (temporary) password is in use, every page except the password
/// change, signing out and the static parts leads to the password change.
pub async fn enforce_password_change(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let must = req
        .extensions()
        .get::<Session>()
        .is_some_and(|s| s.account_id().is_some() && s.get::<bool>(MUST_CHANGE) == Some(true));
    let path = req.uri().path();
    let allowed = path == "/security/password"
        || path == "/logout"
        || path == "/api/v1/sessions"
        || path.starts_with("/assets/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics");
    if must && !allowed {
        if path.starts_with("/api/") {
            return crate::problem::Problem::new(
                StatusCode::FORBIDDEN,
                "Вы вошли с временным паролем. Придумайте свой пароль на сайте",
            )
            .into_response();
        }
        return Redirect::to("/security/password").into_response();
    }
    next.run(req).await
}

/// A redirect as the passkey script expects it: `{"redirect": …}`, keeping the cookies the
/// redirect set (the new session, the device cookie).
pub fn as_json_redirect(resp: Response) -> Response {
    let to = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/cabinet")
        .to_owned();
    let mut json = axum::Json(serde_json::json!({ "redirect": to })).into_response();
    for c in resp.headers().get_all(header::SET_COOKIE) {
        json.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    json
}

/// Session key of a passkey ceremony under way (its server-side state).
const PASSKEY_STATE: &str = "passkey_auth";

/// A passkey answer from the browser, as the script posts it.
#[derive(Debug, Deserialize)]
pub struct PasskeyAnswer {
    /// The `PublicKeyCredential` in webauthn-rs' JSON form.
    pub credential: serde_json::Value,
}

fn passkey_problem(status: StatusCode, detail: &str) -> Response {
    crate::problem::Problem::new(status, detail).into_response()
}

/// `POST /login/factor/passkey/options` — someone who gave the right password (script).
pub async fn passkey_options(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let Some(p) = pending(&session) else {
        return Ok(passkey_problem(
            StatusCode::UNAUTHORIZED,
            "Время на подтверждение входа истекло. Войдите заново",
        ));
    };
    match uslugi_core::identity::passkeys::start_authentication(ctx(&state), p.account_id).await {
        Ok((options, ceremony)) => {
            session.insert(&state, PASSKEY_STATE, &ceremony);
            Ok(axum::Json(options).into_response())
        }
        Err(uslugi_core::identity::passkeys::PasskeyError::Unknown) => Ok(passkey_problem(
            StatusCode::CONFLICT,
            "К учётной записи не привязан ключ доступа. Выберите другой способ",
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `POST /login/factor/passkey` — someone who gave the right password (script): the answer of
/// the authenticator; on success the sign-in (or the recovery) goes on.
pub async fn passkey_finish(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<axum::Json<PasskeyAnswer>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Ok(axum::Json(answer)) = body else {
        return Ok(passkey_problem(
            StatusCode::BAD_REQUEST,
            "Неверный ответ ключа доступа",
        ));
    };
    let (Some(p), Some(ceremony)) = (pending(&session), session.get::<String>(PASSKEY_STATE))
    else {
        return Ok(passkey_problem(
            StatusCode::UNAUTHORIZED,
            "Время на подтверждение входа истекло. Войдите заново",
        ));
    };
    // A ceremony is answered once.
    session.remove(PASSKEY_STATE);
    if !offered_methods(&state, &p)
        .await?
        .contains(&Method::Passkey)
    {
        return Ok(passkey_problem(
            StatusCode::CONFLICT,
            "К учётной записи не привязан ключ доступа. Выберите другой способ",
        ));
    }
    let ip = client_ip(&state, peer, &headers);
    let client = Client {
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    let credential = answer.credential.to_string();
    match uslugi_core::identity::passkeys::finish_authentication(
        ctx(&state),
        p.account_id,
        &ceremony,
        &credential,
        &client,
    )
    .await
    {
        Ok(()) => {
            let target = if p.recovery.is_some() {
                session.remove(PENDING);
                session.insert(&state, RECOVERY_FACTOR_OK, &p.recovery);
                "/recover/password".to_owned()
            } else if let Some(next) = &p.reauth {
                session.remove(PENDING);
                session.insert(&state, FACTOR_AT, &now_ms());
                next.clone()
            } else {
                let signed = SignedIn {
                    account_id: p.account_id,
                    reactivated: p.reactivated,
                    must_change_password: p.must_change_password,
                };
                return Ok(as_json_redirect(
                    complete(&state, &session, &headers, signed).await,
                ));
            };
            Ok(axum::Json(serde_json::json!({ "redirect": target })).into_response())
        }
        Err(
            uslugi_core::identity::passkeys::PasskeyError::Rejected(_)
            | uslugi_core::identity::passkeys::PasskeyError::Unknown,
        ) => Ok(passkey_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Ключ доступа не подошёл. Попробуйте ещё раз или выберите другой способ",
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}
