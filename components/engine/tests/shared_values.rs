//! Finalize shares a run's distinct values (decision 0015): users' group
//! lists, record states, short fields kept inline. These runs give it the
//! values that could tell sharing from copying: ids and names that need
//! JSON escaping, fields at the inline limits, more distinct states in a
//! bucket than the encoder keeps, users who change groups, leave the scope
//! and return, users in many groups, in one bucket and in several. The directory must read back
//! as written, and an unchanged tenant must leave every user unchanged.
//!
//! With `IDP_SYNC_DUMP=DIR` set, each run's documents are also written to
//! `DIR/{scope}-{buckets}-{run}`, to be compared byte for byte with a build
//! of another commit running the same script.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::*;
use engine::RunResult;
use engine::ports::SourceUser;
use engine::testing::guest;

/// Groups nested `q-1` ⊃ `b\2"` ⊃ `é3`, `r-4` (the solo groups' parent)
/// and `c-5` ⊃ `😀\u{1}6` apart. Ids a setting names are plain (they are
/// validated); the tenant's others need escaping.
const NESTED: [&str; 6] = ["q-1", "b\\2\"", "\u{e9}3", "r-4", "c-5", "\u{1F600}\u{1}6"];

/// Users each alone in a group of its own: more distinct record states
/// than `RecordEncoder` keeps (256) in one bucket.
const SOLO: usize = 300;

/// Display names at compact_str's inline limits (24 bytes natively, 12 on
/// wasm32) and one byte over, some ending in a two-byte character, and
/// names that need JSON escaping.
fn tricky_names() -> Vec<String> {
    let mut names: Vec<String> = [11, 12, 13, 23, 24, 25]
        .iter()
        .map(|n| "n".repeat(*n))
        .collect();
    names.push(format!("{}\u{e9}", "a".repeat(22))); // 24 bytes
    names.push(format!("{}\u{e9}", "a".repeat(23))); // 25 bytes
    names.push(format!("{}\u{e9}", "a".repeat(11))); // 13 bytes
    names.extend(
        [
            "Kim \"K\" Lee",
            "back\\slash",
            "tab\tnew\nline\r",
            "ctl\u{1}\u{1f}\u{7f}",
            "sep\u{2028}\u{2029}",
            "\u{1F600}\u{1F469}\u{200D}\u{1F4BB}",
            "</script>&<'>",
            "",
        ]
        .map(str::to_owned),
    );
    names
}

/// A user `id` at contoso.com with `name` in its text fields.
fn person(id: &str, name: &str) -> SourceUser {
    let mut u = engine::testing::user(id, &format!("{}@contoso.com", id.replace('"', "_")));
    u.display_name = Some(name.to_owned());
    u.given_name = Some(name.chars().rev().collect());
    u.surname = Some(format!("{name}{name}"));
    u.job_title = Some(name.to_owned());
    u.department = Some(format!("d{name}"));
    u.other_mails = vec![format!("{}@example.org", name.len())];
    u
}

fn tenant(env: &Env, all_users: bool) {
    env.tenant.set_page_size(40);
    env.tenant.domain("contoso.com", true);
    env.tenant.domain("fabrikam.com", false);
    for g in NESTED {
        env.tenant.put_group(g, &format!("Team {g}"));
    }
    env.tenant.nest(NESTED[0], NESTED[1]);
    env.tenant.nest(NESTED[1], NESTED[2]);
    env.tenant.nest(NESTED[4], NESTED[5]);
    for (i, name) in tricky_names().iter().enumerate() {
        let id = format!("t-{i:02}");
        env.tenant.put_user(person(&id, name));
        env.tenant.add_user_to(NESTED[i % NESTED.len()], &id);
        if i % 3 == 0 {
            env.tenant.add_user_to(NESTED[(i + 2) % NESTED.len()], &id);
        }
    }
    for i in 0..SOLO {
        let (id, group) = (format!("s{i:05}"), format!("solo{i:03}"));
        env.tenant.put_user(person(&id, &format!("Solo {i}")));
        env.tenant.put_group(&group, &format!("Solo {i}"));
        env.tenant.add_user_to(&group, &id);
        env.tenant.nest(NESTED[3], &group);
    }
    // In more groups than a reach holds inline (4), directly and nested.
    env.tenant.put_user(person("m-00", "Many"));
    for g in NESTED.iter().chain(&["solo001", "solo002", "solo003"]) {
        env.tenant.add_user_to(g, "m-00");
    }
    env.tenant.put_users(people("f", 3, "fabrikam.com"));
    env.tenant.add_users_to(NESTED[2], ids("f", 0..3));
    env.tenant
        .put_user(guest("x-1", "kim@outlook.com", "contoso.com"));
    env.tenant.add_user_to(NESTED[5], "x-1");
    // Never looked up (an id the API would refuse), only written.
    let odd = "e\"\\\u{e9}\u{1}";
    env.tenant.put_user(person(odd, "Odd \"one\""));
    env.tenant.add_user_to(NESTED[5], odd);
    env.tenant.add_user_to(NESTED[1], odd);
    match all_users {
        true => env.save_all_users(true),
        false => env.save_groups(&[NESTED[0], NESTED[3], NESTED[4]], true, false),
    }
}

