//! State machines raced from outside, on both databases: conflicting changes sent at the same
//! moment must leave a history in which every transition is one the rules allow.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    a_closed_case_stays_closed_whatever_arrives_with_the_close,
    a_sweep_beside_another_still_sees_every_breach_it_was_asked_for,
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
