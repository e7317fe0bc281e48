//! Searching: the query language turned into tantivy queries, always inside the caller's
//! visibility, so a result list can never show what its reader may not see.

use crate::analysis::{codes, words};
use crate::index::{Fields, SearchIndex};
use crate::Result;
use backline_domain::query::{statuses_named, Clause, DocType, FilterField, SearchQuery};
use backline_domain::{ArticleState, Audience, CaseScope, Role};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

/// What a caller may find, in index terms (mirrors `backline_domain::visibility` and
/// `backline_domain::knowledge::can_read_article`).
#[derive(Debug, Clone)]
pub struct Visibility {
    pub cases: CaseScope,
    pub internal_notes: bool,
    pub article_audiences: Vec<Audience>,
    /// Staff read drafts and unvalidated articles; everyone else only validated ones.
    pub all_article_states: bool,
}

impl Visibility {
    pub fn for_actor(actor: &backline_domain::Actor) -> Visibility {
        Visibility {
            cases: actor.case_scope(),
            internal_notes: actor.is_staff(),
            article_audiences: actor.readable_audiences().to_vec(),
            all_article_states: matches!(actor.role, Role::Admin | Role::Agent),
        }
    }

    /// Everything: for benchmarks and rebuild checks.
    pub fn everything() -> Visibility {
        Visibility {
            cases: CaseScope::All,
            internal_notes: true,
            article_audiences: vec![Audience::Internal, Audience::Partners, Audience::Public],
            all_article_states: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Newest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: DocType,
    pub id: i64,
    pub case_id: Option<i64>,
    pub title: String,
    pub excerpt: String,
    pub created_at_ms: i64,
    pub score: f32,
}

pub(crate) fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

pub(crate) fn int_query(field: Field, value: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_i64(field, value),
        IndexRecordOption::Basic,
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match queries.len() {
        0 => Box::new(EmptyQuery),
        1 => queries
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(EmptyQuery)),
        _ => Box::new(BooleanQuery::new(
            queries.into_iter().map(|q| (Occur::Should, q)).collect(),
        )),
    }
}

fn all_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match queries.len() {
        0 => Box::new(AllQuery),
        1 => queries
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(AllQuery)),
        _ => Box::new(BooleanQuery::new(
            queries.into_iter().map(|q| (Occur::Must, q)).collect(),
        )),
    }
}

/// Which kinds of document a visibility filter admits, and how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admit {
    pub cases: bool,
    /// Only solved or closed cases (known answers).
    pub solved_cases_only: bool,
    pub comments: bool,
    pub articles: bool,
    /// Only articles that can answer a case: not drafts (no resolution yet), not archived.
    pub answering_articles_only: bool,
}

/// The visibility rule as a query that scores nothing and admits only what may be seen.
pub(crate) fn visibility_filter(f: &Fields, v: &Visibility, admit: Admit) -> Box<dyn Query> {
    let scope = match v.cases {
        CaseScope::All => Some(None),
        CaseScope::Partner(org) => Some(Some(int_query(f.partner_id, org.0))),
        CaseScope::Organization(org) => Some(Some(int_query(f.org_id, org.0))),
        CaseScope::Nothing => None,
    };
    let mut kinds: Vec<Box<dyn Query>> = Vec::new();
    if let Some(scope) = &scope {
        if admit.cases {
            let mut parts = vec![term_query(f.kind, "case")];
            if let Some(scope) = scope {
                parts.push(scope.box_clone());
            }
            if admit.solved_cases_only {
                parts.push(int_query(f.solved, 1));
            }
            kinds.push(all_of(parts));
        }
        if admit.comments {
            let mut parts = vec![term_query(f.kind, "comment")];
            if let Some(scope) = scope {
                parts.push(scope.box_clone());
            }
            if !v.internal_notes {
                parts.push(int_query(f.public, 1));
            }
            kinds.push(all_of(parts));
        }
    }
    if admit.articles && !v.article_audiences.is_empty() {
        let mut parts = vec![
            term_query(f.kind, "article"),
            any_of(
                v.article_audiences
                    .iter()
                    .map(|a| term_query(f.audience, a.as_str()))
                    .collect(),
            ),
        ];
        if !v.all_article_states {
            parts.push(term_query(f.state, ArticleState::Validated.as_str()));
        } else if admit.answering_articles_only {
            parts.push(any_of(
                [ArticleState::NotValidated, ArticleState::Validated]
                    .iter()
                    .map(|s| term_query(f.state, s.as_str()))
                    .collect(),
            ));
        }
        kinds.push(all_of(parts));
    }
    Box::new(ConstScoreQuery::new(any_of(kinds), 0.0))
}

