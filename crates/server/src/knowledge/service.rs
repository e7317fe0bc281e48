//! Knowledge rules shared by the API and the web pages: who reads and writes articles, search
//! within the caller's sight, known-issue suggestions and links.

use crate::cases::service::visible_case;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::knowledge::check_article_state;
use backline_domain::query::{partner_named, Clause, DocType, FilterField, SearchQuery};
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseId, FieldErrors, OrgKind, Priority,
    Span, Timestamp,
};
use backline_search::{
    Among, Hit, MatchInput, QuestionScope, ResultRow, Sort, Suggestion, Visibility,
};
use backline_store::{
    Article, ArticleEdit, ArticleFilter, CaseFilter, CaseLink, CaseRecord, LinkTarget, NewArticle,
    StoreError, User,
};

/// Results per page of search, at most.
pub const MAX_RESULTS: usize = 100;
/// A new-case form is abandoned after this long without activity; one that opened a
/// suggestion and was abandoned counts as deflected.
pub const ABANDONED_AFTER: Span = Span::MINUTE.times(30);

fn staff_only(caller: &User, what: &str) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("{what} is for vendor staff")))
    }
}

/// The article if the caller may read it; otherwise the same 404 as for one that does not exist.
pub async fn readable_article(
    state: &AppState,
    caller: &User,
    id: ArticleId,
) -> ApiResult<Article> {
    let article = state.store.article(id).await.or_not_found("article")?;
    if !caller
        .actor()
        .can_read_article(article.state, article.audience)
    {
        return Err(ApiError::NotFound("article"));
    }
    Ok(article)
}

/// A new article as submitted.
#[derive(Debug, Default)]
pub struct ArticleSubmission {
    pub content: ArticleContent,
    pub state: Option<ArticleState>,
    pub audience: Option<Audience>,
    pub source_case: Option<i64>,
}

pub async fn create_article(
    state: &AppState,
    caller: &User,
    submission: ArticleSubmission,
) -> ApiResult<Article> {
    staff_only(caller, "writing articles")?;
    let content = ArticleContent::parse(submission.content)?;
    let article_state = submission.state.unwrap_or(ArticleState::Draft);
    check_article_state(article_state, &content)?;
    let source_case = match submission.source_case {
        Some(id) => Some(
            visible_case(&state.store, caller, CaseId(id))
                .await
                .map_err(|_| ApiError::validation("source_case", "no such case"))?
                .id,
        ),
        None => None,
    };
    let article = state
        .store
        .create_article(&NewArticle {
            content,
            state: article_state,
            audience: submission.audience.unwrap_or(Audience::Internal),
            author: caller.id,
            source_case,
            at: None,
        })
        .await?;
    Ok(article)
}

/// Fields to change; a field left out stays as it is.
// The API's body, and what the edit form fills in.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateArticle)]
pub struct ArticlePatch {
    pub title: Option<String>,
    pub issue: Option<String>,
    pub environment: Option<String>,
    pub resolution: Option<String>,
    pub cause: Option<String>,
    pub products: Option<Vec<String>>,
    pub versions: Option<Vec<String>>,
    pub state: Option<ArticleState>,
    pub audience: Option<Audience>,
}

pub async fn update_article(
    state: &AppState,
    caller: &User,
    id: ArticleId,
    patch: ArticlePatch,
    expected_revision: Option<i64>,
) -> ApiResult<Article> {
    // The fields left out of the patch come from the article as read here; the write is made
    // against that revision, so an edit landing in between is never overwritten with what was
    // read before it. Without a precondition of the caller's own, the patch is simply merged
    // again over the newer revision.
    let mut attempts = 0;
    loop {
        let current = readable_article(state, caller, id).await?;
        staff_only(caller, "editing articles")?;
        if expected_revision.is_some_and(|r| r != current.revision) {
            return Err(StoreError::Stale {
                current: current.revision,
            }
            .into());
        }
        let old = current.content;
        let patch = patch.clone();
        let content = ArticleContent::parse(ArticleContent {
            title: patch.title.unwrap_or(old.title),
            issue: patch.issue.unwrap_or(old.issue),
            environment: patch.environment.unwrap_or(old.environment),
            resolution: patch.resolution.unwrap_or(old.resolution),
            cause: patch.cause.unwrap_or(old.cause),
            products: patch.products.unwrap_or(old.products),
            versions: patch.versions.unwrap_or(old.versions),
        })?;
        let new_state = patch.state.unwrap_or(current.state);
        check_article_state(new_state, &content)?;
        let edit = ArticleEdit {
            content,
            state: new_state,
            audience: patch.audience.unwrap_or(current.audience),
            editor: caller.id,
            at: None,
            expected_revision: Some(current.revision),
        };
        match state.store.update_article(id, &edit).await {
            Err(StoreError::Stale { .. }) if expected_revision.is_none() && attempts < 3 => {
                attempts += 1;
            }
            result => return Ok(result?),
        }
    }
}

