//! What a social mention becomes: nothing but a count (a compliment), a comment on the
//! author's open case, or a new `social` case filed for the author, under the case rules of
//! any customer filing.

use crate::cases::service::{add_comment, create_case, CaseSubmission};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use backline_domain::social::{is_compliment, Mention};
use backline_domain::{CaseId, Channel, CommentId, OrgKind, PartnerKinds, Timestamp};
use backline_store::social::{SocialContact, SocialCounts};
use backline_store::{CommentOrigin, NewOrg, StoreError, User};

/// The customer organisation social authors are filed under.
pub const SOCIAL_ORG: &str = "social";

/// What a mention did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Compliment,
    CaseFiled(CaseId),
    CommentAdded(CaseId, CommentId),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub mention_id: i64,
    pub contact: SocialContact,
    pub outcome: Outcome,
    /// The same post was received before; nothing new was done.
    pub repeated: bool,
}

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "social mentions are sent by the vendor's integrations (a staff token)".into(),
        ))
    }
}

async fn social_org(state: &AppState) -> ApiResult<backline_domain::OrgId> {
    match state.store.org_by_slug(SOCIAL_ORG).await {
        Ok(org) => return Ok(org.id),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    match state
        .store
        .create_org(&NewOrg {
            slug: SOCIAL_ORG.into(),
            name: "Social media".into(),
            kind: OrgKind::Customer,
            partner_kinds: PartnerKinds::default(),
            technical_level: None,
            served_by: None,
        })
        .await
    {
        Ok(org) => Ok(org.id),
        // Made a moment ago by a mention received beside this one.
        Err(StoreError::Conflict(_)) => Ok(state.store.org_by_slug(SOCIAL_ORG).await?.id),
        Err(e) => Err(e.into()),
    }
}

/// Receives a mention: who may send one is checked before the mention is read (`parse`), so a
/// refused caller learns nothing about the fields.
pub async fn receive(
    state: &AppState,
    caller: &User,
    parse: impl FnOnce() -> Result<Mention, backline_domain::FieldErrors>,
) -> ApiResult<Received> {
    staff_only(caller)?;
    let mention = parse()?;
    if let Some(seen) = state.store.social_mention_by_url(&mention.url).await? {
        let contact = state.store.social_contact_by_id(seen.contact_id).await?;
        let outcome = match (seen.case_id, seen.comment_id) {
            (Some(case), Some(comment)) => Outcome::CommentAdded(case, comment),
            (Some(case), None) => Outcome::CaseFiled(case),
            _ => Outcome::Compliment,
        };
        return Ok(Received {
            mention_id: seen.id,
            contact,
            outcome,
            repeated: true,
        });
    }
    let org = social_org(state).await?;
    let contact = state
        .store
        .social_contact(
            &mention.network,
            &mention.handle,
            &mention.contact_email(),
            org,
        )
        .await?;
    let author = state.store.user(contact.user_id).await?;
    let body = format!("{}\n\n{}", mention.text, mention.url);
    let outcome = if is_compliment(&mention.text) {
        Outcome::Compliment
    } else if let Some(case) = state.store.open_case_of(author.id).await? {
        let comment = add_comment(
            &state.store,
            &author,
            case,
            &body,
            true,
            &CommentOrigin {
                channel: Some(Channel::Social),
                at: Some(Timestamp::now()),
                ..CommentOrigin::default()
            },
        )
        .await?;
        Outcome::CommentAdded(case, comment.id)
    } else {
        let case = create_case(
            state,
            &author,
            CaseSubmission {
                subject: mention.subject(),
                description: body.clone(),
                tags: vec!["social".into(), mention.network.clone()],
                channel: Some(Channel::Social),
                ..CaseSubmission::default()
            },
        )
        .await?;
        Outcome::CaseFiled(case.id)
    };
    let (case, comment) = match outcome {
        Outcome::Compliment => (None, None),
        Outcome::CaseFiled(case) => (Some(case), None),
        Outcome::CommentAdded(case, comment) => (Some(case), Some(comment)),
    };
    let mention_id = state
        .store
        .record_social_mention(
            contact.id,
            &mention.url,
            &mention.text,
            mention.posted_at,
            matches!(outcome, Outcome::Compliment),
            case,
            comment,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "already_received",
                message,
            },
            other => other.into(),
        })?;
    Ok(Received {
        mention_id,
        contact,
        outcome,
        repeated: false,
    })
}

pub async fn counts(
    state: &AppState,
    caller: &User,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<SocialCounts> {
    staff_only(caller)?;
    Ok(state.store.social_counts(from, to).await?)
}
