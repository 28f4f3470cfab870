//! Every way a layer might reach outside `dest`, each on its own. Each test
//! plants a sentinel file beside `dest`, unpacks (success or refusal are
//! both fine), and asserts the sentinel's content and mtime are unchanged
//! and nothing new appeared beside it.

use hoist_testkit::layers::LayerBuilder;

use crate::support::*;

/// Unpacks `layers` (built once the sentinel's path is known) both keeping
/// owners (when root) and rootless, and checks the sentinel after each.
/// Each result comes with the directory that holds its `dest`.
fn attempt(
    layers: impl Fn(&str) -> Vec<LayerBuilder>,
) -> Vec<(
    tempfile::TempDir,
    Result<hoist_unpack::Unpacked, hoist_unpack::Error>,
)> {
    let mut results = Vec::new();
    for rootless in [false, true] {
        if !rootless && !is_root() {
            continue;
        }
        let base = tempfile::tempdir().unwrap();
        let sentinel = Sentinel::plant(base.path());
        let outside = sentinel.dir.to_str().unwrap().to_owned();
        let scratch = stack(layers(&outside));
        let dest = base.path().join("dest");
        let result = hoist_unpack::unpack(
            &scratch.store,
            &scratch.manifest,
            &dest,
            &hoist_unpack::UnpackOptions::new().rootless(rootless),
            &hoist_unpack::NoProgress,
        );
        sentinel.assert_untouched();
        results.push((base, result));
    }
    results
}

#[test]
fn dot_dot_paths_stay_inside() {
    for (_base, result) in attempt(|_| {
        vec![build(|l| {
            l.file("../outside/sentinel", b"pwned")?;
            l.file("../../../../../../outside/new", b"pwned")?;
            l.file("a/../../outside/new2", b"pwned")?;
            Ok(())
        })]
    }) {
        let unpacked = result.unwrap();
        // Clamped at the root, as umoci and containerd do.
        assert_eq!(
            std::fs::read(unpacked.dest.join("outside/sentinel")).unwrap(),
            b"pwned"
        );
    }
}

#[test]
fn absolute_paths_stay_inside() {
    for (_base, result) in attempt(|outside| {
        let target = format!("{outside}/sentinel");
        vec![build(move |l| {
            l.file(&target, b"pwned")?;
            Ok(())
        })]
    }) {
        result.unwrap();
    }
}

#[test]
fn a_symlink_to_outside_is_not_followed_by_later_entries_of_its_layer() {
    for (_base, result) in attempt(|outside| {
        let outside = outside.to_owned();
        vec![build(move |l| {
            l.symlink("abs", &outside)?;
            l.symlink("rel", "../outside")?;
            l.file("abs/sentinel", b"pwned")?;
            l.file("rel/sentinel", b"pwned")?;
            l.dir("abs/newdir")?;
            l.fifo("rel/fifo")?;
            Ok(())
        })]
    }) {
        let unpacked = result.unwrap();
        // Resolved as if dest were /: both land in dest/outside.
        assert_eq!(
            std::fs::read(unpacked.dest.join("outside/sentinel")).unwrap(),
            b"pwned"
        );
    }
}

#[test]
fn a_symlink_planted_by_an_earlier_layer_is_not_followed() {
    for (_base, result) in attempt(|outside| {
        let outside = outside.to_owned();
        vec![
            build(move |l| {
                l.symlink("etc", &outside)?;
                Ok(())
            }),
            build(|l| {
                l.file("etc/sentinel", b"pwned")?;
                l.file("etc/passwd", b"pwned")?;
                Ok(())
            }),
        ]
    }) {
        result.unwrap();
    }
}

#[test]
fn an_entry_named_like_a_symlink_replaces_the_link() {
    for (_base, result) in attempt(|outside| {
        let target = format!("{outside}/sentinel");
        vec![
            build(move |l| {
                l.symlink("file", &target)?;
                Ok(())
            }),
            build(|l| {
                l.file("file", b"pwned")?;
                Ok(())
            }),
        ]
    }) {
        let unpacked = result.unwrap();
        assert_eq!(std::fs::read(unpacked.dest.join("file")).unwrap(), b"pwned");
    }
}

#[test]
fn a_hard_link_to_a_file_outside_is_refused() {
    for (_base, result) in attempt(|outside| {
        let absolute = format!("{outside}/sentinel");
        vec![build(move |l| {
            l.hard_link("abs", &absolute)?;
            Ok(())
        })]
    }) {
        assert!(result.unwrap_err().is_not_found());
    }
    for (_base, result) in attempt(|_| {
        vec![build(|l| {
            l.hard_link("rel", "../outside/sentinel")?;
            Ok(())
        })]
    }) {
        assert!(result.unwrap_err().is_not_found());
    }
}

#[test]
fn a_hard_link_through_a_symlink_to_outside_is_refused() {
    for (_base, result) in attempt(|outside| {
        let outside = outside.to_owned();
        vec![build(move |l| {
            l.symlink("out", &outside)?;
            l.hard_link("h", "out/sentinel")?;
            Ok(())
        })]
    }) {
        let error = result.unwrap_err();
        assert!(error.is_not_found(), "{error}");
        assert!(error.to_string().contains("/out/sentinel"), "{error}");
    }
}

#[test]
fn a_whiteout_through_a_symlink_removes_nothing_outside() {
    for (_base, result) in attempt(|outside| {
        let outside = outside.to_owned();
        vec![
            build(move |l| {
                l.symlink("out", &outside)?;
                l.symlink("rel", "../outside")?;
                Ok(())
            }),
            build(|l| {
                l.whiteout("out/sentinel")?;
                l.whiteout("rel/sentinel")?;
                l.opaque("out")?;
                l.opaque("rel")?;
                Ok(())
            }),
        ]
    }) {
        result.unwrap();
    }
}

#[test]
fn a_whiteout_of_dot_dot_is_refused() {
    for (_base, result) in attempt(|_| {
        vec![
            build(|l| {
                l.file("sub/x", b"x")?;
                Ok(())
            }),
            build(|l| {
                l.file(".wh...", b"")?;
                Ok(())
            }),
        ]
    }) {
        let error = result.unwrap_err();
        assert!(error.to_string().contains("names no file"), "{error}");
    }
    for (_base, result) in attempt(|_| {
        vec![build(|l| {
            l.file("sub/.wh...", b"")?;
            Ok(())
        })]
    }) {
        assert!(result.is_err());
    }
}

#[test]
fn a_directory_entry_for_the_root_cannot_become_a_symlink() {
    for (_base, result) in attempt(|outside| {
        let outside = outside.to_owned();
        vec![build(move |l| {
            l.symlink("./", &outside)?;
            l.file("sentinel", b"pwned")?;
            Ok(())
        })]
    }) {
        let error = result.unwrap_err();
        assert!(error.to_string().contains("root"), "{error}");
    }
}
