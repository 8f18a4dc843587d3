//! Finalize, step by step (`engine/src/sync/finalize/`): each test names
//! the step and what a user of the directory sees of it, through the
//! public `Engine` API. The removal policy and the user records have unit
//! tests next to their code.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::testing::{groups, only_domains, settings};

/// The small tenant (`common::small_tenant`) in all-users scope, synced
/// once, with the guard off and no emails.
fn all_users_synced() -> Env {
    let env = Env::new();
    small_tenant(&env.tenant);
    env.save_all_users(false);
    assert_eq!(env.sync(), RunResult::Completed);
    env.clock.advance(HOUR);
    env
}

/// The small tenant in group scope (`eng`, with `ops` nested in it, and
/// `sales`), synced once; `sales` has product access.
fn groups_synced() -> Env {
    let env = Env::new();
    small_tenant(&env.tenant);
    env.tenant
        .add_user_to("ops", "a00003")
        .add_user_to("sales", "a00005")
        .nest("eng", "ops");
    env.save_groups(&["eng", "sales"], false, false);
    assert_eq!(env.sync(), RunResult::Completed);
    env.set_access("sales", true).expect("grant");
    env.clock.advance(HOUR);
    env
}

fn claimed_domains(env: &Env) -> Vec<String> {
    let claimed = block(env.engine().claimed_domains(ORG)).expect("claimed domains");
    claimed.into_iter().map(|d| d.name).collect()
}

#[test]
fn claim_step_claims_the_verified_domains_of_the_run_and_counts_them() {
    let env = all_users_synced();
    assert_eq!(claimed_domains(&env), ["contoso.com"]);
    assert_eq!(env.last_summary().counts.domains_claimed, ["contoso.com"]);
    assert!(
        env.find_user("b00000").is_none(),
        "fabrikam.com is not verified: its user gets no account"
    );
}

#[test]
fn resolve_step_syncs_the_selected_groups_and_the_groups_nested_in_them() {
    let env = groups_synced();
    assert_eq!(
        env.synced_user_ids(),
        ["a00000", "a00001", "a00002", "a00003", "a00005"]
    );
    assert!(env.group("ops").synced, "nested in eng");
    assert_eq!(env.last_summary().counts.groups_synced, 3);
}

#[test]
fn users_step_marks_a_user_who_left_the_scope_left_not_deleted() {
    let env = groups_synced();
    env.tenant.remove_user_from("eng", "a00001");
    assert_eq!(env.sync(), RunResult::Completed);
    let user = env.find_user("a00001").expect("the account stays");
    assert!(!user.synced);
    assert!(user.groups.is_empty(), "{:?}", user.groups);
    assert!(!env.members("eng").contains(&"a00001".to_owned()));
    assert_eq!(env.last_summary().counts.users_left_scope, 1);
}

#[test]
fn users_step_counts_created_updated_and_unchanged_users() {
    let env = all_users_synced();
    assert_eq!(env.last_summary().counts.users_created, 9);
    let mut renamed = engine::testing::user("a00002", "a2@contoso.com");
    renamed.display_name = Some("Renamed".into());
    env.tenant
        .put_user(renamed)
        .put_user(engine::testing::user("a00009", "a9@contoso.com"));
    assert_eq!(env.sync(), RunResult::Completed);
    let counts = env.last_summary().counts;
    assert_eq!(
        (
            counts.users_created,
            counts.users_updated,
            counts.users_unchanged
        ),
        (1, 1, 8)
    );
    assert_eq!(env.user("a00002").display_name.as_deref(), Some("Renamed"));
}

#[test]
fn groups_step_records_the_nesting_among_the_synced_groups_and_their_members() {
    let env = groups_synced();
    assert_eq!(env.group("eng").children, ["ops"]);
    assert_eq!(env.group("ops").parents, ["eng"]);
    assert_eq!(
        env.members("eng"),
        ["a00000", "a00001", "a00002", "a00003"],
        "direct and nested members"
    );
    assert_eq!(env.group("eng").member_count, 4);
}

#[test]
fn groups_step_keeps_a_group_that_left_the_tenant_as_not_synced_without_members() {
    let env = all_users_synced();
    env.tenant.remove_group("eng");
    assert_eq!(env.sync(), RunResult::Completed);
    let eng = env.group("eng");
    assert!(!eng.synced);
    assert_eq!(
        eng.not_synced_reason.as_deref(),
        Some("not in the latest sync")
    );
    assert_eq!(eng.member_count, 0);
    assert!(env.user("a00000").groups.is_empty());
}

#[test]
fn access_step_bills_each_user_once_across_the_groups_with_product_access() {
    let env = groups_synced();
    env.set_access("eng", true).expect("grant");
    // a00005 is in both groups with access now.
    env.tenant.add_user_to("eng", "a00005");
    assert_eq!(env.sync(), RunResult::Completed);
    let billing = env.billing();
    assert_eq!((billing.billable_users, billing.groups_with_access), (5, 2));
}

