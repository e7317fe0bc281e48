//! An email as it arrived: parsed from raw bytes by mail-parser into the facts intake needs.
//!
//! The MIME work (encodings, charsets, multiparts, RFC 2047 words, HTML to text) is
//! mail-parser's; this module chooses what to keep and turns it into typed values.

use super::message_id::MessageId;
use crate::{string_enum, Email, Timestamp};
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// What intake accepts. A parameter rather than a constant so the SMTP listener can announce
/// the same limit in its `SIZE` extension and refuse early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// The largest raw message, in bytes.
    pub max_message_bytes: usize,
}

impl Default for MailLimits {
    /// 25 MiB: what the large mail providers accept, so a message their users can send is one
    /// we can take.
    fn default() -> Self {
        Self {
            max_message_bytes: 25 * 1024 * 1024,
        }
    }
}

/// The most In-Reply-To and References ids kept from one message. A long thread's References
/// grows with every reply; the first id (the thread's root) and the newest ones are the ones
/// that can name our mail, so the middle of an overlong list is dropped.
pub const MAX_REFERENCES: usize = 50;

/// Why bytes could not be taken as an email. Each says so in words an agent reading the
/// quarantine understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {size} bytes; at most {limit} bytes are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "this is not an email: it has no header lines (such as From: and Subject:) before its text"
    )]
    NoHeaders,
    #[error("the message has no From header, so there is no one to answer")]
    NoFrom,
    #[error("the From header ({0:?}) holds no usable email address")]
    BadFrom(String),
}

/// A name and address, as in `Ann Example <ann@example.com>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: Email,
    /// The display name, if one was given (decoded, trimmed).
    pub name: Option<String>,
}

/// One header line of the message's top level, unfolded, in the order it appeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// As written (`X-Autoreply`); compare without case.
    pub name: String,
    /// The raw value with folding undone and surrounding space trimmed; not decoded, so it is
    /// what the sender wrote.
    pub value: String,
}

/// A file that came with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Safe to show and to offer as a download name: no directories, no control characters,
    /// never empty (`attachment-N` when the message gave none).
    pub file_name: String,
    /// `type/subtype`, lower-case.
    pub content_type: String,
    /// The decoded content (text parts decoded to UTF-8 by the MIME parser).
    pub bytes: Vec<u8>,
}

impl Attachment {
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

string_enum!(
    /// What a delivery report says happened to one recipient (RFC 3464 `Action`).
    DsnAction {
        Failed => "failed", Delayed => "delayed", Delivered => "delivered",
        Relayed => "relayed", Expanded => "expanded"
    }
);

/// One recipient named in a delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsnRecipient {
    /// `Original-Recipient` when given (the address as we sent it, which is the one we know),
    /// else `Final-Recipient` (where it ended up after forwarding).
    pub address: Email,
    pub action: Option<DsnAction>,
    /// The enhanced status code, such as `5.1.1`.
    pub status: Option<String>,
}

/// A machine-readable report (`multipart/report`, RFC 6522): a delivery status notification,
/// a read receipt, an abuse feedback report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The `report-type` parameter, lower-case: `delivery-status`, `disposition-notification`,
    /// `feedback-report`...
    pub report_type: String,
    /// From the `message/delivery-status` part, if any.
    pub recipients: Vec<DsnRecipient>,
    /// The Message-ID of the message the report is about, from the returned message or its
    /// headers. When it is ours (`outbox-N@...`) it names the outbox row that bounced.
    pub original_message_id: Option<MessageId>,
}

