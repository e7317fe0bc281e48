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
