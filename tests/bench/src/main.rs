//! `bench`: issue 13's benchmark. Sync runs of generated tenants through
//! the real path (the engine over a counting in-memory store, the Graph
//! client over loopback HTTP to `entra-sim`'s native server, invocations
//! with the default budget), each measured against the floor: the same
//! pages fetched by one plain keep-alive HTTP client in the same run.
//!
//! ```text
//! cargo run -p bench --release -- [--scenario NAME] [--scale small|full] [--markdown]
//!     [--budget-ms MS] [--shared-cores]
//! ```
//! By default the engine's thread gets a core of its own and the
//! simulator's and the transport's threads the others (`placement.rs`,
//! decision 0014); `--shared-cores` leaves every thread to the scheduler.
//! `--budget-ms` sets each invocation's budget (default: the product's), for
//! a profiler that runs the engine tens of times slower (callgrind: about
//! 40×) and would otherwise split the run into other invocations.
//! A benchmark, not a test: it asserts nothing about time.

mod alloc;
mod drive;
mod floor;
mod placement;
mod scenarios;
mod store;
mod table;
mod tenants;

use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use drive::Limits;
use engine::Budget;
use scenarios::{Measured, Scale};

#[global_allocator]
static ALLOCATOR: alloc::MeteredThreads = alloc::MeteredThreads;

const USAGE: &str = "usage: bench [--scenario NAME] [--scale small|full] [--markdown] [--budget-ms MS] [--shared-cores]";

/// A run stops between invocations after this long, or with this much heap.
const WALL_LIMIT: Duration = Duration::from_secs(15 * 60);
const HEAP_LIMIT: usize = 20 << 30;

/// How long to wait for a scenario on top of its own limit, in case one
/// invocation never ends.
const GRACE: Duration = Duration::from_secs(5 * 60);

/// The command line.
struct Options {
    scenario: Option<String>,
    scale: Scale,
    markdown: bool,
    /// Each invocation's budget (default: the product's).
    budget: Budget,
    /// Every thread left to the scheduler (`placement.rs`).
    shared_cores: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        scenario: None,
        scale: Scale::Full,
        markdown: false,
        budget: Budget::default(),
        shared_cores: false,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--markdown" => options.markdown = true,
            "--shared-cores" => options.shared_cores = true,
            "--budget-ms" => {
                let ms = args.next().and_then(|ms| ms.parse().ok());
                options.budget.max_millis = ms.ok_or("--budget-ms takes milliseconds")?;
            }
            "--scale" => {
                options.scale = match args.next().as_deref() {
                    Some("small") => Scale::Small,
                    Some("full") => Scale::Full,
                    other => return Err(format!("--scale takes small or full, not {other:?}")),
                }
            }
            "--scenario" => {
                let name = args.next().ok_or("--scenario needs a name")?;
                if !scenarios::names().contains(&name.as_str()) {
                    return Err(format!(
                        "no scenario {name:?}; there are: {}",
                        scenarios::names().join(", ")
                    ));
                }
                options.scenario = Some(name);
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    // As idp-sync-local does; the simulator, in this process, too.
    native_server::keep_freed_memory();
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (rows, results) = mpsc::channel::<Measured>();
    let scale = options.scale;
    let only = options.scenario.clone();
    let limits = Limits {
        wall: WALL_LIMIT,
        heap_bytes: HEAP_LIMIT,
        budget: options.budget,
    };
    let placement = placement::Placement::choose(options.shared_cores);
    // The engine's thread, metered; a large stack as a Spin host gives.
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            alloc::meter_this_thread();
            placement.enter_engine();
            scenarios::run(scale, only.as_deref(), limits, |row| {
                eprintln!(
                    "bench: {} done in {:.2} s",
                    row.label,
                    row.cost.wall.as_secs_f64()
                );
                // The receiver outlives the worker unless it gave up.
                let _ = rows.send(row);
            })
        });
    let worker = match worker {
        Ok(worker) => worker,
        Err(e) => {
            eprintln!("bench: cannot start the engine's thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut measured = Vec::new();
    let mut gave_up = None;
    loop {
        match results.recv_timeout(WALL_LIMIT + GRACE) {
            Ok(row) => measured.push(row),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                gave_up = Some(format!(
                    "stopped: the next scenario did not end an invocation within {} min",
                    (WALL_LIMIT + GRACE).as_secs() / 60
                ));
                break;
            }
        }
    }
    let render = if options.markdown {
        table::markdown
    } else {
        table::text
    };
    print!("{}", render(&measured));
    println!("\nThreads: {}.", placement.describe());
    if let Some(why) = gave_up {
        println!("{why}");
        // The engine's thread is stuck in an invocation: leave it.
        return ExitCode::FAILURE;
    }
    match worker.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("bench: the engine's thread panicked");
            ExitCode::FAILURE
        }
    }
}
