//! The SMTP listener (`serve --smtp-listen ADDR`): takes mail for the domains it accepts for
//! and stores each message raw, answering `250` only after the store has committed it, so a
//! message acknowledged is a message kept (a crash right after loses nothing; one before makes
//! the sender try again). Placing happens afterwards, in `intake`.
//!
//! It speaks plain ESMTP (RFC 5321) with `SIZE`, `8BITMIME` and `PIPELINING`. It is the last
//! hop for its domains, not a relay: recipients elsewhere are refused. TLS and
//! authentication are for the MTA in front of it, if mail comes from the open internet.

use crate::AppState;
use backline_domain::mail::MailSource;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Longest command line accepted (RFC 5321 asks for 512; extensions make them longer).
const MAX_LINE: u64 = 4096;
/// How long a client may stay silent.
const IDLE: Duration = Duration::from_secs(300);
/// Connections served at once; more wait for a free slot.
const MAX_CONNECTIONS: usize = 128;
/// Recipients per message.
const MAX_RECIPIENTS: usize = 100;

/// What the listener accepts mail for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpPolicy {
    /// Domains (lower case) whose addresses it takes mail for.
    pub domains: Vec<String>,
    /// The name it greets with.
    pub hostname: String,
}

/// Binds `address` and serves until the task is aborted.
pub async fn start(
    state: AppState,
    address: SocketAddr,
    policy: SmtpPolicy,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("--smtp-listen {address}: {e}"))?;
    let bound = listener.local_addr()?;
    let policy = Arc::new(policy);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (socket, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting an SMTP connection failed");
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            let state = state.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let (read, write) = socket.into_split();
                if let Err(e) = session(&state, &policy, BufReader::new(read), write).await {
                    tracing::debug!(%peer, error = %e, "SMTP session ended");
                }
            });
        }
    });
    tracing::info!(address = %bound, "SMTP listener ready");
    Ok((bound, task))
}

/// The envelope of the message being received.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn session<R, W>(
    state: &AppState,
    policy: &SmtpPolicy,
    mut reader: BufReader<R>,
    mut writer: W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let limit = state.mail.limits.max_message_bytes;
    let host = &policy.hostname;
    reply(&mut writer, &format!("220 {host} Backline ESMTP ready")).await?;
    let mut envelope = Envelope::default();
    let mut greeted = false;
    loop {
        let Some(line) = read_line(&mut reader).await? else {
            return Ok(());
        };
        let Ok(line) = String::from_utf8(line) else {
            reply(&mut writer, "500 5.5.2 command not understood").await?;
            continue;
        };
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                envelope = Envelope::default();
                let text = format!(
                    "250-{host} greets you\r\n250-SIZE {limit}\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES"
                );
                reply(&mut writer, &text).await?;
            }
            "HELO" => {
                greeted = true;
                envelope = Envelope::default();
                reply(&mut writer, &format!("250 {host}")).await?;
            }
            "MAIL" if !greeted => reply(&mut writer, "503 5.5.1 say EHLO first").await?,
            "MAIL" => {
                match path_after(rest, "FROM:") {
                    Some((from, params)) => {
                        if declared_size(params).is_some_and(|size| size > limit) {
                            reply(&mut writer, &format!("552 5.3.4 the message is larger than the {limit} bytes accepted")).await?;
                        } else {
                            envelope = Envelope {
                                from: Some(from),
                                to: Vec::new(),
                            };
                            reply(&mut writer, "250 2.1.0 sender ok").await?;
                        }
                    }
                    None => reply(&mut writer, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
                }
            }
            "RCPT" if envelope.from.is_none() => {
                reply(&mut writer, "503 5.5.1 MAIL FROM first").await?
            }
            "RCPT" => match path_after(rest, "TO:") {
                Some(_) if envelope.to.len() >= MAX_RECIPIENTS => {
                    reply(&mut writer, "452 4.5.3 too many recipients").await?
                }
                Some((to, _)) if accepts(policy, &to) => {
                    envelope.to.push(to.to_lowercase());
                    reply(&mut writer, "250 2.1.5 recipient ok").await?;
                }
                Some(_) => {
                    reply(
                        &mut writer,
                        "550 5.7.1 no mail for that address is accepted here",
                    )
                    .await?
                }
                None => reply(&mut writer, "501 5.5.4 syntax: RCPT TO:<address>").await?,
            },
            "DATA" if envelope.to.is_empty() => {
                reply(&mut writer, "503 5.5.1 RCPT TO first").await?
            }
            "DATA" => {
                reply(&mut writer, "354 end data with <CR><LF>.<CR><LF>").await?;
                let Some(body) = read_data(&mut reader, limit).await? else {
                    reply(
                        &mut writer,
                        &format!("552 5.3.4 the message is larger than the {limit} bytes accepted"),
                    )
                    .await?;
                    envelope = Envelope::default();
                    continue;
                };
                let from = envelope.from.take().unwrap_or_default();
                let raw = with_trace_headers(&from, &envelope.to, &body);
                match state
                    .store
                    .receive_mail(MailSource::Smtp, Some(&from), &envelope.to, &raw)
                    .await
                {
                    Ok(id) => {
                        state.mail.wake();
                        reply(&mut writer, &format!("250 2.0.0 stored as message {id}")).await?;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "storing received mail failed");
                        reply(
                            &mut writer,
                            "451 4.3.0 could not store the message; try again later",
                        )
                        .await?;
                    }
                }
                envelope = Envelope::default();
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut writer, "250 2.0.0 ok").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 ok").await?,
            "VRFY" => reply(&mut writer, "252 2.1.5 send some mail and see").await?,
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(&mut writer, "502 5.5.2 command not implemented").await?,
        }
    }
}

