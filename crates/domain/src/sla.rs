//! Service-level agreement (SLA) clocks: how much of a promised reply or resolution time a case
//! has used, counted in the vendor's business hours, and when the promise runs out.
//!
//! Everything here is a pure function of the case's history, a calendar and "now", so the
//! background sweep, the case page and the tests compute the same answer. Business time is
//! counted in a [`Calendar`]: working intervals per weekday, in local wall-clock time of one
//! IANA time zone, minus holidays. The time zone database is compiled into the binary, so two
//! hosts never disagree about a due date because their system zone files differ.

use crate::partner::Party;
use crate::{string_enum, CaseStatus, FieldErrors, OrgId, Priority, Span, Timestamp};
use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::sync::OnceLock;

/// Holidays one calendar may list; enough for decades of public holidays, small enough that
/// checking a day stays cheap.
pub const MAX_HOLIDAYS: usize = 1000;
/// Working intervals one calendar may list (all weekdays together). Each one is looked at for
/// every day counted, so the bound keeps the sweep's cost per case bounded too.
pub const MAX_WORKING_INTERVALS: usize = 100;
/// How many local days `add` and `between` look at before giving up: ten years and a little.
/// A calendar that holds no working time for that long (every working day a holiday) would
/// otherwise make them loop for ever.
const HORIZON_DAYS: u32 = 3_660;
const MINUTES_PER_DAY: u16 = 24 * 60;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One weekday's working interval, local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkingHours {
    /// `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`.
    pub day: String,
    /// Local wall-clock time the interval opens, `HH:MM`.
    pub start: String,
    /// Local wall-clock time the interval closes, `HH:MM`, after `start`; `24:00` is the end
    /// of the day.
    pub end: String,
}

/// A business-hours calendar as admins write it and the store keeps it (JSON). It becomes a
/// [`Calendar`] through [`Calendar::from_spec`], which checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarSpec {
    /// IANA time zone name, such as `Europe/Berlin`. Working hours and holidays are local
    /// times of this zone, daylight saving time included.
    pub time_zone: String,
    /// Several intervals per day are allowed (a lunch break), overlapping ones are not.
    pub hours: Vec<WorkingHours>,
    /// Local dates, `YYYY-MM-DD`, on which no business time passes.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A checked business-hours calendar, ready to count business time.
#[derive(Debug, Clone)]
pub struct Calendar(Kind);

#[derive(Debug, Clone)]
enum Kind {
    /// Every moment is business time: counting is plain arithmetic.
    Always,
    Hours(Box<WorkingWeek>),
}

#[derive(Debug, Clone)]
struct WorkingWeek {
    zone: TimeZone,
    /// Monday first; per day, sorted, disjoint, non-touching `[start, end)` minutes of the
    /// local day (`end` up to 1440, midnight at the end of the day).
    days: [Vec<(u16, u16)>; 7],
    /// Local days (days since 1970-01-01), sorted, without duplicates.
    holidays: Vec<i64>,
}

impl Calendar {
    /// Around the clock, no holidays: business time is elapsed time.
    pub fn always() -> Calendar {
        Calendar(Kind::Always)
    }

    /// Checks `spec`, collecting every problem under the field it belongs to (`time_zone`,
    /// `hours`, `holidays`; the first problem of each field is kept).
    ///
    /// A calendar that works all day every day and has no holidays counts every moment,
    /// whatever its zone, and so becomes [`Calendar::always`].
    pub fn from_spec(spec: &CalendarSpec) -> Result<Calendar, FieldErrors> {
        let mut errors = FieldErrors::new();
        let zone = check_time_zone(&spec.time_zone, &mut errors);
        let days = check_hours(&spec.hours, &mut errors);
        let holidays = check_holidays(&spec.holidays, &mut errors);
        // Each check that returns nothing has recorded why.
        let (Some(zone), Some(days), Some(holidays)) = (zone, days, holidays) else {
            return Err(errors);
        };
        errors.into_result()?;
        let all_day = [(0, MINUTES_PER_DAY)];
        if holidays.is_empty() && days.iter().all(|day| day[..] == all_day) {
            return Ok(Calendar::always());
        }
        Ok(Calendar(Kind::Hours(Box::new(WorkingWeek {
            zone,
            days,
            holidays,
        }))))
    }

    /// The moment at which `work` business time has passed after `from`. When `from` is
    /// outside working hours, counting starts at the next opening; no work (zero or negative)
    /// is done at once, at `from`.
    ///
    /// When the calendar holds less than `work` in the ten years after `from` (a calendar of
    /// holidays), the answer is the end of those ten years: as good as never, and still a
    /// time people can read.
    pub fn add(&self, from: Timestamp, work: Span) -> Timestamp {
        if work <= Span::ZERO {
            return from;
        }
        let week = match &self.0 {
            Kind::Always => return from.plus(work),
            Kind::Hours(week) => week,
        };
        let mut remaining = work.as_millis();
        let walked = week.walk(from.as_millis(), None, |start, end| {
            let length = end - start;
            if remaining <= length {
                ControlFlow::Break(start + remaining)
            } else {
                remaining -= length;
                ControlFlow::Continue(())
            }
        });
        match walked {
            Ok(due) => Timestamp::from_millis(due),
            Err(horizon) => Timestamp::from_millis(horizon),
        }
    }

    /// Business time in `[from, to)`; zero when `to` is not after `from`. Only the ten years
    /// after `from` are counted (see [`Calendar::add`]).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Span {
        if to <= from {
            return Span::ZERO;
        }
        let week = match &self.0 {
            Kind::Always => return to.since(from),
            Kind::Hours(week) => week,
        };
        let to = to.as_millis();
        // Up to the day after `to`'s local day, so that no interval is missed whatever
        // daylight saving time does around midnight.
        let last_day = week.local_day(to) + 1;
        let mut counted: i64 = 0;
        let _ = week.walk(from.as_millis(), Some(last_day), |start, end| {
            if start >= to {
                return ControlFlow::Break(());
            }
            counted = counted.saturating_add(end.min(to) - start);
            ControlFlow::Continue(())
        });
        Span::from_millis(counted)
    }
}

impl WorkingWeek {
    /// Calls `visit` with each working interval, as UTC milliseconds `[start, end)`, that ends
    /// after `from`, in time order, with starts before `from` moved up to `from`. Stops when
    /// `visit` breaks (its value), or after the local day `last_day` or the horizon (the
    /// instant up to which it looked).
    fn walk<B>(
        &self,
        from: i64,
        last_day: Option<i64>,
        mut visit: impl FnMut(i64, i64) -> ControlFlow<B>,
    ) -> Result<B, i64> {
        let mut clock = WallClock::new(&self.zone);
        // From the day before `from`'s local day: an interval of that day may reach past
        // midnight in instants when daylight saving time moves around midnight.
        let mut day = self.local_day(from) - 1;
        for _ in 0..HORIZON_DAYS {
            if last_day.is_some_and(|last| day > last) {
                break;
            }
            if self.holidays.binary_search(&day).is_err() {
                for &(start_minute, end_minute) in &self.days[weekday(day)] {
                    let end = clock.instant(wall_time_ms(day, end_minute));
                    if end <= from {
                        continue;
                    }
                    let start = clock.instant(wall_time_ms(day, start_minute)).max(from);
                    // An interval wholly inside a spring-forward gap holds no time.
                    if end <= start {
                        continue;
                    }
                    if let ControlFlow::Break(found) = visit(start, end) {
                        return Ok(found);
                    }
                }
            }
            day += 1;
        }
        Err(clock.instant(wall_time_ms(day, 0)))
    }

    /// The local day (days since 1970-01-01) of a UTC instant in this zone.
    fn local_day(&self, at: i64) -> i64 {
        let offset = self.zone.to_offset(to_jiff(at)).seconds();
        at.saturating_add(i64::from(offset) * 1_000)
            .div_euclid(DAY_MS)
    }
}

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// A local wall-clock time as milliseconds since 1970-01-01 00:00 local, so that days and
/// minutes are plain arithmetic; `minute` 1440 is the next midnight.
fn wall_time_ms(day: i64, minute: u16) -> i64 {
    day.saturating_mul(DAY_MS)
        .saturating_add(i64::from(minute) * MINUTE_MS)
}

/// Monday first; 1970-01-01, local day 0, was a Thursday.
fn weekday(day: i64) -> usize {
    // In 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// Days since 1970-01-01 of a civil date.
fn day_number(date: Date) -> i64 {
    date.duration_since(jiff::civil::date(1970, 1, 1))
        .as_secs()
        .div_euclid(86_400)
}

/// Changes of offset are kept this far away from a steady stretch: further than any change
/// can move the clock (offsets stay within ±26 h, so a change is less than 52 h), so inside
/// the stretch every wall-clock time is shown exactly once.
const STEADY_MARGIN_MS: i64 = 3 * DAY_MS;

/// Turns local wall-clock times of one zone into UTC instants.
///
/// Looking the zone up for every interval boundary dominates the cost of a walk, and nearly
/// every boundary lies in a stretch of months with one offset. So the stretch around the last
/// looked-up instant is kept, shrunk by [`STEADY_MARGIN_MS`] at both ends: a wall time whose
/// instant under that offset falls inside is shown then and at no other instant (another
/// instant would lie less than the margin away, still inside the stretch, under the same
/// offset), and converts by a subtraction. Times near a change go to the database.
struct WallClock<'z> {
    zone: &'z TimeZone,
    steady: Option<Steady>,
}

