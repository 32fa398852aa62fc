//! `#[derive(State)]` round trips: every struct and enum shape, generics, skip/init,
//! shared objects through derived types, and error locations.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Debug;
use std::rc::{Rc, Weak};

use ckpt::__private::{Encoder, State, Value};
use ckpt::state::{decode_slice, from_slice, to_vec};
use ckpt::Error;

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

#[derive(ckpt::State, Debug, PartialEq, Clone)]
struct Walker {
    pos: (f64, f64),
    seen: Vec<u64>,
    r#type: String,
}

#[derive(ckpt::State, Debug, PartialEq)]
struct Pair(u8, String);

#[derive(ckpt::State, Debug, PartialEq)]
struct Unit;

#[derive(ckpt::State, Debug, PartialEq)]
struct Empty {}

#[derive(ckpt::State, Debug, PartialEq)]
enum Shape {
    Dot,
    Circle(f64),
    Segment(f64, f64),
    Rect { w: f64, h: f64 },
    Nothing(),
}

#[derive(ckpt::State, Debug, PartialEq)]
enum Never {}

#[derive(ckpt::State, Debug, PartialEq)]
struct Generic<T, U: Clone>
where
    T: Debug,
{
    items: Vec<T>,
    extra: Option<U>,
}

#[derive(ckpt::State, Debug, PartialEq)]
struct Lifetimes<'a, T> {
    items: Vec<T>,
    #[ckpt(skip)]
    label: Option<&'a str>,
}

fn answer() -> u32 {
    42
}

#[derive(ckpt::State, Debug, PartialEq)]
struct Skips {
    kept: u8,
    #[ckpt(skip)]
    cache: Vec<u8>,
    #[ckpt(init = answer)]
    computed: u32,
    #[ckpt(skip, init = "answer")]
    computed2: u32,
}

#[derive(ckpt::State, Debug, PartialEq)]
struct TupleSkip(u8, #[ckpt(skip)] Vec<u8>, u16);

#[derive(ckpt::State, Debug, PartialEq)]
enum WithSkip {
    A {
        x: u8,
        #[ckpt(skip)]
        y: u8,
    },
    B(#[ckpt(init = answer)] u32, u8),
}

#[test]
fn named_struct_is_a_map_of_field_names() {
    let w = Walker {
        pos: (1.5, -2.0),
        seen: vec![1, 2, 3],
        r#type: "t".into(),
    };
    let (v, _) = decode_slice(&enc(&w)).unwrap();
    assert!(v.get("pos").is_some() && v.get("seen").is_some() && v.get("type").is_some());
    same(w);
}

#[test]
fn every_shape_round_trips() {
    same(Pair(7, "seven".into()));
    same(Unit);
    same(Empty {});
    for s in [
        Shape::Dot,
        Shape::Circle(1.0),
        Shape::Segment(1.0, 2.0),
        Shape::Rect { w: 3.0, h: 4.0 },
        Shape::Nothing(),
    ] {
        same(s);
    }
    assert_eq!(
        decode_slice(&enc(&Shape::Dot)).unwrap().0,
        Value::Text("Dot".into())
    );
    same(vec![Shape::Dot, Shape::Circle(2.0)]);
    assert!(load::<Never>(&enc(&"X".to_string())).is_err());
}

#[test]
fn generics_get_state_bounds() {
    same(Generic {
        items: vec![Pair(1, "a".into())],
        extra: Some(3u8),
    });
    same(Generic::<f64, String> {
        items: vec![1.0; 10],
        extra: None,
    });
    let back: Lifetimes<'static, u8> = rt(&Lifetimes {
        items: vec![1u8],
        label: Some("x"),
    });
    assert_eq!(
        back,
        Lifetimes {
            items: vec![1],
            label: None
        }
    );
}

#[test]
fn skipped_fields_are_rebuilt() {
    let s = Skips {
        kept: 1,
        cache: vec![9; 9],
        computed: 7,
        computed2: 8,
    };
    let bytes = enc(&s);
    let (v, _) = decode_slice(&bytes).unwrap();
    assert!(v.get("cache").is_none() && v.get("computed").is_none());
    assert_eq!(
        load::<Skips>(&bytes).unwrap(),
        Skips {
            kept: 1,
            cache: vec![],
            computed: 42,
            computed2: 42
        }
    );
    assert_eq!(rt(&TupleSkip(1, vec![2], 3)), TupleSkip(1, vec![], 3));
    assert_eq!(rt(&WithSkip::A { x: 1, y: 2 }), WithSkip::A { x: 1, y: 0 });
    assert_eq!(rt(&WithSkip::B(1, 2)), WithSkip::B(42, 2));
}

#[test]
fn fields_are_found_by_name_in_any_order() {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.map(4);
    e.text("unknown");
    e.null();
    e.text("type");
    e.text("t");
    e.text("seen");
    e.put(&vec![5u64]).unwrap();
    e.text("pos");
    e.put(&(1.0f64, 2.0f64)).unwrap();
    e.finish().unwrap();
    assert_eq!(
        load::<Walker>(&out).unwrap(),
        Walker {
            pos: (1.0, 2.0),
            seen: vec![5],
            r#type: "t".into()
        }
    );
}

