//! Path -> route. Unknown paths are 404; a known path with a method it does
//! not serve is 405 with `Allow`.

use http::Method;

use crate::error::ApiError;

/// Everything the API serves. Ids are percent-decoded path segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    /// `/`, `/{file}` and `/console/{file}`: the web console's static files.
    Console(String),
    Orgs,
    /// `/api/v1/me`: which org an admin token belongs to.
    Me,
    Tick,
    Directories {
        org: String,
    },
    Directory {
        org: String,
        dir: String,
    },
    Settings {
        org: String,
        dir: String,
    },
    Sync {
        org: String,
        dir: String,
    },
    SyncPreview {
        org: String,
        dir: String,
    },
    SyncStop {
        org: String,
        dir: String,
    },
    SyncHistory {
        org: String,
        dir: String,
    },
    /// `GET …/sync/runs/{run}.csv`: one finished run as a CSV download;
    /// `file` is the last segment (`7.csv`).
    SyncRunCsv {
        org: String,
        dir: String,
        file: String,
    },
    /// `POST …/sync/confirm`: let a run held by the removal guard remove.
    SyncConfirm {
        org: String,
        dir: String,
    },
    /// `POST …/sync/reject`: end a held run without removing anything.
    SyncReject {
        org: String,
        dir: String,
    },
    AutoSync {
        org: String,
        dir: String,
    },
    /// The tenant's domains, read live (for the settings' domain picker).
    TenantDomains {
        org: String,
        dir: String,
    },
    /// The tenant's groups, read live, with `?search=` (for the group picker).
    TenantGroups {
        org: String,
        dir: String,
    },
    Users {
        org: String,
    },
    User {
        org: String,
        id: String,
    },
    Groups {
        org: String,
    },
    Group {
        org: String,
        id: String,
    },
    GroupMembers {
        org: String,
        id: String,
    },
    ProductAccess {
        org: String,
        id: String,
    },
    Domains {
        org: String,
    },
    Billing {
        org: String,
    },
    Saml {
        org: String,
    },
    Emails {
        org: String,
    },
}

/// Every path the API serves, `{org}`, `{dir}` and `{id}` standing for
/// ids and `{file}` for a console file: one entry per [`Route`] variant
/// (a unit test holds them together), so tests can walk every route and
/// a new one is covered without being named again.
pub const PATHS: &[&str] = &[
    "/healthz",
    "/console/{file}",
    "/api/v1/orgs",
    "/api/v1/me",
    "/api/v1/tick",
    "/api/v1/orgs/{org}/directories",
    "/api/v1/orgs/{org}/directories/{dir}",
    "/api/v1/orgs/{org}/directories/{dir}/settings",
    "/api/v1/orgs/{org}/directories/{dir}/sync",
    "/api/v1/orgs/{org}/directories/{dir}/sync/preview",
    "/api/v1/orgs/{org}/directories/{dir}/sync/stop",
    "/api/v1/orgs/{org}/directories/{dir}/sync/history",
    "/api/v1/orgs/{org}/directories/{dir}/auto-sync",
    "/api/v1/orgs/{org}/directories/{dir}/tenant/domains",
    "/api/v1/orgs/{org}/directories/{dir}/tenant/groups",
    "/api/v1/orgs/{org}/users",
    "/api/v1/orgs/{org}/users/{id}",
    "/api/v1/orgs/{org}/groups",
    "/api/v1/orgs/{org}/groups/{id}",
    "/api/v1/orgs/{org}/groups/{id}/members",
    "/api/v1/orgs/{org}/groups/{id}/product-access",
    "/api/v1/orgs/{org}/domains",
    "/api/v1/orgs/{org}/billing",
    "/api/v1/orgs/{org}/saml",
    "/api/v1/orgs/{org}/emails",
    "/api/v1/orgs/{org}/directories/{dir}/sync/confirm",
    "/api/v1/orgs/{org}/directories/{dir}/sync/reject",
    "/api/v1/orgs/{org}/directories/{dir}/sync/runs/{id}.csv",
];

