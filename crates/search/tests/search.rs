//! The index, the query language and the matcher on a small hand-made corpus, with the
//! visibility rule checked for every kind of reader.

use backline_domain::query::{DocType, SearchQuery};
use backline_domain::{Actor, OrgId, Role, UserId};
use backline_search::{
    Among, IndexDoc, MatchInput, MatchWeights, QuestionScope, SearchIndex, Sort, Visibility,
};

const ACME: i64 = 1; // partner
const GLOBEX: i64 = 10; // served by ACME
const INITECH: i64 = 11; // direct
const DAY: i64 = 86_400_000;

fn case(
    id: i64,
    title: &str,
    body: &str,
    org: i64,
    partner: Option<i64>,
    solved: bool,
    day: i64,
) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Case),
        id,
        title: title.into(),
        body: body.into(),
        created_at_ms: day * DAY,
        org_id: Some(org),
        partner_id: partner,
        public: true,
        status: Some(if solved { "solved" } else { "open" }.into()),
        priority: Some("high".into()),
        products: vec!["Backup".into()],
        org_slug: Some(if org == GLOBEX { "globex" } else { "initech" }.into()),
        partner_slug: partner.map(|_| "acme".into()),
        solved,
        versions: vec!["7.2".into()],
        ..Default::default()
    }
}

fn article(id: i64, title: &str, body: &str, state: &str, audience: &str) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Article),
        id,
        title: title.into(),
        body: body.into(),
        created_at_ms: DAY,
        public: true,
        state: Some(state.into()),
        audience: Some(audience.into()),
        products: vec!["backup".into()],
        ..Default::default()
    }
}

fn comment(
    id: i64,
    case_id: i64,
    body: &str,
    org: i64,
    partner: Option<i64>,
    public: bool,
) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Comment),
        id,
        case_id: Some(case_id),
        title: format!("Comment on case {case_id}"),
        body: body.into(),
        created_at_ms: 5 * DAY,
        org_id: Some(org),
        partner_id: partner,
        public,
        ..Default::default()
    }
}

fn corpus() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    index
        .upsert(&[
            case(
                1,
                "Nightly backup fails with disk quota exceeded",
                "Error BK-1042 after 40 minutes on the file server",
                GLOBEX,
                Some(ACME),
                true,
                10,
            ),
            case(
                2,
                "Restore of a mailbox is slow",
                "Restoring one mailbox takes hours since 7.2",
                INITECH,
                None,
                true,
                20,
            ),
            case(
                3,
                "Backup agent does not start",
                "Service stops with error 1053 after the Windows update",
                GLOBEX,
                Some(ACME),
                false,
                30,
            ),
            article(
                100,
                "Disk quota exceeded during backup",
                "Raise the quota on the target volume; error BK-1042",
                "validated",
                "public",
            ),
            article(
                101,
                "Quota check regression in 7.2",
                "Internal: the quota check counts snapshots twice",
                "validated",
                "internal",
            ),
            article(
                102,
                "Partner guide: collecting backup logs",
                "Collect the agent log before escalating quota problems",
                "validated",
                "partners",
            ),
            article(
                103,
                "Draft about quota alerts",
                "Not finished",
                "draft",
                "public",
            ),
            comment(
                500,
                1,
                "Customer confirmed the quota workaround",
                GLOBEX,
                Some(ACME),
                true,
            ),
            comment(
                501,
                1,
                "Internal: same quota regression as last week",
                GLOBEX,
                Some(ACME),
                false,
            ),
        ])
        .unwrap();
    index.commit(42).unwrap();
    index
}

fn visibility(role: Role, org: Option<i64>) -> Visibility {
    Visibility::for_actor(&Actor {
        limits: Default::default(),
        user_id: UserId(1),
        role,
        org_id: org.map(OrgId),
    })
}

fn found(index: &SearchIndex, query: &str, v: &Visibility) -> Vec<(DocType, i64)> {
    let query = SearchQuery::parse(query).unwrap();
    let mut hits: Vec<(DocType, i64)> = index
        .search(&query, v, Sort::Relevance, 50)
        .unwrap()
        .into_iter()
        .map(|h| (h.kind, h.id))
        .collect();
    hits.sort_by_key(|(k, id)| (k.as_str(), *id));
    hits
}

#[test]
fn commits_record_the_change_log_position() {
    let index = corpus();
    assert_eq!(index.watermark(), 42);
    assert_eq!(index.len(), 9);
    // Upserting the same key replaces, never duplicates.
    index
        .upsert(&[case(
            1,
            "Nightly backup fails",
            "changed",
            GLOBEX,
            Some(ACME),
            true,
            10,
        )])
        .unwrap();
    index.commit(43).unwrap();
    assert_eq!(index.len(), 9);
    assert_eq!(index.watermark(), 43);
}

