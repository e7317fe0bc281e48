//! Fee reports and the facts scorecards and statements are computed from.

use crate::rows::{convert, corrupt, stored, UserCols};
use crate::{Result, Store, StoreError, UserRef};
use backline_domain::partner::{EscalationFacts, EscalationStatement};
use backline_domain::{CaseStatus, Classification, OrgId, Priority, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq)]
pub struct FeeReport {
    pub id: i64,
    pub period: String,
    pub fees_cents: i64,
    pub reported_by: UserRef,
    pub reported_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct FeeReportRow {
    id: i64,
    period: String,
    fees_cents: i64,
    reported_at: Timestamp,
    #[sqlx(flatten)]
    reported_by: UserCols,
}

impl From<FeeReportRow> for FeeReport {
    fn from(r: FeeReportRow) -> FeeReport {
        FeeReport {
            id: r.id,
            period: r.period,
            fees_cents: r.fees_cents,
            reported_by: r.reported_by.into(),
            reported_at: r.reported_at,
        }
    }
}

/// A case a partner's technician filed, as the scorecard counts it.
#[derive(sqlx::FromRow)]
struct EscalationRow {
    priority: String,
    created_at: Timestamp,
    solved_at: Option<Timestamp>,
    status: String,
    classification: Option<String>,
    escalation: Option<String>,
    sla_state: Option<String>,
}

impl TryFrom<EscalationRow> for EscalationFacts {
    type Error = StoreError;

    fn try_from(r: EscalationRow) -> Result<EscalationFacts> {
        let status = stored(CaseStatus::parse, &r.status)?;
        let escalation: Option<EscalationStatement> = r
            .escalation
            .map(|e| serde_json::from_str(&e).map_err(corrupt))
            .transpose()?;
        Ok(EscalationFacts {
            priority: stored(Priority::parse, &r.priority)?,
            opened: r.created_at,
            solved: if status.is_active() {
                None
            } else {
                r.solved_at
            },
            classification: r
                .classification
                .map(|c| stored(Classification::parse, &c))
                .transpose()?,
            reproduced_on_vanilla: escalation.and_then(|e| e.reproduced_on_vanilla),
            // Finished clocks are achieved or breached; anything else is not judged yet.
            sla_met: match r.sla_state.as_deref() {
                Some("achieved") => Some(true),
                Some("breached") => Some(false),
                _ => None,
            },
        })
    }
}

impl Store {
    /// Records a fee report; earlier reports for the period are kept (the latest counts).
    pub async fn report_fees(
        &self,
        partner: OrgId,
        period: &str,
        cents: i64,
        by: UserId,
    ) -> Result<FeeReport> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO fee_reports (partner_id, period, fees_cents, reported_by, reported_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(partner)
        .bind(period)
        .bind(cents)
        .bind(by)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        self.fee_reports(partner)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Every fee report of a partner, newest first.
    pub async fn fee_reports(&self, partner: OrgId) -> Result<Vec<FeeReport>> {
        let rows: Vec<FeeReportRow> = sqlx::query_as(
            "SELECT f.id, f.period, f.fees_cents, f.reported_at, u.id AS u_id, u.name AS u_name, \
             u.email AS u_email FROM fee_reports f JOIN users u ON u.id = f.reported_by \
             WHERE f.partner_id = $1 ORDER BY f.id DESC",
        )
        .bind(partner)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(FeeReport::from).collect())
    }

    /// The partner's escalations (cases its technicians filed) opened in [from, to).
    pub async fn escalations(
        &self,
        partner: OrgId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<EscalationFacts>> {
        let rows: Vec<EscalationRow> = sqlx::query_as(
            "SELECT c.priority, c.created_at, c.solved_at, c.status, c.classification, c.escalation, \
             c.sla_state \
             FROM cases c JOIN users r ON r.id = c.requester_id \
             WHERE c.partner_id = $1 AND r.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3",
        )
        .bind(partner)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    /// (end customers served, technicians) of a partner.
    pub async fn partner_headcount(&self, partner: OrgId) -> Result<(u64, u32)> {
        let (customers, techs): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM organizations WHERE served_by_id = $1) AS customers, \
             (SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'partner') AS techs",
        )
        .bind(partner)
        .fetch_one(&self.read)
        .await?;
        Ok((customers as u64, techs as u32))
    }
}
