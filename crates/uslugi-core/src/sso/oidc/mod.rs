//! Single sign-on for other services: an OpenID Connect provider (issue «Single sign-on»).
//!
//! This part holds what every flow needs: the signing keys (RS256 and ES256, several published,
//! rotated by `uslugi admin keys rotate`), the registered client services (`uslugi admin clients
//! add`) and the discovery document. The issuer is the configured public URL.

pub mod apps;
pub mod batch;
pub mod client_auth;
pub mod clients;
pub mod flow;
pub mod format;
pub mod keys;
pub mod logout;
pub mod tokens;

use serde_json::{Value, json};

use crate::Config;

/// Scopes a client may ask for: OpenID Connect's and ESIA's names.
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "fullname",
    "birthdate",
    "birthplace",
    "gender",
    "snils",
    "inn",
    "id_doc",
    "mobile",
    "contacts",
    "addresses",
];

/// The lifetime of access and ID tokens: a retired key stays published this long.
pub const TOKEN_TTL_SECS: i64 = 3600;

/// The issuer: the public URL without a trailing slash.
pub fn issuer(config: &Config) -> String {
    config.public_url.trim_end_matches('/').to_owned()
}

/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
pub fn discovery(config: &Config) -> Value {
    let iss = issuer(config);
    json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth2/authorize"),
        "token_endpoint": format!("{iss}/oauth2/token"),
        "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
        "jwks_uri": format!("{iss}/oauth2/jwks"),
        "revocation_endpoint": format!("{iss}/oauth2/revoke"),
        "introspection_endpoint": format!("{iss}/oauth2/introspect"),
        "end_session_endpoint": format!("{iss}/oauth2/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "name", "family_name", "given_name", "middle_name", "birthdate", "gender", "email", "email_verified", "phone_number", "phone_number_verified", "snils", "inn", "id_doc", "address", "addresses", "level"],
        "ui_locales_supported": ["ru"],
    })
}
