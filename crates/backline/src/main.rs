//! `backline`: the server, the admin command line, demo data and benchmarks in one binary.

mod bench;
mod bench_analytics;
mod bench_categorize;
mod bench_help;
mod bench_known;
mod bench_lists;
mod bench_mail;
mod bench_search;
mod demo;
mod learn;
mod stats;

use anyhow::{bail, Context};
use backline_domain::{OrgKind, PartnerKind, Role, TechnicalLevel, Tier};
use backline_server::accounts::orgs::CreateOrg;
use backline_server::accounts::users::CreateUser;
use backline_server::application::{Application, Config as ServerConfig};
use backline_server::error::ApiError;
use backline_store::{Store, StoreConfig};
use clap::{Args, Parser, Subcommand};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "backline",
    version,
    about = "Support operations for vendors that support through partners"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; every command that touches the store takes these.
#[derive(Args, Clone, Debug)]
struct StoreFlags {
    /// Folder for the embedded SQLite database.
    #[arg(
        long,
        env = "BACKLINE_DATA",
        default_value = "./backline-data",
        global = true
    )]
    data: PathBuf,
    /// PostgreSQL URL (postgres://user@host:port/db); when set, SQLite is not used.
    #[arg(long, env = "BACKLINE_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

impl StoreFlags {
    fn config(&self) -> anyhow::Result<StoreConfig> {
        Ok(StoreConfig::from_flags(
            &self.data,
            self.database_url.as_deref(),
        )?)
    }

