//! The help centre over the real router on both databases: what anonymous and signed-in readers
//! see, categories and sections, votes, search and suggestions, the sitemap, partners' branded
//! centres, who may arrange any of it, and deflection from help-centre visits.

mod common;

use backline_domain::Span;
use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    anonymous_readers_see_only_public_validated_articles,
    signed_in_readers_see_what_they_may_and_customers_are_sent_to_the_help_centre,
    search_tolerates_typos_and_suggests_as_one_types,
    categories_and_sections_are_arranged_by_staff_only,
    votes_are_counted_per_article,
    a_partner_branded_centre_shows_its_brand_and_the_articles_its_agreement_allows,
    only_staff_and_the_partner_itself_set_a_brand,
    help_centre_visits_without_a_case_count_as_deflected,
    staff_arrange_the_help_centre_with_forms,
);

async fn article(app: &TestApp, title: &str, audience: &str, state: &str) -> i64 {
    let body = json!({"title": title, "issue": format!("{title}: what people see when it happens"),
        "resolution": "Restart the agent, then run the check again.", "state": state,
        "audience": audience, "products": ["Backup"]});
    let reply = app.post(&app.tokens.agent, "/api/v1/articles", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

/// A page as a browser without a session gets it, redirects not followed.
async fn anonymous(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn anonymous_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}{path}", app.base))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn redirect_of(browser: &Browser, path: &str) -> (StatusCode, String) {
    let response = browser
        .client
        .get(format!("{}{path}", browser.base))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status(), location)
}

async fn anonymous_readers_see_only_public_validated_articles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let public = article(&app, "Backup stalls at 99 percent", "public", "validated").await;
    let partners = article(&app, "Partner escalation runbook", "partners", "validated").await;
    let internal = article(
        &app,
        "Internal database failover notes",
        "internal",
        "validated",
    )
    .await;
    let draft = article(&app, "Draft about quota warnings", "public", "draft").await;
    let unvalidated = article(
        &app,
        "Unchecked tip for restores",
        "public",
        "not_validated",
    )
    .await;

    let (status, headers, html) = anonymous(&app, "/help").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.contains("Backup stalls at 99 percent"), "{html}");
    for hidden in [
        "Partner escalation runbook",
        "Internal database failover notes",
        "Draft about quota warnings",
        "Unchecked tip for restores",
    ] {
        assert!(!html.contains(hidden), "{hidden} on the public front page");
    }
    assert!(html.contains(&format!(
        "href=\"/help/articles/{public}-backup-stalls-at-99-percent\""
    )));

    // The article page: clean address, title, description, last updated, the vote form.
    let path = format!("/help/articles/{public}-backup-stalls-at-99-percent");
    let (status, _, html) = anonymous(&app, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<title>Backup stalls at 99 percent · Help centre</title>"),
        "{html}"
    );
    assert!(html.contains(
        "<meta name=\"description\" content=\"Backup stalls at 99 percent: what people see when it happens\">"
    ), "{html}");
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"{path}\">")));
    assert!(html.contains("Last updated"));
    assert!(html.contains("Was this helpful?"));
    assert!(html.contains("Restart the agent"));
    // An old or missing slug is sent, permanently, to the one address.
    for stale in [
        format!("/help/articles/{public}"),
        format!("/help/articles/{public}-old-title"),
    ] {
        let (status, headers, _) = anonymous(&app, &stale).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT, "{stale}");
        assert_eq!(headers["location"], path.as_str());
    }
    // Everything else is a 404, as if it did not exist.
    for id in [partners, internal, draft, unvalidated, 999_999] {
        let (status, _, html) = anonymous(&app, &format!("/help/articles/{id}-x")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "article {id}: {html}");
        assert!(!html.contains("Restart the agent"));
    }
    let (status, _, _) = anonymous(&app, "/help/articles/not-a-number").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The sitemap lists the public article only, with the public address.
    let (status, headers, xml) = anonymous(&app, "/help/sitemap.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    assert!(xml.contains(&format!("{path}</loc>")), "{xml}");
    assert_eq!(
        xml.matches("<url>").count(),
        2,
        "the front page and one article: {xml}"
    );
    for id in [partners, internal, draft, unvalidated] {
        assert!(!xml.contains(&format!("/help/articles/{id}-")), "{xml}");
    }
}

