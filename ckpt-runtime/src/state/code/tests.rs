//! Code pointers: identity, offsets, the identity check, `fn` pointers in values and images.

use super::*;
use crate::state::{decode_slice, from_slice, to_vec, SharedTable};

fn double(x: u32) -> u32 {
    x * 2
}

fn add3(a: u8, b: u8, c: u8) -> u16 {
    a as u16 + b as u16 + c as u16
}

fn six(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> u8 {
    a ^ b ^ c ^ d ^ e ^ f
}

fn answer() -> &'static str {
    "42"
}

/// A loader over values of an image written by `exe`.
fn loader_of(exe: Option<&str>) -> Loader {
    Loader::new(SharedTable::of_image(Vec::new(), exe.map(str::to_string)))
}

#[test]
fn the_running_executable_has_an_identity() {
    let id = identity().expect("the test binary has a build-id or a readable file");
    assert!(
        id.starts_with("build-id:") || id.starts_with("xxh3:"),
        "{id}"
    );
    assert_eq!(identity(), Some(id), "computed once");
    // Code ranges are known on Linux, and hold the functions of this executable.
    if cfg!(target_os = "linux") {
        assert!(address_in_code(double as fn(u32) -> u32 as usize).is_ok());
        let heap = Box::new(0u64);
        assert!(address_in_code(&*heap as *const u64 as usize).is_err());
    }
}

#[test]
fn build_id_notes_are_found() {
    // Two notes: an ABI tag, then the build-id, each name and descriptor padded to 4.
    let mut notes = Vec::new();
    for (ty, name, desc) in [
        (1u32, &b"GNU\0"[..], &[0u8, 0, 0, 0, 3, 0, 0, 0][..]),
        (3, b"GNU\0", &[0xab, 0xcd, 0xef]),
    ] {
        notes.extend((name.len() as u32).to_ne_bytes());
        notes.extend((desc.len() as u32).to_ne_bytes());
        notes.extend(ty.to_ne_bytes());
        notes.extend(name);
        notes.extend(desc);
        notes.resize(notes.len().next_multiple_of(4), 0);
    }
    assert_eq!(
        sys::find_note(&notes, 3, b"GNU\0"),
        Some(&[0xab, 0xcd, 0xef][..])
    );
    assert_eq!(sys::find_note(&notes, 3, b"XYZ\0"), None);
    assert_eq!(sys::find_note(&notes[..20], 3, b"GNU\0"), None);
    assert_eq!(sys::find_note(&[0xff; 40], 3, b"GNU\0"), None);
}

#[test]
fn offsets_round_trip_in_the_same_executable() {
    let l = loader_of(identity());
    for addr in [
        double as fn(u32) -> u32 as usize,
        add3 as fn(u8, u8, u8) -> u16 as usize,
        answer as fn() -> &'static str as usize,
        anchor_addr(),
    ] {
        assert_eq!(from_offset(to_offset(addr), &l).unwrap(), addr);
    }
    assert_eq!(to_offset(anchor_addr()), 0);
}

