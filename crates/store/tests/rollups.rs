//! The dashboards' daily rollups on SQLite and PostgreSQL: the triggers mark every day a
//! change touches (whatever statement makes it), a rebuilt day holds exactly its cases'
//! facts, and rebuilds racing writers (and each other) never leave a stale day marked
//! current.

use backline_domain::analytics::CaseFilter;
use backline_domain::rollups::{decode, Day, Family};
use backline_domain::{OrgId, OrgKind, PartnerKind, PartnerKinds, Role, Span, Timestamp};
use backline_store::testing::{bulk_cases, execute_raw, fresh_postgres, fresh_sqlite, BulkCases};
use backline_store::{NewOrg, NewUser, Store, StoreConfig};

/// A store with cases, and ids to change them to.
struct Fixture {
    store: Store,
    today: Day,
    partner: i64,
    organizations: [i64; 2],
    category: i64,
    queue: i64,
}

/// A store with `count` cases spread over the `days` days before today's midnight.
async fn store_with_cases(config: StoreConfig, count: usize, days: i64) -> Fixture {
    let store = Store::open(&config).await.unwrap();
    let partner = store
        .create_org(&NewOrg {
            slug: "acme".into(),
            name: "Acme".into(),
            kind: OrgKind::Partner,
            partner_kinds: PartnerKinds::new(vec![PartnerKind::Reseller]),
            technical_level: None,
            served_by: None,
        })
        .await
        .unwrap()
        .id;
    let mut organizations = Vec::new();
    let mut requesters = Vec::new();
    for (slug, served_by) in [("globex", Some(partner)), ("initech", None)] {
        let org = store
            .create_org(&NewOrg {
                slug: slug.into(),
                name: slug.into(),
                kind: OrgKind::Customer,
                partner_kinds: PartnerKinds::default(),
                technical_level: None,
                served_by,
            })
            .await
            .unwrap()
            .id;
        organizations.push(org);
        requesters.push(
            user(
                &store,
                &format!("user@{slug}.example"),
                Role::Customer,
                Some(org),
            )
            .await,
        );
    }
    let agents = vec![
        user(&store, "agent@vendor.example", Role::Agent, None).await,
        user(&store, "other@vendor.example", Role::Agent, None).await,
    ];
    let today = Day::of(Timestamp::now());
    bulk_cases(
        &store,
        &BulkCases {
            count,
            partners: organizations
                .iter()
                .map(|o| (*o == organizations[0]).then_some(partner))
                .collect(),
            organizations: organizations.clone(),
            requesters,
            agents,
            span_days: days,
            // Midnight, so every case lies in a past day.
            now: today.start(),
            replies: true,
        },
    )
    .await
    .unwrap();
    let category = store.create_category(None, "Sync").await.unwrap();
    execute_raw(
        &store,
        "INSERT INTO queues (slug, name, model, created_at) VALUES ('l1', 'L1', 'tiered', 0)",
    )
    .await
    .unwrap();
    let (queue,): (i64,) = sqlx_one(&store, "SELECT id FROM queues WHERE slug = 'l1'").await;
    let organizations = [organizations[0].0, organizations[1].0];
    Fixture {
        store,
        today,
        partner: partner.0,
        organizations,
        category,
        queue,
    }
}

