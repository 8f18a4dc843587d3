//! Sync settings with optimistic concurrency (`ETag` / `If-Match`), and the
//! automatic-syncing switch.

use engine::VersionedSettings;
use http::{HeaderValue, header};
use platform::Platform;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::error::ApiError;
use crate::request::{Request, if_match, json_body};
use crate::respond::{Response, ok};
use crate::wire::Object;
use crate::wire::settings::settings_input;
use crate::wire::switch;

/// The body of `PUT …/auto-sync`, for the OpenAPI document (read by
/// `wire::switch`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoSync {
    pub enabled: bool,
}

impl<P: Platform> App<P> {
    pub(crate) async fn get_settings(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let settings = self.engine().get_settings(org, dir).await?;
        Ok(with_etag(&settings))
    }

    /// "Save and sync later".
    pub(crate) async fn put_settings(
        &self,
        org: &str,
        dir: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let body: Object = json_body(req)?;
        let input = settings_input(&body).map_err(ApiError::invalid_fields)?;
        let expected = match if_match(req)? {
            None => None,
            Some(tags) => Some(self.expected_version(org, dir, &tags).await?),
        };
        let settings = self
            .engine()
            .save_settings(org, dir, input, expected)
            .await?;
        Ok(with_etag(&settings))
    }

    pub(crate) async fn put_auto_sync(
        &self,
        org: &str,
        dir: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let enabled = switch::enabled(&json_body(req)?).map_err(ApiError::invalid_fields)?;
        let settings = self.engine().set_auto_sync(org, dir, enabled).await?;
        Ok(with_etag(&settings))
    }

    /// The version the `If-Match` tags name: a lone version is handed to
    /// the engine, which refuses it when stale; of several, the one that is
    /// current (RFC 9110 §13.1.1: any tag may match). A tag that is not a
    /// version this API handed out can never be current: 412 with the
    /// current version.
    async fn expected_version(
        &self,
        org: &str,
        dir: &str,
        tags: &[String],
    ) -> Result<u64, ApiError> {
        if let [tag] = tags
            && let Ok(version) = tag.parse()
        {
            return Ok(version);
        }
        let current = self.engine().get_settings(org, dir).await?.version;
        if tags.iter().any(|tag| tag.parse() == Ok(current)) {
            return Ok(current);
        }
        Err(ApiError::PreconditionFailed {
            sent: tags.join(" or "),
            current: current.to_string(),
        })
    }
}

fn with_etag(settings: &VersionedSettings) -> Response {
    let mut response = ok(settings);
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", settings.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
