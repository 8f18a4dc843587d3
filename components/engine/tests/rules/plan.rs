//! The plan of a run (`plan` in `sync/start.rs`), step by step, as the
//! preview shows it: the domains verified, the groups resolved, the changes
//! since the last completed run.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::testing::only_domains;

fn preview(env: &Env) -> Preview {
    block(env.engine().preview(ORG, &env.dir, &env.tenant)).expect("preview")
}

#[test]
fn verify_domains_syncs_only_selected_domains_verified_in_entra_and_warns_about_the_others() {
    let env = Env::new();
    env.tenant
        .domain("Contoso.com", true)
        .domain("fabrikam.com", false)
        .domain("northwind.com", true);
    env.save(SettingsInput {
        domains: only_domains(&["contoso.com", "fabrikam.com", "tailspin.com"]),
        ..unguarded(UserScope::AllUsersAndGroups)
    });
    let p = preview(&env);
    let domains: Vec<(&str, bool, bool)> = p
        .domains
        .iter()
        .map(|d| (d.name.as_str(), d.selected, d.will_sync))
        .collect();
    assert_eq!(
        domains,
        [
            ("contoso.com", true, true),
            ("fabrikam.com", true, false),
            ("northwind.com", false, false),
        ],
        "by name, lower case"
    );
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("fabrikam.com is not verified in Entra ID"));
    assert!(p.warnings[1].contains("tailspin.com is not in the tenant"));
}

#[test]
fn resolve_roots_keeps_previously_synced_groups_when_the_settings_say_so() {
    let env = Env::new();
    small_tenant(&env.tenant);
    env.save_groups(&["eng"], false, false);
    assert_eq!(env.sync(), RunResult::Completed);

    env.save_groups(&["sales", "gone"], false, true);
    let p = preview(&env);
    let groups: Vec<(&str, Option<&str>, bool)> = p
        .groups
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.display_name.as_deref(),
                g.kept_from_previous,
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("sales", Some("Sales"), false),
            ("gone", None, false),
            ("eng", Some("Engineering"), true),
        ]
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("group gone does not exist"))
    );
    assert!(
        p.changes.groups_removed.is_empty(),
        "a kept group is not dropped"
    );
}

#[test]
fn changes_since_last_run_are_none_before_the_first_sync() {
    let env = Env::new();
    small_tenant(&env.tenant);
    env.save_groups(&["eng"], false, false);
    let p = preview(&env);
    assert_eq!(p.changes, Changes::default());
    assert!(!p.all_users_and_groups);
}
