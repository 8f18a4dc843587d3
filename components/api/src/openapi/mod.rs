//! The OpenAPI 3.1 document, built from the route table ([`ROUTES`]) and the
//! request and response types (`utoipa`), served at `/api/v1/openapi.json`.

pub mod schemas;

use std::sync::LazyLock;

use engine::ids::{OBJECT_ID_PATTERN, SLUG_PATTERN};
use engine::{MAX_PAGE, UserFilter};
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder, ResponsesBuilder, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::route::{Access, RouteSpec, Success};
use crate::routes::{self, ROUTES};

/// The security scheme of the operator token (a bearer token).
pub const OPERATOR_TOKEN: &str = "operatorToken";
/// The operator token as `?token=` (the tick only).
pub const OPERATOR_TOKEN_QUERY: &str = "operatorTokenQuery";
/// The security scheme of an organization's admin token (a bearer token).
pub const ORG_ADMIN_TOKEN: &str = "orgAdminToken";

/// The document, built once per instance.
static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(build);

/// The OpenAPI document of this API.
pub fn document() -> &'static OpenApi {
    &DOCUMENT
}

/// Adds `T`'s schema as `name` (the route table's name for it, which for a
/// listing is its page type's alias) and the schemas it refers to.
pub(crate) fn collect<T: ToSchema>(name: &str, all: &mut Vec<(String, RefOr<Schema>)>) {
    all.push((name.to_owned(), T::schema()));
    T::schemas(all);
}

fn build() -> OpenApi {
    let mut paths = Paths::new();
    for spec in ROUTES {
        paths.add_path_operation(
            spec.openapi_path(),
            vec![http_method(spec)],
            operation(spec),
        );
    }
    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(routes::schemas())
        .security_scheme(
            OPERATOR_TOKEN,
            bearer("The operator token (OPERATOR_TOKEN)"),
        )
        .security_scheme(
            ORG_ADMIN_TOKEN,
            bearer("An organization's admin token, `idps.{org}.{secret}`"),
        )
        .security_scheme(
            OPERATOR_TOKEN_QUERY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The operator token as a query parameter (schedulers that cannot send a header)",
            ))),
        );
    let mut more = Vec::new();
    collect::<schemas::ErrorBody>("ErrorBody", &mut more);
    schemas::listing_items(&mut more);
    components = components.schemas_from_iter(more);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("idp-sync")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Syncs Microsoft Entra ID users and groups into an organization's directory. \
                     The rules behind each route are in API.md.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

fn bearer(description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description))
            .build(),
    )
}

fn http_method(spec: &RouteSpec) -> HttpMethod {
    match spec.method.as_str() {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn operation(spec: &RouteSpec) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .operation_id(Some(format!("{:?}", spec.operation)))
        .summary(Some(spec.summary))
        .securities(Some(security(spec.access)))
        .responses(responses(spec));
    for name in spec.path_params() {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(path_param_schema(name))),
        );
    }
    for name in spec.query {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(query_param_schema(name))),
        );
    }
    if let Some(request) = spec.request {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", content(request))
                .build(),
        ));
    }
    builder.build()
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A path parameter's constraints: the ids' patterns (anything else is a
/// 400 `invalid_id`), a run's number (anything else is a 404).
fn path_param_schema(name: &str) -> RefOr<Schema> {
    let pattern = match name {
        "org" | "dir" => Some(SLUG_PATTERN),
        "id" => Some(OBJECT_ID_PATTERN),
        "run" => Some("^[0-9]+$"),
        _ => None,
    };
    string_schema().pattern(pattern).into()
}

/// A query parameter's constraints: a page size, or one of the users'
/// filters (anything else is a 422 on that field).
fn query_param_schema(name: &str) -> RefOr<Schema> {
    match name {
        "limit" => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE))
            .description(Some(format!(
                "Page size, from 1 to {MAX_PAGE}; anything else is a 422 on `limit`."
            )))
            .into(),
        "filter" => UserFilter::schema(),
        _ => string_schema().into(),
    }
}

fn content(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

/// Who may call: no requirement for a public route; an empty list would
/// mean the same, so public routes say `security: []` explicitly.
fn security(access: Access) -> Vec<SecurityRequirement> {
    let scheme = |name: &str| SecurityRequirement::new(name, Vec::<String>::new());
    match access {
        Access::Public => vec![SecurityRequirement::default()],
        Access::Operator => vec![scheme(OPERATOR_TOKEN)],
        Access::TickCaller => vec![scheme(OPERATOR_TOKEN), scheme(OPERATOR_TOKEN_QUERY)],
        Access::Admin | Access::OrgAdmin => vec![scheme(ORG_ADMIN_TOKEN)],
    }
}

fn responses(spec: &RouteSpec) -> utoipa::openapi::Responses {
    let success = match spec.success {
        Success::Json => content(spec.response),
        Success::Csv | Success::File => ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(spec.response)))
            .build(),
    };
    let media_type = match spec.success {
        Success::Json => "application/json",
        Success::Csv => "text/csv",
        Success::File => "*/*",
    };
    let mut builder = ResponsesBuilder::new().response(
        spec.status.to_string(),
        ResponseBuilder::new()
            .description(spec.summary)
            .content(media_type, success),
    );
    for status in error_statuses(spec) {
        builder = builder.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(error_description(status))
                .content("application/json", content("ErrorBody")),
        );
    }
    builder.build()
}

