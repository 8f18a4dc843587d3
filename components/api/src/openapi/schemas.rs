//! The schemas the route table names: the API's own request and response
//! types and the engine's (each derives `ToSchema` where it is defined, the
//! engine's behind its `openapi` feature), one concrete page type per
//! listing, and the bodies documented as free-form ([`FREE_FORM`]).

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
pub use engine::{
    Billing, Listing, Preview, SamlConfig, SettingsInput, SyncStatus, UserDetail, VersionedSettings,
};

/// Declares one concrete page type per listing, and [`listing_items`].
macro_rules! listings {
    ($($page:ident = $item:ident, $doc:literal;)*) => {
        $(
            #[doc = $doc]
            pub type $page = Listing<engine::$item>;
        )*

        /// Adds the listings' item schemas, which a generic page type
        /// refers to but does not collect itself (utoipa's generics).
        pub(crate) fn listing_items(all: &mut Vec<(String, RefOr<Schema>)>) {
            $(super::collect::<engine::$item>(stringify!($item), all);)*
        }
    };
}

listings! {
    UserListing = UserView, "A page of users (`GET …/users`).";
    GroupListing = GroupView, "A page of groups (`GET …/groups`).";
    MemberListing = MemberView, "A page of a group's members (`GET …/groups/{id}/members`).";
    EmailListing = EmailView, "A page of the email outbox (`GET …/emails`).";
}

/// The schemas that are free-form on purpose: no `properties` to check.
pub const FREE_FORM: &[&str] = &["OpenApiDocument", "ConsoleFile", "CsvFile"];

/// An OpenAPI 3.1 document (this one).
pub struct OpenApiDocument;

/// A static file of the web console, of its file's media type.
pub struct ConsoleFile;

/// A finished run, its summary and log, as CSV.
pub struct CsvFile;

impl utoipa::PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<Schema> {
        free_form(Type::Object, "An OpenAPI 3.1 document.").into()
    }
}

impl utoipa::PartialSchema for ConsoleFile {
    fn schema() -> RefOr<Schema> {
        free_form(Type::String, "A static file of the web console.").into()
    }
}

impl utoipa::PartialSchema for CsvFile {
    fn schema() -> RefOr<Schema> {
        free_form(Type::String, "A finished run: its summary and log as CSV.")
            .content_media_type("text/csv")
            .into()
    }
}

impl utoipa::ToSchema for OpenApiDocument {}
impl utoipa::ToSchema for ConsoleFile {}
impl utoipa::ToSchema for CsvFile {}

/// An organization's or a directory's name, as the engine validates it.
pub(crate) fn display_name() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(100))
        .pattern(Some(engine::orgs::NAME_PATTERN))
}

/// An organization's id as a client may choose it.
pub(crate) fn slug_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(engine::ids::SLUG_PATTERN))
}

fn free_form(schema_type: Type, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
}
