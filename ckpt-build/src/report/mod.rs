//! The checkpointability report: OS calls inside checkpointable code that ckpt cannot
//! virtualize.
//!
//! [`report`] walks the files the [analysis](crate::analysis) reads, starting from the same
//! target roots and following the same `mod` declarations, and looks inside the
//! checkpointable items (functions annotated `#[checkpointable]`, every function of an
//! annotated `impl`, `trait` or `mod`) for the constructs listed in the rule table
//! (`report/rules.rs`): `libc::*`, functions declared in the package's `extern` blocks,
//! `std::process`, `std::thread::spawn` / `Builder` / `scope`, raw file descriptors
//! (`FromRawFd`, `as_raw_fd`, ...), `std::os::*` and memory maps (`mmap`, `memmap2::`).
//!
//! Like the analysis it is name based: no types, no macro expansion (the arguments of
//! function-like macros such as `println!` are looked into when they parse as
//! expressions). Findings are warnings: [`instrument()`](crate::instrument) prints them as
//! `cargo:warning`s and `cargo ckpt report` lists them. In deny mode
//! (`#[checkpointable(deny)]`, `CKPT_REPORT=deny`, [`Config::deny`](crate::Config::deny))
//! they are errors: `#[checkpointable]` reports those inside the item it annotates, with the
//! same table and the same reasons, and the build script fails for the rest.

// The table and the body scan are shared with `#[checkpointable(deny)]`: ckpt-macros
// cannot depend on this crate (this crate depends on it through the runtime).
#[path = "../../../ckpt-macros/src/checkpointable/os_rules.rs"]
mod rules;

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use syn::visit::{self, Visit};

use crate::analysis::collect::{is_marked, normalize, path_attr, self_type_name, slash_path};
use crate::analysis::{analyze, Analysis, AnalysisError};

/// Deeper `mod` nesting than this is almost certainly a `#[path]` loop.
const MAX_MODULE_DEPTH: usize = 64;

/// One construct ckpt cannot virtualize, inside checkpointable code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The file, relative to the package root, `/`-separated.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The checkpointable function it is in: `name`, or `Type::name` for methods.
    pub function: String,
    /// The construct as written (`std::process::Command::new`, `.as_raw_fd()`).
    pub construct: String,
    /// Why ckpt cannot virtualize it, and what to do.
    pub reason: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: in `{}`: {}",
            self.file, self.line, self.column, self.function, self.reason
        )
    }
}

/// The checkpointability report of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The package name (empty when unknown).
    pub package_name: String,
    /// The findings, sorted by file, line, column; at most one per position.
    pub findings: Vec<Finding>,
    /// Files that could not be read or parsed (they are not in the report).
    pub warnings: Vec<String>,
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// No `Cargo.toml` with a `[package]` section where one was looked for.
    #[error("no package found: {0}")]
    NoPackage(String),
    /// A `Cargo.toml` could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The package could not be analysed.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// The checkpointability report of the package at `package_root` (the directory holding
/// its `Cargo.toml`).
pub fn report(package_root: &Path) -> Result<Report, ReportError> {
    let manifest = package_root.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).map_err(|source| ReportError::Read {
        path: manifest.clone(),
        source,
    })?;
    let name = package_name(&text).ok_or_else(|| {
        ReportError::NoPackage(format!(
            "{} has no [package] name (a virtual workspace?)",
            manifest.display()
        ))
    })?;
    let analysis = analyze(package_root, &name, "")?;
    let mut out = report_for(package_root, &analysis);
    out.warnings = analysis.warnings.iter().map(|w| w.to_string()).collect();
    Ok(out)
}

/// The package directory for `start`: the nearest directory at or above it holding a
/// `Cargo.toml` with a `[package]` section (workspace-only manifests are skipped).
pub fn find_package(start: &Path) -> Result<PathBuf, ReportError> {
    let start = fs::canonicalize(start).map_err(|source| ReportError::Read {
        path: start.to_path_buf(),
        source,
    })?;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = fs::read_to_string(&manifest).map_err(|source| ReportError::Read {
            path: manifest.clone(),
            source,
        })?;
        if package_name(&text).is_some() {
            return Ok(dir.to_path_buf());
        }
    }
    Err(ReportError::NoPackage(format!(
        "no Cargo.toml with a [package] section in {} or above",
        start.display()
    )))
}

