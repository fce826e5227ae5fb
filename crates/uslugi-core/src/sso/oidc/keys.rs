//! Token signing keys: an RS256 (RSA 2048) and an ES256 (P-256) key are active at a time; a
//! rotation adds a new pair and retires the old one, which stays in the JWKS until every token it
//! signed has expired. Private keys are stored encrypted (PKCS#8).

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant},
};

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair as RsaKeyPair, KeySize},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256},
};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, EncodingKey, jwk::Jwk};
use sea_orm::TransactionTrait;
use serde_json::Value;
use uslugi_store::{Db, now_ms, sso::oidc as store};

use crate::{CryptoError, Keys};

pub(crate) const PURPOSE: &str = "signing_keys.private_key";

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

/// A parsed private key. Parsing (and aws-lc's key validation) costs more than a signature, so
/// each key is parsed once per process and kept by its `kid`, which never names another key.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

static SIGNERS: LazyLock<Mutex<HashMap<String, Arc<Signer>>>> = LazyLock::new(Mutex::default);

/// The active key rows of a deployment (named by a value derived from its keys), read at most
/// every `ACTIVE_TTL`: every token exchange needs them. A rotation in this process clears the
/// entry; one made by `uslugi admin keys rotate` in another process is picked up within the TTL,
/// and the retired key stays valid and published meanwhile.
type ActiveCache = HashMap<String, (Instant, Vec<store::SigningKeyRow>)>;
static ACTIVE: LazyLock<Mutex<ActiveCache>> = LazyLock::new(Mutex::default);
const ACTIVE_TTL: Duration = Duration::from_secs(30);

fn deployment(keys: &Keys) -> String {
    keys.blind_index().compute("signing-key-cache", "")
}

fn forget_active(keys: &Keys) {
    if let Ok(mut cache) = ACTIVE.lock() {
        cache.remove(&deployment(keys));
    }
}

async fn active_cached(db: &Db, keys: &Keys) -> Result<Vec<store::SigningKeyRow>, KeyError> {
    let id = deployment(keys);
    if let Some((at, rows)) = ACTIVE.lock().ok().and_then(|c| c.get(&id).cloned())
        && at.elapsed() < ACTIVE_TTL
    {
        return Ok(rows);
    }
    let rows = store::active_keys(db).await?;
    if let Ok(mut cache) = ACTIVE.lock() {
        cache.insert(id, (Instant::now(), rows.clone()));
    }
    Ok(rows)
}

/// A key ready to sign.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: Algorithm,
    signer: Arc<Signer>,
}

impl SigningKey {
    /// A compact JWS (`header.claims.signature`) of `claims`, with `typ: JWT` and the `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        let header =
            serde_json::json!({ "alg": alg_name(self.alg), "typ": "JWT", "kid": self.kid });
        let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let rng = SystemRandom::new();
        let signature = match &*self.signer {
            Signer::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
                    .map_err(key_err)?;
                sig
            }
            Signer::Ec(kp) => kp
                .sign(&rng, out.as_bytes())
                .map_err(key_err)?
                .as_ref()
                .to_vec(),
        };
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(out)
    }
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
    Ok(crate::kernel::crypto::hex(&b))
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        _ => "ES256",
    }
}

/// The public key to publish (JWKS), from the stored private key.
fn public_jwk(keys: &Keys, row: &store::SigningKeyRow) -> Result<Jwk, KeyError> {
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
    let mut jwk = Jwk::from_encoding_key(&key, alg).map_err(key_err)?;
    jwk.common.key_id = Some(row.kid.clone());
    jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
    Ok(jwk)
}

/// The signer of a stored key: from the process cache, or decrypted and parsed once.
fn load(keys: &Keys, row: &store::SigningKeyRow) -> Result<SigningKey, KeyError> {
    let alg = match row.alg.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        other => return Err(KeyError::Key(format!("unknown algorithm {other}"))),
    };
    let cached = SIGNERS
        .lock()
        .map_err(|_| KeyError::Key("signer cache poisoned".into()))?
        .get(&row.kid)
        .cloned();
    let signer = match cached {
        Some(s) => s,
        None => {
            let pem = keys.cipher().decrypt(PURPOSE, &row.private_key)?;
            let der = pem_der(&pem)?;
            let signer = Arc::new(match alg {
                Algorithm::RS256 => Signer::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(key_err)?),
                _ => Signer::Ec(
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                        .map_err(key_err)?,
                ),
            });
            SIGNERS
                .lock()
                .map_err(|_| KeyError::Key("signer cache poisoned".into()))?
                .insert(row.kid.clone(), signer.clone());
            signer
        }
    };
    Ok(SigningKey {
        kid: row.kid.clone(),
        alg,
        signer,
    })
}

/// The DER inside a PEM block.
fn pem_der(pem: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).map_err(key_err)
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
    add_pair(db, keys, now_ms()).await?;
    forget_active(keys);
    Ok(())
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
    forget_active(keys);
    Ok(retired)
}

/// The active key for an algorithm.
pub async fn signing_key(db: &Db, keys: &Keys, alg: Algorithm) -> Result<SigningKey, KeyError> {
    let find = |rows: Vec<store::SigningKeyRow>| rows.into_iter().find(|k| k.alg == alg_name(alg));
    let row = match find(active_cached(db, keys).await?) {
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

/// Public JWKs by deployment and `kid`: a key's public part never changes, so it is decrypted
/// and parsed once per process rather than on every `/oauth2/jwks` or logout request.
static PUBLIC: LazyLock<Mutex<HashMap<(String, String), Value>>> = LazyLock::new(Mutex::default);

/// The JSON Web Key Set to publish: public parts only.
pub async fn jwks(db: &Db, keys: &Keys) -> Result<Value, KeyError> {
    let deployment = deployment(keys);
    let mut list = Vec::new();
    for row in store::published_keys(db, now_ms()).await? {
        let id = (deployment.clone(), row.kid.clone());
        if let Some(jwk) = PUBLIC.lock().ok().and_then(|c| c.get(&id).cloned()) {
            list.push(jwk);
            continue;
        }
        let jwk = serde_json::to_value(public_jwk(keys, &row)?).map_err(key_err)?;
        if let Ok(mut cache) = PUBLIC.lock() {
            cache.insert(id, jwk.clone());
        }
        list.push(jwk);
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
