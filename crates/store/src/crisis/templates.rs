//! Message templates, one per kind; a kind without a stored template uses its default.

use crate::sql::Arg;
use crate::versions::{advance_or_absent, first_write, Versioned};
use crate::{Result, Store};
use backline_domain::crisis::{Template, TemplateKind};
use backline_domain::Timestamp;

impl Store {
    pub async fn template(&self, kind: TemplateKind) -> Result<Option<Template>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT subject, body FROM templates WHERE kind = $1")
                .bind(kind.as_str())
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(subject, body)| Template { subject, body }))
    }

    /// The stored template of `kind` (`None`: the default is used) and its version (0 while
    /// the default is used), read together so the version names what was read.
    pub async fn stored_template(&self, kind: TemplateKind) -> Result<(Option<Template>, i64)> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT subject, body, version FROM templates WHERE kind = $1")
                .bind(kind.as_str())
                .fetch_optional(&self.read)
                .await?;
        Ok(match row {
            Some((subject, body, version)) => (Some(Template { subject, body }), version),
            None => (None, 0),
        })
    }

    pub async fn set_template(&self, kind: TemplateKind, template: &Template) -> Result<()> {
        self.write_template(kind, template, None).await.map(drop)
    }

    /// Saves the template of `kind` if it is still at `expected` (when given; 0 for the
    /// default), else [`StoreError::Stale`](crate::StoreError::Stale); answers the new version.
    pub async fn write_template(
        &self,
        kind: TemplateKind,
        template: &Template,
        expected: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let now = Timestamp::now();
        let key = Arg::Text(kind.as_str().into());
        let version = match advance_or_absent(&mut tx, Versioned::Template, key, expected).await? {
            Some(version) => {
                sqlx::query(
                    "UPDATE templates SET subject = $1, body = $2, updated_at = $3 WHERE kind = $4",
                )
                .bind(&template.subject)
                .bind(&template.body)
                .bind(now)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
                version
            }
            None => {
                // The first save over the default; see `write_agreement` for a racing one.
                let upsert = if expected.is_none() {
                    " ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject, \
                     body = excluded.body, updated_at = excluded.updated_at, \
                     version = templates.version + 1"
                } else {
                    ""
                };
                sqlx::query_scalar(&format!(
                    "INSERT INTO templates (kind, subject, body, updated_at) \
                     VALUES ($1, $2, $3, $4){upsert} RETURNING version"
                ))
                .bind(kind.as_str())
                .bind(&template.subject)
                .bind(&template.body)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(first_write)?
            }
        };
        tx.commit().await?;
        Ok(version)
    }
}
