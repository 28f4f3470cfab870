//! One file per command (or command group); `run` dispatches.

mod archive;
mod completion;
mod content;
mod image;
mod images;
mod lease;
mod login;
mod maintenance;
mod manifest;
mod names;
mod referrers;
mod serve;
mod transfer;
mod unpack;
mod verify;

use crate::args::{
    Command, ContentCommand, ImageCommand, LeaseCommand, ManifestCommand, NamespaceCommand,
};
use crate::context::Context;

/// Runs the parsed command.
///
/// # Errors
/// Whatever the command fails with; `main` renders it and picks the exit code.
pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Pull(args) => transfer::pull(context, &args),
        Command::Push(args) => transfer::push(context, &args),
        Command::Copy(args) => transfer::copy(context, &args),
        Command::Images(args) | Command::Image(ImageCommand::Ls(args)) => {
            images::run(context, &args)
        }
        Command::Image(ImageCommand::Inspect(args)) => image::inspect(context, &args),
        Command::Image(ImageCommand::Platforms(args)) => image::platforms(context, &args),
        Command::Image(ImageCommand::Convert(args)) => image::convert(context, &args),
        Command::Image(ImageCommand::Prune(args)) => image::prune(context, &args),
        Command::Image(ImageCommand::Referrers(args)) => referrers::referrers(context, &args),
        Command::Tag(args) => names::tag(context, &args),
        Command::Rmi(args) => names::rmi(context, &args),
        Command::Save(args) => archive::save(context, &args),
        Command::Load(args) => archive::load(context, &args),
        Command::Unpack(args) => unpack::run(context, &args),
        Command::Serve(args) => serve::run(context, &args),
        Command::Manifest(ManifestCommand::Inspect(args)) => manifest::inspect(context, &args),
        Command::Manifest(ManifestCommand::Create(args)) => manifest::create(context, &args),
        Command::Verify(args) => verify::run(context, &args),
        Command::Content(ContentCommand::Ls(args)) => content::ls(context, &args),
        Command::Content(ContentCommand::Get(args)) => content::get(context, &args),
        Command::Content(ContentCommand::Rm(args)) => content::rm(context, &args),
        Command::Lease(LeaseCommand::Ls(args)) => lease::ls(context, &args),
        Command::Lease(LeaseCommand::Create(args)) => lease::create(context, &args),
        Command::Lease(LeaseCommand::Rm(args)) => lease::rm(context, &args),
        Command::Gc(args) => maintenance::gc(context, &args),
        Command::Fsck(args) => maintenance::fsck(context, &args),
        Command::Namespace(NamespaceCommand::Ls) => maintenance::namespaces(context),
        Command::Login(args) => login::login(context, &args),
        Command::Logout(args) => login::logout(context, &args),
        Command::Completion(args) => completion::run(&args),
    }
}
