use super::*;

fn parse(raw: &str) -> Result<InboundMessage, MailParseError> {
    InboundMessage::parse(raw.as_bytes(), &MailLimits::default())
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn id(text: &str) -> MessageId {
    MessageId::parse(text).unwrap()
}

const REPLY: &str = "Return-Path: <ann@customer.test>\r
Delivered-To: support+12-abcdefgh@example.com\r
Message-ID: <CAB123@mail.customer.test>\r
In-Reply-To: <outbox-4@backline.example.com>\r
References: <first@customer.test>\r
 <outbox-2@backline.example.com>\r
\t<outbox-4@backline.example.com>\r
From: =?UTF-8?Q?Ann_M=C3=BCller?= <Ann@Customer.test>\r
To: \"Backline Support\" <support+12-abcdefgh@example.com>, bob@customer.test\r
Cc: carol@customer.test, not an address\r
Reply-To: ann.private@customer.test\r
Subject: =?UTF-8?B?R3LDvMOfZQ==?= again\r
Date: Thu, 1 Oct 2026 11:30:00 +0200\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
\r
Thanks!\r
\r
> old text\r
";

#[test]
fn a_plain_reply_yields_every_field() {
    let m = parse(REPLY).unwrap();
    assert_eq!(m.message_id, Some(id("CAB123@mail.customer.test")));
    assert_eq!(m.in_reply_to, vec![id("outbox-4@backline.example.com")]);
    assert_eq!(
        m.references,
        vec![
            id("first@customer.test"),
            id("outbox-2@backline.example.com"),
            id("outbox-4@backline.example.com"),
        ]
    );
    assert_eq!(
        m.from,
        Mailbox {
            address: email("ann@customer.test"),
            name: Some("Ann Müller".into()),
        }
    );
    assert_eq!(
        m.to,
        vec![
            Mailbox {
                address: email("support+12-abcdefgh@example.com"),
                name: Some("Backline Support".into()),
            },
            Mailbox {
                address: email("bob@customer.test"),
                name: None,
            },
        ]
    );
    // The unusable Cc entry is left out; the raw headers still show it.
    assert_eq!(
        m.cc.iter().map(|c| c.address.as_str()).collect::<Vec<_>>(),
        ["carol@customer.test"]
    );
    assert_eq!(m.reply_to[0].address, email("ann.private@customer.test"));
    assert_eq!(m.reply_address(), &email("ann.private@customer.test"));
    assert_eq!(
        m.delivered_to,
        vec![email("support+12-abcdefgh@example.com")]
    );
    assert_eq!(m.subject, "Grüße again");
    // 11:30 at +02:00 is 09:30 UTC.
    assert_eq!(m.date, Some(Timestamp::from_millis(1_790_847_000_000)));
    assert_eq!(m.text, "Thanks!\n\n> old text");
    assert!(m.attachments.is_empty());
    assert_eq!(m.report, None);
    assert_eq!(m.size, REPLY.len());
    // The header block, byte for byte, and the unfolded header list.
    assert_eq!(
        m.raw_headers,
        REPLY.split("\r\n\r\n").next().unwrap().to_string() + "\r\n\r\n"
    );
    assert_eq!(m.headers.len(), 13);
    assert_eq!(
        m.header("references"),
        Some("<first@customer.test> <outbox-2@backline.example.com>\t<outbox-4@backline.example.com>")
    );
    assert_eq!(m.header("RETURN-PATH"), Some("<ann@customer.test>"));
    assert_eq!(m.header("X-Missing"), None);
}

#[test]
fn the_thread_is_looked_up_nearest_first() {
    let m = parse(REPLY).unwrap();
    assert_eq!(
        m.thread_ids(),
        vec![
            id("outbox-4@backline.example.com"),
            id("outbox-2@backline.example.com"),
            id("first@customer.test"),
        ]
    );
    assert_eq!(
        m.addressed_to(),
        vec![
            email("support+12-abcdefgh@example.com"),
            email("bob@customer.test"),
            email("carol@customer.test"),
        ]
    );
}

#[test]
fn html_is_used_only_when_there_is_no_plain_text() {
    let alternative = "From: ann@customer.test\r
Content-Type: multipart/alternative; boundary=\"alt\"\r
\r
--alt\r
Content-Type: text/plain; charset=utf-8\r
\r
Plain words\r
--alt\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Rich <b>words</b></p>\r
--alt--\r
";
    assert_eq!(parse(alternative).unwrap().text, "Plain words");
    let html_only = "From: ann@customer.test\r
Content-Type: text/html; charset=utf-8\r
\r
<html><head><style>p { color: red }</style></head><body><p>Hello <b>Ann</b></p><p>Second</p></body></html>\r
";
    let text = parse(html_only).unwrap().text;
    assert!(text.contains("Hello Ann"), "{text:?}");
    assert!(text.contains("Second"), "{text:?}");
    assert!(!text.contains('<') && !text.contains("color"), "{text:?}");
}

const WITH_FILES: &str = "From: ann@customer.test\r
Subject: logs\r
Content-Type: multipart/mixed; boundary=\"mix\"\r
\r
--mix\r
Content-Type: text/plain\r
\r
See attached.\r
--mix\r
Content-Type: application/pdf; name=\"report.pdf\"\r
Content-Disposition: attachment; filename=\"../../etc/report.pdf\"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQgdGVzdA==\r
--mix\r
Content-Type: application/octet-stream\r
Content-Disposition: attachment\r
\r
raw\r
--mix\r
Content-Type: message/rfc822\r
\r
From: dave@contoso.test\r
Subject: the original\r
\r
Old mail\r
--mix--\r
";

#[test]
fn attachments_are_decoded_and_safely_named() {
    let m = parse(WITH_FILES).unwrap();
    assert_eq!(m.text, "See attached.");
    let summary: Vec<(&str, &str, usize)> = m
        .attachments
        .iter()
        .map(|a| (a.file_name.as_str(), a.content_type.as_str(), a.size()))
        .collect();
    assert_eq!(
        summary,
        [
            ("report.pdf", "application/pdf", 13),
            ("attachment-2", "application/octet-stream", 3),
            ("message-3.eml", "message/rfc822", summary[2].2),
        ]
    );
    assert_eq!(m.attachments[0].bytes, b"%PDF-1.4 test");
    assert_eq!(m.attachments[1].bytes, b"raw");
    let returned = String::from_utf8_lossy(&m.attachments[2].bytes);
    assert!(returned.contains("Subject: the original"), "{returned:?}");
    // A forwarded message is not a report.
    assert_eq!(m.report, None);
}

#[test]
fn file_names_cannot_escape_or_vanish() {
    assert_eq!(
        safe_file_name(Some("C:\\temp\\a.txt"), 1, "text/plain"),
        "a.txt"
    );
    assert_eq!(safe_file_name(Some("..."), 4, "text/plain"), "attachment-4");
    assert_eq!(safe_file_name(Some(".bashrc"), 1, "text/plain"), "bashrc");
    assert_eq!(
        safe_file_name(Some("a\r\nb.txt"), 1, "text/plain"),
        "ab.txt"
    );
    assert_eq!(safe_file_name(None, 2, "message/rfc822"), "message-2.eml");
    assert_eq!(
        safe_file_name(Some(&"x".repeat(300)), 1, "text/plain").len(),
        200
    );
}

#[test]
fn what_cannot_be_read_says_why() {
    assert_eq!(parse(""), Err(MailParseError::Empty));
    assert_eq!(parse(" \r\n "), Err(MailParseError::Empty));
    assert_eq!(parse("hello world"), Err(MailParseError::NoHeaders));
    assert_eq!(
        parse("Subject: hi\r\n\r\nno sender"),
        Err(MailParseError::NoFrom)
    );
    assert_eq!(
        parse("From: nobody\r\n\r\nx"),
        Err(MailParseError::BadFrom("nobody".into()))
    );
    let limits = MailLimits {
        max_message_bytes: 10,
    };
    let err = InboundMessage::parse(b"From: ann@customer.test\r\n\r\nHi", &limits).unwrap_err();
    assert_eq!(
        err,
        MailParseError::TooLarge {
            size: 29,
            limit: 10
        }
    );
    assert_eq!(
        err.to_string(),
        "the message is 29 bytes; at most 10 bytes are accepted"
    );
    assert_eq!(
        MailParseError::NoHeaders.to_string(),
        "this is not an email: it has no header lines (such as From: and Subject:) before its text"
    );
}

#[test]
fn a_missing_from_falls_back_to_sender() {
    let m = parse("Sender: list@lists.test\r\nSubject: x\r\n\r\nbody").unwrap();
    assert_eq!(m.from.address, email("list@lists.test"));
}

#[test]
fn mail_without_a_message_id_is_deduplicated_by_its_bytes() {
    let raw = "From: ann@customer.test\r\n\r\nHi";
    let m = parse(raw).unwrap();
    assert_eq!(m.message_id, None);
    assert_eq!(
        m.sha256,
        "66d9fcb77b74892520f2c1df8d98c531c3860d7adf31edd48c5f52eb8d7eb6b2"
    );
    assert_eq!(
        m.dedup_key().to_string(),
        "<sha256-66d9fcb77b74892520f2c1df8d98c531c3860d7adf31edd48c5f52eb8d7eb6b2@no-message-id.invalid>"
    );
    assert_eq!(
        parse(REPLY).unwrap().dedup_key(),
        id("CAB123@mail.customer.test")
    );
}

#[test]
fn case_subjects_lose_prefixes_and_tags() {
    let subject = |s: &str| {
        let mut m = parse("From: ann@customer.test\r\n\r\nx").unwrap();
        m.subject = s.to_string();
        m.case_subject()
    };
    assert_eq!(
        subject("Re: AW: [#12-abcdefgh] Printer on fire"),
        "Printer on fire"
    );
    assert_eq!(subject("FW: RE: Printer"), "Printer");
    assert_eq!(subject("Printer: on fire"), "Printer: on fire");
    assert_eq!(subject("  "), "(no subject)");
    assert_eq!(subject("Re:"), "(no subject)");
    assert_eq!(subject(&"é".repeat(300)).chars().count(), 200);
}

#[test]
fn dates_that_name_no_moment_are_dropped() {
    let m =
        parse("From: ann@customer.test\r\nDate: Thu, 31 Feb 2026 10:00:00 +0000\r\n\r\nx").unwrap();
    assert_eq!(m.date, None);
    let m = parse("From: ann@customer.test\r\nDate: yesterday\r\n\r\nx").unwrap();
    assert_eq!(m.date, None);
    // West of Greenwich: 04:30 at -05:00 is 09:30 UTC.
    let m =
        parse("From: ann@customer.test\r\nDate: Thu, 1 Oct 2026 04:30:00 -0500\r\n\r\nx").unwrap();
    assert_eq!(m.date, Some(Timestamp::from_millis(1_790_847_000_000)));
}

#[test]
fn overlong_reference_lists_keep_the_root_and_the_newest() {
    let refs: Vec<String> = (0..60).map(|n| format!("<r{n}@x.test>")).collect();
    let raw = format!(
        "From: ann@customer.test\r\nReferences: {}\r\n\r\nx",
        refs.join("\r\n ")
    );
    let m = parse(&raw).unwrap();
    assert_eq!(m.references.len(), MAX_REFERENCES);
    assert_eq!(m.references[0], id("r0@x.test"));
    assert_eq!(m.references[1], id("r11@x.test"));
    assert_eq!(m.references[49], id("r59@x.test"));
}

#[test]
fn delivery_status_fields_are_read_per_recipient() {
    let body = "Reporting-MTA: dns; mx.test\n\nFinal-Recipient: rfc822;\n <a@x.test>\nAction: FAILED\n\
                Status: 5.0.0 (permanent)\n\nFinal-Recipient: x400; not-an-address\nAction: failed\n\n\
                Original-Recipient: rfc822; b@x.test\nStatus: junk\n";
    assert_eq!(
        dsn_recipients(body),
        vec![
            DsnRecipient {
                address: email("a@x.test"),
                action: Some(DsnAction::Failed),
                status: Some("5.0.0".into()),
            },
            DsnRecipient {
                address: email("b@x.test"),
                action: None,
                status: None,
            },
        ]
    );
}
