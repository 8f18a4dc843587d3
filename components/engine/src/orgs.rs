//! Organizations, their directories (connected Entra tenants) and the global
//! directory index the scheduler iterates.

use crate::codec::{load, update as update_doc};
use crate::error::{ConflictReason, EngineError, Field, FieldError};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::{Store, Timestamp};
use crate::settings::{Settings, VersionedSettings};
use serde::{Deserialize, Serialize};

/// Largest number of directories the index holds (one key, well under 1 MiB).
pub const MAX_DIRECTORIES: usize = 5_000;
/// Largest number of directories in one organization.
pub const MAX_DIRECTORIES_PER_ORG: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    /// Hashes of the org admin tokens (the API hashes and compares them).
    pub admin_token_hashes: Vec<Vec<u8>>,
    pub created_at: Timestamp,
    /// Directory ids in connection order.
    pub directories: Vec<DirId>,
    /// Counter behind the next directory id (`d{n}`).
    pub next_directory: u32,
}

/// What the API hands over to connect a tenant. The client secret arrives
/// already sealed (encrypted) by the API; the engine stores opaque bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDirectory {
    pub name: String,
    pub tenant_id: String,
    pub client_id: String,
    pub sealed_secret: Vec<u8>,
}

/// What an admin may change on a connected directory (the tenant stays:
/// another tenant is another directory). `None` leaves a field as it is.
/// The sealed secret arrives sealed by the API, bound to the client id it
/// was sealed for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryUpdate {
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub sealed_secret: Option<Vec<u8>>,
}

/// A connected directory as stored. Contains the sealed secret: answer
/// clients with [`Directory::view`], never with this struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub id: DirId,
    pub org: OrgId,
    pub name: String,
    pub tenant_id: String,
    pub client_id: String,
    pub sealed_secret: Vec<u8>,
    pub created_at: Timestamp,
}

/// A directory without its secret, for responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryView {
    pub id: DirId,
    pub name: String,
    pub tenant_id: String,
    pub client_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub created_at: Timestamp,
}

impl Directory {
    pub fn view(&self) -> DirectoryView {
        DirectoryView {
            id: self.id.clone(),
            name: self.name.clone(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            created_at: self.created_at,
        }
    }
}

/// One entry of the global directory index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirRef {
    pub org: OrgId,
    pub dir: DirId,
}

/// An organization's or a directory's name as validation accepts it (1-100
/// characters, no control characters, not blank), for the OpenAPI document.
pub const NAME_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$";

fn text_field(
    errors: &mut Vec<FieldError>,
    field: Field,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) {
    if value.trim().is_empty() || value.chars().count() > max || !value.chars().all(allowed) {
        errors.push(FieldError::new(
            field,
            format!(
                "must be 1-{max} characters{}",
                if field == Field::Name {
                    ""
                } else {
                    " of letters, digits, '.' and '-'"
                }
            ),
        ));
    }
}

fn validate_org_name(name: &str) -> Result<(), EngineError> {
    let mut errors = Vec::new();
    text_field(&mut errors, Field::Name, name, 100, |c| !c.is_control());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Validation(errors))
    }
}

impl NewDirectory {
    fn validate(&self) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        let id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        text_field(&mut errors, Field::Name, &self.name, 100, |c| {
            !c.is_control()
        });
        text_field(&mut errors, Field::TenantId, &self.tenant_id, 100, id_char);
        text_field(&mut errors, Field::ClientId, &self.client_id, 64, id_char);
        if self.sealed_secret.is_empty() || self.sealed_secret.len() > 4096 {
            errors.push(FieldError::new(Field::ClientSecret, "must be 1-4096 bytes"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Validation(errors))
        }
    }
}

pub(crate) async fn create_org<S: Store>(
    store: &S,
    now: Timestamp,
    org: &OrgId,
    name: &str,
    admin_token_hash: Vec<u8>,
) -> Result<Org, EngineError> {
    validate_org_name(name)?;
    let record = Org {
        id: org.clone(),
        name: name.trim().to_owned(),
        admin_token_hashes: vec![admin_token_hash],
        created_at: now,
        directories: Vec::new(),
        next_directory: 1,
    };
    let key = keys::org(org);
    let taken = || {
        EngineError::Conflict(ConflictReason::AlreadyExists {
            what: format!("organization {org}"),
        })
    };
    if store.get(&key).await?.is_some() {
        return Err(taken());
    }
    // No compare-and-swap: write, then read back. Of two requests creating
    // the same id at once, the one whose admin token the store holds wins
    // and the other gets 409. A read-back too stale to show the other's
    // write lets both answer 201; only the stored token then works (the
    // window is one request's read-to-write time; see the README's Limits).
    let bytes = crate::codec::encode(&record);
    store.set(&key, &bytes).await?;
    match load::<_, Org>(store, &key).await? {
        Some(stored) if stored.admin_token_hashes == record.admin_token_hashes => Ok(record),
        _ => Err(taken()),
    }
}

pub(crate) async fn get_org<S: Store>(store: &S, org: &OrgId) -> Result<Org, EngineError> {
    load(store, &keys::org(org))
        .await?
        .ok_or(EngineError::NotFound("organization"))
}

