//! Static limits checked on the parsed document before execution, each with its own code:
//! depth, aliases and complexity (fields, multiplied by a connection's `first` or `last`, the
//! default page size when it has neither).
//!
//! Introspection (`__schema`, `__type` and everything below them) is costed by its own rules,
//! sized by the standard queries of graphql-js, GraphiQL and Apollo: they nest 15 levels (nine
//! `ofType`), which the ordinary depth limit would refuse, and their lists have no `first`.
//! - depth below an introspection field: at most [`Limits::max_introspection_depth`];
//! - `fields`, `inputFields`, `interfaces`, `possibleTypes` nested in one another: fewer than
//!   three on any path (graphql-js's own `MaxIntrospectionDepthRule`), so a type's fields'
//!   types' fields… cannot fan out;
//! - cost: every introspection list counts as [`INTROSPECTION_LIST`] entries, so what it
//!   selects costs that many times; a document may cost [`Limits::max_introspection_cost`],
//!   about two standard introspections (aliased or repeated ones count each time).

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Variables};
use async_graphql_value::Value;
use clientele_kernel::ErrorCode;

/// The bounds every document is held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_batch: usize,
    /// Levels of fields from an introspection field (`__schema`, `__type`) down, itself included.
    pub max_introspection_depth: usize,
    /// Cost of the introspection a document may ask for, lists counted [`INTROSPECTION_LIST`] times.
    pub max_introspection_cost: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
            max_aliases: 30,
            max_batch: 10,
            // graphql-js's standard query needs 15 (nine `ofType`); one more for tools that go
            // a level deeper, far short of an `ofType` chain meant to burn CPU.
            max_introspection_depth: 16,
            max_introspection_cost: 120_000,
        }
    }
}

/// How many entries an introspection list counts as.
pub const INTROSPECTION_LIST: usize = 10;

/// Introspection fields that return lists.
const INTROSPECTION_LISTS: &[&str] =
    &["types", "directives", "fields", "args", "inputFields", "interfaces", "possibleTypes", "enumValues"];

/// The lists graphql-js's `MaxIntrospectionDepthRule` counts; three nested ones are refused.
const FAN_OUT_LISTS: &[&str] = &["fields", "inputFields", "interfaces", "possibleTypes"];
const MAX_FAN_OUT_LISTS: usize = 3;

/// What the limits measured of a document (all its operations and fragments).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocumentCost {
    /// Fields, each multiplied by the `first` of the lists above it (introspection aside).
    pub complexity: usize,
    /// Deepest nesting of fields (an introspection field counts as one level).
    pub depth: usize,
    pub aliases: usize,
    /// Introspection cost (0: the document asks for none).
    pub introspection: usize,
}

#[derive(Clone, Copy, Default)]
struct Cost {
    /// Levels of fields below (and including) the selection set.
    depth: usize,
    complexity: usize,
    aliases: usize,
    /// Levels of introspection fields, counted apart from `depth`.
    introspection_depth: usize,
    introspection: usize,
    /// Most [`FAN_OUT_LISTS`] nested on one path.
    fan_out: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.depth = self.depth.max(other.depth);
        self.complexity = self.complexity.saturating_add(other.complexity);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.fan_out = self.fan_out.max(other.fan_out);
    }
}

/// Whether a selection set is costed as ordinary fields or as introspection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Fields,
    Introspection,
}

/// Introspection types are named `__…`: a fragment on one is introspection wherever it is spread.
fn mode_of_type(type_name: &str, current: Mode) -> Mode {
    if type_name.starts_with("__") { Mode::Introspection } else { current }
}

fn is_introspection_root(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

/// Costs selection sets. Each fragment is costed once and memoised, so the walk is linear in
/// the document's size however often fragments spread each other; cycles and unknown
/// fragments were refused by [`check_fragments`] before it starts. A fragment's mode follows
/// its type condition, so its memoised cost is the same wherever it is spread.
struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    limits: Limits,
    costs: HashMap<&'a Name, Cost>,
}