/// The caller's readable articles, narrowed by the requested states and audiences.
fn readable_filter(
    caller: &User,
    states: Vec<ArticleState>,
    audiences: Vec<Audience>,
    product: Option<String>,
    limit: usize,
) -> ArticleFilter {
    let actor = caller.actor();
    let readable = |s: ArticleState, a: Audience| actor.can_read_article(s, a);
    let states: Vec<ArticleState> = ArticleState::ALL
        .iter()
        .copied()
        .filter(|s| states.is_empty() || states.contains(s))
        .filter(|s| Audience::ALL.iter().any(|a| readable(*s, *a)))
        .collect();
    let audiences: Vec<Audience> = Audience::ALL
        .iter()
        .copied()
        .filter(|a| audiences.is_empty() || audiences.contains(a))
        .filter(|a| ArticleState::ALL.iter().any(|s| readable(*s, *a)))
        .collect();
    ArticleFilter {
        states,
        audiences,
        product,
        before: None,
        limit,
    }
}

/// The caller's readable articles, narrowed by the requested states and audiences.
pub async fn list_articles(
    state: &AppState,
    caller: &User,
    states: Vec<ArticleState>,
    audiences: Vec<Audience>,
    product: Option<String>,
    before: Option<ArticleId>,
    limit: usize,
) -> ApiResult<(Vec<Article>, Option<ArticleId>)> {
    let filter = ArticleFilter {
        before,
        ..readable_filter(caller, states, audiences, product, limit)
    };
    Ok(state.store.list_articles(&filter).await?)
}

/// Articles in the knowledge list: this many to a page.
pub const ARTICLES_PER_PAGE: usize = 100;

/// Page `page` (from 1) of the caller's readable articles in these states, newest first, and
/// how many there are in all.
pub async fn article_page(
    state: &AppState,
    caller: &User,
    states: Vec<ArticleState>,
    page: usize,
) -> ApiResult<(Vec<Article>, usize)> {
    let filter = readable_filter(caller, states, Vec::new(), None, ARTICLES_PER_PAGE);
    let (articles, total) = state.store.article_page(&filter, page).await?;
    Ok((articles, usize::try_from(total).unwrap_or_default()))
}

/// Parses a query, or says where it went wrong.
pub fn parse_query(q: &str) -> ApiResult<SearchQuery> {
    let query = SearchQuery::parse(q)
        .map_err(|e| ApiError::bad_request("invalid_query", format!("q: {e}")))?;
    if let Some(field) = FilterField::ALL
        .iter()
        .find(|f| !f.in_search() && query.filters(**f).next().is_some())
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("q: {field}: filters case lists, not search; use it on the case list"),
        ));
    }
    Ok(query)
}

/// Rows per page of search results.
pub const PER_PAGE: usize = 20;
/// The deepest page one may ask for: far beyond what people page through, and it bounds the
/// rows ranked for one answer.
pub const MAX_PAGE: usize = 500;

/// One row of search results: a case, read from the database so its status, priority and
/// partner flag are current, with the matching comments the reader may see; or an article.
#[derive(Debug, Clone)]
pub struct FoundRow {
    pub row: ResultRow,
    /// Case rows: the case as stored.
    pub case: Option<backline_store::CaseRecord>,
}

