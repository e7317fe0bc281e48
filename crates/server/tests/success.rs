//! Customer success over the real router on both databases: health from what Backline knows
//! with the vendor's weights, playbooks run by a trigger and by hand, tasks with owners and due
//! dates, a step's email approved into the outbox and delivered, a partner-alert playbook
//! started by a real alert, suggestions, and staff-only access.

mod common;

use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    health_follows_the_cases_and_the_vendors_weights,
    a_trigger_runs_a_playbook_once_and_creates_tasks,
    an_approved_step_queues_its_email_in_the_outbox,
    a_partner_alert_playbook_starts_from_a_real_alert,
    an_incident_on_a_service_it_uses_starts_the_incident_playbook,
    playbooks_are_versioned_and_improved_by_suggestions,
    success_is_for_staff_only,
);

fn renewal_playbook(trigger: Value) -> Value {
    json!({
        "name": "Renewal ahead", "situation": "renewal",
        "summary": "Secure the renewal before the date.",
        "trigger": trigger,
        "steps": [
            {"title": "Send the renewal note", "owner": "account_owner", "day_offset": 0,
             "script": "Confirm who signs and when.",
             "email_subject": "Your renewal, {{account.name}}",
             "email_body": "Hello {{recipient.name}},\n\nyour renewal is due on {{renewal.date}}. {{owner.name}}",
             "dialogue": "Q: Can we wait? A: Let us plan it now."},
            {"title": "Review usage", "owner": "runner", "day_offset": 7}
        ]
    })
}

async fn create_playbook(app: &TestApp, token: &str, body: Value) -> i64 {
    let reply = app.post(token, "/api/v1/success/playbooks", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

fn account<'a>(list: &'a Value, slug: &str) -> &'a Value {
    list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["slug"] == slug)
        .expect("the account")
}

