//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a service sends the person to
//! `/oauth2/logout` to end their portal session too, and may ask to be returned to an address it
//! registered. Without proof that the service's user is the person signed in here (a valid
//! `id_token_hint`), the portal asks before signing out, so that no page can sign people out.

use std::collections::HashMap;

use uslugi_store::sso::oidc as store;
use uuid::Uuid;

use super::flow::{redirect_with, subject};
use crate::Ctx;

/// A checked logout request.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    /// The service, when named by the hint or `client_id`.
    pub client: Option<store::ClientRow>,
    /// `sub` from a valid `id_token_hint`.
    pub hint_sub: Option<String>,
    /// Where to go afterwards (registered address with `state`).
    pub redirect: Option<String>,
}

/// Why a logout request is refused: shown on a page, never redirected.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The hint is not a token of this portal.
    #[error("id_token_hint is not valid")]
    BadHint,
    /// `client_id` names no client or disagrees with the hint.
    #[error("unknown client")]
    BadClient,
    /// The return address is not registered for the client (or no client is named).
    #[error("post_logout_redirect_uri is not registered")]
    BadRedirect,
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
}

/// Checks `/oauth2/logout` parameters.
pub async fn check(
    ctx: Ctx<'_>,
    params: &HashMap<String, String>,
) -> Result<LogoutRequest, LogoutError> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut client_id = get("client_id").map(str::to_owned);
    let mut hint_sub = None;
    if let Some(hint) = get("id_token_hint") {
        let claims = super::keys::verify_own(ctx.db, ctx.keys, &super::issuer(ctx.config), hint)
            .await
            .ok_or(LogoutError::BadHint)?;
        let aud = claims["aud"]
            .as_str()
            .or_else(|| claims["aud"][0].as_str())
            .ok_or(LogoutError::BadHint)?;
        if client_id.as_deref().is_some_and(|c| c != aud) {
            return Err(LogoutError::BadClient);
        }
        client_id = Some(aud.to_owned());
        hint_sub = claims["sub"].as_str().map(str::to_owned);
    }
    let client = match &client_id {
        Some(id) => Some(
            store::find_client(ctx.db, id)
                .await?
                .ok_or(LogoutError::BadClient)?,
        ),
        None => None,
    };
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let registered: Vec<String> = client
                .as_ref()
                .map(|c| {
                    let mut list: Vec<String> =
                        serde_json::from_str(&c.post_logout_redirect_uris).unwrap_or_default();
                    // ESIA integrations return people to their redirect URIs after logout.
                    if c.certificate.is_some() {
                        list.extend(
                            serde_json::from_str::<Vec<String>>(&c.redirect_uris)
                                .unwrap_or_default(),
                        );
                    }
                    list
                })
                .unwrap_or_default();
            // Compared exactly, as redirect URIs are.
            if !registered.iter().any(|r| r == uri) {
                return Err(LogoutError::BadRedirect);
            }
            Some(redirect_with(uri, &[("state", get("state"))]))
        }
    };
    Ok(LogoutRequest {
        client,
        hint_sub,
        redirect,
    })
}

/// Whether the hint names this account, so the portal may sign out without asking.
pub fn hint_names(ctx: Ctx<'_>, req: &LogoutRequest, account_id: Uuid) -> bool {
    match (&req.client, &req.hint_sub) {
        (Some(client), Some(sub)) => subject(ctx, client, account_id) == *sub,
        _ => false,
    }
}
