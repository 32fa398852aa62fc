//! Arguments and environment for checkpointed programs: a restore sees the saved ones.
//!
//! `ckpt::env` is [`std::env`](mod@std::env) plus drop-ins for the items that read the arguments and
//! the environment: [`args`], [`args_os`], [`var`], [`var_os`], [`vars`], [`vars_os`],
//! [`set_var`] and [`remove_var`], with std's signatures. Everything else
//! ([`current_dir`], [`temp_dir`], [`consts`], …) is std's, re-exported.
//!
//! In a fresh run they behave like std's: the arguments are the program's minus ckpt's
//! own options (the agent takes those out before `main` runs), and the variables are the
//! process's. Every save records in the image's `env` component the arguments and the
//! variables the program **used** — read with `var`/`var_os` (set or not), changed with
//! `set_var`/`remove_var` — with their values (values that are not UTF-8 are kept as
//! bytes); the rest of the environment is not written, and neither is a variable read with
//! [`secret_var`] (a token, a password: a restore reads it again). A
//! program that lists the environment (`vars`, `vars_os`) used all of it, and then all of
//! it is saved. After `--restore`:
//!
//! - the program sees the **saved arguments**, always;
//! - it sees the **saved environment** by default (`CKPT_ENV=saved`): `var("HOME")`
//!   returns what it returned before the kill (a variable that was unset is unset again),
//!   even when the restore runs with another environment; variables it never used are the
//!   restoring process's. `CKPT_ENV=current` (or `--ckpt-env=current`) shows the
//!   restoring process's real environment instead.
//!
//! Names starting with `CKPT_` are ckpt's namespace: they configure the run and its
//! restore (`CKPT_FILE`, `CKPT_TIME`, `CKPT_ENV`, …), so they are never saved, and
//! whatever the policy the program reads them from the real environment of the current
//! process. Give the program's own variables other names.
//!
//! The working directory is saved too (the [`cwd`] component): a restore changes back
//! to the directory the program was in at the save before any of its code runs, so
//! relative paths mean what they meant (`CKPT_CWD=current` / `--ckpt-cwd=current` keeps
//! the restoring process's directory instead). [`set_current_dir`] is std's.
//!
//! With the saved policy the restore puts the saved variables into the process's real
//! environment (before any of the program's code runs), so code outside checkpointable
//! functions (`std::env`, libc) and child processes see what `ckpt::env` sees, and a
//! variable set through std after the restore is visible to checkpointable code as in a
//! fresh run. Only reads through `ckpt::env` (which is `std::env` inside checkpointable
//! functions) count as used: a variable only code outside them reads is not saved.
//!
//! ```no_run
//! #[ckpt::checkpointable]
//! fn main() {
//!     ckpt::save().expect("checkpoint");
//!     // The same after `--restore`, whatever the restoring shell had in `USER`.
//!     let user = ckpt::env::var("USER").unwrap_or_default();
//!     let args: Vec<String> = ckpt::env::args().skip(1).collect();
//!     println!("{user}: {args:?}");
//! }
//! ```
//!
//! Outside a restore the functions are std's:
//!
//! ```
//! ckpt::env::set_var("CKPT_DOC_GREETING", "hello");
//! assert_eq!(ckpt::env::var("CKPT_DOC_GREETING").as_deref(), Ok("hello"));
//! assert_eq!(std::env::var("CKPT_DOC_GREETING").as_deref(), Ok("hello"));
//! assert_eq!(ckpt::env::args().count(), std::env::args().count());
//! ```

mod component;
pub mod cwd;
mod iter;
mod sys;
mod view;

#[cfg(test)]
mod tests;

pub use std::env::*;

use std::ffi::{OsStr, OsString};

#[cfg_attr(not(feature = "agent"), allow(unused_imports))]
pub(crate) use component::{restore_component, save_component};
pub use component::{Policy, ENV_POLICY};
pub use iter::{Args, ArgsOs, Vars, VarsOs};

/// The program's arguments, `argv[0]` first: a restore's are the saved ones. Like
/// [`std::env::args`].
///
/// # Panics
///
/// The iterator panics on an argument that is not valid Unicode, as std's does; use
/// [`args_os`] for those.
pub fn args() -> Args {
    Args::new(ArgsOs::now())
}

/// The program's arguments as [`OsString`]s, `argv[0]` first: a restore's are the saved
/// ones. Like [`std::env::args_os`].
pub fn args_os() -> ArgsOs {
    ArgsOs::now()
}

