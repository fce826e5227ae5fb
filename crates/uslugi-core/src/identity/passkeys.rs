//! Security keys and passkeys (WebAuthn, through webauthn-rs): added in the security cabinet,
//! asked as a second factor after the password, or used alone — «Войти по биометрии» — since a
//! passkey with user verification is itself two factors (the device and the fingerprint, face or
//! PIN that unlocks it).
//!
//! The ceremony state (challenge) stays on the server, in the session; the credential (public
//! key and signature counter) is stored encrypted in `second_factors`. The user handle given to
//! authenticators is the account id, which says nothing about the person.

use sea_orm::TransactionTrait;
use uslugi_store::{
    identity::accounts::{self as store_accounts, status},
    identity::factors::{self as store, NewFactor, kind},
    identity::login_attempts,
    now_ms,
};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use crate::{
    Config,
    identity::factors::{self, FactorError},
    identity::login::Client,
    kernel::{Ctx, client_key},
};

/// Cipher purpose of stored passkeys.
pub(crate) const PURPOSE: &str = "second_factors.passkey";

/// Errors of the ceremonies.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The browser's answer does not verify (wrong challenge, origin, signature, counter…).
    #[error("passkey not accepted: {0}")]
    Rejected(String),
    /// The key is not registered to any usable account.
    #[error("unknown passkey")]
    Unknown,
    /// Too many refused answers from this client recently.
    #[error("throttled")]
    Throttled,
    /// The relying party is misconfigured.
    #[error("webauthn configuration: {0}")]
    Config(String),
    /// Factor storage.
    #[error(transparent)]
    Factor(#[from] FactorError),
}

impl From<uslugi_store::StoreError> for PasskeyError {
    fn from(e: uslugi_store::StoreError) -> Self {
        PasskeyError::Factor(e.into())
    }
}

impl From<crate::CryptoError> for PasskeyError {
    fn from(e: crate::CryptoError) -> Self {
        PasskeyError::Factor(e.into())
    }
}

/// The relying party: its id is the host of the public URL. Browsers refuse IP addresses as
/// relying-party ids, so a development portal on `http://127.0.0.1:PORT` takes passkeys at
/// `http://localhost:PORT`.
pub fn relying_party(config: &Config) -> Result<Webauthn, PasskeyError> {
    let bad = |e: &dyn std::fmt::Display| PasskeyError::Config(e.to_string());
    let public = Url::parse(&config.public_url).map_err(|e| bad(&e))?;
    let host = public.host_str().unwrap_or("localhost").to_owned();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    let (rp_id, origin) = if is_ip {
        let mut local = public.clone();
        local.set_host(Some("localhost")).map_err(|e| bad(&e))?;
        ("localhost".to_owned(), local)
    } else {
        (host, public.clone())
    };
    let mut builder = WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| bad(&e))?
        .rp_name("Госуслуги");
    if is_ip {
        builder = builder.append_allowed_origin(&public);
    }
    builder.build().map_err(|e| bad(&e))
}

fn rejected(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Rejected(e.to_string())
}

fn slot_of(cred_id: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "webauthn:{}",
        crate::kernel::crypto::hex(&Sha256::digest(cred_id))
    )
}

/// The account's passkeys with their factor ids.
async fn passkeys_of(ctx: Ctx<'_>, account_id: Uuid) -> Result<Vec<(Uuid, Passkey)>, PasskeyError> {
    let mut out = Vec::new();
    for f in store::of_account(ctx.db, account_id).await? {
        if f.kind != kind::WEBAUTHN {
            continue;
        }
        let json = ctx
            .keys
            .cipher()
            .decrypt(PURPOSE, f.secret.as_deref().unwrap_or_default())?;
        let pk: Passkey = serde_json::from_str(&json).map_err(rejected)?;
        out.push((f.id, pk));
    }
    Ok(out)
}

/// Asks the authenticator to keep the credential (a «resident», discoverable key), so that it
/// can sign in without a login; the server side does not depend on it.
fn discoverable(mut options: serde_json::Value) -> serde_json::Value {
    if let Some(sel) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|v| v.as_object_mut())
    {
        sel.insert("residentKey".into(), "required".into());
        sel.insert("requireResidentKey".into(), true.into());
    }
    options
}

/// Starts adding a passkey: the options for `navigator.credentials.create` and the state to
/// keep. The key is asked to be discoverable, so it can later sign in without the password.
pub async fn start_registration(
    ctx: Ctx<'_>,
    account_id: Uuid,
    display_name: &str,
) -> Result<(serde_json::Value, String), PasskeyError> {
    let rp = relying_party(ctx.config)?;
    let existing = passkeys_of(ctx, account_id).await?;
    let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect();
    let (options, state) = rp
        .start_passkey_registration(
            account_id,
            &account_id.to_string(),
            display_name,
            Some(exclude),
        )
        .map_err(rejected)?;
    Ok((
        discoverable(serde_json::to_value(&options).map_err(rejected)?),
        serde_json::to_string(&state).map_err(rejected)?,
    ))
}

