//! Reading a tenant over real loopback HTTP: paging, $select, member types.

mod common;

use common::*;
use engine::ports::{IdentitySource, Member, SkippedKind};
use entra_sim::{Faults, Preset, TenantBuilder};

#[test]
fn a_10000_member_group_is_read_in_11_requests() {
    let tenant = TenantBuilder::demo()
        .sized_group("Ten Thousand", 10_000)
        .build();
    let server = serve(tenant, Faults::default());
    let group = group_id(&server, "Ten Thousand");
    let client = client(&server);

    let members = members(&client, &group, true);

    let users = members
        .iter()
        .filter(|m| matches!(m, Member::User(_)))
        .count();
    assert_eq!(users, 10_000);
    let stats = server.sim().stats();
    assert_eq!(
        stats.of("transitiveMembers"),
        11,
        "ceil(10,000 / 999) pages"
    );
    assert_eq!(stats.graph_requests, 11);
    assert_eq!(stats.token_requests, 1, "one token for the whole read");
    assert_eq!(client.stats().graph_requests, 11);
}

#[test]
fn users_are_read_with_exactly_the_mapped_fields_at_the_largest_page() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);

    let users = read_all(|page| block_on(client.users(page))).unwrap();

    assert_eq!(users.len(), 40);
    let requests: Vec<String> = serde_json::from_value(sim_admin_get(&server, "requests")).unwrap();
    let users_request = requests
        .iter()
        .find(|r| r.starts_with("GET /v1.0/users?"))
        .expect("the users listing was requested");
    assert!(users_request.contains(
        "$select=id,userPrincipalName,mail,otherMails,displayName,givenName,surname,jobTitle,\
         department,accountEnabled,userType,creationType"
    ));
    assert!(users_request.contains("$top=999"));

    let guest = users
        .iter()
        .find(|u| u.user_principal_name.contains("#EXT#"))
        .unwrap();
    assert_eq!(guest.user_type.as_deref(), Some("Guest"));
    assert_eq!(guest.creation_type.as_deref(), Some("Invitation"));
    let disabled = users
        .iter()
        .find(|u| u.user_principal_name == "irvin.sayers@contoso.com");
    assert!(!disabled.unwrap().account_enabled);
    let without_mail = users
        .iter()
        .find(|u| u.user_principal_name == "debra.berger@contoso.com");
    assert_eq!(without_mail.unwrap().mail, None);
}

#[test]
fn domains_keep_entra_spelling_and_verification() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let domains = block_on(client(&server).domains()).unwrap();

    let verified: Vec<(&str, bool)> = domains
        .iter()
        .map(|d| (d.id.as_str(), d.is_verified))
        .collect();
    assert_eq!(
        verified,
        [
            ("contoso.onmicrosoft.com", true),
            ("Contoso.com", true),
            ("Fabrikam.IO", true),
            ("LitWare.org", false)
        ]
    );
}

#[test]
fn devices_contacts_and_service_principals_are_skipped_with_their_kind() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let group = group_id(&server, "Devices and Services");

    let members = members(&client(&server), &group, false);

    let users = members
        .iter()
        .filter(|m| matches!(m, Member::User(_)))
        .count();
    let mut skipped: Vec<SkippedKind> = members
        .into_iter()
        .filter_map(|m| match m {
            Member::Skipped { kind, .. } => Some(kind),
            _ => None,
        })
        .collect();
    skipped.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(users, 2);
    assert_eq!(
        skipped,
        [
            SkippedKind::Device,
            SkippedKind::Device,
            SkippedKind::OrgContact,
            SkippedKind::ServicePrincipal
        ]
    );
}

#[test]
fn nested_groups_with_a_diamond_and_a_cycle_list_each_member_once() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);

    let engineering = members(&client, &group_id(&server, "Engineering"), true);
    let mut ids: Vec<String> = engineering
        .iter()
        .map(|m| match m {
            Member::User(u) => u.id.clone(),
            Member::Group(g) => g.id.clone(),
            Member::Skipped { id, .. } => id.clone(),
        })
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        total,
        "Core Reviewers is reached twice but listed once"
    );
    let groups: Vec<&str> = engineering
        .iter()
        .filter_map(|m| match m {
            Member::Group(g) => Some(g.display_name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(groups, ["Platform Team", "Web Team", "Core Reviewers"]);

    let operations = members(&client, &group_id(&server, "Operations"), true);
    assert!(
        operations
            .iter()
            .any(|m| matches!(m, Member::Group(g) if g.display_name == "On-Call")),
        "the cycle is followed once and ends"
    );
}

#[test]
fn a_missing_group_reads_as_none_and_its_members_as_not_found() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);
    let missing = "00000000-0000-4000-8000-000000000000";

    assert_eq!(block_on(client.group(missing)).unwrap(), None);
    assert_eq!(
        block_on(client.group("sales-team")).unwrap(),
        None,
        "Graph's 400 for a malformed id also means no such group"
    );
    assert!(matches!(
        block_on(client.members(missing, true, None)),
        Err(engine::ports::SourceError::NotFound(_))
    ));
    let sales = block_on(client.group(&group_id(&server, "Sales")))
        .unwrap()
        .unwrap();
    assert_eq!(sales.display_name, "Sales");
    assert_eq!(sales.description.as_deref(), Some("Sales department"));
}

#[test]
fn a_100000_user_tenant_is_read_in_pages_of_999() {
    let server = serve(Preset::Huge.build(), Faults::default());
    let client = client(&server);

    let users = read_all(|page| block_on(client.users(page))).unwrap();

    assert_eq!(users.len(), 100_040);
    assert_eq!(server.sim().stats().of("users"), 101, "ceil(100,040 / 999)");
}
