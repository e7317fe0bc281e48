//! The rules of categories and dashboards: who may see and change what, how a category may
//! be placed, and how the store's counts become the dashboards' figures (the arithmetic in
//! `backline_domain::analytics`).

use super::model::RETRAIN_REQUEST_KEY;
use super::rollups::{self, Count};
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::analytics::{
    self as figures, rank_drivers, Bucket, DriverCounts, Durations, AGE_BANDS,
};
use backline_domain::categories::{check_place, paths, CategoryName, Node};
use backline_domain::{CaseId, FieldErrors, Role, Span, Timestamp};
use backline_store::analytics::{CaseCategory, CaseFilter, Category, Dimension, TimesGroup};
use backline_store::{Store, User};
use std::collections::{BTreeMap, HashMap, HashSet};

fn admin_only(caller: &User) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only admins can change case categories".into(),
        ))
    }
}

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "categories and analytics are for vendor staff".into(),
        ))
    }
}

/// A category with its place in the tree.
#[derive(Debug, Clone)]
pub struct CategoryNode {
    pub category: Category,
    /// Names from the top, e.g. `Sync › Desktop app › Conflicts`.
    pub path: String,
    pub depth: usize,
}

/// The tree in reading order: each node followed by its children, siblings by name.
pub async fn categories(store: &Store, caller: &User) -> ApiResult<Vec<CategoryNode>> {
    staff_only(caller)?;
    Ok(tree(store.categories().await?))
}

fn tree(all: Vec<Category>) -> Vec<CategoryNode> {
    let named: Vec<(i64, Option<i64>, String)> = all
        .iter()
        .map(|c| (c.id, c.parent_id, c.name.clone()))
        .collect();
    let path = paths(&named);
    let mut out = Vec::new();
    let mut placed = HashSet::new();
    // Depth-first, children in name order (the store sorts by name).
    fn visit(
        all: &[Category],
        parent: Option<i64>,
        depth: usize,
        path: &HashMap<i64, String>,
        placed: &mut HashSet<i64>,
        out: &mut Vec<CategoryNode>,
    ) {
        for c in all.iter().filter(|c| c.parent_id == parent) {
            if !placed.insert(c.id) {
                continue;
            }
            out.push(CategoryNode {
                category: c.clone(),
                path: path.get(&c.id).cloned().unwrap_or_default(),
                depth,
            });
            visit(all, Some(c.id), depth + 1, path, placed, out);
        }
    }
    visit(&all, None, 0, &path, &mut placed, &mut out);
    out
}

/// A category as an admin wrote it.
#[derive(Debug, Clone, Default)]
pub struct CategorySubmission {
    pub name: String,
    pub parent_id: Option<i64>,
}

/// Checks a submission against the tree and saves it as a new category (`id` None) or as
/// the new name and place of `id`, only while it is at version `expected` when given
/// ([`ApiError::Stale`] otherwise).
pub async fn save_category(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    submission: &CategorySubmission,
    expected: Option<i64>,
) -> ApiResult<CategoryNode> {
    admin_only(caller)?;
    let all = store.categories().await?;
    if let Some(id) = id {
        if !all.iter().any(|c| c.id == id) {
            return Err(ApiError::NotFound("category"));
        }
    }
    let mut errors = FieldErrors::new();
    let name = errors.check("name", CategoryName::parse(&submission.name));
    if let Some(parent) = submission.parent_id {
        if all.iter().any(|c| c.id == parent && c.retired_at.is_some()) {
            errors.add("parent_id", "that category is retired; choose one in use");
        }
    }
    let nodes: Vec<Node> = all
        .iter()
        .map(|c| Node {
            id: c.id,
            parent: c.parent_id,
        })
        .collect();
    if let Err(problem) = check_place(&nodes, id, submission.parent_id) {
        errors.add("parent_id", problem.words());
    }
    errors.into_result()?;
    let Some(name) = name else {
        return Err(ApiError::Internal("a checked name went missing".into()));
    };
    let saved = match id {
        Some(id) => store
            .update_category(id, submission.parent_id, name.as_str(), expected)
            .await
            .map(|_| id),
        None => {
            store
                .create_category(submission.parent_id, name.as_str())
                .await
        }
    }
    .map_err(|e| match e {
        backline_store::StoreError::Conflict(m) => ApiError::validation("name", m),
        backline_store::StoreError::NotFound => ApiError::NotFound("category"),
        e => e.into(),
    })?;
    category(store, saved).await
}

