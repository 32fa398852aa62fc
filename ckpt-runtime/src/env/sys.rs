//! The only place `ckpt::env` touches the operating system: the process's arguments,
//! its real environment and its working directory.

use std::ffi::{OsStr, OsString};

/// The process's arguments, argv[0] first.
pub(super) fn args_os() -> Vec<OsString> {
    std::env::args_os().collect()
}

/// The real environment, in the process's order.
pub(super) fn vars_os() -> Vec<(OsString, OsString)> {
    std::env::vars_os().collect()
}

/// One variable of the real environment.
#[inline]
pub(super) fn var_os(key: &OsStr) -> Option<OsString> {
    std::env::var_os(key)
}

/// Sets a variable of the real environment (panics on an invalid name or value, as
/// [`std::env::set_var`] does).
pub(super) fn set_var(key: &OsStr, value: &OsStr) {
    std::env::set_var(key, value)
}

/// Removes a variable of the real environment (panics on an invalid name, as
/// [`std::env::remove_var`] does).
pub(super) fn remove_var(key: &OsStr) {
    std::env::remove_var(key)
}

/// The process's working directory.
pub(super) fn current_dir() -> std::io::Result<std::path::PathBuf> {
    std::env::current_dir()
}

/// Changes the process's working directory.
pub(super) fn set_current_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::env::set_current_dir(dir)
}

/// Whether `p` names a directory (symbolic links followed).
pub(super) fn is_dir(p: &std::path::Path) -> bool {
    p.is_dir()
}
