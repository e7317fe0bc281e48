//! Backline's search: one tantivy index over cases, comments and articles, the query language
//! on top of it, and the known-issue matcher that ranks answers for a case.
//!
//! The index is a copy of what the database holds, kept current by the server's indexer from
//! the database's change log (`index_queue`); the sequence number of the last change applied
//! is stored in each commit, so a node that restarts picks up where it stopped, and several
//! nodes each keep their own index current from the same log. It can always be rebuilt.

pub mod analysis;
pub mod categorize;
mod error;
mod index;
pub mod matcher;
mod search;

pub use categorize::{CategorizeError, Categorizer, Prediction, TrainOptions};
pub use error::SearchError;
pub use index::{excerpt, IndexDoc, SearchIndex};
pub use matcher::{MatchInput, MatchWeights, Suggestion};
pub use search::{typo_distance, Hit, ResultPage, ResultRow, Sort, Visibility, FOLDED_COMMENTS};

pub type Result<T, E = SearchError> = std::result::Result<T, E>;
