//! Outbound webhooks: which case events are announced, how a delivery is signed and how a
//! receiver checks it, when a failed delivery is tried again, and when a subscription that
//! keeps failing is switched off.
//!
//! The check a receiver makes (also in the README): take the `X-Backline-Timestamp` header
//! (Unix seconds) and the raw body; compute HMAC-SHA256 with the subscription's secret over
//! `{timestamp}.{body}`; compare its lower-case hex, prefixed `sha256=`, with the
//! `X-Backline-Signature` header in constant time; refuse the delivery if they differ or if the
//! timestamp is more than five minutes from the receiver's clock (a replayed old delivery).

use crate::{string_enum, FieldErrors, Span, Timestamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;

string_enum!(
    /// What a subscription can hear of.
    WebhookEvent {
        CaseCreated => "case.created", CaseUpdated => "case.updated",
        CaseSolved => "case.solved", CommentAdded => "comment.added"
    }
);

/// The webhook event a case event is, if any: a public comment, a new case, a case solved, or
/// any other change to a case (one delivery per changed field). Internal notes, routing and
/// knowledge links stay inside. `public` is a comment event's flag, `to` a change's new value.
pub fn event_for(kind: &str, public: Option<bool>, to: Option<&str>) -> Option<WebhookEvent> {
    match kind {
        "created" => Some(WebhookEvent::CaseCreated),
        "comment_added" => (public == Some(true)).then_some(WebhookEvent::CommentAdded),
        "status_changed" if to == Some("solved") => Some(WebhookEvent::CaseSolved),
        "status_changed" | "priority_changed" | "tier_changed" | "assignee_changed"
        | "tags_changed" | "queue_changed" => Some(WebhookEvent::CaseUpdated),
        _ => None,
    }
}

/// How far a delivery's timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn sign(secret: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The timestamp header is not a number.
    BadTimestamp,
    /// Signed too long ago (or ahead): a replay, or a clock far off.
    Stale,
    /// The signature does not match the body and timestamp under the secret.
    BadSignature,
}

/// The receiver's check, as documented above.
pub fn verify(
    secret: &str,
    timestamp_header: &str,
    body: &[u8],
    signature_header: &str,
    now_secs: i64,
) -> Result<(), Refusal> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| Refusal::BadTimestamp)?;
    if (now_secs - timestamp).abs() > TOLERANCE_SECS {
        return Err(Refusal::Stale);
    }
    let expected = sign(secret, timestamp, body);
    let sent = signature_header.trim().as_bytes();
    let same = expected.len() == sent.len()
        && expected
            .as_bytes()
            .iter()
            .zip(sent)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

/// Wait before try `attempt + 1` after `attempt` failed tries: 10 s, doubling, at most an hour.
pub fn retry_delay(attempts: u32) -> Span {
    let doubled = 10_000i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(20));
    Span::from_millis(doubled.min(Span::HOUR.as_millis()))
}

/// A subscription failing (no delivery succeeding) for this long is switched off and its
/// owner told.
pub const DISABLE_AFTER: Span = Span::DAY.times(3);

/// Whether a subscription failing since `since` is to be switched off at `now`.
pub fn should_disable(since: Option<Timestamp>, now: Timestamp) -> bool {
    since.is_some_and(|since| now.since(since) >= DISABLE_AFTER)
}

