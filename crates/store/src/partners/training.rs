//! Courses and their tests, attempts, certificates, and the partner certification they add up to.

use crate::rows::{convert, corrupt, Flag, UserCols};
use crate::{Result, Store, StoreError, UserRef};
use backline_domain::partner::{Agreement, Question};
use backline_domain::{CourseId, OrgId, Span, Timestamp, UserId};
use serde_json::json;
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: CourseId,
    pub product: String,
    pub release: String,
    pub title: String,
    pub material: String,
    pub questions: Vec<Question>,
    pub pass_mark: u32,
    pub validity_days: i64,
}

impl Course {
    /// When a certificate issued at `issued` for this course lapses.
    pub fn certificate_expires_at(&self, issued: Timestamp) -> Timestamp {
        issued.plus(Span::DAY.times(self.validity_days))
    }
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
    pub course_id: CourseId,
    pub user_id: UserId,
    pub score: u32,
    pub passed: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    pub user: UserRef,
    pub course_id: CourseId,
    pub course_title: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A `courses` row; the questions are JSON.
#[derive(sqlx::FromRow)]
struct CourseRow {
    id: CourseId,
    product: String,
    product_release: String,
    title: String,
    material: String,
    questions: String,
    pass_mark: i64,
    validity_days: i64,
}

impl TryFrom<CourseRow> for Course {
    type Error = StoreError;

    fn try_from(r: CourseRow) -> Result<Course> {
        Ok(Course {
            id: r.id,
            product: r.product,
            release: r.product_release,
            title: r.title,
            material: r.material,
            questions: serde_json::from_str(&r.questions).map_err(corrupt)?,
            pass_mark: r.pass_mark as u32,
            validity_days: r.validity_days,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    course_id: CourseId,
    user_id: UserId,
    score: i64,
    #[sqlx(try_from = "Flag")]
    passed: bool,
    created_at: Timestamp,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Attempt {
        Attempt {
            id: r.id,
            course_id: r.course_id,
            user_id: r.user_id,
            score: r.score as u32,
            passed: r.passed,
            at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    #[sqlx(flatten)]
    user: UserCols,
    course_id: CourseId,
    title: String,
    issued_at: Timestamp,
    expires_at: Timestamp,
}

impl From<CertificateRow> for Certificate {
    fn from(r: CertificateRow) -> Certificate {
        Certificate {
            user: r.user.into(),
            course_id: r.course_id,
            course_title: r.title,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
        }
    }
}

/// The moment until which `partner` stays certified with the certificates it holds now, and
/// its agreement's required number.
pub(super) async fn refresh_certification(
    tx: &mut Transaction<'_, Any>,
    partner: OrgId,
) -> Result<()> {
    let terms: Option<String> =
        sqlx::query_scalar("SELECT terms FROM partner_agreements WHERE partner_id = $1")
            .bind(partner)
            .fetch_optional(&mut **tx)
            .await?;
    let required = match terms {
        Some(terms) => {
            serde_json::from_str::<Agreement>(&terms)
                .map_err(corrupt)?
                .required_certified_technicians
        }
        None => Agreement::default().required_certified_technicians,
    };
    let mut expiries: Vec<Timestamp> = sqlx::query_scalar(
        "SELECT MAX(ce.expires_at) AS until FROM certificates ce JOIN users u ON u.id = ce.user_id \
         WHERE u.org_id = $1 AND u.role = 'partner' AND ce.expires_at > $2 GROUP BY ce.user_id",
    )
    .bind(partner)
    .bind(Timestamp::now())
    .fetch_all(&mut **tx)
    .await?;
    let until = backline_domain::partner::certified_until(&mut expiries, required);
    sqlx::query("UPDATE organizations SET certified_until = $1 WHERE id = $2")
        .bind(until)
        .bind(partner)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    pub async fn create_course(&self, course: &NewCourse) -> Result<Course> {
        let id: CourseId = sqlx::query_scalar(
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
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        self.course(id).await
    }

    pub async fn course(&self, id: CourseId) -> Result<Course> {
        let row: CourseRow = sqlx::query_as("SELECT * FROM courses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn courses(&self) -> Result<Vec<Course>> {
        let rows: Vec<CourseRow> =
            sqlx::query_as("SELECT * FROM courses ORDER BY product, product_release, id")
                .fetch_all(&self.read)
                .await?;
        convert(rows)
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
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO test_attempts (course_id, user_id, answers, score, passed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(course.id)
        .bind(user)
        .bind(json!(answers).to_string())
        .bind(i64::from(score))
        .bind(i64::from(passed))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if passed {
            sqlx::query(
                "INSERT INTO certificates (user_id, course_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(user)
            .bind(course.id)
            .bind(now)
            .bind(course.certificate_expires_at(now))
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
            at: now,
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
        let rows: Vec<CertificateRow> = sqlx::query_as(
            "SELECT ce.course_id, ce.issued_at, ce.expires_at, co.title, \
             u.id AS u_id, u.name AS u_name, u.email AS u_email \
             FROM certificates ce JOIN users u ON u.id = ce.user_id JOIN courses co ON co.id = ce.course_id \
             WHERE u.org_id = $1 ORDER BY ce.issued_at DESC, ce.id DESC",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(Certificate::from).collect())
    }

    pub async fn attempts_of_user(&self, user: UserId) -> Result<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT id, course_id, user_id, score, passed, created_at FROM test_attempts \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(Attempt::from).collect())
    }
}
