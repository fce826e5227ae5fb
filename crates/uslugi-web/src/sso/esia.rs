//! ESIA-compatible endpoints: `/aas/oauth2/ac`, `/aas/oauth2/v2/ac` (the person signs in and
//! consents as with `/oauth2/authorize`), `/aas/oauth2/te`, `/aas/oauth2/v3/te`, the person API
//! `/rs/prns/{oid}[/ctts|/addrs|/docs]` and `/idp/ext/Logout`.

use std::collections::HashMap;

use axum::{
    Form, Json,
    extract::{ConnectInfo, Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use uslugi_core::{
    sso::esia::{self, AcError, Version, person},
    sso::oidc::flow,
};

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    session::Session,
    sso::oauth::{REQUEST, message, no_store, proceed},
};

async fn ac(
    state: &AppState,
    session: &Session,
    params: &HashMap<String, String>,
    version: Version,
    client_ip: &str,
) -> Result<Response, AppError> {
    match esia::check_ac(ctx(state), params, version, client_ip).await {
        Ok(req) => {
            session.insert(state, REQUEST, &req);
            if session.account_id().is_none() {
                return Ok(Redirect::to("/login").into_response());
            }
            proceed(state, session, req, false).await
        }
        Err(AcError::Page(e)) => message(
            state,
            StatusCode::BAD_REQUEST,
            "Ошибка входа через сервис",
            &format!(
                "Сервис, который отправил вас сюда, не зарегистрирован на портале или указал неверные данные. Вернитесь в сервис и попробуйте ещё раз или сообщите ему об ошибке (код ESIA-{}).",
                e.code
            ),
        ),
        Err(AcError::Redirect {
            error,
            redirect_uri,
            state: st,
        }) => {
            let description = error.to_string();
            Ok(Redirect::to(&flow::redirect_with(
                &redirect_uri,
                &[
                    ("error", Some(error.error)),
                    ("error_description", Some(description.as_str())),
                    ("state", st.as_deref()),
                ],
            ))
            .into_response())
        }
    }
}

/// `GET /aas/oauth2/ac` — anyone, sent by a service (legacy ESIA signature).
pub async fn ac_legacy(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let ip = client_ip(&state, peer, &headers);
    ac(&state, &session, &params, Version::Legacy, &ip).await
}

/// `GET /aas/oauth2/v2/ac` — anyone, sent by a service (current ESIA signature).
pub async fn ac_current(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let ip = client_ip(&state, peer, &headers);
    ac(&state, &session, &params, Version::Current, &ip).await
}

async fn te(
    state: &AppState,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
    version: Version,
    client_ip: &str,
) -> Response {
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let result = esia::token(ctx(state), &state.tokens, &form, version, client_ip).await;
    let resp = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => {
            let status = match e.error {
                "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
                "temporarily_unavailable" => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            };
            (
                status,
                Json(serde_json::json!({
                    "error": e.error,
                    "error_description": e.to_string(),
                    "state": form.get("state"),
                })),
            )
                .into_response()
        }
    };
    no_store(resp)
}

/// `POST /aas/oauth2/te` — registered services (legacy signature).
pub async fn te_legacy(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let ip = client_ip(&state, peer, &headers);
    te(&state, form, Version::Legacy, &ip).await
}

/// `POST /aas/oauth2/v3/te` — registered services (current signature).
pub async fn te_current(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let ip = client_ip(&state, peer, &headers);
    te(&state, form, Version::Current, &ip).await
}

async fn prns(
    state: &AppState,
    headers: &HeaderMap,
    oid: &str,
    part: person::Part,
    query: &HashMap<String, String>,
) -> Response {
    let embed = query.get("embed").is_some_and(|e| e.contains("elements"));
    match person::read(ctx(state), bearer_of(headers), oid, part, embed).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => person_error(e),
    }
}

fn bearer_of(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
}

fn part_of(name: &str) -> Option<person::Part> {
    match name {
        "ctts" => Some(person::Part::Contacts),
        "addrs" => Some(person::Part::Addresses),
        "docs" => Some(person::Part::Documents),
        _ => None,
    }
}

fn person_error(e: person::PersonError) -> Response {
    match e {
        person::PersonError::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            Json(serde_json::json!({ "code": "ESIA-005001", "message": "Маркер доступа недействителен" })),
        )
            .into_response(),
        person::PersonError::Forbidden => (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "code": "ESIA-005011", "message": "Нет доступа к запрошенным данным" })),
        )
            .into_response(),
        person::PersonError::Internal(why) => {
            tracing::error!(error = %why, "person API failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /rs/prns/{oid}` — a bearer token of that person.
pub async fn person_root(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(oid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    prns(&state, &headers, &oid, person::Part::Root, &q).await
}

/// `GET /rs/prns/{oid}/{part}` — `ctts`, `addrs` or `docs`.
pub async fn person_part(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((oid, part)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(part) = part_of(&part) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    prns(&state, &headers, &oid, part, &q).await
}

/// `GET /rs/prns/{oid}/{part}/{id}` — one element of a collection.
pub async fn person_element(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((oid, part, id)): Path<(String, String, String)>,
) -> Response {
    let (Some(part), Ok(id)) = (part_of(&part), id.parse::<u64>()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let bearer = bearer_of(&headers);
    match person::element(ctx(&state), bearer, &oid, part, id).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => person_error(e),
    }
}

/// `GET /idp/ext/Logout?client_id=…&redirect_url=…` — ESIA's logout, through the portal's own:
/// the person is asked before the session ends (the request carries no proof of who sent it),
/// then goes back to the service's registered address.
pub async fn logout(Query(q): Query<HashMap<String, String>>) -> Response {
    Redirect::to(&flow::redirect_with(
        "/oauth2/logout",
        &[
            ("client_id", q.get("client_id").map(String::as_str)),
            (
                "post_logout_redirect_uri",
                q.get("redirect_url").map(String::as_str),
            ),
        ],
    ))
    .into_response()
}
