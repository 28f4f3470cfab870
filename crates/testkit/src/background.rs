//! A tokio runtime on its own thread for the testkit's servers, so they serve
//! whatever runtime (or none) the test itself uses, and stop when dropped.

use tokio::runtime::Runtime;

use crate::error::{Error, Result};

/// Owns a one-worker runtime; dropping it stops every task spawned on it.
pub(crate) struct Background {
    runtime: Option<Runtime>,
}

impl Background {
    pub(crate) fn new(name: &str) -> Result<Background> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("testkit-{name}"))
            .enable_all()
            .build()
            .map_err(|e| Error::net(format!("starting the {name} runtime"), e))?;
        Ok(Background {
            runtime: Some(runtime),
        })
    }

    pub(crate) fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref().map(Runtime::handle)
    }

    /// Binds a loopback listener inside the runtime (tokio sockets must be
    /// registered with the runtime that polls them).
    pub(crate) fn bind_loopback(&self, what: &str) -> Result<tokio::net::TcpListener> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::net(format!("binding a loopback port for the {what}"), e))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| Error::net(format!("configuring the {what} socket"), e))?;
        let handle = self
            .handle()
            .ok_or_else(|| Error::Other(format!("the {what} runtime is gone")))?;
        let _entered = handle.enter();
        tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| Error::net(format!("registering the {what} socket"), e))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
