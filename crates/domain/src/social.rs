//! Social-media mentions as a support channel: a mention checked at the edge, the contact it
//! comes from, and the simple rule that tells a compliment (counted) from a request (a case).

use crate::{FieldErrors, Timestamp};

/// A mention as received, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The network's name, lower case (`mastodon`, `x`, `bluesky`...).
    pub network: String,
    /// The author's handle on that network, lower case, without a leading `@`.
    pub handle: String,
    pub url: String,
    pub text: String,
    pub posted_at: Timestamp,
}

pub const MAX_TEXT_CHARS: usize = 5_000;
pub const MAX_URL_CHARS: usize = 1_000;

impl Mention {
    /// Checks every field at once. Networks and handles are kept to letters, digits, `.`, `_`
    /// and `-` (handles may also hold one inner `@` for federated names), so that a contact's
    /// made-up address is always a valid one.
    pub fn parse(
        network: &str,
        handle: &str,
        url: &str,
        text: &str,
        posted_at: &str,
    ) -> Result<Mention, FieldErrors> {
        let mut errors = FieldErrors::new();
        let network = network.trim().to_ascii_lowercase();
        if network.is_empty()
            || network.len() > 40
            || !network
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            errors.add(
                "network",
                "name the network in 1 to 40 lower-case letters, digits or hyphens",
            );
        }
        let handle = handle.trim().trim_start_matches('@').to_ascii_lowercase();
        let handle_ok = !handle.is_empty()
            && handle.len() <= 100
            && handle.matches('@').count() <= 1
            && !handle.ends_with('@')
            && handle
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
        if !handle_ok {
            errors.add(
                "author_handle",
                "give the author's handle: letters, digits, dots, underscores and hyphens",
            );
        }
        let url = url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > MAX_URL_CHARS
            || url.chars().any(char::is_whitespace)
        {
            errors.add(
                "url",
                "must be the post's web address, starting with https://",
            );
        }
        let text = text.trim();
        if text.is_empty() {
            errors.add("text", "the post's text is empty");
        } else if text.chars().count() > MAX_TEXT_CHARS {
            errors.add(
                "text",
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            );
        }
        let posted_at = errors.check("posted_at", Timestamp::parse(posted_at.trim()));
        errors.into_result()?;
        Ok(Mention {
            network,
            handle,
            url: url.to_string(),
            text: text.to_string(),
            posted_at: posted_at.unwrap_or(Timestamp::EPOCH),
        })
    }

    /// The contact's made-up address: unique per network and handle, and in the `.invalid`
    /// domain, which never receives mail, so nothing is ever sent to it by mistake.
    pub fn contact_email(&self) -> String {
        let handle = self.handle.replace('@', ".at.");
        format!("{handle}@{}.social.invalid", self.network)
    }

    /// A case subject from the post: its first line, cut at a word to 80 characters.
    pub fn subject(&self) -> String {
        let first = self.text.lines().next().unwrap_or("").trim();
        let mut subject = String::new();
        for word in first.split_whitespace() {
            if subject.chars().count() + word.chars().count() + 1 > 80 {
                subject.push('…');
                break;
            }
            if !subject.is_empty() {
                subject.push(' ');
            }
            subject.push_str(word);
        }
        format!("@{} on {}: {subject}", self.handle, self.network)
    }
}

/// Words that praise.
const PRAISE: &[&str] = &[
    "thanks",
    "thank",
    "thx",
    "love",
    "loving",
    "great",
    "awesome",
    "amazing",
    "excellent",
    "brilliant",
    "fantastic",
    "perfect",
    "perfectly",
    "kudos",
    "helpful",
    "superb",
    "wonderful",
    "impressed",
    "nice",
    "best",
];

/// Words that ask for something or report trouble: any of them and it is not a compliment.
const TROUBLE: &[&str] = &[
    "not", "no", "never", "broken", "broke", "fail", "fails", "failed", "failing", "error",
    "errors", "down", "outage", "crash", "crashes", "crashed", "bug", "bugs", "slow", "issue",
    "issues", "problem", "problems", "help", "cannot", "cant", "can't", "doesn't", "doesnt",
    "won't", "wont", "didn't", "didnt", "isn't", "isnt", "worst", "hate", "terrible", "awful",
    "refund", "why", "still", "again", "stuck", "lost", "missing", "but", "however", "unable",
];

/// Whether a post is a compliment: it praises (a word of `PRAISE`) and neither asks (a
/// question mark) nor reports trouble (a word of `TROUBLE`, which includes "but" and "not":
/// "great, but it fails" and "not great" are requests). Deliberately simple and strict: a
/// compliment taken for a request costs an agent a glance; a request taken for a compliment
/// would leave someone unanswered.
pub fn is_compliment(text: &str) -> bool {
    if text.contains('?') {
        return false;
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    let praises = words.iter().any(|w| PRAISE.contains(w));
    let troubled = words
        .iter()
        .any(|w| TROUBLE.contains(w) || w.ends_with("n't"));
    praises && !troubled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(network: &str, handle: &str, url: &str, text: &str) -> Result<Mention, FieldErrors> {
        Mention::parse(network, handle, url, text, "2026-11-30T10:00:00Z")
    }

    #[test]
    fn mentions_are_checked_and_normalised() {
        let m = parse(
            " Mastodon ",
            "@Ana_B@social.example",
            "https://social.example/@ana/1",
            " It fails ",
        )
        .unwrap();
        assert_eq!(m.network, "mastodon");
        assert_eq!(m.handle, "ana_b@social.example");
        assert_eq!(m.text, "It fails");
        assert_eq!(
            m.posted_at,
            Timestamp::parse("2026-11-30T10:00:00Z").unwrap()
        );
        assert_eq!(
            m.contact_email(),
            "ana_b.at.social.example@mastodon.social.invalid"
        );
        let errors = Mention::parse("", "a b", "ftp://x", "", "yesterday").unwrap_err();
        assert_eq!(
            errors.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["author_handle", "network", "posted_at", "text", "url"]
        );
        assert!(parse("x", "@", "https://x.example/1", "hi").is_err());
        assert!(parse("x", "a@", "https://x.example/1", "hi").is_err());
        assert!(parse(
            "x",
            "a",
            "https://x.example/1",
            &"y".repeat(MAX_TEXT_CHARS + 1)
        )
        .is_err());
    }

    #[test]
    fn subjects_name_the_author_and_cut_the_first_line() {
        let m = parse(
            "x",
            "bob",
            "https://x.example/1",
            "Backup fails since 7.2\nmore detail",
        )
        .unwrap();
        assert_eq!(m.subject(), "@bob on x: Backup fails since 7.2");
        let long = "word ".repeat(30);
        let m = parse("x", "bob", "https://x.example/1", &long).unwrap();
        // 16 words of 4 letters and 15 spaces are 79 characters; a 17th would pass 80.
        assert_eq!(
            m.subject(),
            format!("@bob on x: {}…", "word ".repeat(16).trim_end())
        );
    }

    #[test]
    fn compliments_praise_without_asking_or_complaining() {
        for text in [
            "Thanks @vendor, the restore worked perfectly!",
            "Love the new dashboard",
            "Kudos to the support team. Brilliant.",
        ] {
            assert!(is_compliment(text), "{text}");
        }
        for text in [
            "Thanks, but the backup still fails",
            "Not great: the console is down",
            "Great product, can you add dark mode?",
            "Why is the console so slow",
            "The restore doesn't start",
            "It hasn't worked for a week, love that",
            "Backup ran at 3am",
            "",
        ] {
            assert!(!is_compliment(text), "{text}");
        }
    }
}
