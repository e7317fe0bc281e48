//! The intake pipeline: a stored message becomes a comment, a new case, noise, or waits in
//! quarantine with a reason. The rules are the domain's (`backline_domain::mail`); this
//! module looks up what they need and writes what they decide.
//!
//! Messages are placed by a worker that claims a few at a time and places them side by side:
//! a large or slow one never holds up the others. Parsing runs on the blocking pool. Placing
//! a message and marking it placed is one transaction, so a crash leaves it pending (placed
//! again later) or placed, never both or neither.

use super::MailContext;
use crate::cases::service::{self as cases, CaseSubmission};
use crate::error::ApiError;
use crate::AppState;
use backline_domain::mail::{
    check_rate, classify, decide_thread, find_case_token, place_message, resolve_sender,
    strip_quoted_reply, Bounce, CaseFacts, InboundMessage, MessageId, MessageKind, OwnIdentity,
    Placement, SenderDecision, SenderFacts, ThreadDecision, UnknownSenderPolicy,
};
use backline_domain::{CaseId, Channel, Email, OrgFacts, Role, Span, Timestamp};
use backline_store::mail::{BlobStore, NewAttachment, Outcome, ReceivedMail};
use backline_store::{CaseOrigin, CaseRecord, CommentOrigin, NewUser, Store, StoreError, User};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// The case mail about `id` belongs to: `id` itself, or the case it was merged into (a
/// reply quoting a merged case's token goes on with the conversation where it moved).
async fn surviving_case(store: &Store, id: CaseId) -> Result<CaseRecord, StoreError> {
    let mut case = store.case(id).await?;
    // Merges chain when a survivor is merged again; a few hops cover any real history.
    for _ in 0..8 {
        match case.merged_into {
            Some(next) => case = store.case(next).await?,
            None => break,
        }
    }
    Ok(case)
}

/// How many messages are placed side by side.
const PARALLEL: i64 = 8;
/// How long a node holds a claimed message before another may take it over. Short, so mail a
/// crashed node had claimed is placed by the next one within seconds; placing twice is
/// harmless (the second placement finds the message placed and rolls back), so a slow
/// placement that outlives its lease costs work, not correctness.
const LEASE: Span = Span::SECOND.times(15);
/// Attempts before a message that keeps failing is quarantined.
const MAX_ATTEMPTS: i64 = 5;

/// The setting that says what to do with senders nobody knows: `hold`, or
/// `create:<organisation slug>`.
pub const UNKNOWN_SENDERS: &str = "mail:unknown_senders";

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    NewCase(CaseId),
    Comment(CaseId),
    Noise(String),
    Duplicate,
    Quarantined(String),
}

/// Starts the intake worker: it keeps up to `PARALLEL` messages being placed at once,
/// claiming more as soon as one is done (not batch by batch, so one slow message holds up no
/// other), at once when a listener on this node stored one, and every half second for what
/// other nodes or `mail deliver` stored.
pub fn start(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(PARALLEL as usize));
        loop {
            let free = slots.available_permits() as i64;
            if free > 0 {
                match state.store.claim_inbound(free, LEASE, MAX_ATTEMPTS).await {
                    Ok(batch) if !batch.is_empty() => {
                        for mail in batch {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            let state = state.clone();
                            tokio::spawn(async move {
                                let _permit = permit;
                                let id = mail.id;
                                match place(&state, mail).await {
                                    Ok(placed) => {
                                        tracing::debug!(mail = id, ?placed, "mail placed")
                                    }
                                    // Left pending: claimed again after the lease, quarantined
                                    // after MAX_ATTEMPTS.
                                    Err(e) => {
                                        tracing::warn!(mail = id, error = %e, "placing mail failed")
                                    }
                                }
                                // A slot is free: look for more at once.
                                state.mail.received.notify_one();
                            });
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "claiming received mail failed"),
                }
            }
            let wake = state.mail.received.notified();
            let _ = tokio::time::timeout(Duration::from_millis(500), wake).await;
        }
    })
}

