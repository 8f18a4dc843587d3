//! The sync rules, each as a user would state it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]
mod common;
use common::*;
use engine::ports::{SkippedKind, SourceError};
use engine::testing::{groups, only_domains};
use engine::testing::{guest, user};
use engine::*;

/// contoso.com verified, fabrikam.com not; group `eng` (a0-a2) with nested
/// `ops` (a3, a4 and b0 on the unverified domain).
fn small_tenant(env: &Env) {
    env.tenant
        .domain("Contoso.com", true)
        .domain("fabrikam.com", false);
    env.tenant.put_users(people("a", 6, "contoso.com"));
    env.tenant.put_users(people("b", 2, "fabrikam.com"));
    env.tenant
        .put_group("eng", "Engineering")
        .put_group("ops", "Operations");
    for u in ["a00000", "a00001", "a00002"] {
        env.tenant.add_user_to("eng", u);
    }
    for u in ["a00003", "a00004", "b00000"] {
        env.tenant.add_user_to("ops", u);
    }
    env.tenant.nest("eng", "ops");
}

#[test]
fn save_and_sync_later_keeps_automatic_syncing_off_and_sync_turns_it_on() {
    let env = Env::new();
    small_tenant(&env);
    let v1 = block(env.engine().get_settings(ORG, &env.dir)).unwrap();
    assert!(
        !v1.settings.auto_sync,
        "a new directory does not sync automatically"
    );
    env.save_groups(&["eng"], false, false);
    let saved = block(env.engine().get_settings(ORG, &env.dir)).unwrap();
    assert!(!saved.settings.auto_sync);
    assert!(saved.version > v1.version, "every save bumps the version");

    let confirmation = env.start().unwrap();
    assert!(confirmation.auto_sync);
    assert!(
        block(env.engine().get_settings(ORG, &env.dir))
            .unwrap()
            .settings
            .auto_sync
    );

    // Saving again (e.g. after switching it off) leaves it as it is.
    block(env.engine().set_auto_sync(ORG, &env.dir, false)).unwrap();
    env.save_groups(&["eng", "ops"], false, false);
    assert!(
        !block(env.engine().get_settings(ORG, &env.dir))
            .unwrap()
            .settings
            .auto_sync
    );
}

#[test]
fn a_stale_settings_version_is_refused() {
    let env = Env::new();
    let current = block(env.engine().get_settings(ORG, &env.dir)).unwrap();
    let input = SettingsInput {
        send_email: true,
        ..unguarded(UserScope::AllUsersAndGroups)
    };
    let saved =
        block(
            env.engine()
                .save_settings(ORG, &env.dir, input.clone(), Some(current.version)),
        )
        .unwrap();
    let err = block(
        env.engine()
            .save_settings(ORG, &env.dir, input, Some(current.version)),
    )
    .unwrap_err();
    assert!(
        matches!(err, EngineError::PreconditionFailed { current, .. } if current == saved.version)
    );
}

#[test]
fn sync_confirms_the_groups_and_domains_and_the_changes_since_the_last_sync() {
    let env = Env::new();
    small_tenant(&env);
    env.tenant.put_group("sales", "Sales");
    env.save_groups(&["eng", "missing-group"], false, false);
    let c = env.start().unwrap();
    assert_eq!(
        c.preview
            .groups
            .iter()
            .map(|g| g.display_name.clone())
            .collect::<Vec<_>>(),
        [Some("Engineering".into()), None]
    );
    let to_sync: Vec<&str> = c
        .preview
        .domains
        .iter()
        .filter(|d| d.will_sync)
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(to_sync, ["contoso.com"]);
    assert!(
        c.preview
            .warnings
            .iter()
            .any(|w| w.contains("missing-group"))
    );
    assert!(c.notice.contains("cannot be stopped"));
    env.run_to_end(Budget::default());

    env.save_groups(&["sales"], false, false);
    let preview = block(env.engine().preview(ORG, &env.dir, &env.tenant)).unwrap();
    // The confirmation names the groups: from the tenant for the added one,
    // from the stored records for the removed one.
    let named = |refs: &[GroupRef]| -> Vec<(String, Option<String>)> {
        refs.iter()
            .map(|g| (g.id.clone(), g.display_name.clone()))
            .collect()
    };
    assert_eq!(
        named(&preview.changes.groups_added),
        [("sales".to_owned(), Some("Sales".to_owned()))]
    );
    assert_eq!(
        named(&preview.changes.groups_removed),
        [("eng".to_owned(), Some("Engineering".to_owned()))]
    );
    assert!(preview.changes.domains_removed.is_empty());
}

