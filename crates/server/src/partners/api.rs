//! `/api/v1/partners`, `/api/v1/routing`, `/api/v1/queues`, `/api/v1/courses` and the case
//! escalation endpoints: the partner program.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::knowledge::api::parse_time;
use crate::partners::service::{self as partners, readable_partner, staff_only};
use crate::views::{timestamp, OrgRefView, UserRefView};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use backline_domain::partner::{
    check_questions, format_money, parse_money, score_attempt, Agreement, Alert, FeeModel, Party,
    Question, Scorecard, VendorContact,
};
use backline_domain::routing::{first_match, RoutingFacts, RuleDefinition, SupportModel};
use backline_domain::{CaseId, Channel, OrgKind, Priority, Role, UserId};
use backline_store::{NewCourse, Org, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

#[derive(Serialize)]
pub struct PartnerSummary {
    pub slug: String,
    pub name: String,
    pub kinds: Vec<backline_domain::PartnerKind>,
    pub technical_level: Option<backline_domain::TechnicalLevel>,
    pub certified: bool,
}

fn summary(o: &Org) -> PartnerSummary {
    PartnerSummary {
        slug: o.slug.clone(),
        name: o.name.clone(),
        kinds: o.partner_kinds.as_slice().to_vec(),
        technical_level: o.technical_level,
        certified: o.certified(),
    }
}

/// Partners the caller may see: staff all, a technician its own.
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", responses((status = 200, description = "Partners the caller may see", body = Object)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    let all = state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?;
    let visible: Vec<PartnerSummary> = all
        .iter()
        .filter(|o| caller.role.is_staff() || caller.org.as_ref().is_some_and(|c| c.id == o.id))
        .map(summary)
        .collect();
    Ok(axum::Json(json!({ "partners": visible })))
}

