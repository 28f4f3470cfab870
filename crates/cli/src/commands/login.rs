//! `hoist login` and `hoist logout`: prompting and printing around the
//! library's [`hoist::Store::login`] and [`hoist::Store::logout`], which
//! check the credentials against the registry and keep them where Docker
//! does.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};
use hoist::LoginOptions;
use hoist::remote::{CredentialStore, DockerConfig, Reference};

use crate::args::{LoginArgs, LogoutArgs};
use crate::context::Context;
use crate::diagnostic::note_registry;
use crate::exit::UsageError;
use crate::output::print_line;
use crate::terminal::read_hidden_line;

/// `hoist login REGISTRY [-u USER] [--password-stdin]`.
///
/// # Errors
/// Bad input (exit 2), refused credentials, an unreachable registry, or a
/// config file that cannot be written.
pub fn login(context: &Context, args: &LoginArgs) -> anyhow::Result<()> {
    let host = registry_argument(&args.registry)?;
    note_registry(&host);
    let interactive = std::io::stdin().is_terminal();
    let username = match &args.username {
        Some(name) if !name.is_empty() => name.clone(),
        Some(_) => return Err(UsageError("the user name must not be empty".to_owned()).into()),
        None if interactive && !args.password_stdin => prompt("Username: ")?,
        None => {
            return Err(UsageError(
                "no user name: pass -u USER (stdin is not a terminal to ask on)".to_owned(),
            )
            .into());
        }
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else if interactive {
        read_hidden_line("Password: ")?
    } else {
        return Err(UsageError(
            "no password: pass --password-stdin and write it to stdin".to_owned(),
        )
        .into());
    };
    if password.is_empty() {
        return Err(UsageError("the password must not be empty".to_owned()).into());
    }

    let store = context.open_remote_store()?;
    let report = context.runtime()?.block_on(store.login(
        &host,
        &username,
        &password,
        &LoginOptions::default(),
    ))?;
    match report.stored_in {
        CredentialStore::Helper(name) => {
            eprintln!("credentials saved by docker-credential-{name}");
        }
        _ => eprintln!("credentials saved in {}", report.config.display()),
    }
    print_line("Login Succeeded")
}

/// `hoist logout REGISTRY`.
///
/// # Errors
/// When the file or the helper cannot be changed.
pub fn logout(context: &Context, args: &LogoutArgs) -> anyhow::Result<()> {
    let host = registry_argument(&args.registry)?;
    let store = context.open_store()?;
    if store
        .logout(&host)
        .with_context(|| format!("removing the credentials for {host}"))?
    {
        print_line(&format!("Removing login credentials for {host}"))
    } else {
        eprintln!("not logged in to {host}");
        Ok(())
    }
}

/// The registry host an argument names (a URL is reduced to its host), or
/// a usage error before anything is asked.
fn registry_argument(text: &str) -> Result<String, UsageError> {
    let host = DockerConfig::registry_host(text);
    let invalid = |detail: String| UsageError(format!("invalid registry {text:?}{detail}"));
    if host.is_empty() {
        return Err(invalid(String::new()));
    }
    let probe: Reference = format!("{host}/x")
        .parse()
        .map_err(|e| invalid(format!(": {e}")))?;
    // A name without a dot or a port would be a Docker Hub repository.
    if probe.registry() != host {
        return Err(invalid(
            ": it is not a registry host (add its port, or a domain)".to_owned(),
        ));
    }
    Ok(host)
}

fn prompt(label: &str) -> anyhow::Result<String> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{label}").and_then(|()| stderr.flush())?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value = line.trim().to_owned();
    if value.is_empty() {
        bail!("nothing was entered");
    }
    Ok(value)
}
