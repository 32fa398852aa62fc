//! The `gfx` component of an image (the graphics engine `ckpt::gfx`): its summary in the
//! human report, one surface's drawing state (`cargo ckpt inspect --surface N`), and a
//! surface as a PNG file (`cargo ckpt inspect --surface N --png FILE`, feature `png`).
//!
//! The component, as `ckpt::gfx` writes it (or `null` when the program never drew):
//!
//! ```text
//! {"frame": u, "next_id": u, "shown": [id]|null, "dirty": bool, "script_pos": u,
//!  "surfaces": [{"id": u, "width": u, "height": u,
//!                "state": {drawing state}, "stack": [{drawing state}],
//!                "pixels": u8 typed array (premultiplied RGBA, rows top to bottom)}]}
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ckpt::image::Image;
use ckpt::state::{TypedArray, Value};

use super::text::{float, ValueText};
use super::InspectOptions;

/// Why a surface of an image cannot be shown or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GfxError {
    /// The image could not be read (missing, damaged, newer format, …).
    #[error(transparent)]
    Image(#[from] ckpt::Error),
    /// The image has no `gfx` component, or it is `null`: the program never drew.
    #[error(
        "{}: this image has no graphics state: the program did not draw (no `gfx` \
         component); --surface and --png apply to images of programs that use ckpt::gfx",
        path.display()
    )]
    NoGraphics {
        /// The image.
        path: PathBuf,
    },
    /// The surface asked for is not in the image.
    #[error(
        "{}: no surface {wanted} in this image; surfaces present: {}",
        path.display(),
        ids(present)
    )]
    NoSurface {
        /// The image.
        path: PathBuf,
        /// The id asked for.
        wanted: u64,
        /// The ids of the surfaces the image holds.
        present: Vec<u64>,
    },
    /// `--png` without `--surface`, and no surface was ever presented.
    #[error(
        "{}: no surface is shown (the program presented no frame yet), so --png needs \
         --surface N; surfaces present: {}",
        path.display(),
        ids(present)
    )]
    NothingShown {
        /// The image.
        path: PathBuf,
        /// The ids of the surfaces the image holds.
        present: Vec<u64>,
    },
    /// The component does not have the shape `ckpt::gfx` writes (a corrupt image).
    #[error("{}: corrupt image: the `gfx` component: {detail}", path.display())]
    Corrupt {
        /// The image.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The PNG file could not be written.
    #[error("cannot write {}: {detail}", path.display())]
    Write {
        /// The file asked for.
        path: PathBuf,
        /// Why, and what to do.
        detail: String,
    },
}

fn ids(present: &[u64]) -> String {
    if present.is_empty() {
        return "none".into();
    }
    let s: Vec<String> = present.iter().map(u64::to_string).collect();
    s.join(", ")
}

/// The `gfx` component, read.
struct Gfx<'a> {
    frame: u64,
    shown: Option<u64>,
    dirty: bool,
    surfaces: Vec<Surf<'a>>,
}

struct Surf<'a> {
    id: u64,
    width: u64,
    height: u64,
    state: &'a Value,
    stack: &'a Value,
    pixels: &'a Value,
}

impl Surf<'_> {
    /// The pixels, checked against the size.
    fn pixels(&self) -> Result<&[u8], String> {
        let px = match self.pixels {
            Value::Typed(TypedArray::U8(px)) => px.as_slice(),
            Value::Bytes(px) => px.as_slice(),
            other => {
                return Err(format!(
                    "surface {}: pixels are a {}, not bytes",
                    self.id,
                    other.kind()
                ))
            }
        };
        let want = u128::from(self.width) * u128::from(self.height) * 4;
        if self.width == 0 || self.height == 0 || px.len() as u128 != want {
            return Err(format!(
                "surface {}: {} bytes of pixels for {}×{} (expected {want})",
                self.id,
                px.len(),
                self.width,
                self.height
            ));
        }
        Ok(px)
    }

    fn stack_depth(&self) -> Option<usize> {
        match self.stack {
            Value::Array(items) => Some(items.len()),
            _ => None,
        }
    }
}

