//! State machines raced from outside, on both databases: conflicting changes sent at the same
//! moment must leave a history in which every transition is one the rules allow.

mod common;

use common::browser::Browser;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    a_closed_case_stays_closed_whatever_arrives_with_the_close,
    a_sweep_beside_another_still_sees_every_breach_it_was_asked_for,
    an_incident_is_resolved_once_and_takes_no_update_after,
    a_published_post_mortem_is_the_edition_that_was_sent,
    post_mortem_edits_never_overwrite_a_newer_save,
);

async fn a_closed_case_stays_closed_whatever_arrives_with_the_close(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    for round in 0..20 {
        let case = app
            .file_case(
                &t.initech,
                json!({"subject": format!("Race {round}"), "description": "x"}),
            )
            .await;
        let solved = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{case}"),
                json!({"status": "solved"}),
            )
            .await;
        assert_eq!(solved.status, StatusCode::OK, "{}", solved.body);
        let path = format!("/api/v1/cases/{case}");
        let comments = format!("{path}/comments");
        // Agent A closes; at the same moment agent B reopens, someone raises the priority and
        // the customer writes.
        let (close, reopen, raise, write) = tokio::join!(
            app.patch(&t.agent, &path, json!({"status": "closed"})),
            app.patch(&t.admin, &path, json!({"status": "open"})),
            app.patch(&t.admin, &path, json!({"priority": "urgent"})),
            app.post(&t.initech, &comments, json!({"body": "Still broken?"})),
        );
        for reply in [&close, &reopen, &raise, &write] {
            assert!(
                reply.status.is_success() || reply.status.is_client_error(),
                "round {round}: {} {}",
                reply.status,
                reply.body
            );
        }
        // Whatever order they ran in, nothing changed the case after it was closed.
        let events = app.get(&t.agent, &format!("{path}/events")).await.body["events"]
            .as_array()
            .unwrap()
            .clone();
        let closed_at = events
            .iter()
            .position(|e| e["kind"] == "status_changed" && e["data"]["to"] == "closed");
        if let Some(at) = closed_at {
            let after: Vec<&Value> = events[at + 1..]
                .iter()
                .filter(|e| {
                    e["kind"] != "classified" && !e["kind"].as_str().unwrap().starts_with("sla_")
                })
                .collect();
            assert!(
                after.is_empty(),
                "round {round}: changes after the close: {after:?}"
            );
            assert_eq!(app.get(&t.agent, &path).await.body["status"], "closed");
            assert!(close.status.is_success());
        } else {
            assert!(
                close.status.is_client_error(),
                "round {round}: {}",
                close.body
            );
        }
    }
}

async fn a_sweep_beside_another_still_sees_every_breach_it_was_asked_for(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let policy = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": "Standard", "first_reply_minutes": 60}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED);
    let later = backline_domain::Timestamp::now().plus(backline_domain::Span::HOUR.times(2));
    for round in 0..10 {
        let case = app
            .file_case(
                &t.initech,
                json!({"subject": format!("Clock race {round}")}),
            )
            .await;
        // One sweep evaluates the new case as of now while another is asked for two hours on;
        // whichever writes first, the later one must end with the breach it was asked about.
        let now = backline_domain::Timestamp::now();
        let (a, b) = tokio::join!(
            backline_server::sla::service::sweep(&app.store, now),
            backline_server::sla::service::sweep(&app.store, later),
        );
        a.unwrap();
        b.unwrap();
        let clocks = app
            .store
            .case_clocks(backline_domain::CaseId(case))
            .await
            .unwrap();
        assert!(
            clocks.iter().any(|c| c.breached_at.is_some()),
            "round {round}: {clocks:?}"
        );
    }
}

