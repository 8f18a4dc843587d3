//! The Spin platform bundle: the `default` key-value store, outbound HTTP,
//! the wall clock, the configured mailer and the monotonic pause, as one
//! [`Platform`]. What the API's HTTP entry and the cron component run on.

use engine::SystemClock;
use engine::ports::StoreError;

use crate::bundle::Platform;
use crate::config::AppConfig;
use crate::mailer::AppMailer;
use crate::spin::{SpinHttp, SpinPause, SpinStore};

/// A Spin component's ports, opened for one invocation.
pub struct SpinPlatform {
    pub store: SpinStore,
    pub http: SpinHttp,
    pub clock: SystemClock,
    /// The mail webhook over outbound HTTP when configured, else the log.
    pub mailer: AppMailer<SpinHttp>,
    pub pause: SpinPause,
}

impl SpinPlatform {
    /// Opens the `default` store and sets up the mailer `config` names.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the host refuses the store.
    pub async fn open(config: &AppConfig) -> Result<Self, StoreError> {
        Ok(SpinPlatform {
            store: SpinStore::open_default().await?,
            http: SpinHttp,
            clock: SystemClock,
            mailer: AppMailer::from_config(config.mail_webhook_url.as_deref(), SpinHttp),
            pause: SpinPause::default(),
        })
    }
}

impl Platform for SpinPlatform {
    type Store = SpinStore;
    type Http = SpinHttp;
    type Clock = SystemClock;
    type Mailer = AppMailer<SpinHttp>;
    type Pause = SpinPause;

    fn store(&self) -> &SpinStore {
        &self.store
    }

    fn http(&self) -> &SpinHttp {
        &self.http
    }

    fn clock(&self) -> &SystemClock {
        &self.clock
    }

    fn mailer(&self) -> &AppMailer<SpinHttp> {
        &self.mailer
    }

    fn pause(&self) -> &SpinPause {
        &self.pause
    }
}