#[test]
fn errors_name_the_field() {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.map(1);
    e.text("pos");
    e.put(&(1.0f64, 2.0f64)).unwrap();
    e.finish().unwrap();
    match load::<Walker>(&out) {
        Err(Error::Type { at, .. }) => assert_eq!(at, "seen"),
        other => panic!("{other:?}"),
    }
    let bytes = enc(&vec![Pair(1, "x".into())]);
    match load::<Vec<Walker>>(&bytes) {
        Err(Error::Type { expected, .. }) => assert!(expected.contains("Walker"), "{expected}"),
        other => panic!("{other:?}"),
    }
    let bytes = enc(&(Shape::Circle(1.0),));
    match load::<(Generic<u8, u8>,)>(&bytes) {
        Err(Error::Type { at, .. }) => assert_eq!(at, "0.items"),
        other => panic!("{other:?}"),
    }
    let bytes = enc(&Shape::Segment(1.0, 2.0));
    let (mut v, _) = decode_slice(&bytes).unwrap();
    if let Value::Map(m) = &mut v {
        m[0].0 = Value::Text("Hexagon".into());
    }
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.value(&v).unwrap();
    e.finish().unwrap();
    match load::<Shape>(&out) {
        Err(Error::Type { found, .. }) => assert!(found.contains("Hexagon")),
        other => panic!("{other:?}"),
    }
    // A wrong payload inside a variant names the variant and the element.
    let bytes = enc(&Pair(1, "x".into()));
    let (p, _) = decode_slice(&bytes).unwrap();
    let v = Value::Map(vec![(Value::Text("Segment".into()), p)].into());
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.value(&v).unwrap();
    e.finish().unwrap();
    match load::<Shape>(&out) {
        Err(Error::Type { at, .. }) => assert_eq!(at, "Segment.1"),
        other => panic!("{other:?}"),
    }
}

#[derive(ckpt::State, Debug)]
struct Node {
    name: String,
    parent: RefCell<Weak<Node>>,
    children: RefCell<Vec<Rc<Node>>>,
}

#[derive(ckpt::State)]
struct Graph {
    root: Rc<Node>,
    cursor: Rc<Node>,
    by_name: HashMap<String, Rc<Node>>,
}

#[test]
fn rc_identity_and_weak_cycles_through_derived_types() {
    let root = Rc::new(Node {
        name: "root".into(),
        parent: RefCell::default(),
        children: RefCell::default(),
    });
    let kid = Rc::new(Node {
        name: "kid".into(),
        parent: RefCell::new(Rc::downgrade(&root)),
        children: RefCell::default(),
    });
    root.children.borrow_mut().push(kid.clone());
    let g = Graph {
        root: root.clone(),
        cursor: kid.clone(),
        by_name: HashMap::from([("kid".to_string(), kid.clone())]),
    };
    let back = rt(&g);
    assert!(Rc::ptr_eq(&back.cursor, &back.root.children.borrow()[0]));
    assert!(Rc::ptr_eq(&back.by_name["kid"], &back.cursor));
    assert!(Rc::ptr_eq(
        &back.cursor.parent.borrow().upgrade().unwrap(),
        &back.root
    ));
    assert_eq!(back.cursor.name, "kid");
}

#[derive(ckpt::State)]
struct Twins {
    a: Rc<RefCell<Vec<u32>>>,
    b: Rc<RefCell<Vec<u32>>>,
}

#[test]
fn two_rc_clones_in_a_struct_are_one_object() {
    let shared = Rc::new(RefCell::new(vec![1]));
    let back = rt(&Twins {
        a: shared.clone(),
        b: shared,
    });
    assert!(Rc::ptr_eq(&back.a, &back.b));
    back.a.borrow_mut().push(2);
    assert_eq!(*back.b.borrow(), vec![1, 2]);
}

/// A struct that keeps the std types a program typically holds across a save.
#[derive(ckpt::State, Debug)]
struct StdZoo {
    id: std::num::NonZeroU64,
    maybe_id: Option<std::num::NonZeroU32>,
    ids: Vec<std::num::NonZeroI16>,
    level: std::num::Saturating<u8>,
    name: std::borrow::Cow<'static, str>,
    mode: &'static str,
    magic: &'static [u8],
    tags: Rc<str>,
    weights: std::sync::Arc<[f64]>,
    order: std::cmp::Ordering,
    window: std::ops::RangeInclusive<u32>,
    tail: std::ops::RangeFrom<usize>,
    upto: std::ops::RangeToInclusive<i8>,
    lower: std::ops::Bound<String>,
    queue: std::collections::BinaryHeap<u32>,
    list: std::collections::LinkedList<char>,
    peer: std::net::SocketAddr,
    ip: std::net::IpAddr,
    config: std::cell::OnceCell<String>,
}

