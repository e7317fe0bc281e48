//! Backline's domain: the types and rules of support operations, with no I/O.
//!
//! Everything here is plain data and plain functions so that the rules (who may see a case,
//! what a valid case looks like, how a partner is flagged) are tested without a database.

pub mod analytics;
pub mod case;
pub mod categories;
pub mod clock;
pub mod community;
pub mod crisis;
pub mod forecast;
pub mod health;
pub mod help;
pub mod ids;
pub mod knowledge;
pub mod macros;
pub mod mail;
pub mod org;
pub mod partner;
pub mod playbooks;
pub mod query;
pub mod rollups;
pub mod routing;
pub mod satisfaction;
pub mod sla;
pub mod social;
pub mod staffing;
pub mod template;
pub mod throttle;
pub mod user;
pub mod validation;
pub mod views;
pub mod visibility;
pub mod webhooks;

pub use case::{CaseStatus, Channel, NewCaseInput, Priority, Tier};
pub use clock::{Span, Timestamp};
pub use ids::{
    ArticleId, CaseId, CommentId, CourseId, IncidentId, OrgId, QueueId, RuleId, ServiceId,
    SignalGroupId, UserId,
};
pub use knowledge::{ArticleContent, ArticleState, Audience, Classification};
pub use mail::{
    check_rate, classify, decide_thread, find_case_token, outgoing_headers, place_message,
    resolve_sender, sign_case_token, strip_quoted_reply, verify_case_token, Attachment, CaseFacts,
    CaseToken, CaseTokenSecret, InboundMessage, MailDomain, MailLimits, MailParseError, Mailbox,
    MessageId, MessageKind, OutgoingHeaders, OutgoingKind, OutgoingMail, OwnIdentity, Placement,
    QuarantineReason, RateDecision, RateLimit, ReplyText, SenderDecision, SenderFacts,
    ThreadDecision, UnknownSenderPolicy,
};
pub use org::{OrgKind, PartnerKind, PartnerKinds, Slug, TechnicalLevel};
pub use user::{Email, Role};
pub use validation::{FieldErrors, ParseError};
pub use visibility::{
    resolve_case_parties, AccessLimits, Actor, CaseParties, CaseScope, OrgFacts, PartiesError,
};
