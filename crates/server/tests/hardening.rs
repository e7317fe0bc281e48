//! Hardening, from outside as an attacker would try it, on both databases: sign-in redirects
//! that stay on the site, and more as the defects of issue 14 are fixed.

mod common;

use common::browser::Browser;
use common::{Backend, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    sign_in_only_ever_returns_to_a_page_of_this_site,
    huge_numbers_in_incident_forms_are_refused_not_crashed_on,
    every_answer_carries_the_security_headers,
    staff_routes_tell_outsiders_nothing_about_what_exists,
    arbitrary_text_gets_a_4xx_with_a_code_and_stores_nothing,
    wrong_passwords_back_off_per_account_and_address_without_telling_who_exists,
    the_subscription_form_cannot_flood_a_mailbox,
    a_change_made_against_an_old_version_is_refused_not_written,
    tags_added_at_the_same_moment_are_all_kept,
    a_stale_case_form_says_so_and_keeps_the_choices,
    article_edits_never_overwrite_a_newer_revision,
    settings_are_changed_by_admins_and_the_agents_they_allow,
);

async fn sign_in_only_ever_returns_to_a_page_of_this_site(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (next, expected) in [
        ("/cases/1?view=mine", "/cases/1?view=mine"),
        ("/\t/evil.example/", "/cases"),
        ("//evil.example/", "/cases"),
        ("/\\evil.example/", "/cases"),
        ("https://evil.example/", "/cases"),
        ("/cases\r\nSet-Cookie: planted=1", "/cases"),
    ] {
        let reply = client
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", "agent@vendor.example"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(reply.headers()["location"], expected, "{next:?}");
        let cookies: Vec<_> = reply.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies.len(), 1, "only the session cookie: {cookies:?}");
    }
    // The sign-in page never carries a foreign address into its form either.
    let page = client
        .get(format!("{}/login?next=/%09/evil.example/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="next" value="/cases""#), "{page}");
}

async fn huge_numbers_in_incident_forms_are_refused_not_crashed_on(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let service = app
        .post(
            &t.admin,
            "/api/v1/services",
            json!({"slug": "vault", "name": "Vault", "kind": "service", "group": "cloud"}),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.body);
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    for minutes in [
        "9223372036854775807",
        "-9223372036854775808",
        "153722867280912930",
        "1e400",
        "NaN",
    ] {
        let page = agent
            .post(
                "/incidents",
                &[
                    ("title", "Vault down"),
                    ("services", "vault"),
                    ("impact", "major"),
                    ("nature", "Nothing loads"),
                    ("message", "Looking"),
                    ("next_update", minutes),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{minutes}");
        assert!(
            page.html.contains("Vault down"),
            "the form keeps what was typed"
        );
    }
    let declared = agent
        .post(
            "/incidents",
            &[
                ("title", "Vault down"),
                ("services", "vault"),
                ("impact", "major"),
                ("nature", "Nothing loads"),
                ("message", "Looking"),
                ("next_update", "30"),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.html);
    let incident = app.get(&t.agent, "/api/v1/incidents").await.body["incidents"][0]["id"]
        .as_i64()
        .unwrap();
    for minutes in [
        "153722867280912930",
        "-153722867280912930",
        "9223372036854775807",
    ] {
        let page = agent
            .post(
                &format!("/incidents/{incident}/updates"),
                &[
                    ("state", "identified"),
                    ("message", "Found it"),
                    ("next_update", minutes),
                ],
            )
            .await;
        assert!(page.status.is_client_error(), "{minutes}: {}", page.status);
    }
    // Still serving, and the incident unchanged by the refused updates.
    let read = app
        .get(&t.agent, &format!("/api/v1/incidents/{incident}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["state"], "investigating", "{}", read.body);
}

async fn every_answer_carries_the_security_headers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app
        .file_case(
            &t.initech,
            json!({"subject": "Headers", "description": "x"}),
        )
        .await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let check = |path: String, headers: &reqwest::header::HeaderMap, signed_in: bool| {
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert!(headers.contains_key("permissions-policy"), "{path}");
        if signed_in {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    };
    // Pages signed in, including errors and forms' answers.
    for path in [
        "/cases",
        &format!("/cases/{case}"),
        "/cases/new",
        "/articles",
        "/macros",
        "/sla",
        "/incidents",
        "/cases/999999",
        "/no-such-page",
    ] {
        let reply = agent
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", &agent.cookie)
            .send()
            .await
            .unwrap();
        check(path.to_string(), reply.headers(), true);
    }
    let posted = agent
        .client
        .post(format!("{}/cases/{case}/comments", app.base))
        .header("cookie", &agent.cookie)
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", agent.csrf.clone())
                .text("body", ""),
        )
        .send()
        .await
        .unwrap();
    check("refused reply".into(), posted.headers(), true);
    // The API, answered and refused.
    for (token, path) in [
        (&t.agent, format!("/api/v1/cases/{case}")),
        (&t.globex, format!("/api/v1/cases/{case}")),
        (&t.agent, "/api/v1/openapi.json".to_string()),
    ] {
        let reply = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        check(path, reply.headers(), true);
    }
    // Anonymous pages, assets and the sign-in redirect: headers, and assets stay cacheable.
    for path in ["/login", "/status", "/cases", "/healthz", "/api/v1/cases"] {
        let reply = anonymous
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        check(path.to_string(), reply.headers(), false);
    }
    let asset = anonymous
        .get(format!("{}/assets/app.css", app.base))
        .send()
        .await
        .unwrap();
    check("app.css".into(), asset.headers(), false);
    assert!(asset.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    // No page carries an inline script for the policy to block.
    let page = agent.get(&format!("/cases/{case}")).await;
    for chunk in page.html.split("<script").skip(1) {
        assert!(
            chunk.trim_start().starts_with("src=") || chunk.contains(" src="),
            "inline script: {}",
            &chunk[..chunk.len().min(80)]
        );
        assert!(
            chunk
                .split('>')
                .nth(1)
                .is_some_and(|rest| rest.starts_with("</script")),
            "inline script body"
        );
    }
}

async fn staff_routes_tell_outsiders_nothing_about_what_exists(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    app.post(
        &t.admin,
        "/api/v1/services",
        json!({"slug": "vault", "name": "Vault", "kind": "service", "group": "cloud"}),
    )
    .await;
    let incident = app
        .post(&t.agent, "/api/v1/incidents", json!({"title": "Vault down", "services": ["vault"], "impact": "major",
              "nature": "Nothing loads", "message": "Looking", "next_update_at": "2099-01-01T00:00:00Z"}))
        .await;
    assert_eq!(incident.status, StatusCode::CREATED, "{}", incident.body);
    let id = incident.body["id"].as_i64().unwrap();
    let made = app
        .post(
            &t.agent,
            "/api/v1/macros",
            json!({"title": "m", "body": "b"}),
        )
        .await;
    let macro_id = made.body["id"].as_i64().unwrap();
    // Each staff route, for something that exists and something that does not: a partner or
    // customer gets the same answer for both.
    let routes = [
        (
            reqwest::Method::POST,
            "/api/v1/incidents/{}/postmortem/publish",
        ),
        (reqwest::Method::GET, "/api/v1/incidents/{}"),
        (reqwest::Method::GET, "/api/v1/incidents/{}/postmortem"),
        (reqwest::Method::GET, "/api/v1/incidents/{}/notifications"),
        (reqwest::Method::DELETE, "/api/v1/macros/{}"),
    ];
    for (method, pattern) in &routes {
        let path = |i: i64| pattern.replace("{}", &i.to_string());
        let existing = if pattern.contains("macros") {
            macro_id
        } else {
            id
        };
        for token in [&t.acme, &t.globex] {
            let there = app
                .request(method.clone(), Some(token), &path(existing), None)
                .await;
            let missing = app
                .request(method.clone(), Some(token), &path(999_999), None)
                .await;
            assert_eq!(there.status, missing.status, "{method} {}", path(existing));
            assert_eq!(there.code(), missing.code(), "{method} {}", path(existing));
        }
    }
}

async fn arbitrary_text_gets_a_4xx_with_a_code_and_stores_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Every route of the API document, with a NUL (and other junk) in each path value and in
    // the query, as the admin (who may reach everything): a 4xx with a code, never a 5xx.
    let doc = app.get(&t.admin, "/api/v1/openapi.json").await.body;
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            for junk in ["%00", "1%00", "99999999999999999999", "%FF%FE", "-1"] {
                let filled: String = path
                    .split('/')
                    .map(|part| if part.starts_with('{') { junk } else { part })
                    .collect::<Vec<_>>()
                    .join("/");
                let url = format!(
                    "{}{filled}?q=a%00b&page=99999999999999999999&view=%00",
                    app.base
                );
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let reply = raw
                    .request(method.clone(), &url)
                    .bearer_auth(&t.admin)
                    .header("content-type", "application/json")
                    .body("{\"name\": \"x\\u0000y\", \"title\": \"\\u0000\"}")
                    .send()
                    .await
                    .unwrap();
                let status = reply.status();
                let body: serde_json::Value = reply.json().await.unwrap_or_default();
                assert!(
                    status.is_client_error()
                        || (status.is_success()
                            && !path.contains('{')
                            && method == reqwest::Method::GET),
                    "{method} {filled}: {status} {body}"
                );
                if status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED {
                    assert!(
                        body["error"]["code"].is_string(),
                        "{method} {filled}: {status} {body}"
                    );
                }
                tried += 1;
            }
        }
    }
    assert!(tried > 300, "only {tried} requests");

    // JSON bodies with a NUL in one field: 422 naming it, nothing stored.
    let cases_before = app.case_count().await;
    for (path, body, field) in [
        (
            "/api/v1/cases",
            json!({"subject": "Broken\u{0}", "description": "x"}),
            "subject",
        ),
        (
            "/api/v1/organizations",
            json!({"name": "Bad", "slug": "bad", "kind": "customer", "domains": ["a\u{0}.example"]}),
            "domains[0]",
        ),
        (
            "/api/v1/macros",
            json!({"title": "t", "body": "b", "actions": {"add_tags": ["x\u{0}"]}}),
            "actions.add_tags[0]",
        ),
    ] {
        let reply = app.post(&t.admin, path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.body["error"]["fields"][field].is_string(),
            "{path}: {}",
            reply.body
        );
    }
    assert_eq!(app.case_count().await, cases_before);
    assert!(app.get(&t.admin, "/api/v1/macros").await.body["macros"]
        .as_array()
        .unwrap()
        .is_empty());

    // Forms, signed in or not: NUL and invalid UTF-8 are refused with a page, not a 500.
    for (path, body) in [
        ("/login", "email=a%00b&password=x"),
        ("/login", "email=%FF%FE&password=%C3"),
        ("/status/subscribe", "email=a%00b%40example.com"),
        ("/report", "title=x%00"),
    ] {
        let reply = raw
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            reply.status().is_client_error() || reply.status() == StatusCode::SEE_OTHER,
            "{path} {body}: {}",
            reply.status()
        );
        assert!(
            reply
                .headers()
                .get_all("set-cookie")
                .iter()
                .next()
                .is_none(),
            "{path}: no session for a refused sign-in"
        );
    }
    // A form and a JSON body just over the 2 MB limit (the server reads to the limit, so the
    // client has sent nearly all before the answer): 413 with a body people and programs can read.
    let big_form = format!("email=x&password={}", "a".repeat(2 * 1024 * 1024 + 100));
    let reply = raw
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big_form)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply
        .text()
        .await
        .unwrap()
        .contains("larger than the server takes"));
    let big_json = format!("{{\"subject\": \"{}\"}}", "a".repeat(2 * 1024 * 1024 + 100));
    let reply = raw
        .post(format!("{}/api/v1/cases", app.base))
        .bearer_auth(&t.initech)
        .header("content-type", "application/json")
        .body(big_json)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
    assert_eq!(app.case_count().await, cases_before);
    // Addresses past the limit: 414 with the API's error body, or a page for people, up to
    // lengths the HTTP parser itself still takes.
    for length in [9 * 1024, 60 * 1024] {
        let q = "a".repeat(length);
        let reply = raw
            .get(format!("{}/api/v1/cases?q={q}", app.base))
            .bearer_auth(&t.initech)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::URI_TOO_LONG, "{length}");
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["code"], "address_too_long", "{length}");
        let reply = raw
            .get(format!("{}/search?q={q}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::URI_TOO_LONG, "{length}");
        assert!(
            reply.text().await.unwrap().contains("The address is"),
            "{length}"
        );
    }
}

