//! The node's categoriser and the background job that keeps it: it learns from the vendor's
//! own categorised cases (on this node, CPU only), learns again when enough new labels have
//! arrived or someone asks (`POST /api/v1/categories/model/retrain`, `backline categories
//! retrain`), and suggests a category for each new case.
//!
//! The model is not stored: every node fits it at start from the cases in the database,
//! which is the record of every label. Training is deterministic (fixed seeds), so nodes
//! over one database fit the same model, and a restarted node suggests as before.

use crate::error::ApiError;
use crate::AppState;
use backline_domain::categories::{basis_points, retrain_due};
use backline_domain::{Span, Timestamp};
use backline_search::{Categorizer, TrainOptions};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The setting an explicit request to learn again writes (any node's, or the CLI's); each
/// node learns once per new value.
pub const RETRAIN_REQUEST_KEY: &str = "categorizer_retrain_requested";
/// Labels given or changed since the last fit that make the next one due.
pub const RETRAIN_AFTER: usize = 25;
/// The newest categorised cases learned from: enough for hundreds of categories, and a
/// fit (with its cross-validation) that stays within a minute on one core: 15,100 intent
/// texts of 150 categories take about 33 s of CPU.
const MAX_TRAINING_ROWS: i64 = 20_000;
/// Cases filed this recently get suggestions (and fresh ones after a new fit); older
/// uncategorised cases are history, not work.
pub const SUGGEST_WINDOW: Span = Span::DAY.times(7);
const SUGGEST_BATCH: i64 = 200;

/// A fitted categoriser and what it was fitted on.
pub struct Fitted {
    pub categorizer: Categorizer,
    /// Labels given after this moment count toward the next fit.
    pub fitted_at: Timestamp,
    pub examples: usize,
    pub took: Duration,
    /// The newest request to learn again (its `requested_at`) read before this fit's
    /// training rows, so the fit took in every label given before that request. A fit
    /// that merely starts after a request can have read the setting before it was written.
    pub answers_request: Option<String>,
}

/// This node's categoriser, shared by the job that fits it and the pages that read it.
#[derive(Clone, Default)]
pub struct ModelCell(Arc<RwLock<Option<Arc<Fitted>>>>);

impl ModelCell {
    pub fn get(&self) -> Option<Arc<Fitted>> {
        self.0.read().ok().and_then(|m| m.clone())
    }

    fn set(&self, fitted: Fitted) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(Arc::new(fitted));
        }
    }
}

/// The text a case is categorised by.
pub fn case_text(subject: &str, description: &str) -> String {
    format!("{subject}\n{description}")
}

/// Fits a categoriser on `(text, category id)` rows, off the async runtime.
pub async fn fit(
    rows: Vec<(String, i64)>,
    fitted_at: Timestamp,
    answers_request: Option<String>,
) -> Result<Fitted, ApiError> {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let examples: Vec<(String, String)> = rows
            .into_iter()
            .map(|(text, label)| (text, label.to_string()))
            .collect();
        let options = TrainOptions {
            // One core: the node serves requests meanwhile.
            threads: 1,
            ..TrainOptions::default()
        };
        let categorizer = Categorizer::train(&examples, &options)
            .map_err(|e| ApiError::Internal(format!("training the categoriser: {e}")))?;
        Ok(Fitted {
            categorizer,
            fitted_at,
            examples: examples.len(),
            took: started.elapsed(),
            answers_request,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("training the categoriser: {e}")))?
}

/// Starts the job: learn (at start, when due, when asked) and suggest, every `every`.
pub fn start(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen_request: Option<String> = None;
        loop {
            let round =
                tick(&state, &mut seen_request).instrument(tracing::info_span!("categorize"));
            if let Err(e) = round.await {
                tracing::warn!(error = %e, "categoriser job failed; trying again");
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// One round: fit if due, then suggest for the cases waiting.
pub async fn tick(state: &AppState, seen_request: &mut Option<String>) -> Result<(), ApiError> {
    let store = &state.store;
    let request = store.setting(RETRAIN_REQUEST_KEY).await?;
    let requested = request.is_some() && request != *seen_request;
    let current = state.categorizer.get();
    let new_labels = match &current {
        Some(fitted) => store.labels_since(fitted.fitted_at).await?.max(0) as usize,
        None => 0,
    };
    if current.is_none() || requested || new_labels >= RETRAIN_AFTER {
        let started = Timestamp::now();
        let rows = store.training_rows(MAX_TRAINING_ROWS).await?;
        if retrain_due(
            current.is_some(),
            rows.len(),
            new_labels,
            RETRAIN_AFTER,
            requested,
        ) {
            let rows = rows
                .into_iter()
                .map(|r| (case_text(&r.subject, &r.description), r.category_id))
                .collect();
            let fitted = fit(rows, started, request.clone()).await?;
            tracing::info!(
                examples = fitted.examples,
                categories = fitted.categorizer.labels().len(),
                took_ms = fitted.took.as_millis() as u64,
                "categoriser fitted"
            );
            state.categorizer.set(fitted);
            // Suggestions of the previous fit give way to the new one's.
            store
                .clear_suggestions(Timestamp::now().minus(SUGGEST_WINDOW))
                .await?;
        }
        *seen_request = request;
    }
    let Some(fitted) = state.categorizer.get() else {
        return Ok(());
    };
    let waiting = store
        .unsuggested_cases(Timestamp::now().minus(SUGGEST_WINDOW), SUGGEST_BATCH)
        .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    // About half a millisecond a case: one batch is one short blocking task.
    let predictions = tokio::task::spawn_blocking(move || {
        waiting
            .into_iter()
            .map(|case| {
                let text = case_text(&case.subject, &case.description);
                (case.id, fitted.categorizer.predict(&text))
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    for (case, prediction) in predictions {
        let category = prediction.label.and_then(|l| l.parse::<i64>().ok());
        store
            .set_suggestion(case, category, basis_points(prediction.confidence))
            .await?;
    }
    Ok(())
}
