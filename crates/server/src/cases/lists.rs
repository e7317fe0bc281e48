//! Case lists: views (built in and saved), their queries, counts and pages, and bulk changes.
//! The API and the case list page both come here, so a view reads the same in both.

use crate::cases::service::{self, CaseUpdate};
use crate::error::{ApiError, ApiResult, StoreResult};
use backline_domain::query::{FilterField, SearchQuery};
use backline_domain::views::{AssigneeFilter, CaseListQuery, CaseSort, BUILT_IN_VIEWS};
use backline_domain::{CaseId, FieldErrors, Role};
use backline_store::{CaseFilter, CaseRecord, SavedView, Store, StoreError, User};

pub const PAGE_SIZE: usize = 50;
/// Saved views per person (their own) and shared, so a list of views stays a list.
const MAX_VIEWS: usize = 50;
const MAX_VIEW_NAME: usize = 80;
/// Cases one bulk action may change.
pub const MAX_BULK: usize = 200;

/// A view as a person sees it in their list of views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewEntry {
    /// `mine`, `active`... for built-in views, `v12` for saved view 12.
    pub key: String,
    pub name: String,
    pub query: String,
    pub sort: CaseSort,
    pub shared: bool,
    /// Whether this person may delete it.
    pub deletable: bool,
}

/// The views a person has: the built-in ones their role gets, then shared and own saved ones.
pub async fn views_for(store: &Store, caller: &User) -> ApiResult<Vec<ViewEntry>> {
    let staff = caller.role.is_staff();
    let mut views: Vec<ViewEntry> = BUILT_IN_VIEWS
        .iter()
        .filter(|v| staff || v.for_everyone)
        .map(|v| ViewEntry {
            key: v.key.to_string(),
            name: v.name.to_string(),
            query: v.query.to_string(),
            sort: v.sort,
            shared: true,
            deletable: false,
        })
        .collect();
    if staff {
        for saved in store.saved_views(caller.id).await? {
            views.push(entry(&saved, caller));
        }
    }
    Ok(views)
}

fn entry(saved: &SavedView, caller: &User) -> ViewEntry {
    ViewEntry {
        key: format!("v{}", saved.id),
        name: saved.name.clone(),
        query: saved.query.clone(),
        sort: CaseSort::parse(&saved.sort).unwrap_or_default(),
        shared: saved.owner_id.is_none(),
        deletable: saved.created_by == caller.id || caller.role == Role::Admin,
    }
}

/// The view a key names, if this person has it.
pub async fn find_view(store: &Store, caller: &User, key: &str) -> ApiResult<ViewEntry> {
    views_for(store, caller)
        .await?
        .into_iter()
        .find(|v| v.key == key)
        .ok_or(ApiError::NotFound("view"))
}

/// Reads a list query typed by `caller`, refusing what their role may not filter by.
pub fn parse_list_query(caller: &User, text: &str) -> ApiResult<CaseListQuery> {
    let query = SearchQuery::parse(text).map_err(|e| ApiError::validation("q", e.to_string()))?;
    if !caller.role.is_staff() {
        let agent_only = [
            FilterField::Assignee,
            FilterField::Queue,
            FilterField::Tier,
            FilterField::Sla,
        ];
        if let Some(field) = agent_only
            .iter()
            .find(|f| query.filters(**f).next().is_some())
        {
            return Err(ApiError::validation(
                "q",
                format!(
                    "{field}: is for vendor staff; search by words, status, priority or product"
                ),
            ));
        }
    }
    CaseListQuery::from_query(&query).map_err(|e| ApiError::validation("q", e.0))
}

