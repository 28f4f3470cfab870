//! Parsing what the user typed (references, platforms, digests, durations)
//! before anything touches the store, so that bad input fails with exit
//! code 2 and changes nothing.

mod duration;
mod platforms;
mod reference;

pub use duration::parse_duration;
pub use platforms::{parse_platform, platform_choice, platform_list};
pub use reference::{image_name, parse_digest, parse_reference};
