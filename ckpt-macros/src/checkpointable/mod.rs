//! `#[checkpointable]`: the resume transform (DESIGN §4, RESUME.md).
//!
//! Front end (this file): parse the item, read the analysis, build the model of each
//! function, run the passes in order and assemble the function. The passes, one file
//! each, in the order they run:
//!
//! 1. `points` — mark save points and call points;
//! 2. `normalize` — loops and `if let` around points;
//! 3. `hoist` — evaluation order: one unit per statement, conditions free of points;
//! 4. `rename` — every binding gets a name of its own;
//! 5. `bindings` — how each binding comes back (taken, made again, …);
//! 6. `liveness` — what each point's resume path needs;
//! 7. `split` (with `calls`) — blocks split at their points, points expanded;
//! 8. `rewrite` — std's OS interfaces routed to ckpt's components.
//!
//! A transformed function keeps its signature: callers call it as written, and so does
//! the resume path.
//!
//! `CKPT_EXPAND` prints the transform while building (touch the source to rebuild):
//! - `1`: every annotated item, rewritten;
//! - `fn:<name>`: one function (`f`, or `Type::f` for a method), rewritten;
//! - a pass, one of [`PASSES`] (`points`, `normalize`, `hoist`, `rename`, `bindings`,
//!   `calls`, `liveness`, `split`, `rewrite`): what that pass made of each function
//!   with points — its body, or for `bindings` and `liveness` their tables.

mod analysis;
mod bindings;
mod calls;
mod ctxt;
mod deny;
mod hoist;
mod liveness;
mod model;
mod normalize;
mod os_rules;
mod places;
mod points;
mod rename;
mod rewrite;
mod signature;
#[cfg(test)]
mod snapshot_tests;
mod split;
mod traits;
mod unmove;
mod vars;
mod waits;

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;

use analysis::Analysis;
use ctxt::Ctxt;
use model::{FnModel, Passing};

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut errors = Vec::new();
    let deny = deny::mode(attr, &mut errors);
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    if let Some(why) = deny {
        deny::check(&parsed, why, &mut errors);
    }
    for e in errors {
        cx.push(e);
    }
    let mut analysis = Analysis::load();
    collect_names(&parsed, &mut analysis);
    if analysis.path.is_none() && !analysis.missing_is_fine() {
        cx.error_at(
            proc_macro2::Span::call_site(),
            "ckpt: #[checkpointable] needs the crate analysis of ckpt-build: add `ckpt-build` to \
             [build-dependencies] and a build.rs with `fn main() { ckpt_build::instrument(); }`",
        );
    }
    let out = match parsed {
        syn::Item::Fn(f) => item_fn(f, &analysis, &mut cx),
        syn::Item::Impl(i) => item_impl(i, &analysis, &mut cx),
        syn::Item::Mod(m) => item_mod(m, &analysis, &mut cx),
        syn::Item::Trait(t) => item_trait(t, &analysis, &mut cx),
        other => {
            cx.error_at(
                other.span(),
                "ckpt: #[checkpointable] goes on a function, an `impl` block, a `trait` or an \
                 inline `mod`",
            );
            other.into_token_stream()
        }
    };
    if let Ok(v) = std::env::var("CKPT_EXPAND") {
        if v != "1" && !v.starts_with("fn:") && !PASSES.contains(&v.as_str()) {
            eprintln!(
                "ckpt: CKPT_EXPAND={v} prints nothing; use 1, fn:<name> or a pass: {}",
                PASSES.join(", ")
            );
        }
    }
    if cx.is_empty() {
        if expand_wants("1") {
            eprintln!("{}", pretty(&out));
        }
        return out;
    }
    // Keep the original item next to the errors so the IDE still knows its names.
    let errs = cx.into_compile_errors();
    quote! { #errs #item }
}

