//! Text analysis, done here rather than inside tantivy so the index, the query parser and the
//! matcher see exactly the same tokens.
//!
//! - `words`: identifiers are split (`ZStandardCodec` -> z standard codec, `jackson-databind`
//!   -> jackson databind), lower-cased, stop words dropped, English-stemmed.
//! - `codes`: the things people copy verbatim: versions (`2.9.2`), error codes (`BK-1042`),
//!   class and package names (`java.io.IOException`), kept whole.
//! - `bigrams`: adjacent word pairs, which reward the same phrasing.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;

const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "is", "are", "was", "were", "be",
    "been", "it", "this", "that", "with", "as", "at", "by", "from", "not", "no", "but", "if",
    "when", "can", "could", "should", "would", "will", "do", "does", "did", "has", "have", "had",
    "into", "than", "then", "there", "their", "so", "such", "we", "you", "i", "our", "my", "me",
    "its", "also", "which", "what", "some", "any", "all", "these", "those", "them", "they",
];

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Splits a run of letters at case changes: `ZStandardCodec` -> Z, Standard, Codec;
/// `HTTPServer` -> HTTP, Server; digits form their own parts.
fn split_identifier(part: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = part.chars().collect();
    let mut start = 0;
    for i in 1..=chars.len() {
        let boundary = i == chars.len() || {
            let (prev, cur) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            (prev.is_lowercase() && cur.is_uppercase())
                || (prev.is_uppercase() && cur.is_uppercase() && next_lower)
                || (prev.is_ascii_digit() != cur.is_ascii_digit())
        };
        if boundary {
            out.push(chars[start..i].iter().collect::<String>().to_lowercase());
            start = i;
        }
    }
}

/// Analysed word tokens of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for raw in text.split(|c: char| !c.is_alphanumeric()) {
        if !raw.is_empty() {
            split_identifier(raw, &mut parts);
        }
    }
    parts
        .into_iter()
        .filter(|w| {
            let single_letter = w.chars().count() < 2 && !w.chars().all(|c| c.is_ascii_digit());
            !single_letter && !STOP_WORDS.contains(&w.as_str()) && w.len() <= 40
        })
        .map(|w| stemmer().stem(&w).into_owned())
        .collect()
}

/// Verbatim identifiers of `text`: tokens with a digit and a separator (versions, error codes)
/// or with inner capitals or dots between words (class and package names).
pub fn codes(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '$' | '#')))
        .map(|t| t.trim_matches(|c: char| matches!(c, '.' | '-' | '_' | '$' | '#')))
        .filter(|t| t.len() >= 3 && t.len() <= 80)
        .filter(|t| {
            let has_digit = t.chars().any(|c| c.is_ascii_digit());
            let has_separator = t.contains(['.', '-', '_', '$', '#']);
            let has_inner_capital = t
                .chars()
                .skip(1)
                .zip(t.chars())
                .any(|(c, p)| c.is_uppercase() && p.is_lowercase());
            // Dotted names (`java.io.IOException`) need parts of two characters or more, so
            // abbreviations such as `e.g` stay out.
            let dotted_name = t.contains('.')
                && t.chars().any(char::is_alphabetic)
                && t.split('.').all(|p| p.chars().count() >= 2);
            (has_digit && has_separator) || has_inner_capital || dotted_name
        })
        .map(str::to_lowercase)
        .collect()
}

/// Adjacent pairs of analysed words, joined with `_`.
pub fn bigrams(words: &[String]) -> Vec<String> {
    words
        .windows(2)
        .map(|w| format!("{}_{}", w[0], w[1]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_and_stem() {
        // Single letters (the Z of ZStandard) carry no meaning on their own and are dropped.
        assert_eq!(
            words("ZStandardCodec fails when compressing files"),
            ["standard", "codec", "fail", "compress", "file"]
        );
        assert_eq!(
            words("HTTPServer jackson-databind 2.9.10"),
            ["http", "server", "jackson", "databind", "2", "9", "10"]
        );
        assert_eq!(words("the a I"), Vec::<String>::new());
        assert_eq!(words("Files with umlauts: äöü"), ["file", "umlaut", "äöü"]);
    }

    #[test]
    fn codes_keep_versions_errors_and_class_names_whole() {
        assert_eq!(
            codes("Upgrade Netty to 4.1.45.Final, see CVE-2019-20444 and BK-1042 in java.io.IOException (ZStandardCodec)."),
            ["4.1.45.final", "cve-2019-20444", "bk-1042", "java.io.ioexception", "zstandardcodec"]
        );
        assert!(codes("plain words only, e.g. this").is_empty());
    }

    #[test]
    fn bigrams_pair_neighbours() {
        let w = words("disk quota exceeded");
        assert_eq!(bigrams(&w), ["disk_quota", "quota_exceed"]);
    }
}