/// The indexed field a filter reads; `None` for filters only case lists apply (callers refuse
/// them before searching, see `FilterField::in_search`).
fn filter_field(f: &Fields, field: FilterField) -> Option<Field> {
    Some(match field {
        FilterField::Status => f.status,
        FilterField::Priority => f.priority,
        FilterField::Partner => f.partner,
        FilterField::Org => f.org,
        FilterField::Product => f.product,
        FilterField::Type => f.kind,
        FilterField::State => f.state,
        FilterField::Audience => f.audience,
        FilterField::Tag => f.tag,
        FilterField::Assignee
        | FilterField::Queue
        | FilterField::Tier
        | FilterField::Channel
        | FilterField::Sla => return None,
    })
}

/// The indexed terms one filter value stands for: `status:unsolved` is every open status.
fn filter_terms(field: FilterField, value: &str) -> Vec<String> {
    let value = value.trim().to_lowercase();
    match field {
        FilterField::Status => statuses_named(&value)
            .map(|all| all.iter().map(|s| s.as_str().to_string()).collect())
            .unwrap_or_else(|_| vec![value]),
        _ => vec![value],
    }
}

/// A word must appear (in the title or the text, or verbatim as an identifier).
fn word_query(f: &Fields, word: &str) -> Option<Box<dyn Query>> {
    let tokens = words(word);
    let code_tokens = codes(word);
    let mut options: Vec<Box<dyn Query>> = Vec::new();
    if !tokens.is_empty() {
        options.push(all_of(
            tokens
                .iter()
                .map(|t| {
                    any_of(vec![
                        Box::new(BoostQuery::new(term_query(f.t_title, t), 2.0)),
                        term_query(f.t_all, t),
                    ])
                })
                .collect(),
        ));
    }
    for code in code_tokens {
        options.push(Box::new(BoostQuery::new(term_query(f.t_codes, &code), 3.0)));
    }
    (!options.is_empty()).then(|| any_of(options))
}

fn phrase_query(f: &Fields, phrase: &str) -> Option<Box<dyn Query>> {
    let tokens = words(phrase);
    match tokens.len() {
        0 => None,
        1 => word_query(f, phrase),
        _ => {
            let phrase_in = |field: Field| -> Box<dyn Query> {
                Box::new(PhraseQuery::new(
                    tokens
                        .iter()
                        .map(|t| Term::from_field_text(field, t))
                        .collect(),
                ))
            };
            Some(any_of(vec![
                Box::new(BoostQuery::new(phrase_in(f.t_title), 2.0)),
                phrase_in(f.t_all),
            ]))
        }
    }
}

pub(crate) fn read_hit(
    searcher: &Searcher,
    f: &Fields,
    address: DocAddress,
    score: f32,
) -> Result<Hit> {
    let doc: TantivyDocument = searcher.doc(address)?;
    let text = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let int = |field: Field| doc.get_first(field).and_then(|v| v.as_i64());
    Ok(Hit {
        kind: DocType::parse(&text(f.kind)).unwrap_or(DocType::Case),
        id: int(f.id).unwrap_or_default(),
        case_id: int(f.case_id),
        title: text(f.title),
        excerpt: text(f.excerpt),
        created_at_ms: int(f.created_at).unwrap_or_default(),
        score,
    })
}

impl SearchIndex {
    /// Runs a parsed query for a caller; at most `limit` hits, best (or newest) first.
    pub fn search(
        &self,
        query: &SearchQuery,
        visibility: &Visibility,
        sort: Sort,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let f = &self.fields;
        let admit = Admit {
            cases: true,
            solved_cases_only: false,
            comments: true,
            articles: true,
            answering_articles_only: false,
        };
        let mut must: Vec<Box<dyn Query>> = vec![visibility_filter(f, visibility, admit)];
        for field in FilterField::ALL {
            let values: Vec<&str> = query.filters(*field).collect();
            if let (false, Some(target)) = (values.is_empty(), filter_field(f, *field)) {
                must.push(Box::new(ConstScoreQuery::new(
                    any_of(
                        values
                            .iter()
                            .flat_map(|v| filter_terms(*field, v))
                            .map(|v| term_query(target, &v))
                            .collect(),
                    ),
                    0.0,
                )));
            }
        }
        for clause in &query.clauses {
            let text_query = match clause {
                Clause::Word(w) => word_query(f, w),
                Clause::Phrase(p) => phrase_query(f, p),
                Clause::Filter { .. } => None,
            };
            if let Some(q) = text_query {
                must.push(q);
            }
        }
        let query = all_of(must);
        let searcher = self.reader.searcher();
        let limit = limit.max(1);
        let mut hits = Vec::new();
        match sort {
            Sort::Relevance => {
                for (score, address) in searcher.search(&query, &TopDocs::with_limit(limit))? {
                    hits.push(read_hit(&searcher, f, address, score)?);
                }
            }
            Sort::Newest => {
                let collector = TopDocs::with_limit(limit)
                    .order_by_fast_field::<i64>("created_at", Order::Desc);
                for (_, address) in searcher.search(&query, &collector)? {
                    hits.push(read_hit(&searcher, f, address, 0.0)?);
                }
            }
        }
        Ok(hits)
    }
}
