//! Graph's JSON shapes and their mapping to the engine's types.

use engine::ports::{
    GroupChange, Member, MemberKind, MemberRef, SkippedKind, SourceDomain, SourceError,
    SourceGroup, SourceUser, UserChange,
};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};

/// The user properties the engine maps (a macro so `concat!` can reuse it).
macro_rules! user_fields {
    () => {
        "id,userPrincipalName,mail,otherMails,displayName,givenName,surname,jobTitle,\
         department,accountEnabled,userType,creationType"
    };
}

/// Exactly what `$select` asks for on users.
pub(crate) const USER_FIELDS: &str = user_fields!();
/// The group properties the engine maps.
pub(crate) const GROUP_FIELDS: &str = "id,displayName,description";
/// For member listings (users and groups mixed): the union of both.
pub(crate) const MEMBER_FIELDS: &str = concat!(user_fields!(), ",description");
/// Group delta with `members`, so that `members@delta` is returned.
pub(crate) const GROUP_DELTA_FIELDS: &str = "displayName,description,members";

/// One page of any collection.
#[derive(Deserialize)]
pub(crate) struct Collection<T> {
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

/// The paging links a page writes before its `value` (Graph writes
/// `@odata.nextLink` and `@odata.deltaLink` first), read without reading
/// `value` or anything after it.
#[derive(Default)]
pub(crate) struct LinksFirst {
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

impl LinksFirst {
    /// The links of `body` (a page of a collection) that come before its
    /// `value`; `None` when `body` does not reach a `value` member (it is
    /// not an object, is not valid JSON up to `value`, or has none). Links
    /// written after `value` are not seen.
    pub(crate) fn read(body: &[u8]) -> Option<LinksFirst> {
        let mut links = LinksFirst::default();
        let mut reader = UpToValue {
            links: &mut links,
            reached: false,
        };
        // Stopping at `value` leaves the rest unread, which serde_json
        // reports as an error: only what was read before it counts.
        let _unread = (&mut reader).deserialize(&mut serde_json::Deserializer::from_slice(body));
        reader.reached.then_some(links)
    }
}

/// A page's top-level members, as far as [`UpToValue`] reads them.
#[derive(Deserialize)]
enum PageKey {
    #[serde(rename = "@odata.nextLink")]
    NextLink,
    #[serde(rename = "@odata.deltaLink")]
    DeltaLink,
    #[serde(rename = "value")]
    Value,
    #[serde(other)]
    Other,
}

/// Reads a page's top-level object into `links` until it meets `value`
/// (then `reached`), and stops there with an error.
struct UpToValue<'a> {
    links: &'a mut LinksFirst,
    reached: bool,
}

impl<'de> DeserializeSeed<'de> for &mut UpToValue<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut UpToValue<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a page of a Graph collection")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(member) = map.next_key::<PageKey>()? {
            match member {
                PageKey::NextLink => self.links.next_link = map.next_value()?,
                PageKey::DeltaLink => self.links.delta_link = map.next_value()?,
                PageKey::Value => {
                    self.reached = true;
                    return Err(A::Error::custom("stopped at value"));
                }
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DomainJson {
    id: String,
    #[serde(default)]
    is_verified: bool,
}

impl From<DomainJson> for SourceDomain {
    fn from(d: DomainJson) -> Self {
        SourceDomain {
            id: d.id,
            is_verified: d.is_verified,
        }
    }
}

/// A directory object: a user, a group, or another member type. Every
/// property is optional because `$select` and object types vary.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectJson {
    id: Option<String>,
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    user_principal_name: Option<String>,
    mail: Option<String>,
    #[serde(default)]
    other_mails: Option<Vec<String>>,
    display_name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    account_enabled: Option<bool>,
    user_type: Option<String>,
    creation_type: Option<String>,
    description: Option<String>,
    /// Present (any object) on a delta's removed entries; only its
    /// presence matters, so it is skipped, not built.
    #[serde(rename = "@removed")]
    removed: Option<IgnoredAny>,
    #[serde(rename = "members@delta")]
    members_delta: Option<Vec<ObjectJson>>,
}

fn missing(what: &str) -> SourceError {
    SourceError::BadResponse(format!("object without {what}"))
}

impl ObjectJson {
    fn id(&self) -> Result<String, SourceError> {
        self.id.clone().ok_or_else(|| missing("id"))
    }

