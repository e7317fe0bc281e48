//! Group commit for case creation on SQLite.
//!
//! SQLite has one writer; committing each new case on its own makes the commit, not the work,
//! the limit. The batcher takes every creation waiting at that moment and writes them in one
//! transaction. A batch that fails is replayed one case per transaction, so one bad row never
//! fails the others and every caller gets its own answer. Queue turns taken by the cases of a
//! failed batch roll back with it and are taken again in the replay.

use crate::cases::insert_case;
use crate::{Backend, Change};
use crate::{NewCase, Result, StoreError};
use backline_domain::CaseId;
use sqlx::AnyPool;
use tokio::sync::{broadcast, mpsc, oneshot};

/// At most this many cases in one transaction, so one batch cannot hold the writer for long.
const MAX_BATCH: usize = 256;

type Request = (NewCase, oneshot::Sender<Result<CaseId>>);

#[derive(Clone)]
pub(crate) struct CaseBatcher {
    requests: mpsc::Sender<Request>,
}

impl CaseBatcher {
    /// Starts the writer task; it ends when every handle is dropped.
    /// Committed cases are announced on `changes`.
    pub fn start(pool: AnyPool, changes: broadcast::Sender<Change>) -> Self {
        let (requests, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(pool, receiver, changes));
        CaseBatcher { requests }
    }

    pub async fn create(&self, case: NewCase) -> Result<CaseId> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((case, reply))
            .await
            .map_err(|_| StoreError::Config("the store is closed".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Config("the case writer stopped".into()))?
    }
}

async fn write_batches(
    pool: AnyPool,
    mut receiver: mpsc::Receiver<Request>,
    changes: broadcast::Sender<Change>,
) {
    let announce = |result: &Result<CaseId>| {
        if let Ok(id) = result {
            let _ = changes.send(Change::Case(*id));
        }
    };
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        match write_all(&pool, &batch).await {
            Ok(ids) => {
                for ((_, reply), id) in batch.drain(..).zip(ids) {
                    let result = Ok(id);
                    announce(&result);
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, size = batch.len(), "case batch failed; writing one by one");
                for (case, reply) in batch.drain(..) {
                    let result = write_one(&pool, &case).await;
                    announce(&result);
                    let _ = reply.send(result);
                }
            }
        }
    }
}

async fn write_all(pool: &AnyPool, batch: &[Request]) -> Result<Vec<CaseId>> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(batch.len());
    for (case, _) in batch {
        ids.push(insert_case(&mut tx, Backend::Sqlite, case).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

async fn write_one(pool: &AnyPool, case: &NewCase) -> Result<CaseId> {
    let mut tx = pool.begin().await?;
    let id = insert_case(&mut tx, Backend::Sqlite, case).await?;
    tx.commit().await?;
    Ok(id)
}
