//! The records stored in shard documents, in a compact JSON form (short
//! field names, absent options omitted) so that a 10,000-user directory fits
//! in a handful of shards.

use crate::ports::{SourceGroup, SourceUser, Timestamp};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// What Entra ID puts in an external (B2B guest) user's UPN, in any case:
/// `alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`.
const EXTERNAL_MARK: &[u8] = b"#EXT#";

/// A user's fields ([`UserFields`]), with their JSON once a run has
/// written it ([`UserData::remember_json`]): a run writes a user it read
/// twice, in its staging and in the user's shard, and the second time is a
/// copy (the encoding was about a tenth of the engine's instructions in
/// the benchmark's 10,000-user first sync). Serialized exactly as the
/// fields are; compared by the fields; changing a field forgets the JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "UserFields")]
pub(crate) struct UserData {
    fields: UserFields,
    json: OnceCell<Box<RawValue>>,
}

impl UserData {
    /// Writes the fields' JSON once and keeps it for every later
    /// serialization (only `serde_json` serializers are used here: the
    /// kept JSON goes out verbatim).
    pub fn remember_json(&self) {
        // Plain data with string keys cannot fail to encode; if it did, no
        // JSON is kept and the fields are serialized each time.
        if self.json.get().is_none()
            && let Ok(json) = serde_json::value::to_raw_value(&self.fields)
        {
            let _ = self.json.set(json);
        }
    }

    /// The fields, without the JSON.
    pub fn into_fields(self) -> UserFields {
        self.fields
    }
}

impl From<UserFields> for UserData {
    fn from(fields: UserFields) -> Self {
        UserData {
            fields,
            json: OnceCell::new(),
        }
    }
}

impl Serialize for UserData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.json.get() {
            Some(json) => json.serialize(serializer),
            None => self.fields.serialize(serializer),
        }
    }
}

impl PartialEq for UserData {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl Eq for UserData {}

impl Deref for UserData {
    type Target = UserFields;
    fn deref(&self) -> &UserFields {
        &self.fields
    }
}

impl DerefMut for UserData {
    /// The fields, to change: the JSON kept is forgotten.
    fn deref_mut(&mut self) -> &mut UserFields {
        self.json.take();
        &mut self.fields
    }
}

/// A short text field of a user: kept inline, without an allocation, up to
/// 24 bytes (12 on 32-bit WebAssembly). Most of a user's fields are short
/// (names, titles, departments, `Member`), and a run allocates and frees
/// them for every user it reads: 6 fewer allocations per user in the
/// benchmark's tenants (`compact_str`).
pub(crate) type Text = compact_str::CompactString;

/// The synced fields of an Entra user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserFields {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "p")]
    pub upn: String,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<Text>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Text>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<Text>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<Text>,
    #[serde(rename = "j", default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<Text>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Text>,
    #[serde(rename = "e")]
    pub enabled: bool,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<Text>,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub creation_type: Option<Text>,
    /// Graph's `otherMails`.
    #[serde(rename = "om", default, skip_serializing_if = "Vec::is_empty")]
    pub other_mails: Vec<String>,
}

impl From<SourceUser> for UserData {
    fn from(u: SourceUser) -> Self {
        UserData::from(UserFields {
            id: u.id,
            upn: u.user_principal_name,
            mail: u.mail.map(Text::from),
            display_name: u.display_name.map(Text::from),
            given_name: u.given_name.map(Text::from),
            surname: u.surname.map(Text::from),
            job_title: u.job_title.map(Text::from),
            department: u.department.map(Text::from),
            enabled: u.account_enabled,
            user_type: u.user_type.map(Text::from),
            creation_type: u.creation_type.map(Text::from),
            other_mails: u.other_mails,
        })
    }
}

impl UserFields {
    /// External users: userType Guest, or `#EXT#` in the UPN.
    pub fn is_guest(&self) -> bool {
        self.user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
            // Most UPNs have no '#': look for the mark only where one is.
            || self.upn.match_indices('#').any(|(at, _)| {
                self.upn
                    .as_bytes()
                    .get(at..at + EXTERNAL_MARK.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(EXTERNAL_MARK))
            })
    }

