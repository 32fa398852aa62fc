//! Image round trips, every read error kind, corruption fuzzing and crash safety.

use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::*;
use crate::state::{Encoder, Limits, Loader, Value};
use crate::Error;

mod messages;

/// A directory for the images of one test, removed on drop.
pub(super) fn tmpdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ckpt-image-{name}-"))
        .tempdir()
        .unwrap()
}

fn header() -> Header {
    Header {
        format: FORMAT_VERSION,
        fingerprint: Fingerprint {
            crate_name: "app".into(),
            crate_version: "0.1.0".into(),
            sources: "00ff".into(),
            rustc: "rustc 1.95.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
        },
        created_unix: 1_700_000_000,
        program: "app".into(),
        args: vec!["app".into(), "--n".into(), "3".into()],
        ckpt_file: Some("app.ckpt".into()),
        options: vec![("trigger".into(), "manual".into())],
    }
}

/// Writes a small image: one frame with an indefinite `live` map, one component, and an
/// `Rc` shared between the frame and the component.
pub(super) fn write_sample(path: &Path, data: &[f64]) -> Result<u64, Error> {
    let shared = Rc::new(String::from("shared"));
    write(
        path,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(1);
            e.map(6);
            e.text("fn");
            e.text("app::main");
            e.text("hash");
            e.uint(42);
            e.text("at");
            e.uint(3);
            e.text("live");
            e.map_indef();
            e.text("data");
            e.put(&data.to_vec())?;
            e.text("s");
            e.put(&shared)?;
            e.end();
            e.text("args");
            e.map(0);
            e.text("lent");
            e.map(1);
            e.text("buf");
            e.text("out");
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(1);
            e.text("rand");
            e.put(&(7u64, shared.clone()))
        },
    )
}

#[test]
fn write_then_read_round_trips() {
    let dir = tmpdir("rt");
    let d = dir.path();
    let p = d.join("app.ckpt");
    let data: Vec<f64> = (0..1000).map(|i| i as f64).collect();
    let n = write_sample(&p, &data).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().len(), n);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let img = read(&p, &Limits::default()).unwrap();
    assert_eq!(img.header, header());
    assert_eq!(img.file_len, n);
    assert_eq!(img.frames.len(), 1);
    let f = &img.frames[0];
    assert_eq!(
        (f.function.as_str(), f.body_hash, f.at),
        ("app::main", 42, 3)
    );
    assert_eq!(f.lent, vec![("buf".to_string(), "out".to_string())]);
    assert!(f.args.is_empty());
    let names: Vec<_> = img.sections.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["header", "frames", "components", "heap"]);
    assert!(img.sections[1].1 > 8000);
    assert_eq!(read_header(&p).unwrap(), header());

    // Values load lazily, in another order than written, and the Rc is one object.
    let Image {
        frames,
        components,
        shared,
        ..
    } = img;
    let mut l = Loader::new(shared);
    let (_, comp) = components.into_iter().next().unwrap();
    let (seven, s2): (u64, Rc<String>) = l.load(comp).unwrap();
    let mut live = frames.into_iter().next().unwrap().live.into_iter();
    let back: Vec<f64> = l.load(live.next().unwrap().1).unwrap();
    let s1: Rc<String> = l.load(live.next().unwrap().1).unwrap();
    assert_eq!((seven, back), (7, data));
    assert!(Rc::ptr_eq(&s1, &s2));
}

#[test]
fn bulk_image_is_close_to_raw_size() {
    let dir = tmpdir("size");
    let d = dir.path();
    let p = d.join("big.ckpt");
    let data = vec![1.25f64; 1 << 17]; // 1 MiB
    let n = write_sample(&p, &data).unwrap();
    let raw = (data.len() * 8) as f64;
    assert!((n as f64) < raw * 1.01, "{n} bytes for {raw} raw");
}

#[test]
fn failed_write_leaves_the_previous_image() {
    let dir = tmpdir("crash");
    let d = dir.path();
    let p = d.join("app.ckpt");
    write_sample(&p, &[1.0]).unwrap();
    let before = fs::read(&p).unwrap();
    let r = write(
        &p,
        &header(),
        &mut |_: &mut Encoder<'_>| Err(Error::Usage("boom".into())),
        &mut |e: &mut Encoder<'_>| {
            e.map(0);
            Ok(())
        },
    );
    assert!(matches!(r, Err(Error::Usage(_))));
    assert_eq!(fs::read(&p).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // An unsaveable value in a component: same.
    let cell = std::cell::RefCell::new(1u8);
    let _g = cell.borrow_mut();
    let r = write(
        &p,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(0);
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(1);
            e.text("c");
            e.put(&cell)
        },
    );
    assert!(matches!(r, Err(Error::Unsaveable { .. })));
    assert_eq!(fs::read(&p).unwrap(), before);
    read(&p, &Limits::default()).unwrap();
}

