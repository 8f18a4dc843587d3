//! The built components against every platform profile that deploys them
//! (Spin 3.6 and 4.0 with trigger-cron 0.4.2, SpinKube, Fermyon Cloud,
//! Akamai Functions). Needs the wasm build (scripts/test.sh builds it
//! first); says it skipped otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::PathBuf;

use e2e::components::{
    Deployed, LOCAL_MANIFEST, PRODUCTION_MANIFEST, PROFILES, Profile, TriggerKind, World, deployed,
};
use e2e::server::repo_root;

fn built(file: &str) -> Option<PathBuf> {
    let path = repo_root().join("target/wasm32-wasip2/release").join(file);
    path.is_file().then_some(path)
}

fn manifest(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Checks each component `profile` deploys; returns how many were built.
fn check(profile: &Profile) -> usize {
    let mut checked = 0;
    for component in deployed(profile.manifest) {
        let Some(path) = built(component.file) else {
            println!(
                "components: skipped {} on {}: not built (run scripts/test.sh)",
                component.file, profile.name
            );
            continue;
        };
        let world = World::read(&path).unwrap_or_else(|e| panic!("{e}"));
        println!(
            "components: {} ({:?}) on {}: imports {:?}, exports {:?}",
            component.id, component.trigger, profile.name, world.imports, world.exports
        );
        assert_eq!(
            profile.misfits(&world, component.trigger),
            [],
            "{} cannot run on {}",
            component.id,
            profile.name
        );
        checked += 1;
    }
    checked
}

#[test]
fn every_component_fits_every_platform_that_deploys_it() {
    let checked: usize = PROFILES.iter().map(check).sum();
    println!("components: {checked} component/platform pairs fit");
}

#[test]
fn no_component_imports_keyvalue_atomics_or_a_wasi_0_3_release_candidate() {
    for component in deployed(LOCAL_MANIFEST) {
        let Some(path) = built(component.file) else {
            continue;
        };
        let world = World::read(&path).unwrap_or_else(|e| panic!("{e}"));
        for import in &world.imports {
            assert!(
                !import.starts_with("wasi:keyvalue/atomics") && !import.contains("@0.3.0-rc"),
                "{} imports {import}",
                component.id
            );
        }
    }
}

/// The deployment table in `components` must say what the manifests say.
fn assert_deploys(path: &str, components: &[Deployed]) {
    let text = manifest(path);
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("[component."))
        .filter_map(|rest| rest.strip_suffix(']'))
        .filter(|id| !id.contains('.'))
        .collect();
    let expected: Vec<&str> = components.iter().map(|c| c.id).collect();
    assert_eq!(ids, expected, "{path}'s components");
    for component in components {
        let trigger = match component.trigger {
            TriggerKind::Http => "[[trigger.http]]",
            TriggerKind::Cron => "[[trigger.cron]]",
        };
        let declared = text.split(trigger).skip(1).any(|section| {
            section
                .lines()
                .take_while(|line| !line.starts_with('['))
                .any(|line| line.trim() == format!("component = \"{}\"", component.id))
        });
        assert!(declared, "{path}: {} under {trigger}", component.id);
        assert!(
            text.contains(&format!("release/{}\"", component.file)),
            "{path}: {} loads {}",
            component.id,
            component.file
        );
    }
}

#[test]
fn the_local_manifest_deploys_the_api_the_simulator_and_the_cron_scheduler() {
    assert_deploys(LOCAL_MANIFEST, deployed(LOCAL_MANIFEST));
}

#[test]
fn the_production_manifest_deploys_only_the_api_and_no_cron_trigger() {
    assert_deploys(PRODUCTION_MANIFEST, deployed(PRODUCTION_MANIFEST));
    assert!(!manifest(PRODUCTION_MANIFEST).contains("[[trigger.cron]]"));
}
