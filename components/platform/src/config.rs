//! The application's configuration, read from variables and validated once.
//!
//! Spin exposes configuration as (async) variables; natively they come from a
//! map or the environment. [`Variables`] is the small getter both implement,
//! so loading and validation are tested without Spin.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::secrets::{SecretError, SecretKey};

/// Variable names, as declared in `spin.toml`.
pub mod names {
    pub const OPERATOR_TOKEN: &str = "operator_token";
    pub const ENCRYPTION_KEY: &str = "encryption_key";
    pub const AUTHORITY_URL: &str = "authority_url";
    pub const GRAPH_URL: &str = "graph_url";
    pub const INVOCATION_BUDGET_MS: &str = "invocation_budget_ms";
    pub const PAGE_BUDGET: &str = "page_budget";
    pub const MAIL_WEBHOOK_URL: &str = "mail_webhook_url";
    pub const RETRY_WINDOW_MINUTES: &str = "retry_window_minutes";
}

/// Default time one invocation may spend on sync work: well under the 30 s
/// request limit of the hosted Spin platforms.
pub const DEFAULT_INVOCATION_BUDGET_MS: u64 = 20_000;
/// Shortest operator token accepted, so a guessable one is refused at start.
pub const MIN_OPERATOR_TOKEN_CHARS: usize = 16;
const BUDGET_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=900_000;
const PAGE_BUDGET_RANGE: std::ops::RangeInclusive<u32> = 1..=100_000;
/// How long a run keeps trying through transient failures by default.
pub const DEFAULT_RETRY_WINDOW_MINUTES: u64 = 10;
const RETRY_WINDOW_RANGE: std::ops::RangeInclusive<u64> = 1..=1440;

/// The host could not answer a variable lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading variable {name}: {message}")]
pub struct VariableError {
    pub name: String,
    pub message: String,
}

/// Reads one configuration variable. `Ok(None)`: not set.
pub trait Variables {
    async fn get(&self, name: &str) -> Result<Option<String>, VariableError>;
}

/// Variables held in memory: tests, and native servers that read their
/// configuration from the environment.
#[derive(Debug, Clone, Default)]
pub struct MapVariables(BTreeMap<String, String>);