/// `name = "..."` of the `[package]` section, with a tiny line parser.
pub(crate) fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line.trim_end_matches(|c: char| c != ']') == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "name" {
            let v = value.trim();
            let v = v.strip_prefix('"')?;
            return v.split('"').next().map(str::to_owned);
        }
    }
    None
}

/// The report over the files of an existing analysis (no warnings: the analysis has them).
pub(crate) fn report_for(package_root: &Path, analysis: &Analysis) -> Report {
    report_and_unseen(package_root, analysis).0
}

/// The report, and its findings that `#[checkpointable]` cannot see in deny mode: calls of
/// functions declared in `extern` blocks (the macro knows only the item it annotates), and
/// code made checkpointable by an annotated `mod foo;` declaration (the macro never sees
/// the file). The build script fails for those.
pub(crate) fn report_and_unseen(
    package_root: &Path,
    analysis: &Analysis,
) -> (Report, Vec<Finding>) {
    let files: BTreeSet<&String> = analysis.crates.iter().flat_map(|c| &c.files).collect();
    // Files whose checkpointable code can make sockets.
    let mut net_files = BTreeSet::new();
    let parsed: Vec<(String, syn::File)> = files
        .iter()
        .filter_map(|f| {
            let text = fs::read_to_string(package_root.join(f)).ok()?;
            let net =
                text.contains("std::net") || (text.contains("std::{") && text.contains("net::"));
            if net && text.contains("checkpointable") {
                net_files.insert((*f).clone());
            }
            Some(((*f).clone(), syn::parse_file(&text).ok()?))
        })
        .collect();
    let mut foreign = BTreeSet::new();
    for (_, file) in &parsed {
        rules::ForeignNames(&mut foreign).visit_file(file);
    }
    let mut walker = Walker {
        parsed: &parsed,
        foreign: &foreign,
        seen: BTreeSet::new(),
        findings: Vec::new(),
        net_files: &net_files,
    };
    for (file, _) in &parsed {
        if is_target_root(file) {
            let dir = Path::new(file)
                .parent()
                .unwrap_or(Path::new(""))
                .to_path_buf();
            walker.load(file, &dir, false, 0);
        }
    }
    let mut findings = walker.findings;
    findings.extend(global_findings(analysis).into_iter().map(|f| (f, false)));
    findings.sort();
    findings.dedup_by(|(b, b_seen), (a, a_seen)| {
        let same = (&a.file, a.line, a.column) == (&b.file, b.line, b.column);
        if same {
            *a_seen &= *b_seen;
        }
        same
    });
    let unseen = findings
        .iter()
        .filter(|(_, seen)| !seen)
        .map(|(f, _)| f.clone())
        .collect();
    let report = Report {
        package_name: analysis.package_name.clone(),
        findings: findings.into_iter().map(|(f, _)| f).collect(),
        warnings: Vec::new(),
    };
    (report, unseen)
}

/// The statics and thread-locals of crates with checkpointable code that can change but
/// that `main` cannot name, so that no image saves them: a restore would start them from
/// their initial value.
fn global_findings(analysis: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    for krate in &analysis.crates {
        if krate.functions.is_empty() && krate.methods.is_empty() {
            continue;
        }
        for g in krate.globals.iter().filter(|g| g.changes && !g.reachable) {
            let name = g.path.last().cloned().unwrap_or_default();
            let (construct, how) = if g.in_fn {
                (
                    format!("static {name}"),
                    "declare it outside the function, at module level (`pub(crate)` if it is \
                     in a module)",
                )
            } else if g.lib {
                (
                    g.path.join("::"),
                    "make it `pub` (and the modules on its path), so the package's main can name it",
                )
            } else {
                (
                    g.path.join("::"),
                    "make it `pub(crate)` (and the modules on its path visible to the crate root)",
                )
            };
            let what = match g.kind {
                crate::analysis::GlobalKind::ThreadLocal => "thread-local",
                _ => "static",
            };
            out.push(Finding {
                file: g.file.clone(),
                line: g.line,
                column: 1,
                function: g.path.join("::"),
                construct,
                reason: format!(
                    "the {what} `{name}` can change, but `main`'s #[checkpointable] cannot name it \
                     to save it, so a restore would start it from its initial value; {how}"
                ),
            });
        }
    }
    out
}

