//! Routing rules: edit them in order, and try them on a made-up case.

use crate::error::ApiError;
use crate::layout::{html_response, page, sentence, stale_notice, version_field};
use crate::partners::service::{self as partners, staff_only, RuleBody};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::routing::RoutingFacts;
use backline_domain::{Channel, OrgKind, Priority, RuleId};
use maud::html;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct RoutingQuery {
    #[serde(default)]
    org_kind: Option<String>,
    #[serde(default)]
    certified: Option<String>,
    #[serde(default)]
    has_partner: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    product: Option<String>,
}

pub async fn routing_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(q): Query<RoutingQuery>,
) -> PageResult {
    render_routing(&state, &who, &q, None, StatusCode::OK).await
}

/// A rule as typed in the editor and why it was refused; shown again in its place.
struct RuleDraft {
    /// `None` for the new-rule form.
    rule: Option<RuleId>,
    text: String,
    error: String,
    /// The version the form carries back: the one it was drawn from, or after a stale save
    /// the current one.
    version: Option<i64>,
    /// Refused because the rule changed after the form was drawn.
    stale: bool,
}

impl RuleDraft {
    fn for_rule(draft: Option<&RuleDraft>, rule: Option<RuleId>) -> Option<&RuleDraft> {
        draft.filter(|d| d.rule == rule)
    }
}

/// A refused rule's problem in words: the JSON error, or each field named.
fn rule_problem(error: &ApiError) -> String {
    match error {
        ApiError::Validation(fields) => {
            let list: Vec<String> = fields
                .0
                .iter()
                .map(|(field, message)| {
                    let message = sentence(&plain_json_message(message));
                    if field == "body" {
                        message
                    } else {
                        format!("In {}: {message}", plain_path(field))
                    }
                })
                .collect();
            format!("The rule was not saved. {}", list.join(" "))
        }
        ApiError::BadRequest { message, .. } => format!(
            "The rule was not saved: {}. Check the quotes, commas and brackets.",
            plain_json_message(message.trim_start_matches("the body is not valid JSON: "))
                .trim_end_matches('.')
        ),
        other => format!("The rule was not saved: {other}."),
    }
}

/// `conditions[0].field` as people count: `condition 1, field`.
fn plain_path(path: &str) -> String {
    let mut out = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((name, rest)) => {
                let n: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
                out.push(format!("{} {}", name.trim_end_matches('s'), n + 1));
            }
            None => out.push(part.to_string()),
        }
    }
    out.join(", ")
}

