//! The partner program's rules: the agreement and the escalation gate it implies, financial
//! terms and statements, certification, the scorecard and the relationship alerts.
//!
//! Money is kept in integer cents and percentages in basis points (1 % = 100), so sums and
//! statements are exact.

use crate::clock::Timestamp;
use crate::{string_enum, Classification, FieldErrors, Priority};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

string_enum!(
    /// Which side holds a responsibility.
    Party { Partner => "partner", Vendor => "vendor" }
);

string_enum!(
    /// Whether the vendor may deal with the partner's end customers directly.
    VendorContact { Never => "never", WithPermission => "with_permission", Allowed => "allowed" }
);

string_enum!(
    /// How the partner pays for the vendor's support.
    FeeModel { None => "none", Percentage => "percentage", Fixed => "fixed" }
);

pub const MAX_CHECKLIST_STEPS: usize = 30;
pub const MAX_STEP_CHARS: usize = 300;
pub const MAX_ANSWER_CHARS: usize = 2_000;

/// Mutual responsibilities and financial terms between the vendor and one partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub customer_owner: Party,
    pub billing_owner: Party,
    /// Steps the partner must have taken before escalating, in order.
    pub troubleshooting_checklist: Vec<String>,
    /// Escalate only what reproduces on an unmodified ("vanilla") installation.
    pub vanilla_reproduction_required: bool,
    /// Whether the partner's end customers may read the vendor's knowledge base.
    pub customers_see_vendor_kb: bool,
    pub vendor_direct_contact: VendorContact,
    pub updates_distributed_by: Party,
    /// Technicians with a valid certificate the partner must keep.
    pub required_certified_technicians: u32,
    pub fee_model: FeeModel,
    /// For `percentage`: the vendor's share of the support fees the partner reports.
    pub fee_percent_bp: i64,
    /// For `fixed`: the fee per period, in cents.
    pub fixed_fee_cents: i64,
}

impl Default for Agreement {
    /// The usual indirect model: the partner owns and bills the customer, troubleshoots first
    /// and escalates what reproduces on a vanilla product.
    fn default() -> Self {
        Agreement {
            customer_owner: Party::Partner,
            billing_owner: Party::Partner,
            troubleshooting_checklist: Vec::new(),
            vanilla_reproduction_required: false,
            customers_see_vendor_kb: true,
            vendor_direct_contact: VendorContact::WithPermission,
            updates_distributed_by: Party::Partner,
            required_certified_technicians: 0,
            fee_model: FeeModel::None,
            fee_percent_bp: 0,
            fixed_fee_cents: 0,
        }
    }
}

impl Agreement {
    /// Trims the checklist and checks every field, collecting every problem.
    pub fn checked(mut self) -> Result<Agreement, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut steps: Vec<String> = Vec::new();
        for step in &self.troubleshooting_checklist {
            let step = step.trim().to_string();
            if step.is_empty() {
                continue;
            }
            if step.chars().count() > MAX_STEP_CHARS {
                errors.add(
                    "troubleshooting_checklist",
                    format!("each step must be at most {MAX_STEP_CHARS} characters"),
                );
            }
            if steps.contains(&step) {
                errors.add(
                    "troubleshooting_checklist",
                    format!("step {step:?} is listed twice"),
                );
            }
            steps.push(step);
        }
        if steps.len() > MAX_CHECKLIST_STEPS {
            errors.add(
                "troubleshooting_checklist",
                format!("at most {MAX_CHECKLIST_STEPS} steps"),
            );
        }
        self.troubleshooting_checklist = steps;
        if self.required_certified_technicians > 1_000 {
            errors.add("required_certified_technicians", "must be at most 1000");
        }
        match self.fee_model {
            FeeModel::Percentage if !(1..=10_000).contains(&self.fee_percent_bp) => {
                errors.add("fee_percent", "must be more than 0 and at most 100");
            }
            FeeModel::Fixed if self.fixed_fee_cents <= 0 => {
                errors.add("fixed_fee", "must be more than 0");
            }
            _ => {}
        }
        if self.fee_percent_bp < 0 || self.fee_percent_bp > 10_000 {
            errors.add("fee_percent", "must be between 0 and 100");
        }
        if self.fixed_fee_cents < 0 {
            errors.add("fixed_fee", "must not be negative");
        }
        errors.into_result()?;
        Ok(self)
    }
}