async fn user(
    store: &Store,
    email: &str,
    role: Role,
    org: Option<OrgId>,
) -> backline_domain::UserId {
    store
        .create_user(&NewUser {
            email: email.into(),
            name: email.into(),
            role,
            org,
            tier: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id
}

/// Rebuilds until no day before `today` waits.
async fn settle(store: &Store, today: Day) {
    for _ in 0..1000 {
        store.refresh_rollups(today, 100).await.unwrap();
        if store.rollups_waiting(today).await.unwrap() == 0 {
            return;
        }
    }
    panic!("rollups never settled");
}

/// Every day's current rollup holds exactly the facts of its cases, read now.
async fn assert_rollups_match_cases(store: &Store, first: Day, end: Day) -> usize {
    let mut checked = 0;
    for family in [Family::Filed, Family::Solved] {
        for stored in store.current_rollups(family, first, end).await.unwrap() {
            let mut rolled: Vec<String> = decode(&stored.facts)
                .unwrap()
                .iter()
                .map(|f| format!("{f:?}"))
                .collect();
            let rows = store
                .case_facts(
                    family,
                    stored.day.start(),
                    stored.day.end(),
                    &CaseFilter::default(),
                )
                .await
                .unwrap();
            let mut raw: Vec<String> = rows.iter().map(|r| format!("{:?}", r.facts())).collect();
            rolled.sort();
            raw.sort();
            assert_eq!(rolled, raw, "{family:?} day {}", stored.day.0);
            checked += 1;
        }
    }
    checked
}

async fn marked_days_are_rebuilt_to_their_cases(config: StoreConfig) {
    let Fixture {
        store,
        today,
        partner,
        organizations: [a, b],
        category,
        queue,
    } = store_with_cases(config, 600, 12).await;
    // Every day with cases waits: the inserts marked them.
    let waiting = store.rollups_waiting(today).await.unwrap();
    assert!(waiting >= 12, "{waiting}");
    assert!(store
        .current_rollups(Family::Filed, Day(0), today)
        .await
        .unwrap()
        .is_empty());
    settle(&store, today).await;
    let first = Day(today.0 - 13);
    let checked = assert_rollups_match_cases(&store, first, today).await;
    assert!(checked >= 20, "filed and solved days: {checked}");
    let (_, rolled, _) = store.rollup_totals().await.unwrap();
    assert!(
        rolled >= 600,
        "every case once as filed, the solved ones again: {rolled}"
    );

    // A change made by any statement marks the days it touches: the filing day, and the
    // solving days before and after.
    let (id, created, solved): (i64, i64, i64) = sqlx_one(
        &store,
        "SELECT id, created_at, solved_at FROM cases WHERE solved_at IS NOT NULL \
         AND solved_at / 86400000 <> created_at / 86400000 ORDER BY id LIMIT 1",
    )
    .await;
    let filed_day = Day(created / 86_400_000);
    let solved_day = Day(solved / 86_400_000);
    let later = solved + Span::DAY.as_millis();
    execute_raw(
        &store,
        &format!("UPDATE cases SET solved_at = {later} WHERE id = {id}"),
    )
    .await
    .unwrap();
    let current = |family| {
        let store = store.clone();
        async move {
            store
                .current_rollups(family, Day(0), Day(today.0 + 2))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.day)
                .collect::<Vec<_>>()
        }
    };
    assert!(!current(Family::Filed).await.contains(&filed_day));
    let solved_now = current(Family::Solved).await;
    assert!(!solved_now.contains(&solved_day));
    assert!(!solved_now.contains(&Day(later / 86_400_000)));
    // A change to nothing the dashboards read marks nothing.
    settle(&store, today).await;
    execute_raw(
        &store,
        &format!("UPDATE cases SET subject = 'renamed', sla_state = NULL WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(store.rollups_waiting(today).await.unwrap(), 0);
    // Nor does writing a column with the value it had.
    execute_raw(
        &store,
        &format!("UPDATE cases SET tier = tier, product = product WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(store.rollups_waiting(today).await.unwrap(), 0);
    // Each fact column does.
    for set in [
        format!("category_id = {category}"),
        "product = 'other'".to_string(),
        format!("partner_id = CASE WHEN partner_id IS NULL THEN {partner} ELSE NULL END"),
        format!("organization_id = CASE WHEN organization_id = {a} THEN {b} ELSE {a} END"),
        "channel = 'email'".to_string(),
        "tier = tier % 3 + 1".to_string(),
        format!("queue_id = {queue}"),
        "first_reply_at = created_at + 5".to_string(),
        "handoffs = handoffs + 1".to_string(),
        "reopens = reopens + 1".to_string(),
        "classification = 'known'".to_string(),
        "created_at = created_at - 86400000".to_string(),
    ] {
        settle(&store, today).await;
        execute_raw(&store, &format!("UPDATE cases SET {set} WHERE id = {id}"))
            .await
            .unwrap_or_else(|e| panic!("{set}: {e}"));
        assert!(store.rollups_waiting(today).await.unwrap() > 0, "{set}");
    }
    // Deleting a case marks its days too.
    settle(&store, today).await;
    execute_raw(
        &store,
        &format!("DELETE FROM case_events WHERE case_id = {id}"),
    )
    .await
    .unwrap();
    execute_raw(
        &store,
        &format!("DELETE FROM comments WHERE case_id = {id}"),
    )
    .await
    .unwrap();
    execute_raw(&store, &format!("DELETE FROM cases WHERE id = {id}"))
        .await
        .unwrap();
    assert!(store.rollups_waiting(today).await.unwrap() > 0);
    settle(&store, today).await;
    assert_rollups_match_cases(&store, first, today).await;
}

/// Writers change the cases of a few days while two rebuilders work on the same days; once
/// the writers stop and the job settles, every current day holds its cases as they are. A
/// rebuild that deleted a change's mark without having seen the change would leave a day
/// current and wrong.
async fn rebuilds_racing_writers_leave_no_stale_day_current(config: StoreConfig) {
    let Fixture {
        store,
        today,
        category,
        ..
    } = store_with_cases(config, 400, 3).await;
    settle(&store, today).await;
    let days: Vec<Day> = (1..=3).map(|n| Day(today.0 - n)).collect();
    let ids: Vec<i64> = {
        let (low, high): (i64, i64) = sqlx_one(&store, "SELECT MIN(id), MAX(id) FROM cases").await;
        (low..=high).step_by(7).collect()
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut rebuilders = Vec::new();
    for worker in 0..2 {
        let (store, days, stop) = (store.clone(), days.clone(), stop.clone());
        rebuilders.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let day = days[(n + worker) % days.len()];
                for family in [Family::Filed, Family::Solved] {
                    store.rebuild_rollup(family, day).await.unwrap();
                }
                n += 1;
            }
        }));
    }
    let mut writers = Vec::new();
    for worker in 0..2i64 {
        let (store, ids) = (store.clone(), ids.clone());
        writers.push(tokio::spawn(async move {
            for (round, id) in ids.iter().enumerate() {
                let round = round as i64 + worker;
                let set = match round % 4 {
                    0 => format!("handoffs = handoffs + 1, tier = {}", 1 + round % 3),
                    1 => "solved_at = CASE WHEN solved_at IS NULL THEN created_at + 3600000 ELSE NULL END".to_string(),
                    2 => format!(
                        "category_id = CASE WHEN category_id IS NULL THEN {category} ELSE NULL END"
                    ),
                    _ => "first_reply_at = COALESCE(first_reply_at, created_at) + 1000".to_string(),
                };
                execute_raw(&store, &format!("UPDATE cases SET {set} WHERE id = {id}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for rebuilder in rebuilders {
        rebuilder.await.unwrap();
    }
    // What is current now (before any further rebuild) must already be right.
    assert_rollups_match_cases(&store, Day(today.0 - 5), Day(today.0 + 2)).await;
    settle(&store, today).await;
    let checked = assert_rollups_match_cases(&store, Day(today.0 - 5), Day(today.0 + 2)).await;
    assert!(checked >= 6, "{checked}");
}

async fn sqlx_one<T>(store: &Store, sql: &str) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    backline_store::testing::query_one(store, sql)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_marked_days_are_rebuilt_to_their_cases() {
    let (config, _dir) = fresh_sqlite();
    marked_days_are_rebuilt_to_their_cases(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_marked_days_are_rebuilt_to_their_cases() {
    marked_days_are_rebuilt_to_their_cases(fresh_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rebuilds_racing_writers_leave_no_stale_day_current() {
    let (config, _dir) = fresh_sqlite();
    rebuilds_racing_writers_leave_no_stale_day_current(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rebuilds_racing_writers_leave_no_stale_day_current() {
    rebuilds_racing_writers_leave_no_stale_day_current(fresh_postgres().await).await;
}