impl MapVariables {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        MapVariables(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Every known variable found in the environment as `{prefix}{NAME}`
    /// (upper case), e.g. `IDP_SYNC_OPERATOR_TOKEN` for `operator_token`.
    pub fn from_env(prefix: &str) -> Self {
        let all = [
            names::OPERATOR_TOKEN,
            names::ENCRYPTION_KEY,
            names::AUTHORITY_URL,
            names::GRAPH_URL,
            names::INVOCATION_BUDGET_MS,
            names::PAGE_BUDGET,
            names::MAIL_WEBHOOK_URL,
            names::RETRY_WINDOW_MINUTES,
        ];
        MapVariables::new(all.into_iter().filter_map(|name| {
            let value = std::env::var(format!("{prefix}{}", name.to_uppercase())).ok()?;
            Some((name, value))
        }))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }
}

impl Variables for MapVariables {
    async fn get(&self, name: &str) -> Result<Option<String>, VariableError> {
        Ok(self.0.get(name).cloned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("variable {0} is required but not set")]
    Missing(&'static str),
    #[error("variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("variable encryption_key is invalid: {0}")]
    EncryptionKey(#[source] SecretError),
    #[error(transparent)]
    Host(#[from] VariableError),
}

/// Everything the components need from their configuration.
#[derive(Clone)]
pub struct AppConfig {
    /// Bearer token of the operator (creates organizations, calls the tick).
    pub operator_token: String,
    /// Seals tenant client secrets at rest.
    pub encryption_key: SecretKey,
    /// Entra token authority (the simulator in the demo app).
    pub authority_url: String,
    /// Microsoft Graph base URL without the version (the simulator in the demo app).
    pub graph_url: String,
    /// Time one invocation may spend on sync work.
    pub invocation_budget: Duration,
    /// Graph pages one invocation may process; `None`: only time bounds it.
    pub page_budget: Option<u32>,
    /// Where welcome emails are POSTed as JSON; `None`: they are only logged.
    pub mail_webhook_url: Option<String>,
    /// How long a run keeps trying through consecutive transient failures
    /// before it fails (1 minute to 24 hours; 10 minutes by default).
    pub retry_window: Duration,
}

// The operator token and the key never appear in logs.
impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("operator_token", &"<redacted>")
            .field("encryption_key", &self.encryption_key)
            .field("authority_url", &self.authority_url)
            .field("graph_url", &self.graph_url)
            .field("invocation_budget", &self.invocation_budget)
            .field("page_budget", &self.page_budget)
            .field("mail_webhook_url", &self.mail_webhook_url)
            .field("retry_window", &self.retry_window)
            .finish()
    }
}

impl AppConfig {
    /// What one invocation may spend on sync work.
    pub fn budget(&self) -> engine::Budget {
        engine::Budget {
            max_millis: u64::try_from(self.invocation_budget.as_millis()).unwrap_or(u64::MAX),
            max_pages: self.page_budget,
        }
    }

    /// The engine's tunables this configuration sets (the rest are the
    /// product's defaults).
    pub fn engine_config(&self) -> engine::EngineConfig {
        engine::EngineConfig {
            retry_window: engine::ports::TimeDelta::from_std(self.retry_window)
                .unwrap_or(engine::ports::TimeDelta::MAX),
            ..engine::EngineConfig::default()
        }
    }

    /// Reads and validates every variable; the first problem found is returned.
    pub async fn load(vars: &impl Variables) -> Result<AppConfig, ConfigError> {
        let operator_token = required(vars, names::OPERATOR_TOKEN).await?;
        if operator_token.chars().count() < MIN_OPERATOR_TOKEN_CHARS {
            return Err(ConfigError::Invalid {
                name: names::OPERATOR_TOKEN,
                reason: format!("must be at least {MIN_OPERATOR_TOKEN_CHARS} characters"),
            });
        }
        let encryption_key = SecretKey::from_base64(&required(vars, names::ENCRYPTION_KEY).await?)
            .map_err(ConfigError::EncryptionKey)?;
        let authority_url = optional(vars, names::AUTHORITY_URL)
            .await?
            .unwrap_or_else(|| graph::DEFAULT_AUTHORITY.to_owned());
        check_url(names::AUTHORITY_URL, &authority_url)?;
        let graph_url = optional(vars, names::GRAPH_URL)
            .await?
            .unwrap_or_else(|| graph::DEFAULT_GRAPH_BASE.to_owned());
        check_url(names::GRAPH_URL, &graph_url)?;
        let budget_ms = match optional(vars, names::INVOCATION_BUDGET_MS).await? {
            None => DEFAULT_INVOCATION_BUDGET_MS,
            Some(text) => parse_in(names::INVOCATION_BUDGET_MS, &text, BUDGET_MS_RANGE)?,
        };
        let page_budget = match optional(vars, names::PAGE_BUDGET).await? {
            None => None,
            Some(text) => Some(parse_in(names::PAGE_BUDGET, &text, PAGE_BUDGET_RANGE)?),
        };
        let retry_minutes = match optional(vars, names::RETRY_WINDOW_MINUTES).await? {
            None => DEFAULT_RETRY_WINDOW_MINUTES,
            Some(text) => parse_in(names::RETRY_WINDOW_MINUTES, &text, RETRY_WINDOW_RANGE)?,
        };
        let mail_webhook_url = optional(vars, names::MAIL_WEBHOOK_URL).await?;
        if let Some(url) = &mail_webhook_url {
            check_url(names::MAIL_WEBHOOK_URL, url)?;
        }
        Ok(AppConfig {
            operator_token,
            encryption_key,
            authority_url: authority_url.trim_end_matches('/').to_owned(),
            graph_url: graph_url.trim_end_matches('/').to_owned(),
            invocation_budget: Duration::from_millis(budget_ms),
            page_budget,
            mail_webhook_url,
            retry_window: Duration::from_secs(retry_minutes * 60),
        })
    }
}

/// A set, non-blank variable, trimmed. Blank counts as unset: Spin variables
/// are often declared with `default = ""`.
async fn optional(
    vars: &impl Variables,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    Ok(vars
        .get(name)
        .await?
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty()))
}

async fn required(vars: &impl Variables, name: &'static str) -> Result<String, ConfigError> {
    optional(vars, name)
        .await?
        .ok_or(ConfigError::Missing(name))
}

fn parse_in<T>(
    name: &'static str,
    text: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let out_of_range = || ConfigError::Invalid {
        name,
        reason: format!(
            "must be a whole number from {} to {}, got {text:?}",
            range.start(),
            range.end()
        ),
    };
    let value: T = text.parse().map_err(|_| out_of_range())?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range())
    }
}

