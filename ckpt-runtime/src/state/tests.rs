//! Round trips of the built-in impls, the bulk path, shared objects and bad input.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::*;

fn enc<T: State>(v: &T) -> Vec<u8> {
    to_vec(v).unwrap()
}

fn load<T: State>(bytes: &[u8]) -> Result<T, Error> {
    from_slice(bytes)
}

fn rt<T: State>(v: &T) -> T {
    load(&enc(v)).unwrap()
}

fn same<T: State + PartialEq + Debug>(v: T) {
    assert_eq!(rt(&v), v);
}

#[test]
fn integers_round_trip_at_their_limits() {
    same(0u8);
    same(u8::MAX);
    same(u16::MAX);
    same(u32::MAX);
    same(u64::MAX);
    same(u128::MAX);
    same(u64::MAX as u128 + 1);
    same(i8::MIN);
    same(i16::MIN);
    same(i32::MIN);
    same(i64::MIN);
    same(i64::MAX);
    same(i128::MIN);
    same(i128::MAX);
    same(-(u64::MAX as i128) - 1);
    same(-(u64::MAX as i128) - 2);
    same(usize::MAX);
    same(isize::MIN);
}

#[test]
fn scalars_round_trip() {
    same(1.5f32);
    same(-0.0f64);
    same(f64::INFINITY);
    assert!(rt(&f64::NAN).is_nan());
    assert_eq!(
        rt(&f64::from_bits(0x7ff8_0000_dead_beef)).to_bits(),
        0x7ff8_0000_dead_beef
    );
    same(true);
    same('é');
    same(());
    same(String::from("héllo"));
    same(Box::<str>::from("boxed"));
    same(PathBuf::from("/tmp/x y"));
    same(Duration::new(5, 999_999_999));
    same(PhantomData::<Rc<u8>>);
    same(std::num::Wrapping(7u8));
    same(std::cmp::Reverse(-3i32));
}

#[test]
fn compound_types_round_trip() {
    same(Some(Some(3u8)));
    same(Some(None::<u8>));
    same(None::<Option<u8>>);
    same(Some(()));
    same(Ok::<u8, String>(1));
    same(Err::<u8, String>("bad".into()));
    same((
        1u8,
        -2i64,
        "x".to_string(),
        4.0f64,
        true,
        'c',
        (),
        Some(1u8),
        vec![1u16],
        10u32,
        11i8,
        12u64,
    ));
    same([1u32, 2, 3]);
    same([[1u8; 3]; 2]);
    same(["a".to_string(), "b".to_string()]);
    same(Box::new(5u8));
    same(vec![1.0f64, 2.0].into_boxed_slice());
    same(vec![String::from("a"); 3].into_boxed_slice());
    same(3u64..9);
    same(-3i32..=4);
    let mut r = 0u8..=2;
    r.by_ref().for_each(drop);
    assert!(r.is_empty());
    assert_eq!(rt(&r), r);
    assert!(rt(&r).is_empty());
    same('a'..='z');
}

#[test]
fn collections_round_trip() {
    same(vec![vec![1u8], vec![]]);
    same(vec![(1u8, 2u8); 3]);
    same(VecDeque::from(vec![1i32, 2, 3]));
    let mut ring = VecDeque::with_capacity(4);
    ring.extend([1u64, 2, 3, 4]);
    ring.pop_front();
    ring.push_back(5);
    same(ring);
    same(
        (0..50)
            .map(|i| (i, i.to_string()))
            .collect::<HashMap<u32, String>>(),
    );
    same(
        (0..50)
            .map(|i| (i.to_string(), i))
            .collect::<BTreeMap<String, u32>>(),
    );
    same((0..50).collect::<HashSet<u32>>());
    same((0..50).collect::<BTreeSet<i64>>());
    same(BTreeMap::from([((1u8, 2u8), vec![1.0f32])]));
    let mut it = vec![1u32, 2, 3, 4].into_iter();
    it.next();
    assert_eq!(rt(&it).collect::<Vec<_>>(), vec![2, 3, 4]);
}

#[test]
fn cells_and_locks_round_trip() {
    assert_eq!(rt(&RefCell::new(vec![1u8])).into_inner(), vec![1]);
    assert_eq!(rt(&Cell::new(4u8)).get(), 4);
    assert_eq!(rt(&Mutex::new(5u8)).into_inner().unwrap(), 5);
    assert_eq!(rt(&RwLock::new(6u8)).into_inner().unwrap(), 6);
    assert_eq!(*rt(&Arc::new(7u8)), 7);
    assert_eq!(*rt(&Rc::new(8u8)), 8);
}

