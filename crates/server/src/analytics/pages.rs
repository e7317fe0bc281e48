//! `/categories` (the tree: staff read it, admins change it), the category card on a case
//! page, and `/analytics` (Insights: charts as SVG drawn here, each with its numbers as a
//! table and the same table as CSV).

use super::service::{
    self, BacklogReport, CategoryNode, CategorySubmission, DriversReport, FilterInput, Filters,
    OutcomeReport, TimesBy, TimesRow, VolumeReport, OUTCOMES,
};
use crate::error::ApiError;
use crate::layout::{field_error, html_response, page, stale_notice, version_field, when};
use crate::session::WebUser;
use crate::web::{CsrfForm, NoFields, OrPage, PageResult, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use backline_domain::analytics::Durations;
use backline_domain::{CaseId, FieldErrors, Role, Timestamp};
use maud::{html, Markup};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------
// Categories

/// The category form as typed, so a refused form comes back as it was.
#[derive(Deserialize, Default, Clone)]
pub struct CategoryForm {
    /// Empty: a new category; otherwise the one to rename or move.
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    /// Empty: the top level.
    #[serde(default)]
    parent_id: String,
    /// The category's version the form was drawn from (when opened to edit one).
    #[serde(default)]
    version: Option<i64>,
}

/// `?edit=ID` opens that category in the form, with the version it is at.
#[derive(Deserialize, Default)]
pub struct CategoriesQuery {
    edit: Option<i64>,
}

pub async fn categories_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(q): Query<CategoriesQuery>,
) -> PageResult {
    let Some(id) = q.edit else {
        return render_categories(&state, &who, None, false, StatusCode::OK).await;
    };
    let node = service::read_category(&state.store, &who.user, id)
        .await
        .or_page(&who)?;
    let form = category_form(&node);
    render_categories(
        &state,
        &who,
        Some((&form, &FieldErrors::new())),
        false,
        StatusCode::OK,
    )
    .await
}

/// A stored category in the form, to rename or move it.
fn category_form(node: &CategoryNode) -> CategoryForm {
    CategoryForm {
        id: node.category.id.to_string(),
        name: node.category.name.clone(),
        parent_id: node
            .category
            .parent_id
            .map(|p| p.to_string())
            .unwrap_or_default(),
        version: Some(node.category.version),
    }
}

