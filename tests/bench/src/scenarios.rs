//! Issue 13's scenarios: the fixtures (a tenant served by the simulator and
//! a directory syncing it), the runs made on each, their lower bounds and
//! the targets.

use std::time::Duration;

use engine::UserScope;
use entra_sim::server::SimServer;
use entra_sim::{Faults, Sim, Tenant};

use crate::alloc::unmetered;
use crate::drive::{self, Directory, DriveError, Limits, RunCost};
use crate::floor::{self, Floor, FloorError};
use crate::placement::Placement;
use crate::tenants::{self, Shape};

/// How big the tenants are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Issue 13's sizes.
    Full,
    /// Every size divided by 100: proves the bench works, in seconds.
    Small,
}

impl Scale {
    fn of(self, n: u64) -> u64 {
        match self {
            Scale::Full => n,
            Scale::Small => (n / 100).max(1),
        }
    }
}

/// Who the directory syncs.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// The first group of every chain (and, through nesting, the rest).
    ChainRoots,
    AllUsers,
}

/// What happens in the tenant before a run.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Nothing: the first run, or an unchanged re-run.
    None,
    OneUserAdded,
    OnePercentRenamed,
}

/// One run of a fixture, a row of the table.
#[derive(Debug, Clone, Copy)]
struct Step {
    name: &'static str,
    change: Change,
    targets: &'static [Target],
}

/// A tenant and the runs made on it, in order.
struct Fixture {
    shape: Shape,
    scope: Scope,
    /// Added to every answer of the simulator (Graph and token), in ms: 0
    /// answers as fast as the simulator can.
    latency_ms: u64,
    steps: &'static [Step],
}

/// The added latency of the slow-Graph scenario: every answer 100 ms late,
/// for the run and its floor alike.
const SLOW_GRAPH_MS: u64 = 100;

/// An upper limit from issue 13.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The run finishes (within the bench's limits).
    Completes,
    WallOverFloor(f64),
    Reads(u64),
    Writes(u64),
    WallSecs(f64),
    HeapMiB(usize),
    LongestInvocationSecs(f64),
    /// At most ceil(users / 999) + this many Graph requests.
    RequestsOverUserPages(u64),
    GraphRequests(u64),
    LargestValueMiB(usize),
}

const FIRST_SYNC: Change = Change::None;

fn fixtures(scale: Scale) -> Vec<Fixture> {
    let sized = |users: u64, groups: u64, group_size: u64, chain: u64| Shape {
        users: scale.of(users),
        groups,
        group_size: scale.of(group_size),
        chain,
    };
    vec![
        Fixture {
            shape: sized(10_000, 1, 10_000, 1),
            scope: Scope::ChainRoots,
            latency_ms: 0,
            steps: &[Step {
                name: "group-first-sync",
                change: FIRST_SYNC,
                targets: &[Target::WallOverFloor(1.5)],
            }],
        },
        Fixture {
            shape: sized(10_000, 1, 10_000, 1),
            scope: Scope::ChainRoots,
            latency_ms: SLOW_GRAPH_MS,
            steps: &[Step {
                name: "slow-graph-group-first-sync",
                change: FIRST_SYNC,
                targets: &[],
            }],
        },
        Fixture {
            shape: sized(100_000, 50, 2_000, 5),
            scope: Scope::ChainRoots,
            latency_ms: 0,
            steps: &[Step {
                name: "nested-groups-first-sync",
                change: FIRST_SYNC,
                targets: &[],
            }],
        },
        Fixture {
            shape: sized(100_000, 50, 2_000, 1),
            scope: Scope::AllUsers,
            latency_ms: 0,
            steps: &[
                Step {
                    name: "tenant-first-sync",
                    change: FIRST_SYNC,
                    targets: &[Target::LongestInvocationSecs(5.0)],
                },
                Step {
                    name: "tenant-one-user-added",
                    change: Change::OneUserAdded,
                    targets: &[
                        Target::Reads(40),
                        Target::Writes(12),
                        Target::WallSecs(0.1),
                        Target::HeapMiB(8),
                    ],
                },
                Step {
                    name: "tenant-one-percent-changed",
                    change: Change::OnePercentRenamed,
                    targets: &[],
                },
            ],
        },
        Fixture {
            shape: sized(1_000_000, 50, 2_000, 1),
            scope: Scope::AllUsers,
            latency_ms: 0,
            steps: &[
                Step {
                    name: "large-tenant-first-sync",
                    change: FIRST_SYNC,
                    targets: &[
                        Target::Completes,
                        Target::LongestInvocationSecs(10.0),
                        Target::HeapMiB(64),
                        Target::RequestsOverUserPages(10),
                        Target::LargestValueMiB(1),
                    ],
                },
                Step {
                    name: "large-tenant-unchanged",
                    change: Change::None,
                    targets: &[
                        Target::GraphRequests(4),
                        Target::Writes(10),
                        Target::Reads(50),
                    ],
                },
            ],
        },
    ]
}

