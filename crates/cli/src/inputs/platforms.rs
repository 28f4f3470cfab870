//! `--platform` values: repeated flags and comma lists, parsed and
//! normalized by `hoist::platform`.

use hoist::Platforms;
use hoist::platform::Platform;

use crate::args::PlatformArgs;
use crate::exit::UsageError;

/// Which platforms a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformChoice {
    /// No flag: the command's default, this machine's platform.
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

impl PlatformChoice {
    /// What the choice means for a command: no flag is this machine's
    /// platform for every command that takes `--platform`, as in nerdctl,
    /// and the command says so through `say` (`verb` as in "pushing").
    pub fn or_host(self, verb: &str, say: impl FnOnce(&str)) -> Platforms {
        match self {
            PlatformChoice::Default => {
                say(&format!(
                    "{verb} for this machine's platform {} (use --platform P or --all-platforms for others)",
                    Platform::host()
                ));
                Platforms::Host
            }
            PlatformChoice::All => Platforms::All,
            PlatformChoice::Only(list) => Platforms::Only(list),
        }
    }
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

    #[test]
    fn the_default_is_the_host_and_is_said() {
        let mut said = String::new();
        let platforms = PlatformChoice::Default.or_host("saving", |text| said = text.to_owned());
        assert_eq!(platforms, Platforms::Host);
        assert!(
            said.starts_with("saving for this machine's platform "),
            "{said}"
        );
        assert!(said.contains(&Platform::host().to_string()), "{said}");
        let mut said_anything = false;
        let platforms = PlatformChoice::All.or_host("saving", |_| said_anything = true);
        assert_eq!(platforms, Platforms::All);
        assert!(!said_anything);
    }
}
