//! Conversations by email: the rules of mail intake and of the headers on mail we send, as
//! pure functions over bytes and facts, so the SMTP listener, the IMAP poller and
//! `backline mail deliver` share one pipeline and it can be tested on arbitrary input.
//!
//! The pipeline, in the order the callers run it (the raw bytes are stored before step 1):
//!
//! 1. [`InboundMessage::parse`] turns bytes into a message or a [`MailParseError`]
//!    (quarantine with that reason).
//! 2. [`classify`] says whether it is a person writing, an auto-reply, a bounce or our own
//!    mail coming back ([`MessageKind`]). Only a person's mail goes on.
//! 3. [`check_rate`] stops one sender's storm; [`resolve_sender`] says who is writing
//!    ([`SenderDecision`]).
//! 4. [`find_case_token`] and [`decide_thread`] say which case the mail answers, if any
//!    ([`ThreadDecision`]); [`place_message`] combines everything into a [`Placement`]:
//!    a comment, a new case, noise, or quarantine with a reason.
//! 5. [`strip_quoted_reply`] cuts quoted history and signatures from a comment's text.
//!
//! Going out, [`outgoing_headers`] gives every message its Message-ID, References, Reply-To
//! with the signed token, the `[#N-token]` subject and the loop-prevention headers.

mod inbound;
mod message_id;
mod noise;
mod notify;
mod outgoing;
mod quoting;
mod records;
mod sender;
mod threading;
mod token;

pub use inbound::{
    safe_file_name, Attachment, DsnAction, DsnRecipient, HeaderField, InboundMessage, MailLimits,
    MailParseError, Mailbox, Report, MAX_REFERENCES,
};
pub use message_id::{MailDomain, MessageId};
pub use noise::{classify, AutoReason, Bounce, BounceReason, MessageKind, OwnIdentity, OwnReason};
pub use notify::{
    find_mentions, notices, CaseAudience, CaseHappening, Notice, NotificationKind, Person,
};
pub use outgoing::{
    outgoing_headers, OutgoingHeaders, OutgoingKind, OutgoingMail, UnsubscribeLink,
    MAX_OUTGOING_REFERENCES,
};
pub use quoting::{strip_quoted_reply, Cut, ReplyText};
pub use records::{InboundState, MailSource};
pub use sender::{
    check_rate, resolve_sender, CreateReason, FilesFor, HoldReason, RateDecision, RateLimit,
    SenderDecision, SenderFacts, UnknownSenderPolicy,
};
pub use threading::{
    decide_thread, place_message, CaseFacts, JoinedBy, Placement, QuarantineReason, ThreadDecision,
};
pub use token::{
    find_case_token, sign_case_token, sign_rating_token, verify_case_token, verify_rating_token,
    CaseToken, CaseTokenSecret, SIGNATURE_CHARS,
};

#[cfg(test)]
mod pipeline_tests;
