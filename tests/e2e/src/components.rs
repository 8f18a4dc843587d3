//! What a built Spin component imports and exports, read from its binary,
//! and the platforms it must run on, each as a [`Profile`]: the interfaces
//! the host provides and the exports its triggers call. The suite checks
//! every built component against every profile that deploys it, without
//! Spin (which cannot be installed where the suite runs).

use std::path::Path;

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload};

/// The top-level imports and exports of a component, as full names
/// (`wasi:http/types@0.2.0`, `handle-cron-event`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct World {
    /// Imported instances and functions (imported types are left out: they
    /// are aliases of an imported interface's types).
    pub imports: Vec<String>,
    /// Every export, in the binary's order.
    pub exports: Vec<String>,
}

/// Why a component could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The file could not be read.
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    /// The file is not a well-formed component.
    #[error("{path} is not a WebAssembly component: {message}")]
    Parse { path: String, message: String },
}

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
}

/// Which versions of an interface a host provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// Any release `major.minor.*`, no pre-release. Spin's runtime
    /// (wasmtime's component `Linker`) resolves an import by its
    /// semver-compatible name, so `wasi:io/poll@0.2.12` (what Rust's
    /// `wasm32-wasip2` std imports) binds to the host's 0.2 definition; the
    /// items used (here only WASI 0.2.0 ones) are then type-checked.
    Compatible { major: u64, minor: u64 },
    /// Exactly this version (drafts and release candidates:
    /// `0.2.0-draft2`, `0.3.0-rc-2026-03-15`).
    Exact(&'static str),
}

impl Versions {
    fn admits(self, version: &str) -> bool {
        match self {
            Versions::Exact(exact) => version == exact,
            Versions::Compatible { major, minor } => {
                let mut parts = version.split('.').map(str::parse::<u64>);
                matches!(
                    (parts.next(), parts.next(), parts.next(), parts.next()),
                    (Some(Ok(ma)), Some(Ok(mi)), Some(Ok(_)), None) if ma == major && mi == minor
                )
            }
        }
    }
}

/// Interfaces a host provides: every interface of a package
/// (`interfaces` ends with `/`: `wasi:http/`) or one interface
/// (`wasi:keyvalue/store`), in the given versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provided {
    /// `namespace:package/` (every interface) or `namespace:package/name`.
    pub interfaces: &'static str,
    /// The versions of them the host serves.
    pub versions: Versions,
}

impl Provided {
    /// Whether the import `name` (`namespace:package/interface@version`)
    /// is one of these. An unversioned import never is.
    pub fn covers(&self, name: &str) -> bool {
        let Some((interface, version)) = name.split_once('@') else {
            return false;
        };
        let named = if self.interfaces.ends_with('/') {
            interface.starts_with(self.interfaces)
        } else {
            interface == self.interfaces
        };
        named && self.versions.admits(version)
    }
}

/// How Spin starts a component: the trigger named in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    /// `[[trigger.http]]`: Spin's own HTTP trigger.
    Http,
    /// `[[trigger.cron]]`: the trigger-cron plugin.
    Cron,
}

/// What one trigger of a platform asks of a component: the exports it
/// calls, and what the runtime behind it provides (a trigger plugin
/// brings its own runtime: trigger-cron 0.4.2 embeds Spin 3.6.3's).
#[derive(Debug, Clone, Copy)]
pub struct Trigger {
    /// Which trigger this is.
    pub kind: TriggerKind,
    /// Every one must be among the component's exports.
    pub exports: &'static [&'static str],
    /// The component's imports must all be covered by these (layers: the
    /// WASI 0.2 base, then what the host adds).
    pub provides: &'static [&'static [Provided]],
}

/// A platform the app is deployed on: its triggers, and which manifest
/// deploys there (so which components it runs).
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// The platform, as the README's deployment table names it.
    pub name: &'static str,
    /// Repository-relative path of the manifest deployed there.
    pub manifest: &'static str,
    /// The triggers it runs; a component whose trigger is not here cannot
    /// be deployed there.
    pub triggers: &'static [Trigger],
}

/// A reason a component cannot run on a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    /// The platform does not run this trigger at all.
    #[error("{profile} has no {trigger:?} trigger")]
    NoTrigger {
        profile: &'static str,
        trigger: TriggerKind,
    },
    /// An import the runtime behind the trigger does not serve.
    #[error("{profile} does not provide the import {import}")]
    Unprovided {
        profile: &'static str,
        import: String,
    },
    /// An export the trigger calls is missing.
    #[error("{profile}'s {trigger:?} trigger calls {export}, which is not exported")]
    MissingExport {
        profile: &'static str,
        trigger: TriggerKind,
        export: &'static str,
    },
}

