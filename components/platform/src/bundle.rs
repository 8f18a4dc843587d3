//! The platform bundle: the one type an adapter hands the API and the tick
//! job, carrying the store, outbound HTTP, wall clock, mailer and pause it
//! runs on (as Spin bundles a component's capabilities with one
//! `#[derive(RuntimeFactors)]`). Code that runs on any platform is generic
//! over one [`Platform`], not over each port.

use engine::ports::{Clock, Mailer, Store};
use engine::{Directory, Engine};
use graph::{GraphClient, HttpClient, Pause};

use crate::config::AppConfig;
use crate::source::{SourceBuildError, graph_config};

/// The ports of one platform. Bundles: `spin::SpinPlatform` (the
/// components), `native::NativePlatform` (`idp-sync-local` and
/// native tests), and the API tests' own.
pub trait Platform {
    /// The key-value store of the engine's documents.
    type Store: Store;
    /// Outbound HTTP, for Microsoft Graph (cloned into each Graph client).
    type Http: HttpClient + Clone;
    /// The wall clock the engine reads.
    type Clock: Clock;
    /// Delivery of welcome emails and notices to admins.
    type Mailer: Mailer;
    /// Monotonic time and sleeps, for the Graph client's retries.
    type Pause: Pause + Clone;

    /// The store.
    fn store(&self) -> &Self::Store;
    /// The outbound HTTP client.
    fn http(&self) -> &Self::Http;
    /// The wall clock.
    fn clock(&self) -> &Self::Clock;
    /// The mailer.
    fn mailer(&self) -> &Self::Mailer;
    /// The monotonic pause.
    fn pause(&self) -> &Self::Pause;

    /// The engine over this platform's store and clock, with `config`'s
    /// engine settings.
    fn engine(&self, config: &AppConfig) -> Engine<'_, Self::Store, Self::Clock> {
        Engine::new(self.store(), self.clock()).with_config(config.engine_config())
    }

    /// A Graph client for a connected directory, its secret opened, over
    /// this platform's HTTP and pause, spending at most the invocation
    /// budget.
    ///
    /// # Errors
    /// [`SourceBuildError::Secret`] when the stored secret does not open,
    /// [`SourceBuildError::Config`] when the Graph configuration is invalid.
    fn graph_client(
        &self,
        config: &AppConfig,
        directory: &Directory,
    ) -> Result<GraphClient<Self::Http, Self::Pause>, SourceBuildError> {
        let graph_config = graph_config(config, directory)?;
        Ok(GraphClient::new(
            graph_config,
            self.http().clone(),
            self.pause().clone(),
        )?)
    }
}
