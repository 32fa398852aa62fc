//! The `env` component: the arguments and environment at every save, and what a restore
//! does with them.
//!
//! State: `{"args": [arg, …], "vars": {name: value, …}, "absent": [name, …], "whole":
//! bool}`, each argument, name and value a text string, or a byte string when it is not
//! UTF-8 (kept exactly). `vars` holds the variables the program used that were set,
//! `absent` those it used that were not; `whole` says the program listed the environment,
//! so `vars` is all of it. (Images without `whole` hold the whole environment.)

use std::ffi::OsString;

use super::view::{self, Snapshot};
use super::{sys, ArgsOs};
use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

/// The environment variable that chooses the [`Policy`] of a restore.
pub const ENV_POLICY: &str = "CKPT_ENV";

/// Which environment a restored program sees through `ckpt::env`. The arguments are the
/// saved ones under either policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// The environment of the run that saved the image (the default; `CKPT_ENV=saved`).
    #[default]
    Saved,
    /// The environment of the restoring process (`CKPT_ENV=current`).
    Current,
}

impl Policy {
    /// Parses a `CKPT_ENV` value.
    pub fn parse(s: &str) -> Result<Policy> {
        match s.trim() {
            "" | "saved" => Ok(Policy::Saved),
            "current" => Ok(Policy::Current),
            other => Err(bad_policy(&format!("{other:?}"))),
        }
    }

    /// The policy of this process, from `CKPT_ENV` in its real environment.
    pub fn from_env() -> Result<Policy> {
        crate::policy::from_env(ENV_POLICY, Policy::parse)
    }
}

fn bad_policy(value: &str) -> Error {
    Error::Usage(format!(
        "{ENV_POLICY}={value}: expected `saved` (the default: the environment of the run \
         that saved the image) or `current` (the environment of the restoring process)"
    ))
}

/// What the `env` component saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Saved {
    /// The program's arguments, argv[0] first, ckpt's options removed.
    pub args: Vec<OsString>,
    /// The variables the program used that are set (all of them when `whole`), without
    /// `CKPT_*`.
    pub vars: Snapshot,
    /// The variables the program used that are not set.
    pub absent: Vec<OsString>,
    /// The program listed the environment: `vars` is all of it.
    pub whole: bool,
}

impl Saved {
    /// The arguments and the variables the program used, as it sees them now.
    pub(crate) fn now() -> Saved {
        let args: Vec<OsString> = ArgsOs::now().collect();
        let used = view::used();
        if used.whole {
            return Saved {
                args,
                vars: Snapshot::new(sys::vars_os()),
                absent: Vec::new(),
                whole: true,
            };
        }
        let mut set = Vec::new();
        let mut absent = Vec::new();
        for name in used.names {
            match sys::var_os(&name) {
                Some(v) => set.push((name, v)),
                None => absent.push(name),
            }
        }
        Saved {
            args,
            vars: Snapshot::new(set),
            absent,
            whole: false,
        }
    }

    /// What the program had used, for the saves after a restore.
    fn used(&self) -> view::Used {
        view::Used {
            names: self
                .vars
                .iter()
                .map(|(k, _)| k.to_os_string())
                .chain(self.absent.iter().cloned())
                .collect(),
            whole: self.whole,
        }
    }
}

pub(super) fn put_os(e: &mut Encoder<'_>, s: &std::ffi::OsStr) {
    match s.to_str() {
        Some(t) => e.text(t),
        None => e.bytes(s.as_encoded_bytes()),
    }
}

pub(super) fn get_os(v: &Value, at: &str) -> Result<OsString> {
    match v {
        Value::Text(t) => Ok(OsString::from(t)),
        Value::Bytes(b) => os_from_bytes(b.clone()),
        other => Err(Error::ty(at, "a text or byte string", other.kind())),
    }
}

#[cfg(unix)]
fn os_from_bytes(b: Vec<u8>) -> Result<OsString> {
    use std::os::unix::ffi::OsStringExt;
    Ok(OsString::from_vec(b))
}

