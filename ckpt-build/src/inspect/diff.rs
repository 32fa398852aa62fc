//! `cargo ckpt diff A B`: what changed between two images (of one run, usually).

use std::fmt::Write as _;
use std::path::Path;

use ckpt::image::Image;
use ckpt::state::{TypedArray, Value};

use super::text::ValueText;
use super::InspectOptions;

/// Deeper than this, two values are compared by their decoded trees without resolving
/// shared objects again (bounds the recursion on hostile images).
const MAX_EQ_DEPTH: usize = 256;
/// Changes are looked for this many levels deep at most (each level compares its whole
/// subtree, so a long linked list costs this many passes); a change deeper than that is
/// shown as the whole value at this depth.
const MAX_DIFF_DEPTH: usize = 32;
/// Changed leaves listed per variable before `… N more changes`.
const MAX_CHANGES_PER_VALUE: usize = 12;
/// Changed leaves counted per variable (the count says `N+` beyond).
const MAX_CHANGES_COUNTED: usize = 10_000;
/// Arrays up to this length are compared element by element; longer ones as a whole.
const MAX_ELEMENTWISE: usize = 64;
/// Maps up to this size are compared by key, regardless of order (quadratic).
const MAX_KEYED: usize = 4096;

/// Reads two images and describes their differences: header, build fingerprint, each
/// frame's function, save point and variables, components and section sizes. The
/// creation times are always shown; everything else only where it differs.
pub fn diff(a: &Path, b: &Path, opts: &InspectOptions) -> Result<String, ckpt::Error> {
    let ia = ckpt::image::read(a, &opts.limits)?;
    let ib = ckpt::image::read(b, &opts.limits)?;
    Ok(render(&ia, &ib, opts))
}

struct Side<'a> {
    image: &'a Image,
    text: ValueText<'a>,
}

impl Side<'_> {
    fn show(&self, v: &Value) -> String {
        self.text.render(v)
    }
}

fn render(ia: &Image, ib: &Image, opts: &InspectOptions) -> String {
    let a = Side {
        image: ia,
        text: ValueText {
            opts,
            shared: &ia.shared,
        },
    };
    let b = Side {
        image: ib,
        text: ValueText {
            opts,
            shared: &ib.shared,
        },
    };
    let mut o = String::new();
    let _ = writeln!(o, "--- {}", ia.path.display());
    let _ = writeln!(o, "+++ {}", ib.path.display());
    let (ha, hb) = (&ia.header, &ib.header);
    let _ = writeln!(
        o,
        "created: {} → {}",
        super::text::utc(ha.created_unix),
        super::text::utc(hb.created_unix)
    );
    let mut changes = 0usize;
    let mut line = |o: &mut String, what: &str, x: String, y: String| {
        if x != y {
            changes += 1;
            let _ = writeln!(o, "{what}: {x} → {y}");
        }
    };
    line(
        &mut o,
        "format",
        ha.format.to_string(),
        hb.format.to_string(),
    );
    line(&mut o, "program", ha.program.clone(), hb.program.clone());
    line(
        &mut o,
        "args",
        format!("{:?}", ha.args),
        format!("{:?}", hb.args),
    );
    line(
        &mut o,
        "ckpt file",
        format!("{:?}", ha.ckpt_file),
        format!("{:?}", hb.ckpt_file),
    );
    line(
        &mut o,
        "options",
        format!("{:?}", ha.options),
        format!("{:?}", hb.options),
    );
    let (fa, fb) = (&ha.fingerprint, &hb.fingerprint);
    for (what, x, y) in [
        ("fingerprint crate", &fa.crate_name, &fb.crate_name),
        ("fingerprint version", &fa.crate_version, &fb.crate_version),
        ("fingerprint sources", &fa.sources, &fb.sources),
        ("fingerprint rustc", &fa.rustc, &fb.rustc),
        ("fingerprint target", &fa.target, &fb.target),
    ] {
        line(&mut o, what, x.clone(), y.clone());
    }

    line(
        &mut o,
        "executable",
        format!("{:?}", ia.exe),
        format!("{:?}", ib.exe),
    );

    let (sa, sb) = (&ia.frames, &ib.frames);
    if sa.len() != sb.len() {
        changes += 1;
        let _ = writeln!(o, "frames: {} → {}", sa.len(), sb.len());
    }
    for i in 0..sa.len().max(sb.len()) {
        let mut part = String::new();
        match (sa.get(i), sb.get(i)) {
            (Some(fa), Some(fb)) => {
                if fa.function != fb.function || fa.at != fb.at || fa.body_hash != fb.body_hash {
                    let _ = writeln!(
                        part,
                        "  {} at save point {} (body {:016x}) → {} at save point {} (body {:016x})",
                        fa.function, fa.at, fa.body_hash, fb.function, fb.at, fb.body_hash
                    );
                }
                vars(&mut part, "args", &fa.args, &fb.args, &a, &b);
                vars(&mut part, "live", &fa.live, &fb.live, &a, &b);
                if fa.lent != fb.lent {
                    let _ = writeln!(part, "    lent: {:?} → {:?}", fa.lent, fb.lent);
                }
            }
            (Some(fa), None) => {
                let _ = writeln!(part, "  - {} at save point {}", fa.function, fa.at);
            }
            (None, Some(fb)) => {
                let _ = writeln!(part, "  + {} at save point {}", fb.function, fb.at);
            }
            (None, None) => {}
        }
        if !part.is_empty() {
            changes += 1;
            let name = sa.get(i).or(sb.get(i)).map_or("", |f| f.function.as_str());
            let _ = writeln!(o, "frame #{i} {name}:");
            o.push_str(&part);
        }
    }

    let mut part = String::new();
    vars(
        &mut part,
        "components",
        &ia.components,
        &ib.components,
        &a,
        &b,
    );
    if !part.is_empty() {
        changes += 1;
        o.push_str(&part);
    }

    for (name, size_a) in &ia.sections {
        let size_b = ib
            .sections
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, s)| *s);
        if *size_a != size_b {
            let _ = writeln!(o, "section {name}: {size_a} → {size_b} bytes");
        }
    }
    if ia.file_len != ib.file_len {
        let _ = writeln!(o, "size: {} → {} bytes", ia.file_len, ib.file_len);
    }
    if changes == 0 {
        let _ = writeln!(o, "same build, same frames, same values");
    }
    o
}