#[test]
fn each_reader_finds_only_what_they_may_see() {
    let index = corpus();
    use DocType::*;
    let staff = visibility(Role::Agent, None);
    assert_eq!(
        found(&index, "quota", &staff),
        [
            (Article, 100),
            (Article, 101),
            (Article, 102),
            (Article, 103),
            (Case, 1),
            (Comment, 500),
            (Comment, 501)
        ]
    );
    // The partner: its cases and public comments, public and partner articles, validated only.
    assert_eq!(
        found(&index, "quota", &visibility(Role::Partner, Some(ACME))),
        [(Article, 100), (Article, 102), (Case, 1), (Comment, 500)]
    );
    // The served customer: its organisation's case, public articles only.
    assert_eq!(
        found(&index, "quota", &visibility(Role::Customer, Some(GLOBEX))),
        [(Article, 100), (Case, 1), (Comment, 500)]
    );
    // Another customer sees none of Globex's cases.
    assert_eq!(
        found(&index, "quota", &visibility(Role::Customer, Some(INITECH))),
        [(Article, 100)]
    );
    // A partner with no organisation, which should not exist, sees no case at all.
    assert!(found(&index, "type:case", &visibility(Role::Partner, None)).is_empty());
}

#[test]
fn filters_phrases_and_identifiers() {
    let index = corpus();
    let staff = visibility(Role::Agent, None);
    use DocType::*;
    assert_eq!(
        found(
            &index,
            "quota type:article state:validated audience:public",
            &staff
        ),
        [(Article, 100)]
    );
    assert_eq!(
        found(&index, "status:open partner:acme", &staff),
        [(Case, 3)]
    );
    assert_eq!(
        found(&index, "backup org:initech", &staff),
        Vec::<(DocType, i64)>::new()
    );
    assert_eq!(
        found(&index, "\"disk quota exceeded\" type:case", &staff),
        [(Case, 1)]
    );
    // Word order matters in a phrase.
    assert!(found(&index, "\"exceeded quota disk\"", &staff).is_empty());
    // Identifiers match whole, and by their parts.
    assert_eq!(
        found(&index, "BK-1042", &staff),
        [(Article, 100), (Case, 1)]
    );
    assert_eq!(found(&index, "restoring mailboxes", &staff), [(Case, 2)]);
    // Newest first, with filters only.
    let query = SearchQuery::parse("type:case").unwrap();
    let newest: Vec<i64> = index
        .search(&query, &staff, Sort::Newest, 10)
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(newest, [3, 2, 1]);
}

#[test]
fn matcher_ranks_the_known_answer_first_and_says_why() {
    let index = corpus();
    let input = MatchInput {
        title: "Backup job fails: disk quota exceeded".into(),
        body: "Nightly job stops with BK-1042".into(),
        created_at_ms: 12 * DAY,
        versions: vec!["7.2".into()],
        exclude: None,
        among: Among::ArticlesAndCases,
    };
    let staff = visibility(Role::Agent, None);
    let suggestions = index
        .suggest(&input, &staff, &MatchWeights::default(), 5)
        .unwrap();
    let top: Vec<(DocType, i64)> = suggestions.iter().map(|s| (s.kind, s.id)).collect();
    // The article that answers it and the solved case that repeats it lead, the article
    // first: it is the answer itself.
    assert_eq!(
        top[..2],
        [(DocType::Article, 100), (DocType::Case, 1)],
        "{suggestions:#?}"
    );
    // Unsolved cases, drafts and comments are never offered as answers.
    assert!(!top.contains(&(DocType::Case, 3)) && !top.contains(&(DocType::Article, 103)));
    assert!(top.iter().all(|(k, _)| *k != DocType::Comment));
    assert!(suggestions.windows(2).all(|w| w[0].score >= w[1].score));
    let reasons = suggestions[1].reasons.join("; ");
    assert!(
        reasons.contains("title shares:")
            && reasons.contains("bk-1042")
            && reasons.contains("same version: 7.2")
            && reasons.contains("2 days apart"),
        "{reasons}"
    );

    // A customer of another organisation gets only the public article.
    let other = index
        .suggest(
            &input,
            &visibility(Role::Customer, Some(INITECH)),
            &MatchWeights::default(),
            5,
        )
        .unwrap();
    assert_eq!(
        other.iter().map(|s| (s.kind, s.id)).collect::<Vec<_>>(),
        [(DocType::Article, 100)]
    );
    // Excluding a document leaves it out.
    let excluded = MatchInput {
        exclude: Some((DocType::Case, 1)),
        among: Among::ArticlesAndCases,
        ..input
    };
    assert!(index
        .suggest(&excluded, &staff, &MatchWeights::default(), 5)
        .unwrap()
        .iter()
        .all(|s| s.id != 1 || s.kind != DocType::Case));
}

