//! Whole-package analysis: which functions and methods of each target are checkpointable.
//!
//! [`analyze`] parses every target of a package with syn (lib, main, `src/bin`,
//! `examples`, `tests`, `benches`), follows `mod foo;` declarations to their files, and
//! records the items annotated `#[checkpointable]` (any attribute path ending in
//! `checkpointable`). [`Analysis::render`] turns the result into the analysis file that
//! `#[checkpointable]` reads through the `CKPT_ANALYSIS` environment variable.
//!
//! # The analysis file, format version 1
//!
//! A UTF-8 text file of `\n`-terminated lines. The macro crate reads it without depending
//! on ckpt-build, so this format is a contract; `tests/format.rs` pins it.
//!
//! ```text
//! ckpt-analysis 1
//! crate <crate_name>
//! fingerprint <crate_name>\t<package version>\t<sources hex>\t<rustc -V output>\t<target triple>
//! fn <name>
//! method <SelfTypeLastSegment> <name>
//! crate <next crate name>
//! ...
//! ```
//!
//! - The first line is `ckpt-analysis ` followed by the format version. A reader that
//!   does not know the version must ignore the file (and fall back to what it sees
//!   locally), never misread it.
//! - Then one block per crate, in the order lib, main, `src/bin`, examples, tests,
//!   benches (each group sorted by crate name). A block starts with `crate <name>`,
//!   where the name is the target name with `-` replaced by `_`: the value of
//!   `CARGO_CRATE_NAME` when that target compiles. If two targets share a crate name (a
//!   package with both `src/lib.rs` and `src/main.rs`), they form a single block: their
//!   items are united and the sources hash covers the files of both.
//! - `fingerprint` follows `crate` and has five tab-separated fields: crate name,
//!   package version, the sources hash (16 lower-case hex digits, see below), the
//!   trimmed output of `$RUSTC -V`, and the target triple. These are the build
//!   fingerprint parts an image header records (the format version is the image's).
//! - `fn <name>`: a checkpointable free function, including functions in (nested)
//!   modules; the name is the bare identifier, without the module path.
//! - `method <Self> <name>`: a checkpointable function inside an `impl` block; `<Self>` is
//!   the last path segment of the self type (`Sim` for `impl<T> crate::sim::Sim<T>`), or the
//!   trait name for a default method in a `trait` block.
//! - `reader_fn <name>`: a plain free function returning a std reader (`BufReader<File>`,
//!   `File`): a local made by a call to one is turned into ckpt's reader.
//! - `generic <name>`: a checkpointable function or method (by bare name) whose arguments
//!   may fix a type parameter (its own, an `impl Trait` parameter, or its `impl`'s for an
//!   associated function without `self`).
//! - `iter_fn <name>`: a function or method (by bare name) returning an iterator of a
//!   type it does not name (`impl Iterator<..>`, `Box<dyn Iterator<..>>`): a loop over a
//!   call of it is resumed by calling it again and skipping the items taken.
//! - `use <key> <alias> <path>`: a module-level `use` of a `std::` path in the module of
//!   the checkpointable function `<key>` (`name`, or `Self::name` for methods); `<alias>`
//!   is the name it binds (`*` for a glob). The macro shadows the ones it reroutes.
//! - `global <kind> <where> <path> <file>:<line>`: a static (`static`), `static mut`
//!   (`static_mut`) or `thread_local!` static (`thread_local`) that can change (a
//!   `static mut`, or its type names an atomic, a lock, a once cell or a cell) and that
//!   the crate root can name;
//!   `<where>` is `lib` for one of the package's lib seen from its main (named
//!   `<crate>::<path>` there) or `here`; `<path>` is `::`-separated from the crate root;
//!   sorted by `<where>`, then path.
//!   `main`'s `#[checkpointable]` registers them so that images save them.
//! - `trait <Name>`: a checkpointable trait whose objects can be boxed: each
//!   `#[checkpointable] impl <Name> for T` makes its values savable behind `Box<dyn Name>`.
//! - Within a block, all `fn` lines come first, then all `method` lines, each group
//!   sorted (byte order) and free of duplicates.
//! - Unknown line kinds must be ignored by readers, so a later version may add lines.
//!
//! The sources hash is xxh3-64 over, for each file read for the target in byte order of
//! its `/`-separated path relative to the package root: the path, a 0 byte, the content
//! length as 8 little-endian bytes, and the content. Files that fail to parse are hashed
//! too: they were read and they belong to the build.
//!
//! # What is checkpointable
//!
//! A `fn` item with the attribute (also `#[cfg_attr(<any predicate>, checkpointable)]`,
//! and items declared inside function bodies); every function of an `impl` block, `trait`
//! block (default methods) or inline `mod` with the attribute, nested modules included;
//! and the functions of a module file whose `mod foo;` declaration carries it. syn has no types and no macro
//! expansion, so this is a name-based over-approximation: items made by macros are not
//! seen, and a call whose name matches is treated as a possible call point.

