//! Help-centre rules: which centre a page belongs to and what its reader sees there, article
//! pages, search and suggestions, votes, visits for deflection, and staff's arrangement of
//! categories, sections, placements and partners' brands.

use crate::error::{ApiError, ApiResult, StoreResult};
use crate::AppState;
use backline_domain::help::{self, Brand, Centre, Helpfulness, Reader, Sight};
use backline_domain::query::{Clause, DocType, FilterField, SearchQuery};
use backline_domain::{ArticleId, ArticleState, FieldErrors, OrgKind, Role, Slug, Timestamp};
use backline_search::{Sort, Visibility};
use backline_store::help::{
    BrandRecord, HelpArticle, HelpArticleFilter, HelpCategory, HelpDeflection, HelpPlacement,
    HelpSection,
};
use backline_store::{Article, User};

/// One help centre as one reader sees it.
#[derive(Debug, Clone)]
pub struct HelpContext {
    pub centre: Centre,
    /// The partner's brand, in a partner's centre.
    pub brand: Option<BrandRecord>,
    pub reader: Option<User>,
    pub sight: Sight,
}

impl HelpContext {
    /// Where this centre's pages live: `/help` or `/help/p/{slug}`.
    pub fn base(&self) -> String {
        match &self.brand {
            Some(brand) => format!("/help/p/{}", brand.partner_slug),
            None => "/help".to_string(),
        }
    }

    /// The centre's name for titles.
    pub fn name(&self) -> &str {
        match &self.brand {
            Some(brand) => &brand.brand.name,
            None => "Help centre",
        }
    }

    pub fn article_path(&self, id: ArticleId, title: &str) -> String {
        format!("{}/articles/{}", self.base(), help::article_ref(id, title))
    }

    fn filter(&self, limit: usize) -> HelpArticleFilter {
        HelpArticleFilter {
            vendor: self.sight.vendor.clone(),
            own: match self.centre {
                Centre::Partner { partner, .. } => Some((partner, self.sight.own.clone())),
                Centre::Vendor => None,
            },
            limit,
            ..HelpArticleFilter::default()
        }
    }

    /// Whether an article with this state, audience and placement shows in this centre.
    fn shows(&self, article: &Article, placement: HelpPlacement) -> bool {
        if article.state != ArticleState::Validated {
            return false;
        }
        match (placement.partner_id, self.centre) {
            (None, _) => self.sight.vendor.contains(&article.audience),
            (Some(owner), Centre::Partner { partner, .. }) if owner == partner => {
                self.sight.own.contains(&article.audience)
            }
            (Some(_), _) => false,
        }
    }

    /// Signed-in customers and partner technicians: their visits count for deflection.
    fn counted_reader(&self) -> Option<&User> {
        self.reader.as_ref().filter(|u| !u.role.is_staff())
    }
}

/// The help centre at `/help` (no partner) or `/help/p/{slug}` for this reader. A partner's
/// centre exists only while the partner has a brand and its agreement gives it the customer;
/// otherwise it is a 404 like any unknown address.
pub async fn context(
    state: &AppState,
    reader: Option<User>,
    partner_slug: Option<&str>,
) -> ApiResult<HelpContext> {
    let (centre, brand) = match partner_slug {
        None => (Centre::Vendor, None),
        Some(slug) => {
            let brand = state
                .store
                .help_brand_by_slug(slug)
                .await?
                .ok_or(ApiError::NotFound("help centre"))?;
            let agreement = state.store.agreement(brand.partner_id).await?.terms;
            if !help::may_have_brand(&agreement) {
                return Err(ApiError::NotFound("help centre"));
            }
            (
                Centre::Partner {
                    partner: brand.partner_id,
                    vendor_kb: agreement.customers_see_vendor_kb,
                },
                Some(brand),
            )
        }
    };
    let who = match &reader {
        Some(user) => Reader::SignedIn(user.actor()),
        None => Reader::Anonymous,
    };
    Ok(HelpContext {
        centre,
        brand,
        sight: help::sight(centre, who),
        reader,
    })
}

