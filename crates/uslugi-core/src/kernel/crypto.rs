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
        Keys::from_file(&read_key_file(path)?)
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

    /// A copy of these keys with one more data key, made the active one (tests of rotation;
    /// the key file itself is edited by [`KeyFileEdit`]). Returns the keys and the new key id.
    pub fn with_new_active_data_key(&self) -> Result<(Keys, String), CryptoError> {
        let kid = next_key_id(self.cipher.keys.keys());
        let aes = Aes256Gcm::new_from_slice(&random_key()?)
            .map_err(|_| CryptoError::Invalid("bad AES key length".into()))?;
        let mut map = (*self.cipher.keys).clone();
        map.insert(kid.clone(), aes);
        let mut keys = self.clone();
        keys.cipher = DataCipher {
            active: kid.clone(),
            keys: std::sync::Arc::new(map),
        };
        Ok((keys, kid))
    }

    /// A copy of these keys without the data key `kid` (which must not be the active one).
    pub fn without_data_key(&self, kid: &str) -> Result<Keys, CryptoError> {
        if kid == self.cipher.active {
            return Err(CryptoError::Invalid(format!(
                "{kid:?} is the active data key"
            )));
        }
        let mut map = (*self.cipher.keys).clone();
        map.remove(kid);
        let mut keys = self.clone();
        keys.cipher.keys = std::sync::Arc::new(map);
        Ok(keys)
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

/// The next free key id after `ids`: `k<n+1>` for the highest `k<n>`.
fn next_key_id<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let highest = ids
        .filter_map(|id| id.strip_prefix('k').and_then(|n| n.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    format!("k{}", highest + 1)
}

/// The staged steps of a data-key rotation, applied to the key file.
///
/// Several nodes read their own copy of the file, so a new key is first *added* (every node
/// can then read what it encrypts), copied to every node, and only then *activated*; after the
/// re-encryption the old key is *retired*. Each step rewrites the file atomically with the same
/// owner-only permissions.
#[derive(Debug)]
pub struct KeyFileEdit {
    path: std::path::PathBuf,
    file: KeyFile,
}

impl KeyFileEdit {
    /// Reads the key file at `path`.
    pub fn open(path: &Path) -> Result<KeyFileEdit, CryptoError> {
        let file = read_key_file(path)?;
        Keys::from_file(&file)?;
        Ok(KeyFileEdit {
            path: path.to_owned(),
            file,
        })
    }

    /// The active data key's id.
    pub fn active(&self) -> &str {
        &self.file.active_data_key
    }

    /// Every data key id, in order.
    pub fn key_ids(&self) -> Vec<String> {
        self.file.data_keys.keys().cloned().collect()
    }

    /// Adds a fresh random data key, not yet active; returns its id.
    pub fn add(&mut self) -> Result<String, CryptoError> {
        let kid = next_key_id(self.file.data_keys.keys());
        self.file.data_keys.insert(
            kid.clone(),
            base64::engine::general_purpose::STANDARD.encode(random_key()?),
        );
        Ok(kid)
    }

    /// Makes `kid` the key new values are encrypted with.
    pub fn activate(&mut self, kid: &str) -> Result<(), CryptoError> {
        if !self.file.data_keys.contains_key(kid) {
            return Err(CryptoError::UnknownKey(kid.to_owned()));
        }
        kid.clone_into(&mut self.file.active_data_key);
        Ok(())
    }

    /// Removes `kid` (never the active key). The caller first checks nothing uses it.
    pub fn retire(&mut self, kid: &str) -> Result<(), CryptoError> {
        if kid == self.file.active_data_key {
            return Err(CryptoError::Invalid(format!(
                "{kid:?} is the active data key: activate another one first"
            )));
        }
        if self.file.data_keys.remove(kid).is_none() {
            return Err(CryptoError::UnknownKey(kid.to_owned()));
        }
        Ok(())
    }

    /// Writes the file back (a new file renamed over the old one) and returns the keys it holds.
    pub fn save(&self) -> Result<Keys, CryptoError> {
        let keys = Keys::from_file(&self.file)?;
        let io = |source| CryptoError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let text = format!(
            "# Uslugi keys. Keep this file secret; rewritten by `uslugi admin data-keys`.\n{}",
            toml::to_string(&self.file).map_err(|e| CryptoError::Invalid(e.to_string()))?
        );
        let tmp = self
            .path
            .with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
        write_private(&tmp, &text).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })?;
        Ok(keys)
    }
}

fn read_key_file(path: &Path) -> Result<KeyFile, CryptoError> {
    let text = std::fs::read_to_string(path).map_err(|source| CryptoError::Io {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| CryptoError::Invalid(e.message().to_owned()))
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

    /// Whether a value (text or bytes) was encrypted with the active key.
    pub fn is_current(&self, data: &[u8]) -> bool {
        data.len() > self.active.len()
            && data.starts_with(self.active.as_bytes())
            && data[self.active.len()] == b':'
    }

    /// `ciphertext` encrypted again under the active key, or `None` when it already is. A column
    /// may hold values of several purposes (second factors: app secrets and passkeys), so each of
    /// `purposes` is tried; the authentication tag tells which one it was made for.
    pub fn reencrypt(
        &self,
        purposes: &[&str],
        ciphertext: &str,
    ) -> Result<Option<String>, CryptoError> {
        if self.is_current(ciphertext.as_bytes()) {
            return Ok(None);
        }
        let mut last = CryptoError::Decrypt;
        for purpose in purposes {
            match self.decrypt(purpose, ciphertext) {
                Ok(plain) => return self.encrypt(purpose, &plain).map(Some),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Bytes made by [`DataCipher::encrypt_bytes`] encrypted again under the active key, or
    /// `None` when they already are.
    pub fn reencrypt_bytes(
        &self,
        purpose: &str,
        data: &[u8],
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        if self.is_current(data) {
            return Ok(None);
        }
        let plain = self.decrypt_bytes(purpose, data)?;
        self.encrypt_bytes(purpose, &plain).map(Some)
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
    fn a_key_file_goes_through_add_activate_and_retire() {
        let dir = std::env::temp_dir().join(format!("uslugi-keys-{}", uuid::Uuid::new_v4()));
        let path = dir.join("keys.toml");
        let (old, _) = Keys::load_or_create(&path).unwrap();
        let before = old.cipher().encrypt("p", "данные").unwrap();

        let mut edit = KeyFileEdit::open(&path).unwrap();
        let kid = edit.add().unwrap();
        assert_eq!(kid, "k2");
        let added = edit.save().unwrap();
        // Added, not active: new values still use k1, and both keys read.
        assert_eq!(added.cipher().active_key_id(), "k1");
        let mut edit = KeyFileEdit::open(&path).unwrap();
        edit.activate("k2").unwrap();
        assert!(matches!(edit.retire("k2"), Err(CryptoError::Invalid(_))));
        let active = edit.save().unwrap();
        let after = active.cipher().encrypt("p", "новые").unwrap();
        assert!(after.starts_with("k2:"));
        assert_eq!(active.cipher().decrypt("p", &before).unwrap(), "данные");

        let mut edit = KeyFileEdit::open(&path).unwrap();
        edit.retire("k1").unwrap();
        let retired = edit.save().unwrap();
        assert!(matches!(
            retired.cipher().decrypt("p", &before),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(retired.cipher().decrypt("p", &after).unwrap(), "новые");
        assert_eq!(KeyFileEdit::open(&path).unwrap().key_ids(), vec!["k2"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
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
