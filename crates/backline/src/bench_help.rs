//! `backline bench help-centre`: the public help centre at scale on SQLite. A store of `articles`
//! validated public articles, arranged in ten categories of five sections, behind a real
//! server; anonymous clients fetch article pages (by their clean address), search pages and
//! suggestions; with `--posts N`, also N community posts in a public space (a question with
//! three answers per four posts, every other question with an accepted answer), whose question
//! pages are fetched anonymously and whose likely answers (articles and answered questions,
//! both from the known-issue matcher over the search index) are asked for with a token, as the
//! ask form does while one types. Measuring starts once the node's index has caught up with
//! everything stored (`/healthz` says `ready`, and likely answers hold questions). Prints
//! latency as the client sees it over loopback (an upper bound of the server's time; with one
//! client nothing queues) and the largest page. Figures are printed, never asserted.

use crate::bench::{drive, wait_healthy, wait_search_ready};
use anyhow::{bail, Context};
use backline_domain::help::article_ref;
use backline_domain::{ArticleContent, ArticleState, Audience, Role};
use backline_store::help::HelpPlacement;
use backline_store::{NewArticle, NewUser, Store, StoreConfig};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const COMPONENTS: &[&str] = &[
    "backup agent",
    "restore service",
    "dedup index",
    "web console",
    "license server",
    "snapshot manager",
    "mail archive",
    "cloud gateway",
];
const SYMPTOMS: &[&str] = &[
    "fails with a timeout",
    "stops after the upgrade",
    "uses all memory",
    "reports quota exceeded",
    "cannot connect through the proxy",
    "loses its settings",
    "runs twice every night",
];
/// What readers type: a word or two, some misspelt.
const QUERIES: &[&str] = &[
    "backup timeout",
    "restore upgrade",
    "dedup memory",
    "console proxy",
    "license quota",
    "snapshot settings",
    "archive nightly",
    "gatway proxy",
    "restor",
    "memroy",
];

pub async fn run(
    articles: usize,
    requests: usize,
    clients: usize,
    posts: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("backline-bench-help-{}", std::process::id()));
    let result = measure(&dir, articles.max(1), requests, clients.max(1), posts).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn text(i: usize) -> (String, String) {
    let component = COMPONENTS[i % COMPONENTS.len()];
    let symptom = SYMPTOMS[(i / COMPONENTS.len()) % SYMPTOMS.len()];
    (
        format!("The {component} {symptom} on release 7.{} ({i})", i % 9),
        format!(
            "After moving to release 7.{} the {component} {symptom}. It happens on nodes with \
             more than {} volumes and shows error BK-{} in the log; jobs are retried and the \
             console marks them yellow.",
            i % 9,
            4 + i % 60,
            1000 + i % 997
        ),
    )
}

