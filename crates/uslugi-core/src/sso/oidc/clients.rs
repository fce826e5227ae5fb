//! Client services registered by administrators (`uslugi admin clients add`).

use uslugi_domain::AccountLevel;
use uslugi_store::{Db, now_ms, sso::oidc as store};

use crate::{CryptoError, Keys};

/// What an administrator gives.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// The service's name for the consent screen.
    pub name: String,
    /// Exact redirect URIs (compared character for character).
    pub redirect_uris: Vec<String>,
    /// Lowest account level accepted.
    pub min_level: AccountLevel,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// A public client: no secret, PKCE required.
    pub public: bool,
    /// Pairwise subject identifiers.
    pub pairwise: bool,
    /// The client's public keys (a JSON Web Key Set): it authenticates with `private_key_jwt`
    /// and gets no secret.
    pub jwks: Option<String>,
    /// `RS256` (default) or `ES256`.
    pub id_token_alg: String,
    /// Exact addresses it may send people to after logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// May use the `client_credentials` grant (confidential clients only).
    pub client_credentials: bool,
    /// A certificate (PEM or DER) for ESIA-style requests signed by the client.
    pub certificate: Option<Vec<u8>>,
    /// The identifier to use instead of a generated one (ESIA integrations keep their
    /// mnemonic).
    pub client_id: Option<String>,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            name: String::new(),
            redirect_uris: Vec::new(),
            min_level: AccountLevel::Simplified,
            scopes: Vec::new(),
            public: false,
            pairwise: false,
            jwks: None,
            id_token_alg: "RS256".into(),
            post_logout_redirect_uris: Vec::new(),
            client_credentials: false,
            certificate: None,
            client_id: None,
        }
    }
}

/// A registration's answer: the secret is shown once and stored only as a keyed hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Registered {
    /// Public identifier.
    pub client_id: String,
    /// The secret (confidential clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Name.
    pub name: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Minimum level.
    pub min_level: &'static str,
    /// Public or confidential.
    pub public: bool,
    /// `client_secret_basic` (or `_post`), `private_key_jwt` or `none`.
    pub token_endpoint_auth_method: &'static str,
    /// The ID token's algorithm.
    pub id_token_signed_response_alg: String,
    /// Where people may be sent after logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grants it may use.
    pub grant_types: Vec<&'static str>,
    /// `client_certificate_hash` of its registered certificate (hex Streebog-256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_hash: Option<String>,
}

