//! ESIA compatibility: existing integrations with Gosuslugi's ESIA work against this portal by
//! changing only the base URL and the certificates. The endpoints `/aas/oauth2/ac` and `/te`
//! (legacy) and `/aas/oauth2/v2/ac` and `/v3/te` (current) take ESIA's parameters — `timestamp`
//! as `yyyy.MM.dd HH:mm:ss ±HHMM`, `state` as a UUID, and `client_secret` as a signature by the
//! client's registered certificate over the documented concatenation — and answer with ESIA's
//! error codes (`ESIA-0070xx: …` in `error_description`). The person-data API is in `person`.

pub mod gost;
pub mod person;
pub mod signature;

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use serde_json::{Value, json};
use uslugi_store::sso::oidc as store;
use uuid::Uuid;

use crate::{
    Keys,
    identity::registration::Ctx,
    sso::oidc::{
        flow::{self, AuthorizeRequest, TokenError, internal, narrowed, random},
        format::{Prepared, Presented, TokenFormat},
    },
};

/// How far a request's `timestamp` may be from the portal's clock.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// The `iss` of tokens from the ESIA-compatible endpoints.
pub fn issuer(config: &crate::Config) -> String {
    config
        .esia
        .issuer
        .clone()
        .unwrap_or_else(|| crate::sso::oidc::issuer(config))
}

/// ESIA's person id (`oid`) for an account: a stored number, unique, allocated at the account's
/// first ESIA sign-in. The first candidate is derived with the portal's keys (it reveals nothing
/// and needs no counter); a taken one moves on to the next number.
pub async fn assign_oid(
    db: &uslugi_store::Db,
    keys: &Keys,
    account_id: Uuid,
) -> Result<u64, uslugi_store::StoreError> {
    if let Some(oid) = store::esia_oid(db, account_id).await? {
        return Ok(u64::try_from(oid).unwrap_or(0));
    }
    let h = keys
        .blind_index()
        .compute("esia-oid", &account_id.to_string());
    // Under 2⁵² + 10⁹: JavaScript clients read it as a number without losing digits.
    let first = i64::from_str_radix(&h[..13], 16).unwrap_or(0) + 1_000_000_000;
    for candidate in first..first + 64 {
        if store::insert_esia_oid(db, account_id, candidate).await? {
            return Ok(u64::try_from(candidate).unwrap_or(0));
        }
        // Either the number is taken or a parallel request gave this account one.
        if let Some(oid) = store::esia_oid(db, account_id).await? {
            return Ok(u64::try_from(oid).unwrap_or(0));
        }
    }
    Err(uslugi_store::StoreError::Corrupt(
        "no free ESIA oid after 64 tries".into(),
    ))
}

/// ESIA's tokens, plugged into the OpenID Connect flow: the access token is a JWT naming the
/// person's oid (`urn:esia:sbj_id`), and the ID token carries `urn:esia:sbj`. The code or refresh
/// token is read first to learn whose it is; it is still used up (or found used) in the batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct EsiaFormat;

