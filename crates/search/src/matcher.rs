//! The known-issue matcher: given a case, the articles and solved cases most likely to answer
//! it, best first, each with a score and the reasons it matched. The same ranking finds the
//! answered community questions most like a question being typed (`Among::Questions`): a
//! question is matched like a case, on its title and on its text with its answers'.
//!
//! Ranking combines seven BM25 views of the same pair (the case's title against the
//! candidate's title and full text, its text against their title and text, shared identifiers
//! such as versions and error codes, shared word pairs in titles and in text). Each view is
//! scaled to its best candidate so no single long field dominates, then weighted. The best
//! hundred are re-ranked with two signals that hold in any support organisation: problems
//! reported close together in time are more often the same problem, and so are problems on the
//! same version. The weights have sensible defaults and can be learned from the organisation's
//! own linked cases (`learn`). The product and `backline bench known-issues` call this same code.

use crate::analysis::{bigrams, codes, words};
use crate::index::{Fields, SearchIndex, DOC_ARTICLE};
use crate::search::{read_hit, term_query, visibility_filter, Admit, Hit, Visibility};
use crate::Result;
use backline_domain::query::DocType;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::schema::Field;
use tantivy::{DocAddress, Searcher, Term};

const FEATURES: usize = 7;
/// Candidates taken from each view before combining.
const POOL_PER_VIEW: usize = 200;
/// Candidates re-ranked with time and version.
const RERANK: usize = 100;
/// Query terms kept per view: the rarest, which carry the meaning (and bound the cost).
const MAX_TERMS: usize = 64;
/// Distinct terms considered per view, in order of appearance: a pasted log can hold
/// thousands, and looking each one up costs more than it adds.
const MAX_CONSIDERED: usize = 256;
const DAY_MS: f64 = 86_400_000.0;
/// Suggestions that come with reasons.
pub const REASONS_FOR: usize = 10;
/// Articles and solved cases are different kinds of text: a duplicate case repeats the
/// customer's own words, while an article says the problem once, in general terms, beside its
/// resolution and cause, so on raw BM25 a duplicate always beats the article that answers it.
/// Each view therefore scales articles against the best article, so the best article counts as
/// fully as the best case, provided it reaches this share of the best raw score (a weak article
/// is not lifted just because the rest are weaker still).
const ARTICLE_PARITY: f32 = 0.5;
/// An article is the answer itself, where a solved case only shows that someone was answered
/// (the agent still has to find how): an article counts this much more than a solved case
/// that matches as well.
const ANSWER_BONUS: f32 = 1.2;
/// Matching cases whose linked answers are looked at: an article that answered one of the
/// closest cases is at least as good an answer as that case.
const ANSWERS_FROM: usize = 20;

/// How much each signal counts. Serialised to the database when learned.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchWeights {
    pub title_title: f32,
    pub title_text: f32,
    pub text_title: f32,
    pub text_text: f32,
    pub codes: f32,
    pub title_bigrams: f32,
    pub text_bigrams: f32,
    /// Added at most, for two reports filed at the same moment; halves every `recency_days` * ln 2.
    pub recency: f32,
    pub recency_days: f32,
    /// Added when the two share an affected version.
    pub same_version: f32,
}

impl Default for MatchWeights {
    fn default() -> Self {
        MatchWeights {
            title_title: 1.0,
            title_text: 0.3,
            text_title: 0.3,
            text_text: 1.0,
            codes: 0.5,
            title_bigrams: 0.5,
            text_bigrams: 0.3,
            recency: 0.5,
            recency_days: 60.0,
            same_version: 0.2,
        }
    }
}

impl MatchWeights {
    fn view_weights(&self) -> [f32; FEATURES] {
        [
            self.title_title,
            self.title_text,
            self.text_title,
            self.text_text,
            self.codes,
            self.title_bigrams,
            self.text_bigrams,
        ]
    }

