//! The `config.json` of an OCI runtime bundle, made from the image config
//! in the shape `umoci unpack` (0.4.7, Debian's) writes: its default
//! template (runc's example spec), then the image's Entrypoint + Cmd, Env,
//! WorkingDir, User (resolved against the image's own `/etc/passwd` and
//! `/etc/group`), labels and the image-spec annotations (stop signal
//! included), a tmpfs per volume; rootless, the same changes as umoci's
//! `ToRootless` (a user namespace mapping the unpacking user to root, no
//! network namespace, `/sys` bound, no device cgroup).

use serde_json::{Value, json};

use crate::config::ImageConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::user::ExecUser;

/// The default PATH of the template, replaced by an image's own.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CAPABILITIES: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// Builds the bundle's `config.json` for `image`, whose process runs as
/// `user`; `rootless` adds a user namespace mapping `host_ids` (uid, gid)
/// to root.
///
/// # Errors
/// Invalid argument for an image that is not for Linux or has an `Env`
/// line without `=`.
pub fn runtime_config(
    image: &ImageConfig,
    user: &ExecUser,
    rootless: bool,
    host_ids: (u32, u32),
) -> Result<Value> {
    if image.os != "linux" {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a runtime bundle is for Linux images; this image is for {:?}",
                image.os
            ),
        ));
    }
    let run = image.config.clone().unwrap_or_default();

    let mut env: Vec<String> = vec![DEFAULT_PATH.to_owned(), "TERM=xterm".to_owned()];
    for line in run.env.iter().flatten() {
        let Some((name, value)) = line.split_once('=').filter(|(name, _)| !name.is_empty()) else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the image's environment line {line:?} is not NAME=value"),
            ));
        };
        set_env(&mut env, name, value);
    }
    if let Some(home) = &user.home {
        set_env(&mut env, "HOME", home);
    }

    let mut args: Vec<String> = run.entrypoint.clone().unwrap_or_default();
    args.extend(run.cmd.clone().unwrap_or_default());
    if args.is_empty() {
        args.push("sh".to_owned());
    }
    let cwd = run
        .working_dir
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/".to_owned());

    let mut process_user = json!({ "uid": user.uid, "gid": user.gid });
    if !rootless && !user.additional_gids.is_empty() {
        process_user["additionalGids"] = json!(user.additional_gids);
    }

    let mut annotations = serde_json::Map::new();
    for (key, value) in run.labels.iter().flatten() {
        annotations.insert(key.clone(), json!(value));
    }
    let ports: Vec<&str> = run
        .exposed_ports
        .iter()
        .flatten()
        .map(|(port, _)| port.as_str())
        .collect();
    for (key, value) in [
        ("org.opencontainers.image.os", image.os.clone()),
        (
            "org.opencontainers.image.architecture",
            image.architecture.clone(),
        ),
        (
            "org.opencontainers.image.author",
            image.author.clone().unwrap_or_default(),
        ),
        (
            "org.opencontainers.image.created",
            image.created.clone().unwrap_or_default(),
        ),
        (
            "org.opencontainers.image.stopSignal",
            run.stop_signal.clone().unwrap_or_default(),
        ),
        ("org.opencontainers.image.exposedPorts", ports.join(",")),
    ] {
        annotations.insert(key.to_owned(), json!(value));
    }

    let mut mounts = vec![
        json!({ "destination": "/proc", "type": "proc", "source": "proc" }),
        json!({ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] }),
        json!({ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] }),
        json!({ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] }),
        json!({ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"] }),
        json!({ "destination": "/sys", "type": "sysfs", "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"] }),
        json!({ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }),
    ];
    for volume in run.volumes.iter().flatten().map(|(path, _)| path) {
        mounts.push(
            json!({ "destination": volume, "type": "tmpfs", "source": "none",
                            "options": ["rw", "nosuid", "nodev", "noexec", "relatime"] }),
        );
    }
    let mut namespaces = vec!["pid", "network", "ipc", "uts", "mount"];

    let mut linux = json!({
        "maskedPaths": ["/proc/kcore", "/proc/latency_stats", "/proc/timer_list",
                        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
                          "/proc/sys", "/proc/sysrq-trigger"],
    });
    if rootless {
        namespaces.retain(|ns| *ns != "network");
        namespaces.push("user");
        mounts.retain(|m| !m["destination"].as_str().unwrap_or("").starts_with("/sys"));
        for mount in &mut mounts {
            if let Some(options) = mount.get_mut("options").and_then(Value::as_array_mut) {
                options.retain(|o| {
                    let o = o.as_str().unwrap_or("");
                    !o.starts_with("gid=") && !o.starts_with("uid=")
                });
            }
        }
        mounts.push(
            json!({ "destination": "/sys", "type": "bind", "source": "/sys",
                            "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] }),
        );
        mounts.push(
            json!({ "destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf",
                            "options": ["rbind", "ro"] }),
        );
        linux["uidMappings"] = json!([{ "containerID": 0, "hostID": host_ids.0, "size": 1 }]);
        linux["gidMappings"] = json!([{ "containerID": 0, "hostID": host_ids.1, "size": 1 }]);
    } else {
        linux["resources"] = json!({ "devices": [{ "allow": false, "access": "rwm" }] });
    }
    linux["namespaces"] = Value::Array(
        namespaces
            .into_iter()
            .map(|ns| json!({ "type": ns }))
            .collect(),
    );

    Ok(json!({
        "ociVersion": "1.0.0",
        "process": {
            "terminal": true,
            "user": process_user,
            "args": args,
            "env": env,
            "cwd": cwd,
            "capabilities": {
                "bounding": CAPABILITIES, "effective": CAPABILITIES, "inheritable": CAPABILITIES,
                "permitted": CAPABILITIES, "ambient": CAPABILITIES,
            },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true,
        },
        "root": { "path": "rootfs" },
        "hostname": "hoist",
        "mounts": mounts,
        "annotations": annotations,
        "linux": linux,
    }))
}

/// Sets `name` in `env`, in place if present (umoci's `appendEnv`).
fn set_env(env: &mut Vec<String>, name: &str, value: &str) {
    let line = format!("{name}={value}");
    let prefix = format!("{name}=");
    match env.iter_mut().find(|e| e.starts_with(&prefix)) {
        Some(existing) => *existing = line,
        None => env.push(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(json: Value) -> ImageConfig {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn process_comes_from_the_image() {
        let config = image(json!({"os": "linux", "architecture": "amd64", "config": {
            "Env": ["PATH=/bin", "A=b"], "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"],
            "WorkingDir": "/work", "StopSignal": "SIGQUIT"}}));
        let user = ExecUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![5],
            home: Some("/home/app".into()),
        };
        let spec = runtime_config(&config, &user, false, (0, 0)).unwrap();
        assert_eq!(spec["process"]["args"], json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(
            spec["process"]["env"],
            json!(["PATH=/bin", "TERM=xterm", "A=b", "HOME=/home/app"])
        );
        assert_eq!(spec["process"]["cwd"], "/work");
        assert_eq!(
            spec["process"]["user"],
            json!({"uid": 1000, "gid": 1000, "additionalGids": [5]})
        );
        assert_eq!(
            spec["annotations"]["org.opencontainers.image.stopSignal"],
            "SIGQUIT"
        );
        assert!(spec["linux"].get("uidMappings").is_none());

        let rootless = runtime_config(&config, &user, true, (1234, 99)).unwrap();
        assert_eq!(
            rootless["process"]["user"],
            json!({"uid": 1000, "gid": 1000})
        );
        assert_eq!(
            rootless["linux"]["uidMappings"],
            json!([{"containerID": 0, "hostID": 1234, "size": 1}])
        );
        assert_eq!(rootless["linux"]["gidMappings"][0]["hostID"], 99);
        let namespaces: Vec<&str> = rootless["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(namespaces, ["pid", "ipc", "uts", "mount", "user"]);
    }

    #[test]
    fn bad_images_are_refused_by_name() {
        let windows = image(json!({"os": "windows"}));
        assert!(
            runtime_config(&windows, &ExecUser::default(), false, (0, 0))
                .unwrap_err()
                .to_string()
                .contains("windows")
        );
        let bad_env = image(json!({"os": "linux", "config": {"Env": ["JUSTNAME"]}}));
        assert!(
            runtime_config(&bad_env, &ExecUser::default(), false, (0, 0))
                .unwrap_err()
                .to_string()
                .contains("JUSTNAME")
        );
    }
}