async fn measure(
    dir: &std::path::Path,
    articles: usize,
    requests: usize,
    clients: usize,
    posts: usize,
) -> anyhow::Result<()> {
    let config = StoreConfig::Sqlite {
        data_dir: dir.to_path_buf(),
    };
    let store = Store::open(&config)
        .await
        .context("opening the benchmark store")?;
    let author = store
        .create_user(&NewUser {
            email: "writer@bench.example".into(),
            name: "Bench Writer".into(),
            role: Role::Agent,
            org: None,
            tier: None,
            password_hash: None,
        })
        .await?;
    let started = Instant::now();
    let mut sections = Vec::new();
    for c in 0..10 {
        let category = store
            .create_help_category(&format!("Topic {c}"), &format!("topic-{c}"), "", c)
            .await?;
        for s in 0..5 {
            sections.push(
                store
                    .create_help_section(category.id, &format!("Section {c}.{s}"), s)
                    .await?
                    .id,
            );
        }
    }
    let mut paths = Vec::with_capacity(articles);
    for i in 0..articles {
        let (title, issue) = text(i);
        let article = store
            .create_article(&NewArticle {
                content: ArticleContent {
                    title: title.clone(),
                    issue,
                    environment: "Backup 7 on Linux and Windows servers.".into(),
                    resolution: "Upgrade the agent to the latest build, then rerun the job. \
                                 If it fails again, collect the agent log."
                        .into(),
                    ..ArticleContent::default()
                },
                state: ArticleState::Validated,
                audience: Audience::Public,
                author: author.id,
                source_case: None,
                at: None,
            })
            .await?;
        store
            .set_help_placement(
                article.id,
                HelpPlacement {
                    section_id: Some(sections[i % sections.len()]),
                    partner_id: None,
                },
            )
            .await?;
        paths.push(format!(
            "/help/articles/{}",
            article_ref(article.id, &title)
        ));
    }
    eprintln!(
        "stored {articles} articles in {} sections in {:.1} s",
        sections.len(),
        started.elapsed().as_secs_f64()
    );
    let (questions, token) = community_posts(&store, &author, posts).await?;
    store.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--secure-cookies", "false", "--data"])
        .arg(dir)
        .env("BACKLINE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut server = command.spawn().context("starting the server")?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    wait_healthy(&client, &base).await?;
    let indexing = Instant::now();
    wait_search_ready(&client, &base).await?;
    if !questions.is_empty() {
        wait_questions_found(&client, &base, &token).await?;
    }
    eprintln!(
        "the search index caught up in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );

    let largest = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(paths);
    let fetch = |kind: &'static str| {
        let (client, base, paths, largest) =
            (client.clone(), base.clone(), paths.clone(), largest.clone());
        move |i: usize| {
            let (client, base, paths, largest) =
                (client.clone(), base.clone(), paths.clone(), largest.clone());
            async move {
                let query = QUERIES[i % QUERIES.len()].replace(' ', "+");
                let path = match kind {
                    // A stride through the articles, so consecutive requests read others.
                    "article" => paths[(i * 7919) % paths.len()].clone(),
                    "search" => format!("/help/search?q={query}"),
                    _ => format!("/help/suggest?q={query}"),
                };
                let reply = client.get(format!("{base}{path}")).send().await?;
                if reply.status() != reqwest::StatusCode::OK {
                    bail!("{path} answered {}", reply.status());
                }
                let body = reply.bytes().await?;
                if kind != "suggest" {
                    largest.fetch_max(body.len(), Ordering::Relaxed);
                }
                anyhow::Ok(())
            }
        }
    };
    let article = drive("article", requests, clients, fetch("article")).await?;
    let article_bytes = largest.swap(0, Ordering::Relaxed);
    let search = drive("search", requests, clients, fetch("search")).await?;
    let search_bytes = largest.swap(0, Ordering::Relaxed);
    let suggest = drive("suggest", requests, clients, fetch("suggest")).await?;
    let community = if questions.is_empty() {
        None
    } else {
        let questions = Arc::new(questions);
        let token = Arc::new(token);
        let ask = |kind: &'static str| {
            let (client, base, questions, token, largest) = (
                client.clone(),
                base.clone(),
                questions.clone(),
                token.clone(),
                largest.clone(),
            );
            move |i: usize| {
                let (client, base, questions, token, largest) = (
                    client.clone(),
                    base.clone(),
                    questions.clone(),
                    token.clone(),
                    largest.clone(),
                );
                async move {
                    let request = if kind == "question" {
                        let id = questions[(i * 7919) % questions.len()];
                        client.get(format!("{base}/community/questions/{id}"))
                    } else {
                        let query = QUERIES[i % QUERIES.len()].replace(' ', "+");
                        client
                            .get(format!("{base}/api/v1/community/likely?q={query}"))
                            .bearer_auth(token.as_str())
                    };
                    let reply = request.send().await?;
                    if reply.status() != reqwest::StatusCode::OK {
                        bail!("{kind} answered {}", reply.status());
                    }
                    let body = reply.bytes().await?;
                    if kind == "question" {
                        largest.fetch_max(body.len(), Ordering::Relaxed);
                    }
                    anyhow::Ok(())
                }
            }
        };
        let question = drive("question", requests, clients, ask("question")).await?;
        let question_bytes = largest.swap(0, Ordering::Relaxed);
        let likely = drive("likely", requests, clients, ask("likely")).await?;
        Some((question, question_bytes, likely))
    };
    let _ = server.kill().await;
    if let Some((question, question_bytes, likely)) = &community {
        for (phase, bytes) in [(question, Some(*question_bytes)), (likely, None)] {
            println!(
                "sqlite community {:<8} {:>6} requests in {:>6.2} s = {:>6.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms{}   ({clients} clients, {posts} posts, {articles} articles)",
                phase.name,
                phase.requests,
                phase.elapsed.as_secs_f64(),
                phase.per_second(),
                phase.percentile(0.50),
                phase.percentile(0.99),
                bytes.map(|b| format!("   largest page {:.1} kB", b as f64 / 1000.0)).unwrap_or_default(),
            );
        }
        println!(
            "{}",
            json!({
                "bench": "community", "backend": "sqlite", "posts": posts, "articles": articles,
                "clients": clients,
                "question_p50_ms": question.percentile(0.50), "question_p99_ms": question.percentile(0.99),
                "question_largest_bytes": question_bytes,
                "likely_p50_ms": likely.percentile(0.50), "likely_p99_ms": likely.percentile(0.99),
            })
        );
    }
    for (phase, bytes) in [
        (&article, Some(article_bytes)),
        (&search, Some(search_bytes)),
        (&suggest, None),
    ] {
        println!(
            "sqlite help {:<8} {:>6} requests in {:>6.2} s = {:>6.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms{}   ({clients} clients, {articles} articles)",
            phase.name,
            phase.requests,
            phase.elapsed.as_secs_f64(),
            phase.per_second(),
            phase.percentile(0.50),
            phase.percentile(0.99),
            bytes.map(|b| format!("   largest page {:.1} kB", b as f64 / 1000.0)).unwrap_or_default(),
        );
    }
    println!(
        "{}",
        json!({
            "bench": "help", "backend": "sqlite", "articles": articles, "clients": clients,
            "article_p50_ms": article.percentile(0.50), "article_p99_ms": article.percentile(0.99),
            "article_largest_bytes": article_bytes,
            "search_p50_ms": search.percentile(0.50), "search_p99_ms": search.percentile(0.99),
            "search_largest_bytes": search_bytes,
            "suggest_p50_ms": suggest.percentile(0.50), "suggest_p99_ms": suggest.percentile(0.99),
        })
    );
    Ok(())
}

