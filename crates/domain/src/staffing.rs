//! Staffing by Erlang C: how many agents an interval needs so that a target share of the work
//! is answered within a target time, and what that staffing means for occupancy and waiting.
//!
//! The formulation avoids factorials and powers: Erlang B comes from the recurrence
//! `1/B(k) = 1 + (k/A) / B(k-1)`, which stays within ordinary floating point for the loads a
//! support team sees (hundreds of erlangs), and Erlang C (the probability of waiting) follows
//! from B. Definitions and test vectors: `../shared/REFERENCE.md`, "Staffing (Erlang C)".

use crate::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most agents one interval is planned for; a bound so a target of nearly 100% cannot
/// loop for long. Far beyond any support team.
pub const MAX_AGENTS: u32 = 100_000;

/// What one interval's staffing is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingInputs {
    /// Work arriving in the interval (cases, calls).
    pub arrivals: f64,
    /// Length of the interval, in seconds.
    pub interval_secs: f64,
    /// Average handling time of one arrival, in seconds.
    pub aht_secs: f64,
    /// Share of arrivals to answer within `answer_within_secs` (0 < target < 1).
    pub service_level: f64,
    pub answer_within_secs: f64,
    /// Highest planned occupancy (busy time / available time), if any (0 < x <= 1).
    pub max_occupancy: Option<f64>,
    /// Share of paid time agents are not available (breaks, training, meetings), 0 <= x < 1.
    pub shrinkage: f64,
}

/// An interval's answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Staffing {
    /// Offered load in erlangs: arrivals x AHT / interval.
    pub traffic: f64,
    /// Agents answering at once (before shrinkage).
    pub agents: u32,
    /// Agents to schedule so that `agents` are available after shrinkage.
    pub scheduled: u32,
    /// Share answered within the target time with `agents` agents.
    pub service_level: f64,
    /// Probability that an arrival waits at all.
    pub probability_of_waiting: f64,
    /// Average speed of answer (mean wait over all arrivals), in seconds.
    pub average_wait_secs: f64,
    /// Busy share of the agents' available time.
    pub occupancy: f64,
}

/// Erlang B blocking probability for `agents` servers offered `traffic` erlangs, by the
/// reciprocal recurrence (no factorials, no powers).
pub fn erlang_b(agents: u32, traffic: f64) -> f64 {
    if traffic <= 0.0 {
        return 0.0;
    }
    let mut inverse = 1.0_f64;
    for k in 1..=agents {
        inverse = 1.0 + inverse * f64::from(k) / traffic;
    }
    1.0 / inverse
}

/// Erlang C: the probability an arrival waits, for `agents > traffic` (with fewer agents the
/// queue grows without bound and every arrival waits: 1).
pub fn probability_of_waiting(agents: u32, traffic: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 0.0;
    }
    if n <= traffic {
        return 1.0;
    }
    let b = erlang_b(agents, traffic);
    n * b / (n - traffic * (1.0 - b))
}

/// Share answered within `within_secs`.
pub fn service_level(agents: u32, traffic: f64, aht_secs: f64, within_secs: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 1.0;
    }
    if n <= traffic {
        return 0.0;
    }
    let pw = probability_of_waiting(agents, traffic);
    1.0 - pw * (-(n - traffic) * within_secs / aht_secs).exp()
}

/// Average speed of answer in seconds (infinite when the agents cannot keep up).
pub fn average_wait(agents: u32, traffic: f64, aht_secs: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 0.0;
    }
    if n <= traffic {
        return f64::INFINITY;
    }
    probability_of_waiting(agents, traffic) * aht_secs / (n - traffic)
}

/// The staffing of one interval: the fewest agents, from `round(A + 1)` up, that reach the
/// service level; raised to `ceil(A / max_occupancy)` when that is more; then scheduled to
/// cover shrinkage. An interval with no work needs nobody.
pub fn staff(inputs: &StaffingInputs) -> Staffing {
    let traffic = if inputs.interval_secs > 0.0 {
        inputs.arrivals.max(0.0) * inputs.aht_secs / inputs.interval_secs
    } else {
        0.0
    };
    if traffic <= 0.0 {
        return Staffing {
            traffic: 0.0,
            agents: 0,
            scheduled: 0,
            service_level: 1.0,
            probability_of_waiting: 0.0,
            average_wait_secs: 0.0,
            occupancy: 0.0,
        };
    }
    let sl = |n: u32| service_level(n, traffic, inputs.aht_secs, inputs.answer_within_secs);
    let mut agents = ((traffic + 1.0).round() as u32).max(1);
    while agents < MAX_AGENTS && sl(agents) < inputs.service_level {
        agents += 1;
    }
    if let Some(max) = inputs.max_occupancy.filter(|m| *m > 0.0) {
        if traffic / f64::from(agents) > max {
            agents = ((traffic / max).ceil() as u32).min(MAX_AGENTS);
        }
    }
    let available = 1.0 - inputs.shrinkage.clamp(0.0, 0.99);
    // A tiny tolerance so 14 / 0.7 (= 20.000000000000004 in floating point) schedules 20.
    let scheduled = (f64::from(agents) / available - 1e-9).ceil() as u32;
    Staffing {
        traffic,
        agents,
        scheduled,
        service_level: sl(agents),
        probability_of_waiting: probability_of_waiting(agents, traffic),
        average_wait_secs: average_wait(agents, traffic, inputs.aht_secs),
        occupancy: traffic / f64::from(agents),
    }
}

/// The longest stretch before a staff reply counted as work on it: beyond this the case was
/// waiting, not being worked.
pub const WORK_GAP_CAP: Span = Span::from_millis(30 * 60_000);

