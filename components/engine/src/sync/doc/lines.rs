//! Decoding a staged line ([`Staged`]) in one pass.
//!
//! Serde's derived decoding of an internally tagged enum (`"t"` names the
//! variant) first buffers the whole object into an intermediate tree,
//! because the tag may come anywhere; for a line of 250 users that tree
//! cost more than the line's own parsing (see the engine README, "Where
//! the time goes"). Every staged line is written with `"t"` first (serde
//! serializes the tag before the fields), so decoding reads the tag and
//! then the variant's fields straight from the JSON. A line whose first
//! key is not `"t"` was not written by [`Staged`]'s encoding: an error.
//!
//! The line structs below are the decoding side of [`Staged`]'s stored
//! names (`doc.rs`'s `staged_lines_round_trip` test keeps the two in step).

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, Visitor};

use super::{Staged, StagedUser};
use crate::model::GroupData;

/// The only key a staged line may start with.
#[derive(serde::Deserialize)]
enum TagKey {
    #[serde(rename = "t")]
    Tag,
}

/// The value of `"t"`: which variant the line is.
#[derive(serde::Deserialize)]
enum Kind {
    #[serde(rename = "g")]
    Group,
    #[serde(rename = "m")]
    Members,
    #[serde(rename = "x")]
    Deleted,
    #[serde(rename = "ov")]
    OverLimit,
    #[serde(rename = "u")]
    Users,
    #[serde(rename = "gd")]
    GroupDelta,
}

#[derive(serde::Deserialize)]
struct GroupLine {
    g: GroupData,
}

#[derive(serde::Deserialize)]
struct MembersLine {
    g: String,
    #[serde(default)]
    u: Vec<StagedUser>,
    #[serde(default)]
    sg: Vec<String>,
}

#[derive(serde::Deserialize)]
struct DeletedLine {
    g: String,
}

#[derive(serde::Deserialize)]
struct OverLimitLine {
    g: String,
    users: u64,
}

#[derive(serde::Deserialize)]
struct UsersLine {
    #[serde(default)]
    up: Vec<StagedUser>,
    #[serde(default)]
    rm: Vec<String>,
}

#[derive(serde::Deserialize)]
struct GroupDeltaLine {
    id: String,
    #[serde(default)]
    g: Option<GroupData>,
    #[serde(default)]
    au: Vec<String>,
    #[serde(default)]
    ag: Vec<String>,
    #[serde(default)]
    ru: Vec<String>,
    #[serde(default)]
    rg: Vec<String>,
    #[serde(default)]
    removed: bool,
}

impl<'de> Deserialize<'de> for Staged {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Staged, D::Error> {
        deserializer.deserialize_map(TagFirst)
    }
}

/// Reads `"t"`, then hands the rest of the object to the variant's line.
struct TagFirst;

impl<'de> Visitor<'de> for TagFirst {
    type Value = Staged;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a staged line: an object whose first key is \"t\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Staged, A::Error> {
        let Some(TagKey::Tag) = map.next_key()? else {
            return Err(A::Error::missing_field("t"));
        };
        let kind: Kind = map.next_value()?;
        let rest = MapAccessDeserializer::new(map);
        Ok(match kind {
            Kind::Group => {
                let l = GroupLine::deserialize(rest)?;
                Staged::Group { group: l.g }
            }
            Kind::Members => {
                let l = MembersLine::deserialize(rest)?;
                Staged::Members {
                    group: l.g,
                    users: l.u,
                    subgroups: l.sg,
                }
            }
            Kind::Deleted => Staged::Deleted {
                group: DeletedLine::deserialize(rest)?.g,
            },
            Kind::OverLimit => {
                let l = OverLimitLine::deserialize(rest)?;
                Staged::OverLimit {
                    group: l.g,
                    users: l.users,
                }
            }
            Kind::Users => {
                let l = UsersLine::deserialize(rest)?;
                Staged::Users {
                    upserted: l.up,
                    removed_ids: l.rm,
                }
            }
            Kind::GroupDelta => {
                let l = GroupDeltaLine::deserialize(rest)?;
                Staged::GroupDelta {
                    id: l.id,
                    group: l.g,
                    added_users: l.au,
                    added_groups: l.ag,
                    removed_users: l.ru,
                    removed_groups: l.rg,
                    removed: l.removed,
                }
            }
        })
    }
}