/// Refusals of a registration, in the administrator's terms.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A bad value.
    #[error("{0}")]
    Invalid(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn random_token(bytes: usize) -> Result<String, CryptoError> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// The stored form of a client secret: secrets are 256-bit random, so a keyed hash suffices
/// (no password hashing needed) and keeps the token endpoint fast.
pub fn secret_hash(keys: &Keys, client_id: &str, secret: &str) -> String {
    keys.blind_index()
        .compute("client-secret", &format!("{client_id}:{secret}"))
}

/// Checks and registers a client.
pub async fn register(db: &Db, keys: &Keys, spec: ClientSpec) -> Result<Registered, ClientError> {
    if spec.name.trim().is_empty() {
        return Err(ClientError::Invalid("--name is empty".into()));
    }
    if spec.redirect_uris.is_empty() {
        return Err(ClientError::Invalid(
            "at least one --redirect-uri is needed".into(),
        ));
    }
    for uri in spec
        .redirect_uris
        .iter()
        .chain(&spec.post_logout_redirect_uris)
    {
        let ok = acceptable_redirect(uri);
        if !ok {
            return Err(ClientError::Invalid(format!(
                "redirect URI {uri}: must be https (or http on localhost) and without a fragment"
            )));
        }
    }
    let mut scopes = spec.scopes.clone();
    if scopes.is_empty() {
        scopes = vec!["openid".into(), "profile".into()];
    }
    if let Some(bad) = scopes.iter().find(|s| !super::SCOPES.contains(&s.as_str())) {
        return Err(ClientError::Invalid(format!("unknown scope {bad}")));
    }
    if !matches!(spec.id_token_alg.as_str(), "RS256" | "ES256") {
        return Err(ClientError::Invalid(
            "--id-token-alg must be RS256 or ES256".into(),
        ));
    }
    if spec.public && (spec.jwks.is_some() || spec.client_credentials || spec.certificate.is_some())
    {
        return Err(ClientError::Invalid(
            "a public client has no keys or certificate and cannot use client_credentials".into(),
        ));
    }
    if spec.certificate.is_some() && spec.pairwise {
        return Err(ClientError::Invalid(
            "ESIA clients identify people by oid: --pairwise does not apply with --certificate"
                .into(),
        ));
    }
    let jwks = spec.jwks.as_deref().map(check_jwks).transpose()?;
    let certificate = match &spec.certificate {
        Some(bytes) => {
            let cert = crate::sso::esia::signature::parse_certificate(bytes)
                .map_err(|e| ClientError::Invalid(format!("--certificate: {e}")))?;
            Some(pem_certificate(&cert.der))
        }
        None => None,
    };
    let client_id = match &spec.client_id {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            if store::find_client(db, id).await?.is_some() {
                return Err(ClientError::Invalid(format!("client id {id} is taken")));
            }
            id.clone()
        }
        Some(_) => {
            return Err(ClientError::Invalid(
                "--client-id: 1–64 letters, digits, - or _".into(),
            ));
        }
        None => random_token(16)?,
    };
    // A client with keys or a certificate proves itself with them, not with a secret.
    let secret = if spec.public || jwks.is_some() || certificate.is_some() {
        None
    } else {
        Some(random_token(32)?)
    };
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if spec.client_credentials {
        grant_types.push("client_credentials");
    }
    let auth_method = if spec.public {
        "none"
    } else if jwks.is_some() {
        "private_key_jwt"
    } else if certificate.is_some() {
        "esia_signed_request"
    } else {
        "client_secret_basic"
    };
    store::insert_client(
        db,
        store::NewClient {
            client_id: client_id.clone(),
            name: spec.name.trim().to_owned(),
            secret_hash: secret.as_ref().map(|s| secret_hash(keys, &client_id, s)),
            redirect_uris: serde_json::to_string(&spec.redirect_uris)
                .map_err(|e| ClientError::Invalid(e.to_string()))?,
            scopes: scopes.join(" "),
            min_level: spec.min_level.as_str().to_owned(),
            public: spec.public,
            pairwise: spec.pairwise,
            jwks,
            id_token_alg: spec.id_token_alg.clone(),
            post_logout_redirect_uris: serde_json::to_string(&spec.post_logout_redirect_uris)
                .map_err(|e| ClientError::Invalid(e.to_string()))?,
            client_credentials: spec.client_credentials,
            certificate: certificate.clone(),
        },
        now_ms(),
    )
    .await?;
    Ok(Registered {
        client_id,
        client_secret: secret,
        name: spec.name.trim().to_owned(),
        redirect_uris: spec.redirect_uris,
        scopes,
        min_level: spec.min_level.as_str(),
        public: spec.public,
        token_endpoint_auth_method: auth_method,
        id_token_signed_response_alg: spec.id_token_alg,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        grant_types,
        certificate_hash: spec
            .certificate
            .as_deref()
            .and_then(|b| crate::sso::esia::signature::parse_certificate(b).ok())
            .map(|c| crate::sso::esia::signature::certificate_hash(&c.der)),
    })
}

/// https anywhere, plain http only to this machine (a developer's service), no fragment and no
/// user part (`https://good@evil`). The host is compared exactly: `http://localhost.evil.com`
/// is not local.
fn acceptable_redirect(uri: &str) -> bool {
    let (scheme, rest) = match uri.split_once("://") {
        Some(p) => p,
        None => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if uri.contains('#') || authority.is_empty() || authority.contains('@') {
        return false;
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => h,
        _ => authority,
    };
    match scheme {
        "https" => true,
        "http" => matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    }
}

fn pem_certificate(der: &[u8]) -> String {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Checks a client's key set: public signing keys only, each usable; returns it compacted.
fn check_jwks(text: &str) -> Result<String, ClientError> {
    let bad = |why: &str| ClientError::Invalid(format!("--jwks: {why}"));
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| bad("not a JSON Web Key Set"))?;
    let keys = value["keys"]
        .as_array()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| bad("no keys"))?;
    if keys.iter().any(|k| k.get("d").is_some()) {
        return Err(bad(
            "a private key was given; register only the public part",
        ));
    }
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(value.clone()).map_err(|e| bad(&e.to_string()))?;
    for k in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(k).map_err(|e| bad(&e.to_string()))?;
    }
    Ok(value.to_string())
}
