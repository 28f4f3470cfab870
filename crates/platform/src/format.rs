//! Platforms as strings: `os/arch[/variant]` and the longer form with the OS
//! version and features, `os(version+feature+...)/arch[/variant]`.

use std::fmt::{self, Write as _};

use crate::Platform;

/// `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`; `unknown` when
/// the OS is empty. Empty parts are left out. Does not normalize: format a
/// [normalized](crate::normalize) platform to show the canonical form.
pub fn format(platform: &Platform) -> String {
    platform.to_string()
}

/// Like [`format()`], with the OS version and OS features in parentheses after
/// the OS, containerd's syntax: `windows(10.0.17763+win32k)/amd64`,
/// `linux(+gpu)/amd64`. Features are written sorted and without duplicates.
///
/// Inside the parentheses every byte other than an ASCII letter, digit, `_`,
/// `.` or `-` is percent-encoded (`%2B` for `+`), so the result always parses
/// back with [`parse`](crate::parse).
pub fn format_all(platform: &Platform) -> String {
    let mut features: Vec<&str> = platform
        .os_features
        .iter()
        .map(String::as_str)
        .filter(|feature| !feature.is_empty())
        .collect();
    features.sort_unstable();
    features.dedup();
    let os_version = platform.os_version_str();
    if platform.os.is_empty() || (os_version.is_empty() && features.is_empty()) {
        return format(platform);
    }
    let mut os = platform.os.clone();
    os.push('(');
    encode_os_option(&mut os, os_version);
    for feature in features {
        os.push('+');
        encode_os_option(&mut os, feature);
    }
    os.push(')');
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = join_parts(&mut out, &os, platform);
    out
}

/// Writes [`format()`]'s form; backs `Display` for [`Platform`].
pub(crate) fn write_format(f: &mut impl fmt::Write, platform: &Platform) -> fmt::Result {
    if platform.os.is_empty() {
        return f.write_str("unknown");
    }
    join_parts(f, &platform.os, platform)
}

/// Writes `os`, then the non-empty architecture and variant, separated by `/`.
fn join_parts(f: &mut impl fmt::Write, os: &str, platform: &Platform) -> fmt::Result {
    f.write_str(os)?;
    for part in [platform.architecture.as_str(), platform.variant_str()] {
        if !part.is_empty() {
            f.write_char('/')?;
            f.write_str(part)?;
        }
    }
    Ok(())
}

/// Appends `value` with every byte outside `[A-Za-z0-9_.-]` percent-encoded.
fn encode_os_option(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}
