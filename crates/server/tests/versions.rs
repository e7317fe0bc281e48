//! Optimistic concurrency for the settings people edit (issue 14, item 2), on both databases:
//! every resource answers its version as `ETag`, a write made against an older version is
//! refused with 412 `stale` and changes nothing, a garbled `If-Match` is a 400, a write
//! without one still lands (last write wins), and each edit form drawn before someone
//! else's change comes back (409) with what was typed instead of overwriting.

mod common;

use common::browser::Browser;
use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    sla_policies_carry_versions,
    sla_calendars_carry_versions,
    routing_rules_carry_versions,
    queues_carry_versions,
    macros_carry_versions,
    partner_agreements_carry_versions,
    organizations_carry_versions,
    message_templates_carry_versions,
    mail_settings_carry_versions,
    case_categories_carry_versions,
    partner_profiles_carry_versions,
    staffing_events_carry_versions,
    health_weights_carry_versions,
    success_accounts_carry_versions,
    writers_racing_on_one_version_get_one_success_and_one_stale,
    a_stale_policy_form_says_so_and_keeps_the_input,
    a_stale_calendar_form_says_so_and_keeps_the_input,
    a_stale_rule_form_says_so_and_keeps_the_input,
    a_stale_queue_member_form_says_so_and_keeps_the_input,
    a_stale_macro_form_says_so_and_keeps_the_input,
    a_stale_agreement_form_says_so_and_keeps_the_input,
    a_stale_template_form_says_so_and_keeps_the_input,
    a_stale_category_form_says_so_and_keeps_the_input,
    a_stale_weights_form_says_so_and_keeps_the_input,
    a_stale_account_form_says_so_and_keeps_the_input,
);

/// An answer with its `ETag`.
struct Answer {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer { status, etag, body }
}

/// One versioned resource as the API shows it: where it is read and written, two different
/// replacements, and where in the read the difference shows.
struct Resource<'a> {
    token: &'a str,
    read: String,
    /// Where writes go, when not where the resource is read.
    write_path: Option<String>,
    write: Method,
    first: Value,
    second: Value,
    /// JSON pointer into the read body that `first` and `second` set differently.
    field: &'a str,
    /// Whether `DELETE` on `read` removes it.
    deletable: bool,
}

