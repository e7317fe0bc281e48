//! An account's health score: a weighted mean of measures Backline already knows, each scored
//! 0 to 100 (100 = nothing to worry about). The weights are the vendor's (an admin setting);
//! a measure with nothing to measure (no ratings yet) is left out and the others' weights
//! carry the score. Definition and test vector: `../shared/REFERENCE.md`, "Satisfaction".

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the score is computed from, over the recent window (90 days; volume compares the last
/// 30 days with the 30 before).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HealthFacts {
    pub cases_last_30_days: u32,
    pub cases_previous_30_days: u32,
    /// Urgent or high priority cases still open.
    pub severe_open: u32,
    /// Satisfaction ratings: good and all.
    pub good_ratings: u32,
    pub ratings: u32,
    /// Incidents that touched a service the account uses.
    pub incidents: u32,
    /// Cases escalated past the first tier (or by a partner to the vendor).
    pub escalations: u32,
}

/// Relative weights of the measures (any non-negative numbers; only their ratios matter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthWeights {
    pub volume_trend: u32,
    pub severe_open: u32,
    pub satisfaction: u32,
    pub incidents: u32,
    pub escalations: u32,
}

impl Default for HealthWeights {
    fn default() -> Self {
        HealthWeights {
            volume_trend: 15,
            severe_open: 25,
            satisfaction: 30,
            incidents: 15,
            escalations: 15,
        }
    }
}

impl HealthWeights {
    /// At most 100 each, and not all zero.
    pub fn check(&self) -> Result<(), String> {
        let all = [
            self.volume_trend,
            self.severe_open,
            self.satisfaction,
            self.incidents,
            self.escalations,
        ];
        if all.iter().any(|w| *w > 100) {
            return Err("each weight is a number from 0 to 100".into());
        }
        if all.iter().all(|w| *w == 0) {
            return Err("give at least one measure a weight".into());
        }
        Ok(())
    }
}

/// One measure's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Measure {
    /// `volume_trend`, `severe_open`, `satisfaction`, `incidents` or `escalations`.
    pub name: String,
    /// 0-100; `null` when there was nothing to measure (left out of the mean).
    pub score: Option<f64>,
    pub weight: u32,
    /// How the score was reached, in words.
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Health {
    /// The weighted mean, 0-100, one decimal.
    pub score: f64,
    pub measures: Vec<Measure>,
}

/// The weighted mean of the scores that exist: sum(weight x score) / sum(weight). `None` when
/// no measure with a weight has a score.
pub fn weighted_mean(parts: &[(u32, Option<f64>)]) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for (weight, score) in parts {
        if let Some(score) = score {
            sum += f64::from(*weight) * score;
            weights += f64::from(*weight);
        }
    }
    (weights > 0.0).then(|| sum / weights)
}

fn clamp(x: f64) -> f64 {
    x.clamp(0.0, 100.0)
}

