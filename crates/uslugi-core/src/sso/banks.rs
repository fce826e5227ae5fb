//! «Войти через банк»: sign-in through a partner bank, as a client of the bank's OpenID Connect
//! provider (authorization code with PKCE, state and nonce; the ID token checked against the
//! bank's published keys). A bank identity seen for the first time is linked to an existing
//! account only when the bank asserts a *verified* SNILS or phone that matches the account's
//! verified SNILS or confirmed phone; otherwise a simplified account is created from what the bank
//! told. Links are listed in the security cabinet and can be removed.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uslugi_domain::{AccountLevel, Phone, Snils};
use uslugi_store::{
    identity::accounts::{self as store_accounts, status},
    identity::login_attempts,
    identity::personal_data,
    now_ms,
    sso::bank_links,
};
use uuid::Uuid;

use crate::{
    identity::accounts::{Contact, StoredName, encrypt_contact, encrypt_name},
    identity::login::Client,
    kernel::config::BankConfig,
    kernel::{Ctx, client_key},
};

/// Why a bank sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// No such bank configured.
    #[error("unknown bank")]
    Unknown,
    /// The bank cannot be reached or answered nonsense.
    #[error("bank unavailable: {0}")]
    Unavailable(String),
    /// The answer does not check out (state, token, signature, nonce).
    #[error("bank answer refused: {0}")]
    Refused(String),
    /// The person cancelled at the bank.
    #[error("cancelled at the bank")]
    Cancelled,
    /// The bank did not give a name, so no account can be made.
    #[error("the bank gave no name")]
    NoName,
    /// The linked account is blocked or deactivated.
    #[error("account not active")]
    Inactive,
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] crate::CryptoError),
    /// Hashing.
    #[error(transparent)]
    Password(#[from] crate::kernel::passwords::PasswordHashError),
}

fn unavailable(e: impl std::fmt::Display) -> BankError {
    BankError::Unavailable(e.to_string())
}

/// The configured bank with this id.
pub fn find<'a>(config: &'a crate::Config, id: &str) -> Option<&'a BankConfig> {
    config.banks.iter().find(|b| b.id == id)
}

/// Where the bank sends the person back.
pub fn redirect_uri(config: &crate::Config, bank: &BankConfig) -> String {
    format!(
        "{}/login/bank/{}/callback",
        crate::sso::oidc::issuer(config),
        bank.id
    )
}

/// A sign-in under way, kept in the session between the two redirects.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The bank's id.
    pub bank: String,
    /// `state` sent.
    pub state: String,
    /// `nonce` sent.
    pub nonce: String,
    /// PKCE verifier.
    pub verifier: String,
}

fn random() -> Result<String, BankError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| BankError::Unavailable(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

fn http() -> Result<reqwest::Client, BankError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(unavailable)
}

/// A JSON document from the bank (with a bearer token for userinfo).
async fn get_json(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<Value, BankError> {
    let mut req = client.get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    req.send()
        .await
        .map_err(unavailable)?
        .error_for_status()
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)
}

/// Discovery documents by issuer, kept `DISCOVERY_TTL`: anyone can open `/login/bank/{id}`, and
/// each visit must not make the portal fetch from the bank again.
type DiscoveryCache = HashMap<String, (Instant, Value)>;
static DISCOVERY: LazyLock<Mutex<DiscoveryCache>> = LazyLock::new(Mutex::default);
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

async fn discover(bank: &BankConfig) -> Result<Value, BankError> {
    if let Some((at, doc)) = DISCOVERY
        .lock()
        .ok()
        .and_then(|c| c.get(&bank.issuer).cloned())
        && at.elapsed() < DISCOVERY_TTL
    {
        return Ok(doc);
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        bank.issuer.trim_end_matches('/')
    );
    let doc = get_json(&http()?, &url, None).await?;
    if doc["issuer"].as_str() != Some(bank.issuer.as_str()) {
        return Err(BankError::Unavailable(
            "the discovery issuer differs".into(),
        ));
    }
    if let Ok(mut cache) = DISCOVERY.lock() {
        cache.insert(bank.issuer.clone(), (Instant::now(), doc.clone()));
    }
    Ok(doc)
}