pub(crate) mod collect;
mod format;
mod targets;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ckpt::image::Fingerprint;

pub use format::{ANALYSIS_FILE_NAME, FORMAT_HEADER, FORMAT_VERSION};
pub use targets::TargetKind;

/// The analysis of a whole package: one entry per crate name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The package name (`CARGO_PKG_NAME`).
    pub package_name: String,
    /// The package version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The crates of the package, in file order (see the module docs).
    pub crates: Vec<CrateAnalysis>,
    /// Files that could not be read or parsed; the analysis goes on without them.
    pub warnings: Vec<Warning>,
}

/// The checkpointable items of one crate (one target, or targets sharing a crate name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateAnalysis {
    /// The crate name, as `CARGO_CRATE_NAME` spells it.
    pub crate_name: String,
    /// The kind of the (first) target with that name.
    pub kind: TargetKind,
    /// Every file read for the crate, relative to the package root, `/`-separated, sorted.
    pub files: Vec<String>,
    /// xxh3-64 of the files read (see the module docs for the exact input).
    pub sources_hash: u64,
    /// Names of the checkpointable free functions.
    pub functions: BTreeSet<String>,
    /// Names of the plain free functions that return a std reader (`reader_fn` lines).
    pub reader_fns: BTreeSet<String>,
    /// `(self type, method name)` of the checkpointable methods.
    pub methods: BTreeSet<(String, String)>,
    /// Names of the checkpointable functions and methods whose arguments may fix a type
    /// parameter (`generic` lines).
    pub generic: BTreeSet<String>,
    /// Names of the functions and methods that return `impl Iterator` (or a boxed
    /// `dyn Iterator`): `iter_fn` lines.
    pub iter_fns: BTreeSet<String>,
    /// The module-level `use` declarations of std paths around each checkpointable
    /// function (`"f"` or `"Type::m"` → `(alias, path)`, alias `*` for a glob): the macro
    /// routes the ones naming OS interfaces to ckpt's components.
    pub imports: BTreeMap<String, BTreeSet<(String, String)>>,
    /// The statics and `thread_local!` statics of the crate (of its lib first, when a
    /// lib and a main share the name).
    pub globals: Vec<Global>,
    /// The checkpointable traits whose objects can be boxed (`Box<dyn Trait>` is `State`).
    pub traits: BTreeSet<String>,
}

/// What kind of global a [`Global`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalKind {
    /// `static NAME: T`.
    Static,
    /// `static mut NAME: T`.
    StaticMut,
    /// A `static` inside `thread_local!`.
    ThreadLocal,
}

impl GlobalKind {
    /// Its word in the analysis file.
    pub fn word(self) -> &'static str {
        match self {
            GlobalKind::Static => "static",
            GlobalKind::StaticMut => "static_mut",
            GlobalKind::ThreadLocal => "thread_local",
        }
    }
}

/// A static or thread-local of a crate: `main`'s `#[checkpointable]` registers the ones
/// it can name, so that every image saves them and a restore puts them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Static, `static mut` or thread-local.
    pub kind: GlobalKind,
    /// Its path from the crate root (`["stats", "HITS"]`); a segment `{fn}` stands for a
    /// function body.
    pub path: Vec<String>,
    /// The crate root can name it (for a lib's, its package's main can: it is `pub`
    /// and so is every module on its path).
    pub reachable: bool,
    /// It and every module on its path are `pub`.
    pub public: bool,
    /// It is declared inside a function body.
    pub in_fn: bool,
    /// It can change: a `static mut`, or its type has interior mutability (an atomic, a
    /// lock, a cell). A static that cannot change needs no saving.
    pub changes: bool,
    /// It belongs to the package's lib (named `<crate>::path` from its main).
    pub lib: bool,
    /// The file declaring it, relative to the package root.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
}

/// A file the analysis had to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file, relative to the package root.
    pub file: String,
    /// What went wrong (the syn or I/O error).
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ckpt: cannot parse {}: {} (checkpointable calls into it will not be resumable)",
            self.file, self.message
        )
    }
}

/// Why a package could not be analysed (single files only produce [`Warning`]s), or a
/// fingerprint not computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The package root is missing or unreadable.
    #[error("cannot read package root {path}: {source}")]
    Root {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `rustc -V` or `rustc -vV` could not be run or printed something unexpected.
    #[error("{0}")]
    Toolchain(String),
    /// The package has no target with that crate name.
    #[error("package `{package}` has no target with crate name `{crate_name}`")]
    NoSuchCrate {
        /// The package name.
        package: String,
        /// The crate name asked for.
        crate_name: String,
    },
}

