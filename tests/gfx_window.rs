//! The `window` display of `ckpt::gfx` on a real X server (Xvfb): the `plot` example's
//! last frame in its window equals, pixel for pixel, the last PNG frame of a run on
//! `png:DIR` — also when the windowed run is a restore of an image of a killed run — and
//! closing the window (`WM_DELETE_WINDOW`) ends it with status 0.
//!
//! Needs Xvfb (`scripts/install-deps.sh` installs it): skipped without it, except under
//! CI (`CI` set), where that is a failure. Needs the examples built into the same target
//! directory (`cargo test` does that; `cargo build --examples` first when running
//! `cargo test --test gfx_window` alone).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::*;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, ImageFormat, ImageOrder,
    Window as XWindow,
};
use x11rb::rust_connection::RustConnection;

const XVFB: &str = "/usr/bin/Xvfb";
const POINTS: &str = "20";
const SHOWN: &str = "plot: shown; close the window to exit";

/// An Xvfb server on a display of its own, stopped on drop (also when the test fails).
struct Xvfb {
    /// `N` of `:N`.
    number: u32,
    /// `:N`.
    display: String,
    /// The server (`Running` SIGKILLs and reaps it on drop).
    server: Option<Running>,
    /// Its process id.
    pid: u32,
    /// Where its output goes.
    _dir: TempDir,
}

impl Drop for Xvfb {
    /// SIGTERM, so the server removes its lock file and socket, and SIGKILL if it has not
    /// ended within 5 s; then what a killed server left is removed (files naming its
    /// process only), so display numbers are not used up.
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.signal(libc::SIGTERM);
            server.ended_within(Duration::from_secs(5));
            drop(server);
        }
        let lock = PathBuf::from(format!("/tmp/.X{}-lock", self.number));
        let ours =
            fs::read_to_string(&lock).is_ok_and(|s| s.trim().parse::<u32>().ok() == Some(self.pid));
        if ours {
            let _ = fs::remove_file(format!("/tmp/.X11-unix/X{}", self.number));
            let _ = fs::remove_file(&lock);
        }
    }
}

impl Xvfb {
    /// Starts Xvfb on the first free display in 90..120, or `None` (the test is skipped,
    /// saying why) when it is not installed and `CI` is not set.
    fn start() -> Option<Xvfb> {
        if !Path::new(XVFB).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{XVFB} is missing: run scripts/install-deps.sh (it installs the Debian package xvfb)"
            );
            eprintln!("skipping: Xvfb not installed (scripts/install-deps.sh installs it)");
            return None;
        }
        // One start at a time in this process (the tests run in parallel).
        static STARTING: Mutex<()> = Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let dir = TempDir::new("xvfb");
        for n in 90..120u32 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            if socket.exists() || lock.exists() {
                continue;
            }
            let log = fs::File::create(dir.path().join(format!("xvfb-{n}.log")))
                .expect("create the Xvfb log");
            let log2 = log.try_clone().expect("clone the Xvfb log");
            let mut cmd = Command::new(XVFB);
            cmd.arg(format!(":{n}"))
                .args(["-screen", "0", "1024x768x24", "-nolisten", "tcp"])
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log2));
            let mut server = Running::spawn(&mut cmd);
            let pid = server.pid();
            // Up when its socket exists and the lock file names it; a server that ends
            // first, or a lock naming another process, lost a race for the display number
            // (to another test): the next number is tried.
            let t0 = Instant::now();
            let owner = || {
                fs::read_to_string(&lock)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
            };
            loop {
                if server.try_wait().is_some() {
                    break;
                }
                if socket.exists() && owner().is_some() {
                    break;
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(10),
                    "Xvfb :{n} did not create {} within 10 s; its log:\n{}",
                    socket.display(),
                    fs::read_to_string(dir.path().join(format!("xvfb-{n}.log")))
                        .unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            if server.try_wait().is_some() || owner() != Some(pid) {
                continue;
            }
            return Some(Xvfb {
                number: n,
                display: format!(":{n}"),
                server: Some(server),
                pid,
                _dir: dir,
            });
        }
        panic!("no free X display number in 90..120 for Xvfb");
    }

    /// A connection to it.
    fn connect(&self) -> RustConnection {
        let (conn, _) = x11rb::connect(Some(&self.display))
            .unwrap_or_else(|e| panic!("connecting to Xvfb {}: {e}", self.display));
        conn
    }
}

