//! Queries of single sign-on: OpenID Connect clients, codes, tokens, consents and signing keys
//! (ESIA shares them), and the links to partner banks.

pub mod bank_links;
pub mod oidc;
