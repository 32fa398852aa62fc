//! `#[checkpointable]`: the resume transform (DESIGN §4, RESUME.md).
//!
//! Front end (this file): parse the item, read the analysis, check, then run the passes
//! on each function: `points` (mark save and call points), `normalize` (control flow),
//! `split` (blocks, liveness, point expansion). Every function `f` becomes a thin
//! wrapper over its resumable twin `__ckpt_f`, whose by-value parameters are `Option`
//! slots that callers leave empty on the resume path.
//!
//! Set `CKPT_EXPAND=1` while building to print each rewritten function.

mod analysis;
mod deny;
mod normalize;
mod os_rules;
mod points;
mod rewrite;
#[cfg(test)]
mod snapshot_tests;
mod split;
mod vars;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::parse_quote;
use syn::spanned::Spanned;

use analysis::Analysis;
use split::{ArgSlot, Ctx};

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let deny = deny::mode(attr, &mut errors);
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    if let Some(why) = deny {
        deny::check(&parsed, why, &mut errors);
    }
    let mut analysis = Analysis::load();
    collect_names(&parsed, None, &mut analysis);
    let out = match parsed {
        syn::Item::Fn(f) => item_fn(f, &analysis, &mut errors),
        syn::Item::Impl(i) => item_impl(i, &analysis, &mut errors),
        syn::Item::Mod(m) => item_mod(m, &analysis, &mut errors),
        other => {
            errors.push(syn::Error::new(
                other.span(),
                "ckpt: #[checkpointable] goes on a function, an `impl` block or an inline `mod`",
            ));
            other.into_token_stream()
        }
    };
    if errors.is_empty() {
        if std::env::var_os("CKPT_EXPAND").is_some() {
            eprintln!("{out}");
        }
        return out;
    }
    // Keep the original item next to the errors so the IDE still knows its names.
    let errs = errors.iter().map(syn::Error::to_compile_error);
    quote! { #(#errs)* #item }
}

/// Names annotated together with this item are checkpointable even without ckpt-build.
fn collect_names(item: &syn::Item, _in: Option<&str>, a: &mut Analysis) {
    match item {
        syn::Item::Fn(f) => a.add_fn(f.sig.ident.to_string()),
        syn::Item::Impl(i) => {
            let ty = type_name(&i.self_ty);
            for it in &i.items {
                if let syn::ImplItem::Fn(f) = it {
                    a.add_method(ty.clone(), f.sig.ident.to_string());
                }
            }
        }
        syn::Item::Mod(m) => {
            for it in m.content.iter().flat_map(|c| &c.1) {
                collect_names(it, None, a);
            }
        }
        _ => {}
    }
}

fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        other => other.to_token_stream().to_string(),
    }
}

fn item_mod(mut m: syn::ItemMod, a: &Analysis, errors: &mut Vec<syn::Error>) -> TokenStream {
    if let Some((_, items)) = &mut m.content {
        let mut out = Vec::new();
        for it in std::mem::take(items) {
            let ts = match it {
                syn::Item::Fn(f) => item_fn(f, a, errors),
                syn::Item::Impl(i) => item_impl(i, a, errors),
                syn::Item::Mod(m) => item_mod(m, a, errors),
                mut other => {
                    // `use std::io::BufRead;` in an annotated module means ckpt's.
                    syn::visit_mut::VisitMut::visit_item_mut(&mut rewrite::StdPaths, &mut other);
                    other.into_token_stream()
                }
            };
            out.push(syn::Item::Verbatim(ts));
        }
        *items = out;
    } else {
        errors.push(syn::Error::new(
            m.span(),
            "ckpt: #[checkpointable] on a `mod foo;` declaration cannot see its file; annotate the items inside",
        ));
    }
    m.into_token_stream()
}

fn item_impl(mut i: syn::ItemImpl, a: &Analysis, errors: &mut Vec<syn::Error>) -> TokenStream {
    if let Some((_, path, _)) = &i.trait_ {
        errors.push(syn::Error::new(
            path.span(),
            "ckpt: #[checkpointable] on a trait impl is not supported; move the resumable work into an \
             inherent method and call it from the trait method",
        ));
        return i.into_token_stream();
    }
    let ty = type_name(&i.self_ty);
    let mut items = Vec::new();
    for it in std::mem::take(&mut i.items) {
        match it {
            syn::ImplItem::Fn(f) => {
                let (wrapper, twin) =
                    transform(&f.attrs, &f.vis, &f.sig, &f.block, Some(&ty), a, errors);
                items.push(syn::ImplItem::Verbatim(wrapper));
                items.push(syn::ImplItem::Verbatim(twin));
            }
            other => items.push(other),
        }
    }
    i.items = items;
    i.into_token_stream()
}

