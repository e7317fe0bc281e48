//! The public help centre: clean article addresses, what each help centre shows to whom,
//! partners' brands, "Was this helpful?" figures and when a visit counts as deflected.

use crate::partner::{Agreement, Party};
use crate::{ArticleId, Audience, FieldErrors, Role, Span, Timestamp};

/// A help-centre visit (an article read or a search) by a signed-in customer or partner
/// technician counts as deflected when that person files no case within this long after it.
/// A day: long enough to cover "read it, tried it, it did not work, came back", short enough
/// that the figure for yesterday is final today.
pub const DEFLECTION_WINDOW: Span = Span::DAY;

/// The part of an address made from a title: lower-case ASCII letters and digits joined by
/// single hyphens, at most 60 characters, cut at a hyphen. Letters outside ASCII are dropped
/// rather than guessed at; a title with nothing left becomes `article`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len().min(64));
    let mut pending_hyphen = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_hyphen = true;
        }
    }
    const MAX: usize = 60;
    if slug.len() > MAX {
        let cut = slug[..=MAX].rfind('-').unwrap_or(MAX);
        slug.truncate(cut);
    }
    if slug.is_empty() {
        "article".to_string()
    } else {
        slug
    }
}

/// The article's part of an address: `{id}-{slug}`.
pub fn article_ref(id: ArticleId, title: &str) -> String {
    format!("{}-{}", id.0, slugify(title))
}

/// The article id at the front of `{id}-{slug}` (or a bare id). The slug is not checked: pages
/// redirect an outdated slug to the current one, so old links keep working after a rename.
pub fn parse_article_ref(text: &str) -> Option<ArticleId> {
    let digits = text.split('-').next()?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0).map(ArticleId)
}

/// A page's meta description: the text's whitespace collapsed, cut at a word to at most 155
/// characters (what search engines show) with an ellipsis when cut.
pub fn meta_description(text: &str) -> String {
    const MAX: usize = 155;
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words.iter() {
        let extra = usize::from(!out.is_empty()) + word.chars().count();
        if out.chars().count() + extra > MAX - 1 {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Which help centre a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Centre {
    /// The vendor's own, at `/help`.
    Vendor,
    /// A partner's branded one, at `/help/p/{slug}`.
    Partner {
        partner: crate::OrgId,
        /// The partner's agreement lets its end customers read the vendor's knowledge.
        vendor_kb: bool,
    },
}

/// Who is reading, as far as the help centre is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Anonymous,
    SignedIn(crate::Actor),
}

/// The audiences of validated articles a reader sees in a help centre: vendor articles, and
/// the partner's own articles (only in a partner's centre).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sight {
    pub vendor: Vec<Audience>,
    pub own: Vec<Audience>,
}

/// What a reader sees in a centre. Internal articles never appear in a help centre, staff
/// included: it shows what is published outside the vendor, and staff read the rest under
/// Knowledge. Anonymous readers see public articles. Signed-in readers see what the article
/// rules let them read (partner technicians partner articles too; a customer whose partner
/// withholds the vendor's knowledge no vendor articles). In a partner's centre, vendor
/// articles appear only when its agreement lets its customers read them, except to its own
/// technicians and staff; the partner's own articles appear to anyone who may read their
/// audience there (partner-audience ones to that partner's technicians and staff).
pub fn sight(centre: Centre, reader: Reader) -> Sight {
    let outside = |audiences: &[Audience]| -> Vec<Audience> {
        audiences
            .iter()
            .copied()
            .filter(|a| *a != Audience::Internal)
            .collect()
    };
    let (role, org, limits) = match reader {
        Reader::Anonymous => (None, None, Default::default()),
        Reader::SignedIn(actor) => (Some(actor.role), actor.org_id, actor.limits),
    };
    let ordinary = match role {
        None => vec![Audience::Public],
        Some(role) => {
            let limits_kb = role == Role::Customer && limits.no_vendor_kb;
            if limits_kb {
                Vec::new()
            } else {
                outside(crate::knowledge::readable_audiences(role))
            }
        }
    };
    match centre {
        Centre::Vendor => Sight {
            vendor: ordinary,
            own: Vec::new(),
        },
        Centre::Partner { partner, vendor_kb } => {
            let insider = matches!(role, Some(Role::Admin | Role::Agent))
                || (role == Some(Role::Partner) && org == Some(partner));
            let own = if insider {
                vec![Audience::Partners, Audience::Public]
            } else {
                vec![Audience::Public]
            };
            let vendor = if insider || vendor_kb {
                ordinary
            } else {
                Vec::new()
            };
            Sight { vendor, own }
        }
    }
}

/// A partner gets a branded help centre when its agreement says the partner owns the customer
/// relationship: then its customers should meet the partner, not the vendor.
pub fn may_have_brand(agreement: &Agreement) -> bool {
    agreement.customer_owner == Party::Partner
}

/// A partner's help-centre brand, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub name: String,
    /// An `https://` or `http://` address, or empty for none.
    pub logo_url: String,
    /// `#rrggbb`, lower case.
    pub colour: String,
    pub accent: String,
}