impl TokenFormat for EsiaFormat {
    fn prepare<'a>(
        &'a self,
        ctx: Ctx<'a>,
        client_id: &'a str,
        presented: Presented<'a>,
        scope: Option<&'a str>,
        now: i64,
    ) -> crate::BoxFuture<'a, Result<Prepared, TokenError>> {
        Box::pin(async move {
            let other_client =
                || TokenError::InvalidGrant("the grant was issued to another client".into());
            let (account_id, scopes, level) = match presented {
                Presented::Code(hash) => {
                    let row = store::find_code(ctx.db, hash)
                        .await
                        .map_err(internal)?
                        .ok_or_else(|| TokenError::InvalidGrant("unknown code".into()))?;
                    // Another client's code says nothing about its person here.
                    if row.client_id != client_id {
                        return Err(other_client());
                    }
                    (row.account_id, row.scopes, Some(row.level))
                }
                Presented::Refresh(hash) => {
                    let row = store::find_token(ctx.db, hash, "refresh")
                        .await
                        .map_err(internal)?
                        .ok_or_else(|| TokenError::InvalidGrant("unknown refresh token".into()))?;
                    if row.client_id != client_id {
                        return Err(other_client());
                    }
                    let account_id = row.account_id.ok_or_else(|| {
                        TokenError::InvalidGrant("the token belongs to no person".into())
                    })?;
                    (account_id, narrowed(&row.scopes, scope)?, None)
                }
            };
            // Allocated at the first ESIA exchange, then the same for good.
            let oid = assign_oid(ctx.db, ctx.keys, account_id)
                .await
                .map_err(internal)?;
            let key = crate::sso::oidc::keys::signing_key(
                ctx.db,
                ctx.keys,
                jsonwebtoken::Algorithm::RS256,
            )
            .await
            .map_err(internal)?;
            let iat = now / 1000;
            let access_token = key
                .sign(&json!({
                    "iss": issuer(ctx.config),
                    "urn:esia:sbj_id": oid,
                    "urn:esia:sid": random(16).map_err(internal)?,
                    "client_id": client_id,
                    "scope": scopes,
                    "iat": iat,
                    "nbf": iat,
                    "exp": iat + crate::sso::oidc::TOKEN_TTL_SECS,
                }))
                .map_err(internal)?;
            let mut id_token_claims = serde_json::Map::new();
            if let Some(level) = level {
                id_token_claims.insert("iss".into(), json!(issuer(ctx.config)));
                // ESIA clients read the person's oid here (`urn:esia:sbj` → `urn:esia:sbj:oid`).
                id_token_claims.insert(
                    "urn:esia:sbj".into(),
                    json!({
                        "urn:esia:sbj:typ": "P",
                        "urn:esia:sbj:oid": oid,
                        "urn:esia:sbj:is_tru": level == "confirmed",
                    }),
                );
            }
            Ok(Prepared {
                access_token,
                id_token_claims,
            })
        })
    }
}

/// The oid of an account that has one (read on the person API and at the token exchange).
pub async fn oid_of(
    db: &impl sea_orm::ConnectionTrait,
    account_id: Uuid,
) -> Result<Option<u64>, uslugi_store::StoreError> {
    Ok(store::esia_oid(db, account_id)
        .await?
        .and_then(|o| u64::try_from(o).ok()))
}

/// An ESIA refusal: the RFC 6749 code and ESIA's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ESIA-{code}: {text}")]
pub struct EsiaError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, …
    pub error: &'static str,
    /// ESIA's number, e.g. `007053`.
    pub code: &'static str,
    /// ESIA's wording.
    pub text: &'static str,
}

const fn err(error: &'static str, code: &'static str, text: &'static str) -> EsiaError {
    EsiaError { error, code, text }
}

/// The client is unknown, has no certificate, or the certificate hash does not match.
pub const CLIENT_CERTIFICATE: EsiaError = err(
    "invalid_client",
    "007002",
    "Несоответствие сертификата и мнемоники информационной системы или отсутствие сертификата для данной системы",
);
/// A parameter has a wrong value.
pub const BAD_PARAMETER: EsiaError = err(
    "invalid_request",
    "007003",
    "В запросе отсутствует обязательный параметр, запрос включает в себя неверное значение параметра или включает параметр несколько раз",
);
/// The person refused.
pub const DENIED: EsiaError = err(
    "access_denied",
    "007004",
    "Владелец ресурса или сервис авторизации отклонил запрос",
);
/// Unknown scope.
pub const BAD_SCOPE: EsiaError = err(
    "invalid_scope",
    "007006",
    "Запрошенная область доступа (scope) указана неверно, неизвестна или сформирована некорректно",
);
/// A bad code or refresh token.
pub const BAD_GRANT: EsiaError = err(
    "invalid_grant",
    "007011",
    "Авторизационный код или маркер обновления недействителен, просрочен, отозван или был выдан другой системе-клиенту",
);
/// Unsupported grant or response type.
pub const UNSUPPORTED: EsiaError = err(
    "unsupported_grant_type",
    "007012",
    "Тип авторизационного кода не поддерживается сервисом авторизации",
);
/// A mandatory parameter is missing.
pub const MISSING: EsiaError = err(
    "invalid_request",
    "007014",
    "Запрос не содержит обязательного параметра",
);
/// The timestamp is malformed or outside the window.
pub const BAD_TIME: EsiaError = err("invalid_request", "007015", "Неверное время запроса");
/// The redirect URI is not registered for the client.
pub const BAD_REDIRECT: EsiaError = err(
    "invalid_request",
    "007023",
    "Указанный в запросе redirect_uri отсутствует среди разрешённых для ИС",
);
/// The signature does not verify with the registered certificate.
pub const BAD_SECRET: EsiaError = err(
    "invalid_client",
    "007053",
    "client_secret сформирован некорректно: не соответствует сертификату или информационной системе",
);
/// Too many requests with bad signatures from one address recently: refused before any
/// signature is checked (GOST verification is costly).
pub const THROTTLED: EsiaError = err(
    "temporarily_unavailable",
    "007053",
    "Слишком много запросов с неверной подписью с этого адреса. Повторите запрос позже",
);
/// Something failed inside the portal.
pub const INTERNAL: EsiaError = err(
    "server_error",
    "007007",
    "Возникла неожиданная ошибка в работе сервиса авторизации",
);