/// Waits until likely answers hold questions (the index has them) and say they are complete.
async fn wait_questions_found(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + std::time::Duration::from_secs(300);
    let query = QUERIES[0].replace(' ', "+");
    while Instant::now() < deadline {
        let reply = client
            .get(format!("{base}/api/v1/community/likely?q={query}"))
            .bearer_auth(token)
            .send()
            .await?;
        if reply.status() == reqwest::StatusCode::OK {
            let body: serde_json::Value = reply.json().await?;
            let found = body["questions"].as_array().is_some_and(|q| !q.is_empty());
            if found && body["complete"] == true {
                return Ok(());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bail!("likely answers found no question: the index did not catch up")
}

/// Stores `posts` community posts in a public space (a question and three answers per four
/// posts, published: the author is staff), and answers the questions' ids and an API token for
/// the likely-answer lookups.
async fn community_posts(
    store: &Store,
    author: &backline_store::User,
    posts: usize,
) -> anyhow::Result<(Vec<i64>, String)> {
    use backline_domain::community::{PostKind, PostState, SpaceAccess, SpaceVisibility};
    use backline_store::community::{NewPost, NewSpace};
    if posts == 0 {
        return Ok((Vec::new(), String::new()));
    }
    let started = Instant::now();
    let space = store
        .create_community_space(&NewSpace {
            name: "Questions".into(),
            slug: "questions".into(),
            description: String::new(),
            access: SpaceAccess {
                visibility: SpaceVisibility::Public,
                partner_kinds: backline_domain::PartnerKinds::new(Vec::new()),
                certified_only: false,
            },
        })
        .await?;
    let post = |kind, question_id, title: String, body: String| NewPost {
        kind,
        space_id: space.id,
        question_id,
        parent_id: None,
        author: author.id,
        title,
        body,
        state: PostState::Published,
        at: backline_domain::Timestamp::now(),
    };
    let mut questions = Vec::new();
    for q in 0..posts.div_ceil(4) {
        let (title, body) = text(q * 31 + 7);
        let id = store
            .add_community_post(&post(PostKind::Question, None, title, body), true, None)
            .await?;
        for a in 0..3 {
            let (_, answer) = text(q * 31 + a);
            let answer = store
                .add_community_post(
                    &post(PostKind::Answer, Some(id), String::new(), answer),
                    false,
                    None,
                )
                .await?;
            if a == 0 && q % 2 == 0 {
                store.set_community_accepted(id, Some(answer)).await?;
            }
        }
        questions.push(id);
    }
    let token = backline_server::auth::issue_api_token(store, author).await?;
    eprintln!(
        "stored {} community questions with three answers each (half accepted) in {:.1} s",
        questions.len(),
        started.elapsed().as_secs_f64()
    );
    Ok((questions, token))
}