/// The tree and, for admins, the form; `stale` when the form comes back because the
/// category changed after it was drawn.
async fn render_categories(
    state: &AppState,
    who: &WebUser,
    form: Option<(&CategoryForm, &FieldErrors)>,
    stale: bool,
    status: StatusCode,
) -> PageResult {
    let nodes = service::categories(&state.store, &who.user)
        .await
        .or_page(who)?;
    let model = service::model_status(state, &who.user).await.or_page(who)?;
    let admin = who.user.role == Role::Admin;
    let empty = FieldErrors::new();
    let blank = CategoryForm::default();
    let (form, errors) = form.unwrap_or((&blank, &empty));
    let body = html! {
        h1 { "Case categories" }
        p.muted { "Agents give each case a category; the categoriser learns from them and suggests one for every new case. A retired category keeps its cases but takes no new ones." }
        section.card {
            h2 { "The tree" }
            @if nodes.is_empty() { p.empty { "No category yet." } }
            @else {
                ul.category-tree {
                    @for n in &nodes {
                        li style=(format!("margin-left: {}em", n.depth * 2)) {
                            strong { (n.category.name) }
                            " " span.muted.num { "#" (n.category.id) }
                            @if n.category.retired_at.is_some() { " " span.badge { "retired" } }
                            @if admin {
                                @let action = if n.category.retired_at.is_some() { "restore" } else { "retire" };
                                " " a href=(format!("/categories?edit={}#category-form", n.category.id)) aria-label=(format!("edit {}", n.path)) { "Edit" }
                                form.inline method="post" action=(format!("/categories/{}/{action}", n.category.id)) {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    button.secondary type="submit" aria-label=(format!("{action} {}", n.path)) {
                                        @if action == "retire" { "Retire" } @else { "Restore" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section.card #category-form {
                h2 { "Add, rename or move a category" }
                @if stale { (stale_notice("category")) }
                @if !errors.is_empty() { div.error role="alert" { "The category was not saved. Please correct the fields marked below." } }
                form method="post" action="/categories" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    @if form.version.is_some() {
                        // Opened to edit one category: the version it was drawn from
                        // belongs to that one, so which category is fixed.
                        input type="hidden" name="id" value=(form.id);
                        (version_field(form.version))
                        @if let Some(n) = nodes.iter().find(|n| n.category.id.to_string() == form.id) {
                            p { "Changing " strong { (n.path) } " (" a href="/categories#category-form" { "add a new one instead" } ")." }
                        }
                    } @else {
                        label for="c-id" { "Category to change (leave on “new” to add one)" }
                        select #c-id name="id" {
                            option value="" { "new category" }
                            @for n in &nodes {
                                option value=(n.category.id) selected[form.id == n.category.id.to_string()] { (n.path) }
                            }
                        }
                    }
                    (field_error(errors, &["id"]))
                    label for="c-name" { "Name" }
                    input #c-name type="text" name="name" value=(form.name) maxlength="60" required;
                    (field_error(errors, &["name"]))
                    label for="c-parent" { "Under" }
                    select #c-parent name="parent_id" {
                        option value="" { "the top level" }
                        @for n in nodes.iter().filter(|n| n.category.retired_at.is_none()) {
                            option value=(n.category.id) selected[form.parent_id == n.category.id.to_string()] { (n.path) }
                        }
                    }
                    (field_error(errors, &["parent_id"]))
                    button type="submit" { "Save category" }
                }
            }
        }
        section.card #categoriser {
            h2 { "The categoriser" }
            @match model.fitted_at {
                Some(at) => {
                    p { "Learned " (when(at)) " from " (model.examples) " categorised cases in " (model.categories) " categories"
                        @if let Some(t) = model.took { " (" (t.as_millis()) " ms)" } "." }
                    p.muted { "Suggestions below " (format!("{:.0}%", model.threshold.unwrap_or(0.0) * 100.0)) " confidence say “uncategorised”. "
                        (model.new_labels) " categories given since; it learns again at " (super::model::RETRAIN_AFTER) "." }
                }
                None => p.empty { "Not learned yet: it needs at least 10 categorised cases." }
            }
            @if admin {
                form method="post" action="/categories/retrain" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button.secondary type="submit" { "Learn again now" }
                }
            }
        }
    };
    Ok(html_response(
        status,
        page("Case categories", Some(who), body),
    ))
}

pub async fn save_category(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let number = |text: &str, field: &str, errors: &mut FieldErrors| -> Option<i64> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(field, "choose a category from the list");
                None
            }
        }
    };
    let id = number(&form.id, "id", &mut errors);
    let parent_id = number(&form.parent_id, "parent_id", &mut errors);
    if errors.is_empty() {
        let submission = CategorySubmission {
            name: form.name.clone(),
            parent_id,
        };
        match service::save_category(&state.store, &who.user, id, &submission, form.version).await {
            Ok(_) => return Ok(Redirect::to("/categories").into_response()),
            Err(ApiError::Validation(problems)) => errors = problems,
            Err(ApiError::Stale(_)) => {
                // Someone changed the category after this form was drawn: nothing is
                // overwritten; the tree shows it as it is now and the form keeps what was
                // typed, now against the current version, so saving again is a choice.
                let current = service::read_category(&state.store, &who.user, id.unwrap_or(0))
                    .await
                    .or_page(&who)?;
                let form = CategoryForm {
                    version: Some(current.category.version),
                    ..form
                };
                return render_categories(
                    &state,
                    &who,
                    Some((&form, &FieldErrors::new())),
                    true,
                    StatusCode::CONFLICT,
                )
                .await;
            }
            Err(e) => return Err(WebError::new(e).for_user(&who)),
        }
    }
    render_categories(
        &state,
        &who,
        Some((&form, &errors)),
        false,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn retire_category(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::retire_category(&state.store, &who.user, id, true)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/categories").into_response())
}

pub async fn restore_category(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::retire_category(&state.store, &who.user, id, false)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/categories").into_response())
}

pub async fn retrain(
    State(state): State<AppState>,
    who: WebUser,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    service::request_retrain(&state.store, &who.user)
        .await
        .or_page(&who)?;
    Ok(Redirect::to("/categories#categoriser").into_response())
}

/// The case page's category card (staff only) from the case's category and the tree.
pub fn category_card(
    who: &WebUser,
    case: CaseId,
    view: &service::CaseCategoryView,
    nodes: &[service::CategoryNode],
) -> Markup {
    let s = &view.stored;
    let chosen = s.category_id.or(s.suggested_category_id);
    html! {
        div.card #category {
            h3 { "Category" }
            @match &view.category {
                Some(c) => p { strong { (c.path) } @if let Some(at) = s.categorized_at { " " span.muted { "· " (when(at)) } } }
                None => p.muted { "Not categorised yet." }
            }
            @if s.category_id.is_none() {
                @match (s.suggested_at, &view.suggestion) {
                    (None, _) => p.muted { "No suggestion yet." }
                    (Some(_), Some(suggested)) => p { "Suggested: " strong { (suggested.path) } " "
                        span.muted { "(" (format!("{:.0}%", s.suggestion_confidence.unwrap_or(0) as f64 / 100.0)) " confident)" } }
                    (Some(_), None) => p { "Suggested: " strong { "uncategorised" } " "
                        span.muted { "(no category is likely enough: " (format!("{:.0}%", s.suggestion_confidence.unwrap_or(0) as f64 / 100.0)) ")" } }
                }
            }
            form method="post" action=(format!("/cases/{}/category", case.0)) {
                input type="hidden" name="csrf" value=(who.csrf);
                label for="case-category" { "Category" }
                select #case-category name="category_id" {
                    option value="" { "none" }
                    @for n in nodes.iter().filter(|n| n.category.retired_at.is_none() || Some(n.category.id) == s.category_id) {
                        option value=(n.category.id) selected[Some(n.category.id) == chosen] { (n.path) }
                    }
                }
                button type="submit" { @if s.category_id.is_none() && s.suggested_category_id.is_some() { "Confirm" } @else { "Save category" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CaseCategoryForm {
    #[serde(default)]
    category_id: String,
}

pub async fn set_case_category(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CaseCategoryForm>,
) -> PageResult {
    let category = match form.category_id.trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            WebError::new(ApiError::validation(
                "category_id",
                "choose a category from the list",
            ))
            .for_user(&who)
        })?),
    };
    service::set_case_category(&state.store, &who.user, CaseId(id), category)
        .await
        .or_page(&who)?;
    Ok(Redirect::to(&format!("/cases/{id}#category")).into_response())
}

// ---------------------------------------------------------------------------------------
// Insights

/// A table of figures: the same rows become the page's table and the CSV file.
struct Table {
    caption: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn html(&self) -> Markup {
        html! {
            div.table-scroll {
                table.list.figures {
                    caption { (self.caption) }
                    thead { tr { @for h in &self.head { th scope="col" { (h) } } } }
                    tbody {
                        @for row in &self.rows {
                            tr { @for (i, cell) in row.iter().enumerate() {
                                @if i == 0 { th scope="row" { (cell) } } @else { td.num { (cell) } }
                            } }
                        }
                    }
                }
            }
        }
    }

    fn csv(&self) -> String {
        let field = |text: &str| {
            if text.contains([',', '"', '\n']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.to_string()
            }
        };
        let mut out = String::new();
        for line in std::iter::once(&self.head).chain(&self.rows) {
            out.push_str(&line.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

fn day(at: Timestamp) -> String {
    at.to_rfc3339()[..10].to_string()
}

fn percent(bp: Option<i64>) -> String {
    bp.map_or_else(|| "—".into(), |bp| format!("{:.1}%", bp as f64 / 100.0))
}

fn minutes(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), |ms| format!("{:.1}", ms as f64 / 60_000.0))
}

fn volume_table(by: &str, r: &VolumeReport) -> Table {
    let mut head = vec![by.to_string(), "total".to_string()];
    head.extend(r.buckets.iter().map(|b| day(*b)));
    let mut rows: Vec<Vec<String>> = r
        .series
        .iter()
        .map(|s| {
            let mut row = vec![s.key.clone(), s.total.to_string()];
            row.extend(s.counts.iter().map(i64::to_string));
            row
        })
        .collect();
    let mut all = vec!["all".to_string(), r.total.to_string()];
    all.extend(r.totals.iter().map(i64::to_string));
    rows.push(all);
    Table {
        caption: format!("Cases filed by {by}, per bucket starting on the date shown"),
        head,
        rows,
    }
}

fn drivers_table(r: &DriversReport) -> Table {
    Table {
        caption: "Top drivers: categories that gained the most cases over the previous period"
            .into(),
        head: [
            "category",
            "cases",
            "previous",
            "change",
            "growth",
            "share",
            "trend per bucket",
            "validated article",
        ]
        .map(String::from)
        .to_vec(),
        rows: r
            .drivers
            .iter()
            .map(|d| {
                vec![
                    d.category.clone(),
                    d.current.to_string(),
                    d.previous.to_string(),
                    format!("{:+}", d.change),
                    percent(d.growth_bp),
                    percent(Some(d.share_bp)),
                    format!("{:+.2}", d.trend),
                    if d.has_validated_article {
                        "yes"
                    } else {
                        "no: write one"
                    }
                    .into(),
                ]
            })
            .collect(),
    }
}

fn backlog_table(r: &BacklogReport) -> Table {
    let mut head = vec!["status".to_string()];
    head.extend(r.bands.iter().cloned());
    head.push("total".into());
    let mut rows: Vec<Vec<String>> = r
        .statuses
        .iter()
        .map(|(status, counts)| {
            let mut row = vec![status.replace('_', " ")];
            row.extend(counts.iter().map(i64::to_string));
            row.push(counts.iter().sum::<i64>().to_string());
            row
        })
        .collect();
    let mut all = vec!["all".to_string()];
    all.extend(r.totals.iter().map(i64::to_string));
    all.push(r.total.to_string());
    rows.push(all);
    Table {
        caption: "Cases in work now, by age".into(),
        head,
        rows,
    }
}

fn times_table(by: TimesBy, rows: &[TimesRow]) -> Table {
    let d = |x: &Durations| [minutes(x.median_ms), minutes(x.p90_ms)];
    Table {
        caption: format!(
            "Reply and resolution times in minutes, by {}",
            match by {
                TimesBy::SupportModel => "support model (tiered or swarming queue)",
                other => other.as_str(),
            }
        ),
        head: [
            by.as_str(),
            "cases",
            "first reply median",
            "first reply p90",
            "resolution median",
            "resolution p90",
            "hand-offs per case",
            "reopen rate",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                let [fm, fp] = d(&r.first_reply);
                let [rm, rp] = d(&r.resolution);
                vec![
                    r.key.clone(),
                    r.cases.to_string(),
                    fm,
                    fp,
                    rm,
                    rp,
                    format!("{:.2}", r.handoffs_per_case_x100 as f64 / 100.0),
                    percent(r.reopen_rate_bp),
                ]
            })
            .collect(),
    }
}

fn outcomes_table(r: &OutcomeReport) -> Table {
    let mut head = vec!["solved in".to_string()];
    head.extend(OUTCOMES.iter().map(|o| o.replace('_', " ")));
    let mut rows: Vec<Vec<String>> = r
        .buckets
        .iter()
        .zip(&r.counts)
        .map(|(b, c)| {
            let mut row = vec![day(*b)];
            row.extend(c.iter().map(i64::to_string));
            row
        })
        .collect();
    let mut total = vec!["total".to_string()];
    total.extend(r.totals.iter().map(i64::to_string));
    rows.push(total);
    let all: i64 = r.totals.iter().sum();
    let mut shares = vec!["share".to_string()];
    shares.extend(
        r.totals
            .iter()
            .map(|n| percent(backline_domain::analytics::share_bp(*n, all))),
    );
    rows.push(shares);
    Table {
        caption: "Solved cases: known, new, invalid escalation and unknown".into(),
        head,
        rows,
    }
}

const PALETTE: [&str; 7] = [
    "#2f6fb3", "#d9822b", "#3a9a5b", "#b34a4a", "#7b5ea7", "#8c6d46", "#9aa5b1",
];

/// Stacked bars, one per bucket; at most six named series, the rest as "other".
fn stacked_bars(title: &str, labels: &[String], series: &[(String, Vec<i64>)]) -> Markup {
    let mut shown: Vec<(String, Vec<i64>)> = series.iter().take(6).cloned().collect();
    if series.len() > 6 {
        let mut other = vec![0; labels.len()];
        for (_, counts) in &series[6..] {
            for (o, c) in other.iter_mut().zip(counts) {
                *o += c;
            }
        }
        shown.push(("other".into(), other));
    }
    let totals: Vec<i64> = (0..labels.len())
        .map(|i| {
            shown
                .iter()
                .map(|(_, c)| c.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let (width, height, left, bottom) = (640.0, 220.0, 36.0, 20.0);
    let plot_h = height - bottom - 8.0;
    let step = (width - left) / labels.len().max(1) as f64;
    let bar = (step * 0.8).max(1.0);
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(format!("{title}: chart; the numbers are in the table below")) preserveAspectRatio="none" width="100%" height="220" {
                line x1=(left) y1=(height - bottom) x2=(width) y2=(height - bottom) stroke="#888" {}
                text x="0" y="12" font-size="11" { (max) }
                text x="0" y=(height - bottom) font-size="11" { "0" }
                @for (i, label) in labels.iter().enumerate() {
                    @let x = left + i as f64 * step + (step - bar) / 2.0;
                    @let mut y = height - bottom;
                    @for (k, (name, counts)) in shown.iter().enumerate() {
                        @let n = counts.get(i).copied().unwrap_or(0);
                        @if n > 0 {
                            @let h = n as f64 / max as f64 * plot_h;
                            rect x=(format!("{x:.1}")) y=(format!("{:.1}", { y -= h; y })) width=(format!("{bar:.1}")) height=(format!("{h:.1}")) fill=(PALETTE[k % PALETTE.len()]) {
                                title { (label) ", " (name) ": " (n) }
                            }
                        }
                    }
                    @if labels.len() <= 16 || i % (labels.len() / 8).max(1) == 0 {
                        text x=(format!("{:.1}", x)) y=(height - 4.0) font-size="10" { (label.get(5..).unwrap_or(label)) }
                    }
                }
            }
            figcaption {
                @for (k, (name, _)) in shown.iter().enumerate() {
                    span.legend { svg width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(PALETTE[k % PALETTE.len()]) {} } " " (name) " " }
                }
            }
        }
    }
}

fn horizontal_bars(title: &str, rows: &[(String, i64)]) -> Markup {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = rows.len() as f64 * 22.0 + 4.0;
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 640 {height}")) role="img" aria-label=(format!("{title}: chart; the numbers are in the table below")) width="100%" {
                @for (i, (label, n)) in rows.iter().enumerate() {
                    @let y = 4.0 + i as f64 * 22.0;
                    text x="0" y=(y + 14.0) font-size="12" { (label) }
                    rect x="140" y=(y) height="16" width=(format!("{:.1}", *n as f64 / max as f64 * 440.0)) fill=(PALETTE[0]) {}
                    text x=(format!("{:.1}", 146.0 + *n as f64 / max as f64 * 440.0)) y=(y + 13.0) font-size="12" { (n) }
                }
            }
        }
    }
}

