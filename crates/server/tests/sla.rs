//! Service levels and case lists over the real router on both databases: policies and
//! calendars (and who may set them), clocks that start, pause and finish with the case, warnings
//! and breaches as events and mail, and the agent's lists (views, counts, order, pages, bulk).

mod common;

use backline_domain::{Span, Timestamp};
use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    only_admins_set_policies_and_bad_ones_store_nothing,
    clocks_start_pause_and_finish_with_the_case,
    warnings_and_breaches_are_events_that_mail_the_assignee,
    lists_put_what_needs_attention_first_and_count_every_page,
    saved_views_are_personal_or_shared_and_bulk_changes_follow_the_rules,
);

fn rfc3339(at: &Value) -> Timestamp {
    Timestamp::parse(at.as_str().expect("a time")).expect("RFC 3339")
}

async fn urgent_policy(app: &TestApp) -> i64 {
    let reply = app
        .post(
            &app.tokens.admin,
            "/api/v1/sla/policies",
            json!({"name": "Urgent", "conditions": {"priorities": ["urgent"]},
                   "first_reply_minutes": 60, "resolution_minutes": 240, "warn_minutes": 30}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn only_admins_set_policies_and_bad_ones_store_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let policy = json!({"name": "Standard", "first_reply_minutes": 240});
    for token in [&t.agent, &t.acme, &t.globex] {
        let reply = app
            .post(token, "/api/v1/sla/policies", policy.clone())
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    // Customers and partners cannot read the policies either.
    for token in [&t.acme, &t.globex] {
        assert_eq!(
            app.get(token, "/api/v1/sla/policies").await.status,
            StatusCode::FORBIDDEN
        );
    }
    // Every problem is named, and nothing is stored.
    let reply = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": " ", "first_reply_minutes": 0, "warn_minutes": -5,
                   "conditions": {"organizations": ["nobody-here"]}, "calendar_id": 999}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = reply.body["error"]["fields"].as_object().unwrap();
    for field in [
        "name",
        "first_reply_minutes",
        "warn_minutes",
        "organizations",
        "calendar_id",
    ] {
        assert!(fields.contains_key(field), "{field} in {fields:?}");
    }
    let calendar = app
        .post(
            &t.admin,
            "/api/v1/sla/calendars",
            json!({"name": "Berlin office", "spec": {"time_zone": "Europe/Berln",
                   "hours": [{"day": "mon", "start": "17:00", "end": "09:00"}], "holidays": ["2026-13-01"]}}),
        )
        .await;
    assert_eq!(calendar.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = calendar.body["error"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("time_zone") && fields.contains_key("hours"));
    assert_eq!(
        app.get(&t.agent, "/api/v1/sla/policies").await.body["policies"],
        json!([])
    );
    assert_eq!(
        app.get(&t.agent, "/api/v1/sla/calendars").await.body["calendars"],
        json!([])
    );

    // A good calendar and a policy counting in it; a calendar in use cannot be deleted.
    let calendar = app
        .post(
            &t.admin,
            "/api/v1/sla/calendars",
            json!({"name": "Berlin office", "spec": {"time_zone": "Europe/Berlin",
                   "hours": [{"day": "mon", "start": "09:00", "end": "17:00"}], "holidays": []}}),
        )
        .await;
    assert_eq!(calendar.status, StatusCode::CREATED, "{}", calendar.body);
    let calendar_id = calendar.body["id"].as_i64().unwrap();
    let reply = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": "Acme customers", "calendar_id": calendar_id,
                   "conditions": {"partners": ["acme"], "customer_owner": "partner"},
                   "resolution_minutes": 2400}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["conditions"]["partners"], json!(["acme"]));
    let taken = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": "Acme customers", "resolution_minutes": 60}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nobody but an admin changes, reorders or deletes them; what was stored stays.
    let policy_id = reply.body["id"].as_i64().unwrap();
    for token in [&t.agent, &t.acme, &t.globex] {
        let attempts = [
            app.put(token, &format!("/api/v1/sla/policies/{policy_id}"), json!({"name": "Mine", "resolution_minutes": 1})).await,
            app.post(token, &format!("/api/v1/sla/policies/{policy_id}/move"), json!({"up": true})).await,
            app.delete(token, &format!("/api/v1/sla/policies/{policy_id}")).await,
            app.post(token, "/api/v1/sla/calendars", json!({"name": "x", "spec": {"time_zone": "UTC", "hours": [{"day": "mon", "start": "00:00", "end": "24:00"}]}})).await,
            app.put(token, &format!("/api/v1/sla/calendars/{calendar_id}"), json!({"name": "x", "spec": {"time_zone": "UTC", "hours": [{"day": "mon", "start": "00:00", "end": "24:00"}]}})).await,
            app.delete(token, &format!("/api/v1/sla/calendars/{calendar_id}")).await,
        ];
        for attempt in attempts {
            assert_eq!(attempt.status, StatusCode::FORBIDDEN, "{}", attempt.body);
        }
    }
    let policies = app.get(&t.admin, "/api/v1/sla/policies").await.body;
    assert_eq!(policies["policies"][0]["name"], "Acme customers");
    assert_eq!(policies["policies"][0]["resolution_minutes"], 2400);
    let calendars = app.get(&t.admin, "/api/v1/sla/calendars").await.body;
    assert_eq!(
        calendars["calendars"][0]["spec"]["time_zone"],
        "Europe/Berlin"
    );
    assert_eq!(
        app.put(
            &t.admin,
            "/api/v1/sla/policies/999",
            json!({"name": "Gone", "resolution_minutes": 1})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let deleted = app
        .delete(&t.admin, &format!("/api/v1/sla/calendars/{calendar_id}"))
        .await;
    assert_eq!(deleted.status, StatusCode::CONFLICT);
    assert_eq!(deleted.body["error"]["code"], "calendar_in_use");
}

async fn clocks_start_pause_and_finish_with_the_case(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    urgent_policy(&app).await;
    let case = app
        .file_case(
            &t.initech,
            json!({"subject": "Everything is down", "priority": "urgent"}),
        )
        .await;
    let path = format!("/api/v1/cases/{case}");
    app.settle_sla().await;
    let read = app.get(&t.agent, &path).await.body;
    let opened = rfc3339(&read["created_at"]);
    assert_eq!(read["sla"]["state"], "ok", "{read}");
    // The first reply is due an hour after opening (around the clock).
    assert_eq!(
        rfc3339(&read["sla"]["due_at"]),
        opened.plus(Span::HOUR),
        "{read}"
    );
    // The customer sees no clocks, and cannot ask for them.
    assert_eq!(app.get(&t.initech, &path).await.body["sla"], Value::Null);
    assert_eq!(
        app.get(&t.initech, &format!("{path}/sla")).await.status,
        StatusCode::NOT_FOUND
    );

    // A public reply meets the first-reply target; resolution keeps running.
    let reply = app
        .post(
            &t.agent,
            &format!("{path}/comments"),
            json!({"body": "Looking at it now."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    app.settle_sla().await;
    let clocks = app.get(&t.agent, &format!("{path}/sla")).await.body;
    let clock = |metric: &str| {
        clocks["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metric"] == metric)
            .cloned()
            .unwrap_or_else(|| panic!("no {metric} clock in {clocks}"))
    };
    assert_eq!(clock("first_reply")["state"], "achieved");
    assert_eq!(clock("resolution")["state"], "ok");
    assert_eq!(
        rfc3339(&clock("resolution")["due_at"]),
        opened.plus(Span::HOUR.times(4))
    );

    // Waiting on the customer pauses the clock: no due time while pending.
    app.patch(&t.agent, &path, json!({"status": "pending"}))
        .await;
    app.settle_sla().await;
    let clocks = app.get(&t.agent, &format!("{path}/sla")).await.body;
    let resolution = clocks["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "resolution")
        .unwrap()
        .clone();
    assert_eq!(resolution["paused"], true, "{clocks}");
    assert_eq!(resolution["due_at"], Value::Null);

    // The customer answers: the clock runs again, later than before by the pause.
    app.post(
        &t.initech,
        &format!("{path}/comments"),
        json!({"body": "Here are the logs."}),
    )
    .await;
    app.settle_sla().await;
    let read = app.get(&t.agent, &path).await.body;
    assert_eq!(read["status"], "open");
    assert!(rfc3339(&read["sla"]["due_at"]) > opened.plus(Span::HOUR.times(4)));

    // Solving meets the resolution target, and the event says so.
    app.patch(&t.agent, &path, json!({"status": "solved"}))
        .await;
    app.settle_sla().await;
    let read = app.get(&t.agent, &path).await.body;
    assert_eq!(read["sla"]["state"], "achieved", "{read}");
    assert_eq!(read["sla"]["due_at"], Value::Null);
    let events = app.get(&t.agent, &format!("{path}/events")).await.body;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("sla_"))
        .collect();
    assert_eq!(kinds, ["sla_achieved", "sla_achieved"], "{events}");
}

async fn warnings_and_breaches_are_events_that_mail_the_assignee(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            ..Options::default()
        },
    )
    .await;
    let t = &app.tokens;
    urgent_policy(&app).await;
    let case = app
        .file_case(
            &t.initech,
            json!({"subject": "Payments fail", "priority": "urgent"}),
        )
        .await;
    let path = format!("/api/v1/cases/{case}");
    app.patch(&t.admin, &path, json!({"assignee": app.agent_id}))
        .await;
    app.settle_sla().await;
    let opened = rfc3339(&app.get(&t.agent, &path).await.body["created_at"]);
    // The sweep runs as it will 40 and 70 minutes from now: first the warning (30 minutes
    // before the hour), then the breach, each once however often it looks.
    let sweep = |minutes: i64| {
        let store = app.store.clone();
        async move {
            backline_server::sla::service::sweep(&store, opened.plus(Span::MINUTE.times(minutes)))
                .await
                .unwrap()
        }
    };
    sweep(40).await;
    sweep(41).await;
    sweep(70).await;
    sweep(71).await;
    let events = app.get(&t.agent, &format!("{path}/events")).await.body;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("sla_"))
        .collect();
    assert_eq!(kinds, ["sla_warning", "sla_breached"], "{events}");
    let agent_email = "agent@vendor.example".to_string();
    let mail = app
        .until("the warning and the breach mail", || async {
            let sink = app.mail.as_ref().unwrap().messages();
            let to_agent: Vec<String> = sink
                .iter()
                .filter(|m| m.to.iter().any(|to| to == &agent_email))
                .map(|m| m.subject())
                .collect();
            // Mail is sent in the background, not necessarily in order: wait for both.
            (to_agent.iter().any(|s| s.contains("Target missed"))
                && to_agent.iter().any(|s| s.contains("Due soon")))
            .then_some(to_agent)
        })
        .await;
    assert!(
        mail.iter().any(|s| s.contains("Due soon")),
        "the warning was mailed too: {mail:?}"
    );
    // Each says which target and when.
    let bodies: Vec<String> = app
        .mail
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .filter(|m| m.to.iter().any(|to| to == &agent_email))
        .map(|m| m.text())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("The first reply target is due at")),
        "{bodies:?}"
    );
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("The first reply target was missed at")),
        "{bodies:?}"
    );
    // The customer hears nothing of the clocks.
    let customer_subjects: Vec<String> = app
        .mail
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .filter(|m| !m.to.iter().any(|to| to == &agent_email))
        .map(|m| m.subject())
        .collect();
    assert!(
        customer_subjects
            .iter()
            .all(|s| !s.contains("Target") && !s.contains("Due soon")),
        "{customer_subjects:?}"
    );
}