    fn set(&mut self, i: usize, value: f32) {
        match i {
            0 => self.title_title = value,
            1 => self.title_text = value,
            2 => self.text_title = value,
            3 => self.text_text = value,
            4 => self.codes = value,
            5 => self.title_bigrams = value,
            6 => self.text_bigrams = value,
            7 => self.recency = value,
            8 => self.recency_days = value,
            _ => self.same_version = value,
        }
    }

    fn get(&self, i: usize) -> f32 {
        match i {
            0..=6 => self.view_weights()[i],
            7 => self.recency,
            8 => self.recency_days,
            _ => self.same_version,
        }
    }
}

/// The case to find answers for.
#[derive(Debug, Clone, Default)]
pub struct MatchInput {
    pub title: String,
    pub body: String,
    pub created_at_ms: i64,
    pub versions: Vec<String>,
    /// Leave this document out (the case itself, when it is indexed too).
    pub exclude: Option<(DocType, i64)>,
    /// What to suggest.
    pub among: Among,
}

/// What the matcher suggests: the answers it looks among.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Among {
    /// Articles and solved cases (agents working a case).
    #[default]
    ArticlesAndCases,
    /// Articles only (self-service, while a case or a question is being typed).
    Articles,
    /// Community questions with a published answer (while a question is being typed).
    Questions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    #[serde(with = "doc_type_text")]
    pub kind: DocType,
    pub id: i64,
    pub title: String,
    pub excerpt: String,
    /// The matcher's ranking score: only comparable within one list.
    pub score: f32,
    /// How much of the case's title wording (and identifiers) the suggestion holds, weighted
    /// by how rare each word is: 0 to 1, comparable across cases, so it can gate what is shown
    /// to customers.
    #[serde(default)]
    pub confidence: f32,
    pub reasons: Vec<String>,
}

/// `DocType` as its text in stored suggestions.
mod doc_type_text {
    use backline_domain::query::DocType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(kind: &DocType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DocType, D::Error> {
        let text = String::deserialize(d)?;
        DocType::parse(&text).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// A view's best documents with their scores.
type Top = Vec<(f32, DocAddress)>;

/// One candidate with its scaled view scores, ready to be weighted.
#[derive(Debug, Clone)]
struct Candidate {
    address: DocAddress,
    views: [f32; FEATURES],
    created_at_ms: Option<i64>,
    article: bool,
}

/// What the matcher looks among.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// The answers `MatchInput::among` names.
    Answers,
    /// Cases still in work: the ones a newly solved case may answer.
    OpenCases,
}

/// Everything needed to rank one input under any weights (computed once when learning).
struct Candidates {
    list: Vec<Candidate>,
    /// The input's versions by hash.
    input_versions: HashMap<i64, String>,
    input_created_at_ms: i64,
}

struct Tokens {
    title: Vec<String>,
    text: Vec<String>,
    codes: Vec<String>,
    title_bigrams: Vec<String>,
    text_bigrams: Vec<String>,
}

fn tokens(input: &MatchInput) -> Tokens {
    let title = words(&input.title);
    let mut text = title.clone();
    text.extend(words(&input.body));
    let mut all_codes = codes(&input.title);
    all_codes.extend(codes(&input.body));
    Tokens {
        title_bigrams: bigrams(&title),
        text_bigrams: bigrams(&text),
        title,
        text,
        codes: all_codes,
    }
}

/// A BM25 query for `terms` in `field`: the rarest distinct terms, each once.
fn view_query(
    searcher: &Searcher,
    field: Field,
    terms: &[String],
    filter: &dyn Query,
) -> Option<Box<dyn Query>> {
    let mut seen = HashSet::new();
    let mut ranked: Vec<(u64, &String)> = terms
        .iter()
        .filter(|t| seen.insert(t.as_str()))
        .take(MAX_CONSIDERED)
        .filter_map(|t| {
            let df = searcher.doc_freq(&Term::from_field_text(field, t)).ok()?;
            (df > 0).then_some((df, t))
        })
        .collect();
    if ranked.is_empty() {
        return None;
    }
    ranked.sort();
    ranked.truncate(MAX_TERMS);
    let should = BooleanQuery::new(
        ranked
            .into_iter()
            .map(|(_, t)| (Occur::Should, term_query(field, t)))
            .collect(),
    );
    Some(Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(should)),
        (Occur::Must, filter.box_clone()),
    ])))
}

