//! `entra-sim`: serve a simulated Entra ID tenant on a local port.
//!
//! ```text
//! cargo run -p entra-sim -- --port 8080 [--preset demo|large|huge] [knobs...]
//! ```
//! See the README for every flag. Logs are JSON lines on stderr (the
//! `logging` crate); the `entra-sim listening on URL` line stays plain on
//! stdout.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native_server::keep_freed_memory();
    logging::init();
    match cli::run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "entra-sim stopped");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use anyhow::{Context, anyhow, bail};
    use entra_sim::server::SimServer;
    use entra_sim::{Credentials, Faults, Preset, Sim, TenantBuilder};

    const USAGE: &str = "usage: entra-sim [--host 127.0.0.1] [--port 8080] \
[--preset demo|large|huge] [--group-size N]... [--extra-users N]
  [--tenant-id ID] [--client-id ID] [--client-secret S]
  [--throttle-every N] [--retry-after SECS] [--server-error-every N] [--latency-ms MS]
  [--token-lifetime SECS] [--page-token-ttl SECS] [--delta-token-ttl SECS]
  [--next-link-base URL] [--drift-every SECS]";

    pub fn run(args: Vec<String>) -> anyhow::Result<()> {
        let mut host = "127.0.0.1".to_owned();
        let mut port = "8080".to_owned();
        let mut preset = Preset::Demo;
        let mut group_sizes = Vec::new();
        let mut extra_users = 0;
        let mut overrides: [Option<String>; 3] = [None, None, None];
        let mut faults = Faults::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                println!("{USAGE}");
                return Ok(());
            }
            let value = args
                .next()
                .ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .with_context(|| format!("{flag} takes a number, not {value:?}"))
            };
            match flag.as_str() {
                "--host" => host = value.clone(),
                "--port" => port = value.clone(),
                "--preset" => {
                    preset = Preset::parse(&value)
                        .with_context(|| format!("unknown preset {value:?}"))?
                }
                "--group-size" => group_sizes.push(number()?),
                "--extra-users" => extra_users = number()?,
                "--tenant-id" => overrides[0] = Some(value.clone()),
                "--client-id" => overrides[1] = Some(value.clone()),
                "--client-secret" => overrides[2] = Some(value.clone()),
                "--throttle-every" => faults.throttle_every = number()?,
                "--retry-after" => faults.retry_after_secs = number()?,
                "--server-error-every" => faults.server_error_every = number()?,
                "--latency-ms" => faults.latency_ms = number()?,
                "--token-lifetime" => faults.token_lifetime_secs = number()?,
                "--page-token-ttl" => faults.page_token_ttl_secs = Some(number()?),
                "--delta-token-ttl" => faults.delta_token_ttl_secs = Some(number()?),
                "--next-link-base" => faults.next_link_base = Some(value.clone()),
                "--drift-every" => faults.drift_every_secs = Some(number()?),
                _ => bail!("unknown flag {flag}\n{USAGE}"),
            }
        }
        let mut tenant = preset.build();
        if !group_sizes.is_empty() || extra_users > 0 {
            let mut builder = TenantBuilder::from_tenant(tenant);
            for size in group_sizes {
                builder = builder.sized_group(&format!("Sized Group ({size})"), size);
            }
            tenant = builder.extra_users(extra_users).build();
        }
        let [tenant_id, client_id, client_secret] = overrides;
        let creds: &mut Credentials = &mut tenant.credentials;
        for (field, value) in [
            (&mut creds.tenant_id, tenant_id),
            (&mut creds.client_id, client_id),
            (&mut creds.client_secret, client_secret),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        let addr = format!("{host}:{port}");
        let server = SimServer::start(Sim::new(tenant, faults), &addr)
            .with_context(|| format!("serving the simulated tenant on {addr}"))?;
        println!("entra-sim listening on {}", server.base_url());
        server.wait();
        Ok(())
    }
}