async fn lists_put_what_needs_attention_first_and_count_every_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    urgent_policy(&app).await;
    let normal = app
        .file_case(&t.initech, json!({"subject": "Slow reports"}))
        .await;
    let urgent = app
        .file_case(
            &t.initech,
            json!({"subject": "Outage", "priority": "urgent"}),
        )
        .await;
    let solved = app
        .file_case(&t.initech, json!({"subject": "Old question"}))
        .await;
    for case in [normal, urgent, solved] {
        app.patch(
            &t.agent,
            &format!("/api/v1/cases/{case}"),
            json!({"assignee": app.agent_id}),
        )
        .await;
    }
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{solved}"),
        json!({"status": "solved"}),
    )
    .await;
    app.settle_sla().await;

    // "Assigned to me" holds the unsolved ones, the one closest to its target first.
    let mine = app.get(&t.agent, "/api/v1/cases?view=mine").await.body;
    let ids: Vec<i64> = mine["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [urgent, normal], "{mine}");
    assert_eq!(
        (mine["total"].as_i64(), mine["sort"].as_str()),
        (Some(2), Some("attention"))
    );

    // Pages: one case per page, every page knows the total.
    let all = app
        .get(&t.agent, "/api/v1/cases?view=all&limit=1")
        .await
        .body;
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 3);
    assert_eq!(all["pages"].as_i64(), Some(total));
    let second = app
        .get(
            &t.agent,
            "/api/v1/cases?view=all&limit=1&page=2&sort=number",
        )
        .await
        .body;
    let first = app
        .get(
            &t.agent,
            "/api/v1/cases?view=all&limit=1&page=1&sort=number",
        )
        .await
        .body;
    assert!(first["cases"][0]["id"].as_i64() < second["cases"][0]["id"].as_i64());

    // The query language narrows any list; customers keep to their own filters.
    let breached = app
        .get(&t.agent, "/api/v1/cases?q=sla:breached%20status:unsolved")
        .await
        .body;
    assert_eq!(breached["total"], 0);
    let partner_prefix = app.get(&t.agent, "/api/v1/cases?q=partner:acm").await;
    assert_eq!(partner_prefix.status, StatusCode::OK);
    let refused = app.get(&t.initech, "/api/v1/cases?q=assignee:me").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let theirs = app.get(&t.globex, "/api/v1/cases?view=active").await.body;
    assert!(theirs["cases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["organization"]["slug"] == "globex" && c["sla"].is_null()));
    assert_eq!(
        app.get(&t.globex, "/api/v1/cases?view=mine").await.status,
        StatusCode::NOT_FOUND
    );
    let bad = app.get(&t.agent, "/api/v1/cases?sort=colour").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn saved_views_are_personal_or_shared_and_bulk_changes_follow_the_rules(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let mine = app
        .post(
            &t.agent,
            "/api/v1/views",
            json!({"name": "Initech open", "query": "org:initech status:unsolved"}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!(mine.body["sort"], "attention");
    let shared = app
        .post(
            &t.agent,
            "/api/v1/views",
            json!({"name": "Urgent", "query": "priority:urgent", "shared": true}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED);
    let shared_id = shared.body["key"]
        .as_str()
        .unwrap()
        .trim_start_matches('v')
        .to_string();
    // The admin sees the shared view, not the agent's own; customers save none.
    let keys = |views: &Value| -> Vec<String> {
        views["views"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Every view says how many cases it holds: none of initech's yet.
    let agent_views = app.get(&t.agent, "/api/v1/views").await.body;
    let initech_open = agent_views["views"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Initech open")
        .unwrap()
        .clone();
    assert_eq!(initech_open["count"], 0);
    app.file_case(&t.initech, json!({"subject": "Counted"}))
        .await;
    let agent_views = app.get(&t.agent, "/api/v1/views").await.body;
    assert!(agent_views["views"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["name"] == "Initech open" && v["count"] == 1));
    let admin_views = keys(&app.get(&t.admin, "/api/v1/views").await.body);
    assert!(admin_views.contains(&"Urgent".to_string()));
    assert!(!admin_views.contains(&"Initech open".to_string()));
    assert_eq!(
        app.post(
            &t.globex,
            "/api/v1/views",
            json!({"name": "x", "query": ""})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .post(
            &t.agent,
            "/api/v1/views",
            json!({"name": "", "query": "type:article \"open"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.body["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("name") && fields.contains_key("q"),
        "{fields:?}"
    );
    // Only its author or an admin deletes a shared view.
    assert_eq!(
        app.delete(&t.globex, &format!("/api/v1/views/{shared_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&t.admin, &format!("/api/v1/views/{shared_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // Bulk: each case changes under the single-case rules; a closed one is reported.
    let a = app.file_case(&t.initech, json!({"subject": "A"})).await;
    let b = app.file_case(&t.initech, json!({"subject": "B"})).await;
    let closed = app.file_case(&t.initech, json!({"subject": "C"})).await;
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{closed}"),
        json!({"status": "closed"}),
    )
    .await;
    let reply = app
        .post(
            &t.agent,
            "/api/v1/cases/bulk",
            json!({"cases": [a, b, closed], "update": {"priority": "high"}, "add_tags": ["vip"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["changed"].as_array().unwrap().len(), 2);
    assert_eq!(reply.body["refused"][0]["case"], closed);
    for case in [a, b] {
        let read = app
            .get(&t.agent, &format!("/api/v1/cases/{case}"))
            .await
            .body;
        assert_eq!(
            (read["priority"].as_str(), read["tags"].clone()),
            (Some("high"), json!(["vip"]))
        );
    }
    let untouched = app
        .get(&t.agent, &format!("/api/v1/cases/{closed}"))
        .await
        .body;
    assert_eq!(untouched["priority"], "normal");
    // Customers and partners change nothing in bulk.
    for token in [&t.initech, &t.acme] {
        assert_eq!(
            app.post(
                token,
                "/api/v1/cases/bulk",
                json!({"cases": [a], "update": {"status": "solved"}})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{a}")).await.body["status"],
        "new"
    );
}
