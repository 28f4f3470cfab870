//! What a push's destination holds already: each manifest to push (and the
//! top index) asked for by digest, all at once, before any blob. A registry
//! accepts a manifest only once every blob it names is in the repository,
//! so the blobs of a manifest that is there need no question of their own:
//! pushing an image again costs one round trip instead of one per blob in
//! each wave, as containerd's push skips what a present manifest covers.
//! The tag is asked for in the same wave: when it already names the
//! document to push, there is nothing to write at all.

use std::collections::HashSet;

use futures_util::StreamExt as _;
use hoist_content::Digest;
use hoist_image::Document;
use hoist_remote::{Client, Repository};

use crate::error::Result;

/// The manifests the destination has, and the blobs only they name.
#[derive(Debug, Default)]
pub(crate) struct Present {
    /// The top document is there, and so is every manifest it reaches.
    top: bool,
    /// The tag already names the top document: the registry's own answer
    /// that the push would change nothing.
    tag_current: bool,
    manifests: HashSet<Digest>,
    /// Blobs some absent manifest names: these are still asked for.
    needed: HashSet<Digest>,
}

impl Present {
    /// Whether the blob `digest` is known to be there.
    pub(crate) fn has_blob(&self, digest: &Digest) -> bool {
        self.top || !self.needed.contains(digest)
    }

    /// Whether the manifest `digest` is there.
    pub(crate) fn has_manifest(&self, digest: &Digest) -> bool {
        self.top || self.manifests.contains(digest)
    }

    /// Whether the tag already names the top document (so it, and all it
    /// reaches, is there).
    pub(crate) fn tag_current(&self) -> bool {
        self.tag_current
    }
}

/// Asks `repository` for `top` (when it is an index) and for each of
/// `manifests`, `concurrency` at a time, and, with `tag`, what the tag
/// names, in the same wave.
///
/// # Errors
/// Registry errors of the questions.
pub(crate) async fn ask(
    client: &Client,
    repository: &Repository,
    tag: Option<&str>,
    top: &Document,
    manifests: &[Document],
    concurrency: usize,
) -> Result<Present> {
    let mut asked: Vec<&Digest> = manifests.iter().map(Document::digest).collect();
    if matches!(top, Document::Index(_)) {
        asked.push(top.digest());
    }
    let tag_question = async {
        match tag {
            Some(tag) => client.tag_digest(repository, tag).await,
            None => Ok(None),
        }
    };
    let manifest_questions = futures_util::stream::iter(asked)
        .map(|digest| async move {
            let there = client.manifest_exists(repository, digest).await?;
            Ok((digest.clone(), there))
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<Result<(Digest, bool)>>>();
    let (tagged, answers) = tokio::join!(tag_question, manifest_questions);
    let tagged = tagged?;
    let mut present = Present::default();
    for answer in answers {
        let (digest, there) = answer?;
        if there {
            present.top |= digest == *top.digest() && matches!(top, Document::Index(_));
            present.manifests.insert(digest);
        }
    }
    // An index is taken as whole only when every manifest it reaches
    // answered too: one deleted from the repository since leaves the index
    // dangling, and the push then puts it back (with whatever blobs it
    // lacks) before the tag.
    let all_there = manifests
        .iter()
        .all(|document| present.manifests.contains(document.digest()));
    present.top &= all_there;
    if tagged.as_ref() == Some(top.digest()) && all_there {
        present.top = true;
        present.tag_current = true;
        return Ok(present);
    }
    for document in manifests {
        if present.manifests.contains(document.digest()) {
            continue;
        }
        if let Document::Manifest(manifest) = document {
            present
                .needed
                .extend(manifest.blobs().map(|blob| blob.digest.clone()));
        }
    }
    Ok(present)
}
