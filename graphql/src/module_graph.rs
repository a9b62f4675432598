//! Guards the crate's layout: the file-level graph of `use crate::…`, `super::…` and
//! `crate::…` paths between the files of `graphql/src` has no cycle. Module declarations
//! (`mod x;`) are not edges; a `#[macro_export]` macro counts as its defining file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A file's module path from the crate root: `lib.rs` is `[]`, `a/b.rs` and `a/b/mod.rs` are
/// `["a", "b"]`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Open,
    Close,
    Semi,
    Comma,
    Star,
    Dollar,
    Other(char),
}

/// Identifiers and the punctuation paths need; comments, strings and chars left out.
fn tokens(src: &str) -> Vec<Tok> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && raw_string_end(&chars, i).is_some() {
            i = raw_string_end(&chars, i).unwrap_or(chars.len());
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}'), else a lifetime.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else {
            out.push(match c {
                ':' if next == Some(':') => {
                    i += 1;
                    Tok::Path
                }
                '{' => Tok::Open,
                '}' => Tok::Close,
                ';' => Tok::Semi,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                '$' => Tok::Dollar,
                other => Tok::Other(other),
            });
            i += 1;
        }
    }
    out
}

/// The end of a raw string `r"…"` / `r#"…"#` starting at `i`, if it is one.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The paths of one `use` tree starting at `toks[*i]`, flattened; `*i` ends at the `;`.
fn use_paths(toks: &[Tok], i: &mut usize) -> Vec<Vec<String>> {
    fn tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            match toks.get(*i) {
                Some(Tok::Ident(s)) if s == "as" => *i += 2, // `as name`
                // `{self, …}`: the prefix itself.
                Some(Tok::Ident(s)) if s == "self" && !prefix.is_empty() && path.len() == prefix.len() => *i += 1,
                Some(Tok::Ident(s)) => {
                    path.push(s.clone());
                    *i += 1;
                }
                Some(Tok::Path | Tok::Star) => *i += 1,
                Some(Tok::Open) => {
                    *i += 1;
                    while !matches!(toks.get(*i), Some(Tok::Close | Tok::Semi) | None) {
                        let at = *i;
                        tree(toks, i, &path, out);
                        if toks.get(*i) == Some(&Tok::Comma) || *i == at {
                            *i += 1;
                        }
                    }
                    if toks.get(*i) == Some(&Tok::Close) {
                        *i += 1;
                    }
                    return;
                }
                _ => break,
            }
        }
        out.push(path);
    }
    let mut out = Vec::new();
    tree(toks, i, &[], &mut out);
    while *i < toks.len() && toks[*i] != Tok::Semi {
        *i += 1;
    }
    out
}

/// Every internal path a file names, as written (`crate::…`, `super::…`, `self::…`, or a path
/// starting with a child module), with the module it is written in.
fn named_paths(toks: &[Tok], file_mod: &ModPath) -> Vec<(ModPath, Vec<String>)> {
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new(); // inline `mod x {` and its depth
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let here: ModPath = file_mod.iter().cloned().chain(inline.iter().map(|(m, _)| m.clone())).collect();
        match &toks[i] {
            Tok::Open => {
                depth += 1;
                i += 1;
            }
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (toks.get(i + 1), toks.get(i + 2)) {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Tok::Ident(kw) if kw == "use" => {
                i += 1;
                for path in use_paths(toks, &mut i) {
                    out.push((here.clone(), path));
                }
            }
            Tok::Ident(first)
                if toks.get(i + 1) == Some(&Tok::Path)
                    && (i == 0 || !matches!(toks[i - 1], Tok::Path | Tok::Dollar)) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::Path) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(s)) => {
                            path.push(s.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                out.push((here, path));
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// Names of `#[macro_export]` macros a file defines.
fn exported_macros(toks: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if *t == Tok::Ident("macro_rules".into())
            && let Some(Tok::Ident(name)) = toks.get(i + 2)
            && toks[i.saturating_sub(4)..i].contains(&Tok::Ident("macro_export".into()))
        {
            out.push(name.clone());
        }
    }
    out
}

/// The graph of `graphql/src`: every file and the files it names.
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut modules: BTreeMap<ModPath, String> = BTreeMap::new();
    let mut sources = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let mut segments: ModPath = rel.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
        if segments.last().is_some_and(|s| s == "mod" || (s == "lib" && segments.len() == 1)) {
            segments.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        modules.insert(segments.clone(), rel.clone());
        sources.push((rel, segments, tokens(&text)));
    }
    let mut macros: BTreeMap<String, String> = BTreeMap::new();
    for (rel, _, toks) in &sources {
        for name in exported_macros(toks) {
            macros.insert(name, rel.clone());
        }
    }
    let is_module = |p: &[String]| modules.contains_key(p);
    let file_of = |abs: &[String]| -> String {
        if abs.len() == 1
            && let Some(file) = macros.get(&abs[0])
        {
            return file.clone();
        }
        (0..=abs.len()).rev().find_map(|n| modules.get(&abs[..n]).cloned()).unwrap_or_default()
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, file_mod, toks) in &sources {
        let targets = edges.entry(rel.clone()).or_default();
        for (here, path) in named_paths(toks, file_mod) {
            let mut abs: ModPath;
            let mut rest = path.as_slice();
            match rest.first().map(String::as_str) {
                Some("crate") => {
                    abs = Vec::new();
                    rest = &rest[1..];
                }
                Some("super" | "self") => {
                    abs = here.clone();
                    while let Some(first) = rest.first() {
                        match first.as_str() {
                            "super" => {
                                abs.pop();
                            }
                            "self" => {}
                            _ => break,
                        }
                        rest = &rest[1..];
                    }
                }
                Some(child) => {
                    // A path from a child module (`limits::check` in lib.rs).
                    let candidate: ModPath = here.iter().cloned().chain([child.to_owned()]).collect();
                    if !is_module(&candidate) {
                        continue;
                    }
                    abs = here.clone();
                }
                None => continue,
            }
            abs.extend(rest.iter().cloned());
            let target = file_of(&abs);
            if !target.is_empty() && target != *rel {
                targets.insert(target);
            }
        }
    }
    edges
}

/// Strongly connected components with more than one file (Tarjan), largest first.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort_by_key(|c| std::cmp::Reverse(c.len()));
    s.out
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
        fn f() { crate::g::h(); limits::check(); }
        mod tests { use super::*; use super::super::x::Y; }
    "#;
    let toks = tokens(src);
    let paths: Vec<Vec<String>> = named_paths(&toks, &vec!["top".to_owned()]).into_iter().map(|(_, p)| p).collect();
    let strs: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        strs,
        ["crate::a::b", "crate::a::b::C", "crate::a::d", "crate::g::h", "limits::check", "super", "super::super::x::Y"]
    );
    assert_eq!(exported_macros(&toks), ["m"]);
}