/// A command for the `plot` example in `dir`, without inherited display settings.
fn plot(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(example("plot"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CKPT_DISPLAY")
        .env_remove("CKPT_CRASH_AFTER_SAVES")
        .env_remove("DISPLAY")
        .stdin(Stdio::null());
    cmd
}

/// Runs plot on `png:DIR` (in `dir/frames`, image `dir/plot.ckpt`) with `env`, bounded;
/// returns its output.
fn run_png(dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let frames = format!("png:{}", dir.join("frames").display());
    let image = dir.join("plot.ckpt");
    let image = image.to_str().expect("a UTF-8 temporary path");
    let mut cmd = plot(
        dir,
        &[
            "--points",
            POINTS,
            "--ckpt-display",
            &frames,
            "--ckpt-file",
            image,
        ],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Running::spawn(&mut cmd).finish(Duration::from_secs(120))
}

/// The highest numbered `frame-*.png` in `dir` and its RGB pixels (composited over
/// black), with its size.
fn last_frame(dir: &Path) -> (PathBuf, u32, u32, Vec<u8>) {
    let path = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("frame-") && n.ends_with(".png"))
        })
        .max()
        .unwrap_or_else(|| panic!("no frame-*.png in {}", dir.display()));
    let file = fs::File::open(&path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().expect("a frame size")];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgba, png::BitDepth::Eight),
        "{}: not 8-bit RGBA",
        path.display()
    );
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let over_black = |c: u8| ((u32::from(c) * a + 127) / 255) as u8;
            [over_black(p[0]), over_black(p[1]), over_black(p[2])]
        })
        .collect();
    (path, info.width, info.height, rgb)
}

/// The WM_NAME of `w`, if it has one.
fn wm_name(conn: &RustConnection, w: XWindow) -> Option<String> {
    let r = conn
        .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 1024)
        .ok()?
        .reply()
        .ok()?;
    (r.format == 8).then(|| String::from_utf8_lossy(&r.value).into_owned())
}

/// The window under `root` (at any depth) whose WM_NAME contains "plot".
fn find_plot_window(conn: &RustConnection, root: XWindow) -> Option<(XWindow, String)> {
    let mut todo = vec![root];
    while let Some(w) = todo.pop() {
        if let Some(name) = wm_name(conn, w).filter(|n| n.contains("plot")) {
            return Some((w, name));
        }
        let tree = conn.query_tree(w).ok()?.reply().ok()?;
        todo.extend(tree.children);
    }
    None
}

/// The window's pixels as RGB, with its size.
fn screenshot(conn: &RustConnection, w: XWindow) -> (u32, u32, Vec<u8>) {
    let geo = conn
        .get_geometry(w)
        .expect("GetGeometry")
        .reply()
        .expect("the window's geometry");
    let (width, height) = (u32::from(geo.width), u32::from(geo.height));
    let img = conn
        .get_image(ImageFormat::Z_PIXMAP, w, 0, 0, geo.width, geo.height, !0)
        .expect("GetImage")
        .reply()
        .expect("the window's image");
    assert_eq!(img.depth, 24, "the window is not 24 bits deep");
    let n = (width * height) as usize;
    assert_eq!(img.data.len(), n * 4, "not 32 bits per pixel");
    let lsb = conn.setup().image_byte_order == ImageOrder::LSB_FIRST;
    let rgb = img
        .data
        .chunks_exact(4)
        .flat_map(|p| {
            let v = if lsb {
                u32::from_le_bytes([p[0], p[1], p[2], p[3]])
            } else {
                u32::from_be_bytes([p[0], p[1], p[2], p[3]])
            };
            [(v >> 16) as u8, (v >> 8) as u8, v as u8]
        })
        .collect();
    (width, height, rgb)
}

/// Asserts the two RGB images are equal, saying how many pixels differ and the first.
fn assert_same_pixels(what: &str, got: (u32, u32, &[u8]), want: (u32, u32, &[u8])) {
    assert_eq!(
        (got.0, got.1),
        (want.0, want.1),
        "{what}: the window's size differs from the frame's"
    );
    let w = got.0 as usize;
    let mut diff = got
        .2
        .chunks_exact(3)
        .zip(want.2.chunks_exact(3))
        .enumerate()
        .filter(|(_, (a, b))| a != b);
    if let Some((i, (a, b))) = diff.next() {
        let count = 1 + diff.count();
        panic!(
            "{what}: {count} pixels differ; the first at ({}, {}): window {a:?}, frame {b:?}",
            i % w,
            i / w
        );
    }
}

