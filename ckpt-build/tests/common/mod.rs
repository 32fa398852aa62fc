//! Helpers shared by the integration tests: a throw-away package tree.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

/// A directory (`ckpt-build-test-TAG-…` in the system's temporary directory), removed on
/// drop, also when a test fails.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ckpt-build-test-{tag}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temporary directory for {tag}: {e}"));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `content` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, content).expect("write");
        self
    }
}