/// Reads `yyyy.MM.dd HH:mm:ss ±HHMM` (a `+` turned into a space by an unescaped query is read as
/// `+`); returns Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date_time, offset) = text.rsplit_once(' ').map_or((text, ""), |(a, b)| (a, b));
    let (date_time, offset) = if offset.len() == 4 && offset.bytes().all(|b| b.is_ascii_digit()) {
        // "… 12:00:00  0300" or "… 12:00:00 0300": the sign was lost as a space.
        (date_time.trim_end(), format!("+{offset}"))
    } else {
        (date_time, offset.to_owned())
    };
    let format = time::macros::format_description!(
        "[year].[month].[day] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    time::OffsetDateTime::parse(&format!("{date_time} {offset}"), format)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// Formats a time as ESIA does (UTC).
pub fn format_timestamp(unix: i64) -> String {
    let format =
        time::macros::format_description!("[year].[month].[day] [hour]:[minute]:[second] +0000");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The endpoint generation: what `client_secret` signs differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `/aas/oauth2/ac` and `/te`: scope + timestamp + client_id + state.
    Legacy,
    /// `/aas/oauth2/v2/ac` (client_id + scope + timestamp + state + redirect_uri) and `/v3/te`
    /// (the same + code); `client_certificate_hash` is required.
    Current,
}

struct Checked {
    client: store::ClientRow,
}

/// Which endpoint a signed request came to: each takes a signed string once.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Ac,
    Te,
}

