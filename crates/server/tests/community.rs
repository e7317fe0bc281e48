//! The community on both databases: asking, answering, commenting, voting and accepting;
//! badges; followers mailed through the outbox; held first posts of new accounts and the
//! moderation queue; the rate limit with the clock moved; lock, spam and merge; promotion to a
//! draft article and a case (linked both ways); likely answers and search from the index,
//! following every change to a question; partner-space visibility; and the denials.

mod common;

use backline_domain::query::DocType;
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

async fn moderate(app: &TestApp, post: i64, action: &str) {
    let reply = app
        .post(
            &app.tokens.agent,
            &format!("/api/v1/community/posts/{post}/moderation"),
            json!({ "action": action }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{action}: {}", reply.body);
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect()
}

/// The questions among `token`'s likely answers for `q`, in their order.
async fn likely_questions(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let reply = app
        .get(
            token,
            &format!("/api/v1/community/likely?q={}", urlencode(q)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    ids(&reply.body["questions"])
}

/// The questions `token` finds with `/api/v1/search` for `q`, by id.
async fn searched_questions(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let reply = app
        .get(
            token,
            &format!(
                "/api/v1/search?q={}",
                urlencode(&format!("{q} type:question"))
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut found = ids(&reply.body["results"]);
    found.sort_unstable();
    found
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `read` until it gives `expected` (the index follows the database a moment behind);
/// fails after 20 s, saying what it gave last.
async fn until_equal<T, F, Fut>(what: &str, expected: T, mut read: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = read().await;
        if got == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: expected {expected:?}, still {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
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
    // Two staff at once make one case: the question records it in the case's transaction.
    let cases_before = app.case_count().await;
    let (by_agent, by_admin) = tokio::join!(
        app.post(&t.agent, &case_path, json!({})),
        app.post(&t.admin, &case_path, json!({}))
    );
    let mut statuses = vec![by_agent.status, by_admin.status];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(app.case_count().await, cases_before + 1);
    let filed = if by_agent.status == StatusCode::CREATED {
        by_agent
    } else {
        by_admin
    };
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
    // The staff case page leads back to the question; the customer's shows no staff link.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains(&format!(
            "From community question: <a href=\"/community/questions/{open}\">Console shows error E-4410 on login</a>"
        )),
        "{}",
        page.html
    );
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    let page = customer.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("From community question"));
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
    let unanswered = ask(
        &app,
        &t.initech,
        "general",
        "Restore hangs at 99 percent again",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ask(
        &app,
        &t.initech,
        "general",
        "Printer offline after update",
        "",
    )
    .await;
    // The unanswered question is in the index (search finds it) but not offered.
    until_equal(
        "search finds both questions",
        vec![answered, unanswered],
        || searched_questions(&app, &t.globex, "restore hangs"),
    )
    .await;
    until_equal("the answered question", vec![answered], || {
        likely_questions(&app, &t.globex, "restore hangs")
    })
    .await;
    let found = app
        .get(&t.globex, "/api/v1/community/likely?q=restore%20hangs")
        .await
        .body;
    assert_eq!(
        found["articles"][0]["title"], "Restore hangs on deduplicated volumes",
        "{found}"
    );
    assert_eq!(found["questions"][0]["answered"], false);
    assert_eq!(found["questions"][0]["answers"], 1);
    assert_eq!(found["complete"], true);
    assert!(likely_questions(&app, &t.globex, "invoice currency")
        .await
        .is_empty());

    // A question with an accepted answer comes before one without, whatever the matcher's
    // order between them.
    let accepted = ask(
        &app,
        &t.initech,
        "general",
        "Restore hangs on the tape library",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let reply = answer(&app, &t.acme, accepted, "Clean the tape heads.").await["id"]
        .as_i64()
        .unwrap();
    let mut both = vec![answered, accepted];
    both.sort_unstable();
    until_equal("both answered questions", both, || async {
        let mut got = likely_questions(&app, &t.globex, "restore hangs").await;
        got.sort_unstable();
        got
    })
    .await;
    let accept = app
        .put(
            &t.initech,
            &format!("/api/v1/community/questions/{accepted}/accepted"),
            json!({ "answer_id": reply }),
        )
        .await;
    assert_eq!(accept.status, StatusCode::OK, "{}", accept.body);
    until_equal("accepted first", vec![accepted, answered], || {
        likely_questions(&app, &t.globex, "restore hangs")
    })
    .await;
    let first = &app
        .get(&t.globex, "/api/v1/community/likely?q=restore%20hangs")
        .await
        .body["questions"][0];
    assert_eq!(
        (first["answered"].as_bool(), first["url"].as_str()),
        (
            Some(true),
            Some(format!("/community/questions/{accepted}").as_str())
        )
    );

    // The ask page offers them as one types: its script asks the page's JSON address.
    let web = Browser::sign_in(&app, "user@globex.example").await;
    let form = web.get("/community/s/general/ask").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("src=\"/assets/community.js\""));
    assert!(form.html.contains("data-likely=\"/community/likely\""));
    let json = web.get("/community/likely?q=restore%20hangs").await;
    assert_eq!(json.status, StatusCode::OK);
    let links: Value = serde_json::from_str(&json.html).unwrap();
    assert_eq!(links["likely"][0]["kind"], "question", "{links}");
    assert_eq!(
        links["likely"][0]["href"],
        format!("/community/questions/{accepted}")
    );
    assert_eq!(links["likely"][0]["answered"], true);
    assert!(json
        .html
        .contains(&format!("/community/questions/{answered}")));
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

async fn the_index_follows_every_change_to_a_question(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    space(&app, "general", "public", json!({})).await;
    // Globex's account is new: its question waits for review.
    let held = ask(
        &app,
        &t.globex,
        "general",
        "Kestrel sync stops at midnight",
        "The kestrel agent stops every night.",
    )
    .await;
    assert_eq!(held["state"], "held");
    let held = held["id"].as_i64().unwrap();
    age_accounts(&app);
    let q = ask(
        &app,
        &t.initech,
        "general",
        "Kestrel backup hangs on the tape drive",
        "The nightly kestrel job never ends.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let first = answer(&app, &t.agent, q, "Update the tape firmware.").await["id"]
        .as_i64()
        .unwrap();

    // Asked and answered: found in search and likely answers. The held question was written
    // first and is found by nobody, its author and staff included.
    until_equal("likely answers", vec![q], || {
        likely_questions(&app, &t.globex, "kestrel hangs")
    })
    .await;
    for token in [&t.agent, &t.globex, &t.initech] {
        assert_eq!(searched_questions(&app, token, "kestrel").await, vec![q]);
    }
    assert!(!app.state.search().index.holds(DocType::Question, held));
    // What is shown is read again from the database: a question taken down behind the
    // index's back (no announcement) is still in the index but shown to nobody.
    let set_state = |state: &'static str| {
        let store = app.store.clone();
        async move {
            backline_store::testing::execute_raw(
                &store,
                &format!("UPDATE community_posts SET state = '{state}' WHERE id = {q}"),
            )
            .await
            .unwrap()
        }
    };
    set_state("hidden").await;
    assert!(app.state.search().index.holds(DocType::Question, q));
    assert!(likely_questions(&app, &t.globex, "kestrel hangs")
        .await
        .is_empty());
    assert!(searched_questions(&app, &t.agent, "kestrel")
        .await
        .is_empty());
    set_state("published").await;
    assert_eq!(
        likely_questions(&app, &t.globex, "kestrel hangs").await,
        vec![q]
    );

    // A question is found by its answers' words; an answer taken down takes them away.
    let second = answer(
        &app,
        &t.acme,
        q,
        "Or set the zebrafish timeout to ten minutes.",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    until_equal("found by an answer's words", vec![q], || {
        likely_questions(&app, &t.globex, "zebrafish timeout")
    })
    .await;
    moderate(&app, second, "hide").await;
    until_equal("the hidden answer's words", Vec::<i64>::new(), || {
        likely_questions(&app, &t.agent, "zebrafish timeout")
    })
    .await;
    assert_eq!(
        likely_questions(&app, &t.globex, "kestrel hangs").await,
        vec![q],
        "still answered by the first answer"
    );
    // Its only published answer hidden, a question is no likely answer (search still finds it).
    moderate(&app, first, "hide").await;
    until_equal("no published answer", Vec::<i64>::new(), || {
        likely_questions(&app, &t.globex, "kestrel hangs")
    })
    .await;
    assert_eq!(
        searched_questions(&app, &t.globex, "kestrel").await,
        vec![q]
    );
    moderate(&app, first, "restore").await;
    until_equal("answered again", vec![q], || {
        likely_questions(&app, &t.globex, "kestrel hangs")
    })
    .await;

    // Hidden, spam: gone for everyone, staff too (they read it on its page); restored: back.
    moderate(&app, q, "hide").await;
    until_equal("hidden", Vec::<i64>::new(), || {
        searched_questions(&app, &t.agent, "kestrel")
    })
    .await;
    for token in [&t.globex, &t.initech, &t.acme, &t.agent] {
        assert!(likely_questions(&app, token, "kestrel hangs")
            .await
            .is_empty());
    }
    moderate(&app, q, "restore").await;
    until_equal("restored", vec![q], || {
        likely_questions(&app, &t.globex, "kestrel hangs")
    })
    .await;
    moderate(&app, q, "spam").await;
    until_equal("spam", Vec::<i64>::new(), || {
        searched_questions(&app, &t.agent, "kestrel")
    })
    .await;
    assert!(likely_questions(&app, &t.initech, "kestrel hangs")
        .await
        .is_empty());
    moderate(&app, q, "restore").await;

    // Approved, the held question is found; merged, it leaves, and its answers' words find the
    // question it was merged into. Locking changes nothing for search.
    moderate(&app, held, "approve").await;
    answer(&app, &t.agent, held, "Widen the schedule window.").await;
    until_equal("approved", vec![held], || {
        likely_questions(&app, &t.globex, "schedule window")
    })
    .await;
    let merged = app
        .post(
            &t.agent,
            &format!("/api/v1/community/questions/{held}/merge"),
            json!({ "into": q }),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    until_equal("merged into the other", vec![q], || {
        likely_questions(&app, &t.globex, "schedule window")
    })
    .await;
    until_equal("the duplicate gone", Vec::<i64>::new(), || {
        searched_questions(&app, &t.agent, "midnight")
    })
    .await;
    let lock = app
        .put(
            &t.agent,
            &format!("/api/v1/community/questions/{q}/lock"),
            json!({"locked": true}),
        )
        .await;
    assert_eq!(lock.status, StatusCode::OK);
    until_equal("locked and still found", vec![q], || {
        searched_questions(&app, &t.globex, "kestrel window")
    })
    .await;
    // /healthz counts questions among what the index holds.
    assert_eq!(app.search_ready().await["search"]["state"], "ready");
}

/// Spaces and questions written before the server starts: the index's catch-up at start
/// reads them (and leaves out held and spam ones).
fn osprey_spaces() -> common::BeforeStart {
    Box::new(|store: backline_store::Store| {
        Box::pin(async move {
            use backline_domain::community::{PostKind, PostState, SpaceAccess, SpaceVisibility};
            use backline_domain::{PartnerKind, PartnerKinds, Timestamp};
            use backline_store::community::{NewPost, NewSpace};
            let agent = store.user_by_email("agent@vendor.example").await.unwrap();
            let at = Timestamp::now();
            let spaces = [
                ("general", SpaceVisibility::Public, vec![]),
                ("members", SpaceVisibility::SignedIn, vec![]),
                (
                    "resellers",
                    SpaceVisibility::Partners,
                    vec![PartnerKind::Reseller],
                ),
            ];
            for (slug, visibility, kinds) in spaces {
                let space = store
                    .create_community_space(&NewSpace {
                        name: format!("Space {slug}"),
                        slug: slug.into(),
                        description: String::new(),
                        access: SpaceAccess {
                            visibility,
                            partner_kinds: PartnerKinds::new(kinds),
                            certified_only: false,
                        },
                    })
                    .await
                    .unwrap();
                let post = |kind, question_id, title: String, body: &str, state| NewPost {
                    kind,
                    space_id: space.id,
                    question_id,
                    parent_id: None,
                    author: agent.id,
                    title,
                    body: body.into(),
                    state,
                    at,
                };
                // One published, one held and one spam question per space, each answered.
                for state in [PostState::Published, PostState::Held, PostState::Spam] {
                    let title = format!("Osprey {slug} {state} question");
                    let id = store
                        .add_community_post(
                            &post(PostKind::Question, None, title, "", state),
                            true,
                            None,
                        )
                        .await
                        .unwrap();
                    store
                        .add_community_post(
                            &post(
                                PostKind::Answer,
                                Some(id),
                                String::new(),
                                "The osprey answer.",
                                PostState::Published,
                            ),
                            false,
                            None,
                        )
                        .await
                        .unwrap();
                }
            }
        })
    })
}

async fn questions_reach_only_the_readers_of_their_space(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        common::Options {
            before_start: Some(osprey_spaces()),
            ..Default::default()
        },
    )
    .await;
    let t = &app.tokens;
    let published = |slug: &str| {
        let slug = slug.to_string();
        let app = &app;
        async move {
            app.get(
                &app.tokens.agent,
                &format!("/api/v1/community/spaces/{slug}/questions"),
            )
            .await
            .body["questions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["state"] == "published")
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let (general, members, resellers) = (
        published("general").await,
        published("members").await,
        published("resellers").await,
    );
    let health = app.search_ready().await;
    assert!(
        health["search"]["total"].as_u64().unwrap() >= 9,
        "the catch-up counts questions: {health}"
    );
    let mut all = vec![general, members, resellers];
    all.sort_unstable();
    // Staff find every space's published questions; held and spam ones nobody finds.
    until_equal("staff find every space's", all.clone(), || {
        searched_questions(&app, &t.agent, "osprey")
    })
    .await;
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let expected = [
        (&t.admin, all.clone(), "staff"),
        (&t.acme, all.clone(), "a listed partner"),
        (&t.other, vec![general, members], "an unlisted partner"),
        (&t.globex, vec![general, members], "a customer"),
        (&t.initech, vec![general, members], "another customer"),
    ];
    for (token, want, who) in expected {
        assert_eq!(
            searched_questions(&app, token, "osprey").await,
            want,
            "search for {who}"
        );
        assert_eq!(
            sorted(likely_questions(&app, token, "osprey question").await),
            want,
            "likely answers for {who}"
        );
    }

    // On the web: anonymous readers find the public space's question only; a signed-in
    // customer the signed-in space's too, never the partner space's.
    let link = |id: i64| format!("href=\"/community/questions/{id}\"");
    let anonymous = app
        .request(
            Method::GET,
            None,
            "/community/search?q=osprey+question",
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::OK);
    let html = anonymous.body.as_str().unwrap();
    assert!(html.contains(&link(general)), "{html}");
    assert!(!html.contains(&link(members)) && !html.contains(&link(resellers)));
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    let page = customer.get("/community/search?q=osprey+question").await;
    assert!(page.html.contains(&link(general)) && page.html.contains(&link(members)));
    assert!(!page.html.contains(&link(resellers)));
    let json = customer.get("/community/likely?q=osprey+question").await;
    assert!(!json
        .html
        .contains(&format!("/community/questions/{resellers}")));
    let searched = customer.get("/search?q=osprey+type%3Aquestion").await;
    assert_eq!(searched.status, StatusCode::OK);
    assert!(searched.html.contains(&link(members)), "{}", searched.html);
    assert!(!searched.html.contains(&link(resellers)));
    let partner = Browser::sign_in(&app, "tech@acme.example").await;
    let page = partner.get("/community/search?q=osprey+question").await;
    assert!(page.html.contains(&link(resellers)), "{}", page.html);
    let unlisted = Browser::sign_in(&app, "tech@other.example").await;
    let page = unlisted.get("/community/search?q=osprey+question").await;
    assert!(!page.html.contains(&link(resellers)));
}

async fn held_posts_wait_in_the_moderation_queue(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    space(&app, "general", "public", json!({})).await;
    // The fixture's accounts are new: their posts are held.
    let asked = ask(
        &app,
        &t.globex,
        "general",
        "Where is the agent log file kept?",
        "",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let published = ask(&app, &t.agent, "general", "Release notes for 7.3", "").await["id"]
        .as_i64()
        .unwrap();
    let held_answer = answer(&app, &t.initech, published, "Also see the upgrade guide.").await
        ["id"]
        .as_i64()
        .unwrap();

    // Staff read the queue, oldest first; nobody else does.
    let queue = app.get(&t.agent, "/api/v1/community/held").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let held: Vec<(i64, String, i64)> = queue.body["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["post"]["id"].as_i64().unwrap(),
                h["post"]["kind"].as_str().unwrap().to_string(),
                h["question_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        held,
        vec![
            (asked, "question".into(), asked),
            (held_answer, "answer".into(), published)
        ]
    );
    assert_eq!(
        queue.body["held"][1]["question_title"],
        "Release notes for 7.3"
    );
    for token in [&t.globex, &t.acme] {
        let refused = app.get(token, "/api/v1/community/held").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }

    // On the web: the link is on the community page for staff only; the queue is staff's.
    let customer = Browser::sign_in(&app, "user@globex.example").await;
    assert!(!customer
        .get("/community")
        .await
        .html
        .contains("/community/moderation"));
    assert_eq!(
        customer.get("/community/moderation").await.status,
        StatusCode::FORBIDDEN
    );
    let partner = Browser::sign_in(&app, "tech@acme.example").await;
    assert_eq!(
        partner.get("/community/moderation").await.status,
        StatusCode::FORBIDDEN
    );
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    assert!(agent
        .get("/community")
        .await
        .html
        .contains("href=\"/community/moderation\""));
    let page = agent.get("/community/moderation").await;
    assert_eq!(page.status, StatusCode::OK);
    for action in ["approve", "spam", "hide"] {
        assert!(
            page.html.contains(&format!("data-action=\"{action}\"")),
            "{action}"
        );
    }
    assert!(page.html.contains("Where is the agent log file kept?"));
    // Approving returns to the queue, which no longer holds the post.
    let approved = agent
        .post(
            &format!("/community/posts/{asked}/moderate"),
            &[("action", "approve"), ("next", "/community/moderation")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let hidden = agent
        .post(
            &format!("/community/posts/{held_answer}/moderate"),
            &[("action", "hide"), ("next", "/community/moderation")],
        )
        .await;
    assert_eq!(hidden.status, StatusCode::SEE_OTHER);
    let page = agent.get("/community/moderation").await;
    assert!(
        page.html.contains("Nothing waits for review."),
        "{}",
        page.html
    );
    assert_eq!(
        question(&app, &t.initech, asked).await.body["state"],
        "published"
    );
    // Somewhere else than this site is not followed.
    let elsewhere = ask(&app, &t.acme, "general", "Is 7.3 out for Linux?", "").await["id"]
        .as_i64()
        .unwrap();
    let page = agent
        .post(
            &format!("/community/posts/{elsewhere}/moderate"),
            &[("action", "spam"), ("next", "https://example.invalid/")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&t.agent, "/api/v1/community/held").await.body["held"]
            .as_array()
            .unwrap()
            .is_empty()
    );
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
    the_index_follows_every_change_to_a_question,
    questions_reach_only_the_readers_of_their_space,
    held_posts_wait_in_the_moderation_queue,
);
