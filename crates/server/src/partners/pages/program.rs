//! The partner list and comparison, a partner's page with its scorecard, fee reports, and
//! the agreement editor.

use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, stale_notice, version_field, when};
use crate::partners::service::{
    self as partners, ranked_scorecards, readable_partner, staff_only, AgreementBody,
};
use crate::session::WebUser;
use crate::web::{CsrfForm, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use backline_domain::partner::{format_money, Agreement, FeeModel, Party, VendorContact};
use backline_domain::FieldErrors;
use backline_domain::Role;
use backline_domain::Timestamp;
use maud::{html, Markup};
use serde::Deserialize;

use super::*;

pub async fn partner_list(State(state): State<AppState>, who: WebUser) -> PageResult {
    if who.user.role == Role::Partner {
        if let Some(org) = &who.user.org {
            return Ok(Redirect::to(&format!("/partners/{}", org.slug)).into_response());
        }
    }
    staff_only(&who.user).or_page(&who)?;
    let now = Timestamp::now();
    let (from, to) = partners::recent_window(now);
    let rows = ranked_scorecards(&state, from, to).await.or_page(&who)?;
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
    render_partner_page(
        &state,
        &who,
        &slug,
        &FeeForm::default(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

/// The partner's page; `fee_draft` and `fee_errors` are a refused fee report, shown again.
async fn render_partner_page(
    state: &AppState,
    who: &WebUser,
    slug: &str,
    fee_draft: &FeeForm,
    fee_errors: &FieldErrors,
    status: StatusCode,
) -> PageResult {
    let (state, who) = (state.clone(), who.clone());
    let partner = readable_partner(&state, &who.user, slug)
        .await
        .or_page(&who)?;
    let staff = who.user.role.is_staff();
    let now = Timestamp::now();
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
        status,
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
                            form.filters #fees method="post" action=(format!("/partners/{}/fees", partner.slug)) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="text" name="period" placeholder="2026-Q4" aria-label="Period" required value=(fee_draft.period) aria-invalid=[fee_errors.0.contains_key("period").then_some("true")];
                                input type="text" name="fees" placeholder="12345.67" aria-label="Support fees" required value=(fee_draft.fees) aria-invalid=[fee_errors.0.contains_key("fees").then_some("true")];
                                button type="submit" { "Report fees" }
                                (field_error(fee_errors, &["period", "fees"]))
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
                                        @for c in valid { " · " span.badge { (c.course_title) " until " (when(c.expires_at)) } }
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

#[derive(Deserialize, Default)]
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
    match partners::report_fees(&state, &who.user, &partner, &form.period, &form.fees).await {
        Ok(_) => Ok(Redirect::to(&format!("/partners/{slug}#statements")).into_response()),
        // Refused for what was typed: the page again, with it and the reason by the form.
        Err(ApiError::Validation(errors)) => {
            render_partner_page(
                &state,
                &who,
                &slug,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(WebError::new(e).for_user(&who)),
    }
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
            (version_field(form.version))
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
    let stored = match state.store.agreement(partner.id).await {
        Ok(s) => s,
        Err(e) => return Err(WebError::new(e.into()).for_user(&who)),
    };
    let form = AgreementForm {
        version: Some(stored.version),
        ..AgreementForm::from_terms(&stored.terms)
    };
    Ok(html_response(
        StatusCode::OK,
        page(
            "Agreement",
            Some(&who),
            html! {
                h1 { "Agreement with " (partner.name) }
                (agreement_form(&who, &slug, &form, &backline_domain::FieldErrors::new()))
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
    /// The agreement's version the form was drawn from (0: the default terms).
    #[serde(default)]
    version: Option<i64>,
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
            version: None,
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
            match partners::save_agreement(&state, &who.user, &partner, &terms, form.version).await
            {
                Ok(_) => Ok(Redirect::to(&format!("/partners/{slug}")).into_response()),
                Err(ApiError::Stale(_)) => {
                    // Someone saved the agreement after this form was drawn: nothing is
                    // overwritten; the terms as they are now are shown beside what was typed,
                    // which now carries the current version.
                    let current = state.store.agreement(partner.id).await.or_page(&who)?;
                    let form = AgreementForm {
                        version: Some(current.version),
                        ..form
                    };
                    let now = AgreementForm::from_terms(&current.terms);
                    Ok(html_response(
                        StatusCode::CONFLICT,
                        page(
                            "Agreement",
                            Some(&who),
                            html! {
                                h1 { "Agreement with " (partner.name) }
                                (stale_notice("agreement"))
                                details open {
                                    summary { "The agreement as it is now" }
                                    dl {
                                        dt { "Customer owner" } dd { (now.customer_owner) }
                                        dt { "Billing owner" } dd { (now.billing_owner) }
                                        dt { "Updates distributed by" } dd { (now.updates_distributed_by) }
                                        dt { "Vendor direct contact" } dd { (now.vendor_direct_contact) }
                                        dt { "Certified technicians required" } dd { (now.required_certified_technicians) }
                                        dt { "Fee model" } dd { (now.fee_model) " " (now.fee_percent) "% " (now.fixed_fee) }
                                        dt { "Troubleshooting checklist" } dd { pre { (now.troubleshooting_checklist) } }
                                    }
                                }
                                (agreement_form(&who, &slug, &form, &backline_domain::FieldErrors::new()))
                            },
                        ),
                    ))
                }
                Err(e) => Err(WebError::new(e).for_user(&who)),
            }
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
