//! Demo data: a storage-software vendor with partners of every kind, customers served directly
//! and through partners, agents in three tiers, a knowledge base, and a few hundred cases over
//! six months, most of the finished ones linked to the article that answered them.
//! Deterministic (fixed seed), so screenshots and walkthroughs stay comparable.

use anyhow::Context;
use backline_domain::partner::{
    Agreement, EscalationStatement, FeeModel, Party, Question, VendorContact,
};
use backline_domain::routing::{
    Actions, Assignment, Condition, MatchMode, RuleDefinition, SupportModel,
};
use backline_domain::satisfaction::Rating;
use backline_domain::{
    ArticleContent, ArticleId, ArticleState, Audience, CaseStatus, Channel, OrgId, OrgKind,
    PartnerKind, PartnerKinds, Priority, Role, TechnicalLevel, Tier, Timestamp, UserId,
};
use backline_server::auth::hash_password;
use backline_store::{
    CaseChanges, LinkTarget, NewArticle, NewCase, NewComment, NewCourse, NewOrg, NewUser, Store,
    StoreError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::io::Write;

pub const PASSWORD: &str = "backline-demo";
const CASES: usize = 320;
const DAY_MS: i64 = 24 * 3600 * 1000;

struct Partner {
    slug: &'static str,
    name: &'static str,
    kinds: &'static [PartnerKind],
    level: TechnicalLevel,
    techs: &'static [(&'static str, &'static str)],
}

const PARTNERS: &[Partner] = &[
    Partner {
        slug: "acme-resellers",
        name: "Acme Resellers",
        kinds: &[PartnerKind::Reseller],
        level: TechnicalLevel::Basic,
        techs: &[
            ("Rita Ramos", "rita@acme-resellers.example"),
            ("Sam Osei", "sam@acme-resellers.example"),
        ],
    },
    Partner {
        slug: "brightpath",
        name: "BrightPath Implementers",
        kinds: &[PartnerKind::Implementer],
        level: TechnicalLevel::Expert,
        techs: &[
            ("Ivo Petrov", "ivo@brightpath.example"),
            ("Mei Tanaka", "mei@brightpath.example"),
        ],
    },
    Partner {
        slug: "frontdesk",
        name: "FrontDesk Support Services",
        kinds: &[PartnerKind::Frontline],
        level: TechnicalLevel::Intermediate,
        techs: &[
            ("Femi Adeyemi", "femi@frontdesk.example"),
            ("Lara Novak", "lara@frontdesk.example"),
        ],
    },
    Partner {
        slug: "orbit-it",
        name: "Orbit IT",
        kinds: &[PartnerKind::Reseller, PartnerKind::Implementer],
        level: TechnicalLevel::Intermediate,
        techs: &[("Omar Haddad", "omar@orbit-it.example")],
    },
];

/// (slug, name, serving partner slug, contact name, contact email)
const CUSTOMERS: &[(&str, &str, Option<&str>, &str, &str)] = &[
    (
        "globex",
        "Globex Corporation",
        None,
        "Gina Grant",
        "gina@globex.example",
    ),
    (
        "initech",
        "Initech",
        None,
        "Peter Gibbons",
        "peter@initech.example",
    ),
    (
        "umbrella-health",
        "Umbrella Health",
        None,
        "Ada Moreau",
        "ada@umbrella-health.example",
    ),
    (
        "stark-logistics",
        "Stark Logistics",
        None,
        "Tom Berg",
        "tom@stark-logistics.example",
    ),
    (
        "hooli",
        "Hooli",
        Some("acme-resellers"),
        "Gavin Bell",
        "gavin@hooli.example",
    ),
    (
        "pied-piper",
        "Pied Piper",
        Some("acme-resellers"),
        "Monica Hall",
        "monica@pied-piper.example",
    ),
    (
        "wayne-foods",
        "Wayne Foods",
        Some("brightpath"),
        "Lucius Fox",
        "lucius@wayne-foods.example",
    ),
    (
        "cyberdyne",
        "Cyberdyne Systems",
        Some("brightpath"),
        "Miles Dyson",
        "miles@cyberdyne.example",
    ),
    (
        "tyrell-retail",
        "Tyrell Retail",
        Some("frontdesk"),
        "Rachel Tyrell",
        "rachel@tyrell-retail.example",
    ),
    (
        "soylent-energy",
        "Soylent Energy",
        Some("frontdesk"),
        "Sol Roth",
        "sol@soylent-energy.example",
    ),
    (
        "massive-dynamic",
        "Massive Dynamic",
        Some("orbit-it"),
        "Nina Sharp",
        "nina@massive-dynamic.example",
    ),
    (
        "wonka-media",
        "Wonka Media",
        Some("orbit-it"),
        "Charlie Bucket",
        "charlie@wonka-media.example",
    ),
];

const AGENTS: &[(&str, &str, i64)] = &[
    ("Ana Silva", "ana@northwind.example", 1),
    ("Ben Carter", "ben@northwind.example", 1),
    ("Chen Wei", "chen@northwind.example", 2),
    ("Dara Okafor", "dara@northwind.example", 2),
    ("Eli Cohen", "eli@northwind.example", 3),
    ("Fay Lindqvist", "fay@northwind.example", 3),
];

/// (product, subject, description)
const ISSUES: &[(&str, &str, &str)] = &[
    ("Backup", "Nightly backup job fails with 'disk quota exceeded'", "Since the weekend the nightly job on our file server stops after about 40 minutes with error BK-1042 disk quota exceeded. The target volume still shows 300 GB free."),
    ("Backup", "Restore of a single mailbox takes hours", "Restoring one 2 GB mailbox from last week's snapshot has been running for three hours. Full restores were fast before the upgrade to 7.2."),
    ("Backup", "Backup agent does not start after Windows update", "After installing this month's Windows updates the backup agent service stops right after starting. Event log shows error 1053."),
    ("Backup", "Retention policy deletes snapshots too early", "We set 30 daily snapshots, but only 14 are kept. Policy screenshot attached in the portal."),
    ("Backup", "Incremental backups are as large as full backups", "Every incremental on the SQL server is 180 GB, the same as the full. Change block tracking is enabled."),
    ("Vault", "Cannot unlock vault after certificate renewal", "We renewed the TLS certificate on the vault appliance and now clients get 'handshake failed' when unlocking."),
    ("Vault", "Audit log export returns empty CSV", "Exporting the audit log for last month produces a CSV with only the header line, although the UI lists thousands of events."),
    ("Vault", "SSO login loops back to the sign-in page", "After switching to our new identity provider users are sent back to the sign-in page in a loop. SAML trace shows a valid assertion."),
    ("Vault", "Key rotation stuck at 60 percent", "Scheduled key rotation started yesterday and has been at 60% since. No errors in the appliance log."),
    ("Sync", "Files with umlauts are not synchronised", "Files whose names contain ä, ö or ü stay on the laptop and never reach the server. Others sync fine."),
    ("Sync", "Sync client uses 100% CPU on macOS", "Since version 3.4 the sync client keeps one core busy all the time on several MacBooks, even with nothing to sync."),
    ("Sync", "Conflicting copies created for every save", "Saving an Excel file on a shared folder creates a 'conflicted copy' almost every time, even when only one person edits it."),
    ("Sync", "Proxy authentication fails for sync client", "Behind our authenticating proxy the client shows 'offline'. Browser access through the same proxy works."),
    ("Backup", "How to exclude temp folders from backup", "We would like to exclude all temp and cache folders from the workstation backups. Which pattern syntax does the policy use?"),
    ("Vault", "License shows fewer seats than purchased", "Our license page shows 250 seats but we bought 400 in the renewal last month."),
    ("Sync", "Request: shared folder permissions report", "Is there a way to export who has access to which shared folder? Our auditors ask for it every quarter."),
];

/// A knowledge article answering one of the issues above: (index into `ISSUES`, title,
/// resolution, cause, audience, state, versions).
type DemoArticle = (
    usize,
    &'static str,
    &'static str,
    &'static str,
    Audience,
    ArticleState,
    &'static [&'static str],
);

