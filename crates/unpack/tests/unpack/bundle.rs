//! Runtime bundles: `rootfs/` and a `config.json` from the image config.

use hoist_testkit::layers::LayerCompression;
use hoist_unpack::UnpackOptions;

use crate::support::*;

fn image() -> Scratch {
    stack_with(
        vec![build(|l| {
            l.file(
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
            )?;
            l.file("etc/group", b"root:x:0:\napp:x:1000:\nextra:x:2000:app\n")?;
            l.file("bin/sh", b"#!")?;
            Ok(())
        })],
        LayerCompression::Gzip,
        serde_json::json!({
            "User": "app", "Env": ["PATH=/bin", "A=b"], "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo hi"], "WorkingDir": "/home/app", "StopSignal": "SIGTERM",
        }),
    )
}

#[test]
fn a_bundle_holds_rootfs_and_a_config_made_from_the_image() {
    let scratch = image();
    let unpacked = scratch
        .unpack(&UnpackOptions::new().rootless(true).bundle(true))
        .unwrap();
    let dest = scratch.dest();
    assert_eq!(unpacked.rootfs, dest.join("rootfs"));
    assert!(dest.join("rootfs/bin/sh").is_file());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["root"]["path"], "rootfs");
    assert_eq!(
        config["process"]["args"],
        serde_json::json!(["/bin/sh", "-c", "echo hi"])
    );
    assert_eq!(
        config["process"]["env"],
        serde_json::json!(["PATH=/bin", "TERM=xterm", "A=b", "HOME=/home/app"])
    );
    assert_eq!(config["process"]["cwd"], "/home/app");
    assert_eq!(
        config["process"]["user"],
        serde_json::json!({"uid": 1000, "gid": 1000})
    );
    assert_eq!(
        config["annotations"]["org.opencontainers.image.stopSignal"],
        "SIGTERM"
    );
    let me = rustix::process::geteuid().as_raw();
    assert_eq!(config["linux"]["uidMappings"][0]["hostID"], me);
}

#[test]
fn a_user_the_image_does_not_know_is_refused_and_nothing_is_left() {
    let scratch = stack_with(
        vec![build(|l| {
            l.file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
                .map(|_| ())
        })],
        LayerCompression::Gzip,
        serde_json::json!({ "User": "ghost" }),
    );
    let error = scratch
        .unpack(&UnpackOptions::new().rootless(true).bundle(true))
        .unwrap_err();
    assert!(error.to_string().contains("\"ghost\""), "{error}");
    assert!(!scratch.dest().exists());
}

#[test]
fn the_images_passwd_is_read_inside_the_tree_only() {
    // /etc/passwd is a symlink to the host's file: read beneath the root, it
    // is absent, so a named user cannot be resolved from the host's file.
    let scratch = stack_with(
        vec![build(|l| {
            l.symlink("etc/passwd", "/../../../../etc/passwd")
                .map(|_| ())
        })],
        LayerCompression::Gzip,
        serde_json::json!({ "User": "root" }),
    );
    let error = scratch
        .unpack(&UnpackOptions::new().rootless(true).bundle(true))
        .unwrap_err();
    assert!(error.to_string().contains("\"root\""), "{error}");
}
