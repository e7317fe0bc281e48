//! The help centre's own data: categories and sections, where each article sits and which
//! partner owns it, "Was this helpful?" votes, visits counted for deflection, and partners'
//! brands. The articles themselves are knowledge articles (`knowledge/`).

use crate::rows::stored;
use crate::sql::{Arg, Sql};
use crate::{Result, Store, StoreError};
use backline_domain::help::{Brand, Helpfulness};
use backline_domain::{ArticleId, Audience, OrgId, Span, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HelpCategory {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HelpSection {
    pub id: i64,
    pub category_id: i64,
    pub name: String,
    pub position: i64,
}

/// Where an article sits in the help centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct HelpPlacement {
    pub section_id: Option<i64>,
    /// Set for a partner's own article: shown only in that partner's help centre.
    pub partner_id: Option<OrgId>,
}

/// A validated article as the help centre lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpArticle {
    pub id: ArticleId,
    pub title: String,
    /// The issue section: the problem in the reader's words, for excerpts.
    pub issue: String,
    pub audience: Audience,
    pub section_id: Option<i64>,
    pub partner_id: Option<OrgId>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct HelpArticleRow {
    id: ArticleId,
    title: String,
    issue: String,
    audience: String,
    section_id: Option<i64>,
    partner_id: Option<OrgId>,
    updated_at: Timestamp,
}

impl TryFrom<HelpArticleRow> for HelpArticle {
    type Error = StoreError;

    fn try_from(r: HelpArticleRow) -> Result<HelpArticle> {
        Ok(HelpArticle {
            id: r.id,
            title: r.title,
            issue: r.issue,
            audience: stored(Audience::parse, &r.audience)?,
            section_id: r.section_id,
            partner_id: r.partner_id,
            updated_at: r.updated_at,
        })
    }
}

/// Which validated articles a help-centre list holds.
#[derive(Debug, Clone, Default)]
pub struct HelpArticleFilter {
    /// Vendor articles (owned by no partner) in these audiences.
    pub vendor: Vec<Audience>,
    /// This partner's own articles in these audiences.
    pub own: Option<(OrgId, Vec<Audience>)>,
    pub section: Option<i64>,
    pub category: Option<i64>,
    /// Only these articles (search results to check against the centre).
    pub ids: Option<Vec<ArticleId>>,
    /// Only articles whose title holds each of these pieces of text, ignoring case. Letters
    /// and digits only: anything else is dropped, so a piece cannot be a `LIKE` pattern.
    pub title_holds: Vec<String>,
    pub limit: usize,
}

/// A partner's brand as stored, with the partner's slug for addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandRecord {
    pub partner_id: OrgId,
    pub partner_slug: String,
    pub brand: Brand,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct BrandRow {
    partner_id: OrgId,
    slug: String,
    name: String,
    logo_url: String,
    colour: String,
    accent: String,
    updated_at: Timestamp,
}

impl From<BrandRow> for BrandRecord {
    fn from(r: BrandRow) -> BrandRecord {
        BrandRecord {
            partner_id: r.partner_id,
            partner_slug: r.slug,
            brand: Brand {
                name: r.name,
                logo_url: r.logo_url,
                colour: r.colour,
                accent: r.accent,
            },
            updated_at: r.updated_at,
        }
    }
}

/// Help-centre visits and how many were deflected, for one article or category.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HelpDeflectionRow {
    /// The article (by article) or category (by category); `None` for articles in no category.
    pub id: Option<i64>,
    pub name: Option<String>,
    pub visits: i64,
    pub deflected: i64,
}

/// Help-centre deflection over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelpDeflection {
    pub article_views: i64,
    pub searches: i64,
    /// Visits (views and searches) whose window passed with no case from the person.
    pub deflected: i64,
    pub by_article: Vec<HelpDeflectionRow>,
    pub by_category: Vec<HelpDeflectionRow>,
}

#[derive(sqlx::FromRow)]
struct Totals {
    article_views: i64,
    searches: i64,
    deflected: i64,
}

const HELP_ARTICLE_COLUMNS: &str = "a.id, a.title, a.issue, a.audience, p.section_id, \
     p.partner_id, a.updated_at FROM articles a LEFT JOIN help_placements p ON p.article_id = a.id";

fn audiences(list: &[Audience]) -> impl Iterator<Item = Arg> + '_ {
    list.iter().map(|a| Arg::Text(a.as_str().to_string()))
}

/// The condition "this counts as deflected": the visit's window has closed (`$closed`: now
/// minus the window) and its person filed no case inside it (`$window` milliseconds).
fn deflected_sql(closed: usize, window: usize) -> String {
    format!(
        "CASE WHEN v.at < ${closed} AND NOT EXISTS (SELECT 1 FROM cases c \
         WHERE c.requester_id = v.user_id AND c.created_at >= v.at \
         AND c.created_at < v.at + ${window}) THEN 1 ELSE 0 END"
    )
}

