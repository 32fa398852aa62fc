//! Walks one target's module tree with syn and collects its checkpointable items.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use quote::ToTokens;
use xxhash_rust::xxh3::Xxh3Default;

use super::Warning;

/// The rule `#[checkpointable]` applies to a trait, from the macro crate's own file.
#[path = "../../../ckpt-macros/src/checkpointable/traits.rs"]
mod traits;
use traits::dyn_capable;
/// Which calls pass arguments that fix a type parameter, from the macro crate's own file.
#[path = "../../../ckpt-macros/src/checkpointable/signature.rs"]
mod signature;
use signature::{infers_from_args, returns_opaque_iterator};

/// Deeper `mod` nesting than this is almost certainly a `#[path]` loop.
const MAX_MODULE_DEPTH: usize = 64;

/// What one target yielded.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// Every file read, by `/`-separated path relative to the package root.
    pub(crate) sources: BTreeMap<String, Vec<u8>>,
    pub(crate) functions: BTreeSet<String>,
    /// Plain (not checkpointable) free functions that return a reader std opened
    /// (`BufReader<File>`, `File`, in a `Result` or not).
    pub(crate) reader_fns: BTreeSet<String>,
    pub(crate) methods: BTreeSet<(String, String)>,
    /// Names of the checkpointable functions and methods whose arguments may fix a type
    /// parameter (see [`infers_from_args`]).
    pub(crate) generic: BTreeSet<String>,
    /// Names of the functions and methods that return an iterator of a type they do not
    /// name (`impl Iterator`): a loop over one is resumed by calling it again.
    pub(crate) iter_fns: BTreeSet<String>,
    /// Module-level std imports around each checkpointable function (see `format.rs`).
    pub(crate) imports: BTreeMap<String, BTreeSet<(String, String)>>,
    /// The statics and thread-locals, in file order.
    pub(crate) globals: Vec<super::Global>,
    /// The checkpointable traits whose objects can be boxed.
    pub(crate) traits: BTreeSet<String>,
    pub(crate) warnings: Vec<Warning>,
}

/// Collects the target whose root file is `target_root` (relative to `package_root`).
pub(crate) fn collect_target(package_root: &Path, target_root: &Path) -> Collected {
    let mut walker = Walker {
        package_root,
        out: Collected::default(),
    };
    // A crate root behaves like a `mod.rs`: its `mod foo;` live beside it.
    let dir = target_root.parent().unwrap_or(Path::new("")).to_path_buf();
    walker.load_file(
        target_root,
        &dir,
        false,
        0,
        &ModPath {
            module: Vec::new(),
            reachable: true,
            public: true,
        },
    );
    walker.out
}

/// Adds `uses` under `key`, intersecting with what another module recorded for it.
pub(crate) fn note_imports(
    imports: &mut BTreeMap<String, BTreeSet<(String, String)>>,
    key: String,
    uses: BTreeSet<(String, String)>,
) {
    match imports.entry(key) {
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(uses);
        }
        std::collections::btree_map::Entry::Occupied(mut o) => {
            let both = o.get().intersection(&uses).cloned().collect();
            o.insert(both);
        }
    }
}

/// The `(alias, path)` pairs a `use` tree binds for paths that start with `std`
/// (`use std::io::{self, BufRead as B}` → `io std::io`, `B std::io::BufRead`; a glob
/// binds `*`).
fn std_uses(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    let bind = |prefix: &[String], last: Option<&str>| {
        let mut p = prefix.to_vec();
        if let Some(l) = last {
            p.push(l.to_string());
        }
        p.join("::")
    };
    match tree {
        syn::UseTree::Path(p) => {
            if prefix.is_empty() && p.ident != "std" {
                return;
            }
            prefix.push(p.ident.to_string());
            std_uses(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if !prefix.is_empty() => {
            if n.ident == "self" {
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), bind(prefix, None)));
                }
            } else {
                out.push((
                    n.ident.to_string(),
                    bind(prefix, Some(&n.ident.to_string())),
                ));
            }
        }
        syn::UseTree::Rename(r) if !prefix.is_empty() && r.rename != "_" => {
            let target = if r.ident == "self" {
                bind(prefix, None)
            } else {
                bind(prefix, Some(&r.ident.to_string()))
            };
            out.push((r.rename.to_string(), target));
        }
        syn::UseTree::Glob(_) if !prefix.is_empty() => out.push(("*".into(), bind(prefix, None))),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                std_uses(t, prefix, out);
            }
        }
        _ => {}
    }
}

