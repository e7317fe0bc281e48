//! The JSON API against the real router on both databases: the partner scenario, visibility
//! denials, internal notes, bad input that stores nothing, pagination and administration.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    partner_files_for_its_customer_and_is_flagged_everywhere,
    cases_outside_a_callers_scope_do_not_exist_for_them,
    internal_notes_never_reach_partners_or_customers,
    bad_input_is_rejected_and_nothing_is_stored,
    requests_without_valid_tokens_are_refused,
    lists_filter_and_page_with_cursors,
    changes_are_audited_and_bounded_by_role,
    organisations_and_users_are_administered_by_admins,
    health_metrics_and_openapi_are_served,
    every_response_carries_a_request_id,
);

async fn partner_files_for_its_customer_and_is_flagged_everywhere(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let reply = app
        .post(&t.acme, "/api/v1/cases", json!({"subject": "Backup fails", "description": "BK-1042 on node 3", "priority": "high", "product": "Backup", "on_behalf_of": "globex"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let case = &reply.body;
    assert_eq!(case["organization"]["slug"], "globex");
    assert_eq!(case["requester"]["email"], "tech@acme.example");
    assert_eq!(case["status"], "new");
    assert_eq!(case["tier"], 1);
    assert_eq!(case["channel"], "api");
    assert_eq!(case["number"], case["id"]);
    let flag = json!({"id": case["partner"]["id"], "slug": "acme", "name": "ACME", "kinds": ["reseller", "frontline"], "technical_level": "expert", "certified": false});
    assert_eq!(case["partner"], flag);
    let id = case["id"].as_i64().unwrap();

    // The flag is inline in every list, for every caller who sees the case.
    for token in [&t.agent, &t.acme, &t.globex] {
        let list = app.get(token, "/api/v1/cases").await;
        assert_eq!(list.status, StatusCode::OK);
        let row = list.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .expect("case listed");
        assert_eq!(row["partner"], flag);
    }
    // The customer, filing directly, is flagged with its serving partner too.
    let own = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "Question about retention"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    assert_eq!(own.body["partner"]["slug"], "acme");
    assert_eq!(own.body["channel"], "api");
    // A directly served customer's case carries no partner.
    let direct = app
        .post(
            &t.initech,
            "/api/v1/cases",
            json!({"subject": "Licence question"}),
        )
        .await;
    assert_eq!(direct.body["partner"], serde_json::Value::Null);
    // A partner files for itself when it names no customer.
    let itself = app
        .post(
            &t.acme,
            "/api/v1/cases",
            json!({"subject": "Partner portal access"}),
        )
        .await;
    assert_eq!(itself.body["organization"]["slug"], "acme");
    assert_eq!(itself.body["partner"]["slug"], "acme");
}

async fn cases_outside_a_callers_scope_do_not_exist_for_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let served = app
        .file_case(
            &t.acme,
            json!({"subject": "Served", "on_behalf_of": "globex"}),
        )
        .await;
    let direct = app
        .file_case(&t.initech, json!({"subject": "Direct"}))
        .await;
    let other = app
        .file_case(
            &t.other,
            json!({"subject": "Other's", "on_behalf_of": "umbrella"}),
        )
        .await;

    let visible = |token: &str| {
        let token = token.to_string();
        let app = &app;
        async move {
            let list = app.get(&token, "/api/v1/cases").await;
            let mut ids: Vec<i64> = list.body["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(visible(&t.agent).await, vec![served, direct, other]);
    assert_eq!(visible(&t.acme).await, vec![served]);
    assert_eq!(visible(&t.other).await, vec![other]);
    assert_eq!(visible(&t.globex).await, vec![served]);
    assert_eq!(visible(&t.initech).await, vec![direct]);

    // Reads, comments and changes outside the scope answer 404, exactly as for a missing case.
    for (token, id) in [
        (&t.acme, direct),
        (&t.acme, other),
        (&t.globex, direct),
        (&t.initech, served),
        (&t.other, served),
    ] {
        for path in [
            format!("/api/v1/cases/{id}"),
            format!("/api/v1/cases/{id}/comments"),
        ] {
            let reply = app.get(token, &path).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(reply.code(), "not_found");
        }
        let comment = app
            .post(
                token,
                &format!("/api/v1/cases/{id}/comments"),
                json!({"body": "hello?"}),
            )
            .await;
        assert_eq!(comment.status, StatusCode::NOT_FOUND);
        let change = app
            .patch(
                token,
                &format!("/api/v1/cases/{id}"),
                json!({"status": "solved"}),
            )
            .await;
        assert_eq!(change.status, StatusCode::NOT_FOUND);
    }
    let missing = app.get(&t.agent, "/api/v1/cases/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.body,
        app.get(&t.acme, &format!("/api/v1/cases/{direct}"))
            .await
            .body
    );

    // Filters cannot widen the scope.
    let sneaky = app.get(&t.acme, "/api/v1/cases?organization=initech").await;
    assert!(sneaky.body["cases"].as_array().unwrap().is_empty());
    let sneaky = app.get(&t.globex, "/api/v1/cases?partner=other").await;
    assert!(sneaky.body["cases"].as_array().unwrap().is_empty());

    // A partner cannot file for a customer it does not serve, nor a customer for another.
    for (token, target) in [
        (&t.acme, "umbrella"),
        (&t.acme, "initech"),
        (&t.acme, "other"),
        (&t.acme, "no-such-org"),
    ] {
        let reply = app
            .post(
                token,
                "/api/v1/cases",
                json!({"subject": "x", "on_behalf_of": target}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{target}");
        assert_eq!(
            reply.body["error"]["fields"]["on_behalf_of"],
            "not an end customer your organisation serves"
        );
    }
    let reply = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "x", "on_behalf_of": "initech"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.case_count().await, 3);
}

async fn internal_notes_never_reach_partners_or_customers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = app
        .file_case(
            &t.acme,
            json!({"subject": "Restore slow", "on_behalf_of": "globex"}),
        )
        .await;
    let path = format!("/api/v1/cases/{id}/comments");
    let note = app
        .post(
            &t.agent,
            &path,
            json!({"body": "Known regression, see engineering ticket", "public": false}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(note.body["public"], false);
    let reply = app
        .post(&t.agent, &path, json!({"body": "Please upgrade to 7.2.3"}))
        .await;
    assert_eq!(reply.body["public"], true);

    let staff_view = app.get(&t.agent, &path).await;
    assert_eq!(staff_view.body["comments"].as_array().unwrap().len(), 2);
    for token in [&t.acme, &t.globex] {
        let view = app.get(token, &path).await;
        let comments = view.body["comments"].as_array().unwrap();
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0]["body"], "Please upgrade to 7.2.3");
        assert!(!view.body.to_string().contains("engineering ticket"));
        // Nor may they write one.
        let attempt = app
            .post(token, &path, json!({"body": "secret", "public": false}))
            .await;
        assert_eq!(attempt.status, StatusCode::FORBIDDEN);
        assert_eq!(attempt.code(), "forbidden");
        // The audit trail, which mentions internal notes, is staff-only.
        assert_eq!(
            app.get(token, &format!("/api/v1/cases/{id}/events"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        app.get(&t.agent, &path).await.body["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The staff reply took the new case into work.
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{id}")).await.body["status"],
        "open"
    );
}

async fn bad_input_is_rejected_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = app
        .file_case(&t.globex, json!({"subject": "Baseline"}))
        .await;
    let before = app.get(&t.agent, &format!("/api/v1/cases/{id}")).await.body;

    let malformed = app
        .post_raw(
            &t.globex,
            "/api/v1/cases",
            "application/json",
            "{\"subject\": ",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "malformed_json");
    let not_json = app
        .post_raw(&t.globex, "/api/v1/cases", "text/plain", "subject=x")
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let missing = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"description": "no subject"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body["error"]["fields"]["body"]
        .as_str()
        .unwrap()
        .contains("subject"));
    let blank = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "   ", "tags": ["two words"]}),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        blank.body["error"]["fields"]["subject"],
        "write a subject: one line that says what the problem is"
    );
    assert!(blank.body["error"]["fields"]["tags"].is_string());
    let unknown = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "x", "priorty": "high"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_enum = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "x", "priority": "highest"}),
        )
        .await;
    assert!(bad_enum.body["error"]["fields"]["priority"]
        .as_str()
        .unwrap()
        .contains("unknown variant"));
    let long = app
        .post(
            &t.globex,
            "/api/v1/cases",
            json!({"subject": "x".repeat(201)}),
        )
        .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.case_count().await, 1);

    let path = format!("/api/v1/cases/{id}");
    for body in [
        json!({"status": "closing"}),
        json!({"tier": 4}),
        json!({"assignee": 999999}),
        json!({"tags": [""]}),
        json!({"status": "solved", "tier": 0}),
    ] {
        let reply = app.patch(&t.agent, &path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Assigning to a customer user is refused too.
    let customer_id = app.get(&t.globex, "/api/v1/users/me").await.body["id"].clone();
    let reply = app
        .patch(&t.agent, &path, json!({"assignee": customer_id}))
        .await;
    assert_eq!(
        reply.body["error"]["fields"]["assignee"],
        "cases are assigned to vendor staff only"
    );
    let comment = app
        .post(&t.agent, &format!("{path}/comments"), json!({"body": "  "}))
        .await;
    assert_eq!(comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_path = app.get(&t.agent, "/api/v1/cases/abc").await;
    assert_eq!(bad_path.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_path.code(), "invalid_path");

    let after = app.get(&t.agent, &path).await.body;
    assert_eq!(
        before, after,
        "a rejected change must leave the case as it was"
    );
    assert_eq!(
        app.get(&t.agent, &format!("{path}/comments")).await.body["comments"],
        json!([])
    );
    let events = app.get(&t.agent, &format!("{path}/events")).await.body;
    assert_eq!(
        events["events"].as_array().unwrap().len(),
        1,
        "only the creation is recorded"
    );
}

async fn requests_without_valid_tokens_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let none = app
        .request(reqwest::Method::GET, None, "/api/v1/cases", None)
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "unauthenticated");
    let wrong = app.get("bl_not-a-real-token", "/api/v1/cases").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_token");
    let post = app
        .request(
            reqwest::Method::POST,
            Some("nope"),
            "/api/v1/cases",
            Some(json!({"subject": "x"})),
        )
        .await;
    assert_eq!(post.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.case_count().await, 0);
    let unknown = app.get(&app.tokens.agent, "/api/v1/no-such-thing").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "not_found");
}