    /// The lower-cased sign-in domain (after the last '@' of the UPN),
    /// borrowed from the UPN when it is lower case already (it is checked
    /// for every user of every run).
    pub fn domain(&self) -> Cow<'_, str> {
        let domain = self.upn.rsplit_once('@').map_or("", |(_, d)| d);
        match domain.bytes().any(|b| b.is_ascii_uppercase()) {
            true => Cow::Owned(domain.to_ascii_lowercase()),
            false => Cow::Borrowed(domain),
        }
    }

    /// The user's mailbox, where a welcome email may go: `mail`, else the
    /// first of `otherMails`; `None` when neither is an address. Never the
    /// sign-in name: a UPN is not a mailbox (a guest's `…#EXT#@tenant` one
    /// never is, and a member without `mail` has no Exchange mailbox).
    pub fn mailbox(&self) -> Option<&str> {
        let is_address = |a: &&str| {
            a.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !a.to_ascii_uppercase().contains("#EXT#")
        };
        self.mail
            .as_deref()
            .filter(is_address)
            .or_else(|| self.other_mails.iter().map(String::as_str).find(is_address))
    }
}

/// A group's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupData {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<SourceGroup> for GroupData {
    fn from(g: SourceGroup) -> Self {
        GroupData {
            id: g.id,
            name: g.display_name,
            description: g.description,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A user of a directory, as stored in `users/` shards. Serialized by
/// hand (`"u"`, then [`UserRecord::serialize_state`]) exactly as a derived
/// implementation would, so that [`RecordEncoder`] can write the state
/// apart from the user's fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct UserRecord {
    /// Boxed: records are moved about in maps and vectors by the hundred
    /// thousand, and a user's fields are a few hundred bytes.
    #[serde(rename = "u")]
    pub data: Box<UserData>,
    /// Present in the source at the latest completed run.
    #[serde(rename = "src", default)]
    pub in_source: bool,
    #[serde(rename = "sy", default)]
    pub synced: bool,
    /// Groups (synced or not) the user is a direct member of.
    #[serde(rename = "dg", default)]
    pub direct_groups: GroupIds,
    /// Synced groups the user belongs to, directly or through nesting.
    #[serde(rename = "gr", default)]
    pub groups: GroupIds,
    /// The run that created the account (first synced), if any.
    #[serde(rename = "cr", default)]
    pub created_run: Option<u64>,
    #[serde(rename = "ca", default)]
    pub created_at: Timestamp,
    /// The last run that changed this record.
    #[serde(rename = "ch", default)]
    pub changed_run: u64,
    /// The run that took the user out of scope.
    #[serde(rename = "lr", default)]
    pub left_run: Option<u64>,
}

impl UserRecord {
    /// Whether the user has an account: synced now or before. Users seen by
    /// a run but never synced (unverified domain, only in groups that are not
    /// synced) are kept for incremental runs but are not accounts.
    pub fn is_account(&self) -> bool {
        self.created_run.is_some()
    }

    /// The fields after the user's, in order, each under its short name,
    /// absent ones skipped.
    fn serialize_state<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error> {
        field_if(out, "src", &self.in_source, self.in_source)?;
        field_if(out, "sy", &self.synced, self.synced)?;
        field_if(
            out,
            "dg",
            &self.direct_groups,
            !self.direct_groups.is_empty(),
        )?;
        field_if(out, "gr", &self.groups, !self.groups.is_empty())?;
        field_if(out, "cr", &self.created_run, self.created_run.is_some())?;
        out.serialize_field("ca", &Instant(&self.created_at))?;
        out.serialize_field("ch", &self.changed_run)?;
        field_if(out, "lr", &self.left_run, self.left_run.is_some())
    }

    /// How many fields [`UserRecord::serialize_state`] writes.
    fn state_len(&self) -> usize {
        let optional = [
            self.in_source,
            self.synced,
            !self.direct_groups.is_empty(),
            !self.groups.is_empty(),
            self.created_run.is_some(),
            self.left_run.is_some(),
        ];
        2 + optional.iter().filter(|present| **present).count()
    }

    /// What [`UserRecord::serialize_state`] writes depends on, and only.
    fn state_key(&self) -> StateKey {
        (
            self.in_source,
            self.synced,
            self.direct_groups.clone(),
            self.groups.clone(),
            self.created_run,
            self.created_at,
            self.changed_run,
            self.left_run,
        )
    }
}

impl Serialize for UserRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("UserRecord", 1 + self.state_len())?;
        out.serialize_field("u", &self.data)?;
        self.serialize_state(&mut out)?;
        out.end()
    }
}

