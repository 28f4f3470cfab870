//! Token scopes (`repository:team/app:pull,push`): what an operation needs,
//! and whether a cached token's scopes cover it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A set of scopes, merged per resource: `repository:a:pull` and
/// `repository:a:push` are `repository:a:pull,push`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scopes {
    /// (type, name) -> actions.
    entries: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Scopes {
    /// No scopes (enough for `GET /v2/`).
    pub fn none() -> Scopes {
        Scopes::default()
    }

    /// `repository:<name>:pull`.
    pub fn pull(repository: &str) -> Scopes {
        Scopes::none().with("repository", repository, &["pull"])
    }

    /// `repository:<name>:pull,push`.
    pub fn push(repository: &str) -> Scopes {
        Scopes::none().with("repository", repository, &["pull", "push"])
    }

    /// Adds actions on a resource.
    pub fn with(mut self, kind: &str, name: &str, actions: &[&str]) -> Scopes {
        let entry = self
            .entries
            .entry((kind.to_owned(), name.to_owned()))
            .or_default();
        entry.extend(actions.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Adds a scope string `type:name:actions`; names may contain ':' (a
    /// registry host with a port), so the type is before the first colon and
    /// the actions after the last. Malformed strings are ignored.
    pub fn with_str(self, scope: &str) -> Scopes {
        let Some((kind, rest)) = scope.split_once(':') else {
            return self;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            return self;
        };
        let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
        self.with(kind, name, &actions)
    }

    /// Everything in `self` and in `other`.
    pub fn union(&self, other: &Scopes) -> Scopes {
        let mut merged = self.clone();
        for (key, actions) in &other.entries {
            merged
                .entries
                .entry(key.clone())
                .or_default()
                .extend(actions.iter().cloned());
        }
        merged
    }

    /// Whether every action in `needed` is in `self`.
    pub fn covers(&self, needed: &Scopes) -> bool {
        needed.entries.iter().all(|(key, actions)| {
            self.entries
                .get(key)
                .is_some_and(|have| actions.is_subset(have))
        })
    }

    /// Whether there is no scope at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Each scope as a string, for the `scope` parameters of a token request.
    pub fn to_strings(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|((kind, name), actions)| {
                let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
                format!("{kind}:{name}:{}", actions.join(","))
            })
            .collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_merge_and_cover() {
        let mount = Scopes::push("target").union(&Scopes::pull("source"));
        assert_eq!(
            mount.to_strings(),
            vec!["repository:source:pull", "repository:target:pull,push"]
        );
        assert!(mount.covers(&Scopes::pull("target")));
        assert!(mount.covers(&Scopes::pull("source")));
        assert!(!mount.covers(&Scopes::push("source")));
        assert!(mount.covers(&Scopes::none()));
        assert!(!Scopes::none().covers(&Scopes::pull("a")));
    }

    #[test]
    fn scope_strings_parse_with_colons_in_names() {
        let s = Scopes::none()
            .with_str("repository:a/b:pull,push")
            .with_str("repository:host:5000/x:pull")
            .with_str("garbage");
        assert!(s.covers(&Scopes::push("a/b")));
        assert!(s.covers(&Scopes::pull("host:5000/x")));
        assert_eq!(s.to_strings().len(), 2);
    }
}