async fn lists_filter_and_page_with_cursors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let mut ids = Vec::new();
    for i in 0..7 {
        let priority = if i % 2 == 0 { "high" } else { "low" };
        let (token, body) = if i < 4 {
            (
                &t.acme,
                json!({"subject": format!("Disk full {i}"), "priority": priority, "on_behalf_of": "globex"}),
            )
        } else {
            (
                &t.initech,
                json!({"subject": format!("Sync stalls {i}"), "priority": priority}),
            )
        };
        ids.push(app.file_case(token, body).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=3&cursor={c}"),
            None => "/api/v1/cases?limit=3".to_string(),
        };
        let page = app.get(&t.agent, &path).await;
        assert_eq!(page.status, StatusCode::OK);
        pages += 1;
        seen.extend(
            page.body["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let count = |path: &'static str| {
        let app = &app;
        async move {
            app.get(&app.tokens.agent, path).await.body["cases"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("/api/v1/cases?partner=acme").await, 4);
    assert_eq!(count("/api/v1/cases?organization=initech").await, 3);
    assert_eq!(count("/api/v1/cases?priority=high").await, 4);
    assert_eq!(count("/api/v1/cases?q=disk").await, 4);
    assert_eq!(count("/api/v1/cases?q=sync%20stalls%206").await, 1);
    assert_eq!(count("/api/v1/cases?status=new,open").await, 7);
    assert_eq!(count("/api/v1/cases?status=solved").await, 0);
    assert_eq!(count("/api/v1/cases?assignee=none").await, 7);
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{}", ids[0]),
        json!({"assignee": app.agent_id}),
    )
    .await;
    assert_eq!(count("/api/v1/cases?assignee=me").await, 1);

    for bad in [
        "status=done",
        "priority=p1",
        "cursor=abc",
        "limit=0",
        "limit=500",
        "assignee=someone",
        "colour=red",
    ] {
        let reply = app.get(&t.agent, &format!("/api/v1/cases?{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.code(), "invalid_query", "{bad}");
    }
}

async fn changes_are_audited_and_bounded_by_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = app
        .file_case(
            &t.acme,
            json!({"subject": "Vault locked", "on_behalf_of": "globex"}),
        )
        .await;
    let path = format!("/api/v1/cases/{id}");
    let updated = app
        .patch(&t.agent, &path, json!({"status": "open", "priority": "urgent", "tier": 2, "assignee": app.agent_id, "tags": ["Vault", "cert"]}))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["tier"], 2);
    assert_eq!(updated.body["priority"], "urgent");
    assert_eq!(updated.body["assignee"]["id"], app.agent_id);
    assert_eq!(updated.body["tags"], json!(["cert", "vault"]));
    let events = app.get(&t.agent, &format!("{path}/events")).await.body;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "status_changed",
            "priority_changed",
            "tier_changed",
            "assignee_changed",
            "tags_changed"
        ]
    );
    assert_eq!(
        events["events"][1]["data"],
        json!({"from": "new", "to": "open"})
    );
    assert_eq!(
        events["events"][1]["actor"]["email"],
        "agent@vendor.example"
    );
    // Unassigning with null.
    let unassigned = app.patch(&t.agent, &path, json!({"assignee": null})).await;
    assert_eq!(unassigned.body["assignee"], serde_json::Value::Null);

    // Partners and customers may solve or reopen, nothing else.
    for body in [
        json!({"priority": "low"}),
        json!({"tier": 3}),
        json!({"tags": []}),
        json!({"assignee": null}),
    ] {
        let reply = app.patch(&t.acme, &path, body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let reply = app
        .patch(&t.globex, &path, json!({"status": "on_hold"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let solved = app
        .patch(&t.globex, &path, json!({"status": "solved"}))
        .await;
    assert_eq!(solved.body["status"], "solved");
    assert!(solved.body["solved_at"].is_string());
    // A reply from the customer's side reopens a solved case.
    app.post(
        &t.acme,
        &format!("{path}/comments"),
        json!({"body": "It is back"}),
    )
    .await;
    let reopened = app.get(&t.agent, &path).await;
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(reopened.body["solved_at"], serde_json::Value::Null);

    let closed = app
        .patch(&t.agent, &path, json!({"status": "closed"}))
        .await;
    assert_eq!(closed.body["status"], "closed");
    let reopen = app.patch(&t.agent, &path, json!({"status": "open"})).await;
    assert_eq!(reopen.status, StatusCode::UNPROCESSABLE_ENTITY);
    let late = app
        .post(
            &t.globex,
            &format!("{path}/comments"),
            json!({"body": "one more thing"}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.code(), "case_closed");
}

async fn organisations_and_users_are_administered_by_admins(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let created = app
        .post(&t.admin, "/api/v1/organizations", json!({"name": "Northwind Partners", "slug": "northwind", "kind": "partner", "partner_kinds": ["implementer"], "technical_level": "intermediate"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["partner_kinds"], json!(["implementer"]));
    let customer = app
        .post(
            &t.admin,
            "/api/v1/organizations",
            json!({"name": "Hooli", "slug": "hooli", "kind": "customer", "served_by": "northwind"}),
        )
        .await;
    assert_eq!(customer.body["served_by"]["slug"], "northwind");

    // Wrong shapes and duplicates are refused with the field named.
    let cases = [
        (
            json!({"name": "X", "slug": "Bad Slug", "kind": "customer"}),
            "slug",
        ),
        (
            json!({"name": "X", "slug": "p2", "kind": "partner"}),
            "partner_kinds",
        ),
        (
            json!({"name": "X", "slug": "c2", "kind": "customer", "served_by": "hooli"}),
            "served_by",
        ),
        (
            json!({"name": "", "slug": "c3", "kind": "customer"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post(&t.admin, "/api/v1/organizations", body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    let duplicate = app
        .post(
            &t.admin,
            "/api/v1/organizations",
            json!({"name": "Again", "slug": "hooli", "kind": "customer"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);

    // Only admins administer.
    for token in [&t.agent, &t.acme, &t.globex] {
        let reply = app
            .post(
                token,
                "/api/v1/organizations",
                json!({"name": "Y", "slug": "y", "kind": "customer"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = app
            .post(
                token,
                "/api/v1/users",
                json!({"email": "y@y.example", "name": "Y", "role": "agent"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let patched = app
        .patch(
            &t.admin,
            "/api/v1/organizations/hooli",
            json!({"served_by": null, "name": "Hooli Inc"}),
        )
        .await;
    assert_eq!(patched.body["served_by"], serde_json::Value::Null);
    assert_eq!(patched.body["name"], "Hooli Inc");
    assert_eq!(
        app.patch(
            &t.agent,
            "/api/v1/organizations/hooli",
            json!({"name": "Z"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Partners see themselves and the customers they serve; customers themselves only.
    let slugs = |token: &str| {
        let (app, token) = (&app, token.to_string());
        async move {
            let list = app.get(&token, "/api/v1/organizations").await;
            list.body["organizations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["slug"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(slugs(&t.acme).await, ["acme", "globex"]);
    assert_eq!(slugs(&t.globex).await, ["globex"]);
    assert_eq!(slugs(&t.agent).await.len(), 7);
    assert_eq!(
        app.get(&t.acme, "/api/v1/organizations/other").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/organizations/umbrella")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/organizations/globex")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&t.globex, "/api/v1/organizations/acme")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let user = app
        .post(&t.admin, "/api/v1/users", json!({"email": "New.Tech@Northwind.example", "name": "New Tech", "role": "partner", "organization": "northwind", "password": "long enough"}))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    assert_eq!(user.body["email"], "new.tech@northwind.example");
    for (body, field) in [
        (
            json!({"email": "a@b.example", "name": "A", "role": "customer", "organization": "northwind"}),
            "organization",
        ),
        (
            json!({"email": "a@b.example", "name": "A", "role": "agent", "organization": "globex"}),
            "organization",
        ),
        (
            json!({"email": "a@b.example", "name": "A", "role": "partner"}),
            "organization",
        ),
        (
            json!({"email": "not-an-email", "name": "A", "role": "agent"}),
            "email",
        ),
        (
            json!({"email": "a@b.example", "name": "A", "role": "agent", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "a@b.example", "name": "A", "role": "customer", "organization": "globex", "tier": 2}),
            "tier",
        ),
    ] {
        let reply = app.post(&t.admin, "/api/v1/users", body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    let again = app
        .post(
            &t.admin,
            "/api/v1/users",
            json!({"email": "new.tech@northwind.example", "name": "Dup", "role": "agent"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // People lists follow the same scope.
    let globex_users = app.get(&t.globex, "/api/v1/users").await;
    let emails: Vec<&str> = globex_users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["user@globex.example"]);
    let acme_tech = app
        .get(&t.admin, "/api/v1/users?organization=acme")
        .await
        .body["users"][0]["id"]
        .clone();
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/users/{acme_tech}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/users/{acme_tech}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&t.acme, "/api/v1/users/me").await.body["organization"]["slug"],
        "acme"
    );
}

async fn health_metrics_and_openapi_are_served(backend: Backend) {
    let app = TestApp::start(backend).await;
    let health = app
        .request(reqwest::Method::GET, None, "/healthz", None)
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let search = &health.body["search"];
    assert!(
        search["state"] == "indexing" || search["state"] == "ready",
        "{}",
        health.body
    );
    assert!(search["indexed"].as_u64().unwrap() <= search["total"].as_u64().unwrap());
    app.file_case(&app.tokens.globex, json!({"subject": "count me"}))
        .await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("backline_http_requests_total{method=\"POST\",route=\"/api/v1/cases\",status=\"201\"} 1"), "{metrics}");
    assert!(metrics.contains("backline_cases 1"));
    let doc = app
        .request(reqwest::Method::GET, None, "/api/v1/openapi.json", None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    for path in [
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/comments",
        "/api/v1/organizations",
        "/api/v1/users",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc.body["components"]["schemas"]["CaseView"]["properties"]["partner"].is_object());
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = TestApp::start(backend).await;
    let get = |id: Option<&'static str>, path: &'static str| {
        let mut request = app.client.get(format!("{}{path}", app.base));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        async move {
            let reply = request.send().await.unwrap();
            let status = reply.status();
            let id = reply
                .headers()
                .get("x-request-id")
                .map(|v| v.to_str().unwrap().to_string());
            (status, id)
        }
    };
    // None given: one is made, fresh for each request, on every kind of answer.
    let (status, first) = get(None, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let first = first.expect("an X-Request-Id");
    assert_eq!(first.len(), 32, "{first}");
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    let (_, second) = get(None, "/healthz").await;
    assert_ne!(Some(first), second);
    for path in ["/api/v1/cases", "/no/such/page"] {
        let (status, id) = get(None, path).await;
        assert!(status.is_client_error());
        assert!(id.is_some(), "{path} answered without an id");
    }
    // A sane one is kept, so a proxy's id follows the request; anything else is replaced.
    let (_, echoed) = get(Some("lb-7f3a.2024:abc"), "/api/v1/cases").await;
    assert_eq!(echoed.as_deref(), Some("lb-7f3a.2024:abc"));
    let (_, replaced) = get(Some("<script>alert(1)</script>"), "/healthz").await;
    let replaced = replaced.unwrap();
    assert_eq!(replaced.len(), 32, "{replaced}");
}