const ARTICLES: &[DemoArticle] = &[
    (0, "BK-1042 'disk quota exceeded' although the target has free space",
     "Raise the per-job quota in the backup policy (Policy > Limits) or set it to unlimited, then rerun the job. Fixed for good in 7.2.3.",
     "7.2 counts deduplicated blocks twice against the job quota.", Audience::Public, ArticleState::Validated, &["7.2", "7.2.1", "7.2.2"]),
    (1, "Single-mailbox restores are slow after upgrading to 7.2",
     "Enable 'granular restore index' on the mailbox policy and rebuild the index once; restores then take minutes.",
     "The upgrade drops the granular index, so every restore scans the whole snapshot.", Audience::Partners, ArticleState::Validated, &["7.2"]),
    (2, "Backup agent service stops with error 1053 after Windows updates",
     "Install agent 7.2.2 or later, or raise the service start timeout (ServicesPipeTimeout) to 60 seconds.",
     "The update slows .NET start-up beyond the service manager's 30 second limit.", Audience::Public, ArticleState::Validated, &["7.1", "7.2"]),
    (4, "Incremental backups as large as full backups on SQL Server",
     "Reset change block tracking on the volume (agent console > Volumes > Reset CBT) and take one full backup.",
     "CBT is invalidated when the SQL VSS writer times out.", Audience::Internal, ArticleState::Validated, &[]),
    (5, "Vault unlock fails with 'handshake failed' after certificate renewal",
     "Import the new intermediate certificate into the appliance trust store and restart the vault service.",
     "The renewed certificate is issued by a new intermediate the appliance does not know.", Audience::Partners, ArticleState::Validated, &["4.0", "4.1"]),
    (7, "SSO sign-in loops after changing identity provider",
     "Update the SAML audience URI to the new entity ID and clear the vault's metadata cache.",
     "", Audience::Public, ArticleState::Validated, &[]),
    (9, "Files with umlauts or other accents do not sync",
     "Upgrade the sync client to 3.4.2, which normalises file names to NFC before upload.",
     "macOS stores names in NFD; the server compared bytes.", Audience::Public, ArticleState::Validated, &["3.3", "3.4"]),
    (10, "Sync client keeps a CPU core busy on macOS",
     "Exclude ~/Library from the watched folders; a fix is planned for 3.5.",
     "The file watcher re-scans Library caches that change constantly.", Audience::Partners, ArticleState::NotValidated, &["3.4"]),
    (12, "Sync client offline behind an authenticating proxy",
     "Set the proxy mode to 'system' so the client uses the Windows credentials for NTLM.",
     "", Audience::Public, ArticleState::Draft, &[]),
];

const CUSTOMER_REPLIES: &[&str] = &[
    "Thanks, we tried that and the problem is still there. Logs are attached.",
    "That worked for the first server, we will roll it out to the rest tonight.",
    "Any update? This is blocking our month-end close.",
    "We can do a screen share tomorrow morning if that helps.",
];

const AGENT_REPLIES: &[&str] = &[
    "Thanks for the details. Could you send the agent log from the last failed run?",
    "This matches a known issue in 7.2; the fix is in 7.2.3. Please upgrade and let us know.",
    "I have reproduced this in our lab and passed it to engineering with your logs.",
    "Please try the workaround: restart the service with the cache folder cleared.",
];

const INTERNAL_NOTES: &[&str] = &[
    "Same pattern as three other cases this month; probably the quota check regression.",
    "Customer is up for renewal next quarter, keep the CSM in the loop.",
    "Partner skipped the log collection step again.",
    "Needs L3: the stack trace points at the dedup index.",
];

