//! How a dashboard reads its period, and the job that keeps the daily rollups current.
//!
//! A period is split (`backline_domain::rollups::plan`) into whole UTC days that have a
//! current rollup, read from their facts, and the rest (the partial first and last day,
//! today, days whose cases changed since their rollup was built), read from the cases with
//! the same SQL the dashboards used before rollups; the two are added. A rollup is current
//! only while no change to its cases has happened since it was built (the store's triggers
//! say so in the changing transaction), so the sum is what aggregating every case gives.

use crate::error::ApiResult;
use crate::AppState;
use backline_domain::analytics::{durations_from_ranks, CaseFilter, Dimension, TimesGroup};
use backline_domain::rollups::{
    self as facts, bucket_of, CaseFacts, CountBy, Day, Family, GroupTimes, Plan, TimesTally,
};
use backline_domain::{Span, Timestamp};
use backline_store::analytics::{BucketCount, Measure};
use backline_store::{Store, StoreError};
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The most of a period the times dashboard reads as single cases beside rollups; beyond
/// it (rollups still being built after an upgrade, say) it sorts in SQL, as without rollups.
const RAW_FACTS_AT_MOST: Span = Span::DAY.times(14);

/// Stale days rebuilt per round of the job.
const DAYS_PER_ROUND: i64 = 32;

/// What a count dashboard counts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Count {
    /// Cases by their filing, by a dimension (volume, drivers).
    Filed(Dimension),
    /// Cases by their solving, by classification (outcomes).
    SolvedByClassification,
}

impl Count {
    fn family(self) -> Family {
        match self {
            Count::Filed(_) => Family::Filed,
            Count::SolvedByClassification => Family::Solved,
        }
    }

    fn by(self) -> CountBy {
        match self {
            Count::Filed(d) => CountBy::Dimension(d),
            Count::SolvedByClassification => CountBy::Classification,
        }
    }
}

/// A period's current rollups, decoded, and the plan they make.
struct Rollups {
    family: Family,
    days: Vec<(Day, Vec<u8>)>,
    plan: Plan,
}

impl Rollups {
    /// Reads the current rollups of the period's whole days (none when `use_rollups` is
    /// false: then everything is read from the cases).
    async fn load(
        store: &Store,
        family: Family,
        from: Timestamp,
        to: Timestamp,
        use_rollups: bool,
    ) -> ApiResult<Rollups> {
        let mut days = Vec::new();
        if use_rollups {
            let (first, end) = facts::whole_days(from, to);
            for stored in store.current_rollups(family, first, end).await? {
                days.push((stored.day, stored.facts));
            }
        }
        let plan = facts::plan(from, to, days.iter().map(|(day, _)| *day));
        Ok(Rollups { family, days, plan })
    }

