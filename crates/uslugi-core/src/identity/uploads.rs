//! Uploads of document scans: JPG, PNG or PDF up to 5 MB, the type decided by the content (magic
//! bytes and an intact end), never by the name; stored encrypted through the object-store port
//! ([`LocalDirStore`] by default); read back only by the owner.

use std::path::PathBuf;

use uslugi_store::{Db, identity::uploads as store, now_ms};
use uuid::Uuid;

use crate::{BoxFuture, CryptoError, DataCipher, Keys};

/// Largest accepted file.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub(crate) const NAME_PURPOSE: &str = "uploads.file_name";
pub(crate) const BODY_PURPOSE: &str = "uploads.body";

/// Accepted file kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// PDF.
    Pdf,
}

impl Kind {
    /// MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Pdf => "application/pdf",
        }
    }

    /// Short name for people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Jpeg => "JPG",
            Kind::Png => "PNG",
            Kind::Pdf => "PDF",
        }
    }
}

/// Why a file is refused; the messages go next to the file field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No file chosen.
    #[error("Выберите файл: скан или фото страницы паспорта в формате JPG, PNG или PDF")]
    Missing,
    /// Zero bytes.
    #[error("Файл пустой. Загрузите скан или фото в формате JPG, PNG или PDF")]
    Empty,
    /// Over the limit.
    #[error("Файл больше 5 МБ. Уменьшите размер или качество скана и загрузите снова")]
    TooLarge,
    /// Not one of the accepted kinds (TIFF, HEIC, an executable…).
    #[error("Этот формат не подходит. Загрузите файл JPG, PNG или PDF")]
    Unsupported,
    /// Starts like an accepted kind but is cut off or damaged.
    #[error("Файл повреждён или загружен не полностью. Сохраните его заново и загрузите ещё раз")]
    Truncated,
}

/// Decides the kind from the bytes.
pub fn sniff(bytes: &[u8]) -> Result<Kind, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // A JPEG ends with the EOI marker (some writers pad after it).
        let tail = &bytes[bytes.len().saturating_sub(64)..];
        return if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
            Ok(Kind::Jpeg)
        } else {
            Err(FileError::Truncated)
        };
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        let tail = &bytes[bytes.len().saturating_sub(12)..];
        return if tail.len() == 12 && &tail[4..8] == b"IEND" {
            Ok(Kind::Png)
        } else {
            Err(FileError::Truncated)
        };
    }
    if bytes.starts_with(b"%PDF-") {
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        return if tail.windows(5).any(|w| w == b"%%EOF") {
            Ok(Kind::Pdf)
        } else {
            Err(FileError::Truncated)
        };
    }
    Err(FileError::Unsupported)
}

/// Errors of the object store.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    /// I/O.
    #[error("object store: {0}")]
    Io(#[from] std::io::Error),
    /// Bad key.
    #[error("object store: invalid key")]
    BadKey,
}

/// Port: where file bytes live.
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Stores bytes under a key.
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), ObjectStoreError>>;
    /// Reads the bytes of a key.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, ObjectStoreError>>;
    /// Removes a key; a missing key is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), ObjectStoreError>>;
}