impl Profile {
    /// Every reason `world`, started by `trigger`, cannot run here (empty:
    /// it fits).
    pub fn misfits(&self, world: &World, trigger: TriggerKind) -> Vec<Misfit> {
        let Some(host) = self.triggers.iter().find(|t| t.kind == trigger) else {
            return vec![Misfit::NoTrigger {
                profile: self.name,
                trigger,
            }];
        };
        let unprovided = world
            .imports
            .iter()
            .filter(|name| {
                !host
                    .provides
                    .iter()
                    .flat_map(|l| l.iter())
                    .any(|p| p.covers(name))
            })
            .map(|name| Misfit::Unprovided {
                profile: self.name,
                import: name.clone(),
            });
        let missing = host
            .exports
            .iter()
            .filter(|export| !world.exports.iter().any(|e| e == *export))
            .map(|&export| Misfit::MissingExport {
                profile: self.name,
                trigger,
                export,
            });
        unprovided.chain(missing).collect()
    }
}

/// `interfaces` in any WASI 0.2 release.
const fn wasi_0_2(interfaces: &'static str) -> Provided {
    Provided {
        interfaces,
        versions: Versions::Compatible { major: 0, minor: 2 },
    }
}

const fn exact(interfaces: &'static str, version: &'static str) -> Provided {
    Provided {
        interfaces,
        versions: Versions::Exact(version),
    }
}

/// WASI 0.2, which every host here serves.
const WASI_0_2: &[Provided] = &[
    wasi_0_2("wasi:cli/"),
    wasi_0_2("wasi:io/"),
    wasi_0_2("wasi:clocks/"),
    wasi_0_2("wasi:random/"),
    wasi_0_2("wasi:filesystem/"),
    wasi_0_2("wasi:sockets/"),
    wasi_0_2("wasi:http/"),
];

/// Spin's own interfaces (key-value, variables, ...), on every host.
const FERMYON_SPIN_2: &[Provided] = &[exact("fermyon:spin/", "2.0.0")];

/// `wasi:config`, served by Spin runtimes (not listed by the hosted
/// platforms).
const WASI_CONFIG: &[Provided] = &[exact("wasi:config/store", "0.2.0-draft-2024-09-27")];

/// The Spin 3.6 host: WASI 0.2, the `fermyon:spin` 2.0.0
/// interfaces, `wasi:keyvalue` draft 2 (store, atomics, batch) and
/// `wasi:config`. Source: the world `spin:up/platform@3.6.0` in spin-sdk
/// 5.2.0's `wit/world.wit` (the SDK for Spin 3.6), and the Spin 3.6.3
/// runtime that both containerd-shim-spin 0.24.0 and trigger-cron 0.4.2
/// embed.
const SPIN_3_6: &[&[Provided]] = &[
    WASI_0_2,
    FERMYON_SPIN_2,
    WASI_CONFIG,
    &[exact("wasi:keyvalue/", "0.2.0-draft2")],
];

/// The Spin 4.0 host: everything of Spin 3.6, and the WASI 0.3 release
/// candidate `0.3.0-rc-2026-03-15`. `wasi:keyvalue/atomics` is left out on
/// purpose: Spin 4.0.2's swap over Redis is broken, so nothing may rely on
/// it (store and batch stay).
const SPIN_4_0: &[&[Provided]] = &[
    WASI_0_2,
    FERMYON_SPIN_2,
    WASI_CONFIG,
    &[
        exact("wasi:keyvalue/store", "0.2.0-draft2"),
        exact("wasi:keyvalue/batch", "0.2.0-draft2"),
        exact("wasi:cli/", "0.3.0-rc-2026-03-15"),
        exact("wasi:clocks/", "0.3.0-rc-2026-03-15"),
        exact("wasi:random/", "0.3.0-rc-2026-03-15"),
        exact("wasi:filesystem/", "0.3.0-rc-2026-03-15"),
        exact("wasi:sockets/", "0.3.0-rc-2026-03-15"),
        exact("wasi:http/", "0.3.0-rc-2026-03-15"),
    ],
];

/// The hosted platforms (Fermyon Cloud, Akamai Functions): WASI 0.2, the
/// `fermyon:spin` 2.0.0 interfaces, and of `wasi:keyvalue` only `store`
/// (neither offers `atomics` nor `batch`).
const HOSTED: &[&[Provided]] = &[
    WASI_0_2,
    FERMYON_SPIN_2,
    &[exact("wasi:keyvalue/store", "0.2.0-draft2")],
];

/// What the HTTP trigger calls on every platform: the WASI 0.2 handler.
const HTTP_EXPORTS: &[&str] = &["wasi:http/incoming-handler@0.2.0"];

