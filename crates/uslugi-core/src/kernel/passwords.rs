//! Password hashing with Argon2id, off the async threads and behind a semaphore sized to the
//! cores, so a burst of logins queues instead of exhausting memory.
//!
//! Each hash needs `argon2_memory_kib` of working memory. Allocating it per hash costs page
//! faults on every call and, worse, makes glibc keep the freed 19 MiB in the arena of whichever
//! blocking thread ran the hash: after a burst the process held about 19 MiB per blocking thread
//! ever used. So the working memory comes from a pool of at most one buffer per permit, reused
//! warm; the peak stays at cores × `argon2_memory_kib`.

use std::sync::{Arc, Mutex};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{PasswordVerifier as _, phc::PasswordHash},
};
use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD as B64};
use tokio::sync::Semaphore;

use crate::kernel::config::AuthConfig;

/// Errors of hashing (never of a wrong password, which is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
pub enum PasswordHashError {
    /// Bad parameters or an internal failure of the hasher.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The hasher shared by the application.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    pool: Arc<Mutex<Vec<Vec<Block>>>>,
    cores: usize,
}

/// Bytes of a hash's output and of a new salt.
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("m_kib", &self.params.m_cost())
            .field("t", &self.params.t_cost())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// A hasher with the configured strength.
    pub fn new(config: &AuthConfig) -> Result<Passwords, PasswordHashError> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        Ok(Passwords {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            pool: Arc::new(Mutex::new(Vec::new())),
            cores,
        })
    }

    /// Runs `f` with working memory of `blocks` blocks from the pool (or new, if the pool has
    /// none of that size), and gives it back afterwards.
    fn with_memory<T>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let taken = self.pool.lock().ok().and_then(|mut p| {
            p.iter()
                .position(|b| b.len() == blocks)
                .map(|i| p.swap_remove(i))
        });
        let mut memory = taken.unwrap_or_else(|| vec![Block::default(); blocks]);
        let out = f(&mut memory);
        // The buffer keeps password-derived data until the next hash overwrites it; it never
        // leaves the process. Only buffers of the configured size are kept (an old hash with
        // other parameters gets a one-off buffer).
        if blocks == self.params.block_count()
            && let Ok(mut p) = self.pool.lock()
            && p.len() < self.cores
        {
            p.push(memory);
        }
        out
    }

    /// Argon2id v1.3 of `password` with `salt` at `params` into `out`, on pooled memory.
    fn compute(
        &self,
        params: Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordHashError> {
        let blocks = params.block_count();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        self.with_memory(blocks, |memory| {
            argon2
                .hash_password_into_with_memory(password, salt, out, memory)
                .map_err(|e| PasswordHashError::Hash(e.to_string()))
        })
    }

    /// Hashes a password to a PHC string, synchronously (on a blocking thread).
    fn hash_blocking(&self, password: &str) -> Result<String, PasswordHashError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let mut out = [0u8; OUTPUT_LEN];
        self.compute(self.params.clone(), password.as_bytes(), &salt, &mut out)?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            B64.encode(salt),
            B64.encode(out)
        ))
    }

    /// Checks a password against a PHC string, synchronously (on a blocking thread).
    fn verify_blocking(&self, hash: &str, password: &str) -> Result<bool, PasswordHashError> {
        use subtle::ConstantTimeEq;
        let parsed = PasswordHash::new(hash).map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let ours =
            parsed.algorithm.as_str() == "argon2id" && parsed.version.is_none_or(|v| v == 19);
        let (Some(salt), Some(expected), true) = (&parsed.salt, &parsed.hash, ours) else {
            // Anything else (argon2i, an old version) through the library's own path.
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
            return Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok());
        };
        let params =
            Params::try_from(&parsed).map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let mut out = vec![0u8; expected.len()];
        self.compute(params, password.as_bytes(), salt.as_ref(), &mut out)?;
        Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    }

    /// Hashes a password to a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, PasswordHashError> {
        // The permit moves into the blocking task: if the request is cancelled, the hash still
        // runs to the end, and the permit must stay taken until it does.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.hash_blocking(&password)
        })
        .await
        .map_err(|e| PasswordHashError::Hash(e.to_string()))?
    }

    /// Checks a password against a PHC string (with the parameters stored in it).
    pub async fn verify(&self, hash: String, password: String) -> Result<bool, PasswordHashError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.verify_blocking(&hash, &password)
        })
        .await
        .map_err(|e| PasswordHashError::Hash(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Passwords {
        Passwords::new(&AuthConfig {
            argon2_memory_kib: 256,
            argon2_iterations: 1,
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let p = fast();
        let h = p.hash("Пароль-надёжный1".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert!(
            p.verify(h.clone(), "Пароль-надёжный1".into())
                .await
                .unwrap()
        );
        assert!(!p.verify(h, "Пароль-надёжный2".into()).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_agree_with_the_library_both_ways() {
        use argon2::password_hash::PasswordHasher as _;
        let p = fast();
        let ours = p.hash("Пароль-надёжный1".into()).await.unwrap();
        let lib = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.params.clone());
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            lib.verify_password("Пароль-надёжный1".as_bytes(), &parsed)
                .is_ok()
        );
        assert!(
            lib.verify_password("Пароль-надёжный2".as_bytes(), &parsed)
                .is_err()
        );
        let theirs = lib.hash_password(b"Another#Pass9").unwrap().to_string();
        assert!(
            p.verify(theirs.clone(), "Another#Pass9".into())
                .await
                .unwrap()
        );
        assert!(!p.verify(theirs, "Another#Pass8".into()).await.unwrap());
        // A hash made with other parameters still verifies (a one-off buffer).
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(512, 2, 1, None).unwrap(),
        )
        .hash_password(b"Old#Param5")
        .unwrap()
        .to_string();
        assert!(p.verify(other, "Old#Param5".into()).await.unwrap());
        // The pool keeps at most one buffer per core, of the configured size only.
        let pool = p.pool.lock().unwrap();
        assert!(pool.len() <= p.cores && pool.iter().all(|b| b.len() == p.params.block_count()));
    }

    #[tokio::test]
    async fn the_default_strength_is_the_designed_one() {
        let p = Passwords::new(&AuthConfig::default()).unwrap();
        assert_eq!(
            (p.params.m_cost(), p.params.t_cost(), p.params.p_cost()),
            (19 * 1024, 2, 1)
        );
    }
}
