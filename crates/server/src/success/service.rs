//! Customer success: accounts and their health, versioned playbooks and the suggestions that
//! improve them, runs by hand or by trigger, tasks, and a step's email sent when its owner
//! approves it. Staff only; the rules are here, the formulas in the domain (`health`,
//! `playbooks`).

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::health::{self, Health, HealthWeights};
use backline_domain::playbooks::{self, AccountFacts, PlaybookContent, Stage, Trigger};
use backline_domain::{Email, FieldErrors, OrgId, OrgKind, Role, Span, Timestamp, UserId};
use backline_store::crisis::Mail;
use backline_store::{NewRun, Org, Playbook, Run, Store, StoreError, SuccessAccount, Task, User};
use std::collections::BTreeMap;
use std::time::Duration;

const WEIGHTS_KEY: &str = "success.health_weights";
const MAX_NOTE: usize = 4_000;

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "customer success is for vendor staff".into(),
        ))
    }
}

fn admin_only(caller: &User) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins can change this".into()))
    }
}

fn not_found(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(what),
        e => e.into(),
    }
}

/// The vendor's health weights (the defaults until an admin sets them).
pub async fn weights(store: &Store) -> ApiResult<HealthWeights> {
    Ok(weights_with_version(store).await?.0)
}

/// The weights with their version (a stored setting's: 0 while the defaults apply).
pub async fn weights_with_version(store: &Store) -> ApiResult<(HealthWeights, i64)> {
    let (text, version) = store.setting_with_version(WEIGHTS_KEY).await?;
    let weights = text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    Ok((weights, version))
}

pub async fn read_weights(store: &Store, caller: &User) -> ApiResult<(HealthWeights, i64)> {
    staff_only(caller)?;
    weights_with_version(store).await
}

/// Sets the weights, only while they are at version `expected` when given
/// ([`ApiError::Stale`] otherwise); answers them with their new version.
pub async fn set_weights(
    store: &Store,
    caller: &User,
    weights: &HealthWeights,
    expected: Option<i64>,
) -> ApiResult<(HealthWeights, i64)> {
    admin_only(caller)?;
    weights
        .check()
        .map_err(|m| ApiError::validation("weights", m))?;
    let json = serde_json::to_string(weights).map_err(|e| ApiError::Internal(e.to_string()))?;
    let version = store.write_setting(WEIGHTS_KEY, &json, expected).await?;
    Ok((*weights, version))
}

/// An account as the success team sees it.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub org: Org,
    pub owner: Option<User>,
    pub stage: Stage,
    pub renewal: Option<Timestamp>,
    pub health: Health,
    /// The record's version (0 before its first save).
    pub version: i64,
}

async fn summary(
    store: &Store,
    org: Org,
    record: Option<&SuccessAccount>,
    weights: &HealthWeights,
    now: Timestamp,
) -> ApiResult<AccountSummary> {
    let facts = store.health_facts(org.id, now).await?;
    let owner = match record.and_then(|r| r.owner) {
        Some(id) => Some(store.user(id).await?),
        None => None,
    };
    Ok(AccountSummary {
        org,
        owner,
        stage: record.map_or(Stage::Onboarding, |r| r.stage),
        renewal: record.and_then(|r| r.renewal),
        health: health::health(&facts, weights),
        version: record.map_or(0, |r| r.version),
    })
}

async fn all_accounts(store: &Store, now: Timestamp) -> ApiResult<Vec<AccountSummary>> {
    let records = store.success_accounts().await?;
    let weights = weights(store).await?;
    let mut out = Vec::new();
    for org in store.list_orgs(None, None, None).await? {
        if !matches!(org.kind, OrgKind::Customer | OrgKind::Partner) {
            continue;
        }
        let record = records.iter().find(|r| r.org == org.id);
        out.push(summary(store, org, record, &weights, now).await?);
    }
    Ok(out)
}

