//! Reads the analysis file that `ckpt_build::instrument()` writes (format version 1):
//!
//! ```text
//! ckpt-analysis 1
//! crate <crate_name>
//! fingerprint <crate>\t<version>\t<sources>\t<rustc>\t<target>
//! fn <name>
//! method <SelfType> <name>
//! generic <fn or method name>
//! iter_fn <fn or method name>
//! use <fn name or SelfType::name> <alias> <std path>
//! ```
//!
//! Without the file (trybuild, doctests) the macro knows only the items annotated
//! together with it.

use std::collections::BTreeSet;

/// What the macro knows about the checkpointable items of the crate being compiled.
#[derive(Default, Debug)]
pub struct Analysis {
    pub fns: BTreeSet<String>,
    /// Plain functions that return a std reader (`reader_fn` lines): a local made by a
    /// call to one is a reader, turned into ckpt's.
    pub reader_fns: BTreeSet<String>,
    /// `(SelfType, name)`.
    pub methods: BTreeSet<(String, String)>,
    pub method_names: BTreeSet<String>,
    /// Functions and methods (by name) whose arguments may fix a type parameter
    /// (`generic` lines): a computed argument passed to one comes back on the resume path
    /// with the type the normal path gave it.
    pub generic: BTreeSet<String>,
    /// Functions and methods (by name) returning `impl Iterator` (`iter_fn` lines): a
    /// loop over a call of one is resumed by calling it again.
    pub iter_fns: BTreeSet<String>,
    pub fingerprint: String,
    /// The std imports of the module around each function (`"f"` or `"Type::m"` →
    /// `(alias, path)`), for the std-to-ckpt rewrite.
    pub imports: std::collections::BTreeMap<String, Vec<(String, String)>>,
    /// The analysis file, so the compiler tracks it.
    pub path: Option<String>,
    /// The statics and thread-locals the crate root can name (`global` lines).
    pub globals: Vec<Global>,
    /// The checkpointable traits whose objects can be boxed (`trait` lines).
    pub traits: BTreeSet<String>,
}

/// A static or thread-local `main` registers.
#[derive(Debug)]
pub struct Global {
    /// `static`, `static_mut` or `thread_local`.
    pub kind: String,
    /// One of the package's lib, seen from its main.
    pub lib: bool,
    /// `::`-separated from the crate root.
    pub path: String,
    /// `file:line`.
    pub at: String,
}

impl Analysis {
    pub fn load() -> Analysis {
        let mut a = Analysis::default();
        let (Ok(path), Ok(krate)) = (
            std::env::var("CKPT_ANALYSIS"),
            std::env::var("CARGO_CRATE_NAME"),
        ) else {
            return a;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return a;
        };
        if text.lines().next() != Some("ckpt-analysis 1") {
            return a;
        }
        a.path = Some(path);
        let mut mine = false;
        for line in text.lines().skip(1) {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "crate" => mine = rest == krate,
                _ if !mine => {}
                "fingerprint" => a.fingerprint = rest.to_string(),
                "fn" => {
                    a.fns.insert(rest.to_string());
                }
                "reader_fn" => {
                    a.reader_fns.insert(rest.to_string());
                }
                "use" => {
                    let mut it = rest.splitn(3, ' ');
                    if let (Some(key), Some(alias), Some(path)) = (it.next(), it.next(), it.next())
                    {
                        a.imports
                            .entry(key.to_string())
                            .or_default()
                            .push((alias.to_string(), path.to_string()));
                    }
                }
                "generic" => {
                    a.generic.insert(rest.to_string());
                }
                "iter_fn" => {
                    a.iter_fns.insert(rest.to_string());
                }
                "trait" => {
                    a.traits.insert(rest.to_string());
                }
                "global" => {
                    let f: Vec<&str> = rest.split(' ').collect();
                    if let [kind, place, path, at] = f[..] {
                        a.globals.push(Global {
                            kind: kind.to_string(),
                            lib: place == "lib",
                            path: path.to_string(),
                            at: at.to_string(),
                        });
                    }
                }
                "method" => {
                    if let Some((ty, name)) = rest.split_once(' ') {
                        a.methods.insert((ty.to_string(), name.to_string()));
                        a.method_names.insert(name.to_string());
                    }
                }
                _ => {}
            }
        }
        a
    }

    /// Compiling without the analysis is expected: a doctest (`rust_out`), or a harness
    /// that says so (`CKPT_ALLOW_NO_ANALYSIS`, ckpt's own ui-tests).
    pub fn missing_is_fine(&self) -> bool {
        std::env::var_os("UNSTABLE_RUSTDOC_TEST_PATH").is_some()
            || std::env::var("CARGO_CRATE_NAME").is_ok_and(|c| c == "rust_out")
            || std::env::var_os("CKPT_ALLOW_NO_ANALYSIS").is_some()
    }

    pub fn add_fn(&mut self, name: String) {
        self.fns.insert(name);
    }

    pub fn add_method(&mut self, ty: String, name: String) {
        self.method_names.insert(name.clone());
        self.methods.insert((ty, name));
    }
}