fn endpoint<'a>(doc: &'a Value, name: &str) -> Result<&'a str, BankError> {
    doc[name]
        .as_str()
        .ok_or_else(|| BankError::Unavailable(format!("no {name}")))
}

/// Starts a sign-in: the bank's authorization URL and what to keep until the callback.
pub async fn start(
    config: &crate::Config,
    bank: &BankConfig,
) -> Result<(String, Pending), BankError> {
    let doc = discover(bank).await?;
    let pending = Pending {
        bank: bank.id.clone(),
        state: random()?,
        nonce: random()?,
        verifier: random()?,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let redirect = redirect_uri(config, bank);
    let url = crate::sso::oidc::flow::redirect_with(
        endpoint(&doc, "authorization_endpoint")?,
        &[
            ("response_type", Some("code")),
            ("client_id", Some(bank.client_id.as_str())),
            ("redirect_uri", Some(redirect.as_str())),
            ("scope", Some(bank.scopes.as_str())),
            ("state", Some(pending.state.as_str())),
            ("nonce", Some(pending.nonce.as_str())),
            ("code_challenge", Some(challenge.as_str())),
            ("code_challenge_method", Some("S256")),
        ],
    );
    Ok((url, pending))
}

/// What the bank asserted about the person. Phone and SNILS only when the bank says they are
/// verified.
#[derive(Debug, Clone, Default)]
pub struct Asserted {
    /// The bank's subject.
    pub sub: String,
    /// Фамилия.
    pub family_name: Option<String>,
    /// Имя.
    pub given_name: Option<String>,
    /// Отчество.
    pub middle_name: Option<String>,
    /// A verified phone.
    pub phone: Option<Phone>,
    /// A verified SNILS (digits).
    pub snils: Option<String>,
}

fn text(claims: &Value, name: &str) -> Option<String> {
    claims[name]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Finishes at the callback: checks the state, exchanges the code, checks the ID token and reads
/// the claims (ID token and userinfo).
pub async fn finish(
    config: &crate::Config,
    bank: &BankConfig,
    pending: &Pending,
    state: &str,
    code: &str,
) -> Result<Asserted, BankError> {
    if pending.bank != bank.id
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            pending.state.as_bytes(),
            state.as_bytes(),
        ))
    {
        return Err(BankError::Refused("state does not match".into()));
    }
    let doc = discover(bank).await?;
    let client = http()?;
    let tokens: Value = client
        .post(endpoint(&doc, "token_endpoint")?)
        .basic_auth(
            crate::sso::oidc::flow::form_encode(&bank.client_id),
            Some(crate::sso::oidc::flow::form_encode(
                secrecy::ExposeSecret::expose_secret(&bank.client_secret),
            )),
        )
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &redirect_uri(config, bank)),
                ("code_verifier", &pending.verifier),
            ]
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::sso::oidc::flow::form_encode(v)))
            .collect::<Vec<_>>()
            .join("&"),
        )
        .send()
        .await
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| BankError::Refused(format!("no ID token: {}", tokens["error"])))?;
    let header =
        jsonwebtoken::decode_header(id_token).map_err(|e| BankError::Refused(e.to_string()))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256
    ) {
        return Err(BankError::Refused(format!("algorithm {:?}", header.alg)));
    }
    let jwks: JwkSet =
        serde_json::from_value(get_json(&client, endpoint(&doc, "jwks_uri")?, None).await?)
            .map_err(unavailable)?;
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None => jwks.keys.first(),
    }
    .ok_or_else(|| BankError::Refused("unknown signing key".into()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| BankError::Refused(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&bank.client_id]);
    validation.set_issuer(&[&bank.issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let mut claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .map_err(|e| BankError::Refused(e.to_string()))?
        .claims;
    if claims["nonce"].as_str() != Some(pending.nonce.as_str()) {
        return Err(BankError::Refused("nonce does not match".into()));
    }
    let sub = text(&claims, "sub").ok_or_else(|| BankError::Refused("no sub".into()))?;
    // Userinfo adds what the ID token leaves out; it must be about the same subject.
    if let (Ok(url), Some(access)) = (
        endpoint(&doc, "userinfo_endpoint"),
        tokens["access_token"].as_str(),
    ) {
        let info = get_json(&client, url, Some(access)).await?;
        if info["sub"].as_str() == Some(sub.as_str())
            && let (Some(all), Value::Object(extra)) = (claims.as_object_mut(), info)
        {
            for (k, v) in extra {
                all.entry(k).or_insert(v);
            }
        }
    }
    let phone = (claims["phone_number_verified"] == Value::Bool(true))
        .then(|| text(&claims, "phone_number"))
        .flatten()
        .and_then(|p| Phone::parse(&p).ok());
    let snils = (claims["snils_verified"] == Value::Bool(true))
        .then(|| text(&claims, "snils"))
        .flatten()
        .and_then(|s| Snils::parse(&s).ok())
        .map(|s| s.as_digits().to_owned());
    Ok(Asserted {
        sub,
        family_name: text(&claims, "family_name"),
        given_name: text(&claims, "given_name"),
        middle_name: text(&claims, "middle_name"),
        phone,
        snils,
    })
}

/// What a bank sign-in leads to.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// Sign the account in (a second factor, when the account has one, still follows).
    SignIn {
        /// The account.
        account_id: Uuid,
        /// Whether the account was made just now.
        created: bool,
        /// The account's password was issued by an operator and must be changed first.
        must_change_password: bool,
    },
    /// An account with the same verified SNILS or phone exists: its owner must sign in to it the
    /// usual way (password and second factor) before the bank is linked. A phone number may have
    /// changed hands, so a match alone never opens an account.
    Confirm(PendingLink),
}

/// A link waiting for the account owner's sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLink {
    /// The bank's id.
    pub bank: String,
    /// The bank subject's blind index.
    pub subject: String,
    /// The matching account.
    pub account_id: Uuid,
    /// `snils` or `phone`.
    pub by: String,
}

