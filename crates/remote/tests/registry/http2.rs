//! HTTP/2 by ALPN against a TLS docker-registry (Go's net/http offers it)
//! for reads, HTTP/1.1 for uploads and a pushing client, and HTTP/1.1
//! throughout when the client is told to stay there. The protocol is read
//! from the client's own request log: each response line names its version.

use std::io::Write;
use std::sync::{Arc, Mutex};

use hoist_remote::ClientOptions;
use hoist_testkit::RegistryOptions;

use crate::support::*;

/// The debug log written while it is set as the default subscriber (on
/// this thread: the tests run on tokio's current-thread runtime, so every
/// task of theirs logs here).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The HTTP version of each response logged since the last call.
    fn take_response_versions(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        let text = String::from_utf8(bytes).unwrap();
        text.lines()
            .filter(|line| line.contains(" response "))
            .filter_map(|line| {
                let (_, rest) = line.split_once("version=")?;
                Some(rest.split_whitespace().next()?.to_owned())
            })
            .collect()
    }
}

/// The versions of the responses to a push, then to reads of what it
/// pushed, then to a read by a pushing client.
struct Versions {
    push: Vec<String>,
    pull: Vec<String>,
    pushing_client_read: Vec<String>,
}

/// Pushes and pulls an image over TLS with `options` (plus trust in the
/// registry's CA), or `None` when the registry cannot run here (a skip,
/// announced; a failure under CI).
async fn versions_of_a_push_and_pull(options: ClientOptions) -> Option<Versions> {
    let registry = start(RegistryOptions::plain().with_tls())?;
    let host = registry.host();
    let certs = tempfile::tempdir().unwrap();
    std::fs::create_dir(certs.path().join(&host)).unwrap();
    std::fs::copy(
        registry.ca_cert().unwrap(),
        certs.path().join(&host).join("ca.crt"),
    )
    .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = client(options.with_hosts_dir(certs.path()));
    let repository = repo(&host, "h2/app");
    let image = sample_image(18, 300_000);
    push_image(&client, &repository, &image, "v1").await;
    let push = captured.take_response_versions();

    let tagged = repository.tagged("v1").unwrap();
    let index = client.resolve(&tagged).await.unwrap();
    assert_eq!(index.digest, image.index.digest);
    let mut stream = client
        .fetch_blob(&repository, &image.layer.digest, 0)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), image.layer.bytes);
    let pull = captured.take_response_versions();

    let index = client.pushing().resolve(&tagged).await.unwrap();
    assert_eq!(index.digest, image.index.digest);
    let pushing_client_read = captured.take_response_versions();
    Some(Versions {
        push,
        pull,
        pushing_client_read,
    })
}

fn all_are(versions: &[String], expected: &str) -> bool {
    !versions.is_empty() && versions.iter().all(|v| v == expected)
}

#[tokio::test]
async fn a_tls_registry_offering_http2_is_read_in_http2_and_written_in_http1() {
    let Some(versions) = versions_of_a_push_and_pull(fast_options()).await else {
        return;
    };
    assert!(all_are(&versions.pull, "HTTP/2.0"), "{:?}", versions.pull);
    assert!(all_are(&versions.push, "HTTP/1.1"), "{:?}", versions.push);
    assert!(
        all_are(&versions.pushing_client_read, "HTTP/1.1"),
        "{:?}",
        versions.pushing_client_read
    );
}

#[tokio::test]
async fn http1_only_keeps_a_tls_registry_on_http1() {
    let options = ClientOptions {
        http1_only: true,
        ..fast_options()
    };
    let Some(versions) = versions_of_a_push_and_pull(options).await else {
        return;
    };
    assert!(all_are(&versions.pull, "HTTP/1.1"), "{:?}", versions.pull);
    assert!(all_are(&versions.push, "HTTP/1.1"), "{:?}", versions.push);
}
