//! Fee reports and the facts scorecards and statements are computed from.

use super::{corrupt, user_ref};
use crate::models::stored;
use crate::{Result, Store, StoreError, UserRef};
use backline_domain::partner::EscalationFacts;
use backline_domain::{CaseStatus, Classification, OrgId, Priority, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct FeeReport {
    pub id: i64,
    pub period: String,
    pub fees_cents: i64,
    pub reported_by: UserRef,
    pub reported_at: Timestamp,
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
        let row = sqlx::query(
            "INSERT INTO fee_reports (partner_id, period, fees_cents, reported_by, reported_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(partner.0)
        .bind(period)
        .bind(cents)
        .bind(by.0)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.fee_reports(partner)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Every fee report of a partner, newest first.
    pub async fn fee_reports(&self, partner: OrgId) -> Result<Vec<FeeReport>> {
        let rows = sqlx::query(
            "SELECT f.id, f.period, f.fees_cents, f.reported_at, u.id AS u_id, u.name AS u_name, \
             u.email AS u_email FROM fee_reports f JOIN users u ON u.id = f.reported_by \
             WHERE f.partner_id = $1 ORDER BY f.id DESC",
        )
        .bind(partner.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FeeReport {
                    id: r.try_get("id")?,
                    period: r.try_get("period")?,
                    fees_cents: r.try_get("fees_cents")?,
                    reported_by: user_ref(r, "u")?,
                    reported_at: r.try_get("reported_at")?,
                })
            })
            .collect()
    }

    /// The partner's escalations (cases its technicians filed) opened in [from, to).
    pub async fn escalations(
        &self,
        partner: OrgId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<EscalationFacts>> {
        let rows = sqlx::query(
            "SELECT c.priority, c.created_at, c.solved_at, c.status, c.classification, c.escalation \
             FROM cases c JOIN users r ON r.id = c.requester_id \
             WHERE c.partner_id = $1 AND r.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3",
        )
        .bind(partner.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let status = stored(CaseStatus::parse, &r.try_get::<String, _>("status")?)?;
                let escalation: Option<backline_domain::partner::EscalationStatement> = r
                    .try_get::<Option<String>, _>("escalation")?
                    .map(|e| serde_json::from_str(&e).map_err(corrupt))
                    .transpose()?;
                Ok(EscalationFacts {
                    priority: stored(Priority::parse, &r.try_get::<String, _>("priority")?)?,
                    opened: r.try_get("created_at")?,
                    solved: if status.is_active() {
                        None
                    } else {
                        r.try_get("solved_at")?
                    },
                    classification: r
                        .try_get::<Option<String>, _>("classification")?
                        .map(|c| stored(Classification::parse, &c))
                        .transpose()?,
                    reproduced_on_vanilla: escalation.and_then(|e| e.reproduced_on_vanilla),
                })
            })
            .collect()
    }

    /// (end customers served, technicians) of a partner.
    pub async fn partner_headcount(&self, partner: OrgId) -> Result<(u64, u32)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM organizations WHERE served_by_id = $1) AS customers, \
             (SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'partner') AS techs",
        )
        .bind(partner.0)
        .fetch_one(&self.read)
        .await?;
        let customers: i64 = row.try_get("customers")?;
        let techs: i64 = row.try_get("techs")?;
        Ok((customers as u64, techs as u32))
    }
}
