//! One run driven the way idp-sync-local drives it: the engine over a
//! counting in-memory store, a Graph client per invocation over `ureq` to
//! the simulator, invocations with the default budget until the run
//! finishes. Every Graph and token request is recorded for the floor.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use engine::heap_meter;
use engine::ports::{IdentitySource, MailError, Mailer, Notice, OutgoingEmail, SourceError};
use engine::{
    AdvanceOutcome, Budget, Engine, EngineError, NewDirectory, SettingsInput, SystemClock, Trigger,
    UserScope, testing,
};
use graph::native::{ThreadPause, UreqClient};
use graph::{GraphClient, GraphConfig, HttpClient, TransportError};

use crate::placement::Placement;
use crate::store::OffHeapStore;
use crate::tenants::credentials;

const ORG: &str = "acme";

/// Why a run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("Graph client configuration: {0}")]
    Config(#[from] graph::ConfigError),
    #[error("the run ended {0}")]
    Unfinished(String),
    #[error("warming the simulator up: {0}")]
    WarmUp(SourceError),
}

/// One request the Graph client sent, as sent.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: http::Method,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// Sends through `ureq` and keeps a copy of every request.
#[derive(Clone)]
struct Recording {
    inner: UreqClient,
    log: Rc<RefCell<Vec<Recorded>>>,
}

impl HttpClient for Recording {
    /// As [`UreqClient`]'s own `send`: the exchange on a thread of the
    /// `blocking` crate's pool, here placed on the transport's CPUs
    /// (`placement.rs`). That thread is unmetered: the request crosses to
    /// it as an unmetered copy, and the answer comes back as a metered
    /// one, so the meter neither keeps what that thread frees nor loses
    /// what it allocated.
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.log.borrow_mut().push(Recorded {
            method: req.method().clone(),
            uri: req.uri().to_string(),
            headers: req.headers().clone(),
            body: req.body().clone(),
        });
        let sent = crate::alloc::unmetered(|| req.clone());
        let (client, placement) = (self.inner.clone(), Placement::current());
        let answer = blocking::unblock(move || {
            placement.enter_transport();
            client.exchange(sent)
        })
        .await;
        let copy = answer.clone();
        crate::alloc::unmetered(|| drop(answer));
        copy
    }
}

/// A Graph client of the simulator at `base_url`, with the tenant's
/// credentials, over `http`, within `budget`.
fn graph_client<H: HttpClient>(
    base_url: &str,
    http: H,
    budget: Budget,
) -> Result<GraphClient<H, ThreadPause>, DriveError> {
    let creds = credentials();
    let config = GraphConfig {
        authority: base_url.to_owned(),
        graph_base: base_url.to_owned(),
        tenant_id: creds.tenant_id,
        client_id: creds.client_id,
        client_secret: creds.client_secret,
        time_budget: Some(Duration::from_millis(budget.max_millis)),
    };
    Ok(GraphClient::new(config, http, ThreadPause::default())?)
}

/// Warms the simulator at `base_url` up before a fixture's first run: a
/// token and one page of users, read by a Graph client of its own and
/// dropped. A fresh simulator served its first page of members in
/// 10–13 ms, against 6–7 ms for the same page warm (its threads' heaps
/// and caches are cold); the floor, fetched after the run, always found
/// it warm. Warmed first, it serves the run and the floor alike
/// (decision 0014).
pub fn warm_up(base_url: &str) -> Result<(), DriveError> {
    let client = graph_client(base_url, UreqClient::default(), Budget::default())?;
    let page = futures::executor::block_on(client.users(None)).and_then(|page| page.decode());
    page.map(drop).map_err(DriveError::WarmUp)
}

/// The mailer of a run without emails.
struct NoMail;

impl Mailer for NoMail {
    async fn send(&self, _: &OutgoingEmail) -> Result<(), MailError> {
        Ok(())
    }

    async fn notify(&self, _: &Notice) -> Result<(), MailError> {
        Ok(())
    }
}

/// An org with one directory connected to the simulator at `base_url`.
pub struct Directory {
    pub store: OffHeapStore,
    dir: String,
    base_url: String,
    http: UreqClient,
}