/// Every scenario's name, in the order they run.
pub fn names() -> Vec<&'static str> {
    fixtures(Scale::Small)
        .iter()
        .flat_map(|f| f.steps.iter().map(|s| s.name))
        .collect()
}

/// Why a scenario could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("simulator: {0}")]
    Listen(#[from] entra_sim::server::ListenError),
    #[error(transparent)]
    Drive(#[from] DriveError),
    #[error("floor: {0}")]
    Floor(#[from] FloorError),
}

/// One measured scenario.
#[derive(Debug, Clone)]
pub struct Measured {
    pub label: String,
    pub cost: RunCost,
    /// Graph requests a client cannot do without (token not counted).
    pub bound: u64,
    pub floor: Option<Floor>,
    /// How many users the tenant holds.
    pub users: u64,
    pub targets: &'static [Target],
}

/// Runs the scenarios (only up to `only` when given, on its fixture),
/// handing each measured row to `report` as soon as it is done.
pub fn run(
    scale: Scale,
    only: Option<&str>,
    limits: Limits,
    mut report: impl FnMut(Measured),
) -> Result<(), ScenarioError> {
    for fixture in fixtures(scale) {
        let steps = match only {
            None => fixture.steps,
            Some(name) => match fixture.steps.iter().position(|s| s.name == name) {
                Some(i) => &fixture.steps[..=i],
                None => continue,
            },
        };
        run_fixture(&fixture, steps, limits, &mut report)?;
    }
    Ok(())
}

fn run_fixture(
    fixture: &Fixture,
    steps: &[Step],
    limits: Limits,
    report: &mut impl FnMut(Measured),
) -> Result<(), ScenarioError> {
    let shape = fixture.shape;
    let server = unmetered(|| {
        let tenant = tenants::build(shape);
        let faults = Faults {
            latency_ms: fixture.latency_ms,
            ..Faults::default()
        };
        Placement::current().others_start(|| SimServer::start_local(Sim::new(tenant, faults)))
    })?;
    unmetered(|| drive::warm_up(server.base_url()))?;
    let scope = match fixture.scope {
        Scope::ChainRoots => engine::testing::groups(
            &tenants::chain_roots(shape)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        Scope::AllUsers => UserScope::AllUsersAndGroups,
    };
    let directory = Directory::connect(server.base_url(), scope)?;
    let mut first = true;
    for step in steps {
        let changed = unmetered(|| server.sim().with_tenant(|t| apply(step.change, t)));
        let cost = directory.sync(limits)?;
        let floor = match cost.stopped {
            None => Some(floor::measure(&cost.requests)?),
            Some(_) => None,
        };
        let users = server.sim().with_tenant(|t| t.users.len() as u64);
        // A stopped run leaves the directory mid-run: a later step would
        // measure the rest of it, not its own.
        let stopped = cost.stopped.is_some();
        report(Measured {
            label: label(fixture, step, users, changed),
            bound: lower_bound(fixture, first, changed),
            cost,
            floor,
            users,
            targets: step.targets,
        });
        if stopped {
            break;
        }
        first = false;
    }
    unmetered(|| drop(server));
    Ok(())
}

/// Applies `change`; returns how many users it touched.
fn apply(change: Change, tenant: &mut Tenant) -> u64 {
    match change {
        Change::None => 0,
        Change::OneUserAdded => {
            tenants::add_one_user(tenant);
            1
        }
        Change::OnePercentRenamed => tenants::rename_one_percent(tenant),
    }
}

fn label(fixture: &Fixture, step: &Step, users: u64, changed: u64) -> String {
    let shape = fixture.shape;
    let what = match fixture.scope {
        Scope::ChainRoots if shape.chain > 1 => format!(
            "{} groups of {} users nested {} deep",
            shape.groups,
            thousands(shape.group_size),
            shape.chain
        ),
        Scope::ChainRoots => format!("{}-user group", thousands(shape.group_size)),
        Scope::AllUsers => format!("{}-user tenant", thousands(users)),
    };
    let run = match step.change {
        Change::None if step.name.ends_with("first-sync") => "first sync".to_owned(),
        Change::None => "unchanged delta run".to_owned(),
        Change::OneUserAdded => "one user added (delta)".to_owned(),
        Change::OnePercentRenamed => format!("{} users changed (1 %, delta)", thousands(changed)),
    };
    match fixture.latency_ms {
        0 => format!("{what}, {run}"),
        ms => format!("{what}, {run}, every Graph answer {ms} ms late"),
    }
}

/// Graph requests no client can avoid: the domains, then each listing's
/// pages of 999 (a delta run: one page of each delta, more when the
/// changes fill pages).
fn lower_bound(fixture: &Fixture, first: bool, changed: u64) -> u64 {
    let shape = fixture.shape;
    let pages = |n: u64| n.div_ceil(999).max(1);
    let listings = match (fixture.scope, first) {
        (Scope::ChainRoots, true) => {
            let nested = u64::from(shape.chain > 1);
            shape.groups * pages(shape.group_size + nested)
        }
        (Scope::ChainRoots, false) => shape.groups,
        (Scope::AllUsers, true) => pages(shape.users) + pages(shape.groups),
        (Scope::AllUsers, false) => pages(changed) + 1,
    };
    1 + listings
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Measured {
    /// Wall time over the floor's.
    pub fn ratio(&self) -> Option<f64> {
        let floor = self.floor?.wall.as_secs_f64();
        (floor > 0.0).then(|| self.cost.wall.as_secs_f64() / floor)
    }

    pub fn longest_invocation(&self) -> Duration {
        self.cost
            .invocations
            .iter()
            .copied()
            .max()
            .unwrap_or_default()
    }

    pub fn median_invocation(&self) -> Duration {
        let mut all = self.cost.invocations.clone();
        all.sort();
        all.get(all.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }

    /// Each target: its text, the measured value, whether it is met.
    pub fn checks(&self) -> Vec<(String, String, bool)> {
        self.targets.iter().map(|t| self.check(*t)).collect()
    }

    fn check(&self, target: Target) -> (String, String, bool) {
        let c = &self.cost;
        let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let mib = |b: usize| format!("{:.1} MiB", b as f64 / f64::from(1 << 20));
        match target {
            Target::Completes => (
                "completes".to_owned(),
                c.stopped.clone().unwrap_or_else(|| "completed".to_owned()),
                c.stopped.is_none(),
            ),
            Target::WallOverFloor(max) => match self.ratio() {
                // Two decimals: at one, 1.54 would print as a failed 1.5.
                Some(r) => (format!("≤ {max}× the floor"), format!("{r:.2}×"), r <= max),
                None => (format!("≤ {max}× the floor"), "no floor".to_owned(), false),
            },
            Target::Reads(max) => (format!("≤ {max} reads"), thousands(c.reads), c.reads <= max),
            Target::Writes(max) => (
                format!("≤ {max} writes"),
                thousands(c.writes),
                c.writes <= max,
            ),
            Target::WallSecs(max) => (
                format!("≤ {max} s"),
                secs(c.wall),
                c.wall.as_secs_f64() <= max,
            ),
            Target::HeapMiB(max) => (
                format!("heap ≤ {max} MiB"),
                mib(c.heap_peak),
                c.heap_peak <= max << 20,
            ),
            Target::LongestInvocationSecs(max) => (
                format!("every invocation ≤ {max} s"),
                secs(self.longest_invocation()),
                self.longest_invocation().as_secs_f64() <= max,
            ),
            Target::RequestsOverUserPages(extra) => {
                let max = self.users.div_ceil(999) + extra;
                (
                    format!("≤ {max} Graph requests"),
                    thousands(c.graph_requests),
                    c.graph_requests <= max,
                )
            }
            Target::GraphRequests(max) => (
                format!("≤ {max} Graph requests"),
                thousands(c.graph_requests),
                c.graph_requests <= max,
            ),
            Target::LargestValueMiB(max) => (
                format!("no value over {max} MiB"),
                mib(c.largest_value),
                c.largest_value <= max << 20,
            ),
        }
    }
}
