//! The route table: the one place that names each operation's method, path
//! template, token, OpenAPI summary, schemas and handler. The `routes!`
//! macro turns it into [`Operation`], [`ROUTES`] (what the router and the
//! OpenAPI document read), [`call`] (the dispatch) and [`schemas`].
//!
//! Adding a route is one entry here plus its handler.

use http::Method;
use platform::Platform;
use utoipa::openapi::{RefOr, Schema};

use crate::app::App;
use crate::console;
use crate::error::ApiError;
use crate::handlers;
use crate::openapi::{self, schemas::*};
use crate::respond::{self, Request, Response};
use crate::route::{Access, Caller, PathParams, RouteSpec, Success};

/// An entry reads:
/// `Name: METHOD "path", Access, "summary", STATUS Success Response
/// [, body Request] [, query ["name", ...]] [, errors [STATUS, ...]] => handler;`
/// where the handler is an expression over the names bound in the header
/// (the app, the path parameters, the request and the caller).
macro_rules! routes {
    (
        |$app:ident, $params:ident, $req:ident, $caller:ident|
        $(
            $name:ident: $method:ident $path:literal, $access:ident, $summary:literal,
            $status:literal $success:ident $response:ident
            $(, body $request:ident)?
            $(, query [$($query:literal),*])?
            $(, errors [$($error:literal),*])?
            => $handler:expr;
        )*
    ) => {
        /// Every operation of the API, one per entry of [`ROUTES`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = $summary]
                $name,
            )*
        }

        /// The route table, in the order the `Allow` header lists a path's methods.
        pub const ROUTES: &[RouteSpec] = &[$(
            RouteSpec {
                operation: Operation::$name,
                method: Method::$method,
                path: $path,
                access: Access::$access,
                summary: $summary,
                status: $status,
                success: Success::$success,
                response: stringify!($response),
                request: routes!(@name $($request)?),
                query: &[$($($query),*)?],
                errors: &[$($($error),*)?],
            },
        )*];

        /// Runs the handler of `operation`; authorization already happened.
        pub(crate) async fn call<P: Platform>(
            operation: Operation,
            $app: &App<P>,
            $params: &PathParams,
            $req: &Request,
            $caller: &Caller,
        ) -> Result<Response, ApiError> {
            match operation {
                $(Operation::$name => $handler,)*
            }
        }

        /// Every schema the table names, with the schemas they refer to.
        pub(crate) fn schemas() -> Vec<(String, RefOr<Schema>)> {
            let mut all = Vec::new();
            $(
                openapi::collect::<$response>(stringify!($response), &mut all);
                $(openapi::collect::<$request>(stringify!($request), &mut all);)?
            )*
            all
        }
    };
    (@name) => { None };
    (@name $request:ident) => { Some(stringify!($request)) };
}