/// Every customer and partner organisation with its health, lowest health first.
pub async fn accounts(
    store: &Store,
    caller: &User,
    now: Timestamp,
) -> ApiResult<Vec<AccountSummary>> {
    staff_only(caller)?;
    let mut all = all_accounts(store, now).await?;
    all.sort_by(|a, b| {
        a.health
            .score
            .total_cmp(&b.health.score)
            .then(a.org.slug.cmp(&b.org.slug))
    });
    Ok(all)
}

pub async fn account(
    store: &Store,
    caller: &User,
    slug: &str,
    now: Timestamp,
) -> ApiResult<AccountSummary> {
    staff_only(caller)?;
    let org = store
        .org_by_slug(slug)
        .await
        .map_err(not_found("account"))?;
    let records = store.success_accounts().await?;
    let record = records.iter().find(|r| r.org == org.id);
    summary(store, org, record, &weights(store).await?, now).await
}

/// An account's owner, stage and renewal as submitted.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    /// Email of a staff user; empty: no owner.
    pub owner_email: String,
    pub stage: String,
    pub renewal: Option<Timestamp>,
}

/// Saves an account's owner, stage and renewal, only while its record is at version
/// `expected` when given ([`ApiError::Stale`] otherwise).
pub async fn update_account(
    store: &Store,
    caller: &User,
    slug: &str,
    change: &AccountChange,
    errors: FieldErrors,
    now: Timestamp,
    expected: Option<i64>,
) -> ApiResult<AccountSummary> {
    staff_only(caller)?;
    let org = store
        .org_by_slug(slug)
        .await
        .map_err(not_found("account"))?;
    let mut errors = errors;
    let owner = match change.owner_email.trim() {
        "" => None,
        email => match store.user_by_email(email).await {
            Ok(user) if user.role.is_staff() => Some(user.id),
            Ok(_) => {
                errors.add("owner_email", "the owner must be vendor staff");
                None
            }
            Err(StoreError::NotFound) => {
                errors.add("owner_email", "nobody has this email");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let stage = Stage::parse(change.stage.trim());
    if stage.is_none() {
        errors.add(
            "stage",
            "choose onboarding, adoption, mature, renewal, at_risk or churned",
        );
    }
    errors.into_result()?;
    let stage = stage.unwrap_or(Stage::Onboarding);
    store
        .write_success_account(org.id, owner, stage, change.renewal, expected)
        .await?;
    account(store, caller, slug, now).await
}

/// The playbooks, those matching every word of `query` when one is given.
pub async fn playbooks(
    store: &Store,
    caller: &User,
    query: Option<&str>,
) -> ApiResult<Vec<Playbook>> {
    staff_only(caller)?;
    let all = store.playbooks().await?;
    Ok(match query {
        Some(q) => all.into_iter().filter(|p| p.content.matches(q)).collect(),
        None => all,
    })
}

pub async fn playbook(
    store: &Store,
    caller: &User,
    id: i64,
    version: Option<i64>,
) -> ApiResult<Playbook> {
    staff_only(caller)?;
    store
        .playbook(id, version)
        .await
        .map_err(not_found("playbook"))
}

/// Saves a new playbook, or a new version of one (its owner or an admin; others suggest).
pub async fn save_playbook(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    content: &PlaybookContent,
) -> ApiResult<Playbook> {
    staff_only(caller)?;
    if let Some(id) = id {
        let current = store
            .playbook(id, None)
            .await
            .map_err(not_found("playbook"))?;
        if current.owner != Some(caller.id) && caller.role != Role::Admin {
            return Err(ApiError::Forbidden(
                "only the playbook's owner or an admin edits it; suggest an addition instead"
                    .into(),
            ));
        }
    }
    content.check()?;
    let id = store
        .save_playbook(id, content, caller.id)
        .await
        .map_err(not_found("playbook"))?;
    Ok(store.playbook(id, None).await?)
}

pub async fn suggest(store: &Store, caller: &User, playbook: i64, body: &str) -> ApiResult<i64> {
    staff_only(caller)?;
    store
        .playbook(playbook, None)
        .await
        .map_err(not_found("playbook"))?;
    let body = body.trim();
    if body.is_empty() || body.len() > MAX_NOTE {
        return Err(ApiError::validation(
            "body",
            format!("write what you needed to learn, up to {MAX_NOTE} characters"),
        ));
    }
    Ok(store.add_suggestion(playbook, caller.id, body).await?)
}

pub async fn suggestions(
    store: &Store,
    caller: &User,
    playbook: i64,
) -> ApiResult<Vec<backline_store::Suggestion>> {
    staff_only(caller)?;
    Ok(store.suggestions(playbook).await?)
}

/// The playbook's owner (or an admin) accepts or declines a suggestion.
pub async fn decide(
    store: &Store,
    caller: &User,
    playbook: i64,
    suggestion: i64,
    accept: bool,
) -> ApiResult<()> {
    staff_only(caller)?;
    let current = store
        .playbook(playbook, None)
        .await
        .map_err(not_found("playbook"))?;
    if current.owner != Some(caller.id) && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only the playbook's owner or an admin decides on suggestions".into(),
        ));
    }
    store
        .decide_suggestion(playbook, suggestion, accept, caller.id)
        .await
        .map_err(not_found("open suggestion"))
}