fn item_fn(f: syn::ItemFn, a: &Analysis, errors: &mut Vec<syn::Error>) -> TokenStream {
    if f.sig.ident == "main" && f.sig.inputs.is_empty() {
        return main_fn(f, a, errors);
    }
    let (wrapper, twin) = transform(&f.attrs, &f.vis, &f.sig, &f.block, None, a, errors);
    quote! { #wrapper #twin }
}

/// FNV-1a of the function's tokens: a restore into a changed body is refused.
fn body_hash(ts: &TokenStream) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in ts.to_string().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn main_fn(f: syn::ItemFn, a: &Analysis, errors: &mut Vec<syn::Error>) -> TokenStream {
    let hash = body_hash(&f.to_token_stream());
    let (attrs, vis, sig) = (&f.attrs, &f.vis, &f.sig);
    let twin_ident = format_ident!("__ckpt_main");
    let mut twin_sig = sig.clone();
    twin_sig.ident = twin_ident.clone();
    let body = body_of(&twin_sig, "main", None, &f.block, hash, a, errors);
    let body = with_std_rewritten(body, "main", a);
    let fp = &a.fingerprint;
    quote! {
        #(#attrs)*
        #vis #sig {
            static __CKPT_PROGRAM: ::ckpt::__private::Program = ::ckpt::__private::Program {
                crate_name: ::core::env!("CARGO_CRATE_NAME"),
                version: ::core::env!("CARGO_PKG_VERSION"),
                fingerprint: #fp,
                main_hash: #hash,
            };
            ::ckpt::__private::start(&__CKPT_PROGRAM);
            #twin_ident()
        }
        #[doc(hidden)]
        #[allow(unused_mut, unused_variables, unused_parens, unreachable_code, unused_braces, unused_assignments, clippy::all)]
        #twin_sig #body
    }
}

