//! Routes std's OS interfaces to ckpt's components (DESIGN §7): inside a checkpointable
//! function, `std::fs`, `std::io`, `std::env`, `std::time` and `std::net` mean
//! `ckpt::fs`, `ckpt::io`, `ckpt::env`, `ckpt::time` and `ckpt::net` (supersets of std's
//! modules with the same signatures), and `std::thread::sleep` is `ckpt::time::sleep`. `std::collections`
//! keeps std's types.
//!
//! Three ways a body reaches those items, three rewrites:
//! - a full path (`std::fs::File::open`): rewritten in place;
//! - a `use` inside the annotated item (`use std::io::BufRead;` in the body or in an
//!   annotated `mod`): the use tree is rewritten;
//! - a `use` of the enclosing module, which the macro cannot see: ckpt-build's analysis
//!   lists them per function (`use <fn> <alias> <path>`), and the body gets a block-level
//!   `use ::ckpt::… as alias;` that shadows the module's import. It also re-imports the
//!   module's alias as `_`, so an import used only by rewritten bodies does not become an
//!   "unused import".
//!
//! Signatures are left alone: values crossing them convert with `From`/`Into`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::visit_mut::VisitMut;

/// std modules that have a ckpt superset. (`std::collections` keeps std's types: a loop
/// over a std map is resumed by the keys it still has to visit.)
const MODULES: &[&str] = &["fs", "io", "env", "time", "net"];

/// The ckpt path for a std path given as segments after `std`, or `None` if it stays.
/// `["collections", "HashMap"]` → `["collections", "HashMap"]` under `::ckpt`.
fn ckpt_path(rest: &[String]) -> Option<Vec<String>> {
    match rest {
        [m, ..] if MODULES.contains(&m.as_str()) => Some(rest.to_vec()),
        [t, s, tail @ ..] if t == "thread" && s == "sleep" => {
            let mut v = vec!["time".to_string(), "sleep".to_string()];
            v.extend(tail.iter().cloned());
            Some(v)
        }
        _ => None,
    }
}

/// Rewrites full std paths and `use` trees inside a function body.
pub struct StdPaths;

impl VisitMut for StdPaths {
    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        syn::visit_mut::visit_path_mut(self, p);
        if p.segments.len() < 2 || p.segments[0].ident != "std" {
            return;
        }
        let rest: Vec<String> = p
            .segments
            .iter()
            .skip(1)
            .map(|s| s.ident.to_string())
            .collect();
        let Some(new) = ckpt_path(&rest) else {
            return;
        };
        let span = p.segments[0].ident.span();
        // Keep the original segments' arguments (`HashMap::<K, V>::new`) where names match.
        let old: Vec<syn::PathSegment> = p.segments.iter().skip(1).cloned().collect();
        let mut segs = syn::punctuated::Punctuated::new();
        segs.push(syn::PathSegment::from(syn::Ident::new("ckpt", span)));
        let shift = new.len() as isize - rest.len() as isize;
        for (i, name) in new.iter().enumerate() {
            let oi = i as isize - shift;
            let seg = if oi >= 0 && (oi as usize) < old.len() && old[oi as usize].ident == name {
                old[oi as usize].clone()
            } else {
                syn::PathSegment::from(syn::Ident::new(name, span))
            };
            segs.push(seg);
        }
        p.segments = segs;
        // The user's span, not the attribute's: a call through this path reports the
        // user's line (`#[track_caller]`, the input log's call sites, error messages).
        p.leading_colon = Some(syn::Token![::](span));
    }

    /// `SystemTime::now()` (by any path to std's: `std::time::SystemTime::now()`,
    /// `time::SystemTime::now()`) reads the wall clock through ckpt's choke point,
    /// `::ckpt::time::system_now()`, which returns std's `SystemTime` all the same.
    fn visit_expr_call_mut(&mut self, c: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, c);
        let syn::Expr::Path(f) = &mut *c.func else {
            return;
        };
        if f.qself.is_some() || !c.args.is_empty() {
            return;
        }
        let names: Vec<String> = f
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let std_prefix = match names.as_slice() {
            [.., t, n] if t == "SystemTime" && n == "now" => &names[..names.len() - 2],
            _ => return,
        };
        let ours = match std_prefix {
            [] => true,
            [t] => t == "time",
            [a, t] => (a == "std" || a == "ckpt") && t == "time",
            _ => false,
        };
        if ours {
            let span = f.path.segments[0].ident.span();
            f.path = syn::parse_quote_spanned!(span=> ::ckpt::time::system_now);
        }
    }

    fn visit_item_use_mut(&mut self, u: &mut syn::ItemUse) {
        let before = u.tree.clone();
        rewrite_use_tree(&mut u.tree, &mut Vec::new());
        if u.tree != before {
            // `use std::io::BufRead;` for `.lines()` is unused once `lines` is ckpt's own
            // method: not the user's doing, so not their warning.
            u.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
        }
    }

    /// Macro arguments that are expressions separated by commas (`println!`, `format!`,
    /// `write!`, `assert_eq!`, `vec![a, b]`...) are rewritten like any expression.
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        use syn::punctuated::Punctuated;
        // Macros that look at their tokens, not their values, see what the user wrote.
        let name = m.path.segments.last().map(|s| s.ident.to_string());
        if matches!(
            name.as_deref(),
            Some("stringify" | "concat" | "include" | "include_str" | "include_bytes" | "env")
        ) {
            return;
        }
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut args) = syn::parse::Parser::parse2(parser, m.tokens.clone()) {
            for a in args.iter_mut() {
                self.visit_expr_mut(a);
            }
            m.tokens = quote!(#args);
        }
    }
}

