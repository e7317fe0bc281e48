//! Loops and noise: which mail was written by a person, and which was sent by a machine
//! (an auto-reply, a bounce, or our own mail coming back). Machine mail never opens a case
//! and never makes us send mail, which is what breaks mail loops.

use super::inbound::{DsnAction, DsnRecipient, InboundMessage};
use super::message_id::{MailDomain, MessageId};
use crate::Email;
use std::fmt;

/// Who "we" are, to recognise our own mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnIdentity {
    /// The domain of the Message-IDs we mint.
    pub message_id_domain: MailDomain,
    /// The addresses we send from (`support@example.com`); subaddresses
    /// (`support+123-...@`) count as the same address.
    pub addresses: Vec<Email>,
}

/// What a message is, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// Written by a person: on to sender resolution and threading.
    Personal,
    /// Sent by a machine in answer to a message, or in bulk.
    AutoReply(AutoReason),
    /// A delivery failure report: recorded against the address that bounced.
    Bounce(Bounce),
    /// Our own mail come back (a loop through a forward, or a copy to ourselves).
    Own(OwnReason),
}

impl MessageKind {
    /// Whether the message is machine mail: it opens no case and triggers no mail.
    pub fn is_noise(&self) -> bool {
        !matches!(self, MessageKind::Personal)
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageKind::Personal => f.write_str("written by a person"),
            MessageKind::AutoReply(reason) => write!(f, "an automatic message: {reason}"),
            MessageKind::Bounce(bounce) => write!(f, "a bounce: {}", bounce.reason),
            MessageKind::Own(reason) => write!(f, "our own mail: {reason}"),
        }
    }
}

/// The header (or subject) that marked a message as automatic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoReason {
    /// `Auto-Submitted` with a value other than `no` (RFC 3834).
    AutoSubmitted(String),
    /// `Precedence: bulk`, `junk` or `list`.
    Precedence(String),
    /// `X-Auto-Response-Suppress` (Exchange sets it on its automatic mail).
    AutoResponseSuppress(String),
    /// `X-Autoreply` or `X-Autorespond` (vacation programs).
    AutoreplyHeader(String),
    /// A read receipt (`multipart/report; report-type=disposition-notification`).
    ReadReceipt,
    /// Another machine report, such as an abuse `feedback-report`.
    Report(String),
    /// A subject that out-of-office replies use (`Automatic reply:`, `Out of Office:`).
    VacationSubject(String),
}

impl fmt::Display for AutoReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutoReason::AutoSubmitted(v) => write!(f, "Auto-Submitted: {v}"),
            AutoReason::Precedence(v) => write!(f, "Precedence: {v}"),
            AutoReason::AutoResponseSuppress(v) => write!(f, "X-Auto-Response-Suppress: {v}"),
            AutoReason::AutoreplyHeader(name) => write!(f, "{name} header"),
            AutoReason::ReadReceipt => f.write_str("a read receipt"),
            AutoReason::Report(kind) => write!(f, "a machine report ({kind})"),
            AutoReason::VacationSubject(s) => write!(f, "an out-of-office subject ({s:?})"),
        }
    }
}

/// A bounce and what it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    pub reason: BounceReason,
    /// The recipients the delivery report names (may be empty: not every bounce has one).
    pub recipients: Vec<DsnRecipient>,
    /// The Message-ID of the mail that bounced, when the report returned it. If it is one of
    /// ours it names the outbox row, and so the address, even without a delivery report.
    pub original_message_id: Option<MessageId>,
}

impl Bounce {
    /// The addresses that could not be delivered to: those reported `failed`, or with no
    /// action given. `delayed` is not a bounce yet; the mail may still arrive.
    pub fn failed_addresses(&self) -> Vec<&Email> {
        self.recipients
            .iter()
            .filter(|r| matches!(r.action, None | Some(DsnAction::Failed)))
            .map(|r| &r.address)
            .collect()
    }
}

/// What marked a message as a bounce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BounceReason {
    /// `multipart/report; report-type=delivery-status`, or a delivery-status part.
    DeliveryStatus,
    /// Sent by `MAILER-DAEMON` or `postmaster`.
    DaemonSender(Email),
    /// An empty Return-Path (`<>`), which RFC 5321 reserves for mail that must not be
    /// answered, and which carries none of the auto-reply headers.
    NullReturnPath,
}

impl fmt::Display for BounceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BounceReason::DeliveryStatus => f.write_str("a delivery status notification"),
            BounceReason::DaemonSender(e) => write!(f, "sent by {e}"),
            BounceReason::NullReturnPath => f.write_str("an empty Return-Path (<>)"),
        }
    }
}

