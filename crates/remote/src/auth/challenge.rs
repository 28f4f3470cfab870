//! `WWW-Authenticate` challenges (RFC 7235), parsed by the `http-auth`
//! crate's tokenizer, reduced to the two schemes registries use.

use crate::error::{Error, ErrorKind, Result};

/// What a registry asked for in a 401 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`: send the user name and password with each request.
    Basic {
        /// The realm (informational).
        realm: String,
    },
    /// `Bearer realm="…",service="…",scope="…"`: get a token from `realm`.
    Bearer {
        /// The token endpoint URL.
        realm: String,
        /// The `service` parameter to pass to it (the token's audience).
        service: Option<String>,
        /// Scopes the registry wants, each `type:name:actions`.
        scopes: Vec<String>,
        /// `error="insufficient_scope"` and the like, if given.
        error: Option<String>,
    },
}

impl Challenge {
    /// Parses one `WWW-Authenticate` header value, which may hold several
    /// challenges; schemes other than Basic and Bearer are skipped.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the value is not a valid challenge list,
    /// or a Bearer challenge has no realm.
    pub fn parse_all(header: &str) -> Result<Vec<Challenge>> {
        let parsed = http_auth::parse_challenges(header).map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!("invalid WWW-Authenticate header {header:?}: {e}"),
            )
        })?;
        let mut challenges = Vec::new();
        for challenge in parsed {
            let param = |name: &str| {
                challenge
                    .params
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_unescaped())
            };
            if challenge.scheme.eq_ignore_ascii_case("basic") {
                challenges.push(Challenge::Basic {
                    realm: param("realm").unwrap_or_default(),
                });
            } else if challenge.scheme.eq_ignore_ascii_case("bearer") {
                let realm = param("realm").filter(|r| !r.is_empty()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!("Bearer challenge without a realm in {header:?}"),
                    )
                })?;
                challenges.push(Challenge::Bearer {
                    realm,
                    service: param("service"),
                    scopes: param("scope")
                        .map(|s| {
                            s.split(' ')
                                .filter(|x| !x.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    error: param("error"),
                });
            }
        }
        Ok(challenges)
    }

    /// The preferred challenge among several: Bearer over Basic.
    pub fn pick(challenges: Vec<Challenge>) -> Option<Challenge> {
        let mut basic = None;
        for challenge in challenges {
            match challenge {
                Challenge::Bearer { .. } => return Some(challenge),
                Challenge::Basic { .. } => basic = basic.or(Some(challenge)),
            }
        }
        basic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_give_realm_service_and_scopes() {
        let parsed = Challenge::parse_all(
            r#"Bearer realm="http://127.0.0.1:9/token",service="reg",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            vec![Challenge::Bearer {
                realm: "http://127.0.0.1:9/token".to_owned(),
                service: Some("reg".to_owned()),
                scopes: vec![
                    "repository:a/b:pull,push".to_owned(),
                    "repository:c:pull".to_owned()
                ],
                error: Some("insufficient_scope".to_owned()),
            }]
        );
    }

    #[test]
    fn basic_and_unknown_schemes() {
        let parsed = Challenge::parse_all(
            r#"Negotiate a=b, Basic realm="Registry Realm", Bearer realm="https://auth/t""#,
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(matches!(&parsed[0], Challenge::Basic { realm } if realm == "Registry Realm"));
        assert!(matches!(
            Challenge::pick(parsed),
            Some(Challenge::Bearer { service: None, .. })
        ));
        let basic_only = Challenge::parse_all(r#"basic realm=x"#).unwrap();
        assert!(matches!(
            Challenge::pick(basic_only),
            Some(Challenge::Basic { .. })
        ));
    }

    #[test]
    fn quoted_escapes_are_unescaped() {
        let parsed = Challenge::parse_all(r#"Bearer realm="http://h/t?a=\"q\"""#).unwrap();
        assert!(
            matches!(&parsed[0], Challenge::Bearer { realm, .. } if realm == "http://h/t?a=\"q\"")
        );
    }

    #[test]
    fn malformed_challenges_are_protocol_errors() {
        let error = Challenge::parse_all(r#"Bearer realm="unterminated"#).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Protocol);
        let error = Challenge::parse_all(r#"Bearer service="x""#).unwrap_err();
        assert!(error.to_string().contains("without a realm"));
    }
}