/// Rewrites `std::<module>…` prefixes of a use tree to `ckpt::<module>…`.
fn rewrite_use_tree(t: &mut syn::UseTree, prefix: &mut Vec<String>) {
    match t {
        syn::UseTree::Path(up) => {
            if prefix.is_empty() && up.ident == "std" {
                if let syn::UseTree::Path(next) = &*up.tree {
                    let m = next.ident.to_string();
                    if MODULES.contains(&m.as_str()) {
                        up.ident = syn::Ident::new("ckpt", up.ident.span());
                        return;
                    }
                }
                if let syn::UseTree::Group(g) = &mut *up.tree {
                    // `use std::{fs, io::Write, thread}`: rewrite the members one by one.
                    let span = up.ident.span();
                    let items: Vec<syn::UseTree> = g.items.iter().cloned().collect();
                    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                    for it in items {
                        let first = match &it {
                            syn::UseTree::Path(p) => Some(p.ident.to_string()),
                            syn::UseTree::Name(n) => Some(n.ident.to_string()),
                            syn::UseTree::Rename(r) => Some(r.ident.to_string()),
                            _ => None,
                        };
                        if first.is_some_and(|f| MODULES.contains(&f.as_str())) {
                            ours.push(it);
                        } else {
                            theirs.push(it);
                        }
                    }
                    if !ours.is_empty() {
                        let ckpt = syn::Ident::new("ckpt", span);
                        let std = syn::Ident::new("std", span);
                        *t = syn::parse_quote!({ #ckpt::{ #(#ours),* }, #std::{ #(#theirs),* } });
                    }
                    return;
                }
            }
            prefix.push(up.ident.to_string());
            rewrite_use_tree(&mut up.tree, prefix);
            prefix.pop();
        }
        syn::UseTree::Group(g) => {
            for it in g.items.iter_mut() {
                rewrite_use_tree(it, prefix);
            }
        }
        _ => {}
    }
}

/// The block-level imports that shadow the enclosing module's std imports. `imports`
/// are `(alias, path)` from the analysis (`path` like `std::fs::File`, alias `*` for a
/// glob of `path`).
pub fn shadowing_uses(imports: &[(String, String)]) -> TokenStream {
    let mut out = TokenStream::new();
    for (alias, path) in imports {
        let segs: Vec<&str> = path.split("::").collect();
        if segs.first() != Some(&"std") {
            continue;
        }
        let rest: Vec<String> = segs[1..].iter().map(|s| s.to_string()).collect();
        if alias == "*" {
            // `use std::collections::*;` in the module: the names ckpt replaces there.
            let names: &[&str] = match rest.as_slice() {
                [m] if m == "io" => &[
                    "BufReader",
                    "BufWriter",
                    "Lines",
                    "Split",
                    "Bytes",
                    "stdin",
                    "Stdin",
                    "StdinLock",
                ],
                [m] if m == "fs" => &[
                    "File",
                    "OpenOptions",
                    "write",
                    "remove_file",
                    "rename",
                    "remove_dir",
                    "remove_dir_all",
                    "read",
                    "read_to_string",
                    "read_dir",
                    "metadata",
                ],
                [m] if m == "time" => &["Instant"],
                [m] if m == "net" => &["TcpListener", "TcpStream", "UdpSocket", "Incoming"],
                [m] if m == "env" => &[
                    "args",
                    "args_os",
                    "var",
                    "var_os",
                    "vars",
                    "vars_os",
                    "set_var",
                    "remove_var",
                    "Args",
                    "ArgsOs",
                    "Vars",
                    "VarsOs",
                ],
                _ => &[],
            };
            if rest.first().is_some_and(|m| m == "io") {
                // `use std::io::prelude::*;` (or `std::io::*`) may serve only `BufRead`
                // methods that are ckpt's own now: keep the glob from looking unused.
                out.extend(quote! {
                    #[allow(unused_imports)]
                    use self::BufRead as _;
                });
            }
            if names.is_empty() {
                continue;
            }
            let module = ident(&rest[0]);
            for n in names {
                let n = ident(n);
                out.extend(quote! {
                    #[allow(unused_imports)]
                    use ::ckpt::#module::#n;
                });
            }
            continue;
        }
        let Some(new) = ckpt_path(&rest) else {
            continue;
        };
        if !is_ident(alias) {
            continue;
        }
        let a = ident(alias);
        let new = new.iter().map(|s| ident(s));
        out.extend(quote! {
            #[allow(unused_imports)]
            use ::ckpt #(:: #new)* as #a;
            #[allow(unused_imports)]
            use self::#a as _;
        });
    }
    out
}

/// Rewrites the std types a checkpointable function's signature names through the
/// module's imports of the modules ckpt replaces (`File` imported from `std::fs`,
/// `TcpStream` from `std::net`, `io::BufReader<File>` with `use std::io;`) to ckpt's, so
/// the values its body makes and the ones its (checkpointable) callers pass are the same
/// types. Names ckpt only re-exports (`io::Result`, `Duration`) are std's either way; a
/// full `std::fs::File` stays std's.
pub fn std_signature(sig: &mut syn::Signature, imports: &[(String, String)]) {
    struct Sig<'a>(&'a [(String, String)]);
    impl VisitMut for Sig<'_> {
        fn visit_type_path_mut(&mut self, t: &mut syn::TypePath) {
            syn::visit_mut::visit_type_path_mut(self, t);
            if t.qself.is_some() || t.path.leading_colon.is_some() {
                return;
            }
            let names: Vec<String> = t
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            // The std path an alias the module imports names. A full `std::…` path says
            // std's type on purpose (a function called from code that is not
            // checkpointable, say): it stays.
            let Some((_, p)) = self
                .0
                .iter()
                .find(|(alias, _)| Some(alias) == names.first())
            else {
                return;
            };
            if p.split("::").next() != Some("std") {
                return;
            }
            let mut std_path: Vec<String> = p.split("::").skip(1).map(str::to_string).collect();
            std_path.extend(names[1..].iter().cloned());
            let Some(new) = ckpt_path(&std_path) else {
                return;
            };
            if new.len() < 2 {
                // A module itself (`io`), not a type.
                return;
            }
            let span = t.path.segments[0].ident.span();
            // The last segment keeps its generic arguments (`BufReader<File>`).
            let last = t
                .path
                .segments
                .last()
                .cloned()
                .expect("a path has a segment");
            let mut segs = syn::punctuated::Punctuated::new();
            segs.push(syn::PathSegment::from(syn::Ident::new("ckpt", span)));
            for (i, name) in new.iter().enumerate() {
                if i + 1 == new.len() {
                    let mut seg = last.clone();
                    seg.ident = syn::Ident::new(name, last.ident.span());
                    segs.push(seg);
                } else {
                    segs.push(syn::PathSegment::from(syn::Ident::new(name, span)));
                }
            }
            t.path.segments = segs;
            t.path.leading_colon = Some(syn::Token![::](span));
        }
        fn visit_block_mut(&mut self, _: &mut syn::Block) {}
    }
    let mut v = Sig(imports);
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(pt) = input {
            v.visit_type_mut(&mut pt.ty);
        }
    }
    v.visit_return_type_mut(&mut sig.output);
}

