//! Outbound webhooks against a real receiver (axum on 127.0.0.1:0 in the test), on both
//! databases: deliveries signed as documented, tried again after a 500, a replayed old
//! delivery refused by the documented check, a subscription failing for days switched off,
//! its owner mailed and switched on again, incident news and partner alerts each delivered
//! once, test pings, rotated secrets, the admins' page, and only admins managing them.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use backline_domain::webhooks::{verify, Refusal, TOLERANCE_SECS};
use backline_domain::Span;
use common::browser::Browser;
use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

on_both_backends!(
    deliveries_are_signed_and_tried_again_after_a_500,
    a_subscription_failing_for_days_is_switched_off_and_its_owner_told,
    only_admins_manage_webhooks,
    incident_news_is_delivered_once_each_and_signed,
    a_new_partner_alert_is_delivered_once_with_its_mail,
    pings_rotated_secrets_and_switching_off_and_on,
    the_webhooks_page_is_for_admins_and_shows_the_secret_once,
    community_questions_are_announced_when_everyone_may_read_them,
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

    fn answer_from_now_on(&self, status: u16) {
        *self.answers.lock().unwrap() = vec![status];
    }
}

/// Checks a delivery as a receiver does, with the documented check, and reads its body.
fn verified(secret: &str, app: &TestApp, headers: &HeaderMap, body: &Bytes) -> Value {
    let now = app.state.clock.now().as_millis() / 1000;
    assert_eq!(
        verify(
            secret,
            &header(headers, "x-backline-timestamp"),
            body,
            &header(headers, "x-backline-signature"),
            now
        ),
        Ok(()),
        "the documented check accepts the delivery"
    );
    serde_json::from_slice(body).unwrap()
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
    assert!(
        off["webhook"]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("HTTP 503"),
        "{}",
        off["webhook"]
    );
    // Switched off: no more tries, and new events are not queued for it.
    let tries = receiver.count();
    app.file_case(
        &app.tokens.initech,
        json!({"subject": "Another while off", "description": "x"}),
    )
    .await;
    app.state.clock.advance(Span::HOUR.times(2));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), tries);
    assert_eq!(
        deliveries(&app, id).await["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The receiver is fixed and the admin switches the subscription on again: its failing
    // state is cleared and new events are delivered.
    receiver.answer_from_now_on(200);
    let on = app
        .patch(
            &app.tokens.admin,
            &format!("/api/v1/webhooks/{id}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["failing_since"], Value::Null);
    assert_eq!(on.body["disabled_at"], Value::Null);
    assert_eq!(on.body["disabled_reason"], Value::Null);
    app.file_case(
        &app.tokens.initech,
        json!({"subject": "Back on", "description": "x"}),
    )
    .await;
    let d = app
        .until("delivered after switching on", || async {
            let d = deliveries(&app, id).await;
            (d["deliveries"][0]["status"] == "delivered").then_some(d)
        })
        .await;
    assert_eq!(d["deliveries"][0]["response_code"], 200);
    // The delivery failed while it was off stays failed.
    assert_eq!(d["deliveries"][1]["status"], "failed");
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
    let id = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/webhooks/{id}");

    // Nobody but admins changes, tests, rotates or deletes one.
    for token in [&t.agent, &t.acme, &t.globex, &t.initech] {
        let reply = app.patch(token, &path, json!({"active": false})).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(reply.code(), "forbidden");
        assert_eq!(
            app.post(token, &format!("{path}/ping"), json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post(token, &format!("{path}/secret"), json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.delete(token, &path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get(token, &format!("{path}/deliveries")).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let unchanged = app.get(&t.admin, "/api/v1/webhooks").await.body;
    assert_eq!(unchanged["webhooks"][0]["active"], true);
    assert_eq!(unchanged["webhooks"][0]["url"], "https://hooks.example/in");

    // A bad change is refused whole, each problem named, nothing stored.
    let reply = app
        .patch(
            &t.admin,
            &path,
            json!({"url": "javascript:alert(1)", "events": ["incident.exploded"], "active": false}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body["error"]["fields"]["url"].is_string());
    assert!(reply.body["error"]["fields"]["events"].is_string());
    let reply = app.patch(&t.admin, &path, json!({"events": []})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app.patch(&t.admin, &path, json!({"colour": "red"})).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(app.get(&t.admin, "/api/v1/webhooks").await.body, unchanged);

    // A good change: new address and events, both checked and kept.
    let reply = app
        .patch(
            &t.admin,
            &path,
            json!({"url": "https://hooks.example/other", "events": ["incident.declared", "community.question_asked", "partner.alert"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["url"], "https://hooks.example/other");
    assert_eq!(
        reply.body["events"],
        json!([
            "incident.declared",
            "community.question_asked",
            "partner.alert"
        ])
    );
    assert_eq!(reply.body["secret"], Value::Null);

    // Unknown ones are not found, for each action.
    for missing in ["/api/v1/webhooks/999/ping", "/api/v1/webhooks/999/secret"] {
        assert_eq!(
            app.post(&t.admin, missing, json!({})).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.patch(&t.admin, "/api/v1/webhooks/999", json!({"active": true}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&t.admin, "/api/v1/webhooks/999").await.status,
        StatusCode::NOT_FOUND
    );

    // Deleted, it is gone with its deliveries.
    assert_eq!(
        app.delete(&t.admin, &path).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&t.admin, &format!("{path}/deliveries"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&t.admin, "/api/v1/webhooks").await.body,
        json!({"webhooks": []})
    );
}

fn in_minutes(m: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(m))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn incident_news_is_delivered_once_each_and_signed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let (receiver, url) = Receiver::start(vec![200]).await;
    let hook = subscribe(
        &app,
        &url,
        json!(["incident.declared", "incident.updated", "incident.resolved"]),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let secret = hook["secret"].as_str().unwrap().to_string();
    // Two more webhook jobs over the same database, as two more nodes would run: each event
    // is still queued once and each delivery sent once.
    let other_nodes = [
        backline_server::webhooks::service::start(app.state.clone()),
        backline_server::webhooks::service::start(app.state.clone()),
    ];
    for (slug, name) in [("vault", "Vault"), ("backup-eu", "Backup EU")] {
        let r = app
            .post(
                &t.admin,
                "/api/v1/services",
                json!({"slug": slug, "name": name, "kind": "service", "group": "cloud"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // A drill is not news for the outside: it is never announced.
    let drill = app
        .post(
            &t.agent,
            "/api/v1/drills",
            json!({"title": "Night drill", "services": ["vault"], "impact": "minor",
            "nature": "practice", "next_update_at": in_minutes(30)}),
        )
        .await;
    assert_eq!(drill.status, StatusCode::CREATED, "{}", drill.body);

    let declared = app
        .post(
            &t.agent,
            "/api/v1/incidents",
            json!({"title": "Vault unreachable", "services": ["vault", "backup-eu"],
            "impact": "major", "nature": "Logins time out", "next_update_at": in_minutes(30),
            "message": "We are looking into it."}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let incident = declared.body["id"].as_i64().unwrap();
    let updates = format!("/api/v1/incidents/{incident}/updates");
    let r = app
        .post(&t.agent, &updates, json!({"state": "identified", "message": "A full disk.", "next_update_at": in_minutes(45)}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            &t.agent,
            &updates,
            json!({"state": "resolved", "message": "Space freed; all is well."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A case is not an incident event: this subscription does not hear of it.
    app.file_case(
        &t.initech,
        json!({"subject": "Unrelated", "description": "x"}),
    )
    .await;

    app.until("three deliveries", || async {
        (receiver.count() >= 3).then_some(())
    })
    .await;
    let mut payloads = Vec::new();
    for i in 0..3 {
        let (headers, body) = receiver.nth(i);
        let payload = verified(&secret, &app, &headers, &body);
        assert_eq!(header(&headers, "x-backline-event"), payload["event"]);
        payloads.push(payload);
    }
    // In the order they happened (one round queues them together; each is tried in turn).
    payloads.sort_by_key(|p| p["event_id"].as_i64().unwrap());
    let events: Vec<&str> = payloads
        .iter()
        .map(|p| p["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec!["incident.declared", "incident.updated", "incident.resolved"]
    );
    let first = &payloads[0];
    assert_eq!(first["subject_id"], incident);
    assert_eq!(first["data"]["incident_id"], incident);
    assert_eq!(first["data"]["title"], "Vault unreachable");
    assert_eq!(first["data"]["state"], "investigating");
    assert_eq!(first["data"]["impact"], "major");
    assert_eq!(first["data"]["message"], "We are looking into it.");
    assert_eq!(
        first["data"]["services"],
        json!([{"slug": "backup-eu", "name": "Backup EU"}, {"slug": "vault", "name": "Vault"}])
    );
    assert_eq!(
        first["data"]["status_page"],
        format!("/status#incident-{incident}")
    );
    assert_eq!(payloads[1]["data"]["state"], "identified");
    assert_eq!(payloads[1]["data"]["message"], "A full disk.");
    assert_eq!(payloads[2]["data"]["state"], "resolved");
    assert_eq!(payloads[2]["data"]["message"], "Space freed; all is well.");

    // Once each: nothing more arrives, and queueing an event again (as a second node that
    // read it at the same time would) finds it taken and writes nothing.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 3);
    let again = app
        .store
        .queue_announced_deliveries(
            &[(
                payloads[0]["event_id"].as_i64().unwrap(),
                vec![backline_store::webhooks::NewDelivery {
                    subscription_id: id,
                    event: "incident.declared".into(),
                    body: "{}".into(),
                }],
            )],
            app.state.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(again, 0);
    let listed = deliveries(&app, id).await;
    let listed = listed["deliveries"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .all(|d| d["status"] == "delivered" && d["response_code"] == 200 && d["attempts"] == 1));
    for node in other_nodes {
        node.abort();
    }
}

async fn a_new_partner_alert_is_delivered_once_with_its_mail(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            partner_alerts_every: Some(std::time::Duration::from_millis(100)),
            ..Options::default()
        },
    )
    .await;
    let t = &app.tokens;
    let (receiver, url) = Receiver::start(vec![200]).await;
    let hook = subscribe(&app, &url, json!(["partner.alert"])).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    // One certified technician required and none certified: `certified_below_minimum`.
    let agreement = json!({
        "customer_owner": "partner", "billing_owner": "partner",
        "troubleshooting_checklist": [], "vanilla_reproduction_required": false,
        "customers_see_vendor_kb": true, "vendor_direct_contact": "with_permission",
        "updates_distributed_by": "partner", "required_certified_technicians": 1,
    });
    let r = app
        .put(&t.admin, "/api/v1/partners/acme/agreement", agreement)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .patch(
            &t.admin,
            "/api/v1/partners/acme",
            json!({"relationship_manager": "agent@vendor.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    app.until("the alert delivery", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(0);
    let payload = verified(&secret, &app, &headers, &body);
    assert_eq!(payload["event"], "partner.alert");
    assert_eq!(header(&headers, "x-backline-event"), "partner.alert");
    let acme = app.store.org_by_slug("acme").await.unwrap();
    assert_eq!(payload["subject_id"], acme.id.0);
    assert_eq!(payload["data"]["partner_slug"], "acme");
    assert_eq!(payload["data"]["partner_name"], "ACME");
    assert_eq!(payload["data"]["alert"], "certified_below_minimum");
    assert_eq!(payload["data"]["partner_page"], "/partners/acme");
    assert!(
        payload["data"]["message"]
            .as_str()
            .unwrap()
            .contains("0 certified technicians, 1 required"),
        "{payload}"
    );
    // The same alert went to the relationship manager by mail.
    let mail = app.mail_until(1).await;
    assert!(mail.iter().any(|m| m.subject() == "Partner alert: ACME"));
    // Later checks (the job runs every 100 ms here, and once more by hand) announce it no more.
    let again = backline_server::partners::service::mail_partner_alerts(&app.state)
        .await
        .unwrap();
    assert_eq!(again, 0);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 1);
}

async fn pings_rotated_secrets_and_switching_off_and_on(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let (receiver, url) = Receiver::start(vec![200]).await;
    let hook = subscribe(&app, &url, json!(["case.created"])).await;
    let id = hook["id"].as_i64().unwrap();
    let old_secret = hook["secret"].as_str().unwrap().to_string();
    let path = format!("/api/v1/webhooks/{id}");

    let ping = app.post(&t.admin, &format!("{path}/ping"), json!({})).await;
    assert_eq!(ping.status, StatusCode::ACCEPTED, "{}", ping.body);
    assert_eq!(ping.body["event"], "ping");
    assert_eq!(ping.body["status"], "pending");
    app.until("the ping", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(0);
    assert_eq!(header(&headers, "x-backline-event"), "ping");
    let payload = verified(&old_secret, &app, &headers, &body);
    assert_eq!(payload["event"], "ping");
    assert_eq!(payload["webhook_id"], id);
    app.until("the ping listed as delivered", || async {
        let d = deliveries(&app, id).await;
        (d["deliveries"][0]["event"] == "ping" && d["deliveries"][0]["status"] == "delivered")
            .then_some(())
    })
    .await;

    // A rotated secret is shown once and signs what is sent from then on.
    let rotated = app
        .post(&t.admin, &format!("{path}/secret"), json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != old_secret);
    assert_eq!(
        app.get(&t.admin, "/api/v1/webhooks").await.body["webhooks"][0]["secret"],
        Value::Null
    );
    app.file_case(
        &t.initech,
        json!({"subject": "After rotation", "description": "x"}),
    )
    .await;
    app.until("the case delivery", || async {
        (receiver.count() >= 2).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(1);
    assert_eq!(header(&headers, "x-backline-event"), "case.created");
    verified(&new_secret, &app, &headers, &body);
    let now = app.state.clock.now().as_millis() / 1000;
    assert_eq!(
        verify(
            &old_secret,
            &header(&headers, "x-backline-timestamp"),
            &body,
            &header(&headers, "x-backline-signature"),
            now
        ),
        Err(Refusal::BadSignature),
        "the old secret no longer matches"
    );

    // Switched off by an admin: it says so, a ping is refused, events are not sent.
    let off = app.patch(&t.admin, &path, json!({"active": false})).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(off.body["disabled_reason"], "switched off by admin");
    let refused = app.post(&t.admin, &format!("{path}/ping"), json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "switched_off");
    app.file_case(
        &t.initech,
        json!({"subject": "While off", "description": "x"}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 2);

    // On again: a ping goes through.
    let on = app.patch(&t.admin, &path, json!({"active": true})).await;
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["disabled_reason"], Value::Null);
    let ping = app.post(&t.admin, &format!("{path}/ping"), json!({})).await;
    assert_eq!(ping.status, StatusCode::ACCEPTED, "{}", ping.body);
    app.until("the second ping", || async {
        (receiver.count() >= 3).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(2);
    assert_eq!(header(&headers, "x-backline-event"), "ping");
    verified(&new_secret, &app, &headers, &body);
}

async fn the_webhooks_page_is_for_admins_and_shows_the_secret_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (receiver, url) = Receiver::start(vec![200]).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let page = admin.get("/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("href=\"/webhooks\""),
        "nav link for admins"
    );
    assert!(page.html.contains("value=\"incident.declared\""));
    assert!(page.html.contains("value=\"community.question_asked\""));

    // A refused form comes back with what was typed and each problem beside its field.
    let refused = admin
        .post("/webhooks", &[("url", "hooks.example/in")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("value=\"hooks.example/in\""),
        "{}",
        refused.html
    );
    assert!(refused
        .html
        .contains("Must be a web address starting with https://."));
    assert!(refused.html.contains("Choose at least one event."));
    assert!(
        app.get(&app.tokens.admin, "/api/v1/webhooks").await.body["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Subscribed: the secret is on this page, once.
    let made = admin
        .post(
            "/webhooks",
            &[
                ("url", &url),
                ("events", "incident.declared"),
                ("events", "case.created"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    assert!(made.html.contains("Copy it now: it is not shown again."));
    let listed = app.get(&app.tokens.admin, "/api/v1/webhooks").await.body;
    let hook = &listed["webhooks"][0];
    assert_eq!(hook["events"], json!(["incident.declared", "case.created"]));
    let id = hook["id"].as_i64().unwrap();
    let secret_start = made.html.find("whsec_").expect("the secret is shown");
    let secret: String = made.html[secret_start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let page = admin.get(&format!("/webhooks/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains(&secret) && !page.html.contains("whsec_"));
    assert!(page.html.contains("Active"));

    // A test ping from the page is delivered, signed with that secret, and listed.
    let sent = admin.post(&format!("/webhooks/{id}/ping"), &[]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    app.until("the ping", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    let (headers, body) = receiver.nth(0);
    verified(&secret, &app, &headers, &body);
    let page = app
        .until("the ping listed as delivered", || async {
            let page = admin.get(&format!("/webhooks/{id}")).await;
            page.html
                .contains("data-status=\"delivered\"")
                .then_some(page)
        })
        .await;
    assert!(page.html.contains("<code>ping</code>"));

    // Switched off and on from the page.
    assert_eq!(
        admin
            .post(&format!("/webhooks/{id}/disable"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = admin.get(&format!("/webhooks/{id}")).await;
    assert!(page.html.contains("switched off by admin"), "{}", page.html);
    assert!(page.html.contains("Switch on again"));
    admin.post(&format!("/webhooks/{id}/enable"), &[]).await;
    let page = admin.get("/webhooks").await;
    assert!(page.html.contains(">Active<"), "{}", page.html);

    // A rotated secret is shown on the answer, once.
    let rotated = admin.post(&format!("/webhooks/{id}/secret"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert!(rotated.html.contains("whsec_") && !rotated.html.contains(&secret));

    // Others see nothing of it: no link, and the pages and forms are refused.
    for email in [
        "agent@vendor.example",
        "tech@acme.example",
        "user@initech.example",
    ] {
        let other = Browser::sign_in(&app, email).await;
        let cases = other.get("/cases").await;
        assert!(!cases.html.contains("href=\"/webhooks\""), "{email}");
        for path in ["/webhooks".to_string(), format!("/webhooks/{id}")] {
            let page = other.get(&path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{email} {path}");
            assert!(!page.html.contains(&url));
        }
        let posted = other.post(&format!("/webhooks/{id}/delete"), &[]).await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{email}");
        let posted = other
            .post(
                "/webhooks",
                &[("url", "https://evil.example"), ("events", "case.created")],
            )
            .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{email}");
    }
    assert_eq!(
        app.get(&app.tokens.admin, "/api/v1/webhooks").await.body["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Deleted from the page.
    let gone = admin.post(&format!("/webhooks/{id}/delete"), &[]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(admin
        .get("/webhooks")
        .await
        .html
        .contains("No subscription yet."));
}

/// A community question is announced when it is published: at once when staff ask it, and
/// only on approval when a new account's question is held for review.
async fn community_questions_are_announced_when_everyone_may_read_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let (receiver, url) = Receiver::start(vec![200]).await;
    let hook = subscribe(&app, &url, json!(["community.question_asked"])).await;
    let id = hook["id"].as_i64().unwrap();
    let secret = hook["secret"].as_str().unwrap().to_string();
    let space = app
        .post(
            &t.admin,
            "/api/v1/community/spaces",
            json!({"name": "General", "slug": "general", "visibility": "public"}),
        )
        .await;
    assert_eq!(space.status, StatusCode::CREATED, "{}", space.body);
    let staff_question = ask_question(&app, &t.agent, "How do I rotate the backup keys?").await;
    assert_eq!(staff_question["state"], "published");
    app.until("the staff question announced", || async {
        (receiver.count() >= 1).then_some(())
    })
    .await;
    // A new account's question waits for review, and so does its announcement.
    let held = ask_question(&app, &t.globex, "Is there a dark mode?").await;
    assert_eq!(held["state"], "held");
    let held_id = held["id"].as_i64().unwrap();
    let approved = app
        .post(
            &t.agent,
            &format!("/api/v1/community/posts/{held_id}/moderation"),
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    app.until("the approved question announced", || async {
        (receiver.count() >= 2).then_some(())
    })
    .await;
    let mut subjects = Vec::new();
    for i in 0..2 {
        let (headers, body) = receiver.nth(i);
        let payload = verified(&secret, &app, &headers, &body);
        assert_eq!(payload["event"], "community.question_asked");
        assert_eq!(payload["data"]["space"], "general");
        let question = payload["subject_id"].as_i64().unwrap();
        assert_eq!(payload["data"]["question_id"], question);
        assert_eq!(
            payload["data"]["path"],
            format!("/community/questions/{question}")
        );
        subjects.push((question, payload["data"]["title"].clone()));
    }
    assert_eq!(
        subjects,
        vec![
            (
                staff_question["id"].as_i64().unwrap(),
                json!("How do I rotate the backup keys?")
            ),
            (held_id, json!("Is there a dark mode?")),
        ]
    );
    // Two deliveries in all: the held question was not announced when it was asked.
    let listed = deliveries(&app, id).await;
    assert_eq!(
        listed["deliveries"].as_array().unwrap().len(),
        2,
        "{listed}"
    );
}

async fn ask_question(app: &TestApp, token: &str, title: &str) -> Value {
    let reply = app
        .post(
            token,
            "/api/v1/community/spaces/general/questions",
            json!({"title": title, "body": "Details follow."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}
