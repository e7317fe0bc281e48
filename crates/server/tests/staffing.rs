//! Peak-demand planning over the real router on both databases: a plan's numbers from a known
//! arrival history, the measured handling time, known events (admins only, checked, applied),
//! the page with its table and the CSV that equals it, and who may see any of it.

mod common;

use backline_domain::{Span, Timestamp};
use backline_store::testing::execute_raw;
use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    a_plan_follows_a_known_history_and_its_events,
    only_admins_enter_events_and_bad_ones_store_nothing,
    the_page_table_equals_the_csv_and_refused_inputs_stay,
    staffing_is_for_staff_only,
);

/// The start of the hour two days from now: an hour in the coming week, with whole weeks of
/// history before it at the same hour of the week.
fn target_hour() -> Timestamp {
    let now = Timestamp::now().as_millis();
    let hour = Span::HOUR.as_millis();
    Timestamp::from_millis(now - now.rem_euclid(hour)).plus(Span::DAY.times(2))
}

/// Writes `n` cases opened five minutes into the hour `weeks_back` weeks before `target`,
/// straight into the store: a history the API cannot backdate.
async fn cases_at(app: &TestApp, target: Timestamp, weeks_back: i64, n: usize) {
    let at = target
        .minus(Span::DAY.times(7 * weeks_back))
        .plus(Span::MINUTE.times(5))
        .as_millis();
    for i in 0..n {
        execute_raw(
            &app.store,
            &format!(
                "INSERT INTO cases (subject, description, status, priority, tier, channel, tags, \
                 organization_id, requester_id, created_at, updated_at) \
                 SELECT 'History {weeks_back}-{i}', 'Arrived in the past.', 'closed', 'normal', 1, \
                 'web', '[]', o.id, u.id, {at}, {at} FROM organizations o, users u \
                 WHERE o.slug = 'initech' AND u.email = 'user@initech.example'"
            ),
        )
        .await
        .unwrap();
    }
}

fn close(value: &Value, expected: f64) {
    let v = value.as_f64().unwrap_or(f64::NAN);
    assert!((v - expected).abs() < 1e-6, "{v} is not {expected}");
}

fn hour_of(intervals: &Value, at: Timestamp) -> &Value {
    intervals
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["at"] == at.to_rfc3339())
        .expect("the hour is planned")
}

