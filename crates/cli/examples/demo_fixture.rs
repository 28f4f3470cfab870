//! Writes a generated 4-platform image (linux/amd64, linux/arm64/v8,
//! linux/arm/v7, linux/s390x, one layer shared by all) as an OCI layout tar,
//! for `cargo xtask demo` and for trying hoist by hand:
//!
//! ```text
//! cargo run -p hoist-cli --example demo_fixture -- app.tar example.com/demo/app:1.0
//! hoist load -i app.tar
//! ```
//!
//! The image is deterministic: the same arguments give the same digests.

use std::path::PathBuf;

use hoist_testkit::{Fixture, FixtureSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(output), Some(name)) = (args.next(), args.next()) else {
        return Err("usage: demo_fixture OUTPUT.tar NAME (e.g. example.com/demo/app:1.0)".into());
    };
    let output = PathBuf::from(output);
    let fixture = Fixture::generate(&FixtureSpec::four_platforms(7, 2 << 20, 512 << 10))?;
    let layout = tempfile::tempdir()?;
    fixture.write_oci_layout(layout.path(), &name)?;

    let file = std::fs::File::create(&output)
        .map_err(|e| format!("creating {}: {e}", output.display()))?;
    let mut archive = tar::Builder::new(file);
    archive.mode(tar::HeaderMode::Deterministic);
    archive.append_path_with_name(layout.path().join("oci-layout"), "oci-layout")?;
    archive.append_path_with_name(layout.path().join("index.json"), "index.json")?;
    archive.append_dir_all("blobs", layout.path().join("blobs"))?;
    archive.into_inner()?.sync_all()?;
    println!(
        "{}: {name}, index {}, {} platforms, {} blobs",
        output.display(),
        fixture.index.digest,
        fixture.images.len(),
        fixture.blobs().len() + 1
    );
    Ok(())
}
