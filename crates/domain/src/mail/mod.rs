//! Conversations by email: the rules of mail intake and of the headers on mail we send, as
//! pure functions over bytes and facts, so the SMTP listener, the IMAP poller and
//! `backline mail deliver` share one pipeline and it can be tested on arbitrary input.

mod inbound;
mod message_id;
mod noise;
mod outgoing;
mod quoting;
mod sender;
mod threading;
mod token;

pub use inbound::{
    Attachment, DsnAction, DsnRecipient, HeaderField, InboundMessage, MailLimits, MailParseError,
    Mailbox, Report, MAX_REFERENCES,
};
pub use message_id::{MailDomain, MessageId};
pub use noise::{classify, AutoReason, Bounce, BounceReason, MessageKind, OwnIdentity, OwnReason};
pub use outgoing::{
    outgoing_headers, OutgoingHeaders, OutgoingKind, OutgoingMail, UnsubscribeLink,
    MAX_OUTGOING_REFERENCES,
};
pub use quoting::{strip_quoted_reply, Cut, ReplyText};
pub use sender::{
    check_rate, resolve_sender, CreateReason, FilesFor, HoldReason, RateDecision, RateLimit,
    SenderDecision, SenderFacts, UnknownSenderPolicy,
};
pub use threading::{
    decide_thread, place_message, CaseFacts, JoinedBy, Placement, QuarantineReason, ThreadDecision,
};
pub use token::{
    find_case_token, sign_case_token, verify_case_token, CaseToken, CaseTokenSecret,
    SIGNATURE_CHARS,
};
