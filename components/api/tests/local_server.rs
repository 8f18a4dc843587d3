//! `idp-sync-local` as a browser meets it: the built binary on a free port,
//! many connections opened at once, JSON round trips over real sockets.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The running binary, killed when the test ends.
struct Local {
    child: Child,
    port: u16,
    operator_token: String,
}

impl Local {
    fn start() -> Local {
        Local::start_with(&[])
    }

    fn start_with(args: &[&str]) -> Local {
        let mut child = Command::new(env!("CARGO_BIN_EXE_idp-sync-local"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("idp-sync-local starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut operator_token = None;
        let mut port = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("startup output");
            if let Some(token) = line.strip_prefix("operator token: ") {
                operator_token = Some(token.to_owned());
            }
            if let Some(addr) = line.strip_prefix("listening on http://127.0.0.1:") {
                port = Some(addr.parse().expect("a port number"));
                break;
            }
        }
        Local {
            child,
            port: port.expect("a `listening on` line"),
            operator_token: operator_token.expect("an `operator token:` line"),
        }
    }

    /// Creates an org (`POST /api/v1/orgs`, which must answer 201); its
    /// JSON answer.
    fn create_org(&self, name: &str, id: &str) -> Value {
        let body = serde_json::json!({"name": name, "id": id}).to_string();
        let created = exchange(
            self.connect(),
            &post("/api/v1/orgs", &self.operator_token, &body),
        );
        assert_eq!(created.status, 201);
        created.json()
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout set");
        stream
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends `raw` on `stream` and reads the one answer to it (the connection
/// stays open: the server keeps it alive).
fn exchange(stream: TcpStream, raw: &[u8]) -> Answer {
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(raw).expect("request sent");
    read_answer(&mut reader, raw.starts_with(b"HEAD "))
}

/// Reads one answer: its head, then a body of its `Content-Length` (none
/// for a `HEAD` request).
fn read_answer(reader: &mut BufReader<TcpStream>, head_request: bool) -> Answer {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .expect("the server answers");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line, not {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(": ") {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    let length: usize = match answer.header("content-length") {
        Some(length) if !head_request => length.parse().expect("a length"),
        _ => 0,
    };
    answer.body.resize(length, 0);
    reader.read_exact(&mut answer.body).expect("the whole body");
    answer
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n").into_bytes()
}

fn post(path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The console's files as the browser asks for them: `/` and every asset.
fn console_paths() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/console");
    let mut paths = vec!["/".to_owned()];
    for entry in std::fs::read_dir(dir).expect("the console directory") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".js") || name.ends_with(".css") {
            paths.push(format!("/{name}"));
        }
    }
    paths
}

#[test]
fn twelve_connections_opened_at_once_are_all_answered_promptly() {
    let local = Local::start();
    let paths = console_paths();
    // All connected before any request is sent, like a browser's burst.
    let streams: Vec<TcpStream> = (0..12).map(|_| local.connect()).collect();
    let started = Instant::now();
    let workers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, stream)| {
            let path = paths[i % paths.len()].clone();
            thread::spawn(move || (exchange(stream, &get(&path)), path))
        })
        .collect();
    for worker in workers {
        let (answer, path) = worker.join().expect("the client thread finished");
        assert_eq!(answer.status, 200, "GET {path}");
        assert_eq!(
            answer.header("content-length"),
            Some(answer.body.len().to_string().as_str()),
            "GET {path}"
        );
        assert!(!answer.body.is_empty(), "GET {path}");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "12 answers took {elapsed:?}"
    );
}

#[test]
fn a_json_post_creates_an_org_whose_token_then_works() {
    let local = Local::start();
    let created = local.create_org("Contoso", "contoso");
    assert_eq!(created["org"]["name"], "Contoso");
    let admin_token = created["admin_token"].as_str().expect("an admin token");

    let me = exchange(
        local.connect(),
        format!(
            "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {admin_token}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["org"]["id"], "contoso");
}

#[test]
fn head_has_no_body_but_gets_length_and_oversized_bodies_are_refused() {
    let local = Local::start();
    let head = exchange(
        local.connect(),
        b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let get = exchange(
        local.connect(),
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str()),
        "HEAD tells GET's length"
    );

    let big = format!(r#"{{"name":"{}"}}"#, "a".repeat(100 * 1024));
    let oversized = exchange(
        local.connect(),
        &post("/api/v1/orgs", &local.operator_token, &big),
    );
    assert_eq!(oversized.status, 413);
    assert_eq!(oversized.json()["error"]["code"], "payload_too_large");

    let oversized_chunked = exchange(
        local.connect(),
        &chunked_post("/api/v1/orgs", &local.operator_token, &[&big]),
    );
    assert_eq!(oversized_chunked.status, 413);
    assert_eq!(
        oversized_chunked.json()["error"]["code"],
        "payload_too_large"
    );
}

/// A POST whose body is sent as `parts`, each one chunk
/// (`Transfer-Encoding: chunked`).
fn chunked_post(path: &str, token: &str, parts: &[&str]) -> Vec<u8> {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for part in parts {
        raw.push_str(&format!("{:x}\r\n{part}\r\n", part.len()));
    }
    raw.push_str("0\r\n\r\n");
    raw.into_bytes()
}

#[test]
fn a_chunked_json_body_is_understood() {
    let local = Local::start();
    let created = exchange(
        local.connect(),
        &chunked_post(
            "/api/v1/orgs",
            &local.operator_token,
            &[r#"{"name":"Con"#, r#"toso","id":"contoso"}"#],
        ),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.json()["org"]["name"], "Contoso");
}

#[test]
fn two_requests_on_one_kept_alive_connection_are_both_answered() {
    let local = Local::start();
    let mut reader = BufReader::new(local.connect());
    for path in ["/healthz", "/"] {
        reader
            .get_mut()
            .write_all(&get(path))
            .expect("request sent");
        let answer = read_answer(&mut reader, false);
        assert_eq!(answer.status, 200, "GET {path}");
        assert!(!answer.body.is_empty(), "GET {path}");
    }
}

#[test]
fn expect_100_continue_gets_100_continue_then_the_answer() {
    let local = Local::start();
    let body = r#"{"name":"Contoso","id":"contoso"}"#;
    let mut reader = BufReader::new(local.connect());
    let head = format!(
        "POST /api/v1/orgs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        local.operator_token,
        body.len()
    );
    reader
        .get_mut()
        .write_all(head.as_bytes())
        .expect("head sent");
    let interim = read_answer(&mut reader, false);
    assert_eq!(interim.status, 100);
    reader
        .get_mut()
        .write_all(body.as_bytes())
        .expect("body sent");
    let created = read_answer(&mut reader, false);
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["org"]["id"], "contoso");
}

#[test]
fn expect_100_continue_with_an_oversized_length_gets_413_without_100_continue() {
    let local = Local::start();
    let mut reader = BufReader::new(local.connect());
    let head = format!(
        "POST /api/v1/orgs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        local.operator_token,
        10 * 1024 * 1024
    );
    reader
        .get_mut()
        .write_all(head.as_bytes())
        .expect("head sent");
    let refused = read_answer(&mut reader, false);
    assert_eq!(refused.status, 413);
    assert_eq!(refused.json()["error"]["code"], "payload_too_large");
}

#[test]
fn with_authority_and_graph_urls_it_reads_that_graph_instead_of_the_built_in_one() {
    use entra_sim::server::SimServer;
    use entra_sim::{
        DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Faults, Sim, TenantBuilder,
    };

    // Another Graph: the demo tenant plus a group the built-in one lacks.
    let mut tenant = TenantBuilder::demo().build();
    tenant.put_group(entra_sim::Group {
        id: "0f5e8c1a-7b2d-4c3e-9a1f-2b3c4d5e6f70".to_owned(),
        display_name: "Only Elsewhere".to_owned(),
        description: None,
        members: Vec::new(),
    });
    let elsewhere = SimServer::start_local(Sim::new(tenant, Faults::default())).expect("a Graph");
    let local = Local::start_with(&[
        "--authority-url",
        elsewhere.base_url(),
        "--graph-url",
        elsewhere.base_url(),
    ]);
    let token = local.create_org("Acme", "acme")["admin_token"]
        .as_str()
        .expect("an admin token")
        .to_owned();
    let connected = exchange(
        local.connect(),
        &post(
            "/api/v1/orgs/acme/directories",
            &token,
            &serde_json::json!({"name": "Elsewhere", "tenant_id": DEMO_TENANT_ID,
                                "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})
            .to_string(),
        ),
    );
    assert_eq!(connected.status, 201);
    let dir = connected.json()["directory"]["id"]
        .as_str()
        .expect("a directory id")
        .to_owned();
    let groups = exchange(
        local.connect(),
        format!(
            "GET /api/v1/orgs/acme/directories/{dir}/tenant/groups?search=Only HTTP/1.1\r\n\
             Host: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(
        groups.status,
        200,
        "{}",
        String::from_utf8_lossy(&groups.body)
    );
    let names: Vec<String> = groups.json()["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["display_name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["Only Elsewhere"]);
    assert!(elsewhere.sim().stats().graph_requests > 0);
}

/// `idp-sync-local`'s cap on connections served at once and its deadline
/// for a whole request (`api::local::MAX_CONNECTIONS`, `REQUEST_DEADLINE`).
const MAX_CONNECTIONS: usize = api::local::MAX_CONNECTIONS;
const DEADLINE: Duration = api::local::REQUEST_DEADLINE;

/// A connection that has sent the start of a request and then nothing.
fn stalled(local: &Local) -> TcpStream {
    let mut stream = local.connect();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .expect("a partial head sent");
    stream
}

/// The sockets process `pid` holds open (listeners and connections).
#[cfg(target_os = "linux")]
fn open_sockets(pid: u32) -> usize {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("/proc fds");
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The threads of process `pid`.
#[cfg(target_os = "linux")]
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc tasks")
        .count()
}

#[test]
fn a_client_trickling_header_lines_is_answered_408_and_cut_off_at_the_deadline() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let local = Local::start();
    let mut stream = local.connect();
    stream
        .set_read_timeout(Some(DEADLINE * 3))
        .expect("timeout set");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .expect("the request line sent");
    // One more header line a second, forever: each read succeeds quickly,
    // only the total is too slow.
    let done = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().expect("a second handle");
    let trickle = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_secs(1));
                n += 1;
                if writer
                    .write_all(format!("X-Slow-{n}: a\r\n").as_bytes())
                    .is_err()
                {
                    break;
                }
            }
            n
        })
    };
    let mut bytes = Vec::new();
    let read = stream.read_to_end(&mut bytes);
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let lines_sent = trickle.join().expect("the trickling thread");
    read.expect("the server answers and closes the connection");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    assert!(
        elapsed >= DEADLINE - Duration::from_millis(500)
            && elapsed < DEADLINE + Duration::from_secs(3),
        "cut off after {elapsed:?} ({lines_sent} header lines sent)"
    );
}

#[test]
fn while_slow_clients_hold_connections_a_normal_request_is_answered_promptly() {
    let local = Local::start();
    let slow: Vec<TcpStream> = (0..MAX_CONNECTIONS / 2).map(|_| stalled(&local)).collect();
    // Let the server accept them all and start waiting on each.
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let answer = exchange(local.connect(), &get("/healthz"));
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 200);
    assert!(
        elapsed < Duration::from_secs(1),
        "answered after {elapsed:?} beside {} stalled connections",
        slow.len()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connections_over_the_cap_wait_unaccepted_and_threads_stay_few() {
    let local = Local::start();
    let pid = local.child.id();
    let idle_sockets = open_sockets(pid);
    let idle_threads = threads(pid);
    let over = MAX_CONNECTIONS + 32;
    let started = Instant::now();
    let slow: Vec<TcpStream> = (0..over).map(|_| stalled(&local)).collect();
    // Give the server time to accept as many as it will.
    let accepted = || open_sockets(pid) - idle_sockets;
    let mut busy = accepted();
    let wait = Instant::now();
    while busy < MAX_CONNECTIONS && wait.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(100));
        busy = accepted();
    }
    thread::sleep(Duration::from_millis(300));
    busy = busy.max(accepted());
    assert_eq!(
        busy, MAX_CONNECTIONS,
        "connections accepted with {over} stalled connections open"
    );
    assert_eq!(threads(pid), idle_threads, "no thread per connection");
    // A request behind them waits its turn in the listen queue, is not
    // refused, and is served once the stalled ones hit their deadline.
    let answer = exchange(
        {
            let stream = local.connect();
            stream
                .set_read_timeout(Some(DEADLINE * 3))
                .expect("timeout set");
            stream
        },
        &get("/healthz"),
    );
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 200);
    assert!(
        elapsed >= DEADLINE - Duration::from_secs(1)
            && elapsed < DEADLINE * 2 + Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    eprintln!(
        "{over} stalled connections: {busy} accepted; the next request was answered after {elapsed:?}"
    );
    drop(slow);
}