fn check_url(name: &'static str, value: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        reason: format!("{reason}, got {value:?}"),
    };
    let url = url::Url::parse(value).map_err(|_| invalid("must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("must be an http(s) URL with a host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const TOKEN: &str = "operator-token-for-tests";

    fn minimal() -> MapVariables {
        MapVariables::new([(names::OPERATOR_TOKEN, TOKEN), (names::ENCRYPTION_KEY, KEY)])
    }

    fn load_with(name: &str, value: &str) -> Result<AppConfig, ConfigError> {
        let mut vars = minimal();
        vars.set(name, value);
        block_on(AppConfig::load(&vars))
    }

    #[test]
    fn the_two_secrets_suffice_and_the_rest_defaults_to_microsoft() {
        let config = block_on(AppConfig::load(&minimal())).unwrap();
        assert_eq!(config.operator_token, TOKEN);
        assert_eq!(config.authority_url, "https://login.microsoftonline.com");
        assert_eq!(config.graph_url, "https://graph.microsoft.com");
        assert_eq!(config.invocation_budget, Duration::from_secs(20));
        assert_eq!(config.page_budget, None);
        assert_eq!(config.mail_webhook_url, None);
    }

    #[test]
    fn every_variable_is_read() {
        let vars = MapVariables::new([
            (names::OPERATOR_TOKEN, TOKEN),
            (names::ENCRYPTION_KEY, KEY),
            (names::AUTHORITY_URL, "http://entra-sim.spin.internal/"),
            (names::GRAPH_URL, "http://entra-sim.spin.internal"),
            (names::INVOCATION_BUDGET_MS, "5000"),
            (names::PAGE_BUDGET, "3"),
            (names::MAIL_WEBHOOK_URL, "https://mail.example.com/hook"),
        ]);
        let config = block_on(AppConfig::load(&vars)).unwrap();
        assert_eq!(config.authority_url, "http://entra-sim.spin.internal");
        assert_eq!(config.graph_url, "http://entra-sim.spin.internal");
        assert_eq!(config.invocation_budget, Duration::from_secs(5));
        assert_eq!(config.page_budget, Some(3));
        assert_eq!(
            config.mail_webhook_url.as_deref(),
            Some("https://mail.example.com/hook")
        );
    }

    #[test]
    fn missing_or_blank_secrets_are_named() {
        let vars = MapVariables::new([(names::ENCRYPTION_KEY, KEY)]);
        assert_eq!(
            block_on(AppConfig::load(&vars)).unwrap_err(),
            ConfigError::Missing("operator_token")
        );
        assert_eq!(
            load_with(names::ENCRYPTION_KEY, "  ").unwrap_err(),
            ConfigError::Missing("encryption_key")
        );
    }

    #[test]
    fn a_short_operator_token_is_refused() {
        let err = load_with(names::OPERATOR_TOKEN, "admin").unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "operator_token",
                ..
            }
        ));
    }

    #[test]
    fn a_bad_encryption_key_says_why() {
        assert_eq!(
            load_with(names::ENCRYPTION_KEY, "c2hvcnQ=").unwrap_err(),
            ConfigError::EncryptionKey(SecretError::KeyWrongLength { len: 5 })
        );
        let message = load_with(names::ENCRYPTION_KEY, "c2hvcnQ=")
            .unwrap_err()
            .to_string();
        assert!(message.contains("exactly 32"), "{message}");
    }

    #[test]
    fn bad_numbers_and_urls_are_refused_with_the_variable_name() {
        for (name, value) in [
            (names::INVOCATION_BUDGET_MS, "abc"),
            (names::INVOCATION_BUDGET_MS, "0"),
            (names::INVOCATION_BUDGET_MS, "-5"),
            (names::PAGE_BUDGET, "0"),
            (names::GRAPH_URL, "graph.microsoft.com"),
            (names::AUTHORITY_URL, "ftp://login.example.com"),
            (names::MAIL_WEBHOOK_URL, "not a url"),
        ] {
            match load_with(name, value) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name, "{value}"),
                other => panic!("{name}={value:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let config = block_on(AppConfig::load(&minimal())).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(!debug.contains(KEY), "{debug}");
    }
}
