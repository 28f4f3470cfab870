//! Archives: save images as an OCI layout tar (with Docker's
//! `manifest.json`), load OCI layout tars and directories and `docker save`
//! archives.

mod entry_path;
mod layout;
mod load;
mod load_dir;
mod names;
mod referrers;
mod save;

pub use load::{ArchiveFormat, LoadOptions, Loaded, LoadedImage, load};
pub use load_dir::load_dir;
pub use referrers::ReferrerSelection;
pub use save::{SaveOptions, SaveSummary, SavedImage, save};