/// Names annotated together with this item are checkpointable even without ckpt-build.
fn collect_names(item: &syn::Item, a: &mut Analysis) {
    match item {
        syn::Item::Fn(f) => {
            a.add_fn(f.sig.ident.to_string());
            if signature::infers_from_args(&f.sig, None) {
                a.generic.insert(f.sig.ident.to_string());
            }
            if signature::returns_opaque_iterator(&f.sig.output) {
                a.iter_fns.insert(f.sig.ident.to_string());
            }
        }
        syn::Item::Impl(i) => {
            let ty = model::type_name(&i.self_ty);
            for it in &i.items {
                if let syn::ImplItem::Fn(f) = it {
                    a.add_method(ty.clone(), f.sig.ident.to_string());
                    if signature::infers_from_args(&f.sig, Some(&i.generics)) {
                        a.generic.insert(f.sig.ident.to_string());
                    }
                    if signature::returns_opaque_iterator(&f.sig.output) {
                        a.iter_fns.insert(f.sig.ident.to_string());
                    }
                }
            }
        }
        syn::Item::Mod(m) => {
            for it in m.content.iter().flat_map(|c| &c.1) {
                collect_names(it, a);
            }
        }
        syn::Item::Trait(t) => {
            let ty = t.ident.to_string();
            for it in &t.items {
                if let syn::TraitItem::Fn(f) = it {
                    if f.default.is_some() {
                        a.add_method(ty.clone(), f.sig.ident.to_string());
                    }
                }
            }
            if traits::dyn_capable(t) {
                a.traits.insert(ty);
            }
        }
        _ => {}
    }
}

/// A trait: its default methods are transformed like an impl's, and when its objects can
/// be boxed, `Box<dyn Trait>` becomes `State` (each `#[checkpointable] impl` of it saves
/// its value with its type; see `ckpt::__private::save_dyn`).
fn item_trait(mut t: syn::ItemTrait, a: &Analysis, cx: &mut Ctxt) -> TokenStream {
    let ty = t.ident.to_string();
    let generics = t.generics.clone();
    // Default methods save `self` through the hook each impl fills in.
    let trait_path: syn::Path = t.ident.clone().into();
    let capable = traits::dyn_capable(&t);
    let outer = Bounds::Impl {
        generics: &generics,
        inherent: false,
        dyn_trait: capable.then_some(&trait_path),
    };
    for it in t.items.iter_mut() {
        if let syn::TraitItem::Fn(f) = it {
            if let Some(block) = &f.default {
                let ts = function(
                    &f.attrs,
                    &syn::Visibility::Inherited,
                    &f.sig,
                    block,
                    Some(&ty),
                    outer,
                    a,
                    cx,
                );
                *it = syn::TraitItem::Verbatim(ts);
            }
        }
    }
    let name = t.ident.clone();
    // The hook every `#[checkpointable] impl` of the trait overrides.
    t.items.push(syn::parse_quote! {
        #[doc(hidden)]
        fn __ckpt_save_dyn(&self, __e: &mut ::ckpt::__private::Encoder<'_>) -> ::ckpt::Result<()> {
            let _ = __e;
            ::ckpt::__private::dyn_not_saveable(::core::any::type_name::<Self>(), #ty)
        }
    });
    if !capable {
        return t.into_token_stream();
    }
    quote! {
        #t
        impl ::ckpt::State for ::std::boxed::Box<dyn #name> {
            const TAKES_DYN: bool = true;
            fn save(&self, e: &mut ::ckpt::__private::Encoder<'_>) -> ::ckpt::Result<()> {
                #name::__ckpt_save_dyn(&**self, e)
            }
            fn load(
                v: ::ckpt::__private::Value,
                l: &mut ::ckpt::__private::Loader,
            ) -> ::ckpt::Result<Self> {
                ::ckpt::__private::load_dyn::<Self>(v, l)
            }
        }
        // An element of a `Vec<Box<dyn Trait>>` can be lent on its own.
        impl ::ckpt::__private::SaveParts for ::std::boxed::Box<dyn #name> {
            fn save_except(
                _: *const Self,
                path: &[::ckpt::__private::Step],
                _: &mut ::ckpt::__private::Encoder<'_>,
            ) -> ::ckpt::Result<()> {
                ::core::result::Result::Err(::ckpt::__private::bad_path(path))
            }
        }
        // `&dyn Trait` / `&mut dyn Trait` parameters are saved like a `Box<dyn Trait>`.
        impl ::ckpt::__private::Pointee for dyn #name {
            fn save_pointee(&self, e: &mut ::ckpt::__private::Encoder<'_>) -> ::ckpt::Result<()> {
                #name::__ckpt_save_dyn(self, e)
            }
            fn load_leaked(
                v: ::ckpt::__private::Value,
                l: &mut ::ckpt::__private::Loader,
            ) -> ::ckpt::Result<*mut Self> {
                let b: ::std::boxed::Box<dyn #name> = l.load(v)?;
                ::core::result::Result::Ok(::std::boxed::Box::into_raw(b))
            }
        }
    }
}