/// The built-in adapter: files in a local directory.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// A store under `root` (created on first write).
    pub fn new(root: PathBuf) -> LocalDirStore {
        LocalDirStore { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectStoreError> {
        // Keys are made here from UUIDs; anything else is refused, so a key cannot climb out.
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(ObjectStoreError::BadKey);
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl ObjectStore for LocalDirStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), ObjectStoreError>> {
        Box::pin(async move {
            let path = self.path(key)?;
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let tmp = path.with_extension("tmp");
            tokio::fs::write(&tmp, &bytes).await?;
            let f = tokio::fs::File::open(&tmp).await?;
            f.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, ObjectStoreError>> {
        Box::pin(async move { Ok(tokio::fs::read(self.path(key)?).await?) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), ObjectStoreError>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)?).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }
}

/// An upload as listed.
#[derive(Debug, Clone)]
pub struct UploadInfo {
    /// Id.
    pub id: Uuid,
    /// The original file name.
    pub file_name: String,
    /// Kind.
    pub kind_label: &'static str,
    /// Size in bytes.
    pub size: i64,
}

/// Errors of the upload use cases.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is refused.
    #[error(transparent)]
    File(#[from] FileError),
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Object store.
    #[error(transparent)]
    Objects(#[from] ObjectStoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn clean_name(name: &str, kind: Kind) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if cleaned.trim().is_empty() {
        format!("Скан.{}", kind.label().to_lowercase())
    } else {
        cleaned
    }
}

/// Checks and stores a file for an account.
pub async fn save(
    db: &Db,
    keys: &Keys,
    objects: &dyn ObjectStore,
    account_id: Uuid,
    purpose: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<UploadInfo, UploadError> {
    let kind = sniff(bytes)?;
    let id = Uuid::new_v4();
    let key = id.to_string();
    objects
        .put(&key, keys.cipher().encrypt_bytes(BODY_PURPOSE, bytes)?)
        .await?;
    let name = clean_name(file_name, kind);
    store::insert(
        db,
        store::UploadRow {
            id,
            account_id,
            purpose: purpose.to_owned(),
            content_type: kind.content_type().to_owned(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            file_name: keys.cipher().encrypt(NAME_PURPOSE, &name)?,
            object_key: key,
            created_at: now_ms(),
        },
    )
    .await?;
    // Only the newest file of a purpose is ever used: the ones it replaces go, so that uploading
    // again and again cannot fill the object store (at most one file per account and purpose).
    for old in store::superseded(db, account_id, purpose).await? {
        store::delete(db, old.id).await?;
        if let Err(e) = objects.delete(&old.object_key).await {
            tracing::warn!(error = %e, "cannot remove a replaced upload's file");
        }
    }
    Ok(UploadInfo {
        id,
        file_name: name,
        kind_label: kind.label(),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
    })
}

fn label_of(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "JPG",
        "image/png" => "PNG",
        _ => "PDF",
    }
}

/// The newest upload of an account for a purpose.
pub async fn latest(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
    purpose: &str,
) -> Result<Option<UploadInfo>, UploadError> {
    let Some(row) = store::latest(db, account_id, purpose).await? else {
        return Ok(None);
    };
    Ok(Some(UploadInfo {
        id: row.id,
        file_name: keys.cipher().decrypt(NAME_PURPOSE, &row.file_name)?,
        kind_label: label_of(&row.content_type),
        size: row.size,
    }))
}

/// Reads a file of its owner: (content type, file name, bytes). `None` for anyone else's.
pub async fn read(
    db: &Db,
    keys: &Keys,
    objects: &dyn ObjectStore,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<(String, String, Vec<u8>)>, UploadError> {
    let Some(row) = store::find_for_account(db, id, account_id).await? else {
        return Ok(None);
    };
    let bytes = keys
        .cipher()
        .decrypt_bytes(BODY_PURPOSE, &objects.get(&row.object_key).await?)?;
    let name = keys.cipher().decrypt(NAME_PURPOSE, &row.file_name)?;
    Ok(Some((row.content_type, name, bytes)))
}

/// «84 КБ», «1,2 МБ».
pub fn human_size(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} КБ", (bytes + 1023) / 1024)
    } else {
        let tenths = (bytes * 10 + 512 * 1024) / (1024 * 1024);
        format!("{},{} МБ", tenths / 10, tenths % 10)
    }
}

/// Rewrites every stored file not yet under the active data key (the rotation of the data key;
/// the file names are a column of [`super::ENCRYPTED`]), from the upload after `after`, stopping
/// once about `budget` uploads have been read; returns what was done and where to go on (`None`
/// at the end). Files are never changed in place by anyone else, so each is read, re-encrypted
/// and put back.
pub async fn reencrypt_objects(
    db: &Db,
    cipher: &DataCipher,
    objects: &dyn ObjectStore,
    mut after: Option<Uuid>,
    batch: u64,
    budget: u64,
) -> Result<(crate::kernel::rekey::ColumnReport, Option<Uuid>), UploadError> {
    let mut report = crate::kernel::rekey::ColumnReport {
        column: "uploads (files)".into(),
        ..Default::default()
    };
    let mut read = 0u64;
    loop {
        let rows = store::object_keys_after(db, after, batch).await?;
        let Some((last, _)) = rows.last() else {
            return Ok((report, None));
        };
        after = Some(*last);
        for (_, key) in &rows {
            let bytes = match objects.get(key).await {
                Ok(bytes) => bytes,
                // Deleted since the row was read (an account removed meanwhile).
                Err(ObjectStoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.changed_meanwhile += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match cipher.reencrypt_bytes(BODY_PURPOSE, &bytes) {
                Ok(Some(new)) => {
                    objects.put(key, new).await?;
                    report.rewritten += 1;
                }
                Ok(None) => {}
                Err(_) => {
                    tracing::warn!("a stored file no key decrypts");
                    report.unreadable += 1;
                }
            }
        }
        read = read.saturating_add(batch);
        if read >= budget {
            return Ok((report, after));
        }
    }
}

/// How many stored files each of `key_ids` encrypts, as (key id, count); zero counts left out.
pub async fn objects_by_key(
    db: &Db,
    objects: &dyn ObjectStore,
    key_ids: &[String],
) -> Result<Vec<(String, u64)>, UploadError> {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    let mut after = None;
    loop {
        let rows = store::object_keys_after(db, after, 500).await?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(*last);
        for (_, key) in &rows {
            let Ok(bytes) = objects.get(key).await else {
                continue;
            };
            if let Some(kid) = key_ids.iter().find(|kid| {
                bytes.starts_with(kid.as_bytes()) && bytes.get(kid.len()) == Some(&b':')
            }) {
                *counts.entry(kid.clone()).or_default() += 1;
            }
        }
    }
    Ok(counts.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        v.extend_from_slice(&[0; 20]);
        v.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
        v
    }

    #[test]
    fn accepted_kinds_are_told_by_content() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9]),
            Ok(Kind::Jpeg)
        );
        assert_eq!(sniff(&png()), Ok(Kind::Png));
        assert_eq!(sniff(b"%PDF-1.7\n1 0 obj\n%%EOF\n"), Ok(Kind::Pdf));
    }

    #[test]
    fn other_kinds_and_damaged_files_are_refused() {
        assert_eq!(sniff(b""), Err(FileError::Empty));
        assert_eq!(
            sniff(&[0x49, 0x49, 0x2A, 0x00, 1, 2]),
            Err(FileError::Unsupported),
            "TIFF"
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Err(FileError::Unsupported),
            "HEIC"
        );
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0"),
            Err(FileError::Unsupported),
            "a renamed .exe"
        );
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), Err(FileError::Unsupported));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]),
            Err(FileError::Truncated)
        );
        let mut p = png();
        p.truncate(p.len() - 5);
        assert_eq!(sniff(&p), Err(FileError::Truncated));
        assert_eq!(sniff(b"%PDF-1.7\n1 0 obj"), Err(FileError::Truncated));
        assert_eq!(sniff(&vec![0xFF; MAX_BYTES + 1]), Err(FileError::TooLarge));
    }

    #[test]
    fn sizes_read_like_the_portal_writes_them() {
        assert_eq!(human_size(84 * 1024), "84 КБ");
        assert_eq!(human_size(1_258_291), "1,2 МБ");
    }

    #[tokio::test]
    async fn the_local_store_refuses_keys_that_could_escape() {
        let s = LocalDirStore::new(std::env::temp_dir().join("uslugi-objects-test"));
        assert!(matches!(
            s.put("../x", vec![1]).await,
            Err(ObjectStoreError::BadKey)
        ));
        assert!(matches!(s.get("").await, Err(ObjectStoreError::BadKey)));
    }
}