/// One reply, in one write: split in two, Nagle's algorithm and the client's delayed ACK
/// would hold every reply back by tens of milliseconds.
async fn reply<W: AsyncWrite + Unpin>(writer: &mut W, text: &str) -> std::io::Result<()> {
    writer.write_all(format!("{text}\r\n").as_bytes()).await?;
    writer.flush().await
}

/// One command line, at most `MAX_LINE` bytes; `None` when the client hung up or fell silent.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = tokio::time::timeout(
        IDLE,
        (&mut *reader).take(MAX_LINE).read_until(b'\n', &mut line),
    )
    .await;
    match read {
        Err(_) | Ok(Ok(0)) => Ok(None),
        Ok(Ok(_)) => Ok(Some(line)),
        Ok(Err(e)) => Err(e),
    }
}

/// The message after DATA, dot-unstuffed, up to the lone dot. `None` when it exceeds `limit`
/// (the rest is read and dropped, so the session can go on).
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Lines are read in bounded pieces: a line with no end cannot take all memory.
        let n = tokio::time::timeout(
            IDLE,
            (&mut *reader).take(64 * 1024).read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "silent during DATA"))??;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "hung up during DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let content = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            &line[..]
        };
        if body.len() + content.len() > limit {
            too_large = true;
        }
        if !too_large {
            body.extend_from_slice(content);
        }
    }
    Ok((!too_large).then_some(body))
}

/// `FROM:<a@b> SIZE=10` → (`a@b`, `SIZE=10`). The null sender `<>` (bounces) is `""`.
fn path_after<'a>(rest: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let rest = rest.trim_start();
    if rest.len() < keyword.len() || !rest[..keyword.len()].eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let close = inner.find('>')?;
    let address = inner[..close].trim();
    // A source route (`<@relay:user@host>`) names the address after the colon.
    let address = address.rsplit_once(':').map_or(address, |(_, a)| a);
    Some((address.to_string(), inner[close + 1..].trim()))
}

fn declared_size(params: &str) -> Option<usize> {
    params
        .split_whitespace()
        .find_map(|p| {
            p.get(..5)
                .filter(|k| k.eq_ignore_ascii_case("SIZE="))
                .map(|_| &p[5..])
        })
        .and_then(|n| n.parse().ok())
}

fn accepts(policy: &SmtpPolicy, address: &str) -> bool {
    address.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && policy
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    })
}

/// The header lines a final delivery adds (RFC 5321 §4.4): `Return-Path` with the envelope
/// sender (empty for bounces, which is how they are known), and `Delivered-To` for each
/// recipient (where a Bcc or forward actually went, and where a reply address's token is).
fn with_trace_headers(from: &str, to: &[String], body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(body.len() + 128);
    raw.extend_from_slice(format!("Return-Path: <{from}>\r\n").as_bytes());
    for rcpt in to {
        raw.extend_from_slice(format!("Delivered-To: {rcpt}\r\n").as_bytes());
    }
    raw.extend_from_slice(body);
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_paths_are_read_as_written() {
        assert_eq!(
            path_after("FROM:<Ann@Acme.test> SIZE=2048", "FROM:"),
            Some(("Ann@Acme.test".into(), "SIZE=2048"))
        );
        assert_eq!(path_after("from: <>", "FROM:"), Some((String::new(), "")));
        assert_eq!(
            path_after("TO:<@relay.test:bob@x.test>", "TO:"),
            Some(("bob@x.test".into(), ""))
        );
        assert_eq!(path_after("TO:bob@x.test", "TO:"), None);
        assert_eq!(declared_size("BODY=8BITMIME size=99"), Some(99));
        assert_eq!(declared_size("BODY=8BITMIME"), None);
    }

    #[test]
    fn only_the_accepted_domains_get_mail() {
        let policy = SmtpPolicy {
            domains: vec!["support.example.com".into()],
            hostname: "mx".into(),
        };
        assert!(accepts(&policy, "help+7-abc@Support.Example.com"));
        assert!(!accepts(&policy, "help@example.com"));
        assert!(!accepts(&policy, "@support.example.com"));
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_bounded() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nend\r\n.\r\nNEXT";
        let mut reader = BufReader::new(input);
        let body = read_data(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(body, b"Subject: x\r\n\r\n.leading dot\r\nend\r\n");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "NEXT", "the session goes on after the message");
        let mut reader = BufReader::new(input);
        assert!(read_data(&mut reader, 10).await.unwrap().is_none());
    }
}
