//! A crate outside the workspace set up exactly as the README's "In your crate's
//! `Cargo.toml`" says (its lines are read from README.md, with the repository's path put
//! in), with the `build.rs` it shows: it builds, and a run killed after a save and
//! restored ends like an uninterrupted one, its static counter included.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::*;

const MAIN: &str = r#"use std::sync::atomic::{AtomicU64, Ordering};

static SEEN: AtomicU64 = AtomicU64::new(0);

#[derive(ckpt::State)]
struct Tally {
    words: Vec<String>,
    letters: usize,
}

#[ckpt::checkpointable]
fn main() {
    let text = "the quick brown fox jumps over the lazy dog";
    let mut t = Tally { words: Vec::new(), letters: 0 };
    for w in text.split_whitespace() {
        SEEN.fetch_add(1, Ordering::Relaxed);
        t.words.push(w.to_uppercase());
        t.letters += w.len();
        ckpt::save().expect("checkpoint");
        println!("{} words, {} letters, seen {}", t.words.len(), t.letters, SEEN.load(Ordering::Relaxed));
    }
    println!("{}", t.words.join(" "));
}
"#;

/// The ```toml block that follows the README's "In your crate's `Cargo.toml`".
fn readme_manifest_lines(repo: &Path) -> String {
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let at = readme
        .find("In your crate's `Cargo.toml`")
        .expect("the README's set-up section");
    let block = &readme[at..];
    let start = block.find("```toml\n").expect("its toml block") + "```toml\n".len();
    let end = start + block[start..].find("```").expect("the end of the block");
    block[start..end].replace("../ckpt/", &format!("{}/", repo.display()))
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

#[test]
fn a_crate_set_up_as_the_readme_says_builds_and_resumes() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let krate = TempDir::new("use-in-crate");
    let deps = readme_manifest_lines(&repo);
    write(
        krate.path(),
        "Cargo.toml",
        &format!(
            "[package]\nname = \"tally\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             # Not a member of the ckpt workspace it sits outside of.\n[workspace]\n\n{deps}"
        ),
    );
    write(
        krate.path(),
        "build.rs",
        "fn main() { ckpt_build::instrument(); }\n",
    );
    write(krate.path(), "src/main.rs", MAIN);
    // Its own target directory under ckpt's, kept between runs: ckpt's crates are built
    // once, then only the little crate.
    let target = repo.join("target").join("use-in-crate");
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet"])
        .current_dir(krate.path())
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS");
    let built = Running::spawn(&mut build).finish(Duration::from_secs(600));
    assert!(
        built.status.success(),
        "the crate set up as the README says does not build:\n{}",
        stderr(&built)
    );
    let bin = target.join("debug").join("tally");

    let clean = TempDir::new("use-in-crate-clean");
    let whole = run(&bin, &[], clean.path());
    assert!(whole.status.success(), "{}", stderr(&whole));

    let dir = TempDir::new("use-in-crate-killed");
    let killed = Command::new(&bin)
        .current_dir(dir.path())
        .env("CKPT_CRASH_AFTER_SAVES", "4")
        .output()
        .expect("run");
    assert!(
        !killed.status.success(),
        "the crash injection did not kill it"
    );
    let restored = run(&bin, &["--restore", "tally.ckpt"], dir.path());
    assert!(restored.status.success(), "{}", stderr(&restored));
    let joined = format!("{}{}", stdout(&killed), stdout(&restored));
    assert_eq!(joined, stdout(&whole), "the restored run ended differently");
}
