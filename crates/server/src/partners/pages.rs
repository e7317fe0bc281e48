//! Partner-program pages: the partner page with its scorecard, the comparison, the agreement
//! editor, routing rules (edit and try), training and tests, and the public directory.

use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, sentence, when};
use crate::partners::service::{
    self as partners, ranked_scorecards, readable_partner, staff_only, take_test, AgreementBody,
    RuleBody,
};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::partner::{
    format_money, Agreement, FeeModel, Party, Scorecard, VendorContact,
};
use backline_domain::routing::RoutingFacts;
use backline_domain::Span;
use backline_domain::Timestamp;
use backline_domain::{Channel, OrgKind, Priority, Role};
use maud::{html, Markup};
use serde::Deserialize;

/// A day in milliseconds, as stored.
const DAY_MS: i64 = Span::DAY.as_millis();

fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A horizontal bar for a share, drawn as inline SVG (no script, prints well).
fn bar(label: &str, value: Option<f64>, warn_above: Option<f64>) -> Markup {
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

fn scorecard_view(card: &Scorecard) -> Markup {
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
        }
    }
}

pub async fn partner_list(State(state): State<AppState>, who: WebUser) -> PageResult {
    if who.user.role == Role::Partner {
        if let Some(org) = &who.user.org {
            return Ok(Redirect::to(&format!("/partners/{}", org.slug)).into_response());
        }
    }
    staff_only(&who.user).or_page(&who)?;
    let now = backline_store::now_millis();
    let rows = ranked_scorecards(&state, now - 90 * DAY_MS, now + 1)
        .await
        .or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        page(
            "Partners",
            Some(&who),
            html! {
                h1 { "Partners" }
                p.num { "Ranked over the last 90 days: fewest invalid escalations first, then fewest escalations per end customer." }
                table.cases #comparison {
                    thead { tr { th { "#" } th { "Partner" } th { "Escalations" } th { "Per customer" } th { "Known" } th { "Invalid" } th { "New" } th { "Vanilla" } th { "Median h" } th { "Within SLA" } th { "Certified" } } }
                    tbody {
                        @for (i, (org, c)) in rows.iter().enumerate() {
                            tr data-partner=(org.slug) {
                                td.num { (i + 1) }
                                td { a href=(format!("/partners/{}", org.slug)) { (org.name) } @if org.certified() { " " span.certified { "✓" } } }
                                td.num { (c.escalations) }
                                td.num { (c.escalations_per_end_customer.map_or("—".into(), |v| format!("{v:.1}"))) }
                                td.num { (percent(c.known_share)) }
                                td.num { (percent(c.invalid_escalation_share)) }
                                td.num { (percent(c.new_share)) }
                                td.num { (percent(c.reproduced_on_vanilla_share)) }
                                td.num { (c.median_hours_to_resolve.map_or("—".into(), |h| format!("{h:.0}"))) }
                                td.num { (percent(c.within_sla_share)) }
                                td.num { (c.certified_technicians) "/" (c.required_certified_technicians) }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

pub async fn partner_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
) -> PageResult {
    let partner = readable_partner(&state, &who.user, &slug)
        .await
        .or_page(&who)?;
    let staff = who.user.role.is_staff();
    let now = backline_store::now_millis();
    let overview = partners::partner_overview(&state.store, &partner, now)
        .await
        .or_page(&who)?;
    let partners::PartnerOverview {
        scorecard: card,
        alerts,
        terms,
        customers,
        people,
        certificates,
        manager,
        fees,
        statements,
    } = overview;
    // Alerts are for the relationship manager: staff only.
    let alerts = if staff { alerts } else { Vec::new() };
    let kinds = partner
        .partner_kinds
        .as_slice()
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(html_response(
        StatusCode::OK,
        page(
            &partner.name,
            Some(&who),
            html! {
                h1 {
                    (partner.name) " "
                    @if partner.certified() { span.badge.certified-badge #certified-badge { "✓ certified partner" } }
                    @else { span.badge #certified-badge { "not certified" } }
                }
                @if !alerts.is_empty() {
                    div.error #alerts role="alert" {
                        strong { "Needs attention" }
                        ul { @for a in &alerts { li data-alert=(a.kind.as_str()) { (a.message) } } }
                    }
                }
                div.case-layout {
                    div {
                        (scorecard_view(&card))
                        div.card #statements {
                            h2 { "Statements" }
                            table.cases {
                                thead { tr { th { "Period" } th { "Reported fees" } th { "Amount due" } th { "Escalations" } th { "Per 1,000 of fees" } } }
                                tbody {
                                    @for (period, s) in &statements {
                                        tr {
                                            td { (period) }
                                            td.num { (s.reported_fees_cents.map(format_money).unwrap_or_else(|| "not reported".into())) }
                                            td.num { (format_money(s.amount_due_cents)) }
                                            td.num { (s.escalations) }
                                            td.num { (s.escalations_per_1000_fees.map_or("—".into(), |r| format!("{r:.2}"))) }
                                        }
                                    }
                                }
                            }
                            p { a href=(format!("/api/v1/partners/{}/statements?periods={}&format=csv", partner.slug, statements.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(","))) { "CSV (API token needed)" } }
                            form.filters method="post" action=(format!("/partners/{}/fees", partner.slug)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="text" name="period" placeholder="2026-Q4" aria-label="Period" required;
                                input type="text" name="fees" placeholder="12345.67" aria-label="Support fees" required;
                                button type="submit" { "Report fees" }
                            }
                            @if !fees.is_empty() {
                                h3 { "Fee reports" }
                                ul.num { @for f in fees.iter().take(10) { li { (f.period) ": " (format_money(f.fees_cents)) " by " (f.reported_by.name) " on " (when(f.reported_at)) } } }
                            }
                        }
                    }
                    aside {
                        div.card {
                            dl.meta {
                                dt { "Kinds" } dd { (kinds) }
                                dt { "Technical level" } dd { (partner.technical_level.map_or("—".into(), |l| l.to_string())) }
                                dt { "Relationship manager" } dd { (manager.map_or("—".into(), |m| m.name)) }
                                dt { "End customers" } dd { (customers.iter().filter(|c| c.id != partner.id).map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                        div.card #agreement {
                            h2 { "Agreement" }
                            dl.meta {
                                dt { "Owns the customer" } dd { (terms.customer_owner) }
                                dt { "Bills" } dd { (terms.billing_owner) }
                                dt { "Vendor contact" } dd { (terms.vendor_direct_contact.as_str().replace('_', " ")) }
                                dt { "Customers see vendor KB" } dd { (if terms.customers_see_vendor_kb { "yes" } else { "no" }) }
                                dt { "Vanilla reproduction" } dd { (if terms.vanilla_reproduction_required { "required" } else { "not required" }) }
                                dt { "Checklist" } dd { @if terms.troubleshooting_checklist.is_empty() { "—" } @else { ol { @for s in &terms.troubleshooting_checklist { li { (s) } } } } }
                                dt { "Fees" } dd { (match terms.fee_model { FeeModel::None => "none".to_string(), FeeModel::Percentage => format!("{:.2}% of reported fees", terms.fee_percent_bp as f64 / 100.0), FeeModel::Fixed => format!("{} per period", format_money(terms.fixed_fee_cents)) }) }
                            }
                            @if staff { p { a.button href=(format!("/partners/{}/agreement", partner.slug)) { "Edit agreement" } } }
                        }
                        div.card #technicians {
                            h2 { "Technicians" }
                            ul {
                                @for u in people.iter().filter(|u| u.role == Role::Partner) {
                                    @let valid: Vec<_> = certificates.iter().filter(|c| c.user.id == u.id && c.expires_at > now).collect();
                                    li data-technician=(u.email) {
                                        (u.name)
                                        @if valid.is_empty() { span.num { " · not certified" } }
                                        @for c in valid { " · " span.badge { (c.course_title) " until " (when(Timestamp::from_millis(c.expires_at).to_offset())) } }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct FeeForm {
    period: String,
    fees: String,
}

pub async fn report_fees(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<FeeForm>,
) -> PageResult {
    let partner = readable_partner(&state, &who.user, &slug)
        .await
        .or_page(&who)?;
    partners::report_fees(&state, &who.user, &partner, &form.period, &form.fees)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/partners/{slug}#statements")).into_response())
}

fn agreement_form(
    who: &WebUser,
    slug: &str,
    form: &AgreementForm,
    errors: &backline_domain::FieldErrors,
) -> Markup {
    let party = |name: &str, current: &str| {
        html! {
            select id=(name) name=(name) { @for p in Party::ALL { option value=(p.as_str()) selected[p.as_str() == current] { (p) } } }
            (field_error(errors, &[name]))
        }
    };
    html! {
        @if !errors.is_empty() { div.error role="alert" { "The agreement was not saved. Correct the fields marked below and save again." } }
        form.card #agreement-form method="post" action=(format!("/partners/{slug}/agreement")) {
            input type="hidden" name="csrf" value=(who.csrf);
            label for="customer_owner" { "Who owns the customer" } (party("customer_owner", &form.customer_owner))
            label for="billing_owner" { "Who bills" } (party("billing_owner", &form.billing_owner))
            label for="updates_distributed_by" { "Who distributes updates" } (party("updates_distributed_by", &form.updates_distributed_by))
            label for="vendor_direct_contact" { "Vendor contact with end customers" }
            select #vendor_direct_contact name="vendor_direct_contact" {
                @for v in VendorContact::ALL { option value=(v.as_str()) selected[v.as_str() == form.vendor_direct_contact] { (v.as_str().replace('_', " ")) } }
            }
            (field_error(errors, &["vendor_direct_contact"]))
            label { input type="checkbox" name="customers_see_vendor_kb" value="1" checked[form.customers_see_vendor_kb.is_some()]; " End customers see the vendor's knowledge base" }
            label { input type="checkbox" name="vanilla_reproduction_required" value="1" checked[form.vanilla_reproduction_required.is_some()]; " Escalate only what reproduces on a vanilla product" }
            label for="troubleshooting_checklist" { "Troubleshooting checklist (one step per line)" }
            textarea #troubleshooting_checklist name="troubleshooting_checklist" { (form.troubleshooting_checklist) }
            (field_error(errors, &["troubleshooting_checklist"]))
            label for="required_certified_technicians" { "Required certified technicians" }
            input #required_certified_technicians type="number" min="0" name="required_certified_technicians" value=(form.required_certified_technicians);
            (field_error(errors, &["required_certified_technicians"]))
            label for="fee_model" { "Fees" }
            select #fee_model name="fee_model" { @for f in FeeModel::ALL { option value=(f.as_str()) selected[f.as_str() == form.fee_model] { (f) } } }
            (field_error(errors, &["fee_model"]))
            label for="fee_percent" { "Percentage of reported fees" }
            input #fee_percent type="text" name="fee_percent" value=(form.fee_percent);
            (field_error(errors, &["fee_percent", "fee_percent_bp"]))
            label for="fixed_fee" { "Fixed fee per period" }
            input #fixed_fee type="text" name="fixed_fee" value=(form.fixed_fee);
            (field_error(errors, &["fixed_fee", "fixed_fee_cents"]))
            p { button type="submit" { "Save agreement" } }
        }
    }
}

pub async fn agreement_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
) -> PageResult {
    let partner = readable_partner(&state, &who.user, &slug)
        .await
        .or_page(&who)?;
    staff_only(&who.user).or_page(&who)?;
    let terms = match state.store.agreement(partner.id).await {
        Ok(s) => s.terms,
        Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            "Agreement",
            Some(&who),
            html! {
                h1 { "Agreement with " (partner.name) }
                (agreement_form(&who, &slug, &AgreementForm::from_terms(&terms), &backline_domain::FieldErrors::new()))
            },
        ),
    ))
}

/// The agreement editor's fields as text, so a refused form shows what was typed.
#[derive(Deserialize, Default)]
pub struct AgreementForm {
    customer_owner: String,
    billing_owner: String,
    updates_distributed_by: String,
    vendor_direct_contact: String,
    customers_see_vendor_kb: Option<String>,
    vanilla_reproduction_required: Option<String>,
    #[serde(default)]
    troubleshooting_checklist: String,
    #[serde(default)]
    required_certified_technicians: String,
    fee_model: String,
    #[serde(default)]
    fee_percent: String,
    #[serde(default)]
    fixed_fee: String,
}

impl AgreementForm {
    /// The terms the form describes, or every field that is wrong, in words for people.
    fn parse(&self) -> Result<Agreement, backline_domain::FieldErrors> {
        let mut errors = backline_domain::FieldErrors::new();
        let customer_owner = errors.check("customer_owner", Party::parse(&self.customer_owner));
        let billing_owner = errors.check("billing_owner", Party::parse(&self.billing_owner));
        let updates_distributed_by = errors.check(
            "updates_distributed_by",
            Party::parse(&self.updates_distributed_by),
        );
        let vendor_direct_contact = errors.check(
            "vendor_direct_contact",
            VendorContact::parse(&self.vendor_direct_contact),
        );
        let fee_model = errors.check("fee_model", FeeModel::parse(&self.fee_model));
        let required = self.required_certified_technicians.trim();
        let required_certified_technicians = if required.is_empty() {
            0
        } else {
            required.parse::<u32>().unwrap_or_else(|_| {
                errors.add(
                    "required_certified_technicians",
                    "write the number of certified technicians as a whole number, such as 2",
                );
                0
            })
        };
        let fee_percent = match self.fee_percent.trim() {
            "" => None,
            text => text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .or_else(|| {
                    errors.add(
                        "fee_percent",
                        "write the percentage as a number, such as 12.5",
                    );
                    None
                }),
        };
        let (
            Some(customer_owner),
            Some(billing_owner),
            Some(updates_distributed_by),
            Some(vendor_direct_contact),
            Some(fee_model),
            true,
        ) = (
            customer_owner,
            billing_owner,
            updates_distributed_by,
            vendor_direct_contact,
            fee_model,
            errors.is_empty(),
        )
        else {
            return Err(errors);
        };
        Agreement::try_from(AgreementBody {
            customer_owner,
            billing_owner,
            troubleshooting_checklist: self
                .troubleshooting_checklist
                .lines()
                .map(str::to_string)
                .collect(),
            vanilla_reproduction_required: self.vanilla_reproduction_required.is_some(),
            customers_see_vendor_kb: self.customers_see_vendor_kb.is_some(),
            vendor_direct_contact,
            updates_distributed_by,
            required_certified_technicians,
            fee_model,
            fee_percent,
            fixed_fee: Some(self.fixed_fee.trim().to_string()).filter(|f| !f.is_empty()),
        })
    }

    fn from_terms(terms: &Agreement) -> Self {
        let checked = |on: bool| on.then(|| "1".to_string());
        AgreementForm {
            customer_owner: terms.customer_owner.as_str().into(),
            billing_owner: terms.billing_owner.as_str().into(),
            updates_distributed_by: terms.updates_distributed_by.as_str().into(),
            vendor_direct_contact: terms.vendor_direct_contact.as_str().into(),
            customers_see_vendor_kb: checked(terms.customers_see_vendor_kb),
            vanilla_reproduction_required: checked(terms.vanilla_reproduction_required),
            troubleshooting_checklist: terms.troubleshooting_checklist.join("\n"),
            required_certified_technicians: terms.required_certified_technicians.to_string(),
            fee_model: terms.fee_model.as_str().into(),
            fee_percent: format!("{}", terms.fee_percent_bp as f64 / 100.0),
            fixed_fee: format_money(terms.fixed_fee_cents),
        }
    }
}

pub async fn save_agreement(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<AgreementForm>,
) -> PageResult {
    let partner = readable_partner(&state, &who.user, &slug)
        .await
        .or_page(&who)?;
    staff_only(&who.user).or_page(&who)?;
    match form.parse() {
        Ok(terms) => {
            state
                .store
                .set_agreement(partner.id, &terms, who.user.id)
                .await
                .or_page(&who)?;
            state.partners.forget();
            Ok(Redirect::to(&format!("/partners/{slug}")).into_response())
        }
        Err(errors) => Ok(html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "Agreement",
                Some(&who),
                html! {
                    h1 { "Agreement with " (partner.name) }
                    (agreement_form(&who, &slug, &form, &errors))
                },
            ),
        )),
    }
}

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
    rule: Option<i64>,
    text: String,
    error: String,
}

impl RuleDraft {
    fn for_rule(draft: Option<&RuleDraft>, rule: Option<i64>) -> Option<&RuleDraft> {
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
                    if field == "body" {
                        sentence(message)
                    } else {
                        format!("{field}: {}", sentence(message))
                    }
                })
                .collect();
            format!("The rule was not saved. {}", list.join(" "))
        }
        ApiError::BadRequest { message, .. } => format!(
            "The rule was not saved: {}. Check the quotes, commas and brackets.",
            message.trim_end_matches('.')
        ),
        other => format!("The rule was not saved: {other}."),
    }
}

async fn render_routing(
    state: &AppState,
    who: &WebUser,
    q: &RoutingQuery,
    draft: Option<&RuleDraft>,
    status: StatusCode,
) -> PageResult {
    let who = who.clone();
    staff_only(&who.user).or_page(&who)?;
    let rules = state.store.routing_rules().await.or_page(&who)?;
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
            Some(&who),
            html! {
                h1 { "Routing rules" }
                p.num { "Rules run in order when a case is filed; the first that matches routes it, and the case records which one. " a href="/queues" { "Queues" } }
                @for (i, r) in rules.iter().enumerate() {
                    form.card.rule method="post" action=(format!("/routing/{}", r.id)) data-rule=(r.id) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        h3 { (i + 1) ". " (r.definition.name) @if !r.definition.enabled { " " span.badge { "disabled" } } }
                        @if let Some(d) = RuleDraft::for_rule(draft, Some(r.id)) {
                            div.field-error role="alert" id=(format!("rule-{}-error", r.id)) { (d.error) }
                            textarea name="definition" aria-label=(format!("Rule {}", r.id)) aria-invalid="true" aria-describedby=(format!("rule-{}-error", r.id)) { (d.text) }
                        } @else {
                            textarea name="definition" aria-label=(format!("Rule {}", r.id)) { (serde_json::to_string_pretty(&serde_json::json!({"name": r.definition.name, "enabled": r.definition.enabled, "match": r.definition.match_mode, "conditions": r.definition.conditions, "actions": r.definition.actions})).unwrap_or_default()) }
                        }
                        p { button type="submit" name="action" value="save" { "Save" } " " button type="submit" name="action" value="up" { "Move up" } " " button type="submit" name="action" value="delete" { "Delete" } }
                    }
                }
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
    staff_only(&who.user).or_page(&who)?;
    let saved = match parse_rule(&form.definition) {
        Ok(def) => partners::save_rule(&state, &who.user, None, &def).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/routing").into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::BadRequest { .. })) => {
            let draft = RuleDraft {
                rule: None,
                text: form.definition,
                error: rule_problem(&e),
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
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    let result: Result<(), ApiError> = async {
        match form.action.as_deref().unwrap_or("save") {
            "delete" => partners::delete_rule(&state, &who.user, id).await,
            "up" => {
                let mut ids: Vec<i64> = state
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
                partners::save_rule(&state, &who.user, Some(id), &def).await?;
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

pub async fn training(State(state): State<AppState>, who: WebUser) -> PageResult {
    if who.user.role == Role::Customer {
        return Err(WebError::new(ApiError::Forbidden(
            "training is for partner technicians and staff".into(),
        ))
        .for_user(&who));
    }
    let loaded = async {
        Ok::<_, ApiError>((
            state.store.courses().await?,
            state.store.attempts_of_user(who.user.id).await?,
        ))
    };
    let (courses, attempts) = loaded.await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        page(
            "Training",
            Some(&who),
            html! {
                h1 { "Training and certification" }
                @if courses.is_empty() { div.card.empty { "No courses yet." } }
                @for c in &courses {
                    @let best = attempts.iter().filter(|a| a.course_id == c.id).map(|a| (a.passed, a.score)).max();
                    div.card.course data-course=(c.id) {
                        h2 { (c.title) " " span.num { (c.product) " " (c.release) } }
                        @if !c.material.is_empty() { div.description { (c.material) } }
                        p.num { (c.questions.len()) " questions · pass mark " (c.pass_mark) "% · certificate valid " (c.validity_days) " days" }
                        @if let Some((passed, score)) = best { p { "Your best: " (score) "%" @if passed { " " span.badge.certified-badge { "passed" } } } }
                        @if who.user.role == Role::Partner { p { a.button href=(format!("/training/{}", c.id)) { "Take the test" } } }
                    }
                }
            },
        ),
    ))
}

pub async fn test_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    if who.user.role != Role::Partner {
        return Err(WebError::new(ApiError::Forbidden(
            "tests are taken by partner technicians".into(),
        ))
        .for_user(&who));
    }
    let course = match state.store.course(id).await {
        Ok(c) => c,
        Err(backline_store::StoreError::NotFound) => {
            return Err(WebError::new(ApiError::NotFound("course")).for_user(&who))
        }
        Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            &course.title,
            Some(&who),
            html! {
                h1 { "Test: " (course.title) }
                form.card #test method="post" action=(format!("/training/{}", course.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    @for (i, q) in course.questions.iter().enumerate() {
                        fieldset.question {
                            legend { (i + 1) ". " (q.text) }
                            @for (j, choice) in q.choices.iter().enumerate() {
                                label { input type="radio" name=(format!("q{i}")) value=(j); " " (choice) }
                            }
                        }
                    }
                    p { button type="submit" { "Submit answers" } }
                }
            },
        ),
    ))
}

pub async fn submit_test(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let questions = match state.store.course(id).await {
        Ok(c) => c.questions.len(),
        Err(_) => return Err(WebError::new(ApiError::NotFound("course")).for_user(&who)),
    };
    let answers: Vec<Option<usize>> = (0..questions)
        .map(|i| form.get(&format!("q{i}")).and_then(|v| v.parse().ok()))
        .collect();
    Ok(match take_test(&state, &who.user, id, &answers).await {
        Ok((attempt, course)) => {
            let partner = who
                .user
                .org
                .as_ref()
                .map(|o| o.slug.clone())
                .unwrap_or_default();
            html_response(
                StatusCode::OK,
                page(
                    "Result",
                    Some(&who),
                    html! {
                        h1 { "Your result: " span #score { (attempt.score) "%" } }
                        @if attempt.passed {
                            div.card #passed { "Passed (pass mark " (course.pass_mark) "%). Your certificate for " (course.title) " is valid for " (course.validity_days) " days." }
                        } @else {
                            div.error #failed { "Not passed: the pass mark is " (course.pass_mark) "%. Review the material and try again." }
                        }
                        p { a href="/training" { "Back to training" } " · " a href=(format!("/partners/{partner}")) { "Your partner page" } }
                    },
                ),
            )
        }
        Err(e) => return Err(WebError::new(e).for_user(&who)),
    })
}

/// The public directory of certified partners.
pub async fn directory(State(state): State<AppState>) -> Response {
    let partners = match state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await
    {
        Ok(p) => p,
        Err(e) => return WebError::from(e).into_response(),
    };
    html_response(
        StatusCode::OK,
        page(
            "Certified partners",
            None,
            html! {
                h1 { "Certified partners" }
                p.num { "Partners whose technicians hold current certificates for our products." }
                ul #directory {
                    @for p in partners.iter().filter(|p| p.certified()) {
                        li data-partner=(p.slug) {
                            strong { (p.name) } " · " (p.partner_kinds.as_slice().iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
                            @if let Some(level) = p.technical_level { " · " (level) }
                        }
                    }
                }
            },
        ),
    )
}

#[derive(Deserialize)]
pub struct EscalateForm {
    reason: String,
}

pub async fn escalate_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EscalateForm>,
) -> PageResult {
    crate::cases::service::escalate(&state, &who.user, backline_domain::CaseId(id), &form.reason)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct SwarmForm {
    skill: String,
    #[serde(default)]
    message: String,
}

pub async fn swarm_case(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwarmForm>,
) -> PageResult {
    crate::cases::service::swarm(
        &state,
        &who.user,
        backline_domain::CaseId(id),
        &form.skill,
        &form.message,
    )
    .await
    .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

/// Queues, their support model and members with skills.
pub async fn queues_page(State(state): State<AppState>, who: WebUser) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    let loaded = async {
        let mut queues = Vec::new();
        for q in state.store.queues().await? {
            let members = state.store.queue_members(q.id).await?;
            queues.push((q, members));
        }
        Ok::<_, ApiError>((queues, state.store.list_users(None, true).await?))
    };
    let (queues, staff) = loaded.await.or_page(&who)?;
    Ok(html_response(
        StatusCode::OK,
        page(
            "Queues",
            Some(&who),
            html! {
                h1 { "Queues" }
                p.num { "Tiered queues escalate level by level with a reason; swarm queues keep the owner and ask colleagues with a skill. " a href="/routing" { "Routing rules" } " send cases here." }
                @for (q, members) in &queues {
                    div.card.queue data-queue=(q.slug) {
                        h2 { (q.name) " " span.badge { (q.model) } @if let Some(tier) = q.tier { " " span.num.queue-tier { "serves L" (tier.level()) } } " " span.num { (q.slug) } }
                        ul { @for m in members { li { (m.user.name) " · " (m.active_cases) " active" @if !m.skills.is_empty() { " · skills: " (m.skills.join(", ")) } } } }
                        form.filters method="post" action=(format!("/queues/{}/members", q.slug)) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            select name="user" aria-label="Member" { @for u in &staff { option value=(u.id.0) { (u.name) } } }
                            input type="text" name="skills" placeholder="skills, comma-separated" aria-label="Skills";
                            button type="submit" { "Add or update member" }
                        }
                    }
                }
                form.card #new-queue method="post" action="/queues" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    h2 { "New queue" }
                    label for="q-slug" { "Slug" } input #q-slug type="text" name="slug" required;
                    label for="q-name" { "Name" } input #q-name type="text" name="name" required;
                    label for="q-model" { "Support model" }
                    select #q-model name="model" { @for m in backline_domain::routing::SupportModel::ALL { option value=(m.as_str()) { (m) } } }
                    label for="q-tier" { "Tier it serves (tiered queues; escalations to that tier move here)" }
                    select #q-tier name="tier" { option value="" { "none" } @for t in 1..=3 { option value=(t) { "L" (t) } } }
                    p { button type="submit" { "Create queue" } }
                }
            },
        ),
    ))
}

#[derive(Deserialize)]
pub struct QueueForm {
    slug: String,
    name: String,
    model: String,
    #[serde(default)]
    tier: String,
}

pub async fn create_queue(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<QueueForm>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    let tier = match form.tier.trim() {
        "" => Ok(None),
        t => t
            .parse::<i64>()
            .ok()
            .and_then(|t| backline_domain::Tier::new(t).ok())
            .map(Some)
            .ok_or_else(|| ApiError::validation("tier", "choose a tier from 1 to 3, or none")),
    };
    let created = match (
        backline_domain::routing::SupportModel::parse(&form.model),
        tier,
    ) {
        (Ok(model), Ok(tier)) => {
            partners::create_queue(&state, &who.user, &form.slug, &form.name, model, tier).await
        }
        (Err(e), _) => Err(ApiError::validation("model", e.0)),
        (_, Err(e)) => Err(e),
    };
    created.or_page(&who)?;
    Ok(Redirect::to("/queues").into_response())
}

#[derive(Deserialize)]
pub struct MemberForm {
    user: i64,
    #[serde(default)]
    skills: String,
}

pub async fn set_member(
    State(state): State<AppState>,
    who: WebUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> PageResult {
    staff_only(&who.user).or_page(&who)?;
    let user = backline_domain::UserId(form.user);
    partners::set_queue_member(&state, &who.user, &slug, user, form.skills.split(','))
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/queues").into_response())
}