/// Analyses the package at `package_root` (the directory holding its `Cargo.toml`).
///
/// Pure apart from reading files: no environment variables, no processes. Files that
/// cannot be read or parsed become [`Analysis::warnings`].
pub fn analyze(
    package_root: &Path,
    package_name: &str,
    version: &str,
) -> Result<Analysis, AnalysisError> {
    let found =
        targets::discover(package_root, package_name).map_err(|source| AnalysisError::Root {
            path: package_root.to_path_buf(),
            source,
        })?;
    // Targets sharing a crate name (lib and main) form one block.
    let mut crates: Vec<(CrateAnalysis, BTreeMap<String, Vec<u8>>)> = Vec::new();
    let mut warnings = Vec::new();
    for target in found {
        let mut out = collect::collect_target(package_root, &target.root);
        warnings.append(&mut out.warnings);
        for g in &mut out.globals {
            g.lib = target.kind == TargetKind::Lib;
            if g.lib {
                g.reachable = g.public;
            }
        }
        // A target without checkpointable code saves nothing (and its globals must not be
        // named by another target that shares its crate name, an example and a test); a
        // lib's are its main's to save.
        if target.kind != TargetKind::Lib && out.functions.is_empty() && out.methods.is_empty() {
            out.globals.clear();
        }
        match crates
            .iter_mut()
            .find(|(c, _)| c.crate_name == target.crate_name)
        {
            Some((existing, sources)) => {
                existing.globals.append(&mut out.globals);
                existing.traits.append(&mut out.traits);
                existing.functions.append(&mut out.functions);
                existing.reader_fns.append(&mut out.reader_fns);
                existing.methods.append(&mut out.methods);
                existing.generic.append(&mut out.generic);
                existing.iter_fns.append(&mut out.iter_fns);
                for (k, v) in std::mem::take(&mut out.imports) {
                    collect::note_imports(&mut existing.imports, k, v);
                }
                sources.append(&mut out.sources);
            }
            None => crates.push((
                CrateAnalysis {
                    crate_name: target.crate_name,
                    kind: target.kind,
                    files: Vec::new(),
                    sources_hash: 0,
                    functions: out.functions,
                    reader_fns: out.reader_fns,
                    methods: out.methods,
                    generic: out.generic,
                    iter_fns: out.iter_fns,
                    imports: out.imports,
                    globals: out.globals,
                    traits: out.traits,
                },
                out.sources,
            )),
        }
    }
    // Every other target of the package can name the lib's public globals: its main
    // registers them too (the lib's own crate block has them already).
    let lib_globals: Vec<Global> = crates
        .iter()
        .filter(|(c, _)| c.kind == TargetKind::Lib)
        .flat_map(|(c, _)| c.globals.iter().filter(|g| g.lib && g.reachable).cloned())
        .collect();
    let crates = crates
        .into_iter()
        .map(|(mut krate, sources)| {
            krate.sources_hash = collect::hash_sources(&sources);
            krate.files = sources.into_keys().collect();
            if krate.kind != TargetKind::Lib
                && !(krate.functions.is_empty() && krate.methods.is_empty())
            {
                krate.globals.extend(lib_globals.iter().cloned());
            }
            krate
        })
        .collect();
    warnings.sort_by(|a, b| a.file.cmp(&b.file));
    warnings.dedup();
    Ok(Analysis {
        package_name: package_name.to_owned(),
        version: version.to_owned(),
        crates,
        warnings,
    })
}

impl Analysis {
    /// The crate named `crate_name` (`CARGO_CRATE_NAME` spelling), if the package has one.
    pub fn crate_named(&self, crate_name: &str) -> Option<&CrateAnalysis> {
        self.crates.iter().find(|c| c.crate_name == crate_name)
    }

    /// The build fingerprint of `crate_name` under the given compiler (`rustc -V`
    /// output) and target, as an image written by that build records it.
    pub fn fingerprint_of(
        &self,
        crate_name: &str,
        rustc: &str,
        target: &str,
    ) -> Option<Fingerprint> {
        let krate = self.crate_named(crate_name)?;
        Some(Fingerprint {
            crate_name: krate.crate_name.clone(),
            crate_version: self.version.clone(),
            sources: format::hex16(krate.sources_hash),
            rustc: rustc.trim().to_owned(),
            target: target.to_owned(),
        })
    }

    /// The analysis file text (format version 1, see the module docs).
    ///
    /// `rustc` is the output of `rustc -V` (trimmed here), `target` the target triple.
    pub fn render(&self, rustc: &str, target: &str) -> String {
        format::render(self, rustc, target)
    }
}
