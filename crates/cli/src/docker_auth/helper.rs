//! Docker's credential-helper protocol for writing: `docker-credential-<name>
//! store` reads `{"ServerURL","Username","Secret"}` on stdin; `erase` reads
//! the server URL.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// Stores credentials through the helper.
pub fn store(name: &str, server_url: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let input = serde_json::json!({
        "ServerURL": server_url,
        "Username": username,
        "Secret": password,
    })
    .to_string();
    let output = run(name, "store", &input)?;
    if !output.status.success() {
        bail!(
            "docker-credential-{name} store failed ({}): {}",
            output.status,
            message(&output)
        );
    }
    Ok(())
}

/// Erases credentials through the helper; `false` when it had none.
pub fn erase(name: &str, server_url: &str) -> anyhow::Result<bool> {
    let output = run(name, "erase", server_url)?;
    if output.status.success() {
        return Ok(true);
    }
    if message(&output).contains("credentials not found") {
        return Ok(false);
    }
    bail!(
        "docker-credential-{name} erase failed ({}): {}",
        output.status,
        message(&output)
    )
}

fn run(name: &str, action: &str, input: &str) -> anyhow::Result<std::process::Output> {
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {program} (named by Docker's config.json)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper may exit without reading; its status says why.
        let _ = stdin.write_all(input.as_bytes());
    }
    child
        .wait_with_output()
        .with_context(|| format!("waiting for {program}"))
}

fn message(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    format!("{} {}", stdout.trim(), stderr.trim())
        .trim()
        .to_owned()
}