/// The whole contract, checked the same way for every resource.
async fn check_versions(app: &TestApp, r: Resource<'_>) {
    let write_path = r.write_path.as_deref().unwrap_or(&r.read);
    let read = send(app, r.token, Method::GET, &r.read, None, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}: {}", r.read, read.body);
    let old = read.etag.clone().expect("a read answers ETag");
    assert_eq!(
        old,
        format!("\"{}\"", read.body["version"]),
        "the ETag is the version the body shows"
    );

    // A write against the current version lands and moves the version on.
    let written = send(
        app,
        r.token,
        r.write.clone(),
        write_path,
        Some(&old),
        Some(&r.first),
    )
    .await;
    assert!(written.status.is_success(), "{}: {}", r.read, written.body);
    let new = written.etag.clone().expect("a write answers the new ETag");
    assert_ne!(new, old, "{}: the version moves on", r.read);
    let after = send(app, r.token, Method::GET, &r.read, None, None).await;
    assert_eq!(after.etag.as_deref(), Some(new.as_str()));
    let landed = after.body.pointer(r.field).cloned();
    assert!(landed.is_some(), "{} shows {}", r.read, r.field);

    // A write against the old version is refused and changes nothing.
    let stale = send(
        app,
        r.token,
        r.write.clone(),
        write_path,
        Some(&old),
        Some(&r.second),
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}: {}",
        r.read,
        stale.body
    );
    assert_eq!(stale.body["error"]["code"], "stale");
    assert!(!stale.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    let unchanged = send(app, r.token, Method::GET, &r.read, None, None).await;
    assert_eq!(
        unchanged.body.pointer(r.field).cloned(),
        landed,
        "{}",
        r.read
    );
    assert_eq!(unchanged.etag.as_deref(), Some(new.as_str()));

    // A garbled precondition is refused rather than ignored, and changes nothing either.
    for bad in ["1", "W/\"1\"", "\"one\""] {
        let garbled = send(
            app,
            r.token,
            r.write.clone(),
            write_path,
            Some(bad),
            Some(&r.second),
        )
        .await;
        assert_eq!(
            garbled.status,
            StatusCode::BAD_REQUEST,
            "{} {bad}: {}",
            r.read,
            garbled.body
        );
        assert_eq!(garbled.body["error"]["code"], "invalid_if_match");
    }
    let unchanged = send(app, r.token, Method::GET, &r.read, None, None).await;
    assert_eq!(unchanged.body.pointer(r.field).cloned(), landed);

    // Without If-Match the write is unconditional, as before: the last one wins.
    let blind = send(
        app,
        r.token,
        r.write.clone(),
        write_path,
        None,
        Some(&r.second),
    )
    .await;
    assert!(blind.status.is_success(), "{}: {}", r.read, blind.body);
    let newest = blind.etag.clone().expect("a write answers the new ETag");
    assert_ne!(newest, new);
    let now = send(app, r.token, Method::GET, &r.read, None, None).await;
    assert_ne!(now.body.pointer(r.field).cloned(), landed, "{}", r.read);

    if r.deletable {
        // Deleting against an old version is refused and deletes nothing.
        let refused = send(app, r.token, Method::DELETE, &r.read, Some(&new), None).await;
        assert_eq!(
            refused.status,
            StatusCode::PRECONDITION_FAILED,
            "{}: {}",
            r.read,
            refused.body
        );
        assert_eq!(refused.body["error"]["code"], "stale");
        let still = send(app, r.token, Method::GET, &r.read, None, None).await;
        assert_eq!(still.status, StatusCode::OK);
        let deleted = send(app, r.token, Method::DELETE, &r.read, Some(&newest), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
        let gone = send(app, r.token, Method::GET, &r.read, None, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
}

async fn created_id(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let reply = app.post(token, path, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn sla_policies_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let id = created_id(
        &app,
        &admin,
        "/api/v1/sla/policies",
        json!({"name": "Standard", "first_reply_minutes": 240}),
    )
    .await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: format!("/api/v1/sla/policies/{id}"),
            write_path: None,
            write: Method::PUT,
            first: json!({"name": "Standard", "first_reply_minutes": 120}),
            second: json!({"name": "Standard", "first_reply_minutes": 60}),
            field: "/first_reply_minutes",
            deletable: true,
        },
    )
    .await;
}

fn calendar(name: &str) -> Value {
    json!({"name": name, "spec": {"time_zone": "Europe/Berlin",
        "hours": [{"day": "mon", "start": "09:00", "end": "17:00"}], "holidays": []}})
}

async fn sla_calendars_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let id = created_id(&app, &admin, "/api/v1/sla/calendars", calendar("Berlin")).await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: format!("/api/v1/sla/calendars/{id}"),
            write_path: None,
            write: Method::PUT,
            first: calendar("Berlin office"),
            second: calendar("Berlin headquarters"),
            field: "/name",
            deletable: true,
        },
    )
    .await;
}

fn rule(name: &str) -> Value {
    json!({"name": name, "conditions": [{"field": "words", "any_of": ["vault"]}], "actions": {"tier": 2}})
}

async fn routing_rules_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let id = created_id(&app, &admin, "/api/v1/routing/rules", rule("Vault to L2")).await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: format!("/api/v1/routing/rules/{id}"),
            write_path: None,
            write: Method::PUT,
            first: rule("Vault cases to L2"),
            second: rule("Vault cases to tier 2"),
            field: "/name",
            deletable: true,
        },
    )
    .await;
}

