//! The listener: accepts connections up to the limit and serves each with
//! hyper's HTTP/1.1 connection driver until shut down.

use std::net::SocketAddr;
use std::sync::Arc;

use hoist::Store;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::handlers;
use crate::options::ServeOptions;
use crate::upstream::PullThrough;

/// A running server: its address, and the way to stop it. Dropping the
/// handle stops the server too, without waiting for it.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
}

impl ServerHandle {
    /// The address the server listens on (the real port when asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, asks every open connection to finish its current
    /// response and close, and returns once the listener is closed.
    ///
    /// # Cancel safety
    /// Dropping the future leaves the shutdown under way.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.accept_loop.await;
    }
}

/// Binds `options.listen` and serves `store`'s namespace on the current
/// tokio runtime until [`ServerHandle::shutdown`].
///
/// # Errors
/// The address cannot be bound; an option is out of range.
///
/// # Panics
/// Outside a tokio runtime.
pub async fn serve(store: Store, options: ServeOptions) -> Result<ServerHandle> {
    if options.max_connections == 0 {
        return Err(Error::InvalidOption {
            option: "max_connections",
            reason: "at least one connection must be allowed".into(),
        });
    }
    if options.max_header_bytes < 8192 {
        return Err(Error::InvalidOption {
            option: "max_header_bytes",
            reason: format!(
                "{} is below hyper's floor of 8192",
                options.max_header_bytes
            ),
        });
    }
    let pull_through = PullThrough::start(&store, &options.upstreams, options.upstream_tag_ttl)?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| Error::Bind {
            address: options.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| Error::Bind {
        address: options.listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let accept_loop = tokio::spawn(accept_loop(listener, store, pull_through, options, stopped));
    tracing::info!(target: "hoist_serve", %local_addr, "serving the store as a registry");
    Ok(ServerHandle {
        local_addr,
        stop,
        accept_loop,
    })
}

async fn accept_loop(
    listener: TcpListener,
    store: Store,
    pull_through: Option<Arc<PullThrough>>,
    options: ServeOptions,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections));
    loop {
        // Take a slot before accepting: past the limit, new connections
        // wait in the kernel's backlog rather than in our memory.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
            _ = stopped.changed() => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: say so, and go on
                    // after a pause rather than spin.
                    tracing::warn!(target: "hoist_serve", %error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        let store = store.clone();
        let pull_through = pull_through.clone();
        let mut stopped = stopped.clone();
        let header_read_timeout = options.header_read_timeout;
        let max_header_bytes = options.max_header_bytes;
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                let store = store.clone();
                let pull_through = pull_through.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        handlers::handle(store, pull_through, request).await,
                    )
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .max_buf_size(max_header_bytes)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(target: "hoist_serve", %peer, %error, "connection ended");
            }
        });
    }
}
