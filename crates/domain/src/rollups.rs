//! Daily rollups for the Insights dashboards: what each case contributes to them (its
//! dimensions, first-reply and resolution times, hand-offs, reopenings and classification),
//! kept per UTC day in a compact binary form, and the arithmetic that reads a period from
//! whole days of these facts and the rest from the cases themselves.
//!
//! Two families of days: the cases *filed* on a day (volume, drivers, times, which count
//! cases by their filing) and the cases *solved* on a day (outcomes, which count them by
//! their solving). Facts are exact (every duration is kept, not a sketch), so medians and
//! p90 read from them are the figures raw aggregation gives. Pure: the store keeps the
//! blobs and says which days are current.

use crate::analytics::{durations_by_rank, CaseFilter, Dimension, Durations, TimesGroup};
use crate::{OrgId, Span, Timestamp};
use std::collections::HashMap;

/// A UTC calendar day, counted from 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day holding `at`.
    pub fn of(at: Timestamp) -> Day {
        Day(at.as_millis().div_euclid(Span::DAY.as_millis()))
    }

    /// Its midnight.
    pub fn start(self) -> Timestamp {
        Timestamp::from_millis(self.0 * Span::DAY.as_millis())
    }

    /// The next day's midnight (exclusive end).
    pub fn end(self) -> Timestamp {
        self.next().start()
    }

    pub fn next(self) -> Day {
        Day(self.0 + 1)
    }
}

/// Which cases a day's facts hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// The cases filed that day (by `created_at`).
    Filed,
    /// The cases solved that day (by `solved_at`).
    Solved,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Filed => "filed",
            Family::Solved => "solved",
        }
    }

    pub fn parse(text: &str) -> Option<Family> {
        match text {
            "filed" => Some(Family::Filed),
            "solved" => Some(Family::Solved),
            _ => None,
        }
    }
}

/// What one case contributes to the dashboards. Texts borrow from where the facts were
/// read (a decoded day, or a row of the cases table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts<'a> {
    pub category: Option<i64>,
    pub product: Option<&'a str>,
    pub partner: Option<OrgId>,
    pub organization: OrgId,
    pub channel: &'a str,
    pub tier: i64,
    pub queue: Option<i64>,
    /// Filing to the first public reply by vendor staff.
    pub first_reply: Option<Span>,
    /// Filing to solving (the latest solving, while solved).
    pub resolution: Option<Span>,
    pub handoffs: i64,
    pub reopens: i64,
    pub classification: Option<&'a str>,
}

