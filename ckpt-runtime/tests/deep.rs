//! Deep values: saving and restoring never depends on the machine stack's size.
//!
//! A linked list of `Option<Box<Node>>` nests one level per node, an `Rc<RefCell<Node>>`
//! chain one shared object per node, a tree of `Vec`s one array per level. All of them
//! round-trip through `to_vec`/`from_slice` and through an image, on a thread with a small
//! stack; the only depth limit left (tags directly inside each other) is enforced by the
//! encoder exactly as by the decoder. The million-node case is in `examples/deep_bench.rs`.

use std::cell::RefCell;
use std::rc::Rc;

use ckpt::image::{self, Fingerprint, Header, Limits, FORMAT_VERSION};
use ckpt::state::{decode_slice, from_slice, to_vec, Encoder, Loader, State, Value};
use ckpt::Error;

/// Nodes in the lists of these tests: deep enough that one stack frame per node would
/// overflow any stack, small enough for a debug build (the benchmark does 1 000 000).
const NODES: u64 = 200_000;

#[derive(ckpt::State)]
struct Node {
    value: u64,
    next: Option<Box<Node>>,
}

/// `0 -> 1 -> ... -> n-1`, built front to back without recursion.
fn list(n: u64) -> Option<Box<Node>> {
    let mut head = None;
    for value in (0..n).rev() {
        head = Some(Box::new(Node { value, next: head }));
    }
    head
}

/// Checks `0 -> 1 -> ... -> n-1` and drops it without recursion (the derived drop of a
/// long `Box` list recurses once per node, which is not ckpt's to fix).
fn check_and_drop(mut head: Option<Box<Node>>, n: u64) {
    let mut expected = 0;
    while let Some(mut node) = head {
        assert_eq!(node.value, expected);
        expected += 1;
        head = node.next.take();
    }
    assert_eq!(expected, n);
}

/// Runs `f` on a thread with a 256 KiB stack.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("join")
}

/// A directory for one test's image, removed on drop (also when the test fails).
fn tmp(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ckpt-deep-{name}-"))
        .tempdir()
        .expect("mkdir")
}

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint::default(),
        created_unix: 0,
        program: "deep".into(),
        args: Vec::new(),
        ckpt_file: None,
        options: Vec::new(),
    }
}

/// Writes `v` as the only component of an image, reads it back and loads it.
fn through_image<T: State>(name: &str, v: &T) -> Result<T, Error> {
    let d = tmp(name);
    let p = d.path().join("deep.ckpt");
    image::write(
        &p,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(0);
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(1);
            e.text("c");
            e.put(v)
        },
    )?;
    let img = image::read(&p, &Limits::default())?;
    drop(d);
    let mut l = Loader::new(img.shared);
    let (_, c) = img.components.into_iter().next().expect("one component");
    l.load(c)
}

#[test]
fn a_long_box_list_round_trips_through_to_vec() {
    on_small_stack(|| {
        let original = list(NODES);
        let bytes = to_vec(&original).expect("save");
        check_and_drop(original, NODES);
        let back: Option<Box<Node>> = from_slice(&bytes).expect("restore");
        check_and_drop(back, NODES);
        // The decoded tree alone, dropped without being loaded.
        drop(decode_slice(&bytes).expect("decode"));
    });
}

#[test]
fn a_long_box_list_round_trips_through_an_image() {
    on_small_stack(|| {
        let original = list(NODES);
        let back = through_image("list", &original).expect("image");
        check_and_drop(original, NODES);
        check_and_drop(back, NODES);
    });
}

#[derive(ckpt::State)]
struct Shared {
    value: u64,
    next: Option<Rc<RefCell<Shared>>>,
}

fn rc_chain(n: u64) -> Rc<RefCell<Shared>> {
    let mut head = Rc::new(RefCell::new(Shared {
        value: n - 1,
        next: None,
    }));
    for value in (0..n - 1).rev() {
        head = Rc::new(RefCell::new(Shared {
            value,
            next: Some(head),
        }));
    }
    head
}

fn check_rc_chain(head: Rc<RefCell<Shared>>, n: u64) {
    let mut cur = Some(head);
    let mut expected = 0;
    while let Some(node) = cur {
        assert_eq!(node.borrow().value, expected);
        expected += 1;
        cur = node.borrow_mut().next.take();
    }
    assert_eq!(expected, n);
}

#[test]
fn a_100k_rc_refcell_chain_round_trips() {
    on_small_stack(|| {
        const N: u64 = 100_000;
        let chain = rc_chain(N);
        // Standalone: each definition is written inside the previous one.
        let back: Rc<RefCell<Shared>> = from_slice(&to_vec(&chain).expect("save")).expect("load");
        check_rc_chain(back, N);
        // In an image: definitions go to the heap section, one after the other.
        let back = through_image("rc", &chain).expect("image");
        check_rc_chain(back, N);
        check_rc_chain(chain, N);
    });
}

/// A tree of vectors: `Nest(vec![Nest(vec![...])])`.
#[derive(ckpt::State)]
struct Nest(Vec<Nest>);

#[test]
fn a_100k_deep_vec_nesting_round_trips() {
    on_small_stack(|| {
        const N: usize = 100_000;
        let mut nest = Nest(Vec::new());
        for _ in 0..N {
            nest = Nest(vec![nest, Nest(Vec::new())]);
        }
        let back: Nest = from_slice(&to_vec(&nest).expect("save")).expect("load");
        let back2 = through_image("vec", &nest).expect("image");
        for mut n in [nest, back, back2] {
            let mut depth = 0;
            while !n.0.is_empty() {
                assert_eq!(n.0.len(), 2);
                n = n.0.swap_remove(0);
                depth += 1;
            }
            assert_eq!(depth, N);
        }
    });
}

/// Each level writes a tag around the next one: tags directly inside each other.
struct Tags(Option<Box<Tags>>);

impl State for Tags {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match &self.0 {
            Some(inner) => {
                e.tag(1000);
                e.put(&**inner)
            }
            None => {
                e.null();
                Ok(())
            }
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Tag(1000, inner) => Ok(Tags(Some(Box::new(l.load(*inner)?)))),
            _ => Ok(Tags(None)),
        }
    }
}

fn tags(n: usize) -> Tags {
    let mut t = Tags(None);
    for _ in 0..n {
        t = Tags(Some(Box::new(t)));
    }
    t
}

#[test]
fn the_decoders_one_depth_limit_is_enforced_at_save() {
    let ok = tags(ckpt::state::MAX_TAG_CHAIN);
    let back: Tags = from_slice(&to_vec(&ok).expect("save")).expect("load");
    assert!(back.0.is_some());
    match to_vec(&tags(ckpt::state::MAX_TAG_CHAIN + 1)) {
        Err(Error::Unsaveable { detail, .. }) => {
            assert!(
                detail.contains("tags directly inside each other"),
                "{detail}"
            );
        }
        other => panic!("{:?}", other.map(|b| b.len())),
    }
    match through_image("tags", &tags(ckpt::state::MAX_TAG_CHAIN + 1)) {
        Err(Error::Unsaveable { detail, .. }) => assert!(detail.contains("a restore refuses")),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("an image the decoder refuses was written"),
    }
}