async fn health_follows_the_cases_and_the_vendors_weights(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let list = app.get(&t.agent, "/api/v1/success/accounts").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(account(&list.body, "initech")["health"]["score"], 100.0);
    for subject in ["Backups fail", "Restore is slow"] {
        app.file_case(
            &t.initech,
            json!({"subject": subject, "priority": "urgent"}),
        )
        .await;
    }
    // Two cases where there were none: volume 50; two severe open: 50; no ratings: left out;
    // no incidents or escalations: 100 each. (15x50 + 25x50 + 15x100 + 15x100) / 70 = 71.4.
    let list = app.get(&t.agent, "/api/v1/success/accounts").await;
    let initech = account(&list.body, "initech");
    assert_eq!(initech["health"]["score"], 71.4, "{initech}");
    let satisfaction = &initech["health"]["measures"][2];
    assert_eq!(satisfaction["name"], "satisfaction");
    assert!(satisfaction["score"].is_null());
    // Lowest health first.
    assert_eq!(list.body["accounts"][0]["slug"], "initech");

    // The vendor weighs only severe open cases: the score is theirs alone.
    let weights = json!({"volume_trend": 0, "severe_open": 1, "satisfaction": 0, "incidents": 0, "escalations": 0});
    assert_eq!(
        app.put(&t.agent, "/api/v1/success/health-weights", weights.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .put(
            &t.admin,
            "/api/v1/success/health-weights",
            json!({"volume_trend": 0, "severe_open": 0, "satisfaction": 0, "incidents": 0, "escalations": 0}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = app
        .put(&t.admin, "/api/v1/success/health-weights", weights)
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let one = app.get(&t.agent, "/api/v1/success/accounts/initech").await;
    assert_eq!(one.body["health"]["score"], 50.0, "{}", one.body);
    // Health below 60 starts the at-risk playbook on initech alone (the others score 100).
    let at_risk = create_playbook(
        &app,
        &t.admin,
        json!({"name": "At risk", "situation": "objection",
               "trigger": {"kind": "health_below", "threshold": 60},
               "steps": [{"title": "Call the sponsor", "owner": "account_owner", "day_offset": 1}]}),
    )
    .await;
    let check = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    let started = check.body["started"].as_array().unwrap();
    assert_eq!(started.len(), 1, "{}", check.body);
    let run = app
        .get(&t.agent, &format!("/api/v1/success/runs/{}", started[0]))
        .await;
    assert_eq!(
        (
            run.body["account"].as_str(),
            run.body["playbook_id"].as_i64()
        ),
        (Some("initech"), Some(at_risk))
    );
    assert_eq!(run.body["reason"], "health 50.0 is below 60");

    // The account page shows the formula's parts.
    let browser = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = browser.get("/success/accounts/initech").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Health 50.0"));
    assert!(page.html.contains("2 urgent or high cases open"));
    // A refused change comes back as typed.
    let page = browser
        .post(
            "/success/accounts/initech",
            &[
                ("owner_email", "user@globex.example"),
                ("stage", "mature"),
                ("renewal_at", "soon"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("The owner must be vendor staff."));
    assert!(page.html.contains(r#"value="soon""#));
}

async fn a_trigger_runs_a_playbook_once_and_creates_tasks(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let renewal = backline_domain::Timestamp::now()
        .plus(backline_domain::Span::DAY.times(20))
        .date()
        .to_string();
    let reply = app
        .put(
            &t.agent,
            "/api/v1/success/accounts/initech",
            json!({"owner_email": "agent@vendor.example", "stage": "renewal", "renewal_at": renewal}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let playbook = create_playbook(
        &app,
        &t.admin,
        renewal_playbook(json!({"kind": "renewal_within", "days": 30})),
    )
    .await;
    assert_eq!(
        app.post(&t.agent, "/api/v1/success/triggers/check", json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let check = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    let started = check.body["started"].as_array().unwrap().clone();
    assert_eq!(started.len(), 1, "only initech renews: {}", check.body);
    let run = app
        .get(&t.agent, &format!("/api/v1/success/runs/{}", started[0]))
        .await;
    assert_eq!(run.body["trigger"], "renewal_within");
    assert_eq!(run.body["playbook_id"], playbook);
    assert_eq!(run.body["account"], "initech");
    assert!(run.body["started_by"].is_null());
    assert_eq!(run.body["tasks"].as_array().unwrap().len(), 2);
    // Checked again, the open run is not started twice.
    let again = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    assert_eq!(again.body["started"], json!([]));

    // Both tasks are the account owner's; the first is due at once, the second a week later.
    let mine = app.get(&t.agent, "/api/v1/success/tasks/mine").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let tasks = mine.body["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "Send the renewal note");
    assert_eq!(tasks[0]["overdue"], true);
    assert_eq!(tasks[1]["overdue"], false);
    assert_eq!(tasks[0]["details"]["script"], "Confirm who signs and when.");
    assert_eq!(tasks[0]["email_subject"], "Your renewal, INITECH");
    assert!(tasks[0]["email_body"]
        .as_str()
        .unwrap()
        .contains(&format!("due on {renewal}")));
    let admin_tasks = app.get(&t.admin, "/api/v1/success/tasks/mine").await;
    assert_eq!(admin_tasks.body["tasks"], json!([]));

    // The page lists them, the overdue one flagged, its script beside it.
    let browser = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = browser.get("/success/tasks").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Overdue"));
    assert!(page.html.contains("Confirm who signs and when."));

    // Done with a note; finishing the run records the outcome and lets the trigger fire again.
    let first = tasks[0]["id"].as_i64().unwrap();
    let done = app
        .post(
            &t.agent,
            &format!("/api/v1/success/tasks/{first}/complete"),
            json!({"note": "Called the buyer."}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["note"], "Called the buyer.");
    let finished = app
        .post(
            &t.agent,
            &format!("/api/v1/success/runs/{}/finish", started[0]),
            json!({"outcome": "Renewed for two years."}),
        )
        .await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
    assert_eq!(finished.body["outcome"], "Renewed for two years.");
    // Once a day at most, even after the run finished.
    let again = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    assert_eq!(again.body["started"], json!([]));
}

async fn an_approved_step_queues_its_email_in_the_outbox(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    let playbook = create_playbook(&app, &t.admin, renewal_playbook(Value::Null)).await;
    app.put(
        &t.admin,
        "/api/v1/success/accounts/initech",
        json!({"owner_email": "admin@vendor.example", "stage": "renewal", "renewal_at": "2027-03-31"}),
    )
    .await;
    // The agent runs it by hand: the owner's step goes to the account's owner (the admin),
    // the runner's to the agent.
    let run = app
        .post(
            &t.agent,
            &format!("/api/v1/success/playbooks/{playbook}/runs"),
            json!({"account": "initech"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    assert_eq!(run.body["trigger"], "manual");
    let task = run.body["tasks"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/success/tasks/{task}/email");
    // Only the task's owner approves its email.
    let refused = app
        .post(&t.agent, &path, json!({"to": "user@initech.example"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // Only to the account's people.
    let elsewhere = app
        .post(&t.admin, &path, json!({"to": "user@globex.example"}))
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.store.outbox_pending().await.unwrap(), 0);
    let sent = app
        .post(&t.admin, &path, json!({"to": "user@initech.example"}))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.body["email_to"], "user@initech.example");
    let twice = app
        .post(&t.admin, &path, json!({"to": "user@initech.example"}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.code(), "email_sent");
    let mail = app.mail_until(1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["user@initech.example"]);
    assert_eq!(mail[0].subject(), "Your renewal, INITECH");
    let text = mail[0].text();
    assert!(text.contains("Hello user,"), "{text}");
    assert!(text.contains("due on 2027-03-31"), "{text}");
    // A step without an email has none to send.
    let second = run.body["tasks"][1]["id"].as_i64().unwrap();
    let none = app
        .post(
            &t.agent,
            &format!("/api/v1/success/tasks/{second}/email"),
            json!({"to": "user@initech.example"}),
        )
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.body);
    // The run's outcome is recorded from the account page.
    let browser = Browser::sign_in(&app, "admin@vendor.example").await;
    let page = browser.get("/success/accounts/initech").await;
    assert!(page.html.contains("Finish the run"));
    let run_id = run.body["id"].as_i64().unwrap();
    let done = browser
        .post(
            &format!("/success/runs/{run_id}/finish"),
            &[("outcome", "Renewal signed.")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let read = app
        .get(&t.agent, &format!("/api/v1/success/runs/{run_id}"))
        .await;
    assert_eq!(read.body["outcome"], "Renewal signed.");
    assert!(read.body["finished_at"].is_string());
}

async fn a_partner_alert_playbook_starts_from_a_real_alert(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let playbook = create_playbook(
        &app,
        &t.agent,
        json!({"name": "Partner needs help", "situation": "partner_invalid_escalations",
               "trigger": {"kind": "partner_alert"},
               "steps": [{"title": "Review the partner's escalations", "owner": "account_owner", "day_offset": 2}]}),
    )
    .await;
    // No alert yet: nothing starts.
    let check = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    assert_eq!(check.body["started"], json!([]), "{}", check.body);
    // The agreement asks for a certified technician acme does not have: a real alert.
    let agreement = json!({
        "customer_owner": "partner", "billing_owner": "partner",
        "troubleshooting_checklist": [], "vanilla_reproduction_required": false,
        "customers_see_vendor_kb": true, "vendor_direct_contact": "with_permission",
        "updates_distributed_by": "partner", "required_certified_technicians": 1,
    });
    let reply = app
        .put(&t.admin, "/api/v1/partners/acme/agreement", agreement)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let alerts = app.get(&t.admin, "/api/v1/partners/acme/alerts").await;
    assert_eq!(alerts.body["alerts"][0]["kind"], "certified_below_minimum");
    let check = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    let started = check.body["started"].as_array().unwrap();
    assert_eq!(started.len(), 1, "{}", check.body);
    let run = app
        .get(&t.agent, &format!("/api/v1/success/runs/{}", started[0]))
        .await;
    assert_eq!(run.body["account"], "acme");
    assert_eq!(run.body["playbook_id"], playbook);
    assert_eq!(run.body["trigger"], "partner_alert");
    assert!(run.body["reason"]
        .as_str()
        .unwrap()
        .contains("certified_below_minimum"));
    // acme has no owner: the task goes to the playbook's owner, the agent who wrote it.
    let mine = app.get(&t.agent, "/api/v1/success/tasks/mine").await;
    assert_eq!(
        mine.body["tasks"][0]["title"],
        "Review the partner's escalations"
    );
}

async fn playbooks_are_versioned_and_improved_by_suggestions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    // Bad content: every problem named, nothing stored.
    let bad = app
        .post(
            &t.agent,
            "/api/v1/success/playbooks",
            json!({"name": "", "situation": "renewal", "trigger": null,
                   "steps": [{"title": "Write", "owner": "runner", "day_offset": 0,
                              "email_subject": "Hi {{customer}}", "email_body": "Body"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = bad.body["error"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("name") && fields.contains_key("steps[0].email_subject"));
    let none = app.get(&t.agent, "/api/v1/success/playbooks").await;
    assert_eq!(none.body["playbooks"], json!([]));

    let id = create_playbook(&app, &t.agent, renewal_playbook(Value::Null)).await;
    let path = format!("/api/v1/success/playbooks/{id}");
    let mut changed = renewal_playbook(Value::Null);
    changed["summary"] = json!("Start ninety days ahead.");
    // The admin edits it: version 2; version 1 still reads as it was.
    let saved = app.put(&t.admin, &path, changed.clone()).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["version"], 2);
    let v1 = app.get(&t.agent, &format!("{path}/versions/1")).await;
    assert_eq!(
        v1.body["content"]["summary"],
        "Secure the renewal before the date."
    );

    // Another admin's playbook: the agent suggests rather than edits; the owner decides.
    let other = create_playbook(&app, &t.admin, renewal_playbook(Value::Null)).await;
    let other_path = format!("/api/v1/success/playbooks/{other}");
    assert_eq!(
        app.put(&t.agent, &other_path, changed).await.status,
        StatusCode::FORBIDDEN
    );
    let suggested = app
        .post(
            &t.agent,
            &format!("{other_path}/suggestions"),
            json!({"body": "Ask for the procurement contact first."}),
        )
        .await;
    assert_eq!(suggested.status, StatusCode::CREATED, "{}", suggested.body);
    let sid = suggested.body["suggestions"][0]["id"].as_i64().unwrap();
    let decision = format!("{other_path}/suggestions/{sid}/decision");
    assert_eq!(
        app.post(&t.agent, &decision, json!({"accept": true}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&t.admin, &decision, json!({"accept": true}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&t.admin, &decision, json!({"accept": false}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = app
        .get(&t.agent, &format!("{other_path}/suggestions"))
        .await;
    assert_eq!(list.body["suggestions"][0]["state"], "accepted");
    // The page shows the steps with their scripts and the suggestion form.
    let browser = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = browser.get(&format!("/success/playbooks/{other}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Confirm who signs and when."));
    assert!(page.html.contains("Ask for the procurement contact first."));
    let refused = browser
        .post(
            &format!("/success/playbooks/{other}/suggestions"),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn success_is_for_staff_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let playbook = create_playbook(&app, &t.admin, renewal_playbook(Value::Null)).await;
    for token in [&t.acme, &t.globex, &t.initech] {
        for path in [
            "/api/v1/success/accounts".to_string(),
            "/api/v1/success/accounts/initech".to_string(),
            "/api/v1/success/playbooks".to_string(),
            format!("/api/v1/success/playbooks/{playbook}"),
            "/api/v1/success/tasks/mine".to_string(),
            "/api/v1/success/health-weights".to_string(),
        ] {
            let reply = app.get(token, &path).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.body
            );
        }
        let reply = app
            .post(
                token,
                &format!("/api/v1/success/playbooks/{playbook}/runs"),
                json!({"account": "initech"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = app
            .post(
                token,
                "/api/v1/success/playbooks",
                renewal_playbook(Value::Null),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    for email in ["tech@acme.example", "user@initech.example"] {
        let browser = Browser::sign_in(&app, email).await;
        for path in ["/success", "/success/tasks", "/success/accounts/initech"] {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{email} {path}");
        }
        assert!(!browser
            .get("/cases")
            .await
            .html
            .contains(r#"href="/success""#));
    }
    let browser = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = browser.get("/success").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(r#"href="/success""#));
    // Agents do not see the weights form.
    assert!(!page.html.contains(r#"action="/success/weights""#));
}

async fn an_incident_on_a_service_it_uses_starts_the_incident_playbook(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    // Vault is used by initech alone; a roster so an incident can be declared.
    let r = app
        .post(
            &t.admin,
            "/api/v1/services",
            json!({"slug": "vault", "name": "Vault", "kind": "service", "group": "cloud"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .put(
            &t.admin,
            "/api/v1/services/vault/customers",
            json!({"organizations": ["initech"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let roster = json!([
        {"role": "support_communications", "name": "Comms", "email": "comms@vendor.example"},
        {"role": "operations", "name": "Ops", "email": "ops@vendor.example"},
    ]);
    let r = app.put(&t.admin, "/api/v1/roster", roster).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    create_playbook(
        &app,
        &t.agent,
        json!({"name": "After an incident", "situation": "incident_hit",
               "trigger": {"kind": "incident", "days": 7},
               "steps": [{"title": "Call about the outage", "owner": "account_owner", "day_offset": 1}]}),
    )
    .await;
    let next_update = backline_domain::Timestamp::now()
        .plus(backline_domain::Span::MINUTE.times(30))
        .to_rfc3339();
    let r = app
        .post(
            &t.agent,
            "/api/v1/incidents",
            json!({"title": "Vault unlocks fail", "services": ["vault"], "impact": "major",
                   "nature": "Unlocks time out", "eta": "an hour", "next_update_at": next_update,
                   "message": "Operations are restarting the key servers."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The incident counts against initech's health: 100 less 20 for the one incident.
    let one = app.get(&t.agent, "/api/v1/success/accounts/initech").await;
    let incidents = &one.body["health"]["measures"][3];
    assert_eq!(incidents["name"], "incidents");
    assert_eq!(incidents["score"], 80.0, "{}", one.body);
    let globex = app.get(&t.agent, "/api/v1/success/accounts/globex").await;
    assert_eq!(globex.body["health"]["measures"][3]["score"], 100.0);
    // Only initech's account gets the run.
    let check = app
        .post(&t.admin, "/api/v1/success/triggers/check", json!({}))
        .await;
    let started = check.body["started"].as_array().unwrap();
    assert_eq!(started.len(), 1, "{}", check.body);
    let run = app
        .get(&t.agent, &format!("/api/v1/success/runs/{}", started[0]))
        .await;
    assert_eq!(run.body["account"], "initech");
    assert_eq!(run.body["trigger"], "incident");
}
