//! The whole intake on arbitrary input: never a panic, and every message ends as a comment,
//! a new case, noise, or quarantine with a reason an agent can read.

use super::*;
use crate::{AccessLimits, Actor, CaseId, CaseStatus, Email, OrgId, Role, Span, Timestamp, UserId};
use proptest::prelude::*;

fn secret() -> CaseTokenSecret {
    CaseTokenSecret::new(vec![42; 32]).unwrap()
}

fn us() -> OwnIdentity {
    OwnIdentity {
        message_id_domain: MailDomain::parse("backline.example.com").unwrap(),
        addresses: vec![Email::parse("support@example.com").unwrap()],
    }
}

/// Runs the pipeline as a caller would, with a small fixed world standing in for storage:
/// case 7 of organisation 10 exists and its acknowledgement was `outbox-1`; ann@acme.test
/// is a customer user of organisation 10; acme.test belongs to it.
fn intake(raw: &[u8]) -> (Placement, Option<ReplyText>) {
    let message = match InboundMessage::parse(raw, &MailLimits::default()) {
        Ok(message) => message,
        Err(e) => {
            return (
                Placement::Quarantine(QuarantineReason::Unparseable(e)),
                None,
            )
        }
    };
    let kind = classify(&message, &us());
    let now = Timestamp::from_millis(1_790_847_000_000);
    let rate = check_rate(&RateLimit::default(), &[now.minus(Span::MINUTE)], now);
    let acme = crate::OrgFacts {
        id: OrgId(10),
        kind: crate::OrgKind::Customer,
        served_by: None,
    };
    let ann = Actor {
        user_id: UserId(3),
        role: Role::Customer,
        org_id: Some(OrgId(10)),
        limits: AccessLimits::default(),
    };
    let sender = resolve_sender(&SenderFacts {
        address: message.from.address.clone(),
        user: (message.from.address.as_str() == "ann@acme.test").then_some(ann),
        domain_owner: (message.from.address.domain() == "acme.test").then_some(acme),
        named_orgs: vec![],
        policy: UnknownSenderPolicy::Hold,
    });
    let token = find_case_token(&message.subject, &message.addressed_to(), &secret());
    let sent = [(
        MessageId::parse("outbox-1@backline.example.com").unwrap(),
        CaseId(7),
    )];
    let thread = decide_thread(&message.thread_ids(), &sent, token);
    let case = CaseFacts {
        id: CaseId(7),
        organization: OrgId(10),
        partner: None,
        status: CaseStatus::Open,
    };
    let placement = place_message(&kind, rate, &sender, &thread, Some(&case));
    let text =
        matches!(placement, Placement::Comment { .. }).then(|| strip_quoted_reply(&message.text));
    (placement, text)
}

fn assert_reasoned(placement: &Placement) {
    match placement {
        Placement::Quarantine(reason) => assert!(!reason.to_string().trim().is_empty()),
        Placement::Noise(kind) => assert!(!kind.to_string().trim().is_empty()),
        Placement::Comment { .. } | Placement::NewCase { .. } => {}
    }
}

#[test]
fn a_customer_reply_becomes_a_comment_without_its_quote() {
    let tag = sign_case_token(&secret(), CaseId(7)).subject_tag();
    let raw = format!(
        "From: Ann <ann@acme.test>\r\nTo: support@example.com\r\nSubject: Re: {tag} Printer\r\n\
         Message-ID: <r1@acme.test>\r\n\r\nFixed, thanks.\r\n\r\n\
         On Thu, 1 Oct 2026 at 09:30, Support <support@example.com> wrote:\r\n> Restart it.\r\n"
    );
    let (placement, text) = intake(raw.as_bytes());
    assert_eq!(placement, Placement::Comment { case: CaseId(7) });
    assert_eq!(text.unwrap().text, "Fixed, thanks.");
    // Threaded by header instead of token, the same.
    let raw = "From: ann@acme.test\r\nIn-Reply-To: <outbox-1@backline.example.com>\r\n\r\nOk";
    assert_eq!(
        intake(raw.as_bytes()).0,
        Placement::Comment { case: CaseId(7) }
    );
    // A guessed number opens a new case instead; a stranger waits.
    let raw = "From: ann@acme.test\r\nSubject: Re: [#7] Printer\r\n\r\nOk";
    assert_eq!(
        intake(raw.as_bytes()).0,
        Placement::NewCase {
            on_behalf_of: None,
            follow_up_of: None
        }
    );
    let raw = "From: eve@elsewhere.test\r\nIn-Reply-To: <outbox-1@backline.example.com>\r\n\r\nOk";
    assert_eq!(
        intake(raw.as_bytes()).0,
        Placement::Quarantine(QuarantineReason::Held(HoldReason::UnknownSender))
    );
}

/// Pieces of real messages, so random combinations reach deep into the parser.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"From: Ann <ann@acme.test>\r\n".to_vec()),
        Just(b"From: =?utf-8?q?=C3=A9?= <\r\n".to_vec()),
        Just(b"To: support+7-aaaaaaaa@example.com, bob@acme.test\r\n".to_vec()),
        Just(b"Subject: Re: [#7-aaaaaaaa] x\r\n".to_vec()),
        Just(b"Message-ID: <outbox-3@backline.example.com>\r\n".to_vec()),
        Just(b"In-Reply-To: <outbox-1@backline.example.com>\r\n".to_vec()),
        Just(b"References: <a@b> <\r\n".to_vec()),
        Just(b"Auto-Submitted: auto-replied\r\n".to_vec()),
        Just(b"Return-Path: <>\r\n".to_vec()),
        Just(b"Date: Thu, 1 Oct 2026 11:30:00 +0200\r\n".to_vec()),
        Just(
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n".to_vec()
        ),
        Just(b"Content-Type: multipart/mixed; boundary=b\r\n".to_vec()),
        Just(b"Content-Type: message/delivery-status\r\n".to_vec()),
        Just(b"Content-Type: message/rfc822\r\n".to_vec()),
        Just(b"Content-Type: text/html; charset=iso-2022-jp\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: base64\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: quoted-printable\r\n".to_vec()),
        Just(b"Final-Recipient: rfc822; ann@acme.test\r\nAction: failed\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"--b\r\n".to_vec()),
        Just(b"--b--\r\n".to_vec()),
        Just(b"> quoted\r\n-- \r\nOn 1 Oct 2026, Ann wrote:\r\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_are_placed_or_quarantined(raw in prop::collection::vec(any::<u8>(), 0..2_000)) {
        let (placement, _) = intake(&raw);
        assert_reasoned(&placement);
    }

    #[test]
    fn message_shaped_bytes_are_placed_or_quarantined(
        from_first in any::<bool>(),
        pieces in prop::collection::vec(fragment(), 0..30)
    ) {
        // Half the time a sender comes first, so more inputs get past the sender check.
        let start: &[u8] = if from_first { b"From: ann@acme.test\r\n" } else { b"" };
        let raw: Vec<u8> = [start.to_vec(), pieces.concat()].concat();
        let (placement, text) = intake(&raw);
        assert_reasoned(&placement);
        if let Some(text) = text {
            prop_assert!(text.text.len() <= raw.len() * 4 + 16);
        }
        // Parsing the same bytes twice gives the same message, so a re-delivery is a duplicate.
        let once = InboundMessage::parse(&raw, &MailLimits::default());
        let twice = InboundMessage::parse(&raw, &MailLimits::default());
        prop_assert_eq!(
            once.map(|m| m.dedup_key()),
            twice.map(|m| m.dedup_key())
        );
    }
}
