//! Backline's search: one tantivy index over cases, comments, articles and published community
//! questions, the query language on top of it, and the known-issue matcher that ranks answers
//! for a case (or for a question being typed).
//!
//! The index is a copy of what the database holds, kept current by the server's indexer from
//! the changes the store announces; the time up to which every change is in is stored in each
//! commit (the watermark), so a node that restarts picks up where it stopped, and several nodes
//! each keep their own index current. It can always be rebuilt.

pub mod analysis;
pub mod categorize;
mod error;
mod index;
pub mod matcher;
mod search;

pub use categorize::{CategorizeError, Categorizer, Prediction, TrainOptions};
pub use error::SearchError;
pub use index::{excerpt, IndexDoc, SearchIndex};
pub use matcher::{Among, MatchInput, MatchWeights, Suggestion};
pub use search::{
    typo_distance, Hit, QuestionScope, ResultPage, ResultRow, Sort, Visibility, FOLDED_COMMENTS,
};

pub type Result<T, E = SearchError> = std::result::Result<T, E>;