/// Serializes `value` under `key`, or skips the field when it is absent.
fn field_if<S: SerializeStruct, T: Serialize + ?Sized>(
    out: &mut S,
    key: &'static str,
    value: &T,
    present: bool,
) -> Result<(), S::Error> {
    match present {
        true => out.serialize_field(key, value),
        false => out.skip_field(key),
    }
}

/// An instant as [`crate::codec::instant`] writes it.
struct Instant<'t>(&'t Timestamp);

impl Serialize for Instant<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::codec::instant(self.0, serializer)
    }
}

/// A user record's state alone: `{"src":...}` without `"u"`.
struct RecordState<'r>(&'r UserRecord);

impl Serialize for RecordState<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("UserRecord", self.0.state_len())?;
        self.0.serialize_state(&mut out)?;
        out.end()
    }
}

/// The values a record's state is written from ([`UserRecord::state_key`]).
type StateKey = (
    bool,
    bool,
    GroupIds,
    GroupIds,
    Option<u64>,
    Timestamp,
    u64,
    Option<u64>,
);

/// At most this many distinct states are kept by a [`RecordEncoder`]
/// (records of earlier runs each have their own; a run's new ones share).
const MAX_STATES: usize = 256;

/// Writes user records as serde_json does, each distinct state once: the
/// users a run places in the same groups differ only in their fields,
/// which are a copy (`UserData`'s JSON), so a record's cost is its user's
/// bytes. The same bytes as `codec::encode_into(out, record)`.
#[derive(Default)]
pub(crate) struct RecordEncoder {
    states: BTreeMap<StateKey, Vec<u8>>,
}

impl RecordEncoder {
    /// Appends `record`'s JSON to `out`.
    pub fn encode_into(&mut self, out: &mut Vec<u8>, record: &UserRecord) {
        let key = record.state_key();
        let fresh;
        let state = match self.states.get(&key) {
            Some(state) => state,
            None => {
                fresh = crate::codec::encode(&RecordState(record));
                if self.states.len() < MAX_STATES {
                    self.states.insert(key, fresh.clone());
                }
                &fresh
            }
        };
        out.extend_from_slice(br#"{"u":"#);
        crate::codec::encode_into(out, &record.data);
        // The state is an object with "ca" and "ch" at least: its members
        // follow the user's.
        out.push(b',');
        out.extend_from_slice(state.get(1..).unwrap_or_default());
    }
}

/// Group ids in id order, each once: a user record's lists. Shared, not
/// copied: finalize gives every user it places in the same groups the same
/// list (a first sync of a 10,000-user group builds two lists, not 20,000).
/// Serialized as a JSON array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct GroupIds(Arc<[String]>);

impl GroupIds {
    /// Whether there is none (for `skip_serializing_if`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for GroupIds {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for GroupIds {
    fn from(ids: Vec<String>) -> Self {
        GroupIds(ids.into())
    }
}

impl FromIterator<String> for GroupIds {
    fn from_iter<I: IntoIterator<Item = String>>(ids: I) -> Self {
        GroupIds(ids.into_iter().collect())
    }
}

/// A group of a directory, as stored in `groups/` shards. Product access
/// lives in the directory state, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    #[serde(rename = "g")]
    pub data: GroupData,
    #[serde(rename = "src", default, skip_serializing_if = "is_false")]
    pub in_source: bool,
    #[serde(rename = "sy", default, skip_serializing_if = "is_false")]
    pub synced: bool,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub not_synced_reason: Option<String>,
    /// Direct child groups (all, synced or not).
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Synced users reachable through the group (flattened): the length
    /// of its member listing; 0 when the group is not synced.
    #[serde(rename = "mc", default)]
    pub member_count: u64,
    /// Users reachable through the group in Entra ID, synced or not (those
    /// on domains not verified here included).
    #[serde(rename = "ec", default)]
    pub entra_member_count: u64,
}

/// The synced members of a synced group, in `members/` shards: user ids,
/// owned when read (`Id = String`), or borrowed from the records they
/// come from while finalize writes them (`Id = &str`: the same JSON,
/// without a copy of every id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub(crate) struct MemberList<Id = String> {
    /// Direct members.
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    pub direct: Vec<Id>,
    /// Members only through nested groups.
    #[serde(rename = "n", default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<Id>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum MailState {
    #[serde(rename = "q")]
    Queued,
    #[serde(rename = "s")]
    Sent,
}