#[test]
fn a_running_sync_cannot_be_started_again_or_stopped() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    let run = env.start().unwrap().run_id;
    let again = env.start().unwrap_err();
    assert!(
        matches!(again, EngineError::Conflict(ConflictReason::RunInProgress { run_id }) if run_id == run)
    );
    let stop = block(env.engine().stop_sync(ORG, &env.dir)).unwrap_err();
    assert!(matches!(
        stop,
        EngineError::Conflict(ConflictReason::CannotStop)
    ));
    assert!(stop.to_string().contains("cannot be stopped"));
    env.run_to_end(Budget::default());
    assert!(env.start().is_ok(), "once finished, a new sync can start");
}

#[test]
fn setting_edits_during_a_run_apply_to_the_next_run() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["ops"], false, false);
    env.start().unwrap();
    env.save_groups(&["eng"], false, false);
    env.run_to_end(Budget::default());
    assert_eq!(
        env.synced_user_ids(),
        ["a00003", "a00004"],
        "the run used the settings it started with"
    );
    env.sync();
    assert_eq!(
        env.synced_user_ids(),
        ["a00000", "a00001", "a00002", "a00003", "a00004"]
    );
}

#[test]
fn only_domains_verified_in_entra_are_claimed_and_named_ones_match_any_case() {
    let env = Env::new();
    small_tenant(&env);
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
    small_tenant(&env);
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

#[test]
fn a_group_over_10000_users_is_not_synced_and_the_others_go_on() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 10_001, "contoso.com"));
    env.tenant
        .put_group("huge", "Everyone")
        .put_group("small", "Small");
    env.tenant
        .add_users_to("huge", (0..10_001).map(|i| format!("u{i:05}")));
    env.tenant.add_user_to("small", "u00007");
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
    env.tenant
        .domain("contoso.com", true)
        .domain("fabrikam.com", false);
    env.tenant.put_users(people("u", 10_001, "contoso.com"));
    env.tenant.put_users(people("b", 2, "fabrikam.com"));
    env.tenant
        .put_group("huge", "Everyone")
        .put_group("small", "Small");
    env.tenant
        .add_users_to("huge", (0..10_001).map(|i| format!("u{i:05}")));
    env.tenant
        .add_user_to("small", "u00007")
        .add_user_to("small", "b00000")
        .add_user_to("small", "b00001");
    env.save_groups(&["huge", "small"], false, false);
    env.sync();

    // The directory lists accounts only.
    let users = env.users();
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u00007"]
    );
    assert!(users[0].synced && users[0].created_at > 0);
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
    env.clock.advance_ms(HOUR);
    env.sync();
    let left = env.find_user("u00007").expect("still an account");
    assert!(!left.synced && left.created_at > 0);
    assert_eq!(env.users().len(), 1);
}

#[test]
fn new_accounts_get_one_welcome_email_only_when_the_setting_is_on() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["ops"], false, false);
    env.sync();
    assert!(env.mailer.addresses().is_empty(), "setting off: no email");
    assert!(env.emails().is_empty());

    env.save_groups(&["eng"], true, false);
    env.clock.advance_ms(HOUR);
    env.sync();
    // a3, a4 had accounts already; a0-a2 are new.
    assert_eq!(
        env.mailer.addresses(),
        ["a0@contoso.com", "a1@contoso.com", "a2@contoso.com"]
    );
    assert!(env.emails().iter().all(|e| e.status == EmailStatus::Sent));
    assert_eq!(env.last_summary().counts.users_created, 3);

    env.clock.advance_ms(HOUR);
    env.sync();
    assert_eq!(
        env.mailer.addresses().len(),
        3,
        "never twice for one account"
    );
}

#[test]
fn an_email_that_could_not_be_sent_stays_queued_and_goes_out_later() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["ops"], true, false);
    *env.mailer.fail.lock().unwrap() = true;
    env.sync();
    assert!(env.emails().iter().all(|e| e.status == EmailStatus::Queued));
    *env.mailer.fail.lock().unwrap() = false;
    env.clock.advance_ms(HOUR);
    env.sync();
    assert_eq!(env.mailer.addresses(), ["a3@contoso.com", "a4@contoso.com"]);
}