async fn queue_l2(app: &TestApp) {
    let created = app
        .post(
            &app.tokens.admin,
            "/api/v1/queues",
            json!({"slug": "l2", "name": "Tier 2", "model": "tiered", "tier": 2}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

async fn queues_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    queue_l2(&app).await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/queues/l2".into(),
            write_path: Some(format!("/api/v1/queues/l2/members/{}", app.agent_id)),
            write: Method::PUT,
            first: json!({"skills": ["vault"]}),
            second: json!({"skills": ["sync"]}),
            field: "/members/0/skills",
            deletable: false,
        },
    )
    .await;
}

fn a_macro(title: &str) -> Value {
    json!({"title": title, "body": "Hi {{requester.first_name}}, please send the logs.",
           "actions": {"status": "pending"}})
}

async fn macros_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let agent = app.tokens.agent.clone();
    let id = created_id(&app, &agent, "/api/v1/macros", a_macro("Ask for logs")).await;
    check_versions(
        &app,
        Resource {
            token: &agent,
            read: format!("/api/v1/macros/{id}"),
            write_path: None,
            write: Method::PUT,
            first: a_macro("Ask for the logs"),
            second: a_macro("Ask for logs again"),
            field: "/title",
            deletable: true,
        },
    )
    .await;
}

fn agreement(contact: &str) -> Value {
    json!({"customer_owner": "partner", "billing_owner": "partner", "troubleshooting_checklist": [],
        "vanilla_reproduction_required": false, "customers_see_vendor_kb": true,
        "vendor_direct_contact": contact, "updates_distributed_by": "partner"})
}

async fn partner_agreements_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    // On the default terms the agreement is at version 0: a write prepared against them is
    // checked like any other.
    let read = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/partners/acme/agreement",
        None,
        None,
    )
    .await;
    assert_eq!(read.etag.as_deref(), Some("\"0\""), "{}", read.body);
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/partners/acme/agreement".into(),
            write_path: None,
            write: Method::PUT,
            first: agreement("never"),
            second: agreement("allowed"),
            field: "/vendor_direct_contact",
            deletable: false,
        },
    )
    .await;
}

async fn organizations_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/organizations/initech".into(),
            write_path: None,
            write: Method::PATCH,
            first: json!({"name": "Initech Corporation"}),
            second: json!({"name": "Initech Ltd"}),
            field: "/name",
            deletable: false,
        },
    )
    .await;
}

fn template(subject: &str) -> Value {
    json!({"subject": subject, "body": "{{title}}: {{message}}"})
}

async fn message_templates_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let read = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/templates/alert",
        None,
        None,
    )
    .await;
    assert_eq!(read.etag.as_deref(), Some("\"0\""), "built-in: version 0");
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/templates/alert".into(),
            write_path: None,
            write: Method::PUT,
            first: template("Incident: {{title}}"),
            second: template("Service incident: {{title}}"),
            field: "/subject",
            deletable: false,
        },
    )
    .await;
}

async fn mail_settings_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/mail/settings".into(),
            write_path: None,
            write: Method::PUT,
            first: json!({"unknown_senders": "create:initech"}),
            second: json!({"unknown_senders": "hold"}),
            field: "/unknown_senders",
            deletable: false,
        },
    )
    .await;
}

async fn case_categories_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let id = created_id(&app, &admin, "/api/v1/categories", json!({"name": "Sync"})).await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: format!("/api/v1/categories/{id}"),
            write_path: None,
            write: Method::PUT,
            first: json!({"name": "Sync engine"}),
            second: json!({"name": "Syncing"}),
            field: "/name",
            deletable: false,
        },
    )
    .await;
    // Retiring a category is a change too: its version moves on.
    let before = send(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/categories/{id}"),
        None,
        None,
    )
    .await;
    let retired = app
        .post(
            &admin,
            &format!("/api/v1/categories/{id}/retire"),
            json!({}),
        )
        .await;
    assert_eq!(retired.status, StatusCode::OK, "{}", retired.body);
    let after = send(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/categories/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(after.body["retired"], true);
    assert_ne!(after.etag, before.etag, "retiring moves the version on");
}