/// The error statuses a route documents: those of its access level and
/// body, those every route can answer, and the table's own.
pub fn error_statuses(spec: &RouteSpec) -> Vec<u16> {
    // Any request may carry a malformed JSON body, one that is not JSON at
    // all, or too large a body; the store or a bug can fail any route that
    // reads it.
    let mut statuses = vec![400, 413, 415];
    match spec.access {
        Access::Public => {}
        Access::Operator | Access::TickCaller | Access::Admin => statuses.extend([401, 500, 503]),
        Access::OrgAdmin => statuses.extend([401, 404, 500, 503]),
    }
    if spec.request.is_some() {
        statuses.push(422);
    }
    if !spec.query.is_empty() && spec.query != ["token"] {
        statuses.push(422);
    }
    statuses.extend(spec.errors);
    statuses.retain(|status| *status != spec.status);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "Malformed JSON, a body that is not one object with unique keys, an invalid id, or an `If-Match` that is not `*` or quoted entity tags"
        }
        401 => "No valid bearer token for this route",
        404 => "No such resource, or another organization's",
        409 => "Refused because of the current state (`code` says why)",
        412 => "None of the `If-Match` tags is the current version",
        413 => "The body is over 64 KiB",
        415 => "A non-empty body that is not `application/json`",
        422 => "Invalid values (`fields` says which)",
        502 => "Entra refused the credentials or failed for good",
        503 => "Try again later (`Retry-After` when known)",
        _ => "A bug; the message is safe to show",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn document_json() -> serde_json::Value {
        serde_json::to_value(document()).expect("the document serializes")
    }

    #[test]
    fn the_document_lists_exactly_the_route_table() {
        let doc = document_json();
        let listed: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("a path item")
                    .keys()
                    .filter(|key| !matches!(key.as_str(), "parameters" | "summary"))
                    .map(move |method| (path.clone(), method.to_uppercase()))
            })
            .collect();
        let table: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|spec| (spec.openapi_path(), spec.method.to_string()))
            .collect();
        assert_eq!(listed, table);
    }

    #[test]
    fn every_schema_referred_to_is_defined() {
        let doc = document_json();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(schemas.contains_key(name), "{name} is defined");
        }
    }

    /// The component names `value` refers to, directly or inside it.
    fn refs_in(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(|r| r.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    found.push(name.to_owned());
                }
                map.values().for_each(|v| refs_in(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs_in(v, found)),
            _ => {}
        }
    }

    /// Whether `schema` says what it holds: a reference, an enum, a scalar,
    /// an array of such, a combination of such, or an object with
    /// properties (never an empty placeholder object).
    fn describes_its_shape(schema: &serde_json::Value) -> bool {
        let all = |key: &str| {
            schema[key]
                .as_array()
                .map(|parts| parts.iter().all(describes_its_shape))
        };
        if schema.get("$ref").is_some() || schema.get("enum").is_some() {
            return true;
        }
        if let Some(parts) = all("oneOf")
            .or_else(|| all("allOf"))
            .or_else(|| all("anyOf"))
        {
            return parts;
        }
        let types: Vec<&str> = match &schema["type"] {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(many) => many.iter().filter_map(|t| t.as_str()).collect(),
            _ => return false,
        };
        types.iter().all(|t| match *t {
            "object" => schema["properties"]
                .as_object()
                .is_some_and(|properties| !properties.is_empty()),
            "array" => describes_its_shape(&schema["items"]),
            _ => true,
        })
    }

    #[test]
    fn every_schema_an_operation_reaches_describes_its_shape() {
        let doc = document_json();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut pending = Vec::new();
        refs_in(&doc["paths"], &mut pending);
        let mut reached = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if reached.insert(name.clone()) {
                refs_in(&schemas[&name], &mut pending);
            }
        }
        assert!(reached.contains("UserView") && reached.contains("RunCounts"));
        for name in reached {
            if schemas::FREE_FORM.contains(&name.as_str()) {
                continue;
            }
            assert!(
                describes_its_shape(&schemas[&name]),
                "{name} is a placeholder: {}",
                schemas[&name]
            );
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_both_tokens() {
        let doc = document_json();
        assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1"));
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes[OPERATOR_TOKEN]["scheme"], "bearer");
        assert_eq!(schemes[ORG_ADMIN_TOKEN]["scheme"], "bearer");
        let billing = &doc["paths"]["/api/v1/orgs/{org}/billing"]["get"];
        assert_eq!(
            billing["security"][0][ORG_ADMIN_TOKEN],
            serde_json::json!([])
        );
        assert!(billing["responses"]["401"].is_object());
    }
}
