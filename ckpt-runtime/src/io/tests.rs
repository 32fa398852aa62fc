use std::io::{BufRead, Cursor, Read, Write};

use super::*;
use crate::state::{from_slice, to_vec, Encoder, Loader, State, Value};

/// A reader over owned bytes that is `State` (its position and contents).
#[derive(Debug)]
struct Mem(Cursor<Vec<u8>>);

impl Read for Mem {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(out)
    }
}

impl Write for Mem {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl State for Mem {
    fn save(&self, e: &mut Encoder<'_>) -> crate::Result<()> {
        (self.0.get_ref().clone(), self.0.position()).save(e)
    }
    fn load(v: Value, l: &mut Loader) -> crate::Result<Self> {
        let (bytes, pos): (Vec<u8>, u64) = State::load(v, l)?;
        let mut c = Cursor::new(bytes);
        c.set_position(pos);
        Ok(Mem(c))
    }
}

fn mem(s: &str) -> Mem {
    Mem(Cursor::new(s.as_bytes().to_vec()))
}

#[test]
fn bufreader_keeps_its_buffered_bytes() {
    let mut r = BufReader::with_capacity(16, mem("alpha\nbeta\ngamma\ndelta\n"));
    let mut first = String::new();
    r.read_line(&mut first).unwrap();
    assert_eq!(r.buffer(), b"beta\ngamma");
    let back: BufReader<Mem> = from_slice(&to_vec(&r).unwrap()).unwrap();
    assert_eq!(back.capacity(), 16);
    let rest: Vec<String> = back.lines().map(Result::unwrap).collect();
    assert_eq!(rest, ["beta", "gamma", "delta"]);
}

#[test]
fn lines_split_and_bytes_resume_where_they_were() {
    let mut lines = BufReader::new(mem("a\r\nb\nc")).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "a");
    let mut lines: Lines<BufReader<Mem>> = from_slice(&to_vec(&lines).unwrap()).unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "b");
    assert_eq!(lines.next().unwrap().unwrap(), "c");
    assert!(lines.next().is_none());

    let mut split = BufReader::new(mem("x,y,z")).split(b',');
    assert_eq!(split.next().unwrap().unwrap(), b"x");
    let split: Split<BufReader<Mem>> = from_slice(&to_vec(&split).unwrap()).unwrap();
    let rest: Vec<Vec<u8>> = split.map(Result::unwrap).collect();
    assert_eq!(rest, [b"y".to_vec(), b"z".to_vec()]);

    let mut bytes = BufReader::new(mem("pq")).bytes();
    assert_eq!(bytes.next().unwrap().unwrap(), b'p');
    let mut bytes: Bytes<BufReader<Mem>> = from_slice(&to_vec(&bytes).unwrap()).unwrap();
    assert_eq!(bytes.next().unwrap().unwrap(), b'q');
    assert!(bytes.next().is_none());
}

#[test]
fn bufwriter_keeps_unflushed_bytes() {
    let mut w = BufWriter::with_capacity(64, Mem(Cursor::new(Vec::new())));
    w.write_all(b"flushed ").unwrap();
    w.flush().unwrap();
    w.write_all(b"pending").unwrap();
    assert_eq!(w.get_ref().0.get_ref(), b"flushed ");
    let bytes = to_vec(&w).unwrap();
    let mut back: BufWriter<Mem> = from_slice(&bytes).unwrap();
    assert_eq!(back.buffer(), b"pending");
    back.flush().unwrap();
    assert_eq!(back.get_ref().0.get_ref(), b"flushed pending");
}

#[test]
fn bufwriter_writes_large_chunks_through_and_flushes_on_drop() {
    let mut out = Vec::new();
    {
        let mut w = BufWriter::with_capacity(4, &mut out);
        w.write_all(b"ab").unwrap();
        w.write_all(b"0123456789").unwrap();
        w.write_all(b"c").unwrap();
    }
    assert_eq!(out, b"ab0123456789c");
}

#[test]
fn bufreader_reads_like_std() {
    let text = "line one\nline two\n\nlast";
    let ours: Vec<String> = BufReader::with_capacity(3, text.as_bytes())
        .lines()
        .map(Result::unwrap)
        .collect();
    let std: Vec<String> = std::io::BufReader::with_capacity(3, text.as_bytes())
        .lines()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ours, std);
    let mut all = String::new();
    BufReader::with_capacity(2, text.as_bytes())
        .read_to_string(&mut all)
        .unwrap();
    assert_eq!(all, text);
}

#[test]
fn into_inner_gives_the_writer_back_with_the_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = BufWriter::new(Full);
    w.write_all(b"pending").unwrap();
    let e = w.into_inner().err().expect("the flush fails");
    assert_eq!(e.error().to_string(), "disk full");
    let (err, w) = e.into_parts();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    assert_eq!(w.buffer(), b"pending");
    std::mem::forget(w);
}