fn event(lift_percent: i64) -> Value {
    json!({"name": "Release 5.0", "kind": "release", "starts_at": "2030-01-10T09:00:00Z",
           "ends_at": "2030-01-11T09:00:00Z", "lift_percent": lift_percent})
}

async fn staffing_events_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    let id = created_id(&app, &admin, "/api/v1/staffing/events", event(150)).await;
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: format!("/api/v1/staffing/events/{id}"),
            write_path: None,
            write: Method::PUT,
            first: event(200),
            second: event(250),
            field: "/lift_percent",
            deletable: true,
        },
    )
    .await;
}

fn weights(satisfaction: u32) -> Value {
    json!({"volume_trend": 15, "severe_open": 25, "satisfaction": satisfaction,
           "incidents": 15, "escalations": 15})
}

async fn health_weights_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    // On the default weights the version is 0: a write prepared against them is checked too.
    let read = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/success/health-weights",
        None,
        None,
    )
    .await;
    assert_eq!(read.etag.as_deref(), Some("\"0\""), "{}", read.body);
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/success/health-weights".into(),
            write_path: None,
            write: Method::PUT,
            first: weights(40),
            second: weights(50),
            field: "/satisfaction",
            deletable: false,
        },
    )
    .await;
}

fn account(stage: &str) -> Value {
    json!({"owner_email": "agent@vendor.example", "stage": stage, "renewal_at": "2027-03-31"})
}

async fn success_accounts_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    // Before its first save an account is at version 0: a write prepared then is checked too.
    let read = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/success/accounts/initech",
        None,
        None,
    )
    .await;
    assert_eq!(read.etag.as_deref(), Some("\"0\""), "{}", read.body);
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/success/accounts/initech".into(),
            write_path: None,
            write: Method::PUT,
            first: account("adoption"),
            second: account("renewal"),
            field: "/stage",
            deletable: false,
        },
    )
    .await;
}

async fn partner_profiles_carry_versions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    check_versions(
        &app,
        Resource {
            token: &admin,
            read: "/api/v1/partners/acme".into(),
            write_path: None,
            write: Method::PATCH,
            first: json!({"relationship_manager": "agent@vendor.example"}),
            second: json!({"relationship_manager": null}),
            field: "/relationship_manager",
            deletable: false,
        },
    )
    .await;
    // The profile's version is its organisation's: renaming the organisation moves it.
    let profile = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/partners/acme",
        None,
        None,
    )
    .await;
    let org = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/organizations/acme",
        None,
        None,
    )
    .await;
    assert_eq!(profile.etag, org.etag);
    // A change prepared against an older version is refused even when it changes nothing.
    let stale = send(
        &app,
        &admin,
        Method::PATCH,
        "/api/v1/partners/acme",
        Some("\"1\""),
        Some(&json!({})),
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(stale.body["error"]["code"], "stale");
}

/// Sends `writers` writes at once, all against `tag`; answers their statuses.
async fn race(
    app: &TestApp,
    method: Method,
    path: &str,
    tag: &str,
    bodies: Vec<Value>,
) -> Vec<StatusCode> {
    let token = app.tokens.admin.clone();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| send(app, &token, method.clone(), path, Some(tag), Some(body))),
    )
    .await;
    answers.iter().map(|a| a.status).collect()
}

