//! The client: options, per-registry endpoint state (mirrors, scheme
//! probing), and the request loop that adds auth, answers challenges and
//! retries what may be retried. The operations live beside it
//! (`manifest.rs`, `blob.rs`, `upload.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;

use crate::auth::challenge::Challenge;
use crate::auth::credentials::{CredentialProvider, StaticCredentials};
use crate::auth::scope::Scopes;
use crate::auth::token::TokenMethod;
use crate::auth::{Attempt, Authenticator};
use crate::error::{Error, ErrorKind, Result};
use crate::hosts::{Endpoint, SchemePolicy, host_config};
use crate::transport::{
    HttpClients, Progress, RetryPolicy, retryable_status, send_watched, status_error,
};

/// The default manifest size limit: 4 MiB, as containerd and distribution.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// How a [`Client`] behaves.
#[derive(Clone)]
pub struct ClientOptions {
    /// Where credentials come from (default: none, anonymous everywhere).
    pub credentials: Arc<dyn CredentialProvider>,
    /// The `certs.d` directory of per-host `hosts.toml` files and
    /// certificates (default: none).
    pub hosts_dir: Option<PathBuf>,
    /// Hosts (`host[:port]`) where plain HTTP, and HTTPS without
    /// certificate checks, are acceptable. Loopback hosts may use plain HTTP
    /// without being listed.
    pub insecure: Vec<String>,
    /// How long a connection (TCP and TLS) may take.
    pub connect_timeout: Duration,
    /// How long an exchange may go without any progress (no body byte taken,
    /// no response byte received) before it is abandoned.
    pub idle_timeout: Duration,
    /// Retries on server errors and broken connections.
    pub retry: RetryPolicy,
    /// The largest manifest accepted or sent.
    pub max_manifest_size: u64,
    /// How credentials are exchanged for tokens.
    pub token_method: TokenMethod,
    /// The size of each `PATCH` in a chunked upload.
    pub chunk_size: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Never offer HTTP/2 (default: false). Otherwise reads from a TLS
    /// registry that offers HTTP/2 by ALPN share one HTTP/2 connection;
    /// uploads, all of a [`Client::pushing`] client's requests, and plain
    /// HTTP always use HTTP/1.1 (docs/crates/remote.md, "HTTP/2").
    pub http1_only: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            credentials: Arc::new(StaticCredentials::new()),
            hosts_dir: None,
            insecure: Vec::new(),
            connect_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            token_method: TokenMethod::Auto,
            chunk_size: 16 * 1024 * 1024,
            user_agent: concat!("hoist/", env!("CARGO_PKG_VERSION")).to_owned(),
            http1_only: false,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("hosts_dir", &self.hosts_dir)
            .field("insecure", &self.insecure)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("max_manifest_size", &self.max_manifest_size)
            .field("token_method", &self.token_method)
            .field("chunk_size", &self.chunk_size)
            .field("http1_only", &self.http1_only)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Uses `provider` for credentials.
    pub fn with_credentials(mut self, provider: impl CredentialProvider) -> ClientOptions {
        self.credentials = Arc::new(provider);
        self
    }

    /// Reads per-host settings from `dir` (a `certs.d` directory).
    pub fn with_hosts_dir(mut self, dir: impl Into<PathBuf>) -> ClientOptions {
        self.hosts_dir = Some(dir.into());
        self
    }

    /// Names `host` insecure: plain HTTP, or HTTPS without verification.
    pub fn with_insecure(mut self, host: impl Into<String>) -> ClientOptions {
        self.insecure.push(host.into());
        self
    }
}

/// A registry client. Cheap to clone; clones share connections, tokens and
/// credentials.
///
/// Every operation names its object (reference, digest) in its errors; see
/// [`crate::Error`].
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Every request goes to the endpoints that take pushes (see
    /// [`Client::pushing`]).
    push_side: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) options: ClientOptions,
    http: HttpClients,
    pub(crate) auth: Authenticator,
    registries: Mutex<HashMap<String, Arc<RegistryState>>>,
}

struct RegistryState {
    endpoints: Vec<Arc<EndpointState>>,
}

struct EndpointState {
    endpoint: Endpoint,
    base: tokio::sync::OnceCell<url::Url>,
}

/// What an operation needs an endpoint to be able to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Resolve a tag.
    Resolve,
    /// Fetch by digest.
    Pull,
    /// Push.
    Push,
}

