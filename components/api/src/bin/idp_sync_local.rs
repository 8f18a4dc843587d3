//! `idp-sync-local`: the API served natively, for development, the console's
//! browser tests and the native end-to-end suite.
//!
//! It keeps everything in memory: the engine's `MemoryStore`, a simulated
//! Entra tenant (the `demo` preset, or `--preset large|huge`) served on an
//! ephemeral loopback port, and ticks pumped on the serving thread between
//! requests, as the cron trigger would (see `api::local`). On start it prints, one `key: value`
//! per line, the operator token, the demo tenant's credentials and, last,
//! `listening on http://127.0.0.1:PORT`.
//!
//! Usage: `idp-sync-local [--port 3000] [--preset demo] [--tick-ms 1000]
//! [--page-budget N] [--sim-latency-ms N] [--authority-url URL]
//! [--graph-url URL]` (`--page-budget` and `--sim-latency-ms` make runs
//! visibly span several ticks, e.g. to watch the console's progress bar;
//! the default 3 s budget grows by four simulated latencies, so that a Sync
//! press still has time for the answers it waits for;
//! `--authority-url` and `--graph-url` read another Graph than the built-in
//! simulator, e.g. `https://login.microsoftonline.com` and
//! `https://graph.microsoft.com` for a real tenant).
//! Variables `IDP_SYNC_OPERATOR_TOKEN`, `IDP_SYNC_ENCRYPTION_KEY`,
//! `IDP_SYNC_INVOCATION_BUDGET_MS`, `IDP_SYNC_PAGE_BUDGET` override the
//! generated or default values.
//!
//! Logs are JSON lines on stderr (the `logging` crate); the start-up lines
//! above stay plain on stdout, where scripts and tests read them.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native_server::keep_freed_memory();
    logging::init();
    match native::run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "idp-sync-local stopped");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::net::TcpListener;
    use std::time::Duration;

    use anyhow::{Context, anyhow, bail};
    use api::App;
    use base64::Engine as _;
    use entra_sim::server::SimServer;
    use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Faults, Preset, Sim};
    use futures::executor::block_on;
    use platform::config::names;
    use platform::native::NativePlatform;
    use platform::{AppConfig, MapVariables};

    /// Sync work per request or tick when not configured: short, so the
    /// console stays responsive and progress is visible.
    const LOCAL_BUDGET_MS: u64 = 3000;

    /// Simulated answers' latency the default budget makes room for on top
    /// of [`LOCAL_BUDGET_MS`]: a Sync press waits for a token, the domains
    /// and the selected groups before it answers.
    const ANSWERS_PER_PRESS: u64 = 4;

    const USAGE: &str = "usage: idp-sync-local [--port 3000] [--preset demo|large|huge] \
                         [--tick-ms 1000] [--page-budget N] [--sim-latency-ms N] \
                         [--authority-url URL] [--graph-url URL]";

    struct Options {
        port: u16,
        preset: Preset,
        tick: Duration,
        /// Graph pages per request or tick (small values make runs visibly
        /// span many ticks).
        page_budget: Option<u32>,
        /// Added to every response of the simulated tenant.
        sim_latency_ms: u64,
        /// The Entra token authority (default: the built-in simulator).
        authority_url: Option<String>,
        /// The Graph base URL (default: the built-in simulator).
        graph_url: Option<String>,
    }

    fn parse(args: Vec<String>) -> anyhow::Result<Options> {
        let mut options = Options {
            port: 3000,
            preset: Preset::Demo,
            tick: Duration::from_secs(1),
            page_budget: None,
            sim_latency_ms: 0,
            authority_url: None,
            graph_url: None,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| anyhow!("{flag} needs a value"));
            match flag.as_str() {
                "--port" => {
                    options.port = value()?.parse().context("--port takes a number")?;
                }
                "--preset" => {
                    let name = value()?;
                    options.preset = Preset::parse(&name)
                        .with_context(|| format!("unknown preset {name:?} (demo, large, huge)"))?;
                }
                "--tick-ms" => {
                    let ms: u64 = value()?.parse().context("--tick-ms takes a number")?;
                    options.tick = Duration::from_millis(ms.max(100));
                }
                "--page-budget" => {
                    let pages = value()?.parse().context("--page-budget takes a number")?;
                    options.page_budget = Some(pages);
                }
                "--sim-latency-ms" => {
                    options.sim_latency_ms = value()?
                        .parse()
                        .context("--sim-latency-ms takes a number")?;
                }
                "--authority-url" => options.authority_url = Some(value()?),
                "--graph-url" => options.graph_url = Some(value()?),
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} ({USAGE})"),
            }
        }
        Ok(options)
    }

    /// `host/path (scheme)`: the first `http://` URL printed is the app's.
    fn without_scheme(url: &str) -> String {
        match url.split_once("://") {
            Some((scheme, rest)) => format!("{rest} ({scheme})"),
            None => url.to_owned(),
        }
    }

    fn random_base64(bytes: usize) -> anyhow::Result<String> {
        let mut buf = vec![0u8; bytes];
        getrandom::fill(&mut buf).map_err(|e| anyhow!("drawing random bytes: {e}"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(buf))
    }

    pub fn run(args: Vec<String>) -> anyhow::Result<()> {
        let options = parse(args)?;
        let sim = SimServer::start_local(Sim::preset(options.preset))
            .context("starting the simulated tenant on loopback")?;
        sim.sim().set_faults(Faults {
            latency_ms: options.sim_latency_ms,
            ..Faults::default()
        });

        let mut vars = MapVariables::from_env("IDP_SYNC_");
        let mut default = |name: &str, value: String| {
            if block_on(platform::Variables::get(&vars, name))
                .ok()
                .flatten()
                .is_none()
            {
                vars.set(name, &value);
            }
        };
        default(
            names::OPERATOR_TOKEN,
            format!("op-{}", random_base64(24)?.replace(['+', '/', '='], "")),
        );
        default(names::ENCRYPTION_KEY, random_base64(32)?);
        let budget = LOCAL_BUDGET_MS + ANSWERS_PER_PRESS * options.sim_latency_ms;
        default(names::INVOCATION_BUDGET_MS, budget.to_string());
        if let Some(pages) = options.page_budget {
            vars.set(names::PAGE_BUDGET, &pages.to_string());
        }
        let authority = options.authority_url.as_deref().unwrap_or(sim.base_url());
        let graph = options.graph_url.as_deref().unwrap_or(sim.base_url());
        vars.set(names::AUTHORITY_URL, authority);
        vars.set(names::GRAPH_URL, graph);
        let config = block_on(AppConfig::load(&vars)).context("reading the configuration")?;

        let binding = || format!("binding 127.0.0.1:{}", options.port);
        let listener = TcpListener::bind(("127.0.0.1", options.port)).with_context(binding)?;
        let addr = listener.local_addr().with_context(binding)?;

        println!("operator token: {}", config.operator_token);
        println!("demo tenant id: {DEMO_TENANT_ID}");
        println!("demo client id: {DEMO_CLIENT_ID}");
        println!("demo client secret: {DEMO_CLIENT_SECRET}");
        // Without a scheme: the first `http://` URL printed is the app's.
        println!(
            "simulated tenant: {} ({:?} preset)",
            sim.base_url().trim_start_matches("http://"),
            options.preset
        );
        println!("entra authority: {}", without_scheme(authority));
        println!("graph: {}", without_scheme(graph));
        println!("listening on http://{addr}");

        let app = App {
            platform: NativePlatform::new(Duration::from_secs(10)),
            config,
        };
        api::local::serve(listener, app, options.tick)
            .with_context(|| format!("serving http://{addr}"))
    }
}
