//! The restore policies' shared reading: each component names its environment variable
//! (`CKPT_TIME`, `CKPT_ENV`, `CKPT_FILES`), whose `--ckpt-…=` option the agent turns into
//! the variable before a restore starts.

use crate::error::Result;

/// The policy in `var`: the default when unset, else what `parse` makes of the value (a
/// value that is not UTF-8 goes to `parse` lossily, which rejects it with its message).
pub(crate) fn from_env<P: Default>(var: &str, parse: fn(&str) -> Result<P>) -> Result<P> {
    match std::env::var_os(var) {
        None => Ok(P::default()),
        Some(v) => match v.to_str() {
            Some(s) => parse(s),
            None => parse(&v.to_string_lossy()),
        },
    }
}
