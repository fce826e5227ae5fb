//! Token signing keys: an RS256 (RSA 2048) and an ES256 (P-256) key are active at a time; a
//! rotation adds a new pair and retires the old one, which stays in the JWKS until every token it
//! signed has expired. Private keys are stored encrypted (PKCS#8).

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair as RsaKeyPair, KeySize},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, EncodingKey, jwk::Jwk};
use sea_orm::TransactionTrait;
use serde_json::Value;
use uslugi_store::{Db, now_ms, oidc as store};

use crate::{CryptoError, Keys};

const PURPOSE: &str = "signing_keys.private_key";

/// Errors of key handling.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Generating or reading a key failed.
    #[error("signing key: {0}")]
    Key(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn key_err(e: impl std::fmt::Display) -> KeyError {
    KeyError::Key(e.to_string())
}

/// A key ready to sign.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: Algorithm,
    /// The private key.
    pub key: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// PKCS#8 DER as PEM (jsonwebtoken reads RSA keys in PKCS#8 only from PEM).
fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

fn generate(alg: Algorithm) -> Result<String, KeyError> {
    let der = match alg {
        Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(key_err)?
            .as_der()
            .map_err(key_err)?
            .as_ref()
            .to_vec(),
        _ => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(key_err)?
            .as_ref()
            .to_vec(),
    };
    Ok(pem(&der))
}

fn new_kid() -> Result<String, KeyError> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).map_err(key_err)?;
    Ok(crate::crypto::hex(&b))
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        _ => "ES256",
    }
}

fn load(keys: &Keys, row: &store::SigningKeyRow) -> Result<SigningKey, KeyError> {
    let pem = keys.cipher().decrypt(PURPOSE, &row.private_key)?;
    let (alg, key) = match row.alg.as_str() {
        "RS256" => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(key_err)?,
        ),
        "ES256" => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem.as_bytes()).map_err(key_err)?,
        ),
        other => return Err(KeyError::Key(format!("unknown algorithm {other}"))),
    };
    Ok(SigningKey {
        kid: row.kid.clone(),
        alg,
        key,
    })
}

async fn add_pair(
    db: &impl sea_orm::ConnectionTrait,
    keys: &Keys,
    now: i64,
) -> Result<(), KeyError> {
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let sealed = keys.cipher().encrypt(PURPOSE, &generate(alg)?)?;
        store::insert_key(db, &new_kid()?, alg_name(alg), sealed, now).await?;
    }
    Ok(())
}

/// Makes sure an RS256 and an ES256 key are active (at the first start).
pub async fn ensure(db: &Db, keys: &Keys) -> Result<(), KeyError> {
    let active = store::active_keys(db).await?;
    let has = |a: &str| active.iter().any(|k| k.alg == a);
    if has("RS256") && has("ES256") {
        return Ok(());
    }
    add_pair(db, keys, now_ms()).await
}

/// Adds a new key pair and retires the older ones, which stay published for `TOKEN_TTL_SECS`
/// more (tokens they signed stay verifiable until they expire). Returns the retired count.
pub async fn rotate(db: &Db, keys: &Keys) -> Result<u64, KeyError> {
    let now = now_ms();
    let txn = db.begin().await.map_err(uslugi_store::StoreError::from)?;
    let retired =
        store::retire_keys_before(&txn, now + 1, now + super::TOKEN_TTL_SECS * 1000, now).await?;
    add_pair(&txn, keys, now + 1).await?;
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    Ok(retired)
}

/// The active key for an algorithm.
pub async fn signing_key(db: &Db, keys: &Keys, alg: Algorithm) -> Result<SigningKey, KeyError> {
    let find = |rows: Vec<store::SigningKeyRow>| rows.into_iter().find(|k| k.alg == alg_name(alg));
    let row = match find(store::active_keys(db).await?) {
        Some(row) => row,
        None => {
            // `serve` makes the keys at start; a portal embedded otherwise makes them here.
            ensure(db, keys).await?;
            find(store::active_keys(db).await?)
                .ok_or_else(|| KeyError::Key(format!("no active {} key", alg_name(alg))))?
        }
    };
    load(keys, &row)
}

/// The JSON Web Key Set to publish: public parts only.
pub async fn jwks(db: &Db, keys: &Keys) -> Result<Value, KeyError> {
    let mut list = Vec::new();
    for row in store::published_keys(db, now_ms()).await? {
        let k = load(keys, &row)?;
        let mut jwk = Jwk::from_encoding_key(&k.key, k.alg).map_err(key_err)?;
        jwk.common.key_id = Some(k.kid.clone());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        list.push(serde_json::to_value(&jwk).map_err(key_err)?);
    }
    Ok(serde_json::json!({ "keys": list }))
}

/// Checks a token this portal signed (an `id_token_hint`): the signature against the published
/// keys and the issuer; expiry is not checked, since a hint may be an old ID token. Returns the
/// claims.
pub async fn verify_own(db: &Db, keys: &Keys, issuer: &str, token: &str) -> Option<Value> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return None;
    }
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks(db, keys).await.ok()?).ok()?;
    let jwk = set.find(header.kid.as_deref()?)?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).ok()?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .ok()
        .map(|d| d.claims)
}
