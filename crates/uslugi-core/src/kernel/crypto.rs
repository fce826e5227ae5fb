//! Encryption of personal data at rest and blind indexes for looking it up.
//!
//! Ciphertext is self-describing text: `<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, so old rows
//! stay readable after a new key becomes active, and a re-encryption job can find them by key id.
//! Each value is bound to its purpose (the associated data, e.g. `outbox.recipient`), so a
//! ciphertext copied into another column does not decrypt.

use std::{collections::BTreeMap, path::Path};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD as B64};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Errors of key handling and decryption.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The key file is not valid.
    #[error("key file is invalid: {0}")]
    Invalid(String),
    /// A ciphertext names a key that is not configured.
    #[error("unknown data key id {0:?}")]
    UnknownKey(String),
    /// A ciphertext is malformed or was tampered with.
    #[error("ciphertext cannot be decrypted")]
    Decrypt,
}

/// The key file as written on disk.
#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    active_data_key: String,
    data_keys: BTreeMap<String, String>,
    blind_index_key: String,
}

/// All secret keys of the portal, loaded from configuration, never from the database.
#[derive(Clone)]
pub struct Keys {
    cipher: DataCipher,
    blind_index: BlindIndex,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("active_data_key", &self.cipher.active)
            .finish_non_exhaustive()
    }
}

fn random_key() -> Result<[u8; 32], CryptoError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| CryptoError::Invalid(format!("no randomness: {e}")))?;
    Ok(key)
}

fn decode_key(name: &str, b64: &str) -> Result<SecretSlice<u8>, CryptoError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| CryptoError::Invalid(format!("{name} is not base64")))?;
    if bytes.len() != 32 {
        return Err(CryptoError::Invalid(format!("{name} must be 32 bytes")));
    }
    Ok(bytes.into())
}

impl Keys {
    /// Fresh random keys (development and tests).
    pub fn generate() -> Result<Keys, CryptoError> {
        let file = KeyFile {
            active_data_key: "k1".into(),
            data_keys: BTreeMap::from([(
                "k1".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(random_key()?),
            )]),
            blind_index_key: base64::engine::general_purpose::STANDARD.encode(random_key()?),
        };
        Keys::from_file(&file)
    }

    fn from_file(file: &KeyFile) -> Result<Keys, CryptoError> {
        let mut keys = BTreeMap::new();
        for (id, b64) in &file.data_keys {
            if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(CryptoError::Invalid(format!(
                    "data key id {id:?} must be 1–32 ASCII letters or digits"
                )));
            }
            let key = decode_key(&format!("data_keys.{id}"), b64)?;
            let aes = Aes256Gcm::new_from_slice(key.expose_secret())
                .map_err(|_| CryptoError::Invalid("bad AES key length".into()))?;
            keys.insert(id.clone(), aes);
        }
        if !keys.contains_key(&file.active_data_key) {
            return Err(CryptoError::Invalid(format!(
                "active_data_key {:?} is not among data_keys",
                file.active_data_key
            )));
        }
        Ok(Keys {
            cipher: DataCipher {
                active: file.active_data_key.clone(),
                keys: std::sync::Arc::new(keys),
            },
            blind_index: BlindIndex {
                key: std::sync::Arc::new(decode_key("blind_index_key", &file.blind_index_key)?),
            },
        })
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Keys, CryptoError> {
        let text = std::fs::read_to_string(path).map_err(|source| CryptoError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let file: KeyFile =
            toml::from_str(&text).map_err(|e| CryptoError::Invalid(e.message().to_owned()))?;
        Keys::from_file(&file)
    }

    /// Reads the key file, creating it with fresh keys first if it does not exist (development
    /// mode only). Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Keys, bool), CryptoError> {
        if path.exists() {
            return Ok((Keys::load(path)?, false));
        }
        let io = |source| CryptoError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let file = KeyFile {
            active_data_key: "k1".into(),
            data_keys: BTreeMap::from([(
                "k1".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(random_key()?),
            )]),
            blind_index_key: base64::engine::general_purpose::STANDARD.encode(random_key()?),
        };
        let text = format!(
            "# Uslugi development keys, generated on first start. Keep this file secret.\n{}",
            toml::to_string(&file).map_err(|e| CryptoError::Invalid(e.to_string()))?
        );
        write_private(path, &text).map_err(io)?;
        Ok((Keys::from_file(&file)?, true))
    }

    /// The cipher for personal data.
    pub fn cipher(&self) -> &DataCipher {
        &self.cipher
    }