/// Connects a tenant to `org` as a new directory with default settings.
///
/// # Errors
/// `Validation` for bad fields; `Conflict` when the tenant is connected
/// already or the org or the deployment has its maximum of directories;
/// `NotFound` for an unknown org.
pub(crate) async fn connect<S: Store>(
    store: &S,
    now: Timestamp,
    org: &OrgId,
    new: NewDirectory,
) -> Result<Directory, EngineError> {
    new.validate()?;
    refuse_connected_tenant(store, org, &new.tenant_id).await?;
    let dir = allocate_directory_id(store, org).await?;
    let directory = Directory {
        id: dir.clone(),
        org: org.clone(),
        name: new.name.trim().to_owned(),
        tenant_id: new.tenant_id,
        client_id: new.client_id,
        sealed_secret: new.sealed_secret,
        created_at: now,
    };
    let settings = VersionedSettings {
        version: 1,
        settings: Settings::default(),
    };
    store
        .set(
            &keys::dir_doc(org, &dir, "settings"),
            &crate::codec::encode(&settings),
        )
        .await?;
    store
        .set(
            &keys::directory(org, &dir),
            &crate::codec::encode(&directory),
        )
        .await?;
    add_to_directory_index(store, org, &dir).await?;
    Ok(directory)
}

/// `Conflict` when one of `org`'s directories reads `tenant_id` already.
async fn refuse_connected_tenant<S: Store>(
    store: &S,
    org: &OrgId,
    tenant_id: &str,
) -> Result<(), EngineError> {
    let existing = list(store, org).await?;
    if existing
        .iter()
        .any(|d| d.tenant_id.eq_ignore_ascii_case(tenant_id))
    {
        return Err(EngineError::Conflict(ConflictReason::AlreadyExists {
            what: format!("a directory for tenant {tenant_id}"),
        }));
    }
    Ok(())
}

/// Takes the org's next directory id (`d{n}`) in the org record. It is
/// allocated before the directory is written: a crash afterwards leaves an
/// id without a document, which `list` skips.
async fn allocate_directory_id<S: Store>(store: &S, org: &OrgId) -> Result<DirId, EngineError> {
    update_doc(store, &keys::org(org), |o: Option<Org>| {
        let mut o = o.ok_or(EngineError::NotFound("organization"))?;
        if o.directories.len() >= MAX_DIRECTORIES_PER_ORG {
            return Err(EngineError::Conflict(ConflictReason::TooManyDirectories {
                max: MAX_DIRECTORIES_PER_ORG,
            }));
        }
        let id = DirId::parse(&format!("d{}", o.next_directory))?;
        o.next_directory += 1;
        o.directories.push(id.clone());
        Ok((Some(o), id))
    })
    .await
}

/// Adds the directory to the deployment's directory index (what the
/// scheduler ticks), at most [`MAX_DIRECTORIES`] entries.
async fn add_to_directory_index<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<(), EngineError> {
    update_doc(
        store,
        keys::DIRECTORY_INDEX,
        |index: Option<Vec<DirRef>>| {
            let mut index = index.unwrap_or_default();
            let entry = DirRef {
                org: org.clone(),
                dir: dir.clone(),
            };
            if index.contains(&entry) {
                return Ok((None, ()));
            }
            if index.len() >= MAX_DIRECTORIES {
                return Err(EngineError::Conflict(ConflictReason::TooManyDirectories {
                    max: MAX_DIRECTORIES,
                }));
            }
            index.push(entry);
            Ok((Some(index), ()))
        },
    )
    .await
}

/// Changes a directory's name, client id or (sealed) secret: e.g. a new
/// client secret after the old one expired.
///
/// # Errors
/// `NotFound` for an unknown directory; `Validation` with one entry per bad
/// field (the same rules as connecting).
pub(crate) async fn update_directory<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    change: DirectoryUpdate,
) -> Result<Directory, EngineError> {
    let current = get(store, org, dir).await?;
    let mut next = current.clone();
    if let Some(name) = change.name {
        next.name = name.trim().to_owned();
    }
    if let Some(client_id) = change.client_id {
        next.client_id = client_id;
    }
    if let Some(secret) = change.sealed_secret {
        next.sealed_secret = secret;
    }
    NewDirectory {
        name: next.name.clone(),
        tenant_id: next.tenant_id.clone(),
        client_id: next.client_id.clone(),
        sealed_secret: next.sealed_secret.clone(),
    }
    .validate()?;
    update_doc(
        store,
        &keys::directory(org, dir),
        |stored: Option<Directory>| {
            stored.ok_or(EngineError::NotFound("directory"))?;
            Ok((Some(next.clone()), next.clone()))
        },
    )
    .await
}

pub(crate) async fn get<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<Directory, EngineError> {
    load(store, &keys::directory(org, dir))
        .await?
        .ok_or(EngineError::NotFound("directory"))
}

pub(crate) async fn list<S: Store>(store: &S, org: &OrgId) -> Result<Vec<Directory>, EngineError> {
    let record = get_org(store, org).await?;
    let mut out = Vec::with_capacity(record.directories.len());
    for dir in &record.directories {
        if let Some(d) = load(store, &keys::directory(org, dir)).await? {
            out.push(d);
        }
    }
    Ok(out)
}

pub(crate) async fn index<S: Store>(store: &S) -> Result<Vec<DirRef>, EngineError> {
    Ok(load(store, keys::DIRECTORY_INDEX)
        .await?
        .unwrap_or_default())
}
