//! `cargo ckpt inspect`, `diff` and `verify`: what an image holds, for people and tools;
//! `inspect --surface N [--png FILE]`: a surface of the graphics engine ([`surface`]).
//!
//! Images are read with [`ckpt::image::read`], the decoder a restore uses, so every
//! failure is the same typed [`ckpt::Error`] a restore would report.

mod binary;
mod components;
mod diff;
mod diff_out;
mod gfx;
mod json;
mod log;
mod progress;
mod text;

use std::fmt::Write as _;
use std::path::Path;

use ckpt::image::{Fingerprint, Image};
use ckpt::state::Limits;

pub use binary::{probe_binary, verify_binary, ProbeError, VerifyBinaryError};
pub use diff::diff;
#[cfg(feature = "png")]
pub use gfx::surface_png;
pub use gfx::{surface, GfxError};
pub use log::{log, LogOptions};
pub use progress::PROGRESS_MIN_BYTES;
use text::{utc, ValueText};

/// How [`inspect`] renders an image.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// One JSON document instead of the human report.
    pub json: bool,
    /// Items shown of an array, map or typed array before `…`.
    pub max_items: usize,
    /// Characters shown of a string (and bytes of a byte string) before `…`.
    pub max_text: usize,
    /// Rough length after which one rendered value is cut with `…` (human report only).
    pub max_value_chars: usize,
    /// Decoder limits for reading the image.
    pub limits: Limits,
    /// Draw a progress bar on standard error while reading an image of at least
    /// [`PROGRESS_MIN_BYTES`], when standard error is a terminal (`cargo ckpt` sets it).
    pub progress: bool,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            json: false,
            max_items: 8,
            max_text: 80,
            max_value_chars: 400,
            limits: Limits::default(),
            progress: false,
        }
    }
}

impl InspectOptions {
    /// Options that show everything, unabbreviated.
    pub fn full() -> Self {
        InspectOptions {
            max_items: usize::MAX,
            max_text: usize::MAX,
            max_value_chars: usize::MAX,
            ..InspectOptions::default()
        }
    }
}

/// Reads the image at `path` and renders it (human report, or JSON with `opts.json`).
pub fn inspect(path: &Path, opts: &InspectOptions) -> Result<String, ckpt::Error> {
    let image = read_image(path, opts)?;
    Ok(render(&image, opts))
}

/// Reads an image with the options' limits, with a progress bar when they ask for one.
pub(crate) fn read_image(path: &Path, opts: &InspectOptions) -> Result<Image, ckpt::Error> {
    match progress::Bar::for_file(path, opts.progress) {
        Some(mut bar) => {
            ckpt::image::read_with_progress(path, &opts.limits, &mut |d, t| bar.update(d, t))
        }
        None => ckpt::image::read(path, &opts.limits),
    }
}

/// Renders an image already read.
pub fn render(image: &Image, opts: &InspectOptions) -> String {
    if opts.json {
        json::render(image, opts)
    } else {
        human(image, opts)
    }
}

/// Reads and fully validates the image at `path` (magic, version, checksum, structure),
/// returning a one-line summary such as
/// `app.ckpt: OK (format 1, 4096 bytes, program app, 2 frames, 3 components)`.
pub fn verify(path: &Path, limits: &Limits) -> Result<String, ckpt::Error> {
    let image = ckpt::image::read(path, limits)?;
    Ok(summary(path, &image))
}

/// [`verify`] with the options' limits and progress bar.
pub fn verify_with(path: &Path, opts: &InspectOptions) -> Result<String, ckpt::Error> {
    let image = read_image(path, opts)?;
    Ok(summary(path, &image))
}

pub(crate) fn summary(path: &Path, image: &Image) -> String {
    format!(
        "{}: OK (format {}, {} bytes, program {}, {} frame{}, {} component{})",
        path.display(),
        image.header.format,
        image.file_len,
        image.header.program,
        image.frames.len(),
        plural(image.frames.len()),
        image.components.len(),
        plural(image.components.len()),
    )
}

