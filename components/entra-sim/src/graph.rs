//! The Graph endpoints under `/v1.0/`: paging, `$select`, delta rounds.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::faults::Faults;
use crate::ids::{fnv1a, hex, unhex};
use crate::sim::{State, graph_error, json_response};
use crate::tenant::{Change, Credentials, Group, Object, Other, OtherKind, Tenant, User};
use crate::token;

/// Graph's default page size.
const DEFAULT_PAGE: usize = 100;
/// Graph's largest `$top` for directory objects.
const MAX_PAGE: usize = 999;

/// Properties Graph returns for a user without `$select`.
const USER_DEFAULT: [&str; 11] = [
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

pub(crate) fn handle(
    state: &mut State,
    path: &str,
    req: &Request<Vec<u8>>,
    now: u64,
    base: &str,
) -> Response<Vec<u8>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    state.stats.count(endpoint_label(&segments));
    state.stats.graph_requests += 1;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    if let Err(invalid) = token::validate(
        &state.tenant.credentials,
        state.token_epoch,
        authorization,
        now,
    ) {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            invalid.message(),
        );
    }
    if let Some(refused) = inject_faults(state, now) {
        return refused;
    }
    if req.method() != Method::GET {
        return graph_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "The simulator's Graph endpoints are read-only.",
        );
    }
    let query = match Query::parse(req) {
        Ok(query) => query,
        Err(refused) => return refused.into_response(),
    };
    let listing = Listing {
        state,
        query: &query,
        base,
        path,
        now,
    };
    let result = match segments.as_slice() {
        ["domains"] => Ok(listing.domains()),
        ["users"] => listing.users(),
        [
            "users" | "groups",
            "delta" | "delta()" | "microsoft.graph.delta()",
        ] if listing.state.faults.delta_unavailable => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{path}' does not exist or one of its queried reference-property objects are not present."
            ),
        )),
        ["users", "delta" | "delta()" | "microsoft.graph.delta()"] => listing.users_delta(),
        ["groups"] => listing.groups(),
        ["groups", "delta" | "delta()" | "microsoft.graph.delta()"] => listing.groups_delta(),
        ["groups", id] => listing.group(id),
        [
            "groups",
            id,
            relation @ ("members" | "transitiveMembers"),
            cast @ ..,
        ] if matches!(cast, [] | ["microsoft.graph.user"]) => {
            listing.members(id, *relation == "transitiveMembers", !cast.is_empty())
        }
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{path}'."),
        )),
    };
    result.unwrap_or_else(Refusal::into_response)
}

fn endpoint_label(segments: &[&str]) -> &'static str {
    match segments {
        ["domains"] => "domains",
        ["users"] => "users",
        ["users", _] => "users/delta",
        ["groups"] => "groups",
        ["groups", "delta" | "delta()" | "microsoft.graph.delta()"] => "groups/delta",
        ["groups", _] => "group",
        ["groups", _, "members", ..] => "members",
        ["groups", _, "transitiveMembers", ..] => "transitiveMembers",
        _ => "other",
    }
}

/// 429 while throttled or on every Nth request; 500 on every Nth request.
fn inject_faults(state: &mut State, now: u64) -> Option<Response<Vec<u8>>> {
    let n = state.stats.graph_requests;
    let faults = &state.faults;
    if now < state.throttled_until_ms {
        state.stats.early_requests += 1;
        state.stats.throttled += 1;
        return Some(throttled(retry_after(
            faults,
            state.throttled_until_ms,
            now,
        )));
    }
    if faults.throttle_every > 0 && n.is_multiple_of(faults.throttle_every) {
        let secs = faults.retry_after_secs;
        state.throttled_until_ms = now.saturating_add(secs.saturating_mul(1000));
        state.stats.throttled += 1;
        return Some(throttled(retry_after(
            faults,
            state.throttled_until_ms,
            now,
        )));
    }
    if faults.server_error_every > 0 && n.is_multiple_of(faults.server_error_every) {
        state.stats.server_errors += 1;
        return Some(graph_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An unexpected error occurred (injected by the simulator).",
        ));
    }
    None
}