/// An email as intake sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// `None` when missing or unusable; [`InboundMessage::dedup_key`] stands in.
    pub message_id: Option<MessageId>,
    pub in_reply_to: Vec<MessageId>,
    /// Oldest first, as written; at most [`MAX_REFERENCES`].
    pub references: Vec<MessageId>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// Envelope recipients that relays recorded (`Delivered-To`, `X-Original-To`,
    /// `Envelope-To`): where a Bcc or a forward actually went.
    pub delivered_to: Vec<Email>,
    /// Decoded, on one line; empty when there was none.
    pub subject: String,
    pub date: Option<Timestamp>,
    /// The text of the message: its text/plain parts, or its HTML converted to plain text when
    /// it has no plain text. Line ends are `\n`.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Top-level header lines, for rules and for "show the email headers".
    pub headers: Vec<HeaderField>,
    /// The header block exactly as received (invalid UTF-8 replaced), for display.
    pub raw_headers: String,
    pub report: Option<Report>,
    /// Size of the raw message in bytes.
    pub size: usize,
    /// SHA-256 of the raw bytes, hex: tells a re-delivery of the very same bytes apart from
    /// a different message that reuses a Message-ID.
    pub sha256: String,
}

impl InboundMessage {
    /// Parses raw bytes (RFC 5322 with MIME). Anything the MIME parser can make sense of is
    /// accepted; only what leaves no sender or no headers at all is refused.
    pub fn parse(raw: &[u8], limits: &MailLimits) -> Result<InboundMessage, MailParseError> {
        if raw.len() > limits.max_message_bytes {
            return Err(MailParseError::TooLarge {
                size: raw.len(),
                limit: limits.max_message_bytes,
            });
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Err(MailParseError::Empty);
        }
        let parsed = MessageParser::default()
            .parse(raw)
            .ok_or(MailParseError::NoHeaders)?;
        if !parsed.headers().iter().any(|h| is_field(raw, h)) {
            return Err(MailParseError::NoHeaders);
        }
        let from = sender_of(&parsed)?;
        let root = parsed.root_part();
        let raw_headers = raw
            .get(root.offset_header as usize..root.offset_body as usize)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        // From the raw bytes rather than the parser's text, so a header in a stray 8-bit
        // charset is shown (lossily) instead of left out.
        let headers: Vec<HeaderField> = parsed
            .headers()
            .iter()
            .filter(|h| is_field(raw, h))
            .map(|h| HeaderField {
                name: h.name().to_string(),
                value: raw
                    .get(h.offset_start() as usize..h.offset_end() as usize)
                    .map(|bytes| unfold(&String::from_utf8_lossy(bytes)))
                    .unwrap_or_default(),
            })
            .collect();
        let delivered_to = ["Delivered-To", "X-Original-To", "Envelope-To"]
            .iter()
            .flat_map(|name| {
                headers
                    .iter()
                    .filter(move |h| h.name.eq_ignore_ascii_case(name))
            })
            .filter_map(|h| Email::parse(h.value.trim_matches(['<', '>'])).ok())
            .collect::<Vec<_>>();
        Ok(InboundMessage {
            message_id: parsed.message_id().and_then(|id| MessageId::parse(id).ok()),
            in_reply_to: ids(parsed.in_reply_to()),
            references: ids(parsed.references()),
            from,
            to: mailboxes(parsed.to()),
            cc: mailboxes(parsed.cc()),
            reply_to: mailboxes(parsed.reply_to()),
            delivered_to: dedup(delivered_to),
            subject: parsed.subject().map(one_line).unwrap_or_default(),
            date: parsed.date().and_then(to_timestamp),
            text: body_text(&parsed),
            attachments: attachments(&parsed),
            report: report(&parsed),
            headers,
            raw_headers,
            size: raw.len(),
            sha256: Sha256::digest(raw)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        })
    }

    /// The key that makes a second delivery of the same message a no-op: its Message-ID, or,
    /// for mail without one, an id made from the SHA-256 of its bytes (so the very same bytes
    /// delivered twice still count once).
    pub fn dedup_key(&self) -> MessageId {
        self.message_id.clone().unwrap_or_else(|| {
            MessageId::minted(format!("sha256-{}@no-message-id.invalid", self.sha256))
        })
    }

