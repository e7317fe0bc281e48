//! The search query language, shared by every search box and `GET /api/v1/search`:
//!
//! ```text
//! disk full "quota exceeded" status:open priority:high partner:acme product:backup type:article
//! ```
//!
//! Free words, quoted phrases, and `field:value` filters (a value may be quoted). Parsing is
//! total: any input gives either a query or an error that says at which character it failed.

use crate::{string_enum, ArticleState, Audience, CaseStatus, ParseError, Priority};
use std::fmt;

string_enum!(
    /// The filters a query may use.
    FilterField {
        Status => "status", Priority => "priority", Partner => "partner", Org => "org",
        Product => "product", Type => "type", State => "state", Audience => "audience", Tag => "tag",
        Assignee => "assignee", Queue => "queue", Tier => "tier", Channel => "channel", Sla => "sla"
    }
);

impl FilterField {
    /// Whether the search index can filter by it; the others (who works on a case, where it
    /// is queued, its clocks) change too often to index and filter case lists only.
    pub fn in_search(self) -> bool {
        !matches!(
            self,
            FilterField::Assignee
                | FilterField::Queue
                | FilterField::Tier
                | FilterField::Channel
                | FilterField::Sla
        )
    }
}

/// The statuses a `status:` value names: one status, or `unsolved` for every open one.
pub fn statuses_named(value: &str) -> Result<Vec<CaseStatus>, ParseError> {
    match value.trim() {
        "unsolved" => Ok(CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_active())
            .collect()),
        other => CaseStatus::parse(other)
            .map(|s| vec![s])
            .map_err(|e| ParseError(format!("{}, or unsolved", e.0))),
    }
}

string_enum!(
    /// What a result is: a case, a comment on one, an article, or a community question (with
    /// the text of its published answers).
    DocType { Case => "case", Comment => "comment", Article => "article", Question => "question" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    Word(String),
    Phrase(String),
    Filter { field: FilterField, value: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub clauses: Vec<Clause>,
}

/// A query that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct QueryError {
    /// 0-based character offset.
    pub position: usize,
    pub message: String,
}

impl SearchQuery {
    pub fn parse(text: &str) -> Result<SearchQuery, QueryError> {
        let chars: Vec<char> = text.chars().collect();
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
                continue;
            }
            if chars[i] == '"' {
                let (content, next) = quoted(&chars, i)?;
                let content = content.split_whitespace().collect::<Vec<_>>().join(" ");
                if !content.is_empty() {
                    clauses.push(Clause::Phrase(content));
                }
                i = next;
                continue;
            }
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            match token.split_once(':') {
                // `name://...` is a URL, not a filter.
                Some((name, rest))
                    if !name.is_empty()
                        && !rest.starts_with('/')
                        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') =>
                {
                    let field = match name {
                        "organization" => FilterField::Org,
                        other => FilterField::parse(other).map_err(|_| QueryError {
                            position: start,
                            message: format!(
                                "unknown filter `{name}:`; filters are {} (quote the text to search for it)",
                                FilterField::ALL.iter().map(|f| format!("{f}:")).collect::<Vec<_>>().join(" ")
                            ),
                        })?,
                    };
                    let value_start = start + name.chars().count() + 1;
                    let value = if rest.is_empty() && i < chars.len() && chars[i] == '"' {
                        let (content, next) = quoted(&chars, i)?;
                        i = next;
                        content.trim().to_string()
                    } else {
                        rest.to_string()
                    };
                    if value.is_empty() {
                        return Err(QueryError {
                            position: value_start,
                            message: format!("`{name}:` needs a value"),
                        });
                    }
                    check_value(field, &value).map_err(|e| QueryError {
                        position: value_start,
                        message: format!("{name}: {}", e.0),
                    })?;
                    clauses.push(Clause::Filter { field, value });
                }
                _ => clauses.push(Clause::Word(token)),
            }
        }
        Ok(SearchQuery { clauses })
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.clauses.iter().filter_map(|c| match c {
            Clause::Word(w) => Some(w.as_str()),
            _ => None,
        })
    }

    pub fn phrases(&self) -> impl Iterator<Item = &str> {
        self.clauses.iter().filter_map(|c| match c {
            Clause::Phrase(p) => Some(p.as_str()),
            _ => None,
        })
    }

    pub fn filters(&self, field: FilterField) -> impl Iterator<Item = &str> {
        self.clauses.iter().filter_map(move |c| match c {
            Clause::Filter { field: f, value } if *f == field => Some(value.as_str()),
            _ => None,
        })
    }

    /// True when the query has words or phrases to rank by, not only filters.
    pub fn has_text(&self) -> bool {
        self.clauses
            .iter()
            .any(|c| !matches!(c, Clause::Filter { .. }))
    }
}

/// Whether a `partner:` value names this partner: its slug starts with the value or its name
/// holds it, ignoring case (`partner:acm` finds `acme-resellers`, `partner:resellers` finds
/// "Acme Resellers"). Case lists and search both mean this.
pub fn partner_named(value: &str, slug: &str, name: &str) -> bool {
    let value = value.trim().to_lowercase();
    !value.is_empty()
        && (slug.to_lowercase().starts_with(&value) || name.to_lowercase().contains(&value))
}

/// Reads a `"..."` starting at `open`; returns the content and the index after the closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), QueryError> {
    let close = chars[open + 1..]
        .iter()
        .position(|c| *c == '"')
        .ok_or_else(|| QueryError {
            position: open,
            message: "this quote is never closed".into(),
        })?;
    let content: String = chars[open + 1..open + 1 + close].iter().collect();
    Ok((content, open + close + 2))
}

