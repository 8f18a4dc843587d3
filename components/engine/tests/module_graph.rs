//! Keeps the engine's module graph a DAG: no module reaches itself through
//! `crate::`/`super::` references, so every module can be read (and tested)
//! on top of the ones it uses. Also keeps the pure-data modules (`views`,
//! `sync::types`) free of anything but ids and port types.
//!
//! The parser is deliberately simple (it is the Rust port of the
//! `modgraph.py` the cycles were first measured with):
//! - a module is a file under `src/`: `sync/run.rs` is `sync::run`,
//!   `sync/mod.rs` is `sync`, `lib.rs` is the crate root (whose edges are
//!   not counted: it declares every module);
//! - everything from the first `#[cfg(test)]` followed by a `mod` item on
//!   is unit tests and ignored, as is everything after `//` on a line;
//! - `crate::a::b` is an edge to `a::b` when that is a module, else to `a`;
//!   `use crate::{a, b::c}` lists count the same way; `super::x` is an edge
//!   to the parent's `x`.
// Host only: it reads the crate's source files.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules that hold data only: they may name ids and the ports' types.
const PURE_DATA: &[(&str, &[&str])] = &[("views", &["ids", "ports"]), ("sync::types", &["ports"])];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_module_graph_has_no_cycles() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "import cycles among the engine's modules (each list reaches itself):\n{}\nedges:\n{}",
        cycles
            .iter()
            .map(|c| format!("  {}", c.join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        describe(&graph),
    );
}

#[test]
fn the_pure_data_modules_use_only_ids_and_port_types() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    for (module, allowed) in PURE_DATA {
        let uses = graph.get(*module).cloned().unwrap_or_default();
        let extra: Vec<&String> = uses
            .iter()
            .filter(|m| !allowed.contains(&m.as_str()))
            .collect();
        assert!(extra.is_empty(), "{module} (pure data) uses {extra:?}");
    }
}

/// `a -> b` edges between the crate's modules (see the module docs).
fn module_graph(src: &Path) -> Graph {
    let files = rust_files(src);
    let sources: BTreeMap<String, String> = files
        .iter()
        .map(|path| (module_name(src, path), non_test_code(&read(path))))
        .collect();
    let names: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
    let mut graph = Graph::new();
    for (module, code) in &sources {
        if module == "crate" {
            continue;
        }
        let edges = graph.entry(module.clone()).or_default();
        for (a, b) in references(module, code) {
            let target = match b {
                Some(b) if names.contains(format!("{a}::{b}").as_str()) => format!("{a}::{b}"),
                _ if names.contains(a.as_str()) => a,
                _ => continue,
            };
            if &target != module {
                edges.insert(target);
            }
        }
    }
    graph
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// `sync/run.rs` -> `sync::run`, `sync/mod.rs` -> `sync`, `lib.rs` -> `crate`.
fn module_name(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).expect("a file under src");
    let name = relative
        .with_extension("")
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "::");
    match name.strip_suffix("::mod") {
        Some(parent) => parent.to_owned(),
        None if name == "lib" => "crate".to_owned(),
        None => name,
    }
}

/// The code before the unit tests, without `//` comments.
fn non_test_code(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        code.push_str(line.split("//").next().unwrap_or_default());
        code.push('\n');
    }
    code
}

/// The `(a, Some(b))` of every `crate::a::b` (and `super::a`, resolved
/// against `module`'s parent) in `code`.
fn references(module: &str, code: &str) -> Vec<(String, Option<String>)> {
    let mut refs = Vec::new();
    for rest in after(code, "crate::") {
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find("};").unwrap_or(group.len())];
            refs.extend(top_level_items(inner).into_iter().map(path_head));
        } else {
            refs.push(path_head(rest));
        }
    }
    let parent = module.rsplit_once("::").map(|(p, _)| p);
    for rest in after(code, "super::") {
        let (name, _) = path_head(rest);
        if name.is_empty() {
            continue;
        }
        let target = match parent {
            Some(p) => format!("{p}::{name}"),
            None => name,
        };
        refs.push((target, None));
    }
    refs
}

/// The text after each occurrence of `prefix` that starts a path (is not
/// the tail of a longer identifier).
fn after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .filter(|(at, _)| {
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(at, _)| &code[at + prefix.len()..])
        .collect()
}

/// The items of a `{a, b::{c, d}, e}` list, split at the top-level commas.
fn top_level_items(list: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(list[start..].trim());
    items.retain(|item| !item.is_empty());
    items
}

/// The first one or two identifiers of a path: `a::b::c` -> `(a, Some(b))`.
fn path_head(path: &str) -> (String, Option<String>) {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let first = ident(path);
    let second = path[first.len()..]
        .strip_prefix("::")
        .map(ident)
        .filter(|s| !s.is_empty());
    (first, second)
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w]));
                } else if self.stack.contains(&w) {
                    self.low.insert(v, self.low[v].min(self.index[w]));
                }
            }
            if self.low[v] == self.index[v] {
                let at = self.stack.iter().rposition(|m| *m == v).unwrap_or(0);
                let mut component: Vec<String> =
                    self.stack.drain(at..).map(str::to_owned).collect();
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.found
}

fn describe(graph: &Graph) -> String {
    graph
        .iter()
        .flat_map(|(a, bs)| bs.iter().map(move |b| format!("  {a} -> {b}")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_parser_reads_paths_groups_and_super() {
    let code = "use crate::a::b;\nuse crate::{c, d::{e, f}};\nuse super::g;\n// crate::h\n";
    let refs = references("x::y", &non_test_code(code));
    let names: Vec<(&str, Option<&str>)> = refs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("a", Some("b")), ("c", None), ("d", None), ("x::g", None)]
    );
}
