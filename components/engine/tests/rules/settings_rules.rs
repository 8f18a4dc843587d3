//! The settings rules, each as a user would state it: "Save and sync
//! later", versions, edits during a run.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;

#[test]
fn save_and_sync_later_keeps_automatic_syncing_off_and_sync_turns_it_on() {
    let env = Env::new();
    nested_tenant(&env);
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
fn setting_edits_during_a_run_apply_to_the_next_run() {
    let env = Env::new();
    nested_tenant(&env);
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
