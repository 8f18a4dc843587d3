//! Reads of an organization's directory data for the API, cursor-paginated.
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::OrgId;
use crate::ports::{Clock, Store};
use crate::sync::start::pending;
use crate::views::*;

pub(crate) async fn list_users<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _cursor: Option<&str>,
    _limit: usize,
) -> Result<Listing<UserView>> {
    Err(pending("users"))
}
pub(crate) async fn get_user<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _id: &str,
) -> Result<UserView> {
    Err(pending("user"))
}
pub(crate) async fn list_groups<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _cursor: Option<&str>,
    _limit: usize,
) -> Result<Listing<GroupView>> {
    Err(pending("groups"))
}
pub(crate) async fn get_group<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _id: &str,
) -> Result<GroupView> {
    Err(pending("group"))
}
pub(crate) async fn group_members<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _id: &str,
    _cursor: Option<&str>,
    _limit: usize,
) -> Result<Listing<MemberView>> {
    Err(pending("members"))
}
pub(crate) async fn claimed_domains<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
) -> Result<Vec<ClaimedDomain>> {
    Err(pending("domains"))
}
pub(crate) async fn list_emails<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _cursor: Option<&str>,
    _limit: usize,
) -> Result<Listing<EmailView>> {
    Err(pending("emails"))
}
pub(crate) async fn has_completed_run<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
) -> Result<bool> {
    Ok(false)
}
