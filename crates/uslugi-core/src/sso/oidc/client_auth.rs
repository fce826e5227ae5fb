//! How a client service proves who it is at the token, revocation and introspection endpoints
//! (OpenID Connect Core §9): `client_secret_basic`, `client_secret_post`, `private_key_jwt`, or
//! nothing for a public client (which then must have used PKCE).

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{Jwk, JwkSet},
};
use subtle::ConstantTimeEq;
use uslugi_store::{now_ms, sso::oidc as store};

use super::flow::{TokenError, hash_of, internal};
use crate::Ctx;

/// `client_assertion_type` of `private_key_jwt` (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion may be valid at most this long: its `jti` is remembered until it expires.
const ASSERTION_MAX_SECS: i64 = 600;

/// Clock skew tolerated on an assertion's `exp`.
const LEEWAY_SECS: u64 = 30;

/// Algorithms accepted for client assertions.
const ASSERTION_ALGS: &[Algorithm] = &[Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// Client rows are read on every token request but change only through administration, so a
/// process keeps each for `CLIENT_TTL` (keyed by the deployment's keys and the client id); a
/// change to a client takes effect within that time. Unknown ids are not kept.
type ClientCache = HashMap<String, (Instant, store::ClientRow)>;
static CLIENTS: LazyLock<Mutex<ClientCache>> = LazyLock::new(Mutex::default);
const CLIENT_TTL: Duration = Duration::from_secs(10);

/// A client by id, through the cache.
pub async fn find_client(ctx: Ctx<'_>, id: &str) -> Result<Option<store::ClientRow>, TokenError> {
    let key = format!(
        "{}:{id}",
        ctx.keys.blind_index().compute("client-cache", "")
    );
    if let Some((at, row)) = CLIENTS.lock().ok().and_then(|c| c.get(&key).cloned())
        && at.elapsed() < CLIENT_TTL
    {
        return Ok(Some(row));
    }
    let row = store::find_client(ctx.db, id).await.map_err(internal)?;
    if let (Some(row), Ok(mut cache)) = (&row, CLIENTS.lock()) {
        cache.insert(key, (Instant::now(), row.clone()));
    }
    Ok(row)
}

/// What the client sent to authenticate.
#[derive(Debug, Clone, Default)]
pub struct ClientAuth {
    /// From Basic or the form.
    pub client_id: Option<String>,
    /// From Basic or the form.
    pub client_secret: Option<String>,
    /// `client_assertion` (`private_key_jwt`).
    pub assertion: Option<String>,
    /// `client_assertion_type`.
    pub assertion_type: Option<String>,
}

/// Checks the client's credentials; returns the client. A client registered with keys must use
/// them; one with a secret must send it; a public client sends only its id.
pub async fn authenticate_client(
    ctx: Ctx<'_>,
    auth: &ClientAuth,
) -> Result<store::ClientRow, TokenError> {
    if let Some(assertion) = &auth.assertion {
        if auth.assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(TokenError::InvalidRequest(format!(
                "client_assertion_type must be {JWT_BEARER}"
            )));
        }
        return by_assertion(ctx, auth.client_id.as_deref(), assertion).await;
    }
    let id = auth.client_id.as_deref().ok_or(TokenError::InvalidClient)?;
    let client = find_client(ctx, id)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    match (&client.secret_hash, &auth.client_secret) {
        (None, None) if client.public => Ok(client),
        (Some(stored), Some(given)) => {
            let h = super::clients::secret_hash(ctx.keys, id, given);
            if bool::from(h.as_bytes().ct_eq(stored.as_bytes())) {
                Ok(client)
            } else {
                Err(TokenError::InvalidClient)
            }
        }
        _ => Err(TokenError::InvalidClient),
    }
}

/// The audiences a client assertion may name: the issuer or any endpoint that takes one.
fn audiences(ctx: Ctx<'_>) -> Vec<String> {
    let iss = super::issuer(ctx.config);
    vec![
        format!("{iss}/oauth2/token"),
        format!("{iss}/oauth2/revoke"),
        format!("{iss}/oauth2/introspect"),
        iss,
    ]
}

/// `private_key_jwt`: a JWT signed with one of the client's registered keys, naming the client
/// as issuer and subject and the portal as audience, short-lived, and each `jti` once.
async fn by_assertion(
    ctx: Ctx<'_>,
    client_id: Option<&str>,
    assertion: &str,
) -> Result<store::ClientRow, TokenError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| TokenError::InvalidClient)?;
    if !ASSERTION_ALGS.contains(&header.alg) {
        return Err(TokenError::InvalidClient);
    }
    // The issuer names the client; the signature below proves it.
    let unverified: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| TokenError::InvalidClient)?;
    let iss = unverified["iss"]
        .as_str()
        .ok_or(TokenError::InvalidClient)?;
    if client_id.is_some_and(|c| c != iss) {
        return Err(TokenError::InvalidClient);
    }
    let client = find_client(ctx, iss)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    let set: JwkSet = client
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or(TokenError::InvalidClient)?;
    let candidates: Vec<&Jwk> = set
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .collect();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&audiences(ctx));
    validation.set_issuer(&[iss]);
    validation.sub = Some(iss.to_owned());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = LEEWAY_SECS;
    let claims = candidates
        .iter()
        .filter_map(|k| DecodingKey::from_jwk(k).ok())
        .find_map(|key| {
            jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation)
                .ok()
                .map(|d| d.claims)
        })
        .ok_or(TokenError::InvalidClient)?;
    let now = now_ms();
    let exp = claims["exp"].as_i64().ok_or(TokenError::InvalidClient)?;
    // Compared in seconds before any multiplication: a huge `exp` must not wrap around.
    if exp > now / 1000 + ASSERTION_MAX_SECS {
        return Err(TokenError::InvalidClient);
    }
    let jti = claims["jti"].as_str().ok_or(TokenError::InvalidClient)?;
    // Remembered until the assertion stops being accepted, leeway included (`exp` is checked in
    // whole seconds, so it is accepted until the end of its last second).
    let fresh = store::record_assertion(
        ctx.db,
        &hash_of(ctx, "client-assertion", &format!("{iss}:{jti}")),
        (exp + i64::try_from(LEEWAY_SECS).unwrap_or(0) + 1) * 1000,
        now,
    )
    .await
    .map_err(internal)?;
    if !fresh {
        return Err(TokenError::InvalidClient);
    }
    Ok(client)
}