impl<'a> Walker<'a> {
    /// Cost of `set`, found `level` fields below the root of its mode (deep documents stop on
    /// the way down).
    fn walk(&mut self, set: &'a SelectionSet, level: usize, mode: Mode) -> Result<Cost, ErrorCode> {
        let max_level = match mode {
            Mode::Fields => self.limits.max_depth,
            Mode::Introspection => self.limits.max_introspection_depth,
        };
        if level > max_level {
            return Err(ErrorCode::QueryTooDeep);
        }
        let mut total = Cost::default();
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(f) => self.field(&f.node, level, mode)?,
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let mode = inline.type_condition.as_ref().map_or(mode, |t| mode_of_type(&t.node.on.node, mode));
                    self.walk(&inline.selection_set.node, level, mode)?
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node, level)?,
            };
            total.add(cost);
            self.bounded(total)?;
        }
        Ok(total)
    }

    fn field(
        &mut self,
        f: &'a async_graphql::parser::types::Field,
        level: usize,
        mode: Mode,
    ) -> Result<Cost, ErrorCode> {
        let name = f.name.node.as_str();
        let alias = usize::from(f.alias.is_some());
        let set = &f.selection_set.node;
        Ok(match mode {
            Mode::Fields if is_introspection_root(name) => {
                let inner = self.walk(set, 1, Mode::Introspection)?;
                Cost {
                    depth: 1,
                    complexity: 1,
                    aliases: inner.aliases.saturating_add(alias),
                    introspection_depth: inner.introspection_depth.saturating_add(1),
                    introspection: inner.introspection.saturating_add(1),
                    fan_out: inner.fan_out,
                }
            }
            Mode::Fields => {
                let inner = self.walk(set, level + 1, mode)?;
                Cost {
                    depth: inner.depth.saturating_add(1),
                    complexity: inner.complexity.saturating_mul(self.page_size(f)).saturating_add(1),
                    aliases: inner.aliases.saturating_add(alias),
                    ..inner
                }
            }
            Mode::Introspection => {
                let inner = self.walk(set, level + 1, mode)?;
                let times = if INTROSPECTION_LISTS.contains(&name) { INTROSPECTION_LIST } else { 1 };
                Cost {
                    introspection_depth: inner.introspection_depth.saturating_add(1),
                    introspection: inner.introspection.saturating_mul(times).saturating_add(1),
                    fan_out: inner.fan_out + usize::from(FAN_OUT_LISTS.contains(&name)),
                    aliases: inner.aliases.saturating_add(alias),
                    ..inner
                }
            }
        })
    }

    fn fragment(&mut self, name: &'a Name, level: usize) -> Result<Cost, ErrorCode> {
        if let Some(cost) = self.costs.get(name) {
            return Ok(*cost);
        }
        let fragment = &self.fragments.get(name).ok_or(ErrorCode::GraphqlValidationFailed)?.node;
        let mode = mode_of_type(&fragment.type_condition.node.on.node, Mode::Fields);
        let cost = self.walk(&fragment.selection_set.node, level, mode)?;
        self.costs.insert(name, cost);
        Ok(cost)
    }

    fn bounded(&self, cost: Cost) -> Result<(), ErrorCode> {
        let l = &self.limits;
        if cost.depth > l.max_depth
            || cost.introspection_depth > l.max_introspection_depth
            || cost.fan_out >= MAX_FAN_OUT_LISTS
        {
            Err(ErrorCode::QueryTooDeep)
        } else if cost.complexity > l.max_complexity || cost.introspection > l.max_introspection_cost {
            Err(ErrorCode::QueryTooComplex)
        } else if cost.aliases > l.max_aliases {
            Err(ErrorCode::TooManyAliases)
        } else {
            Ok(())
        }
    }

    /// A list field returns up to `first` or `last` items (`nodes` as many as its `ids`), a
    /// connection asked with neither the default page: its children cost that many times.
    fn page_size(&self, f: &'a async_graphql::parser::types::Field) -> usize {
        let argument = |name: &str| match f.arguments.iter().find(|(n, _)| n.node == name).map(|(_, v)| &v.node) {
            Some(Value::Variable(var)) => self.variables.get(var).cloned(),
            Some(value) => value.clone().into_const(),
            None => None,
        };
        let size = |name: &str| match argument(name) {
            Some(async_graphql::Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        if let Some(n) = size("first").max(size("last")) {
            return n.max(1);
        }
        if let Some(async_graphql::Value::List(ids)) = argument("ids") {
            return ids.len().max(1);
        }
        if self.is_connection(&f.selection_set.node) {
            return usize::try_from(clientele_kernel::page::DEFAULT_PAGE).unwrap_or(usize::MAX);
        }
        1
    }

    /// Whether `set` selects a connection's items (`edges`, `nodes`), directly or through
    /// fragments (known and acyclic by now).
    fn is_connection(&self, set: &SelectionSet) -> bool {
        set.items.iter().any(|selection| match &selection.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "edges" | "nodes"),
            Selection::InlineFragment(inline) => self.is_connection(&inline.node.selection_set.node),
            Selection::FragmentSpread(spread) => self
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|fragment| self.is_connection(&fragment.node.selection_set.node)),
        })
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
pub fn check(document: &ExecutableDocument, variables: &Variables, limits: Limits) -> Result<DocumentCost, ErrorCode> {
    check_fragments(document)?;
    let mut walker = Walker { fragments: &document.fragments, variables, limits, costs: HashMap::new() };
    let mut definitions = Cost::default();
    for name in document.fragments.keys() {
        definitions.add(walker.fragment(name, 0)?);
    }
    let mut operations = Cost::default();
    for (_, operation) in document.operations.iter() {
        let cost = walker.walk(&operation.node.selection_set.node, 0, Mode::Fields)?;
        walker.bounded(cost)?;
        operations.add(cost);
    }
    // Fragments are costed where they are spread; their definitions still have to be read.
    definitions.add(operations);
    walker.bounded(Cost { depth: 0, introspection_depth: 0, fan_out: 0, ..definitions })?;
    Ok(DocumentCost {
        complexity: operations.complexity,
        depth: operations.depth,
        aliases: operations.aliases,
        introspection: operations.introspection,
    })
}