/// The `Retry-After` of a throttle that ends at `until_ms` (epoch ms):
/// the seconds left from `now`, or that moment as an HTTP-date (IMF-fixdate,
/// rounded up to the second so no client comes back early).
fn retry_after(faults: &Faults, until_ms: u64, now: u64) -> HeaderValue {
    let secs_left = until_ms.saturating_sub(now).div_ceil(1000);
    if !faults.retry_after_as_date {
        return secs_left.into();
    }
    let until = UNIX_EPOCH + Duration::from_secs(until_ms.div_ceil(1000));
    HeaderValue::from_str(&httpdate::fmt_http_date(until)).unwrap_or_else(|_| secs_left.into())
}

fn throttled(retry_after: HeaderValue) -> Response<Vec<u8>> {
    let mut response = graph_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Too many requests. Please retry after the time given in the Retry-After header.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after);
    response
}

/// A request Graph refuses: becomes Graph's error body.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: &str) -> Self {
        Refusal {
            status,
            code,
            message: message.to_owned(),
        }
    }

    fn into_response(self) -> Response<Vec<u8>> {
        graph_error(self.status, self.code, &self.message)
    }
}

/// The OData query options the simulator understands.
struct Query {
    raw: String,
    select: Option<BTreeSet<String>>,
    top: Option<usize>,
    skip_token: Option<String>,
    delta_token: Option<String>,
    /// From `Prefer: odata.maxpagesize=N` (delta queries page by it).
    max_page_size: Option<usize>,
}

impl Query {
    fn parse(req: &Request<Vec<u8>>) -> Result<Query, Refusal> {
        let raw = req.uri().query().unwrap_or("").to_owned();
        let mut query = Query {
            raw: raw.clone(),
            select: None,
            top: None,
            skip_token: None,
            delta_token: None,
            max_page_size: req
                .headers()
                .get_all("prefer")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .find_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
                .and_then(|n| n.trim().parse().ok()),
        };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.trim_start_matches('$') {
                "select" => {
                    query.select = Some(value.split(',').map(|s| s.trim().to_owned()).collect())
                }
                "top" => query.top = Some(page_size(&value)?),
                "skiptoken" => query.skip_token = Some(value.into_owned()),
                "deltatoken" => query.delta_token = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(query)
    }

    /// The query without its skip token, to build the next link on.
    fn without_skip_token(&self) -> String {
        self.raw
            .split('&')
            .filter(|p| {
                let key = p.split('=').next().unwrap_or("");
                !matches!(key, "$skiptoken" | "%24skiptoken" | "skiptoken")
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn page_size(value: &str) -> Result<usize, Refusal> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            &format!(
                "Invalid page size specified: '{value}'. Must be between 1 and 999 inclusive."
            ),
        )),
    }
}

/// The state carried by a skip token or a delta token (signed, opaque).
#[derive(Serialize, Deserialize, Clone)]
struct Cursor {
    /// Which listing (`users`, `members:{id}`, `users/delta`, ...).
    l: String,
    /// Keyset position: the last id served.
    a: Option<String>,
    /// Offset position.
    o: usize,
    /// Issued at (Unix ms).
    t: u64,
    /// Page size.
    n: usize,
    /// Delta: `$select` of the round.
    s: Option<BTreeSet<String>>,
    /// Delta: the round reports changes after this version (none = a full
    /// enumeration).
    f: Option<u64>,
    /// Delta: ... up to and including this version.
    v: u64,
    /// Delta: the epoch the token was issued in.
    e: u64,
}

impl Cursor {
    fn encode(&self, creds: &Credentials) -> String {
        let payload = hex(&serde_json::to_vec(self).unwrap_or_default());
        format!("{payload}{:016x}", sign(creds, &payload))
    }