#[test]
fn billable_users_are_the_distinct_users_of_groups_with_product_access() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    assert!(
        !env.group("eng").product_access,
        "a new group has no access until granted"
    );
    assert_eq!(env.billing().billable_users, 0);
    env.set_access("ops", true).unwrap();
    assert_eq!(env.billing().billable_users, 2);
    env.set_access("eng", true).unwrap();
    assert_eq!(
        env.billing().billable_users,
        5,
        "ops members are counted once"
    );
    env.set_access("ops", false).unwrap();
    assert_eq!(env.billing().billable_users, 5);
    assert_eq!(env.billing().synced_users, 5);
    let unknown = env.set_access("no-such-group", true).unwrap_err();
    assert!(matches!(unknown, EngineError::NotFound(_)));
}

#[test]
fn a_dropped_group_loses_product_access_unless_previous_groups_are_kept() {
    let env = Env::new();
    small_tenant(&env);
    env.tenant
        .put_group("sales", "Sales")
        .add_user_to("sales", "a00005");
    env.save_groups(&["eng", "sales"], false, false);
    env.sync();
    env.set_access("sales", true).unwrap();

    // Keep previous groups: sales stays in scope and keeps its access.
    env.save_groups(&["eng"], false, true);
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(env.group("sales").product_access);
    assert!(env.group("sales").synced);

    // Without it, sales is dropped and loses access; its user leaves.
    env.save_groups(&["eng"], false, false);
    env.clock.advance_ms(HOUR);
    env.sync();
    let sales = env.group("sales");
    assert!(!sales.synced && !sales.product_access);
    assert_eq!(env.last_summary().counts.access_removed, ["sales"]);
    assert_eq!(env.billing().billable_users, 0);

    // Synced again later, it needs access granted again.
    env.save_groups(&["eng", "sales"], false, false);
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(env.group("sales").synced && !env.group("sales").product_access);
}

#[test]
fn users_who_leave_the_scope_stay_unsynced_without_memberships() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    env.tenant.remove_user_from("ops", "a00004");
    env.tenant.remove_user("a00003");
    env.clock.advance_ms(HOUR);
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
fn a_run_that_fails_removes_nothing() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let before = env.users();
    env.set_access("ops", true).unwrap();
    env.tenant.remove_user_from("eng", "a00000");
    env.save_groups(&["ops"], false, false);
    env.clock.advance_ms(HOUR);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::Unauthorized {
        code: "invalid_client".into(),
        message: "secret expired".into(),
    }]);
    let result = env.run_to_end(Budget::default());
    assert!(matches!(&result, RunResult::Failed { error } if error.contains("secret expired")));
    assert_eq!(env.users(), before, "nothing removed or changed");
    assert!(env.group("eng").synced);
    assert!(env.group("ops").product_access);
    let summary = env.last_summary();
    assert!(
        summary
            .log
            .iter()
            .any(|e| e.level == LogLevel::Error && e.message.contains("secret expired"))
    );
}

#[test]
fn throttling_makes_the_run_wait_and_resume() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::Throttled {
        retry_after_secs: 30,
    }]);
    let outcome = env.advance(Budget::default()).unwrap();
    let AdvanceOutcome::Progressed {
        waiting_until: Some(until),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(until, T0 + 30_000);
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(status.current.unwrap().waiting_until, Some(until));
    // Too early: nothing happens.
    assert!(matches!(
        env.advance(Budget::default()).unwrap(),
        AdvanceOutcome::Progressed {
            waiting_until: Some(_),
            ..
        }
    ));
    env.clock.set(until);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 5);
}

#[test]
fn saml_is_refused_until_a_sync_has_completed() {
    let env = Env::new();
    small_tenant(&env);
    let config = SamlConfig {
        idp_entity_id: "https://sts.windows.net/tenant-1/".into(),
        sso_url: "https://login.microsoftonline.com/tenant-1/saml2".into(),
        certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----".into(),
    };
    let refused = block(env.engine().put_saml(ORG, config.clone())).unwrap_err();
    assert!(matches!(
        refused,
        EngineError::Conflict(ConflictReason::NoCompletedRun)
    ));
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    assert!(
        block(env.engine().put_saml(ORG, config.clone())).is_err(),
        "a run in progress is not enough"
    );
    env.run_to_end(Budget::default());
    block(env.engine().put_saml(ORG, config.clone())).unwrap();
    assert_eq!(block(env.engine().get_saml(ORG)).unwrap(), Some(config));
}

