//! How a flavour of the protocol shapes its tokens. OpenID Connect's own is [`Opaque`]; ESIA's
//! plugs in from `crate::sso::esia` through [`TokenFormat`], so the generic flow imports no flavour.

use serde_json::{Map, Value};

use super::flow::{TokenError, internal, random};
use crate::{BoxFuture, Ctx};

/// What a token request presents, by its keyed hash.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// An authorization code.
    Code(&'a str),
    /// A refresh token.
    Refresh(&'a str),
}

/// What a format makes before the grant is used up (anything it must read, it reads then, so
/// that nothing is read inside the token writer's batch).
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The access token to hand out (only its hash is stored).
    pub access_token: String,
    /// Claims set on the ID token over the generic ones.
    pub id_token_claims: Map<String, Value>,
}

/// A flavour of tokens.
pub trait TokenFormat: Send + Sync {
    /// Prepares the access token (and any ID-token claims) for `client_id`'s request. `scope` is
    /// the narrower set a refresh may ask for.
    fn prepare<'a>(
        &'a self,
        ctx: Ctx<'a>,
        client_id: &'a str,
        presented: Presented<'a>,
        scope: Option<&'a str>,
        now: i64,
    ) -> BoxFuture<'a, Result<Prepared, TokenError>>;
}

/// OpenID Connect's own: 256 random bits, nothing read first (the token endpoint's hot path).
#[derive(Debug, Clone, Copy, Default)]
pub struct Opaque;

impl TokenFormat for Opaque {
    fn prepare<'a>(
        &'a self,
        _: Ctx<'a>,
        _: &'a str,
        _: Presented<'a>,
        _: Option<&'a str>,
        _: i64,
    ) -> BoxFuture<'a, Result<Prepared, TokenError>> {
        Box::pin(async {
            Ok(Prepared {
                access_token: random(32).map_err(internal)?,
                id_token_claims: Map::new(),
            })
        })
    }
}