/// Returns the wrapper with the original signature and the resumable twin.
fn transform(
    attrs: &[syn::Attribute],
    vis: &syn::Visibility,
    sig: &syn::Signature,
    block: &syn::Block,
    self_ty: Option<&str>,
    a: &Analysis,
    errors: &mut Vec<syn::Error>,
) -> (TokenStream, TokenStream) {
    if let Some(asy) = &sig.asyncness {
        errors.push(syn::Error::new(
            asy.span(),
            "ckpt: an async fn cannot be #[checkpointable] (its state lives in a future ckpt cannot \
             resume); make it a plain fn",
        ));
    }
    let hash = body_hash(&quote!(#sig #block));
    let name = match self_ty {
        Some(t) => format!("{t}::{}", sig.ident),
        None => sig.ident.to_string(),
    };
    let twin_ident = format_ident!("__ckpt_{}", sig.ident);
    let mut wrapper_sig = sig.clone();
    let mut twin_sig = sig.clone();
    twin_sig.ident = twin_ident.clone();
    let mut call_args = Vec::new();
    let mut receiver = false;
    let mut impl_trait = false;
    for (i, (w, t)) in wrapper_sig
        .inputs
        .iter_mut()
        .zip(twin_sig.inputs.iter_mut())
        .enumerate()
    {
        match (w, t) {
            (syn::FnArg::Receiver(r), _) => {
                receiver = true;
                // `mut self` matters to the body, which lives in the twin.
                if r.reference.is_none() {
                    r.mutability = None;
                }
                call_args.push(quote!(self));
            }
            (syn::FnArg::Typed(w), syn::FnArg::Typed(t)) => {
                let a = format_ident!("__ckpt_a{}", i);
                if matches!(&*w.ty, syn::Type::ImplTrait(_)) {
                    impl_trait = true;
                }
                *w.pat = parse_quote!(#a);
                let ty = &t.ty;
                let p = format_ident!("__ckpt_p{}", i);
                *t.pat = parse_quote!(#p);
                // References are passed again on the resume path (so they stay plain and
                // coerce as usual); by-value arguments become slots left empty then.
                if is_ref(ty).is_some() {
                    call_args.push(quote!(#a));
                } else {
                    *t.ty = parse_quote!(::core::option::Option<#ty>);
                    call_args.push(quote!(::core::option::Option::Some(#a)));
                }
            }
            _ => {}
        }
    }
    let body = body_of(&twin_sig, &name, Some(sig), block, hash, a, errors);
    let body = with_std_rewritten(body, &name, a);
    let turbofish = if impl_trait
        || sig.generics.type_params().next().is_none()
            && sig.generics.const_params().next().is_none()
    {
        quote!()
    } else {
        // Lifetimes cannot be given explicitly when late-bound; pass types and consts only.
        let params = sig.generics.params.iter().filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.to_token_stream()),
            syn::GenericParam::Const(c) => Some(c.ident.to_token_stream()),
            syn::GenericParam::Lifetime(_) => None,
        });
        quote!(::<#(#params),*>)
    };
    let allow = quote! {
        #[allow(unused_mut, unused_variables, unused_parens, unreachable_code, unused_braces, unused_assignments, clippy::all)]
    };
    let wrapper_attrs = quote! { #(#attrs)* #[allow(clippy::all)] };
    if self_ty.is_some() {
        let wrapper = quote! { #wrapper_attrs #vis #wrapper_sig { Self::#twin_ident #turbofish(#(#call_args),*) } };
        let twin = quote! { #[doc(hidden)] #allow #vis #twin_sig #body };
        return (wrapper, twin);
    }
    // A free function's twin is `f::__ckpt` in a module named like the function, so
    // that `use path::f` imports both. The module sees its parent's names through a
    // glob import; `self::`/`super::` paths of the body move one level up.
    let _ = receiver;
    let fn_ident = &sig.ident;
    let wrapper = quote! { #wrapper_attrs #vis #wrapper_sig { #fn_ident::__ckpt #turbofish(#(#call_args),*) } };
    let mut twin_fn: syn::ItemFn = match syn::parse2(quote! { #allow pub #twin_sig #body }) {
        Ok(f) => f,
        Err(e) => {
            errors.push(e);
            return (wrapper, quote!());
        }
    };
    twin_fn.sig.ident = format_ident!("__ckpt");
    syn::visit_mut::VisitMut::visit_item_fn_mut(&mut LevelDown, &mut twin_fn);
    let twin = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports)]
        #vis mod #fn_ident {
            use super::*;
            #twin_fn
        }
    };
    (wrapper, twin)
}

/// The twin's body with std's OS interfaces routed to ckpt's components (see
/// [`rewrite`]): full paths and inner `use`s rewritten, the module's imports shadowed.
fn with_std_rewritten(body: TokenStream, name: &str, a: &Analysis) -> TokenStream {
    let mut block: syn::Block = match syn::parse2(body.clone()) {
        Ok(b) => b,
        Err(_) => return body,
    };
    syn::visit_mut::VisitMut::visit_block_mut(&mut rewrite::StdPaths, &mut block);
    let shadows = rewrite::shadowing_uses(a.imports.get(name).map_or(&[][..], |v| v));
    if shadows.is_empty() {
        return quote!(#block);
    }
    quote! { { #shadows #block } }
}

/// Rewrites `self::x` to `super::x` and `super::x` to `super::super::x`: code moved
/// one module down keeps naming the same items.
struct LevelDown;

impl syn::visit_mut::VisitMut for LevelDown {
    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            let first = p.segments[0].ident.to_string();
            let span = p.segments[0].ident.span();
            if first == "self" {
                p.segments[0].ident = syn::Ident::new("super", span);
            } else if first == "super" {
                p.segments
                    .insert(0, syn::PathSegment::from(syn::Ident::new("super", span)));
            }
        }
        syn::visit_mut::visit_path_mut(self, p);
    }

    fn visit_use_tree_mut(&mut self, t: &mut syn::UseTree) {
        if let syn::UseTree::Path(up) = t {
            let span = up.ident.span();
            if up.ident == "self" {
                up.ident = syn::Ident::new("super", span);
            } else if up.ident == "super" {
                let inner = syn::UseTree::Path(up.clone());
                *t = syn::UseTree::Path(syn::UsePath {
                    ident: syn::Ident::new("super", span),
                    colon2_token: Default::default(),
                    tree: Box::new(inner),
                });
                return;
            }
        }
        syn::visit_mut::visit_use_tree_mut(self, t);
    }

    fn visit_item_mut(&mut self, i: &mut syn::Item) {
        // Nested items are written relative to their own position; still one level down.
        syn::visit_mut::visit_item_mut(self, i);
    }
}

fn is_ref(t: &syn::Type) -> Option<bool> {
    match t {
        syn::Type::Reference(r) => Some(r.mutability.is_some()),
        syn::Type::Paren(p) => is_ref(&p.elem),
        _ => None,
    }
}

fn pat_name(p: &syn::Pat) -> Option<syn::Ident> {
    match p {
        syn::Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.clone()),
        _ => None,
    }
}

/// The body of the resumable twin. `orig` is the original signature (for parameter
/// patterns); `None` for `main`.
fn body_of(
    twin: &syn::Signature,
    name: &str,
    orig: Option<&syn::Signature>,
    block: &syn::Block,
    hash: u64,
    a: &Analysis,
    errors: &mut Vec<syn::Error>,
) -> TokenStream {
    let mut body = block.clone();
    let mut prologue = Vec::new();
    let mut param_names = Vec::new();
    let mut slots = Vec::new();
    let mut mut_refs = std::collections::BTreeSet::new();
    let mut shared_refs = std::collections::BTreeSet::new();
    let mut bound = Vec::new();
    if let Some(orig) = orig {
        for (i, arg) in orig.inputs.iter().enumerate() {
            match arg {
                syn::FnArg::Receiver(r) => {
                    let read = if r.reference.is_some() {
                        quote!(&*self)
                    } else {
                        quote!(&self)
                    };
                    slots.push(ArgSlot {
                        name: "self".into(),
                        read,
                    });
                    match (&r.reference, &r.mutability) {
                        (Some(_), Some(_)) => {
                            mut_refs.insert("self".to_string());
                        }
                        (Some(_), None) => {
                            shared_refs.insert("self".to_string());
                        }
                        _ => {}
                    }
                }
                syn::FnArg::Typed(t) => {
                    let p = format_ident!("__ckpt_p{}", i);
                    let pat = &t.pat;
                    let pname = pat_name(pat);
                    param_names.push(
                        pname
                            .as_ref()
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| format!("#{i}")),
                    );
                    match is_ref(&t.ty) {
                        Some(mutable) => {
                            prologue.push(quote! { let #pat = #p; });
                            if let Some(n) = pname {
                                if mutable {
                                    slots.push(ArgSlot {
                                        name: n.to_string(),
                                        read: quote!(&*#n),
                                    });
                                    mut_refs.insert(n.to_string());
                                } else {
                                    shared_refs.insert(n.to_string());
                                }
                            }
                        }
                        None => bound.push(parse_quote! { let #pat = ::ckpt::__private::arg(#p); }),
                    }
                }
            }
        }
    }
    // Items declared in the body stay visible to all of it.
    let mut items = Vec::new();
    body.stmts.retain(|s| match s {
        syn::Stmt::Item(it) => {
            items.push(it.clone());
            false
        }
        _ => true,
    });
    bound.append(&mut body.stmts);
    body.stmts = bound;
    let self_ty = name.split_once("::").map(|(t, _)| t);
    let pts = points::mark(&mut body, a, self_ty, errors);
    let mut norm = normalize::Norm::default();
    norm.run(&mut body);
    let params: Vec<(String, String)> = orig
        .map(|o| {
            o.inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(t) => Some((
                        pat_name(&t.pat)?.to_string(),
                        t.ty.to_token_stream().to_string(),
                    )),
                    syn::FnArg::Receiver(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    normalize::mark_consumed(&mut norm.iters, &body, &params);
    let mut ctx = Ctx::new(&pts, &norm.iters);
    ctx.arg_slots = slots;
    ctx.mut_refs = mut_refs;
    ctx.shared_refs = shared_refs;
    let split = ctx.block(&body.stmts, &[], &Default::default());
    errors.append(&mut ctx.errors);
    let _ = twin;
    quote! {{
        #(#items)*
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: #name,
            hash: #hash,
            params: &[#(#param_names),*],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        #(#prologue)*
        #split
    }}
}