    /// The first value of a header, by name without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of a header, by name without case, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
            .collect()
    }

    /// Where an answer goes: the first Reply-To, else From.
    pub fn reply_address(&self) -> &Email {
        self.reply_to
            .first()
            .map_or(&self.from.address, |m| &m.address)
    }

    /// Every address the message was sent to, each once: envelope recipients, To, Cc. This is
    /// where a reply-address token is looked for.
    pub fn addressed_to(&self) -> Vec<Email> {
        dedup(
            self.delivered_to
                .iter()
                .cloned()
                .chain(self.to.iter().map(|m| m.address.clone()))
                .chain(self.cc.iter().map(|m| m.address.clone()))
                .collect(),
        )
    }

    /// The ids to look up among those we sent, most telling first: In-Reply-To (the message
    /// answered), then References from the newest back to the thread's root. Each once.
    pub fn thread_ids(&self) -> Vec<MessageId> {
        dedup(
            self.in_reply_to
                .iter()
                .chain(self.references.iter().rev())
                .cloned()
                .collect(),
        )
    }

    /// The subject for a case opened by this message: reply and forward prefixes and our
    /// `[#N-...]` tags removed, at most [`crate::case::MAX_SUBJECT_CHARS`] characters, and
    /// never empty.
    pub fn case_subject(&self) -> String {
        let mut subject = self.subject.trim();
        loop {
            let before = subject;
            subject = strip_reply_prefix(subject);
            subject = strip_case_tag(subject);
            if subject == before {
                break;
            }
        }
        if subject.is_empty() {
            return "(no subject)".into();
        }
        subject
            .chars()
            .take(crate::case::MAX_SUBJECT_CHARS)
            .collect::<String>()
            .trim_end()
            .to_string()
    }
}

/// `Re:`, `Fwd:` and their common translations, once.
fn strip_reply_prefix(subject: &str) -> &str {
    const PREFIXES: [&str; 9] = ["re", "fwd", "fw", "aw", "wg", "sv", "vs", "tr", "rv"];
    let Some((head, rest)) = subject.split_once(':') else {
        return subject;
    };
    if PREFIXES.iter().any(|p| head.trim().eq_ignore_ascii_case(p)) {
        rest.trim_start()
    } else {
        subject
    }
}

/// A leading `[#...]` tag, once.
fn strip_case_tag(subject: &str) -> &str {
    match subject
        .strip_prefix("[#")
        .and_then(|rest| rest.split_once(']'))
    {
        Some((_, rest)) => rest.trim_start(),
        None => subject,
    }
}

/// Whether a header the parser found is a real `Name: value` field. The parser is lenient
/// and takes any first line for a header, so plain text would otherwise pass for one.
fn is_field(raw: &[u8], header: &mail_parser::Header<'_>) -> bool {
    let name = header.name();
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && (header.offset_start() as usize)
            .checked_sub(1)
            .and_then(|colon| raw.get(colon))
            == Some(&b':')
}

/// From, or Sender when From has no usable address (some list software and old mailers).
fn sender_of(parsed: &mail_parser::Message<'_>) -> Result<Mailbox, MailParseError> {
    if let Some(mailbox) = parsed.from().and_then(first_mailbox) {
        return Ok(mailbox);
    }
    if let Some(mailbox) = parsed.sender().and_then(first_mailbox) {
        return Ok(mailbox);
    }
    match parsed.header_raw("From") {
        Some(raw) => Err(MailParseError::BadFrom(
            one_line(raw).chars().take(200).collect(),
        )),
        None => Err(MailParseError::NoFrom),
    }
}

fn first_mailbox(address: &Address<'_>) -> Option<Mailbox> {
    mailboxes(Some(address)).into_iter().next()
}

