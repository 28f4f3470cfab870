//! What every command shares: the store's root and namespace, and how to
//! reach registries (insecure hosts, certs.d, Docker's credentials).

use std::path::PathBuf;

use crate::args::GlobalArgs;
use crate::root::store_root;
use anyhow::Context as _;

/// The global settings of one invocation.
#[derive(Debug, Clone)]
pub struct Context {
    /// The store's folder.
    pub root: PathBuf,
    /// The namespace.
    pub namespace: String,
    /// Registries reached over plain HTTP or unverified TLS.
    pub insecure_registries: Vec<String>,
    /// containerd's certs.d folder.
    pub hosts_dir: Option<PathBuf>,
    /// The config file, read once, when a command first needs it.
    config: std::cell::OnceCell<crate::config::Config>,
}

impl Context {
    /// The settings from the global flags and the environment.
    ///
    /// # Errors
    /// When no root can be found.
    pub fn from_args(global: &GlobalArgs) -> anyhow::Result<Context> {
        if global.namespace.trim().is_empty() {
            return Err(crate::exit::UsageError(
                "invalid namespace \"\": it must not be empty".to_owned(),
            )
            .into());
        }
        // A wrong override would silently be ignored by the library; refuse it.
        if let Err(error) = hoist::platform::host_override() {
            return Err(crate::exit::UsageError(format!(
                "invalid {}: {error}",
                hoist::platform::HOST_PLATFORM_ENV
            ))
            .into());
        }
        Ok(Context {
            root: store_root(global.root.clone())?,
            namespace: global.namespace.clone(),
            insecure_registries: global.insecure_registries.clone(),
            hosts_dir: global.hosts_dir.clone(),
            config: std::cell::OnceCell::new(),
        })
    }

    /// Opens (creating when needed) the store at the root, in the namespace.
    ///
    /// # Errors
    /// When the store cannot be opened (a bad namespace, a damaged root,
    /// file-system errors).
    pub fn open_store(&self) -> anyhow::Result<hoist::Store> {
        hoist::Store::open(&self.root, self.store_options())
            .with_context(|| format!("opening the store at {}", self.root.display()))
    }

    fn store_options(&self) -> hoist::StoreOptions {
        let mut options = hoist::StoreOptions::default().namespace(self.namespace.clone());
        if let Some(dir) = &self.hosts_dir {
            options = options.hosts_dir(dir.clone());
        }
        for host in &self.insecure_registries {
            options = options.insecure(host.clone());
        }
        options
    }

    /// The config file's settings, read on first use and kept for the rest
    /// of the invocation.
    ///
    /// # Errors
    /// A config file that cannot be read or parsed (exit 2).
    pub fn config(&self) -> anyhow::Result<&crate::config::Config> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let loaded = crate::config::load()?;
        Ok(self.config.get_or_init(|| loaded))
    }

    /// Opens the store for a command that talks to registries: as
    /// [`Context::open_store`], with the config file's `[transfer]`
    /// settings that shape the registry client (`http2`). Commands that stay
    /// local do not read the config file, so a broken one never stops them.
    ///
    /// # Errors
    /// A config file that cannot be read or parsed (exit 2); as
    /// [`Context::open_store`].
    pub fn open_remote_store(&self) -> anyhow::Result<hoist::Store> {
        let config = self.config()?;
        let options = self.store_options().http1_only(!config.transfer.http2);
        hoist::Store::open(&self.root, options)
            .with_context(|| format!("opening the store at {}", self.root.display()))
    }

    /// The async runtime that pull, push, copy and remote reads run on.
    ///
    /// # Errors
    /// When the runtime's threads cannot be started.
    pub fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")
    }
}
