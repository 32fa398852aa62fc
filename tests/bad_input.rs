//! Bad input never panics and never restores half an image: every kind of broken,
//! foreign or misused image gives a clear error naming the file and the problem.

mod support;

use std::path::{Path, PathBuf};

use support::*;

/// A valid image of `montecarlo` (its last save point) in `dir`.
fn valid_image(dir: &Path) -> PathBuf {
    let out = run(&example("montecarlo"), &["--steps", "20000"], dir);
    assert!(out.status.success(), "{}", stderr(&out));
    dir.join("montecarlo.ckpt")
}

/// Restores `image` into montecarlo and returns stderr, asserting a clean failure.
fn restore_fails(dir: &Path, image: &Path) -> String {
    let out = run(
        &example("montecarlo"),
        &["--restore", image.to_str().unwrap()],
        dir,
    );
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit status 2, got {:?}; stderr:\n{err}",
        out.status
    );
    assert!(
        !err.contains("panicked"),
        "panic instead of an error:\n{err}"
    );
    assert!(
        err.starts_with("ckpt: error: "),
        "unexpected stderr:\n{err}"
    );
    assert!(
        stdout(&out).is_empty(),
        "a failed restore ran user code: {}",
        stdout(&out)
    );
    err
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn empty_and_foreign_files_are_not_images() {
    let d = TempDir::new("bad-foreign");
    for (name, bytes) in [
        ("empty.ckpt", &b""[..]),
        ("notes.ckpt", b"just some text, not an image\n"),
        ("short.ckpt", b"CK"),
    ] {
        let p = write(d.path(), name, bytes);
        let err = restore_fails(d.path(), &p);
        assert!(err.contains(name), "error does not name the file: {err}");
        assert!(
            err.contains("not a ckpt image") || err.contains("truncated"),
            "{err}"
        );
    }
}

#[test]
fn truncated_images_are_refused() {
    let d = TempDir::new("bad-truncated");
    let good = std::fs::read(valid_image(d.path())).unwrap();
    for cut in [9, good.len() / 2, good.len() - 1, good.len() - 24] {
        let p = write(d.path(), &format!("cut{cut}.ckpt"), &good[..cut]);
        let err = restore_fails(d.path(), &p);
        assert!(err.contains(&format!("cut{cut}.ckpt")), "{err}");
        assert!(
            err.contains("truncated") || err.contains("corrupt"),
            "cut at {cut}: {err}"
        );
    }
}

/// A flipped bit anywhere is corruption: in the prefix, the header (where the damaged
/// text must not show up as a name), the body and the trailer.
#[test]
fn flipped_bits_are_caught_by_the_checksum() {
    let d = TempDir::new("bad-flipped");
    let good = std::fs::read(valid_image(d.path())).unwrap();
    let name = good
        .windows(10)
        .position(|w| w == b"montecarlo")
        .expect("the program's name in the header");
    let mut positions = vec![
        1,
        4,
        7,
        12,
        name + 3,
        good.len() / 3,
        good.len() / 2,
        good.len() - 30,
    ];
    positions.extend((1..=24).map(|back| good.len() - back));
    for pos in positions {
        let mut bad = good.clone();
        bad[pos] ^= 0x10;
        let p = write(d.path(), &format!("flip{pos}.ckpt"), &bad);
        let err = restore_fails(d.path(), &p);
        assert!(
            err.contains("corrupt image") && err.contains(&format!("flip{pos}.ckpt")),
            "flip at {pos}: {err}"
        );
        assert!(
            !err.contains("version that wrote it")
                && !err.contains("not a ckpt image")
                && !err.contains("truncated")
                && !err.contains("different build"),
            "flip at {pos} blamed on something else: {err}"
        );
        if pos == name + 3 {
            let mut damaged = b"montecarlo".to_vec();
            damaged[3] ^= 0x10;
            let damaged = String::from_utf8(damaged).unwrap();
            assert!(!err.contains(&damaged), "damaged bytes shown: {err}");
        }
    }
}

#[test]
fn future_format_versions_are_refused() {
    let d = TempDir::new("bad-version");
    // A later format: this build cannot read its body.
    let mut img = b"CKPT".to_vec();
    img.extend_from_slice(&2u32.to_le_bytes());
    img.push(0xa0);
    img.extend_from_slice(&1u64.to_le_bytes());
    img.extend_from_slice(&0u64.to_le_bytes());
    img.extend_from_slice(b"CKPTEND\0");
    let p = write(d.path(), "future.ckpt", &img);
    let err = restore_fails(d.path(), &p);
    assert!(
        err.contains("version 2") && err.contains("the ckpt version that wrote it"),
        "{err}"
    );
    // A version field damaged in front of a readable body is corruption, not a later ckpt.
    let mut img = std::fs::read(valid_image(d.path())).unwrap();
    img[4..8].copy_from_slice(&99u32.to_le_bytes());
    let p = write(d.path(), "damaged.ckpt", &img);
    let err = restore_fails(d.path(), &p);
    assert!(
        err.contains("corrupt image") && err.contains("version field is damaged"),
        "{err}"
    );
    assert!(!err.contains("the ckpt version that wrote it"), "{err}");
}