#[test]
fn learning_keeps_or_improves_the_known_answer_rank() {
    let index = corpus();
    let examples = vec![(
        MatchInput {
            title: "Mailbox restore takes hours".into(),
            body: "since upgrading to 7.2".into(),
            created_at_ms: 21 * DAY,
            ..Default::default()
        },
        (DocType::Case, 2),
    )];
    let staff = visibility(Role::Agent, None);
    let (_, before) = index
        .learn(
            &examples,
            &staff,
            MatchWeights {
                title_title: 0.0,
                text_text: 0.0,
                ..MatchWeights::default()
            },
        )
        .unwrap();
    let (learned, after) = index
        .learn(&examples, &staff, MatchWeights::default())
        .unwrap();
    assert!(after >= before);
    assert!(
        (after - 1.0).abs() < 1e-9,
        "the only example's answer ranks first: {after} with {learned:?}"
    );
}

#[test]
fn an_index_on_disk_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        index
            .upsert(&[case(
                7,
                "Sync stalls behind proxy",
                "",
                INITECH,
                None,
                false,
                1,
            )])
            .unwrap();
        index.commit(7).unwrap();
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.watermark(), 7);
    assert_eq!(
        found(&index, "proxy", &visibility(Role::Agent, None)),
        [(DocType::Case, 7)]
    );
}

fn rows(
    index: &SearchIndex,
    query: &str,
    v: &Visibility,
    page: usize,
    per_page: usize,
) -> backline_search::ResultPage {
    index
        .search_rows(
            &SearchQuery::parse(query).unwrap(),
            v,
            Sort::Relevance,
            page,
            per_page,
        )
        .unwrap()
}

/// A case discussed at length: many comments say "restore", one is an internal note.
fn chatty_corpus() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    let mut docs = vec![
        case(
            1,
            "Restore of a mailbox is slow",
            "Takes hours",
            GLOBEX,
            Some(ACME),
            false,
            10,
        ),
        case(
            2,
            "Agent crashes on start",
            "Error 1053",
            GLOBEX,
            Some(ACME),
            false,
            11,
        ),
        case(
            3,
            "Printer offline",
            "Nothing to do with the rest",
            INITECH,
            None,
            false,
            12,
        ),
        article(
            100,
            "Speeding up restores",
            "Use parallel streams to restore faster",
            "validated",
            "public",
        ),
    ];
    for i in 0..6 {
        docs.push(comment(
            600 + i,
            1,
            &format!("Restore attempt {i} still slow"),
            GLOBEX,
            Some(ACME),
            true,
        ));
    }
    // Case 2 matches "restore" only through an internal note.
    docs.push(comment(
        700,
        2,
        "Internal: restore of the agent config failed",
        GLOBEX,
        Some(ACME),
        false,
    ));
    index.upsert(&docs).unwrap();
    index.commit(1).unwrap();
    index
}

