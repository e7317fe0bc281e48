//! Customer satisfaction (CSAT): the requester rates a solved case good or bad, with an
//! optional comment, and scores are the share of good ratings among all ratings.

use crate::{CaseStatus, ParseError};
use serde::{Deserialize, Serialize};

const MAX_COMMENT_CHARS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    Bad,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Bad => "bad",
        }
    }

    pub fn parse(text: &str) -> Result<Rating, ParseError> {
        match text.trim() {
            "good" => Ok(Rating::Good),
            "bad" => Ok(Rating::Bad),
            _ => Err(ParseError("Choose good or bad.".into())),
        }
    }
}

/// A case can be rated once it is solved, and the rating changed until long after (closed
/// cases too): people often rate when the fix has held for a while.
pub fn check_may_rate(status: CaseStatus) -> Result<(), ParseError> {
    if status.is_active() {
        return Err(ParseError("A case can be rated once it is solved.".into()));
    }
    Ok(())
}

/// Trims the comment; blank means none.
pub fn check_rating_comment(comment: &str) -> Result<Option<String>, ParseError> {
    let comment = comment.trim();
    let length = comment.chars().count();
    if length > MAX_COMMENT_CHARS {
        return Err(ParseError(format!(
            "This comment has {length} characters; it can hold at most {MAX_COMMENT_CHARS}."
        )));
    }
    Ok((!comment.is_empty()).then(|| comment.to_string()))
}

/// Good and bad ratings of a group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub good: i64,
    pub bad: i64,
}

impl Score {
    pub fn rated(&self) -> i64 {
        self.good + self.bad
    }

    /// The share of good ratings in percent, rounded to one decimal; `None` with no ratings
    /// (a score of nothing is not 0 % and not 100 %).
    pub fn percent(&self) -> Option<f64> {
        (self.rated() > 0).then(|| (self.good as f64 * 1000.0 / self.rated() as f64).round() / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_solved_or_closed_cases_are_rated() {
        assert!(check_may_rate(CaseStatus::Open).is_err());
        assert!(check_may_rate(CaseStatus::Pending).is_err());
        assert!(check_may_rate(CaseStatus::Solved).is_ok());
        assert!(check_may_rate(CaseStatus::Closed).is_ok());
    }

    #[test]
    fn scores_are_the_share_of_good_ratings() {
        assert_eq!(Score { good: 2, bad: 1 }.percent(), Some(66.7));
        assert_eq!(Score { good: 0, bad: 3 }.percent(), Some(0.0));
        assert_eq!(Score::default().percent(), None);
    }

    #[test]
    fn ratings_and_comments_are_checked() {
        assert_eq!(Rating::parse("good"), Ok(Rating::Good));
        assert!(Rating::parse("meh").is_err());
        assert_eq!(check_rating_comment("  "), Ok(None));
        assert_eq!(check_rating_comment(" fast! "), Ok(Some("fast!".into())));
        assert!(check_rating_comment(&"x".repeat(2_001)).is_err());
    }
}