/// Finishes adding a passkey. Returns new backup codes when the account had none.
pub async fn finish_registration(
    ctx: Ctx<'_>,
    account_id: Uuid,
    state: &str,
    credential: &str,
    label: &str,
) -> Result<Option<Vec<String>>, PasskeyError> {
    let rp = relying_party(ctx.config)?;
    let state: PasskeyRegistration = serde_json::from_str(state).map_err(rejected)?;
    let reg: RegisterPublicKeyCredential = serde_json::from_str(credential).map_err(rejected)?;
    let passkey = rp
        .finish_passkey_registration(&reg, &state)
        .map_err(rejected)?;
    let slot = slot_of(passkey.cred_id().as_ref());
    let json = serde_json::to_string(&passkey).map_err(rejected)?;
    let label: String = label.trim().chars().take(60).collect();
    Ok(factors::add(
        ctx,
        NewFactor {
            account_id,
            kind: kind::WEBAUTHN.into(),
            slot,
            label: Some(if label.is_empty() {
                "Ключ доступа".into()
            } else {
                label
            }),
            secret: Some(ctx.keys.cipher().encrypt(PURPOSE, &json)?),
        },
        None,
        "добавлен ключ доступа (ключ безопасности или биометрия)",
    )
    .await?)
}

/// Starts a passkey check for an account that gave its password: the options for
/// `navigator.credentials.get` and the state to keep.
pub async fn start_authentication(
    ctx: Ctx<'_>,
    account_id: Uuid,
) -> Result<(serde_json::Value, String), PasskeyError> {
    let rp = relying_party(ctx.config)?;
    let keys: Vec<Passkey> = passkeys_of(ctx, account_id)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if keys.is_empty() {
        return Err(PasskeyError::Unknown);
    }
    let (options, state) = rp.start_passkey_authentication(&keys).map_err(rejected)?;
    Ok((
        serde_json::to_value(&options).map_err(rejected)?,
        serde_json::to_string(&state).map_err(rejected)?,
    ))
}

/// Starts a sign-in with a discoverable passkey and no login («Войти по биометрии»).
pub fn start_discoverable(config: &Config) -> Result<(serde_json::Value, String), PasskeyError> {
    let rp = relying_party(config)?;
    let (mut options, state) = rp.start_discoverable_authentication().map_err(rejected)?;
    // A button starts this ceremony, so it is a modal one, not the autofill («conditional») kind.
    options.mediation = None;
    Ok((
        serde_json::to_value(&options).map_err(rejected)?,
        serde_json::to_string(&state).map_err(rejected)?,
    ))
}

/// Whom a refused answer counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountedAgainst {
    /// The account: its password was proven in this sign-in, so the answer is the owner's.
    Account,
    /// The client: with no password, the account is only what the answer names (a user
    /// handle any service's `sub` reveals), and a stranger must not be able to spend the
    /// owner's factor limit by naming it.
    Client,
}

/// Verifies an assertion against one of the account's passkeys, stores the new counter and
/// records the attempt.
async fn verify_and_record(
    ctx: Ctx<'_>,
    account_id: Uuid,
    check: impl FnOnce(
        &[(Uuid, Passkey)],
    ) -> Result<(Uuid, webauthn_rs::prelude::AuthenticationResult), PasskeyError>,
    client: &Client<'_>,
    against: CountedAgainst,
) -> Result<(), PasskeyError> {
    let now = now_ms();
    let keys = passkeys_of(ctx, account_id).await?;
    let result = check(&keys);
    let identifier = match against {
        CountedAgainst::Account => ctx
            .keys
            .blind_index()
            .compute("factor", &account_id.to_string()),
        CountedAgainst::Client => ctx.keys.blind_index().compute("passkey-client", client.ip),
    };
    let named = match against {
        CountedAgainst::Account => Some(account_id),
        CountedAgainst::Client => result.is_ok().then_some(account_id),
    };
    login_attempts::record(
        ctx.db,
        login_attempts::Attempt {
            account_id: named,
            identifier_blind: &identifier,
            client_blind: &client_key(ctx.keys, client.ip),
            success: result.is_ok(),
            method: "passkey",
            client_info: crate::identity::login::client_info(ctx.keys, client),
        },
        now,
    )
    .await?;
    let (factor_id, auth) = result?;
    if let Some((_, mut pk)) = keys.into_iter().find(|(id, _)| *id == factor_id)
        && pk.update_credential(&auth) == Some(true)
    {
        let json = serde_json::to_string(&pk).map_err(rejected)?;
        let sealed = ctx.keys.cipher().encrypt(PURPOSE, &json)?;
        let txn = ctx
            .db
            .begin()
            .await
            .map_err(uslugi_store::StoreError::from)?;
        store::set_secret(&txn, factor_id, &sealed, now).await?;
        txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    }
    Ok(())
}

