//! Categories, auto-categorisation and the Insights dashboards over the real router on both
//! databases: the category tree and who may change it, suggestions learned from categorised
//! cases (and kept across a restart), corrections that feed the next fit, dashboard figures
//! against hand counts, CSV against the API, and customers and partners kept out.

mod common;

use backline_domain::rollups::{encode, Day, Family};
use backline_domain::{Span, Timestamp};
use backline_server::analytics::service::{
    self, BacklogReport, DeflectionReport, DriversReport, FilterInput, OutcomeReport, TimesBy,
    TimesRow, VolumeReport,
};
use backline_server::application::{Application, Config as ServerConfig};
use backline_store::analytics::Dimension;
use backline_store::testing::execute_raw;
use backline_store::testing::replace_rollup;
use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    categories_are_a_tree_that_only_admins_change,
    suggestions_come_from_categorised_cases_and_survive_a_restart,
    a_correction_is_kept_and_used_by_the_next_fit,
    dashboards_match_hand_counts_and_csv_matches_the_api,
    the_categories_page_keeps_a_refused_form_and_only_admins_change,
    enough_new_labels_make_it_learn_again_unasked,
    reply_times_are_exact_percentiles_and_follow_a_merge,
    dashboards_from_rollups_are_the_figures_of_every_case,
);

