//! The product-access and billing rules, each as a user would state it.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;

#[test]
fn billable_users_are_the_distinct_users_of_groups_with_product_access() {
    let env = Env::new();
    nested_tenant(&env);
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

/// The nested tenant plus `sales` (a00005), both synced, `sales` with
/// product access.
fn sales_synced_with_access() -> Env {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant
        .put_group("sales", "Sales")
        .add_user_to("sales", "a00005");
    env.save_groups(&["eng", "sales"], false, false);
    env.sync();
    env.set_access("sales", true).unwrap();
    env
}

#[test]
fn a_dropped_group_loses_product_access_unless_previous_groups_are_kept() {
    let env = sales_synced_with_access();

    // Keep previous groups: sales stays in scope and keeps its access.
    env.save_groups(&["eng"], false, true);
    env.clock.advance(HOUR);
    env.sync();
    assert!(env.group("sales").product_access);
    assert!(env.group("sales").synced);

    // Without it, sales is dropped and loses access; its user leaves.
    env.save_groups(&["eng"], false, false);
    env.clock.advance(HOUR);
    env.sync();
    let sales = env.group("sales");
    assert!(!sales.synced && !sales.product_access);
    assert_eq!(env.last_summary().counts.access_removed, ["sales"]);
    assert_eq!(env.billing().billable_users, 0);

    // Synced again later, it needs access granted again.
    env.save_groups(&["eng", "sales"], false, false);
    env.clock.advance(HOUR);
    env.sync();
    assert!(env.group("sales").synced && !env.group("sales").product_access);
}

#[test]
fn a_kept_previous_group_deleted_from_the_tenant_loses_its_access() {
    let env = sales_synced_with_access();
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
    env.clock.advance(HOUR);
    env.sync();
    let sales = env.group("sales");
    assert!(!sales.synced && !sales.product_access);
    assert!(!env.user("a00005").synced);
}
