//! Wall-clock time, injected so tests and the scheduler rule are deterministic.

/// A moment in UTC. Serialized as an RFC 3339 string with a `Z` suffix
/// (`"2026-11-29T23:41:57Z"`, fractional seconds only when there are any),
/// as Microsoft Graph writes its times.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A span between two [`Timestamp`]s (`TimeDelta::hours(4)`, ...).
pub use chrono::TimeDelta;

/// The OpenAPI schema of [`Timestamp`], one component every time field
/// names (`#[schema(value_type = crate::ports::TimestampSchema)]`): utoipa
/// cannot see through the alias.
#[cfg(feature = "openapi")]
pub struct TimestampSchema;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TimestampSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("A moment in UTC, RFC 3339 (`2026-11-29T23:41:57Z`)."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TimestampSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
}

/// Where the engine reads the time.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The moment `ms` milliseconds after the Unix epoch (the epoch itself if
/// `ms` is out of chrono's range).
pub fn from_epoch_millis(ms: i64) -> Timestamp {
    Timestamp::from_timestamp_millis(ms).unwrap_or_default()
}
