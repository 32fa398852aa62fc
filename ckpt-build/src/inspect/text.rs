//! Human-readable rendering of image values: Rust-like, abbreviated.

use std::fmt::Write as _;

use ckpt::state::{TypedArray, Value};

use super::InspectOptions;

/// Nesting deeper than this is shown as `…`.
const MAX_RENDER_DEPTH: usize = 24;

/// Renders one value. `shared` is the image's shared-object table.
pub(crate) struct ValueText<'a> {
    pub(crate) opts: &'a InspectOptions,
    pub(crate) shared: &'a [Option<Value>],
}

impl ValueText<'_> {
    /// The value on one line, at most about `opts.max_value_chars` long.
    pub(crate) fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        self.value(v, &mut out, 0);
        out
    }

    /// Whether the output is over budget; appends `…` the first time it is.
    fn over(&self, out: &mut String) -> bool {
        if out.len() > self.opts.max_value_chars {
            if !out.ends_with('…') {
                out.push('…');
            }
            true
        } else {
            false
        }
    }

    fn value(&self, v: &Value, out: &mut String, depth: usize) {
        if self.over(out) {
            return;
        }
        if depth > MAX_RENDER_DEPTH {
            out.push('…');
            return;
        }
        match v {
            Value::Uint(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Nint(n) => {
                let _ = write!(out, "{}", -1 - i128::from(*n));
            }
            Value::Float(f) => out.push_str(&float(*f)),
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Null => out.push_str("null"),
            Value::Text(t) => out.push_str(&self.text(t)),
            Value::Bytes(b) => out.push_str(&self.bytes(b)),
            Value::Array(items) => {
                out.push('[');
                self.seq(items.iter(), items.len(), out, depth, |s, it, out, d| {
                    s.value(it, out, d)
                });
                out.push(']');
            }
            Value::Map(entries) => self.map(entries, out, depth),
            Value::Tag(ckpt::state::code::TAG, inner) => out.push_str(&code_pointer(inner)),
            Value::Tag(tag, inner) => {
                let _ = write!(out, "#{tag}(");
                self.value(inner, out, depth + 1);
                out.push(')');
            }
            Value::Typed(arr) => out.push_str(&self.typed(arr)),
            Value::Shared(n) => {
                let _ = write!(out, "@{n} ");
                match usize::try_from(*n).ok().and_then(|i| self.shared.get(i)) {
                    Some(Some(inner)) => self.value(inner, out, depth + 1),
                    _ => out.push_str("<missing>"),
                }
            }
            Value::Ref(n) => {
                let _ = write!(out, "&{n}");
            }
        }
    }

    /// The `env` component without the values of its variables, which may be secrets
    /// (the JSON report has them): `args ["app", "-n", "3"]; 2 variables: HOME, LANG`.
    /// `None` if `v` is not shaped like one.
    pub(crate) fn env_component(&self, v: &Value) -> Option<String> {
        let (Some(Value::Array(args)), Some(Value::Map(vars))) = (v.get("args"), v.get("vars"))
        else {
            return None;
        };
        let mut out = String::from("args [");
        self.seq(args.iter(), args.len(), &mut out, 0, |s, a, out, d| {
            s.value(a, out, d)
        });
        let _ = write!(
            out,
            "]; {} variable{}",
            vars.len(),
            if vars.len() == 1 { "" } else { "s" }
        );
        if !vars.is_empty() {
            out.push_str(": ");
            self.seq(
                vars.iter(),
                vars.len(),
                &mut out,
                0,
                |s, (k, _), out, d| match k {
                    Value::Text(t) => out.push_str(t),
                    other => s.value(other, out, d),
                },
            );
            out.push_str(" (values: --json)");
        }
        if let Some(Value::Array(absent)) = v.get("absent") {
            if !absent.is_empty() {
                out.push_str("; unset: ");
                self.seq(
                    absent.iter(),
                    absent.len(),
                    &mut out,
                    0,
                    |s, k, out, d| match k {
                        Value::Text(t) => out.push_str(t),
                        other => s.value(other, out, d),
                    },
                );
            }
        }
        if let Some(Value::Bool(true)) = v.get("whole") {
            out.push_str(" (the whole environment: the program listed it)");
        }
        Some(out)
    }

    /// `first, second, …, N more` for the first `max_items` items.
    fn seq<'v, T: 'v>(
        &self,
        items: impl Iterator<Item = &'v T>,
        len: usize,
        out: &mut String,
        depth: usize,
        mut each: impl FnMut(&Self, &'v T, &mut String, usize),
    ) {
        for (i, it) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if i >= self.opts.max_items {
                let _ = write!(out, "… {} more", len - i);
                return;
            }
            if self.over(out) {
                return;
            }
            each(self, it, out, depth + 1);
        }
    }

    fn map(&self, entries: &[(Value, Value)], out: &mut String, depth: usize) {
        if entries.is_empty() {
            out.push_str("{}");
            return;
        }
        // An enum variant with a payload, as derived `State` writes it: `{ "Name": payload }`.
        if let [(Value::Text(name), payload)] = entries {
            if name.starts_with(|c: char| c.is_ascii_uppercase()) && is_ident(name) {
                out.push_str(name);
                match payload {
                    Value::Map(_) => {
                        out.push(' ');
                        self.value(payload, out, depth + 1);
                    }
                    Value::Array(items) => {
                        out.push('(');
                        self.seq(items.iter(), items.len(), out, depth, |s, it, out, d| {
                            s.value(it, out, d)
                        });
                        out.push(')');
                    }
                    other => {
                        out.push('(');
                        self.value(other, out, depth + 1);
                        out.push(')');
                    }
                }
                return;
            }
        }
        let fields = entries
            .iter()
            .all(|(k, _)| matches!(k, Value::Text(t) if is_ident(t)));
        out.push_str("{ ");
        self.seq(
            entries.iter(),
            entries.len(),
            out,
            depth,
            |s, (k, v), out, d| {
                match (fields, k) {
                    (true, Value::Text(t)) => out.push_str(t),
                    _ => s.value(k, out, d),
                }
                out.push_str(if fields { ": " } else { " => " });
                s.value(v, out, d);
            },
        );
        out.push_str(" }");
    }

    fn text(&self, t: &str) -> String {
        let n = t.chars().count();
        if n <= self.opts.max_text {
            format!("{t:?}")
        } else {
            let head: String = t.chars().take(self.opts.max_text).collect();
            let quoted = format!("{head:?}");
            format!("{}…\" ({n} chars)", &quoted[..quoted.len() - 1])
        }
    }

    fn bytes(&self, b: &[u8]) -> String {
        let shown = b.len().min(self.opts.max_text / 2);
        let mut s = format!("<{} bytes", b.len());
        if !b.is_empty() {
            s.push(' ');
            for byte in &b[..shown] {
                let _ = write!(s, "{byte:02x}");
            }
            if shown < b.len() {
                s.push('…');
            }
        }
        s.push('>');
        s
    }

    /// `[f64; 1000000] [0.5, 0.25, …]`.
    pub(crate) fn typed(&self, arr: &TypedArray) -> String {
        let items = typed_items(arr, self.opts.max_items);
        let mut s = format!("[{}; {}] [", arr.elem(), arr.len());
        s.push_str(&items.join(", "));
        if arr.len() > items.len() {
            s.push_str(if items.is_empty() { "…" } else { ", …" });
        }
        s.push(']');
        s
    }
}

