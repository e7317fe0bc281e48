//! Outbound webhooks: which case, incident and partner events are announced (and what their
//! payloads hold), how a delivery is signed and how a receiver checks it, when a failed
//! delivery is tried again, and when a subscription that keeps failing is switched off.
//!
//! The check a receiver makes (also in the README): take the `X-Backline-Timestamp` header
//! (Unix seconds) and the raw body; compute HMAC-SHA256 with the subscription's secret over
//! `{timestamp}.{body}`; compare its lower-case hex, prefixed `sha256=`, with the
//! `X-Backline-Signature` header in constant time; refuse the delivery if they differ or if the
//! timestamp is more than five minutes from the receiver's clock (a replayed old delivery).

use crate::{string_enum, FieldErrors, Span, Timestamp};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

string_enum!(
    /// What a subscription can hear of. Case events come from the case audit trail; the
    /// others are appended by their feature in the transaction of the change they announce.
    WebhookEvent {
        CaseCreated => "case.created", CaseUpdated => "case.updated",
        CaseSolved => "case.solved", CommentAdded => "comment.added",
        IncidentDeclared => "incident.declared", IncidentUpdated => "incident.updated",
        IncidentResolved => "incident.resolved", PartnerAlert => "partner.alert",
        CommunityQuestionAsked => "community.question_asked"
    }
);

/// The event name of a test delivery an admin sends by hand: never subscribed to, always
/// delivered to the one subscription it was sent for.
pub const PING: &str = "ping";

impl WebhookEvent {
    /// The event in words, for the admin's checkboxes.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::CaseCreated => "A case is created",
            WebhookEvent::CaseUpdated => {
                "A case changes (status, priority, tier, assignee, tags, queue)"
            }
            WebhookEvent::CaseSolved => "A case is solved",
            WebhookEvent::CommentAdded => "A public reply is added to a case",
            WebhookEvent::IncidentDeclared => "An incident is declared",
            WebhookEvent::IncidentUpdated => "An incident's public update is posted",
            WebhookEvent::IncidentResolved => "An incident is resolved",
            WebhookEvent::PartnerAlert => "A partner relationship alert is raised",
            WebhookEvent::CommunityQuestionAsked => "A community question is asked",
        }
    }
}

/// The webhook event an incident timeline entry is, if any. Only what the public status page
/// shows is announced: drills (`dry_run`) and dismissed signals (not `public`) stay inside,
/// and so do reminders and other internal entries.
pub fn incident_event_for(
    timeline_kind: &str,
    public: bool,
    dry_run: bool,
) -> Option<WebhookEvent> {
    if !public || dry_run {
        return None;
    }
    match timeline_kind {
        "declared" => Some(WebhookEvent::IncidentDeclared),
        "update" => Some(WebhookEvent::IncidentUpdated),
        "resolved" => Some(WebhookEvent::IncidentResolved),
        _ => None,
    }
}

/// Where an incident is on the public status page, as a path on the site.
pub fn incident_status_path(incident_id: i64) -> String {
    format!("/status#incident-{incident_id}")
}

/// A service an incident affects, as announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnouncedService {
    pub slug: String,
    pub name: String,
}

/// The `data` of `incident.declared`, `incident.updated` and `incident.resolved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentData {
    pub incident_id: i64,
    pub title: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`, after the change.
    pub state: String,
    /// `minor`, `major` or `critical`.
    pub impact: String,
    pub services: Vec<AnnouncedService>,
    /// The message posted with the declaration or update.
    pub message: String,
    /// The incident on the public status page (a path on the site).
    pub status_page: String,
}

/// The `data` of `partner.alert`: one relationship alert newly raised for a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerAlertData {
    pub partner_id: i64,
    pub partner_name: String,
    pub partner_slug: String,
    /// `invalid_escalations`, `certified_below_minimum` or `certificate_expiring`.
    pub alert: String,
    pub message: String,
    /// The partner's page (a path on the site, for staff).
    pub partner_page: String,
}

/// Why a subscription is switched off, in words, when deliveries kept failing.
pub fn failing_reason(last_answer: Option<i64>, last_error: Option<&str>) -> String {
    let answer = match (last_answer, last_error) {
        (Some(code), _) => format!("the last answer was HTTP {code}"),
        (None, Some(error)) if !error.trim().is_empty() => {
            format!("the last try failed: {}", error.trim())
        }
        (None, _) => "the receiver could not be reached".to_string(),
    };
    format!(
        "no delivery succeeded for {} days; {answer}",
        DISABLE_AFTER.whole_days()
    )
}

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
    fn only_public_incident_news_is_announced() {
        use WebhookEvent::*;
        assert_eq!(
            incident_event_for("declared", true, false),
            Some(IncidentDeclared)
        );
        assert_eq!(
            incident_event_for("update", true, false),
            Some(IncidentUpdated)
        );
        assert_eq!(
            incident_event_for("resolved", true, false),
            Some(IncidentResolved)
        );
        // A drill and a dismissed signal are not news for the outside.
        assert_eq!(incident_event_for("declared", true, true), None);
        assert_eq!(incident_event_for("resolved", false, false), None);
        assert_eq!(incident_event_for("dismissed", false, false), None);
        // Internal timeline entries are not either.
        assert_eq!(incident_event_for("long_resolution", true, false), None);
        assert_eq!(incident_event_for("reminded", true, false), None);
        assert_eq!(incident_status_path(42), "/status#incident-42");
    }

    #[test]
    fn every_event_has_words_and_a_name_that_parses_back() {
        assert_eq!(WebhookEvent::ALL.len(), 9);
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Ok(*e));
            assert!(!e.label().is_empty());
        }
        assert_eq!(
            WebhookEvent::parse("community.question_asked"),
            Ok(WebhookEvent::CommunityQuestionAsked)
        );
        // A ping is sent by hand, never subscribed to.
        assert!(WebhookEvent::parse(PING).is_err());
    }

    #[test]
    fn switched_off_subscriptions_say_why() {
        assert_eq!(
            failing_reason(Some(503), None),
            "no delivery succeeded for 3 days; the last answer was HTTP 503"
        );
        assert_eq!(
            failing_reason(None, Some(" connection refused ")),
            "no delivery succeeded for 3 days; the last try failed: connection refused"
        );
        assert_eq!(
            failing_reason(None, None),
            "no delivery succeeded for 3 days; the receiver could not be reached"
        );
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