    async fn open(&self) -> anyhow::Result<Store> {
        let config = self.config()?;
        Store::open(&config).await.with_context(|| match &config {
            StoreConfig::Sqlite { data_dir } => {
                format!("opening the SQLite store in {}", data_dir.display())
            }
            StoreConfig::Postgres { .. } => "opening the PostgreSQL store".to_string(),
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrations run at start).
    Serve {
        #[command(flatten)]
        store: StoreFlags,
        /// Address to listen on.
        #[arg(long, env = "BACKLINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Fill an empty store with demo data first.
        #[arg(long)]
        demo: bool,
        /// Mark session cookies Secure (send them over HTTPS only). Leave on behind TLS.
        #[arg(long, env = "BACKLINE_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set)]
        secure_cookies: bool,
        /// This node's search index folder (default: `search` inside --data). Each node has its own.
        #[arg(long, env = "BACKLINE_INDEX_DIR")]
        index_dir: Option<PathBuf>,
        /// Where outgoing email goes: smtp://host:port. Without it, mail waits in the outbox.
        #[arg(long, env = "BACKLINE_SMTP_URL")]
        smtp_url: Option<String>,
        /// The sender of outgoing email.
        #[arg(
            long,
            env = "BACKLINE_MAIL_FROM",
            default_value = "support@backline.localhost"
        )]
        mail_from: String,
        /// Take mail in over SMTP at this address (e.g. 0.0.0.0:25, or 127.0.0.1:2525 behind
        /// an MTA). Mail for the --smtp-domain domains only.
        #[arg(long, env = "BACKLINE_SMTP_LISTEN")]
        smtp_listen: Option<SocketAddr>,
        /// A domain the SMTP listener takes mail for (repeat, or separate with commas;
        /// default: the domain of --mail-from).
        #[arg(long, env = "BACKLINE_SMTP_DOMAINS", value_delimiter = ',')]
        smtp_domain: Vec<String>,
        /// The largest file on a comment, in MB (mail and uploads alike).
        #[arg(long, env = "BACKLINE_MAX_ATTACHMENT_MB", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=500))]
        max_attachment_mb: u32,
        /// How people reach this installation, for links in email (default: http://LISTEN).
        #[arg(long, env = "BACKLINE_PUBLIC_URL")]
        public_url: Option<String>,
        /// Business days after resolution within which an incident's post-mortem is due.
        #[arg(long, env = "BACKLINE_POSTMORTEM_BUSINESS_DAYS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=60))]
        postmortem_business_days: u32,
    },
    /// Rebuild the search index from the database (stop the server that uses it first).
    Reindex {
        #[command(flatten)]
        store: StoreFlags,
        #[arg(long, env = "BACKLINE_INDEX_DIR")]
        index_dir: Option<PathBuf>,
    },
    /// Learn the known-issue matcher's weights from the cases already linked to their answers,
    /// and store them for every node. Run it again as links accumulate.
    Learn {
        #[command(flatten)]
        store: StoreFlags,
        /// Refuse to learn from fewer linked cases than this.
        #[arg(long, default_value_t = 20)]
        min_examples: usize,
    },
    /// Fill the store with a realistic demo vendor and print the logins.
    Demo {
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Mail coming in through another mail server.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// IMAP mailboxes Backline reads mail from.
    Mailbox {
        #[command(subcommand)]
        command: MailboxCommand,
    },
    /// Case categories and the categoriser that suggests them.
    Categories {
        #[command(subcommand)]
        command: CategoriesCommand,
    },
    /// Measure performance; prints figures, asserts nothing.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum CategoriesCommand {
    /// Ask every running node to learn the categoriser again from the categorised cases
    /// now (each does at its next round, within seconds); nodes started later learn at start.
    Retrain {
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Add a customer or partner organisation.
    Add {
        #[command(flatten)]
        store: StoreFlags,
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        #[arg(long, value_parser = parse_with(OrgKind::parse))]
        kind: OrgKind,
        /// For partners: comma-separated reseller, implementer, frontline.
        #[arg(long, value_delimiter = ',', value_parser = parse_with(PartnerKind::parse))]
        partner_kinds: Vec<PartnerKind>,
        #[arg(long, value_parser = parse_with(TechnicalLevel::parse))]
        technical_level: Option<TechnicalLevel>,
        /// For customers served through a partner: the partner's slug.
        #[arg(long)]
        served_by: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person.
    Add {
        #[command(flatten)]
        store: StoreFlags,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_with(Role::parse))]
        role: Role,
        /// Slug of the organisation (partner technicians and customers).
        #[arg(long)]
        org: Option<String>,
        /// Tier an agent works in (1 to 3).
        #[arg(long)]
        tier: Option<i64>,
        /// Read the sign-in password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (only the token, on stdout).
    Create {
        #[command(flatten)]
        store: StoreFlags,
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Store one message read from standard input (for an MTA's pipe). It is placed by the
    /// running server. Exits 0 once it is stored, 75 (try again later) if it could not be.
    Deliver {
        #[command(flatten)]
        store: StoreFlags,
        /// The envelope sender, if the MTA passes it.
        #[arg(long)]
        from: Option<String>,
        /// The envelope recipient(s), if the MTA passes them.
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
    },
}

#[derive(Subcommand)]
enum MailboxCommand {
    /// Add a mailbox to read: imaps://user@host/INBOX (imap:// only on a trusted network).
    Add {
        #[command(flatten)]
        store: StoreFlags,
        #[arg(long)]
        imap_url: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the mailboxes and how far each has been read.
    List {
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Stop reading a mailbox.
    Remove {
        #[command(flatten)]
        store: StoreFlags,
        id: i64,
    },
}

/// sysexits' EX_TEMPFAIL: an MTA keeps the message and tries again later.
const EXIT_TRY_AGAIN: i32 = 75;
/// The most `mail deliver` reads from standard input (a message over the intake limit is
/// still stored, and quarantined with its size; anything larger is refused here).
const MAX_PIPED_BYTES: u64 = 200 * 1024 * 1024;

fn parse_with<T: Clone + Send + Sync + 'static>(
    parse: fn(&str) -> Result<T, backline_domain::ParseError>,
) -> impl Fn(&str) -> Result<T, String> + Clone {
    move |text| parse(text).map_err(|e| e.0)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BACKLINE_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tantivy=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Turns an API error into a message for the terminal, naming each bad field.
fn cli_error(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Validation(fields) => anyhow::anyhow!("invalid input: {}", fields.summary()),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            store,
            listen,
            demo,
            secure_cookies,
            index_dir,
            smtp_url,
            mail_from,
            smtp_listen,
            smtp_domain,
            max_attachment_mb,
            public_url,
            postmortem_business_days,
        } => {
            let smtp = smtp_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .map(backline_server::mail::SmtpTarget::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?;
            let db = store.open().await?;
            if demo {
                demo::fill(&db, &mut std::io::stderr()).await?;
            }
            let index_dir = index_dir.unwrap_or_else(|| store.data.join("search"));
            let app = Application::build(ServerConfig {
                listen,
                index_dir: Some(index_dir),
                smtp,
                mail_from,
                smtp_listen,
                smtp_domains: smtp_domain,
                max_attachment_bytes: max_attachment_mb as usize * 1024 * 1024,
                public_url,
                secure_cookies,
                postmortem_business_days,
                ..ServerConfig::new(db.clone())
            })
            .await?;
            tracing::info!(address = %app.address(), database = db.backend().as_str(), "backline is serving");
            app.run_until_stopped().await?;
            db.close().await;
        }
        Command::Reindex { store, index_dir } => {
            let db = store.open().await?;
            let dir = index_dir.unwrap_or_else(|| store.data.join("search"));
            let index = backline_search::SearchIndex::open_for_bulk(&dir).with_context(|| {
                format!(
                    "opening the search index in {} (is a server using it? stop it first)",
                    dir.display()
                )
            })?;
            let started = std::time::Instant::now();
            let rebuilt = backline_server::indexer::rebuild(&db, &index).await?;
            println!(
                "reindexed {} cases and {} articles and {} community questions in {:.1} s into {}",
                rebuilt.cases,
                rebuilt.articles,
                rebuilt.questions,
                started.elapsed().as_secs_f64(),
                dir.display()
            );
            db.close().await;
        }
        Command::Learn {
            store,
            min_examples,
        } => {
            let db = store.open().await?;
            let report = learn::run(&db, min_examples).await?;
            println!("{report}");
            db.close().await;
        }
        Command::Demo { store } => {
            let db = store.open().await?;
            demo::fill(&db, &mut std::io::stdout()).await?;
            db.close().await;
        }
        Command::Org {
            command:
                OrgCommand::Add {
                    store,
                    name,
                    slug,
                    kind,
                    partner_kinds,
                    technical_level,
                    served_by,
                },
        } => {
            let db = store.open().await?;
            let org = backline_server::accounts::orgs::create_org(
                &db,
                CreateOrg {
                    name,
                    slug,
                    kind,
                    partner_kinds,
                    technical_level,
                    served_by,
                },
            )
            .await
            .map_err(cli_error)?;
            println!(
                "created {} organisation {} ({})",
                org.kind, org.slug, org.name
            );
        }
        Command::User {
            command:
                UserCommand::Add {
                    store,
                    email,
                    name,
                    role,
                    org,
                    tier,
                    password_stdin,
                },
        } => {
            let tier = tier
                .map(Tier::new)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--tier: {e}"))?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                let line = line.trim_end_matches(['\r', '\n']).to_string();
                if line.is_empty() {
                    bail!("--password-stdin: standard input held no password");
                }
                Some(line)
            } else {
                None
            };
            let db = store.open().await?;
            let user = backline_server::accounts::users::create_user(
                &db,
                CreateUser {
                    email,
                    name,
                    role,
                    organization: org,
                    tier,
                    password,
                },
            )
            .await
            .map_err(cli_error)?;
            println!("created {} {} <{}>", user.role, user.name, user.email);
        }
        Command::Token {
            command: TokenCommand::Create { store, email },
        } => {
            let db = store.open().await?;
            let email = backline_domain::Email::parse(&email)
                .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let user = db
                .user_by_email(email.as_str())
                .await
                .map_err(|e| match e {
                    backline_store::StoreError::NotFound => {
                        anyhow::anyhow!("no user has the email {email}")
                    }
                    other => other.into(),
                })?;
            let token = backline_server::auth::issue_api_token(&db, &user).await?;
            println!("{token}");
        }
        Command::Mail {
            command: MailCommand::Deliver { store, from, to },
        } => {
            use std::io::Read;
            let mut raw = Vec::new();
            std::io::stdin()
                .lock()
                .take(MAX_PIPED_BYTES + 1)
                .read_to_end(&mut raw)
                .context("reading the message from standard input")?;
            if raw.len() as u64 > MAX_PIPED_BYTES {
                anyhow::bail!("the message is larger than {MAX_PIPED_BYTES} bytes; refused");
            }
            let stored = async {
                let db = store.open().await?;
                let id = db
                    .receive_mail(
                        backline_domain::mail::MailSource::Pipe,
                        from.as_deref(),
                        &to,
                        &raw,
                    )
                    .await?;
                db.close().await;
                anyhow::Ok(id)
            }
            .await;
            match stored {
                Ok(id) => println!("stored as message {id}"),
                Err(e) => {
                    eprintln!("error: the message could not be stored, try again later: {e:#}");
                    std::process::exit(EXIT_TRY_AGAIN);
                }
            }
        }
        Command::Mailbox { command } => mailbox(command).await?,
        Command::Bench { command } => bench::run(command).await?,
        Command::Categories {
            command: CategoriesCommand::Retrain { store },
        } => {
            let db = store.open().await?;
            let at = backline_domain::Timestamp::now();
            db.set_setting(
                backline_server::analytics::model::RETRAIN_REQUEST_KEY,
                &at.to_rfc3339(),
            )
            .await?;
            println!(
                "asked every node to learn the categoriser again ({})",
                at.to_rfc3339()
            );
            db.close().await;
        }
    }
    Ok(())
}

async fn mailbox(command: MailboxCommand) -> anyhow::Result<()> {
    match command {
        MailboxCommand::Add {
            store,
            imap_url,
            password_stdin,
        } => {
            let url = backline_server::mail::imap::ImapUrl::parse(&imap_url)
                .map_err(|e| anyhow::anyhow!("--imap-url: {e}"))?;
            if !password_stdin {
                anyhow::bail!(
                    "give the mailbox's password on standard input with --password-stdin"
                );
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password")?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                anyhow::bail!("the password on standard input is empty");
            }
            let db = store.open().await?;
            let added = db.add_mailbox(imap_url.trim(), password).await?;
            println!(
                "added mailbox {} ({} as {}); running servers start reading it within a minute",
                added.id, url.mailbox, url.user
            );
            db.close().await;
        }
        MailboxCommand::List { store } => {
            let db = store.open().await?;
            for b in db.mailboxes().await? {
                let polled = b
                    .polled_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\tread up to UID {}\tlast looked {}{}",
                    b.id,
                    b.url,
                    b.last_uid,
                    polled,
                    b.last_error
                        .map(|e| format!("\tproblem: {e}"))
                        .unwrap_or_default()
                );
            }
            db.close().await;
        }
        MailboxCommand::Remove { store, id } => {
            let db = store.open().await?;
            db.remove_mailbox(id).await.map_err(|e| match e {
                backline_store::StoreError::NotFound => {
                    anyhow::anyhow!("no mailbox has the id {id}")
                }
                other => other.into(),
            })?;
            println!("removed mailbox {id}");
            db.close().await;
        }
    }
    Ok(())
}