#[test]
fn automatic_syncing_starts_a_run_4_hours_after_the_last_one_started() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    let tick = || {
        block(
            env.engine()
                .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
        )
        .unwrap()
    };
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: None
        },
        "automatic syncing is off"
    );
    env.sync();
    let started = T0;
    env.clock.set(started + 4 * HOUR - 1);
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: Some(started + 4 * HOUR)
        }
    );
    env.clock.set(started + 4 * HOUR);
    let TickOutcome::Started { run_id, advance } = tick() else {
        panic!("no run started")
    };
    assert_eq!(run_id, 2);
    assert!(matches!(advance, AdvanceOutcome::Finished { .. }));
    assert_eq!(env.last_summary().trigger, Trigger::Scheduled);

    block(env.engine().set_auto_sync(ORG, &env.dir, false)).unwrap();
    env.clock.set(started + 9 * HOUR);
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: None
        }
    );
}

#[test]
fn ticks_advance_a_run_in_progress_and_only_one_invocation_works_at_a_time() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    let store2 = &env.store;
    // Another invocation holds the lease: simulate by advancing with a
    // second engine while the first is mid-run is not possible in one
    // thread, so take the lease through a one-page advance and crash it.
    env.store.fail_write_at(1);
    assert!(
        env.advance(Budget::default()).is_err(),
        "the invocation died after taking the lease"
    );
    let busy = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .unwrap();
    assert!(
        matches!(busy, TickOutcome::Advanced(AdvanceOutcome::Busy { .. })),
        "{busy:?}"
    );
    env.clock.advance_ms(60_001);
    let done = block(Engine::new(store2, &env.clock).tick(
        ORG,
        &env.dir,
        &env.tenant,
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert!(
        matches!(done, TickOutcome::Advanced(AdvanceOutcome::Finished { .. })),
        "{done:?}"
    );
}

#[test]
fn status_shows_the_run_in_progress_and_the_history() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.advance(Budget {
        max_millis: 20_000,
        max_pages: Some(1),
    })
    .unwrap();
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    let current = status.current.unwrap();
    assert_eq!(
        (current.run_id, current.trigger, current.started_at),
        (1, Trigger::Manual, T0)
    );
    assert_eq!(current.counts.pages, 1);
    assert_eq!(status.next_scheduled_at, Some(T0 + 4 * HOUR));
    env.run_to_end(Budget::default());
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert!(status.current.is_none());
    let last = status.last.unwrap();
    assert_eq!(last.result, RunResult::Completed);
    assert_eq!(last.counts.users_created, 5);
}

#[test]
fn all_users_scope_syncs_everyone_and_later_runs_read_only_changes() {
    let env = Env::new();
    small_tenant(&env);
    env.save_all_users(false);
    env.sync();
    assert_eq!(
        env.synced_user_ids().len(),
        6,
        "a0-a5; b* are on an unverified domain"
    );
    assert_eq!(
        env.members("eng"),
        ["a00000", "a00001", "a00002", "a00003", "a00004"]
    );

    // Unchanged tenant: a handful of requests and no shard writes.
    let requests = env.tenant.requests();
    env.store.reset_stats();
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(
        env.tenant.requests() - requests <= 3,
        "{}",
        env.tenant.requests() - requests
    );
    assert!(
        env.store
            .written_keys()
            .iter()
            .all(|k| !k.contains("/users/") && !k.contains("/members/"))
    );
    let unchanged = env.last_summary();
    assert!(unchanged.log[0].message.contains("incremental"));
    let c = &unchanged.counts;
    assert_eq!(
        (
            c.users_unchanged,
            c.users_created,
            c.groups_synced,
            c.skipped_unverified_domain
        ),
        (6, 0, 2, 2)
    );
    assert!(
        env.store.stats().reads < 30,
        "the directory is not even read: {:?}",
        env.store.stats()
    );

    // Changes are picked up from the delta.
    env.tenant
        .put_user(user("a00099", "new@contoso.com"))
        .add_user_to("ops", "a00099");
    env.tenant.remove_user("a00001");
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(env.members("eng").contains(&"a00099".to_string()));
    assert!(!env.user("a00001").synced);
    assert_eq!(env.last_summary().counts.users_created, 1);
}