#[cfg(test)]
#[allow(clippy::format_collect)] // building test documents
mod tests {
    use super::*;

    fn cost(query: &str) -> Result<DocumentCost, ErrorCode> {
        let doc = async_graphql::parser::parse_query(query).expect("valid syntax");
        check(&doc, &Variables::default(), Limits::default())
    }

    fn run(query: &str) -> Result<(), ErrorCode> {
        cost(query).map(|_| ())
    }

    /// graphql-js's `getIntrospectionQuery()`, as GraphiQL, codegen and inspector send it.
    const STANDARD: [&str; 4] = [
        include_str!("../../tests/fixtures/introspection/graphql-js-16-default.graphql"),
        include_str!("../../tests/fixtures/introspection/graphql-js-16-all-options.graphql"),
        include_str!("../../tests/fixtures/introspection/graphql-js-17-default.graphql"),
        include_str!("../../tests/fixtures/introspection/graphql-js-17-all-options.graphql"),
    ];

    /// `{ <root> }` with the standard query's fragments.
    fn with_fragments(root: &str) -> String {
        let fragments = &STANDARD[1][STANDARD[1].find("fragment FullType").expect("fragments")..];
        format!("query {{ {root} }} {fragments}")
    }

    // issue 14
    #[test]
    fn standard_introspection_queries_pass_on_their_own_limits() {
        for query in STANDARD {
            let cost = cost(query).unwrap_or_else(|code| panic!("{code}: {query}"));
            assert!(cost.introspection > 0 && cost.complexity < 10, "{cost:?}");
            assert_eq!(cost.depth, 1, "introspection counts as one level of the ordinary depth");
        }
        let one = cost(STANDARD[1]).expect("passes").introspection;
        let limit = Limits::default().max_introspection_cost;
        assert!(2 * one < limit && 3 * one > limit, "two standard introspections fit, three do not: {one}");
    }

