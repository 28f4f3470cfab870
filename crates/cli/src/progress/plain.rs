//! Progress as plain lines, for logs: one line whenever a blob changes
//! state, never one per chunk.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{BlobState, BlobUpdate, describe};
use crate::output::short_digest;

/// The last state printed per blob.
pub struct PlainLines {
    printed: Mutex<HashMap<String, BlobState>>,
}

impl PlainLines {
    pub fn new() -> PlainLines {
        PlainLines {
            printed: Mutex::new(HashMap::new()),
        }
    }

    pub fn update(&self, update: &BlobUpdate) {
        let Ok(mut printed) = self.printed.lock() else {
            return;
        };
        if printed.get(&update.id) == Some(&update.state) {
            return;
        }
        printed.insert(update.id.clone(), update.state);
        eprintln!("{}: {}", label(&update.id), describe(update));
    }
}

/// A digest's short form, or the text as is (a reference).
fn label(id: &str) -> String {
    if id.starts_with("sha256:") || id.starts_with("sha512:") {
        short_digest(id, false)
    } else {
        id.to_owned()
    }
}
