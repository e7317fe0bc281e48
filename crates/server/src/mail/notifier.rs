//! Mail about cases: reads the case events after its place, asks the domain who hears of each
//! (`backline_domain::mail::notices`), renders the templates and writes the mail to the
//! outbox together with its new place (see `Store::write_notifications`), so every event is
//! announced once however many nodes run this.

use crate::AppState;
use backline_domain::crisis::{default_template, render, TemplateKind};
use backline_domain::mail::{
    find_mentions, notices, CaseAudience, CaseHappening, Notice, OutgoingKind, Person,
};
use backline_domain::sla::Metric;
use backline_domain::{CaseStatus, CommentId, Email, Role, Timestamp, UserId};
use backline_store::crisis::format_time;
use backline_store::mail::{CaseMail, NotifierEvent};
use backline_store::{CaseRecord, Store, StoreError, User};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

const BATCH: i64 = 100;

/// Runs the notifier every `every` (and at once while there is a backlog).
pub fn start(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_once(&state).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "case notifications failed"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Announces the next batch of events; returns how many were read.
pub async fn run_once(state: &AppState) -> anyhow::Result<usize> {
    let (from, events) = state.store.notifier_events(BATCH).await?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(0);
    };
    let mut batch = Batch::default();
    let mut mails = Vec::new();
    for event in &events {
        match mails_for(state, &mut batch, event).await {
            Ok(more) => mails.extend(more),
            // A case deleted meanwhile, say: nothing to announce.
            Err(e) if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::NotFound)) => {}
            Err(e) => return Err(e),
        }
    }
    let span = tracing::info_span!(
        "case_notifications",
        events = events.len(),
        mails = mails.len()
    );
    // Instrumented, not entered: a span entered across an await is left on whichever thread
    // resumes the task, and tracing then panics cloning it once it has closed.
    let written = state
        .store
        .write_notifications(from, last, &mails)
        .instrument(span)
        .await?;
    if !written {
        tracing::debug!("another node announced these events");
    }
    Ok(events.len())
}

/// What a batch of events reads once rather than once per event: vendor staff (with what
/// they turned off) and the templates.
#[derive(Default)]
struct Batch {
    staff: Option<Vec<Person>>,
    templates: std::collections::HashMap<TemplateKind, backline_domain::crisis::Template>,
}

impl Batch {
    async fn staff(&mut self, store: &Store) -> anyhow::Result<Vec<Person>> {
        if self.staff.is_none() {
            self.staff = Some(staff_people(store).await?);
        }
        Ok(self.staff.clone().unwrap_or_default())
    }

    async fn template(
        &mut self,
        store: &Store,
        kind: TemplateKind,
    ) -> anyhow::Result<backline_domain::crisis::Template> {
        if let Some(t) = self.templates.get(&kind) {
            return Ok(t.clone());
        }
        let t = match store.template(kind).await? {
            Some(t) => t,
            None => default_template(kind),
        };
        self.templates.insert(kind, t.clone());
        Ok(t)
    }
}

