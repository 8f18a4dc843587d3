//! Store traffic and size: the numbers that keep idp-sync inside serverless
//! key-value limits. (Performance figures are printed by
//! `cargo run -p engine --example counts --release`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod common;
use common::*;
use engine::ports::store::MAX_VALUE_BYTES;
use engine::testing::user;
use engine::*;
use std::collections::BTreeSet;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn big_group_env(users: usize, send_email: bool) -> Env {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", users, "contoso.com"));
    env.tenant.put_group("big", "Everyone in sales");
    env.tenant
        .add_users_to("big", (0..users).map(|i| format!("u{i:05}")));
    env.save_groups(&["big"], send_email, false);
    env
}

#[test]
fn first_run_over_a_10000_user_group_takes_at_most_50_writes() {
    let env = big_group_env(10_000, true);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    let stats = env.store.stats();
    assert!(
        stats.writes <= 50,
        "{} writes: {:?}",
        stats.writes,
        env.store.written_keys()
    );
    assert!(stats.max_value_bytes < MAX_VALUE_BYTES, "{stats:?}");
    assert_eq!(env.synced_user_ids().len(), 10_000);
    assert_eq!(env.mailer.addresses().len(), 10_000);
}

#[test]
fn an_unchanged_rerun_writes_no_user_or_membership_shard() {
    let env = big_group_env(10_000, true);
    env.sync();
    env.store.reset_stats();
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);
    let shard_writes: Vec<String> = env
        .store
        .written_keys()
        .into_iter()
        .filter(|k| k.contains("/users/") || k.contains("/members/") || k.contains("/groups/"))
        .collect();
    assert!(shard_writes.is_empty(), "{shard_writes:?}");
    assert_eq!(env.last_summary().counts.users_unchanged, 10_000);
    assert_eq!(env.mailer.addresses().len(), 10_000, "no second email");
}

#[test]
fn a_100000_user_tenant_fits_in_300_keys() {
    let env = Env::new();
    teams(&env, 100_000, 50);
    env.tenant.put_group("all", "All company");
    env.tenant
        .add_users_to("all", (0..100_000).map(|i| format!("u{i:05}")));
    env.save_all_users(false);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    let stats = env.store.stats();
    assert!(stats.peak_keys <= 300, "{} keys at peak", stats.peak_keys);
    assert!(stats.max_value_bytes < MAX_VALUE_BYTES, "{stats:?}");
    let summary = env.last_summary();
    assert_eq!(summary.counts.users_created, 100_000);
    assert_eq!(summary.counts.groups_synced, 50);
    assert_eq!(summary.counts.groups_over_limit[0].id, "all");
}

#[test]
fn a_growing_directory_gets_more_shards_and_leaves_no_old_ones_behind() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 20, "contoso.com"));
    env.save_all_users(false);
    env.sync();
    let shard_keys = |env: &Env| -> Vec<String> {
        env.store
            .dump_sizes()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.contains("/users/"))
            .collect()
    };
    assert_eq!(shard_keys(&env).len(), 1);

    env.tenant.put_users(people("v", 6_000, "contoso.com"));
    env.clock.advance(HOUR);
    env.sync();
    let grown = shard_keys(&env);
    assert!(grown.len() > 2, "{grown:?}");
    assert_eq!(env.synced_user_ids().len(), 6_020);

    // The next finalize deletes the one-shard layout.
    env.clock.advance(HOUR);
    env.sync();
    let after = shard_keys(&env);
    assert!(
        after.iter().all(|k| !k.ends_with("/users/1.0")),
        "{after:?}"
    );
    assert_eq!(after.len(), grown.len() - 1);
    assert_eq!(env.synced_user_ids().len(), 6_020);
}

