//! Asking a token service for a bearer token: `GET` with Basic credentials
//! (Docker's token spec) or `POST` with an OAuth2 password or refresh-token
//! grant (distribution's OAuth spec), as the credentials and the service
//! allow.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::auth::credentials::{Credentials, Secret};
use crate::auth::scope::Scopes;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::{Progress, SendError, read_limited, send_watched, status_error};

/// How user name and password are exchanged for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMethod {
    /// `GET` with Basic credentials; `POST` (password grant) when the
    /// service answers the `GET` with 404 or 405. What Docker does.
    #[default]
    Auto,
    /// `GET` with Basic credentials only.
    Get,
    /// `POST` with an OAuth2 password grant; `GET` when the service does not
    /// serve the `POST` (404, 405). What containerd does.
    Post,
}

/// A token fetched, with how long it may be used.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub token: Secret,
    pub lifetime: Duration,
}

/// The client id sent with OAuth2 requests.
const CLIENT_ID: &str = "hoist";
/// Lifetime assumed when the service names none (the token spec's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Token responses are small; anything bigger is not one.
const MAX_TOKEN_RESPONSE: u64 = 1024 * 1024;

pub(crate) struct TokenRequest<'a> {
    pub realm: &'a str,
    pub service: Option<&'a str>,
    pub scopes: &'a Scopes,
    pub credentials: &'a Credentials,
    pub method: TokenMethod,
    /// The registry the token is for, for messages.
    pub registry: &'a str,
    pub idle_timeout: Duration,
}

pub(crate) async fn fetch_token(
    http: &reqwest::Client,
    request: &TokenRequest<'_>,
) -> Result<IssuedToken> {
    match (request.credentials, request.method) {
        (Credentials::IdentityToken(refresh), _) => {
            post(http, request, Grant::Refresh(refresh)).await
        }
        (Credentials::Anonymous, _) => get(http, request).await,
        (Credentials::Basic { username, password }, TokenMethod::Post) => {
            match post(http, request, Grant::Password(username, password)).await {
                Err(e) if e.kind() == ErrorKind::Unsupported || e.kind() == ErrorKind::NotFound => {
                    get(http, request).await
                }
                other => other,
            }
        }
        (Credentials::Basic { username, password }, TokenMethod::Auto) => {
            match get(http, request).await {
                Err(e) if e.kind() == ErrorKind::Unsupported || e.kind() == ErrorKind::NotFound => {
                    post(http, request, Grant::Password(username, password)).await
                }
                other => other,
            }
        }
        (Credentials::Basic { .. }, TokenMethod::Get) => get(http, request).await,
    }
}

enum Grant<'a> {
    Password(&'a str, &'a Secret),
    Refresh(&'a Secret),
}

fn realm_url(request: &TokenRequest<'_>) -> Result<url::Url> {
    url::Url::parse(request.realm).map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "{} named an invalid token realm {:?}",
                request.registry, request.realm
            ),
        )
        .with_source(e)
    })
}

async fn get(http: &reqwest::Client, request: &TokenRequest<'_>) -> Result<IssuedToken> {
    let mut url = realm_url(request)?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = request.service {
            query.append_pair("service", service);
        }
        for scope in request.scopes.to_strings() {
            query.append_pair("scope", &scope);
        }
        if let Credentials::Basic { username, .. } = request.credentials {
            query.append_pair("account", username);
        }
    }
    let mut builder = http.get(url);
    if let Credentials::Basic { username, password } = request.credentials {
        let pair = format!("{username}:{}", password.expose());
        builder = builder.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
    }
    exchange(builder, request, "GET").await
}

async fn post(
    http: &reqwest::Client,
    request: &TokenRequest<'_>,
    grant: Grant<'_>,
) -> Result<IssuedToken> {
    let url = realm_url(request)?;
    // Built in a block: the serializer is not Send and must not live
    // across the await below.
    let form = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match grant {
            Grant::Password(username, password) => {
                form.append_pair("grant_type", "password");
                form.append_pair("username", username);
                form.append_pair("password", password.expose());
            }
            Grant::Refresh(token) => {
                form.append_pair("grant_type", "refresh_token");
                form.append_pair("refresh_token", token.expose());
            }
        }
        if let Some(service) = request.service {
            form.append_pair("service", service);
        }
        let scope = request.scopes.to_string();
        if !scope.is_empty() {
            form.append_pair("scope", &scope);
        }
        form.append_pair("client_id", CLIENT_ID);
        form.finish()
    };
    let builder = http
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form);
    exchange(builder, request, "POST").await
}

async fn exchange(
    builder: reqwest::RequestBuilder,
    request: &TokenRequest<'_>,
    method: &str,
) -> Result<IssuedToken> {
    let context = format!(
        "getting a token for {} from {} ({method}, scope {:?})",
        request.registry,
        request.realm,
        request.scopes.to_string()
    );
    let response = send_watched(builder, &Progress::new(), request.idle_timeout)
        .await
        .map_err(|e: SendError| e.into_error(context.clone()))?;
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        let error = status_error(response, context).await;
        let what = if request.credentials.is_anonymous() {
            "the token service wants credentials (none are configured for this registry)"
        } else {
            "the token service refused the credentials"
        };
        return Err(
            Error::new(ErrorKind::Unauthenticated, format!("{error}: {what}")).with_status(status),
        );
    }
    if !(200..300).contains(&status) {
        return Err(status_error(response, context).await);
    }
    let body = read_limited(response, MAX_TOKEN_RESPONSE)
        .await
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("{context}: the answer is not a token response"),
            )
        })?;
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<i64>,
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!("{context}: the answer is not JSON"),
        )
        .with_source(e)
    })?;
    let token = answer
        .access_token
        .or(answer.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("{context}: the answer holds no token"),
            )
        })?;
    let lifetime = answer
        .expires_in
        .and_then(|s| u64::try_from(s).ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok(IssuedToken {
        token: Secret::new(token),
        lifetime,
    })
}
