//! Seeded, deterministic tenants: the demo tenant and sizes on demand.

use crate::ids::{Rng, guid};
use crate::tenant::{Credentials, Domain, Group, Other, OtherKind, Tenant, User};

/// The demo tenant's id (also reachable by its initial domain name).
pub const DEMO_TENANT_ID: &str = "8b2f6c1e-0d4a-4e7b-9c3f-5a6d7e8f9a0b";
/// The demo app registration's client id.
pub const DEMO_CLIENT_ID: &str = "4e1b7d2c-9a3f-4b8e-8d6c-1f2e3a4b5c6d";
/// The demo app registration's client secret.
pub const DEMO_CLIENT_SECRET: &str = "sim-demo-secret";

/// The 10,000-user group of the `large` preset (exactly at the limit).
pub const LARGE_GROUP: &str = "Large Group (10,000)";
/// The 10,001-user group of the `large` preset (one over the limit).
pub const OVERSIZED_GROUP: &str = "Oversized Group (10,001)";

const USER_NS: u64 = 1;
const GROUP_NS: u64 = 2;
const OTHER_NS: u64 = 3;
const GENERATED_USER_NS: u64 = 4;
const GENERATED_GROUP_NS: u64 = 5;

/// Named starting points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// ~40 users: verified and unverified domains, guests, disabled
    /// accounts, nested groups with a diamond and a cycle, mixed members.
    Demo,
    /// Demo plus a 10,000-user group and a 10,001-user group.
    Large,
    /// Demo plus 100,000 generated users.
    Huge,
}

impl Preset {
    pub fn parse(name: &str) -> Option<Preset> {
        match name {
            "demo" => Some(Preset::Demo),
            "large" => Some(Preset::Large),
            "huge" => Some(Preset::Huge),
            _ => None,
        }
    }

    pub fn build(self) -> Tenant {
        let builder = TenantBuilder::demo();
        match self {
            Preset::Demo => builder,
            Preset::Large => builder
                .sized_group(LARGE_GROUP, 10_000)
                .sized_group(OVERSIZED_GROUP, 10_001),
            Preset::Huge => builder.extra_users(100_000),
        }
        .build()
    }
}

/// Builds a tenant; generated users are shared between sized groups (a
/// 10,000 and a 10,001 group need 10,001 users, not 20,001).
pub struct TenantBuilder {
    tenant: Tenant,
    generated_users: u64,
    generated_groups: u64,
}

impl TenantBuilder {
    /// An empty tenant with these credentials and domains.
    pub fn empty(credentials: Credentials, domains: Vec<Domain>) -> Self {
        let mut tenant = Tenant::new(credentials);
        tenant.domains = domains;
        TenantBuilder {
            tenant,
            generated_users: 0,
            generated_groups: 0,
        }
    }

    /// Continues building `tenant` (generated users are reused by later
    /// sized groups).
    pub fn from_tenant(tenant: Tenant) -> Self {
        let count = |ns: u64, exists: &dyn Fn(&str) -> bool| {
            (1..).take_while(|n| exists(&guid(ns, *n))).count() as u64
        };
        let generated_users = count(GENERATED_USER_NS, &|id| tenant.users.contains_key(id));
        let generated_groups = count(GENERATED_GROUP_NS, &|id| tenant.groups.contains_key(id));
        TenantBuilder {
            tenant,
            generated_users,
            generated_groups,
        }
    }

    /// The demo tenant (see README).
    pub fn demo() -> Self {
        let mut builder = TenantBuilder::empty(
            Credentials {
                tenant_id: DEMO_TENANT_ID.into(),
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
            },
            vec![
                domain("contoso.onmicrosoft.com", true, false, true),
                domain("Contoso.com", true, true, false),
                domain("Fabrikam.IO", true, false, false),
                domain("LitWare.org", false, false, false),
            ],
        );
        builder.seed_demo();
        builder
    }

    /// Adds a group of `size` generated users.
    pub fn sized_group(mut self, name: &str, size: u64) -> Self {
        while self.generated_users < size {
            self.generate_user();
        }
        self.generated_groups += 1;
        let group = Group {
            id: guid(GENERATED_GROUP_NS, self.generated_groups),
            display_name: name.to_owned(),
            description: Some(format!("{size} generated users")),
            members: (1..=size).map(|n| guid(GENERATED_USER_NS, n)).collect(),
        };
        self.tenant.groups.insert(group.id.clone(), group);
        self
    }

    /// Adds `count` generated users that belong to no group.
    pub fn extra_users(mut self, count: u64) -> Self {
        for _ in 0..count {
            self.generate_user();
        }
        self
    }

    pub fn build(self) -> Tenant {
        self.tenant
    }

