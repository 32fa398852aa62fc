//! `#[ckpt(serde)]`: round trips of serde-only types through a real image
//! (`image::write` + `image::read` + `Loader`), the CBOR layout of the bridge, and typed
//! errors (no panic) for malformed values and failing `Serialize` impls.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use ckpt::__private::{Encoder, Loader, Value};
use ckpt::image::{self, Fingerprint, Header, Limits, FORMAT_VERSION};
use ckpt::state::{decode_slice, load_serde, save_serde};
use ckpt::{Error, State};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

// -------------------------------------------------------------------------------------
// serde-only types (none of them implements `ckpt::State`).

/// Bytes written with `serialize_bytes`, like `serde_bytes::ByteBuf`.
#[derive(Debug, Clone, PartialEq)]
struct Blob(Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Blob, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = a.next_element()? {
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Marker;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Id(u64);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Point(i32, i32);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Inner {
    label: String,
    weight: f32,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Mode {
    Off,
    Level(u8),
    Pair(i32, String),
    Named { a: Vec<u16>, b: Option<Inner> },
    Nested(Box<Mode>),
    Empty(),
    EmptyNamed {},
    UnitPayload(()),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind")]
enum Tagged {
    Circle { r: f64 },
    Square { side: u32 },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
enum Loose {
    Num(u64),
    Text(String),
    List(Vec<i8>),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Extra {
    note: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Config {
    name: String,
    retry_count: u32,
    ratio: f64,
    tags: Vec<String>,
    limits: HashMap<String, (u8, i64)>,
    ordered: BTreeMap<u32, Mode>,
    nested: Option<Box<Config>>,
    big: u128,
    small_big: u128,
    neg: i128,
    very_neg: i128,
    blob: Blob,
    plain_bytes: Vec<u8>,
    mode: Mode,
    marker: Marker,
    id: Id,
    point: Point,
    maybe: Option<Option<u8>>,
    unit_opt: Option<()>,
    ch: char,
    flag: bool,
    nothing: (),
    #[serde(skip_serializing_if = "Option::is_none", default)]
    sometimes: Option<String>,
    #[serde(skip)]
    never: u8,
    tagged: Vec<Tagged>,
    loose: Vec<Loose>,
    #[serde(flatten)]
    extra: Extra,
}

fn config(depth: u32) -> Config {
    let mut limits = HashMap::new();
    limits.insert("cpu".to_string(), (4, -1));
    limits.insert("mem".to_string(), (255, i64::MIN));
    let mut ordered = BTreeMap::new();
    ordered.insert(1, Mode::Off);
    ordered.insert(7, Mode::Pair(-3, "x".into()));
    Config {
        name: format!("cfg{depth}"),
        retry_count: 3,
        ratio: 0.25,
        tags: vec!["a".into(), "b c".into()],
        limits,
        ordered,
        nested: (depth > 0).then(|| Box::new(config(depth - 1))),
        big: u128::MAX,
        small_big: 17,
        neg: i128::MIN,
        very_neg: -(u64::MAX as i128) - 1,
        blob: Blob(vec![0, 1, 2, 255]),
        plain_bytes: vec![9, 8, 7],
        mode: Mode::Named {
            a: vec![1, 2, 65535],
            b: Some(Inner {
                label: "in".into(),
                weight: 1.5,
            }),
        },
        marker: Marker,
        id: Id(u64::MAX),
        point: Point(-1, 2),
        maybe: Some(None),
        unit_opt: Some(()),
        ch: 'é',
        flag: true,
        nothing: (),
        sometimes: None,
        never: 0,
        tagged: vec![Tagged::Circle { r: 2.0 }, Tagged::Square { side: 3 }],
        loose: vec![
            Loose::Num(5),
            Loose::Text("t".into()),
            Loose::List(vec![-1, 2]),
        ],
        extra: Extra {
            note: "flattened".into(),
        },
    }
}

fn all_modes() -> Vec<Mode> {
    vec![
        Mode::Off,
        Mode::Level(7),
        Mode::Pair(-9, "p".into()),
        Mode::Named { a: vec![], b: None },
        Mode::Nested(Box::new(Mode::Nested(Box::new(Mode::Level(1))))),
        Mode::Empty(),
        Mode::EmptyNamed {},
        Mode::UnitPayload(()),
    ]
}

// -------------------------------------------------------------------------------------
// State types holding them.

#[derive(ckpt::State, Debug, PartialEq)]
struct Holder {
    count: u32,
    #[ckpt(serde)]
    config: Config,
    #[ckpt(serde)]
    modes: Vec<Mode>,
    #[ckpt(serde)]
    by_name: HashMap<String, Mode>,
    #[ckpt(serde)]
    tuple: (u8, String, Option<u128>, Marker, Id),
    #[ckpt(serde)]
    wide: u128,
    #[ckpt(serde)]
    bytes: Blob,
    #[ckpt(serde)]
    nothing: Option<Option<Marker>>,
    plain: Vec<f64>,
}

#[derive(ckpt::State, Debug, PartialEq)]
struct TupleHolder(#[ckpt(serde)] Marker, u8, #[ckpt(serde)] Id);

#[derive(ckpt::State, Debug, PartialEq)]
enum EnumHolder {
    Conf {
        #[ckpt(serde)]
        c: Box<Config>,
        n: i8,
    },
    Mode(#[ckpt(serde)] Mode, String),
    Idle,
}

/// A type parameter used only in a serde field needs no `State`.
#[derive(ckpt::State, Debug, PartialEq)]
struct Generic<T, U> {
    #[ckpt(serde)]
    xs: Vec<T>,
    #[ckpt(serde)]
    u_serde: U,
    u_state: U,
}

fn holder() -> Holder {
    let mut by_name = HashMap::new();
    for (i, m) in all_modes().into_iter().enumerate() {
        by_name.insert(format!("m{i}"), m);
    }
    Holder {
        count: 42,
        config: config(2),
        modes: all_modes(),
        by_name,
        tuple: (1, "two".into(), Some(u128::MAX - 1), Marker, Id(3)),
        wide: (u64::MAX as u128) + 1,
        bytes: Blob(vec![0xde, 0xad, 0xbe, 0xef]),
        nothing: Some(None),
        plain: vec![1.0, -2.5],
    }
}

// -------------------------------------------------------------------------------------
// Image helpers.

/// A directory for one test's image, removed on drop (also when the test fails).
fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ckpt-serde-")
        .tempdir()
        .unwrap()
}

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint {
            crate_name: "serde-test".into(),
            ..Fingerprint::default()
        },
        created_unix: 0,
        program: "serde-test".into(),
        args: vec![],
        ckpt_file: None,
        options: vec![],
    }
}

/// Writes an image whose one component `state` is written by `put`.
fn write_image(
    path: &Path,
    put: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    image::write(
        path,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(0);
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(1);
            e.text("state");
            put(e)
        },
    )
}

/// Reads the image back and loads its component `state` as `T`.
fn read_image<T: State>(path: &Path) -> Result<T, Error> {
    let img = image::read(path, &Limits::default())?;
    let v = img.component("state").cloned().expect("component");
    Loader::new(img.shared).load(v)
}

fn through_image<T: State>(name: &str, v: &T) -> T {
    let dir = tmp();
    let path = dir.path().join(name);
    write_image(&path, &mut |e| e.put(v)).unwrap();
    read_image(&path).unwrap()
}

fn serde_bytes_of<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    save_serde(v, &mut e).unwrap();
    e.finish().unwrap();
    out
}

fn serde_value_of<T: Serialize + ?Sized>(v: &T) -> Value {
    decode_slice(&serde_bytes_of(v)).unwrap().0
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn type_error(e: Error) -> (String, String, String) {
    match e {
        Error::Type {
            at,
            expected,
            found,
        } => (at, expected, found),
        other => panic!("expected a type error, got {other}"),
    }
}

// -------------------------------------------------------------------------------------
// Round trips.

#[test]
fn struct_with_serde_fields_round_trips_through_an_image() {
    let h = holder();
    assert_eq!(through_image("holder.ckpt", &h), h);
}

#[test]
fn tuple_enum_and_generic_holders_round_trip_through_an_image() {
    let t = TupleHolder(Marker, 9, Id(77));
    assert_eq!(through_image("tuple.ckpt", &t), t);

    let es = vec![
        EnumHolder::Conf {
            c: Box::new(config(1)),
            n: -4,
        },
        EnumHolder::Mode(Mode::Pair(1, "q".into()), "s".into()),
        EnumHolder::Idle,
    ];
    assert_eq!(through_image("enum.ckpt", &es), es);

    let g = Generic {
        xs: vec![Inner {
            label: "g".into(),
            weight: 0.5,
        }],
        u_serde: 5u64,
        u_state: 6u64,
    };
    assert_eq!(through_image("generic.ckpt", &g), g);
}

#[test]
fn save_serde_and_load_serde_round_trip_every_kind() {
    fn rt<T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>(v: T) {
        let back: T = load_serde(serde_value_of(&v)).unwrap();
        assert_eq!(back, v);
    }
    rt(config(3));
    for m in all_modes() {
        rt(m);
    }
    rt(Some(Some(Some(1u8))));
    rt(Some(None::<u8>));
    rt(None::<Option<u8>>);
    rt(vec![Some(()), None]);
    rt((i8::MIN, u16::MAX, i32::MIN, i64::MIN, u64::MAX));
    rt((i128::MAX, i128::MIN, u128::MAX, -1i128, 0u128));
    rt((f32::MIN_POSITIVE, f64::MAX, f64::INFINITY));
    rt(String::from("héllo"));
    rt(Blob(vec![]));
    rt(Marker);
    rt(Id(0));
    rt(std::time::Duration::new(3, 4));
    rt(std::net::Ipv4Addr::new(127, 0, 0, 1));
    rt(HashMap::from([
        (1i64, "one".to_string()),
        (-1, "minus".into()),
    ]));
    rt(BTreeMap::from([((1u8, 2u8), vec![Point(1, 2)])]));
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Sparse {
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        v: Vec<u8>,
        n: u8,
    }
    rt(Sparse { v: vec![], n: 1 });
    rt(Sparse { v: vec![2], n: 1 });
    let nan: f64 = load_serde(serde_value_of(&f64::NAN)).unwrap();
    assert!(nan.is_nan());
}

#[test]
fn layout_follows_the_state_conventions() {
    assert_eq!(serde_value_of(&Mode::Off), text("Off"));
    assert_eq!(
        serde_value_of(&Mode::Level(3)),
        map(vec![("Level", Value::Uint(3))])
    );
    assert_eq!(
        serde_value_of(&Mode::Pair(-2, "x".into())),
        map(vec![(
            "Pair",
            Value::Array(vec![Value::Nint(1), text("x")].into())
        )])
    );
    assert_eq!(
        serde_value_of(&Inner {
            label: "l".into(),
            weight: 2.0
        }),
        map(vec![("label", text("l")), ("weight", Value::Float(2.0))])
    );
    assert_eq!(serde_value_of(&Marker), Value::Null);
    assert_eq!(serde_value_of(&Id(5)), Value::Uint(5));
    assert_eq!(serde_value_of(&None::<u8>), Value::Null);
    assert_eq!(
        serde_value_of(&Some(4u8)),
        Value::Array(vec![Value::Uint(4)].into())
    );
    assert_eq!(serde_value_of(&Blob(vec![1, 2])), Value::Bytes(vec![1, 2]));
    // Same bytes as the State impls for the shared conventions.
    let mut state_bytes = Vec::new();
    let mut e = Encoder::new(&mut state_bytes);
    e.put(&(
        u128::MAX,
        i128::MIN,
        Some(Some(1u8)),
        -5i64,
        "s".to_string(),
    ))
    .unwrap();
    e.finish().unwrap();
    assert_eq!(
        serde_bytes_of(&(u128::MAX, i128::MIN, Some(Some(1u8)), -5i64, "s")),
        state_bytes
    );
}

/// A derived `State` enum reads what serde wrote for the same shape, and back.
#[test]
fn derived_state_and_serde_agree_on_enums_and_structs() {
    #[derive(ckpt::State, Serialize, Deserialize, Debug, PartialEq)]
    enum Both {
        Dot,
        Rect { w: f64, h: f64 },
        Pair(u8, u8),
    }
    #[derive(ckpt::State, Serialize, Deserialize, Debug, PartialEq)]
    struct S {
        a: Vec<String>,
        b: Option<u32>,
        c: Both,
    }
    for v in [
        S {
            a: vec!["x".into()],
            b: Some(1),
            c: Both::Dot,
        },
        S {
            a: vec![],
            b: None,
            c: Both::Rect { w: 1.0, h: 2.0 },
        },
        S {
            a: vec![],
            b: None,
            c: Both::Pair(1, 2),
        },
    ] {
        let via_serde = serde_value_of(&v);
        assert_eq!(Loader::default().load::<S>(via_serde.clone()).unwrap(), v);
        let mut bytes = Vec::new();
        let mut e = Encoder::new(&mut bytes);
        e.put(&v).unwrap();
        e.finish().unwrap();
        let via_state = decode_slice(&bytes).unwrap().0;
        assert_eq!(via_state, via_serde);
        assert_eq!(load_serde::<S>(via_state).unwrap(), v);
    }
}

// -------------------------------------------------------------------------------------
// Errors.

#[test]
fn malformed_values_give_typed_errors_with_locations() {
    let good = serde_value_of(&config(1));
    let with = |key: &str, v: Value| -> Value {
        let mut c = good.clone();
        if let Value::Map(entries) = &mut c {
            for (k, x) in entries.iter_mut() {
                if k == &text(key) {
                    *x = v.clone();
                }
            }
        }
        c
    };

    let (at, expected, found) =
        type_error(load_serde::<Config>(with("retryCount", text("three"))).unwrap_err());
    assert_eq!(at, "retryCount");
    assert!(expected.contains("u32"), "{expected}");
    assert!(found.contains("three"), "{found}");

    let bad_limit = map(vec![(
        "cpu",
        Value::Array(vec![Value::Uint(300), Value::Uint(0)].into()),
    )]);
    let (at, _, found) = type_error(load_serde::<Config>(with("limits", bad_limit)).unwrap_err());
    assert_eq!(at, "limits.cpu[0]");
    assert!(found.contains("300"), "{found}");

    let (at, expected, found) =
        type_error(load_serde::<Config>(with("mode", text("Turbo"))).unwrap_err());
    assert_eq!(at, "mode");
    assert!(expected.contains("`Off`"), "{expected}");
    assert_eq!(found, "variant `Turbo`");

    let bad_inner = map(vec![(
        "Named",
        map(vec![
            (
                "a",
                Value::Array(vec![Value::Uint(1), Value::Nint(0)].into()),
            ),
            ("b", Value::Null),
        ]),
    )]);
    let (at, _, _) = type_error(load_serde::<Config>(with("mode", bad_inner)).unwrap_err());
    assert_eq!(at, "mode.Named.a[1]");

    let (at, expected, _) =
        type_error(load_serde::<Config>(with("maybe", Value::Uint(1))).unwrap_err());
    assert_eq!(at, "maybe");
    assert!(expected.contains("Option"), "{expected}");

    let (at, _, found) =
        type_error(load_serde::<Config>(with("marker", Value::Uint(1))).unwrap_err());
    assert_eq!(
        (at.as_str(), found.as_str()),
        ("marker", "unsigned integer")
    );

    let mut missing = good.clone();
    missing.take_field("name");
    let (at, expected, found) = type_error(load_serde::<Config>(missing).unwrap_err());
    assert_eq!(at, "name");
    assert_eq!(expected, "field `name`");
    assert_eq!(found, "no such field");

    // Tuples must be exact.
    let (_, expected, found) = type_error(
        load_serde::<(u8, u8)>(Value::Array(vec![Value::Uint(1); 3].into())).unwrap_err(),
    );
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("an array of 2", "an array of 3")
    );

    // Shared values never come from serde.
    type_error(load_serde::<String>(Value::Shared(0)).unwrap_err());
    type_error(load_serde::<Vec<u8>>(Value::Ref(0)).unwrap_err());
    // A bignum beyond 128 bits.
    type_error(load_serde::<u128>(Value::Tag(2, Box::new(Value::Bytes(vec![1; 17])))).unwrap_err());
}

#[test]
fn malformed_fields_fail_through_the_derive_and_the_image() {
    // A holder whose serde field was edited: the derived load reports the full path.
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    e.put(&holder()).unwrap();
    e.finish().unwrap();
    let (Value::Map(entries), _) = decode_slice(&bytes).unwrap() else {
        panic!("a holder is a map")
    };
    let edit = |(k, x): (Value, Value)| match &k {
        Value::Text(t) if t == "tuple" => {
            (k, Value::Array(vec![Value::Uint(1), Value::Uint(2)].into()))
        }
        Value::Text(t) if t == "config" => (k, x),
        _ => (k, x),
    };
    let v = Value::Map(entries.into_iter().map(edit).collect());
    let dir = tmp();
    let path = dir.path().join("bad.ckpt");
    write_image(&path, &mut |e| e.value(&v)).unwrap();
    let err = read_image::<Holder>(&path).unwrap_err();
    let (at, _, _) = type_error(err);
    assert!(at.starts_with("tuple"), "{at}");
}

/// Deterministic pseudo-random values: loading them never panics.
#[test]
fn random_values_never_panic() {
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn value(&mut self, depth: u32) -> Value {
            let keys = [
                "name", "Off", "Level", "Named", "a", "b", "kind", "Circle", "r",
            ];
            let pick = self.next() % if depth == 0 { 7 } else { 10 };
            match pick {
                0 => Value::Uint(self.next() % 400),
                1 => Value::Nint(self.next()),
                2 => Value::Float(1.5),
                3 => Value::Null,
                4 => text(keys[(self.next() % keys.len() as u64) as usize]),
                5 => Value::Bytes(vec![1, 2]),
                6 => Value::Bool(true),
                7 => {
                    let n = self.next() % 4;
                    Value::Array((0..n).map(|_| self.value(depth - 1)).collect())
                }
                8 => {
                    let n = self.next() % 4;
                    Value::Map(
                        (0..n)
                            .map(|_| {
                                let k = text(keys[(self.next() % keys.len() as u64) as usize]);
                                (k, self.value(depth - 1))
                            })
                            .collect(),
                    )
                }
                _ => Value::Tag(self.next() % 4, Box::new(self.value(depth - 1))),
            }
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ok = 0;
    for _ in 0..20_000 {
        let v = rng.value(4);
        ok += load_serde::<Mode>(v.clone()).is_ok() as u32;
        let _ = load_serde::<Config>(v.clone());
        let _ = load_serde::<Vec<Tagged>>(v.clone());
        let _ = load_serde::<(Option<u8>, Loose, Blob)>(v.clone());
        let _ = load_serde::<HashMap<String, Option<Point>>>(v.clone());
        let _ = Loader::default().load::<Holder>(v);
    }
    assert!(ok > 0, "some random values are valid modes");
}

#[test]
fn failing_serialize_impls_are_unsaveable_with_a_location() {
    #[derive(Deserialize)]
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("lock poisoned"))
        }
    }
    #[derive(Serialize, Deserialize)]
    struct Outer {
        items: Vec<Option<Fails>>,
    }
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    let err = save_serde(
        &Outer {
            items: vec![None, Some(Fails)],
        },
        &mut e,
    )
    .unwrap_err();
    match err {
        Error::Unsaveable { at, detail } => {
            assert_eq!(at, "items[1]");
            assert_eq!(detail, "lock poisoned");
        }
        other => panic!("{other}"),
    }

    let err = save_serde(&HashMap::from([("k", Fails)]), &mut e).unwrap_err();
    assert!(
        matches!(&err, Error::Unsaveable { at, .. } if at == "k"),
        "{err}"
    );

    /// Announces two items and writes three: the CBOR would be corrupt.
    struct Liar;
    impl Serialize for Liar {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(2))?;
            for i in 0..3 {
                seq.serialize_element(&i)?;
            }
            seq.end()
        }
    }
    let err = save_serde(&Liar, &mut e).unwrap_err();
    assert!(
        matches!(&err, Error::Unsaveable { detail, .. } if detail.contains("announced 2")),
        "{err}"
    );

    /// Unknown lengths use indefinite-length items.
    struct Unsized;
    impl Serialize for Unsized {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..5u8).filter(|x| x % 2 == 0))
        }
    }
    let v = serde_value_of(&Unsized);
    assert_eq!(load_serde::<Vec<u8>>(v).unwrap(), vec![0, 2, 4]);

    // A failed save through the derive leaves no image behind.
    #[derive(ckpt::State)]
    struct HoldsFails {
        #[ckpt(serde)]
        f: Outer,
    }
    let dir = tmp();
    let path = dir.path().join("fails.ckpt");
    let h = HoldsFails {
        f: Outer {
            items: vec![Some(Fails)],
        },
    };
    let err = write_image(&path, &mut |e| e.put(&h)).unwrap_err();
    assert!(matches!(err, Error::Unsaveable { .. }), "{err}");
    assert!(!path.exists());
}