/// What a partner states when escalating a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationStatement {
    /// Checklist step -> what the partner did and found.
    pub checklist: BTreeMap<String, String>,
    pub reproduced_on_vanilla: Option<bool>,
}

/// The escalation gate: a partner's case must answer every checklist step and, where the
/// agreement requires it, state that the problem reproduces on a vanilla product. Returns the
/// statement to store (answers trimmed, in checklist order), or what is missing.
pub fn check_escalation(
    agreement: &Agreement,
    statement: &EscalationStatement,
) -> Result<EscalationStatement, Vec<String>> {
    let mut missing = Vec::new();
    let mut answers = BTreeMap::new();
    for step in &agreement.troubleshooting_checklist {
        match statement.checklist.get(step).map(|a| a.trim()) {
            Some(answer) if !answer.is_empty() => {
                let answer: String = answer.chars().take(MAX_ANSWER_CHARS).collect();
                answers.insert(step.clone(), answer);
            }
            _ => missing.push(format!("checklist step {step:?}")),
        }
    }
    if agreement.vanilla_reproduction_required && statement.reproduced_on_vanilla != Some(true) {
        missing.push("reproduced_on_vanilla: true".to_string());
    }
    if missing.is_empty() {
        Ok(EscalationStatement {
            checklist: answers,
            reproduced_on_vanilla: statement.reproduced_on_vanilla,
        })
    } else {
        Err(missing)
    }
}

/// A period's statement for one partner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Statement {
    pub reported_fees_cents: Option<i64>,
    pub amount_due_cents: i64,
    pub escalations: u64,
    /// Escalations per 1,000 (currency units) of reported fees; `None` without fees.
    pub escalations_per_1000_fees: Option<f64>,
}

/// Works out what a partner owes for a period and how heavily it escalated for its fees.
///
/// Percentage terms charge a share of the reported fees (rounded to the nearest cent, half
/// up); fixed terms the fixed fee whatever was reported.
pub fn statement(
    agreement: &Agreement,
    reported_fees_cents: Option<i64>,
    escalations: u64,
) -> Statement {
    let amount_due_cents = match agreement.fee_model {
        FeeModel::None => 0,
        FeeModel::Fixed => agreement.fixed_fee_cents,
        FeeModel::Percentage => {
            let fees = reported_fees_cents.unwrap_or(0);
            (fees * agreement.fee_percent_bp + 5_000) / 10_000
        }
    };
    let escalations_per_1000_fees = reported_fees_cents
        .filter(|f| *f > 0)
        .map(|f| escalations as f64 / (f as f64 / 100.0) * 1000.0);
    Statement {
        reported_fees_cents,
        amount_due_cents,
        escalations,
        escalations_per_1000_fees,
    }
}

/// Parses an amount such as `1234.50` into cents.
pub fn parse_money(text: &str) -> Result<i64, crate::ParseError> {
    let text = text.trim();
    let bad = || crate::ParseError(format!("{text:?} is not an amount like 1234.50"));
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 13
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    Ok(whole * 100 + frac)
}

/// Cents as `1234.50`.
pub fn format_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A period named `2026-10` (a month) or `2026-Q3` (a quarter), as [start, end) dates.
pub fn parse_period(text: &str) -> Result<(time::Date, time::Date), crate::ParseError> {
    let bad = || crate::ParseError(format!("{text:?} is not a period like 2026-10 or 2026-Q3"));
    let (year, rest) = text.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    if !(2000..=2100).contains(&year) {
        return Err(bad());
    }
    let (first_month, months) = if let Some(q) = rest.strip_prefix('Q') {
        let q: u8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) {
            return Err(bad());
        }
        ((q - 1) * 3 + 1, 3)
    } else {
        if rest.len() != 2 {
            return Err(bad());
        }
        let m: u8 = rest.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) {
            return Err(bad());
        }
        (m, 1)
    };
    let month = |m: u8| time::Month::try_from(m).map_err(|_| bad());
    let start = time::Date::from_calendar_date(year, month(first_month)?, 1).map_err(|_| bad())?;
    let end_month = first_month + months;
    let end = if end_month > 12 {
        time::Date::from_calendar_date(year + 1, month(end_month - 12)?, 1)
    } else {
        time::Date::from_calendar_date(year, month(end_month)?, 1)
    }
    .map_err(|_| bad())?;
    Ok((start, end))
}