    fn generate_user(&mut self) {
        const FIRST: [&str; 12] = [
            "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kai",
            "Logan", "Morgan", "Rowan",
        ];
        const LAST: [&str; 10] = [
            "Nguyen", "Okafor", "Jensen", "Moreau", "Tanaka", "Silva", "Novak", "Khan", "Larsen",
            "Rossi",
        ];
        self.generated_users += 1;
        let n = self.generated_users;
        let mut rng = Rng::new(n);
        let (first, last) = (FIRST[rng.below(FIRST.len())], LAST[rng.below(LAST.len())]);
        let upn = format!("load.user{n:06}@contoso.com");
        let user = User {
            id: guid(GENERATED_USER_NS, n),
            mail: (!n.is_multiple_of(20)).then(|| upn.clone()),
            user_principal_name: upn,
            display_name: format!("{first} {last} {n}"),
            given_name: Some(first.to_owned()),
            surname: Some(last.to_owned()),
            job_title: Some("Associate".to_owned()),
            department: Some(["Operations", "Sales", "Support"][rng.below(3)].to_owned()),
            account_enabled: !n.is_multiple_of(50),
            user_type: "Member".to_owned(),
            creation_type: None,
            other_mails: Vec::new(),
        };
        self.tenant.users.insert(user.id.clone(), user);
    }