/// What one run cost.
#[derive(Debug, Clone, Default)]
pub struct RunCost {
    pub graph_requests: u64,
    pub token_requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub keys: usize,
    pub bytes_written: u64,
    pub largest_value: usize,
    /// Wall time of each invocation, in order.
    pub invocations: Vec<Duration>,
    pub heap_peak: usize,
    pub wall: Duration,
    /// Every request sent, for the floor.
    pub requests: Vec<Recorded>,
    /// Set when the run was stopped before it finished.
    pub stopped: Option<String>,
}

/// When to give up on a run, and each invocation's budget.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub wall: Duration,
    pub heap_bytes: usize,
    /// The product's default; longer under a profiler (`--budget-ms`),
    /// which runs the engine tens of times slower, so that its
    /// invocations end where a native run's do.
    pub budget: Budget,
}

impl Drop for Directory {
    /// Frees the HTTP agent off the meter: its pooled connections were
    /// opened on the transport's (unmetered) threads.
    fn drop(&mut self) {
        let http = std::mem::take(&mut self.http);
        crate::alloc::unmetered(|| drop(http));
    }
}

impl Directory {
    /// Creates the org, connects the directory and saves `scope`.
    pub fn connect(base_url: &str, scope: UserScope) -> Result<Directory, DriveError> {
        let store = OffHeapStore::default();
        let dir = futures::executor::block_on(async {
            let engine = Engine::new(&store, &SystemClock);
            engine.create_org(ORG, "Acme", vec![0]).await?;
            let directory = engine
                .connect_directory(
                    ORG,
                    NewDirectory {
                        name: "Entra".into(),
                        tenant_id: credentials().tenant_id,
                        client_id: credentials().client_id,
                        sealed_secret: vec![1],
                    },
                )
                .await?;
            let settings = SettingsInput {
                send_email: false,
                ..testing::settings(scope)
            };
            engine
                .save_settings(ORG, directory.id.as_str(), settings, None)
                .await?;
            Ok::<_, DriveError>(directory.id.to_string())
        })?;
        Ok(Directory {
            store,
            dir,
            base_url: base_url.to_owned(),
            http: UreqClient::default(),
        })
    }

    /// A Graph client for one invocation, as the platform builds one.
    fn client(
        &self,
        http: Recording,
        budget: Budget,
    ) -> Result<GraphClient<Recording, ThreadPause>, DriveError> {
        graph_client(&self.base_url, http, budget)
    }

    /// Starts a run (Sync pressed) and advances it, one invocation after
    /// another, until it finishes or passes `limits`.
    pub fn sync(&self, limits: Limits) -> Result<RunCost, DriveError> {
        let budget = limits.budget;
        let http = Recording {
            inner: self.http.clone(),
            log: Rc::default(),
        };
        self.store.reset_stats();
        let baseline = heap_meter::reset_peak();
        let mut cost = RunCost::default();
        let started = Instant::now();
        let engine = Engine::new(&self.store, &SystemClock);
        let mut first = true;
        loop {
            let invocation = Instant::now();
            let client = self.client(http.clone(), budget)?;
            let outcome = futures::executor::block_on(async {
                if first {
                    engine
                        .start_sync(ORG, &self.dir, &client, Trigger::Manual)
                        .await?;
                }
                engine
                    .advance(ORG, &self.dir, &client, &NoMail, budget)
                    .await
            })?;
            first = false;
            cost.invocations.push(invocation.elapsed());
            let stats = client.stats();
            cost.graph_requests += stats.graph_requests;
            cost.token_requests += stats.token_requests;
            match outcome {
                AdvanceOutcome::Finished { .. } => break,
                AdvanceOutcome::Progressed { .. } => {}
                other => return Err(DriveError::Unfinished(format!("{other:?}"))),
            }
            if started.elapsed() > limits.wall {
                cost.stopped = Some(format!("stopped: > {} min", limits.wall.as_secs() / 60));
                break;
            }
            if heap_meter::in_use() > limits.heap_bytes {
                cost.stopped = Some(format!("stopped: heap > {} GiB", limits.heap_bytes >> 30));
                break;
            }
        }
        cost.wall = started.elapsed();
        let stats = self.store.stats();
        // The store's contents are off the meter: the peak above the
        // baseline is the engine's (and the Graph client's).
        cost.heap_peak = heap_meter::peak().saturating_sub(baseline);
        cost.reads = stats.reads;
        cost.writes = stats.writes;
        cost.keys = self.store.key_count();
        cost.bytes_written = stats.bytes_written;
        cost.largest_value = stats.max_value_bytes;
        cost.requests = http.log.take();
        Ok(cost)
    }
}
