//! The web layer of Uslugi: HTML pages, JSON API, operations endpoints and the middleware that
//! every response passes through (security headers, request ids, sessions, CSRF, limits,
//! metrics).

pub mod api;
pub mod assets;
pub mod backoffice;
pub mod cabinet;
pub mod context;
pub mod device;
pub mod error;
pub mod explain;
pub mod forms;
pub mod identity;
pub mod layout;
pub mod messages;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod principal;
pub mod problem;
pub mod routes;
pub mod server;
pub mod services;
pub mod session;
pub mod site;
pub mod sso;

use std::sync::Arc;

use axum::Router;
use uslugi_core::Db;
use uslugi_core::{Config, Keys, Mode};

pub use error::AppError;

/// Shared state of every handler. Cheap to clone — one reference count — since every handler and middleware layer takes its own
/// copy (cloning the fields one by one showed up in profiles of the token endpoint).
#[derive(Debug, Clone)]
pub struct AppState(Arc<State>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct State {
    /// Database pool: every write, and reads that decide a write.
    pub db: Db,
    /// Page reads that decide nothing (the session, what a page shows). On SQLite read-only
    /// connections used on the request's thread, beside the one writer; otherwise `db`.
    pub reader: uslugi_core::Reader,
    /// Configuration.
    pub config: Arc<Config>,
    /// Keys for personal data.
    pub keys: Keys,
    /// Prometheus exporter handle.
    pub metrics: metrics::Metrics,
    /// Password hasher (bounded concurrency).
    pub passwords: uslugi_core::kernel::passwords::Passwords,
    /// Where uploaded files live (encrypted).
    pub objects: Arc<dyn uslugi_core::identity::uploads::ObjectStore>,
    /// The single writer of token exchanges (group commit).
    pub tokens: Arc<uslugi_core::sso::oidc::batch::TokenWriter>,
    /// The captcha asked after repeated failed sign-ins.
    pub captcha: Arc<dyn uslugi_core::identity::captcha::Captcha>,
    /// The services catalogue and its search index, loaded on first use.
    shelf: tokio::sync::OnceCell<Arc<uslugi_core::services::catalogue::Shelf>>,
    /// When this node last asked whether the catalogue changed (Unix ms).
    shelf_checked: std::sync::atomic::AtomicI64,
    /// The home page's popular-services block for the catalogue version it was rendered from:
    /// the busiest page, and its cards change only with the catalogue.
    pub home_popular: std::sync::Mutex<Option<(i64, Arc<str>)>>,
}

/// Why the application state cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The password-hashing parameters are invalid.
    #[error("invalid password hashing settings: {0}")]
    Passwords(#[from] uslugi_core::kernel::passwords::PasswordHashError),
    /// The captcha adapter cannot be set up.
    #[error("captcha: {0}")]
    Captcha(String),
}

impl AppState {
    /// Builds the state.
    ///
    /// # Errors
    /// When the password-hashing parameters are invalid or the captcha cannot be set up.
    pub fn new(db: Db, config: Config, keys: Keys) -> Result<AppState, StateError> {
        let reader = uslugi_core::Reader::Pool(db.clone());
        AppState::with_reader(db, reader, config, keys)
    }

    /// Builds the state with a separate pool for page reads (see [`State::reader`]).
    ///
    /// # Errors
    /// As [`AppState::new`].
    pub fn with_reader(
        db: Db,
        reader: uslugi_core::Reader,
        config: Config,
        keys: Keys,
    ) -> Result<AppState, StateError> {
        let passwords = uslugi_core::kernel::passwords::Passwords::new(&config.auth)?;
        let captcha = uslugi_core::identity::captcha::from_config(&config.captcha)
            .map_err(StateError::Captcha)?;
        let objects = Arc::new(uslugi_core::identity::uploads::LocalDirStore::new(
            config.data_dir.join("objects"),
        ));
        Ok(AppState(Arc::new(State {
            objects,
            captcha,
            reader,
            tokens: Arc::new(uslugi_core::sso::oidc::batch::TokenWriter::new(db.clone())),
            db,
            config: Arc::new(config),
            keys,
            metrics: metrics::Metrics::global(),
            passwords,
            shelf: tokio::sync::OnceCell::new(),
            shelf_checked: std::sync::atomic::AtomicI64::new(0),
            home_popular: std::sync::Mutex::new(None),
        })))
    }

    /// The catalogue this node serves. Another node's import reaches this one within
    /// [`CATALOGUE_CHECK_MS`]: the stored version is compared that often.
    ///
    /// # Errors
    /// When the catalogue cannot be read.
    pub async fn catalogue(
        &self,
    ) -> Result<Arc<uslugi_core::services::catalogue::Live>, error::AppError> {
        use std::sync::atomic::Ordering;
        let shelf = self
            .shelf
            .get_or_try_init(|| async {
                uslugi_core::services::catalogue::Shelf::load(&self.db)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(error::AppError::internal)?;
        let now = uslugi_core::now_ms();
        let last = self.shelf_checked.load(Ordering::Relaxed);
        if now - last > CATALOGUE_CHECK_MS
            && self
                .shelf_checked
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            && let Err(e) = shelf.refresh(&self.db).await
        {
            tracing::warn!(error = %e, "cannot refresh the catalogue; serving the one loaded");
        }
        Ok(shelf.get())
    }

    /// Whether development-only pages (`/dev/outbox`) are served.
    pub fn dev_mode(&self) -> bool {
        self.config.mode == Mode::Development
    }
}

impl std::ops::Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

/// How often a node compares its catalogue's version with the stored one.
pub const CATALOGUE_CHECK_MS: i64 = 10_000;

/// The whole application: routes and middleware.
pub fn app(state: AppState) -> Router {
    middleware::wrap(routes::router(state.clone()), state)
}