/// The tenant's changes before run `run` (1-based).
fn change(env: &Env, run: usize) {
    let t = &env.tenant;
    match run {
        2 => {
            // Changes groups, leaves the scope, crosses the inline limit.
            t.remove_user_from(NESTED[0], "t-00");
            t.add_user_to(NESTED[4], "t-00");
            t.remove_user_from(NESTED[1], "t-01");
            t.remove_user_from(NESTED[3], "t-03");
            t.remove_user_from(NESTED[5], "t-05");
            t.put_user(person("t-04", &"n".repeat(25)));
            t.put_user(person("t-05", &"n".repeat(24)));
            t.remove_user_from("solo007", "s00007");
            t.add_user_to("solo008", "s00009");
            t.put_user(person("s00010", "Solo \"10\" \u{1F600}"));
            t.remove_user_from(NESTED[0], "m-00");
            t.remove_user_from("solo002", "m-00");
        }
        3 => {
            // Returns, back across the limit, a nesting undone.
            t.add_user_to(NESTED[1], "t-01");
            t.put_user(person("t-04", &"n".repeat(13)));
            t.add_user_to("solo007", "s00007");
            t.unnest(NESTED[1], NESTED[2]);
            t.domain("fabrikam.com", true);
        }
        4 => {} // unchanged
        5 => {
            t.nest(NESTED[1], NESTED[2]);
            t.add_user_to("solo200", "m-00");
            t.put_user(person("s00011", &"x".repeat(12)));
        }
        6 => {
            t.put_user(person("s00011", &"x".repeat(25)));
        }
        _ => {} // unchanged again
    }
}

/// Writes the run's documents and counts for a comparison across builds.
fn dump(name: &str, env: &Env) {
    let Ok(dir) = std::env::var("IDP_SYNC_DUMP") else {
        return;
    };
    let mut out = Vec::new();
    for (key, value) in documents(env) {
        out.extend_from_slice(key.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&value);
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(format!("{:?}\n", env.last_summary().counts).as_bytes());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(format!("{dir}/{name}"), out).unwrap();
}

fn check(all_users: bool, several_buckets: bool) {
    let mut env = Env::new();
    env.config.seal_bytes = 4 << 10;
    env.config.pass_bytes = if several_buckets { 16 << 10 } else { 64 << 20 };
    tenant(&env, all_users);
    let names = tricky_names();
    for run in 1..=7 {
        change(&env, run);
        env.clock.advance(HOUR);
        assert_eq!(env.sync(), RunResult::Completed, "run {run}");
        dump(&format!("{all_users}-{several_buckets}-{run}"), &env);
        let counts = env.last_summary().counts;
        if run == 4 || run == 7 {
            assert_eq!(
                (
                    counts.users_created,
                    counts.users_updated,
                    counts.users_left_scope
                ),
                (0, 0, 0),
                "run {run}: nothing changed"
            );
        }
        if run == 1 {
            for (i, name) in names.iter().enumerate() {
                let u = env.user(&format!("t-{i:02}"));
                assert_eq!(u.display_name.as_deref(), Some(name.as_str()));
                assert_eq!(u.department, Some(format!("d{name}")));
            }
        }
    }
    assert_eq!(
        env.user("s00011").display_name,
        Some("x".repeat(25)),
        "the last change read back"
    );
    let solo7 = env.user("s00007");
    assert!(solo7.synced && solo7.groups.contains(&"solo007".to_owned()));
}

#[test]
fn group_scope_in_one_bucket() {
    check(false, false);
}

#[test]
fn group_scope_in_several_buckets() {
    check(false, true);
}

#[test]
fn all_users_in_one_bucket() {
    check(true, false);
}

#[test]
fn all_users_in_several_buckets() {
    check(true, true);
}
