//! Auto-categorisation: suggests a case category from the vendor's own categorised cases,
//! learned on the node (CPU only, nothing downloaded), with a confidence, and says
//! "uncategorised" (`None`) rather than guess when the text is unlike what it has seen.
//!
//! The method, in order:
//!
//! - **Features** (`features`): TF-IDF over word unigrams and bigrams, analysed content words
//!   (the search index's stemming, `analysis::words`) and character 2–5-grams inside words,
//!   in two groups (words, characters) each L2-normalised. Words the training data never
//!   had still count in the norm, so a text made mostly of unknown words scores low
//!   everywhere: that is itself a sign it belongs to no category.
//! - **Scores** (`linear`): a multi-class linear SVM in the Crammer–Singer form (all
//!   categories fitted jointly by the sequential dual method, fixed seed). Rows labelled
//!   out-of-scope, when there are any, are one more category that is never suggested: its
//!   score only tells how out of scope a text looks.
//! - **Neighbours** (`neighbours`): cosine similarity of the text's word features to the
//!   nearest training text of each category, added (half weight) to that category's SVM
//!   score; out-of-scope text tends to have no close neighbour even when a linear score
//!   happens to be high.
//! - **Confidence** (`calibration`): a small logistic model turns those signals into the
//!   probability that the top category is right. It is fitted on held-out predictions made
//!   by cross-validation on the training data alone, where each fold also leaves a share of
//!   the categories out entirely: their texts stand in for out-of-scope text the training
//!   data may not have (it works with no out-of-scope rows at all).
//! - **Threshold**: the same held-out predictions set it, as the confidence that withholds
//!   a fixed small share (`TrainOptions::withheld_share`, 0.5%) of the right answers; below
//!   it the answer is `None`. Nothing is tuned on the data the categoriser is judged on.

mod calibration;
mod features;
mod linear;
mod neighbours;

use calibration::{Calibration, Signals};
use features::Featurizer;
use linear::LinearModel;
use neighbours::Neighbours;
use std::collections::HashMap;

/// What a trained categoriser says about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The suggested category; `None` when the text is uncategorised (out of scope, or not
    /// confidently any one category).
    pub label: Option<String>,
    /// Estimated probability (0 to 1) that the best category is right; compared with the
    /// categoriser's threshold to decide between it and `None`.
    pub confidence: f64,
    /// The best categories, most likely first (at most `TrainOptions::ranked`), each with a
    /// softmax share of the scores (summing to 1 over all categories): for ordering and
    /// showing alternatives, not a calibrated probability like `confidence`.
    pub ranked: Vec<(String, f64)>,
}

/// Training settings. The defaults suit intent-style data of tens to hundreds of categories
/// and are not tuned to one data set.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The label that means "no category applies". Such rows teach what is out of scope and
    /// are never suggested.
    pub out_of_scope_label: String,
    /// Folds of the cross-validation that fits the confidence and chooses the threshold.
    pub folds: usize,
    /// Seed for every shuffle, so the same data always gives the same categoriser.
    pub seed: u64,
    /// SVM cost: higher fits the training data more closely.
    pub cost: f64,
    /// Passes of the dual method over the data, at most (it stops earlier once settled).
    pub epochs: usize,
    /// Share of right answers the confidence threshold may withhold (answer `None`
    /// instead), judged on held-out training data. Higher says `None` to more out-of-scope
    /// text and to more in-scope text too.
    pub withheld_share: f64,
    /// How many categories `Prediction::ranked` lists.
    pub ranked: usize,
    /// Worker threads for training (the cross-validation folds are fitted in parallel).
    pub threads: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            out_of_scope_label: "oos".into(),
            folds: 5,
            seed: 0x5eed_ca7e,
            cost: 1.0,
            epochs: 50,
            withheld_share: 0.005,
            ranked: 5,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CategorizeError {
    #[error("no training examples: a categoriser needs categorised texts to learn from")]
    NoExamples,
    #[error("no categories to learn: every training example is labelled {0:?} (out of scope)")]
    NoCategories(String),
    #[error("training example {row} has an empty label")]
    EmptyLabel { row: usize },
}

