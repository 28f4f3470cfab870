//! The [`Platform`] value type: fields, constructors, serde and string forms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Error, format, host, normalize, parse};

/// The platform an image, or one manifest of an index, is built for.
///
/// Field for field the OCI image-spec `platform` object; serde uses its JSON
/// names (`os`, `architecture`, `variant`, `os.version`, `os.features`). Unlike
/// `oci_spec::image::Platform` it keeps `os.version` and `os.features` when
/// read from JSON, and it tolerates an entry that lacks `os` or `architecture`
/// (both then read as empty and such a platform never matches a real one).
///
/// A `Platform` holds what it was given. Compare platforms after
/// [`normalize`](crate::normalize) (the matchers do that for you); [`parse`]
/// already returns normalized values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system in Go's `GOOS` spelling: `linux`, `windows`, `darwin`, ...
    #[serde(default)]
    pub os: String,
    /// CPU architecture in Go's `GOARCH` spelling: `amd64`, `arm64`, `arm`, `386`, ...
    #[serde(default)]
    pub architecture: String,
    /// CPU variant: `v7` for `arm/v7`, `v8.2` for `arm64/v8.2`, `v3` for `amd64/v3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version, e.g. `10.0.17763.1234` on Windows. Only Windows matching looks at it.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features the image requires of its host, e.g. `win32k`.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub os_features: Vec<String>,
}

/// Reads a JSON `null` as an empty list: some writers emit `"os.features": null`.
fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}

impl Platform {
    /// A platform with just an OS and an architecture, taken as given (not normalized).
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            ..Platform::default()
        }
    }

    /// This platform with `variant` set.
    #[must_use]
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = Some(variant.into());
        self
    }

    /// This platform with `os_version` set.
    #[must_use]
    pub fn with_os_version(mut self, os_version: impl Into<String>) -> Self {
        self.os_version = Some(os_version.into());
        self
    }

    /// This platform with `os_features` set.
    #[must_use]
    pub fn with_os_features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.os_features = features.into_iter().map(Into::into).collect();
        self
    }

    /// The platform this process runs on, normalized: `linux/amd64` on an
    /// x86-64 Linux, `linux/arm/v7` on a Raspberry Pi OS, and so on.
    ///
    /// On 32-bit ARM Linux the variant is read once from `/proc/cpuinfo`, as
    /// containerd does; on every other host nothing is read. A valid
    /// [`HOST_PLATFORM_ENV`](crate::HOST_PLATFORM_ENV) takes precedence.
    pub fn host() -> Platform {
        host::host_platform().clone()
    }

    /// The variant, or `""` when there is none.
    pub fn variant_str(&self) -> &str {
        self.variant.as_deref().unwrap_or("")
    }

    /// The OS version, or `""` when there is none.
    pub fn os_version_str(&self) -> &str {
        self.os_version.as_deref().unwrap_or("")
    }

    /// This platform normalized; see [`normalize`](crate::normalize).
    #[must_use]
    pub fn normalized(&self) -> Platform {
        normalize(self.clone())
    }

    /// `os/arch[/variant]`; see [`format()`](crate::format()). Same as `to_string()`.
    pub fn format(&self) -> String {
        format::format(self)
    }

    /// `os[(version+features)]/arch[/variant]`; see [`format_all`](crate::format_all).
    pub fn format_all(&self) -> String {
        format::format_all(self)
    }
}

/// Writes [`format()`](crate::format()): `os/arch[/variant]`, or `unknown` without an OS.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::write_format(f, self)
    }
}

/// Same as [`parse`](crate::parse).
impl FromStr for Platform {
    type Err = Error;

    fn from_str(specifier: &str) -> Result<Self, Error> {
        parse(specifier)
    }
}