impl Store {
    pub async fn create_help_category(
        &self,
        name: &str,
        slug: &str,
        description: &str,
        position: i64,
    ) -> Result<HelpCategory> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO help_categories (name, slug, description, position, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(slug)
        .bind(description)
        .bind(position)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::unique(
            "a category with this slug already exists",
        ))?;
        Ok(HelpCategory {
            id,
            name: name.into(),
            slug: slug.into(),
            description: description.into(),
            position,
        })
    }

    /// Every category, in position order.
    pub async fn help_categories(&self) -> Result<Vec<HelpCategory>> {
        Ok(sqlx::query_as(
            "SELECT id, name, slug, description, position FROM help_categories \
             ORDER BY position, id",
        )
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn create_help_section(
        &self,
        category: i64,
        name: &str,
        position: i64,
    ) -> Result<HelpSection> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO help_sections (category_id, name, position, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(category)
        .bind(name)
        .bind(position)
        .bind(Timestamp::now())
        .fetch_one(&self.write)
        .await?;
        Ok(HelpSection {
            id,
            category_id: category,
            name: name.into(),
            position,
        })
    }

    /// Every section, by category and position.
    pub async fn help_sections(&self) -> Result<Vec<HelpSection>> {
        Ok(sqlx::query_as(
            "SELECT id, category_id, name, position FROM help_sections \
             ORDER BY category_id, position, id",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Puts an article in a section (or none) and gives it to a partner (or the vendor).
    pub async fn set_help_placement(
        &self,
        article: ArticleId,
        placement: HelpPlacement,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO help_placements (article_id, section_id, partner_id, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (article_id) DO UPDATE SET \
             section_id = excluded.section_id, partner_id = excluded.partner_id, \
             updated_at = excluded.updated_at",
        )
        .bind(article)
        .bind(placement.section_id)
        .bind(placement.partner_id)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Where an article sits; the default (no section, the vendor's) when never placed.
    pub async fn help_placement(&self, article: ArticleId) -> Result<HelpPlacement> {
        Ok(sqlx::query_as(
            "SELECT section_id, partner_id FROM help_placements WHERE article_id = $1",
        )
        .bind(article)
        .fetch_optional(&self.read)
        .await?
        .unwrap_or_default())
    }

    /// Validated articles a help centre shows under `filter`, most recently updated first.
    pub async fn help_articles(&self, filter: &HelpArticleFilter) -> Result<Vec<HelpArticle>> {
        let mut sql = Sql::new(&format!(
            "SELECT {HELP_ARTICLE_COLUMNS} WHERE a.state = 'validated' AND ("
        ));
        if filter.vendor.is_empty() {
            sql.push("1 = 0");
        } else {
            sql.push("(p.partner_id IS NULL AND a.audience IN (")
                .bind_list(audiences(&filter.vendor))
                .push("))");
        }
        if let Some((partner, own)) = &filter.own {
            if !own.is_empty() {
                sql.push(" OR (p.partner_id = ")
                    .bind(Arg::Int(partner.0))
                    .push(" AND a.audience IN (")
                    .bind_list(audiences(own))
                    .push("))");
            }
        }
        sql.push(")");
        if let Some(section) = filter.section {
            sql.push(" AND p.section_id = ").bind(Arg::Int(section));
        }
        if let Some(category) = filter.category {
            sql.push(" AND p.section_id IN (SELECT id FROM help_sections WHERE category_id = ")
                .bind(Arg::Int(category))
                .push(")");
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_in("a.id", ids.iter().map(|id| Arg::Int(id.0)));
        }
        for piece in &filter.title_holds {
            let piece: String = piece
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            if !piece.is_empty() {
                sql.push(" AND LOWER(a.title) LIKE ")
                    .bind(Arg::Text(format!("%{piece}%")));
            }
        }
        sql.push(" ORDER BY a.updated_at DESC, a.id DESC LIMIT ")
            .bind(Arg::Int(
                i64::try_from(filter.limit.max(1)).unwrap_or(i64::MAX),
            ));
        let rows: Vec<HelpArticleRow> = sql.query_as().fetch_all(&self.read).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records a "Was this helpful?" answer. A signed-in reader's new answer replaces their
    /// earlier one, so one person counts once per article.
    pub async fn record_help_vote(
        &self,
        article: ArticleId,
        user: Option<UserId>,
        helpful: bool,
        comment: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO help_votes (article_id, user_id, helpful, comment, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (article_id, user_id) DO UPDATE SET \
             helpful = excluded.helpful, comment = excluded.comment, \
             created_at = excluded.created_at",
        )
        .bind(article)
        .bind(user)
        .bind(i64::from(helpful))
        .bind(comment)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn helpfulness(&self, article: ArticleId) -> Result<Helpfulness> {
        let (yes, no): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN helpful = 1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN helpful = 0 THEN 1 ELSE 0 END), 0) \
             FROM help_votes WHERE article_id = $1",
        )
        .bind(article)
        .fetch_one(&self.read)
        .await?;
        Ok(Helpfulness { yes, no })
    }

    /// The comments left with votes on an article, newest first: (helpful, comment, when).
    pub async fn help_vote_comments(
        &self,
        article: ArticleId,
        limit: i64,
    ) -> Result<Vec<(bool, String, Timestamp)>> {
        let rows: Vec<(i64, String, Timestamp)> = sqlx::query_as(
            "SELECT helpful, comment, created_at FROM help_votes \
             WHERE article_id = $1 AND comment <> '' ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(article)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(h, c, t)| (h != 0, c, t)).collect())
    }

    /// Records a signed-in reader's article view or search, for deflection.
    pub async fn record_help_visit(
        &self,
        user: UserId,
        article: Option<ArticleId>,
        searched: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO help_visits (user_id, article_id, searched, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user)
        .bind(article)
        .bind(searched)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Visits in [from, to) and how many were deflected: followed by no case from the same
    /// person within `window`, counted once the window has passed by `now`.
    pub async fn help_deflection(
        &self,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        window: Span,
    ) -> Result<HelpDeflection> {
        let closed = now.minus(window);
        let totals: Totals = sqlx::query_as(&format!(
            "SELECT COALESCE(SUM(CASE WHEN v.article_id IS NOT NULL THEN 1 ELSE 0 END), 0) \
             AS article_views, \
             COALESCE(SUM(CASE WHEN v.article_id IS NULL THEN 1 ELSE 0 END), 0) AS searches, \
             COALESCE(SUM({}), 0) AS deflected \
             FROM help_visits v WHERE v.at >= $1 AND v.at < $2",
            deflected_sql(3, 4)
        ))
        .bind(from)
        .bind(to)
        .bind(closed)
        .bind(window.as_millis())
        .fetch_one(&self.read)
        .await?;
        let by_article: Vec<HelpDeflectionRow> = sqlx::query_as(&format!(
            "SELECT a.id AS id, a.title AS name, COUNT(*) AS visits, \
             COALESCE(SUM({}), 0) AS deflected \
             FROM help_visits v JOIN articles a ON a.id = v.article_id \
             WHERE v.at >= $1 AND v.at < $2 GROUP BY a.id, a.title \
             ORDER BY deflected DESC, visits DESC, a.id LIMIT 100",
            deflected_sql(3, 4)
        ))
        .bind(from)
        .bind(to)
        .bind(closed)
        .bind(window.as_millis())
        .fetch_all(&self.read)
        .await?;
        let by_category: Vec<HelpDeflectionRow> = sqlx::query_as(&format!(
            "SELECT c.id AS id, c.name AS name, COUNT(*) AS visits, \
             COALESCE(SUM({}), 0) AS deflected \
             FROM help_visits v LEFT JOIN help_placements p ON p.article_id = v.article_id \
             LEFT JOIN help_sections s ON s.id = p.section_id \
             LEFT JOIN help_categories c ON c.id = s.category_id \
             WHERE v.at >= $1 AND v.at < $2 AND v.article_id IS NOT NULL \
             GROUP BY c.id, c.name ORDER BY deflected DESC, visits DESC LIMIT 100",
            deflected_sql(3, 4)
        ))
        .bind(from)
        .bind(to)
        .bind(closed)
        .bind(window.as_millis())
        .fetch_all(&self.read)
        .await?;
        Ok(HelpDeflection {
            article_views: totals.article_views,
            searches: totals.searches,
            deflected: totals.deflected,
            by_article,
            by_category,
        })
    }

    /// Gives a partner's help centre its brand (replacing any earlier one).
    pub async fn set_help_brand(&self, partner: OrgId, brand: &Brand) -> Result<()> {
        sqlx::query(
            "INSERT INTO help_brands (partner_id, name, logo_url, colour, accent, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partner_id) DO UPDATE SET \
             name = excluded.name, logo_url = excluded.logo_url, colour = excluded.colour, \
             accent = excluded.accent, updated_at = excluded.updated_at",
        )
        .bind(partner)
        .bind(&brand.name)
        .bind(&brand.logo_url)
        .bind(&brand.colour)
        .bind(&brand.accent)
        .bind(Timestamp::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The brand of the partner with this slug, if it has one.
    pub async fn help_brand_by_slug(&self, slug: &str) -> Result<Option<BrandRecord>> {
        let row: Option<BrandRow> = sqlx::query_as(
            "SELECT b.partner_id, o.slug, b.name, b.logo_url, b.colour, b.accent, b.updated_at \
             FROM help_brands b JOIN organizations o ON o.id = b.partner_id WHERE o.slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(Into::into))
    }

    /// The brand of this partner, if it has one.
    pub async fn help_brand(&self, partner: OrgId) -> Result<Option<BrandRecord>> {
        let row: Option<BrandRow> = sqlx::query_as(
            "SELECT b.partner_id, o.slug, b.name, b.logo_url, b.colour, b.accent, b.updated_at \
             FROM help_brands b JOIN organizations o ON o.id = b.partner_id WHERE b.partner_id = $1",
        )
        .bind(partner)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(Into::into))
    }

    /// Every brand, by partner slug (for the sitemap).
    pub async fn help_brands(&self) -> Result<Vec<BrandRecord>> {
        let rows: Vec<BrandRow> = sqlx::query_as(
            "SELECT b.partner_id, o.slug, b.name, b.logo_url, b.colour, b.accent, b.updated_at \
             FROM help_brands b JOIN organizations o ON o.id = b.partner_id ORDER BY o.slug",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
