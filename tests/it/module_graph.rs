//! The module graph has no cycles: a module that uses another is built on it, so the other
//! must not use it back. The graph is read from the source (`crate::…` and `super::…` paths,
//! test modules left out) at two levels: the top-level modules, and the submodules inside
//! each module that has them. Known cycles are listed in `ALLOWED` with why they remain.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Cycles still to break, each named by its modules in sorted order.
const ALLOWED: &[(&[&str], &str)] = &[];

/// A module path below the crate root, e.g. `["http", "views"]`.
type ModPath = Vec<String>;

/// Edges at the top level (key ""), and between siblings inside each parent module.
fn module_graphs() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let text = strip_tests(&strip_comments_and_strings(
            &fs::read_to_string(file).unwrap(),
        ));
        for target in references(&module, &text) {
            add_edges(&mut graphs, &modules, &module, &target);
        }
    }
    graphs
}

/// docs/architecture.md's table of who uses whom is the graph the code has: each row lists
/// one or more modules (comma-separated) and what they use ("—" for nothing).
#[test]
fn the_architecture_doc_shows_the_module_graph_the_code_has() {
    let graphs = module_graphs();
    let top = graphs.get("").cloned().unwrap_or_default();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    let all: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(&src, f))
        .filter_map(|m| m.first().cloned())
        .collect();
    let code: BTreeMap<String, BTreeSet<String>> = all
        .iter()
        .map(|m| (m.clone(), top.get(m).cloned().unwrap_or_default()))
        .collect();
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 2 || cells[0] == "module" || cells[0].starts_with("---") {
            continue;
        }
        let uses: BTreeSet<String> = cells[1]
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty() && *u != "—")
            .map(str::to_string)
            .collect();
        for m in cells[0].split(',').map(str::trim) {
            documented.insert(m.to_string(), uses.clone());
        }
    }
    let rows: Vec<String> = code
        .iter()
        .map(|(m, uses)| {
            let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
            format!(
                "| {m} | {} |",
                if uses.is_empty() {
                    "—".to_string()
                } else {
                    uses.join(", ")
                }
            )
        })
        .collect();
    assert_eq!(
        documented,
        code,
        "update the table in docs/architecture.md to:\n{}",
        rows.join("\n")
    );
}

#[test]
fn module_graph_has_no_cycles_beyond_the_allowed_ones() {
    let graphs = module_graphs();

    let mut found = Vec::new();
    for (level, graph) in &graphs {
        for cycle in cycles(graph) {
            let full = |m: &String| {
                if level.is_empty() {
                    m.clone()
                } else {
                    format!("{level}::{m}")
                }
            };
            let edges: Vec<String> = cycle
                .iter()
                .flat_map(|a| {
                    graph[a]
                        .iter()
                        .filter(|b| cycle.contains(b))
                        .map(move |b| format!("{} → {}", full(a), full(b)))
                })
                .collect();
            let named: Vec<String> = cycle.iter().map(full).collect();
            let shown = format!("{{{}}}: {}", named.join(", "), edges.join("; "));
            found.push((named, shown));
        }
    }

    let allowed: BTreeSet<Vec<String>> = ALLOWED
        .iter()
        .map(|(mods, _)| mods.iter().map(|m| m.to_string()).collect())
        .collect();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|(named, _)| !allowed.contains(named))
        .map(|(_, shown)| shown)
        .collect();
    assert!(
        unexpected.is_empty(),
        "module cycles (break them, or add to ALLOWED with a reason):\n  {}",
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    let found: BTreeSet<Vec<String>> = found.into_iter().map(|(named, _)| named).collect();
    let stale: Vec<String> = allowed
        .iter()
        .filter(|a| !found.contains(*a))
        .map(|a| a.join(", "))
        .collect();
    assert!(
        stale.is_empty(),
        "ALLOWED lists cycles that are gone; remove them: {stale:?}"
    );
}

#[test]
fn a_cycle_is_found() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(a.into()).or_default().insert(b.into());
    }
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    graph.get_mut("c").unwrap().remove("a");
    assert!(cycles(&graph).is_empty());
}

