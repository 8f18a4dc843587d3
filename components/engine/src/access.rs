//! Product access per group and billing.
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::OrgId;
use crate::ports::{Clock, Store};
use crate::sync::start::pending;
use crate::views::*;

pub(crate) async fn set_product_access<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _id: &str,
    _on: bool,
) -> Result<GroupView> {
    Err(pending("product access"))
}
pub(crate) async fn billing<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
) -> Result<Billing> {
    Err(pending("billing"))
}
