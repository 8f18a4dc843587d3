//! The generated tenants the scenarios sync, and the changes made to them
//! between runs, all through `entra-sim`'s builder and change log.

use entra_sim::{
    Credentials, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Domain, Group, Tenant,
    TenantBuilder, User,
};

/// What a fixture's tenant holds.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Generated users (all on the verified `contoso.com`).
    pub users: u64,
    /// Groups, each of `group_size` users of their own (group `g` holds
    /// users `g * group_size ..`), so groups never share users.
    pub groups: u64,
    pub group_size: u64,
    /// Groups are nested in chains this long: the first of each chain
    /// contains the second, which contains the third, ... (1 = no nesting).
    pub chain: u64,
}

/// The credentials the simulator accepts and the bench's Graph clients use.
pub fn credentials() -> Credentials {
    Credentials {
        tenant_id: DEMO_TENANT_ID.to_owned(),
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: DEMO_CLIENT_SECRET.to_owned(),
    }
}

/// Builds the tenant of `shape` (seeding records no changes).
pub fn build(shape: Shape) -> Tenant {
    let domain = Domain {
        id: "contoso.com".to_owned(),
        is_verified: true,
        is_default: true,
        is_initial: false,
    };
    let mut tenant = TenantBuilder::empty(credentials(), vec![domain])
        .extra_users(shape.users)
        .build();
    let user_ids: Vec<String> = tenant.users.keys().cloned().collect();
    for g in 0..shape.groups {
        let first = usize::try_from(g * shape.group_size).unwrap_or(usize::MAX);
        let size = usize::try_from(shape.group_size).unwrap_or(usize::MAX);
        let mut members: Vec<String> = user_ids.iter().skip(first).take(size).cloned().collect();
        let links_down = shape.chain > 1 && (g + 1) % shape.chain != 0 && g + 1 < shape.groups;
        if links_down {
            members.push(group_id(g + 1));
        }
        let group = Group {
            id: group_id(g),
            display_name: format!("Team {g}"),
            description: None,
            members,
        };
        tenant.groups.insert(group.id.clone(), group);
    }
    tenant
}

/// The id of the generated group `g`.
pub fn group_id(g: u64) -> String {
    format!("0000{g:04x}-0000-4000-8000-00000000b3c4")
}

/// The groups a group-scoped fixture selects: the first group of each chain.
pub fn chain_roots(shape: Shape) -> Vec<String> {
    (0..shape.groups)
        .step_by(usize::try_from(shape.chain.max(1)).unwrap_or(1))
        .map(group_id)
        .collect()
}

/// A new user, added to the first group (recorded for delta queries).
pub fn add_one_user(tenant: &mut Tenant) {
    tenant.put_user(User {
        given_name: Some("New".to_owned()),
        surname: Some("Hire".to_owned()),
        ..User::member(
            "0000ffff-0000-4000-8000-00000000a1a1",
            "new.hire@contoso.com",
            "New Hire",
        )
    });
    tenant.add_member(&group_id(0), "0000ffff-0000-4000-8000-00000000a1a1");
}

/// Renames every hundredth user (1 %; recorded for delta queries); returns
/// how many.
pub fn rename_one_percent(tenant: &mut Tenant) -> u64 {
    let changed: Vec<User> = tenant
        .users
        .values()
        .step_by(100)
        .map(|user| User {
            display_name: format!("{} (renamed)", user.display_name),
            ..user.clone()
        })
        .collect();
    let count = changed.len() as u64;
    for user in changed {
        tenant.put_user(user);
    }
    count
}
