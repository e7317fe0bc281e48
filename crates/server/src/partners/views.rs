//! The JSON shapes of the partner program's API, rendered from storage rows and the domain's
//! figures. Kept apart from both so either can change without changing what clients see.

use crate::views::{OrgRefView, UserRefView};
use backline_domain::partner::{
    format_money, AlertKind, FeeModel, Party, Scorecard, Statement, VendorContact,
};
use backline_domain::routing::{Actions, Condition, MatchMode, SupportModel};
use backline_domain::{PartnerKind, Role, TechnicalLevel, Timestamp};
use backline_store::{
    Certificate, Course, FeeReport, Org, Queue, QueueMember, RoutingRule, StoredAgreement, User,
    UserRef,
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerSummary {
    pub slug: String,
    pub name: String,
    pub kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    /// Its technicians with a valid certificate meet the number its agreement requires.
    pub certified: bool,
}

impl From<&Org> for PartnerSummary {
    fn from(o: &Org) -> Self {
        PartnerSummary {
            slug: o.slug.clone(),
            name: o.name.clone(),
            kinds: o.partner_kinds.as_slice().to_vec(),
            technical_level: o.technical_level,
            certified: o.certified(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    pub partners: Vec<PartnerSummary>,
}

impl<'a> FromIterator<&'a Org> for PartnerList {
    fn from_iter<I: IntoIterator<Item = &'a Org>>(orgs: I) -> Self {
        PartnerList {
            partners: orgs.into_iter().map(PartnerSummary::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView {
    pub course_id: i64,
    /// The course's title.
    pub course: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TechnicianView {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// Holds at least one valid certificate.
    pub certified: bool,
    /// Valid certificates only.
    pub certificates: Vec<CertificateView>,
}

/// A partner's profile: what it is, who manages the relationship, whom it serves and who
/// works for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerProfile {
    pub slug: String,
    pub name: String,
    pub kinds: Vec<PartnerKind>,
    pub technical_level: Option<TechnicalLevel>,
    pub certified: bool,
    pub required_certified_technicians: u32,
    /// The vendor staff member who looks after the partner.
    pub relationship_manager: Option<UserRefView>,
    pub end_customers: Vec<OrgRefView>,
    pub technicians: Vec<TechnicianView>,
    /// The partner organisation's version (moves with any change to it, the relationship
    /// manager included); also the `ETag`, for `If-Match` on a change.
    pub version: i64,
}

/// What a profile is made of, as read from the store.
pub struct ProfileParts<'a> {
    pub partner: &'a Org,
    pub required_certified_technicians: u32,
    pub manager: Option<&'a UserRef>,
    /// Organisations the partner serves (the partner itself is left out if listed).
    pub customers: &'a [Org],
    /// The partner's users; only technicians are shown.
    pub users: &'a [User],
    pub certificates: &'a [Certificate],
    /// Certificates that expire at or before this time no longer count.
    pub now: Timestamp,
}

impl From<ProfileParts<'_>> for PartnerProfile {
    fn from(p: ProfileParts<'_>) -> Self {
        let technicians = p
            .users
            .iter()
            .filter(|u| u.role == Role::Partner)
            .map(|u| {
                let certificates: Vec<CertificateView> = p
                    .certificates
                    .iter()
                    .filter(|c| c.user.id == u.id && c.expires_at > p.now)
                    .map(|c| CertificateView {
                        course_id: c.course_id.0,
                        course: c.course_title.clone(),
                        expires_at: c.expires_at.to_rfc3339(),
                    })
                    .collect();
                TechnicianView {
                    id: u.id.0,
                    name: u.name.clone(),
                    email: u.email.clone(),
                    certified: !certificates.is_empty(),
                    certificates,
                }
            })
            .collect();
        PartnerProfile {
            version: p.partner.version,
            slug: p.partner.slug.clone(),
            name: p.partner.name.clone(),
            kinds: p.partner.partner_kinds.as_slice().to_vec(),
            technical_level: p.partner.technical_level,
            certified: p.partner.certified(),
            required_certified_technicians: p.required_certified_technicians,
            relationship_manager: p.manager.map(UserRefView::from),
            end_customers: p
                .customers
                .iter()
                .filter(|c| c.id != p.partner.id)
                .map(|c| OrgRefView {
                    id: c.id.0,
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                })
                .collect(),
            technicians,
        }
    }
}

/// The agreement as the API shows it: money in currency units, the percentage as a number.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    pub customer_owner: Party,
    pub billing_owner: Party,
    /// Steps the partner must have taken before escalating, in order.
    pub troubleshooting_checklist: Vec<String>,
    pub vanilla_reproduction_required: bool,
    pub customers_see_vendor_kb: bool,
    pub vendor_direct_contact: VendorContact,
    pub updates_distributed_by: Party,
    pub required_certified_technicians: u32,
    pub fee_model: FeeModel,
    /// For `percentage`: e.g. 15 or 12.5.
    pub fee_percent: f64,
    /// For `fixed`: the fee per period, e.g. "2500.00".
    pub fixed_fee: String,
    /// `null` while the partner still has the default terms.
    pub updated_by: Option<UserRefView>,
    pub updated_at: Option<String>,
    /// Moves on with every save (0 while the partner runs on the default terms); send it back
    /// as `If-Match: "N"` to replace only this version.
    pub version: i64,
}

impl From<&StoredAgreement> for AgreementView {
    fn from(stored: &StoredAgreement) -> Self {
        let terms = &stored.terms;
        AgreementView {
            customer_owner: terms.customer_owner,
            billing_owner: terms.billing_owner,
            troubleshooting_checklist: terms.troubleshooting_checklist.clone(),
            vanilla_reproduction_required: terms.vanilla_reproduction_required,
            customers_see_vendor_kb: terms.customers_see_vendor_kb,
            vendor_direct_contact: terms.vendor_direct_contact,
            updates_distributed_by: terms.updates_distributed_by,
            required_certified_technicians: terms.required_certified_technicians,
            fee_model: terms.fee_model,
            fee_percent: terms.fee_percent_bp as f64 / 100.0,
            fixed_fee: format_money(terms.fixed_fee_cents),
            updated_by: stored.updated_by.as_ref().map(UserRefView::from),
            updated_at: stored.updated_at.map(Timestamp::to_rfc3339),
            version: stored.version,
        }
    }
}

/// A partner's figures for a period. Shares are fractions from 0 to 1; `null` when there is
/// nothing to divide by.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardView {
    /// Cases the partner's technicians filed in the period.
    pub escalations: u64,
    pub end_customers: u64,
    pub escalations_per_end_customer: Option<f64>,
    pub solved: u64,
    /// Share of solved escalations answered by knowledge that already existed.
    pub known_share: Option<f64>,
    /// Share of solved escalations the partner could have answered from what it could see.
    pub invalid_escalation_share: Option<f64>,
    /// Share of solved escalations that produced new knowledge.
    pub new_share: Option<f64>,
    /// Share of escalations stating that they reproduce on a vanilla product.
    pub reproduced_on_vanilla_share: Option<f64>,
    pub median_hours_to_resolve: Option<f64>,
    /// Share of solved escalations solved within their priority's target.
    pub within_sla_share: Option<f64>,
    pub certified_technicians: u32,
    pub required_certified_technicians: u32,
    /// Share of the partner's technicians holding a valid certificate.
    pub training_completion: Option<f64>,
    /// Share of good satisfaction ratings given on cases the partner served, and how many
    /// ratings it is of.
    pub satisfaction_share: Option<f64>,
    pub ratings: u64,
}

impl From<&Scorecard> for ScorecardView {
    fn from(c: &Scorecard) -> Self {
        ScorecardView {
            escalations: c.escalations,
            end_customers: c.end_customers,
            escalations_per_end_customer: c.escalations_per_end_customer,
            solved: c.solved,
            known_share: c.known_share,
            invalid_escalation_share: c.invalid_escalation_share,
            new_share: c.new_share,
            reproduced_on_vanilla_share: c.reproduced_on_vanilla_share,
            median_hours_to_resolve: c.median_hours_to_resolve,
            within_sla_share: c.within_sla_share,
            certified_technicians: c.certified_technicians,
            required_certified_technicians: c.required_certified_technicians,
            training_completion: c.training_completion,
            satisfaction_share: c.satisfaction_share,
            ratings: c.ratings,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardReport {
    /// The partner's slug.
    pub partner: String,
    pub from: String,
    /// The end of the period (exclusive).
    pub to: String,
    pub scorecard: ScorecardView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub kind: AlertKind,
    /// What to look at, for people.
    pub message: String,
}

impl From<&backline_domain::partner::Alert> for AlertView {
    fn from(a: &backline_domain::partner::Alert) -> Self {
        AlertView {
            kind: a.kind,
            message: a.message.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerAlerts {
    /// The partner's slug.
    pub partner: String,
    pub alerts: Vec<AlertView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedPartner {
    pub partner: PartnerSummary,
    pub scorecard: ScorecardView,
}

/// Every partner's scorecard, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub partners: Vec<ComparedPartner>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeReportView {
    pub id: i64,
    /// `2026-10` or `2026-Q3`.
    pub period: String,
    /// Support fees collected in the period, e.g. "12345.67".
    pub fees: String,
    pub reported_by: UserRefView,
    pub reported_at: String,
}

impl From<&FeeReport> for FeeReportView {
    fn from(r: &FeeReport) -> Self {
        FeeReportView {
            id: r.id,
            period: r.period.clone(),
            fees: format_money(r.fees_cents),
            reported_by: UserRefView::from(&r.reported_by),
            reported_at: r.reported_at.to_rfc3339(),
        }
    }
}

/// Every report, the latest of a period being the one that counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeReportList {
    pub reports: Vec<FeeReportView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub period: String,
    /// The latest report's fees; `null` when none was reported.
    pub reported_fees: Option<String>,
    pub amount_due: String,
    pub escalations: u64,
    /// Escalations per 1,000 of reported fees; `null` without fees.
    pub escalations_per_1000_fees: Option<f64>,
}

impl From<&(String, Statement)> for StatementView {
    fn from((period, s): &(String, Statement)) -> Self {
        StatementView {
            period: period.clone(),
            reported_fees: s.reported_fees_cents.map(format_money),
            amount_due: format_money(s.amount_due_cents),
            escalations: s.escalations,
            escalations_per_1000_fees: s.escalations_per_1000_fees,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementList {
    /// The partner's slug.
    pub partner: String,
    pub statements: Vec<StatementView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: i64,
    /// Rules are tried in this order.
    pub position: i64,
    pub name: String,
    pub enabled: bool,
    #[serde(rename = "match")]
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
    pub actions: Actions,
    /// Moves on with every change to the rule (not with moves in the order); send it back as
    /// `If-Match: "N"` to change or delete only this version.
    pub version: i64,
}

impl From<&RoutingRule> for RuleView {
    fn from(r: &RoutingRule) -> Self {
        RuleView {
            id: r.id.0,
            position: r.position,
            name: r.definition.name.clone(),
            enabled: r.definition.enabled,
            match_mode: r.definition.match_mode,
            conditions: r.definition.conditions.clone(),
            actions: r.definition.actions.clone(),
            version: r.version,
        }
    }
}

/// The rules in the order they are tried.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<RuleView>,
}

/// Which rule would route the case; only `matched` when none would.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteTestResult {
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<i64>,
    /// The rule's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Actions>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
    /// The tier a tiered queue serves; none for swarms.
    pub tier: Option<backline_domain::Tier>,
}

impl From<&Queue> for QueueView {
    fn from(q: &Queue) -> Self {
        QueueView {
            slug: q.slug.clone(),
            name: q.name.clone(),
            model: q.model,
            tier: q.tier,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user: UserRefView,
    pub skills: Vec<String>,
    /// Open cases assigned to the member.
    pub active_cases: i64,
}

impl From<&QueueMember> for MemberView {
    fn from(m: &QueueMember) -> Self {
        MemberView {
            user: UserRefView::from(&m.user),
            skills: m.skills.clone(),
            active_cases: m.active_cases,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueWithMembers {
    pub slug: String,
    pub name: String,
    pub model: SupportModel,
    /// The tier a tiered queue serves; none for swarms.
    pub tier: Option<backline_domain::Tier>,
    pub members: Vec<MemberView>,
    /// Moves on with every change to the members; send it back as `If-Match: "N"` to change
    /// a member only over this version.
    pub version: i64,
}

impl From<(&Queue, &[QueueMember])> for QueueWithMembers {
    fn from((q, members): (&Queue, &[QueueMember])) -> Self {
        QueueWithMembers {
            slug: q.slug.clone(),
            name: q.name.clone(),
            model: q.model,
            tier: q.tier,
            members: members.iter().map(MemberView::from).collect(),
            version: q.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    pub queues: Vec<QueueWithMembers>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelperView {
    pub id: i64,
    pub name: String,
}

/// Who was asked to help; the owner stays the owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct SwarmView {
    /// The case's id.
    pub case: i64,
    pub owner: Option<UserRefView>,
    pub asked: Vec<HelperView>,
}

impl From<(&backline_store::CaseRecord, &[UserRef])> for SwarmView {
    fn from((case, helpers): (&backline_store::CaseRecord, &[UserRef])) -> Self {
        SwarmView {
            case: case.id.0,
            owner: case.assignee.as_ref().map(UserRefView::from),
            asked: helpers
                .iter()
                .map(|u| HelperView {
                    id: u.id.0,
                    name: u.name.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub text: String,
    pub choices: Vec<String>,
    /// Index into `choices` of the right answer; shown to vendor staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseView {
    pub id: i64,
    pub product: String,
    pub release: String,
    pub title: String,
    pub material: String,
    /// The score (percent) that passes.
    pub pass_mark: u32,
    /// How long a certificate from this course stays valid.
    pub validity_days: i64,
    pub questions: Vec<QuestionView>,
}

impl CourseView {
    /// The course; the right answers only `with_answers` (for the staff who write tests).
    pub fn new(c: &Course, with_answers: bool) -> Self {
        CourseView {
            id: c.id.0,
            product: c.product.clone(),
            release: c.release.clone(),
            title: c.title.clone(),
            material: c.material.clone(),
            pass_mark: c.pass_mark,
            validity_days: c.validity_days,
            questions: c
                .questions
                .iter()
                .map(|q| QuestionView {
                    text: q.text.clone(),
                    choices: q.choices.clone(),
                    correct: with_answers.then_some(q.correct),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseList {
    pub courses: Vec<CourseView>,
}

/// The outcome of a test.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// The course's id.
    pub course: i64,
    /// Percent of the questions answered right.
    pub score: u32,
    pub passed: bool,
    pub pass_mark: u32,
    /// When the certificate a pass issued expires; `null` without a pass.
    pub certificate_expires_at: Option<String>,
}
