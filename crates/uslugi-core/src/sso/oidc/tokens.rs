//! Tokens beyond the person's sign-in: the `client_credentials` grant (a service acting for
//! itself), revocation (RFC 7009) and introspection (RFC 7662).

use serde_json::{Value, json};
use uslugi_store::{now_ms, sso::oidc as store};

use super::flow::{ClientAuth, TokenError, Tokens, authenticate_client, hash_of, internal, random};
use crate::Ctx;

/// `grant_type=client_credentials`: an access token for the client itself, no person, no
/// refresh token. Only confidential clients registered for it.
pub async fn client_credentials(
    ctx: Ctx<'_>,
    auth: &ClientAuth,
    scope: Option<&str>,
) -> Result<Tokens, TokenError> {
    let client = authenticate_client(ctx, auth).await?;
    if client.public || !client.client_credentials {
        return Err(TokenError::UnauthorizedClient(
            "the client is not registered for client_credentials".into(),
        ));
    }
    let allowed: Vec<&str> = client.scopes.split(' ').collect();
    // `openid` names a person; a service acting for itself has none.
    let asked: Vec<&str> = match scope {
        Some(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        None => allowed.iter().copied().filter(|s| *s != "openid").collect(),
    };
    if let Some(bad) = asked
        .iter()
        .find(|s| **s == "openid" || !allowed.contains(s))
    {
        return Err(TokenError::InvalidScope(format!(
            "scope {bad} is not allowed for this grant"
        )));
    }
    let scopes = asked.join(" ");
    let access = random(32).map_err(internal)?;
    let now = now_ms();
    store::insert_token(
        ctx.db,
        store::TokenRow {
            token_hash: hash_of(ctx, "oauth-token", &access),
            kind: "access".into(),
            client_id: client.client_id,
            account_id: None,
            scopes: scopes.clone(),
            code_hash: None,
            expires_at: now + super::TOKEN_TTL_SECS * 1000,
            revoked_at: None,
            created_at: now,
        },
    )
    .await
    .map_err(internal)?;
    Ok(Tokens {
        access_token: access,
        token_type: "Bearer",
        expires_in: super::TOKEN_TTL_SECS,
        refresh_token: None,
        id_token: None,
        scope: scopes,
    })
}

/// `/oauth2/revoke`: a client revokes one of its own tokens. A refresh token takes the access
/// tokens of its grant with it (RFC 7009 §2.1). Unknown tokens and other clients' tokens are
/// answered the same way, so the endpoint tells nothing about tokens.
pub async fn revoke(ctx: Ctx<'_>, auth: &ClientAuth, token: &str) -> Result<(), TokenError> {
    let client = authenticate_client(ctx, auth).await?;
    let hash = hash_of(ctx, "oauth-token", token);
    let Some(row) = store::token_by_hash(ctx.db, &hash)
        .await
        .map_err(internal)?
    else {
        return Ok(());
    };
    if row.client_id != client.client_id {
        return Ok(());
    }
    let now = now_ms();
    match (&row.kind[..], &row.code_hash) {
        ("refresh", Some(family)) => {
            store::revoke_from_code(ctx.db, family, now)
                .await
                .map_err(internal)?;
        }
        _ => {
            store::revoke_token(ctx.db, &hash, now)
                .await
                .map_err(internal)?;
        }
    }
    Ok(())
}

/// `/oauth2/introspect`: what a live token of the asking client means. Tokens of other clients,
/// expired, revoked or unknown ones are all `{"active": false}`.
pub async fn introspect(ctx: Ctx<'_>, auth: &ClientAuth, token: &str) -> Result<Value, TokenError> {
    let client = authenticate_client(ctx, auth).await?;
    let now = now_ms();
    let row = store::token_by_hash(ctx.db, &hash_of(ctx, "oauth-token", token))
        .await
        .map_err(internal)?
        .filter(|t| {
            t.client_id == client.client_id && t.revoked_at.is_none() && t.expires_at > now
        });
    let Some(row) = row else {
        return Ok(json!({ "active": false }));
    };
    let mut out = json!({
        "active": true,
        "scope": row.scopes,
        "client_id": row.client_id,
        "token_type": if row.kind == "refresh" { "refresh_token" } else { "Bearer" },
        "exp": row.expires_at / 1000,
        "iat": row.created_at / 1000,
        "iss": super::issuer(ctx.config),
        "aud": row.client_id,
    });
    if let Some(account_id) = row.account_id {
        out["sub"] = json!(super::flow::subject(ctx, &client, account_id));
    }
    Ok(out)
}
