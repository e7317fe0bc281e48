//! Reads whose number of queries must not grow with the rows they show: the partner page's
//! data and an incident's audience; and the staff case page, which a node draws from its
//! kept data after one query while nothing it shows has changed. Each is run inside a span, and every statement sqlx runs
//! inside it is counted, on a fixture with few rows and one with many; both counts must be
//! the same small number.
//!
//! sqlx 0.8 logs each statement it runs as a `tracing` event with target `sqlx::query` at
//! DEBUG (`sqlx_core::logger::QueryLogger`); on SQLite the connection's worker thread enters
//! the caller's span first, so statements are attributed to the span whichever thread runs
//! them. Events outside the span (the WAL checkpointer, the indexer) are not counted.

mod common;

use backline_domain::partner::{Agreement, Question, VendorContact};
use backline_domain::{OrgId, OrgKind, PartnerKinds, Priority, Role, Tier, UserId};
use backline_server::AppState;
use backline_store::{NewCase, NewCourse, NewOrg, NewUser, Org, Store};
use common::{Backend, TestApp};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Instrument, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

on_both_backends!(
    a_staff_case_page_seen_again_reads_one_query,
    the_partner_page_reads_a_fixed_number_of_queries,
    an_incident_audience_reads_a_fixed_number_of_queries,
);

/// The name of the spans whose statements are counted.
const SPAN: &str = "count_queries";

#[derive(Default)]
struct Tally {
    statements: Vec<String>,
    /// The span is gone: nothing more can be attributed to it.
    closed: bool,
}

fn tallies() -> &'static Mutex<HashMap<u64, Tally>> {
    static TALLIES: OnceLock<Mutex<HashMap<u64, Tally>>> = OnceLock::new();
    TALLIES.get_or_init(Default::default)
}

/// Which tally a counting span feeds (stored in the span's extensions).
struct TallyId(u64);

/// Reads the `tally` field of a counting span, and the statement of a `sqlx::query` event.
#[derive(Default)]
struct Fields {
    tally: Option<u64>,
    statement: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "tally" {
            self.tally = Some(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.statement = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" && self.statement.is_none() {
            self.statement = Some(format!("{value:?}"));
        }
    }
}

struct QueryCounter;

impl<S> Layer<S> for QueryCounter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != SPAN {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(tally), Some(span)) = (fields.tally, ctx.span(id)) {
            span.extensions_mut().insert(TallyId(tally));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(TallyId(tally)) = span.extensions().get::<TallyId>() {
                let mut fields = Fields::default();
                event.record(&mut fields);
                let statement = fields.statement.unwrap_or_default();
                // New pool connections run their set-up PRAGMAs inside whichever call opened
                // them: that is connection management, not the reads under test.
                if !statement.trim_start().to_uppercase().starts_with("PRAGMA") {
                    let mut all = tallies().lock().unwrap();
                    all.entry(*tally).or_default().statements.push(statement);
                }
                return;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(TallyId(tally)) = span.extensions().get::<TallyId>() {
                tallies().lock().unwrap().entry(*tally).or_default().closed = true;
            }
        }
    }
}

fn install_counter() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // sqlx checks that its DEBUG events are enabled before building them, so the filter
        // lets them (and the counting spans) through, and nothing else.
        let filter = tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() == "sqlx::query" || meta.name() == SPAN
        });
        let subscriber = tracing_subscriber::registry().with(QueryCounter.with_filter(filter));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber in this test binary");
    });
}

