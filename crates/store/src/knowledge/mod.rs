//! Knowledge articles with their full revision history, links from cases to what answered
//! them, the classification of solved cases, self-service deflection, and stored settings.

mod articles;
mod classification;
mod deflection;
mod links;
mod settings;

pub use articles::{ArticleEdit, ArticleFilter, NewArticle};
pub(crate) use classification::classify_in;
