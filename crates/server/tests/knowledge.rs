//! Knowledge over the real router on both databases: who reads and writes articles, search
//! within the caller's sight, suggestions, links and the classification of solved cases.

mod common;

use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    articles_follow_audience_and_state_rules,
    article_edits_keep_every_revision,
    search_finds_only_what_the_caller_may_see,
    suggestions_rank_known_answers_within_the_callers_sight,
    solved_cases_are_classified_from_their_links,
    a_catching_up_index_says_so_and_search_answers_from_the_database,
    results_are_rows_per_case_counted_and_paged,
    typos_find_the_word_meant,
    partner_filters_name_partners_by_slug_prefix_or_name,
    an_article_ranks_among_the_duplicate_cases_it_answers,
    customers_and_partners_see_similar_solved_questions_by_title_only,
    suggestions_are_kept_and_worked_out_again_when_knowledge_changes,
    the_knowledge_list_pages_beyond_a_hundred_articles,
);

/// A signed-in browser session: its cookie.
struct Web {
    client: reqwest::Client,
    cookie: String,
}

impl Web {
    async fn sign_in(app: &TestApp, email: &str) -> Web {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", email),
                ("password", common::PASSWORD),
                ("next", "/cases"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {email}"
        );
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Web { client, cookie }
    }

    /// The page at `path`: its status and HTML.
    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

/// The type and id of each result row.
fn rows_of(body: &Value) -> Vec<(String, i64)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The result row of case `id`.
fn case_row(body: &Value, id: i64) -> Option<Value> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "case" && r["id"] == id)
        .cloned()
}