/// xxh3-64 over the files in key order: path, 0 byte, length (u64 LE), content.
pub(crate) fn hash_sources(sources: &BTreeMap<String, Vec<u8>>) -> u64 {
    let mut hasher = Xxh3Default::new();
    for (path, content) in sources {
        hasher.update(path.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(content.len() as u64).to_le_bytes());
        hasher.update(content);
    }
    hasher.digest()
}

struct Walker<'a> {
    package_root: &'a Path,
    out: Collected,
}

/// Where a module file sits in the crate's module tree (see [`Scope`]).
#[derive(Clone)]
struct ModPath {
    module: Vec<String>,
    reachable: bool,
    public: bool,
}

/// Where the module being walked puts things.
#[derive(Clone)]
struct Scope {
    /// Directory holding the files of `mod foo;` declared here.
    mod_dir: PathBuf,
    /// Base of `#[path]` attributes: the file's directory at file level, `mod_dir` inside
    /// inline modules.
    path_base: PathBuf,
    /// Everything in the scope is checkpointable (an annotated `mod`).
    annotated: bool,
    depth: usize,
    /// The module's path from the crate root (empty at the root).
    module: Vec<String>,
    /// The crate root can name this module's non-private items (every module on the way
    /// is visible to it), and the scope is not a function body.
    reachable: bool,
    /// Every module on the way is `pub`: another crate can name its `pub` items.
    public: bool,
    /// The file being walked, relative to the package root.
    file: String,
}

