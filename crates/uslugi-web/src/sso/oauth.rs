//! Single sign-on for other services: `/oauth2/authorize` (sign-in, the level check, the consent
//! screen), `/oauth2/token`, `/oauth2/userinfo`.
//!
//! Going back to a service after a form (sign-in, consent) is a page with a link and an instant
//! refresh, not a redirect: the portal's CSP limits where forms may lead (`form-action 'self'`),
//! and browsers apply that to the redirects after a form too.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form,
    extract::{Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::Deserialize;
use uslugi_core::sso::oidc::flow::{
    self, AuthorizeError, AuthorizeRequest, ClientAuth, TokenError,
};

use crate::{
    AppError, AppState,
    context::ctx,
    layout::signed_in_layout,
    layout::{Layout, render},
    session::Session,
};

/// Session key of the authorization request waiting for sign-in and consent.
pub const REQUEST: &str = "oidc_request";

/// What each scope shares, in the consent screen's words.
pub(crate) fn scope_label(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "profile" => "ФИО, дата рождения, пол",
        "fullname" => "ФИО",
        "birthdate" => "Дата рождения",
        "birthplace" => "Место рождения",
        "gender" => "Пол",
        "snils" => "СНИЛС",
        "inn" => "ИНН",
        "id_doc" => "Паспорт",
        "email" => "Адрес электронной почты",
        "phone" | "mobile" => "Номер мобильного телефона",
        "contacts" => "Телефон и электронная почта",
        "addresses" => "Адреса",
        _ => return None,
    })
}

#[derive(Debug, Template)]
#[template(path = "oauth/message.html")]
pub(crate) struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
    link: Option<(String, String)>,
}