#[test]
fn busy_cells_are_unsaveable() {
    let c = RefCell::new(1u8);
    let _g = c.borrow_mut();
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    assert!(matches!(e.put(&c), Err(Error::Unsaveable { .. })));
    let m = Mutex::new(1u8);
    let _g = m.lock().unwrap();
    assert!(matches!(e.put(&m), Err(Error::Unsaveable { .. })));
}

#[test]
fn numeric_vectors_are_one_typed_array() {
    let n = 1000;
    let v: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    let bytes = enc(&v);
    // tag 86 (2 bytes) + byte-string head (3 bytes for 8000) + payload.
    assert_eq!(bytes.len(), n * 8 + 5);
    assert_eq!(&bytes[..2], &[0xd8, 86]);
    let (val, _) = decode_slice(&bytes).unwrap();
    assert!(matches!(&val, Value::Typed(TypedArray::F64(x)) if x.len() == n));
    same(v);
    for (bytes, tag) in [
        (enc(&vec![1u16, 2]), 69),
        (enc(&vec![1u32]), 70),
        (enc(&vec![1u64]), 71),
        (enc(&vec![-1i8]), 72),
        (enc(&vec![-1i16]), 77),
        (enc(&vec![-1i32]), 78),
        (enc(&vec![-1i64]), 79),
        (enc(&vec![1f32]), 85),
        (enc(&vec![1usize]), 71),
        (enc(&vec![-1isize]), 79),
    ] {
        assert_eq!(&bytes[..2], &[0xd8, tag]);
    }
    assert_eq!(enc(&vec![1u8, 2, 3]), vec![0x43, 1, 2, 3]);
    same(vec![i16::MIN, 0, i16::MAX]);
    same(vec![u8::MAX; 100]);
    same(vec![usize::MAX, 0]);
    same(vec![f32::MIN, f32::MAX]);
    same([1.5f64; 16]);
    same(Vec::<f64>::new());
}

#[test]
fn big_typed_array_bypasses_the_buffer() {
    let v: Vec<u64> = (0..(3 << 17)).collect(); // 3 MiB
    let bytes = enc(&v);
    // tag, 0x5f, empty chunks up to the page, 5-byte head, data, break.
    let data_at = bytes.len() - v.len() * 8 - 1;
    assert_eq!(data_at % 4096, 0);
    assert!(bytes.len() < v.len() * 8 + 2 + 1 + 4096 + 5 + 1);
    assert_eq!(&bytes[2..4], &[0x5f, 0x40]);
    same(v);
}

#[test]
fn elementwise_arrays_are_accepted_for_numeric_vectors() {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.array(3);
    for x in [1.0f64, 2.0, 3.0] {
        e.f64(x);
    }
    e.finish().unwrap();
    assert_eq!(load::<Vec<f64>>(&out).unwrap(), vec![1.0, 2.0, 3.0]);
}

#[test]
fn indefinite_containers_decode() {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.map_indef();
    e.text("a");
    e.array_indef();
    e.uint(1);
    e.end();
    e.end();
    e.finish().unwrap();
    let (v, _) = decode_slice(&out).unwrap();
    assert_eq!(v.get("a"), Some(&Value::Array(vec![Value::Uint(1)].into())));
    // Indefinite text made of chunks.
    let (v, _) = decode_slice(&[0x7f, 0x61, b'a', 0x61, b'b', 0xff]).unwrap();
    assert_eq!(v, Value::Text("ab".into()));
    // Half floats.
    assert_eq!(
        decode_slice(&[0xf9, 0x3c, 0x00]).unwrap().0,
        Value::Float(1.0)
    );
}