/// Instants `[from, until)` throughout which the zone's offset is `offset_ms`.
struct Steady {
    offset_ms: i64,
    from: i64,
    until: i64,
}

impl<'z> WallClock<'z> {
    fn new(zone: &'z TimeZone) -> WallClock<'z> {
        WallClock { zone, steady: None }
    }

    fn instant(&mut self, wall_ms: i64) -> i64 {
        if let Some(steady) = &self.steady {
            let instant = wall_ms.saturating_sub(steady.offset_ms);
            if steady.from <= instant && instant < steady.until {
                return instant;
            }
        }
        let instant = exact_instant(self.zone, wall_ms);
        self.steady = Some(self.steady_around(instant));
        instant
    }

    fn steady_around(&self, instant: i64) -> Steady {
        let at = to_jiff(instant);
        // Transitions fall on whole seconds, so one strictly before `instant + 1 ms` is one
        // at or before `instant`.
        let just_after = to_jiff(instant.saturating_add(1));
        let from = self
            .zone
            .preceding(just_after)
            .next()
            .map_or(i64::MIN, |change| {
                change
                    .timestamp()
                    .as_millisecond()
                    .saturating_add(STEADY_MARGIN_MS)
            });
        let until = self.zone.following(at).next().map_or(i64::MAX, |change| {
            change
                .timestamp()
                .as_millisecond()
                .saturating_sub(STEADY_MARGIN_MS)
        });
        Steady {
            offset_ms: i64::from(self.zone.to_offset(at).seconds()) * 1_000,
            from,
            until,
        }
    }
}

/// The UTC instant (ms) at which the local clock of `zone` shows `wall_ms`, asked of the
/// database.
///
/// Daylight saving time makes some wall-clock times name no instant or two. The choice is
/// fixed so that a later wall-clock time never lands at an earlier instant, which keeps a
/// day's intervals in order and apart:
/// - a time skipped when the clocks spring forward is the moment they spring (a working
///   interval 02:00–02:30 on that night holds no time; 01:30–03:30 holds one hour);
/// - a time repeated when the clocks fall back is its first occurrence (an interval starting
///   in the repeated hour starts the first time the clock shows its start, and an interval
///   spanning the change holds the repeated hour twice).
fn exact_instant(zone: &TimeZone, wall_ms: i64) -> i64 {
    let local = jiff::tz::Offset::UTC.to_datetime(to_jiff(wall_ms));
    let instant = match zone.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local),
        // Read with the later (larger) offset, a skipped time falls just before the change,
        // so the next transition from there is the change itself.
        AmbiguousOffset::Gap { after, .. } => after.to_timestamp(local).map(|just_before| {
            zone.following(just_before)
                .next()
                .map_or(just_before, |change| change.timestamp())
        }),
    };
    match instant {
        Ok(instant) => instant.as_millisecond(),
        Err(_) if wall_ms < 0 => jiff::Timestamp::MIN.as_millisecond(),
        Err(_) => jiff::Timestamp::MAX.as_millisecond(),
    }
}

/// Our instant as jiff's, pinned to the years jiff knows (-9999 to 9999).
fn to_jiff(at: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at).unwrap_or(if at < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

/// The bundled IANA database, never the host's zone files: the domain reads no files, and
/// every host computes the same due dates.
/// The IANA time zone database, bundled into the binary (no host files needed).
pub(crate) fn zones() -> &'static TimeZoneDatabase {
    static ZONES: OnceLock<TimeZoneDatabase> = OnceLock::new();
    ZONES.get_or_init(TimeZoneDatabase::bundled)
}

fn check_time_zone(name: &str, errors: &mut FieldErrors) -> Option<TimeZone> {
    let name = name.trim();
    if name.is_empty() {
        errors.add(
            "time_zone",
            "Choose the time zone of the working hours; write an IANA name such as Europe/Berlin.",
        );
        return None;
    }
    match zones().get(name) {
        // `Etc/Unknown` is the database's placeholder for "no idea", not a place.
        Ok(zone) if !zone.is_unknown() => Some(zone),
        _ => {
            errors.add(
                "time_zone",
                format!("Unknown time zone {name:?}; write an IANA name such as Europe/Berlin."),
            );
            None
        }
    }
}

fn check_hours(hours: &[WorkingHours], errors: &mut FieldErrors) -> Option<[Vec<(u16, u16)>; 7]> {
    if hours.len() > MAX_WORKING_INTERVALS {
        errors.add(
            "hours",
            format!(
                "A calendar holds at most {MAX_WORKING_INTERVALS} working intervals; this one \
                 has {}.",
                hours.len()
            ),
        );
        return None;
    }
    let mut days: [Vec<(u16, u16)>; 7] = Default::default();
    let mut valid = true;
    for entry in hours {
        let Some(day) = DAY_NAMES
            .iter()
            .position(|name| name.eq_ignore_ascii_case(entry.day.trim()))
        else {
            errors.add(
                "hours",
                format!(
                    "{:?} is not a day of the week; write mon, tue, wed, thu, fri, sat or sun.",
                    entry.day
                ),
            );
            valid = false;
            continue;
        };
        let start = parse_wall_time(&entry.start);
        let end = parse_wall_time(&entry.end);
        match (start, end) {
            (Some(start), Some(end)) if start < end => days[day].push((start, end)),
            (Some(start), Some(end)) => {
                errors.add(
                    "hours",
                    format!(
                        "On {} the interval {} to {} does not end after it starts; the end \
                         must be later than the start (24:00 for midnight).",
                        DAY_NAMES[day],
                        wall_time(start),
                        wall_time(end)
                    ),
                );
                valid = false;
            }
            (start, _) => {
                let bad = if start.is_none() {
                    &entry.start
                } else {
                    &entry.end
                };
                errors.add(
                    "hours",
                    format!(
                        "{bad:?} is not a time of day; write hours and minutes such as 09:00 \
                         or 17:30, from 00:00 to 24:00."
                    ),
                );
                valid = false;
            }
        }
    }
    for (day, intervals) in days.iter_mut().enumerate() {
        intervals.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(intervals.len());
        for &(start, end) in intervals.iter() {
            match merged.last_mut() {
                Some(last) if start < last.1 => {
                    errors.add(
                        "hours",
                        format!(
                            "On {} the intervals {} to {} and {} to {} overlap; the intervals \
                             of one day must not overlap.",
                            DAY_NAMES[day],
                            wall_time(last.0),
                            wall_time(last.1),
                            wall_time(start),
                            wall_time(end)
                        ),
                    );
                    valid = false;
                }
                // Touching intervals (09:00–12:00, 12:00–17:00) are one stretch of work.
                Some(last) if start == last.1 => last.1 = end,
                _ => merged.push((start, end)),
            }
        }
        *intervals = merged;
    }
    if valid && days.iter().all(Vec::is_empty) {
        errors.add(
            "hours",
            "Add at least one working interval, such as mon from 09:00 to 17:00; without one \
             no business time ever passes.",
        );
        valid = false;
    }
    valid.then_some(days)
}

/// `HH:MM` as minutes of the day, 00:00 to 24:00.
fn parse_wall_time(text: &str) -> Option<u16> {
    let bytes = text.trim().as_bytes();
    let [h1, h2, b':', m1, m2] = bytes else {
        return None;
    };
    let digit = |b: &u8| b.is_ascii_digit().then(|| u16::from(b - b'0'));
    let hours = digit(h1)? * 10 + digit(h2)?;
    let minutes = digit(m1)? * 10 + digit(m2)?;
    let minute = hours * 60 + minutes;
    (minutes < 60 && minute <= MINUTES_PER_DAY).then_some(minute)
}

fn wall_time(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn check_holidays(holidays: &[String], errors: &mut FieldErrors) -> Option<Vec<i64>> {
    if holidays.len() > MAX_HOLIDAYS {
        errors.add(
            "holidays",
            format!(
                "A calendar holds at most {MAX_HOLIDAYS} holidays; this one has {}. Remove \
                 the years that are over.",
                holidays.len()
            ),
        );
        return None;
    }
    let mut dates = Vec::with_capacity(holidays.len());
    for text in holidays {
        match parse_local_date(text) {
            Some(date) => dates.push(day_number(date)),
            None => {
                errors.add(
                    "holidays",
                    format!(
                        "{text:?} is not a date; write holidays as year-month-day, such as \
                         2026-12-25."
                    ),
                );
                return None;
            }
        }
    }
    dates.sort_unstable();
    dates.dedup();
    Some(dates)
}

/// Exactly `YYYY-MM-DD` naming a real day (jiff's own parser also takes times and offsets,
/// which a holiday has no use for).
fn parse_local_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let year: i16 = text[0..4].parse().ok()?;
    let month: i8 = text[5..7].parse().ok()?;
    let day: i8 = text[8..10].parse().ok()?;
    Date::new(year, month, day).ok()
}

string_enum!(
    /// What an SLA promises: a first reply, a reply to each customer message, a solution.
    Metric { FirstReply => "first_reply", NextReply => "next_reply", Resolution => "resolution" }
);

string_enum!(
    /// Where a clock stands: running in time, running close to its target (warning), over its
    /// target (breached), or fulfilled in time (achieved).
    SlaState { Ok => "ok", Warning => "warning", Breached => "breached", Achieved => "achieved" }
);

