//! Mail from an IMAP mailbox, against a real IMAP server (Dovecot, started by `scripts/test`
//! with `scripts/dovecot`): the poller stores each message, marks it seen only after that,
//! and picks up mail that arrives while it waits in IDLE.

mod common;

use backline_domain::mail::InboundState;
use common::{Backend, Options, TestApp};
use futures_util::TryStreamExt;
use std::time::Duration;

on_both_backends!(mail_in_a_mailbox_becomes_cases_and_is_marked_seen_after_storing);

/// The server `scripts/dovecot` started: its URL (`imap://user@host:port/INBOX`) and password.
fn imap_server() -> (String, String) {
    let url = std::env::var("BACKLINE_TEST_IMAP_URL").unwrap_or_else(|_| {
        panic!("BACKLINE_TEST_IMAP_URL is not set: run the suite with scripts/test, which starts a private Dovecot")
    });
    let password =
        std::env::var("BACKLINE_TEST_IMAP_PASSWORD").expect("BACKLINE_TEST_IMAP_PASSWORD");
    (url, password)
}

type Session = async_imap::Session<tokio::net::TcpStream>;

/// Signs in as a mail client would.
async fn client(url: &str, password: &str) -> Session {
    let parsed = backline_server::mail::imap::ImapUrl::parse(url).unwrap();
    let tcp = tokio::net::TcpStream::connect((parsed.host.as_str(), parsed.port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    client
        .login(&parsed.user, password)
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

fn message(from: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@vendor.example\r\nSubject: {subject}\r\n{extra}\r\n{body}\r\n"
    )
}

async fn mail_in_a_mailbox_becomes_cases_and_is_marked_seen_after_storing(backend: Backend) {
    let (base, password) = imap_server();
    // A folder of its own, so tests running side by side do not share mail.
    let folder = format!("t{}", rand::random::<u32>());
    let url = format!("{}/{folder}", base.trim_end_matches("/INBOX"));
    let mut imap = client(&base, &password).await;
    imap.create(&folder).await.unwrap();
    imap.append(
        &folder,
        None,
        None,
        message(
            "user@initech.example",
            "From the mailbox",
            "Message-ID: <m1@initech.example>\r\n",
            "Hello from IMAP.",
        ),
    )
    .await
    .unwrap();
    imap.append(
        &folder,
        None,
        None,
        message(
            "user@initech.example",
            "Away",
            "Auto-Submitted: auto-replied\r\n",
            "Out of office.",
        ),
    )
    .await
    .unwrap();

    // Polling once a minute: mail arriving later within seconds can only come through IDLE.
    let (mailbox_url, mailbox_password) = (url.clone(), password.clone());
    let app = TestApp::start_with(
        backend,
        Options {
            imap_poll_every: Some(Duration::from_secs(60)),
            before_start: Some(Box::new(move |store| {
                Box::pin(async move {
                    store
                        .add_mailbox(&mailbox_url, &mailbox_password)
                        .await
                        .unwrap();
                })
            })),
            ..Options::default()
        },
    )
    .await;
    let case = app
        .until("the mailbox's message as a case", || async {
            let list = app.get(&app.tokens.admin, "/api/v1/cases").await;
            list.body["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["subject"] == "From the mailbox")
                .cloned()
        })
        .await;
    assert_eq!(case["channel"], "email");
    let all = app
        .until("both messages to be read and placed", || async {
            let all = app.store.inbound_mails(None, 10).await.unwrap();
            (all.len() == 2 && all.iter().all(|m| m.state != InboundState::Pending)).then_some(all)
        })
        .await;
    assert!(
        all.iter().any(|m| m.state == InboundState::Noise),
        "{all:?}"
    );

    // Both are marked seen on the server once stored (never before: a message the poller
    // saw but did not store stays unseen, to be read again).
    imap.select(&folder).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let flags: Vec<_> = imap
            .uid_fetch("1:*", "FLAGS")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let seen = flags
            .iter()
            .filter(|f| f.flags().any(|flag| flag == async_imap::types::Flag::Seen))
            .count();
        if seen == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{seen} of 2 marked seen"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // Mail that arrives later is picked up (the poller waits in IDLE, which Dovecot offers).
    imap.append(
        &folder,
        None,
        None,
        message(
            "user@initech.example",
            "Later one",
            "Message-ID: <m3@initech.example>\r\n",
            "Again.",
        ),
    )
    .await
    .unwrap();
    app.until("the later message as a case", || async {
        let list = app.get(&app.tokens.admin, "/api/v1/cases").await;
        list.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["subject"] == "Later one")
            .then_some(())
    })
    .await;
    let progress = app
        .until("the mailbox's progress to be recorded", || async {
            let boxes = app.store.mailboxes().await.unwrap();
            boxes.into_iter().find(|b| b.url == url && b.last_uid == 3)
        })
        .await;
    assert!(progress.last_error.is_none(), "{progress:?}");
    let _ = imap.logout().await;
}
