//! Message templates, one per kind; a kind without a stored template uses its default.

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

    pub async fn set_template(&self, kind: TemplateKind, template: &Template) -> Result<()> {
        sqlx::query(
            "INSERT INTO templates (kind, subject, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(kind.as_str())
        .bind(&template.subject)
        .bind(&template.body)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
