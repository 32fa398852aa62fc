//! The input log's file format: what a recorded run received from the operating system,
//! one event per result, in the order the program received them.
//!
//! ```text
//! b"CKPTLOG\0"  version u32 LE
//! chunk*        stored length u32 LE, xxh3-64 of the stored bytes u64 LE, stored bytes
//! stored bytes  codec u8 (0: the payload as is; 1: an LZ4 block, its payload length
//!               first as u32 LE), then the payload in that form
//! ```
//!
//! Chunks of events of 1 KiB or more are compressed when that makes them smaller (clock
//! readings and hashes shrink to about half); the checksum covers the stored bytes, so a
//! torn or damaged chunk is found before anything is decompressed.
//!
//! The first chunk's payload is the header, a CBOR map `{"program": text, "args": [text],
//! "sources": text, "first": uint, "image": text, "image_stamp": text}` (`first`: the
//! number of the log's first event, 0 unless the events before an image were dropped,
//! `--ckpt-log-keep=last`; `image`: the image a restored run recorded from, empty for a
//! run recorded from its start); every later payload is a CBOR array of events, each the array
//! `[n, kind, digest, value]` or `[n, kind, digest, value, site]`: `n` the event's number (0, 1, 2, ... over the whole log),
//! `kind` a [`Kind`] code, `digest` a digest of the call's arguments (the length asked
//! for, say), `value` what the program got (an unsigned integer, or a byte string; an
//! error is the map `{"err": kind code}`), `site` where in the program the call was made:
//! the text `file:line:column` the first time a site appears (it gets the next site
//! number, from 0), the site's number afterwards. A payload that is a CBOR map
//! `{"sites": [text]}` defines sites in bulk (a log that starts again at an image,
//! `--ckpt-log-keep=last`, begins with the sites defined before).
//!
//! The log is only appended to, a chunk at a time with one `write`. A process killed while
//! writing leaves a torn last chunk: [`read`] detects it (length or checksum) and stops
//! there, reporting how many bytes it cut; a damaged chunk followed by valid ones is
//! corruption, never read past.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::panic::Location;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::state::{decode_slice, Encoder, Value};

/// The magic bytes that open every log.
pub const LOG_MAGIC: &[u8; 8] = b"CKPTLOG\0";
/// The log format version this build writes and reads.
pub const LOG_VERSION: u32 = 2;
/// Payloads at least this long are compressed (when that makes them smaller).
const COMPRESS_FROM: usize = 1024;
const RAW: u8 = 0;
const LZ4: u8 = 1;
/// Chunks are written when this many bytes of events are pending (and at every flush).
const CHUNK: usize = 64 << 10;
/// A chunk claiming more than this is damaged.
const MAX_CHUNK: u32 = 64 << 20;

/// What kind of result an event holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A reading of the monotonic clock, in nanoseconds.
    Monotonic = 1,
    /// A reading of the wall clock, in nanoseconds since the Unix epoch.
    Wall = 2,
    /// Bytes from the kernel's random number generator.
    Random = 3,
    /// Bytes read from standard input (empty at its end).
    Stdin = 4,
    /// Not an input: standard output released up to this position (the digest is the
    /// stream, 1; the value the number of bytes that had left the process, counted from
    /// the run's start). A recovery suppresses that much of the replayed output.
    Released = 5,
    /// A file opened: checked, not fed (the digest is the path's and options'; the value
    /// 0, or 1 + the error's code). A replay opens the file itself and stops if the
    /// outcome differs.
    Open = 6,
    /// Bytes read from a file: checked, not fed (the digest is the length asked for; the
    /// value a hash of the bytes read). A replay reads the file itself and stops if the
    /// bytes differ: the file is logged as a reference, not copied into the log.
    FileRead = 7,
    /// An environment variable read (the digest is its name's hash; the value its bytes,
    /// or the `NotFound` error when it is not set; the whole environment, digest
    /// `u64::MAX`: `name\0value\0` for each variable). Secrets
    /// (`ckpt::env::secret_var`) are never logged.
    Env = 8,
    /// A file's metadata: checked, not fed (the digest is the path's; the value a hash
    /// of its type and length, or 1 + the error's code).
    Metadata = 9,
    /// A directory listing: checked, not fed (the digest is the path's; the value a hash
    /// of the names in it, sorted, or 1 + the error's code).
    Dir = 10,
    /// Not an input: the recorded run's `main` returned here (the value 0 on success,
    /// 1 otherwise). A log that ends with it is not recovered: its run is over.
    End = 11,
    /// At a save point: a digest of the program's variables there (the digest is the save
    /// point's number). A replay computes it again at the same save point and stops if it
    /// differs: the state diverged before any output showed it.
    Variables = 12,
    /// A frame the network stack received from its device (TAP): the bytes, or the
    /// `WouldBlock` error when none was waiting (the digest is the buffer's length).
    Frame = 13,
    /// Not an input: the network stack has sent this many frames since the run's start
    /// (the value). A recovery sends only the frames after them again.
    Sent = 14,
    /// An input event of the graphics engine's display (a key, the mouse, the window
    /// resized or closed): its one-line text form, or the `WouldBlock` error when none
    /// was waiting (the digest is the buffer's length).
    Event = 15,
}