#[test]
fn code_of_another_executable_is_refused() {
    let addr = double as fn(u32) -> u32 as usize;
    let l = loader_of(Some("build-id:00dead00"));
    match from_offset(to_offset(addr), &l) {
        Err(e @ Error::ForeignCode { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("written by another executable"), "{msg}");
            assert!(msg.contains("build-id:00dead00"), "{msg}");
            assert!(
                msg.contains("restore it with the binary that wrote it"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An image that does not say (written before ckpt recorded it), or no image at all.
    assert!(matches!(
        from_offset(0, &loader_of(None)),
        Err(Error::ForeignCode { .. })
    ));
    assert!(matches!(
        from_offset(0, &Loader::default()),
        Err(Error::ForeignCode { .. })
    ));
}

#[test]
fn function_pointers_round_trip_and_can_be_called() {
    let f: fn(u32) -> u32 = double;
    let back: fn(u32) -> u32 = from_slice(&to_vec(&f).unwrap()).unwrap();
    assert_eq!(back(21), 42);
    let g: fn(u8, u8, u8) -> u16 = add3;
    assert_eq!(
        from_slice::<fn(u8, u8, u8) -> u16>(&to_vec(&g).unwrap()).unwrap()(1, 2, 3),
        6
    );
    let h: fn(u8, u8, u8, u8, u8, u8) -> u8 = six;
    let h = from_slice::<fn(u8, u8, u8, u8, u8, u8) -> u8>(&to_vec(&h).unwrap()).unwrap();
    assert_eq!(h(1, 2, 4, 8, 16, 32), 63);
    let table: Vec<Option<fn() -> &'static str>> = vec![Some(answer), None, Some(|| "closure")];
    let back: Vec<Option<fn() -> &'static str>> = from_slice(&to_vec(&table).unwrap()).unwrap();
    let called: Vec<_> = back.iter().map(|f| f.map(|f| f())).collect();
    assert_eq!(called, [Some("42"), None, Some("closure")]);
}

#[test]
fn standalone_values_carry_the_identity() {
    let f: fn(u32) -> u32 = double;
    let bytes = to_vec(&f).unwrap();
    let (v, _) = decode_slice(&bytes).unwrap();
    let Value::Tag(TAG, inner) = &v else {
        panic!("{v:?}")
    };
    let Value::Array(items) = &**inner else {
        panic!("{v:?}")
    };
    assert_eq!(items[1].as_str(), identity());
    // The same offset claimed by another executable is refused.
    let mut forged = Vec::new();
    let mut e = Encoder::new(&mut forged);
    e.tag(TAG);
    e.array(2);
    e.int(to_offset(double as fn(u32) -> u32 as usize) as i64);
    e.text("build-id:0123");
    e.finish().unwrap();
    assert!(matches!(
        from_slice::<fn(u32) -> u32>(&forged),
        Err(Error::ForeignCode { .. })
    ));
    // Not a code pointer at all.
    assert!(matches!(
        from_slice::<fn()>(&to_vec(&7u8).unwrap()),
        Err(Error::Type { .. })
    ));
}

#[test]
fn code_outside_the_executable_is_unsaveable() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let not_code = Box::new(0u8);
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    let r = save_address(&*not_code as *const u8 as usize, &mut e);
    assert!(matches!(r, Err(Error::Unsaveable { .. })), "{r:?}");
}

// ---- Through images ---------------------------------------------------------------------

mod images {
    use std::fs;
    use std::path::Path;

    use super::*;
    use crate::image::{self, Fingerprint, Header, Limits, END_MAGIC, FORMAT_VERSION, MAGIC};

    /// Two function pointers, one of them optional.
    type Pair = (fn(u32) -> u32, Option<fn() -> &'static str>);

    /// A directory for the images of one test, removed on drop.
    fn tmpdir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("ckpt-code-{name}-"))
            .tempdir()
            .unwrap()
    }

    fn header() -> Header {
        Header {
            format: FORMAT_VERSION,
            fingerprint: Fingerprint::default(),
            created_unix: 0,
            program: "app".into(),
            args: Vec::new(),
            ckpt_file: None,
            options: Vec::new(),
        }
    }

    /// An image whose only component `c` is `value`, written by this process.
    fn write_component(path: &Path, value: &dyn Fn(&mut Encoder<'_>) -> Result<(), Error>) {
        image::write(
            path,
            &header(),
            &mut |e: &mut Encoder<'_>| {
                e.array(0);
                Ok(())
            },
            &mut |e: &mut Encoder<'_>| {
                e.map(1);
                e.text("c");
                value(e)
            },
        )
        .unwrap();
    }

    /// Writes an image file around `body` (prefix, trailer, checksum).
    fn image_of(path: &Path, body: &[u8]) {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&(body.len() as u64).to_le_bytes());
        v.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
        v.extend_from_slice(END_MAGIC);
        fs::write(path, v).unwrap();
    }

    /// A body with component `c` = `value`, whose header names `exe` (`None`: a header
    /// of an image written before the field existed).
    fn body_as(exe: Option<&str>, value: &dyn Fn(&mut Encoder<'_>)) -> Vec<u8> {
        let mut body = Vec::new();
        let mut e = Encoder::new(&mut body);
        e.set_exe_in_header();
        e.map(4);
        e.text("header");
        match exe {
            Some(id) => image::write_header_as(&mut e, &header(), Some(id)),
            None => {
                // The 7 fields of the first header layout.
                let mut old = Vec::new();
                let mut h = Encoder::new(&mut old);
                image::write_header_as(&mut h, &header(), None);
                h.finish().unwrap();
                let (Value::Map(mut fields), _) = decode_slice(&old).unwrap() else {
                    unreachable!()
                };
                fields.retain(|(k, _)| k.as_str() != Some("exe"));
                e.value(&Value::Map(fields)).unwrap();
            }
        }
        e.text("frames");
        e.array(0);
        e.text("components");
        e.map(1);
        e.text("c");
        value(&mut e);
        e.text("heap");
        e.map(0);
        e.finish().unwrap();
        body
    }

    fn component(img: image::Image) -> (Value, Loader) {
        let v = img.components.into_iter().next().unwrap().1;
        (v, Loader::new(img.shared))
    }

    #[test]
    fn images_name_their_executable_and_restore_its_code_pointers() {
        let dir = tmpdir("same");
        let d = dir.path();
        let p = d.join("a.ckpt");
        let fs_: Pair = (double, Some(answer));
        write_component(&p, &|e| e.put(&fs_));
        let img = image::read(&p, &Limits::default()).unwrap();
        assert_eq!(img.exe.as_deref(), identity());
        let (v, mut l) = component(img);
        // In an image the pointer is only the offset: the header names the executable.
        if let Value::Array(items) = &v {
            assert!(
                matches!(&items[0], Value::Tag(TAG, x) if matches!(**x, Value::Uint(_) | Value::Nint(_)))
            );
        }
        let (f, g): Pair = l.load(v).unwrap();
        assert_eq!((f(4), g.map(|g| g())), (8, Some("42")));
    }

    #[test]
    fn an_image_of_another_executable_keeps_everything_but_its_code_pointers() {
        let dir = tmpdir("other");
        let d = dir.path();
        let p = d.join("b.ckpt");
        let off = to_offset(double as fn(u32) -> u32 as usize) as i64;
        let body = body_as(Some("build-id:feedface"), &|e| {
            e.array(2);
            e.put(&String::from("plain data")).unwrap();
            e.tag(TAG);
            e.int(off);
        });
        image_of(&p, &body);
        let img = image::read(&p, &Limits::default()).unwrap();
        assert_eq!(img.exe.as_deref(), Some("build-id:feedface"));
        let (Value::Array(mut items), mut l) = component(img) else {
            unreachable!()
        };
        let code = items.pop().unwrap();
        let data: String = l.load(items.pop().unwrap()).unwrap();
        assert_eq!(data, "plain data");
        match l.load::<fn(u32) -> u32>(code) {
            Err(e @ Error::ForeignCode { .. }) => {
                assert!(e.to_string().contains("build-id:feedface"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn images_without_the_exe_field_still_read() {
        let dir = tmpdir("old");
        let d = dir.path();
        let p = d.join("c.ckpt");
        let body = body_as(None, &|e| e.uint(7));
        image_of(&p, &body);
        let img = image::read(&p, &Limits::default()).unwrap();
        assert_eq!(img.exe, None);
        assert_eq!(image::read_header(&p).unwrap(), header());
        let (v, mut l) = component(img);
        assert_eq!(l.load::<u64>(v).unwrap(), 7);
        // A code pointer in such an image cannot be trusted.
        assert!(matches!(
            l.load::<fn()>(Value::Tag(TAG, Box::new(Value::Uint(0)))),
            Err(Error::ForeignCode { .. })
        ));
    }
}
