//! Works out known-issue suggestions when a case or the knowledge changes, so the case page
//! (the page agents open most) reads a kept list instead of running the matcher on every view.
//!
//! The indexer hands over what each index commit changed, once it is searchable on this node:
//!
//! - an article changed: the knowledge generation moves, so every kept list is stale and is
//!   worked out again when next asked for (articles change seldom; there may be many cases);
//! - a case was solved or reopened: the open cases it resembles most get their stamp moved
//!   (something new may answer them) and their staff list worked out again;
//! - a case in work is new or its text changed: its staff list is worked out and kept; a case
//!   just solved has its lists dropped (a view works them out again if anyone looks).
//!
//! Lists are kept in the database, each with the generation, stamp and text fingerprint it was
//! worked out under, so every node reads the others' work and a stale list is never used.
//! Each node does this after its own index has the change, so the last list kept after a
//! change comes from an index that holds it. A list is kept only for a case the index already
//! holds: a case solved later then finds it among the open cases it resembles. The work runs on a thread of low CPU priority and
//! is bounded per round: under a flood of new cases requests win, and whatever was skipped is
//! worked out by the first view that needs it (`service::suggestions_for_case`).

use super::service::{input_fingerprint, match_input_for, KEPT_SUGGESTIONS};
use crate::indexer::SearchState;
use backline_domain::CaseId;
use backline_search::{MatchInput, Visibility};
use backline_store::Store;
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// Open cases a newly solved (or reopened) case may change the suggestions of.
const SIMILAR_OPEN: usize = 20;
/// Cases whose knowledge moved, looked at per round; more are left to views.
const MOVED_PER_ROUND: usize = 200;
/// Lists worked out per round; more are left to views.
const LISTS_PER_ROUND: usize = 500;
/// `nice` of the worker thread: below request handling and the index writer.
const WORKER_NICE: i32 = 15;

/// A case as an index commit left it.
#[derive(Debug, Clone)]
pub struct CommittedCase {
    pub id: CaseId,
    pub input: MatchInput,
    pub solved: bool,
    /// Whether the index held it as solved before this commit.
    pub solved_before: bool,
}

/// What one index commit changed.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub cases: Vec<CommittedCase>,
    pub articles_changed: bool,
}

/// Starts the suggester; it stops when the returned sender is dropped.
pub fn start(store: Store, search: SearchState) -> mpsc::UnboundedSender<Committed> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(store, search, rx).instrument(tracing::info_span!("suggester")));
    tx
}

/// A thread of low priority that runs the matcher for the suggester.
struct Worker {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Worker {
    fn start() -> std::io::Result<Worker> {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("backline-suggester".into())
            .spawn(move || {
                crate::indexer::lower_priority(WORKER_NICE);
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Runs `job` on the worker thread; `None` if the thread is gone.
    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(job());
            }))
            .ok()?;
        result.await.ok()
    }
}

async fn run(store: Store, search: SearchState, mut committed: mpsc::UnboundedReceiver<Committed>) {
    let worker = match Worker::start() {
        Ok(worker) => worker,
        Err(e) => {
            tracing::error!(error = %e, "no suggester thread: suggestions are worked out on view");
            return;
        }
    };
    let sight = Visibility::everything().key();
    while let Some(first) = committed.recv().await {
        // Everything committed meanwhile is handled together; a case's last state wins.
        let mut articles_changed = first.articles_changed;
        let mut cases: HashMap<CaseId, CommittedCase> = HashMap::new();
        let take = |c: Committed, cases: &mut HashMap<CaseId, CommittedCase>| {
            for case in c.cases {
                let solved_before = cases
                    .get(&case.id)
                    .map_or(case.solved_before, |earlier| earlier.solved_before);
                cases.insert(
                    case.id,
                    CommittedCase {
                        solved_before,
                        ..case
                    },
                );
            }
        };
        take(first, &mut cases);
        while let Ok(more) = committed.try_recv() {
            articles_changed |= more.articles_changed;
            take(more, &mut cases);
        }
        if let Err(e) = refresh(
            &store,
            &search,
            &worker,
            &sight,
            articles_changed,
            cases.into_values().collect(),
        )
        .await
        {
            // Lists left stale are worked out on view.
            tracing::warn!(error = %e, "working out suggestions failed");
        }
    }
}

fn worker_gone() -> anyhow::Error {
    anyhow::anyhow!("the suggester thread stopped")
}

async fn refresh(
    store: &Store,
    search: &SearchState,
    worker: &Worker,
    sight: &str,
    articles_changed: bool,
    cases: Vec<CommittedCase>,
) -> anyhow::Result<()> {
    if articles_changed {
        store.bump_knowledge_generation().await?;
    }
    // While the index catches up at start it is not the knowledge yet: lists are left to views
    // (which do not keep them until it is ready).
    if !search.is_ready() {
        return Ok(());
    }
    let weights = search.weights();
    let index = search.index.clone();

    // Cases that became knowledge, or stopped being it: the open cases they resemble.
    let mut touched: HashSet<CaseId> = HashSet::new();
    for case in cases
        .iter()
        .filter(|c| c.solved != c.solved_before)
        .take(MOVED_PER_ROUND)
    {
        let (index, input) = (index.clone(), case.input.clone());
        let similar = worker
            .run(move || index.similar_open_cases(&input, &weights, SIMILAR_OPEN))
            .await
            .ok_or_else(worker_gone)??;
        touched.extend(similar.into_iter().map(CaseId).filter(|id| *id != case.id));
    }
    let touched: Vec<CaseId> = touched.into_iter().collect();
    store.bump_suggestion_stamps(&touched).await?;

    // A solved case's panel is seldom looked at again: its lists are dropped (so the table
    // holds about one list per open case, not one per case ever filed) and worked out again
    // only if someone views it.
    let newly_solved: Vec<CaseId> = cases
        .iter()
        .filter(|c| c.solved && !c.solved_before)
        .map(|c| c.id)
        .collect();
    store.forget_suggestions(&newly_solved).await?;
    let mut inputs: HashMap<CaseId, MatchInput> = cases
        .into_iter()
        .filter(|c| !c.solved)
        .map(|c| (c.id, c.input))
        .collect();
    for id in &touched {
        if !inputs.contains_key(id) {
            if let Ok(case) = store.case(*id).await {
                inputs.insert(*id, match_input_for(&case));
            }
        }
    }
    let ids: Vec<CaseId> = inputs.keys().copied().collect();
    let bases = store.suggestion_bases(&ids, sight).await?;
    let mut worked = 0;
    for (id, input) in inputs {
        let Some((basis, kept)) = bases.get(&id).copied() else {
            continue;
        };
        let fingerprint = input_fingerprint(&input, &weights);
        if kept.is_some_and(|(kept_basis, kept_fingerprint)| {
            kept_basis == basis && kept_fingerprint == fingerprint
        }) {
            continue;
        }
        if worked == LISTS_PER_ROUND {
            break;
        }
        worked += 1;
        let index = index.clone();
        let list = worker
            .run(move || {
                index.suggest(
                    &input,
                    &Visibility::everything(),
                    &weights,
                    KEPT_SUGGESTIONS,
                )
            })
            .await
            .ok_or_else(worker_gone)??;
        let json = serde_json::to_string(&list)?;
        store
            .store_suggestions(id, sight, basis, fingerprint, &json)
            .await?;
    }
    Ok(())
}
