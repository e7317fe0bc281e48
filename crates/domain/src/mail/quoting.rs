//! Cutting quoted history and signatures from a reply, so a case's comments read as a
//! conversation instead of ever-longer copies of it. The full message is kept beside the
//! comment; this only chooses what the comment shows.
//!
//! The rules are line-based and err on the side of keeping text: a cut happens only at a
//! line that mail programs write (an attribution such as `On ... wrote:`, an
//! `-----Original Message-----` line, Outlook's `From:`/`Sent:` block, the `-- ` signature
//! delimiter, a mobile "Sent from my ..." line), and a forwarded message is never cut,
//! because forwarding is how people hand us the problem. Use it for replies to a case; a new
//! case's description keeps the whole text.

/// The text to store as a comment, and where it was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyText {
    pub text: String,
    /// `None` when the text is the whole message.
    pub cut: Option<Cut>,
}

/// What the text was cut at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `On <date>, <someone> wrote:` and its translations.
    Attribution,
    /// `-----Original Message-----` and its translations.
    OriginalMessage,
    /// Outlook's header block (`From:` ... `Sent:` ... `To:`), with its rule line above.
    OutlookHeader,
    /// The `-- ` signature delimiter.
    Signature,
    /// `Sent from my iPhone`, `Get Outlook for Android`.
    MobileSignature,
    /// Only `>` quoted lines at the end.
    TrailingQuote,
}

/// Cuts quoted history and signatures from a reply's text. When nothing would be left (a
/// message that is all quote, or a reply written below the quote with nothing above), the
/// whole text is kept: a comment never loses what the person wrote.
pub fn strip_quoted_reply(body: &str) -> ReplyText {
    let normalised = body.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.split('\n').collect();
    let (mut end, mut cut) = (lines.len(), None);
    if let Some((at, kind)) = (0..lines.len()).find_map(|i| separator_at(&lines, i).map(|k| (i, k)))
    {
        (end, cut) = (at, Some(kind));
    }
    let mut kept = &lines[..end];
    loop {
        match kept.last() {
            Some(line) if line.trim().is_empty() => kept = &kept[..kept.len() - 1],
            Some(line) if is_quoted(line) => {
                kept = &kept[..kept.len() - 1];
                cut = cut.or(Some(Cut::TrailingQuote));
            }
            _ => break,
        }
    }
    let first = kept
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(kept.len());
    let text = kept[first..].join("\n").trim_end().to_string();
    if text.is_empty() {
        return ReplyText {
            text: normalised.trim().to_string(),
            cut: None,
        };
    }
    ReplyText { text, cut }
}

/// The separator that starts at line `i`, if any.
fn separator_at(lines: &[&str], i: usize) -> Option<Cut> {
    let line = lines[i];
    if line.trim_end() == "--" {
        return Some(Cut::Signature);
    }
    let trimmed = line.trim();
    if is_original_message(trimmed) {
        return Some(Cut::OriginalMessage);
    }
    if is_mobile_signature(trimmed) {
        return Some(Cut::MobileSignature);
    }
    if is_rule(trimmed) && next_text_line(lines, i + 1).is_some_and(|j| outlook_block(lines, j)) {
        return Some(Cut::OutlookHeader);
    }
    if outlook_block(lines, i) {
        return Some(Cut::OutlookHeader);
    }
    if let Some(length) = attribution_at(lines, i) {
        if !answers_inline(&lines[i + length..]) {
            return Some(Cut::Attribution);
        }
    }
    None
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn next_text_line(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&j| !lines[j].trim().is_empty())
}

/// `-----Original Message-----`, `----- Ursprüngliche Nachricht -----` and the like.
fn is_original_message(line: &str) -> bool {
    const NAMES: [&str; 5] = [
        "original message",
        "ursprüngliche nachricht",
        "message d'origine",
        "mensaje original",
        "oorspronkelijk bericht",
    ];
    if !line.starts_with("--") {
        return false;
    }
    let inner = line.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let inner = inner.to_lowercase();
    NAMES.contains(&inner.as_str())
}

