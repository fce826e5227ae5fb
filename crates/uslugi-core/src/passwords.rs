//! Password hashing with Argon2id, off the async threads and behind a semaphore sized to the
//! cores, so a burst of logins queues instead of exhausting memory (each hash takes
//! `argon2_memory_kib`).

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::config::AuthConfig;

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
}

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
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password to a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, PasswordHashError> {
        // The permit moves into the blocking task: if the request is cancelled, the hash still
        // runs to the end, and the permit must stay taken until it does.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PasswordHashError::Hash(e.to_string()))?;
        let argon2 = self.argon2();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| PasswordHashError::Hash(e.to_string()))
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
        let argon2 = self.argon2();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let parsed =
                PasswordHash::new(&hash).map_err(|e| PasswordHashError::Hash(e.to_string()))?;
            Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok())
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
    async fn the_default_strength_is_the_designed_one() {
        let p = Passwords::new(&AuthConfig::default()).unwrap();
        assert_eq!(
            (p.params.m_cost(), p.params.t_cost(), p.params.p_cost()),
            (19 * 1024, 2, 1)
        );
    }
}
