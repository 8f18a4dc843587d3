//! The domain rules, each as a user would state it: only verified domains
//! sync, and a domain belongs to one organization.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::testing::{groups, guest, only_domains, user};

#[test]
fn only_domains_verified_in_entra_are_claimed_and_named_ones_match_any_case() {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant.domain("northwind.com", true);
    env.save(SettingsInput {
        domains: only_domains(&["CONTOSO.com", "fabrikam.com"]),
        ..unguarded(UserScope::AllUsersAndGroups)
    });
    let c = env.start().unwrap();
    assert!(
        c.preview
            .warnings
            .iter()
            .any(|w| w.contains("fabrikam.com") && w.contains("not verified"))
    );
    env.run_to_end(Budget::default());
    let claimed: Vec<String> = block(env.engine().claimed_domains(ORG))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        claimed,
        ["contoso.com"],
        "unverified fabrikam and unselected northwind are not claimed"
    );
}

#[test]
fn users_sync_only_from_verified_domains_but_guests_always_sync() {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant
        .put_user(guest("guest-1", "pat@gmail.com", "contoso.onmicrosoft.com"));
    let mut by_ext = user("guest-2", "kim_outlook.com#EXT#@fabrikam.com");
    by_ext.user_type = Some("Member".into());
    env.tenant.put_user(by_ext);
    env.tenant
        .add_user_to("ops", "guest-1")
        .add_user_to("ops", "guest-2");
    env.save_groups(&["eng"], false, false);
    env.sync();
    let synced = env.synced_user_ids();
    assert!(synced.contains(&"guest-1".to_string()) && synced.contains(&"guest-2".to_string()));
    assert!(
        !synced.contains(&"b00000".to_string()),
        "fabrikam.com is not verified"
    );
    assert!(
        env.find_user("b00000").is_none(),
        "never synced: no account"
    );
    assert_eq!(env.last_summary().counts.skipped_unverified_domain, 1);
}

#[test]
fn the_preview_lists_domains_added_and_removed_since_the_last_sync() {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant.domain("northwind.com", true);
    env.save(SettingsInput {
        domains: only_domains(&["contoso.com"]),
        ..unguarded(groups(&["eng"]))
    });
    env.sync();
    env.save(SettingsInput {
        domains: only_domains(&["northwind.com"]),
        ..unguarded(groups(&["eng"]))
    });
    let changes = block(env.engine().preview(ORG, &env.dir, &env.tenant))
        .unwrap()
        .changes;
    assert_eq!(changes.domains_added, ["northwind.com"]);
    assert_eq!(changes.domains_removed, ["contoso.com"]);
    assert!(changes.groups_added.is_empty() && changes.groups_removed.is_empty());
}

/// A second organization, Globex, with a tenant that also verified
/// contoso.com (two users there) and its own globex.com (one user), all in
/// one selected group.
fn connect_globex(env: &Env) -> (engine::testing::MemoryTenant, String) {
    let e = env.engine();
    block(e.create_org("globex", "Globex", vec![7])).unwrap();
    let tenant = engine::testing::MemoryTenant::new();
    tenant
        .domain("contoso.com", true)
        .domain("globex.com", true);
    tenant.put_users(people("c", 2, "contoso.com"));
    tenant.put_users(people("g", 1, "globex.com"));
    tenant
        .put_group("all", "Everyone")
        .add_user_to("all", "c00000")
        .add_user_to("all", "c00001")
        .add_user_to("all", "g00000");
    let dir = block(e.connect_directory(
        "globex",
        NewDirectory {
            name: "Globex".into(),
            tenant_id: "tenant-globex".into(),
            client_id: "client-globex".into(),
            sealed_secret: vec![1],
        },
    ))
    .unwrap()
    .id;
    let input = unguarded(groups(&["all"]));
    block(e.save_settings("globex", dir.as_str(), input, None)).unwrap();
    (tenant, dir.to_string())
}

/// Runs Globex's started sync to its end; returns its summary.
fn finish_globex(env: &Env, tenant: &engine::testing::MemoryTenant, dir: &str) -> RunSummary {
    let e = env.engine();
    let done = block(e.advance("globex", dir, tenant, &env.mailer, Budget::default())).unwrap();
    assert!(matches!(
        done,
        AdvanceOutcome::Finished {
            result: RunResult::Completed,
            ..
        }
    ));
    block(e.sync_history("globex", dir)).unwrap().remove(0)
}

fn claimed(env: &Env, org: &str) -> Vec<String> {
    block(env.engine().claimed_domains(org))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect()
}

const CLAIMED_ELSEWHERE: &str = "verified by another organization";

#[test]
fn a_domain_verified_in_another_organization_is_not_claimed_and_its_users_are_skipped() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    assert_eq!(claimed(&env, ORG), ["contoso.com"]);
    let (other, dir) = connect_globex(&env);
    let e = env.engine();
    let sync_globex = || {
        block(e.start_sync("globex", &dir, &other, Trigger::Manual)).unwrap();
        finish_globex(&env, &other, &dir)
    };

    // The preview says why contoso.com will not be verified.
    let preview = block(e.preview("globex", &dir, &other)).unwrap();
    let contoso = preview
        .domains
        .iter()
        .find(|d| d.name == "contoso.com")
        .unwrap();
    assert!(contoso.verified_in_entra && contoso.claimed_by_another_org && !contoso.will_sync);
    assert!(
        preview
            .warnings
            .iter()
            .any(|w| w.contains(CLAIMED_ELSEWHERE))
    );

    // The run claims globex.com only; contoso.com users are skipped.
    let summary = sync_globex();
    assert!(
        summary
            .log
            .iter()
            .any(|l| l.message.contains(CLAIMED_ELSEWHERE))
    );
    assert_eq!(summary.counts.skipped_unverified_domain, 2);
    assert_eq!(summary.counts.domains_claimed, ["globex.com"]);
    assert_eq!(claimed(&env, "globex"), ["globex.com"]);
    assert_eq!(
        claimed(&env, ORG),
        ["contoso.com"],
        "the first claim stands"
    );
    let accounts: Vec<String> = block(e.list_users("globex", None, 50))
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(accounts, ["g00000"]);

    // Once the first organization no longer verifies it, Globex can.
    env.save(SettingsInput {
        domains: only_domains(&["fabrikam.com"]),
        ..unguarded(groups(&["eng"]))
    });
    env.clock.advance(HOUR);
    env.sync();
    assert!(claimed(&env, ORG).is_empty());
    env.clock.advance(HOUR);
    let summary = sync_globex();
    assert_eq!(
        summary.counts.domains_claimed,
        ["contoso.com", "globex.com"]
    );
    assert_eq!(summary.counts.users_created, 2);
}

#[test]
fn a_domain_claimed_elsewhere_while_a_sync_runs_is_not_claimed_by_it() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    let (other, dir) = connect_globex(&env);
    // Globex starts while contoso.com is free; Acme's sync claims it first.
    block(
        env.engine()
            .start_sync("globex", &dir, &other, Trigger::Manual),
    )
    .unwrap();
    env.sync();
    let summary = finish_globex(&env, &other, &dir);
    assert!(
        summary
            .log
            .iter()
            .any(|l| l.message.contains(CLAIMED_ELSEWHERE))
    );
    assert_eq!(summary.counts.domains_claimed, ["globex.com"]);
    assert_eq!(summary.counts.skipped_unverified_domain, 2);
    assert_eq!(claimed(&env, ORG), ["contoso.com"]);
    assert_eq!(claimed(&env, "globex"), ["globex.com"]);
}