/// Starts a playbook on an account by hand.
pub async fn run_by_hand(
    store: &Store,
    caller: &User,
    playbook: i64,
    slug: &str,
    now: Timestamp,
) -> ApiResult<Run> {
    staff_only(caller)?;
    let playbook = store
        .playbook(playbook, None)
        .await
        .map_err(not_found("playbook"))?;
    let org = match store.org_by_slug(slug).await {
        Ok(org) if matches!(org.kind, OrgKind::Customer | OrgKind::Partner) => org,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ApiError::validation(
                "account",
                "no customer or partner has this slug",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let owner = account_owner(store, org.id).await?;
    let tasks = playbooks::plan_tasks(&playbook.content.steps, now, owner, caller.id);
    let id = store
        .start_run(&NewRun {
            playbook: &playbook,
            org: org.id,
            started_by: Some(caller.id),
            trigger_kind: "manual",
            reason: "started by hand",
            trigger_key: None,
            tasks: &tasks,
            at: now,
        })
        .await?
        .ok_or_else(|| ApiError::Internal("a run by hand has no trigger key".into()))?;
    Ok(store.run(id).await?)
}

async fn account_owner(store: &Store, org: OrgId) -> ApiResult<Option<UserId>> {
    Ok(store
        .success_accounts()
        .await?
        .into_iter()
        .find(|a| a.org == org)
        .and_then(|a| a.owner))
}

/// Checks every playbook's trigger against every account and starts the runs that are due:
/// when the trigger holds and the playbook has no unfinished run on the account. The tasks go
/// to the account's owner, or the playbook's when the account has none. At most one run per
/// playbook, account and day, even when two nodes check at once. Returns the runs started.
pub async fn check_triggers(state: &AppState, now: Timestamp) -> ApiResult<Vec<i64>> {
    let store = &state.store;
    let triggered: Vec<(Playbook, Trigger)> = store
        .playbooks()
        .await?
        .into_iter()
        .filter_map(|p| p.content.trigger.map(|t| (p, t)))
        .collect();
    if triggered.is_empty() {
        return Ok(Vec::new());
    }
    let mut started = Vec::new();
    for account in all_accounts(store, now).await? {
        let partner = account.org.kind == OrgKind::Partner;
        let alerts = if partner
            && triggered
                .iter()
                .any(|(_, t)| matches!(t, Trigger::PartnerAlert))
        {
            crate::partners::service::partner_alerts(store, &account.org)
                .await?
                .into_iter()
                .map(|a| a.kind.as_str().to_string())
                .collect()
        } else {
            Vec::new()
        };
        let facts = AccountFacts {
            is_partner: partner,
            health: account.health.score,
            renewal: account.renewal,
            joined: account.org.created_at,
            partner_alerts: alerts,
            incidents: store
                .incidents_touching(
                    account.org.id,
                    now.minus(Span::DAY.times(365)),
                    now.plus(Span::SECOND),
                )
                .await?,
        };
        for (playbook, trigger) in &triggered {
            let Some(reason) = playbooks::fires(trigger, &facts, now) else {
                continue;
            };
            if store.open_run_exists(playbook.id, account.org.id).await? {
                continue;
            }
            let Some(runner) = account.owner.as_ref().map(|u| u.id).or(playbook.owner) else {
                continue;
            };
            let tasks = playbooks::plan_tasks(&playbook.content.steps, now, Some(runner), runner);
            let key = format!("{}:{}", trigger.as_str(), now.date());
            if let Some(id) = store
                .start_run(&NewRun {
                    playbook,
                    org: account.org.id,
                    started_by: None,
                    trigger_kind: trigger.as_str(),
                    reason: &reason,
                    trigger_key: Some(&key),
                    tasks: &tasks,
                    at: now,
                })
                .await?
            {
                started.push(id);
            }
        }
    }
    Ok(started)
}

pub async fn check_triggers_now(state: &AppState, caller: &User) -> ApiResult<Vec<i64>> {
    admin_only(caller)?;
    check_triggers(state, state.clock.now()).await
}

/// Checks the triggers at start and then every `every`.
pub fn start_triggers(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let span = tracing::info_span!("playbook_triggers");
            let result = tracing::Instrument::instrument(
                check_triggers(&state, state.clock.now()),
                span.clone(),
            )
            .await;
            span.in_scope(|| match result {
                Ok(started) => {
                    tracing::debug!(started = started.len(), "playbook triggers checked")
                }
                Err(e) => tracing::warn!(error = %e, "playbook trigger check failed"),
            });
        }
    })
}

