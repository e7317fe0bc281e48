//! `backline bench mail`: mail through the SMTP listener into cases, measured end to end.
//!
//! A server is built in this process the way `serve` builds it (listener, intake worker,
//! notifier, search indexer), with its SMTP listener on a free port. Concurrent SMTP
//! sessions send messages from many senders of a customer's domain; a watcher reads the case
//! list as it grows. It prints messages per second from the first send to the last case
//! visible, and the time from each message's `250` to its case being in the list (p50, p99).
//! Then one 30 MB message goes in, followed at once by small ones: it prints how long the
//! large one took and how long the small ones waited meanwhile.

use anyhow::Context;
use backline_domain::{CaseId, OrgKind, PartnerKinds};
use backline_server::application::{Application, Config as ServerConfig};
use backline_server::smtp_client::SmtpSession;
use backline_store::{NewOrg, Store, StoreConfig};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SUPPORT: &str = "support@bench.example";

pub async fn run(
    database_url: Option<String>,
    messages: usize,
    size: usize,
    clients: usize,
    huge_mb: usize,
    rate: Option<f64>,
) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("backline-bench-mail-{}", std::process::id()));
    let config = match &database_url {
        Some(url) => StoreConfig::from_flags(&temp, Some(url))?,
        None => StoreConfig::Sqlite {
            data_dir: temp.clone(),
        },
    };
    let result = measure(&config, messages, size, clients.max(1), huge_mb, rate).await;
    if database_url.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    result
}

/// When each message was answered 250 and when its case appeared, by message number.
#[derive(Default)]
struct Timeline {
    acked: HashMap<usize, Instant>,
    visible: HashMap<usize, Instant>,
}