/// A subscription as asked for, checked: an `http(s)` address and at least one known event.
pub fn parse_subscription(
    url: &str,
    events: &[String],
) -> Result<(String, Vec<WebhookEvent>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 1_000
        || url.chars().any(char::is_whitespace)
    {
        errors.add("url", "must be a web address starting with https://");
    }
    let mut parsed = Vec::new();
    for event in events {
        match WebhookEvent::parse(event.trim()) {
            Ok(e) if !parsed.contains(&e) => parsed.push(e),
            Ok(_) => {}
            Err(_) => errors.add(
                "events",
                format!(
                    "{event:?} is not an event; choose from {}",
                    WebhookEvent::ALL
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    if events.is_empty() {
        errors.add("events", "choose at least one event");
    }
    errors.into_result()?;
    Ok((url.to_string(), parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_events_map_to_webhook_events() {
        use WebhookEvent::*;
        assert_eq!(event_for("created", None, None), Some(CaseCreated));
        assert_eq!(
            event_for("comment_added", Some(true), None),
            Some(CommentAdded)
        );
        assert_eq!(event_for("comment_added", Some(false), None), None);
        assert_eq!(event_for("comment_added", None, None), None);
        assert_eq!(
            event_for("status_changed", None, Some("solved")),
            Some(CaseSolved)
        );
        assert_eq!(
            event_for("status_changed", None, Some("open")),
            Some(CaseUpdated)
        );
        assert_eq!(
            event_for("priority_changed", None, Some("high")),
            Some(CaseUpdated)
        );
        assert_eq!(event_for("routed", None, None), None);
        assert_eq!(event_for("linked", None, None), None);
    }

    #[test]
    fn signatures_follow_the_documented_recipe() {
        // HMAC-SHA256 of "1700000000.{}" under "key", worked out with
        // `printf '1700000000.{}' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            sign("key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        let signature = sign("s3cret", 1_000, b"body");
        assert_eq!(verify("s3cret", "1000", b"body", &signature, 1_000), Ok(()));
        assert_eq!(
            verify(
                "s3cret",
                "1000",
                b"body",
                &signature,
                1_000 + TOLERANCE_SECS
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                "s3cret",
                "1000",
                b"body",
                &signature,
                1_000 + TOLERANCE_SECS + 1
            ),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(
                "s3cret",
                "1000",
                b"body",
                &signature,
                1_000 - TOLERANCE_SECS - 1
            ),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify("other", "1000", b"body", &signature, 1_000),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify("s3cret", "1000", b"bodx", &signature, 1_000),
            Err(Refusal::BadSignature)
        );
        // Moving the timestamp to make an old delivery look fresh breaks the signature.
        assert_eq!(
            verify("s3cret", "1200", b"body", &signature, 1_200),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify("s3cret", "soon", b"body", &signature, 1_000),
            Err(Refusal::BadTimestamp)
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(1), Span::from_millis(10_000));
        assert_eq!(retry_delay(2), Span::from_millis(20_000));
        assert_eq!(retry_delay(3), Span::from_millis(40_000));
        assert_eq!(retry_delay(9), Span::from_millis(2_560_000));
        assert_eq!(retry_delay(10), Span::HOUR);
        assert_eq!(retry_delay(60), Span::HOUR);
    }

    #[test]
    fn subscriptions_failing_for_three_days_are_switched_off() {
        let since = Timestamp::from_millis(0);
        assert!(!should_disable(None, Timestamp::from_millis(i64::MAX / 2)));
        assert!(!should_disable(
            Some(since),
            since.plus(DISABLE_AFTER).minus(Span::SECOND)
        ));
        assert!(should_disable(Some(since), since.plus(DISABLE_AFTER)));
    }

    #[test]
    fn subscriptions_are_checked() {
        let (url, events) = parse_subscription(
            " https://hooks.example/in ",
            &[
                "case.created".into(),
                "case.created".into(),
                "comment.added".into(),
            ],
        )
        .unwrap();
        assert_eq!(url, "https://hooks.example/in");
        assert_eq!(
            events,
            vec![WebhookEvent::CaseCreated, WebhookEvent::CommentAdded]
        );
        let errors = parse_subscription("ftp://x", &["case.exploded".into()]).unwrap_err();
        assert!(errors.0.contains_key("url") && errors.0.contains_key("events"));
        assert!(parse_subscription("https://x.example", &[])
            .unwrap_err()
            .0
            .contains_key("events"));
    }
}