    fn seed_demo(&mut self) {
        // (upn, display name, job title, department, enabled, has mail)
        #[rustfmt::skip]
        const MEMBERS: [(&str, &str, &str, &str, bool, bool); 33] = [
            ("adele.vance@contoso.com", "Adele Vance", "Product Manager", "Sales", true, true),
            ("alex.wilber@Contoso.com", "Alex Wilber", "Marketing Assistant", "Marketing", true, true),
            ("diego.siciliani@contoso.com", "Diego Siciliani", "HR Manager", "HR", true, true),
            ("grady.archie@contoso.com", "Grady Archie", "Designer", "R&D", true, true),
            ("henrietta.mueller@contoso.com", "Henrietta Mueller", "Developer", "R&D", true, true),
            ("isaiah.langer@contoso.com", "Isaiah Langer", "Sales Rep", "Sales", true, true),
            ("johanna.lorenz@contoso.com", "Johanna Lorenz", "Senior Engineer", "Engineering", true, true),
            ("joni.sherman@contoso.com", "Joni Sherman", "Paralegal", "Legal", true, true),
            ("lee.gu@contoso.com", "Lee Gu", "Director", "Manufacturing", true, true),
            ("lidia.holloway@contoso.com", "Lidia Holloway", "Product Manager", "Engineering", true, true),
            ("lynne.robbins@contoso.com", "Lynne Robbins", "Planner", "Retail", true, true),
            ("megan.bowen@contoso.com", "Megan Bowen", "Marketing Manager", "Marketing", true, true),
            ("miriam.graham@contoso.com", "Miriam Graham", "Director", "Sales & Marketing", true, true),
            ("nestor.wilke@contoso.com", "Nestor Wilke", "Director", "Operations", true, true),
            ("patti.fernandez@contoso.com", "Patti Fernandez", "President", "Executive", true, true),
            ("pradeep.gupta@contoso.com", "Pradeep Gupta", "Accountant", "Finance", true, true),
            ("irvin.sayers@contoso.com", "Irvin Sayers", "Engineer", "Engineering", false, true),
            ("debra.berger@contoso.com", "Debra Berger", "Administrative Assistant", "Executive", true, false),
            ("christie.cline@contoso.com", "Christie Cline", "Buyer", "Retail", true, true),
            ("enrico.cattaneo@contoso.com", "Enrico Cattaneo", "Attorney", "Legal", false, true),
            ("ben.walters@fabrikam.io", "Ben Walters", "Engineer", "Engineering", true, true),
            ("cameron.white@FABRIKAM.io", "Cameron White", "Engineer", "Engineering", true, true),
            ("dana.smith@fabrikam.io", "Dana Smith", "Copywriter", "Marketing", true, false),
            ("elena.petrova@fabrikam.io", "Elena Petrova", "Frontend Engineer", "Engineering", true, true),
            ("farah.haddad@fabrikam.io", "Farah Haddad", "Frontend Engineer", "Engineering", true, true),
            ("gustavo.lima@fabrikam.io", "Gustavo Lima", "Site Reliability Engineer", "Operations", true, true),
            ("hana.sato@fabrikam.io", "Hana Sato", "Staff Engineer", "Engineering", true, true),
            ("ivan.horvat@fabrikam.io", "Ivan Horvat", "Staff Engineer", "Engineering", true, true),
            ("jonas.berg@fabrikam.io", "Jonas Berg", "Site Reliability Engineer", "Operations", false, true),
            ("kalani.akana@fabrikam.io", "Kalani Akana", "Analyst", "Marketing", true, false),
            ("liam.byrne@litware.org", "Liam Byrne", "Contractor", "Engineering", true, true),
            ("maya.cohen@LitWare.org", "Maya Cohen", "Contractor", "Engineering", true, true),
            ("noah.fischer@litware.org", "Noah Fischer", "Contractor", "Sales", true, true),
        ];
        // (external mail, display name)
        const GUESTS: [(&str, &str); 4] = [
            ("jane.doe@gmail.com", "Jane Doe"),
            ("raj.patel@outlook.com", "Raj Patel"),
            ("sofia.rossi@partner.example", "Sofia Rossi"),
            ("tom.baker@litware.org", "Tom Baker"),
        ];
        let mut n = 0;
        for (upn, name, title, department, enabled, has_mail) in MEMBERS {
            n += 1;
            let (given, surname) = name.split_once(' ').unwrap_or((name, ""));
            self.insert_user(User {
                id: guid(USER_NS, n),
                user_principal_name: upn.to_owned(),
                mail: has_mail.then(|| upn.to_lowercase()),
                display_name: name.to_owned(),
                given_name: Some(given.to_owned()),
                surname: Some(surname.to_owned()),
                job_title: Some(title.to_owned()),
                department: Some(department.to_owned()),
                account_enabled: enabled,
                user_type: "Member".to_owned(),
                creation_type: None,
                other_mails: Vec::new(),
            });
        }
        for (mail, name) in GUESTS {
            n += 1;
            self.insert_user(User {
                id: guid(USER_NS, n),
                user_principal_name: format!(
                    "{}#EXT#@contoso.onmicrosoft.com",
                    mail.replace('@', "_")
                ),
                mail: Some(mail.to_owned()),
                display_name: name.to_owned(),
                given_name: None,
                surname: None,
                job_title: None,
                department: None,
                account_enabled: true,
                user_type: "Guest".to_owned(),
                creation_type: Some("Invitation".to_owned()),
                other_mails: Vec::new(),
            });
        }
        // A disabled service account without mail, a new hire without mail or
        // job title yet, and a contractor on a verified domain.
        for (upn, name, enabled) in [
            (
                "svc-backup@contoso.onmicrosoft.com",
                "Backup Service",
                false,
            ),
            ("quinn.taylor@contoso.com", "Quinn Taylor", true),
            ("olivia.park@contoso.com", "Olivia Park", true),
        ] {
            n += 1;
            self.insert_user(User {
                mail: None,
                account_enabled: enabled,
                ..User::member(guid(USER_NS, n), upn, name)
            });
        }

        let others = [
            (OtherKind::Device, "LAPTOP-7F3K2"),
            (OtherKind::Device, "KIOSK-LOBBY-01"),
            (OtherKind::OrgContact, "External Auditor (contact)"),
            (OtherKind::ServicePrincipal, "Backup Automation"),
        ];
        for (i, (kind, name)) in others.into_iter().enumerate() {
            let other = Other {
                id: guid(OTHER_NS, i as u64 + 1),
                kind,
                display_name: name.to_owned(),
            };
            self.tenant.others.insert(other.id.clone(), other);
        }

        // Members reference users by their 1-based position above ("u7"),
        // groups by their 1-based position below ("g3"), other objects "o1".
        #[rustfmt::skip]
        let groups: [(&str, Option<&str>, &[&str]); 14] = [
            ("All Staff", Some("Everyone, through the department groups"), &["g2", "g6", "g7", "u15", "u18", "u3"]),
            ("Engineering", Some("Engineering department"), &["g3", "g4", "u7", "u10", "u17"]),
            ("Platform Team", None, &["g5", "u5", "u21", "u22"]),
            ("Web Team", None, &["g5", "u4", "u24", "u25"]),
            ("Core Reviewers", Some("Reached from Engineering twice (a diamond)"), &["u7", "u27", "u28"]),
            ("Sales", Some("Sales department"), &["u1", "u6", "u13", "u19", "u31", "u34"]),
            ("Operations", Some("Contains On-Call, which contains Operations (a cycle)"), &["g8", "u14", "u9", "u11"]),
            ("On-Call", None, &["g7", "u26", "u29"]),
            ("Partners", Some("External guests and a contact"), &["u34", "u35", "u36", "u37", "o3"]),
            ("Devices and Services", Some("Mixed member types"), &["o1", "o2", "o4", "o3", "u2", "u12"]),
            ("Empty Project", Some("No members yet"), &[]),
            ("Marketing", None, &["u2", "u12", "u13", "u30", "u23"]),
            ("Contractors", Some("Mostly users on an unverified domain"), &["u31", "u32", "u33", "u40"]),
            ("Legal", None, &["u8", "u20"]),
        ];
        for (i, (name, description, members)) in groups.iter().enumerate() {
            let group = Group {
                id: guid(GROUP_NS, i as u64 + 1),
                display_name: (*name).to_owned(),
                description: description.map(str::to_owned),
                members: members.iter().filter_map(|m| demo_ref(m)).collect(),
            };
            self.tenant.groups.insert(group.id.clone(), group);
        }
    }

    fn insert_user(&mut self, user: User) {
        self.tenant.users.insert(user.id.clone(), user);
    }
}

/// Resolves a demo member reference like `u7`, `g3` or `o1`.
fn demo_ref(reference: &str) -> Option<String> {
    let (prefix, number) = reference.split_at(1);
    let n: u64 = number.parse().ok()?;
    let namespace = match prefix {
        "u" => USER_NS,
        "g" => GROUP_NS,
        "o" => OTHER_NS,
        _ => return None,
    };
    Some(guid(namespace, n))
}

fn domain(id: &str, is_verified: bool, is_default: bool, is_initial: bool) -> Domain {
    Domain {
        id: id.to_owned(),
        is_verified,
        is_default,
        is_initial,
    }
}
