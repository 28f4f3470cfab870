//! Exit codes, decided in one place from the kind of failure.
//!
//! Commands return `anyhow::Error`s; what decides the code is a marker type
//! somewhere in the chain: [`UsageError`] (bad input on the command line)
//! gives 2, [`VerifyFailed`] (verify found something missing) gives 3,
//! [`StoreDamaged`] (fsck found damage) gives 4, and anything else 1.

use std::fmt;
use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The command failed.
pub const FAILURE: u8 = 1;
/// The command line was wrong: an unknown flag, a missing argument, an
/// invalid reference, platform, digest or duration.
pub const USAGE: u8 = 2;
/// `hoist verify` ran and found a required platform missing or incomplete,
/// or a remote tag that does not resolve to an index.
pub const VERIFY_MISSING: u8 = 3;
/// `hoist fsck` ran and found damage (debris alone exits 0: `hoist gc`
/// removes it).
pub const DAMAGED: u8 = 4;

/// The exit codes, for `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  failure (the error line says what failed and, where it can, what to do)
  2  usage: bad flags or arguments (an invalid reference, platform, digest, duration)
  3  verify: a required platform is missing or incomplete, or a remote tag is not an index
  4  fsck: the store is damaged (debris alone, which `hoist gc` removes, exits 0)";

/// Bad input on the command line; exits with [`USAGE`].
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// `hoist verify` found something missing; exits with [`VERIFY_MISSING`].
#[derive(Debug)]
pub struct VerifyFailed(pub String);

impl fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerifyFailed {}

/// `hoist fsck` found damage; exits with [`DAMAGED`].
#[derive(Debug)]
pub struct StoreDamaged(pub String);

impl fmt::Display for StoreDamaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreDamaged {}

/// The exit code for `error`.
pub fn code_for(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if cause.is::<VerifyFailed>() {
            return VERIFY_MISSING;
        }
        if cause.is::<StoreDamaged>() {
            return DAMAGED;
        }
        if let Some(error) = cause.downcast_ref::<hoist::Error>()
            && error.is_platform_missing()
        {
            return VERIFY_MISSING;
        }
    }
    FAILURE
}

/// Converts a code to what `main` returns.
pub fn exit_code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_anywhere_in_the_chain_decide() {
        let usage = anyhow::Error::new(UsageError("bad".into())).context("parsing");
        assert_eq!(code_for(&usage), USAGE);
        let verify = anyhow::Error::new(VerifyFailed("missing".into()));
        assert_eq!(code_for(&verify), VERIFY_MISSING);
        let damaged = anyhow::Error::new(StoreDamaged("damaged".into()));
        assert_eq!(code_for(&damaged), DAMAGED);
        assert_eq!(code_for(&anyhow::anyhow!("boom")), FAILURE);
    }
}
