//! `/login`: signing in with a phone, e-mail or SNILS and the password.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::{
        captcha::Ask,
        login::{self, LoginError},
    },
    kernel::config::CaptchaProvider,
};

use crate::{
    AppError, AppState,
    context::client_ip,
    forms::FieldErrors,
    layout::{Layout, render},
    middleware::security_headers::csp_allowing,
    session::Session,
};

/// The one message for a wrong login or a wrong password.
pub const INVALID: &str = "Неверный логин или пароль";

#[derive(Debug, Template)]
#[template(path = "login/index.html")]
struct LoginPage {
    layout: Layout,
    csrf_token: String,
    login: String,
    errors: FieldErrors,
    captcha: Option<CaptchaView>,
    flash: Option<String>,
    /// Partner banks configured: «Войти через банк» is offered.
    banks: bool,
}

pub(crate) const CAPTCHA_KEY: &str = "captcha";

/// The captcha as a page shows it.
#[derive(Debug, Clone)]
pub(crate) enum CaptchaView {
    /// The built-in question.
    Question(String),
    /// An external widget.
    Widget {
        /// The service's client key.
        site_key: String,
        /// The widget script.
        script: String,
    },
}

impl CaptchaView {
    /// The question the API returns (`None` for a widget, whose key the API returns instead).
    pub(crate) fn question(&self) -> Option<&str> {
        match self {
            CaptchaView::Question(q) => Some(q),
            CaptchaView::Widget { .. } => None,
        }
    }

    /// The widget's client key, for API clients that show it themselves.
    pub(crate) fn site_key(&self) -> Option<&str> {
        match self {
            CaptchaView::Question(_) => None,
            CaptchaView::Widget { site_key, .. } => Some(site_key),
        }
    }
}

/// Asks a new captcha: a question's answer stays in the session, the question goes on the page.
pub(crate) fn new_captcha(state: &AppState, session: &Session) -> CaptchaView {
    match state.captcha.ask() {
        Ask::Question(c) => {
            session.insert(state, CAPTCHA_KEY, &c.answer);
            CaptchaView::Question(c.question)
        }
        Ask::Widget { site_key, script } => {
            session.remove(CAPTCHA_KEY);
            CaptchaView::Widget { site_key, script }
        }
    }
}

/// Checks a captcha answer (the built-in question's digits or the widget's token); the message
/// for the field when it does not pass. The built-in answer is used up either way.
pub(crate) async fn check_captcha(
    state: &AppState,
    session: &Session,
    answer: &str,
    client_ip: &str,
) -> Option<&'static str> {
    let widget = state.config.captcha.provider == CaptchaProvider::SmartCaptcha;
    let expected = session.get::<String>(CAPTCHA_KEY).unwrap_or_default();
    session.remove(CAPTCHA_KEY);
    if answer.trim().is_empty() {
        return Some(if widget {
            "Пройдите проверку «Я не робот»"
        } else {
            "Ответьте на проверочный вопрос цифрами"
        });
    }
    if state.captcha.verify(&expected, answer, client_ip).await {
        None
    } else if widget {
        Some("Проверка «Я не робот» не пройдена. Пройдите её ещё раз")
    } else {
        Some("Неверный ответ на проверочный вопрос. Ответьте на новый вопрос")
    }
}

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    login: String,
    password: String,
    captcha: String,
    /// The token SmartCaptcha's widget adds to the form.
    #[serde(rename = "smart-token")]
    smart_token: String,
}

