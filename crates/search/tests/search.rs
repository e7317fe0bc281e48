//! The index, the query language and the matcher on a small hand-made corpus, with the
//! visibility rule checked for every kind of reader.

use backline_domain::query::{DocType, SearchQuery};
use backline_domain::{Actor, OrgId, Role, UserId};
use backline_search::{IndexDoc, MatchInput, MatchWeights, SearchIndex, Sort, Visibility};

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
        articles_only: false,
    };
    let staff = visibility(Role::Agent, None);
    let suggestions = index
        .suggest(&input, &staff, &MatchWeights::default(), 5)
        .unwrap();
    let top: Vec<(DocType, i64)> = suggestions.iter().map(|s| (s.kind, s.id)).collect();
    assert_eq!(top[0], (DocType::Case, 1), "{suggestions:#?}");
    assert!(top.contains(&(DocType::Article, 100)));
    // Unsolved cases, drafts and comments are never offered as answers.
    assert!(!top.contains(&(DocType::Case, 3)) && !top.contains(&(DocType::Article, 103)));
    assert!(top.iter().all(|(k, _)| *k != DocType::Comment));
    assert!(suggestions.windows(2).all(|w| w[0].score >= w[1].score));
    let reasons = suggestions[0].reasons.join("; ");
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
        articles_only: false,
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