impl Kind {
    /// Every kind, by code.
    pub const ALL: &'static [Kind] = &[
        Kind::Monotonic,
        Kind::Wall,
        Kind::Random,
        Kind::Stdin,
        Kind::Released,
        Kind::Open,
        Kind::FileRead,
        Kind::Env,
        Kind::Metadata,
        Kind::Dir,
        Kind::End,
        Kind::Variables,
        Kind::Frame,
        Kind::Sent,
        Kind::Event,
    ];

    /// Its one-word name (`cargo ckpt log --kind`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::Monotonic => "monotonic",
            Kind::Wall => "wall",
            Kind::Random => "random",
            Kind::Stdin => "stdin",
            Kind::Released => "output",
            Kind::Open => "open",
            Kind::FileRead => "read",
            Kind::Env => "env",
            Kind::Metadata => "metadata",
            Kind::Dir => "dir",
            Kind::End => "end",
            Kind::Variables => "state",
            Kind::Frame => "frame",
            Kind::Sent => "sent",
            Kind::Event => "event",
        }
    }

    /// The kind with code `c`.
    pub fn from_code(c: u64) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| *k as u64 == c)
    }

    /// Its name, for messages and `cargo ckpt log`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Monotonic => "monotonic clock",
            Kind::Wall => "wall clock",
            Kind::Random => "random bytes",
            Kind::Stdin => "stdin read",
            Kind::Released => "output released",
            Kind::Open => "file open",
            Kind::FileRead => "file read",
            Kind::Env => "environment read",
            Kind::Metadata => "file metadata",
            Kind::Dir => "directory listing",
            Kind::End => "end of the run",
            Kind::Variables => "state digest",
            Kind::Frame => "network frame",
            Kind::Sent => "frames sent",
            Kind::Event => "display event",
        }
    }
}

/// One result handed to the program.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its number in the log.
    pub n: u64,
    /// What kind of result.
    pub kind: Kind,
    /// A digest of the call's arguments.
    pub digest: u64,
    /// Where in the program the call was made: an index into [`Log::sites`].
    pub site: Option<u32>,
    /// The result.
    pub value: Payload,
}

/// An event's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A number (clock readings).
    Uint(u64),
    /// Bytes (random bytes, bytes read).
    Bytes(Vec<u8>),
    /// The call failed with this `std::io::ErrorKind` (its position in a fixed list: `Other`,
    /// `NotFound`, `PermissionDenied`, `BrokenPipe`, `WouldBlock`, `InvalidInput`,
    /// `InvalidData`, `UnexpectedEof`).
    Err(u64),
}

/// The error kinds a logged call may return, by position.
pub(crate) const ERROR_KINDS: &[std::io::ErrorKind] = &[
    std::io::ErrorKind::Other,
    std::io::ErrorKind::NotFound,
    std::io::ErrorKind::PermissionDenied,
    std::io::ErrorKind::BrokenPipe,
    std::io::ErrorKind::WouldBlock,
    std::io::ErrorKind::InvalidInput,
    std::io::ErrorKind::InvalidData,
    std::io::ErrorKind::UnexpectedEof,
];

