//! `cargo ckpt diff A B`: what changed between two images (of one run, usually).
//!
//! The images are compared into a small model ([`Diff`]) that `diff_out` renders as text
//! or as one JSON document.

use std::path::Path;

use ckpt::image::{FrameRecord, Image};
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
pub(crate) const MAX_CHANGES_PER_VALUE: usize = 12;
/// Changed leaves counted per variable (the count says `N+` beyond).
pub(crate) const MAX_CHANGES_COUNTED: usize = 10_000;
/// Arrays up to this length are compared element by element; longer ones as a whole.
const MAX_ELEMENTWISE: usize = 64;
/// Maps up to this size are compared by key, regardless of order (quadratic).
const MAX_KEYED: usize = 4096;

/// Reads two images and describes their differences: header, build fingerprint, each
/// frame's function, save point (with its file:line) and variables, components and
/// section sizes; one JSON document with `opts.json`. The creation times are always
/// shown; everything else only where it differs. Variables the transform generates are
/// named as `inspect` names them (`(for loop 1: iterator)`).
pub fn diff(a: &Path, b: &Path, opts: &InspectOptions) -> Result<String, ckpt::Error> {
    let ia = super::read_image(a, opts)?;
    let ib = super::read_image(b, opts)?;
    let d = compare(&ia, &ib, opts);
    Ok(if opts.json {
        super::diff_out::json(&d, opts)
    } else {
        super::diff_out::text(&d, opts)
    })
}

/// The differences between two images.
pub(crate) struct Diff<'a> {
    pub a: &'a Image,
    pub b: &'a Image,
    /// Header fields that differ: (name, value in A, value in B), as text.
    pub header: Vec<(&'static str, String, String)>,
    /// The number of frames, if it differs.
    pub frame_count: Option<(usize, usize)>,
    /// Frames that differ.
    pub frames: Vec<FrameDiff<'a>>,
    /// Components that differ.
    pub components: Vec<VarChange<'a>>,
    /// Sections whose size differs: (name, bytes in A, bytes in B).
    pub sections: Vec<(String, u64, u64)>,
    /// File sizes, if they differ.
    pub size: Option<(u64, u64)>,
}

impl Diff<'_> {
    /// Same build, same frames, same values (sizes may still differ).
    pub fn same(&self) -> bool {
        self.header.is_empty()
            && self.frame_count.is_none()
            && self.frames.is_empty()
            && self.components.is_empty()
    }
}

/// A frame's lent map: local → callee parameter.
pub(crate) type Lent<'a> = &'a [(String, String)];

/// A frame present in either image that differs.
pub(crate) struct FrameDiff<'a> {
    pub index: usize,
    pub a: Option<&'a FrameRecord>,
    pub b: Option<&'a FrameRecord>,
    /// Function, save point or body differ (both present).
    pub moved: bool,
    pub args: Vec<VarChange<'a>>,
    pub live: Vec<VarChange<'a>>,
    /// The lent maps, if they differ.
    pub lent: Option<(Lent<'a>, Lent<'a>)>,
}

impl FrameDiff<'_> {
    /// The function's name (from A, else B).
    pub fn function(&self) -> &str {
        self.a.or(self.b).map_or("", |f| f.function.as_str())
    }
}

/// A named value (variable or component) that differs.
pub(crate) enum VarChange<'a> {
    /// Only in A.
    Removed { name: &'a str, value: &'a Value },
    /// Only in B.
    Added { name: &'a str, value: &'a Value },
    /// In both, with these changed leaves (at most [`MAX_CHANGES_COUNTED`]).
    Changed {
        name: &'a str,
        leaves: Vec<Leaf<'a>>,
    },
}

/// One changed leaf: its path from the variable, and the values on each side.
pub(crate) struct Leaf<'a> {
    /// `acc.pos[1]`, starting with the variable's display name.
    pub path: String,
    pub what: LeafChange<'a>,
}

pub(crate) enum LeafChange<'a> {
    /// Old and new value; `None` where a map key is absent on that side.
    Values(Option<&'a Value>, Option<&'a Value>),
    /// Typed arrays of one type and length: `3 of 64 elements differ, first [5]: 1.0 → 2.0`.
    Typed(String),
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

