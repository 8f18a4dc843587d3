//! The store layout. Every key of an organization starts with `org/{org}`;
//! ids are validated (`ids`) before they reach this module.

use crate::ids::{DirId, OrgId};
use crate::ports::store::MAX_KEY_BYTES;

/// The global directory index the scheduler iterates (one key, bounded).
pub const DIRECTORY_INDEX: &str = "index/directories";

pub fn org(org: &OrgId) -> String {
    format!("org/{org}")
}

pub fn saml(org: &OrgId) -> String {
    format!("org/{org}/saml")
}

pub fn directory(org: &OrgId, dir: &DirId) -> String {
    format!("org/{org}/dir/{dir}")
}

/// A per-directory key: `settings`, `runs` (the history), `head`.
pub fn dir_doc(org: &OrgId, dir: &DirId, doc: &str) -> String {
    format!("org/{org}/dir/{dir}/{doc}")
}

/// The run document of run `run` (one key per run, so that a late write
/// of an older run never touches a newer one's).
pub fn run(org: &OrgId, dir: &DirId, run: u64) -> String {
    format!("org/{org}/dir/{dir}/run/{run}")
}

/// The directory state that run `run`'s finalize wrote (one key per run).
pub fn state(org: &OrgId, dir: &DirId, run: u64) -> String {
    format!("org/{org}/dir/{dir}/state/{run}")
}

/// Document `index` of `count` of a sharded collection (`users`, `groups`,
/// `members`, `outbox`) as run `run` wrote it: no two runs share a key.
pub fn shard(org: &OrgId, dir: &DirId, kind: &str, count: u32, index: u32, run: u64) -> String {
    format!("org/{org}/dir/{dir}/{kind}/{count}.{index}.{run}")
}

/// The product-access grant of one group of a directory. A group id too
/// long for a key is hashed (Graph's ids are 36-character GUIDs).
pub fn access(org: &OrgId, dir: &DirId, group: &str) -> String {
    let key = format!("org/{org}/dir/{dir}/access/{group}");
    if key.len() <= MAX_KEY_BYTES {
        key
    } else {
        format!(
            "org/{org}/dir/{dir}/access/#{:016x}",
            crate::hash::fnv1a(group.as_bytes())
        )
    }
}

/// A sealed staging chunk of run `run`, named by the hash of its bytes, so
/// that two invocations sealing different bytes never share a key.
pub fn stage_chunk(org: &OrgId, dir: &DirId, run: u64, hash: u64) -> String {
    format!("org/{org}/dir/{dir}/stage/{run}.{hash:016x}")
}

/// The global claim of a domain (across organizations). A name too long
/// for a key is hashed (the record holds the name).
pub fn domain(name: &str) -> String {
    let key = format!("domains/{name}");
    if key.len() <= MAX_KEY_BYTES {
        key
    } else {
        format!("domains/#{:016x}", crate::hash::fnv1a(name.as_bytes()))
    }
}
