//! A save point reached through a call ckpt cannot resume (a function that is not
//! `#[checkpointable]`, a closure) returns an error naming the function instead of
//! writing an image that could not be restored; `save()` outside any checkpointable
//! frame says where it was called. Runs as a plain program (harness = false) because
//! its `main` carries the agent.

#[ckpt::checkpointable]
fn inner(image: &std::path::Path) -> Result<u32, ckpt::Error> {
    ckpt::save_to(image)?;
    Ok(1)
}

/// Not checkpointable: calls through it cannot be resumed.
fn plain(image: &std::path::Path) -> Result<u32, ckpt::Error> {
    inner(image)
}

fn outside() -> Result<(), ckpt::Error> {
    ckpt::save()
}

/// OS calls stay outside checkpointable code (the build's checkpointability report
/// would warn about them there).
fn scratch_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ckpt-unregistered-")
        .tempdir()
        .expect("temp dir")
}

fn in_another_thread<T: Send + 'static>(f: fn() -> T) -> std::thread::JoinHandle<T> {
    std::thread::spawn(f)
}

/// Fails the test; a panic (not an exit) so the temporary directory is removed on the
/// way out.
fn check(cond: bool, what: &str) {
    assert!(cond, "FAILED: {what}");
    println!("ok: {what}");
}

#[ckpt::checkpointable]
fn main() {
    let dir = scratch_dir();
    let image = dir.path().join("never.ckpt");

    let e = plain(&image).expect_err("save through a plain function must fail");
    let msg = e.to_string();
    check(
        msg.contains("`inner`") && msg.contains("not #[checkpointable]"),
        &format!("plain caller named: {msg}"),
    );

    let via_closure = || inner(&image);
    let e = via_closure().expect_err("save through a closure must fail");
    check(
        e.to_string().contains("`inner`"),
        &format!("closure caller named: {e}"),
    );

    let e = outside().expect_err("a save the macro did not see must fail");
    let msg = e.to_string();
    check(
        msg.contains("unregistered_calls.rs:") && msg.contains("annotate"),
        &format!("location named: {msg}"),
    );
    let e = in_another_thread(outside)
        .join()
        .expect("thread")
        .expect_err("save outside any frame must fail");
    let msg = e.to_string();
    check(
        msg.contains("outside a #[checkpointable] function"),
        &format!("no frame: {msg}"),
    );

    check(!image.exists(), "no image written");
    // A direct call is registered and saves fine.
    let r = inner(&image).and_then(|n| ckpt::wait_durable().map(|()| n));
    check(r.is_ok() && image.exists(), "a registered call saves");
    println!("1 passed, 0 failed");
}
