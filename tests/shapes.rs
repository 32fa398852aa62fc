//! Restores `examples/shapes.rs` from the image of every one of its save points (and
//! a restore of a restore) and checks each run continues exactly like the uninterrupted
//! one: loops of every kind, labelled break/continue, match arms with bindings and
//! guards, if/else, early return, `?`, recursion, generics, `&`/`&mut`/by-value
//! arguments, methods on `&self`/`&mut self`/`self`, calls in conditions.

mod support;

use support::*;

/// Lines from `@n` on, with the restored marker normalised.
fn from_mark(out: &str, n: usize) -> Vec<String> {
    let lines: Vec<String> = out.lines().map(|l| l.replace(" (restored)", "")).collect();
    let start = lines
        .iter()
        .position(|l| *l == format!("@{n}"))
        .unwrap_or_else(|| panic!("no @{n} in:\n{out}"));
    lines[start..].to_vec()
}

#[test]
fn every_save_point_restores_to_the_same_end() {
    let bin = example("shapes");
    let base_dir = TempDir::new("shapes-base");
    let base = run(&bin, &[], base_dir.path());
    assert!(base.status.success(), "{}", stderr(&base));
    let base_out = stdout(&base);
    let saves: usize = result_line(&base_out)
        .split("saves=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("saves count");
    assert!(saves >= 20, "only {saves} save points ran");
    for n in 1..=saves {
        let img = base_dir.path().join(format!("shape-{n}.ckpt"));
        assert!(img.exists(), "no image for save point {n}");
        let dir = TempDir::new(&format!("shapes-{n}"));
        std::fs::copy(&img, dir.path().join("start.ckpt")).unwrap();
        // Restored in a directory of its own (not the one it saved in), so that its next
        // images land there.
        let out = run(
            &bin,
            &["--restore", "start.ckpt", "--ckpt-cwd=current"],
            dir.path(),
        );
        let text = stdout(&out);
        assert!(
            out.status.success(),
            "restore of save point {n} failed: {}",
            stderr(&out)
        );
        assert_eq!(
            text.lines().next(),
            Some(format!("@{n} (restored)").as_str()),
            "restore {n} did not resume at its point"
        );
        assert_eq!(
            from_mark(&text, n),
            from_mark(&base_out, n),
            "restore of save point {n} diverged"
        );
        // A restore of a restore: from the restored run's next image.
        if n + 1 < saves {
            let next = format!("shape-{}.ckpt", n + 1);
            let again = run(
                &bin,
                &["--restore", &next, "--ckpt-cwd=current"],
                dir.path(),
            );
            assert!(
                again.status.success(),
                "second restore from {n}: {}",
                stderr(&again)
            );
            assert_eq!(
                from_mark(&stdout(&again), n + 1),
                from_mark(&base_out, n + 1),
                "restore of restore {n}+1 diverged"
            );
        }
    }
}