    /// The blind index for lookups.
    pub fn blind_index(&self) -> &BlindIndex {
        &self.blind_index
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// AES-256-GCM over text values, with key ids for rotation.
#[derive(Clone)]
pub struct DataCipher {
    active: String,
    keys: std::sync::Arc<BTreeMap<String, Aes256Gcm>>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataCipher")
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl DataCipher {
    /// Id of the key new ciphertext is made with.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Encrypts `plaintext` for the column or purpose `purpose`.
    pub fn encrypt(&self, purpose: &str, plaintext: &str) -> Result<String, CryptoError> {
        let aes = self
            .keys
            .get(&self.active)
            .ok_or_else(|| CryptoError::UnknownKey(self.active.clone()))?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Decrypt)?;
        let ct = aes
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(format!("{}:{}", self.active, B64.encode(out)))
    }

    /// Encrypts bytes (files): `<key id>:` then nonce ‖ ciphertext ‖ tag.
    pub fn encrypt_bytes(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let aes = self
            .keys
            .get(&self.active)
            .ok_or_else(|| CryptoError::UnknownKey(self.active.clone()))?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Decrypt)?;
        let ct = aes
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = Vec::with_capacity(self.active.len() + 1 + 12 + ct.len());
        out.extend_from_slice(self.active.as_bytes());
        out.push(b':');
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts bytes made by [`DataCipher::encrypt_bytes`].
    pub fn decrypt_bytes(&self, purpose: &str, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let colon = data
            .iter()
            .take(33)
            .position(|b| *b == b':')
            .ok_or(CryptoError::Decrypt)?;
        let kid = std::str::from_utf8(&data[..colon]).map_err(|_| CryptoError::Decrypt)?;
        let aes = self
            .keys
            .get(kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_owned()))?;
        let rest = &data[colon + 1..];
        if rest.len() < 12 + 16 {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = rest.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        aes.decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ct,
                aad: purpose.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Decrypt)
    }

    /// Decrypts a value made by [`DataCipher::encrypt`] with the same purpose.
    pub fn decrypt(&self, purpose: &str, ciphertext: &str) -> Result<String, CryptoError> {
        let (kid, b64) = ciphertext.split_once(':').ok_or(CryptoError::Decrypt)?;
        let aes = self
            .keys
            .get(kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_owned()))?;
        let raw = B64.decode(b64).map_err(|_| CryptoError::Decrypt)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let pt = aes
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Decrypt)
    }
}

/// HMAC-SHA256 of a normalised value, for unique constraints and lookups without plaintext.
#[derive(Clone)]
pub struct BlindIndex {
    key: std::sync::Arc<SecretSlice<u8>>,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndex(..)")
    }
}

impl BlindIndex {
    /// The index of `value` within `domain` (e.g. `phone`), as lowercase hex. The caller
    /// normalises the value first (the domain types do).
    pub fn compute(&self, domain: &str, value: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.expose_secret()) else {
            unreachable!("HMAC accepts keys of any length")
        };
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_round_trips_and_hides_the_plaintext() {
        let keys = Keys::generate().unwrap();
        let ct = keys
            .cipher()
            .encrypt("outbox.recipient", "+79123456789")
            .unwrap();
        assert!(!ct.contains("79123456789"));
        assert!(ct.starts_with("k1:"));
        assert_eq!(
            keys.cipher().decrypt("outbox.recipient", &ct).unwrap(),
            "+79123456789"
        );
    }

    #[test]
    fn ciphertext_does_not_decrypt_for_another_purpose() {
        let keys = Keys::generate().unwrap();
        let ct = keys.cipher().encrypt("outbox.recipient", "a@b.ru").unwrap();
        assert!(matches!(
            keys.cipher().decrypt("outbox.body", &ct),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn tampered_ciphertext_is_refused() {
        let keys = Keys::generate().unwrap();
        let mut ct = keys.cipher().encrypt("p", "secret").unwrap();
        let last = ct.pop().unwrap();
        ct.push(if last == 'A' { 'B' } else { 'A' });
        assert!(keys.cipher().decrypt("p", &ct).is_err());
    }

    #[test]
    fn same_value_encrypts_differently_each_time_but_indexes_the_same() {
        let keys = Keys::generate().unwrap();
        let a = keys.cipher().encrypt("p", "x").unwrap();
        let b = keys.cipher().encrypt("p", "x").unwrap();
        assert_ne!(a, b);
        let bi = keys.blind_index();
        assert_eq!(
            bi.compute("phone", "+79123456789"),
            bi.compute("phone", "+79123456789")
        );
        assert_ne!(
            bi.compute("phone", "+79123456789"),
            bi.compute("email", "+79123456789")
        );
        assert_eq!(bi.compute("phone", "x").len(), 64);
    }

    #[test]
    fn key_file_is_created_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("uslugi-keys-{}", uuid::Uuid::new_v4()));
        let path = dir.join("keys.toml");
        let (k1, created) = Keys::load_or_create(&path).unwrap();
        assert!(created);
        let (k2, created) = Keys::load_or_create(&path).unwrap();
        assert!(!created);
        let ct = k1.cipher().encrypt("p", "данные").unwrap();
        assert_eq!(k2.cipher().decrypt("p", &ct).unwrap(), "данные");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_file_with_a_short_key_is_refused() {
        let file = KeyFile {
            active_data_key: "k1".into(),
            data_keys: BTreeMap::from([("k1".to_owned(), "AAAA".to_owned())]),
            blind_index_key: "AAAA".into(),
        };
        assert!(matches!(
            Keys::from_file(&file),
            Err(CryptoError::Invalid(_))
        ));
    }
}