/// The query string of the current filters, for CSV links.
fn query_of(input: &FilterInput) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    let fields = [
        ("from", &input.from),
        ("to", &input.to),
        ("bucket", &input.bucket),
        ("by", &input.by),
        ("category", &input.category),
        ("product", &input.product),
        ("partner", &input.partner),
        ("organization", &input.organization),
        ("channel", &input.channel),
        ("tier", &input.tier),
        ("queue", &input.queue),
    ];
    for (key, value) in fields {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            pairs.append_pair(key, v);
        }
    }
    pairs.finish()
}

fn with_by(input: &FilterInput, by: &str) -> String {
    let mut input = input.clone();
    input.by = Some(by.to_string());
    query_of(&input)
}

pub async fn analytics_page(
    State(state): State<AppState>,
    who: WebUser,
    Query(input): Query<FilterInput>,
) -> PageResult {
    if !who.user.role.is_staff() {
        return Err(WebError::new(ApiError::NotFound("page")).for_user(&who));
    }
    let store = &state.store;
    let user = &who.user;
    let now = Timestamp::now();
    let filters = service::resolve_filters(store, &input, now)
        .await
        .or_page(&who)?;
    let by = input.by.clone().unwrap_or_else(|| "category".into());
    let dimension = service::dimension(&by).or_page(&who)?;
    let volume = service::volume(store, user, dimension, &filters)
        .await
        .or_page(&who)?;
    let drivers = service::drivers(store, user, &filters)
        .await
        .or_page(&who)?;
    let backlog = service::backlog(store, user, &filters, now)
        .await
        .or_page(&who)?;
    let mut times = Vec::new();
    for by in [
        TimesBy::SupportModel,
        TimesBy::Tier,
        TimesBy::Queue,
        TimesBy::Partner,
    ] {
        times.push((
            by,
            service::times(store, user, by, &filters)
                .await
                .or_page(&who)?,
        ));
    }
    let outcomes = service::outcomes(store, user, &filters)
        .await
        .or_page(&who)?;
    let deflection = service::deflection(store, user, &filters, now)
        .await
        .or_page(&who)?;
    let categories = service::categories(store, user).await.or_page(&who)?;
    let labels: Vec<String> = volume.buckets.iter().map(|b| day(*b)).collect();
    let volume_series: Vec<(String, Vec<i64>)> = volume
        .series
        .iter()
        .map(|s| (s.key.clone(), s.counts.clone()))
        .collect();
    let outcome_series: Vec<(String, Vec<i64>)> = OUTCOMES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (
                name.replace('_', " "),
                outcomes.counts.iter().map(|c| c[k]).collect(),
            )
        })
        .collect();
    let q = query_of(&input);
    let body = html! {
        h1 { "Insights" }
        p { a href="/categories" { "Case categories and the categoriser" } }
        (filter_form(&input, &filters, &categories))
        section.card #volume {
            h2 { "Volume by " (by) }
            p.muted { (volume.total) " cases filed from " (day(filters.from)) " to " (day(filters.to)) "." }
            (stacked_bars("Cases filed", &labels, &volume_series))
            (volume_table(&by, &volume).html())
            p { a href=(format!("/analytics/volume.csv?{q}")) { "Download as CSV" } }
        }
        section.card #drivers {
            h2 { "Top drivers" }
            p.muted { "Against the " (day(drivers.previous_from)) " to " (day(filters.from)) " period. A driver without a validated article is a prompt to write one." }
            @if drivers.drivers.iter().any(|d| !d.has_validated_article && d.change > 0 && d.category_id.is_some()) {
                p { "Write an article for: "
                    @for (i, d) in drivers.drivers.iter().filter(|d| !d.has_validated_article && d.change > 0 && d.category_id.is_some()).take(3).enumerate() {
                        @if i > 0 { ", " }
                        strong { (d.category) }
                    }
                    " — " a href="/articles/new" { "write an article" }
                }
            }
            (drivers_table(&drivers).html())
            p { a href=(format!("/analytics/drivers.csv?{q}")) { "Download as CSV" } }
        }
        section.card #backlog {
            h2 { "Backlog and age" }
            (horizontal_bars("Cases in work by age", &backlog.bands.iter().cloned().zip(backlog.totals.iter().copied()).collect::<Vec<_>>()))
            (backlog_table(&backlog).html())
            p { a href=(format!("/analytics/backlog.csv?{q}")) { "Download as CSV" } }
        }
        section.card #times {
            h2 { "Reply and resolution times" }
            p.muted { "Cases filed in the period. Tiered queues and swarming queues side by side in the first table." }
            @for (by, rows) in &times {
                (times_table(*by, rows).html())
                p { a href=(format!("/analytics/times.csv?{}", with_by(&input, by.as_str()))) { "Download as CSV" } }
            }
        }
        section.card #outcomes {
            h2 { "Known, new and invalid escalations" }
            (stacked_bars("Solved cases by outcome", &labels, &outcome_series))
            (outcomes_table(&outcomes).html())
            p { a href=(format!("/analytics/outcomes.csv?{q}")) { "Download as CSV" } }
        }
        section.card #deflection {
            h2 { "Self-service deflection" }
            dl {
                dt { "New-case forms" } dd.num { (deflection.forms) }
                dt { "Shown suggestions" } dd.num { (deflection.shown_suggestions) }
                dt { "Opened a suggestion" } dd.num { (deflection.opened) }
                dt { "Filed anyway" } dd.num { (deflection.filed_after_opening) }
                dt { "Deflected" } dd.num { (deflection.deflected) " (" (percent(deflection.rate_bp)) " of forms shown suggestions)" }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        page("Insights", Some(&who), body),
    ))
}

