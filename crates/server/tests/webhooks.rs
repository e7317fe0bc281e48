//! Outbound webhooks against a real receiver (axum on 127.0.0.1:0 in the test), on both
//! databases: deliveries signed as documented, tried again after a 500, a replayed old
//! delivery refused by the documented check, a subscription failing for days switched off and
//! its owner mailed, and only admins managing them.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use backline_domain::webhooks::{verify, Refusal, TOLERANCE_SECS};
use backline_domain::Span;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

on_both_backends!(
    deliveries_are_signed_and_tried_again_after_a_500,
    a_subscription_failing_for_days_is_switched_off_and_its_owner_told,
    only_admins_manage_webhooks,
);

/// What the receiver got: headers and the raw body of each request.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Statuses to answer, in order; the last repeats.
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(answers: Vec<u16>) -> (Receiver, String) {
        let receiver = Receiver {
            got: Arc::default(),
            answers: Arc::new(Mutex::new(answers)),
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    state.got.lock().unwrap().push((headers, body));
                    let mut answers = state.answers.lock().unwrap();
                    let status = if answers.len() > 1 {
                        answers.remove(0)
                    } else {
                        answers[0]
                    };
                    AxumStatus::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    fn nth(&self, i: usize) -> (HeaderMap, Bytes) {
        self.got.lock().unwrap()[i].clone()
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers[name].to_str().unwrap().to_string()
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> Value {
    let reply = app
        .post(
            &app.tokens.admin,
            "/api/v1/webhooks",
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn deliveries(app: &TestApp, id: i64) -> Value {
    let reply = app
        .get(
            &app.tokens.admin,
            &format!("/api/v1/webhooks/{id}/deliveries"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn deliveries_are_signed_and_tried_again_after_a_500(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (receiver, url) = Receiver::start(vec![500, 200]).await;
    let hook = subscribe(&app, &url, json!(["case.created", "comment.added"])).await;
    let id = hook["id"].as_i64().unwrap();
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let listed = app.get(&app.tokens.admin, "/api/v1/webhooks").await;
    assert_eq!(
        listed.body["webhooks"][0]["secret"],
        Value::Null,
        "the secret is shown once"
    );

    let case = app
        .file_case(
            &app.tokens.initech,
            json!({"subject": "Export stuck", "description": "at 40%"}),
        )
        .await;
    app.until("the first try", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    let first = app
        .until("the failed try recorded", || async {
            // The subscription and its deliveries are read one after the other: wait for
            // both to show the try.
            let d = deliveries(&app, id).await;
            (d["deliveries"][0]["attempts"] == 1 && d["webhook"]["failing_since"].is_string())
                .then_some(d)
        })
        .await;
    assert_eq!(first["deliveries"][0]["status"], "pending");
    assert_eq!(first["deliveries"][0]["response_code"], 500);

    // The retry is due ten seconds later; the test moves the clock rather than waiting.
    app.state.clock.advance(Span::SECOND.times(11));
    app.until("the second try", || async {
        (receiver.count() >= 2).then_some(())
    })
    .await;
    let done = app
        .until("delivered", || async {
            let d = deliveries(&app, id).await;
            (d["deliveries"][0]["status"] == "delivered" && d["webhook"]["failing_since"].is_null())
                .then_some(d)
        })
        .await;
    assert_eq!(done["deliveries"][0]["attempts"], 2);
    assert_eq!(done["deliveries"][0]["response_code"], 200);
    assert_eq!(done["deliveries"][0]["event"], "case.created");
    assert_eq!(done["webhook"]["failing_since"], Value::Null);

    // The receiver's documented check accepts what was sent.
    let (headers, body) = receiver.nth(1);
    let timestamp = header(&headers, "x-backline-timestamp");
    let signature = header(&headers, "x-backline-signature");
    let now = app.state.clock.now().as_millis() / 1000;
    assert_eq!(verify(&secret, &timestamp, &body, &signature, now), Ok(()));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["event"], "case.created");
    assert_eq!(payload["case_id"], case);
    assert_eq!(header(&headers, "x-backline-event"), "case.created");
    // A replay of that delivery later is refused: its timestamp is old, and a new timestamp
    // does not match the signature; nor does another secret.
    let later = timestamp.parse::<i64>().unwrap() + TOLERANCE_SECS + 1;
    assert_eq!(
        verify(&secret, &timestamp, &body, &signature, later),
        Err(Refusal::Stale)
    );
    assert_eq!(
        verify(&secret, &later.to_string(), &body, &signature, later),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        verify("whsec_other", &timestamp, &body, &signature, now),
        Err(Refusal::BadSignature)
    );

    // An internal note is not announced; a public reply is.
    let path = format!("/api/v1/cases/{case}/comments");
    app.post(
        &app.tokens.agent,
        &path,
        json!({"body": "internal only", "public": false}),
    )
    .await;
    app.post(&app.tokens.agent, &path, json!({"body": "We are on it"}))
        .await;
    app.until("the comment delivery", || async {
        (receiver.count() >= 3).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(2);
    assert_eq!(header(&headers, "x-backline-event"), "comment.added");
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["data"]["public"], true);
    // Nothing else arrives (the note, and the case's other changes it is not subscribed to).
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 3);
}

async fn a_subscription_failing_for_days_is_switched_off_and_its_owner_told(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let (receiver, url) = Receiver::start(vec![503]).await;
    let hook = subscribe(&app, &url, json!(["case.created"])).await;
    let id = hook["id"].as_i64().unwrap();
    app.file_case(
        &app.tokens.initech,
        json!({"subject": "Sync stalls", "description": "x"}),
    )
    .await;
    app.until("the first try", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    app.until("the failure recorded", || async {
        let d = deliveries(&app, id).await;
        (d["deliveries"][0]["attempts"] == 1).then_some(())
    })
    .await;
    // Three days and an hour later the delivery is tried again, fails, and the subscription
    // has failed for longer than allowed.
    app.state.clock.advance(Span::from_millis(
        Span::DAY.times(3).as_millis() + Span::HOUR.as_millis(),
    ));
    let off = app
        .until("switched off", || async {
            let d = deliveries(&app, id).await;
            (d["webhook"]["active"] == false && d["deliveries"][0]["status"] == "failed")
                .then_some(d)
        })
        .await;
    assert!(off["webhook"]["disabled_at"].is_string());
    assert_eq!(off["deliveries"][0]["status"], "failed");
    assert_eq!(off["deliveries"][0]["response_code"], 503);
    let sink = app.mail.as_ref().unwrap();
    let told = app
        .until("the owner is told", || async {
            sink.messages()
                .into_iter()
                .find(|m| m.subject() == "A webhook was switched off")
        })
        .await;
    assert_eq!(told.to, vec!["admin@vendor.example".to_string()]);
    assert!(told.text().contains(&url), "{}", told.text());
    // Switched off: no more tries.
    let tries = receiver.count();
    app.state.clock.advance(Span::HOUR.times(2));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), tries);
}

async fn only_admins_manage_webhooks(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let body = json!({"url": "https://hooks.example/in", "events": ["case.created"]});
    for token in [&t.agent, &t.acme, &t.globex, &t.initech] {
        let reply = app.post(token, "/api/v1/webhooks", body.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(
            app.get(token, "/api/v1/webhooks").await.status,
            StatusCode::FORBIDDEN
        );
    }
    let reply = app
        .post(
            &t.admin,
            "/api/v1/webhooks",
            json!({"url": "ftp://x", "events": ["case.exploded"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["error"]["fields"]["url"].is_string());
    assert!(reply.body["error"]["fields"]["events"].is_string());
    let reply = app
        .post(
            &t.admin,
            "/api/v1/webhooks",
            json!({"url": "https://x.example", "events": []}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&t.admin, "/api/v1/webhooks").await.body,
        json!({"webhooks": []})
    );
    assert_eq!(
        app.get(&t.admin, "/api/v1/webhooks/999/deliveries")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let made = subscribe(&app, "https://hooks.example/in", json!(["case.solved"])).await;
    assert_eq!(made["events"], json!(["case.solved"]));
    assert_eq!(made["active"], true);
}
