//! The community's rules: who reads which space, which posts each reader sees, when a post is
//! held for review, how fast one account may post, the badges beside posts, how a duplicate
//! question merges, and the article or case a question turns into. Pure functions; the server
//! applies them.
//!
//! **Held for review.** A post by a customer or partner technician is held (visible to its
//! author and staff only, until staff approve it) when either
//! - the account is younger than [`NEW_ACCOUNT_AGE`] (seven days) and none of its earlier
//!   posts has been approved yet: a new account's first post waits, later ones do not once
//!   one has been approved; or
//! - posts of the account marked as spam are at least as many as its approved posts: spam
//!   counts against the author, and an account whose record is mostly spam is reviewed again.
//!
//! Vendor staff are never held.

use crate::case::MAX_SUBJECT_CHARS;
use crate::{
    string_enum, ArticleContent, FieldErrors, ParseError, PartnerKinds, Role, Span, Timestamp,
};

string_enum!(
    /// Who reads a space: everyone (`public`), anyone signed in (`signed_in`), or partner
    /// technicians (all, or those the space's filter admits) and staff (`partners`).
    SpaceVisibility { Public => "public", SignedIn => "signed_in", Partners => "partners" }
);

string_enum!(
    /// What a post is: a question opens a thread; answers and comments belong to one.
    PostKind { Question => "question", Answer => "answer", Comment => "comment" }
);

string_enum!(
    /// Where a post stands: `held` waits for review; `hidden` and `spam` are taken down by staff.
    PostState { Held => "held", Published => "published", Hidden => "hidden", Spam => "spam" }
);

string_enum!(
    /// What staff do to a post: publish a held one, take it down, mark it as spam (taken down
    /// and counted against its author), or put a taken-down post back.
    Moderation { Approve => "approve", Hide => "hide", Spam => "spam", Restore => "restore" }
);

impl Moderation {
    /// The state a post takes.
    pub fn target(self) -> PostState {
        match self {
            Moderation::Approve | Moderation::Restore => PostState::Published,
            Moderation::Hide => PostState::Hidden,
            Moderation::Spam => PostState::Spam,
        }
    }
}

/// Who a space admits: its visibility and, for a partner space, the partner kinds it is for
/// (none listed: every kind) and whether only certified partners are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceAccess {
    pub visibility: SpaceVisibility,
    pub partner_kinds: PartnerKinds,
    pub certified_only: bool,
}

/// The person reading, as the community's rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    Anonymous,
    Staff,
    Customer,
    /// A partner technician: its partner's kinds and whether the partner is certified now.
    Partner {
        kinds: PartnerKinds,
        certified: bool,
    },
}

impl SpaceAccess {
    /// Whether this reader may read the space at all. Anything else answers 404, like a
    /// space that does not exist, so a partner space's existence does not leak.
    pub fn admits(&self, reader: &Reader) -> bool {
        match (self.visibility, reader) {
            (SpaceVisibility::Public, _) => true,
            (_, Reader::Staff) => true,
            (SpaceVisibility::SignedIn, Reader::Anonymous) => false,
            (SpaceVisibility::SignedIn, _) => true,
            (SpaceVisibility::Partners, Reader::Partner { kinds, certified }) => {
                let kind_fits = self.partner_kinds.as_slice().is_empty()
                    || kinds
                        .as_slice()
                        .iter()
                        .any(|k| self.partner_kinds.as_slice().contains(k));
                kind_fits && (*certified || !self.certified_only)
            }
            (SpaceVisibility::Partners, _) => false,
        }
    }
}

/// Whether a reader of the space sees a post in this state: published posts everyone who
/// reads the space; held posts their author and staff; taken-down posts staff only.
pub fn post_visible(state: PostState, is_author: bool, is_staff: bool) -> bool {
    match state {
        PostState::Published => true,
        PostState::Held => is_author || is_staff,
        PostState::Hidden | PostState::Spam => is_staff,
    }
}

/// Whether a question can be found by search and likely answers (it is in the search index):
/// published and not merged into another. Held questions wait for review, hidden and spam ones
/// are taken down (their moderators read them on their pages), and a merged one lives on in
/// the question it was merged into. Only published answers lend a question their words.
pub fn findable(state: PostState, merged: bool) -> bool {
    state == PostState::Published && !merged
}