#[test]
fn value_reencodes_to_the_same_bytes() {
    let x = (
        vec![1.5f64, 2.5],
        "t".to_string(),
        -5i32,
        BTreeMap::from([(1u8, vec![1u8, 2])]),
        Some(true),
    );
    let bytes = enc(&x);
    let (v, _) = decode_slice(&bytes).unwrap();
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.value(&v).unwrap();
    e.finish().unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn rc_clones_restore_as_one_object() {
    let a = Rc::new(RefCell::new(vec![1u32]));
    let pair = (a.clone(), a.clone(), Rc::new(RefCell::new(vec![1u32])));
    let (x, y, z) = rt(&pair);
    assert!(Rc::ptr_eq(&x, &y));
    assert!(!Rc::ptr_eq(&x, &z));
    x.borrow_mut().push(2);
    assert_eq!(*y.borrow(), vec![1, 2]);
    let a = Arc::new(5u8);
    let (x, y) = rt(&(a.clone(), a));
    assert!(Arc::ptr_eq(&x, &y));
}

#[test]
fn identity_spans_values_and_survives_any_load_order() {
    let a = Rc::new(String::from("shared"));
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.array(2);
    e.put(&a).unwrap();
    e.put(&a).unwrap();
    e.finish().unwrap();
    let (v, shared) = decode_slice(&out).unwrap();
    let Value::Array(mut items) = v else { panic!() };
    let mut l = Loader::new(shared);
    // The back-reference first, then the definition.
    let second: Rc<String> = l.load(items.pop().unwrap()).unwrap();
    let first: Rc<String> = l.load(items.pop().unwrap()).unwrap();
    assert!(Rc::ptr_eq(&first, &second));
}

#[derive(Debug)]
struct Node {
    name: String,
    parent: RefCell<Weak<Node>>,
    children: RefCell<Vec<Rc<Node>>>,
}

impl State for Node {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(3);
        e.put(&self.name)?;
        e.put(&self.parent)?;
        e.put(&self.children)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        let Value::Array(items) = v else {
            return Err(Error::ty("", "Node", v.kind()));
        };
        let mut it = items.into_iter();
        Ok(Node {
            name: l.load(it.next().unwrap())?,
            parent: l.load(it.next().unwrap())?,
            children: l.load(it.next().unwrap())?,
        })
    }
}

fn tree() -> Rc<Node> {
    let root = Rc::new(Node {
        name: "root".into(),
        parent: RefCell::new(Weak::new()),
        children: RefCell::default(),
    });
    for name in ["a", "b"] {
        let child = Rc::new(Node {
            name: name.into(),
            parent: RefCell::new(Rc::downgrade(&root)),
            children: RefCell::default(),
        });
        root.children.borrow_mut().push(child);
    }
    root
}

fn check_tree(root: &Rc<Node>) {
    let kids = root.children.borrow();
    assert_eq!(kids.len(), 2);
    for k in kids.iter() {
        assert!(Rc::ptr_eq(&k.parent.borrow().upgrade().unwrap(), root));
    }
    assert_eq!(kids[1].name, "b");
}

#[test]
fn weak_parent_cycle_restores_the_same_shape() {
    let root = tree();
    let back = rt(&root);
    check_tree(&back);
    assert_eq!(Rc::strong_count(&back), 1);
}

#[test]
fn weak_cycle_loads_child_first() {
    let root = tree();
    let child = root.children.borrow()[1].clone();
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.array(2);
    e.put(&root).unwrap();
    e.put(&child).unwrap();
    e.finish().unwrap();
    let (v, shared) = decode_slice(&out).unwrap();
    let Value::Array(mut items) = v else { panic!() };
    let mut l = Loader::new(shared);
    let child: Rc<Node> = l.load(items.pop().unwrap()).unwrap();
    let root: Rc<Node> = l.load(items.pop().unwrap()).unwrap();
    check_tree(&root);
    assert!(Rc::ptr_eq(&root.children.borrow()[1], &child));
}

#[test]
fn weak_saved_before_its_owner() {
    let root = tree();
    let w = Rc::downgrade(&root);
    let (w2, r2) = rt(&(w, root.clone()));
    assert!(Rc::ptr_eq(&w2.upgrade().unwrap(), &r2));
    check_tree(&r2);
}

#[test]
fn dangling_weak_loads_as_new() {
    let w = Rc::downgrade(&Rc::new(1u8));
    assert!(rt(&w).upgrade().is_none());
}

#[test]
fn strong_cycle_is_refused_at_save() {
    struct Cyc(RefCell<Option<Rc<Cyc>>>);
    impl State for Cyc {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            self.0.save(e)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            Ok(Cyc(l.load(v)?))
        }
    }
    let a = Rc::new(Cyc(RefCell::new(None)));
    *a.0.borrow_mut() = Some(a.clone());
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    assert!(matches!(e.put(&a), Err(Error::Unsaveable { .. })));
    a.0.borrow_mut().take(); // break the cycle so the test does not leak
}

