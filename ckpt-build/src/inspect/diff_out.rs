//! The two renderings of a [`Diff`]: the text report of `cargo ckpt diff` and its
//! `--json` document.
//!
//! The JSON document:
//!
//! ```text
//! { "a": {"file", "created", "created_unix", "size"}, "b": {…},
//!   "same": bool,                       // same build, frames and values
//!   "header": [{"field", "a", "b"}],    // differing header and fingerprint fields, as text
//!   "frame_count": {"a", "b"} | null,
//!   "frames": [{"index", "function",
//!               "a": {"function", "at", "site", "body_hash"} | null, "b": …,
//!               "moved": bool,          // function, save point or body differ
//!               "args": [change], "live": [change],
//!               "lent": {"a": [[local, param]…], "b": …} | null}],
//!   "components": [change],
//!   "sections": [{"name", "a", "b"}], "size": {"a", "b"} | null,
//!   "truncated": bool }                 // a value was abbreviated
//! change: {"name", "display", "change": "added"|"removed", "value"}
//!       | {"name", "display", "change": "changed", "leaves": [leaf], "more": n, "capped": bool}
//! leaf:   {"path", "a", "b"}            // values as in `inspect --json`; absent key: null
//!       | {"path", "summary"}           // typed arrays of one type and length
//! ```

use std::fmt::Write as _;

use ckpt::image::FrameRecord;
use serde_json::{json, Value as Json};

use super::diff::MAX_CHANGES_PER_VALUE;
use super::diff::{Diff, FrameDiff, Leaf, LeafChange, VarChange, MAX_CHANGES_COUNTED};
use super::json::Conv;
use super::text::{utc, ValueText};
use super::{display_name, point_label, InspectOptions};

/// The text report.
pub(crate) fn text(d: &Diff<'_>, opts: &InspectOptions) -> String {
    let a = ValueText {
        opts,
        shared: &d.a.shared,
    };
    let b = ValueText {
        opts,
        shared: &d.b.shared,
    };
    let mut o = String::new();
    let _ = writeln!(o, "--- {}", d.a.path.display());
    let _ = writeln!(o, "+++ {}", d.b.path.display());
    let _ = writeln!(
        o,
        "created: {} → {}",
        utc(d.a.header.created_unix),
        utc(d.b.header.created_unix)
    );
    for (what, x, y) in &d.header {
        let _ = writeln!(o, "{what}: {x} → {y}");
    }
    if let Some((x, y)) = d.frame_count {
        let _ = writeln!(o, "frames: {x} → {y}");
    }
    for f in &d.frames {
        let _ = writeln!(o, "frame #{} {}:", f.index, f.function());
        frame_text(&mut o, f, &a, &b);
    }
    if !d.components.is_empty() {
        let _ = writeln!(o, "components:");
        vars_text(&mut o, "  ", &d.components, &a, &b, false);
    }
    for (name, x, y) in &d.sections {
        let _ = writeln!(o, "section {name}: {x} → {y} bytes");
    }
    if let Some((x, y)) = d.size {
        let _ = writeln!(o, "size: {x} → {y} bytes");
    }
    if d.same() {
        let _ = writeln!(o, "same build, same frames, same values");
    }
    o
}

fn frame_text(o: &mut String, f: &FrameDiff<'_>, a: &ValueText<'_>, b: &ValueText<'_>) {
    match (f.a, f.b) {
        (Some(fa), Some(fb)) => {
            if f.moved {
                let _ = writeln!(
                    o,
                    "  {} at {} (body {:016x}) → {} at {} (body {:016x})",
                    fa.function,
                    point_label(fa),
                    fa.body_hash,
                    fb.function,
                    point_label(fb),
                    fb.body_hash
                );
            }
            for (title, vars) in [("args", &f.args), ("live", &f.live)] {
                if !vars.is_empty() {
                    let _ = writeln!(o, "    {title}:");
                    vars_text(o, "      ", vars, a, b, true);
                }
            }
            if let Some((x, y)) = f.lent {
                let _ = writeln!(o, "    lent: {x:?} → {y:?}");
            }
        }
        (Some(fa), None) => {
            let _ = writeln!(o, "  - {} at {}", fa.function, point_label(fa));
        }
        (None, Some(fb)) => {
            let _ = writeln!(o, "  + {} at {}", fb.function, point_label(fb));
        }
        (None, None) => {}
    }
}

fn shown(name: &str, generated: bool) -> String {
    if generated {
        display_name(name)
    } else {
        name.to_string()
    }
}

