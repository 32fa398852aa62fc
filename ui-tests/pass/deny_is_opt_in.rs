// The same constructs as the `deny_*` cases, without `deny`: the report warns (from a
// build script), and the code compiles and runs.
use std::os::fd::{AsRawFd, FromRawFd};
use std::thread;

#[ckpt::checkpointable]
fn os_calls(file: &std::fs::File) -> std::io::Result<i32> {
    let pid = unsafe { libc::getpid() };
    let _command = std::process::Command::new("true");
    let handle = thread::spawn(|| 1 + 1);
    let fd = file.as_raw_fd();
    let copy = unsafe { std::os::fd::OwnedFd::from_raw_fd(libc::dup(fd)) };
    drop(copy);
    Ok(pid + handle.join().unwrap_or(0))
}

fn main() {
    let f = std::fs::File::open("/dev/null").unwrap();
    assert!(os_calls(&f).unwrap() > 0);
}