/// Average handling time estimated from when staff wrote on cases, for teams that do not log
/// work time: each staff reply or note counts the time since the case's previous staff message
/// (or its opening), capped at [`WORK_GAP_CAP`], as the work that produced it. It is an upper
/// estimate for quick replies to old cases (capped) and misses work that left no message; the
/// plan lets a manager override it. `cases` holds, per case, its opening and its staff
/// messages in order. `None` when no case has a staff message; also gives how many counted.
pub fn estimated_handling_time(cases: &[(Timestamp, Vec<Timestamp>)]) -> Option<(Span, usize)> {
    let mut total: i64 = 0;
    let mut counted = 0_usize;
    for (opened, messages) in cases {
        if messages.is_empty() {
            continue;
        }
        let mut previous = *opened;
        for at in messages {
            total += at
                .since(previous)
                .as_millis()
                .clamp(0, WORK_GAP_CAP.as_millis());
            previous = *at;
        }
        counted += 1;
    }
    (counted > 0).then(|| (Span::from_millis(total / counted as i64), counted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(arrivals: f64, interval: f64, aht: f64) -> StaffingInputs {
        StaffingInputs {
            arrivals,
            interval_secs: interval,
            aht_secs: aht,
            service_level: 0.8,
            answer_within_secs: 20.0,
            max_occupancy: None,
            shrinkage: 0.0,
        }
    }

    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance, "{a} is not {b}");
    }

    #[test]
    fn reference_vector_100_per_half_hour() {
        let mut i = inputs(100.0, 1800.0, 180.0);
        i.max_occupancy = Some(0.85);
        i.shrinkage = 0.3;
        let s = staff(&i);
        close(s.traffic, 10.0, 1e-12);
        assert_eq!((s.agents, s.scheduled), (14, 20));
        close(s.service_level, 0.888350, 5e-7);
        close(s.probability_of_waiting, 0.174132, 5e-7);
        close(s.average_wait_secs, 7.8359, 5e-5);
        close(s.occupancy, 10.0 / 14.0, 1e-12);
    }

    #[test]
    fn a_low_occupancy_cap_adds_agents() {
        let mut i = inputs(100.0, 1800.0, 180.0);
        i.max_occupancy = Some(0.70);
        i.shrinkage = 0.3;
        let s = staff(&i);
        assert_eq!((s.agents, s.scheduled), (15, 22));
        close(s.service_level, 0.941453, 5e-7);
    }

    #[test]
    fn reference_vectors_without_caps() {
        let mut i = inputs(25.0, 600.0, 180.0);
        i.shrinkage = 0.3;
        let s = staff(&i);
        close(s.traffic, 7.5, 1e-12);
        assert_eq!((s.agents, s.scheduled), (11, 16));
        close(s.service_level, 0.880836, 5e-7);

        let s = staff(&inputs(360.0, 3600.0, 240.0));
        close(s.traffic, 24.0, 1e-12);
        assert_eq!(s.agents, 29);
        close(s.service_level, 0.840283, 5e-7);

        let s = staff(&inputs(540.0, 3600.0, 240.0));
        close(s.traffic, 36.0, 1e-12);
        assert_eq!(s.agents, 42);
        close(s.service_level, 0.850989, 5e-7);
    }

    #[test]
    fn reference_vector_ninety_in_thirty_seconds() {
        let s = staff(&StaffingInputs {
            arrivals: 200.0,
            interval_secs: 3600.0,
            aht_secs: 300.0,
            service_level: 0.9,
            answer_within_secs: 30.0,
            max_occupancy: Some(0.85),
            shrinkage: 0.35,
        });
        assert_eq!((s.agents, s.scheduled), (22, 34));
        close(s.service_level, 0.909170, 5e-7);
    }

    #[test]
    fn reference_steps_for_ten_erlangs() {
        for (n, pw, sl) in [
            (11, 0.682118, 0.389614),
            (12, 0.449388, 0.640158),
            (13, 0.285270, 0.795595),
        ] {
            close(probability_of_waiting(n, 10.0), pw, 5e-7);
            close(service_level(n, 10.0, 180.0, 20.0), sl, 5e-7);
        }
    }

    #[test]
    fn large_loads_stay_finite() {
        // 2,000 erlangs: a factorial formulation overflows long before this.
        let s = staff(&inputs(2000.0 * 3600.0 / 300.0, 3600.0, 300.0));
        assert!(s.agents > 2000 && s.agents < 2100, "{}", s.agents);
        assert!(s.service_level >= 0.8 && s.service_level.is_finite());
        assert!(s.probability_of_waiting > 0.0 && s.probability_of_waiting < 1.0);
    }

    #[test]
    fn no_work_needs_nobody_and_too_few_agents_always_wait() {
        let s = staff(&inputs(0.0, 3600.0, 300.0));
        assert_eq!((s.agents, s.scheduled), (0, 0));
        assert_eq!(probability_of_waiting(5, 5.0), 1.0);
        assert_eq!(service_level(4, 5.0, 300.0, 20.0), 0.0);
        assert!(average_wait(4, 5.0, 300.0).is_infinite());
    }

    #[test]
    fn handling_time_counts_the_work_before_each_staff_message() {
        let t = |m: i64| Timestamp::from_millis(m * 60_000);
        // Case 1: replies 10 and 50 minutes after opening: 10 + 30 (40 capped) = 40 minutes.
        // Case 2: one reply after 20 minutes. Case 3 has no staff message and is left out.
        let cases = vec![
            (t(0), vec![t(10), t(50)]),
            (t(100), vec![t(120)]),
            (t(200), vec![]),
        ];
        let (aht, n) = estimated_handling_time(&cases).unwrap();
        assert_eq!(n, 2);
        assert_eq!(aht, Span::from_millis(30 * 60_000));
        assert!(estimated_handling_time(&[(t(0), vec![])]).is_none());
    }
}
