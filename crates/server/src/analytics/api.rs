//! `/api/v1/categories`, a case's category and suggestion, and `/api/v1/analytics/...`: every
//! figure on the Insights page, as JSON.

use super::service::{
    self, BacklogReport, CaseCategoryView, CategoryNode, CategorySubmission, DeflectionReport,
    DriversReport, FilterInput, Filters, ModelStatus, OutcomeReport, TimesBy, TimesRow,
    VolumeReport, OUTCOMES,
};
use crate::auth::Staff;
use crate::error::ApiResult;
use crate::extract::{etag, IfMatch, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::analytics::Durations;
use backline_domain::{CaseId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Error = crate::error::ErrorBody;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    /// 1 to 60 characters; unique among its siblings.
    pub name: String,
    /// The category it sits under; `null` for the top level.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    /// Names from the top, joined by ` › `.
    pub path: String,
    /// 0 at the top.
    pub depth: usize,
    pub retired: bool,
    pub updated_at: String,
    /// Moves on with every rename, move, retirement or restoration; also the `ETag`, for
    /// `If-Match` on a change.
    pub version: i64,
}

impl From<CategoryNode> for CategoryView {
    fn from(n: CategoryNode) -> Self {
        CategoryView {
            id: n.category.id,
            parent_id: n.category.parent_id,
            name: n.category.name,
            path: n.path,
            depth: n.depth,
            retired: n.category.retired_at.is_some(),
            updated_at: n.category.updated_at.to_rfc3339(),
            version: n.category.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    /// The tree in reading order: each category followed by those under it.
    pub categories: Vec<CategoryView>,
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "analytics",
    responses((status = 200, body = CategoryList), (status = 403, body = Error)))]
pub async fn list_categories(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<CategoryList>> {
    let nodes = service::categories(&state.store, &caller).await?;
    Ok(axum::Json(CategoryList {
        categories: nodes.into_iter().map(CategoryView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "analytics", request_body = CategoryBody,
    responses((status = 201, body = CategoryView), (status = 403, body = Error), (status = 422, body = Error)))]
pub async fn create_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Json(body): Json<CategoryBody>,
) -> ApiResult<(StatusCode, axum::Json<CategoryView>)> {
    let submission = CategorySubmission {
        name: body.name,
        parent_id: body.parent_id,
    };
    let saved = service::save_category(&state.store, &caller, None, &submission, None).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/categories/{id}", tag = "analytics", params(("id" = i64, Path)),
    responses((status = 200, body = CategoryView, headers(("ETag" = String, description = "The category's version, for `If-Match` on a change"))),
              (status = 403, body = Error), (status = 404, body = Error)))]
pub async fn read_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let node = service::read_category(&state.store, &caller, id).await?;
    Ok((
        etag(node.category.version),
        axum::Json(CategoryView::from(node)),
    ))
}

#[utoipa::path(put, path = "/api/v1/categories/{id}", tag = "analytics",
    params(("id" = i64, Path),
           ("If-Match" = Option<String>, Header, description = "The ETag the change was made against: a category changed since answers 412 `stale` and keeps what it has")),
    request_body = CategoryBody,
    responses((status = 200, body = CategoryView, headers(("ETag" = String, description = "The category's new version"))),
              (status = 400, body = Error), (status = 403, body = Error), (status = 404, body = Error),
              (status = 412, body = Error), (status = 422, body = Error)))]
pub async fn replace_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(body): Json<CategoryBody>,
) -> ApiResult<impl IntoResponse> {
    let submission = CategorySubmission {
        name: body.name,
        parent_id: body.parent_id,
    };
    let saved =
        service::save_category(&state.store, &caller, Some(id), &submission, expected).await?;
    Ok((
        etag(saved.category.version),
        axum::Json(CategoryView::from(saved)),
    ))
}

#[utoipa::path(post, path = "/api/v1/categories/{id}/retire", tag = "analytics", params(("id" = i64, Path)),
    responses((status = 200, body = CategoryView), (status = 403, body = Error), (status = 404, body = Error)))]
pub async fn retire_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CategoryView>> {
    let saved = service::retire_category(&state.store, &caller, id, true).await?;
    Ok(axum::Json(saved.into()))
}

#[utoipa::path(post, path = "/api/v1/categories/{id}/restore", tag = "analytics", params(("id" = i64, Path)),
    responses((status = 200, body = CategoryView), (status = 403, body = Error), (status = 404, body = Error)))]
