//! Standard input through the io component: `linestats` reads its standard input line
//! by line (std APIs only) and is killed with SIGKILL at random moments and restored with
//! the same file as standard input (`--restore linestats.ckpt < input`): the restore
//! seeks standard input back to where the saved run was and gets the buffered bytes back
//! from the image, so the output equals an uninterrupted run's byte for byte.
//!
//! Needs the examples built into the same target directory (`cargo test` does that;
//! `cargo build --examples` first when running `cargo test --test linestats` alone).

mod support;

use std::fs;
use std::io::Write;
use std::time::Duration;

use support::*;

const IMAGE: &str = "linestats.ckpt";

fn input(dir: &std::path::Path, lines: u64) -> std::path::PathBuf {
    let p = dir.join("input.txt");
    let mut w = std::io::BufWriter::new(fs::File::create(&p).unwrap());
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];
    let mut x = 12345u64;
    for i in 0..lines {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = 1 + (x >> 60) as usize;
        let line: Vec<&str> = (0..n)
            .map(|k| words[(x >> (k * 3)) as usize % words.len()])
            .collect();
        writeln!(w, "{i} {}", line.join(" ")).unwrap();
    }
    w.flush().unwrap();
    p
}

#[test]
fn linestats_from_a_file_survives_repeated_sigkill() {
    let work = TempDir::new("linestats-input");
    let inp = input(work.path(), 400_000);
    let bin = example("linestats");
    let run = FileRun {
        bin: &bin,
        dir: work.path(),
        stdout_file: "out.txt",
        stdin_file: Some(&inp),
    };
    let (clean, rounds) = kill_restore_files(&run, &["--save-every", "5000"], IMAGE, 1, None);
    let base = fs::read_to_string(clean.path().join("out.txt")).unwrap();
    assert!(base.contains("result: 400000 lines"), "{base}");
    for dir in &rounds {
        let out = fs::read_to_string(dir.path().join("out.txt")).unwrap();
        assert_eq!(out, base);
    }
}

/// Runs linestats on `inp` in `dir` and kills it once it printed 10000 lines (an image
/// exists); returns how it was started, for the restore.
fn killed_after_10000_lines<'a>(
    bin: &'a std::path::Path,
    dir: &'a std::path::Path,
    inp: &'a std::path::Path,
) -> FileRun<'a> {
    let run = FileRun {
        bin,
        dir,
        stdout_file: "out.txt",
        stdin_file: Some(inp),
    };
    let mut child = run.start(&["--save-every", "5000"], false, &[]);
    child.wait_for_text(&dir.join("out.txt"), "10000 lines", Duration::from_secs(60));
    assert!(
        child.kill_if_running(),
        "the run ended before it could be killed"
    );
    run
}

/// Given another file as standard input, the restored run reads it from where it is (its
/// beginning): the io component seeks only the same file.
#[test]
fn another_stdin_file_is_read_from_its_start() {
    let work = TempDir::new("linestats-other");
    let inp = input(work.path(), 200_000);
    let other = work.path().join("other.txt");
    fs::write(&other, "one two\nthree\n").unwrap();
    let bin = example("linestats");
    let run = killed_after_10000_lines(&bin, work.path(), &inp);
    let restored = FileRun {
        stdin_file: Some(&other),
        ..run
    };
    let out = restored
        .start(&["--restore", IMAGE], true, &[])
        .finish(Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(work.path().join("out.txt")).unwrap();
    let last = text.lines().last().unwrap();
    // The saved run's lines (a multiple of 5000), plus the two of the other file, plus the
    // bytes that were buffered at the save (a partial block of the first input).
    assert!(last.starts_with("result: "), "{text}");
    let n: u64 = last["result: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 5_000 && n < 200_000, "{last}");
}

/// Standard input is the file the saved run was reading, changed in place since: refused
/// by default like any changed input, accepted with `--ckpt-files=accept-changed`.
#[test]
fn a_changed_stdin_file_is_refused_unless_accepted() {
    let work = TempDir::new("linestats-changed");
    let inp = input(work.path(), 200_000);
    let bin = example("linestats");
    let run = killed_after_10000_lines(&bin, work.path(), &inp);
    let mut f = fs::OpenOptions::new().append(true).open(&inp).unwrap();
    f.write_all(b"a line added after the save\n").unwrap();
    drop(f);
    let out = run
        .start(&["--restore", IMAGE], true, &[])
        .finish(Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("standard input") && err.contains("changed since"),
        "{err}"
    );
    assert!(err.contains("--ckpt-files=accept-changed"), "{err}");
    let out = run
        .start(
            &["--restore", IMAGE, "--ckpt-files=accept-changed"],
            true,
            &[],
        )
        .finish(Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(work.path().join("out.txt")).unwrap();
    assert!(text.contains("result: 200001 lines"), "{text}");
}
