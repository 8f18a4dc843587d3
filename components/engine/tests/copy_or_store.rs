//! The directory a run writes is the same, byte for byte, whether finalize
//! reads the staging's copy in memory (decision 0007; users keep their JSON
//! once written, decision 0010), reads it from the store, or is resumed by
//! later invocations, over a series of runs whose users change between
//! runs and during one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::*;
use engine::ports::SourceUser;
use engine::testing::guest;
use engine::*;
use std::cell::Cell;
use std::collections::BTreeMap;

/// How finalize reads the staging.
#[derive(Debug, Clone, Copy)]
struct Way {
    copy_passes: usize,
    slices: Option<u32>,
}

const WAYS: [Way; 4] = [
    // In memory all along.
    Way {
        copy_passes: 64,
        slices: None,
    },
    // In memory for the first slice, then resumed from the store.
    Way {
        copy_passes: 64,
        slices: Some(1),
    },
    // Never in memory.
    Way {
        copy_passes: 0,
        slices: None,
    },
    // Never in memory, one slice an invocation.
    Way {
        copy_passes: 0,
        slices: Some(1),
    },
];

/// Teams `g00`-`g02` of 500 users on contoso.com (`g02` nested in `g00`),
/// 7 users on the unverified fabrikam.com and a guest in `g01`; pages of
/// 100; slices small enough for several buckets.
fn env(all_users: bool, way: Way) -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 4 << 10;
    env.config.pass_bytes = 16 << 10;
    env.config.staging_copy_passes = way.copy_passes;
    env.config.finalize_slices = way.slices;
    env.tenant.set_page_size(100);
    env.tenant.domain("contoso.com", true);
    env.tenant.domain("fabrikam.com", false);
    env.tenant.put_users(people("u", 1_600, "contoso.com"));
    env.tenant.put_users(people("f", 7, "fabrikam.com"));
    env.tenant
        .put_user(guest("x00000", "kim@outlook.com", "contoso.com"));
    for g in 0..3 {
        let id = format!("g{g:02}");
        env.tenant.put_group(&id, &format!("Team {g}"));
        env.tenant
            .add_users_to(&id, ids("u", g * 500..(g + 1) * 500));
    }
    env.tenant.add_users_to("g01", ids("f", 0..7));
    env.tenant.add_user_to("g01", "x00000");
    env.tenant.nest("g00", "g02");
    match all_users {
        true => env.save_all_users(true),
        false => env.save_groups(&["g00", "g01"], true, false),
    }
    env
}

fn changed(env: &Env, id: &str, f: impl FnOnce(&mut SourceUser)) {
    let mut u = engine::testing::user(id, &format!("{id}@contoso.com"));
    f(&mut u);
    env.tenant.put_user(u);
}

/// The tenant's changes before run `run` (1-based).
fn change(env: &Env, run: usize) {
    match run {
        2 => {
            changed(env, "u00005", |u| {
                u.user_principal_name = "renamed5@contoso.com".into();
                u.display_name = Some("Renamed Five".into());
            });
            changed(env, "u00010", |u| {
                u.mail = Some("elsewhere@contoso.com".into())
            });
            changed(env, "u00011", |u| {
                u.other_mails = vec!["x@example.org".into(), "y@example.org".into()]
            });
            changed(env, "u00030", |u| u.user_type = Some("Guest".into()));
            changed(env, "u00031", |u| {
                u.user_principal_name = "u00031_outlook.com#ext#@contoso.com".into()
            });
            env.tenant.remove_user_from("g00", "u00020");
            env.tenant.add_user_to("g01", "u01550");
            env.tenant.add_user_to("g01", "u00001");
            env.tenant
                .put_user(guest("x00001", "lee@gmail.com", "contoso.com"));
            env.tenant.add_user_to("g01", "x00001");
            env.tenant.remove_user("f00001");
            env.tenant.put_users(people("n", 3, "contoso.com"));
            env.tenant.add_users_to("g00", ids("n", 0..3));
        }
        3 => {
            env.tenant.domain("fabrikam.com", true);
            changed(env, "u00005", |u| {
                u.user_principal_name = "Renamed5@CONTOSO.COM".into();
                u.display_name = Some("Renamed \"5\" \u{e9}\u{1F600}".into());
            });
            changed(env, "u00011", |u| u.other_mails = Vec::new());
            changed(env, "u00030", |u| u.user_type = Some("Member".into()));
            changed(env, "u00012", |u| u.account_enabled = false);
            env.tenant.add_user_to("g00", "u00020");
            env.tenant.remove_user("u00040");
            env.tenant.unnest("g00", "g02");
            env.tenant.remove_user_from("g01", "u01550");
        }
        4 => {} // unchanged
        5 => {
            env.tenant.nest("g00", "g02");
            env.tenant.remove_user("x00000");
            changed(env, "u01100", |u| u.job_title = Some("CFO".into()));
        }
        _ => {}
    }
}

type Seen = (
    Vec<UserView>,
    Vec<(GroupView, Vec<String>)>,
    RunCounts,
    Vec<EmailView>,
);