/// Every parseable address of a header, each once; unusable ones are left out (the raw
/// headers still show them).
fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else {
        return Vec::new();
    };
    let mut out: Vec<Mailbox> = Vec::new();
    for addr in address.iter() {
        let Some(email) = addr.address().and_then(|a| Email::parse(a).ok()) else {
            continue;
        };
        if out.iter().any(|m| m.address == email) {
            continue;
        }
        let name = addr
            .name()
            .map(one_line)
            .filter(|n| !n.is_empty() && *n != email.as_str());
        out.push(Mailbox {
            address: email,
            name,
        });
    }
    out
}

/// Message-IDs of In-Reply-To or References, capped at [`MAX_REFERENCES`] (root kept).
fn ids(value: &HeaderValue<'_>) -> Vec<MessageId> {
    let texts: Vec<&str> = match value {
        HeaderValue::Text(text) => vec![text.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    let ids = dedup(
        texts
            .into_iter()
            .filter_map(|t| MessageId::parse(t).ok())
            .collect(),
    );
    if ids.len() <= MAX_REFERENCES {
        return ids;
    }
    let newest = &ids[ids.len() - (MAX_REFERENCES - 1)..];
    std::iter::once(ids[0].clone())
        .chain(newest.iter().cloned())
        .collect()
}

/// Keeps the first of each value, in order.
fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Undoes header folding (a line break followed by a space continues the line) and trims.
fn unfold(raw: &str) -> String {
    raw.chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect::<String>()
        .trim()
        .to_string()
}

/// A header text on one line: control characters become spaces, runs of space collapse.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Date header as a UTC instant; `None` when it names no real moment.
fn to_timestamp(date: &mail_parser::DateTime) -> Option<Timestamp> {
    let month = time::Month::try_from(date.month).ok()?;
    let day = time::Date::from_calendar_date(i32::from(date.year), month, date.day).ok()?;
    let at = time::Time::from_hms(date.hour, date.minute, date.second).ok()?;
    // `tz_before_gmt` marks offsets west of Greenwich, such as -0500.
    let sign: i8 = if date.tz_before_gmt { -1 } else { 1 };
    let offset = time::UtcOffset::from_hms(
        sign * i8::try_from(date.tz_hour).ok()?,
        sign * i8::try_from(date.tz_minute).ok()?,
        0,
    )
    .ok()?;
    Some(Timestamp::from(
        time::PrimitiveDateTime::new(day, at).assume_offset(offset),
    ))
}

/// The text parts, or the HTML parts as text when there is no plain text (mail-parser lists
/// HTML among the text bodies exactly then). Several parts (text, an image, more text) are
/// joined by a blank line.
fn body_text(parsed: &mail_parser::Message<'_>) -> String {
    let parts: Vec<String> = parsed
        .text_bodies()
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            PartType::Html(html) => Some(mail_parser::decoders::html::html_to_text(html)),
            _ => None,
        })
        .map(|text| text.replace("\r\n", "\n").replace('\r', "\n"))
        .filter(|text| !text.trim().is_empty())
        .collect();
    parts.join("\n\n").trim_end().to_string()
}

fn attachments(parsed: &mail_parser::Message<'_>) -> Vec<Attachment> {
    parsed
        .attachments()
        .enumerate()
        .map(|(index, part)| {
            let content_type = content_type_of(part);
            Attachment {
                file_name: safe_file_name(part.attachment_name(), index + 1, &content_type),
                content_type,
                bytes: part.contents().to_vec(),
            }
        })
        .collect()
}

/// `type/subtype`, lower-case; a part without one is `text/plain` per RFC 2045.
fn content_type_of<'x>(part: &impl MimeHeaders<'x>) -> String {
    match part.content_type() {
        Some(ct) => {
            let subtype = ct.subtype().unwrap_or("octet-stream");
            format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase()
        }
        None => "text/plain".into(),
    }
}

