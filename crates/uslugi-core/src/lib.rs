//! Uslugi use cases, the ports through which they reach external systems, the adapters behind
//! those ports, and the background worker.

pub mod accounts;
pub mod alerts;
pub mod banks;
pub mod captcha;
pub mod config;
pub mod contacts;
pub mod crypto;
pub mod deactivation;
pub mod delivery;
pub mod esia;
pub mod factors;
pub mod kernel;
pub mod login;
pub mod lost_factor;
pub mod oidc;
pub mod ops;
pub mod passkeys;
pub mod passwords;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod registries;
pub mod roles;
pub mod security;
pub mod sessions;
pub mod support;
pub mod uploads;
pub mod worker;

pub use config::{Config, Mode};
pub use crypto::{BlindIndex, CryptoError, DataCipher, Keys};
pub use kernel::Ctx;
// The kernel every layer above shares: the database handle and its error, and the clock. The
// web layer reaches the store only through this crate.
pub use uslugi_store::{Db, StoreError, now_ms};

use std::{future::Future, pin::Pin};

/// A boxed future, the return type of port methods so that ports can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