/// Places one stored message. An error leaves it pending, to be tried again.
pub async fn place(state: &AppState, mail: ReceivedMail) -> Result<Placed, ApiError> {
    let store = &state.store;
    let ctx = &state.mail;
    let limits = ctx.limits;
    let ReceivedMail {
        id,
        raw,
        envelope_to,
        received_at,
        ..
    } = mail;
    let parsed = tokio::task::spawn_blocking(move || InboundMessage::parse(&raw, &limits))
        .await
        .map_err(|e| ApiError::Internal(format!("parsing mail: {e}")))?;
    let message = match parsed {
        Ok(message) => message,
        Err(e) => {
            let reason = format!("could not be read: {e}");
            store
                .finish_inbound(id, &Outcome::Quarantined(reason.clone()))
                .await?;
            return Ok(Placed::Quarantined(reason));
        }
    };
    let key = message.dedup_key();
    if let Some(of) = store
        .identify_inbound(
            id,
            key.as_str(),
            message.from.address.as_str(),
            &message.subject,
        )
        .await?
    {
        store.finish_inbound(id, &Outcome::Duplicate { of }).await?;
        return Ok(Placed::Duplicate);
    }

    let kind = classify(&message, &ctx.identity);
    if let MessageKind::Bounce(bounce) = &kind {
        record_bounce(state, bounce).await?;
    }
    let now = Timestamp::now();
    let earlier = store
        .mail_times_from(
            message.from.address.as_str(),
            now.minus(ctx.rate.window()),
            id,
        )
        .await?;
    let rate = check_rate(&ctx.rate, &earlier, now);

    let sender_user = match store.user_by_email(message.from.address.as_str()).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let facts = SenderFacts {
        address: message.from.address.clone(),
        user: sender_user.as_ref().map(User::actor),
        domain_owner: domain_owner(store, &message.from.address).await?,
        named_orgs: named_orgs(store, &message, &ctx.identity).await?,
        policy: unknown_sender_policy(store).await?,
    };
    let sender = resolve_sender(&facts);

    let mut addressed: Vec<Email> = message.addressed_to();
    addressed.extend(envelope_to.iter().filter_map(|a| Email::parse(a).ok()));
    let token = find_case_token(&message.subject, &addressed, &ctx.secret);
    let candidates = message.thread_ids();
    let sent = known_thread_ids(state, &candidates).await?;
    let mut thread = decide_thread(&candidates, &sent, token);
    let case = match &mut thread {
        ThreadDecision::Join { case, .. } => match surviving_case(store, *case).await {
            Ok(record) => {
                // A merged case's mail joins the case it was merged into.
                *case = record.id;
                Some(CaseFacts {
                    id: record.id,
                    organization: record.organization.id,
                    partner: record.partner.as_ref().map(|p| p.id),
                    status: record.status,
                })
            }
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        ThreadDecision::NewCase => None,
    };
    let placement = place_message(&kind, rate, &sender, &thread, case.as_ref());
    let outcome = match placement {
        Placement::Noise(kind) => {
            let why = kind.to_string();
            store
                .finish_inbound(id, &Outcome::Noise(why.clone()))
                .await?;
            return Ok(Placed::Noise(why));
        }
        Placement::Quarantine(reason) => Err(reason.to_string()),
        Placement::Comment { case } => {
            let author = sender_as_user(store, &sender, sender_user, &message).await?;
            add_mail_comment(state, id, received_at, case, &author, &message)
                .await?
                .map(|_| Placed::Comment(case))
        }
        Placement::NewCase {
            on_behalf_of,
            follow_up_of,
        } => {
            let requester = sender_as_user(store, &sender, sender_user, &message).await?;
            open_mail_case(state, id, &requester, on_behalf_of, follow_up_of, &message)
                .await?
                .map(Placed::NewCase)
        }
    };
    match outcome {
        Ok(placed) => {
            // Someone who writes again is reachable again (read first: a write per message
            // would queue behind SQLite's one writer for nothing).
            if store.bounce(message.from.address.as_str()).await?.is_some() {
                store.clear_bounce(message.from.address.as_str()).await?;
            }
            Ok(placed)
        }
        Err(reason) => {
            store
                .finish_inbound(id, &Outcome::Quarantined(reason.clone()))
                .await?;
            Ok(Placed::Quarantined(reason))
        }
    }
}

/// Records the addresses a bounce names; with no delivery report, the recipient of our mail
/// it returned (its Message-ID names the outbox row).
async fn record_bounce(state: &AppState, bounce: &Bounce) -> Result<(), ApiError> {
    let store = &state.store;
    let mut failed: Vec<(String, String)> = bounce
        .recipients
        .iter()
        .filter(|r| bounce.failed_addresses().contains(&&r.address))
        .map(|r| {
            let why = match &r.status {
                Some(status) => format!("{} (status {status})", bounce.reason),
                None => bounce.reason.to_string(),
            };
            (r.address.as_str().to_string(), why)
        })
        .collect();
    if failed.is_empty() {
        let domain = &state.mail.identity.message_id_domain;
        let outbox = bounce
            .original_message_id
            .as_ref()
            .and_then(|id| id.outbox_id(domain));
        if let Some(id) = outbox {
            if let Some(recipient) = store.outbox_recipient(id).await? {
                failed.push((recipient, bounce.reason.to_string()));
            }
        }
    }
    for (address, why) in failed {
        store.record_bounce(&address, &why).await?;
    }
    Ok(())
}

/// The Message-IDs among `candidates` that belong to a case: our own outbox mail
/// (`outbox-N@our-domain`) and messages we placed before.
async fn known_thread_ids(
    state: &AppState,
    candidates: &[MessageId],
) -> Result<Vec<(MessageId, CaseId)>, ApiError> {
    let domain = &state.mail.identity.message_id_domain;
    let mut outbox_ids = Vec::new();
    let mut others = Vec::new();
    for id in candidates {
        match id.outbox_id(domain) {
            Some(n) => outbox_ids.push((n, id.clone())),
            None => others.push(id.as_str().to_string()),
        }
    }
    let numbers: Vec<i64> = outbox_ids.iter().map(|(n, _)| *n).collect();
    let mut known = Vec::new();
    for (n, case) in state.store.cases_of_outbox(&numbers).await? {
        if let Some((_, id)) = outbox_ids.iter().find(|(m, _)| *m == n) {
            known.push((id.clone(), case));
        }
    }
    for (key, case) in state.store.case_of_inbound_key(&others).await? {
        if let Ok(id) = MessageId::parse(&key) {
            known.push((id, case));
        }
    }
    Ok(known)
}

async fn domain_owner(store: &Store, address: &Email) -> Result<Option<OrgFacts>, ApiError> {
    match store.org_for_domain(address.domain()).await? {
        Some(org) => Ok(Some(store.org(org).await?.facts())),
        None => Ok(None),
    }
}

/// The organisations of the known users the message is also addressed to: how a partner
/// technician says which customer it writes for.
async fn named_orgs(
    store: &Store,
    message: &InboundMessage,
    us: &OwnIdentity,
) -> Result<Vec<OrgFacts>, ApiError> {
    let mut orgs: Vec<OrgFacts> = Vec::new();
    for address in message
        .to
        .iter()
        .chain(&message.cc)
        .map(|m| &m.address)
        .filter(|a| **a != message.from.address && us.our_address(a).is_none())
    {
        let org = match store.user_by_email(address.as_str()).await {
            Ok(user) => user.org.map(|o| o.id),
            Err(StoreError::NotFound) => store.org_for_domain(address.domain()).await?,
            Err(e) => return Err(e.into()),
        };
        if let Some(org) = org {
            if !orgs.iter().any(|o| o.id == org) {
                orgs.push(store.org(org).await?.facts());
            }
        }
    }
    Ok(orgs)
}

async fn unknown_sender_policy(store: &Store) -> Result<UnknownSenderPolicy, ApiError> {
    let setting = store.setting(UNKNOWN_SENDERS).await?;
    match setting.as_deref().and_then(|s| s.strip_prefix("create:")) {
        Some(slug) => match store.org_by_slug(slug).await {
            Ok(org) => Ok(UnknownSenderPolicy::CreateUser { org: org.id }),
            // The organisation was removed: holding is the safe reading.
            Err(StoreError::NotFound) => Ok(UnknownSenderPolicy::Hold),
            Err(e) => Err(e.into()),
        },
        None => Ok(UnknownSenderPolicy::Hold),
    }
}

/// The sender as a user: the known one, or a customer user made for them now.
async fn sender_as_user(
    store: &Store,
    decision: &SenderDecision,
    known: Option<User>,
    message: &InboundMessage,
) -> Result<User, ApiError> {
    if let Some(user) = known {
        return Ok(user);
    }
    let SenderDecision::CreateCustomer { org, .. } = decision else {
        return Err(ApiError::Internal(
            "placing mail from a sender who is neither known nor to be created".into(),
        ));
    };
    let address = &message.from.address;
    let name = message
        .from
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| address.local_part().to_string());
    match store
        .create_user(&NewUser {
            email: address.as_str().to_string(),
            name,
            role: Role::Customer,
            org: Some(*org),
            tier: None,
            password_hash: None,
        })
        .await
    {
        Ok(user) => Ok(user),
        // Made a moment ago by a message placed beside this one.
        Err(StoreError::Conflict(_)) => Ok(store.user_by_email(address.as_str()).await?),
        Err(e) => Err(e.into()),
    }
}