#[test]
fn an_expired_delta_token_falls_back_to_a_full_run() {
    let env = Env::new();
    small_tenant(&env);
    env.save_all_users(false);
    env.sync();
    env.tenant.put_user(user("a00099", "new@contoso.com"));
    env.clock.advance_ms(HOUR);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::TokenExpired]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    let summary = env.last_summary();
    assert!(summary.log.iter().any(|e| e.message.contains("full run")));
    assert!(env.user("a00099").synced);
    assert_eq!(env.synced_user_ids().len(), 7);
}

#[test]
fn one_organization_never_sees_another() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let e = env.engine();
    block(e.create_org("globex", "Globex", vec![7])).unwrap();
    assert!(matches!(
        block(e.get_directory("globex", &env.dir)).unwrap_err(),
        EngineError::NotFound(_)
    ));
    assert!(matches!(
        block(e.get_user("globex", "a00000")).unwrap_err(),
        EngineError::NotFound(_)
    ));
    assert!(matches!(
        block(e.get_group("globex", "eng")).unwrap_err(),
        EngineError::NotFound(_)
    ));
    assert!(
        block(e.list_users("globex", None, 50))
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        block(e.set_product_access("globex", "eng", true)).unwrap_err(),
        EngineError::NotFound(_)
    ));
    assert_eq!(block(e.billing("globex")).unwrap().synced_users, 0);
    // A crafted id cannot reach outside its org's keys.
    assert!(matches!(
        block(e.get_user("acme/../globex", "a00000")).unwrap_err(),
        EngineError::InvalidId { .. }
    ));
    assert!(matches!(
        block(e.get_user("globex", "../acme")).unwrap_err(),
        EngineError::InvalidId { .. }
    ));
}

#[test]
fn listings_page_through_everything_with_an_opaque_cursor() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 1_200, "contoso.com"));
    env.tenant
        .put_group("all", "All")
        .add_users_to("all", (0..1_200).map(|i| format!("u{i:05}")));
    env.save_groups(&["all"], false, false);
    env.sync();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = block(env.engine().list_users(ORG, cursor.as_deref(), 70)).unwrap();
        assert!(page.items.len() <= 70);
        seen.extend(page.items.into_iter().map(|u| u.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 1_200);
    assert_eq!(env.members("all").len(), 1_200);
    assert!(matches!(
        block(env.engine().list_users(ORG, Some("garbage"), 10)).unwrap_err(),
        EngineError::InvalidId { .. }
    ));
}