async fn signed_in_readers_see_what_they_may_and_customers_are_sent_to_the_help_centre(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let public = article(&app, "Restore a single file", "public", "validated").await;
    let partners = article(&app, "Reading the agent debug log", "partners", "validated").await;
    let internal = article(
        &app,
        "Failover checklist for staff",
        "internal",
        "validated",
    )
    .await;

    let acme = Browser::sign_in(&app, "tech@acme.example").await;
    let page = acme.get("/help").await;
    assert!(page.html.contains("Restore a single file"));
    assert!(
        page.html.contains("Reading the agent debug log"),
        "partners read partner articles"
    );
    assert!(!page.html.contains("Failover checklist for staff"));
    assert_eq!(
        acme.get(&format!("/help/articles/{partners}")).await.status,
        StatusCode::PERMANENT_REDIRECT
    );
    let page = acme
        .get(&format!(
            "/help/articles/{partners}-reading-the-agent-debug-log"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        acme.get(&format!("/help/articles/{internal}-x"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let initech = Browser::sign_in(&app, "user@initech.example").await;
    let page = initech.get("/help").await;
    assert!(page.html.contains("Restore a single file"));
    assert!(!page.html.contains("Reading the agent debug log"));
    assert_eq!(
        initech
            .get(&format!(
                "/help/articles/{partners}-reading-the-agent-debug-log"
            ))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        initech
            .get(&format!("/help/articles/{public}-restore-a-single-file"))
            .await
            .status,
        StatusCode::OK
    );

    // Customers and partners opening the staff's article table are sent to the help centre;
    // staff keep the table.
    assert_eq!(
        redirect_of(&initech, "/articles").await,
        (StatusCode::SEE_OTHER, "/help".to_string())
    );
    assert_eq!(
        redirect_of(&acme, "/articles").await,
        (StatusCode::SEE_OTHER, "/help".to_string())
    );
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get("/articles").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Failover checklist for staff"));
    // Staff in the help centre see what is published outside, not internal articles.
    let page = agent.get("/help").await;
    assert!(page.html.contains("Reading the agent debug log"));
    assert!(!page.html.contains("Failover checklist for staff"));
}

async fn search_tolerates_typos_and_suggests_as_one_types(backend: Backend) {
    let app = TestApp::start(backend).await;
    let public = article(
        &app,
        "Certificate expired on the gateway",
        "public",
        "validated",
    )
    .await;
    article(
        &app,
        "Certificate rotation for partners",
        "partners",
        "validated",
    )
    .await;
    article(
        &app,
        "Certificate authority internals",
        "internal",
        "validated",
    )
    .await;
    app.settle_index().await;

    // A typo still finds the word meant; only what an anonymous reader may see.
    let (status, _, html) = anonymous(&app, "/help/search?q=expird+gatway").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "/help/articles/{public}-certificate-expired-on-the-gateway"
        )),
        "{html}"
    );
    let (_, _, html) = anonymous(&app, "/help/search?q=certificate").await;
    assert!(
        html.contains("Certificate expired on the gateway"),
        "{html}"
    );
    assert!(
        !html.contains("Certificate rotation for partners"),
        "{html}"
    );
    assert!(!html.contains("Certificate authority internals"), "{html}");
    assert!(html.contains("1 article for"), "{html}");
    // The query language's filters are plain words here, not an error.
    let (status, _, html) = anonymous(&app, "/help/search?q=status%3Aopen+%22x").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nothing found"), "{html}");

    // Suggestions: JSON for the script, an unfinished last word included.
    let reply = app
        .request(
            reqwest::Method::GET,
            None,
            "/help/suggest?q=gateway+certif",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"suggestions": [{"title": "Certificate expired on the gateway",
            "href": format!("/help/articles/{public}-certificate-expired-on-the-gateway")}]})
    );
    let reply = app
        .request(reqwest::Method::GET, None, "/help/suggest?q=cert", None)
        .await;
    let titles: Vec<&str> = reply.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Certificate expired on the gateway"]);
    // A partner technician's suggestions hold partner articles too.
    let acme = Browser::sign_in(&app, "tech@acme.example").await;
    let page = acme.get("/help/suggest?q=certificate").await;
    assert!(
        page.html.contains("Certificate rotation for partners"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("internals"));
    // The script that asks is served from the site (no inline script).
    let (status, headers, js) = anonymous(&app, "/assets/help.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.contains("dataset.suggest"));
}

async fn categories_and_sections_are_arranged_by_staff_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let first = article(&app, "Install the agent on Linux", "public", "validated").await;
    let second = article(&app, "Uninstall the agent", "public", "validated").await;

    // Refusals first: nothing is stored by any of them.
    for token in [&t.globex, &t.acme, &t.initech] {
        let reply = app
            .post(token, "/api/v1/help/categories", json!({"name": "Setup"}))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/categories",
            json!({"name": " ", "slug": "Not A Slug"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body["error"]["fields"]["name"].is_string(),
        "{}",
        reply.body
    );
    assert!(
        reply.body["error"]["fields"]["slug"].is_string(),
        "{}",
        reply.body
    );
    let reply = app
        .request(
            reqwest::Method::POST,
            None,
            "/api/v1/help/categories",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let listed = app.get(&t.globex, "/api/v1/help/categories").await;
    assert_eq!(listed.body, json!({"categories": []}));

    let reply = app
        .post(
            &t.agent,
            "/api/v1/help/categories",
            json!({"name": "Getting started", "description": "Install and first steps"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["slug"], "getting-started");
    let category = reply.body["id"].as_i64().unwrap();
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/categories",
            json!({"name": "Again", "slug": "getting-started"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "slug_taken");

    let reply = app
        .post(
            &t.acme,
            "/api/v1/help/sections",
            json!({"category_id": category, "name": "Linux"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/sections",
            json!({"category_id": 999, "name": ""}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["error"]["fields"]["category_id"].is_string());
    assert!(reply.body["error"]["fields"]["name"].is_string());
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/sections",
            json!({"category_id": category, "name": "Linux"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let section = reply.body["id"].as_i64().unwrap();

    let place = |id: i64| format!("/api/v1/help/articles/{id}/placement");
    let reply = app
        .put(
            &t.globex,
            &place(first),
            json!({"section_id": section, "partner": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .put(
            &t.admin,
            &place(first),
            json!({"section_id": 4242, "partner": "nobody"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["error"]["fields"]["section_id"].is_string());
    assert!(reply.body["error"]["fields"]["partner"].is_string());
    let reply = app
        .put(
            &t.admin,
            &place(999_999),
            json!({"section_id": section, "partner": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    for id in [first, second] {
        let reply = app
            .put(
                &t.admin,
                &place(id),
                json!({"section_id": section, "partner": null}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body,
            json!({"article_id": id, "section_id": section, "partner": null})
        );
    }

    let listed = app.get(&t.globex, "/api/v1/help/categories").await;
    assert_eq!(listed.body["categories"][0]["sections"][0]["name"], "Linux");
    let (_, _, html) = anonymous(&app, "/help").await;
    assert!(
        html.contains("href=\"/help/categories/getting-started\""),
        "{html}"
    );
    let (status, _, html) = anonymous(&app, "/help/categories/getting-started").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h2>Linux</h2>"), "{html}");
    assert!(html.contains("Install the agent on Linux") && html.contains("Uninstall the agent"));
    let (status, _, _) = anonymous(&app, "/help/categories/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The article shows where it sits, and its section's other article as related.
    let (_, _, html) = anonymous(
        &app,
        &format!("/help/articles/{first}-install-the-agent-on-linux"),
    )
    .await;
    assert!(html.contains("Getting started") && html.contains("Linux"));
    assert!(html.contains("Related articles"), "{html}");
    assert!(
        html.contains(&format!("/help/articles/{second}-uninstall-the-agent")),
        "{html}"
    );
}

async fn votes_are_counted_per_article(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = article(&app, "Resize the backup volume", "public", "validated").await;
    let other = article(&app, "Schedule weekly backups", "public", "validated").await;
    let partners = article(&app, "Partner pricing of storage", "partners", "validated").await;
    let path = format!("/help/articles/{id}-resize-the-backup-volume");

    let (status, _) = anonymous_post(&app, &format!("{path}/vote"), &[("helpful", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    anonymous_post(
        &app,
        &format!("{path}/vote"),
        &[("helpful", "yes"), ("comment", "Worked")],
    )
    .await;
    anonymous_post(&app, &format!("{path}/vote"), &[("helpful", "no")]).await;
    // A signed-in reader counts once: a second answer replaces the first.
    let initech = Browser::sign_in(&app, "user@initech.example").await;
    let page = initech
        .post(&format!("{path}/vote"), &[("helpful", "yes")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    initech
        .post(
            &format!("{path}/vote"),
            &[("helpful", "no"), ("comment", "Missing a step")],
        )
        .await;
    // Refused: a signed-in form without its token; no answer; a comment too long (shown
    // again with what was typed); an article the reader may not see.
    let page = initech
        .post(
            &format!("{path}/vote"),
            &[("helpful", "yes"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let (status, _) = anonymous_post(&app, &format!("{path}/vote"), &[("helpful", "maybe")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let long = format!("kept words {}", "x".repeat(2_000));
    let (status, html) = anonymous_post(
        &app,
        &format!("{path}/vote"),
        &[("helpful", "yes"), ("comment", &long)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("kept words xxx"), "what was typed is kept");
    assert!(html.contains("Must be at most 2000 characters."), "{html}");
    let (status, _) = anonymous_post(
        &app,
        &format!("/help/articles/{partners}-x/vote"),
        &[("helpful", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let votes = app
        .get(&t.agent, &format!("/api/v1/help/articles/{id}/helpfulness"))
        .await;
    assert_eq!(votes.status, StatusCode::OK);
    assert_eq!(
        votes.body,
        json!({"article_id": id, "yes": 2, "no": 2, "percent_yes": 50})
    );
    let untouched = app
        .get(
            &t.agent,
            &format!("/api/v1/help/articles/{other}/helpfulness"),
        )
        .await;
    assert_eq!(
        untouched.body,
        json!({"article_id": other, "yes": 0, "no": 0, "percent_yes": null})
    );
    let partner_votes = app
        .get(
            &t.agent,
            &format!("/api/v1/help/articles/{partners}/helpfulness"),
        )
        .await;
    assert_eq!(partner_votes.body["yes"], 0);
    for token in [&t.globex, &t.acme] {
        let reply = app
            .get(token, &format!("/api/v1/help/articles/{id}/helpfulness"))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let (_, _, html) = anonymous(&app, &path).await;
    assert!(html.contains("2 of 4 found this helpful."), "{html}");
    let (_, _, html) = anonymous(&app, &format!("{path}?voted=1")).await;
    assert!(html.contains("Thank you"));
    // Anonymous answers from one address are limited: twenty an hour (three were counted
    // above; refused forms are not), then a wait; the figures stop moving.
    let vote_other = format!("/help/articles/{other}-x/vote");
    let mut accepted = 0;
    let refusal = loop {
        let (status, html) = anonymous_post(&app, &vote_other, &[("helpful", "no")]).await;
        if status != StatusCode::SEE_OTHER {
            break (status, html);
        }
        accepted += 1;
        assert!(accepted <= 20, "never limited");
    };
    assert_eq!(accepted, 17);
    assert_eq!(refusal.0, StatusCode::TOO_MANY_REQUESTS, "{}", refusal.1);
    assert!(
        refusal.1.contains("Too many answers from here"),
        "{}",
        refusal.1
    );
    let counted = app
        .get(
            &t.agent,
            &format!("/api/v1/help/articles/{other}/helpfulness"),
        )
        .await;
    assert_eq!(counted.body["no"], 17);
    // An hour later it is open again.
    app.state.clock.advance(Span::HOUR.times(2));
    let (status, _) = anonymous_post(&app, &vote_other, &[("helpful", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn put_agreement(app: &TestApp, slug: &str, extra: Value) {
    let mut base = json!({
        "customer_owner": "partner", "billing_owner": "partner",
        "troubleshooting_checklist": [], "vanilla_reproduction_required": false,
        "customers_see_vendor_kb": true, "vendor_direct_contact": "with_permission",
        "updates_distributed_by": "partner", "required_certified_technicians": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    let reply = app
        .put(
            &app.tokens.admin,
            &format!("/api/v1/partners/{slug}/agreement"),
            base,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

fn acme_brand() -> Value {
    json!({"name": "Acme Support", "logo_url": "https://acme.example/logo.png",
           "colour": "#12345A", "accent": "#ffffff"})
}

async fn a_partner_branded_centre_shows_its_brand_and_the_articles_its_agreement_allows(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let vendor = article(&app, "Vendor guide to snapshots", "public", "validated").await;
    let vendor_partners = article(&app, "Vendor notes for partners", "partners", "validated").await;
    let own = article(&app, "Acme phone support hours", "public", "validated").await;
    let own_inside = article(
        &app,
        "Acme internal escalation tree",
        "partners",
        "validated",
    )
    .await;
    for id in [own, own_inside] {
        let reply = app
            .put(
                &t.admin,
                &format!("/api/v1/help/articles/{id}/placement"),
                json!({"section_id": null, "partner": "acme"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // No brand yet: no such centre.
    assert_eq!(
        anonymous(&app, "/help/p/acme").await.0,
        StatusCode::NOT_FOUND
    );
    let reply = app
        .put(&t.admin, "/api/v1/help/brands/acme", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["colour"], "#12345a");
    assert_eq!(reply.body["url"], "/help/p/acme");

    let (status, headers, html) = anonymous(&app, "/help/p/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<title>Help · Acme Support</title>"),
        "{html}"
    );
    assert!(
        html.contains("header.top.help-top { background: #12345a; color: #ffffff; }"),
        "{html}"
    );
    assert!(html.contains("src=\"https://acme.example/logo.png\""));
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("img-src 'self' data: https:"));
    assert!(
        html.contains(&format!(
            "/help/p/acme/articles/{vendor}-vendor-guide-to-snapshots"
        )),
        "{html}"
    );
    assert!(html.contains(&format!(
        "/help/p/acme/articles/{own}-acme-phone-support-hours"
    )));
    assert!(!html.contains("Acme internal escalation tree"));
    assert!(!html.contains("Vendor notes for partners"));
    assert!(html.contains("action=\"/help/p/acme/search\""));
    // The partner's own articles are its own: not in the vendor's centre, not elsewhere.
    let (_, _, html) = anonymous(&app, "/help").await;
    assert!(html.contains("Vendor guide to snapshots"));
    assert!(!html.contains("Acme phone support hours"), "{html}");
    assert_eq!(
        anonymous(&app, &format!("/help/articles/{own}-x")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _, html) = anonymous(
        &app,
        &format!("/help/p/acme/articles/{own}-acme-phone-support-hours"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Acme phone support hours · Acme Support"));
    assert_eq!(
        anonymous(&app, &format!("/help/p/acme/articles/{own_inside}-x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Its own technicians read its partner-only articles there; another partner's do not.
    let acme = Browser::sign_in(&app, "tech@acme.example").await;
    let page = acme.get("/help/p/acme").await;
    assert!(page.html.contains("Acme internal escalation tree"));
    assert!(page.html.contains("Vendor notes for partners"));
    let other = Browser::sign_in(&app, "tech@other.example").await;
    let page = other.get("/help/p/acme").await;
    assert!(!page.html.contains("Acme internal escalation tree"));
    assert_eq!(
        other
            .get(&format!("/help/p/acme/articles/{own_inside}-x"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Its customers, and its technicians, are sent to it.
    let globex = Browser::sign_in(&app, "user@globex.example").await;
    assert_eq!(redirect_of(&globex, "/articles").await.1, "/help/p/acme");
    assert_eq!(redirect_of(&acme, "/articles").await.1, "/help/p/acme");
    let initech = Browser::sign_in(&app, "user@initech.example").await;
    assert_eq!(redirect_of(&initech, "/articles").await.1, "/help");
    // A centre for a partner without a brand, or no partner at all, does not exist.
    assert_eq!(
        anonymous(&app, "/help/p/other").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anonymous(&app, "/help/p/globex").await.0,
        StatusCode::NOT_FOUND
    );

    // The agreement withholds the vendor's knowledge from its customers: only its own remain.
    put_agreement(&app, "acme", json!({"customers_see_vendor_kb": false})).await;
    let (_, _, html) = anonymous(&app, "/help/p/acme").await;
    assert!(!html.contains("Vendor guide to snapshots"), "{html}");
    assert!(html.contains("Acme phone support hours"));
    assert_eq!(
        anonymous(&app, &format!("/help/p/acme/articles/{vendor}-x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // The agreement gives the customer to the vendor: the branded centre goes.
    put_agreement(&app, "acme", json!({"customer_owner": "vendor"})).await;
    assert_eq!(
        anonymous(&app, "/help/p/acme").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(redirect_of(&globex, "/articles").await.1, "/help");
    let (_, _, xml) = anonymous(&app, "/help/sitemap.xml").await;
    assert!(!xml.contains("/help/p/acme"), "{xml}");
    let _ = vendor_partners;
}

async fn only_staff_and_the_partner_itself_set_a_brand(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    // Another partner's technician: as if the partner did not exist. A customer: refused.
    let reply = app
        .put(&t.other, "/api/v1/help/brands/acme", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .put(&t.globex, "/api/v1/help/brands/acme", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Not a partner, or no such organisation.
    let reply = app
        .put(&t.admin, "/api/v1/help/brands/globex", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Every bad field at once.
    let reply = app
        .put(&t.acme, "/api/v1/help/brands/acme",
            json!({"name": "", "logo_url": "javascript:alert(1)", "colour": "red", "accent": "#fff"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["name", "logo_url", "colour", "accent"] {
        assert!(
            reply.body["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    assert_eq!(
        anonymous(&app, "/help/p/acme").await.0,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
    // The partner itself may.
    let reply = app
        .put(&t.acme, "/api/v1/help/brands/acme", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // A partner whose agreement leaves the customer with the vendor gets no brand.
    put_agreement(&app, "other", json!({"customer_owner": "vendor"})).await;
    let reply = app
        .put(&t.admin, "/api/v1/help/brands/other", acme_brand())
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "brand_not_allowed");
    assert_eq!(
        anonymous(&app, "/help/p/other").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn help_centre_visits_without_a_case_count_as_deflected(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = article(&app, "Backup window too short", "public", "validated").await;
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/categories",
            json!({"name": "Backups"}),
        )
        .await;
    let category = reply.body["id"].as_i64().unwrap();
    let reply = app
        .post(
            &t.admin,
            "/api/v1/help/sections",
            json!({"category_id": category, "name": "Timing"}),
        )
        .await;
    let section = reply.body["id"].as_i64().unwrap();
    app.put(
        &t.admin,
        &format!("/api/v1/help/articles/{id}/placement"),
        json!({"section_id": section, "partner": null}),
    )
    .await;
    app.settle_index().await;
    let path = format!("/help/articles/{id}-backup-window-too-short");

    // Globex reads and leaves; Initech reads, searches and files a case; anonymous readers and
    // staff are not counted.
    let globex = Browser::sign_in(&app, "user@globex.example").await;
    assert_eq!(globex.get(&path).await.status, StatusCode::OK);
    let initech = Browser::sign_in(&app, "user@initech.example").await;
    assert_eq!(initech.get(&path).await.status, StatusCode::OK);
    assert_eq!(
        initech.get("/help/search?q=backup+window").await.status,
        StatusCode::OK
    );
    app.file_case(
        &t.initech,
        json!({"subject": "Backups still too slow", "description": "Tried the article"}),
    )
    .await;
    anonymous(&app, &path).await;
    Browser::sign_in(&app, "agent@vendor.example")
        .await
        .get(&path)
        .await;

    // Within the window nothing is deflected yet.
    let reply = app.get(&t.admin, "/api/v1/deflections").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let help = &reply.body["help_centre"];
    assert_eq!(help["article_views"], 2, "{help}");
    assert_eq!(help["searches"], 1);
    assert_eq!(help["deflected"], 0);

    // A day later: Globex's view is deflected; Initech's view and search were followed by a case.
    app.state.clock.advance(Span::from_millis(
        Span::DAY.as_millis() + Span::MINUTE.times(5).as_millis(),
    ));
    let reply = app.get(&t.admin, "/api/v1/deflections").await;
    let help = &reply.body["help_centre"];
    assert_eq!(help["deflected"], 1, "{help}");
    assert_eq!(
        help["by_article"],
        json!([{"id": id, "name": "Backup window too short", "visits": 2, "deflected": 1}])
    );
    assert_eq!(
        help["by_category"],
        json!([{"id": category, "name": "Backups", "visits": 2, "deflected": 1}])
    );
    // The same figures on the knowledge page, for staff.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get("/articles").await;
    assert!(
        page.html.contains("Help centre, last 30 days"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("<strong class=\"deflected\">1</strong> were followed"),
        "{}",
        page.html
    );
    // Deflection figures are for staff.
    let reply = app.get(&t.acme, "/api/v1/deflections").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

async fn staff_arrange_the_help_centre_with_forms(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = article(
        &app,
        "Move the catalogue to new storage",
        "public",
        "validated",
    )
    .await;
    // Customers and partners are refused the page and its forms.
    for email in ["user@initech.example", "tech@acme.example"] {
        let outsider = Browser::sign_in(&app, email).await;
        assert_eq!(
            outsider.get("/help/manage").await.status,
            StatusCode::FORBIDDEN
        );
        let page = outsider
            .post("/help/manage/categories", &[("name", "Sneaky")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get("/help/manage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Arrange the help centre"));
    // A refused form comes back with what was typed and each problem beside its field.
    let page = agent
        .post(
            "/help/manage/categories",
            &[("name", ""), ("slug", "Bad Slug"), ("position", "first")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("value=\"Bad Slug\""), "{}", page.html);
    assert!(
        page.html.contains("Must be a whole number."),
        "{}",
        page.html
    );
    let page = agent
        .post(
            "/help/manage/categories",
            &[("name", "Storage"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&t.agent, "/api/v1/help/categories").await.body,
        json!({"categories": []})
    );

    let page = agent
        .post(
            "/help/manage/categories",
            &[("name", "Storage"), ("description", "Disks and volumes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let categories = app.get(&t.agent, "/api/v1/help/categories").await.body;
    let category = categories["categories"][0]["id"].as_i64().unwrap();
    let page = agent
        .post(
            "/help/manage/categories",
            &[("name", "Storage again"), ("slug", "storage")],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.html.contains("already exists"), "{}", page.html);
    let page = agent
        .post(
            "/help/manage/sections",
            &[
                ("category_id", &category.to_string()),
                ("name", "Moving data"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let categories = app.get(&t.agent, "/api/v1/help/categories").await.body;
    let section = categories["categories"][0]["sections"][0]["id"]
        .as_i64()
        .unwrap();
    let page = agent
        .post(
            "/help/manage/placements",
            &[
                ("article_id", "999999"),
                ("section_id", &section.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("No article has this number."));
    let page = agent
        .post(
            "/help/manage/placements",
            &[
                ("article_id", &id.to_string()),
                ("section_id", &section.to_string()),
                ("partner", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let (_, _, html) = anonymous(&app, "/help/categories/storage").await;
    assert!(html.contains("Move the catalogue to new storage"), "{html}");
    let page = agent
        .post(
            "/help/manage/brands",
            &[
                ("partner", "acme"),
                ("name", "Acme Help"),
                ("colour", "#000000"),
                ("accent", "#ffffff"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(anonymous(&app, "/help/p/acme")
        .await
        .2
        .contains("Acme Help"));
}
