//! The authorization-code flow: checking an authorization request, the code (single use, 60 s,
//! bound to the client, the redirect URI and the PKCE challenge), the token exchange with an
//! ID token, and the userinfo claims by scope.

use std::collections::HashMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uslugi_domain::AccountLevel;
use uslugi_store::{now_ms, sso::oidc as store};
use uuid::Uuid;

use super::{
    batch::{Claim, Claimed, Issue, TokenWriter},
    format::{Prepared, Presented, TokenFormat},
};
use crate::{
    identity::accounts::{self, Contact},
    identity::profile::{self, ProfileState},
    identity::registration::Ctx,
};

/// A code is valid this long.
pub const CODE_TTL_MS: i64 = 60_000;
/// Refresh tokens live this long.
pub const REFRESH_TTL_MS: i64 = 30 * 86_400_000;

/// A checked authorization request, kept in the session while the person signs in and consents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: String,
    /// The service's name.
    pub client_name: String,
    /// Exactly as registered.
    pub redirect_uri: String,
    /// Asked scopes (known ones, allowed for the client).
    pub scopes: Vec<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Into the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Lowest level the client accepts.
    pub min_level: String,
    /// Came through the ESIA-compatible endpoints: refusals use ESIA's wording.
    #[serde(default)]
    pub esia: bool,
    /// A refresh token may be issued (ESIA's `access_type=offline`; always for OpenID Connect).
    #[serde(default = "yes")]
    pub offline: bool,
    /// `prompt=none`: nothing may be shown to the person; the client is told instead
    /// (`login_required`, `consent_required`).
    #[serde(default)]
    pub prompt_none: bool,
}

fn yes() -> bool {
    true
}

/// Why an authorization request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// Unknown client or a redirect URI not registered: shown on a page, never redirected to.
    #[error("unknown client or redirect URI")]
    BadClient,
    /// Sent back to the client's redirect URI with an RFC 6749 error code.
    #[error("{error}: {description}")]
    Redirect {
        /// `invalid_request`, `invalid_scope`, `unsupported_response_type`, …
        error: &'static str,
        /// Human description.
        description: String,
        /// Where to send it.
        redirect_uri: String,
        /// The request's state.
        state: Option<String>,
    },
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
}

/// Checks `/oauth2/authorize` parameters.
pub async fn check_request(
    ctx: Ctx<'_>,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or(AuthorizeError::BadClient)?;
    let client = store::find_client(ctx.db, client_id)
        .await?
        // An ESIA client proves itself with signed requests at `/aas/oauth2/…` only.
        .filter(|c| c.certificate.is_none())
        .ok_or(AuthorizeError::BadClient)?;
    let registered: Vec<String> = serde_json::from_str(&client.redirect_uris).unwrap_or_default();
    // Compared exactly, character for character (no prefix or pattern matching).
    let redirect_uri = match get("redirect_uri") {
        Some(u) if registered.iter().any(|r| r == u) => u.to_owned(),
        None if registered.len() == 1 => registered[0].clone(),
        _ => return Err(AuthorizeError::BadClient),
    };
    let state = get("state").map(str::to_owned);
    let refuse = |error: &'static str, description: &str| AuthorizeError::Redirect {
        error,
        description: description.to_owned(),
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
    };
    // OpenID Connect Core §6: request objects are not supported, and say so.
    if get("request").is_some() {
        return Err(refuse(
            "request_not_supported",
            "the request parameter is not supported",
        ));
    }
    if get("request_uri").is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "the request_uri parameter is not supported",
        ));
    }
    match get("response_type") {
        None => {
            return Err(refuse("invalid_request", "response_type is required"));
        }
        Some("code") => {}
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    let prompt_none = match get("prompt") {
        None => false,
        Some(p) => {
            let values: Vec<&str> = p.split(' ').filter(|v| !v.is_empty()).collect();
            // Core §3.1.2.1: `none` with any other value is an error.
            if values.contains(&"none") && values.len() > 1 {
                return Err(refuse(
                    "invalid_request",
                    "prompt=none cannot be combined with other values",
                ));
            }
            values == ["none"]
        }
    };
    let allowed: Vec<&str> = client.scopes.split(' ').collect();
    let scopes: Vec<String> = get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the openid scope is required"));
    }
    if let Some(bad) = scopes.iter().find(|s| !allowed.contains(&s.as_str())) {
        return Err(refuse(
            "invalid_scope",
            &format!("scope {bad} is not allowed for this client"),
        ));
    }
    let challenge = get("code_challenge").map(str::to_owned);
    match (challenge.as_deref(), get("code_challenge_method")) {
        (Some(c), Some("S256")) if c.len() == 43 => {}
        (Some(_), _) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge must be S256 (43 characters)",
            ));
        }
        (None, _) if client.public => {
            return Err(refuse(
                "invalid_request",
                "public clients must use PKCE (S256)",
            ));
        }
        (None, _) => {}
    }
    Ok(AuthorizeRequest {
        client_id: client.client_id,
        client_name: client.name,
        redirect_uri,
        scopes,
        state,
        nonce: get("nonce").map(str::to_owned),
        code_challenge: challenge,
        min_level: client.min_level,
        esia: false,
        offline: true,
        prompt_none,
    })
}

