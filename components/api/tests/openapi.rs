//! The OpenAPI document over the router: served without a token, and every
//! route of the table answers with a status the document lists for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use api::ROUTES;
use common::Harness;
use http::{Method, StatusCode};

#[test]
fn the_document_is_served_without_a_token() {
    let h = Harness::new();
    let reply = h.call(Method::GET, "/api/v1/openapi.json", None, None);
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(
        reply.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert!(reply.body["paths"]["/api/v1/orgs/{org}/billing"]["get"].is_object());
}

#[test]
fn without_a_token_every_route_answers_a_status_its_operation_documents() {
    let h = Harness::new();
    let doc = h.call(Method::GET, "/api/v1/openapi.json", None, None).body;
    for spec in ROUTES {
        let path = spec.example_path();
        let reply = h.call(spec.method.clone(), &path, None, None);
        let method = spec.method.as_str().to_lowercase();
        let responses = &doc["paths"][spec.openapi_path()][&method]["responses"];
        assert!(
            responses[reply.status.as_str()].is_object(),
            "{} {path} answered {}, which its operation does not document",
            spec.method,
            reply.status
        );
    }
}
