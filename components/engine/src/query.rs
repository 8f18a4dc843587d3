//! Reads of an organization's directory data for the API. Listings walk the
//! org's directories and their shard documents in order, with an opaque
//! cursor (directory position, shard layout and index, last id) — never a
//! store scan.

use crate::engine::context::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId, canonical_object_id, check_object_id};
use crate::model::{
    GroupRecord, MailState, MemberList, OutboxRecord, UserData, UserRecord, WELCOME_SUBJECT,
};
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind, Layout};
use crate::sync::state::DirState;
use crate::sync::state::load_current;
use crate::views::*;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// The most items a listing page holds (`limit` is clamped to 1..=this).
pub const MAX_PAGE: usize = 500;

/// The most shard documents one listing request reads (about 450 KiB
/// each): a search that matches few records answers a short page, maybe
/// empty, with a `next_cursor` where it stopped, instead of reading every
/// document of a large directory in one request (Fermyon Cloud and Akamai
/// Functions end a request after 30 s).
pub const MAX_DOCUMENTS_PER_PAGE: u32 = 8;

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
    let mut read = 0;
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
            if read == MAX_DOCUMENTS_PER_PAGE {
                return Ok(Listing {
                    items,
                    next_cursor: Some(at.encode()),
                });
            }
            read += 1;
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

fn user_view(dir: &DirId, state: &DirState, rec: UserRecord) -> UserView {
    let guest = rec.data.is_guest();
    let domain = rec.data.domain().into_owned();
    let not_synced_reason = not_synced_reason(state, &rec);
    let d = rec.data.into_fields();
    UserView {
        id: d.id,
        directory: dir.clone(),
        user_principal_name: d.upn,
        mail: d.mail.map(String::from),
        display_name: d.display_name.map(String::from),
        given_name: d.given_name.map(String::from),
        surname: d.surname.map(String::from),
        job_title: d.job_title.map(String::from),
        department: d.department.map(String::from),
        account_enabled: d.enabled,
        guest,
        synced: rec.synced,
        groups: rec.groups.to_vec(),
        created_at: rec.created_at,
        domain,
        created_run: rec.created_run,
        changed_run: rec.changed_run,
        left_run: rec.left_run,
        not_synced_reason,
    }
}

/// Why an account is not synced now, by the rules the last completed run
/// applied (see `finalize`): gone from Entra ID (a run over all users saw
/// it no more), a sign-in domain not verified (claimed) here, or no synced
/// group; with the run that took it out of the scope.
fn not_synced_reason(state: &DirState, rec: &UserRecord) -> Option<String> {
    if rec.synced {
        return None;
    }
    let domain = rec.data.domain();
    let verified = rec.data.is_guest() || state.claimed.iter().any(|c| c.name == domain);
    // A run over selected groups reads only their members: a user it did
    // not see may still be in Entra ID.
    let all_users = state
        .last_completed
        .as_ref()
        .is_none_or(|last| last.selected.is_none());
    let why = if !rec.in_source && all_users {
        "no longer in Entra ID".to_owned()
    } else if !verified {
        format!("domain {domain} is not verified here")
    } else {
        "not a member of any synced group".to_owned()
    };
    Some(match rec.left_run {
        Some(run) => format!("{why}; left the scope in run {run}"),
        None => why,
    })
}

/// A search term as names are compared: `None` matches everything.
fn search_term(search: Option<&str>) -> Option<String> {
    search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(comparable)
}

/// Text as a search compares it: Unicode NFC (so "Zoë" typed as `e` plus a
/// combining diaeresis, as macOS keyboards send it, finds "Zoë"), then
/// lower case.
fn comparable(text: &str) -> String {
    text.nfc().collect::<String>().to_lowercase()
}

/// Whether any of the names contains `term` (see [`comparable`]).
fn names_contain<'a>(term: Option<&str>, names: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    let Some(term) = term else {
        return true;
    };
    names
        .into_iter()
        .flatten()
        .any(|name| comparable(name).contains(term))
}

fn user_matches(rec: &UserRecord, term: Option<&str>, filter: Option<UserFilter>) -> bool {
    let d = &rec.data;
    let kept = match filter {
        None => true,
        Some(UserFilter::Synced) => rec.synced,
        Some(UserFilter::NotSynced) => !rec.synced,
        Some(UserFilter::Disabled) => !d.enabled,
        Some(UserFilter::Guest) => d.is_guest(),
    };
    kept && names_contain(term, user_names(d))
}