/// The scopes the person has consented to for a client, if any («remembered per service»).
pub async fn granted_scopes(
    db: &uslugi_store::Db,
    account_id: Uuid,
    client_id: &str,
) -> Result<Option<String>, uslugi_store::StoreError> {
    store::consent(db, account_id, client_id).await
}

/// Whether the account's level is enough for the client.
pub fn level_enough(account: AccountLevel, min_level: &str) -> bool {
    let min: AccountLevel = min_level.parse().unwrap_or(AccountLevel::Simplified);
    AccountLevel::ALL.iter().position(|l| *l == account)
        >= AccountLevel::ALL.iter().position(|l| *l == min)
}

/// Whether a stored consent covers the asked scopes.
pub fn consent_covers(granted: &str, asked: &[String]) -> bool {
    let granted: Vec<&str> = granted.split(' ').collect();
    asked.iter().all(|s| granted.contains(&s.as_str()))
}

pub(crate) fn random(bytes: usize) -> Result<String, crate::CryptoError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| crate::CryptoError::Invalid(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

pub(crate) fn hash_of(ctx: Ctx<'_>, kind: &str, secret: &str) -> String {
    ctx.keys.blind_index().compute(kind, secret)
}

/// Issues a code for a consented request; returns the redirect URL with `code` and `state`.
pub async fn issue_code(
    ctx: Ctx<'_>,
    req: &AuthorizeRequest,
    account_id: Uuid,
    level: AccountLevel,
    auth_time_ms: i64,
    remember_consent: bool,
) -> Result<String, AuthorizeError> {
    let code = random(32).map_err(|e| uslugi_store::StoreError::Corrupt(e.to_string()))?;
    let now = now_ms();
    let txn = ctx
        .db
        .begin()
        .await
        .map_err(uslugi_store::StoreError::from)?;
    if remember_consent {
        store::grant_consent(&txn, account_id, &req.client_id, &req.scopes.join(" "), now).await?;
    }
    store::insert_code(
        &txn,
        store::CodeRow {
            code_hash: hash_of(ctx, "oauth-code", &code),
            client_id: req.client_id.clone(),
            account_id,
            redirect_uri: req.redirect_uri.clone(),
            scopes: req.scopes.join(" "),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: auth_time_ms,
            expires_at: now + CODE_TTL_MS,
            used_at: None,
            level: level.as_str().to_owned(),
            offline: req.offline,
        },
    )
    .await?;
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    Ok(redirect_with(
        &req.redirect_uri,
        &[
            ("code", Some(code.as_str())),
            ("state", req.state.as_deref()),
        ],
    ))
}

/// `uri` with query parameters added.
pub fn redirect_with(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        if let Some(v) = v {
            out.push(sep);
            out.push_str(k);
            out.push('=');
            out.push_str(&urlencode(v));
            sep = '&';
        }
    }
    out
}

