//! Pins the analysis file format (version 1) byte for byte, hash included.
//!
//! ckpt-macros reads this file without depending on ckpt-build: if this test has to
//! change, the format version and the reader in ckpt-macros change with it.

mod common;

use ckpt_build::analysis::{ANALYSIS_FILE_NAME, FORMAT_HEADER, FORMAT_VERSION};
use ckpt_build::analyze;
use common::TempDir;

const LIB: &str = "mod m;\n#[checkpointable]\nfn b() {}\n";
const M: &str =
    "#[checkpointable]\nimpl Sim { fn a(&self) {} }\n#[ckpt::checkpointable]\nfn a() {}\n";
const EXAMPLE: &str = "#[checkpointable]\nfn main() {}\n";

#[test]
fn format_version_1_is_pinned() {
    assert_eq!(FORMAT_VERSION, 1);
    assert_eq!(FORMAT_HEADER, "ckpt-analysis 1");
    assert_eq!(ANALYSIS_FILE_NAME, "ckpt-analysis.txt");

    let dir = TempDir::new("pin");
    dir.write("src/lib.rs", LIB)
        .write("src/m.rs", M)
        .write("examples/demo-one.rs", EXAMPLE);
    let a = analyze(dir.path(), "pin-me", "1.2.3").expect("analyze");
    let text = a.render(
        "rustc 1.82.0 (f6e511eec 2024-10-15)",
        "x86_64-unknown-linux-gnu",
    );
    assert_eq!(
        text,
        "ckpt-analysis 1\n\
         crate pin_me\n\
         fingerprint pin_me\t1.2.3\tb54c5235365c66dd\trustc 1.82.0 (f6e511eec 2024-10-15)\tx86_64-unknown-linux-gnu\n\
         fn a\n\
         fn b\n\
         method Sim a\n\
         crate demo_one\n\
         fingerprint demo_one\t1.2.3\tf8d51293cf3c005c\trustc 1.82.0 (f6e511eec 2024-10-15)\tx86_64-unknown-linux-gnu\n\
         fn main\n"
    );
}

/// The sources hash, spelled out as the module docs describe it.
fn documented_hash(files: &[(&str, &str)]) -> String {
    let mut input = Vec::new();
    for (path, content) in files {
        input.extend_from_slice(path.as_bytes());
        input.push(0);
        input.extend_from_slice(&(content.len() as u64).to_le_bytes());
        input.extend_from_slice(content.as_bytes());
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&input))
}

#[test]
fn sources_hash_is_the_documented_one() {
    assert_eq!(
        documented_hash(&[("src/lib.rs", LIB), ("src/m.rs", M)]),
        "b54c5235365c66dd"
    );
    assert_eq!(
        documented_hash(&[("examples/demo-one.rs", EXAMPLE)]),
        "f8d51293cf3c005c"
    );
}
