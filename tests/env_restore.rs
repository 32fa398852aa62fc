//! `ckpt::env` across SIGKILL + restore: the restored program sees the saved arguments and
//! the saved environment (`CKPT_ENV=saved`, the default), or the restoring process's
//! environment with `CKPT_ENV=current` / `--ckpt-env=current`; `CKPT_*` variables always
//! come from the current process; `cargo ckpt inspect` shows the saved arguments.

mod support;

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ckpt_build::{inspect, InspectOptions};
use support::*;

const IMAGE: &str = "envcheck.ckpt";

/// A command for `envcheck` in `dir` with none of ckpt's variables from the test's own
/// environment, and `vars` set.
fn envcheck(dir: &TempDir, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(example("envcheck"));
    cmd.current_dir(dir.path()).stdin(Stdio::null());
    for k in [
        "CKPT_ENV",
        "CKPT_FILE",
        "CKPT_TIME",
        "CKPT_DEMO_VAR",
        "ENVCHECK_VAR",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `envcheck --hold ARGS` with `vars`, kills it with SIGKILL once its image exists
/// and returns the directory holding the image.
fn killed_after_the_save(tag: &str, args: &[&OsStr], vars: &[(&str, &str)]) -> TempDir {
    let d = TempDir::new(tag);
    kill_once_saved(
        envcheck(&d, vars)
            .arg("--hold")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        &d.path().join(IMAGE),
        Duration::from_secs(30),
    );
    d
}

/// `envcheck --restore envcheck.ckpt EXTRA` with `vars`.
fn restore(d: &TempDir, extra: &[&str], vars: &[(&str, &str)]) -> Output {
    envcheck(d, vars)
        .args(["--restore", IMAGE])
        .args(extra)
        .output()
        .expect("spawn")
}

/// The `after:` line of a successful restore.
fn after_line(o: &Output) -> String {
    assert!(o.status.success(), "restore failed: {}", stderr(o));
    let s = stdout(o);
    assert_eq!(result_line(&s), "result: done", "{s}");
    s.lines()
        .find(|l| l.starts_with("after:"))
        .unwrap_or_else(|| panic!("no after: line in:\n{s}"))
        .to_string()
}

fn args(v: &[&'static str]) -> Vec<&'static OsStr> {
    v.iter().map(|s| OsStr::new(*s)).collect()
}

#[test]
fn restore_sees_the_saved_arguments_and_environment_by_default() {
    let d = killed_after_the_save(
        "env-saved",
        &args(&["one", "two words"]),
        &[("ENVCHECK_VAR", "first"), ("CKPT_DEMO_VAR", "a")],
    );
    let o = restore(
        &d,
        &[],
        &[("ENVCHECK_VAR", "second"), ("CKPT_DEMO_VAR", "b")],
    );
    // CKPT_* is ckpt's namespace: read from the restoring process.
    assert_eq!(
        after_line(&o),
        "after: args=[\"--hold\", \"one\", \"two words\"] ENVCHECK_VAR=first \
         CKPT_DEMO_VAR=b restored=true"
    );
    // A variable the saving run did not have stays absent.
    let d = killed_after_the_save("env-saved-unset", &args(&["x"]), &[]);
    let o = restore(&d, &[], &[("ENVCHECK_VAR", "new")]);
    assert!(
        after_line(&o).contains("ENVCHECK_VAR not set"),
        "{}",
        stdout(&o)
    );
}

/// The restore re-executes the program with `CKPT_FILE` (and the policy variables of
/// `--ckpt-*` options) set; the agent consumes them, so a child ckpt program started by
/// the restored one saves to its own image, not to this one.
#[test]
fn ckpt_variables_of_the_restore_are_consumed() {
    let d = killed_after_the_save("env-consumed", &args(&["x"]), &[]);
    let o = restore(&d, &["--ckpt-time=wall"], &[]);
    let text = stdout(&o);
    assert!(text.contains("internal: CKPT_FILE not set"), "{text}");
}

#[test]
fn current_policy_shows_the_restoring_environment_and_the_saved_arguments() {
    let d = killed_after_the_save("env-current", &args(&["one"]), &[("ENVCHECK_VAR", "first")]);
    let expected = "after: args=[\"--hold\", \"one\"] ENVCHECK_VAR=second \
                    CKPT_DEMO_VAR not set restored=true";
    let o = restore(
        &d,
        &[],
        &[("ENVCHECK_VAR", "second"), ("CKPT_ENV", "current")],
    );
    assert_eq!(after_line(&o), expected);
    let o = restore(&d, &["--ckpt-env=current"], &[("ENVCHECK_VAR", "second")]);
    assert_eq!(after_line(&o), expected);
    // And explicitly `saved`.
    let o = restore(&d, &["--ckpt-env=saved"], &[("ENVCHECK_VAR", "second")]);
    assert!(
        after_line(&o).contains("ENVCHECK_VAR=first"),
        "{}",
        stdout(&o)
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_come_back_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let odd = OsStr::from_bytes(b"x\xffy");
    let d = killed_after_the_save("env-bytes", &[odd], &[]);
    let o = restore(&d, &[], &[]);
    assert_eq!(
        after_line(&o),
        "after: args=[\"--hold\", \"x\\xFFy\"] ENVCHECK_VAR not set \
         CKPT_DEMO_VAR not set restored=true"
    );
}

#[test]
fn a_bad_policy_is_a_usage_error_naming_the_valid_ones() {
    let d = killed_after_the_save("env-bad", &[], &[]);
    let by_var = restore(&d, &[], &[("CKPT_ENV", "sideways")]);
    let by_option = restore(&d, &["--ckpt-env=sideways"], &[]);
    // Each names what the user wrote: the variable, or the option.
    for (o, named) in [
        (by_var, "CKPT_ENV=\"sideways\""),
        (by_option, "--ckpt-env=sideways"),
    ] {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        for needle in [named, "`saved`", "`current`"] {
            assert!(e.contains(needle), "{needle} missing in {e}");
        }
        assert!(!stdout(&o).contains("after:"), "{}", stdout(&o));
    }
}

#[test]
fn inspect_shows_the_saved_arguments_and_variable_names() {
    let d = killed_after_the_save(
        "env-inspect",
        &args(&["alpha", "beta"]),
        &[("ENVCHECK_VAR", "hush-secret")],
    );
    let img = d.path().join(IMAGE);
    let text = inspect(&img, &InspectOptions::full()).expect("inspect");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("env = "))
        .unwrap_or_else(|| panic!("no env component in:\n{text}"));
    assert!(
        line.contains("args [\"") && line.contains("\"--hold\", \"alpha\", \"beta\"]"),
        "{line}"
    );
    // Only the variables the program read are in the image.
    assert!(
        line.contains("1 variable: ENVCHECK_VAR") && !line.contains("PATH"),
        "{line}"
    );
    // Values are left to --json: they may be secrets.
    assert!(!text.contains("hush-secret"), "{text}");
    let json = inspect(
        &img,
        &InspectOptions {
            json: true,
            ..InspectOptions::default()
        },
    )
    .expect("inspect --json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let env = v["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "env"))
        .unwrap_or_else(|| panic!("no env component in:\n{json}"));
    assert!(env.to_string().contains("hush-secret"), "{env}");
}
