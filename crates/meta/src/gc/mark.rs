//! Marking: from the roots of one namespace along its edges.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use crate::clock;
use crate::compact_digest::CompactDigest;
use crate::keys::ResourceKind;
use crate::labels::{self, GC_FLAT};
use crate::records::{ImageRecord, IngestRecord};

use super::graph::{BlobGraph, NodeId, NsGraph};
use super::{image_expired, lease_expired};

/// Not reached (yet).
const UNMARKED: u8 = 0;
/// Reached, by a flat hold at least: kept.
const KEPT: u8 = 1;
/// Reached and its references followed.
const FOLLOWED: u8 = 2;

/// What survives in one namespace.
pub(crate) struct Marked<'g> {
    /// A mark per content record, by node.
    blobs: Vec<u8>,
    pub(crate) images: HashSet<&'g str>,
    pub(crate) leases: HashSet<&'g str>,
    pub(crate) ingests: HashSet<&'g str>,
}

impl Marked<'_> {
    /// Whether the content record `node` survives.
    pub(crate) fn kept(&self, node: NodeId) -> bool {
        self.blobs[node as usize] != UNMARKED
    }
}

/// A digest to visit, and whether to follow its references.
struct Visit<'k> {
    target: Target<'k>,
    follow: bool,
}

/// A digest as a root names it (parsed on the way) or as a node's edge.
enum Target<'k> {
    Parsed(CompactDigest),
    Edge(&'k CompactDigest),
    Node(NodeId),
}

/// Marks one namespace: roots, then edges, depth first, by the rules in
/// the module docs of `gc`.
pub(crate) fn mark<'g>(ns: &str, g: &'g NsGraph, now: SystemTime) -> Marked<'g> {
    let mut marked = Marked {
        blobs: vec![UNMARKED; g.blobs.len()],
        images: HashSet::new(),
        leases: HashSet::new(),
        ingests: HashSet::new(),
    };
    let mut stack: Vec<Visit<'g>> = Vec::new();
    let parsed = |digest: &str, follow: bool| Visit {
        target: Target::Parsed(CompactDigest::parse(digest)),
        follow,
    };
    let images: HashMap<&str, &ImageRecord> = g
        .images
        .iter()
        .map(|(name, r)| (name.as_str(), r))
        .collect();
    let ingests: HashMap<&str, &IngestRecord> =
        g.ingests.iter().map(|(r, rec)| (r.as_str(), rec)).collect();

    let push_image = |stack: &mut Vec<Visit<'g>>, record: &ImageRecord, flat: bool| {
        stack.push(parsed(record.target.digest.as_str(), !flat));
        if !flat {
            stack.extend(labels::content_refs(&record.labels).map(|d| parsed(d, true)));
        }
    };
    let push_ingest = |stack: &mut Vec<Visit<'g>>, record: &IngestRecord| {
        if let Some(expected) = &record.expected {
            stack.push(parsed(expected.as_str(), true));
        }
    };

    for (id, record) in &g.leases {
        if lease_expired(ns, id, record, now) {
            continue;
        }
        marked.leases.insert(id);
        let flat = record.labels.contains_key(GC_FLAT);
        for (kind, name) in g.resources.get(id).into_iter().flatten() {
            match kind {
                ResourceKind::Content => stack.push(parsed(name, !flat)),
                ResourceKind::Ingest => {
                    if let Some((reference, record)) = ingests.get_key_value(name.as_str()) {
                        marked.ingests.insert(reference);
                        push_ingest(&mut stack, record);
                    }
                }
                ResourceKind::Image => {
                    if let Some((image, record)) = images.get_key_value(name.as_str()) {
                        marked.images.insert(image);
                        push_image(&mut stack, record, flat);
                    }
                }
            }
        }
    }
    for (name, record) in &g.images {
        if !image_expired(ns, name, record, now) {
            marked.images.insert(name);
            push_image(&mut stack, record, false);
        }
    }
    let now_nanos = clock::to_nanos(now);
    for (reference, record) in &g.ingests {
        let live = match (&record.lease, record.expires) {
            // Its lease's resource list marked it above if the lease lives.
            (Some(_), _) => false,
            (None, Some(expires)) => expires > now_nanos,
            (None, None) => false,
        };
        if live {
            marked.ingests.insert(reference);
            push_ingest(&mut stack, record);
        }
    }
    stack.extend(g.blobs.roots().iter().map(|&node| Visit {
        target: Target::Node(node),
        follow: true,
    }));
    mark_blobs(&g.blobs, &mut marked.blobs, stack);
    marked
}

