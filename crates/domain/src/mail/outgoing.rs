//! The headers of mail we send: what threads it in the receiver's mail program, brings the
//! reply back to its case, and keeps machines from answering it.

use super::message_id::MessageId;
use super::token::CaseToken;
use crate::{string_enum, CaseId, Email, ParseError};

string_enum!(
    /// Why we send a message.
    OutgoingKind {
        Acknowledgement => "acknowledgement", Reply => "reply", Solved => "solved",
        AgentNotification => "agent_notification", Subscription => "subscription"
    }
);

impl OutgoingKind {
    /// The `Auto-Submitted` value (RFC 3834). `auto-replied` for the acknowledgement, which a
    /// machine sends in answer to a message; `auto-generated` for notices no one wrote by
    /// hand; none for an agent's reply, which a person wrote. Any value other than `no` tells
    /// a well-behaved auto-responder not to answer, which is what stops loops.
    pub fn auto_submitted(self) -> Option<&'static str> {
        match self {
            OutgoingKind::Acknowledgement => Some("auto-replied"),
            OutgoingKind::Reply => None,
            OutgoingKind::Solved | OutgoingKind::AgentNotification | OutgoingKind::Subscription => {
                Some("auto-generated")
            }
        }
    }
}

/// The most References we send: the thread's root and its newest messages. Enough for every
/// mail program to thread; more only makes the header long.
pub const MAX_OUTGOING_REFERENCES: usize = 20;

/// An unsubscribe address for `List-Unsubscribe` (RFC 2369): an `https:`, `http:` or
/// `mailto:` URL without spaces or angle brackets, which would break the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeLink(String);

impl UnsubscribeLink {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let url = text.trim();
        let lower = url.to_ascii_lowercase();
        let scheme_ok = ["https://", "http://", "mailto:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len());
        if !scheme_ok
            || url.len() > 2_000
            || url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
        {
            return Err(ParseError(format!(
                "{url:?} is not an unsubscribe link (https://..., http://... or mailto:...)"
            )));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One-click unsubscribing (RFC 8058) is defined for HTTPS links only.
    fn one_click(&self) -> bool {
        self.0.to_ascii_lowercase().starts_with("https://")
    }
}

/// What a message's headers are made from.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingMail<'a> {
    pub kind: OutgoingKind,
    /// Ours and stable across retries ([`MessageId::for_outbox`]).
    pub message_id: &'a MessageId,
    /// The Message-IDs of the thread so far, oldest first: the mail that opened the case, our
    /// messages, the replies. The last is the one this message answers.
    pub thread: &'a [MessageId],
    /// The case's token; `None` for mail about no case (a status-page subscription).
    pub token: Option<&'a CaseToken>,
    /// The mailbox replies go to (`support@example.com`); the token becomes its subaddress.
    pub reply_mailbox: &'a Email,
    /// The subject before the case tag.
    pub subject: &'a str,
    /// Required for [`OutgoingKind::Subscription`]; added whenever given.
    pub unsubscribe: Option<&'a UnsubscribeLink>,
}

/// The headers, typed, for the mail builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingHeaders {
    pub message_id: MessageId,
    pub in_reply_to: Option<MessageId>,
    pub references: Vec<MessageId>,
    pub reply_to: Email,
    pub subject: String,
    pub auto_submitted: Option<&'static str>,
    pub list_unsubscribe: Option<String>,
    /// `List-Unsubscribe=One-Click` for an HTTPS unsubscribe link.
    pub list_unsubscribe_post: Option<&'static str>,
    pub kind: OutgoingKind,
    pub case: Option<CaseId>,
}

/// Exchange ignores `Auto-Submitted`; this asks it not to send out-of-office and automatic
/// replies to our mail. Delivery and non-delivery reports are not suppressed: bounces are
/// how we learn an address is dead.
const AUTO_RESPONSE_SUPPRESS: &str = "OOF, AutoReply";

