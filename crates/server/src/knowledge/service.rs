//! Knowledge rules shared by the API and the web pages: who reads and writes articles, search
//! within the caller's sight, known-issue suggestions and links.

use crate::cases::service::visible_case;
use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::knowledge::check_article_state;
use backline_domain::query::{Clause, DocType, FilterField, SearchQuery};
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseId, FieldErrors, Priority, Span,
    Timestamp,
};
use backline_search::{Hit, MatchInput, Sort, Suggestion, Visibility};
use backline_store::{
    Article, ArticleEdit, ArticleFilter, CaseFilter, CaseLink, LinkTarget, NewArticle, User,
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

/// What a search found.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// False while this node's index is catching up after start. The hits then come from the
    /// database (`search_database`): every word in a case's subject or description or an
    /// article's title or text, newest first, no comments.
    pub complete: bool,
}

/// Search across cases, comments and articles, only within what the caller may see.
pub async fn search(
    state: &AppState,
    caller: &User,
    query: SearchQuery,
    sort: Sort,
    limit: usize,
) -> ApiResult<Found> {
    let limit = limit.clamp(1, MAX_RESULTS);
    if !state.search().is_ready() {
        // An index still catching up would answer "nothing found" for what it has not read
        // yet; the database has it all, if with plainer matching.
        let hits = search_database(state, caller, &query, limit).await?;
        return Ok(Found {
            hits,
            complete: false,
        });
    }
    let index = state.search().index.clone();
    let visibility = Visibility::for_actor(&caller.actor());
    let hits = tokio::task::spawn_blocking(move || index.search(&query, &visibility, sort, limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Found {
        hits,
        complete: true,
    })
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
        created_at_ms: case.created_at.as_millis(),
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
        created_at_ms: Timestamp::now().as_millis(),
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
        .or_conflict("already_linked")
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