#[test]
fn users_with_every_field_at_its_longest_still_fit_the_value_limit() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    let long = |c: char| Some(c.to_string().repeat(256));
    let users = people("u", 3_000, "contoso.com").into_iter().map(|mut u| {
        u.display_name = long('d');
        u.given_name = long('g');
        u.surname = long('s');
        u.job_title = long('j');
        u.department = long('p');
        u.mail = Some(format!("{}@contoso.com", "m".repeat(200)));
        u
    });
    env.tenant.put_users(users);
    env.tenant
        .put_group("g", "G")
        .add_users_to("g", (0..3_000).map(|i| format!("u{i:05}")));
    env.save_groups(&["g"], false, false);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(env.store.stats().max_value_bytes < MAX_VALUE_BYTES);
    assert_eq!(env.synced_user_ids().len(), 3_000);
}

#[test]
fn a_search_reads_a_bounded_number_of_documents_per_request_and_its_cursor_finds_the_rest() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 25_000, "contoso.com"));
    env.save_all_users(false);
    assert_eq!(env.sync(), RunResult::Completed);
    let engine = env.engine();
    let search = |term: &str, cursor: Option<&str>| {
        let query = UserQuery {
            search: Some(term.to_owned()),
            filter: None,
        };
        env.store.reset_stats();
        let page = block(engine.search_users(ORG, &query, cursor, 50)).unwrap();
        (page, env.store.stats().reads)
    };

    // Nobody matches: every request reads at most MAX_DOCUMENTS_PER_PAGE
    // shard documents (plus the six small documents that lead to the
    // directory's state) and says where to go on, until the last one.
    let (mut page, mut reads) = search("nobody-by-this-name", None);
    let mut requests = 1;
    while let Some(cursor) = page.next_cursor.clone() {
        assert!(page.items.is_empty());
        assert!(
            reads <= u64::from(MAX_DOCUMENTS_PER_PAGE) + 6,
            "{reads} reads"
        );
        (page, reads) = search("nobody-by-this-name", Some(&cursor));
        requests += 1;
    }
    assert!(page.items.is_empty());
    assert!(
        requests > 1,
        "the directory spans more than one request's documents"
    );

    // One match, wherever its document is: following the cursors finds it.
    let (mut page, _) = search("u24999@", None);
    let mut found = page.items.clone();
    while let Some(cursor) = page.next_cursor.clone() {
        (page, _) = search("u24999@", Some(&cursor));
        found.extend(page.items.clone());
    }
    let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u24999"]);
}

/// `users` users on contoso.com (verified), the first `teams` × 2,000 of
/// them in groups `g00`, `g01`, ... of 2,000 each.
fn teams(env: &Env, users: usize, teams: usize) {
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", users, "contoso.com"));
    for g in 0..teams {
        let id = format!("g{g:02}");
        env.tenant.put_group(&id, &format!("Team {g}"));
        env.tenant
            .add_users_to(&id, ids("u", g * 2_000..(g + 1) * 2_000));
    }
}

/// The user documents' keys in the store.
fn user_documents(env: &Env) -> Vec<String> {
    let keys = env.store.dump_sizes().into_iter().map(|(k, _)| k);
    keys.filter(|k| k.contains("/users/")).collect()
}

/// A group's members, `member_count` and `entra_member_count`.
type GroupSeen = (Vec<String>, u64, u64);

/// What a reader of the directory sees of it: the synced users, the groups.
fn directory(env: &Env) -> (Vec<String>, Vec<GroupSeen>) {
    let groups = ["g00", "g01", "g02"].map(|g| {
        let rec = env.group(g);
        (env.members(g), rec.member_count, rec.entra_member_count)
    });
    (env.synced_user_ids(), groups.to_vec())
}

/// [`teams`] of 6,000 users synced once, in all-users scope, with the keys
/// of its user documents.
fn teams_synced() -> (Env, Vec<String>) {
    let env = Env::new();
    teams(&env, 6_000, 3);
    env.save_all_users(false);
    env.sync();
    let documents = user_documents(&env);
    (env, documents)
}

