//! Knowledge articles in the KCS shape, who may read them, and how a solved case is classified
//! against them.

use crate::{string_enum, ArticleId, CaseId, Role};

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