async fn writers_racing_on_one_version_get_one_success_and_one_stale(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.tokens.admin.clone();
    // A row that exists: two writers read version 1 and save at the same moment.
    let id = created_id(
        &app,
        &admin,
        "/api/v1/sla/policies",
        json!({"name": "Standard", "first_reply_minutes": 240}),
    )
    .await;
    let path = format!("/api/v1/sla/policies/{id}");
    let statuses = race(
        &app,
        Method::PUT,
        &path,
        "\"1\"",
        vec![
            json!({"name": "Standard", "first_reply_minutes": 120}),
            json!({"name": "Standard", "first_reply_minutes": 60}),
        ],
    )
    .await;
    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let stale = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((won, stale), (1, 1), "{statuses:?}");
    let now = send(&app, &admin, Method::GET, &path, None, None).await;
    assert_eq!(now.etag.as_deref(), Some("\"2\""), "written once");

    // A row that does not exist yet: two writers both saw the built-in template (version 0)
    // and save their own at the same moment; only one becomes version 1.
    let statuses = race(
        &app,
        Method::PUT,
        "/api/v1/templates/update",
        "\"0\"",
        vec![
            template("Update: {{title}}"),
            template("News about {{title}}"),
        ],
    )
    .await;
    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let stale = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((won, stale), (1, 1), "{statuses:?}");
    let now = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/templates/update",
        None,
        None,
    )
    .await;
    assert_eq!(now.etag.as_deref(), Some("\"1\""), "written once");
}

