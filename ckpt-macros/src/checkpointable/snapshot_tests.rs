//! Expansion snapshots: the transform of representative functions, formatted with
//! rustfmt and compared with `snapshots/*.expanded.rs`. They show a reader what the
//! generated code looks like; `CKPT_BLESS=1 cargo test -p ckpt-macros` rewrites them.

use std::path::PathBuf;

fn snapshot(name: &str, src: &str) {
    // No build script here: the macro knows only the items it sees.
    std::env::set_var("CKPT_ALLOW_NO_ANALYSIS", "1");
    let out = super::expand(
        proc_macro2::TokenStream::new(),
        src.parse().expect("test source parses"),
    );
    let code = out.to_string();
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(code.as_bytes())?;
            c.wait_with_output()
        })
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or(code);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("src/checkpointable/snapshots/{name}.expanded.rs"));
    if std::env::var_os("CKPT_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, &formatted).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("read snapshot");
    assert!(
        expected == formatted,
        "expansion of {name} changed; review it and run with CKPT_BLESS=1 to accept:\n{formatted}"
    );
}

#[test]
fn loop_with_call_and_save_point() {
    // The function of shared/RESUME.md.
    snapshot(
        "drive",
        r#"
        fn drive(sim: &mut Sim, rounds: u64) -> u64 {
            let mut acc = 0u64;
            for round in 0..rounds {
                sim.step(round);
                acc += sim.value();
                if round % 10 == 0 {
                    ckpt::save().expect("save");
                }
            }
            acc
        }
        "#,
    );
}

#[test]
fn match_arms_and_while_condition() {
    snapshot(
        "branches",
        r#"
        fn branches(x: Option<i64>, v: &[u32]) -> Result<i64, ckpt::Error> {
            let mut total = 0i64;
            match x {
                Some(n) if n > 0 => {
                    ckpt::save()?;
                    total += n;
                }
                Some(_) => total -= 1,
                None => {}
            }
            let mut i = 0;
            while i < v.len() {
                total += v[i] as i64;
                i += 1;
                ckpt::save()?;
            }
            Ok(total)
        }
        "#,
    );
}

#[test]
fn methods_of_an_impl_block() {
    snapshot(
        "methods",
        r#"
        impl Sim {
            fn step(&mut self, dt: f64) -> bool {
                self.t += dt;
                ckpt::save().expect("save");
                self.t < 10.0
            }
            fn run(&mut self) {
                while self.step(0.5) {
                    self.frames += 1;
                }
            }
        }
        "#,
    );
}