/// The log's first chunk: which run it records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogHeader {
    /// The program's name.
    pub program: String,
    /// The arguments of the recorded run, `argv[0]` first.
    pub args: Vec<String>,
    /// The build's source fingerprint.
    pub sources: String,
    /// The number of the log's first event (events before it were dropped).
    pub first: u64,
    /// The image the recorded run was restored from (`--restore IMG --ckpt-record LOG`),
    /// or empty for a run recorded from its start.
    pub image: String,
    /// That image's creation time and sequence number (`created:seq`), which tell it from
    /// a later image written to the same path.
    pub image_stamp: String,
    /// The log's identity (random, hex): images written while recording name it, so a
    /// recovery knows the log continues them.
    pub id: String,
    /// The absolute path of the recorded executable (`cargo ckpt replay` runs it).
    pub exe: String,
}

/// Appends events to a log file.
pub(crate) struct Writer {
    file: File,
    path: PathBuf,
    pending: Vec<u8>,
    count: u64,
    /// The next event's number.
    pub next: u64,
    header: LogHeader,
    sync: bool,
    /// The thread that writes full chunks (started with the first).
    bg: Option<Background>,
    /// Chunks were written since the last `fdatasync` of `commit`.
    unsynced: bool,
    /// Bytes of events pushed so far (over restarts).
    pushed: u64,
    /// The call sites defined in this file so far, by the address of their location
    /// (a cache) and by their text.
    site_ids: crate::state::FixedMap<(usize, u32, u32), u32>,
    site_names: crate::state::FixedMap<String, u32>,
    /// The last site pushed, and its number.
    last_site: Option<(&'static Location<'static>, u32)>,
    /// How many sites were defined at the [`Writer::mark`] (later ones are defined again
    /// by the kept events themselves).
    sites_at_mark: usize,
    /// Since [`Writer::mark`]: the event number marked, and the events pushed since (their
    /// count and encoding), which [`Writer::restart`] keeps.
    since_mark: Option<(u64, u64, Vec<u8>)>,
}

impl Writer {
    /// Creates (truncates) the log at `path` and writes its header.
    pub(crate) fn create(path: &Path, header: &LogHeader) -> Result<Writer, Error> {
        Writer::create_at(path, path, header)
    }