/// A trained categoriser: immutable, cheap to share between threads.
pub struct Categorizer {
    labels: Vec<String>,
    scorer: Scorer,
    calibration: Calibration,
    threshold: f64,
    ranked: usize,
}

/// Training rows turned into label indexes: `None` for out-of-scope.
struct Encoded {
    labels: Vec<String>,
    targets: Vec<Option<usize>>,
}

fn encode<S: AsRef<str>, L: AsRef<str>>(
    examples: &[(S, L)],
    options: &TrainOptions,
) -> Result<Encoded, CategorizeError> {
    if examples.is_empty() {
        return Err(CategorizeError::NoExamples);
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut labels = Vec::new();
    let mut targets = Vec::with_capacity(examples.len());
    for (row, (_, label)) in examples.iter().enumerate() {
        let label = label.as_ref().trim();
        if label.is_empty() {
            return Err(CategorizeError::EmptyLabel { row });
        }
        if label == options.out_of_scope_label {
            targets.push(None);
            continue;
        }
        let next = labels.len();
        let id = *index.entry(label).or_insert_with(|| {
            labels.push(label.to_string());
            next
        });
        targets.push(Some(id));
    }
    if labels.is_empty() {
        return Err(CategorizeError::NoCategories(
            options.out_of_scope_label.clone(),
        ));
    }
    Ok(Encoded { labels, targets })
}

/// How much the nearest training text of a category adds to its linear score. Texts close to
/// a known phrasing are usually that category even where the linear score is unsure; at
/// this weight a near-duplicate (similarity near 1) outweighs a small linear margin but not
/// a clear one.
const NEIGHBOUR_WEIGHT: f64 = 0.5;

/// The signals one prediction rests on, before calibration.
struct Scored {
    best: usize,
    scores: Vec<f64>,
    signals: Signals,
}

/// The parts that score a text; trained once on everything and once per fold.
struct Scorer {
    featurizer: Featurizer,
    /// Weights per category, then (when training had out-of-scope rows) for out of scope.
    model: LinearModel,
    categories: usize,
    neighbours: Neighbours,
}

impl Scorer {
    fn train(
        texts: &[&str],
        targets: &[Option<usize>],
        classes: usize,
        options: &TrainOptions,
    ) -> Scorer {
        let featurizer = Featurizer::fit(texts);
        let vectors: Vec<_> = texts.iter().map(|t| featurizer.vector(t)).collect();
        // Out-of-scope rows, when there are any, are one more category whose score says how
        // out of scope a text looks.
        let has_out_of_scope = targets.iter().any(Option::is_none);
        let model_targets: Vec<usize> = targets.iter().map(|t| t.unwrap_or(classes)).collect();
        let model = LinearModel::train(
            &vectors,
            &model_targets,
            classes + usize::from(has_out_of_scope),
            featurizer.dimensions(),
            options,
        );
        let neighbours = Neighbours::build(&vectors, targets, featurizer.word_dimensions());
        Scorer {
            featurizer,
            model,
            categories: classes,
            neighbours,
        }
    }

    fn score(&self, text: &str) -> Option<Scored> {
        let vector = self.featurizer.vector(text);
        if vector.entries.is_empty() {
            // Nothing in the text was ever seen in training: there is no basis for a guess.
            return None;
        }
        let near = self.neighbours.nearest(&vector.entries, self.categories);
        let mut linear = self.model.scores(&vector.entries);
        let out_of_scope = linear.split_off(self.categories).first().copied();
        let scores: Vec<f64> = linear
            .iter()
            .zip(&near.by_class)
            .map(|(score, similarity)| score + NEIGHBOUR_WEIGHT * similarity)
            .collect();
        let mut best = 0;
        let mut second = f64::NEG_INFINITY;
        for (class, &score) in scores.iter().enumerate().skip(1) {
            if score > scores[best] {
                second = scores[best];
                best = class;
            } else if score > second {
                second = score;
            }
        }
        if !second.is_finite() {
            // A single category: measure its lead over a score of "surely not" (-1).
            second = -1.0;
        }
        Some(Scored {
            best,
            signals: Signals {
                top: scores[best],
                margin: scores[best] - second,
                nearest: near.by_class.iter().copied().fold(0.0, f64::max),
                nearest_in_class: near.by_class[best],
                nearest_out_of_scope: near.out_of_scope,
                // Without out-of-scope training rows this is 0 everywhere and has no say.
                ahead_of_out_of_scope: out_of_scope.map_or(0.0, |o| linear[best] - o),
                known_share: vector.known_share,
            },
            scores,
        })
    }
}

impl Categorizer {
    /// Learns categories from `(text, label)` pairs; rows labelled
    /// `options.out_of_scope_label` teach what belongs to no category.
    pub fn train<S: AsRef<str>, L: AsRef<str>>(
        examples: &[(S, L)],
        options: &TrainOptions,
    ) -> Result<Categorizer, CategorizeError> {
        Self::train_with_validation::<S, L, &str, &str>(examples, &[], options)
    }

    /// Like `train`, and the confidence model and threshold are also fitted on `validation`
    /// (labelled rows kept out of training) when it has any. A validation label the training
    /// data does not have counts as out of scope.
    pub fn train_with_validation<S: AsRef<str>, L: AsRef<str>, VS: AsRef<str>, VL: AsRef<str>>(
        examples: &[(S, L)],
        validation: &[(VS, VL)],
        options: &TrainOptions,
    ) -> Result<Categorizer, CategorizeError> {
        let encoded = encode(examples, options)?;
        let texts: Vec<&str> = examples.iter().map(|(t, _)| t.as_ref()).collect();
        let classes = encoded.labels.len();

        let held_out = cross_validate(&texts, &encoded, options);
        let scorer = Scorer::train(&texts, &encoded.targets, classes, options);
        let mut judged = held_out;
        if !validation.is_empty() {
            let index: HashMap<&str, usize> = encoded
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), i))
                .collect();
            for (text, label) in validation {
                let label = label.as_ref().trim();
                let target = index.get(label).copied();
                judged.push(HeldOut::judge(scorer.score(text.as_ref()), target, false));
            }
        }
        let calibration = Calibration::fit(&judged);
        let threshold = choose_threshold(&judged, &calibration, options.withheld_share);
        Ok(Categorizer {
            labels: encoded.labels,
            scorer,
            calibration,
            threshold,
            ranked: options.ranked,
        })
    }

    /// The categories this categoriser can suggest, in the order first seen in training.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The confidence below which `predict` answers `None`, as chosen in training.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn predict(&self, text: &str) -> Prediction {
        let Some(scored) = self.scorer.score(text) else {
            return Prediction {
                label: None,
                confidence: 0.0,
                ranked: Vec::new(),
            };
        };
        let confidence = self.calibration.confidence(&scored.signals);
        let ranked = rank(&scored.scores, &self.labels, self.ranked);
        let label = (confidence >= self.threshold).then(|| self.labels[scored.best].clone());
        Prediction {
            label,
            confidence,
            ranked,
        }
    }
}

