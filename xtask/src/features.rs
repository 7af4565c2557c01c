//! The `features` phase of `cargo xtask ci`: is `workspace-hack` complete?
//!
//! xtask and s3sql must build every dependency with the features the
//! workspace's test build uses, or each invocation builds DataFusion again
//! (minutes on 2 cores). `cargo tree` shows both sets; any package whose
//! feature set under xtask or s3sql is not one the test build also uses is
//! missing from `workspace-hack/Cargo.toml`.

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// `name vX.Y.Z features` lines of `cargo tree` for `args`.
fn feature_sets(cargo: impl Fn() -> Command, args: &[&str]) -> Result<BTreeSet<String>> {
    let output = cargo()
        .args(["tree", "--quiet", "--prefix", "none", "-f", "{p} {f}"])
        .args(args)
        .output()
        .context("running cargo tree")?;
    if !output.status.success() {
        bail!(
            "cargo tree {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(parse(&String::from_utf8_lossy(&output.stdout)))
}

/// Keeps registry packages only (path packages carry their directory, and
/// their features are ours to choose), without cargo tree's `(*)` marks.
fn parse(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .map(|line| line.trim_end_matches(" (*)").trim())
        .filter(|line| !line.is_empty() && !line.contains(" ("))
        .map(str::to_owned)
        .collect()
}

/// Fails with the packages whose features differ, and what the test build
/// gives them, so the fix is a copy into `workspace-hack/Cargo.toml`.
pub fn check(cargo: impl Fn() -> Command) -> Result<()> {
    let workspace = feature_sets(
        &cargo,
        &["--workspace", "--all-features", "-e", "normal,build,dev"],
    )?;
    let mut missing = Vec::new();
    for package in ["xtask", "s3sql"] {
        for line in feature_sets(&cargo, &["-p", package, "-e", "normal,build"])? {
            if !workspace.contains(&line) {
                let name_version = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
                let wanted: Vec<&String> = workspace
                    .iter()
                    .filter(|w| w.starts_with(&format!("{name_version} ")))
                    .collect();
                missing.push(format!("  {package}: {line}\n    tests use: {wanted:?}"));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "these dependencies build with other features under xtask/s3sql than under \
         `cargo test --workspace --all-features`, so DataFusion would be built twice; \
         add the test build's features to workspace-hack/Cargo.toml:\n{}",
        missing.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parse_drops_path_packages_and_repeat_marks() {
        let tree = "xtask v0.1.0 (/w/xtask) \ntokio v1.54.1 rt,net (*)\nlibc v0.2.1 std\n\n";
        let got: Vec<String> = parse(tree).into_iter().collect();
        assert_eq!(got, ["libc v0.2.1 std", "tokio v1.54.1 rt,net"]);
    }
}
