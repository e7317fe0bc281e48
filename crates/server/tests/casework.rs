//! The work around a case over the real router on both databases: macros (who keeps which,
//! checked placeholders, text and changes sent in one step), reply and solve, articles put
//! into replies, merging, followers and Cc, presence, and satisfaction ratings with their
//! scores, through the API and the pages, with the denials.

mod common;

use common::browser::Browser;
use common::{Backend, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    macros_are_personal_or_shared_and_checked_when_saved,
    a_macro_sends_its_text_and_changes_in_one_step,
    the_reply_box_applies_macros_inserts_articles_and_solves,
    merging_moves_the_conversation_and_closes_the_duplicate,
    followers_and_cc_hear_of_replies_and_only_staff_change_them,
    agents_see_who_else_has_a_case_open,
    requesters_rate_solved_cases_and_staff_read_the_scores,
    replies_sent_at_once_to_one_case_all_land,
    times_read_in_the_viewers_zone_with_the_zone_named,
);

async fn case_for(app: &TestApp, token: &str, subject: &str) -> i64 {
    app.file_case(
        token,
        json!({"subject": subject, "description": format!("{subject}: details"), "product": "Backup"}),
    )
    .await
}

async fn comments(app: &TestApp, token: &str, case: i64) -> Vec<Value> {
    let reply = app
        .get(token, &format!("/api/v1/cases/{case}/comments"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["comments"].as_array().unwrap().clone()
}

async fn macros_are_personal_or_shared_and_checked_when_saved(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let logs = json!({"title": "Ask for logs", "body": "Hi {{requester.first_name}}, please send the logs of #{{case.number}}.",
                      "actions": {"status": "pending", "add_tags": ["needs-logs"]}});
    // Customers and partners keep no macros and read none.
    for token in [&t.acme, &t.globex] {
        assert_eq!(
            app.post(token, "/api/v1/macros", logs.clone()).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(token, "/api/v1/macros").await.status,
            StatusCode::FORBIDDEN
        );
    }
    // Only admins share.
    let mut shared = logs.clone();
    shared["shared"] = json!(true);
    assert_eq!(
        app.post(&t.agent, "/api/v1/macros", shared.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let team = app.post(&t.admin, "/api/v1/macros", shared).await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.body);
    assert_eq!(team.body["shared"], true);
    let mine = app.post(&t.agent, "/api/v1/macros", logs.clone()).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!(mine.body["shared"], false);
    let mine_id = mine.body["id"].as_i64().unwrap();

    // A misspelt placeholder, a bad tag and an assignee who is not staff: every field named,
    // nothing stored.
    let bad = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "Oops", "body": "Hi {{requester.nmae}}",
                   "actions": {"add_tags": ["no spaces!"], "assignee": {"user": 999_999}}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = &bad.body["error"]["fields"];
    assert!(
        fields["body"]
            .as_str()
            .unwrap()
            .contains("{{requester.nmae}}"),
        "{fields}"
    );
    assert!(fields["actions.add_tags"].is_string(), "{fields}");
    assert!(fields["actions.assignee"].is_string(), "{fields}");
    let unknown_field = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "x", "body": "y", "actoins": {}}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The agent sees the team's and their own; the admin does not see the agent's.
    let listed = app.get(&t.agent, "/api/v1/macros").await;
    assert_eq!(listed.body["macros"].as_array().unwrap().len(), 2);
    let admin_list = app.get(&t.admin, "/api/v1/macros").await;
    assert_eq!(admin_list.body["macros"].as_array().unwrap().len(), 1);
    // Someone else's personal macro is as missing as a missing one; a shared one is the
    // admins' to change.
    let team_id = team.body["id"].as_i64().unwrap();
    assert_eq!(
        app.put(&t.admin, &format!("/api/v1/macros/{mine_id}"), logs.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&t.admin, &format!("/api/v1/macros/{mine_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&t.agent, &format!("/api/v1/macros/{team_id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let renamed = app
        .put(
            &t.agent,
            &format!("/api/v1/macros/{mine_id}"),
            json!({"title": "Logs, please", "body": "Logs?"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["title"], "Logs, please");
    assert_eq!(
        app.delete(&t.agent, &format!("/api/v1/macros/{mine_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&t.agent, "/api/v1/macros").await.body["macros"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The page: a refused macro keeps what was typed, with the problem in words.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let refused = agent
        .post(
            "/macros",
            &[
                ("title", "Greeting"),
                ("body", "Dear {{requester.nmae}},"),
                ("add_tags", "ok"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("Dear {{requester.nmae}},"),
        "the text is kept"
    );
    assert!(refused
        .html
        .contains("Unknown placeholder {{requester.nmae}}"));
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    assert_eq!(customer.get("/macros").await.status, StatusCode::FORBIDDEN);
}

async fn a_macro_sends_its_text_and_changes_in_one_step(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Backup stops at night").await;
    let made = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "Ask for logs",
                   "body": "Hi {{requester.first_name}} at {{organization.name}}, please send the logs of #{{case.number}}. {{agent.name}}",
                   "actions": {"status": "pending", "priority": "high", "assignee": "me", "add_tags": ["needs-logs"]}}),
        )
        .await;
    let id = made.body["id"].as_i64().unwrap();
    let preview = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/macros/{id}"))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(
        preview.body["body"],
        format!("Hi user at INITECH, please send the logs of #{case}. agent")
    );
    assert!(preview.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "status → pending"));

    let sent = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/macros/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let after = &sent.body["case"];
    assert_eq!(after["status"], "pending");
    assert_eq!(after["priority"], "high");
    assert_eq!(after["assignee"]["id"], app.agent_id);
    assert_eq!(after["tags"], json!(["needs-logs"]));
    assert_eq!(sent.body["comment"]["public"], true);
    // The customer reads the reply, filled in.
    let seen = comments(&app, &t.initech, case).await;
    assert!(seen.iter().any(|c| c["body"]
        .as_str()
        .unwrap()
        .starts_with("Hi user at INITECH")));
    assert_eq!(
        app.get(&t.agent, "/api/v1/macros").await.body["macros"][0]["uses"],
        1
    );

    // On a closed case a macro does nothing at all: no reply, no change.
    let tagging = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "Tag it", "body": "Tagged.", "actions": {"add_tags": ["late"]}}),
        )
        .await;
    let tagging_id = tagging.body["id"].as_i64().unwrap();
    let fresh = case_for(&app, &t.initech, "New problem").await;
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{fresh}"),
        json!({"status": "closed"}),
    )
    .await;
    let refused = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{fresh}/macros/{tagging_id}"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(comments(&app, &t.agent, fresh).await.is_empty());
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{fresh}"))
            .await
            .body["tags"],
        json!([])
    );
    // Customers and partners cannot apply macros, even knowing the ids.
    for token in [&t.initech, &t.acme] {
        let r = app
            .post(
                token,
                &format!("/api/v1/cases/{case}/macros/{id}"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }

    // Reply and solve through the API, in one step; a customer cannot set fields with a reply.
    let solved = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "Fixed by the new policy.", "then": {"status": "solved"}}),
        )
        .await;
    assert_eq!(solved.status, StatusCode::CREATED, "{}", solved.body);
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{case}"))
            .await
            .body["status"],
        "solved"
    );
    let sneaky = app
        .post(
            &t.initech,
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "Raising it myself", "then": {"priority": "urgent"}}),
        )
        .await;
    assert_eq!(sneaky.status, StatusCode::FORBIDDEN);
    assert_eq!(
        comments(&app, &t.agent, case).await.len(),
        2,
        "the refused reply was not stored"
    );
}

