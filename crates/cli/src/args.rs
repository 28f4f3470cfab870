//! The command-line grammar: global options and every command, as clap
//! derive types. Values stay strings here; `inputs` parses references,
//! platforms, digests and durations so that bad ones get hoist's one-line
//! error and exit code 2 instead of clap's multi-line report.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;

/// A daemonless local container-image store with nerdctl's commands.
#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES_HELP,
    max_term_width = 100
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the command's name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store's folder [default: $HOIST_ROOT, else $XDG_DATA_HOME/hoist,
    /// else ~/.local/share/hoist].
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The namespace to work in.
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "HOIST_NAMESPACE",
        default_value = "default",
        value_name = "NS"
    )]
    pub namespace: String,
    /// A registry (host or host:port) reached over plain HTTP or unverified TLS;
    /// repeat for several. Loopback registries need not be named.
    #[arg(long = "insecure-registry", global = true, value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// containerd's certs.d folder of per-registry hosts.toml and certificates.
    #[arg(long, global = true, value_name = "DIR")]
    pub hosts_dir: Option<PathBuf>,
    /// Print debugging detail on stderr (every error's full chain, timings).
    #[arg(long, global = true)]
    pub debug: bool,
}

/// How a listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts (documented and stable).
    Json,
}

/// The platforms a command works on.
#[derive(Debug, Args, Clone, Default)]
pub struct PlatformArgs {
    /// A platform (os/arch[/variant]); repeat or give a comma list
    /// [default: this machine's platform, the one index entry it runs best].
    #[arg(long = "platform", value_name = "P")]
    pub platforms: Vec<String>,
    /// Every platform the image lists, attestations included.
    #[arg(long, conflicts_with = "platforms")]
    pub all_platforms: bool,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download an image from a registry into the store: this machine's
    /// platform unless --platform or --all-platforms says otherwise.
    Pull(PullArgs),
    /// Upload an image to a registry: this machine's platform unless
    /// --platform or --all-platforms says otherwise.
    Push(PushArgs),
    /// List images (same as `image ls`).
    Images(ImagesArgs),
    /// Inspect, list, convert and prune images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Give an image a second name.
    Tag(TagArgs),
    /// Remove image names.
    Rmi(RmiArgs),
    /// Write images to an OCI layout tar archive: this machine's platform
    /// unless --platform or --all-platforms says otherwise.
    Save(SaveArgs),
    /// Read images from an OCI layout or `docker save` tar archive.
    Load(LoadArgs),
    /// Unpack an image into a root filesystem or an OCI runtime bundle.
    Unpack(UnpackArgs),
    /// Serve the namespace's images as a read-only OCI registry (a mirror
    /// for containerd, skopeo, Docker and hoist) until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Inspect remote manifests; assemble indexes locally.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Check that an image holds every required platform, complete.
    Verify(VerifyArgs),
    /// Copy an image from one reference to another (registry to registry,
    /// or within the store): this machine's platform unless --platform or
    /// --all-platforms says otherwise.
    Copy(CopyArgs),
    /// List, read and remove blobs.
    #[command(subcommand)]
    Content(ContentCommand),
    /// List, create and remove leases (what keeps content from GC).
    #[command(subcommand)]
    Lease(LeaseCommand),
    /// Remove content nothing references.
    Gc(GcArgs),
    /// Check the store: every blob's digest and every record's target.
    Fsck(FsckArgs),
    /// List namespaces.
    #[command(subcommand)]
    Namespace(NamespaceCommand),
    /// Save credentials for a registry in Docker's config.json.
    Login(LoginArgs),
    /// Remove a registry's credentials from Docker's config.json.
    Logout(LogoutArgs),
    /// Print a shell completion script.
    Completion(CompletionArgs),
}

/// `hoist pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image to pull (e.g. alpine:3.20, localhost:5000/team/app@sha256:…).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The platforms to pull [default: the host's].
    #[command(flatten)]
    pub platforms: PlatformArgs,
    /// Also fetch the referrers (signatures, SBOMs) of the index and of
    /// every manifest pulled, recursively: the registry's referrers API, or
    /// its `sha256-<hex>` fallback tag.
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Whether a transfer takes the referrers (signatures, SBOMs) along.
#[derive(Debug, Args, Clone, Default)]
pub struct ReferrersArgs {
    /// Take the referrers (signatures, SBOMs, attestations) of the index
    /// and of every manifest transferred along, recursively [default: off,
    /// or `referrers` in the config file].
    #[arg(long, conflicts_with = "no_referrers")]
    pub referrers: bool,
    /// Leave the referrers behind, whatever the config file says.
    #[arg(long)]
    pub no_referrers: bool,
    /// Only referrers of this artifact type (repeatable; needs --referrers
    /// or `referrers = true` in the config file).
    #[arg(
        long = "artifact-type",
        value_name = "T",
        conflicts_with = "no_referrers"
    )]
    pub artifact_types: Vec<String>,
}

