//! `hoist login` and `hoist logout`: credentials checked against the
//! registry, then saved where Docker keeps them.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};
use hoist::remote::{Client, Credentials, ErrorKind, StaticCredentials};

use crate::args::{LoginArgs, LogoutArgs};
use crate::context::Context;
use crate::diagnostic::note_registry;
use crate::docker_auth::{ConfigFile, Storage, registry_host};
use crate::exit::UsageError;
use crate::output::print_line;
use crate::terminal::read_hidden_line;

/// `hoist login REGISTRY [-u USER] [--password-stdin]`.
///
/// # Errors
/// Bad input (exit 2), refused credentials, an unreachable registry, or a
/// config file that cannot be written.
pub fn login(context: &Context, args: &LoginArgs) -> anyhow::Result<()> {
    let host = registry_host(&args.registry);
    if host.is_empty() {
        return Err(UsageError(format!("invalid registry {:?}", args.registry)).into());
    }
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

    check_credentials(context, &host, &username, &password)
        .with_context(|| format!("logging in to {host} as {username}"))?;

    let mut file = ConfigFile::load_default()?;
    let storage = file
        .store(&host, &username, &password)
        .with_context(|| format!("saving the credentials for {host}"))?;
    match storage {
        Storage::File => eprintln!("credentials saved in {}", file.path().display()),
        Storage::Helper(name) => eprintln!("credentials saved by docker-credential-{name}"),
    }
    print_line("Login Succeeded")
}

/// `hoist logout REGISTRY`.
///
/// # Errors
/// When the file or the helper cannot be changed.
pub fn logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let host = registry_host(&args.registry);
    if host.is_empty() {
        return Err(UsageError(format!("invalid registry {:?}", args.registry)).into());
    }
    let mut file = ConfigFile::load_default()?;
    if file
        .erase(&host)
        .with_context(|| format!("removing the credentials for {host}"))?
    {
        print_line(&format!("Removing login credentials for {host}"))
    } else {
        eprintln!("not logged in to {host}");
        Ok(())
    }
}

/// Asks the registry whether it accepts the credentials: resolving a probe
/// name makes it challenge, and the client answers with the credentials (a
/// Basic header, or a token request). Refused credentials come back as
/// `Unauthenticated`; "not found" or "denied" mean they were accepted (the
/// probe repository need not exist, nor be readable by this user).
fn check_credentials(
    context: &Context,
    host: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    let credentials = StaticCredentials::new().with(host, Credentials::basic(username, password));
    let mut options = context.client_options()?.with_credentials(credentials);
    options.retry.attempts = 1;
    let client = Client::new(options)?;
    let probe_name = if host == "docker.io" {
        "docker.io/library/hoist-login-check:latest".to_owned()
    } else {
        format!("{host}/hoist-login-check:latest")
    };
    let probe = crate::inputs::parse_reference(&probe_name)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match runtime.block_on(client.resolve(&probe)) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Denied) => Ok(()),
        Err(e) if e.kind() == ErrorKind::Unauthenticated => {
            Err(anyhow::Error::new(e).context("the registry refused the user name or password"))
        }
        Err(e) => Err(anyhow::Error::new(e).context("could not check the credentials")),
    }
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
