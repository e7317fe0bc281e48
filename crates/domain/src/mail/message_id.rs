//! Message-IDs and the domain we put in ours.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The domain on the right of our Message-IDs (`<outbox-7@backline.example.com>`). Mail whose
/// Message-ID carries it is our own coming back, so it must be a name no other mailer uses:
/// not the company's own mail domain, whose colleagues write to support too.
///
/// Lower-case letters, digits, inner hyphens, dots between labels. A name without a dot
/// (`backline`, the outbox's default) is allowed: a Message-ID's right side need not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MailDomain(String);

impl MailDomain {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim().to_ascii_lowercase();
        let invalid = || {
            ParseError(format!(
                "{text:?} is not a domain name such as backline.example.com"
            ))
        };
        if text.is_empty() || text.len() > 253 {
            return Err(invalid());
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !text.split('.').all(label_ok) {
            return Err(invalid());
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MailDomain {
    type Error = ParseError;
    fn try_from(text: String) -> Result<Self, ParseError> {
        MailDomain::parse(&text)
    }
}

impl From<MailDomain> for String {
    fn from(domain: MailDomain) -> String {
        domain.0
    }
}

/// A Message-ID, kept without its angle brackets (`abc@example.com`) and shown with them
/// (`<abc@example.com>`), which is how headers write it.
///
/// Normalised only by trimming and dropping one pair of brackets: ids are compared exactly,
/// as RFC 5322 says, and every mailer repeats the id it was given byte for byte. Ids without
/// an `@` are accepted because broken mailers send them and they still identify a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    /// Longer ids are refused: real ones are well under 100 characters, and the store indexes
    /// them. (RFC 5322 only bounds a header line at 998.)
    pub const MAX_LEN: usize = 250;

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        let inner = trimmed
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(trimmed);
        if inner.is_empty() {
            return Err(ParseError("a Message-ID cannot be empty".into()));
        }
        if inner.len() > Self::MAX_LEN {
            return Err(ParseError(format!(
                "a Message-ID may have at most {} characters",
                Self::MAX_LEN
            )));
        }
        if inner
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(ParseError(format!("{trimmed:?} is not a Message-ID")));
        }
        Ok(Self(inner.to_string()))
    }

    /// The id of an outbox message: stable across retries, so a receiver that gets it twice
    /// sees one message, and a reply's In-Reply-To names the outbox row it answers.
    pub fn for_outbox(outbox_id: i64, domain: &MailDomain) -> MessageId {
        MessageId(format!("outbox-{outbox_id}@{domain}"))
    }

    /// The outbox row an id of ours names ([`MessageId::for_outbox`] read back); `None` for
    /// anyone else's id, or one of ours that names no row.
    pub fn outbox_id(&self, domain: &MailDomain) -> Option<i64> {
        if !self.is_ours(domain) {
            return None;
        }
        let (local, _) = self.0.rsplit_once('@')?;
        local.strip_prefix("outbox-")?.parse().ok()
    }

    /// An id this crate made up itself from safe characters (no parsing needed).
    pub(super) fn minted(text: String) -> MessageId {
        debug_assert!(MessageId::parse(&text).is_ok(), "{text:?}");
        MessageId(text)
    }

    /// The id without brackets, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the last `@`, if any.
    pub fn domain(&self) -> Option<&str> {
        self.0.rsplit_once('@').map(|(_, domain)| domain)
    }

    /// Whether we minted this id (its domain is ours; domains compare without case).
    pub fn is_ours(&self, domain: &MailDomain) -> bool {
        self.domain()
            .is_some_and(|d| d.eq_ignore_ascii_case(domain.as_str()))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

impl TryFrom<String> for MessageId {
    type Error = ParseError;
    fn try_from(text: String) -> Result<Self, ParseError> {
        MessageId::parse(&text)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_lose_brackets_and_keep_case() {
        let id = MessageId::parse("  <CAB+x9=Q@mail.Gmail.com> ").unwrap();
        assert_eq!(id.as_str(), "CAB+x9=Q@mail.Gmail.com");
        assert_eq!(id.to_string(), "<CAB+x9=Q@mail.Gmail.com>");
        assert_eq!(id, MessageId::parse("CAB+x9=Q@mail.Gmail.com").unwrap());
        assert_ne!(id, MessageId::parse("cab+x9=q@mail.gmail.com").unwrap());
        assert_eq!(id.domain(), Some("mail.Gmail.com"));
        assert_eq!(MessageId::parse("no-at-sign").unwrap().domain(), None);
    }

    #[test]
    fn broken_message_ids_are_refused() {
        for bad in [
            "",
            "<>",
            "  ",
            "a b@c",
            "<a@b> <c@d>",
            "a<b@c",
            "a@b\r\nX-Evil: 1",
        ] {
            assert!(MessageId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@x", "a".repeat(MessageId::MAX_LEN));
        assert!(MessageId::parse(&long).is_err());
    }

    #[test]
    fn outbox_ids_are_ours() {
        let domain = MailDomain::parse("Backline.Example.com").unwrap();
        let id = MessageId::for_outbox(42, &domain);
        assert_eq!(id.to_string(), "<outbox-42@backline.example.com>");
        assert!(id.is_ours(&domain));
        assert!(MessageId::parse("x@BACKLINE.example.com")
            .unwrap()
            .is_ours(&domain));
        assert!(!MessageId::parse("x@example.com").unwrap().is_ours(&domain));
        assert_eq!(id.outbox_id(&domain), Some(42));
        let theirs = MessageId::parse("outbox-42@example.com").unwrap();
        assert_eq!(theirs.outbox_id(&domain), None);
        let other = MessageId::parse("x-42@backline.example.com").unwrap();
        assert_eq!(other.outbox_id(&domain), None);
        // A domain that merely ends like ours is not ours.
        assert!(!MessageId::parse("x@evilbackline.example.com")
            .unwrap()
            .is_ours(&domain));
    }

    #[test]
    fn mail_domains_are_host_names() {
        assert_eq!(MailDomain::parse("backline").unwrap().as_str(), "backline");
        for bad in ["", "a..b", "-a.b", "a-.b", "a b", "a@b", "a.b.", "ü.de"] {
            assert!(MailDomain::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn serde_keeps_the_bare_id() {
        let id = MessageId::parse("<a@b>").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"a@b\"");
        assert_eq!(serde_json::from_str::<MessageId>("\"<a@b>\"").unwrap(), id);
        assert!(serde_json::from_str::<MessageId>("\"\"").is_err());
    }
}