fn filter_form(input: &FilterInput, filters: &Filters, categories: &[CategoryNode]) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let by = input.by.clone().unwrap_or_else(|| "category".into());
    html! {
        form.card.filters method="get" action="/analytics" {
            h2.visually-hidden { "Filters" }
            label for="f-from" { "From" }
            input #f-from type="date" name="from" value=(input.from.clone().unwrap_or_else(|| day(filters.from)));
            label for="f-to" { "To (not included)" }
            input #f-to type="date" name="to" value=(input.to.clone().unwrap_or_else(|| day(filters.to)));
            label for="f-bucket" { "Per" }
            select #f-bucket name="bucket" {
                option value="day" selected[filters.bucket.as_str() == "day"] { "day" }
                option value="week" selected[filters.bucket.as_str() == "week"] { "week" }
            }
            label for="f-by" { "Volume by" }
            select #f-by name="by" {
                @for d in ["category", "product", "partner", "channel", "organization", "tier", "queue"] {
                    option value=(d) selected[by == d] { (d) }
                }
            }
            label for="f-category" { "Category" }
            select #f-category name="category" {
                option value="" { "any" }
                @for n in categories {
                    option value=(n.category.id) selected[value(&input.category) == n.category.id.to_string()] { (n.path) }
                }
            }
            label for="f-product" { "Product" }
            input #f-product type="text" name="product" value=(value(&input.product));
            label for="f-partner" { "Partner (slug)" }
            input #f-partner type="text" name="partner" value=(value(&input.partner));
            label for="f-org" { "Organisation (slug)" }
            input #f-org type="text" name="organization" value=(value(&input.organization));
            label for="f-channel" { "Channel" }
            select #f-channel name="channel" {
                option value="" { "any" }
                @for c in ["web", "api", "email", "community", "monitoring"] {
                    option value=(c) selected[value(&input.channel) == c] { (c) }
                }
            }
            label for="f-tier" { "Tier" }
            select #f-tier name="tier" {
                option value="" { "any" }
                @for t in ["1", "2", "3"] { option value=(t) selected[value(&input.tier) == t] { "L" (t) } }
            }
            label for="f-queue" { "Queue (slug)" }
            input #f-queue type="text" name="queue" value=(value(&input.queue));
            button type="submit" { "Show" }
        }
    }
}

