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
);

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
    app.settle_index().await;

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

    let staff = app
        .search_until(&t.agent, "/api/v1/search?q=replication", |b| {
            found(b).len() >= 6
        })
        .await;
    let staff = found(&staff);
    for (kind, id) in [
        ("case", globex_case),
        ("case", umbrella_case),
        ("case", initech_case),
        ("article", internal),
        ("article", public),
    ] {
        assert!(has(&staff, kind, id), "staff sees {kind} {id}: {staff:?}");
    }
    assert!(
        staff.iter().any(|(k, _)| k == "comment"),
        "staff finds the internal note"
    );

    let partner = found(&app.get(&t.acme, "/api/v1/search?q=replication").await.body);
    assert!(has(&partner, "case", globex_case));
    assert!(!has(&partner, "case", umbrella_case), "{partner:?}");
    assert!(!has(&partner, "case", initech_case));
    assert!(!has(&partner, "article", internal));
    assert!(has(&partner, "article", public));
    assert!(
        !partner.iter().any(|(k, _)| k == "comment"),
        "internal note leaked: {partner:?}"
    );

    let customer = found(
        &app.get(&t.globex, "/api/v1/search?q=replication")
            .await
            .body,
    );
    assert!(has(&customer, "case", globex_case));
    assert!(!has(&customer, "case", umbrella_case) && !has(&customer, "case", initech_case));
    assert!(!has(&customer, "article", internal));
    assert!(!customer.iter().any(|(k, _)| k == "comment"));
    // The internal note's words find nothing for the customer.
    assert!(found(&app.get(&t.globex, "/api/v1/search?q=VLT-77").await.body).is_empty());
    assert!(!found(&app.get(&t.agent, "/api/v1/search?q=VLT-77").await.body).is_empty());

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
    app.settle_index().await;

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