impl Gfx<'_> {
    fn ids(&self) -> Vec<u64> {
        self.surfaces.iter().map(|s| s.id).collect()
    }

    /// `6 frames presented (the last: frame 5)`.
    fn frames(&self) -> String {
        match self.frame {
            0 => "no frame presented".into(),
            1 => "1 frame presented (frame 0)".into(),
            n => format!("{n} frames presented (the last: frame {})", n - 1),
        }
    }

    /// `frame 5`, or `no frame presented`: what the pixels are as of.
    #[cfg(feature = "png")]
    fn as_of(&self, id: u64) -> String {
        let mut s = match self.frame {
            0 => "no frame presented yet".to_string(),
            n => format!("frame {}", n - 1),
        };
        if self.shown == Some(id) && self.dirty {
            s.push_str(", drawn on since");
        }
        s
    }

    /// `shown` / `shown, drawn on since frame 5 was presented` / empty.
    fn shown_note(&self, id: u64) -> Option<String> {
        (self.shown == Some(id)).then(|| {
            if self.dirty {
                match self.frame {
                    0 => "shown, drawn on since".to_string(),
                    n => format!("shown, drawn on since frame {} was presented", n - 1),
                }
            } else {
                "shown".to_string()
            }
        })
    }
}

/// Follows a shared-object definition to its value.
fn deref<'a>(v: &'a Value, shared: &'a [Option<Value>]) -> &'a Value {
    let mut v = v;
    for _ in 0..8 {
        match v {
            Value::Shared(n) | Value::Ref(n) => {
                match usize::try_from(*n).ok().and_then(|i| shared.get(i)) {
                    Some(Some(inner)) => v = inner,
                    _ => return v,
                }
            }
            _ => return v,
        }
    }
    v
}

/// Reads the component; `Ok(None)` when it is `null`.
fn parse<'a>(v: &'a Value, shared: &'a [Option<Value>]) -> Result<Option<Gfx<'a>>, String> {
    let v = deref(v, shared);
    if matches!(v, Value::Null) {
        return Ok(None);
    }
    let Value::Map(_) = v else {
        return Err(format!("a {}, not a map", v.kind()));
    };
    let field = |m: &'a Value, k: &str| -> Result<&'a Value, String> {
        m.get(k)
            .map(|x| deref(x, shared))
            .ok_or_else(|| format!("no `{k}`"))
    };
    let uint = |m: &'a Value, k: &str| -> Result<u64, String> {
        let x = field(m, k)?;
        x.as_u64()
            .ok_or_else(|| format!("`{k}` is a {}, not a number", x.kind()))
    };
    let frame = uint(v, "frame")?;
    // `Option<u64>` as `State` writes it (`null` or `[id]`); a bare id is read too.
    let shown = match field(v, "shown")? {
        Value::Null => None,
        Value::Uint(n) => Some(*n),
        Value::Array(items) if items.len() == 1 => match deref(&items[0], shared) {
            Value::Uint(n) => Some(*n),
            other => return Err(format!("`shown` holds a {}", other.kind())),
        },
        other => return Err(format!("`shown` is a {}", other.kind())),
    };
    let dirty = matches!(field(v, "dirty")?, Value::Bool(true));
    let Value::Array(items) = field(v, "surfaces")? else {
        return Err("`surfaces` is not an array".into());
    };
    let mut surfaces = Vec::with_capacity(items.len());
    for s in items.iter() {
        let s = deref(s, shared);
        let id = uint(s, "id")?;
        let ctx = |e: String| format!("surface {id}: {e}");
        surfaces.push(Surf {
            id,
            width: uint(s, "width").map_err(ctx)?,
            height: uint(s, "height").map_err(ctx)?,
            state: field(s, "state").map_err(ctx)?,
            stack: field(s, "stack").map_err(ctx)?,
            pixels: field(s, "pixels").map_err(ctx)?,
        });
    }
    Ok(Some(Gfx {
        frame,
        shown,
        dirty,
        surfaces,
    }))
}

