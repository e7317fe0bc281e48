//! What staffing plans are computed from: case arrivals per hour, the timing of staff replies
//! (for the measured handling time), and the known events an admin enters.

use crate::sql::Arg;
use crate::versions::{advance, Versioned};
use crate::{Result, Store, StoreError};
use backline_domain::forecast::EventKind;
use backline_domain::{CaseId, Span, Timestamp, UserId};

/// A known event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingEvent {
    pub id: i64,
    pub name: String,
    pub kind: EventKind,
    pub starts: Timestamp,
    pub ends: Timestamp,
    /// Expected arrivals in percent of the usual (200 = twice as many).
    pub lift_percent: i64,
    pub created_by: Option<UserId>,
    pub updated_at: Timestamp,
    /// Moves on with every change.
    pub version: i64,
}

/// What an admin writes for an event.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingEventInput {
    pub name: String,
    pub kind: EventKind,
    pub starts: Timestamp,
    pub ends: Timestamp,
    pub lift_percent: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    name: String,
    kind: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    lift_percent: i64,
    created_by: Option<UserId>,
    updated_at: Timestamp,
    version: i64,
}

impl TryFrom<EventRow> for StaffingEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<StaffingEvent> {
        Ok(StaffingEvent {
            id: r.id,
            name: r.name,
            kind: EventKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {:?}", r.kind)))?,
            starts: r.starts_at,
            ends: r.ends_at,
            lift_percent: r.lift_percent,
            created_by: r.created_by,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// One staff reply or note, with its case's opening time, for the handling-time estimate.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StaffMessage {
    pub case_id: CaseId,
    pub opened_at: Timestamp,
    pub at: Timestamp,
}

impl Store {
    /// Cases opened per hour in `[from, to)`, as (start of the hour, count); hours without
    /// cases are absent. Grouped in SQL: integer division is the same on both backends.
    pub async fn arrivals_per_hour(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, i64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT created_at / $1 AS hour, COUNT(*) FROM cases \
             WHERE created_at >= $2 AND created_at < $3 GROUP BY created_at / $1 ORDER BY hour",
        )
        .bind(Span::HOUR.as_millis())
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(hour, n)| (Timestamp::from_millis(hour * Span::HOUR.as_millis()), n))
            .collect())
    }

    /// Every comment vendor staff wrote on cases opened in `[from, to)`, each case's in order.
    pub async fn staff_messages(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StaffMessage>> {
        Ok(sqlx::query_as(
            "SELECT m.case_id, c.created_at AS opened_at, m.created_at AS at \
             FROM comments m JOIN cases c ON c.id = m.case_id JOIN users u ON u.id = m.author_id \
             WHERE c.created_at >= $1 AND c.created_at < $2 AND u.role IN ('admin', 'agent') \
             ORDER BY m.case_id, m.created_at, m.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn staffing_events(&self) -> Result<Vec<StaffingEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, name, kind, starts_at, ends_at, lift_percent, created_by, updated_at, \
             version \
             FROM staffing_events ORDER BY starts_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(StaffingEvent::try_from).collect()
    }

    pub async fn staffing_event(&self, id: i64) -> Result<StaffingEvent> {
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT id, name, kind, starts_at, ends_at, lift_percent, created_by, updated_at, \
             version \
             FROM staffing_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Creates (`id` None) or replaces an event; `NotFound` for a missing id. With
    /// `expected`, a replacement lands only while the event is at that version
    /// ([`StoreError::Stale`] otherwise).
    pub async fn save_staffing_event(
        &self,
        id: Option<i64>,
        input: &StaffingEventInput,
        by: UserId,
        expected: Option<i64>,
    ) -> Result<i64> {
        let now = Timestamp::now();
        match id {
            Some(id) => {
                let mut tx = self.write.begin().await?;
                advance(&mut tx, Versioned::StaffingEvent, Arg::Int(id), expected).await?;
                sqlx::query(
                    "UPDATE staffing_events SET name = $1, kind = $2, starts_at = $3, \
                     ends_at = $4, lift_percent = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(&input.name)
                .bind(input.kind.as_str())
                .bind(input.starts)
                .bind(input.ends)
                .bind(input.lift_percent)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }
            None => Ok(sqlx::query_scalar(
                "INSERT INTO staffing_events \
                 (name, kind, starts_at, ends_at, lift_percent, created_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&input.name)
            .bind(input.kind.as_str())
            .bind(input.starts)
            .bind(input.ends)
            .bind(input.lift_percent)
            .bind(by)
            .bind(now)
            .fetch_one(&self.write)
            .await?),
        }
    }

    /// Deletes an event; with `expected`, only while it is at that version.
    pub async fn delete_staffing_event(&self, id: i64, expected: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::StaffingEvent, Arg::Int(id), expected).await?;
        sqlx::query("DELETE FROM staffing_events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