    // issue 14
    #[test]
    fn abusive_introspection_is_refused() {
        let of_type = |n: usize| format!("{}kind{}", "ofType { ".repeat(n), " }".repeat(n));
        let chain = |n: usize| format!("{{ __schema {{ types {{ fields {{ type {{ {} }} }} }} }} }}", of_type(n));
        assert_eq!(run(&chain(9)), Ok(()), "as deep as graphql-js goes");
        assert_eq!(run(&chain(13)), Err(ErrorCode::QueryTooDeep));
        assert_eq!(run(&format!("{{ __type(name: \"Client\") {{ {} }} }}", of_type(40))), Err(ErrorCode::QueryTooDeep));
        // A type's fields' types' fields… fan out: graphql-js refuses three nested lists too.
        let fan = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(run(fan), Err(ErrorCode::QueryTooDeep));
        let fan = "{ __type(name: \"Query\") { fields { type { interfaces { possibleTypes { name } } } } } }";
        assert_eq!(run(fan), Err(ErrorCode::QueryTooDeep));
        assert_eq!(run("{ __type(name: \"Query\") { fields { type { fields { name } } } } }"), Ok(()));
        // Repeats: aliased roots, aliased lists inside one root, fragments spread again.
        let roots = (0..3).map(|i| format!("s{i}: __schema {{ types {{ ...FullType }} }} ")).collect::<String>();
        assert_eq!(run(&with_fragments(&roots)), Err(ErrorCode::QueryTooComplex));
        let lists = (0..3).map(|i| format!("t{i}: types {{ ...FullType }} ")).collect::<String>();
        assert_eq!(run(&with_fragments(&format!("__schema {{ {lists} }}"))), Err(ErrorCode::QueryTooComplex));
        let many = (0..31).map(|i| format!("t{i}: __type(name: \"Query\") {{ name }} ")).collect::<String>();
        assert_eq!(run(&format!("{{ {many} }}")), Err(ErrorCode::TooManyAliases));
    }

    // issue 14
    #[test]
    fn introspection_is_measured_apart_from_fields() {
        let plain = cost("{ viewer { role } }").expect("passes");
        assert_eq!(plain, DocumentCost { complexity: 2, depth: 2, aliases: 0, introspection: 0 });
        let mixed = cost("{ viewer { role } __type(name: \"Client\") { name fields { name } } }").expect("passes");
        assert_eq!((mixed.complexity, mixed.depth), (3, 2));
        assert_eq!(mixed.introspection, 1 + 1 + (1 + INTROSPECTION_LIST));
        assert_eq!(cost("{ __typename }").expect("passes").introspection, 0, "__typename is not introspection");
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
    fn last_costs_as_first_and_omitted_pages_cost_the_default() {
        let complexity = |q: &str| cost(q).ok().map(|c| c.complexity);
        let fields: String = (0..5).map(|i| format!("f{i} ")).collect();
        let costed = |args: &str| complexity(&format!("{{ users{args} {{ nodes {{ {fields} }} totalCount }} }}"));
        assert_eq!(costed("(last: 7)"), costed("(first: 7)"));
        assert_eq!(costed(""), costed("(first: 50)"));
        assert!(costed("(first: 50)") > costed("(first: 7)"));
        // Not a connection (no items asked): counted once.
        assert_eq!(complexity("{ users { totalCount } }"), Some(2));
        assert!(
            complexity(r#"{ nodes(ids: ["a", "b", "c"]) { id } }"#) > complexity(r#"{ nodes(ids: ["a"]) { id } }"#)
        );
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
