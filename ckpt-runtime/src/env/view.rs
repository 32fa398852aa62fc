//! What the program sees through `ckpt::env`: the real arguments and environment in a
//! fresh run, or those a restore put in their place.
//!
//! Reads of a variable are on the hot path (programs call `var` in loops), so the
//! restored environment is an immutable, sorted [`Snapshot`] behind an `Arc`. Each thread
//! keeps its own reference to the current snapshot with the generation it belongs to; a
//! read compares one atomic generation with the cached one and, when they match (always,
//! except right after a change), looks the name up by binary search without locking or
//! allocating. Changes (`set_var`, a restore) are rare: they take a mutex, build the next
//! snapshot and bump the generation.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::sync::atomic::{AtomicU64, Ordering};
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

    /// Sets `name` (ckpt's own variables are ignored: they live in the real environment).
    pub(crate) fn set(&mut self, name: &OsStr, value: &OsStr) {
        if is_ckpt_var(name) {
            return;
        }
        match self.find(name) {
            Ok(i) => self.vars[i].1 = value.to_os_string(),
            Err(i) => self
                .vars
                .insert(i, (name.to_os_string(), value.to_os_string())),
        }
    }

    /// Removes `name`.
    pub(crate) fn remove(&mut self, name: &OsStr) {
        if let Ok(i) = self.find(name) {
            self.vars.remove(i);
        }
    }

    /// The variables, sorted by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The variables, sorted by name.
    pub(crate) fn into_vec(self) -> Vec<(OsString, OsString)> {
        self.vars
    }

    /// How many variables there are.
    pub(crate) fn len(&self) -> usize {
        self.vars.len()
    }
}

/// What a restore put in place of the real arguments and environment.
#[derive(Default)]
struct Overrides {
    /// The saved arguments (every restore sets them, whatever the policy).
    args: Option<Arc<[OsString]>>,
    /// The saved environment (policy `saved`); `None`: the real one.
    env: Option<Arc<Snapshot>>,
    /// The generation of `env`: 0 while `env` is `None`.
    generation: u64,
    /// The last generation handed out.
    last_generation: u64,
}

static OVERRIDES: Mutex<Overrides> = Mutex::new(Overrides {
    args: None,
    env: None,
    generation: 0,
    last_generation: 0,
});

/// `OVERRIDES.generation`, readable without the lock: 0 means "the real environment".
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's reference to the snapshot of one generation.
    static CACHE: RefCell<Option<(u64, Arc<Snapshot>)>> = const { RefCell::new(None) };
}

fn overrides() -> MutexGuard<'static, Overrides> {
    // The data stays consistent whatever panicked while it was held.
    OVERRIDES.lock().unwrap_or_else(|e| e.into_inner())
}

impl Overrides {
    fn set_env(&mut self, env: Option<Snapshot>) {
        match env {
            Some(s) => {
                self.last_generation += 1;
                self.generation = self.last_generation;
                self.env = Some(Arc::new(s));
            }
            None => {
                self.generation = 0;
                self.env = None;
            }
        }
        GENERATION.store(self.generation, Ordering::Release);
    }
}

/// Runs `f` on the environment a restore put in place, or on `None` when the program
/// sees the real environment. Lock-free unless the environment changed since this
/// thread's last read.
#[inline]
pub(crate) fn with_saved_env<R>(f: impl Fn(Option<&Snapshot>) -> R) -> R {
    let generation = GENERATION.load(Ordering::Acquire);
    if generation == 0 {
        return f(None);
    }
    let cached = CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        if !matches!(&*c, Some((g, _)) if *g == generation) {
            let o = overrides();
            *c = o.env.clone().map(|s| (o.generation, s));
        }
        f(c.as_ref().map(|(_, s)| &**s))
    });
    match cached {
        Ok(r) => r,
        // This thread's locals are being destroyed: read under the lock.
        Err(_) => f(overrides().env.clone().as_deref()),
    }
}

/// Applies `change` to the restored environment, if there is one.
pub(crate) fn update_saved_env(change: impl FnOnce(&mut Snapshot)) {
    let mut o = overrides();
    if let Some(env) = &o.env {
        let mut next = Snapshot::clone(env);
        change(&mut next);
        o.set_env(Some(next));
    }
}

/// Puts `env` in place of the real environment (`None`: back to the real one).
pub(crate) fn set_saved_env(env: Option<Snapshot>) {
    overrides().set_env(env);
}

/// The arguments a restore put in place, if any.
pub(crate) fn saved_args() -> Option<Arc<[OsString]>> {
    overrides().args.clone()
}

/// Puts `args` in place of the process's arguments (`None`: back to the real ones).
pub(crate) fn set_saved_args(args: Option<Vec<OsString>>) {
    overrides().args = args.map(Arc::from);
}
