//! Embeds every file under `console/` (the web console, written by hand, no
//! bundler) into the binary, so the Spin component and the local server serve
//! it without a file server. Generates `$OUT_DIR/console_files.rs`: a sorted
//! table of (path relative to `console/`, bytes).

use std::path::{Path, PathBuf};
use std::{env, fs, io};

fn main() -> io::Result<()> {
    let root = cargo_dir("CARGO_MANIFEST_DIR")?.join("console");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        collect(&root, &root, &mut files)?;
    }
    files.sort();
    let mut table = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        table.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    table.push_str("];\n");
    let out = cargo_dir("OUT_DIR")?.join("console_files.rs");
    fs::write(out, table)
}

/// A directory cargo names in the build script's environment.
fn cargo_dir(variable: &str) -> io::Result<PathBuf> {
    env::var_os(variable)
        .map(PathBuf::from)
        .ok_or_else(|| io::Error::other(format!("{variable} is not set (run by cargo?)")))
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Notes, editor droppings and test artefacts are not part of the console.
        if name.starts_with('.') || name == "node_modules" || name.ends_with(".md") {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let relative = relative.to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
    Ok(())
}
