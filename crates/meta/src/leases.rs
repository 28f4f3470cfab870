//! Leases: named, expiring holds on content, ingests and images.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use hoist_content::{Digest, Labels};

use crate::clock;
use crate::crash;
use crate::database::Session;
use crate::error::{Error, Result};
use crate::keys::{self, ResourceKind, Table};
use crate::kv::Batch;
use crate::labels::{self, GC_EXPIRE, GC_FLAT};
use crate::namespace::Namespace;
use crate::records::{self, LeaseRecord};
use crate::store;

/// A lease: while it exists and has not expired, everything it holds (and,
/// unless it is flat, everything that references) stays through GC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Its id, unique in the namespace.
    pub id: String,
    /// Its labels; `containerd.io/gc.expire` and `containerd.io/gc.flat`
    /// are read by GC.
    pub labels: Labels,
    /// When it was created.
    pub created_at: SystemTime,
}

impl Lease {
    /// When it stops protecting anything, if it expires.
    pub fn expires_at(&self) -> Option<SystemTime> {
        labels::expiry(&self.labels, &format_args!("lease {:?}", self.id))
    }

    /// True when it has expired (GC treats it as gone, and deletes it).
    pub fn is_expired(&self) -> bool {
        self.expires_at().is_some_and(|at| at <= SystemTime::now())
    }

    /// True when it pins only what it names, not what that references.
    pub fn is_flat(&self) -> bool {
        self.labels.contains_key(GC_FLAT)
    }

    fn from_record(id: String, record: LeaseRecord) -> Lease {
        Lease {
            id,
            labels: record.labels,
            created_at: clock::from_nanos(record.created),
        }
    }
}

/// How to create a lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaseOptions {
    id: Option<String>,
    labels: Labels,
}

impl LeaseOptions {
    /// A lease with a random id, no expiry, not flat.
    pub fn new() -> LeaseOptions {
        LeaseOptions::default()
    }

    /// Uses `id` instead of a random one.
    pub fn id(mut self, id: impl Into<String>) -> LeaseOptions {
        self.id = Some(id.into());
        self
    }

    /// Sets label `key` to `value`.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> LeaseOptions {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Expires the lease at `at` (the `containerd.io/gc.expire` label).
    pub fn expires_at(self, at: SystemTime) -> LeaseOptions {
        self.label(GC_EXPIRE, clock::format_rfc3339(at))
    }

    /// Expires the lease `ttl` from now. Leases that expire are the safety
    /// net for a killed process: its lease stops pinning after the TTL.
    pub fn expires_in(self, ttl: Duration) -> LeaseOptions {
        self.expires_at(SystemTime::now() + ttl)
    }

    /// Makes the lease flat: it pins only the objects it names.
    pub fn flat(self) -> LeaseOptions {
        self.label(GC_FLAT, "true")
    }
}

/// An object a lease holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// A blob, by digest.
    Content(Digest),
    /// An ingest, by its reference in the namespace.
    Ingest(String),
    /// An image, by name.
    Image(String),
}

impl Resource {
    fn parts(&self) -> (ResourceKind, &str) {
        match self {
            Resource::Content(digest) => (ResourceKind::Content, digest.as_str()),
            Resource::Ingest(reference) => (ResourceKind::Ingest, reference),
            Resource::Image(name) => (ResourceKind::Image, name),
        }
    }

    pub(crate) fn parse(kind: &str, name: &str) -> Result<Resource> {
        match ResourceKind::from_tag(kind) {
            Some(ResourceKind::Content) => Ok(Resource::Content(
                name.parse::<Digest>().map_err(Error::from)?,
            )),
            Some(ResourceKind::Ingest) => Ok(Resource::Ingest(name.to_owned())),
            Some(ResourceKind::Image) => Ok(Resource::Image(name.to_owned())),
            None => Err(Error::data_loss(format!(
                "unknown lease resource kind {kind:?}"
            ))),
        }
    }
}

/// The leases of one namespace.
#[derive(Debug, Clone)]
pub struct Leases {
    ns: Namespace,
}

impl Leases {
    pub(crate) fn new(ns: Namespace) -> Leases {
        Leases { ns }
    }

    /// Creates a lease.
    ///
    /// # Errors
    /// Invalid argument for a bad id or labels; already exists if the id is taken.
    pub fn create(&self, options: LeaseOptions) -> Result<Lease> {
        let id = match options.id {
            Some(id) => id,
            None => random_id(),
        };
        keys::check_identifier("lease id", &id)?;
        labels::validate(&options.labels)?;
        if let Some(value) = options.labels.get(GC_EXPIRE) {
            clock::parse_rfc3339(value)?;
        }
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        let key = keys::lease(ns, &id);
        if session.kv().get(&key)?.is_some() {
            return Err(Error::already_exists(format!(
                "lease {id:?} already exists in namespace {ns:?}"
            )));
        }
        let record = LeaseRecord {
            created: clock::to_nanos(SystemTime::now()),
            labels: options.labels,
        };
        let mut batch = Batch::default();
        store::ensure_namespace(&session, ns, &mut batch)?;
        batch.put(key, records::encode(&record)?);
        session.kv().write(batch)?;
        Ok(Lease::from_record(id, record))
    }