impl OutgoingHeaders {
    /// Every header as (name, value), in a fixed order. The `X-Backline-` ones mark the mail
    /// as ours, so that if it ever comes back in, it is recognised and dropped.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("Message-ID", self.message_id.to_string())];
        if let Some(parent) = &self.in_reply_to {
            out.push(("In-Reply-To", parent.to_string()));
        }
        if !self.references.is_empty() {
            let ids: Vec<String> = self.references.iter().map(ToString::to_string).collect();
            out.push(("References", ids.join(" ")));
        }
        out.push(("Reply-To", self.reply_to.to_string()));
        out.push(("Subject", self.subject.clone()));
        if let Some(value) = self.auto_submitted {
            out.push(("Auto-Submitted", value.to_string()));
        }
        out.push((
            "X-Auto-Response-Suppress",
            AUTO_RESPONSE_SUPPRESS.to_string(),
        ));
        if let Some(link) = &self.list_unsubscribe {
            out.push(("List-Unsubscribe", link.clone()));
        }
        if let Some(post) = self.list_unsubscribe_post {
            out.push(("List-Unsubscribe-Post", post.to_string()));
        }
        out.push(("X-Backline-Kind", self.kind.to_string()));
        if let Some(case) = self.case {
            out.push(("X-Backline-Case", case.to_string()));
        }
        out
    }
}

/// Builds the headers of one outgoing message.
///
/// In-Reply-To names the thread's last message and References the thread (capped at
/// [`MAX_OUTGOING_REFERENCES`], root kept), so every mail program shows one conversation.
/// The subject gets the case tag once, however often the message is re-sent or the subject
/// already carried it. Subscription mail must carry an unsubscribe link.
pub fn outgoing_headers(mail: &OutgoingMail<'_>) -> Result<OutgoingHeaders, ParseError> {
    if mail.kind == OutgoingKind::Subscription && mail.unsubscribe.is_none() {
        return Err(ParseError(
            "subscription mail must carry an unsubscribe link".into(),
        ));
    }
    let mut thread: Vec<MessageId> = Vec::new();
    for id in mail.thread {
        if id != mail.message_id && !thread.contains(id) {
            thread.push(id.clone());
        }
    }
    let references = if thread.len() > MAX_OUTGOING_REFERENCES {
        let newest = &thread[thread.len() - (MAX_OUTGOING_REFERENCES - 1)..];
        std::iter::once(thread[0].clone())
            .chain(newest.iter().cloned())
            .collect()
    } else {
        thread.clone()
    };
    Ok(OutgoingHeaders {
        message_id: mail.message_id.clone(),
        in_reply_to: thread.last().cloned(),
        references,
        reply_to: mail.token.map_or_else(
            || mail.reply_mailbox.clone(),
            |token| token.reply_address(mail.reply_mailbox),
        ),
        subject: tagged_subject(mail.subject, mail.token),
        auto_submitted: mail.kind.auto_submitted(),
        list_unsubscribe: mail.unsubscribe.map(|link| format!("<{}>", link.as_str())),
        list_unsubscribe_post: mail
            .unsubscribe
            .filter(|link| link.one_click())
            .map(|_| "List-Unsubscribe=One-Click"),
        kind: mail.kind,
        case: mail.token.map(CaseToken::case),
    })
}