/// An endpoint ready for requests.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) registry: String,
    pub(crate) authority: String,
    pub(crate) base: url::Url,
    pub(crate) http: reqwest::Client,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) is_mirror: bool,
}

impl Target {
    /// `<base>/<path>`; `path` starts with '/'.
    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        let text = format!("{}{path}", self.base.as_str().trim_end_matches('/'));
        url::Url::parse(&text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid request URL {text:?}"),
            )
            .with_source(e)
        })
    }
}

/// A request body.
pub(crate) enum CallBody {
    Empty,
    Bytes(Bytes),
    /// Sent once: a call with a stream is not retried by the loop (the
    /// upload code reopens its source instead).
    Stream(Option<reqwest::Body>),
}

/// One request to make.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: url::Url,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: CallBody,
    pub(crate) scopes: Scopes,
    pub(crate) context: String,
    pub(crate) progress: Progress,
    /// Retry server errors and broken connections within the client's
    /// [`RetryPolicy`]; off for callers that retry (and resume) themselves.
    pub(crate) retry: bool,
}

impl Call {
    pub(crate) fn new(method: Method, url: url::Url, scopes: Scopes, context: String) -> Call {
        Call {
            method,
            url,
            headers: Vec::new(),
            body: CallBody::Empty,
            scopes,
            context,
            progress: Progress::new(),
            retry: true,
        }
    }

    /// Sends the call once: the caller retries within the same policy.
    pub(crate) fn once(mut self) -> Call {
        self.retry = false;
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, body: CallBody) -> Call {
        self.body = body;
        self
    }

    fn replayable(&self) -> bool {
        !matches!(self.body, CallBody::Stream(_))
    }
}

impl Inner {
    /// The client for hosts with no TLS settings of their own (redirect
    /// targets): the system's roots only.
    pub(crate) fn http_for_default_tls(&self) -> Result<reqwest::Client> {
        self.http.get(
            &crate::hosts::TlsSettings::default(),
            !self.options.http1_only,
        )
    }
}

impl Client {
    /// A client with default options: anonymous, system roots, no mirrors.
    ///
    /// # Errors
    /// Never today; kept fallible for options that are checked eagerly.
    pub fn new(options: ClientOptions) -> Result<Client> {
        let http = HttpClients::new(options.connect_timeout, options.user_agent.clone());
        let auth = Authenticator::new(
            Arc::clone(&options.credentials),
            options.token_method,
            options.idle_timeout,
        );
        Ok(Client {
            inner: Arc::new(Inner {
                options,
                http,
                auth,
                registries: Mutex::new(HashMap::new()),
            }),
            push_side: false,
        })
    }

