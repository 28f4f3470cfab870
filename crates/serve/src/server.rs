//! The listener: accepts connections up to the limit and serves each with
//! hyper's HTTP/1.1 connection driver until shut down.

use std::net::SocketAddr;
use std::sync::Arc;

use hoist::Store;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::basic_auth::BasicAuth;
use crate::error::{Error, Result};
use crate::handlers;
use crate::logged_body::RemoteAddr;
use crate::options::ServeOptions;
use crate::tls;
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
    let guards = Guards::load(&options)?;
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
    let https = guards.tls.is_some();
    let accept_loop = tokio::spawn(accept_loop(
        listener,
        store,
        pull_through,
        options,
        guards,
        stopped,
    ));
    tracing::info!(target: "hoist_serve", %local_addr, https, "serving the store as a registry");
    Ok(ServerHandle {
        local_addr,
        stop,
        accept_loop,
    })
}

/// TLS and basic auth, loaded once at start.
#[derive(Clone)]
struct Guards {
    tls: Option<TlsAcceptor>,
    auth: Option<BasicAuth>,
}

impl Guards {
    fn load(options: &ServeOptions) -> Result<Guards> {
        let tls = options.tls.as_ref().map(tls::acceptor).transpose()?;
        let auth = match &options.htpasswd {
            None => None,
            Some(path) => {
                // Basic credentials are the password itself, base64'd: over
                // plain HTTP anyone on the path reads them. Only loopback
                // traffic stays on this machine.
                if tls.is_none() && !options.listen.ip().is_loopback() {
                    return Err(Error::InvalidOption {
                        option: "htpasswd",
                        reason: format!(
                            "basic auth over plain HTTP on {} would send passwords in clear text \
                             across the network; give a TLS certificate and key, or listen on loopback",
                            options.listen
                        ),
                    });
                }
                Some(BasicAuth::load(path)?)
            }
        };
        Ok(Guards { tls, auth })
    }
}

async fn accept_loop(
    listener: TcpListener,
    store: Store,
    pull_through: Option<Arc<PullThrough>>,
    options: ServeOptions,
    guards: Guards,
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
        let answering = Answering {
            store: store.clone(),
            pull_through: pull_through.clone(),
            auth: guards.auth.clone(),
        };
        let tls = guards.tls.clone();
        let stopped = stopped.clone();
        let header_read_timeout = options.header_read_timeout;
        let max_header_bytes = options.max_header_bytes;
        tokio::spawn(async move {
            let _slot = slot;
            let limits = Limits {
                header_read_timeout,
                max_header_bytes,
            };
            let Some(acceptor) = tls else {
                return connection(stream, peer, answering, limits, stopped).await;
            };
            // The handshake gets the head's time limit: a client that
            // connects and says nothing holds its slot no longer.
            match tokio::time::timeout(header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => connection(stream, peer, answering, limits, stopped).await,
                Ok(Err(error)) => {
                    tracing::debug!(target: "hoist_serve", %peer, %error, "TLS handshake failed");
                }
                Err(_) => {
                    tracing::debug!(target: "hoist_serve", %peer, "TLS handshake timed out");
                }
            }
        });
    }
}

/// What answers the requests of a connection.
#[derive(Clone)]
struct Answering {
    store: Store,
    pull_through: Option<Arc<PullThrough>>,
    auth: Option<BasicAuth>,
}

#[derive(Clone, Copy)]
struct Limits {
    header_read_timeout: std::time::Duration,
    max_header_bytes: usize,
}

/// Serves one connection (plain TCP or TLS) until the client closes it or
/// the server stops.
async fn connection<I>(
    io: I,
    peer: SocketAddr,
    answering: Answering,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |mut request| {
        let Answering {
            store,
            pull_through,
            auth,
        } = answering.clone();
        request.extensions_mut().insert(RemoteAddr(peer));
        async move {
            if let Some(auth) = &auth
                && let Err(refusal) = auth.check(request.headers()).await
            {
                return Ok::<_, std::convert::Infallible>(handlers::refuse(&request, &refusal));
            }
            Ok(handlers::handle(store, pull_through, request).await)
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
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
}