impl SlaState {
    /// How much a state asks for attention: breached, then warning, then ok, then achieved.
    fn urgency(self) -> u8 {
        match self {
            SlaState::Achieved => 0,
            SlaState::Ok => 1,
            SlaState::Warning => 2,
            SlaState::Breached => 3,
        }
    }
}

/// The targets of a policy, in business time of its calendar; a metric without a target has no
/// clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_reply: Option<Span>,
    pub next_reply: Option<Span>,
    pub resolution: Option<Span>,
}

/// What a policy is chosen by; an empty list means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PolicyConditions {
    /// The customer organisation that filed the case.
    pub organizations: Vec<OrgId>,
    /// The partner the case came through.
    pub partners: Vec<OrgId>,
    /// Who owns the customer under the partner agreement (cases without a partner have no
    /// owner, so they never match a condition on it).
    pub customer_owner: Option<Party>,
    pub priorities: Vec<Priority>,
    /// Product names, compared case-insensitively and exactly.
    pub products: Vec<String>,
}

/// The facts of a case that policies are chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyFacts<'a> {
    pub organization: OrgId,
    pub partner: Option<OrgId>,
    pub customer_owner: Option<Party>,
    pub priority: Priority,
    pub product: Option<&'a str>,
}

impl PolicyConditions {
    /// Whether every condition holds for the case.
    pub fn matches(&self, facts: &PolicyFacts) -> bool {
        let organization =
            self.organizations.is_empty() || self.organizations.contains(&facts.organization);
        let partner = self.partners.is_empty()
            || facts
                .partner
                .is_some_and(|partner| self.partners.contains(&partner));
        let owner = self
            .customer_owner
            .is_none_or(|owner| facts.customer_owner == Some(owner));
        let priority = self.priorities.is_empty() || self.priorities.contains(&facts.priority);
        let product = self.products.is_empty()
            || facts.product.is_some_and(|product| {
                self.products
                    .iter()
                    .any(|wanted| same_ignoring_case(wanted, product))
            });
        organization && partner && owner && priority && product
    }
}

fn same_ignoring_case(a: &str, b: &str) -> bool {
    a.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(b.trim().chars().flat_map(char::to_lowercase))
}

/// The first policy (in the admin's order) whose conditions match.
pub fn choose<'p, P>(
    policies: &'p [P],
    conditions: impl Fn(&P) -> &PolicyConditions,
    facts: &PolicyFacts,
) -> Option<&'p P> {
    policies
        .iter()
        .find(|policy| conditions(policy).matches(facts))
}

/// A case's history as the clocks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockFacts {
    pub opened: Timestamp,
    /// Status changes after opening, in time order (the case opens as `new`).
    pub statuses: Vec<(Timestamp, CaseStatus)>,
    /// Public comments in time order, `true` when written by vendor staff.
    pub public_replies: Vec<(Timestamp, bool)>,
}

/// One metric's clock at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricClock {
    pub metric: Metric,
    /// When the clock started: the case opening, or for a next reply the customer's message.
    pub started: Timestamp,
    /// Business time allowed.
    pub target: Span,
    /// While running, the moment the target is (or was) reached if nothing pauses the clock;
    /// `None` while paused or once fulfilled.
    pub due: Option<Timestamp>,
    /// Business time counted, up to now or up to fulfilment.
    pub elapsed: Span,
    /// Waiting on the customer (`pending`): the clock does not count.
    pub paused: bool,
    pub fulfilled: Option<Timestamp>,
    /// The moment the elapsed time reached the target, when the clock is breached.
    pub breached_at: Option<Timestamp>,
    pub state: SlaState,
}

/// The clocks of a case at `now`, one per metric the targets name that has started (a
/// next-reply clock starts with the first customer message that awaits an answer).
///
/// Every clock counts business time of `calendar` only, and pauses while the case is
/// `pending` (waiting on the customer). Events after `now` are not looked at; events dated
/// before the opening count as at the opening.
pub fn clocks(
    targets: &Targets,
    warn_before: Span,
    calendar: &Calendar,
    facts: &ClockFacts,
    now: Timestamp,
) -> Vec<MetricClock> {
    if now < facts.opened {
        return Vec::new();
    }
    let history = History::of(facts, now);
    let measure = |metric, started, target, until| {
        measure(
            metric,
            started,
            target,
            until,
            &history,
            calendar,
            warn_before,
            now,
        )
    };
    let mut out = Vec::new();
    if let Some(target) = targets.first_reply {
        let first_staff_reply = history.replies.iter().find(|r| r.1).map(|r| r.0);
        let first_done = history.first_done_after(None);
        let fulfilled = match (first_staff_reply, first_done) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        out.push(measure(Metric::FirstReply, facts.opened, target, fulfilled));
    }
    if let Some(target) = targets.next_reply {
        if let Some((started, fulfilled)) = history.latest_reply_cycle() {
            out.push(measure(Metric::NextReply, started, target, fulfilled));
        }
    }
    if let Some(target) = targets.resolution {
        out.push(measure(
            Metric::Resolution,
            facts.opened,
            target,
            history.solved_since(),
        ));
    }
    out
}

/// What happened to a case up to `now`, ordered.
struct History {
    /// `(since, status)`, first the opening as `new`; a run lasts until the next one, the
    /// last until now.
    runs: Vec<(Timestamp, CaseStatus)>,
    replies: Vec<(Timestamp, bool)>,
}

impl History {
    fn of(facts: &ClockFacts, now: Timestamp) -> History {
        let mut runs = vec![(facts.opened, CaseStatus::New)];
        let mut changes: Vec<(Timestamp, CaseStatus)> = facts
            .statuses
            .iter()
            .filter(|change| change.0 <= now)
            .map(|&(at, status)| (at.max(facts.opened), status))
            .collect();
        // Stable, so changes at the same moment keep their order.
        changes.sort_by_key(|change| change.0);
        runs.extend(changes);
        let mut replies: Vec<(Timestamp, bool)> = facts
            .public_replies
            .iter()
            .filter(|reply| reply.0 <= now)
            .map(|&(at, by_staff)| (at.max(facts.opened), by_staff))
            .collect();
        replies.sort_by_key(|reply| reply.0);
        History { runs, replies }
    }

    /// The status at `at`, after every change made at that moment.
    fn status_at(&self, at: Timestamp) -> CaseStatus {
        self.runs
            .iter()
            .rev()
            .find(|run| run.0 <= at)
            .map_or(CaseStatus::New, |run| run.1)
    }

    /// The first moment (strictly after `after`, if given) at which the case became solved or
    /// closed.
    fn first_done_after(&self, after: Option<Timestamp>) -> Option<Timestamp> {
        self.runs
            .iter()
            .find(|run| after.is_none_or(|after| run.0 > after) && !run.1.is_active())
            .map(|run| run.0)
    }

    /// When the case was solved, if it is solved or closed now: the start of its last stretch
    /// of solved and closed statuses.
    fn solved_since(&self) -> Option<Timestamp> {
        let mut since = None;
        for &(at, status) in self.runs.iter().rev() {
            if status.is_active() {
                break;
            }
            since = Some(at);
        }
        since
    }

    /// The latest next-reply cycle, `(started, fulfilled)`: started by a customer message after
    /// the first staff reply that no staff reply has answered yet (more customer messages do
    /// not restart it), fulfilled by the next staff reply or by the case being solved or
    /// closed. A customer message on a case that stays solved starts nothing.
    fn latest_reply_cycle(&self) -> Option<(Timestamp, Option<Timestamp>)> {
        let mut staff_replied = false;
        let mut cycle: Option<(Timestamp, Option<Timestamp>)> = None;
        for &(at, by_staff) in &self.replies {
            // A cycle the case's solution ended before this reply.
            if let Some((started, None)) = cycle {
                if let Some(done) = self.first_done_after(Some(started)).filter(|d| *d <= at) {
                    cycle = Some((started, Some(done)));
                }
            }
            let running = matches!(cycle, Some((_, None)));
            if by_staff {
                staff_replied = true;
                if let Some((started, None)) = cycle {
                    cycle = Some((started, Some(at)));
                }
            } else if staff_replied && !running && self.status_at(at).is_active() {
                cycle = Some((at, None));
            }
        }
        if let Some((started, None)) = cycle {
            if let Some(done) = self.first_done_after(Some(started)) {
                cycle = Some((started, Some(done)));
            }
        }
        cycle
    }

