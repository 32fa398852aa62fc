//! The one place where the user-space components meet the agent.
//!
//! A component is process-global state with a name (DESIGN.md §7). At every save the
//! agent writes each component's state into the image's `components` map; at a restore,
//! before any user code runs, each component found in the image is restored from its
//! entry. A component of this build that the image lacks starts fresh; an entry this
//! build does not know is a corrupt image.
//!
//! The list is fixed: adding a component means adding a row to [`COMPONENTS`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::state::{Encoder, Loader, Value};

/// A built-in component.
struct Component {
    /// Its key in the `components` map.
    name: &'static str,
    /// Writes its state as exactly one CBOR item.
    save: fn(&mut Encoder<'_>) -> Result<()>,
    /// Checks, before any component is restored, that a restore can go through (an
    /// error here leaves every file as it was).
    check: fn(&Value) -> Result<()>,
    /// Restores its state from what `save` wrote.
    restore: fn(Value, &mut Loader) -> Result<()>,
}

fn no_check(_: &Value) -> Result<()> {
    Ok(())
}

/// Every component of this build, in the order they are written and restored. The ones
/// that change files (fs, io) come last, and every policy is read before the first
/// restore: a restore refused for any reason has not cut back a file.
const COMPONENTS: &[Component] = &[
    Component {
        name: "time",
        save: crate::time::save_component,
        check: no_check,
        restore: restore_time,
    },
    Component {
        name: "env",
        save: crate::env::save_component,
        check: no_check,
        restore: restore_env,
    },
    Component {
        name: "cwd",
        save: crate::env::cwd::save_component,
        // A working directory that is gone refuses the restore before any file changes.
        check: check_cwd,
        restore: restore_cwd,
    },
    #[cfg(feature = "net")]
    Component {
        name: "net",
        save: crate::net::component::save_component,
        check: no_check,
        restore: restore_net,
    },
    #[cfg(feature = "gfx")]
    Component {
        name: "gfx",
        save: crate::gfx::component::save_component,
        check: no_check,
        restore: crate::gfx::component::restore_component,
    },
    Component {
        name: "globals",
        save: super::globals::save_component,
        check: no_check,
        restore: super::globals::restore_component,
    },
    Component {
        name: "fs",
        save: crate::fs::table::save_component,
        // Checks all its files itself before cutting any back; it is the first to change
        // anything.
        check: no_check,
        restore: restore_fs,
    },
    Component {
        name: "io",
        save: crate::io::stdio::save_component,
        check: check_io,
        restore: restore_io,
    },
];

/// Checks every restore policy in the environment (usage errors before any change).
fn check_policies() -> Result<()> {
    crate::time::Policy::from_env()?;
    crate::env::Policy::from_env()?;
    crate::env::cwd::Policy::from_env()?;
    crate::fs::Policy::from_env()?;
    Ok(())
}

fn check_cwd(v: &Value) -> Result<()> {
    crate::env::cwd::check_component(v, crate::env::cwd::Policy::from_env()?)
}

fn restore_cwd(v: Value, _: &mut Loader) -> Result<()> {
    crate::env::cwd::restore_component(&v, crate::env::cwd::Policy::from_env()?)
}

fn restore_fs(v: Value, _: &mut Loader) -> Result<()> {
    let policy = crate::fs::Policy::from_env()?;
    crate::fs::table::restore_component(&v, policy)
}

#[cfg(feature = "net")]
fn restore_net(v: Value, _: &mut Loader) -> Result<()> {
    crate::net::component::restore_component(&v)
}

fn check_io(v: &Value) -> Result<()> {
    crate::io::stdio::check_component(v, crate::fs::Policy::from_env()?)
}

fn restore_io(v: Value, _: &mut Loader) -> Result<()> {
    crate::io::stdio::restore_component(&v)
}

fn restore_time(v: Value, _: &mut Loader) -> Result<()> {
    let policy = crate::time::Policy::from_env()?;
    crate::time::restore_component(&v, policy)
}

fn restore_env(v: Value, _: &mut Loader) -> Result<()> {
    let policy = crate::env::Policy::from_env()?;
    crate::env::restore_component(&v, policy)
}

/// Writes the `components` map: one entry per component.
pub(crate) fn save_all(e: &mut Encoder<'_>) -> Result<()> {
    e.map(COMPONENTS.len() as u64);
    for c in COMPONENTS {
        e.text(c.name);
        (c.save)(e)?;
    }
    Ok(())
}

/// Restores every component found in the image read from `path`. Unknown names and
/// malformed entries are [`Error::Corrupt`] in section `components`; a usage error (a bad
/// policy in the environment, say) is returned as is.
pub(crate) fn restore_all(
    path: &Path,
    entries: Vec<(String, Value)>,
    loader: &mut Loader,
) -> Result<()> {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        section: "components".into(),
        detail,
    };
    if let Some((name, _)) = entries
        .iter()
        .find(|(n, _)| !COMPONENTS.iter().any(|c| c.name == n))
    {
        let known: Vec<&str> = COMPONENTS.iter().map(|c| c.name).collect();
        return Err(corrupt(format!(
            "unknown component `{name}` (this build has: {})",
            known.join(", ")
        )));
    }
    check_policies()?;
    for c in COMPONENTS {
        if let Some((name, v)) = entries.iter().find(|(n, _)| n == c.name) {
            (c.check)(v).map_err(|e| match e {
                Error::Usage(_) | Error::Restore { .. } | Error::Io { .. } => e,
                e => corrupt(format!("component `{name}`: {e}")),
            })?;
        }
    }
    let mut entries = entries;
    for c in COMPONENTS {
        let Some(i) = entries.iter().position(|(n, _)| n == c.name) else {
            continue;
        };
        let (name, v) = entries.swap_remove(i);
        (c.restore)(v, loader).map_err(|e| match e {
            Error::Usage(_) | Error::Restore { .. } | Error::Io { .. } => e,
            e => corrupt(format!("component `{name}`: {e}")),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `save_all` writes, decoded as a restore reads it: entries and shared objects.
    fn saved_entries() -> (Vec<(String, Value)>, Vec<Option<Value>>) {
        let mut bytes = Vec::new();
        let mut e = Encoder::new(&mut bytes);
        save_all(&mut e).unwrap();
        e.finish().unwrap();
        let (v, shared) = crate::state::decode_slice(&bytes).unwrap();
        let Value::Map(entries) = v else {
            panic!("{v:?}")
        };
        let entries = entries
            .into_iter()
            .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
            .collect();
        (entries, shared)
    }

    #[test]
    fn unknown_components_are_corrupt_and_missing_ones_start_fresh() {
        let mut l = Loader::default();
        let p = Path::new("/x.ckpt");
        let e = restore_all(p, vec![("gfx9".into(), Value::Null)], &mut l).unwrap_err();
        assert!(
            matches!(&e, Error::Corrupt { section, .. } if section == "components"),
            "{e}"
        );
        let e = restore_all(p, vec![("time".into(), Value::Null)], &mut l).unwrap_err();
        assert!(matches!(&e, Error::Corrupt { .. }), "{e}");
        let e = restore_all(p, vec![("env".into(), Value::Null)], &mut l).unwrap_err();
        assert!(matches!(&e, Error::Corrupt { .. }), "{e}");
        restore_all(p, Vec::new(), &mut l).unwrap();
    }

    #[test]
    fn a_bad_env_policy_is_a_usage_error_not_a_corrupt_image() {
        let _g = crate::env::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut bytes = Vec::new();
        let mut e = Encoder::new(&mut bytes);
        crate::env::save_component(&mut e).unwrap();
        e.finish().unwrap();
        let (v, _) = crate::state::decode_slice(&bytes).unwrap();
        std::env::set_var(crate::env::ENV_POLICY, "bogus");
        let r = restore_all(
            Path::new("/x.ckpt"),
            vec![("env".into(), v)],
            &mut Loader::default(),
        );
        std::env::remove_var(crate::env::ENV_POLICY);
        crate::env::reset();
        let e = r.unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("saved") && m.contains("current")),
            "{e}"
        );
    }

    #[test]
    fn a_refused_restore_cuts_nothing_back() {
        let _e = crate::env::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let _f = crate::fs::tests::SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::Builder::new()
            .prefix("ckpt-refused-")
            .tempdir()
            .unwrap();
        let log = dir.path().join("log");
        let mut f = crate::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)
            .unwrap();
        std::io::Write::write_all(&mut f, b"before the save\n").unwrap();
        let (entries, shared) = saved_entries();
        std::io::Write::write_all(&mut f, b"after the save\n").unwrap();
        // A bad policy (of any component) refuses the restore before the log is cut back.
        std::env::set_var(crate::env::ENV_POLICY, "bogus");
        let r = restore_all(Path::new("/x.ckpt"), entries, &mut Loader::new(shared));
        std::env::remove_var(crate::env::ENV_POLICY);
        crate::env::reset();
        assert!(matches!(r, Err(Error::Usage(_))), "{r:?}");
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "before the save\nafter the save\n"
        );
        drop(f);
    }

    #[test]
    fn save_all_writes_one_entry_per_component() {
        // Restoring `env` changes what `ckpt::env` shows this whole test process.
        let _g = crate::env::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (entries, shared) = saved_entries();
        assert_eq!(entries.len(), COMPONENTS.len());
        assert!(entries[0].1.get("now_ns").is_some());
        let env = entries.iter().find(|(n, _)| n == "env").map(|(_, v)| v);
        assert!(
            matches!(env.and_then(|v| v.get("args")), Some(Value::Array(a)) if !a.is_empty()),
            "{env:?}"
        );
        let r = restore_all(Path::new("/x.ckpt"), entries, &mut Loader::new(shared));
        crate::env::reset();
        r.unwrap();
    }
}