    /// Each day with its facts, decoded one day at a time. Only the encoder writes rollups,
    /// so one that does not decode is corrupt data, answered as such (not skipped).
    fn each(&self, mut visit: impl FnMut(Day, &[CaseFacts<'_>])) -> ApiResult<()> {
        for (day, bytes) in &self.days {
            let decoded = facts::decode(bytes).map_err(|e| {
                StoreError::Corrupt(format!(
                    "the {:?} rollup of day {}: {e}",
                    self.family, day.0
                ))
            })?;
            visit(*day, &decoded);
        }
        Ok(())
    }
}

/// Cases of `[from, to)` counted by bucket (`width` ms from `origin`, the store's
/// arithmetic) and key: whole current days from rollups, the rest in SQL.
#[allow(clippy::too_many_arguments)]
pub(super) async fn counts(
    store: &Store,
    count: Count,
    from: Timestamp,
    to: Timestamp,
    origin: i64,
    width: i64,
    filter: &CaseFilter,
    use_rollups: bool,
) -> ApiResult<Vec<BucketCount>> {
    let rollups = Rollups::load(store, count.family(), from, to, use_rollups).await?;
    let mut rows = Vec::new();
    rollups.each(|day, day_facts| {
        let bucket = bucket_of(day.start(), origin, width);
        for ((key_id, key_text), n) in facts::count(day_facts, count.by(), filter) {
            rows.push(BucketCount {
                bucket,
                key_id,
                key_text: key_text.map(str::to_string),
                n,
            });
        }
    })?;
    for (a, b) in &rollups.plan.raw {
        rows.extend(match count {
            Count::Filed(dimension) => {
                store
                    .case_volume(dimension, *a, *b, origin, width, filter)
                    .await?
            }
            Count::SolvedByClassification => {
                store
                    .classification_volume(*a, *b, origin, width, filter)
                    .await?
            }
        });
    }
    Ok(rows)
}

/// The times dashboard's figures per group for the cases filed in `[from, to)`: from the
/// facts of current rollups and of the cases between them, or, when little of the period
/// has current rollups, sorted in SQL.
pub(super) async fn times(
    store: &Store,
    group: TimesGroup,
    from: Timestamp,
    to: Timestamp,
    filter: &CaseFilter,
    use_rollups: bool,
) -> ApiResult<Vec<GroupTimes>> {
    let rollups = Rollups::load(store, Family::Filed, from, to, use_rollups).await?;
    if rollups.plan.days.is_empty() || rollups.plan.raw_span() > RAW_FACTS_AT_MOST {
        return times_in_sql(store, group, from, to, filter).await;
    }
    let models: HashMap<i64, String> = store.queue_models().await?.into_iter().collect();
    let mut tally = TimesTally::new(group, &models, filter);
    rollups.each(|_, day_facts| tally.add(day_facts))?;
    for (a, b) in &rollups.plan.raw {
        let rows = store.case_facts(Family::Filed, *a, *b, filter).await?;
        let rest: Vec<CaseFacts<'_>> = rows.iter().map(|r| r.facts()).collect();
        tally.add(&rest);
    }
    Ok(tally.finish())
}

/// The times dashboard without rollups: counts grouped in SQL, and each group's durations
/// sorted there, only the ranks a median and p90 read coming back.
async fn times_in_sql(
    store: &Store,
    group: TimesGroup,
    from: Timestamp,
    to: Timestamp,
    filter: &CaseFilter,
) -> ApiResult<Vec<GroupTimes>> {
    #[derive(Default)]
    struct Group {
        cases: i64,
        handoffs: i64,
        solved: i64,
        reopened: i64,
        /// Per measure: how many durations, and the value at each rank read.
        first: (u64, HashMap<u64, i64>),
        resolution: (u64, HashMap<u64, i64>),
    }
    // Grouped by what the database grouped by (ranks are per group there).
    let mut groups: HashMap<(Option<i64>, Option<String>), Group> = HashMap::new();
    for row in store.times_counts(group, from, to, filter).await? {
        let g = groups.entry((row.key_id, row.key_text)).or_default();
        g.cases += row.cases;
        g.handoffs += row.handoffs;
        g.solved += row.solved;
        g.reopened += row.reopened;
    }
    for measure in [Measure::FirstReply, Measure::Resolution] {
        let ranked = store
            .ranked_durations(group, measure, from, to, filter, &[50, 90])
            .await?;
        for row in ranked {
            let g = groups.entry((row.key_id, row.key_text)).or_default();
            let (count, values) = match measure {
                Measure::FirstReply => &mut g.first,
                Measure::Resolution => &mut g.resolution,
            };
            *count = row.group_size as u64;
            values.insert(row.position as u64, row.ms);
        }
    }
    Ok(groups
        .into_iter()
        .map(|((key_id, key_text), g)| GroupTimes {
            key_id,
            key_text,
            cases: g.cases,
            handoffs: g.handoffs,
            solved: g.solved,
            reopened: g.reopened,
            first_reply: durations_from_ranks(g.first.0, &g.first.1),
            resolution: durations_from_ranks(g.resolution.0, &g.resolution.1),
        })
        .collect())
}

/// Keeps rollups current: rebuilds stale days that have ended (today changes with every
/// new case and is read from the cases anyway), newest first, then waits `every` once
/// nothing is left. Every node may run it; on PostgreSQL two nodes rebuilding one day
/// collide harmlessly and the day is taken up again.
pub fn start(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let round = state
                .store
                .refresh_rollups(Day::of(Timestamp::now()), DAYS_PER_ROUND)
                .instrument(tracing::info_span!("rollups"));
            match round.await {
                // More may wait: go on at once (each day is its own short transaction, so
                // other writers get their turn between them).
                Ok(done) if done.rebuilt > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rollup job failed; trying again"),
            }
            tokio::time::sleep(every).await;
        }
    })
}
