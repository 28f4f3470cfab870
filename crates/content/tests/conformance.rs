//! The conformance suite against the local store.

mod local {
    fn open(root: &std::path::Path) -> hoist_content::LocalStore {
        hoist_content::LocalStore::open(root).expect("open the local store")
    }

    hoist_content::content_store_conformance!(open);
}
