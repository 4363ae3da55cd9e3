//! The HTTP server loop: HTTP/1.1 connections served by hyper with the limits that an anonymous
//! client must not be able to lift — a deadline to send the request headers (slowloris), a cap on
//! simultaneous connections, a cap on header size — and each request told its peer address
//! (`ConnectInfo`) for the per-source limits. axum's own `serve` sets no timer, so hyper's header
//! timeout never fired there.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Limits of the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers (and to start the next one on a kept-alive
    /// connection) before the connection is closed.
    pub header_timeout: Duration,
    /// Simultaneous connections; beyond, new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight have to finish.
    pub drain: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits { header_timeout: Duration::from_secs(10), max_connections: 4_096, drain: Duration::from_secs(30) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, closes idle
/// connections, and returns when the requests in flight are answered (at most `limits.drain`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::static_files::warm();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stopping = stop_rx.clone();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stopping.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopping.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut req: axum::extract::Request| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let service = TowerToHyperService::new(
            service.map_request(|req: hyper::Request<hyper::body::Incoming>| req.map(axum::body::Body::new)),
        );
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(64 * 1024);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection closed");
                    }
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    // Every connection holds a slot until it ends: all slots back means every request answered.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(limits.drain, slots.acquire_many(all)).await {
        Ok(_) => tracing::info!("requests in flight answered"),
        Err(_) => tracing::warn!(drain = ?limits.drain, "requests still in flight at the end of the drain"),
    }
    Ok(())
}
