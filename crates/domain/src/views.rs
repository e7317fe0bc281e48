//! Case lists: what a list query asks for, in which order, and the views every agent starts
//! with. A view is a query in the search language (`query.rs`) plus an order, so anything an
//! agent can type in the filter box can be saved and shared.

use crate::query::{statuses_named, Clause, FilterField, SearchQuery};
use crate::sla::SlaState;
use crate::{string_enum, CaseStatus, Channel, ParseError, Priority, Tier};

string_enum!(
    /// What a case list is sorted by.
    SortKey {
        Attention => "attention", Number => "number", Updated => "updated", Created => "created",
        Priority => "priority", Status => "status", Due => "due", Subject => "subject"
    }
);

/// An order for a case list: `attention` (breach soonest, then the latest update), or a column,
/// written `updated` (ascending) or `-updated` (descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseSort {
    pub key: SortKey,
    pub descending: bool,
}

impl CaseSort {
    pub const ATTENTION: CaseSort = CaseSort {
        key: SortKey::Attention,
        descending: false,
    };
    pub const NEWEST_UPDATE: CaseSort = CaseSort {
        key: SortKey::Updated,
        descending: true,
    };
    /// Newest case first: the order the API has always listed in, and its cursor follows.
    pub const NEWEST_FIRST: CaseSort = CaseSort {
        key: SortKey::Number,
        descending: true,
    };

    pub fn parse(text: &str) -> Result<CaseSort, ParseError> {
        let text = text.trim();
        let (descending, key) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let key = SortKey::parse(key)?;
        Ok(CaseSort {
            key,
            // Attention has one direction: the most urgent first.
            descending: descending && key != SortKey::Attention,
        })
    }

    /// The order a column header switches to when clicked: the other direction when the list
    /// is already sorted by it, otherwise the column's natural first direction (newest,
    /// most urgent, highest number first).
    pub fn toggled(self, key: SortKey) -> CaseSort {
        if self.key == key {
            return CaseSort {
                key,
                descending: !self.descending && key != SortKey::Attention,
            };
        }
        let descending = matches!(
            key,
            SortKey::Number | SortKey::Updated | SortKey::Created | SortKey::Priority
        );
        CaseSort { key, descending }
    }
}

impl Default for CaseSort {
    fn default() -> Self {
        CaseSort::NEWEST_FIRST
    }
}

impl std::fmt::Display for CaseSort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.key.as_str())
    }
}

/// Who a case list's `assignee:` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// `assignee:me`: whoever looks at the list.
    Me,
    /// `assignee:none`: nobody yet.
    Nobody,
    /// `assignee:ana@vendor.example`.
    Email(String),
}

/// A query read as a case list: each filter with its values (several values of one filter
/// mean any of them; different filters must all hold), and the free words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseListQuery {
    pub words: Vec<String>,
    pub statuses: Vec<CaseStatus>,
    pub priorities: Vec<Priority>,
    pub organizations: Vec<String>,
    pub partners: Vec<String>,
    pub products: Vec<String>,
    pub tags: Vec<String>,
    pub assignee: Option<AssigneeFilter>,
    pub queues: Vec<String>,
    pub tiers: Vec<Tier>,
    pub channels: Vec<Channel>,
    pub sla: Vec<SlaState>,
}

impl CaseListQuery {
    /// Reads a parsed query as a case list; filters that describe articles are refused, so a
    /// saved view never silently ignores part of what it says.
    pub fn from_query(query: &SearchQuery) -> Result<CaseListQuery, ParseError> {
        let mut list = CaseListQuery::default();
        for clause in &query.clauses {
            let (field, value) = match clause {
                Clause::Word(w) | Clause::Phrase(w) => {
                    list.words.push(w.clone());
                    continue;
                }
                Clause::Filter { field, value } => (*field, value.trim()),
            };
            let lower = value.to_lowercase();
            match field {
                FilterField::Status => list.statuses.extend(statuses_named(value)?),
                FilterField::Priority => list.priorities.push(Priority::parse(value)?),
                FilterField::Org => list.organizations.push(lower),
                FilterField::Partner => list.partners.push(lower),
                FilterField::Product => list.products.push(lower),
                FilterField::Tag => list.tags.push(lower),
                FilterField::Queue => list.queues.push(lower),
                FilterField::Channel => list.channels.push(Channel::parse(value)?),
                FilterField::Sla => list.sla.push(SlaState::parse(value)?),
                FilterField::Tier => {
                    let level = lower.trim_start_matches('l');
                    let level: i64 = level
                        .parse()
                        .map_err(|_| ParseError("tier: write 1, 2 or 3".into()))?;
                    list.tiers.push(Tier::new(level)?);
                }
                FilterField::Assignee => {
                    if list.assignee.is_some() {
                        return Err(ParseError(
                            "name one assignee (assignee:me, assignee:none or an email)".into(),
                        ));
                    }
                    list.assignee = Some(match lower.as_str() {
                        "me" => AssigneeFilter::Me,
                        "none" | "nobody" => AssigneeFilter::Nobody,
                        _ => AssigneeFilter::Email(lower),
                    });
                }
                FilterField::Type | FilterField::State | FilterField::Audience => {
                    return Err(ParseError(format!(
                        "{field}: describes articles; a case list cannot use it"
                    )))
                }
            }
        }
        list.statuses.sort();
        list.statuses.dedup();
        Ok(list)
    }