fn vars_text(
    o: &mut String,
    indent: &str,
    vars: &[VarChange<'_>],
    a: &ValueText<'_>,
    b: &ValueText<'_>,
    generated: bool,
) {
    for v in vars {
        match v {
            VarChange::Removed { name, value } => {
                let _ = writeln!(
                    o,
                    "{indent}- {} = {}",
                    shown(name, generated),
                    a.render(value)
                );
            }
            VarChange::Added { name, value } => {
                let _ = writeln!(
                    o,
                    "{indent}+ {} = {}",
                    shown(name, generated),
                    b.render(value)
                );
            }
            VarChange::Changed { name, leaves } => {
                for l in leaves.iter().take(MAX_CHANGES_PER_VALUE) {
                    let line = match &l.what {
                        LeafChange::Values(x, y) => format!(
                            "{}: {} → {}",
                            l.path,
                            x.map_or_else(|| "(absent)".to_string(), |x| a.render(x)),
                            y.map_or_else(|| "(absent)".to_string(), |y| b.render(y)),
                        ),
                        LeafChange::Typed(summary) => format!("{}: {summary}", l.path),
                    };
                    let _ = writeln!(o, "{indent}  {line}");
                }
                let extra = leaves.len().saturating_sub(MAX_CHANGES_PER_VALUE);
                if extra > 0 {
                    let plus = if leaves.len() >= MAX_CHANGES_COUNTED {
                        "+"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        o,
                        "{indent}  … {extra}{plus} more changes in {}",
                        shown(name, generated)
                    );
                }
            }
        }
    }
}

/// The `--json` document (see the module's description).
pub(crate) fn json(d: &Diff<'_>, opts: &InspectOptions) -> String {
    let ca = Conv::new(d.a, opts);
    let cb = Conv::new(d.b, opts);
    let side = |img: &ckpt::image::Image| {
        json!({
            "file": img.path.display().to_string(),
            "created": utc(img.header.created_unix),
            "created_unix": img.header.created_unix,
            "size": img.file_len,
        })
    };
    let frame = |f: Option<&FrameRecord>| {
        f.map(|f| {
            json!({
                "function": f.function,
                "at": f.at,
                "site": f.site,
                "body_hash": format!("{:016x}", f.body_hash),
            })
        })
    };
    let frames: Vec<Json> = d
        .frames
        .iter()
        .map(|f| {
            json!({
                "index": f.index,
                "function": f.function(),
                "a": frame(f.a),
                "b": frame(f.b),
                "moved": f.moved,
                "args": vars_json(&f.args, &ca, &cb, opts, true),
                "live": vars_json(&f.live, &ca, &cb, opts, true),
                "lent": f.lent.map(|(x, y)| json!({ "a": x, "b": y })),
            })
        })
        .collect();
    let components = vars_json(&d.components, &ca, &cb, opts, false);
    let doc = json!({
        "a": side(d.a),
        "b": side(d.b),
        "same": d.same(),
        "header": d.header.iter().map(|(f, x, y)| json!({ "field": f, "a": x, "b": y })).collect::<Vec<_>>(),
        "frame_count": d.frame_count.map(|(x, y)| json!({ "a": x, "b": y })),
        "frames": frames,
        "components": components,
        "sections": d.sections.iter().map(|(n, x, y)| json!({ "name": n, "a": x, "b": y })).collect::<Vec<_>>(),
        "size": d.size.map(|(x, y)| json!({ "a": x, "b": y })),
        "truncated": ca.truncated() || cb.truncated(),
    });
    // Serializing a serde_json::Value cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn vars_json(
    vars: &[VarChange<'_>],
    ca: &Conv<'_>,
    cb: &Conv<'_>,
    opts: &InspectOptions,
    generated: bool,
) -> Vec<Json> {
    // As many leaves as the text shows, or `max_items` if larger (`--full`: all).
    let max_leaves = opts.max_items.max(MAX_CHANGES_PER_VALUE);
    vars.iter()
        .map(|v| match v {
            VarChange::Removed { name, value } => json!({
                "name": name, "display": shown(name, generated),
                "change": "removed", "value": ca.value(value),
            }),
            VarChange::Added { name, value } => json!({
                "name": name, "display": shown(name, generated),
                "change": "added", "value": cb.value(value),
            }),
            VarChange::Changed { name, leaves } => {
                let listed: Vec<Json> = leaves
                    .iter()
                    .take(max_leaves)
                    .map(|l| leaf_json(l, ca, cb))
                    .collect();
                json!({
                    "name": name, "display": shown(name, generated),
                    "change": "changed",
                    "leaves": listed,
                    "more": leaves.len().saturating_sub(max_leaves),
                    "capped": leaves.len() >= MAX_CHANGES_COUNTED,
                })
            }
        })
        .collect()
}

fn leaf_json(l: &Leaf<'_>, ca: &Conv<'_>, cb: &Conv<'_>) -> Json {
    match &l.what {
        LeafChange::Values(x, y) => json!({
            "path": l.path,
            "a": x.map(|x| ca.value(x)),
            "b": y.map(|y| cb.value(y)),
        }),
        LeafChange::Typed(summary) => json!({ "path": l.path, "summary": summary }),
    }
}