impl Walker<'_> {
    /// Reads and walks the module file `rel`; `mod_dir` is where its children live.
    fn load_file(
        &mut self,
        rel: &Path,
        mod_dir: &Path,
        annotated: bool,
        depth: usize,
        at: &ModPath,
    ) {
        let ModPath {
            module,
            reachable,
            public,
        } = at.clone();
        let key = slash_path(rel);
        if self.out.sources.contains_key(&key) {
            return;
        }
        if depth > MAX_MODULE_DEPTH {
            self.warn(
                &key,
                format!("modules nested deeper than {MAX_MODULE_DEPTH}"),
            );
            return;
        }
        let bytes = match fs::read(self.package_root.join(rel)) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.warn(&key, e.to_string());
                return;
            }
        };
        let parsed = match std::str::from_utf8(&bytes) {
            Ok(text) => syn::parse_file(text).map_err(|e| {
                let at = e.span().start();
                if at.line > 0 {
                    format!("{e} (line {}, column {})", at.line, at.column + 1)
                } else {
                    e.to_string()
                }
            }),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        self.out.sources.insert(key.clone(), bytes);
        match parsed {
            Ok(file) => {
                let scope = Scope {
                    mod_dir: mod_dir.to_path_buf(),
                    path_base: rel.parent().unwrap_or(Path::new("")).to_path_buf(),
                    annotated,
                    depth,
                    module,
                    reachable,
                    public,
                    file: key.clone(),
                };
                self.walk_items(&file.items, &scope);
            }
            Err(message) => self.warn(&key, message),
        }
    }

    fn warn(&mut self, file: &str, message: String) {
        self.out.warnings.push(Warning {
            file: file.to_owned(),
            message,
        });
    }

    /// Records the module's std imports for a checkpointable function. A name that
    /// appears in several modules keeps only the imports all of them have: the macro
    /// sees only the name, and an import missing from one module breaks that one.
    fn note_imports(&mut self, key: String, uses: &[(String, String)]) {
        note_imports(&mut self.out.imports, key, uses.iter().cloned().collect());
    }

    fn walk_items(&mut self, items: &[syn::Item], scope: &Scope) {
        let mut uses = Vec::new();
        for item in items {
            if let syn::Item::Use(u) = item {
                std_uses(&u.tree, &mut Vec::new(), &mut uses);
            }
        }
        for item in items {
            match item {
                syn::Item::Fn(f) => {
                    if returns_opaque_iterator(&f.sig.output) {
                        self.out.iter_fns.insert(f.sig.ident.to_string());
                    }
                    if scope.annotated || is_marked(&f.attrs) {
                        self.out.functions.insert(f.sig.ident.to_string());
                        if infers_from_args(&f.sig, None) {
                            self.out.generic.insert(f.sig.ident.to_string());
                        }
                        self.note_imports(f.sig.ident.to_string(), &uses);
                    } else if returns_std_reader(&f.sig.output) {
                        self.out.reader_fns.insert(f.sig.ident.to_string());
                    }
                    self.walk_block(&f.block, scope);
                }
                syn::Item::Impl(imp) => {
                    let all = scope.annotated || is_marked(&imp.attrs);
                    let self_name = self_type_name(&imp.self_ty);
                    for it in &imp.items {
                        if let syn::ImplItem::Fn(m) = it {
                            if returns_opaque_iterator(&m.sig.output) {
                                self.out.iter_fns.insert(m.sig.ident.to_string());
                            }
                            if all || is_marked(&m.attrs) {
                                self.out
                                    .methods
                                    .insert((self_name.clone(), m.sig.ident.to_string()));
                                if infers_from_args(&m.sig, Some(&imp.generics)) {
                                    self.out.generic.insert(m.sig.ident.to_string());
                                }
                                self.note_imports(format!("{self_name}::{}", m.sig.ident), &uses);
                            }
                            self.walk_block(&m.block, scope);
                        }
                    }
                }
                syn::Item::Trait(tr) => {
                    let all = scope.annotated || is_marked(&tr.attrs);
                    if all && dyn_capable(tr) {
                        self.out.traits.insert(tr.ident.to_string());
                    }
                    for it in &tr.items {
                        if let syn::TraitItem::Fn(m) = it {
                            if let Some(body) = &m.default {
                                if all || is_marked(&m.attrs) {
                                    self.out
                                        .methods
                                        .insert((tr.ident.to_string(), m.sig.ident.to_string()));
                                }
                                self.walk_block(body, scope);
                            }
                        }
                    }
                }
                syn::Item::Mod(m) => self.walk_mod(m, scope),
                syn::Item::Static(st) => {
                    let kind = match st.mutability {
                        syn::StaticMutability::Mut(_) => super::GlobalKind::StaticMut,
                        _ => super::GlobalKind::Static,
                    };
                    let changes =
                        kind == super::GlobalKind::StaticMut || interior(st.ty.to_token_stream());
                    self.global(kind, &st.ident, &st.vis, changes, scope);
                }
                syn::Item::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "thread_local") =>
                {
                    for (vis, name, ty) in thread_local_statics(m.mac.tokens.clone()) {
                        let changes = interior(ty);
                        self.global(super::GlobalKind::ThreadLocal, &name, &vis, changes, scope);
                    }
                }
                _ => {}
            }
        }
    }

    /// Records a static or thread-local `name` declared in `scope`.
    fn global(
        &mut self,
        kind: super::GlobalKind,
        name: &syn::Ident,
        vis: &syn::Visibility,
        changes: bool,
        scope: &Scope,
    ) {
        let mut path = scope.module.clone();
        path.push(name.to_string());
        let visible = scope.module.is_empty() || !is_private(vis);
        self.out.globals.push(super::Global {
            kind,
            path,
            reachable: scope.reachable && visible,
            public: scope.public && matches!(vis, syn::Visibility::Public(_)),
            in_fn: scope.module.iter().any(|m| m == FN_SCOPE),
            changes,
            lib: false,
            file: scope.file.clone(),
            line: name.span().start().line,
        });
    }

    /// Items declared inside a function body (`fn main() { #[checkpointable] fn f() {} }`).
    /// They do not inherit an enclosing annotation: the macro does not rewrite them.
    fn walk_block(&mut self, block: &syn::Block, scope: &Scope) {
        let items: Vec<syn::Item> = block
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Item(item) => Some(item.clone()),
                _ => None,
            })
            .collect();
        if !items.is_empty() {
            let mut module = scope.module.clone();
            module.push(FN_SCOPE.to_owned());
            let inner = Scope {
                annotated: false,
                module,
                reachable: false,
                public: false,
                ..scope.clone()
            };
            self.walk_items(&items, &inner);
        }
    }

    fn walk_mod(&mut self, m: &syn::ItemMod, scope: &Scope) {
        let annotated = scope.annotated || is_marked(&m.attrs);
        let path_attr = path_attr(&m.attrs);
        let depth = scope.depth + 1;
        let mut module = scope.module.clone();
        let name = m.ident.to_string();
        module.push(name.strip_prefix("r#").unwrap_or(&name).to_owned());
        let reachable = scope.reachable && (scope.module.is_empty() || !is_private(&m.vis));
        let public = scope.public && matches!(m.vis, syn::Visibility::Public(_));
        match &m.content {
            Some((_, items)) => {
                let dir = match &path_attr {
                    Some(p) => normalize(&scope.path_base.join(p)),
                    None => scope.mod_dir.join(m.ident.to_string()),
                };
                let inner = Scope {
                    mod_dir: dir.clone(),
                    path_base: dir,
                    annotated,
                    depth,
                    module,
                    reachable,
                    public,
                    file: scope.file.clone(),
                };
                self.walk_items(items, &inner);
            }
            None => {
                if let Some(p) = path_attr {
                    // A `#[path]` file owns its directory, like a `mod.rs`.
                    let file = normalize(&scope.path_base.join(p));
                    if self.package_root.join(&file).is_file() {
                        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
                        self.load_file(
                            &file,
                            &dir,
                            annotated,
                            depth,
                            &ModPath {
                                module: module.clone(),
                                reachable,
                                public,
                            },
                        );
                    }
                    return;
                }
                let name = m.ident.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name);
                let dir = scope.mod_dir.join(name);
                // A missing file is left to rustc to report (it may be cfg'd out).
                for file in [scope.mod_dir.join(format!("{name}.rs")), dir.join("mod.rs")] {
                    if self.package_root.join(&file).is_file() {
                        self.load_file(
                            &file,
                            &dir,
                            annotated,
                            depth,
                            &ModPath {
                                module: module.clone(),
                                reachable,
                                public,
                            },
                        );
                        break;
                    }
                }
            }
        }
    }
}