pub(crate) fn message(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Result<Response, AppError> {
    let page = MessagePage {
        layout: Layout::new(state, heading),
        heading: heading.into(),
        text: text.into(),
        link: None,
    };
    Ok((status, Html(render(&page)?)).into_response())
}

#[derive(Debug, Template)]
#[template(path = "oauth/return.html")]
struct ReturnPage {
    layout: Layout,
    client_name: String,
    url: String,
}

pub(crate) fn back_to_service(
    state: &AppState,
    client_name: &str,
    url: String,
) -> Result<Response, AppError> {
    let page = ReturnPage {
        layout: Layout::new(state, "Возвращаем вас в сервис"),
        client_name: client_name.into(),
        url,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /oauth2/authorize` — anyone, sent by a registered service.
pub async fn authorize(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let req = match flow::check_request(ctx(&state), &params).await {
        Ok(r) => r,
        Err(AuthorizeError::BadClient) => {
            return message(
                &state,
                StatusCode::BAD_REQUEST,
                "Ошибка входа через сервис",
                "Сервис, который отправил вас сюда, не зарегистрирован на портале или указал неверный адрес возврата. Вернитесь в сервис и попробуйте ещё раз или сообщите ему об ошибке.",
            );
        }
        Err(AuthorizeError::Redirect {
            error,
            description,
            redirect_uri,
            state: st,
        }) => {
            let to = flow::redirect_with(
                &redirect_uri,
                &[
                    ("error", Some(error)),
                    ("error_description", Some(description.as_str())),
                    ("state", st.as_deref()),
                ],
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Err(AuthorizeError::Store(e)) => return Err(e.into()),
    };
    // prompt=none: nothing may be shown; a signed-out person is the client's to handle.
    if req.prompt_none && session.account_id().is_none() {
        return Ok(refuse_silently(&req, "login_required"));
    }
    session.insert(&state, REQUEST, &req);
    // Not signed in: the request waits in the session while the person signs in.
    if session.account_id().is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    proceed(&state, &session, req, false).await
}

/// The client's answer to a `prompt=none` request that would need the person (Core §3.1.2.6).
fn refuse_silently(req: &AuthorizeRequest, error: &str) -> Response {
    let to = flow::redirect_with(
        &req.redirect_uri,
        &[("error", Some(error)), ("state", req.state.as_deref())],
    );
    Redirect::to(&to).into_response()
}

/// `GET /oauth2/authorize/continue` — the person, after signing in.
pub async fn resume(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let Some(req) = session.get::<AuthorizeRequest>(REQUEST) else {
        return Ok(Redirect::to("/cabinet").into_response());
    };
    if session.account_id().is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    proceed(&state, &session, req, true).await
}

#[derive(Debug, Template)]
#[template(path = "oauth/consent.html")]
struct ConsentPage {
    layout: Layout,
    csrf_token: String,
    /// Names the request the page shows, so that the answer applies to it and to no other.
    request: String,
    client_name: String,
    items: Vec<&'static str>,
}

/// A keyed digest of an authorization request: the consent form carries it back, and an answer
/// for another request than the one in the session (another tab started a new one meanwhile)
/// is not applied to it.
fn request_digest(state: &AppState, req: &AuthorizeRequest) -> String {
    let json = serde_json::to_string(req).unwrap_or_default();
    state.keys.blind_index().compute("consent-request", &json)
}

pub(crate) async fn proceed(
    state: &AppState,
    session: &Session,
    req: AuthorizeRequest,
    after_form: bool,
) -> Result<Response, AppError> {
    let Some(account_id) = session.account_id() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let account = uslugi_core::identity::accounts::load(&state.db, &state.keys, account_id)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    if !flow::level_enough(account.level, &req.min_level) {
        session.remove(REQUEST);
        let page = MessagePage {
            layout: signed_in_layout(state, session, "Нужна учётная запись другого уровня"),
            heading: "Нужна учётная запись другого уровня".into(),
            text: format!(
                "Сервис «{}» работает с учётными записями не ниже уровня «{}», а у вашей уровень «{}». Чтобы повысить уровень до стандартного, укажите в личном кабинете паспорт и СНИЛС — мы проверим их в МВД и Социальном фонде России.",
                req.client_name,
                req.min_level
                    .parse::<uslugi_domain::AccountLevel>()
                    .map(|l| l.label())
                    .unwrap_or("стандартная"),
                account.level.label()
            ),
            link: Some(("/profile/personal".into(), "Заполнить личные данные".into())),
        };
        if req.prompt_none {
            session.remove(REQUEST);
            return Ok(refuse_silently(&req, "interaction_required"));
        }
        return Ok((StatusCode::FORBIDDEN, Html(render(&page)?)).into_response());
    }
    let granted = flow::granted_scopes(&state.db, account_id, &req.client_id).await?;
    if granted.is_some_and(|g| flow::consent_covers(&g, &req.scopes)) {
        let auth_time = session.signed_in_at().unwrap_or_else(uslugi_core::now_ms);
        let url = flow::issue_code(
            ctx(state),
            &req,
            account_id,
            account.level,
            auth_time,
            false,
        )
        .await
        .map_err(AppError::internal)?;
        session.remove(REQUEST);
        return if after_form {
            back_to_service(state, &req.client_name, url)
        } else {
            Ok(Redirect::to(&url).into_response())
        };
    }
    if req.prompt_none {
        session.remove(REQUEST);
        return Ok(refuse_silently(&req, "consent_required"));
    }
    let mut items: Vec<&'static str> = req.scopes.iter().filter_map(|s| scope_label(s)).collect();
    items.dedup();
    let page = ConsentPage {
        layout: signed_in_layout(state, session, "Доступ к данным"),
        csrf_token: session.csrf_token(state),
        request: request_digest(state, &req),
        client_name: req.client_name,
        items,
    };
    Ok(Html(render(&page)?).into_response())
}

/// The person's decision.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConsentForm {
    decision: String,
    request: String,
}

/// `POST /oauth2/authorize/consent` — the signed-in person: «Разрешить» or «Отказать».
pub async fn consent(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<ConsentForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (Some(account_id), Some(req)) = (
        session.account_id(),
        session.get::<AuthorizeRequest>(REQUEST),
    ) else {
        return Ok(Redirect::to("/cabinet").into_response());
    };
    if form.request != request_digest(&state, &req) {
        // The page answered was for another request: show the one under way instead.
        return Ok(Redirect::to("/oauth2/authorize/continue").into_response());
    }
    session.remove(REQUEST);
    if form.decision != "allow" {
        let description = if req.esia {
            uslugi_core::sso::esia::DENIED.to_string()
        } else {
            "the person refused".to_owned()
        };
        let url = flow::redirect_with(
            &req.redirect_uri,
            &[
                ("error", Some("access_denied")),
                ("error_description", Some(description.as_str())),
                ("state", req.state.as_deref()),
            ],
        );
        return back_to_service(&state, &req.client_name, url);
    }
    let auth_time = session.signed_in_at().unwrap_or_else(uslugi_core::now_ms);
    let level = uslugi_core::identity::accounts::load(&state.db, &state.keys, account_id)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?
        .level;
    let url = flow::issue_code(ctx(&state), &req, account_id, level, auth_time, true)
        .await
        .map_err(AppError::internal)?;
    back_to_service(&state, &req.client_name, url)
}

fn token_error(e: TokenError) -> Response {
    let status = match e {
        TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
        TokenError::Internal(ref why) => {
            tracing::error!(error = %why, "token endpoint failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut resp = no_store(
        (
            status,
            axum::Json(
                serde_json::json!({ "error": e.code(), "error_description": e.to_string() }),
            ),
        )
            .into_response(),
    );
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"uslugi\""),
        );
    }
    resp
}

fn form_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
        .ok()
        .and_then(|v| v.into_iter().next().map(|(_, v)| v))
        .unwrap_or_default()
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded parts) or the
/// form.
fn client_auth(headers: &HeaderMap, form: &HashMap<String, String>) -> ClientAuth {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(i, p)| (form_decode(i), form_decode(p)))
        });
    let assertion = form.get("client_assertion").cloned();
    let assertion_type = form.get("client_assertion_type").cloned();
    match basic {
        Some((id, secret)) => ClientAuth {
            client_id: Some(id),
            client_secret: Some(secret),
            assertion,
            assertion_type,
        },
        None => ClientAuth {
            client_id: form.get("client_id").cloned(),
            client_secret: form.get("client_secret").cloned(),
            assertion,
            assertion_type,
        },
    }
}

/// The form of a server-to-server endpoint, or the RFC error for a body that is not one.
#[expect(clippy::result_large_err, reason = "the error is the response itself")]
fn server_form(
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Response> {
    form.map(|Form(f)| f).map_err(|_| {
        token_error(TokenError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded".into(),
        ))
    })
}

/// `Cache-Control: no-store`, for answers that carry or concern tokens.
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The client's credentials and the `token` of a revocation or introspection request.
#[expect(clippy::result_large_err, reason = "the error is the response itself")]
fn about_token(
    headers: &HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<(ClientAuth, String), Response> {
    let form = server_form(form)?;
    let token = form
        .get("token")
        .cloned()
        .ok_or_else(|| token_error(TokenError::InvalidRequest("token is missing".into())))?;
    Ok((client_auth(headers, &form), token))
}

/// `POST /oauth2/revoke` (RFC 7009) — registered services, for their own tokens.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (auth, token) = match about_token(&headers, form) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match uslugi_core::sso::oidc::tokens::revoke(ctx(&state), &auth, &token).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => token_error(e),
    }
}

/// `POST /oauth2/introspect` (RFC 7662) — registered services, for their own tokens.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (auth, token) = match about_token(&headers, form) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match uslugi_core::sso::oidc::tokens::introspect(ctx(&state), &auth, &token).await {
        Ok(v) => no_store(axum::Json(v).into_response()),
        Err(e) => token_error(e),
    }
}

/// `POST /oauth2/token` — registered services.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match server_form(form) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let auth = client_auth(&headers, &form);
    let result = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = form.get("code") else {
                return token_error(TokenError::InvalidRequest("code is missing".into()));
            };
            flow::exchange_code(
                ctx(&state),
                &state.tokens,
                &auth,
                code,
                form.get("redirect_uri").map(String::as_str),
                form.get("code_verifier").map(String::as_str),
            )
            .await
        }
        Some("refresh_token") => {
            let Some(token) = form.get("refresh_token") else {
                return token_error(TokenError::InvalidRequest(
                    "refresh_token is missing".into(),
                ));
            };
            flow::refresh(
                ctx(&state),
                &state.tokens,
                &auth,
                token,
                form.get("scope").map(String::as_str),
            )
            .await
        }
        Some("client_credentials") => {
            uslugi_core::sso::oidc::tokens::client_credentials(
                ctx(&state),
                &auth,
                form.get("scope").map(String::as_str),
            )
            .await
        }
        Some(_) => Err(TokenError::UnsupportedGrantType),
        None => Err(TokenError::InvalidRequest("grant_type is missing".into())),
    };
    match result {
        Ok(tokens) => no_store(axum::Json(tokens).into_response()),
        Err(e) => token_error(e),
    }
}

/// `GET|POST /oauth2/userinfo` — a bearer token, in the `Authorization` header or (RFC 6750
/// §2.2) as `access_token` in a form body.
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = is_form
        .then(|| {
            serde_urlencoded::from_bytes::<HashMap<String, String>>(&body)
                .ok()
                .and_then(|mut f| f.remove("access_token"))
        })
        .flatten();
    // A protocol endpoint: the answer is for a program (RFC 6750 §3), never the HTML error page.
    let unauthorized = |error: &str| {
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": error })),
        )
            .into_response();
        if let Ok(v) = header::HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    };
    let bearer = match (from_header, from_body) {
        // Two ways at once is an invalid request (RFC 6750 §2).
        (Some(_), Some(_)) => return unauthorized("invalid_request"),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => String::new(),
    };
    let bearer = bearer.as_str();
    if bearer.is_empty() {
        // No credentials at all: the challenge without an error code (RFC 6750 §3.1).
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error_description": "access token required" })),
        )
            .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return resp;
    }
    match flow::userinfo(ctx(&state), bearer).await {
        Ok(claims) => axum::Json(claims).into_response(),
        Err(TokenError::Internal(why)) => {
            tracing::error!(error = %why, "userinfo failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => unauthorized("invalid_token"),
    }
}