fn seen(env: &Env) -> Seen {
    let groups = ["g00", "g01", "g02"].map(|g| (env.group(g), env.members(g)));
    (
        env.users(),
        groups.to_vec(),
        env.last_summary().counts,
        env.emails(),
    )
}

/// Syncs run `run`; in run 6, `u00001` (a member of `g00` and `g01`) is
/// renamed while the run reads its pages, after request `at`.
fn sync(env: &Env, run: usize, at: u64) -> RunResult {
    env.clock.advance(HOUR);
    env.start().expect("start");
    let sent = Cell::new(0u64);
    let tenant = HookedTenant {
        tenant: &env.tenant,
        hook: || {
            sent.set(sent.get() + 1);
            if run == 6 && sent.get() == at {
                changed(env, "u00001", |u| u.display_name = Some("Mid-run".into()));
            }
        },
    };
    for _ in 0..10_000 {
        let outcome =
            block(
                env.engine()
                    .advance(ORG, &env.dir, &tenant, &env.mailer, Budget::default()),
            )
            .expect("advance");
        match outcome {
            AdvanceOutcome::Finished { result, .. } => {
                assert!(run != 6 || sent.get() >= at, "the change was made");
                return result;
            }
            AdvanceOutcome::Idle => panic!("no run in progress"),
            AdvanceOutcome::Busy { until }
            | AdvanceOutcome::Progressed {
                waiting_until: Some(until),
                ..
            } => env.clock.set(until.max(env.clock_now()) + ms(1)),
            AdvanceOutcome::Progressed { .. } => {}
        }
    }
    panic!("run did not finish")
}

fn differences(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let keys = a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |m: &BTreeMap<String, Vec<u8>>| {
                m.get(k).map_or("<none>".to_owned(), |v| {
                    let s = String::from_utf8_lossy(v);
                    s.chars().take(300).collect()
                })
            };
            format!("{k}\n  A: {}\n  B: {}", show(a), show(b))
        })
        .collect()
}

/// Each run's documents and views, in one way.
type Runs = (Vec<BTreeMap<String, Vec<u8>>>, Vec<Seen>);

fn check(all_users: bool, mid_run_at: u64) {
    let runs = 7;
    let mut first: Option<Runs> = None;
    for way in WAYS {
        let env = env(all_users, way);
        let mut docs = Vec::new();
        let mut views = Vec::new();
        for run in 1..=runs {
            change(&env, run);
            env.store.reset_stats();
            assert_eq!(sync(&env, run, mid_run_at), RunResult::Completed);
            if run == 1 {
                // The copy in memory is used where it should be.
                let written = env.store.written_keys().into_iter();
                let staging: Vec<String> = written
                    .take_while(|k| !k.starts_with("domains/"))
                    .filter(|k| k.contains("/stage/"))
                    .collect();
                assert!(staging.len() > 4, "{staging:?}");
                let read = env.store.read_keys();
                let chunks = read.iter().filter(|k| staging.contains(k)).count();
                assert_eq!(
                    chunks == 0,
                    way.copy_passes > 0 && way.slices.is_none(),
                    "{way:?}: {chunks}"
                );
            }
            docs.push(documents(&env));
            views.push(seen(&env));
        }
        let users = docs[0].keys().filter(|k| k.contains("/users/")).count();
        assert!(users > 1, "several user documents: {way:?}");
        match &first {
            None => first = Some((docs, views)),
            Some((docs0, views0)) => {
                for run in 0..runs {
                    let diff = differences(&docs0[run], &docs[run]);
                    assert!(
                        diff.is_empty(),
                        "all users: {all_users}, {way:?} vs {:?}, run {}: {} documents differ:\n{}",
                        WAYS[0],
                        run + 1,
                        diff.len(),
                        diff.join("\n")
                    );
                    assert_eq!(
                        views0[run],
                        views[run],
                        "all users: {all_users}, {way:?}, run {}",
                        run + 1
                    );
                }
            }
        }
    }
    let (_, views) = first.unwrap();
    // The changes reached the directory: the user changed while run 6 read
    // its pages (in group scope, after `g00`'s page carried it and before
    // `g01`'s did) has the later fields.
    let user = |run: usize, id: &str| {
        views[run - 1]
            .0
            .iter()
            .find(|u| u.id == id)
            .unwrap()
            .clone()
    };
    let u1 = user(6, "u00001");
    assert_eq!(
        (u1.display_name.as_deref(), u1.changed_run),
        (Some("Mid-run"), 6)
    );
    let u5 = user(3, "u00005");
    assert_eq!(
        u5.display_name.as_deref(),
        Some("Renamed \"5\" \u{e9}\u{1F600}")
    );
    assert_eq!(u5.domain, "contoso.com");
}

#[test]
fn group_scope_runs_write_the_same_bytes_from_memory_or_the_store() {
    check(false, 5);
}

#[test]
fn all_users_runs_write_the_same_bytes_from_memory_or_the_store() {
    check(true, 2);
}
