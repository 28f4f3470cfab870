//! A far registry on loopback: a TCP forwarder that delays every byte by a
//! fixed one-way latency in each direction, so a request and its answer
//! cost one round trip (RTT) more, as they do against a registry tens of
//! milliseconds away. It works below HTTP: connections stay alive as long
//! as the two ends keep them, TLS and HTTP/2 pass through, and bandwidth is
//! not limited (only delayed).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::background::Background;
use crate::error::{Error, Result};

/// How many chunks may wait in one direction's delay line: with 64 KiB
/// chunks, enough to keep a fast link busy for a whole 80 ms RTT.
const CHUNKS_IN_FLIGHT: usize = 1024;

/// A running latency forwarder; it stops when dropped.
pub struct LatencyProxy {
    _background: Background,
    address: SocketAddr,
    rtt: Duration,
    connections: Arc<AtomicUsize>,
}

impl std::fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("address", &self.address)
            .field("rtt", &self.rtt)
            .finish_non_exhaustive()
    }
}

impl LatencyProxy {
    /// Starts a forwarder on a free loopback port to `upstream`
    /// (`host:port`) that adds `rtt` to every round trip: half on the way
    /// there, half on the way back.
    ///
    /// # Errors
    /// When no port can be bound.
    pub fn start(upstream: &str, rtt: Duration) -> Result<LatencyProxy> {
        let background = Background::new("latency")?;
        let listener = background.bind_loopback("latency proxy")?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::net("reading the latency proxy's address", e))?;
        let handle = background
            .handle()
            .ok_or_else(|| Error::Other("the latency proxy runtime is gone".to_owned()))?;
        let upstream = upstream.to_owned();
        let one_way = rtt / 2;
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        handle.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::Relaxed);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    // A failed connection is the client's to notice.
                    let _ = connect(client, &upstream, one_way).await;
                });
            }
        });
        Ok(LatencyProxy {
            _background: background,
            address,
            rtt,
            connections,
        })
    }

    /// How many connections clients have opened through it so far (each
    /// paid one round trip to open).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// `host:port` to talk to instead of the upstream.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// The round-trip time it adds.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }
}

/// Joins `client` to a new connection to `upstream` through two delay lines.
async fn connect(client: TcpStream, upstream: &str, one_way: Duration) -> std::io::Result<()> {
    // Connecting costs a round trip too, as a TCP handshake does.
    tokio::time::sleep(one_way * 2).await;
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let there = tokio::spawn(delay_line(client_read, server_write, one_way));
    let back = tokio::spawn(delay_line(server_read, client_write, one_way));
    let _ = tokio::join!(there, back);
    Ok(())
}

/// Copies `from` to `to`, each chunk written `delay` after it was read;
/// end of stream is passed on (as a shutdown) after the same delay.
async fn delay_line(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (sender, mut receiver) = mpsc::channel::<(Instant, Vec<u8>)>(CHUNKS_IN_FLIGHT);
    let reader = tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buffer).await {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            };
            // An empty chunk marks the end of the stream.
            if sender
                .send((Instant::now() + delay, buffer[..n].to_vec()))
                .await
                .is_err()
                || n == 0
            {
                return;
            }
        }
    });
    while let Some((due, chunk)) = receiver.recv().await {
        tokio::time::sleep_until(due).await;
        if chunk.is_empty() || to.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
    reader.abort();
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::Instant;

    use super::*;

    /// An echo server on loopback that keeps each connection open.
    fn echo_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buffer = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 || stream.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        (address, handle)
    }

    #[test]
    fn every_exchange_on_one_kept_connection_pays_the_round_trip() {
        let (address, server) = echo_server();
        let rtt = Duration::from_millis(60);
        let proxy = LatencyProxy::start(&address.to_string(), rtt).unwrap();
        let mut stream = std::net::TcpStream::connect(proxy.host()).unwrap();
        stream.set_nodelay(true).unwrap();
        for round in 0..3u8 {
            let started = Instant::now();
            stream.write_all(&[round; 5]).unwrap();
            let mut answer = [0u8; 5];
            stream.read_exact(&mut answer).unwrap();
            assert_eq!(answer, [round; 5], "bytes pass unchanged");
            // A lower bound only: the proxy adds at least one RTT per
            // exchange, on the same connection each time.
            assert!(
                started.elapsed() >= rtt,
                "round {round} took {:?}, less than the RTT",
                started.elapsed()
            );
        }
        drop(stream);
        server.join().unwrap();
    }
}