pub const MAX_BRAND_NAME_CHARS: usize = 80;
pub const MAX_LOGO_URL_CHARS: usize = 500;

impl Brand {
    /// Trims and checks every field, collecting every problem at once.
    pub fn parse(
        name: &str,
        logo_url: &str,
        colour: &str,
        accent: &str,
    ) -> Result<Brand, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = name.trim();
        if name.is_empty() {
            errors.add("name", "write the name your customers know you by");
        } else if name.chars().count() > MAX_BRAND_NAME_CHARS {
            errors.add(
                "name",
                format!("must be at most {MAX_BRAND_NAME_CHARS} characters"),
            );
        }
        let logo_url = logo_url.trim();
        if !logo_url.is_empty() {
            let scheme_ok = logo_url.starts_with("https://") || logo_url.starts_with("http://");
            // The address goes into an attribute and a stylesheet-free <img>; anything that
            // could end the attribute or hide a second address is refused.
            let plain = logo_url
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '\\'));
            if !scheme_ok || !plain {
                errors.add(
                    "logo_url",
                    "must be a web address starting with https:// (or leave it empty)",
                );
            } else if logo_url.chars().count() > MAX_LOGO_URL_CHARS {
                errors.add(
                    "logo_url",
                    format!("must be at most {MAX_LOGO_URL_CHARS} characters"),
                );
            }
        }
        let mut hex = |field: &str, text: &str| -> String {
            let text = text.trim().to_ascii_lowercase();
            let ok = text.len() == 7
                && text.starts_with('#')
                && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                errors.add(
                    field,
                    "must be a colour written as # and six hex digits, like #1a5fb4",
                );
            }
            text
        };
        let colour = hex("colour", colour);
        let accent = hex("accent", accent);
        errors.into_result()?;
        Ok(Brand {
            name: name.to_string(),
            logo_url: logo_url.to_string(),
            colour,
            accent,
        })
    }
}

/// Yes and no answers to "Was this helpful?" for one article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Helpfulness {
    pub yes: i64,
    pub no: i64,
}

impl Helpfulness {
    pub fn votes(self) -> i64 {
        self.yes + self.no
    }

    /// Whole percent of yes answers, `None` before anyone answered.
    pub fn percent_yes(self) -> Option<i64> {
        let votes = self.votes();
        (votes > 0).then(|| (self.yes * 100 + votes / 2) / votes)
    }
}

pub const MAX_VOTE_COMMENT_CHARS: usize = 2_000;

/// A "Was this helpful?" comment, trimmed, or the reason it is refused.
pub fn vote_comment(text: &str) -> Result<String, FieldErrors> {
    let text = text.trim();
    if text.chars().count() > MAX_VOTE_COMMENT_CHARS {
        let mut errors = FieldErrors::new();
        errors.add(
            "comment",
            format!("must be at most {MAX_VOTE_COMMENT_CHARS} characters"),
        );
        return Err(errors);
    }
    Ok(text.to_string())
}

