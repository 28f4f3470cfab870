//! Keeps `docs/architecture.md` true about the crates' dependencies: its
//! dependency table must list exactly the `hoist*` crates each workspace
//! crate's `Cargo.toml` names under `[dependencies]`.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// The crates whose edges the table lists, and their manifests.
    const CRATES: &[(&str, &str)] = &[
        ("hoist-cli", "crates/cli/Cargo.toml"),
        ("hoist", "Cargo.toml"),
        ("hoist-remote", "crates/remote/Cargo.toml"),
        ("hoist-image", "crates/image/Cargo.toml"),
        ("hoist-meta", "crates/meta/Cargo.toml"),
        ("hoist-oci", "crates/oci/Cargo.toml"),
        ("hoist-content", "crates/content/Cargo.toml"),
        ("hoist-platform", "crates/platform/Cargo.toml"),
        ("hoist-error", "crates/error/Cargo.toml"),
        ("hoist-unpack", "crates/unpack/Cargo.toml"),
        ("hoist-serve", "crates/serve/Cargo.toml"),
    ];

    /// The `hoist*` names under `[dependencies]` of a manifest (not dev- or
    /// build-dependencies), sorted.
    fn declared(manifest: &str) -> Vec<String> {
        let mut in_dependencies = false;
        let mut names = Vec::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_dependencies = line == "[dependencies]";
                continue;
            }
            if !in_dependencies {
                continue;
            }
            let name = line
                .split(['=', '.', ' '])
                .next()
                .unwrap_or_default()
                .trim();
            if name == "hoist" || name.starts_with("hoist-") {
                names.push(name.to_owned());
            }
        }
        names.sort();
        names
    }

    /// The table between the `dependency-table` markers: crate -> its edges.
    fn documented(doc: &str) -> BTreeMap<String, Vec<String>> {
        let start = doc
            .find("<!-- dependency-table -->")
            .expect("docs/architecture.md has no dependency table");
        let end = doc
            .find("<!-- /dependency-table -->")
            .expect("the dependency table is not closed");
        let mut table = BTreeMap::new();
        for row in doc[start..end].lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let mut edges: Vec<String> = cells[2]
                .split(',')
                .map(|edge| edge.trim().trim_matches('`').to_owned())
                .filter(|edge| !edge.is_empty() && edge != "—")
                .collect();
            edges.sort();
            table.insert(name, edges);
        }
        table
    }

    #[test]
    fn architecture_doc_lists_the_real_dependencies() {
        // The runtime variable (set by cargo and nextest for the checkout
        // being tested): a build cached from another clone of the
        // repository keeps that clone's compile-time path.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from);
        let root = manifest_dir.parent().expect("xtask lives in the workspace");
        let doc = std::fs::read_to_string(root.join("docs/architecture.md"))
            .expect("reading docs/architecture.md");
        let table = documented(&doc);
        for (name, manifest) in CRATES {
            let manifest = std::fs::read_to_string(root.join(manifest))
                .unwrap_or_else(|e| panic!("reading {manifest}: {e}"));
            assert_eq!(
                table.get(*name),
                Some(&declared(&manifest)),
                "docs/architecture.md's dependency table is wrong about {name}"
            );
        }
        assert_eq!(table.len(), CRATES.len(), "the table lists other crates");
    }

    #[test]
    fn only_normal_dependencies_count() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nhoist-oci.workspace = true\n\
                        serde = \"1\"\nhoist = { path = \".\" }\n[dev-dependencies]\nhoist-testkit.workspace = true\n";
        assert_eq!(declared(manifest), ["hoist", "hoist-oci"]);
    }
}