/// Compares two images read already.
pub(crate) fn compare<'a>(ia: &'a Image, ib: &'a Image, opts: &'a InspectOptions) -> Diff<'a> {
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
    let (ha, hb) = (&ia.header, &ib.header);
    let (fa, fb) = (&ha.fingerprint, &hb.fingerprint);
    let header: Vec<(&'static str, String, String)> = [
        ("format", ha.format.to_string(), hb.format.to_string()),
        ("program", ha.program.clone(), hb.program.clone()),
        ("args", format!("{:?}", ha.args), format!("{:?}", hb.args)),
        (
            "ckpt file",
            format!("{:?}", ha.ckpt_file),
            format!("{:?}", hb.ckpt_file),
        ),
        (
            "options",
            format!("{:?}", ha.options),
            format!("{:?}", hb.options),
        ),
        (
            "fingerprint crate",
            fa.crate_name.clone(),
            fb.crate_name.clone(),
        ),
        (
            "fingerprint version",
            fa.crate_version.clone(),
            fb.crate_version.clone(),
        ),
        (
            "fingerprint sources",
            fa.sources.clone(),
            fb.sources.clone(),
        ),
        ("fingerprint rustc", fa.rustc.clone(), fb.rustc.clone()),
        ("fingerprint target", fa.target.clone(), fb.target.clone()),
        (
            "executable",
            format!("{:?}", ia.exe),
            format!("{:?}", ib.exe),
        ),
    ]
    .into_iter()
    .filter(|(_, x, y)| x != y)
    .collect();

    let (sa, sb) = (&ia.frames, &ib.frames);
    let frame_count = (sa.len() != sb.len()).then_some((sa.len(), sb.len()));
    let mut frames = Vec::new();
    for i in 0..sa.len().max(sb.len()) {
        let (x, y) = (sa.get(i), sb.get(i));
        let mut fd = FrameDiff {
            index: i,
            a: x,
            b: y,
            moved: false,
            args: Vec::new(),
            live: Vec::new(),
            lent: None,
        };
        if let (Some(fa), Some(fb)) = (x, y) {
            fd.moved = fa.function != fb.function || fa.at != fb.at || fa.body_hash != fb.body_hash;
            fd.args = vars(&fa.args, &fb.args, &a, &b, true);
            fd.live = vars(&fa.live, &fb.live, &a, &b, true);
            if fa.lent != fb.lent {
                fd.lent = Some((&fa.lent, &fb.lent));
            }
            if !fd.moved && fd.args.is_empty() && fd.live.is_empty() && fd.lent.is_none() {
                continue;
            }
        }
        frames.push(fd);
    }

    let components = vars(&ia.components, &ib.components, &a, &b, false);
    let sections = ia
        .sections
        .iter()
        .map(|(name, size_a)| {
            let size_b = ib
                .sections
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, s)| *s);
            (name.clone(), *size_a, size_b)
        })
        .filter(|(_, x, y)| x != y)
        .collect();
    Diff {
        a: ia,
        b: ib,
        header,
        frame_count,
        frames,
        components,
        sections,
        size: (ia.file_len != ib.file_len).then_some((ia.file_len, ib.file_len)),
    }
}

/// Named values present in `xa`, `xb` or both, each reported once when it differs.
/// `generated`: the names may be the transform's (shown as `inspect` shows them).
fn vars<'a>(
    xa: &'a [(String, Value)],
    xb: &'a [(String, Value)],
    a: &Side<'a>,
    b: &Side<'a>,
    generated: bool,
) -> Vec<VarChange<'a>> {
    let shown = |n: &str| {
        if generated {
            super::display_name(n)
        } else {
            n.to_string()
        }
    };
    let mut out = Vec::new();
    for (name, va) in xa {
        match xb.iter().find(|(n, _)| n == name) {
            None => out.push(VarChange::Removed { name, value: va }),
            Some((_, vb)) => {
                let mut leaves = Vec::new();
                changes(&shown(name), va, vb, a, b, &mut leaves, 0);
                if !leaves.is_empty() {
                    out.push(VarChange::Changed { name, leaves });
                }
            }
        }
    }
    for (name, vb) in xb {
        if !xa.iter().any(|(n, _)| n == name) {
            out.push(VarChange::Added { name, value: vb });
        }
    }
    out
}

/// The changed leaves between `va` and `vb`: struct fields and short arrays are
/// descended into, typed arrays summarised.
fn changes<'a>(
    path: &str,
    va: &'a Value,
    vb: &'a Value,
    a: &Side<'a>,
    b: &Side<'a>,
    out: &mut Vec<Leaf<'a>>,
    depth: usize,
) {
    if out.len() >= MAX_CHANGES_COUNTED || same(va, a.image, vb, b.image, 0) {
        return;
    }
    let leaf = |path: String, x: Option<&'a Value>, y: Option<&'a Value>| Leaf {
        path,
        what: LeafChange::Values(x, y),
    };
    if depth < MAX_DIFF_DEPTH {
        match (va, vb) {
            (Value::Map(xs), Value::Map(ys)) if same_fields(xs, ys) => {
                for ((k, x), (_, y)) in xs.iter().zip(ys.iter()) {
                    let field = k.as_str().unwrap_or("?");
                    changes(&format!("{path}.{field}"), x, y, a, b, out, depth + 1);
                }
                return;
            }
            (Value::Map(xs), Value::Map(ys)) if xs.len().max(ys.len()) <= MAX_KEYED => {
                // A HashMap's order is arbitrary: match entries by key.
                for (k, x) in xs.iter() {
                    let key = format!("{path}[{}]", a.show(k));
                    match find_key(ys, k, a.image, b.image) {
                        Some(y) => changes(&key, x, y, a, b, out, depth + 1),
                        None => out.push(leaf(key, Some(x), None)),
                    }
                }
                for (k, y) in ys.iter() {
                    if find_key(xs, k, b.image, a.image).is_none() {
                        let key = format!("{path}[{}]", b.show(k));
                        out.push(leaf(key, None, Some(y)));
                    }
                }
                return;
            }
            (Value::Array(xs), Value::Array(ys))
                if xs.len() == ys.len() && xs.len() <= MAX_ELEMENTWISE =>
            {
                for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
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
                    out.push(Leaf {
                        path: path.to_string(),
                        what: LeafChange::Typed(line),
                    });
                    return;
                }
            }
            _ => {}
        }
    }
    out.push(leaf(path.to_string(), Some(va), Some(vb)));
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