/// Named values present in `xa`, `xb` or both, each reported once when it differs.
fn vars(
    o: &mut String,
    title: &str,
    xa: &[(String, Value)],
    xb: &[(String, Value)],
    a: &Side<'_>,
    b: &Side<'_>,
) {
    let indent = if title == "components" {
        "  "
    } else {
        "      "
    };
    let mut lines = Vec::new();
    for (name, va) in xa {
        match xb.iter().find(|(n, _)| n == name) {
            None => lines.push(format!("{indent}- {name} = {}", a.show(va))),
            Some((_, vb)) => {
                let mut found = Vec::new();
                changes(name, va, vb, a, b, &mut found, 0);
                let extra = found.len().saturating_sub(MAX_CHANGES_PER_VALUE);
                for c in found.into_iter().take(MAX_CHANGES_PER_VALUE) {
                    lines.push(format!("{indent}  {c}"));
                }
                if extra > 0 {
                    let plus = if extra + MAX_CHANGES_PER_VALUE >= MAX_CHANGES_COUNTED {
                        "+"
                    } else {
                        ""
                    };
                    lines.push(format!("{indent}  … {extra}{plus} more changes in {name}"));
                }
            }
        }
    }
    for (name, vb) in xb {
        if !xa.iter().any(|(n, _)| n == name) {
            lines.push(format!("{indent}+ {name} = {}", b.show(vb)));
        }
    }
    if !lines.is_empty() {
        let head = if title == "components" { "" } else { "    " };
        let _ = writeln!(o, "{head}{title}:");
        for l in lines {
            let _ = writeln!(o, "{l}");
        }
    }
}