/// Like [`verify`], and also checks that the image was written by the build whose
/// fingerprint is `this_build` (see [`fingerprint_of`](crate::fingerprint_of)): a
/// mismatch is [`ckpt::Error::BuildMismatch`] naming each differing part, as a restore
/// would report it.
pub fn verify_build(
    path: &Path,
    limits: &Limits,
    this_build: &Fingerprint,
) -> Result<String, ckpt::Error> {
    let image = ckpt::image::read(path, limits)?;
    let differences = image.header.fingerprint.differences(this_build);
    if differences.is_empty() {
        Ok(format!("{}; written by this build", summary(path, &image)))
    } else {
        Err(ckpt::Error::BuildMismatch {
            path: path.to_path_buf(),
            program: image.header.program,
            differences,
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The human report.
fn human(image: &Image, opts: &InspectOptions) -> String {
    let h = &image.header;
    let fp = &h.fingerprint;
    let vt = ValueText {
        opts,
        shared: &image.shared,
    };
    let mut o = String::new();
    // Writing into a String cannot fail; the results are ignored below.
    let _ = writeln!(o, "file:       {}", image.path.display());
    let _ = writeln!(o, "size:       {} bytes", image.file_len);
    let _ = writeln!(o, "format:     {}", h.format);
    let _ = writeln!(o, "program:    {}", h.program);
    let _ = writeln!(
        o,
        "created:    {} ({})",
        utc(h.created_unix),
        h.created_unix
    );
    let _ = writeln!(o, "args:       {}", quoted_list(&h.args));
    let _ = writeln!(
        o,
        "ckpt file:  {}",
        h.ckpt_file.as_deref().unwrap_or("(default)")
    );
    if !h.options.is_empty() {
        let opts: Vec<String> = h.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "options:    {}", opts.join(" "));
    }
    let (finished, signed) = marks(&image.path);
    let _ = writeln!(
        o,
        "run:        {}",
        if finished {
            "finished (the run ended normally after writing this image)"
        } else {
            "not finished (a restore continues it)"
        }
    );
    let _ = writeln!(
        o,
        "signed:     {}",
        if signed {
            "yes, HMAC-SHA256 (a restore with the key checks it)"
        } else {
            "no"
        }
    );
    let _ = writeln!(o, "fingerprint:");
    let _ = writeln!(o, "  crate:    {} {}", fp.crate_name, fp.crate_version);
    let _ = writeln!(o, "  sources:  {}", fp.sources);
    let _ = writeln!(o, "  rustc:    {}", fp.rustc);
    let _ = writeln!(o, "  target:   {}", fp.target);
    let _ = writeln!(
        o,
        "executable: {}",
        image.exe.as_deref().unwrap_or("(not recorded)")
    );

    let _ = writeln!(o, "\nframes ({}, outermost first):", image.frames.len());
    for (i, f) in image.frames.iter().enumerate() {
        let _ = writeln!(
            o,
            "  #{i} {}  at {}  (body {:016x})",
            f.function,
            point_label(f),
            f.body_hash
        );
        section_vars(&mut o, "args", &f.args, &vt);
        section_vars(&mut o, "live", &f.live, &vt);
        if !f.lent.is_empty() {
            let _ = writeln!(o, "     lent:");
            for (name, to) in &f.lent {
                let _ = writeln!(o, "       {name} -> {to}");
            }
        }
    }

    let _ = writeln!(o, "\ncomponents ({}):", image.components.len());
    for (name, v) in &image.components {
        let shown = match name.as_str() {
            "env" => vt.env_component(v),
            "time" => components::time(v),
            "cwd" => components::cwd(v),
            "fs" => components::fs(v, "      "),
            "io" => components::io(v),
            "gfx" => gfx::summary(v, &image.shared, "      "),
            _ => None,
        };
        let _ = writeln!(o, "  {name} = {}", shown.unwrap_or_else(|| vt.render(v)));
    }

    let pending = ckpt::fs::pending_opens(&image.path);
    if !pending.is_empty() {
        let _ = writeln!(
            o,
            "\nopened after this save ({}; a restore undoes the killed run's writes):",
            ckpt::fs::pending_opens_journal_name(&image.path)
        );
        for p in &pending {
            if p.created {
                let _ = writeln!(o, "  {}  created after the save: removed", p.path.display());
            } else {
                let _ = writeln!(
                    o,
                    "  {}  cut back to {} bytes",
                    p.path.display(),
                    p.len_at_open
                );
            }
        }
    }

    let changes = ckpt::fs::pending_changes(&image.path);
    if !changes.is_empty() {
        let _ = writeln!(
            o,
            "\nrenamed or removed after this save ({}; a restore undoes them, last first):",
            ckpt::fs::pending_opens_journal_name(&image.path)
        );
        for c in &changes {
            let _ = match c {
                ckpt::fs::PendingChange::Renamed { from, to } => writeln!(
                    o,
                    "  {} -> {}  renamed: a restore renames it back",
                    from.display(),
                    to.display()
                ),
                ckpt::fs::PendingChange::Removed { path, kept, copy } => writeln!(
                    o,
                    "  {}  removed, kept as {}{}: a restore puts it back",
                    path.display(),
                    kept.display(),
                    if *copy { " (a copy)" } else { "" }
                ),
                ckpt::fs::PendingChange::DirRemoved { path } => writeln!(
                    o,
                    "  {}  empty directory removed: a restore makes it again",
                    path.display()
                ),
                _ => Ok(()),
            };
        }
    }

    let defined = image.shared.iter().filter(|s| s.is_some()).count();
    if defined > 0 {
        let _ = writeln!(o, "\nshared objects: {defined}");
        // Objects written in the heap section (first met inside another shared object)
        // appear above only as `&n`: show them here.
        let inline = inline_shared(image);
        let heap: Vec<usize> = (0..image.shared.len())
            .filter(|i| image.shared[*i].is_some() && !inline.contains(i))
            .collect();
        if !heap.is_empty() {
            let _ = writeln!(o, "heap ({} objects):", heap.len());
            for i in heap.iter().take(opts.max_items) {
                if let Some(Some(v)) = image.shared.get(*i) {
                    let _ = writeln!(o, "  @{i} = {}", vt.render(v));
                }
            }
            if heap.len() > opts.max_items {
                let _ = writeln!(o, "  … {} more", heap.len() - opts.max_items);
            }
        }
    }

    let _ = writeln!(o, "\nsections:");
    let width = image
        .sections
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0)
        .max("total".len());
    for (name, size) in &image.sections {
        let _ = writeln!(o, "  {name:<width$}  {size:>12} bytes");
    }
    let _ = writeln!(o, "  {:<width$}  {:>12} bytes", "total", image.file_len);
    o
}

fn section_vars(
    o: &mut String,
    title: &str,
    vars: &[(String, ckpt::state::Value)],
    vt: &ValueText,
) {
    if vars.is_empty() {
        return;
    }
    let _ = writeln!(o, "     {title}:");
    for (name, v) in vars {
        let _ = writeln!(o, "       {} = {}", display_name(name), vt.render(v));
    }
}

/// Where a frame is stopped, as the reports say it: `src/main.rs:12 (save point 3)`, or
/// `save point 3` in an image that does not record the site.
pub fn point_label(f: &ckpt::image::FrameRecord) -> String {
    match &f.site {
        Some(site) => format!("{site} (save point {})", f.at),
        None => format!("save point {}", f.at),
    }
}

/// Names the transform generates, told apart from the program's own: the iterator of
/// the n-th `for` loop, the n-th value evaluated ahead of a condition or statement.
pub fn display_name(name: &str) -> String {
    if let Some(n) = name
        .strip_prefix("__ckpt_it")
        .filter(|n| n.parse::<u32>().is_ok())
    {
        return format!("(for loop {n}: iterator)");
    }
    if let Some(n) = name
        .strip_prefix("__ckpt_t")
        .filter(|n| n.parse::<u32>().is_ok())
    {
        return format!("(temporary {n})");
    }
    name.to_string()
}

/// Ids of the shared objects defined in place (`@n` inside frames, components or other
/// inline definitions), found without recursion.
pub(crate) fn inline_shared(image: &Image) -> std::collections::BTreeSet<usize> {
    use ckpt::state::Value;
    let mut seen = std::collections::BTreeSet::new();
    let mut todo: Vec<&Value> = Vec::new();
    for f in &image.frames {
        todo.extend(f.live.iter().chain(&f.args).map(|(_, v)| v));
    }
    todo.extend(image.components.iter().map(|(_, v)| v));
    while let Some(v) = todo.pop() {
        match v {
            Value::Shared(n) => {
                let n = *n as usize;
                if seen.insert(n) {
                    if let Some(Some(inner)) = image.shared.get(n) {
                        todo.push(inner);
                    }
                }
            }
            Value::Array(items) => todo.extend(items),
            Value::Map(entries) => todo.extend(entries.iter().flat_map(|(k, v)| [k, v])),
            Value::Tag(_, inner) => todo.push(inner),
            _ => {}
        }
    }
    seen
}

fn quoted_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|a| format!("{a:?}")).collect();
    format!("[{}]", q.join(", "))
}

/// Whether the image file is marked finished, and whether it is signed (both read from
/// its end; an unreadable end counts as neither).
pub(crate) fn marks(path: &std::path::Path) -> (bool, bool) {
    (
        ckpt::image::is_finished(path).unwrap_or(false),
        ckpt::image::signature::is_signed(path).unwrap_or(false),
    )
}

#[cfg(test)]
mod display_name_tests {
    use super::display_name;

    #[test]
    fn generated_names_are_explained() {
        assert_eq!(display_name("__ckpt_it2"), "(for loop 2: iterator)");
        assert_eq!(display_name("__ckpt_t1"), "(temporary 1)");
        assert_eq!(display_name("acc"), "acc");
        assert_eq!(display_name("__ckpt_item"), "__ckpt_item");
    }
}