/// What every stale form answer shows: 409, the plain words, and the current version in the
/// hidden field so saving again is a choice made over what is there now.
fn assert_stale_form(page: &common::browser::Page, version: i64) {
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.html);
    assert!(
        page.html.contains(
            "changed while you were editing — review the current values below and save again"
        ),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains(&format!(r#"name="version" value="{version}""#)),
        "{}",
        page.html
    );
}

async fn a_stale_policy_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = created_id(
        &app,
        &t.admin,
        "/api/v1/sla/policies",
        json!({"name": "Standard", "first_reply_minutes": 240}),
    )
    .await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get(&format!("/sla?policy={id}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    assert!(form.html.contains(r#"value="4h""#), "{}", form.html);
    // Meanwhile a colleague changes the policy through the API.
    let path = format!("/api/v1/sla/policies/{id}");
    let changed = app
        .put(
            &t.admin,
            &path,
            json!({"name": "Standard", "first_reply_minutes": 30}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let id_text = id.to_string();
    let fields = [
        ("id", id_text.as_str()),
        ("version", "1"),
        ("name", "Standard"),
        ("first_reply", "7h"),
    ];
    let stale = admin.post("/sla/policies", &fields).await;
    assert_stale_form(&stale, 2);
    assert!(stale.html.contains(r#"value="7h""#), "typed value kept");
    assert!(
        stale.html.contains("first reply 30 m,"),
        "the current value shown beside the form: {}",
        stale.html
    );
    assert_eq!(
        app.get(&t.admin, &path).await.body["first_reply_minutes"],
        30
    );
    // Sent again from the form it came back in, it lands.
    let again = admin
        .post(
            "/sla/policies",
            &[
                ("id", id_text.as_str()),
                ("version", "2"),
                ("name", "Standard"),
                ("first_reply", "7h"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.html);
    assert_eq!(
        app.get(&t.admin, &path).await.body["first_reply_minutes"],
        420
    );
}

async fn a_stale_calendar_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = created_id(&app, &t.admin, "/api/v1/sla/calendars", calendar("Berlin")).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get(&format!("/sla?calendar={id}")).await;
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    assert!(form.html.contains("mon 09:00-17:00"), "{}", form.html);
    let path = format!("/api/v1/sla/calendars/{id}");
    let changed = app.put(&t.admin, &path, calendar("Berlin office")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let id_text = id.to_string();
    let stale = admin
        .post(
            "/sla/calendars",
            &[
                ("id", id_text.as_str()),
                ("version", "1"),
                ("name", "Berlin HQ"),
                ("time_zone", "Europe/Berlin"),
                ("hours", "mon-fri 08:00-16:00"),
            ],
        )
        .await;
    assert_stale_form(&stale, 2);
    assert!(
        stale.html.contains("mon-fri 08:00-16:00"),
        "typed hours kept"
    );
    assert!(
        stale.html.contains(r#"value="Berlin HQ""#),
        "typed name kept"
    );
    assert_eq!(app.get(&t.admin, &path).await.body["name"], "Berlin office");
}

async fn a_stale_rule_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = created_id(&app, &t.admin, "/api/v1/routing/rules", rule("Vault to L2")).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/routing").await;
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    let path = format!("/api/v1/routing/rules/{id}");
    let changed = app.put(&t.admin, &path, rule("Vault cases to L2")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let typed = rule("Vault cases to tier 3").to_string();
    let stale = admin
        .post(
            &format!("/routing/{id}"),
            &[
                ("version", "1"),
                ("action", "save"),
                ("definition", typed.as_str()),
            ],
        )
        .await;
    assert_stale_form(&stale, 2);
    assert!(
        stale.html.contains("Vault cases to tier 3"),
        "typed rule kept"
    );
    assert!(
        stale.html.contains("Vault cases to L2"),
        "the current rule shown"
    );
    assert_eq!(
        app.get(&t.admin, &path).await.body["name"],
        "Vault cases to L2"
    );
    // Deleting from a stale form is refused the same way.
    let delete = admin
        .post(
            &format!("/routing/{id}"),
            &[("version", "1"), ("action", "delete")],
        )
        .await;
    assert_eq!(delete.status, StatusCode::CONFLICT, "{}", delete.html);
    assert_eq!(app.get(&t.admin, &path).await.status, StatusCode::OK);
}

async fn a_stale_queue_member_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    queue_l2(&app).await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/queues").await;
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    let member = format!("/api/v1/queues/l2/members/{}", app.agent_id);
    let changed = app
        .put(&t.admin, &member, json!({"skills": ["vault"]}))
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    let agent = app.agent_id.to_string();
    let stale = admin
        .post(
            "/queues/l2/members",
            &[
                ("version", "1"),
                ("user", agent.as_str()),
                ("skills", "backup, sync"),
            ],
        )
        .await;
    assert_stale_form(&stale, 2);
    assert!(
        stale.html.contains(r#"value="backup, sync""#),
        "typed skills kept"
    );
    assert!(
        stale.html.contains("skills: vault"),
        "the members as they are now"
    );
    let now = app.get(&t.admin, "/api/v1/queues/l2").await.body;
    assert_eq!(now["members"][0]["skills"], json!(["vault"]));
}

async fn a_stale_macro_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = created_id(&app, &t.agent, "/api/v1/macros", a_macro("Ask for logs")).await;
    let agent = Browser::sign_in(&app, "agent@vendor.example").await;
    let form = agent.get("/macros").await;
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    let path = format!("/api/v1/macros/{id}");
    let changed = app.put(&t.agent, &path, a_macro("Ask for the logs")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = agent
        .post(
            &format!("/macros/{id}"),
            &[
                ("version", "1"),
                ("title", "Logs, please"),
                ("body", "Could you attach the agent log?"),
                ("status", "pending"),
            ],
        )
        .await;
    assert_stale_form(&stale, 2);
    assert!(
        stale.html.contains(r#"value="Logs, please""#),
        "typed title kept"
    );
    assert!(stale.html.contains("Could you attach the agent log?"));
    assert_eq!(
        app.get(&t.agent, &path).await.body["title"],
        "Ask for the logs"
    );
}

async fn a_stale_agreement_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/partners/acme/agreement").await;
    assert!(
        form.html.contains(r#"name="version" value="0""#),
        "{}",
        form.html
    );
    let path = "/api/v1/partners/acme/agreement";
    let changed = app.put(&t.admin, path, agreement("never")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = admin
        .post(
            "/partners/acme/agreement",
            &[
                ("version", "0"),
                ("customer_owner", "partner"),
                ("billing_owner", "vendor"),
                ("updates_distributed_by", "partner"),
                ("vendor_direct_contact", "allowed"),
                ("troubleshooting_checklist", "Collect the agent log"),
                ("required_certified_technicians", "3"),
                ("fee_model", "none"),
            ],
        )
        .await;
    assert_stale_form(&stale, 1);
    assert!(
        stale.html.contains("Collect the agent log"),
        "typed checklist kept"
    );
    assert!(stale.html.contains(r#"value="3""#), "typed count kept");
    assert_eq!(
        app.get(&t.admin, path).await.body["vendor_direct_contact"],
        "never"
    );
}

async fn a_stale_template_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/incidents/templates").await;
    assert!(
        form.html.contains(r#"name="version" value="0""#),
        "{}",
        form.html
    );
    let path = "/api/v1/templates/resolved";
    let changed = app
        .put(&t.admin, path, template("Resolved: {{title}}"))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = admin
        .post(
            "/incidents/templates/resolved",
            &[
                ("version", "0"),
                ("subject", "All clear: {{title}}"),
                ("body", "It works again."),
            ],
        )
        .await;
    assert_stale_form(&stale, 1);
    assert!(
        stale.html.contains(r#"value="All clear: {{title}}""#),
        "typed subject kept"
    );
    assert!(stale.html.contains("It works again."));
    assert_eq!(
        app.get(&t.admin, path).await.body["subject"],
        "Resolved: {{title}}"
    );
}

async fn a_stale_category_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let id = created_id(
        &app,
        &t.admin,
        "/api/v1/categories",
        json!({"name": "Sync"}),
    )
    .await;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get(&format!("/categories?edit={id}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    assert!(
        form.html.contains(r#"name="version" value="1""#),
        "{}",
        form.html
    );
    let path = format!("/api/v1/categories/{id}");
    let changed = app
        .put(&t.admin, &path, json!({"name": "Sync engine"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = admin
        .post(
            "/categories",
            &[
                ("id", id.to_string().as_str()),
                ("version", "1"),
                ("name", "Synchronisation"),
                ("parent_id", ""),
            ],
        )
        .await;
    assert_stale_form(&stale, 2);
    assert!(
        stale.html.contains(r#"value="Synchronisation""#),
        "typed name kept"
    );
    assert!(stale.html.contains("Sync engine"), "the current name shown");
    assert_eq!(app.get(&t.admin, &path).await.body["name"], "Sync engine");
}

async fn a_stale_weights_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/success").await;
    assert!(
        form.html.contains(r#"name="version" value="0""#),
        "{}",
        form.html
    );
    let path = "/api/v1/success/health-weights";
    let changed = app.put(&t.admin, path, weights(40)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = admin
        .post(
            "/success/weights",
            &[
                ("version", "0"),
                ("volume_trend", "15"),
                ("severe_open", "25"),
                ("satisfaction", "77"),
                ("incidents", "15"),
                ("escalations", "15"),
            ],
        )
        .await;
    assert_stale_form(&stale, 1);
    assert!(stale.html.contains(r#"value="77""#), "typed weight kept");
    assert!(
        stale.html.contains("satisfaction 40"),
        "the current weights shown"
    );
    assert_eq!(app.get(&t.admin, path).await.body["satisfaction"], 40);
}

async fn a_stale_account_form_says_so_and_keeps_the_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = &app.tokens;
    let admin = Browser::sign_in(&app, "admin@vendor.example").await;
    let form = admin.get("/success/accounts/initech").await;
    assert!(
        form.html.contains(r#"name="version" value="0""#),
        "{}",
        form.html
    );
    let path = "/api/v1/success/accounts/initech";
    let changed = app.put(&t.admin, path, account("adoption")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = admin
        .post(
            "/success/accounts/initech",
            &[
                ("version", "0"),
                ("owner_email", ""),
                ("stage", "at_risk"),
                ("renewal_at", "2028-01-15"),
            ],
        )
        .await;
    assert_stale_form(&stale, 1);
    assert!(
        stale.html.contains(r#"value="2028-01-15""#),
        "typed date kept"
    );
    assert!(
        stale.html.contains("stage adoption, renewal 2027-03-31"),
        "the current values shown"
    );
    assert_eq!(app.get(&t.admin, path).await.body["stage"], "adoption");
}