/// `src/lib.rs`, `src/main.rs`, and `<dir>/x.rs` or `<dir>/x/main.rs` for the target
/// directories: the roots [`analyze`] starts from.
fn is_target_root(file: &str) -> bool {
    if file == "src/lib.rs" || file == "src/main.rs" {
        return true;
    }
    ["src/bin/", "examples/", "tests/", "benches/"]
        .iter()
        .any(|dir| match file.strip_prefix(dir) {
            Some(rest) => match rest.split_once('/') {
                None => rest.ends_with(".rs"),
                Some((_, tail)) => tail == "main.rs",
            },
            None => false,
        })
}

impl Report {
    /// One line per finding (`FILE:LINE:COL: in `fn`: REASON`), then a summary line.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for f in &self.findings {
            out.push_str(&format!("{f}\n"));
        }
        let n = self.findings.len();
        let name = if self.package_name.is_empty() {
            "the package".to_owned()
        } else {
            format!("`{}`", self.package_name)
        };
        out.push_str(&match n {
            0 => format!("{name}: no OS calls ckpt cannot virtualize in checkpointable code\n"),
            1 => format!("{name}: 1 OS call ckpt cannot virtualize in checkpointable code\n"),
            _ => format!("{name}: {n} OS calls ckpt cannot virtualize in checkpointable code\n"),
        });
        out
    }

    /// `{"package": ..., "findings": [{file, line, column, function, construct, reason}],
    /// "warnings": [...]}`, pretty-printed.
    pub fn render_json(&self) -> String {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                json!({
                    "file": f.file,
                    "line": f.line,
                    "column": f.column,
                    "function": f.function,
                    "construct": f.construct,
                    "reason": f.reason,
                })
            })
            .collect();
        let doc = json!({
            "package": self.package_name,
            "findings": findings,
            "warnings": self.warnings,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Follows the module tree of one target, as the analysis does.
struct Walker<'a> {
    parsed: &'a [(String, syn::File)],
    foreign: &'a BTreeSet<String>,
    /// `(file, annotated)` already walked.
    seen: BTreeSet<(String, bool)>,
    /// Files whose checkpointable code can make sockets (they name `std::net`).
    net_files: &'a BTreeSet<String>,
    /// Each with whether `#[checkpointable]` sees it.
    findings: Vec<(Finding, bool)>,
}

impl Walker<'_> {
    fn load(&mut self, rel: &str, mod_dir: &Path, annotated: bool, depth: usize) {
        if depth > MAX_MODULE_DEPTH || !self.seen.insert((rel.to_owned(), annotated)) {
            return;
        }
        let Some((_, file)) = self.parsed.iter().find(|(f, _)| f == rel) else {
            return;
        };
        let mut scan = Scan {
            file: rel,
            foreign: self.foreign,
            annotated,
            from_file: annotated,
            mod_dir: mod_dir.to_path_buf(),
            path_base: Path::new(rel)
                .parent()
                .unwrap_or(Path::new(""))
                .to_path_buf(),
            children: Vec::new(),
            findings: Vec::new(),
            uses_net: self.net_files.contains(rel),
        };
        scan.visit_file(file);
        self.findings.append(&mut scan.findings);
        for (child, dir, annotated) in scan.children {
            self.load(&child, &dir, annotated, depth + 1);
        }
    }
}

