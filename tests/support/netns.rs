//! Network namespaces for the TAP tests: each test makes its own, with a TAP device whose
//! kernel side is 198.51.100.1/24 (addresses in 198.51.100.0/24 only), and dropping it
//! kills every process left in it (a program, the TAP holder) and deletes it.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The kernel side of every test TAP.
pub const KERNEL_IP: &str = "198.51.100.1";
/// The program's address on it.
pub const SERVER_IP: &str = "198.51.100.2";

/// A network namespace with a TAP device `tap` whose kernel side is 198.51.100.1/24.
/// Dropping it kills every process left in it and deletes it.
pub struct Netns {
    pub name: String,
    pub tap: String,
}

pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `ip` ({e}): scripts/install-deps.sh installs iproute2")
    });
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert!(
        euid == 0,
        "the TAP tests need root (network namespaces, TAP devices): run `cargo test` as root, \
         as CI does (euid is {euid})"
    );
    assert!(
        Path::new("/dev/net/tun").exists(),
        "the TAP tests need /dev/net/tun (the tun module)"
    );
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        require_root();
        let name = format!("ckpt{tag}{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let ns = Netns {
            name,
            tap: "ckt0".to_string(),
        };
        ns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        ns.exec_ok(&["ip", "tuntap", "add", "dev", &ns.tap, "mode", "tap"]);
        ns.exec_ok(&[
            "ip",
            "addr",
            "add",
            &format!("{KERNEL_IP}/24"),
            "dev",
            &ns.tap,
        ]);
        ns.exec_ok(&["ip", "link", "set", &ns.tap, "up"]);
        ns
    }

    pub fn exec_ok(&self, cmd: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(cmd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command that runs in the namespace.
    pub fn command(&self, bin: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(bin);
        c
    }

    /// Runs `f` on a thread inside the namespace (its sockets are the namespace's).
    pub fn thread<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            // SAFETY: a valid namespace fd; setns changes only this thread's namespace.
            let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
    }

    /// The namespace's TCP counter `name` (absolute).
    pub fn counter(&self, name: &str) -> u64 {
        let out = self.exec_ok(&["nstat", "-az", name]);
        out.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in nstat's output:\n{out}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Whatever still runs in the namespace (a program, the TAP holder) ends with it.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill has no memory preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