/// The message's files, stored; one over the size limit stays in the original message only
/// and is named in `notes`.
async fn store_files(
    state: &AppState,
    message: &InboundMessage,
    notes: &mut Vec<String>,
) -> Result<Vec<NewAttachment>, ApiError> {
    let mut files = Vec::new();
    for file in &message.attachments {
        if file.size() > state.mail.max_attachment_bytes {
            notes.push(format!(
                "The file {} ({}) was larger than the {} allowed per file; it is in the original message.",
                file.file_name,
                crate::views::human_size(file.size() as i64),
                crate::views::human_size(state.mail.max_attachment_bytes as i64)
            ));
            continue;
        }
        files.push(
            super::super::cases::attachments::store_file(
                &state.store as &dyn BlobStore,
                &file.file_name,
                &file.content_type,
                &file.bytes,
            )
            .await?,
        );
    }
    Ok(files)
}

/// The comment's text: the reply without the quoted history and signature, or a note that
/// there was none.
fn comment_text(message: &InboundMessage, notes: &[String]) -> String {
    let reply = strip_quoted_reply(&message.text);
    let mut text = reply.text.trim().to_string();
    if text.is_empty() {
        text = if message.attachments.is_empty() {
            "(The message had no text.)".into()
        } else {
            "(The message had no text; see the attached files.)".into()
        };
    }
    for note in notes {
        text.push_str("\n\n");
        text.push_str(note);
    }
    text
}