#[test]
fn results_are_one_row_per_case_with_matching_comments_folded_under_it() {
    let index = chatty_corpus();
    let staff = visibility(Role::Agent, None);
    let page = rows(&index, "restore", &staff, 0, 20);
    // Case 1 (itself and six comments), case 2 (through its note), the article: three rows.
    assert_eq!(page.total, 3, "{page:#?}");
    let keys: Vec<(DocType, i64)> = page.rows.iter().map(|r| (r.kind, r.id)).collect();
    assert!(keys.contains(&(DocType::Case, 1)) && keys.contains(&(DocType::Case, 2)));
    assert!(keys.contains(&(DocType::Article, 100)));
    let one = page
        .rows
        .iter()
        .find(|r| r.kind == DocType::Case && r.id == 1)
        .unwrap();
    assert!(one.matched_itself);
    assert_eq!(one.title, "Restore of a mailbox is slow");
    assert_eq!(one.comments.len(), backline_search::FOLDED_COMMENTS);
    assert_eq!(one.more_comments, 6 - backline_search::FOLDED_COMMENTS);
    assert!(one
        .comments
        .iter()
        .all(|c| c.kind == DocType::Comment && c.case_id == Some(1)));
    // A case found only through a comment still shows as the case, under its own title.
    let two = page
        .rows
        .iter()
        .find(|r| r.kind == DocType::Case && r.id == 2)
        .unwrap();
    assert!(!two.matched_itself);
    assert_eq!(two.title, "Agent crashes on start");
    assert_eq!(two.comments.len(), 1);

    // The customer: the internal note neither shows nor counts, so case 2 is not a row at all.
    let customer = rows(
        &index,
        "restore",
        &visibility(Role::Customer, Some(GLOBEX)),
        0,
        20,
    );
    assert_eq!(customer.total, 2, "{customer:#?}");
    assert!(customer
        .rows
        .iter()
        .all(|r| !(r.kind == DocType::Case && r.id == 2)));
    for row in &customer.rows {
        assert!(row.comments.iter().all(|c| c.id != 700));
    }
    let partner = rows(
        &index,
        "restore",
        &visibility(Role::Partner, Some(ACME)),
        0,
        20,
    );
    assert!(partner
        .rows
        .iter()
        .all(|r| r.comments.iter().all(|c| c.id != 700)));
    assert_eq!(partner.total, 2);

    // Pages: the same total, rows cut in order, nothing twice.
    let first = rows(&index, "restore", &staff, 0, 2);
    let second = rows(&index, "restore", &staff, 1, 2);
    let beyond = rows(&index, "restore", &staff, 5, 2);
    assert_eq!((first.total, second.total, beyond.total), (3, 3, 3));
    assert_eq!(
        (first.rows.len(), second.rows.len(), beyond.rows.len()),
        (2, 1, 0)
    );
    let mut all: Vec<(DocType, i64)> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| (r.kind, r.id))
        .collect();
    all.sort_by_key(|(k, id)| (k.as_str(), *id));
    all.dedup();
    assert_eq!(all.len(), 3);
    // A comment is found by its own words: the case's subject does not make every comment of
    // the case match ("mailbox" is only in the subject).
    let mailbox = rows(&index, "mailbox", &staff, 0, 20);
    assert_eq!(mailbox.total, 1);
    assert!(mailbox.rows[0].comments.is_empty());
}

#[test]
fn typos_find_the_word_meant_below_exact_matches() {
    let index = SearchIndex::in_memory().unwrap();
    index
        .upsert(&[
            case(
                1,
                "Nightly backup fails",
                "quota exceeded",
                INITECH,
                None,
                false,
                1,
            ),
            case(
                2,
                "Backpack sync question",
                "nothing else",
                INITECH,
                None,
                false,
                2,
            ),
            case(
                3,
                "The backpu tool crashes",
                "a product really named backpu",
                INITECH,
                None,
                false,
                3,
            ),
            case(
                4,
                "Configuration lost after reboot",
                "settings gone",
                INITECH,
                None,
                false,
                4,
            ),
            case(
                5,
                "Cat video upload",
                "BK-1042 shown",
                INITECH,
                None,
                false,
                5,
            ),
            case(6, "Car park", "BK-1043 shown", INITECH, None, false, 6),
        ])
        .unwrap();
    index.commit(1).unwrap();
    let staff = visibility(Role::Agent, None);
    let ids = |q: &str| -> Vec<i64> {
        rows(&index, q, &staff, 0, 20)
            .rows
            .iter()
            .map(|r| r.id)
            .collect()
    };
    // Six letters: one edit (a swap counts as one) away.
    let found = ids("backpu");
    assert_eq!(found[0], 3, "the exact word ranks first: {found:?}");
    assert!(found.contains(&1), "backpu finds backup: {found:?}");
    assert!(!found.contains(&2), "backpack is too far: {found:?}");
    // And the other way round: the exact word first, the typo's neighbour after it.
    assert_eq!(ids("backup"), vec![1, 3]);
    // Long words allow two edits; short ones none.
    assert_eq!(ids("cnofiguration"), vec![4]);
    assert_eq!(ids("car"), vec![6]);
    // Identifiers and phrases are matched as typed.
    assert_eq!(ids("BK-1042"), vec![5]);
    assert!(ids("\"nightly backpu\"").is_empty());
    // A quoted word is meant as typed.
    assert_eq!(ids("\"backpu\""), vec![3]);
    assert_eq!(backline_search::typo_distance("backpu"), 1);
    assert_eq!(backline_search::typo_distance("cnofiguration"), 2);
    assert_eq!(backline_search::typo_distance("car"), 0);
    assert_eq!(backline_search::typo_distance("BK-1042"), 0);
    assert_eq!(backline_search::typo_distance("v2"), 0);
}

fn linked(mut doc: IndexDoc, article: i64) -> IndexDoc {
    doc.answered_by = vec![article];
    doc
}