/// A welcome email in the `outbox/` shards, keyed by user id: one per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OutboxRecord {
    #[serde(rename = "to")]
    pub to: String,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "st")]
    pub state: MailState,
    #[serde(rename = "qa", serialize_with = "crate::codec::instant")]
    pub queued_at: Timestamp,
    #[serde(rename = "sa", default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// The run that sent it (for that run's count).
    #[serde(rename = "sr", default, skip_serializing_if = "Option::is_none")]
    pub sent_run: Option<u64>,
}

pub(crate) const WELCOME_SUBJECT: &str = "Your new account is ready";

pub(crate) fn welcome_body(name: Option<&str>, to: &str) -> String {
    format!(
        "Hello {},\n\nAn account was created for you ({to}) by your organization's directory sync.\n",
        name.unwrap_or(to)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
    use super::*;
    use std::borrow::Cow;

    /// Records of every shape the state can take.
    fn record_cases() -> Vec<UserRecord> {
        let mut kim = with_upn("kim@contoso.com");
        kim.display_name = Some("Kim \"K\" Lee".into());
        kim.remember_json();
        let synced = UserRecord {
            data: Box::new(kim),
            in_source: true,
            synced: true,
            direct_groups: vec!["g1".to_owned()].into(),
            groups: vec!["g0".to_owned(), "g1".to_owned()].into(),
            created_run: Some(3),
            created_at: crate::ports::from_epoch_millis(1_700_000_000_123),
            changed_run: 3,
            left_run: None,
        };
        let left = UserRecord {
            data: Box::new(with_upn("lee@fabrikam.com")),
            in_source: false,
            synced: false,
            direct_groups: GroupIds::default(),
            groups: GroupIds::default(),
            created_run: Some(2),
            created_at: crate::ports::from_epoch_millis(10),
            changed_run: 4,
            left_run: Some(4),
        };
        let never_synced = UserRecord {
            created_run: None,
            created_at: Timestamp::UNIX_EPOCH,
            left_run: None,
            ..left.clone()
        };
        vec![synced, left, never_synced]
    }

    /// What the derived `Serialize` wrote before the state was written by
    /// hand (printed at `094b08e`): stored shards stay byte for byte, so
    /// an unchanged document is still not rewritten.
    const DERIVED: [&str; 3] = [
        r#"{"u":{"i":"u1","p":"kim@contoso.com","n":"Kim \"K\" Lee","e":false},"src":true,"sy":true,"dg":["g1"],"gr":["g0","g1"],"cr":3,"ca":"2023-11-14T22:13:20.123Z","ch":3}"#,
        r#"{"u":{"i":"u1","p":"lee@fabrikam.com","e":false},"cr":2,"ca":"1970-01-01T00:00:00.010Z","ch":4,"lr":4}"#,
        r#"{"u":{"i":"u1","p":"lee@fabrikam.com","e":false},"ca":"1970-01-01T00:00:00Z","ch":4}"#,
    ];

    #[test]
    fn a_user_record_is_written_as_the_derived_serializer_wrote_it_and_reads_back() {
        for (record, derived) in record_cases().iter().zip(DERIVED) {
            let json = crate::codec::encode(record);
            assert_eq!(String::from_utf8_lossy(&json), derived);
            let back: UserRecord = crate::codec::decode("record", &json).unwrap();
            assert_eq!(&back, record);
        }
    }

    #[test]
    fn the_record_encoder_writes_what_serde_json_writes_with_states_shared() {
        let mut encoder = RecordEncoder::default();
        // Twice each: the second time, the state comes from the encoder.
        for record in record_cases().iter().chain(record_cases().iter()) {
            let mut out = b"prefix".to_vec();
            encoder.encode_into(&mut out, record);
            assert_eq!(out[6..], crate::codec::encode(record));
        }
        assert_eq!(encoder.states.len(), 3);
    }

    /// A deterministic generator of records (xorshift64): text that needs
    /// JSON escaping, of lengths about the inline limits, and states drawn
    /// from pools small enough to repeat and large enough to outnumber
    /// [`MAX_STATES`].
    struct Records(u64);

    impl Records {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }

        fn text(&mut self) -> String {
            const CHARS: [char; 12] = [
                'a',
                'Z',
                ' ',
                '"',
                '\\',
                '\n',
                '\u{1}',
                '\u{7f}',
                '\u{e9}',
                '\u{1F600}',
                '\u{2028}',
                '/',
            ];
            let len = self.next(28);
            (0..len).map(|_| CHARS[self.next(12) as usize]).collect()
        }

        fn maybe_text(&mut self) -> Option<Text> {
            (self.next(4) > 0).then(|| self.text().into())
        }

        fn groups(&mut self) -> GroupIds {
            let n = self.next(4);
            (0..n).map(|_| format!("g{}", self.text())).collect()
        }

        fn record(&mut self) -> UserRecord {
            let mut data = with_upn(&format!("{}@contoso.com", self.text()));
            data.id = format!("u{}", self.text());
            (data.mail, data.display_name) = (self.maybe_text(), self.maybe_text());
            (data.given_name, data.surname) = (self.maybe_text(), self.maybe_text());
            (data.job_title, data.department) = (self.maybe_text(), self.maybe_text());
            (data.user_type, data.creation_type) = (self.maybe_text(), self.maybe_text());
            data.enabled = self.next(2) == 0;
            data.other_mails = (0..self.next(3)).map(|_| self.text()).collect();
            if self.next(2) == 0 {
                data.remember_json();
            }
            let run = |r: &mut Records| (r.next(3) > 0).then(|| r.next(5));
            UserRecord {
                data: Box::new(data),
                in_source: self.next(2) == 0,
                synced: self.next(2) == 0,
                direct_groups: self.groups(),
                groups: self.groups(),
                created_run: run(self),
                created_at: crate::ports::from_epoch_millis(self.next(3) as i64 * 86_400_123),
                changed_run: self.next(5),
                left_run: run(self),
            }
        }
    }

    #[test]
    fn the_record_encoder_writes_what_serde_json_writes_for_generated_records() {
        let mut records = Records(0x9E37_79B9_7F4A_7C15);
        let mut encoder = RecordEncoder::default();
        for _ in 0..5_000 {
            let record = records.record();
            let mut out = Vec::new();
            encoder.encode_into(&mut out, &record);
            let json = crate::codec::encode(&record);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&json)
            );
            let back: UserRecord = crate::codec::decode("record", &out).unwrap();
            assert_eq!(back, record);
        }
        assert_eq!(encoder.states.len(), MAX_STATES, "more states than kept");
    }

    fn with_upn(upn: &str) -> UserData {
        UserData::from(SourceUser {
            id: "u1".to_owned(),
            user_principal_name: upn.to_owned(),
            ..SourceUser::default()
        })
    }

    #[test]
    fn a_user_written_from_memory_reads_as_its_fields_and_a_change_forgets_the_json() {
        let mut user = with_upn("kim@contoso.com");
        user.display_name = Some("Kim \"K\" Lee".into());
        let fields = crate::codec::encode(&user);
        user.remember_json();
        assert_eq!(crate::codec::encode(&user), fields);
        user.job_title = Some("CFO".into());
        let changed = crate::codec::encode(&user);
        assert_ne!(
            changed, fields,
            "the JSON kept is not written after a change"
        );
        let again = UserData::from(user.clone().into_fields());
        assert_eq!(changed, crate::codec::encode(&again));
        let decoded: UserData = serde_json::from_slice(&changed).unwrap();
        assert_eq!(decoded, user);
    }

    #[test]
    fn an_external_mark_in_any_case_makes_a_guest() {
        assert!(with_upn("kim_outlook.com#EXT#@fabrikam.com").is_guest());
        assert!(with_upn("kim_outlook.com#ext#@fabrikam.com").is_guest());
        assert!(!with_upn("kim.ext@fabrikam.com").is_guest());
        assert!(!with_upn("#EX").is_guest());
        assert!(!with_upn("kim#1@fabrikam.com").is_guest());
        assert!(with_upn("kim#1_outlook.com#EXT#@fabrikam.com").is_guest());
    }

    #[test]
    fn the_domain_is_lower_cased_and_borrowed_when_it_already_is() {
        assert_eq!(with_upn("Kim@Contoso.COM").domain(), "contoso.com");
        let upn = with_upn("kim@contoso.com");
        assert!(matches!(upn.domain(), Cow::Borrowed("contoso.com")));
        assert_eq!(with_upn("a@b@sub.contoso.com").domain(), "sub.contoso.com");
        assert_eq!(with_upn("no-at-sign").domain(), "");
    }
}
