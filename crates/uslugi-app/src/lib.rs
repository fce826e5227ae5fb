//! The composition root: the portal assembled from its parts. The features define their job
//! handlers and ports; this crate chooses the adapters the configuration names and lists every
//! handler once. The binary, the test kit and the benchmarks all build through it, and no
//! feature needs to know about the others.

use std::sync::Arc;

use uslugi_core::{
    Config, Db, Keys, identity::contacts, identity::deactivation, identity::profile,
    identity::registries, identity::uploads, kernel::delivery::Senders, kernel::worker::Worker,
};

/// The worker with every job handler of the portal, using the built-in adapters the
/// configuration names.
///
/// # Errors
/// When an adapter cannot be set up.
pub fn worker(config: &Config, db: Db, keys: &Keys) -> Result<Worker, String> {
    let senders = Senders::from_config(config, db.clone(), keys.cipher().clone())
        .map_err(|e| e.to_string())?;
    let registries = registries::from_config(&config.registries)?;
    let objects = objects(config);
    Ok(Worker::new(
        db.clone(),
        keys.cipher().clone(),
        senders,
        config.worker.clone(),
    )
    .with_session_idle_minutes(config.web.session_idle_minutes)
    .with_handler(
        profile::REGISTRY_CHECK,
        Arc::new(profile::RegistryCheck::new(
            db.clone(),
            keys.clone(),
            registries,
        )),
    )
    .with_handler(
        deactivation::DELETE_JOB,
        Arc::new(deactivation::AccountDeletion::new(
            db.clone(),
            config.auth.deactivation_grace_days,
            objects,
        )),
    )
    .with_handler(
        contacts::APPLY_JOB,
        Arc::new(contacts::ContactApply::new(db, keys.clone())),
    ))
}

/// The store of uploaded files the configuration names (the built-in one: files under the data
/// directory, as the web layer opens it).
pub fn objects(config: &Config) -> Arc<dyn uploads::ObjectStore> {
    Arc::new(uploads::LocalDirStore::new(config.data_dir.join("objects")))
}

/// Every encrypted column of the portal, as each feature lists its own: what the rotation of
/// the data key rewrites and counts.
pub fn encrypted_columns() -> Vec<uslugi_core::kernel::rekey::Encrypted> {
    [
        uslugi_core::identity::ENCRYPTED,
        uslugi_core::sso::ENCRYPTED,
        uslugi_core::cabinet::ENCRYPTED,
        uslugi_core::kernel::delivery::ENCRYPTED,
    ]
    .concat()
}