/// One category with its place in the tree (staff).
pub async fn read_category(store: &Store, caller: &User, id: i64) -> ApiResult<CategoryNode> {
    staff_only(caller)?;
    category(store, id).await
}

async fn category(store: &Store, id: i64) -> ApiResult<CategoryNode> {
    tree(store.categories().await?)
        .into_iter()
        .find(|n| n.category.id == id)
        .ok_or(ApiError::NotFound("category"))
}

/// Retires a category and everything under it (or brings them back): cases keep them, new
/// labels cannot use them and the categoriser forgets them at its next fit.
pub async fn retire_category(
    store: &Store,
    caller: &User,
    id: i64,
    retired: bool,
) -> ApiResult<CategoryNode> {
    admin_only(caller)?;
    let all = store.categories().await?;
    if !all.iter().any(|c| c.id == id) {
        return Err(ApiError::NotFound("category"));
    }
    let subtree = descendants(&all, id);
    store.set_categories_retired(&subtree, retired).await?;
    category(store, id).await
}

/// `id` and every category under it.
fn descendants(all: &[Category], id: i64) -> Vec<i64> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        for c in all.iter().filter(|c| c.parent_id == Some(parent)) {
            if !out.contains(&c.id) {
                out.push(c.id);
            }
        }
        i += 1;
    }
    out
}

/// A case's category and suggestion with the categories' paths.
#[derive(Debug, Clone)]
pub struct CaseCategoryView {
    pub stored: CaseCategory,
    pub category: Option<CategoryNode>,
    pub suggestion: Option<CategoryNode>,
}

/// For staff only: customers and partners never see a suggestion or its confidence.
pub async fn case_category(
    store: &Store,
    caller: &User,
    case: CaseId,
) -> ApiResult<CaseCategoryView> {
    Ok(case_category_and_tree(store, caller, case).await?.0)
}

/// `case_category`, and the category tree it was read against (the case page's card shows
/// both: one read of the categories serves the two).
pub async fn case_category_and_tree(
    store: &Store,
    caller: &User,
    case: CaseId,
) -> ApiResult<(CaseCategoryView, Vec<CategoryNode>)> {
    staff_only(caller)?;
    let stored = store.case_category(case).await.or_not_found("case")?;
    let nodes = tree(store.categories().await?);
    let find =
        |id: Option<i64>| id.and_then(|id| nodes.iter().find(|n| n.category.id == id).cloned());
    let view = CaseCategoryView {
        category: find(stored.category_id),
        suggestion: find(stored.suggested_category_id),
        stored,
    };
    Ok((view, nodes))
}

/// Confirms or corrects a case's category (`None` clears it). The label counts toward the
/// categoriser's next fit.
pub async fn set_case_category(
    store: &Store,
    caller: &User,
    case: CaseId,
    category: Option<i64>,
) -> ApiResult<CaseCategoryView> {
    staff_only(caller)?;
    store
        .set_case_category(case, category, caller.id)
        .await
        .or_not_found("case")?;
    case_category(store, caller, case).await
}

/// What the node's categoriser is.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub fitted_at: Option<Timestamp>,
    pub examples: usize,
    pub categories: usize,
    pub threshold: Option<f64>,
    pub took: Option<std::time::Duration>,
    /// Labels given since the fit; the next fit comes at `super::model::RETRAIN_AFTER`.
    pub new_labels: i64,
    /// The newest request to learn again this fit took in.
    pub answers_request: Option<String>,
}

pub async fn model_status(state: &AppState, caller: &User) -> ApiResult<ModelStatus> {
    staff_only(caller)?;
    let fitted = state.categorizer.get();
    let new_labels = match &fitted {
        Some(f) => state.store.labels_since(f.fitted_at).await?,
        None => 0,
    };
    Ok(ModelStatus {
        fitted_at: fitted.as_ref().map(|f| f.fitted_at),
        examples: fitted.as_ref().map_or(0, |f| f.examples),
        categories: fitted.as_ref().map_or(0, |f| f.categorizer.labels().len()),
        threshold: fitted.as_ref().map(|f| f.categorizer.threshold()),
        took: fitted.as_ref().map(|f| f.took),
        new_labels,
        answers_request: fitted.as_ref().and_then(|f| f.answers_request.clone()),
    })
}

/// Asks every node to learn again at its next round.
pub async fn request_retrain(store: &Store, caller: &User) -> ApiResult<Timestamp> {
    admin_only(caller)?;
    let now = Timestamp::now();
    store
        .set_setting(RETRAIN_REQUEST_KEY, &now.to_rfc3339())
        .await?;
    Ok(now)
}