fn item_mod(mut m: syn::ItemMod, a: &Analysis, cx: &mut Ctxt) -> TokenStream {
    if let Some((_, items)) = &mut m.content {
        let mut out = Vec::new();
        for it in std::mem::take(items) {
            let ts = match it {
                syn::Item::Fn(f) => item_fn(f, a, cx),
                syn::Item::Impl(i) => item_impl(i, a, cx),
                syn::Item::Mod(m) => item_mod(m, a, cx),
                syn::Item::Trait(t) => item_trait(t, a, cx),
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
        cx.error_at(
            m.span(),
            "ckpt: #[checkpointable] on a `mod foo;` declaration cannot see its file; annotate the items inside",
        );
    }
    m.into_token_stream()
}

fn item_impl(mut i: syn::ItemImpl, a: &Analysis, cx: &mut Ctxt) -> TokenStream {
    let ty = model::type_name(&i.self_ty);
    // `impl Trait for T` of a checkpointable trait: T's values behind `Box<dyn Trait>`
    // are saved with their type (needs `T: State`). Not for generic impls: their type
    // parameters would need bounds the trait does not have.
    if let Some((_, path, _)) = &i.trait_ {
        let is_ckpt_trait = path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_none() && a.traits.contains(&s.ident.to_string()));
        if is_ckpt_trait && i.generics.params.is_empty() {
            i.items.push(syn::parse_quote! {
                #[doc(hidden)]
                fn __ckpt_save_dyn(&self, __e: &mut ::ckpt::__private::Encoder<'_>) -> ::ckpt::Result<()> {
                    let ctor: ::ckpt::__private::DynCtor<::std::boxed::Box<dyn #path>> =
                        |v, l| ::core::result::Result::Ok(::std::boxed::Box::new(l.load::<Self>(v)?));
                    ::ckpt::__private::save_dyn(__e, self, ctor)
                }
            });
        }
    }
    let dyn_trait = i.trait_.as_ref().and_then(|(_, path, _)| {
        let is_ckpt_trait = path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_none() && a.traits.contains(&s.ident.to_string()));
        (is_ckpt_trait && i.generics.params.is_empty()).then(|| path.clone())
    });
    let outer = Bounds::Impl {
        generics: &i.generics,
        inherent: i.trait_.is_none(),
        dyn_trait: dyn_trait.as_ref(),
    };
    for it in i.items.iter_mut() {
        if let syn::ImplItem::Fn(f) = it {
            let ts = function(&f.attrs, &f.vis, &f.sig, &f.block, Some(&ty), outer, a, cx);
            *it = syn::ImplItem::Verbatim(ts);
        }
    }
    i.into_token_stream()
}

fn item_fn(f: syn::ItemFn, a: &Analysis, cx: &mut Ctxt) -> TokenStream {
    if f.sig.ident == "main" && f.sig.inputs.is_empty() {
        return main_fn(f, a, cx);
    }
    function(
        &f.attrs,
        &f.vis,
        &f.sig,
        &f.block,
        None,
        Bounds::Free,
        a,
        cx,
    )
}