fn check_value(field: FilterField, value: &str) -> Result<(), ParseError> {
    match field {
        FilterField::Status => statuses_named(value).map(drop),
        FilterField::Priority => Priority::parse(value).map(drop),
        FilterField::Type => DocType::parse(value).map(drop),
        FilterField::State => ArticleState::parse(value).map(drop),
        FilterField::Audience => Audience::parse(value).map(drop),
        FilterField::Tier => match value {
            "1" | "2" | "3" | "l1" | "l2" | "l3" | "L1" | "L2" | "L3" => Ok(()),
            _ => Err(ParseError("write 1, 2 or 3".into())),
        },
        FilterField::Channel => crate::Channel::parse(value).map(drop),
        FilterField::Sla => crate::sla::SlaState::parse(value).map(drop),
        FilterField::Partner
        | FilterField::Org
        | FilterField::Product
        | FilterField::Tag
        | FilterField::Assignee
        | FilterField::Queue => Ok(()),
    }
}

impl fmt::Display for SearchQuery {
    /// The canonical text of the query; parsing it gives the same query back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match clause {
                Clause::Word(w) => f.write_str(w)?,
                Clause::Phrase(p) => write!(f, "\"{p}\"")?,
                Clause::Filter { field, value }
                    if value.contains(|c: char| c.is_whitespace() || c == '"' || c == ':') =>
                {
                    write!(f, "{field}:\"{value}\"")?
                }
                Clause::Filter { field, value } => write!(f, "{field}:{value}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn partners_are_named_by_slug_prefix_or_a_part_of_the_name() {
        use super::partner_named;
        assert!(partner_named("acm", "acme-resellers", "Acme Resellers"));
        assert!(partner_named("ACME", "acme-resellers", "Acme Resellers"));
        assert!(partner_named(
            "resellers",
            "acme-resellers",
            "Acme Resellers"
        ));
        assert!(!partner_named("resellers", "orbit-it", "Orbit IT"));
        // The middle of a slug is not a prefix.
        assert!(!partner_named("resellers", "acme-resellers", "Acme"));
        assert!(!partner_named(" ", "acme-resellers", "Acme Resellers"));
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_phrases_and_filters() {
        let q = SearchQuery::parse(
            r#"disk  full "quota   exceeded" status:open partner:"acme corp" type:article"#,
        )
        .unwrap();
        assert_eq!(
            q.clauses,
            vec![
                Clause::Word("disk".into()),
                Clause::Word("full".into()),
                Clause::Phrase("quota exceeded".into()),
                Clause::Filter {
                    field: FilterField::Status,
                    value: "open".into()
                },
                Clause::Filter {
                    field: FilterField::Partner,
                    value: "acme corp".into()
                },
                Clause::Filter {
                    field: FilterField::Type,
                    value: "article".into()
                },
            ]
        );
        assert_eq!(
            q.to_string(),
            r#"disk full "quota exceeded" status:open partner:"acme corp" type:article"#
        );
        assert!(q.has_text());
        assert!(!SearchQuery::parse("status:open").unwrap().has_text());
    }

    #[test]
    fn identifiers_with_colons_stay_words() {
        let q = SearchQuery::parse("java.io.IOException: BK-1042 http://x").unwrap();
        assert_eq!(
            q.words().collect::<Vec<_>>(),
            ["java.io.IOException:", "BK-1042", "http://x"]
        );
    }

    #[test]
    fn errors_say_where() {
        let e = SearchQuery::parse(r#"disk "full"#).unwrap_err();
        assert_eq!(e.position, 5);
        assert!(e.message.contains("never closed"));
        let e = SearchQuery::parse("disk stauts:open").unwrap_err();
        assert_eq!(e.position, 5);
        assert!(e.message.contains("unknown filter `stauts:`"));
        let e = SearchQuery::parse("status:done").unwrap_err();
        assert_eq!(e.position, 7);
        assert!(e.message.starts_with("status: unknown value"));
        let e = SearchQuery::parse("a priority:").unwrap_err();
        assert_eq!(e.position, 11);
        assert_eq!(e.to_string(), "`priority:` needs a value (at character 11)");
    }

    fn clause() -> impl Strategy<Value = Clause> {
        let word = "[a-zA-Z0-9._/-]{1,12}(:[a-z0-9]{0,4})?".prop_filter("not a filter", |w| {
            !matches!(w.split_once(':'), Some((name, rest)) if !rest.starts_with('/') && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        });
        let phrase = "[a-z0-9]{1,8}( [a-z0-9]{1,8}){0,3}";
        let free_filter = (
            prop_oneof![
                Just(FilterField::Partner),
                Just(FilterField::Org),
                Just(FilterField::Product),
                Just(FilterField::Tag)
            ],
            "[a-z0-9][a-z0-9 :-]{0,10}[a-z0-9]",
        );
        let status = proptest::sample::select(CaseStatus::ALL.to_vec());
        prop_oneof![
            word.prop_map(Clause::Word),
            phrase.prop_map(Clause::Phrase),
            free_filter.prop_map(|(field, value)| Clause::Filter { field, value }),
            status.prop_map(|s| Clause::Filter {
                field: FilterField::Status,
                value: s.as_str().into()
            }),
        ]
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,60}") {
            let _ = SearchQuery::parse(&text);
        }

        #[test]
        fn parse_display_round_trips(clauses in proptest::collection::vec(clause(), 0..8)) {
            let query = SearchQuery { clauses };
            let text = query.to_string();
            prop_assert_eq!(SearchQuery::parse(&text).unwrap(), query);
        }

        #[test]
        fn parsed_queries_reparse_to_themselves(text in "[a-z :\"]{0,40}") {
            if let Ok(query) = SearchQuery::parse(&text) {
                prop_assert_eq!(SearchQuery::parse(&query.to_string()).unwrap(), query);
            }
        }
    }
}