async fn measure(
    config: &StoreConfig,
    messages: usize,
    size: usize,
    clients: usize,
    huge_mb: usize,
    rate: Option<f64>,
) -> anyhow::Result<()> {
    let backend = match config {
        StoreConfig::Sqlite { .. } => "sqlite",
        StoreConfig::Postgres { .. } => "postgres",
    };
    let store = Store::open(config)
        .await
        .context("opening the benchmark store")?;
    let suffix = backline_domain::Timestamp::now().as_millis();
    let domain = format!("c{suffix}.example");
    let customer = store
        .create_org(&NewOrg {
            slug: format!("bench-mail-{suffix}"),
            name: "Bench Mail Customer".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: None,
        })
        .await?;
    store
        .set_org_domains(customer.id, std::slice::from_ref(&domain))
        .await?;
    let mut server = ServerConfig::new(store.clone());
    server.listen = "127.0.0.1:0".parse()?;
    server.smtp_listen = Some("127.0.0.1:0".parse()?);
    server.mail_from = SUPPORT.into();
    let app = Application::build(server).await?;
    let smtp = app
        .smtp_address()
        .context("the SMTP listener did not start")?;
    tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    let start_id = store
        .case_ids_after(CaseId(0), i64::MAX)
        .await?
        .last()
        .copied()
        .unwrap_or(CaseId(0));

    let timeline = Arc::new(Mutex::new(Timeline::default()));
    let watcher = tokio::spawn(watch(store.clone(), start_id, timeline.clone()));
    let body = body_of(size);
    let started = Instant::now();
    let mut senders = Vec::new();
    for client in 0..clients {
        let timeline = timeline.clone();
        let body = body.clone();
        let domain = domain.clone();
        senders.push(tokio::spawn(async move {
            let mut session = SmtpSession::connect(smtp).await?;
            for n in (client..messages).step_by(clients) {
                // At a given rate, message n leaves at its time (the clients share the rate).
                if let Some(rate) = rate {
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                // A thousand senders: far under the per-sender limit.
                let from = format!("user{}@{domain}", n % 1000);
                let raw = message(&from, &format!("Bench message {n}"), n, &body);
                let reply = session.send(&from, &[SUPPORT], &raw).await?;
                anyhow::ensure!(reply.starts_with("250"), "message {n}: {reply}");
                timeline.lock().unwrap().acked.insert(n, Instant::now());
            }
            session.quit().await?;
            anyhow::Ok(())
        }));
    }
    for sender in senders {
        sender.await??;
    }
    let sent = started.elapsed();
    wait_visible(&timeline, 0..messages, Duration::from_secs(600)).await?;
    let (ack_to_visible, last) = {
        let t = timeline.lock().unwrap();
        let mut ms: Vec<f64> = (0..messages)
            .map(|n| {
                t.visible[&n]
                    .saturating_duration_since(t.acked[&n])
                    .as_secs_f64()
                    * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let last = (0..messages)
            .map(|n| t.visible[&n])
            .max()
            .unwrap_or(started);
        (ms, last)
    };
    let total = last.duration_since(started);
    println!(
        "backend: {backend}; {messages} messages of {} bytes over {clients} SMTP sessions, {}",
        message(SUPPORT, "x", 0, &body).len(),
        match rate {
            Some(rate) => format!("offered at {rate:.0}/s"),
            None => "as fast as they are taken".into(),
        }
    );
    println!(
        "sent (all answered 250) in {:.2} s; all visible as cases in {:.2} s: {:.0} messages/s",
        sent.as_secs_f64(),
        total.as_secs_f64(),
        messages as f64 / total.as_secs_f64()
    );
    println!(
        "250 to visible in the case list: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        crate::stats::percentile(&ack_to_visible, 0.5),
        crate::stats::percentile(&ack_to_visible, 0.99),
        ack_to_visible.last().copied().unwrap_or(0.0)
    );

    if huge_mb > 0 {
        // One large message, then small ones right behind it on other sessions.
        let file_bytes = huge_mb * 1024 * 1024 * 3 / 4;
        let huge_n = messages;
        let huge = with_file(
            &format!("big@{domain}"),
            &format!("Bench message {huge_n}"),
            file_bytes,
        );
        let small = 20;
        let from = format!("big@{domain}");
        let huge_sent = {
            let timeline = timeline.clone();
            tokio::spawn(async move {
                let mut session = SmtpSession::connect(smtp).await?;
                let began = Instant::now();
                let reply = session.send(&from, &[SUPPORT], &huge).await?;
                anyhow::ensure!(reply.starts_with("250"), "the large message: {reply}");
                timeline
                    .lock()
                    .unwrap()
                    .acked
                    .insert(huge_n, Instant::now());
                session.quit().await?;
                anyhow::Ok(began.elapsed())
            })
        };
        let transfer = huge_sent.await??;
        small_batch(
            smtp,
            &domain,
            &body,
            huge_n + 1..huge_n + 1 + small,
            timeline.clone(),
        )
        .await?;
        wait_visible(
            &timeline,
            huge_n..huge_n + 1 + small,
            Duration::from_secs(600),
        )
        .await?;
        let t = timeline.lock().unwrap();
        let huge_latency = t.visible[&huge_n].duration_since(t.acked[&huge_n]);
        let mut small_ms: Vec<f64> = (huge_n + 1..huge_n + 1 + small)
            .map(|n| {
                t.visible[&n]
                    .saturating_duration_since(t.acked[&n])
                    .as_secs_f64()
                    * 1000.0
            })
            .collect();
        small_ms.sort_by(f64::total_cmp);
        println!(
            "a {huge_mb} MB message: {:.2} s to send, {:.2} s from 250 to visible; {small} small messages sent after it: p50 {:.0} ms, max {:.0} ms from 250 to visible",
            transfer.as_secs_f64(),
            huge_latency.as_secs_f64(),
            crate::stats::percentile(&small_ms, 0.5),
            small_ms.last().copied().unwrap_or(0.0)
        );
    }
    watcher.abort();
    Ok(())
}

async fn small_batch(
    smtp: SocketAddr,
    domain: &str,
    body: &str,
    numbers: std::ops::Range<usize>,
    timeline: Arc<Mutex<Timeline>>,
) -> anyhow::Result<()> {
    let mut session = SmtpSession::connect(smtp).await?;
    for n in numbers {
        let from = format!("user{}@{domain}", n % 1000);
        let raw = message(&from, &format!("Bench message {n}"), n, body);
        let reply = session.send(&from, &[SUPPORT], &raw).await?;
        anyhow::ensure!(reply.starts_with("250"), "message {n}: {reply}");
        timeline.lock().unwrap().acked.insert(n, Instant::now());
    }
    session.quit().await?;
    Ok(())
}

/// Reads new cases as they appear and notes when each bench message's case became visible.
/// Ids are handed out before commit, so on PostgreSQL a lower id can become visible after a
/// higher one: each look goes back a margin behind the highest id seen.
async fn watch(store: Store, start: CaseId, timeline: Arc<Mutex<Timeline>>) {
    let mut seen = std::collections::HashSet::new();
    let mut highest = start.0;
    loop {
        let from = CaseId((highest - 500).max(start.0));
        let ids = store.case_ids_after(from, 1_000).await.unwrap_or_default();
        let mut new = 0;
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            new += 1;
            highest = highest.max(id.0);
            if let Ok(case) = store.case(id).await {
                let at = Instant::now();
                let n = case
                    .subject
                    .strip_prefix("Bench message ")
                    .and_then(|n| n.parse::<usize>().ok());
                if let Some(n) = n {
                    timeline.lock().unwrap().visible.insert(n, at);
                }
            }
        }
        if new == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn wait_visible(
    timeline: &Mutex<Timeline>,
    numbers: std::ops::Range<usize>,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        {
            let t = timeline.lock().unwrap();
            let missing = numbers
                .clone()
                .filter(|n| !t.visible.contains_key(n))
                .count();
            if missing == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{missing} messages did not become cases"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// About `size` bytes of plain text in lines of 70 characters.
fn body_of(size: usize) -> String {
    let line = "The nightly backup job fails on the second node with error 0x80070005.\r\n";
    line.repeat(size / line.len() + 1)
}

/// A message as a customer's mail program sends it (its Message-ID in the sender's domain:
/// one in ours would be taken for our own mail coming back).
fn message(from: &str, subject: &str, n: usize, body: &str) -> Vec<u8> {
    let domain = from.rsplit('@').next().unwrap_or("customer.example");
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <bench-{n}-{}@{domain}>\r\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        std::process::id()
    )
    .into_bytes()
}

/// A message carrying one file of `bytes` bytes, base64-encoded as mail programs send it.
fn with_file(from: &str, subject: &str, bytes: usize) -> Vec<u8> {
    use base64::Engine;
    let content: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&content);
    let mut raw = format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <bench-huge-{}@{}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nThe core dump is attached.\r\n--b\r\n\
         Content-Type: application/octet-stream; name=\"core.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        std::process::id(),
        from.rsplit('@').next().unwrap_or("customer.example")
    )
    .into_bytes();
    for chunk in encoded.as_bytes().chunks(76) {
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--b--\r\n");
    raw
}