    fn decode(creds: &Credentials, token: &str) -> Option<Cursor> {
        let split = token.len().checked_sub(16)?;
        let (payload, signature) = (token.get(..split)?, token.get(split..)?);
        if format!("{:016x}", sign(creds, payload)) != signature {
            return None;
        }
        serde_json::from_slice(&unhex(payload)?).ok()
    }
}

fn sign(creds: &Credentials, payload: &str) -> u64 {
    fnv1a(&[b"cursor", creds.tenant_id.as_bytes(), payload.as_bytes()])
}

fn bad_token() -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "The specified page token is not valid for this request.",
    )
}

/// One request's view of the tenant, with what links need.
struct Listing<'a> {
    state: &'a State,
    query: &'a Query,
    base: &'a str,
    path: &'a str,
    now: u64,
}

type Served = Result<Response<Vec<u8>>, Refusal>;

impl Listing<'_> {
    fn tenant(&self) -> &Tenant {
        &self.state.tenant
    }

    fn context(&self, what: &str) -> String {
        format!("{}/v1.0/$metadata#{what}", self.base)
    }

    /// The cursor of a skip token for `listing`, or a fresh one (its page
    /// size capped by the `max_page_size` knob).
    fn cursor(&self, listing: &str, default_size: usize) -> Result<Cursor, Refusal> {
        let size = match self.state.faults.max_page_size {
            Some(cap) => default_size.min(cap.max(1)),
            None => default_size,
        };
        let Some(token) = &self.query.skip_token else {
            return Ok(Cursor {
                l: listing.to_owned(),
                a: None,
                o: 0,
                t: self.now,
                n: size,
                s: self.query.select.clone(),
                f: None,
                v: self.tenant().version(),
                e: self.state.delta_epoch,
            });
        };
        let cursor = Cursor::decode(&self.tenant().credentials, token)
            .filter(|c| c.l == listing)
            .ok_or_else(bad_token)?;
        if let Some(ttl) = self.state.faults.page_token_ttl_secs
            && self.now.saturating_sub(cursor.t) > ttl.saturating_mul(1000)
        {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in \
                 your request.",
            ));
        }
        Ok(cursor)
    }

    fn next_link(&self, cursor: &Cursor) -> String {
        let query = self.query.without_skip_token();
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "{}/v1.0/{}?{query}{sep}$skiptoken={}",
            self.base,
            self.path,
            cursor.encode(&self.tenant().credentials)
        )
    }

    fn page(&self, context: &str, items: Vec<Value>, next: Option<&Cursor>) -> Response<Vec<u8>> {
        let mut body = json!({"@odata.context": self.context(context), "value": items});
        if let Some(cursor) = next {
            body["@odata.nextLink"] = json!(self.next_link(cursor));
        }
        json_response(StatusCode::OK, &body)
    }

    fn domains(&self) -> Response<Vec<u8>> {
        let items = self
            .tenant()
            .domains
            .iter()
            .map(|d| {
                let full = json!({
                    "id": d.id, "isVerified": d.is_verified, "isDefault": d.is_default,
                    "isInitial": d.is_initial, "authenticationType": "Managed",
                    "supportedServices": ["Email", "OfficeCommunicationsOnline"],
                });
                project(full, self.query.select.as_ref(), None)
            })
            .collect();
        self.page("domains", items, None)
    }

    fn users(&self) -> Served {
        let size = self.query.top.unwrap_or(DEFAULT_PAGE);
        let mut cursor = self.cursor("users", size)?;
        let (users, more) = keyset(&self.tenant().users, cursor.a.as_deref(), cursor.n);
        let items = users
            .iter()
            .map(|u| user_json(u, self.query.select.as_ref()))
            .collect();
        cursor.a = users.last().map(|u| u.id.clone());
        Ok(self.page("users", items, more.then_some(&cursor)))
    }

    fn groups(&self) -> Served {
        let size = self.query.top.unwrap_or(DEFAULT_PAGE);
        let mut cursor = self.cursor("groups", size)?;
        let (groups, more) = keyset(&self.tenant().groups, cursor.a.as_deref(), cursor.n);
        let items = groups
            .iter()
            .map(|g| group_json(g, self.query.select.as_ref()))
            .collect();
        cursor.a = groups.last().map(|g| g.id.clone());
        Ok(self.page("groups", items, more.then_some(&cursor)))
    }

    fn group(&self, id: &str) -> Served {
        let group = self.tenant().groups.get(id).ok_or_else(|| not_found(id))?;
        let mut body = group_json(group, self.query.select.as_ref());
        body["@odata.context"] = json!(self.context("groups/$entity"));
        Ok(json_response(StatusCode::OK, &body))
    }

    fn members(&self, id: &str, transitive: bool, users_only: bool) -> Served {
        let tenant = self.tenant();
        let group = tenant.groups.get(id).ok_or_else(|| not_found(id))?;
        let relation = if transitive {
            "transitiveMembers"
        } else {
            "members"
        };
        let size = self.query.top.unwrap_or(DEFAULT_PAGE);
        let mut cursor = self.cursor(&format!("{relation}:{id}:{users_only}"), size)?;
        let ids: Vec<&str> = if transitive {
            tenant.transitive_members(id)
        } else {
            group.members.iter().map(String::as_str).collect()
        };
        let objects: Vec<Object<'_>> = ids
            .into_iter()
            .filter_map(|m| tenant.object(m))
            .filter(|o| !users_only || matches!(o, Object::User(_)))
            .collect();
        let end = (cursor.o + cursor.n).min(objects.len());
        let items = objects
            .get(cursor.o..end)
            .unwrap_or_default()
            .iter()
            .map(|o| object_json(*o, self.query.select.as_ref()))
            .collect();
        // The loop knob: page `k`'s next link goes back to page `k - 1`.
        let page = cursor.o / cursor.n.max(1) + 1;
        let loops = self
            .state
            .faults
            .loop_back_at_page
            .is_some_and(|k| k >= 2 && page == k);
        cursor.o = if loops { (page - 2) * cursor.n } else { end };
        let more = loops || end < objects.len();
        Ok(self.page("directoryObjects", items, more.then_some(&cursor)))
    }

    /// Starts, continues or resumes a delta round.
    fn delta_cursor(&self, listing: &str) -> Result<Cursor, Refusal> {
        let size = self
            .query
            .max_page_size
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, MAX_PAGE);
        let Some(token) = &self.query.delta_token else {
            return self.cursor(listing, size);
        };
        let previous = Cursor::decode(&self.tenant().credentials, token)
            .filter(|c| c.l == listing)
            .ok_or_else(bad_token)?;
        let too_old = self
            .state
            .faults
            .delta_token_ttl_secs
            .is_some_and(|ttl| self.now.saturating_sub(previous.t) > ttl.saturating_mul(1000));
        if previous.e != self.state.delta_epoch || too_old {
            return Err(if self.state.faults.expired_delta_as_400 {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "syncStateNotFound",
                    "The delta token has expired or is no longer valid; start a new round without it.",
                )
            } else {
                Refusal::new(
                    StatusCode::GONE,
                    "SyncStateNotFound",
                    "The delta token has expired or is no longer valid; start a new round without it.",
                )
            });
        }
        Ok(Cursor {
            a: None,
            o: 0,
            t: self.now,
            n: size,
            f: Some(previous.v),
            v: self.tenant().version(),
            ..previous
        })
    }

    /// The last page of a round carries the delta link for the next round.
    fn delta_page(
        &self,
        listing: &str,
        items: Vec<Value>,
        cursor: &Cursor,
        more: bool,
    ) -> Response<Vec<u8>> {
        let mut body = json!({"@odata.context": self.context(listing), "value": items});
        let creds = &self.tenant().credentials;
        if more {
            body["@odata.nextLink"] = json!(format!(
                "{}/v1.0/{listing}?$skiptoken={}",
                self.base,
                cursor.encode(creds)
            ));
        } else {
            let next_round = Cursor {
                a: None,
                o: 0,
                t: self.now,
                f: None,
                ..cursor.clone()
            };
            body["@odata.deltaLink"] = json!(format!(
                "{}/v1.0/{listing}?$deltatoken={}",
                self.base,
                next_round.encode(creds)
            ));
        }
        let mut response = json_response(StatusCode::OK, &body);
        if let Ok(value) = format!("odata.maxpagesize={}", cursor.n).parse() {
            response.headers_mut().insert("preference-applied", value);
        }
        response
    }

    fn users_delta(&self) -> Served {
        let mut cursor = self.delta_cursor("users/delta")?;
        let tenant = self.tenant();
        let select = cursor.s.clone();
        let (items, more) = match cursor.f {
            None => {
                let (users, more) = keyset(&tenant.users, cursor.a.as_deref(), cursor.n);
                cursor.a = users.last().map(|u| u.id.clone());
                let items = users
                    .iter()
                    .map(|u| user_json(u, select.as_ref()))
                    .collect();
                (items, more)
            }
            Some(from) => {
                let changed: Vec<String> =
                    tenant.users_changed(from, cursor.v).into_iter().collect();
                let (ids, more) = offset_page(&changed, &mut cursor);
                let items = ids
                    .iter()
                    .map(|id| match tenant.users.get(id.as_str()) {
                        Some(user) => user_json(user, select.as_ref()),
                        None => removed(id),
                    })
                    .collect();
                (items, more)
            }
        };
        Ok(self.delta_page("users/delta", items, &cursor, more))
    }

    fn groups_delta(&self) -> Served {
        let mut cursor = self.delta_cursor("groups/delta")?;
        let tenant = self.tenant();
        let select = cursor.s.clone();
        let with_members = select.as_ref().is_none_or(|s| s.contains("members"));
        let (items, more) = match cursor.f {
            None => {
                let (groups, more) = keyset(&tenant.groups, cursor.a.as_deref(), cursor.n);
                cursor.a = groups.last().map(|g| g.id.clone());
                let items = groups
                    .iter()
                    .map(|g| {
                        let mut item = group_json(g, select.as_ref());
                        if with_members {
                            let refs = g
                                .members
                                .iter()
                                .map(|m| json!({"@odata.type": tenant.odata_type(m), "id": m}))
                                .collect();
                            item["members@delta"] = Value::Array(refs);
                        }
                        item
                    })
                    .collect();
                (items, more)
            }
            Some(from) => {
                let changes = group_changes(tenant, from, cursor.v);
                let ids: Vec<String> = changes.keys().cloned().collect();
                let (ids, more) = offset_page(&ids, &mut cursor);
                let items = ids
                    .iter()
                    .map(|id| match tenant.groups.get(id.as_str()) {
                        None => removed(id),
                        Some(group) => {
                            let mut item = group_json(group, select.as_ref());
                            let members = changes.get(id.as_str()).cloned().unwrap_or_default();
                            if with_members && !members.is_empty() {
                                item["members@delta"] = Value::Array(members);
                            }
                            item
                        }
                    })
                    .collect();
                (items, more)
            }
        };
        Ok(self.delta_page("groups/delta", items, &cursor, more))
    }
}

