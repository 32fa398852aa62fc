//! The `--json` document of `cargo ckpt inspect`.
//!
//! Values map to JSON naturally (numbers, strings, arrays, objects for structs); what
//! JSON cannot say directly is an object whose keys start with `$`, which no Rust field
//! name does:
//!
//! | image value | JSON |
//! |---|---|
//! | typed array | `{"$typed": "f64", "len": 1000000, "items": [0.5, …], "truncated": true}` |
//! | long array | `{"$array": 5000, "items": [first items], "truncated": true}` |
//! | long string | `{"$text": 12000, "prefix": "…", "truncated": true}` |
//! | byte string | `{"$bytes": 12, "hex": "0a0b…", "truncated": false}` |
//! | map with non-text keys | `{"$map": [[key, value], …]}` (+ `"len"`, `"truncated"` if cut) |
//! | tagged item | `{"$tag": 1, "value": …}` |
//! | shared object | `{"$shared": 0, "value": …}`; a later reference `{"$ref": 0}` |
//! | float NaN / ±inf | `{"$float": "NaN"}` |
//! | integer below `i64::MIN` | `{"$int": "-18446744073709551616"}` |
//! | nesting deeper than 60 values | `{"$deep": true, "truncated": true}` |
//!
//! The top-level `"truncated"` is true when any value was abbreviated.

use std::cell::Cell;

use ckpt::image::Image;
use ckpt::state::{TypedArray, Value};
use serde_json::{json, Map, Value as Json};

use super::text::utc;
use super::InspectOptions;

/// Arrays and maps longer than this many items (or `max_items` if larger) are cut.
const JSON_MIN_ITEMS: usize = 64;
/// Strings longer than this many characters (or `max_text` if larger) are cut.
const JSON_MIN_TEXT: usize = 4096;
/// Deeper values become `{"$deep": true, "truncated": true}`, so the document stays
/// within the nesting limit of common JSON readers (serde_json: 128). The decoder bounds depth
/// too, but more loosely.
const MAX_JSON_DEPTH: usize = 60;

/// Converts the values of one image to JSON, noting whether any was abbreviated.
pub(crate) struct Conv<'a> {
    shared: &'a [Option<Value>],
    items: usize,
    typed_items: usize,
    text: usize,
    truncated: Cell<bool>,
    depth: Cell<usize>,
}