/// A day's facts that cannot be read back: written by something else, or cut short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a day's case facts are unreadable: {0}")]
pub struct FactsError(&'static str);

/// The first byte of every encoded day. A new layout gets a new number, and a migration that
/// marks every day stale so each is rebuilt in it.
const FORMAT: u8 = 1;

const HAS_CATEGORY: u64 = 1;
const HAS_PRODUCT: u64 = 1 << 1;
const HAS_PARTNER: u64 = 1 << 2;
const HAS_QUEUE: u64 = 1 << 3;
const HAS_FIRST_REPLY: u64 = 1 << 4;
const HAS_RESOLUTION: u64 = 1 << 5;
const HAS_CLASSIFICATION: u64 = 1 << 6;
const ALL_FLAGS: u64 = (1 << 7) - 1;

/// Encodes a day's facts: the format byte, a table of the texts used (products, channels,
/// classifications, each once), then per case a flag word naming the optional values
/// present and the values as LEB128 varints (signed ones zigzagged, texts by their place in
/// the table). A day of a few thousand cases takes some tens of kilobytes.
pub fn encode<'a>(cases: &[CaseFacts<'a>]) -> Vec<u8> {
    let mut table = TextTable::default();
    let mut body = Vec::with_capacity(cases.len() * 16);
    for case in cases {
        let mut flags = 0;
        for (present, flag) in [
            (case.category.is_some(), HAS_CATEGORY),
            (case.product.is_some(), HAS_PRODUCT),
            (case.partner.is_some(), HAS_PARTNER),
            (case.queue.is_some(), HAS_QUEUE),
            (case.first_reply.is_some(), HAS_FIRST_REPLY),
            (case.resolution.is_some(), HAS_RESOLUTION),
            (case.classification.is_some(), HAS_CLASSIFICATION),
        ] {
            if present {
                flags |= flag;
            }
        }
        put(&mut body, flags);
        if let Some(category) = case.category {
            put_signed(&mut body, category);
        }
        if let Some(product) = case.product {
            put(&mut body, table.place(product));
        }
        if let Some(partner) = case.partner {
            put_signed(&mut body, partner.0);
        }
        put_signed(&mut body, case.organization.0);
        put(&mut body, table.place(case.channel));
        put_signed(&mut body, case.tier);
        if let Some(queue) = case.queue {
            put_signed(&mut body, queue);
        }
        if let Some(span) = case.first_reply {
            put_signed(&mut body, span.as_millis());
        }
        if let Some(span) = case.resolution {
            put_signed(&mut body, span.as_millis());
        }
        put_signed(&mut body, case.handoffs);
        put_signed(&mut body, case.reopens);
        if let Some(classification) = case.classification {
            put(&mut body, table.place(classification));
        }
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    out.push(FORMAT);
    put(&mut out, table.texts.len() as u64);
    for text in &table.texts {
        put(&mut out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
    put(&mut out, cases.len() as u64);
    out.extend_from_slice(&body);
    out
}

/// The texts of a day, each once, numbered in order of first use.
#[derive(Default)]
struct TextTable<'a> {
    texts: Vec<&'a str>,
    places: HashMap<&'a str, u64>,
}

impl<'a> TextTable<'a> {
    fn place(&mut self, text: &'a str) -> u64 {
        if let Some(at) = self.places.get(text) {
            return *at;
        }
        let at = self.texts.len() as u64;
        self.texts.push(text);
        self.places.insert(text, at);
        at
    }
}

/// Reads back what [`encode`] wrote; anything else is a [`FactsError`].
pub fn decode(bytes: &[u8]) -> Result<Vec<CaseFacts<'_>>, FactsError> {
    let mut r = Reader { bytes, at: 0 };
    if r.byte()? != FORMAT {
        return Err(FactsError("an unknown format"));
    }
    let text_count = r.count()?;
    let mut texts = Vec::with_capacity(text_count);
    for _ in 0..text_count {
        let len = r.count()?;
        let raw = r.take(len)?;
        texts.push(std::str::from_utf8(raw).map_err(|_| FactsError("a text is not UTF-8"))?);
    }
    let text = |at: u64| {
        texts
            .get(at as usize)
            .copied()
            .ok_or(FactsError("a text outside the table"))
    };
    let case_count = r.count()?;
    let mut cases = Vec::with_capacity(case_count);
    for _ in 0..case_count {
        let flags = r.unsigned()?;
        if flags & !ALL_FLAGS != 0 {
            return Err(FactsError("an unknown flag"));
        }
        let has = |flag: u64| flags & flag != 0;
        let category = has(HAS_CATEGORY).then(|| r.signed()).transpose()?;
        let product = match has(HAS_PRODUCT) {
            true => Some(text(r.unsigned()?)?),
            false => None,
        };
        let partner = has(HAS_PARTNER).then(|| r.signed()).transpose()?;
        let organization = r.signed()?;
        let channel = text(r.unsigned()?)?;
        let tier = r.signed()?;
        let queue = has(HAS_QUEUE).then(|| r.signed()).transpose()?;
        let first_reply = has(HAS_FIRST_REPLY).then(|| r.signed()).transpose()?;
        let resolution = has(HAS_RESOLUTION).then(|| r.signed()).transpose()?;
        let handoffs = r.signed()?;
        let reopens = r.signed()?;
        let classification = match has(HAS_CLASSIFICATION) {
            true => Some(text(r.unsigned()?)?),
            false => None,
        };
        cases.push(CaseFacts {
            category,
            product,
            partner: partner.map(OrgId),
            organization: OrgId(organization),
            channel,
            tier,
            queue,
            first_reply: first_reply.map(Span::from_millis),
            resolution: resolution.map(Span::from_millis),
            handoffs,
            reopens,
            classification,
        });
    }
    if r.at != bytes.len() {
        return Err(FactsError("bytes after the last case"));
    }
    Ok(cases)
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put(out, ((value << 1) ^ (value >> 63)) as u64);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, FactsError> {
        let b = *self.bytes.get(self.at).ok_or(FactsError("cut short"))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], FactsError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(FactsError("cut short"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn unsigned(&mut self) -> Result<u64, FactsError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(FactsError("a number too large"));
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(FactsError("a number too long"))
    }

    fn signed(&mut self) -> Result<i64, FactsError> {
        let v = self.unsigned()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A length or count, which cannot exceed the bytes left (each item takes one at least).
    fn count(&mut self) -> Result<usize, FactsError> {
        let n = self.unsigned()?;
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(FactsError("a count larger than the bytes left"));
        }
        Ok(n as usize)
    }
}

/// How a period `[from, to)` is read: these whole days from their current rollups, and the
/// rest (a partial first and last day, days with no current rollup) from the cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Oldest first.
    pub days: Vec<Day>,
    /// Oldest first; together with `days` they cover the period exactly once.
    pub raw: Vec<(Timestamp, Timestamp)>,
}

impl Plan {
    /// How much of the period is read from the cases.
    pub fn raw_span(&self) -> Span {
        Span::from_millis(
            self.raw
                .iter()
                .map(|(from, to)| to.since(*from).as_millis())
                .sum(),
        )
    }
}

/// The whole days inside `[from, to)` from 1970 on, as `[first, end)`: the days a rollup
/// may answer for. (Earlier times are always read from the cases.)
pub fn whole_days(from: Timestamp, to: Timestamp) -> (Day, Day) {
    let mut first = Day::of(from);
    if first.start() < from {
        first = first.next();
    }
    let first = first.max(Day(0));
    let end = Day::of(to).max(first);
    (first, end)
}

/// Splits `[from, to)` into the whole days that have a current rollup (`current`, in any
/// order; others are ignored) and the stretches between them.
pub fn plan(from: Timestamp, to: Timestamp, current: impl IntoIterator<Item = Day>) -> Plan {
    let (first, end) = whole_days(from, to);
    let mut days: Vec<Day> = current
        .into_iter()
        .filter(|d| *d >= first && *d < end)
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut raw = Vec::new();
    let mut at = from;
    for day in &days {
        if at < day.start() {
            raw.push((at, day.start()));
        }
        at = day.end();
    }
    if at < to {
        raw.push((at, to));
    }
    Plan { days, raw }
}

/// A grouping key as the store groups rows: an id or a text (both `None`: cases without
/// one, such as no category or no partner).
pub type Key<'a> = (Option<i64>, Option<&'a str>);

