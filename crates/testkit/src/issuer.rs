//! A small token issuer for distribution's token auth: answers `GET` with
//! Basic credentials (how skopeo asks) and `POST` with an OAuth2 password or
//! refresh-token grant (how containerd asks), and signs RS256 JWTs carrying
//! the claims the registry checks: `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`,
//! `jti` and `access`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::net::TcpStream;

use crate::background::Background;
use crate::error::{Error, Result};
use crate::http1::{self, Head};
use crate::jwt::Signer;
use crate::pki::SigningIdentity;

/// The `service` the registry and the issuer agree on (the token's `aud`).
pub const SERVICE: &str = "hoist-test-registry";
/// The issuer's name (the token's `iss`).
pub const ISSUER: &str = "hoist-testkit-issuer";

/// A user the issuer knows and what it may do.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user name.
    pub name: String,
    /// The password.
    pub password: String,
    /// Actions granted on every repository, e.g. `["pull", "push"]`.
    pub actions: Vec<String>,
}

impl TestUser {
    /// A user allowed to pull and push everywhere.
    pub fn pusher(name: &str, password: &str) -> TestUser {
        TestUser {
            name: name.to_owned(),
            password: password.to_owned(),
            actions: vec!["pull".to_owned(), "push".to_owned()],
        }
    }

    /// A user allowed only to pull.
    pub fn puller(name: &str, password: &str) -> TestUser {
        TestUser {
            name: name.to_owned(),
            password: password.to_owned(),
            actions: vec!["pull".to_owned()],
        }
    }
}

/// How the issuer behaves.
#[derive(Debug, Clone)]
pub struct IssuerOptions {
    /// Known users.
    pub users: Vec<TestUser>,
    /// Actions granted without credentials (empty: anonymous gets a token
    /// with no access, which the registry then refuses).
    pub anonymous_actions: Vec<String>,
    /// Whether `GET` token requests are served (else 404).
    pub accept_get: bool,
    /// Whether `POST` (OAuth2) token requests are served (else 404).
    pub accept_post: bool,
    /// Token lifetime in seconds (`expires_in`, and `exp - iat`).
    pub expires_in: u64,
    /// Refresh tokens known from the start, each for a user name (as a
    /// `docker login` would have stored an `identitytoken`).
    pub refresh_tokens: Vec<(String, String)>,
}

impl Default for IssuerOptions {
    fn default() -> Self {
        IssuerOptions {
            users: vec![TestUser::pusher("alice", "wonderland")],
            anonymous_actions: Vec::new(),
            accept_get: true,
            accept_post: true,
            expires_in: 300,
            refresh_tokens: Vec::new(),
        }
    }
}

/// Counts of what the issuer was asked, for tests of token caching and of
/// the choice between GET and POST.
#[derive(Debug, Default)]
pub struct IssuerStats {
    get_requests: AtomicU64,
    post_requests: AtomicU64,
    refused: AtomicU64,
}

impl IssuerStats {
    /// Token requests made by `GET`.
    pub fn get_requests(&self) -> u64 {
        self.get_requests.load(Ordering::SeqCst)
    }
    /// Token requests made by `POST`.
    pub fn post_requests(&self) -> u64 {
        self.post_requests.load(Ordering::SeqCst)
    }
    /// Requests answered with an error (bad credentials, unsupported method).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }
}

struct State {
    options: IssuerOptions,
    signer: Signer,
    stats: Arc<IssuerStats>,
    next_id: AtomicU64,
    refresh_tokens: Mutex<HashMap<String, String>>,
}

/// A running token issuer; stops when dropped.
pub struct TokenIssuer {
    _background: Background,
    realm: String,
    stats: Arc<IssuerStats>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// Starts an issuer on a free loopback port, signing with `identity`.
    ///
    /// # Errors
    /// When the key cannot be loaded or the port not bound.
    pub fn start(options: IssuerOptions, identity: &SigningIdentity) -> Result<TokenIssuer> {
        let signer = Signer::new(&identity.key_pkcs8_der, identity.cert_der.clone())?;
        let background = Background::new("issuer")?;
        let listener = background.bind_loopback("token issuer")?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::net("reading the issuer's address", e))?;
        let stats = Arc::new(IssuerStats::default());
        let state = Arc::new(State {
            options,
            signer,
            stats: Arc::clone(&stats),
            next_id: AtomicU64::new(1),
            refresh_tokens: Mutex::new(HashMap::new()),
        });
        if let Ok(mut tokens) = state.refresh_tokens.lock() {
            tokens.extend(state.options.refresh_tokens.iter().cloned());
        }
        let handle = background
            .handle()
            .ok_or_else(|| Error::Other("the issuer runtime is gone".to_owned()))?;
        handle.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    // A broken client connection concerns only that client.
                    let _ = serve(stream, &state).await;
                });
            }
        });
        Ok(TokenIssuer {
            _background: background,
            realm: format!("http://{address}/token"),
            stats,
        })
    }

    /// The token endpoint, the registry's `realm`.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// What the issuer has been asked so far.
    pub fn stats(&self) -> &IssuerStats {
        &self.stats
    }
}

