//! Conversations by email, end to end on both databases: real SMTP into the listener, the
//! intake worker placing each message, the notifier and the mail sender delivering to an SMTP
//! sink, and the API reading what came of it.

mod common;

use backline_domain::mail::InboundState;
use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    a_mail_opens_a_case_with_its_files_and_is_acknowledged,
    replies_join_their_case_by_headers_or_token_and_strangers_do_not,
    the_same_message_twice_makes_one_case,
    machine_mail_opens_nothing_and_a_bounce_silences_the_address,
    a_flood_is_held_and_auto_responders_get_no_answer,
    a_huge_and_a_malformed_message_do_not_hold_up_the_next,
    partner_technicians_write_for_their_customers_and_never_means_never,
    notifications_reach_exactly_the_right_people,
    escalations_and_swarm_requests_reach_the_staff_concerned_and_a_reply_reopens,
    quarantine_can_be_run_again_or_made_a_case,
    unknown_senders_can_become_users_and_templates_shape_the_mail,
    attachments_are_served_only_to_those_who_may_see_them,
    arbitrary_bytes_are_always_placed_or_quarantined_with_a_reason,
    replies_to_a_merged_case_go_on_where_it_moved,
);

const SUPPORT: &str = "ops@vendor.example";
const CUSTOMER: &str = "user@initech.example";

async fn app(backend: Backend) -> TestApp {
    TestApp::start_with(
        backend,
        Options {
            mail: true,
            smtp_listen: true,
            ..Options::default()
        },
    )
    .await
}

/// A plain message; `extra` are whole header lines.
fn message(from: &str, subject: &str, extra: &[&str], body: &str) -> Vec<u8> {
    let mut raw = format!("From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n");
    for line in extra {
        raw.push_str(line);
        raw.push_str("\r\n");
    }
    raw.push_str(&format!("\r\n{body}\r\n"));
    raw.into_bytes()
}

/// A message with one attached file.
fn with_file(from: &str, subject: &str, message_id: &str, file: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Ann Initech <{from}>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe nightly backup fails; the log is attached.\r\n\
         --b1\r\nContent-Type: application/octet-stream; name=\"{file}\"\r\n\
         Content-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        wrapped.join("\r\n")
    )
    .into_bytes()
}

/// The case opened by the message whose subject is `subject`, once it is there.
async fn case_titled(app: &TestApp, subject: &str) -> Value {
    app.until(&format!("a case titled {subject:?}"), || async {
        let list = app.get(&app.tokens.admin, "/api/v1/cases?limit=100").await;
        list.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["subject"] == subject)
            .cloned()
    })
    .await
}

/// The mail the sink holds for `to` whose subject or text contains `about`, once it is there.
async fn mail_to(app: &TestApp, to: &str, about: &str) -> backline_server::smtp_sink::Received {
    app.until(&format!("mail to {to} about {about:?}"), || async {
        app.mail.as_ref().unwrap().messages().into_iter().find(|m| {
            m.to.iter().any(|t| t == to)
                && (m.subject().contains(about) || m.text().contains(about))
        })
    })
    .await
}

/// Waits until the notifier has read every event of the case so far.
async fn notified(app: &TestApp, case: i64) {
    app.until("the notifier to catch up", || async {
        let (cursor, _) = app.store.notifier_events(1).await.unwrap();
        let events = app
            .store
            .case_events(backline_domain::CaseId(case))
            .await
            .unwrap();
        (cursor >= events.last().unwrap().id).then_some(())
    })
    .await;
}

/// Waits until the notifier has read the case's events and the sender has sent everything.
async fn settled(app: &TestApp, case: i64) {
    notified(app, case).await;
    app.until("the outbox to drain", || async {
        (app.store.outbox_pending().await.unwrap() == 0).then_some(())
    })
    .await;
}

async fn comments(app: &TestApp, case: i64) -> Vec<Value> {
    app.get(&app.tokens.admin, &format!("/api/v1/cases/{case}/comments"))
        .await
        .body["comments"]
        .as_array()
        .unwrap()
        .clone()
}

