//! Starting the app under test, on a free port, with fresh state.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::client::Client;

/// The simulated tenant's preset both targets serve: the demo tenant plus a
/// 10,000-user and a 10,001-user group.
pub const PRESET: &str = "large";

/// A running app; stopped (and its state removed) when dropped.
pub struct Server {
    /// What it is, for messages: `idp-sync-local` or `spin up`.
    pub name: &'static str,
    pub client: Client,
    pub operator_token: String,
    child: Child,
    state_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("building idp-sync-local failed: {0}")]
    Build(String),
    #[error("starting {what} failed: {message}")]
    Start { what: &'static str, message: String },
    #[error("{what} did not become ready within {secs}s; its output:\n{output}")]
    NotReady {
        what: &'static str,
        secs: u64,
        output: String,
    },
}

/// Why the `spin up` target cannot run here.
#[derive(Debug)]
pub enum Unavailable {
    SpinNotOnPath,
    CronPluginMissing,
}

/// The trigger-cron release whose world (`fermyon:spin-cron@2.0.0`) the
/// scheduler component exports; other releases export other worlds.
pub const CRON_PLUGIN_VERSION: &str = "0.4.2";

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::SpinNotOnPath => f.write_str("spin not on PATH"),
            Unavailable::CronPluginMissing => write!(
                f,
                "the trigger-cron plugin {CRON_PLUGIN_VERSION} is not installed \
                 (spin plugins install trigger-cron --version {CRON_PLUGIN_VERSION})"
            ),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.state_dir.is_some() {
            // `spin up` runs each trigger as a child process in its own
            // process group: interrupt the group, as Ctrl-C would, so no
            // trigger outlives the test; kill it if it lingers.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-INT", "--", &group]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.state_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The repository root: `IDP_SYNC_ROOT`, else two levels above this crate.
pub fn repo_root() -> PathBuf {
    std::env::var_os("IDP_SYNC_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

fn free_port() -> Result<u16, StartError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| StartError::Start {
        what: "a listener",
        message: e.to_string(),
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| StartError::Start {
            what: "a listener",
            message: e.to_string(),
        })
}

/// Forwards the child's output lines to a channel (and keeps draining it,
/// so the child never blocks on a full pipe).
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let streams: Vec<Box<dyn std::io::Read + Send>> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for stream in streams {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                // The receiver is gone once the app is ready; keep draining.
                let _ = tx.send(line);
            }
        });
    }
    rx
}

/// `idp-sync-local`, built by cargo unless `IDP_SYNC_LOCAL_BIN` names it.
fn local_binary() -> Result<PathBuf, StartError> {
    if let Some(path) = std::env::var_os("IDP_SYNC_LOCAL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "api",
            "--bin",
            "idp-sync-local",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| StartError::Build(e.to_string()))?;
    if !output.status.success() {
        return Err(StartError::Build(format!(
            "cargo exited with {}",
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| message["target"]["name"] == "idp-sync-local")
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| StartError::Build("cargo reported no idp-sync-local executable".into()))
}

/// Starts `idp-sync-local` (in-memory store, simulator on loopback) on a
/// free port; ticks every 200 ms so runs advance quickly.
pub fn start_local() -> Result<Server, StartError> {
    let binary = local_binary()?;
    let what = "idp-sync-local";
    let mut child = Command::new(&binary)
        .args(["--port", "0", "--preset", PRESET, "--tick-ms", "200"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| StartError::Start {
            what,
            message: format!("{}: {e}", binary.display()),
        })?;
    let lines = lines_of(&mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut output = String::new();
    let mut operator_token = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        output.push_str(&line);
        output.push('\n');
        if let Some(token) = line.strip_prefix("operator token: ") {
            operator_token = Some(token.trim().to_owned());
        }
        if let Some(url) = line.strip_prefix("listening on ") {
            let operator_token = operator_token.ok_or_else(|| StartError::Start {
                what,
                message: "it printed no operator token".into(),
            })?;
            return Ok(Server {
                name: what,
                client: Client::new(url.trim()),
                operator_token,
                child,
                state_dir: None,
            });
        }
    }
    let _ = child.kill();
    Err(StartError::NotReady {
        what,
        secs: 60,
        output,
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Starts `spin up` on the repository's spin.toml (its wasm components
/// already built, as `scripts/test.sh` does before this suite) on a free
/// port with a fresh state directory, so the key-value store starts empty.
pub fn start_spin() -> Result<Result<Server, Unavailable>, StartError> {
    if !on_path("spin") {
        return Ok(Err(Unavailable::SpinNotOnPath));
    }
    let plugins = Command::new("spin")
        .args(["plugins", "list", "--installed"])
        .output()
        .map_err(|e| StartError::Start {
            what: "spin plugins list",
            message: e.to_string(),
        })?;
    let listed = String::from_utf8_lossy(&plugins.stdout);
    if !listed.contains(&format!("trigger-cron {CRON_PLUGIN_VERSION}")) {
        return Ok(Err(Unavailable::CronPluginMissing));
    }

    let what = "spin up";
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let state_dir =
        std::env::temp_dir().join(format!("idp-sync-e2e-{}-{port}", std::process::id()));
    let operator_token = format!("e2e-operator-token-{}-{port}", std::process::id());
    let root = repo_root();
    let mut child = Command::new("spin")
        // Its own process group, so the triggers it starts can be stopped
        // together (see `Drop`).
        .process_group(0)
        .current_dir(&root)
        .arg("up")
        .arg("-f")
        .arg(root.join("spin.toml"))
        .arg("--state-dir")
        .arg(&state_dir)
        // Through the environment: the cron trigger takes no --listen.
        .env("SPIN_HTTP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("SPIN_VARIABLE_OPERATOR_TOKEN", &operator_token)
        .env("SPIN_VARIABLE_AUTHORITY_URL", format!("{base}/sim"))
        .env("SPIN_VARIABLE_GRAPH_URL", format!("{base}/sim"))
        .env("SPIN_VARIABLE_ENTRA_SIM_PRESET", PRESET)
        .env("SPIN_VARIABLE_INVOCATION_BUDGET_MS", "10000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| StartError::Start {
            what,
            message: e.to_string(),
        })?;
    let lines = lines_of(&mut child);
    let server = Server {
        name: what,
        client: Client::new(&base),
        operator_token,
        child,
        state_dir: Some(state_dir),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(reply) = server.client.send("GET", "/healthz", None, None, None)
            && reply.status == 200
        {
            return Ok(Ok(server));
        }
        thread::sleep(Duration::from_millis(250));
    }
    Err(StartError::NotReady {
        what,
        secs: 120,
        output: lines.try_iter().collect::<Vec<_>>().join("\n"),
    })
}