/// The text report's line for the component, with one line per surface below it:
///
/// ```text
/// 6 frames presented (the last: frame 5); shown: surface 0; 1 surface
///       surface 0: 640×480, shown
/// ```
///
/// `None` when it does not have the expected shape (the generic rendering shows it).
pub(crate) fn summary(v: &Value, shared: &[Option<Value>], indent: &str) -> Option<String> {
    let g = match parse(v, shared) {
        Ok(Some(g)) => g,
        Ok(None) => return Some("null (the program did not draw)".into()),
        Err(_) => return None,
    };
    let mut out = g.frames();
    match g.shown {
        Some(id) => {
            let _ = write!(out, "; shown: surface {id}");
            if g.dirty {
                out.push_str(" (drawn on since)");
            }
        }
        None => out.push_str("; nothing shown"),
    }
    let n = g.surfaces.len();
    let _ = write!(out, "; {n} surface{}", super::plural(n));
    for s in &g.surfaces {
        let _ = write!(out, "\n{indent}surface {}: {}×{}", s.id, s.width, s.height);
        if let Some(note) = g.shown_note(s.id) {
            let _ = write!(out, ", {note}");
        }
        if let Some(d) = s.stack_depth().filter(|d| *d > 0) {
            let _ = write!(out, ", {d} saved drawing state{}", super::plural(d));
        }
    }
    if n > 0 {
        let _ = write!(
            out,
            "\n{indent}(one surface's drawing state: --surface N; its pixels as PNG: --png FILE)"
        );
    }
    Some(out)
}

/// The image's graphics state, or [`GfxError::NoGraphics`].
fn gfx_of<'a>(image: &'a Image, path: &Path) -> Result<Gfx<'a>, GfxError> {
    let v = image
        .components
        .iter()
        .find(|(name, _)| name == "gfx")
        .map(|(_, v)| v)
        .ok_or_else(|| GfxError::NoGraphics {
            path: path.to_path_buf(),
        })?;
    match parse(v, &image.shared) {
        Ok(Some(g)) => Ok(g),
        Ok(None) => Err(GfxError::NoGraphics {
            path: path.to_path_buf(),
        }),
        Err(detail) => Err(GfxError::Corrupt {
            path: path.to_path_buf(),
            detail,
        }),
    }
}

/// Which surface: the one asked for, else the shown one. The bool: whether it was chosen
/// as the shown one.
fn pick<'g, 'a>(
    g: &'g Gfx<'a>,
    path: &Path,
    surface: Option<u64>,
) -> Result<(&'g Surf<'a>, bool), GfxError> {
    let (id, defaulted) = match (surface, g.shown) {
        (Some(id), _) => (id, false),
        (None, Some(id)) => (id, true),
        (None, None) => {
            return Err(GfxError::NothingShown {
                path: path.to_path_buf(),
                present: g.ids(),
            })
        }
    };
    let s = g
        .surfaces
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| GfxError::NoSurface {
            path: path.to_path_buf(),
            wanted: id,
            present: g.ids(),
        })?;
    Ok((s, defaulted))
}