/// The changed leaves between `va` and `vb`, as `path: old → new` lines: struct fields
/// and short arrays are descended into, typed arrays summarised.
fn changes(
    path: &str,
    va: &Value,
    vb: &Value,
    a: &Side<'_>,
    b: &Side<'_>,
    out: &mut Vec<String>,
    depth: usize,
) {
    if out.len() >= MAX_CHANGES_COUNTED || same(va, a.image, vb, b.image, 0) {
        return;
    }
    if depth < MAX_DIFF_DEPTH {
        match (va, vb) {
            (Value::Map(xs), Value::Map(ys)) if same_fields(xs, ys) => {
                for ((k, x), (_, y)) in xs.iter().zip(ys) {
                    let field = k.as_str().unwrap_or("?");
                    changes(&format!("{path}.{field}"), x, y, a, b, out, depth + 1);
                }
                return;
            }
            (Value::Map(xs), Value::Map(ys)) if xs.len().max(ys.len()) <= MAX_KEYED => {
                // A HashMap's order is arbitrary: match entries by key.
                for (k, x) in xs {
                    let key = format!("{path}[{}]", a.show(k));
                    match find_key(ys, k, a.image, b.image) {
                        Some(y) => changes(&key, x, y, a, b, out, depth + 1),
                        None => out.push(format!("{key}: {} → (absent)", a.show(x))),
                    }
                }
                for (k, y) in ys {
                    if find_key(xs, k, b.image, a.image).is_none() {
                        let key = format!("{path}[{}]", b.show(k));
                        out.push(format!("{key}: (absent) → {}", b.show(y)));
                    }
                }
                return;
            }
            (Value::Array(xs), Value::Array(ys))
                if xs.len() == ys.len() && xs.len() <= MAX_ELEMENTWISE =>
            {
                for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                    changes(&format!("{path}[{i}]"), x, y, a, b, out, depth + 1);
                }
                return;
            }
            (Value::Shared(na), Value::Shared(nb)) => {
                if let (Some(x), Some(y)) = (shared(a.image, *na), shared(b.image, *nb)) {
                    changes(path, x, y, a, b, out, depth + 1);
                    return;
                }
            }
            (Value::Typed(x), Value::Typed(y)) => {
                if let Some(line) = typed_changes(x, y) {
                    out.push(format!("{path}: {line}"));
                    return;
                }
            }
            _ => {}
        }
    }
    out.push(format!("{path}: {} → {}", a.show(va), b.show(vb)));
}

/// The value of key `k` (of image `ik`) in `entries` (of image `ie`).
fn find_key<'e>(
    entries: &'e [(Value, Value)],
    k: &Value,
    ik: &Image,
    ie: &Image,
) -> Option<&'e Value> {
    entries
        .iter()
        .find(|(e, _)| same(k, ik, e, ie, 0))
        .map(|(_, v)| v)
}

/// Both maps are structs with the same fields in the same order.
fn same_fields(xs: &[(Value, Value)], ys: &[(Value, Value)]) -> bool {
    xs.len() == ys.len()
        && xs.iter().zip(ys).all(
            |((kx, _), (ky, _))| matches!((kx, ky), (Value::Text(p), Value::Text(q)) if p == q),
        )
}

/// `3 of 64 elements differ, first [5]: 1.0 → 2.0`, for arrays of one type and length.
fn typed_changes(x: &TypedArray, y: &TypedArray) -> Option<String> {
    fn summary<T: std::fmt::Debug>(
        xs: &[T],
        ys: &[T],
        eq: impl Fn(&T, &T) -> bool,
    ) -> Option<String> {
        if xs.len() != ys.len() {
            return None;
        }
        let mut diff = (0..xs.len()).filter(|&i| !eq(&xs[i], &ys[i]));
        let first = diff.next()?;
        let count = 1 + diff.count();
        Some(format!(
            // Debug: floats keep their `.0`, as in the rest of the report.
            "{count} of {} elements differ, first [{first}]: {:?} → {:?}",
            xs.len(),
            xs[first],
            ys[first]
        ))
    }
    fn exact<T: PartialEq>(p: &T, q: &T) -> bool {
        p == q
    }
    match (x, y) {
        (TypedArray::U8(p), TypedArray::U8(q)) => summary(p, q, exact),
        (TypedArray::U16(p), TypedArray::U16(q)) => summary(p, q, exact),
        (TypedArray::U32(p), TypedArray::U32(q)) => summary(p, q, exact),
        (TypedArray::U64(p), TypedArray::U64(q)) => summary(p, q, exact),
        (TypedArray::I8(p), TypedArray::I8(q)) => summary(p, q, exact),
        (TypedArray::I16(p), TypedArray::I16(q)) => summary(p, q, exact),
        (TypedArray::I32(p), TypedArray::I32(q)) => summary(p, q, exact),
        (TypedArray::I64(p), TypedArray::I64(q)) => summary(p, q, exact),
        (TypedArray::F32(p), TypedArray::F32(q)) => {
            summary(p, q, |m, n| m.to_bits() == n.to_bits())
        }
        (TypedArray::F64(p), TypedArray::F64(q)) => {
            summary(p, q, |m, n| m.to_bits() == n.to_bits())
        }
        _ => None,
    }
}