#[test]
fn a_one_user_delta_rewrites_only_the_user_document_holding_the_user() {
    let (env, before) = teams_synced();
    assert!(before.len() > 2, "{before:?}");
    env.tenant.put_users(people("v", 1, "contoso.com"));
    env.tenant.add_user_to("g01", "v00000");
    env.clock.advance(HOUR);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    let written = env.store.written_keys();
    let users_written: Vec<&String> = written.iter().filter(|k| k.contains("/users/")).collect();
    assert_eq!(users_written.len(), 1, "{written:?}");
    // The replaced document is deleted by the next run's commit.
    let after = user_documents(&env);
    assert!(before.iter().all(|k| after.contains(k)), "{after:?}");
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let counts = env.last_summary().counts;
    assert_eq!((counts.users_created, counts.users_unchanged), (1, 6_000));

    let fresh = Env::new();
    teams(&fresh, 6_000, 3);
    fresh.tenant.put_users(people("v", 1, "contoso.com"));
    fresh.tenant.add_user_to("g01", "v00000");
    fresh.save_all_users(false);
    fresh.sync();
    assert_eq!(directory(&env), directory(&fresh));
}

#[test]
fn a_delta_that_nests_a_group_rewrites_every_user_document() {
    let (env, before) = teams_synced();
    env.tenant.nest("g00", "g01");
    env.clock.advance(HOUR);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    let written = env.store.written_keys();
    let users_written = written.iter().filter(|k| k.contains("/users/")).count();
    assert_eq!(users_written, before.len(), "{written:?}");
    assert_eq!(env.members("g00").len(), 4_000, "g1's users are g0's now");
}

#[test]
fn a_delta_a_day_after_the_grants_were_last_read_takes_the_full_pass() {
    // The short path trusts the state's copy of product access; once a day
    // a full pass reads every grant record (and every user document) again,
    // so a toggle that raced a commit cannot stay missed.
    let (env, before) = teams_synced();
    let one_user_delta = |prefix: &str, after: engine::ports::TimeDelta| {
        env.tenant.put_users(people(prefix, 1, "contoso.com"));
        env.tenant.add_user_to("g01", &format!("{prefix}00000"));
        env.clock.advance(after);
        env.store.reset_stats();
        assert_eq!(env.sync(), RunResult::Completed);
        env.store.stats().reads
    };
    let full = one_user_delta("v", engine::ports::TimeDelta::hours(25));
    let short = one_user_delta("w", HOUR);
    assert!(
        full >= short + before.len() as u64 - 1,
        "every user document is read after a day: {full} vs {short} reads"
    );
}

/// `n` users `f00000`... on fabrikam.com, which is not verified here, in
/// group `g01`.
fn unverified_users(env: &Env, n: usize) {
    env.tenant.domain("fabrikam.com", false);
    env.tenant.put_users(people("f", n, "fabrikam.com"));
    env.tenant.add_users_to("g01", ids("f", 0..n));
}

/// The last run's log message about users on an unverified domain.
fn unverified_message(env: &Env) -> String {
    let log = env.last_summary().log.into_iter().map(|e| e.message);
    log.filter(|m| m.contains("domain is not verified"))
        .collect()
}

/// Whether the last run logged a message containing `text`.
fn logged(env: &Env, text: &str) -> bool {
    let log = env.last_summary().log;
    log.iter().any(|e| e.message.contains(text))
}

/// Syncs one delta run; the user documents it read (the full pass reads
/// every one).
fn delta_user_documents_read(env: &Env) -> usize {
    env.clock.advance(HOUR);
    env.store.reset_stats();
    assert_eq!(env.sync(), RunResult::Completed);
    let read = env.store.read_keys();
    let users: BTreeSet<&String> = read.iter().filter(|k| k.contains("/users/")).collect();
    users.len()
}