pub async fn restore_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CategoryView>> {
    let saved = service::retire_category(&state.store, &caller, id, false).await?;
    Ok(axum::Json(saved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    /// When this node's categoriser was fitted; `null` before it has enough categorised
    /// cases (10) to learn from.
    pub fitted_at: Option<String>,
    pub examples: usize,
    pub categories: usize,
    /// Suggestions below this confidence (0 to 1) say "uncategorised".
    pub threshold: Option<f64>,
    pub training_ms: Option<u64>,
    /// Categories given or changed since the fit; it learns again at 25.
    pub new_labels: i64,
    /// The `requested_at` of the newest request to learn again that this fit answers: every
    /// category given before that request is in it. `null` when no request preceded it.
    pub answers_request: Option<String>,
}

impl From<ModelStatus> for ModelView {
    fn from(s: ModelStatus) -> Self {
        ModelView {
            fitted_at: s.fitted_at.map(Timestamp::to_rfc3339),
            examples: s.examples,
            categories: s.categories,
            threshold: s.threshold,
            training_ms: s.took.map(|t| t.as_millis() as u64),
            new_labels: s.new_labels,
            answers_request: s.answers_request,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/categories/model", tag = "analytics",
    responses((status = 200, body = ModelView), (status = 403, body = Error)))]
pub async fn model(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<axum::Json<ModelView>> {
    Ok(axum::Json(
        service::model_status(&state, &caller).await?.into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetrainView {
    /// When the request was made; each node learns again at its next round.
    pub requested_at: String,
}

#[utoipa::path(post, path = "/api/v1/categories/model/retrain", tag = "analytics",
    responses((status = 202, body = RetrainView), (status = 403, body = Error)))]
pub async fn retrain(
    State(state): State<AppState>,
    Staff(caller): Staff,
) -> ApiResult<(StatusCode, axum::Json<RetrainView>)> {
    let at = service::request_retrain(&state.store, &caller).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(RetrainView {
            requested_at: at.to_rfc3339(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    /// The suggested category; `null` means "uncategorised": not confident enough to name one.
    pub category: Option<CategoryView>,
    /// 0 to 1.
    pub confidence: f64,
    pub suggested_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseCategoryApiView {
    pub case_id: i64,
    pub category: Option<CategoryView>,
    pub categorized_at: Option<String>,
    pub categorized_by: Option<i64>,
    /// `null` until the categoriser has looked at the case.
    pub suggestion: Option<SuggestionView>,
}

impl From<CaseCategoryView> for CaseCategoryApiView {
    fn from(v: CaseCategoryView) -> Self {
        let s = &v.stored;
        CaseCategoryApiView {
            case_id: s.case_id.0,
            categorized_at: s.categorized_at.map(Timestamp::to_rfc3339),
            categorized_by: s.categorized_by.map(|u| u.0),
            suggestion: s.suggested_at.map(|at| SuggestionView {
                category: v.suggestion.clone().map(CategoryView::from),
                confidence: s.suggestion_confidence.unwrap_or(0) as f64 / 10_000.0,
                suggested_at: at.to_rfc3339(),
            }),
            category: v.category.map(CategoryView::from),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/category", tag = "analytics", params(("id" = i64, Path)),
    responses((status = 200, body = CaseCategoryApiView), (status = 403, body = Error), (status = 404, body = Error)))]
pub async fn case_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseCategoryApiView>> {
    let view = service::case_category(&state.store, &caller, CaseId(id)).await?;
    Ok(axum::Json(view.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCategoryBody {
    /// The category to give the case (confirming or correcting the suggestion); `null`
    /// clears it.
    pub category_id: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/category", tag = "analytics", params(("id" = i64, Path)),
    request_body = SetCategoryBody,
    responses((status = 200, body = CaseCategoryApiView), (status = 403, body = Error), (status = 404, body = Error),
              (status = 422, body = Error)))]
pub async fn set_case_category(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Json(body): Json<SetCategoryBody>,
) -> ApiResult<axum::Json<CaseCategoryApiView>> {
    let view =
        service::set_case_category(&state.store, &caller, CaseId(id), body.category_id).await?;
    Ok(axum::Json(view.into()))
}

// ---------------------------------------------------------------------------------------
// Dashboards

/// The period and filters every dashboard answered for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub from: String,
    pub to: String,
    /// `day` or `week`.
    pub bucket: String,
}

impl From<&Filters> for PeriodView {
    fn from(f: &Filters) -> Self {
        PeriodView {
            from: f.from.to_rfc3339(),
            to: f.to.to_rfc3339(),
            bucket: f.bucket.as_str().into(),
        }
    }
}

pub(super) async fn filters(state: &AppState, input: &FilterInput) -> ApiResult<Filters> {
    service::resolve_filters(&state.store, input, Timestamp::now()).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesView {
    /// What people read: a category's path, an organisation's name...
    pub key: String,
    /// The id behind the key where there is one (category, partner, organisation, queue, tier).
    pub id: Option<i64>,
    /// Cases per bucket, in the order of `buckets`.
    pub counts: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeView {
    pub period: PeriodView,
    /// `category`, `product`, `partner`, `channel`, `organization`, `tier` or `queue`.
    pub by: String,
    /// Each bucket's start.
    pub buckets: Vec<String>,
    /// Largest first.
    pub series: Vec<SeriesView>,
    pub totals: Vec<i64>,
    pub total: i64,
}

pub(super) fn volume_view(filters: &Filters, by: &str, r: VolumeReport) -> VolumeView {
    VolumeView {
        period: filters.into(),
        by: by.to_string(),
        buckets: r.buckets.iter().map(|b| b.to_rfc3339()).collect(),
        series: r
            .series
            .into_iter()
            .map(|s| SeriesView {
                key: s.key,
                id: s.id,
                counts: s.counts,
                total: s.total,
            })
            .collect(),
        totals: r.totals,
        total: r.total,
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/volume", tag = "analytics", params(FilterInput),
    responses((status = 200, body = VolumeView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn volume(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<VolumeView>> {
    let by = input.by.clone().unwrap_or_else(|| "category".into());
    let dimension = service::dimension(&by)?;
    let filters = filters(&state, &input).await?;
    let report = service::volume(&state.store, &caller, dimension, &filters).await?;
    Ok(axum::Json(volume_view(&filters, &by, report)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriverView {
    /// `null`: cases without a category.
    pub category_id: Option<i64>,
    pub category: String,
    pub cases: i64,
    /// Cases in the period of the same length just before.
    pub previous: i64,
    pub change: i64,
    /// Growth over the previous period in basis points; `null` when it had none.
    pub growth_bp: Option<i64>,
    /// Share of the period's cases in basis points.
    pub share_bp: i64,
    /// Cases per bucket gained (or lost) per bucket across the period: the least-squares slope.
    pub trend: f64,
    /// A validated article answers cases of this category. Without one, write one.
    pub has_validated_article: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriversView {
    pub period: PeriodView,
    pub previous_from: String,
    pub total: i64,
    /// Most cases gained first.
    pub drivers: Vec<DriverView>,
}

pub(super) fn drivers_view(filters: &Filters, r: DriversReport) -> DriversView {
    DriversView {
        period: filters.into(),
        previous_from: r.previous_from.to_rfc3339(),
        total: r.total,
        drivers: r
            .drivers
            .into_iter()
            .map(|d| DriverView {
                category_id: d.category_id,
                category: d.category,
                cases: d.current,
                previous: d.previous,
                change: d.change,
                growth_bp: d.growth_bp,
                share_bp: d.share_bp,
                trend: (d.trend * 1000.0).round() / 1000.0,
                has_validated_article: d.has_validated_article,
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/drivers", tag = "analytics", params(FilterInput),
    responses((status = 200, body = DriversView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn drivers(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<DriversView>> {
    let filters = filters(&state, &input).await?;
    let report = service::drivers(&state.store, &caller, &filters).await?;
    Ok(axum::Json(drivers_view(&filters, report)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogStatusView {
    pub status: String,
    /// Per age band, in the order of `bands`.
    pub counts: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogView {
    pub at: String,
    pub bands: Vec<String>,
    pub statuses: Vec<BacklogStatusView>,
    pub totals: Vec<i64>,
    pub total: i64,
}

pub(super) fn backlog_view(r: BacklogReport) -> BacklogView {
    BacklogView {
        at: r.at.to_rfc3339(),
        bands: r.bands,
        statuses: r
            .statuses
            .into_iter()
            .map(|(status, counts)| BacklogStatusView { status, counts })
            .collect(),
        totals: r.totals,
        total: r.total,
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/backlog", tag = "analytics", params(FilterInput),
    responses((status = 200, body = BacklogView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn backlog(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<BacklogView>> {
    let filters = filters(&state, &input).await?;
    let report = service::backlog(&state.store, &caller, &filters, Timestamp::now()).await?;
    Ok(axum::Json(backlog_view(report)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DurationsView {
    /// Cases with this time (replied to, solved).
    pub cases: usize,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
}

fn minutes(ms: Option<i64>) -> Option<f64> {
    ms.map(|ms| (ms as f64 / 60_000.0 * 10.0).round() / 10.0)
}

impl From<Durations> for DurationsView {
    fn from(d: Durations) -> Self {
        DurationsView {
            cases: d.count,
            median_minutes: minutes(d.median_ms),
            p90_minutes: minutes(d.p90_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesRowView {
    pub key: String,
    pub cases: i64,
    pub first_reply: DurationsView,
    pub resolution: DurationsView,
    /// Escalations, queue moves and reassignments per case.
    pub handoffs_per_case: f64,
    /// Reopened cases / cases solved at least once, in basis points.
    pub reopen_rate_bp: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesView {
    pub period: PeriodView,
    /// `tier`, `queue`, `partner` or `model` (tiered against swarming queues).
    pub by: String,
    pub rows: Vec<TimesRowView>,
}

pub(super) fn times_view(filters: &Filters, by: TimesBy, rows: Vec<TimesRow>) -> TimesView {
    TimesView {
        period: filters.into(),
        by: by.as_str().into(),
        rows: rows
            .into_iter()
            .map(|r| TimesRowView {
                key: r.key,
                cases: r.cases,
                first_reply: r.first_reply.into(),
                resolution: r.resolution.into(),
                handoffs_per_case: r.handoffs_per_case_x100 as f64 / 100.0,
                reopen_rate_bp: r.reopen_rate_bp,
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/times", tag = "analytics", params(FilterInput),
    responses((status = 200, body = TimesView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn times(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<TimesView>> {
    let by = TimesBy::parse(input.by.as_deref().unwrap_or("tier"))?;
    let filters = filters(&state, &input).await?;
    let rows = service::times(&state.store, &caller, by, &filters).await?;
    Ok(axum::Json(times_view(&filters, by, rows)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeBucketView {
    pub bucket: String,
    pub known: i64,
    pub new: i64,
    pub invalid_escalation: i64,
    pub unknown: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomesView {
    pub period: PeriodView,
    /// Solved cases by the bucket they were solved in.
    pub buckets: Vec<OutcomeBucketView>,
    pub total: OutcomeBucketView,
    /// Shares of all solved cases in the period, in basis points, in the order known, new,
    /// invalid_escalation, unknown.
    pub shares_bp: Vec<Option<i64>>,
}

pub(super) fn outcomes_view(filters: &Filters, r: OutcomeReport) -> OutcomesView {
    let row = |bucket: String, c: [i64; 4]| OutcomeBucketView {
        bucket,
        known: c[0],
        new: c[1],
        invalid_escalation: c[2],
        unknown: c[3],
    };
    let all: i64 = r.totals.iter().sum();
    debug_assert_eq!(OUTCOMES.len(), 4);
    OutcomesView {
        period: filters.into(),
        buckets: r
            .buckets
            .iter()
            .zip(&r.counts)
            .map(|(b, c)| row(b.to_rfc3339(), *c))
            .collect(),
        shares_bp: r
            .totals
            .iter()
            .map(|n| backline_domain::analytics::share_bp(*n, all))
            .collect(),
        total: row("total".into(), r.totals),
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/outcomes", tag = "analytics", params(FilterInput),
    responses((status = 200, body = OutcomesView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn outcomes(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<OutcomesView>> {
    let filters = filters(&state, &input).await?;
    let report = service::outcomes(&state.store, &caller, &filters).await?;
    Ok(axum::Json(outcomes_view(&filters, report)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelfServiceView {
    pub period: PeriodView,
    pub forms: i64,
    pub shown_suggestions: i64,
    pub opened_suggestion: i64,
    pub filed_after_opening: i64,
    pub deflected: i64,
    /// deflected / forms shown suggestions, in basis points.
    pub deflection_rate_bp: Option<i64>,
}

pub(super) fn deflection_view(filters: &Filters, d: DeflectionReport) -> SelfServiceView {
    SelfServiceView {
        period: filters.into(),
        forms: d.forms,
        shown_suggestions: d.shown_suggestions,
        opened_suggestion: d.opened,
        filed_after_opening: d.filed_after_opening,
        deflected: d.deflected,
        deflection_rate_bp: d.rate_bp,
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/deflection", tag = "analytics", params(FilterInput),
    responses((status = 200, body = SelfServiceView), (status = 400, body = Error), (status = 403, body = Error)))]
pub async fn deflection(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(input): Query<FilterInput>,
) -> ApiResult<axum::Json<SelfServiceView>> {
    let filters = filters(&state, &input).await?;
    let report = service::deflection(&state.store, &caller, &filters, Timestamp::now()).await?;
    Ok(axum::Json(deflection_view(&filters, report)))
}