impl Route {
    /// Matches a path (without the query string).
    pub fn parse(path: &str) -> Option<Route> {
        if path == "/" {
            return Some(Route::Console("index.html".to_owned()));
        }
        if let Some(rest) = path.strip_prefix("/console/") {
            return Some(Route::Console(rest.to_owned()));
        }
        let segments: Vec<String> = path
            .strip_prefix('/')?
            .split('/')
            .map(decode)
            .collect::<Option<_>>()?;
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let o = |org: &str| org.to_owned();
        let route = match s.as_slice() {
            ["healthz"] => Route::Healthz,
            ["api", "v1", "orgs"] => Route::Orgs,
            ["api", "v1", "me"] => Route::Me,
            ["api", "v1", "tick"] => Route::Tick,
            ["api", "v1", "orgs", org, rest @ ..] => Self::org_route(o(org), rest)?,
            ["api", ..] => return None,
            [file] => Route::Console((*file).to_owned()),
            _ => return None,
        };
        Some(route)
    }

    fn org_route(org: String, rest: &[&str]) -> Option<Route> {
        let d = |dir: &str| dir.to_owned();
        let route = match rest {
            ["directories"] => Route::Directories { org },
            ["directories", dir] => Route::Directory { org, dir: d(dir) },
            ["directories", dir, "settings"] => Route::Settings { org, dir: d(dir) },
            ["directories", dir, "sync"] => Route::Sync { org, dir: d(dir) },
            ["directories", dir, "sync", "preview"] => Route::SyncPreview { org, dir: d(dir) },
            ["directories", dir, "sync", "stop"] => Route::SyncStop { org, dir: d(dir) },
            ["directories", dir, "sync", "history"] => Route::SyncHistory { org, dir: d(dir) },
            ["directories", dir, "sync", "runs", file] => Route::SyncRunCsv {
                org,
                dir: d(dir),
                file: d(file),
            },
            ["directories", dir, "sync", "confirm"] => Route::SyncConfirm { org, dir: d(dir) },
            ["directories", dir, "sync", "reject"] => Route::SyncReject { org, dir: d(dir) },
            ["directories", dir, "auto-sync"] => Route::AutoSync { org, dir: d(dir) },
            ["directories", dir, "tenant", "domains"] => Route::TenantDomains { org, dir: d(dir) },
            ["directories", dir, "tenant", "groups"] => Route::TenantGroups { org, dir: d(dir) },
            ["users"] => Route::Users { org },
            ["users", id] => Route::User { org, id: d(id) },
            ["groups"] => Route::Groups { org },
            ["groups", id] => Route::Group { org, id: d(id) },
            ["groups", id, "members"] => Route::GroupMembers { org, id: d(id) },
            ["groups", id, "product-access"] => Route::ProductAccess { org, id: d(id) },
            ["domains"] => Route::Domains { org },
            ["billing"] => Route::Billing { org },
            ["saml"] => Route::Saml { org },
            ["emails"] => Route::Emails { org },
            _ => return None,
        };
        Some(route)
    }

    /// The methods this route serves, as the `Allow` header lists them.
    pub fn allow(&self) -> &'static str {
        match self {
            Route::Healthz | Route::Console(_) => "GET",
            Route::Orgs
            | Route::Tick
            | Route::SyncPreview { .. }
            | Route::SyncStop { .. }
            | Route::SyncConfirm { .. }
            | Route::SyncReject { .. } => "POST",
            Route::Directories { .. } => "GET, POST",
            Route::Directory { .. } => "GET, PATCH",
            Route::Settings { .. } | Route::Saml { .. } => "GET, PUT",
            Route::Sync { .. } => "GET, POST, DELETE",
            Route::AutoSync { .. } | Route::ProductAccess { .. } => "PUT",
            Route::Me
            | Route::TenantDomains { .. }
            | Route::TenantGroups { .. }
            | Route::SyncHistory { .. }
            | Route::SyncRunCsv { .. }
            | Route::Users { .. }
            | Route::User { .. }
            | Route::Groups { .. }
            | Route::Group { .. }
            | Route::GroupMembers { .. }
            | Route::Domains { .. }
            | Route::Billing { .. }
            | Route::Emails { .. } => "GET",
        }
    }

    /// Refuses a method this route does not serve.
    pub fn check_method(&self, method: &Method) -> Result<(), ApiError> {
        let allow = self.allow();
        if allow.split(", ").any(|m| m == method.as_str()) {
            Ok(())
        } else {
            Err(ApiError::MethodNotAllowed { allow })
        }
    }

    /// The organization whose admin token the route requires, if any.
    pub fn org(&self) -> Option<&str> {
        match self {
            Route::Healthz | Route::Console(_) | Route::Orgs | Route::Me | Route::Tick => None,
            Route::Directories { org }
            | Route::Directory { org, .. }
            | Route::Settings { org, .. }
            | Route::Sync { org, .. }
            | Route::SyncPreview { org, .. }
            | Route::SyncStop { org, .. }
            | Route::SyncHistory { org, .. }
            | Route::SyncRunCsv { org, .. }
            | Route::SyncConfirm { org, .. }
            | Route::SyncReject { org, .. }
            | Route::AutoSync { org, .. }
            | Route::TenantDomains { org, .. }
            | Route::TenantGroups { org, .. }
            | Route::Users { org }
            | Route::User { org, .. }
            | Route::Groups { org }
            | Route::Group { org, .. }
            | Route::GroupMembers { org, .. }
            | Route::ProductAccess { org, .. }
            | Route::Domains { org }
            | Route::Billing { org }
            | Route::Saml { org }
            | Route::Emails { org } => Some(org),
        }
    }
}