    /// This client (same connections, tokens and options), reading only
    /// from the endpoints of a registry that take pushes: what a push reads
    /// back (the tag it wrote, the manifests already there, the referrers
    /// API, a referrers fallback tag) must come from where it writes, never
    /// from a pull-only mirror of `hosts.toml`, which may lack the new
    /// content or hold an older one under the same tag.
    #[must_use]
    pub fn pushing(&self) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            push_side: true,
        }
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// How often, and with what pauses, a request is tried: by this client,
    /// and by callers that resume downloads themselves.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.options.retry
    }

    fn registry_state(&self, registry: &str) -> Result<Arc<RegistryState>> {
        if let Ok(map) = self.inner.registries.lock()
            && let Some(state) = map.get(registry)
        {
            return Ok(Arc::clone(state));
        }
        let config = host_config(
            registry,
            self.inner.options.hosts_dir.as_deref(),
            &self.inner.options.insecure,
        )?;
        let state = Arc::new(RegistryState {
            endpoints: config
                .endpoints
                .into_iter()
                .map(|endpoint| {
                    Arc::new(EndpointState {
                        endpoint,
                        base: tokio::sync::OnceCell::new(),
                    })
                })
                .collect(),
        });
        if let Ok(mut map) = self.inner.registries.lock() {
            map.insert(registry.to_owned(), Arc::clone(&state));
        }
        Ok(state)
    }

    /// Whether requests for `need` offer HTTP/2 to a TLS registry. Uploads
    /// do not, nor does anything a [`Client::pushing`] client sends: a Go
    /// registry (docker-registry) lets an HTTP/2 connection have 1 MiB of
    /// request body in flight, all streams together, which holds a push of
    /// 40 MB through an 80 ms link to 4.4 s against 1.3 s over parallel
    /// HTTP/1.1 connections (docs/crates/remote.md, "HTTP/2").
    fn offers_http2(&self, need: Need) -> bool {
        !self.inner.options.http1_only && !self.push_side && need != Need::Push
    }

    /// The endpoints of `registry` able to do `need`, mirrors first. An
    /// endpoint whose scheme cannot be settled is skipped if others remain.
    pub(crate) async fn targets(&self, registry: &str, need: Need) -> Result<Vec<Target>> {
        let state = self.registry_state(registry)?;
        let usable: Vec<&Arc<EndpointState>> = state
            .endpoints
            .iter()
            .filter(|e| match need {
                _ if self.push_side => e.endpoint.capabilities.push,
                Need::Resolve => e.endpoint.capabilities.resolve,
                Need::Pull => e.endpoint.capabilities.pull,
                Need::Push => e.endpoint.capabilities.push,
            })
            .collect();
        if usable.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("no endpoint of {registry} may be used to {need:?} (see its hosts.toml)"),
            ));
        }
        let mut targets = Vec::new();
        let mut last_error = None;
        for state in usable {
            let http = self
                .inner
                .http
                .get(&state.endpoint.tls, self.offers_http2(need))?;
            match self.base_url(registry, state, &http).await {
                Ok(base) => targets.push(Target {
                    registry: registry.to_owned(),
                    authority: crate::hosts::authority(&base),
                    base,
                    http,
                    headers: state.endpoint.headers.clone(),
                    is_mirror: state.endpoint.is_mirror,
                }),
                Err(e) => last_error = Some(e),
            }
        }
        match (targets.is_empty(), last_error) {
            (true, Some(e)) => Err(e),
            _ => Ok(targets),
        }
    }

    /// The endpoint's base URL; for a loopback or insecure host, whether it
    /// speaks HTTPS or plain HTTP is found out once, by the version check
    /// `GET /v2/`, whose challenge is kept. Both schemes are asked at once
    /// (HTTPS wins when both answer): in turn, a plain-HTTP registry would
    /// cost a failed TLS handshake's round trips first, which a far one
    /// makes dear.
    async fn base_url(
        &self,
        registry: &str,
        state: &EndpointState,
        http: &reqwest::Client,
    ) -> Result<url::Url> {
        let endpoint = &state.endpoint;
        if endpoint.scheme == SchemePolicy::Fixed {
            return Ok(endpoint.base.clone());
        }
        state
            .base
            .get_or_try_init(|| async {
                let https = endpoint.base.clone();
                let mut plain = https.clone();
                let _ = plain.set_scheme("http");
                let (https_answer, plain_answer) = tokio::join!(
                    self.version_check(registry, &https, http),
                    self.version_check(registry, &plain, http)
                );
                let https_error = match https_answer {
                    Ok(_) => return Ok(https),
                    Err(e) => e,
                };
                if !https_error.is_connect() {
                    return Err(https_error.into_error(format!("checking {registry} at {https}")));
                }
                let plain_answer = match plain_answer {
                    Ok(status) if status == 200 || status == 401 => return Ok(plain),
                    Ok(status) => format!("HTTP {status}"),
                    Err(e) => e.root_cause(),
                };
                Err(https_error.into_error(format!(
                    "checking {registry}: neither {https} nor {plain} answered as a registry (over plain HTTP: {plain_answer})"
                )))
            })
            .await
            .cloned()
    }

    async fn version_check(
        &self,
        registry: &str,
        base: &url::Url,
        http: &reqwest::Client,
    ) -> std::result::Result<u16, crate::transport::SendError> {
        let url = format!("{}/", base.as_str().trim_end_matches('/'));
        let response = send_watched(
            http.get(url),
            &Progress::new(),
            self.inner.options.idle_timeout,
        )
        .await?;
        let status = response.status().as_u16();
        if status == 401
            && let Some(challenge) = challenge_of(&response)
        {
            self.inner
                .auth
                .learn(&crate::hosts::authority(base), challenge);
        }
        tracing::debug!(registry, %base, status, "version check");
        Ok(status)
    }

    /// Sends `call` to `target`: adds auth, answers one challenge, retries
    /// server errors and broken connections with backoff. Returns the
    /// response whatever its status, except 401 (an error).
    pub(crate) async fn execute(
        &self,
        target: &Target,
        mut call: Call,
    ) -> Result<reqwest::Response> {
        let options = &self.inner.options;
        let attempts = if call.retry {
            options.retry.attempts
        } else {
            1
        };
        let mut attempt = 0u32;
        let mut challenged = false;
        loop {
            attempt += 1;
            let auth = self
                .inner
                .auth
                .authorize(
                    &target.http,
                    &target.authority,
                    &target.registry,
                    &call.scopes,
                )
                .await
                .map_err(|e| e.within(&call.context))?;
            let mut builder = target.http.request(call.method.clone(), call.url.clone());
            for (name, value) in &target.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            for (name, value) in &call.headers {
                builder = builder.header(*name, value.as_str());
            }
            if let Some(header) = &auth.header {
                builder = builder.header("Authorization", header.as_str());
            }
            builder = match &mut call.body {
                CallBody::Empty => builder,
                CallBody::Bytes(bytes) => builder.body(bytes.clone()),
                CallBody::Stream(stream) => match stream.take() {
                    Some(body) => builder.body(body),
                    None => {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            format!("{}: body already sent", call.context),
                        ));
                    }
                },
            };
            let replayable = call.replayable();
            tracing::debug!(method = %call.method, url = %call.url, "request");
            let response = match send_watched(builder, &call.progress, options.idle_timeout).await {
                Ok(response) => response,
                Err(e) => {
                    if e.retryable() && replayable && attempt < attempts {
                        tracing::debug!(context = %call.context, attempt, "retrying after a transport error");
                        tokio::time::sleep(options.retry.backoff(attempt)).await;
                        continue;
                    }
                    return Err(e.into_error(call.context));
                }
            };
            let status = response.status().as_u16();
            tracing::debug!(method = %call.method, url = %call.url, status, version = ?response.version(), "response");
            if status == 401 {
                let challenge = challenge_of(&response);
                if !challenged
                    && replayable
                    && let Some(challenge) = challenge.clone()
                {
                    challenged = true;
                    attempt -= 1;
                    self.inner.auth.forget(&target.authority, &auth);
                    self.inner.auth.learn(&target.authority, challenge);
                    continue;
                }
                return Err(self
                    .refused(target, response, call.context, &auth, challenge)
                    .await);
            }
            if retryable_status(status) && replayable && attempt < attempts {
                let wait = retry_after(&response)
                    .unwrap_or_else(|| options.retry.backoff(attempt))
                    .min(options.retry.max_backoff);
                tracing::debug!(context = %call.context, status, attempt, "retrying after a server error");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(response);
        }
    }

    /// The error for a final 401: unauthenticated, or denied when
    /// credentials were sent and the registry says the scope is not enough.
    async fn refused(
        &self,
        target: &Target,
        response: reqwest::Response,
        context: String,
        attempt: &Attempt,
        challenge: Option<Challenge>,
    ) -> Error {
        let credentials = self
            .inner
            .auth
            .credentials(&target.authority)
            .await
            .unwrap_or_default();
        let insufficient = matches!(&challenge, Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope");
        let answered = status_error(response, context.clone()).await;
        let (kind, hint) = if credentials.is_anonymous() {
            (
                ErrorKind::Unauthenticated,
                format!(
                    "no credentials are configured for {} (log in first)",
                    target.authority
                ),
            )
        } else if insufficient && attempt.header.is_some() {
            (
                ErrorKind::Denied,
                format!("the credentials for {} do not allow this", target.authority),
            )
        } else {
            (
                ErrorKind::Unauthenticated,
                format!("{} refused the credentials", target.authority),
            )
        };
        Error::new(kind, format!("{context}: {hint}"))
            .with_status(401)
            .with_registry_errors(answered.registry_errors().to_vec())
    }

    /// Opens up to `connections` more connections to the endpoint `registry`
    /// pulls from (pushes to, for a [`Client::pushing`] client), in the
    /// background, so that the requests an operation
    /// makes in parallel a round trip or two later (manifests, then blobs)
    /// find them open instead of each paying a TCP (and TLS) handshake, a
    /// round trip or more apiece from a far registry. Each is an
    /// unauthenticated version check, `GET /v2/`; its challenge is left
    /// alone (the real requests learn theirs, with their scopes).
    /// Dropping the returned [`Preconnect`] abandons what has not finished;
    /// failures are ignored (the real requests report them).
    pub fn preconnect(&self, registry: &str, connections: usize) -> Preconnect {
        let client = self.clone();
        let registry = registry.to_owned();
        let task = tokio::spawn(async move {
            let Ok(targets) = client.targets(&registry, Need::Pull).await else {
                return;
            };
            let Some(target) = targets.into_iter().next() else {
                return;
            };
            if connections == 0 {
                return;
            }
            // Over TLS HTTP/2 may be negotiated, and then one connection
            // carries every request: the first check finds out, and only
            // HTTP/1.1 gets the others. A client that never offers HTTP/2
            // opens them all at once.
            let mut rest = connections;
            if client.offers_http2(Need::Pull) && target.base.scheme() == "https" {
                rest -= 1;
                match client.warm(&target).await {
                    Some(version) if version < reqwest::Version::HTTP_2 => {}
                    _ => return,
                }
            }
            let checks = (0..rest).map(|_| client.warm(&target));
            futures_util::future::join_all(checks).await;
        });
        Preconnect(task)
    }

    /// One version check on `target`, its body read so the connection goes
    /// back to the pool; the HTTP version it was answered in.
    async fn warm(&self, target: &Target) -> Option<reqwest::Version> {
        let url = target.url("/").ok()?;
        let mut request = target.http.get(url);
        for (name, value) in &target.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = send_watched(request, &Progress::new(), self.inner.options.idle_timeout)
            .await
            .ok()?;
        let version = response.version();
        let _ = crate::transport::read_limited(response, 64 * 1024).await;
        Some(version)
    }

    /// Runs `operation` on each endpoint able to do `need`, mirrors first,
    /// until one succeeds. A mirror's failure moves on to the next endpoint;
    /// the last endpoint's failure is returned.
    pub(crate) async fn on_targets<T, F, Fut>(
        &self,
        registry: &str,
        need: Need,
        operation: F,
    ) -> Result<T>
    where
        F: Fn(Target) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let targets = self.targets(registry, need).await?;
        let count = targets.len();
        let mut last_error = None;
        for (index, target) in targets.into_iter().enumerate() {
            let is_mirror = target.is_mirror;
            let base = target.base.clone();
            match operation(target).await {
                Ok(value) => return Ok(value),
                Err(e) if is_mirror && index + 1 < count => {
                    tracing::debug!(mirror = %base, error = %e, "mirror failed; trying the next endpoint");
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                format!("no endpoint answered for {registry}"),
            )
        }))
    }
}