/// What one event means for mail.
async fn happening(
    store: &Store,
    batch: &mut Batch,
    event: &NotifierEvent,
) -> anyhow::Result<Option<(CaseHappening, Option<CommentId>)>> {
    let data = &event.data;
    let id_at = |key: &str| data.get(key).and_then(serde_json::Value::as_i64);
    Ok(match event.kind.as_str() {
        "created" => Some((CaseHappening::Created, None)),
        "comment_added" => {
            let Some(comment) = id_at("comment_id").map(CommentId) else {
                return Ok(None);
            };
            let public = data
                .get("public")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            if public {
                Some((CaseHappening::PublicReply, Some(comment)))
            } else {
                let staff = batch.staff(store).await?;
                let body = store.comment(comment).await?.body;
                Some((
                    CaseHappening::InternalNote {
                        mentioned: find_mentions(&body, &staff),
                    },
                    Some(comment),
                ))
            }
        }
        "status_changed" => (data.get("to").and_then(|v| v.as_str())
            == Some(CaseStatus::Solved.as_str()))
        .then_some((CaseHappening::Solved, None)),
        "assignee_changed" => {
            id_at("to").map(|to| (CaseHappening::Assigned { to: UserId(to) }, None))
        }
        "routed" => {
            id_at("assignee_id").map(|to| (CaseHappening::Assigned { to: UserId(to) }, None))
        }
        "escalated" => match data.get("to_queue").and_then(|v| v.as_str()) {
            Some(slug) => {
                let queue = store.queue_by_slug(slug).await?;
                let members = store.queue_members(queue.id).await?;
                Some((
                    CaseHappening::Escalated {
                        queue_members: members.into_iter().map(|m| m.user.id).collect(),
                    },
                    None,
                ))
            }
            None => None,
        },
        "sla_warning" | "sla_breached" => {
            let case = store.case(event.case_id).await?;
            let queue_members = match &case.queue {
                Some(slug) => {
                    let queue = store.queue_by_slug(slug).await?;
                    let members = store.queue_members(queue.id).await?;
                    members.into_iter().map(|m| m.user.id).collect()
                }
                None => Vec::new(),
            };
            Some((
                CaseHappening::SlaAlert {
                    breached: event.kind == "sla_breached",
                    queue_members,
                },
                None,
            ))
        }
        "swarm_requested" => {
            let named = data
                .get("asked")
                .and_then(|v| v.as_array())
                .map(|asked| {
                    asked
                        .iter()
                        .filter_map(|a| a.get("id").and_then(serde_json::Value::as_i64))
                        .map(UserId)
                        .collect()
                })
                .unwrap_or_default();
            Some((CaseHappening::SwarmRequested { named }, None))
        }
        _ => None,
    })
}

async fn mails_for(
    state: &AppState,
    batch: &mut Batch,
    event: &NotifierEvent,
) -> anyhow::Result<Vec<CaseMail>> {
    let store = &state.store;
    let Some((happening, comment)) = happening(store, batch, event).await? else {
        return Ok(Vec::new());
    };
    let case = store.case(event.case_id).await?;
    let staff = batch.staff(store).await?;
    let audience = audience(store, &case, staff).await?;
    let mut out = Vec::new();
    for notice in notices(&happening, &audience, event.actor) {
        if store.bounce(notice.to.as_str()).await?.is_some() {
            continue;
        }
        let template = batch.template(store, notice.template).await?;
        out.push(render_notice(state, &case, event, comment, &notice, &template).await?);
    }
    Ok(out)
}

/// Which target an SLA event is about and when it falls (or fell) due, from the event the
/// sweep wrote: "The first reply target is due at 2026-12-01 14:00 UTC."
fn sla_detail(data: &serde_json::Value) -> String {
    let metric = data
        .get("metric")
        .and_then(|m| m.as_str())
        .and_then(|m| Metric::parse(m).ok())
        .map_or("service-level", crate::sla::service::metric_words);
    let at = |key: &str| {
        data.get(key)
            .and_then(|v| v.as_str())
            .and_then(|t| Timestamp::parse(t).ok())
            .map(format_time)
    };
    match (at("breached_at"), at("due_at")) {
        (Some(missed), _) => format!("The {metric} target was missed at {missed}."),
        (None, Some(due)) => format!("The {metric} target is due at {due}."),
        (None, None) => format!("The {metric} target needs attention."),
    }
}

async fn person(store: &Store, user: &User) -> anyhow::Result<Option<Person>> {
    let Ok(email) = Email::parse(&user.email) else {
        return Ok(None);
    };
    Ok(Some(Person {
        user: user.id,
        email,
        role: user.role,
        opted_out: store.optouts(user.id).await?,
    }))
}

async fn people(store: &Store, users: &[User]) -> anyhow::Result<Vec<Person>> {
    let mut out = Vec::new();
    for user in users {
        out.extend(person(store, user).await?);
    }
    Ok(out)
}

async fn staff_people(store: &Store) -> anyhow::Result<Vec<Person>> {
    people(store, &store.list_users(None, true).await?).await
}