fn page(
    state: &AppState,
    session: &Session,
    login: String,
    errors: FieldErrors,
    captcha: Option<CaptchaView>,
) -> Result<Response, AppError> {
    let csp = match &captcha {
        Some(CaptchaView::Widget { script, .. }) => Some(csp_allowing(script)),
        _ => None,
    };
    let html = render(&LoginPage {
        layout: Layout::new(state, "Вход").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        login,
        errors,
        captcha,
        flash: {
            let f = session.get::<String>("flash");
            session.remove("flash");
            f
        },
        banks: !state.config.banks.is_empty(),
    })?;
    let mut resp = Html(html).into_response();
    if let Some(csp) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// `GET /login` — anyone.
pub async fn get(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    if session.account_id().is_some() {
        return Ok(Redirect::to("/cabinet").into_response());
    }
    page(
        &state,
        &session,
        String::new(),
        FieldErrors::default(),
        None,
    )
}

/// `POST /login` — anyone. The session id is replaced on success (no fixation).
pub async fn post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    if form.login.trim().is_empty() {
        errors.add("login", "Введите телефон, почту или СНИЛС");
    }
    if form.password.is_empty() {
        errors.add("password", "Введите пароль");
    }
    let ip = client_ip(&state, peer, &headers);
    let ctx = crate::context::ctx(&state);
    // After repeated failures the captcha is required before the password is even checked.
    if errors.is_empty()
        && login::needs_captcha(ctx, &form.login, &ip)
            .await
            .map_err(AppError::internal)?
    {
        let answer = if form.captcha.trim().is_empty() {
            &form.smart_token
        } else {
            &form.captcha
        };
        if let Some(message) = check_captcha(&state, &session, answer, &ip).await {
            errors.add("captcha", message);
        }
    }
    if !errors.is_empty() {
        let captcha = if errors.get("captcha").is_some() {
            Some(new_captcha(&state, &session))
        } else {
            None
        };
        return page(&state, &session, form.login, errors, captcha);
    }
    session.remove(CAPTCHA_KEY);
    let client = login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    let (device, new_device) = crate::device::token(&state, &headers);
    let device = (!new_device).then_some(device.as_str());
    match login::login(ctx, &form.login, &form.password, &client, device).await {
        Ok(signed) => {
            session.remove(crate::identity::second_step::BANK_SIGN_IN);
            crate::identity::second_step::after_password(&state, &session, &headers, signed).await
        }
        Err(LoginError::Blocked) => {
            errors.add(
                "password",
                "Учётная запись заблокирована после многих неудачных попыток входа. Чтобы разблокировать её, восстановите доступ",
            );
            page(&state, &session, form.login, errors, None)
        }
        Err(LoginError::Invalid) => {
            errors.add("password", INVALID);
            let captcha = if login::needs_captcha(ctx, &form.login, &ip)
                .await
                .map_err(AppError::internal)?
            {
                Some(new_captcha(&state, &session))
            } else {
                None
            };
            page(&state, &session, form.login, errors, captcha)
        }
        Err(LoginError::Throttled { retry_after_secs }) => {
            errors.add(
                "password",
                format!(
                    "Слишком много запросов: слишком много неудачных попыток входа. Попробуйте через {}",
                    uslugi_domain::format_count(u64::try_from(retry_after_secs / 60).unwrap_or(15), "минуту", "минуты", "минут")
                ),
            );
            let mut resp = page(&state, &session, form.login, errors, None)?;
            *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

/// Session key of a «Войти по биометрии» ceremony under way.
const PASSKEY_LOGIN: &str = "passkey_login";

/// `POST /login/passkey/options` — anyone (script): the options for a sign-in with a
/// discoverable passkey.
pub async fn passkey_options(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let (options, ceremony) = uslugi_core::identity::passkeys::start_discoverable(&state.config)
        .map_err(AppError::internal)?;
    session.insert(&state, PASSKEY_LOGIN, &ceremony);
    Ok(axum::Json(options).into_response())
}

/// `POST /login/passkey` — anyone (script): signs in with the passkey's answer. The session id
/// is replaced, as with a password.
pub async fn passkey_finish(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<
        axum::Json<crate::identity::second_step::PasskeyAnswer>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<Response, AppError> {
    let refused = |detail: &str| {
        crate::problem::Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail).into_response()
    };
    let Ok(axum::Json(answer)) = body else {
        return Ok(refused("Неверный ответ ключа доступа"));
    };
    let Some(ceremony) = session.get::<String>(PASSKEY_LOGIN) else {
        return Ok(refused(
            "Вход не начат. Обновите страницу и попробуйте ещё раз",
        ));
    };
    session.remove(PASSKEY_LOGIN);
    let ip = client_ip(&state, peer, &headers);
    let client = login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    match uslugi_core::identity::passkeys::finish_discoverable(
        crate::context::ctx(&state),
        &ceremony,
        &answer.credential.to_string(),
        &client,
    )
    .await
    {
        Ok(account_id) => {
            let signed = login::SignedIn {
                account_id,
                reactivated: false,
                must_change_password: false,
            };
            Ok(crate::identity::second_step::as_json_redirect(
                crate::identity::second_step::complete(&state, &session, &headers, signed).await,
            ))
        }
        Err(
            uslugi_core::identity::passkeys::PasskeyError::Rejected(_)
            | uslugi_core::identity::passkeys::PasskeyError::Unknown,
        ) => Ok(refused(
            "Этот ключ доступа не подходит. Войдите по паролю или выберите другой ключ",
        )),
        Err(uslugi_core::identity::passkeys::PasskeyError::Throttled) => {
            Ok(crate::problem::Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Слишком много попыток входа. Попробуйте через 15 минут",
            )
            .into_response())
        }
        Err(e) => Err(AppError::internal(e)),
    }
}