    /// The parts of `[from, until)` (until now when `until` is `None`) in which the case is
    /// open work and not waiting on the customer, in order. The last part has no end when the
    /// clock is counting now.
    fn counting_parts(
        &self,
        from: Timestamp,
        until: Option<Timestamp>,
    ) -> Vec<(Timestamp, Option<Timestamp>)> {
        let mut parts = Vec::new();
        for (i, &(since, status)) in self.runs.iter().enumerate() {
            if !status.is_active() || status == CaseStatus::Pending {
                continue;
            }
            let start = since.max(from);
            let run_end = self.runs.get(i + 1).map(|next| next.0);
            let end = match (run_end, until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if end.is_some_and(|end| end <= start) {
                continue;
            }
            parts.push((start, end));
        }
        parts
    }
}

/// One clock from its start, its fulfilment (if any) and the case's history.
#[allow(clippy::too_many_arguments)]
fn measure(
    metric: Metric,
    started: Timestamp,
    target: Span,
    fulfilled: Option<Timestamp>,
    history: &History,
    calendar: &Calendar,
    warn_before: Span,
    now: Timestamp,
) -> MetricClock {
    let mut elapsed: i64 = 0;
    // The moment the elapsed time reached the target, once it has.
    let mut reached: Option<Timestamp> = None;
    let mut due = None;
    for (start, end) in history.counting_parts(started, fulfilled) {
        let counted = calendar.between(start, end.unwrap_or(now)).as_millis();
        let remaining = target.as_millis().saturating_sub(elapsed);
        if reached.is_none() && counted >= remaining {
            reached = Some(calendar.add(start, Span::from_millis(remaining)));
        }
        if end.is_none() {
            due =
                Some(reached.unwrap_or_else(|| calendar.add(start, Span::from_millis(remaining))));
        }
        elapsed = elapsed.saturating_add(counted);
    }
    let elapsed = Span::from_millis(elapsed);
    let state = if fulfilled.is_some() {
        if elapsed <= target {
            SlaState::Achieved
        } else {
            SlaState::Breached
        }
    } else if let Some(due) = due {
        if now >= due {
            SlaState::Breached
        } else if now >= due.minus(warn_before.max(Span::ZERO)) {
            SlaState::Warning
        } else {
            SlaState::Ok
        }
    } else if elapsed > target {
        SlaState::Breached
    } else {
        SlaState::Ok
    };
    MetricClock {
        metric,
        started,
        target,
        due,
        elapsed,
        paused: fulfilled.is_none() && due.is_none(),
        fulfilled,
        breached_at: reached.filter(|_| state == SlaState::Breached),
        state,
    }
}

/// The next moment a clock changes state without any event: a running clock turns from ok to
/// warning at `due - warn_before` and from warning to breached at `due`. `None` when no clock
/// runs towards a change. `warn_before` must be the one the clocks were computed with.
pub fn next_change(clocks: &[MetricClock], warn_before: Span) -> Option<Timestamp> {
    let warn_before = warn_before.max(Span::ZERO);
    clocks
        .iter()
        .filter_map(|clock| {
            let due = clock.due?;
            match clock.state {
                SlaState::Ok => Some(due.minus(warn_before)),
                SlaState::Warning => Some(due),
                SlaState::Breached | SlaState::Achieved => None,
            }
        })
        .min()
}

/// For lists: the soonest due among running clocks, and the worst state (breached, then
/// warning, then ok, then achieved); no state when there are no clocks.
pub fn summary(clocks: &[MetricClock]) -> (Option<Timestamp>, Option<SlaState>) {
    let soonest_due = clocks.iter().filter_map(|clock| clock.due).min();
    let worst = clocks
        .iter()
        .map(|clock| clock.state)
        .max_by_key(|state| state.urgency());
    (soonest_due, worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn hours(n: i64) -> Span {
        Span::hours(n).unwrap()
    }

    fn minutes(n: i64) -> Span {
        Span::minutes(n).unwrap()
    }

    fn spec(time_zone: &str, hours: &[(&str, &str, &str)], holidays: &[&str]) -> CalendarSpec {
        CalendarSpec {
            time_zone: time_zone.to_string(),
            hours: hours
                .iter()
                .map(|&(day, start, end)| WorkingHours {
                    day: day.to_string(),
                    start: start.to_string(),
                    end: end.to_string(),
                })
                .collect(),
            holidays: holidays.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn calendar(time_zone: &str, hours: &[(&str, &str, &str)], holidays: &[&str]) -> Calendar {
        Calendar::from_spec(&spec(time_zone, hours, holidays)).unwrap()
    }

    const WEEKDAYS_9_TO_5: &[(&str, &str, &str)] = &[
        ("mon", "09:00", "17:00"),
        ("tue", "09:00", "17:00"),
        ("wed", "09:00", "17:00"),
        ("thu", "09:00", "17:00"),
        ("fri", "09:00", "17:00"),
    ];

    fn office(time_zone: &str) -> Calendar {
        calendar(time_zone, WEEKDAYS_9_TO_5, &[])
    }

    fn every_day(start: &str, end: &str) -> Vec<(&'static str, String, String)> {
        DAY_NAMES
            .iter()
            .map(|&day| (day, start.to_string(), end.to_string()))
            .collect()
    }

    fn calendar_every_day(time_zone: &str, start: &str, end: &str, holidays: &[&str]) -> Calendar {
        let days = every_day(start, end);
        let hours: Vec<(&str, &str, &str)> = days
            .iter()
            .map(|(day, start, end)| (*day, start.as_str(), end.as_str()))
            .collect();
        calendar(time_zone, &hours, holidays)
    }

    // 2026-03-06 is a Friday, 2026-03-09 a Monday. Berlin is on CET (+01:00) until the clocks
    // spring forward on Sunday 2026-03-29, and on CEST (+02:00) until Sunday 2026-10-25.

    #[test]
    fn sla_friday_afternoon_case_is_due_monday_noon() {
        let berlin = office("Europe/Berlin");
        let opened = at("2026-03-06T16:00:00+01:00");
        // 4 h = 1 h on Friday (16:00-17:00) + 3 h on Monday (09:00-12:00).
        let due = berlin.add(opened, hours(4));
        assert_eq!(due, at("2026-03-09T12:00:00+01:00"));
        assert_eq!(berlin.between(opened, due), hours(4));
        // Work that ends exactly at closing time is due at closing, not at the next opening.
        assert_eq!(
            berlin.add(opened, hours(1)),
            at("2026-03-06T17:00:00+01:00")
        );
    }

    #[test]
    fn sla_holiday_monday_pushes_due_to_tuesday() {
        let berlin = calendar("Europe/Berlin", WEEKDAYS_9_TO_5, &["2026-03-09"]);
        // 4 h = 1 h on Friday + Monday off + 3 h on Tuesday (09:00-12:00).
        assert_eq!(
            berlin.add(at("2026-03-06T16:00:00+01:00"), hours(4)),
            at("2026-03-10T12:00:00+01:00")
        );
    }

    #[test]
    fn sla_case_opened_at_the_weekend_counts_from_monday_opening() {
        let berlin = office("Europe/Berlin");
        // Saturday 10:00: nothing counts until Monday 09:00; 4 h later is 13:00.
        assert_eq!(
            berlin.add(at("2026-03-07T10:00:00+01:00"), hours(4)),
            at("2026-03-09T13:00:00+01:00")
        );
        // Friday 17:00 (closing) and Friday 18:00 alike: Monday 09:00 + 1 h = 10:00.
        for opened in ["2026-03-06T17:00:00+01:00", "2026-03-06T18:00:00+01:00"] {
            assert_eq!(
                berlin.add(at(opened), hours(1)),
                at("2026-03-09T10:00:00+01:00")
            );
        }
        // No work is done at once, wherever `from` is.
        let saturday = at("2026-03-07T10:00:00+01:00");
        assert_eq!(berlin.add(saturday, Span::ZERO), saturday);
        assert_eq!(berlin.add(saturday, hours(-3)), saturday);
    }

    #[test]
    fn sla_between_skips_the_weekend() {
        let berlin = office("Europe/Berlin");
        let friday = at("2026-03-06T15:00:00+01:00");
        let monday = at("2026-03-09T10:30:00+01:00");
        // Friday 15:00-17:00 = 2 h, Monday 09:00-10:30 = 1.5 h: 3.5 h = 210 min.
        assert_eq!(berlin.between(friday, monday), minutes(210));
        assert_eq!(berlin.between(monday, friday), Span::ZERO);
        assert_eq!(berlin.between(friday, friday), Span::ZERO);
        // Saturday to Sunday: nothing.
        assert_eq!(
            berlin.between(
                at("2026-03-07T00:00:00+01:00"),
                at("2026-03-09T00:00:00+01:00")
            ),
            Span::ZERO
        );
    }

    #[test]
    fn sla_a_whole_sunday_holds_23_hours_in_spring_and_25_in_autumn() {
        let sundays = calendar("Europe/Berlin", &[("sun", "00:00", "24:00")], &[]);
        // Spring: Sunday 2026-03-29 runs from 00:00+01:00 (23:00Z Saturday) to 00:00+02:00
        // (22:00Z Sunday): 23 h.
        let saturday = at("2026-03-28T12:00:00+01:00");
        let monday = at("2026-03-30T12:00:00+02:00");
        assert_eq!(sundays.between(saturday, monday), hours(23));
        assert_eq!(
            sundays.add(saturday, hours(23)),
            at("2026-03-30T00:00:00+02:00")
        );
        // The 24th hour falls on the next Sunday: 2026-04-05 00:00 + 1 h.
        assert_eq!(
            sundays.add(saturday, hours(24)),
            at("2026-04-05T01:00:00+02:00")
        );
        // Autumn: Sunday 2026-10-25 runs from 00:00+02:00 (22:00Z Saturday) to 00:00+01:00
        // (23:00Z Sunday): 25 h.
        let saturday = at("2026-10-24T12:00:00+02:00");
        let monday = at("2026-10-26T12:00:00+01:00");
        assert_eq!(sundays.between(saturday, monday), hours(25));
        assert_eq!(
            sundays.add(saturday, hours(25)),
            at("2026-10-26T00:00:00+01:00")
        );
        // The same holds for every day of a week with a holiday (so no plain-arithmetic
        // shortcut applies): Saturday 00:00 to Monday 00:00 around the spring change is
        // 24 h + 23 h = 47 h.
        let week = calendar_every_day("Europe/Berlin", "00:00", "24:00", &["2026-12-25"]);
        assert_eq!(
            week.between(
                at("2026-03-28T00:00:00+01:00"),
                at("2026-03-30T00:00:00+02:00")
            ),
            hours(47)
        );
    }

    #[test]
    fn sla_office_hours_keep_eight_hours_on_change_days() {
        let berlin = calendar_every_day("Europe/Berlin", "09:00", "17:00", &[]);
        // Spring: the clocks jump at 02:00, before opening; 09:00-17:00 CEST = 8 h.
        let sunday = at("2026-03-29T00:00:00+01:00");
        assert_eq!(
            berlin.between(sunday, at("2026-03-30T00:00:00+02:00")),
            hours(8)
        );
        // Opening is 09:00+02:00 = 07:00Z; one hour later is 10:00+02:00.
        assert_eq!(
            berlin.add(sunday, hours(1)),
            at("2026-03-29T10:00:00+02:00")
        );
        // Autumn: 09:00-17:00 CET = 8 h; opening is 09:00+01:00 = 08:00Z.
        let sunday = at("2026-10-25T00:00:00+02:00");
        assert_eq!(
            berlin.between(sunday, at("2026-10-26T00:00:00+01:00")),
            hours(8)
        );
        assert_eq!(
            berlin.add(sunday, hours(1)),
            at("2026-10-25T10:00:00+01:00")
        );
    }

    #[test]
    fn sla_skipped_wall_times_are_the_change_and_repeated_ones_their_first_occurrence() {
        // Spring, Berlin: 02:00-03:00 on 2026-03-29 does not exist; the change is at 01:00Z.
        let in_gap = calendar("Europe/Berlin", &[("sun", "02:00", "02:30")], &[]);
        let saturday = at("2026-03-28T12:00:00+01:00");
        // Both ends are the change (01:00Z): the interval holds nothing that night.
        assert_eq!(
            in_gap.between(saturday, at("2026-03-30T00:00:00+02:00")),
            Span::ZERO
        );
        // So 10 min fall on the next Sunday, 2026-04-05 02:00+02:00 + 10 min.
        assert_eq!(
            in_gap.add(saturday, minutes(10)),
            at("2026-04-05T02:10:00+02:00")
        );
        // 01:30-03:30: 01:30+01:00 = 00:30Z to 03:30+02:00 = 01:30Z = 1 h (2 h on other Sundays).
        let across_gap = calendar("Europe/Berlin", &[("sun", "01:30", "03:30")], &[]);
        assert_eq!(
            across_gap.between(saturday, at("2026-03-30T00:00:00+02:00")),
            hours(1)
        );
        assert_eq!(
            across_gap.between(
                at("2026-04-04T12:00:00+02:00"),
                at("2026-04-06T00:00:00+02:00")
            ),
            hours(2)
        );

        // Autumn, Berlin: 02:00-03:00 on 2026-10-25 happens twice (first +02:00, then +01:00).
        let saturday = at("2026-10-24T12:00:00+02:00");
        let monday = at("2026-10-26T00:00:00+01:00");
        // 02:15-02:45 at its first occurrence: 00:15Z to 00:45Z = 30 min.
        let in_fold = calendar("Europe/Berlin", &[("sun", "02:15", "02:45")], &[]);
        assert_eq!(in_fold.between(saturday, monday), minutes(30));
        assert_eq!(
            in_fold.add(saturday, minutes(1)),
            at("2026-10-25T00:16:00Z")
        );
        // 01:00-04:00 spans the change: 01:00+02:00 = 23:00Z to 04:00+01:00 = 03:00Z = 4 h.
        let across_fold = calendar("Europe/Berlin", &[("sun", "01:00", "04:00")], &[]);
        assert_eq!(across_fold.between(saturday, monday), hours(4));
    }

    #[test]
    fn sla_new_york_hours_are_new_york_time() {
        let new_york = office("America/New_York");
        let utc = office("UTC");
        // Monday 2026-03-02, New York on EST (-05:00): 13:00Z is 08:00 there, before opening.
        let opened = at("2026-03-02T13:00:00Z");
        // New York: opening 09:00-05:00 = 14:00Z, + 2 h = 16:00Z. UTC: 13:00Z + 2 h = 15:00Z.
        assert_eq!(new_york.add(opened, hours(2)), at("2026-03-02T16:00:00Z"));
        assert_eq!(utc.add(opened, hours(2)), at("2026-03-02T15:00:00Z"));
        // 12:00Z-18:00Z: UTC counts 12:00-17:00 = 5 h; New York 14:00Z-18:00Z = 4 h.
        let noon = at("2026-03-02T12:00:00Z");
        let evening = at("2026-03-02T18:00:00Z");
        assert_eq!(utc.between(noon, evening), hours(5));
        assert_eq!(new_york.between(noon, evening), hours(4));
        // After New York springs forward (Sunday 2026-03-08) it is on EDT (-04:00): Monday
        // 13:00Z is 09:00 there, so 2 h later is 15:00Z.
        assert_eq!(
            new_york.add(at("2026-03-09T13:00:00Z"), hours(2)),
            at("2026-03-09T15:00:00Z")
        );
    }

    #[test]
    fn sla_lunch_break_splits_the_day() {
        let berlin = calendar(
            "Europe/Berlin",
            &[("mon", "13:00", "17:00"), ("mon", "09:00", "12:00")],
            &[],
        );
        let eleven = at("2026-03-09T11:00:00+01:00");
        // 2 h = 11:00-12:00 + 13:00-14:00.
        assert_eq!(
            berlin.add(eleven, hours(2)),
            at("2026-03-09T14:00:00+01:00")
        );
        assert_eq!(
            berlin.between(eleven, at("2026-03-09T14:00:00+01:00")),
            hours(2)
        );
        // The whole Monday: 3 h + 4 h = 7 h.
        assert_eq!(
            berlin.between(
                at("2026-03-09T00:00:00+01:00"),
                at("2026-03-10T00:00:00+01:00")
            ),
            hours(7)
        );
        // Work that ends at the break is due when the break starts.
        assert_eq!(
            berlin.add(eleven, hours(1)),
            at("2026-03-09T12:00:00+01:00")
        );
    }

    #[test]
    fn sla_always_is_plain_arithmetic() {
        let always = Calendar::always();
        let from = at("2026-03-28T23:30:00Z");
        assert_eq!(always.add(from, hours(5)), from.plus(hours(5)));
        assert_eq!(always.add(from, hours(-5)), from);
        assert_eq!(always.between(from, from.plus(hours(5))), hours(5));
        assert_eq!(always.between(from.plus(hours(5)), from), Span::ZERO);
        // Saturates rather than overflowing.
        assert_eq!(
            always.add(from, Span::from_millis(i64::MAX)),
            Timestamp::from_millis(i64::MAX)
        );
        // A spec that works all day every day without holidays counts every instant, so it
        // is the same: over Berlin's spring change, 00:00+01:00 to 00:00+02:00 is 23 h.
        let all_week = calendar_every_day("Europe/Berlin", "00:00", "24:00", &[]);
        assert!(matches!(all_week.0, Kind::Always));
        assert_eq!(
            all_week.between(
                at("2026-03-29T00:00:00+01:00"),
                at("2026-03-30T00:00:00+02:00")
            ),
            hours(23)
        );
        // Touching intervals that add up to a whole day are a whole day too.
        let mut split = every_day("00:00", "12:00");
        split.extend(every_day("12:00", "24:00"));
        let hours: Vec<(&str, &str, &str)> = split
            .iter()
            .map(|(day, start, end)| (*day, start.as_str(), end.as_str()))
            .collect();
        assert!(matches!(calendar("UTC", &hours, &[]).0, Kind::Always));
    }

    #[test]
    fn sla_a_calendar_of_holidays_gives_up_after_ten_years() {
        // Only Mondays work, and the next 600 Mondays (about eleven and a half years) are all
        // holidays.
        let first_monday = at("2026-01-05T12:00:00Z");
        let holidays: Vec<String> = (0..600)
            .map(|week| {
                first_monday
                    .plus(Span::DAY.times(7 * week))
                    .date()
                    .to_string()
            })
            .collect();
        let holidays: Vec<&str> = holidays.iter().map(String::as_str).collect();
        let mondays = calendar("Europe/Berlin", &[("mon", "09:00", "17:00")], &holidays);
        let from = at("2026-01-01T00:00:00Z");
        let given_up = mondays.add(from, hours(1));
        // The horizon: 3660 local days from 2025-12-31 (the day before `from`'s local date).
        // 2026-2035 hold 3652 days (two leap days), reaching 2035-12-31; 8 more days reach
        // 2036-01-08, at 00:00+01:00.
        assert_eq!(given_up, at("2036-01-08T00:00:00+01:00"));
        assert_eq!(mondays.between(from, given_up), Span::ZERO);
        // Counting a century terminates too, and counts no more than the ten years.
        let far = from.plus(Span::days(36_500).unwrap());
        assert_eq!(mondays.between(from, far), Span::ZERO);
        let berlin = office("Europe/Berlin");
        let counted = berlin.between(from, far);
        assert!(counted > hours(8 * 5 * 52 * 9) && counted < hours(8 * 5 * 53 * 11));
    }

    fn field_error(spec: &CalendarSpec, field: &str) -> String {
        let errors = Calendar::from_spec(spec).unwrap_err();
        errors.0.get(field).cloned().unwrap_or_else(|| {
            panic!("no error for {field}: {errors:?}");
        })
    }

    #[test]
    fn sla_time_zone_must_be_a_known_iana_name() {
        assert_eq!(
            field_error(&spec("Europe/Berln", WEEKDAYS_9_TO_5, &[]), "time_zone"),
            "Unknown time zone \"Europe/Berln\"; write an IANA name such as Europe/Berlin."
        );
        assert!(field_error(&spec("  ", WEEKDAYS_9_TO_5, &[]), "time_zone")
            .starts_with("Choose the time zone"));
        // The database's placeholder for an unknown zone is no zone either.
        assert!(
            field_error(&spec("Etc/Unknown", WEEKDAYS_9_TO_5, &[]), "time_zone")
                .starts_with("Unknown time zone")
        );
        // Names are looked up regardless of case, as the database does.
        assert!(Calendar::from_spec(&spec("europe/berlin", WEEKDAYS_9_TO_5, &[])).is_ok());
    }

    #[test]
    fn sla_hours_must_be_days_and_times_in_order() {
        let hours_error =
            |hours: &[(&str, &str, &str)]| field_error(&spec("UTC", hours, &[]), "hours");
        assert_eq!(
            hours_error(&[("Mond", "09:00", "17:00")]),
            "\"Mond\" is not a day of the week; write mon, tue, wed, thu, fri, sat or sun."
        );
        for bad in ["9:00", "25:00", "24:30", "12:60", "noon", "09:00:00", ""] {
            assert_eq!(
                hours_error(&[("mon", bad, "17:00")]),
                format!(
                    "{bad:?} is not a time of day; write hours and minutes such as 09:00 or \
                     17:30, from 00:00 to 24:00."
                ),
            );
        }
        assert!(hours_error(&[("mon", "09:00", "24:01")]).starts_with("\"24:01\" is not"));
        assert_eq!(
            hours_error(&[("mon", "17:00", "09:00")]),
            "On mon the interval 17:00 to 09:00 does not end after it starts; the end must be \
             later than the start (24:00 for midnight)."
        );
        assert!(hours_error(&[("mon", "24:00", "24:00")]).contains("does not end after"));
        assert!(hours_error(&[("mon", "09:00", "09:00")]).contains("does not end after"));
        assert_eq!(
            hours_error(&[("tue", "12:00", "17:00"), ("tue", "09:00", "13:00")]),
            "On tue the intervals 09:00 to 13:00 and 12:00 to 17:00 overlap; the intervals of \
             one day must not overlap."
        );
        assert!(hours_error(&[]).starts_with("Add at least one working interval"));
        let too_many: Vec<(&str, &str, &str)> = (0..=MAX_WORKING_INTERVALS)
            .map(|_| ("mon", "09:00", "10:00"))
            .collect();
        assert!(hours_error(&too_many).starts_with("A calendar holds at most 100 working"));
        // Allowed: a day that ends at midnight, touching intervals, capitalised day names,
        // the same interval on another day.
        assert!(Calendar::from_spec(&spec(
            "UTC",
            &[
                ("Mon", "09:00", "12:00"),
                ("mon", "12:00", "24:00"),
                ("tue", "00:00", "12:00"),
            ],
            &[]
        ))
        .is_ok());
    }

    #[test]
    fn sla_holidays_must_be_dates_and_few() {
        for bad in [
            "2026-02-30",
            "2026-12-25T00:00",
            "25.12.2026",
            "2026-1-5",
            "+2026-12-2",
        ] {
            assert_eq!(
                field_error(&spec("UTC", WEEKDAYS_9_TO_5, &[bad]), "holidays"),
                format!(
                    "{bad:?} is not a date; write holidays as year-month-day, such as \
                     2026-12-25."
                )
            );
        }
        let many: Vec<String> = (0..=MAX_HOLIDAYS).map(|_| "2026-12-25".into()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            field_error(&spec("UTC", WEEKDAYS_9_TO_5, &many), "holidays"),
            "A calendar holds at most 1000 holidays; this one has 1001. Remove the years that \
             are over."
        );
        // Duplicates are harmless; leap days are dates.
        assert!(Calendar::from_spec(&spec(
            "UTC",
            WEEKDAYS_9_TO_5,
            &["2028-02-29", "2026-12-25", " 2026-12-25 "]
        ))
        .is_ok());
    }

    #[test]
    fn sla_every_field_is_reported_at_once_and_specs_read_as_json() {
        let errors =
            Calendar::from_spec(&spec("Mars/Olympus", &[("xyz", "", "")], &["soon"])).unwrap_err();
        assert_eq!(
            errors.0.keys().collect::<Vec<_>>(),
            ["holidays", "hours", "time_zone"]
        );
        let stored: CalendarSpec = serde_json::from_str(
            r#"{"time_zone": "Europe/Berlin",
                "hours": [{"day": "mon", "start": "09:00", "end": "17:30"}]}"#,
        )
        .unwrap();
        assert!(stored.holidays.is_empty());
        assert!(Calendar::from_spec(&stored).is_ok());
    }

    // Clocks. The office is Berlin, Monday to Friday 09:00-17:00; Monday 2026-03-09 on CET.

    fn facts(opened: &str) -> ClockFacts {
        ClockFacts {
            opened: at(opened),
            statuses: Vec::new(),
            public_replies: Vec::new(),
        }
    }

    fn only(metric: Metric, target: Span) -> Targets {
        let mut targets = Targets::default();
        match metric {
            Metric::FirstReply => targets.first_reply = Some(target),
            Metric::NextReply => targets.next_reply = Some(target),
            Metric::Resolution => targets.resolution = Some(target),
        }
        targets
    }

    fn one_clock(targets: &Targets, facts: &ClockFacts, now: &str) -> MetricClock {
        let clocks = clocks(targets, hours(1), &office("Europe/Berlin"), facts, at(now));
        assert_eq!(clocks.len(), 1, "{clocks:?}");
        clocks.into_iter().next().unwrap()
    }

    #[test]
    fn sla_pending_pauses_the_clock_and_shifts_due_by_the_paused_business_time() {
        let targets = only(Metric::FirstReply, hours(4));
        let mut case = facts("2026-03-09T09:00:00+01:00");
        // Unpaused, 4 h from Monday 09:00 is due 13:00.
        let running = one_clock(&targets, &case, "2026-03-09T10:00:00+01:00");
        assert_eq!(running.due, Some(at("2026-03-09T13:00:00+01:00")));
        // Pending 10:00-14:00 pauses 4 business hours, so due moves to 17:00.
        case.statuses = vec![
            (at("2026-03-09T10:00:00+01:00"), CaseStatus::Pending),
            (at("2026-03-09T14:00:00+01:00"), CaseStatus::Open),
        ];
        let paused = one_clock(&targets, &case, "2026-03-09T12:00:00+01:00");
        assert!(paused.paused);
        assert_eq!(paused.due, None);
        assert_eq!(paused.elapsed, hours(1));
        assert_eq!(paused.state, SlaState::Ok);
        // At 15:00: elapsed 09:00-10:00 + 14:00-15:00 = 2 h; due = 14:00 + (4 h - 1 h) = 17:00.
        let resumed = one_clock(&targets, &case, "2026-03-09T15:00:00+01:00");
        assert!(!resumed.paused);
        assert_eq!(resumed.elapsed, hours(2));
        assert_eq!(resumed.due, Some(at("2026-03-09T17:00:00+01:00")));
        assert_eq!(resumed.state, SlaState::Ok);

        // Pending over night, Monday 12:00 to Tuesday 10:00: 3 h counted before, 1 h left
        // from Tuesday 10:00, due Tuesday 11:00. The pause held Monday 12:00-17:00 + Tuesday
        // 09:00-10:00 = 6 business hours, and Monday 13:00 + 6 h business is Tuesday 11:00.
        case.statuses = vec![
            (at("2026-03-09T12:00:00+01:00"), CaseStatus::Pending),
            (at("2026-03-10T10:00:00+01:00"), CaseStatus::Open),
        ];
        let resumed = one_clock(&targets, &case, "2026-03-10T10:00:00+01:00");
        assert_eq!(resumed.due, Some(at("2026-03-10T11:00:00+01:00")));
        assert_eq!(resumed.state, SlaState::Warning);
    }

    #[test]
    fn sla_paused_clock_over_its_target_is_breached() {
        let targets = only(Metric::Resolution, hours(2));
        let mut case = facts("2026-03-09T09:00:00+01:00");
        // Pending at 12:00 after 3 h of a 2 h target: breached at 11:00, and it stays so.
        case.statuses = vec![(at("2026-03-09T12:00:00+01:00"), CaseStatus::Pending)];
        let clock = one_clock(&targets, &case, "2026-03-10T12:00:00+01:00");
        assert!(clock.paused);
        assert_eq!(clock.elapsed, hours(3));
        assert_eq!(clock.state, SlaState::Breached);
        assert_eq!(clock.breached_at, Some(at("2026-03-09T11:00:00+01:00")));
        assert_eq!(next_change(&[clock], hours(1)), None);
    }

    #[test]
    fn sla_reopen_continues_resolution_where_it_stopped() {
        let targets = only(Metric::Resolution, hours(8));
        let mut case = facts("2026-03-09T09:00:00+01:00");
        case.statuses = vec![(at("2026-03-09T12:00:00+01:00"), CaseStatus::Solved)];
        // Solved Monday 12:00 after 3 h: achieved.
        let solved = one_clock(&targets, &case, "2026-03-09T15:00:00+01:00");
        assert_eq!(solved.state, SlaState::Achieved);
        assert_eq!(solved.fulfilled, Some(at("2026-03-09T12:00:00+01:00")));
        assert_eq!(solved.elapsed, hours(3));
        assert_eq!(solved.due, None);
        assert!(!solved.paused);
        // Reopened Tuesday 10:00: 3 h + 1 h by 11:00, 5 h left from 10:00, due 15:00.
        case.statuses
            .push((at("2026-03-10T10:00:00+01:00"), CaseStatus::Open));
        let reopened = one_clock(&targets, &case, "2026-03-10T11:00:00+01:00");
        assert_eq!(reopened.fulfilled, None);
        assert_eq!(reopened.elapsed, hours(4));
        assert_eq!(reopened.due, Some(at("2026-03-10T15:00:00+01:00")));
        assert_eq!(reopened.state, SlaState::Ok);
        // Solved again Tuesday 16:00 and closed later: 3 h + 6 h = 9 h > 8 h, breached at
        // Tuesday 15:00, fulfilled at the solution, not the closing.
        case.statuses
            .push((at("2026-03-10T16:00:00+01:00"), CaseStatus::Solved));
        case.statuses
            .push((at("2026-03-11T09:00:00+01:00"), CaseStatus::Closed));
        let late = one_clock(&targets, &case, "2026-03-12T09:00:00+01:00");
        assert_eq!(late.elapsed, hours(9));
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.fulfilled, Some(at("2026-03-10T16:00:00+01:00")));
        assert_eq!(late.breached_at, Some(at("2026-03-10T15:00:00+01:00")));
    }

    #[test]
    fn sla_first_reply_is_fulfilled_by_a_staff_reply_or_a_solution() {
        let targets = only(Metric::FirstReply, hours(4));
        let mut case = facts("2026-03-09T09:00:00+01:00");
        // The customer's own comment does not count; the staff reply at 10:30 does.
        case.public_replies = vec![
            (at("2026-03-09T09:30:00+01:00"), false),
            (at("2026-03-09T10:30:00+01:00"), true),
        ];
        let replied = one_clock(&targets, &case, "2026-03-09T16:00:00+01:00");
        assert_eq!(replied.fulfilled, Some(at("2026-03-09T10:30:00+01:00")));
        assert_eq!(replied.elapsed, minutes(90));
        assert_eq!(replied.state, SlaState::Achieved);
        // Solved at 10:00 with no reply at all: fulfilled by the solution.
        case.public_replies.clear();
        case.statuses = vec![(at("2026-03-09T10:00:00+01:00"), CaseStatus::Solved)];
        let solved = one_clock(&targets, &case, "2026-03-09T16:00:00+01:00");
        assert_eq!(solved.fulfilled, Some(at("2026-03-09T10:00:00+01:00")));
        assert_eq!(solved.state, SlaState::Achieved);
        // Events after `now` are not known yet.
        let before = one_clock(&targets, &case, "2026-03-09T09:30:00+01:00");
        assert_eq!(before.fulfilled, None);
        assert_eq!(before.due, Some(at("2026-03-09T13:00:00+01:00")));
    }

    #[test]
    fn sla_next_reply_cycles_start_at_unanswered_customer_messages() {
        let targets = only(Metric::NextReply, hours(2));
        let calendar = office("Europe/Berlin");
        let mut case = facts("2026-03-09T09:00:00+01:00");
        // A customer message before the first staff reply starts no cycle.
        case.public_replies = vec![(at("2026-03-09T09:30:00+01:00"), false)];
        let none = clocks(
            &targets,
            hours(1),
            &calendar,
            &case,
            at("2026-03-09T10:00:00Z"),
        );
        assert!(none.is_empty());
        // Staff answers at 10:00; the customer writes at 11:00 and again at 11:30: one cycle
        // from 11:00, due 13:00, 1 h elapsed at 12:00.
        case.public_replies.extend([
            (at("2026-03-09T10:00:00+01:00"), true),
            (at("2026-03-09T11:00:00+01:00"), false),
            (at("2026-03-09T11:30:00+01:00"), false),
        ]);
        let waiting = one_clock(&targets, &case, "2026-03-09T12:00:00+01:00");
        assert_eq!(waiting.metric, Metric::NextReply);
        assert_eq!(waiting.started, at("2026-03-09T11:00:00+01:00"));
        assert_eq!(waiting.elapsed, hours(1));
        assert_eq!(waiting.due, Some(at("2026-03-09T13:00:00+01:00")));
        assert_eq!(waiting.state, SlaState::Warning);
        // Staff answers at 12:30: fulfilled after 1.5 h.
        case.public_replies
            .push((at("2026-03-09T12:30:00+01:00"), true));
        let answered = one_clock(&targets, &case, "2026-03-09T13:00:00+01:00");
        assert_eq!(answered.fulfilled, Some(at("2026-03-09T12:30:00+01:00")));
        assert_eq!(answered.elapsed, minutes(90));
        assert_eq!(answered.state, SlaState::Achieved);
        // A new message at 16:00 starts the latest cycle: by Tuesday 10:00 it has counted
        // Monday 16:00-17:00 + Tuesday 09:00-10:00 = 2 h, due Tuesday 10:00, breached then.
        case.public_replies
            .push((at("2026-03-09T16:00:00+01:00"), false));
        let late = one_clock(&targets, &case, "2026-03-10T10:00:00+01:00");
        assert_eq!(late.started, at("2026-03-09T16:00:00+01:00"));
        assert_eq!(late.elapsed, hours(2));
        assert_eq!(late.due, Some(at("2026-03-10T10:00:00+01:00")));
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.breached_at, Some(at("2026-03-10T10:00:00+01:00")));
        // Solving the case at 16:30 fulfils the cycle after 30 min.
        case.statuses = vec![(at("2026-03-09T16:30:00+01:00"), CaseStatus::Solved)];
        let solved = one_clock(&targets, &case, "2026-03-10T10:00:00+01:00");
        assert_eq!(solved.fulfilled, Some(at("2026-03-09T16:30:00+01:00")));
        assert_eq!(solved.elapsed, minutes(30));
        assert_eq!(solved.state, SlaState::Achieved);
        // The customer reopens it by writing on Tuesday 09:00 (comment and reopen at the same
        // moment): a new cycle, 1 h elapsed at 10:00.
        case.statuses
            .push((at("2026-03-10T09:00:00+01:00"), CaseStatus::Open));
        case.public_replies
            .push((at("2026-03-10T09:00:00+01:00"), false));
        let reopened = one_clock(&targets, &case, "2026-03-10T10:00:00+01:00");
        assert_eq!(reopened.started, at("2026-03-10T09:00:00+01:00"));
        assert_eq!(reopened.elapsed, hours(1));
        assert_eq!(reopened.fulfilled, None);
    }

    #[test]
    fn sla_warning_then_breach_and_when_that_happens() {
        let targets = only(Metric::FirstReply, hours(4));
        let warn = hours(1);
        let mut case = facts("2026-03-09T09:00:00+01:00");
        // Due 13:00; warning from 12:00 (due - 1 h).
        let ok = one_clock(&targets, &case, "2026-03-09T11:00:00+01:00");
        assert_eq!(ok.state, SlaState::Ok);
        assert_eq!(
            next_change(std::slice::from_ref(&ok), warn),
            Some(at("2026-03-09T12:00:00+01:00"))
        );
        let warning = one_clock(&targets, &case, "2026-03-09T12:00:00+01:00");
        assert_eq!(warning.state, SlaState::Warning);
        assert_eq!(
            next_change(std::slice::from_ref(&warning), warn),
            Some(at("2026-03-09T13:00:00+01:00"))
        );
        let breached = one_clock(&targets, &case, "2026-03-09T13:00:00+01:00");
        assert_eq!(breached.state, SlaState::Breached);
        assert_eq!(breached.breached_at, Some(at("2026-03-09T13:00:00+01:00")));
        assert_eq!(next_change(std::slice::from_ref(&breached), warn), None);
        // Answered at 14:00: 5 h > 4 h, breached for good at 13:00.
        case.public_replies = vec![(at("2026-03-09T14:00:00+01:00"), true)];
        let late = one_clock(&targets, &case, "2026-03-09T15:00:00+01:00");
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.elapsed, hours(5));
        assert_eq!(late.due, None);
        assert_eq!(late.breached_at, Some(at("2026-03-09T13:00:00+01:00")));
        // Answered at 12:30: 3.5 h, achieved, nothing left to change.
        case.public_replies = vec![(at("2026-03-09T12:30:00+01:00"), true)];
        let in_time = one_clock(&targets, &case, "2026-03-09T15:00:00+01:00");
        assert_eq!(in_time.state, SlaState::Achieved);
        assert_eq!(in_time.breached_at, None);
        assert_eq!(next_change(&[in_time], warn), None);
        // The warning is wall-clock time before due: opened Friday 16:00, due Monday 12:00,
        // so on Saturday the next change is Monday 11:00.
        let weekend = facts("2026-03-06T16:00:00+01:00");
        let saturday = one_clock(&targets, &weekend, "2026-03-07T10:00:00+01:00");
        assert_eq!(saturday.due, Some(at("2026-03-09T12:00:00+01:00")));
        assert_eq!(
            next_change(&[saturday], warn),
            Some(at("2026-03-09T11:00:00+01:00"))
        );
    }