/// A run with its playbook version, account and tasks.
#[derive(Debug, Clone)]
pub struct RunDetail {
    pub run: Run,
    pub playbook: Playbook,
    pub org: Org,
    pub tasks: Vec<Task>,
}

pub async fn run(store: &Store, caller: &User, id: i64) -> ApiResult<RunDetail> {
    staff_only(caller)?;
    let run = store.run(id).await.map_err(not_found("run"))?;
    let playbook = store.playbook(run.playbook_id, Some(run.version)).await?;
    let org = store.org(run.org_id).await?;
    let tasks = store.run_tasks(id).await?;
    Ok(RunDetail {
        run,
        playbook,
        org,
        tasks,
    })
}

pub async fn runs(store: &Store, caller: &User, org: Option<OrgId>) -> ApiResult<Vec<Run>> {
    staff_only(caller)?;
    Ok(store.runs(org).await?)
}

pub async fn finish_run(store: &Store, caller: &User, id: i64, outcome: &str) -> ApiResult<()> {
    staff_only(caller)?;
    let outcome = outcome.trim();
    if outcome.is_empty() || outcome.len() > MAX_NOTE {
        return Err(ApiError::validation(
            "outcome",
            format!("write how it went, up to {MAX_NOTE} characters"),
        ));
    }
    store
        .finish_run(id, outcome)
        .await
        .map_err(not_found("open run"))
}

/// A task with what its owner needs beside it.
#[derive(Debug, Clone)]
pub struct TaskDetail {
    pub task: Task,
    pub run: Run,
    pub playbook_name: String,
    pub org: Org,
    pub step: Option<playbooks::Step>,
    /// The step's sample email filled for the account (recipient left generic).
    pub email: Option<(String, String)>,
    pub overdue: bool,
}

async fn task_detail(store: &Store, task: Task, now: Timestamp) -> ApiResult<TaskDetail> {
    let run = store.run(task.run_id).await?;
    let playbook = store.playbook(run.playbook_id, Some(run.version)).await?;
    let org = store.org(run.org_id).await?;
    let step = usize::try_from(task.step)
        .ok()
        .and_then(|i| playbook.content.steps.get(i))
        .cloned();
    let values = template_values(store, &org, None).await?;
    let email = step
        .as_ref()
        .and_then(|s| playbooks::render_email(s, &values));
    Ok(TaskDetail {
        overdue: task.done_at.is_none() && task.due_at < now,
        task,
        run,
        playbook_name: playbook.content.name,
        org,
        step,
        email,
    })
}

