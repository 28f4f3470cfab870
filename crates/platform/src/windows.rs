//! Which Windows container OS versions a Windows host version can run
//! (containerd's `platform_windows_compat.go`, after Microsoft's table:
//! <https://learn.microsoft.com/en-us/virtualization/windowscontainers/deploy-containers/version-compatibility>).

/// Windows Server 2022 (21H2 server), the first release with a stable ABI:
/// from it on, a host runs containers of the previous LTSC up to its own build.
const LTSC2022: u16 = 20348;
/// Windows Server 2025.
const LTSC2025: u16 = 26100;
/// LTSC builds with a stable ABI, ascending.
const STABLE_ABI_LTSC_RELEASES: [u16; 2] = [LTSC2022, LTSC2025];

/// `major.minor.build` of a Windows `os.version` such as `10.0.17763.1234`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct WindowsVersion {
    major: u8,
    minor: u8,
    build: u16,
}

impl WindowsVersion {
    /// Reads `major.minor.build[.revision...]`; anything else reads as the
    /// all-zero version, as containerd does.
    pub(crate) fn parse(version: &str) -> WindowsVersion {
        let mut parts = version.split('.');
        let (Some(major), Some(minor), Some(build)) = (parts.next(), parts.next(), parts.next())
        else {
            return WindowsVersion::default();
        };
        match (number(major), number(minor), number(build)) {
            (Some(major), Some(minor), Some(build)) => WindowsVersion {
                major,
                minor,
                build,
            },
            _ => WindowsVersion::default(),
        }
    }

    /// True for the all-zero version: no usable version was given.
    pub(crate) fn is_empty(self) -> bool {
        self == WindowsVersion::default()
    }

    /// Whether a host of this version runs an image whose `os.version` is
    /// `image_version`. An empty host version or image version accepts anything.
    pub(crate) fn runs(self, image_version: &str) -> bool {
        if self.is_empty() || image_version.is_empty() {
            return true;
        }
        let image = WindowsVersion::parse(image_version);
        if self.major != image.major || self.minor != image.minor {
            return false;
        }
        if self.build < LTSC2022 {
            return self.build == image.build;
        }
        // The oldest build this host runs: the newest stable-ABI LTSC strictly
        // before it (an LTSC host runs the previous LTSC), at least LTSC 2022.
        let oldest = STABLE_ABI_LTSC_RELEASES
            .iter()
            .rev()
            .copied()
            .find(|&release| self.build > release)
            .unwrap_or(LTSC2022);
        oldest <= image.build && image.build <= self.build
    }
}

/// A decimal number made of ASCII digits only, fitting `T`.
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_major_minor_build_and_ignores_revision() {
        let version = WindowsVersion::parse("10.0.17763.1234");
        assert_eq!(
            version,
            WindowsVersion {
                major: 10,
                minor: 0,
                build: 17763
            }
        );
        for bad in [
            "",
            "10",
            "10.0",
            "10.0.x",
            "300.0.1",
            "10.0.70000",
            "+10.0.1",
        ] {
            assert!(WindowsVersion::parse(bad).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn compatibility_follows_microsofts_table() {
        let cases = [
            // Before the stable ABI, builds must be equal.
            ("10.0.17763", "10.0.17763.1234", true),
            ("10.0.17763", "10.0.14393", false),
            ("10.0.17763", "10.0.20348", false),
            // Server 2022 runs only its own build.
            ("10.0.20348", "10.0.20348", true),
            ("10.0.20348", "10.0.17763", false),
            // Windows 11 22H2 runs Server 2022 images up to its build.
            ("10.0.22621", "10.0.20348", true),
            ("10.0.22621", "10.0.22621", true),
            ("10.0.22621", "10.0.25398", false),
            // Server 2025 runs Server 2022 images; 23H2 too.
            ("10.0.26100", "10.0.20348", true),
            ("10.0.26100", "10.0.25398", true),
            ("10.0.26100", "10.0.17763", false),
            // After 2025, 2022 images are no longer accepted.
            ("10.0.26200", "10.0.20348", false),
            ("10.0.26200", "10.0.26100", true),
            // Major and minor must agree.
            ("10.0.17763", "6.3.17763", false),
            // Missing versions accept anything.
            ("", "10.0.17763", true),
            ("10.0.17763", "", true),
            // A host version that does not parse accepts anything, as in containerd.
            ("ltsc2019", "10.0.17763", true),
            // An image version that does not parse is rejected by a real host.
            ("10.0.17763", "ltsc2019", false),
        ];
        for (host, image, expected) in cases {
            assert_eq!(
                WindowsVersion::parse(host).runs(image),
                expected,
                "host {host:?}, image {image:?}"
            );
        }
    }
}