async fn category(app: &TestApp, name: &str, parent: Option<i64>) -> i64 {
    let reply = app
        .post(
            &app.tokens.admin,
            "/api/v1/categories",
            json!({"name": name, "parent_id": parent}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn categories(app: &TestApp) -> Vec<Value> {
    let reply = app.get(&app.tokens.agent, "/api/v1/categories").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["categories"].as_array().unwrap().clone()
}

async fn set_category(app: &TestApp, case: i64, category: Option<i64>) -> Value {
    let reply = app
        .put(
            &app.tokens.agent,
            &format!("/api/v1/cases/{case}/category"),
            json!({ "category_id": category }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn categories_are_a_tree_that_only_admins_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let sync = category(&app, "Sync", None).await;
    let desktop = category(&app, "Desktop app", Some(sync)).await;
    let conflicts = category(&app, "Conflicts", Some(desktop)).await;
    let billing = category(&app, "Billing", None).await;
    let list = categories(&app).await;
    let paths: Vec<&str> = list.iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "Billing",
            "Sync",
            "Sync › Desktop app",
            "Sync › Desktop app › Conflicts"
        ]
    );
    assert_eq!(list[3]["depth"], 2);

    // Rename and move in one step.
    let reply = app
        .put(
            &t.admin,
            &format!("/api/v1/categories/{conflicts}"),
            json!({"name": "Sync conflicts", "parent_id": sync}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["path"], "Sync › Sync conflicts");

    // Refusals name the field and store nothing.
    let before = categories(&app).await;
    for (body, field) in [
        (json!({"name": "Sync", "parent_id": desktop}), "parent_id"),
        (json!({"name": "   ", "parent_id": null}), "name"),
    ] {
        let path = if field == "parent_id" && body["name"] == "Sync" {
            format!("/api/v1/categories/{sync}")
        } else {
            "/api/v1/categories".to_string()
        };
        let reply = if path.ends_with("categories") {
            app.post(&t.admin, &path, body.clone()).await
        } else {
            app.put(&t.admin, &path, body.clone()).await
        };
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} {}",
            reply.body
        );
        if field == "parent_id" && body["name"] == "Sync" {
            assert!(reply.body["error"]["fields"]["parent_id"]
                .as_str()
                .unwrap()
                .contains("under itself"));
        } else if field == "name" {
            assert!(
                reply.body["error"]["fields"]["name"].is_string(),
                "{}",
                reply.body
            );
        }
    }
    // A sibling with the same name is refused.
    let reply = app
        .post(&t.admin, "/api/v1/categories", json!({"name": "Billing"}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body["error"]["fields"]["name"].is_string());
    let reply = app
        .post(
            &t.admin,
            "/api/v1/categories",
            json!({"name": "X", "parent_id": 99999}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(categories(&app).await.len(), before.len());

    // Agents read; only admins change. Customers and partners see nothing of it.
    for token in [&t.agent, &t.acme, &t.globex] {
        let reply = app
            .post(token, "/api/v1/categories", json!({"name": "Nope"}))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        let reply = app
            .post(
                token,
                &format!("/api/v1/categories/{billing}/retire"),
                json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.post(token, "/api/v1/categories/model/retrain", json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    for token in [&t.acme, &t.globex, &t.initech] {
        for path in ["/api/v1/categories", "/api/v1/categories/model"] {
            assert_eq!(app.get(token, path).await.status, StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(categories(&app).await.len(), before.len());

    // Retiring a category retires what is under it; a retired category cannot be given.
    let reply = app
        .post(
            &t.admin,
            &format!("/api/v1/categories/{sync}/retire"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = categories(&app).await;
    for c in &list {
        let retired = c["path"].as_str().unwrap().starts_with("Sync");
        assert_eq!(c["retired"], retired, "{c}");
    }
    let case = app
        .file_case(
            &t.initech,
            json!({"subject": "Sync stops", "description": "It stops.", "product": "Sync"}),
        )
        .await;
    let reply = app
        .put(
            &t.agent,
            &format!("/api/v1/cases/{case}/category"),
            json!({"category_id": desktop}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body["error"]["fields"]["category_id"].is_string());
    // Customers and partners can neither read nor set a case's category.
    for token in [&t.initech, &t.acme, &t.globex] {
        let path = format!("/api/v1/cases/{case}/category");
        assert_eq!(app.get(token, &path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.put(token, &path, json!({"category_id": billing}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    let view = set_category(&app, case, Some(billing)).await;
    assert_eq!(view["category"]["id"], billing);
    // Brought back, it can be used again.
    let reply = app
        .post(
            &t.admin,
            &format!("/api/v1/categories/{sync}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let view = set_category(&app, case, Some(desktop)).await;
    assert_eq!(view["category"]["path"], "Sync › Desktop app");
    // The change is in the case's history.
    let events = app
        .get(&t.agent, &format!("/api/v1/cases/{case}/events"))
        .await;
    let changes = events.body.to_string().matches("category_changed").count();
    assert_eq!(changes, 2, "{}", events.body);
}

/// Phrasings of three kinds of problem: each category has its own words.
const BACKUP: [&str; 6] = [
    "Nightly backup job failed with a snapshot error",
    "Backup snapshot missing after the scheduled backup run",
    "Restore from backup fails, snapshot archive corrupt",
    "The backup agent stopped, no snapshot since Monday",
    "Incremental backup takes hours and the snapshot times out",
    "Cannot restore files from last week's backup snapshot",
];
const LOGIN: [&str; 6] = [
    "Cannot sign in, password reset email never arrives",
    "Login fails with two-factor code rejected",
    "Password reset link expired before I could sign in",
    "Locked out of my account after too many login attempts",
    "Single sign-on login loops back to the sign in page",
    "Two-factor login code not accepted on my phone",
];
const BILLING: [&str; 6] = [
    "Invoice charged twice for the same month",
    "Credit card charged but the invoice shows unpaid",
    "Need a refund for a duplicate invoice charge",
    "Invoice has the wrong VAT number on it",
    "Billing address on the invoice is out of date",
    "Charged for seats we cancelled, please refund the invoice",
];

async fn file(app: &TestApp, subject: &str) -> i64 {
    app.file_case(
        &app.tokens.initech,
        json!({"subject": subject, "description": format!("{subject}. Please help."), "product": "Vault"}),
    )
    .await
}

/// Three categories, each with its six cases categorised by an agent; waits for the fit.
async fn trained(app: &TestApp) -> [i64; 3] {
    let ids = [
        category(app, "Backups", None).await,
        category(app, "Sign-in", None).await,
        category(app, "Billing", None).await,
    ];
    for (texts, id) in [BACKUP, LOGIN, BILLING].iter().zip(ids) {
        for text in texts {
            let case = file(app, text).await;
            set_category(app, case, Some(id)).await;
        }
    }
    // It may have learned from the first ten already; asked, it learns from all of them.
    relearn(app).await;
    let model = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
    assert_eq!(model.body["examples"], 18, "{}", model.body);
    ids
}

/// Asks for a new fit and waits until one that answers the request is in use.
async fn relearn(app: &TestApp) {
    let reply = app
        .post(
            &app.tokens.admin,
            "/api/v1/categories/model/retrain",
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    // Waiting for a fit made after the request is not enough: a round that read the
    // setting just before the request was written fits after it without answering it.
    let asked = reply.body["requested_at"].clone();
    app.until("the categoriser to learn again", || async {
        let model = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
        (model.body["answers_request"] == asked).then_some(())
    })
    .await;
}

async fn suggestion_of(app: &TestApp, case: i64) -> Value {
    app.until("a suggestion", || async {
        let view = app
            .get(&app.tokens.agent, &format!("/api/v1/cases/{case}/category"))
            .await;
        (!view.body["suggestion"].is_null()).then(|| view.body["suggestion"].clone())
    })
    .await
}

async fn suggestions_come_from_categorised_cases_and_survive_a_restart(backend: Backend) {
    let app = TestApp::start(backend).await;
    let [backups, _, billing] = trained(&app).await;
    let model = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
    assert_eq!(model.body["categories"], 3, "{}", model.body);

    let case = file(
        &app,
        "Backup snapshot failed again overnight, restore impossible",
    )
    .await;
    let suggestion = suggestion_of(&app, case).await;
    assert_eq!(suggestion["category"]["id"], backups, "{suggestion}");
    let confidence = suggestion["confidence"].as_f64().unwrap();
    assert!(
        confidence >= model.body["threshold"].as_f64().unwrap() && confidence <= 1.0,
        "{suggestion}"
    );
    let case2 = file(&app, "We were charged twice, the invoice needs a refund").await;
    assert_eq!(suggestion_of(&app, case2).await["category"]["id"], billing);

    // Text with nothing the categoriser has seen: "uncategorised" rather than a guess.
    let odd = file(&app, "Qzxv wqpt jjkk vvbn").await;
    let suggestion = suggestion_of(&app, odd).await;
    assert!(suggestion["category"].is_null(), "{suggestion}");
    assert!(suggestion["confidence"].as_f64().unwrap() < model.body["threshold"].as_f64().unwrap());

    // The requester sees neither suggestion nor confidence, in the API or on the page.
    let seen = app
        .get(&app.tokens.initech, &format!("/api/v1/cases/{case}"))
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let text = seen.body.to_string();
    assert!(
        !text.contains("suggest") && !text.contains("confidence") && !text.contains("Backups"),
        "{text}"
    );
    let customer = Browser::sign_in(&app, "user@initech.example").await;
    let page = customer.get(&format!("/cases/{case}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("Suggested") && !page.html.contains("Backups"));
    // Staff see it on the case page, and confirm it there.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(
        page.html.contains("Suggested: ") && page.html.contains("Backups"),
        "{}",
        page.html
    );
    let done = agent
        .post(
            &format!("/cases/{case}/category"),
            &[("category_id", &backups.to_string())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let view = app
        .get(&app.tokens.agent, &format!("/api/v1/cases/{case}/category"))
        .await;
    assert_eq!(view.body["category"]["id"], backups);

    // A node started over the same database (as after a restart) learns at start, without
    // being asked, and suggests what the first node suggests.
    let mut config = ServerConfig::new(app.store.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.secure_cookies = false;
    config.categorize_every = std::time::Duration::from_millis(100);
    let second = Application::build(config).await.unwrap();
    let state = second.state().clone();
    let base = second.base_url();
    tokio::spawn(async move { second.run_until(std::future::pending()).await.unwrap() });
    let fitted = app
        .until("the second node to learn", || async {
            state.categorizer.get()
        })
        .await;
    assert_eq!(fitted.examples, 19);
    let prediction = fitted
        .categorizer
        .predict("Restore from the backup snapshot does not work");
    assert_eq!(prediction.label, Some(backups.to_string()));
    let model = app
        .client
        .get(format!("{base}/api/v1/categories/model"))
        .bearer_auth(&app.tokens.agent)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(model["examples"], 19, "{model}");
}

const MOBILE: [&str; 10] = [
    "Phone app crashes when opening the gallery",
    "The iOS app crashes on launch after the update",
    "Android app freezes then crashes while scrolling",
    "Mobile app crashes whenever I rotate the phone",
    "The phone app closes itself when uploading photos",
    "App crashes on my Android tablet at the login screen",
    "iPhone app crash when switching to dark mode",
    "Mobile app crashes in the background and drains battery",
    "The Android app crashes opening notifications",
    "Phone app keeps crashing after reinstalling it",
];

async fn a_correction_is_kept_and_used_by_the_next_fit(backend: Backend) {
    let app = TestApp::start(backend).await;
    let [backups, signin, _] = trained(&app).await;
    let first = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
    let mobile = category(&app, "Mobile app", None).await;
    // Cases of a kind the categoriser never learned; the agent corrects each suggestion.
    let mut corrected = Vec::new();
    for text in MOBILE {
        let case = file(&app, text).await;
        let suggestion = suggestion_of(&app, case).await;
        assert_ne!(suggestion["category"]["id"], mobile);
        let view = set_category(&app, case, Some(mobile)).await;
        assert_eq!(view["category"]["id"], mobile);
        corrected.push(case);
    }
    // The correction is kept with who made it and what had been suggested.
    let view = app
        .get(
            &app.tokens.agent,
            &format!("/api/v1/cases/{}/category", corrected[0]),
        )
        .await;
    assert_eq!(view.body["category"]["id"], mobile);
    assert_eq!(view.body["categorized_by"], app.agent_id);
    let events = app
        .get(
            &app.tokens.agent,
            &format!("/api/v1/cases/{}/events", corrected[0]),
        )
        .await
        .body
        .to_string();
    assert!(events.contains("category_changed"), "{events}");
    let model = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
    assert_eq!(model.body["new_labels"], 10, "{}", model.body);
    assert_eq!(model.body["fitted_at"], first.body["fitted_at"]);

    // Learning again on request takes the corrections in.
    relearn(&app).await;
    let model = app.get(&app.tokens.agent, "/api/v1/categories/model").await;
    assert_eq!(model.body["examples"], 28, "{}", model.body);
    assert_eq!(model.body["categories"], 4);
    let case = file(&app, "The Android phone app crashes when I open it").await;
    assert_eq!(suggestion_of(&app, case).await["category"]["id"], mobile);
    // What it knew before it still knows.
    let case = file(&app, "Password reset email never came, cannot sign in").await;
    assert_eq!(suggestion_of(&app, case).await["category"]["id"], signin);
    let case = file(&app, "Backup snapshot failed during the nightly backup").await;
    assert_eq!(suggestion_of(&app, case).await["category"]["id"], backups);
}

async fn dashboards_match_hand_counts_and_csv_matches_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let sync = category(&app, "Sync", None).await;
    let billing = category(&app, "Billing", None).await;
    // Five cases: three Sync (two from initech, one for globex by its partner acme), one
    // Billing, one uncategorised (from globex itself, flagged with its partner too).
    let mut cases = Vec::new();
    for (token, subject, product) in [
        (&t.initech, "Sync stalls", "Sync"),
        (&t.initech, "Sync duplicates files", "Sync"),
        (&t.acme, "Sync for our customer fails", "Sync"),
        (&t.initech, "Invoice wrong", "Billing"),
        (&t.globex, "Something else", "Vault"),
    ] {
        let mut body = json!({"subject": subject, "description": "Details.", "product": product});
        if token == &t.acme {
            body["on_behalf_of"] = json!("globex");
        }
        let reply = app.post(token, "/api/v1/cases", body.clone()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{body} {}", reply.body);
        cases.push(reply.body["id"].as_i64().unwrap());
    }
    for case in &cases[..3] {
        set_category(&app, *case, Some(sync)).await;
    }
    set_category(&app, cases[3], Some(billing)).await;
    // One reply and one solved case, for the times and outcomes.
    let reply = app
        .post(
            &t.agent,
            &format!("/api/v1/cases/{}/comments", cases[0]),
            json!({"body": "Looking at it.", "public": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = app
        .patch(
            &t.agent,
            &format!("/api/v1/cases/{}", cases[3]),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // One case solved and reopened; one handed from the agent to the admin (the first
    // assignment is not a hand-off, the second is).
    for status in ["solved", "open"] {
        let reply = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{}", cases[4]),
                json!({"status": status}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let admin_id = app
        .store
        .user_by_email("admin@vendor.example")
        .await
        .unwrap()
        .id
        .0;
    for assignee in [app.agent_id, admin_id] {
        let reply = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{}", cases[1]),
                json!({"assignee": assignee}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    let volume = app
        .get(&t.agent, "/api/v1/analytics/volume?by=category&bucket=day")
        .await;
    assert_eq!(volume.status, StatusCode::OK, "{}", volume.body);
    let v = &volume.body;
    assert_eq!(v["total"], 5);
    let totals: Vec<(String, i64)> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        [
            ("Sync".to_string(), 3),
            ("Billing".to_string(), 1),
            ("uncategorised".to_string(), 1)
        ]
    );
    // Every case was filed today: the last bucket holds them all.
    assert_eq!(v["totals"].as_array().unwrap().last().unwrap(), 5);
    assert_eq!(v["buckets"].as_array().unwrap().len(), 31, "{v}");

    let by_org = app
        .get(&t.agent, "/api/v1/analytics/volume?by=organization")
        .await
        .body;
    let orgs: Vec<(String, i64)> = by_org["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        orgs,
        [("INITECH".to_string(), 3), ("GLOBEX".to_string(), 2)]
    );
    let by_partner = app
        .get(&t.agent, "/api/v1/analytics/volume?by=partner")
        .await
        .body;
    let partners: Vec<(String, i64)> = by_partner["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        partners,
        [
            ("no partner (direct)".to_string(), 3),
            ("ACME".to_string(), 2)
        ]
    );
    // Filters: the Sync category only, and the partner acme only.
    let only_sync = app
        .get(
            &t.agent,
            &format!("/api/v1/analytics/volume?by=product&category={sync}"),
        )
        .await
        .body;
    assert_eq!(only_sync["total"], 3);
    let only_acme = app
        .get(
            &t.agent,
            "/api/v1/analytics/volume?by=category&partner=acme",
        )
        .await
        .body;
    assert_eq!(only_acme["total"], 2);

    // Drivers: nothing in the previous period, so every category grew from nothing.
    let drivers = app.get(&t.agent, "/api/v1/analytics/drivers").await.body;
    let first = &drivers["drivers"][0];
    assert_eq!(first["category"], "Sync");
    assert_eq!(first["cases"], 3);
    assert_eq!(first["previous"], 0);
    assert_eq!(first["change"], 3);
    assert_eq!(first["share_bp"], 6000);
    assert!(first["growth_bp"].is_null());
    assert_eq!(first["has_validated_article"], false);

    // Backlog: four cases in work, all under a day old; one solved.
    let backlog = app.get(&t.agent, "/api/v1/analytics/backlog").await.body;
    assert_eq!(backlog["total"], 4, "{backlog}");
    assert_eq!(backlog["totals"][0], 4);

    // Times by tier: five cases, one replied to, one solved.
    let times = app
        .get(&t.agent, "/api/v1/analytics/times?by=tier")
        .await
        .body;
    let rows = times["rows"].as_array().unwrap();
    let cases_counted: i64 = rows.iter().map(|r| r["cases"].as_i64().unwrap()).sum();
    assert_eq!(cases_counted, 5, "{times}");
    let replied: i64 = rows
        .iter()
        .map(|r| r["first_reply"]["cases"].as_i64().unwrap())
        .sum();
    let solved: i64 = rows
        .iter()
        .map(|r| r["resolution"]["cases"].as_i64().unwrap())
        .sum();
    assert_eq!((replied, solved), (1, 1));
    // One hand-off among five cases; one of the two cases ever solved was reopened.
    let handoffs: f64 = rows
        .iter()
        .map(|r| r["handoffs_per_case"].as_f64().unwrap() * r["cases"].as_f64().unwrap())
        .sum();
    assert!((handoffs - 1.0).abs() < 1e-9, "{times}");
    assert_eq!(rows.len(), 1, "every case is L1: {times}");
    assert_eq!(rows[0]["reopen_rate_bp"], 5000, "{times}");
    let model = app
        .get(&t.agent, "/api/v1/analytics/times?by=model")
        .await
        .body;
    assert_eq!(model["rows"][0]["key"], "no queue", "{model}");

    let outcomes = app.get(&t.agent, "/api/v1/analytics/outcomes").await.body;
    let total = &outcomes["total"];
    let solved_total = ["known", "new", "invalid_escalation", "unknown"]
        .iter()
        .map(|k| total[*k].as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(solved_total, 1, "{outcomes}");
    let deflection = app.get(&t.agent, "/api/v1/analytics/deflection").await;
    assert_eq!(deflection.status, StatusCode::OK, "{}", deflection.body);

    // Bad filters are 400 with a code; customers and partners are refused.
    for bad in [
        "/api/v1/analytics/volume?by=colour",
        "/api/v1/analytics/volume?bucket=year",
        "/api/v1/analytics/volume?partner=nobody",
        "/api/v1/analytics/volume?from=2026-12-01&to=2026-11-01",
        "/api/v1/analytics/times?by=moon",
    ] {
        let reply = app.get(&t.agent, bad).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad} {}",
            reply.body
        );
        assert_eq!(reply.code(), "invalid_query");
    }
    for token in [&t.acme, &t.globex, &t.initech] {
        for path in [
            "/api/v1/analytics/volume",
            "/api/v1/analytics/drivers",
            "/api/v1/analytics/backlog",
            "/api/v1/analytics/times",
            "/api/v1/analytics/outcomes",
            "/api/v1/analytics/deflection",
        ] {
            assert_eq!(
                app.get(token, path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
    }

    // The page shows the chart and the table; its CSV holds the API's numbers.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get("/analytics?by=category&bucket=day").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<svg") && page.html.contains("<table"));
    assert!(
        page.html.contains("href=\"/analytics\""),
        "nav link to Insights"
    );
    let csv = agent
        .get("/analytics/volume.csv?by=category&bucket=day")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<Vec<&str>> = csv.html.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines[0][0], "category");
    assert_eq!(lines[0].len(), 2 + 31);
    for series in v["series"].as_array().unwrap() {
        let row = lines
            .iter()
            .find(|l| l[0] == series["key"].as_str().unwrap())
            .expect("a CSV row per series");
        assert_eq!(row[1], series["total"].to_string());
        let counts: Vec<String> = series["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            row[2..],
            counts.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        // The page's table has the same row.
        assert!(
            page.html.contains(&format!(
                "<th scope=\"row\">{}</th><td class=\"num\">{}</td>",
                series["key"].as_str().unwrap(),
                series["total"]
            )),
            "{}",
            series["key"]
        );
    }
    let drivers_csv = agent.get("/analytics/drivers.csv").await;
    assert!(
        drivers_csv
            .html
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Sync,3,0,+3,"),
        "{}",
        drivers_csv.html
    );
    // Customers and partners do not get the page, the CSV or the nav link.
    for email in ["user@initech.example", "tech@acme.example"] {
        let browser = Browser::sign_in(&app, email).await;
        assert_eq!(
            browser.get("/analytics").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            browser.get("/analytics/volume.csv").await.status,
            StatusCode::NOT_FOUND
        );
        assert!(!browser
            .get("/cases")
            .await
            .html
            .contains("href=\"/analytics\""));
    }
}

async fn the_categories_page_keeps_a_refused_form_and_only_admins_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let sync = category(&app, "Sync", None).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let page = admin.get("/categories").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Add, rename or move a category"));
    // A name too long and a parent that would make a loop: both named beside their fields,
    // what was typed shown again, nothing stored.
    let long = "x".repeat(61);
    let page = admin
        .post(
            "/categories",
            &[
                ("id", &sync.to_string()),
                ("name", &long),
                ("parent_id", &sync.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html.contains("60 characters or fewer"),
        "{}",
        page.html
    );
    assert!(page.html.contains("under itself"), "{}", page.html);
    assert!(page.html.contains(&format!("value=\"{long}\"")));
    assert_eq!(categories(&app).await.len(), 1);
    // A good one is saved, under Sync.
    let page = admin
        .post(
            "/categories",
            &[
                ("id", ""),
                ("name", "Conflicts"),
                ("parent_id", &sync.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let list = categories(&app).await;
    assert_eq!(list[1]["path"], "Sync › Conflicts");
    let page = admin.post(&format!("/categories/{sync}/retire"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(categories(&app).await.iter().all(|c| c["retired"] == true));
    // Agents read the tree without the forms, and cannot post them.
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = agent.get("/categories").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Conflicts") && !page.html.contains("Save category"));
    let page = agent.post("/categories", &[("name", "Nope")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = agent
        .post(&format!("/categories/{sync}/restore"), &[])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Customers and partners are refused the page.
    for email in ["user@initech.example", "tech@acme.example"] {
        let browser = Browser::sign_in(&app, email).await;
        assert_eq!(
            browser.get("/categories").await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(categories(&app).await.len(), 2);
}

async fn enough_new_labels_make_it_learn_again_unasked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let [backups, signin, billing] = trained(&app).await;
    let first = app
        .get(&app.tokens.agent, "/api/v1/categories/model")
        .await
        .body;
    // 24 more labels are not enough; the 25th is (`model::RETRAIN_AFTER`).
    let kinds = [(BACKUP, backups), (LOGIN, signin), (BILLING, billing)];
    for n in 0..24 {
        let (texts, id) = kinds[n % 3];
        let case = file(&app, &format!("{} (again, #{n})", texts[n % 6])).await;
        set_category(&app, case, Some(id)).await;
    }
    let model = app
        .get(&app.tokens.agent, "/api/v1/categories/model")
        .await
        .body;
    assert_eq!(model["new_labels"], 24, "{model}");
    assert_eq!(model["fitted_at"], first["fitted_at"]);
    let case = file(&app, "Backup snapshot missing once more").await;
    set_category(&app, case, Some(backups)).await;
    app.until("a fit of its own accord", || async {
        let model = app
            .get(&app.tokens.agent, "/api/v1/categories/model")
            .await
            .body;
        (model["examples"] == 43).then_some(())
    })
    .await;
}

async fn file_case(app: &TestApp, subject: &str) -> i64 {
    let reply = app
        .post(
            &app.tokens.initech,
            "/api/v1/cases",
            json!({"subject": subject, "description": "Details."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn comment(app: &TestApp, token: &str, case: i64) {
    let reply = app
        .post(
            token,
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "About this.", "public": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn times_by_tier(app: &TestApp) -> Vec<Value> {
    let reply = app
        .get(&app.tokens.agent, "/api/v1/analytics/times?by=tier")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["rows"].as_array().unwrap().clone()
}

/// The times dashboard reads each group's median and p90 from the ranks the database
/// picks after sorting the group: they must be the type-7 figures of all the durations,
/// only the first public staff reply counts, and a merge carries the reply to the case
/// that carries on.
async fn reply_times_are_exact_percentiles_and_follow_a_merge(backend: Backend) {
    let app = TestApp::start(backend).await;
    // A case with no staff reply yet, filed first (it survives the merge below).
    let survivor = file_case(&app, "Our nightly export stopped").await;
    // Seven cases answered by an agent after 5, 1, 9, 3, 7, 2 and 8 minutes: a customer's
    // own comment before the reply, and a second staff reply, do not count.
    let minutes = [5, 1, 9, 3, 7, 2, 8];
    let mut answered = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let case = file_case(&app, &format!("Export question {i}")).await;
        comment(&app, &app.tokens.initech, case).await;
        comment(&app, &app.tokens.agent, case).await;
        comment(&app, &app.tokens.agent, case).await;
        // Filed `m` minutes before its first staff reply.
        execute_raw(
            &app.store,
            &format!(
                "UPDATE cases SET created_at = first_reply_at - {} WHERE id = {case}",
                m * 60_000
            ),
        )
        .await
        .unwrap();
        answered.push(case);
    }
    execute_raw(
        &app.store,
        &format!(
            "UPDATE cases SET tier = 2, created_at = created_at - 3600000 WHERE id = {survivor}"
        ),
    )
    .await
    .unwrap();
    let rows = times_by_tier(&app).await;
    let l1 = rows.iter().find(|r| r["key"] == "L1").unwrap();
    assert_eq!(l1["cases"], 7, "{rows:?}");
    assert_eq!(l1["first_reply"]["cases"], 7, "{rows:?}");
    // Sorted 1 2 3 5 7 8 9: the median is the fourth; p90 lies 0.4 of the way from 8 to 9.
    assert_eq!(l1["first_reply"]["median_minutes"], 5.0, "{rows:?}");
    assert_eq!(l1["first_reply"]["p90_minutes"], 8.4, "{rows:?}");
    let l2 = rows.iter().find(|r| r["key"] == "L2").unwrap();
    assert_eq!(l2["first_reply"]["cases"], 0, "{rows:?}");
    assert!(l2["first_reply"]["median_minutes"].is_null(), "{rows:?}");

    // The case answered after 9 minutes merges into the survivor: its reply goes along.
    let merged = answered[2];
    let reply = app
        .post(
            &app.tokens.agent,
            &format!("/api/v1/cases/{merged}/merge"),
            json!({"into": survivor}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let rows = times_by_tier(&app).await;
    let l1 = rows.iter().find(|r| r["key"] == "L1").unwrap();
    assert_eq!(l1["first_reply"]["cases"], 6, "{rows:?}");
    // Sorted 1 2 3 5 7 8: the median halfway between 3 and 5; p90 halfway between 7 and 8.
    assert_eq!(l1["first_reply"]["median_minutes"], 4.0, "{rows:?}");
    assert_eq!(l1["first_reply"]["p90_minutes"], 7.5, "{rows:?}");
    let l2 = rows.iter().find(|r| r["key"] == "L2").unwrap();
    assert_eq!(l2["first_reply"]["cases"], 1, "{rows:?}");
    // Filed an hour (and the moments this test took) before the merged case's reply.
    let waited = l2["first_reply"]["median_minutes"].as_f64().unwrap();
    assert!((60.0..61.0).contains(&waited), "{rows:?}");
}

/// Every dashboard's figures for one set of filters, read one way.
#[derive(Debug, PartialEq)]
struct Figures {
    volume: Vec<VolumeReport>,
    drivers: DriversReport,
    backlog: BacklogReport,
    times: Vec<Vec<TimesRow>>,
    outcomes: OutcomeReport,
    deflection: DeflectionReport,
}

const DIMENSIONS: [Dimension; 7] = [
    Dimension::Category,
    Dimension::Product,
    Dimension::Partner,
    Dimension::Channel,
    Dimension::Organization,
    Dimension::Tier,
    Dimension::Queue,
];

const TIMES_BY: [TimesBy; 4] = [
    TimesBy::Tier,
    TimesBy::Queue,
    TimesBy::Partner,
    TimesBy::SupportModel,
];

/// The dashboards through the service the pages and the API call: from rollups where
/// current (`rollups`), or with every case aggregated in SQL.
async fn figures(
    app: &TestApp,
    input: &FilterInput,
    rollups: bool,
    now: Timestamp,
    every: bool,
) -> Figures {
    let store = &app.store;
    let admin = store.user_by_email("admin@vendor.example").await.unwrap();
    let mut f = service::resolve_filters(store, input, now).await.unwrap();
    f.rollups = rollups;
    let dimensions: &[Dimension] = if every {
        &DIMENSIONS
    } else {
        &[Dimension::Category, Dimension::Queue]
    };
    let mut volume = Vec::new();
    for d in dimensions {
        volume.push(service::volume(store, &admin, *d, &f).await.unwrap());
    }
    let mut times = Vec::new();
    for by in TIMES_BY {
        times.push(service::times(store, &admin, by, &f).await.unwrap());
    }
    Figures {
        volume,
        drivers: service::drivers(store, &admin, &f).await.unwrap(),
        backlog: service::backlog(store, &admin, &f, now).await.unwrap(),
        times,
        outcomes: service::outcomes(store, &admin, &f).await.unwrap(),
        deflection: service::deflection(store, &admin, &f, now).await.unwrap(),
    }
}

fn days_ago(n: i64) -> String {
    Timestamp::now().minus(Span::DAY.times(n)).to_rfc3339()
}

/// The periods and filters compared: the default 30 days, whole days only (midnight to
/// midnight), a year by week, 800 days, and the year under each filter.
fn inputs(every: bool) -> Vec<FilterInput> {
    let year = FilterInput {
        from: Some(days_ago(365)),
        ..FilterInput::default()
    };
    let mut all = vec![FilterInput::default(), year.clone()];
    if !every {
        return all;
    }
    all.push(FilterInput {
        from: Some(days_ago(40)[..10].to_string()),
        to: Some(days_ago(0)[..10].to_string()),
        ..FilterInput::default()
    });
    all.push(FilterInput {
        bucket: Some("week".into()),
        ..year.clone()
    });
    all.push(FilterInput {
        from: Some(days_ago(800)),
        ..FilterInput::default()
    });
    let with = |set: &dyn Fn(&mut FilterInput)| {
        let mut input = year.clone();
        set(&mut input);
        input
    };
    all.push(with(&|i| i.product = Some("Sync".into())));
    all.push(with(&|i| i.partner = Some("acme".into())));
    all.push(with(&|i| i.organization = Some("initech".into())));
    all.push(with(&|i| i.channel = Some("email".into())));
    all.push(with(&|i| i.tier = Some("2".into())));
    all.push(with(&|i| i.queue = Some("l1".into())));
    all
}

/// Every dashboard gives the same figures from rollups as from every case.
async fn assert_same(app: &TestApp, every: bool, when: &str) {
    let now = Timestamp::now();
    let mut inputs = inputs(every);
    if every {
        let sync: i64 = app
            .store
            .categories()
            .await
            .unwrap()
            .iter()
            .find(|c| c.name == "Sync")
            .unwrap()
            .id;
        inputs.push(FilterInput {
            from: Some(days_ago(365)),
            category: Some(sync.to_string()),
            ..FilterInput::default()
        });
    }
    for input in &inputs {
        let rollups = figures(app, input, true, now, every).await;
        let cases = figures(app, input, false, now, every).await;
        // One dashboard at a time, so a difference names its dashboard.
        assert_eq!(rollups.volume, cases.volume, "volume {when}: {input:?}");
        assert_eq!(rollups.drivers, cases.drivers, "drivers {when}: {input:?}");
        assert_eq!(rollups.backlog, cases.backlog, "backlog {when}: {input:?}");
        assert_eq!(rollups.times, cases.times, "times {when}: {input:?}");
        assert_eq!(
            rollups.outcomes, cases.outcomes,
            "outcomes {when}: {input:?}"
        );
        assert_eq!(
            rollups.deflection, cases.deflection,
            "deflection {when}: {input:?}"
        );
    }
}

/// Waits until the rollup job has rebuilt every day before today that changed.
async fn rollups_settled(app: &TestApp) {
    app.until("the rollups to be rebuilt", || async {
        let today = Day::of(Timestamp::now());
        (app.store.rollups_waiting(today).await.unwrap() == 0).then_some(())
    })
    .await
}

async fn current_days(app: &TestApp, family: Family) -> Vec<Day> {
    let today = Day::of(Timestamp::now());
    app.store
        .current_rollups(family, Day(0), today.next())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.day)
        .collect()
}

/// The day (UTC) a case's column falls in.
async fn day_of_case(app: &TestApp, case: i64, column: &str) -> Day {
    let (at,): (i64,) = backline_store::testing::query_one(
        &app.store,
        &format!("SELECT {column} FROM cases WHERE id = {case}"),
    )
    .await
    .unwrap();
    Day::of(Timestamp::from_millis(at))
}

/// Shows a change reaches the dashboards at once and its day's rollup is rebuilt: the
/// day's rollup is first replaced by an empty one (so reading it shows, as a difference
/// from every case), then `change` runs; right after it the figures are those of every
/// case again (the day now reads from the cases: the change marked it in its own
/// transaction), and once the job has rebuilt the day they still are, from its new
/// rollup.
async fn a_change_reaches_the_dashboards<F, Fut>(
    app: &TestApp,
    family: Family,
    day: Day,
    what: &str,
    change: F,
) where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rollups_settled(app).await;
    assert!(
        current_days(app, family).await.contains(&day),
        "{what}: {family:?} day {} has a current rollup",
        day.0
    );
    let emptied = replace_rollup(&app.store, family, day, encode(&[]))
        .await
        .unwrap();
    assert_eq!(emptied, 1);
    let year = FilterInput {
        from: Some(days_ago(365)),
        ..FilterInput::default()
    };
    let now = Timestamp::now();
    let (tampered, reference) = (
        figures(app, &year, true, now, false).await,
        figures(app, &year, false, now, false).await,
    );
    match family {
        Family::Filed => assert!(
            tampered.volume[0].total < reference.volume[0].total,
            "{what}: the emptied rollup is what the dashboards read"
        ),
        Family::Solved => assert_ne!(
            tampered.outcomes.totals, reference.outcomes.totals,
            "{what}: the emptied rollup is what the dashboards read"
        ),
    }
    change().await;
    assert_same(app, false, &format!("right after {what}")).await;
    rollups_settled(app).await;
    assert!(
        current_days(app, family).await.contains(&day),
        "{what}: rebuilt"
    );
    assert_same(app, false, &format!("after {what}, rebuilt")).await;
}

/// The dashboards read whole past days from daily rollups, and give exactly the figures
/// aggregating every case gives: for any period and every filter and grouping, and right
/// after cases change (solved, reopened, recategorised, escalated to another queue, a first
/// reply, a change made in SQL by no service at all) as well as once the job has rebuilt
/// their days.
async fn dashboards_from_rollups_are_the_figures_of_every_case(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let sync = category(&app, "Sync", None).await;
    let desktop = category(&app, "Desktop app", Some(sync)).await;
    let billing = category(&app, "Billing", None).await;
    for (slug, model, tier) in [
        ("l1", "tiered", Some(1)),
        ("l2", "tiered", Some(2)),
        ("swarm", "swarm", None),
    ] {
        let reply = app
            .post(
                &t.admin,
                "/api/v1/queues",
                json!({"slug": slug, "name": slug.to_uppercase(), "model": model, "tier": tier}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    // Fourteen cases filed 0 to 400 days ago: three filers, four products, three categories
    // and none, three queues and none; replies, solvings (on a later day), a reopening and
    // a hand-off.
    let back: [i64; 14] = [1, 2, 2, 3, 5, 8, 13, 21, 29, 34, 55, 200, 400, 0];
    let mut cases = Vec::new();
    for (i, days) in back.iter().enumerate() {
        let (token, on_behalf) = match i % 3 {
            0 => (&t.initech, None),
            1 => (&t.globex, None),
            _ => (&t.acme, Some("globex")),
        };
        let mut body = json!({"subject": format!("Case {i}"), "description": "Details."});
        if let Some(product) = ["Sync", "Backup", "Vault"].get(i % 4) {
            body["product"] = json!(product);
        }
        if let Some(org) = on_behalf {
            body["on_behalf_of"] = json!(org);
        }
        let case = app.file_case(token, body).await;
        if let Some(category) = [Some(sync), Some(desktop), Some(billing), None][i % 4] {
            set_category(&app, case, Some(category)).await;
        }
        if i % 3 != 2 {
            comment(&app, &t.agent, case).await;
        }
        let statuses: &[&str] = match i % 4 {
            0 => &["solved"],
            2 => &["solved", "open"],
            _ => &[],
        };
        for status in statuses {
            let reply = app
                .patch(
                    &t.agent,
                    &format!("/api/v1/cases/{case}"),
                    json!({"status": status}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        if i % 5 == 1 {
            let admin_id = app
                .store
                .user_by_email("admin@vendor.example")
                .await
                .unwrap()
                .id
                .0;
            for assignee in [app.agent_id, admin_id] {
                let reply = app
                    .patch(
                        &t.agent,
                        &format!("/api/v1/cases/{case}"),
                        json!({"assignee": assignee}),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            }
        }
        // Back in time (solved half as many days ago as filed), into a queue, by email.
        let day = Span::DAY.as_millis();
        let queue = ["'l1'", "'swarm'", "NULL"][i % 3];
        let channel = if i % 5 == 0 { "'email'" } else { "channel" };
        let classification = match i % 8 {
            0 => "'known'",
            4 => "'new'",
            _ => "classification",
        };
        execute_raw(
            &app.store,
            &format!(
                "UPDATE cases SET created_at = created_at - {filed}, \
                 first_reply_at = first_reply_at - {filed}, solved_at = solved_at - {solved}, \
                 queue_id = (SELECT id FROM queues WHERE slug = {queue}), channel = {channel}, \
                 classification = {classification} WHERE id = {case}",
                filed = days * day + 3_600_000 * (i as i64 % 5),
                solved = days / 2 * day,
            ),
        )
        .await
        .unwrap();
        cases.push(case);
    }
    rollups_settled(&app).await;
    // Every past day with a filing has a current rollup, and so does every past solving day.
    let today = Day::of(Timestamp::now());
    let filed = current_days(&app, Family::Filed).await;
    for case in &cases {
        let day = day_of_case(&app, *case, "created_at").await;
        assert_eq!(filed.contains(&day), day < today, "case {case}");
    }
    assert!(!current_days(&app, Family::Solved).await.is_empty());
    assert_same(&app, true, "after filing").await;

    // Solving a case filed 13 days ago.
    let case = cases[6];
    let day = day_of_case(&app, case, "created_at").await;
    a_change_reaches_the_dashboards(&app, Family::Filed, day, "solving", || async {
        let reply = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{case}"),
                json!({"status": "solved"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    })
    .await;
    // Reopening a case solved 100 days ago takes it out of that day's outcomes.
    let case = cases[12];
    let day = day_of_case(&app, case, "solved_at").await;
    a_change_reaches_the_dashboards(&app, Family::Solved, day, "reopening", || async {
        let reply = app
            .patch(
                &t.agent,
                &format!("/api/v1/cases/{case}"),
                json!({"status": "open"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    })
    .await;
    // Recategorising a case filed 29 days ago.
    let case = cases[8];
    let day = day_of_case(&app, case, "created_at").await;
    a_change_reaches_the_dashboards(&app, Family::Filed, day, "recategorising", || async {
        set_category(&app, case, Some(billing)).await;
    })
    .await;
    // Escalating a case of L1 filed 34 days ago: tier 2, and the queue that serves it.
    let case = cases[9];
    let day = day_of_case(&app, case, "created_at").await;
    a_change_reaches_the_dashboards(&app, Family::Filed, day, "escalating", || async {
        let reply = app
            .post(
                &t.agent,
                &format!("/api/v1/cases/{case}/escalate"),
                json!({"reason": "needs the engine team"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["queue"], "l2", "{}", reply.body);
    })
    .await;
    // A first reply to a case filed 8 days ago that had none.
    let case = cases[5];
    let day = day_of_case(&app, case, "created_at").await;
    a_change_reaches_the_dashboards(&app, Family::Filed, day, "a first reply", || async {
        comment(&app, &t.agent, case).await;
    })
    .await;
    // A change in SQL that no service made: the triggers still mark its day.
    let case = cases[10];
    let day = day_of_case(&app, case, "created_at").await;
    a_change_reaches_the_dashboards(&app, Family::Filed, day, "a change in SQL", || async {
        execute_raw(
            &app.store,
            &format!("UPDATE cases SET channel = 'phone', tier = 3 WHERE id = {case}"),
        )
        .await
        .unwrap();
    })
    .await;
    assert_same(&app, true, "after every change").await;
}
