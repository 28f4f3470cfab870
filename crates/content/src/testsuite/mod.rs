//! The conformance suite every content store runs (feature `testsuite`).
//!
//! Written once, generic over the store, in the manner of containerd's
//! `core/content/testsuite`: the local store runs it in
//! `crates/content/tests/conformance.rs`, the namespaced meta store runs the
//! same cases. A store is given as a factory `fn(&Path) -> S` opening the store
//! at a root directory, so that a child process can open the same root.
//!
//! ```
//! // tests/conformance.rs of a crate with a store, in its own module so the
//! // generated test names cannot clash with others:
//! mod local {
//!     fn open(root: &std::path::Path) -> hoist_content::LocalStore {
//!         hoist_content::LocalStore::open(root).expect("open the store")
//!     }
//!     hoist_content::content_store_conformance!(open);
//! }
//! # fn main() {}
//! ```
//!
//! The macro expands to one `#[test]` per case, a test that fails if a case
//! in `cases.rs` is missing from the macro's list, and the hidden child-process
//! entry point (see [`child`]).
//!
//! Cases assume nothing of a store's internals: "nothing appears under
//! `blobs/`" is checked as "`info` is not found and `walk` does not list it".

// This module is test code compiled into the library (so other crates can
// run it): a panic here is a failing test, as in any #[test].
#![allow(
    clippy::unwrap_used,
    reason = "conformance cases are tests; a panic is the failure report"
)]

pub mod cases;
pub mod child;
pub mod data;

use std::path::Path;

use crate::store::Store;

/// What every case gets: how to open the store, and how to reach the hidden
/// child test of the binary running the suite.
pub struct Suite<S> {
    open: fn(&Path) -> S,
    child_test: String,
}

impl<S: Store> Suite<S> {
    /// The suite for the store `open` makes. `module_path` is the
    /// `module_path!()` where the macro was expanded; it names the child test.
    pub fn new(open: fn(&Path) -> S, module_path: &str) -> Suite<S> {
        // libtest names tests by their path without the crate's name.
        let child_test = match module_path.split_once("::") {
            Some((_crate, module)) => format!("{module}::conformance_child_process"),
            None => "conformance_child_process".to_owned(),
        };
        Suite { open, child_test }
    }

    /// Opens the store at `root`.
    pub fn open(&self, root: &Path) -> S {
        (self.open)(root)
    }

    pub(crate) fn child_test(&self) -> &str {
        &self.child_test
    }
}

/// The source of the cases, read by the guard below.
const CASES_SOURCE: &str = include_str!("cases.rs");

/// Every case `cases.rs` defines (each `pub fn` at the start of a line).
pub fn defined_cases() -> Vec<&'static str> {
    CASES_SOURCE
        .lines()
        .filter_map(|line| line.strip_prefix("pub fn "))
        .filter_map(|rest| rest.split(['<', '(']).next())
        .collect()
}

/// The guard: fails if the macro's list and the defined cases differ.
///
/// # Panics
/// When a case is missing from the list, or the list names an unknown case.
pub fn assert_every_case_listed(listed: &[&str]) {
    let defined = defined_cases();
    let missing: Vec<_> = defined.iter().filter(|c| !listed.contains(c)).collect();
    let unknown: Vec<_> = listed.iter().filter(|c| !defined.contains(c)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "content_store_conformance! lists the wrong cases: missing {missing:?}, unknown {unknown:?}"
    );
    assert!(
        defined.len() >= 20,
        "the guard found the cases ({defined:?})"
    );
}

/// Expands the conformance suite for a store factory `fn(&Path) -> S`: one
/// `#[test]` per case, the guard that no case is left off, and the hidden
/// child-process entry point. Expand it inside its own module.
#[macro_export]
macro_rules! content_store_conformance {
    ($open:path) => {
        $crate::content_store_conformance!(@cases $open;
            basic_write_commit_read,
            writer_for_committed_digest_is_already_exists,
            commit_of_existing_content_is_already_exists,
            commit_with_wrong_size_fails_and_keeps_the_ingest,
            commit_with_wrong_digest_publishes_nothing,
            resume_after_close,
            resume_after_truncate,
            resume_in_a_new_process,
            resume_after_the_writer_process_is_killed,
            writer_in_another_process_holds_ref_and_digest,
            concurrent_writers_on_one_ref,
            concurrent_writers_on_one_digest_download_once,
            delete_while_a_reader_is_open,
            walk_and_filters,
            small_and_empty_blobs,
            sha512_blobs,
            random_access_and_seek,
            ingest_listing_and_abort,
            abort_idle_skips_live_writers,
            invalid_input_is_rejected,
            copy_resumes_from_the_writer_offset,
            streaming_a_gib_blob_in_flat_memory,
        );
    };
    (@cases $open:path; $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                let suite = $crate::testsuite::Suite::new($open, module_path!());
                $crate::testsuite::cases::$case(&suite);
            }
        )+

        #[test]
        fn conformance_lists_every_case() {
            $crate::testsuite::assert_every_case_listed(&[$(stringify!($case)),+]);
        }

        #[test]
        #[ignore = "entry point of the child processes the conformance cases spawn"]
        fn conformance_child_process() {
            $crate::testsuite::child::run_child($open);
        }
    };
}
