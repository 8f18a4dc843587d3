//! Reads of an organization's directory data for the API. Listings walk the
//! org's directories and their shard documents in order, with an opaque
//! cursor (directory position, shard layout and index, last id) — never a
//! store scan.

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId, check_object_id};
use crate::model::{GroupRecord, MailState, MemberList, OutboxRecord, UserRecord, WELCOME_SUBJECT};
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind, Layout};
use crate::sync::state::DirState;
use crate::sync::state::load_current;
use crate::views::*;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub(crate) const MAX_PAGE: usize = 500;

/// Where a listing continues: directory position, shard count, shard index,
/// and the last id returned (hex, so any id survives the round trip).
struct Cursor {
    dir: usize,
    count: u32,
    shard: u32,
    after: Option<String>,
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

impl Cursor {
    fn parse(s: Option<&str>) -> Result<Cursor> {
        let Some(s) = s else {
            return Ok(Cursor {
                dir: 0,
                count: 0,
                shard: 0,
                after: None,
            });
        };
        let bad = || EngineError::InvalidId {
            what: "cursor",
            reason: "not a cursor from a previous page".to_owned(),
        };
        let parts: Vec<&str> = s.split('.').collect();
        let [dir, count, shard, after] = parts.as_slice() else {
            return Err(bad());
        };
        Ok(Cursor {
            dir: dir.parse().map_err(|_| bad())?,
            count: count.parse().map_err(|_| bad())?,
            shard: shard.parse().map_err(|_| bad())?,
            after: if after.is_empty() {
                None
            } else {
                Some(unhex(after).ok_or_else(bad)?)
            },
        })
    }

    fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.dir,
            self.count,
            self.shard,
            self.after.as_deref().map(hex).unwrap_or_default()
        )
    }
}

async fn dirs_with_state<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
) -> Result<Vec<(DirId, DirState)>> {
    let mut out = Vec::new();
    for d in orgs::list(e.store, org).await? {
        let state = load_current(e.store, org, &d.id).await?;
        out.push((d.id, state));
    }
    Ok(out)
}

fn layout(state: &DirState, kind: Kind) -> &Layout {
    match kind {
        Kind::Users => &state.shards.users,
        Kind::Groups => &state.shards.groups,
        Kind::Members => &state.shards.members,
        Kind::Outbox => &state.shards.outbox,
    }
}

/// Walks the records of `kind` across the org's directories.
async fn walk<S, C, T, V>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    kind: Kind,
    cursor: Option<&str>,
    limit: usize,
    view: impl Fn(&DirId, &DirState, &str, T) -> Option<V>,
) -> Result<Listing<V>>
where
    S: Store,
    C: Clock,
    T: DeserializeOwned,
{
    let limit = limit.clamp(1, MAX_PAGE);
    let mut at = Cursor::parse(cursor)?;
    let dirs = dirs_with_state(e, org).await?;
    let mut items = Vec::new();
    while let Some((dir, state)) = dirs.get(at.dir) {
        let layout = layout(state, kind);
        let count = layout.count;
        if at.count != count {
            // First visit, or the layout changed since the cursor was made.
            at = Cursor {
                dir: at.dir,
                count,
                shard: 0,
                after: None,
            };
        }
        while at.shard < count {
            let shard: BTreeMap<String, T> =
                shards::load_shard(e.store, org, dir, kind, layout, at.shard).await?;
            let after = at.after.take();
            let rest = shard
                .into_iter()
                .filter(|(id, _)| after.as_ref().is_none_or(|a| id > a));
            for (id, record) in rest {
                if let Some(v) = view(dir, state, &id, record) {
                    items.push(v);
                }
                at.after = Some(id);
                if items.len() == limit {
                    return Ok(Listing {
                        items,
                        next_cursor: Some(at.encode()),
                    });
                }
            }
            at.shard += 1;
            at.after = None;
        }
        at = Cursor {
            dir: at.dir + 1,
            count: 0,
            shard: 0,
            after: None,
        };
    }
    Ok(Listing {
        items,
        next_cursor: None,
    })
}

fn user_view(dir: &DirId, rec: UserRecord) -> UserView {
    let guest = rec.data.is_guest();
    let d = rec.data;
    UserView {
        id: d.id,
        directory: dir.clone(),
        user_principal_name: d.upn,
        mail: d.mail,
        display_name: d.display_name,
        given_name: d.given_name,
        surname: d.surname,
        job_title: d.job_title,
        department: d.department,
        account_enabled: d.enabled,
        guest,
        synced: rec.synced,
        groups: rec.groups,
        created_at: rec.created_at,
    }
}

fn group_view(dir: &DirId, state: &DirState, rec: GroupRecord) -> GroupView {
    GroupView {
        product_access: state.product_access.contains(&rec.data.id),
        id: rec.data.id,
        directory: dir.clone(),
        display_name: rec.data.name,
        description: rec.data.description,
        synced: rec.synced,
        not_synced_reason: rec.not_synced_reason,
        parents: rec.parents,
        children: rec.children,
        member_count: rec.member_count,
        entra_member_count: rec.entra_member_count,
    }
}