impl Dimension {
    /// The key a case is counted under, as the store's `GROUP BY` keys it.
    pub fn key<'a>(self, f: &CaseFacts<'a>) -> Key<'a> {
        match self {
            Dimension::Category => (f.category, None),
            Dimension::Product => (None, f.product),
            Dimension::Partner => (f.partner.map(|p| p.0), None),
            Dimension::Channel => (None, Some(f.channel)),
            Dimension::Organization => (Some(f.organization.0), None),
            Dimension::Tier => (Some(f.tier), None),
            Dimension::Queue => (f.queue, None),
        }
    }
}

impl TimesGroup {
    /// The group a case falls in; the support model is its queue's (`models`: queue id to
    /// `tiered` or `swarm`), read when asked, as the store's join reads it.
    pub fn key<'m>(self, f: &CaseFacts<'_>, models: &'m HashMap<i64, String>) -> Key<'m> {
        match self {
            TimesGroup::Tier => (Some(f.tier), None),
            TimesGroup::Queue => (f.queue, None),
            TimesGroup::Partner => (f.partner.map(|p| p.0), None),
            TimesGroup::SupportModel => (
                None,
                f.queue.and_then(|q| models.get(&q)).map(String::as_str),
            ),
        }
    }
}

impl CaseFilter {
    /// Whether the filter keeps a case, as the store's `WHERE` does (a missing value
    /// matches no condition on it).
    pub fn admits(&self, f: &CaseFacts<'_>) -> bool {
        (self.categories.is_empty() || f.category.is_some_and(|c| self.categories.contains(&c)))
            && self.product.as_deref().is_none_or(|p| f.product == Some(p))
            && self.partner.is_none_or(|p| f.partner == Some(p))
            && self.organization.is_none_or(|o| f.organization == o)
            && self.channel.as_deref().is_none_or(|c| f.channel == c)
            && self.tier.is_none_or(|t| f.tier == t)
            && self.queue.is_none_or(|q| f.queue == Some(q))
    }
}

/// What a count is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Dimension(Dimension),
    /// The classification of solved cases (`None`: not classified).
    Classification,
}

impl CountBy {
    pub fn key<'a>(self, f: &CaseFacts<'a>) -> Key<'a> {
        match self {
            CountBy::Dimension(d) => d.key(f),
            CountBy::Classification => (None, f.classification),
        }
    }
}