/// The public directory of certified partners: no sign-in needed.
#[utoipa::path(get, path = "/api/v1/directory", tag = "partners", responses((status = 200, description = "Certified partners; no sign-in needed", body = Object)))]
pub async fn directory(State(state): State<AppState>) -> ApiResult<axum::Json<Value>> {
    let all = state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?;
    let certified: Vec<PartnerSummary> =
        all.iter().filter(|o| o.certified()).map(summary).collect();
    Ok(axum::Json(json!({ "partners": certified })))
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), responses((status = 200, description = "Kinds, level, relationship manager, end customers, technicians", body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let customers = state.store.list_orgs(None, Some(partner.id), None).await?;
    let technicians = state.store.list_users(Some(partner.id), false).await?;
    let certificates = state.store.certificates_of_org(partner.id).await?;
    let now = backline_store::now_millis();
    let terms = state.store.agreement(partner.id).await?.terms;
    let manager = state.store.relationship_manager(partner.id).await?;
    let techs: Vec<Value> = technicians
        .iter()
        .filter(|u| u.role == Role::Partner)
        .map(|u| {
            let valid: Vec<Value> = certificates
                .iter()
                .filter(|c| c.user.id == u.id && c.expires_at > now)
                .map(|c| json!({"course_id": c.course_id, "course": c.course_title, "expires_at": timestamp(from_ms(c.expires_at))}))
                .collect();
            json!({"id": u.id, "name": u.name, "email": u.email, "certified": !valid.is_empty(), "certificates": valid})
        })
        .collect();
    Ok(axum::Json(json!({
        "slug": partner.slug, "name": partner.name,
        "kinds": partner.partner_kinds.as_slice(),
        "technical_level": partner.technical_level,
        "certified": partner.certified(),
        "required_certified_technicians": terms.required_certified_technicians,
        "relationship_manager": manager.as_ref().map(UserRefView::from),
        "end_customers": customers.iter().filter(|c| c.id != partner.id).map(|c| OrgRefView { id: c.id.0, slug: c.slug.clone(), name: c.name.clone() }).collect::<Vec<_>>(),
        "technicians": techs,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
    /// Email of a vendor staff member; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    pub relationship_manager: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/partners/{slug}", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<UpdatePartner>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)?;
    if let Some(manager) = body.relationship_manager {
        let id = match manager {
            None => None,
            Some(email) => match state.store.user_by_email(email.trim()).await {
                Ok(u) if u.role.is_staff() => Some(u.id),
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(ApiError::validation(
                        "relationship_manager",
                        "must be the email of vendor staff",
                    ))
                }
                Err(e) => return Err(e.into()),
            },
        };
        state.store.set_relationship_manager(partner.id, id).await?;
    }
    profile(State(state), Caller(caller), Path(slug)).await
}

/// The agreement as the API shows it: money in currency units, percent as a number.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    pub customer_owner: Party,
    pub billing_owner: Party,
    #[serde(default)]
    pub troubleshooting_checklist: Vec<String>,
    pub vanilla_reproduction_required: bool,
    pub customers_see_vendor_kb: bool,
    pub vendor_direct_contact: VendorContact,
    pub updates_distributed_by: Party,
    #[serde(default)]
    pub required_certified_technicians: u32,
    #[serde(default = "no_fee")]
    pub fee_model: FeeModel,
    /// For `percentage`: e.g. 15 or 12.5.
    pub fee_percent: Option<f64>,
    /// For `fixed`: the fee per period, e.g. "2500.00".
    pub fixed_fee: Option<String>,
}

fn no_fee() -> FeeModel {
    FeeModel::None
}

fn agreement_json(terms: &Agreement, stored: &backline_store::StoredAgreement) -> Value {
    json!({
        "customer_owner": terms.customer_owner, "billing_owner": terms.billing_owner,
        "troubleshooting_checklist": terms.troubleshooting_checklist,
        "vanilla_reproduction_required": terms.vanilla_reproduction_required,
        "customers_see_vendor_kb": terms.customers_see_vendor_kb,
        "vendor_direct_contact": terms.vendor_direct_contact,
        "updates_distributed_by": terms.updates_distributed_by,
        "required_certified_technicians": terms.required_certified_technicians,
        "fee_model": terms.fee_model,
        "fee_percent": terms.fee_percent_bp as f64 / 100.0,
        "fixed_fee": format_money(terms.fixed_fee_cents),
        "updated_by": stored.updated_by.as_ref().map(UserRefView::from),
        "updated_at": stored.updated_at.map(timestamp),
    })
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/agreement", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn agreement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let stored = state.store.agreement(partner.id).await?;
    Ok(axum::Json(agreement_json(&stored.terms, &stored)))
}

pub fn agreement_from_body(body: AgreementBody) -> ApiResult<Agreement> {
    let mut errors = backline_domain::FieldErrors::new();
    let fee_percent_bp = match body.fee_percent {
        Some(p) if p.is_finite() => (p * 100.0).round() as i64,
        Some(_) => {
            errors.add("fee_percent", "must be a number");
            0
        }
        None => 0,
    };
    let fixed_fee_cents = match body.fixed_fee.as_deref() {
        Some(text) => errors.check("fixed_fee", parse_money(text)).unwrap_or(0),
        None => 0,
    };
    errors.into_result()?;
    Ok(Agreement {
        customer_owner: body.customer_owner,
        billing_owner: body.billing_owner,
        troubleshooting_checklist: body.troubleshooting_checklist,
        vanilla_reproduction_required: body.vanilla_reproduction_required,
        customers_see_vendor_kb: body.customers_see_vendor_kb,
        vendor_direct_contact: body.vendor_direct_contact,
        updates_distributed_by: body.updates_distributed_by,
        required_certified_technicians: body.required_certified_technicians,
        fee_model: body.fee_model,
        fee_percent_bp,
        fixed_fee_cents,
    }
    .checked()?)
}

#[utoipa::path(put, path = "/api/v1/partners/{slug}/agreement", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_agreement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<AgreementBody>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)?;
    let terms = agreement_from_body(body)?;
    let stored = state
        .store
        .set_agreement(partner.id, &terms, caller.id)
        .await?;
    state.partners.forget();
    Ok(axum::Json(agreement_json(&stored.terms, &stored)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// [from, to) in ms: defaults to the last 90 days.
pub fn period_of(q: &PeriodQuery) -> ApiResult<(i64, i64)> {
    let now = backline_store::now_millis();
    let to =
        q.to.as_deref()
            .map(|t| parse_time("to", t))
            .transpose()?
            .unwrap_or(now + 1);
    let from = q
        .from
        .as_deref()
        .map(|t| parse_time("from", t))
        .transpose()?
        .unwrap_or(to - 90 * DAY_MS);
    if from >= to {
        return Err(ApiError::bad_request(
            "invalid_query",
            "from: must be before to",
        ));
    }
    Ok((from, to))
}

fn from_ms(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/scorecard", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), params(("from" = Option<String>, Query), ("to" = Option<String>, Query)), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn scorecard(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let (from, to) = period_of(&q)?;
    let card = partners::partner_scorecard(&state.store, &partner, from, to).await?;
    Ok(axum::Json(json!({
        "partner": partner.slug, "from": timestamp(from_ms(from)), "to": timestamp(from_ms(to)),
        "scorecard": card,
    })))
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/alerts", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)
        .map_err(|_| ApiError::Forbidden("alerts are for the relationship manager".into()))?;
    let alerts: Vec<Alert> = partners::partner_alerts(&state.store, &partner).await?;
    Ok(axum::Json(
        json!({ "partner": partner.slug, "alerts": alerts }),
    ))
}

/// Staff only: every partner's scorecard for the period, ranked by the share of invalid
/// escalations (lowest first), then by escalations per end customer.
#[utoipa::path(get, path = "/api/v1/partner-comparison", tag = "partners", params(("from" = Option<String>, Query), ("to" = Option<String>, Query)), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn compare(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let (from, to) = period_of(&q)?;
    let rows = ranked_scorecards(&state, from, to).await?;
    Ok(axum::Json(json!({
        "from": timestamp(from_ms(from)), "to": timestamp(from_ms(to)),
        "partners": rows.iter().map(|(o, c)| json!({"partner": summary(o), "scorecard": c})).collect::<Vec<_>>(),
    })))
}

pub async fn ranked_scorecards(
    state: &AppState,
    from: i64,
    to: i64,
) -> ApiResult<Vec<(Org, Scorecard)>> {
    let mut rows = Vec::new();
    for partner in state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?
    {
        let card = partners::partner_scorecard(&state.store, &partner, from, to).await?;
        rows.push((partner, card));
    }
    rows.sort_by(|(a, x), (b, y)| {
        let key = |c: &Scorecard| {
            (
                c.invalid_escalation_share.unwrap_or(0.0),
                c.escalations_per_end_customer.unwrap_or(0.0),
            )
        };
        key(x)
            .partial_cmp(&key(y))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.slug.cmp(&b.slug))
    });
    Ok(rows)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeBody {
    /// `2026-10` or `2026-Q3`.
    pub period: String,
    /// Support fees collected in the period, e.g. "12345.67".
    pub fees: String,
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/fees", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn fees(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let reports = state.store.fee_reports(partner.id).await?;
    Ok(axum::Json(json!({
        "reports": reports.iter().map(|r| json!({
            "id": r.id, "period": r.period, "fees": format_money(r.fees_cents),
            "reported_by": UserRefView::from(&r.reported_by), "reported_at": timestamp(r.reported_at),
        })).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(post, path = "/api/v1/partners/{slug}/fees", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), request_body = Object, responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn report_fees(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<FeeBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let r = partners::report_fees(&state, &caller, &partner, &body.period, &body.fees).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"id": r.id, "period": r.period, "fees": format_money(r.fees_cents),
            "reported_by": UserRefView::from(&r.reported_by), "reported_at": timestamp(r.reported_at)}),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// One period or several separated by commas: `2026-Q3,2026-Q4`.
    pub periods: String,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/statements", tag = "partners", params(("slug" = String, Path, description = "The partner's slug")), params(("periods" = String, Query, description = "e.g. 2026-Q3,2026-10"), ("format" = Option<String>, Query, description = "json or csv")), responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn statements(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let periods: Vec<&str> = q
        .periods
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(40)
        .collect();
    let rows = partners::partner_statements(&state.store, &partner, &periods).await?;
    match q.format.as_deref().unwrap_or("json") {
        "csv" => {
            let mut out = String::from(
                "partner,period,reported_fees,amount_due,escalations,escalations_per_1000_fees\n",
            );
            for (period, s) in &rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    partner.slug,
                    period,
                    s.reported_fees_cents.map(format_money).unwrap_or_default(),
                    format_money(s.amount_due_cents),
                    s.escalations,
                    s.escalations_per_1000_fees
                        .map(|r| format!("{r:.3}"))
                        .unwrap_or_default()
                ));
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}-statements.csv\"", partner.slug),
                    ),
                ],
                out,
            )
                .into_response())
        }
        "json" => Ok(axum::Json(json!({
            "partner": partner.slug,
            "statements": rows.iter().map(|(period, s)| json!({
                "period": period,
                "reported_fees": s.reported_fees_cents.map(format_money),
                "amount_due": format_money(s.amount_due_cents),
                "escalations": s.escalations,
                "escalations_per_1000_fees": s.escalations_per_1000_fees,
            })).collect::<Vec<_>>(),
        }))
        .into_response()),
        other => Err(ApiError::bad_request(
            "invalid_query",
            format!("format: expected json or csv, not {other:?}"),
        )),
    }
}