    /// Writes a new log at `tmp` (renamed over `path` by [`Writer::restart`]).
    fn create_at(tmp: &Path, path: &Path, header: &LogHeader) -> Result<Writer, Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(tmp)
            .map_err(|e| Error::io("creating log", tmp, e))?;
        let mut start = LOG_MAGIC.to_vec();
        start.extend(LOG_VERSION.to_le_bytes());
        file.write_all(&start)
            .map_err(|e| Error::io("writing log", path, e))?;
        let mut w = Writer {
            file,
            path: path.into(),
            pending: Vec::new(),
            count: 0,
            next: header.first,
            header: header.clone(),
            sync: false,
            bg: None,
            unsynced: false,
            pushed: 0,
            site_ids: Default::default(),
            site_names: Default::default(),
            last_site: None,
            sites_at_mark: 0,
            since_mark: None,
        };
        let mut payload = Vec::new();
        let mut e = Encoder::new(&mut payload);
        e.map(8);
        e.text("program");
        e.text(&header.program);
        e.text("args");
        e.array(header.args.len() as u64);
        for a in &header.args {
            e.text(a);
        }
        e.text("sources");
        e.text(&header.sources);
        e.text("first");
        e.uint(header.first);
        e.text("image");
        e.text(&header.image);
        e.text("image_stamp");
        e.text(&header.image_stamp);
        e.text("id");
        e.text(&header.id);
        e.text("exe");
        e.text(&header.exe);
        e.finish()?;
        w.write_chunk(&payload)?;
        Ok(w)
    }

    /// Opens the log `log` (read from `path`) to append to it: the torn tail, if any, is
    /// cut, and the next event is the one after its last.
    pub(crate) fn append(path: &Path, log: &Log) -> Result<Writer, Error> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io("opening log", path, e))?;
        file.set_len(log.valid_len)
            .map_err(|e| Error::io("cutting the torn tail of log", path, e))?;
        let mut file = file;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| Error::io("opening log", path, e))?;
        Ok(Writer {
            file,
            path: path.into(),
            pending: Vec::new(),
            count: 0,
            next: log.header.first + log.events.len() as u64,
            header: log.header.clone(),
            sync: false,
            bg: None,
            unsynced: false,
            pushed: 0,
            site_ids: Default::default(),
            site_names: log
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect(),
            last_site: None,
            sites_at_mark: 0,
            since_mark: None,
        })
    }

    /// The header it was created with.
    pub(crate) fn header(&self) -> &LogHeader {
        &self.header
    }

    /// `fdatasync` after every chunk that precedes released output.
    pub(crate) fn set_sync(&mut self, on: bool) {
        self.sync = on;
    }

    /// Flushes, and with `set_sync`, makes the log durable (before output leaves).
    pub(crate) fn commit(&mut self) -> Result<(), Error> {
        self.flush()?;
        if std::mem::take(&mut self.unsynced) && self.sync {
            self.file
                .sync_data()
                .map_err(|e| Error::io("syncing log", &self.path, e))?;
        }
        Ok(())
    }

    /// The number of the site `l` (`Ok`), or its text when this is its first event in the
    /// file (`Err`: the event defines it).
    fn site(&mut self, l: &'static Location<'static>) -> Result<u32, String> {
        // Runs of events from one site (a loop reading the clock) skip the map.
        if let Some((last, id)) = self.last_site {
            if std::ptr::eq(last, l) {
                return Ok(id);
            }
        }
        let key = (l.file().as_ptr() as usize, l.line(), l.column());
        if let Some(id) = self.site_ids.get(&key) {
            self.last_site = Some((l, *id));
            return Ok(*id);
        }
        let name = format!("{}:{}:{}", l.file(), l.line(), l.column());
        if let Some(id) = self.site_names.get(&name) {
            self.site_ids.insert(key, *id);
            return Ok(*id);
        }
        let id = self.site_names.len() as u32;
        self.site_names.insert(name.clone(), id);
        self.site_ids.insert(key, id);
        self.last_site = Some((l, id));
        Err(name)
    }

    /// Bytes of events pushed so far.
    pub(crate) fn pushed_bytes(&self) -> u64 {
        self.pushed
    }

    /// Marks the next event: a [`Writer::restart`] starts the log there, keeping what is
    /// pushed meanwhile.
    pub(crate) fn mark(&mut self) {
        self.since_mark = Some((self.next, 0, Vec::new()));
        self.sites_at_mark = self.site_names.len();
    }

    /// Drops the events before the [`Writer::mark`] (or all written so far): the log
    /// starts again there (an image was written at that event). A new file replaces the old
    /// one by rename, so a kill leaves one or the other, whole.
    pub(crate) fn restart(&mut self) -> Result<(), Error> {
        self.flush()?;
        let (first, count, kept) = self.since_mark.take().unwrap_or((self.next, 0, Vec::new()));
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".new");
        let tmp = self.path.with_file_name(name);
        let header = LogHeader {
            first,
            ..self.header.clone()
        };
        let mut fresh = Writer::create_at(&tmp, &self.path, &header)?;
        fresh.sync = self.sync;
        fresh.pushed = self.pushed;
        // The kept events may name sites defined before the mark by number: the new file
        // defines those first (the kept events define the later ones themselves).
        let before = if count > 0 { self.sites_at_mark } else { 0 };
        if before > 0 {
            let mut sites: Vec<(&String, &u32)> = self
                .site_names
                .iter()
                .filter(|(_, id)| (**id as usize) < before)
                .collect();
            sites.sort_by_key(|(_, id)| **id);
            let mut payload = Vec::new();
            let mut e = Encoder::new(&mut payload);
            e.map(1);
            e.text("sites");
            e.array(sites.len() as u64);
            for (name, _) in &sites {
                e.text(name);
            }
            e.finish()?;
            fresh.write_chunk(&payload)?;
        }
        if count > 0 {
            fresh.site_ids = std::mem::take(&mut self.site_ids);
            fresh.site_names = std::mem::take(&mut self.site_names);
            fresh.last_site = self.last_site;
        }
        if count > 0 {
            fresh.pending = kept;
            fresh.count = count;
            fresh.next = self.next;
            fresh.flush()?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io("replacing log", &self.path, e))?;
        *self = fresh;
        Ok(())
    }

    /// Adds an event (written with the next chunk), with no call site.
    pub(crate) fn push(&mut self, kind: Kind, digest: u64, value: &Payload) -> Result<(), Error> {
        self.push_at(kind, digest, value, None)
    }

    /// Adds an event made at `site` (written with the next chunk).
    pub(crate) fn push_at(
        &mut self,
        kind: Kind,
        digest: u64,
        value: &Payload,
        site: Option<&'static Location<'static>>,
    ) -> Result<(), Error> {
        // Written directly (the hot path of recording): the same CBOR the `Encoder`
        // would write.
        let start = self.pending.len();
        let site = site.map(|l| self.site(l));
        let out = &mut self.pending;
        cbor_head(out, 4, if site.is_some() { 5 } else { 4 });
        cbor_head(out, 0, self.next);
        cbor_head(out, 0, kind as u64);
        cbor_head(out, 0, digest);
        match value {
            Payload::Uint(v) => cbor_head(out, 0, *v),
            Payload::Bytes(b) => {
                cbor_head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Payload::Err(k) => {
                cbor_head(out, 5, 1);
                cbor_head(out, 3, 3);
                out.extend_from_slice(b"err");
                cbor_head(out, 0, *k);
            }
        }
        match site {
            Some(Ok(id)) => cbor_head(out, 0, u64::from(id)),
            Some(Err(name)) => {
                cbor_head(out, 3, name.len() as u64);
                out.extend_from_slice(name.as_bytes());
            }
            None => {}
        }
        self.pushed += (self.pending.len() - start) as u64;
        if let Some((_, count, kept)) = &mut self.since_mark {
            *count += 1;
            kept.extend_from_slice(&self.pending[start..]);
        }
        self.next += 1;
        self.count += 1;
        if self.pending.len() >= CHUNK {
            // A full chunk is compressed and written on the log's own thread: the
            // program goes on meanwhile.
            let payload = self.take_payload()?;
            self.unsynced = true;
            if let Err(payload) = self.background()?.send(payload) {
                self.write_chunk(&payload)?;
            }
        }
        Ok(())
    }

    /// The pending events as one chunk's payload (the array header in front of the
    /// events already encoded); none are pending afterwards.
    fn take_payload(&mut self) -> Result<Vec<u8>, Error> {
        let mut payload = Vec::with_capacity(self.pending.len() + 9);
        let mut e = Encoder::new(&mut payload);
        e.array(self.count);
        e.finish()?;
        payload.extend_from_slice(&self.pending);
        self.pending.clear();
        self.count = 0;
        Ok(payload)
    }

    /// The thread that writes full chunks, started with the first one.
    fn background(&mut self) -> Result<&Background, Error> {
        if self.bg.is_none() {
            let file = self
                .file
                .try_clone()
                .map_err(|e| Error::io("writing log", &self.path, e))?;
            self.bg = Some(Background::start(file));
        }
        Ok(self.bg.as_ref().expect("started above"))
    }

    /// Writes the pending events as one chunk, after the full chunks still on the log's
    /// thread: when this returns, every event pushed is in the file.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        if let Some(bg) = &self.bg {
            bg.wait()
                .map_err(|e| Error::io("writing log", &self.path, e))?;
        }
        if self.count == 0 {
            return Ok(());
        }
        let payload = self.take_payload()?;
        self.write_chunk(&payload)
    }

    fn write_chunk(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.unsynced = true;
        // One write: a kill leaves this chunk whole or torn, and a torn one is cut.
        self.file
            .write_all(&seal(payload))
            .map_err(|e| Error::io("writing log", &self.path, e))
    }
}

