//! Server-side sessions kept in the database.
//!
//! The cookie holds 32 random bytes; the table holds their SHA-256, so a copy of the table does
//! not hand out live sessions. A visitor gets a session only when a page needs one (a form's CSRF
//! token, a signed-in person), so plain page views write nothing. The id is rotated whenever the
//! privilege changes ([`Session::set_account`]), and sessions end after the idle and the absolute
//! timeouts from the configuration.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, header, request::Parts},
    middleware::Next,
    response::IntoResponse,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use uslugi_core::{identity::sessions, now_ms};
use uuid::Uuid;

use crate::{AppError, AppState};

/// Touch `last_seen_at` at most this often, so reading pages does not write on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Default)]
struct State_ {
    /// Hash of the cookie value the request came with (a stored session).
    loaded_hash: Option<String>,
    /// A new cookie value to hand out (new session or rotation).
    new_token: Option<String>,
    account_id: Option<Uuid>,
    csrf_token: Option<String>,
    data: serde_json::Map<String, serde_json::Value>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    dirty: bool,
    destroyed: bool,
    /// Device and address of this request, JSON, stored (encrypted) with a new session id.
    /// What `client_info` is made of, kept raw: it is encoded only when a new session id is
    /// stored, not on every request.
    client: (Option<HeaderValue>, Option<std::net::IpAddr>),
}

/// The request's session; an extractor for handlers.
#[derive(Debug, Clone)]
pub struct Session(Arc<Mutex<State_>>);

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS random source failing is not recoverable; a fixed token would be a vulnerability.
    #[expect(
        clippy::expect_used,
        reason = "no safe fallback exists for a missing RNG"
    )]
    getrandom::fill(&mut b).expect("operating system random source");
    URL_SAFE_NO_PAD.encode(b)
}

fn hash_token(token: &str) -> String {
    uslugi_core::kernel::crypto::hex(&Sha256::digest(token.as_bytes()))
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, State_> {
        // A poisoned lock only means another handler panicked mid-update; the data is plain.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ensure_started(s: &mut State_, absolute_ms: i64) {
        if s.loaded_hash.is_none() && s.new_token.is_none() {
            let now = now_ms();
            s.new_token = Some(random_token());
            s.csrf_token = Some(random_token());
            s.created_at = now;
            s.last_seen_at = now;
            s.expires_at = now + absolute_ms;
            s.dirty = true;
            s.destroyed = false;
        }
    }

    /// The CSRF token for forms, starting a session if there is none.
    pub fn csrf_token(&self, state: &AppState) -> String {
        let mut s = self.lock();
        Session::ensure_started(&mut s, absolute_ms(state));
        if s.csrf_token.is_none() {
            s.csrf_token = Some(random_token());
            s.dirty = true;
        }
        s.csrf_token.clone().unwrap_or_default()
    }

    /// The CSRF token if a session exists (no session is started).
    pub fn existing_csrf_token(&self) -> Option<String> {
        let s = self.lock();
        if s.destroyed {
            None
        } else {
            s.csrf_token.clone()
        }
    }

    /// The signed-in account, if any.
    pub fn account_id(&self) -> Option<Uuid> {
        let s = self.lock();
        if s.destroyed { None } else { s.account_id }
    }

    /// When the signed-in account authenticated in this session (every sign-in, registration,
    /// recovery and password change starts a new session id at that moment): the `auth_time` a
    /// relying party is told.
    pub fn signed_in_at(&self) -> Option<i64> {
        let s = self.lock();
        (!s.destroyed && s.account_id.is_some()).then_some(s.created_at)
    }

    /// Signs an account in or out. The session id and the CSRF token are replaced, so a session
    /// id planted before sign-in is worthless afterwards (no fixation).
    pub fn set_account(&self, state: &AppState, account_id: Option<Uuid>) {
        let mut s = self.lock();
        Session::ensure_started(&mut s, absolute_ms(state));
        s.new_token = Some(random_token());
        s.csrf_token = Some(random_token());
        s.account_id = account_id;
        let now = now_ms();
        s.created_at = now;
        s.expires_at = now + absolute_ms(state);
        s.dirty = true;
    }

    /// Reads a value stored in the session.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let s = self.lock();
        s.data
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores a value in the session (starting one if needed).
    pub fn insert<T: serde::Serialize>(&self, state: &AppState, key: &str, value: &T) {
        let mut s = self.lock();
        Session::ensure_started(&mut s, absolute_ms(state));
        if let Ok(v) = serde_json::to_value(value) {
            s.data.insert(key.to_owned(), v);
            s.dirty = true;
        }
    }

    /// Removes a value from the session.
    pub fn remove(&self, key: &str) {
        let mut s = self.lock();
        if s.data.remove(key).is_some() {
            s.dirty = true;
        }
    }

    /// The stored id (hash) of the session this request came with.
    pub fn current_hash(&self) -> Option<String> {
        self.lock().loaded_hash.clone()
    }

    /// Ends the session (logout).
    pub fn destroy(&self) {
        let mut s = self.lock();
        s.destroyed = true;
    }
}