/// `/analytics/{name}.csv`: a dashboard's table as CSV, with the page's filters.
pub async fn csv(
    State(state): State<AppState>,
    who: WebUser,
    Path(file): Path<String>,
    Query(input): Query<FilterInput>,
) -> Result<Response, WebError> {
    if !who.user.role.is_staff() {
        return Err(WebError::new(ApiError::NotFound("page")).for_user(&who));
    }
    let store = &state.store;
    let user = &who.user;
    let now = Timestamp::now();
    let filters = service::resolve_filters(store, &input, now)
        .await
        .or_page(&who)?;
    let table = match file.as_str() {
        "volume.csv" => {
            let by = input.by.clone().unwrap_or_else(|| "category".into());
            let dimension = service::dimension(&by).or_page(&who)?;
            let report = service::volume(store, user, dimension, &filters)
                .await
                .or_page(&who)?;
            volume_table(&by, &report)
        }
        "drivers.csv" => drivers_table(
            &service::drivers(store, user, &filters)
                .await
                .or_page(&who)?,
        ),
        "backlog.csv" => backlog_table(
            &service::backlog(store, user, &filters, now)
                .await
                .or_page(&who)?,
        ),
        "times.csv" => {
            let by = TimesBy::parse(input.by.as_deref().unwrap_or("tier")).or_page(&who)?;
            times_table(
                by,
                &service::times(store, user, by, &filters)
                    .await
                    .or_page(&who)?,
            )
        }
        "outcomes.csv" => outcomes_table(
            &service::outcomes(store, user, &filters)
                .await
                .or_page(&who)?,
        ),
        _ => return Err(WebError::new(ApiError::NotFound("page")).for_user(&who)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        table.csv(),
    )
        .into_response())
}