/// `application/x-www-form-urlencoded` for one value (client credentials in Basic
/// authentication are encoded so, RFC 6749 §2.3.1).
pub fn form_encode(s: &str) -> String {
    urlencode(s)
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Token endpoint errors (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// `invalid_request`.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `invalid_client` (401).
    #[error("invalid_client")]
    InvalidClient,
    /// `invalid_grant`.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `unauthorized_client`.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// `invalid_scope`.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// Anything internal.
    #[error("server_error: {0}")]
    Internal(String),
}

impl TokenError {
    /// The RFC error code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnauthorizedClient(_) => "unauthorized_client",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidScope(_) => "invalid_scope",
            TokenError::Internal(_) => "server_error",
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> TokenError {
    TokenError::Internal(e.to_string())
}

pub use super::client_auth::{ClientAuth, authenticate_client};

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    /// Opaque bearer token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    /// Opaque refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The signed ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Granted scopes.
    pub scope: String,
}

/// The `sub` a client sees: the account id, or a pairwise id for pairwise clients.
pub(super) fn subject(ctx: Ctx<'_>, client: &store::ClientRow, account_id: Uuid) -> String {
    if client.pairwise {
        hash_of(
            ctx,
            "pairwise-sub",
            &format!("{}:{account_id}", client.client_id),
        )
    } else {
        account_id.to_string()
    }
}

/// `grant_type=authorization_code`.
pub async fn exchange_code(
    ctx: Ctx<'_>,
    tokens: &TokenWriter,
    auth: &ClientAuth,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<Tokens, TokenError> {
    let client = authenticate_client(ctx, auth).await?;
    exchange_for(
        ctx,
        tokens,
        &client,
        code,
        redirect_uri,
        code_verifier,
        &super::format::Opaque,
    )
    .await
}

/// The checks of a code against the token request: its client, age, redirect URI and PKCE.
fn check_code(
    row: &store::CodeRow,
    client_id: &str,
    now: i64,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), TokenError> {
    if row.client_id != client_id {
        return Err(TokenError::InvalidGrant(
            "the code was issued to another client".into(),
        ));
    }
    if row.expires_at <= now {
        return Err(TokenError::InvalidGrant("the code has expired".into()));
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri does not match".into(),
        ));
    }
    match (&row.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err(TokenError::InvalidGrant(
                    "code_verifier does not match".into(),
                ));
            }
            Ok(())
        }
        (Some(_), None) => Err(TokenError::InvalidGrant("code_verifier is missing".into())),
        (None, Some(_)) => Err(TokenError::InvalidRequest(
            "no PKCE challenge was sent".into(),
        )),
        (None, None) => Ok(()),
    }
}

