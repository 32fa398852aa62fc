//! Prints its arguments, `ENVCHECK_VAR` and `CKPT_DEMO_VAR` before and after a save
//! point. Killed after the save and restored, it shows the arguments and the
//! `ENVCHECK_VAR` of the run that saved (set `CKPT_ENV=current` at the restore to see the
//! restoring shell's value instead). `CKPT_DEMO_VAR` shows the rule for ckpt's own
//! namespace: `CKPT_*` variables always come from the current process.
//!
//! ```text
//! ENVCHECK_VAR=first cargo run --example envcheck -- --hold one two
//! kill -9 <pid>        # once it prints "holding"
//! ENVCHECK_VAR=second cargo run --example envcheck -- --restore envcheck.ckpt
//! ```

use std::ffi::OsString;

/// The variable `name` as the program sees it.
fn show(name: &str) -> String {
    match ckpt::env::var(name) {
        Ok(v) => format!("{name}={v}"),
        Err(ckpt::env::VarError::NotPresent) => format!("{name} not set"),
        Err(ckpt::env::VarError::NotUnicode(v)) => format!("{name}={v:?} (not Unicode)"),
    }
}

/// The arguments after argv[0], as `OsString`s so that non-UTF-8 ones print too.
fn args() -> Vec<OsString> {
    ckpt::env::args_os().skip(1).collect()
}

#[ckpt::checkpointable]
fn main() {
    let hold = ckpt::env::args_os().any(|a| a == "--hold");
    println!(
        "before: args={:?} {} {}",
        args(),
        show("ENVCHECK_VAR"),
        show("CKPT_DEMO_VAR")
    );
    ckpt::save().expect("checkpoint");
    println!(
        "after: args={:?} {} {} restored={}",
        args(),
        show("ENVCHECK_VAR"),
        show("CKPT_DEMO_VAR"),
        ckpt::restored()
    );
    // ckpt's own variables are consumed at start: a child process never inherits them.
    println!("internal: {}", show("CKPT_FILE"));
    if hold && !ckpt::restored() {
        // Wait to be killed (at most a minute), so that a restore can continue.
        println!("holding");
        let mut waited = 0u32;
        while waited < 600 {
            ckpt::time::sleep(ckpt::time::Duration::from_millis(100));
            waited += 1;
        }
    }
    println!("result: done");
}