fn is_ident(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_ok()
}

fn ident(s: &str) -> syn::Ident {
    syn::Ident::new(s, Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(src: &str) -> String {
        let mut b: syn::Block = syn::parse_str(src).unwrap();
        StdPaths.visit_block_mut(&mut b);
        quote!(#b).to_string()
    }

    #[test]
    fn full_paths_move_to_ckpt() {
        assert_eq!(
            rewrite("{ let f = std::fs::File::open(p); }"),
            "{ let f = :: ckpt :: fs :: File :: open (p) ; }"
        );
        assert_eq!(
            rewrite("{ let m = std::collections::HashMap::<u8, u8>::new(); }"),
            "{ let m = std :: collections :: HashMap :: < u8 , u8 > :: new () ; }"
        );
        assert_eq!(
            rewrite("{ std::thread::sleep(d); std::thread::spawn(f); }"),
            "{ :: ckpt :: time :: sleep (d) ; std :: thread :: spawn (f) ; }"
        );
        assert_eq!(
            rewrite("{ let x = std::f64::consts::PI; }"),
            "{ let x = std :: f64 :: consts :: PI ; }"
        );
    }

    #[test]
    fn macro_arguments_are_rewritten() {
        assert_eq!(
            rewrite("{ let t = SystemTime::now(); let u = std::time::SystemTime::now(); }"),
            "{ let t = :: ckpt :: time :: system_now () ; let u = :: ckpt :: time :: system_now () ; }"
        );
        assert_eq!(
            rewrite("{ let t = my::SystemTime::now(); }"),
            "{ let t = my :: SystemTime :: now () ; }"
        );
        assert_eq!(
            rewrite(r#"{ println!("{:?}", std::time::Instant::now()); }"#),
            r#"{ println ! ("{:?}" , :: ckpt :: time :: Instant :: now ()) ; }"#
        );
        // Not a comma-separated expression list: left as written.
        assert_eq!(
            rewrite("{ let v = vec![std::time::Instant::now(); 2]; }"),
            "{ let v = vec ! [std :: time :: Instant :: now () ; 2] ; }"
        );
    }

    #[test]
    fn token_macros_are_left_as_written() {
        assert_eq!(
            rewrite("{ let s = stringify!(std::fs::File); }"),
            "{ let s = stringify ! (std :: fs :: File) ; }"
        );
    }

    #[test]
    fn use_trees_move_to_ckpt() {
        assert_eq!(
            rewrite("{ use std::io::{self, BufRead}; }"),
            "{ # [allow (unused_imports)] use ckpt :: io :: { self , BufRead } ; }"
        );
        assert_eq!(
            rewrite("{ use std::{fs, rc::Rc}; }"),
            "{ # [allow (unused_imports)] use { ckpt :: { fs } , std :: { rc :: Rc } } ; }"
        );
        assert_eq!(rewrite("{ use std::rc::Rc; }"), "{ use std :: rc :: Rc ; }");
    }

    #[test]
    fn module_imports_are_shadowed() {
        let ts = shadowing_uses(&[
            ("HashMap".into(), "std::collections::HashMap".into()),
            ("Rc".into(), "std::rc::Rc".into()),
            ("io".into(), "std::io".into()),
        ])
        .to_string();
        assert!(!ts.contains("HashMap"), "{ts}");
        assert!(ts.contains("use self :: io as _"), "{ts}");
        assert!(ts.contains(":: ckpt :: io as io"), "{ts}");
        assert!(!ts.contains("Rc"), "{ts}");
    }
}