/// One question of a course's test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub text: String,
    pub choices: Vec<String>,
    /// Index into `choices`.
    pub correct: usize,
}

/// Checks a test: at least one question, each with 2 to 10 choices and a valid answer.
pub fn check_questions(questions: &[Question], pass_mark: u32) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if questions.is_empty() || questions.len() > 100 {
        errors.add("questions", "a test has 1 to 100 questions");
    }
    for (i, q) in questions.iter().enumerate() {
        if q.text.trim().is_empty() {
            errors.add("questions", format!("question {} has no text", i + 1));
        }
        if !(2..=10).contains(&q.choices.len()) || q.choices.iter().any(|c| c.trim().is_empty()) {
            errors.add(
                "questions",
                format!("question {} needs 2 to 10 non-empty choices", i + 1),
            );
        }
        if q.correct >= q.choices.len() {
            errors.add(
                "questions",
                format!(
                    "question {}: the correct answer is not one of the choices",
                    i + 1
                ),
            );
        }
    }
    if !(1..=100).contains(&pass_mark) {
        errors.add("pass_mark", "must be 1 to 100 (percent)");
    }
    errors.into_result()
}

/// A technician's score on a test: the share of questions answered correctly, in percent
/// (rounded down), and whether it reaches the pass mark.
pub fn score_attempt(
    correct: &[usize],
    answers: &[Option<usize>],
    pass_mark_percent: u32,
) -> (u32, bool) {
    if correct.is_empty() {
        return (0, false);
    }
    let right = correct
        .iter()
        .zip(answers.iter().chain(std::iter::repeat(&None)))
        .filter(|(c, a)| Some(**c) == **a)
        .count();
    let score = (right * 100 / correct.len()) as u32;
    (score, score >= pass_mark_percent)
}

/// A partner is certified while its technicians with a valid certificate meet the number its
/// agreement requires (and it requires at least one: zero required certifies nobody).
pub fn is_certified(valid_certified_technicians: u32, required: u32) -> bool {
    required > 0 && valid_certified_technicians >= required
}

/// Until when a partner stays certified, given each technician's latest certificate expiry
/// (valid ones only): the moment the `required`-th longest-lasting one lapses. `None` when it
/// is not certified now.
pub fn certified_until<T: Ord + Copy>(expiries: &mut [T], required: u32) -> Option<T> {
    if required == 0 || expiries.len() < required as usize {
        return None;
    }
    expiries.sort_unstable_by(|a, b| b.cmp(a));
    Some(expiries[required as usize - 1])
}

/// One escalation (a case the partner filed) as the scorecard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationFacts {
    pub priority: Priority,
    pub opened: Timestamp,
    /// When it was solved; `None` while open.
    pub solved: Option<Timestamp>,
    pub classification: Option<Classification>,
    pub reproduced_on_vanilla: Option<bool>,
    /// Whether its service-level targets were met (`None`: no policy applied, or not yet
    /// evaluated), as the case's clocks recorded it.
    pub sla_met: Option<bool>,
}

/// A partner's figures for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub escalations: u64,
    pub end_customers: u64,
    pub escalations_per_end_customer: Option<f64>,
    pub solved: u64,
    /// Shares of solved escalations.
    pub known_share: Option<f64>,
    pub invalid_escalation_share: Option<f64>,
    pub new_share: Option<f64>,
    /// Share of escalations that stated they reproduce on a vanilla product.
    pub reproduced_on_vanilla_share: Option<f64>,
    pub median_hours_to_resolve: Option<f64>,
    /// Share of solved escalations that met every service-level target of their policy,
    /// among those a policy applied to.
    pub within_sla_share: Option<f64>,
    pub certified_technicians: u32,
    pub required_certified_technicians: u32,
    /// Share of the partner's technicians holding a valid certificate.
    pub training_completion: Option<f64>,
    /// Share of good ratings from the customers of cases the partner served, and how many
    /// ratings that share is of.
    pub satisfaction_share: Option<f64>,
    pub ratings: u64,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Computes the scorecard from the period's escalations and the partner's people.