/// An account younger than this has its posts held until one is approved.
pub const NEW_ACCOUNT_AGE: Span = Span::from_millis(7 * 86_400_000);

/// What the held rule looks at about an author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorFacts {
    pub role: Role,
    pub account_created: Timestamp,
    /// Earlier posts that are (or were approved and are now) published.
    pub approved_posts: i64,
    /// Earlier posts staff marked as spam.
    pub spam_posts: i64,
}

/// Why a post waits for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    NewAccount,
    SpamRecord,
}

impl HoldReason {
    /// Said to the author.
    pub fn explain(self) -> &'static str {
        match self {
            HoldReason::NewAccount => {
                "Posts from new accounts are checked by our team before others see them."
            }
            HoldReason::SpamRecord => {
                "Earlier posts of this account were marked as spam, so our team checks new ones first."
            }
        }
    }
}

/// Whether a new post by this author is held for review (see the module's rule).
pub fn hold_for_review(author: AuthorFacts, now: Timestamp) -> Option<HoldReason> {
    if author.role.is_staff() {
        return None;
    }
    if author.spam_posts > 0 && author.spam_posts >= author.approved_posts {
        return Some(HoldReason::SpamRecord);
    }
    let young = now.since(author.account_created).as_millis() < NEW_ACCOUNT_AGE.as_millis();
    if young && author.approved_posts == 0 {
        return Some(HoldReason::NewAccount);
    }
    None
}

/// Posts (questions, answers and comments together) one account may make per [`POST_WINDOW`].
pub const POSTS_PER_WINDOW: usize = 10;
pub const POST_WINDOW: Span = Span::HOUR;

/// When this author may post again, given the moments of its earlier posts (any order), or
/// `None` when it may post now. Staff are not limited. The wait ends when the oldest post
/// that fills the window leaves it.
pub fn next_post_allowed(role: Role, earlier: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
    if role.is_staff() {
        return None;
    }
    let start = now.minus(POST_WINDOW);
    let mut recent: Vec<Timestamp> = earlier.iter().copied().filter(|t| *t > start).collect();
    if recent.len() < POSTS_PER_WINDOW {
        return None;
    }
    recent.sort();
    // The post that must leave the window before one more fits.
    let leaving = recent[recent.len() - POSTS_PER_WINDOW];
    Some(leaving.plus(POST_WINDOW))
}

/// The mark beside a post's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    /// Vendor staff.
    Staff,
    /// A partner technician holding a certificate that has not expired.
    CertifiedTechnician,
    /// A partner technician without a valid certificate.
    Partner,
}

impl Badge {
    pub fn as_str(self) -> &'static str {
        match self {
            Badge::Staff => "staff",
            Badge::CertifiedTechnician => "certified_technician",
            Badge::Partner => "partner",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Badge::Staff => "Staff",
            Badge::CertifiedTechnician => "Certified technician",
            Badge::Partner => "Partner",
        }
    }
}

pub fn badge(role: Role, holds_valid_certificate: bool) -> Option<Badge> {
    match role {
        Role::Admin | Role::Agent => Some(Badge::Staff),
        Role::Partner if holds_valid_certificate => Some(Badge::CertifiedTechnician),
        Role::Partner => Some(Badge::Partner),
        Role::Customer => None,
    }
}

/// A vote as sent: up (1), down (-1), or withdrawn (0).
pub fn parse_vote(value: i64) -> Result<i64, ParseError> {
    match value {
        -1..=1 => Ok(value),
        _ => Err(ParseError(
            "a vote is 1 (up), -1 (down) or 0 (take it back)".into(),
        )),
    }
}

pub const MIN_TITLE_CHARS: usize = 8;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// A question's title and text, trimmed and checked, every problem at once.
pub fn check_question(title: &str, body: &str) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = title.trim();
    let chars = title.chars().count();
    if chars < MIN_TITLE_CHARS {
        errors.add(
            "title",
            format!(
                "write a title of at least {MIN_TITLE_CHARS} characters: the question in one line"
            ),
        );
    } else if chars > MAX_TITLE_CHARS {
        errors.add(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        );
    }
    let body = check_text(&mut errors, "body", body, MAX_BODY_CHARS, false);
    errors.into_result()?;
    Ok((title.to_string(), body))
}

