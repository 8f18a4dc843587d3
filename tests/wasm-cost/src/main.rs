//! `wasm-cost`: the engine's own work timed in the binary it is compiled
//! to, so the same work can be compared natively and as `wasm32-wasip2`
//! under wasmtime (`scripts/wasm-cost.sh` builds and runs both). A first
//! sync and a one-user delta run of a generated tenant, through the engine
//! over its in-memory store and tenant with a manual clock: no network, no
//! async runtime, nothing that does not build for WASI.
//!
//! ```text
//! wasm-cost [--users N] [--repeat R]
//! ```
//! Prints each part's engine calls, their total and longest wall time in
//! milliseconds, the best of R fresh repetitions. A benchmark: it asserts
//! nothing about time.

mod fixture;
mod parts;
mod ready;

use std::process::ExitCode;

use parts::Part;

const USAGE: &str = "usage: wasm-cost [--users N] [--repeat R]";

/// Why a measurement stopped.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Waited(#[from] ready::Waited),
    /// The run neither progressed nor finished (busy, idle or waiting).
    #[error("the run stopped advancing: {0:?}")]
    Stalled(engine::AdvanceOutcome),
    #[error("the run did not finish in {0} invocations")]
    Endless(usize),
}

/// The command line.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    /// Users in the generated tenant.
    users: usize,
    /// Fresh repetitions; each figure is the smallest measured.
    repeat: usize,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        users: 50_000,
        repeat: 3,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (flag.as_str(), value) {
            ("--users", Some(n)) if n > 0 => options.users = n,
            ("--repeat", Some(n)) if n > 0 => options.repeat = n,
            _ => return Err(format!("{flag:?} needs a positive number, or is unknown")),
        }
    }
    Ok(options)
}

/// The parts measured `repeat` times, each figure the smallest, and their
/// sum.
fn best_of(options: &Options) -> Result<Vec<Part>, CostError> {
    let mut best = parts::measure(options.users)?;
    for _ in 1..options.repeat {
        let again = parts::measure(options.users)?;
        best = best
            .into_iter()
            .zip(&again)
            .map(|(b, a)| b.min(a))
            .collect();
    }
    best.push(Part::sum("all parts", &best));
    Ok(best)
}

fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The table: one row per part, columns at least two spaces apart
/// (`scripts/wasm-cost.sh` splits on that).
fn print(options: &Options, parts: &[Part]) {
    println!(
        "wasm-cost: {} users in groups of {}, best of {}, compiled for {}",
        options.users,
        fixture::GROUP_SIZE,
        options.repeat,
        std::env::consts::ARCH,
    );
    println!(
        "{:<36}  {:>6}  {:>10}  {:>10}",
        "part", "calls", "total ms", "longest ms"
    );
    for p in parts {
        println!(
            "{:<36}  {:>6}  {:>10.2}  {:>10.2}",
            p.name,
            p.calls,
            millis(p.total),
            millis(p.longest)
        );
    }
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("{why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match best_of(&options) {
        Ok(parts) => {
            print(&options, &parts);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("wasm-cost: {err}");
            ExitCode::FAILURE
        }
    }
}
