//! SAML single sign-on configuration, refused until a sync has completed.

use engine::SamlConfig;
use engine::error::EngineError;
use platform::Platform;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::error::ApiError;
use crate::request::{Request, json_body};
use crate::respond::{Response, ok};
use crate::wire::Object;
use crate::wire::saml::saml_config;

/// The saved SAML configuration.
#[derive(Serialize, ToSchema)]
pub struct SamlBody {
    saml: Option<SamlConfig>,
}

/// `GET`: the configuration, and whether it may be configured yet (with the
/// reason when not), so a client can disable the form up front.
#[derive(Serialize, ToSchema)]
pub struct SamlPage {
    saml: Option<SamlConfig>,
    configurable: bool,
    reason: Option<String>,
}

impl<P: Platform> App<P> {
    pub(crate) async fn get_saml(&self, org: &str) -> Result<Response, ApiError> {
        let engine = self.engine();
        let saml = engine.get_saml(org).await?;
        let reason = match engine.saml_configurable(org).await {
            Ok(()) => None,
            Err(EngineError::Conflict(reason)) => Some(reason.to_string()),
            Err(other) => return Err(other.into()),
        };
        Ok(ok(&SamlPage {
            saml,
            configurable: reason.is_none(),
            reason,
        }))
    }

    pub(crate) async fn put_saml(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let body: Object = json_body(req)?;
        let config = saml_config(&body).map_err(ApiError::invalid_fields)?;
        let saml = self.engine().put_saml(org, config).await?;
        Ok(ok(&SamlBody { saml: Some(saml) }))
    }
}