#[test]
fn an_article_ranks_among_the_duplicate_cases_it_answers() {
    let title = "Nightly backup job fails with disk quota exceeded";
    let body = "Since the weekend the nightly job on our file server stops after 40 minutes with error BK-1042 disk quota exceeded.";
    let build = |links: bool| {
        let index = SearchIndex::in_memory().unwrap();
        // Written the KCS way: the issue in the customers' words, then the resolution.
        let mut answer = article(
            100,
            "BK-1042 disk quota exceeded although the target has free space",
            &format!("{body}\n\nRaise the per-job quota in the backup policy, then rerun the job."),
            "validated",
            "public",
        );
        answer.issue = body.into();
        let mut docs = vec![answer];
        for i in 0..6 {
            let doc = case(10 + i, title, body, GLOBEX, Some(ACME), true, 30 + i);
            docs.push(if links && i == 2 {
                linked(doc, 100)
            } else {
                doc
            });
        }
        for i in 0..20 {
            docs.push(case(
                100 + i,
                &format!("Unrelated problem {i} with the console"),
                "The web console hangs",
                INITECH,
                None,
                true,
                5,
            ));
        }
        index.upsert(&docs).unwrap();
        index.commit(1).unwrap();
        index
    };
    let input = MatchInput {
        title: title.into(),
        body: body.into(),
        created_at_ms: 40 * DAY,
        ..Default::default()
    };
    let staff = visibility(Role::Agent, None);
    // Without links: its own words put it among the five best, next to the duplicates.
    let index = build(false);
    let top = index
        .suggest(&input, &staff, &MatchWeights::default(), 5)
        .unwrap();
    assert!(
        top.iter()
            .any(|s| s.kind == DocType::Article && s.id == 100),
        "{top:#?}"
    );
    // Linked as the answer of one duplicate: it ranks first, saying so.
    let index = build(true);
    let top = index
        .suggest(&input, &staff, &MatchWeights::default(), 5)
        .unwrap();
    assert_eq!(
        (top[0].kind, top[0].id),
        (DocType::Article, 100),
        "{top:#?}"
    );
    assert!(
        top[0].reasons[0].contains("answered similar cases #12"),
        "{:?}",
        top[0].reasons
    );
    assert!(top[0].confidence > 0.9, "{}", top[0].confidence);
    // The customer of another organisation cannot see the lending case, yet the public article
    // still matches on its own.
    let other = index
        .suggest(
            &input,
            &visibility(Role::Customer, Some(INITECH)),
            &MatchWeights::default(),
            5,
        )
        .unwrap();
    assert!(other
        .iter()
        .all(|s| s.kind == DocType::Article || s.id >= 100));
    assert!(
        other
            .iter()
            .all(|s| s.reasons.iter().all(|r| !r.contains("#12"))),
        "{other:#?}"
    );
    // Confidence: the duplicates hold all of the title, the unrelated cases little of it.
    let deep = index
        .suggest(&input, &staff, &MatchWeights::default(), 30)
        .unwrap();
    for s in &deep {
        if s.kind == DocType::Case && s.id >= 100 {
            assert!(s.confidence < 0.3, "{s:?}");
        } else {
            assert!(s.confidence > 0.9, "{s:?}");
        }
    }
}

#[test]
fn a_solved_case_names_the_open_cases_it_may_answer() {
    let index = SearchIndex::in_memory().unwrap();
    index
        .upsert(&[
            case(
                1,
                "Sync client offline behind proxy",
                "proxy authentication fails",
                GLOBEX,
                Some(ACME),
                false,
                1,
            ),
            case(
                2,
                "Proxy authentication fails for sync",
                "client shows offline",
                INITECH,
                None,
                false,
                2,
            ),
            case(3, "Printer jams", "paper", INITECH, None, false, 3),
            case(
                4,
                "Proxy authentication fixed",
                "proxy authentication fails",
                INITECH,
                None,
                true,
                3,
            ),
        ])
        .unwrap();
    index.commit(1).unwrap();
    let solved = MatchInput {
        title: "Sync client offline: proxy authentication".into(),
        body: "proxy authentication fails for the sync client".into(),
        exclude: Some((DocType::Case, 9)),
        ..Default::default()
    };
    let open = index
        .similar_open_cases(&solved, &MatchWeights::default(), 10)
        .unwrap();
    assert!(open.contains(&1) && open.contains(&2), "{open:?}");
    assert!(!open.contains(&4), "solved cases are not in work: {open:?}");
    assert!(!open.contains(&3));
}

