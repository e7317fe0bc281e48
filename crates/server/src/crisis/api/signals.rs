//! `/api/v1/signals`: alerts from monitoring and problems reported by people, grouped by
//! service, and their dismissal when no formal incident is needed.

use crate::auth::{Caller, Staff};
use crate::crisis::service as crisis;
use crate::crisis::views::{
    AlertmanagerReceipt, GroupRef, IncidentView, SignalGroupList, SignalGroupView, SignalReceipt,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::crisis::SignalStatus;
use backline_domain::SignalGroupId;
use backline_store::crisis::NewSignal;
use backline_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Prometheus Alertmanager's webhook, version 4.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    /// Must be `4`.
    pub version: String,
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub group_labels: serde_json::Map<String, Value>,
    /// A `service` label names the affected service (by slug).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub common_labels: serde_json::Map<String, Value>,
    /// A `summary` annotation becomes the signal's title.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub common_annotations: serde_json::Map<String, Value>,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<AlertmanagerAlert>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    pub status: String,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub labels: serde_json::Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub annotations: serde_json::Map<String, Value>,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    #[serde(default)]
    pub fingerprint: String,
}

fn label(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

async fn service_id(
    state: &AppState,
    slug: Option<&str>,
) -> ApiResult<Option<backline_domain::ServiceId>> {
    match slug {
        Some(slug) => match state.store.service_by_slug(slug.trim()).await {
            Ok(s) => Ok(Some(s.id)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        },
        None => Ok(None),
    }
}

/// Staff tokens (for the monitoring system): each alert becomes a signal, grouped by service.
#[utoipa::path(post, path = "/api/v1/signals/alertmanager", tag = "crisis", request_body = AlertmanagerPayload,
    responses((status = 200, body = AlertmanagerReceipt), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn alertmanager(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Json(body): Json<AlertmanagerPayload>,
) -> ApiResult<axum::Json<AlertmanagerReceipt>> {
    if body.version != "4" {
        return Err(ApiError::bad_request(
            "unsupported_version",
            format!(
                "Alertmanager webhook version {:?}; this endpoint reads version 4",
                body.version
            ),
        ));
    }
    let mut signals = Vec::new();
    for alert in &body.alerts {
        let service_label =
            label(&alert.labels, "service").or_else(|| label(&body.common_labels, "service"));
        let service = service_id(&state, service_label.as_deref()).await?;
        let title = label(&alert.annotations, "summary")
            .or_else(|| label(&body.common_annotations, "summary"))
            .or_else(|| label(&alert.labels, "alertname"))
            .unwrap_or_else(|| "Alert".into());
        let detail = json!({
            "description": label(&alert.annotations, "description"), "labels": alert.labels,
            "starts_at": alert.starts_at, "ends_at": alert.ends_at, "generator_url": alert.generator_url,
            "fingerprint": alert.fingerprint, "receiver": body.receiver, "external_url": body.external_url,
            "group_status": body.status, "truncated_alerts": body.truncated_alerts, "group_labels": body.group_labels,
        });
        // Alertmanager sends `firing` or `resolved`; anything else is treated as a problem.
        let status = match SignalStatus::parse(&alert.status) {
            Ok(SignalStatus::Resolved) => SignalStatus::Resolved,
            _ => SignalStatus::Firing,
        };
        signals.push(NewSignal {
            service,
            // One open group per service; alerts naming no known service group by Alertmanager's key.
            group_key: match (service, &service_label) {
                (Some(id), _) => format!("service:{id}"),
                _ => format!("alertmanager:{}", body.group_key),
            },
            title,
            // Kept with the signal for people reading it later; not part of any response.
            detail: detail.to_string(),
            source: "alertmanager".into(),
            status: status.as_str().into(),
            reported_by: Some(staff.id),
        });
    }
    let groups = crisis::record_signals(&state, signals).await?;
    Ok(axum::Json(AlertmanagerReceipt {
        signals: groups.len(),
        groups: groups
            .iter()
            .map(|&(id, new)| GroupRef { id: id.0, new })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    /// The affected service's slug, if known.
    pub service: Option<String>,
    /// 1 to 200 characters.
    pub title: String,
    #[serde(default)]
    pub detail: String,
    /// `firing` (default) or `resolved`.
    pub status: Option<String>,
}

/// A generic alert from monitoring (staff tokens), or a problem reported by anyone signed in.
#[utoipa::path(post, path = "/api/v1/signals", tag = "crisis", request_body = SignalBody,
    responses((status = 201, body = SignalReceipt), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn signal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<SignalBody>,
) -> ApiResult<(StatusCode, axum::Json<SignalReceipt>)> {
    let status = match body.status.as_deref() {
        None => SignalStatus::Firing,
        Some(text) => SignalStatus::parse(text).map_err(|e| ApiError::validation("status", e.0))?,
    };
    let report = crisis::ProblemReport {
        service: body.service,
        title: body.title,
        detail: body.detail,
        status,
    };
    let (group, new_group) =
        crisis::report_problem(&state, &caller, report, crisis::ReportedThrough::Api).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SignalReceipt {
            group: group.0,
            new_group,
        }),
    ))
}

/// Staff only: the open signal groups.
#[utoipa::path(get, path = "/api/v1/signals", tag = "crisis",
    responses((status = 200, body = SignalGroupList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn signal_groups(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<SignalGroupList>> {
    let groups = state.store.signal_groups(false).await?;
    Ok(axum::Json(SignalGroupList {
        groups: groups.iter().map(SignalGroupView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// Why no formal incident is needed; the start of the post-mortem.
    pub reason: String,
}

/// Staff only: no formal incident; the group becomes an internal incident with a post-mortem.
#[utoipa::path(post, path = "/api/v1/signals/{id}/dismiss", tag = "crisis", params(("id" = i64, Path)), request_body = DismissBody,
    responses((status = 200, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<SignalGroupId>,
    Json(body): Json<DismissBody>,
) -> ApiResult<axum::Json<IncidentView>> {
    let incident = crisis::dismiss(&state, &staff, id, &body.reason).await?;
    Ok(axum::Json(IncidentView::from(&incident)))
}
