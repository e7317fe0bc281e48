//! Keeps this node's search index in step with the database.
//!
//! A follower task hears every committed change (`Store::listen`: in-process on SQLite,
//! `LISTEN/NOTIFY` on PostgreSQL, so each node hears every node's writes), gathers the changed
//! cases, articles and community questions, reads them in batches and hands them to one writer
//! thread, which analyses and commits them. A question that can no longer be found (held,
//! hidden, spam, merged: `community::findable`) is taken out in the same commit. Each commit stores a watermark in the index: every change
//! heard before that time is in. After a restart or a missed notification the follower
//! re-reads everything updated since the watermark minus a safety margin, so a change is
//! never lost, only perhaps indexed twice (upserts make that harmless).
//!
//! The writer thread runs at a lower CPU priority than request handling: when the machine is
//! saturated, answering requests wins and the index catches up afterwards.
//!
//! Until the catch-up read at start is committed the index is not ready (`SearchState::
//! progress`): a new or stale index would answer searches with nothing, as if nothing matched.
//! `/healthz` reports the progress and search falls back to the database meanwhile.

use crate::knowledge::suggester::{Committed, CommittedCase};
use crate::AppState;
use backline_domain::community;
use backline_domain::query::DocType;
use backline_domain::{ArticleId, CaseId, Span, Timestamp};
use backline_search::{IndexDoc, MatchInput, MatchWeights, SearchIndex};
use backline_store::community::QuestionForIndex;
use backline_store::{Article, CaseRecord, Change, Comment, Heard, Store};
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;
use utoipa::ToSchema;

/// How far back to re-read after a restart or a missed notification: longer than any
/// transaction takes between stamping `updated_at` and committing.
const CATCH_UP_MARGIN: Span = Span::MINUTE;
/// Changes applied per index commit at most.
const MAX_BATCH: usize = 1_000;
/// How often pending changes are looked at.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A trickle of changes is committed at once; a stream (more than `TRICKLE` pending) at most
/// once per `BUSY_COMMIT_INTERVAL`, because each commit writes a segment that must later be
/// merged: fewer, larger commits cost far less while requests are pouring in.
const TRICKLE: usize = 50;
const BUSY_COMMIT_INTERVAL: Duration = Duration::from_secs(1);
const WEIGHTS_KEY: &str = "match_weights";
/// `nice` of the writer thread (0 is normal, 19 the lowest).
const WRITER_NICE: i32 = 10;

/// What the server reads while the indexer writes.
#[derive(Clone)]
pub struct SearchState {
    pub index: Arc<SearchIndex>,
    pub weights: Arc<RwLock<MatchWeights>>,
    /// Changes heard but not yet searchable, including those being written (for `/metrics`).
    pub pending: Arc<AtomicUsize>,
    /// How far the catch-up at start has come.
    progress: Arc<Progress>,
}

