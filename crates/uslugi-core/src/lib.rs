//! Uslugi use cases, the ports through which they reach external systems, the adapters behind
//! those ports, and the background worker.

pub mod cabinet;
pub mod identity;
pub mod kernel;
pub mod ops;
pub mod services;
pub mod sso;

pub use kernel::Ctx;
pub use kernel::config::{Config, Mode};
pub use kernel::crypto::{BlindIndex, CryptoError, DataCipher, KeyFileEdit, Keys};
// The kernel every layer above shares: the database handle and its error, and the clock. The
// web layer reaches the store only through this crate.
pub use uslugi_store::{Db, StoreError, now_ms, reader::Reader};

use std::{future::Future, pin::Pin};

/// A boxed future, the return type of port methods so that ports can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