/// An answer's or comment's text (required), trimmed and checked.
pub fn check_reply(body: &str, max: usize) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let body = check_text(&mut errors, "body", body, max, true);
    errors.into_result()?;
    Ok(body)
}

fn check_text(
    errors: &mut FieldErrors,
    field: &str,
    text: &str,
    max: usize,
    required: bool,
) -> String {
    let text = text.trim();
    if required && text.is_empty() {
        errors.add(field, "write something");
    } else if text.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    text.to_string()
}

/// Why two questions cannot merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("a question cannot be merged into itself")]
    Same,
    #[error("this question was already merged into another")]
    AlreadyMerged,
    #[error("the question to merge into was itself merged; merge into that one instead")]
    TargetMerged,
    #[error("questions merge only within one space (answers would change who reads them)")]
    OtherSpace,
}

/// What the merge rule looks at about each question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeFacts {
    pub id: i64,
    pub space_id: i64,
    pub merged: bool,
}

/// Whether `duplicate` may merge into `target`: two different questions of one space, neither
/// merged already.
pub fn check_merge(duplicate: MergeFacts, target: MergeFacts) -> Result<(), MergeRefusal> {
    if duplicate.id == target.id {
        return Err(MergeRefusal::Same);
    }
    if duplicate.merged {
        return Err(MergeRefusal::AlreadyMerged);
    }
    if target.merged {
        return Err(MergeRefusal::TargetMerged);
    }
    if duplicate.space_id != target.space_id {
        return Err(MergeRefusal::OtherSpace);
    }
    Ok(())
}

/// The draft article an answer becomes: the question as the issue (in the asker's words, as
/// KCS wants), the answer as the resolution, with its author credited and the question linked.
pub fn article_from_answer(
    question_title: &str,
    question_body: &str,
    answer_body: &str,
    answer_author: &str,
    question_url: &str,
) -> ArticleContent {
    let issue = if question_body.trim().is_empty() {
        question_title.trim().to_string()
    } else {
        question_body.trim().to_string()
    };
    ArticleContent {
        title: question_title.trim().to_string(),
        issue,
        environment: String::new(),
        resolution: format!(
            "{}\n\nAnswered by {} in the community: {}",
            answer_body.trim(),
            answer_author.trim(),
            question_url
        ),
        cause: String::new(),
        products: Vec::new(),
        versions: Vec::new(),
    }
}

