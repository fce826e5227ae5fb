//! `/oauth2/logout`: a service ends the person's portal session too (RP-initiated logout). With a
//! valid `id_token_hint` for the signed-in person it happens at once; otherwise the person is
//! asked, so that a foreign page cannot sign anyone out.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form,
    extract::{Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use uslugi_core::sso::oidc::logout::{self, LogoutError, LogoutRequest};

use crate::{
    AppError, AppState,
    context::ctx,
    layout::render,
    layout::signed_in_layout,
    session::Session,
    sso::oauth::{back_to_service, message},
};

/// The parameters carried from the question to the answer.
const CARRIED: &[&str] = &[
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
];

#[derive(Debug, Template)]
#[template(path = "oauth/logout.html")]
struct ConfirmPage {
    layout: crate::layout::Layout,
    csrf_token: String,
    client_name: Option<String>,
    hidden: Vec<(String, String)>,
}

async fn checked(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<Result<LogoutRequest, Response>, AppError> {
    match logout::check(ctx(state), params).await {
        Ok(req) => Ok(Ok(req)),
        Err(LogoutError::Store(e)) => Err(e.into()),
        Err(_) => message(
            state,
            StatusCode::BAD_REQUEST,
            "Ошибка выхода через сервис",
            "Сервис, который отправил вас сюда, указал неверные данные для выхода. Чтобы выйти из портала, нажмите «Выйти» в шапке страницы.",
        )
        .map(Err),
    }
}

/// Where the person lands once signed out.
fn after(state: &AppState, req: &LogoutRequest, after_form: bool) -> Result<Response, AppError> {
    match (&req.redirect, after_form) {
        (Some(url), false) => Ok(Redirect::to(url).into_response()),
        (Some(url), true) => {
            let name = req.client.as_ref().map(|c| c.name.as_str()).unwrap_or("");
            back_to_service(state, name, url.clone())
        }
        (None, _) => message(
            state,
            StatusCode::OK,
            "Вы вышли из портала",
            "Сеанс на портале завершён. Чтобы снова воспользоваться услугами, войдите заново.",
        ),
    }
}

/// `GET /oauth2/logout` — anyone, sent by a service.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let req = match checked(&state, &params).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let Some(account_id) = session.account_id() else {
        return after(&state, &req, false);
    };
    if logout::hint_names(ctx(&state), &req, account_id) {
        session.destroy();
        return after(&state, &req, false);
    }
    let page = ConfirmPage {
        layout: signed_in_layout(&state, &session, "Выйти из портала?"),
        csrf_token: session.csrf_token(&state),
        client_name: req.client.as_ref().map(|c| c.name.clone()),
        hidden: CARRIED
            .iter()
            .filter_map(|k| params.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /oauth2/logout` — the signed-in person confirms.
pub async fn post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(params) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let req = match checked(&state, &params).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    session.destroy();
    after(&state, &req, true)
}