#[test]
fn readers_with_the_same_sight_share_a_key() {
    let staff = visibility(Role::Agent, None).key();
    assert_eq!(staff, visibility(Role::Admin, None).key());
    let globex = visibility(Role::Customer, Some(GLOBEX)).key();
    assert_ne!(globex, staff);
    assert_ne!(globex, visibility(Role::Customer, Some(INITECH)).key());
    assert_ne!(globex, visibility(Role::Partner, Some(GLOBEX)).key());
    let withheld = Visibility::for_actor(&Actor {
        limits: backline_domain::AccessLimits {
            no_vendor_contact: false,
            no_vendor_kb: true,
        },
        user_id: UserId(9),
        role: Role::Customer,
        org_id: Some(OrgId(GLOBEX)),
    })
    .key();
    assert_ne!(
        globex, withheld,
        "a customer without the vendor's articles sees less"
    );
}

#[test]
fn confidence_holds_on_an_index_with_many_replaced_documents() {
    // Every change to a case replaces its document; until segments merge, the replaced ones
    // still count in term frequencies. Confidence must not sink to nothing meanwhile.
    let index = SearchIndex::in_memory().unwrap();
    let docs = [
        case(
            1,
            "Tape library reports TL-77",
            "after the firmware update",
            INITECH,
            None,
            true,
            1,
        ),
        case(2, "Printer offline", "paper jam", INITECH, None, true, 1),
    ];
    // Replaced ten times before one commit: one segment, nine of every ten documents gone.
    for _ in 0..10 {
        index.upsert(&docs).unwrap();
    }
    index.commit(1).unwrap();
    let input = MatchInput {
        title: "Tape library reports TL-77".into(),
        body: "since the firmware update".into(),
        ..Default::default()
    };
    let top = index
        .suggest(
            &input,
            &visibility(Role::Agent, None),
            &MatchWeights::default(),
            5,
        )
        .unwrap();
    assert_eq!(top[0].id, 1);
    assert!(top[0].confidence > 0.9, "{top:?}");
}

#[test]
fn common_words_are_taken_as_typed() {
    // "quota" is in 30 documents: a word people use, whose neighbour "quote" is another word.
    let index = SearchIndex::in_memory().unwrap();
    let mut docs: Vec<IndexDoc> = (0..30)
        .map(|i| {
            case(
                i + 1,
                &format!("Quota {i} exceeded"),
                "",
                INITECH,
                None,
                false,
                1,
            )
        })
        .collect();
    docs.push(case(100, "Send us a quote", "", INITECH, None, false, 1));
    index.upsert(&docs).unwrap();
    index.commit(1).unwrap();
    let staff = visibility(Role::Agent, None);
    let quota = rows(&index, "quota", &staff, 0, 50);
    assert_eq!(quota.total, 30, "{quota:?}");
    // The rare word still finds its neighbours, below itself.
    let quote = rows(&index, "quote", &staff, 0, 50);
    assert_eq!(quote.total, 31);
    assert_eq!(quote.rows[0].id, 100);
}

/// Community spaces of the question corpus.
const PUBLIC_SPACE: i64 = 1;
const PARTNER_SPACE: i64 = 2;

fn question(id: i64, space: i64, title: &str, body: &str, answered: bool) -> IndexDoc {
    IndexDoc {
        kind: Some(DocType::Question),
        id,
        title: title.into(),
        body: body.into(),
        created_at_ms: 30 * DAY,
        space_id: Some(space),
        public: true,
        solved: answered,
        ..Default::default()
    }
}

/// The case corpus with three questions: answered in the public space, unanswered there,
/// answered in the partner space.
fn corpus_with_questions() -> SearchIndex {
    let index = corpus();
    index
        .upsert(&[
            question(
                1,
                PUBLIC_SPACE,
                "Quota warning on the backup target",
                "The target fills up every night.\n\nDelete old snapshots with the retention tool.",
                true,
            ),
            question(
                2,
                PUBLIC_SPACE,
                "Quota warning after the upgrade",
                "",
                false,
            ),
            question(
                3,
                PARTNER_SPACE,
                "Quota discount for resellers",
                "\n\nAsk your partner manager for the reseller quota price list.",
                true,
            ),
        ])
        .unwrap();
    index.commit(50).unwrap();
    index
}