    #[test]
    fn sla_clocks_are_those_the_targets_name_once_started() {
        let calendar = office("Europe/Berlin");
        let case = facts("2026-03-09T09:00:00+01:00");
        let all = Targets {
            first_reply: Some(hours(4)),
            next_reply: Some(hours(2)),
            resolution: Some(hours(16)),
        };
        // No next reply yet; nothing at all before the case opened.
        let now = at("2026-03-09T10:00:00+01:00");
        let metrics: Vec<Metric> = clocks(&all, hours(1), &calendar, &case, now)
            .iter()
            .map(|c| c.metric)
            .collect();
        assert_eq!(metrics, [Metric::FirstReply, Metric::Resolution]);
        assert!(clocks(&all, hours(1), &calendar, &case, at("2026-03-09T07:00:00Z")).is_empty());
        assert!(clocks(&Targets::default(), hours(1), &calendar, &case, now).is_empty());
    }

    #[test]
    fn sla_summary_is_the_soonest_due_and_the_worst_state() {
        assert_eq!(summary(&[]), (None, None));
        let calendar = office("Europe/Berlin");
        let targets = Targets {
            first_reply: Some(hours(4)),
            next_reply: None,
            resolution: Some(hours(16)),
        };
        let case = facts("2026-03-09T09:00:00+01:00");
        // Due 13:00 (first reply) and Tuesday 17:00 (resolution); at 12:30 the first is in
        // warning.
        let both = clocks(
            &targets,
            hours(1),
            &calendar,
            &case,
            at("2026-03-09T12:30:00+01:00"),
        );
        assert_eq!(
            summary(&both),
            (
                Some(at("2026-03-09T13:00:00+01:00")),
                Some(SlaState::Warning)
            )
        );
        // Breached beats everything; achieved ranks below ok.
        let mut states: Vec<MetricClock> = both.clone();
        states[0].state = SlaState::Achieved;
        states[0].due = None;
        assert_eq!(
            summary(&states),
            (Some(at("2026-03-10T17:00:00+01:00")), Some(SlaState::Ok))
        );
        states[1].state = SlaState::Breached;
        assert_eq!(summary(&states).1, Some(SlaState::Breached));
        states.truncate(1);
        assert_eq!(summary(&states), (None, Some(SlaState::Achieved)));
    }