/// Where a function sits, for the `State` bounds its type parameters get.
#[derive(Clone, Copy)]
enum Bounds<'a> {
    Free,
    Impl {
        generics: &'a syn::Generics,
        inherent: bool,
        /// The checkpointable trait an `impl Trait for T` implements (see
        /// `FnModel::dyn_trait`).
        dyn_trait: Option<&'a syn::Path>,
    },
}

fn main_fn(f: syn::ItemFn, a: &Analysis, cx: &mut Ctxt) -> TokenStream {
    let hash = model::body_hash(&f.to_token_stream());
    let (attrs, vis, sig) = (&f.attrs, &f.vis, &f.sig);
    let inner = format_ident!("__ckpt_main");
    let mut inner_sig = sig.clone();
    inner_sig.ident = inner.clone();
    let body = function(
        &[],
        &syn::Visibility::Inherited,
        &inner_sig,
        &f.block,
        None,
        Bounds::Free,
        a,
        cx,
    );
    let fp = &a.fingerprint;
    let globals = register_globals(a);
    quote! {
        #(#attrs)*
        #vis #sig {
            static __CKPT_PROGRAM: ::ckpt::__private::Program = ::ckpt::__private::Program {
                crate_name: ::core::env!("CARGO_CRATE_NAME"),
                version: ::core::env!("CARGO_PKG_VERSION"),
                fingerprint: #fp,
                main_hash: #hash,
            };
            #globals
            ::ckpt::__private::start(&__CKPT_PROGRAM);
            #body
            let __ckpt_ret = #inner();
            {
                #[allow(unused_imports)]
                use ::ckpt::__private::{MainResultExit as _, MainResultOther as _, MainResultResult as _};
                ::ckpt::__private::finish((&::ckpt::__private::MainResult(&__ckpt_ret)).__ckpt_ok());
            }
            __ckpt_ret
        }
    }
}