async fn add_mail_comment(
    state: &AppState,
    mail_id: i64,
    received_at: Timestamp,
    case: CaseId,
    author: &User,
    message: &InboundMessage,
) -> Result<Result<(), String>, ApiError> {
    let mut notes = Vec::new();
    let files = store_files(state, message, &mut notes).await?;
    let body = comment_text(message, &notes);
    let origin = CommentOrigin {
        channel: Some(Channel::Email),
        mail_id: Some(mail_id),
        files,
        uploads: vec![],
        at: Some(received_at),
    };
    match cases::add_comment(&state.store, author, case, &body, true, &origin).await {
        Ok(_) => Ok(Ok(())),
        // Something broke: tried again later.
        Err(e @ ApiError::Internal(_)) => Err(e),
        // The rules refused it (the case closed meanwhile...): a person decides.
        Err(e) => Ok(Err(format!(
            "the reply could not be added to case {case}: {e}"
        ))),
    }
}

async fn open_mail_case(
    state: &AppState,
    mail_id: i64,
    requester: &User,
    on_behalf_of: Option<backline_domain::OrgId>,
    follow_up_of: Option<CaseId>,
    message: &InboundMessage,
) -> Result<Result<CaseId, String>, ApiError> {
    let store = &state.store;
    let on_behalf_of = match on_behalf_of {
        Some(org) => Some(store.org(org).await?.slug),
        None => None,
    };
    let mut notes = Vec::new();
    let files = store_files(state, message, &mut notes).await?;
    let mut description = comment_text(message, &notes);
    if let Some(earlier) = follow_up_of {
        description.push_str(&format!(
            "\n\n(This message answered case {earlier}, which is closed.)"
        ));
    }
    let cc: Vec<String> = message
        .cc
        .iter()
        .chain(&message.to)
        .map(|m| &m.address)
        .filter(|a| a.as_str() != requester.email && state.mail.identity.our_address(a).is_none())
        .map(|a| a.as_str().to_string())
        .collect();
    let submission = CaseSubmission {
        subject: message.case_subject(),
        description,
        on_behalf_of,
        channel: Some(Channel::Email),
        ..Default::default()
    };
    let origin = CaseOrigin {
        mail_id: Some(mail_id),
        files,
        cc,
        community_question: None,
    };
    match cases::create_case_from(state, requester, submission, origin).await {
        Ok(case) => {
            if let Some(earlier) = follow_up_of {
                let _ = store
                    .record_case_event(
                        case.id,
                        requester.id,
                        "follow_up_of",
                        serde_json::json!({ "case_id": earlier }),
                    )
                    .await;
            }
            Ok(Ok(case.id))
        }
        Err(e @ ApiError::Internal(_)) => Err(e),
        Err(e) => Ok(Err(format!("a case could not be opened: {e}"))),
    }
}

