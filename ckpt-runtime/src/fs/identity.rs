//! Which file a path names: the identity ckpt checks a file by, shared by the table of
//! open files, the journal and the undo of renames and removals.

use std::os::unix::fs::MetadataExt;

use crate::error::{Error, Result};
use crate::state::{Encoder, Value};

/// Which file a path named when it was opened: device, inode and the inode's birth time.
/// File systems reuse a freed inode number at once, so a file deleted and recreated under
/// the same path often has the old `(dev, ino)`; its birth time tells them apart (`0`
/// where the file system does not report one).
#[derive(Debug, Clone, Copy, Eq)]
pub(crate) struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) born_ns: u64,
}

impl PartialEq for Identity {
    fn eq(&self, o: &Identity) -> bool {
        self.dev == o.dev
            && self.ino == o.ino
            && (self.born_ns == 0 || o.born_ns == 0 || self.born_ns == o.born_ns)
    }
}

impl Identity {
    pub(crate) fn of(m: &std::fs::Metadata) -> Identity {
        let born_ns = m
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            born_ns,
        }
    }

    pub(crate) fn save(&self, e: &mut Encoder<'_>) {
        e.text("dev");
        e.uint(self.dev);
        e.text("ino");
        e.uint(self.ino);
        e.text("born_ns");
        e.uint(self.born_ns);
    }

    /// Reads what [`save`](Identity::save) wrote into a map (`born_ns` optional).
    pub(crate) fn load(v: &Value) -> Result<Identity> {
        let uint = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| Error::ty(k, "an unsigned integer", "something else"))
        };
        Ok(Identity {
            dev: uint("dev")?,
            ino: uint("ino")?,
            born_ns: v.get("born_ns").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}
