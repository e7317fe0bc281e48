//! The IMAP poller: reads the mailboxes an admin added (`backline mailbox add`), stores each
//! new message raw, and only then marks it seen on the server and records how far it has
//! read, so a crash in between reads a message twice (and intake's Message-ID check keeps it
//! once) but never loses one. Where the server offers IDLE, it waits for new mail there
//! instead of polling.

use crate::AppState;
use backline_domain::mail::MailSource;
use backline_store::mail::Mailbox;
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Messages fetched per round, so one huge mailbox is read in steps.
const PER_ROUND: usize = 50;
/// How long one IDLE lasts before it is renewed (servers drop it after 30 minutes).
const IDLE_FOR: Duration = Duration::from_secs(20 * 60);

/// Where a mailbox is: `imap[s]://user@host[:port]/MAILBOX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub tls: bool,
    pub user: String,
    pub host: String,
    pub port: u16,
    pub mailbox: String,
}

impl ImapUrl {
    pub fn parse(url: &str) -> Result<ImapUrl, String> {
        let url = url.trim();
        let (tls, rest) = if let Some(rest) = url.strip_prefix("imaps://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("imap://") {
            (false, rest)
        } else {
            return Err(format!(
                "{url:?}: a mailbox URL looks like imaps://user@host/INBOX (or imap:// on a trusted network)"
            ));
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| format!("{url:?}: name the user, as in imaps://user@host/INBOX"))?;
        let user = percent_decode(user).map_err(|e| format!("{url:?}: {e}"))?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("{url:?}: {port:?} is not a port number"))?,
            ),
            None => (hostport, if tls { 993 } else { 143 }),
        };
        if user.is_empty() || host.is_empty() {
            return Err(format!("{url:?}: the user and the host are both needed"));
        }
        let mailbox =
            percent_decode(path.trim_end_matches('/')).map_err(|e| format!("{url:?}: {e}"))?;
        Ok(ImapUrl {
            tls,
            user,
            host: host.to_string(),
            port,
            mailbox: if mailbox.is_empty() {
                "INBOX".into()
            } else {
                mailbox
            },
        })
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .ok_or("a % must be followed by two hex digits")?;
            out.push(
                u8::from_str_radix(hex, 16)
                    .map_err(|_| "a % must be followed by two hex digits")?,
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the URL decodes to invalid UTF-8".to_string())
}