async fn template_values(
    store: &Store,
    org: &Org,
    recipient: Option<&User>,
) -> ApiResult<BTreeMap<&'static str, String>> {
    let account = store
        .success_accounts()
        .await?
        .into_iter()
        .find(|a| a.org == org.id);
    let owner = match account.as_ref().and_then(|a| a.owner) {
        Some(id) => store.user(id).await?.name,
        None => String::new(),
    };
    let health = health::health(
        &store.health_facts(org.id, Timestamp::now()).await?,
        &weights(store).await?,
    );
    Ok(BTreeMap::from([
        ("account.name", org.name.clone()),
        ("owner.name", owner),
        (
            "recipient.name",
            recipient.map_or_else(|| "there".to_string(), |u| u.name.clone()),
        ),
        (
            "renewal.date",
            account
                .and_then(|a| a.renewal)
                .map(|r| r.date().to_string())
                .unwrap_or_default(),
        ),
        ("health.score", format!("{:.0}", health.score)),
    ]))
}

/// The caller's open tasks, soonest due first, overdue ones flagged.
pub async fn my_tasks(store: &Store, caller: &User, now: Timestamp) -> ApiResult<Vec<TaskDetail>> {
    staff_only(caller)?;
    let mut out = Vec::new();
    for task in store.open_tasks_of(caller.id).await? {
        out.push(task_detail(store, task, now).await?);
    }
    Ok(out)
}

pub async fn task(store: &Store, caller: &User, id: i64, now: Timestamp) -> ApiResult<TaskDetail> {
    staff_only(caller)?;
    let task = store.task(id).await.map_err(not_found("task"))?;
    task_detail(store, task, now).await
}

fn owner_only(caller: &User, task: &Task) -> ApiResult<()> {
    if task.owner_id == caller.id || caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the task's owner (or an admin) can do this".into(),
        ))
    }
}

pub async fn complete_task(store: &Store, caller: &User, id: i64, note: &str) -> ApiResult<()> {
    staff_only(caller)?;
    let task = store.task(id).await.map_err(not_found("task"))?;
    owner_only(caller, &task)?;
    let note = note.trim();
    if note.len() > MAX_NOTE {
        return Err(ApiError::validation(
            "note",
            format!("keep the note under {MAX_NOTE} characters"),
        ));
    }
    store
        .complete_task(id, (!note.is_empty()).then_some(note))
        .await
        .map_err(not_found("open task"))
}

/// The task's owner approves its step's email: filled for the account and the recipient (a
/// person of the account's organisation) and written to the outbox with the approval.
pub async fn send_step_email(store: &Store, caller: &User, id: i64, to: &str) -> ApiResult<String> {
    staff_only(caller)?;
    let task = store.task(id).await.map_err(not_found("task"))?;
    if task.owner_id != caller.id {
        return Err(ApiError::Forbidden(
            "only the task's owner approves its email".into(),
        ));
    }
    let detail = task_detail(store, task, Timestamp::now()).await?;
    let Some(step) = &detail.step else {
        return Err(ApiError::Conflict {
            code: "no_email",
            message: "this step has no email".into(),
        });
    };
    let email = Email::parse(to.trim()).map_err(|e| ApiError::validation("to", e.0))?;
    let recipient = match store.user_by_email(email.as_str()).await {
        Ok(user) if user.org.as_ref().map(|o| o.id) == Some(detail.org.id) => user,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ApiError::validation(
                "to",
                "send it to a person of the account's organisation",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let values = template_values(store, &detail.org, Some(&recipient)).await?;
    let Some((subject, body)) = playbooks::render_email(step, &values) else {
        return Err(ApiError::Conflict {
            code: "no_email",
            message: "this step has no email".into(),
        });
    };
    store
        .send_task_email(
            id,
            &Mail {
                recipient: recipient.email.clone(),
                subject,
                body,
                kind: "playbook".into(),
                unsubscribe: None,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "email_sent",
                message,
            },
            e => e.into(),
        })?;
    Ok(recipient.email)
}