#[derive(Clone, Copy)]
struct DemoCustomer {
    org: OrgId,
    /// The serving partner's slug and id.
    served_by: Option<(&'static str, OrgId)>,
    contact: UserId,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Fills `store` unless the demo vendor is already there, then prints the logins to `out`.
pub async fn fill(store: &Store, out: &mut dyn Write) -> anyhow::Result<()> {
    match store.org_by_slug(PARTNERS[0].slug).await {
        Ok(_) => {
            writeln!(out, "The store already holds the demo data.")?;
            print_logins(out)?;
            return Ok(());
        }
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let mut rng = StdRng::seed_from_u64(0x0BAC_C11E);
    let password_hash = |_: ()| hash_password(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"));
    let new_user = |email: &str,
                    name: &str,
                    role: Role,
                    org: Option<OrgId>,
                    tier: Option<Tier>,
                    hash: String| NewUser {
        email: email.into(),
        name: name.into(),
        role,
        org,
        tier,
        password_hash: Some(hash),
    };

    let admin = store
        .create_user(&new_user(
            "admin@northwind.example",
            "Nora Admin",
            Role::Admin,
            None,
            None,
            password_hash(())?,
        ))
        .await
        .context("creating the demo admin")?;
    let mut agents: Vec<(UserId, i64)> = Vec::new();
    for (name, email, tier) in AGENTS {
        let agent = store
            .create_user(&new_user(
                email,
                name,
                Role::Agent,
                None,
                Some(Tier::new(*tier)?),
                password_hash(())?,
            ))
            .await?;
        agents.push((agent.id, *tier));
    }
    // Ana, the team lead, keeps the routing, queues and templates; the others work cases.
    store.set_manage_settings(agents[0].0, true).await?;

    let mut partner_ids = std::collections::HashMap::new();
    let mut partner_techs: std::collections::HashMap<&str, Vec<UserId>> =
        std::collections::HashMap::new();
    for p in PARTNERS {
        let org = store
            .create_org(&NewOrg {
                slug: p.slug.into(),
                name: p.name.into(),
                kind: OrgKind::Partner,
                partner_kinds: PartnerKinds::new(p.kinds.to_vec()),
                technical_level: Some(p.level),
                served_by: None,
            })
            .await?;
        partner_ids.insert(p.slug, org.id);
        for (name, email) in p.techs {
            let tech = store
                .create_user(&new_user(
                    email,
                    name,
                    Role::Partner,
                    Some(org.id),
                    None,
                    password_hash(())?,
                ))
                .await?;
            partner_techs.entry(p.slug).or_default().push(tech.id);
        }
    }

    let mut customers: Vec<DemoCustomer> = Vec::new();
    for (slug, name, partner, contact, email) in CUSTOMERS {
        let served = partner.map(|p| (p, partner_ids[p]));
        let org = store
            .create_org(&NewOrg {
                slug: (*slug).into(),
                name: (*name).into(),
                kind: OrgKind::Customer,
                partner_kinds: PartnerKinds::default(),
                technical_level: None,
                served_by: served.map(|(_, id)| id),
            })
            .await?;
        let user = store
            .create_user(&new_user(
                email,
                contact,
                Role::Customer,
                Some(org.id),
                None,
                password_hash(())?,
            ))
            .await?;
        customers.push(DemoCustomer {
            org: org.id,
            served_by: served,
            contact: user.id,
        });
    }

    let agreements =
        partner_program(store, admin.id, &agents, &partner_ids, &partner_techs).await?;
    // Times below are worked out in Unix milliseconds and handed over as Timestamps.
    let now = Timestamp::now().as_millis();
    let start = now - 180 * DAY_MS;
    // The knowledge base predates the cases, so links to it make cases `known`.
    let mut article_for_issue: HashMap<usize, ArticleId> = HashMap::new();
    let mut articles_by_product: Vec<(&str, ArticleId)> = Vec::new();
    for (issue, title, resolution, cause, audience, state, versions) in ARTICLES {
        let (product, _, description) = ISSUES[*issue];
        let article = store
            .create_article(&NewArticle {
                content: ArticleContent {
                    title: (*title).into(),
                    issue: description.into(),
                    environment: format!("{product} {}", versions.join(", ")).trim().into(),
                    resolution: (*resolution).into(),
                    cause: (*cause).into(),
                    products: vec![product.to_lowercase()],
                    versions: versions.iter().map(|v| (*v).to_string()).collect(),
                },
                state: *state,
                audience: *audience,
                author: agents[0].0,
                source_case: None,
                at: Some(Timestamp::from_millis(start - DAY_MS)),
            })
            .await?;
        article_for_issue.insert(*issue, article.id);
        articles_by_product.push((product, article.id));
    }
    help_centre(store, &articles_by_product, &partner_ids, &agreements).await?;
    community(store).await?;
    // Each case with the issue it reports and when, for its category.
    let mut demo_cases = Vec::new();
    // Opening times spread evenly over six months, with jitter, oldest first.
    for i in 0..CASES {
        let opened =
            start + (i as i64) * (180 * DAY_MS / CASES as i64) + rng.gen_range(0..DAY_MS / 2);
        let DemoCustomer {
            org,
            served_by: served,
            contact,
        } = *pick(&mut rng, &customers);
        let issue = rng.gen_range(0..ISSUES.len());
        let (product, subject, description) = ISSUES[issue];
        // Partner-served customers mostly reach the vendor through their partner.
        let mut escalation = None;
        let (requester, partner, channel) = match served {
            Some((slug, partner)) if rng.gen_bool(0.75) => {
                // Technicians answer their agreement's checklist; most reproduce on vanilla.
                let terms = &agreements[slug];
                escalation = Some(EscalationStatement {
                    checklist: terms
                        .troubleshooting_checklist
                        .iter()
                        .map(|step| {
                            (
                                step.clone(),
                                "Done; details in the description.".to_string(),
                            )
                        })
                        .collect(),
                    reproduced_on_vanilla: Some(i % 3 != 0),
                });
                (
                    *pick(&mut rng, &partner_techs[slug]),
                    Some(partner),
                    Channel::Api,
                )
            }
            Some((_, partner)) => (contact, Some(partner), Channel::Web),
            None => (
                contact,
                None,
                if rng.gen_bool(0.3) {
                    Channel::Email
                } else {
                    Channel::Web
                },
            ),
        };
        let priority = match rng.gen_range(0..20) {
            0 => Priority::Urgent,
            1..=4 => Priority::High,
            5..=15 => Priority::Normal,
            _ => Priority::Low,
        };
        let case = store
            .create_case(&NewCase {
                subject: subject.into(),
                description: description.into(),
                priority,
                product: Some(product.into()),
                channel,
                tier: Tier::L1,
                tags: vec![product.to_lowercase()],
                organization: org,
                partner,
                requester,
                created_at: Some(Timestamp::from_millis(opened)),
                routing: None,
                escalation,
            })
            .await?;

        demo_cases.push((case.id, issue, opened));
        let age_days = (now - opened) / DAY_MS;
        let (agent, agent_tier) = *pick(&mut rng, &agents);
        let mut at = opened + rng.gen_range(DAY_MS / 48..DAY_MS / 4);
        store
            .update_case(
                case.id,
                &CaseChanges {
                    assignee: Some(Some(agent)),
                    tier: Some(Tier::new(agent_tier)?),
                    at: Some(Timestamp::from_millis(at)),
                    ..Default::default()
                },
                admin.id,
            )
            .await?;
        let exchanges = rng.gen_range(1..=3);
        for round in 0..exchanges {
            at += rng.gen_range(DAY_MS / 24..DAY_MS);
            if at >= now {
                break;
            }
            let status_after = (round == 0).then_some((CaseStatus::New, CaseStatus::Open));
            store
                .add_comment(&NewComment {
                    case: case.id,
                    author: agent,
                    body: (*pick(&mut rng, AGENT_REPLIES)).into(),
                    public: true,
                    status_after,
                    then: Default::default(),
                    at: Some(Timestamp::from_millis(at)),
                })
                .await?;
            if rng.gen_bool(0.35) {
                store
                    .add_comment(&NewComment {
                        case: case.id,
                        author: agent,
                        body: (*pick(&mut rng, INTERNAL_NOTES)).into(),
                        public: false,
                        status_after: None,
                        then: Default::default(),
                        at: Some(Timestamp::from_millis(at + 60_000)),
                    })
                    .await?;
            }
            at += rng.gen_range(DAY_MS / 24..DAY_MS);
            if at >= now {
                break;
            }
            store
                .add_comment(&NewComment {
                    case: case.id,
                    author: requester,
                    body: (*pick(&mut rng, CUSTOMER_REPLIES)).into(),
                    public: true,
                    status_after: None,
                    then: Default::default(),
                    at: Some(Timestamp::from_millis(at)),
                })
                .await?;
        }
        // Older cases are mostly finished; recent ones still in work.
        let status = match age_days {
            d if d > 30 => {
                if rng.gen_bool(0.7) {
                    CaseStatus::Closed
                } else {
                    CaseStatus::Solved
                }
            }
            d if d > 7 => *pick(
                &mut rng,
                &[
                    CaseStatus::Solved,
                    CaseStatus::Solved,
                    CaseStatus::Pending,
                    CaseStatus::Open,
                ],
            ),
            _ => *pick(
                &mut rng,
                &[
                    CaseStatus::New,
                    CaseStatus::Open,
                    CaseStatus::Open,
                    CaseStatus::Pending,
                    CaseStatus::OnHold,
                ],
            ),
        };
        let current = store.case(case.id).await?.status;
        // Agents link most finished cases to the article that answered them.
        if !status.is_active() && rng.gen_bool(0.7) {
            if let Some(article) = article_for_issue.get(&issue) {
                store
                    .link_case(
                        case.id,
                        LinkTarget::Article(*article),
                        agent,
                        Some(Timestamp::from_millis(at)),
                    )
                    .await?;
            }
        }
        if status != current && status != CaseStatus::New {
            store
                .update_case(
                    case.id,
                    &CaseChanges {
                        status: Some(status),
                        at: Some(Timestamp::from_millis((at + DAY_MS / 2).min(now))),
                        ..Default::default()
                    },
                    agent,
                )
                .await?;
        }
        // About half the requesters of finished cases said how it went; most were happy.
        if !status.is_active() && rng.gen_bool(0.5) {
            let rating = if rng.gen_bool(0.82) {
                Rating::Good
            } else {
                Rating::Bad
            };
            let comment = match rating {
                Rating::Good => rng.gen_bool(0.3).then_some("Quick and clear, thank you."),
                Rating::Bad => Some("It took several rounds before anyone read the log I sent."),
            };
            store
                .rate_case(
                    case.id,
                    rating,
                    comment,
                    Some(requester),
                    Timestamp::from_millis((at + DAY_MS).min(now)),
                )
                .await?;
        }
    }
    categories(store, &demo_cases, agents[0].0, now).await?;
    case_work(store, &agents).await?;
    crisis_setup(store, &agents).await?;
    service_levels(store).await?;
    success_playbooks(store, admin.id, &agents).await?;
    // The demo's history is not news: nobody is mailed about it (its missed targets included).
    store.notifications_caught_up().await?;
    // Mail from the demo customers' domains finds its organisation.
    for (slug, ..) in CUSTOMERS {
        let org = store.org_by_slug(slug).await?;
        store
            .set_org_domains(org.id, &[format!("{slug}.example")])
            .await?;
    }
    writeln!(
        out,
        "Demo data created: {} partners, {} customers, {} agents, {CASES} cases, {} articles.",
        PARTNERS.len(),
        CUSTOMERS.len(),
        AGENTS.len(),
        ARTICLES.len()
    )?;
    print_logins(out)?;
    Ok(())
}

/// Where each of `ISSUES` sits in the category tree (product › area › issue).
const CATEGORY_OF_ISSUE: [[&str; 3]; 16] = [
    ["Backup", "Jobs", "Job failures"],
    ["Backup", "Restore", "Slow restores"],
    ["Backup", "Agent", "Agent does not start"],
    ["Backup", "Policies", "Retention"],
    ["Backup", "Jobs", "Incremental size"],
    ["Vault", "Access", "Certificates"],
    ["Vault", "Audit", "Exports"],
    ["Vault", "Access", "Single sign-on"],
    ["Vault", "Keys", "Rotation"],
    ["Sync", "Client", "File names"],
    ["Sync", "Client", "Performance"],
    ["Sync", "Files", "Conflicts"],
    ["Sync", "Network", "Proxies"],
    ["Backup", "Policies", "Exclusions"],
    ["Vault", "Licensing", "Seats"],
    ["Sync", "Sharing", "Permission reports"],
];

/// A category tree, and a category on every case older than three days, as agents would
/// have given them; the newest cases are left for the categoriser to suggest.
async fn categories(
    store: &Store,
    cases: &[(backline_domain::CaseId, usize, i64)],
    agent: UserId,
    now: i64,
) -> anyhow::Result<()> {
    let mut ids: HashMap<Vec<&str>, i64> = HashMap::new();
    let mut leaf = Vec::new();
    for path in CATEGORY_OF_ISSUE {
        let mut parent = None;
        for depth in 1..=3 {
            let key = path[..depth].to_vec();
            let id = match ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id = store.create_category(parent, path[depth - 1]).await?;
                    ids.insert(key, id);
                    id
                }
            };
            parent = Some(id);
        }
        leaf.push(parent.unwrap_or_default());
    }
    for (case, issue, opened) in cases {
        if now - opened > 3 * DAY_MS {
            store
                .set_case_category(*case, Some(leaf[*issue]), agent)
                .await?;
        }
    }
    Ok(())
}

/// Macros the team shares, and one of Ana's own.
async fn case_work(store: &Store, agents: &[(UserId, i64)]) -> anyhow::Result<()> {
    use backline_domain::macros::{AssignTo, MacroActions, MacroInput};
    let shared = [
        (
            "Ask for the job log",
            "Hello {{requester.first_name}},\n\nThank you for the report. To see where the job stops, please attach the job log of the last failed run (Jobs › History › Export log) to this case.\n\nBest regards,\n{{agent.name}}",
            MacroActions {
                status: Some(CaseStatus::Pending),
                assignee: Some(AssignTo::Me),
                add_tags: vec!["needs-log".into()],
                ..Default::default()
            },
        ),
        (
            "Known issue: per-job quota (BK-1042)",
            "Hello {{requester.first_name}},\n\nThis is a known issue: the job stops with BK-1042 when the per-job quota in the backup policy is lower than the data to copy, whatever the free space on the target. Raise the quota in the policy and run the job again.\n\nBest regards,\n{{agent.name}}",
            MacroActions {
                status: Some(CaseStatus::Solved),
                add_tags: vec!["bk-1042".into()],
                ..Default::default()
            },
        ),
        (
            "Hand over to tier 2",
            "Handing over to tier 2: first-line checks done, logs attached, still failing.",
            MacroActions {
                tier: Some(Tier::L2),
                assignee: Some(AssignTo::Nobody),
                internal: true,
                ..Default::default()
            },
        ),
    ];
    for (title, body, actions) in shared {
        let input = MacroInput {
            title: title.into(),
            body: body.into(),
            actions,
            shared: true,
        };
        store.save_macro(None, &input, None).await?;
    }
    if let Some((ana, _)) = agents.first() {
        let mine = MacroInput {
            title: "Thanks, closing soon".into(),
            body: "Thanks {{requester.first_name}}! I will mark case {{case.number}} solved; reply if anything comes back.".into(),
            actions: MacroActions::default(),
            shared: false,
        };
        store.save_macro(None, &mine, Some(*ana)).await?;
    }
    Ok(())
}

/// The partner program: agreements, a relationship manager, queues, the routing rule that
/// sends certified partners straight to tier 2, courses with tests, certificates (BrightPath
/// and FrontDesk certified; Acme and Orbit not yet) and reported fees. Returns each partner's
/// agreement by slug.
/// The help centre: a category per product with one section, every article in its product's
/// section, and a branded centre for each partner whose agreement gives it the customer.
async fn help_centre(
    store: &Store,
    articles: &[(&str, ArticleId)],
    partner_ids: &HashMap<&'static str, backline_domain::OrgId>,
    agreements: &HashMap<&'static str, Agreement>,
) -> anyhow::Result<()> {
    let mut sections: HashMap<&str, i64> = HashMap::new();
    for (position, (product, _)) in articles.iter().enumerate() {
        if sections.contains_key(product) {
            continue;
        }
        let category = store
            .create_help_category(
                product,
                &backline_domain::help::slugify(product),
                &format!("Setting up and troubleshooting {product}."),
                position as i64,
            )
            .await?;
        let section = store
            .create_help_section(category.id, "Known issues and fixes", 0)
            .await?;
        sections.insert(product, section.id);
    }
    for (product, article) in articles {
        store
            .set_help_placement(
                *article,
                backline_store::help::HelpPlacement {
                    section_id: sections.get(product).copied(),
                    partner_id: None,
                },
            )
            .await?;
    }
    let mut slugs: Vec<&&str> = agreements.keys().collect();
    slugs.sort();
    for slug in slugs {
        if !backline_domain::help::may_have_brand(&agreements[*slug]) {
            continue;
        }
        let name = PARTNERS
            .iter()
            .find(|p| p.slug == *slug)
            .map_or(*slug, |p| p.name);
        let brand =
            backline_domain::help::Brand::parse(&format!("{name} Help"), "", "#1f3a5f", "#ffffff")
                .map_err(|e| anyhow::anyhow!("demo brand: {}", e.summary()))?;
        store.set_help_brand(partner_ids[*slug], &brand).await?;
    }
    Ok(())
}

/// The community: a public space with a few questions (answered by a customer, a partner
/// technician and staff, one accepted) and a partner space for all partners. Written
/// published: demo content is the vendor's own seeding, not a new account's first post.
async fn community(store: &Store) -> anyhow::Result<()> {
    use backline_domain::community::{PostKind, PostState, SpaceAccess, SpaceVisibility};
    use backline_store::community::{NewPost, NewSpace};
    let space = |name: &str, slug: &str, description: &str, visibility| NewSpace {
        name: name.into(),
        slug: slug.into(),
        description: description.into(),
        access: SpaceAccess {
            visibility,
            partner_kinds: backline_domain::PartnerKinds::new(Vec::new()),
            certified_only: false,
        },
    };
    let public = store
        .create_community_space(&space(
            "Product questions",
            "questions",
            "Ask how to do something; customers, partners and our staff answer.",
            SpaceVisibility::Public,
        ))
        .await?;
    let lounge = store
        .create_community_space(&space(
            "Partner lounge",
            "partner-lounge",
            "For partner technicians: release notes ahead of time, field tips, and each other's help.",
            SpaceVisibility::Partners,
        ))
        .await?;
    // (space, asker, title, text, answers as (author, text); the first answer is accepted)
    type Thread<'a> = (i64, &'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let threads: [Thread; 4] = [
        (
            public.id,
            "gavin@hooli.example",
            "Can a restore go to a different server than the backup came from?",
            "Our old file server is being retired and we want to restore last week's backup onto the new one.",
            &[
                ("ana@northwind.example", "Yes: in the restore wizard pick \"Another machine\" and choose the new server's agent. The agent must run the same major version."),
                ("rita@acme-resellers.example", "We do this at every hardware refresh. Install the agent on the new server first so it shows up in the list."),
            ],
        ),
        (
            public.id,
            "peter@initech.example",
            "How long are nightly backups kept by default?",
            "",
            &[("chen@northwind.example", "Thirty days by default; change it per job under Retention.")],
        ),
        (
            public.id,
            "monica@pied-piper.example",
            "Is there a way to get an email when a job fails?",
            "We only notice failures when someone looks at the console.",
            &[],
        ),
        (
            lounge.id,
            "rita@acme-resellers.example",
            "Any known issues with the 7.3 upgrade on older Windows servers?",
            "Several of our customers are still on Windows Server 2012 R2.",
            &[
                ("eli@northwind.example", "Inside information ahead of the notes: 7.3 needs the 2019 Visual C++ runtime; install it before the upgrade or the agent will not start."),
                ("ivo@brightpath.example", "Confirmed on two sites; with the runtime in place the upgrade went through."),
            ],
        ),
    ];
    let now = Timestamp::now();
    for (n, (space_id, asker, title, text, answers)) in threads.iter().enumerate() {
        let at = now.minus(backline_domain::Span::DAY.times(10 - n as i64));
        let asker = store.user_by_email(asker).await?.id;
        let question = store
            .add_community_post(
                &NewPost {
                    kind: PostKind::Question,
                    space_id: *space_id,
                    question_id: None,
                    parent_id: None,
                    author: asker,
                    title: (*title).into(),
                    body: (*text).into(),
                    state: PostState::Published,
                    at,
                },
                true,
                None,
            )
            .await?;
        for (i, (author, body)) in answers.iter().enumerate() {
            let author = store.user_by_email(author).await?.id;
            let answer = store
                .add_community_post(
                    &NewPost {
                        kind: PostKind::Answer,
                        space_id: *space_id,
                        question_id: Some(question),
                        parent_id: None,
                        author,
                        title: String::new(),
                        body: (*body).into(),
                        state: PostState::Published,
                        at: at.plus(backline_domain::Span::HOUR.times(i as i64 + 1)),
                    },
                    false,
                    None,
                )
                .await?;
            if i == 0 {
                store.set_community_accepted(question, Some(answer)).await?;
            }
        }
    }
    Ok(())
}

async fn partner_program(
    store: &Store,
    admin: UserId,
    agents: &[(UserId, i64)],
    partner_ids: &HashMap<&'static str, OrgId>,
    partner_techs: &HashMap<&'static str, Vec<UserId>>,
) -> anyhow::Result<HashMap<&'static str, Agreement>> {
    let acme = Agreement {
        troubleshooting_checklist: vec![
            "Collected the agent or client log".into(),
            "Searched the knowledge base".into(),
        ],
        vanilla_reproduction_required: true,
        required_certified_technicians: 1,
        fee_model: FeeModel::Percentage,
        fee_percent_bp: 1_500,
        ..Agreement::default()
    };
    let brightpath = Agreement {
        customer_owner: Party::Vendor,
        billing_owner: Party::Vendor,
        vendor_direct_contact: VendorContact::Allowed,
        updates_distributed_by: Party::Vendor,
        required_certified_technicians: 2,
        fee_model: FeeModel::Fixed,
        fixed_fee_cents: 250_000,
        ..Agreement::default()
    };
    let frontdesk = Agreement {
        troubleshooting_checklist: vec!["Confirmed the issue with the end customer".into()],
        vendor_direct_contact: VendorContact::Never,
        customers_see_vendor_kb: false,
        required_certified_technicians: 1,
        fee_model: FeeModel::Percentage,
        fee_percent_bp: 1_000,
        ..Agreement::default()
    };
    let orbit = Agreement {
        required_certified_technicians: 1,
        ..Agreement::default()
    };
    let mut agreements = HashMap::new();
    for (slug, terms) in [
        ("acme-resellers", acme),
        ("brightpath", brightpath),
        ("frontdesk", frontdesk),
        ("orbit-it", orbit),
    ] {
        store
            .set_agreement(partner_ids[slug], &terms, admin)
            .await?;
        store
            .set_relationship_manager(partner_ids[slug], Some(agents[0].0), None)
            .await?;
        agreements.insert(slug, terms);
    }

    let l2 = store
        .create_queue("l2", "Level 2", SupportModel::Tiered, Some(Tier::L2))
        .await?;
    let swarm = store
        .create_queue("vault-swarm", "Vault swarm", SupportModel::Swarm, None)
        .await?;
    for (agent, tier) in agents {
        match tier {
            2 => {
                store
                    .set_queue_member(l2.id, *agent, &["backup".into(), "sync".into()])
                    .await?
            }
            3 => {
                store
                    .set_queue_member(swarm.id, *agent, &["vault".into(), "crypto".into()])
                    .await?
            }
            _ => {}
        }
    }
    store
        .create_rule(&RuleDefinition {
            name: "Certified partners go straight to tier 2".into(),
            enabled: true,
            match_mode: MatchMode::All,
            conditions: vec![
                Condition::OrgKind {
                    is: OrgKind::Partner,
                },
                Condition::Certified { is: true },
            ],
            actions: Actions {
                tier: Some(Tier::L2),
                queue: Some("l2".into()),
                assign: Some(Assignment::LeastLoaded),
                ..Actions::default()
            },
        })
        .await?;
    store
        .create_rule(&RuleDefinition {
            name: "Locked vaults are swarmed".into(),
            enabled: true,
            match_mode: MatchMode::All,
            conditions: vec![
                Condition::Product { is: "vault".into() },
                Condition::Words {
                    any_of: vec!["unlock".into(), "locked".into(), "handshake".into()],
                },
            ],
            actions: Actions {
                queue: Some("vault-swarm".into()),
                assign: Some(Assignment::RoundRobin),
                priority: Some(Priority::High),
                ..Actions::default()
            },
        })
        .await?;

    let question = |text: &str, choices: &[&str], correct| Question {
        text: text.into(),
        choices: choices.iter().map(|c| (*c).to_string()).collect(),
        correct,
    };
    let backup = store
        .create_course(&NewCourse {
            product: "backup".into(),
            release: "7.2".into(),
            title: "Backup 7.2 essentials".into(),
            material: "Policies and quotas, the agent and its log, restores from snapshots, and what changed in 7.2.".into(),
            questions: vec![
                question("Where does the backup agent write its log on Linux?", &["/var/log/backline-agent/agent.log", "/tmp/agent.txt", "The Windows event log"], 0),
                question("A job stops with BK-1042 although the target has free space. What do you check first?", &["The network cable", "The per-job quota in the policy", "The licence"], 1),
                question("Which release fixes the double counting of deduplicated blocks?", &["7.1", "7.2", "7.2.3"], 2),
            ],
            pass_mark: 67,
            validity_days: 365,
        })
        .await?;
    store
        .create_course(&NewCourse {
            product: "vault".into(),
            release: "4.1".into(),
            title: "Vault 4.1 administration".into(),
            material: "Certificates and trust stores, SSO, key rotation and audit exports.".into(),
            questions: vec![
                question("After renewing the TLS certificate, unlock fails with 'handshake failed'. Why?", &["The clients are too old", "The appliance does not trust the new intermediate", "The licence expired"], 1),
                question("Where do you change the SAML audience URI?", &["In the identity provider only", "In the vault's SSO settings", "In the audit log"], 1),
            ],
            pass_mark: 100,
            validity_days: 365,
        })
        .await?;
    // BrightPath's two technicians and one of FrontDesk's are certified; Orbit's tried once.
    let all_right: Vec<Option<usize>> = vec![Some(0), Some(1), Some(2)];
    for (slug, techs) in [("brightpath", 2), ("frontdesk", 1)] {
        for tech in partner_techs[slug].iter().take(techs) {
            store
                .record_attempt(
                    &backup,
                    *tech,
                    Some(partner_ids[slug]),
                    &all_right,
                    100,
                    true,
                )
                .await?;
        }
    }
    store
        .record_attempt(
            &backup,
            partner_techs["orbit-it"][0],
            Some(partner_ids["orbit-it"]),
            &[Some(1), Some(1), Some(0)],
            33,
            false,
        )
        .await?;

    let last_quarter = {
        let today = time::OffsetDateTime::now_utc();
        let q = (u8::from(today.month()) - 1) / 3 + 1;
        if q == 1 {
            format!("{}-Q4", today.year() - 1)
        } else {
            format!("{}-Q{}", today.year(), q - 1)
        }
    };
    for (slug, cents) in [("acme-resellers", 4_800_000), ("frontdesk", 2_000_000)] {
        store
            .report_fees(
                partner_ids[slug],
                &last_quarter,
                cents,
                partner_techs[slug][0],
            )
            .await?;
    }
    Ok(agreements)
}

/// The service catalogue, which customers use what, and the crisis roster.
/// Customer success: three playbooks (a new partner's onboarding, a quarterly business
/// review, an at-risk customer), owners, stages and renewals on two customers, and a release
/// in three days for the staffing forecast (inside its first week).
async fn success_playbooks(
    store: &Store,
    admin: UserId,
    agents: &[(UserId, i64)],
) -> anyhow::Result<()> {
    use backline_domain::forecast::EventKind;
    use backline_domain::playbooks::{PlaybookContent, Situation, Stage, Step, StepOwner, Trigger};
    use backline_domain::Span;
    let step = |title: &str, owner: StepOwner, day_offset: u32, script: &str| Step {
        title: title.into(),
        owner,
        day_offset,
        script: script.into(),
        email_subject: String::new(),
        email_body: String::new(),
        dialogue: String::new(),
    };
    let playbooks = [
        PlaybookContent {
            name: "New partner: first 30 days".into(),
            situation: Situation::Onboarding,
            summary: "Started when a partner signs: get its technicians certified and its first escalations right.".into(),
            trigger: Some(Trigger::NewPartner { days: 30 }),
            steps: vec![
                Step {
                    email_subject: "Welcome to the partner program, {{account.name}}".into(),
                    email_body: "Hello {{recipient.name}},\n\nI am {{owner.name}}, your partner manager. This week we set up your queue and book your technicians' certification.\n\nTalk soon,\n{{owner.name}}".into(),
                    dialogue: "Partner: Which course first?\nManager: The current release's; it unlocks tier-2 routing.".into(),
                    ..step("Welcome call and program tour", StepOwner::AccountOwner, 0, "Walk through the agreement, the escalation checklist and the partner knowledge space.")
                },
                step("Technicians booked on certification", StepOwner::AccountOwner, 7, "Check every technician has a course attempt booked."),
                step("Review the first ten escalations", StepOwner::Runner, 30, "Look for escalations the partner could have answered from knowledge it sees; show where."),
            ],
        },
        PlaybookContent {
            name: "Quarterly business review".into(),
            situation: Situation::RegularReview,
            summary: "Every quarter with each key account: volume, service levels, satisfaction, what is next.".into(),
            trigger: None,
            steps: vec![
                Step {
                    email_subject: "Your quarterly review, {{account.name}}".into(),
                    email_body: "Hello {{recipient.name}},\n\nshall we meet next week to review the quarter? Your health score is {{health.score}}; I will bring the details.\n\n{{owner.name}}".into(),
                    ..step("Book the review", StepOwner::AccountOwner, 0, "Propose two slots; invite the sponsor and the technical lead.")
                },
                step("Prepare the numbers", StepOwner::Runner, 5, "Cases by category, service levels met, ratings, incidents that touched them."),
                step("Hold the review and record actions", StepOwner::AccountOwner, 10, "Agree three actions with owners and dates."),
            ],
        },
        PlaybookContent {
            name: "At-risk customer".into(),
            situation: Situation::Objection,
            summary: "Started when health falls below 60: find out why before the renewal does.".into(),
            trigger: Some(Trigger::HealthBelow { threshold: 60.0 }),
            steps: vec![
                Step {
                    dialogue: "Customer: Your support is slow.\nManager: Which cases? Let us look at them together now.".into(),
                    ..step("Call the sponsor", StepOwner::AccountOwner, 1, "Listen first; name the severe open cases and what is being done.")
                },
                step("Escalation review with support", StepOwner::Runner, 3, "Go through every open urgent case with its assignee."),
                Step {
                    email_subject: "What we are changing, {{account.name}}".into(),
                    email_body: "Hello {{recipient.name}},\n\nthank you for the frank call. Here is what we change and when.\n\n{{owner.name}}".into(),
                    ..step("Written plan to the customer", StepOwner::AccountOwner, 5, "Send the agreed changes in writing.")
                },
            ],
        },
    ];
    for content in &playbooks {
        store.save_playbook(None, content, admin).await?;
    }
    let owner = agents.first().map(|a| a.0);
    let now = Timestamp::now();
    let globex = store.org_by_slug("globex").await?;
    store
        .save_success_account(
            globex.id,
            owner,
            Stage::Renewal,
            Some(now.plus(Span::DAY.times(45))),
        )
        .await?;
    let initech = store.org_by_slug("initech").await?;
    store
        .save_success_account(
            initech.id,
            owner,
            Stage::Mature,
            Some(now.plus(Span::DAY.times(200))),
        )
        .await?;
    let release = now.plus(Span::DAY.times(3));
    store
        .save_staffing_event(
            None,
            &backline_store::StaffingEventInput {
                name: "Release 5.0".into(),
                kind: EventKind::Release,
                starts: release,
                ends: release.plus(Span::DAY.times(2)),
                lift_percent: 160,
            },
            admin,
            None,
        )
        .await?;
    Ok(())
}

/// A support-hours calendar and three policies: urgent cases around the clock, cases of
/// customers a partner owns on business hours with longer targets, everything else on
/// business hours. The clocks of every demo case are evaluated at once.
async fn service_levels(store: &Store) -> anyhow::Result<()> {
    use backline_domain::partner::Party;
    use backline_domain::sla::{CalendarSpec, PolicyConditions, WorkingHours};
    use backline_domain::Span;
    use backline_store::SlaPolicyInput;
    let hours = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|day| WorkingHours {
            day: day.to_string(),
            start: "08:00".into(),
            end: "18:00".into(),
        })
        .collect();
    let calendar = store
        .save_sla_calendar(
            None,
            "Support hours (Berlin)",
            &CalendarSpec {
                time_zone: "Europe/Berlin".into(),
                hours,
                holidays: vec![
                    "2026-12-24".into(),
                    "2026-12-25".into(),
                    "2026-12-26".into(),
                ],
            },
        )
        .await?;
    let hours_of = |h: i64| Span::hours(h);
    let policies = [
        SlaPolicyInput {
            name: "Urgent, around the clock".into(),
            conditions: PolicyConditions {
                priorities: vec![Priority::Urgent],
                ..Default::default()
            },
            calendar_id: None,
            first_reply: hours_of(1),
            next_reply: hours_of(2),
            resolution: hours_of(24),
            warn_before: Span::MINUTE.times(30),
        },
        SlaPolicyInput {
            name: "Partner-owned customers".into(),
            conditions: PolicyConditions {
                customer_owner: Some(Party::Partner),
                ..Default::default()
            },
            calendar_id: Some(calendar),
            first_reply: hours_of(8),
            next_reply: hours_of(16),
            resolution: hours_of(80),
            warn_before: Span::HOUR,
        },
        SlaPolicyInput {
            name: "Standard".into(),
            conditions: PolicyConditions::default(),
            calendar_id: Some(calendar),
            first_reply: hours_of(4),
            next_reply: hours_of(8),
            resolution: hours_of(40),
            warn_before: Span::HOUR,
        },
    ];
    for policy in &policies {
        store.save_sla_policy(None, policy).await?;
    }
    backline_server::sla::service::sweep(store, Timestamp::now())
        .await
        .map_err(|e| anyhow::anyhow!("evaluating the demo's service levels: {e}"))?;
    Ok(())
}

