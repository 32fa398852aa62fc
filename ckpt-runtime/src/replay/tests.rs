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
    v.extend(1u32.to_le_bytes());
    std::fs::write(&p, &v).unwrap();
    let e = log::read(&p).unwrap_err().to_string();
    assert!(e.contains("no header"), "{e}");
}
