//! Reading and forging tars for archive tests, including entries the `tar`
//! crate's safe API refuses to write (`..`, absolute paths).

use std::io::Read;

use tar::{EntryType, Header};

/// One entry of a tar, as raw as the tests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub name: Vec<u8>,
    pub kind: EntryType,
    pub data: Vec<u8>,
    pub link: Option<Vec<u8>>,
}

impl RawEntry {
    pub fn file(name: &str, data: &[u8]) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            kind: EntryType::Regular,
            data: data.to_vec(),
            link: None,
        }
    }

    pub fn link(name: &str, kind: EntryType, target: &str) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            kind,
            data: Vec::new(),
            link: Some(target.as_bytes().to_vec()),
        }
    }

    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Every entry of `tar`, in order.
pub fn read_entries(tar: &[u8]) -> Vec<RawEntry> {
    let mut archive = tar::Archive::new(tar);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.push(RawEntry {
            name,
            kind,
            data,
            link,
        });
    }
    out
}

/// A tar of `entries`, names written verbatim into the header.
pub fn write_entries(entries: &[RawEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = Header::new_gnu();
        header.set_entry_type(entry.kind);
        header.set_size(entry.data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        {
            let old = header.as_old_mut();
            assert!(
                entry.name.len() < old.name.len(),
                "test names must be short"
            );
            old.name.fill(0);
            old.name[..entry.name.len()].copy_from_slice(&entry.name);
            if let Some(link) = &entry.link {
                old.linkname.fill(0);
                old.linkname[..link.len()].copy_from_slice(link);
            }
        }
        header.set_cksum();
        builder.append(&header, entry.data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

/// `tar` with its entries passed through `change`.
pub fn rewrite(tar: &[u8], change: impl FnOnce(&mut Vec<RawEntry>)) -> Vec<u8> {
    let mut entries = read_entries(tar);
    change(&mut entries);
    write_entries(&entries)
}
