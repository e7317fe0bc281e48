//! Knowledge articles in the KCS shape, who may read them, and how a solved case is classified
//! against them.

use crate::{string_enum, ArticleId, CaseId, FieldErrors, Role};

string_enum!(
    /// KCS lifecycle. Not linear: a validated article can go back to not validated.
    ArticleState { Draft => "draft", NotValidated => "not_validated", Validated => "validated", Archived => "archived" }
);

string_enum!(
    /// Who an article is written for. Articles widen their audience as they prove useful.
    Audience { Internal => "internal", Partners => "partners", Public => "public" }
);

string_enum!(
    /// What a solved case says about knowledge: was the answer already known?
    Classification {
        Known => "known", New => "new", InvalidEscalation => "invalid_escalation", Unknown => "unknown"
    }
);

/// Whether someone of `role` may read an article in `state` written for `audience`.
///
/// Vendor staff read everything, drafts included. Outside the vendor only validated articles
/// are shown: partners those for partners or the public, customers the public ones.
pub fn can_read_article(role: Role, state: ArticleState, audience: Audience) -> bool {
    match role {
        Role::Admin | Role::Agent => true,
        Role::Partner => state == ArticleState::Validated && audience != Audience::Internal,
        Role::Customer => state == ArticleState::Validated && audience == Audience::Public,
    }
}

/// The audiences a role may read (with state validated, outside the vendor).
pub fn readable_audiences(role: Role) -> &'static [Audience] {
    match role {
        Role::Admin | Role::Agent => &[Audience::Internal, Audience::Partners, Audience::Public],
        Role::Partner => &[Audience::Partners, Audience::Public],
        Role::Customer => &[Audience::Public],
    }
}

/// An article linked to a case, as it stood when the case was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkedArticle {
    pub id: ArticleId,
    /// The article's state and audience in effect when the case was opened; `None` if the
    /// article did not exist yet.
    pub at_case_open: Option<(ArticleState, Audience)>,
    /// The article was written from this very case.
    pub created_from_this_case: bool,
}

/// A solved case linked to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkedCase {
    pub id: CaseId,
    /// It was already solved when this case was opened.
    pub solved_before_open: bool,
}

/// Classifies a solved case from its links.
///
/// - `invalid_escalation`: filed by a partner and linked to an article the partner could
///   already read when it filed (validated, for partners or the public);
/// - `known`: linked to an article validated before the case was opened, or to a case solved
///   before it was opened;
/// - `new`: an article was written from this case;
/// - `unknown`: none of these (no link, or only links to later knowledge).
pub fn classify(
    filed_by_partner: bool,
    articles: &[LinkedArticle],
    cases: &[LinkedCase],
) -> Classification {
    let partner_could_see = |a: &LinkedArticle| {
        matches!(
            a.at_case_open,
            Some((
                ArticleState::Validated,
                Audience::Partners | Audience::Public
            ))
        )
    };
    if filed_by_partner && articles.iter().any(partner_could_see) {
        return Classification::InvalidEscalation;
    }
    let known_article = articles
        .iter()
        .any(|a| matches!(a.at_case_open, Some((ArticleState::Validated, _))));
    if known_article || cases.iter().any(|c| c.solved_before_open) {
        return Classification::Known;
    }
    if articles.iter().any(|a| a.created_from_this_case) {
        return Classification::New;
    }
    Classification::Unknown
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_SECTION_CHARS: usize = 50_000;
pub const MAX_LIST_ITEMS: usize = 20;
pub const MAX_LIST_ITEM_CHARS: usize = 60;

/// The text of an article in the KCS shape, checked. The four sections are the customer's
/// words for the problem, where it happens, what fixes it and (if known) why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArticleContent {
    pub title: String,
    pub issue: String,
    pub environment: String,
    pub resolution: String,
    pub cause: String,
    pub products: Vec<String>,
    pub versions: Vec<String>,
}

impl ArticleContent {
    /// Trims every field and checks lengths, collecting every problem at once. Lists are
    /// de-duplicated and keep their order; products are lower-cased like case products.
    pub fn parse(raw: ArticleContent) -> Result<ArticleContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = raw.title.trim().to_string();
        if title.is_empty() {
            errors.add(
                "title",
                "write a title: the problem in the words people search with",
            );
        } else if title.chars().count() > MAX_TITLE_CHARS {
            errors.add(
                "title",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            );
        }
        let mut section = |name: &str, text: &str| {
            let text = text.trim().to_string();
            if text.chars().count() > MAX_SECTION_CHARS {
                errors.add(
                    name,
                    format!("must be at most {MAX_SECTION_CHARS} characters"),
                );
            }
            text
        };
        let issue = section("issue", &raw.issue);
        let environment = section("environment", &raw.environment);
        let resolution = section("resolution", &raw.resolution);
        let cause = section("cause", &raw.cause);
        let products = clean_list(&mut errors, "products", &raw.products, true);
        let versions = clean_list(&mut errors, "versions", &raw.versions, false);
        errors.into_result()?;
        Ok(ArticleContent {
            title,
            issue,
            environment,
            resolution,
            cause,
            products,
            versions,
        })
    }

    /// What someone searching would read: every section, in order.
    pub fn body(&self) -> String {
        [
            &self.issue,
            &self.environment,
            &self.resolution,
            &self.cause,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
    }

    /// Names of the fields that differ from `other`, for the revision history.
    pub fn changed_fields(&self, other: &ArticleContent) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let pairs: [(&'static str, bool); 7] = [
            ("title", self.title != other.title),
            ("issue", self.issue != other.issue),
            ("environment", self.environment != other.environment),
            ("resolution", self.resolution != other.resolution),
            ("cause", self.cause != other.cause),
            ("products", self.products != other.products),
            ("versions", self.versions != other.versions),
        ];
        for (name, differs) in pairs {
            if differs {
                changed.push(name);
            }
        }
        changed
    }
}