/// Scores each measure and the whole:
/// - volume trend: 100 while cases do not grow; each 1% growth over the previous 30 days costs
///   a point (doubling scores 0); no cases in either period: 100;
/// - severe open cases: 100 less 25 per case;
/// - satisfaction: the share of good ratings in percent; none yet: left out;
/// - incidents: 100 less 20 per incident;
/// - escalations: 100 less 10 per escalation.
pub fn health(facts: &HealthFacts, weights: &HealthWeights) -> Health {
    let (now, before) = (
        f64::from(facts.cases_last_30_days),
        f64::from(facts.cases_previous_30_days),
    );
    let volume = if before == 0.0 {
        if now == 0.0 {
            100.0
        } else {
            // Cases where there were none: growth without a base to measure it against.
            50.0
        }
    } else {
        clamp(100.0 - (now / before - 1.0) * 100.0)
    };
    let satisfaction = (facts.ratings > 0)
        .then(|| f64::from(facts.good_ratings) / f64::from(facts.ratings) * 100.0);
    let measures = vec![
        Measure {
            name: "volume_trend".into(),
            score: Some(volume),
            weight: weights.volume_trend,
            explanation: format!(
                "{} cases in the last 30 days, {} in the 30 before",
                facts.cases_last_30_days, facts.cases_previous_30_days
            ),
        },
        Measure {
            name: "severe_open".into(),
            score: Some(clamp(100.0 - 25.0 * f64::from(facts.severe_open))),
            weight: weights.severe_open,
            explanation: format!("{} urgent or high cases open", facts.severe_open),
        },
        Measure {
            name: "satisfaction".into(),
            score: satisfaction,
            weight: weights.satisfaction,
            explanation: if facts.ratings == 0 {
                "no ratings in 90 days".into()
            } else {
                format!("{} of {} ratings good", facts.good_ratings, facts.ratings)
            },
        },
        Measure {
            name: "incidents".into(),
            score: Some(clamp(100.0 - 20.0 * f64::from(facts.incidents))),
            weight: weights.incidents,
            explanation: format!(
                "{} incidents on services it uses in 90 days",
                facts.incidents
            ),
        },
        Measure {
            name: "escalations".into(),
            score: Some(clamp(100.0 - 10.0 * f64::from(facts.escalations))),
            weight: weights.escalations,
            explanation: format!("{} escalations in 90 days", facts.escalations),
        },
    ];
    let parts: Vec<(u32, Option<f64>)> = measures.iter().map(|m| (m.weight, m.score)).collect();
    let score = weighted_mean(&parts).unwrap_or(100.0);
    Health {
        score: (score * 10.0).round() / 10.0,
        measures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_weighted_mean() {
        // Weights (50, 30, 20), scores (80, 60, 40) -> 66.0.
        let mean = weighted_mean(&[(50, Some(80.0)), (30, Some(60.0)), (20, Some(40.0))]);
        assert_eq!(mean, Some(66.0));
        // A measure without a score is left out: (50x80 + 20x40) / 70.
        let mean = weighted_mean(&[(50, Some(80.0)), (30, None), (20, Some(40.0))]).unwrap();
        assert!((mean - 4800.0 / 70.0).abs() < 1e-9);
        assert_eq!(weighted_mean(&[(0, Some(10.0)), (5, None)]), None);
    }

    #[test]
    fn an_account_in_trouble_scores_low() {
        let facts = HealthFacts {
            cases_last_30_days: 15,
            cases_previous_30_days: 10,
            severe_open: 2,
            good_ratings: 3,
            ratings: 4,
            incidents: 1,
            escalations: 3,
        };
        let h = health(&facts, &HealthWeights::default());
        let scores: Vec<Option<f64>> = h.measures.iter().map(|m| m.score).collect();
        // Volume +50%: 50. Two severe: 50. 3 of 4 good: 75. One incident: 80. Three: 70.
        assert_eq!(
            scores,
            vec![Some(50.0), Some(50.0), Some(75.0), Some(80.0), Some(70.0)]
        );
        // (15x50 + 25x50 + 30x75 + 15x80 + 15x70) / 100 = 65.0
        assert_eq!(h.score, 65.0);
    }

    #[test]
    fn weights_change_the_score_and_missing_ratings_drop_out() {
        let quiet = HealthFacts::default();
        assert_eq!(health(&quiet, &HealthWeights::default()).score, 100.0);
        let facts = HealthFacts {
            severe_open: 4,
            ..HealthFacts::default()
        };
        let only_severe = HealthWeights {
            volume_trend: 0,
            severe_open: 1,
            satisfaction: 5,
            incidents: 0,
            escalations: 0,
        };
        // No ratings: satisfaction is left out, severe (0) carries the score alone.
        assert_eq!(health(&facts, &only_severe).score, 0.0);
        assert!(only_severe.check().is_ok());
        assert!(HealthWeights {
            volume_trend: 0,
            severe_open: 0,
            satisfaction: 0,
            incidents: 0,
            escalations: 0
        }
        .check()
        .is_err());
    }
}