fn zoo() -> StdZoo {
    let config = std::cell::OnceCell::new();
    config.set("on".to_string()).unwrap();
    StdZoo {
        id: std::num::NonZeroU64::new(9).unwrap(),
        maybe_id: std::num::NonZeroU32::new(3),
        ids: vec![std::num::NonZeroI16::MIN],
        level: std::num::Saturating(200),
        name: "cow".into(),
        mode: "fast",
        magic: b"\x7fELF",
        tags: "a,b".into(),
        weights: vec![0.25, 0.75].into(),
        order: std::cmp::Ordering::Greater,
        window: 3..=9,
        tail: 10..,
        upto: ..=-1,
        lower: std::ops::Bound::Excluded("m".into()),
        queue: [5, 1, 8].into(),
        list: ['x', 'y'].into(),
        peer: "[::1]:22".parse().unwrap(),
        ip: "192.168.1.1".parse().unwrap(),
        config,
    }
}

#[test]
fn std_types_round_trip_as_derived_fields() {
    let z = zoo();
    let back = rt(&z);
    assert_eq!(back.queue.clone().into_sorted_vec(), vec![1, 5, 8]);
    assert_eq!(
        (back.id, back.mode, back.magic, &back.window),
        (z.id, "fast", &b"\x7fELF"[..], &z.window)
    );
    // BinaryHeap has no PartialEq: compare the whole through Debug (same heap layout).
    assert_eq!(format!("{back:?}"), format!("{z:?}"));
    same(vec![Some(std::num::NonZeroU8::MAX), None]);
}

/// Stands for a type of another crate: no `State` impl.
mod foreign {
    #[derive(Debug, PartialEq, Clone)]
    pub struct Celsius(pub f64);

    #[derive(Debug, PartialEq)]
    pub struct Tagged<T> {
        pub tag: &'static str,
        pub value: T,
    }
}

/// `#[ckpt(with = ...)]` adapters.
mod adapters {
    use super::foreign::{Celsius, Tagged};
    use ckpt::state::{Encoder, Loader, State, Value};
    use ckpt::Error;

    pub mod celsius {
        use super::*;
        pub fn save(c: &Celsius, e: &mut Encoder<'_>) -> Result<(), Error> {
            e.put(&c.0)
        }
        pub fn load(v: Value, l: &mut Loader) -> Result<Celsius, Error> {
            let t: f64 = l.load(v)?;
            if t < -273.15 {
                return Err(Error::ty("", "a temperature", format!("{t} °C")));
            }
            Ok(Celsius(t))
        }
    }

    /// Generic: the module states its own bounds.
    pub mod tagged {
        use super::*;
        pub fn save<T: State>(t: &Tagged<T>, e: &mut Encoder<'_>) -> Result<(), Error> {
            e.array(2);
            e.put(&t.tag)?;
            e.put(&t.value)
        }
        pub fn load<T: State>(v: Value, l: &mut Loader) -> Result<Tagged<T>, Error> {
            let (tag, value) = l.load(v)?;
            Ok(Tagged { tag, value })
        }
    }
}

/// `T` is used only in a `with` field: the derive adds no bound for it, the struct does.
#[derive(ckpt::State, Debug, PartialEq)]
struct Room<T: State> {
    #[ckpt(with = adapters::celsius)]
    temp: foreign::Celsius,
    #[ckpt(with = "adapters::tagged")]
    sensor: foreign::Tagged<T>,
    history: Vec<u8>,
}

#[derive(ckpt::State, Debug, PartialEq)]
struct Reading(#[ckpt(with = adapters::celsius)] foreign::Celsius, u32);

#[derive(ckpt::State, Debug, PartialEq)]
enum Event {
    Heat {
        #[ckpt(with = adapters::celsius)]
        to: foreign::Celsius,
    },
    Cool(#[ckpt(with = adapters::celsius)] foreign::Celsius),
    Off,
}

#[test]
fn with_adapters_save_foreign_fields() {
    let r = Room {
        temp: foreign::Celsius(21.5),
        sensor: foreign::Tagged {
            tag: "hall",
            value: 7u16,
        },
        history: vec![1, 2],
    };
    let bytes = enc(&r);
    let (v, _) = decode_slice(&bytes).unwrap();
    assert_eq!(v.get("temp"), Some(&Value::Float(21.5)));
    same(r);
    same(Reading(foreign::Celsius(-3.0), 9));
    same(vec![
        Event::Heat {
            to: foreign::Celsius(30.0),
        },
        Event::Cool(foreign::Celsius(4.0)),
        Event::Off,
    ]);
}

#[test]
fn with_adapter_errors_name_the_field() {
    let bytes = enc(&Reading(foreign::Celsius(-300.0), 1));
    match load::<Reading>(&bytes) {
        Err(Error::Type { at, found, .. }) => {
            assert_eq!(at, "0");
            assert!(found.contains("-300"), "{found}");
        }
        other => panic!("{other:?}"),
    }
    let bytes = enc(&Event::Heat {
        to: foreign::Celsius(-500.0),
    });
    match load::<Event>(&bytes) {
        Err(Error::Type { at, .. }) => assert_eq!(at, "Heat.to"),
        other => panic!("{other:?}"),
    }
}