// ---------------------------------------------------------------------------------------
// Dashboards

/// Filters as typed in a query string or a form.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FilterInput {
    /// What to group by. Volume: `category` (default), `product`, `partner`, `channel`,
    /// `organization`, `tier` or `queue`; times: `tier` (default), `queue`, `partner` or
    /// `model`; the other dashboards take none.
    pub by: Option<String>,
    /// Start of the period, a date (`2026-11-01`) or RFC 3339 time; default 30 days ago.
    pub from: Option<String>,
    /// End of the period (exclusive); default: now, included.
    pub to: Option<String>,
    /// `day` or `week`; default by the period's length.
    pub bucket: Option<String>,
    /// A category id: that category and everything under it.
    pub category: Option<String>,
    pub product: Option<String>,
    /// Partner slug.
    pub partner: Option<String>,
    /// Organisation slug.
    pub organization: Option<String>,
    pub channel: Option<String>,
    /// Tier 1 to 3.
    pub tier: Option<String>,
    /// Queue slug.
    pub queue: Option<String>,
}

/// Filters checked and resolved to ids.
#[derive(Debug, Clone)]
pub struct Filters {
    pub from: Timestamp,
    pub to: Timestamp,
    pub bucket: Bucket,
    pub cases: CaseFilter,
    /// Read whole days from their current daily rollups (`resolve_filters` sets it). False
    /// aggregates every case in SQL: the reference the rollups are tested against.
    pub rollups: bool,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub async fn resolve_filters(
    store: &Store,
    input: &FilterInput,
    now: Timestamp,
) -> ApiResult<Filters> {
    let (from, to) = crate::extract::period(
        present(&input.from),
        present(&input.to),
        now,
        Span::DAY.times(30),
    )?;
    let bad = |field: &str, message: String| {
        ApiError::bad_request("invalid_query", format!("{field}: {message}"))
    };
    if to.since(from) > Span::DAY.times(3 * 366) {
        return Err(bad("from", "choose a period of three years or less".into()));
    }
    let bucket = match present(&input.bucket) {
        Some(b) => Bucket::parse(b).map_err(|e| bad("bucket", e.0))?,
        None => Bucket::for_period(from, to),
    };
    let mut cases = CaseFilter::default();
    if let Some(category) = present(&input.category) {
        let id: i64 = category
            .parse()
            .map_err(|_| bad("category", "write a category id".into()))?;
        let all = store.categories().await?;
        if !all.iter().any(|c| c.id == id) {
            return Err(bad("category", format!("there is no category {id}")));
        }
        cases.categories = descendants(&all, id);
    }
    cases.product = present(&input.product).map(str::to_string);
    cases.channel = present(&input.channel).map(str::to_string);
    if let Some(slug) = present(&input.partner) {
        let org = store
            .org_by_slug(slug)
            .await
            .map_err(|_| bad("partner", format!("there is no partner {slug:?}")))?;
        cases.partner = Some(org.id);
    }
    if let Some(slug) = present(&input.organization) {
        let org = store
            .org_by_slug(slug)
            .await
            .map_err(|_| bad("organization", format!("there is no organisation {slug:?}")))?;
        cases.organization = Some(org.id);
    }
    if let Some(tier) = present(&input.tier) {
        cases.tier = Some(
            tier.parse::<i64>()
                .ok()
                .filter(|t| (1..=3).contains(t))
                .ok_or_else(|| bad("tier", "write 1, 2 or 3".into()))?,
        );
    }
    if let Some(slug) = present(&input.queue) {
        let queue = store
            .queue_by_slug(slug)
            .await
            .map_err(|_| bad("queue", format!("there is no queue {slug:?}")))?;
        cases.queue = Some(queue.id.0);
    }
    Ok(Filters {
        from,
        to,
        bucket,
        cases,
        rollups: true,
    })
}

/// Turns dimension keys into the words people read.
struct Labels {
    categories: HashMap<i64, String>,
    orgs: HashMap<i64, String>,
    queues: HashMap<i64, String>,
}

impl Labels {
    async fn load(store: &Store) -> ApiResult<Labels> {
        let categories = tree(store.categories().await?)
            .into_iter()
            .map(|n| (n.category.id, n.path))
            .collect();
        let orgs = store
            .organization_names()
            .await?
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect();
        let queues = store
            .queue_names()
            .await?
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect();
        Ok(Labels {
            categories,
            orgs,
            queues,
        })
    }