    #[test]
    fn sla_policies_match_on_every_condition_and_the_first_wins() {
        let partner_case = PolicyFacts {
            organization: OrgId(7),
            partner: Some(OrgId(3)),
            customer_owner: Some(Party::Partner),
            priority: Priority::Urgent,
            product: Some("Backup Server"),
        };
        let direct_case = PolicyFacts {
            organization: OrgId(8),
            partner: None,
            customer_owner: None,
            priority: Priority::Normal,
            product: None,
        };
        let any = PolicyConditions::default();
        assert!(any.matches(&partner_case) && any.matches(&direct_case));
        let urgent_backup_via_partner = PolicyConditions {
            partners: vec![OrgId(3)],
            customer_owner: Some(Party::Partner),
            priorities: vec![Priority::High, Priority::Urgent],
            products: vec![" backup server ".into()],
            ..PolicyConditions::default()
        };
        assert!(urgent_backup_via_partner.matches(&partner_case));
        assert!(!urgent_backup_via_partner.matches(&direct_case));
        let other_product = PolicyConditions {
            products: vec!["Backup".into()],
            ..PolicyConditions::default()
        };
        assert!(!other_product.matches(&partner_case));
        assert!(!other_product.matches(&direct_case));
        let vendor_owned = PolicyConditions {
            customer_owner: Some(Party::Vendor),
            ..PolicyConditions::default()
        };
        assert!(!vendor_owned.matches(&partner_case));
        assert!(!vendor_owned.matches(&direct_case));
        let org_8 = PolicyConditions {
            organizations: vec![OrgId(8)],
            ..PolicyConditions::default()
        };
        assert!(org_8.matches(&direct_case) && !org_8.matches(&partner_case));

        let policies = [
            ("vendor-owned", vendor_owned),
            ("urgent", urgent_backup_via_partner),
            ("default", any),
        ];
        let pick = |facts| choose(&policies, |p| &p.1, facts).map(|p| p.0);
        assert_eq!(pick(&partner_case), Some("urgent"));
        assert_eq!(pick(&direct_case), Some("default"));
        assert_eq!(choose(&policies[..1], |p| &p.1, &direct_case), None);
        // Missing lists in stored JSON mean "any".
        let stored: PolicyConditions =
            serde_json::from_str(r#"{"priorities": ["urgent"]}"#).unwrap();
        assert!(stored.matches(&partner_case) && !stored.matches(&direct_case));
    }

    /// A random calendar: a zone with or without daylight saving time (Lord Howe's shifts by
    /// 30 min, Chatham's at 02:45), up to three intervals a day, holidays in 2026-2027.
    fn any_calendar_spec() -> impl Strategy<Value = CalendarSpec> {
        let zone = proptest::sample::select(vec![
            "Europe/Berlin",
            "America/New_York",
            "UTC",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "America/Santiago",
            "Pacific/Chatham",
        ]);
        let day = proptest::collection::btree_set(0u16..=MINUTES_PER_DAY, 0..7);
        let week = proptest::collection::vec(day, 7);
        let holidays = proptest::collection::vec(0i64..730, 0..30);
        (zone, week, holidays).prop_map(|(zone, week, holidays)| {
            let mut hours = Vec::new();
            for (day, cuts) in week.iter().enumerate() {
                let cuts: Vec<u16> = cuts.iter().copied().collect();
                for pair in cuts.chunks_exact(2) {
                    hours.push(WorkingHours {
                        day: DAY_NAMES[day].to_string(),
                        start: wall_time(pair[0]),
                        end: wall_time(pair[1]),
                    });
                }
            }
            if hours.is_empty() {
                hours.push(WorkingHours {
                    day: "wed".into(),
                    start: "10:00".into(),
                    end: "10:01".into(),
                });
            }
            let new_year = at("2026-01-01T12:00:00Z");
            CalendarSpec {
                time_zone: zone.to_string(),
                hours,
                holidays: holidays
                    .iter()
                    .map(|&n| new_year.plus(Span::DAY.times(n)).date().to_string())
                    .collect(),
            }
        })
    }

    /// Business minutes a week, so random work stays within what the calendar can hold.
    fn weekly_minutes(spec: &CalendarSpec) -> i64 {
        spec.hours
            .iter()
            .map(|h| {
                i64::from(parse_wall_time(&h.end).unwrap() - parse_wall_time(&h.start).unwrap())
            })
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The kept steady stretch converts exactly as the database does, across daylight
        /// saving changes and Samoa's skipped day (2011-12-30).
        #[test]
        fn sla_wall_clock_shortcut_agrees_with_the_database(
            zone in proptest::sample::select(vec![
                "Europe/Berlin",
                "America/New_York",
                "Australia/Lord_Howe",
                "America/Santiago",
                "Pacific/Apia",
                "Antarctica/Troll",
                "Asia/Kolkata",
            ]),
            start_day in 14_600i64..22_000,
            steps in proptest::collection::vec(-86_400_000i64..(4 * 86_400_000), 1..60),
        ) {
            let zone = zones().get(zone).unwrap();
            let mut clock = WallClock::new(&zone);
            let mut wall = start_day * DAY_MS;
            for step in steps {
                // Whole minutes, as working hours are.
                wall += step - step % MINUTE_MS;
                prop_assert_eq!(clock.instant(wall), exact_instant(&zone, wall));
            }
        }

        #[test]
        fn sla_add_and_between_agree_and_add_is_monotonic(
            spec in any_calendar_spec(),
            from_offset in 0i64..(2 * 365 * 86_400_000),
            work in 0i64..(30 * 86_400_000),
            less in 0i64..(30 * 86_400_000),
        ) {
            let calendar = Calendar::from_spec(&spec).unwrap();
            let from = at("2026-01-01T00:00:00Z").plus(Span::from_millis(from_offset));
            // At most 20 weeks of this calendar's time: reachable well within the horizon
            // whatever the holidays.
            let capacity = (weekly_minutes(&spec) * 60_000 * 20).min(30 * 86_400_000);
            let work = Span::from_millis(work % (capacity + 1));
            let smaller = Span::from_millis(work.as_millis() - less % (work.as_millis() + 1));
            let due = calendar.add(from, work);
            prop_assert!(due >= from);
            prop_assert_eq!(calendar.between(from, due), work);
            prop_assert!(calendar.add(from, smaller) <= due);
            // Counting is additive over a split at any point.
            let middle = from.plus(Span::from_millis(due.since(from).as_millis() / 3));
            prop_assert_eq!(
                calendar.between(from, middle).as_millis() + calendar.between(middle, due).as_millis(),
                work.as_millis()
            );
        }
    }
}
