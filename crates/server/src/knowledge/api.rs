//! `/api/v1/articles`, `/api/v1/search`, suggestions, links and deflection figures.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{etag, period, IfMatch, Json, Path, Query};
use crate::knowledge::service::{self as knowledge, ArticlePatch, ArticleSubmission, FoundRow};
use crate::views::PartnerFlag;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use backline_domain::query::DocType;
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseId, CaseStatus, Priority, Span,
    Timestamp,
};
use backline_search::{QuestionScope, Sort, Suggestion};
use backline_store::{Article, ArticleRevision, CaseLink, LinkTarget};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleView {
    pub id: i64,
    pub title: String,
    /// The problem in the words of the people who have it.
    pub issue: String,
    /// Products, versions and setup where it happens.
    pub environment: String,
    pub resolution: String,
    pub cause: String,
    pub state: ArticleState,
    pub audience: Audience,
    pub products: Vec<String>,
    pub versions: Vec<String>,
    pub author: crate::views::UserRefView,
    pub source_case: Option<i64>,
    pub revision: i64,
    pub reuse_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Article> for ArticleView {
    fn from(a: &Article) -> Self {
        ArticleView {
            id: a.id.0,
            title: a.content.title.clone(),
            issue: a.content.issue.clone(),
            environment: a.content.environment.clone(),
            resolution: a.content.resolution.clone(),
            cause: a.content.cause.clone(),
            state: a.state,
            audience: a.audience,
            products: a.content.products.clone(),
            versions: a.content.versions.clone(),
            author: (&a.author).into(),
            source_case: a.source_case.map(|c| c.0),
            revision: a.revision,
            reuse_count: a.reuse_count,
            created_at: a.created_at.to_rfc3339(),
            updated_at: a.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub articles: Vec<ArticleView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    pub revision: i64,
    pub editor: crate::views::UserRefView,
    /// The fields this revision changed.
    pub changed: Vec<String>,
    pub title: String,
    pub issue: String,
    pub environment: String,
    pub resolution: String,
    pub cause: String,
    pub state: ArticleState,
    pub audience: Audience,
    pub products: Vec<String>,
    pub versions: Vec<String>,
    pub created_at: String,
}

impl From<&ArticleRevision> for RevisionView {
    fn from(r: &ArticleRevision) -> Self {
        RevisionView {
            revision: r.revision,
            editor: (&r.editor).into(),
            changed: r.changed.clone(),
            title: r.content.title.clone(),
            issue: r.content.issue.clone(),
            environment: r.content.environment.clone(),
            resolution: r.content.resolution.clone(),
            cause: r.content.cause.clone(),
            state: r.state,
            audience: r.audience,
            products: r.content.products.clone(),
            versions: r.content.versions.clone(),
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub revisions: Vec<RevisionView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArticle {
    pub title: String,
    #[serde(default)]
    pub issue: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub cause: String,
    /// Defaults to `draft`.
    pub state: Option<ArticleState>,
    /// Defaults to `internal`.
    pub audience: Option<Audience>,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub versions: Vec<String>,
    /// The case this article is written from; that case is linked and classified `new`.
    pub source_case: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArticleQuery {
    /// One state or several separated by commas.
    pub state: Option<String>,
    /// One audience or several separated by commas.
    pub audience: Option<String>,
    pub product: Option<String>,
    /// Words to search for; the same query language as `/search`, limited to articles.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100 (default 50).
    pub limit: Option<usize>,
}

fn invalid_query(message: String) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

fn parse_list<T>(
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, backline_domain::ParseError>,
) -> ApiResult<Vec<T>> {
    match text {
        None => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse(s).map_err(|e| invalid_query(format!("{field}: {e}"))))
            .collect(),
    }
}

fn limit_of(limit: Option<usize>, max: usize) -> ApiResult<usize> {
    let limit = limit.unwrap_or(max.min(50));
    if !(1..=max).contains(&limit) {
        return Err(invalid_query(format!(
            "limit: must be 1 to {max}, not {limit}"
        )));
    }
    Ok(limit)
}

#[utoipa::path(get, path = "/api/v1/articles", tag = "knowledge", params(ArticleQuery),
    responses((status = 200, body = ArticleList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_articles(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<ArticleQuery>,
) -> ApiResult<axum::Json<ArticleList>> {
    let states = parse_list("state", query.state.as_deref(), ArticleState::parse)?;
    let audiences = parse_list("audience", query.audience.as_deref(), Audience::parse)?;
    let limit = limit_of(query.limit, 100)?;
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        // Ranked search among articles: the index applies the same audience rules.
        let mut parsed = knowledge::parse_query(q)?;
        parsed.clauses.push(backline_domain::query::Clause::Filter {
            field: backline_domain::query::FilterField::Type,
            value: "article".into(),
        });
        for s in &states {
            parsed.clauses.push(backline_domain::query::Clause::Filter {
                field: backline_domain::query::FilterField::State,
                value: s.as_str().into(),
            });
        }
        let rows = knowledge::search(
            &state,
            &caller,
            parsed,
            Sort::Relevance,
            1,
            limit,
            QuestionScope::Nothing,
        )
        .await?
        .rows;
        let mut articles = Vec::with_capacity(rows.len());
        for found in rows {
            // Read from the database so the answer is current even if the index lags.
            if let Ok(a) =
                knowledge::readable_article(&state, &caller, ArticleId(found.row.id)).await
            {
                if audiences.is_empty() || audiences.contains(&a.audience) {
                    articles.push(ArticleView::from(&a));
                }
            }
        }
        return Ok(axum::Json(ArticleList {
            articles,
            next_cursor: None,
        }));
    }
    let before = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(ArticleId(c.parse().map_err(|_| {
            invalid_query(format!("cursor: {c:?} is not a cursor this API returned"))
        })?)),
    };
    let (articles, next) = knowledge::list_articles(
        &state,
        &caller,
        states,
        audiences,
        query.product.filter(|p| !p.trim().is_empty()),
        before,
        limit,
    )
    .await?;
    Ok(axum::Json(ArticleList {
        articles: articles.iter().map(ArticleView::from).collect(),
        next_cursor: next.map(|id| id.0.to_string()),
    }))
}

#[utoipa::path(post, path = "/api/v1/articles", tag = "knowledge", request_body = CreateArticle,
    responses((status = 201, body = ArticleView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_article(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<CreateArticle>,
) -> ApiResult<(StatusCode, axum::Json<ArticleView>)> {
    let article = knowledge::create_article(
        &state,
        &caller,
        ArticleSubmission {
            content: ArticleContent {
                title: body.title,
                issue: body.issue,
                environment: body.environment,
                resolution: body.resolution,
                cause: body.cause,
                products: body.products,
                versions: body.versions,
            },
            state: body.state,
            audience: body.audience,
            source_case: body.source_case,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(ArticleView::from(&article))))
}

#[utoipa::path(get, path = "/api/v1/articles/{id}", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = ArticleView, headers(("ETag" = String, description = "The article's revision, for `If-Match` on an edit"))),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_article(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let article = knowledge::readable_article(&state, &caller, ArticleId(id)).await?;
    Ok((
        etag(article.revision),
        axum::Json(ArticleView::from(&article)),
    ))
}

#[utoipa::path(patch, path = "/api/v1/articles/{id}", tag = "knowledge", params(("id" = i64, Path)), request_body = ArticlePatch,
    params(("If-Match" = Option<String>, Header, description = "The ETag the edit was made against: an article changed since answers 412 `stale`")),
    responses((status = 200, body = ArticleView, headers(("ETag" = String, description = "The article's new revision"))),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_article(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    Json(patch): Json<ArticlePatch>,
) -> ApiResult<impl IntoResponse> {
    let article =
        knowledge::update_article(&state, &caller, ArticleId(id), patch, expected).await?;
    Ok((
        etag(article.revision),
        axum::Json(ArticleView::from(&article)),
    ))
}

#[utoipa::path(get, path = "/api/v1/articles/{id}/revisions", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = RevisionList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revisions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RevisionList>> {
    knowledge::readable_article(&state, &caller, ArticleId(id)).await?;
    // Earlier revisions may have been drafts or internal; their history is the vendor's.
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "revision history is for vendor staff".into(),
        ));
    }
    let revisions = state.store.article_revisions(ArticleId(id)).await?;
    Ok(axum::Json(RevisionList {
        revisions: revisions.iter().map(RevisionView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/articles/{id}/revisions/{revision}", tag = "knowledge",
    params(("id" = i64, Path), ("revision" = i64, Path)),
    responses((status = 200, body = RevisionView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revision(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<RevisionView>> {
    knowledge::readable_article(&state, &caller, ArticleId(id)).await?;
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "revision history is for vendor staff".into(),
        ));
    }
    let revisions = state.store.article_revisions(ArticleId(id)).await?;
    let revision = revisions
        .iter()
        .find(|r| r.revision == number)
        .ok_or(ApiError::NotFound("revision"))?;
    Ok(axum::Json(RevisionView::from(revision)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The query, e.g. `disk full "quota exceeded" status:open type:case`.
    pub q: String,
    /// `relevance` (default) or `newest`.
    pub sort: Option<String>,
    /// Rows per page, 1 to 100 (default 20).
    pub limit: Option<usize>,
    /// Which page, from 1 (default 1).
    pub page: Option<usize>,
}

/// A comment that matched, shown under its case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentMatchView {
    pub id: i64,
    pub excerpt: String,
    pub created_at: String,
    /// Where to read the case's comments in the API.
    pub href: String,
}

/// One row of results: a case, once, with the comments that matched under it, an article, or
/// a community question (found by its text or its published answers').
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    /// `case`, `article` or `question`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: DocType,
    pub id: i64,
    /// Cases: the number people quote (the same value as `id`).
    pub number: Option<i64>,
    pub title: String,
    pub excerpt: String,
    pub created_at: String,
    pub score: f32,
    /// Where to read it in the API.
    pub href: String,
    /// Cases: as they stand now.
    pub status: Option<CaseStatus>,
    pub priority: Option<Priority>,
    /// Cases: the partner that filed it or serves its customer; `null` for direct support
    /// and for articles.
    pub partner: Option<PartnerFlag>,
    /// Cases: whether the case's own subject or description matched (not only comments).
    pub matched_itself: bool,
    /// Cases: the best matching comments the caller may see, three at most.
    pub comments: Vec<CommentMatchView>,
    /// Cases: matching comments beyond those listed.
    pub more_comments: usize,
}

impl From<&FoundRow> for ResultView {
    fn from(found: &FoundRow) -> Self {
        let row = &found.row;
        let case = found.case.as_ref();
        ResultView {
            kind: row.kind,
            id: row.id,
            number: case.map(|c| c.id.0),
            title: case.map_or_else(|| row.title.clone(), |c| c.subject.clone()),
            excerpt: row.excerpt.clone(),
            created_at: Timestamp::from_millis(row.created_at_ms).to_rfc3339(),
            score: row.score,
            href: href(row.kind, row.id, None),
            status: case.map(|c| c.status),
            priority: case.map(|c| c.priority),
            partner: case.and_then(|c| c.partner.as_ref()).map(PartnerFlag::from),
            matched_itself: row.matched_itself,
            comments: row
                .comments
                .iter()
                .map(|c| CommentMatchView {
                    id: c.id,
                    excerpt: c.excerpt.clone(),
                    created_at: Timestamp::from_millis(c.created_at_ms).to_rfc3339(),
                    href: href(DocType::Comment, c.id, Some(row.id)),
                })
                .collect(),
            more_comments: row.more_comments,
        }
    }
}

fn href(kind: DocType, id: i64, case_id: Option<i64>) -> String {
    match kind {
        DocType::Case => format!("/api/v1/cases/{id}"),
        DocType::Comment => format!("/api/v1/cases/{}/comments", case_id.unwrap_or_default()),
        DocType::Article => format!("/api/v1/articles/{id}"),
        DocType::Question => format!("/api/v1/community/questions/{id}"),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    /// This page of results.
    pub results: Vec<ResultView>,
    /// Rows (cases, articles and community questions) the whole search holds.
    pub total: usize,
    /// This page, from 1.
    pub page: usize,
    /// Pages the whole search fills (at least 1).
    pub pages: usize,
    pub per_page: usize,
    /// `false` while this node's search index is still catching up after a start (`/healthz`
    /// shows its progress): the results then come from a plainer database search (every word
    /// in a case's subject or description or an article's title or text, newest first,
    /// comments and community questions not searched), so something may be missing.
    pub complete: bool,
}

/// Reads `sort=`.
pub(crate) fn sort_of(sort: Option<&str>) -> ApiResult<Sort> {
    match sort.map(str::trim) {
        None | Some("") | Some("relevance") => Ok(Sort::Relevance),
        Some("newest") => Ok(Sort::Newest),
        Some(other) => Err(invalid_query(format!(
            "sort: expected relevance or newest, not {other:?}"
        ))),
    }
}

#[utoipa::path(get, path = "/api/v1/search", tag = "knowledge", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = crate::error::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<SearchResults>> {
    let parsed = knowledge::parse_query(&params.q)?;
    let sort = sort_of(params.sort.as_deref())?;
    let per_page = limit_of(
        params.limit.or(Some(knowledge::PER_PAGE)),
        knowledge::MAX_RESULTS,
    )?;
    let page = knowledge::page_number(params.page)?;
    let questions = crate::community::service::question_scope_of(&state, &caller).await?;
    let found = knowledge::search(
        &state,
        &caller,
        parsed.clone(),
        sort,
        page,
        per_page,
        questions,
    )
    .await?;
    Ok(axum::Json(SearchResults {
        query: parsed.to_string(),
        results: found.rows.iter().map(ResultView::from).collect(),
        total: found.total,
        page: found.page,
        pages: found.pages(),
        per_page: found.per_page,
        complete: found.complete,
    }))
}

/// A suggested answer. Vendor staff see why it was suggested; customers and partner
/// technicians see what it is (`excerpt`, `score`, `confidence` and `reasons` are `null` for
/// them), and only suggestions the matcher is sure of.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    /// `article` or `case` (a solved case).
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: DocType,
    pub id: i64,
    pub title: String,
    pub excerpt: Option<String>,
    /// The matcher's ranking score, comparable within this list only.
    pub score: Option<f32>,
    /// How much of the case's title wording and identifiers it holds, by rarity: 0 to 1.
    pub confidence: Option<f32>,
    /// Why it matched, for people: shared words, identifiers, versions, timing, cases it
    /// answered.
    pub reasons: Option<Vec<String>>,
    pub href: String,
}

impl SuggestionView {
    fn new(s: &Suggestion, staff: bool) -> Self {
        SuggestionView {
            kind: s.kind,
            id: s.id,
            title: s.title.clone(),
            excerpt: staff.then(|| s.excerpt.clone()),
            score: staff.then_some(s.score),
            confidence: staff.then_some(s.confidence),
            reasons: staff.then(|| s.reasons.clone()),
            href: href(s.kind, s.id, None),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionView>,
    /// `false` while this node's search index is still catching up after a start (`/healthz`
    /// shows its progress): answers it has not read yet cannot be suggested.
    pub complete: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestionParams {
    /// 1 to 50 (default 10).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/suggestions", tag = "knowledge",
    params(("id" = i64, Path), SuggestionParams),
    responses((status = 200, body = SuggestionList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Query(params): Query<SuggestionParams>,
) -> ApiResult<axum::Json<SuggestionList>> {
    let limit = limit_of(params.limit.or(Some(10)), 50)?;
    // Read before suggesting: if the index turns ready meanwhile, this errs on "incomplete".
    let complete = state.search().is_ready();
    let suggestions = knowledge::suggestions_for_case(&state, &caller, CaseId(id), limit).await?;
    let staff = caller.role.is_staff();
    Ok(axum::Json(SuggestionList {
        suggestions: suggestions
            .iter()
            .map(|s| SuggestionView::new(s, staff))
            .collect(),
        complete,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    /// The article that answers the case...
    pub article_id: Option<i64>,
    /// ...or the earlier case that does.
    pub case_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub id: i64,
    pub case_id: i64,
    pub article_id: Option<i64>,
    pub linked_case_id: Option<i64>,
    pub title: String,
    pub linked_by: crate::views::UserRefView,
    pub created_at: String,
}

impl From<&CaseLink> for LinkView {
    fn from(l: &CaseLink) -> Self {
        let (article_id, linked_case_id) = match l.target {
            LinkTarget::Article(a) => (Some(a.0), None),
            LinkTarget::Case(c) => (None, Some(c.0)),
        };
        LinkView {
            id: l.id,
            case_id: l.case_id.0,
            article_id,
            linked_case_id,
            title: l.title.clone(),
            linked_by: (&l.linked_by).into(),
            created_at: l.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    pub links: Vec<LinkView>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/links", tag = "knowledge", params(("id" = i64, Path)), request_body = CreateLink,
    responses((status = 201, body = LinkView), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    Json(body): Json<CreateLink>,
) -> ApiResult<(StatusCode, axum::Json<LinkView>)> {
    let link = knowledge::link(&state, &caller, CaseId(id), body.article_id, body.case_id).await?;
    Ok((StatusCode::CREATED, axum::Json(LinkView::from(&link))))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/links", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = LinkList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_links(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<LinkList>> {
    let links = knowledge::links(&state, &caller, CaseId(id)).await?;
    Ok(axum::Json(LinkList {
        links: links.iter().map(LinkView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    /// Start of the period, a date (`2026-11-01`) or RFC 3339 time; default 30 days ago.
    pub from: Option<String>,
    /// End of the period (exclusive); default: now, included.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeflectionView {
    pub from: String,
    pub to: String,
    /// New-case forms started by customers and partners.
    pub forms: i64,
    pub shown_suggestions: i64,
    pub opened_suggestion: i64,
    pub filed_after_opening: i64,
    /// Opened a suggestion and left without filing (after 30 minutes without activity).
    pub deflected: i64,
    /// deflected / forms that were shown suggestions; `null` when none were.
    pub deflection_rate: Option<f64>,
    /// The help centre's figures over the same period.
    pub help_centre: HelpDeflectionView,
}

/// Help-centre visits (article views and searches) by signed-in customers and partner
/// technicians; one counts as deflected when its person files no case within a day after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HelpDeflectionView {
    pub article_views: i64,
    pub searches: i64,
    pub deflected: i64,
    /// Up to 100 articles, most deflections first.
    pub by_article: Vec<HelpDeflectionRowView>,
    /// Categories, most deflections first; `id` and `name` are `null` for articles in none.
    pub by_category: Vec<HelpDeflectionRowView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpDeflectionRowView {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub visits: i64,
    pub deflected: i64,
}

impl From<&backline_store::help::HelpDeflectionRow> for HelpDeflectionRowView {
    fn from(r: &backline_store::help::HelpDeflectionRow) -> Self {
        HelpDeflectionRowView {
            id: r.id,
            name: r.name.clone(),
            visits: r.visits,
            deflected: r.deflected,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/deflections", tag = "knowledge", params(PeriodParams),
    responses((status = 200, body = DeflectionView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn deflections(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(params): Query<PeriodParams>,
) -> ApiResult<axum::Json<DeflectionView>> {
    if !caller.role.is_staff() {
        return Err(ApiError::Forbidden(
            "deflection figures are for vendor staff".into(),
        ));
    }
    let now = Timestamp::now();
    let (from, to) = period(
        params.from.as_deref(),
        params.to.as_deref(),
        now,
        Span::DAY.times(30),
    )?;
    let counts = state
        .store
        .deflection_counts(from, to, now.minus(knowledge::ABANDONED_AFTER))
        .await?;
    let help = crate::help::service::deflection(&state, from, to).await?;
    Ok(axum::Json(DeflectionView {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        forms: counts.forms,
        shown_suggestions: counts.shown_suggestions,
        opened_suggestion: counts.opened,
        filed_after_opening: counts.filed_after_opening,
        deflected: counts.deflected,
        deflection_rate: (counts.shown_suggestions > 0)
            .then(|| counts.deflected as f64 / counts.shown_suggestions as f64),
        help_centre: HelpDeflectionView {
            article_views: help.article_views,
            searches: help.searches,
            deflected: help.deflected,
            by_article: help.by_article.iter().map(Into::into).collect(),
            by_category: help.by_category.iter().map(Into::into).collect(),
        },
    }))
}
