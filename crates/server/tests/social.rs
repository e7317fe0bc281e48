//! Social mentions over the real router on both databases: a mention files a `social` case for
//! its author, the author's next one joins that case, a repeat does nothing, compliments are
//! counted rather than queued, and only staff integrations may send them.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    a_mention_files_a_case_and_the_authors_next_one_joins_it,
    compliments_are_counted_not_queued,
    only_staff_send_mentions_and_refused_ones_store_nothing,
);

fn mention(handle: &str, url: &str, text: &str) -> Value {
    json!({"network": "mastodon", "author_handle": handle, "url": url, "text": text,
           "posted_at": "2026-11-30T09:15:00Z"})
}

async fn a_mention_files_a_case_and_the_authors_next_one_joins_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "@Dana",
                "https://social.example/@dana/1",
                "Backup fails every night since the upgrade",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["outcome"], "case_filed");
    assert_eq!(reply.body["repeated"], false);
    assert_eq!(reply.body["contact"]["handle"], "dana");
    assert_eq!(reply.body["contact"]["network"], "mastodon");
    let case = reply.body["case_id"].as_i64().unwrap();
    let contact_user = reply.body["contact"]["user_id"].as_i64().unwrap();

    let read = app.get(&t.agent, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(read.body["channel"], "social");
    assert_eq!(
        read.body["subject"],
        "@dana on mastodon: Backup fails every night since the upgrade"
    );
    assert!(read.body["description"]
        .as_str()
        .unwrap()
        .contains("https://social.example/@dana/1"));
    assert_eq!(read.body["requester"]["id"], contact_user);
    assert_eq!(read.body["organization"]["slug"], "social");
    assert_eq!(read.body["tags"], json!(["mastodon", "social"]));

    // The same author again: a comment on the open case, not a second case.
    let before = app.case_count().await;
    let reply = app
        .post(
            &t.agent,
            "/api/v1/channels/social",
            mention(
                "dana",
                "https://social.example/@dana/2",
                "Still failing tonight, any news",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["outcome"], "comment_added");
    assert_eq!(reply.body["case_id"], case);
    assert_eq!(
        reply.body["contact"]["user_id"], contact_user,
        "the author is kept as one contact"
    );
    assert_eq!(app.case_count().await, before);
    let comments = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/comments"))
        .await;
    let bodies: Vec<&str> = comments.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.starts_with("Still failing tonight")),
        "{bodies:?}"
    );

    // The same post sent again: answered as before, nothing new.
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "dana",
                "https://social.example/@dana/2",
                "Still failing tonight, any news",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["repeated"], true);
    assert_eq!(reply.body["outcome"], "comment_added");
    let again = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/comments"))
        .await;
    assert_eq!(
        again.body["comments"].as_array().unwrap().len(),
        bodies.len()
    );

    // Another author: a case of their own.
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "eve",
                "https://social.example/@eve/1",
                "The console is down for me",
            ),
        )
        .await;
    assert_eq!(reply.body["outcome"], "case_filed");
    assert_ne!(reply.body["case_id"], case);

    // Once Dana's case is solved, her next mention opens a new one.
    let solved = app
        .patch(
            &t.agent,
            &format!("/api/v1/cases/{case}"),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(solved.status, StatusCode::OK, "{}", solved.body);
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "dana",
                "https://social.example/@dana/3",
                "Restore is slow now",
            ),
        )
        .await;
    assert_eq!(reply.body["outcome"], "case_filed");
    assert_ne!(reply.body["case_id"], case);

    let summary = app.get(&t.agent, "/api/v1/channels/social").await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(summary.body["mentions"], 4);
    assert_eq!(summary.body["cases_filed"], 3);
    assert_eq!(summary.body["comments_added"], 1);
    assert_eq!(summary.body["compliments"], 0);
}

async fn compliments_are_counted_not_queued(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let before = app.case_count().await;
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "fan",
                "https://social.example/@fan/1",
                "Thanks @vendor, the restore worked perfectly!",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["outcome"], "compliment");
    assert_eq!(reply.body["case_id"], Value::Null);
    assert_eq!(app.case_count().await, before, "a compliment files nothing");
    // Praise with a complaint in it is a request.
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            mention(
                "fan",
                "https://social.example/@fan/2",
                "Love the product but exports fail",
            ),
        )
        .await;
    assert_eq!(reply.body["outcome"], "case_filed");
    let summary = app.get(&t.admin, "/api/v1/channels/social").await;
    assert_eq!(
        (
            summary.body["mentions"].clone(),
            summary.body["compliments"].clone(),
            summary.body["cases_filed"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    // Periods are checked, and a period before them holds nothing.
    let old = app
        .get(
            &t.admin,
            "/api/v1/channels/social?from=2026-01-01&to=2026-02-01",
        )
        .await;
    assert_eq!(old.body["mentions"], 0);
    let bad = app
        .get(
            &t.admin,
            "/api/v1/channels/social?from=2026-02-01&to=2026-01-01",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn only_staff_send_mentions_and_refused_ones_store_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let before = app.case_count().await;
    let good = mention("gus", "https://social.example/@gus/1", "Sync is broken");
    for token in [&t.globex, &t.initech, &t.acme] {
        let reply = app
            .post(token, "/api/v1/channels/social", good.clone())
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        // Refused before the fields are read.
        let reply = app
            .post(
                token,
                "/api/v1/channels/social",
                json!({"network": "", "author_handle": "", "url": "", "text": "", "posted_at": ""}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = app.get(token, "/api/v1/channels/social").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let reply = app
        .request(
            reqwest::Method::POST,
            None,
            "/api/v1/channels/social",
            Some(good.clone()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = app
        .post(
            &t.admin,
            "/api/v1/channels/social",
            json!({"network": "Not A Network!", "author_handle": "a b", "url": "javascript:x",
                   "text": " ", "posted_at": "yesterday"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["network", "author_handle", "url", "text", "posted_at"] {
        assert!(
            reply.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    let reply = app
        .post(&t.admin, "/api/v1/channels/social", json!({"network": "x"}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing fields: {}",
        reply.body
    );
    assert_eq!(app.case_count().await, before);
    let summary = app.get(&t.admin, "/api/v1/channels/social").await;
    assert_eq!(summary.body["mentions"], 0);
}