async fn a_plan_follows_a_known_history_and_its_events(backend: Backend) {
    let app = TestApp::start(backend).await;
    let target = target_hour();
    for weeks_back in 1..=4 {
        cases_at(&app, target, weeks_back, 20).await;
    }
    // 20 cases at this hour of the week, every week, and none at any other: the forecast is
    // 20 at that hour and 0 elsewhere, and the held-out last week was forecast exactly.
    let reply = app
        .get(
            &app.tokens.agent,
            "/api/v1/staffing/forecast?history_weeks=4&weeks=1",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let hours = &reply.body["hours"];
    assert_eq!(hours.as_array().unwrap().len(), 168);
    close(&hour_of(hours, target)["forecast"], 20.0);
    close(&hour_of(hours, target.plus(Span::HOUR))["forecast"], 0.0);
    close(&reply.body["holdout"]["mape"], 0.0);
    assert_eq!(reply.body["holdout"]["hours_counted"], 1);

    // A = 20 x 540 s / 3600 s = 3 erlangs. 80% within 20 s needs 6 agents (SL 0.911283,
    // P(wait) 0.099143, ASA 17.8458 s, occupancy 50%); 6 / 0.7 schedules 9.
    let query = "history_weeks=4&aht_seconds=540&service_level_percent=80&answer_within_seconds=20\
                 &max_occupancy_percent=85&shrinkage_percent=30";
    let reply = app
        .get(&app.tokens.agent, &format!("/api/v1/staffing/plan?{query}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let plan = &reply.body;
    assert_eq!(plan["inputs"]["aht_source"], "override");
    let peak = hour_of(&plan["intervals"], target);
    close(&peak["traffic"], 3.0);
    assert_eq!(
        (peak["agents"].as_u64(), peak["scheduled"].as_u64()),
        (Some(6), Some(9))
    );
    assert!((peak["service_level"].as_f64().unwrap() - 0.911283).abs() < 5e-7);
    assert!((peak["average_wait_seconds"].as_f64().unwrap() - 17.8458).abs() < 5e-5);
    close(&peak["occupancy"], 0.5);
    close(
        &hour_of(&plan["intervals"], target.plus(Span::HOUR))["agents"],
        0.0,
    );
    // The busiest day is the target's, hour by hour.
    assert_eq!(plan["peak"].as_array().unwrap().len(), 24);
    assert_eq!(
        plan["peak_day"],
        Timestamp::start_of(target.date()).to_rfc3339()
    );
    close(&plan["mape"], 0.0);

    // What-if: half the arrivals deflected leaves 1.5 erlangs: 4 agents, 6 scheduled; the
    // plan still says what it would take without.
    let reply = app
        .get(
            &app.tokens.agent,
            &format!("/api/v1/staffing/plan?{query}&deflection_percent=50"),
        )
        .await;
    let peak = hour_of(&reply.body["intervals"], target);
    close(&peak["handled"], 10.0);
    assert_eq!(
        (
            peak["agents"].as_u64(),
            peak["scheduled"].as_u64(),
            peak["scheduled_without_what_ifs"].as_u64()
        ),
        (Some(4), Some(6), Some(9))
    );

    // A holiday expected at half the usual arrivals covers the hour; no past holiday to learn
    // from, so the expected lift is used.
    let reply = app
        .post(
            &app.tokens.admin,
            "/api/v1/staffing/events",
            json!({"name": "Winter holiday", "kind": "holiday",
                   "starts_at": target.to_rfc3339(), "ends_at": target.plus(Span::HOUR).to_rfc3339(),
                   "lift_percent": 50}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = app
        .get(
            &app.tokens.agent,
            "/api/v1/staffing/forecast?history_weeks=4",
        )
        .await;
    let hour = hour_of(&reply.body["hours"], target);
    close(&hour["baseline"], 20.0);
    close(&hour["forecast"], 10.0);
    assert_eq!(reply.body["events"][0]["source"], "expected");
    close(&reply.body["events"][0]["lift"], 0.5);

    // Handling time measured: a staff reply 10 minutes after one case opened.
    let first = target
        .minus(Span::DAY.times(7))
        .plus(Span::MINUTE.times(15))
        .as_millis();
    execute_raw(
        &app.store,
        &format!(
            "INSERT INTO comments (case_id, author_id, body, public, created_at) \
             SELECT c.id, u.id, 'Looking at it.', 1, {first} FROM cases c, users u \
             WHERE c.subject = 'History 1-0' AND u.email = 'agent@vendor.example'"
        ),
    )
    .await
    .unwrap();
    let reply = app
        .get(&app.tokens.agent, "/api/v1/staffing/plan?history_weeks=4")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["inputs"]["aht_source"], "measured");
    close(&reply.body["inputs"]["aht_seconds"], 600.0);
    assert_eq!(reply.body["inputs"]["aht_measured_cases"], 1);
}

async fn only_admins_enter_events_and_bad_ones_store_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let event = json!({"name": "Release 5.0", "kind": "release",
        "starts_at": "2027-01-12T08:00:00Z", "ends_at": "2027-01-13T08:00:00Z", "lift_percent": 180});
    for token in [&t.agent, &t.acme, &t.globex, &t.initech] {
        let reply = app
            .post(token, "/api/v1/staffing/events", event.clone())
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(reply.code(), "forbidden");
    }
    // Every problem named; nothing stored.
    let reply = app
        .post(
            &t.admin,
            "/api/v1/staffing/events",
            json!({"name": " ", "kind": "party", "starts_at": "tomorrow",
                   "ends_at": "2027-01-13T08:00:00Z", "lift_percent": 5000}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.code(), "validation_failed");
    let fields = reply.body["error"]["fields"].as_object().unwrap();
    for field in ["name", "kind", "starts_at", "lift_percent"] {
        assert!(fields.contains_key(field), "{field} in {fields:?}");
    }
    let reply = app
        .post(
            &t.admin,
            "/api/v1/staffing/events",
            json!({"name": "Backwards", "kind": "other",
                   "starts_at": "2027-01-13T08:00:00Z", "ends_at": "2027-01-12T08:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["error"]["fields"]["ends_at"].is_string());
    let list = app.get(&t.agent, "/api/v1/staffing/events").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["events"].as_array().unwrap().len(), 0);

    let created = app
        .post(&t.admin, "/api/v1/staffing/events", event.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["lift_percent"], 180);
    let path = format!("/api/v1/staffing/events/{id}");
    let mut changed = event.clone();
    changed["lift_percent"] = json!(150);
    assert_eq!(
        app.put(&t.agent, &path, changed.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let reply = app.put(&t.admin, &path, changed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["lift_percent"], 150);
    assert_eq!(
        app.delete(&t.agent, &path).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&t.admin, &path).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&t.admin, &path).await.status,
        StatusCode::NOT_FOUND
    );
    // Plan inputs out of range are named too.
    let reply = app
        .get(
            &t.agent,
            "/api/v1/staffing/plan?service_level_percent=100&shrinkage_percent=95&weeks=9",
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let fields = reply.body["error"]["fields"].as_object().unwrap();
    for field in ["service_level_percent", "shrinkage_percent", "weeks"] {
        assert!(fields.contains_key(field), "{field} in {fields:?}");
    }
}

/// The cells of the table with this id, row by row.
fn table_cells(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html.find(&format!("id=\"{id}\"")).expect("the table");
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| cell[..cell.find("</td>").unwrap()].to_string())
                .collect::<Vec<_>>()
        })
        .filter(|cells| !cells.is_empty())
        .collect()
}

async fn the_page_table_equals_the_csv_and_refused_inputs_stay(backend: Backend) {
    let app = TestApp::start(backend).await;
    let target = target_hour();
    for weeks_back in 1..=3 {
        cases_at(&app, target, weeks_back, 12).await;
    }
    let browser = Browser::sign_in(&app, "admin@vendor.example").await;
    let query = "history_weeks=3&aht_seconds=600&deflection_percent=25";
    let page = browser.get(&format!("/staffing?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("<svg"), "a chart");
    assert!(page.html.contains("MAPE 0.0%"), "the held-out error");
    let rows = table_cells(&page.html, "peak-table");
    assert_eq!(rows.len(), 24);
    let csv = browser.get(&format!("/staffing/plan.csv?{query}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<Vec<String>> = csv
        .html
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(lines, rows);
    // The target hour: 12 arrivals, 9 handled after deflecting a quarter.
    let label = target.to_rfc3339()[..16].replace('T', " ");
    let row = rows.iter().find(|r| r[0] == label).expect("the busy hour");
    assert_eq!((row[1].as_str(), row[2].as_str()), ("12.00", "9.00"));

    // A refused input keeps what was typed, with the problem beside it.
    let page = browser
        .get("/staffing?shrinkage_percent=lots&service_level_percent=120")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains(r#"value="lots""#), "{}", page.html);
    assert!(page.html.contains("Write a number, not &quot;lots&quot;."));
    assert!(page.html.contains(r#"value="120""#));
    assert!(page.html.contains("Write a percentage from 1 to 99.9."));
    assert!(!page.html.contains("peak-table"));

    // An admin adds an event by the form; a refused one comes back as typed.
    let page = browser
        .post(
            "/staffing/events",
            &[
                ("name", "Partner closed"),
                ("kind", "partner_closure"),
                ("starts_at", "2027-02-01T08:00"),
                ("ends_at", "2027-01-01T08:00"),
                ("lift_percent", "60"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains(r#"value="Partner closed""#));
    assert!(page.html.contains("The end must come after the start."));
    let page = browser
        .post(
            "/staffing/events",
            &[
                ("name", "Partner closed"),
                ("kind", "partner_closure"),
                ("starts_at", "2027-01-01T08:00"),
                ("ends_at", "2027-01-02T08:00"),
                ("lift_percent", "60"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let events = app.get(&app.tokens.agent, "/api/v1/staffing/events").await;
    assert_eq!(
        events.body["events"][0]["starts_at"],
        "2027-01-01T08:00:00.000Z"
    );
}

async fn staffing_is_for_staff_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    for token in [&t.acme, &t.globex, &t.initech] {
        for path in [
            "/api/v1/staffing/forecast",
            "/api/v1/staffing/plan",
            "/api/v1/staffing/events",
        ] {
            let reply = app.get(token, path).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.body
            );
        }
    }
    for email in ["tech@acme.example", "user@globex.example"] {
        let browser = Browser::sign_in(&app, email).await;
        let page = browser.get("/staffing").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
        assert!(
            !page.html.contains(r#"href="/staffing""#),
            "no link for {email}"
        );
        assert_eq!(
            browser.get("/staffing/plan.csv").await.status,
            StatusCode::FORBIDDEN
        );
        let page = browser
            .post(
                "/staffing/events",
                &[
                    ("name", "x"),
                    ("kind", "other"),
                    ("starts_at", "2027-01-01T08:00"),
                    ("ends_at", "2027-01-02T08:00"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    // Agents read the plan and the page, with the link, but cannot add events.
    let browser = Browser::sign_in(&app, "agent@vendor.example").await;
    let page = browser.get("/staffing").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(r#"href="/staffing""#));
    assert!(!page.html.contains(r#"action="/staffing/events""#));
    let reply = app.get(&t.agent, "/api/v1/staffing/plan").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["inputs"]["aht_source"], "default");
}