/// Finds what a bank identity leads to: its linked account, a matching account to confirm, or a
/// new simplified account (created here, linked at once).
pub async fn resolve(
    ctx: Ctx<'_>,
    bank: &BankConfig,
    who: &Asserted,
    client: &Client<'_>,
) -> Result<Resolution, BankError> {
    let subject = ctx
        .keys
        .blind_index()
        .compute("bank-subject", &format!("{}:{}", bank.id, who.sub));
    let now = now_ms();
    let (account_id, created) =
        if let Some(link) = bank_links::find(ctx.db, &bank.id, &subject).await? {
            (link.account_id, false)
        } else {
            let by_snils = match &who.snils {
                Some(s) => {
                    personal_data::account_by_verified_snils(
                        ctx.db,
                        &ctx.keys.blind_index().compute("snils", s),
                    )
                    .await?
                }
                None => None,
            };
            let by_phone = match &who.phone {
                Some(p) => store_accounts::find_contact_by_blind(
                    ctx.db,
                    "phone",
                    &Contact::Phone(p.clone()).blind(ctx.keys),
                )
                .await?
                .map(|c| c.account_id),
                None => None,
            };
            if let Some(account_id) = by_snils.or(by_phone) {
                return Ok(Resolution::Confirm(PendingLink {
                    bank: bank.id.clone(),
                    subject,
                    account_id,
                    by: if by_snils.is_some() { "snils" } else { "phone" }.into(),
                }));
            }
            // Hashed before the transaction: it waits for a hashing permit and must not hold the
            // database meanwhile.
            let (Some(_), Some(_)) = (&who.family_name, &who.given_name) else {
                return Err(BankError::NoName);
            };
            let unusable = ctx.passwords.hash(random()?).await?;
            let txn = ctx
                .db
                .begin()
                .await
                .map_err(uslugi_store::StoreError::from)?;
            let account_id = create_account(ctx, &txn, who, unusable, now).await?;
            bank_links::insert(&txn, account_id, &bank.id, &subject, now).await?;
            store_accounts::journal(
                &txn,
                account_id,
                "bank.linked",
                serde_json::json!({ "bank": bank.id, "by": "new account" }),
                now,
            )
            .await?;
            txn.commit().await.map_err(uslugi_store::StoreError::from)?;
            (account_id, true)
        };
    let row = store_accounts::find_account(ctx.db, account_id).await?;
    let active = row.as_ref().is_some_and(|a| a.status == status::ACTIVE);
    let must_change_password = row.as_ref().is_some_and(|a| a.password_temporary);
    login_attempts::record(
        ctx.db,
        login_attempts::Attempt {
            account_id: Some(account_id),
            identifier_blind: &subject,
            client_blind: &client_key(ctx.keys, client.ip),
            success: active,
            method: "bank",
            client_info: crate::identity::login::client_info(ctx.keys, client),
        },
        now,
    )
    .await?;
    if !active {
        return Err(BankError::Inactive);
    }
    Ok(Resolution::SignIn {
        account_id,
        created,
        must_change_password,
    })
}

