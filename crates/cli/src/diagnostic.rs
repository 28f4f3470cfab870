//! Rendering a failure as one line on stderr: `hoist: error: <what failed>:
//! <cause>: <cause>; hint: <what to do>`.
//!
//! Library errors keep their causes as `source()`; the chain is printed once,
//! skipping a cause whose text the line already holds (some messages quote
//! their cause). Hints come from structured details found anywhere in the
//! chain: the platforms an image does have, a registry refusing credentials.

use std::sync::Mutex;

use hoist::image::Detail;
use hoist::remote::ErrorKind as RemoteKind;

/// The registry the command talks to, for hints such as `hoist login HOST`.
static REGISTRY: Mutex<Option<String>> = Mutex::new(None);

/// Records the registry a command is about to talk to.
pub fn note_registry(registry: &str) {
    if let Ok(mut slot) = REGISTRY.lock() {
        *slot = Some(registry.to_owned());
    }
}

fn noted_registry() -> Option<String> {
    REGISTRY.lock().ok().and_then(|slot| slot.clone())
}

/// The local image a command works on, for hints such as
/// `hoist pull --platform P REF`.
static IMAGE: Mutex<Option<String>> = Mutex::new(None);

/// Records the local image a command is about to read.
pub fn note_image(name: &str) {
    if let Ok(mut slot) = IMAGE.lock() {
        *slot = Some(name.to_owned());
    }
}

fn noted_image() -> Option<String> {
    IMAGE.lock().ok().and_then(|slot| slot.clone())
}

/// The hint for blobs missing locally: the platforms among their owners
/// (attestations and indexes are fetched with their platforms) and the pull
/// that fetches them.
fn missing_blobs_hint(missing: &[hoist::image::MissingBlobs]) -> Option<String> {
    let mut platforms: Vec<String> = Vec::new();
    for owner in missing.iter().map(|m| &m.owner) {
        if let Ok(platform) = hoist::platform::parse(owner)
            && !platforms.contains(&platform.to_string())
        {
            platforms.push(platform.to_string());
        }
    }
    if platforms.is_empty() {
        return None;
    }
    let image = noted_image().unwrap_or_else(|| "REF".to_owned());
    Some(format!(
        "`hoist pull --platform {} {image}` fetches {}, or choose the platforms that are here with --platform",
        platforms.join(","),
        if platforms.len() == 1 { "it" } else { "them" }
    ))
}

/// The one line to print for `error`, without a trailing newline.
pub fn render(error: &anyhow::Error) -> String {
    let mut line = String::from("hoist: error: ");
    let mut text = String::new();
    for cause in error.chain() {
        let piece = one_line(&cause.to_string());
        if piece.is_empty() || text.contains(&piece) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&piece);
    }
    line.push_str(&text);
    if let Some(hint) = hint(error) {
        line.push_str("; hint: ");
        line.push_str(&hint);
    }
    line
}

/// Every cause on its own line with its type, for `--debug`.
pub fn render_debug(error: &anyhow::Error) -> String {
    let mut out = String::from("hoist: debug: error chain:");
    for (depth, cause) in error.chain().enumerate() {
        out.push_str(&format!("\n  {depth}: {cause:?}"));
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the user can do about `error`, when something in its chain says.
pub fn hint(error: &anyhow::Error) -> Option<String> {
    for cause in error.chain() {
        if let Some(image_error) = cause.downcast_ref::<hoist::image::Error>() {
            match image_error.detail() {
                // The message itself lists the available platforms.
                Some(Detail::NoMatchingPlatform { available, .. }) => {
                    return Some(if available.is_empty() {
                        "the image lists no platforms".to_owned()
                    } else {
                        "choose one of them with --platform, or use --all-platforms".to_owned()
                    });
                }
                Some(Detail::MissingBlobs(missing)) => {
                    if let Some(hint) = missing_blobs_hint(missing) {
                        return Some(hint);
                    }
                }
                Some(Detail::EmptyIndex { .. }) => {
                    return Some(
                        "the tag names an empty index (no manifests at all); it must be pushed again with its platforms"
                            .to_owned(),
                    );
                }
                _ => {}
            }
        }
        if let Some(remote_error) = cause.downcast_ref::<hoist::remote::Error>() {
            let registry = noted_registry().unwrap_or_else(|| "REGISTRY".to_owned());
            match remote_error.kind() {
                RemoteKind::Unauthenticated => {
                    return Some(format!("run `hoist login {registry}`"));
                }
                RemoteKind::Denied => {
                    return Some(format!(
                        "the credentials for {registry} do not allow this; `hoist login {registry}` as a user who may"
                    ));
                }
                RemoteKind::Unavailable => {
                    return Some(format!(
                        "is {registry} running and reachable? a plain-HTTP registry that is not on loopback needs --insecure-registry {registry}"
                    ));
                }
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Quoting;
    impl std::fmt::Display for Quoting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("disk full")
        }
    }
    impl std::error::Error for Quoting {}

    #[test]
    fn missing_platforms_are_fetched_by_a_pull_of_exactly_them() {
        let digest: hoist::content::Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let missing = |owner: &str| hoist::image::MissingBlobs {
            owner: owner.to_owned(),
            manifest: digest.clone(),
            digests: vec![digest.clone()],
        };
        note_image("example.com/app:1");
        let hint = missing_blobs_hint(&[
            missing("linux/386"),
            missing("attestation"),
            missing("linux/386"),
        ])
        .unwrap();
        assert_eq!(
            hint,
            "`hoist pull --platform linux/386 example.com/app:1` fetches it, or choose the platforms that are here with --platform"
        );
        assert_eq!(missing_blobs_hint(&[missing("attestation")]), None);
    }

    #[test]
    fn the_chain_is_one_line_without_repeats() {
        let error = anyhow::Error::new(Quoting)
            .context("writing blob: disk full")
            .context("loading\narchive.tar");
        assert_eq!(
            render(&error),
            "hoist: error: loading archive.tar: writing blob: disk full"
        );
    }
}