fn in_minutes(m: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(m))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The `vault` service, used by initech.
async fn vault(app: &TestApp) {
    let t = &app.tokens;
    let made = app
        .post(
            &t.admin,
            "/api/v1/services",
            json!({"slug": "vault", "name": "Vault", "kind": "service", "group": "cloud"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let used = app
        .put(
            &t.admin,
            "/api/v1/services/vault/customers",
            json!({"organizations": ["initech"]}),
        )
        .await;
    assert!(used.status.is_success(), "{}", used.body);
}

async fn declare(app: &TestApp, title: &str) -> i64 {
    let r = app
        .post(
            &app.tokens.agent,
            "/api/v1/incidents",
            json!({"title": title, "services": ["vault"], "impact": "major", "nature": "Vault answers slowly",
                   "next_update_at": in_minutes(30), "message": "Looking into it."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

fn timeline(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn an_incident_is_resolved_once_and_takes_no_update_after(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    vault(&app).await;
    for round in 0..10 {
        let id = declare(&app, &format!("Race {round}")).await;
        let updates = format!("/api/v1/incidents/{id}/updates");
        // Two people resolve while two others post updates.
        let (a, b, c, d) = tokio::join!(
            app.post(&t.agent, &updates, json!({"state": "resolved", "message": "Fixed"})),
            app.post(&t.admin, &updates, json!({"state": "resolved", "message": "Fixed too"})),
            app.post(&t.agent, &updates, json!({"state": "identified", "message": "Found it", "next_update_at": in_minutes(30)})),
            app.post(&t.admin, &updates, json!({"state": "monitoring", "message": "Watching", "next_update_at": in_minutes(30)})),
        );
        for reply in [&a, &b, &c, &d] {
            assert!(
                reply.status.is_success() || reply.status == StatusCode::CONFLICT,
                "round {round}: {} {}",
                reply.status,
                reply.body
            );
        }
        assert_eq!(
            [&a, &b].iter().filter(|r| r.status.is_success()).count(),
            1,
            "round {round}: exactly one resolution lands"
        );
        let incident = app
            .get(&t.agent, &format!("/api/v1/incidents/{id}"))
            .await
            .body;
        assert_eq!(incident["state"], "resolved");
        let kinds = timeline(&incident);
        let resolved = kinds.iter().filter(|k| *k == "resolved").count();
        assert_eq!(resolved, 1, "round {round}: {kinds:?}");
        let at = kinds.iter().position(|k| k == "resolved").unwrap();
        assert!(
            !kinds[at + 1..].iter().any(|k| k == "update"),
            "round {round}: an update after the resolution: {kinds:?}"
        );
        // The customers hear of the resolution once.
        let sent = app
            .get(&t.agent, &format!("/api/v1/incidents/{id}/notifications"))
            .await
            .body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "resolved")
            .count();
        assert_eq!(sent, 1, "round {round}");
    }
}

async fn a_published_post_mortem_is_the_edition_that_was_sent(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    vault(&app).await;
    for round in 0..6 {
        let id = declare(&app, &format!("Post-mortem race {round}")).await;
        let resolved = app
            .post(
                &t.agent,
                &format!("/api/v1/incidents/{id}/updates"),
                json!({"state": "resolved", "message": "Fixed"}),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::CREATED, "{}", resolved.body);
        let pm = format!("/api/v1/incidents/{id}/postmortem");
        let first = format!("Edition zero of round {round}.");
        let saved = app
            .put(
                &t.agent,
                &pm,
                json!({"category": "capacity", "customer_edition": first}),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        // One person publishes while two others rewrite the customer edition.
        let publish_path = format!("{pm}/publish");
        let one_body = json!({"category": "capacity", "customer_edition": format!("Edition one of round {round}.")});
        let two_body = json!({"category": "capacity", "customer_edition": format!("Edition two of round {round}.")});
        let (publish, one, two) = tokio::join!(
            app.post(&t.agent, &publish_path, json!({})),
            app.put(&t.admin, &pm, one_body),
            app.put(&t.agent, &pm, two_body),
        );
        for reply in [&publish, &one, &two] {
            assert!(
                reply.status.is_success() || reply.status.is_client_error(),
                "round {round}: {} {}",
                reply.status,
                reply.body
            );
        }
        if !publish.status.is_success() {
            // Refused because the edition changed under it: nothing went out; published now,
            // with nothing racing, it goes.
            assert_eq!(
                publish.status,
                StatusCode::CONFLICT,
                "round {round}: {}",
                publish.body
            );
            assert!(
                app.get(&t.agent, &pm).await.body["published_at"].is_null(),
                "round {round}"
            );
            let again = app.post(&t.agent, &publish_path, json!({})).await;
            assert_eq!(
                again.status,
                StatusCode::OK,
                "round {round}: {}",
                again.body
            );
        }
        // What went out is what is kept: no save after the publication changed it.
        let stored = app.get(&t.agent, &pm).await.body;
        let edition = stored["customer_edition"].as_str().unwrap().to_string();
        let mail = app
            .until("the post-mortem mail", || async {
                app.mail.as_ref().unwrap().messages().into_iter().find(|m| {
                    m.subject().starts_with("Post-mortem")
                        && m.text().contains(&format!("round {round}."))
                })
            })
            .await;
        assert!(
            mail.text().contains(&edition),
            "round {round}: sent {} but kept {edition}",
            mail.text()
        );
        let rewrite = app
            .put(
                &t.admin,
                &pm,
                json!({"category": "capacity", "customer_edition": "Rewritten after it went out."}),
            )
            .await;
        assert_eq!(
            rewrite.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            rewrite.body
        );
        let internal = app
            .put(&t.admin, &pm, json!({"category": "capacity", "customer_edition": edition, "internal_report": "More detail"}))
            .await;
        assert_eq!(internal.status, StatusCode::OK, "{}", internal.body);
    }
}

async fn post_mortem_edits_never_overwrite_a_newer_save(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    vault(&app).await;
    let id = declare(&app, "Versions").await;
    let resolved = app
        .post(
            &t.agent,
            &format!("/api/v1/incidents/{id}/updates"),
            json!({"state": "resolved", "message": "Fixed"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::CREATED);
    let url = format!("{}/api/v1/incidents/{id}/postmortem", app.base);
    let read = app
        .client
        .get(&url)
        .bearer_auth(&t.agent)
        .send()
        .await
        .unwrap();
    let first = read.headers()["etag"].to_str().unwrap().to_string();
    let put = |token: &str, tag: &str, summary: &str| {
        app.client
            .put(&url)
            .bearer_auth(token)
            .header("if-match", tag)
            .json(&json!({"summary": summary, "category": "capacity"}))
            .send()
    };
    // Two saves against the same read, even within one millisecond: the second is refused.
    let one = put(&t.agent, &first, "Disk full").await.unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    let second_tag = one.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(second_tag, first);
    let two = put(&t.admin, &first, "Network").await.unwrap();
    assert_eq!(two.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = two.json().await.unwrap();
    assert_eq!(body["error"]["code"], "stale");
    let now = app
        .get(&t.agent, &format!("/api/v1/incidents/{id}/postmortem"))
        .await
        .body;
    assert_eq!(now["summary"], "Disk full");
    // The page's form carries its version; drawn before a colleague's save, it comes back
    // with the text typed and says why.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/incidents/{id}")).await;
    let version = second_tag.trim_matches('"').to_string();
    assert!(
        page.html
            .contains(&format!(r#"name="version" value="{version}""#)),
        "{}",
        page.html
    );
    let three = put(&t.admin, &second_tag, "Disk full on the scheduler")
        .await
        .unwrap();
    assert_eq!(three.status(), StatusCode::OK);
    let stale = agent
        .post(
            &format!("/incidents/{id}/postmortem"),
            &[
                ("version", version.as_str()),
                ("summary", "My long analysis"),
                ("category", "capacity"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.html);
    assert!(
        stale.html.contains("while you were editing") && stale.html.contains("My long analysis")
    );
    let now = app
        .get(&t.agent, &format!("/api/v1/incidents/{id}/postmortem"))
        .await
        .body;
    assert_eq!(now["summary"], "Disk full on the scheduler");
}