#[test]
fn a_delta_in_a_tenant_with_users_on_an_unverified_domain_rewrites_only_the_changed_users_document()
{
    let env = Env::new();
    teams(&env, 6_000, 3);
    unverified_users(&env, 7);
    env.save_all_users(false);
    env.sync();
    assert!(unverified_message(&env).starts_with("7 users skipped"));

    // One of them moves to the verified domain: synced, one fewer skipped.
    env.tenant.put_user(user("f00003", "f3@contoso.com"));
    assert_eq!(delta_user_documents_read(&env), 1);
    let counts = env.last_summary().counts;
    assert_eq!(
        (counts.users_created, counts.skipped_unverified_domain),
        (1, 6)
    );
    let message = unverified_message(&env);
    assert!(message.starts_with("6 users skipped"), "{message}");
    assert_eq!(message.matches("@fabrikam.com").count(), 5, "{message}");
    assert!(!message.contains("f3@"), "{message}");

    // A synced user moves to the unverified domain: it leaves the scope,
    // and the log names it first.
    env.tenant.put_user(user("u00010", "u10@fabrikam.com"));
    assert_eq!(delta_user_documents_read(&env), 1);
    let counts = env.last_summary().counts;
    assert_eq!(
        (counts.users_left_scope, counts.skipped_unverified_domain),
        (1, 7)
    );
    let message = unverified_message(&env);
    assert!(message.contains("(e.g. u10@fabrikam.com, f"), "{message}");

    let fresh = Env::new();
    teams(&fresh, 6_000, 3);
    unverified_users(&fresh, 7);
    fresh.tenant.put_user(user("f00003", "f3@contoso.com"));
    fresh.tenant.put_user(user("u00010", "u10@fabrikam.com"));
    fresh.save_all_users(false);
    fresh.sync();
    assert_eq!(directory(&env), directory(&fresh));
    let fresh_counts = fresh.last_summary().counts;
    assert_eq!(fresh_counts.skipped_unverified_domain, 7);
}

#[test]
fn a_delta_beside_a_group_over_the_limit_rewrites_only_the_changed_users_document() {
    let env = Env::new();
    teams(&env, 10_001, 1);
    env.tenant.put_group("big", "Everyone");
    env.tenant.add_users_to("big", ids("u", 0..10_001));
    env.save_all_users(false);
    env.sync();
    assert!(!env.group("big").synced);

    // A new user joins both groups: the big one stays over the limit.
    env.tenant.put_users(people("v", 1, "contoso.com"));
    env.tenant.add_user_to("g00", "v00000");
    env.tenant.add_user_to("big", "v00000");
    assert_eq!(delta_user_documents_read(&env), 1);
    assert!(logged(&env, "only the changed user's document was read"));
    let big = env.group("big");
    assert_eq!((big.synced, big.entra_member_count), (false, 10_002));
    assert_eq!(env.members("g00").len(), 2_001);
    let over = env.last_summary().counts.groups_over_limit;
    assert_eq!(over.iter().map(|g| g.users).collect::<Vec<_>>(), [10_002]);

    // Three leave it: under the limit, it is synced (by the full pass).
    for id in ["u00000", "u00001", "v00000"] {
        env.tenant.remove_user_from("big", id);
    }
    assert!(delta_user_documents_read(&env) > 1);
    assert!(!logged(&env, "document was read and rewritten"));
    let big = env.group("big");
    assert_eq!((big.synced, big.member_count), (true, 9_999));
    assert_eq!(env.members("big").len(), 9_999);
}

/// Teams `g00`-`g02` of 2,000 users on contoso.com (`g02` nested in `g00`)
/// and 7 users on the unverified fabrikam.com in `g01`, in group scope
/// (`g00` and `g01` selected) or all-users scope; finalize works in
/// buckets (staging of a few hundred KiB, slices of 64 KiB) with the
/// staging kept in memory while it is at most `copy_passes` slices.
fn teams_env(all_users: bool, copy_passes: usize, slices: Option<u32>) -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 16 << 10;
    env.config.pass_bytes = 64 << 10;
    env.config.staging_copy_passes = copy_passes;
    env.config.finalize_slices = slices;
    teams(&env, 6_000, 3);
    unverified_users(&env, 7);
    env.tenant.nest("g00", "g02");
    match all_users {
        true => env.save_all_users(false),
        false => env.save_groups(&["g00", "g01"], false, false),
    }
    env
}

