use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, RwLock};

use super::*;
use crate::state::{decode_slice, Loader};

static HITS: AtomicU64 = AtomicU64::new(0);
static NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static LIMITS: RwLock<(u32, u32)> = RwLock::new((0, 0));
static CONFIG: OnceLock<String> = OnceLock::new();
static TABLE: LazyLock<Mutex<Vec<u8>>> = LazyLock::new(|| Mutex::new(vec![1, 2]));
static mut TICKS: u64 = 0;
thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn set_ticks(v: u64) {
    let p = &raw mut TICKS;
    // SAFETY: this test is the only one touching TICKS.
    unsafe { p.write(v) };
}

fn ticks() -> u64 {
    let p = &raw const TICKS;
    // SAFETY: as in `set_ticks`.
    unsafe { p.read() }
}

fn saved() -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    save_component(&mut e).unwrap();
    e.finish().unwrap();
    out
}

fn restore(bytes: &[u8]) {
    let (v, _) = decode_slice(bytes).unwrap();
    let mut l = Loader::new(Vec::new());
    restore_component(v, &mut l).unwrap();
}

/// One test: the registry is process-global.
#[test]
fn globals_are_saved_and_put_back() {
    register_global("HITS", "t:1", &HITS);
    register_global("NAMES", "t:2", &NAMES);
    register_global("LIMITS", "t:3", &LIMITS);
    register_global("CONFIG", "t:4", &CONFIG);
    register_global("TABLE", "t:5", &TABLE);
    register_global("DEPTH", "t:6", &DEPTH);
    register_global("LOG", "t:7", &LOG);
    register_static_mut("TICKS", "t:8", &raw mut TICKS);
    // Registering twice keeps one entry.
    register_global("HITS", "t:1", &HITS);

    HITS.store(41, Ordering::SeqCst);
    NAMES.lock().unwrap().push("ada".into());
    *LIMITS.write().unwrap() = (3, 9);
    CONFIG.set("fast".into()).unwrap();
    TABLE.lock().unwrap().push(3);
    DEPTH.with(|d| d.set(7));
    LOG.with(|l| l.borrow_mut().push("start".into()));
    set_ticks(99);
    let image = saved();

    HITS.store(0, Ordering::SeqCst);
    NAMES.lock().unwrap().clear();
    *LIMITS.write().unwrap() = (0, 0);
    TABLE.lock().unwrap().clear();
    DEPTH.with(|d| d.set(0));
    LOG.with(|l| l.borrow_mut().clear());
    set_ticks(0);
    restore(&image);

    assert_eq!(HITS.load(Ordering::SeqCst), 41);
    assert_eq!(*NAMES.lock().unwrap(), ["ada"]);
    assert_eq!(*LIMITS.read().unwrap(), (3, 9));
    assert_eq!(CONFIG.get().map(String::as_str), Some("fast"));
    assert_eq!(*TABLE.lock().unwrap(), [1, 2, 3]);
    assert_eq!(DEPTH.with(Cell::get), 7);
    assert_eq!(LOG.with(|l| l.borrow().clone()), ["start"]);
    assert_eq!(ticks(), 99);

    // A global this build does not register is refused, naming it.
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.map(1);
    e.text("GONE");
    e.uint(1);
    e.finish().unwrap();
    let (v, _) = decode_slice(&out).unwrap();
    let err = restore_component(v, &mut Loader::new(Vec::new())).unwrap_err();
    assert!(err.to_string().contains("GONE"), "{err}");
}
