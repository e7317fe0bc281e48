//! The same storage scenario on SQLite and on PostgreSQL: what is written reads back
//! identically, uniqueness is enforced, and every case change leaves its event.

use backline_domain::{
    CaseScope, CaseStatus, Channel, OrgId, OrgKind, PartnerKind, PartnerKinds, Priority, Role,
    TechnicalLevel, Tier, UserId,
};
use backline_store::testing::{fresh_postgres, fresh_sqlite};
use backline_store::{
    CaseChanges, CaseFilter, NewCase, NewComment, NewOrg, NewUser, Store, StoreConfig, StoreError,
};

async fn scenario(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    store.ping().await.unwrap();
    // Opening again runs no migration twice.
    Store::open(&config).await.unwrap();

    let partner = store
        .create_org(&NewOrg {
            slug: "acme".into(),
            name: "Acme Resellers".into(),
            kind: OrgKind::Partner,
            partner_kinds: PartnerKinds::new(vec![PartnerKind::Reseller, PartnerKind::Frontline]),
            technical_level: Some(TechnicalLevel::Expert),
            served_by: None,
        })
        .await
        .unwrap();
    let customer = store
        .create_org(&NewOrg {
            slug: "globex".into(),
            name: "Globex".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: Some(partner.id),
        })
        .await
        .unwrap();
    assert_eq!(customer.served_by.as_ref().unwrap().slug, "acme");
    let duplicate = store
        .create_org(&NewOrg {
            slug: "acme".into(),
            ..NewOrg {
                slug: String::new(),
                name: "x".into(),
                kind: OrgKind::Customer,
                partner_kinds: PartnerKinds::default(),
                technical_level: None,
                served_by: None,
            }
        })
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );

    let tech = store
        .create_user(&NewUser {
            email: "tech@acme.example".into(),
            name: "Tess Tech".into(),
            role: Role::Partner,
            org: Some(partner.id),
            tier: None,
            password_hash: Some("hash".into()),
        })
        .await
        .unwrap();
    let agent = store
        .create_user(&NewUser {
            email: "agent@vendor.example".into(),
            name: "Alex Agent".into(),
            role: Role::Agent,
            org: None,
            tier: Some(Tier::L2),
            password_hash: None,
        })
        .await
        .unwrap();
    assert_eq!(agent.tier, Some(Tier::L2));
    let (found, hash) = store.user_with_password("tech@acme.example").await.unwrap();
    assert_eq!((found.id, hash.as_deref()), (tech.id, Some("hash")));

    store.create_api_token(tech.id, "token-hash").await.unwrap();
    assert_eq!(
        store.user_for_api_token("token-hash").await.unwrap().id,
        tech.id
    );
    assert!(matches!(
        store.user_for_api_token("other").await,
        Err(StoreError::NotFound)
    ));

    let case = store
        .create_case(&NewCase {
            subject: "Backup fails".into(),
            description: "Disk full on node 3".into(),
            priority: Priority::High,
            product: Some("Backup".into()),
            channel: Channel::Api,
            tier: Tier::L1,
            tags: vec![],
            organization: customer.id,
            partner: Some(partner.id),
            requester: tech.id,
            created_at: None,
            routing: None,
            escalation: None,
        })
        .await
        .unwrap();
    assert_eq!(case.status, CaseStatus::New);
    let flag = case.partner.as_ref().unwrap();
    assert_eq!(flag.slug, "acme");
    assert_eq!(
        flag.kinds.as_slice(),
        &[PartnerKind::Reseller, PartnerKind::Frontline]
    );
    assert_eq!(flag.technical_level, Some(TechnicalLevel::Expert));

    let updated = store
        .update_case(
            case.id,
            &CaseChanges {
                status: Some(CaseStatus::Solved),
                assignee: Some(Some(agent.id)),
                tags: Some(vec!["disk".into()]),
                ..Default::default()
            },
            agent.id,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, CaseStatus::Solved);
    assert!(updated.solved_at.is_some());
    assert_eq!(updated.assignee.unwrap().id, agent.id);
    assert_eq!(updated.tags, ["disk"]);

    let note = |body: &str, public: bool| NewComment {
        case: case.id,
        author: agent.id,
        body: body.into(),
        public,
        status_after: None,
        then: Default::default(),
        at: None,
    };
    store.add_comment(&note("internal", false)).await.unwrap();
    let reply = store.add_comment(&note("public", true)).await.unwrap();
    assert!(reply.public);
    assert_eq!(store.comments(case.id, true).await.unwrap().len(), 2);
    let public = store.comments(case.id, false).await.unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].body, "public");

    let kinds: Vec<String> = store
        .case_events(case.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "status_changed",
            "assignee_changed",
            "tags_changed",
            // Solving classifies the case against its (here: no) links.
            "classified",
            "comment_added",
            "comment_added"
        ]
    );

    let filter = CaseFilter {
        limit: 10,
        ..Default::default()
    };
    let (mine, _) = store
        .list_cases(&filter, CaseScope::Partner(partner.id))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let (theirs, _) = store
        .list_cases(&filter, CaseScope::Partner(customer.id))
        .await
        .unwrap();
    assert!(theirs.is_empty());
    let text = CaseFilter {
        text: Some("DISK node".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_cases(&text, CaseScope::All)
            .await
            .unwrap()
            .0
            .len(),
        1
    );
    let miss = CaseFilter {
        text: Some("50%_off".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(store
        .list_cases(&miss, CaseScope::All)
        .await
        .unwrap()
        .0
        .is_empty());
    // Counting stops one past the cap: "more than the cap".
    let solved = CaseFilter {
        statuses: vec![CaseStatus::Solved, CaseStatus::Closed],
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_cases(&solved, CaseScope::All)
            .await
            .unwrap()
            .0
            .len(),
        1
    );
    assert_eq!(
        store
            .count_matching(&solved, CaseScope::All, 5)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_matching(&solved, CaseScope::All, 0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_matching(&filter, CaseScope::Partner(customer.id), 5)
            .await
            .unwrap(),
        0
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_store_scenario() {
    let (config, _dir) = fresh_sqlite();
    scenario(config).await;
}

#[tokio::test]
async fn postgres_store_scenario() {
    scenario(fresh_postgres().await).await;
}

/// A customer organisation called `slug` and one customer in it.
async fn customer(store: &Store, slug: &str) -> (OrgId, UserId) {
    let org = store
        .create_org(&NewOrg {
            slug: slug.into(),
            name: slug.into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: None,
        })
        .await
        .unwrap();
    let user = store
        .create_user(&NewUser {
            email: format!("asker@{slug}.example"),
            name: "Asker".into(),
            role: Role::Customer,
            org: Some(org.id),
            tier: None,
            password_hash: None,
        })
        .await
        .unwrap();
    (org.id, user.id)
}

/// A plain case filed on the web by `requester` of `organization`.
fn web_case(subject: &str, organization: OrgId, requester: UserId) -> NewCase {
    NewCase {
        subject: subject.into(),
        description: "It stopped".into(),
        priority: Priority::Normal,
        product: None,
        channel: Channel::Web,
        tier: Tier::L1,
        tags: vec![],
        organization,
        partner: None,
        requester,
        created_at: None,
        routing: None,
        escalation: None,
    }
}

/// Concurrent creations share transactions on SQLite (group commit); one bad row must fail
/// alone, and every other case must be stored exactly once.
async fn concurrent_creations_fail_alone(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let (org, requester) = customer(&store, "solo").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        // Case 17 names an organisation that does not exist: a foreign-key violation.
        let organization = if i == 17 { OrgId(999_999) } else { org };
        tasks.push(tokio::spawn(async move {
            store
                .create_case(&NewCase {
                    description: String::new(),
                    channel: Channel::Api,
                    ..web_case(&format!("case {i}"), organization, requester)
                })
                .await
        }));
    }
    let mut failed = Vec::new();
    let mut subjects = std::collections::BTreeSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(case) => assert!(subjects.insert(case.subject)),
            Err(_) => failed.push(i),
        }
    }
    assert_eq!(failed, [17]);
    assert_eq!(store.count_cases().await.unwrap(), 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_creations_fail_alone() {
    let (config, _dir) = fresh_sqlite();
    concurrent_creations_fail_alone(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_creations_fail_alone() {
    concurrent_creations_fail_alone(fresh_postgres().await).await;
}

/// A view naming a product is counted by seeking the product (migration 0025), not by reading
/// every case of its priority and checking the product of each; a view without a product
/// keeps the index of the other filters.
#[tokio::test]
async fn sqlite_counts_a_product_view_through_the_product_index() {
    let (config, _dir) = fresh_sqlite();
    let store = Store::open(&config).await.unwrap();
    let product_view = CaseFilter {
        priorities: vec![Priority::High],
        products: vec!["Backup".into()],
        ..CaseFilter::default()
    };
    let plan = store
        .count_plan(&product_view, CaseScope::All, 10_000)
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("cases_product_filters"), "{plan}");
    let priority_view = CaseFilter {
        priorities: vec![Priority::High],
        ..CaseFilter::default()
    };
    let plan = store
        .count_plan(&priority_view, CaseScope::All, 10_000)
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("cases_list_filters"), "{plan}");
}

/// The case page's counters (migration 0026) move with every kind of row the staff page shows,
/// in the transaction that writes it, and not with what it does not show: a node that kept
/// a page under the old counters must see them differ after any such change.
async fn page_counters_move_with_the_page(config: StoreConfig) {
    use backline_domain::macros::MacroInput;
    use backline_domain::satisfaction::Rating;
    use backline_domain::{Email, Timestamp};
    let store = Store::open(&config).await.unwrap();
    let org = store
        .create_org(&NewOrg {
            slug: "pages".into(),
            name: "Pages Ltd".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: None,
        })
        .await
        .unwrap();
    let user = |email: &str, role: Role| NewUser {
        email: email.into(),
        name: email.into(),
        role,
        org: (role == Role::Customer).then_some(org.id),
        tier: (role == Role::Agent).then_some(Tier::L1),
        password_hash: None,
    };
    let agent = store
        .create_user(&user("agent@vendor.example", Role::Agent))
        .await
        .unwrap();
    let customer = store
        .create_user(&user("asker@pages.example", Role::Customer))
        .await
        .unwrap();
    let new_case = |subject: &str| web_case(subject, org.id, customer.id);
    let case = store.create_case(&new_case("Sync stopped")).await.unwrap();
    let other = store.create_case(&new_case("Sync again")).await.unwrap();
    let now = Timestamp::now();
    let state = |id| {
        let store = store.clone();
        async move { store.case_page_state(id, now, agent.id).await.unwrap() }
    };

    // Each change to something the page shows moves the case's counter, and only its own.
    let mut before = state(case.id).await;
    let other_before = state(other.id).await.case_revision;
    let mut moved = |after: backline_store::CasePageState, what: &str| {
        assert!(
            after.case_revision > before.case_revision,
            "{what}: {before:?} -> {after:?}"
        );
        before = after;
    };
    store
        .add_comment(&NewComment {
            case: case.id,
            author: agent.id,
            body: "Looking".into(),
            public: true,
            status_after: None,
            then: CaseChanges::default(),
            at: None,
        })
        .await
        .unwrap();
    moved(state(case.id).await, "a comment");
    store
        .update_case(
            case.id,
            &CaseChanges {
                priority: Some(Priority::High),
                ..Default::default()
            },
            agent.id,
        )
        .await
        .unwrap();
    moved(state(case.id).await, "a field");
    store
        .set_case_follower(case.id, agent.id, true)
        .await
        .unwrap();
    moved(state(case.id).await, "a follower");
    let cc = Email::parse("boss@pages.example").unwrap();
    store.set_case_cc(case.id, &cc, true).await.unwrap();
    moved(state(case.id).await, "a Cc");
    store.set_case_cc(case.id, &cc, false).await.unwrap();
    moved(state(case.id).await, "a Cc removed");
    store
        .link_case(
            case.id,
            backline_store::LinkTarget::Case(other.id),
            agent.id,
            None,
        )
        .await
        .unwrap();
    moved(state(case.id).await, "a link");
    store
        .rate_case(case.id, Rating::Good, None, Some(customer.id), now)
        .await
        .unwrap();
    moved(state(case.id).await, "a rating");
    assert_eq!(state(other.id).await.case_revision, other_before);

    // Merging moves the comments away: both pages change.
    let directory = state(case.id).await.directory_revision;
    store
        .merge_cases(other.id, case.id, agent.id, "same")
        .await
        .unwrap();
    moved(state(case.id).await, "a merge into it");
    assert!(state(other.id).await.case_revision > other_before);

    // Names shown by many pages move the shared counter; a new customer does not.
    store
        .create_user(&user("second@pages.example", Role::Customer))
        .await
        .unwrap();
    assert_eq!(state(case.id).await.directory_revision, directory);
    store
        .create_user(&user("second@vendor.example", Role::Agent))
        .await
        .unwrap();
    let after_agent = state(case.id).await.directory_revision;
    assert!(after_agent > directory, "a new agent to assign to");
    backline_store::testing::execute_raw(
        &store,
        &format!(
            "UPDATE users SET name = 'Asker' WHERE id = {}",
            customer.id.0
        ),
    )
    .await
    .unwrap();
    assert!(
        state(case.id).await.directory_revision > after_agent,
        "a rename"
    );

    let macros = state(case.id).await.macros_revision;
    store
        .save_macro(
            None,
            &MacroInput {
                title: "Thanks".into(),
                body: "Thank you".into(),
                actions: Default::default(),
                shared: true,
            },
            None,
        )
        .await
        .unwrap();
    assert!(state(case.id).await.macros_revision > macros, "a macro");

    // Presence is read with the counters, live, leaving out the viewer.
    let seen = state(case.id).await;
    assert!(seen.present.is_empty());
    let colleague = store
        .create_user(&user("third@vendor.example", Role::Agent))
        .await
        .unwrap();
    store
        .touch_presence(case.id, colleague.id, true, now, Timestamp::from_millis(0))
        .await
        .unwrap();
    let seen = state(case.id).await;
    assert_eq!(seen.present.len(), 1);
    assert_eq!(seen.present[0].user.id, colleague.id);
    assert!(seen.present[0].replying);
    assert!(store
        .case_page_state(case.id, now, colleague.id)
        .await
        .unwrap()
        .present
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn sqlite_page_counters_move_with_the_page() {
    let (config, _dir) = fresh_sqlite();
    page_counters_move_with_the_page(config).await;
}

#[tokio::test]
async fn postgres_page_counters_move_with_the_page() {
    page_counters_move_with_the_page(fresh_postgres().await).await;
}

/// A sweep's batch is written in a few statements for all its cases: every case it read is
/// written with exactly its clocks and events, across more cases than one statement holds,
/// except a case another writer changed after the read, which is left as it was.
async fn clock_batches_write_each_case_they_read(config: StoreConfig) {
    use backline_domain::sla::{Metric, SlaState};
    use backline_domain::{Span, Timestamp};
    use backline_store::testing::execute_raw;
    use backline_store::{CaseClock, ClocksUpdate};
    let store = Store::open(&config).await.unwrap();
    let (org, requester) = customer(&store, "clocks").await;
    for n in 0..450 {
        store
            .create_case(&web_case(&format!("Clock {n}"), org, requester))
            .await
            .unwrap();
    }
    let now = Timestamp::now().plus(Span::SECOND);
    let facts = store.sla_cases_due(now, 1_000).await.unwrap();
    assert_eq!(facts.len(), 450);
    // Another writer changes one case after the sweep read it.
    let changed = facts[321].case;
    execute_raw(
        &store,
        &format!("UPDATE cases SET updated_at = updated_at + 1 WHERE id = {changed}"),
    )
    .await
    .unwrap();

    let clocks_of = |opened: Timestamp, n: i64| {
        vec![
            CaseClock {
                metric: Metric::FirstReply,
                started: opened,
                target: Span::HOUR,
                elapsed: Span::MINUTE.times(60 + n),
                due: Some(opened.plus(Span::HOUR)),
                paused: false,
                fulfilled: None,
                breached_at: Some(opened.plus(Span::HOUR)),
                state: SlaState::Breached,
            },
            CaseClock {
                metric: Metric::Resolution,
                started: opened,
                target: Span::HOUR.times(72),
                elapsed: Span::MINUTE.times(n),
                due: Some(opened.plus(Span::HOUR.times(72))),
                paused: n % 2 == 0,
                fulfilled: None,
                breached_at: None,
                state: SlaState::Ok,
            },
        ]
    };
    let updates: Vec<ClocksUpdate> = facts
        .iter()
        .enumerate()
        .map(|(n, f)| ClocksUpdate {
            policy_id: None,
            clocks: clocks_of(f.opened, n as i64),
            due: Some(f.opened.plus(Span::HOUR)),
            state: Some(SlaState::Breached),
            next_check: Some(now.plus(Span::HOUR.times(72))),
        })
        .collect();
    let pairs: Vec<_> = facts.iter().zip(&updates).collect();
    assert_eq!(store.save_clock_batch(&pairs, now).await.unwrap(), 449);

    for (n, f) in facts.iter().enumerate() {
        let kept = store.case_clocks(f.case).await.unwrap();
        let breaches = store
            .case_events(f.case)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "sla_breached")
            .count();
        if f.case == changed {
            assert!(kept.is_empty(), "the changed case was written: {kept:?}");
            assert_eq!(breaches, 0);
        } else {
            assert_eq!(kept, clocks_of(f.opened, n as i64), "case {}", f.case);
            assert_eq!(breaches, 1, "case {}", f.case);
        }
    }
    // Only the changed case is still due; the same facts again write nothing (each written
    // case has a new check time) and record no second breach.
    let due: Vec<_> = store
        .sla_cases_due(now, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.case)
        .collect();
    assert_eq!(due, vec![changed]);
    assert_eq!(store.save_clock_batch(&pairs, now).await.unwrap(), 0);
    let breaches = store
        .case_events(facts[0].case)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sla_breached")
        .count();
    assert_eq!(breaches, 1);

    // Two cases come due again (as after a policy change), with the changed one. The first
    // keeps its breached first-reply clock (no second breach event: the states read before the
    // upsert say it was breached already) and loses its running resolution clock; the others
    // no longer have any clock, state or due time (absent values beside present ones in one
    // statement), and lose theirs.
    let (first, second) = (facts[0].case, facts[1].case);
    execute_raw(
        &store,
        &format!("UPDATE cases SET sla_check_at = 0 WHERE id IN ({first}, {second})"),
    )
    .await
    .unwrap();
    let again = store.sla_cases_due(now, 1_000).await.unwrap();
    let mut due_again: Vec<_> = again.iter().map(|f| f.case).collect();
    due_again.sort();
    assert_eq!(due_again, vec![first, second, changed]);
    let updates: Vec<ClocksUpdate> = again
        .iter()
        .map(|f| {
            if f.case == first {
                ClocksUpdate {
                    policy_id: None,
                    clocks: clocks_of(f.opened, 0)[..1].to_vec(),
                    due: Some(f.opened.plus(Span::HOUR)),
                    state: Some(SlaState::Breached),
                    next_check: Some(now.plus(Span::HOUR)),
                }
            } else {
                ClocksUpdate {
                    policy_id: None,
                    clocks: vec![],
                    due: None,
                    state: None,
                    next_check: None,
                }
            }
        })
        .collect();
    let pairs: Vec<_> = again.iter().zip(&updates).collect();
    assert_eq!(store.save_clock_batch(&pairs, now).await.unwrap(), 3);
    assert_eq!(
        store.case_clocks(first).await.unwrap(),
        clocks_of(facts[0].opened, 0)[..1].to_vec()
    );
    assert!(store.case_clocks(second).await.unwrap().is_empty());
    let breaches = |case| {
        let store = store.clone();
        async move {
            store
                .case_events(case)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.kind == "sla_breached")
                .count()
        }
    };
    assert_eq!(breaches(first).await, 1);
    assert_eq!(breaches(changed).await, 0);
    assert!(store.sla_cases_due(now, 1_000).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_clock_batches_write_each_case_they_read() {
    let (config, _dir) = fresh_sqlite();
    clock_batches_write_each_case_they_read(config).await;
}

#[tokio::test]
async fn postgres_clock_batches_write_each_case_they_read() {
    clock_batches_write_each_case_they_read(fresh_postgres().await).await;
}
