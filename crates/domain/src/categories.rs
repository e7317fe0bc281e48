//! Case categories: an admin-kept tree (product › area › issue), the rules for naming and
//! moving its nodes, and when the categoriser should learn again.

use crate::ParseError;
use std::collections::HashMap;

/// The longest category name; a tree path is read in one line on a phone.
pub const MAX_NAME: usize = 60;
/// How deep the tree may go: product › area › issue, and one more level to spare.
pub const MAX_DEPTH: usize = 4;
/// What separates the levels of a category path in text.
pub const PATH_SEPARATOR: &str = " › ";

/// A checked category name: trimmed, 1 to `MAX_NAME` characters, no control characters and
/// no `›` (which would make a path ambiguous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(text: &str) -> Result<CategoryName, ParseError> {
        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(ParseError("write a name".into()));
        }
        if name.chars().count() > MAX_NAME {
            return Err(ParseError(format!(
                "keep the name to {MAX_NAME} characters or fewer"
            )));
        }
        if name.contains('›') || name.chars().any(char::is_control) {
            return Err(ParseError(
                "a name cannot hold › or control characters".into(),
            ));
        }
        Ok(CategoryName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One node of the tree as far as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub id: i64,
    pub parent: Option<i64>,
}

/// Why a node cannot go under another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceError {
    UnknownParent,
    /// The new parent is the node itself or one of its descendants.
    Cycle,
    /// The subtree would end deeper than `MAX_DEPTH` levels.
    TooDeep,
}

impl PlaceError {
    pub fn words(&self) -> String {
        match self {
            PlaceError::UnknownParent => "choose an existing category as the parent".into(),
            PlaceError::Cycle => "a category cannot go under itself or one of its own".into(),
            PlaceError::TooDeep => {
                format!("the tree may be at most {MAX_DEPTH} levels deep")
            }
        }
    }
}

/// Checks that `node` (`None` for a new one) may sit under `parent` in `tree`.
pub fn check_place(
    tree: &[Node],
    node: Option<i64>,
    parent: Option<i64>,
) -> Result<(), PlaceError> {
    let parents: HashMap<i64, Option<i64>> = tree.iter().map(|n| (n.id, n.parent)).collect();
    let Some(parent) = parent else {
        return depth_below(tree, node)
            .le(&MAX_DEPTH)
            .then_some(())
            .ok_or(PlaceError::TooDeep);
    };
    if !parents.contains_key(&parent) {
        return Err(PlaceError::UnknownParent);
    }
    // Walk up from the parent: meeting the node means it would be its own ancestor. The
    // walk is bounded by the tree's size so stored data with a loop cannot hang it.
    let mut depth = 1;
    let mut at = Some(parent);
    while let Some(id) = at {
        if Some(id) == node {
            return Err(PlaceError::Cycle);
        }
        depth += 1;
        if depth > tree.len() + 1 {
            return Err(PlaceError::Cycle);
        }
        at = parents.get(&id).copied().flatten();
    }
    // `depth` is now the level the node would sit at (1 is the top); its subtree reaches
    // that many levels more, less its own.
    if depth + depth_below(tree, node) - 1 > MAX_DEPTH {
        return Err(PlaceError::TooDeep);
    }
    Ok(())
}

/// Levels in the subtree of `node` counting itself (1 for a leaf or a new node).
fn depth_below(tree: &[Node], node: Option<i64>) -> usize {
    let Some(node) = node else { return 1 };
    let mut deepest = 1;
    let mut frontier = vec![(node, 1)];
    let mut seen = 0;
    while let Some((id, level)) = frontier.pop() {
        seen += 1;
        if seen > tree.len() {
            break;
        }
        deepest = deepest.max(level);
        for child in tree.iter().filter(|n| n.parent == Some(id)) {
            frontier.push((child.id, level + 1));
        }
    }
    deepest
}

/// Each node's path of names from the top, e.g. `Sync › Desktop app › Conflicts`.
pub fn paths(tree: &[(i64, Option<i64>, String)]) -> HashMap<i64, String> {
    let by_id: HashMap<i64, (Option<i64>, &str)> = tree
        .iter()
        .map(|(id, p, n)| (*id, (*p, n.as_str())))
        .collect();
    let mut out = HashMap::new();
    for (id, _, _) in tree {
        let mut names = Vec::new();
        let mut at = Some(*id);
        while let Some(current) = at {
            let Some((parent, name)) = by_id.get(&current) else {
                break;
            };
            names.push(*name);
            if names.len() > tree.len() {
                break;
            }
            at = *parent;
        }
        names.reverse();
        out.insert(*id, names.join(PATH_SEPARATOR));
    }
    out
}

