//! Ctrl-C, listened for from before the first statement to after the last.
//!
//! tokio's `ctrl_c()` listens only from its first poll, and once any
//! listener has existed tokio's handler stays installed: a SIGINT that
//! arrived between two statements, or while a statement was being set up
//! (a COPY whose first upload had already started), was swallowed and the
//! run went on to the end. One listener made at start-up keeps every
//! SIGINT for the next wait instead.

use std::sync::OnceLock;

use tokio::sync::Mutex;

#[cfg(unix)]
type Listener = tokio::signal::unix::Signal;

#[cfg(unix)]
static LISTENER: OnceLock<Mutex<Listener>> = OnceLock::new();

/// Starts listening; call once inside the runtime, before any statement.
pub fn listen() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use anyhow::Context;
        use tokio::signal::unix::{SignalKind, signal};
        let listener = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
        let _ = LISTENER.set(Mutex::new(listener));
    }
    Ok(())
}

/// The next Ctrl-C, counting one that came while nothing was waiting.
pub async fn next() {
    #[cfg(unix)]
    if let Some(listener) = LISTENER.get() {
        if listener.lock().await.recv().await.is_none() {
            // The signal driver is gone with the runtime: no Ctrl-C can come.
            std::future::pending::<()>().await;
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
}