#[test]
fn wrong_types_say_where() {
    let bytes = enc(&vec![(1u8, "x".to_string())]);
    match load::<Vec<(u8, u8)>>(&bytes) {
        Err(Error::Type {
            at,
            expected,
            found,
        }) => {
            assert_eq!(at, "[0].1");
            assert_eq!(expected, "u8");
            assert_eq!(found, "text");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(load::<u8>(&enc(&300u16)), Err(Error::Type { .. })));
    assert!(matches!(
        load::<Vec<f32>>(&enc(&vec![1.0f64])),
        Err(Error::Type { .. })
    ));
    assert!(matches!(
        load::<[u8; 2]>(&enc(&[1u8; 3])),
        Err(Error::Type { .. })
    ));
    assert!(matches!(
        load::<char>(&enc(&"ab".to_string())),
        Err(Error::Type { .. })
    ));
}

#[test]
fn truncated_input_is_an_error() {
    let bytes = enc(&(
        vec![1.0f64; 10],
        "text".to_string(),
        BTreeMap::from([(1u8, 2u8)]),
    ));
    for n in 0..bytes.len() {
        assert!(
            decode_slice(&bytes[..n]).is_err(),
            "prefix of {n} bytes decoded"
        );
    }
}

#[test]
fn bombs_hit_limits_not_memory() {
    // An array claiming 2^60 items.
    let mut bomb = vec![0x9b];
    bomb.extend_from_slice(&(1u64 << 60).to_be_bytes());
    assert!(decode_slice(&bomb).is_err());
    let mut shared = Vec::new();
    let limits = Limits {
        max_depth: 16,
        max_len: 1000,
    };
    let r = decode(&mut &bomb[..], &limits, &mut shared);
    assert!(matches!(r, Err(DecodeError::Limit(_))), "{r:?}");
    // A byte string claiming 2^32 bytes, from a reader of unknown length.
    let mut bomb = vec![0x5b];
    bomb.extend_from_slice(&(1u64 << 32).to_be_bytes());
    let r = decode(&mut &bomb[..], &Limits::default(), &mut shared);
    assert!(matches!(r, Err(DecodeError::Truncated)), "{r:?}");
    // A typed array claiming 2^40 bytes.
    let mut bomb = vec![0xd8, 86, 0x5b];
    bomb.extend_from_slice(&(1u64 << 40).to_be_bytes());
    assert!(decode(&mut &bomb[..], &Limits::default(), &mut shared).is_err());
    // Nesting 10 000 deep: fine by default (it costs no stack), refused under a limit.
    let mut deep = vec![0x81; 10_000];
    deep.push(0x00);
    assert!(decode(&mut &deep[..], &Limits::default(), &mut shared).is_ok());
    let r = decode(&mut &deep[..], &limits, &mut shared);
    assert!(matches!(r, Err(DecodeError::Limit(_))), "{r:?}");
    // Tags directly inside each other: at most MAX_TAG_CHAIN.
    let mut tags = vec![0xc6; MAX_TAG_CHAIN];
    tags.push(0x00);
    assert!(decode_slice(&tags).is_ok());
    let mut deep_tags = vec![0xc6; MAX_TAG_CHAIN + 1];
    deep_tags.push(0x00);
    let r = decode(&mut &deep_tags[..], &Limits::default(), &mut shared);
    assert!(matches!(r, Err(DecodeError::Limit(_))), "{r:?}");
}

#[test]
fn malformed_input_is_an_error() {
    for bad in [
        &[0x1c][..],                // reserved additional information
        &[0xff],                    // stray break
        &[0x62, 0xff, 0xfe],        // invalid UTF-8
        &[0xd8, 29, 0x00],          // reference before any definition
        &[0xd8, 86, 0x43, 1, 2, 3], // typed array not a multiple of 8
        &[0x5f, 0x61, b'a', 0xff],  // text chunk in a byte string
        &[0xf8, 0x10],              // unknown simple value
        &[0x01, 0x02],              // trailing bytes
    ] {
        assert!(decode_slice(bad).is_err(), "{bad:?} decoded");
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..64 {
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if let Ok((v, shared)) = decode_slice(&bytes) {
                let mut l = Loader::new(shared);
                let _ = l.load::<(Vec<f64>, Rc<u8>)>(v.clone());
                let _ = l.load::<Option<Weak<String>>>(v);
            }
        }
    }
}

/// Owns the next one through `Rc` (a strong cycle when the last owns the first).
struct Link(Option<Rc<Link>>);

impl State for Link {
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        self.0.save(e)
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        Ok(Link(l.load(v)?))
    }
}

