//! Matching a request against the route table ([`crate::routes::ROUTES`])
//! with `matchit`: an unknown path is 404; a known path with a method it
//! does not serve is 405 with `Allow` (the path's methods in table order,
//! `HEAD` after `GET`: [`crate::handle`] answers `HEAD` wherever `GET` is
//! served).

use std::sync::LazyLock;

use engine::Org;
use http::Method;

use crate::error::ApiError;
use crate::routes::{Operation, ROUTES};

/// Which token a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (health, the console, the OpenAPI document).
    Public,
    /// The operator token as a bearer token.
    Operator,
    /// The operator token as a bearer token or as `?token=` (the tick, for
    /// platform schedulers that call a URL but cannot send a header).
    TickCaller,
    /// Any organization's admin token.
    Admin,
    /// The admin token of the organization named by `{org}`; another org's
    /// resources look exactly like missing ones (404).
    OrgAdmin,
}

/// Who the request's token showed the caller to be, as its route's
/// [`Access`] required.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A public route: no token was looked at.
    Anyone,
    /// The operator.
    Operator,
    /// An admin of this organization.
    Admin(Org),
}

impl Caller {
    /// The admin's organization; 401 for any other caller.
    pub fn admin(&self) -> Result<&Org, ApiError> {
        match self {
            Caller::Admin(org) => Ok(org),
            Caller::Anyone | Caller::Operator => Err(ApiError::Unauthorized),
        }
    }
}

/// What the successful answer of a route carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// A JSON body of the named schema.
    Json,
    /// A file of any type (the console's static files).
    File,
    /// A `text/csv` attachment.
    Csv,
}

/// One operation of the API: a method on a path, the token it needs, and
/// what the OpenAPI document says about it. Built by the `routes!` table.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub operation: Operation,
    pub method: Method,
    /// The path template, `matchit` syntax: `{name}` is one segment,
    /// `{*name}` the rest of the path.
    pub path: &'static str,
    pub access: Access,
    /// One line for the OpenAPI document (the prose is in `API.md`).
    pub summary: &'static str,
    /// The success status.
    pub status: u16,
    pub success: Success,
    /// The success body's schema (the Rust type's name).
    pub response: &'static str,
    /// The request body's schema, for routes that read one.
    pub request: Option<&'static str>,
    /// Query parameters the route reads.
    pub query: &'static [&'static str],
    /// Error statuses this route answers beyond those every route of its
    /// access level can (see `openapi::error_statuses`).
    pub errors: &'static [u16],
}

impl RouteSpec {
    /// The path template as OpenAPI writes it (`{*file}` becomes `{file}`).
    pub fn openapi_path(&self) -> String {
        self.path.replace("{*", "{")
    }

    /// The path with every parameter filled with an example value (org
    /// `acme`, directory `d1`, id `g1`, run `7`, file `app.js`), e.g. for
    /// calling each route in a test.
    pub fn example_path(&self) -> String {
        self.path
            .replace("{*file}", "app.js")
            .replace("{file}", "app.js")
            .replace("{org}", "acme")
            .replace("{dir}", "d1")
            .replace("{id}", "g1")
            .replace("{run}", "7")
    }

    /// The names of the path's parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}'))
            .map(|(name, _)| name.trim_start_matches('*'))
    }
}

/// A matched request: its operation and the path's parameters, each
/// percent-decoded.
#[derive(Debug, Clone)]
pub struct Matched {
    pub spec: &'static RouteSpec,
    pub params: PathParams,
}

/// The decoded path parameters of a matched route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    /// The parameter `name`; a route whose handler asks for a parameter
    /// its template lacks is a bug in the table (500, never a panic).
    pub fn get(&self, name: &str) -> Result<&str, ApiError> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| ApiError::Internal(format!("route has no {{{name}}} parameter")))
    }

    /// `{org}`: the organization's id.
    pub fn org(&self) -> Result<&str, ApiError> {
        self.get("org")
    }

    /// `{dir}`: the directory's id.
    pub fn dir(&self) -> Result<&str, ApiError> {
        self.get("dir")
    }

    /// `{id}`: a user's or group's id.
    pub fn id(&self) -> Result<&str, ApiError> {
        self.get("id")
    }
}

/// The operations of one path, in table order, and its `Allow` header.
struct PathEntry {
    operations: Vec<&'static RouteSpec>,
    allow: String,
}

/// The router over [`ROUTES`], built once per instance.
static ROUTER: LazyLock<matchit::Router<PathEntry>> = LazyLock::new(build_router);

