//! Delta rounds for users and groups against the simulator's change log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::*;
use engine::ports::{
    Arrived, DeltaFrom, DeltaToken, GroupChange, IdentitySource, MemberKind, SourceError,
    UserChange,
};
use entra_sim::{ChangeOp, Faults, Preset, TenantBuilder};

/// Runs a delta round to its end: every change and the next round's token.
fn round<T>(
    from: DeltaFrom,
    mut next: impl FnMut(&DeltaFrom) -> Result<Arrived<T>, SourceError>,
) -> Result<(Vec<T>, DeltaToken), SourceError> {
    let mut from = from;
    let mut items = Vec::new();
    loop {
        let page = next(&from)?.decode()?;
        items.extend(page.items);
        match (page.next, page.delta) {
            (Some(token), _) => from = DeltaFrom::Page(token),
            (None, Some(delta)) => return Ok((items, delta)),
            (None, None) => panic!("a delta round ends with a delta token"),
        }
    }
}

fn apply(server: &entra_sim::server::SimServer, ops: &[ChangeOp]) {
    server.sim().with_tenant(|tenant| {
        for op in ops {
            op.apply(tenant).expect("change applies");
        }
    });
}

#[test]
fn a_first_round_enumerates_everything_with_direct_members() {
    let server = serve(
        TenantBuilder::demo().extra_users(1_500).build(),
        Faults::default(),
    );
    let client = client(&server);

    let (users, _) = round(DeltaFrom::Start, |f| block_on(client.users_delta(f))).unwrap();
    let (groups, _) = round(DeltaFrom::Start, |f| block_on(client.groups_delta(f))).unwrap();

    assert_eq!(users.len(), 1_540);
    assert!(users.iter().all(|u| matches!(u, UserChange::Upsert(_))));
    assert_eq!(
        server.sim().stats().of("users/delta"),
        2,
        "pages of 999 via Prefer"
    );
    let engineering = groups
        .iter()
        .find_map(|g| match g {
            GroupChange::Upsert {
                group,
                members_added,
                ..
            } if group.display_name == "Engineering" => Some(members_added),
            _ => None,
        })
        .expect("Engineering is in the first round");
    let kinds: Vec<&MemberKind> = engineering.iter().map(|m| &m.kind).collect();
    assert_eq!(
        kinds,
        [
            &MemberKind::Group,
            &MemberKind::Group,
            &MemberKind::User,
            &MemberKind::User,
            &MemberKind::User
        ]
    );
}

#[test]
fn later_rounds_carry_only_the_changes_and_cost_a_request_each_when_quiet() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);
    let (_, users_token) = round(DeltaFrom::Start, |f| block_on(client.users_delta(f))).unwrap();
    let (_, groups_token) = round(DeltaFrom::Start, |f| block_on(client.groups_delta(f))).unwrap();

    apply(
        &server,
        &[
            ChangeOp::AddUser {
                user_principal_name: "new.hire@contoso.com".into(),
                display_name: Some("New Hire".into()),
                guest: false,
                groups: vec!["Engineering".into()],
                mail: None,
                no_mail: false,
                other_mails: Vec::new(),
            },
            ChangeOp::UpdateUser {
                user: "adele.vance@contoso.com".into(),
                display_name: Some("Adele Vance-Smith".into()),
                mail: None,
                account_enabled: None,
                job_title: None,
            },
            ChangeOp::RemoveUser {
                user: "lee.gu@contoso.com".into(),
            },
            ChangeOp::MoveMember {
                member: "megan.bowen@contoso.com".into(),
                from: "Marketing".into(),
                to: "Sales".into(),
            },
            ChangeOp::RenameGroup {
                group: "Legal".into(),
                display_name: "Legal & Compliance".into(),
            },
        ],
    );
    let lee = "lee.gu@contoso.com";
    let lee_id = server.sim().with_tenant(|t| {
        t.users
            .values()
            .find(|u| u.user_principal_name == lee)
            .map(|u| u.id.clone())
    });
    assert_eq!(lee_id, None, "removed from the tenant");

    let (user_changes, users_token) = round(DeltaFrom::Delta(users_token), |f| {
        block_on(client.users_delta(f))
    })
    .unwrap();
    let (group_changes, groups_token) = round(DeltaFrom::Delta(groups_token), |f| {
        block_on(client.groups_delta(f))
    })
    .unwrap();

    let upserted: Vec<&str> = user_changes
        .iter()
        .filter_map(|c| match c {
            UserChange::Upsert(u) => Some(u.display_name.as_deref().unwrap_or_default()),
            _ => None,
        })
        .collect();
    assert_eq!(upserted.len(), 2);
    assert!(upserted.contains(&"New Hire") && upserted.contains(&"Adele Vance-Smith"));
    assert_eq!(
        user_changes
            .iter()
            .filter(|c| matches!(c, UserChange::Removed { .. }))
            .count(),
        1
    );
    let by_name = |name: &str| {
        group_changes.iter().find_map(|c| match c {
            GroupChange::Upsert {
                group,
                members_added,
                members_removed,
            } if group.display_name == name => Some((members_added.len(), members_removed.len())),
            _ => None,
        })
    };
    assert_eq!(by_name("Engineering"), Some((1, 0)), "the new hire joined");
    assert_eq!(by_name("Marketing"), Some((0, 1)), "Megan moved out");
    assert_eq!(by_name("Sales"), Some((1, 0)), "Megan moved in");
    assert_eq!(by_name("Operations"), Some((0, 1)), "Lee (deleted) left");
    assert_eq!(by_name("Legal & Compliance"), Some((0, 0)), "renamed");

    server.sim().reset_stats();
    let (quiet_users, _) = round(DeltaFrom::Delta(users_token), |f| {
        block_on(client.users_delta(f))
    })
    .unwrap();
    let (quiet_groups, _) = round(DeltaFrom::Delta(groups_token), |f| {
        block_on(client.groups_delta(f))
    })
    .unwrap();
    assert!(quiet_users.is_empty() && quiet_groups.is_empty());
    assert_eq!(
        server.sim().stats().graph_requests,
        2,
        "one request per quiet round"
    );
}

#[test]
fn an_expired_delta_token_asks_for_a_full_round() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);
    let (_, token) = round(DeltaFrom::Start, |f| block_on(client.users_delta(f))).unwrap();

    server.sim().expire_delta_tokens();
    let expired = block_on(client.users_delta(&DeltaFrom::Delta(token))).and_then(Arrived::decode);
    let fresh = round(DeltaFrom::Start, |f| block_on(client.users_delta(f)));

    assert_eq!(expired, Err(SourceError::TokenExpired));
    assert_eq!(fresh.unwrap().0.len(), 40, "a full round works again");
}