/// A download name that cannot climb out of a folder or break a header: the last path
/// component, without control characters or leading dots, at most 200 characters.
pub fn safe_file_name(given: Option<&str>, index: usize, content_type: &str) -> String {
    let name: String = given
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect();
    if !name.trim().is_empty() {
        return name.trim().to_string();
    }
    if content_type == "message/rfc822" {
        format!("message-{index}.eml")
    } else {
        format!("attachment-{index}")
    }
}

/// The report carried by a `multipart/report` message, or by a delivery status part found
/// anywhere (some mailers wrap DSNs in `multipart/mixed`).
fn report(parsed: &mail_parser::Message<'_>) -> Option<Report> {
    let report_type = parsed
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .map(|ct| {
            ct.attribute("report-type")
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let mut recipients = Vec::new();
    let mut found_status = false;
    let mut original_message_id = None;
    for part in &parsed.parts {
        let content_type = content_type_of(part);
        match content_type.as_str() {
            "message/delivery-status" | "message/global-delivery-status" => {
                found_status = true;
                recipients.extend(dsn_recipients(&String::from_utf8_lossy(part.contents())));
            }
            "message/rfc822" | "message/global" | "text/rfc822-headers"
                if original_message_id.is_none() =>
            {
                original_message_id = returned_message_id(part);
            }
            _ => {}
        }
    }
    let report_type = match report_type {
        Some(t) => t,
        None if found_status => "delivery-status".to_string(),
        None => return None,
    };
    Some(Report {
        report_type,
        recipients: dedup(recipients),
        original_message_id,
    })
}

/// The Message-ID of a message returned inside a report, whole or as headers only.
fn returned_message_id(part: &mail_parser::MessagePart<'_>) -> Option<MessageId> {
    let id = match &part.body {
        PartType::Message(inner) => inner.message_id().map(str::to_string),
        _ => MessageParser::default()
            .parse_headers(part.contents())
            .and_then(|headers| headers.message_id().map(str::to_string)),
    };
    id.and_then(|id| MessageId::parse(&id).ok())
}

/// The recipients of a `message/delivery-status` body (RFC 3464): header-like fields, one
/// block per message and then one per recipient, blocks separated by blank lines. Reading
/// `Name: value` lines is all this takes; the MIME decoding happened before.
fn dsn_recipients(body: &str) -> Vec<DsnRecipient> {
    let mut out = Vec::new();
    let mut block = DsnBlock::default();
    let mut lines: Vec<String> = Vec::new();
    for line in body.lines() {
        // Folded continuation lines join the field before them.
        match lines.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) && !line.trim().is_empty() => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_string()),
        }
    }
    for line in lines {
        if line.trim().is_empty() {
            out.extend(block.take());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "original-recipient" => block.original = dsn_address(value),
            "final-recipient" => block.final_ = dsn_address(value),
            "action" => block.action = DsnAction::parse(&value.to_ascii_lowercase()).ok(),
            "status" => {
                let code = value.split_whitespace().next().unwrap_or("");
                block.status = (!code.is_empty()
                    && code.len() <= 16
                    && code.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .then(|| code.to_string());
            }
            _ => {}
        }
    }
    out.extend(block.take());
    out
}

#[derive(Default)]
struct DsnBlock {
    original: Option<Email>,
    final_: Option<Email>,
    action: Option<DsnAction>,
    status: Option<String>,
}

impl DsnBlock {
    /// The recipient this block describes, if it names one; the block starts over.
    fn take(&mut self) -> Option<DsnRecipient> {
        let block = std::mem::take(self);
        Some(DsnRecipient {
            address: block.original.or(block.final_)?,
            action: block.action,
            status: block.status,
        })
    }
}

/// `rfc822; ann@example.com` (the address type, then the address, maybe in brackets).
fn dsn_address(value: &str) -> Option<Email> {
    let address = value.split_once(';').map_or(value, |(_, a)| a);
    Email::parse(address.trim().trim_matches(['<', '>'])).ok()
}

#[cfg(test)]
mod tests;
