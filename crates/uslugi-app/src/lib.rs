//! The composition root: the portal assembled from its parts. The features define their job
//! handlers and ports; this crate chooses the adapters the configuration names and lists every
//! handler once. The binary, the test kit and the benchmarks all build through it, and no
//! feature needs to know about the others.

use std::sync::Arc;

use uslugi_core::{
    BoxFuture, Config, DataCipher, Db, Keys,
    identity::{contacts, deactivation, profile, registries, uploads},
    kernel::{
        delivery::Senders,
        rekey::{self, ColumnReport, Cursor, Slice},
        worker::{JobError, JobHandler, Worker},
    },
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
    let files = objects(config);
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
            files.clone(),
        )),
    )
    .with_handler(
        contacts::APPLY_JOB,
        Arc::new(contacts::ContactApply::new(db.clone(), keys.clone())),
    )
    .with_handler(
        rekey::JOB,
        Arc::new(DataKeyRotation {
            db,
            cipher: keys.cipher().clone(),
            objects: files,
        }),
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

/// One slice of the re-encryption under the active data key: the columns of
/// [`encrypted_columns`] in turn, then the uploaded files (the place after the last column), from
/// `cursor`, until about `budget` rows have been read. Returns what was done and where to go on
/// (`None`: everything is under the active key, apart from what the reports call unreadable).
///
/// # Errors
/// Storage or object-store failures, as text for the caller's log.
pub async fn reencrypt_slice(
    db: &Db,
    cipher: &DataCipher,
    objects: &dyn uploads::ObjectStore,
    cursor: Cursor,
    batch: u64,
    budget: u64,
) -> Result<(Vec<ColumnReport>, Option<Cursor>), String> {
    let columns = encrypted_columns();
    let mut reports = Vec::new();
    let files = columns.len();
    let mut cursor = cursor;
    if cursor.column < files {
        let (done, next) = rekey::reencrypt_from(db, cipher, &columns, cursor, batch, budget)
            .await
            .map_err(|e| e.to_string())?;
        reports = done;
        match next {
            Some(next) => return Ok((reports, Some(next))),
            None => {
                cursor = Cursor {
                    column: files,
                    after: None,
                }
            }
        }
    }
    let after = cursor
        .after
        .as_deref()
        .map(uuid::Uuid::parse_str)
        .transpose()
        .map_err(|e| format!("bad cursor: {e}"))?;
    let (report, next) = uploads::reencrypt_objects(db, cipher, objects, after, batch, budget)
        .await
        .map_err(|e| e.to_string())?;
    reports.push(report);
    Ok((
        reports,
        next.map(|id| Cursor {
            column: files,
            after: Some(id.to_string()),
        }),
    ))
}

/// The job [`rekey::JOB`]: a slice at a time, each queuing the next, so a large database is
/// re-encrypted in the background without any slice outliving its lease.
#[derive(Debug)]
struct DataKeyRotation {
    db: Db,
    cipher: DataCipher,
    objects: Arc<dyn uploads::ObjectStore>,
}

/// Rows read per slice of the job: a few seconds of work, well inside the worker's lease.
const SLICE_ROWS: u64 = 2_000;

impl DataKeyRotation {
    async fn slice(&self, payload: &str) -> Result<(), JobError> {
        let slice: Slice =
            serde_json::from_str(payload).map_err(|e| JobError::Permanent(e.to_string()))?;
        if self.cipher.active_key_id() != slice.key {
            // Started before the key file changed: another worker, or this one restarted, will.
            return Err(JobError::Temporary(format!(
                "this worker encrypts with {}, not {}: restart it with the new key file",
                self.cipher.active_key_id(),
                slice.key
            )));
        }
        let (reports, next) = reencrypt_slice(
            &self.db,
            &self.cipher,
            self.objects.as_ref(),
            slice.cursor.clone(),
            500,
            SLICE_ROWS,
        )
        .await
        .map_err(JobError::Temporary)?;
        let rewritten: u64 = reports.iter().map(|r| r.rewritten).sum();
        let unreadable: u64 = reports.iter().map(|r| r.unreadable).sum();
        tracing::info!(key = %slice.key, round = slice.round, rewritten, unreadable, "data key rotation");
        if let Some(cursor) = next {
            rekey::schedule(
                &self.db,
                &Slice {
                    key: slice.key,
                    cursor,
                    round: slice.round + 1,
                },
            )
            .await
            .map_err(|e| JobError::Temporary(e.to_string()))?;
        } else {
            tracing::info!(key = %slice.key, "data key rotation: every value is under the active key");
        }
        Ok(())
    }
}

impl JobHandler for DataKeyRotation {
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.slice(payload))
    }
}
