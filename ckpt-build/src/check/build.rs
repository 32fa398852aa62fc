//! Building the user's binary with cargo and finding the executable it made.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{CheckError, CheckOptions, Target};
use crate::process::{Ended, Running, Scratch};

/// A build taking longer than this is stopped (a cold build of a large package may take
/// a while; nothing legitimate takes longer).
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);

/// Runs `cargo build` for `target` and returns the executable it built.
pub(super) fn build(
    opts: &CheckOptions,
    target: &Target,
    scratch: &Scratch,
) -> Result<PathBuf, CheckError> {
    let show_output = opts.progress;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--message-format=json-render-diagnostics"]);
    if let Some(m) = &opts.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    if let Some(d) = &opts.target_dir {
        cmd.arg("--target-dir").arg(d);
    }
    match target {
        Target::Bin(n) => {
            cmd.args(["--bin", n]);
        }
        Target::Example(n) => {
            cmd.args(["--example", n]);
        }
        Target::Default | Target::Exe(_) => {}
    }
    if opts.release {
        cmd.arg("--release");
    }
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckError::Io { op, path, source }
    };
    let out_path = scratch.path().join("cargo-messages");
    let err_path = scratch.path().join("cargo-stderr");
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).map_err(io("creating", &out_path))?);
    if show_output {
        cmd.stderr(Stdio::inherit());
    } else {
        cmd.stderr(std::fs::File::create(&err_path).map_err(io("creating", &err_path))?);
    }
    let cargo_path = PathBuf::from(&cargo);
    let mut child = Running::spawn(&mut cmd).map_err(io("running", &cargo_path))?;
    let status = match child
        .wait_for(BUILD_TIMEOUT)
        .map_err(io("waiting for", &cargo_path))?
    {
        Ended::Exited(s) => s,
        Ended::Running => {
            let _ = child.kill();
            return Err(CheckError::Build {
                detail: format!(
                    "cargo build did not finish within {} s",
                    BUILD_TIMEOUT.as_secs()
                ),
            });
        }
    };
    if !status.success() {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(CheckError::Build {
            detail: format!("cargo build failed ({status})\n{}", tail.join("\n")),
        });
    }
    let messages = std::fs::read_to_string(&out_path).map_err(io("reading", &out_path))?;
    executable(&messages, target)
}

/// The executable among cargo's JSON messages: the one of the chosen target, or the only
/// binary built.
pub(super) fn executable(messages: &str, target: &Target) -> Result<PathBuf, CheckError> {
    let mut found: Vec<(String, String, PathBuf)> = Vec::new();
    for line in messages.lines() {
        let Ok(m) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if m["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = m["executable"].as_str() else {
            continue;
        };
        let kinds: Vec<&str> = m["target"]["kind"]
            .as_array()
            .map(|k| k.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let kind = if kinds.contains(&"example") {
            "example"
        } else if kinds.contains(&"bin") {
            "bin"
        } else {
            continue;
        };
        let name = m["target"]["name"].as_str().unwrap_or_default().to_string();
        found.push((kind.to_string(), name, PathBuf::from(exe)));
    }
    let wanted = |kind: &str, name: &str| match target {
        Target::Bin(n) => kind == "bin" && name == n,
        Target::Example(n) => kind == "example" && name == n,
        _ => kind == "bin",
    };
    let mut chosen: Vec<&(String, String, PathBuf)> =
        found.iter().filter(|(k, n, _)| wanted(k, n)).collect();
    match chosen.len() {
        1 => Ok(chosen.remove(0).2.clone()),
        0 => Err(CheckError::NoBinary {
            detail: "cargo built no binary to check; name one with --bin NAME or \
                     --example NAME"
                .into(),
        }),
        _ => {
            let names: Vec<&str> = chosen.iter().map(|(_, n, _)| n.as_str()).collect();
            Err(CheckError::NoBinary {
                detail: format!(
                    "the package has several binaries ({}); choose one with --bin NAME",
                    names.join(", ")
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(kind: &str, name: &str, exe: &str) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "target": { "kind": [kind], "name": name },
            "executable": exe,
        })
        .to_string()
    }

    #[test]
    fn the_executable_is_found_among_cargos_messages() {
        let lib = serde_json::json!({
            "reason": "compiler-artifact",
            "target": { "kind": ["lib"], "name": "dep" },
            "executable": null,
        })
        .to_string();
        let one = format!("{lib}\n{}\n", artifact("bin", "app", "/t/app"));
        assert_eq!(
            executable(&one, &Target::Default).expect("found"),
            PathBuf::from("/t/app")
        );
        let two = format!("{one}{}\n", artifact("bin", "tool", "/t/tool"));
        let e = executable(&two, &Target::Default).unwrap_err();
        assert!(e.to_string().contains("app, tool"), "{e}");
        assert_eq!(
            executable(&two, &Target::Bin("tool".into())).expect("found"),
            PathBuf::from("/t/tool")
        );
        let ex = artifact("example", "demo", "/t/examples/demo");
        assert_eq!(
            executable(&ex, &Target::Example("demo".into())).expect("found"),
            PathBuf::from("/t/examples/demo")
        );
        assert!(executable(&lib, &Target::Default).is_err());
    }
}
