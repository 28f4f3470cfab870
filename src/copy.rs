//! Copy: registry to registry through the store, all platforms or some.
//! The source is fetched under the copy's lease (named nothing locally),
//! pushed from there, and the lease goes at the end. With referrers, the
//! pull side fetches those of the manifests fetched and the push side sends
//! those of the manifests pushed: one walker each, none of copy's own.

use std::sync::Arc;

use crate::error::Result;
use crate::progress::Progress;
use crate::pull::PullOptions;
use crate::push::{PushOptions, PushReport};
use crate::store::Store;
use crate::transfer;

impl Store {
    /// Copies `source` to `destination` with the platforms `options` names,
    /// and, with [`PushOptions::referrers`], the referrers of the manifests
    /// copied (and of the index, unless a reduced copy replaces it).
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
        // The pull side fetches the referrers of what it fetches; the push
        // side sends the stored referrers of what it pushes.
        pull.referrers = options.referrers.clone();
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
