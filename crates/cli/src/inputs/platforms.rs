//! `--platform` values: repeated flags and comma lists, parsed and
//! normalized by `hoist::platform`.

use hoist::platform::Platform;

use crate::args::PlatformArgs;
use crate::exit::UsageError;

/// Which platforms a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformChoice {
    /// No flag: the command's default (the host's platform for pull and push).
    Default,
    /// The named platforms, in the order given, each once.
    Only(Vec<Platform>),
    /// `--all-platforms`.
    All,
}

/// Parses one platform, as a usage error when invalid.
pub fn parse_platform(text: &str) -> Result<Platform, UsageError> {
    hoist::platform::parse(text).map_err(|e| UsageError(e.to_string()))
}

/// Parses repeated `--platform` values, each possibly a comma list;
/// duplicates (after normalization) are dropped.
pub fn platform_list(values: &[String]) -> Result<Vec<Platform>, UsageError> {
    let mut platforms: Vec<Platform> = Vec::new();
    for value in values {
        let parsed = hoist::platform::parse_all(value).map_err(|e| UsageError(e.to_string()))?;
        if parsed.is_empty() {
            return Err(UsageError(format!(
                "invalid platform {value:?}: it names no platform"
            )));
        }
        for platform in parsed {
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }
    }
    Ok(platforms)
}

/// What `--platform`/`--all-platforms` ask for.
pub fn platform_choice(args: &PlatformArgs) -> Result<PlatformChoice, UsageError> {
    if args.all_platforms {
        return Ok(PlatformChoice::All);
    }
    if args.platforms.is_empty() {
        return Ok(PlatformChoice::Default);
    }
    Ok(PlatformChoice::Only(platform_list(&args.platforms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_and_comma_lists_merge_in_order_without_duplicates() {
        let values = vec![
            "linux/amd64,linux/arm64".to_owned(),
            "linux/aarch64".to_owned(),
            "linux/s390x".to_owned(),
        ];
        let list = platform_list(&values).unwrap();
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["linux/amd64", "linux/arm64", "linux/s390x"]);
    }

    #[test]
    fn an_invalid_platform_is_a_usage_error_quoting_it() {
        let error = platform_list(&["linux/".to_owned()]).unwrap_err();
        assert!(error.0.contains("\"linux/\""), "{}", error.0);
    }

    #[test]
    fn no_flag_is_the_default_and_all_wins() {
        let none = PlatformArgs::default();
        assert_eq!(platform_choice(&none).unwrap(), PlatformChoice::Default);
        let all = PlatformArgs {
            platforms: Vec::new(),
            all_platforms: true,
        };
        assert_eq!(platform_choice(&all).unwrap(), PlatformChoice::All);
    }
}