/// Runs `work` inside a counting span; returns its output and the statements it ran.
async fn counting<F: Future>(work: F) -> (F::Output, Vec<String>) {
    install_counter();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let tally = NEXT.fetch_add(1, Ordering::Relaxed);
    let output = work
        .instrument(tracing::info_span!(SPAN, tally = tally))
        .await;
    // SQLite logs a statement when its worker thread drops the statement, a moment after the
    // last row reached the caller; the worker holds the span until then, so wait for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        {
            let mut all = tallies().lock().unwrap();
            if all.get(&tally).is_some_and(|t| t.closed) {
                let statements = all.remove(&tally).unwrap_or_default().statements;
                return (output, statements);
            }
        }
        assert!(Instant::now() < deadline, "the counting span never closed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn user(store: &Store, email: &str, role: Role, org: Option<OrgId>) -> UserId {
    store
        .create_user(&NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            role,
            org,
            tier: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id
}

async fn org(store: &Store, slug: &str, kind: OrgKind, served_by: Option<OrgId>) -> Org {
    store
        .create_org(&NewOrg {
            slug: slug.into(),
            name: slug.to_uppercase(),
            kind,
            partner_kinds: PartnerKinds::new(vec![]),
            technical_level: None,
            served_by,
        })
        .await
        .unwrap()
}

/// A partner with `n` end customers, `n` technicians (each certified), `n` escalations and
/// `n` fee reports, an agreement and a relationship manager.
async fn partner_with(
    store: &Store,
    slug: &str,
    n: usize,
    admin: UserId,
    course: backline_domain::CourseId,
) -> Org {
    let partner = org(store, slug, OrgKind::Partner, None).await;
    store
        .set_agreement(partner.id, &Agreement::default(), admin)
        .await
        .unwrap();
    store
        .set_relationship_manager(partner.id, Some(admin), None)
        .await
        .unwrap();
    let course = store.course(course).await.unwrap();
    for i in 0..n {
        let customer = org(
            store,
            &format!("{slug}-customer-{i}"),
            OrgKind::Customer,
            Some(partner.id),
        )
        .await;
        let tech = user(
            store,
            &format!("tech{i}@{slug}.example"),
            Role::Partner,
            Some(partner.id),
        )
        .await;
        store
            .record_attempt(&course, tech, Some(partner.id), &[Some(0)], 100, true)
            .await
            .unwrap();
        store
            .create_case(&NewCase {
                subject: format!("Escalation {i}"),
                description: String::new(),
                priority: Priority::Normal,
                product: None,
                channel: backline_domain::Channel::Api,
                tier: Tier::L1,
                tags: Vec::new(),
                organization: customer.id,
                partner: Some(partner.id),
                requester: tech,
                created_at: None,
                routing: None,
                escalation: None,
            })
            .await
            .unwrap();
        store
            .report_fees(partner.id, &format!("2020-{:02}", i % 12 + 1), 1000, admin)
            .await
            .unwrap();
    }
    store.org(partner.id).await.unwrap()
}

async fn the_partner_page_reads_a_fixed_number_of_queries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let store = &app.store;
    let admin = store
        .user_by_email("admin@vendor.example")
        .await
        .unwrap()
        .id;
    let course = store
        .create_course(&NewCourse {
            product: "backup".into(),
            release: "7".into(),
            title: "Backup".into(),
            material: String::new(),
            questions: vec![Question {
                text: "?".into(),
                choices: vec!["yes".into(), "no".into()],
                correct: 0,
            }],
            pass_mark: 100,
            validity_days: 365,
        })
        .await
        .unwrap()
        .id;
    let few = partner_with(store, "few", 2, admin, course).await;
    let many = partner_with(store, "many", 30, admin, course).await;

    let now = backline_domain::Timestamp::now();
    let page = |partner: Org| async move {
        backline_server::partners::service::partner_overview(store, &partner, now)
            .await
            .unwrap()
    };
    // Once each before counting, so the pools hold the connections they need.
    page(few.clone()).await;
    page(many.clone()).await;
    let (small, small_queries) = counting(page(few)).await;
    let (large, large_queries) = counting(page(many)).await;

    assert_eq!(small.scorecard.escalations, 2);
    assert_eq!(large.scorecard.escalations, 30);
    assert_eq!(
        large.customers.len(),
        30 + 1,
        "its customers and the partner itself"
    );
    assert_eq!(large.statements.len(), 4);
    assert_eq!(
        small_queries.len(),
        large_queries.len(),
        "few rows: {small_queries:#?}\nmany rows: {large_queries:#?}"
    );
    // The page renders what the overview read.
    let cookie = app.session_cookie("admin@vendor.example").await;
    let html = app
        .client
        .get(format!("{}/partners/many", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"statements\"") && html.contains("MANY-CUSTOMER-29"));
    assert!(
        large_queries.len() <= 8,
        "agreement, escalations, fee reports, certificates, customers, people, manager, \
         satisfaction: {large_queries:#?}"
    );
}

