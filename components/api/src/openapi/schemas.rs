//! The schemas the route table names: the API's own request and response
//! types (each derives `ToSchema` where it is defined), and stand-ins for
//! the engine's view types, which the document describes as objects whose
//! fields API.md documents.

use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};

pub use crate::error::{ErrorBody, ErrorDetail};
pub use crate::handlers::data::{ClaimedDomains, GroupBody, ProductAccess};
pub use crate::handlers::directories::{
    Connect, DirectoryBody, DirectoryChange, DirectoryList, TenantDomains, TenantGroups,
};
pub use crate::handlers::health::Health;
pub use crate::handlers::orgs::{CreateOrg, Me, OrgCreated, OrgView};
pub use crate::handlers::saml::{SamlBody, SamlPage};
pub use crate::handlers::settings::AutoSync;
pub use crate::handlers::sync::{RunHistory, SyncStarted};
pub use crate::handlers::tick::{TickItem, Ticked};

/// Declares schemas described by a JSON type and a description only.
macro_rules! described {
    ($($name:ident: $type:ident $(($format:literal))?, $description:literal;)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                #[allow(unused_mut)]
                let mut schema = ObjectBuilder::new()
                    .schema_type(Type::$type)
                    .description(Some($description));
                $(schema = schema.content_media_type($format);)?
                schema.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

described! {
    OpenApiDocument: Object, "An OpenAPI 3.1 document.";
    ConsoleFile: String, "A static file of the web console.";
    CsvFile: String ("text/csv"), "A finished run: its summary and log as CSV.";
    VersionedSettings: Object, "Sync settings with their version (see API.md, Settings).";
    SettingsInput: Object, "Sync settings to save (see API.md, Settings).";
    Preview: Object, "What a sync would do (see API.md, Sync).";
    SyncStatus: Object, "A directory's sync status (see API.md, Sync).";
    RunSummary: Object, "One run of the history (see API.md, Sync).";
    Confirmation: Object, "What a started run will do (see API.md, Sync).";
    AdvanceOutcome: Object, "What one chunk of a run achieved (see API.md, Sync).";
    TickOutcome: Object, "What a tick did for one directory (see API.md, Tick).";
    DirectoryView: Object, "A connected Entra tenant (see API.md, Directories).";
    SourceDomain: Object, "A domain of the tenant as Entra reports it.";
    SourceGroup: Object, "A group of the tenant as Entra reports it.";
    UserListing: Object, "A page of users (see API.md, Directory data).";
    UserDetail: Object, "A user with its groups and runs (see API.md, Directory data).";
    GroupListing: Object, "A page of groups (see API.md, Directory data).";
    GroupView: Object, "A synced group (see API.md, Directory data).";
    MemberListing: Object, "A page of a group's members (see API.md, Directory data).";
    ClaimedDomain: Object, "A domain claimed by the organization.";
    Billing: Object, "Seats for billing (see API.md, Product access and billing).";
    SamlConfig: Object, "A SAML configuration (see API.md, SAML single sign-on).";
    EmailListing: Object, "A page of the email outbox (see API.md, Emails).";
    FieldError: Object, "One invalid field: `field` and `message`.";
}
