//! Which CPUs the benchmark's threads run on (decision 0014).
//!
//! On a Spin host, Graph is a remote service and the host carries the
//! component's HTTP on its own threads: nothing of theirs competes with
//! the engine's thread for a core. Here the simulator standing in for
//! Graph shares the machine with the engine, and on 2 cores the
//! scheduler, left alone, queued the simulator's thread behind the
//! engine's for up to 2 ms a page (`perf sched` on the 10,000-user first
//! sync): the run measured the machine's two cores, not the engine.
//!
//! So, by default, the engine's thread (which runs the floor's client
//! too) gets the last CPU the process may use, and the simulator's and
//! the HTTP transport's threads get the others. The run and its floor
//! are measured alike. `--shared-cores`, a single CPU, or a system that
//! refuses affinity leaves every thread to the scheduler.

use std::cell::Cell;
use std::sync::OnceLock;

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The CPUs of each side, or none (every thread where the scheduler
/// puts it).
#[derive(Clone, Copy)]
pub struct Placement {
    sides: Option<Sides>,
    /// `--shared-cores` was given (else none only for want of CPUs or of
    /// the system's consent).
    asked_shared: bool,
}

#[derive(Clone, Copy)]
struct Sides {
    engine: CpuSet,
    others: CpuSet,
}

static PLACEMENT: OnceLock<Placement> = OnceLock::new();

thread_local! {
    /// Whether this (transport) thread was moved to the others' CPUs.
    static MOVED: Cell<bool> = const { Cell::new(false) };
}

impl Placement {
    /// Chooses the CPUs (none when `shared`) from those the process may
    /// use, once per process; later calls return the first choice.
    pub fn choose(shared: bool) -> Placement {
        *PLACEMENT.get_or_init(|| Placement::of(shared))
    }

    /// The CPUs of each side (none when `shared`), from those the calling
    /// thread may use.
    fn of(shared: bool) -> Placement {
        Placement {
            sides: (!shared).then(split_cpus).flatten(),
            asked_shared: shared,
        }
    }

    /// The placement chosen, or none if [`Placement::choose`] was not called.
    pub fn current() -> Placement {
        PLACEMENT.get().copied().unwrap_or(Placement {
            sides: None,
            asked_shared: false,
        })
    }

    /// How the table names it.
    pub fn describe(&self) -> &'static str {
        match (self.sides, self.asked_shared) {
            (Some(_), _) => "the engine's thread on a core of its own",
            (None, true) => "every thread where the scheduler puts it (--shared-cores)",
            (None, false) => {
                "every thread where the scheduler puts it (fewer than two CPUs, or affinity refused)"
            }
        }
    }

    /// Moves the calling thread (the engine's) to the engine's CPU.
    pub fn enter_engine(&self) {
        if let Some(sides) = &self.sides {
            set_this_thread(&sides.engine);
        }
    }

    /// Runs `f` on the others' CPUs, so that the threads it starts (the
    /// simulator's) are placed there; the calling thread moves back to
    /// the engine's CPU after.
    pub fn others_start<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(sides) = &self.sides else {
            return f();
        };
        set_this_thread(&sides.others);
        let out = f();
        set_this_thread(&sides.engine);
        out
    }

    /// Moves the calling thread (an HTTP transport thread) to the others'
    /// CPUs, once per thread.
    pub fn enter_transport(&self) {
        if let Some(sides) = &self.sides
            && !MOVED.replace(true)
        {
            set_this_thread(&sides.others);
        }
    }
}

/// The last CPU the process may use for the engine, the rest for the
/// others; `None` with fewer than two.
fn split_cpus() -> Option<Sides> {
    let allowed = sched_getaffinity(Pid::from_raw(0)).ok()?;
    let cpus: Vec<usize> = (0..CpuSet::count())
        .filter(|&c| allowed.is_set(c).unwrap_or(false))
        .collect();
    let (&last, rest) = cpus.split_last()?;
    if rest.is_empty() {
        return None;
    }
    let mut engine = CpuSet::new();
    engine.set(last).ok()?;
    let mut others = CpuSet::new();
    for &c in rest {
        others.set(c).ok()?;
    }
    Some(Sides { engine, others })
}

/// Best effort: a refusal leaves the thread where it was (the run is
/// still measured, only less evenly).
fn set_this_thread(cpus: &CpuSet) {
    if let Err(e) = sched_setaffinity(Pid::from_raw(0), cpus) {
        eprintln!("bench: could not place a thread ({e}); it runs where the scheduler puts it");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    /// This thread on the first CPU it may use, alone.
    fn on_one_cpu() {
        let allowed = sched_getaffinity(Pid::from_raw(0)).unwrap();
        let first = (0..CpuSet::count())
            .find(|&c| allowed.is_set(c).unwrap_or(false))
            .unwrap();
        let mut one = CpuSet::new();
        one.set(first).unwrap();
        sched_setaffinity(Pid::from_raw(0), &one).unwrap();
    }

    #[test]
    fn on_one_cpu_every_thread_is_shared_and_the_table_does_not_blame_the_flag() {
        on_one_cpu();
        let placement = Placement::of(false);
        assert!(placement.sides.is_none());
        let described = placement.describe();
        assert!(described.contains("scheduler"), "{described}");
        assert!(!described.contains("--shared-cores"), "{described}");
        assert!(Placement::of(true).describe().contains("--shared-cores"));
    }
}
