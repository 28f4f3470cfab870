//! Basic auth from an htpasswd file of bcrypt entries (`htpasswd -B`, what
//! docker-registry accepts too): every request, `/v2/` included, must carry
//! `Authorization: Basic` credentials of a listed user, or it is answered
//! 401 `UNAUTHORIZED` with a `Basic realm="hoist"` challenge.
//!
//! bcrypt is slow on purpose (cost 5 is about 2 ms, cost 10 about 60 ms), and
//! a pull sends its credentials with every one of its dozens of requests.
//! So a verified `Authorization` value is remembered, as the SHA-256 of the
//! header value, never the password, and later requests carrying it skip
//! bcrypt; the memory is bounded ([`MAX_REMEMBERED`]) and lives as long as
//! the server. Verification runs on the blocking pool, off the reactor.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hoist::content::Digest;
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;

use crate::api_error::ApiError;
use crate::error::{Error, Result};

/// The challenge of a 401: realm `hoist`.
pub(crate) const CHALLENGE: &str = "Basic realm=\"hoist\"";

/// Verified credentials remembered at most; past it the memory restarts
/// empty (a handful of users and machines is the expected use).
const MAX_REMEMBERED: usize = 1024;

/// The users of an htpasswd file, and the credentials already verified.
#[derive(Debug, Clone)]
pub(crate) struct BasicAuth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// user -> bcrypt hash.
    users: HashMap<String, String>,
    /// SHA-256 of `Authorization` values that verified.
    verified: Mutex<HashSet<Digest>>,
}

impl BasicAuth {
    /// Reads `path`: `user:hash` lines, bcrypt hashes only; blank lines and
    /// `#` comments are skipped.
    ///
    /// # Errors
    /// [`Error::Htpasswd`] naming the file (and line) that cannot be read,
    /// has a line that is not `user:hash`, an entry that is not bcrypt, or
    /// no user at all.
    pub(crate) fn load(path: &Path) -> Result<BasicAuth> {
        let text = fs_err::read_to_string(path).map_err(|e| invalid(path, e.to_string()))?;
        let mut users = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |reason: &str| invalid(path, format!("line {}: {reason}", number + 1));
            let Some((user, hash)) = line.split_once(':') else {
                return Err(at("expected user:hash"));
            };
            if user.is_empty() {
                return Err(at("the user name is empty"));
            }
            if !is_bcrypt(hash) {
                return Err(at(&format!(
                    "the entry for {user:?} is not bcrypt (write it with `htpasswd -B`)"
                )));
            }
            users.insert(user.to_owned(), hash.to_owned());
        }
        if users.is_empty() {
            return Err(invalid(path, "lists no user"));
        }
        Ok(BasicAuth {
            inner: Arc::new(Inner {
                users,
                verified: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// `Ok` when `headers` carry the credentials of a listed user.
    ///
    /// # Errors
    /// 401 `UNAUTHORIZED` when they carry none, or wrong ones.
    pub(crate) async fn check(&self, headers: &HeaderMap) -> std::result::Result<(), ApiError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized("authentication required"));
        };
        let key = Digest::sha256_of(value.as_bytes());
        if self.remembered(&key) {
            return Ok(());
        }
        let Some((user, password)) = credentials(value.as_bytes()) else {
            return Err(ApiError::unauthorized(
                "the Authorization header is not Basic credentials",
            ));
        };
        let this = self.clone();
        let verified = tokio::task::spawn_blocking(move || this.verify(&user, &password))
            .await
            .unwrap_or(false);
        if !verified {
            return Err(ApiError::unauthorized("invalid user name or password"));
        }
        if let Ok(mut remembered) = self.inner.verified.lock() {
            if remembered.len() >= MAX_REMEMBERED {
                remembered.clear();
            }
            remembered.insert(key);
        }
        Ok(())
    }

    fn remembered(&self, key: &Digest) -> bool {
        self.inner
            .verified
            .lock()
            .is_ok_and(|remembered| remembered.contains(key))
    }

    fn verify(&self, user: &str, password: &str) -> bool {
        match self.inner.users.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                // As slow as a wrong password, so timing does not tell
                // which user names exist.
                if let Some(any) = self.inner.users.values().next() {
                    let _ = bcrypt::verify(password, any);
                }
                false
            }
        }
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    Error::Htpasswd {
        path: PathBuf::from(path),
        reason: reason.into(),
    }
}

/// `$2a$`, `$2b$`, `$2x$` or `$2y$`, a two-digit cost, then the salt and
/// hash: the modular-crypt forms of bcrypt.
fn is_bcrypt(hash: &str) -> bool {
    let parts: Vec<&str> = hash.split('$').collect();
    matches!(parts.as_slice(), ["", "2a" | "2b" | "2x" | "2y", cost, rest]
        if cost.len() == 2 && cost.bytes().all(|b| b.is_ascii_digit()) && rest.len() == 53)
}

/// The user and password of a `Basic` Authorization value.
fn credentials(value: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(AUTHORIZATION, format!("Basic {encoded}").parse().unwrap());
        headers
    }

    #[tokio::test]
    async fn only_listed_users_with_their_password_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("htpasswd");
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        std::fs::write(&path, format!("# users\nalice:{hash}\n\n")).unwrap();
        let auth = BasicAuth::load(&path).unwrap();
        assert!(auth.check(&basic("alice", "s3cret")).await.is_ok());
        // Remembered: the second check takes the short path and still passes.
        assert!(auth.check(&basic("alice", "s3cret")).await.is_ok());
        for headers in [
            basic("alice", "wrong"),
            basic("bob", "s3cret"),
            basic("alice", ""),
            HeaderMap::new(),
        ] {
            let error = auth.check(&headers).await.unwrap_err();
            assert_eq!(error.code, "UNAUTHORIZED");
            assert_eq!(error.status, hyper::StatusCode::UNAUTHORIZED);
        }
        let mut bearer = HeaderMap::new();
        bearer.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert!(auth.check(&bearer).await.is_err());
    }

    #[test]
    fn files_that_are_not_bcrypt_htpasswd_are_refused_by_name_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("htpasswd");
        let hash = bcrypt::hash("x", 4).unwrap();
        for (contents, says) in [
            (format!("alice:{hash}\nbob:$apr1$abc$def\n"), "line 2"),
            ("alice\n".to_owned(), "user:hash"),
            ("# nobody\n".to_owned(), "no user"),
            (format!(":{hash}\n"), "empty"),
        ] {
            std::fs::write(&path, &contents).unwrap();
            let error = BasicAuth::load(&path).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("htpasswd") && text.contains(says), "{text}");
        }
        let missing = dir.path().join("missing");
        let error = BasicAuth::load(&missing).unwrap_err();
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[test]
    fn htpasswd_b_entries_are_recognized() {
        // As `htpasswd -nbB -C 5 user pw` prints it.
        assert!(is_bcrypt(
            "$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC"
        ));
        assert!(!is_bcrypt("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="));
        assert!(!is_bcrypt("$2y$5$short"));
    }
}
