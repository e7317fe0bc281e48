//! The known-issue matcher: given a case, the articles and solved cases most likely to answer
//! it, best first, each with a score and the reasons it matched.
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
use crate::index::SearchIndex;
use crate::search::{read_hit, term_query, visibility_filter, Admit, Visibility};
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
    /// Suggest articles only (self-service, while a case is being typed), not solved cases.
    pub articles_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub kind: DocType,
    pub id: i64,
    pub title: String,
    pub excerpt: String,
    pub score: f32,
    pub reasons: Vec<String>,
}

/// One candidate with its scaled view scores, ready to be weighted.
#[derive(Debug, Clone)]
struct Candidate {
    address: DocAddress,
    views: [f32; FEATURES],
    created_at_ms: Option<i64>,
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
    ) -> Result<Candidates> {
        let f = &self.fields;
        let admit = Admit {
            cases: !input.articles_only,
            solved_cases_only: true,
            comments: false,
            articles: true,
            answering_articles_only: true,
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
        for (i, (field, terms)) in views.iter().enumerate() {
            let Some(query) = view_query(searcher, *field, terms, filter.as_ref()) else {
                continue;
            };
            let top = searcher.search(query.as_ref(), &TopDocs::with_limit(POOL_PER_VIEW + 1))?;
            let best = top
                .iter()
                .filter(|(_, a)| Some(*a) != excluded)
                .map(|(s, _)| *s)
                .fold(0.0_f32, f32::max);
            if best <= 0.0 {
                continue;
            }
            for (score, address) in top {
                if Some(address) != excluded {
                    by_address.entry(address).or_insert([0.0; FEATURES])[i] = score / best;
                }
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
        let candidates = self.candidates(&searcher, input, visibility)?;
        let ranked = rank(&searcher, &candidates, weights)?;
        let query_tokens = tokens(input);
        let mut out = Vec::with_capacity(limit);
        for (position, (address, score, shared_version)) in
            ranked.into_iter().take(limit).enumerate()
        {
            let hit = read_hit(&searcher, &self.fields, address, score)?;
            // Reasons are for people, who read the first few; deeper results (asked for by
            // evaluations) are ranked the same way but come without them.
            let reasons = if position < REASONS_FOR {
                reasons(&query_tokens, &hit, input.created_at_ms, shared_version)
            } else {
                Vec::new()
            };
            out.push(Suggestion {
                kind: hit.kind,
                id: hit.id,
                title: hit.title,
                excerpt: hit.excerpt,
                score,
                reasons,
            });
        }
        Ok(out)
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
            let candidates = self.candidates(searcher, input, visibility)?;
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
        if weights.recency > 0.0 && weights.recency_days > 0.0 && candidates.input_created_at_ms > 0
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

/// Plain reasons a person can check at a glance.
fn reasons(
    query: &Tokens,
    hit: &crate::search::Hit,
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
    if created_at_ms > 0 && hit.created_at_ms > 0 {
        let days = (created_at_ms - hit.created_at_ms).unsigned_abs() / 86_400_000;
        if days <= 30 {
            reasons.push(format!("reported {days} days apart"));
        }
    }
    if reasons.is_empty() {
        reasons.push("similar wording in the text".into());
    }
    reasons
}