/// Percent-decodes one path segment; `None` when it is not UTF-8 or hides a `/`.
fn decode(segment: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    (!decoded.contains('/')).then(|| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_routes_carry_their_ids() {
        assert_eq!(
            Route::parse("/api/v1/orgs/acme/directories/d1/sync/preview"),
            Some(Route::SyncPreview {
                org: "acme".into(),
                dir: "d1".into()
            })
        );
        assert_eq!(
            Route::parse("/api/v1/orgs/acme/groups/g%201/members"),
            Some(Route::GroupMembers {
                org: "acme".into(),
                id: "g 1".into()
            })
        );
    }

    #[test]
    fn unknown_and_empty_segments_do_not_match() {
        assert_eq!(Route::parse("/api/v1/orgs/acme/nope"), None);
        assert_eq!(Route::parse("/api/v1/orgs//users"), None);
        assert_eq!(Route::parse("/api/v1/orgs/acme/users/"), None);
    }

    /// The variant's place in [`PATHS`]: the match is exhaustive, so a new
    /// variant does not compile until it has a place, and the test below
    /// fails until `PATHS` has its path.
    fn index(route: &Route) -> usize {
        match route {
            Route::Healthz => 0,
            Route::Console(_) => 1,
            Route::Orgs => 2,
            Route::Me => 3,
            Route::Tick => 4,
            Route::Directories { .. } => 5,
            Route::Directory { .. } => 6,
            Route::Settings { .. } => 7,
            Route::Sync { .. } => 8,
            Route::SyncPreview { .. } => 9,
            Route::SyncStop { .. } => 10,
            Route::SyncHistory { .. } => 11,
            Route::AutoSync { .. } => 12,
            Route::TenantDomains { .. } => 13,
            Route::TenantGroups { .. } => 14,
            Route::Users { .. } => 15,
            Route::User { .. } => 16,
            Route::Groups { .. } => 17,
            Route::Group { .. } => 18,
            Route::GroupMembers { .. } => 19,
            Route::ProductAccess { .. } => 20,
            Route::Domains { .. } => 21,
            Route::Billing { .. } => 22,
            Route::Saml { .. } => 23,
            Route::Emails { .. } => 24,
            Route::SyncConfirm { .. } => 25,
            Route::SyncReject { .. } => 26,
            Route::SyncRunCsv { .. } => 27,
        }
    }

    #[test]
    fn paths_name_every_route_once() {
        for (i, template) in PATHS.iter().enumerate() {
            let path = template
                .replace("{org}", "acme")
                .replace("{dir}", "d1")
                .replace("{id}", "g1")
                .replace("{file}", "app.js");
            let route = Route::parse(&path).unwrap_or_else(|| panic!("{template} parses"));
            assert_eq!(index(&route), i, "{template} is in its variant's place");
        }
    }

    #[test]
    fn wrong_method_names_the_allowed_ones() {
        let route = Route::parse("/api/v1/orgs/acme/billing").expect("route");
        assert_eq!(
            route.check_method(&Method::DELETE),
            Err(ApiError::MethodNotAllowed { allow: "GET" })
        );
    }
}