async fn a_mail_opens_a_case_with_its_files_and_is_acknowledged(backend: Backend) {
    let app = app(backend).await;
    let log: Vec<u8> = (0..40_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let reply = app
        .send_mail(
            CUSTOMER,
            &[SUPPORT],
            &with_file(
                CUSTOMER,
                "Backup fails every night",
                "first@initech.example",
                "backup.log",
                &log,
            ),
        )
        .await;
    assert!(reply.starts_with("250"), "{reply}");
    let case = case_titled(&app, "Backup fails every night").await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["channel"], "email");
    assert_eq!(case["organization"]["slug"], "initech");
    assert!(case["description"]
        .as_str()
        .unwrap()
        .contains("nightly backup fails"));

    // The file came with the case; the customer downloads exactly what was sent.
    let files = app
        .get(
            &app.tokens.initech,
            &format!("/api/v1/cases/{id}/attachments"),
        )
        .await;
    assert_eq!(files.status, StatusCode::OK, "{}", files.body);
    let file = &files.body["attachments"][0];
    assert_eq!(file["file_name"], "backup.log");
    assert_eq!(file["size"], log.len());
    let download = app
        .client
        .get(format!("{}{}", app.base, file["url"].as_str().unwrap()))
        .bearer_auth(&app.tokens.initech)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let headers = download.headers().clone();
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(download.bytes().await.unwrap().as_ref(), log.as_slice());

    // The acknowledgement threads: it answers the customer's message, carries the signed
    // token in Reply-To and subject, and tells robots not to answer.
    let ack = mail_to(&app, CUSTOMER, "We received your request").await;
    let reply_to = ack.header("Reply-To").unwrap();
    assert!(reply_to.starts_with(&format!("ops+{id}-")), "{reply_to}");
    assert!(
        ack.subject().contains(&format!("[#{id}-")),
        "{}",
        ack.subject()
    );
    assert_eq!(
        ack.header("In-Reply-To").as_deref(),
        Some("<first@initech.example>")
    );
    assert_eq!(
        ack.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert!(ack
        .header("Message-ID")
        .unwrap()
        .contains("@vendor.example>"));

    // The received message is kept, with what became of it.
    let received = app
        .get(&app.tokens.admin, "/api/v1/mail?state=placed")
        .await;
    assert_eq!(received.body["messages"][0]["case_id"], id);
    // The case page shows the channel, and staff can open the headers.
    let mail_id = received.body["messages"][0]["id"].as_i64().unwrap();
    let detail = app
        .get(&app.tokens.admin, &format!("/api/v1/mail/{mail_id}"))
        .await;
    assert!(detail.body["headers"]
        .as_str()
        .unwrap()
        .contains("Message-ID: <first@initech.example>"));
    // Not for customers.
    let refused = app
        .get(&app.tokens.initech, &format!("/api/v1/mail/{mail_id}"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn replies_join_their_case_by_headers_or_token_and_strangers_do_not(backend: Backend) {
    let app = app(backend).await;
    app.send_mail(
        CUSTOMER,
        &[SUPPORT],
        &message(
            CUSTOMER,
            "Printer offline",
            &["Message-ID: <p1@initech.example>"],
            "It is offline.",
        ),
    )
    .await;
    let id = case_titled(&app, "Printer offline").await["id"]
        .as_i64()
        .unwrap();
    let ack = mail_to(&app, CUSTOMER, "Printer offline").await;
    let ours = ack.header("Message-ID").unwrap();
    let reply_to = ack.header("Reply-To").unwrap();

    // By header: the quoted history is cut from the comment.
    let answer = message(
        CUSTOMER,
        "Re: We received your request: Printer offline",
        &[&format!("In-Reply-To: {ours}"), "Message-ID: <p2@initech.example>"],
        "Restarting did not help.\r\n\r\nOn Tue, 1 Dec 2026 at 15:00, Support <ops@vendor.example> wrote:\r\n> We have opened case",
    );
    app.send_mail(CUSTOMER, &[SUPPORT], &answer).await;
    // By the token in the reply address alone (a mail program that drops the headers).
    let by_token = message(
        CUSTOMER,
        "still broken",
        &["Message-ID: <p3@initech.example>"],
        "Any news?",
    );
    app.send_mail(CUSTOMER, &[&reply_to], &by_token).await;
    let got = app
        .until("both replies on the case", || async {
            let c = comments(&app, id).await;
            (c.len() == 2).then_some(c)
        })
        .await;
    // Placed side by side, yet read in the order they arrived.
    assert_eq!(got[0]["body"], "Restarting did not help.");
    assert_eq!(got[1]["body"], "Any news?");
    assert!(got.iter().all(|c| c["channel"] == "email"));

    // A guessed case number opens a new case instead of joining.
    let guess = message(
        CUSTOMER,
        &format!("Re: [#{id}] Printer offline"),
        &[],
        "Guessing the number.",
    );
    app.send_mail(CUSTOMER, &[SUPPORT], &guess).await;
    // A customer of another organisation answering our mail may not join the case.
    let other = message(
        "user@globex.example",
        "Re: Printer offline",
        &[
            &format!("In-Reply-To: {ours}"),
            "Message-ID: <g1@globex.example>",
        ],
        "Let me in.",
    );
    app.send_mail("user@globex.example", &[SUPPORT], &other)
        .await;
    // A stranger from nowhere waits for a person (the default policy).
    let stranger = message(
        "eve@elsewhere.example",
        "Hello",
        &["Message-ID: <e1@elsewhere.example>"],
        "Hi",
    );
    app.send_mail("eve@elsewhere.example", &[SUPPORT], &stranger)
        .await;
    let all = app.mail_settled().await;
    assert_eq!(
        comments(&app, id).await.len(),
        2,
        "nothing else joined the case"
    );
    let quarantined: Vec<_> = all
        .iter()
        .filter(|m| m.state == InboundState::Quarantined)
        .collect();
    assert_eq!(quarantined.len(), 2, "{all:?}");
    let reason = |sender: &str| {
        quarantined
            .iter()
            .find(|m| m.sender.as_deref() == Some(sender))
            .and_then(|m| m.reason.clone())
            .unwrap()
    };
    assert!(
        reason("user@globex.example").contains("may not see"),
        "{}",
        reason("user@globex.example")
    );
    assert!(
        reason("eve@elsewhere.example").contains("not a user"),
        "{}",
        reason("eve@elsewhere.example")
    );
    let cases = app.get(&app.tokens.admin, "/api/v1/cases?limit=100").await;
    assert_eq!(
        cases.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["subject"] == "Printer offline")
            .count(),
        2,
        "the guessed number opened its own case"
    );
}

async fn the_same_message_twice_makes_one_case(backend: Backend) {
    let app = app(backend).await;
    let raw = message(
        CUSTOMER,
        "Licence expired",
        &["Message-ID: <dup@initech.example>"],
        "Please renew.",
    );
    for _ in 0..3 {
        let reply = app.send_mail(CUSTOMER, &[SUPPORT], &raw).await;
        assert!(reply.starts_with("250"), "{reply}");
    }
    let all = app.mail_settled().await;
    let states: Vec<_> = all.iter().map(|m| m.state).collect();
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == InboundState::Placed)
            .count(),
        1,
        "{states:?}"
    );
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == InboundState::Duplicate)
            .count(),
        2,
        "{states:?}"
    );
    assert_eq!(app.case_count().await, 1);
}