    fn of(&self, dimension: Dimension, id: Option<i64>, text: Option<&str>) -> String {
        let named = |map: &HashMap<i64, String>, id: i64| {
            map.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
        };
        match (dimension, id, text) {
            (Dimension::Category, Some(id), _) => named(&self.categories, id),
            (Dimension::Category, None, _) => "uncategorised".into(),
            (Dimension::Partner, Some(id), _) | (Dimension::Organization, Some(id), _) => {
                named(&self.orgs, id)
            }
            (Dimension::Partner, None, _) => "no partner (direct)".into(),
            (Dimension::Queue, Some(id), _) => named(&self.queues, id),
            (Dimension::Queue, None, _) => "no queue".into(),
            (Dimension::Tier, Some(t), _) => format!("L{t}"),
            (Dimension::Product, _, None) => "no product".into(),
            (_, _, Some(text)) => text.to_string(),
            (_, _, None) => "—".into(),
        }
    }
}

/// One line of a chart over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: String,
    /// The key's id where the dimension has ids (categories, partners...).
    pub id: Option<i64>,
    pub counts: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeReport {
    pub buckets: Vec<Timestamp>,
    /// Largest first.
    pub series: Vec<Series>,
    /// Per bucket, all series together.
    pub totals: Vec<i64>,
    pub total: i64,
}

/// Cases filed per bucket, by a dimension.
pub async fn volume(
    store: &Store,
    caller: &User,
    dimension: Dimension,
    filters: &Filters,
) -> ApiResult<VolumeReport> {
    staff_only(caller)?;
    let labels = Labels::load(store).await?;
    let bucket = filters.bucket;
    let rows = counts_by_bucket(store, Count::Filed(dimension), filters).await?;
    let buckets = bucket.starts(filters.from, filters.to);
    let position: HashMap<i64, usize> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_millis(), i))
        .collect();
    let mut by_key: BTreeMap<String, Series> = BTreeMap::new();
    let mut totals = vec![0; buckets.len()];
    for row in rows {
        let Some(&at) = position.get(&row.bucket) else {
            continue;
        };
        let key = labels.of(dimension, row.key_id, row.key_text.as_deref());
        let series = by_key.entry(key.clone()).or_insert_with(|| Series {
            key,
            id: row.key_id,
            counts: vec![0; buckets.len()],
            total: 0,
        });
        series.counts[at] += row.n;
        series.total += row.n;
        totals[at] += row.n;
    }
    let mut series: Vec<Series> = by_key.into_values().collect();
    series.sort_by(|a, b| b.total.cmp(&a.total).then(a.key.cmp(&b.key)));
    Ok(VolumeReport {
        buckets,
        total: totals.iter().sum(),
        series,
        totals,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct DriverRow {
    pub category_id: Option<i64>,
    pub category: String,
    pub current: i64,
    pub previous: i64,
    pub change: i64,
    pub growth_bp: Option<i64>,
    pub share_bp: i64,
    /// Cases per bucket, least-squares slope over the period.
    pub trend: f64,
    /// A validated article answers cases of this category; without one, write one.
    pub has_validated_article: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DriversReport {
    pub previous_from: Timestamp,
    pub total: i64,
    pub drivers: Vec<DriverRow>,
}

/// The filters' cases counted in the filters' buckets over their whole period.
async fn counts_by_bucket(
    store: &Store,
    count: Count,
    filters: &Filters,
) -> ApiResult<Vec<backline_store::analytics::BucketCount>> {
    rollups::counts(
        store,
        count,
        filters.from,
        filters.to,
        filters.bucket.origin(),
        filters.bucket.span().as_millis(),
        &filters.cases,
        filters.rollups,
    )
    .await
}

/// Categories growing fastest: this period against the one of the same length before.
pub async fn drivers(store: &Store, caller: &User, filters: &Filters) -> ApiResult<DriversReport> {
    let current = volume(store, caller, Dimension::Category, filters).await?;
    let length = filters.to.since(filters.from);
    let previous_from = filters.from.minus(length);
    // One bucket: the whole previous period.
    let previous = rollups::counts(
        store,
        Count::Filed(Dimension::Category),
        previous_from,
        filters.from,
        previous_from.as_millis(),
        length.as_millis(),
        &filters.cases,
        filters.rollups,
    )
    .await?;
    let labels = Labels::load(store).await?;
    let mut counts: BTreeMap<Option<i64>, DriverCounts<Option<i64>>> = BTreeMap::new();
    for s in &current.series {
        counts.insert(
            s.id,
            DriverCounts {
                key: s.id,
                current: s.total,
                previous: 0,
                series: s.counts.clone(),
            },
        );
    }
    for row in previous {
        counts
            .entry(row.key_id)
            .or_insert_with(|| DriverCounts {
                key: row.key_id,
                current: 0,
                previous: 0,
                series: vec![0; current.buckets.len()],
            })
            .previous += row.n;
    }
    let answered: HashSet<i64> = store
        .categories_with_validated_articles()
        .await?
        .into_iter()
        .collect();
    let counts: Vec<_> = counts.into_values().collect();
    let drivers = rank_drivers(&counts, current.total)
        .into_iter()
        .map(|d| DriverRow {
            category_id: d.key,
            category: labels.of(Dimension::Category, d.key, None),
            current: d.current,
            previous: d.previous,
            change: d.change,
            growth_bp: d.growth_bp,
            share_bp: d.share_bp,
            trend: d.trend,
            has_validated_article: d.key.is_some_and(|k| answered.contains(&k)),
        })
        .collect();
    Ok(DriversReport {
        previous_from,
        total: current.total,
        drivers,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct BacklogReport {
    pub at: Timestamp,
    /// Age band names, youngest first.
    pub bands: Vec<String>,
    /// Per status in work: its count in each band.
    pub statuses: Vec<(String, Vec<i64>)>,
    /// Per band, every status.
    pub totals: Vec<i64>,
    pub total: i64,
}

/// Cases in work now, by status and age (the period does not apply; the other filters do).
pub async fn backlog(
    store: &Store,
    caller: &User,
    filters: &Filters,
    now: Timestamp,
) -> ApiResult<BacklogReport> {
    staff_only(caller)?;
    // Band i holds cases created after now - upper(i); the last band is the rest.
    let starts: Vec<Timestamp> = AGE_BANDS[..AGE_BANDS.len() - 1]
        .iter()
        .map(|(_, days)| now.minus(Span::DAY.times(*days)))
        .collect();
    let rows = store.backlog(&starts, &filters.cases).await?;
    let order = ["new", "open", "pending", "on_hold"];
    let mut statuses: Vec<(String, Vec<i64>)> = order
        .iter()
        .map(|s| (s.to_string(), vec![0; AGE_BANDS.len()]))
        .collect();
    let mut totals = vec![0; AGE_BANDS.len()];
    for row in rows {
        let band = (row.band.max(0) as usize).min(AGE_BANDS.len() - 1);
        if let Some((_, counts)) = statuses.iter_mut().find(|(s, _)| *s == row.status) {
            counts[band] += row.n;
        }
        totals[band] += row.n;
    }
    Ok(BacklogReport {
        at: now,
        bands: AGE_BANDS.iter().map(|(name, _)| name.to_string()).collect(),
        statuses,
        total: totals.iter().sum(),
        totals,
    })
}

/// What reply and resolution times are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimesBy {
    Tier,
    Queue,
    Partner,
    /// Tiered queues against swarming ones.
    SupportModel,
}

impl TimesBy {
    pub fn parse(text: &str) -> Result<TimesBy, ApiError> {
        match text {
            "tier" => Ok(TimesBy::Tier),
            "queue" => Ok(TimesBy::Queue),
            "partner" => Ok(TimesBy::Partner),
            "model" => Ok(TimesBy::SupportModel),
            other => Err(ApiError::bad_request(
                "invalid_query",
                format!("by: choose tier, queue, partner or model, not {other:?}"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimesBy::Tier => "tier",
            TimesBy::Queue => "queue",
            TimesBy::Partner => "partner",
            TimesBy::SupportModel => "model",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimesRow {
    pub key: String,
    pub cases: i64,
    pub first_reply: Durations,
    pub resolution: Durations,
    /// Hand-offs (escalations, queue moves, reassignments) per case, in hundredths.
    pub handoffs_per_case_x100: i64,
    /// Cases reopened after solving / cases solved at least once.
    pub reopen_rate_bp: Option<i64>,
}

/// First-reply and resolution times (median, p90), hand-offs and reopen rate of the cases
/// filed in the period, by a dimension.
pub async fn times(
    store: &Store,
    caller: &User,
    by: TimesBy,
    filters: &Filters,
) -> ApiResult<Vec<TimesRow>> {
    staff_only(caller)?;
    let labels = Labels::load(store).await?;
    let group = match by {
        TimesBy::Tier => TimesGroup::Tier,
        TimesBy::Queue => TimesGroup::Queue,
        TimesBy::Partner => TimesGroup::Partner,
        TimesBy::SupportModel => TimesGroup::SupportModel,
    };
    let key = |id: Option<i64>, text: Option<&str>| match by {
        TimesBy::Tier => format!("L{}", id.unwrap_or_default()),
        TimesBy::Queue => labels.of(Dimension::Queue, id, None),
        TimesBy::Partner => labels.of(Dimension::Partner, id, None),
        TimesBy::SupportModel => text.unwrap_or("no queue").to_string(),
    };
    let groups = rollups::times(
        store,
        group,
        filters.from,
        filters.to,
        &filters.cases,
        filters.rollups,
    )
    .await?;
    let mut rows: Vec<TimesRow> = groups
        .into_iter()
        .map(|g| TimesRow {
            key: key(g.key_id, g.key_text.as_deref()),
            cases: g.cases,
            first_reply: g.first_reply,
            resolution: g.resolution,
            handoffs_per_case_x100: if g.cases > 0 {
                ((g.handoffs as f64 / g.cases as f64) * 100.0).round() as i64
            } else {
                0
            },
            reopen_rate_bp: figures::share_bp(g.reopened, g.solved),
        })
        .collect();
    // By name, then (two queues may share one) largest first, so the order never depends
    // on how the groups were gathered.
    rows.sort_by(|a, b| a.key.cmp(&b.key).then(b.cases.cmp(&a.cases)));
    Ok(rows)
}

/// Classifications in the order shown.
pub const OUTCOMES: [&str; 4] = ["known", "new", "invalid_escalation", "unknown"];

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeReport {
    pub buckets: Vec<Timestamp>,
    /// Per bucket, the count of each of `OUTCOMES`.
    pub counts: Vec<[i64; 4]>,
    pub totals: [i64; 4],
}

/// Solved cases by classification (known, new, invalid escalation, unknown), by the
/// bucket they were solved in.
pub async fn outcomes(store: &Store, caller: &User, filters: &Filters) -> ApiResult<OutcomeReport> {
    staff_only(caller)?;
    let bucket = filters.bucket;
    let rows = counts_by_bucket(store, Count::SolvedByClassification, filters).await?;
    let buckets = bucket.starts(filters.from, filters.to);
    let mut counts = vec![[0i64; 4]; buckets.len()];
    let mut totals = [0i64; 4];
    for row in rows {
        let Some(at) = buckets.iter().position(|b| b.as_millis() == row.bucket) else {
            continue;
        };
        // A solved case not yet classified counts as unknown.
        let kind = row.key_text.as_deref().unwrap_or("unknown");
        let k = OUTCOMES.iter().position(|o| *o == kind).unwrap_or(3);
        counts[at][k] += row.n;
        totals[k] += row.n;
    }
    Ok(OutcomeReport {
        buckets,
        counts,
        totals,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeflectionReport {
    pub forms: i64,
    pub shown_suggestions: i64,
    pub opened: i64,
    pub filed_after_opening: i64,
    pub deflected: i64,
    pub rate_bp: Option<i64>,
}

/// Self-service deflection in the period, counted as the knowledge feature counts it.
pub async fn deflection(
    store: &Store,
    caller: &User,
    filters: &Filters,
    now: Timestamp,
) -> ApiResult<DeflectionReport> {
    staff_only(caller)?;
    let c = store
        .deflection_counts(
            filters.from,
            filters.to,
            now.minus(crate::knowledge::service::ABANDONED_AFTER),
        )
        .await?;
    Ok(DeflectionReport {
        forms: c.forms,
        shown_suggestions: c.shown_suggestions,
        opened: c.opened,
        filed_after_opening: c.filed_after_opening,
        deflected: c.deflected,
        rate_bp: figures::share_bp(c.deflected, c.shown_suggestions),
    })
}

/// The dimension named in a query.
pub fn dimension(text: &str) -> ApiResult<Dimension> {
    Ok(match text {
        "category" => Dimension::Category,
        "product" => Dimension::Product,
        "partner" => Dimension::Partner,
        "channel" => Dimension::Channel,
        "organization" => Dimension::Organization,
        "tier" => Dimension::Tier,
        "queue" => Dimension::Queue,
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "by: choose category, product, partner, channel, organization, tier or queue, not {other:?}"
                ),
            ))
        }
    })
}
