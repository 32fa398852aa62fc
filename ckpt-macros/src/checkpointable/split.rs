//! Pass 3: split blocks at their points and expand the points (DESIGN §4.3–4.5).
//!
//! A block is split at the last statement holding a point. The statements before it
//! (the prefix, split again recursively) run only when not resuming into that
//! statement; on the resume path their live outputs are taken from the image instead.
//! Every point writes the union of the live tuples of the splits around it.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;

use super::normalize::LoopIter;
use super::points::{
    has_point_block, has_point_expr, has_point_stmt, ids_in_block, ids_in_stmt, marker_id, Kind,
    Points, Target,
};
use super::vars::{bindings, Binding, Uses};

/// A local saved at the points below a split.
#[derive(Clone)]
pub struct Saved {
    pub name: syn::Ident,
    pub iter: bool,
}

/// An argument slot this frame writes (its `&mut` parameters and receiver).
pub struct ArgSlot {
    pub name: String,
    /// Expression of type `&T` that reads it.
    pub read: TokenStream,
}

/// What the split pass knows about the function.
pub struct Ctx<'a> {
    pub points: &'a Points,
    pub iters: &'a [LoopIter],
    pub arg_slots: Vec<ArgSlot>,
    /// Parameters of type `&mut T` (and `self` when `&mut self`): re-lent to calls.
    pub mut_refs: BTreeSet<String>,
    /// Parameters of type `&T` (and `self` when `&self`): passed again on resume.
    pub shared_refs: BTreeSet<String>,
    pub errors: Vec<syn::Error>,
    next_block: u32,
    /// Locals consumed by a loop below, bound as `Option`s by an enclosing split.
    consumed: BTreeSet<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(points: &'a Points, iters: &'a [LoopIter]) -> Self {
        Ctx {
            points,
            iters,
            arg_slots: Vec::new(),
            mut_refs: BTreeSet::new(),
            shared_refs: BTreeSet::new(),
            errors: Vec::new(),
            next_block: 0,
            consumed: BTreeSet::new(),
        }
    }

    fn iter_of(&self, name: &syn::Ident) -> Option<&LoopIter> {
        self.iters.iter().find(|i| i.var == *name)
    }

    /// The statements of a block, split at its points.
    /// `after`: names the code after these statements needs from them (the tuple of
    /// the split whose prefix they are).
    pub fn block(
        &mut self,
        stmts: &[syn::Stmt],
        saved: &[Saved],
        after: &BTreeSet<String>,
    ) -> TokenStream {
        let Some(k) = stmts.iter().rposition(has_point_stmt) else {
            return quote!(#(#stmts)*);
        };
        let (prefix, s, suffix) = (&stmts[..k], &stmts[k], &stmts[k + 1..]);
        let ids = ids_in_stmt(s);
        let (lo, hi) = (ids[0], ids[ids.len() - 1]);
        let mut used = self.uses_after(&stmts[k..]);
        // What the code after these statements needs, unless these statements bind it
        // again (`let v = …;` below: that `v` is the one needed, not the prefix's).
        let mut rebound = Vec::new();
        for st in &stmts[k..] {
            if let syn::Stmt::Local(l) = st {
                bindings(&l.pat, false, &mut rebound);
            }
        }
        used.extend(
            after
                .iter()
                .filter(|n| !rebound.iter().any(|b| b.name == n.as_str()))
                .cloned(),
        );
        let mut declared: Vec<Binding> = Vec::new();
        for st in prefix {
            if let syn::Stmt::Local(l) = st {
                let mut b = Vec::new();
                bindings(&l.pat, false, &mut b);
                // `let _guard = ...;` alone: a binding kept for its Drop (a destructuring
                // pattern's `_x` only silences a warning).
                let whole = match &l.pat {
                    syn::Pat::Ident(_) => true,
                    syn::Pat::Type(t) => matches!(&*t.pat, syn::Pat::Ident(_)),
                    _ => false,
                };
                for b in b {
                    let n = b.name.to_string();
                    if whole && n.starts_with('_') && n.len() > 1 && !n.starts_with("__ckpt_") {
                        self.errors.push(syn::Error::new(
                            b.name.span(),
                            format!(
                                "ckpt: `{n}` looks kept only for its Drop, and its scope spans a save point; \
                                 ckpt drops unused bindings before a save point, so the drop would move; \
                                 end its scope before the save point (put it in a block) or drop it explicitly"
                            ),
                        ));
                    }
                    declared.retain(|d| d.name != b.name);
                    declared.push(b);
                }
            }
        }
        // Locals a loop below consumes (`for x in v`): not saved (the loop's iterator is),
        // but the normal path must still hand them to the loop. They pass as `Option`s,
        // `None` on the resume path, unwrapped where the loop's iterator is made.
        let passthrough: Vec<syn::Ident> = {
            // The loops whose iterator is made in these statements (iterator names are
            // unique, so any mention will do).
            let mentioned = idents_of(&stmts[k..]);
            let consumed: BTreeSet<String> = self
                .iters
                .iter()
                .filter(|i| mentioned.contains(&i.var.to_string()))
                .filter_map(|i| i.consumes.clone())
                .collect();
            declared
                .iter()
                .filter(|b| {
                    let n = b.name.to_string();
                    consumed.contains(&n) && !used.contains(&n)
                })
                .map(|b| b.name.clone())
                .collect()
        };
        let tuple: Vec<Binding> = declared
            .into_iter()
            .filter(|b| used.contains(&b.name.to_string()))
            .collect();
        let mut inner = saved.to_vec();
        for b in &tuple {
            self.check_shadow(&b.name, saved);
            inner.push(Saved {
                name: b.name.clone(),
                iter: self.iter_of(&b.name).is_some(),
            });
        }
        let mut names: BTreeSet<String> = tuple.iter().map(|b| b.name.to_string()).collect();
        names.extend(passthrough.iter().map(|n| n.to_string()));
        let prefix_ts = self.block(prefix, saved, &names);
        let added: Vec<String> = passthrough
            .iter()
            .map(|n| n.to_string())
            .filter(|n| self.consumed.insert(n.clone()))
            .collect();
        let s_ts = self.stmt(s, &inner);
        for n in &added {
            self.consumed.remove(n);
        }
        // The loop of a consumed local starts here: unwrap it on the normal path.
        let unwrap: Vec<TokenStream> = tuple
            .iter()
            .filter_map(|b| self.iter_of(&b.name))
            .filter_map(|it| it.consumes.clone())
            .filter(|n| self.consumed.contains(n))
            .map(|n| {
                let n = syn::Ident::new(&n, Span::call_site());
                quote! { let #n = ::ckpt::__private::arg(#n); }
            })
            .collect();
        let pass_pats = passthrough.iter().map(|n| quote!(#n));
        let pass_none = passthrough
            .iter()
            .map(|_| quote!(::core::option::Option::None));
        let pass_some = passthrough
            .iter()
            .map(|n| quote!(::core::option::Option::Some(#n)));
        let head = if tuple.is_empty() && passthrough.is_empty() {
            if prefix.is_empty() {
                quote!()
            } else {
                quote! { if !__ck.resume_in(#lo, #hi) { #prefix_ts } }
            }
        } else {
            let pats = tuple.iter().map(Binding::pattern);
            let names: Vec<_> = tuple.iter().map(|b| &b.name).collect();
            let takes: Vec<TokenStream> = tuple.iter().map(|b| self.take(&b.name)).collect();
            quote! {
                #[allow(unused_mut, unused_variables)]
                let (#(#pats,)* #(#pass_pats,)*) = if __ck.resume_in(#lo, #hi) {
                    (#(#takes,)* #(#pass_none,)*)
                } else {
                    #(#unwrap)*
                    #prefix_ts
                    (#(#names,)* #(#pass_some,)*)
                };
            }
        };
        quote! { #head #s_ts #(#suffix)* }
    }

    /// Names used from `stmts` on, not counting the iterable of a `for` loop that
    /// consumes a local (`for x in v`): that local is gone once the loop starts, and
    /// its iterator is saved whole.
    fn uses_after(&self, stmts: &[syn::Stmt]) -> BTreeSet<String> {
        let skip: BTreeSet<String> = self
            .iters
            .iter()
            .filter(|i| i.consumes.is_some())
            .map(|i| i.var.to_string())
            .collect();
        Uses::of_stmts_skipping(stmts, &skip)
    }

    fn check_shadow(&mut self, name: &syn::Ident, saved: &[Saved]) {
        if saved.iter().any(|s| s.name == *name) {
            self.errors.push(syn::Error::new(
                name.span(),
                format!(
                    "ckpt: `{name}` shadows a binding of the same name that is saved at a save point \
                     below; rename one of them"
                ),
            ));
        }
    }

    fn take(&self, name: &syn::Ident) -> TokenStream {
        let lit = name.to_string();
        match self.iter_of(name) {
            Some(it) if it.consumes.is_some() => {
                quote! { ::ckpt::__private::iter_take(&__ck, #lit) }
            }
            Some(it) => {
                let iterable = &it.iterable;
                let span = syn::spanned::Spanned::span(iterable);
                quote_spanned! {span=> {
                    #[allow(unused_imports)]
                    use ::ckpt::__private::{IterLoadCount as _, IterLoadFallback as _, IterLoadState as _};
                    (&&&::ckpt::__private::IterLoad::new(|| ::core::iter::IntoIterator::into_iter(#iterable)))
                        .__ckpt_load(&__ck, #lit)
                }}
            }
            None => quote_spanned! {name.span()=> __ck.take(#lit) },
        }
    }

    /// One statement holding points, with its points expanded and inner blocks split.
    fn stmt(&mut self, s: &syn::Stmt, saved: &[Saved]) -> TokenStream {
        let mut s = s.clone();
        let mut x = Expand {
            ctx: self,
            saved: saved.to_vec(),
        };
        x.visit_stmt_mut(&mut s);
        quote!(#s)
    }

    /// The capture closure of a point: every saved local and argument slot not lent.
    fn capture(&self, saved: &[Saved], lent: &[String], span: Span) -> TokenStream {
        let mut puts = Vec::new();
        for s in saved {
            let n = &s.name;
            let lit = n.to_string();
            if lent.contains(&lit) {
                continue;
            }
            if s.iter {
                let span = self
                    .iter_of(n)
                    .map_or(span, |it| syn::spanned::Spanned::span(&it.iterable));
                puts.push(quote_spanned! {span=> {
                    #[allow(unused_imports)]
                    use ::ckpt::__private::{IterSaveCount as _, IterSaveFallback as _, IterSaveState as _};
                    (&&&::ckpt::__private::IterSave(&#n)).__ckpt_save(__w, #lit)?;
                }});
            } else {
                puts.push(quote_spanned! {n.span()=> __w.put(#lit, &#n)?; });
            }
        }
        for a in &self.arg_slots {
            if lent.contains(&a.name) {
                continue;
            }
            let (lit, read) = (&a.name, &a.read);
            puts.push(quote! { __w.put_arg(#lit, #read)?; });
        }
        quote_spanned! {span=>
            |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                #(#puts)*
                ::core::result::Result::Ok(())
            }
        }
    }

    fn expand_point(&mut self, id: u32, saved: &[Saved]) -> syn::Expr {
        let p = self.points.get(id);
        let span = p.span;
        let ts = match &p.kind {
            Kind::Save { to } => {
                let cap = self.capture(saved, &[], span);
                let dest = match to {
                    None => quote!(::ckpt::__private::Dest::Default),
                    Some(path) => quote! {
                        ::ckpt::__private::Dest::Path(::core::convert::AsRef::<::std::path::Path>::as_ref(&(#path)))
                    },
                };
                quote_spanned! {span=> __ck.save_point(#id, #dest, &#cap) }
            }
            Kind::Call {
                callee,
                target,
                args,
            } => {
                let mut lent: Vec<(String, String)> = Vec::new();
                let mut slots = Vec::new();
                let mut names = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let n = format_ident!("__ckpt_a{}", i);
                    let slot = self.arg_slot(a, i, &mut lent);
                    slots.push(quote! { let #n = #slot; });
                    names.push(n);
                }
                let call = match target {
                    Target::Path(p) => quote! { #p(#(#names),*) },
                    Target::Method {
                        recv,
                        method,
                        turbofish,
                    } => {
                        lent.push((recv.to_string(), "self".into()));
                        quote! { #recv.#method #turbofish(#(#names),*) }
                    }
                };
                let lent_names: Vec<String> = lent.iter().map(|(l, _)| l.clone()).collect();
                let cap = self.capture(saved, &lent_names, span);
                let lent_ts = lent.iter().map(|(l, t)| quote!((#l, #t)));
                quote_spanned! {span=> {
                    #(#slots)*
                    let __ckpt_cap = #cap;
                    let __ckpt_g = __ck.enter_call(#id, #callee, &[#(#lent_ts),*], &__ckpt_cap);
                    let __ckpt_r = #call;
                    ::core::mem::drop(__ckpt_g);
                    __ckpt_r
                }}
            }
        };
        syn::parse2(ts).expect("generated point expression parses")
    }

    /// How one argument of a checkpointable call is passed (DESIGN §4.5).
    fn arg_slot(
        &mut self,
        a: &syn::Expr,
        i: usize,
        lent: &mut Vec<(String, String)>,
    ) -> TokenStream {
        let pos = format!("#{i}");
        // A string literal is a `&'static str` (`&[u8; N]`): a reference parameter, passed
        // again on the resume path like `&x`.
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_) | syn::Lit::ByteStr(_) | syn::Lit::CStr(_),
            ..
        }) = a
        {
            return quote! { #a };
        }
        if let syn::Expr::Reference(r) = a {
            let root = place_root(&r.expr);
            if r.mutability.is_some() {
                let whole = match &*r.expr {
                    syn::Expr::Path(_) => root.clone(),
                    syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                        place_root(&u.expr).filter(|_| is_ident(&u.expr))
                    }
                    _ => None,
                };
                match whole {
                    Some(x) => lent.push((x, pos)),
                    None => self.errors.push(syn::Error::new_spanned(
                        a,
                        "ckpt: a checkpointable call can only borrow a whole local mutably (`&mut x`): \
                         ckpt must know which local owns the value to restore it; bind the part to a local, \
                         pass the whole owner, or make the callee take the field's owner",
                    )),
                }
                return quote! { #a };
            }
            if root.is_none() {
                self.errors.push(syn::Error::new_spanned(
                    a,
                    "ckpt: a reference argument of a checkpointable call must borrow a local (`&x`, `&x.f`, \
                     `&x[..]`) so it can be re-created on restore; bind the value to a local first",
                ));
            }
            return quote! { #a };
        }
        if let Some(name) = ident_of(a) {
            if self.mut_refs.contains(&name) {
                lent.push((name, pos));
                return quote! { &mut *#a };
            }
            if self.shared_refs.contains(&name) {
                return quote! { #a };
            }
        }
        quote! {
            if __ck.resuming() { ::core::option::Option::None } else { ::core::option::Option::Some(#a) }
        }
    }
}

fn is_ident(e: &syn::Expr) -> bool {
    ident_of(e).is_some()
}

pub fn ident_of(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p)
            if p.qself.is_none()
                && p.path.leading_colon.is_none()
                && p.path.segments.len() == 1 =>
        {
            Some(p.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

/// The local a place expression (`x`, `x.f`, `x[i]`, `*x`, `x[..]`) is rooted at.
fn place_root(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(_) => ident_of(e),
        syn::Expr::Field(f) => place_root(&f.base),
        syn::Expr::Index(i) => place_root(&i.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => place_root(&u.expr),
        syn::Expr::Paren(p) => place_root(&p.expr),
        _ => None,
    }
}

/// Every identifier in `stmts`, bound or not.
fn idents_of(stmts: &[syn::Stmt]) -> BTreeSet<String> {
    fn walk(ts: TokenStream, out: &mut BTreeSet<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(quote!(#(#stmts)*), &mut out);
    out
}

/// `v` in `for x in v` / `for x in v.into_iter()`: a local the loop consumes.
pub fn moved_local(iterable: &syn::Expr) -> Option<String> {
    match iterable {
        syn::Expr::Path(_) => ident_of(iterable),
        syn::Expr::MethodCall(m) if m.method == "into_iter" && m.args.is_empty() => {
            ident_of(&m.receiver)
        }
        _ => None,
    }
}

/// Expands the points and structured expressions of one split statement.
struct Expand<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    saved: Vec<Saved>,
}

impl Expand<'_, '_> {
    fn split_block(&mut self, b: &mut syn::Block) {
        if !has_point_block(b) {
            return;
        }
        let ts = self.ctx.block(&b.stmts, &self.saved, &BTreeSet::new());
        *b = syn::parse2(quote!({ #ts })).expect("generated block parses");
    }
}

impl Expand<'_, '_> {
    /// A `match` whose arms hold points. The scrutinee is evaluated only on the normal
    /// path; an arm with points hands its bindings out through an `Option` (which also
    /// gives the resume path their types) and runs after the match, where its body is
    /// split like any block, the bindings being its first statement:
    ///
    /// ```text
    /// 'm: {
    ///     let mut b1 = None;
    ///     let sel = if resume_in(arm 1) { 1 } else {
    ///         match scrut { PAT1 => { b1 = Some((x, y)); 1 }, PAT2 => break 'm BODY2 }
    ///     };
    ///     match sel { 1 => { let (x, y) = arg(b1); BODY1 }, _ => unreachable }
    /// }
    /// ```
    fn split_match(&mut self, m: &syn::ExprMatch) -> syn::Expr {
        self.ctx.next_block += 1;
        let n = self.ctx.next_block;
        let label = syn::Lifetime::new(&format!("'__ckpt_m{n}"), Span::call_site());
        let mut slots = Vec::new();
        let mut resumes = Vec::new();
        let mut arms = Vec::new();
        let mut bodies = Vec::new();
        for (k, arm) in m.arms.iter().enumerate() {
            let (attrs, pat) = (&arm.attrs, &arm.pat);
            let guard = arm.guard.as_ref().map(|(_, g)| quote!(if #g));
            if !has_point_expr(&arm.body) {
                let body = &arm.body;
                arms.push(quote! { #(#attrs)* #pat #guard => break #label #body, });
                continue;
            }
            let sel = k as u32;
            let slot = format_ident!("__ckpt_b{}_{}", n, k);
            let mut binds = Vec::new();
            bindings(pat, true, &mut binds);
            let names: Vec<_> = binds.iter().map(|b| &b.name).collect();
            let pats = binds.iter().map(Binding::pattern);
            slots.push(quote! { let mut #slot = ::core::option::Option::None; });
            arms.push(quote! { #(#attrs)* #pat #guard => { #slot = ::core::option::Option::Some((#(#names,)*)); #sel } });
            let mut stmts: Vec<syn::Stmt> =
                vec![syn::parse_quote! { let (#(#pats,)*) = ::ckpt::__private::arg(#slot); }];
            match &*arm.body {
                syn::Expr::Block(b) if b.label.is_none() && b.attrs.is_empty() => {
                    stmts.extend(b.block.stmts.iter().cloned())
                }
                other => stmts.push(syn::Stmt::Expr(other.clone(), None)),
            }
            let ids = ids_in_block(&syn::Block {
                brace_token: Default::default(),
                stmts: stmts.clone(),
            });
            let (lo, hi) = (ids[0], ids[ids.len() - 1]);
            resumes.push(quote! { if __ck.resume_in(#lo, #hi) { #sel } else });
            for b in &binds {
                self.ctx.check_shadow(&b.name, &self.saved);
            }
            let body = self.ctx.block(&stmts, &self.saved, &BTreeSet::new());
            bodies.push(quote! { #sel => { #body } });
        }
        let (attrs, scrut) = (&m.attrs, &m.expr);
        let ts = quote! {
            #label: {
                #(#slots)*
                let __ckpt_sel: u32 = #(#resumes)* {
                    #(#attrs)*
                    match #scrut { #(#arms)* }
                };
                match __ckpt_sel {
                    #(#bodies)*
                    _ => ::core::unreachable!(),
                }
            }
        };
        syn::parse2(ts).expect("generated match parses")
    }
}

impl VisitMut for Expand<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let Some(id) = marker_id(e) {
            *e = self.ctx.expand_point(id, &self.saved);
            return;
        }
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            syn::Expr::Block(b) => self.split_block(&mut b.block),
            syn::Expr::Unsafe(b) => self.split_block(&mut b.block),
            syn::Expr::Loop(l) => self.split_block(&mut l.body),
            syn::Expr::If(i) => {
                let then_ids = ids_in_block(&i.then_branch);
                let else_has = i
                    .else_branch
                    .as_ref()
                    .is_some_and(|(_, b)| has_point_expr(b));
                if then_ids.is_empty() && !else_has {
                    return;
                }
                let cond = &i.cond;
                let guard: syn::Expr = if let (Some(lo), Some(hi)) =
                    (then_ids.first(), then_ids.last())
                {
                    syn::parse_quote! { __ck.resume_in(#lo, #hi) || (!__ck.resuming() && (#cond)) }
                } else {
                    syn::parse_quote! { !__ck.resuming() && (#cond) }
                };
                *i.cond = guard;
                self.split_block(&mut i.then_branch);
                if let Some((_, els)) = &mut i.else_branch {
                    self.visit_expr_mut(els);
                }
            }
            syn::Expr::Match(m) if m.arms.iter().any(|a| has_point_expr(&a.body)) => {
                *e = self.split_match(m);
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