/// The staging chunks of the last sync: the `stage/` keys it wrote before
/// finalize claimed the run's domains (later ones are finalize's own).
fn staging_chunks(env: &Env) -> BTreeSet<String> {
    let written = env.store.written_keys();
    let staging = written
        .into_iter()
        .take_while(|k| !k.starts_with("domains/"));
    staging.filter(|k| k.contains("/stage/")).collect()
}

/// The staging chunks the last sync read back.
fn chunks_read(env: &Env) -> Vec<String> {
    let chunks = staging_chunks(env);
    assert!(
        chunks.len() > 4,
        "the staging is sealed in chunks: {chunks:?}"
    );
    let read = env.store.read_keys().into_iter();
    read.filter(|k| chunks.contains(k)).collect()
}

#[test]
fn a_first_sync_in_one_invocation_reads_no_staged_chunk_back() {
    for all_users in [false, true] {
        let env = teams_env(all_users, 64, None);
        env.store.reset_stats();
        env.start().expect("start");
        let outcome = env.advance(Budget::default()).expect("advance");
        let one_invocation = matches!(
            outcome,
            AdvanceOutcome::Finished {
                result: RunResult::Completed,
                ..
            }
        );
        assert!(one_invocation, "{outcome:?}");
        assert_eq!(chunks_read(&env), Vec::<String>::new());

        // Past the copy's cap, finalize reads the staging from the store.
        let env = teams_env(all_users, 1, None);
        env.store.reset_stats();
        assert_eq!(env.sync(), RunResult::Completed);
        assert!(!chunks_read(&env).is_empty());
    }
}

/// Everything a reader of the directory sees after a sync: every user's
/// account, the teams' records and members, and the run's counts.
type Seen = (Vec<UserView>, Vec<(GroupView, Vec<String>)>, RunCounts);

fn seen(env: &Env) -> Seen {
    let groups = ["g00", "g01", "g02"].map(|g| (env.group(g), env.members(g)));
    (env.users(), groups.to_vec(), env.last_summary().counts)
}

#[test]
fn finalize_gives_the_same_directory_from_the_staging_in_memory_or_in_the_store() {
    for all_users in [false, true] {
        let synced = |copy_passes, slices| {
            let env = teams_env(all_users, copy_passes, slices);
            env.store.reset_stats();
            assert_eq!(env.sync(), RunResult::Completed);
            assert!(user_documents(&env).len() > 1, "several buckets");
            let chunks = staging_chunks(&env).len();
            (seen(&env), chunks_read(&env).len(), chunks)
        };
        // In memory all along.
        let (whole, _, _) = synced(64, None);
        assert_eq!(whole.0.iter().filter(|u| u.synced).count(), 6_000);
        // In memory for the first slice only: the next invocation
        // partitions the staging, so it is read about once, not once per
        // bucket and step.
        let (sliced, read, chunks) = synced(64, Some(1));
        assert_eq!(whole, sliced, "all users: {all_users}");
        assert!(read < 2 * chunks, "{read} reads of {chunks} chunks");
        // Never in memory: partitioned when finalize begins.
        let (stored, _, _) = synced(0, None);
        assert_eq!(whole, stored, "all users: {all_users}");
    }
}

#[test]
fn a_delta_that_removes_most_named_skipped_users_still_names_five() {
    let env = Env::new();
    teams(&env, 6_000, 3);
    unverified_users(&env, 12);
    env.save_all_users(false);
    env.sync();
    // An unchanged run says again who is skipped.
    delta_user_documents_read(&env);
    assert!(unverified_message(&env).starts_with("12 users skipped"));

    for id in ids("f", 0..6) {
        env.tenant.remove_user(&id);
    }
    assert!(
        delta_user_documents_read(&env) > 1,
        "the full pass names them again"
    );
    let message = unverified_message(&env);
    assert!(message.starts_with("6 users skipped"), "{message}");
    assert_eq!(message.matches("@fabrikam.com").count(), 5, "{message}");
}