/// Finishes the second step with a passkey.
pub async fn finish_authentication(
    ctx: Ctx<'_>,
    account_id: Uuid,
    state: &str,
    credential: &str,
    client: &Client<'_>,
) -> Result<(), PasskeyError> {
    let rp = relying_party(ctx.config)?;
    let state: PasskeyAuthentication = serde_json::from_str(state).map_err(rejected)?;
    let cred: PublicKeyCredential = serde_json::from_str(credential).map_err(rejected)?;
    verify_and_record(
        ctx,
        account_id,
        |keys| {
            let auth = rp
                .finish_passkey_authentication(&cred, &state)
                .map_err(rejected)?;
            let id = keys
                .iter()
                .find(|(_, p)| p.cred_id() == auth.cred_id())
                .map(|(id, _)| *id)
                .ok_or(PasskeyError::Unknown)?;
            Ok((id, auth))
        },
        client,
        CountedAgainst::Account,
    )
    .await
}

/// Finishes a sign-in with a discoverable passkey; returns the account. Only an active account
/// signs in this way (a deactivated or blocked one takes the password route, with its messages).
pub async fn finish_discoverable(
    ctx: Ctx<'_>,
    state: &str,
    credential: &str,
    client: &Client<'_>,
) -> Result<Uuid, PasskeyError> {
    let rp = relying_party(ctx.config)?;
    // Refused answers count against the client, like failed sign-ins from it.
    let client_blind = client_key(ctx.keys, client.ip);
    let (_, by_client) = login_attempts::failures_since(
        ctx.db,
        &client_blind,
        &client_blind,
        now_ms() - crate::identity::login::WINDOW_MS,
    )
    .await?;
    if by_client >= ctx.config.auth.login_failures_per_client {
        return Err(PasskeyError::Throttled);
    }
    let state: DiscoverableAuthentication = serde_json::from_str(state).map_err(rejected)?;
    let cred: PublicKeyCredential = serde_json::from_str(credential).map_err(rejected)?;
    let (account_id, cred_id) = rp
        .identify_discoverable_authentication(&cred)
        .map_err(|_| PasskeyError::Unknown)?;
    let cred_id = cred_id.to_vec();
    let active = store_accounts::find_account(ctx.db, account_id)
        .await?
        .is_some_and(|a| a.status == status::ACTIVE);
    if !active {
        return Err(PasskeyError::Unknown);
    }
    verify_and_record(
        ctx,
        account_id,
        |keys| {
            let (id, pk) = keys
                .iter()
                .find(|(_, p)| {
                    let id: &[u8] = p.cred_id().as_ref();
                    id == cred_id.as_slice()
                })
                .ok_or(PasskeyError::Unknown)?;
            let auth = rp
                .finish_discoverable_authentication_v2(&cred, state, pk)
                .map_err(rejected)?;
            Ok((*id, auth))
        },
        client,
        CountedAgainst::Client,
    )
    .await?;
    Ok(account_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_public_url_takes_passkeys_at_localhost() {
        let mut config =
            Config::development("127.0.0.1:8080".parse().unwrap(), "sqlite::memory:".into());
        let rp = relying_party(&config).unwrap();
        let origins: Vec<String> = rp
            .get_allowed_origins()
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            origins,
            ["http://localhost:8080/", "http://127.0.0.1:8080/"]
        );
        config.public_url = "https://uslugi.example.ru".into();
        let rp = relying_party(&config).unwrap();
        let origins: Vec<String> = rp
            .get_allowed_origins()
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(origins, ["https://uslugi.example.ru/"]);
    }

    #[test]
    fn registration_asks_for_a_discoverable_key() {
        let config =
            Config::development("127.0.0.1:8080".parse().unwrap(), "sqlite::memory:".into());
        let rp = relying_party(&config).unwrap();
        let (options, _) = rp
            .start_passkey_registration(Uuid::new_v4(), "a", "A", None)
            .unwrap();
        let json = discoverable(serde_json::to_value(&options).unwrap());
        assert_eq!(json["publicKey"]["rp"]["id"], "localhost");
        assert_eq!(
            json["publicKey"]["authenticatorSelection"]["residentKey"],
            "required"
        );
    }
}