#[test]
fn strong_cycles_in_a_table_fail_to_load() {
    // A table no encoder writes: object i owns object (i + 1) % n, strongly.
    for n in [1u64, 2, 3, 5_000] {
        let table: Vec<_> = (0..n)
            .map(|i| Some(Value::Array(vec![Value::Ref((i + 1) % n)].into())))
            .collect();
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut l = Loader::new(table);
                l.load::<Rc<Link>>(Value::Ref(0)).map(|_| ())
            })
            .unwrap()
            .join()
            .unwrap();
        match r {
            Err(Error::Type { found, .. }) => assert!(found.contains("cycle"), "{found}"),
            other => panic!("{n}: {other:?}"),
        }
    }
}

#[test]
fn a_long_strong_chain_in_a_table_loads_on_a_small_stack() {
    let n = 50_000u64;
    let table: Vec<_> = (0..n)
        .map(|i| {
            Some(if i + 1 < n {
                Value::Array(vec![Value::Ref(i + 1)].into())
            } else {
                Value::Null
            })
        })
        .collect();
    let len = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut l = Loader::new(table);
            let mut cur: Option<Rc<Link>> = Some(l.load(Value::Ref(0)).unwrap());
            drop(l);
            let mut len = 0;
            // Taken apart link by link: dropping the chain at once would recurse.
            while let Some(link) = cur {
                len += 1;
                cur = Rc::try_unwrap(link).ok().unwrap().0;
            }
            len
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(len, n);
}

/// A table of `n` `Node`s: node i has the weak parent `parent(i)` and the strong children
/// `children(i)`; node `bad` has a name of the wrong type.
fn node_table(
    n: u64,
    parent: impl Fn(u64) -> Option<u64>,
    children: impl Fn(u64) -> Vec<u64>,
    bad: Option<u64>,
) -> Vec<Option<Value>> {
    (0..n)
        .map(|i| {
            Some(Value::Array(
                vec![
                    if bad == Some(i) {
                        Value::Uint(i)
                    } else {
                        Value::Text(format!("n{i}"))
                    },
                    parent(i).map_or(Value::Null, Value::Ref),
                    Value::Array(children(i).into_iter().map(Value::Ref).collect()),
                ]
                .into(),
            ))
        })
        .collect()
}

/// Small enough for Miri (`cargo +nightly miri test -p ckpt-runtime --lib
/// state::tests::every_loader_path`), deep enough to go past the nesting budget: nested
/// `new_cyclic` builds, reserved objects, stopped and retried builds, failures.
#[test]
fn every_loader_path_on_small_graphs() {
    let n = if cfg!(miri) { 150 } else { 2_000 };
    // A weak ring, owned by a vector.
    let table = node_table(n, |i| Some((i + 1) % n), |_| vec![], None);
    let mut l = Loader::new(table);
    let all: Vec<Rc<Node>> = l
        .load(Value::Array((0..n).map(Value::Ref).collect()))
        .unwrap();
    drop(l);
    for (i, x) in all.iter().enumerate() {
        let next = x.parent.borrow().upgrade().unwrap();
        assert!(Rc::ptr_eq(&next, &all[(i + 1) % n as usize]));
        assert_eq!(Rc::strong_count(x), 1);
    }
    // A strong chain with weak parents, loaded from the deep end, then from the root.
    let chain = |bad| {
        node_table(
            n,
            |i| i.checked_sub(1),
            |i| if i + 1 < n { vec![i + 1] } else { vec![] },
            bad,
        )
    };
    let mut l = Loader::new(chain(None));
    let last: Rc<Node> = l.load(Value::Ref(n - 1)).unwrap();
    let root: Rc<Node> = l.load(Value::Ref(0)).unwrap();
    drop(l);
    assert!(root.parent.borrow().upgrade().is_none());
    let mut cur = root;
    for i in 1..n {
        let next = cur.children.borrow()[0].clone();
        assert!(Rc::ptr_eq(&next.parent.borrow().upgrade().unwrap(), &cur));
        assert_eq!(next.name, format!("n{i}"));
        cur.children.borrow_mut().clear(); // no recursive drop of the whole chain
        cur = next;
    }
    assert!(Rc::ptr_eq(&cur, &last));
    // From the root: deeper than builds may nest, so builds stop and are retried.
    let mut l = Loader::new(chain(None));
    let root: Rc<Node> = l.load(Value::Ref(0)).unwrap();
    assert!(l.retries() > 0);
    drop(l);
    let mut cur = root;
    for _ in 1..n {
        let next = cur.children.borrow_mut().pop().unwrap();
        assert!(Rc::ptr_eq(&next.parent.borrow().upgrade().unwrap(), &cur));
        cur = next;
    }
    // A failure in the middle: nothing half-built escapes, nothing uninitialised is dropped.
    for first in [0, n - 1] {
        let mut l = Loader::new(chain(Some(n / 2)));
        assert!(l.load::<Rc<Node>>(Value::Ref(first)).is_err());
        assert!(l.load::<Rc<Node>>(Value::Ref(n / 2)).is_err());
        // Objects built before the failure hold dangling weak pointers, never bad ones.
        if let Ok(x) = l.load::<Weak<Node>>(Value::Ref(n - 1)) {
            if let Some(x) = x.upgrade() {
                assert!(x
                    .parent
                    .borrow()
                    .upgrade()
                    .is_none_or(|p| p.name.starts_with('n')));
            }
        }
        // Leave the built part to the loader's drop, link by link.
        drop(l);
    }
}

