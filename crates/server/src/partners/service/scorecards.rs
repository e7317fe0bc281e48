//! Scorecards, alerts and statements, computed on read from the escalations a partner filed;
//! the partner page's overview and the comparison.

use super::*;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::partner::{
    alerts, scorecard, statement, Agreement, Alert, AlertRules, EscalationFacts, Scorecard,
    Statement,
};
use backline_domain::{OrgKind, Role, Timestamp, UserId};
use backline_store::{Certificate, FeeReport, Org, Store, User};
use std::collections::HashMap;

/// A partner's scorecard for [from, to).
pub async fn partner_scorecard(
    store: &Store,
    partner: &Org,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<Scorecard> {
    let now = Timestamp::now();
    Ok(load_scorecard(store, partner, from, to, now).await?.0)
}

/// The scorecard for [from, to) and the certificates it counted.
async fn load_scorecard(
    store: &Store,
    partner: &Org,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> ApiResult<(Scorecard, Vec<Certificate>)> {
    let escalations = store.escalations(partner.id, from, to).await?;
    let (customers, technicians) = store.partner_headcount(partner.id).await?;
    let terms = store.agreement(partner.id).await?.terms;
    let certificates = store.certificates_of_org(partner.id).await?;
    let satisfaction = store.satisfaction_total(Some(partner.id), from).await?;
    let card = scorecard_from(
        &escalations,
        customers,
        technicians,
        &certificates,
        &terms,
        now,
        satisfaction,
    );
    Ok((card, certificates))
}

/// The relationship manager's alerts for a partner, over the last 90 days.
pub async fn partner_alerts(store: &Store, partner: &Org) -> ApiResult<Vec<Alert>> {
    let now = Timestamp::now();
    let recent = recent_window(now);
    let (recent, certificates) = load_scorecard(store, partner, recent.0, recent.1, now).await?;
    Ok(alerts_from(&recent, &certificates, now))
}

fn scorecard_from(
    escalations: &[EscalationFacts],
    customers: u64,
    technicians: u32,
    certificates: &[Certificate],
    terms: &Agreement,
    now: Timestamp,
    satisfaction: backline_domain::satisfaction::Score,
) -> Scorecard {
    let certified = certificates
        .iter()
        .filter(|c| c.expires_at > now)
        .map(|c| c.user.id)
        .collect::<std::collections::HashSet<_>>()
        .len() as u32;
    scorecard(
        escalations,
        customers,
        technicians,
        certified,
        terms.required_certified_technicians,
        satisfaction,
    )
}

/// The alerts, given the scorecard over the alert window (the last 90 days).
fn alerts_from(recent: &Scorecard, certificates: &[Certificate], now: Timestamp) -> Vec<Alert> {
    // Each technician's longest-lasting valid certificate.
    let mut latest: HashMap<UserId, (String, Timestamp)> = HashMap::new();
    for c in certificates.iter().filter(|c| c.expires_at > now) {
        let entry = latest
            .entry(c.user.id)
            .or_insert((c.user.name.clone(), c.expires_at));
        entry.1 = entry.1.max(c.expires_at);
    }
    let mut expiring: Vec<(String, i64)> = latest
        .into_values()
        .map(|(name, until)| (name, until.since(now).whole_days()))
        .collect();
    expiring.sort();
    alerts(&AlertRules::default(), recent, &expiring)
}

/// A period (`2026-10` or `2026-Q3`) as [start, end).
fn period_window(period: &str) -> ApiResult<(Timestamp, Timestamp)> {
    let (start, end) = backline_domain::partner::parse_period(period)
        .map_err(|e| ApiError::bad_request("invalid_query", format!("period: {e}")))?;
    Ok((Timestamp::start_of(start), Timestamp::start_of(end)))
}

/// The statement of a period from facts already read: the latest fee report of the period
/// counts (`fees` are newest first).
fn statement_from(
    terms: &Agreement,
    fees: &[FeeReport],
    escalations: &[EscalationFacts],
    period: &str,
    (start, end): (Timestamp, Timestamp),
) -> (String, Statement) {
    let period = period.trim();
    let reported = fees
        .iter()
        .find(|r| r.period == period)
        .map(|r| r.fees_cents);
    let count = escalations
        .iter()
        .filter(|e| (start..end).contains(&e.opened))
        .count();
    (period.to_string(), statement(terms, reported, count as u64))
}

/// The statements of several periods (`2026-10` or `2026-Q3`) for a partner, reading its
/// escalations (once, over the span of all periods), fee reports and agreement once.
pub async fn partner_statements(
    store: &Store,
    partner: &Org,
    periods: &[&str],
) -> ApiResult<Vec<(String, Statement)>> {
    let windows = periods
        .iter()
        .map(|p| period_window(p))
        .collect::<ApiResult<Vec<_>>>()?;
    let (Some(from), Some(to)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let escalations = store.escalations(partner.id, from, to).await?;
    let fees = store.fee_reports(partner.id).await?;
    let terms = store.agreement(partner.id).await?.terms;
    Ok(periods
        .iter()
        .zip(windows)
        .map(|(period, window)| statement_from(&terms, &fees, &escalations, period, window))
        .collect())
}

/// Everything the partner page shows about a partner.
pub struct PartnerOverview {
    /// Over the last 90 days (the alert window).
    pub scorecard: Scorecard,
    /// The relationship manager's alerts (the page shows them to staff only).
    pub alerts: Vec<Alert>,
    pub terms: Agreement,
    /// The partner and the end customers it serves.
    pub customers: Vec<Org>,
    /// The partner's people.
    pub people: Vec<User>,
    /// Its people's certificates, newest first, expired ones too.
    pub certificates: Vec<Certificate>,
    pub manager: Option<backline_store::UserRef>,
    /// Every fee report, newest first.
    pub fees: Vec<FeeReport>,
    /// This quarter's statement and the three before, newest first.
    pub statements: Vec<(String, Statement)>,
}

/// The partner page's data, each kind read once, so the number of queries stays the same
/// however many customers, escalations or reports the partner has: the escalations once over
/// the widest window (the scorecard's 90 days and the four quarters), filtered in memory for
/// each figure; the headcount from the customer and people lists the page shows anyway.
pub async fn partner_overview(
    store: &Store,
    partner: &Org,
    now: Timestamp,
) -> ApiResult<PartnerOverview> {
    let periods = this_and_last_quarters(now, 4);
    let windows = periods
        .iter()
        .map(|p| period_window(p))
        .collect::<ApiResult<Vec<_>>>()?;
    let recent = recent_window(now);
    let from = windows.iter().map(|w| w.0).fold(recent.0, Timestamp::min);
    let to = windows.iter().map(|w| w.1).fold(recent.1, Timestamp::max);
    let escalations = store.escalations(partner.id, from, to).await?;
    let terms = store.agreement(partner.id).await?.terms;
    let fees = store.fee_reports(partner.id).await?;
    let certificates = store.certificates_of_org(partner.id).await?;
    let customers = store.list_orgs(None, Some(partner.id), None).await?;
    let people = store.list_users(Some(partner.id), false).await?;
    let manager = store.relationship_manager(partner.id).await?;

    let served = customers.iter().filter(|c| c.id != partner.id).count() as u64;
    let technicians = people.iter().filter(|u| u.role == Role::Partner).count() as u32;
    let last_90_days: Vec<EscalationFacts> = escalations
        .iter()
        .filter(|e| (recent.0..recent.1).contains(&e.opened))
        .cloned()
        .collect();
    let satisfaction = store.satisfaction_total(Some(partner.id), recent.0).await?;
    let scorecard = scorecard_from(
        &last_90_days,
        served,
        technicians,
        &certificates,
        &terms,
        now,
        satisfaction,
    );
    let alerts = alerts_from(&scorecard, &certificates, now);
    let statements = periods
        .iter()
        .zip(windows)
        .map(|(period, window)| statement_from(&terms, &fees, &escalations, period, window))
        .collect();
    Ok(PartnerOverview {
        scorecard,
        alerts,
        terms,
        customers,
        people,
        certificates,
        manager,
        fees,
        statements,
    })
}

/// `n` quarters as `2026-Q3`, the one holding `now` first.
pub fn this_and_last_quarters(now: Timestamp, n: usize) -> Vec<String> {
    let now = now.date();
    let (mut year, mut q) = (now.year(), (u8::from(now.month()) - 1) / 3 + 1);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(format!("{year}-Q{q}"));
        if q == 1 {
            year -= 1;
            q = 4;
        } else {
            q -= 1;
        }
    }
    out
}

/// Every partner's scorecard for `[from, to)`, ranked by the share of invalid escalations
/// (lowest first), then by escalations per end customer, then by slug.
pub async fn ranked_scorecards(
    state: &AppState,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<Vec<(Org, Scorecard)>> {
    let mut rows = Vec::new();
    for partner in state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?
    {
        let card = partner_scorecard(&state.store, &partner, from, to).await?;
        rows.push((partner, card));
    }
    rows.sort_by(|(a, x), (b, y)| {
        let key = |c: &Scorecard| {
            (
                c.invalid_escalation_share.unwrap_or(0.0),
                c.escalations_per_end_customer.unwrap_or(0.0),
            )
        };
        key(x)
            .partial_cmp(&key(y))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.slug.cmp(&b.slug))
    });
    Ok(rows)
}