/// One surface's size and drawing state (`cargo ckpt inspect IMAGE --surface N`):
/// transform, fill and stroke paints, line style, font, clip regions, saved states. With
/// `surface` `None`, the shown surface. JSON with `opts.json`.
pub fn surface(
    path: &Path,
    surface: Option<u64>,
    opts: &InspectOptions,
) -> Result<String, GfxError> {
    let image = super::read_image(path, opts)?;
    let g = gfx_of(&image, path)?;
    let (s, _) = pick(&g, path, surface)?;
    let px = s.pixels().map_err(|detail| GfxError::Corrupt {
        path: path.to_path_buf(),
        detail,
    })?;
    let vt = ValueText {
        opts,
        shared: &image.shared,
    };
    let st = deref(s.state, &image.shared);
    let get = |k: &str| st.get(k).map(|v| deref(v, &image.shared));
    // Unit enum variants (`Butt`, `SourceOver`, `Mono`) without quotes.
    let show = |k: &str| match get(k) {
        Some(Value::Text(t)) => t.clone(),
        Some(v) => vt.render(v),
        None => "?".to_string(),
    };
    let clips = match get("clip") {
        Some(Value::Array(c)) => c.len(),
        _ => 0,
    };
    if opts.json {
        let num = |k: &str| match get(k) {
            Some(Value::Float(f)) => serde_json::json!(f),
            Some(Value::Uint(n)) => serde_json::json!(n),
            _ => serde_json::Value::Null,
        };
        let doc = serde_json::json!({
            "file": path.display().to_string(),
            "surface": s.id,
            "width": s.width,
            "height": s.height,
            "shown": g.shown == Some(s.id),
            "drawn_on_since_shown": g.shown == Some(s.id) && g.dirty,
            "frames_presented": g.frame,
            "transform": get("transform").map(transform),
            "fill": get("fill").map(|p| paint(p, &vt)),
            "stroke": get("stroke").map(|p| paint(p, &vt)),
            "line_width": num("line_width"),
            "font": show("font"),
            "font_size": num("font_size"),
            "clip_regions": clips,
            "stack_depth": s.stack_depth(),
            "pixel_bytes": px.len(),
        });
        let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
        out.push('\n');
        return Ok(out);
    }
    let mut o = String::new();
    let _ = write!(o, "surface {}: {}×{}", s.id, s.width, s.height);
    if let Some(note) = g.shown_note(s.id) {
        let _ = write!(o, ", {note}");
    }
    let _ = writeln!(o, "\n  image:      {}", path.display());
    let _ = writeln!(o, "  frames:     {}", g.frames());
    let _ = writeln!(
        o,
        "  transform:  {}",
        get("transform").map_or_else(|| "?".into(), transform)
    );
    let _ = writeln!(
        o,
        "  fill:       {}",
        get("fill").map_or_else(|| "?".into(), |p| paint(p, &vt))
    );
    let _ = writeln!(
        o,
        "  stroke:     {}",
        get("stroke").map_or_else(|| "?".into(), |p| paint(p, &vt))
    );
    let _ = writeln!(
        o,
        "  line:       width {}, cap {}, join {}, miter limit {}",
        show("line_width"),
        show("cap"),
        show("join"),
        show("miter_limit")
    );
    if let Some(Value::Array(d)) = get("dash") {
        if !d.is_empty() {
            let _ = writeln!(
                o,
                "  dash:       {} offset {}",
                show("dash"),
                show("dash_offset")
            );
        }
    }
    let _ = writeln!(
        o,
        "  blend:      {}, alpha {}, anti-alias {}",
        show("blend"),
        show("alpha"),
        show("anti_alias")
    );
    let _ = writeln!(o, "  font:       {} {} px", show("font"), show("font_size"));
    let _ = writeln!(
        o,
        "  clip:       {}",
        match clips {
            0 => "none".to_string(),
            n => format!("{n} region{} (intersected)", super::plural(n)),
        }
    );
    let _ = writeln!(
        o,
        "  stack:      {} (drawing states saved by save_state)",
        s.stack_depth()
            .map_or_else(|| "?".into(), |d| format!("depth {d}"))
    );
    let _ = writeln!(
        o,
        "  pixels:     {} bytes, premultiplied RGBA (as PNG: --png FILE)",
        px.len()
    );
    Ok(o)
}

/// `identity`, or `[sx ky kx sy tx ty]`.
fn transform(v: &Value) -> String {
    let f = |k: &str| match v.get(k) {
        Some(Value::Float(x)) => Some(*x),
        Some(Value::Uint(n)) => Some(*n as f64),
        _ => None,
    };
    let parts: Option<Vec<f64>> = ["sx", "ky", "kx", "sy", "tx", "ty"]
        .iter()
        .map(|k| f(k))
        .collect();
    match parts {
        Some(p) if p == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0] => "identity".into(),
        Some(p) => {
            let s: Vec<String> = p.into_iter().map(float).collect();
            format!("[sx ky kx sy tx ty] = [{}]", s.join(" "))
        }
        None => "?".into(),
    }
}

