//! `cargo ckpt log`: the events of an input log written by `--ckpt-record`, one line each
//! (number, kind, digest of the call's arguments, the result in short), or as JSON.

use std::fmt::Write as _;
use std::path::Path;

use ckpt::replay::log::{self, Event, Kind, Payload};
use serde_json::json;

/// Which events `cargo ckpt log` shows.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Only events of this kind (`monotonic`, `wall`, `random`, `stdin`, `output`).
    pub kind: Option<String>,
    /// Only events whose call site (`file:line:column`) contains this.
    pub site: Option<String>,
    /// Only events numbered at least this.
    pub from: Option<u64>,
    /// Only events numbered at most this.
    pub to: Option<u64>,
    /// One JSON document instead of text.
    pub json: bool,
}

fn short(kind: Kind) -> &'static str {
    kind.short()
}

/// Lists the events of the log at `path` that `opts` selects.
///
/// ```no_run
/// let text = ckpt_build::log(
///     std::path::Path::new("run.log"),
///     &ckpt_build::LogOptions::default(),
/// )
/// .expect("a log");
/// print!("{text}");
/// ```
pub fn log(path: &Path, opts: &LogOptions) -> Result<String, ckpt::Error> {
    if let Some(k) = &opts.kind {
        if !Kind::ALL.iter().any(|x| short(*x) == k) {
            let names: Vec<&str> = Kind::ALL.iter().map(|x| x.short()).collect();
            return Err(ckpt::Error::Usage(format!(
                "--kind {k}: expected one of {}",
                names.join(", ")
            )));
        }
    }
    let l = log::read(path)?;
    let chosen: Vec<&Event> = l
        .events
        .iter()
        .filter(|e| opts.kind.as_deref().is_none_or(|k| short(e.kind) == k))
        .filter(|e| {
            opts.site
                .as_deref()
                .is_none_or(|s| l.site(e).is_some_and(|x| x.contains(s)))
        })
        .filter(|e| opts.from.is_none_or(|f| e.n >= f))
        .filter(|e| opts.to.is_none_or(|t| e.n <= t))
        .collect();
    if opts.json {
        let events: Vec<serde_json::Value> = chosen
            .iter()
            .map(|e| {
                let value = match &e.value {
                    Payload::Uint(v) => json!({ "uint": v }),
                    Payload::Bytes(b) => json!({ "bytes": hex(b) }),
                    Payload::Err(k) => json!({ "error": k }),
                };
                json!({ "n": e.n, "kind": short(e.kind), "digest": format!("{:016x}", e.digest),
                        "value": value, "site": l.site(e) })
            })
            .collect();
        let doc = json!({
            "file": path.display().to_string(),
            "program": l.header.program,
            "args": l.header.args,
            "sources": l.header.sources,
            "events_total": l.events.len(),
            "torn_bytes": l.torn,
            "events": events,
        });
        return Ok(format!("{doc:#}\n"));
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: program {}, args {:?}, {} events{}",
        path.display(),
        l.header.program,
        l.header.args,
        l.events.len(),
        if l.torn > 0 {
            format!(" (a torn last chunk of {} bytes was left out)", l.torn)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "{:>8}  {:<16} {:<16}  {:<32}  value",
        "event", "kind", "arguments", "call site"
    );
    for e in chosen {
        let _ = writeln!(
            o,
            "{:>8}  {:<16} {:016x}  {:<32}  {}",
            e.n,
            e.kind.name(),
            e.digest,
            l.site(e).map_or_else(|| "-".to_string(), short_site),
            value(e)
        );
    }
    Ok(o)
}

/// A call site without the directories of its file (`main.rs:12:5`); in full in `--json`.
fn short_site(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_string()
}

fn value(e: &Event) -> String {
    match (&e.value, e.kind) {
        (Payload::Uint(v), Kind::Monotonic) => format!("{v} ns"),
        (Payload::Uint(v), Kind::Wall) => format!("{v} ns since the epoch"),
        (Payload::Uint(v), Kind::Released) => format!("standard output released up to byte {v}"),
        (Payload::Uint(0), Kind::Open) => "opened".into(),
        (Payload::Uint(v), Kind::Open) => format!("failed (error kind {})", v - 1),
        (Payload::Uint(v), Kind::FileRead) => format!("bytes with hash {v:016x}"),
        (Payload::Uint(v), Kind::Metadata) => format!("type and length with hash {v:016x}"),
        (Payload::Uint(v), Kind::Dir) => format!("names with hash {v:016x}"),
        (Payload::Err(_), Kind::Env) => "not set".into(),
        (Payload::Uint(v), _) => v.to_string(),
        (Payload::Bytes(b), Kind::Stdin | Kind::Env) => {
            let shown: String = String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned();
            let more = if b.len() > 40 { "…" } else { "" };
            format!("{} bytes: {shown:?}{more}", b.len())
        }
        (Payload::Bytes(b), _) => {
            let more = if b.len() > 8 { "…" } else { "" };
            format!("{} bytes: {}{more}", b.len(), hex(&b[..b.len().min(8)]))
        }
        (Payload::Err(k), _) => format!("error (kind {k})"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