#[test]
fn outbox_step_queues_one_welcome_email_per_new_account_with_a_mailbox() {
    let env = Env::new();
    small_tenant(&env.tenant);
    let mut no_mail = engine::testing::user("a00009", "a9@contoso.com");
    no_mail.mail = None;
    env.tenant.put_user(no_mail);
    env.save_all_users(true);
    assert_eq!(env.sync(), RunResult::Completed);
    let counts = env.last_summary().counts;
    assert_eq!((counts.emails_queued, counts.emails_no_mailbox), (9, 1));
    assert_eq!(env.emails().len(), 9);
    assert_eq!(env.mailer.delivered().len(), 9);

    // A run that creates no account queues nothing.
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);
    assert_eq!(env.last_summary().counts.emails_queued, 0);
    assert_eq!(env.emails().len(), 9);
    assert_eq!(env.mailer.delivered().len(), 9);
}

#[test]
fn policy_step_holds_a_product_access_removal_and_the_removal_step_waits_for_the_admin() {
    let env = groups_synced();
    // The guard on (its default), and `sales` no longer selected.
    env.save(settings(groups(&["eng"])));
    env.start().expect("start");
    env.advance(Budget::default()).expect("advance");
    let status = block(env.engine().sync_status(ORG, &env.dir)).expect("status");
    let held = status.current.expect("held");
    assert_eq!(held.phase, Phase::AwaitingConfirmation);
    let pending = held.pending_removals.expect("pending removals");
    assert!(
        pending
            .described()
            .ends_with(" and 1 group would lose product access"),
        "{}",
        pending.described()
    );
    assert!(env.group("sales").product_access, "nothing revoked yet");
    assert!(env.user("a00005").synced, "nobody un-synced yet");

    block(env.engine().confirm_removals(ORG, &env.dir)).expect("confirm");
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert!(!env.group("sales").product_access);
    assert_eq!(env.last_summary().counts.access_removed, ["sales"]);
}

#[test]
fn removal_step_revokes_the_product_access_of_a_group_no_longer_synced() {
    let env = groups_synced();
    env.save_groups(&["eng"], false, false);
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(!env.group("sales").product_access);
    assert_eq!(env.billing().groups_with_access, 0);
    let summary = env.last_summary();
    assert_eq!(summary.counts.access_removed, ["sales"]);
    let logged = "product access removed from group \"Sales\" (sales): not in the latest sync";
    assert!(summary.log.iter().any(|e| e.message == logged));
}

#[test]
fn removal_step_releases_a_domain_the_directory_no_longer_syncs() {
    let env = Env::new();
    small_tenant(&env.tenant);
    env.tenant
        .domain("northwind.com", true)
        .put_user(engine::testing::user("n00000", "n0@northwind.com"));
    env.save_all_users(false);
    assert_eq!(env.sync(), RunResult::Completed);
    assert_eq!(claimed_domains(&env), ["contoso.com", "northwind.com"]);

    env.save(SettingsInput {
        domains: only_domains(&["contoso.com"]),
        ..unguarded(UserScope::AllUsersAndGroups)
    });
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);
    assert_eq!(claimed_domains(&env), ["contoso.com"]);
    assert!(!env.user("n00000").synced);
}

#[test]
fn commit_writes_state_last_then_deletes_the_base_garbage() {
    let env = all_users_synced();
    let rename = |id: &str, name: &str| {
        let mut u = engine::testing::user(id, &format!("{id}@contoso.com"));
        u.display_name = Some(name.into());
        env.tenant.put_user(u);
    };
    rename("a00002", "Run two");
    assert_eq!(env.sync(), RunResult::Completed);
    let before = env.store.snapshot();
    env.store.reset_stats();
    rename("a00003", "Run three");
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);

    let written = env.store.written_keys();
    let directory_doc = |k: &str| {
        ["/state/", "/users/", "/groups/", "/members/", "/outbox/"]
            .iter()
            .any(|kind| k.contains(kind))
    };
    let state = written
        .iter()
        .position(|k| k.ends_with("/state/3"))
        .expect("run 3 wrote its state");
    assert!(
        written[..state].iter().all(|k| !k.contains("/state/")),
        "no state before the run's own, last: {written:?}"
    );
    let after: Vec<&String> = written[state + 1..]
        .iter()
        .filter(|k| directory_doc(k))
        .collect();
    let now = env.store.snapshot();
    assert!(
        after
            .iter()
            .all(|k| before.contains_key(*k) && !now.contains_key(*k)),
        "after the state, only deletes of documents that existed: {after:?}"
    );
    assert!(after.iter().any(|k| k.ends_with("/state/1")), "{after:?}");
    assert!(
        after
            .iter()
            .any(|k| k.contains("/users/") && k.ends_with(".1")),
        "run 1's user document, replaced by run 2: {after:?}"
    );
}

#[test]
fn an_incremental_run_that_read_no_change_keeps_the_directory_and_its_counts() {
    let env = all_users_synced();
    let users = env.users();
    assert_eq!(env.sync(), RunResult::Completed);
    let counts = env.last_summary().counts;
    assert_eq!((counts.users_unchanged, counts.users_created), (9, 0));
    assert_eq!(counts.domains_claimed, ["contoso.com"]);
    assert_eq!(env.users(), users);
}