async fn crisis_setup(store: &Store, agents: &[(UserId, i64)]) -> anyhow::Result<()> {
    use backline_domain::crisis::{RosterRole, ServiceKind};
    use backline_store::crisis::RosterEntry;
    let services = [
        (
            "backup-eu",
            "Backup cloud (EU)",
            ServiceKind::Region,
            "Backup",
            &["globex", "hooli", "wayne-foods", "tyrell-retail"][..],
        ),
        (
            "backup-us",
            "Backup cloud (US)",
            ServiceKind::Region,
            "Backup",
            &["initech", "stark-logistics", "pied-piper", "cyberdyne"][..],
        ),
        (
            "vault-cloud",
            "Vault cloud",
            ServiceKind::Service,
            "Vault",
            &[
                "globex",
                "umbrella-health",
                "massive-dynamic",
                "soylent-energy",
            ][..],
        ),
        (
            "sync-relay",
            "Sync relay",
            ServiceKind::Server,
            "Sync",
            &["hooli", "pied-piper", "wonka-media", "initech"][..],
        ),
        (
            "portal",
            "Customer portal",
            ServiceKind::Tool,
            "Web",
            &[][..],
        ),
    ];
    for (slug, name, kind, group, customers) in services {
        let service = store.create_service(slug, name, kind, group).await?;
        let mut orgs = Vec::new();
        for customer in customers {
            if let Ok(org) = store.org_by_slug(customer).await {
                orgs.push(org.id);
            }
        }
        store.set_service_customers(service.id, &orgs).await?;
    }
    let mut roster = vec![RosterEntry {
        role: RosterRole::Executive,
        name: "Northwind admin".into(),
        email: "admin@northwind.example".into(),
        phone: "+1 555 0100".into(),
    }];
    for (i, (agent, tier)) in agents.iter().enumerate() {
        let user = store.user(*agent).await?;
        let role = match (tier, i % 2) {
            (1, _) => RosterRole::SupportCommunications,
            (2, 0) => RosterRole::Csm,
            (2, _) => RosterRole::MarketingCommunications,
            _ => RosterRole::Operations,
        };
        roster.push(RosterEntry {
            role,
            name: user.name,
            email: user.email,
            phone: String::new(),
        });
    }
    store.set_roster(&roster).await?;
    Ok(())
}

fn print_logins(out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "Sign in with password {PASSWORD:?} as:")?;
    writeln!(out, "  admin             admin@northwind.example")?;
    for (name, email, tier) in AGENTS {
        writeln!(out, "  agent, tier {tier}     {email} ({name})")?;
    }
    for p in PARTNERS {
        writeln!(out, "  partner technician {} ({})", p.techs[0].1, p.name)?;
    }
    for (_, name, partner, _, email) in CUSTOMERS.iter().take(6) {
        let via = partner
            .map(|p| format!(", served by {p}"))
            .unwrap_or_default();
        writeln!(out, "  customer          {email} ({name}{via})")?;
    }
    Ok(())
}
