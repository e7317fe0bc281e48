//! The OpenAPI document of `/api/v1`: committed as a snapshot, so every change to the API's
//! shape shows up in review; typed throughout, so clients can be generated from it; and
//! complete, so no route registered in a feature's router is missing from it.

use backline_server::openapi::ApiDoc;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use utoipa::OpenApi;

const UPDATE_HINT: &str =
    "BACKLINE_UPDATE_SNAPSHOTS=1 cargo test -p backline-server --test openapi";

fn snapshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json")
}

fn rendered() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the document renders as JSON");
    text.push('\n');
    text
}

fn document() -> Value {
    serde_json::from_str(&rendered()).expect("the rendered document is JSON")
}

#[test]
fn the_document_matches_the_committed_snapshot() {
    let path = snapshot_path();
    let now = rendered();
    if std::env::var("BACKLINE_UPDATE_SNAPSHOTS").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::create_dir_all(path.parent().expect("the snapshot has a folder"))
            .expect("create the snapshot folder");
        std::fs::write(&path, &now).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == now {
        return;
    }
    let first_difference = committed
        .lines()
        .zip(now.lines())
        .enumerate()
        .find(|(_, (was, is))| was != is)
        .map(|(i, (was, is))| {
            format!(
                "first difference at line {}:\n  committed: {was}\n  now:       {is}",
                i + 1
            )
        })
        .unwrap_or_else(|| {
            format!(
                "the committed file has {} lines, the document now {}",
                committed.lines().count(),
                now.lines().count()
            )
        });
    panic!(
        "the OpenAPI document no longer matches {}.\n{first_difference}\n\
         If the change is intended, rewrite the snapshot with\n    {UPDATE_HINT}\n\
         and commit it with the change, so reviewers see what clients will see.",
        path.display()
    );
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Whether a schema says what it holds: a reference, a primitive, an array of typed items, an
/// object with properties or typed values, or a combination of typed schemas. A bare
/// `{"type": "object"}` (utoipa's `Object`) or an empty schema says nothing.
fn is_typed(schema: &Value) -> bool {
    if schema.get("$ref").is_some() {
        return true;
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
            return !parts.is_empty() && parts.iter().all(is_typed);
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"array") {
        return schema.get("items").is_some_and(is_typed);
    }
    if types.contains(&"object") || types.is_empty() {
        let has_properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        let typed_values = schema
            .get("additionalProperties")
            .is_some_and(|v| v.is_object() && is_typed(v));
        return has_properties || typed_values;
    }
    true
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

#[test]
fn every_json_body_has_a_typed_schema() {
    let doc = document();
    let mut untyped = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let mut bodies: Vec<(String, &Value)> = Vec::new();
            if let Some(content) = operation["requestBody"]["content"].as_object() {
                for (media, body) in content {
                    bodies.push((format!("request {media}"), body));
                }
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                if let Some(content) = response["content"].as_object() {
                    for (media, body) in content {
                        bodies.push((format!("{status} {media}"), body));
                    }
                }
            }
            for (what, body) in bodies {
                let media = what.split(' ').nth(1).unwrap_or_default();
                if is_json(media) && !body.get("schema").is_some_and(is_typed) {
                    untyped.push(format!("{} {path}: {what}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(
        untyped.is_empty(),
        "these bodies have no typed schema (give them a struct deriving ToSchema and name it \
         in #[utoipa::path]):\n  {}",
        untyped.join("\n  ")
    );
}

/// `(METHOD, path)` of every route a feature's router registers under `/api/v1`, read from
/// the `let api = Router::new()...;` chain in each `src/*/mod.rs`.
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    let mut features = 0;
    for entry in std::fs::read_dir(&src).expect("read src") {
        let module = entry.expect("read src entry").path().join("mod.rs");
        let Ok(text) = std::fs::read_to_string(&module) else {
            continue;
        };
        let Some(start) = text.find("let api = Router::new()") else {
            continue;
        };
        features += 1;
        let chain = &text[start..];
        let chain = &chain[..chain.find(';').expect("the api chain ends with ;")];
        let mut rest = chain;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let open = rest.find('"').expect("a route starts with its path");
            let close = open + 1 + rest[open + 1..].find('"').expect("the path ends");
            let path = format!("/api/v1{}", &rest[open + 1..close]);
            // The handlers: everything up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let mut end = close + 1;
            for (i, c) in rest[close + 1..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = close + 1 + i;
                    break;
                }
            }
            let handlers = &rest[close + 1..end];
            let mut found = false;
            for method in METHODS {
                let call = format!("{method}(");
                let mut from = 0;
                while let Some(i) = handlers[from..].find(&call) {
                    let before = handlers[..from + i].chars().last();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        routes.insert((method.to_uppercase(), path.clone()));
                        found = true;
                    }
                    from += i + call.len();
                }
            }
            assert!(found, "no method found for {path} in {}", module.display());
            rest = &rest[end..];
        }
    }
    assert!(
        features >= 5,
        "found the API routers of only {features} features"
    );
    routes
}

#[test]
fn every_registered_route_is_documented_and_nothing_else() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let registered = registered_routes();
    let missing: Vec<String> = registered
        .difference(&documented)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let extra: Vec<String> = documented
        .difference(&registered)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes without documentation (add the handler to `paths(...)` in openapi.rs):\n  {}\n\
         documented but not routed:\n  {}",
        missing.join("\n  "),
        extra.join("\n  ")
    );
}