#[test]
fn questions_are_found_only_in_the_spaces_a_reader_reads() {
    let index = corpus_with_questions();
    use DocType::*;
    let questions = |v: &Visibility| -> Vec<i64> {
        found(&index, "quota type:question", v)
            .into_iter()
            .map(|(_, id)| id)
            .collect()
    };
    // Staff read every space.
    let staff = visibility(Role::Agent, None).with_questions(QuestionScope::All);
    assert_eq!(questions(&staff), [1, 2, 3]);
    // A customer reads the public space only; a listed partner both.
    let customer = visibility(Role::Customer, Some(GLOBEX))
        .with_questions(QuestionScope::spaces(vec![PUBLIC_SPACE]));
    assert_eq!(questions(&customer), [1, 2]);
    let partner = visibility(Role::Partner, Some(ACME))
        .with_questions(QuestionScope::spaces(vec![PUBLIC_SPACE, PARTNER_SPACE]));
    assert_eq!(questions(&partner), [1, 2, 3]);
    // Anonymous readers: public articles and the questions of the spaces named for them.
    let anonymous = Visibility::anonymous(QuestionScope::spaces(vec![PUBLIC_SPACE]));
    assert_eq!(
        found(&index, "quota", &anonymous),
        [(Article, 100), (Question, 1), (Question, 2)]
    );
    // Without a scope (the default for an actor), and with an empty one, no question at all.
    assert!(questions(&visibility(Role::Agent, None)).is_empty());
    assert_eq!(QuestionScope::spaces(Vec::new()), QuestionScope::Nothing);
    // A question is found by its answers' words too.
    assert_eq!(
        found(&index, "retention", &staff),
        [(Question, 1)],
        "answer text is searchable"
    );
    // Each question is its own row, beside cases and articles.
    let page = rows(&index, "quota", &staff, 0, 20);
    let kinds: Vec<(DocType, i64)> = page.rows.iter().map(|r| (r.kind, r.id)).collect();
    for q in [1, 2, 3] {
        assert!(kinds.contains(&(Question, q)), "{kinds:?}");
    }
    assert_eq!(page.total, kinds.len());
    // A question taken out (held, hidden, spam, merged) is gone for everyone.
    index.remove(Question, 1);
    index.commit(51).unwrap();
    assert_eq!(questions(&staff), [2, 3]);
    assert!(!index.holds(Question, 1));
    assert!(index.holds(Question, 2));
}

#[test]
fn the_matcher_ranks_answered_questions_like_cases() {
    let index = corpus_with_questions();
    let input = MatchInput {
        title: "Quota warning every night".into(),
        created_at_ms: 31 * DAY,
        among: Among::Questions,
        ..Default::default()
    };
    let suggest = |v: &Visibility| -> Vec<(DocType, i64)> {
        index
            .suggest(&input, v, &MatchWeights::default(), 10)
            .unwrap()
            .into_iter()
            .map(|s| (s.kind, s.id))
            .collect()
    };
    // Only answered questions, nothing else: the unanswered one and the articles and cases
    // sharing the words are left out.
    let staff = visibility(Role::Agent, None).with_questions(QuestionScope::All);
    assert_eq!(
        suggest(&staff),
        [(DocType::Question, 1), (DocType::Question, 3)]
    );
    let customer = visibility(Role::Customer, Some(GLOBEX))
        .with_questions(QuestionScope::spaces(vec![PUBLIC_SPACE]));
    assert_eq!(suggest(&customer), [(DocType::Question, 1)]);
    // Matched on its answer's words alone.
    let by_answer = MatchInput {
        title: "retention tool".into(),
        ..input.clone()
    };
    let found = index
        .suggest(&by_answer, &staff, &MatchWeights::default(), 10)
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].kind, found[0].id), (DocType::Question, 1));
    // Articles only leaves questions out, and the case matcher never offers them.
    for among in [Among::Articles, Among::ArticlesAndCases] {
        let other = MatchInput {
            among,
            ..input.clone()
        };
        assert!(index
            .suggest(&other, &staff, &MatchWeights::default(), 20)
            .unwrap()
            .iter()
            .all(|s| s.kind != DocType::Question));
    }
}

#[test]
fn sights_with_questions_have_their_own_keys() {
    let staff = visibility(Role::Agent, None);
    let plain = staff.key();
    assert_eq!(
        plain,
        staff.clone().with_questions(QuestionScope::Nothing).key()
    );
    let all = staff.clone().with_questions(QuestionScope::All).key();
    let some = staff
        .clone()
        .with_questions(QuestionScope::spaces(vec![2, 1]))
        .key();
    assert_ne!(plain, all);
    assert_ne!(all, some);
    assert_eq!(
        some,
        staff
            .with_questions(QuestionScope::spaces(vec![1, 2, 2]))
            .key()
    ); // The suggester keeps staff's case suggestions under `everything`'s key.
    assert_eq!(Visibility::everything().key(), plain);
    assert!(QuestionScope::spaces(vec![3]).admits(3));
    assert!(!QuestionScope::spaces(vec![3]).admits(4));
    assert!(QuestionScope::All.admits(4) && !QuestionScope::Nothing.admits(4));
}