#[test]
fn more_std_types_round_trip() {
    use std::cmp::Ordering;
    use std::collections::{BinaryHeap, LinkedList};
    use std::ops::Bound;
    same(Ordering::Less);
    same(vec![Ordering::Equal, Ordering::Greater]);
    same(LinkedList::from([1u8, 2, 3]));
    same(LinkedList::<String>::new());
    same(5u64..);
    same(..-3i32);
    same(..=7usize);
    same(..);
    same(0.5f64..=1.5);
    same(Bound::Included(3u8));
    same(Bound::Excluded("x".to_string()));
    same(Bound::<u8>::Unbounded);
    same((Bound::Included(1u32), Bound::<u32>::Unbounded));
    let once = std::cell::OnceCell::<Vec<u8>>::new();
    assert_eq!(rt(&once).get(), None);
    once.set(vec![1u8]).unwrap();
    assert_eq!(rt(&once).get(), Some(&vec![1u8]));
    let lock = std::sync::OnceLock::new();
    lock.set("set".to_string()).unwrap();
    assert_eq!(rt(&lock).get().map(String::as_str), Some("set"));
    // A heap restores with the same layout: equal elements pop in the same order.
    #[derive(Debug, PartialEq, Eq)]
    struct Job(u8, &'static str);
    impl PartialOrd for Job {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Job {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.cmp(&o.0)
        }
    }
    impl State for Job {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            (self.0, self.1).save(e)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            let (p, name) = l.load(v)?;
            Ok(Job(p, name))
        }
    }
    let mut heap: BinaryHeap<Job> = ["a", "b", "c", "d", "e", "f", "g"]
        .iter()
        .enumerate()
        .map(|(i, n)| Job((i % 3) as u8, n))
        .collect();
    heap.pop();
    let mut back = rt(&heap);
    while let Some(j) = heap.pop() {
        assert_eq!(back.pop(), Some(j));
    }
    assert!(back.is_empty());
    let heap = BinaryHeap::from(vec![3u32, 1, 4, 1, 5]);
    assert_eq!(rt(&heap).into_sorted_vec(), vec![1, 1, 3, 4, 5]);
}

#[test]
fn new_encodings_read_like_their_std_shape() {
    use std::cmp::Ordering;
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(
        decode_slice(&enc(&Ordering::Greater)).unwrap().0,
        text("Greater")
    );
    assert_eq!(
        decode_slice(&enc(&(4u8..))).unwrap().0,
        Value::Map(vec![(text("start"), Value::Uint(4))].into())
    );
    assert_eq!(
        decode_slice(&enc(&std::ops::Bound::<u8>::Unbounded))
            .unwrap()
            .0,
        text("Unbounded")
    );
    assert!(load::<Ordering>(&enc(&"Sideways")).is_err());
    assert!(load::<std::ops::RangeTo<u8>>(&enc(&(1u8..))).is_err());
}

#[test]
fn io_errors_come_back_with_their_kind_code_and_message() {
    let os = std::io::Error::from_raw_os_error(libc::ENOENT);
    let back = rt(&os);
    assert_eq!(back.raw_os_error(), Some(libc::ENOENT));
    assert_eq!(back.to_string(), os.to_string());
    let made = std::io::Error::new(std::io::ErrorKind::InvalidData, "bad line 3");
    let back = rt(&made);
    assert_eq!(back.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(back.to_string(), "bad line 3");
    let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
    let text = eof.to_string();
    let r: Result<String, std::io::Error> = Err(eof);
    let back = rt(&r).expect_err("an error");
    assert_eq!(back.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(back.to_string(), text);
}