/// The variable `key` as the program sees it (the saved value after a restore under the
/// default policy). Like [`std::env::var`].
///
/// # Errors
///
/// [`VarError::NotPresent`] if it is not set, [`VarError::NotUnicode`] if its value is not
/// valid Unicode.
#[track_caller]
pub fn var<K: AsRef<OsStr>>(key: K) -> Result<String, VarError> {
    match var_os(key) {
        Some(v) => v.into_string().map_err(VarError::NotUnicode),
        None => Err(VarError::NotPresent),
    }
}

/// The variable `key` as the program sees it, `None` if it is not set. Like
/// [`std::env::var_os`].
#[track_caller]
pub fn var_os<K: AsRef<OsStr>>(key: K) -> Option<OsString> {
    let key = key.as_ref();
    view::note(key);
    if crate::replay::on() {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let digest = crate::replay::hash(key.as_bytes());
        return crate::replay::value(crate::replay::Kind::Env, digest, || {
            sys::var_os(key).map(OsStringExt::into_vec)
        })
        .map(OsString::from_vec);
    }
    sys::var_os(key)
}

/// A variable that holds a secret (a token, a password): read like [`var`], but never
/// written to an image, so a restore reads it again from the restoring process's
/// environment. Use it for what must not end up in a checkpoint file.
///
/// ```
/// std::env::set_var("DOC_API_TOKEN", "s3cr3t");
/// assert_eq!(ckpt::env::secret_var("DOC_API_TOKEN").as_deref(), Ok("s3cr3t"));
/// ```
///
/// # Errors
///
/// As [`var`].
pub fn secret_var<K: AsRef<OsStr>>(key: K) -> Result<String, VarError> {
    match sys::var_os(key.as_ref()) {
        Some(v) => v.into_string().map_err(VarError::NotUnicode),
        None => Err(VarError::NotPresent),
    }
}

/// The variables the program sees, as `(name, value)` strings. Like [`std::env::vars`].
///
/// # Panics
///
/// The iterator panics on a name or value that is not valid Unicode, as std's does; use
/// [`vars_os`] for those.
#[track_caller]
pub fn vars() -> Vars {
    Vars::new(vars_os())
}

/// The variables the program sees, as `(name, value)` [`OsString`]s. Like
/// [`std::env::vars_os`]. After a restore under the default policy: the saved variables
/// sorted by name, then the real `CKPT_*` ones.
#[track_caller]
pub fn vars_os() -> VarsOs {
    view::note_whole();
    if crate::replay::on() {
        // The whole environment as one event: `name\0value\0` for each variable.
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let all = crate::replay::value(crate::replay::Kind::Env, u64::MAX, || {
            let mut b = Vec::new();
            for (k, v) in sys::vars_os() {
                b.extend_from_slice(k.as_bytes());
                b.push(0);
                b.extend_from_slice(v.as_bytes());
                b.push(0);
            }
            Some(b)
        })
        .unwrap_or_default();
        let mut parts = all.split(|c| *c == 0);
        let mut vars = Vec::new();
        while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
            if !k.is_empty() {
                vars.push((
                    OsString::from_vec(k.to_vec()),
                    OsString::from_vec(v.to_vec()),
                ));
            }
        }
        return VarsOs::new(vars);
    }
    VarsOs::new(sys::vars_os())
}

/// Sets the variable `key` to `value` in the process's environment (the saved one after
/// a restore; the next save records it). Like [`std::env::set_var`].
///
/// std declares its `set_var` `unsafe` from edition 2024 on, because another thread may
/// read the environment through libc at the same time; this one is a safe function so
/// that code of either edition compiles against it, and the same caution applies.
///
/// # Panics
///
/// If `key` is empty or contains `=` or NUL, or `value` contains NUL, as std's does.
pub fn set_var<K: AsRef<OsStr>, V: AsRef<OsStr>>(key: K, value: V) {
    let (key, value) = (key.as_ref(), value.as_ref());
    view::note(key);
    sys::set_var(key, value);
}

/// Removes the variable `key` from the process's environment. Like
/// [`std::env::remove_var`] (see [`set_var`] on safety).
///
/// # Panics
///
/// If `key` is empty or contains `=` or NUL, as std's does.
pub fn remove_var<K: AsRef<OsStr>>(key: K) {
    let key = key.as_ref();
    view::note(key);
    sys::remove_var(key);
}

/// Serializes the tests that change the process-global state of this module.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Back to the real arguments and environment (tests only).
#[cfg(test)]
pub(crate) fn reset() {
    view::set_saved_args(None);
    view::set_used(view::Used::default());
}
