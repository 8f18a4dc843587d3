//! A server on a thread of its own, for a process whose main thread does
//! something else (tests, `idp-sync-local`'s built-in simulator).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::LocalSet;

use crate::{Handler, Limits, runtime, serve};

/// How long stopping waits for handlers still running on blocking threads.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A server running on its own thread; stops when dropped.
pub struct Background {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Serves `listener` on a new thread with the handler `make` builds
    /// there (so the handler need not be `Send`); `blocking_threads` as for
    /// [`runtime`].
    pub fn start<H, F>(
        listener: TcpListener,
        limits: Limits,
        blocking_threads: usize,
        make: F,
    ) -> io::Result<Background>
    where
        H: Handler + 'static,
        F: FnOnce() -> H + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let runtime = runtime(blocking_threads)?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("server {addr}"))
            .spawn(move || {
                let serving = async {
                    tokio::select! {
                        served = serve(listener, limits, Rc::new(make())) => {
                            if let Err(error) = served {
                                tracing::error!(%addr, %error, "serving failed");
                            }
                        }
                        _ = stopped => {}
                    }
                };
                LocalSet::new().block_on(&runtime, serving);
                runtime.shutdown_timeout(STOP_GRACE);
            })?;
        Ok(Background {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen, for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks while the server runs.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            // A server thread that panicked has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The thread may have ended already; nothing to stop then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
