//! `backline learn`: fits the matcher's weights to the organisation's own answered cases.
//!
//! Every case linked to an article or an earlier case is an example of "this is what answered
//! it". The matcher ranks each example's answer among everything it could have suggested, and
//! coordinate ascent moves the weights to rank those answers higher. Nothing is fetched from
//! outside: the data is the store's own.

use anyhow::bail;
use backline_domain::query::DocType;
use backline_search::{MatchWeights, SearchIndex, Visibility};
use backline_store::{LinkTarget, Store};
use std::collections::HashMap;

pub async fn run(store: &Store, min_examples: usize) -> anyhow::Result<serde_json::Value> {
    let links = store.all_links().await?;
    // A case answered by its own article taught nothing about matching; skip those.
    let mut by_case: HashMap<backline_domain::CaseId, Vec<LinkTarget>> = HashMap::new();
    for (case, target) in links {
        by_case.entry(case).or_default().push(target);
    }
    let case_ids: Vec<_> = by_case.keys().copied().collect();
    let cases = store.cases_with_comments(&case_ids).await?;
    // An index of everything, built in memory so a running server's index is left alone.
    let index = SearchIndex::in_memory()?;
    backline_server::indexer::rebuild(store, &index).await?;
    let mut examples = Vec::new();
    for (case, _) in &cases {
        for target in &by_case[&case.id] {
            let answer = match target {
                LinkTarget::Article(a) => {
                    let article = store.article(*a).await?;
                    if article.source_case == Some(case.id) {
                        continue;
                    }
                    (DocType::Article, a.0)
                }
                LinkTarget::Case(c) => (DocType::Case, c.0),
            };
            examples.push((
                backline_server::knowledge::service::match_input_for(case),
                answer,
            ));
        }
    }
    if examples.len() < min_examples {
        bail!(
            "only {} linked cases to learn from; at least {min_examples} are needed \
             (link solved cases to the articles or cases that answered them, or lower --min-examples)",
            examples.len()
        );
    }
    let start = MatchWeights::default();
    let before = index.mrr(&examples, &Visibility::everything(), &start)?;
    let (weights, after) = index.learn(&examples, &Visibility::everything(), start)?;
    backline_server::indexer::store_weights(store, &weights).await?;
    Ok(serde_json::json!({
        "examples": examples.len(),
        "mrr_default_weights": before,
        "mrr_learned_weights": after,
        "weights": weights,
    }))
}