/// The best `k` categories with a softmax share of the SVM scores. The scale turns margins
/// (about -1 to 1) into shares that are neither flat nor all on one category.
fn rank(scores: &[f64], labels: &[String], k: usize) -> Vec<(String, f64)> {
    const SCALE: f64 = 8.0;
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = scores.iter().map(|s| ((s - max) * SCALE).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(k)
        .map(|c| (labels[c].clone(), weights[c] / total))
        .collect()
}

/// One held-out prediction: its signals and whether answering with it would be right.
#[derive(Debug, Clone)]
pub(crate) struct HeldOut {
    /// `None` when the text had nothing known in it (always answered `None`).
    signals: Option<Signals>,
    /// The text has a category the model knew.
    in_scope: bool,
    /// The model's best category is the text's category.
    correct: bool,
    /// Out of scope only because its category was left out of this fold.
    stand_in: bool,
}

impl HeldOut {
    fn judge(scored: Option<Scored>, target: Option<usize>, stand_in: bool) -> HeldOut {
        let correct = match (&scored, target) {
            (Some(s), Some(t)) => s.best == t,
            _ => false,
        };
        HeldOut {
            signals: scored.map(|s| s.signals),
            in_scope: target.is_some(),
            correct,
            stand_in,
        }
    }
}

/// Splitmix64: a small, fixed pseudo-random sequence so training is reproducible.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Held-out predictions for every training row. Rows are dealt into folds within each
/// label; categories are also dealt into as many groups, and fold `f` leaves group `f` out
/// of training entirely, so its texts are judged as out-of-scope text the model never saw.
fn cross_validate(texts: &[&str], encoded: &Encoded, options: &TrainOptions) -> Vec<HeldOut> {
    let classes = encoded.labels.len();
    let folds = options.folds.max(2);
    let mut rng = Rng::new(options.seed ^ 0xf01d);

    let mut fold_of = vec![0usize; texts.len()];
    let mut rows_by_label: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (row, target) in encoded.targets.iter().enumerate() {
        rows_by_label.entry(*target).or_default().push(row);
    }
    let mut groups: Vec<Option<usize>> = rows_by_label.keys().copied().collect();
    groups.sort();
    // Continue the deal across labels so small labels do not all start in fold 0.
    let mut next_fold = 0;
    for label in &groups {
        let mut rows = rows_by_label[label].clone();
        rng.shuffle(&mut rows);
        for row in rows {
            fold_of[row] = next_fold;
            next_fold = (next_fold + 1) % folds;
        }
    }

    // With fewer than three categories, leaving one out would leave too little to learn.
    let mut group_of = vec![usize::MAX; classes];
    if classes >= 3 {
        let mut order: Vec<usize> = (0..classes).collect();
        rng.shuffle(&mut order);
        for (i, class) in order.into_iter().enumerate() {
            group_of[class] = i % folds;
        }
    }

    // Folds are independent: they run on `options.threads` threads, and their judgements
    // are put together in fold order, so the result does not depend on the thread count.
    let threads = options.threads.clamp(1, folds);
    let fold = |fold: usize| judge_fold(texts, encoded, options, fold, &fold_of, &group_of);
    let mut by_fold: Vec<Vec<HeldOut>> = (0..folds).map(|_| Vec::new()).collect();
    std::thread::scope(|scope| {
        let fold = &fold;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..folds)
                        .step_by(threads)
                        .map(|f| (f, fold(f)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            for (f, judged) in handle.join().expect("cross-validation thread panicked") {
                by_fold[f] = judged;
            }
        }
    });
    by_fold.into_iter().flatten().collect()
}

/// Held-out predictions of one fold: its model is trained without the fold's rows and
/// without the categories of group `fold`.
fn judge_fold(
    texts: &[&str],
    encoded: &Encoded,
    options: &TrainOptions,
    fold: usize,
    fold_of: &[usize],
    group_of: &[usize],
) -> Vec<HeldOut> {
    let classes = encoded.labels.len();
    let mut judged = Vec::new();
    let left_out = |class: usize| group_of[class] == fold;
    let mut train_texts = Vec::new();
    let mut train_targets = Vec::new();
    // Kept categories are renumbered densely for the fold's model.
    let mut renumber = vec![usize::MAX; classes];
    let mut kept = 0;
    for (class, number) in renumber.iter_mut().enumerate() {
        if !left_out(class) {
            *number = kept;
            kept += 1;
        }
    }
    for (row, text) in texts.iter().enumerate() {
        if fold_of[row] == fold {
            continue;
        }
        match encoded.targets[row] {
            Some(class) if left_out(class) => continue,
            Some(class) => train_targets.push(Some(renumber[class])),
            None => train_targets.push(None),
        }
        train_texts.push(*text);
    }
    if kept == 0 || train_targets.iter().all(Option::is_none) {
        return judged;
    }
    let scorer = Scorer::train(&train_texts, &train_targets, kept, options);
    for (row, text) in texts.iter().enumerate() {
        let target = encoded.targets[row];
        let judged_here = match target {
            // A left-out category's texts are all unseen by this fold's model.
            Some(class) if left_out(class) => true,
            _ => fold_of[row] == fold,
        };
        if !judged_here {
            continue;
        }
        let stand_in = target.is_some_and(left_out);
        let target = target.and_then(|c| (!left_out(c)).then_some(renumber[c]));
        judged.push(HeldOut::judge(scorer.score(text), target, stand_in));
    }
    judged
}

/// The confidence threshold: the lowest that withholds at most `withheld_share` of the
/// right answers among the held-out in-scope texts. Out-of-scope texts are not counted here
/// on purpose: the texts that stand in for them (left-out categories) are closer to the
/// known categories than real out-of-scope text tends to be, so weighing them would reject
/// far more than it should; their part is teaching the confidence what out of scope looks
/// like. How much goes to `None` then follows from the confidence, not from a guess at how
/// common out-of-scope text will be.
///
/// The threshold never exceeds one half: an answer more likely right than wrong is given.
/// That matters with little data, where held-out texts are close copies of training texts
/// and the least confident right answer is still very confident.
fn choose_threshold(judged: &[HeldOut], calibration: &Calibration, withheld_share: f64) -> f64 {
    let mut right: Vec<f64> = judged
        .iter()
        .filter(|h| h.in_scope && h.correct)
        .filter_map(|h| Some(calibration.confidence(h.signals.as_ref()?)))
        .collect();
    if right.is_empty() {
        return 0.0;
    }
    right.sort_by(f64::total_cmp);
    let withheld = (right.len() as f64 * withheld_share.clamp(0.0, 1.0)).floor() as usize;
    right[withheld.min(right.len() - 1)].min(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four support categories, each asked about in ten different ways.
    fn support_examples() -> Vec<(String, String)> {
        let categories: [(&str, [&str; 10]); 4] = [
            (
                "billing",
                [
                    "my invoice was charged twice",
                    "refund the duplicate payment on my card",
                    "the invoice amount is wrong",
                    "update the credit card used for billing",
                    "why was my card charged again this month",
                    "I need a copy of last month's invoice",
                    "the payment failed but the invoice says paid",
                    "cancel the subscription and refund the charge",
                    "add our VAT number to the invoices",
                    "the price on the invoice does not match the quote",
                ],
            ),
            (
                "login",
                [
                    "I cannot sign in with my password",
                    "reset my password, the login page rejects it",
                    "the two factor code never arrives when I sign in",
                    "my account is locked after failed logins",
                    "the password reset email never came",
                    "sign in keeps sending me back to the login page",
                    "how do I change my password",
                    "single sign on fails with an error",
                    "my login session expires every few minutes",
                    "unlock my account so I can sign in",
                ],
            ),
            (
                "shipping",
                [
                    "where is my parcel, the tracking number shows nothing",
                    "the delivery is late by a week",
                    "the courier left the package at the wrong address",
                    "change the shipping address of my order",
                    "my order has not shipped yet",
                    "the parcel arrived damaged",
                    "can the delivery come on saturday",
                    "tracking says delivered but there is no package",
                    "how much does express shipping cost",
                    "the courier never came to pick up the return",
                ],
            ),
            (
                "backup",
                [
                    "the nightly backup job failed on the database server",
                    "restore a snapshot of yesterday's backup",
                    "backup storage is full and jobs stop",
                    "how long are backup snapshots retained",
                    "the backup agent cannot reach the server",
                    "restoring a mailbox from backup takes hours",
                    "schedule a backup of the file server every hour",
                    "backup jobs are slow since the upgrade",
                    "verify that last week's backups can be restored",
                    "exclude temporary folders from the backup",
                ],
            ),
        ];
        categories
            .iter()
            .flat_map(|(label, phrases)| {
                phrases
                    .iter()
                    .map(|phrase| (phrase.to_string(), label.to_string()))
            })
            .collect()
    }

    fn options() -> TrainOptions {
        TrainOptions {
            threads: 2,
            ..TrainOptions::default()
        }
    }

    #[test]
    fn learns_separable_categories() {
        let categorizer = Categorizer::train(&support_examples(), &options()).unwrap();
        for (text, label) in [
            ("my card was charged twice for one invoice", "billing"),
            ("the login page says my password is wrong", "login"),
            (
                "the tracking number of my parcel shows no delivery",
                "shipping",
            ),
            ("the backup job failed again last night", "backup"),
        ] {
            let prediction = categorizer.predict(text);
            assert_eq!(
                prediction.label.as_deref(),
                Some(label),
                "{text}: {prediction:?}"
            );
            assert_eq!(prediction.ranked[0].0, label);
            assert!(prediction.confidence >= categorizer.threshold());
        }
        assert_eq!(categorizer.labels().len(), 4);
    }

    /// The training data has no out-of-scope rows: the threshold alone says `None`.
    #[test]
    fn text_unlike_any_category_is_uncategorised_without_out_of_scope_rows() {
        let categorizer = Categorizer::train(&support_examples(), &options()).unwrap();
        let known = categorizer.predict("my invoice was charged twice");
        for text in ["what rhymes with orange", "qwxz vvbn jjkk", ""] {
            let prediction = categorizer.predict(text);
            assert_eq!(prediction.label, None, "{text}: {prediction:?}");
            assert!(prediction.confidence < known.confidence);
        }
    }

    #[test]
    fn out_of_scope_rows_teach_but_are_never_suggested() {
        let mut examples = support_examples();
        for text in [
            "tell me a joke",
            "what is the weather like on mars",
            "who won the football match yesterday",
            "recommend a good film for tonight",
            "how tall is the tallest mountain",
            "sing me a song about cats",
        ] {
            examples.push((text.to_string(), "oos".to_string()));
        }
        let categorizer = Categorizer::train(&examples, &options()).unwrap();
        assert!(!categorizer.labels().iter().any(|l| l == "oos"));
        assert_eq!(
            categorizer
                .predict("tell me a joke about the weather")
                .label,
            None
        );
        assert_eq!(
            categorizer
                .predict("refund the duplicate payment please")
                .label
                .as_deref(),
            Some("billing")
        );
    }

    #[test]
    fn refuses_training_data_without_categories() {
        let empty: [(&str, &str); 0] = [];
        assert_eq!(
            Categorizer::train(&empty, &options()).err(),
            Some(CategorizeError::NoExamples)
        );
        let only_out_of_scope = [("tell me a joke", "oos"), ("sing a song", "oos")];
        assert_eq!(
            Categorizer::train(&only_out_of_scope, &options()).err(),
            Some(CategorizeError::NoCategories("oos".into()))
        );
        assert_eq!(
            Categorizer::train(&[("text", " ")], &options()).err(),
            Some(CategorizeError::EmptyLabel { row: 0 })
        );
    }

    #[test]
    fn same_data_gives_same_predictions_whatever_the_threads() {
        let examples = support_examples();
        let one = Categorizer::train(
            &examples,
            &TrainOptions {
                threads: 1,
                ..options()
            },
        )
        .unwrap();
        let two = Categorizer::train(&examples, &options()).unwrap();
        assert_eq!(one.threshold(), two.threshold());
        for text in [
            "charged twice",
            "locked out of my account",
            "what rhymes with orange",
            "restore the backup to a new server",
        ] {
            assert_eq!(one.predict(text), two.predict(text));
        }
    }

    #[test]
    fn a_validation_set_takes_part_in_the_threshold() {
        let examples = support_examples();
        let validation = [
            ("the invoice shows a payment twice", "billing"),
            ("what rhymes with orange", "oos"),
        ];
        let categorizer =
            Categorizer::train_with_validation(&examples, &validation, &options()).unwrap();
        assert_eq!(
            categorizer
                .predict("refund my duplicate invoice payment")
                .label
                .as_deref(),
            Some("billing")
        );
    }
}