/// A chunk ready to write: length, checksum, codec, and the payload, compressed when that
/// makes it smaller.
fn seal(payload: &[u8]) -> Vec<u8> {
    let packed = (payload.len() >= COMPRESS_FROM)
        .then(|| lz4_flex::block::compress_prepend_size(payload))
        .filter(|c| c.len() < payload.len());
    let (codec, body) = match &packed {
        Some(c) => (LZ4, &c[..]),
        None => (RAW, payload),
    };
    let mut chunk = Vec::with_capacity(body.len() + 13);
    chunk.extend((body.len() as u32 + 1).to_le_bytes());
    chunk.extend([0u8; 8]);
    chunk.push(codec);
    chunk.extend_from_slice(body);
    let sum = xxh3(&chunk[12..]);
    chunk[4..12].copy_from_slice(&sum.to_le_bytes());
    chunk
}

/// Chunks sent to the log's thread and not written yet, and its first write error.
type Written = (usize, Option<std::io::Error>);

/// The log's thread: compresses and writes full chunks, in the order they were sent.
struct Background {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Chunks sent and not written yet, and the first write error.
    state: std::sync::Arc<(std::sync::Mutex<Written>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start(mut file: File) -> Background {
        // Two chunks may wait: a program that logs faster than the disk takes it is
        // held up there, with bounded memory.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let state = std::sync::Arc::new((
            std::sync::Mutex::new((0usize, None)),
            std::sync::Condvar::new(),
        ));
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("ckpt-log".into())
            .spawn(move || {
                for payload in rx {
                    let r = file.write_all(&seal(&payload));
                    let (m, cv) = &*st;
                    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
                    g.0 -= 1;
                    if let Err(e) = r {
                        g.1.get_or_insert(e);
                    }
                    cv.notify_all();
                }
            })
            .ok();
        Background {
            tx: thread.is_some().then_some(tx),
            state,
            thread,
        }
    }

    /// Hands `payload` to the thread; gives it back if there is no thread.
    fn send(&self, payload: Vec<u8>) -> Result<(), Vec<u8>> {
        let Some(tx) = &self.tx else {
            return Err(payload);
        };
        let (m, _) = &*self.state;
        m.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
        tx.send(payload).map_err(|e| {
            m.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
            e.0
        })
    }

    /// Waits until every chunk sent is written; the first write error, if any.
    fn wait(&self) -> std::io::Result<()> {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        while g.0 > 0 {
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        match g.1.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // The thread writes what it has, then ends.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A CBOR item head: major type `major` with argument `v`, in its shortest form.
fn cbor_head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    match v {
        0..=23 => out.push(m | v as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, v as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// Reads a CBOR item head at `*at`: (major type, argument).
fn read_head(b: &[u8], at: &mut usize) -> Option<(u8, u64)> {
    let first = *b.get(*at)?;
    *at += 1;
    let (major, info) = (first >> 5, first & 0x1f);
    let n = match info {
        0..=23 => return Some((major, u64::from(info))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return None,
    };
    let bytes = b.get(*at..*at + n)?;
    *at += n;
    Some((
        major,
        bytes.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)),
    ))
}

/// The events of one chunk's payload, decoded directly (the shape [`Writer::push`]
/// writes); `None` if the payload is not that shape.
fn parse_events(p: &[u8], out: &mut Vec<Event>, sites: &mut Vec<String>) -> Option<()> {
    let mut at = 0;
    let (major, count) = read_head(p, &mut at)?;
    if major == 5 && count == 1 {
        return parse_sites(p, at, sites);
    }
    if major != 4 {
        return None;
    }
    for _ in 0..count {
        let (m, len) = read_head(p, &mut at)?;
        if m != 4 || !(len == 4 || len == 5) {
            return None;
        }
        let mut uint = || match read_head(p, &mut at)? {
            (0, v) => Some(v),
            _ => None,
        };
        let (n, kind, digest) = (uint()?, uint()?, uint()?);
        let kind = Kind::from_code(kind)?;
        let value = match read_head(p, &mut at)? {
            (0, v) => Payload::Uint(v),
            (2, len) => {
                let end = at.checked_add(usize::try_from(len).ok()?)?;
                let v = p.get(at..end)?.to_vec();
                at = end;
                Payload::Bytes(v)
            }
            (5, 1) => {
                if read_head(p, &mut at)? != (3, 3) || p.get(at..at + 3)? != b"err" {
                    return None;
                }
                at += 3;
                match read_head(p, &mut at)? {
                    (0, k) => Payload::Err(k),
                    _ => return None,
                }
            }
            _ => return None,
        };
        let site = if len == 5 {
            match read_head(p, &mut at)? {
                (0, id) if id < sites.len() as u64 => Some(id as u32),
                (3, l) => {
                    let end = at.checked_add(usize::try_from(l).ok()?)?;
                    let name = std::str::from_utf8(p.get(at..end)?).ok()?;
                    at = end;
                    sites.push(name.to_string());
                    Some(sites.len() as u32 - 1)
                }
                _ => return None,
            }
        } else {
            None
        };
        out.push(Event {
            n,
            kind,
            digest,
            value,
            site,
        });
    }
    (at == p.len()).then_some(())
}

/// A `{"sites": [text]}` payload (its map head read): the sites it defines.
fn parse_sites(p: &[u8], mut at: usize, sites: &mut Vec<String>) -> Option<()> {
    let text = |at: &mut usize| -> Option<String> {
        match read_head(p, at)? {
            (3, l) => {
                let end = at.checked_add(usize::try_from(l).ok()?)?;
                let s = std::str::from_utf8(p.get(*at..end)?).ok()?.to_string();
                *at = end;
                Some(s)
            }
            _ => None,
        }
    };
    if text(&mut at)? != "sites" {
        return None;
    }
    let (m, count) = read_head(p, &mut at)?;
    if m != 4 || count > p.len() as u64 {
        return None;
    }
    for _ in 0..count {
        sites.push(text(&mut at)?);
    }
    (at == p.len()).then_some(())
}

pub(crate) fn xxh3(b: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(b)
}

/// A log read back.
#[derive(Debug)]
pub struct Log {
    /// Which run it records.
    pub header: LogHeader,
    /// Its events, in order.
    pub events: Vec<Event>,
    /// The call sites its events name (`file:line:column`), by number.
    pub sites: Vec<String>,
    /// Bytes of a torn last chunk that were left out (the recording process was killed
    /// while writing it), 0 when the log ends cleanly.
    pub torn: u64,
    /// The length of the valid part (where a recovery appends, cutting the torn tail).
    pub valid_len: u64,
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::BadLog {
        path: path.into(),
        detail: detail.into(),
    }
}

/// Reads and checks the log at `path`.
pub fn read(path: &Path) -> Result<Log, Error> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io("reading log", path, e))?;
    parse(path, &bytes, false)
}

/// Reads and checks only the header of the log at `path` (its first chunk), without
/// reading its events.
pub fn read_header(path: &Path) -> Result<LogHeader, Error> {
    const PREFIX: u64 = 1 << 20;
    let mut bytes = Vec::new();
    let mut f = File::open(path).map_err(|e| Error::io("reading log", path, e))?;
    (&mut f)
        .take(PREFIX)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading log", path, e))?;
    match parse(path, &bytes, true) {
        Ok(l) => Ok(l.header),
        // A header longer than the prefix: the whole file.
        Err(_) if bytes.len() as u64 == PREFIX => read(path).map(|l| l.header),
        Err(e) => Err(e),
    }
}

fn parse(path: &Path, bytes: &[u8], header_only: bool) -> Result<Log, Error> {
    if bytes.len() < 12 || &bytes[..8] != LOG_MAGIC {
        return Err(bad(
            path,
            "not a ckpt input log (it does not start with b\"CKPTLOG\\0\"); pass a file \
             written by --ckpt-record",
        ));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != LOG_VERSION {
        return Err(bad(
            path,
            format!("log format version {version}; this build reads version {LOG_VERSION}"),
        ));
    }
    let mut at = 12usize;
    let mut payloads = Vec::new();
    let mut torn = 0u64;
    while at < bytes.len() && !(header_only && payloads.len() == 1) {
        let rest = &bytes[at..];
        let whole = rest.len() >= 12 && {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            len <= MAX_CHUNK && rest.len() >= 12 + len as usize
        };
        let ok = whole && {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let sum = u64::from_le_bytes(rest[4..12].try_into().unwrap_or_default());
            xxh3(&rest[12..12 + len]) == sum
        };
        if !ok {
            // A damaged chunk with whole chunks after it is corruption; at the end it is
            // the torn tail of a killed writer.
            if whole && next_chunks_valid(bytes, at) {
                return Err(bad(
                    path,
                    format!("chunk at byte {at} is damaged (checksum mismatch) and more follow"),
                ));
            }
            torn = rest.len() as u64;
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        payloads.push((at, &bytes[at + 12..at + 12 + len]));
        at += 12 + len;
    }
    let Some((header_at, first)) = payloads.first() else {
        return Err(bad(
            path,
            "the log has no header: the recording never started",
        ));
    };
    let header = parse_header(path, &unpack(path, *header_at, first)?)?;
    let mut events = Vec::new();
    let mut sites = Vec::new();
    let mut chunk = Vec::new();
    for (at, stored) in &payloads[1..] {
        let p = unpack(path, *at, stored)?;
        chunk.clear();
        parse_events(&p, &mut chunk, &mut sites).ok_or_else(|| {
            bad(
                path,
                format!("chunk at byte {at} is not a list of well-formed events"),
            )
        })?;
        for ev in chunk.drain(..) {
            let due = header.first + events.len() as u64;
            if ev.n != due {
                return Err(bad(
                    path,
                    format!("event {} where event {due} was due", ev.n),
                ));
            }
            events.push(ev);
        }
    }
    Ok(Log {
        header,
        events,
        sites,
        torn,
        valid_len: at as u64,
    })
}

impl Log {
    /// The call site of `e` (`file:line:column`), if the log has it.
    pub fn site(&self, e: &Event) -> Option<&str> {
        e.site
            .and_then(|i| self.sites.get(i as usize))
            .map(String::as_str)
    }
}

/// The payload of a chunk's stored bytes (checked already), decompressed if it is.
fn unpack<'a>(
    path: &Path,
    at: usize,
    stored: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, Error> {
    let damaged = |what: &str| bad(path, format!("chunk at byte {at}: {what}"));
    match stored.split_first() {
        Some((&RAW, body)) => Ok(std::borrow::Cow::Borrowed(body)),
        Some((&LZ4, body)) => {
            let len = body
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| damaged("a compressed chunk without its length"))?;
            if len > MAX_CHUNK {
                return Err(damaged("a compressed chunk claims more than 64 MiB"));
            }
            lz4_flex::block::decompress_size_prepended(body)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| damaged(&format!("its compressed payload does not decompress ({e})")))
        }
        Some((codec, _)) => Err(damaged(&format!("unknown codec {codec}"))),
        None => Err(damaged("empty")),
    }
}

/// Whether a whole, valid chunk follows the one at `at` (which is whole but damaged).
fn next_chunks_valid(bytes: &[u8], at: usize) -> bool {
    let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let next = at + 12 + len as usize;
    let rest = &bytes[next.min(bytes.len())..];
    if rest.len() < 12 {
        return false;
    }
    let l = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    l as u32 <= MAX_CHUNK && rest.len() >= 12 + l && {
        let sum = u64::from_le_bytes(rest[4..12].try_into().unwrap_or_default());
        xxh3(&rest[12..12 + l]) == sum
    }
}

fn parse_header(path: &Path, p: &[u8]) -> Result<LogHeader, Error> {
    let (v, _) = decode_slice(p).map_err(|e| bad(path, format!("header: {e}")))?;
    let text = |k: &str| match v.get(k) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let args = match v.get("args") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    let first = match v.get("first") {
        Some(Value::Uint(n)) => *n,
        _ => 0,
    };
    match (text("program"), args, text("sources")) {
        (Some(program), Some(args), Some(sources)) => Ok(LogHeader {
            program,
            args,
            sources,
            first,
            image: text("image").unwrap_or_default(),
            image_stamp: text("image_stamp").unwrap_or_default(),
            id: text("id").unwrap_or_default(),
            exe: text("exe").unwrap_or_default(),
        }),
        _ => Err(bad(path, "header: expected {program, args, sources}")),
    }
}