/// What a user search looks in: display name, UPN and mail.
fn user_names(d: &UserData) -> [Option<&str>; 3] {
    [d.display_name.as_deref(), Some(&d.upn), d.mail.as_deref()]
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

/// The org's accounts that `query` keeps. A search reads the user shard
/// documents one at a time and stops as soon as the page is full, or after
/// [`MAX_DOCUMENTS_PER_PAGE`] documents (a short page with a cursor).
pub(crate) async fn list_users<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    query: &UserQuery,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<UserView>> {
    let term = search_term(query.search.as_deref());
    walk(
        e,
        org,
        Kind::Users,
        cursor,
        limit,
        |dir, state, _, rec: UserRecord| {
            (rec.is_account() && user_matches(&rec, term.as_deref(), query.filter))
                .then(|| user_view(dir, state, rec))
        },
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
    let id = canonical_object_id(id);
    for (dir, state) in dirs_with_state(e, org).await? {
        let found: Option<T> =
            shards::load_one(e.store, org, &dir, kind, layout(&state, kind), &id).await?;
        if let Some(rec) = found.filter(&accept) {
            return Ok(Some((dir, state, rec)));
        }
    }
    Ok(None)
}

async fn find_user<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<(DirId, DirState, UserRecord)> {
    check_object_id("user id", id)?;
    find(e, org, Kind::Users, id, UserRecord::is_account)
        .await?
        .ok_or(EngineError::NotFound("user"))
}

pub(crate) async fn get_user<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<UserView> {
    let (dir, state, rec) = find_user(e, org, id).await?;
    Ok(user_view(&dir, &state, rec))
}

/// One account with the synced groups it belongs to, by name.
pub(crate) async fn user_detail<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
) -> Result<UserDetail> {
    let (dir, state, rec) = find_user(e, org, id).await?;
    let ids: Vec<&str> = rec.groups.iter().map(String::as_str).collect();
    let names: BTreeMap<String, GroupRecord> =
        shards::load_many(e.store, org, &dir, Kind::Groups, &state.shards.groups, &ids).await?;
    let mut groups: Vec<UserGroupView> = rec
        .groups
        .iter()
        .map(|g| UserGroupView {
            id: g.clone(),
            display_name: names
                .get(g)
                .map(|r| r.data.name.clone())
                .unwrap_or_default(),
            direct: rec.direct_groups.contains(g),
        })
        .collect();
    groups.sort_by(|a, b| (!a.direct, &a.display_name).cmp(&(!b.direct, &b.display_name)));
    Ok(UserDetail {
        user: user_view(&dir, &state, rec),
        groups,
    })
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

/// Members whose names a member search reads per step (the page is
/// filled from these, in list order; the user shards they fall in are read
/// one at a time).
const MEMBER_CHUNK: usize = 1000;

/// A group's synced members, direct ones first, optionally only those whose
/// display name, UPN or mail contains `search` (ignoring case). The cursor
/// is the position in the member list.
pub(crate) async fn group_members<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
    search: Option<&str>,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Listing<MemberView>> {
    let (dir, state, group) = find_group(e, org, id).await?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut at: usize = match cursor {
        None => 0,
        Some(c) => c.parse().map_err(|_| EngineError::InvalidId {
            what: "cursor",
            reason: "not a cursor from a previous page".to_owned(),
        })?,
    };
    let list: MemberList = shards::load_one(
        e.store,
        org,
        &dir,
        Kind::Members,
        &state.shards.members,
        &group.data.id,
    )
    .await?
    .unwrap_or_default();
    let all: Vec<(&str, bool)> = list
        .direct
        .iter()
        .map(|u| (u.as_str(), true))
        .chain(list.nested.iter().map(|u| (u.as_str(), false)))
        .collect();
    let term = search_term(search);
    // Without a search every member matches: read exactly one page.
    let chunk = if term.is_some() { MEMBER_CHUNK } else { limit };
    let mut items = Vec::new();
    while items.len() < limit && at < all.len() {
        let ids: Vec<&str> = all.iter().skip(at).take(chunk).map(|(u, _)| *u).collect();
        let users: BTreeMap<String, UserRecord> =
            shards::load_many(e.store, org, &dir, Kind::Users, &state.shards.users, &ids).await?;
        for &(u, direct) in all.iter().skip(at).take(chunk) {
            at += 1;
            let rec = users.get(u);
            // A member without a user record is listed unless searched for.
            let keep = rec.map_or(term.is_none(), |r| {
                names_contain(term.as_deref(), user_names(&r.data))
            });
            if keep {
                items.push(MemberView {
                    user_id: u.to_owned(),
                    user_principal_name: rec.map(|r| r.data.upn.clone()).unwrap_or_default(),
                    display_name: rec
                        .and_then(|r| r.data.display_name.as_deref().map(str::to_owned)),
                    direct,
                });
            }
            if items.len() == limit {
                break;
            }
        }
    }
    Ok(Listing {
        items,
        next_cursor: (at < all.len()).then(|| at.to_string()),
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
/// Whether a completed sync of one of the org's directories claimed at
/// least one domain: SAML sign-in is for the domains the org owns, so
/// until then it cannot be configured.
pub(crate) async fn has_claimed_domains<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
) -> Result<bool> {
    Ok(dirs_with_state(e, org)
        .await?
        .iter()
        .any(|(_, s)| s.last_completed.is_some() && !s.claimed.is_empty()))
}
