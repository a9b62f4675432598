//! Static limits checked on the parsed document before execution, each with its own code:
//! depth, aliases and complexity (fields, multiplied by a connection's `first`).

use std::collections::{HashMap, HashSet};

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Variables};
use async_graphql_value::Value;
use clientele_core::ErrorCode;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_depth: 12, max_complexity: 5_000, max_aliases: 30, max_batch: 10 }
    }
}

#[derive(Default)]
struct Cost {
    depth: usize,
    complexity: usize,
    aliases: usize,
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    limits: Limits,
}

impl Walker<'_> {
    /// Cost of a selection set at `depth`; `visiting` breaks fragment cycles (validation
    /// rejects them later, but the walk must terminate first).
    fn walk(&self, set: &SelectionSet, depth: usize, visiting: &mut HashSet<Name>) -> Result<Cost, ErrorCode> {
        if depth > self.limits.max_depth {
            return Err(ErrorCode::QueryTooDeep);
        }
        let mut total = Cost { depth, ..Cost::default() };
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let inner = self.walk(&f.selection_set.node, depth + 1, visiting)?;
                    let multiplier = self.first_argument(&f.arguments);
                    Cost {
                        depth: inner.depth,
                        complexity: 1 + inner.complexity.saturating_mul(multiplier),
                        aliases: inner.aliases + usize::from(f.alias.is_some()),
                    }
                }
                Selection::InlineFragment(inline) => self.walk(&inline.node.selection_set.node, depth, visiting)?,
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.fragments.get(name) {
                        Some(fragment) if visiting.insert(name.clone()) => {
                            let cost = self.walk(&fragment.node.selection_set.node, depth, visiting);
                            visiting.remove(name);
                            cost?
                        }
                        _ => Cost::default(),
                    }
                }
            };
            total.depth = total.depth.max(cost.depth);
            total.complexity = total.complexity.saturating_add(cost.complexity);
            total.aliases += cost.aliases;
            if total.complexity > self.limits.max_complexity {
                return Err(ErrorCode::QueryTooComplex);
            }
            if total.aliases > self.limits.max_aliases {
                return Err(ErrorCode::TooManyAliases);
            }
        }
        Ok(total)
    }

    /// A list field returns up to `first` items: its children cost that many times.
    fn first_argument(&self, arguments: &[(Positioned<Name>, Positioned<Value>)]) -> usize {
        let number = match arguments.iter().find(|(name, _)| name.node == "first").map(|(_, v)| &v.node) {
            Some(Value::Number(n)) => Some(n),
            Some(Value::Variable(var)) => match self.variables.get(var) {
                Some(async_graphql::Value::Number(n)) => Some(n),
                _ => None,
            },
            _ => None,
        };
        number.and_then(async_graphql::Number::as_u64).and_then(|n| usize::try_from(n).ok()).unwrap_or(1).max(1)
    }
}

/// Whether every root field of every operation is one of `allowed` (fragments at the root are
/// refused: the check stays simple and strict).
pub fn only_fields(document: &ExecutableDocument, allowed: &[&str]) -> bool {
    document.operations.iter().all(|(_, op)| {
        op.node.selection_set.node.items.iter().all(|selection| match &selection.node {
            Selection::Field(f) => allowed.contains(&f.node.name.node.as_str()),
            _ => false,
        })
    })
}

/// Checks every operation of the document.
pub fn check(document: &ExecutableDocument, variables: &Variables, limits: Limits) -> Result<(), ErrorCode> {
    let walker = Walker { fragments: &document.fragments, variables, limits };
    for (_, operation) in document.operations.iter() {
        walker.walk(&operation.node.selection_set.node, 1, &mut HashSet::new())?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::format_collect)] // building test documents
mod tests {
    use super::*;

    fn run(query: &str) -> Result<(), ErrorCode> {
        let doc = async_graphql::parser::parse_query(query).expect("valid syntax");
        check(&doc, &Variables::default(), Limits::default())
    }

    #[test]
    fn shallow_queries_pass() {
        assert_eq!(run("{ viewer { user { id email } } }"), Ok(()));
    }

    #[test]
    fn deep_queries_are_refused() {
        let deep = format!("{{ {}x{} }}", "a { ".repeat(15), " }".repeat(15));
        assert_eq!(run(&deep), Err(ErrorCode::QueryTooDeep));
    }

    #[test]
    fn alias_floods_are_refused() {
        let many: String = (0..31).map(|i| format!("a{i}: viewer {{ role }} ")).collect();
        assert_eq!(run(&format!("{{ {many} }}")), Err(ErrorCode::TooManyAliases));
    }

    #[test]
    fn large_pages_multiply_complexity() {
        let q = "{ users(first: 100) { edges { node { a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss tt uu vv ww } } } }";
        assert_eq!(run(q), Err(ErrorCode::QueryTooComplex));
    }

    #[test]
    fn fragment_cycles_terminate() {
        assert_eq!(run("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"), Ok(()));
    }
}
