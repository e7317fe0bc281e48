//! `/api/v1/services`, `/roster`, `/signals`, `/incidents`, `/drills`, `/templates`: crisis
//! management.

use crate::auth::Caller;
use crate::crisis::service::{self as crisis, staff_only, Declaration, UpdateInput};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::views::timestamp;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use backline_domain::crisis::{
    check_template, Impact, IncidentState, RosterRole, ServiceKind, Template, TemplateKind,
};
use backline_domain::FieldErrors;
use backline_store::crisis::{format_time, Incident, NewSignal, Postmortem, RosterEntry, Service};
use backline_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

fn ms_time(ms: i64) -> String {
    timestamp(
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

fn service_json(s: &Service) -> Value {
    json!({"slug": s.slug, "name": s.name, "kind": s.kind, "group": s.group})
}

pub fn incident_json(i: &Incident) -> Value {
    json!({
        "id": i.id, "title": i.title, "impact": i.impact, "nature": i.nature, "state": i.state, "eta": i.eta,
        "next_update_at": i.next_update_at.map(ms_time), "last_update_at": ms_time(i.last_update_at),
        "long_resolution": i.long_resolution, "overdue": i.overdue, "hourly_rule_broken": i.hourly_breach,
        "dry_run": i.dry_run, "public": i.public, "declared_at": ms_time(i.declared_at),
        "resolved_at": i.resolved_at.map(ms_time), "services": i.services.iter().map(service_json).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    pub slug: String,
    pub name: String,
    pub kind: ServiceKind,
    #[serde(default)]
    pub group: String,
}

#[utoipa::path(get, path = "/api/v1/services", tag = "crisis", responses((status = 200, body = Object)))]
pub async fn services(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let services = state.store.services().await?;
    Ok(axum::Json(
        json!({"services": services.iter().map(service_json).collect::<Vec<_>>()}),
    ))
}

#[utoipa::path(post, path = "/api/v1/services", tag = "crisis", request_body = Object, responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_service(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<ServiceBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    staff_only(&caller)?;
    let mut errors = FieldErrors::new();
    let slug = errors.check("slug", backline_domain::Slug::parse(&body.slug));
    if body.name.trim().is_empty() {
        errors.add("name", "is required");
    }
    errors.into_result()?;
    let slug = slug.map(|s| s.as_str().to_string()).unwrap_or_default();
    let s = state
        .store
        .create_service(&slug, body.name.trim(), body.kind, body.group.trim())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(service_json(&s))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersBody {
    /// Slugs of the customer organisations that use the service.
    pub organizations: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/services/{slug}/customers", tag = "crisis", params(("slug" = String, Path)), request_body = Object, responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_customers(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    Json(body): Json<CustomersBody>,
) -> ApiResult<StatusCode> {
    crisis::set_service_customers(&state, &caller, &slug, &body.organizations).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer organisations that use a service.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ServiceCustomers {
    /// The service's slug.
    pub service: String,
    /// In slug order.
    pub organizations: Vec<crate::views::OrgRefView>,
}

/// Staff only: who uses the service, and so hears about its incidents.
#[utoipa::path(get, path = "/api/v1/services/{slug}/customers", tag = "crisis", params(("slug" = String, Path)), responses((status = 200, body = ServiceCustomers), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn customers(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<ServiceCustomers>> {
    let (service, customers) = crisis::service_customers(&state, &caller, &slug).await?;
    Ok(axum::Json(ServiceCustomers {
        service: service.slug,
        organizations: customers
            .iter()
            .map(crate::views::OrgRefView::from)
            .collect(),
    }))
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RosterBody {
    pub role: RosterRole,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

#[utoipa::path(get, path = "/api/v1/roster", tag = "crisis", responses((status = 200, body = Object)))]
pub async fn roster(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let roster = state.store.roster().await?;
    Ok(axum::Json(
        json!({"roster": roster.iter().map(|r| json!({"role": r.role, "name": r.name, "email": r.email, "phone": r.phone})).collect::<Vec<_>>()}),
    ))
}

#[utoipa::path(put, path = "/api/v1/roster", tag = "crisis", request_body = Object, responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_roster(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<Vec<RosterBody>>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let mut errors = FieldErrors::new();
    let mut entries = Vec::new();
    for (i, r) in body.into_iter().enumerate() {
        let email = errors.check(
            &format!("{i}.email"),
            backline_domain::Email::parse(&r.email),
        );
        if r.name.trim().is_empty() {
            errors.add(&format!("{i}.name"), "is required");
        }
        if let Some(email) = email {
            entries.push(RosterEntry {
                role: r.role,
                name: r.name.trim().into(),
                email: email.as_str().into(),
                phone: r.phone.trim().into(),
            });
        }
    }
    errors.into_result()?;
    state.store.set_roster(&entries).await?;
    roster(State(state), Caller(caller)).await
}

/// Prometheus Alertmanager's webhook, version 4.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    pub version: String,
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: serde_json::Map<String, Value>,
    #[serde(default)]
    pub common_labels: serde_json::Map<String, Value>,
    #[serde(default)]
    pub common_annotations: serde_json::Map<String, Value>,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<AlertmanagerAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    pub status: String,
    #[serde(default)]
    pub labels: serde_json::Map<String, Value>,
    #[serde(default)]
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

async fn service_id(state: &AppState, slug: Option<&str>) -> ApiResult<Option<i64>> {
    match slug {
        Some(slug) => match state.store.service_by_slug(slug.trim()).await {
            Ok(s) => Ok(Some(s.id)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        },
        None => Ok(None),
    }
}

#[utoipa::path(post, path = "/api/v1/signals/alertmanager", tag = "crisis", request_body = Object, responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody)))]
pub async fn alertmanager(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<AlertmanagerPayload>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
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
        signals.push(NewSignal {
            service,
            // One open group per service; alerts naming no known service group by Alertmanager's key.
            group_key: match (service, &service_label) {
                (Some(id), _) => format!("service:{id}"),
                _ => format!("alertmanager:{}", body.group_key),
            },
            title,
            detail: detail.to_string(),
            source: "alertmanager".into(),
            status: if alert.status == "resolved" {
                "resolved".into()
            } else {
                "firing".into()
            },
            reported_by: Some(caller.id),
        });
    }
    let groups = crisis::record_signals(&state, signals).await?;
    Ok(axum::Json(
        json!({"signals": groups.len(), "groups": groups.iter().map(|(g, new)| json!({"id": g, "new": new})).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    /// The affected service's slug, if known.
    pub service: Option<String>,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    /// `firing` (default) or `resolved`.
    pub status: Option<String>,
}

/// A generic alert from monitoring (staff tokens), or a problem reported by anyone signed in.
#[utoipa::path(post, path = "/api/v1/signals", tag = "crisis", request_body = Object, responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn signal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<SignalBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let mut errors = FieldErrors::new();
    if body.title.trim().is_empty() || body.title.chars().count() > 200 {
        errors.add("title", "must be 1 to 200 characters");
    }
    let status = body.status.clone().unwrap_or_else(|| "firing".into());
    if status != "firing" && status != "resolved" {
        errors.add("status", "firing or resolved");
    }
    let service = service_id(&state, body.service.as_deref()).await?;
    if body.service.is_some() && service.is_none() {
        errors.add("service", "no such service");
    }
    errors.into_result()?;
    let source = if caller.role.is_staff() {
        "monitoring"
    } else {
        "report"
    };
    let signals = vec![NewSignal {
        service,
        group_key: match service {
            Some(id) => format!("service:{id}"),
            None => format!("report:{}", body.title.trim().to_lowercase()),
        },
        title: body.title.trim().into(),
        detail: body.detail.chars().take(10_000).collect(),
        source: source.into(),
        status,
        reported_by: Some(caller.id),
    }];
    let groups = crisis::record_signals(&state, signals).await?;
    let (group, new) = groups[0];
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"group": group, "new_group": new})),
    ))
}

#[utoipa::path(get, path = "/api/v1/signals", tag = "crisis", responses((status = 200, body = Object)))]
pub async fn signal_groups(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let groups = state.store.signal_groups(false).await?;
    Ok(axum::Json(json!({"groups": groups.iter().map(|g| json!({
        "id": g.id, "service": g.service.as_ref().map(service_json), "title": g.title, "state": g.state,
        "signals": g.signals, "firing": g.firing, "first_at": ms_time(g.first_at), "last_at": ms_time(g.last_at),
        "incident_id": g.incident_id,
    })).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/signals/{id}/dismiss", tag = "crisis", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<DismissBody>,
) -> ApiResult<axum::Json<Value>> {
    let incident = crisis::dismiss(&state, &caller, id, &body.reason).await?;
    Ok(axum::Json(incident_json(&incident)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareBody {
    pub title: String,
    /// Slugs of the affected services.
    pub services: Vec<String>,
    pub impact: Option<Impact>,
    pub nature: String,
    /// Likely resolution: an RFC 3339 time or words ("about two hours").
    pub eta: Option<String>,
    /// When the next update will be sent (RFC 3339).
    pub next_update_at: Option<String>,
    #[serde(default)]
    pub message: String,
    /// The signal group this declaration qualifies.
    pub signal_group: Option<i64>,
}

impl DeclareBody {
    fn declaration(self) -> Declaration {
        Declaration {
            title: self.title,
            services: self.services,
            impact: self.impact,
            nature: self.nature,
            eta: self.eta,
            next_update_at: self.next_update_at,
            message: self.message,
            signal_group: self.signal_group,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "crisis", request_body = Object, responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn declare(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<DeclareBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let incident = crisis::declare(&state, &caller, body.declaration(), false).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&incident))))
}

#[utoipa::path(post, path = "/api/v1/drills", tag = "crisis", request_body = Object, responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn drill(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<DeclareBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let incident = crisis::declare(&state, &caller, body.declaration(), true).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&incident))))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "crisis", responses((status = 200, body = Object)))]
pub async fn incidents(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let list = state
        .store
        .incidents(backline_store::now_millis() - 90 * 86_400_000, false)
        .await?;
    Ok(axum::Json(
        json!({"incidents": list.iter().map(incident_json).collect::<Vec<_>>()}),
    ))
}

async fn found(state: &AppState, id: i64) -> ApiResult<Incident> {
    state.store.incident(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("incident"),
        other => other.into(),
    })
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "crisis", params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn incident(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let incident = found(&state, id).await?;
    let events = state.store.incident_events(id).await?;
    let mut body = incident_json(&incident);
    body["timeline"] = json!(events.iter().map(|e| json!({"kind": e.kind, "state": e.state, "message": e.message, "data": e.data, "by": e.actor, "at": ms_time(e.at)})).collect::<Vec<_>>());
    Ok(axum::Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    pub state: Option<IncidentState>,
    #[serde(default)]
    pub message: String,
    pub next_update_at: Option<String>,
    pub eta: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "crisis", params(("id" = i64, Path)), request_body = Object, responses((status = 201, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<UpdateBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let incident = crisis::post_update(
        &state,
        &caller,
        id,
        UpdateInput {
            state: body.state,
            message: body.message,
            next_update_at: body.next_update_at,
            eta: body.eta,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&incident))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongBody {
    pub long_resolution: bool,
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/long-resolution", tag = "crisis", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = Object)))]
pub async fn long_resolution(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<LongBody>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    found(&state, id).await?;
    state
        .store
        .set_long_resolution(id, body.long_resolution, caller.id)
        .await?;
    Ok(axum::Json(incident_json(&found(&state, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/notifications", tag = "crisis", params(("id" = i64, Path)), responses((status = 200, body = Object)))]
pub async fn notifications(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    found(&state, id).await?;
    let list = state.store.notifications(id).await?;
    Ok(axum::Json(
        json!({"notifications": list.iter().map(|n| json!({
        "id": n.id, "recipient": n.recipient, "subject": n.subject, "kind": n.kind, "created_at": ms_time(n.created_at),
        "attempts": n.attempts, "sent_at": n.sent_at.map(ms_time), "failed_at": n.failed_at.map(ms_time), "last_error": n.last_error,
        "status": if n.sent_at.is_some() { "sent" } else if n.failed_at.is_some() { "failed" } else { "pending" },
    })).collect::<Vec<_>>()}),
    ))
}

fn postmortem_json(pm: &Postmortem) -> Value {
    json!({"summary": pm.summary, "root_cause": pm.root_cause, "category": pm.category, "action_items": pm.action_items,
           "internal_report": pm.internal_report, "customer_edition": pm.customer_edition, "due_at": ms_time(pm.due_at),
           "due": format_time(pm.due_at), "executive_review": pm.executive_review, "published_at": pm.published_at.map(ms_time)})
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/postmortem", tag = "crisis", params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn postmortem(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    found(&state, id).await?;
    let pm = state.store.postmortem(id).await?.ok_or(ApiError::NotFound(
        "post-mortem (it opens when the incident is resolved)",
    ))?;
    let events = state.store.incident_events(id).await?;
    let mut body = postmortem_json(&pm);
    body["timeline"] = json!(events.iter().map(|e| json!({"kind": e.kind, "state": e.state, "message": e.message, "by": e.actor, "at": ms_time(e.at)})).collect::<Vec<_>>());
    Ok(axum::Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    pub title: String,
    pub owner: String,
    pub due: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmortemBody {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
    #[serde(default)]
    pub internal_report: String,
    #[serde(default)]
    pub customer_edition: String,
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/postmortem", tag = "crisis", params(("id" = i64, Path)), request_body = Object, responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_postmortem(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<PostmortemBody>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    found(&state, id).await?;
    let mut errors = FieldErrors::new();
    for (i, item) in body.action_items.iter().enumerate() {
        if item.title.trim().is_empty() || item.owner.trim().is_empty() {
            errors.add(
                "action_items",
                format!("item {} needs a title and an owner", i + 1),
            );
        }
    }
    errors.into_result()?;
    let current = state
        .store
        .postmortem(id)
        .await?
        .ok_or(ApiError::Conflict {
            code: "not_resolved",
            message: "the post-mortem opens when the incident is resolved".into(),
        })?;
    let pm = Postmortem {
        incident_id: id,
        summary: body.summary,
        root_cause: body.root_cause,
        category: body.category,
        action_items: json!(body
            .action_items
            .iter()
            .map(|a| json!({"title": a.title.trim(), "owner": a.owner.trim(), "due": a.due}))
            .collect::<Vec<_>>()),
        internal_report: body.internal_report,
        customer_edition: body.customer_edition,
        due_at: current.due_at,
        executive_review: false,
        published_at: current.published_at,
    };
    let saved = crisis::save_postmortem(&state, &caller, pm).await?;
    Ok(axum::Json(postmortem_json(&saved)))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/postmortem/publish", tag = "crisis", params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn publish_postmortem(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    found(&state, id).await?;
    crisis::publish_postmortem(&state, &caller, id).await?;
    let pm = state
        .store
        .postmortem(id)
        .await?
        .ok_or(ApiError::NotFound("post-mortem"))?;
    Ok(axum::Json(postmortem_json(&pm)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub subject: String,
    pub body: String,
}

#[utoipa::path(get, path = "/api/v1/templates/{kind}", tag = "crisis", params(("kind" = String, Path)), responses((status = 200, body = Object)))]
pub async fn get_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(kind): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let kind = TemplateKind::parse(&kind).map_err(|_| ApiError::NotFound("template"))?;
    let t = crisis::template(&state, kind).await?;
    Ok(axum::Json(
        json!({"kind": kind, "subject": t.subject, "body": t.body, "variables": backline_domain::crisis::template_variables(kind)}),
    ))
}

#[utoipa::path(put, path = "/api/v1/templates/{kind}", tag = "crisis", params(("kind" = String, Path)), request_body = Object, responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_template(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(kind): Path<String>,
    Json(body): Json<TemplateBody>,
) -> ApiResult<axum::Json<Value>> {
    staff_only(&caller)?;
    let kind_value = TemplateKind::parse(&kind).map_err(|_| ApiError::NotFound("template"))?;
    let template = Template {
        subject: body.subject,
        body: body.body,
    };
    check_template(kind_value, &template)?;
    state.store.set_template(kind_value, &template).await?;
    get_template(State(state), Caller(caller), Path(kind)).await
}