/// Structural equality that looks through shared-object definitions into each image's
/// table (the same `Rc` may carry different contents in the two images).
fn same(va: &Value, ia: &Image, vb: &Value, ib: &Image, depth: usize) -> bool {
    if depth > MAX_EQ_DEPTH {
        return va == vb;
    }
    let d = depth + 1;
    match (va, vb) {
        (Value::Shared(na), Value::Shared(nb)) => {
            na == nb
                && match (shared(ia, *na), shared(ib, *nb)) {
                    (Some(x), Some(y)) => same(x, ia, y, ib, d),
                    (None, None) => true,
                    _ => false,
                }
        }
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, ia, y, ib, d))
        }
        (Value::Map(xs), Value::Map(ys)) => {
            let in_order = || {
                xs.iter()
                    .zip(ys)
                    .all(|((kx, x), (ky, y))| same(kx, ia, ky, ib, d) && same(x, ia, y, ib, d))
            };
            // Same length and distinct keys (as maps have): each key of `xs` found in `ys`
            // with an equal value means equal maps, whatever the order.
            let by_key = || {
                xs.iter().all(|(k, x)| {
                    ys.iter()
                        .find(|(ky, _)| same(k, ia, ky, ib, d))
                        .is_some_and(|(_, y)| same(x, ia, y, ib, d))
                })
            };
            xs.len() == ys.len() && (in_order() || (xs.len() <= MAX_KEYED && by_key()))
        }
        (Value::Tag(tx, x), Value::Tag(ty, y)) => tx == ty && same(x, ia, y, ib, d),
        // Bitwise for floats, so NaN equals itself and -0.0 differs from 0.0.
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Typed(TypedArray::F64(x)), Value::Typed(TypedArray::F64(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (Value::Typed(TypedArray::F32(x)), Value::Typed(TypedArray::F32(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => va == vb,
    }
}

/// The content of shared object `n` of an image.
fn shared(img: &Image, n: u64) -> Option<&Value> {
    usize::try_from(n)
        .ok()
        .and_then(|i| img.shared.get(i))
        .and_then(Option::as_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ckpt::image::{Fingerprint, Header};

    fn image(shared: Vec<Option<Value>>) -> Image {
        Image {
            path: "x.ckpt".into(),
            header: Header {
                format: 1,
                fingerprint: Fingerprint::default(),
                created_unix: 0,
                program: "x".into(),
                args: Vec::new(),
                ckpt_file: None,
                options: Vec::new(),
            },
            frames: Vec::new(),
            components: Vec::new(),
            exe: None,
            shared: shared.into(),
            sections: Vec::new(),
            file_len: 0,
        }
    }

    fn map(entries: &[(u64, u64)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::Uint(*k), Value::Uint(*v)))
                .collect(),
        )
    }

    #[test]
    fn maps_compare_by_key_whatever_the_order() {
        let (ia, ib) = (image(Vec::new()), image(Vec::new()));
        assert!(same(
            &map(&[(1, 10), (2, 20)]),
            &ia,
            &map(&[(2, 20), (1, 10)]),
            &ib,
            0
        ));
        assert!(!same(
            &map(&[(1, 10), (2, 20)]),
            &ia,
            &map(&[(2, 21), (1, 10)]),
            &ib,
            0
        ));
        assert!(!same(
            &map(&[(1, 10)]),
            &ia,
            &map(&[(1, 10), (2, 20)]),
            &ib,
            0
        ));
    }

    #[test]
    fn shared_contents_are_compared_per_image() {
        let ia = image(vec![Some(Value::Uint(1))]);
        let ib = image(vec![Some(Value::Uint(2))]);
        assert!(!same(&Value::Shared(0), &ia, &Value::Shared(0), &ib, 0));
        assert!(same(&Value::Shared(0), &ia, &Value::Shared(0), &ia, 0));
        assert!(same(&Value::Ref(0), &ia, &Value::Ref(0), &ib, 0));
    }

    #[test]
    fn floats_compare_bitwise() {
        let (ia, ib) = (image(Vec::new()), image(Vec::new()));
        let nan = Value::Float(f64::NAN);
        assert!(same(&nan, &ia, &nan, &ib, 0));
        assert!(!same(&Value::Float(0.0), &ia, &Value::Float(-0.0), &ib, 0));
        let x = TypedArray::F64(vec![1.0, 2.0, 3.0]);
        let y = TypedArray::F64(vec![1.0, 2.5, 3.5]);
        assert_eq!(
            typed_changes(&x, &y).as_deref(),
            Some("2 of 3 elements differ, first [1]: 2.0 → 2.5")
        );
        assert_eq!(typed_changes(&x, &x), None);
    }
}
