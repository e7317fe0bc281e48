//! The partner program over the real router on both databases: the escalation gate, routing
//! of certified and uncertified partners, `vendor_direct_contact: never`, a scripted quarter's
//! scorecard and statement, alerts, tiers and swarms, and partners kept out of each other's
//! records.

mod common;

use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    the_gate_refuses_incomplete_escalations_and_stores_nothing,
    certified_partners_are_routed_to_tier_two,
    vendor_direct_contact_never_keeps_the_vendor_away_from_end_customers,
    a_scripted_quarter_gives_the_expected_scorecard_statement_and_alerts,
    tiered_queues_escalate_and_swarm_queues_ask_for_help,
    partners_never_read_each_others_records,
    a_refused_case_leaves_the_round_robin_where_it_was,
    concurrent_filings_take_round_robin_turns,
    escalating_moves_the_case_to_the_queue_of_the_next_tier,
    the_relationship_manager_is_mailed_new_partner_alerts,
    nodes_checking_alerts_at_once_mail_each_alert_once,
);

fn agreement(extra: Value) -> Value {
    let mut base = json!({
        "customer_owner": "partner", "billing_owner": "partner",
        "troubleshooting_checklist": [], "vanilla_reproduction_required": false,
        "customers_see_vendor_kb": true, "vendor_direct_contact": "with_permission",
        "updates_distributed_by": "partner", "required_certified_technicians": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn put_agreement(app: &TestApp, slug: &str, extra: Value) -> Value {
    let reply = app
        .put(
            &app.tokens.admin,
            &format!("/api/v1/partners/{slug}/agreement"),
            agreement(extra),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn the_gate_refuses_incomplete_escalations_and_stores_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    put_agreement(&app, "acme", json!({"troubleshooting_checklist": ["Collected the agent log", "Searched the knowledge base"], "vanilla_reproduction_required": true})).await;
    let before = app.case_count().await;

    let bare = app
        .post(
            &t.acme,
            "/api/v1/cases",
            json!({"subject": "Backup fails", "on_behalf_of": "globex"}),
        )
        .await;
    assert_eq!(
        bare.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bare.body
    );
    assert_eq!(bare.code(), "escalation_incomplete");
    let message = bare.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Collected the agent log")
            && message.contains("Searched the knowledge base")
            && message.contains("reproduced_on_vanilla"),
        "{message}"
    );
    assert_eq!(bare.body["error"]["fields"].as_object().unwrap().len(), 3);

    // One step answered, one blank, vanilla stated false: still refused, naming what is missing.
    let partial = app
        .post(&t.acme, "/api/v1/cases", json!({"subject": "Backup fails", "on_behalf_of": "globex",
            "checklist": {"Collected the agent log": "attached", "Searched the knowledge base": "  "}, "reproduced_on_vanilla": false}))
        .await;
    assert_eq!(partial.code(), "escalation_incomplete");
    let fields = partial.body["error"]["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(app.case_count().await, before, "refusals store nothing");

    let complete = app
        .post(&t.acme, "/api/v1/cases", json!({"subject": "Backup fails", "on_behalf_of": "globex",
            "checklist": {"Collected the agent log": "attached agent.log", "Searched the knowledge base": "nothing matches"}, "reproduced_on_vanilla": true}))
        .await;
    assert_eq!(complete.status, StatusCode::CREATED, "{}", complete.body);
    assert_eq!(
        complete.body["escalation"]["checklist"]["Collected the agent log"],
        "attached agent.log"
    );
    assert_eq!(complete.body["escalation"]["reproduced_on_vanilla"], true);
    // Another partner's agreement is not acme's; customers filing themselves pass no gate.
    assert_eq!(
        app.post(
            &t.other,
            "/api/v1/cases",
            json!({"subject": "Q", "on_behalf_of": "umbrella"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&t.globex, "/api/v1/cases", json!({"subject": "Q"}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.case_count().await, before + 3);

    // Agreements are checked too.
    let bad = app
        .put(&t.admin, "/api/v1/partners/acme/agreement", agreement(json!({"fee_model": "percentage", "fee_percent": 0, "vendor_direct_contact": "sometimes"})))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let kept = app.get(&t.admin, "/api/v1/partners/acme/agreement").await;
    assert_eq!(
        kept.body["troubleshooting_checklist"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// A course with one question whose answer is choice 1, passed at 100 %.
async fn course(app: &TestApp) -> i64 {
    let reply = app
        .post(&app.tokens.admin, "/api/v1/courses", json!({"product": "Backup", "release": "7.2", "title": "Backup 7.2 essentials",
            "questions": [{"text": "Where is the agent log?", "choices": ["/tmp", "/var/log/backup"], "correct": 1}], "pass_mark": 100}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn certified_partners_are_routed_to_tier_two(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let queue = app
        .post(
            &t.admin,
            "/api/v1/queues",
            json!({"slug": "l2", "name": "Level 2", "model": "tiered"}),
        )
        .await;
    assert_eq!(queue.status, StatusCode::CREATED, "{}", queue.body);
    let member = app
        .put(
            &t.admin,
            &format!("/api/v1/queues/l2/members/{}", app.agent_id),
            json!({"skills": ["backup"]}),
        )
        .await;
    assert_eq!(member.status, StatusCode::NO_CONTENT);
    let rule = app
        .post(&t.admin, "/api/v1/routing/rules", json!({"name": "Certified partners to tier 2",
            "conditions": [{"field": "certified", "is": true}, {"field": "org_kind", "is": "partner"}],
            "actions": {"tier": 2, "queue": "l2", "assign": "least_loaded", "add_tags": ["certified-partner"]}}))
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let rule_id = rule.body["id"].as_i64().unwrap();
    // Rules are checked: a missing queue, no conditions.
    let bad = app
        .post(
            &t.admin,
            "/api/v1/routing/rules",
            json!({"name": "x", "conditions": [], "actions": {"queue": "nope"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // acme needs one certified technician; its technician passes the test.
    put_agreement(&app, "acme", json!({"required_certified_technicians": 1})).await;
    put_agreement(&app, "other", json!({"required_certified_technicians": 1})).await;
    let course = course(&app).await;
    let failed = app
        .post(
            &t.acme,
            &format!("/api/v1/courses/{course}/attempts"),
            json!({"answers": [0]}),
        )
        .await;
    assert_eq!(
        (
            failed.body["score"].as_u64(),
            failed.body["passed"].as_bool()
        ),
        (Some(0), Some(false))
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/partners/acme").await.body["certified"],
        false
    );
    let passed = app
        .post(
            &t.acme,
            &format!("/api/v1/courses/{course}/attempts"),
            json!({"answers": [1]}),
        )
        .await;
    assert_eq!(passed.body["passed"], true, "{}", passed.body);
    let profile = app.get(&t.acme, "/api/v1/partners/acme").await;
    assert_eq!(profile.body["certified"], true);
    assert_eq!(profile.body["technicians"][0]["certified"], true);
    // Only technicians take tests; technicians do not see the answers.
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/courses/{course}/attempts"),
            json!({"answers": [1]})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        app.get(&t.acme, "/api/v1/courses").await.body["courses"][0]["questions"][0]
            .get("correct")
            .is_none()
    );

    let certified = app
        .post(
            &t.acme,
            "/api/v1/cases",
            json!({"subject": "Restore slow", "on_behalf_of": "globex", "product": "Backup"}),
        )
        .await;
    assert_eq!(certified.status, StatusCode::CREATED, "{}", certified.body);
    assert_eq!(certified.body["tier"], 2);
    assert_eq!(certified.body["queue"], "l2");
    assert_eq!(certified.body["routed_by_rule"], rule_id);
    assert_eq!(certified.body["assignee"]["id"], app.agent_id);
    assert!(certified.body["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("certified-partner")));
    assert_eq!(certified.body["partner"]["certified"], true);
    let events = app
        .get(
            &t.agent,
            &format!("/api/v1/cases/{}/events", certified.body["id"]),
        )
        .await;
    assert!(events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "routed" && e["data"]["rule_id"] == rule_id));

    let uncertified = app
        .post(
            &t.other,
            "/api/v1/cases",
            json!({"subject": "Restore slow", "on_behalf_of": "umbrella"}),
        )
        .await;
    assert_eq!(uncertified.body["tier"], 1);
    assert_eq!(uncertified.body["routed_by_rule"], Value::Null);
    assert_eq!(uncertified.body["partner"]["certified"], false);

    // Trying the rules files nothing.
    let tried = app
        .post(
            &t.admin,
            "/api/v1/routing/test",
            json!({"requester_org_kind": "partner", "certified": true, "has_partner": true}),
        )
        .await;
    assert_eq!(tried.body["rule_id"], rule_id);
    let missed = app
        .post(
            &t.admin,
            "/api/v1/routing/test",
            json!({"requester_org_kind": "customer"}),
        )
        .await;
    assert_eq!(missed.body["matched"], false);
    // The public directory lists acme only; a rule that routed cases cannot be deleted.
    let directory = app
        .request(reqwest::Method::GET, None, "/api/v1/directory", None)
        .await;
    assert_eq!(
        directory.body["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["acme"]
    );
    let delete = app
        .delete(&t.admin, &format!("/api/v1/routing/rules/{rule_id}"))
        .await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    // Only staff manage rules.
    assert_eq!(
        app.get(&t.acme, "/api/v1/routing/rules").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn vendor_direct_contact_never_keeps_the_vendor_away_from_end_customers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app
        .file_case(
            &t.acme,
            json!({"subject": "Vault locked", "on_behalf_of": "globex"}),
        )
        .await;
    let public = app
        .post(&t.agent, "/api/v1/articles", json!({"title": "Vault locked after renewal", "issue": "locked", "resolution": "import the CA", "state": "validated", "audience": "public"}))
        .await;
    let public = public.body["id"].as_i64().unwrap();
    put_agreement(
        &app,
        "acme",
        json!({"vendor_direct_contact": "never", "customers_see_vendor_kb": false}),
    )
    .await;

    // globex's users see none of their organisation's cases, cannot file, and read no vendor KB.
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/cases/{case}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(app.get(&t.globex, "/api/v1/cases").await.body["cases"]
        .as_array()
        .unwrap()
        .is_empty());
    let filed = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "Hello vendor"}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/articles/{public}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.settle_index().await;
    let found = app.get(&t.globex, "/api/v1/search?q=vault").await;
    assert!(
        found.body["results"].as_array().unwrap().is_empty(),
        "{}",
        found.body
    );
    // The partner carries on; a directly served customer is untouched.
    assert_eq!(
        app.get(&t.acme, &format!("/api/v1/cases/{case}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&t.initech, &format!("/api/v1/articles/{public}"))
            .await
            .status,
        StatusCode::OK
    );
}

fn this_quarter() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{}-Q{}", now.year(), (u8::from(now.month()) - 1) / 3 + 1)
}

async fn a_scripted_quarter_gives_the_expected_scorecard_statement_and_alerts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    put_agreement(
        &app,
        "acme",
        json!({"fee_model": "percentage", "fee_percent": 10, "required_certified_technicians": 1}),
    )
    .await;
    // Acme's escalations promise a resolution within 120 hours.
    let policy = app
        .post(
            &t.admin,
            "/api/v1/sla/policies",
            json!({"name": "Acme", "conditions": {"partners": ["acme"]}, "resolution_minutes": 7200}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let visible = app
        .post(&t.agent, "/api/v1/articles", json!({"title": "Known partner issue", "issue": "x", "resolution": "y", "state": "validated", "audience": "partners"}))
        .await.body["id"].as_i64().unwrap();
    let internal = app
        .post(&t.agent, "/api/v1/articles", json!({"title": "Known internal issue", "issue": "x", "resolution": "y", "state": "validated", "audience": "internal"}))
        .await.body["id"].as_i64().unwrap();
    let solve = async |case: i64| {
        let reply = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{case}"),
                json!({"status": "solved"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    };
    // 12 escalations: 10 answered by an article acme could see (invalid), 1 by an internal one
    // (known), 1 still open. The customer's own case is not an escalation.
    let mut cases = Vec::new();
    for i in 0..12 {
        cases.push(app.file_case(&t.acme, json!({"subject": format!("Escalation {i}"), "on_behalf_of": "globex", "reproduced_on_vanilla": i < 6})).await);
    }
    app.file_case(&t.globex, json!({"subject": "Customer's own"}))
        .await;
    for &case in &cases[..10] {
        app.post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": visible}),
        )
        .await;
        solve(case).await;
    }
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{}/links", cases[10]),
        json!({"article_id": internal}),
    )
    .await;
    solve(cases[10]).await;
    app.settle_sla().await;

    let card = app.get(&t.admin, "/api/v1/partners/acme/scorecard").await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let s = &card.body["scorecard"];
    // 12 escalations for acme's one end customer (globex).
    assert_eq!(s["escalations"], 12);
    assert_eq!(s["end_customers"], 1);
    assert_eq!(s["escalations_per_end_customer"], 12.0);
    // 11 solved: 10 invalid, 1 known, none new.
    assert_eq!(s["solved"], 11);
    assert!((s["invalid_escalation_share"].as_f64().unwrap() - 10.0 / 11.0).abs() < 1e-9);
    assert!((s["known_share"].as_f64().unwrap() - 1.0 / 11.0).abs() < 1e-9);
    assert_eq!(s["new_share"], 0.0);
    // 6 of 12 stated a vanilla reproduction (the field is stored even without the rule).
    assert_eq!(s["reproduced_on_vanilla_share"], 0.5);
    // Solved within seconds: all within the policy's 120 hours.
    assert_eq!(s["within_sla_share"], 1.0);
    assert!(s["median_hours_to_resolve"].as_f64().unwrap() < 0.1);
    assert_eq!(
        (
            s["certified_technicians"].as_u64(),
            s["required_certified_technicians"].as_u64()
        ),
        (Some(0), Some(1))
    );

    // Fees: reported, corrected (both kept), then the statement uses the latest.
    let period = this_quarter();
    let first = app
        .post(
            &t.acme,
            "/api/v1/partners/acme/fees",
            json!({"period": period, "fees": "900"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    app.post(
        &t.acme,
        "/api/v1/partners/acme/fees",
        json!({"period": period, "fees": "1200.00"}),
    )
    .await;
    let bad = app
        .post(
            &t.acme,
            "/api/v1/partners/acme/fees",
            json!({"period": "2026-Q5", "fees": "-3"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let history = app.get(&t.admin, "/api/v1/partners/acme/fees").await;
    let reports = history.body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["fees"], "1200.00");
    assert_eq!(reports[1]["reported_by"]["email"], "tech@acme.example");
    // 10 % of 1,200.00 = 120.00; 12 escalations per 1,200 of fees = 10 per 1,000.
    let statement = app
        .get(
            &t.admin,
            &format!("/api/v1/partners/acme/statements?periods={period}"),
        )
        .await;
    let row = &statement.body["statements"][0];
    assert_eq!(row["amount_due"], "120.00");
    assert_eq!(row["escalations"], 12);
    assert!((row["escalations_per_1000_fees"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/partners/acme/statements?periods={period}&format=csv",
            app.base
        ))
        .bearer_auth(&t.acme)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(
        text.contains(&format!("acme,{period},1200.00,120.00,12,10.000")),
        "{text}"
    );

    // Alerts: 10/11 invalid over 11 solved (threshold 30 % of at least 10), and no certified
    // technician where one is required.
    let alerts = app.get(&t.admin, "/api/v1/partners/acme/alerts").await;
    let kinds: Vec<&str> = alerts.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["invalid_escalations", "certified_below_minimum"]
    );
    // The comparison ranks other (no escalations) before acme.
    let ranked = app.get(&t.admin, "/api/v1/partner-comparison").await;
    let order: Vec<&str> = ranked.body["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partner"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["other", "acme"]);
}

async fn tiered_queues_escalate_and_swarm_queues_ask_for_help(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app.file_case(&t.globex, json!({"subject": "Crash"})).await;
    let up = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/escalate"),
            json!({"reason": "needs a debugger"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(up.body["tier"], 2);
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{case}/escalate"),
        json!({"reason": "engine internals"}),
    )
    .await;
    let top = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/escalate"),
            json!({"reason": "more"}),
        )
        .await;
    assert_eq!(top.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/cases/{case}/escalate"),
            json!({"reason": " "})
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            &t.globex,
            &format!("/api/v1/cases/{case}/escalate"),
            json!({"reason": "hurry"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let events = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/events"))
        .await;
    let escalations: Vec<&Value> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .collect();
    assert_eq!(escalations.len(), 2);
    assert_eq!(escalations[0]["data"]["reason"], "needs a debugger");

    // A swarm queue: the owner asks a colleague with the skill; ownership stays.
    app.post(
        &t.admin,
        "/api/v1/queues",
        json!({"slug": "swarm", "name": "Swarm", "model": "swarm"}),
    )
    .await;
    let admin_id = app.get(&t.admin, "/api/v1/users/me").await.body["id"]
        .as_i64()
        .unwrap();
    app.put(
        &t.admin,
        &format!("/api/v1/queues/swarm/members/{admin_id}"),
        json!({"skills": ["vault"]}),
    )
    .await;
    app.put(
        &t.admin,
        &format!("/api/v1/queues/swarm/members/{}", app.agent_id),
        json!({"skills": ["backup"]}),
    )
    .await;
    app.post(&t.admin, "/api/v1/routing/rules", json!({"name": "Vault swarm", "conditions": [{"field": "words", "any_of": ["vault"]}], "actions": {"queue": "swarm", "assign": "round_robin"}})).await;
    let swarmed = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "Vault will not unlock"}),
        )
        .await;
    assert_eq!(swarmed.body["queue"], "swarm");
    let owner = swarmed.body["assignee"]["id"].as_i64().unwrap();
    let id = swarmed.body["id"].as_i64().unwrap();
    let skill = if owner == admin_id { "backup" } else { "vault" };
    let asked = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{id}/swarm"),
            json!({"skill": skill, "message": "second pair of eyes?"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.body["asked"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{id}")).await.body["assignee"]["id"],
        owner
    );
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/cases/{id}/escalate"),
            json!({"reason": "x"})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/cases/{id}/swarm"),
            json!({"skill": "cooking", "message": "?"})
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn partners_never_read_each_others_records(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    put_agreement(
        &app,
        "acme",
        json!({"troubleshooting_checklist": ["Secret step"]}),
    )
    .await;
    app.post(
        &t.acme,
        "/api/v1/partners/acme/fees",
        json!({"period": "2026-Q3", "fees": "100"}),
    )
    .await;
    let acme_case = app
        .post(&t.acme, "/api/v1/cases", json!({"subject": "acme only", "on_behalf_of": "globex", "checklist": {"Secret step": "done"}}))
        .await.body["id"].as_i64().unwrap();
    for path in [
        "",
        "/agreement",
        "/scorecard",
        "/fees",
        "/statements?periods=2026-Q3",
        "/alerts",
    ] {
        for token in [&t.other, &t.globex, &t.initech] {
            let reply = app
                .get(token, &format!("/api/v1/partners/acme{path}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                reply.body
            );
        }
    }
    assert_eq!(
        app.get(&t.other, &format!("/api/v1/cases/{acme_case}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let write = app
        .post(
            &t.other,
            "/api/v1/partners/acme/fees",
            json!({"period": "2026-Q3", "fees": "1"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::NOT_FOUND);
    // Its own records: readable, but the agreement is the vendor's to change.
    assert_eq!(
        app.get(&t.acme, "/api/v1/partners/acme/agreement")
            .await
            .status,
        StatusCode::OK
    );
    let own = app
        .put(
            &t.acme,
            "/api/v1/partners/acme/agreement",
            agreement(json!({})),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&t.acme, "/api/v1/partners/acme/alerts")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/partner-comparison").await.status,
        StatusCode::FORBIDDEN
    );
    let listed = app.get(&t.acme, "/api/v1/partners").await;
    assert_eq!(listed.body["partners"].as_array().unwrap().len(), 1);
    // Queues, courses and rules are the vendor's to shape.
    assert_eq!(
        app.post(
            &t.acme,
            "/api/v1/queues",
            json!({"slug": "q", "name": "Q", "model": "tiered"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/queues").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &t.acme,
            "/api/v1/courses",
            json!({"product": "p", "release": "1", "title": "t", "questions": [], "pass_mark": 50})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&t.globex, "/api/v1/courses").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&t.acme, "/api/v1/routing/test", json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Customers are not partners.
    assert_eq!(
        app.get(&t.admin, "/api/v1/partners/globex").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A queue `slug` whose members are `members`, and a rule sending cases that mention `word`
/// there round robin. Returns the rule's id.
async fn round_robin_queue(app: &TestApp, slug: &str, members: &[i64], word: &str) -> i64 {
    let t = &app.tokens;
    let queue = app
        .post(
            &t.admin,
            "/api/v1/queues",
            json!({"slug": slug, "name": slug, "model": "tiered"}),
        )
        .await;
    assert_eq!(queue.status, StatusCode::CREATED, "{}", queue.body);
    for member in members {
        let added = app
            .put(
                &t.admin,
                &format!("/api/v1/queues/{slug}/members/{member}"),
                json!({"skills": []}),
            )
            .await;
        assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    }
    let rule = app
        .post(
            &t.admin,
            "/api/v1/routing/rules",
            json!({"name": format!("{word} to {slug}"),
            "conditions": [{"field": "words", "any_of": [word]}],
            "actions": {"queue": slug, "assign": "round_robin"}}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    rule.body["id"].as_i64().unwrap()
}

/// Each member's last assignment in the queue: the round robin's position.
async fn turns(app: &TestApp, slug: &str) -> Vec<(i64, Option<backline_domain::Timestamp>)> {
    let queue = app.store.queue_by_slug(slug).await.unwrap();
    app.store
        .queue_members(queue.id)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.user.id.0, m.last_assigned_at))
        .collect()
}

async fn a_refused_case_leaves_the_round_robin_where_it_was(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let admin_id = app.get(&t.admin, "/api/v1/users/me").await.body["id"]
        .as_i64()
        .unwrap();
    round_robin_queue(&app, "rr", &[admin_id, app.agent_id], "printer").await;
    let scanner_rule =
        round_robin_queue(&app, "rr-scan", &[admin_id, app.agent_id], "scanner").await;
    put_agreement(
        &app,
        "acme",
        json!({"troubleshooting_checklist": ["Restarted the spooler"]}),
    )
    .await;

    // The first turn goes to the member never assigned, in member order: the admin.
    let first = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "printer jams"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["assignee"]["id"], admin_id);
    let after_first = turns(&app, "rr").await;
    let before = app.case_count().await;

    // Refused by the escalation gate: no turn taken.
    let gated = app
        .post(
            &t.acme,
            "/api/v1/cases",
            json!({"subject": "printer jams", "on_behalf_of": "globex"}),
        )
        .await;
    assert_eq!(gated.code(), "escalation_incomplete", "{}", gated.body);
    assert_eq!(turns(&app, "rr").await, after_first);

    // Refused by the database after routing: another node deleted the scanner rule, which this
    // node still has cached, so the case cannot record the rule that routed it. The turn
    // picked for it must not count either.
    let scan_turns = turns(&app, "rr-scan").await;
    app.store
        .delete_rule(backline_domain::RuleId(scanner_rule), None)
        .await
        .unwrap();
    let refused = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "scanner is offline"}),
        )
        .await;
    assert_ne!(refused.status, StatusCode::CREATED, "{}", refused.body);
    assert_eq!(app.case_count().await, before, "refusals store nothing");
    assert_eq!(turns(&app, "rr-scan").await, scan_turns);
    assert_eq!(turns(&app, "rr").await, after_first);

    // The next case takes the next turn.
    let second = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "printer jams again"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["assignee"]["id"], app.agent_id);
}

async fn concurrent_filings_take_round_robin_turns(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut members = Vec::new();
    for i in 0..6 {
        let user = app
            .store
            .create_user(&backline_store::NewUser {
                email: format!("rr{i}@vendor.example"),
                name: format!("rr{i}"),
                role: backline_domain::Role::Agent,
                org: None,
                tier: None,
                password_hash: None,
            })
            .await
            .unwrap();
        members.push(user.id.0);
    }
    round_robin_queue(&app, "rr", &members, "printer").await;

    // As many filings at once as there are members: each member gets exactly one.
    let mut filings = tokio::task::JoinSet::new();
    for i in 0..members.len() {
        let (client, base, token) = (
            app.client.clone(),
            app.base.clone(),
            app.tokens.globex.clone(),
        );
        filings.spawn(async move {
            let reply = client
                .post(format!("{base}/api/v1/cases"))
                .bearer_auth(token)
                .json(&json!({"subject": format!("printer {i} is on fire")}))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), StatusCode::CREATED);
            let body: Value = reply.json().await.unwrap();
            body["assignee"]["id"].as_i64().unwrap()
        });
    }
    let mut assigned = filings.join_all().await;
    assigned.sort();
    assert_eq!(assigned, members);
}

async fn escalating_moves_the_case_to_the_queue_of_the_next_tier(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    for (slug, tier) in [("l2", 2), ("l3", 3)] {
        let queue = app
            .post(
                &t.admin,
                "/api/v1/queues",
                json!({"slug": slug, "name": slug, "model": "tiered", "tier": tier}),
            )
            .await;
        assert_eq!(queue.status, StatusCode::CREATED, "{}", queue.body);
        assert_eq!(queue.body["tier"], tier);
    }
    // One queue per tier, and swarms serve none.
    let twice = app
        .post(
            &t.admin,
            "/api/v1/queues",
            json!({"slug": "l3b", "name": "l3b", "model": "tiered", "tier": 3}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let swarm = app
        .post(
            &t.admin,
            "/api/v1/queues",
            json!({"slug": "sw", "name": "sw", "model": "swarm", "tier": 2}),
        )
        .await;
    assert_eq!(
        swarm.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        swarm.body
    );
    let listed = app.get(&t.admin, "/api/v1/queues").await;
    assert_eq!(listed.body["queues"][0]["tier"], 2, "{}", listed.body);

    app.post(
        &t.admin,
        "/api/v1/routing/rules",
        json!({"name": "Databases to tier 2",
        "conditions": [{"field": "words", "any_of": ["database"]}],
        "actions": {"tier": 2, "queue": "l2"}}),
    )
    .await;
    let case = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "database is corrupt"}),
        )
        .await;
    assert_eq!(
        (case.body["tier"].as_i64(), case.body["queue"].as_str()),
        (Some(2), Some("l2"))
    );
    let id = case.body["id"].as_i64().unwrap();

    let up = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{id}/escalate"),
            json!({"reason": "needs the storage engine team"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(
        (up.body["tier"].as_i64(), up.body["queue"].as_str()),
        (Some(3), Some("l3"))
    );
    let events = app
        .get(&t.agent, &format!("/api/v1/cases/{id}/events"))
        .await;
    let events = events.body["events"].as_array().unwrap();
    let escalated = events.iter().find(|e| e["kind"] == "escalated").unwrap();
    assert_eq!(
        (&escalated["data"]["from"], &escalated["data"]["to"]),
        (&json!(2), &json!(3))
    );
    assert_eq!(
        (
            &escalated["data"]["from_queue"],
            &escalated["data"]["to_queue"]
        ),
        (&json!("l2"), &json!("l3"))
    );
    assert_eq!(escalated["data"]["reason"], "needs the storage engine team");
    assert!(
        events.iter().any(|e| e["kind"] == "queue_changed"),
        "every changed field has its event: {events:?}"
    );

    // A case in no queue joins the queue of each tier it is escalated to.
    let other = app
        .file_case(&t.globex, json!({"subject": "slow login"}))
        .await;
    let mut queues = Vec::new();
    for _ in 0..2 {
        let up = app
            .post(
                &t.agent,
                &format!("/api/v1/cases/{other}/escalate"),
                json!({"reason": "up"}),
            )
            .await;
        assert_eq!(up.status, StatusCode::OK, "{}", up.body);
        queues.push((up.body["tier"].clone(), up.body["queue"].clone()));
    }
    assert_eq!(queues, [(json!(2), json!("l2")), (json!(3), json!("l3"))]);
}

/// The alert check is one of the jobs `Application::build` starts (it once was never started,
/// so no relationship manager ever heard of an alert). Checked every 100 ms here instead of
/// hourly; the mail goes through the outbox and the mail worker to a real SMTP sink.
async fn the_relationship_manager_is_mailed_new_partner_alerts(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            partner_alerts_every: Some(std::time::Duration::from_millis(100)),
            ..Options::default()
        },
    )
    .await;
    // One certified technician required and none certified: `certified_below_minimum`.
    put_agreement(&app, "acme", json!({"required_certified_technicians": 1})).await;
    let reply = app
        .patch(
            &app.tokens.admin,
            "/api/v1/partners/acme",
            json!({"relationship_manager": "agent@vendor.example"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let mail = app.mail_until(1).await;
    let alert = mail
        .iter()
        .find(|m| m.subject() == "Partner alert: ACME")
        .expect("an alert mail");
    assert_eq!(alert.to, vec!["agent@vendor.example"]);
    assert!(
        alert.data.contains("0 certified technicians, 1 required"),
        "{}",
        alert.data
    );
    assert!(alert.data.contains("/partners/acme"), "{}", alert.data);

    // Once the alert is recorded as sent, later checks do not repeat it.
    let acme = app.store.org_by_slug("acme").await.unwrap();
    let key = format!("partner_alerts:{}", acme.id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.store.setting(&key).await.unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "alert never recorded as sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let again = backline_server::partners::service::mail_partner_alerts(&app.state)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert!(
        app.mail
            .as_ref()
            .unwrap()
            .messages()
            .iter()
            .filter(|m| m.subject() == "Partner alert: ACME")
            .count()
            == 1
    );
}

/// Several nodes (here, several checks at once) noticing the same new alert: one mails it.
async fn nodes_checking_alerts_at_once_mail_each_alert_once(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            partner_alerts_every: Some(std::time::Duration::from_secs(3600)),
            ..Options::default()
        },
    )
    .await;
    put_agreement(&app, "acme", json!({"required_certified_technicians": 1})).await;
    app.patch(
        &app.tokens.admin,
        "/api/v1/partners/acme",
        json!({"relationship_manager": "agent@vendor.example"}),
    )
    .await;
    let check = || backline_server::partners::service::mail_partner_alerts(&app.state);
    let (a, b, c, d) = tokio::join!(check(), check(), check(), check());
    let sent = a.unwrap() + b.unwrap() + c.unwrap() + d.unwrap();
    // The app's own check runs at start too: on a busy machine it may only get to run
    // now, beside these four, and be the one that mails. Five checkers, one mail.
    assert!(
        sent <= 1,
        "one check mails, the others find it done: {sent}"
    );
    // Everything written to the outbox sent (other jobs that started with the app may mail
    // too), then exactly one partner alert among it.
    app.mail_until(1).await;
    app.until("the outbox emptied", || async {
        (app.store.outbox_pending().await.unwrap() == 0).then_some(())
    })
    .await;
    let subjects: Vec<String> = app
        .mail
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .map(|m| m.subject())
        .collect();
    let alerts = subjects
        .iter()
        .filter(|s| s.starts_with("Partner alert"))
        .count();
    assert_eq!(alerts, 1, "{subjects:?}");
}
