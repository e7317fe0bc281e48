//! Suggestions while a new case is typed, as JSON for the form's script.

use super::*;
use crate::error::ApiError;
use crate::knowledge::service::{self as knowledge};
use crate::session::{urlencode, WebUser};
use crate::AppState;
use axum::extract::{Query, State};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LiveQuery {
    draft: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
}

/// What the new-case form's script shows beside the form.
#[derive(serde::Serialize)]
pub struct LiveSuggestions {
    suggestions: Vec<LiveSuggestion>,
}

#[derive(serde::Serialize)]
pub struct LiveSuggestion {
    id: i64,
    title: String,
    excerpt: String,
    /// The article page, carrying the form's draft token so opening it counts.
    href: String,
}

/// Articles matching the case being typed, as JSON for the form's script. Customers' and
/// partners' drafts are counted for deflection.
pub async fn live_suggestions(
    State(state): State<AppState>,
    who: WebUser,
    Query(query): Query<LiveQuery>,
) -> Result<axum::Json<LiveSuggestions>, ApiError> {
    let text_len = query.subject.trim().len() + query.description.trim().len();
    let suggestions = if text_len < 3 {
        Vec::new()
    } else {
        knowledge::suggestions_for_text(&state, &who.user, &query.subject, &query.description, 5)
            .await?
    };
    let draft = query.draft.filter(|d| valid_draft(d));
    if let (Some(draft), false) = (&draft, who.user.role.is_staff()) {
        if text_len >= 3 {
            if let Err(e) = state
                .store
                .draft_shown(draft, who.user.id, suggestions.len() as i64)
                .await
            {
                tracing::warn!(error = %e, "recording shown suggestions failed");
            }
        }
    }
    let suggestions = suggestions
        .iter()
        .map(|s| {
            let mut href = format!("/articles/{}", s.id);
            if let Some(d) = &draft {
                href.push_str(&format!("?draft={}", urlencode(d)));
            }
            LiveSuggestion {
                id: s.id,
                title: s.title.clone(),
                excerpt: s.excerpt.clone(),
                href,
            }
        })
        .collect();
    Ok(axum::Json(LiveSuggestions { suggestions }))
}
