use super::log::{self, Kind, LogHeader, Payload, Writer};

fn header() -> LogHeader {
    LogHeader {
        program: "app".into(),
        args: vec!["app".into(), "7".into()],
        sources: "abc".into(),
        first: 0,
        image: String::new(),
        image_stamp: String::new(),
        id: String::new(),
        exe: String::new(),
    }
}

fn write_log(path: &std::path::Path, events: u64) {
    let mut w = Writer::create(path, &header()).unwrap();
    for i in 0..events {
        let v = if i % 2 == 0 {
            Payload::Uint(i * 1000)
        } else {
            Payload::Bytes(vec![i as u8; (i % 7) as usize])
        };
        w.push(Kind::Monotonic, i % 3, &v).unwrap();
        if i % 10 == 9 {
            w.flush().unwrap();
        }
    }
    w.flush().unwrap();
}

#[test]
fn big_chunks_are_compressed_and_read_back_the_same() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    let mut w = Writer::create(&p, &header()).unwrap();
    for i in 0..5000u64 {
        // Clock readings a few microseconds apart, as a recorded loop makes them.
        w.push(
            Kind::Monotonic,
            0,
            &Payload::Uint(21_931_076_915_362 + i * 1_700),
        )
        .unwrap();
    }
    w.flush().unwrap();
    let l = log::read(&p).unwrap();
    assert_eq!(l.events.len(), 5000);
    assert_eq!(
        l.events[4999].value,
        Payload::Uint(21_931_076_915_362 + 4999 * 1_700)
    );
    let raw = 5000 * 13;
    let size = std::fs::metadata(&p).unwrap().len();
    assert!(size < raw * 3 / 4, "{size} bytes for {raw} bytes of events");
}

#[test]
fn a_log_reads_back_its_header_and_events_in_order() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    write_log(&p, 35);
    let l = log::read(&p).unwrap();
    assert_eq!(l.header, header());
    assert_eq!(l.events.len(), 35);
    assert_eq!(l.torn, 0);
    for (i, e) in l.events.iter().enumerate() {
        assert_eq!(e.n, i as u64);
        assert_eq!(e.digest, i as u64 % 3);
    }
    assert_eq!(l.events[4].value, Payload::Uint(4000));
    assert_eq!(l.events[5].value, Payload::Bytes(vec![5; 5]));
}

#[test]
fn a_torn_tail_is_cut_at_every_length_and_never_misread() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    write_log(&p, 30);
    let full = std::fs::read(&p).unwrap();
    let whole = log::read(&p).unwrap().events;
    let cut = d.path().join("cut.log");
    // Every length from the end of the header chunk on: the events read are a prefix of
    // the whole log's, and whatever was cut is reported.
    let header_len = u32::from_le_bytes(full[12..16].try_into().unwrap()) as usize;
    let mut seen_torn = 0;
    for len in 24 + header_len..full.len() {
        std::fs::write(&cut, &full[..len]).unwrap();
        let l = log::read(&cut).unwrap();
        assert_eq!(l.events[..], whole[..l.events.len()], "at {len}");
        assert!(l.torn < len as u64, "at {len}");
        seen_torn += usize::from(l.torn > 0);
    }
    assert!(seen_torn > 0);
}

#[test]
fn a_damaged_chunk_before_valid_ones_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    write_log(&p, 30);
    let mut bytes = std::fs::read(&p).unwrap();
    // Inside the first chunk of events (after the 12-byte start and the header chunk).
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let at = 12 + 12 + header_len + 12 + 3;
    bytes[at] ^= 0x10;
    std::fs::write(&p, &bytes).unwrap();
    let e = log::read(&p).unwrap_err().to_string();
    assert!(e.contains("damaged") && e.contains("more follow"), "{e}");
}

#[test]
fn not_a_log_and_empty_files_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.log");
    for bytes in [
        &b""[..],
        b"CKPT\x01\0\0\0",
        b"hello, this is not a log at all",
    ] {
        std::fs::write(&p, bytes).unwrap();
        let e = log::read(&p).unwrap_err().to_string();
        assert!(e.contains("not a ckpt input log"), "{e}");
    }
    let mut v = log::LOG_MAGIC.to_vec();
    v.extend(log::LOG_VERSION.to_le_bytes());
    std::fs::write(&p, &v).unwrap();
    let e = log::read(&p).unwrap_err().to_string();
    assert!(e.contains("no header"), "{e}");
    // Another version of the format is named, with the version this build reads.
    v[8..12].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&p, &v).unwrap();
    let e = log::read(&p).unwrap_err().to_string();
    assert!(
        e.contains("log format version 1; this build reads version 2"),
        "{e}"
    );
}

