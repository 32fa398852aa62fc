//! What the program sees through `ckpt::env`: the real arguments in a fresh run, the
//! saved ones after a restore. (The environment needs no view: a restore under the saved
//! policy puts the saved variables into the process itself.)

use std::ffi::{OsStr, OsString};
use std::sync::{Arc, Mutex, MutexGuard};

/// Variables whose names start with this configure ckpt itself. They always come from
/// the real environment of the current process and are never saved.
pub(crate) const CKPT_PREFIX: &str = "CKPT_";

/// Whether `name` is one of ckpt's own variables (`CKPT_*`).
pub(crate) fn is_ckpt_var(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(CKPT_PREFIX.as_bytes())
}

/// An environment: variables sorted by name, names unique, no `CKPT_*` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    vars: Vec<(OsString, OsString)>,
}

impl Snapshot {
    /// The variables of `pairs` without ckpt's own; of a name given twice the last wins.
    pub(crate) fn new(pairs: impl IntoIterator<Item = (OsString, OsString)>) -> Snapshot {
        let mut vars: Vec<(OsString, OsString)> =
            pairs.into_iter().filter(|(k, _)| !is_ckpt_var(k)).collect();
        // Stable, so equal names keep their order and the last one can be kept.
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(OsString, OsString)> = Vec::with_capacity(vars.len());
        for (k, v) in vars {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Snapshot { vars: out }
    }

    fn find(&self, name: &OsStr) -> std::result::Result<usize, usize> {
        self.vars.binary_search_by(|(k, _)| k.as_os_str().cmp(name))
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &OsStr) -> Option<&OsStr> {
        self.find(name).ok().map(|i| self.vars[i].1.as_os_str())
    }

    /// The variables, sorted by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// How many variables there are.
    pub(crate) fn len(&self) -> usize {
        self.vars.len()
    }
}

/// The arguments a restore put in place of the real ones.
static SAVED_ARGS: Mutex<Option<Arc<[OsString]>>> = Mutex::new(None);

fn saved() -> MutexGuard<'static, Option<Arc<[OsString]>>> {
    // The data stays consistent whatever panicked while it was held.
    SAVED_ARGS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The arguments a restore put in place, if any.
pub(crate) fn saved_args() -> Option<Arc<[OsString]>> {
    saved().clone()
}

/// Puts `args` in place of the process's arguments (`None`: back to the real ones).
pub(crate) fn set_saved_args(args: Option<Vec<OsString>>) {
    *saved() = args.map(Arc::from);
}

/// The variables the program used through `ckpt::env`: read (`var`, `var_os`), set or
/// removed. Only those are saved, with their values (or as absent), unless the program
/// listed the whole environment (`vars`, `vars_os`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Used {
    /// Names used, sorted, without `CKPT_*`.
    pub names: std::collections::BTreeSet<OsString>,
    /// The program listed every variable: the whole environment is saved.
    pub whole: bool,
}

static USED: Mutex<Used> = Mutex::new(Used {
    names: std::collections::BTreeSet::new(),
    whole: false,
});

fn used_lock() -> MutexGuard<'static, Used> {
    USED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Notes that the program used variable `name`.
pub(crate) fn note(name: &OsStr) {
    if is_ckpt_var(name) {
        return;
    }
    let mut u = used_lock();
    if !u.whole && !u.names.contains(name) {
        u.names.insert(name.to_os_string());
    }
}

/// Notes that the program listed the whole environment.
pub(crate) fn note_whole() {
    used_lock().whole = true;
}

/// What the program used so far.
pub(crate) fn used() -> Used {
    used_lock().clone()
}

/// Puts back what a restored program had used (or clears it: tests).
pub(crate) fn set_used(u: Used) {
    *used_lock() = u;
}
