//! The organization rules, each as a user would state it: isolation,
//! listings, several directories, SAML gating.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::testing::groups;

#[test]
fn one_organization_never_sees_another() {
    let env = Env::new();
    nested_tenant(&env);
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
fn an_org_with_two_directories_lists_and_bills_both() {
    let env = Env::new();
    nested_tenant(&env);
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

#[test]
fn one_tenant_connected_twice_is_refused_even_when_it_claimed_no_domain() {
    // The selected domain is not verified and the users are guests: the
    // first directory's sync claims nothing.
    let env = Env::new();
    env.tenant
        .domain("contoso.onmicrosoft.com", true)
        .domain("contoso.com", false);
    env.tenant.put_user(engine::testing::guest(
        "guest-1",
        "pat@gmail.com",
        "contoso.onmicrosoft.com",
    ));
    env.tenant
        .put_group_with("eng", "Engineering", ["guest-1".to_owned()]);
    env.save(SettingsInput {
        domains: engine::testing::only_domains(&["contoso.com"]),
        ..unguarded(groups(&["eng"]))
    });
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(block(env.engine().claimed_domains(ORG)).unwrap().is_empty());

    let e = env.engine();
    let again = block(e.connect_directory(
        ORG,
        NewDirectory {
            name: "Contoso again".into(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "client-1".into(),
            sealed_secret: vec![1],
        },
    ))
    .unwrap()
    .id;
    let input = SettingsInput {
        domains: engine::testing::only_domains(&["contoso.com"]),
        ..unguarded(groups(&["eng"]))
    };
    block(e.save_settings(ORG, again.as_str(), input, None)).unwrap();
    let refused = block(e.start_sync(ORG, again.as_str(), &env.tenant, Trigger::Manual));
    let Err(EngineError::Conflict(ConflictReason::TenantAlreadyConnected { directory, domain })) =
        refused
    else {
        panic!("the same tenant twice: {refused:?}");
    };
    assert_eq!(
        (directory, domain),
        (env.dir.clone(), "contoso.onmicrosoft.com".to_owned())
    );
    assert_eq!(env.users().len(), 1, "no account twice");
}

/// A SAML configuration that passes validation.
fn saml_config() -> SamlConfig {
    SamlConfig {
        idp_entity_id: "https://sts.windows.net/tenant-1/".into(),
        sso_url: "https://login.microsoftonline.com/tenant-1/saml2".into(),
        certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----".into(),
    }
}

#[test]
fn saml_is_refused_until_a_sync_has_completed() {
    let env = Env::new();
    nested_tenant(&env);
    let config = saml_config();
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
fn saml_is_refused_while_no_completed_sync_claimed_a_domain() {
    let env = Env::new();
    env.tenant.domain("contoso.com", false);
    env.tenant.put_users(people("a", 2, "contoso.com"));
    env.tenant
        .put_group_with("eng", "Engineering", ids("a", 0..2));
    env.save_groups(&["eng"], false, false);
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(block(env.engine().claimed_domains(ORG)).unwrap().is_empty());
    let refused = block(env.engine().put_saml(ORG, saml_config())).unwrap_err();
    assert!(matches!(
        refused,
        EngineError::Conflict(ConflictReason::NoCompletedRun)
    ));

    env.tenant.domain("contoso.com", true);
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);
    block(env.engine().put_saml(ORG, saml_config())).unwrap();
}

#[test]
fn a_sync_writes_only_under_its_organization_and_the_two_global_keys() {
    let env = Env::new();
    nested_tenant(&env);
    env.store.reset_stats();
    env.save_groups(&["eng", "ops"], true, false);
    env.sync();
    env.set_access("eng", true).unwrap();
    env.clock.advance(HOUR);
    env.sync();

    let own = format!("org/{ORG}/");
    let written = env.store.written_keys();
    assert!(!written.is_empty());
    let outside: Vec<&String> = written
        .iter()
        .filter(|k| !k.starts_with(&own))
        .filter(|k| !k.starts_with("domains/") && k.as_str() != "index/directories")
        .collect();
    assert!(
        outside.is_empty(),
        "keys written outside org/{ORG}/, the domain claims and the directory index: {outside:?}"
    );
}
