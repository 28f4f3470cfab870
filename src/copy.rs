//! Copy: registry to registry through the store, all platforms or some.
//! The source is fetched under the copy's lease (named nothing locally),
//! pushed from there, and the lease goes at the end.

use std::sync::Arc;

use crate::error::Result;
use crate::progress::Progress;
use crate::pull::PullOptions;
use crate::push::{PushOptions, PushReport};
use crate::store::Store;
use crate::transfer;

impl Store {
    /// Copies `source` to `destination` with the platforms `options` names.
    ///
    /// # Errors
    /// The errors of [`Store::pull`] and [`Store::push`].
    pub async fn copy(
        &self,
        source: &str,
        destination: &str,
        options: &PushOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<PushReport> {
        let source = transfer::parse_reference(source)?;
        let destination = transfer::parse_reference(destination)?;
        let lease = self.begin("copy")?;
        let mut pull = PullOptions::new(options.platforms.clone());
        pull.concurrency = options.concurrency;
        let fetched = self
            .fetch(
                &lease,
                &source,
                &source.to_string(),
                &pull,
                progress.clone(),
            )
            .await?;
        let report = self
            .push_image(&lease, fetched.image, &destination, options, progress)
            .await?;
        lease.finish()?;
        Ok(report)
    }
}