/// The subject on one line (a line break in a header would end it and start another), with
/// the case tag in front unless it is already there.
fn tagged_subject(subject: &str, token: Option<&CaseToken>) -> String {
    let subject = subject
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match token {
        Some(token) if !subject.contains(&token.subject_tag()) => {
            format!("{} {subject}", token.subject_tag())
                .trim_end()
                .to_string()
        }
        _ => subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::message_id::MailDomain;
    use crate::mail::token::{sign_case_token, CaseTokenSecret};

    fn id(text: &str) -> MessageId {
        MessageId::parse(text).unwrap()
    }

    fn token() -> CaseToken {
        let secret = CaseTokenSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        sign_case_token(&secret, CaseId(123))
    }

    #[test]
    fn a_reply_threads_and_carries_the_token() {
        let domain = MailDomain::parse("backline.example.com").unwrap();
        let ours = MessageId::for_outbox(9, &domain);
        let thread = [
            id("first@customer.test"),
            id("outbox-4@backline.example.com"),
        ];
        let support = Email::parse("support@example.com").unwrap();
        let token = token();
        let headers = outgoing_headers(&OutgoingMail {
            kind: OutgoingKind::Reply,
            message_id: &ours,
            thread: &thread,
            token: Some(&token),
            reply_mailbox: &support,
            subject: "Printer\r\nBcc: everyone@example.com",
            unsubscribe: None,
        })
        .unwrap();
        assert_eq!(
            headers.fields(),
            vec![
                ("Message-ID", "<outbox-9@backline.example.com>".to_string()),
                ("In-Reply-To", "<outbox-4@backline.example.com>".into()),
                (
                    "References",
                    "<first@customer.test> <outbox-4@backline.example.com>".into()
                ),
                ("Reply-To", "support+123-hq6wojwd@example.com".into()),
                // The line break could have smuggled in a header; it is a space now.
                (
                    "Subject",
                    "[#123-hq6wojwd] Printer Bcc: everyone@example.com".into()
                ),
                ("X-Auto-Response-Suppress", "OOF, AutoReply".into()),
                ("X-Backline-Kind", "reply".into()),
                ("X-Backline-Case", "123".into()),
            ]
        );
    }

    #[test]
    fn automatic_mail_says_so() {
        assert_eq!(
            OutgoingKind::Acknowledgement.auto_submitted(),
            Some("auto-replied")
        );
        assert_eq!(OutgoingKind::Reply.auto_submitted(), None);
        for kind in [
            OutgoingKind::Solved,
            OutgoingKind::AgentNotification,
            OutgoingKind::Subscription,
        ] {
            assert_eq!(kind.auto_submitted(), Some("auto-generated"));
        }
        let ours = id("outbox-1@b");
        let support = Email::parse("support@example.com").unwrap();
        let token = token();
        // The acknowledgement answers the customer's first message.
        let headers = outgoing_headers(&OutgoingMail {
            kind: OutgoingKind::Acknowledgement,
            message_id: &ours,
            thread: &[id("first@customer.test")],
            token: Some(&token),
            reply_mailbox: &support,
            subject: "[#123-hq6wojwd] Printer on fire",
            unsubscribe: None,
        })
        .unwrap();
        assert_eq!(headers.auto_submitted, Some("auto-replied"));
        assert_eq!(headers.in_reply_to, Some(id("first@customer.test")));
        // The tag is not added twice.
        assert_eq!(headers.subject, "[#123-hq6wojwd] Printer on fire");
    }

    #[test]
    fn subscription_mail_has_one_click_unsubscribe() {
        let ours = id("outbox-2@b");
        let support = Email::parse("status@example.com").unwrap();
        let link = UnsubscribeLink::parse("https://status.example.com/unsubscribe?t=abc").unwrap();
        let mut mail = OutgoingMail {
            kind: OutgoingKind::Subscription,
            message_id: &ours,
            thread: &[],
            token: None,
            reply_mailbox: &support,
            subject: "Incident: API errors",
            unsubscribe: None,
        };
        assert!(outgoing_headers(&mail).is_err());
        mail.unsubscribe = Some(&link);
        let headers = outgoing_headers(&mail).unwrap();
        assert_eq!(
            headers.fields(),
            vec![
                ("Message-ID", "<outbox-2@b>".to_string()),
                ("Reply-To", "status@example.com".into()),
                ("Subject", "Incident: API errors".into()),
                ("Auto-Submitted", "auto-generated".into()),
                ("X-Auto-Response-Suppress", "OOF, AutoReply".into()),
                (
                    "List-Unsubscribe",
                    "<https://status.example.com/unsubscribe?t=abc>".into()
                ),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
                ("X-Backline-Kind", "subscription".into()),
            ]
        );
        // A mailto link unsubscribes, but not in one click.
        let mailto = UnsubscribeLink::parse("mailto:unsubscribe@example.com").unwrap();
        mail.unsubscribe = Some(&mailto);
        let headers = outgoing_headers(&mail).unwrap();
        assert_eq!(
            headers.list_unsubscribe.as_deref(),
            Some("<mailto:unsubscribe@example.com>")
        );
        assert_eq!(headers.list_unsubscribe_post, None);
    }

    #[test]
    fn long_threads_keep_the_root_and_the_newest() {
        let ours = id("outbox-100@b");
        let thread: Vec<MessageId> = (0..30)
            .map(|n| id(&format!("m{n}@b")))
            .chain([ours.clone(), id("m29@b")])
            .collect();
        let support = Email::parse("support@example.com").unwrap();
        let headers = outgoing_headers(&OutgoingMail {
            kind: OutgoingKind::Reply,
            message_id: &ours,
            thread: &thread,
            token: None,
            reply_mailbox: &support,
            subject: "x",
            unsubscribe: None,
        })
        .unwrap();
        assert_eq!(headers.references.len(), MAX_OUTGOING_REFERENCES);
        assert_eq!(headers.references[0], id("m0@b"));
        assert_eq!(headers.references[1], id("m11@b"));
        assert_eq!(headers.references[19], id("m29@b"));
        assert_eq!(headers.in_reply_to, Some(id("m29@b")));
    }

    #[test]
    fn unsubscribe_links_are_checked() {
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://a b",
            "https://a>b",
            "javascript:x",
        ] {
            assert!(
                UnsubscribeLink::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            OutgoingKind::parse("agent_notification").unwrap(),
            OutgoingKind::AgentNotification
        );
    }
}