fn absolute_ms(state: &AppState) -> i64 {
    state.config.web.session_absolute_hours * 3_600_000
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::Internal("session middleware is not installed".into()))
    }
}

/// The cookie name: the `__Host-` prefix (Secure, Path=/, no Domain) needs TLS.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.serves_tls() {
        "__Host-uslugi_session"
    } else {
        "uslugi_session"
    }
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Paths that never need a session: no cookie is read and nothing is written.
fn sessionless(path: &str) -> bool {
    path.starts_with("/assets/")
        || path.starts_with("/rs/")
        || matches!(
            path,
            "/healthz"
                | "/readyz"
                | "/metrics"
                | "/.well-known/openid-configuration"
                | "/oauth2/jwks"
                | "/oauth2/token"
                | "/oauth2/revoke"
                | "/oauth2/introspect"
                | "/aas/oauth2/te"
                | "/aas/oauth2/v3/te"
                | "/oauth2/userinfo"
        )
}

/// Middleware: loads the session before the handler and saves it after.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if sessionless(req.uri().path()) {
        return next.run(req).await;
    }
    let name = cookie_name(&state);
    let now = now_ms();
    let idle_ms = state.config.web.session_idle_minutes * 60_000;
    let mut st = State_::default();
    let mut clear_cookie = false;
    if let Some(token) = read_cookie(req.headers(), name) {
        let hash = hash_token(&token);
        // The read pool: a session is read on every signed-in request, and reading it decides
        // nothing that a concurrent write could make wrong (a session ended meanwhile is gone
        // from the writer's next update, which reports it).
        match sessions::find_live(&state.reader, &hash, now).await {
            Ok(Some(row)) if row.last_seen_at + idle_ms > now => {
                st.loaded_hash = Some(hash);
                st.account_id = row.account_id;
                st.csrf_token = Some(row.csrf_token);
                st.data = serde_json::from_str(&row.data).unwrap_or_default();
                st.created_at = row.created_at;
                st.last_seen_at = row.last_seen_at;
                st.expires_at = row.expires_at;
            }
            Ok(Some(_)) => {
                // Idle for too long: end it now rather than waiting for the purge.
                if let Err(e) = sessions::delete(&state.db, &hash).await {
                    tracing::warn!(error = %e, "cannot delete idle session");
                }
                clear_cookie = true;
            }
            Ok(None) => clear_cookie = true,
            // Carrying on as anonymous would replace the person's cookie and sign them out.
            Err(e) => return AppError::internal(e).into_response(),
        }
    }
    st.client = (
        req.headers().get(header::USER_AGENT).cloned(),
        req.extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip()),
    );
    let session = Session(Arc::new(Mutex::new(st)));
    req.extensions_mut().insert(session.clone());
    let mut resp = next.run(req).await;

    let (cookie, persist) = {
        let mut s = session.lock();
        let now = now_ms();
        if s.destroyed {
            (
                Some(expired_cookie(&state)),
                Persist::Delete(s.loaded_hash.take()),
            )
        } else if let Some(token) = s.new_token.clone() {
            let mut row = to_row(&s, hash_token(&token), now);
            row.client_info = state
                .keys
                .cipher()
                .encrypt(CLIENT_PURPOSE, &client_json(&s.client))
                .ok();
            (
                Some(session_cookie(&state, &token)),
                Persist::Replace(s.loaded_hash.take(), row),
            )
        } else if let Some(hash) = s.loaded_hash.clone() {
            if s.dirty {
                (None, Persist::Update(to_row(&s, hash, now)))
            } else if now - s.last_seen_at > TOUCH_EVERY_MS {
                (None, Persist::Touch(hash, now))
            } else {
                (None, Persist::Nothing)
            }
        } else if clear_cookie {
            (Some(expired_cookie(&state)), Persist::Nothing)
        } else {
            (None, Persist::Nothing)
        }
    };
    // Spawned so that a client hanging up or the request timeout cannot cancel it halfway, e.g.
    // between deleting the old row and inserting the rotated one.
    let outcome = if matches!(persist, Persist::Nothing) {
        Ok(Ok(true))
    } else {
        let db = state.db.clone();
        tokio::spawn(async move { persist.run(&db).await }).await
    };
    let cookie = match outcome {
        Ok(Ok(true)) => cookie,
        // The row was gone: the session ended meanwhile (logout elsewhere, password change).
        Ok(Ok(false)) => Some(expired_cookie(&state)),
        Ok(Err(e)) => return AppError::internal(e).into_response(),
        Err(e) => return AppError::internal(e).into_response(),
    };
    if let Some(cookie) = cookie
        && let Ok(v) = HeaderValue::from_str(&cookie)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    // The error-page middleware outside this one renders the header from it.
    resp.extensions_mut().insert(session);
    resp
}

