//! Which blobs `walk` visits.

use crate::digest::{Algorithm, Digest};
use crate::records::Info;

/// A conjunction of conditions on a blob; [`Filter::all`] has none.
///
/// ```
/// use hoist_content::{Algorithm, Filter};
/// let filter = Filter::all().algorithm(Algorithm::Sha256).label("containerd.io/gc.root", None);
/// assert_eq!(filter.algorithm_condition(), Some(Algorithm::Sha256));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    algorithm: Option<Algorithm>,
    digest_prefix: Option<String>,
    labels: Vec<(String, Option<String>)>,
}

impl Filter {
    /// Matches every blob.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Only blobs of `algorithm`.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Filter {
        self.algorithm = Some(algorithm);
        self
    }

    /// Only blobs whose digest string (`sha256:ab…`) starts with `prefix`.
    pub fn digest_prefix(mut self, prefix: impl Into<String>) -> Filter {
        self.digest_prefix = Some(prefix.into());
        self
    }

    /// Only blobs carrying label `key`, with `value` if given. Stores that keep
    /// no labels (the local store) match no blob against a label condition.
    pub fn label(mut self, key: impl Into<String>, value: Option<&str>) -> Filter {
        self.labels.push((key.into(), value.map(str::to_owned)));
        self
    }

    /// The algorithm condition, if any.
    pub fn algorithm_condition(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// The digest prefix condition, if any.
    pub fn digest_prefix_condition(&self) -> Option<&str> {
        self.digest_prefix.as_deref()
    }

    /// The label conditions: key and, if required, value.
    pub fn label_conditions(&self) -> &[(String, Option<String>)] {
        &self.labels
    }

    /// Whether a blob with this digest can match (every condition but labels).
    pub fn matches_digest(&self, digest: &Digest) -> bool {
        self.algorithm.is_none_or(|a| a == digest.algorithm())
            && self
                .digest_prefix
                .as_deref()
                .is_none_or(|p| digest.as_str().starts_with(p))
    }

    /// Whether `info` satisfies every condition.
    pub fn matches(&self, info: &Info) -> bool {
        self.matches_digest(&info.digest)
            && self.labels.iter().all(|(key, value)| {
                info.labels
                    .get(key)
                    .is_some_and(|have| value.as_deref().is_none_or(|want| want == have))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::records::Labels;

    fn info(bytes: &[u8], labels: &[(&str, &str)]) -> Info {
        Info {
            digest: Digest::sha256_of(bytes),
            size: bytes.len() as u64,
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Labels>(),
        }
    }

    #[test]
    fn conditions_combine() {
        let a = info(b"a", &[("k", "v")]);
        assert!(Filter::all().matches(&a));
        assert!(Filter::all().algorithm(Algorithm::Sha256).matches(&a));
        assert!(!Filter::all().algorithm(Algorithm::Sha512).matches(&a));
        let prefix = &a.digest.as_str()[..10];
        assert!(Filter::all().digest_prefix(prefix).matches(&a));
        assert!(!Filter::all().digest_prefix("sha256:zz").matches(&a));
        assert!(Filter::all().label("k", None).matches(&a));
        assert!(Filter::all().label("k", Some("v")).matches(&a));
        assert!(!Filter::all().label("k", Some("w")).matches(&a));
        assert!(!Filter::all().label("other", None).matches(&a));
        assert!(!Filter::all().label("k", None).matches(&info(b"b", &[])));
    }
}