    /// Whether the list holds only unsolved cases, where "what needs attention" is the
    /// natural order.
    pub fn only_unsolved(&self) -> bool {
        !self.statuses.is_empty() && self.statuses.iter().all(|s| s.is_active())
    }
}

/// A view every agent has, before saving any: a name, a query and an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltInView {
    pub key: &'static str,
    pub name: &'static str,
    pub query: &'static str,
    pub sort: CaseSort,
    /// Whether customers and partner technicians have it too.
    pub for_everyone: bool,
}

pub const BUILT_IN_VIEWS: &[BuiltInView] = &[
    BuiltInView {
        key: "mine",
        name: "Assigned to me",
        query: "assignee:me status:unsolved",
        sort: CaseSort::ATTENTION,
        for_everyone: false,
    },
    BuiltInView {
        key: "active",
        name: "Unsolved",
        query: "status:unsolved",
        sort: CaseSort::ATTENTION,
        for_everyone: true,
    },
    BuiltInView {
        key: "unassigned",
        name: "Unassigned",
        query: "assignee:none status:unsolved",
        sort: CaseSort::ATTENTION,
        for_everyone: false,
    },
    BuiltInView {
        key: "at-risk",
        name: "Breached or about to",
        query: "sla:warning sla:breached status:unsolved",
        sort: CaseSort::ATTENTION,
        for_everyone: false,
    },
    BuiltInView {
        key: "solved",
        name: "Solved",
        query: "status:solved status:closed",
        sort: CaseSort::NEWEST_UPDATE,
        for_everyone: true,
    },
    BuiltInView {
        key: "all",
        name: "All",
        query: "",
        sort: CaseSort::NEWEST_UPDATE,
        for_everyone: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> Result<CaseListQuery, ParseError> {
        CaseListQuery::from_query(&SearchQuery::parse(text).unwrap())
    }

    #[test]
    fn sorts_parse_and_toggle() {
        assert_eq!(
            CaseSort::parse("-updated").unwrap(),
            CaseSort::NEWEST_UPDATE
        );
        assert_eq!(CaseSort::parse("-attention").unwrap(), CaseSort::ATTENTION);
        assert!(CaseSort::parse("colour").is_err());
        let by_due = CaseSort::ATTENTION.toggled(SortKey::Due);
        assert_eq!(by_due.to_string(), "due");
        assert_eq!(by_due.toggled(SortKey::Due).to_string(), "-due");
        assert_eq!(by_due.toggled(SortKey::Updated).to_string(), "-updated");
        assert_eq!(
            CaseSort::parse(&CaseSort::NEWEST_UPDATE.to_string()).unwrap(),
            CaseSort::NEWEST_UPDATE
        );
    }

    #[test]
    fn list_queries_read_each_filter() {
        let q =
            list("backup status:unsolved assignee:me tier:L2 sla:breached partner:acme").unwrap();
        assert_eq!(q.words, ["backup"]);
        assert_eq!(
            q.statuses,
            [
                CaseStatus::New,
                CaseStatus::Open,
                CaseStatus::Pending,
                CaseStatus::OnHold
            ]
        );
        assert!(q.only_unsolved());
        assert_eq!(q.assignee, Some(AssigneeFilter::Me));
        assert_eq!(q.tiers, [Tier::L2]);
        assert_eq!(q.sla, [SlaState::Breached]);
        assert_eq!(q.partners, ["acme"]);
        assert!(!list("status:solved").unwrap().only_unsolved());
        assert!(!list("").unwrap().only_unsolved());
    }

    #[test]
    fn list_queries_refuse_what_they_cannot_honour() {
        assert!(list("type:article").unwrap_err().0.contains("articles"));
        assert!(list("assignee:me assignee:none").is_err());
        assert!(SearchQuery::parse("tier:7").is_err());
    }

    #[test]
    fn built_in_views_are_valid_queries() {
        for view in BUILT_IN_VIEWS {
            let query = SearchQuery::parse(view.query).unwrap();
            CaseListQuery::from_query(&query).unwrap();
        }
    }
}