async fn the_reply_box_applies_macros_inserts_articles_and_solves(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Quota exceeded").await;
    let made = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "Known quota issue", "body": "Hello {{requester.name}}, this is a known issue.",
                   "actions": {"add_tags": ["quota"]}}),
        )
        .await;
    let macro_id = made.body["id"].as_i64().unwrap().to_string();
    let public = app
        .post(&t.agent, "/api/v1/articles", json!({"title": "Raise the per-job quota", "issue": "Jobs stop with quota exceeded",
              "resolution": "Raise the quota in the policy.", "state": "validated", "audience": "public"}))
        .await;
    let internal = app
        .post(
            &t.agent,
            "/api/v1/articles",
            json!({"title": "Internal quota notes", "issue": "Quota internals",
              "resolution": "Engineering only.", "state": "validated", "audience": "internal"}),
        )
        .await;
    for a in [&public, &internal] {
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let link = app
            .post(
                &t.agent,
                &format!("/api/v1/cases/{case}/links"),
                json!({"article_id": a.body["id"]}),
            )
            .await;
        assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    }
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let path = format!("/cases/{case}/comments");

    // Applying the macro fills the box after what was typed, and sends nothing yet.
    let filled = agent
        .post_multipart(
            &path,
            &[
                ("body", "Thanks for the report."),
                ("do", "macro"),
                ("macro", &macro_id),
            ],
            &[],
        )
        .await;
    assert_eq!(filled.status, StatusCode::OK);
    assert!(
        filled
            .html
            .contains("Thanks for the report.\n\nHello user, this is a known issue."),
        "{}",
        filled.html
    );
    assert!(filled
        .html
        .contains(&format!(r#"name="applied_macro" value="{macro_id}""#)));
    assert!(
        comments(&app, &t.agent, case).await.is_empty(),
        "nothing sent while drafting"
    );

    // A public article goes in; an internal one is refused for a public reply, with the draft kept.
    let public_id = public.body["id"].as_i64().unwrap().to_string();
    let with_article = agent
        .post_multipart(
            &path,
            &[
                ("body", "Draft"),
                ("do", "article"),
                ("article", &public_id),
            ],
            &[],
        )
        .await;
    assert_eq!(with_article.status, StatusCode::OK);
    assert!(with_article
        .html
        .contains("Draft\n\nRaise the per-job quota\n\nRaise the quota in the policy."));
    let internal_id = internal.body["id"].as_i64().unwrap().to_string();
    let refused = agent
        .post_multipart(
            &path,
            &[
                ("body", "Draft two"),
                ("do", "article"),
                ("article", &internal_id),
            ],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("Draft two") && refused.html.contains("is not published for"));
    // As an internal note it may go in.
    let as_note = agent
        .post_multipart(
            &path,
            &[
                ("body", ""),
                ("internal", "1"),
                ("do", "article"),
                ("article", &internal_id),
            ],
            &[],
        )
        .await;
    assert_eq!(as_note.status, StatusCode::OK);

    // "Send and solve" with the applied macro: reply, tag and solution in one step.
    let sent = agent
        .post_multipart(
            &path,
            &[
                ("body", "Hello user, this is a known issue."),
                ("applied_macro", &macro_id),
                ("do", "solve"),
            ],
            &[],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let after = app
        .get(&t.agent, &format!("/api/v1/cases/{case}"))
        .await
        .body;
    assert_eq!(after["status"], "solved");
    assert_eq!(after["tags"], json!(["quota"]));
    assert_eq!(comments(&app, &t.initech, case).await.len(), 1);

    // Customers see no agent tools on their case page.
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    let page = customer.get(&format!("/cases/{case}")).await;
    for tool in [
        "Apply macro",
        "Insert article",
        "Send and solve",
        "Merge case",
        "Followers and Cc",
        "id=\"presence\"",
    ] {
        assert!(!page.html.contains(tool), "a customer sees {tool}");
    }
    let staff_page = agent.get(&format!("/cases/{case}")).await;
    for tool in [
        "Merge case",
        "Followers and Cc",
        "id=\"presence\"",
        "Keyboard shortcuts",
    ] {
        assert!(staff_page.html.contains(tool), "an agent misses {tool}");
    }
}

async fn merging_moves_the_conversation_and_closes_the_duplicate(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let survivor = case_for(&app, &t.initech, "Backup fails").await;
    let duplicate = case_for(&app, &t.initech, "Backup fails again").await;
    let elsewhere = case_for(&app, &t.globex, "Backup fails at globex").await;
    app.post(
        &t.initech,
        &format!("/api/v1/cases/{duplicate}/comments"),
        json!({"body": "Any news?"}),
    )
    .await;
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{duplicate}/comments"),
        json!({"body": "Looking", "public": false}),
    )
    .await;
    assert_eq!(
        app.put(
            &t.admin,
            &format!("/api/v1/cases/{duplicate}/followers/me"),
            json!({})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );

    // Customers and partners cannot merge; across organisations nobody can.
    for token in [&t.initech, &t.acme] {
        let r = app
            .post(
                token,
                &format!("/api/v1/cases/{duplicate}/merge"),
                json!({"into": survivor}),
            )
            .await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{}",
            r.body
        );
    }
    let across = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{elsewhere}/merge"),
            json!({"into": survivor}),
        )
        .await;
    assert_eq!(
        across.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        across.body
    );
    assert!(across.body["error"]["fields"]["into"]
        .as_str()
        .unwrap()
        .contains("different organisations"));
    let missing = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{duplicate}/merge"),
            json!({"into": 999_999}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let itself = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{duplicate}/merge"),
            json!({"into": duplicate}),
        )
        .await;
    assert_eq!(itself.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        comments(&app, &t.agent, duplicate).await.len(),
        2,
        "refusals moved nothing"
    );

    let merged = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{duplicate}/merge"),
            json!({"into": survivor}),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert_eq!(merged.body["id"], survivor);
    let gone = app
        .get(&t.agent, &format!("/api/v1/cases/{duplicate}"))
        .await
        .body;
    assert_eq!(gone["status"], "closed");
    assert_eq!(gone["merged_into"], survivor);
    assert!(comments(&app, &t.agent, duplicate).await.is_empty());
    let moved = comments(&app, &t.agent, survivor).await;
    let bodies: Vec<&str> = moved.iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert!(
        bodies.contains(&"Any news?") && bodies.contains(&"Looking"),
        "{bodies:?}"
    );
    assert!(bodies
        .iter()
        .any(|b| b.contains(&format!("Case #{duplicate}"))
            && b.contains("Backup fails again: details")));
    // The customer reads the moved public reply but not the internal note or the merge note.
    let theirs = comments(&app, &t.initech, survivor).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["body"], "Any news?");
    let people = app
        .get(&t.agent, &format!("/api/v1/cases/{survivor}/people"))
        .await;
    assert_eq!(people.body["followers"][0]["email"], "admin@vendor.example");
    // Both trails say what happened; a merged case takes no second merge.
    let events = app
        .get(&t.agent, &format!("/api/v1/cases/{survivor}/events"))
        .await;
    assert!(events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "merged"));
    let again = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{duplicate}/merge"),
            json!({"into": survivor}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );

    // The page: the merged case says where the conversation went.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/cases/{duplicate}")).await;
    assert!(
        page.html.contains(&format!(
            "This case was merged into <a href=\"/cases/{survivor}\">"
        )),
        "{}",
        page.html
    );
    let third = case_for(&app, &t.initech, "Backup fails a third time").await;
    let by_form = agent
        .post(
            &format!("/cases/{third}/merge"),
            &[("into", &format!("#{survivor}"))],
        )
        .await;
    assert_eq!(by_form.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&t.agent, &format!("/api/v1/cases/{third}"))
            .await
            .body["merged_into"],
        survivor
    );
}