/// `grant_type=authorization_code` for an already authenticated client.
pub async fn exchange_for(
    ctx: Ctx<'_>,
    tokens: &TokenWriter,
    client: &store::ClientRow,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    format: &dyn TokenFormat,
) -> Result<Tokens, TokenError> {
    let now = now_ms();
    let code_hash = hash_of(ctx, "oauth-code", code);
    // A format that must know whose code it is reads it here; it is still used up (or found
    // used) in the batch below.
    let Prepared {
        access_token: access,
        id_token_claims: extra_claims,
    } = format
        .prepare(
            ctx,
            &client.client_id,
            Presented::Code(&code_hash),
            None,
            now,
        )
        .await?;
    let refresh = random(32).map_err(internal)?;
    let hashes = (
        hash_of(ctx, "oauth-token", &access),
        hash_of(ctx, "oauth-token", &refresh),
    );
    let client_id = client.client_id.clone();
    let redirect_uri = redirect_uri.map(str::to_owned);
    let code_verifier = code_verifier.map(str::to_owned);
    let issue: Issue = Box::new(move |claimed| {
        let Claimed::Code(row) = claimed else {
            return Err(internal("a code request got another claim"));
        };
        check_code(
            row,
            &client_id,
            now,
            redirect_uri.as_deref(),
            code_verifier.as_deref(),
        )?;
        let (access_hash, refresh_hash) = hashes;
        Ok(token_rows(
            Grant {
                client_id: &client_id,
                account_id: row.account_id,
                scopes: &row.scopes,
                family: &row.code_hash,
            },
            access_hash,
            row.offline.then_some(refresh_hash),
            now,
        ))
    });
    let claimed = tokens.claim(Claim::Code(code_hash.clone()), issue).await?;
    let Some(Claimed::Code(row)) = claimed else {
        return match store::find_code(ctx.db, &code_hash)
            .await
            .map_err(internal)?
        {
            // A replayed code: whoever holds it may be an attacker, so everything issued from
            // it goes.
            Some(r) if r.client_id == client.client_id => {
                store::revoke_from_code(ctx.db, &code_hash, now)
                    .await
                    .map_err(internal)?;
                Err(TokenError::InvalidGrant("the code was used already".into()))
            }
            Some(_) => Err(TokenError::InvalidGrant(
                "the code was issued to another client".into(),
            )),
            None => Err(TokenError::InvalidGrant("unknown code".into())),
        };
    };
    let refresh = row.offline.then_some(refresh);
    let ttl = super::TOKEN_TTL_SECS;
    // Each client gets ID tokens in the algorithm it registered with.
    let alg = if client.id_token_alg == "ES256" {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    };
    let key = super::keys::signing_key(ctx.db, ctx.keys, alg)
        .await
        .map_err(internal)?;
    let iat = now / 1000;
    let mut claims = json!({
        "iss": super::issuer(ctx.config),
        "sub": subject(ctx, client, row.account_id),
        "aud": client.client_id,
        "iat": iat,
        "exp": iat + ttl,
        "auth_time": row.auth_time / 1000,
        "level": row.level,
        "at_hash": URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16]),
    });
    if let Some(n) = &row.nonce {
        claims["nonce"] = json!(n);
    }
    for (name, value) in extra_claims {
        claims[name] = value;
    }
    let id_token = key.sign(&claims).map_err(internal)?;
    Ok(Tokens {
        access_token: access,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: refresh,
        id_token: Some(id_token),
        scope: row.scopes,
    })
}

/// Whose tokens: the client, the person, the scopes and the family (the code they descend from).
struct Grant<'a> {
    client_id: &'a str,
    account_id: Uuid,
    scopes: &'a str,
    family: &'a str,
}

/// The rows of a new access token and, given its hash, a refresh token of the same family.
fn token_rows(
    grant: Grant<'_>,
    access_hash: String,
    refresh_hash: Option<String>,
    now: i64,
) -> Vec<store::TokenRow> {
    let Grant {
        client_id,
        account_id,
        scopes,
        family,
    } = grant;
    let access = (access_hash, "access", now + super::TOKEN_TTL_SECS * 1000);
    let refresh = refresh_hash.map(|h| (h, "refresh", now + REFRESH_TTL_MS));
    std::iter::once(access)
        .chain(refresh)
        .map(|(token_hash, kind, expires_at)| store::TokenRow {
            token_hash,
            kind: kind.into(),
            client_id: client_id.to_owned(),
            account_id: Some(account_id),
            scopes: scopes.to_owned(),
            code_hash: Some(family.to_owned()),
            expires_at,
            revoked_at: None,
            created_at: now,
        })
        .collect()
}