fn rule_json(r: &backline_store::RoutingRule) -> Value {
    json!({"id": r.id, "position": r.position, "name": r.definition.name, "enabled": r.definition.enabled,
           "match": r.definition.match_mode, "conditions": r.definition.conditions, "actions": r.definition.actions})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(rename = "match", default = "all")]
    pub match_mode: backline_domain::routing::MatchMode,
    pub conditions: Vec<backline_domain::routing::Condition>,
    pub actions: backline_domain::routing::Actions,
}

fn yes() -> bool {
    true
}
fn all() -> backline_domain::routing::MatchMode {
    backline_domain::routing::MatchMode::All
}

impl RuleBody {
    pub fn definition(self) -> ApiResult<RuleDefinition> {
        Ok(RuleDefinition {
            name: self.name,
            enabled: self.enabled,
            match_mode: self.match_mode,
            conditions: self.conditions,
            actions: self.actions,
        }
        .checked()?)
    }
}

#[utoipa::path(get, path = "/api/v1/routing/rules", tag = "routing", responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rules(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let rules = state.store.routing_rules().await?;
    Ok(axum::Json(
        json!({ "rules": rules.iter().map(rule_json).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(post, path = "/api/v1/routing/rules", tag = "routing", request_body = Object, responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<RuleBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    staff_only(&caller)?;
    let def = body.definition()?;
    let rule = partners::save_rule(&state, &caller, None, &def).await?;
    Ok((StatusCode::CREATED, axum::Json(rule_json(&rule))))
}

#[utoipa::path(put, path = "/api/v1/routing/rules/{id}", tag = "routing", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<RuleBody>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let def = body.definition()?;
    let rule = partners::save_rule(&state, &caller, Some(id), &def).await?;
    Ok(axum::Json(rule_json(&rule)))
}

#[utoipa::path(delete, path = "/api/v1/routing/rules/{id}", tag = "routing", params(("id" = i64, Path)), responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    partners::delete_rule(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/routing/order", tag = "routing", request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn order_rules(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<OrderBody>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let existing: std::collections::BTreeSet<i64> = state
        .store
        .routing_rules()
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let given: std::collections::BTreeSet<i64> = body.ids.iter().copied().collect();
    if given != existing || given.len() != body.ids.len() {
        return Err(ApiError::validation(
            "ids",
            "list every rule id exactly once",
        ));
    }
    state.store.reorder_rules(&body.ids).await?;
    state.partners.forget();
    rules(State(state), Caller(caller)).await
}

/// A case as routing would see it, to try the rules without filing anything.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTest {
    #[serde(default = "customer")]
    pub requester_org_kind: OrgKind,
    #[serde(default)]
    pub partner_kinds: Vec<backline_domain::PartnerKind>,
    pub technical_level: Option<backline_domain::TechnicalLevel>,
    #[serde(default)]
    pub certified: bool,
    #[serde(default)]
    pub has_partner: bool,
    pub product: Option<String>,
    #[serde(default = "normal")]
    pub priority: Priority,
    #[serde(default = "web")]
    pub channel: Channel,
    #[serde(default)]
    pub text: String,
}

fn customer() -> OrgKind {
    OrgKind::Customer
}
fn normal() -> Priority {
    Priority::Normal
}
fn web() -> Channel {
    Channel::Web
}

#[utoipa::path(post, path = "/api/v1/routing/test", tag = "routing", request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn test_rules(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<RouteTest>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let facts = RoutingFacts {
        requester_org_kind: body.requester_org_kind,
        partner_kinds: body.partner_kinds,
        technical_level: body.technical_level,
        certified: body.certified,
        has_partner: body.has_partner,
        product: body.product,
        priority: body.priority,
        channel: body.channel,
        text: body.text,
    };
    let rules = state.store.routing_rules().await?;
    let pairs: Vec<(i64, RuleDefinition)> =
        rules.iter().map(|r| (r.id, r.definition.clone())).collect();
    Ok(axum::Json(match first_match(&pairs, &facts) {
        Some((id, rule)) => {
            json!({"matched": true, "rule_id": id, "rule": rule.name, "actions": rule.actions})
        }
        None => json!({"matched": false}),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueBody {
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
    /// Tiered queues only: the tier the queue serves; escalating a case to it moves it here.
    pub tier: Option<backline_domain::Tier>,
}

#[utoipa::path(get, path = "/api/v1/queues", tag = "routing", responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn queues(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let mut out = Vec::new();
    for q in state.store.queues().await? {
        let members = state.store.queue_members(q.id).await?;
        out.push(json!({"slug": q.slug, "name": q.name, "model": q.model, "tier": q.tier,
            "members": members.iter().map(|m| json!({"user": UserRefView::from(&m.user), "skills": m.skills, "active_cases": m.active_cases})).collect::<Vec<_>>()}));
    }
    Ok(axum::Json(json!({ "queues": out })))
}

#[utoipa::path(post, path = "/api/v1/queues", tag = "routing", request_body = Object, responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_queue(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<QueueBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let q = partners::create_tiered_queue(
        &state, &caller, &body.slug, &body.name, body.model, body.tier,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"slug": q.slug, "name": q.name, "model": q.model, "tier": q.tier})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    #[serde(default)]
    pub skills: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/queues/{slug}/members/{user}", tag = "routing", params(("slug" = String, Path), ("user" = i64, Path)), request_body = Object, responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((slug, user)): Path<(String, i64)>,
    Json(body): Json<MemberBody>,
) -> ApiResult<StatusCode> {
    partners::set_queue_member(
        &state,
        &caller,
        &slug,
        UserId(user),
        body.skills.iter().map(String::as_str),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub reason: String,
}

/// Tiered support: move the case up one tier, with a reason, recorded as an event.
#[utoipa::path(post, path = "/api/v1/cases/{id}/escalate", tag = "routing", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = crate::cases::views::CaseView), (status = 409, body = crate::error::ErrorBody), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<EscalateBody>,
) -> ApiResult<axum::Json<crate::cases::views::CaseView>> {
    let updated = partners::escalate(&state, &caller, CaseId(id), &body.reason).await?;
    Ok(axum::Json(crate::cases::views::CaseView::from(&updated)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmBody {
    pub skill: String,
    pub message: String,
}

/// Swarming: the owner asks the queue's members with a skill for help; ownership stays.
#[utoipa::path(post, path = "/api/v1/cases/{id}/swarm", tag = "routing", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn swarm(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<SwarmBody>,
) -> ApiResult<axum::Json<Value>> {
    let (case, helpers) =
        partners::swarm(&state, &caller, CaseId(id), &body.skill, &body.message).await?;
    let names: Vec<Value> = helpers
        .iter()
        .map(|u| json!({"id": u.id, "name": u.name}))
        .collect();
    Ok(axum::Json(
        json!({"case": case.id, "owner": case.assignee.as_ref().map(UserRefView::from), "asked": names}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseBody {
    pub product: String,
    pub release: String,
    pub title: String,
    #[serde(default)]
    pub material: String,
    pub questions: Vec<Question>,
    pub pass_mark: u32,
    #[serde(default = "year")]
    pub validity_days: i64,
}

fn year() -> i64 {
    365
}

fn course_json(c: &backline_store::Course, with_answers: bool) -> Value {
    json!({"id": c.id, "product": c.product, "release": c.release, "title": c.title, "material": c.material,
        "pass_mark": c.pass_mark, "validity_days": c.validity_days,
        "questions": c.questions.iter().map(|q| if with_answers { json!(q) } else { json!({"text": q.text, "choices": q.choices}) }).collect::<Vec<_>>()})
}

#[utoipa::path(get, path = "/api/v1/courses", tag = "training", responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn courses(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    if caller.role == Role::Customer {
        return Err(ApiError::Forbidden(
            "training is for partner technicians and staff".into(),
        ));
    }
    let courses = state.store.courses().await?;
    Ok(axum::Json(
        json!({"courses": courses.iter().map(|c| course_json(c, caller.role.is_staff())).collect::<Vec<_>>()}),
    ))
}

#[utoipa::path(post, path = "/api/v1/courses", tag = "training", request_body = Object, responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_course(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CourseBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    staff_only(&caller)?;
    let mut errors = backline_domain::FieldErrors::new();
    for (field, value) in [
        ("product", &body.product),
        ("release", &body.release),
        ("title", &body.title),
    ] {
        if value.trim().is_empty() {
            errors.add(field, "is required");
        }
    }
    if let Err(e) = check_questions(&body.questions, body.pass_mark) {
        for (k, v) in e.0 {
            errors.add(&k, v);
        }
    }
    if !(1..=3650).contains(&body.validity_days) {
        errors.add("validity_days", "must be 1 to 3650");
    }
    errors.into_result()?;
    let course = state
        .store
        .create_course(&NewCourse {
            product: body.product.trim().to_lowercase(),
            release: body.release.trim().into(),
            title: body.title.trim().into(),
            material: body.material,
            questions: body.questions,
            pass_mark: body.pass_mark,
            validity_days: body.validity_days,
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(course_json(&course, true))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// For each question, the index of the chosen answer (`null` for none).
    pub answers: Vec<Option<usize>>,
}

/// A partner technician takes a course's test; a pass issues a certificate.
#[utoipa::path(post, path = "/api/v1/courses/{id}/attempts", tag = "training", params(("id" = i64, Path)), request_body = Object, responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn attempt(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<AttemptBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (outcome, course) = take_test(&state, &caller, id, &body.answers).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "course": course.id, "score": outcome.score, "passed": outcome.passed, "pass_mark": course.pass_mark,
            "certificate_expires_at": outcome.passed.then(|| timestamp(from_ms(outcome.at.unix_timestamp() * 1000 + course.validity_days * DAY_MS))),
        })),
    ))
}

/// Shared by the API and the web page.
pub async fn take_test(
    state: &AppState,
    caller: &backline_store::User,
    course: i64,
    answers: &[Option<usize>],
) -> ApiResult<(backline_store::Attempt, backline_store::Course)> {
    if caller.role != Role::Partner {
        return Err(ApiError::Forbidden(
            "tests are taken by partner technicians".into(),
        ));
    }
    let course = state.store.course(course).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("course"),
        other => other.into(),
    })?;
    if answers.len() > course.questions.len() {
        return Err(ApiError::validation(
            "answers",
            format!("the test has {} questions", course.questions.len()),
        ));
    }
    let correct: Vec<usize> = course.questions.iter().map(|q| q.correct).collect();
    let (score, passed) = score_attempt(&correct, answers, course.pass_mark);
    let attempt = state
        .store
        .record_attempt(
            &course,
            caller.id,
            caller.org.as_ref().map(|o| o.id),
            answers,
            score,
            passed,
        )
        .await?;
    Ok((attempt, course))
}