/// Up to `size` values after `after`, and whether more follow.
fn keyset<'a, V>(
    map: &'a BTreeMap<String, V>,
    after: Option<&str>,
    size: usize,
) -> (Vec<&'a V>, bool) {
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut values: Vec<&V> = map
        .range::<str, _>((lower, Bound::Unbounded))
        .map(|(_, v)| v)
        .take(size + 1)
        .collect();
    let more = values.len() > size;
    values.truncate(size);
    (values, more)
}

/// The cursor's slice of `all`, advancing the cursor; and whether more follow.
fn offset_page<'a>(all: &'a [String], cursor: &mut Cursor) -> (&'a [String], bool) {
    let end = (cursor.o + cursor.n).min(all.len());
    let page = all.get(cursor.o..end).unwrap_or_default();
    cursor.o = end;
    (page, end < all.len())
}

/// Groups changed in `(from, to]`, with their net member changes as
/// `members@delta` entries.
fn group_changes(tenant: &Tenant, from: u64, to: u64) -> BTreeMap<String, Vec<Value>> {
    let mut net: BTreeMap<String, BTreeMap<String, (&'static str, bool)>> = BTreeMap::new();
    for change in tenant.changes_between(from, to) {
        match change {
            Change::Group(id) => {
                net.entry(id.clone()).or_default();
            }
            Change::Member {
                group,
                member,
                odata_type,
                added,
            } => {
                net.entry(group.clone())
                    .or_default()
                    .insert(member.clone(), (odata_type, *added));
            }
            Change::User(_) => {}
        }
    }
    net.into_iter()
        .map(|(group, members)| {
            let refs = members
                .into_iter()
                .map(|(id, (odata_type, added))| {
                    let mut entry = json!({"@odata.type": odata_type, "id": id});
                    if !added {
                        entry["@removed"] = json!({"reason": "deleted"});
                    }
                    entry
                })
                .collect();
            (group, refs)
        })
        .collect()
}

fn is_guid(id: &str) -> bool {
    let lengths: Vec<usize> = id.split('-').map(str::len).collect();
    lengths == [8, 4, 4, 4, 12] && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn removed(id: &str) -> Value {
    json!({"id": id, "@removed": {"reason": "deleted"}})
}

/// Graph's answer for an unknown object: 400 for an id that cannot be an
/// object id at all, 404 otherwise.
fn not_found(id: &str) -> Refusal {
    if !is_guid(id) {
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!("Invalid object identifier '{id}'."),
        );
    }
    Refusal::new(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are \
             not present."
        ),
    )
}