/// The store's filter for a list query, with `assignee:me` and e-mail addresses resolved.
pub async fn filter_for(
    store: &Store,
    caller: &User,
    list: &CaseListQuery,
    sort: CaseSort,
) -> ApiResult<CaseFilter> {
    let assignee = match &list.assignee {
        None => None,
        Some(AssigneeFilter::Me) => Some(Some(caller.id)),
        Some(AssigneeFilter::Nobody) => Some(None),
        Some(AssigneeFilter::Email(email)) => match store.user_by_email(email).await {
            Ok(user) => Some(Some(user.id)),
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "q",
                    format!("assignee: nobody has the address {email}"),
                ))
            }
            Err(e) => return Err(e.into()),
        },
    };
    Ok(CaseFilter {
        statuses: list.statuses.clone(),
        priorities: list.priorities.clone(),
        organizations: list.organizations.clone(),
        partners: list.partners.clone(),
        products: list.products.clone(),
        tags: list.tags.clone(),
        assignee,
        queues: list.queues.clone(),
        tiers: list.tiers.clone(),
        channels: list.channels.clone(),
        sla: list.sla.clone(),
        text: (!list.words.is_empty()).then(|| list.words.join(" ")),
        sort,
        limit: PAGE_SIZE,
        ..CaseFilter::default()
    })
}

/// Lists are counted exactly up to this many cases; past it they hold "more than" it.
pub const COUNT_CAP: i64 = 10_000;

/// One page of a list, counted.
#[derive(Debug)]
pub struct ListPage {
    pub cases: Vec<CaseRecord>,
    /// At most [`COUNT_CAP`]; see `more`.
    pub total: i64,
    /// The list holds more than `total` cases.
    pub more: bool,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    /// Newest-first lists only: where the next page starts.
    pub next_cursor: Option<CaseId>,
}

impl ListPage {
    pub fn pages(&self) -> usize {
        (self.total.max(0) as usize).div_ceil(self.per_page).max(1)
    }
}

/// Runs a list: page `page` (1-based) of `filter.limit` cases within what the caller may see,
/// and how many cases the whole list holds.
pub async fn run(
    store: &Store,
    caller: &User,
    mut filter: CaseFilter,
    page: usize,
) -> ApiResult<ListPage> {
    let page = page.max(1);
    filter.offset = (page - 1).saturating_mul(filter.limit);
    let scope = caller.actor().case_scope();
    let (cases, next_cursor) = store.list_cases(&filter, scope).await?;
    let counted = store.count_matching(&filter, scope, COUNT_CAP).await?;
    Ok(ListPage {
        cases,
        total: counted.min(COUNT_CAP),
        more: counted > COUNT_CAP,
        page,
        per_page: filter.limit,
        next_cursor,
    })
}

/// How many cases each view holds, for the list of views.
/// How many cases each view holds, for the list of views: at most [`COUNT_CAP`] + 1, which
/// reads "more than [`COUNT_CAP`]".
pub async fn count(store: &Store, caller: &User, view: &ViewEntry) -> ApiResult<i64> {
    let list = parse_list_query(caller, &view.query)?;
    let filter = filter_for(store, caller, &list, view.sort).await?;
    Ok(store
        .count_matching(&filter, caller.actor().case_scope(), COUNT_CAP)
        .await?)
}