impl SearchIndex {
    fn candidates(
        &self,
        searcher: &Searcher,
        input: &MatchInput,
        visibility: &Visibility,
        pool: Pool,
    ) -> Result<Candidates> {
        let f = &self.fields;
        let admit = match pool {
            Pool::Answers => Admit {
                cases: input.among == Among::ArticlesAndCases,
                cases_solved: Some(true),
                comments: false,
                articles: input.among != Among::Questions,
                answering_articles_only: true,
                questions: input.among == Among::Questions,
                answered_questions_only: true,
            },
            Pool::OpenCases => Admit {
                cases: true,
                cases_solved: Some(false),
                comments: false,
                articles: false,
                answering_articles_only: true,
                questions: false,
                answered_questions_only: true,
            },
        };
        let filter = visibility_filter(f, visibility, admit);
        let t = tokens(input);
        let views: [(Field, &[String]); FEATURES] = [
            (f.t_title, &t.title),
            (f.t_all, &t.title),
            (f.t_title, &t.text),
            (f.t_all, &t.text),
            (f.t_codes, &t.codes),
            (f.t_title_bi, &t.title_bigrams),
            (f.t_all_bi, &t.text_bigrams),
        ];
        let excluded = match input.exclude {
            Some((kind, id)) => {
                let query = BooleanQuery::new(vec![
                    (Occur::Must, term_query(f.kind, kind.as_str())),
                    (Occur::Must, crate::search::int_query(f.id, id)),
                ]);
                searcher
                    .search(&query, &TopDocs::with_limit(1))?
                    .first()
                    .map(|(_, a)| *a)
            }
            None => None,
        };
        let mut by_address: HashMap<DocAddress, [f32; FEATURES]> = HashMap::new();
        // Views already run, by field and terms: with no text beyond the title (a case or a
        // question still being typed) the title and text views are the same query, run once.
        let mut run: Vec<(Field, &[String], Top)> = Vec::new();
        for (i, &(field, terms)) in views.iter().enumerate() {
            let top = match run.iter().find(|(f, t, _)| *f == field && *t == terms) {
                Some((_, _, top)) => top.clone(),
                None => {
                    let top: Top = match view_query(searcher, field, terms, filter.as_ref()) {
                        Some(query) => searcher
                            .search(query.as_ref(), &TopDocs::with_limit(POOL_PER_VIEW + 1))?
                            .into_iter()
                            .filter(|(_, a)| Some(*a) != excluded)
                            .collect(),
                        None => Vec::new(),
                    };
                    run.push((field, terms, top.clone()));
                    top
                }
            };
            let best = top.iter().map(|(s, _)| *s).fold(0.0_f32, f32::max);
            if best <= 0.0 {
                continue;
            }
            let best_article = top
                .iter()
                .filter(|(_, a)| is_article(searcher, *a))
                .map(|(s, _)| *s)
                .fold(0.0_f32, f32::max);
            let article_scale = best_article.max(ARTICLE_PARITY * best);
            for (score, address) in top {
                let scale = if is_article(searcher, address) {
                    article_scale
                } else {
                    best
                };
                by_address.entry(address).or_insert([0.0; FEATURES])[i] = (score / scale).min(1.0);
            }
        }
        let mut list = Vec::with_capacity(by_address.len());
        for (address, views) in by_address {
            let created = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .i64("created_at")
                .ok()
                .and_then(|column| column.first(address.doc_id));
            list.push(Candidate {
                address,
                views,
                created_at_ms: created,
                article: is_article(searcher, address),
            });
        }
        Ok(Candidates {
            list,
            input_versions: input
                .versions
                .iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (crate::index::version_hash(v), v.trim().to_string()))
                .collect(),
            input_created_at_ms: input.created_at_ms,
        })
    }

    /// The best `limit` answers for `input` that the caller may see.
    pub fn suggest(
        &self,
        input: &MatchInput,
        visibility: &Visibility,
        weights: &MatchWeights,
        limit: usize,
    ) -> Result<Vec<Suggestion>> {
        let searcher = self.reader.searcher();
        let candidates = self.candidates(&searcher, input, visibility, Pool::Answers)?;
        let mut ranked: Vec<Ranked> = rank(&searcher, &candidates, weights)?
            .into_iter()
            .map(|(address, score, shared_version)| Ranked {
                address,
                score,
                shared_version,
                answered: Vec::new(),
            })
            .collect();
        if input.among == Among::ArticlesAndCases {
            self.lend_scores_to_answers(&searcher, visibility, &mut ranked)?;
        }
        let query_tokens = tokens(input);
        let mut out = Vec::with_capacity(limit);
        let mut confidence_of: HashMap<DocAddress, f32> = HashMap::new();
        for (position, found) in ranked.into_iter().take(limit).enumerate() {
            let hit = read_hit(&searcher, &self.fields, found.address, found.score)?;
            // Reasons are for people, who read the first few; deeper results (asked for by
            // evaluations) are ranked the same way but come without them.
            let mut reasons = if position < REASONS_FOR {
                reasons(
                    &query_tokens,
                    &hit,
                    input.created_at_ms,
                    found.shared_version.clone(),
                )
            } else {
                Vec::new()
            };
            let mut confidence = confidence(&searcher, &self.fields, &query_tokens, &hit);
            if !found.answered.is_empty() {
                // The cases it answered vouch for it as much as they match themselves.
                for (case_address, _) in &found.answered {
                    let case_confidence = match confidence_of.get(case_address) {
                        Some(c) => *c,
                        None => {
                            let case = read_hit(&searcher, &self.fields, *case_address, 0.0)?;
                            let c =
                                confidence_of_hit(&searcher, &self.fields, &query_tokens, &case);
                            confidence_of.insert(*case_address, c);
                            c
                        }
                    };
                    confidence = confidence.max(case_confidence);
                }
                if position < REASONS_FOR {
                    reasons.insert(0, answered_reason(&found.answered));
                }
            }
            confidence_of.insert(found.address, confidence);
            out.push(Suggestion {
                kind: hit.kind,
                id: hit.id,
                title: hit.title,
                excerpt: hit.excerpt,
                score: found.score,
                confidence,
                reasons,
            });
        }
        Ok(out)
    }

    /// An article linked as the answer of one of the best matching cases is the answer to this
    /// case too: it ranks at least as high as the best such case (just above it), whether or
    /// not its own words matched as well. Only articles the reader may see, from cases the
    /// reader may see (both are in `ranked` only if visible, or looked up under `visibility`).
    fn lend_scores_to_answers(
        &self,
        searcher: &Searcher,
        visibility: &Visibility,
        ranked: &mut Vec<Ranked>,
    ) -> Result<()> {
        let f = &self.fields;
        // article id -> (best lending score, the cases that lend it)
        let mut lent: HashMap<i64, (f32, Vec<(DocAddress, i64)>)> = HashMap::new();
        for found in ranked.iter().take(ANSWERS_FROM) {
            if is_article(searcher, found.address) {
                continue;
            }
            let answers = answers_of(searcher, found.address);
            if answers.is_empty() {
                continue;
            }
            let case_id = fast_i64(searcher, found.address, "group_key").unwrap_or_default();
            for article in answers {
                let entry = lent.entry(article).or_insert((0.0, Vec::new()));
                entry.0 = entry.0.max(found.score);
                entry.1.push((found.address, case_id));
            }
        }
        if lent.is_empty() {
            return Ok(());
        }
        let mut missing: HashSet<i64> = lent.keys().copied().collect();
        for found in ranked.iter_mut() {
            if !is_article(searcher, found.address) {
                continue;
            }
            let id = -fast_i64(searcher, found.address, "group_key").unwrap_or_default();
            if let Some((score, cases)) = lent.get(&id) {
                missing.remove(&id);
                found.answered = cases.clone();
                found.score = found.score.max(score + LENT_MARGIN);
            }
        }
        if !missing.is_empty() {
            let admit = Admit {
                cases: false,
                cases_solved: None,
                comments: false,
                articles: true,
                answering_articles_only: true,
                questions: false,
                answered_questions_only: false,
            };
            let query = BooleanQuery::new(vec![
                (Occur::Must, visibility_filter(f, visibility, admit)),
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(
                        missing
                            .iter()
                            .map(|id| (Occur::Should, crate::search::int_query(f.id, *id)))
                            .collect(),
                    )),
                ),
            ]);
            for (_, address) in searcher.search(&query, &TopDocs::with_limit(missing.len()))? {
                let id = -fast_i64(searcher, address, "group_key").unwrap_or_default();
                if let Some((score, cases)) = lent.get(&id) {
                    ranked.push(Ranked {
                        address,
                        score: score + LENT_MARGIN,
                        shared_version: None,
                        answered: cases.clone(),
                    });
                }
            }
        }
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.address.cmp(&b.address)));
        Ok(())
    }

    /// Cases still in work that `input` (a case just solved) may answer, best first: their
    /// suggestions are worth working out again.
    pub fn similar_open_cases(
        &self,
        input: &MatchInput,
        weights: &MatchWeights,
        limit: usize,
    ) -> Result<Vec<i64>> {
        let searcher = self.reader.searcher();
        let candidates =
            self.candidates(&searcher, input, &Visibility::everything(), Pool::OpenCases)?;
        let ranked = rank(&searcher, &candidates, weights)?;
        Ok(ranked
            .into_iter()
            .take(limit)
            .filter_map(|(address, _, _)| fast_i64(&searcher, address, "group_key"))
            .collect())
    }

    /// Mean reciprocal rank of each example's known answer under `weights` (0 for an answer
    /// not found at all): how well the matcher would have done on these cases.
    pub fn mrr(
        &self,
        examples: &[(MatchInput, (DocType, i64))],
        visibility: &Visibility,
        weights: &MatchWeights,
    ) -> Result<f64> {
        let searcher = self.reader.searcher();
        let prepared = self.prepare(&searcher, examples, visibility)?;
        mrr_of(&searcher, &prepared, weights)
    }

    fn prepare(
        &self,
        searcher: &Searcher,
        examples: &[(MatchInput, (DocType, i64))],
        visibility: &Visibility,
    ) -> Result<Vec<(Candidates, Option<DocAddress>)>> {
        let f = &self.fields;
        let mut prepared = Vec::with_capacity(examples.len());
        for (input, (kind, id)) in examples {
            let candidates = self.candidates(searcher, input, visibility, Pool::Answers)?;
            let target = candidates.list.iter().map(|c| c.address).find(|a| {
                read_hit(searcher, f, *a, 0.0)
                    .map(|h| h.kind == *kind && h.id == *id)
                    .unwrap_or(false)
            });
            prepared.push((candidates, target));
        }
        Ok(prepared)
    }

    /// Learns weights that rank each example's known answer as high as possible (mean
    /// reciprocal rank), by coordinate ascent from `start`. Returns the weights and their MRR
    /// on these examples.
    pub fn learn(
        &self,
        examples: &[(MatchInput, (DocType, i64))],
        visibility: &Visibility,
        start: MatchWeights,
    ) -> Result<(MatchWeights, f64)> {
        let searcher = self.reader.searcher();
        let prepared = self.prepare(&searcher, examples, visibility)?;
        let mrr_of = |w: &MatchWeights| mrr_of(&searcher, &prepared, w);
        let mut best = start;
        let mut best_mrr = mrr_of(&best)?;
        for _round in 0..3 {
            let mut improved = false;
            for i in 0..10 {
                let current = best.get(i);
                let candidates: Vec<f32> = if i == 8 {
                    vec![7.0, 14.0, 30.0, 60.0, 120.0, 365.0]
                } else {
                    [0.0, 0.5, 0.75, 1.5, 2.0]
                        .iter()
                        .map(|m| if current == 0.0 { m * 0.5 } else { current * m })
                        .collect()
                };
                for value in candidates {
                    let mut trial = best;
                    trial.set(i, value);
                    let mrr = mrr_of(&trial)?;
                    if mrr > best_mrr + 1e-4 {
                        best = trial;
                        best_mrr = mrr;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
        Ok((best, best_mrr))
    }
}

fn mrr_of(
    searcher: &Searcher,
    prepared: &[(Candidates, Option<DocAddress>)],
    weights: &MatchWeights,
) -> Result<f64> {
    let mut total = 0.0;
    for (candidates, target) in prepared {
        let Some(target) = target else { continue };
        let ranked = rank(searcher, candidates, weights)?;
        if let Some(position) = ranked.iter().position(|(a, _, _)| a == target) {
            total += 1.0 / (position as f64 + 1.0);
        }
    }
    Ok(total / prepared.len().max(1) as f64)
}

/// Orders candidates under `weights`: returns (address, score, a shared version).
fn rank(
    searcher: &Searcher,
    candidates: &Candidates,
    weights: &MatchWeights,
) -> Result<Vec<(DocAddress, f32, Option<String>)>> {
    let view_weights = weights.view_weights();
    let mut scored: Vec<(&Candidate, f32)> = candidates
        .list
        .iter()
        .map(|c| {
            (
                c,
                c.views
                    .iter()
                    .zip(view_weights)
                    .map(|(v, w)| v * w)
                    .sum::<f32>(),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.address.cmp(&b.0.address)));
    scored.truncate(RERANK);
    let mut out = Vec::with_capacity(scored.len());
    for (candidate, base) in scored {
        let mut score = base;
        if candidate.article {
            // Articles do not age like reports: they are edited or archived when they stop
            // applying, so an article in the pool counts as current.
            score += weights.recency;
        } else if weights.recency > 0.0
            && weights.recency_days > 0.0
            && candidates.input_created_at_ms > 0
        {
            if let Some(created) = candidate.created_at_ms {
                let days =
                    (candidates.input_created_at_ms - created).unsigned_abs() as f64 / DAY_MS;
                score += weights.recency * (-days / f64::from(weights.recency_days)).exp() as f32;
            }
        }
        let mut shared = None;
        if weights.same_version > 0.0 && !candidates.input_versions.is_empty() {
            shared = candidate_version_hashes(searcher, candidate.address)
                .into_iter()
                .find_map(|h| candidates.input_versions.get(&h).cloned());
            if shared.is_some() {
                score += weights.same_version;
            }
        }
        if candidate.article {
            score *= ANSWER_BONUS;
        }
        out.push((candidate.address, score, shared));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

fn candidate_version_hashes(searcher: &Searcher, address: DocAddress) -> Vec<i64> {
    searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .i64("version_hashes")
        .map(|column| column.values_for_doc(address.doc_id).collect())
        .unwrap_or_default()
}

/// A ranked candidate on its way to a suggestion.
struct Ranked {
    address: DocAddress,
    score: f32,
    shared_version: Option<String>,
    /// For an article: the matching cases it answered (their address and number).
    answered: Vec<(DocAddress, i64)>,
}

/// "answered similar cases #276, #232, #227 and 11 more": the closest few by number.
fn answered_reason(cases: &[(DocAddress, i64)]) -> String {
    const NAMED: usize = 3;
    let named: Vec<String> = cases
        .iter()
        .take(NAMED)
        .map(|(_, id)| format!("#{id}"))
        .collect();
    let mut reason = format!("answered similar cases {}", named.join(", "));
    if cases.len() > NAMED {
        reason.push_str(&format!(" and {} more", cases.len() - NAMED));
    }
    reason
}

/// How far above the best case that lends it its score an answering article ranks.
const LENT_MARGIN: f32 = 0.001;

fn fast_i64(searcher: &Searcher, address: DocAddress, field: &str) -> Option<i64> {
    searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .i64(field)
        .ok()
        .and_then(|column| column.first(address.doc_id))
}

fn is_article(searcher: &Searcher, address: DocAddress) -> bool {
    fast_i64(searcher, address, "doc_kind") == Some(DOC_ARTICLE)
}

/// The articles linked as answers to the case at `address`.
fn answers_of(searcher: &Searcher, address: DocAddress) -> Vec<i64> {
    searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .i64("answers")
        .map(|column| column.values_for_doc(address.doc_id).collect())
        .unwrap_or_default()
}

/// How rare a term is among all documents (BM25's idf): rare words carry the meaning.
fn idf(searcher: &Searcher, field: Field, term: &str) -> f32 {
    // Document frequencies still count replaced documents until their segments merge, so the
    // documents are counted the same way (alive ones only would make frequent terms weigh
    // nothing, or less than nothing, on an index with many updates).
    let docs: u64 = searcher
        .segment_readers()
        .iter()
        .map(|r| u64::from(r.max_doc()))
        .sum();
    let docs = docs as f32;
    let df = searcher
        .doc_freq(&Term::from_field_text(field, term))
        .unwrap_or(0) as f32;
    (1.0 + (docs - df + 0.5) / (df + 0.5)).ln().max(0.0)
}

/// The share of the input's title words and identifiers (weighted by rarity) that `hit`'s
/// title and text hold: how surely it is about the same thing, whatever else it matched.
fn confidence(searcher: &Searcher, f: &Fields, query: &Tokens, hit: &Hit) -> f32 {
    confidence_of_hit(searcher, f, query, hit)
}

fn confidence_of_hit(searcher: &Searcher, f: &Fields, query: &Tokens, hit: &Hit) -> f32 {
    let text = format!("{}\n{}", hit.title, hit.excerpt);
    let held_words: HashSet<String> = words(&text).into_iter().collect();
    let held_codes: HashSet<String> = codes(&text).into_iter().collect();
    let mut asked: HashSet<&str> = HashSet::new();
    let (mut total, mut held) = (0.0_f32, 0.0_f32);
    for word in &query.title {
        if asked.insert(word) {
            let weight = idf(searcher, f.t_all, word);
            total += weight;
            if held_words.contains(word) {
                held += weight;
            }
        }
    }
    for code in &query.codes {
        if asked.insert(code) {
            let weight = idf(searcher, f.t_codes, code);
            total += weight;
            if held_codes.contains(code) {
                held += weight;
            }
        }
    }
    if total <= 0.0 {
        0.0
    } else {
        held / total
    }
}

/// Plain reasons a person can check at a glance.
fn reasons(
    query: &Tokens,
    hit: &Hit,
    created_at_ms: i64,
    shared_version: Option<String>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    let candidate_title: HashSet<String> = words(&hit.title).into_iter().collect();
    let mut shared: Vec<&str> = Vec::new();
    for w in &query.title {
        if candidate_title.contains(w) && !shared.contains(&w.as_str()) {
            shared.push(w);
        }
    }
    if !shared.is_empty() {
        reasons.push(format!("title shares: {}", shared.join(", ")));
    }
    let candidate_codes: HashSet<String> = codes(&format!("{} {}", hit.title, hit.excerpt))
        .into_iter()
        .collect();
    let mut same_codes: Vec<&str> = query
        .codes
        .iter()
        .filter(|c| candidate_codes.contains(*c))
        .map(String::as_str)
        .collect();
    same_codes.dedup();
    if !same_codes.is_empty() {
        reasons.push(format!("same identifiers: {}", same_codes.join(", ")));
    }
    if let Some(version) = shared_version {
        reasons.push(format!("same version: {version}"));
    }
    if created_at_ms > 0 && hit.created_at_ms > 0 && hit.kind != DocType::Article {
        let days = (created_at_ms - hit.created_at_ms).unsigned_abs() / 86_400_000;
        if days <= 30 {
            let verb = if hit.kind == DocType::Question {
                "asked"
            } else {
                "reported"
            };
            reasons.push(format!("{verb} {days} days apart"));
        }
    }
    if reasons.is_empty() {
        reasons.push("similar wording in the text".into());
    }
    reasons
}