fn build_router() -> matchit::Router<PathEntry> {
    let mut by_path: Vec<(&'static str, PathEntry)> = Vec::new();
    for spec in ROUTES {
        let methods = allowed(&spec.method);
        match by_path.iter_mut().find(|(path, _)| *path == spec.path) {
            Some((_, entry)) => {
                entry.operations.push(spec);
                entry.allow = format!("{}, {methods}", entry.allow);
            }
            None => by_path.push((
                spec.path,
                PathEntry {
                    operations: vec![spec],
                    allow: methods,
                },
            )),
        }
    }
    let mut router = matchit::Router::new();
    for (path, entry) in by_path {
        // The table is a constant: a conflict is caught by the unit test
        // that builds the router, so it never reaches a deployment.
        if let Err(conflict) = router.insert(path, entry) {
            tracing::error!(path, %conflict, "route table: a path is not routed");
        }
    }
    router
}

/// What serving `method` adds to `Allow`: `GET` brings `HEAD` along.
fn allowed(method: &Method) -> String {
    if method == Method::GET {
        "GET, HEAD".to_owned()
    } else {
        method.to_string()
    }
}

/// Finds the operation for `method` on `path` (without the query string).
///
/// Each segment is percent-decoded before matching, so `g%201` is the id
/// `g 1`; a segment that decodes to something with a `/` or is not UTF-8
/// matches nothing.
pub fn find(method: &Method, path: &str) -> Result<Matched, ApiError> {
    let not_found = || ApiError::NotFound("route");
    let decoded = decode_path(path).ok_or_else(not_found)?;
    let matched = ROUTER.at(&decoded).map_err(|_| not_found())?;
    let entry: &'static PathEntry = matched.value;
    let spec = entry
        .operations
        .iter()
        .find(|spec| spec.method == method)
        .ok_or(ApiError::MethodNotAllowed {
            allow: entry.allow.as_str(),
        })?;
    let params = matched
        .params
        .iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    Ok(Matched {
        spec,
        params: PathParams(params),
    })
}

/// Every segment percent-decoded; `None` when one is not UTF-8 or hides a `/`.
fn decode_path(path: &str) -> Option<String> {
    let segments: Vec<String> = path
        .strip_prefix('/')?
        .split('/')
        .map(decode)
        .collect::<Option<_>>()?;
    Some(format!("/{}", segments.join("/")))
}

fn decode(segment: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    (!decoded.contains('/')).then(|| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(method: Method, path: &str) -> Result<(Operation, PathParams), ApiError> {
        find(&method, path).map(|m| (m.spec.operation, m.params))
    }

    #[test]
    fn every_path_of_the_table_is_routed() {
        for spec in ROUTES {
            let path = spec.example_path();
            let matched = find(&spec.method, &path).expect("routed");
            assert_eq!(matched.spec.operation, spec.operation, "{path}");
        }
    }

    #[test]
    fn nested_routes_carry_their_decoded_ids() {
        let (op, params) = operation(
            Method::POST,
            "/api/v1/orgs/acme/directories/d1/sync/preview",
        )
        .expect("ok");
        assert_eq!(op, Operation::Preview);
        assert_eq!(params.org(), Ok("acme"));
        assert_eq!(params.dir(), Ok("d1"));
        let (op, params) =
            operation(Method::GET, "/api/v1/orgs/acme/groups/g%201/members").expect("ok");
        assert_eq!(op, Operation::GroupMembers);
        assert_eq!(params.id(), Ok("g 1"));
    }

    #[test]
    fn unknown_empty_and_slash_hiding_segments_do_not_match() {
        for path in [
            "/api/v1/orgs/acme/nope",
            "/api/v1/orgs//users",
            "/api/v1/orgs/acme/users/",
            "/api/v1/orgs/acme/users/a%2Fb",
            "/api/v1/orgs/acme/users/%FF",
            "no-slash",
        ] {
            assert_eq!(
                operation(Method::GET, path),
                Err(ApiError::NotFound("route")),
                "{path}"
            );
        }
    }

    #[test]
    fn a_run_csv_needs_the_csv_suffix() {
        let (op, params) = operation(
            Method::GET,
            "/api/v1/orgs/acme/directories/d1/sync/runs/7.csv",
        )
        .expect("ok");
        assert_eq!(op, Operation::SyncRunCsv);
        assert_eq!(params.get("run"), Ok("7"));
    }

    #[test]
    fn the_console_serves_the_root_and_its_files() {
        assert_eq!(
            operation(Method::GET, "/").map(|(op, _)| op),
            Ok(Operation::ConsoleIndex)
        );
        let (op, params) = operation(Method::GET, "/console/js/app.js").expect("ok");
        assert_eq!(op, Operation::ConsoleFile);
        assert_eq!(params.get("file"), Ok("js/app.js"));
    }

    #[test]
    fn wrong_method_names_the_allowed_ones_in_table_order_with_head_after_get() {
        assert_eq!(
            operation(Method::DELETE, "/api/v1/orgs/acme/billing"),
            Err(ApiError::MethodNotAllowed { allow: "GET, HEAD" })
        );
        assert_eq!(
            operation(Method::PUT, "/api/v1/orgs/acme/directories/d1/sync"),
            Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD, POST, DELETE"
            })
        );
    }
}