    /// The lease `id`.
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn get(&self, id: &str) -> Result<Lease> {
        keys::check_identifier("lease id", id)?;
        let session = self.ns.store().session()?;
        read(&session, self.ns.name(), id)?.ok_or_else(|| not_found(self.ns.name(), id))
    }

    /// Every lease of the namespace, expired ones included, in id order.
    ///
    /// # Errors
    /// Database errors.
    pub fn list(&self) -> Result<Vec<Lease>> {
        let session = self.ns.store().session()?;
        let mut leases = Vec::new();
        session.kv().scan(
            &keys::key(Table::Lease, &[self.ns.name()]),
            &mut |key, value| {
                let id = keys::last_part(key)?.to_owned();
                leases.push(Lease::from_record(id, records::decode(key, value)?));
                Ok(true)
            },
        )?;
        Ok(leases)
    }

    /// Deletes the lease `id` and its list of resources, in one batch. What
    /// it held stays until a GC finds it unreferenced.
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn delete(&self, id: &str) -> Result<()> {
        keys::check_identifier("lease id", id)?;
        let deletions = {
            let session = self.ns.store().session()?;
            let _mutation = session.mutation();
            let ns = self.ns.name();
            let key = keys::lease(ns, id);
            if session.kv().get(&key)?.is_none() {
                return Err(not_found(ns, id));
            }
            let mut batch = Batch::default();
            session
                .kv()
                .scan(&keys::lease_resources(ns, id), &mut |resource_key, _| {
                    batch.delete(resource_key.to_vec());
                    Ok(true)
                })?;
            batch.delete(key);
            let deletions = store::count_deletion(&session, &mut batch)?;
            crash::point("lease-delete:before-batch");
            session.kv().write(batch)?;
            crash::point("lease-delete:after-batch");
            deletions
        };
        self.ns.store().maybe_collect(deletions);
        Ok(())
    }

    /// Adds `resource` to the lease `id` (idempotent).
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn add_resource(&self, id: &str, resource: &Resource) -> Result<()> {
        keys::check_identifier("lease id", id)?;
        let (kind, name) = resource.parts();
        keys::check_part("lease resource", name)?;
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        if session.kv().get(&keys::lease(ns, id))?.is_none() {
            return Err(not_found(ns, id));
        }
        let mut batch = Batch::default();
        batch.put(keys::lease_resource(ns, id, kind, name), Vec::new());
        session.kv().write(batch)
    }

    /// Removes `resource` from the lease `id` (idempotent).
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn delete_resource(&self, id: &str, resource: &Resource) -> Result<()> {
        keys::check_identifier("lease id", id)?;
        let (kind, name) = resource.parts();
        let session = self.ns.store().session()?;
        let _mutation = session.mutation();
        let ns = self.ns.name();
        if session.kv().get(&keys::lease(ns, id))?.is_none() {
            return Err(not_found(ns, id));
        }
        let mut batch = Batch::default();
        batch.delete(keys::lease_resource(ns, id, kind, name));
        session.kv().write(batch)
    }

    /// What the lease `id` holds, in kind and name order.
    ///
    /// # Errors
    /// Not found if there is no such lease.
    pub fn resources(&self, id: &str) -> Result<Vec<Resource>> {
        keys::check_identifier("lease id", id)?;
        let session = self.ns.store().session()?;
        let ns = self.ns.name();
        if session.kv().get(&keys::lease(ns, id))?.is_none() {
            return Err(not_found(ns, id));
        }
        let mut resources = Vec::new();
        session
            .kv()
            .scan(&keys::lease_resources(ns, id), &mut |key, _| {
                let parts = keys::parts(key)?;
                if let [_, _, _, kind, name] = parts.as_slice() {
                    resources.push(Resource::parse(kind, name)?);
                }
                Ok(true)
            })?;
        Ok(resources)
    }
}

fn not_found(ns: &str, id: &str) -> Error {
    Error::not_found(format!("lease {id:?} not found in namespace {ns:?}"))
}

fn read(session: &Session, ns: &str, id: &str) -> Result<Option<Lease>> {
    let key = keys::lease(ns, id);
    match session.kv().get(&key)? {
        Some(bytes) => Ok(Some(Lease::from_record(
            id.to_owned(),
            records::decode(&key, &bytes)?,
        ))),
        None => Ok(None),
    }
}

/// Fails unless the lease `id` exists and has not expired: writing under a
/// lease that no longer protects anything would look safe and not be.
pub(crate) fn require_live(session: &Session, ns: &str, id: &str) -> Result<()> {
    match read(session, ns, id)? {
        None => Err(Error::precondition(format!(
            "lease {id:?} no longer exists in namespace {ns:?}"
        ))),
        Some(lease) if lease.is_expired() => Err(Error::precondition(format!(
            "lease {id:?} in namespace {ns:?} has expired"
        ))),
        Some(_) => Ok(()),
    }
}

/// A fresh lease id: the time in nanoseconds, the pid and a counter, hashed.
fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{}-{}-{}",
        clock::to_nanos(SystemTime::now()),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let digest = Digest::sha256_of(seed.as_bytes());
    format!(
        "{}-{}",
        clock::to_nanos(SystemTime::now()) / 1_000_000_000,
        &digest.hex()[..16]
    )
}