/// The cases of one day's facts the filter keeps, counted by key (in no order).
pub fn count<'a>(facts: &[CaseFacts<'a>], by: CountBy, filter: &CaseFilter) -> Vec<(Key<'a>, i64)> {
    let mut counts: HashMap<Key<'a>, i64> = HashMap::new();
    for f in facts.iter().filter(|f| filter.admits(f)) {
        *counts.entry(by.key(f)).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// The bucket start a time falls in, with the store's integer arithmetic (division
/// truncating toward zero, as SQL's), so counts from rollups land where the store's do.
pub fn bucket_of(at: Timestamp, origin: i64, width: i64) -> i64 {
    let width = width.max(1);
    (at.as_millis() - origin) / width * width + origin
}

/// One group's figures on the times dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTimes {
    pub key_id: Option<i64>,
    pub key_text: Option<String>,
    pub cases: i64,
    /// Escalations, queue moves and reassignments, all cases together.
    pub handoffs: i64,
    /// Cases solved at least once (solved now, or reopened since).
    pub solved: i64,
    /// Cases reopened after solving.
    pub reopened: i64,
    pub first_reply: Durations,
    pub resolution: Durations,
}

/// The times dashboard over facts: counts per group, and every duration kept so the
/// median and p90 are exact.
pub struct TimesTally<'m> {
    group: TimesGroup,
    models: &'m HashMap<i64, String>,
    filter: &'m CaseFilter,
    groups: HashMap<Key<'m>, Accumulated>,
}

#[derive(Default)]
struct Accumulated {
    cases: i64,
    handoffs: i64,
    solved: i64,
    reopened: i64,
    first_reply: Vec<i64>,
    resolution: Vec<i64>,
}