#[test]
fn write_into_a_missing_directory_is_an_unwritable_error() {
    let p = std::env::temp_dir().join("ckpt-no-such-dir-xyz/app.ckpt");
    let e = write_sample(&p, &[]).unwrap_err();
    assert!(matches!(e, Error::Unwritable { .. }), "{e:?}");
    assert!(e.to_string().contains("does not exist"), "{e}");
    let e = check_writable(&p).unwrap_err();
    assert!(e.to_string().contains("ckpt-no-such-dir-xyz"), "{e}");
    check_writable(&std::env::temp_dir().join("app.ckpt")).unwrap();
}

pub(super) fn read_bytes(d: &Path, bytes: &[u8]) -> Result<Image, Error> {
    let p = d.join("x.ckpt");
    fs::write(&p, bytes).unwrap();
    read(&p, &Limits::default())
}

#[test]
fn every_read_error_has_its_kind() {
    let dir = tmpdir("kinds");
    let d = dir.path();
    let p = d.join("ok.ckpt");
    write_sample(&p, &[1.0, 2.0]).unwrap();
    let good = fs::read(&p).unwrap();

    assert!(matches!(
        read(&d.join("missing"), &Limits::default()),
        Err(Error::Io { .. })
    ));
    assert!(matches!(read_bytes(d, b""), Err(Error::NotAnImage { .. })));
    assert!(matches!(
        read_bytes(d, b"#!/bin/sh\necho hi\n"),
        Err(Error::NotAnImage { .. })
    ));
    assert!(matches!(read_bytes(d, b"CK"), Err(Error::Truncated { .. })));
    assert!(matches!(
        read_bytes(d, &good[..20]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        read_bytes(d, &good[..good.len() - 1]),
        Err(Error::Truncated { .. })
    ));

    // A damaged version field in front of an intact body is corruption, not a later ckpt.
    let mut v = good.clone();
    v[4] = 9;
    match read_bytes(d, &v) {
        Err(e @ Error::Corrupt { .. }) => {
            let m = e.to_string();
            assert!(m.contains("version field is damaged"), "{m}");
            assert!(!m.contains("ckpt version that wrote it"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    v[4] = 1;
    v[7] = 0x80;
    let m = read_bytes(d, &v).unwrap_err().to_string();
    assert!(m.contains("damaged") && m.contains("prefix"), "{m}");

    let mut v = good.clone();
    let mid = 8 + (good.len() - 32) / 2;
    v[mid] ^= 0x10;
    match read_bytes(d, &v) {
        Err(Error::Corrupt {
            section, detail, ..
        }) => {
            assert_eq!(section, "body");
            assert!(detail.contains("checksum"), "{detail}");
        }
        other => panic!("{other:?}"),
    }

    // A valid checksum over a body of the wrong shape: a structural error naming the section.
    let bad_body = |body: &[u8]| {
        let mut v = b"CKPT\x01\0\0\0".to_vec();
        v.extend_from_slice(body);
        v.extend_from_slice(&(body.len() as u64).to_le_bytes());
        v.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
        v.extend_from_slice(END_MAGIC);
        v
    };
    let mut body = Vec::new();
    let mut e = Encoder::new(&mut body);
    e.map(1);
    e.text("header");
    e.uint(1);
    e.finish().unwrap();
    match read_bytes(d, &bad_body(&body)) {
        Err(Error::Corrupt { section, .. }) => assert_eq!(section, "header"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_bytes(d, &bad_body(&[0x01])),
        Err(Error::Corrupt { .. })
    ));

    // A later format: its prefix and the header inside its body agree on the version.
    let mut body = Vec::new();
    let mut e = Encoder::new(&mut body);
    e.map(1);
    e.text("header");
    let later = Header {
        format: 2,
        ..header()
    };
    write_header_as(&mut e, &later, None);
    e.finish().unwrap();
    let mut v = bad_body(&body);
    v[4] = 2;
    assert!(matches!(
        read_bytes(d, &v),
        Err(Error::UnsupportedVersion {
            found: 2,
            supported: FORMAT_VERSION,
            ..
        })
    ));
    // So is one whose body this build cannot read at all.
    let mut v = bad_body(&[0xff, 0x00]);
    v[4] = 7;
    assert!(matches!(
        read_bytes(d, &v),
        Err(Error::UnsupportedVersion { found: 7, .. })
    ));

    // Limits.
    let p2 = d.join("limit.ckpt");
    fs::write(&p2, &good).unwrap();
    let tight = Limits {
        max_depth: 64,
        max_len: 1,
    };
    assert!(matches!(read(&p2, &tight), Err(Error::Limit { .. })));
    let shallow = Limits {
        max_depth: 2,
        max_len: 1 << 20,
    };
    assert!(matches!(read(&p2, &shallow), Err(Error::Limit { .. })));
}

#[test]
fn bit_flips_and_truncations_never_panic() {
    let dir = tmpdir("fuzz");
    let d = dir.path();
    let p = d.join("ok.ckpt");
    write_sample(&p, &[0.5, 1.5]).unwrap();
    let good = fs::read(&p).unwrap();
    let q = d.join("bad.ckpt");
    for n in 0..good.len() {
        fs::write(&q, &good[..n]).unwrap();
        assert!(
            read(&q, &Limits::default()).is_err(),
            "prefix of {n} bytes read"
        );
        let _ = read_header(&q);
    }
    for i in 0..good.len() {
        for bit in [0x01u8, 0x80] {
            let mut v = good.clone();
            v[i] ^= bit;
            fs::write(&q, &v).unwrap();
            assert!(
                read(&q, &Limits::default()).is_err(),
                "flip of byte {i} read"
            );
            let _ = read_header(&q);
        }
    }
}

#[test]
fn fingerprint_differences_name_the_parts() {
    let a = header().fingerprint;
    let mut b = a.clone();
    assert!(a.differences(&b).is_empty());
    b.rustc = "rustc 1.96.0".into();
    b.sources = "abcd".into();
    assert_eq!(
        a.differences(&b),
        vec![
            "sources: 00ff (image) vs abcd (this build)",
            "rustc: rustc 1.95.0 (image) vs rustc 1.96.0 (this build)"
        ]
    );
}

#[test]
fn reencoded_values_keep_their_meaning() {
    let v = Value::Map(vec![(Value::Text("k".into()), Value::Nint(4))].into());
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.value(&v).unwrap();
    e.finish().unwrap();
    assert_eq!(crate::state::decode_slice(&out).unwrap().0, v);
}

// ---- Shared objects in the heap section: depth independent of the graph ----------------

/// An image with one frame whose `live` map is written by `live`.
fn write_live(
    path: &Path,
    live: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    write(
        path,
        &header(),
        &mut |e: &mut Encoder<'_>| {
            e.array(1);
            e.map(4);
            e.text("fn");
            e.text("app::main");
            e.text("hash");
            e.uint(1);
            e.text("at");
            e.uint(0);
            e.text("live");
            e.map_indef();
            live(e)?;
            e.end();
            Ok(())
        },
        &mut |e: &mut Encoder<'_>| {
            e.map(0);
            Ok(())
        },
    )
}

/// The live values of the only frame, and a loader over the image's shared table.
fn read_live(path: &Path) -> (Vec<(String, Value)>, Loader) {
    let img = read(path, &Limits::default()).unwrap();
    let names: Vec<_> = img.sections.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["header", "frames", "components", "heap"]);
    let live = img.frames.into_iter().next().unwrap().live;
    (live, Loader::new(img.shared))
}

mod heap {
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::state::State;

    /// Runs `f` on a thread with a 256 KiB stack: recursion per object would overflow it.
    fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    /// A graph node as in `examples/graph.rs`: edges are `Weak`.
    struct GNode {
        id: u64,
        out: Vec<(Weak<RefCell<GNode>>, u64)>,
    }

    impl State for GNode {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            e.array(2);
            e.put(&self.id)?;
            e.put(&self.out)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            let mut it = v.into_elements("GNode", 2)?;
            Ok(GNode {
                id: it.next(l)?,
                out: it.next(l)?,
            })
        }
    }

    /// A ring of `n` nodes (edge to the next) plus one chord per node.
    fn ring(n: usize) -> Vec<Rc<RefCell<GNode>>> {
        let nodes: Vec<_> = (0..n as u64)
            .map(|id| Rc::new(RefCell::new(GNode { id, out: vec![] })))
            .collect();
        for (i, node) in nodes.iter().enumerate() {
            let chord = (i * 7919 + 13) % n;
            node.borrow_mut().out = vec![
                (Rc::downgrade(&nodes[(i + 1) % n]), 1),
                (Rc::downgrade(&nodes[chord]), 2),
            ];
        }
        nodes
    }

    fn check_ring(nodes: &[Rc<RefCell<GNode>>]) {
        let n = nodes.len();
        for (i, node) in nodes.iter().enumerate() {
            let b = node.borrow();
            assert_eq!(b.id, i as u64);
            assert_eq!(b.out.len(), 2);
            let next = b.out[0].0.upgrade().unwrap();
            assert!(Rc::ptr_eq(&next, &nodes[(i + 1) % n]));
            let chord = b.out[1].0.upgrade().unwrap();
            assert!(Rc::ptr_eq(&chord, &nodes[(i * 7919 + 13) % n]));
            assert_eq!((b.out[0].1, b.out[1].1), (1, 2));
        }
        for node in nodes {
            assert_eq!(Rc::strong_count(node), 1 + 1); // the vector and the loader
        }
    }

    #[test]
    fn weak_ring_of_200k_round_trips_on_a_small_stack() {
        let dir = tmpdir("ring");
        let d = dir.path();
        let p = d.join("ring.ckpt");
        let p2 = p.clone();
        on_small_stack(move || {
            let nodes = ring(200_000);
            let far = Rc::downgrade(&nodes[150_000]);
            write_live(&p2, &mut |e| {
                // A weak pointer first: its target is defined in place, the rest in the heap.
                e.text("far");
                e.put(&far)?;
                e.text("nodes");
                e.put(&nodes)
            })
            .unwrap();
        });
        on_small_stack(move || {
            let (live, mut l) = read_live(&p);
            let mut live = live.into_iter();
            let (_, far) = live.next().unwrap();
            let (_, nodes) = live.next().unwrap();
            let far: Weak<RefCell<GNode>> = l.load(far).unwrap();
            // Complete as soon as `load` returns, with everything it reaches.
            let f = far.upgrade().unwrap();
            assert_eq!(f.borrow().id, 150_000);
            let next = f.borrow().out[0].0.upgrade().unwrap();
            assert_eq!(next.borrow().id, 150_001);
            drop((f, next));
            let nodes: Vec<Rc<RefCell<GNode>>> = l.load(nodes).unwrap();
            check_ring(&nodes);
            assert!(Rc::ptr_eq(&far.upgrade().unwrap(), &nodes[150_000]));
            drop(l);
            assert_eq!(Rc::strong_count(&nodes[0]), 1);
            let mut indegree = vec![0; nodes.len()];
            for i in 0..nodes.len() {
                indegree[(i + 1) % nodes.len()] += 1;
                indegree[(i * 7919 + 13) % nodes.len()] += 1;
            }
            indegree[150_000] += 1; // `far`
            for (node, d) in nodes.iter().zip(indegree) {
                assert_eq!(Rc::weak_count(node), d);
            }
        });
    }

    /// A tree node: strong children, weak parent.
    struct TNode {
        depth: u64,
        parent: RefCell<Weak<TNode>>,
        children: RefCell<Vec<Rc<TNode>>>,
    }

    impl State for TNode {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            e.array(3);
            e.put(&self.depth)?;
            e.put(&self.parent)?;
            e.put(&self.children)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            let mut it = v.into_elements("TNode", 3)?;
            Ok(TNode {
                depth: it.next(l)?,
                parent: it.next(l)?,
                children: it.next(l)?,
            })
        }
    }

    fn tnode(depth: u64, parent: &Weak<TNode>) -> Rc<TNode> {
        Rc::new(TNode {
            depth,
            parent: RefCell::new(parent.clone()),
            children: RefCell::default(),
        })
    }

    /// A chain of `n` nodes, each with the next one and a leaf as children.
    fn chain(n: u64) -> Rc<TNode> {
        let root = tnode(0, &Weak::new());
        let mut cur = root.clone();
        for depth in 1..n {
            let next = tnode(depth, &Rc::downgrade(&cur));
            let leaf = tnode(depth, &Rc::downgrade(&cur));
            *cur.children.borrow_mut() = vec![next.clone(), leaf];
            cur = next;
        }
        root
    }

    /// Walks the chain, checks every link, and takes it apart iteratively (dropping a
    /// 100 000-deep chain of `Rc` would recurse once per node).
    fn check_and_dismantle(root: Rc<TNode>, n: u64) {
        assert!(root.parent.borrow().upgrade().is_none());
        let mut cur = root;
        for depth in 0..n {
            assert_eq!(cur.depth, depth);
            let kids = std::mem::take(&mut *cur.children.borrow_mut());
            if depth + 1 == n {
                assert!(kids.is_empty());
                break;
            }
            assert_eq!(kids.len(), 2);
            for k in &kids {
                assert_eq!(k.depth, depth + 1);
                assert!(Rc::ptr_eq(&k.parent.borrow().upgrade().unwrap(), &cur));
                assert_eq!(Rc::strong_count(k), 1);
            }
            cur = kids.into_iter().next().unwrap();
        }
    }

    #[test]
    fn strong_chain_of_100k_with_weak_parents_round_trips_on_a_small_stack() {
        const N: u64 = 100_000;
        let dir = tmpdir("chain");
        let d = dir.path();
        let p = d.join("chain.ckpt");
        let p2 = p.clone();
        on_small_stack(move || {
            let root = chain(N);
            // The deepest node first (through its parent's weak pointer), then the root.
            let mut deep = root.clone();
            while let Some(next) = {
                let c = deep.children.borrow().first().cloned();
                c
            } {
                deep = next;
            }
            write_live(&p2, &mut |e| {
                e.text("deep");
                e.put(&deep)?;
                e.text("root");
                e.put(&root)
            })
            .unwrap();
            drop(deep);
            check_and_dismantle(root, N);
        });
        on_small_stack(move || {
            let (live, mut l) = read_live(&p);
            let mut live = live.into_iter();
            let deep = live.next().unwrap().1;
            let root = live.next().unwrap().1;
            // The leaf end first: its ancestors are needed (weakly), then built by the loop.
            let deep: Rc<TNode> = l.load(deep).unwrap();
            let root: Rc<TNode> = l.load(root).unwrap();
            drop(l);
            assert_eq!(deep.depth, N - 1);
            assert_eq!(deep.parent.borrow().upgrade().unwrap().depth, N - 2);
            drop(deep);
            check_and_dismantle(root, N);
        });
    }

    #[test]
    fn strong_chain_loads_from_the_root_first() {
        const N: u64 = 20_000;
        let dir = tmpdir("chain-root");
        let d = dir.path();
        let p = d.join("chain.ckpt");
        let p2 = p.clone();
        on_small_stack(move || {
            let root = chain(N);
            write_live(&p2, &mut |e| {
                e.text("root");
                e.put(&root)
            })
            .unwrap();
            check_and_dismantle(root, N);
        });
        on_small_stack(move || {
            let (live, mut l) = read_live(&p);
            let root: Rc<TNode> = l.load(live.into_iter().next().unwrap().1).unwrap();
            assert_eq!(l.shared_len() as u64, 2 * N - 1);
            drop(l);
            check_and_dismantle(root, N);
        });
    }

    #[test]
    fn a_wide_object_of_deep_chains_is_loaded_once() {
        // One root owning 300 chains of 100 nodes: each chain is deeper than the builds may
        // nest, and each stop must only undo the build that stopped, not the root.
        const K: u64 = 300;
        const N: u64 = 100;
        let dir = tmpdir("wide");
        let d = dir.path();
        let p = d.join("wide.ckpt");
        let root = tnode(0, &Weak::new());
        let chains: Vec<Rc<TNode>> = (0..K).map(|_| chain(N)).collect();
        for c in &chains {
            *c.parent.borrow_mut() = Rc::downgrade(&root);
        }
        *root.children.borrow_mut() = chains;
        write_live(&p, &mut |e| {
            e.text("root");
            e.put(&root)
        })
        .unwrap();
        let objects = 1 + K * (2 * N - 1);
        let (live, mut l) = read_live(&p);
        let back: Rc<TNode> = l.load(live.into_iter().next().unwrap().1).unwrap();
        assert_eq!(l.shared_len() as u64, objects);
        assert!(l.retries() < 2 * objects, "{} retries", l.retries());
        drop(l);
        for (a, b) in [(&root, &back)] {
            let kids = std::mem::take(&mut *a.children.borrow_mut());
            let back_kids = std::mem::take(&mut *b.children.borrow_mut());
            assert_eq!(back_kids.len(), K as usize);
            for (k, bk) in kids.into_iter().zip(back_kids) {
                assert!(Rc::ptr_eq(&bk.parent.borrow().upgrade().unwrap(), b));
                *bk.parent.borrow_mut() = Weak::new();
                *k.parent.borrow_mut() = Weak::new();
                check_and_dismantle(k, N);
                check_and_dismantle(bk, N);
            }
        }
    }

    /// `Arc` and `Mutex` take the same paths.
    struct ANode {
        next: Mutex<std::sync::Weak<ANode>>,
        owned: Option<Arc<ANode>>,
    }

    impl State for ANode {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            e.array(2);
            e.put(&self.next)?;
            e.put(&self.owned)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            let mut it = v.into_elements("ANode", 2)?;
            Ok(ANode {
                next: it.next(l)?,
                owned: it.next(l)?,
            })
        }
    }

    #[test]
    fn arc_ring_round_trips_on_a_small_stack() {
        const N: usize = 30_000;
        let dir = tmpdir("arc");
        let d = dir.path();
        let p = d.join("arc.ckpt");
        let p2 = p.clone();
        on_small_stack(move || {
            // Pairs (a, b): a owns b strongly; a ring of weak pointers through every node.
            let nodes: Vec<Arc<ANode>> = (0..N)
                .map(|_| {
                    let b = Arc::new(ANode {
                        next: Mutex::new(std::sync::Weak::new()),
                        owned: None,
                    });
                    Arc::new(ANode {
                        next: Mutex::new(std::sync::Weak::new()),
                        owned: Some(b),
                    })
                })
                .collect();
            for i in 0..N {
                let b = nodes[i].owned.as_ref().unwrap();
                *nodes[i].next.lock().unwrap() = Arc::downgrade(b);
                *b.next.lock().unwrap() = Arc::downgrade(&nodes[(i + 1) % N]);
            }
            let first = Arc::downgrade(&nodes[N / 2]);
            write_live(&p2, &mut |e| {
                e.text("first");
                e.put(&first)?;
                e.text("nodes");
                e.put(&nodes)
            })
            .unwrap();
        });
        on_small_stack(move || {
            let (live, mut l) = read_live(&p);
            let mut live = live.into_iter();
            let first: std::sync::Weak<ANode> = l.load(live.next().unwrap().1).unwrap();
            let nodes: Vec<Arc<ANode>> = l.load(live.next().unwrap().1).unwrap();
            drop(l);
            assert!(Arc::ptr_eq(&first.upgrade().unwrap(), &nodes[N / 2]));
            for i in 0..N {
                let b = nodes[i].owned.as_ref().unwrap();
                let to_b = nodes[i].next.lock().unwrap().upgrade().unwrap();
                assert!(Arc::ptr_eq(&to_b, b));
                let to_next = b.next.lock().unwrap().upgrade().unwrap();
                assert!(Arc::ptr_eq(&to_next, &nodes[(i + 1) % N]));
                assert_eq!(Arc::strong_count(b), 1 + 1); // owner + `to_b`
            }
        });
    }

    #[test]
    fn heap_definitions_are_shallow() {
        // The nesting of the body no longer grows with the chain: a strict depth limit
        // accepts a 5 000-node ring.
        let dir = tmpdir("shallow");
        let d = dir.path();
        let p = d.join("ring.ckpt");
        let nodes = ring(5_000);
        write_live(&p, &mut |e| {
            e.text("nodes");
            e.put(&nodes)
        })
        .unwrap();
        let limits = Limits {
            max_depth: 12,
            ..Limits::default()
        };
        let img = read(&p, &limits).unwrap();
        assert_eq!(img.shared.len(), 5_000);
        assert!(img.shared.iter().all(Option::is_some));
    }

    /// Owns itself through `Rc`.
    struct Cyc(RefCell<Option<Rc<Cyc>>>);

    impl State for Cyc {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            self.0.save(e)
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            Ok(Cyc(l.load(v)?))
        }
    }

    #[test]
    fn strong_cycles_through_the_heap_are_refused() {
        let dir = tmpdir("cycle");
        let d = dir.path();
        let p = d.join("cyc.ckpt");
        // a -> b -> c -> a, all strong: b and c are written in the heap.
        let a = Rc::new(Cyc(RefCell::new(None)));
        let c = Rc::new(Cyc(RefCell::new(Some(a.clone()))));
        let b = Rc::new(Cyc(RefCell::new(Some(c.clone()))));
        *a.0.borrow_mut() = Some(b.clone());
        let r = write_live(&p, &mut |e| {
            e.text("a");
            e.put(&a)
        });
        assert!(matches!(r, Err(Error::Unsaveable { .. })), "{r:?}");
        assert!(!p.exists());
        a.0.borrow_mut().take();
        // Without a -> b it saves, and every object is one object.
        let r = write_live(&p, &mut |e| {
            e.text("a");
            e.put(&a)?;
            e.text("b");
            e.put(&b)?;
            e.text("c");
            e.put(&c)
        });
        r.unwrap();
        let (live, mut l) = read_live(&p);
        let v: Vec<Rc<Cyc>> = live.into_iter().map(|(_, v)| l.load(v).unwrap()).collect();
        assert!(v[0].0.borrow().is_none());
        assert!(Rc::ptr_eq(v[1].0.borrow().as_ref().unwrap(), &v[2]));
        assert!(Rc::ptr_eq(v[2].0.borrow().as_ref().unwrap(), &v[0]));
    }

    /// A node whose load fails for one id: the build fails in the middle of the graph.
    struct Picky {
        _out: Vec<(Weak<RefCell<Picky>>, u64)>,
    }

    impl State for Picky {
        fn save(&self, _: &mut Encoder<'_>) -> Result<(), Error> {
            unreachable!()
        }
        fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
            let mut it = v.into_elements("GNode", 2)?;
            let id: u64 = it.next(l)?;
            let out = it.next(l)?;
            if id == 4321 {
                return Err(Error::ty("id", "another id", "4321"));
            }
            Ok(Picky { _out: out })
        }
    }

    #[test]
    fn a_failed_load_leaves_no_object_half_built() {
        let dir = tmpdir("failed");
        let d = dir.path();
        let p = d.join("ring.ckpt");
        let nodes = ring(10_000);
        write_live(&p, &mut |e| {
            e.text("nodes");
            e.put(&nodes)
        })
        .unwrap();
        let p2 = p.clone();
        let r = on_small_stack(move || {
            let (live, mut l) = read_live(&p2);
            let v = live.into_iter().next().unwrap().1;
            let r = l.load::<Vec<Rc<RefCell<Picky>>>>(v.clone()).map(|_| ());
            // Everything reached from the failed build is failed, not half built; the
            // allocations were released without dropping a value.
            let again = l.load::<Vec<Rc<RefCell<Picky>>>>(v).map(|_| ());
            (r.map_err(|e| e.to_string()), again.is_err())
        });
        let msg = r.0.unwrap_err();
        assert!(msg.contains("4321"), "{msg}");
        assert!(r.1);
    }

    /// Wraps a CBOR body into an image file.
    fn image_of(d: &Path, body: &[u8]) -> PathBuf {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&(body.len() as u64).to_le_bytes());
        v.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
        v.extend_from_slice(END_MAGIC);
        let p = d.join("crafted.ckpt");
        fs::write(&p, v).unwrap();
        p
    }

    /// A body whose component `c` is the raw CBOR `comp`, with a raw heap section.
    fn crafted(comp: &[u8], heap: Option<&[u8]>) -> Vec<u8> {
        let mut body = Vec::new();
        let mut e = Encoder::new(&mut body);
        e.map(if heap.is_some() { 4 } else { 3 });
        e.text("header");
        crate::image::write::write_header(&mut e, &header());
        e.text("frames");
        e.array(0);
        e.text("components");
        e.map(1);
        e.text("c");
        e.finish().unwrap();
        body.extend_from_slice(comp);
        if let Some(h) = heap {
            body.extend_from_slice(&[0x64, b'h', b'e', b'a', b'p']);
            body.extend_from_slice(h);
        }
        body
    }

    #[test]
    fn forward_references_need_their_heap_definition() {
        let dir = tmpdir("forward");
        let d = dir.path();
        // [tag29(0), tag29(0)] with the heap {0: "x"}: one object.
        let comp = [0x82, 0xd8, 29, 0x00, 0xd8, 29, 0x00];
        let p = image_of(d, &crafted(&comp, Some(&[0xbf, 0x00, 0x61, b'x', 0xff])));
        let img = read(&p, &Limits::default()).unwrap();
        let mut l = Loader::new(img.shared);
        let (a, b): (Rc<String>, Rc<String>) = l.load(img.components[0].1.clone()).unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        assert_eq!(*a, "x");
        let bad = |comp: &[u8], heap: Option<&[u8]>| match read(
            &image_of(d, &crafted(comp, heap)),
            &Limits::default(),
        ) {
            Err(Error::Corrupt {
                section, detail, ..
            }) => (section, detail),
            other => panic!("{other:?}"),
        };
        // Never defined.
        let (section, detail) = bad(&comp, None);
        assert_eq!(section, "heap");
        assert!(detail.contains("never defined"), "{detail}");
        let (section, _) = bad(&comp, Some(&[0xa0]));
        assert_eq!(section, "heap");
        // A reference skipping an index.
        let (section, _) = bad(&[0xd8, 29, 0x01], Some(&[0xa0]));
        assert_eq!(section, "components");
        // Defined twice, or defining an index nobody referenced.
        let (_, detail) = bad(&comp, Some(&[0xa2, 0x00, 0x01, 0x00, 0x02]));
        assert!(detail.contains("not awaiting"), "{detail}");
        let (_, detail) = bad(&comp, Some(&[0xa2, 0x00, 0x01, 0x05, 0x02]));
        assert!(detail.contains("not awaiting"), "{detail}");
        // Not a map, or a key that is not an index.
        bad(&comp, Some(&[0x80]));
        bad(&comp, Some(&[0xa1, 0x61, b'k', 0x01]));
        // A definition in place cannot be defined again by the heap.
        let (_, detail) = bad(&[0xd8, 28, 0x01], Some(&[0xa1, 0x00, 0x01]));
        assert!(detail.contains("not awaiting"), "{detail}");
    }
}