/// Where a signed-in customer or partner technician finds self-service: its partner's branded
/// centre when there is one (the technician's own partner, or the partner serving the
/// customer), otherwise `/help`.
pub async fn home_for(state: &AppState, user: &User) -> ApiResult<String> {
    let partner = match (user.role, &user.org) {
        (Role::Partner, Some(org)) => Some(org.id),
        (Role::Customer, Some(org)) => state
            .store
            .org(org.id)
            .await?
            .served_by
            .map(|partner| partner.id),
        _ => None,
    };
    if let Some(partner) = partner {
        if let Some(brand) = state.store.help_brand(partner).await? {
            let agreement = state.store.agreement(partner).await?.terms;
            if help::may_have_brand(&agreement) {
                return Ok(format!("/help/p/{}", brand.partner_slug));
            }
        }
    }
    Ok("/help".to_string())
}

/// The front page: categories with their sections, and the most recently updated articles.
pub struct Front {
    pub categories: Vec<(HelpCategory, Vec<HelpSection>)>,
    pub recent: Vec<HelpArticle>,
}

/// Articles on the front page, at most.
pub const RECENT_ARTICLES: usize = 10;
/// Articles on a category page, at most (per category).
pub const CATEGORY_ARTICLES: usize = 500;

pub async fn front(state: &AppState, ctx: &HelpContext) -> ApiResult<Front> {
    let categories = arranged(state).await?;
    let recent = state
        .store
        .help_articles(&ctx.filter(RECENT_ARTICLES))
        .await?;
    Ok(Front { categories, recent })
}

async fn arranged(state: &AppState) -> ApiResult<Vec<(HelpCategory, Vec<HelpSection>)>> {
    let categories = state.store.help_categories().await?;
    let sections = state.store.help_sections().await?;
    Ok(categories
        .into_iter()
        .map(|c| {
            let mine = sections
                .iter()
                .filter(|s| s.category_id == c.id)
                .cloned()
                .collect();
            (c, mine)
        })
        .collect())
}

/// A category page: its sections, each with the articles in it this reader sees.
pub async fn category(
    state: &AppState,
    ctx: &HelpContext,
    slug: &str,
) -> ApiResult<(HelpCategory, Vec<(HelpSection, Vec<HelpArticle>)>)> {
    let (category, sections) = arranged(state)
        .await?
        .into_iter()
        .find(|(c, _)| c.slug == slug)
        .ok_or(ApiError::NotFound("category"))?;
    let articles = state
        .store
        .help_articles(&HelpArticleFilter {
            category: Some(category.id),
            ..ctx.filter(CATEGORY_ARTICLES)
        })
        .await?;
    let sections = sections
        .into_iter()
        .map(|s| {
            let inside = articles
                .iter()
                .filter(|a| a.section_id == Some(s.id))
                .cloned()
                .collect();
            (s, inside)
        })
        .collect();
    Ok((category, sections))
}

/// An article page's content.
pub struct ArticlePage {
    pub article: Article,
    pub category: Option<HelpCategory>,
    pub section: Option<HelpSection>,
    pub helpfulness: Helpfulness,
    pub related: Vec<HelpArticle>,
}

/// Related articles shown beside an article, at most.
pub const RELATED: usize = 5;

/// The article if this centre shows it to this reader (otherwise 404, like a missing one),
/// with where it sits, its votes and related articles. A signed-in customer's or partner
/// technician's view is recorded for deflection.
pub async fn article(state: &AppState, ctx: &HelpContext, id: ArticleId) -> ApiResult<ArticlePage> {
    let article = state.store.article(id).await.or_not_found("article")?;
    let placement = state.store.help_placement(id).await?;
    if !ctx.shows(&article, placement) {
        return Err(ApiError::NotFound("article"));
    }
    let arranged = arranged(state).await?;
    let (mut category, mut section) = (None, None);
    for (c, sections) in &arranged {
        if let Some(s) = sections.iter().find(|s| Some(s.id) == placement.section_id) {
            category = Some(c.clone());
            section = Some(s.clone());
        }
    }
    // Related: the same section first, then what a search for the title finds.
    let mut related: Vec<HelpArticle> = match placement.section_id {
        Some(section) => {
            state
                .store
                .help_articles(&HelpArticleFilter {
                    section: Some(section),
                    ..ctx.filter(RELATED + 1)
                })
                .await?
        }
        None => Vec::new(),
    };
    related.retain(|a| a.id != id);
    if related.len() < RELATED {
        for found in search(state, ctx, &article.content.title, RELATED + 1)
            .await?
            .0
        {
            if found.id != id && !related.iter().any(|r| r.id == found.id) {
                related.push(found);
            }
        }
    }
    related.truncate(RELATED);
    if let Some(user) = ctx.counted_reader() {
        state
            .store
            .record_help_visit(user.id, Some(id), None)
            .await?;
    }
    Ok(ArticlePage {
        helpfulness: state.store.helpfulness(id).await?,
        article,
        category,
        section,
        related,
    })
}

