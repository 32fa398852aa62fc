//! What an image holds and who may restore it: a `#[ckpt(secret)]` field and a variable
//! read with `ckpt::env::secret_var` are never written (the image's bytes do not contain
//! them) and come back at restore from the restoring process; variables the program never
//! read are not written either; with a signing key (`CKPT_KEY`, `--ckpt-key-file`) images
//! are signed, and a restore with a key refuses an unsigned image, another key's, and a
//! changed one.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test integrity` alone).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::*;

const TOKEN: &str = "tok-51f0c9e2-never-on-disk";
const UNREAD: &str = "value-of-a-variable-the-program-never-reads";

fn apiclient(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(example("apiclient"));
    c.args(args)
        .current_dir(dir)
        .env("API_TOKEN", TOKEN)
        .env("UNREAD_BY_THE_PROGRAM", UNREAD);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("spawn apiclient")
}

/// An image written by a run killed after its third save.
fn killed_run(dir: &Path, env: &[(&str, &str)]) -> Vec<u8> {
    let mut env = env.to_vec();
    env.push(("CKPT_CRASH_AFTER_SAVES", "3"));
    let out = apiclient(dir, &["20000"], &env);
    assert!(!out.status.success(), "the run was not killed");
    std::fs::read(dir.join("apiclient.ckpt")).expect("an image")
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn base() -> String {
    let d = TempDir::new("integrity-base");
    let out = apiclient(d.path(), &["20000"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn secrets_and_unread_variables_are_not_in_the_image_and_a_restore_gets_them_again() {
    let d = TempDir::new("integrity-secret");
    let bytes = killed_run(d.path(), &[]);
    assert!(!contains(&bytes, TOKEN), "the secret is in the image");
    assert!(
        !contains(&bytes, UNREAD),
        "an unread variable is in the image"
    );
    assert!(!contains(&bytes, "API_TOKEN"));
    let out = apiclient(d.path(), &["--restore", "apiclient.ckpt"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(result_line(&stdout(&out)), result_line(&base()));
}

#[test]
fn a_key_signs_images_and_a_restore_with_a_key_refuses_the_others() {
    let expected = result_line(&base());
    let d = TempDir::new("integrity-key");
    std::fs::write(d.path().join("key"), "3f9c0a7e1d2b4c5a6e7f8091a2b3c4d5\n").unwrap();
    std::fs::write(d.path().join("other-key"), "a different key").unwrap();
    let with_key = [("CKPT_KEY_FILE", "key")];
    killed_run(d.path(), &with_key);
    let image = d.path().join("apiclient.ckpt");
    assert!(ckpt::image::signature::is_signed(&image).unwrap());
    // Readable without the key (the checksum still holds).
    ckpt::image::read(&image, &Default::default()).expect("a signed image reads");
    std::fs::copy(&image, d.path().join("signed.ckpt")).unwrap();

    // Another key: refused.
    let out = apiclient(
        d.path(),
        &[
            "--restore",
            "apiclient.ckpt",
            "--ckpt-key-file",
            "other-key",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("signature does not match the configured key"),
        "{}",
        stderr(&out)
    );
    // The right key (as an option, or the key itself in CKPT_KEY): restored.
    let out = apiclient(
        d.path(),
        &["--restore", "apiclient.ckpt", "--ckpt-key-file", "key"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(result_line(&stdout(&out)), expected);
    let out = apiclient(
        d.path(),
        &["--restore", "signed.ckpt", "--ckpt-file", "again.ckpt"],
        &[("CKPT_KEY", "3f9c0a7e1d2b4c5a6e7f8091a2b3c4d5")],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // A changed byte: refused as a signature mismatch, before anything is restored.
    let mut bytes = std::fs::read(d.path().join("signed.ckpt")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(d.path().join("changed.ckpt"), &bytes).unwrap();
    let out = apiclient(d.path(), &["--restore", "changed.ckpt"], &with_key);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("changed after it was written"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    // An unsigned image with a key configured: refused; without a key: restored.
    let u = TempDir::new("integrity-unsigned");
    killed_run(u.path(), &[]);
    std::fs::write(u.path().join("key"), "3f9c0a7e1d2b4c5a6e7f8091a2b3c4d5").unwrap();
    let out = apiclient(u.path(), &["--restore", "apiclient.ckpt"], &with_key);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the image is not signed"),
        "{}",
        stderr(&out)
    );
    let out = apiclient(u.path(), &["--restore", "apiclient.ckpt"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(result_line(&stdout(&out)), expected);

    // A missing or empty key file is a clear error at start.
    std::fs::write(u.path().join("empty"), "").unwrap();
    for (file, says) in [
        ("missing", "reading the signing key"),
        ("empty", "key is empty"),
    ] {
        let out = apiclient(u.path(), &["10", "--ckpt-key-file", file], &[]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
    }
}