impl SearchState {
    pub fn weights(&self) -> MatchWeights {
        *self.weights.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the index has caught up with the database as it was when this node started.
    pub fn progress(&self) -> IndexProgress {
        let p = &self.progress;
        IndexProgress {
            state: if p.ready.load(Ordering::Acquire) {
                IndexState::Ready
            } else {
                IndexState::Indexing
            },
            indexed: p.indexed.load(Ordering::Relaxed),
            total: p.total.load(Ordering::Relaxed),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.progress.ready.load(Ordering::Acquire)
    }
}

#[derive(Default)]
struct Progress {
    ready: AtomicBool,
    indexed: AtomicU64,
    total: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Catching up with what the database held at start; searches may miss things.
    Indexing,
    /// Everything the database held at start is searchable; later changes follow within a
    /// second or so.
    Ready,
}

/// The search index's catch-up at start, in cases, articles and community questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct IndexProgress {
    pub state: IndexState,
    /// Cases, articles and questions of the start-up catch-up already searchable.
    pub indexed: u64,
    /// Cases, articles and questions the start-up catch-up has to index (0 until it has
    /// counted them).
    pub total: u64,
}

/// What a commit reports back: the cases of the batch the index held as solved before it.
type CommitOutcome = Result<HashSet<i64>, String>;

/// The batch the writer thread is committing: its outcome, watermark and changes.
struct InFlight {
    done: oneshot::Receiver<CommitOutcome>,
    mark: Timestamp,
    changes: Vec<Change>,
    /// The batch's cases as the suggester needs them, and whether articles changed.
    cases: Vec<(CaseId, MatchInput, bool)>,
    articles_changed: bool,
}

struct Batch {
    docs: Vec<IndexDoc>,
    /// Documents to take out (questions that can no longer be found).
    removals: Vec<(DocType, i64)>,
    watermark: Timestamp,
    done: oneshot::Sender<CommitOutcome>,
}

/// Opens (or creates) the index in `dir`, or in memory when `None`, and starts following the
/// store. Returns once the index is open; catching up continues in the background, in the
/// returned task (aborting it stops the writer thread too).
pub async fn start(
    store: Store,
    dir: Option<PathBuf>,
) -> anyhow::Result<(SearchState, JoinHandle<()>)> {
    let (opened_tx, opened_rx) =
        std::sync::mpsc::sync_channel::<anyhow::Result<Arc<SearchIndex>>>(1);
    let (batches_tx, batches_rx) = std::sync::mpsc::channel::<Batch>();
    std::thread::Builder::new()
        .name("backline-indexer".into())
        .spawn(move || {
            lower_priority(WRITER_NICE);
            // Opened on this thread so tantivy's own worker threads inherit its priority.
            let index = match &dir {
                Some(dir) => SearchIndex::open(dir),
                None => SearchIndex::in_memory(),
            };
            let index = match index {
                Ok(index) => Arc::new(index),
                Err(e) => {
                    let _ = opened_tx.send(Err(e.into()));
                    return;
                }
            };
            let _ = opened_tx.send(Ok(index.clone()));
            while let Ok(batch) = batches_rx.recv() {
                let _span = tracing::info_span!(
                    "index_commit",
                    docs = batch.docs.len(),
                    watermark = batch.watermark.as_millis()
                )
                .entered();
                let started = std::time::Instant::now();
                let case_ids: Vec<i64> = batch
                    .docs
                    .iter()
                    .filter(|d| d.kind == Some(DocType::Case))
                    .map(|d| d.id)
                    .collect();
                let result = index
                    .solved_cases(&case_ids)
                    .and_then(|solved_before| {
                        for (kind, id) in &batch.removals {
                            index.remove(*kind, *id);
                        }
                        index.upsert(&batch.docs)?;
                        index.commit(batch.watermark.as_millis())?;
                        Ok(solved_before)
                    })
                    .map_err(|e| e.to_string());
                tracing::debug!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    ok = result.is_ok(),
                    "index commit"
                );
                let _ = batch.done.send(result);
            }
        })?;
    let index = tokio::task::spawn_blocking(move || opened_rx.recv())
        .await?
        .map_err(|_| anyhow::anyhow!("the indexer thread stopped"))??;
    let weights = match store.setting(WEIGHTS_KEY).await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored match weights unreadable; using defaults");
            MatchWeights::default()
        }),
        None => MatchWeights::default(),
    };
    let state = SearchState {
        index: index.clone(),
        weights: Arc::new(RwLock::new(weights)),
        pending: Arc::default(),
        progress: Arc::default(),
    };
    let listener = store.listen().await?;
    let suggester = crate::knowledge::suggester::start(store.clone(), state.clone());
    let task = tokio::spawn(
        follow(store, index, listener, batches_tx, state.clone(), suggester)
            .instrument(tracing::info_span!("indexer")),
    );
    Ok((state, task))
}

/// Stores learned weights where every node picks them up.
pub async fn store_weights(store: &Store, weights: &MatchWeights) -> backline_store::Result<()> {
    let text = serde_json::to_string(weights).unwrap_or_default();
    store.set_setting(WEIGHTS_KEY, &text).await
}

