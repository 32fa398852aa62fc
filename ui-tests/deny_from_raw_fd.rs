// Deny mode on a module: raw file descriptors, both directions.
#[ckpt::checkpointable(deny)]
mod io {
    use std::os::fd::{AsRawFd, FromRawFd};

    pub fn copy(file: &std::fs::File) -> std::fs::File {
        let fd = file.as_raw_fd();
        ckpt::save().unwrap();
        unsafe { std::fs::File::from_raw_fd(fd) }
    }
}

fn main() {
    let f = std::fs::File::open("/dev/null").unwrap();
    io::copy(&f);
}
