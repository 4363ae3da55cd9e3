//! The background worker of each process: sends the outbox's due emails, and runs the coordinators'
//! daily digest once a day. It sits above `mail` (delivery) and `notify` (letters), which know
//! nothing of it, so that neither imports the other.

use crate::mail::{Transport, WorkerConfig, deliver_due};

/// The worker: sends what is due, then waits to be woken or for the next poll; runs the coordinators'
/// daily digest once a day. Runs until the process stops.
pub async fn run_worker(state: crate::AppState, transport: Transport, cfg: WorkerConfig) {
    loop {
        if let Err(e) = crate::notify::daily_digest_if_due(&state.letters, state.clock.now()).await {
            tracing::error!(error = %e, "daily digest");
        }
        if let Err(e) = deliver_due(&state.store, &transport, &cfg).await {
            tracing::error!(error = %e, "outbox");
        }
        tokio::select! {
            _ = state.mail.woken() => {}
            _ = tokio::time::sleep(cfg.poll) => {}
        }
    }
}