/// Keeps the selected properties (and always `id` and `@odata.type`), or
/// the defaults when nothing was selected.
fn project(full: Value, select: Option<&BTreeSet<String>>, defaults: Option<&[&str]>) -> Value {
    let Value::Object(map) = full else {
        return full;
    };
    let keep = |key: &str| {
        key == "id"
            || key.starts_with('@')
            || match (select, defaults) {
                (Some(select), _) => select.contains(key),
                (None, Some(defaults)) => defaults.contains(&key),
                (None, None) => true,
            }
    };
    Value::Object(
        map.into_iter()
            .filter(|(k, _)| keep(k))
            .collect::<Map<_, _>>(),
    )
}

fn user_json(user: &User, select: Option<&BTreeSet<String>>) -> Value {
    let full = json!({
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "mail": user.mail,
        "otherMails": user.other_mails,
        "displayName": user.display_name,
        "givenName": user.given_name,
        "surname": user.surname,
        "jobTitle": user.job_title,
        "department": user.department,
        "accountEnabled": user.account_enabled,
        "userType": user.user_type,
        "creationType": user.creation_type,
        "businessPhones": [],
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
    });
    project(full, select, Some(&USER_DEFAULT))
}

fn group_json(group: &Group, select: Option<&BTreeSet<String>>) -> Value {
    let full = json!({
        "id": group.id,
        "displayName": group.display_name,
        "description": group.description,
        "mail": null,
        "mailEnabled": false,
        "securityEnabled": true,
        "groupTypes": [],
    });
    project(full, select, None)
}

fn other_json(other: &Other, select: Option<&BTreeSet<String>>) -> Value {
    let mut full = json!({"id": other.id, "displayName": other.display_name});
    match other.kind {
        OtherKind::Device => full["operatingSystem"] = json!("Windows"),
        OtherKind::OrgContact => full["mail"] = json!("auditor@external.example"),
        OtherKind::ServicePrincipal => full["appId"] = json!(other.id),
    }
    project(full, select, None)
}

/// A member object with its `@odata.type`.
fn object_json(object: Object<'_>, select: Option<&BTreeSet<String>>) -> Value {
    let (odata_type, mut value) = match object {
        Object::User(u) => ("#microsoft.graph.user", user_json(u, select)),
        Object::Group(g) => ("#microsoft.graph.group", group_json(g, select)),
        Object::Other(o) => (o.kind.odata_type(), other_json(o, select)),
    };
    value["@odata.type"] = json!(odata_type);
    value
}
