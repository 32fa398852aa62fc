//! Image round trips, every read error kind, corruption fuzzing and crash safety.

use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::*;
use crate::state::{Encoder, Limits, Loader, Value};
use crate::Error;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ckpt-image-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
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
fn write_sample(path: &Path, data: &[f64]) -> Result<u64, Error> {
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
    let d = tmpdir("rt");
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
    assert_eq!(names, ["header", "frames", "components"]);
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
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bulk_image_is_close_to_raw_size() {
    let d = tmpdir("size");
    let p = d.join("big.ckpt");
    let data = vec![1.25f64; 1 << 17]; // 1 MiB
    let n = write_sample(&p, &data).unwrap();
    let raw = (data.len() * 8) as f64;
    assert!((n as f64) < raw * 1.01, "{n} bytes for {raw} raw");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn failed_write_leaves_the_previous_image() {
    let d = tmpdir("crash");
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
    let leftovers: Vec<_> = fs::read_dir(&d)
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
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn write_into_a_missing_directory_is_an_io_error() {
    let p = std::env::temp_dir().join("ckpt-no-such-dir-xyz/app.ckpt");
    assert!(matches!(write_sample(&p, &[]), Err(Error::Io { .. })));
}

fn read_bytes(d: &Path, bytes: &[u8]) -> Result<Image, Error> {
    let p = d.join("x.ckpt");
    fs::write(&p, bytes).unwrap();
    read(&p, &Limits::default())
}

#[test]
fn every_read_error_has_its_kind() {
    let d = tmpdir("kinds");
    let p = d.join("ok.ckpt");
    write_sample(&p, &[1.0, 2.0]).unwrap();
    let good = fs::read(&p).unwrap();

    assert!(matches!(
        read(&d.join("missing"), &Limits::default()),
        Err(Error::Io { .. })
    ));
    assert!(matches!(read_bytes(&d, b""), Err(Error::NotAnImage { .. })));
    assert!(matches!(
        read_bytes(&d, b"#!/bin/sh\necho hi\n"),
        Err(Error::NotAnImage { .. })
    ));
    assert!(matches!(
        read_bytes(&d, b"CK"),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        read_bytes(&d, &good[..20]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        read_bytes(&d, &good[..good.len() - 1]),
        Err(Error::Truncated { .. })
    ));

    let mut v = good.clone();
    v[4] = 9;
    assert!(matches!(
        read_bytes(&d, &v),
        Err(Error::UnsupportedVersion {
            found: 9,
            supported: 1,
            ..
        })
    ));

    let mut v = good.clone();
    let mid = 8 + (good.len() - 32) / 2;
    v[mid] ^= 0x10;
    match read_bytes(&d, &v) {
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
    match read_bytes(&d, &bad_body(&body)) {
        Err(Error::Corrupt { section, .. }) => assert_eq!(section, "header"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_bytes(&d, &bad_body(&[0x01])),
        Err(Error::Corrupt { .. })
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
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bit_flips_and_truncations_never_panic() {
    let d = tmpdir("fuzz");
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
    fs::remove_dir_all(&d).unwrap();
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
    let v = Value::Map(vec![(Value::Text("k".into()), Value::Nint(4))]);
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.value(&v).unwrap();
    e.finish().unwrap();
    assert_eq!(crate::state::decode_slice(&out).unwrap().0, v);
}
