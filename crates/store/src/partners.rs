//! The partner program's storage: agreements, queues and routing rules, courses, attempts and
//! certificates, fee reports, and the facts scorecards are computed from.

use crate::models::{from_millis, stored};
use crate::sql::opt_i64;
use crate::{now_millis, Result, Store, StoreError, UserRef};
use backline_domain::partner::{Agreement, EscalationFacts, Question};
use backline_domain::routing::{RuleDefinition, SupportModel};
use backline_domain::{CaseStatus, Classification, OrgId, Priority, UserId};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredAgreement {
    pub terms: Agreement,
    /// `None` while the partner runs on the default terms.
    pub updated_by: Option<UserRef>,
    pub updated_at: Option<time::OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueMember {
    pub user: UserRef,
    pub skills: Vec<String>,
    /// Cases assigned to them that are not solved or closed.
    pub active_cases: i64,
    pub last_assigned_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub id: i64,
    pub position: i64,
    pub definition: RuleDefinition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: i64,
    pub product: String,
    pub release: String,
    pub title: String,
    pub material: String,
    pub questions: Vec<Question>,
    pub pass_mark: u32,
    pub validity_days: i64,
}

#[derive(Debug, Clone)]
pub struct NewCourse {
    pub product: String,
    pub release: String,
    pub title: String,
    pub material: String,
    pub questions: Vec<Question>,
    pub pass_mark: u32,
    pub validity_days: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: i64,
    pub course_id: i64,
    pub user_id: UserId,
    pub score: u32,
    pub passed: bool,
    pub at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    pub user: UserRef,
    pub course_id: i64,
    pub course_title: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeeReport {
    pub id: i64,
    pub period: String,
    pub fees_cents: i64,
    pub reported_by: UserRef,
    pub reported_at: time::OffsetDateTime,
}

fn user_ref(row: &AnyRow, prefix: &str) -> Result<UserRef> {
    Ok(UserRef {
        id: UserId(row.try_get(format!("{prefix}_id").as_str())?),
        name: row.try_get(format!("{prefix}_name").as_str())?,
        email: row.try_get(format!("{prefix}_email").as_str())?,
    })
}

fn rule_from_row(r: &AnyRow) -> Result<RoutingRule> {
    Ok(RoutingRule {
        id: r.try_get("id")?,
        position: r.try_get("position")?,
        definition: serde_json::from_str(&r.try_get::<String, _>("definition")?)
            .map_err(corrupt)?,
    })
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The moment until which `partner` stays certified with the certificates it holds now, and
/// its agreement's required number.
async fn refresh_certification(tx: &mut Transaction<'_, Any>, partner: OrgId) -> Result<()> {
    let terms = sqlx::query("SELECT terms FROM partner_agreements WHERE partner_id = $1")
        .bind(partner.0)
        .fetch_optional(&mut **tx)
        .await?;
    let required = match terms {
        Some(r) => {
            serde_json::from_str::<Agreement>(&r.try_get::<String, _>("terms")?)
                .map_err(corrupt)?
                .required_certified_technicians
        }
        None => Agreement::default().required_certified_technicians,
    };
    let rows = sqlx::query(
        "SELECT MAX(ce.expires_at) AS until FROM certificates ce JOIN users u ON u.id = ce.user_id \
         WHERE u.org_id = $1 AND u.role = 'partner' AND ce.expires_at > $2 GROUP BY ce.user_id",
    )
    .bind(partner.0)
    .bind(now_millis())
    .fetch_all(&mut **tx)
    .await?;
    let mut expiries = rows
        .iter()
        .map(|r| r.try_get::<i64, _>("until"))
        .collect::<Result<Vec<_>, _>>()?;
    let until = backline_domain::partner::certified_until(&mut expiries, required);
    sqlx::query("UPDATE organizations SET certified_until = $1 WHERE id = $2")
        .bind(until)
        .bind(partner.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    pub async fn agreement(&self, partner: OrgId) -> Result<StoredAgreement> {
        let row = sqlx::query(
            "SELECT a.terms, a.updated_at, u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM partner_agreements a JOIN users u ON u.id = a.updated_by WHERE a.partner_id = $1",
        )
        .bind(partner.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(match row {
            Some(row) => StoredAgreement {
                terms: serde_json::from_str(&row.try_get::<String, _>("terms")?)
                    .map_err(corrupt)?,
                updated_by: Some(user_ref(&row, "u")?),
                updated_at: Some(from_millis(row.try_get("updated_at")?)),
            },
            None => StoredAgreement {
                terms: Agreement::default(),
                updated_by: None,
                updated_at: None,
            },
        })
    }

    pub async fn set_agreement(
        &self,
        partner: OrgId,
        terms: &Agreement,
        by: UserId,
    ) -> Result<StoredAgreement> {
        let mut tx = self.write.begin().await?;
        let text = json!(terms).to_string();
        sqlx::query(
            "INSERT INTO partner_agreements (partner_id, terms, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (partner_id) DO UPDATE SET terms = excluded.terms, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(&text)
        .bind(by.0)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        refresh_certification(&mut tx, partner).await?;
        tx.commit().await?;
        self.agreement(partner).await
    }

    pub async fn set_relationship_manager(
        &self,
        partner: OrgId,
        manager: Option<UserId>,
    ) -> Result<()> {
        sqlx::query("UPDATE organizations SET relationship_manager_id = $1 WHERE id = $2")
            .bind(manager.map(|m| m.0))
            .bind(partner.0)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn relationship_manager(&self, partner: OrgId) -> Result<Option<UserRef>> {
        let row = sqlx::query(
            "SELECT u.id AS u_id, u.name AS u_name, u.email AS u_email FROM organizations o \
             JOIN users u ON u.id = o.relationship_manager_id WHERE o.id = $1",
        )
        .bind(partner.0)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| user_ref(&r, "u")).transpose()
    }

    pub async fn create_queue(&self, slug: &str, name: &str, model: SupportModel) -> Result<Queue> {
        sqlx::query("INSERT INTO queues (slug, name, model, created_at) VALUES ($1, $2, $3, $4)")
            .bind(slug)
            .bind(name)
            .bind(model.as_str())
            .bind(now_millis())
            .execute(&self.write)
            .await
            .map_err(StoreError::unique("a queue with this slug already exists"))?;
        self.queue_by_slug(slug).await
    }

    fn queue_from_row(row: &AnyRow) -> Result<Queue> {
        Ok(Queue {
            id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            model: stored(SupportModel::parse, &row.try_get::<String, _>("model")?)?,
        })
    }

    pub async fn queue_by_slug(&self, slug: &str) -> Result<Queue> {
        let row = sqlx::query("SELECT id, slug, name, model FROM queues WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::queue_from_row(&row)
    }

    pub async fn queue(&self, id: i64) -> Result<Queue> {
        let row = sqlx::query("SELECT id, slug, name, model FROM queues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::queue_from_row(&row)
    }

    pub async fn queues(&self) -> Result<Vec<Queue>> {
        let rows = sqlx::query("SELECT id, slug, name, model FROM queues ORDER BY slug")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Self::queue_from_row).collect()
    }

    /// Adds a member (or replaces their skills).
    pub async fn set_queue_member(
        &self,
        queue: i64,
        user: UserId,
        skills: &[String],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO queue_members (queue_id, user_id, skills) VALUES ($1, $2, $3) \
             ON CONFLICT (queue_id, user_id) DO UPDATE SET skills = excluded.skills",
        )
        .bind(queue)
        .bind(user.0)
        .bind(json!(skills).to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn queue_members(&self, queue: i64) -> Result<Vec<QueueMember>> {
        let rows = sqlx::query(
            "SELECT m.skills, m.last_assigned_at, u.id AS u_id, u.name AS u_name, u.email AS u_email, \
             (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id \
              AND c.status NOT IN ('solved', 'closed')) AS active \
             FROM queue_members m JOIN users u ON u.id = m.user_id WHERE m.queue_id = $1 ORDER BY u.id",
        )
        .bind(queue)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueMember {
                    user: user_ref(r, "u")?,
                    skills: serde_json::from_str(&r.try_get::<String, _>("skills")?)
                        .map_err(corrupt)?,
                    active_cases: r.try_get("active")?,
                    last_assigned_at: opt_i64(r, "last_assigned_at")?,
                })
            })
            .collect()
    }

    pub async fn mark_assigned(&self, queue: i64, user: UserId) -> Result<()> {
        sqlx::query(
            "UPDATE queue_members SET last_assigned_at = $1 WHERE queue_id = $2 AND user_id = $3",
        )
        .bind(now_millis())
        .bind(queue)
        .bind(user.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        let rows =
            sqlx::query("SELECT id, position, definition FROM routing_rules ORDER BY position, id")
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn routing_rule(&self, id: i64) -> Result<RoutingRule> {
        let row = sqlx::query("SELECT id, position, definition FROM routing_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        rule_from_row(&row)
    }

    /// Adds a rule at the end of the order.
    pub async fn create_rule(&self, definition: &RuleDefinition) -> Result<RoutingRule> {
        let now = now_millis();
        let row = sqlx::query(
            "INSERT INTO routing_rules (position, definition, created_at, updated_at) \
             VALUES ((SELECT COALESCE(MAX(position), 0) + 1 FROM routing_rules), $1, $2, $2) RETURNING id",
        )
        .bind(json!(definition).to_string())
        .bind(now)
        .fetch_one(&self.write)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.routing_rule(id).await
    }

    pub async fn update_rule(&self, id: i64, definition: &RuleDefinition) -> Result<RoutingRule> {
        let done =
            sqlx::query("UPDATE routing_rules SET definition = $1, updated_at = $2 WHERE id = $3")
                .bind(json!(definition).to_string())
                .bind(now_millis())
                .bind(id)
                .execute(&self.write)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.routing_rule(id).await
    }

    /// Rules keep their history on the cases they routed; a rule that routed cases is
    /// disabled rather than deleted.
    pub async fn delete_rule(&self, id: i64) -> Result<()> {
        let used = sqlx::query("SELECT COUNT(*) AS n FROM cases WHERE routed_by_rule_id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?
            .try_get::<i64, _>("n")?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "the rule routed {used} cases; disable it instead of deleting it"
            )));
        }
        let done = sqlx::query("DELETE FROM routing_rules WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Puts the rules in this order (every rule id exactly once).
    pub async fn reorder_rules(&self, ids: &[i64]) -> Result<()> {
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

    pub async fn create_course(&self, course: &NewCourse) -> Result<Course> {
        let row = sqlx::query(
            "INSERT INTO courses (product, product_release, title, material, questions, pass_mark, \
             validity_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&course.product)
        .bind(&course.release)
        .bind(&course.title)
        .bind(&course.material)
        .bind(json!(course.questions).to_string())
        .bind(i64::from(course.pass_mark))
        .bind(course.validity_days)
        .bind(now_millis())
        .fetch_one(&self.write)
        .await?;
        self.course(row.try_get("id")?).await
    }

    fn course_from_row(r: &AnyRow) -> Result<Course> {
        Ok(Course {
            id: r.try_get("id")?,
            product: r.try_get("product")?,
            release: r.try_get("product_release")?,
            title: r.try_get("title")?,
            material: r.try_get("material")?,
            questions: serde_json::from_str(&r.try_get::<String, _>("questions")?)
                .map_err(corrupt)?,
            pass_mark: r.try_get::<i64, _>("pass_mark")? as u32,
            validity_days: r.try_get("validity_days")?,
        })
    }

    pub async fn course(&self, id: i64) -> Result<Course> {
        let row = sqlx::query("SELECT * FROM courses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::course_from_row(&row)
    }

    pub async fn courses(&self) -> Result<Vec<Course>> {
        let rows = sqlx::query("SELECT * FROM courses ORDER BY product, product_release, id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Self::course_from_row).collect()
    }

    /// Records an attempt; a pass issues a certificate valid for the course's validity and
    /// brings the technician's partner's certification up to date, in one transaction.
    pub async fn record_attempt(
        &self,
        course: &Course,
        user: UserId,
        partner: Option<OrgId>,
        answers: &[Option<usize>],
        score: u32,
        passed: bool,
    ) -> Result<Attempt> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "INSERT INTO test_attempts (course_id, user_id, answers, score, passed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(course.id)
        .bind(user.0)
        .bind(json!(answers).to_string())
        .bind(i64::from(score))
        .bind(i64::from(passed))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        if passed {
            sqlx::query(
                "INSERT INTO certificates (user_id, course_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(user.0)
            .bind(course.id)
            .bind(now)
            .bind(now + course.validity_days * DAY_MS)
            .execute(&mut *tx)
            .await?;
            if let Some(partner) = partner {
                refresh_certification(&mut tx, partner).await?;
            }
        }
        tx.commit().await?;
        Ok(Attempt {
            id,
            course_id: course.id,
            user_id: user,
            score,
            passed,
            at: from_millis(now),
        })
    }

    /// Re-derives a partner's certification (certificates also lapse with time).
    pub async fn refresh_certification(&self, partner: OrgId) -> Result<()> {
        let mut tx = self.write.begin().await?;
        refresh_certification(&mut tx, partner).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The certificates held by an organisation's people, newest first (expired ones too).
    pub async fn certificates_of_org(&self, org: OrgId) -> Result<Vec<Certificate>> {
        let rows = sqlx::query(
            "SELECT ce.course_id, ce.issued_at, ce.expires_at, co.title, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM certificates ce JOIN users u ON u.id = ce.user_id JOIN courses co ON co.id = ce.course_id \
             WHERE u.org_id = $1 ORDER BY ce.issued_at DESC, ce.id DESC",
        )
        .bind(org.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Certificate {
                    user: user_ref(r, "u")?,
                    course_id: r.try_get("course_id")?,
                    course_title: r.try_get("title")?,
                    issued_at: r.try_get("issued_at")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }

    pub async fn attempts_of_user(&self, user: UserId) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(
            "SELECT id, course_id, user_id, score, passed, created_at FROM test_attempts \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    id: r.try_get("id")?,
                    course_id: r.try_get("course_id")?,
                    user_id: UserId(r.try_get("user_id")?),
                    score: r.try_get::<i64, _>("score")? as u32,
                    passed: r.try_get::<i64, _>("passed")? != 0,
                    at: from_millis(r.try_get("created_at")?),
                })
            })
            .collect()
    }

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
        .bind(now_millis())
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
                    reported_at: from_millis(r.try_get("reported_at")?),
                })
            })
            .collect()
    }

    /// The partner's escalations (cases its technicians filed) opened in [from, to).
    pub async fn escalations(
        &self,
        partner: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<EscalationFacts>> {
        let rows = sqlx::query(
            "SELECT c.priority, c.created_at, c.solved_at, c.status, c.classification, c.escalation \
             FROM cases c JOIN users r ON r.id = c.requester_id \
             WHERE c.partner_id = $1 AND r.org_id = $1 AND c.created_at >= $2 AND c.created_at < $3",
        )
        .bind(partner.0)
        .bind(from_ms)
        .bind(to_ms)
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
                    opened_ms: r.try_get("created_at")?,
                    solved_ms: if status.is_active() {
                        None
                    } else {
                        opt_i64(r, "solved_at")?
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
        let customers: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM organizations WHERE served_by_id = $1")
                .bind(partner.0)
                .fetch_one(&self.read)
                .await?
                .try_get("n")?;
        let techs: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE org_id = $1 AND role = 'partner'")
                .bind(partner.0)
                .fetch_one(&self.read)
                .await?
                .try_get("n")?;
        Ok((customers as u64, techs as u32))
    }
}
