//! Awaiting a WASI 0.2 `pollable` without blocking the instance: the
//! waker is registered with `spin-executor`, the executor spin-sdk 5's
//! entry points run on (`spin_sdk::http::run`), which polls the host for
//! every pending pollable at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use spin_executor::{CancelOnDropToken, push_waker_and_get_token};
use wasi::io::poll::Pollable;

/// Resolves once `pollable` is ready. The executor wakes the task only for
/// a ready pollable; callers re-check their condition in a loop anyway.
pub fn ready(pollable: Pollable) -> Ready {
    Ready {
        pollable: Some(pollable),
        _registration: None,
    }
}

/// The future of [`ready`].
pub struct Ready {
    pollable: Option<Pollable>,
    /// Keeps the waker registered; dropping it unregisters.
    _registration: Option<CancelOnDropToken>,
}

impl Future for Ready {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.pollable.take() {
            Some(pollable) if !pollable.ready() => {
                this._registration = Some(CancelOnDropToken::from(push_waker_and_get_token(
                    pollable,
                    cx.waker().clone(),
                )));
                Poll::Pending
            }
            _ => Poll::Ready(()),
        }
    }
}