/// Saves a view for `caller`, or for every agent when `shared`.
pub async fn save_view(
    store: &Store,
    caller: &User,
    name: &str,
    query: &str,
    sort: Option<&str>,
    shared: bool,
) -> ApiResult<ViewEntry> {
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "saved views are for vendor staff".into(),
        ));
    }
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() {
        errors.add("name", "give the view a name, such as \"Urgent for Acme\"");
    } else if name.chars().count() > MAX_VIEW_NAME {
        errors.add(
            "name",
            format!("a view's name has at most {MAX_VIEW_NAME} characters"),
        );
    }
    let query = query.trim();
    let list = match parse_list_query(caller, query) {
        Ok(list) => Some(list),
        Err(ApiError::Validation(e)) => {
            for (field, message) in e.0 {
                errors.add(&field, message);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let sort = match sort.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => errors.check("sort", CaseSort::parse(text)),
        None => Some(match &list {
            Some(l) if l.only_unsolved() => CaseSort::ATTENTION,
            _ => CaseSort::NEWEST_UPDATE,
        }),
    };
    errors.into_result()?;
    let existing = store.saved_views(caller.id).await?;
    let owner = (!shared).then_some(caller.id);
    if existing
        .iter()
        .any(|v| v.owner_id == owner && v.name.eq_ignore_ascii_case(name))
    {
        return Err(ApiError::validation(
            "name",
            "you already have a view with this name; choose another",
        ));
    }
    if existing.iter().filter(|v| v.owner_id == owner).count() >= MAX_VIEWS {
        return Err(ApiError::validation(
            "name",
            format!("at most {MAX_VIEWS} views; delete one you no longer use first"),
        ));
    }
    let sort = sort.unwrap_or_default();
    let saved = store
        .save_view(name, query, &sort.to_string(), owner, caller.id)
        .await?;
    Ok(entry(&saved, caller))
}

/// Deletes a saved view: one's own, a shared one one created, or any as an admin.
pub async fn delete_view(store: &Store, caller: &User, id: i64) -> ApiResult<()> {
    let view = store.saved_view(id).await.or_not_found("view")?;
    let visible = view.owner_id.is_none() || view.owner_id == Some(caller.id);
    if !caller.role.is_staff() || !visible {
        return Err(ApiError::NotFound("view"));
    }
    if view.created_by != caller.id && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only the person who shared a view, or an admin, can delete it".into(),
        ));
    }
    store.delete_view(id).await.or_not_found("view")
}

/// What a bulk action did to each case.
#[derive(Debug)]
pub struct BulkOutcome {
    pub changed: Vec<CaseRecord>,
    /// Cases left as they were, and why (in words).
    pub refused: Vec<(CaseId, String)>,
}

/// Applies one change to several cases, each under the same rules as a single change; a case
/// the change cannot apply to is reported, and the others still change.
pub async fn bulk_update(
    store: &Store,
    caller: &User,
    ids: &[CaseId],
    update: &CaseUpdate,
    add_tags: &[String],
    merge_into: Option<CaseId>,
) -> ApiResult<BulkOutcome> {
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "bulk changes are for vendor staff".into(),
        ));
    }
    if ids.is_empty() {
        return Err(ApiError::validation("cases", "select at least one case"));
    }
    if ids.len() > MAX_BULK {
        return Err(ApiError::validation(
            "cases",
            format!("select at most {MAX_BULK} cases at once"),
        ));
    }
    let mut outcome = BulkOutcome {
        changed: Vec::new(),
        refused: Vec::new(),
    };
    if let Some(into) = merge_into {
        // Every selected duplicate goes into the one chosen; the survivor itself stays.
        for id in ids.iter().filter(|id| **id != into) {
            match super::work::merge(store, caller, *id, into).await {
                Ok(_) => outcome.changed.push(store.case(*id).await?),
                Err(ApiError::NotFound(_)) => outcome.refused.push((*id, "no such case".into())),
                Err(ApiError::Validation(errors)) => outcome.refused.push((*id, errors.summary())),
                Err(ApiError::Forbidden(message)) => outcome.refused.push((*id, message)),
                Err(e) => return Err(e),
            }
        }
        return Ok(outcome);
    }
    let mut one = update.clone();
    if !add_tags.is_empty() {
        // Added to each case's tags as they are when its change is written, not as read here.
        one.add_tags = Some(add_tags.to_vec());
    }
    for id in ids {
        match service::update_case(store, caller, *id, one.clone(), None).await {
            Ok(case) => outcome.changed.push(case),
            Err(ApiError::NotFound(_)) => outcome.refused.push((*id, "no such case".into())),
            Err(ApiError::Validation(errors)) => {
                outcome.refused.push((*id, errors.summary()));
            }
            Err(ApiError::Forbidden(message)) => outcome.refused.push((*id, message)),
            Err(e) => return Err(e),
        }
    }
    Ok(outcome)
}
