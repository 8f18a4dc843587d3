//! The native transport (`UreqClient`) over a real loopback server: a
//! request in flight progresses while the caller's thread does other work,
//! as when the engine stages a page while the next one is requested.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::net::TcpListener;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::task::Context;
use std::time::Duration;

use graph::HttpClient;
use graph::native::UreqClient;
use native_server::{Background, Handler, Limits, Refusal, Request, Response, empty};

/// Only guards against a hang; nothing is timed.
const HANG: Duration = Duration::from_secs(10);

const LIMITS: Limits = Limits {
    max_connections: 4,
    request_deadline: HANG,
    max_body_bytes: 1024,
};

/// Answers each request with its path, telling the test as each arrives;
/// holds `/page/2`'s answer back until the test releases it.
struct Pages {
    arrived: Sender<String>,
    release: Receiver<()>,
}

impl Handler for Pages {
    async fn handle(&self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        self.arrived.send(path.clone()).unwrap();
        if path == "/page/2" {
            self.release.recv_timeout(HANG).unwrap();
        }
        Response::new(path.into_bytes())
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        empty(refusal.status())
    }
}

fn get(server: &Background, page: u32) -> http::Request<Vec<u8>> {
    let url = format!("http://{}/page/{page}", server.addr());
    http::Request::get(url).body(Vec::new()).unwrap()
}

#[test]
fn a_request_in_flight_reaches_the_server_while_the_caller_works() {
    let (arrivals, arrived) = channel();
    let (release, held) = channel();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Background::start(listener, LIMITS, 1, move || Pages {
        arrived: arrivals,
        release: held,
    })
    .unwrap();
    let client = UreqClient::new(HANG);
    let page_1 = futures::executor::block_on(client.send(get(&server, 1))).unwrap();
    assert_eq!(page_1.body(), b"/page/1");
    assert_eq!(arrived.recv().unwrap(), "/page/1");

    // Page 2 is sent at its first poll; its answer is held back.
    let mut page_2 = std::pin::pin!(client.send(get(&server, 2)));
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert!(page_2.as_mut().poll(&mut cx).is_pending());
    // This thread works without polling it, and the request gets there.
    assert_eq!(arrived.recv_timeout(HANG).unwrap(), "/page/2");
    release.send(()).unwrap();
    let page_2 = futures::executor::block_on(page_2).unwrap();
    assert_eq!(page_2.body(), b"/page/2");
}