impl<'m> TimesTally<'m> {
    pub fn new(
        group: TimesGroup,
        models: &'m HashMap<i64, String>,
        filter: &'m CaseFilter,
    ) -> TimesTally<'m> {
        TimesTally {
            group,
            models,
            filter,
            groups: HashMap::new(),
        }
    }

    /// Adds the cases the filter keeps.
    pub fn add(&mut self, facts: &[CaseFacts<'_>]) {
        for f in facts.iter().filter(|f| self.filter.admits(f)) {
            let g = self
                .groups
                .entry(self.group.key(f, self.models))
                .or_default();
            g.cases += 1;
            g.handoffs += f.handoffs;
            if f.resolution.is_some() || f.reopens > 0 {
                g.solved += 1;
            }
            if f.reopens > 0 {
                g.reopened += 1;
            }
            if let Some(span) = f.first_reply {
                g.first_reply.push(span.as_millis());
            }
            if let Some(span) = f.resolution {
                g.resolution.push(span.as_millis());
            }
        }
    }

    /// Each group's figures (in no order).
    pub fn finish(self) -> Vec<GroupTimes> {
        self.groups
            .into_iter()
            .map(|((key_id, key_text), mut g)| GroupTimes {
                key_id,
                key_text: key_text.map(str::to_string),
                cases: g.cases,
                handoffs: g.handoffs,
                solved: g.solved,
                reopened: g.reopened,
                first_reply: durations_by_rank(&mut g.first_reply),
                resolution: durations_by_rank(&mut g.resolution),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn case<'a>(
        category: Option<i64>,
        product: Option<&'a str>,
        channel: &'a str,
    ) -> CaseFacts<'a> {
        CaseFacts {
            category,
            product,
            partner: None,
            organization: OrgId(7),
            channel,
            tier: 1,
            queue: None,
            first_reply: None,
            resolution: None,
            handoffs: 0,
            reopens: 0,
            classification: None,
        }
    }

    #[test]
    fn days_are_utc_midnight_to_midnight() {
        let day = Day::of(t("2026-12-02T23:59:59.999Z"));
        assert_eq!(day.start(), t("2026-12-02T00:00:00Z"));
        assert_eq!(day.end(), t("2026-12-03T00:00:00Z"));
        assert_eq!(Day::of(t("2026-12-03T00:00:00Z")), day.next());
        assert_eq!(Day::of(Timestamp::from_millis(-1)), Day(-1));
    }

    #[test]
    fn a_period_reads_whole_current_days_from_rollups_and_the_rest_from_cases() {
        let from = t("2026-11-01T10:00:00Z");
        let to = t("2026-11-05T08:00:00Z");
        let [d1, d2, d3, d4] = [1, 2, 3, 4].map(|n| Day::of(t(&format!("2026-11-0{n}T12:00:00Z"))));
        // Whole days: 2, 3 and 4; day 3 has no current rollup; day 1 is partial and day 5
        // (outside) is ignored.
        assert_eq!(whole_days(from, to), (d2, d4.next()));
        let p = plan(from, to, [d4, d2, d1, d4.next(), d2]);
        assert_eq!(p.days, [d2, d4]);
        assert_eq!(
            p.raw,
            [(from, d2.start()), (d3.start(), d3.end()), (d4.end(), to)]
        );
        assert_eq!(
            p.raw_span().as_millis(),
            to.since(from).as_millis() - Span::DAY.times(2).as_millis()
        );
        // Midnight to midnight: nothing raw once every day is current.
        let p = plan(d2.start(), d4.end(), [d2, d3, d4]);
        assert!(p.raw.is_empty());
        // Nothing current: one stretch, the whole period.
        assert_eq!(plan(from, to, []).raw, [(from, to)]);
        // Shorter than a day.
        let short = plan(from, from.plus(Span::HOUR), [d1, d2]);
        assert!(short.days.is_empty());
        assert_eq!(short.raw, [(from, from.plus(Span::HOUR))]);
        // Before 1970 nothing is read from rollups.
        let early = plan(
            Timestamp::from_millis(-5 * 86_400_000),
            Timestamp::from_millis(86_400_000),
            [Day(-2), Day(0)],
        );
        assert_eq!(early.days, [Day(0)]);
    }

    #[test]
    fn buckets_use_the_stores_arithmetic() {
        let week = crate::analytics::Bucket::Week;
        let at = t("2026-12-02T15:30:00Z");
        assert_eq!(
            bucket_of(at, week.origin(), week.span().as_millis()),
            week.start(at).as_millis()
        );
        // A period of arbitrary length from an arbitrary origin is one bucket.
        let origin = at.minus(Span::DAY.times(10)).as_millis() + 17;
        assert_eq!(
            bucket_of(at, origin, Span::DAY.times(30).as_millis()),
            origin
        );
    }

    #[test]
    fn filters_and_keys_follow_the_stores_sql() {
        let mut f = case(Some(3), Some("Sync"), "web");
        f.partner = Some(OrgId(9));
        f.queue = Some(4);
        assert!(CaseFilter::default().admits(&f));
        let only = |filter: CaseFilter| filter.admits(&f);
        assert!(only(CaseFilter {
            categories: vec![1, 3],
            ..Default::default()
        }));
        assert!(!only(CaseFilter {
            categories: vec![1],
            ..Default::default()
        }));
        assert!(only(CaseFilter {
            product: Some("Sync".into()),
            ..Default::default()
        }));
        assert!(!only(CaseFilter {
            product: Some("sync".into()),
            ..Default::default()
        }));
        assert!(only(CaseFilter {
            partner: Some(OrgId(9)),
            tier: Some(1),
            queue: Some(4),
            ..Default::default()
        }));
        assert!(!only(CaseFilter {
            organization: Some(OrgId(9)),
            ..Default::default()
        }));
        assert!(!only(CaseFilter {
            channel: Some("email".into()),
            ..Default::default()
        }));
        // A case without a product or a category matches no condition on them.
        let bare = case(None, None, "web");
        assert!(!CaseFilter {
            categories: vec![3],
            ..Default::default()
        }
        .admits(&bare));
        assert!(!CaseFilter {
            product: Some("Sync".into()),
            ..Default::default()
        }
        .admits(&bare));
        assert_eq!(Dimension::Product.key(&bare), (None, None));
        assert_eq!(Dimension::Channel.key(&bare), (None, Some("web")));
        assert_eq!(Dimension::Partner.key(&f), (Some(9), None));
        let models: HashMap<i64, String> = [(4, "swarm".to_string())].into();
        assert_eq!(
            TimesGroup::SupportModel.key(&f, &models),
            (None, Some("swarm"))
        );
        assert_eq!(TimesGroup::SupportModel.key(&bare, &models), (None, None));
    }

    #[test]
    fn counts_and_times_over_facts() {
        let mut facts = vec![
            case(Some(1), Some("Sync"), "web"),
            case(Some(1), Some("Sync"), "email"),
            case(Some(2), None, "web"),
            case(None, None, "web"),
        ];
        let minutes = [5, 1, 9, 3];
        for (f, m) in facts.iter_mut().zip(minutes) {
            f.first_reply = Some(Span::MINUTE.times(m));
        }
        facts[0].resolution = Some(Span::HOUR);
        facts[1].reopens = 1;
        facts[1].handoffs = 2;
        facts[3].classification = Some("known");
        let mut by_category = count(
            &facts,
            CountBy::Dimension(Dimension::Category),
            &CaseFilter::default(),
        );
        by_category.sort();
        assert_eq!(
            by_category,
            [
                ((None, None), 1),
                ((Some(1), None), 2),
                ((Some(2), None), 1)
            ]
        );
        let web = CaseFilter {
            channel: Some("web".into()),
            ..Default::default()
        };
        let mut outcomes = count(&facts, CountBy::Classification, &web);
        outcomes.sort();
        assert_eq!(outcomes, [((None, None), 2), ((None, Some("known")), 1)]);

        let models = HashMap::new();
        let all = CaseFilter::default();
        let mut tally = TimesTally::new(TimesGroup::Tier, &models, &all);
        tally.add(&facts[..2]);
        tally.add(&facts[2..]);
        let groups = tally.finish();
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(
            (g.key_id, g.cases, g.handoffs, g.solved, g.reopened),
            (Some(1), 4, 2, 2, 1)
        );
        // 1 3 5 9 minutes: the median halfway between 3 and 5; p90 at rank 2.7.
        assert_eq!(g.first_reply.median_ms, Some(4 * 60_000));
        assert_eq!(g.first_reply.p90_ms, Some(468_000)); // 5 + 0.7 * (9 - 5) minutes
        assert_eq!(g.resolution.count, 1);
        assert_eq!(g.resolution.median_ms, Some(3_600_000));
    }

    #[test]
    fn corrupt_bytes_are_refused_not_misread() {
        let facts = [case(Some(1), Some("Sync"), "web")];
        let bytes = encode(&facts);
        assert_eq!(decode(&bytes).unwrap(), facts);
        assert!(decode(&[]).is_err());
        assert!(decode(&[2, 0, 0]).is_err(), "another format");
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // A count claiming more cases than bytes could hold.
        assert!(decode(&[1, 0, 0xff, 0xff, 0x03]).is_err());
        // A varint longer than any i64.
        assert!(
            decode(&[1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err()
        );
    }

    fn owned_facts() -> impl Strategy<Value = Vec<OwnedFacts>> {
        let text = prop::sample::select(vec![
            "", "Sync", "Backup", "web", "email", "known", "new", "é ✓",
        ]);
        let one = (
            (
                prop::option::of(any::<i64>()),
                prop::option::of(text.clone()),
                prop::option::of(any::<i64>()),
                any::<i64>(),
                text.clone(),
                any::<i64>(),
            ),
            (
                prop::option::of(any::<i64>()),
                prop::option::of(any::<i64>()),
                prop::option::of(any::<i64>()),
                any::<i64>(),
                any::<i64>(),
                prop::option::of(text),
            ),
        )
            .prop_map(
                |(
                    (category, product, partner, organization, channel, tier),
                    (queue, first, resolution, handoffs, reopens, classification),
                )| OwnedFacts {
                    category,
                    product: product.map(str::to_string),
                    partner,
                    organization,
                    channel: channel.to_string(),
                    tier,
                    queue,
                    first,
                    resolution,
                    handoffs,
                    reopens,
                    classification: classification.map(str::to_string),
                },
            );
        prop::collection::vec(one, 0..40)
    }

    #[derive(Debug, Clone)]
    struct OwnedFacts {
        category: Option<i64>,
        product: Option<String>,
        partner: Option<i64>,
        organization: i64,
        channel: String,
        tier: i64,
        queue: Option<i64>,
        first: Option<i64>,
        resolution: Option<i64>,
        handoffs: i64,
        reopens: i64,
        classification: Option<String>,
    }

    impl OwnedFacts {
        fn facts(&self) -> CaseFacts<'_> {
            CaseFacts {
                category: self.category,
                product: self.product.as_deref(),
                partner: self.partner.map(OrgId),
                organization: OrgId(self.organization),
                channel: &self.channel,
                tier: self.tier,
                queue: self.queue,
                first_reply: self.first.map(Span::from_millis),
                resolution: self.resolution.map(Span::from_millis),
                handoffs: self.handoffs,
                reopens: self.reopens,
                classification: self.classification.as_deref(),
            }
        }
    }

    proptest! {
        #[test]
        fn facts_round_trip(owned in owned_facts()) {
            let facts: Vec<CaseFacts<'_>> = owned.iter().map(OwnedFacts::facts).collect();
            let bytes = encode(&facts);
            prop_assert_eq!(decode(&bytes).unwrap(), facts);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
