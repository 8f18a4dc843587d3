//! The token endpoint (client-credentials grant) and the access tokens it
//! issues. Tokens are self-validating (signed, with their expiry inside),
//! so a stateless instance (a Spin component) accepts what another issued.

use http::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::ids::{fnv1a, hex, unhex};
use crate::sim::{State, json_response};
use crate::tenant::Credentials;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub(crate) fn handle(
    state: &mut State,
    tenant: &str,
    req: &Request<Vec<u8>>,
    now: u64,
) -> Response<Vec<u8>> {
    let response = answer(state, tenant, req, now);
    if state.faults.echo_token_request && !response.status().is_success() {
        return with_request_quoted(response, req.body());
    }
    response
}

/// The `echo_token_request` knob: the error description quotes the
/// refused request's body.
fn with_request_quoted(response: Response<Vec<u8>>, request: &[u8]) -> Response<Vec<u8>> {
    let (parts, body) = response.into_parts();
    let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let quoted = format!(
        "{} Request: {}",
        json["error_description"].as_str().unwrap_or_default(),
        String::from_utf8_lossy(request)
    );
    json["error_description"] = json!(quoted);
    json_response(parts.status, &json)
}

fn answer(state: &mut State, tenant: &str, req: &Request<Vec<u8>>, now: u64) -> Response<Vec<u8>> {
    state.stats.count("token");
    state.stats.token_requests += 1;
    let creds = &state.tenant.credentials;
    let known_tenant = tenant.eq_ignore_ascii_case(&creds.tenant_id)
        || state
            .tenant
            .domains
            .iter()
            .any(|d| d.is_verified && d.id.eq_ignore_ascii_case(tenant));
    if !known_tenant {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        );
    }
    if req.method() != Method::POST {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body())
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if field("grant_type") != "client_credentials" {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                field("grant_type")
            ),
        );
    }
    if field("client_id") != creds.client_id {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{}'.",
                field("client_id"),
                creds.tenant_id
            ),
        );
    }
    if field("client_secret") != creds.client_secret {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the \
             client secret value, not the client secret ID, for a secret added to app.",
        );
    }
    if field("scope") != GRAPH_SCOPE {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {} is not valid. Client credential flows must have \
                 a scope value with /.default suffixed to the resource identifier.",
                field("scope")
            ),
        );
    }
    let lifetime = state.faults.token_lifetime_secs;
    let expires_at = now.saturating_add(lifetime.saturating_mul(1000));
    json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": issue(creds, expires_at, state.token_epoch),
        }),
    )
}

/// Why a bearer token was refused (Graph's messages).
pub(crate) enum Invalid {
    Missing,
    Malformed,
    Expired,
    Revoked,
}

impl Invalid {
    pub(crate) fn message(&self) -> &'static str {
        match self {
            Invalid::Missing => "Access token is empty.",
            Invalid::Malformed => "Access token validation failure. Invalid audience.",
            Invalid::Expired => "Lifetime validation failed, the token is expired.",
            Invalid::Revoked => "Access token has been revoked or is no longer valid.",
        }
    }
}

/// `sim.{hex(expiry ms, epoch)}.{signature}`, signed with the tenant's
/// credentials.
fn issue(creds: &Credentials, expires_at: u64, epoch: u64) -> String {
    let mut bytes = expires_at.to_be_bytes().to_vec();
    bytes.extend(epoch.to_be_bytes());
    let payload = hex(&bytes);
    format!("sim.{payload}.{:016x}", sign(creds, &payload))
}

fn sign(creds: &Credentials, payload: &str) -> u64 {
    fnv1a(&[
        creds.tenant_id.as_bytes(),
        creds.client_id.as_bytes(),
        creds.client_secret.as_bytes(),
        payload.as_bytes(),
    ])
}

/// Checks an `Authorization` header value: signed with these credentials,
/// issued in the current `epoch`, not expired.
pub(crate) fn validate(
    creds: &Credentials,
    epoch: u64,
    authorization: Option<&str>,
    now: u64,
) -> Result<(), Invalid> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Invalid::Missing)?;
    let mut parts = token.split('.');
    let (Some("sim"), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed);
    };
    if format!("{:016x}", sign(creds, payload)) != signature {
        return Err(Invalid::Malformed);
    }
    let bytes = unhex(payload).ok_or(Invalid::Malformed)?;
    let number = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .ok_or(Invalid::Malformed)
    };
    let (expires_at, issued_epoch) = (number(0..8)?, number(8..16)?);
    if issued_epoch != epoch {
        return Err(Invalid::Revoked);
    }
    if now >= expires_at {
        return Err(Invalid::Expired);
    }
    Ok(())
}

/// Entra's OAuth error body.
fn entra_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response<Vec<u8>> {
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "error_uri": "https://login.microsoftonline.com/error",
        }),
    )
}