/// Longest search text taken.
pub const MAX_QUERY_CHARS: usize = 200;

/// The reader's words as a query for articles only: each word as typed, with the index's typo
/// tolerance; the query language's filters are not offered here, so `status:open` is just
/// two words, not a refusal.
fn article_query(text: &str) -> SearchQuery {
    let mut clauses: Vec<Clause> = text
        .split(|c: char| !c.is_alphanumeric() && c != '.' && c != '_')
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .take(20)
        .map(|w| Clause::Word(w.to_string()))
        .collect();
    clauses.push(Clause::Filter {
        field: FilterField::Type,
        value: DocType::Article.as_str().to_string(),
    });
    SearchQuery { clauses }
}

/// Articles of this centre matching `text`, best first, at most `limit`; and whether the
/// answer came from a ready index (`false`: the index is catching up and titles were matched
/// in the database instead).
pub async fn search(
    state: &AppState,
    ctx: &HelpContext,
    text: &str,
    limit: usize,
) -> ApiResult<(Vec<HelpArticle>, bool)> {
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    let query = article_query(&text);
    if query.clauses.len() <= 1 {
        return Ok((Vec::new(), true));
    }
    let mut audiences = ctx.sight.vendor.clone();
    for a in &ctx.sight.own {
        if !audiences.contains(a) {
            audiences.push(*a);
        }
    }
    if audiences.is_empty() {
        return Ok((Vec::new(), true));
    }
    if !state.search().is_ready() {
        let words: Vec<String> = query
            .clauses
            .iter()
            .filter_map(|c| match c {
                Clause::Word(w) => Some(w.to_lowercase()),
                _ => None,
            })
            .collect();
        let found = state
            .store
            .help_articles(&HelpArticleFilter {
                title_holds: words,
                ..ctx.filter(limit)
            })
            .await?;
        return Ok((found, false));
    }
    let visibility = Visibility {
        cases: backline_domain::CaseScope::Nothing,
        internal_notes: false,
        article_audiences: audiences,
        all_article_states: false,
        questions: backline_search::QuestionScope::Nothing,
    };
    let index = state.search().index.clone();
    // Partners' own articles of other centres are in the index too: ask for more than needed
    // and let the database keep what this centre shows.
    let wanted = limit.saturating_mul(3).max(limit + 10);
    let hits = tokio::task::spawn_blocking(move || {
        index.search(&query, &visibility, Sort::Relevance, wanted)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let ids: Vec<ArticleId> = hits
        .iter()
        .filter(|h| h.kind == DocType::Article)
        .map(|h| ArticleId(h.id))
        .collect();
    let mut shown = state
        .store
        .help_articles(&HelpArticleFilter {
            ids: Some(ids.clone()),
            ..ctx.filter(ids.len().max(1))
        })
        .await?;
    shown.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    shown.truncate(limit);
    Ok((shown, true))
}

/// A search from the search page: recorded for deflection when a signed-in customer or
/// partner technician made it.
pub async fn search_page(
    state: &AppState,
    ctx: &HelpContext,
    text: &str,
    limit: usize,
) -> ApiResult<(Vec<HelpArticle>, bool)> {
    let found = search(state, ctx, text, limit).await?;
    if let (Some(user), false) = (ctx.counted_reader(), text.trim().is_empty()) {
        let text: String = text.trim().chars().take(MAX_QUERY_CHARS).collect();
        state
            .store
            .record_help_visit(user.id, None, Some(&text))
            .await?;
    }
    Ok(found)
}

/// Titles looked at for an unfinished word, at most.
const SUGGESTION_CANDIDATES: usize = 200;

/// Suggestions as the reader types: articles found for the words so far, then, if few, titles
/// holding the last (perhaps unfinished) word.
pub async fn suggest(
    state: &AppState,
    ctx: &HelpContext,
    text: &str,
) -> ApiResult<Vec<HelpArticle>> {
    const SUGGESTIONS: usize = 6;
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    let (mut found, _) = search(state, ctx, &text, SUGGESTIONS).await?;
    let last = text.split_whitespace().last().unwrap_or("").to_lowercase();
    if found.len() < SUGGESTIONS && last.chars().count() >= 2 {
        let complete: Vec<String> = text
            .split_whitespace()
            .rev()
            .skip(1)
            .map(str::to_lowercase)
            .collect();
        // The database narrows to titles holding every word (the last as typed so far); the
        // last must also begin a word of the title.
        let mut pieces = complete.clone();
        pieces.push(last.clone());
        let candidates = state
            .store
            .help_articles(&HelpArticleFilter {
                title_holds: pieces,
                ..ctx.filter(SUGGESTION_CANDIDATES)
            })
            .await?;
        for a in candidates {
            let title = a.title.to_lowercase();
            let fits = title
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(last.as_str()))
                && complete.iter().all(|w| title.contains(w.as_str()));
            if fits && !found.iter().any(|f| f.id == a.id) {
                found.push(a);
                if found.len() == SUGGESTIONS {
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// Records a "Was this helpful?" answer on an article this centre shows the reader; answers
/// the article's title (for its address).
pub async fn vote(
    state: &AppState,
    ctx: &HelpContext,
    id: ArticleId,
    helpful: bool,
    comment: &str,
    client: Option<std::net::IpAddr>,
) -> ApiResult<String> {
    let article = state.store.article(id).await.or_not_found("article")?;
    let placement = state.store.help_placement(id).await?;
    if !ctx.shows(&article, placement) {
        return Err(ApiError::NotFound("article"));
    }
    let comment = help::vote_comment(comment)?;
    if ctx.reader.is_none() {
        // Signed-in readers count once per article anyway; anonymous answers are limited per
        // client address.
        if let Some(client) = client {
            let rule = backline_domain::throttle::Backoff::HELP_VOTE_ADDRESS;
            let key = format!("help-vote-address:{client}");
            let now = state.clock.now();
            let earlier = state
                .store
                .limited_attempts(&key, now.minus(rule.window))
                .await?;
            if let Some(until) = rule.wait_until(&earlier, now) {
                let minutes = (until.since(now).as_millis() + 59_999) / 60_000;
                return Err(ApiError::TooMany(format!(
                    "Too many answers from here. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )));
            }
            state.store.record_limited_attempt(&[key], now).await?;
        }
    }
    state
        .store
        .record_help_vote(id, ctx.reader.as_ref().map(|u| u.id), helpful, &comment)
        .await?;
    Ok(article.content.title)
}

/// Every article every help centre shows anonymous readers, with its address, for the sitemap.
pub async fn sitemap(state: &AppState) -> ApiResult<Vec<(String, Timestamp)>> {
    const MAX: usize = 50_000;
    let vendor = context(state, None, None).await?;
    let mut entries: Vec<(String, Timestamp)> = vec![("/help".into(), Timestamp::EPOCH)];
    for a in state.store.help_articles(&vendor.filter(MAX)).await? {
        entries.push((vendor.article_path(a.id, &a.title), a.updated_at));
    }
    for brand in state.store.help_brands().await? {
        let Ok(ctx) = context(state, None, Some(&brand.partner_slug)).await else {
            continue;
        };
        entries.push((ctx.base(), brand.updated_at));
        for a in state.store.help_articles(&ctx.filter(MAX)).await? {
            entries.push((ctx.article_path(a.id, &a.title), a.updated_at));
        }
    }
    entries.truncate(MAX);
    Ok(entries)
}

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "arranging the help centre is for vendor staff".into(),
        ))
    }
}

/// Longest category or section name.
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

fn name_field(errors: &mut FieldErrors, field: &str, text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        errors.add(field, "write a name");
    } else if text.chars().count() > MAX_NAME_CHARS {
        errors.add(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    text.to_string()
}

pub async fn create_category(
    state: &AppState,
    caller: &User,
    name: &str,
    slug: Option<&str>,
    description: &str,
    position: i64,
) -> ApiResult<HelpCategory> {
    staff_only(caller)?;
    let mut errors = FieldErrors::new();
    let name = name_field(&mut errors, "name", name);
    let slug = match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => errors
            .check("slug", Slug::parse(slug))
            .map(|s| s.as_str().to_string()),
        None => Some(help::slugify(&name)),
    };
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    errors.into_result()?;
    let slug = slug.unwrap_or_default();
    state
        .store
        .create_help_category(&name, &slug, description, position)
        .await
        .or_conflict("slug_taken")
}

pub async fn create_section(
    state: &AppState,
    caller: &User,
    category: i64,
    name: &str,
    position: i64,
) -> ApiResult<HelpSection> {
    staff_only(caller)?;
    let mut errors = FieldErrors::new();
    let name = name_field(&mut errors, "name", name);
    let known = state.store.help_categories().await?;
    if !known.iter().any(|c| c.id == category) {
        errors.add("category_id", "no category has this id");
    }
    errors.into_result()?;
    Ok(state
        .store
        .create_help_section(category, &name, position)
        .await?)
}

/// Puts an article in a section and gives it to a partner (by slug) or to the vendor.
pub async fn place_article(
    state: &AppState,
    caller: &User,
    id: ArticleId,
    section: Option<i64>,
    partner: Option<&str>,
) -> ApiResult<(HelpPlacement, Option<String>)> {
    staff_only(caller)?;
    state.store.article(id).await.or_not_found("article")?;
    let mut errors = FieldErrors::new();
    if let Some(section) = section {
        if !state
            .store
            .help_sections()
            .await?
            .iter()
            .any(|s| s.id == section)
        {
            errors.add("section_id", "no section has this id");
        }
    }
    let partner = match partner.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(slug) => match state.store.org_by_slug(slug).await {
            Ok(org) if org.kind == OrgKind::Partner => Some(org),
            Ok(_) | Err(backline_store::StoreError::NotFound) => {
                errors.add("partner", "no partner has this slug");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    errors.into_result()?;
    let placement = HelpPlacement {
        section_id: section,
        partner_id: partner.as_ref().map(|p| p.id),
    };
    state.store.set_help_placement(id, placement).await?;
    Ok((placement, partner.map(|p| p.slug)))
}

/// Gives a partner's help centre its brand. Staff may, and the partner's own technicians for
/// their partner; a partner whose agreement leaves the customer with the vendor gets none.
pub async fn set_brand(
    state: &AppState,
    caller: &User,
    partner_slug: &str,
    name: &str,
    logo_url: &str,
    colour: &str,
    accent: &str,
) -> ApiResult<BrandRecord> {
    let partner = match state.store.org_by_slug(partner_slug).await {
        Ok(org) if org.kind == OrgKind::Partner => org,
        Ok(_) | Err(backline_store::StoreError::NotFound) => {
            return Err(ApiError::NotFound("partner"))
        }
        Err(e) => return Err(e.into()),
    };
    let own_technician =
        caller.role == Role::Partner && caller.org.as_ref().map(|o| o.id) == Some(partner.id);
    if !caller.role.is_staff() && !own_technician {
        if caller.role == Role::Partner {
            // Another partner's brand is none of its business: as if it did not exist.
            return Err(ApiError::NotFound("partner"));
        }
        return Err(ApiError::Forbidden(
            "a help centre's brand is set by vendor staff or the partner".into(),
        ));
    }
    let brand = Brand::parse(name, logo_url, colour, accent)?;
    let agreement = state.store.agreement(partner.id).await?.terms;
    if !help::may_have_brand(&agreement) {
        return Err(ApiError::Conflict {
            code: "brand_not_allowed",
            message: "this partner's agreement leaves the customer with the vendor, so its \
                      customers use the vendor's help centre"
                .into(),
        });
    }
    state.store.set_help_brand(partner.id, &brand).await?;
    state
        .store
        .help_brand(partner.id)
        .await?
        .ok_or(ApiError::Internal(
            "the brand just written is missing".into(),
        ))
}

/// Help-centre deflection for visits in [from, to), as of the server's clock.
pub async fn deflection(
    state: &AppState,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<HelpDeflection> {
    Ok(state
        .store
        .help_deflection(from, to, state.clock.now(), help::DEFLECTION_WINDOW)
        .await?)
}

/// Votes on one article, for staff.
pub async fn helpfulness(state: &AppState, caller: &User, id: ArticleId) -> ApiResult<Helpfulness> {
    staff_only(caller)?;
    state.store.article(id).await.or_not_found("article")?;
    Ok(state.store.helpfulness(id).await?)
}