async fn followers_and_cc_hear_of_replies_and_only_staff_change_them(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            ..Default::default()
        },
    )
    .await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Printer on fire").await;
    // The acknowledgement goes out first; wait for it so later mail is counted apart.
    app.mail_until(1).await;
    for token in [&t.initech, &t.acme] {
        // The role is checked before the case: a partner learns nothing of a case it cannot see.
        assert_eq!(
            app.put(
                token,
                &format!("/api/v1/cases/{case}/followers/me"),
                json!({})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let cc = app
            .post(
                token,
                &format!("/api/v1/cases/{case}/cc"),
                json!({"email": "boss@initech.example"}),
            )
            .await;
        assert!(cc.status == StatusCode::FORBIDDEN || cc.status == StatusCode::NOT_FOUND);
        assert_ne!(
            app.get(token, &format!("/api/v1/cases/{case}/people"))
                .await
                .status,
            StatusCode::OK
        );
    }
    let bad = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/cc"),
            json!({"email": "not an address"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.put(
            &t.admin,
            &format!("/api/v1/cases/{case}/followers/me"),
            json!({})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(
            &t.agent,
            &format!("/api/v1/cases/{case}/cc"),
            json!({"email": "Boss@Initech.example"})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let people = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/people"))
        .await
        .body;
    assert_eq!(people["cc"], json!(["boss@initech.example"]));
    assert_eq!(people["followers"][0]["email"], "admin@vendor.example");

    // The customer replies: the following admin hears of it, and the Cc (everyone on the
    // thread hears a public reply but its author); the agent's public reply then reaches the
    // requester and the Cc, once.
    let mails_to = |got: &[backline_server::smtp_sink::Received], who: &str| {
        got.iter()
            .filter(|m| m.to.iter().any(|to| to == who))
            .count()
    };
    app.post(
        &t.initech,
        &format!("/api/v1/cases/{case}/comments"),
        json!({"body": "It is still burning"}),
    )
    .await;
    app.until(
        "the follower and the Cc hear of the customer's reply",
        || async {
            let got = app.mail_until(0).await;
            (mails_to(&got, "admin@vendor.example") == 1
                && mails_to(&got, "boss@initech.example") == 1)
                .then_some(())
        },
    )
    .await;
    let requester_before = mails_to(&app.mail_until(0).await, "user@initech.example");
    app.post(
        &t.agent,
        &format!("/api/v1/cases/{case}/comments"),
        json!({"body": "Unplug it"}),
    )
    .await;
    app.until("the requester hears the agent's reply", || async {
        let got = app.mail_until(0).await;
        (mails_to(&got, "user@initech.example") > requester_before).then_some(())
    })
    .await;
    app.until("the outbox emptied", || async {
        (app.store.outbox_pending().await.unwrap() == 0).then_some(())
    })
    .await;
    let got = app.mail_until(0).await;
    assert_eq!(
        mails_to(&got, "boss@initech.example"),
        2,
        "the Cc hears each reply once: {:?}",
        got.iter().map(|m| (&m.to, m.subject())).collect::<Vec<_>>()
    );

    // Removing works through the API and the page.
    assert_eq!(
        app.delete(
            &t.agent,
            &format!("/api/v1/cases/{case}/cc/boss@initech.example")
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let page = admin.get(&format!("/cases/{case}")).await;
    assert!(page.html.contains(&format!("Stop following case #{case}")));
    assert_eq!(
        admin
            .post(&format!("/cases/{case}/follow"), &[("on", "false")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let people = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/people"))
        .await
        .body;
    assert_eq!(people, json!({"followers": [], "cc": []}));
}

async fn agents_see_who_else_has_a_case_open(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Slow dashboard").await;
    let path = format!("/api/v1/cases/{case}/presence");
    let first = app.post(&t.agent, &path, json!({"replying": false})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["others"], json!([]));
    let second = app.post(&t.admin, &path, json!({"replying": true})).await;
    assert_eq!(
        second.body["others"][0]["user"]["email"],
        "agent@vendor.example"
    );
    assert_eq!(second.body["others"][0]["replying"], false);
    let back = app.post(&t.agent, &path, json!({"replying": false})).await;
    assert_eq!(
        back.body["others"][0]["user"]["email"],
        "admin@vendor.example"
    );
    assert_eq!(back.body["others"][0]["replying"], true);
    // The page says so in words, and its script keeps it current.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(
        page.html.contains("admin is also replying"),
        "{}",
        page.html
    );
    let beat = agent
        .post(&format!("/cases/{case}/presence"), &[("replying", "false")])
        .await;
    assert_eq!(beat.status, StatusCode::OK);
    assert!(beat.html.contains("admin is also replying"));
    // Leaving removes the agent at once.
    agent
        .post(&format!("/cases/{case}/presence"), &[("leaving", "true")])
        .await;
    let alone = app.post(&t.admin, &path, json!({"replying": true})).await;
    assert_eq!(alone.body["others"], json!([]));
    // Customers and partners take no part and learn nothing.
    assert_eq!(
        app.post(&t.initech, &path, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&t.acme, &path, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn requesters_rate_solved_cases_and_staff_read_the_scores(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        Options {
            mail: true,
            ..Default::default()
        },
    )
    .await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Cannot log in").await;
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{case}"),
        json!({"assignee": app.agent_id}),
    )
    .await;
    let rating_path = format!("/api/v1/cases/{case}/rating");
    // Not before it is solved.
    let early = app
        .put(&t.initech, &rating_path, json!({"rating": "good"}))
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    let solved = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "Reset it for you.", "then": {"status": "solved"}}),
        )
        .await;
    assert_eq!(solved.status, StatusCode::CREATED, "{}", solved.body);

    // The solved mail carries a rating link that works without signing in.
    let mail = app
        .until("the solved mail", || async {
            let all = app.mail.as_ref().unwrap().messages();
            all.into_iter().find(|m| m.subject().contains("Solved: "))
        })
        .await;
    let text = mail.text();
    let link_start = text
        .find("/rate/")
        .expect("a rating link in the solved mail");
    let token: String = text[link_start + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let anonymous = reqwest::Client::new();
    let page = anonymous
        .get(format!("{}/rate/{token}?r=bad", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains(r#"value="bad" checked"#));
    assert_eq!(
        app.get(&t.agent, &rating_path).await.status,
        StatusCode::NOT_FOUND,
        "opening the link records nothing"
    );
    let forged = anonymous
        .get(format!("{}/rate/{case}-aaaaaaaaaaaaaaaa", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let posted = anonymous
        .post(format!("{}/rate/{token}", app.base))
        .form(&[("rating", "bad"), ("comment", "Took two days")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    assert!(posted.text().await.unwrap().contains("Thank you"));
    let stored = app.get(&t.agent, &rating_path).await;
    assert_eq!(stored.body["rating"], "bad");
    assert_eq!(stored.body["comment"], "Took two days");

    // The requester changes it from the API; nobody else may rate, and others cannot read it.
    let changed = app
        .put(
            &t.initech,
            &rating_path,
            json!({"rating": "good", "comment": ""}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["comment"], Value::Null);
    for token in [&t.agent, &t.admin] {
        assert_eq!(
            app.put(token, &rating_path, json!({"rating": "bad"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    for token in [&t.globex, &t.acme] {
        assert_eq!(
            app.put(token, &rating_path, json!({"rating": "bad"}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(token, &rating_path).await.status,
            StatusCode::NOT_FOUND
        );
    }

    // A second case rated bad: the agent's score is one good of two.
    let other = case_for(&app, &t.initech, "Cannot log out").await;
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{other}"),
        json!({"assignee": app.agent_id, "status": "solved"}),
    )
    .await;
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    let page = customer.get(&format!("/cases/{other}")).await;
    assert!(page.html.contains("How did we do?"));
    let rated = customer
        .post(
            &format!("/cases/{other}/rating"),
            &[("rating", "bad"), ("comment", "")],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER);
    let scores = app.get(&t.admin, "/api/v1/satisfaction?by=agent").await;
    assert_eq!(scores.status, StatusCode::OK, "{}", scores.body);
    assert_eq!(scores.body["scores"][0]["name"], "agent");
    assert_eq!(scores.body["scores"][0]["good"], 1);
    assert_eq!(scores.body["scores"][0]["bad"], 1);
    assert_eq!(scores.body["scores"][0]["percent"], 50.0);
    assert_eq!(scores.body["total"]["percent"], 50.0);
    let by_org = app
        .get(&t.admin, "/api/v1/satisfaction?by=organization")
        .await;
    assert_eq!(by_org.body["scores"][0]["name"], "INITECH");
    assert_eq!(
        app.get(&t.admin, "/api/v1/satisfaction?by=planet")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get(&t.admin, "/api/v1/satisfaction?by=agent&days=0")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for token in [&t.initech, &t.acme] {
        assert_eq!(
            app.get(token, "/api/v1/satisfaction?by=agent").await.status,
            StatusCode::FORBIDDEN
        );
    }
    // The partner's scorecard counts its customers' ratings.
    let served = case_for(&app, &t.globex, "Sync stalls").await;
    app.patch(
        &t.agent,
        &format!("/api/v1/cases/{served}"),
        json!({"status": "solved"}),
    )
    .await;
    let good = app
        .put(
            &t.globex,
            &format!("/api/v1/cases/{served}/rating"),
            json!({"rating": "good"}),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    let card = app.get(&t.admin, "/api/v1/partners/acme/scorecard").await;
    assert_eq!(
        card.body["scorecard"]["satisfaction_share"], 1.0,
        "{}",
        card.body
    );
    assert_eq!(card.body["scorecard"]["ratings"], 1);
    let by_partner = app.get(&t.admin, "/api/v1/satisfaction?by=partner").await;
    assert_eq!(
        by_partner.body["scores"],
        json!([{"id": by_partner.body["scores"][0]["id"], "name": "ACME", "good": 1, "bad": 0, "percent": 100.0}])
    );

    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let report = admin.get("/satisfaction?by=agent").await;
    assert!(report.html.contains("50.0 %"), "{}", report.html);
    let case_page = admin.get(&format!("/cases/{other}")).await;
    assert!(case_page.html.contains("rating-bad"));
}

async fn replies_sent_at_once_to_one_case_all_land(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = case_for(&app, &t.initech, "Busy case").await;
    // Replies with changes and without, from both sides, at the same moment: on PostgreSQL
    // each locks the case row after inserting its comment, which must queue, not deadlock.
    let sends = (0..16).map(|i| {
        let (token, body) = if i % 2 == 0 {
            (&t.agent, json!({"body": format!("agent {i}"), "then": {"priority": if i % 4 == 0 { "high" } else { "low" }}}))
        } else {
            (&t.initech, json!({"body": format!("customer {i}")}))
        };
        let path = format!("/api/v1/cases/{case}/comments");
        let app = &app;
        async move { app.post(token, &path, body).await.status }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(comments(&app, &t.agent, case).await.len(), 16);
}

async fn times_read_in_the_viewers_zone_with_the_zone_named(backend: Backend) {
    let app = TestApp::start(backend).await;
    let case = case_for(&app, &app.tokens.initech, "Clock check").await;
    let created = app
        .get(&app.tokens.agent, &format!("/api/v1/cases/{case}"))
        .await
        .body["created_at"]
        .clone();
    let at = backline_domain::Timestamp::parse(created.as_str().unwrap()).unwrap();
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = |zone: Option<&'static str>| {
        let cookie = match zone {
            Some(z) => format!("{}; tz={z}", agent.cookie),
            None => agent.cookie.clone(),
        };
        let url = format!("{}/cases/{case}", app.base);
        let client = agent.client.clone();
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // Until the browser has said, UTC, named; then the browser's zone, named.
    assert!(page(None).await.contains(&at.in_zone("UTC")));
    let berlin = page(Some("Europe%2FBerlin")).await;
    assert!(
        berlin.contains(&at.in_zone("Europe/Berlin")),
        "{}",
        at.in_zone("Europe/Berlin")
    );
    assert!(berlin.contains("/assets/zone.js"));
    // A made-up zone is ignored rather than trusted.
    assert!(page(Some("Mars%2FOlympus"))
        .await
        .contains(&at.in_zone("UTC")));
}
