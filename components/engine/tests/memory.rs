//! Memory: finalize holds a few MiB of the directory at a time, so the heap
//! a sync needs grows with the tenant only by a small index of its users
//! (serverless hosts give an instance 128 MiB).
mod common;
use common::*;
use engine::heap_meter::{self, CountingAlloc};
use engine::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// The engine's heap peak during a first all-users sync of `users` users,
/// above what the tenant and the store hold.
fn first_sync_peak(users: usize) -> usize {
    let mut env = Env::new();
    env.config.pass_bytes = 512 << 10;
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", users, "contoso.com"));
    env.save_all_users(false);
    let baseline = heap_meter::reset_peak();
    assert_eq!(env.sync(), RunResult::Completed);
    heap_meter::peak().saturating_sub(heap_meter::in_use().max(baseline))
}

#[test]
fn a_four_times_larger_tenant_barely_raises_the_heap_peak() {
    let small = first_sync_peak(10_000);
    let large = first_sync_peak(40_000);
    // Rebuilt in slices: about 140 bytes per extra user (the shape of the
    // tenant); held whole (one pass), over 1,300.
    let per_user = large.saturating_sub(small) / 30_000;
    assert!(
        per_user < 400,
        "{per_user} bytes per extra user ({small} -> {large} bytes)"
    );
}
