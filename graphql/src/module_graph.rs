//! Guards the crate's layout: the file-level graph of `use crate::…`, `super::…` and
//! `crate::…` paths between the files of `graphql/src` has no cycle. Files are parsed with
//! `syn`; a macro call's body counts when it parses as comma-separated expressions
//! (`resolver!(|rc| …)`, `format!`). Module declarations (`mod x;`) are not edges; a
//! `#[macro_export]` macro counts as its defining file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};

/// A module path from the crate root: `lib.rs` is `[]`, `a/b.rs` and `a/b/mod.rs` are
/// `["a", "b"]`.
type ModPath = Vec<String>;

/// What one file names: internal-looking paths with the module each is written in, and the
/// `#[macro_export]` macros it defines.
#[derive(Default)]
struct Names {
    here: ModPath,
    paths: Vec<(ModPath, Vec<String>)>,
    macros: Vec<String>,
}

impl Names {
    fn of(file: &syn::File, module: &[String]) -> Self {
        let mut names = Names { here: module.to_vec(), ..Names::default() };
        names.visit_file(file);
        names
    }

    /// One path per leaf of a `use` tree: `{self, …}` and `*` name the prefix itself.
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &[String]) {
        let path = match tree {
            syn::UseTree::Path(p) => return self.use_tree(&p.tree, &[prefix, &[p.ident.to_string()]].concat()),
            syn::UseTree::Group(g) => return g.items.iter().for_each(|t| self.use_tree(t, prefix)),
            syn::UseTree::Name(syn::UseName { ident }) | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                prefix.iter().cloned().chain((ident != "self").then(|| ident.to_string())).collect()
            }
            syn::UseTree::Glob(_) => prefix.to_vec(),
        };
        self.paths.push((self.here.clone(), path));
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.here.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.here.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            self.use_tree(&item.tree, &[]);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.paths.push((self.here.clone(), segments));
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        for expr in mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated).iter().flatten() {
            self.visit_expr(expr);
        }
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if let Some(name) = &item.ident
            && item.attrs.iter().any(|a| a.path().is_ident("macro_export"))
        {
            self.macros.push(name.to_string());
        }
        visit::visit_item_macro(self, item);
    }
}

/// `path`, written in module `here`, from the crate root; `None` unless it starts with
/// `crate`, `super`, `self` or a child module of `here`.
fn absolute(here: &[String], path: &[String], is_module: impl Fn(&[String]) -> bool) -> Option<ModPath> {
    let mut abs = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => here.to_vec(),
        child if is_module(&[here, &[child.to_owned()]].concat()) => here.to_vec(),
        _ => return None,
    };
    for segment in path {
        match segment.as_str() {
            "crate" | "self" => {}
            "super" => _ = abs.pop(),
            name => abs.push(name.to_owned()),
        }
    }
    Some(abs)
}

/// The graph of `graphql/src`: every file and the files it names.
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let (mut dirs, mut files) = (vec![root.to_path_buf()], Vec::new());
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let (sub, rs): (Vec<_>, Vec<_>) = entries.flatten().map(|e| e.path()).partition(|p| p.is_dir());
        dirs.extend(sub);
        files.extend(rs.into_iter().filter(|p| p.extension().is_some_and(|e| e == "rs")));
    }
    let (mut modules, mut macros, mut named) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let mut module: ModPath = rel.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
        if module.last().is_some_and(|s| s == "mod" || (s == "lib" && module.len() == 1)) {
            module.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let names = Names::of(&file, &module);
        macros.extend(names.macros.into_iter().map(|m| (m, rel.clone())));
        modules.insert(module, rel.clone());
        named.push((rel, names.paths));
    }
    let file_of = |abs: ModPath| match abs.as_slice() {
        [name] if macros.contains_key(name) => macros.get(name).cloned(),
        _ => (0..=abs.len()).rev().find_map(|n| modules.get(&abs[..n]).cloned()),
    };
    let resolve = |here: &ModPath, path: &ModPath| absolute(here, path, |m| modules.contains_key(m)).and_then(file_of);
    let edges = named.into_iter().map(|(rel, paths)| {
        let targets = paths.iter().filter_map(|(here, path)| resolve(here, path)).filter(|t| *t != rel).collect();
        (rel, targets)
    });
    edges.collect()
}

/// Groups of files that reach each other (strongly connected components of more than one
/// file), largest first.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach: BTreeMap<&str, BTreeSet<&str>> = edges
        .keys()
        .map(|from| {
            let (mut seen, mut todo) = (BTreeSet::new(), vec![from]);
            while let Some(v) = todo.pop() {
                todo.extend(edges.get(v).into_iter().flatten().filter(|w| seen.insert(w.as_str())));
            }
            (from.as_str(), seen)
        })
        .collect();
    let components = reach.iter().map(|(v, r)| r.iter().filter(|w| reach[*w].contains(v)).map(|w| (*w).to_owned()));
    let mut found: Vec<Vec<String>> =
        components.map(Vec::from_iter).filter(|c| c.len() > 1).collect::<BTreeSet<_>>().into_iter().collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.len()));
    found
}

#[test]
fn the_files_of_the_crate_import_each_other_without_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&root);
    let sees = |from: &str, to: &str| edges.get(from).is_some_and(|t| t.contains(to));
    assert!(sees("schema/mod.rs", "areas/plugins/mod.rs") && sees("areas/contacts/contact.rs", "support/loaders.rs"));
    let found = cycles(&edges);
    let in_cycles: usize = found.iter().map(Vec::len).sum();
    let report: Vec<String> = found.iter().map(|c| format!("  {} files: {}", c.len(), c.join(", "))).collect();
    assert!(
        found.is_empty(),
        "{in_cycles} of {} files are in import cycles (largest: {}):\n{}",
        edges.len(),
        found.first().map_or(0, Vec::len),
        report.join("\n")
    );
}

#[test]
fn the_checker_sees_use_trees_super_paths_and_macros() {
    let src = r#"
        use crate::a::{b::{self, C}, d as e};
        // use crate::commented;
        const S: &str = "crate::in_a_string";
        #[macro_export]
        macro_rules! m { () => {} }
        fn f() { crate::g::h(); limits::check(); m!(|x| crate::k::l(x)); }
        mod tests { use super::*; use super::super::x::Y; }
    "#;
    let names = Names::of(&syn::parse_file(src).unwrap(), &["top".to_owned()]);
    let paths: Vec<String> = names.paths.iter().map(|(_, p)| p.join("::")).collect();
    let want = "crate::a::b crate::a::b::C crate::a::d crate::g::h limits::check crate::k::l super super::super::x::Y";
    assert_eq!(paths.join(" "), want);
    assert_eq!(names.macros, ["m"]);
}
