//! The routes the app has, read from its source, so tests can check they cover them all.

use std::collections::BTreeSet;

/// The end of the parenthesised group opening just before `from` (depth 1 at `from`),
/// skipping string literals.
fn group_end(text: &[u8], from: usize) -> usize {
    let (mut depth, mut i) = (1, from);
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    if text[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses")
}

/// The first string literal in `text`.
fn first_literal(text: &str) -> &str {
    let start = text.find('"').expect("a string literal") + 1;
    let len = text[start..].find('"').expect("closed literal");
    &text[start..start + len]
}

/// The HTTP methods a method router expression (`get(a).post(b)`) names, at the top level.
fn methods_in(args: &str) -> Vec<String> {
    const METHODS: [&str; 8] = [
        "get", "post", "put", "delete", "patch", "head", "options", "any",
    ];
    let bytes = args.as_bytes();
    let mut found = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += 1;
                }
            }
            c if depth == 0 && c.is_ascii_alphabetic() => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &args[start..i];
                if bytes.get(i) == Some(&b'(') && METHODS.contains(&word) {
                    found.push(word.to_uppercase());
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Every (method, path) the app routes, read from the `.route("…", get(…).post(…))` calls in
/// `src/http/`: the route table in `mod.rs`, and any other file that routes too.
pub fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("src/http")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit tests at the end of a file may build routers of their own.
            let text = text.split("#[cfg(test)]").next().unwrap().to_string();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    // Paths are whole: a nested router would hide its prefix from this reader.
    for (module, text) in &files {
        assert!(
            !text.contains(".nest("),
            "{module}.rs nests a router; list its routes with their full paths instead"
        );
    }
    let mut routes = BTreeSet::new();
    for (module, text) in &files {
        for (at, _) in text.match_indices(".route(") {
            let args_start = at + ".route(".len();
            let end = group_end(text.as_bytes(), args_start);
            let args = &text[args_start..end];
            let path = first_literal(args);
            let after_path = &args[args.find(path).unwrap() + path.len() + 1..];
            let methods = methods_in(after_path);
            assert!(
                !methods.is_empty(),
                "{module}.rs: no method found for {path}; teach methods_in() this form"
            );
            for m in methods {
                routes.insert((m, path.to_string()));
            }
        }
    }
    routes
}