/// A short line a phone's mail program adds. Short, so a sentence that happens to start the
/// same way ("Sent from my laptop, the logs show...") is not taken for one.
fn is_mobile_signature(line: &str) -> bool {
    line.chars().count() <= 40
        && [
            "Sent from my ",
            "Get Outlook for ",
            "Sent from Mail for Windows",
        ]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// The line Outlook draws above a quoted message (`________________________________`).
fn is_rule(line: &str) -> bool {
    line.len() >= 10 && line.chars().all(|c| c == '_')
}

/// Outlook's (and Exchange's) quoted header block: a `From:` line with, within the next few
/// lines, a `Sent:` or `Date:` line and a `To:` or `Subject:` line. Not when it introduces a
/// forwarded message: the line above says so, or its subject is a forward's.
fn outlook_block(lines: &[&str], i: usize) -> bool {
    let starts = |line: &str, labels: &[&str]| {
        let lower = line.trim_start().to_lowercase();
        labels.iter().any(|label| lower.starts_with(label))
    };
    if !starts(lines[i], &["from:", "von:", "de :", "de:"]) {
        return false;
    }
    let block = &lines[i + 1..lines.len().min(i + 6)];
    let dated = block.iter().any(|l| {
        starts(
            l,
            &[
                "sent:",
                "date:",
                "gesendet:",
                "envoyé :",
                "envoyé:",
                "enviado:",
            ],
        )
    });
    let addressed = block.iter().any(|l| {
        starts(
            l,
            &[
                "to:", "subject:", "an:", "betreff:", "à :", "objet :", "para:",
            ],
        )
    });
    let forwarded_subject = block.iter().any(|l| {
        let lower = l.trim_start().to_lowercase();
        ["subject:", "betreff:", "objet :"].iter().any(|label| {
            lower.strip_prefix(label).is_some_and(|s| {
                let s = s.trim_start();
                s.starts_with("fw:") || s.starts_with("fwd:") || s.starts_with("wg:")
            })
        })
    });
    let announced = i
        .checked_sub(1)
        .and_then(|above| (0..=above).rev().find(|&j| !lines[j].trim().is_empty()))
        .is_some_and(|j| lines[j].to_lowercase().contains("forwarded message"));
    dated && addressed && !forwarded_subject && !announced
}

/// An attribution line (`On Mon, Oct 5, 2026 at 10:00 AM Ann <ann@example.com> wrote:`),
/// which Gmail may wrap over two lines. Returns how many lines it takes. It must carry a
/// digit (the date), so "On Monday my colleague wrote:" in a person's text is not one.
fn attribution_at(lines: &[&str], i: usize) -> Option<usize> {
    let one = lines[i].trim();
    if is_attribution(one) {
        return Some(1);
    }
    let next = lines.get(i + 1)?.trim();
    if one.is_empty() || next.is_empty() || one.ends_with(':') {
        return None;
    }
    is_attribution(&format!("{one} {next}")).then_some(2)
}

fn is_attribution(text: &str) -> bool {
    // (opening word, the verb it ends with) per language.
    const FORMS: [(&str, &str); 6] = [
        ("On ", "wrote:"),
        ("Am ", "schrieb"),
        ("Le ", "a écrit"),
        ("El ", "escribió"),
        ("Op ", "schreef"),
        ("Il ", "ha scritto"),
    ];
    text.ends_with(':')
        && text.chars().any(|c| c.is_ascii_digit())
        && FORMS
            .iter()
            .any(|(opening, verb)| text.starts_with(opening) && text.contains(verb))
}

/// Whether the person answered between the quoted lines (after an attribution, a `>` quote
/// followed by their own text): then the quote is part of the answer and stays.
fn answers_inline(after: &[&str]) -> bool {
    let mut quoted = false;
    for line in after {
        if line.trim_end() == "--" {
            return false;
        }
        if is_quoted(line) {
            quoted = true;
        } else if quoted && !line.trim().is_empty() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strip(body: &str) -> (String, Option<Cut>) {
        let reply = strip_quoted_reply(body);
        (reply.text, reply.cut)
    }

    #[test]
    fn gmail_attribution_and_quote_are_cut() {
        let body = "Thanks, that fixed it.\r\n\r\nAnn\r\n\r\n\
            On Mon, Oct 5, 2026 at 10:00 AM Backline Support <support+12-abcdefgh@example.com> wrote:\r\n\
            \r\n\
            > Hello Ann,\r\n\
            >\r\n\
            > Please restart the spooler.\r\n\
            >\r\n";
        assert_eq!(
            strip(body),
            (
                "Thanks, that fixed it.\n\nAnn".into(),
                Some(Cut::Attribution)
            )
        );
    }

    #[test]
    fn gmail_attributions_wrapped_over_two_lines_are_cut() {
        let body = "Still broken after the restart.\n\n\
            On Mon, Oct 5, 2026 at 10:00 AM Backline Support <\n\
            support+12-abcdefgh@example.com> wrote:\n\n\
            > Please restart the spooler.\n";
        assert_eq!(
            strip(body),
            (
                "Still broken after the restart.".into(),
                Some(Cut::Attribution)
            )
        );
    }

    #[test]
    fn outlook_header_blocks_are_cut_with_their_rule() {
        let body = "Hi,\n\nThe logs are attached.\n\nRegards,\nBob Jones\nContoso IT\n\n\
            ________________________________\n\
            From: Backline Support <support+12-abcdefgh@example.com>\n\
            Sent: Monday, October 5, 2026 10:00 AM\n\
            To: Bob Jones <bob@contoso.test>\n\
            Subject: RE: [#12-abcdefgh] Printer on fire\n\n\
            Hello Bob,\nPlease send the logs.\n";
        assert_eq!(
            strip(body),
            (
                "Hi,\n\nThe logs are attached.\n\nRegards,\nBob Jones\nContoso IT".into(),
                Some(Cut::OutlookHeader)
            )
        );
        // Without the rule (Outlook on the web, some Exchange versions).
        let body = "Done.\n\nFrom: Backline Support <support@example.com>\n\
            Date: Monday, 5 October 2026 at 10:00\nTo: Bob <bob@contoso.test>\n\nEarlier text\n";
        assert_eq!(strip(body), ("Done.".into(), Some(Cut::OutlookHeader)));
    }

    #[test]
    fn original_message_lines_are_cut_in_several_languages() {
        let body = "Done.\n\n-----Original Message-----\nFrom: Backline Support \
            [mailto:support@example.com]\nSent: Monday, October 5, 2026 10:00 AM\n\nEarlier\n";
        assert_eq!(strip(body), ("Done.".into(), Some(Cut::OriginalMessage)));
        let body = "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Support\n";
        assert_eq!(strip(body), ("Danke!".into(), Some(Cut::OriginalMessage)));
    }

    #[test]
    fn apple_mail_quotes_and_phone_signatures_are_cut() {
        // macOS: the attribution is itself quoted, so the trailing quote takes it.
        let body = "Works now, thank you!\n\n\
            > On 5 Oct 2026, at 10:00, Backline Support <support@example.com> wrote:\n\
            > \n> Please restart the spooler.\n";
        assert_eq!(
            strip(body),
            ("Works now, thank you!".into(), Some(Cut::TrailingQuote))
        );
        // iOS: "Sent from my iPhone" comes first.
        let body = "Works now\n\nSent from my iPhone\n\n\
            > On 5 Oct 2026, at 10:00, Backline Support <support@example.com> wrote:\n\
            > \n> Please restart the spooler.\n";
        assert_eq!(
            strip(body),
            ("Works now".into(), Some(Cut::MobileSignature))
        );
        // A sentence that starts like one is text.
        let body = "Sent from my laptop, the logs show the spooler crashing at boot.";
        assert_eq!(strip(body), (body.into(), None));
    }

    #[test]
    fn thunderbird_signatures_are_cut_and_indentation_kept() {
        let body = "Here is the output you asked for:\n\n  $ lpstat -t\n  scheduler is running\n\n\
            -- \nCarol Smith\nInitech\n\n\
            On 05/10/2026 10:00, Backline Support wrote:\n> Please run lpstat -t.\n";
        assert_eq!(
            strip(body),
            (
                "Here is the output you asked for:\n\n  $ lpstat -t\n  scheduler is running".into(),
                Some(Cut::Signature)
            )
        );
    }

    #[test]
    fn answers_between_quotes_keep_the_quotes() {
        let body = "On 05/10/2026 10:00, Backline Support wrote:\n\
            > Which version do you run?\n\n4.2.1\n\n\
            > And which operating system?\n\nDebian 13\n\n-- \nCarol\n";
        assert_eq!(
            strip(body),
            (
                "On 05/10/2026 10:00, Backline Support wrote:\n> Which version do you run?\n\n\
                 4.2.1\n\n> And which operating system?\n\nDebian 13"
                    .into(),
                Some(Cut::Signature)
            )
        );
    }

    #[test]
    fn other_languages_attributions_are_cut() {
        for attribution in [
            "Am 05.10.2026 um 10:00 schrieb Backline Support <support@example.com>:",
            "Le 5 oct. 2026 à 10:00, Backline Support <support@example.com> a écrit :",
            "El 5 oct 2026, a las 10:00, Backline Support escribió:",
        ] {
            let body = format!("Merci.\n\n{attribution}\n> Bonjour\n");
            assert_eq!(strip(&body), ("Merci.".into(), Some(Cut::Attribution)));
        }
    }

    #[test]
    fn forwards_and_ordinary_text_are_kept_whole() {
        let body = "Please look at the message below from our user.\n\n\
            ---------- Forwarded message ---------\n\
            From: Dave <dave@contoso.test>\nDate: Mon, Oct 5, 2026 at 9:00 AM\n\
            Subject: Printer\nTo: Bob <bob@contoso.test>\n\nThe printer is on fire.";
        assert_eq!(strip(body), (body.into(), None));
        let outlook_forward = "See below.\n\nFrom: Dave <dave@contoso.test>\n\
            Sent: Monday, October 5, 2026 9:00 AM\nTo: Bob\nSubject: FW: Printer\n\nOn fire.";
        assert_eq!(strip(outlook_forward), (outlook_forward.into(), None));
        let body = "On Monday my colleague wrote:\nthe printer is on fire";
        assert_eq!(strip(body), (body.into(), None));
        assert_eq!(strip("  \n"), (String::new(), None));
    }

    #[test]
    fn a_message_that_is_all_quote_is_kept_whole() {
        let body = "> the old text\n> more of it\n";
        assert_eq!(strip(body), ("> the old text\n> more of it".into(), None));
        let body = "-- \nCarol";
        assert_eq!(strip(body), ("-- \nCarol".into(), None));
    }

    proptest! {
        #[test]
        fn stripping_never_panics_and_never_empties_a_message(body in "(?s).{0,400}") {
            let reply = strip_quoted_reply(&body);
            prop_assert!(reply.text.len() <= body.len());
            prop_assert_eq!(reply.text.trim().is_empty(), body.trim().is_empty());
        }

        #[test]
        fn stripping_line_soup_never_panics(lines in prop::collection::vec(prop::sample::select(vec![
            "", "-- ", "--", "> quoted", "Hello", "On 5 Oct 2026, Ann wrote:", "On 5 Oct 2026, Ann <",
            "ann@x.test> wrote:", "From: Ann", "Sent: today", "To: Bob", "Subject: FW: x",
            "________________________________", "-----Original Message-----", "Sent from my iPhone",
            "---------- Forwarded message ---------",
        ]), 0..12)) {
            let body = lines.join("\n");
            let reply = strip_quoted_reply(&body);
            prop_assert_eq!(reply.text.trim().is_empty(), body.trim().is_empty());
        }
    }
}