/// Marks content records from `stack`, depth first.
fn mark_blobs<'g>(blobs: &'g BlobGraph, marks: &mut [u8], mut stack: Vec<Visit<'g>>) {
    while let Some(Visit { target, follow }) = stack.pop() {
        let node = match target {
            Target::Node(node) => Some(node),
            Target::Edge(digest) => blobs.find(digest),
            Target::Parsed(digest) => blobs.find(&digest),
        };
        let Some(node) = node else {
            continue; // a dead edge
        };
        let mark = &mut marks[node as usize];
        match (*mark, follow) {
            (FOLLOWED, _) | (KEPT, false) => {}
            (_, false) => *mark = KEPT,
            (_, true) => {
                *mark = FOLLOWED;
                stack.extend(blobs.refs(node).iter().map(|digest| Visit {
                    target: Target::Edge(digest),
                    follow: true,
                }));
                // Referrers (signatures, SBOMs) go where their subject goes.
                stack.extend(blobs.held_by(node).map(|held| Visit {
                    target: Target::Node(held),
                    follow: true,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ResourceKind;
    use crate::records::LeaseRecord;

    #[test]
    fn flat_roots_do_not_follow_labels_and_dead_edges_are_fine() {
        let mut g = NsGraph::default();
        g.blobs.add_for_test("a", &["b", "missing"], false);
        g.blobs.add_for_test("b", &["c"], false);
        g.blobs.add_for_test("c", &[], false);
        g.blobs.add_for_test("r", &["c"], true);
        g.blobs.add_for_test("unreached", &["a"], false);
        g.leases.push((
            "flat".into(),
            LeaseRecord {
                created: 0,
                labels: [(GC_FLAT.to_owned(), "1".to_owned())].into(),
            },
        ));
        g.resources
            .insert("flat".into(), vec![(ResourceKind::Content, "a".into())]);
        let marked = mark("ns", &g, SystemTime::now());
        let mut content: Vec<String> = g
            .blobs
            .iter()
            .filter(|(node, _)| marked.kept(*node))
            .map(|(_, digest)| digest.to_string())
            .collect();
        content.sort();
        assert_eq!(content, ["a", "c", "r"]);
    }

    #[test]
    fn back_references_hold_a_record_while_its_holder_is_held() {
        let mut g = NsGraph::default();
        g.blobs.add_for_test("subject", &["layer"], false);
        g.blobs.add_for_test("layer", &[], false);
        g.blobs
            .add_with_back_refs_for_test("sig", &["sig-layer"], &["subject"], false);
        g.blobs.add_for_test("sig-layer", &[], false);
        g.blobs
            .add_with_back_refs_for_test("sig-of-sig", &[], &["sig"], false);
        g.blobs
            .add_with_back_refs_for_test("other-sig", &[], &["other"], false);
        g.blobs.add_for_test("other", &[], false);
        g.blobs.add_for_test("root", &["subject"], true);
        let marked = mark("ns", &g, SystemTime::now());
        let mut content: Vec<String> = g
            .blobs
            .iter()
            .filter(|(node, _)| marked.kept(*node))
            .map(|(_, digest)| digest.to_string())
            .collect();
        content.sort();
        assert_eq!(
            content,
            ["layer", "root", "sig", "sig-layer", "sig-of-sig", "subject"]
        );
    }
}