/// Connections being opened by [`Client::preconnect`]; dropping it abandons
/// those not yet open.
#[derive(Debug)]
pub struct Preconnect(tokio::task::JoinHandle<()>);

impl Drop for Preconnect {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The preferred challenge of a response's `WWW-Authenticate` headers.
pub(crate) fn challenge_of(response: &reqwest::Response) -> Option<Challenge> {
    let mut all = Vec::new();
    for value in response.headers().get_all("www-authenticate") {
        if let Ok(text) = value.to_str()
            && let Ok(parsed) = Challenge::parse_all(text)
        {
            all.extend(parsed);
        }
    }
    Challenge::pick(all)
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use hoist_content::Digest;

    use super::*;
    use crate::{BytesSource, ManifestTarget, PushBlobOptions, Repository};

    fn is_send<T: Send>(_: &T) {}

    #[test]
    fn clients_and_their_operations_can_move_between_threads() {
        let client = Client::new(ClientOptions::default()).unwrap();
        is_send(&client);
        let repository: Repository = "localhost/a".parse().unwrap();
        let reference = repository.tagged("v1").unwrap();
        let digest = Digest::sha256_of(b"");
        let source = BytesSource(Bytes::new());
        let options = PushBlobOptions::default();
        is_send(&client.resolve(&reference));
        is_send(&client.get_manifest(&reference));
        is_send(&client.fetch_manifest(&repository, &digest));
        is_send(&client.put_manifest(&repository, ManifestTarget::Digest, "x", Bytes::new()));
        is_send(&client.blob_exists(&repository, &digest));
        is_send(&client.fetch_blob(&repository, &digest, 0));
        is_send(&client.mount_blob(&repository, &digest, &repository));
        is_send(&client.push_blob(&repository, &digest, 0, &source, &options));
    }
}