    pub(crate) fn into_user(self) -> Result<SourceUser, SourceError> {
        let id = self.id()?;
        let user_principal_name = self
            .user_principal_name
            .ok_or_else(|| missing("userPrincipalName"))?;
        Ok(SourceUser {
            id,
            user_principal_name,
            mail: self.mail,
            display_name: self.display_name,
            given_name: self.given_name,
            surname: self.surname,
            job_title: self.job_title,
            department: self.department,
            // Selected explicitly; absent only if Graph has no value, and an
            // account of unknown state is not treated as enabled.
            account_enabled: self.account_enabled.unwrap_or(false),
            user_type: self.user_type,
            creation_type: self.creation_type,
            other_mails: self.other_mails.unwrap_or_default(),
        })
    }

    pub(crate) fn into_group(self) -> Result<SourceGroup, SourceError> {
        Ok(SourceGroup {
            id: self.id()?,
            display_name: self.display_name.unwrap_or_default(),
            description: self.description,
        })
    }

    fn kind(&self) -> MemberKind {
        match self.odata_type.as_deref() {
            Some("#microsoft.graph.user") => MemberKind::User,
            Some("#microsoft.graph.group") => MemberKind::Group,
            Some("#microsoft.graph.device") => MemberKind::Skipped(SkippedKind::Device),
            Some("#microsoft.graph.orgContact") => MemberKind::Skipped(SkippedKind::OrgContact),
            Some("#microsoft.graph.servicePrincipal") => {
                MemberKind::Skipped(SkippedKind::ServicePrincipal)
            }
            other => MemberKind::Skipped(SkippedKind::Other(other.unwrap_or_default().to_owned())),
        }
    }

    pub(crate) fn into_member(self) -> Result<Member, SourceError> {
        Ok(match self.kind() {
            MemberKind::User => Member::User(self.into_user()?),
            MemberKind::Group => Member::Group(self.into_group()?),
            MemberKind::Skipped(kind) => Member::Skipped {
                id: self.id()?,
                kind,
            },
        })
    }

    pub(crate) fn into_user_change(self) -> Result<UserChange, SourceError> {
        if self.removed.is_some() {
            return Ok(UserChange::Removed { id: self.id()? });
        }
        Ok(UserChange::Upsert(self.into_user()?))
    }

    pub(crate) fn into_group_change(mut self) -> Result<GroupChange, SourceError> {
        if self.removed.is_some() {
            return Ok(GroupChange::Removed { id: self.id()? });
        }
        let mut members_added = Vec::new();
        let mut members_removed = Vec::new();
        for m in self.members_delta.take().unwrap_or_default() {
            let reference = MemberRef {
                id: m.id()?,
                kind: m.kind(),
            };
            if m.removed.is_some() {
                members_removed.push(reference);
            } else {
                members_added.push(reference);
            }
        }
        Ok(GroupChange::Upsert {
            group: self.into_group()?,
            members_added,
            members_removed,
        })
    }
}

/// `{"error":{"code","message","innerError":{"request-id"}}}`
#[derive(Deserialize, Default)]
pub(crate) struct GraphErrorBody {
    #[serde(default)]
    pub error: GraphErrorDetail,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GraphErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    pub inner_error: Option<InnerError>,
}

#[derive(Deserialize)]
pub(crate) struct InnerError {
    #[serde(rename = "request-id")]
    pub request_id: Option<String>,
}

/// The token endpoint's error: `{"error","error_description","error_codes"}`.
#[derive(Deserialize, Default)]
pub(crate) struct TokenErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    /// Seconds; some endpoints send it as a string.
    pub expires_in: NumberOrString,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum NumberOrString {
    Number(u64),
    String(String),
}

impl NumberOrString {
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            NumberOrString::Number(n) => Some(*n),
            NumberOrString::String(s) => s.trim().parse().ok(),
        }
    }
}