mod alignment {
    use super::{read_live, write_live};
    use crate::state::{Loader, Value};

    /// The data of a large typed array starts on a file page (see `Encoder::typed`) and
    /// reads back exactly.
    #[test]
    fn large_typed_arrays_start_on_a_page() {
        let dir = super::tmpdir("align");
        let path = dir.path().join("a.ckpt");
        let data: Vec<f64> = (0..300_000).map(|i| i as f64 * 0.25).collect();
        let small: Vec<u32> = (0..10).collect();
        write_live(&path, &mut |e| {
            e.text("small");
            e.put(&small)?;
            e.text("data");
            e.put(&data)
        })
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let first = data[1].to_le_bytes();
        let second = data[2].to_le_bytes();
        let needle: Vec<u8> = first.iter().chain(second.iter()).copied().collect();
        let at = bytes
            .windows(16)
            .position(|w| w == needle.as_slice())
            .unwrap()
            - 8;
        assert_eq!(at % 4096, 0, "data at file offset {at}");
        assert!(
            bytes.len() < data.len() * 8 + 4096 + 1024,
            "padding stays under a page"
        );
        let (mut live, mut l) = read_live(&path);
        let (_, d) = live.pop().unwrap();
        assert!(matches!(d, Value::Typed(_)));
        let back: Vec<f64> = l.load(d).unwrap();
        assert_eq!(back, data);
        let (_, s) = live.pop().unwrap();
        let back: Vec<u32> = l.load(s).unwrap();
        assert_eq!(back, small);
    }

    /// A typed array split over several chunks (not written by ckpt) still decodes.
    #[test]
    fn typed_arrays_in_several_chunks_decode() {
        // tag 70 (u32 LE), indefinite byte string: empty chunk, 4 bytes, 4 bytes, break.
        let bytes = [
            0xd8, 70, 0x5f, 0x40, 0x44, 1, 0, 0, 0, 0x44, 2, 0, 0, 0, 0xff,
        ];
        let (v, shared) = crate::state::decode_slice(&bytes).unwrap();
        let back: Vec<u32> = Loader::new(shared).load(v).unwrap();
        assert_eq!(back, vec![1, 2]);
        // A chunk of a partial element is refused.
        let bad = [0xd8, 70, 0x5f, 0x43, 1, 0, 0, 0xff];
        assert!(crate::state::decode_slice(&bad).is_err());
    }
}