#[cfg(not(unix))]
fn os_from_bytes(b: Vec<u8>) -> Result<OsString> {
    String::from_utf8(b)
        .map(OsString::from)
        .map_err(|_| Error::ty("", "UTF-8 on this platform", "other bytes"))
}

/// Writes `s` as the component's state.
pub(crate) fn write(e: &mut Encoder<'_>, s: &Saved) {
    e.map(4);
    e.text("args");
    e.array(s.args.len() as u64);
    for a in &s.args {
        put_os(e, a);
    }
    e.text("vars");
    e.map(s.vars.len() as u64);
    for (k, v) in s.vars.iter() {
        put_os(e, k);
        put_os(e, v);
    }
    e.text("absent");
    e.array(s.absent.len() as u64);
    for k in &s.absent {
        put_os(e, k);
    }
    e.text("whole");
    e.bool(s.whole);
}

/// Reads what [`write`] wrote.
pub(crate) fn parse(v: &Value) -> Result<Saved> {
    if !matches!(v, Value::Map(_)) {
        return Err(Error::ty("", "a map {args, vars}", v.kind()));
    }
    let args = match v.get("args") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, a)| get_os(a, &format!("args[{i}]")))
            .collect::<Result<Vec<_>>>()?,
        Some(other) => return Err(Error::ty("args", "an array", other.kind())),
        None => return Err(Error::ty("args", "an array", "nothing")),
    };
    let vars = match v.get("vars") {
        Some(Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| {
                let name = get_os(k, "vars")?;
                let value = get_os(v, &format!("vars.{}", name.to_string_lossy()))?;
                Ok((name, value))
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => return Err(Error::ty("vars", "a map", other.kind())),
        None => return Err(Error::ty("vars", "a map", "nothing")),
    };
    let absent = match v.get("absent") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| get_os(k, "absent"))
            .collect::<Result<Vec<_>>>()?,
        Some(other) => return Err(Error::ty("absent", "an array", other.kind())),
        None => Vec::new(),
    };
    let whole = match v.get("whole") {
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(Error::ty("whole", "a bool", other.kind())),
        // Written before ckpt saved only the variables used: the whole environment.
        None => true,
    };
    Ok(Saved {
        args,
        vars: Snapshot::new(vars),
        absent,
        whole,
    })
}

/// The `env` component's state: the arguments and environment the program sees now.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn save_component(e: &mut Encoder<'_>) -> Result<()> {
    write(e, &Saved::now());
    Ok(())
}

/// Puts the saved arguments in place and, under [`Policy::Saved`], the saved environment.
#[cfg_attr(not(feature = "agent"), allow(dead_code))]
pub(crate) fn restore_component(v: &Value, policy: Policy) -> Result<()> {
    let saved = parse(v)?;
    view::set_used(saved.used());
    if policy == Policy::Saved {
        // The whole process sees the saved variables: ckpt's `var`, std's (code outside
        // checkpointable functions) and child processes alike. This runs before any of
        // the program's code, on its only thread.
        if saved.whole {
            apply_to_process(&saved.vars);
        } else {
            for (k, v) in saved.vars.iter() {
                if sys::var_os(k).as_deref() != Some(v) {
                    sys::set_var(k, v);
                }
            }
            for k in &saved.absent {
                if !view::is_ckpt_var(k) && sys::var_os(k).is_some() {
                    sys::remove_var(k);
                }
            }
        }
    }
    view::set_saved_args(Some(saved.args));
    Ok(())
}

/// Makes the real environment equal to `vars` (ckpt's own `CKPT_*` variables stay).
fn apply_to_process(vars: &view::Snapshot) {
    for (k, _) in sys::vars_os() {
        if !view::is_ckpt_var(&k) && vars.get(&k).is_none() {
            sys::remove_var(&k);
        }
    }
    for (k, v) in vars.iter() {
        if sys::var_os(k).as_deref() != Some(v) {
            sys::set_var(k, v);
        }
    }
}
