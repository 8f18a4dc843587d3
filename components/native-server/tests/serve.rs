//! A `Background` server over loopback, as its users meet it: bodies reach
//! the handler whole, bounds answer for themselves, and dropping the server
//! stops it.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use native_server::{Background, Handler, Limits, Refusal, Request, Response, empty};

/// Answers with the request's body; refusals with their status alone.
struct Echo;

impl Handler for Echo {
    async fn handle(&self, request: Request) -> Response {
        Response::new(request.into_body())
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        empty(refusal.status())
    }
}

fn start() -> Background {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let limits = Limits {
        max_connections: 4,
        request_deadline: Duration::from_secs(5),
        max_body_bytes: 1024,
    };
    Background::start(listener, limits, 1, || Echo).expect("a server")
}

fn post(server: &Background, body: Vec<u8>) -> (u16, Vec<u8>) {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut response = agent
        .post(format!("http://{}/echo", server.addr()))
        .send(&body[..])
        .expect("an answer");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec().expect("a body");
    (status, body)
}

#[test]
fn a_body_within_the_limit_reaches_the_handler_and_a_larger_one_is_413() {
    let server = start();
    assert_eq!(post(&server, b"hello".to_vec()), (200, b"hello".to_vec()));
    let (status, _) = post(&server, vec![b'a'; 1025]);
    assert_eq!(status, 413);
}

#[test]
fn dropping_the_server_stops_it() {
    let server = start();
    let addr = server.addr();
    drop(server);
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening on {addr}"
    );
}
