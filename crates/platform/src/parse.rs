//! Parsing platform specifiers: `os`, `arch`, `os/arch`, `os/arch/variant`,
//! with an optional `(version+feature...)` after the OS, and comma lists.

use crate::host::host_platform;
use crate::known::{is_known_arch, is_known_os};
use crate::normalize::{normalize_arch, normalize_os};
use crate::{Error, Platform, Result, normalize};

/// Parses one platform specifier and returns it [normalized](crate::normalize).
///
/// Accepted forms, case-insensitive, every alias of [`normalize`] allowed:
///
/// | input            | result                                     |
/// |------------------|--------------------------------------------|
/// | `linux`          | `linux` with the host's architecture       |
/// | `arm64`          | the host's OS with `arm64`                 |
/// | `linux/amd64`    | `linux/amd64`                              |
/// | `linux/arm`      | `linux/arm/v7` (`arm` alone means v7)      |
/// | `linux/arm64/v8` | `linux/arm64` (v8 is arm64's baseline)     |
/// | `windows(10.0.17763+win32k)/amd64` | with OS version and features |
///
/// A lone word is taken as an OS if it is one of Go's `GOOS` values, else as an
/// architecture if it is one of Go's `GOARCH` values (after normalization).
/// With two or three components the OS and architecture are not checked
/// against those lists (`unknown/unknown` parses).
///
/// Inside the parentheses `%XX` escapes are decoded (`%2B` is `+`).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for an
/// empty string, a wildcard, an empty component (`linux/`), more than three
/// components, characters other than ASCII letters, digits, `_`, `.`, `-`
/// (and the OS's parentheses), or a lone word that is neither a known OS nor a
/// known architecture. The message quotes `specifier` and lists the accepted forms.
pub fn parse(specifier: &str) -> Result<Platform> {
    if specifier.is_empty() {
        return Err(Error::invalid(specifier, "the specifier is empty"));
    }
    if specifier.contains('*') {
        return Err(Error::invalid(specifier, "wildcards are not supported"));
    }
    let parts: Vec<&str> = specifier.split('/').collect();
    if parts.len() > 3 {
        return Err(Error::invalid(
            specifier,
            format!("it has {} components, at most 3 are allowed", parts.len()),
        ));
    }
    for (index, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(Error::invalid(
                specifier,
                format!("component {} of {} is empty", index + 1, parts.len()),
            ));
        }
    }
    let os = parse_os_component(specifier, parts[0])?;
    for part in &parts[1..] {
        if !part.bytes().all(is_component_byte) {
            return Err(Error::invalid(
                specifier,
                format!("component {part:?} may hold only ASCII letters, digits, '_', '.' and '-'"),
            ));
        }
    }

    let mut platform = Platform {
        os: os.name,
        os_version: os.version,
        os_features: os.features,
        ..Platform::default()
    };
    match parts[..] {
        [word] => {
            if is_known_os(&platform.os) {
                let host = host_platform();
                platform.architecture.clone_from(&host.architecture);
                platform.variant.clone_from(&host.variant);
            } else {
                let (architecture, _) = normalize_arch(word, "");
                if !is_known_arch(&architecture) {
                    return Err(Error::invalid(
                        specifier,
                        format!(
                            "{word:?} is neither a known operating system nor a known \
                             architecture; name both as os/arch"
                        ),
                    ));
                }
                platform = Platform::new(host_platform().os.clone(), word);
            }
        }
        [_, architecture] => platform.architecture = architecture.to_owned(),
        [_, architecture, variant] => {
            platform.architecture = architecture.to_owned();
            platform.variant = Some(variant.to_owned());
        }
        // `parts` has one to three elements, checked above.
        _ => return Err(Error::invalid(specifier, "it has no components")),
    }
    Ok(normalize(platform))
}

/// Parses a comma-separated list of specifiers, as `--platform` takes it:
/// `linux/amd64,linux/arm64`. Blanks around entries are ignored; order is kept
/// and duplicates are not removed.
///
/// # Errors
///
/// The first entry's error from [`parse`], or
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) quoting
/// the whole list when it or one of its entries is empty (`linux/amd64,`).
pub fn parse_all(list: &str) -> Result<Vec<Platform>> {
    if list.trim().is_empty() {
        return Err(Error::invalid(list, "the list is empty"));
    }
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    let count = entries.len();
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            if entry.is_empty() {
                Err(Error::invalid(
                    list,
                    format!("entry {} of {count} in the list is empty", index + 1),
                ))
            } else {
                parse(entry)
            }
        })
        .collect()
}

/// The first component: an OS name with an optional `(version+feature...)`.
struct OsComponent {
    name: String,
    version: Option<String>,
    features: Vec<String>,
}

/// Splits and checks the first component (containerd's
/// `^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$`).
fn parse_os_component(specifier: &str, part: &str) -> Result<OsComponent> {
    let invalid = |what: &str| {
        Error::invalid(
            specifier,
            format!("the OS component {part:?} is invalid: {what}"),
        )
    };
    let (name, options) = match part.split_once('(') {
        None => (part, None),
        Some((name, rest)) => {
            let Some(options) = rest.strip_suffix(')') else {
                return Err(invalid("'(' must be closed by ')' at its end"));
            };
            (name, Some(options))
        }
    };
    if name.is_empty() {
        return Err(invalid("the OS name is empty"));
    }
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
    {
        return Err(invalid(
            "an OS name may hold only ASCII letters, digits, '_' and '-'",
        ));
    }
    let mut component = OsComponent {
        name: normalize_os(name),
        version: None,
        features: Vec::new(),
    };
    let Some(options) = options else {
        return Ok(component);
    };
    if !options
        .bytes()
        .all(|byte| is_component_byte(byte) || matches!(byte, b'%' | b'+'))
    {
        return Err(invalid(
            "inside the parentheses only ASCII letters, digits, '_', '.', '-', '%' and '+' \
             are allowed",
        ));
    }
    let mut pieces = options.split('+');
    let version = pieces.next().unwrap_or_default();
    component.version = Some(decode_os_option(version).map_err(|why| invalid(&why))?)
        .filter(|version| !version.is_empty());
    for feature in pieces {
        if feature.is_empty() {
            return Err(invalid("an OS feature after '+' is empty"));
        }
        component
            .features
            .push(decode_os_option(feature).map_err(|why| invalid(&why))?);
    }
    Ok(component)
}

/// A byte allowed in the architecture and variant components.
fn is_component_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn decode_os_option(value: &str) -> Result<String, String> {
    if !value.contains('%') {
        return Ok(value.to_owned());
    }
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let escape = bytes
                .get(index + 1..index + 3)
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("{value:?} has a '%' not followed by two hex digits"))?;
            decoded.push(escape);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| format!("{value:?} does not decode to UTF-8"))
}
