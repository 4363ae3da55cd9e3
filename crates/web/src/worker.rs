//! The background worker of each process: sends the outbox's due emails, runs the coordinators'
//! daily digest once a day, and the bookings' reminders, report requests and retention. It sits above `mail` (delivery) and `notify` (letters), which know
//! nothing of it, so that neither imports the other.

use crate::mail::{Transport, WorkerConfig, deliver_due};

/// The worker: sends what is due, then waits to be woken or for the next poll; runs the coordinators'
/// daily digest once a day. Runs until `stop` completes, then returns between two steps (an email
/// being sent is sent and marked; no lease is left behind for another node to wait out).
pub async fn run_worker(
    state: crate::AppState,
    transport: Transport,
    cfg: WorkerConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    // Bookings' reminders, report requests and retention: every ten minutes is soon enough for work
    // counted in days, and keeps the search they need off the hot path.
    let mut last_bookings: Option<std::time::Instant> = None;
    let mut last_sweep: Option<std::time::Instant> = None;
    loop {
        if last_bookings.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(600)) {
            last_bookings = Some(std::time::Instant::now());
            match crate::app::bookings::due_work(&state.deps(), state.config.booking_retention_months).await {
                Ok(done) if done != Default::default() => tracing::info!(?done, "bookings' due work"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "bookings' due work"),
            }
        }
        // The rows of the shared limits' buckets that are whole again go every minute: the table
        // holds only buckets in use (each node admits a bounded number of keys per limit).
        if last_sweep.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60)) {
            last_sweep = Some(std::time::Instant::now());
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            if let Err(e) = state.store.sweep_attempts(now.as_secs_f64()).await {
                tracing::warn!(error = %e, "shared limits not swept");
            }
        }
        if let Err(e) = crate::notify::daily_digest_if_due(&state.letters, state.clock.now()).await {
            tracing::error!(error = %e, "daily digest");
        }
        if let Err(e) = deliver_due(&state.store, &transport, &cfg).await {
            tracing::error!(error = %e, "outbox");
        }
        tokio::select! {
            _ = state.mail.woken() => {}
            _ = tokio::time::sleep(cfg.poll) => {}
            _ = &mut stop => return,
        }
    }
}

/// Follows what other nodes change for the public (see [`crate::catalogue::Catalogue::follow`]):
/// one cheap query every [`crate::catalogue::FOLLOW_EVERY`].
pub async fn follow_public_changes(state: crate::AppState) {
    let mut every = tokio::time::interval(crate::catalogue::FOLLOW_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.catalogue.follow(&state.store, &state.caches).await {
            Ok(crate::catalogue::Stale::Nothing) => {}
            Ok(stale) => tracing::debug!(?stale, "public view refreshed from the store's counters"),
            Err(e) => tracing::warn!(error = %e, "change counters not read"),
        }
    }
}
