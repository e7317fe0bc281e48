//! Routing rules, kept in order; the first enabled match routes a new case.

use crate::rows::{convert, corrupt};
use crate::sql::Arg;
use crate::versions::{advance, Versioned};
use crate::{Result, Store, StoreError};
use backline_domain::routing::RuleDefinition;
use backline_domain::{RuleId, Timestamp};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub id: RuleId,
    pub position: i64,
    pub definition: RuleDefinition,
    /// Moves on with every change to the rule (not with its place in the order).
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: RuleId,
    position: i64,
    definition: String,
    version: i64,
}

impl TryFrom<RuleRow> for RoutingRule {
    type Error = StoreError;

    fn try_from(r: RuleRow) -> Result<RoutingRule> {
        Ok(RoutingRule {
            id: r.id,
            position: r.position,
            definition: serde_json::from_str(&r.definition).map_err(corrupt)?,
            version: r.version,
        })
    }
}

impl Store {
    pub async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        let rows: Vec<RuleRow> = sqlx::query_as(
            "SELECT id, position, definition, version FROM routing_rules ORDER BY position, id",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    pub async fn routing_rule(&self, id: RuleId) -> Result<RoutingRule> {
        let row: RuleRow = sqlx::query_as(
            "SELECT id, position, definition, version FROM routing_rules WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Adds a rule at the end of the order.
    pub async fn create_rule(&self, definition: &RuleDefinition) -> Result<RoutingRule> {
        let now = Timestamp::now();
        let id: RuleId = sqlx::query_scalar(
            "INSERT INTO routing_rules (position, definition, created_at, updated_at) \
             VALUES ((SELECT COALESCE(MAX(position), 0) + 1 FROM routing_rules), $1, $2, $2) RETURNING id",
        )
        .bind(json!(definition).to_string())
        .bind(now)
        .fetch_one(&self.write)
        .await?;
        self.routing_rule(id).await
    }

    /// Replaces a rule's definition, if it is still at `expected` (when given).
    pub async fn update_rule(
        &self,
        id: RuleId,
        definition: &RuleDefinition,
        expected: Option<i64>,
    ) -> Result<RoutingRule> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::RoutingRule, Arg::Int(id.0), expected).await?;
        sqlx::query("UPDATE routing_rules SET definition = $1, updated_at = $2 WHERE id = $3")
            .bind(json!(definition).to_string())
            .bind(Timestamp::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.routing_rule(id).await
    }

    /// Rules keep their history on the cases they routed; a rule that routed cases is
    /// disabled rather than deleted. With `expected`, only while the rule is at that version.
    pub async fn delete_rule(&self, id: RuleId, expected: Option<i64>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        advance(&mut tx, Versioned::RoutingRule, Arg::Int(id.0), expected).await?;
        let used: i64 =
            sqlx::query_scalar("SELECT COUNT(*) AS n FROM cases WHERE routed_by_rule_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "the rule routed {used} cases; disable it instead of deleting it"
            )));
        }
        sqlx::query("DELETE FROM routing_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts the rules in this order (every rule id exactly once).
    pub async fn reorder_rules(&self, ids: &[RuleId]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for (position, id) in ids.iter().enumerate() {
            sqlx::query("UPDATE routing_rules SET position = $1 WHERE id = $2")
                .bind(position as i64 + 1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