/// The visitor over one file.
struct Scan<'a> {
    file: &'a str,
    foreign: &'a BTreeSet<String>,
    /// Every function of the current module / impl is checkpointable.
    annotated: bool,
    /// ... only because the `mod foo;` declaration of this file is annotated: the macro
    /// never sees these functions.
    from_file: bool,
    mod_dir: PathBuf,
    path_base: PathBuf,
    /// `mod foo;` files to walk next: (file, its mod dir, annotated).
    children: Vec<(String, PathBuf, bool)>,
    /// This file's checkpointable code can make sockets (see [`Walker::net_files`]).
    uses_net: bool,
    /// Each with whether `#[checkpointable]` sees it.
    findings: Vec<(Finding, bool)>,
}

impl Scan<'_> {
    /// Scans the body of checkpointable function `name` (or skips it, with `None`).
    /// `attr_here`: its annotation is in this file, so the macro sees the body. Items
    /// declared inside do not inherit the annotation (the macro leaves them alone).
    fn function(&mut self, name: Option<String>, attr_here: bool, body: &syn::Block) {
        let Some(function) = name else {
            // Still look for annotated items declared inside.
            let saved = std::mem::replace(&mut self.annotated, false);
            visit::visit_block(self, body);
            self.annotated = saved;
            return;
        };
        let scanned = rules::scan_block(body, self.foreign);
        for hit in scanned.hits {
            let at = hit.start().start();
            let finding = Finding {
                file: self.file.to_owned(),
                line: at.line,
                column: at.column + 1,
                function: function.clone(),
                construct: hit.construct,
                reason: hit.reason,
            };
            self.findings.push((finding, attr_here && !hit.foreign));
        }
        let saved = std::mem::replace(&mut self.annotated, false);
        for item in &scanned.nested {
            self.visit_item(item);
        }
        self.annotated = saved;
    }

    /// Whether a function marked `own` (or through its container, `container`) is seen
    /// by the macro: unless its only annotation is on a `mod foo;` declaration.
    fn attr_here(&self, own: bool, container: bool) -> bool {
        own || container || !self.from_file
    }
}

fn method_name(self_ty: &syn::Type, method: &syn::Ident) -> String {
    format!("{}::{method}", self_type_name(self_ty))
}

/// The std socket type a type names (`TcpStream`, `std::net::TcpListener`, `Vec<UdpSocket>`,
/// `&mut TcpStream`), if any: ckpt's network stack replaces them inside checkpointable
/// functions.
fn std_socket_in(ty: &syn::Type) -> Option<String> {
    struct Find(Option<String>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
            let names: Vec<String> = t
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let ours = names.first().is_some_and(|f| f == "ckpt");
            if let Some(last) = names.last() {
                if !ours && ["TcpStream", "TcpListener", "UdpSocket"].contains(&last.as_str()) {
                    self.0.get_or_insert_with(|| last.clone());
                }
            }
            visit::visit_type_path(self, t);
        }
    }
    let mut f = Find(None);
    f.visit_type(ty);
    f.0
}