#[test]
fn an_image_of_another_program_is_refused_naming_the_difference() {
    let d = TempDir::new("bad-other-build");
    let out = run(
        &example("graph"),
        &["--nodes", "50", "--iterations", "2"],
        d.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = restore_fails(d.path(), &d.path().join("graph.ckpt"));
    assert!(err.contains("different build"), "{err}");
    assert!(
        err.contains("graph") && err.contains("montecarlo"),
        "the differing part is not named: {err}"
    );
}

#[test]
fn wrong_arguments_give_usage_errors() {
    let d = TempDir::new("bad-args");
    let bin = example("montecarlo");
    for (args, says) in [
        (&["--restore"][..], "--restore needs a file"),
        (&["--restore="], "--restore= needs a file name"),
        (
            &["--ckpt-resume", "--restore", "x.ckpt"],
            "exclude each other",
        ),
        (&["--ckpt-bogus"], "unknown option --ckpt-bogus"),
        (&["--ckpt-time=foo"], "--ckpt-time=foo: expected"),
        (
            &["--restore", "x.ckpt", "--steps", "9"],
            "`--steps 9` would be ignored",
        ),
    ] {
        let out = run(&bin, args, d.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("ckpt: error: ") && err.contains(says) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    // `--ckpt-help` lists the options with their variables, and the program does not run.
    let help = run(&bin, &["--ckpt-help"], d.path());
    assert!(help.status.success(), "{}", stderr(&help));
    let text = stdout(&help);
    assert!(
        text.contains("--ckpt-file FILE") && text.contains("CKPT_TIME") && !text.contains("round"),
        "{text}"
    );
    let err = restore_fails(d.path(), &d.path().join("missing.ckpt"));
    assert!(
        err.contains("missing.ckpt") && err.contains("no such image"),
        "{err}"
    );
}

#[test]
fn ckpt_resume_starts_fresh_without_an_image_and_restores_with_one() {
    let d = TempDir::new("resume");
    let bin = example("montecarlo");
    let fresh = run(&bin, &["--steps", "20000", "--ckpt-resume"], d.path());
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(
        stdout(&fresh).contains("round  1/20"),
        "did not start fresh"
    );
    // That run finished: the next --ckpt-resume starts a new run (tests/lifecycle.rs).
    // One killed after its tenth save (in round 3) is continued.
    std::fs::remove_file(d.path().join("montecarlo.ckpt")).unwrap();
    let killed = std::process::Command::new(&bin)
        .args(["--steps", "20000", "--ckpt-resume"])
        .env("CKPT_CRASH_AFTER_SAVES", "10")
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(!killed.status.success());
    let again = run(&bin, &["--steps", "20000", "--ckpt-resume"], d.path());
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(result_line(&stdout(&again)), result_line(&stdout(&fresh)));
    assert!(
        !stdout(&again).contains("round  1/20"),
        "restored run started over"
    );
}

#[test]
fn ckpt_file_option_and_env_choose_the_image_path() {
    let d = TempDir::new("ckpt-file");
    let bin = example("montecarlo");
    let out = run(
        &bin,
        &["--steps", "20000", "--ckpt-file", "elsewhere.ckpt"],
        d.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.path().join("elsewhere.ckpt").exists());
    assert!(!d.path().join("montecarlo.ckpt").exists());
    // The program never sees ckpt's options.
    assert!(!stdout(&out).contains("ckpt-file"));
    let out = std::process::Command::new(&bin)
        .args(["--steps", "20000"])
        .env("CKPT_FILE", "from-env.ckpt")
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(d.path().join("from-env.ckpt").exists());
    // Image files are private to the user.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.path().join("from-env.ckpt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_second_writer_of_the_same_image_gets_a_clear_error() {
    let d = TempDir::new("lock");
    let bin = example("montecarlo");
    let mut first = Running::spawn(
        std::process::Command::new(&bin)
            .args(["--steps", "400000000"])
            .current_dir(d.path())
            .stdout(std::process::Stdio::null()),
    );
    first.wait_for_file(
        &d.path().join("montecarlo.ckpt"),
        std::time::Duration::from_secs(60),
    );
    let second = run(&bin, &["--steps", "400000000"], d.path());
    let err = stderr(&second);
    assert!(!second.status.success());
    let holder = format!("in use by another run (pid {})", first.pid());
    assert!(err.contains(&holder), "{err}");
    first.kill();
}