/// Whether a visit counts as deflected, as far as `now` can tell: `Some(true)` once the window
/// has passed with no case, `Some(false)` when a case came within it, `None` while open. The
/// store counts the same rule in SQL; this is its statement, tested.
pub fn deflected(
    visit: Timestamp,
    first_case_after: Option<Timestamp>,
    now: Timestamp,
) -> Option<bool> {
    let closes = visit.plus(DEFLECTION_WINDOW);
    match first_case_after {
        Some(case) if case >= visit && case < closes => Some(false),
        _ if now >= closes => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessLimits, Actor, OrgId, UserId};

    #[test]
    fn slugs_are_plain_words_joined_by_hyphens() {
        assert_eq!(
            slugify("Disk full after upgrade to 4.2!"),
            "disk-full-after-upgrade-to-4-2"
        );
        assert_eq!(slugify("  --Hello,   World--  "), "hello-world");
        assert_eq!(slugify("Ünïcode only ☃"), "n-code-only");
        assert_eq!(slugify("☃☃"), "article");
        assert_eq!(slugify(""), "article");
        let long = "word ".repeat(30);
        let slug = slugify(&long);
        assert!(slug.len() <= 60, "{slug}");
        assert!(!slug.ends_with('-'));
        assert_eq!(slug, "word-".repeat(12).trim_end_matches('-'));
    }

    #[test]
    fn article_refs_round_trip_and_ignore_the_slug() {
        assert_eq!(
            article_ref(ArticleId(42), "Reset a password"),
            "42-reset-a-password"
        );
        assert_eq!(
            parse_article_ref("42-reset-a-password"),
            Some(ArticleId(42))
        );
        assert_eq!(parse_article_ref("42-old-title"), Some(ArticleId(42)));
        assert_eq!(parse_article_ref("42"), Some(ArticleId(42)));
        assert_eq!(parse_article_ref("0-x"), None);
        assert_eq!(parse_article_ref("-42"), None);
        assert_eq!(parse_article_ref("4x2-a"), None);
        assert_eq!(parse_article_ref("99999999999999999999-a"), None);
        assert_eq!(parse_article_ref(""), None);
    }

    #[test]
    fn meta_descriptions_are_cut_at_a_word() {
        assert_eq!(meta_description("  short\n\ntext "), "short text");
        let text = "abcd ".repeat(40);
        let cut = meta_description(&text);
        assert!(cut.ends_with('…'));
        assert!(cut.chars().count() <= 155, "{}", cut.chars().count());
        // 31 words of 4 letters and 30 spaces are 154 characters, the ellipsis the 155th.
        assert_eq!(cut, format!("{}…", "abcd ".repeat(31).trim_end()));
    }

    fn actor(role: Role, org: Option<i64>, no_vendor_kb: bool) -> Reader {
        Reader::SignedIn(Actor {
            user_id: UserId(1),
            role,
            org_id: org.map(OrgId),
            limits: AccessLimits {
                no_vendor_contact: false,
                no_vendor_kb,
            },
        })
    }

    #[test]
    fn the_vendor_centre_shows_public_articles_to_anyone_and_partner_ones_to_partners() {
        use Audience::*;
        assert_eq!(
            sight(Centre::Vendor, Reader::Anonymous).vendor,
            vec![Public]
        );
        assert_eq!(
            sight(Centre::Vendor, actor(Role::Customer, Some(5), false)).vendor,
            vec![Public]
        );
        assert_eq!(
            sight(Centre::Vendor, actor(Role::Customer, Some(5), true)).vendor,
            vec![]
        );
        assert_eq!(
            sight(Centre::Vendor, actor(Role::Partner, Some(2), false)).vendor,
            vec![Partners, Public]
        );
        // Staff see what is published outside, never internal articles, in the help centre.
        assert_eq!(
            sight(Centre::Vendor, actor(Role::Agent, None, false)).vendor,
            vec![Partners, Public]
        );
        assert!(sight(Centre::Vendor, Reader::Anonymous).own.is_empty());
    }

    #[test]
    fn a_partner_centre_follows_the_agreement_for_vendor_articles() {
        use Audience::*;
        let open = Centre::Partner {
            partner: OrgId(2),
            vendor_kb: true,
        };
        let closed = Centre::Partner {
            partner: OrgId(2),
            vendor_kb: false,
        };
        assert_eq!(
            sight(open, Reader::Anonymous),
            Sight {
                vendor: vec![Public],
                own: vec![Public]
            }
        );
        assert_eq!(
            sight(closed, Reader::Anonymous),
            Sight {
                vendor: vec![],
                own: vec![Public]
            }
        );
        // The partner's own technicians read everything the partner may, in their own centre.
        assert_eq!(
            sight(closed, actor(Role::Partner, Some(2), false)),
            Sight {
                vendor: vec![Partners, Public],
                own: vec![Partners, Public]
            }
        );
        // Another partner's technician is an outsider there: partner articles of the vendor
        // yes (the article rules allow them), this partner's partner-only articles no.
        assert_eq!(
            sight(open, actor(Role::Partner, Some(3), false)),
            Sight {
                vendor: vec![Partners, Public],
                own: vec![Public]
            }
        );
        assert_eq!(
            sight(closed, actor(Role::Partner, Some(3), false)).vendor,
            vec![]
        );
        assert_eq!(
            sight(closed, actor(Role::Admin, None, false)),
            Sight {
                vendor: vec![Partners, Public],
                own: vec![Partners, Public]
            }
        );
    }

    #[test]
    fn only_partners_owning_the_customer_get_a_brand() {
        let mut agreement = Agreement::default();
        assert!(may_have_brand(&agreement));
        agreement.customer_owner = Party::Vendor;
        assert!(!may_have_brand(&agreement));
    }

    #[test]
    fn brands_are_checked_field_by_field() {
        let brand = Brand::parse(
            " Acme Help ",
            "https://acme.example/logo.png",
            "#1A5FB4",
            "#ffffff",
        )
        .unwrap();
        assert_eq!(brand.name, "Acme Help");
        assert_eq!(brand.colour, "#1a5fb4");
        assert!(Brand::parse("Acme", "", "#000000", "#ffffff").is_ok());
        let errors = Brand::parse("", "javascript:alert(1)", "blue", "#12345").unwrap_err();
        assert_eq!(
            errors.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["accent", "colour", "logo_url", "name"]
        );
        let quoted =
            Brand::parse("A", "https://x.example/\"onerror=", "#000000", "#000000").unwrap_err();
        assert!(quoted.0.contains_key("logo_url"));
    }

    #[test]
    fn helpfulness_rounds_to_whole_percent() {
        assert_eq!(Helpfulness::default().percent_yes(), None);
        assert_eq!(Helpfulness { yes: 2, no: 1 }.percent_yes(), Some(67));
        assert_eq!(Helpfulness { yes: 1, no: 2 }.percent_yes(), Some(33));
        assert_eq!(Helpfulness { yes: 1, no: 1 }.percent_yes(), Some(50));
        assert_eq!(Helpfulness { yes: 0, no: 4 }.percent_yes(), Some(0));
    }

    #[test]
    fn vote_comments_have_a_limit() {
        assert_eq!(vote_comment("  thanks "), Ok("thanks".to_string()));
        assert!(vote_comment(&"x".repeat(MAX_VOTE_COMMENT_CHARS + 1)).is_err());
    }

    #[test]
    fn a_visit_is_deflected_when_the_window_passes_without_a_case() {
        let visit = Timestamp::from_millis(1_000_000);
        let day = DEFLECTION_WINDOW.as_millis();
        let at = |ms: i64| Timestamp::from_millis(1_000_000 + ms);
        // Still open, nothing filed.
        assert_eq!(deflected(visit, None, at(day - 1)), None);
        // Window passed, nothing filed.
        assert_eq!(deflected(visit, None, at(day)), Some(true));
        // A case within the window: not deflected, known at once.
        assert_eq!(deflected(visit, Some(at(5)), at(10)), Some(false));
        // A case only after the window does not undo the deflection.
        assert_eq!(deflected(visit, Some(at(day)), at(day + 1)), Some(true));
    }
}