/// The module-path segment that stands for a function body (items declared in one).
const FN_SCOPE: &str = "{fn}";

/// `pub(self)` or no visibility.
fn is_private(vis: &syn::Visibility) -> bool {
    match vis {
        syn::Visibility::Inherited => true,
        syn::Visibility::Restricted(r) => r.path.is_ident("self"),
        syn::Visibility::Public(_) => false,
    }
}

/// The statics a `thread_local! { [vis] static NAME: T = ...; ... }` declares.
fn thread_local_statics(
    tokens: proc_macro2::TokenStream,
) -> Vec<(syn::Visibility, syn::Ident, proc_macro2::TokenStream)> {
    use proc_macro2::TokenTree;
    let toks: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let TokenTree::Ident(id) = t else { continue };
        if id != "static" {
            continue;
        }
        let Some(TokenTree::Ident(name)) = toks.get(i + 1) else {
            continue;
        };
        // `pub` / `pub(crate)` right before `static`.
        let vis = match (
            i.checked_sub(2).map(|j| &toks[j]),
            i.checked_sub(1).map(|j| &toks[j]),
        ) {
            (Some(TokenTree::Ident(p)), Some(TokenTree::Group(g))) if p == "pub" => {
                syn::parse2(quote_vis(p, Some(g))).unwrap_or(syn::Visibility::Inherited)
            }
            (_, Some(TokenTree::Ident(p))) if p == "pub" => {
                syn::parse2(quote_vis(p, None)).unwrap_or(syn::Visibility::Inherited)
            }
            _ => syn::Visibility::Inherited,
        };
        // The type: from the `:` after the name to the `=`.
        let ty: proc_macro2::TokenStream = toks[i + 2..]
            .iter()
            .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
            .cloned()
            .collect();
        out.push((vis, name.clone(), ty));
    }
    out
}