/// `hoist push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image to push, by its local name.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The platforms to push [default: the host's]; the tag then names an
    /// index of exactly those.
    #[command(flatten)]
    pub platforms: PlatformArgs,
    /// Also push the stored referrers of the index and of every manifest
    /// pushed, recursively, after them; on a registry without the
    /// referrers API, merge them into its `sha256-<hex>` fallback tags.
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not read the tag back after pushing to check it.
    #[arg(long)]
    pub no_verify: bool,
}

/// `hoist images` and `hoist image ls`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Only images with this name (or repository).
    #[arg(value_name = "REF")]
    pub reference: Option<String>,
    /// Print names only.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show each image's digest.
    #[arg(long)]
    pub digests: bool,
    /// Do not shorten IDs and digests.
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist image …`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images.
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Show an image's record and documents as JSON.
    Inspect(ImageInspectArgs),
    /// Show the platforms an image lists and which are complete locally.
    Platforms(ImagePlatformsArgs),
    /// Reduce an image to some platforms, under a new name: this machine's
    /// platform unless --platform or --all-platforms says otherwise.
    Convert(ImageConvertArgs),
    /// Remove images without a name and content nothing references.
    Prune(ImagePruneArgs),
    /// List the stored referrers (signatures, SBOMs) of an image,
    /// recursively: its index's and every stored manifest's, or one
    /// platform's.
    Referrers(ImageReferrersArgs),
}

/// `hoist image referrers`.
#[derive(Debug, Args)]
pub struct ImageReferrersArgs {
    /// The image.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Only the referrers of this platform's manifest (and theirs).
    #[arg(long, value_name = "P")]
    pub platform: Option<String>,
    /// Only referrers of this artifact type.
    #[arg(long = "artifact-type", value_name = "T")]
    pub artifact_type: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist image inspect`.
#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// The image.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Show the manifest chosen for this platform instead of the index.
    #[arg(long, value_name = "P")]
    pub platform: Option<String>,
    /// Output format (only json).
    #[arg(long, value_enum, default_value = "json")]
    pub format: InspectFormat,
}

/// The formats `image inspect` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// JSON.
    Json,
}

/// `hoist image platforms`.
#[derive(Debug, Args)]
pub struct ImagePlatformsArgs {
    /// The image.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Ask the registry instead of the store.
    #[arg(long)]
    pub remote: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist image convert`.
#[derive(Debug, Args)]
pub struct ImageConvertArgs {
    /// The image to reduce.
    #[arg(value_name = "SRC")]
    pub source: String,
    /// The name of the reduced image.
    #[arg(value_name = "DST")]
    pub destination: String,
    /// The platforms to keep [default: the host's].
    #[command(flatten)]
    pub platforms: PlatformArgs,
}

/// `hoist image prune`.
#[derive(Debug, Args)]
pub struct ImagePruneArgs {
    /// Remove every image, not only dangling ones.
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub force: bool,
}

/// `hoist tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The existing image.
    #[arg(value_name = "SRC")]
    pub source: String,
    /// The new name.
    #[arg(value_name = "DST")]
    pub destination: String,
}

/// `hoist rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// The names to remove.
    #[arg(value_name = "REF", required = true)]
    pub references: Vec<String>,
    /// Do not fail when a name does not exist.
    #[arg(short, long)]
    pub force: bool,
}

/// `hoist save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The archive to write (`-` for stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The images to save.
    #[arg(value_name = "REF", required = true)]
    pub references: Vec<String>,
    /// The platforms to save [default: the host's].
    #[command(flatten)]
    pub platforms: PlatformArgs,
    /// Also write the stored referrers (signatures, SBOMs) of every
    /// manifest saved and of the index, recursively, each listed in
    /// index.json as `oras copy -r --to-oci-layout` does.
    #[arg(long)]
    pub referrers: bool,
    /// Only referrers of this artifact type (repeatable).
    #[arg(long = "artifact-type", value_name = "T", requires = "referrers")]
    pub artifact_types: Vec<String>,
}

