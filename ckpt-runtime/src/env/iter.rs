//! The iterators of `ckpt::env`, shaped like std's: [`Args`], [`ArgsOs`], [`Vars`],
//! [`VarsOs`].

use std::ffi::OsString;
use std::fmt;
use std::iter::FusedIterator;
use std::vec;

use super::{sys, view};

/// The program's arguments as [`OsString`]s: the iterator of [`args_os`](super::args_os).
pub struct ArgsOs {
    inner: vec::IntoIter<OsString>,
}

impl ArgsOs {
    /// The arguments the program sees now: the saved ones after a restore.
    pub(crate) fn now() -> ArgsOs {
        let args = match view::saved_args() {
            Some(a) => a.to_vec(),
            None => sys::args_os(),
        };
        ArgsOs {
            inner: args.into_iter(),
        }
    }
}

impl Iterator for ArgsOs {
    type Item = OsString;
    fn next(&mut self) -> Option<OsString> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for ArgsOs {
    fn len(&self) -> usize {
        self.inner.len()
    }
}

impl DoubleEndedIterator for ArgsOs {
    fn next_back(&mut self) -> Option<OsString> {
        self.inner.next_back()
    }
}

impl FusedIterator for ArgsOs {}

impl fmt::Debug for ArgsOs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgsOs")
            .field("args", &self.inner.as_slice())
            .finish()
    }
}

/// The program's arguments as [`String`]s: the iterator of [`args`](super::args).
pub struct Args {
    inner: ArgsOs,
}

impl Args {
    pub(crate) fn new(inner: ArgsOs) -> Args {
        Args { inner }
    }
}

fn unicode(arg: OsString) -> String {
    arg.into_string()
        .unwrap_or_else(|a| panic!("an argument is not valid Unicode: {a:?}"))
}

impl Iterator for Args {
    type Item = String;
    /// Panics on an argument that is not valid Unicode, as std's does.
    fn next(&mut self) -> Option<String> {
        self.inner.next().map(unicode)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Args {
    fn len(&self) -> usize {
        self.inner.len()
    }
}

impl DoubleEndedIterator for Args {
    fn next_back(&mut self) -> Option<String> {
        self.inner.next_back().map(unicode)
    }
}

impl FusedIterator for Args {}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("args", &self.inner.inner.as_slice())
            .finish()
    }
}

/// The variables as `(name, value)` [`OsString`]s: the iterator of
/// [`vars_os`](super::vars_os).
pub struct VarsOs {
    inner: vec::IntoIter<(OsString, OsString)>,
}

impl VarsOs {
    pub(crate) fn new(vars: Vec<(OsString, OsString)>) -> VarsOs {
        VarsOs {
            inner: vars.into_iter(),
        }
    }
}

impl Iterator for VarsOs {
    type Item = (OsString, OsString);
    fn next(&mut self) -> Option<(OsString, OsString)> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for VarsOs {}

impl fmt::Debug for VarsOs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VarsOs")
            .field("vars", &self.inner.as_slice())
            .finish()
    }
}

/// The variables as `(name, value)` [`String`]s: the iterator of [`vars`](super::vars).
pub struct Vars {
    inner: VarsOs,
}

impl Vars {
    pub(crate) fn new(inner: VarsOs) -> Vars {
        Vars { inner }
    }
}

impl Iterator for Vars {
    type Item = (String, String);
    /// Panics on a name or value that is not valid Unicode, as std's does.
    fn next(&mut self) -> Option<(String, String)> {
        self.inner.next().map(|(k, v)| {
            match (k.into_string(), v.into_string()) {
                (Ok(k), Ok(v)) => (k, v),
                // Values may be secrets: name the variable only.
                (Ok(k), Err(_)) => panic!("the value of {k} is not valid Unicode"),
                (Err(k), _) => panic!("the variable name {k:?} is not valid Unicode"),
            }
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for Vars {}

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vars")
            .field("vars", &self.inner.inner.as_slice())
            .finish()
    }
}