/// The cron trigger of trigger-cron 0.4.2: `handle-cron-event` of
/// `fermyon:spin-cron@2.0.0`, whose types the component imports from
/// `cron-types`; the plugin runs the component on its own Spin 3.6.3
/// runtime, under Spin 3.x and 4.0 alike.
const CRON_0_4_2: Trigger = Trigger {
    kind: TriggerKind::Cron,
    exports: &["handle-cron-event"],
    provides: &[
        WASI_0_2,
        FERMYON_SPIN_2,
        WASI_CONFIG,
        &[
            exact("wasi:keyvalue/", "0.2.0-draft2"),
            exact("fermyon:spin-cron/cron-types", "2.0.0"),
        ],
    ],
};

/// The local demo manifest (API, simulator, cron scheduler).
pub const LOCAL_MANIFEST: &str = "spin.toml";
/// The production manifest (the API only).
pub const PRODUCTION_MANIFEST: &str = "deploy/spin.production.toml";

/// Spin 3.6 (`spin up`, self-hosted with Redis) with trigger-cron 0.4.2.
pub const SPIN_3_6_LOCAL: Profile = Profile {
    name: "Spin 3.6 + trigger-cron 0.4.2",
    manifest: LOCAL_MANIFEST,
    triggers: &[
        Trigger {
            kind: TriggerKind::Http,
            exports: HTTP_EXPORTS,
            provides: SPIN_3_6,
        },
        CRON_0_4_2,
    ],
};

/// Spin 4.0 (`spin up`, self-hosted with Redis) with trigger-cron 0.4.2.
pub const SPIN_4_0_LOCAL: Profile = Profile {
    name: "Spin 4.0 + trigger-cron 0.4.2",
    manifest: LOCAL_MANIFEST,
    triggers: &[
        Trigger {
            kind: TriggerKind::Http,
            exports: HTTP_EXPORTS,
            provides: SPIN_4_0,
        },
        CRON_0_4_2,
    ],
};

/// SpinKube: containerd-shim-spin 0.24.0 (Spin 3.6.3), HTTP only (no cron
/// trigger; a Kubernetes CronJob calls the tick).
pub const SPINKUBE: Profile = Profile {
    name: "SpinKube (containerd-shim-spin 0.24, Spin 3.6.3)",
    manifest: PRODUCTION_MANIFEST,
    triggers: &[Trigger {
        kind: TriggerKind::Http,
        exports: HTTP_EXPORTS,
        provides: SPIN_3_6,
    }],
};

/// Fermyon Cloud: HTTP only, no custom triggers.
pub const FERMYON_CLOUD: Profile = Profile {
    name: "Fermyon Cloud",
    manifest: PRODUCTION_MANIFEST,
    triggers: &[Trigger {
        kind: TriggerKind::Http,
        exports: HTTP_EXPORTS,
        provides: HOSTED,
    }],
};

/// Akamai Functions: HTTP only (its cron is a scheduled HTTP call).
pub const AKAMAI_FUNCTIONS: Profile = Profile {
    name: "Akamai Functions",
    manifest: PRODUCTION_MANIFEST,
    triggers: &[Trigger {
        kind: TriggerKind::Http,
        exports: HTTP_EXPORTS,
        provides: HOSTED,
    }],
};

/// Every platform idp-sync is deployed on.
pub const PROFILES: [Profile; 5] = [
    SPIN_3_6_LOCAL,
    SPIN_4_0_LOCAL,
    SPINKUBE,
    FERMYON_CLOUD,
    AKAMAI_FUNCTIONS,
];

/// One component of a manifest: its id, its wasm file (under
/// `target/wasm32-wasip2/release/`) and the trigger that starts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployed {
    /// The component id (`[component.<id>]`).
    pub id: &'static str,
    /// The wasm file name its `source` loads.
    pub file: &'static str,
    /// The trigger that starts it.
    pub trigger: TriggerKind,
}