/// `hoist load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The archive to read (OCI layout or `docker save`, plain or gzip).
    #[arg(short, long, value_name = "FILE")]
    pub input: PathBuf,
    /// Name what the archive leaves unnamed (entries named only by a bare
    /// tag, as `skopeo copy … oci-archive:FILE:TAG` writes them): a
    /// repository (example.com/app) names each `example.com/app:TAG`; a
    /// reference with a tag names the archive's one unnamed image.
    #[arg(long, value_name = "REF")]
    pub name: Option<String>,
    /// Also store the referrers (signatures, SBOMs) the archive lists;
    /// without it they are left out, and counted.
    #[arg(long)]
    pub referrers: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `hoist serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port); the bound address
    /// is printed on stdout.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5000")]
    pub listen: String,
    /// Pull what the store lacks through from this registry, store it and
    /// serve it (a caching mirror). Repeatable: a request with containerd's
    /// ?ns=HOST uses the upstream for HOST, one without ns the first.
    #[arg(long, value_name = "REGISTRY[/PREFIX]")]
    pub upstream: Vec<String>,
    /// How long an upstream's answer about a tag is trusted: a tag held
    /// from an upstream is checked (one HEAD) at most once per DURATION,
    /// and followed when it moved (0: on every request; e.g. 30s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub upstream_tag_ttl: String,
    /// Serve HTTPS with this certificate (PEM, the chain after it).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require Basic credentials of a user of this htpasswd file (bcrypt
    /// entries, as `htpasswd -B` writes); needs TLS unless --listen is a
    /// loopback address.
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// The access log's format on stderr: text lines, or one JSON object a
    /// line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
}

/// How `hoist serve` writes its access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// `key=value` lines for people.
    #[default]
    Text,
    /// One JSON object a line, the fields at its top level.
    Json,
}

/// `hoist unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The image to unpack.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The directory to write: absent or empty (or any, with --force).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The platform to unpack [default: the host's].
    #[arg(long, value_name = "P")]
    pub platform: Option<String>,
    /// Write an OCI runtime bundle: DIR/rootfs and DIR/config.json.
    #[arg(long)]
    pub bundle: bool,
    /// Replace DIR when it is not empty.
    #[arg(short, long)]
    pub force: bool,
    /// Unpack rootless even as root: files owned by you, the image's owners
    /// in the user.rootlesscontainers attribute, no device nodes (the
    /// default when not root).
    #[arg(long)]
    pub rootless: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Print no progress.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `hoist manifest …`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Print a remote manifest or index.
    Inspect(ManifestInspectArgs),
    /// Assemble an index from per-platform images, locally.
    Create(ManifestCreateArgs),
}

/// `hoist manifest inspect`.
#[derive(Debug, Args)]
pub struct ManifestInspectArgs {
    /// The remote reference.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Print the exact bytes the registry served.
    #[arg(long)]
    pub raw: bool,
}

/// `hoist manifest create`.
#[derive(Debug, Args)]
pub struct ManifestCreateArgs {
    /// The name of the new index.
    #[arg(value_name = "DST")]
    pub destination: String,
    /// The images whose platforms it lists.
    #[arg(value_name = "SRC", required = true)]
    pub sources: Vec<String>,
    /// Replace DST if it exists, later sources winning per platform.
    #[arg(long)]
    pub amend: bool,
}

/// `hoist verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The image.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The required platforms; repeat or give a comma list.
    #[arg(long = "platform", value_name = "P", required = true)]
    pub platforms: Vec<String>,
    /// Check the registry's tag (it must resolve to an index) instead of the store.
    #[arg(long)]
    pub remote: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The source reference.
    #[arg(value_name = "SRC")]
    pub source: String,
    /// The destination reference.
    #[arg(value_name = "DST")]
    pub destination: String,
    /// The platforms to copy [default: the host's].
    #[command(flatten)]
    pub platforms: PlatformArgs,
    /// Also copy the referrers of the index and of every manifest copied,
    /// recursively.
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `hoist content …`.
#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// List blobs.
    Ls(ContentLsArgs),
    /// Write a blob to stdout.
    Get(ContentGetArgs),
    /// Remove blobs (refused for blobs an image or lease holds).
    Rm(ContentRmArgs),
}

/// `hoist content ls`.
#[derive(Debug, Args)]
pub struct ContentLsArgs {
    /// Print digests only.
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist content get`.
#[derive(Debug, Args)]
pub struct ContentGetArgs {
    /// The blob's digest.
    #[arg(value_name = "DIGEST")]
    pub digest: String,
}

/// `hoist content rm`.
#[derive(Debug, Args)]
pub struct ContentRmArgs {
    /// The blobs' digests.
    #[arg(value_name = "DIGEST", required = true)]
    pub digests: Vec<String>,
}

/// `hoist lease …`.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// List leases.
    Ls(LeaseLsArgs),
    /// Create a lease and print its id.
    Create(LeaseCreateArgs),
    /// Remove leases.
    Rm(LeaseRmArgs),
}

/// `hoist lease ls`.
#[derive(Debug, Args)]
pub struct LeaseLsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist lease create`.
#[derive(Debug, Args)]
pub struct LeaseCreateArgs {
    /// The lease's id [default: generated].
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// How long it lives (e.g. 90s, 30m, 24h, 7d) [default: 24h].
    #[arg(long, value_name = "DURATION")]
    pub expires: Option<String>,
}

/// `hoist lease rm`.
#[derive(Debug, Args)]
pub struct LeaseRmArgs {
    /// The leases' ids.
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,
}

/// `hoist gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Show what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist fsck`.
#[derive(Debug, Args)]
pub struct FsckArgs {
    /// Also hash every blob file and compare it with its digest (reads the
    /// whole store). Without it, fsck checks that every record decodes,
    /// every recorded blob's file is present with its recorded size, and
    /// every image's target is present.
    #[arg(long)]
    pub verify: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `hoist namespace …`.
#[derive(Debug, Subcommand)]
pub enum NamespaceCommand {
    /// List namespaces.
    Ls,
}

/// `hoist login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry (host or host:port; `docker.io` for Docker Hub).
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    /// The user name.
    #[arg(short, long, value_name = "USER")]
    pub username: Option<String>,
    /// Read the password from stdin (one line) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `hoist logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry.
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
}

/// `hoist completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}