/// A validated article must say what fixes the problem: KCS publishes resolutions, not
/// questions. Drafts may be incomplete.
pub fn check_article_state(
    state: ArticleState,
    content: &ArticleContent,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if matches!(state, ArticleState::NotValidated | ArticleState::Validated) {
        if content.issue.is_empty() {
            errors.add("issue", format!("is required once an article is {state}"));
        }
        if content.resolution.is_empty() {
            errors.add(
                "resolution",
                format!("is required once an article is {state}"),
            );
        }
    }
    errors.into_result()
}

fn clean_list(errors: &mut FieldErrors, field: &str, items: &[String], lower: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let item = item.trim();
        let item = if lower {
            item.to_lowercase()
        } else {
            item.to_string()
        };
        if item.is_empty() || out.contains(&item) {
            continue;
        }
        if item.chars().count() > MAX_LIST_ITEM_CHARS {
            errors.add(
                field,
                format!("each entry must be at most {MAX_LIST_ITEM_CHARS} characters"),
            );
        }
        out.push(item);
    }
    if out.len() > MAX_LIST_ITEMS {
        errors.add(field, format!("at most {MAX_LIST_ITEMS} entries"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ArticleState::*;
    use Audience::*;

    fn article(at_open: Option<(ArticleState, Audience)>, from_case: bool) -> LinkedArticle {
        LinkedArticle {
            id: ArticleId(1),
            at_case_open: at_open,
            created_from_this_case: from_case,
        }
    }

    #[test]
    fn audiences_and_states_decide_who_reads() {
        assert!(can_read_article(Role::Agent, Draft, Internal));
        assert!(can_read_article(Role::Partner, Validated, Partners));
        assert!(!can_read_article(Role::Partner, Validated, Internal));
        assert!(!can_read_article(Role::Partner, NotValidated, Public));
        assert!(can_read_article(Role::Customer, Validated, Public));
        assert!(!can_read_article(Role::Customer, Validated, Partners));
        assert!(!can_read_article(Role::Customer, Archived, Public));
        for role in Role::ALL {
            for audience in readable_audiences(*role) {
                assert!(can_read_article(*role, Validated, *audience));
            }
        }
    }

    #[test]
    fn partner_escalation_answered_by_a_visible_article_is_invalid() {
        let visible = article(Some((Validated, Partners)), false);
        assert_eq!(
            classify(true, &[visible], &[]),
            Classification::InvalidEscalation
        );
        // The same link on a customer's own case is merely known.
        assert_eq!(classify(false, &[visible], &[]), Classification::Known);
    }

    #[test]
    fn internal_or_unvalidated_knowledge_makes_a_partner_case_known_or_not() {
        // Internal article: the partner could not see it, the vendor knew it.
        assert_eq!(
            classify(true, &[article(Some((Validated, Internal)), false)], &[]),
            Classification::Known
        );
        // Not yet validated when the case was opened: not known.
        assert_eq!(
            classify(true, &[article(Some((NotValidated, Public)), false)], &[]),
            Classification::Unknown
        );
        // Written after the case was opened, from another case.
        assert_eq!(
            classify(true, &[article(None, false)], &[]),
            Classification::Unknown
        );
    }

    #[test]
    fn article_content_is_trimmed_checked_and_diffed() {
        let raw = ArticleContent {
            title: "  Backup fails with E42 ".into(),
            issue: " Nightly backup stops ".into(),
            products: vec!["Backup".into(), "backup ".into(), "".into()],
            versions: vec!["2.1".into(), "2.1".into()],
            ..Default::default()
        };
        let clean = ArticleContent::parse(raw).unwrap();
        assert_eq!(clean.title, "Backup fails with E42");
        assert_eq!(clean.products, vec!["backup"]);
        assert_eq!(clean.versions, vec!["2.1"]);
        let errors = ArticleContent::parse(ArticleContent::default()).unwrap_err();
        assert!(errors.0.contains_key("title"));
        // A draft may lack a resolution; a validated article may not.
        assert!(check_article_state(Draft, &clean).is_ok());
        let errors = check_article_state(Validated, &clean).unwrap_err();
        assert_eq!(errors.0.keys().collect::<Vec<_>>(), vec!["resolution"]);
        let mut edited = clean.clone();
        edited.resolution = "Raise the limit".into();
        assert_eq!(edited.changed_fields(&clean), vec!["resolution"]);
        assert_eq!(edited.body(), "Nightly backup stops\n\nRaise the limit");
    }

    #[test]
    fn written_from_this_case_is_new_and_solved_cases_count_as_known() {
        assert_eq!(
            classify(false, &[article(None, true)], &[]),
            Classification::New
        );
        let earlier = LinkedCase {
            id: CaseId(3),
            solved_before_open: true,
        };
        let later = LinkedCase {
            id: CaseId(4),
            solved_before_open: false,
        };
        assert_eq!(classify(false, &[], &[earlier]), Classification::Known);
        assert_eq!(classify(false, &[], &[later]), Classification::Unknown);
        assert_eq!(classify(false, &[], &[]), Classification::Unknown);
    }
}