pub fn scorecard(
    escalations: &[EscalationFacts],
    end_customers: u64,
    technicians: u32,
    certified_technicians: u32,
    required_certified_technicians: u32,
    satisfaction: crate::satisfaction::Score,
) -> Scorecard {
    let total = escalations.len() as u64;
    let solved: Vec<&EscalationFacts> = escalations.iter().filter(|e| e.solved.is_some()).collect();
    let solved_n = solved.len() as u64;
    let count = |c: Classification| {
        solved
            .iter()
            .filter(|e| e.classification == Some(c))
            .count() as u64
    };
    let mut hours: Vec<f64> = solved
        .iter()
        .filter_map(|e| e.solved.map(|s| s.since(e.opened).as_hours_f64()))
        .collect();
    hours.sort_by(|a, b| a.total_cmp(b));
    let median = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    let judged: Vec<bool> = solved.iter().filter_map(|e| e.sla_met).collect();
    let within = judged.iter().filter(|met| **met).count() as u64;
    Scorecard {
        escalations: total,
        end_customers,
        escalations_per_end_customer: (end_customers > 0)
            .then(|| total as f64 / end_customers as f64),
        solved: solved_n,
        known_share: share(count(Classification::Known), solved_n),
        invalid_escalation_share: share(count(Classification::InvalidEscalation), solved_n),
        new_share: share(count(Classification::New), solved_n),
        reproduced_on_vanilla_share: share(
            escalations
                .iter()
                .filter(|e| e.reproduced_on_vanilla == Some(true))
                .count() as u64,
            total,
        ),
        median_hours_to_resolve: median,
        within_sla_share: share(within, judged.len() as u64),
        certified_technicians,
        required_certified_technicians,
        training_completion: share(u64::from(certified_technicians), u64::from(technicians)),
        satisfaction_share: share(satisfaction.good as u64, satisfaction.rated() as u64),
        ratings: satisfaction.rated() as u64,
    }
}

string_enum!(
    /// What the relationship manager should look at.
    AlertKind {
        InvalidEscalations => "invalid_escalations",
        CertifiedBelowMinimum => "certified_below_minimum",
        CertificateExpiring => "certificate_expiring"
    }
);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub message: String,
}

/// Thresholds of the relationship alerts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertRules {
    pub invalid_share_above: f64,
    pub min_escalations: u64,
    pub expiring_within_days: i64,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            invalid_share_above: 0.30,
            min_escalations: 10,
            expiring_within_days: 30,
        }
    }
}