/// Links the bank after the account's owner signed in; `Ok(false)` when `account_id` is not
/// the matched account (someone else signed in) or the link exists already.
pub async fn confirm_link(
    ctx: Ctx<'_>,
    pending: &PendingLink,
    account_id: Uuid,
) -> Result<bool, BankError> {
    if pending.account_id != account_id
        || bank_links::find(ctx.db, &pending.bank, &pending.subject)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let now = now_ms();
    let txn = ctx
        .db
        .begin()
        .await
        .map_err(uslugi_store::StoreError::from)?;
    bank_links::insert(&txn, account_id, &pending.bank, &pending.subject, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "bank.linked",
        serde_json::json!({ "bank": pending.bank, "by": pending.by }),
        now,
    )
    .await?;
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    Ok(true)
}

/// A simplified account from the bank's data. `unusable` is the hash of a random secret: no
/// password is known; the person signs in through the bank or sets one through recovery.
async fn create_account(
    ctx: Ctx<'_>,
    txn: &(impl sea_orm::ConnectionTrait + sea_orm::TransactionTrait),
    who: &Asserted,
    unusable: String,
    now: i64,
) -> Result<Uuid, BankError> {
    let (Some(last), Some(first)) = (&who.family_name, &who.given_name) else {
        return Err(BankError::NoName);
    };
    let account_id = Uuid::now_v7();
    let level = AccountLevel::Simplified.as_str();
    store_accounts::insert_account(
        txn,
        store_accounts::NewAccount {
            id: account_id,
            level: level.into(),
            name: encrypt_name(
                ctx.keys,
                &StoredName {
                    last: last.clone(),
                    first: first.clone(),
                    middle: who.middle_name.clone(),
                },
            )?,
            password_hash: unusable,
        },
        now,
    )
    .await?;
    store_accounts::record_level(txn, account_id, level, "bank", now).await?;
    if let Some(phone) = &who.phone {
        let contact = Contact::Phone(phone.clone());
        store_accounts::insert_contact(
            txn,
            account_id,
            contact.kind(),
            encrypt_contact(ctx.keys, &contact)?,
            contact.blind(ctx.keys),
            now,
        )
        .await
        .map_err(|e| BankError::Unavailable(format!("contact: {e:?}")))?;
    }
    store_accounts::journal(
        txn,
        account_id,
        "account.created",
        serde_json::json!({ "level": level, "channel": "bank" }),
        now,
    )
    .await?;
    Ok(account_id)
}

/// A bank linked to an account, for the cabinet.
#[derive(Debug, Clone)]
pub struct Link {
    /// Link id.
    pub id: Uuid,
    /// The bank's name (or its id, when it is no longer configured).
    pub bank: String,
    /// When (ms).
    pub linked_at: i64,
}

/// The account's bank links.
pub async fn links(ctx: Ctx<'_>, account_id: Uuid) -> Result<Vec<Link>, BankError> {
    Ok(bank_links::of_account(ctx.db, account_id)
        .await?
        .into_iter()
        .map(|l| Link {
            id: l.id,
            bank: find(ctx.config, &l.provider).map_or(l.provider.clone(), |b| b.name.clone()),
            linked_at: l.created_at,
        })
        .collect())
}

/// Removes a link; `Ok(false)` when it was not there (a repeated form acts once).
pub async fn unlink(ctx: Ctx<'_>, account_id: Uuid, id: Uuid) -> Result<bool, BankError> {
    let txn = ctx
        .db
        .begin()
        .await
        .map_err(uslugi_store::StoreError::from)?;
    let removed = bank_links::delete(&txn, account_id, id).await?;
    if removed {
        store_accounts::journal(
            &txn,
            account_id,
            "bank.unlinked",
            serde_json::json!({}),
            now_ms(),
        )
        .await?;
    }
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    Ok(removed)
}
