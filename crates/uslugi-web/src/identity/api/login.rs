//! `/api/v1/sessions`: signing in and out with the session cookie.

use axum::{
    Json,
    extract::{ConnectInfo, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uslugi_core::identity::login::{self, LoginError};

use crate::problem::{Problem, bad_json};
use crate::{AppState, context::client_ip, session::Session};

/// Credentials as posted.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    /// The answer to the captcha question, or the SmartCaptcha widget's token, when one was asked.
    #[serde(default)]
    captcha: String,
}

/// `POST /api/v1/sessions` — anyone: signs in; the session cookie is replaced.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(c) = body.map_err(bad_json)?;
    let ip = client_ip(&state, peer, &headers);
    // The same protection as on the page: after repeated failures the captcha is required
    // before the password is even checked.
    if login::needs_captcha(crate::context::ctx(&state), &c.login, &ip)
        .await
        .map_err(Problem::internal)?
    {
        use crate::identity::login::{check_captcha, new_captcha};
        if let Some(message) = check_captcha(&state, &session, &c.captcha, &ip).await {
            let asked = new_captcha(&state, &session);
            return Err(
                Problem::field("captcha", message).with_captcha(asked.question(), asked.site_key())
            );
        }
    }
    let client = login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    let (device, new_device) = crate::device::token(&state, &headers);
    let device = (!new_device).then_some(device.as_str());
    match login::login(
        crate::context::ctx(&state),
        &c.login,
        &c.password,
        &client,
        device,
    )
    .await
    {
        Ok(signed) => {
            let id = signed.account_id;
            // The API has no second step yet: an account with a second factor signs in through
            // the pages, never with the password alone.
            let required = uslugi_core::identity::factors::summary(&state.db, id)
                .await
                .map_err(Problem::internal)?
                .required();
            if required {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "Для этой учётной записи включено подтверждение входа. Войдите на сайте",
                ));
            }
            // An operator-issued password is changed on the site before anything else.
            if signed.must_change_password {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "Вы входите с временным паролем. Войдите на сайте и придумайте свой пароль",
                ));
            }
            if signed.reactivated {
                uslugi_core::identity::deactivation::reactivate(crate::context::ctx(&state), id)
                    .await
                    .map_err(Problem::internal)?;
            }
            if crate::principal::staff_without_factor(&state, id)
                .await
                .map_err(Problem::internal)?
            {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "Сотруднику нужен второй способ входа. Подключите его на сайте",
                ));
            }
            session.set_account(&state, Some(id));
            session.insert(
                &state,
                crate::identity::second_step::AUTH_AT,
                &uslugi_core::now_ms(),
            );
            let mut resp = (
                StatusCode::CREATED,
                Json(serde_json::json!({ "account_id": id })),
            )
                .into_response();
            crate::device::after_sign_in(&state, &headers, id, &mut resp).await;
            Ok(resp)
        }
        Err(LoginError::Blocked) => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "Учётная запись заблокирована. Чтобы разблокировать её, восстановите доступ",
        )),
        Err(LoginError::Invalid) => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            crate::identity::login::INVALID,
        )),
        Err(LoginError::Throttled { retry_after_secs }) => Err(Problem::too_many(
            retry_after_secs,
            "Слишком много неудачных попыток входа. Попробуйте позже",
        )),
        Err(e) => Err(Problem::internal(e)),
    }
}

/// `DELETE /api/v1/sessions/current` — anyone: signs out.
pub async fn delete(session: Session) -> StatusCode {
    session.destroy();
    StatusCode::NO_CONTENT
}