/// The checks shared by both endpoints: client, certificate (and its hash), timestamp, state and
/// the signature over `message`.
async fn check_signed(
    ctx: Ctx<'_>,
    get: &impl Fn(&str) -> Option<String>,
    (endpoint, version): (Endpoint, Version),
    message: impl Fn(&str) -> String,
    client_ip: &str,
) -> Result<Checked, EsiaError> {
    let client_id = get("client_id").ok_or(MISSING)?;
    let client = store::find_client(ctx.db, &client_id)
        .await
        .map_err(|_| INTERNAL)?
        .ok_or(CLIENT_CERTIFICATE)?;
    let cert = client
        .certificate
        .as_deref()
        .and_then(|c| signature::parse_certificate(c.as_bytes()).ok())
        .ok_or(CLIENT_CERTIFICATE)?;
    // An expired (or not yet valid) certificate signs nothing, as at ESIA.
    if !cert.valid_at(uslugi_store::now_ms() / 1000) {
        return Err(CLIENT_CERTIFICATE);
    }
    if version == Version::Current {
        let hash = get("client_certificate_hash").ok_or(MISSING)?;
        if !hash.eq_ignore_ascii_case(&signature::certificate_hash(&cert.der)) {
            return Err(CLIENT_CERTIFICATE);
        }
    }
    let timestamp = get("timestamp").ok_or(MISSING)?;
    let at = parse_timestamp(&timestamp).ok_or(BAD_TIME)?;
    if (at - uslugi_store::now_ms() / 1000).abs() > TIMESTAMP_WINDOW_SECS {
        return Err(BAD_TIME);
    }
    let state = get("state").ok_or(MISSING)?;
    if Uuid::parse_str(&state).is_err() {
        return Err(BAD_PARAMETER);
    }
    let secret = get("client_secret").ok_or(MISSING)?;
    let message = message(&timestamp);
    let signed = flow::hash_of(
        ctx,
        "esia-signed",
        &format!("{endpoint:?}:{client_id}:{message}"),
    );
    // Signature checks (GOST ones especially) are CPU work: off the async workers, and no more
    // at a time than there are cores, so that a flood of forged requests queues (and times out)
    // instead of taking every core from the rest of the portal.
    // The permit goes with the check, so that a request dropped while it runs (its client gone)
    // still holds its core until the check ends.
    // Before that bound, a limit per address held in the database (like failed sign-ins): one
    // address sending forged signatures is refused before it costs any core time.
    let client_blind = crate::kernel::client_key(ctx.keys, client_ip);
    let identifier = ctx.keys.blind_index().compute("esia-signature", &client_id);
    let (_, by_client) = uslugi_store::identity::login_attempts::failures_since(
        ctx.db,
        &identifier,
        &client_blind,
        uslugi_store::now_ms() - crate::identity::login::WINDOW_MS,
    )
    .await
    .map_err(|_| INTERNAL)?;
    if by_client >= ctx.config.auth.login_failures_per_client {
        return Err(THROTTLED);
    }
    let permit = verifiers()
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| INTERNAL)?;
    let valid = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        signature::verify(&cert, message.as_bytes(), &secret)
    })
    .await
    .unwrap_or(false);
    if !valid {
        uslugi_store::identity::login_attempts::record(
            ctx.db,
            uslugi_store::identity::login_attempts::Attempt {
                account_id: None,
                identifier_blind: &identifier,
                client_blind: &client_blind,
                success: false,
                method: "esia-signature",
                client_info: None,
            },
            uslugi_store::now_ms(),
        )
        .await
        .map_err(|_| INTERNAL)?;
        return Err(BAD_SECRET);
    }
    // Each endpoint takes a signed request once (a captured one cannot be replayed), remembered
    // while its timestamp is still accepted. Per endpoint, because the legacy `/te` signs the same
    // string as `/ac`, and a client may send both within one second with the same `state` (as
    // `esia-connector` does when the consent is remembered): the two cannot be told apart from
    // an `/ac` URL's signature replayed at `/te`. That protocol weakness is closed only by the
    // current endpoints (the code and `redirect_uri` in the signed string, PKCE).
    let fresh = store::record_assertion(
        ctx.db,
        &signed,
        // The timestamp is compared in whole seconds, so it stays accepted until the end of its
        // last second.
        (at + TIMESTAMP_WINDOW_SECS + 1) * 1000,
        uslugi_store::now_ms(),
    )
    .await
    .map_err(|_| INTERNAL)?;
    if !fresh {
        return Err(BAD_SECRET);
    }
    Ok(Checked { client })
}

/// The permits for signature checks: one per core.
fn verifiers() -> &'static Arc<tokio::sync::Semaphore> {
    static VERIFIERS: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Arc::new(tokio::sync::Semaphore::new(cores))
    })
}

/// Why an ESIA authorization request is refused.
#[derive(Debug)]
pub enum AcError {
    /// Unknown client or unregistered redirect URI: a page, never a redirect.
    Page(EsiaError),
    /// Back to the client with `error`, `error_description` and `state`.
    Redirect {
        /// The error.
        error: EsiaError,
        /// Where.
        redirect_uri: String,
        /// The request's state.
        state: Option<String>,
    },
}

