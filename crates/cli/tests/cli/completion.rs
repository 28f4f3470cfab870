//! `hoist completion SHELL`.

use predicates::prelude::*;

use crate::support::Env;

#[test]
fn bash_and_zsh_scripts_name_the_commands() {
    let env = Env::new();
    env.hoist(&["completion", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("hoist"))
        .stdout(predicate::str::contains("manifest"));
    env.hoist(&["completion", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("#compdef hoist"));
    env.hoist(&["completion", "tcsh"]).assert().code(2);
}