async fn machine_mail_opens_nothing_and_a_bounce_silences_the_address(backend: Backend) {
    let app = app(backend).await;
    // A case filed on the web for the customer, so there is mail to bounce.
    let id = app
        .file_case(
            &app.tokens.initech,
            json!({"subject": "VPN drops", "description": "Every hour."}),
        )
        .await;
    let ack = mail_to(&app, CUSTOMER, "VPN drops").await;
    let ours = ack.header("Message-ID").unwrap();
    let auto = message(
        CUSTOMER,
        "Out of office",
        &[
            "Auto-Submitted: auto-replied",
            &format!("In-Reply-To: {ours}"),
        ],
        "I am away until Monday.",
    );
    app.send_mail(CUSTOMER, &[SUPPORT], &auto).await;
    let bounce = format!(
        "From: MAILER-DAEMON@mx.initech.example\r\nTo: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.initech.example\r\n\r\n\
         Final-Recipient: rfc822; {CUSTOMER}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n"
    );
    app.send_mail("", &[SUPPORT], bounce.as_bytes()).await;
    let all = app.mail_settled().await;
    assert!(
        all.iter().all(|m| m.state == InboundState::Noise),
        "{all:?}"
    );
    assert_eq!(app.case_count().await, 1, "machine mail opened nothing");
    assert_eq!(comments(&app, id).await.len(), 0);
    let bounced = app.store.bounce(CUSTOMER).await.unwrap();
    assert!(bounced.unwrap().0.contains("5.1.1"));

    // The agent's reply is not mailed to the dead address any more.
    let sent_before = app.mail.as_ref().unwrap().messages().len();
    let reply = app
        .post(
            &app.tokens.agent,
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "Try the new client."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // The notifier has run once the event is behind its place; then nothing went to the customer.
    notified(&app, id).await;
    let after = app.mail.as_ref().unwrap().messages();
    assert!(
        after[sent_before..]
            .iter()
            .all(|m| !m.to.contains(&CUSTOMER.to_string())),
        "mail went to a bounced address"
    );
}

async fn a_flood_is_held_and_auto_responders_get_no_answer(backend: Backend) {
    let app = app(backend).await;
    // A robot that answers everything, without saying it is a robot: its answers join the
    // case as comments and are never answered back, so no loop can start.
    app.send_mail(
        CUSTOMER,
        &[SUPPORT],
        &message(
            CUSTOMER,
            "Disk full",
            &["Message-ID: <d1@initech.example>"],
            "Full.",
        ),
    )
    .await;
    let id = case_titled(&app, "Disk full").await["id"].as_i64().unwrap();
    let ack = mail_to(&app, CUSTOMER, "Disk full").await;
    let ours = ack.header("Message-ID").unwrap();
    for n in 0..3 {
        let echo = message(
            CUSTOMER,
            "Re: Disk full",
            &[
                &format!("In-Reply-To: {ours}"),
                &format!("Message-ID: <echo{n}@initech.example>"),
            ],
            "Thank you for your message.",
        );
        app.send_mail(CUSTOMER, &[SUPPORT], &echo).await;
    }
    app.mail_settled().await;
    assert_eq!(comments(&app, id).await.len(), 3);
    notified(&app, id).await;
    let to_customer = app
        .mail
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .filter(|m| m.to.contains(&CUSTOMER.to_string()))
        .count();
    assert_eq!(to_customer, 1, "only the acknowledgement went out");

    // A storm from one sender (new, from the customer's domain): about twenty are taken, the
    // rest wait.
    app.store
        .set_org_domains(initech(&app).await, &["initech.example".into()])
        .await
        .unwrap();
    for n in 0..40 {
        let raw = message(
            "storm@initech.example",
            &format!("Alert {n}"),
            &[&format!("Message-ID: <s{n}@initech.example>")],
            "CPU high",
        );
        app.send_mail("storm@initech.example", &[SUPPORT], &raw)
            .await;
    }
    let all = app.mail_settled().await;
    let storm: Vec<_> = all
        .iter()
        .filter(|m| m.sender.as_deref() == Some("storm@initech.example"))
        .collect();
    let held = storm
        .iter()
        .filter(|m| m.state == InboundState::Quarantined)
        .count();
    assert!(held >= 10, "{storm:?}");
    assert!(storm
        .iter()
        .filter(|m| m.state == InboundState::Quarantined)
        .all(|m| m.reason.as_deref().unwrap_or("").contains("too many")));
}

async fn initech(app: &TestApp) -> backline_domain::OrgId {
    app.store.org_by_slug("initech").await.unwrap().id
}

async fn a_huge_and_a_malformed_message_do_not_hold_up_the_next(backend: Backend) {
    let app = app(backend).await;
    // 22 MB of file, about 30 MB once encoded.
    let big: Vec<u8> = (0..22 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let huge = with_file(
        CUSTOMER,
        "Core dump",
        "huge@initech.example",
        "core.bin",
        &big,
    );
    assert!(huge.len() > 29 * 1024 * 1024, "{}", huge.len());
    let reply = app.send_mail(CUSTOMER, &[SUPPORT], &huge).await;
    assert!(reply.starts_with("250"), "{reply}");
    let reply = app
        .send_mail(CUSTOMER, &[SUPPORT], b"\x00\x01 not mail at all \xff\xfe")
        .await;
    assert!(reply.starts_with("250"), "{reply}");
    app.send_mail(
        CUSTOMER,
        &[SUPPORT],
        &message(CUSTOMER, "Small one", &[], "Still here?"),
    )
    .await;
    case_titled(&app, "Small one").await;
    let core = case_titled(&app, "Core dump").await;
    let files = app
        .get(
            &app.tokens.admin,
            &format!("/api/v1/cases/{}/attachments", core["id"]),
        )
        .await;
    assert_eq!(files.body["attachments"][0]["size"], big.len());
    let all = app.mail_settled().await;
    let unreadable = all
        .iter()
        .find(|m| m.state == InboundState::Quarantined)
        .expect("the malformed one waits");
    assert!(
        unreadable
            .reason
            .as_deref()
            .unwrap()
            .contains("could not be read"),
        "{unreadable:?}"
    );
}

async fn partner_technicians_write_for_their_customers_and_never_means_never(backend: Backend) {
    let app = app(backend).await;
    // acme's technician writes for its customer globex, naming the customer's user in Cc.
    let raw = format!(
        "From: tech@acme.example\r\nTo: {SUPPORT}\r\nCc: user@globex.example\r\nSubject: Globex cannot sign in\r\n\
         Message-ID: <t1@acme.example>\r\n\r\nSince the update, nobody at Globex can sign in.\r\n"
    );
    app.send_mail("tech@acme.example", &[SUPPORT], raw.as_bytes())
        .await;
    let case = case_titled(&app, "Globex cannot sign in").await;
    assert_eq!(case["organization"]["slug"], "globex");
    assert_eq!(case["partner"]["slug"], "acme");
    // Both hear of it: the technician, and the customer's user it copied.
    mail_to(&app, "tech@acme.example", "Globex cannot sign in").await;
    mail_to(&app, "user@globex.example", "Globex cannot sign in").await;

    // Under `never`, the vendor writes to the partner only.
    let terms = json!({"customer_owner": "partner", "billing_owner": "partner", "troubleshooting_checklist": [],
        "vanilla_reproduction_required": false, "customers_see_vendor_kb": true, "vendor_direct_contact": "never",
        "updates_distributed_by": "partner"});
    let put = app
        .put(&app.tokens.admin, "/api/v1/partners/acme/agreement", terms)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let id = case["id"].as_i64().unwrap();
    let before = app.mail.as_ref().unwrap().messages().len();
    app.post(
        &app.tokens.agent,
        &format!("/api/v1/cases/{id}/comments"),
        json!({"body": "Fixed in 7.2.1."}),
    )
    .await;
    let reply = mail_to(&app, "tech@acme.example", "Fixed in 7.2.1.").await;
    assert!(reply.text().contains("Fixed in 7.2.1."));
    notified(&app, id).await;
    let after = app.mail.as_ref().unwrap().messages();
    assert!(
        after[before..]
            .iter()
            .all(|m| m.to.iter().all(|t| !t.ends_with("globex.example"))),
        "the customer heard from the vendor under never"
    );
    // And the customer's own mail to the vendor waits rather than opening a case.
    app.send_mail(
        "user@globex.example",
        &[SUPPORT],
        &message("user@globex.example", "Direct question", &[], "Hi"),
    )
    .await;
    let all = app.mail_settled().await;
    let held = all
        .iter()
        .find(|m| m.subject.as_deref() == Some("Direct question"))
        .unwrap();
    assert_eq!(held.state, InboundState::Quarantined);
    assert!(
        held.reason.as_deref().unwrap().contains("partner handles"),
        "{held:?}"
    );
}

async fn notifications_reach_exactly_the_right_people(backend: Backend) {
    let app = app(backend).await;
    let t = &app.tokens;
    let id = app
        .file_case(
            &t.initech,
            json!({"subject": "Slow reports", "description": "Reports take minutes."}),
        )
        .await;
    // A colleague follows the organisation; another agent exists to be mentioned.
    let colleague = app.post(&t.admin, "/api/v1/users", json!({"email": "lead@initech.example", "name": "Lead", "role": "customer", "organization": "initech"})).await;
    assert_eq!(colleague.status, StatusCode::CREATED, "{}", colleague.body);
    let colleague_id = colleague.body["id"].as_i64().unwrap();
    let follow = app
        .request(
            reqwest::Method::PUT,
            Some(&t.initech),
            &format!("/api/v1/organizations/initech/followers/{colleague_id}"),
            None,
        )
        .await;
    assert_eq!(
        follow.status,
        StatusCode::FORBIDDEN,
        "customers follow for themselves only"
    );
    let follow = app
        .request(
            reqwest::Method::PUT,
            Some(&t.admin),
            &format!("/api/v1/organizations/initech/followers/{colleague_id}"),
            None,
        )
        .await;
    assert_eq!(follow.status, StatusCode::NO_CONTENT, "{}", follow.body);
    let second = app
        .post(
            &t.admin,
            "/api/v1/users",
            json!({"email": "sam@vendor.example", "name": "Sam", "role": "agent"}),
        )
        .await;
    let sam = second.body["id"].as_i64().unwrap();

    let mark = |app: &TestApp| app.mail.as_ref().unwrap().messages().len();
    let recipients = |app: &TestApp, from: usize| {
        let mut to: Vec<String> = app.mail.as_ref().unwrap().messages()[from..]
            .iter()
            .flat_map(|m| m.to.clone())
            .collect();
        to.sort();
        to
    };
    settled(&app, id).await;
    let start = mark(&app);

    // Assignment: the assignee only.
    app.patch(
        &t.admin,
        &format!("/api/v1/cases/{id}"),
        json!({"assignee": app.agent_id}),
    )
    .await;
    settled(&app, id).await;
    assert_eq!(recipients(&app, start), ["agent@vendor.example"]);

    // A public reply: the requester and the follower, not the agent who wrote it.
    let start = mark(&app);
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{id}/comments"),
        json!({"body": "Which report?"}),
    )
    .await;
    settled(&app, id).await;
    assert_eq!(recipients(&app, start), ["lead@initech.example", CUSTOMER]);

    // The customer's answer: the assignee and the follower.
    let start = mark(&app);
    app.post(
        &t.initech,
        &format!("/api/v1/cases/{id}/comments"),
        json!({"body": "The monthly one."}),
    )
    .await;
    settled(&app, id).await;
    assert_eq!(
        recipients(&app, start),
        ["agent@vendor.example", "lead@initech.example"]
    );

    // An internal note mentioning Sam: Sam only, and nobody outside staff.
    let start = mark(&app);
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{id}/comments"),
        json!({"body": "@sam can you look at the query plan?", "public": false}),
    )
    .await;
    settled(&app, id).await;
    assert_eq!(recipients(&app, start), ["sam@vendor.example"]);
    let note = mail_to(&app, "sam@vendor.example", "mentioned").await;
    assert!(note.text().contains("query plan"));
    let _ = sam;

    // A person who turned case updates off hears no more of them.
    let off = app
        .put(
            &t.initech,
            "/api/v1/me/notifications",
            json!({"off": ["case_updates"]}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let start = mark(&app);
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{id}"),
        json!({"status": "solved"}),
    )
    .await;
    settled(&app, id).await;
    assert_eq!(recipients(&app, start), ["lead@initech.example"]);
    let solved = mail_to(&app, "lead@initech.example", "Solved").await;
    assert!(
        solved.text().contains("reply to this message"),
        "{}",
        solved.text()
    );
    assert!(!app
        .mail
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .any(|m| m.text().contains("query plan")
            && !m.to.contains(&"sam@vendor.example".to_string())));
}

async fn quarantine_can_be_run_again_or_made_a_case(backend: Backend) {
    let app = app(backend).await;
    let t = &app.tokens;
    app.send_mail(
        "new@initech.example",
        &[SUPPORT],
        &message(
            "New Person <new@initech.example>",
            "First time",
            &["Message-ID: <n1@initech.example>"],
            "Hello?",
        ),
    )
    .await;
    app.send_mail(
        "who@nowhere.example",
        &[SUPPORT],
        &message(
            "who@nowhere.example",
            "Lost",
            &["Message-ID: <w1@nowhere.example>"],
            "Help",
        ),
    )
    .await;
    app.mail_settled().await;
    let waiting = app.get(&t.admin, "/api/v1/mail?state=quarantined").await;
    assert_eq!(
        waiting.body["messages"].as_array().unwrap().len(),
        2,
        "{}",
        waiting.body
    );
    // Customers and partners see nothing of it.
    assert_eq!(
        app.get(&t.initech, "/api/v1/mail").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/mail").await.status,
        StatusCode::FORBIDDEN
    );
    let id_of = |subject: &str| {
        waiting.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"] == subject)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };

    // The domain given to its organisation, the first message runs again and becomes a case
    // from a new customer user of initech.
    // Only admins give domains; customers cannot read them or rerun mail either.
    let domains_path = "/api/v1/organizations/initech/domains";
    let by_agent = app
        .put(
            &t.agent,
            domains_path,
            json!({"domains": ["initech.example"]}),
        )
        .await;
    assert_eq!(by_agent.status, StatusCode::FORBIDDEN);
    let bad = app
        .put(&t.admin, domains_path, json!({"domains": ["not a domain"]}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let stored = app
        .get(&t.admin, "/api/v1/organizations/initech/domains")
        .await;
    assert_eq!(stored.body["domains"], json!([]), "nothing stored");
    let customer = app
        .get(&t.initech, "/api/v1/organizations/initech/domains")
        .await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
    let rerun = app
        .post(
            &t.initech,
            &format!("/api/v1/mail/{}/retry", id_of("First time")),
            json!({}),
        )
        .await;
    assert_eq!(rerun.status, StatusCode::FORBIDDEN);
    let domains = app
        .put(
            &t.admin,
            "/api/v1/organizations/initech/domains",
            json!({"domains": ["Initech.example"]}),
        )
        .await;
    assert_eq!(domains.body["domains"], json!(["initech.example"]));
    let taken = app
        .put(
            &t.admin,
            "/api/v1/organizations/globex/domains",
            json!({"domains": ["initech.example"]}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let retried = app
        .post(
            &t.admin,
            &format!("/api/v1/mail/{}/retry", id_of("First time")),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.body);
    let case = case_titled(&app, "First time").await;
    assert_eq!(case["requester"]["email"], "new@initech.example");
    assert_eq!(case["requester"]["name"], "New Person");

    // The second is filed by hand for a customer; a partner organisation is refused.
    let lost = id_of("Lost");
    let wrong = app
        .post(
            &t.admin,
            &format!("/api/v1/mail/{lost}/case"),
            json!({"organization": "acme"}),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    let opened = app
        .post(
            &t.admin,
            &format!("/api/v1/mail/{lost}/case"),
            json!({"organization": "initech"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(opened.body["message"]["state"], "placed");
    let again = app
        .post(
            &t.admin,
            &format!("/api/v1/mail/{lost}/case"),
            json!({"organization": "initech"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // Junk is set aside by staff only, once.
    app.send_mail(
        "spam@nowhere.example",
        &[SUPPORT],
        &message("spam@nowhere.example", "Cheap pills", &[], "Buy now"),
    )
    .await;
    app.mail_settled().await;
    let waiting = app.get(&t.admin, "/api/v1/mail?state=quarantined").await;
    let spam = waiting.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == "Cheap pills")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.post(
            &t.initech,
            &format!("/api/v1/mail/{spam}/dismiss"),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let aside = app
        .post(&t.agent, &format!("/api/v1/mail/{spam}/dismiss"), json!({}))
        .await;
    assert_eq!(aside.status, StatusCode::OK, "{}", aside.body);
    assert_eq!(aside.body["state"], "noise");
    assert_eq!(
        app.post(&t.agent, &format!("/api/v1/mail/{spam}/dismiss"), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    // The original stays downloadable.
    let raw = app
        .client
        .get(format!("{}/api/v1/mail/{lost}/raw", app.base))
        .bearer_auth(&t.admin)
        .send()
        .await
        .unwrap();
    assert!(raw.text().await.unwrap().contains("Subject: Lost"));
}

async fn attachments_are_served_only_to_those_who_may_see_them(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            max_attachment_bytes: Some(1024 * 1024),
            ..Options::default()
        },
    )
    .await;
    let t = &app.tokens;
    let id = app
        .file_case(
            &t.initech,
            json!({"subject": "Crash", "description": "It crashes."}),
        )
        .await;
    let upload = |token: &str, name: &str, bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("text/plain")
            .unwrap();
        app.client
            .post(format!("{}/api/v1/cases/{id}/attachments", app.base))
            .bearer_auth(token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let up = upload(&t.initech, "crash.txt", b"stack trace".to_vec())
        .await
        .unwrap();
    assert_eq!(up.status(), StatusCode::CREATED);
    let file: Value = up.json().await.unwrap();
    let file_id = file["attachments"][0]["id"].as_i64().unwrap();
    assert_eq!(file["attachments"][0]["pending"], true);
    // Too large: refused, nothing stored.
    let big = upload(&t.initech, "big.bin", vec![0; 2 * 1024 * 1024])
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Another customer cannot upload to, or reference, this case.
    let theirs = upload(&t.globex, "x.txt", b"x".to_vec()).await.unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    // An agent cannot adopt the customer's upload; the customer can.
    let stolen = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "mine", "attachments": [file_id]}),
        )
        .await;
    assert_eq!(
        stolen.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stolen.body
    );
    let comment = app
        .post(
            &t.initech,
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "Here is the trace.", "attachments": [file_id]}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    assert_eq!(comment.body["attachments"][0]["file_name"], "crash.txt");
    assert_eq!(comment.body["channel"], "api");

    // An internal note's file stays internal.
    let secret = upload(&t.agent, "notes.txt", b"internal".to_vec())
        .await
        .unwrap();
    let secret: Value = secret.json().await.unwrap();
    let secret_id = secret["attachments"][0]["id"].as_i64().unwrap();
    let note = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "see file", "public": false, "attachments": [secret_id]}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);

    let fetch = |token: &str, file: i64| {
        app.client
            .get(format!("{}/api/v1/attachments/{file}", app.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        fetch(&t.initech, file_id).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&t.agent, file_id).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&t.globex, file_id).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&t.acme, file_id).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&t.initech, secret_id).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&t.agent, secret_id).await.unwrap().status(),
        StatusCode::OK
    );
    let listed = app
        .get(&t.initech, &format!("/api/v1/cases/{id}/attachments"))
        .await;
    assert_eq!(
        listed.body["attachments"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );
    let seen = app
        .get(&t.initech, &format!("/api/v1/cases/{id}/comments"))
        .await;
    assert!(!seen.body.to_string().contains("notes.txt"));
}

async fn arbitrary_bytes_are_always_placed_or_quarantined_with_a_reason(backend: Backend) {
    use rand::{Rng, SeedableRng};
    let app = TestApp::start(backend).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let pieces: [&[u8]; 8] = [
        b"From: user@initech.example\r\n",
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n",
        b"\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
        b"In-Reply-To: <outbox-1@vendor.example>\r\n",
        b"Auto-Submitted: auto-replied\r\n",
        b"\r\n",
        b"\xff\xfe\x00garbage",
    ];
    for _ in 0..60 {
        let mut raw = Vec::new();
        for _ in 0..rng.gen_range(0..8) {
            if rng.gen_bool(0.3) {
                let noise: Vec<u8> = (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect();
                raw.extend(noise);
            } else {
                raw.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
            }
        }
        app.store
            .receive_mail(backline_domain::mail::MailSource::Pipe, None, &[], &raw)
            .await
            .unwrap();
    }
    app.state.mail.wake();
    let all = app.mail_settled().await;
    assert_eq!(all.len(), 60);
    for m in &all {
        match m.state {
            InboundState::Placed => assert!(m.case_id.is_some(), "{m:?}"),
            InboundState::Noise | InboundState::Duplicate | InboundState::Quarantined => {
                assert!(
                    !m.reason.as_deref().unwrap_or("").trim().is_empty(),
                    "{m:?}"
                )
            }
            InboundState::Pending => unreachable!(),
        }
    }
}

async fn unknown_senders_can_become_users_and_templates_shape_the_mail(backend: Backend) {
    let app = app(backend).await;
    let t = &app.tokens;
    // Only admins choose, and only a customer organisation will do.
    let agent = app
        .put(
            &t.agent,
            "/api/v1/mail/settings",
            json!({"unknown_senders": "create:initech"}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
    let partner = app
        .put(
            &t.admin,
            "/api/v1/mail/settings",
            json!({"unknown_senders": "create:acme"}),
        )
        .await;
    assert_eq!(
        partner.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        partner.body
    );
    let nonsense = app
        .put(
            &t.admin,
            "/api/v1/mail/settings",
            json!({"unknown_senders": "maybe"}),
        )
        .await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = app
        .put(
            &t.admin,
            "/api/v1/mail/settings",
            json!({"unknown_senders": "create:initech"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        app.get(&t.admin, "/api/v1/mail/settings").await.body["unknown_senders"],
        "create:initech"
    );

    // The acknowledgement's text is the template's, as an admin edited it.
    let template = app
        .put(&t.admin, "/api/v1/templates/case_acknowledgement", json!({"subject": "Got it: {{subject}}", "body": "Case {{case}} is open, {{requester}}. {{case_url}}"}))
        .await;
    assert!(template.status.is_success(), "{}", template.body);
    let bad = app
        .put(
            &t.admin,
            "/api/v1/templates/case_acknowledgement",
            json!({"subject": "{{incident}}", "body": "x"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown variables are refused"
    );

    app.send_mail(
        "someone@gmail.example",
        &[SUPPORT],
        &message(
            "Some One <someone@gmail.example>",
            "Cannot log in",
            &["Message-ID: <u1@gmail.example>"],
            "Help me.",
        ),
    )
    .await;
    let case = case_titled(&app, "Cannot log in").await;
    assert_eq!(case["organization"]["slug"], "initech");
    assert_eq!(case["requester"]["email"], "someone@gmail.example");
    let ack = mail_to(&app, "someone@gmail.example", "Got it: Cannot log in").await;
    assert!(
        ack.text()
            .contains(&format!("Case #{} is open, Some One.", case["id"])),
        "{}",
        ack.text()
    );
}

async fn escalations_and_swarm_requests_reach_the_staff_concerned_and_a_reply_reopens(
    backend: Backend,
) {
    let app = app(backend).await;
    let t = &app.tokens;
    let kim = app
        .post(
            &t.admin,
            "/api/v1/users",
            json!({"email": "kim@vendor.example", "name": "Kim", "role": "agent", "tier": 2}),
        )
        .await;
    let kim = kim.body["id"].as_i64().unwrap();
    let queue = app
        .post(
            &t.admin,
            "/api/v1/queues",
            json!({"slug": "l2", "name": "Tier 2", "model": "tiered", "tier": 2}),
        )
        .await;
    assert_eq!(queue.status, StatusCode::CREATED, "{}", queue.body);
    let member = app
        .put(
            &t.admin,
            &format!("/api/v1/queues/l2/members/{kim}"),
            json!({"skills": []}),
        )
        .await;
    assert!(member.status.is_success(), "{}", member.body);
    let id = app
        .file_case(
            &t.initech,
            json!({"subject": "Restores hang", "description": "At 99 %."}),
        )
        .await;
    settled(&app, id).await;

    // Escalated into tier 2: its member hears, with the reason; the agent who did it does not.
    let start = app.mail.as_ref().unwrap().messages().len();
    let up = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{id}/escalate"),
            json!({"reason": "needs the storage team"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    settled(&app, id).await;
    let sent: Vec<_> = app.mail.as_ref().unwrap().messages()[start..].to_vec();
    assert_eq!(
        sent.iter().flat_map(|m| m.to.clone()).collect::<Vec<_>>(),
        ["kim@vendor.example"]
    );
    assert!(
        sent[0].text().contains("needs the storage team"),
        "{}",
        sent[0].text()
    );

    // A swarm request names its helpers only.
    app.post(
        &t.admin,
        "/api/v1/queues",
        json!({"slug": "swarm", "name": "Swarm", "model": "swarm"}),
    )
    .await;
    app.put(
        &t.admin,
        &format!("/api/v1/queues/swarm/members/{kim}"),
        json!({"skills": ["storage"]}),
    )
    .await;
    app.post(&t.admin, "/api/v1/routing/rules", json!({"name": "Vault swarm", "conditions": [{"field": "words", "any_of": ["vault"]}], "actions": {"queue": "swarm"}})).await;
    let swarmed = app
        .file_case(
            &t.initech,
            json!({"subject": "Vault locked", "description": "Since noon."}),
        )
        .await;
    settled(&app, swarmed).await;
    let start = app.mail.as_ref().unwrap().messages().len();
    let asked = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{swarmed}/swarm"),
            json!({"skill": "storage", "message": "second pair of eyes?"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    settled(&app, swarmed).await;
    let sent: Vec<_> = app.mail.as_ref().unwrap().messages()[start..].to_vec();
    assert_eq!(
        sent.iter().flat_map(|m| m.to.clone()).collect::<Vec<_>>(),
        ["kim@vendor.example"]
    );
    assert!(
        sent[0].subject().contains("Your help is asked"),
        "{}",
        sent[0].subject()
    );

    // Solved, then the customer answers the solved notice by mail: the case opens again.
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{id}"),
        json!({"status": "solved"}),
    )
    .await;
    let solved = mail_to(&app, CUSTOMER, "Solved").await;
    let answer = message(
        CUSTOMER,
        &format!("Re: {}", solved.subject()),
        &[
            &format!("In-Reply-To: {}", solved.header("Message-ID").unwrap()),
            "Message-ID: <again@initech.example>",
        ],
        "It hangs again.",
    );
    app.send_mail(CUSTOMER, &[SUPPORT], &answer).await;
    app.until("the case to open again", || async {
        let case = app.get(&t.admin, &format!("/api/v1/cases/{id}")).await;
        (case.body["status"] == "open").then_some(())
    })
    .await;
}

async fn replies_to_a_merged_case_go_on_where_it_moved(backend: Backend) {
    let app = app(backend).await;
    app.send_mail(
        CUSTOMER,
        &[SUPPORT],
        &message(
            CUSTOMER,
            "Scanner jams",
            &["Message-ID: <s1@initech.example>"],
            "It jams.",
        ),
    )
    .await;
    let duplicate = case_titled(&app, "Scanner jams").await["id"]
        .as_i64()
        .unwrap();
    let ack = mail_to(&app, CUSTOMER, "Scanner jams").await;
    let survivor = app
        .file_case(
            &app.tokens.initech,
            json!({"subject": "Scanner jams on every page", "description": "Every page."}),
        )
        .await;
    let merged = app
        .post(
            &app.tokens.agent,
            &format!("/api/v1/cases/{duplicate}/merge"),
            json!({"into": survivor}),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);

    // Answering the duplicate's acknowledgement, by its headers and by its token alone: both
    // replies join the survivor, none opens a case or lands on the closed one.
    let by_header = message(
        CUSTOMER,
        "Re: Scanner jams",
        &[
            &format!("In-Reply-To: {}", ack.header("Message-ID").unwrap()),
            "Message-ID: <s2@initech.example>",
        ],
        "Still jamming.",
    );
    app.send_mail(CUSTOMER, &[SUPPORT], &by_header).await;
    let by_token = message(
        CUSTOMER,
        "more",
        &["Message-ID: <s3@initech.example>"],
        "And again.",
    );
    app.send_mail(CUSTOMER, &[&ack.header("Reply-To").unwrap()], &by_token)
        .await;
    let on_survivor = app
        .until("both replies on the survivor", || async {
            let c = comments(&app, survivor).await;
            let bodies: Vec<String> = c
                .iter()
                .map(|c| c["body"].as_str().unwrap().to_string())
                .collect();
            (bodies.contains(&"Still jamming.".to_string())
                && bodies.contains(&"And again.".to_string()))
            .then_some(bodies)
        })
        .await;
    // The duplicate's first message is kept on the survivor in the merge note.
    assert!(
        on_survivor.iter().any(|b| b.ends_with("It jams.")),
        "{on_survivor:?}"
    );
    assert!(comments(&app, duplicate).await.is_empty());
    let all = app.get(&app.tokens.admin, "/api/v1/cases?view=all").await;
    assert_eq!(all.body["total"], 2, "no new case was opened");
}