/// A service used by `direct` customers the vendor contacts and `relayed` customers it may
/// not (their partner's agreement says never), each with two users. Returns the number of
/// distinct people who should hear: the direct customers' users and the partners' technicians.
async fn service_with(
    app: &TestApp,
    slug: &str,
    direct: usize,
    relayed: usize,
    admin: UserId,
) -> (backline_store::crisis::Service, usize) {
    let store = &app.store;
    let service = store
        .create_service(
            slug,
            slug,
            backline_domain::crisis::ServiceKind::Service,
            "cloud",
        )
        .await
        .unwrap();
    let never = Agreement {
        vendor_direct_contact: VendorContact::Never,
        ..Agreement::default()
    };
    let mut customers = Vec::new();
    let mut expected = 0;
    for i in 0..direct {
        let customer = org(
            store,
            &format!("{slug}-direct-{i}"),
            OrgKind::Customer,
            None,
        )
        .await;
        for u in 0..2 {
            user(
                store,
                &format!("u{u}@{slug}-direct-{i}.example"),
                Role::Customer,
                Some(customer.id),
            )
            .await;
            expected += 1;
        }
        customers.push(customer.id);
    }
    // Every three relayed customers share a partner with two technicians.
    let mut partner = None;
    for i in 0..relayed {
        if i % 3 == 0 {
            let p = org(
                store,
                &format!("{slug}-partner-{i}"),
                OrgKind::Partner,
                None,
            )
            .await;
            store.set_agreement(p.id, &never, admin).await.unwrap();
            for t in 0..2 {
                user(
                    store,
                    &format!("t{t}@{slug}-partner-{i}.example"),
                    Role::Partner,
                    Some(p.id),
                )
                .await;
                expected += 1;
            }
            partner = Some(p.id);
        }
        let customer = org(
            store,
            &format!("{slug}-relayed-{i}"),
            OrgKind::Customer,
            partner,
        )
        .await;
        for u in 0..2 {
            user(
                store,
                &format!("u{u}@{slug}-relayed-{i}.example"),
                Role::Customer,
                Some(customer.id),
            )
            .await;
        }
        customers.push(customer.id);
    }
    store
        .set_service_customers(service.id, &customers)
        .await
        .unwrap();
    (service, expected)
}

async fn an_incident_audience_reads_a_fixed_number_of_queries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app
        .store
        .user_by_email("admin@vendor.example")
        .await
        .unwrap()
        .id;
    let (few, few_expected) = service_with(&app, "few", 1, 1, admin).await;
    let (many, many_expected) = service_with(&app, "many", 18, 12, admin).await;
    // One confirmed status subscriber per service.
    for service in [&few, &many] {
        let token = format!("token-{}", service.slug);
        let confirm = backline_store::crisis::Mail {
            recipient: format!("watcher@{}.example", service.slug),
            subject: "confirm".into(),
            body: String::new(),
            kind: "confirm".into(),
            unsubscribe: None,
        };
        app.store
            .subscribe(&confirm.recipient, &[(service.id, token.clone())], &confirm)
            .await
            .unwrap();
        app.store.confirm_subscription(&token).await.unwrap();
    }

    let state: &AppState = &app.state;
    let audience = |service: backline_store::crisis::Service| async move {
        backline_server::crisis::service::audience(state, &[service], false)
            .await
            .unwrap()
    };
    audience(few.clone()).await;
    audience(many.clone()).await;
    let (small, small_queries) = counting(audience(few)).await;
    let (large, large_queries) = counting(audience(many)).await;

    assert_eq!(small.len(), few_expected + 1, "{small:?}");
    assert_eq!(large.len(), many_expected + 1, "{large:?}");
    assert!(large.iter().all(|(email, _)| !email.contains("-relayed-")));
    assert_eq!(
        small_queries.len(),
        large_queries.len(),
        "few rows: {small_queries:#?}\nmany rows: {large_queries:#?}"
    );
    assert!(
        large_queries.len() <= 4,
        "usage, affected customers' users, subscriptions, relaying partners' technicians: \
         {large_queries:#?}"
    );
}

