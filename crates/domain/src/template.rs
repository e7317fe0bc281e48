//! `{{name}}` placeholders in texts people write (crisis templates, macros): the names a text
//! uses, checked against what its kind knows when it is saved, and filled when it is used.

use std::collections::BTreeMap;

/// A `{{` with no `}}` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unclosed;

/// The placeholder names in `text`, in order, trimmed (`{{ requester.name }}` names
/// `requester.name`).
pub fn placeholders(text: &str) -> Result<Vec<&str>, Unclosed> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            return Err(Unclosed);
        };
        names.push(rest[open + 2..open + close].trim());
        rest = &rest[open + close + 2..];
    }
    Ok(names)
}

/// What is wrong with the placeholders of `text`, in words, given the names its kind knows.
pub fn check_placeholders(text: &str, known: &[&str]) -> Result<(), String> {
    let names = placeholders(text).map_err(|_| "a {{ is never closed".to_string())?;
    match names.iter().find(|n| !known.contains(n)) {
        None => Ok(()),
        Some(name) => Err(format!(
            "unknown placeholder {{{{{name}}}}}; you can use: {}",
            known
                .iter()
                .map(|k| format!("{{{{{k}}}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Fills the placeholders; a name without a value renders as an empty string, and an unclosed
/// `{{` is kept as written.
pub fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => {
                let name = rest[open + 2..open + close].trim();
                out.push_str(values.get(name).map_or("", String::as_str));
                rest = &rest[open + close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_trimmed_and_in_order() {
        assert_eq!(
            placeholders("Hi {{ requester.name }}, case {{case.number}}."),
            Ok(vec!["requester.name", "case.number"])
        );
        assert_eq!(placeholders("no braces"), Ok(vec![]));
        assert_eq!(placeholders("Hi {{name"), Err(Unclosed));
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused_in_words() {
        assert!(check_placeholders("Hi {{name}}", &["name"]).is_ok());
        let e = check_placeholders("Hi {{nmae}}", &["name", "case"]).unwrap_err();
        assert!(
            e.contains("{{nmae}}") && e.contains("{{name}}, {{case}}"),
            "{e}"
        );
        assert_eq!(
            check_placeholders("Hi {{name", &["name"]).unwrap_err(),
            "a {{ is never closed"
        );
    }

    #[test]
    fn filling_replaces_known_names_and_blanks_the_rest() {
        let values = BTreeMap::from([("name", "Peter".to_string())]);
        assert_eq!(fill("Hi {{ name }}!{{other}}", &values), "Hi Peter!");
        assert_eq!(fill("kept {{ open", &values), "kept {{ open");
    }
}