/// A small deterministic generator for the fuzzing below.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The chunks of a log: (offset of the length field, payload length).
fn chunks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut at = 12;
    let mut out = Vec::new();
    while at + 12 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push((at, len));
        at += 12 + len;
    }
    out
}

#[test]
fn fuzzed_logs_are_read_or_refused_with_a_typed_error_never_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    write_log(&p, 60);
    let good = std::fs::read(&p).unwrap();
    let whole = log::read(&p).unwrap().events;
    let bad = d.path().join("bad.log");
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut refused = 0;
    for round in 0..3000 {
        let mut b = good.clone();
        let cs = chunks(&b);
        // Mutate inside a payload and give it a valid checksum again, so the event
        // parser (not only the checksum) meets the damage.
        let (at, len) = cs[(rng.next() as usize) % cs.len()];
        if len == 0 {
            continue;
        }
        let payload = at + 12..at + 12 + len;
        for _ in 0..1 + rng.next() % 4 {
            let i = payload.start + (rng.next() as usize) % len;
            match rng.next() % 3 {
                0 => b[i] ^= 1 << (rng.next() % 8),
                1 => b[i] = rng.next() as u8,
                _ => b[i] = [0x1b, 0xff, 0x5f, 0x9f, 0x00][(rng.next() % 5) as usize],
            }
        }
        let sum = log::xxh3(&b[payload.clone()]);
        b[at + 4..at + 12].copy_from_slice(&sum.to_le_bytes());
        if round % 3 == 0 {
            b.truncate(payload.start + (rng.next() as usize) % len);
        }
        std::fs::write(&bad, &b).unwrap();
        match log::read(&bad) {
            Ok(l) => {
                // Whatever reads must be well-numbered events.
                for (i, e) in l.events.iter().enumerate() {
                    assert_eq!(e.n, l.header.first + i as u64, "round {round}");
                }
                if l.events.len() <= whole.len() && l.header == header() {
                    continue;
                }
            }
            Err(crate::Error::BadLog { .. }) => refused += 1,
            Err(e) => panic!("round {round}: not a typed log error: {e}"),
        }
    }
    assert!(
        refused > 100,
        "only {refused} of the fuzzed logs were refused"
    );
}

#[test]
fn an_appended_log_cuts_its_torn_tail_and_numbers_on() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    write_log(&p, 20);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(&[7, 0, 0, 0, 1, 2]);
    std::fs::write(&p, &bytes).unwrap();
    let l = log::read(&p).unwrap();
    assert_eq!(l.torn, 6);
    let mut w = Writer::append(&p, &l).unwrap();
    assert_eq!(w.next, 20);
    w.push(Kind::Stdin, 9, &Payload::Bytes(b"more".to_vec()))
        .unwrap();
    w.flush().unwrap();
    let l = log::read(&p).unwrap();
    assert_eq!((l.events.len(), l.torn), (21, 0));
    assert_eq!(l.events[20].value, Payload::Bytes(b"more".to_vec()));
}

#[test]
fn a_restart_at_a_mark_keeps_the_events_pushed_after_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run.log");
    let mut w = Writer::create(&p, &header()).unwrap();
    for i in 0..5 {
        w.push(Kind::Monotonic, 0, &Payload::Uint(i)).unwrap();
    }
    w.mark();
    w.push(Kind::Released, 1, &Payload::Uint(77)).unwrap();
    w.restart().unwrap();
    w.push(Kind::Monotonic, 0, &Payload::Uint(6)).unwrap();
    w.flush().unwrap();
    let l = log::read(&p).unwrap();
    assert_eq!(l.header.first, 5);
    let got: Vec<(u64, Kind)> = l.events.iter().map(|e| (e.n, e.kind)).collect();
    assert_eq!(
        got,
        [(5, Kind::Released), (6, Kind::Monotonic)],
        "the event pushed during the save survives the restart"
    );
}