/// serde's wording as people read it: no backticks, and the common cases said plainly.
fn plain_json_message(message: &str) -> String {
    let unquote = |s: &str| s.replace('`', "\"");
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        if let Some((value, choices)) = rest.split_once(", expected one of ") {
            return format!(
                "{} is not one of the choices ({})",
                unquote(value),
                choices.replace('`', "")
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        if let Some((value, choices)) = rest.split_once(", expected one of ") {
            return format!(
                "{} is not something a rule has; it has: {}",
                unquote(value),
                choices.replace('`', "")
            );
        }
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{} is missing", unquote(field));
    }
    let position = message
        .rfind(" at line ")
        .map(|i| &message[i + 4..])
        .unwrap_or("");
    let at = if position.is_empty() {
        String::new()
    } else {
        format!(" ({position})")
    };
    if message.starts_with("EOF while parsing a list") {
        return format!("the text stops before a list is closed with ]{at}");
    }
    if message.starts_with("EOF while parsing an object")
        || message.starts_with("EOF while parsing")
    {
        return format!("the text stops before a {{ ... }} is closed{at}");
    }
    if message.starts_with("trailing comma") {
        return format!("there is a comma before a closing bracket{at}");
    }
    if message.starts_with("expected `,` or") {
        return format!("a comma is missing between two items{at}");
    }
    unquote(message)
}

async fn render_routing(
    state: &AppState,
    who: &WebUser,
    q: &RoutingQuery,
    draft: Option<&RuleDraft>,
    status: StatusCode,
) -> PageResult {
    staff_only(&who.user).or_page(who)?;
    let can_edit = who.user.may_change_settings();
    let rules = state.store.routing_rules().await.or_page(who)?;
    let tried = q.org_kind.as_ref().map(|kind| {
        let facts = RoutingFacts {
            requester_org_kind: OrgKind::parse(kind).unwrap_or(OrgKind::Customer),
            partner_kinds: Vec::new(),
            technical_level: None,
            certified: q.certified.is_some(),
            has_partner: q.has_partner.is_some(),
            product: q.product.clone().filter(|p| !p.trim().is_empty()),
            priority: q
                .priority
                .as_deref()
                .and_then(|p| Priority::parse(p).ok())
                .unwrap_or(Priority::Normal),
            channel: q
                .channel
                .as_deref()
                .and_then(|c| Channel::parse(c).ok())
                .unwrap_or(Channel::Web),
            text: q.text.clone().unwrap_or_default(),
        };
        let pairs: Vec<_> = rules.iter().map(|r| (r.id, r.definition.clone())).collect();
        backline_domain::routing::first_match(&pairs, &facts).map(|(id, r)| (id, r.name.clone()))
    });
    let example = r#"{"name": "Urgent vault cases to L3", "match": "all",
 "conditions": [{"field": "product", "is": "vault"}, {"field": "priority", "any_of": ["urgent"]}],
 "actions": {"tier": 3}}"#;
    Ok(html_response(
        status,
        page(
            "Routing",
            Some(who),
            html! {
                h1 { "Routing rules" }
                p.num { "Rules run in order when a case is filed; the first that matches routes it, and the case records which one. " a href="/queues" { "Queues" } }
                @if !can_edit { p.muted { "Changing rules is for admins and the agents they allow to change settings." } }
                @for (i, r) in rules.iter().enumerate() {
                    @if !can_edit {
                        div.card.rule data-rule=(r.id) {
                            h3 { (i + 1) ". " (r.definition.name) @if !r.definition.enabled { " " span.badge { "disabled" } } }
                            pre { (serde_json::to_string_pretty(&serde_json::json!({"name": r.definition.name, "enabled": r.definition.enabled, "match": r.definition.match_mode, "conditions": r.definition.conditions, "actions": r.definition.actions})).unwrap_or_default()) }
                        }
                    } @else {
                    form.card.rule method="post" action=(format!("/routing/{}", r.id)) data-rule=(r.id) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        (version_field(RuleDraft::for_rule(draft, Some(r.id)).map_or(Some(r.version), |d| d.version)))
                        h3 { (i + 1) ". " (r.definition.name) @if !r.definition.enabled { " " span.badge { "disabled" } } }
                        @if let Some(d) = RuleDraft::for_rule(draft, Some(r.id)) {
                            @if d.stale {
                                (stale_notice("rule"))
                                p.muted { "The rule as it is now:" }
                                pre { (serde_json::to_string_pretty(&serde_json::json!({"name": r.definition.name, "enabled": r.definition.enabled, "match": r.definition.match_mode, "conditions": r.definition.conditions, "actions": r.definition.actions})).unwrap_or_default()) }
                            } @else {
                                div.field-error role="alert" id=(format!("rule-{}-error", r.id)) { (d.error) }
                            }
                            textarea name="definition" aria-label=(format!("Rule {}", r.id)) aria-invalid="true" aria-describedby=(format!("rule-{}-error", r.id)) { (d.text) }
                        } @else {
                            textarea name="definition" aria-label=(format!("Rule {}", r.id)) { (serde_json::to_string_pretty(&serde_json::json!({"name": r.definition.name, "enabled": r.definition.enabled, "match": r.definition.match_mode, "conditions": r.definition.conditions, "actions": r.definition.actions})).unwrap_or_default()) }
                        }
                        p { button type="submit" name="action" value="save" { "Save" } " " button type="submit" name="action" value="up" { "Move up" } " " button type="submit" name="action" value="delete" { "Delete" } }
                    }
                    }
                }
                @if can_edit {
                form.card method="post" action="/routing" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    h3 { "New rule" }
                    @if let Some(d) = RuleDraft::for_rule(draft, None) {
                        div.field-error role="alert" #new-rule-error { (d.error) }
                        textarea name="definition" aria-label="New rule" aria-invalid="true" aria-describedby="new-rule-error" { (d.text) }
                    } @else {
                        textarea name="definition" aria-label="New rule" { (example) }
                    }
                    p.num { "Conditions: org_kind, partner_kind, technical_level, certified, has_partner, product, priority, channel, words. Actions: tier, queue, priority, assign (round_robin, least_loaded), add_tags." }
                    p { button type="submit" { "Add rule" } }
                }
                }
                form.card #route-test method="get" action="/routing" {
                    h3 { "Try the rules" }
                    label for="t-kind" { "Filed by" }
                    select #t-kind name="org_kind" { option value="customer" { "a customer" } option value="partner" selected[q.org_kind.as_deref() == Some("partner")] { "a partner" } }
                    label { input type="checkbox" name="has_partner" value="1" checked[q.has_partner.is_some()]; " A partner is involved" }
                    label { input type="checkbox" name="certified" value="1" checked[q.certified.is_some()]; " The partner is certified" }
                    label for="t-priority" { "Priority" }
                    select #t-priority name="priority" { @for p in Priority::ALL { option value=(p.as_str()) selected[q.priority.as_deref() == Some(p.as_str())] { (p) } } }
                    label for="t-product" { "Product" } input #t-product type="text" name="product" value=(q.product.clone().unwrap_or_default());
                    label for="t-text" { "Text" } input #t-text type="text" name="text" value=(q.text.clone().unwrap_or_default()) style="width:100%";
                    p { button type="submit" { "Try" } }
                    @if let Some(result) = &tried {
                        p #route-result { @match result { Some((id, name)) => { "Rule " (id) " matches: " strong { (name) } }, None => { "No rule matches: the case stays at tier 1, unassigned." } } }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    definition: String,
    action: Option<String>,
    /// The rule's version the form was drawn from (editing only).
    version: Option<i64>,
}

fn parse_rule(text: &str) -> Result<backline_domain::routing::RuleDefinition, ApiError> {
    let body: RuleBody = crate::extract::parse(text.as_bytes())?;
    body.definition()
}

pub async fn add_rule(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> PageResult {
    crate::auth::settings_only(&who.user).or_page(&who)?;
    let saved = match parse_rule(&form.definition) {
        Ok(def) => partners::save_rule(&state, &who.user, None, &def, None).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/routing").into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::BadRequest { .. })) => {
            let draft = RuleDraft {
                rule: None,
                text: form.definition,
                error: rule_problem(&e),
                version: None,
                stale: false,
            };
            let q = RoutingQuery::default();
            render_routing(
                &state,
                &who,
                &q,
                Some(&draft),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

pub async fn change_rule(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<RuleId>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> PageResult {
    crate::auth::settings_only(&who.user).or_page(&who)?;
    let result: Result<(), ApiError> = async {
        match form.action.as_deref().unwrap_or("save") {
            "delete" => partners::delete_rule(&state, &who.user, id, form.version).await,
            "up" => {
                let mut ids: Vec<RuleId> = state
                    .store
                    .routing_rules()
                    .await?
                    .iter()
                    .map(|r| r.id)
                    .collect();
                if let Some(i) = ids.iter().position(|r| *r == id).filter(|i| *i > 0) {
                    ids.swap(i, i - 1);
                }
                Ok(state.store.reorder_rules(&ids).await?)
            }
            _ => {
                let def = parse_rule(&form.definition)?;
                partners::save_rule(&state, &who.user, Some(id), &def, form.version).await?;
                Ok(())
            }
        }
    }
    .await;
    // Reordering bypasses the shared save; the cache must still learn of it.
    state.partners.forget();
    match result {
        Ok(()) => Ok(Redirect::to("/routing").into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::BadRequest { .. })) => {
            let draft = RuleDraft {
                rule: Some(id),
                text: form.definition,
                error: rule_problem(&e),
                version: form.version,
                stale: false,
            };
            let q = RoutingQuery::default();
            render_routing(
                &state,
                &who,
                &q,
                Some(&draft),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ApiError::Stale(_)) => {
            // Someone changed the rule after this form was drawn: nothing is overwritten; the
            // rule as it is now is shown beside what was typed, which now carries the current
            // version, so saving again is a deliberate choice.
            let current = partners::rule(&state, id).await.or_page(&who)?;
            let draft = RuleDraft {
                rule: Some(id),
                text: form.definition,
                error: String::new(),
                version: Some(current.version),
                stale: true,
            };
            let q = RoutingQuery::default();
            render_routing(&state, &who, &q, Some(&draft), StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_errors_read_as_sentences() {
        assert_eq!(plain_path("conditions[0].field"), "condition 1, field");
        assert_eq!(
            plain_json_message("unknown variant `colour`, expected one of `org_kind`, `product`"),
            "\"colour\" is not one of the choices (org_kind, product)"
        );
        assert_eq!(
            plain_json_message("EOF while parsing a list at line 1 column 38"),
            "the text stops before a list is closed with ] (line 1 column 38)"
        );
        assert_eq!(
            plain_json_message("missing field `name`"),
            "\"name\" is missing"
        );
    }
}
