//! A page's links are read before its items (decision 0011): with
//! `@odata.nextLink` before `value`, as Graph writes it, the page arrives
//! with its link and its items are decoded when asked; any other order is
//! decoded at once and pages as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use common::*;
use engine::ports::{Arrived, IdentitySource, SourceError, SourceUser};
use entra_sim::{Faults, Preset};
use graph::native::ThreadPause;
use graph::{GraphClient, GraphConfig, HttpClient, TransportError};

/// Where the scripted Graph lives.
const GRAPH: &str = "https://graph.test";
/// The client secret the scripted Graph's client holds.
const SECRET: &str = "links-first-secret";

/// A Graph that answers the token endpoint with a token and each Graph
/// request with the next of `pages` (200, JSON), recording the URLs asked.
#[derive(Default)]
struct ScriptedGraph {
    pages: RefCell<VecDeque<&'static str>>,
    asked: RefCell<Vec<String>>,
}

impl HttpClient for &ScriptedGraph {
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let url = req.uri().to_string();
        let body = if url.ends_with("/token") {
            r#"{"access_token":"t0k3n","expires_in":3600}"#
        } else {
            self.asked.borrow_mut().push(url);
            self.pages
                .borrow_mut()
                .pop_front()
                .expect("a page scripted")
        };
        Ok(http::Response::new(body.as_bytes().to_vec()))
    }
}

/// A client of `graph`, answering `pages` in turn.
fn scripted(
    graph: &ScriptedGraph,
    pages: impl IntoIterator<Item = &'static str>,
) -> GraphClient<&ScriptedGraph, ThreadPause> {
    graph.pages.borrow_mut().extend(pages);
    let config = GraphConfig {
        authority: "https://login.test".to_owned(),
        graph_base: GRAPH.to_owned(),
        tenant_id: "tenant".to_owned(),
        client_id: "client".to_owned(),
        client_secret: SECRET.to_owned(),
        time_budget: Some(Duration::from_secs(20)),
    };
    GraphClient::new(config, graph, ThreadPause::default()).expect("valid configuration")
}

/// The user ids of `users`.
fn ids(users: &[SourceUser]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

#[test]
fn a_next_link_before_value_arrives_before_the_items_and_a_broken_item_fails_only_the_decode() {
    let graph = ScriptedGraph::default();
    // The second user's accountEnabled is not a boolean (and quotes the
    // client secret, as a body that echoes a request might).
    let client = scripted(
        &graph,
        [concat!(
            r#"{"@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=2","#,
            r#""value":[{"id":"a","userPrincipalName":"a@x.test"},"#,
            r#"{"id":"b","userPrincipalName":"b@x.test","accountEnabled":"links-first-secret"}]}"#
        )],
    );
    let arrived = block_on(client.users(None)).expect("the page arrives");
    let next = arrived
        .next
        .clone()
        .expect("its next link, before its items");
    assert_eq!(next.0, "https://graph.test/v1.0/users?$skiptoken=2");
    let Err(SourceError::BadResponse(error)) = arrived.decode() else {
        panic!("the broken item fails the decode");
    };
    assert!(error.contains("https://graph.test/v1.0/users"), "{error}");
    assert!(
        !error.contains(SECRET) && error.contains("[redacted]"),
        "{error}"
    );
}

#[test]
fn a_page_with_value_before_its_next_link_pages_as_before() {
    let graph = ScriptedGraph::default();
    let client = scripted(
        &graph,
        [
            concat!(
                r#"{"value":[{"id":"a","userPrincipalName":"a@x.test"}],"#,
                r#""@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=2"}"#
            ),
            r#"{"value":[{"id":"b","userPrincipalName":"b@x.test"}]}"#,
        ],
    );
    let users = read_all(|page| block_on(client.users(page))).unwrap();
    assert_eq!(ids(&users), ["a", "b"]);
    let asked = graph.asked.borrow();
    assert_eq!(asked[1], "https://graph.test/v1.0/users?$skiptoken=2");
}

#[test]
fn a_foreign_next_link_before_value_is_refused_when_the_page_arrives() {
    let graph = ScriptedGraph::default();
    let client = scripted(
        &graph,
        [r#"{"@odata.nextLink":"https://evil.test/v1.0/users?$skiptoken=2","value":[{"id":5}]}"#],
    );
    let refused = block_on(client.users(None)).map(|_| ());
    assert_eq!(
        refused,
        Err(SourceError::ForeignLink(
            "https://evil.test/v1.0/users?$skiptoken=2".to_owned()
        ))
    );
}

#[test]
fn the_simulator_writes_its_next_link_before_value_as_graph_does() {
    let faults = Faults {
        max_page_size: Some(10),
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client(&server);
    let first = block_on(client.users(None)).unwrap();
    assert!(first.next.is_some());
    assert!(
        format!("{first:?}").contains("not decoded yet"),
        "{first:?}"
    );
    let all = read_all(|page| block_on(client.users(page))).unwrap();
    assert_eq!(all.len(), 40);
    assert_eq!(Arrived::decode(first).unwrap().items.len(), 10);
}

/// A first page of users whose key and next link are written with JSON
/// escapes (`\u004c` is `L`, `\/` is `/`, `\u0032` is `2`).
const ESCAPED_FIRST_PAGE: &str = concat!(
    r#"{"@odata.next\u004cink":"https:\/\/graph.test\/v1.0\/users?$skiptoken=\u0032","#,
    r#""value":[{"id":"a","userPrincipalName":"a@x.test"}]}"#
);

#[test]
fn an_escaped_next_link_before_value_arrives_unescaped_before_the_items_and_is_followed() {
    let graph = ScriptedGraph::default();
    let last = r#"{"value":[{"id":"b","userPrincipalName":"b@x.test"}]}"#;
    let client = scripted(&graph, [ESCAPED_FIRST_PAGE, ESCAPED_FIRST_PAGE, last]);
    let first = block_on(client.users(None)).unwrap();
    assert!(
        format!("{first:?}").contains("not decoded yet"),
        "{first:?}"
    );
    let users = read_all(|page| block_on(client.users(page))).unwrap();
    assert_eq!(ids(&users), ["a", "b"]);
    let asked = graph.asked.borrow();
    assert_eq!(asked[2], "https://graph.test/v1.0/users?$skiptoken=2");
}

#[test]
fn a_page_with_its_next_link_twice_fails_its_decode_as_a_whole_decode_would() {
    let graph = ScriptedGraph::default();
    let client = scripted(
        &graph,
        [concat!(
            r#"{"@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=2","#,
            r#""@odata.nextLink":"https://graph.test/v1.0/users?$skiptoken=3","#,
            r#""value":[{"id":"a","userPrincipalName":"a@x.test"}]}"#
        )],
    );
    let arrived = block_on(client.users(None)).expect("its links arrive");
    let Err(SourceError::BadResponse(error)) = arrived.decode() else {
        panic!("a page with two next links is not accepted");
    };
    assert!(error.contains("duplicate field"), "{error}");
}
