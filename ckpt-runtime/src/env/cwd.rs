//! The `cwd` component: the program's working directory at every save, and the restore
//! that changes back to it before any of the program's code runs.
//!
//! A program that calls `std::env::set_current_dir("work")` and then opens files by
//! relative path needs that directory again after a restore, whichever directory the
//! restore is started from. The image holds the absolute path; a restore changes to it, or
//! fails naming it when it no longer exists (unless `--ckpt-cwd=current` /
//! `CKPT_CWD=current` keeps the restoring process's directory).
//!
//! State: `{"path": path}`, a text string, or a byte string when the path is not UTF-8;
//! `null` when the process had no working directory (it was removed under it).

use std::path::PathBuf;

use super::component::{get_os, put_os};
use super::sys;
use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

/// The environment variable that chooses the [`Policy`] of a restore.
pub const ENV_POLICY: &str = "CKPT_CWD";

/// Which working directory a restored program runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// The directory the program was in at the save (the default; `CKPT_CWD=saved`).
    #[default]
    Saved,
    /// The directory the restore was started from (`CKPT_CWD=current`).
    Current,
}

impl Policy {
    /// Parses a `CKPT_CWD` value.
    pub fn parse(s: &str) -> Result<Policy> {
        match s.trim() {
            "" | "saved" => Ok(Policy::Saved),
            "current" => Ok(Policy::Current),
            other => Err(Error::Usage(format!(
                "{ENV_POLICY}={other:?}: expected `saved` (the default: the working directory \
                 of the run that saved the image) or `current` (the directory the restore is \
                 started from)"
            ))),
        }
    }

    /// The policy of this process, from `CKPT_CWD`.
    pub fn from_env() -> Result<Policy> {
        crate::policy::from_env(ENV_POLICY, Policy::parse)
    }
}

/// The component's state: the working directory now (absolute, as the OS reports it).
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    e.map(1);
    e.text("path");
    match sys::current_dir() {
        Ok(dir) => put_os(e, dir.as_os_str()),
        // Removed under the process: nothing to go back to.
        Err(_) => e.null(),
    }
    Ok(())
}

/// The saved directory (`None`: the process had none).
pub(crate) fn parse(v: &Value) -> Result<Option<PathBuf>> {
    match v.get("path") {
        Some(Value::Null) => Ok(None),
        Some(p) => Ok(Some(PathBuf::from(get_os(p, "path")?))),
        None => Err(Error::ty("path", "a path or null", v.kind())),
    }
}

/// Checks, before any component is restored, that the restore can change to the saved
/// directory.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn check_component(v: &Value, policy: Policy) -> Result<()> {
    let Some(dir) = parse(v)? else {
        return Ok(());
    };
    if policy == Policy::Current || sys::is_dir(&dir) {
        return Ok(());
    }
    Err(Error::Restore {
        path: dir,
        detail: "it was the program's working directory at the checkpoint, and it is not a \
                 directory now (removed or renamed?); make it again, or restore with \
                 --ckpt-cwd=current (CKPT_CWD=current) to run in the directory the restore \
                 is started from"
            .into(),
    })
}

/// Changes to the saved directory (under [`Policy::Saved`]).
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn restore_component(v: &Value, policy: Policy) -> Result<()> {
    check_component(v, policy)?;
    match parse(v)? {
        Some(dir) if policy == Policy::Saved => {
            sys::set_current_dir(&dir).map_err(|e| Error::Restore {
                path: dir.clone(),
                detail: format!(
                    "it was the program's working directory at the checkpoint, and the \
                     restore cannot change to it ({e}); fix its permissions, or restore with \
                     --ckpt-cwd=current (CKPT_CWD=current)"
                ),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::decode_slice;

    /// The component's state as an image holds it, written by `write`.
    fn encoded(write: impl FnOnce(&mut Encoder<'_>)) -> Value {
        let mut bytes = Vec::new();
        let mut e = Encoder::new(&mut bytes);
        write(&mut e);
        e.finish().unwrap();
        decode_slice(&bytes).unwrap().0
    }

    #[test]
    fn policy_parses_and_names_the_valid_values() {
        assert_eq!(Policy::parse("").unwrap(), Policy::Saved);
        assert_eq!(Policy::parse("saved").unwrap(), Policy::Saved);
        assert_eq!(Policy::parse(" current ").unwrap(), Policy::Current);
        let e = Policy::parse("home").unwrap_err().to_string();
        assert!(
            e.contains("CKPT_CWD") && e.contains("saved") && e.contains("current"),
            "{e}"
        );
    }

    #[test]
    fn the_saved_directory_is_the_absolute_working_directory() {
        let v = encoded(|e| save_component(e).unwrap());
        let dir = parse(&v).unwrap().unwrap();
        assert!(dir.is_absolute());
        assert_eq!(dir, std::env::current_dir().unwrap());
        // Restoring into the directory the process is in already changes nothing.
        restore_component(&v, Policy::Saved).unwrap();
        assert_eq!(std::env::current_dir().unwrap(), dir);
    }

    #[test]
    fn a_saved_directory_that_is_gone_refuses_the_restore_unless_current() {
        let gone = std::env::temp_dir().join(format!("ckpt-cwd-gone-{}", std::process::id()));
        let v = encoded(|e| {
            e.map(1);
            e.text("path");
            e.text(gone.to_str().unwrap());
        });
        let e = check_component(&v, Policy::Saved).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(&e, Error::Restore { path, .. } if *path == gone)
                && msg.contains("working directory")
                && msg.contains("--ckpt-cwd=current"),
            "{msg}"
        );
        assert!(restore_component(&v, Policy::Saved).is_err());
        let here = std::env::current_dir().unwrap();
        restore_component(&v, Policy::Current).unwrap();
        assert_eq!(std::env::current_dir().unwrap(), here);
    }

    #[test]
    fn no_working_directory_at_the_save_restores_in_place() {
        let v = encoded(|e| {
            e.map(1);
            e.text("path");
            e.null();
        });
        assert_eq!(parse(&v).unwrap(), None);
        check_component(&v, Policy::Saved).unwrap();
        let bad = encoded(|e| e.map(0));
        assert!(matches!(parse(&bad), Err(Error::Type { .. })));
    }
}
