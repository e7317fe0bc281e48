//! Crisis management against the real router and a real SMTP exchange (a sink started by the
//! test), on both databases: who is alerted, updates and the end notice, the refusal that sends
//! nothing, Alertmanager's real payload, drills, post-mortems, the status page and its
//! subscriptions, and the cadence clock.

mod common;

use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    only_affected_customers_hear_the_alert_updates_and_end,
    alertmanager_payloads_group_into_signals_that_alert_support,
    drills_reach_only_the_roster_and_stay_off_the_status_page,
    post_mortems_are_due_flag_repeated_causes_and_reach_customers,
    the_status_page_follows_incidents_and_subscriptions_confirm_and_unsubscribe,
    the_clock_reminds_before_the_committed_update_and_flags_overdue,
    service_customers_name_what_is_wrong_and_list_for_staff,
    the_console_shows_each_services_customers,
    a_store_failure_setting_customers_is_not_a_404,
);

fn in_minutes(m: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(m))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Services `backup-eu` (used by globex) and `vault` (used by initech), and a roster.
async fn setup(app: &TestApp) {
    let t = &app.tokens;
    for (slug, name, kind) in [
        ("backup-eu", "Backup EU", "region"),
        ("vault", "Vault", "service"),
    ] {
        let r = app
            .post(
                &t.admin,
                "/api/v1/services",
                json!({"slug": slug, "name": name, "kind": kind, "group": "cloud"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for (slug, orgs) in [
        ("backup-eu", json!(["globex"])),
        ("vault", json!(["initech"])),
    ] {
        let r = app
            .put(
                &t.admin,
                &format!("/api/v1/services/{slug}/customers"),
                json!({"organizations": orgs}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    let roster = json!([
        {"role": "support_communications", "name": "Comms", "email": "comms@vendor.example"},
        {"role": "operations", "name": "Ops", "email": "ops-lead@vendor.example", "phone": "+1 555 0101"},
        {"role": "executive", "name": "Exec", "email": "exec@vendor.example"},
    ]);
    let r = app.put(&t.admin, "/api/v1/roster", roster).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn declare(app: &TestApp, service: &str, title: &str) -> i64 {
    let r = app
        .post(&app.tokens.agent, "/api/v1/incidents", json!({"title": title, "services": [service], "impact": "major",
            "nature": "Backups queue instead of running", "eta": "about two hours", "next_update_at": in_minutes(30),
            "message": "Operations are moving jobs to spare capacity."}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

fn recipients(messages: &[backline_server::smtp_sink::Received]) -> Vec<String> {
    let mut all: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    all.sort();
    all
}

async fn only_affected_customers_hear_the_alert_updates_and_end(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    setup(&app).await;
    let id = declare(&app, "backup-eu", "Backups delayed in the EU").await;
    let alert = app.mail_until(1).await;
    // globex uses backup-eu; initech (vault only) and staff hear nothing.
    assert_eq!(recipients(&alert), vec!["user@globex.example"]);
    assert_eq!(alert[0].subject(), "[major] Backups delayed in the EU");
    let body = &alert[0].text();
    for expected in [
        "Backups queue instead of running",
        "about two hours",
        "Next update by: ",
        "/status",
    ] {
        assert!(body.contains(expected), "alert names {expected:?}: {body}");
    }

    // An update without a committed next time is refused and sends nothing.
    let refused = app
        .post(
            &t.agent,
            &format!("/api/v1/incidents/{id}/updates"),
            json!({"state": "identified", "message": "Found it"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body["error"]["fields"]["next_update_at"].is_string());
    let before = app
        .get(&t.agent, &format!("/api/v1/incidents/{id}/notifications"))
        .await
        .body["notifications"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, 1);

    let update = app
        .post(&t.agent, &format!("/api/v1/incidents/{id}/updates"), json!({"state": "identified", "message": "A full disk on the scheduler.", "next_update_at": in_minutes(45)}))
        .await;
    assert_eq!(update.status, StatusCode::CREATED, "{}", update.body);
    let resolved = app
        .post(
            &t.agent,
            &format!("/api/v1/incidents/{id}/updates"),
            json!({"state": "resolved", "message": "Queues drained; all backups ran."}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::CREATED, "{}", resolved.body);
    assert_eq!(resolved.body["state"], "resolved");
    let all = app.mail_until(3).await;
    assert_eq!(recipients(&all), vec!["user@globex.example"; 3]);
    assert!(all[1].subject().starts_with("[identified]") && all[1].text().contains("A full disk"));
    assert!(all[2].subject().starts_with("[resolved]"));
    // A resolved incident takes no more updates.
    let late = app
        .post(
            &t.agent,
            &format!("/api/v1/incidents/{id}/updates"),
            json!({"state": "monitoring", "message": "x", "next_update_at": in_minutes(5)}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);

    // Recorded per recipient, each sent once.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let log = app
        .get(&t.agent, &format!("/api/v1/incidents/{id}/notifications"))
        .await;
    let rows = log.body["notifications"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|n| n["status"] == "sent" && n["recipient"] == "user@globex.example"),
        "{rows:?}"
    );
    assert_eq!(
        app.mail.as_ref().unwrap().messages().len(),
        3,
        "nothing sent twice"
    );

    // A customer whose partner's agreement says `never` hears nothing from the vendor; its
    // partner is told instead, to carry the news.
    let agreement = json!({"customer_owner": "partner", "billing_owner": "partner", "troubleshooting_checklist": [],
        "vanilla_reproduction_required": false, "customers_see_vendor_kb": true, "vendor_direct_contact": "never",
        "updates_distributed_by": "partner"});
    app.put(&t.admin, "/api/v1/partners/acme/agreement", agreement)
        .await;
    let quiet = declare(&app, "backup-eu", "Second backup delay").await;
    let log = app
        .get(
            &t.agent,
            &format!("/api/v1/incidents/{quiet}/notifications"),
        )
        .await;
    let told: Vec<&str> = log.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(told, vec!["tech@acme.example"], "{}", log.body);
    // Only staff run incidents and see the crisis set-up.
    for path in [
        "/api/v1/services",
        "/api/v1/roster",
        "/api/v1/signals",
        "/api/v1/templates/alert",
        &format!("/api/v1/incidents/{id}/notifications"),
    ] {
        for token in [&t.globex, &t.acme] {
            assert_eq!(
                app.get(token, path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
    }
    assert_eq!(
        app.post(
            &t.acme,
            "/api/v1/services",
            json!({"slug": "x", "name": "X", "kind": "tool"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.post(&t.globex, "/api/v1/drills", json!({"title": "x", "services": ["vault"], "impact": "minor", "nature": "n", "next_update_at": in_minutes(10)})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(
            &t.globex,
            &format!("/api/v1/incidents/{id}/postmortem/publish"),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&t.globex, "/api/v1/incidents").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.post(&t.acme, "/api/v1/incidents", json!({"title": "x", "services": ["vault"], "impact": "minor", "nature": "n", "next_update_at": in_minutes(10)})).await.status, StatusCode::FORBIDDEN);
}

/// What Alertmanager (v0.27) posts for a group of two firing alerts, every field included.
fn alertmanager_payload(status: &str, ends_at: &str) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}/{service=\"backup-eu\"}:{alertname=\"BackupQueueStuck\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "backline",
        "groupLabels": {"alertname": "BackupQueueStuck"},
        "commonLabels": {"alertname": "BackupQueueStuck", "service": "backup-eu", "severity": "critical"},
        "commonAnnotations": {"summary": "Backup jobs are not starting"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {"status": status, "labels": {"alertname": "BackupQueueStuck", "service": "backup-eu", "instance": "sched-1:9100", "severity": "critical"},
             "annotations": {"summary": "Backup jobs are not starting", "description": "Queue depth above 500 for 10 minutes on sched-1"},
             "startsAt": "2026-11-23T10:00:00.000Z", "endsAt": ends_at,
             "generatorURL": "http://prometheus.example:9090/graph?g0.expr=backup_queue_depth+%3E+500", "fingerprint": "a1b2c3d4e5f60718"},
            {"status": status, "labels": {"alertname": "BackupQueueStuck", "service": "backup-eu", "instance": "sched-2:9100", "severity": "critical"},
             "annotations": {"summary": "Backup jobs are not starting", "description": "Queue depth above 500 for 10 minutes on sched-2"},
             "startsAt": "2026-11-23T10:00:30.000Z", "endsAt": ends_at,
             "generatorURL": "http://prometheus.example:9090/graph?g0.expr=backup_queue_depth+%3E+500", "fingerprint": "b2c3d4e5f6071829"}
        ]
    })
}

async fn alertmanager_payloads_group_into_signals_that_alert_support(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    setup(&app).await;
    let fired = app
        .post(
            &t.admin,
            "/api/v1/signals/alertmanager",
            alertmanager_payload("firing", "0001-01-01T00:00:00Z"),
        )
        .await;
    assert_eq!(fired.status, StatusCode::OK, "{}", fired.body);
    assert_eq!(fired.body["signals"], 2);
    // Both alerts join one group for the service; only the first opened it.
    let groups = fired.body["groups"].as_array().unwrap();
    assert_eq!(groups[0]["id"], groups[1]["id"]);
    assert_eq!(
        (groups[0]["new"].as_bool(), groups[1]["new"].as_bool()),
        (Some(true), Some(false))
    );
    let resolved = app
        .post(
            &t.admin,
            "/api/v1/signals/alertmanager",
            alertmanager_payload("resolved", "2026-11-23T10:20:00.000Z"),
        )
        .await;
    assert_eq!(resolved.body["groups"][0]["new"], false);
    // The support team (communications and operations) is alerted once, at once.
    let mail = app.mail_until(2).await;
    assert_eq!(
        recipients(&mail),
        vec!["comms@vendor.example", "ops-lead@vendor.example"]
    );
    assert!(
        mail[0].subject().contains("Backup jobs are not starting")
            && mail[0].subject().contains("Backup EU")
    );
    let list = app.get(&t.agent, "/api/v1/signals").await;
    let group = &list.body["groups"][0];
    assert_eq!(
        (
            group["signals"].as_i64(),
            group["firing"].as_i64(),
            group["state"].as_str()
        ),
        (Some(4), Some(2), Some("open"))
    );
    assert_eq!(group["service"]["slug"], "backup-eu");
    // Another version is refused with a clear message; customers may report a problem.
    let mut v1 = alertmanager_payload("firing", "0001-01-01T00:00:00Z");
    v1["version"] = json!("1");
    assert_eq!(
        app.post(&t.admin, "/api/v1/signals/alertmanager", v1)
            .await
            .code(),
        "unsupported_version"
    );
    assert_eq!(
        app.post(
            &t.globex,
            "/api/v1/signals/alertmanager",
            alertmanager_payload("firing", "0001-01-01T00:00:00Z")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let report = app
        .post(
            &t.globex,
            "/api/v1/signals",
            json!({"service": "vault", "title": "Cannot unlock the vault"}),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.body);

    // Operations dismiss the signal straight to a post-mortem: no customer is told.
    let gid = group["id"].as_i64().unwrap();
    let dismissed = app
        .post(
            &t.agent,
            &format!("/api/v1/signals/{gid}/dismiss"),
            json!({"reason": "Flapped for a minute"}),
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::OK, "{}", dismissed.body);
    assert_eq!(
        (
            dismissed.body["public"].as_bool(),
            dismissed.body["state"].as_str()
        ),
        (Some(false), Some("resolved"))
    );
    let pm = app
        .get(
            &t.agent,
            &format!("/api/v1/incidents/{}/postmortem", dismissed.body["id"]),
        )
        .await;
    assert_eq!(pm.status, StatusCode::OK);
    let status = app.request(Method::GET, None, "/status.json", None).await;
    assert!(status.body["incidents"].as_array().unwrap().is_empty());
}

async fn drills_reach_only_the_roster_and_stay_off_the_status_page(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    setup(&app).await;
    // Templates are editable; an unknown variable is refused and changes nothing.
    let bad = app
        .put(
            &t.admin,
            "/api/v1/templates/alert",
            json!({"subject": "{{colour}}", "body": "x"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["subject"]
        .as_str()
        .unwrap()
        .contains("unknown placeholder"));
    let good = app
        .put(
            &t.admin,
            "/api/v1/templates/alert",
            json!({"subject": "Heads up: {{title}}", "body": "{{nature}} on {{services}}"}),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_eq!(
        app.get(&t.agent, "/api/v1/templates/alert").await.body["subject"],
        "Heads up: {{title}}"
    );
    let drill = app
        .post(
            &t.agent,
            "/api/v1/drills",
            json!({"title": "Saturday 2am drill", "services": ["backup-eu"], "impact": "critical",
            "nature": "Practice", "next_update_at": in_minutes(20)}),
        )
        .await;
    assert_eq!(drill.status, StatusCode::CREATED, "{}", drill.body);
    assert_eq!(drill.body["dry_run"], true);
    let mail = app.mail_until(3).await;
    assert_eq!(
        recipients(&mail),
        vec![
            "comms@vendor.example",
            "exec@vendor.example",
            "ops-lead@vendor.example"
        ]
    );
    assert!(
        mail.iter()
            .all(|m| m.subject() == "[DRILL] Heads up: Saturday 2am drill"),
        "{:?}",
        mail.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    assert!(mail[0].text().contains("Practice on Backup EU"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.mail.as_ref().unwrap().messages().len(),
        3,
        "no customer hears a drill"
    );
    let status = app.request(Method::GET, None, "/status.json", None).await;
    assert!(status.body["incidents"].as_array().unwrap().is_empty());
    assert_eq!(status.body["services"][0]["state"], "operational");
}

async fn post_mortems_are_due_flag_repeated_causes_and_reach_customers(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    setup(&app).await;
    let first = declare(&app, "backup-eu", "Backups delayed").await;
    // No post-mortem while the incident is open.
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/incidents/{first}/postmortem"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.post(
        &t.agent,
        &format!("/api/v1/incidents/{first}/updates"),
        json!({"state": "resolved", "message": "Fixed"}),
    )
    .await;
    let pm = app
        .get(&t.agent, &format!("/api/v1/incidents/{first}/postmortem"))
        .await;
    assert_eq!(pm.status, StatusCode::OK);
    // Due at the end of the third business day after today.
    let today = time::OffsetDateTime::now_utc().date();
    let due = backline_domain::crisis::business_days_after(today, 3);
    assert!(
        pm.body["due_at"]
            .as_str()
            .unwrap()
            .starts_with(&due.to_string()),
        "{}",
        pm.body
    );
    let kinds: Vec<&str> = pm.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["declared", "resolved"]);

    let body = json!({"summary": "Scheduler disk filled", "root_cause": "Log rotation off", "category": "Capacity",
        "action_items": [{"title": "Alert on disk", "owner": "ops", "due": "2026-12-01"}],
        "internal_report": "Internal detail", "customer_edition": "A full disk stopped backups for 40 minutes."});
    let saved = app
        .put(
            &t.agent,
            &format!("/api/v1/incidents/{first}/postmortem"),
            body.clone(),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["executive_review"], false);
    let bad = app
        .put(
            &t.agent,
            &format!("/api/v1/incidents/{first}/postmortem"),
            json!({"action_items": [{"title": "", "owner": ""}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The same cause again within 90 days goes to the executives.
    let second = declare(&app, "vault", "Vault slow").await;
    app.post(
        &t.agent,
        &format!("/api/v1/incidents/{second}/updates"),
        json!({"state": "resolved", "message": "Fixed"}),
    )
    .await;
    let again = app
        .put(
            &t.agent,
            &format!("/api/v1/incidents/{second}/postmortem"),
            json!({"category": "capacity"}),
        )
        .await;
    assert_eq!(again.body["executive_review"], true, "{}", again.body);
    // Publishing needs a customer edition, and sends it to the affected customers once.
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/incidents/{second}/postmortem/publish"),
            json!({})
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let before = app.mail_until(4).await.len();
    let published = app
        .post(
            &t.agent,
            &format!("/api/v1/incidents/{first}/postmortem/publish"),
            json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let mail = app.mail_until(before + 1).await;
    let last = mail.last().unwrap();
    assert_eq!(last.to, vec!["user@globex.example"]);
    assert!(
        last.subject().starts_with("Post-mortem")
            && last.text().contains("A full disk stopped backups")
    );
    assert!(
        !last.text().contains("Internal detail"),
        "the internal report stays internal"
    );
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/incidents/{first}/postmortem/publish"),
            json!({})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
}

async fn the_status_page_follows_incidents_and_subscriptions_confirm_and_unsubscribe(
    backend: Backend,
) {
    let app = TestApp::start_with_mail(backend).await;
    setup(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Subscribe to vault: a confirmation comes first; nothing else until confirmed.
    let form = client
        .post(format!("{}/status/subscribe", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=Fan%40example.org&services=vault")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let confirm = app.mail_until(1).await;
    assert_eq!(confirm[0].to, vec!["fan@example.org"]);
    let link = confirm[0]
        .text()
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("/status/confirm/"))
        })
        .unwrap()
        .to_string();
    let unsubscribe = confirm[0]
        .text()
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("/status/unsubscribe/"))
        })
        .unwrap()
        .to_string();
    let bad = client
        .post(format!("{}/status/subscribe", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=not-an-email&services=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        client.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );

    let id = declare(&app, "vault", "Vault unlocks fail").await;
    let mail = app.mail_until(3).await;
    // initech (uses vault) and the subscriber; the subscriber's copy can unsubscribe.
    assert_eq!(
        recipients(&mail[1..]),
        vec!["fan@example.org", "user@initech.example"]
    );
    let fan = mail
        .iter()
        .find(|m| m.to == vec!["fan@example.org"] && m.subject().starts_with("[major]"))
        .unwrap();
    assert!(fan.text().contains("/status/unsubscribe/"));
    // Subscription mail says so to mail programs: an unsubscribe link in the headers, and
    // no auto-responder should answer it. Mail to a customer carries no such link.
    let list = fan.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert!(
        list.starts_with("<http") && list.contains("/status/unsubscribe/"),
        "{list}"
    );
    assert_eq!(
        fan.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let customer = mail
        .iter()
        .find(|m| m.to == vec!["user@initech.example"] && m.subject().starts_with("[major]"))
        .unwrap();
    assert!(customer.header("List-Unsubscribe").is_none());

    let status = app.request(Method::GET, None, "/status.json", None).await;
    let vault = status.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "vault")
        .unwrap()
        .clone();
    assert_eq!(vault["state"], "partial_outage");
    assert_eq!(vault["history"].as_array().unwrap().len(), 1);
    assert_eq!(status.body["incidents"][0]["id"], id);
    let html = client
        .get(format!("{}/status", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Vault unlocks fail") && html.contains("Partial outage"));
    let atom = client
        .get(format!("{}/status.atom", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        atom.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    assert!(atom
        .text()
        .await
        .unwrap()
        .contains("<title>investigating: Vault unlocks fail</title>"));

    // One click unsubscribes; the next update goes to initech only.
    assert_eq!(
        client.get(&unsubscribe).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.post(
        &app.tokens.agent,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({"state": "resolved", "message": "Done"}),
    )
    .await;
    let after = app.mail_until(4).await;
    assert_eq!(after[3].to, vec!["user@initech.example"]);
    let status = app.request(Method::GET, None, "/status.json", None).await;
    assert!(status.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["state"] == "operational"));
}

async fn the_clock_reminds_before_the_committed_update_and_flags_overdue(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    setup(&app).await;
    let r = app
        .post(
            &t.agent,
            "/api/v1/incidents",
            json!({"title": "Sync slow", "services": ["vault"], "impact": "minor",
            "nature": "Slow", "next_update_at": in_minutes(5)}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    // Five minutes before the committed update: the communications role is reminded, once.
    backline_server::crisis::service::check_cadence(&app.state)
        .await
        .unwrap();
    backline_server::crisis::service::check_cadence(&app.state)
        .await
        .unwrap();
    let mail = app.mail_until(2).await;
    let reminders: Vec<_> = mail
        .iter()
        .filter(|m| m.subject().starts_with("Update due"))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].to, vec!["comms@vendor.example"]);
    // The committed time passes (simulated by storing an update due a minute ago): overdue.
    app.store
        .add_incident_update(
            backline_domain::IncidentId(id),
            &backline_store::crisis::IncidentUpdate {
                state: backline_domain::crisis::IncidentState::Identified,
                message: "late".into(),
                next_update_at: Some(
                    backline_domain::Timestamp::now().minus(backline_domain::Span::MINUTE),
                ),
                eta: None,
                by: backline_domain::UserId(app.agent_id),
                postmortem_due: None,
            },
            &[],
        )
        .await
        .unwrap();
    backline_server::crisis::service::check_cadence(&app.state)
        .await
        .unwrap();
    let incident = app.get(&t.agent, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(incident.body["overdue"], true);
    let kinds: Vec<&str> = incident.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"reminded") && kinds.contains(&"overdue"),
        "{kinds:?}"
    );
    // A fresh update clears the flag.
    app.post(
        &t.agent,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({"state": "monitoring", "message": "Fix applied", "next_update_at": in_minutes(60)}),
    )
    .await;
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/incidents/{id}"))
            .await
            .body["overdue"],
        false
    );
}

async fn put_customers(app: &TestApp, service: &str, orgs: Value) -> common::Reply {
    app.put(
        &app.tokens.admin,
        &format!("/api/v1/services/{service}/customers"),
        json!({ "organizations": orgs }),
    )
    .await
}

async fn service_customers_name_what_is_wrong_and_list_for_staff(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    setup(&app).await;

    // A missing service is a 404, for reading and writing alike.
    let missing = put_customers(&app, "nope", json!(["globex"])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(
        app.get(&t.admin, "/api/v1/services/nope/customers")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Every unknown slug, and every organisation that is not a customer, is named.
    let unknown = put_customers(&app, "vault", json!(["globex", "ghost", "phantom", "acme"])).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let message = unknown.body["error"]["fields"]["organizations"]
        .as_str()
        .unwrap();
    for name in ["ghost", "phantom", "acme"] {
        assert!(message.contains(name), "{name} not named in {message:?}");
    }
    assert!(!message.contains("globex"), "{message}");

    // Nothing changed; then a good list replaces the customers.
    let read = app.get(&t.admin, "/api/v1/services/vault/customers").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["service"], "vault");
    let slugs = |body: &Value| -> Vec<String> {
        body["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(slugs(&read.body), ["initech"]);
    let set = put_customers(&app, "vault", json!(["umbrella", "initech"])).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.body);
    let read = app.get(&t.agent, "/api/v1/services/vault/customers").await;
    assert_eq!(slugs(&read.body), ["initech", "umbrella"]);
    assert_eq!(read.body["organizations"][0]["name"], "INITECH");

    // Staff only: customers and partners are refused.
    for token in [&t.globex, &t.acme] {
        let refused = app.get(token, "/api/v1/services/vault/customers").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }

    // Documented, with its typed answer.
    let doc = app
        .request(Method::GET, None, "/api/v1/openapi.json", None)
        .await;
    assert!(doc.body["paths"]["/api/v1/services/{slug}/customers"]["get"].is_object());
    assert!(
        doc.body["components"]["schemas"]["ServiceCustomers"]["properties"]["organizations"]
            .is_object()
    );
}

/// The page at `path` as `email` sees it, signed in with a web session.
async fn page_as(app: &TestApp, email: &str, path: &str) -> (StatusCode, String) {
    let cookie = app.session_cookie(email).await;
    let reply = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (reply.status(), reply.text().await.unwrap())
}

async fn the_console_shows_each_services_customers(backend: Backend) {
    let app = TestApp::start(backend).await;
    setup(&app).await;
    put_customers(&app, "vault", json!(["initech", "umbrella"])).await;
    let (status, html) = page_as(&app, "agent@vendor.example", "/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let customers_of = |slug: &str| -> String {
        let start = html
            .find(&format!("data-service-customers=\"{slug}\""))
            .unwrap_or_else(|| panic!("no customers of {slug} on the console"));
        let end = html[start..].find("</li>").unwrap() + start;
        html[start..end].to_string()
    };
    let vault = customers_of("vault");
    assert!(
        vault.contains("INITECH") && vault.contains("UMBRELLA"),
        "{vault}"
    );
    assert!(!vault.contains("GLOBEX"), "{vault}");
    let backup = customers_of("backup-eu");
    assert!(
        backup.contains("GLOBEX") && !backup.contains("INITECH"),
        "{backup}"
    );
}

async fn a_store_failure_setting_customers_is_not_a_404(backend: Backend) {
    let app = TestApp::start(backend).await;
    setup(&app).await;
    // The services table disappears under the running server: a fault, not a missing service.
    backline_store::testing::execute_raw(
        &app.store,
        "ALTER TABLE services RENAME TO services_gone",
    )
    .await
    .unwrap();
    let reply = put_customers(&app, "vault", json!(["initech"])).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
}