routes! {
    |app, p, req, caller|

    OpenApi: GET "/api/v1/openapi.json", Public, "This OpenAPI document",
        200 Json OpenApiDocument
        => Ok(respond::ok(&openapi::document()));
    Healthz: GET "/healthz", Public, "Liveness",
        200 Json Health
        => Ok(respond::ok(&Health::ok()));
    ConsoleIndex: GET "/", Public, "The web console",
        200 File ConsoleFile
        => console::serve("index.html");
    ConsoleFolder: GET "/console/", Public, "The web console under /console/",
        200 File ConsoleFile
        => console::serve("index.html");
    ConsoleFile: GET "/console/{*file}", Public, "A file of the web console",
        200 File ConsoleFile, errors [404]
        => console::serve(p.get("file")?);
    ConsoleRootFile: GET "/{file}", Public, "A file of the web console at the root",
        200 File ConsoleFile, errors [404]
        => console::serve(p.get("file")?);

    CreateOrg: POST "/api/v1/orgs", Operator, "Create an organization and its admin token",
        201 Json OrgCreated, body CreateOrg, errors [409]
        => app.create_org(req).await;
    Me: GET "/api/v1/me", Admin, "The organization of the caller's admin token",
        200 Json Me
        => Ok(handlers::orgs::me(caller.admin()?));
    Tick: POST "/api/v1/tick", TickCaller, "Start due automatic syncs and advance runs",
        200 Json Ticked, query ["token"]
        => app.tick().await;

    ListDirectories: GET "/api/v1/orgs/{org}/directories", OrgAdmin, "The connected directories",
        200 Json DirectoryList
        => app.list_directories(p.org()?).await;
    ConnectDirectory: POST "/api/v1/orgs/{org}/directories", OrgAdmin, "Connect an Entra tenant",
        201 Json DirectoryBody, body Connect, errors [409]
        => app.connect_directory(p.org()?, req).await;
    GetDirectory: GET "/api/v1/orgs/{org}/directories/{dir}", OrgAdmin, "One directory",
        200 Json DirectoryBody
        => app.get_directory(p.org()?, p.dir()?).await;
    UpdateDirectory: PATCH "/api/v1/orgs/{org}/directories/{dir}", OrgAdmin,
        "Change a directory's name, client id or client secret",
        200 Json DirectoryBody, body DirectoryChange
        => app.update_directory(p.org()?, p.dir()?, req).await;
    TenantDomains: GET "/api/v1/orgs/{org}/directories/{dir}/tenant/domains", OrgAdmin,
        "The tenant's domains, read live",
        200 Json TenantDomains, errors [502]
        => app.tenant_domains(p.org()?, p.dir()?).await;
    TenantGroups: GET "/api/v1/orgs/{org}/directories/{dir}/tenant/groups", OrgAdmin,
        "One page of the tenant's groups, read live",
        200 Json TenantGroups, query ["search", "cursor"], errors [502]
        => app.tenant_groups(p.org()?, p.dir()?, req).await;
    GetSettings: GET "/api/v1/orgs/{org}/directories/{dir}/settings", OrgAdmin,
        "The sync settings (ETag: their version)",
        200 Json VersionedSettings
        => app.get_settings(p.org()?, p.dir()?).await;
    PutSettings: PUT "/api/v1/orgs/{org}/directories/{dir}/settings", OrgAdmin,
        "Save the sync settings (If-Match: a version)",
        200 Json VersionedSettings, body SettingsInput, errors [412]
        => app.put_settings(p.org()?, p.dir()?, req).await;
    Preview: POST "/api/v1/orgs/{org}/directories/{dir}/sync/preview", OrgAdmin,
        "What a sync with the saved settings would do",
        200 Json Preview, errors [409, 502]
        => app.preview(p.org()?, p.dir()?).await;
    SyncStatus: GET "/api/v1/orgs/{org}/directories/{dir}/sync", OrgAdmin, "The sync status",
        200 Json SyncStatus
        => app.sync_status(p.org()?, p.dir()?).await;
    StartSync: POST "/api/v1/orgs/{org}/directories/{dir}/sync", OrgAdmin,
        "Sync: start a run and advance it within this request",
        202 Json SyncStarted, errors [409, 502]
        => app.start_sync(p.org()?, p.dir()?).await;
    StopSync: DELETE "/api/v1/orgs/{org}/directories/{dir}/sync", OrgAdmin,
        "Stop a run: always refused (409 cannot_stop)",
        409 Json ErrorBody
        => app.stop_sync(p.org()?, p.dir()?).await;
    SyncStop: POST "/api/v1/orgs/{org}/directories/{dir}/sync/stop", OrgAdmin,
        "Stop a run: always refused (409 cannot_stop)",
        409 Json ErrorBody
        => app.stop_sync(p.org()?, p.dir()?).await;
    SyncHistory: GET "/api/v1/orgs/{org}/directories/{dir}/sync/history", OrgAdmin,
        "The last runs",
        200 Json RunHistory
        => app.sync_history(p.org()?, p.dir()?).await;
    SyncRunCsv: GET "/api/v1/orgs/{org}/directories/{dir}/sync/runs/{run}.csv", OrgAdmin,
        "One finished run as a CSV download",
        200 Csv CsvFile
        => app.sync_run_csv(p.org()?, p.dir()?, p.get("run")?).await;
    SyncConfirm: POST "/api/v1/orgs/{org}/directories/{dir}/sync/confirm", OrgAdmin,
        "Let a run held by the removal guard remove",
        200 Json SyncStatus, errors [409]
        => app.confirm_removals(p.org()?, p.dir()?).await;
    SyncReject: POST "/api/v1/orgs/{org}/directories/{dir}/sync/reject", OrgAdmin,
        "End a held run without removing anything",
        200 Json SyncStatus, errors [409]
        => app.reject_removals(p.org()?, p.dir()?).await;
    PutAutoSync: PUT "/api/v1/orgs/{org}/directories/{dir}/auto-sync", OrgAdmin,
        "Turn automatic syncing on or off",
        200 Json VersionedSettings, body AutoSync
        => app.put_auto_sync(p.org()?, p.dir()?, req).await;

    ListUsers: GET "/api/v1/orgs/{org}/users", OrgAdmin, "Search and filter the users",
        200 Json UserListing, query ["search", "filter", "cursor", "limit"]
        => app.list_users(p.org()?, req).await;
    GetUser: GET "/api/v1/orgs/{org}/users/{id}", OrgAdmin, "A user with its groups and runs",
        200 Json UserDetail
        => app.get_user(p.org()?, p.id()?).await;
    ListGroups: GET "/api/v1/orgs/{org}/groups", OrgAdmin, "The synced groups",
        200 Json GroupListing, query ["cursor", "limit"]
        => app.list_groups(p.org()?, req).await;
    GetGroup: GET "/api/v1/orgs/{org}/groups/{id}", OrgAdmin, "One synced group",
        200 Json GroupBody
        => app.get_group(p.org()?, p.id()?).await;
    GroupMembers: GET "/api/v1/orgs/{org}/groups/{id}/members", OrgAdmin,
        "Search a group's members",
        200 Json MemberListing, query ["search", "cursor", "limit"]
        => app.group_members(p.org()?, p.id()?, req).await;
    PutProductAccess: PUT "/api/v1/orgs/{org}/groups/{id}/product-access", OrgAdmin,
        "Grant or revoke a group's product access",
        200 Json GroupBody, body ProductAccess, errors [409]
        => app.put_product_access(p.org()?, p.id()?, req).await;
    ClaimedDomains: GET "/api/v1/orgs/{org}/domains", OrgAdmin, "The claimed domains",
        200 Json ClaimedDomains
        => app.claimed_domains(p.org()?).await;
    Billing: GET "/api/v1/orgs/{org}/billing", OrgAdmin, "Seats for billing",
        200 Json Billing
        => app.billing(p.org()?).await;
    GetSaml: GET "/api/v1/orgs/{org}/saml", OrgAdmin,
        "The SAML configuration and whether it may be configured yet",
        200 Json SamlPage
        => app.get_saml(p.org()?).await;
    PutSaml: PUT "/api/v1/orgs/{org}/saml", OrgAdmin,
        "Configure SAML single sign-on (once a sync completed)",
        200 Json SamlBody, body SamlConfig, errors [409]
        => app.put_saml(p.org()?, req).await;
    ListEmails: GET "/api/v1/orgs/{org}/emails", OrgAdmin, "The email outbox",
        200 Json EmailListing, query ["cursor", "limit"]
        => app.list_emails(p.org()?, req).await;
}