/// Checks `/aas/oauth2/ac` or `/aas/oauth2/v2/ac`; the result goes through the same sign-in and
/// consent as an OpenID Connect request.
pub async fn check_ac(
    ctx: Ctx<'_>,
    params: &HashMap<String, String>,
    version: Version,
    client_ip: &str,
) -> Result<AuthorizeRequest, AcError> {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let client_id = get("client_id").ok_or(AcError::Page(MISSING))?;
    let client = store::find_client(ctx.db, &client_id)
        .await
        .map_err(|_| AcError::Page(INTERNAL))?
        .ok_or(AcError::Page(CLIENT_CERTIFICATE))?;
    let registered: Vec<String> = serde_json::from_str(&client.redirect_uris).unwrap_or_default();
    let redirect_uri = get("redirect_uri").ok_or(AcError::Page(MISSING))?;
    if !registered.contains(&redirect_uri) {
        return Err(AcError::Page(BAD_REDIRECT));
    }
    let state = get("state");
    let back = |error: EsiaError| AcError::Redirect {
        error,
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
    };
    let scope = get("scope").ok_or_else(|| back(MISSING))?;
    if get("response_type").as_deref() != Some("code") {
        return Err(back(UNSUPPORTED));
    }
    let checked = check_signed(
        ctx,
        &get,
        (Endpoint::Ac, version),
        |timestamp| {
            let state = get("state").unwrap_or_default();
            match version {
                Version::Legacy => format!("{scope}{timestamp}{client_id}{state}"),
                Version::Current => format!("{client_id}{scope}{timestamp}{state}{redirect_uri}"),
            }
        },
        client_ip,
    )
    .await
    .map_err(back)?;
    let allowed: Vec<&str> = checked.client.scopes.split(' ').collect();
    let mut scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.iter().any(|s| !allowed.contains(&s.as_str())) {
        return Err(back(BAD_SCOPE));
    }
    // ESIA always answers with an ID token; its clients often leave `openid` out.
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    // The current endpoint takes PKCE too (S256 only, as for OpenID Connect clients).
    let code_challenge = match (
        get("code_challenge"),
        get("code_challenge_method").as_deref(),
    ) {
        (Some(c), Some("S256")) if c.len() == 43 => Some(c),
        (Some(_), _) => return Err(back(BAD_PARAMETER)),
        (None, _) => None,
    };
    Ok(AuthorizeRequest {
        client_id: checked.client.client_id,
        client_name: checked.client.name,
        redirect_uri,
        scopes,
        state,
        nonce: get("nonce"),
        code_challenge,
        min_level: checked.client.min_level,
        esia: true,
        // ESIA gives a refresh token only for `access_type=offline`; `online` is the default.
        offline: get("access_type").as_deref() == Some("offline"),
        prompt_none: false,
    })
}

fn token_error(e: TokenError) -> EsiaError {
    match e {
        TokenError::InvalidGrant(_) => BAD_GRANT,
        TokenError::InvalidScope(_) => BAD_SCOPE,
        TokenError::InvalidRequest(_) => BAD_PARAMETER,
        TokenError::UnsupportedGrantType => UNSUPPORTED,
        TokenError::InvalidClient | TokenError::UnauthorizedClient(_) => CLIENT_CERTIFICATE,
        TokenError::Internal(why) => {
            tracing::error!(error = %why, "ESIA token endpoint failed");
            INTERNAL
        }
    }
}

/// `/aas/oauth2/te` or `/aas/oauth2/v3/te`: the code (or a refresh token) for tokens; the access
/// token is a JWT with ESIA's claims, as ESIA clients read the person's `oid` from it.
pub async fn token(
    ctx: Ctx<'_>,
    tokens: &crate::sso::oidc::batch::TokenWriter,
    form: &HashMap<String, String>,
    version: Version,
    client_ip: &str,
) -> Result<Value, EsiaError> {
    let get = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
    let grant_type = get("grant_type").ok_or(MISSING)?;
    let grant = match grant_type.as_str() {
        "authorization_code" => get("code").ok_or(MISSING)?,
        "refresh_token" => get("refresh_token").ok_or(MISSING)?,
        _ => return Err(UNSUPPORTED),
    };
    let scope = get("scope").ok_or(MISSING)?;
    let client_id = get("client_id").ok_or(MISSING)?;
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    let state = get("state").unwrap_or_default();
    let checked = check_signed(
        ctx,
        &get,
        (Endpoint::Te, version),
        |timestamp| match version {
            Version::Legacy => format!("{scope}{timestamp}{client_id}{state}"),
            Version::Current => {
                format!("{client_id}{scope}{timestamp}{state}{redirect_uri}{grant}")
            }
        },
        client_ip,
    )
    .await?;
    let tokens = if grant_type == "authorization_code" {
        flow::exchange_for(
            ctx,
            tokens,
            &checked.client,
            &grant,
            Some(redirect_uri.as_str()),
            get("code_verifier").as_deref(),
            &EsiaFormat,
        )
        .await
    } else {
        flow::refresh_for(ctx, tokens, &checked.client, &grant, None, &EsiaFormat).await
    }
    .map_err(token_error)?;
    Ok(json!({
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "state": state,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
    }))
}
