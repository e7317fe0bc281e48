//! The community on both databases: asking, answering, commenting, voting and accepting;
//! badges; followers mailed through the outbox; held first posts of new accounts; the rate
//! limit with the clock moved; lock, spam and merge; promotion to a draft article and a case;
//! likely answers before asking; partner-space visibility; and the denials.

mod common;

use backline_domain::Span;
use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Moves the server's clock past the new-account window, so the fixture's people (created
/// just now) post without review, as established accounts do.
fn age_accounts(app: &TestApp) {
    app.state.clock.advance(Span::DAY.times(8));
}

async fn space(app: &TestApp, slug: &str, visibility: &str, extra: Value) -> Value {
    let mut body = json!({"name": format!("Space {slug}"), "slug": slug, "visibility": visibility});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    let reply = app
        .post(&app.tokens.admin, "/api/v1/community/spaces", body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn ask(app: &TestApp, token: &str, space: &str, title: &str, body: &str) -> Value {
    let reply = app
        .post(
            token,
            &format!("/api/v1/community/spaces/{space}/questions"),
            json!({"title": title, "body": body}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn answer(app: &TestApp, token: &str, question: i64, body: &str) -> Value {
    let reply = app
        .post(
            token,
            &format!("/api/v1/community/questions/{question}/answers"),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn question(app: &TestApp, token: &str, id: i64) -> common::Reply {
    app.get(token, &format!("/api/v1/community/questions/{id}"))
        .await
}

async fn vote(app: &TestApp, token: &str, post: i64, value: i64) -> common::Reply {
    app.put(
        token,
        &format!("/api/v1/community/posts/{post}/vote"),
        json!({ "value": value }),
    )
    .await
}

/// Gives acme's technician a valid certificate by passing a one-question course.
async fn certify_acme_technician(app: &TestApp) {
    let course = app
        .post(&app.tokens.admin, "/api/v1/courses", json!({"product": "Backup", "release": "7.2",
            "title": "Backup essentials",
            "questions": [{"text": "Where is the agent log?", "choices": ["/tmp", "/var/log/backup"], "correct": 1}],
            "pass_mark": 100}))
        .await;
    assert_eq!(course.status, StatusCode::CREATED, "{}", course.body);
    let id = course.body["id"].as_i64().unwrap();
    let passed = app
        .post(
            &app.tokens.acme,
            &format!("/api/v1/courses/{id}/attempts"),
            json!({"answers": [1]}),
        )
        .await;
    assert_eq!(passed.body["passed"], true, "{}", passed.body);
}

async fn ask_answer_comment_vote_accept(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    certify_acme_technician(&app).await;
    space(&app, "general", "public", json!({})).await;

    let q = ask(
        &app,
        &t.globex,
        "general",
        "Backup stops at 99 percent",
        "Since 7.2 the nightly job hangs.",
    )
    .await;
    assert_eq!(q["state"], "published");
    let qid = q["id"].as_i64().unwrap();
    let by_tech = answer(
        &app,
        &t.acme,
        qid,
        "Clear the staging folder, then run it again.",
    )
    .await;
    let by_agent = answer(&app, &t.agent, qid, "Fixed in 7.2.1; upgrade when you can.").await;
    let (tech_answer, agent_answer) = (
        by_tech["id"].as_i64().unwrap(),
        by_agent["id"].as_i64().unwrap(),
    );
    let comment = app
        .post(
            &t.initech,
            &format!("/api/v1/community/posts/{tech_answer}/comments"),
            json!({"body": "Worked for us too."}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    let on_question = app
        .post(
            &t.acme,
            &format!("/api/v1/community/posts/{qid}/comments"),
            json!({"body": "Which storage target?"}),
        )
        .await;
    assert_eq!(
        on_question.status,
        StatusCode::CREATED,
        "{}",
        on_question.body
    );

    // One vote per person: voting up twice counts once; a new vote replaces the old.
    assert_eq!(
        vote(&app, &t.initech, tech_answer, 1).await.body["score"],
        1
    );
    assert_eq!(
        vote(&app, &t.initech, tech_answer, 1).await.body["score"],
        1
    );
    assert_eq!(vote(&app, &t.globex, tech_answer, 1).await.body["score"], 2);
    assert_eq!(
        vote(&app, &t.initech, tech_answer, -1).await.body["score"],
        0
    );
    assert_eq!(
        vote(&app, &t.initech, tech_answer, 0).await.body["score"],
        1
    );
    assert_eq!(vote(&app, &t.initech, qid, 1).await.body["score"], 1);
    // Not on one's own post; not a made-up value.
    let own = vote(&app, &t.acme, tech_answer, 1).await;
    assert_eq!((own.status, own.code()), (StatusCode::CONFLICT, "own_post"));
    let bad = vote(&app, &t.initech, tech_answer, 5).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        vote(&app, &t.initech, tech_answer, 0).await.body["score"],
        1
    );

    // Only the asker (or staff) accepts.
    let path = format!("/api/v1/community/questions/{qid}/accepted");
    let refused = app
        .put(&t.initech, &path, json!({"answer_id": tech_answer}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let wrong = app.put(&t.globex, &path, json!({"answer_id": qid})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = app
        .put(&t.globex, &path, json!({"answer_id": tech_answer}))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);

    let thread = question(&app, &t.initech, qid).await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    let body = &thread.body;
    assert_eq!(body["accepted_answer_id"], tech_answer);
    assert_eq!(body["score"], 1);
    assert_eq!(body["my_vote"], 1);
    assert_eq!(body["author"]["badge"], Value::Null);
    assert_eq!(body["comments"][0]["body"], "Which storage target?");
    assert_eq!(
        body["comments"][0]["author"]["badge"],
        "certified_technician"
    );
    // Accepted first, with the certified technician's badge; then staff's.
    assert_eq!(body["answers"][0]["id"], tech_answer);
    assert_eq!(body["answers"][0]["accepted"], true);
    assert_eq!(body["answers"][0]["score"], 1);
    assert_eq!(
        body["answers"][0]["author"]["badge"],
        "certified_technician"
    );
    assert_eq!(body["answers"][0]["author"]["organization"], "ACME");
    assert_eq!(
        body["answers"][0]["comments"][0]["body"],
        "Worked for us too."
    );
    assert_eq!(body["answers"][1]["id"], agent_answer);
    assert_eq!(body["answers"][1]["author"]["badge"], "staff");

    // A technician without a certificate is marked as a partner, not certified.
    let other = answer(&app, &t.other, qid, "We saw this on tape targets only.").await;
    let thread = question(&app, &t.initech, qid).await;
    let theirs = thread.body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == other["id"])
        .cloned()
        .unwrap();
    assert_eq!(theirs["author"]["badge"], "partner");

    // The public space reads without signing in, on the web.
    let page = app
        .request(
            Method::GET,
            None,
            &format!("/community/questions/{qid}"),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("Backup stops at 99 percent"), "{html}");
    assert!(html.contains("data-badge=\"certified_technician\""));
    assert!(html.contains("data-badge=\"staff\""));
    assert!(html.contains("Accepted answer"));
    assert!(html.contains("Sign in to answer"));
    let list = app
        .request(Method::GET, None, "/community/s/general", None)
        .await;
    assert!(list
        .body
        .as_str()
        .unwrap()
        .contains("Backup stops at 99 percent"));
    // Posting needs a signed-in person.
    let anonymous = app
        .request(
            Method::POST,
            None,
            &format!("/api/v1/community/questions/{qid}/answers"),
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn followers_are_mailed_about_new_answers(backend: Backend) {
    let app = TestApp::start_with_mail(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let qid = ask(
        &app,
        &t.globex,
        "general",
        "Restore asks for a key we never set",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let follow = app
        .put(
            &t.initech,
            &format!("/api/v1/community/questions/{qid}/following"),
            json!({"following": true}),
        )
        .await;
    assert_eq!(follow.status, StatusCode::OK, "{}", follow.body);
    assert_eq!(
        question(&app, &t.initech, qid).await.body["following"],
        true
    );
    assert_eq!(
        question(&app, &t.globex, qid).await.body["following"],
        true,
        "the asker follows"
    );

    answer(
        &app,
        &t.agent,
        qid,
        "The key is the one printed at setup; look in setup.log.",
    )
    .await;
    let mail = app.mail_until(2).await;
    let mut to: Vec<String> = mail.iter().map(|m| m.to.join(",")).collect();
    to.sort();
    assert_eq!(to, vec!["user@globex.example", "user@initech.example"]);
    for m in &mail {
        assert!(
            m.subject().contains("New answer: Restore asks for a key"),
            "{}",
            m.subject()
        );
        assert!(m.text().contains(&format!("/community/questions/{qid}")));
        assert!(m.text().contains("setup.log"));
    }
    // A follower's own answer is not mailed back to them; one who stopped following hears nothing.
    let stop = app
        .put(
            &t.initech,
            &format!("/api/v1/community/questions/{qid}/following"),
            json!({"following": false}),
        )
        .await;
    assert_eq!(stop.status, StatusCode::OK);
    answer(&app, &t.globex, qid, "Found it, thanks.").await;
    answer(
        &app,
        &t.acme,
        qid,
        "For the record: setup.log sits beside the agent.",
    )
    .await;
    let mail = app.mail_until(3).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mail_now = app.mail.as_ref().unwrap().messages();
    assert_eq!(
        mail_now.len(),
        3,
        "{:?}",
        mail_now
            .iter()
            .map(|m| (&m.to, m.subject()))
            .collect::<Vec<_>>()
    );
    assert_eq!(mail[2].to, vec!["user@globex.example".to_string()]);
    assert!(mail[2].text().contains("beside the agent"));
}

async fn a_new_accounts_first_post_waits_for_review(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    // The fixture's people were created just now: new accounts.
    space(&app, "general", "public", json!({})).await;
    let q = ask(
        &app,
        &t.globex,
        "general",
        "Is there a dark mode for the console?",
        "",
    )
    .await;
    assert_eq!(q["state"], "held");
    assert!(q["held_because"].as_str().unwrap().contains("new accounts"));
    let qid = q["id"].as_i64().unwrap();

    // Only its author and staff see it.
    assert_eq!(question(&app, &t.globex, qid).await.status, StatusCode::OK);
    assert_eq!(question(&app, &t.agent, qid).await.body["state"], "held");
    assert_eq!(
        question(&app, &t.initech, qid).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        question(&app, &t.acme, qid).await.status,
        StatusCode::NOT_FOUND
    );
    let anonymous = app
        .request(
            Method::GET,
            None,
            &format!("/community/questions/{qid}"),
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
    let listed = app
        .get(&t.initech, "/api/v1/community/spaces/general/questions")
        .await;
    assert_eq!(listed.body["questions"].as_array().unwrap().len(), 0);
    let own = app
        .get(&t.globex, "/api/v1/community/spaces/general/questions")
        .await;
    assert_eq!(own.body["questions"][0]["state"], "held");
    // Others cannot answer what they cannot see; non-staff cannot approve.
    let blind = app
        .post(
            &t.initech,
            &format!("/api/v1/community/questions/{qid}/answers"),
            json!({"body": "x"}),
        )
        .await;
    assert_eq!(blind.status, StatusCode::NOT_FOUND);
    let self_approve = app
        .post(
            &t.globex,
            &format!("/api/v1/community/posts/{qid}/moderation"),
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(self_approve.status, StatusCode::FORBIDDEN);

    // Staff approve it: everyone sees it, and the author's later posts go straight out.
    let approved = app
        .post(
            &t.agent,
            &format!("/api/v1/community/posts/{qid}/moderation"),
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["state"], "published");
    assert_eq!(question(&app, &t.initech, qid).await.status, StatusCode::OK);
    let again = app
        .post(
            &t.agent,
            &format!("/api/v1/community/posts/{qid}/moderation"),
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let next = ask(
        &app,
        &t.globex,
        "general",
        "And keyboard shortcuts in the console?",
        "",
    )
    .await;
    assert_eq!(next["state"], "published");
    // Staff are never held, even on a new account.
    let staff = answer(&app, &t.agent, qid, "Not yet; it is planned.").await;
    assert_eq!(staff["state"], "published");
}

async fn posting_is_rate_limited_per_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let qid = ask(
        &app,
        &t.globex,
        "general",
        "How many backups can run at once?",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for i in 1..10 {
        let reply = app
            .post(
                &t.globex,
                &format!("/api/v1/community/posts/{qid}/comments"),
                json!({"body": format!("detail {i}")}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "post {i}: {}",
            reply.body
        );
    }
    // The eleventh post in the hour is refused with a clear wait, and nothing is stored.
    let refused = app
        .post(
            &t.globex,
            &format!("/api/v1/community/posts/{qid}/comments"),
            json!({"body": "one more"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(refused.code(), "too_many_requests");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("10 times in the last hour")
            && message.contains("Try again in 60 minutes"),
        "{message}"
    );
    assert_eq!(
        question(&app, &t.globex, qid).await.body["comments"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
    // Others are not limited by it.
    let other = app
        .post(
            &t.initech,
            &format!("/api/v1/community/posts/{qid}/comments"),
            json!({"body": "same here"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    // An hour later the window has moved on.
    app.state
        .clock
        .advance(Span::from_millis(Span::HOUR.as_millis() + 60_000));
    let later = app
        .post(
            &t.globex,
            &format!("/api/v1/community/posts/{qid}/comments"),
            json!({"body": "one more"}),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);
}

async fn lock_refuses_answers_and_spam_hides(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let qid = ask(
        &app,
        &t.globex,
        "general",
        "Licence key rejected after renewal",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let spam = answer(&app, &t.initech, qid, "Buy cheap keys at example.invalid").await["id"]
        .as_i64()
        .unwrap();

    // Only staff moderate.
    let path = format!("/api/v1/community/posts/{spam}/moderation");
    let denied = app.post(&t.globex, &path, json!({"action": "spam"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let partner = app.post(&t.acme, &path, json!({"action": "hide"})).await;
    assert_eq!(partner.status, StatusCode::FORBIDDEN);
    let unknown = app.post(&t.agent, &path, json!({"action": "delete"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let marked = app.post(&t.agent, &path, json!({"action": "spam"})).await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.body);
    // Spam is hidden from everyone but staff, the author included.
    for token in [&t.globex, &t.initech, &t.acme] {
        let thread = question(&app, token, qid).await;
        assert_eq!(
            thread.body["answers"].as_array().unwrap().len(),
            0,
            "{}",
            thread.body
        );
    }
    assert_eq!(
        question(&app, &t.agent, qid).await.body["answers"][0]["state"],
        "spam"
    );
    // And it counts against its author: one spam against no approved post holds the next.
    let held = ask(
        &app,
        &t.initech,
        "general",
        "Where do I download the agent?",
        "",
    )
    .await;
    assert_eq!(held["state"], "held");
    assert!(held["held_because"].as_str().unwrap().contains("spam"));

    // A locked question takes no answers or comments; only staff lock.
    let lock_path = format!("/api/v1/community/questions/{qid}/lock");
    assert_eq!(
        app.put(&t.globex, &lock_path, json!({"locked": true}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put(&t.agent, &lock_path, json!({"locked": true}))
            .await
            .status,
        StatusCode::OK
    );
    let refused = app
        .post(
            &t.acme,
            &format!("/api/v1/community/questions/{qid}/answers"),
            json!({"body": "Try again"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "locked")
    );
    let comment = app
        .post(
            &t.acme,
            &format!("/api/v1/community/posts/{qid}/comments"),
            json!({"body": "Hm"}),
        )
        .await;
    assert_eq!(
        (comment.status, comment.code()),
        (StatusCode::CONFLICT, "locked")
    );
    assert_eq!(question(&app, &t.globex, qid).await.body["locked"], true);
    assert_eq!(
        app.put(&t.agent, &lock_path, json!({"locked": false}))
            .await
            .status,
        StatusCode::OK
    );
    answer(
        &app,
        &t.acme,
        qid,
        "Re-enter the key from the renewal mail.",
    )
    .await;
}

async fn merging_moves_answers_and_redirects(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    space(&app, "other-space", "public", json!({})).await;
    let target = ask(
        &app,
        &t.globex,
        "general",
        "Agent will not start on Windows",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let dup = ask(
        &app,
        &t.initech,
        "general",
        "Windows agent fails to start",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let elsewhere = ask(
        &app,
        &t.initech,
        "other-space",
        "Windows agent does not start",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    answer(
        &app,
        &t.agent,
        target,
        "Run the installer as administrator.",
    )
    .await;
    let moved = answer(&app, &t.acme, dup, "Check the service account's rights.").await["id"]
        .as_i64()
        .unwrap();

    let path = format!("/api/v1/community/questions/{dup}/merge");
    assert_eq!(
        app.post(&t.globex, &path, json!({"into": target}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let across = app
        .post(
            &t.agent,
            &format!("/api/v1/community/questions/{elsewhere}/merge"),
            json!({"into": target}),
        )
        .await;
    assert_eq!(
        (across.status, across.code()),
        (StatusCode::CONFLICT, "merge_refused")
    );
    let itself = app.post(&t.agent, &path, json!({"into": dup})).await;
    assert_eq!(itself.status, StatusCode::CONFLICT);
    let merged = app.post(&t.agent, &path, json!({"into": target})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);

    // The duplicate's address leads to the other question, which now holds both answers.
    let followed = question(&app, &t.initech, dup).await;
    assert_eq!(followed.status, StatusCode::OK);
    assert_eq!(followed.body["id"], target);
    let answers: Vec<i64> = followed.body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    assert!(answers.contains(&moved));
    // The duplicate's asker follows the merged question; the duplicate is out of the list.
    assert_eq!(followed.body["following"], true);
    let list = app
        .get(&t.initech, "/api/v1/community/spaces/general/questions")
        .await;
    let ids: Vec<i64> = list.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![target]);
    // The page redirects too; a merged question takes no answers.
    let page = Browser::sign_in(&app, "user@initech.example").await;
    let shown = page.get(&format!("/community/questions/{dup}")).await;
    assert_eq!(shown.status, StatusCode::PERMANENT_REDIRECT);
    let shown = page.get(&format!("/community/questions/{target}")).await;
    assert!(shown.html.contains("Check the service account"));
    let late = app
        .post(
            &t.acme,
            &format!("/api/v1/community/questions/{dup}/answers"),
            json!({"body": "late"}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

async fn answers_become_articles_and_questions_cases(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let qid = ask(
        &app,
        &t.globex,
        "general",
        "Restore is slow over VPN",
        "Restores take hours from the branch office.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let aid = answer(
        &app,
        &t.acme,
        qid,
        "Enable WAN compression in the job settings.",
    )
    .await["id"]
        .as_i64()
        .unwrap();

    // Without an accepted answer, staff must name one; customers and partners may not promote.
    let path = format!("/api/v1/community/questions/{qid}/article");
    let unnamed = app.post(&t.agent, &path, json!({})).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post(&t.globex, &path, json!({"answer_id": aid}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&t.acme, &path, json!({"answer_id": aid}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let accepted = app
        .put(
            &t.globex,
            &format!("/api/v1/community/questions/{qid}/accepted"),
            json!({"answer_id": aid}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    let promoted = app.post(&t.agent, &path, json!({})).await;
    assert_eq!(promoted.status, StatusCode::CREATED, "{}", promoted.body);
    assert_eq!(promoted.body["state"], "draft");
    assert_eq!(promoted.body["audience"], "public");
    let article_id = promoted.body["article_id"].as_i64().unwrap();
    let article = app
        .get(&t.agent, &format!("/api/v1/articles/{article_id}"))
        .await;
    assert_eq!(article.status, StatusCode::OK, "{}", article.body);
    assert_eq!(article.body["title"], "Restore is slow over VPN");
    assert_eq!(
        article.body["issue"],
        "Restores take hours from the branch office."
    );
    let resolution = article.body["resolution"].as_str().unwrap();
    assert!(
        resolution.starts_with("Enable WAN compression"),
        "{resolution}"
    );
    assert!(
        resolution.contains("Answered by tech in the community"),
        "{resolution}"
    );
    assert!(
        resolution.contains(&format!("/community/questions/{qid}")),
        "{resolution}"
    );
    assert_eq!(
        question(&app, &t.agent, qid).await.body["article_id"],
        article_id
    );
    // A draft is not for customers.
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/articles/{article_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // An unanswered question becomes a case for its asker, linked both ways.
    let open = ask(
        &app,
        &t.globex,
        "general",
        "Console shows error E-4410 on login",
        "Since this morning.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let case_path = format!("/api/v1/community/questions/{open}/case");
    assert_eq!(
        app.post(&t.globex, &case_path, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let filed = app.post(&t.agent, &case_path, json!({})).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let case_id = filed.body["case_id"].as_i64().unwrap();
    let case = app.get(&t.agent, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(case.body["subject"], "Console shows error E-4410 on login");
    assert_eq!(case.body["requester"]["email"], "user@globex.example");
    assert_eq!(case.body["channel"], "community");
    let description = case.body["description"].as_str().unwrap();
    assert!(
        description.starts_with("Since this morning."),
        "{description}"
    );
    assert!(
        description.contains(&format!("/community/questions/{open}")),
        "{description}"
    );
    assert_eq!(
        question(&app, &t.globex, open).await.body["case_id"],
        case_id
    );
    // The asker sees the case as their own.
    assert_eq!(
        app.get(&t.globex, &format!("/api/v1/cases/{case_id}"))
            .await
            .status,
        StatusCode::OK
    );
    let twice = app.post(&t.agent, &case_path, json!({})).await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "already_a_case")
    );
}

async fn likely_answers_before_asking(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let article = app
        .post(
            &t.agent,
            "/api/v1/articles",
            json!({"title": "Restore hangs on deduplicated volumes",
            "issue": "A restore hangs at 99 percent on a deduplicated volume.",
            "resolution": "Turn off inline deduplication for the restore target.",
            "state": "validated", "audience": "public"}),
        )
        .await;
    assert_eq!(article.status, StatusCode::CREATED, "{}", article.body);
    let answered = ask(
        &app,
        &t.initech,
        "general",
        "Restore hangs at 99 percent",
        "Tape restore never finishes.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    answer(&app, &t.agent, answered, "Update the tape driver.").await;
    // An unanswered question on the same words is not a likely answer.
    ask(
        &app,
        &t.initech,
        "general",
        "Restore hangs at 99 percent again",
        "",
    )
    .await;
    ask(
        &app,
        &t.initech,
        "general",
        "Printer offline after update",
        "",
    )
    .await;
    app.settle_index().await;

    let found = app
        .until("likely answers", || async {
            let reply = app
                .get(&t.globex, "/api/v1/community/likely?q=restore%20hangs")
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            (!reply.body["articles"].as_array().unwrap().is_empty()).then_some(reply.body)
        })
        .await;
    let questions: Vec<i64> = found["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    assert_eq!(questions, vec![answered]);
    assert_eq!(
        found["articles"][0]["title"],
        "Restore hangs on deduplicated volumes"
    );
    let nothing = app
        .get(&t.globex, "/api/v1/community/likely?q=invoice%20currency")
        .await;
    assert_eq!(nothing.body["questions"].as_array().unwrap().len(), 0);

    // The ask page offers them as one types: its script asks the page's JSON address.
    let web = Browser::sign_in(&app, "user@globex.example").await;
    let form = web.get("/community/s/general/ask").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("src=\"/assets/community.js\""));
    assert!(form.html.contains("data-likely=\"/community/likely\""));
    let json = web.get("/community/likely?q=restore%20hangs").await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(
        json.html
            .contains(&format!("/community/questions/{answered}")),
        "{}",
        json.html
    );
    let script = app
        .request(Method::GET, None, "/assets/community.js", None)
        .await;
    assert_eq!(script.status, StatusCode::OK);
}

async fn partner_spaces_are_for_the_partners_they_list(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    age_accounts(&app);
    // acme is a reseller, other an implementer.
    let created = space(
        &app,
        "resellers",
        "partners",
        json!({"partner_kinds": ["reseller"]}),
    )
    .await;
    assert_eq!(created["partner_kinds"], json!(["reseller"]));
    space(
        &app,
        "certified",
        "partners",
        json!({"certified_only": true}),
    )
    .await;
    space(&app, "members", "signed_in", json!({})).await;

    let slugs = |body: &Value| -> Vec<String> {
        body["spaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["slug"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        slugs(&app.get(&t.acme, "/api/v1/community/spaces").await.body),
        vec!["resellers", "members"]
    );
    assert_eq!(
        slugs(&app.get(&t.other, "/api/v1/community/spaces").await.body),
        vec!["members"]
    );
    assert_eq!(
        slugs(&app.get(&t.globex, "/api/v1/community/spaces").await.body),
        vec!["members"]
    );
    assert_eq!(
        slugs(&app.get(&t.agent, "/api/v1/community/spaces").await.body).len(),
        3
    );

    let qid = ask(
        &app,
        &t.acme,
        "resellers",
        "Discount codes for the spring bundle?",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let inside = answer(
        &app,
        &t.agent,
        qid,
        "Inside information: codes go out on the 1st.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(question(&app, &t.acme, qid).await.status, StatusCode::OK);
    assert_eq!(question(&app, &t.admin, qid).await.status, StatusCode::OK);
    // Customers, unlisted partners and anonymous readers get 404 for the space, its
    // questions, its answers and the API alike.
    for token in [&t.other, &t.globex, &t.initech] {
        assert_eq!(
            app.get(token, "/api/v1/community/spaces/resellers/questions")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            question(&app, token, qid).await.status,
            StatusCode::NOT_FOUND
        );
        let post = app
            .post(
                token,
                &format!("/api/v1/community/questions/{qid}/answers"),
                json!({"body": "me too"}),
            )
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND);
        assert_eq!(
            vote(&app, token, inside, 1).await.status,
            StatusCode::NOT_FOUND
        );
        let asked = app
            .post(
                token,
                "/api/v1/community/spaces/resellers/questions",
                json!({"title": "Let me in please", "body": ""}),
            )
            .await;
        assert_eq!(asked.status, StatusCode::NOT_FOUND);
    }
    for path in [
        "/community/s/resellers".to_string(),
        format!("/community/questions/{qid}"),
    ] {
        let anonymous = app.request(Method::GET, None, &path, None).await;
        assert_eq!(anonymous.status, StatusCode::NOT_FOUND, "{path}");
    }
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    assert_eq!(
        customer
            .get(&format!("/community/questions/{qid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = Browser::sign_in(&app, "tech@acme.example").await;
    let page = listed.get(&format!("/community/questions/{qid}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("codes go out on the 1st"));
    // A signed-in space is closed to anonymous readers only.
    assert_eq!(
        app.request(Method::GET, None, "/community/s/members", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        customer.get("/community/s/members").await.status,
        StatusCode::OK
    );
    // Certified partners only: acme is not certified (its agreement's minimum is unmet).
    assert_eq!(
        app.get(&t.acme, "/api/v1/community/spaces/certified/questions")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&t.agent, "/api/v1/community/spaces/certified/questions")
            .await
            .status,
        StatusCode::OK
    );
}

async fn spaces_are_staffs_to_make(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    for token in [&t.globex, &t.acme] {
        let refused = app
            .post(
                token,
                "/api/v1/community/spaces",
                json!({"name": "Mine", "visibility": "public"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let bad = app
        .post(
            &t.admin,
            "/api/v1/community/spaces",
            json!({"name": "", "slug": "Bad Slug", "visibility": "secret",
            "partner_kinds": ["wholesaler"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.body["error"]["fields"].as_object().unwrap();
    for field in ["name", "slug", "visibility", "partner_kinds"] {
        assert!(fields.contains_key(field), "{field}: {}", bad.body);
    }
    let mixed = app
        .post(
            &t.admin,
            "/api/v1/community/spaces",
            json!({"name": "Open", "visibility": "public", "certified_only": true}),
        )
        .await;
    assert_eq!(mixed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&t.admin, "/api/v1/community/spaces").await.body["spaces"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    space(&app, "general", "public", json!({})).await;
    let taken = app
        .post(
            &t.agent,
            "/api/v1/community/spaces",
            json!({"name": "Again", "slug": "general", "visibility": "public"}),
        )
        .await;
    assert_eq!(
        (taken.status, taken.code()),
        (StatusCode::CONFLICT, "slug_taken")
    );
    // A question needs a real title; nothing is stored otherwise.
    age_accounts(&app);
    let short = app
        .post(
            &t.globex,
            "/api/v1/community/spaces/general/questions",
            json!({"title": "Help", "body": ""}),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body["error"]["fields"]["title"].is_string());
    assert_eq!(
        app.get(&t.agent, "/api/v1/community/spaces/general/questions")
            .await
            .body["questions"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // On the web: the staff form, refused with what was typed; the customer sees no form.
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let refused = admin
        .post(
            "/community/spaces",
            &[
                ("name", "Partner lounge"),
                ("slug", "Not A Slug"),
                ("visibility", "partners"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("value=\"Partner lounge\""));
    assert!(refused.html.contains("class=\"field-error\""));
    let made = admin
        .post(
            "/community/spaces",
            &[
                ("name", "Partner lounge"),
                ("slug", "lounge"),
                ("visibility", "partners"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let lounge = admin.get("/community/s/lounge").await;
    assert_eq!(lounge.status, StatusCode::OK);
    assert!(lounge.html.contains("Partner lounge"));
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    let front = customer.get("/community").await;
    assert!(!front.html.contains("New space"));
    assert!(!front.html.contains("Partner lounge"));
    let forged = customer
        .post(
            "/community/spaces",
            &[("name", "Mine"), ("visibility", "public")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn the_question_page_takes_answers_and_shows_refusals(backend: Backend) {
    let app = TestApp::start(backend).await;
    age_accounts(&app);
    space(&app, "general", "public", json!({})).await;
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    let asked = customer
        .post(
            "/community/s/general/ask",
            &[("title", "Why"), ("body", "It fails.")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(asked.html.contains("It fails."));
    assert!(asked.html.contains("class=\"field-error\""));
    let asked = customer
        .post(
            "/community/s/general/ask",
            &[
                ("title", "Why does the agent stop overnight?"),
                ("body", "It fails."),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    let qid = app
        .get(
            &app.tokens.agent,
            "/api/v1/community/spaces/general/questions",
        )
        .await
        .body["questions"][0]["id"]
        .as_i64()
        .unwrap();
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let empty = agent
        .post(
            &format!("/community/questions/{qid}/answer"),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.html.contains("Write something."));
    let answered = agent
        .post(
            &format!("/community/questions/{qid}/answer"),
            &[("body", "The overnight update restarts it.")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    let answered = agent.get(&format!("/community/questions/{qid}")).await;
    assert!(answered.html.contains("Why does the agent stop overnight?"));
    assert!(answered.html.contains("The overnight update restarts it."));
    assert!(answered.html.contains("data-badge=\"staff\""));
    // The asker accepts it from the page.
    let aid = app
        .get(
            &app.tokens.globex,
            &format!("/api/v1/community/questions/{qid}"),
        )
        .await
        .body["answers"][0]["id"]
        .as_i64()
        .unwrap();
    let page = customer
        .post(
            &format!("/community/questions/{qid}/accept"),
            &[("answer_id", &aid.to_string())],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = customer.get(&format!("/community/questions/{qid}")).await;
    assert!(page.html.contains("Accepted answer"));
    // A form without the session's token is refused.
    let forged = customer
        .post(
            &format!("/community/questions/{qid}/answer"),
            &[("body", "x"), ("csrf", "wrong")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

on_both_backends!(
    ask_answer_comment_vote_accept,
    followers_are_mailed_about_new_answers,
    a_new_accounts_first_post_waits_for_review,
    posting_is_rate_limited_per_account,
    lock_refuses_answers_and_spam_hides,
    merging_moves_answers_and_redirects,
    answers_become_articles_and_questions_cases,
    likely_answers_before_asking,
    partner_spaces_are_for_the_partners_they_list,
    spaces_are_staffs_to_make,
    the_question_page_takes_answers_and_shows_refusals,
);