/// What marked a message as our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnReason {
    /// Its Message-ID is in our domain.
    MessageId(MessageId),
    /// It carries an `X-Backline-...` header, which only our outgoing mail sets.
    BacklineHeader(String),
    /// It is from one of our sending addresses.
    OurAddress(Email),
}

impl fmt::Display for OwnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnReason::MessageId(id) => write!(f, "its Message-ID {id} is ours"),
            OwnReason::BacklineHeader(name) => write!(f, "it carries our {name} header"),
            OwnReason::OurAddress(e) => write!(f, "it is from our address {e}"),
        }
    }
}

/// Says what a message is.
///
/// Order matters: our own mail first (whatever else it looks like, it must not loop); then
/// bounces (a DSN usually also says `Auto-Submitted`, and must be recorded, not just
/// dropped); then the auto-reply marks; and only then an empty Return-Path, which
/// auto-responders also use, so that they are named for what they are.
pub fn classify(message: &InboundMessage, us: &OwnIdentity) -> MessageKind {
    if let Some(reason) = own_mail(message, us) {
        return MessageKind::Own(reason);
    }
    let report_type = message.report.as_ref().map(|r| r.report_type.as_str());
    if report_type == Some("delivery-status") {
        return bounce(message, BounceReason::DeliveryStatus);
    }
    if is_daemon(&message.from.address) {
        return bounce(
            message,
            BounceReason::DaemonSender(message.from.address.clone()),
        );
    }
    match report_type {
        Some("disposition-notification") => return MessageKind::AutoReply(AutoReason::ReadReceipt),
        Some("") => return MessageKind::AutoReply(AutoReason::Report("unknown".into())),
        Some(other) => return MessageKind::AutoReply(AutoReason::Report(other.to_string())),
        None => {}
    }
    if let Some(reason) = auto_reply(message) {
        return MessageKind::AutoReply(reason);
    }
    if has_null_return_path(message) {
        return bounce(message, BounceReason::NullReturnPath);
    }
    MessageKind::Personal
}

fn own_mail(message: &InboundMessage, us: &OwnIdentity) -> Option<OwnReason> {
    if let Some(id) = message
        .message_id
        .as_ref()
        .filter(|id| id.is_ours(&us.message_id_domain))
    {
        return Some(OwnReason::MessageId(id.clone()));
    }
    if let Some(header) = message
        .headers
        .iter()
        .find(|h| h.name.to_ascii_lowercase().starts_with("x-backline-"))
    {
        return Some(OwnReason::BacklineHeader(header.name.clone()));
    }
    us.our_address(&message.from.address)
        .map(|ours| OwnReason::OurAddress(ours.clone()))
}

impl OwnIdentity {
    /// Which of our addresses `address` is, subaddress or not (`support+7-abc@` is
    /// `support@`).
    pub fn our_address(&self, address: &Email) -> Option<&Email> {
        let wanted = without_subaddress(address);
        self.addresses
            .iter()
            .find(|ours| without_subaddress(ours) == wanted)
    }
}

/// `support+123-abc@example.com` -> `support@example.com`, as text.
fn without_subaddress(email: &Email) -> String {
    let local = email.local_part();
    let base = local.split_once('+').map_or(local, |(base, _)| base);
    format!("{base}@{}", email.domain())
}

fn bounce(message: &InboundMessage, reason: BounceReason) -> MessageKind {
    let report = message.report.as_ref();
    MessageKind::Bounce(Bounce {
        reason,
        recipients: report.map(|r| r.recipients.clone()).unwrap_or_default(),
        original_message_id: report.and_then(|r| r.original_message_id.clone()),
    })
}

/// The senders MTAs use for their reports.
fn is_daemon(from: &Email) -> bool {
    matches!(from.local_part(), "mailer-daemon" | "postmaster")
}

