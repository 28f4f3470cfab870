//! Matching a candidate against one wanted platform (containerd's `NewMatcher`).

use crate::windows::WindowsVersion;
use crate::{Platform, normalize};

/// The OS feature Windows Server Core images declare and Nano Server lacks;
/// containerd ignores it when matching Windows images.
const WIN32K: &str = "win32k";

/// One wanted platform, normalized, ready to test candidates against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    platform: Platform,
    /// Set for a Windows target: its `os.version` decides which image
    /// `os.version`s it runs.
    windows_version: Option<WindowsVersion>,
}

impl Target {
    /// A target for `platform`, normalized first.
    pub(crate) fn new(platform: Platform) -> Target {
        let platform = normalize(platform);
        let windows_version =
            (platform.os == "windows").then(|| WindowsVersion::parse(platform.os_version_str()));
        Target {
            platform,
            windows_version,
        }
    }

    /// Whether `candidate`, already [normalized](crate::normalize), runs on
    /// this target: same OS, architecture and variant; on Windows an
    /// `os.version` the target's version runs; every OS feature it requires
    /// among the target's (`win32k` ignored on Windows). A candidate without
    /// an OS or an architecture never matches.
    pub(crate) fn matches_normalized(&self, candidate: &Platform) -> bool {
        if candidate.os.is_empty() || candidate.architecture.is_empty() {
            return false;
        }
        let wanted = &self.platform;
        if candidate.os != wanted.os
            || candidate.architecture != wanted.architecture
            || candidate.variant != wanted.variant
        {
            return false;
        }
        if let Some(host) = self.windows_version
            && !host.runs(candidate.os_version_str())
        {
            return false;
        }
        candidate
            .os_features
            .iter()
            .filter(|feature| self.windows_version.is_none() || feature.as_str() != WIN32K)
            .all(|feature| wanted.os_features.binary_search(feature).is_ok())
    }
}