#[test]
fn the_scheduler_ticks_every_directory_from_the_index() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let e = env.engine();
    let second = block(e.connect_directory(
        ORG,
        NewDirectory {
            name: "Second".into(),
            tenant_id: "tenant-2".into(),
            client_id: "client-2".into(),
            sealed_secret: vec![1],
        },
    ))
    .unwrap();
    assert_eq!(block(e.directory_index()).unwrap().len(), 2);
    env.clock.advance_ms(4 * HOUR);
    let reports = block(e.tick_all(
        |d: &Directory| {
            if d.id == second.id {
                Err("cannot decrypt the secret")
            } else {
                Ok(&env.tenant)
            }
        },
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert_eq!(reports.len(), 2);
    let outcome = |dir: &str| {
        reports
            .iter()
            .find(|r| r.dir.as_str() == dir)
            .unwrap()
            .outcome
            .clone()
    };
    let first = outcome(&env.dir);
    assert!(
        matches!(first, Ok(TickOutcome::Started { run_id: 2, .. })),
        "{first:?}"
    );
    assert_eq!(
        outcome(second.id.as_str()),
        Err("cannot decrypt the secret".to_string())
    );

    // A minute later the other directory goes first.
    env.clock.advance_ms(60_000);
    let next = block(e.tick_all(
        |_: &Directory| Ok::<_, String>(&env.tenant),
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert_ne!(next[0].dir, reports[0].dir);
}

#[test]
fn a_selected_group_deleted_during_the_sync_is_skipped() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.tenant.remove_group("ops");
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids(), ["a00000", "a00001", "a00002"]);
}

#[test]
fn a_kept_previous_group_deleted_from_the_tenant_loses_its_access() {
    let env = Env::new();
    small_tenant(&env);
    env.tenant
        .put_group("sales", "Sales")
        .add_user_to("sales", "a00005");
    env.save_groups(&["eng", "sales"], false, false);
    env.sync();
    env.set_access("sales", true).unwrap();
    env.save_groups(&["eng"], false, true);
    let preview = block(env.engine().preview(ORG, &env.dir, &env.tenant)).unwrap();
    let kept: Vec<&str> = preview
        .groups
        .iter()
        .filter(|g| g.kept_from_previous)
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(
        kept,
        ["ops", "sales"],
        "every previously synced group, nested ones too"
    );
    env.tenant.remove_group("sales");
    env.clock.advance_ms(HOUR);
    env.sync();
    let sales = env.group("sales");
    assert!(!sales.synced && !sales.product_access);
    assert!(!env.user("a00005").synced);
}

#[test]
fn the_preview_lists_domains_added_and_removed_since_the_last_sync() {
    let env = Env::new();
    small_tenant(&env);
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

#[test]
fn incremental_runs_follow_renames_moves_and_settings_changes() {
    let env = Env::new();
    small_tenant(&env);
    env.tenant.domain("northwind.com", true);
    env.tenant
        .put_user(user("n00000", "nina@northwind.com"))
        .add_user_to("ops", "n00000");
    env.save(SettingsInput {
        domains: only_domains(&["contoso.com"]),
        ..unguarded(UserScope::AllUsersAndGroups)
    });
    env.sync();
    assert!(env.find_user("n00000").is_none(), "never synced");
    assert!(env.user("a00003").groups.contains(&"eng".to_string()));

    // Changes in the tenant, read through the delta.
    env.tenant.put_group("ops", "Operations EMEA");
    env.tenant.unnest("eng", "ops");
    env.tenant.put_user(user("a00000", "a0@fabrikam.com"));
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(env.last_summary().log[0].message.contains("incremental"));
    assert_eq!(env.group("ops").display_name, "Operations EMEA");
    assert!(env.group("eng").children.is_empty());
    assert_eq!(
        env.user("a00003").groups,
        ["ops"],
        "no longer reachable through eng"
    );
    assert!(!env.user("a00000").synced, "moved to an unverified domain");
    assert_eq!(env.members("eng"), ["a00001", "a00002"]);

    // A settings change makes the next run a full one, with the new domain.
    env.save_all_users(false);
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(env.last_summary().log[0].message.contains("full"));
    assert!(env.user("n00000").synced);
}

#[test]
fn an_org_with_two_directories_lists_and_bills_both() {
    let env = Env::new();
    small_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let e = env.engine();
    let other = engine::testing::MemoryTenant::new();
    other.domain("fabrikam.com", true);
    other.put_users(people("f", 4, "fabrikam.com"));
    other
        .put_group("fab", "Fabrikam")
        .add_users_to("fab", (0..4).map(|i| format!("f{i:05}")));
    let second = block(e.connect_directory(
        ORG,
        NewDirectory {
            name: "Fabrikam".into(),
            tenant_id: "tenant-2".into(),
            client_id: "client-2".into(),
            sealed_secret: vec![1],
        },
    ))
    .unwrap()
    .id;
    let input = unguarded(groups(&["fab"]));
    block(e.save_settings(ORG, second.as_str(), input, None)).unwrap();
    block(e.start_sync(ORG, second.as_str(), &other, Trigger::Manual)).unwrap();
    let done =
        block(e.advance(ORG, second.as_str(), &other, &env.mailer, Budget::default())).unwrap();
    assert!(matches!(
        done,
        AdvanceOutcome::Finished {
            result: RunResult::Completed,
            ..
        }
    ));

    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = block(e.list_users(ORG, cursor.as_deref(), 3)).unwrap();
        ids.extend(
            page.items
                .into_iter()
                .map(|u| (u.directory.to_string(), u.id)),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        ids.len(),
        5 + 4,
        "5 accounts from the first tenant (its unverified user has none), 4 from the second"
    );
    assert_eq!(
        ids.iter()
            .filter(|(d, _)| d.as_str() == second.as_str())
            .count(),
        4
    );
    env.set_access("eng", true).unwrap();
    env.set_access("fab", true).unwrap();
    assert_eq!(env.billing().billable_users, 5 + 4);
    let domains: Vec<String> = block(e.claimed_domains(ORG))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(domains, ["contoso.com", "fabrikam.com"]);
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
    small_tenant(&env);
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
    env.clock.advance_ms(HOUR);
    env.sync();
    assert!(claimed(&env, ORG).is_empty());
    env.clock.advance_ms(HOUR);
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
    small_tenant(&env);
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
