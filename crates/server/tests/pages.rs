//! The web pages as a browser uses them: sign in with the form, read the CSRF token from a
//! page, post forms. A refused form comes back with what was typed and the problem beside the
//! field, in words for people; nothing is stored.

mod common;

use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn a_refused_reply_keeps_what_was_typed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let case = app
        .file_case(
            &app.tokens.agent,
            json!({"subject": "Backups fail", "on_behalf_of": "initech"}),
        )
        .await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;

    let blank = agent
        .post_multipart(
            &format!("/cases/{case}/comments"),
            &[("body", "   "), ("internal", "1")],
            &[],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.content_type.starts_with("text/html"),
        "{}",
        blank.content_type
    );
    assert!(
        blank.html.contains("Write a reply before sending."),
        "{}",
        blank.html
    );
    assert!(!blank.html.contains("is required"));
    // The internal-note box stays ticked, as it was sent.
    assert!(blank.html.contains(r#"name="internal" value="1" checked"#));

    let long = format!("{} the end of my long reply", "x".repeat(50_001));
    let oversized = agent
        .post_multipart(&format!("/cases/{case}/comments"), &[("body", &long)], &[])
        .await;
    assert_eq!(oversized.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        oversized.html.contains("the end of my long reply"),
        "the text is kept"
    );
    assert!(
        oversized.html.contains("at most 50000"),
        "the limit is named"
    );
    let comments = app
        .get(&app.tokens.agent, &format!("/api/v1/cases/{case}/comments"))
        .await;
    assert_eq!(comments.body["comments"].as_array().unwrap().len(), 0);

    // A file too large for the limit: refused before anything is stored, the text kept and
    // the person told to attach again.
    let too_big = agent
        .post_multipart(
            &format!("/cases/{case}/comments"),
            &[("body", "Here is the dump.")],
            &[("files", "core.bin", vec![0; 30 * 1024 * 1024])],
        )
        .await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_big.html.contains("Here is the dump."));
    assert!(
        too_big.html.contains("each file may be at most 25 MB"),
        "{}",
        too_big.html
    );
    assert!(too_big.html.contains("attach them again"));

    let sent = agent
        .post_multipart(
            &format!("/cases/{case}/comments"),
            &[("body", "Restart the agent, please.")],
            &[("files", "steps.txt", b"1. stop\n2. start\n".to_vec())],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(
        page.html.contains("steps.txt"),
        "the file is listed with its reply"
    );
    assert!(page.html.contains("on the web"));
}

async fn forms_without_the_session_token_are_refused_with_a_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let case = app
        .file_case(
            &app.tokens.agent,
            json!({"subject": "Slow restore", "on_behalf_of": "initech"}),
        )
        .await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    for csrf in ["", "not-the-token"] {
        let refused = agent
            .post_multipart(
                &format!("/cases/{case}/comments"),
                &[("body", "hello"), ("csrf", csrf)],
                &[("files", "x.txt", b"x".to_vec())],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.content_type.starts_with("text/html"));
        assert!(refused.html.contains("reload the page"), "{}", refused.html);
        // The error page keeps the person's navigation.
        assert!(refused.html.contains("Sign out"));
    }
    let comments = app
        .get(&app.tokens.agent, &format!("/api/v1/cases/{case}/comments"))
        .await;
    assert_eq!(comments.body["comments"].as_array().unwrap().len(), 0);
    // Signing out needs the token too, and then ends the session.
    assert_eq!(
        agent.post("/logout", &[("csrf", "")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        agent.post("/logout", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(agent.get("/cases").await.status, StatusCode::SEE_OTHER);
}

async fn a_refused_declaration_keeps_the_form(backend: Backend) {
    let app = TestApp::start(backend).await;
    let service = app
        .post(
            &app.tokens.admin,
            "/api/v1/services",
            json!({"slug": "backup", "name": "Backup", "kind": "service", "group": "cloud"}),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{:?}", service.body);
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent
        .post(
            "/incidents",
            &[
                ("title", "Restores time out"),
                ("impact", "major"),
                ("nature", ""),
                ("message", "We are looking into it"),
                ("next_update", "30"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html.contains(r#"value="Restores time out""#),
        "title kept"
    );
    assert!(page.html.contains("We are looking into it"), "message kept");
    assert!(
        page.html.contains(r#"value="major" selected"#),
        "impact kept"
    );
    assert!(page.html.contains("Name at least one affected service."));
    assert!(page.html.contains("Say what customers experience."));
    assert!(page.html.contains("nobody was alerted"));
    let incidents = app.get(&app.tokens.agent, "/api/v1/incidents").await;
    assert_eq!(incidents.body["incidents"].as_array().unwrap().len(), 0);

    // A number of minutes that would overflow the clock is a refusal, not a crash.
    let huge = agent
        .post(
            "/incidents",
            &[
                ("title", "Restores time out"),
                ("services", "backup"),
                ("impact", "major"),
                ("nature", "Restores fail"),
                ("next_update", "9223372036854775807"),
            ],
        )
        .await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        huge.html.contains(r#"value="backup" checked"#),
        "services kept"
    );

    let declared = agent
        .post(
            "/incidents",
            &[
                ("title", "Restores time out"),
                ("services", "backup"),
                ("impact", "major"),
                ("nature", "Restores fail"),
                ("next_update", "30"),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.html);
}

async fn a_refused_routing_rule_keeps_the_text(backend: Backend) {
    let app = TestApp::start(backend).await;
    let agent = Browser::sign_in(&app, "admin@vendor.example").await;
    let broken = r#"{"name": "Vault to L3", "conditions": [{"field": "product", "is": "vault"}"#;
    let page = agent.post("/routing", &[("definition", broken)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html.contains("The rule was not saved"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("{&quot;name&quot;: &quot;Vault to L3&quot;")
            || page.html.contains(r#"{"name": "Vault to L3""#),
        "the typed rule is shown again"
    );
    let unknown_field = r#"{"name": "Odd", "conditions": [{"field": "colour", "is": "red"}], "actions": {"tier": 2}}"#;
    let page = agent
        .post("/routing", &[("definition", unknown_field)])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("colour"), "{}", page.html);
    let rules = app.get(&app.tokens.admin, "/api/v1/routing/rules").await;
    assert_eq!(rules.body["rules"].as_array().unwrap().len(), 0);
}

async fn a_refused_agreement_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let before = app
        .get(&app.tokens.admin, "/api/v1/partners/acme/agreement")
        .await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let page = admin
        .post(
            "/partners/acme/agreement",
            &[
                ("customer_owner", "partner"),
                ("billing_owner", "partner"),
                ("updates_distributed_by", "partner"),
                ("vendor_direct_contact", "never"),
                (
                    "troubleshooting_checklist",
                    "Collect the agent log\nCheck the quota",
                ),
                ("required_certified_technicians", "two"),
                ("fee_model", "percentage"),
                ("fee_percent", "twelve"),
                ("fixed_fee", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html.contains("Collect the agent log\nCheck the quota"),
        "checklist kept"
    );
    assert!(page.html.contains(r#"value="twelve""#), "fee kept");
    assert!(
        page.html.contains(r#"value="never" selected"#),
        "contact rule kept"
    );
    assert!(page
        .html
        .contains("Write the percentage as a number, such as 12.5."));
    assert!(page.html.contains("as a whole number, such as 2."));
    let after = app
        .get(&app.tokens.admin, "/api/v1/partners/acme/agreement")
        .await;
    assert_eq!(before.body, after.body, "nothing stored");
}

async fn a_refused_outage_report_keeps_the_text(backend: Backend) {
    let app = TestApp::start(backend).await;
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    let page = customer
        .post(
            "/report",
            &[
                ("service", ""),
                ("title", " "),
                ("detail", "Down since 9:00, all sites"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html.contains("Down since 9:00, all sites"),
        "details kept"
    );
    assert!(page.html.contains("Say in a few words what is wrong."));
    let page = customer
        .post(
            "/report",
            &[("service", "no-such"), ("title", "Portal down")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains(r#"value="Portal down""#));
    let groups = app.get(&app.tokens.agent, "/api/v1/signals").await;
    assert_eq!(
        groups.body["groups"].as_array().map(Vec::len),
        Some(0),
        "{}",
        groups.body
    );
    let sent = customer.post("/report", &[("title", "Portal down")]).await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.html.contains("The support team has been alerted"));
}

async fn the_queues_page_sets_the_tier_a_queue_serves(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let created = admin
        .post(
            "/queues",
            &[
                ("slug", "l3"),
                ("name", "Level 3"),
                ("model", "tiered"),
                ("tier", "3"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let queues = app.get(&app.tokens.admin, "/api/v1/queues").await;
    assert_eq!(queues.body["queues"][0]["tier"], 3, "{}", queues.body);
    assert!(admin.get("/queues").await.html.contains("serves L3"));
    let refused = admin
        .post(
            "/queues",
            &[
                ("slug", "l9"),
                ("name", "Level 9"),
                ("model", "tiered"),
                ("tier", "9"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("Choose a tier from 1 to 3"),
        "{}",
        refused.html
    );
    // The form comes back as typed, the problem beside its field.
    assert!(refused.html.contains(r#"value="Level 9""#));
    assert!(refused.html.contains(r#"name="slug" required value="l9""#));
    // A swarm serving a tier, and a tier already served: said beside the tier, form kept.
    let swarm = admin
        .post(
            "/queues",
            &[
                ("slug", "sw"),
                ("name", "Swarm"),
                ("model", "swarm"),
                ("tier", "2"),
            ],
        )
        .await;
    assert_eq!(swarm.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(swarm.html.contains(r#"value="Swarm""#));
    assert!(
        swarm.html.contains("Swarm queues serve no tier"),
        "a sentence beside the field: {}",
        swarm.html
    );
    let taken = admin
        .post(
            "/queues",
            &[
                ("slug", "l3b"),
                ("name", "Level 3 again"),
                ("model", "tiered"),
                ("tier", "3"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.html.contains(r#"value="Level 3 again""#));
    assert!(
        taken.html.contains("already serves this tier"),
        "{}",
        taken.html
    );
}

on_both_backends!(
    the_mail_page_shows_the_quarantine_to_staff_only,
    the_queues_page_sets_the_tier_a_queue_serves,
    a_refused_outage_report_keeps_the_text,
    a_refused_reply_keeps_what_was_typed,
    forms_without_the_session_token_are_refused_with_a_page,
    a_refused_declaration_keeps_the_form,
    a_refused_routing_rule_keeps_the_text,
    a_refused_agreement_keeps_the_input,
    a_refused_fee_report_keeps_the_input,
    the_case_list_counts_sorts_and_changes_cases_in_bulk,
    a_refused_service_level_policy_keeps_the_input,
);

async fn the_case_list_counts_sorts_and_changes_cases_in_bulk(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let policy = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": "Standard", "first_reply_minutes": 240}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED);
    let a = app
        .file_case(&t.initech, json!({"subject": "Printer offline"}))
        .await;
    let b = app
        .file_case(&t.initech, json!({"subject": "Login loop"}))
        .await;
    app.settle_sla().await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    // The agent starts on their own unsolved cases: none yet, and the view says so.
    let list = agent.get("/cases").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("Assigned to me"));
    assert!(list.html.contains("No cases here."));
    let all = agent.get("/cases?view=active&sort=-updated").await;
    assert!(all.html.contains("2 cases"), "{}", all.html);
    assert!(all.html.contains("due in 3 h") || all.html.contains("due in 4 h"));
    assert!(all.html.contains(r#"aria-sort="descending""#));
    // Tick both and take them.
    let done = agent
        .post(
            "/cases/bulk",
            &[
                ("action", "assign_me"),
                (&format!("case_{a}"), "on"),
                (&format!("case_{b}"), "on"),
                ("back", "/cases?view=mine"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let mine = agent.get("/cases?view=mine").await;
    assert!(mine.html.contains("Printer offline") && mine.html.contains("Login loop"));
    // A query the list cannot read is shown back with the problem, not an error page.
    let bad = agent.get("/cases?view=all&q=colour%3Ared").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.html.contains("colour:red") && bad.html.to_lowercase().contains("unknown filter"));
    // The case page shows the clocks and the history to staff...
    let page = agent.get(&format!("/cases/{a}")).await;
    assert!(page.html.contains("Service levels") && page.html.contains("First reply"));
    assert!(page.html.contains("History") && page.html.contains("assignee nobody → agent"));
    // When the target runs out, the history says when it did, not only when it was noticed.
    let later = backline_domain::Timestamp::now().plus(backline_domain::Span::HOUR.times(5));
    backline_server::sla::service::sweep(&app.store, later)
        .await
        .unwrap();
    let page = agent.get(&format!("/cases/{a}")).await;
    assert!(
        page.html.contains("first reply target missed (at "),
        "{}",
        page.html
    );
    // ...and neither to the customer, who has no agent views or bulk tools either.
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    let theirs = customer.get(&format!("/cases/{a}")).await;
    assert!(!theirs.html.contains("Service levels") && !theirs.html.contains("History"));
    let their_list = customer.get("/cases").await;
    assert!(!their_list.html.contains("Assigned to me"));
    assert!(!their_list.html.contains("With the selected cases"));
    let refused = customer
        .post(
            "/cases/bulk",
            &[("action", "assign_me"), (&format!("case_{a}"), "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn a_refused_service_level_policy_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let refused = admin
        .post(
            "/sla/policies",
            &[
                ("name", "Gold customers"),
                ("organizations", "initech, nowhere-inc"),
                ("first_reply", "soon"),
                ("priority_urgent", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains(r#"value="Gold customers""#));
    assert!(refused.html.contains(r#"value="initech, nowhere-inc""#));
    assert!(refused
        .html
        .contains("Write a length such as 30m, 4h or 2d"));
    let saved = admin
        .post(
            "/sla/policies",
            &[
                ("name", "Gold customers"),
                ("organizations", "initech"),
                ("first_reply", "1d 4h"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = admin.get("/sla").await;
    assert!(page.html.contains("Gold customers") && page.html.contains("1 d 4 h"));
    // Agents read the policies but get no forms.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let read = agent.get("/sla").await;
    assert!(read.html.contains("Gold customers") && !read.html.contains("Add a policy"));
}

async fn a_refused_fee_report_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let tech = Browser::sign_in(&app, "tech@acme.example").await;
    let refused = tech
        .post(
            "/partners/acme/fees",
            &[("period", "2026-Q4"), ("fees", "12,000")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains(r#"value="12,000""#),
        "the amount is kept"
    );
    assert!(
        refused.html.contains(r#"value="2026-Q4""#),
        "the period is kept"
    );
    assert!(
        refused.html.contains("is not an amount"),
        "{}",
        refused.html
    );
    assert!(
        !refused.html.contains("fees:"),
        "no field names in the message"
    );
    let accepted = tech
        .post(
            "/partners/acme/fees",
            &[("period", "2026-Q4"), ("fees", "12000")],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
}

async fn the_mail_page_shows_the_quarantine_to_staff_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let raw = b"From: Someone <someone@nowhere.example>\r\nSubject: Who do I ask?\r\nMessage-ID: <q1@nowhere.example>\r\n\r\nHello there.\r\n";
    let id = app
        .store
        .receive_mail(backline_domain::mail::MailSource::Pipe, None, &[], raw)
        .await
        .unwrap();
    app.state.mail.wake();
    app.mail_settled().await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let inbox = agent.get("/mail").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.html.contains("Who do I ask?"), "{}", inbox.html);
    assert!(inbox.html.contains("not a user"), "the reason is shown");
    let message = agent.get(&format!("/mail/{id}")).await;
    assert!(
        message
            .html
            .contains("Message-ID: &lt;q1@nowhere.example&gt;"),
        "{}",
        message.html
    );
    // Filing it without choosing a customer: the page again, saying what to do.
    let unchosen = agent
        .post(&format!("/mail/{id}/case"), &[("organization", "")])
        .await;
    assert_eq!(unchosen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unchosen.html.contains("Choose the customer"));
    // The original downloads for the signed-in agent (no API token needed).
    let raw = agent.get(&format!("/mail/{id}/raw")).await;
    assert_eq!(raw.status, StatusCode::OK);
    assert!(raw.content_type.starts_with("message/rfc822"));
    // Running it again says what came of it: it still waits, the sender being unknown.
    let ran = agent.post(&format!("/mail/{id}/retry"), &[]).await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER);
    let after = agent.get(&format!("/mail/{id}?ran=true")).await;
    assert!(
        after.html.contains("Ran it again: it still waits"),
        "{}",
        after.html
    );
    let filed = agent
        .post(&format!("/mail/{id}/case"), &[("organization", "initech")])
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.html);
    // Junk that cannot be read is not offered as a case or a rerun, and can be set aside.
    let junk = app
        .store
        .receive_mail(
            backline_domain::mail::MailSource::Pipe,
            None,
            &[],
            b"\x00\x01 not mail",
        )
        .await
        .unwrap();
    app.state.mail.wake();
    app.mail_settled().await;
    let page = agent.get(&format!("/mail/{junk}")).await;
    assert!(page.html.contains("cannot be read as mail"));
    assert!(!page.html.contains("Run it again"));
    assert!(!page.html.contains("Open the case"));
    let aside = agent.post(&format!("/mail/{junk}/dismiss"), &[]).await;
    assert_eq!(aside.status, StatusCode::SEE_OTHER);
    let summary = app.store.inbound_mail(junk).await.unwrap();
    assert_eq!(summary.state, backline_domain::mail::InboundState::Noise);
    assert!(summary.reason.unwrap().starts_with("set aside by"));
    // Customers and partners see none of it, and no link to it.
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    assert_eq!(customer.get("/mail").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        customer.get(&format!("/mail/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!customer
        .get("/cases")
        .await
        .html
        .contains(r#"href="/mail""#));
    let partner = Browser::sign_in(&app, "tech@acme.example").await;
    assert_eq!(partner.get("/mail").await.status, StatusCode::FORBIDDEN);
}