/// Runs `args` (plus `--ckpt-display window`) on `x` with stdout in `dir/out.txt`, waits
/// for the line that says the last frame is shown, compares the window with the frame
/// `want` (an uninterrupted PNG run's last), closes the window with `WM_DELETE_WINDOW`
/// and expects status 0 within 20 s.
fn show_compare_close(x: &Xvfb, dir: &Path, args: &[&str], want: &(PathBuf, u32, u32, Vec<u8>)) {
    let out_path = dir.join("out.txt");
    let out = fs::File::create(&out_path).unwrap();
    let mut all = args.to_vec();
    all.extend(["--ckpt-display", "window"]);
    let mut cmd = plot(dir, &all);
    cmd.env("DISPLAY", &x.display)
        .stdout(Stdio::from(out))
        .stderr(Stdio::piped());
    let mut child = Running::spawn(&mut cmd);
    let shown = || fs::read_to_string(&out_path).is_ok_and(|s| s.lines().any(|l| l == SHOWN));
    child.wait_until(
        &format!("the line {SHOWN:?}"),
        Duration::from_secs(60),
        shown,
    );

    let conn = x.connect();
    let root = conn.setup().roots[0].root;
    let (win, name) = find_plot_window(&conn, root).expect("no window named after plot");
    assert!(name.starts_with("ckpt: "), "window title {name:?}");
    let (w, h, rgb) = screenshot(&conn, win);
    assert_same_pixels(
        &format!("{} vs {}", name, want.0.display()),
        (w, h, &rgb),
        (want.1, want.2, &want.3),
    );

    // Closing the window as a window manager does.
    let protocols = conn
        .intern_atom(false, b"WM_PROTOCOLS")
        .unwrap()
        .reply()
        .unwrap()
        .atom;
    let delete = conn
        .intern_atom(false, b"WM_DELETE_WINDOW")
        .unwrap()
        .reply()
        .unwrap()
        .atom;
    let ev = ClientMessageEvent::new(32, win, protocols, [delete, 0, 0, 0, 0]);
    conn.send_event(false, win, EventMask::NO_EVENT, ev)
        .expect("SendEvent");
    conn.flush().expect("flush the X connection");
    let done = child.finish(Duration::from_secs(20));
    assert!(
        done.status.success(),
        "plot did not exit 0 after its window was closed ({}): {}",
        done.status,
        stderr(&done)
    );
}

/// The window shows exactly the last frame a PNG run writes, and closing it ends the
/// program with status 0.
#[test]
fn window_shows_the_last_frame_and_closes() {
    let Some(x) = Xvfb::start() else { return };
    let png_dir = TempDir::new("gfx-window-png");
    let out = run_png(png_dir.path(), &[]);
    assert!(out.status.success(), "png run failed: {}", stderr(&out));
    let want = last_frame(&png_dir.path().join("frames"));

    let win_dir = TempDir::new("gfx-window");
    let image = win_dir.path().join("plot.ckpt");
    let log = win_dir.path().join("run.log");
    show_compare_close(
        &x,
        win_dir.path(),
        &[
            "--points",
            POINTS,
            "--ckpt-file",
            image.to_str().unwrap(),
            "--ckpt-record",
            log.to_str().unwrap(),
        ],
        &want,
    );

    // The window's events are inputs of the log: a replay without any display asks
    // `interactive()`, waits and gets the close exactly as the recorded run did.
    let elsewhere = TempDir::new("gfx-window-replay");
    let replayed = plot(
        elsewhere.path(),
        &["--replay", "start", "--log", log.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(replayed.status.success(), "replay: {}", stderr(&replayed));
    let recorded = fs::read_to_string(win_dir.path().join("out.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&replayed.stdout), recorded);
}

/// A run killed mid-way on `png:DIR`, restored onto a window: the window ends showing the
/// uninterrupted run's last frame, and closes with status 0.
#[test]
fn restore_onto_a_window_shows_the_uninterrupted_last_frame() {
    let Some(x) = Xvfb::start() else { return };
    let clean = TempDir::new("gfx-window-clean");
    let out = run_png(clean.path(), &[]);
    assert!(out.status.success(), "png run failed: {}", stderr(&out));
    let want = last_frame(&clean.path().join("frames"));

    let dir = TempDir::new("gfx-window-restore");
    let out = run_png(dir.path(), &[("CKPT_CRASH_AFTER_SAVES", "3")]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "the run was not killed after its 3rd image: {}",
        stderr(&out)
    );
    let image = dir.path().join("plot.ckpt");
    assert!(image.exists(), "no image after the kill");
    let frames = fs::read_dir(dir.path().join("frames")).map_or(0, |d| d.count());
    let total = fs::read_dir(clean.path().join("frames")).map_or(0, |d| d.count());
    assert!(
        frames < total,
        "the killed run wrote all {total} frames: it was not killed mid-way"
    );
    show_compare_close(
        &x,
        dir.path(),
        &["--restore", image.to_str().unwrap()],
        &want,
    );
}
