//! Knowledge articles with their full revision history, links from cases to what answered
//! them, the classification of solved cases, self-service deflection, stored settings, and
//! known-issue suggestions worked out ahead of time.

mod article_pages;
mod articles;
mod classification;
mod deflection;
mod links;
mod settings;
mod suggestions;

pub use articles::{ArticleEdit, ArticleFilter, NewArticle};
pub(crate) use classification::classify_in;