/// `#rrggbbaa` for a color.
fn color(v: &Value) -> Option<String> {
    let c = |k: &str| v.get(k).and_then(Value::as_u64);
    Some(format!(
        "#{:02x}{:02x}{:02x}{:02x}",
        c("r")?,
        c("g")?,
        c("b")?,
        c("a")?
    ))
}

/// `solid #ff0000ff`, `linear gradient (3 stops)`, `radial gradient (2 stops)`.
fn paint(v: &Value, vt: &ValueText<'_>) -> String {
    if let Value::Map(entries) = v {
        if let [(Value::Text(kind), payload)] = &entries[..] {
            let stops = || match payload.get("stops") {
                Some(Value::Array(s)) => format!("{} stop{}", s.len(), super::plural(s.len())),
                _ => "? stops".into(),
            };
            let shown = match kind.as_str() {
                // A tuple variant's payload is an array of its fields.
                "Solid" => match payload {
                    Value::Array(one) if one.len() == 1 => color(&one[0]),
                    other => color(other),
                }
                .map(|c| format!("solid {c}")),
                "Linear" => Some(format!("linear gradient ({})", stops())),
                "Radial" => Some(format!("radial gradient ({})", stops())),
                _ => None,
            };
            if let Some(s) = shown {
                return s;
            }
        }
    }
    vt.render(v)
}

/// Writes one surface as a PNG file (`cargo ckpt inspect IMAGE --surface N --png FILE`),
/// atomically (a temporary file in the same directory, renamed); with `surface` `None`,
/// the shown surface. Returns the line to print:
/// `wrote surface 0 (640×480, frame 119) to now.png` (the pixels as of the last frame
/// presented, numbered as the `png:DIR` display names its files), or `wrote surface 0
/// (the shown one; 640×480, frame 119) to now.png` when `surface` is `None`.
#[cfg(feature = "png")]
pub fn surface_png(
    path: &Path,
    surface: Option<u64>,
    out: &Path,
    opts: &InspectOptions,
) -> Result<String, GfxError> {
    let image = super::read_image(path, opts)?;
    let g = gfx_of(&image, path)?;
    let (s, defaulted) = pick(&g, path, surface)?;
    let corrupt = |detail: String| GfxError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let px = s.pixels().map_err(corrupt)?;
    let (w, h) = (
        u32::try_from(s.width).map_err(|_| corrupt(format!("surface {}: width", s.id)))?,
        u32::try_from(s.height).map_err(|_| corrupt(format!("surface {}: height", s.id)))?,
    );
    let png = ckpt::gfx::png_of_premultiplied(w, h, px)
        .map_err(|e| corrupt(format!("surface {}: {e}", s.id)))?;
    write_atomic(out, &png)?;
    Ok(format!(
        "wrote surface {} ({}{}×{}, {}) to {}",
        s.id,
        if defaulted { "the shown one; " } else { "" },
        s.width,
        s.height,
        g.as_of(s.id),
        out.display()
    ))
}

