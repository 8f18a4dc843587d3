//! SAML single sign-on configuration, refused until a sync has completed.

use engine::SamlConfig;
use engine::error::EngineError;
use engine::ports::{Clock, Mailer, Store};
use graph::{HttpClient, Pause};
use serde::Serialize;

use crate::app::App;
use crate::error::ApiError;
use crate::request::{Request, json_body};
use crate::respond::{Response, ok};

#[derive(Serialize)]
struct Saml {
    saml: Option<SamlConfig>,
}

impl<S, H, C, M, P> App<S, H, C, M, P>
where
    S: Store,
    H: HttpClient + Clone,
    C: Clock,
    M: Mailer,
    P: Pause + Clone,
{
    pub(crate) async fn get_saml(&self, org: &str) -> Result<Response, ApiError> {
        let saml = self.engine().get_saml(org).await?;
        Ok(ok(&Saml { saml }))
    }

    pub(crate) async fn put_saml(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let body: serde_json::Value = json_body(req)?;
        let config = SamlConfig::from_json(&body).map_err(EngineError::Validation)?;
        let saml = self.engine().put_saml(org, config).await?;
        Ok(ok(&Saml { saml: Some(saml) }))
    }
}