/// The first `n` items of a typed array, rendered.
pub(crate) fn typed_items(arr: &TypedArray, n: usize) -> Vec<String> {
    fn show<T: ToString>(v: &[T], n: usize) -> Vec<String> {
        v.iter().take(n).map(T::to_string).collect()
    }
    match arr {
        TypedArray::U8(v) => show(v, n),
        TypedArray::U16(v) => show(v, n),
        TypedArray::U32(v) => show(v, n),
        TypedArray::U64(v) => show(v, n),
        TypedArray::I8(v) => show(v, n),
        TypedArray::I16(v) => show(v, n),
        TypedArray::I32(v) => show(v, n),
        TypedArray::I64(v) => show(v, n),
        TypedArray::F32(v) => v.iter().take(n).map(|f| float(f64::from(*f))).collect(),
        TypedArray::F64(v) => v.iter().take(n).map(|f| float(*f)).collect(),
    }
}

/// A float as Rust's `Debug` writes it (`1.0`, `0.25`, `NaN`).
pub(crate) fn float(f: f64) -> String {
    format!("{f:?}")
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// `1776000000` → `2026-04-12 13:20:00 UTC`.
pub(crate) fn utc(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Howard Hinnant's civil-from-days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A code pointer (`ckpt::state::code`): `fn@+0x1f40` (its offset from the anchor of the
/// executable that wrote it), with that executable's identity when the value carries it.
fn code_pointer(inner: &Value) -> String {
    let offset = |v: &Value| match *v {
        Value::Uint(n) => Some(format!("+{n:#x}")),
        Value::Nint(n) => Some(format!("-{:#x}", u128::from(n) + 1)),
        _ => None,
    };
    match inner {
        Value::Array(items) if items.len() == 2 => match (offset(&items[0]), items[1].as_str()) {
            (Some(off), Some(exe)) => format!("fn@{off} ({exe})"),
            _ => "fn@?".into(),
        },
        other => offset(other).map_or_else(|| "fn@?".into(), |off| format!("fn@{off}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: &Value) -> String {
        let opts = InspectOptions::default();
        ValueText {
            opts: &opts,
            shared: &[Some(Value::Text("shared".into()))],
        }
        .render(v)
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn code_pointers_show_their_offset() {
        let tag = |v: Value| Value::Tag(ckpt::state::code::TAG, Box::new(v));
        assert_eq!(r(&tag(Value::Uint(0x1f40))), "fn@+0x1f40");
        assert_eq!(r(&tag(Value::Nint(0xff))), "fn@-0x100");
        assert_eq!(
            r(&tag(Value::Array(
                vec![Value::Uint(16), t("build-id:ab")].into()
            ))),
            "fn@+0x10 (build-id:ab)"
        );
        assert_eq!(r(&tag(t("x"))), "fn@?");
    }

    #[test]
    fn scalars() {
        assert_eq!(r(&Value::Uint(7)), "7");
        assert_eq!(r(&Value::Nint(0)), "-1");
        assert_eq!(r(&Value::Nint(u64::MAX)), "-18446744073709551616");
        assert_eq!(r(&Value::Float(1.0)), "1.0");
        assert_eq!(r(&Value::Bool(true)), "true");
        assert_eq!(r(&Value::Null), "null");
        assert_eq!(r(&t("a\"b")), "\"a\\\"b\"");
        assert_eq!(r(&Value::Bytes(vec![1, 0xab])), "<2 bytes 01ab>");
    }

    #[test]
    fn structs_variants_and_maps() {
        let s = Value::Map(
            vec![
                (
                    t("pos"),
                    Value::Array(vec![Value::Float(0.5), Value::Float(-1.0)].into()),
                ),
                (t("n"), Value::Uint(3)),
            ]
            .into(),
        );
        assert_eq!(r(&s), "{ pos: [0.5, -1.0], n: 3 }");
        let v = Value::Map(vec![(t("Circle"), s)].into());
        assert_eq!(r(&v), "Circle { pos: [0.5, -1.0], n: 3 }");
        let v = Value::Map(vec![(t("Some"), Value::Uint(1))].into());
        assert_eq!(r(&v), "Some(1)");
        let m = Value::Map(vec![(Value::Uint(1), t("x"))].into());
        assert_eq!(r(&m), "{ 1 => \"x\" }");
    }

    #[test]
    fn long_things_are_abbreviated() {
        let arr = Value::Array((0..20).map(Value::Uint).collect());
        assert_eq!(r(&arr), "[0, 1, 2, 3, 4, 5, 6, 7, … 12 more]");
        let long = "x".repeat(100);
        let shown = r(&t(&long));
        assert!(
            shown.starts_with(&format!("\"{}", "x".repeat(80))),
            "{shown}"
        );
        assert!(shown.ends_with("…\" (100 chars)"), "{shown}");
        let typed = Value::Typed(TypedArray::F64(vec![0.5; 1_000_000]));
        assert_eq!(
            r(&typed),
            "[f64; 1000000] [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, …]"
        );
        let nested = Value::Array((0..8).map(|_| arr.clone()).collect());
        assert!(r(&nested).len() < InspectOptions::default().max_value_chars + 64);
    }

    #[test]
    fn shared_objects() {
        assert_eq!(r(&Value::Shared(0)), "@0 \"shared\"");
        assert_eq!(r(&Value::Ref(0)), "&0");
        assert_eq!(r(&Value::Shared(9)), "@9 <missing>");
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