/// Registers the statics and thread-locals of the crate that `main` can name and that can
/// change (the analysis lists those), before the agent starts: a restore puts their
/// values back then. One whose type ckpt cannot save is a compile error here.
fn register_globals(a: &Analysis) -> TokenStream {
    // The package's lib, by its default name (a `[lib] name = ..` is not read).
    let krate = std::env::var("CARGO_PKG_NAME")
        .unwrap_or_default()
        .replace('-', "_");
    let mut out = Vec::new();
    for g in &a.globals {
        let segs: Vec<syn::Ident> = g
            .path
            .split("::")
            .map(|s| {
                syn::parse_str::<syn::Ident>(s)
                    .unwrap_or_else(|_| syn::Ident::new_raw(s, proc_macro2::Span::call_site()))
            })
            .collect();
        let root = if g.lib {
            let k = format_ident!("{}", krate);
            quote!(::#k)
        } else {
            quote!(crate)
        };
        let name = &g.path;
        let at = &g.at;
        out.push(match g.kind.as_str() {
            "static_mut" => quote! {
                ::ckpt::__private::register_static_mut(#name, #at, &raw mut #root::#(#segs)::*);
            },
            _ => quote! {
                ::ckpt::__private::register_global(#name, #at, &#root::#(#segs)::*);
            },
        });
    }
    quote!(#(#out)*)
}

/// The transformed function, with its signature.
#[allow(clippy::too_many_arguments)]
fn function(
    attrs: &[syn::Attribute],
    vis: &syn::Visibility,
    sig: &syn::Signature,
    block: &syn::Block,
    self_ty: Option<&str>,
    outer: Bounds<'_>,
    a: &Analysis,
    cx: &mut Ctxt,
) -> TokenStream {
    if let Some(asy) = &sig.asyncness {
        cx.error_at(
            asy.span(),
            "ckpt: an async fn cannot be #[checkpointable] (its state lives in a future ckpt cannot \
             resume); make it a plain fn",
        );
    }
    // The std types the signature names are ckpt's, like the values the body makes.
    let mut net_sig = sig.clone();
    let key = match self_ty {
        Some(t) => format!("{t}::{}", sig.ident),
        None => sig.ident.to_string(),
    };
    rewrite::std_signature(&mut net_sig, a.imports.get(&key).map_or(&[][..], |v| v));
    let sig = &net_sig;
    let mut model = FnModel::new(sig, block, self_ty);
    if let Bounds::Impl {
        dyn_trait: Some(t), ..
    } = outer
    {
        model.dyn_trait = Some(t.clone());
        model.in_trait = self_ty.is_some_and(|s| t.is_ident(s));
    }
    if sig.ident == "__ckpt_main" {
        model.name = "main".into();
    }
    let mut consumed = BTreeSet::new();
    let body = body(&model, block, self_ty, a, cx, &mut consumed);
    let name = model.name.clone();
    let body = with_std_rewritten(body, &name, a);
    if let Some(b) = &body {
        show("rewrite", &name, b);
    }
    let sig = match &body {
        Some(_) => {
            let mut sig = model.signature(sig);
            match outer {
                Bounds::Free => FnModel::add_state_bounds(&mut sig, None),
                Bounds::Impl {
                    generics,
                    inherent: true,
                    ..
                } => FnModel::add_state_bounds(&mut sig, Some(generics)),
                Bounds::Impl {
                    inherent: false, ..
                } => {}
            }
            model.bound_consumed_iterators(&mut sig, &consumed);
            sig
        }
        None => sig.clone(),
    };
    let body = body.unwrap_or_else(|| {
        // No point: the function is left as written (std still routed to ckpt).
        let b = with_std_rewritten(Some(quote!(#block)), &name, a);
        b.unwrap_or_else(|| quote!(#block))
    });
    if expand_wants(&format!("fn:{name}")) {
        let sig2 = &sig;
        eprintln!("{}", pretty(&quote!(#sig2 #body)));
    }
    let allow = quote! {
        #[allow(unused_mut, unused_variables, unused_parens, unreachable_code, unused_braces, unused_assignments, clippy::all)]
    };
    quote! { #(#attrs)* #allow #vis #sig #body }
}

/// The body of a function with points, or `None` when it has none.
fn body(
    model: &FnModel,
    block: &syn::Block,
    self_ty: Option<&str>,
    a: &Analysis,
    cx: &mut Ctxt,
    consumed: &mut BTreeSet<String>,
) -> Option<TokenStream> {
    let mut body = block.clone();
    // Items declared in the body stay visible to all of it.
    let mut items = Vec::new();
    body.stmts.retain(|s| match s {
        syn::Stmt::Item(it) => {
            items.push(it.clone());
            false
        }
        _ => true,
    });
    // Parameters bound by a pattern are bound by the body's first statements.
    let mut first = Vec::new();
    for p in &model.params {
        if let (Some(pat), None) = (&p.pat, &p.name) {
            let r = p.received_as();
            first.push(syn::parse_quote! { let #pat = #r; });
        }
    }
    first.append(&mut body.stmts);
    body.stmts = first;
    // A checkpoint requested while the program waits on the network is taken before the
    // call that waits.
    waits::insert(&mut body);

    let points = points::mark(&mut body, a, self_ty, cx);
    if points.list.is_empty() {
        return None;
    }
    let name = &model.name;
    show("points", name, &body);
    let params: Vec<(String, String)> = model
        .params
        .iter()
        .filter_map(|p| {
            Some((
                p.name.as_ref()?.to_string(),
                p.ty.to_token_stream().to_string(),
            ))
        })
        .collect();
    let ref_params: BTreeSet<String> = model
        .params
        .iter()
        .filter(|p| p.passing != Passing::Value)
        .filter_map(|p| p.name.as_ref().map(|n| n.to_string()))
        .collect();
    unmove::run(
        &mut body,
        model
            .params
            .iter()
            .filter_map(|p| p.name.as_ref().map(|n| n.to_string())),
    );
    normalize::adopt_readers(&mut body, &a.reader_fns);
    let mut norm = normalize::Norm::default();
    norm.iter_fns = a.iter_fns.clone();
    norm.run(&mut body, &params, ref_params);
    // Parameters a loop with a point consumes (`for job in jobs`): their iterator is saved
    // whole, so the signature bounds it `State`.
    consumed.extend(
        norm.iters
            .iter()
            .filter(|it| it.whole)
            .filter_map(|it| normalize::consumed_root(&it.iterable))
            .filter(|n| params.iter().any(|(p, _)| p == n)),
    );
    show("normalize", name, &body);
    hoist::Hoist::default().run(&mut body);
    show("hoist", name, &body);
    rename::Renamer::new(
        model
            .params
            .iter()
            .filter_map(|p| p.name.as_ref().map(|n| n.to_string())),
    )
    .run(&mut body);
    norm.sync_renamed(&body);
    show("rename", name, &body);
    let table = bindings::table(&body, model, &norm);
    show_table("bindings", name, || table.describe());
    calls::unmark_unsupported(&mut body, &points, model, &table);
    show("calls", name, &body);
    let needs = NeedsOf {
        points: &points,
        model,
        table: &table,
    };
    let mut live: BTreeMap<u32, BTreeSet<String>> = liveness::analyze(&body, &needs);
    for set in live.values_mut() {
        table.close(set, &norm);
    }
    show_table("liveness", name, || {
        live.iter()
            .map(|(id, set)| {
                let names: Vec<&str> = set.iter().map(String::as_str).collect();
                format!("point {id}: {}\n", names.join(", "))
            })
            .collect()
    });
    check_drop_guards(&body, cx);
    let mut ctx = split::Ctx::new(model, &points, &norm, &table, &live);
    let split = ctx.body(&body.stmts);

    // The frame, and the parameters bound on both paths.
    let hash = model.hash;
    let param_names = model.param_names();
    let sites = points.sites();
    let mut prologue = Vec::new();
    for p in &model.params {
        let r = p.received_as();
        if p.passing == Passing::Value {
            let ty = format_ident!("__ckpt_ty{}", p.pos);
            prologue.push(quote! { let #ty = ::ckpt::__private::type_of(&#r); });
        }
    }
    for p in &model.params {
        let (Some(n), Some(pat)) = (&p.name, &p.pat) else {
            continue;
        };
        let r = p.received_as();
        prologue.push(quote! { let #pat = #r; });
        if p.passing == Passing::Value && p.mutable {
            // Changed by the function before it saved: its own value wins on restore.
            let key = p.display();
            prologue.push(quote! { if __ck.resuming() { __ck.own_arg(#key, &mut #n); } });
        }
    }
    if let Some(recv) = model.params.iter().find(|p| p.is_receiver()) {
        if recv.passing == Passing::Value && recv.mutable {
            prologue.push(quote! { if __ck.resuming() { __ck.own_arg("self", &mut self); } });
        }
    }
    show("split", name, &quote!({ #split }));
    Some(quote! {{
        #(#items)*
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: #name,
            hash: #hash,
            params: &[#(#param_names),*],
            sites: &[#(#sites),*],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        #(#prologue)*
        #split
    }})
}

/// `let _guard = …;` (a binding kept only for its Drop) before a point in its block: a
/// restore does not run the statements before the point, so the guard would not be held
/// after it.
fn check_drop_guards(body: &syn::Block, cx: &mut Ctxt) {
    struct V<'c>(&'c mut Ctxt);
    impl<'ast> syn::visit::Visit<'ast> for V<'_> {
        fn visit_block(&mut self, b: &'ast syn::Block) {
            if let Some(k) = b.stmts.iter().rposition(points::has_point_stmt) {
                for s in &b.stmts[..k] {
                    let syn::Stmt::Local(l) = s else { continue };
                    let ident = match &l.pat {
                        syn::Pat::Ident(i) => Some(&i.ident),
                        syn::Pat::Type(t) => match &*t.pat {
                            syn::Pat::Ident(i) => Some(&i.ident),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Some(id) = ident else { continue };
                    let n = id.to_string();
                    if n.starts_with('_') && n.len() > 1 && !n.starts_with("__ckpt_") {
                        self.0.error_at(
                            id.span(),
                            format!(
                                "ckpt: `{n}` looks kept only for its Drop, and its scope spans a save point; \
                                 a restore continues after the save point without it; end its scope \
                                 before the save point (put it in a block) or drop it explicitly"
                            ),
                        );
                    }
                }
            }
            syn::visit::visit_block(self, b);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    syn::visit::Visit::visit_block(&mut V(cx), body);
}

struct NeedsOf<'a> {
    points: &'a points::Points,
    model: &'a FnModel,
    table: &'a bindings::Table,
}

impl liveness::Needs for NeedsOf<'_> {
    fn needs(&self, _id: u32, marker: &syn::Expr) -> BTreeSet<String> {
        calls::needs(marker, self.points, self.model, self.table)
    }
}

/// Formatted with rustfmt when it is on the PATH.
fn pretty(ts: &TokenStream) -> String {
    let code = ts.to_string();
    let run = || -> std::io::Result<String> {
        use std::io::Write;
        let mut c = std::process::Command::new("rustfmt")
            .args(["--edition", "2021", "--emit", "stdout"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        c.stdin.take().expect("stdin").write_all(code.as_bytes())?;
        let o = c.wait_with_output()?;
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    };
    match run() {
        Ok(s) if !s.is_empty() => s,
        _ => code,
    }
}

/// The passes `CKPT_EXPAND=<pass>` prints after, in the order they run.
const PASSES: &[&str] = &[
    "points",
    "normalize",
    "hoist",
    "rename",
    "bindings",
    "calls",
    "liveness",
    "split",
    "rewrite",
];

/// Whether `CKPT_EXPAND` is set to `value`.
fn expand_wants(value: &str) -> bool {
    std::env::var("CKPT_EXPAND").is_ok_and(|v| v == value)
}

/// `CKPT_EXPAND=<pass>`: the body of function `name` after that pass.
fn show(pass: &str, name: &str, body: &impl ToTokens) {
    debug_assert!(PASSES.contains(&pass));
    if expand_wants(pass) {
        // A function around it, so that rustfmt can format it.
        eprintln!(
            "-- {name} after {pass}:\n{}",
            pretty(&quote!(fn body() #body))
        );
    }
}

/// `CKPT_EXPAND=<pass>` for a pass that makes a table.
fn show_table(pass: &str, name: &str, table: impl FnOnce() -> String) {
    debug_assert!(PASSES.contains(&pass));
    if expand_wants(pass) {
        eprintln!("-- {name} after {pass}:\n{}", table());
    }
}

/// The body with std's OS interfaces routed to ckpt's components (see [`rewrite`]):
/// full paths and inner `use`s rewritten, the module's imports shadowed.
fn with_std_rewritten(body: Option<TokenStream>, name: &str, a: &Analysis) -> Option<TokenStream> {
    let body = body?;
    let mut block: syn::Block = match syn::parse2(body.clone()) {
        Ok(b) => b,
        Err(_) => return Some(body),
    };
    syn::visit_mut::VisitMut::visit_block_mut(&mut rewrite::StdPaths, &mut block);
    let shadows = rewrite::shadowing_uses(a.imports.get(name).map_or(&[][..], |v| v));
    if shadows.is_empty() {
        return Some(quote!(#block));
    }
    Some(quote! { { #shadows #block } })
}
