//! Static limits checked on the parsed document before execution, each with its own code:
//! depth, aliases and complexity (fields, multiplied by a connection's `first`).

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Variables};
use async_graphql_value::Value;
use clientele_kernel::ErrorCode;

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

#[derive(Clone, Copy, Default)]
struct Cost {
    /// Levels of fields below (and including) the selection set.
    depth: usize,
    complexity: usize,
    aliases: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.depth = self.depth.max(other.depth);
        self.complexity = self.complexity.saturating_add(other.complexity);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

/// Costs selection sets. Each fragment is costed once and memoised, so the walk is linear in
/// the document's size however often fragments spread each other; cycles and unknown
/// fragments were refused by [`check_fragments`] before it starts.
struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    limits: Limits,
    costs: HashMap<&'a Name, Cost>,
}

impl<'a> Walker<'a> {
    /// Cost of `set`, found `level` fields below the root (deep documents stop on the way down).
    fn walk(&mut self, set: &'a SelectionSet, level: usize) -> Result<Cost, ErrorCode> {
        if level > self.limits.max_depth {
            return Err(ErrorCode::QueryTooDeep);
        }
        let mut total = Cost::default();
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let inner = self.walk(&f.selection_set.node, level + 1)?;
                    Cost {
                        depth: inner.depth.saturating_add(1),
                        complexity: inner
                            .complexity
                            .saturating_mul(self.first_argument(&f.arguments))
                            .saturating_add(1),
                        aliases: inner.aliases.saturating_add(usize::from(f.alias.is_some())),
                    }
                }
                Selection::InlineFragment(inline) => self.walk(&inline.node.selection_set.node, level)?,
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node, level)?,
            };
            total.add(cost);
            self.bounded(total)?;
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a Name, level: usize) -> Result<Cost, ErrorCode> {
        if let Some(cost) = self.costs.get(name) {
            return Ok(*cost);
        }
        let fragment = self.fragments.get(name).ok_or(ErrorCode::GraphqlValidationFailed)?;
        let cost = self.walk(&fragment.node.selection_set.node, level)?;
        self.costs.insert(name, cost);
        Ok(cost)
    }

    fn bounded(&self, cost: Cost) -> Result<(), ErrorCode> {
        if cost.depth > self.limits.max_depth {
            Err(ErrorCode::QueryTooDeep)
        } else if cost.complexity > self.limits.max_complexity {
            Err(ErrorCode::QueryTooComplex)
        } else if cost.aliases > self.limits.max_aliases {
            Err(ErrorCode::TooManyAliases)
        } else {
            Ok(())
        }
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

/// Refuses spreads of unknown fragments and fragment cycles, which validation would refuse
/// too, but only after the cost walk has run: the walk must never see them.
fn check_fragments(document: &ExecutableDocument) -> Result<(), ErrorCode> {
    // Depth-first over the spread graph, colouring fragments: in progress, then done.
    fn visit<'a>(
        name: &'a Name,
        fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
        state: &mut HashMap<&'a Name, bool>,
    ) -> Result<(), ErrorCode> {
        match state.get(name) {
            Some(true) => return Ok(()),
            Some(false) => return Err(ErrorCode::GraphqlValidationFailed), // a cycle
            None => {}
        }
        let fragment = fragments.get(name).ok_or(ErrorCode::GraphqlValidationFailed)?;
        state.insert(name, false);
        let mut spreads = Vec::new();
        spreads_of(&fragment.node.selection_set.node, &mut spreads);
        for spread in spreads {
            visit(spread, fragments, state)?;
        }
        state.insert(name, true);
        Ok(())
    }
    let mut state = HashMap::new();
    for name in document.fragments.keys() {
        visit(name, &document.fragments, &mut state)?;
    }
    for (_, operation) in document.operations.iter() {
        let mut spreads = Vec::new();
        spreads_of(&operation.node.selection_set.node, &mut spreads);
        if spreads.iter().any(|name| !document.fragments.contains_key(*name)) {
            return Err(ErrorCode::GraphqlValidationFailed);
        }
    }
    Ok(())
}

/// The fragment names spread anywhere in `set`, nested fields and inline fragments included.
fn spreads_of<'a>(set: &'a SelectionSet, out: &mut Vec<&'a Name>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(f) => spreads_of(&f.node.selection_set.node, out),
            Selection::InlineFragment(inline) => spreads_of(&inline.node.selection_set.node, out),
            Selection::FragmentSpread(spread) => out.push(&spread.node.fragment_name.node),
        }
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

/// Checks every operation of the document, and every fragment even if no operation uses it
/// (validation reads them all): the work after this is bounded by the limits.
pub fn check(document: &ExecutableDocument, variables: &Variables, limits: Limits) -> Result<(), ErrorCode> {
    check_fragments(document)?;
    let mut walker = Walker { fragments: &document.fragments, variables, limits, costs: HashMap::new() };
    let mut definitions = Cost::default();
    for name in document.fragments.keys() {
        definitions.add(walker.fragment(name, 0)?);
    }
    for (_, operation) in document.operations.iter() {
        let cost = walker.walk(&operation.node.selection_set.node, 0)?;
        walker.bounded(cost)?;
        definitions.add(cost);
    }
    // Fragments are costed where they are spread; their definitions still have to be read.
    walker.bounded(Cost { depth: 0, ..definitions })
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
    fn fragment_cycles_and_unknown_fragments_are_refused_before_the_walk() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(run(cycle), Err(ErrorCode::GraphqlValidationFailed));
        assert_eq!(run("query { ...Missing }"), Err(ErrorCode::GraphqlValidationFailed));
        assert_eq!(run("query { viewer { ...Missing } }"), Err(ErrorCode::GraphqlValidationFailed));
        let self_spread = "query { viewer { role } } fragment A on Query { viewer { ...A } }";
        assert_eq!(run(self_spread), Err(ErrorCode::GraphqlValidationFailed));
    }

    /// issue 12 #2: F0..F7 each spread the next ten times, F8 spreads F0 (726 bytes, 100 s of
    /// CPU before). A cycle is refused at once; without it, the cost is 10^8 and refused after
    /// costing each fragment once.
    #[test]
    fn fragment_fan_out_costs_each_fragment_once() {
        let chain = |last: &str| {
            let fragments: String = (0..8)
                .map(|i| {
                    let spreads: String = (0..10).map(|_| format!("...F{} ", i + 1)).collect();
                    format!("fragment F{i} on Query {{ {spreads} }} ")
                })
                .collect();
            format!("query {{ ...F0 }} {fragments}fragment F8 on Query {{ {last} }}")
        };
        let started = std::time::Instant::now();
        assert_eq!(run(&chain("...F0")), Err(ErrorCode::GraphqlValidationFailed));
        assert_eq!(run(&chain("__typename")), Err(ErrorCode::QueryTooComplex));
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    }

    #[test]
    fn shared_fragments_within_limits_pass() {
        let q = "query { a: viewer { ...V } b: viewer { ...V } } fragment V on Viewer { role user { id email } }";
        assert_eq!(run(q), Ok(()));
    }

    #[test]
    fn unused_fragments_count_too() {
        let fields: String = (0..5_001).map(|i| format!("f{i} ")).collect();
        assert_eq!(
            run(&format!("query {{ __typename }} fragment Big on Query {{ {fields} }}")),
            Err(ErrorCode::QueryTooComplex)
        );
    }
}