async fn audience(
    store: &Store,
    case: &CaseRecord,
    staff: Vec<Person>,
) -> anyhow::Result<CaseAudience> {
    let requester = store.user(case.requester.id).await?;
    let mut followers = Vec::new();
    for id in store.followers(case.organization.id).await? {
        followers.push(store.user(id).await?);
    }
    let technicians = match &case.partner {
        Some(partner) => store
            .list_users(Some(partner.id), false)
            .await?
            .into_iter()
            .filter(|u| u.role == Role::Partner)
            .collect(),
        None => Vec::new(),
    };
    let assignee = match &case.assignee {
        Some(a) => person(store, &store.user(a.id).await?).await?,
        None => None,
    };
    let mut case_followers = Vec::new();
    for f in store.case_followers(case.id).await? {
        case_followers.push(store.user(f.id).await?);
    }
    let requester_person = person(store, &requester).await?.ok_or_else(|| {
        anyhow::anyhow!("the requester of case {} has no usable address", case.id)
    })?;
    Ok(CaseAudience {
        requester: requester_person,
        cc: store
            .case_cc(case.id)
            .await?
            .iter()
            .filter_map(|e| Email::parse(e).ok())
            .collect(),
        followers: people(store, &followers).await?,
        partner_technicians: people(store, &technicians).await?,
        no_vendor_contact: partner_carries_conversation(store, case).await?,
        assignee,
        staff,
        case_followers: people(store, &case_followers).await?,
        bounced: Vec::new(),
    })
}

/// Whether the partner serving the case's organisation says `vendor_direct_contact: never`
/// (whoever filed the case: the customer, or the partner's own technician).
async fn partner_carries_conversation(store: &Store, case: &CaseRecord) -> anyhow::Result<bool> {
    let org = store.org(case.organization.id).await?;
    let Some(partner) = org.served_by else {
        return Ok(false);
    };
    let agreement = store.agreement(partner.id).await?;
    Ok(agreement.terms.vendor_direct_contact == backline_domain::partner::VendorContact::Never)
}

async fn render_notice(
    state: &AppState,
    case: &CaseRecord,
    event: &NotifierEvent,
    comment: Option<CommentId>,
    notice: &Notice,
    template: &backline_domain::crisis::Template,
) -> anyhow::Result<CaseMail> {
    let store = &state.store;
    let actor = match event.actor {
        Some(id) => store.user(id).await.map(|u| u.name).unwrap_or_default(),
        None => "Backline".into(),
    };
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    vars.insert("case", format!("#{}", case.id.0));
    vars.insert("subject", case.subject.clone());
    vars.insert("requester", case.requester.name.clone());
    vars.insert(
        "case_url",
        format!("{}/cases/{}", state.public_url, case.id.0),
    );
    vars.insert("description", case.description.clone());
    vars.insert("actor", actor.clone());
    if notice.template == TemplateKind::CaseSolved {
        let token = backline_domain::mail::sign_rating_token(&state.mail.secret, case.id);
        vars.insert("rating_url", format!("{}/rate/{token}", state.public_url));
    }
    if let Some(id) = comment {
        let c = store.comment(id).await?;
        vars.insert("author", c.author.name.clone());
        // Only public text goes in `reply`; an internal note's text reaches staff only, in
        // `detail` of a mention.
        if c.public {
            vars.insert("reply", c.body.clone());
        } else if notice.template == TemplateKind::Mention {
            vars.insert("detail", c.body.clone());
        }
    }
    match notice.template {
        TemplateKind::Mention => {}
        TemplateKind::SlaWarning | TemplateKind::SlaBreached => {
            vars.insert("detail", sla_detail(&event.data));
        }
        _ => {
            let detail = event
                .data
                .get("reason")
                .or_else(|| event.data.get("message"))
                .and_then(|v| v.as_str())
                .map(|s| format!("Why: {s}"))
                .unwrap_or_default();
            vars.insert("detail", detail);
        }
    }
    let message = render(template, &vars);
    let kind = match notice.template {
        TemplateKind::CaseAcknowledgement => OutgoingKind::Acknowledgement,
        TemplateKind::CaseReply => OutgoingKind::Reply,
        TemplateKind::CaseSolved => OutgoingKind::Solved,
        _ => OutgoingKind::AgentNotification,
    };
    Ok(CaseMail {
        case: case.id,
        recipient: notice.to.as_str().to_string(),
        subject: message.subject,
        body: message.body,
        kind: kind.as_str().to_string(),
    })
}