/// Lowers the calling thread's CPU priority to `nice` (0 is normal, 19 the lowest).
#[cfg(target_os = "linux")]
pub(crate) fn lower_priority(nice: i32) {
    // SAFETY: setpriority on the calling thread's own id has no memory effects.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as u32, nice) };
    if result != 0 {
        tracing::debug!("could not lower a background thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_priority(_nice: i32) {}

async fn follow(
    store: Store,
    index: Arc<SearchIndex>,
    mut listener: backline_store::ChangeListener,
    batches: std::sync::mpsc::Sender<Batch>,
    state: SearchState,
    suggester: tokio::sync::mpsc::UnboundedSender<Committed>,
) {
    let mut pending = PendingChanges::default();
    let mut watermark = Timestamp::from_millis(index.watermark());
    // A new index (watermark 0) reads everything.
    let mut catch_up_from = Some(catch_up_point(watermark));
    let mut in_flight: Option<InFlight> = None;
    // What the first catch-up found and is not searchable yet; `None` until it has been read.
    let mut startup: Option<HashSet<Change>> = None;
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut weights_tick = tokio::time::interval(Duration::from_secs(60));
    let mut last_flush = std::time::Instant::now() - BUSY_COMMIT_INTERVAL;
    loop {
        if let Some(since) = catch_up_from.take() {
            match store.changed_since(since).await {
                Ok(changes) => {
                    tracing::info!(
                        changes = changes.len(),
                        since = since.as_millis(),
                        "search index catching up"
                    );
                    if startup.is_none() {
                        let set: HashSet<Change> = changes.iter().copied().collect();
                        state
                            .progress
                            .total
                            .store(set.len() as u64, Ordering::Relaxed);
                        if set.is_empty() {
                            mark_ready(&state);
                        }
                        startup = Some(set);
                    }
                    // Found by re-reading from `since`: none was committed before it.
                    pending.hear_all(changes.iter().copied(), since);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search catch-up failed; retrying");
                    catch_up_from = Some(since);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let in_flight_count = in_flight.as_ref().map_or(0, |f| f.changes.len());
        state
            .pending
            .store(pending.len() + in_flight_count, Ordering::Relaxed);
        tokio::select! {
            heard = listener.next() => match heard {
                Some(Heard::Changed(change)) => pending.hear(change, Timestamp::now()),
                Some(Heard::Lost) => catch_up_from = Some(catch_up_point(watermark)),
                None => return,
            },
            done = async { (&mut in_flight.as_mut().expect("guarded").done).await }, if in_flight.is_some() => {
                let InFlight { mark: batch_mark, changes: written, cases, articles_changed, .. } = in_flight.take().expect("guarded");
                match done {
                    Ok(Ok(solved_before)) => {
                        watermark = batch_mark;
                        // Searchable now: the suggester may work from it. It is gone only
                        // when the server stops.
                        let _ = suggester.send(Committed {
                            cases: cases
                                .into_iter()
                                .map(|(id, input, solved)| CommittedCase {
                                    id,
                                    input,
                                    solved,
                                    solved_before: solved_before.contains(&id.0),
                                })
                                .collect(),
                            articles_changed,
                        });
                        if let Some(left) = startup.as_mut().filter(|left| !left.is_empty()) {
                            let before = left.len();
                            for change in &written {
                                left.remove(change);
                            }
                            state
                                .progress
                                .indexed
                                .fetch_add((before - left.len()) as u64, Ordering::Relaxed);
                            if left.is_empty() {
                                mark_ready(&state);
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "search index write failed; re-reading");
                        catch_up_from = Some(catch_up_point(watermark));
                    }
                    Err(_) => return,
                }
            },
            _ = tick.tick(), if in_flight.is_none() && !pending.is_empty() => {
                if pending.len() > TRICKLE && last_flush.elapsed() < BUSY_COMMIT_INTERVAL {
                    continue;
                }
                last_flush = std::time::Instant::now();
                let (take, mark) = pending.take_oldest(MAX_BATCH, Timestamp::now());
                let taken: Vec<Change> = take.iter().map(|(c, _)| *c).collect();
                match load_docs(&store, &taken).await {
                    Ok(Loaded { docs, removals, cases }) => {
                        let (done, done_rx) = oneshot::channel();
                        if batches.send(Batch { docs, removals, watermark: mark, done }).is_err() {
                            return;
                        }
                        let articles_changed = taken.iter().any(|c| matches!(c, Change::Article(_)));
                        in_flight = Some(InFlight { done: done_rx, mark, changes: taken, cases, articles_changed });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading changes for search failed; retrying");
                        for (change, heard) in take {
                            pending.hear(change, heard);
                        }
                    }
                }
            },
            _ = weights_tick.tick() => {
                if let Ok(Some(text)) = store.setting(WEIGHTS_KEY).await {
                    if let Ok(w) = serde_json::from_str(&text) {
                        *state.weights.write().unwrap_or_else(|p| p.into_inner()) = w;
                    }
                }
            },
        }
    }
}

/// Changes heard and not yet handed to the writer, each with when it was first heard.
///
/// The watermark a batch commits says "every change committed before this time is in the
/// index"; after a restart the follower re-reads from there (less the margin). It must move
/// on while changes keep arriving: a stream that never lets the set empty would otherwise
/// pin the watermark where the stream began, and a restart would re-read everything since,
/// a time that grows with the store instead of with what was missed.
#[derive(Default)]
struct PendingChanges {
    heard: std::collections::HashMap<Change, Timestamp>,
}

impl PendingChanges {
    /// Keeps the first time a change was heard: it is the one the watermark must not pass.
    fn hear(&mut self, change: Change, at: Timestamp) {
        let first = self.heard.entry(change).or_insert(at);
        *first = (*first).min(at);
    }

    fn hear_all(&mut self, changes: impl IntoIterator<Item = Change>, at: Timestamp) {
        for change in changes {
            self.hear(change, at);
        }
    }

    fn len(&self) -> usize {
        self.heard.len()
    }

    fn is_empty(&self) -> bool {
        self.heard.is_empty()
    }

    /// Takes up to `max` changes, the longest waiting first, and the watermark their batch
    /// may commit: `now` if nothing is left waiting, else the moment the oldest change still
    /// waiting was heard (everything committed before it was heard by then, and is in this
    /// batch or an earlier one).
    fn take_oldest(&mut self, max: usize, now: Timestamp) -> (Vec<(Change, Timestamp)>, Timestamp) {
        let mut all: Vec<(Change, Timestamp)> = self.heard.drain().collect();
        all.sort_by_key(|(_, at)| *at);
        let rest = all.split_off(all.len().min(max));
        let mark = rest.first().map_or(now, |(_, oldest)| (*oldest).min(now));
        self.heard.extend(rest);
        (all, mark)
    }
}

fn mark_ready(state: &SearchState) {
    if !state.progress.ready.swap(true, Ordering::AcqRel) {
        tracing::info!(
            indexed = state.progress.indexed.load(Ordering::Relaxed),
            "search index ready"
        );
    }
}

/// What a batch of changes becomes.
struct Loaded {
    docs: Vec<IndexDoc>,
    removals: Vec<(DocType, i64)>,
    /// Each case as the suggester needs it (what the matcher looks for, and whether it is
    /// solved).
    cases: Vec<(CaseId, MatchInput, bool)>,
}

/// The changed cases, articles and questions as index documents, the questions to take out,
/// and the changed cases for the suggester.
async fn load_docs(store: &Store, changes: &[Change]) -> backline_store::Result<Loaded> {
    let mut case_ids: Vec<CaseId> = Vec::new();
    let mut article_ids: Vec<ArticleId> = Vec::new();
    let mut question_ids: Vec<i64> = Vec::new();
    for change in changes {
        match change {
            Change::Case(id) => case_ids.push(*id),
            Change::Article(id) => article_ids.push(*id),
            Change::Question(id) => question_ids.push(*id),
        }
    }
    let mut docs = Vec::new();
    let mut cases = Vec::with_capacity(case_ids.len());
    let answers = store.answers_of_cases(&case_ids).await?;
    for (case, comments) in store.cases_with_comments(&case_ids).await? {
        let answered_by = answers.get(&case.id).map_or(&[][..], Vec::as_slice);
        docs.extend(case_docs(&case, &comments, answered_by));
        cases.push((
            case.id,
            crate::knowledge::service::match_input_for(&case),
            !case.status.is_active(),
        ));
    }
    for article in store.articles_by_ids(&article_ids).await? {
        docs.push(article_doc(&article));
    }
    let (questions, removals) = question_docs(store, &question_ids).await?;
    docs.extend(questions);
    Ok(Loaded {
        docs,
        removals,
        cases,
    })
}

/// These questions as index documents, for those that can be found; the others (held, taken
/// down, merged, or gone) to take out.
async fn question_docs(
    store: &Store,
    ids: &[i64],
) -> backline_store::Result<(Vec<IndexDoc>, Vec<(DocType, i64)>)> {
    if ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let found = store.community_questions_for_index(ids).await?;
    let mut docs = Vec::with_capacity(found.len());
    let mut kept = HashSet::with_capacity(found.len());
    for question in &found {
        if community::findable(question.state, question.merged_into.is_some()) {
            kept.insert(question.id);
            docs.push(question_doc(question));
        }
    }
    let removals = ids
        .iter()
        .filter(|id| !kept.contains(*id))
        .map(|id| (DocType::Question, *id))
        .collect();
    Ok((docs, removals))
}

/// Longest text of a question and its answers indexed; a thread longer than this is matched on
/// its beginning (the question and the accepted answer come first).
const QUESTION_TEXT_CHARS: usize = 40_000;

/// A question as an index document: its title, and its text followed by its published answers'
/// (the accepted one first), so a question is found by its answers' words too. Its space
/// decides who finds it; `solved` says it has an answer.
pub fn question_doc(question: &QuestionForIndex) -> IndexDoc {
    let mut body = question.body.clone();
    for answer in &question.answers {
        if body.len() >= QUESTION_TEXT_CHARS {
            break;
        }
        body.push_str("\n\n");
        body.push_str(answer);
    }
    if body.len() > QUESTION_TEXT_CHARS {
        let mut cut = QUESTION_TEXT_CHARS;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    IndexDoc {
        kind: Some(DocType::Question),
        id: question.id,
        case_id: None,
        title: question.title.clone(),
        issue: String::new(),
        body,
        created_at_ms: question.created_at.as_millis(),
        org_id: None,
        partner_id: None,
        space_id: Some(question.space_id),
        public: true,
        status: None,
        priority: None,
        products: Vec::new(),
        org_slug: None,
        partner_slug: None,
        tags: Vec::new(),
        state: None,
        audience: None,
        versions: Vec::new(),
        solved: !question.answers.is_empty(),
        answered_by: Vec::new(),
    }
}

/// A case and its comments as index documents. Comments carry their case's visibility and
/// fields, so filters such as `status:open` and the audience rules apply to them alike.
/// `answered_by`: the articles linked to the case as its answer.
pub fn case_docs(
    case: &CaseRecord,
    comments: &[Comment],
    answered_by: &[ArticleId],
) -> Vec<IndexDoc> {
    let base = IndexDoc {
        kind: Some(DocType::Case),
        id: case.id.0,
        case_id: Some(case.id.0),
        title: case.subject.clone(),
        issue: String::new(),
        body: case.description.clone(),
        created_at_ms: case.created_at.as_millis(),
        org_id: Some(case.organization.id.0),
        partner_id: case.partner.as_ref().map(|p| p.id.0),
        space_id: None,
        public: true,
        status: Some(case.status.as_str().into()),
        priority: Some(case.priority.as_str().into()),
        products: case.product.iter().cloned().collect(),
        org_slug: Some(case.organization.slug.clone()),
        partner_slug: case.partner.as_ref().map(|p| p.slug.clone()),
        tags: case.tags.clone(),
        state: None,
        audience: None,
        versions: Vec::new(),
        solved: !case.status.is_active(),
        answered_by: answered_by.iter().map(|a| a.0).collect(),
    };
    let mut docs = Vec::with_capacity(1 + comments.len());
    for comment in comments {
        docs.push(IndexDoc {
            kind: Some(DocType::Comment),
            id: comment.id.0,
            body: comment.body.clone(),
            created_at_ms: comment.created_at.as_millis(),
            public: comment.public,
            solved: false,
            answered_by: Vec::new(),
            ..base.clone()
        });
    }
    docs.push(base);
    docs
}

pub fn article_doc(article: &Article) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Article),
        id: article.id.0,
        case_id: None,
        title: article.content.title.clone(),
        issue: article.content.issue.clone(),
        body: article.content.body(),
        created_at_ms: article.created_at.as_millis(),
        org_id: None,
        partner_id: None,
        space_id: None,
        public: true,
        status: None,
        priority: None,
        products: article.content.products.clone(),
        org_slug: None,
        partner_slug: None,
        tags: Vec::new(),
        state: Some(article.state.as_str().into()),
        audience: Some(article.audience.as_str().into()),
        versions: article.content.versions.clone(),
        solved: false,
        answered_by: Vec::new(),
    }
}

/// Where to re-read from after `watermark`: the margin before it, never before the epoch.
fn catch_up_point(watermark: Timestamp) -> Timestamp {
    watermark.minus(CATCH_UP_MARGIN).max(Timestamp::EPOCH)
}

/// What a rebuild indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    pub cases: usize,
    pub articles: usize,
    /// Community questions that can be found (held, taken-down and merged ones are left out).
    pub questions: usize,
}

/// Rebuilds `index` from the database: everything is dropped and re-read.
pub async fn rebuild(store: &Store, index: &SearchIndex) -> anyhow::Result<Rebuilt> {
    let started = Timestamp::now().as_millis();
    index.clear()?;
    let mut cases = 0;
    let mut after = CaseId(0);
    loop {
        let ids = store.case_ids_after(after, 2_000).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let mut docs = Vec::new();
        let answers = store.answers_of_cases(&ids).await?;
        for (case, comments) in store.cases_with_comments(&ids).await? {
            let answered_by = answers.get(&case.id).map_or(&[][..], Vec::as_slice);
            docs.extend(case_docs(&case, &comments, answered_by));
            cases += 1;
        }
        index.upsert(&docs)?;
        after = last;
    }
    let article_ids = store.article_ids().await?;
    let articles = store.articles_by_ids(&article_ids).await?;
    let docs: Vec<IndexDoc> = articles.iter().map(article_doc).collect();
    index.upsert(&docs)?;
    let mut questions = 0;
    let mut after = 0;
    loop {
        let ids = store.community_question_ids_after(after, 2_000).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let (docs, _) = question_docs(store, &ids).await?;
        questions += docs.len();
        index.upsert(&docs)?;
        after = last;
    }
    index.commit(started)?;
    Ok(Rebuilt {
        cases,
        articles: articles.len(),
        questions,
    })
}

/// For the state: the index behind a running server.
impl AppState {
    pub fn search(&self) -> &SearchState {
        &self.search
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn the_watermark_moves_on_under_a_stream_that_never_lets_up() {
        let mut pending = PendingChanges::default();
        // A stream: three changes a tick, batches of two, so the set never empties.
        let mut marks = Vec::new();
        let mut next = 0;
        for tick in 0..10_i64 {
            for _ in 0..3 {
                next += 1;
                pending.hear(Change::Case(CaseId(next)), at(tick * 100));
            }
            let (batch, mark) = pending.take_oldest(2, at(tick * 100 + 50));
            assert_eq!(batch.len(), 2);
            assert!(!pending.is_empty());
            marks.push(mark.as_millis());
        }
        // Each batch's mark is when the oldest change still waiting was heard: it never
        // passes one, and it keeps moving instead of staying where the stream began.
        assert_eq!(marks[0], 0);
        assert!(marks.windows(2).all(|w| w[0] <= w[1]), "{marks:?}");
        assert!(*marks.last().unwrap() >= 600, "{marks:?}");
        // Drained, the mark is the batch's own moment.
        let (rest, mark) = pending.take_oldest(usize::MAX, at(5_000));
        assert_eq!(rest.len(), 10);
        assert_eq!(mark, at(5_000));
    }

    #[test]
    fn a_question_is_indexed_with_its_answers_in_its_space() {
        use backline_domain::community::PostState;
        let question = QuestionForIndex {
            id: 4,
            space_id: 2,
            title: "Restore hangs".into(),
            body: "At 99 percent.".into(),
            state: PostState::Published,
            merged_into: None,
            answers: vec!["Accepted: update the driver.".into(), "Reboot.".into()],
            created_at: at(1_000),
        };
        let doc = question_doc(&question);
        assert_eq!(doc.kind, Some(DocType::Question));
        assert_eq!((doc.id, doc.space_id, doc.solved), (4, Some(2), true));
        assert_eq!(
            doc.body,
            "At 99 percent.\n\nAccepted: update the driver.\n\nReboot."
        );
        // Unanswered: not offered as a likely answer. A long thread is cut on a character.
        let long = QuestionForIndex {
            body: "é".repeat(QUESTION_TEXT_CHARS),
            answers: Vec::new(),
            ..question
        };
        let doc = question_doc(&long);
        assert!(!doc.solved);
        assert!(doc.body.len() <= QUESTION_TEXT_CHARS);
    }

    #[test]
    fn a_change_heard_again_keeps_its_first_time_and_oldest_go_first() {
        let mut pending = PendingChanges::default();
        pending.hear(Change::Case(CaseId(1)), at(300));
        pending.hear(Change::Case(CaseId(2)), at(100));
        pending.hear(Change::Case(CaseId(1)), at(400));
        pending.hear_all([Change::Article(ArticleId(7))], at(50));
        assert_eq!(pending.len(), 3);
        let (batch, mark) = pending.take_oldest(2, at(1_000));
        assert_eq!(
            batch,
            vec![
                (Change::Article(ArticleId(7)), at(50)),
                (Change::Case(CaseId(2)), at(100))
            ]
        );
        assert_eq!(mark, at(300));
    }
}