enum Persist {
    Nothing,
    Touch(String, i64),
    Update(sessions::SessionRow),
    Delete(Option<String>),
    Replace(Option<String>, sessions::SessionRow),
}

impl Persist {
    /// Writes the change; `Ok(false)` when the session no longer exists.
    async fn run(self, db: &uslugi_core::Db) -> Result<bool, uslugi_core::StoreError> {
        match self {
            Persist::Nothing => Ok(true),
            Persist::Touch(hash, now) => sessions::touch(db, &hash, now).await,
            Persist::Update(row) => sessions::update(db, row).await,
            Persist::Delete(old) => {
                if let Some(h) = old {
                    sessions::delete(db, &h).await?;
                }
                Ok(true)
            }
            Persist::Replace(old, row) => {
                sessions::replace(db, old.as_deref(), row).await?;
                Ok(true)
            }
        }
    }
}

/// Cipher purpose of `sessions.client_info`.
pub const CLIENT_PURPOSE: &str = uslugi_core::identity::security::CLIENT_PURPOSE;

fn client_json((ua, ip): &(Option<HeaderValue>, Option<std::net::IpAddr>)) -> String {
    let ua: String = ua
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    serde_json::json!({ "ua": ua, "ip": ip }).to_string()
}

fn to_row(s: &State_, id: String, now: i64) -> sessions::SessionRow {
    sessions::SessionRow {
        id,
        account_id: s.account_id,
        csrf_token: s.csrf_token.clone().unwrap_or_default(),
        data: serde_json::Value::Object(s.data.clone()).to_string(),
        created_at: s.created_at,
        updated_at: now,
        last_seen_at: now,
        expires_at: s.expires_at,
        client_info: None,
    }
}

fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.serves_tls() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(state)
    )
}

fn expired_cookie(state: &AppState) -> String {
    let secure = if state.config.serves_tls() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(state)
    )
}
