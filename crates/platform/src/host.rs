//! The host's platform in Go's spelling, computed once per process.
//!
//! Only 32-bit ARM Linux reads anything (`/proc/cpuinfo`, as containerd does):
//! elsewhere the variant is either absent or implied (arm64's `v8` normalizes
//! away), so x86-64 never touches the file system here.

use std::sync::OnceLock;

use crate::{Platform, Result, normalize, parse};

/// The environment variable that makes hoist take this machine for another
/// platform (`HOIST_HOST_PLATFORM=linux/arm64`): the default platform of
/// every command and the ranking of fallbacks follow it. For preparing
/// images for another machine, and for testing what an arm64 host picks on
/// an amd64 one.
pub const HOST_PLATFORM_ENV: &str = "HOIST_HOST_PLATFORM";

/// The platform [`HOST_PLATFORM_ENV`] names, if it is set and not empty.
///
/// # Errors
/// Invalid argument when the variable does not parse as a platform (callers
/// such as the CLI refuse to start then; [`Platform::host`] ignores it).
pub fn host_override() -> Result<Option<Platform>> {
    match std::env::var(HOST_PLATFORM_ENV) {
        Ok(text) if !text.trim().is_empty() => parse(text.trim()).map(Some),
        _ => Ok(None),
    }
}

/// The normalized host platform, computed on first use.
pub(crate) fn host_platform() -> &'static Platform {
    static HOST: OnceLock<Platform> = OnceLock::new();
    HOST.get_or_init(|| {
        if let Ok(Some(platform)) = host_override() {
            return platform;
        }
        let mut platform = Platform::new(go_os(std::env::consts::OS), go_arch());
        platform.variant = host_variant();
        normalize(platform)
    })
}

/// Rust's `target_os` name in Go's `GOOS` spelling.
fn go_os(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        other => other,
    }
}

/// Rust's `target_arch` name in Go's `GOARCH` spelling, endianness included.
fn go_arch() -> &'static str {
    let big_endian = cfg!(target_endian = "big");
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" if big_endian => "arm64be",
        "aarch64" => "arm64",
        "arm" if big_endian => "armbe",
        "powerpc" => "ppc",
        "powerpc64" if big_endian => "ppc64",
        "powerpc64" => "ppc64le",
        "mips" if big_endian => "mips",
        "mips" => "mipsle",
        "mips64" if big_endian => "mips64",
        "mips64" => "mips64le",
        "loongarch64" => "loong64",
        "sparc64" => "sparc64",
        "wasm32" => "wasm",
        other => other,
    }
}

/// The CPU variant of a 32-bit ARM Linux host; `None` everywhere else.
#[cfg(all(target_arch = "arm", target_os = "linux"))]
fn host_variant() -> Option<String> {
    // An unreadable cpuinfo falls back to what the binary was compiled for:
    // it runs here, so the CPU is at least that.
    let compiled_for = if cfg!(target_feature = "v7") {
        "v7"
    } else {
        "v6"
    };
    let variant = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|cpuinfo| arm_variant_from_cpuinfo(&cpuinfo, true))
        .unwrap_or_else(|| compiled_for.to_owned());
    Some(variant)
}

/// The CPU variant of a host that is not 32-bit ARM Linux: none to read.
///
/// containerd reports `v8` for arm64 (on Linux, macOS, Windows, FreeBSD), which
/// normalization removes; other architectures have no variant.
#[cfg(not(all(target_arch = "arm", target_os = "linux")))]
fn host_variant() -> Option<String> {
    None
}

/// The ARM variant (`v5`..`v8`, or `unknown`) that a `/proc/cpuinfo` text
/// describes, containerd's way: the `CPU architecture` field, except that a
/// 32-bit ARMv7 kernel reporting an `ARMv6-compatible` model is `v6`.
/// `None` when the field is absent.
#[cfg_attr(not(all(target_arch = "arm", target_os = "linux")), allow(dead_code))]
pub(crate) fn arm_variant_from_cpuinfo(cpuinfo: &str, arm32: bool) -> Option<String> {
    let mut architecture = cpuinfo_field(cpuinfo, "CPU architecture")?.to_ascii_lowercase();
    if arm32
        && architecture == "7"
        && cpuinfo_field(cpuinfo, "model name")
            .is_some_and(|model| model.to_ascii_lowercase().starts_with("armv6-compatible"))
    {
        architecture = "6".to_owned();
    }
    let variant = match architecture.as_str() {
        "8" | "aarch64" => "v8",
        "7" | "7m" | "?(12)" | "?(13)" | "?(14)" | "?(15)" | "?(16)" | "?(17)" => "v7",
        "6" | "6tej" => "v6",
        "5" | "5t" | "5te" | "5tej" => "v5",
        "4" | "4t" => "v4",
        "3" => "v3",
        _ => "unknown",
    };
    Some(variant.to_owned())
}

/// The value of the first `key: value` line whose key matches, ignoring case.
fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case(key)
            .then(|| value.split(':').next().unwrap_or_default().trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RASPBERRY_PI_3_ARM32: &str = "processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\n\
        BogoMIPS\t: 38.40\nFeatures\t: half thumb fastmult vfp edsp neon\n\
        CPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x0\n";
    const RASPBERRY_PI_ZERO: &str = "processor\t: 0\nmodel name\t: ARMv6-compatible processor rev 7 (v6l)\n\
        CPU architecture: 7\n";
    const ARM64_SERVER: &str = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\
        CPU architecture: 8\nCPU variant\t: 0x3\n";
    const X86: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n";

    #[test]
    fn cpuinfo_variants_follow_containerd() {
        let cases = [
            (RASPBERRY_PI_3_ARM32, true, Some("v7")),
            (RASPBERRY_PI_ZERO, true, Some("v6")),
            // The ARMv6 quirk is a 32-bit one.
            (RASPBERRY_PI_ZERO, false, Some("v7")),
            (ARM64_SERVER, true, Some("v8")),
            (ARM64_SERVER, false, Some("v8")),
            ("CPU architecture: 5TEJ\n", true, Some("v5")),
            ("cpu ARCHITECTURE : 6TEJ\n", true, Some("v6")),
            ("CPU architecture: ?(12)\n", true, Some("v7")),
            ("CPU architecture: 4T\n", true, Some("v4")),
            ("CPU architecture: 3\n", true, Some("v3")),
            ("CPU architecture: AArch64\n", true, Some("v8")),
            ("CPU architecture: 7M\n", true, Some("v7")),
            ("CPU architecture: 2\n", true, Some("unknown")),
            (X86, true, None),
            ("", true, None),
        ];
        for (cpuinfo, arm32, expected) in cases {
            assert_eq!(
                arm_variant_from_cpuinfo(cpuinfo, arm32).as_deref(),
                expected,
                "{cpuinfo:?} arm32={arm32}"
            );
        }
    }

    #[test]
    fn host_is_normalized_and_known() {
        let host = host_platform();
        assert_eq!(host, &normalize(host.clone()));
        assert!(crate::known::is_known_os(&host.os), "{host:?}");
        assert!(crate::known::is_known_arch(&host.architecture), "{host:?}");
    }

    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn x86_64_linux_host_is_linux_amd64() {
        assert_eq!(host_platform(), &Platform::new("linux", "amd64"));
    }
}