/// The alerts for one partner. `recent` is the scorecard over the alert window (90 days by
/// default); `expiring` names technicians whose certificate ends within the window, with the
/// days left.
pub fn alerts(rules: &AlertRules, recent: &Scorecard, expiring: &[(String, i64)]) -> Vec<Alert> {
    let mut out = Vec::new();
    if recent.solved >= rules.min_escalations {
        if let Some(share) = recent
            .invalid_escalation_share
            .filter(|s| *s > rules.invalid_share_above)
        {
            out.push(Alert {
                kind: AlertKind::InvalidEscalations,
                message: format!(
                    "{:.0}% of {} solved escalations could have been answered from knowledge the partner could already see (threshold {:.0}%)",
                    share * 100.0,
                    recent.solved,
                    rules.invalid_share_above * 100.0
                ),
            });
        }
    }
    if recent.required_certified_technicians > 0
        && recent.certified_technicians < recent.required_certified_technicians
    {
        out.push(Alert {
            kind: AlertKind::CertifiedBelowMinimum,
            message: format!(
                "{} certified technicians, {} required",
                recent.certified_technicians, recent.required_certified_technicians
            ),
        });
    }
    for (who, days) in expiring {
        if *days <= rules.expiring_within_days {
            out.push(Alert {
                kind: AlertKind::CertificateExpiring,
                message: format!("{who}'s certificate expires in {days} days"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn agreement(steps: &[&str], vanilla: bool) -> Agreement {
        Agreement {
            troubleshooting_checklist: steps.iter().map(|s| s.to_string()).collect(),
            vanilla_reproduction_required: vanilla,
            ..Agreement::default()
        }
    }

    #[test]
    fn the_gate_names_every_missing_step_and_the_vanilla_statement() {
        let a = agreement(&["Collected logs", "Checked known issues"], true);
        let mut s = EscalationStatement::default();
        s.checklist
            .insert("Collected logs".into(), "  attached agent.log ".into());
        s.checklist
            .insert("Checked known issues".into(), "   ".into());
        let missing = check_escalation(&a, &s).unwrap_err();
        assert_eq!(
            missing,
            vec![
                "checklist step \"Checked known issues\"",
                "reproduced_on_vanilla: true"
            ]
        );
        s.checklist
            .insert("Checked known issues".into(), "none match".into());
        s.reproduced_on_vanilla = Some(true);
        // Extra answers for steps not on the checklist are dropped; answers are trimmed.
        s.checklist.insert("Made coffee".into(), "yes".into());
        let stored = check_escalation(&a, &s).unwrap();
        assert_eq!(stored.checklist.len(), 2);
        assert_eq!(stored.checklist["Collected logs"], "attached agent.log");
        // No checklist and no vanilla rule: anything passes.
        assert!(check_escalation(&Agreement::default(), &EscalationStatement::default()).is_ok());
    }

    #[test]
    fn agreements_are_checked_field_by_field() {
        let bad = Agreement {
            troubleshooting_checklist: vec!["Logs".into(), " Logs ".into(), "".into()],
            fee_model: FeeModel::Percentage,
            fee_percent_bp: 0,
            ..Agreement::default()
        };
        let errors = bad.checked().unwrap_err();
        assert!(errors.0.contains_key("troubleshooting_checklist"));
        assert!(errors.0.contains_key("fee_percent"));
        let fixed = Agreement {
            fee_model: FeeModel::Fixed,
            fixed_fee_cents: 0,
            ..Agreement::default()
        };
        assert!(fixed.checked().unwrap_err().0.contains_key("fixed_fee"));
        let ok = agreement(&[" Logs "], false).checked().unwrap();
        assert_eq!(ok.troubleshooting_checklist, vec!["Logs"]);
    }

    #[test]
    fn statements_charge_a_share_or_a_fixed_fee() {
        // 15 % of 12,345.67 = 1,851.8505 -> 1,851.85.
        let percent = Agreement {
            fee_model: FeeModel::Percentage,
            fee_percent_bp: 1_500,
            ..Agreement::default()
        };
        let s = statement(&percent, Some(1_234_567), 37);
        assert_eq!(s.amount_due_cents, 185_185);
        // 37 escalations for 12,345.67 of fees: 37 / 12.34567 = 2.997 per 1,000.
        assert!((s.escalations_per_1000_fees.unwrap() - 2.997_000_6).abs() < 1e-4);
        // Half a cent rounds up: 10 % of 0.05 = 0.005 -> 0.01.
        let tenth = Agreement {
            fee_model: FeeModel::Percentage,
            fee_percent_bp: 1_000,
            ..Agreement::default()
        };
        assert_eq!(statement(&tenth, Some(5), 0).amount_due_cents, 1);
        // Fixed fee whatever was reported; nothing reported means no ratio.
        let fixed = Agreement {
            fee_model: FeeModel::Fixed,
            fixed_fee_cents: 250_000,
            ..Agreement::default()
        };
        let s = statement(&fixed, None, 4);
        assert_eq!(
            (s.amount_due_cents, s.escalations_per_1000_fees),
            (250_000, None)
        );
        assert_eq!(
            statement(&Agreement::default(), Some(100), 1).amount_due_cents,
            0
        );
    }

    #[test]
    fn money_and_periods_parse_strictly() {
        assert_eq!(parse_money("1234.5").unwrap(), 123_450);
        assert_eq!(parse_money("0.07").unwrap(), 7);
        assert_eq!(parse_money("12").unwrap(), 1_200);
        for bad in ["", "-1", "1.234", "1,5", "abc", ".5"] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
        assert_eq!(format_money(123_450), "1234.50");
        let (start, end) = parse_period("2026-Q4").unwrap();
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-10-01".into(), "2027-01-01".into())
        );
        let (start, end) = parse_period("2026-02").unwrap();
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-02-01".into(), "2026-03-01".into())
        );
        for bad in ["2026", "2026-13", "2026-Q5", "26-01", "2026-1"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attempts_score_the_share_of_right_answers() {
        // 3 of 4 right = 75 %: passes a 75 % mark, fails an 80 % one. Unanswered counts wrong.
        let correct = [0, 2, 1, 3];
        assert_eq!(
            score_attempt(&correct, &[Some(0), Some(2), Some(1), Some(0)], 75),
            (75, true)
        );
        assert_eq!(
            score_attempt(&correct, &[Some(0), Some(2), Some(1)], 80),
            (75, false)
        );
        assert_eq!(score_attempt(&[], &[], 0), (0, false));
        assert!(is_certified(2, 2) && !is_certified(1, 2) && !is_certified(5, 0));
        // Three technicians' certificates end at 30, 10 and 20; two required: certified until
        // the second-longest lapses, at 20. Four required: not certified.
        assert_eq!(certified_until(&mut [30, 10, 20], 2), Some(20));
        assert_eq!(certified_until(&mut [30, 10, 20], 4), None);
        assert_eq!(certified_until(&mut [30], 0), None);
    }

    #[test]
    fn the_scorecard_follows_from_the_escalations() {
        let e =
            |priority, hours: Option<i64>, c: Option<Classification>, vanilla| EscalationFacts {
                priority,
                opened: Timestamp::EPOCH,
                solved: hours.map(|h| Timestamp::from_millis(h * HOUR)),
                classification: c,
                reproduced_on_vanilla: vanilla,
                // Met when solved within 50 hours, in this made-up policy; the 20-hour one was
                // never judged (no policy applied).
                sla_met: hours.filter(|h| *h != 20).map(|h| h <= 50),
            };
        let cases = [
            e(
                Priority::High,
                Some(10),
                Some(Classification::Known),
                Some(true),
            ),
            e(
                Priority::High,
                Some(100),
                Some(Classification::InvalidEscalation),
                Some(true),
            ),
            e(Priority::Normal, Some(20), Some(Classification::New), None),
            e(
                Priority::Urgent,
                Some(30),
                Some(Classification::InvalidEscalation),
                Some(false),
            ),
            e(Priority::Low, None, None, Some(true)),
        ];
        let s = scorecard(
            &cases,
            2,
            4,
            1,
            2,
            crate::satisfaction::Score { good: 3, bad: 1 },
        );
        assert_eq!(s.satisfaction_share, Some(0.75));
        assert_eq!(s.ratings, 4);
        // 5 escalations over 2 end customers.
        assert_eq!((s.escalations, s.solved), (5, 4));
        assert_eq!(s.escalations_per_end_customer, Some(2.5));
        // Of 4 solved: 1 known, 2 invalid, 1 new.
        assert_eq!(
            (s.known_share, s.invalid_escalation_share, s.new_share),
            (Some(0.25), Some(0.5), Some(0.25))
        );
        // 3 of 5 stated a vanilla reproduction.
        assert_eq!(s.reproduced_on_vanilla_share, Some(0.6));
        // Hours 10, 20, 30, 100: median (20 + 30) / 2.
        assert_eq!(s.median_hours_to_resolve, Some(25.0));
        // Judged: 10 h and 30 h met, 100 h missed; the 20-hour case had no policy.
        assert_eq!(s.within_sla_share, Some(2.0 / 3.0));
        // 1 of 4 technicians certified.
        assert_eq!(s.training_completion, Some(0.25));
        let empty = scorecard(&[], 0, 0, 0, 0, Default::default());
        assert_eq!(
            (
                empty.known_share,
                empty.median_hours_to_resolve,
                empty.escalations_per_end_customer
            ),
            (None, None, None)
        );
    }

    #[test]
    fn alerts_fire_at_their_thresholds() {
        let card = |solved: u64, invalid: f64, certified, required| Scorecard {
            solved,
            invalid_escalation_share: Some(invalid),
            certified_technicians: certified,
            required_certified_technicians: required,
            ..scorecard(&[], 0, 0, 0, 0, Default::default())
        };
        let rules = AlertRules::default();
        // 31 % of 10 is over 30 %; 30 % exactly is not; 9 escalations are too few to judge.
        assert_eq!(
            alerts(&rules, &card(10, 0.31, 2, 2), &[])[0].kind,
            AlertKind::InvalidEscalations
        );
        assert!(alerts(&rules, &card(10, 0.30, 2, 2), &[]).is_empty());
        assert!(alerts(&rules, &card(9, 0.9, 2, 2), &[]).is_empty());
        assert_eq!(
            alerts(&rules, &card(0, 0.0, 1, 2), &[])[0].kind,
            AlertKind::CertifiedBelowMinimum
        );
        let expiring = [("Rita".to_string(), 12), ("Ivo".to_string(), 45)];
        let found = alerts(&rules, &card(0, 0.0, 2, 2), &expiring);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("Rita") && found[0].message.contains("12 days"));
    }
}
