//! What read errors say: a damaged byte is corruption, never a foreign file, a cut-off
//! write or another ckpt version, and damaged bytes are never shown as names.

use std::fs;

use super::super::*;
use super::{read_bytes, tmpdir, write_sample};
use crate::state::Limits;
use crate::Error;

/// A flipped bit anywhere (prefix, body, trailer) is reported as corruption: never as a
/// foreign file, a cut-off write or an image of another ckpt version, and never with the
/// damaged bytes shown as a name.
#[test]
fn every_flipped_bit_is_called_corruption() {
    let dir = tmpdir("flips");
    let d = dir.path();
    let p = d.join("ok.ckpt");
    write_sample(&p, &[0.5, 1.5]).unwrap();
    let good = fs::read(&p).unwrap();
    let q = d.join("bad.ckpt");
    for i in 0..good.len() {
        for b in 0..8 {
            let mut v = good.clone();
            v[i] ^= 1 << b;
            fs::write(&q, &v).unwrap();
            let e = read(&q, &Limits::default()).unwrap_err();
            let m = e.to_string();
            assert!(
                matches!(e, Error::Corrupt { .. }),
                "bit {b} of byte {i}: {m}"
            );
            assert!(!m.contains("ckpt version that wrote it"), "{m}");
            match read_header(&q) {
                Ok(_) => assert!(i >= 8, "a damaged prefix passed read_header"),
                Err(e) => assert!(
                    matches!(e, Error::Corrupt { .. }),
                    "read_header, bit {b} of byte {i}: {e}"
                ),
            }
        }
    }
}

/// A damaged section key is not shown as a section name, by `read` (checksum first) nor
/// by `read_header` (which checks the checksum when the header does not parse), nor
/// when the checksum was recomputed over the damage.
#[test]
fn damaged_section_keys_are_not_shown_as_names() {
    let dir = tmpdir("keys");
    let d = dir.path();
    let p = d.join("ok.ckpt");
    write_sample(&p, &[0.5]).unwrap();
    let good = fs::read(&p).unwrap();
    let at = good.windows(6).position(|w| w == b"header").unwrap();
    let mut v = good.clone();
    v[at + 1] = b'f';
    let q = d.join("bad.ckpt");
    fs::write(&q, &v).unwrap();
    for e in [
        read(&q, &Limits::default()).unwrap_err(),
        read_header(&q).unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(
            m.contains("checksum mismatch") && !m.contains("hfader"),
            "{m}"
        );
    }
    // The same damage with a checksum that matches it (a bug in a writer, or an edit).
    let body_end = v.len() - TRAILER_LEN as usize;
    let digest = xxhash_rust::xxh3::xxh3_64(&v[8..body_end]);
    v[body_end + 8..body_end + 16].copy_from_slice(&digest.to_le_bytes());
    fs::write(&q, &v).unwrap();
    for e in [
        read(&q, &Limits::default()).unwrap_err(),
        read_header(&q).unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(
            matches!(e, Error::Corrupt { .. }) && !m.contains("hfader"),
            "{m}"
        );
    }
}

/// A foreign file's first bytes are shown escaped, as bytes.
#[test]
fn a_foreign_file_is_shown_as_bytes() {
    let dir = tmpdir("foreign");
    let m = read_bytes(dir.path(), b"\x89PNG\r\n\x1a\n and more")
        .unwrap_err()
        .to_string();
    assert!(m.contains(r#"b"\x89PNG""#), "{m}");
}