/// The components each manifest deploys (checked against the manifests'
/// text by the suite).
pub fn deployed(manifest: &str) -> &'static [Deployed] {
    const API: Deployed = Deployed {
        id: "api",
        file: "api.wasm",
        trigger: TriggerKind::Http,
    };
    const ENTRA_SIM: Deployed = Deployed {
        id: "entra-sim",
        file: "entra_sim.wasm",
        trigger: TriggerKind::Http,
    };
    const SCHEDULER: Deployed = Deployed {
        id: "scheduler",
        file: "scheduler.wasm",
        trigger: TriggerKind::Cron,
    };
    match manifest {
        LOCAL_MANIFEST => &[API, SCHEDULER, ENTRA_SIM],
        PRODUCTION_MANIFEST => &[API],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(imports: &[&str], exports: &[&str]) -> World {
        World {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn http_world(extra_import: &str) -> World {
        world(
            &[
                "wasi:io/streams@0.2.0",
                "fermyon:spin/key-value@2.0.0",
                extra_import,
            ],
            &["wasi:http/incoming-handler@0.2.0"],
        )
    }

    #[test]
    fn every_wasi_0_2_release_is_provided_but_no_release_candidate() {
        let http = wasi_0_2("wasi:http/");
        assert!(http.covers("wasi:http/types@0.2.0"));
        assert!(http.covers("wasi:http/outgoing-handler@0.2.12"));
        assert!(!http.covers("wasi:http/types@0.2.0-rc-2023-11-10"));
        assert!(!http.covers("wasi:http/types@0.3.0-rc-2026-03-15"));
        assert!(!http.covers("wasi:httpx/types@0.2.0"));
        assert!(!http.covers("wasi:http/types"));
    }

    #[test]
    fn an_http_component_on_wasi_0_2_with_spin_key_value_fits_every_platform() {
        let api = http_world("wasi:http/outgoing-handler@0.2.0");
        for profile in PROFILES {
            assert_eq!(
                profile.misfits(&api, TriggerKind::Http),
                [],
                "{}",
                profile.name
            );
        }
    }

    #[test]
    fn importing_keyvalue_atomics_fails_fermyon_cloud_and_akamai_functions() {
        let with_atomics = http_world("wasi:keyvalue/atomics@0.2.0-draft2");
        for profile in [FERMYON_CLOUD, AKAMAI_FUNCTIONS] {
            assert_eq!(
                profile.misfits(&with_atomics, TriggerKind::Http),
                [Misfit::Unprovided {
                    profile: profile.name,
                    import: "wasi:keyvalue/atomics@0.2.0-draft2".into(),
                }]
            );
        }
    }

    #[test]
    fn importing_keyvalue_atomics_fails_spin_4_0_whose_redis_swap_is_broken() {
        let with_atomics = http_world("wasi:keyvalue/atomics@0.2.0-draft2");
        assert_eq!(
            SPIN_4_0_LOCAL
                .misfits(&with_atomics, TriggerKind::Http)
                .len(),
            1
        );
    }

    #[test]
    fn importing_a_wasi_0_3_release_candidate_fails_spin_3_6_and_spinkube() {
        let p3 = http_world("wasi:http/types@0.3.0-rc-2026-03-15");
        for profile in [SPIN_3_6_LOCAL, SPINKUBE] {
            assert_eq!(
                profile.misfits(&p3, TriggerKind::Http),
                [Misfit::Unprovided {
                    profile: profile.name,
                    import: "wasi:http/types@0.3.0-rc-2026-03-15".into(),
                }]
            );
        }
        assert_eq!(SPIN_4_0_LOCAL.misfits(&p3, TriggerKind::Http), []);
    }

    #[test]
    fn a_wasi_0_3_handler_is_not_what_the_wasi_0_2_http_trigger_calls() {
        let p3 = world(&[], &["wasi:http/handler@0.3.0-rc-2026-03-15"]);
        assert_eq!(
            SPIN_3_6_LOCAL.misfits(&p3, TriggerKind::Http),
            [Misfit::MissingExport {
                profile: SPIN_3_6_LOCAL.name,
                trigger: TriggerKind::Http,
                export: "wasi:http/incoming-handler@0.2.0",
            }]
        );
    }

    #[test]
    fn the_async_spin_cron_3_world_does_not_fit_trigger_cron_0_4_2() {
        let cron3 = world(&["spin:cron/cron-types@3.0.0"], &["handle-cron-event"]);
        assert_eq!(
            SPIN_3_6_LOCAL.misfits(&cron3, TriggerKind::Cron),
            [Misfit::Unprovided {
                profile: SPIN_3_6_LOCAL.name,
                import: "spin:cron/cron-types@3.0.0".into(),
            }]
        );
    }

    #[test]
    fn platforms_without_a_cron_trigger_refuse_a_cron_component() {
        let cron = world(
            &["fermyon:spin-cron/cron-types@2.0.0"],
            &["handle-cron-event"],
        );
        for profile in [SPINKUBE, FERMYON_CLOUD, AKAMAI_FUNCTIONS] {
            assert_eq!(
                profile.misfits(&cron, TriggerKind::Cron),
                [Misfit::NoTrigger {
                    profile: profile.name,
                    trigger: TriggerKind::Cron,
                }]
            );
        }
        assert_eq!(SPIN_3_6_LOCAL.misfits(&cron, TriggerKind::Cron), []);
        assert_eq!(SPIN_4_0_LOCAL.misfits(&cron, TriggerKind::Cron), []);
    }

    #[test]
    fn a_foreign_import_is_reported() {
        let foreign = http_world("acme:db/query@1.0.0");
        assert_eq!(
            SPIN_4_0_LOCAL.misfits(&foreign, TriggerKind::Http),
            [Misfit::Unprovided {
                profile: SPIN_4_0_LOCAL.name,
                import: "acme:db/query@1.0.0".into(),
            }]
        );
    }
}