/// Whether a type can change behind a shared reference (a static of it can change):
/// it names an atomic, a lock, a once cell or a cell (a `LazyLock` changes only when
/// what it holds does).
fn interior(ty: proc_macro2::TokenStream) -> bool {
    ty.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => {
            let w = i.to_string();
            w.starts_with("Atomic")
                || matches!(
                    w.as_str(),
                    "Mutex"
                        | "RwLock"
                        | "OnceLock"
                        | "OnceCell"
                        | "Cell"
                        | "RefCell"
                        | "UnsafeCell"
                        | "SyncUnsafeCell"
                )
        }
        proc_macro2::TokenTree::Group(g) => interior(g.stream()),
        _ => false,
    })
}

fn quote_vis(p: &proc_macro2::Ident, g: Option<&proc_macro2::Group>) -> proc_macro2::TokenStream {
    let mut ts = proc_macro2::TokenStream::new();
    ts.extend([proc_macro2::TokenTree::Ident(p.clone())]);
    if let Some(g) = g {
        ts.extend([proc_macro2::TokenTree::Group(g.clone())]);
    }
    ts
}

/// Whether a plain function's return type names std's `BufReader` or `File` (the words:
/// syn has no types). Its callers in checkpointable code turn what it returns into ckpt's
/// reader (`ckpt::__private::adopt_reader`, which leaves any other type as it is).
fn returns_std_reader(output: &syn::ReturnType) -> bool {
    fn words(ts: proc_macro2::TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "BufReader" || i == "File",
            proc_macro2::TokenTree::Group(g) => words(g.stream()),
            _ => false,
        })
    }
    match output {
        syn::ReturnType::Default => false,
        syn::ReturnType::Type(_, t) => words(quote::ToTokens::to_token_stream(&**t)),
    }
}

/// Whether an attribute list holds `#[checkpointable]` under any path, also inside
/// `#[cfg_attr(..., checkpointable)]` (whatever the condition: over-approximating is cheap).
pub(crate) fn is_marked(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("cfg_attr") {
            let mut hit = false;
            // `cfg_attr(pred, attr, attr...)`: the predicate is never a bare path ending in
            // `checkpointable`, so scanning every top-level path is enough.
            let _ = a.parse_nested_meta(|meta| {
                if ends_in_marker(&meta.path) {
                    hit = true;
                }
                // Skip whatever follows (`(...)` or `= ...`) without failing.
                if meta.input.peek(syn::token::Paren) {
                    let _content;
                    syn::parenthesized!(_content in meta.input);
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            hit
        } else {
            ends_in_marker(a.path())
        }
    })
}

fn ends_in_marker(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|s| s.ident == "checkpointable")
}

/// The `"..."` of a `#[path = "..."]` attribute.
pub(crate) fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Last path segment of an impl's self type (`Sim` for `&mut crate::Sim<T>`).
pub(crate) fn self_type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(|| "_".to_owned(), |s| s.ident.to_string()),
        syn::Type::Reference(r) => self_type_name(&r.elem),
        syn::Type::Paren(p) => self_type_name(&p.elem),
        syn::Type::Group(g) => self_type_name(&g.elem),
        syn::Type::TraitObject(t) => t
            .bounds
            .iter()
            .find_map(|b| match b {
                syn::TypeParamBound::Trait(tb) => tb.path.segments.last(),
                _ => None,
            })
            .map_or_else(|| "_".to_owned(), |s| s.ident.to_string()),
        // Slices, tuples, arrays...: no name a method call could be matched by.
        _ => "_".to_owned(),
    }
}