/// A page of search results.
#[derive(Debug, Clone)]
pub struct Found {
    pub rows: Vec<FoundRow>,
    /// Rows the whole search holds.
    pub total: usize,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    /// False while this node's index is catching up after start. The rows then come from the
    /// database (`search_database`): every word in a case's subject or description or an
    /// article's title or text, newest first, no comments and no community questions.
    pub complete: bool,
}

impl Found {
    /// Pages the whole search fills (at least one).
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// Checks a requested page number (1-based).
pub fn page_number(page: Option<usize>) -> ApiResult<usize> {
    match page.unwrap_or(1) {
        page @ 1..=MAX_PAGE => Ok(page),
        other => Err(ApiError::bad_request(
            "invalid_query",
            format!("page: must be 1 to {MAX_PAGE}, not {other}"),
        )),
    }
}

/// `partner:` values name partners by slug prefix or a part of the name, as in case lists;
/// the index holds each case's partner slug, so each value becomes the slugs it names (a value
/// that names no partner stays as it is and finds nothing).
async fn resolve_partners(state: &AppState, query: &SearchQuery) -> ApiResult<SearchQuery> {
    if query.filters(FilterField::Partner).next().is_none() {
        return Ok(query.clone());
    }
    let partners = state
        .store
        .list_orgs(Some(OrgKind::Partner), None, None)
        .await?;
    let mut clauses = Vec::with_capacity(query.clauses.len());
    for clause in &query.clauses {
        match clause {
            Clause::Filter {
                field: FilterField::Partner,
                value,
            } => {
                let named: Vec<&str> = partners
                    .iter()
                    .filter(|p| partner_named(value, &p.slug, &p.name))
                    .map(|p| p.slug.as_str())
                    .collect();
                if named.is_empty() {
                    clauses.push(clause.clone());
                }
                for slug in named {
                    clauses.push(Clause::Filter {
                        field: FilterField::Partner,
                        value: slug.to_string(),
                    });
                }
            }
            other => clauses.push(other.clone()),
        }
    }
    Ok(SearchQuery { clauses })
}

/// Search across cases (with their comments), articles and the community questions of
/// `questions` (the spaces the caller reads, as the community decides), only within what the
/// caller may see: page `page` (1-based) of `per_page` rows, and how many rows there are in
/// all.
pub async fn search(
    state: &AppState,
    caller: &User,
    query: SearchQuery,
    sort: Sort,
    page: usize,
    per_page: usize,
    questions: QuestionScope,
) -> ApiResult<Found> {
    let per_page = per_page.clamp(1, MAX_RESULTS);
    let page = page.clamp(1, MAX_PAGE);
    let query = resolve_partners(state, &query).await?;
    let (rows, total, complete) = if state.search().is_ready() {
        let index = state.search().index.clone();
        let visibility = Visibility::for_actor(&caller.actor()).with_questions(questions.clone());
        let found = tokio::task::spawn_blocking(move || {
            index.search_rows(&query, &visibility, sort, page - 1, per_page)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        (found.rows, found.total, true)
    } else {
        // An index still catching up would answer "nothing found" for what it has not read
        // yet; the database has it all, if with plainer matching.
        let wanted = page * per_page;
        let hits = search_database(state, caller, &query, wanted + 1).await?;
        let total = hits.len();
        let rows = hits
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|hit| ResultRow {
                kind: hit.kind,
                id: hit.id,
                title: hit.title,
                excerpt: hit.excerpt,
                created_at_ms: hit.created_at_ms,
                score: hit.score,
                matched_itself: true,
                comments: Vec::new(),
                more_comments: 0,
            })
            .collect();
        (rows, total, false)
    };
    // Questions too are read again: the index may not yet know one was taken down.
    let question_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == DocType::Question)
        .map(|r| r.id)
        .collect();
    let shown_questions = findable_questions(state, &question_ids, &questions).await?;
    let mut found = Vec::with_capacity(rows.len());
    let mut total = total;
    for row in rows {
        if row.kind == DocType::Question && !shown_questions.contains(&row.id) {
            total = total.saturating_sub(1);
            continue;
        }
        let case = if row.kind == DocType::Case {
            // Read again under the caller's sight: the index decides what matched, the
            // database what the case is now.
            match visible_case(&state.store, caller, CaseId(row.id)).await {
                Ok(case) => Some(case),
                Err(ApiError::NotFound(_)) => {
                    total = total.saturating_sub(1);
                    continue;
                }
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        found.push(FoundRow { row, case });
    }
    Ok(Found {
        rows: found,
        total,
        page,
        per_page,
        complete,
    })
}

/// Which of these questions can be found now (published, not merged: the domain's
/// `community::findable`) in the spaces of `scope`, read from the database.
pub async fn findable_questions(
    state: &AppState,
    ids: &[i64],
    scope: &QuestionScope,
) -> ApiResult<std::collections::HashSet<i64>> {
    if ids.is_empty() || *scope == QuestionScope::Nothing {
        return Ok(Default::default());
    }
    Ok(state
        .store
        .community_posts_by_ids(ids, Timestamp::now())
        .await?
        .into_iter()
        .filter(|p| {
            p.kind == backline_domain::community::PostKind::Question
                && backline_domain::community::findable(p.state, p.merged_into.is_some())
                && scope.admits(p.space_id)
        })
        .map(|p| p.id)
        .collect())
}

/// Pages of this many rows are read while searching the database.
const DATABASE_PAGE: usize = 200;
/// At most this many cases (newest first) are looked at per database search; it only stands in
/// while the index catches up, and must not turn into a scan of millions.
const DATABASE_CASES_SCANNED: usize = 5_000;

/// The search the database can do: every word and phrase of `query` must appear, ignoring
/// case, in a case's subject or description or an article's title or text; filters mean what
/// they mean to the index; visibility is the same (cases through the caller's SQL scope,
/// articles through the article rules). Newest first, as there is no ranking.
pub async fn search_database(
    state: &AppState,
    caller: &User,
    query: &SearchQuery,
    limit: usize,
) -> ApiResult<Vec<Hit>> {
    let values = |field: FilterField| -> Vec<String> {
        query
            .filters(field)
            .map(|v| v.trim().to_lowercase())
            .collect()
    };
    let types: Vec<DocType> = values(FilterField::Type)
        .iter()
        .filter_map(|t| DocType::parse(t).ok())
        .collect();
    let wants = |kind: DocType| types.is_empty() || types.contains(&kind);
    let needles: Vec<String> = query
        .clauses
        .iter()
        .filter_map(|c| match c {
            Clause::Word(w) | Clause::Phrase(w) => Some(flatten(w)),
            Clause::Filter { .. } => None,
        })
        .filter(|n| !n.is_empty())
        .collect();
    let matches = |text: &str| {
        let text = flatten(text);
        needles.iter().all(|n| text.contains(n.as_str()))
    };
    let (statuses, priorities, orgs, partners, tags) = (
        values(FilterField::Status),
        values(FilterField::Priority),
        values(FilterField::Org),
        values(FilterField::Partner),
        values(FilterField::Tag),
    );
    let (products, states, audiences) = (
        values(FilterField::Product),
        values(FilterField::State),
        values(FilterField::Audience),
    );
    let one = |list: &[String]| (list.len() == 1).then(|| list[0].clone());
    let mut hits = Vec::new();

    // Cases carry no state or audience, so such filters leave them out, as in the index.
    if wants(DocType::Case) && states.is_empty() && audiences.is_empty() {
        let mut filter = CaseFilter {
            statuses: statuses
                .iter()
                .filter_map(|s| backline_domain::query::statuses_named(s).ok())
                .flatten()
                .collect(),
            priorities: priorities
                .iter()
                .filter_map(|p| Priority::parse(p).ok())
                .collect(),
            organizations: orgs.clone(),
            partners: partners.clone(),
            products: products.clone(),
            text: (!needles.is_empty()).then(|| needles.join(" ")),
            limit: DATABASE_PAGE,
            ..CaseFilter::default()
        };
        let mut scanned = 0;
        let mut found = 0;
        while scanned < DATABASE_CASES_SCANNED && found < limit {
            let (page, next) =
                crate::cases::service::list_cases(&state.store, caller, &filter).await?;
            scanned += page.len();
            for case in page {
                // Several tags mean any of them here, as in the index.
                let fits = (tags.is_empty()
                    || case.tags.iter().any(|t| tags.contains(&t.to_lowercase())))
                    && matches(&format!("{}\n{}", case.subject, case.description));
                if fits {
                    found += 1;
                    hits.push(Hit {
                        kind: DocType::Case,
                        id: case.id.0,
                        case_id: Some(case.id.0),
                        title: case.subject.clone(),
                        excerpt: backline_search::excerpt(&case.description),
                        created_at_ms: case.created_at.as_millis(),
                        score: 0.0,
                    });
                }
            }
            match next {
                Some(before) => filter.before = Some(before),
                None => break,
            }
        }
    }

    // Articles carry none of the case fields, so case filters leave them out.
    let case_filters = [&statuses, &priorities, &orgs, &partners, &tags];
    if wants(DocType::Article) && case_filters.iter().all(|f| f.is_empty()) {
        let states: Vec<ArticleState> = states
            .iter()
            .filter_map(|s| ArticleState::parse(s).ok())
            .collect();
        let audiences: Vec<Audience> = audiences
            .iter()
            .filter_map(|a| Audience::parse(a).ok())
            .collect();
        let mut before = None;
        let mut found = 0;
        // A knowledge base is small beside the cases: read all of it the caller may see.
        loop {
            let (page, next) = list_articles(
                state,
                caller,
                states.clone(),
                audiences.clone(),
                one(&products),
                before,
                DATABASE_PAGE,
            )
            .await?;
            for article in page {
                let fits = (products.is_empty()
                    || article
                        .content
                        .products
                        .iter()
                        .any(|p| products.contains(&p.trim().to_lowercase())))
                    && matches(&format!(
                        "{}\n{}",
                        article.content.title,
                        article.content.body()
                    ));
                if fits {
                    found += 1;
                    hits.push(Hit {
                        kind: DocType::Article,
                        id: article.id.0,
                        case_id: None,
                        title: article.content.title.clone(),
                        excerpt: backline_search::excerpt(&article.content.body()),
                        created_at_ms: article.created_at.as_millis(),
                        score: 0.0,
                    });
                }
            }
            match next {
                Some(next) if found < limit => before = Some(next),
                _ => break,
            }
        }
    }
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.created_at_ms));
    hits.truncate(limit);
    Ok(hits)
}

/// Lower case, runs of white space as one space: how the database search compares text.
fn flatten(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Suggestions kept per case and sight: enough for the case page (5) and the API's default
/// (10). Asking for more works them out on the spot.
pub const KEPT_SUGGESTIONS: usize = 10;
/// Customers and partner technicians see a suggestion only when it holds at least this share
/// of the case's title wording (by rarity, see `Suggestion::confidence`): a list of loosely
/// related titles would send them reading the wrong answers.
pub const SIMILAR_CONFIDENCE: f32 = 0.6;

/// The articles and solved cases most likely to answer a case the caller can see. Staff get
/// the matcher's full list; customers and partner technicians only suggestions above
/// `SIMILAR_CONFIDENCE` that they may read now.
///
/// Up to `KEPT_SUGGESTIONS` come from the list kept for the case and the caller's sight, read
/// with the case in one round trip (the case page asks on every view); a list that is missing
/// or stale is worked out and kept (a view racing the suggester keeps the same list twice,
/// harmlessly). While the index catches up at start, lists are worked out and never kept.
pub async fn suggestions_for_case(
    state: &AppState,
    caller: &User,
    case: CaseId,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    Ok(suggestions_with_origin(state, caller, case, limit).await?.0)
}

/// `suggestions_for_case`, and whether the list is the one kept for the case and still
/// current: such a list changes only with a row the case page's counters cover, so the page's
/// data may be kept with it. A list worked out on the spot may not (see below).
pub async fn suggestions_with_origin(
    state: &AppState,
    caller: &User,
    case: CaseId,
    limit: usize,
) -> ApiResult<(Vec<Suggestion>, bool)> {
    let mut from_kept = false;
    let actor = caller.actor();
    let visibility = Visibility::for_actor(&actor);
    let limit = limit.clamp(1, 50);
    let mut list = if limit <= KEPT_SUGGESTIONS && state.search().is_ready() {
        let sight = visibility.key();
        let found = state
            .store
            .case_with_kept_suggestions(case, &sight)
            .await?
            .ok_or(ApiError::NotFound("case"))?;
        // The same rule and the same answer as `visible_case`.
        if !actor.can_see_case(found.organization, found.partner) {
            return Err(ApiError::NotFound("case"));
        }
        let input = match_input(case, &found.subject, &found.description, found.created_at);
        let fingerprint = input_fingerprint(&input, &state.search().weights());
        let kept = found
            .kept
            .filter(|k| k.is_current(found.basis, fingerprint))
            .and_then(|k| match serde_json::from_str::<Vec<Suggestion>>(&k.json) {
                Ok(list) => Some(list),
                Err(e) => {
                    tracing::warn!(error = %e, case = case.0, "kept suggestions unreadable");
                    None
                }
            });
        match kept {
            Some(list) => {
                from_kept = true;
                list
            }
            None => {
                // A list is kept only once the index holds the case (checked before the
                // matcher takes its view of the index): from then on, any knowledge that
                // arrives later moves the case's stamp (the suggester finds the open cases a
                // newly solved one resembles in the index). A list worked out earlier could
                // miss a case solved meanwhile and never be told.
                let indexed = state.search().index.holds(DocType::Case, case.0);
                let list = suggest(state, visibility, input, KEPT_SUGGESTIONS).await?;
                if indexed {
                    let json = serde_json::to_string(&list)
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                    // Keeping is a saving, not a promise: a failed write costs a later view a
                    // recompute.
                    if let Err(e) = state
                        .store
                        .store_suggestions(case, &sight, found.basis, fingerprint, &json)
                        .await
                    {
                        tracing::warn!(error = %e, case = case.0, "keeping suggestions failed");
                    }
                }
                list
            }
        }
    } else {
        let record = visible_case(&state.store, caller, case).await?;
        suggest(state, visibility, match_input_for(&record), limit).await?
    };
    if !caller.role.is_staff() {
        list = for_outsiders(state, &actor, list).await?;
    }
    list.truncate(limit);
    Ok((list, from_kept))
}

/// What customers and partner technicians are shown: suggestions the matcher is sure of, and
/// only articles they may read as they stand now (a kept list may predate an article being
/// withdrawn from their audience; the next recompute would drop it, this check does at once).
async fn for_outsiders(
    state: &AppState,
    actor: &backline_domain::Actor,
    list: Vec<Suggestion>,
) -> ApiResult<Vec<Suggestion>> {
    let sure: Vec<Suggestion> = list
        .into_iter()
        .filter(|s| s.confidence >= SIMILAR_CONFIDENCE)
        .collect();
    let articles: Vec<ArticleId> = sure
        .iter()
        .filter(|s| s.kind == DocType::Article)
        .map(|s| ArticleId(s.id))
        .collect();
    if articles.is_empty() {
        return Ok(sure);
    }
    let sight = state.store.article_sight(&articles).await?;
    Ok(sure
        .into_iter()
        .filter(|s| {
            s.kind != DocType::Article
                || sight
                    .get(&ArticleId(s.id))
                    .is_some_and(|(st, aud)| actor.can_read_article(*st, *aud))
        })
        .collect())
}

/// A fingerprint of what a kept list was worked out from: the case's text and time, and the
/// matcher's weights (learned weights change every list). The same on every node.
pub fn input_fingerprint(input: &MatchInput, weights: &backline_search::MatchWeights) -> i64 {
    let weights = serde_json::to_string(weights).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        input.title.as_bytes(),
        &[0],
        input.body.as_bytes(),
        &[0],
        &input.created_at_ms.to_le_bytes(),
        weights.as_bytes(),
    ] {
        for byte in part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash as i64
}

/// What the matcher looks for to answer a stored case: the same for the product and for
/// `backline learn`, so learned weights fit what users get.
pub fn match_input_for(case: &CaseRecord) -> MatchInput {
    match_input(case.id, &case.subject, &case.description, case.created_at)
}

fn match_input(id: CaseId, subject: &str, description: &str, created_at: Timestamp) -> MatchInput {
    MatchInput {
        title: subject.to_string(),
        body: description.to_string(),
        created_at_ms: created_at.as_millis(),
        versions: Vec::new(),
        exclude: Some((DocType::Case, id.0)),
        among: Among::ArticlesAndCases,
    }
}

/// Articles matching a case still being typed (self-service).
pub async fn suggestions_for_text(
    state: &AppState,
    caller: &User,
    subject: &str,
    description: &str,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let input = MatchInput {
        title: subject.chars().take(500).collect(),
        body: description.chars().take(20_000).collect(),
        created_at_ms: Timestamp::now().as_millis(),
        versions: Vec::new(),
        exclude: None,
        among: Among::Articles,
    };
    let visibility = Visibility::for_actor(&caller.actor());
    suggest(state, visibility, input, limit.clamp(1, 50)).await
}

/// The matcher's best `limit` answers for `input` within `visibility`, off the async workers.
pub async fn suggest(
    state: &AppState,
    visibility: Visibility,
    input: MatchInput,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let search = state.search().clone();
    let weights = search.weights();
    let suggestions = tokio::task::spawn_blocking(move || {
        search.index.suggest(&input, &visibility, &weights, limit)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(suggestions)
}

/// Links a case to the article or earlier case that answers it. Both must be visible to the
/// caller; only staff and the partner or customer on the case may link.
pub async fn link(
    state: &AppState,
    caller: &User,
    case: CaseId,
    article: Option<i64>,
    linked_case: Option<i64>,
) -> ApiResult<CaseLink> {
    let case = visible_case(&state.store, caller, case).await?;
    let target = match (article, linked_case) {
        (Some(a), None) => {
            readable_article(state, caller, ArticleId(a))
                .await
                .map_err(|_| ApiError::validation("article_id", "no such article"))?;
            LinkTarget::Article(ArticleId(a))
        }
        (None, Some(c)) => {
            if c == case.id.0 {
                return Err(ApiError::validation(
                    "case_id",
                    "a case cannot answer itself",
                ));
            }
            visible_case(&state.store, caller, CaseId(c))
                .await
                .map_err(|_| ApiError::validation("case_id", "no such case"))?;
            LinkTarget::Case(CaseId(c))
        }
        _ => {
            let mut errors = FieldErrors::new();
            errors.add("article_id", "give exactly one of article_id and case_id");
            return Err(errors.into());
        }
    };
    state
        .store
        .link_case(case.id, target, caller.id, None)
        .await
        .or_conflict("already_linked")
}

pub async fn links(state: &AppState, caller: &User, case: CaseId) -> ApiResult<Vec<CaseLink>> {
    let case = visible_case(&state.store, caller, case).await?;
    links_of(state, caller, &case).await
}

/// The links of a case the caller was already shown (`visible_case`), as `links` gives them.
pub async fn links_of(
    state: &AppState,
    caller: &User,
    case: &CaseRecord,
) -> ApiResult<Vec<CaseLink>> {
    let links = state.store.case_links(case.id).await?;
    if caller.role.is_staff() {
        // Staff read every article and case: nothing to leave out, nothing to look up.
        return Ok(links);
    }
    // A link may point at something this caller may not read (an internal article, another
    // organisation's case); such links are left out rather than half shown.
    let mut out = Vec::with_capacity(links.len());
    for link in links {
        let visible = match link.target {
            LinkTarget::Article(a) => readable_article(state, caller, a).await.is_ok(),
            LinkTarget::Case(c) => visible_case(&state.store, caller, c).await.is_ok(),
        };
        if visible {
            out.push(link);
        }
    }
    Ok(out)
}