#[test]
fn paths_are_read_through_groups_and_super() {
    let module: ModPath = vec!["http".into(), "views".into()];
    let text = "use crate::{db::Db, roster::{self, Limits}}; use super::auth::Session; \
                fn f() { crate::audit::x(); super::super::files::y(); }";
    let mut targets = references(&module, text);
    targets.sort();
    assert_eq!(
        targets,
        vec![
            vec!["audit", "x"],
            vec!["db", "Db"],
            vec!["files", "y"],
            vec!["http", "auth", "Session"],
            vec!["roster", "Limits"],
            vec!["roster", "self"],
        ]
    );
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/http/views.rs` → `http::views`; `src/http/mod.rs` → `http`. The crate root and
/// `main.rs` (another crate) are no module of the graph.
fn module_of(src: &Path, file: &Path) -> Option<ModPath> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        return None;
    }
    Some(parts)
}

/// Comments, string and char literals become spaces, so doc links and messages are no paths.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
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
            out.push(' ');
        } else if c == 'r' && matches!(next, Some('#') | Some('"')) && !ident_before(&chars, i) {
            // Raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime, which is kept.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Removes each item marked `#[cfg(test)]` (the attribute up to its closing brace or `;`).
fn strip_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0;
        let mut end = item.len();
        for (k, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every path starting `crate::` or `super::` in `text`, resolved to a path from the crate root
/// (`use a::{b, c::d}` gives two paths).
fn references(module: &ModPath, text: &str) -> Vec<ModPath> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let prefix: Option<ModPath> = if !at_word {
            None
        } else if text[i..].starts_with("crate::") {
            i += "crate::".len();
            Some(Vec::new())
        } else if text[i..].starts_with("super::") {
            // A file module's `super` is its parent; further `super::` go up one each.
            let mut base = module.clone();
            while text[i..].starts_with("super::") {
                i += "super::".len();
                base.pop();
            }
            Some(base)
        } else {
            None
        };
        match prefix {
            Some(base) => {
                let (paths, used) = parse_tree(&text[i..]);
                for p in paths {
                    let mut full = base.clone();
                    full.extend(p);
                    if !full.is_empty() {
                        out.push(full);
                    }
                }
                i += used.max(1);
            }
            None => i += 1,
        }
    }
    out
}

/// Reads `a::b::{c, d::e}` from the start of `text`: the paths it names and the bytes used.
fn parse_tree(text: &str) -> (Vec<ModPath>, usize) {
    let mut segments: ModPath = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > start {
            segments.push(text[start..i].to_string());
        }
        let group_next = segments.is_empty() && text[i..].starts_with('{');
        if group_next || text[i..].starts_with("::") {
            if !group_next {
                i += 2;
            }
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'{' {
                i += 1;
                let mut paths = Vec::new();
                loop {
                    while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                        i += 1;
                    }
                    if i >= b.len() || b[i] == b'}' {
                        i += 1;
                        break;
                    }
                    let (inner, used) = parse_tree(&text[i..]);
                    for p in inner {
                        let mut full = segments.clone();
                        full.extend(p);
                        paths.push(full);
                    }
                    i += used.max(1);
                    // Skip `as name` and anything else up to the separator.
                    while i < b.len() && b[i] != b',' && b[i] != b'}' {
                        i += 1;
                    }
                }
                return (paths, i);
            }
            continue;
        }
        break;
    }
    if segments.is_empty() {
        (Vec::new(), i)
    } else {
        (vec![segments], i)
    }
}

/// Adds `from → to` at the top level and between siblings under their common parent.
fn add_edges(
    graphs: &mut BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    modules: &BTreeSet<ModPath>,
    from: &ModPath,
    to: &ModPath,
) {
    if !modules.contains(&to[..1]) {
        // An item of the crate root, or no module at all.
        return;
    }
    if from[0] != to[0] {
        graphs
            .entry(String::new())
            .or_default()
            .entry(from[0].clone())
            .or_default()
            .insert(to[0].clone());
        return;
    }
    // Same top-level module: an edge between the two children of the deepest common parent,
    // when both are modules below it (a child using its parent's own items is no edge).
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common < from.len() && common < to.len() && modules.contains(&to[..=common]) {
        graphs
            .entry(from[..common].join("::"))
            .or_default()
            .entry(from[common].clone())
            .or_default()
            .insert(to[common].clone());
    }
}

/// The strongly connected components with more than one module (Tarjan), each sorted.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
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
        if let Some(next) = s.graph.get(v) {
            for w in next {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
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
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}