/// Staff searches skip the visibility filter (they see everything, or everything but
/// community questions) instead of intersecting each word with every document: the rows,
/// their order and their scores must be those the full filter gives. A sight naming every
/// space is checked by the full filter; "every space" by the shortcut, likewise a space that
/// holds nothing and no questions at all.
#[test]
fn staff_searches_find_what_the_full_visibility_filter_finds() {
    let index = corpus_with_questions();
    let staff = visibility(Role::Agent, None);
    let page_of = |v: &Visibility, query: &str| -> Vec<(DocType, i64, u32, usize)> {
        let page = rows(&index, query, v, 0, 50);
        page.rows
            .iter()
            .map(|r| (r.kind, r.id, r.score.to_bits(), page.total))
            .collect()
    };
    for query in [
        "quota",
        "backup restore",
        "restre",
        "\"nightly job\"",
        "status:open backup",
        "",
        "type:question quota",
    ] {
        let every_space = staff
            .clone()
            .with_questions(QuestionScope::spaces(vec![PUBLIC_SPACE, PARTNER_SPACE]));
        let all = staff.clone().with_questions(QuestionScope::All);
        assert_eq!(
            page_of(&all, query),
            page_of(&every_space, query),
            "{query}"
        );
        let empty_space = staff
            .clone()
            .with_questions(QuestionScope::spaces(vec![999]));
        assert_eq!(
            page_of(&staff, query),
            page_of(&empty_space, query),
            "{query}: no questions"
        );
    }
    assert!(!page_of(&staff, "quota").is_empty());
}

/// A page keeps only the rows that may still reach it while every match is counted: paging
/// through a corpus of many rows (scores tied in bulk, comments scoring above their case,
/// several segments) gives, page after page, exactly the rows and order of one page holding
/// them all, for each order and each kind of reader.
#[test]
fn pages_cut_from_many_rows_are_the_pages_of_the_whole_list() {
    let index = SearchIndex::in_memory().unwrap();
    let words = ["restore", "backup", "restore backup", "mailbox"];
    // Each batch is committed on its own, so the rows of a search are spread over several
    // segments; a case's comments arrive with the next batch, so most rows have documents in
    // two segments (and a row dropped in one segment may be kept in another).
    let mut later = Vec::new();
    for batch in 0..5_i64 {
        let mut docs = std::mem::take(&mut later);
        for n in 0..150_i64 {
            if batch == 4 {
                break;
            }
            let id = batch * 150 + n + 1;
            let (org, partner) = if id % 3 == 0 {
                (INITECH, None)
            } else {
                (GLOBEX, Some(ACME))
            };
            let words = words[(id % 4) as usize];
            // Few distinct texts, so many rows share a score; days repeat, so many rows
            // share their newest match too.
            docs.push(case(
                id,
                &format!("Case about {words}"),
                "Details follow",
                org,
                partner,
                id % 5 == 0,
                id % 17,
            ));
            for c in 0..(id % 3) {
                let mut note = comment(
                    10_000 + id * 10 + c,
                    id,
                    &format!("{words} {words} again, attempt {c}"),
                    org,
                    partner,
                    c != 1,
                );
                note.created_at_ms = (id % 23) * DAY;
                later.push(note);
            }
        }
        if batch == 1 {
            docs.push(article(
                9_001,
                "Restore a backup",
                "How to restore",
                "validated",
                "public",
            ));
        }
        index.upsert(&docs).unwrap();
        index.commit(batch + 1).unwrap();
    }
    let readers = [
        visibility(Role::Agent, None),
        visibility(Role::Partner, Some(ACME)),
        visibility(Role::Customer, Some(GLOBEX)),
    ];
    let summary = |row: &backline_search::ResultRow| {
        (
            row.kind,
            row.id,
            row.score,
            row.matched_itself,
            row.more_comments + row.comments.len(),
        )
    };
    for reader in &readers {
        for query in [
            "restore",
            "backup",
            "restore backup",
            "mailbox",
            "status:open",
            "",
        ] {
            for sort in [Sort::Relevance, Sort::Newest] {
                let parsed = SearchQuery::parse(query).unwrap();
                let whole = index.search_rows(&parsed, reader, sort, 0, 10_000).unwrap();
                assert!(whole.total > 0, "{query:?}");
                assert_eq!(whole.rows.len(), whole.total, "{query:?}");
                let mut paged = Vec::new();
                for page in 0.. {
                    let part = index.search_rows(&parsed, reader, sort, page, 7).unwrap();
                    assert_eq!(part.total, whole.total, "{query:?} page {page}");
                    if part.rows.is_empty() {
                        break;
                    }
                    paged.extend(part.rows.iter().map(summary));
                }
                let expected: Vec<_> = whole.rows.iter().map(summary).collect();
                assert_eq!(paged, expected, "{query:?} {sort:?} for {reader:?}");
            }
        }
    }
}
