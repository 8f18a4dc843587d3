//! The simulator's own endpoints under `/_sim/`, so tests (native, e2e,
//! browser) can drive it over HTTP. Not part of Graph.

use http::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::changes::ChangeOp;
use crate::faults::{Faults, Stats};
use crate::presets::Preset;
use crate::sim::{Sim, json_response};

pub(crate) fn handle(sim: &Sim, path: &str, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let result = match (req.method().clone(), path.trim_end_matches('/')) {
        (Method::GET, "stats") => Ok(json!(sim.stats())),
        (Method::POST, "stats/reset") => {
            sim.reset_stats();
            Ok(json!(Stats::default()))
        }
        (Method::GET, "faults") => Ok(json!(sim.faults())),
        (Method::POST, "faults") => set_faults(sim, req.body()),
        (Method::POST, "changes") => apply_changes(sim, req.body()),
        (Method::GET, "requests") => Ok(json!(sim.lock().log)),
        (Method::GET, "tenant") => Ok(tenant_summary(sim)),
        (Method::POST, "reset") => reset(sim, req.body()),
        _ => Err((
            StatusCode::NOT_FOUND,
            "unknown admin endpoint; see the entra-sim README".to_owned(),
        )),
    };
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err((status, message)) => json_response(
            status,
            &json!({"error": {"code": "BadSimRequest", "message": message}}),
        ),
    }
}

type AdminResult = Result<Value, (StatusCode, String)>;

fn bad(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, e.to_string())
}

fn parse_json(body: &[u8]) -> Result<Value, (StatusCode, String)> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(bad)
}

/// Merges the given knobs into the current ones. Two one-shot actions ride
/// along: `"expire_delta_tokens": true` (every delta token issued so far
/// gets 410) and `"revoke_tokens": true` (every access token gets 401).
fn set_faults(sim: &Sim, body: &[u8]) -> AdminResult {
    let Value::Object(mut patch) = parse_json(body)? else {
        return Err(bad("expected a JSON object of knobs"));
    };
    type Action = fn(&Sim);
    let actions: [(&str, Action); 2] = [
        ("expire_delta_tokens", Sim::expire_delta_tokens),
        ("revoke_tokens", Sim::revoke_tokens),
    ];
    for (name, action) in actions {
        if let Some(value) = patch.remove(name) {
            if value.as_bool() != Some(true) {
                return Err(bad(format!("{name} takes true")));
            }
            action(sim);
        }
    }
    let mut merged = json!(sim.faults());
    if let Value::Object(current) = &mut merged {
        current.extend(patch);
    }
    let faults: Faults = serde_json::from_value(merged).map_err(bad)?;
    sim.set_faults(faults.clone());
    Ok(json!(faults))
}

/// Accepts one operation, an array, or `{"changes": [...]}`; all or nothing.
fn apply_changes(sim: &Sim, body: &[u8]) -> AdminResult {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        Wrapped { changes: Vec<ChangeOp> },
        Many(Vec<ChangeOp>),
        One(ChangeOp),
    }
    let ops = match serde_json::from_slice::<Body>(body).map_err(bad)? {
        Body::Wrapped { changes } | Body::Many(changes) => changes,
        Body::One(op) => vec![op],
    };
    sim.with_tenant(|tenant| {
        let mut changed = tenant.clone();
        let mut created = Vec::new();
        for op in &ops {
            created.extend(op.apply(&mut changed).map_err(bad)?);
        }
        *tenant = changed;
        Ok(json!({"applied": ops.len(), "created": created, "version": tenant.version()}))
    })
}

fn tenant_summary(sim: &Sim) -> Value {
    sim.with_tenant(|tenant| {
        json!({
            "tenant_id": tenant.credentials.tenant_id,
            "client_id": tenant.credentials.client_id,
            "users": tenant.users.len(),
            "version": tenant.version(),
            "domains": tenant.domains.iter()
                .map(|d| json!({"id": d.id, "isVerified": d.is_verified}))
                .collect::<Vec<_>>(),
            "groups": tenant.groups.values()
                .map(|g| json!({"id": g.id, "displayName": g.display_name, "members": g.members.len()}))
                .collect::<Vec<_>>(),
        })
    })
}

/// Back to a preset (`{"preset": "demo"}`, the default), with default knobs
/// and zeroed counters.
fn reset(sim: &Sim, body: &[u8]) -> AdminResult {
    let request = parse_json(body)?;
    let name = request
        .get("preset")
        .and_then(Value::as_str)
        .unwrap_or("demo");
    let preset = Preset::parse(name).ok_or_else(|| bad(format!("unknown preset {name:?}")))?;
    let tenant = preset.build();
    sim.with_tenant(|t| *t = tenant);
    sim.set_faults(Faults::default());
    sim.reset_stats();
    sim.lock().log.clear();
    Ok(json!({"preset": name}))
}
