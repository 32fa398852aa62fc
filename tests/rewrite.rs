//! `#[checkpointable]` routes std's OS interfaces to ckpt's components, whether the body
//! names them by full path, through the module's `use` declarations (listed by
//! ckpt-build's analysis), or through a `use` inside the body; other std items (std's
//! collections among them) and code outside checkpointable functions are left alone. The
//! rewrite leaves no unused import behind (this file denies them).
#![deny(unused_imports)]

use std::any::type_name_of_val as type_of;
use std::collections::{HashMap, HashSet};
use std::env;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter};
use std::rc::Rc;
use std::time::{Duration, Instant};

#[ckpt::checkpointable]
fn through_module_imports() -> Vec<String> {
    let m: HashMap<u8, u8> = HashMap::new();
    let s: HashSet<u8> = HashSet::new();
    let f = File::open("Cargo.toml").expect("open");
    let r = BufReader::new(f);
    let first = r.lines().next().expect("a line").expect("read");
    assert!(first.starts_with('['));
    let w = BufWriter::new(io::sink());
    let t = Instant::now();
    let args = env::args();
    let opts = fs::OpenOptions::new();
    let rc = Rc::new(Duration::from_millis(1));
    [
        type_of(&m),
        type_of(&s),
        type_of(&w),
        type_of(&t),
        type_of(&args),
        type_of(&opts),
        type_of(&io::stdin()),
        type_of(&rc),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[ckpt::checkpointable]
fn through_full_paths_and_inner_uses() -> Vec<String> {
    use std::io::BufReader as Reader;
    let m = std::collections::HashMap::<u8, u8>::new();
    let f = std::fs::File::open("Cargo.toml").expect("open");
    let r = Reader::new(f);
    let t = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(1));
    [type_of(&m), type_of(&r), type_of(&t)]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn outside() -> Vec<String> {
    let m: HashMap<u8, u8> = HashMap::new();
    let t = Instant::now();
    [type_of(&m), type_of(&t)]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn module_imports_are_rerouted() {
    let names = through_module_imports();
    for (got, want) in names.iter().zip([
        "std::collections::hash::map::HashMap<u8, u8>",
        "std::collections::hash::set::HashSet<u8>",
        "ckpt::io::buffered::BufWriter<std::io::util::Sink>",
        "ckpt::time::Instant",
        "ckpt::env::",
        "ckpt::fs::file::OpenOptions",
        "ckpt::io::stdio::Stdin",
        "alloc::rc::Rc<core::time::Duration>",
    ]) {
        assert!(got.starts_with(want), "{got} is not {want}");
    }
}

#[test]
fn full_paths_and_inner_uses_are_rerouted() {
    let names = through_full_paths_and_inner_uses();
    assert_eq!(
        names,
        [
            "std::collections::hash::map::HashMap<u8, u8>",
            "ckpt::io::buffered::BufReader<ckpt::fs::file::File>",
            "ckpt::time::Instant",
        ]
    );
}

#[test]
fn code_outside_checkpointable_functions_keeps_std() {
    assert_eq!(
        outside(),
        [
            "std::collections::hash::map::HashMap<u8, u8>",
            "std::time::Instant"
        ]
    );
}

/// A `use` inside the body for `lines()` (ckpt's own method now), std paths inside macro
/// arguments, and a reader word inside a string literal (not a reader: `text.lines()`
/// borrows a String and is resumed by position).
#[ckpt::checkpointable]
fn inner_use_macros_and_literals() -> (usize, String) {
    use std::io::BufRead;
    let start = std::time::Instant::now();
    let n = std::io::BufReader::new(std::fs::File::open("Cargo.toml").expect("Read failed"))
        .lines()
        .count();
    let text = std::fs::read_to_string("Cargo.toml").expect("Read failed");
    let mut first = String::new();
    for l in text.lines() {
        if first.is_empty() {
            first = l.to_string();
        }
        // Without the agent this save is an error; the loop only has to compile.
        let _ = ckpt::save();
    }
    let shown = format!("{:?}", std::time::Instant::now().duration_since(start));
    assert!(shown.ends_with('s'), "{shown}");
    (n, first)
}

#[test]
fn inner_uses_macro_arguments_and_literals_compile_and_run() {
    let (n, first) = inner_use_macros_and_literals();
    assert!(n > 10);
    assert!(first.starts_with('['));
}

/// Two checkpointable functions with one name in modules with different imports: the
/// macro sees only the name, so only imports both modules have are rerouted (here none:
/// `a::same_name` keeps std's `File`), and both compile.
mod a {
    use std::fs::File;

    #[ckpt::checkpointable]
    pub fn same_name() -> String {
        let f = File::open("Cargo.toml").expect("open");
        std::any::type_name_of_val(&f).to_string()
    }
}

mod b {
    #[ckpt::checkpointable]
    pub fn same_name() -> String {
        "b".to_string()
    }
}

#[test]
fn same_named_functions_in_different_modules_compile() {
    assert_eq!(a::same_name(), "std::fs::File");
    assert_eq!(b::same_name(), "b");
}

#[derive(ckpt::State)]
struct Person {
    name: String,
}

/// A field named like a local moved before the save point is not a use of the local
/// (macro arguments are read as expressions), and `stringify!` shows what was written.
#[ckpt::checkpointable]
fn field_named_like_a_moved_local() -> (String, &'static str) {
    let name = String::from("ada");
    let p = Person { name };
    let _ = ckpt::save();
    (format!("{}", p.name), stringify!(std::fs::File))
}

#[test]
fn macro_arguments_are_read_as_expressions() {
    assert_eq!(
        field_named_like_a_moved_local(),
        ("ada".to_string(), "std::fs::File")
    );
}