impl MailContext {
    /// Tells the intake worker a message is waiting.
    pub fn wake(&self) {
        self.received.notify_one();
    }
}

/// A stored message's header block and text, for people reading it (the text is `None` when
/// the message cannot be read).
pub async fn read_stored(state: &AppState, id: i64) -> Result<(String, Option<String>), ApiError> {
    let raw = state.store.inbound_raw(id).await?;
    let limits = state.mail.limits;
    let parsed = tokio::task::spawn_blocking(move || {
        let message = InboundMessage::parse(&raw, &limits);
        (message, raw)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("reading mail: {e}")))?;
    Ok(match parsed {
        (Ok(message), _) => (message.raw_headers, Some(message.text)),
        // Unreadable as mail: show the start of what arrived, as text.
        (Err(_), raw) => {
            let head = &raw[..raw.len().min(16 * 1024)];
            (String::from_utf8_lossy(head).into_owned(), None)
        }
    })
}

/// Turns a quarantined message into a new case of `org_slug`: an unknown sender becomes a
/// customer user of it; a known one must be a user of it.
pub async fn open_case_from_quarantine(
    state: &AppState,
    by: &User,
    id: i64,
    org_slug: &str,
) -> Result<CaseId, ApiError> {
    let store = &state.store;
    let summary = store.inbound_mail(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("message"),
        other => other.into(),
    })?;
    if summary.state != backline_domain::mail::InboundState::Quarantined {
        return Err(ApiError::Conflict {
            code: "not_quarantined",
            message: "only a message waiting in quarantine can be turned into a case".into(),
        });
    }
    let org = store
        .org_by_slug(org_slug.trim())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::validation("organization", "no organisation has this slug")
            }
            other => other.into(),
        })?;
    if org.kind != backline_domain::OrgKind::Customer {
        return Err(ApiError::validation(
            "organization",
            "a case from mail is filed for a customer organisation",
        ));
    }
    let raw = store.inbound_raw(id).await?;
    let limits = state.mail.limits;
    let message = tokio::task::spawn_blocking(move || InboundMessage::parse(&raw, &limits))
        .await
        .map_err(|e| ApiError::Internal(format!("parsing mail: {e}")))?
        .map_err(|e| {
            ApiError::validation(
                "message",
                format!("this message cannot be read as mail ({e}); open a case by hand instead"),
            )
        })?;
    let requester = match store.user_by_email(message.from.address.as_str()).await {
        Ok(user) if user.org.as_ref().map(|o| o.id) == Some(org.id) => user,
        Ok(user) if user.role.is_staff() => {
            // Staff write for customers: the case is filed by them on the organisation's behalf.
            user
        }
        Ok(user) => {
            return Err(ApiError::validation(
                "organization",
                format!(
                    "the sender is a user of {}, not of {}",
                    user.org
                        .map(|o| o.name)
                        .unwrap_or_else(|| "no organisation".into()),
                    org.name
                ),
            ))
        }
        Err(StoreError::NotFound) => {
            let decision = SenderDecision::CreateCustomer {
                org: org.id,
                why: backline_domain::mail::CreateReason::Policy,
            };
            sender_as_user(store, &decision, None, &message).await?
        }
        Err(e) => return Err(e.into()),
    };
    let on_behalf_of = requester.role.is_staff().then_some(org.id);
    let opened = open_mail_case(state, id, &requester, on_behalf_of, None, &message).await?;
    match opened {
        Ok(case) => {
            tracing::info!(
                mail = id,
                case = case.0,
                by = by.id.0,
                "quarantined mail turned into a case"
            );
            Ok(case)
        }
        Err(reason) => Err(ApiError::Conflict {
            code: "not_placed",
            message: reason,
        }),
    }
}