/// Fewest categorised cases before a categoriser is worth training: with fewer, its
/// cross-validated confidence has nothing to stand on.
pub const MIN_EXAMPLES: usize = 10;

/// Whether the categoriser should learn again: never fitted yet and there is enough to
/// learn from, an explicit request newer than the last fit, or at least `after` labels given
/// or changed since the last fit.
pub fn retrain_due(
    fitted: bool,
    examples: usize,
    new_labels: usize,
    after: usize,
    requested: bool,
) -> bool {
    if examples < MIN_EXAMPLES {
        return false;
    }
    !fitted || requested || new_labels >= after
}

/// A confidence (0 to 1) in basis points, as stored.
pub fn basis_points(confidence: f64) -> i64 {
    (confidence.clamp(0.0, 1.0) * 10_000.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: i64, parent: Option<i64>) -> Node {
        Node { id, parent }
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            CategoryName::parse("  Sync   app ").unwrap().as_str(),
            "Sync app"
        );
        assert!(CategoryName::parse("   ").is_err());
        assert!(CategoryName::parse("a › b").is_err());
        assert!(CategoryName::parse(&"x".repeat(61)).is_err());
        assert!(CategoryName::parse(&"x".repeat(60)).is_ok());
        assert!(CategoryName::parse("tab\u{7}bell").is_err());
    }

    #[test]
    fn a_node_cannot_go_under_itself_or_its_descendants() {
        // 1 › 2 › 3, and 4 on its own.
        let tree = [n(1, None), n(2, Some(1)), n(3, Some(2)), n(4, None)];
        assert_eq!(check_place(&tree, Some(1), Some(3)), Err(PlaceError::Cycle));
        assert_eq!(check_place(&tree, Some(2), Some(2)), Err(PlaceError::Cycle));
        assert_eq!(check_place(&tree, Some(4), Some(3)), Ok(()));
        assert_eq!(check_place(&tree, Some(3), None), Ok(()));
        assert_eq!(
            check_place(&tree, None, Some(9)),
            Err(PlaceError::UnknownParent)
        );
    }

    #[test]
    fn depth_counts_the_moved_subtree() {
        // 1 › 2 › 3 › 4 is four levels: nothing more under 4, and 5 › 6 cannot go under 3.
        let tree = [
            n(1, None),
            n(2, Some(1)),
            n(3, Some(2)),
            n(4, Some(3)),
            n(5, None),
            n(6, Some(5)),
        ];
        assert_eq!(check_place(&tree, None, Some(4)), Err(PlaceError::TooDeep));
        assert_eq!(check_place(&tree, None, Some(3)), Ok(()));
        assert_eq!(
            check_place(&tree, Some(5), Some(3)),
            Err(PlaceError::TooDeep)
        );
        assert_eq!(check_place(&tree, Some(5), Some(2)), Ok(()));
    }

    #[test]
    fn paths_join_names_from_the_top() {
        let tree = vec![
            (1, None, "Sync".to_string()),
            (2, Some(1), "Desktop".to_string()),
            (3, Some(2), "Conflicts".to_string()),
        ];
        let p = paths(&tree);
        assert_eq!(p[&3], "Sync › Desktop › Conflicts");
        assert_eq!(p[&1], "Sync");
    }

    #[test]
    fn learning_waits_for_enough_labels() {
        assert!(!retrain_due(false, 9, 9, 25, true));
        assert!(retrain_due(false, 10, 0, 25, false));
        assert!(!retrain_due(true, 100, 24, 25, false));
        assert!(retrain_due(true, 100, 25, 25, false));
        assert!(retrain_due(true, 100, 0, 25, true));
    }

    #[test]
    fn confidence_in_basis_points() {
        assert_eq!(basis_points(0.87654), 8765);
        assert_eq!(basis_points(1.2), 10_000);
        assert_eq!(basis_points(-0.1), 0);
    }
}