pub(crate) async fn list_users<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<UserView>> {
    walk(
        e,
        org,
        Kind::Users,
        cursor,
        limit,
        |dir, _, _, rec: UserRecord| rec.is_account().then(|| user_view(dir, rec)),
    )
    .await
}

/// Finds the record of `id` that `accept` takes in whichever directory of
/// the org holds it.
async fn find<S: Store, C: Clock, T: DeserializeOwned>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    kind: Kind,
    id: &str,
    accept: impl Fn(&T) -> bool,
) -> Result<Option<(DirId, DirState, T)>> {
    for (dir, state) in dirs_with_state(e, org).await? {
        let found: Option<T> =
            shards::load_one(e.store, org, &dir, kind, layout(&state, kind), id).await?;
        if let Some(rec) = found.filter(&accept) {
            return Ok(Some((dir, state, rec)));
        }
    }
    Ok(None)
}

pub(crate) async fn get_user<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<UserView> {
    check_object_id("user id", id)?;
    let (dir, _, rec) = find(e, org, Kind::Users, id, UserRecord::is_account)
        .await?
        .ok_or(EngineError::NotFound("user"))?;
    Ok(user_view(&dir, rec))
}

pub(crate) async fn list_groups<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<GroupView>> {
    walk(
        e,
        org,
        Kind::Groups,
        cursor,
        limit,
        |dir, state, _, rec: GroupRecord| Some(group_view(dir, state, rec)),
    )
    .await
}

pub(crate) async fn find_group<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<(DirId, DirState, GroupRecord)> {
    check_object_id("group id", id)?;
    find(e, org, Kind::Groups, id, |_: &GroupRecord| true)
        .await?
        .ok_or(EngineError::NotFound("group"))
}

pub(crate) async fn get_group<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<GroupView> {
    let (dir, state, rec) = find_group(e, org, id).await?;
    Ok(group_view(&dir, &state, rec))
}

pub(crate) async fn group_members<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<MemberView>> {
    let (dir, state, _) = find_group(e, org, id).await?;
    let limit = limit.clamp(1, MAX_PAGE);
    let offset: usize = match cursor {
        None => 0,
        Some(c) => c.parse().map_err(|_| EngineError::InvalidId {
            what: "cursor",
            reason: "not a cursor from a previous page".to_owned(),
        })?,
    };
    let list: MemberList =
        shards::load_one(e.store, org, &dir, Kind::Members, &state.shards.members, id)
            .await?
            .unwrap_or_default();
    let all: Vec<(&String, bool)> = list
        .direct
        .iter()
        .map(|u| (u, true))
        .chain(list.nested.iter().map(|u| (u, false)))
        .collect();
    let page: Vec<(&String, bool)> = all.iter().skip(offset).take(limit).copied().collect();
    // Read each user shard the page touches once.
    let users = &state.shards.users;
    let count = users.count;
    let mut by_shard: BTreeMap<u32, BTreeMap<String, UserRecord>> = BTreeMap::new();
    for (u, _) in &page {
        let s = shards::shard_of(u, count);
        if let std::collections::btree_map::Entry::Vacant(slot) = by_shard.entry(s) {
            slot.insert(shards::load_shard(e.store, org, &dir, Kind::Users, users, s).await?);
        }
    }
    let items = page
        .iter()
        .map(|(u, direct)| {
            let rec = by_shard
                .get(&shards::shard_of(u, count))
                .and_then(|s| s.get(*u));
            MemberView {
                user_id: (*u).clone(),
                user_principal_name: rec.map(|r| r.data.upn.clone()).unwrap_or_default(),
                display_name: rec.and_then(|r| r.data.display_name.clone()),
                direct: *direct,
            }
        })
        .collect();
    let next = offset + page.len();
    Ok(Listing {
        items,
        next_cursor: (next < all.len()).then(|| next.to_string()),
    })
}

pub(crate) async fn claimed_domains<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
) -> Result<Vec<ClaimedDomain>> {
    Ok(dirs_with_state(e, org)
        .await?
        .into_iter()
        .flat_map(|(dir, state)| {
            state.claimed.into_iter().map(move |c| ClaimedDomain {
                name: c.name,
                directory: dir.clone(),
                claimed_at: c.claimed_at,
            })
        })
        .collect())
}

pub(crate) async fn list_emails<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<EmailView>> {
    walk(
        e,
        org,
        Kind::Outbox,
        cursor,
        limit,
        |dir, _, id, rec: OutboxRecord| {
            Some(EmailView {
                user_id: id.to_owned(),
                directory: dir.clone(),
                to: rec.to,
                subject: WELCOME_SUBJECT.to_owned(),
                status: match rec.state {
                    MailState::Queued => EmailStatus::Queued,
                    MailState::Sent => EmailStatus::Sent,
                },
                queued_at: rec.queued_at,
                sent_at: rec.sent_at,
            })
        },
    )
    .await
}

pub(crate) async fn has_completed_run<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
) -> Result<bool> {
    Ok(dirs_with_state(e, org)
        .await?
        .iter()
        .any(|(_, s)| s.last_completed.is_some()))
}
