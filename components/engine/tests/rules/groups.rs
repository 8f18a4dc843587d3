//! The group rules, each as a user would state it: nesting flattened,
//! oversized and deleted groups, who is in scope.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::ports::SkippedKind;

#[test]
fn nested_groups_are_flattened_and_the_nesting_is_remembered() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 5, "contoso.com"));
    // top -> left, right; left -> shared; right -> shared (diamond); shared -> top (cycle)
    for g in ["top", "left", "right", "shared"] {
        env.tenant.put_group(g, g);
    }
    env.tenant
        .nest("top", "left")
        .nest("top", "right")
        .nest("left", "shared")
        .nest("right", "shared")
        .nest("shared", "top");
    env.tenant
        .add_user_to("top", "u00000")
        .add_user_to("left", "u00001")
        .add_user_to("right", "u00002");
    env.tenant
        .add_user_to("shared", "u00003")
        .add_user_to("shared", "u00001");
    env.tenant
        .add_other_to("shared", "printer-1", SkippedKind::Device);
    env.save_groups(&["left"], false, false);
    env.sync();
    // left reaches shared, which reaches top (cycle), and so everything.
    assert_eq!(
        env.members("left"),
        ["u00000", "u00001", "u00002", "u00003"]
    );
    assert_eq!(
        env.members("shared"),
        ["u00000", "u00001", "u00002", "u00003"]
    );
    let shared = env.group("shared");
    assert_eq!(shared.parents, ["left", "right"]);
    assert_eq!(shared.children, ["top"]);
    assert_eq!(shared.member_count, 4);
    let u1 = env.user("u00001");
    assert_eq!(u1.groups, ["left", "right", "shared", "top"]);
    let summary = env.last_summary();
    assert_eq!(summary.counts.groups_synced, 4);
    assert_eq!(summary.counts.skipped_non_user_members, 1);
    assert!(
        !env.synced_user_ids().contains(&"u00004".to_string()),
        "not in any selected group"
    );
}

/// contoso.com verified; `huge` holds its 10,001 users (over the limit),
/// `small` one of them (`u00007`).
fn everyone_and_small(env: &Env) {
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 10_001, "contoso.com"));
    env.tenant
        .put_group_with("huge", "Everyone", ids("u", 0..10_001))
        .put_group_with("small", "Small", ids("u", 7..8));
}

#[test]
fn a_group_over_10000_users_is_not_synced_and_the_others_go_on() {
    let env = Env::new();
    everyone_and_small(&env);
    env.save_groups(&["huge", "small"], false, false);
    env.sync();
    let summary = env.last_summary();
    assert_eq!(summary.result, RunResult::Completed);
    let over = &summary.counts.groups_over_limit;
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].id, "huge");
    assert!(over[0].users > 10_000);
    let huge = env.group("huge");
    assert!(!huge.synced);
    assert!(huge.not_synced_reason.unwrap().contains("split"));
    assert!(summary.log.iter().any(|e| e.message.contains("split")));
    assert!(env.group("small").synced);
    assert_eq!(env.synced_user_ids(), ["u00007"]);
}

#[test]
fn users_never_synced_have_no_account_and_the_run_says_why_it_skipped_them() {
    let env = Env::new();
    everyone_and_small(&env);
    env.tenant.domain("fabrikam.com", false);
    env.tenant.put_users(people("b", 2, "fabrikam.com"));
    env.tenant.add_users_to("small", ids("b", 0..2));
    env.save_groups(&["huge", "small"], false, false);
    env.sync();

    // The directory lists accounts only.
    let users = env.users();
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u00007"]
    );
    assert!(users[0].synced && users[0].created_at > engine::ports::Timestamp::UNIX_EPOCH);
    assert!(env.find_user("b00000").is_none(), "unverified domain");
    assert!(env.find_user("u00008").is_none(), "only in the huge group");

    // The run's summary says who was skipped and why.
    let summary = env.last_summary();
    assert_eq!(summary.counts.skipped_unverified_domain, 2);
    assert_eq!(summary.counts.skipped_only_in_unsynced_groups, 10_000);
    let event = |needle: &str| -> String {
        summary
            .log
            .iter()
            .find(|e| e.message.contains(needle))
            .map(|e| e.message.clone())
            .unwrap_or_else(|| panic!("no {needle:?} in {:?}", summary.log))
    };
    let unverified = event("not verified");
    assert!(unverified.starts_with("2 users skipped"), "{unverified}");
    assert!(unverified.contains("b0@fabrikam.com"), "{unverified}");
    let unsynced = event("only in groups that are not synced");
    assert!(unsynced.starts_with("10000 users skipped"), "{unsynced}");
    assert!(unsynced.matches('@').count() <= 5, "a bounded sample");

    // An account that leaves the scope stays listed, not synced.
    env.tenant.remove_user_from("small", "u00007");
    env.clock.advance(HOUR);
    env.sync();
    let left = env.find_user("u00007").expect("still an account");
    assert!(!left.synced && left.created_at > engine::ports::Timestamp::UNIX_EPOCH);
    assert_eq!(env.users().len(), 1);
}

#[test]
fn users_who_leave_the_scope_stay_unsynced_without_memberships() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    env.tenant.remove_user_from("ops", "a00004");
    env.tenant.remove_user("a00003");
    env.clock.advance(HOUR);
    env.sync();
    for id in ["a00003", "a00004"] {
        let u = env.user(id);
        assert!(!u.synced, "{id}");
        assert!(u.groups.is_empty(), "{id}");
    }
    assert!(!env.members("eng").contains(&"a00004".to_string()));
    assert_eq!(env.last_summary().counts.users_left_scope, 2);
}

#[test]
fn a_selected_group_deleted_during_the_sync_is_skipped() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.tenant.remove_group("ops");
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids(), ["a00000", "a00001", "a00002"]);
}

#[test]
fn a_group_with_product_access_growing_over_10000_users_loses_it_and_the_log_says_why() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 10_001, "contoso.com"));
    env.tenant
        .put_group_with("huge", "Everyone", ids("u", 0..10_000));
    env.save_groups(&["huge"], false, false);
    env.sync();
    env.set_access("huge", true).expect("grant");
    env.tenant.add_user_to("huge", "u10000");
    env.clock.advance(HOUR);
    env.save(unguarded(engine::testing::groups(&["huge"])));
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(!env.group("huge").product_access);
    let log = env.last_summary().log;
    let line = log
        .iter()
        .find(|e| e.message.starts_with("product access removed"));
    let line = &line.expect("logged").message;
    assert!(
        line.starts_with(
            "product access removed from group \"Everyone\" (huge): more than 10000 users"
        ),
        "{line}"
    );
}
