//! Images and leases: creation and validation, listing with filters, updates,
//! conditional deletes, tag and rename; leases with ids, labels, expiry and
//! resources; namespaces.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use hoist_content::{Digest, Ingester, Manager, WriterOptions};
use hoist_meta::{
    Descriptor, ErrorKind, GC_EXPIRE, Image, ImageFilter, ImageUpdate, LeaseOptions, Resource,
};

fn target(bytes: &[u8]) -> Descriptor {
    Descriptor::new(MANIFEST, Digest::sha256_of(bytes), bytes.len() as u64)
}

#[test]
fn create_get_and_validate_images() {
    let fx = fresh();
    let images = fx.ns("default").images();
    let created = images
        .create(Image::new("example.com/a:1", target(b"a")).label("team", "x"))
        .unwrap();
    assert_eq!(created.name, "example.com/a:1");
    assert_eq!(created.created_at, created.updated_at);
    let got = images.get("example.com/a:1").unwrap();
    assert_eq!(got, created);

    let err = images
        .create(Image::new("example.com/a:1", target(b"b")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(err.to_string().contains("example.com/a:1"), "{err}");
    // The failed create changed nothing.
    assert_eq!(images.get("example.com/a:1").unwrap().target, target(b"a"));

    let cases = [
        Image::new("", target(b"x")),
        Image::new("a\0b", target(b"x")),
        Image::new(
            "zero",
            Descriptor::new(MANIFEST, Digest::sha256_of(b"x"), 0),
        ),
        Image::new("no-type", Descriptor::new(" ", Digest::sha256_of(b"x"), 1)),
        Image::new("big-label", target(b"x")).label("k", "v".repeat(5000)),
    ];
    for image in cases {
        let name = image.name.clone();
        let err = images.create(image).unwrap_err();
        assert!(err.is_invalid_argument(), "{name:?}: {err}");
    }
    assert!("sha256:short".parse::<Digest>().is_err());
    let err = images.get("missing").unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn list_filters_by_name_prefix_label_and_target() {
    let fx = fresh();
    let images = fx.ns("default").images();
    for (name, team) in [
        ("a.io/x:1", "red"),
        ("a.io/x:2", "blue"),
        ("b.io/y:1", "red"),
    ] {
        images
            .create(Image::new(name, target(name.as_bytes())).label("team", team))
            .unwrap();
    }
    let names = |filter: &ImageFilter| -> Vec<String> {
        images
            .list(filter)
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect()
    };
    assert_eq!(
        names(&ImageFilter::all()),
        ["a.io/x:1", "a.io/x:2", "b.io/y:1"]
    );
    assert_eq!(names(&ImageFilter::all().name("b.io/y:1")), ["b.io/y:1"]);
    assert_eq!(
        names(&ImageFilter::all().name_prefix("a.io/")),
        ["a.io/x:1", "a.io/x:2"]
    );
    assert_eq!(
        names(&ImageFilter::all().label("team", Some("red"))),
        ["a.io/x:1", "b.io/y:1"]
    );
    assert_eq!(
        names(
            &ImageFilter::all()
                .label("team", Some("red"))
                .name_prefix("b.")
        ),
        ["b.io/y:1"]
    );
    assert!(names(&ImageFilter::all().label("team", Some("green"))).is_empty());
    assert_eq!(names(&ImageFilter::all().label("team", None)).len(), 3);
    assert_eq!(
        names(&ImageFilter::all().target(Digest::sha256_of(b"a.io/x:2"))),
        ["a.io/x:2"]
    );
    // Another namespace sees none of them.
    assert!(
        fx.ns("other")
            .images()
            .list(&ImageFilter::all())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn update_conditional_delete_tag_and_rename() {
    let fx = fresh();
    let images = fx.ns("default").images();
    let first = images.create(Image::new("app:1", target(b"v1"))).unwrap();
    let updated = images
        .update(
            "app:1",
            ImageUpdate::new()
                .target(target(b"v2"))
                .labels(labels(&[("k", "v")])),
        )
        .unwrap();
    assert_eq!(updated.target, target(b"v2"));
    assert_eq!(updated.labels, labels(&[("k", "v")]));
    assert_eq!(updated.created_at, first.created_at);
    assert!(updated.updated_at >= first.updated_at);
    let err = images
        .update(
            "app:1",
            ImageUpdate::new().target(Descriptor::new("", Digest::sha256_of(b"x"), 1)),
        )
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
    assert!(
        images
            .update("nope", ImageUpdate::new())
            .unwrap_err()
            .is_not_found()
    );

    // Delete only if the target is still what we think.
    let err = images
        .delete_if_target("app:1", &Digest::sha256_of(b"v1"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    assert!(
        images.get("app:1").is_ok(),
        "a failed conditional delete keeps the image"
    );

    // Tag: a second name for the same target; an existing tag is replaced.
    images
        .create(Image::new("app:latest", target(b"old")))
        .unwrap();
    let tagged = images.tag("app:1", "app:latest").unwrap();
    assert_eq!(tagged.target, target(b"v2"));
    assert_eq!(images.get("app:1").unwrap().target, target(b"v2"));
    assert_eq!(images.get("app:latest").unwrap().target, target(b"v2"));

    // Rename: refused onto an existing name, else the old name goes.
    let err = images.rename("app:1", "app:latest").unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    let renamed = images.rename("app:1", "app:2").unwrap();
    assert_eq!(renamed.name, "app:2");
    assert!(images.get("app:1").unwrap_err().is_not_found());
    assert_eq!(images.get("app:2").unwrap().target, target(b"v2"));
    assert!(images.rename("app:1", "app:3").unwrap_err().is_not_found());

    images
        .delete_if_target("app:2", &Digest::sha256_of(b"v2"))
        .unwrap();
    images.delete("app:latest").unwrap();
    assert!(images.delete("app:latest").unwrap_err().is_not_found());
    assert!(images.list(&ImageFilter::all()).unwrap().is_empty());
}

#[test]
fn leases_ids_labels_expiry_and_resources() {
    let fx = fresh();
    let ns = fx.ns("default");
    let leases = ns.leases();
    let named = leases
        .create(LeaseOptions::new().id("pull-1").label("purpose", "pull"))
        .unwrap();
    assert_eq!(named.id, "pull-1");
    assert_eq!(
        named.labels.get("purpose").map(String::as_str),
        Some("pull")
    );
    assert!(named.expires_at().is_none());
    assert!(!named.is_flat());
    let random = leases
        .create(
            LeaseOptions::new()
                .expires_in(Duration::from_secs(60))
                .flat(),
        )
        .unwrap();
    assert_ne!(random.id, named.id);
    assert!(random.is_flat());
    let expiry = random.expires_at().unwrap();
    assert!(expiry > SystemTime::now() && expiry < SystemTime::now() + Duration::from_secs(61));
    let other_random = leases.create(LeaseOptions::new()).unwrap();
    assert_ne!(other_random.id, random.id);

    let err = leases.create(LeaseOptions::new().id("pull-1")).unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    for bad in ["", "has space", "a/b", "-x"] {
        let err = leases.create(LeaseOptions::new().id(bad)).unwrap_err();
        assert!(err.is_invalid_argument(), "{bad:?}: {err}");
    }
    let err = leases
        .create(LeaseOptions::new().label(GC_EXPIRE, "tomorrow"))
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");

    let mut ids: Vec<String> = leases.list().unwrap().into_iter().map(|l| l.id).collect();
    ids.sort();
    let mut expected = vec![named.id.clone(), random.id.clone(), other_random.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(leases.get("pull-1").unwrap(), named);

    let digest = Digest::sha256_of(b"x");
    leases
        .add_resource("pull-1", &Resource::Content(digest.clone()))
        .unwrap();
    leases
        .add_resource("pull-1", &Resource::Image("app:1".into()))
        .unwrap();
    leases
        .add_resource("pull-1", &Resource::Ingest("layer-3".into()))
        .unwrap();
    // Idempotent.
    leases
        .add_resource("pull-1", &Resource::Content(digest.clone()))
        .unwrap();
    assert_eq!(
        leases.resources("pull-1").unwrap(),
        [
            Resource::Content(digest.clone()),
            Resource::Image("app:1".into()),
            Resource::Ingest("layer-3".into()),
        ]
    );
    leases
        .delete_resource("pull-1", &Resource::Image("app:1".into()))
        .unwrap();
    assert_eq!(leases.resources("pull-1").unwrap().len(), 2);
    assert!(
        leases
            .add_resource("nope", &Resource::Content(digest.clone()))
            .unwrap_err()
            .is_not_found()
    );

    leases.delete("pull-1").unwrap();
    assert!(leases.get("pull-1").unwrap_err().is_not_found());
    assert!(leases.resources("pull-1").unwrap_err().is_not_found());
    assert!(leases.delete("pull-1").unwrap_err().is_not_found());
    // A lease created again under the same id starts empty.
    leases.create(LeaseOptions::new().id("pull-1")).unwrap();
    assert!(leases.resources("pull-1").unwrap().is_empty());
}

#[test]
fn writes_under_a_lease_are_recorded_on_it() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("w")).unwrap();
    let content = ns.content(Some(&lease));
    let digest = put(&content, b"leased bytes", &[]);
    // An open ingest is held too.
    let writer = content.writer(WriterOptions::new("in-progress")).unwrap();
    let resources = ns.leases().resources("w").unwrap();
    assert!(resources.contains(&Resource::Content(digest.clone())));
    assert!(resources.contains(&Resource::Ingest("in-progress".into())));
    hoist_content::ContentWriter::abort(writer).unwrap();
    assert!(
        !ns.leases()
            .resources("w")
            .unwrap()
            .contains(&Resource::Ingest("in-progress".into()))
    );

    // Content already present, written again under another lease, is held by it too.
    let second = ns.leases().create(LeaseOptions::new().id("w2")).unwrap();
    let err = ns
        .content(Some(&second))
        .writer(WriterOptions::new("again").expected(digest.clone()))
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(
        ns.leases().resources("w2").unwrap(),
        [Resource::Content(digest.clone())]
    );

    // Images created through a leased handle are held.
    ns.images()
        .with_lease(&second)
        .create(Image::new(
            "held:1",
            Descriptor::new(MANIFEST, digest.clone(), 12),
        ))
        .unwrap();
    assert!(
        ns.leases()
            .resources("w2")
            .unwrap()
            .contains(&Resource::Image("held:1".into()))
    );

    // A deleted or expired lease refuses new writes instead of pretending.
    ns.leases().delete("w2").unwrap();
    let err = ns
        .content(Some(&second))
        .writer(WriterOptions::new("late"))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        hoist_content::ErrorKind::FailedPrecondition,
        "{err}"
    );
    let expired = ns
        .leases()
        .create(LeaseOptions::new().expires_at(SystemTime::now() - Duration::from_secs(1)))
        .unwrap();
    let err = ns
        .content(Some(&expired))
        .writer(WriterOptions::new("late"))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        hoist_content::ErrorKind::FailedPrecondition,
        "{err}"
    );
    let err = ns
        .images()
        .with_lease(&expired)
        .create(Image::new("late:1", Descriptor::new(MANIFEST, digest, 12)))
        .unwrap_err();
    assert!(err.is_failed_precondition(), "{err}");
}

#[test]
fn a_lease_deleted_before_commit_fails_the_commit_and_keeps_the_ingest() {
    let fx = fresh();
    let ns = fx.ns("default");
    let lease = ns.leases().create(LeaseOptions::new().id("gone")).unwrap();
    let content = ns.content(Some(&lease));
    let mut writer = content.writer(WriterOptions::new("w")).unwrap();
    std::io::Write::write_all(&mut writer, b"abc").unwrap();
    ns.leases().delete("gone").unwrap();
    let err =
        hoist_content::ContentWriter::commit(writer, 3, None, Default::default()).unwrap_err();
    assert_eq!(
        err.kind(),
        hoist_content::ErrorKind::FailedPrecondition,
        "{err}"
    );
    assert!(!recorded(&ns, &Digest::sha256_of(b"abc")));
    // The bytes wait for a resume under a live lease.
    let lease = ns.leases().create(LeaseOptions::new().id("new")).unwrap();
    let writer = ns
        .content(Some(&lease))
        .writer(WriterOptions::new("w"))
        .unwrap();
    assert_eq!(hoist_content::ContentWriter::offset(&writer), 3);
    hoist_content::ContentWriter::commit(writer, 3, None, Default::default()).unwrap();
    assert!(recorded(&ns, &Digest::sha256_of(b"abc")));
}

#[test]
fn namespaces_are_listed_and_deleted_only_when_empty() {
    let fx = fresh();
    assert!(fx.store.namespaces().unwrap().is_empty());
    let a = fx.ns("a");
    a.images().create(Image::new("x:1", target(b"x"))).unwrap();
    fx.ns("b")
        .leases()
        .create(LeaseOptions::new().id("l"))
        .unwrap();
    assert_eq!(fx.store.namespaces().unwrap(), ["a", "b"]);
    let err = fx.store.delete_namespace("a").unwrap_err();
    assert!(err.is_failed_precondition(), "{err}");
    assert!(err.to_string().contains("x:1"), "{err}");
    a.images().delete("x:1").unwrap();
    fx.store.delete_namespace("a").unwrap();
    assert_eq!(fx.store.namespaces().unwrap(), ["b"]);
    assert!(fx.store.delete_namespace("a").unwrap_err().is_not_found());
    assert!(
        fx.store
            .namespace("no/slash")
            .unwrap_err()
            .is_invalid_argument()
    );
}

#[test]
fn content_labels_can_be_updated() {
    let fx = fresh();
    let ns = fx.ns("default");
    let content = ns.content(None);
    let digest = put(&content, b"labelled", &[("a", "1")]);
    assert_eq!(content.info(&digest).unwrap().labels, labels(&[("a", "1")]));
    let info = content
        .update_labels(&digest, |l| {
            l.insert("b".into(), "2".into());
            l.remove("a");
        })
        .unwrap();
    assert_eq!(info.labels, labels(&[("b", "2")]));
    assert_eq!(content.info(&digest).unwrap().labels, labels(&[("b", "2")]));
    let info = content.set_labels(&digest, labels(&[("c", "3")])).unwrap();
    assert_eq!(info.labels, labels(&[("c", "3")]));
    let err = content
        .update_labels(&Digest::sha256_of(b"absent"), |_| {})
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = content
        .update_labels(&digest, |l| {
            l.insert("huge".into(), "x".repeat(5000));
        })
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
}

#[test]
fn stores_on_one_root_in_one_process_share_the_database() {
    let fx = fresh();
    let second = hoist_meta::MetaStore::open(fx.root()).unwrap();
    fx.ns("default")
        .images()
        .create(Image::new("shared:1", target(b"s")))
        .unwrap();
    assert!(
        second
            .namespace("default")
            .unwrap()
            .images()
            .get("shared:1")
            .is_ok()
    );
    // Both work from many threads at once.
    std::thread::scope(|scope| {
        for t in 0..4 {
            let store = if t % 2 == 0 {
                fx.store.clone()
            } else {
                second.clone()
            };
            scope.spawn(move || {
                let images = store.namespace("default").unwrap().images();
                for i in 0..25 {
                    let name = format!("t{t}:{i}");
                    images
                        .create(Image::new(name.clone(), target(name.as_bytes())))
                        .unwrap();
                    assert!(images.get(&name).is_ok());
                }
            });
        }
    });
    assert_eq!(
        second
            .namespace("default")
            .unwrap()
            .images()
            .list(&ImageFilter::all())
            .unwrap()
            .len(),
        101
    );
}