/// Writes `bytes` to `out` through a temporary file in the same directory and a rename:
/// `out` is either its old content or the whole new file.
#[cfg(feature = "png")]
fn write_atomic(out: &Path, bytes: &[u8]) -> Result<(), GfxError> {
    use std::io::Write as _;
    let fail = |detail: String| GfxError::Write {
        path: out.to_path_buf(),
        detail,
    };
    let Some(name) = out.file_name() else {
        return Err(fail(
            "it names no file (give a file name such as now.png)".into(),
        ));
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail(format!(
            "the directory {} does not exist (create it first, or choose another path)",
            dir.display()
        )));
    }
    if out.is_dir() {
        return Err(fail(
            "it is a directory (give a file name such as now.png)".into(),
        ));
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, out)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (t(k), v)).collect())
    }

    fn component(dirty: bool) -> Value {
        let state = map(vec![
            (
                "transform",
                map(vec![
                    ("sx", Value::Float(1.0)),
                    ("ky", Value::Float(0.0)),
                    ("kx", Value::Float(0.0)),
                    ("sy", Value::Float(1.0)),
                    ("tx", Value::Float(0.0)),
                    ("ty", Value::Float(0.0)),
                ]),
            ),
            (
                "fill",
                map(vec![(
                    "Solid",
                    Value::Array(
                        vec![map(vec![
                            ("r", Value::Uint(255)),
                            ("g", Value::Uint(0)),
                            ("b", Value::Uint(0)),
                            ("a", Value::Uint(255)),
                        ])]
                        .into(),
                    ),
                )]),
            ),
        ]);
        let surf = |id: u64, w: u64, h: u64| {
            map(vec![
                ("id", Value::Uint(id)),
                ("width", Value::Uint(w)),
                ("height", Value::Uint(h)),
                ("state", state.clone()),
                ("stack", Value::Array(vec![].into())),
                (
                    "pixels",
                    Value::Typed(TypedArray::U8(vec![0; (w * h * 4) as usize])),
                ),
            ])
        };
        map(vec![
            ("frame", Value::Uint(6)),
            ("next_id", Value::Uint(2)),
            ("shown", Value::Array(vec![Value::Uint(0)].into())),
            ("dirty", Value::Bool(dirty)),
            ("script_pos", Value::Uint(0)),
            (
                "surfaces",
                Value::Array(vec![surf(0, 64, 48), surf(1, 8, 8)].into()),
            ),
        ])
    }

    #[test]
    fn summary_names_frames_and_surfaces() {
        let s = summary(&component(false), &[], "    ").unwrap();
        assert!(
            s.starts_with("6 frames presented (the last: frame 5); shown: surface 0; 2 surfaces"),
            "{s}"
        );
        assert!(s.contains("\n    surface 0: 64×48, shown\n"), "{s}");
        assert!(s.contains("\n    surface 1: 8×8\n"), "{s}");
        let s = summary(&component(true), &[], "").unwrap();
        assert!(
            s.contains("surface 0: 64×48, shown, drawn on since frame 5 was presented"),
            "{s}"
        );
        assert_eq!(
            summary(&Value::Null, &[], "").unwrap(),
            "null (the program did not draw)"
        );
        assert!(summary(&Value::Uint(3), &[], "").is_none());
    }

    #[test]
    fn paints_and_transforms() {
        let v = component(false);
        let Some(Value::Array(s)) = v.get("surfaces") else {
            panic!()
        };
        let st = s[0].get("state").unwrap();
        assert_eq!(transform(st.get("transform").unwrap()), "identity");
        let opts = InspectOptions::default();
        let vt = ValueText {
            opts: &opts,
            shared: &[],
        };
        assert_eq!(paint(st.get("fill").unwrap(), &vt), "solid #ff0000ff");
        let lin = map(vec![(
            "Linear",
            map(vec![("stops", Value::Array(vec![Value::Null; 3].into()))]),
        )]);
        assert_eq!(paint(&lin, &vt), "linear gradient (3 stops)");
    }

    #[test]
    fn a_short_pixel_array_is_corrupt() {
        let v = map(vec![
            ("frame", Value::Uint(1)),
            ("shown", Value::Null),
            ("dirty", Value::Bool(false)),
            (
                "surfaces",
                Value::Array(
                    vec![map(vec![
                        ("id", Value::Uint(3)),
                        ("width", Value::Uint(2)),
                        ("height", Value::Uint(2)),
                        ("state", map(vec![])),
                        ("stack", Value::Array(vec![].into())),
                        ("pixels", Value::Typed(TypedArray::U8(vec![0; 15]))),
                    ])]
                    .into(),
                ),
            ),
        ]);
        let g = parse(&v, &[]).unwrap().unwrap();
        let e = g.surfaces[0].pixels().unwrap_err();
        assert_eq!(e, "surface 3: 15 bytes of pixels for 2×2 (expected 16)");
    }
}