async fn comment(app: &TestApp, case: i64, body: &str, public: bool) -> i64 {
    let reply = app
        .post(
            &app.tokens.agent,
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": body, "public": public}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

async fn article(app: &TestApp, body: Value) -> i64 {
    let reply = app.post(&app.tokens.agent, "/api/v1/articles", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

fn validated(title: &str, audience: &str) -> Value {
    json!({"title": title, "issue": format!("{title} happens"), "resolution": "Apply the fix",
           "state": "validated", "audience": audience, "products": ["Backup"]})
}

async fn articles_follow_audience_and_state_rules(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let internal = article(&app, validated("Internal runbook", "internal")).await;
    let partners = article(&app, validated("Partner procedure", "partners")).await;
    let public = article(&app, validated("Public answer", "public")).await;
    let draft = article(
        &app,
        json!({"title": "Unfinished public draft", "audience": "public"}),
    )
    .await;

    // Who lists what: staff everything, partners validated partner and public articles,
    // customers validated public ones.
    let all = app.get(&t.agent, "/api/v1/articles").await;
    assert_eq!(
        ids(&all.body, "articles"),
        vec![draft, public, partners, internal]
    );
    let partner = app.get(&t.acme, "/api/v1/articles").await;
    assert_eq!(ids(&partner.body, "articles"), vec![public, partners]);
    let customer = app.get(&t.globex, "/api/v1/articles").await;
    assert_eq!(ids(&customer.body, "articles"), vec![public]);
    // Asking for more than one may see does not widen the list.
    let widened = app
        .get(
            &t.globex,
            "/api/v1/articles?audience=internal,partners&state=draft,validated",
        )
        .await;
    assert_eq!(ids(&widened.body, "articles"), Vec::<i64>::new());

    // Reading: what one may not see does not exist.
    for (token, id) in [
        (&t.globex, internal),
        (&t.globex, partners),
        (&t.globex, draft),
        (&t.acme, internal),
        (&t.acme, draft),
    ] {
        let reply = app.get(token, &format!("/api/v1/articles/{id}")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "article {id}");
        assert_eq!(reply.code(), "not_found");
    }
    let reply = app
        .get(&t.acme, &format!("/api/v1/articles/{partners}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["audience"], "partners");

    // Writing is for staff; a customer or partner gets 403 and nothing is stored.
    for token in [&t.acme, &t.globex] {
        let reply = app
            .post(token, "/api/v1/articles", validated("Sneaky", "public"))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = app
            .patch(
                token,
                &format!("/api/v1/articles/{public}"),
                json!({"title": "Defaced"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // Bad input names each field; nothing is stored.
    let reply = app
        .post(
            &t.agent,
            "/api/v1/articles",
            json!({"title": " ", "state": "validated", "audience": "everyone"}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let reply = app
        .post(
            &t.agent,
            "/api/v1/articles",
            json!({"title": "No fix yet", "state": "validated"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body["error"]["fields"]["resolution"].is_string(),
        "{}",
        reply.body
    );
    let all = app.get(&t.agent, "/api/v1/articles").await;
    assert_eq!(ids(&all.body, "articles").len(), 4);
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/articles/{public}"))
            .await
            .body["title"],
        "Public answer"
    );
}

async fn article_edits_keep_every_revision(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = article(
        &app,
        json!({"title": "Restore is slow", "issue": "Restores crawl"}),
    )
    .await;
    let reply = app
        .patch(&t.admin, &format!("/api/v1/articles/{id}"), json!({"resolution": "Use parallel streams", "state": "validated", "audience": "public"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["revision"], 2);
    // An edit that changes nothing makes no revision.
    let same = app
        .patch(
            &t.admin,
            &format!("/api/v1/articles/{id}"),
            json!({"resolution": "Use parallel streams"}),
        )
        .await;
    assert_eq!(same.body["revision"], 2);
    let history = app
        .get(&t.agent, &format!("/api/v1/articles/{id}/revisions"))
        .await;
    let revisions = history.body["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["state"], "draft");
    assert_eq!(revisions[0]["resolution"], "");
    assert_eq!(revisions[0]["editor"]["email"], "agent@vendor.example");
    assert_eq!(
        revisions[1]["changed"],
        json!(["resolution", "state", "audience"])
    );
    assert_eq!(revisions[1]["editor"]["email"], "admin@vendor.example");
    let first = app
        .get(&t.agent, &format!("/api/v1/articles/{id}/revisions/1"))
        .await;
    assert_eq!(first.body["audience"], "internal");
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/articles/{id}/revisions/3"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Deflection figures are the vendor's, and periods are checked.
    assert_eq!(
        app.get(&t.acme, "/api/v1/deflections").await.status,
        StatusCode::FORBIDDEN
    );
    let figures = app
        .get(
            &t.agent,
            "/api/v1/deflections?from=2026-01-01&to=2026-02-01",
        )
        .await;
    assert_eq!(figures.body["forms"], 0, "{}", figures.body);
    assert_eq!(
        app.get(
            &t.agent,
            "/api/v1/deflections?from=2026-02-01&to=2026-01-01"
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get(&t.agent, "/api/v1/deflections?from=yesterday")
            .await
            .code(),
        "invalid_query"
    );
    // The history is the vendor's; a customer reads only the current public text.
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/articles/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/articles/{id}/revisions"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn search_finds_only_what_the_caller_may_see(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let globex_case = app
        .file_case(&t.acme, json!({"subject": "Vault replication stalls", "description": "replication lag on vault cluster", "on_behalf_of": "globex", "priority": "high", "product": "Vault"}))
        .await;
    let umbrella_case = app
        .file_case(&t.other, json!({"subject": "Vault replication stalls too", "description": "replication lag", "on_behalf_of": "umbrella"}))
        .await;
    let initech_case = app
        .file_case(&t.initech, json!({"subject": "Vault replication question"}))
        .await;
    let note = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{globex_case}/comments"),
            json!({"body": "internal: replication bug VLT-77 suspected", "public": false}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let internal = article(&app, validated("Vault replication internals", "internal")).await;
    let public = article(&app, validated("Vault replication FAQ", "public")).await;

    let found = |body: &Value| -> Vec<(String, i64)> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["type"].as_str().unwrap().to_string(),
                    r["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let has = |hits: &[(String, i64)], kind: &str, id: i64| {
        hits.iter().any(|(k, i)| k == kind && *i == id)
    };
    let folded = |body: &Value, case: i64| -> Vec<i64> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "case" && r["id"] == case)
            .flat_map(|r| r["comments"].as_array().unwrap().iter())
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };

    // Wait until everything is searchable: the internal note folded under its case.
    let note_id = note.body["id"].as_i64().unwrap();
    let staff_body = app
        .search_until(&t.agent, "/api/v1/search?q=replication", |b| {
            found(b).len() >= 5 && folded(b, globex_case) == vec![note_id]
        })
        .await;
    let staff = found(&staff_body);
    for (kind, id) in [
        ("case", globex_case),
        ("case", umbrella_case),
        ("case", initech_case),
        ("article", internal),
        ("article", public),
    ] {
        assert!(has(&staff, kind, id), "staff sees {kind} {id}: {staff:?}");
    }
    // One row per case: comments are folded under their case, never rows of their own.
    assert_eq!(staff.len(), 5, "{staff_body}");
    assert_eq!(staff_body["total"], 5);
    assert!(!staff.iter().any(|(k, _)| k == "comment"));

    let partner_body = app.get(&t.acme, "/api/v1/search?q=replication").await.body;
    let partner = found(&partner_body);
    assert!(has(&partner, "case", globex_case));
    assert!(!has(&partner, "case", umbrella_case), "{partner:?}");
    assert!(!has(&partner, "case", initech_case));
    assert!(!has(&partner, "article", internal));
    assert!(has(&partner, "article", public));
    // The internal note matched, yet the partner is shown neither it nor that it exists.
    assert!(
        folded(&partner_body, globex_case).is_empty(),
        "internal note leaked: {partner_body}"
    );
    assert!(!partner_body.to_string().contains("VLT-77"));
    assert_eq!(partner_body["total"], 2);
    for row in partner_body["results"].as_array().unwrap() {
        assert_eq!(row["more_comments"], 0, "{row}");
    }

    let customer_body = app
        .get(&t.globex, "/api/v1/search?q=replication")
        .await
        .body;
    let customer = found(&customer_body);
    assert!(has(&customer, "case", globex_case));
    assert!(!has(&customer, "case", umbrella_case) && !has(&customer, "case", initech_case));
    assert!(!has(&customer, "article", internal));
    assert!(folded(&customer_body, globex_case).is_empty());
    assert!(!customer_body.to_string().contains("VLT-77"));
    // The internal note's words find nothing for the customer or the partner, not even the
    // case it is on; staff find the case through the note.
    for token in [&t.globex, &t.acme] {
        let body = app.get(token, "/api/v1/search?q=VLT-77").await.body;
        assert!(found(&body).is_empty(), "{body}");
        assert_eq!(body["total"], 0);
    }
    let staff_note = app.get(&t.agent, "/api/v1/search?q=VLT-77").await.body;
    assert_eq!(found(&staff_note), vec![("case".to_string(), globex_case)]);
    assert_eq!(staff_note["results"][0]["matched_itself"], false);
    assert_eq!(folded(&staff_note, globex_case), vec![note_id]);

    // Article search in the articles list keeps the same rules.
    let listed = app.get(&t.globex, "/api/v1/articles?q=replication").await;
    assert_eq!(
        ids(&listed.body, "articles"),
        vec![public],
        "{}",
        listed.body
    );
    let listed = app.get(&t.agent, "/api/v1/articles?q=replication").await;
    assert_eq!(ids(&listed.body, "articles").len(), 2);

    // Filters, phrases and sorting.
    let filtered = found(
        &app.get(
            &t.agent,
            "/api/v1/search?q=replication%20type:case%20priority:high%20partner:acme",
        )
        .await
        .body,
    );
    assert_eq!(filtered, vec![("case".to_string(), globex_case)]);
    let articles = found(
        &app.get(
            &t.agent,
            "/api/v1/search?q=replication%20type:article%20audience:public",
        )
        .await
        .body,
    );
    assert_eq!(articles, vec![("article".to_string(), public)]);
    let phrase = found(
        &app.get(&t.agent, "/api/v1/search?q=%22stalls%20too%22")
            .await
            .body,
    );
    assert_eq!(phrase, vec![("case".to_string(), umbrella_case)]);
    let newest = app
        .get(
            &t.agent,
            "/api/v1/search?q=replication%20type:case&sort=newest",
        )
        .await;
    assert_eq!(found(&newest.body)[0].1, initech_case);
    // A filter cannot widen a partner's sight.
    let widened = found(
        &app.get(&t.acme, "/api/v1/search?q=replication%20partner:other")
            .await
            .body,
    );
    assert!(widened.is_empty(), "{widened:?}");

    // Malformed queries say where.
    let bad = app.get(&t.agent, "/api/v1/search?q=status:%22open").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_query");
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("character"),
        "{}",
        bad.body
    );
    let bad = app.get(&t.agent, "/api/v1/search?q=colour:red").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = app.get(&t.agent, "/api/v1/search?q=x&sort=oldest").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&t.agent, "/api/v1/search").await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn suggestions_rank_known_answers_within_the_callers_sight(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let internal = article(&app, json!({"title": "Snapshot fails with error SNAP-409 on encrypted volumes", "issue": "snapshot job aborts with SNAP-409", "resolution": "rotate the volume key", "state": "validated", "audience": "internal"})).await;
    let public = article(&app, json!({"title": "Snapshot fails with SNAP-409", "issue": "SNAP-409 when snapshotting encrypted volumes", "resolution": "upgrade the agent", "state": "validated", "audience": "public"})).await;
    let unrelated = article(&app, validated("Printer driver crash", "public")).await;
    let case = app
        .file_case(&t.globex, json!({"subject": "Snapshots fail: SNAP-409", "description": "Every night the snapshot of our encrypted volume aborts with SNAP-409"}))
        .await;

    let path = format!("/api/v1/cases/{case}/suggestions");
    let staff = app
        .search_until(&t.agent, &path, |b| {
            b["suggestions"].as_array().unwrap().len() >= 2
        })
        .await;
    let staff_ids: Vec<i64> = staff["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert!(
        staff_ids.contains(&internal) && staff_ids.contains(&public),
        "{staff}"
    );
    assert!(!staff_ids.contains(&unrelated), "{staff}");
    let first = &staff["suggestions"][0];
    assert!(first["score"].as_f64().unwrap() > 0.0);
    assert!(!first["reasons"].as_array().unwrap().is_empty(), "{first}");
    assert!(
        first["reasons"]
            .to_string()
            .to_lowercase()
            .contains("snap-409"),
        "{first}"
    );
    // The case never suggests itself.
    assert!(!staff["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["type"] == "case" && s["id"] == case));

    // The customer sees only the public article; another customer does not see the case at all.
    let customer = app.get(&t.globex, &path).await;
    let customer_ids: Vec<i64> = customer.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(customer_ids, vec![public], "{}", customer.body);
    assert_eq!(
        app.get(&t.initech, &path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&t.other, &path).await.status, StatusCode::NOT_FOUND);

    // A solved case answers a later one.
    let solved = app
        .file_case(&t.globex, json!({"subject": "License server unreachable LIC-12", "description": "license check LIC-12 times out"}))
        .await;
    let reply = app
        .patch(
            &t.agent,
            &format!("/api/v1/cases/{solved}"),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let later = app
        .file_case(&t.globex, json!({"subject": "LIC-12 license check timeout", "description": "license server LIC-12 unreachable again"}))
        .await;
    let body = app
        .search_until(
            &t.agent,
            &format!("/api/v1/cases/{later}/suggestions"),
            |b| {
                b["suggestions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["type"] == "case")
            },
        )
        .await;
    assert_eq!(body["suggestions"][0]["type"], "case");
    assert_eq!(body["suggestions"][0]["id"], solved);

    // Linking one with a click: the link is listed, counted as a reuse, refused twice.
    let link = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": public}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    assert_eq!(link.body["article_id"], public);
    let again = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": public}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_linked");
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/articles/{public}"))
            .await
            .body["reuse_count"],
        1
    );
    // The customer may link what it can see, but not an internal article, and not to itself.
    let hidden = app
        .post(
            &t.globex,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": internal}),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::UNPROCESSABLE_ENTITY);
    let itself = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"case_id": case}),
        )
        .await;
    assert_eq!(itself.status, StatusCode::UNPROCESSABLE_ENTITY);
    let both = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": public, "case_id": solved}),
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    // An internal link made by staff is not shown to the customer.
    let staff_link = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/links"),
            json!({"article_id": internal}),
        )
        .await;
    assert_eq!(staff_link.status, StatusCode::CREATED);
    let seen = app
        .get(&t.globex, &format!("/api/v1/cases/{case}/links"))
        .await;
    assert_eq!(
        seen.body["links"].as_array().unwrap().len(),
        1,
        "{}",
        seen.body
    );
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{case}/links"))
            .await
            .body["links"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn solve(app: &TestApp, case: i64) -> Value {
    let reply = app
        .patch(
            &app.tokens.agent,
            &format!("/api/v1/cases/{case}"),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn solved_cases_are_classified_from_their_links(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let partner_article = article(&app, validated("Known partner issue", "partners")).await;
    let internal_article = article(&app, validated("Known internal issue", "internal")).await;

    // A partner escalates something it could have read: invalid escalation.
    let invalid = app
        .file_case(
            &t.acme,
            json!({"subject": "Issue A", "on_behalf_of": "globex"}),
        )
        .await;
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{invalid}/links"),
        json!({"article_id": partner_article}),
    )
    .await;
    assert_eq!(
        solve(&app, invalid).await["classification"],
        "invalid_escalation"
    );

    // The same article on a customer's own case: known.
    let known = app
        .file_case(&t.globex, json!({"subject": "Issue A again"}))
        .await;
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{known}/links"),
        json!({"article_id": partner_article}),
    )
    .await;
    assert_eq!(solve(&app, known).await["classification"], "known");

    // Knowledge the partner could not see: known, not the partner's fault.
    let vendor_known = app
        .file_case(
            &t.acme,
            json!({"subject": "Issue B", "on_behalf_of": "globex"}),
        )
        .await;
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{vendor_known}/links"),
        json!({"article_id": internal_article}),
    )
    .await;
    assert_eq!(solve(&app, vendor_known).await["classification"], "known");

    // An article written from the case: new. Written after solving, it reclassifies.
    let fresh = app
        .file_case(
            &t.acme,
            json!({"subject": "Issue C", "on_behalf_of": "globex"}),
        )
        .await;
    assert_eq!(solve(&app, fresh).await["classification"], "unknown");
    let reply = app
        .post(&t.agent, "/api/v1/articles", json!({"title": "Issue C explained", "issue": "C", "resolution": "fix C", "state": "validated", "audience": "partners", "source_case": fresh}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["source_case"], fresh);
    let case = app.get(&t.agent, &format!("/api/v1/cases/{fresh}")).await;
    assert_eq!(case.body["classification"], "new");
    // An article validated only after the case was opened does not make it known.
    let later_article = article(&app, json!({"title": "Issue D", "issue": "D"})).await;
    let late = app
        .file_case(
            &t.acme,
            json!({"subject": "Issue D", "on_behalf_of": "globex"}),
        )
        .await;
    app.patch(
        &t.agent,
        &format!("/api/v1/articles/{later_article}"),
        json!({"resolution": "fix D", "state": "validated", "audience": "partners"}),
    )
    .await;
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{late}/links"),
        json!({"article_id": later_article}),
    )
    .await;
    assert_eq!(solve(&app, late).await["classification"], "unknown");

    // Stored in the events, and shown to everyone who sees the case.
    let events = app
        .get(&t.agent, &format!("/api/v1/cases/{invalid}/events"))
        .await;
    let classified: Vec<&Value> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "classified")
        .collect();
    assert_eq!(classified.len(), 1);
    assert_eq!(
        classified[0]["data"]["classification"],
        "invalid_escalation"
    );
    assert_eq!(
        app.get(&t.acme, &format!("/api/v1/cases/{invalid}"))
            .await
            .body["classification"],
        "invalid_escalation"
    );
    // A case still open has none.
    let open = app.file_case(&t.globex, json!({"subject": "Open"})).await;
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{open}"))
            .await
            .body["classification"],
        Value::Null
    );
}

/// Filler cases written before the server starts: more than two index batches (1,000 each,
/// at most one a second while busy), so the catch-up takes two seconds at least.
const FILLER_CASES: usize = 2_100;

/// Ids of what `a_catching_up_index...` writes before the server starts.
#[derive(Default, Clone, Copy)]
struct Written {
    globex_zebra: i64,
    umbrella_zebra: i64,
    public_article: i64,
    internal_article: i64,
}

/// A server started over a store that already holds cases and articles, with an empty index:
/// `/healthz` reports the catch-up until everything is in, and meanwhile search answers from
/// the database under the same visibility rules, marked incomplete, instead of "nothing".
async fn a_catching_up_index_says_so_and_search_answers_from_the_database(backend: Backend) {
    use backline_domain::{ArticleContent, ArticleState, Audience, Channel, Priority, Tier};
    use backline_store::{NewArticle, NewCase, Store};
    let written = std::sync::Arc::new(std::sync::Mutex::new(Written::default()));
    let out = written.clone();
    let prepare =
        move |store: Store| -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
            Box::pin(async move {
                let globex = store.org_by_slug("globex").await.unwrap();
                let umbrella = store.org_by_slug("umbrella").await.unwrap();
                let acme = store.org_by_slug("acme").await.unwrap();
                let other = store.org_by_slug("other").await.unwrap();
                let globex_user = store.user_by_email("user@globex.example").await.unwrap();
                let umbrella_tech = store.user_by_email("tech@other.example").await.unwrap();
                let agent = store.user_by_email("agent@vendor.example").await.unwrap();
                let case = |subject: String,
                            org: &backline_store::Org,
                            partner: &backline_store::Org,
                            requester: &backline_store::User| NewCase {
                    subject,
                    description: "Seen since the last update.".into(),
                    priority: Priority::Normal,
                    product: Some("Backup".into()),
                    channel: Channel::Api,
                    tier: Tier::L1,
                    tags: Vec::new(),
                    organization: org.id,
                    partner: Some(partner.id),
                    requester: requester.id,
                    created_at: None,
                    routing: None,
                    escalation: None,
                };
                let mut tasks = tokio::task::JoinSet::new();
                for i in 0..FILLER_CASES {
                    let store = store.clone();
                    let new = case(
                        format!("Tape drive offline {i}"),
                        &globex,
                        &acme,
                        &globex_user,
                    );
                    tasks.spawn(async move { store.create_case(&new).await.unwrap() });
                    if tasks.len() >= 64 {
                        tasks.join_next().await.unwrap().unwrap();
                    }
                }
                while let Some(done) = tasks.join_next().await {
                    done.unwrap();
                }
                let globex_zebra = store
                    .create_case(&case(
                        "Zebra printer jams".into(),
                        &globex,
                        &acme,
                        &globex_user,
                    ))
                    .await
                    .unwrap()
                    .id
                    .0;
                let umbrella_zebra = store
                    .create_case(&case(
                        "Zebra printer jams too".into(),
                        &umbrella,
                        &other,
                        &umbrella_tech,
                    ))
                    .await
                    .unwrap()
                    .id
                    .0;
                let article = |title: &str, audience: Audience| NewArticle {
                    content: ArticleContent {
                        title: title.into(),
                        issue: "The printer stops mid-page".into(),
                        resolution: "Recalibrate the sensor".into(),
                        ..ArticleContent::default()
                    },
                    state: ArticleState::Validated,
                    audience,
                    author: agent.id,
                    source_case: None,
                    at: None,
                };
                let public_article = store
                    .create_article(&article("Zebra printer calibration", Audience::Public))
                    .await
                    .unwrap()
                    .id
                    .0;
                let internal_article = store
                    .create_article(&article("Zebra printer internals", Audience::Internal))
                    .await
                    .unwrap()
                    .id
                    .0;
                *out.lock().unwrap() = Written {
                    globex_zebra,
                    umbrella_zebra,
                    public_article,
                    internal_article,
                };
            })
        };
    let app = TestApp::start_with(
        backend,
        Options {
            before_start: Some(Box::new(prepare)),
            ..Options::default()
        },
    )
    .await;
    let w = *written.lock().unwrap();
    let total = (FILLER_CASES + 4) as u64;

    let health = app
        .request(reqwest::Method::GET, None, "/healthz", None)
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.body["search"]["state"], "indexing",
        "{}",
        health.body
    );

    // While it catches up, the acme technician's search is answered from the database: its own
    // customer's case and the public article, not the other partner's case nor the internal
    // article, and the answer says it may be incomplete.
    let results = |body: &Value| -> Vec<(String, i64)> {
        let mut hits: Vec<(String, i64)> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["type"].as_str().unwrap().to_string(),
                    r["id"].as_i64().unwrap(),
                )
            })
            .collect();
        hits.sort();
        hits
    };
    let during = app
        .get(&app.tokens.acme, "/api/v1/search?q=zebra%20printer")
        .await;
    assert_eq!(during.status, StatusCode::OK, "{}", during.body);
    assert_eq!(during.body["complete"], false, "{}", during.body);
    assert_eq!(
        results(&during.body),
        vec![
            ("article".to_string(), w.public_article),
            ("case".to_string(), w.globex_zebra)
        ]
    );
    let articles = app
        .get(&app.tokens.acme, "/api/v1/search?q=zebra%20type:article")
        .await;
    assert_eq!(
        results(&articles.body),
        vec![("article".to_string(), w.public_article)]
    );
    let staff = app
        .get(&app.tokens.agent, "/api/v1/search?q=%22printer%20jams%22")
        .await;
    assert_eq!(
        results(&staff.body),
        vec![
            ("case".to_string(), w.globex_zebra),
            ("case".to_string(), w.umbrella_zebra)
        ]
    );
    let staff_articles = app
        .get(&app.tokens.agent, "/api/v1/search?q=zebra%20type:article")
        .await;
    assert_eq!(
        results(&staff_articles.body),
        vec![
            ("article".to_string(), w.public_article),
            ("article".to_string(), w.internal_article)
        ]
    );
    // Likely answers for a community question say they may be incomplete too.
    let likely = app
        .get(
            &app.tokens.acme,
            "/api/v1/community/likely?q=zebra%20printer",
        )
        .await;
    assert_eq!(likely.status, StatusCode::OK, "{}", likely.body);
    assert_eq!(likely.body["complete"], false, "{}", likely.body);
    // Still indexing after those searches, so they really ran during the catch-up.
    let still = app
        .request(reqwest::Method::GET, None, "/healthz", None)
        .await;
    assert_eq!(still.body["search"]["state"], "indexing", "{}", still.body);

    // Progress only grows, up to everything the store held.
    let mut last = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let health = app
            .request(reqwest::Method::GET, None, "/healthz", None)
            .await;
        let search = &health.body["search"];
        let indexed = search["indexed"].as_u64().unwrap();
        assert!(indexed >= last, "progress went back: {}", health.body);
        last = indexed;
        if search["state"] == "ready" {
            assert_eq!((indexed, search["total"].as_u64().unwrap()), (total, total));
            break;
        }
        let counted = search["total"].as_u64().unwrap();
        assert!(counted == 0 || counted == total, "{}", health.body);
        assert!(
            std::time::Instant::now() < deadline,
            "never ready: {}",
            health.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Ready: the index answers, completely, under the same rules.
    let after = app
        .get(&app.tokens.acme, "/api/v1/search?q=zebra%20printer")
        .await;
    assert_eq!(after.body["complete"], true, "{}", after.body);
    assert_eq!(
        results(&after.body),
        vec![
            ("article".to_string(), w.public_article),
            ("case".to_string(), w.globex_zebra)
        ]
    );
}

/// Search answers in rows: each case once with the comments that matched folded under it
/// (three shown, the rest counted), articles beside them; a total and numbered pages; each case
/// row with its number, status, priority and partner flag. What a customer or partner may not
/// see is neither shown nor counted.
async fn results_are_rows_per_case_counted_and_paged(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let mut direct = Vec::new();
    for i in 0..22 {
        direct.push(
            app.file_case(
                &t.initech,
                json!({"subject": format!("Restore number {i} is slow"), "priority": "low"}),
            )
            .await,
        );
    }
    let chatty = app
        .file_case(&t.acme, json!({"subject": "Restore of the file server", "on_behalf_of": "globex", "priority": "high"}))
        .await;
    let mut public_comments = Vec::new();
    for i in 0..5 {
        public_comments.push(
            comment(
                &app,
                chatty,
                &format!("Restore attempt {i} failed again"),
                true,
            )
            .await,
        );
    }
    let note = comment(
        &app,
        chatty,
        "Internal: restore bug QX-881 in the dedup index",
        false,
    )
    .await;
    // A case that matches only through an internal note.
    let quiet = app
        .file_case(
            &t.acme,
            json!({"subject": "Agent crashes at start", "on_behalf_of": "globex"}),
        )
        .await;
    let quiet_note = comment(
        &app,
        quiet,
        "Internal: the restore helper crashes it",
        false,
    )
    .await;
    let faq = article(&app, validated("Restore checklist", "public")).await;

    // Staff: 22 + 2 cases and the article; 6 comments of the chatty case matched.
    // (The quiet case ranks low: it is on the second page.)
    app.search_until(&t.agent, "/api/v1/search?q=restore&page=2", |b| {
        case_row(b, quiet).is_some_and(|r| r["comments"].as_array().unwrap().len() == 1)
    })
    .await;
    let body = app
        .search_until(&t.agent, "/api/v1/search?q=restore", |b| {
            b["total"] == 25 && case_row(b, chatty).is_some_and(|r| r["more_comments"] == 3)
        })
        .await;
    assert_eq!(
        (
            body["page"].as_u64(),
            body["pages"].as_u64(),
            body["per_page"].as_u64()
        ),
        (Some(1), Some(2), Some(20))
    );
    assert_eq!(body["results"].as_array().unwrap().len(), 20);
    let row = case_row(&body, chatty).unwrap();
    assert_eq!(row["number"], chatty);
    // A public reply by an agent opened it.
    assert_eq!(row["status"], "open");
    assert_eq!(row["priority"], "high");
    assert_eq!(row["partner"]["slug"], "acme", "{row}");
    assert_eq!(row["matched_itself"], true);
    assert_eq!(row["comments"].as_array().unwrap().len(), 3);
    let second = app
        .get(&t.agent, "/api/v1/search?q=restore&page=2")
        .await
        .body;
    let quiet_row = case_row(&second, quiet).unwrap();
    assert_eq!(quiet_row["matched_itself"], false);
    assert_eq!(quiet_row["comments"][0]["id"], quiet_note);
    assert_eq!(second["total"], 25);
    assert_eq!(second["results"].as_array().unwrap().len(), 5);
    let mut all: Vec<(String, i64)> = rows_of(&body).into_iter().chain(rows_of(&second)).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 25, "pages overlap: {all:?}");
    assert!(all.contains(&("article".to_string(), faq)));
    for id in &direct {
        assert!(all.contains(&("case".to_string(), *id)));
    }
    let direct_row = case_row(&body, direct[0])
        .or_else(|| case_row(&second, direct[0]))
        .unwrap();
    assert_eq!(direct_row["partner"], Value::Null);
    assert_eq!(direct_row["priority"], "low");
    let beyond = app.get(&t.agent, "/api/v1/search?q=restore&page=3").await;
    assert_eq!(beyond.status, StatusCode::OK);
    assert_eq!(beyond.body["results"].as_array().unwrap().len(), 0);
    assert_eq!(beyond.body["total"], 25);
    let ten = app
        .get(&t.agent, "/api/v1/search?q=restore&limit=10&page=3")
        .await
        .body;
    assert_eq!(
        (
            ten["pages"].as_u64(),
            ten["results"].as_array().unwrap().len()
        ),
        (Some(3), 5)
    );
    for bad in ["page=0", "page=501", "page=two", "page=-1"] {
        let reply = app
            .get(&t.agent, &format!("/api/v1/search?q=restore&{bad}"))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.body
        );
        assert_eq!(reply.code(), "invalid_query");
    }

    // The customer and the partner: the chatty case with its public comments only (3 shown,
    // 2 more), the article; the internal notes neither shown nor counted, and the case that
    // matched only through a note is no row at all.
    for token in [&t.globex, &t.acme] {
        let body = app.get(token, "/api/v1/search?q=restore").await.body;
        assert_eq!(body["total"], 2, "{body}");
        let mut rows = rows_of(&body);
        rows.sort();
        assert_eq!(
            rows,
            vec![("article".to_string(), faq), ("case".to_string(), chatty)]
        );
        let row = case_row(&body, chatty).unwrap();
        assert_eq!(row["more_comments"], 2, "{row}");
        for c in row["comments"].as_array().unwrap() {
            assert!(public_comments.contains(&c["id"].as_i64().unwrap()), "{c}");
        }
        let text = body.to_string();
        assert!(
            !text.contains("QX-881") && !text.contains("Internal"),
            "{text}"
        );
        assert!(
            !text.contains(&format!("\"id\":{note}"))
                && !text.contains(&format!("\"id\":{quiet_note}"))
        );
        assert_eq!(
            app.get(token, "/api/v1/search?q=QX-881").await.body["total"],
            0
        );
    }

    // The page: the same rows with the case facts, a total, numbered pages.
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (status, html) = agent.get(&app, "/search?q=restore").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<strong>25</strong> results, page 1 of 2"),
        "{html}"
    );
    assert_eq!(html.matches("<li class=\"result\"").count(), 20);
    assert!(html.contains("nav class=\"pager\""));
    assert!(
        html.contains("href=\"/search?q=restore&amp;page=2\""),
        "{html}"
    );
    assert!(html.contains(&format!(">#{chatty}<")));
    assert!(html.contains("data-partner=\"acme\""));
    assert!(html.contains("status-open") && html.contains("prio-high"));
    assert!(html.contains("and 3 more matching comments"), "{html}");
    let (status, html) = agent.get(&app, "/search?q=restore&page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<li class=\"result\"").count(), 5);
    for bad in ["page=0", "page=x"] {
        let (status, html) = agent.get(&app, &format!("/search?q=restore&{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(html.contains("page"), "{html}");
    }
    let customer = Web::sign_in(&app, "user@globex.example").await;
    let (_, html) = customer.get(&app, "/search?q=restore").await;
    assert!(html.contains("<strong>2</strong> results"), "{html}");
    assert!(html.contains("and 2 more matching comments"));
    assert!(!html.contains("QX-881") && !html.contains("Internal:"));
    assert!(!html.contains("nav class=\"pager\""));
}

/// "backpu" finds backup: one edit away for words of 4 to 7 letters, below exact matches.
async fn typos_find_the_word_meant(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let backup = app
        .file_case(
            &t.initech,
            json!({"subject": "Nightly backup fails", "description": "the job stops"}),
        )
        .await;
    let exact = app
        .file_case(
            &t.initech,
            json!({"subject": "The backpu tool", "description": "a utility really named backpu"}),
        )
        .await;
    let body = app
        .search_until(&t.agent, "/api/v1/search?q=backpu", |b| b["total"] == 2)
        .await;
    assert_eq!(
        rows_of(&body),
        vec![("case".to_string(), exact), ("case".to_string(), backup)],
        "the exact word first: {body}"
    );
    // Short words and identifiers are matched as typed.
    let short = app
        .file_case(
            &t.initech,
            json!({"subject": "Car park gate", "description": "error GT-1041"}),
        )
        .await;
    app.search_until(&t.agent, "/api/v1/search?q=car", |b| b["total"] == 1)
        .await;
    assert_eq!(
        app.get(&t.agent, "/api/v1/search?q=cat").await.body["total"],
        0
    );
    assert_eq!(
        rows_of(&app.get(&t.agent, "/api/v1/search?q=GT-1041").await.body),
        vec![("case".to_string(), short)]
    );
    assert_eq!(
        app.get(&t.agent, "/api/v1/search?q=GT-1042").await.body["total"],
        0
    );
    // The page finds it too.
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (_, html) = agent.get(&app, "/search?q=backpu").await;
    assert!(html.contains("Nightly backup fails"), "{html}");
}

/// `partner:` names a partner by slug prefix or a part of its name, as the case list does.
async fn partner_filters_name_partners_by_slug_prefix_or_name(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    // The fixture's partners: acme ("ACME") serving globex, other ("OTHER") serving umbrella.
    let acme_case = app
        .file_case(
            &t.acme,
            json!({"subject": "Quasar sync stalls", "on_behalf_of": "globex"}),
        )
        .await;
    let other_case = app
        .file_case(
            &t.other,
            json!({"subject": "Quasar sync stalls too", "on_behalf_of": "umbrella"}),
        )
        .await;
    app.file_case(&t.initech, json!({"subject": "Quasar sync direct"}))
        .await;
    app.search_until(&t.agent, "/api/v1/search?q=quasar", |b| b["total"] == 3)
        .await;
    let found = |q: &str, token: &str| {
        let (app, q, token) = (&app, q.to_string(), token.to_string());
        async move {
            let mut rows = rows_of(&app.get(&token, &format!("/api/v1/search?q={q}")).await.body);
            rows.sort();
            rows
        }
    };
    let acme = vec![("case".to_string(), acme_case)];
    let other = vec![("case".to_string(), other_case)];
    assert_eq!(
        found("quasar%20partner:ac", &t.agent).await,
        acme,
        "slug prefix"
    );
    assert_eq!(
        found("quasar%20partner:acme", &t.agent).await,
        acme,
        "whole slug"
    );
    assert_eq!(
        found("quasar%20partner:CM", &t.agent).await,
        acme,
        "part of the name"
    );
    assert_eq!(
        found("quasar%20partner:the", &t.agent).await,
        other,
        "part of the name"
    );
    assert!(found("quasar%20partner:zzz", &t.agent).await.is_empty());
    assert!(
        found("quasar%20partner:cme", &t.agent).await == acme,
        "ACME holds cme"
    );
    let mut both = acme.clone();
    both.extend(other.clone());
    both.sort();
    assert_eq!(
        found("quasar%20partner:ac%20partner:ot", &t.agent).await,
        both,
        "either"
    );
    // A filter never widens sight: acme's technician naming the other partner finds nothing.
    assert!(found("quasar%20partner:the", &t.acme).await.is_empty());
    assert_eq!(found("partner:ac", &t.acme).await, acme);
}

/// The demo's complaint: five cases repeat an issue and the validated article that answers it
/// never showed among them. Now it ranks among them on its own words, and first once it is
/// linked to one of them; staff link it with a button that names it.
async fn an_article_ranks_among_the_duplicate_cases_it_answers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let subject = "Nightly backup job fails with 'disk quota exceeded'";
    let description = "Since the weekend the nightly job on our file server stops after about 40 minutes with error BK-1042 disk quota exceeded. The target volume still shows 300 GB free.";
    let answer = article(&app, json!({
        "title": "BK-1042 'disk quota exceeded' although the target has free space",
        "issue": description,
        "environment": "Backup 7.2",
        "resolution": "Raise the per-job quota in the backup policy (Policy > Limits), then rerun the job.",
        "cause": "7.2 counts deduplicated blocks twice against the job quota.",
        "state": "validated", "audience": "public", "products": ["backup"]})).await;
    let mut duplicates = Vec::new();
    for token in [&t.initech, &t.globex, &t.initech, &t.globex, &t.initech] {
        let id = app
            .file_case(
                token,
                json!({"subject": subject, "description": description}),
            )
            .await;
        solve(&app, id).await;
        duplicates.push(id);
    }
    let case = app
        .file_case(
            &t.initech,
            json!({"subject": subject, "description": description}),
        )
        .await;
    let path = format!("/api/v1/cases/{case}/suggestions?limit=5");
    let ids = |b: &Value| -> Vec<(String, i64)> {
        b["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["type"].as_str().unwrap().to_string(),
                    s["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let top = app
        .search_until(&t.agent, &path, |b| {
            let found = ids(b);
            found.len() == 5 && found.contains(&("article".to_string(), answer))
        })
        .await;
    assert!(
        ids(&top)
            .iter()
            .filter(|(k, _)| k == "case")
            .all(|(_, id)| duplicates.contains(id)),
        "{top}"
    );

    // Linked as the answer of one duplicate, it leads and says why.
    let link = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{}/links", duplicates[2]),
            json!({"article_id": answer}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let lent = format!("answered similar cases #{}", duplicates[2]);
    let top = app
        .search_until(&t.agent, &path, |b| {
            b["suggestions"][0]["reasons"].to_string().contains(&lent)
        })
        .await;
    assert_eq!(ids(&top)[0], ("article".to_string(), answer), "{top}");

    // The staff case page offers to link it with a button that names it.
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (status, html) = agent.get(&app, &format!("/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    let label = "aria-label=\"Link article BK-1042 &#39;disk quota exceeded&#39; although the target has free space\"";
    let label_plain = "aria-label=\"Link article BK-1042 'disk quota exceeded' although the target has free space\"";
    assert!(html.contains(label) || html.contains(label_plain), "{html}");
    assert!(html.contains(">Link article</button>"));
    assert!(
        html.contains("aria-label=\"Link case #"),
        "cases are named too: {html}"
    );
    // The customer who filed it sees it among similar solved questions, by title only.
    let customer = app.get(&t.initech, &path).await.body;
    assert!(
        ids(&customer).contains(&("article".to_string(), answer)),
        "{customer}"
    );
}

/// Customers and partner technicians get "Similar solved questions": titles only, only what
/// the matcher is sure of, only what they may read; no scores, word stems, Link buttons or
/// internal text. Staff keep the full panel.
async fn customers_and_partners_see_similar_solved_questions_by_title_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let public = article(&app, json!({"title": "Snapshot fails with SNAP-409", "issue": "SNAP-409 when snapshotting encrypted volumes", "resolution": "upgrade the agent", "state": "validated", "audience": "public"})).await;
    let internal = article(&app, json!({"title": "Snapshot SNAP-409: rotate the volume key", "issue": "snapshot job aborts with SNAP-409", "resolution": "rotate the volume key", "state": "validated", "audience": "internal"})).await;
    // Shares only the text's wording, none of the title's: below the customers' threshold.
    let loose = article(&app, json!({"title": "Encrypted volumes overview", "issue": "How our encrypted volumes work every night", "resolution": "Read on", "state": "validated", "audience": "public"})).await;
    let solved = app
        .file_case(&t.globex, json!({"subject": "Snapshot fails with SNAP-409 again", "description": "encrypted volume snapshot aborts SNAP-409"}))
        .await;
    solve(&app, solved).await;
    let other_org = app
        .file_case(&t.initech, json!({"subject": "Snapshot fails with SNAP-409 at Initech", "description": "encrypted volume snapshot aborts SNAP-409"}))
        .await;
    solve(&app, other_org).await;
    let case = app
        .file_case(&t.acme, json!({"subject": "Snapshots fail: SNAP-409", "description": "Every night the snapshot of our encrypted volume aborts with SNAP-409", "on_behalf_of": "globex"}))
        .await;
    let path = format!("/api/v1/cases/{case}/suggestions");
    let has = |b: &Value, kind: &str, id: i64| {
        b["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == kind && s["id"] == id)
    };
    // Staff see all of them, the loose one too, with scores and reasons.
    let staff = app
        .search_until(&t.agent, &path, |b| {
            has(b, "article", public)
                && has(b, "article", internal)
                && has(b, "article", loose)
                && has(b, "case", solved)
                && has(b, "case", other_org)
        })
        .await;
    let loose_view = staff["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == loose)
        .unwrap()
        .clone();
    assert!(
        loose_view["confidence"].as_f64().unwrap() < 0.6,
        "{loose_view}"
    );
    assert!(
        staff["suggestions"][0]["score"].is_number()
            && staff["suggestions"][0]["reasons"].is_array()
    );

    // The customer and the partner: the public article and their own solved case, sure ones
    // only, without scores, reasons or excerpts.
    for token in [&t.globex, &t.acme] {
        let body = app.get(token, &path).await.body;
        let mut seen: Vec<(String, i64)> = body["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["type"].as_str().unwrap().to_string(),
                    s["id"].as_i64().unwrap(),
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                ("article".to_string(), public),
                ("case".to_string(), solved)
            ],
            "{body}"
        );
        for s in body["suggestions"].as_array().unwrap() {
            assert!(
                s["score"].is_null()
                    && s["reasons"].is_null()
                    && s["excerpt"].is_null()
                    && s["confidence"].is_null(),
                "{s}"
            );
        }
    }
    // The pages.
    for email in ["user@globex.example", "tech@acme.example"] {
        let web = Web::sign_in(&app, email).await;
        let (status, html) = web.get(&app, &format!("/cases/{case}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Similar solved questions"), "{email}: {html}");
        assert!(
            html.contains("Snapshot fails with SNAP-409")
                && html.contains("Snapshot fails with SNAP-409 again")
        );
        for absent in [
            "rotate the volume key",
            "Encrypted volumes overview",
            "at Initech",
            "Known issues",
            "Suggested answers",
            "title shares",
            "Link article",
            "Link case",
            "class=\"reasons\"",
            "Write an article",
        ] {
            assert!(!html.contains(absent), "{email} sees {absent:?}");
        }
        // No form posts links from the panel.
        assert!(
            !html.contains(&format!("action=\"/cases/{case}/links\"")),
            "{email}"
        );
    }
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (_, html) = agent.get(&app, &format!("/cases/{case}")).await;
    assert!(
        html.contains("Known issues")
            && html.contains("Suggested answers")
            && html.contains("class=\"num reasons\"")
    );
    assert!(
        html.contains("rotate the volume key")
            || html.contains("Snapshot SNAP-409: rotate the volume key")
    );
    assert!(!html.contains("Similar solved questions"));
}

/// The case page reads suggestions kept in the database: worked out when the case changes (by
/// the indexer's suggester), worked out again when an article changes or a similar case is
/// solved, never on every view.
async fn suggestions_are_kept_and_worked_out_again_when_knowledge_changes(backend: Backend) {
    use backline_domain::{Actor, CaseId, Role, UserId};
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let staff_sight = backline_search::Visibility::for_actor(&Actor {
        user_id: UserId(app.agent_id),
        role: Role::Agent,
        org_id: None,
        limits: Default::default(),
    })
    .key();
    let case = app
        .file_case(&t.initech, json!({"subject": "Tape library reports error TL-77", "description": "The tape library shows TL-77 after the firmware update"}))
        .await;
    // Worked out and kept without anyone viewing the case.
    let store = &app.store;
    app.until("the new case's suggestions kept", || async {
        let (basis, kept) = store
            .stored_suggestions(CaseId(case), &staff_sight)
            .await
            .unwrap();
        kept.filter(|k| k.basis == basis)
    })
    .await;

    // The page shows the kept list as kept: replace it under the same basis and fingerprint
    // with a marker, and the page shows the marker.
    let (basis, kept) = store
        .stored_suggestions(CaseId(case), &staff_sight)
        .await
        .unwrap();
    let kept = kept.unwrap();
    let marker = json!([{"kind": "article", "id": 999_999, "title": "Kept marker 7Q", "excerpt": "", "score": 1.0, "confidence": 1.0, "reasons": ["kept"]}]);
    store
        .store_suggestions(
            CaseId(case),
            &staff_sight,
            basis,
            kept.input_hash,
            &marker.to_string(),
        )
        .await
        .unwrap();
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (_, html) = agent.get(&app, &format!("/cases/{case}")).await;
    assert!(
        html.contains("Kept marker 7Q"),
        "the page read the kept list: {html}"
    );

    // An article changes: every kept list is stale; the page works it out again and shows it.
    let answer = article(&app, json!({"title": "Tape library error TL-77 after firmware update", "issue": "TL-77 shown by the tape library", "resolution": "Roll back the firmware", "state": "validated", "audience": "public"})).await;
    let html = app
        .until("the page to show the new article", || async {
            let (_, html) = agent.get(&app, &format!("/cases/{case}")).await;
            (html.contains(&format!("/articles/{answer}")) && !html.contains("Kept marker 7Q"))
                .then_some(html)
        })
        .await;
    assert!(html.contains("Tape library error TL-77 after firmware update"));

    // A similar case is solved: the open case's list is worked out again and offers it.
    let similar = app
        .file_case(&t.globex, json!({"subject": "Error TL-77 from the tape library", "description": "TL-77 after updating the library firmware"}))
        .await;
    let path = format!("/api/v1/cases/{case}/suggestions");
    let offers = |b: &Value| {
        b["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == "case" && s["id"] == similar)
    };
    app.search_until(&t.agent, "/api/v1/search?q=TL-77%20type:case", |b| {
        b["total"] == 2
    })
    .await;
    assert!(
        !offers(&app.get(&t.agent, &path).await.body),
        "an open case answers nothing yet"
    );
    app.until("the similar case's own list kept", || async {
        let (_, kept) = store
            .stored_suggestions(CaseId(similar), &staff_sight)
            .await
            .unwrap();
        kept.map(drop)
    })
    .await;
    solve(&app, similar).await;
    app.until("the solved case to be offered", || async {
        let body = app.get(&t.agent, &path).await.body;
        offers(&body).then_some(())
    })
    .await;
    // Without a view, the kept list itself was worked out again (by the suggester): it is
    // current and holds the solved case.
    let (basis, kept) = store
        .stored_suggestions(CaseId(case), &staff_sight)
        .await
        .unwrap();
    let kept = kept.unwrap();
    assert_eq!(kept.basis, basis);
    assert!(
        kept.json.contains(&format!("\"id\":{similar}")),
        "{}",
        kept.json
    );
    // The solved case's own lists are dropped: a solved case's panel is seldom opened again.
    app.until("the solved case's list dropped", || async {
        let (_, kept) = store
            .stored_suggestions(CaseId(similar), &staff_sight)
            .await
            .unwrap();
        kept.is_none().then_some(())
    })
    .await;
}

/// The knowledge list shows 100 articles a page, numbered, with the total.
async fn the_knowledge_list_pages_beyond_a_hundred_articles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut ids = Vec::new();
    for i in 0..105 {
        ids.push(article(&app, json!({"title": format!("Runbook {i:03} for quota alerts"), "issue": "quota", "resolution": "fix", "state": if i % 2 == 0 { "validated" } else { "draft" }, "audience": "internal"})).await);
    }
    let agent = Web::sign_in(&app, "agent@vendor.example").await;
    let (status, html) = agent.get(&app, "/articles").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<strong>105</strong> articles, page 1 of 2"),
        "{html}"
    );
    assert_eq!(html.matches("<tr data-article=").count(), 100);
    assert!(
        html.contains(&format!("data-article=\"{}\"", ids[104])),
        "newest first"
    );
    assert!(html.contains("href=\"/articles?page=2\""), "{html}");
    let (_, html) = agent.get(&app, "/articles?page=2").await;
    assert_eq!(html.matches("<tr data-article=").count(), 5);
    assert!(html.contains(&format!("data-article=\"{}\"", ids[0])));
    // A state narrows the count and the pages.
    let (_, html) = agent.get(&app, "/articles?state=validated").await;
    assert!(html.contains("<strong>53</strong> articles"), "{html}");
    assert!(!html.contains("nav class=\"pager\""));
    // Searching pages too.
    let html = app
        .until("the articles to be searchable", || async {
            let (_, html) = agent.get(&app, "/articles?q=runbook").await;
            html.contains("<strong>105</strong> articles, page 1 of 2")
                .then_some(html)
        })
        .await;
    assert!(
        html.contains("href=\"/articles?page=2&amp;q=runbook\""),
        "{html}"
    );
    let (_, html) = agent.get(&app, "/articles?q=runbook&page=2").await;
    assert_eq!(html.matches("<tr data-article=").count(), 5);
    for bad in ["page=0", "page=many"] {
        let (status, _) = agent.get(&app, &format!("/articles?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
