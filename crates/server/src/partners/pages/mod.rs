//! Partner-program pages: the partner page with its scorecard, the comparison, the agreement
//! editor, routing rules (edit and try), training and tests, and the public directory.
//!
//! One file per page group; they share the scorecard drawing below.

mod escalation;
mod program;
mod queues;
mod routing;
mod training;

pub use escalation::*;
pub use program::*;
pub use queues::*;
pub use routing::*;
pub use training::*;

use backline_domain::partner::Scorecard;
use maud::{html, Markup};

pub(super) fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A horizontal bar for a share, drawn as inline SVG (no script, prints well).
pub(super) fn bar(label: &str, value: Option<f64>, warn_above: Option<f64>) -> Markup {
    let width = (value.unwrap_or(0.0).clamp(0.0, 1.0) * 200.0).round();
    let warn = matches!((value, warn_above), (Some(v), Some(t)) if v > t);
    let colour = if warn { "#b42318" } else { "#2f5bd3" };
    html! {
        div.metric data-metric=(label) {
            span.metric-label { (label) }
            svg width="200" height="12" role="img" aria-label=(format!("{label}: {}", percent(value))) {
                rect x="0" y="0" width="200" height="12" rx="3" fill="#eef1f6" {}
                rect x="0" y="0" width=(width) height="12" rx="3" fill=(colour) {}
            }
            span.metric-value { (percent(value)) }
        }
    }
}

pub(super) fn scorecard_view(card: &Scorecard) -> Markup {
    html! {
        div.card #scorecard {
            h2 { "Scorecard, last 90 days" }
            dl.meta.figures {
                dt { "Escalations" } dd.escalations { (card.escalations) }
                dt { "Per end customer" } dd { (card.escalations_per_end_customer.map_or("—".into(), |v| format!("{v:.1}"))) }
                dt { "Solved" } dd { (card.solved) }
                dt { "Median time to resolve" } dd { (card.median_hours_to_resolve.map_or("—".into(), |h| format!("{h:.1} h"))) }
                dt { "Certified technicians" } dd.certified-count { (card.certified_technicians) " of " (card.required_certified_technicians) " required" }
            }
            (bar("Known", card.known_share, None))
            (bar("Invalid escalations", card.invalid_escalation_share, Some(0.30)))
            (bar("New", card.new_share, None))
            (bar("Reproduced on vanilla", card.reproduced_on_vanilla_share, None))
            (bar("Within SLA", card.within_sla_share, None))
            (bar("Training completion", card.training_completion, None))
            (bar(&format!("Customer satisfaction ({} ratings)", card.ratings), card.satisfaction_share, None))
        }
    }
}