fn auto_reply(message: &InboundMessage) -> Option<AutoReason> {
    for value in message.header_values("Auto-Submitted") {
        let token = first_token(value);
        if !token.is_empty() && token != "no" {
            return Some(AutoReason::AutoSubmitted(token));
        }
    }
    for value in message.header_values("Precedence") {
        let token = first_token(value);
        if matches!(token.as_str(), "bulk" | "junk" | "list") {
            return Some(AutoReason::Precedence(token));
        }
    }
    // "None" is not a value Exchange sends, but it plainly asks to suppress nothing.
    for value in message.header_values("X-Auto-Response-Suppress") {
        if !value.trim().is_empty() && !value.trim().eq_ignore_ascii_case("none") {
            return Some(AutoReason::AutoResponseSuppress(value.trim().to_string()));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if let Some(value) = message.header(name) {
            if !value.trim().eq_ignore_ascii_case("no") {
                return Some(AutoReason::AutoreplyHeader(name.to_string()));
            }
        }
    }
    vacation_subject(&message.subject).map(AutoReason::VacationSubject)
}

/// The lower-case first word of a structured value (`auto-replied; owner-email=...`).
fn first_token(value: &str) -> String {
    value
        .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
        .find(|t| !t.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Out-of-office subjects, by prefix only: a person's subject may mention an absence, but
/// does not start with the label a mail program puts there.
fn vacation_subject(subject: &str) -> Option<String> {
    const PREFIXES: [&str; 7] = [
        "automatic reply:",
        "auto:",
        "autoreply:",
        "auto-reply:",
        "out of office:",
        "out of office reply",
        "abwesenheitsnotiz:",
    ];
    let lower = subject.trim().to_lowercase();
    PREFIXES
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| p.trim_end_matches(':').to_string())
}

/// `Return-Path: <>`, as the receiving MTA records an empty envelope sender.
fn has_null_return_path(message: &InboundMessage) -> bool {
    message
        .header_values("Return-Path")
        .iter()
        .any(|v| v.trim().trim_matches(['<', '>']).trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::inbound::MailLimits;

    fn us() -> OwnIdentity {
        OwnIdentity {
            message_id_domain: MailDomain::parse("backline.example.com").unwrap(),
            addresses: vec![Email::parse("support@example.com").unwrap()],
        }
    }

    fn message(headers: &str, body: &str) -> InboundMessage {
        let raw = format!(
            "From: Ann Example <ann@customer.test>\r\nTo: support@example.com\r\n\
             Subject: Printer on fire\r\nMessage-ID: <a1@customer.test>\r\n{headers}\r\n{body}"
        );
        InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap()
    }

    fn kind(headers: &str) -> MessageKind {
        classify(&message(headers, "Hello\r\n"), &us())
    }

    #[test]
    fn a_plain_message_is_personal() {
        assert_eq!(kind(""), MessageKind::Personal);
        assert_eq!(kind("Auto-Submitted: no\r\n"), MessageKind::Personal);
        assert_eq!(kind("Precedence: first-class\r\n"), MessageKind::Personal);
        assert_eq!(
            kind("X-Auto-Response-Suppress: None\r\n"),
            MessageKind::Personal
        );
        assert_eq!(
            kind("Return-Path: <ann@customer.test>\r\n"),
            MessageKind::Personal
        );
        assert!(!MessageKind::Personal.is_noise());
    }

    #[test]
    fn auto_reply_headers_mark_machine_mail() {
        assert_eq!(
            kind("Auto-Submitted: Auto-Replied (vacation)\r\n"),
            MessageKind::AutoReply(AutoReason::AutoSubmitted("auto-replied".into()))
        );
        assert_eq!(
            kind("Auto-Submitted: auto-generated\r\n"),
            MessageKind::AutoReply(AutoReason::AutoSubmitted("auto-generated".into()))
        );
        for precedence in ["bulk", "junk", "List"] {
            assert_eq!(
                kind(&format!("Precedence: {precedence}\r\n")),
                MessageKind::AutoReply(AutoReason::Precedence(precedence.to_lowercase()))
            );
        }
        assert_eq!(
            kind("X-Auto-Response-Suppress: DR, OOF, AutoReply\r\n"),
            MessageKind::AutoReply(AutoReason::AutoResponseSuppress(
                "DR, OOF, AutoReply".into()
            ))
        );
        assert_eq!(
            kind("X-Autoreply: yes\r\n"),
            MessageKind::AutoReply(AutoReason::AutoreplyHeader("X-Autoreply".into()))
        );
        assert_eq!(
            kind("X-Autorespond: Out of office\r\n"),
            MessageKind::AutoReply(AutoReason::AutoreplyHeader("X-Autorespond".into()))
        );
        assert!(kind("Precedence: bulk\r\n").is_noise());
    }

    #[test]
    fn out_of_office_subjects_count_only_as_prefixes() {
        let raw =
            "From: ann@customer.test\r\nSubject: Automatic reply: Printer on fire\r\n\r\nAway.";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::AutoReply(AutoReason::VacationSubject("automatic reply".into()))
        );
        let raw = "From: ann@customer.test\r\nSubject: Printer out of office: help\r\n\r\nHi";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(classify(&m, &us()), MessageKind::Personal);
    }

    #[test]
    fn our_own_mail_is_recognised_first() {
        let raw = "From: ann@customer.test\r\nMessage-ID: <outbox-9@Backline.example.com>\r\n\
                   Precedence: bulk\r\n\r\nx";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::Own(OwnReason::MessageId(
                MessageId::parse("outbox-9@Backline.example.com").unwrap()
            ))
        );
        assert_eq!(
            kind("X-Backline-Case: 12\r\n"),
            MessageKind::Own(OwnReason::BacklineHeader("X-Backline-Case".into()))
        );
        let raw = "From: Support <Support+12-abcdefgh@example.com>\r\n\r\nx";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::Own(OwnReason::OurAddress(
                Email::parse("support@example.com").unwrap()
            ))
        );
        // Someone else at our domain is not us.
        let raw = "From: sales@example.com\r\n\r\nx";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(classify(&m, &us()), MessageKind::Personal);
    }

    const DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r
To: support@example.com\r
Subject: Undelivered Mail Returned to Sender\r
Message-ID: <20261001.ABC@mx.customer.test>\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"B1\"\r
\r
--B1\r
Content-Type: text/plain\r
\r
I'm sorry to have to inform you that your message could not be delivered.\r
\r
--B1\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.customer.test\r
Arrival-Date: Thu, 1 Oct 2026 09:30:00 +0000\r
\r
Final-Recipient: rfc822; ann.forwarded@elsewhere.test\r
Original-Recipient: rfc822;Ann@customer.test\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <ann@customer.test>: Recipient address rejected\r
\r
Final-Recipient: rfc822; bob@customer.test\r
Action: delayed\r
Status: 4.4.1 (connection timed out)\r
\r
--B1\r
Content-Type: text/rfc822-headers\r
\r
From: support@example.com\r
To: ann@customer.test\r
Subject: [#12-abcdefgh] Printer on fire\r
Message-ID: <outbox-77@backline.example.com>\r
\r
--B1--\r
";

    #[test]
    fn a_delivery_report_is_a_bounce_with_its_recipients() {
        let m = InboundMessage::parse(DSN.as_bytes(), &MailLimits::default()).unwrap();
        let MessageKind::Bounce(bounce) = classify(&m, &us()) else {
            panic!("not a bounce: {:?}", classify(&m, &us()));
        };
        assert_eq!(bounce.reason, BounceReason::DeliveryStatus);
        assert_eq!(
            bounce.recipients,
            vec![
                DsnRecipient {
                    // Original-Recipient wins: it is the address we sent to.
                    address: Email::parse("ann@customer.test").unwrap(),
                    action: Some(DsnAction::Failed),
                    status: Some("5.1.1".into()),
                },
                DsnRecipient {
                    address: Email::parse("bob@customer.test").unwrap(),
                    action: Some(DsnAction::Delayed),
                    status: Some("4.4.1".into()),
                },
            ]
        );
        assert_eq!(
            bounce.failed_addresses(),
            vec![&bounce.recipients[0].address]
        );
        assert_eq!(
            bounce.original_message_id,
            Some(MessageId::parse("outbox-77@backline.example.com").unwrap())
        );
        assert_eq!(
            MessageKind::Bounce(bounce).to_string(),
            "a bounce: a delivery status notification"
        );
    }

    #[test]
    fn a_bounce_without_a_report_is_known_by_its_sender_or_empty_return_path() {
        let raw = "From: postmaster@mx.customer.test\r\nSubject: failure notice\r\n\r\n\
                   Hi. This is the qmail-send program.\r\n";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::Bounce(Bounce {
                reason: BounceReason::DaemonSender(
                    Email::parse("postmaster@mx.customer.test").unwrap()
                ),
                recipients: vec![],
                original_message_id: None,
            })
        );
        let MessageKind::Bounce(b) = kind("Return-Path: <>\r\n") else {
            panic!("not a bounce");
        };
        assert_eq!(b.reason, BounceReason::NullReturnPath);
        // An auto-reply with an empty Return-Path is named for what it is.
        assert_eq!(
            kind("Return-Path: <>\r\nAuto-Submitted: auto-replied\r\n"),
            MessageKind::AutoReply(AutoReason::AutoSubmitted("auto-replied".into()))
        );
    }

    #[test]
    fn read_receipts_and_other_reports_are_noise_not_bounces() {
        let raw = "From: ann@customer.test\r\nContent-Type: multipart/report; \
                   report-type=disposition-notification; boundary=x\r\n\r\n--x\r\n\
                   Content-Type: text/plain\r\n\r\nRead.\r\n--x--\r\n";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::AutoReply(AutoReason::ReadReceipt)
        );
        let raw = "From: abuse@isp.test\r\nContent-Type: multipart/report; \
                   report-type=feedback-report; boundary=x\r\n\r\n--x\r\n\r\nSpam.\r\n--x--\r\n";
        let m = InboundMessage::parse(raw.as_bytes(), &MailLimits::default()).unwrap();
        assert_eq!(
            classify(&m, &us()),
            MessageKind::AutoReply(AutoReason::Report("feedback-report".into()))
        );
    }
}
