//! The staff case page's data, kept in memory per case so that a page seen again costs one
//! query instead of some fifteen.
//!
//! Everything a staff member's page shows that is the same for every staff member (the case,
//! its conversation, files, links, suggestions, clocks, history, people, rating, category,
//! community question) is kept with the counters it was read under (`CasePageState`,
//! migration 0026). Triggers move those counters in the same transaction as any change to
//! what they cover, whichever node or job made it, so a page whose counters still match is
//! exactly what a fresh read would give. The counters are read *before* the data: a change
//! landing between the two makes the kept data look older than it is, never newer, and the
//! next view reads again. Who else is on the case is read with the counters, live.
//!
//! Customers and partner technicians are not served from here: what they see depends on who
//! they are, and their pages are not the busy ones.

use crate::analytics::service::{CaseCategoryView, CategoryNode};
use crate::cases::work::CasePeople;
use backline_domain::{CaseId, UserId};
use backline_search::{MatchWeights, Suggestion};
use backline_store::mail::AttachmentRecord;
use backline_store::{
    CaseClock, CaseEvent, CaseLink, CaseRecord, Comment, MacroRecord, Queue, RatingRecord, User,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the staff page shows of one case, the same for every staff member.
pub struct CasePageData {
    pub case: CaseRecord,
    pub comments: Vec<Comment>,
    pub files: Vec<AttachmentRecord>,
    pub links: Vec<CaseLink>,
    pub suggestions: Vec<Suggestion>,
    pub queue: Option<Queue>,
    pub clocks: Vec<CaseClock>,
    pub events: Vec<CaseEvent>,
    /// Staff only.
    pub people: Option<CasePeople>,
    /// For staff, and for the requester (who may give or change it).
    pub rating: Option<RatingRecord>,
    /// Staff only: the case's category and the tree to choose from.
    pub category: Option<(CaseCategoryView, Vec<CategoryNode>)>,
    pub from_question: Option<(i64, String)>,
}

impl CasePageData {
    /// About how many bytes the data holds: what the cache's size limit counts.
    fn weight(&self) -> usize {
        let texts = self.case.subject.len()
            + self.case.description.len()
            + self
                .comments
                .iter()
                .map(|c| c.body.len() + 200)
                .sum::<usize>()
            + self.events.len() * 300
            + self
                .category
                .as_ref()
                .map_or(0, |(_, nodes)| nodes.len() * 100);
        2_048 + texts
    }
}

/// What kept data is valid under: the counters, and this node's matcher weights (kept
/// suggestions are judged by them, and a node may load new ones without any row changing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageKey {
    pub case_revision: i64,
    pub directory_revision: i64,
    pub knowledge_generation: i64,
    pub weights: MatchWeights,
}

struct Kept {
    key: PageKey,
    data: Arc<CasePageData>,
    weight: usize,
    /// When it was last served (a tick of the cache's clock), for eviction.
    used: AtomicU64,
}

/// Kept page data (at most `MAX_BYTES` of it), the agents one can assign to, and each staff
/// member's macros.
#[derive(Default)]
pub struct CasePageCache {
    pages: Mutex<Pages>,
    tick: AtomicU64,
    agents: Mutex<Option<(i64, Arc<Vec<User>>)>>,
    macros: Mutex<HashMap<UserId, KeptMacros>>,
}

/// A staff member's macros and the macro counter they were read under.
type KeptMacros = (i64, Arc<Vec<MacroRecord>>);

#[derive(Default)]
struct Pages {
    by_case: HashMap<CaseId, Kept>,
    bytes: usize,
}

/// How much page data a node keeps: some thousands of ordinary cases.
const MAX_BYTES: usize = 32 << 20;
/// Macro lists kept (one per staff member who opened a case lately).
const MAX_MACRO_LISTS: usize = 1_000;

impl CasePageCache {
    /// The data kept for `case` if it was read under `key`.
    pub fn page(&self, case: CaseId, key: &PageKey) -> Option<Arc<CasePageData>> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let kept = pages.by_case.get(&case).filter(|k| k.key == *key)?;
        kept.used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(kept.data.clone())
    }

    /// Keeps `data`, read under `key`; when over the size limit, the half least recently
    /// served goes.
    pub fn keep(&self, case: CaseId, key: PageKey, data: Arc<CasePageData>) {
        let weight = data.weight();
        if weight > MAX_BYTES / 16 {
            return; // One enormous case must not push out the rest.
        }
        let used = AtomicU64::new(self.tick.fetch_add(1, Ordering::Relaxed));
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = pages.by_case.insert(
            case,
            Kept {
                key,
                data,
                weight,
                used,
            },
        ) {
            pages.bytes -= old.weight;
        }
        pages.bytes += weight;
        if pages.bytes > MAX_BYTES {
            let mut ticks: Vec<u64> = pages
                .by_case
                .values()
                .map(|k| k.used.load(Ordering::Relaxed))
                .collect();
            let middle = ticks.len() / 2;
            let (_, median, _) = ticks.select_nth_unstable(middle);
            let median = *median;
            pages
                .by_case
                .retain(|_, k| k.used.load(Ordering::Relaxed) >= median);
            pages.bytes = pages.by_case.values().map(|k| k.weight).sum();
        }
    }

    /// The agents list if it was read under `directory_revision`.
    pub fn agents(&self, directory_revision: i64) -> Option<Arc<Vec<User>>> {
        let agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        agents
            .as_ref()
            .filter(|(revision, _)| *revision == directory_revision)
            .map(|(_, list)| list.clone())
    }

    pub fn keep_agents(&self, directory_revision: i64, list: Arc<Vec<User>>) {
        *self.agents.lock().unwrap_or_else(|p| p.into_inner()) = Some((directory_revision, list));
    }

    /// `user`'s macros if they were read under `macros_revision`.
    pub fn macros(&self, user: UserId, macros_revision: i64) -> Option<Arc<Vec<MacroRecord>>> {
        let macros = self.macros.lock().unwrap_or_else(|p| p.into_inner());
        macros
            .get(&user)
            .filter(|(revision, _)| *revision == macros_revision)
            .map(|(_, list)| list.clone())
    }

    pub fn keep_macros(&self, user: UserId, macros_revision: i64, list: Arc<Vec<MacroRecord>>) {
        let mut macros = self.macros.lock().unwrap_or_else(|p| p.into_inner());
        if macros.len() >= MAX_MACRO_LISTS {
            macros.retain(|_, (revision, _)| *revision == macros_revision);
            if macros.len() >= MAX_MACRO_LISTS {
                macros.clear();
            }
        }
        macros.insert(user, (macros_revision, list));
    }

    /// How many cases' data this node keeps.
    pub fn len(&self) -> usize {
        self.pages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_case
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
