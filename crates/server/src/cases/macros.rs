//! Macros: who may keep which, and what one does to a case. Agents keep personal macros;
//! shared ones are the team's and only admins change them.

use super::service::{self, CaseUpdate};
use crate::error::{ApiError, ApiResult, StoreResult};
use backline_domain::macros::{
    check_macro, plan_changes, render_macro_body, AssignTo, MacroFacts, MacroInput,
};
use backline_domain::{CaseId, FieldErrors, Role};
use backline_store::{CaseRecord, Comment, CommentOrigin, MacroRecord, Store, StoreError, User};

fn staff_only(caller: &User) -> ApiResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("macros are for vendor staff".into()))
    }
}

/// The macros `caller` may use: shared, and their own.
pub async fn macros(store: &Store, caller: &User) -> ApiResult<Vec<MacroRecord>> {
    staff_only(caller)?;
    Ok(store.macros_for(caller.id).await?)
}

/// A macro `caller` may use; someone else's personal macro is as missing as a missing one.
pub async fn usable(store: &Store, caller: &User, id: i64) -> ApiResult<MacroRecord> {
    staff_only(caller)?;
    let record = store.macro_record(id).await.or_not_found("macro")?;
    match record.owner_id {
        Some(owner) if owner != caller.id => Err(ApiError::NotFound("macro")),
        _ => Ok(record),
    }
}

/// A macro `caller` may change: their own, or a shared one when they are an admin.
async fn changeable(store: &Store, caller: &User, id: i64) -> ApiResult<MacroRecord> {
    let record = usable(store, caller, id).await?;
    if record.owner_id.is_none() && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins change shared macros; copy it into a personal one instead".into(),
        ));
    }
    Ok(record)
}

/// Creates (`id` `None`) or replaces a macro after checking its text, placeholders, tags and
/// the person it assigns to. A replacement with `expected` is written only over that version
/// (412 `stale` otherwise).
pub async fn save(
    store: &Store,
    caller: &User,
    id: Option<i64>,
    input: &MacroInput,
    expected: Option<i64>,
) -> ApiResult<MacroRecord> {
    staff_only(caller)?;
    if input.shared && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins share macros with the team".into(),
        ));
    }
    if let Some(id) = id {
        changeable(store, caller, id).await?;
    }
    let mut errors = match check_macro(input) {
        Ok(_) => FieldErrors::new(),
        Err(errors) => errors,
    };
    if let Some(AssignTo::User(user)) = input.actions.assignee {
        match store.user(user).await {
            Ok(u) if u.role.is_staff() => {}
            Ok(_) => errors.add(
                "actions.assignee",
                "cases are assigned to vendor staff only",
            ),
            Err(StoreError::NotFound) => errors.add("actions.assignee", "no user has this id"),
            Err(e) => return Err(e.into()),
        }
    }
    errors.into_result()?;
    let checked = check_macro(input)?;
    let owner = (!checked.shared).then_some(caller.id);
    store
        .write_macro(id, &checked, owner, expected)
        .await
        .or_not_found("macro")
}

/// Deletes a macro; with `expected`, only while it is at that version.
pub async fn delete(store: &Store, caller: &User, id: i64, expected: Option<i64>) -> ApiResult<()> {
    changeable(store, caller, id).await?;
    store.delete_macro(id, expected).await.or_not_found("macro")
}

/// A macro applied to one case: its text filled in, and the changes sending it will make.
pub struct Applied {
    pub record: MacroRecord,
    pub body: String,
    pub update: CaseUpdate,
}

/// Fills a macro in for `case` as `caller` would send it.
pub fn apply(record: MacroRecord, case: &CaseRecord, caller: &User) -> Applied {
    let facts = MacroFacts {
        requester_name: case.requester.name.clone(),
        requester_email: case.requester.email.clone(),
        organization: case.organization.name.clone(),
        partner: case.partner.as_ref().map(|p| p.name.clone()),
        case_number: case.id.0,
        subject: case.subject.clone(),
        product: case.product.clone(),
        agent_name: caller.name.clone(),
        agent_email: caller.email.clone(),
    };
    let plan = plan_changes(&record.actions, &case.tags, caller.id);
    let update = CaseUpdate {
        status: plan.status,
        priority: plan.priority,
        tier: plan.tier,
        assignee: plan.assignee,
        // Added and taken off the tags as they are when the change is written, so a tag
        // someone set meanwhile stays.
        tags: None,
        add_tags: (!record.actions.add_tags.is_empty()).then(|| record.actions.add_tags.clone()),
        remove_tags: (!record.actions.remove_tags.is_empty())
            .then(|| record.actions.remove_tags.clone()),
    };
    Applied {
        body: render_macro_body(&record.body, &facts),
        record,
        update,
    }
}

/// Sends a macro on a case: its text (as edited, or as filled in when `body` is `None`) and
/// its changes in one step. A macro without text only changes the fields.
pub async fn send(
    store: &Store,
    caller: &User,
    case: CaseId,
    id: i64,
    body: Option<&str>,
) -> ApiResult<(CaseRecord, Option<Comment>)> {
    let record = usable(store, caller, id).await?;
    let visible = service::visible_case(store, caller, case).await?;
    let internal = record.actions.internal;
    let applied = apply(record, &visible, caller);
    let text = body.map_or(applied.body.as_str(), |b| b);
    let comment = if text.trim().is_empty() {
        service::update_case(store, caller, case, applied.update, None).await?;
        None
    } else {
        Some(
            service::reply_and_update(
                store,
                caller,
                case,
                text,
                !internal,
                &CommentOrigin::default(),
                &applied.update,
            )
            .await?,
        )
    };
    store.count_macro_use(id).await?;
    Ok((store.case(case).await?, comment))
}
