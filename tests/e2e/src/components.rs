//! What a built Spin component imports and exports, read from its binary,
//! so the suite can check without Spin that each component asks only for
//! interfaces Spin 4.0 provides and exports what its trigger calls.

use std::path::Path;

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload};

/// The top-level imports and exports of a component.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct World {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path} is not a WebAssembly component: {message}")]
    Parse { path: String, message: String },
}

/// The WASI 0.3 release candidate Spin 4.0 implements (and spin-sdk 6
/// targets): components must use exactly this one.
pub const WASI_P3_RC: &str = "0.3.0-rc-2026-03-15";

/// Interface packages the Spin 4.0 runtime serves to any component.
const SPIN_PROVIDES: [&str; 10] = [
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
    "wasi:http/",
    "wasi:keyvalue/",
    "spin:key-value/",
    "spin:variables/",
];

impl World {
    /// Reads the component at `path`.
    pub fn read(path: &Path) -> Result<World, WorldError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| WorldError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let parse = |e: wasmparser::BinaryReaderError| WorldError::Parse {
            path: shown.clone(),
            message: e.to_string(),
        };
        let mut world = World::default();
        // Nested modules and components have their own imports; only the
        // outermost component's (depth 1) face the host.
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(&bytes) {
            match payload.map_err(parse)? {
                Payload::Version { encoding, .. } => {
                    if depth == 0 && encoding != Encoding::Component {
                        return Err(WorldError::Parse {
                            path: shown,
                            message: "a core module, not a component".into(),
                        });
                    }
                    depth += 1;
                }
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 1 => {
                    for import in reader {
                        let import = import.map_err(parse)?;
                        // Imported types (e.g. the cron trigger's `metadata`)
                        // are aliases of an imported interface's types.
                        if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                            world.imports.push(import.name.full_name().into_owned());
                        }
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 1 => {
                    for export in reader {
                        world
                            .exports
                            .push(export.map_err(parse)?.name.full_name().into_owned());
                    }
                }
                _ => {}
            }
        }
        Ok(world)
    }

    /// Imports the Spin 4.0 host does not provide (`extra` lists the
    /// trigger-specific ones allowed for this component, e.g. the cron
    /// trigger's types). WASI 0.3 imports must be the release candidate
    /// Spin implements.
    pub fn unprovided_imports(&self, extra: &[&str]) -> Vec<String> {
        self.imports
            .iter()
            .filter(|name| {
                let known = SPIN_PROVIDES.iter().any(|p| name.starts_with(p))
                    || extra.contains(&name.as_str());
                let wrong_rc = name.contains("@0.3.") && !name.ends_with(&format!("@{WASI_P3_RC}"));
                !known || wrong_rc
            })
            .cloned()
            .collect()
    }
}