async fn wrong_passwords_back_off_per_account_and_address_without_telling_who_exists(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |email: &'static str, password: &'static str| {
        let (client, url) = (client.clone(), format!("{}/login", app.base));
        async move {
            let reply = client
                .post(url)
                .form(&[("email", email), ("password", password), ("next", "/cases")])
                .send()
                .await
                .unwrap();
            let status = reply.status();
            let retry = reply
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (status, retry, reply.text().await.unwrap())
        }
    };
    // Five wrong passwords are answered alike for a real and a made-up account.
    for _ in 0..5 {
        let (real, _, real_page) = sign_in("agent@vendor.example", "wrong").await;
        let (fake, _, fake_page) = sign_in("nobody@vendor.example", "wrong").await;
        assert_eq!(
            (real, fake),
            (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
        );
        assert!(
            real_page.contains("Wrong email or password.")
                && fake_page.contains("Wrong email or password.")
        );
    }
    // Then even the right password waits, with the wait said in words and in Retry-After; the
    // made-up account gets the very same answer.
    let (status, retry, page) = sign_in("agent@vendor.example", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(
        page.contains("Too many failed sign-ins. Wait a second and try again."),
        "{page}"
    );
    let (fake, fake_retry, _) = sign_in("nobody@vendor.example", "wrong").await;
    assert_eq!(
        (fake, fake_retry.as_deref()),
        (StatusCode::TOO_MANY_REQUESTS, Some("1"))
    );
    // Each further failure doubles the wait; the clock is moved, not slept.
    app.state
        .clock
        .advance(backline_domain::Span::from_millis(1_000));
    assert_eq!(
        sign_in("agent@vendor.example", "wrong").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, retry, _) = sign_in("agent@vendor.example", PASSWORD).await;
    assert_eq!(
        (status, retry.as_deref()),
        (StatusCode::TOO_MANY_REQUESTS, Some("2"))
    );
    app.state
        .clock
        .advance(backline_domain::Span::from_millis(2_000));
    let (status, _, _) = sign_in("agent@vendor.example", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "after the wait the right password works"
    );
    // The success cleared the account: the next wrong password is just wrong again.
    assert_eq!(
        sign_in("agent@vendor.example", "wrong").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in("agent@vendor.example", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );

    // One address trying many accounts is held back too (more loosely: offices share one).
    app.state
        .clock
        .advance(backline_domain::Span::from_millis(2 * 3_600_000));
    let emails: Vec<&'static str> = (0..30)
        .map(|i| &*Box::leak(format!("guess{i}@vendor.example").into_boxed_str()))
        .collect();
    for email in &emails {
        assert_eq!(sign_in(email, "wrong").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = sign_in("admin@vendor.example", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is held back"
    );
    // Failures are on record for whoever looks into an attack.
    let since = app
        .state
        .clock
        .now()
        .minus(backline_domain::Span::from_millis(3_600_000));
    let recorded = app
        .store
        .limited_attempts("address:127.0.0.1", since)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 30);
}

async fn the_subscription_form_cannot_flood_a_mailbox(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    for slug in ["vault", "backup", "mail"] {
        let r = app
            .post(
                &t.admin,
                "/api/v1/services",
                json!({"slug": slug, "name": slug, "kind": "service", "group": "cloud"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let subscribe = |body: String| {
        let url = format!("{}/status/subscribe", app.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let queued = || async { app.store.outbox_pending().await.unwrap() };
    // Twenty posts for one address and service: one confirmation mail, the same answer each time.
    for _ in 0..20 {
        assert_eq!(
            subscribe("email=fan%40example.org&services=vault".into()).await,
            StatusCode::OK
        );
    }
    assert_eq!(queued().await, 1);
    // A service not yet asked for is a new request; then the address has had its share.
    assert_eq!(
        subscribe("email=fan%40example.org&services=backup".into()).await,
        StatusCode::OK
    );
    assert_eq!(
        subscribe("email=fan%40example.org&services=mail".into()).await,
        StatusCode::OK
    );
    assert_eq!(queued().await, 3);
    app.post(
        &t.admin,
        "/api/v1/services",
        json!({"slug": "sync", "name": "sync", "kind": "service", "group": "cloud"}),
    )
    .await;
    assert_eq!(
        subscribe("email=fan%40example.org&services=sync".into()).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(queued().await, 3);
    // A day later (the clock moved, not slept) the address may ask again.
    app.state
        .clock
        .advance(backline_domain::Span::from_millis(25 * 3_600_000));
    assert_eq!(
        subscribe("email=fan%40example.org&services=sync".into()).await,
        StatusCode::OK
    );
    assert_eq!(queued().await, 4);
    // One client asking for many addresses is held back after ten (the one above counts).
    for i in 0..9 {
        assert_eq!(
            subscribe(format!("email=fan{i}%40example.org&services=vault")).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        subscribe("email=fan99%40example.org&services=vault".into()).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(queued().await, 13);
}

/// `PATCH` with an `If-Match` naming the version read: the ETag of every read and write.
async fn patch_if_match(
    app: &TestApp,
    token: &str,
    path: &str,
    tag: Option<&str>,
    body: serde_json::Value,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut request = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(&body);
    if let Some(tag) = tag {
        request = request.header("if-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, etag, response.json().await.unwrap())
}

async fn etag_of(app: &TestApp, token: &str, path: &str) -> String {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()["etag"].to_str().unwrap().to_string()
}

async fn a_change_made_against_an_old_version_is_refused_not_written(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app
        .file_case(&t.initech, json!({"subject": "Versions"}))
        .await;
    let path = format!("/api/v1/cases/{case}");
    let first = etag_of(&app, &t.agent, &path).await;
    assert_eq!(first, "\"1\"");
    // Two agents read the same version; the first change lands and moves the version on.
    let (status, etag, body) = patch_if_match(
        &app,
        &t.agent,
        &path,
        Some(&first),
        json!({"tags": ["billing"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(body["version"], 2);
    // The second, made against what it read, is refused and writes nothing.
    let (status, _, body) = patch_if_match(
        &app,
        &t.admin,
        &path,
        Some(&first),
        json!({"tags": ["printer"], "priority": "high"}),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"]["code"], "stale");
    let now = app.get(&t.agent, &path).await.body;
    assert_eq!(now["tags"], json!(["billing"]));
    assert_eq!(now["priority"], "normal");
    assert_eq!(now["version"], 2);
    // A reply moves the version on too: a form drawn before it is stale.
    let reply = app
        .post(
            &t.initech,
            &format!("{path}/comments"),
            json!({"body": "Any news?"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(etag_of(&app, &t.agent, &path).await, "\"3\"");
    // Without If-Match (or with `*`) the change is unconditional, as before.
    let (status, etag, _) = patch_if_match(
        &app,
        &t.admin,
        &path,
        Some("*"),
        json!({"priority": "high"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etag.as_deref(), Some("\"4\""));
    // A garbled precondition is refused rather than ignored.
    for bad in ["4", "W/\"4\"", "\"four\""] {
        let (status, _, body) =
            patch_if_match(&app, &t.admin, &path, Some(bad), json!({"priority": "low"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_if_match");
    }
    assert_eq!(app.get(&t.agent, &path).await.body["priority"], "high");
    // Customers may not read the version of a case that is not theirs.
    let other = app.get(&t.globex, &path).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

async fn tags_added_at_the_same_moment_are_all_kept(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app
        .file_case(&t.initech, json!({"subject": "Many hands"}))
        .await;
    let path = format!("/api/v1/cases/{case}");
    // Eight clients add a tag each at the same moment: every one is kept.
    let names: Vec<String> = (0..8).map(|i| format!("tag-{i}")).collect();
    let replies = futures_util::future::join_all(names.iter().enumerate().map(|(i, name)| {
        let token = if i % 2 == 0 { &t.agent } else { &t.admin };
        app.patch(token, &path, json!({"add_tags": [name]}))
    }))
    .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let tags = app.get(&t.agent, &path).await.body["tags"].clone();
    assert_eq!(tags, json!(names), "{tags}");
    let removed = app
        .patch(&t.agent, &path, json!({"remove_tags": ["tag-0", "tag-7"]}))
        .await;
    assert_eq!(removed.body["tags"].as_array().unwrap().len(), 6);
    // Bad tags are refused by name, nothing changes; customers may not touch tags.
    let bad = app
        .patch(&t.agent, &path, json!({"add_tags": ["no spaces"]}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body["error"]["fields"]["add_tags"].is_string(),
        "{}",
        bad.body
    );
    let customer = app
        .patch(&t.initech, &path, json!({"add_tags": ["mine"]}))
        .await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&t.agent, &path).await.body["tags"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

async fn a_stale_case_form_says_so_and_keeps_the_choices(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let case = app
        .file_case(&t.initech, json!({"subject": "Two tabs"}))
        .await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(
        page.html.contains(r#"name="version" value="1""#),
        "{}",
        page.html
    );
    // Meanwhile a colleague raises the priority through the API.
    let raised = app
        .patch(
            &t.admin,
            &format!("/api/v1/cases/{case}"),
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(raised.status, StatusCode::OK);
    // The agent's form, drawn before, would set it back to normal: it is refused, says why,
    // and keeps what the agent chose.
    let stale = agent
        .post(
            &format!("/cases/{case}/update"),
            &[
                ("version", "1"),
                ("status", "pending"),
                ("priority", "normal"),
                ("tier", "1"),
                ("assignee", ""),
                ("tags", "waiting-on-logs"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.html);
    assert!(
        stale.html.contains("changed while you were editing"),
        "{}",
        stale.html
    );
    assert!(stale.html.contains(r#"value="waiting-on-logs""#));
    assert!(stale.html.contains(r#"<option value="pending" selected>"#));
    assert!(stale.html.contains(r#"name="version" value="2""#));
    let now = app
        .get(&t.agent, &format!("/api/v1/cases/{case}"))
        .await
        .body;
    assert_eq!(now["priority"], "urgent");
    assert_eq!(now["status"], "new");
    // Sent again from the fresh form, it lands.
    let again = agent
        .post(
            &format!("/cases/{case}/update"),
            &[
                ("version", "2"),
                ("status", "pending"),
                ("tags", "waiting-on-logs"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.html);
    let now = app
        .get(&t.agent, &format!("/api/v1/cases/{case}"))
        .await
        .body;
    assert_eq!(now["status"], "pending");
    assert_eq!(now["priority"], "urgent");
}

async fn article_edits_never_overwrite_a_newer_revision(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let created = app
        .post(
            &t.agent,
            "/api/v1/articles",
            json!({"title": "Printer offline", "issue": "The printer shows offline",
                   "resolution": "Restart the spooler", "state": "draft", "audience": "internal"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{id}");
    let first = etag_of(&app, &t.agent, &path).await;
    assert_eq!(first, "\"1\"");
    // Two people change different fields at once without preconditions: both edits land,
    // each merged over the revision the other wrote.
    let (a, b) = tokio::join!(
        app.patch(&t.agent, &path, json!({"cause": "A stuck queue"})),
        app.patch(&t.admin, &path, json!({"environment": "Windows 11"})),
    );
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(b.status, StatusCode::OK, "{}", b.body);
    let now = app.get(&t.agent, &path).await.body;
    assert_eq!(now["cause"], "A stuck queue");
    assert_eq!(now["environment"], "Windows 11");
    assert_eq!(now["revision"], 3);
    // An edit made against the first revision is refused and changes nothing.
    let (status, _, body) = patch_if_match(
        &app,
        &t.agent,
        &path,
        Some(&first),
        json!({"title": "Old view"}),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"]["code"], "stale");
    assert_eq!(
        app.get(&t.agent, &path).await.body["title"],
        "Printer offline"
    );
    let (status, etag, _) = patch_if_match(
        &app,
        &t.agent,
        &path,
        Some("\"3\""),
        json!({"title": "Printer shows offline"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etag.as_deref(), Some("\"4\""));
    // The edit page carries its revision; saved after someone else's edit, it says so and
    // keeps the text.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let form = agent.get(&format!("/articles/{id}/edit")).await;
    assert!(
        form.html.contains(r#"name="revision" value="4""#),
        "{}",
        form.html
    );
    let moved = app
        .patch(&t.admin, &path, json!({"resolution": "Clear the queue"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    let stale = agent
        .post(
            &format!("/articles/{id}/edit"),
            &[
                ("revision", "4"),
                ("title", "Printer shows offline"),
                ("issue", "The printer shows offline"),
                ("resolution", "Restart the print spooler service"),
                ("state", "draft"),
                ("audience", "internal"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.html);
    assert!(stale.html.contains("changed while you were editing"));
    assert!(stale.html.contains("Restart the print spooler service"));
    assert!(stale.html.contains(r#"name="revision" value="5""#));
    assert_eq!(
        app.get(&t.agent, &path).await.body["resolution"],
        "Clear the queue"
    );
}

async fn settings_are_changed_by_admins_and_the_agents_they_allow(backend: Backend) {
    use reqwest::Method;
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let agent_id = app.agent_id;
    // Every settings endpoint, each with a body it would take from someone allowed.
    let endpoints: Vec<(Method, String, serde_json::Value)> = vec![
        (
            Method::POST,
            "/api/v1/services".into(),
            json!({"slug": "vault", "name": "Vault", "kind": "service", "group": "cloud"}),
        ),
        (
            Method::PUT,
            "/api/v1/services/vault/customers".into(),
            json!({"organizations": ["initech"]}),
        ),
        (
            Method::PUT,
            "/api/v1/roster".into(),
            json!([{"role": "operations", "name": "Ops", "email": "ops@vendor.example"}]),
        ),
        (
            Method::PUT,
            "/api/v1/templates/alert".into(),
            json!({"subject": "Alert: {{title}}", "body": "{{message}}"}),
        ),
        (
            Method::POST,
            "/api/v1/queues".into(),
            json!({"slug": "l2", "name": "Tier 2", "model": "tiered", "tier": 2}),
        ),
        (
            Method::PUT,
            format!("/api/v1/queues/l2/members/{agent_id}"),
            json!({"skills": ["vault"]}),
        ),
        (
            Method::POST,
            "/api/v1/routing/order".into(),
            json!({"ids": []}),
        ),
        (
            Method::POST,
            "/api/v1/routing/rules".into(),
            json!({"name": "Vault to L2", "conditions": [{"field": "words", "any_of": ["vault"]}], "actions": {"queue": "l2"}}),
        ),
        (
            Method::POST,
            "/api/v1/sla/policies".into(),
            json!({"name": "Standard", "first_reply_minutes": 240}),
        ),
        (
            Method::POST,
            "/api/v1/sla/calendars".into(),
            json!({"name": "Office", "spec": {"time_zone": "Europe/Berlin", "hours": [{"day": "mon", "start": "09:00", "end": "17:00"}], "holidays": []}}),
        ),
        (
            Method::POST,
            "/api/v1/courses".into(),
            json!({"product": "Vault", "release": "1.0", "title": "Vault basics", "questions": [{"text": "Where are keys kept?", "choices": ["In the vault", "On paper"], "correct": 0}], "pass_mark": 100}),
        ),
    ];
    // Agents not allowed, partners and customers are refused before anything is read.
    for token in [&t.agent, &t.acme, &t.initech] {
        for (method, path, body) in &endpoints {
            let r = app
                .request(method.clone(), Some(token), path, Some(body.clone()))
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                r.body
            );
            assert_eq!(r.code(), "forbidden");
        }
    }
    assert!(app.get(&t.admin, "/api/v1/services").await.body["services"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(app.get(&t.admin, "/api/v1/queues").await.body["queues"]
        .as_array()
        .unwrap()
        .is_empty());
    // Only an admin grants it, and only to an agent.
    let path = format!("/api/v1/users/{agent_id}/settings-permission");
    let by_agent = app.put(&t.agent, &path, json!({"allowed": true})).await;
    assert_eq!(by_agent.status, StatusCode::FORBIDDEN);
    let me = app.get(&t.admin, "/api/v1/users/me").await.body;
    let to_admin = app
        .put(
            &t.admin,
            &format!("/api/v1/users/{}/settings-permission", me["id"]),
            json!({"allowed": true}),
        )
        .await;
    assert_eq!(
        to_admin.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        to_admin.body
    );
    let customer = app.get(&t.initech, "/api/v1/users/me").await.body;
    let to_customer = app
        .put(
            &t.admin,
            &format!("/api/v1/users/{}/settings-permission", customer["id"]),
            json!({"allowed": true}),
        )
        .await;
    assert_eq!(to_customer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .put(
            &t.admin,
            "/api/v1/users/999999/settings-permission",
            json!({"allowed": true}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let granted = app.put(&t.admin, &path, json!({"allowed": true})).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.body["may_change_settings"], true);
    // The allowed agent now changes every setting, at once (the cached token is forgotten).
    for (method, path, body) in &endpoints {
        let r = app
            .request(method.clone(), Some(&t.agent), path, Some(body.clone()))
            .await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
    }
    // The pages follow: the routing page offers the forms to the allowed agent only.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    assert!(agent.get("/routing").await.html.contains("Add rule"));
    let withdrawn = app.put(&t.admin, &path, json!({"allowed": false})).await;
    assert_eq!(withdrawn.body["may_change_settings"], false);
    let page = agent.get("/routing").await;
    assert!(
        !page.html.contains("Add rule") && page.html.contains("Vault to L2"),
        "{}",
        page.html
    );
    assert!(!agent.get("/queues").await.html.contains("Create queue"));
    let templates = agent.get("/incidents/templates").await.html;
    assert!(
        !templates.contains(r#"action="/incidents/templates/alert""#)
            && templates.contains("Editing templates is for admins"),
        "{templates}"
    );
    let refused = agent
        .post(
            "/routing",
            &[(
                "definition",
                r#"{"name": "x", "conditions": [], "actions": {"tier": 2}}"#,
            )],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = agent
        .post(
            "/incidents/roster",
            &[("lines", "operations, Me, me@vendor.example")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let r = app.put(&t.agent, "/api/v1/roster", json!([])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Admins grant it on the team page; agents cannot open it.
    assert_eq!(agent.get("/team").await.status, StatusCode::FORBIDDEN);
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let team = admin.get("/team").await;
    assert!(team.html.contains("Allow agent"), "{}", team.html);
    let done = admin
        .post(
            &format!("/team/{agent_id}/settings"),
            &[("allowed", "true")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(admin
        .get("/team")
        .await
        .html
        .contains("Withdraw from agent"));
    assert!(agent.get("/routing").await.html.contains("Add rule"));
}
