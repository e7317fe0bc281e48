//! The mail worker: sends what the outbox holds, through SMTP, with retries and backoff.
//!
//! Rows are claimed for a minute before sending (on PostgreSQL with `SKIP LOCKED`), so with
//! several nodes each message goes out from one of them; a row is marked sent as soon as the
//! SMTP server accepts it. A node that dies mid-send leaves its claim to lapse and the message
//! is sent after that by whichever node is running.

use super::MailContext;
use backline_domain::mail::{outgoing_headers, OutgoingKind, OutgoingMail, UnsubscribeLink};
use backline_domain::{sign_case_token, MessageId, Span, Timestamp};
use backline_store::crisis::OutboxMail;
use backline_store::Store;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

const BATCH: i64 = 20;
const LEASE: Span = Span::MINUTE;
const MAX_ATTEMPTS: i64 = 8;

/// Where mail goes: `smtp://host:port` (plain SMTP, as to a local relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    pub host: String,
    pub port: u16,
}

impl SmtpTarget {
    pub fn parse(url: &str) -> Result<SmtpTarget, String> {
        let rest = url
            .trim()
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("{url:?}: the SMTP URL must look like smtp://host:port"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("{url:?}: {port:?} is not a port number"))?,
            ),
            None => (rest, 25),
        };
        if host.is_empty() {
            return Err(format!("{url:?}: no host"));
        }
        Ok(SmtpTarget {
            host: host.to_string(),
            port,
        })
    }
}

/// Starts the worker. Without a target, mail waits in the outbox (and `/metrics` says so) and
/// no task is started.
pub fn start(
    store: Store,
    target: Option<SmtpTarget>,
    mail: Arc<MailContext>,
) -> Option<JoinHandle<()>> {
    let Some(target) = target else {
        tracing::warn!("no --smtp-url: outgoing email waits in the outbox");
        return None;
    };
    Some(tokio::spawn(async move {
        let transport: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&target.host)
                .port(target.port)
                .timeout(Some(Duration::from_secs(20)))
                .build();
        loop {
            match store.claim_mails(BATCH, LEASE).await {
                Ok(batch) if !batch.is_empty() => {
                    let span = tracing::info_span!("mail_batch", mails = batch.len());
                    async {
                        let started = std::time::Instant::now();
                        for outgoing in batch {
                            send_one(&store, &transport, &mail, outgoing).await;
                        }
                        tracing::debug!(
                            ms = started.elapsed().as_secs_f64() * 1000.0,
                            "mail batch done"
                        );
                    }
                    .instrument(span)
                    .await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming mail failed"),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }))
}

/// The message for one outbox row: case mail carries the case's threading headers and its
/// signed token (so the answer finds its case); every message carries a stable Message-ID and
/// the headers that keep auto-responders from answering.
pub async fn build_message(
    store: &Store,
    mail: &MailContext,
    outgoing: &OutboxMail,
) -> Result<Message, String> {
    let own_id = MessageId::for_outbox(outgoing.id, &mail.identity.message_id_domain);
    // Mail to a status-page subscriber is subscription mail, whatever its incident kind.
    let unsubscribe = outgoing
        .unsubscribe()
        .map(|url| UnsubscribeLink::parse(&url))
        .transpose()
        .map_err(|e| e.0)?;
    let kind = match (&unsubscribe, OutgoingKind::parse(&outgoing.kind)) {
        (Some(_), _) => OutgoingKind::Subscription,
        (None, Ok(kind)) => kind,
        (None, Err(_)) => OutgoingKind::AgentNotification,
    };
    let (thread, token) = match outgoing.case_id {
        Some(case) => {
            let (received, sent) = store
                .case_thread(case, &outgoing.recipient, outgoing.id)
                .await
                .map_err(|e| e.to_string())?;
            let thread: Vec<MessageId> = received
                .iter()
                .filter_map(|k| MessageId::parse(k).ok())
                .chain(
                    sent.iter()
                        .map(|id| MessageId::for_outbox(*id, &mail.identity.message_id_domain)),
                )
                .collect();
            (thread, Some(sign_case_token(&mail.secret, case)))
        }
        None => (Vec::new(), None),
    };
    let headers = outgoing_headers(&OutgoingMail {
        kind,
        message_id: &own_id,
        thread: &thread,
        token: token.as_ref(),
        reply_mailbox: &mail.reply_mailbox,
        subject: &outgoing.subject,
        unsubscribe: unsubscribe.as_ref(),
    })
    .map_err(|e| e.0)?;
    let from: lettre::message::Mailbox = mail
        .from
        .parse()
        .map_err(|e| format!("the sender address {:?}: {e}", mail.from))?;
    let to: lettre::message::Mailbox = outgoing
        .recipient
        .parse()
        .map_err(|e| format!("bad recipient: {e}"))?;
    let mut builder = Message::builder().from(from).to(to);
    for (name, value) in headers.fields() {
        builder = match name {
            "Message-ID" => builder.message_id(Some(value)),
            "Subject" => builder.subject(value),
            "In-Reply-To" => builder.in_reply_to(value),
            "References" => builder.references(value),
            "Reply-To" => builder.reply_to(value.parse().map_err(|e| format!("reply-to: {e}"))?),
            other => builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(other),
                value,
            )),
        };
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(outgoing.body.clone())
        .map_err(|e| format!("unbuildable: {e}"))
}

async fn send_one(
    store: &Store,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    mail: &MailContext,
    outgoing: OutboxMail,
) {
    let message = match build_message(store, mail, &outgoing).await {
        Ok(m) => m,
        Err(e) => {
            let _ = store.mail_failed(outgoing.id, &e, None).await;
            return;
        }
    };
    match transport.send(message).await {
        Ok(_) => {
            if let Err(e) = store.mail_sent(outgoing.id).await {
                tracing::error!(error = %e, id = outgoing.id, "mail sent but not marked; it may be sent again");
            }
        }
        Err(e) => {
            let retry_at = (outgoing.attempts < MAX_ATTEMPTS)
                .then(|| Timestamp::now().plus(backoff(outgoing.attempts)));
            tracing::warn!(error = %e, id = outgoing.id, attempts = outgoing.attempts, "sending mail failed");
            let _ = store
                .mail_failed(outgoing.id, &e.to_string(), retry_at)
                .await;
        }
    }
}

/// 1 s, 2 s, 4 s... at most 5 minutes between attempts.
pub fn backoff(attempts: i64) -> Span {
    Span::from_millis((1_000_i64 << attempts.clamp(0, 20)).min(300_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_read_strictly() {
        assert_eq!(
            SmtpTarget::parse("smtp://127.0.0.1:2525").unwrap(),
            SmtpTarget {
                host: "127.0.0.1".into(),
                port: 2525
            }
        );
        assert_eq!(SmtpTarget::parse("smtp://mail.example").unwrap().port, 25);
        assert!(SmtpTarget::parse("http://x:25").is_err());
        assert!(SmtpTarget::parse("smtp://x:port").is_err());
        assert!(SmtpTarget::parse("smtp://:25").is_err());
    }

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        assert_eq!(backoff(0), Span::SECOND);
        assert_eq!(backoff(3), Span::from_millis(8_000));
        assert_eq!(backoff(12), Span::minutes(5).unwrap());
    }
}