/// The subject and description of the case a question becomes: its title (cut to a case
/// subject's length) and its text, with the question's address so the case leads back to it.
pub fn case_from_question(title: &str, body: &str, question_url: &str) -> (String, String) {
    let subject: String = title.trim().chars().take(MAX_SUBJECT_CHARS).collect();
    let text = if body.trim().is_empty() {
        title.trim()
    } else {
        body.trim()
    };
    (
        subject,
        format!("{text}\n\nFrom the community question: {question_url}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PartnerKind;

    fn space(
        visibility: SpaceVisibility,
        kinds: Vec<PartnerKind>,
        certified_only: bool,
    ) -> SpaceAccess {
        SpaceAccess {
            visibility,
            partner_kinds: PartnerKinds::new(kinds),
            certified_only,
        }
    }

    fn partner(kinds: Vec<PartnerKind>, certified: bool) -> Reader {
        Reader::Partner {
            kinds: PartnerKinds::new(kinds),
            certified,
        }
    }

    #[test]
    fn public_spaces_admit_everyone_signed_in_spaces_only_the_signed_in() {
        let public = space(SpaceVisibility::Public, vec![], false);
        let signed_in = space(SpaceVisibility::SignedIn, vec![], false);
        for reader in [
            Reader::Anonymous,
            Reader::Customer,
            Reader::Staff,
            partner(vec![], false),
        ] {
            assert!(public.admits(&reader));
            assert_eq!(signed_in.admits(&reader), reader != Reader::Anonymous);
        }
    }

    #[test]
    fn partner_spaces_admit_staff_and_the_partners_they_list() {
        let all = space(SpaceVisibility::Partners, vec![], false);
        assert!(all.admits(&Reader::Staff));
        assert!(all.admits(&partner(vec![PartnerKind::Implementer], false)));
        assert!(!all.admits(&Reader::Customer));
        assert!(!all.admits(&Reader::Anonymous));

        let resellers = space(
            SpaceVisibility::Partners,
            vec![PartnerKind::Reseller],
            false,
        );
        assert!(resellers.admits(&partner(
            vec![PartnerKind::Reseller, PartnerKind::Frontline],
            false
        )));
        assert!(!resellers.admits(&partner(vec![PartnerKind::Implementer], true)));
        assert!(resellers.admits(&Reader::Staff));

        let certified = space(SpaceVisibility::Partners, vec![], true);
        assert!(certified.admits(&partner(vec![PartnerKind::Implementer], true)));
        assert!(!certified.admits(&partner(vec![PartnerKind::Implementer], false)));
    }

    #[test]
    fn held_posts_show_to_author_and_staff_taken_down_ones_to_staff() {
        assert!(post_visible(PostState::Published, false, false));
        assert!(post_visible(PostState::Held, true, false));
        assert!(post_visible(PostState::Held, false, true));
        assert!(!post_visible(PostState::Held, false, false));
        assert!(!post_visible(PostState::Spam, true, false));
        assert!(post_visible(PostState::Hidden, false, true));
    }

    #[test]
    fn only_published_unmerged_questions_can_be_found() {
        assert!(findable(PostState::Published, false));
        assert!(!findable(PostState::Published, true));
        for state in [PostState::Held, PostState::Hidden, PostState::Spam] {
            assert!(!findable(state, false), "{state}");
        }
    }

    #[test]
    fn a_new_accounts_first_post_is_held_until_one_is_approved() {
        let created = Timestamp::from_millis(1_000_000_000_000);
        let facts = |role, approved, spam| AuthorFacts {
            role,
            account_created: created,
            approved_posts: approved,
            spam_posts: spam,
        };
        let day = Span::DAY;
        // Two days old, nothing approved yet: held.
        assert_eq!(
            hold_for_review(facts(Role::Customer, 0, 0), created.plus(day.times(2))),
            Some(HoldReason::NewAccount)
        );
        // Same account, one approved post: no longer held.
        assert_eq!(
            hold_for_review(facts(Role::Customer, 1, 0), created.plus(day.times(2))),
            None
        );
        // Six days 23 hours old: still new; exactly seven days: not.
        assert_eq!(
            hold_for_review(
                facts(Role::Partner, 0, 0),
                created.plus(NEW_ACCOUNT_AGE).minus(Span::HOUR)
            ),
            Some(HoldReason::NewAccount)
        );
        assert_eq!(
            hold_for_review(facts(Role::Partner, 0, 0), created.plus(NEW_ACCOUNT_AGE)),
            None
        );
        // Staff never wait.
        assert_eq!(hold_for_review(facts(Role::Agent, 0, 0), created), None);
    }

    #[test]
    fn spam_counts_against_the_author() {
        let created = Timestamp::from_millis(1_000_000_000_000);
        let old = created.plus(Span::DAY.times(30));
        let facts = |approved, spam| AuthorFacts {
            role: Role::Customer,
            account_created: created,
            approved_posts: approved,
            spam_posts: spam,
        };
        assert_eq!(hold_for_review(facts(3, 0), old), None);
        assert_eq!(hold_for_review(facts(3, 2), old), None);
        assert_eq!(
            hold_for_review(facts(3, 3), old),
            Some(HoldReason::SpamRecord)
        );
        assert_eq!(
            hold_for_review(facts(0, 1), old),
            Some(HoldReason::SpamRecord)
        );
    }

    #[test]
    fn ten_posts_an_hour_then_wait_for_the_oldest_to_leave_the_window() {
        let now = Timestamp::from_millis(10_000_000);
        let minutes = |m: i64| now.minus(Span::MINUTE.times(m));
        // Nine posts in the last hour: one more is fine.
        let nine: Vec<Timestamp> = (1..=9).map(minutes).collect();
        assert_eq!(next_post_allowed(Role::Customer, &nine, now), None);
        // Ten, the oldest 50 minutes ago: wait 10 minutes.
        let ten: Vec<Timestamp> = (1..=9).map(minutes).chain([minutes(50)]).collect();
        assert_eq!(
            next_post_allowed(Role::Customer, &ten, now),
            Some(minutes(50).plus(Span::HOUR))
        );
        assert_eq!(
            minutes(50).plus(Span::HOUR),
            now.plus(Span::MINUTE.times(10))
        );
        // Posts older than the window do not count.
        let old: Vec<Timestamp> = (61..=80).map(minutes).collect();
        assert_eq!(next_post_allowed(Role::Customer, &old, now), None);
        // Staff are not limited.
        assert_eq!(next_post_allowed(Role::Admin, &ten, now), None);
    }

    #[test]
    fn badges_mark_staff_and_certified_technicians() {
        assert_eq!(badge(Role::Agent, false), Some(Badge::Staff));
        assert_eq!(badge(Role::Admin, false), Some(Badge::Staff));
        assert_eq!(badge(Role::Partner, true), Some(Badge::CertifiedTechnician));
        assert_eq!(badge(Role::Partner, false), Some(Badge::Partner));
        assert_eq!(badge(Role::Customer, true), None);
    }

    #[test]
    fn votes_are_up_down_or_withdrawn() {
        assert_eq!(parse_vote(1), Ok(1));
        assert_eq!(parse_vote(-1), Ok(-1));
        assert_eq!(parse_vote(0), Ok(0));
        assert!(parse_vote(2).is_err());
        assert!(parse_vote(-5).is_err());
    }

    #[test]
    fn questions_need_a_title_and_replies_need_text() {
        let errors = check_question("  short ", "").unwrap_err();
        assert!(errors.0.contains_key("title"));
        assert_eq!(
            check_question(" Backup stops at 99% ", " It hangs. "),
            Ok(("Backup stops at 99%".to_string(), "It hangs.".to_string()))
        );
        assert!(check_reply("   ", MAX_COMMENT_CHARS)
            .unwrap_err()
            .0
            .contains_key("body"));
        assert!(check_reply(&"x".repeat(MAX_COMMENT_CHARS + 1), MAX_COMMENT_CHARS).is_err());
    }

    #[test]
    fn duplicates_merge_within_one_space_once() {
        let q = |id, space_id, merged| MergeFacts {
            id,
            space_id,
            merged,
        };
        assert_eq!(check_merge(q(1, 1, false), q(2, 1, false)), Ok(()));
        assert_eq!(
            check_merge(q(1, 1, false), q(1, 1, false)),
            Err(MergeRefusal::Same)
        );
        assert_eq!(
            check_merge(q(1, 1, true), q(2, 1, false)),
            Err(MergeRefusal::AlreadyMerged)
        );
        assert_eq!(
            check_merge(q(1, 1, false), q(2, 1, true)),
            Err(MergeRefusal::TargetMerged)
        );
        assert_eq!(
            check_merge(q(1, 1, false), q(2, 2, false)),
            Err(MergeRefusal::OtherSpace)
        );
    }

    #[test]
    fn an_answer_becomes_an_article_crediting_its_author() {
        let a = article_from_answer(
            " Restore is slow ",
            "Restores take hours since 4.2.",
            " Turn off verify-on-restore. ",
            "Rita",
            "https://support.example/community/questions/7",
        );
        assert_eq!(a.title, "Restore is slow");
        assert_eq!(a.issue, "Restores take hours since 4.2.");
        assert_eq!(
            a.resolution,
            "Turn off verify-on-restore.\n\nAnswered by Rita in the community: \
             https://support.example/community/questions/7"
        );
        // No text: the title is the issue.
        assert_eq!(
            article_from_answer("Title here", " ", "x", "R", "u").issue,
            "Title here"
        );
    }

    #[test]
    fn a_question_becomes_a_case_that_links_back() {
        let (subject, description) = case_from_question(
            "Restore is slow",
            "It takes hours.",
            "/community/questions/3",
        );
        assert_eq!(subject, "Restore is slow");
        assert_eq!(
            description,
            "It takes hours.\n\nFrom the community question: /community/questions/3"
        );
        let long = "x".repeat(MAX_SUBJECT_CHARS + 10);
        assert_eq!(
            case_from_question(&long, "", "u").0.chars().count(),
            MAX_SUBJECT_CHARS
        );
    }
}
