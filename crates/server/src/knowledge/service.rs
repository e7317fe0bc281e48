//! Knowledge rules shared by the API and the web pages: who reads and writes articles, search
//! within the caller's sight, known-issue suggestions and links.

use crate::cases::service::visible_case;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::knowledge::check_article_state;
use backline_domain::query::{DocType, SearchQuery};
use backline_domain::{ArticleContent, ArticleId, ArticleState, Audience, CaseId, FieldErrors};
use backline_search::{Hit, MatchInput, Sort, Suggestion, Visibility};
use backline_store::{
    Article, ArticleEdit, ArticleFilter, CaseLink, LinkTarget, NewArticle, StoreError, User,
};

/// Results per page of search, at most.
pub const MAX_RESULTS: usize = 100;
/// A new-case form is abandoned after this long without activity; one that opened a
/// suggestion and was abandoned counts as deflected.
pub const ABANDONED_AFTER_MS: i64 = 30 * 60 * 1000;

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
    let article = state.store.article(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("article"),
        other => other.into(),
    })?;
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
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
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
) -> ApiResult<Article> {
    let current = readable_article(state, caller, id).await?;
    staff_only(caller, "editing articles")?;
    let old = current.content;
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
    Ok(state
        .store
        .update_article(
            id,
            &ArticleEdit {
                content,
                state: new_state,
                audience: patch.audience.unwrap_or(current.audience),
                editor: caller.id,
                at: None,
            },
        )
        .await?)
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
    Ok(state
        .store
        .list_articles(&ArticleFilter {
            states,
            audiences,
            product,
            before,
            limit,
        })
        .await?)
}

/// Parses a query, or says where it went wrong.
pub fn parse_query(q: &str) -> ApiResult<SearchQuery> {
    SearchQuery::parse(q).map_err(|e| ApiError::bad_request("invalid_query", format!("q: {e}")))
}

/// Search across cases, comments and articles, only within what the caller may see.
pub async fn search(
    state: &AppState,
    caller: &User,
    query: SearchQuery,
    sort: Sort,
    limit: usize,
) -> ApiResult<Vec<Hit>> {
    let index = state.search().index.clone();
    let visibility = Visibility::for_actor(&caller.actor());
    let limit = limit.clamp(1, MAX_RESULTS);
    let hits = tokio::task::spawn_blocking(move || index.search(&query, &visibility, sort, limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(hits)
}

/// The articles and solved cases most likely to answer a case the caller can see.
pub async fn suggestions_for_case(
    state: &AppState,
    caller: &User,
    case: CaseId,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let case = visible_case(&state.store, caller, case).await?;
    suggest(state, caller, match_input_for(&case), limit).await
}

/// What the matcher looks for to answer a stored case: the same for the product and for
/// `backline learn`, so learned weights fit what users get.
pub fn match_input_for(case: &backline_store::CaseRecord) -> MatchInput {
    MatchInput {
        title: case.subject.clone(),
        body: case.description.clone(),
        created_at_ms: (case.created_at.unix_timestamp_nanos() / 1_000_000) as i64,
        versions: Vec::new(),
        exclude: Some((DocType::Case, case.id.0)),
        articles_only: false,
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
        created_at_ms: backline_store::now_millis(),
        versions: Vec::new(),
        exclude: None,
        articles_only: true,
    };
    suggest(state, caller, input, limit).await
}

async fn suggest(
    state: &AppState,
    caller: &User,
    input: MatchInput,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let search = state.search().clone();
    let weights = search.weights();
    let visibility = Visibility::for_actor(&caller.actor());
    let limit = limit.clamp(1, 50);
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
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "already_linked",
                message,
            },
            other => other.into(),
        })
}

pub async fn links(state: &AppState, caller: &User, case: CaseId) -> ApiResult<Vec<CaseLink>> {
    let case = visible_case(&state.store, caller, case).await?;
    let links = state.store.case_links(case.id).await?;
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