pub(crate) fn render(image: &Image, opts: &InspectOptions) -> String {
    let c = Conv::new(image, opts);
    let h = &image.header;
    let fp = &h.fingerprint;
    let vars = |vars: &[(String, Value)]| -> Json {
        vars.iter()
            .map(|(name, v)| {
                json!({ "name": name, "display": super::display_name(name), "value": c.value(v) })
            })
            .collect()
    };
    let frames: Vec<Json> = image
        .frames
        .iter()
        .map(|f| {
            json!({
                "function": f.function,
                "body_hash": format!("{:016x}", f.body_hash),
                "at": f.at,
                "site": f.site,
                "args": vars(&f.args),
                "live": vars(&f.live),
                "lent": f.lent.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let components = vars(&image.components);
    let shared = image.shared.iter().filter(|s| s.is_some()).count();
    // Objects of the heap section: referenced above only as `{"$ref": n}`.
    let inline = super::inline_shared(image);
    let heap: Vec<serde_json::Value> = (0..image.shared.len())
        .filter(|i| !inline.contains(i))
        .filter_map(|i| {
            image.shared[i]
                .as_ref()
                .map(|v| json!({ "id": i, "value": c.value(v) }))
        })
        .collect();
    let doc = json!({
        "file": image.path.display().to_string(),
        "size": image.file_len,
        "format": h.format,
        "program": h.program,
        "created_unix": h.created_unix,
        "created": utc(h.created_unix),
        "args": h.args,
        "ckpt_file": h.ckpt_file,
        "options": h.options.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "finished": super::marks(&image.path).0,
        "signed": super::marks(&image.path).1,
        "exe": image.exe,
        "fingerprint": {
            "crate_name": fp.crate_name,
            "crate_version": fp.crate_version,
            "sources": fp.sources,
            "rustc": fp.rustc,
            "target": fp.target,
        },
        "frames": frames,
        "components": components,
        "shared_objects": shared,
        "heap": heap,
        "sections": image.sections.iter().map(|(n, s)| json!({"name": n, "bytes": s})).collect::<Vec<_>>(),
        "truncated": c.truncated.get(),
    });
    // Serializing a serde_json::Value cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

impl<'a> Conv<'a> {
    /// A converter for the values of `image`.
    pub(crate) fn new(image: &'a Image, opts: &InspectOptions) -> Conv<'a> {
        Conv {
            shared: &image.shared,
            items: opts.max_items.max(JSON_MIN_ITEMS),
            typed_items: opts.max_items,
            text: opts.max_text.max(JSON_MIN_TEXT),
            truncated: Cell::new(false),
            depth: Cell::new(0),
        }
    }

    /// Whether a value converted so far was abbreviated.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated.get()
    }

    fn cut(&self) {
        self.truncated.set(true);
    }

    /// One value as JSON (see the module's table).
    pub(crate) fn value(&self, v: &Value) -> Json {
        if self.depth.get() >= MAX_JSON_DEPTH {
            self.cut();
            return json!({ "$deep": true, "truncated": true });
        }
        self.depth.set(self.depth.get() + 1);
        let out = self.value_inner(v);
        self.depth.set(self.depth.get() - 1);
        out
    }

    fn value_inner(&self, v: &Value) -> Json {
        match v {
            Value::Uint(n) => json!(n),
            Value::Nint(n) => match i64::try_from(*n) {
                Ok(n) => json!(-1 - n),
                // Below i64::MIN: JSON numbers that large lose precision in most readers.
                Err(_) => json!({ "$int": (-1 - i128::from(*n)).to_string() }),
            },
            Value::Float(f) if f.is_finite() => json!(f),
            Value::Float(f) => json!({ "$float": format!("{f:?}") }),
            Value::Bool(b) => json!(b),
            Value::Null => Json::Null,
            Value::Text(t) => self.text(t),
            Value::Bytes(b) => {
                let shown = b.len().min(self.text / 2);
                let hex: String = b[..shown].iter().map(|x| format!("{x:02x}")).collect();
                if shown < b.len() {
                    self.cut();
                }
                json!({ "$bytes": b.len(), "hex": hex, "truncated": shown < b.len() })
            }
            Value::Array(items) => {
                let shown: Vec<Json> = items
                    .iter()
                    .take(self.items)
                    .map(|i| self.value(i))
                    .collect();
                if shown.len() < items.len() {
                    self.cut();
                    json!({ "$array": items.len(), "items": shown, "truncated": true })
                } else {
                    Json::Array(shown)
                }
            }
            Value::Map(entries) => self.map(entries),
            Value::Tag(tag, inner) => json!({ "$tag": tag, "value": self.value(inner) }),
            Value::Typed(arr) => self.typed(arr),
            Value::Shared(n) => {
                let inner = usize::try_from(*n)
                    .ok()
                    .and_then(|i| self.shared.get(i))
                    .and_then(Option::as_ref)
                    .map_or(Json::Null, |s| self.value(s));
                json!({ "$shared": n, "value": inner })
            }
            Value::Ref(n) => json!({ "$ref": n }),
        }
    }

    fn text(&self, t: &str) -> Json {
        let n = t.chars().count();
        if n <= self.text {
            return json!(t);
        }
        self.cut();
        let prefix: String = t.chars().take(self.text).collect();
        json!({ "$text": n, "prefix": prefix, "truncated": true })
    }

    fn map(&self, entries: &[(Value, Value)]) -> Json {
        let fields = entries
            .iter()
            .all(|(k, _)| matches!(k, Value::Text(t) if !t.starts_with('$')));
        let cut = entries.len() > self.items;
        if cut {
            self.cut();
        }
        let shown = &entries[..entries.len().min(self.items)];
        if fields && !cut {
            let mut m = Map::new();
            for (k, v) in shown {
                if let Value::Text(k) = k {
                    m.insert(k.clone(), self.value(v));
                }
            }
            if m.len() == shown.len() {
                return Json::Object(m);
            }
            // Duplicate keys: fall through to the pair list, which keeps them all.
        }
        let pairs: Vec<Json> = shown
            .iter()
            .map(|(k, v)| json!([self.value(k), self.value(v)]))
            .collect();
        if cut {
            json!({ "$map": pairs, "len": entries.len(), "truncated": true })
        } else {
            json!({ "$map": pairs })
        }
    }

    fn typed(&self, arr: &TypedArray) -> Json {
        let n = self.typed_items;
        let items: Vec<Json> = match arr {
            TypedArray::U8(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::U16(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::U32(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::U64(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::I8(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::I16(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::I32(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::I64(v) => v.iter().take(n).map(|x| json!(x)).collect(),
            TypedArray::F32(v) => v
                .iter()
                .take(n)
                .map(|x| self.value(&Value::Float(f64::from(*x))))
                .collect(),
            TypedArray::F64(v) => v
                .iter()
                .take(n)
                .map(|x| self.value(&Value::Float(*x)))
                .collect(),
        };
        let truncated = items.len() < arr.len();
        if truncated {
            self.cut();
        }
        json!({ "$typed": arr.elem(), "len": arr.len(), "items": items, "truncated": truncated })
    }
}