/// Starts the poller: one task per configured mailbox, the list looked at again every
/// `every` (mailboxes added or removed while running are picked up).
pub fn start(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: HashMap<i64, (String, JoinHandle<()>)> = HashMap::new();
        loop {
            match state.store.mailboxes().await {
                Ok(boxes) => {
                    running.retain(|id, (url, task)| {
                        let keep = boxes.iter().any(|b| b.id == *id && &b.url == url);
                        if !keep {
                            task.abort();
                        }
                        keep
                    });
                    for mailbox in boxes {
                        running.entry(mailbox.id).or_insert_with(|| {
                            let url = mailbox.url.clone();
                            (url, tokio::spawn(watch(state.clone(), mailbox, every)))
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the mailboxes to poll failed"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Reads one mailbox for as long as it is configured: a round, then IDLE or a pause.
async fn watch(state: AppState, mailbox: Mailbox, every: Duration) {
    let mut backoff = every;
    loop {
        match round(&state, &mailbox, every).await {
            Ok(()) => backoff = every,
            Err(e) => {
                tracing::warn!(mailbox = %mailbox.url, error = %e, "polling a mailbox failed");
                let _ = state.store.mailbox_failed(mailbox.id, &e).await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(600));
            }
        }
    }
}

/// One connection: reads everything new, then waits for more (IDLE, or `every`).
async fn round(state: &AppState, mailbox: &Mailbox, every: Duration) -> Result<(), String> {
    let url = ImapUrl::parse(&mailbox.url)?;
    let stream = connect(&url).await?;
    let mut client = async_imap::Client::new(stream);
    // The server's greeting comes first.
    client
        .read_response()
        .await
        .map_err(|e| format!("no greeting: {e}"))?
        .ok_or("the server closed the connection at once")?;
    let mut session = client
        .login(&url.user, &mailbox.password)
        .await
        .map_err(|(e, _)| format!("signing in as {} failed: {e}", url.user))?;
    let selected = session
        .select(&url.mailbox)
        .await
        .map_err(|e| format!("opening {} failed: {e}", url.mailbox))?;
    let validity = i64::from(selected.uid_validity.unwrap_or(0));
    // Stored progress is read fresh each round: another node may have moved it.
    let current = state
        .store
        .mailboxes()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|b| b.id == mailbox.id)
        .ok_or("the mailbox was removed")?;
    let mut last = if current.uid_validity == Some(validity) {
        current.last_uid
    } else {
        // New UIDs: read everything again; what was stored before is kept once by intake.
        0
    };
    loop {
        let found = session
            .uid_search(format!("UID {}:*", last + 1))
            .await
            .map_err(|e| format!("searching {} failed: {e}", url.mailbox))?;
        // `n:*` always names the newest message, even below n.
        let mut uids: Vec<u32> = found.into_iter().filter(|u| i64::from(*u) > last).collect();
        uids.sort_unstable();
        uids.truncate(PER_ROUND);
        if uids.is_empty() {
            break;
        }
        for uid in uids {
            let raw = {
                let fetches: Vec<_> = session
                    .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                    .await
                    .map_err(|e| format!("fetching message {uid} failed: {e}"))?
                    .try_collect()
                    .await
                    .map_err(|e| format!("fetching message {uid} failed: {e}"))?;
                fetches
                    .iter()
                    .find_map(|f| f.body().map(<[u8]>::to_vec))
                    .unwrap_or_default()
            };
            if !raw.is_empty() {
                let to = vec![format!("{}@{}", url.user, url.host)];
                state
                    .store
                    .receive_mail(MailSource::Imap, None, &to, &raw)
                    .await
                    .map_err(|e| format!("storing message {uid} failed: {e}"))?;
                state.mail.wake();
            }
            // Stored: now the server may be told, and the place moved on.
            let _: Vec<_> = session
                .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
                .await
                .map_err(|e| format!("marking message {uid} seen failed: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("marking message {uid} seen failed: {e}"))?;
            last = i64::from(uid);
            state
                .store
                .mailbox_progress(mailbox.id, validity, last, None)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    state
        .store
        .mailbox_progress(mailbox.id, validity, last, None)
        .await
        .map_err(|e| e.to_string())?;
    let idle = session
        .capabilities()
        .await
        .map(|c| c.has_str("IDLE"))
        .unwrap_or(false);
    if idle {
        let mut handle = session.idle();
        handle
            .init()
            .await
            .map_err(|e| format!("IDLE failed: {e}"))?;
        let (wait, _stop) = handle.wait_with_timeout(IDLE_FOR);
        wait.await.map_err(|e| format!("IDLE failed: {e}"))?;
        let mut session = handle
            .done()
            .await
            .map_err(|e| format!("ending IDLE failed: {e}"))?;
        let _ = session.logout().await;
    } else {
        let _ = session.logout().await;
        tokio::time::sleep(every).await;
    }
    Ok(())
}

async fn connect(url: &ImapUrl) -> Result<ImapStream, String> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| format!("{}:{} does not answer", url.host, url.port))?
    .map_err(|e| format!("connecting to {}:{} failed: {e}", url.host, url.port))?;
    if !url.tls {
        return Ok(ImapStream::Plain(tcp));
    }
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| format!("{}: {e}", url.host))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {} failed: {e}", url.host))?;
    Ok(ImapStream::Tls(Box::new(tls)))
}

/// A connection to an IMAP server, with or without TLS.
#[derive(Debug)]
enum ImapStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_urls_are_read_strictly() {
        assert_eq!(
            ImapUrl::parse("imaps://support%40acme.test@mail.acme.test/Support%20Inbox").unwrap(),
            ImapUrl {
                tls: true,
                user: "support@acme.test".into(),
                host: "mail.acme.test".into(),
                port: 993,
                mailbox: "Support Inbox".into(),
            }
        );
        let plain = ImapUrl::parse("imap://help@127.0.0.1:1143").unwrap();
        assert_eq!(
            (plain.tls, plain.port, plain.mailbox.as_str()),
            (false, 1143, "INBOX")
        );
        assert!(ImapUrl::parse("pop3://a@b").is_err());
        assert!(ImapUrl::parse("imaps://mail.acme.test/INBOX").is_err());
        assert!(ImapUrl::parse("imaps://a@b:x/INBOX").is_err());
    }
}