/// `a/b/../c` → `a/c`, lexically (the `#[path]` file may not exist yet).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A relative path with `/` separators on every host, for stable hashing.
pub(crate) fn slash_path(path: &Path) -> String {
    let parts: Vec<String> = normalize(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> String {
        self_type_name(&syn::parse_str(src).expect("type"))
    }

    fn uses(src: &str) -> Vec<(String, String)> {
        let u: syn::ItemUse = syn::parse_str(src).expect("use");
        let mut out = Vec::new();
        std_uses(&u.tree, &mut Vec::new(), &mut out);
        out
    }

    fn pair(a: &str, p: &str) -> (String, String) {
        (a.to_string(), p.to_string())
    }

    #[test]
    fn std_uses_bind_aliases_to_paths() {
        assert_eq!(
            uses("use std::io::{self, BufRead as B, prelude::*};"),
            [
                pair("io", "std::io"),
                pair("B", "std::io::BufRead"),
                pair("*", "std::io::prelude")
            ]
        );
        assert_eq!(
            uses("use std::{fs, collections::HashMap};"),
            [
                pair("fs", "std::fs"),
                pair("HashMap", "std::collections::HashMap")
            ]
        );
        assert!(uses("use crate::fs::File;").is_empty());
        assert!(uses("use std::io::Write as _;").is_empty());
    }

    #[test]
    fn a_name_in_several_modules_keeps_the_common_imports() {
        let mut m = BTreeMap::new();
        let file = pair("File", "std::fs::File");
        let map = pair("HashMap", "std::collections::HashMap");
        note_imports(&mut m, "run".into(), [file.clone(), map.clone()].into());
        note_imports(&mut m, "run".into(), [map.clone()].into());
        assert_eq!(m["run"], [map].into());
        note_imports(&mut m, "run".into(), BTreeSet::new());
        assert!(m["run"].is_empty());
    }

    #[test]
    fn self_type_is_last_segment() {
        assert_eq!(ty("Sim"), "Sim");
        assert_eq!(ty("crate::sim::Sim<T>"), "Sim");
        assert_eq!(ty("&mut Sim"), "Sim");
        assert_eq!(ty("dyn Walk + Send"), "Walk");
        assert_eq!(ty("[u8]"), "_");
    }

    #[test]
    fn marker_matches_any_path_ending_in_checkpointable() {
        let f: syn::ItemFn = syn::parse_quote! { #[ckpt::checkpointable] fn a() {} };
        assert!(is_marked(&f.attrs));
        let f: syn::ItemFn = syn::parse_quote! { #[checkpointable] fn a() {} };
        assert!(is_marked(&f.attrs));
        let f: syn::ItemFn = syn::parse_quote! { #[inline] fn a() {} };
        assert!(!is_marked(&f.attrs));
        let f: syn::ItemFn = syn::parse_quote! {
            #[cfg_attr(all(feature = "x", not(test)), inline, ckpt::checkpointable)]
            fn a() {}
        };
        assert!(is_marked(&f.attrs));
        let f: syn::ItemFn = syn::parse_quote! {
            #[cfg_attr(feature = "checkpointable", doc = "x")]
            fn a() {}
        };
        assert!(!is_marked(&f.attrs));
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("src/a/../b/./c.rs")),
            Path::new("src/b/c.rs")
        );
        assert_eq!(slash_path(Path::new("src/./x.rs")), "src/x.rs");
    }

    #[test]
    fn hash_depends_on_paths_and_contents() {
        let mut a = BTreeMap::new();
        a.insert("src/lib.rs".to_owned(), b"fn a() {}".to_vec());
        let mut b = a.clone();
        b.insert("src/m.rs".to_owned(), Vec::new());
        let mut c = BTreeMap::new();
        c.insert("src/main.rs".to_owned(), b"fn a() {}".to_vec());
        assert_ne!(hash_sources(&a), hash_sources(&b));
        assert_ne!(hash_sources(&a), hash_sources(&c));
        assert_eq!(hash_sources(&a), hash_sources(&a.clone()));
    }
}
