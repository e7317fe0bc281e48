//! `/api/v1/partners`, `/api/v1/directory` and `/api/v1/partner-comparison`: partners, their
//! agreements, scorecards, alerts, fees and statements.

use crate::auth::{Caller, Staff};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{etag, period, IfMatch, Json, Path, Query};
use crate::partners::service::{self as partners, readable_partner, staff_only, AgreementBody};
use crate::partners::views::{
    AgreementView, AlertView, ComparedPartner, Comparison, FeeReportList, FeeReportView,
    PartnerAlerts, PartnerList, PartnerProfile, PartnerSummary, ProfileParts, ScorecardReport,
    ScorecardView, StatementList, StatementView,
};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use backline_domain::partner::{format_money, Agreement, Statement};
use backline_domain::{OrgKind, Timestamp};
use backline_store::{Org, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Partners the caller may see: staff all, a technician its own.
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners",
    responses((status = 200, description = "Partners the caller may see", body = PartnerList),
              (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<PartnerList>> {
    let all = state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?;
    Ok(axum::Json(
        all.iter()
            .filter(|o| caller.role.is_staff() || caller.org.as_ref().is_some_and(|c| c.id == o.id))
            .collect(),
    ))
}

/// The public directory of certified partners: no sign-in needed.
#[utoipa::path(get, path = "/api/v1/directory", tag = "partners",
    responses((status = 200, description = "Certified partners; no sign-in needed", body = PartnerList)))]
pub async fn directory(State(state): State<AppState>) -> ApiResult<axum::Json<PartnerList>> {
    let all = state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?;
    Ok(axum::Json(all.iter().filter(|o| o.certified()).collect()))
}

async fn read_profile(state: &AppState, partner: &Org) -> ApiResult<PartnerProfile> {
    let customers = state.store.list_orgs(None, Some(partner.id), None).await?;
    let users = state.store.list_users(Some(partner.id), false).await?;
    let certificates = state.store.certificates_of_org(partner.id).await?;
    let terms = state.store.agreement(partner.id).await?.terms;
    let manager = state.store.relationship_manager(partner.id).await?;
    Ok(PartnerProfile::from(ProfileParts {
        partner,
        required_certified_technicians: terms.required_certified_technicians,
        manager: manager.as_ref(),
        customers: &customers,
        users: &users,
        certificates: &certificates,
        now: Timestamp::now(),
    }))
}

/// Staff: any partner; a partner technician: its own (anything else is 404).
#[utoipa::path(get, path = "/api/v1/partners/{slug}", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug")),
    responses((status = 200, description = "Kinds, level, relationship manager, end customers, technicians", body = PartnerProfile,
                headers(("ETag" = String, description = "The partner organisation's version, for `If-Match` on a change"))),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    Ok((
        etag(partner.version),
        axum::Json(read_profile(&state, &partner).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
    /// Email of a vendor staff member; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub relationship_manager: Option<Option<String>>,
}

/// Staff only: sets or clears the relationship manager.
#[utoipa::path(patch, path = "/api/v1/partners/{slug}", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a partner changed since answers 412 `stale` and keeps what it has")),
    request_body = UpdatePartner,
    responses((status = 200, body = PartnerProfile, headers(("ETag" = String, description = "The partner organisation's new version"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    IfMatch(expected): IfMatch,
    Json(body): Json<UpdatePartner>,
) -> ApiResult<impl IntoResponse> {
    // A technician asking about another partner learns nothing: 404 before the role's 403.
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)?;
    match body.relationship_manager {
        Some(manager) => {
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
            state
                .store
                .set_relationship_manager(partner.id, id, expected)
                .await?;
        }
        // Nothing to change: still, a change prepared against an older version says so.
        None => {
            if expected.is_some_and(|v| v != partner.version) {
                return Err(StoreError::Stale {
                    current: partner.version,
                }
                .into());
            }
        }
    }
    let partner = state.store.org(partner.id).await?;
    Ok((
        etag(partner.version),
        axum::Json(read_profile(&state, &partner).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/agreement", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug")),
    responses((status = 200, body = AgreementView, headers(("ETag" = String, description = "The agreement's version (\"0\" for the default terms), for `If-Match` on a change"))),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn agreement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let stored = state.store.agreement(partner.id).await?;
    Ok((
        etag(stored.version),
        axum::Json(AgreementView::from(&stored)),
    ))
}

/// Staff only: replaces the agreement. Its escalation gate and access limits apply from the
/// next request on.
#[utoipa::path(put, path = "/api/v1/partners/{slug}/agreement", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: an agreement saved since answers 412 `stale` and keeps what it has")),
    request_body = AgreementBody,
    responses((status = 200, body = AgreementView, headers(("ETag" = String, description = "The agreement's new version"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_agreement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    IfMatch(expected): IfMatch,
    Json(body): Json<AgreementBody>,
) -> ApiResult<impl IntoResponse> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)?;
    let terms = Agreement::try_from(body)?;
    let stored = partners::save_agreement(&state, &caller, &partner, &terms, expected).await?;
    Ok((
        etag(stored.version),
        axum::Json(AgreementView::from(&stored)),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Start of the period, a date (`2026-07-01`) or RFC 3339 time; default 90 days before `to`.
    pub from: Option<String>,
    /// End of the period (exclusive); default: now, included.
    pub to: Option<String>,
}

impl PeriodQuery {
    /// `[from, to)`.
    fn range(&self) -> ApiResult<(Timestamp, Timestamp)> {
        period(
            self.from.as_deref(),
            self.to.as_deref(),
            Timestamp::now(),
            partners::RECENT_WINDOW,
        )
    }
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/scorecard", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug"), PeriodQuery),
    responses((status = 200, body = ScorecardReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn scorecard(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<axum::Json<ScorecardReport>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let (from, to) = q.range()?;
    let card = partners::partner_scorecard(&state.store, &partner, from, to).await?;
    Ok(axum::Json(ScorecardReport {
        partner: partner.slug,
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        scorecard: ScorecardView::from(&card),
    }))
}

/// Staff only: what the relationship manager should look at.
#[utoipa::path(get, path = "/api/v1/partners/{slug}/alerts", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug")),
    responses((status = 200, body = PartnerAlerts), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<PartnerAlerts>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    staff_only(&caller)
        .map_err(|_| ApiError::Forbidden("alerts are for the relationship manager".into()))?;
    let alerts = partners::partner_alerts(&state.store, &partner).await?;
    Ok(axum::Json(PartnerAlerts {
        partner: partner.slug,
        alerts: alerts.iter().map(AlertView::from).collect(),
    }))
}

/// Staff only: every partner's scorecard for the period, ranked by the share of invalid
/// escalations (lowest first), then by escalations per end customer.
#[utoipa::path(get, path = "/api/v1/partner-comparison", tag = "partners", params(PeriodQuery),
    responses((status = 200, body = Comparison), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn compare(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<axum::Json<Comparison>> {
    let (from, to) = q.range()?;
    let rows = partners::ranked_scorecards(&state, from, to).await?;
    Ok(axum::Json(Comparison {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        partners: rows
            .iter()
            .map(|(org, card)| ComparedPartner {
                partner: PartnerSummary::from(org),
                scorecard: ScorecardView::from(card),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeBody {
    /// `2026-10` or `2026-Q3`.
    pub period: String,
    /// Support fees collected in the period, e.g. "12345.67".
    pub fees: String,
}

#[utoipa::path(get, path = "/api/v1/partners/{slug}/fees", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug")),
    responses((status = 200, body = FeeReportList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn fees(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<FeeReportList>> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let reports = state.store.fee_reports(partner.id).await?;
    Ok(axum::Json(FeeReportList {
        reports: reports.iter().map(FeeReportView::from).collect(),
    }))
}

/// Reports the support fees collected in a period; a later report of the same period
/// supersedes the earlier one, which is kept.
#[utoipa::path(post, path = "/api/v1/partners/{slug}/fees", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug")), request_body = FeeBody,
    responses((status = 201, body = FeeReportView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_fees(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<FeeBody>,
) -> ApiResult<(StatusCode, axum::Json<FeeReportView>)> {
    let partner = readable_partner(&state, &caller, &slug).await?;
    let report = partners::report_fees(&state, &caller, &partner, &body.period, &body.fees).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FeeReportView::from(&report)),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// One period or several separated by commas: `2026-Q3,2026-10` (at most 40).
    pub periods: String,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn statements_csv(partner: &str, rows: &[(String, Statement)]) -> String {
    let mut out = String::from(
        "partner,period,reported_fees,amount_due,escalations,escalations_per_1000_fees\n",
    );
    for (period, s) in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            partner,
            period,
            s.reported_fees_cents.map(format_money).unwrap_or_default(),
            format_money(s.amount_due_cents),
            s.escalations,
            s.escalations_per_1000_fees
                .map(|r| format!("{r:.3}"))
                .unwrap_or_default()
        ));
    }
    out
}

/// What the partner owes for each period, as JSON or as a CSV download.
#[utoipa::path(get, path = "/api/v1/partners/{slug}/statements", tag = "partners",
    params(("slug" = String, Path, description = "The partner's slug"), StatementQuery),
    responses((status = 200, description = "One statement per period", content(
                  (StatementList = "application/json"),
                  (String = "text/csv", example = "partner,period,reported_fees,amount_due,escalations,escalations_per_1000_fees\nacme,2026-Q3,10000.00,1500.00,4,0.400\n"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-statements.csv\"", partner.slug),
                ),
            ],
            statements_csv(&partner.slug, &rows),
        )
            .into_response()),
        "json" => Ok(axum::Json(StatementList {
            statements: rows.iter().map(StatementView::from).collect(),
            partner: partner.slug,
        })
        .into_response()),
        other => Err(ApiError::bad_request(
            "invalid_query",
            format!("format: expected json or csv, not {other:?}"),
        )),
    }
}