impl Scan<'_> {
    /// A function or struct outside checkpointable code that names a std socket type: the
    /// sockets checkpointable code makes are ckpt's, so they cannot be handed to it.
    fn socket_outside(&mut self, item: String, what: &str, at: proc_macro2::Span, ty: String) {
        let start = at.start();
        let fix = if what == "field" {
            format!("name `ckpt::net::{ty}` for the field (it is std's elsewhere)")
        } else {
            format!("add #[checkpointable] to `{item}` (its signature then names ckpt's {ty})")
        };
        let finding = Finding {
            file: self.file.to_owned(),
            line: start.line,
            column: start.column + 1,
            function: item.clone(),
            construct: format!("{ty} in {what} `{item}`"),
            reason: format!(
                "inside #[checkpointable] functions std::net's sockets are ckpt's (their \
                 connections are saved in the image), so one made there cannot be passed to \
                 {what} `{item}`, which is not checkpointable and names std's {ty}: {fix}"
            ),
        };
        self.findings.push((finding, true));
    }

    fn signature_sockets(&mut self, name: String, sig: &syn::Signature) {
        let types = sig.inputs.iter().filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(&*t.ty),
            syn::FnArg::Receiver(_) => None,
        });
        let ret = match &sig.output {
            syn::ReturnType::Type(_, t) => Some(&**t),
            syn::ReturnType::Default => None,
        };
        if let Some(ty) = types.chain(ret).find_map(std_socket_in) {
            self.socket_outside(name, "function", sig.ident.span(), ty);
        }
    }
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_item_struct(&mut self, st: &'ast syn::ItemStruct) {
        if !self.uses_net {
            return;
        }
        for field in &st.fields {
            if let Some(ty) = std_socket_in(&field.ty) {
                let at = field.ident.as_ref().map_or(st.ident.span(), |i| i.span());
                self.socket_outside(st.ident.to_string(), "field", at, ty);
                return;
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let own = is_marked(&f.attrs);
        if !(self.annotated || own) && self.uses_net {
            self.signature_sockets(f.sig.ident.to_string(), &f.sig);
        }
        let name = (self.annotated || own).then(|| f.sig.ident.to_string());
        let here = self.attr_here(own, false);
        self.function(name, here, &f.block);
    }

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        let container = is_marked(&imp.attrs);
        let all = self.annotated || container;
        for item in &imp.items {
            if let syn::ImplItem::Fn(m) = item {
                let own = is_marked(&m.attrs);
                if !(all || own) && self.uses_net {
                    self.signature_sockets(method_name(&imp.self_ty, &m.sig.ident), &m.sig);
                }
                let name = (all || own).then(|| method_name(&imp.self_ty, &m.sig.ident));
                let here = self.attr_here(own, container);
                self.function(name, here, &m.block);
            }
        }
    }

    fn visit_item_trait(&mut self, tr: &'ast syn::ItemTrait) {
        let container = is_marked(&tr.attrs);
        let all = self.annotated || container;
        for item in &tr.items {
            if let syn::TraitItem::Fn(m) = item {
                if let Some(body) = &m.default {
                    let own = is_marked(&m.attrs);
                    let name = (all || own).then(|| format!("{}::{}", tr.ident, m.sig.ident));
                    let here = self.attr_here(own, container);
                    self.function(name, here, body);
                }
            }
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let own = is_marked(&m.attrs);
        let annotated = self.annotated || own;
        let path_attr = path_attr(&m.attrs);
        match &m.content {
            Some((_, items)) => {
                let dir = match &path_attr {
                    Some(p) => normalize(&self.path_base.join(p)),
                    None => self.mod_dir.join(m.ident.to_string()),
                };
                let from_file = self.from_file && !own;
                let saved = (
                    std::mem::replace(&mut self.mod_dir, dir.clone()),
                    std::mem::replace(&mut self.path_base, dir),
                    std::mem::replace(&mut self.annotated, annotated),
                    std::mem::replace(&mut self.from_file, from_file),
                );
                for item in items {
                    self.visit_item(item);
                }
                (self.mod_dir, self.path_base, self.annotated, self.from_file) = saved;
            }
            None => {
                if let Some(p) = path_attr {
                    let file = normalize(&self.path_base.join(p));
                    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
                    self.children.push((slash_path(&file), dir, annotated));
                    return;
                }
                let name = m.ident.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name);
                let dir = self.mod_dir.join(name);
                // Both candidates: only the one the analysis read is in the file list.
                for file in [self.mod_dir.join(format!("{name}.rs")), dir.join("mod.rs")] {
                    self.children
                        .push((slash_path(&file), dir.clone(), annotated));
                }
            }
        }
    }

    fn visit_item_foreign_mod(&mut self, _: &'ast syn::ItemForeignMod) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_name_reads_the_package_section_only() {
        let toml = "[workspace]\nname = \"no\"\n\n[package]\n# c\nname = \"my-app\" # x\n";
        assert_eq!(package_name(toml).as_deref(), Some("my-app"));
        assert_eq!(package_name("[workspace]\nmembers = []\n"), None);
    }

    #[test]
    fn target_roots() {
        for yes in [
            "src/lib.rs",
            "src/bin/a.rs",
            "examples/x/main.rs",
            "tests/t.rs",
        ] {
            assert!(is_target_root(yes), "{yes}");
        }
        for no in ["src/util.rs", "tests/common/mod.rs", "examples/x/y.rs"] {
            assert!(!is_target_root(no), "{no}");
        }
    }
}
