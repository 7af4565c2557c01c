//! Ctrl-C, listened for from before the first statement to after the last.
//!
//! tokio's `ctrl_c()` listens only from its first poll, and once any
//! listener has existed tokio's handler stays installed: a SIGINT that
//! arrived between two statements, or while a statement was being set up
//! (a COPY whose first upload had already started), was swallowed and the
//! run went on to the end. And tokio hears of a signal only once its driver
//! has run, so a statement that finishes at its first poll could start and
//! end before a SIGINT sent ahead of it was seen. So a flag set in the
//! signal handler itself says whether a Ctrl-C came; tokio's listener only
//! wakes the waits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use tokio::sync::Mutex;

#[cfg(unix)]
type Listener = tokio::signal::unix::Signal;

#[cfg(unix)]
static LISTENER: OnceLock<Mutex<Listener>> = OnceLock::new();

/// Set by the signal handler; taken by [`next`], cleared by
/// [`forget_pending`].
static PENDING: LazyLock<Arc<AtomicBool>> = LazyLock::new(Arc::default);

/// Starts listening; call once inside the runtime, before any statement.
pub fn listen() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use anyhow::Context;
        use tokio::signal::unix::{SignalKind, signal};
        // tokio's handler first, so its own registration cannot replace ours.
        let listener = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
        signal_hook::flag::register(signal_hook::consts::SIGINT, PENDING.clone())
            .context("listening for Ctrl-C")?;
        let _ = LISTENER.set(Mutex::new(listener));
    }
    Ok(())
}

/// The next Ctrl-C, counting one that came while nothing was waiting.
pub async fn next() {
    #[cfg(unix)]
    if let Some(listener) = LISTENER.get() {
        let mut listener = listener.lock().await;
        // A wake-up for a Ctrl-C already taken through the flag is stale:
        // wait on.
        while !PENDING.swap(false, Ordering::SeqCst) {
            if listener.recv().await.is_none() {
                // The signal driver is gone with the runtime: no Ctrl-C can come.
                std::future::pending::<()>().await;
            }
        }
        return;
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Drops a Ctrl-C that came while nothing was running, so the shell's next
/// statement is not stopped by a key pressed before it was typed.
pub async fn forget_pending() {
    #[cfg(unix)]
    if let Some(listener) = LISTENER.get() {
        let mut listener = listener.lock().await;
        while futures::FutureExt::now_or_never(listener.recv()).is_some() {}
    }
    PENDING.store(false, Ordering::SeqCst);
}
