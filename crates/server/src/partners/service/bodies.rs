//! Agreements and routing rules as clients and forms write them, parsed into the domain's
//! terms and rule definitions once, at the edge.

use crate::error::ApiResult;
use backline_domain::partner::{parse_money, Agreement, FeeModel, Party, VendorContact};
use backline_domain::routing::{Actions, Condition, MatchMode, RuleDefinition};
use backline_domain::FieldErrors;
use serde::Deserialize;

/// The agreement's terms: money in currency units, the percentage as a number.
// The API's body, and what the agreement page builds from its form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    pub customer_owner: Party,
    pub billing_owner: Party,
    /// Steps the partner must have taken before escalating, in order.
    #[serde(default)]
    pub troubleshooting_checklist: Vec<String>,
    pub vanilla_reproduction_required: bool,
    pub customers_see_vendor_kb: bool,
    pub vendor_direct_contact: VendorContact,
    pub updates_distributed_by: Party,
    #[serde(default)]
    pub required_certified_technicians: u32,
    /// Defaults to `none`.
    #[serde(default = "no_fee")]
    pub fee_model: FeeModel,
    /// For `percentage`: e.g. 15 or 12.5.
    pub fee_percent: Option<f64>,
    /// For `fixed`: the fee per period, e.g. "2500.00".
    pub fixed_fee: Option<String>,
}

fn no_fee() -> FeeModel {
    FeeModel::None
}

impl TryFrom<AgreementBody> for Agreement {
    type Error = FieldErrors;

    /// Converts money to cents and the percentage to basis points, then checks the terms,
    /// naming every field that is wrong.
    fn try_from(body: AgreementBody) -> Result<Agreement, FieldErrors> {
        let mut errors = FieldErrors::new();
        let fee_percent_bp = match body.fee_percent {
            Some(p) if p.is_finite() => (p * 100.0).round() as i64,
            Some(_) => {
                errors.add("fee_percent", "must be a number");
                0
            }
            None => 0,
        };
        let fixed_fee_cents = match body.fixed_fee.as_deref() {
            Some(text) => errors.check("fixed_fee", parse_money(text)).unwrap_or(0),
            None => 0,
        };
        errors.into_result()?;
        Agreement {
            customer_owner: body.customer_owner,
            billing_owner: body.billing_owner,
            troubleshooting_checklist: body.troubleshooting_checklist,
            vanilla_reproduction_required: body.vanilla_reproduction_required,
            customers_see_vendor_kb: body.customers_see_vendor_kb,
            vendor_direct_contact: body.vendor_direct_contact,
            updates_distributed_by: body.updates_distributed_by,
            required_certified_technicians: body.required_certified_technicians,
            fee_model: body.fee_model,
            fee_percent_bp,
            fixed_fee_cents,
        }
        .checked()
    }
}

/// A routing rule: conditions over the case and who filed it, and what to do when they hold.
// The API's body and the routing page's text area: `match` where the stored definition says
// `match_mode`, and defaults for `enabled` and `match`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub name: String,
    /// Defaults to `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether every condition must hold (`all`, the default) or one is enough (`any`).
    #[serde(rename = "match", default = "all")]
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
    pub actions: Actions,
}

fn yes() -> bool {
    true
}

fn all() -> MatchMode {
    MatchMode::All
}

impl TryFrom<RuleBody> for RuleDefinition {
    type Error = FieldErrors;

    fn try_from(body: RuleBody) -> Result<RuleDefinition, FieldErrors> {
        RuleDefinition {
            name: body.name,
            enabled: body.enabled,
            match_mode: body.match_mode,
            conditions: body.conditions,
            actions: body.actions,
        }
        .checked()
    }
}

impl RuleBody {
    /// `RuleDefinition::try_from` under the name the routing page calls.
    pub fn definition(self) -> ApiResult<RuleDefinition> {
        Ok(RuleDefinition::try_from(self)?)
    }
}