async fn serve(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    let Some((head, rest)) = http1::read_request(&mut stream).await? else {
        return Ok(());
    };
    let body = http1::read_body(&mut stream, &head, rest).await?;
    let (status, json) = answer(&head, &body, state);
    if status != 200 {
        state.stats.refused.fetch_add(1, Ordering::SeqCst);
    }
    http1::write_response(
        &mut stream,
        status,
        &[("Content-Type", "application/json".to_owned())],
        json.to_string().as_bytes(),
    )
    .await
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "error": code, "error_description": message,
        "errors": [{ "code": "UNAUTHORIZED", "message": message }] })
}

fn answer(head: &Head, body: &[u8], state: &State) -> (u16, serde_json::Value) {
    let (path, query) = head.path.split_once('?').unwrap_or((&head.path, ""));
    if path != "/token" {
        return (404, error_body("not_found", "no such endpoint"));
    }
    match head.method.as_str() {
        "GET" => {
            state.stats.get_requests.fetch_add(1, Ordering::SeqCst);
            if !state.options.accept_get {
                return (404, error_body("unsupported", "GET is not served here"));
            }
            let params = parse_form(query.as_bytes());
            let user = match head.header("authorization") {
                None => None,
                Some(value) => match basic_user(value, state) {
                    Some(user) => Some(user),
                    None => return (401, error_body("invalid_grant", "bad credentials")),
                },
            };
            let scopes = params_all(&params, "scope");
            match issue(state, user.as_ref(), &scopes) {
                Ok(token) => (
                    200,
                    serde_json::json!({
                        "token": token,
                        "access_token": token,
                        "expires_in": state.options.expires_in,
                    }),
                ),
                Err(message) => (500, error_body("server_error", &message)),
            }
        }
        "POST" => {
            state.stats.post_requests.fetch_add(1, Ordering::SeqCst);
            if !state.options.accept_post {
                return (404, error_body("unsupported", "POST is not served here"));
            }
            let params = parse_form(body);
            let user = match param(&params, "grant_type") {
                Some("password") => {
                    let name = param(&params, "username").unwrap_or_default();
                    let password = param(&params, "password").unwrap_or_default();
                    match find_user(state, name, password) {
                        Some(user) => user,
                        None => return (401, error_body("invalid_grant", "bad credentials")),
                    }
                }
                Some("refresh_token") => {
                    let presented = param(&params, "refresh_token").unwrap_or_default();
                    let known = state
                        .refresh_tokens
                        .lock()
                        .ok()
                        .and_then(|tokens| tokens.get(presented).cloned());
                    match known.and_then(|name| {
                        state.options.users.iter().find(|u| u.name == name).cloned()
                    }) {
                        Some(user) => user,
                        None => return (401, error_body("invalid_grant", "unknown refresh token")),
                    }
                }
                _ => {
                    return (
                        400,
                        error_body(
                            "unsupported_grant_type",
                            "grant_type must be password or refresh_token",
                        ),
                    );
                }
            };
            let scopes: Vec<String> = params_all(&params, "scope")
                .iter()
                .flat_map(|s| s.split(' ').map(str::to_owned).collect::<Vec<_>>())
                .filter(|s| !s.is_empty())
                .collect();
            let token = match issue(state, Some(&user), &scopes) {
                Ok(token) => token,
                Err(message) => return (500, error_body("server_error", &message)),
            };
            let mut response = serde_json::json!({
                "access_token": token,
                "expires_in": state.options.expires_in,
                "scope": scopes.join(" "),
            });
            if param(&params, "access_type") == Some("offline") {
                let refresh = format!(
                    "refresh-{}-{}",
                    user.name,
                    state.next_id.fetch_add(1, Ordering::SeqCst)
                );
                if let Ok(mut tokens) = state.refresh_tokens.lock() {
                    tokens.insert(refresh.clone(), user.name.clone());
                }
                response["refresh_token"] = serde_json::Value::String(refresh);
            }
            (200, response)
        }
        _ => (405, error_body("unsupported", "only GET and POST")),
    }
}

fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn params_all(params: &[(String, String)], name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn basic_user(header: &str, state: &State) -> Option<TestUser> {
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    find_user(state, name, password)
}

fn find_user(state: &State, name: &str, password: &str) -> Option<TestUser> {
    state
        .options
        .users
        .iter()
        .find(|u| u.name == name && u.password == password)
        .cloned()
}

/// Grants, for each `repository:<name>:<actions>` scope, the requested
/// actions the user (or anonymous) is allowed.
fn issue(
    state: &State,
    user: Option<&TestUser>,
    scopes: &[String],
) -> std::result::Result<String, String> {
    let allowed: &[String] = match user {
        Some(user) => &user.actions,
        None => &state.options.anonymous_actions,
    };
    let mut access = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')) {
        let mut parts = scope.splitn(3, ':');
        let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let granted: Vec<&str> = actions
            .split(',')
            .filter(|a| allowed.iter().any(|x| x == a || x == "*"))
            .collect();
        access.push(serde_json::json!({ "type": kind, "name": name, "actions": granted }));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": user.map(|u| u.name.as_str()).unwrap_or(""),
        "aud": SERVICE,
        "exp": now + state.options.expires_in,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": state.next_id.fetch_add(1, Ordering::SeqCst).to_string(),
        "access": access,
    });
    state.signer.sign(&claims).map_err(|e| e.to_string())
}