/// The staff case page is the page agents open most. Seen again with nothing changed, it costs
/// one query (the page's counters and who else is there); a change made behind this node's
/// back (straight in the database, as another node or job would) shows on the next view.
async fn a_staff_case_page_seen_again_reads_one_query(backend: Backend) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let app = TestApp::start(backend).await;
    let agent = app.store.user(UserId(app.agent_id)).await.unwrap();
    let cookie = app.session_cookie(&agent.email).await;
    let case = app
        .file_case(
            &app.tokens.initech,
            serde_json::json!({"subject": "Nightly export stalls", "description": "The export stops at 40%", "product": "Backup"}),
        )
        .await;
    app.settle_index().await;
    let router = backline_server::app(app.state.clone());
    let view = || {
        let (router, cookie) = (router.clone(), cookie.clone());
        async move {
            let request = Request::get(format!("/cases/{case}"))
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    // The first views work out and keep the suggestions, then keep the page; from then on a
    // view is one query. (Waits for that, as the sweep or the suggester may still be writing
    // to the case.)
    let kept_view = || async {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (html, statements) = counting(view()).await;
            if statements.len() == 1 {
                return (html, statements);
            }
            assert!(
                Instant::now() < deadline,
                "never one query: {statements:#?}"
            );
        }
    };
    let (html, statements) = kept_view().await;
    assert!(
        statements[0].starts_with("SELECT COALESCE((SELECT revision FROM"),
        "{statements:#?}"
    );
    assert!(html.contains("Nightly export stalls") && html.contains("id=\"knowledge\""));
    assert!(
        html.contains("id=\"update\"") && html.contains("id=\"people\""),
        "agent tools"
    );
    assert!(!app.state.case_pages.is_empty());

    // An internal note written by another node: the next view reads again and shows it.
    app.store
        .add_comment(&backline_store::NewComment {
            case: backline_domain::CaseId(case),
            author: agent.id,
            body: "Written on another node".into(),
            public: false,
            status_after: None,
            then: Default::default(),
            at: None,
        })
        .await
        .unwrap();
    let (html, statements) = counting(view()).await;
    assert!(html.contains("Written on another node"));
    assert!(statements.len() > 1, "read again: {statements:#?}");
    let (html, _) = kept_view().await;
    assert!(html.contains("Written on another node"));

    // A name shown on the page, changed in the database: shown at once.
    let requester = app
        .store
        .user_by_email("user@initech.example")
        .await
        .unwrap();
    backline_store::testing::execute_raw(
        &app.store,
        &format!(
            "UPDATE users SET name = 'Peter Renamed' WHERE id = {}",
            requester.id.0
        ),
    )
    .await
    .unwrap();
    let (html, _) = counting(view()).await;
    assert!(html.contains("Peter Renamed"));

    // Another agent opens the case: the kept page says so at once.
    let colleague = app
        .store
        .user_by_email("admin@vendor.example")
        .await
        .unwrap();
    let now = backline_domain::Timestamp::now();
    app.store
        .touch_presence(
            backline_domain::CaseId(case),
            colleague.id,
            false,
            now,
            backline_domain::Timestamp::from_millis(0),
        )
        .await
        .unwrap();
    let (html, statements) = kept_view().await;
    assert_eq!(statements.len(), 1);
    assert!(html.contains(&colleague.name), "presence");
}
