//! Files on cases. The content is written first, addressed by its SHA-256, through
//! [`BlobStore`]; the attachment row that names it is written in the transaction of its
//! comment (or case), so a file is never visible on a comment that was not saved. Content
//! whose row never committed is harmless: nothing names it.

use crate::rows::Flag;
use crate::{Result, Store, StoreError};
use backline_domain::{CaseId, CommentId, Timestamp, UserId};
use sqlx::{Any, FromRow, Transaction};
use std::future::Future;
use std::pin::Pin;

/// What a [`BlobStore`] call returns: boxed, so the store can be a trait object.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where file content lives. The database is the default, so several nodes sharing one
/// PostgreSQL see every file; a directory or an object store can implement this instead.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `sha256` (their hash, hex). Storing the same content twice is fine.
    fn put<'a>(&'a self, sha256: &'a str, bytes: &'a [u8]) -> BlobFuture<'a, ()>;
    /// The content, or `NotFound`.
    fn get<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Vec<u8>>;
}

impl BlobStore for Store {
    fn put<'a>(&'a self, sha256: &'a str, bytes: &'a [u8]) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha256)
            .bind(bytes.len() as i64)
            .bind(bytes)
            .execute(&self.write)
            .await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let row: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT data FROM blobs WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(&self.read)
                    .await?;
            row.map(|(data,)| data).ok_or(StoreError::NotFound)
        })
    }
}

/// A file to attach, whose content is already in the [`BlobStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A file on a case.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct AttachmentRecord {
    pub id: i64,
    pub case_id: CaseId,
    /// `None`: it came with the case itself, or (when `pending`) it waits for a comment.
    pub comment_id: Option<CommentId>,
    #[sqlx(rename = "uploader_id")]
    pub uploader: Option<UserId>,
    #[sqlx(try_from = "Flag")]
    pub pending: bool,
    /// As the comment it belongs to: an internal note's files are internal.
    #[sqlx(try_from = "Flag")]
    pub public: bool,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, case_id, comment_id, uploader_id, pending, public, file_name, \
     content_type, size, sha256, created_at";

/// What files are attached to: a case's comment (or the case itself), by whom, when.
#[derive(Clone, Copy)]
pub(crate) struct AttachTo {
    pub case: CaseId,
    pub comment: Option<CommentId>,
    pub uploader: Option<UserId>,
    pub public: bool,
    pub at: Timestamp,
}

/// Inside a comment's or case's transaction: writes the rows for `files`, and adopts the
/// uploader's own pending uploads on the same case (refusing any other id).
pub(crate) async fn attach_in(
    tx: &mut Transaction<'_, Any>,
    to: &AttachTo,
    files: &[NewAttachment],
    pending: &[i64],
) -> Result<()> {
    let AttachTo {
        case,
        comment,
        uploader,
        public,
        at,
    } = *to;
    for file in files {
        sqlx::query(
            "INSERT INTO attachments (case_id, comment_id, uploader_id, pending, public, file_name, \
             content_type, size, sha256, created_at) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9)",
        )
        .bind(case)
        .bind(comment)
        .bind(uploader)
        .bind(i64::from(public))
        .bind(&file.file_name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.sha256)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    for id in pending {
        let adopted = sqlx::query(
            "UPDATE attachments SET comment_id = $1, pending = 0, public = $2 \
             WHERE id = $3 AND case_id = $4 AND uploader_id = $5 AND pending = 1",
        )
        .bind(comment)
        .bind(i64::from(public))
        .bind(id)
        .bind(case)
        .bind(uploader)
        .execute(&mut **tx)
        .await?;
        if adopted.rows_affected() == 0 {
            return Err(StoreError::Invalid {
                field: "attachments",
                message: format!(
                    "attachment {id} is not a file you uploaded to this case and have not used yet"
                ),
            });
        }
    }
    Ok(())
}

impl Store {
    /// An upload waiting for the comment that will reference it.
    pub async fn upload_attachment(
        &self,
        case: CaseId,
        uploader: UserId,
        file: &NewAttachment,
    ) -> Result<AttachmentRecord> {
        let row: AttachmentRecord = sqlx::query_as(&format!(
            "INSERT INTO attachments (case_id, uploader_id, pending, public, file_name, content_type, \
             size, sha256, created_at) VALUES ($1, $2, 1, 0, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        ))
        .bind(case)
        .bind(uploader)
        .bind(&file.file_name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.sha256)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        Ok(row)
    }

    pub async fn attachment(&self, id: i64) -> Result<AttachmentRecord> {
        let row: AttachmentRecord =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok(row)
    }

    /// The case's files in one query, oldest first: internal ones only when asked for;
    /// pending uploads never (they belong to no comment yet).
    pub async fn case_attachments(
        &self,
        case: CaseId,
        include_internal: bool,
    ) -> Result<Vec<AttachmentRecord>> {
        let rows: Vec<AttachmentRecord> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE case_id = $1 AND pending = 0 \
             AND (public = 1 OR $2 = 1) ORDER BY id"
        ))
        .bind(case)
        .bind(i64::from(include_internal))
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }
}