/// `grant_type=refresh_token`: the refresh token is replaced by a new one each time (rotation);
/// presenting a replaced one again means it leaked, and the whole family is revoked.
pub async fn refresh(
    ctx: Ctx<'_>,
    tokens: &TokenWriter,
    auth: &ClientAuth,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<Tokens, TokenError> {
    let client = authenticate_client(ctx, auth).await?;
    refresh_for(
        ctx,
        tokens,
        &client,
        refresh_token,
        scope,
        &super::format::Opaque,
    )
    .await
}

/// `grant_type=refresh_token` for an already authenticated client.
pub async fn refresh_for(
    ctx: Ctx<'_>,
    tokens: &TokenWriter,
    client: &store::ClientRow,
    refresh_token: &str,
    scope: Option<&str>,
    format: &dyn TokenFormat,
) -> Result<Tokens, TokenError> {
    let now = now_ms();
    let hash = hash_of(ctx, "oauth-token", refresh_token);
    let access = format
        .prepare(
            ctx,
            &client.client_id,
            Presented::Refresh(&hash),
            scope,
            now,
        )
        .await?
        .access_token;
    let refresh = random(32).map_err(internal)?;
    let hashes = (
        hash_of(ctx, "oauth-token", &access),
        hash_of(ctx, "oauth-token", &refresh),
    );
    let client_id = client.client_id.clone();
    let asked = scope.map(str::to_owned);
    // Checked on the token as it is used up; a failed check leaves it live, so that a bad
    // request does not burn it.
    let issue: Issue = Box::new(move |claimed| {
        let Claimed::Refresh(row) = claimed else {
            return Err(internal("a refresh request got another claim"));
        };
        if row.client_id != client_id {
            return Err(TokenError::InvalidGrant(
                "the token was issued to another client".into(),
            ));
        }
        let scopes = narrowed(&row.scopes, asked.as_deref())?;
        let account_id = row
            .account_id
            .ok_or_else(|| TokenError::InvalidGrant("the token belongs to no person".into()))?;
        let (access_hash, refresh_hash) = hashes;
        Ok(token_rows(
            Grant {
                client_id: &client_id,
                account_id,
                scopes: &scopes,
                family: row.code_hash.as_deref().unwrap_or(&row.token_hash),
            },
            access_hash,
            Some(refresh_hash),
            now,
        ))
    });
    let claimed = tokens.claim(Claim::Refresh(hash.clone()), issue).await?;
    let Some(Claimed::Refresh(row)) = claimed else {
        return not_live(ctx, client, &hash, now).await;
    };
    Ok(Tokens {
        access_token: access,
        token_type: "Bearer",
        expires_in: super::TOKEN_TTL_SECS,
        refresh_token: Some(refresh),
        id_token: None,
        scope: narrowed(&row.scopes, scope)?,
    })
}

/// The scopes of a refreshed grant: a narrower set may be asked for, never a wider one.
pub(crate) fn narrowed(had: &str, asked: Option<&str>) -> Result<String, TokenError> {
    let Some(asked) = asked else {
        return Ok(had.to_owned());
    };
    let had: Vec<&str> = had.split(' ').collect();
    let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
    if let Some(bad) = asked.iter().find(|s| !had.contains(s)) {
        return Err(TokenError::InvalidScope(format!(
            "scope {bad} was not granted"
        )));
    }
    Ok(asked.join(" "))
}

/// Why a refresh token could not be used: unknown, another client's, expired — or used already,
/// which means it leaked, and the whole family it belongs to is revoked.
async fn not_live(
    ctx: Ctx<'_>,
    client: &store::ClientRow,
    hash: &str,
    now: i64,
) -> Result<Tokens, TokenError> {
    let row = store::find_token(ctx.db, hash, "refresh")
        .await
        .map_err(internal)?
        .ok_or_else(|| TokenError::InvalidGrant("unknown refresh token".into()))?;
    if row.client_id != client.client_id {
        return Err(TokenError::InvalidGrant(
            "the token was issued to another client".into(),
        ));
    }
    if row.revoked_at.is_some() {
        let family = row.code_hash.as_deref().unwrap_or(hash);
        store::revoke_from_code(ctx.db, family, now)
            .await
            .map_err(internal)?;
        return Err(TokenError::InvalidGrant(
            "the refresh token was used already".into(),
        ));
    }
    Err(TokenError::InvalidGrant(
        "the refresh token has expired".into(),
    ))
}

/// The claims of `/oauth2/userinfo` for a bearer token, by the granted scopes.
pub async fn userinfo(ctx: Ctx<'_>, bearer: &str) -> Result<Value, TokenError> {
    let now = now_ms();
    let token = store::live_token(ctx.db, &hash_of(ctx, "oauth-token", bearer), "access", now)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            TokenError::InvalidGrant("the token is unknown, expired or revoked".into())
        })?;
    let account_id = token
        .account_id
        .ok_or_else(|| TokenError::InvalidGrant("the token belongs to no person".into()))?;
    let client = store::find_client(ctx.db, &token.client_id)
        .await
        .map_err(internal)?
        .ok_or(TokenError::InvalidClient)?;
    let account = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(internal)?
        .filter(|a| a.active)
        .ok_or_else(|| TokenError::InvalidGrant("the account is gone or not active".into()))?;
    let verified = match profile::state(ctx.db, ctx.keys, account_id)
        .await
        .map_err(internal)?
    {
        ProfileState::Verified(d) => Some(d),
        _ => None,
    };
    let scopes: Vec<&str> = token.scopes.split(' ').collect();
    let has = |s: &str| scopes.contains(&s);
    let mut out =
        json!({ "sub": subject(ctx, &client, account_id), "level": account.level.as_str() });
    if has("profile") || has("fullname") {
        out["family_name"] = json!(account.name.last);
        out["given_name"] = json!(account.name.first);
        if let Some(m) = &account.name.middle {
            out["middle_name"] = json!(m);
        }
        out["name"] = json!(account.name.full());
    }
    if let Some(d) = &verified {
        if (has("birthdate") || has("profile"))
            && let Ok(date) = uslugi_domain::Date::parse_ru(&d.birth_date)
        {
            out["birthdate"] = json!(format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                date.month(),
                date.day()
            ));
        }
        if has("gender") || has("profile") {
            out["gender"] = json!(d.sex);
        }
        if has("snils") {
            out["snils"] = json!(d.snils);
            // Only verified data are given out, and relying portals need to know that.
            out["snils_verified"] = json!(true);
        }
        if has("inn")
            && let Some(inn) = &d.inn
        {
            out["inn"] = json!(inn);
        }
        // What the consent screen lists as «Паспорт» and «Адреса», in the names the ESIA person
        // API uses for the same data.
        if has("id_doc") {
            out["id_doc"] = json!({
                "type": "RF_PASSPORT",
                "series": d.passport.series,
                "number": d.passport.number,
                "issueDate": d.passport.issued_on,
                "issueId": d.passport.division_code,
                "issuedBy": d.passport.issuer,
                "vrfStu": "VERIFIED",
            });
        }
        if has("addresses") {
            // OpenID Connect's standard address claim, and the registration address as ESIA types it.
            out["address"] = json!({ "formatted": d.address, "country": "RU" });
            out["addresses"] =
                json!([{ "type": "PRG", "addressStr": d.address, "countryId": "RUS" }]);
        }
    }
    for c in &account.contacts {
        match c {
            Contact::Email(e) if has("email") || has("contacts") => {
                out["email"] = json!(e.as_str());
                out["email_verified"] = json!(true);
            }
            Contact::Phone(p) if has("phone") || has("mobile") || has("contacts") => {
                out["phone_number"] = json!(p.as_e164());
                out["phone_number_verified"] = json!(true);
            }
            _ => {}
        }
    }
    Ok(out)
}
