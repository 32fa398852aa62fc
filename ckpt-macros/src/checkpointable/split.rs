//! Pass `split`: the two paths of a function (DESIGN §4.3–4.5).
//!
//! A transformed body is emitted twice, once per path:
//!
//! ```text
//! let __ck = frame(…);
//! if __ck.resuming() { RESUME(body) } else { NORMAL(body) }
//! ```
//!
//! **NORMAL** is the body as written, with each point expanded (a save point writes the
//! image; a call point registers the caller's capture for the duration of the call). It
//! has no resume logic at all.
//!
//! **RESUME** goes straight to the point the image stopped at, then continues as NORMAL.
//! For a block it splits at the last statement `s` holding a point:
//!
//! ```text
//! let x;                                   // bound before s, used after it
//! if __ck.resume_in(lo, hi) {              // the target is in s:
//!     x = __ck.take("x");                  //   its live bindings come back,
//!     RESUME(s)                            //   s resumes into the target
//! } else {                                 // the target is before s:
//!     RESUME(prefix)                       //   resume there (x is bound on the way),
//!     NORMAL(s)                            //   then s as written
//! }
//! NORMAL(suffix)
//! ```
//!
//! `RESUME(s)` evaluates only what runs after the target: an `if` takes the branch holding
//! it without evaluating its condition, a `match` the arm without its scrutinee (the arm's
//! bindings come back), a loop runs its first iteration resumed and the next ones as
//! NORMAL, a call point passes back the arguments its callee saved. So the resume path
//! never reads a binding that is not restored, and nothing runs twice.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;

use super::bindings::{Mode, Table};
use super::calls::{self, CaptureSpec};
use super::model::FnModel;
use super::normalize::{head_iter, Norm};
use super::points::{
    has_point_block, has_point_expr, has_point_stmt, ids_in_block, ids_in_stmt, marker_id, Kind,
    Points,
};
use super::rename::display;
use super::vars::{bindings, Uses};

mod units;
use units::{Expand, ResumeUnit};

pub struct Ctx<'a> {
    pub model: &'a FnModel,
    pub points: &'a Points,
    pub norm: &'a Norm,
    pub table: &'a Table,
    pub live: &'a BTreeMap<u32, BTreeSet<String>>,
    /// Names declared before a resume split: their `let`s become assignments.
    hoisted: Vec<BTreeSet<String>>,
    next_loop: u32,
    /// Generating the resume path: markers are set by the normal path only (their type is
    /// the normal path's; a closure in the value has another type on the resume path).
    resuming: bool,
    /// `(point, argument position)` of the computed arguments of generic callees, whose
    /// types the normal path records for the resume path.
    arg_markers: BTreeSet<(u32, usize)>,
}

/// How a point is expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Normal,
    Resume,
}

impl<'a> Ctx<'a> {
    pub fn new(
        model: &'a FnModel,
        points: &'a Points,
        norm: &'a Norm,
        table: &'a Table,
        live: &'a BTreeMap<u32, BTreeSet<String>>,
    ) -> Self {
        Ctx {
            model,
            points,
            norm,
            table,
            live,
            hoisted: Vec::new(),
            next_loop: 0,
            resuming: false,
            arg_markers: BTreeSet::new(),
        }
    }

    /// The function's body: both paths.
    pub fn body(&mut self, stmts: &[syn::Stmt]) -> TokenStream {
        let params: BTreeSet<String> = self
            .model
            .params
            .iter()
            .filter_map(|p| p.name.as_ref().map(|n| n.to_string()))
            .collect();
        self.resuming = true;
        let resume = self.resume(stmts, &BTreeSet::new(), &BTreeSet::new(), &params);
        self.resuming = false;
        let normal = self.normal(stmts);
        // The types of the bindings taken back: set by the normal path, read by the resume
        // path (its own bindings are other variables, whose types nothing else fixes).
        let markers = self.table.map.iter().filter(|(n, b)| self.needs_marker(n, b)).map(|(n, _)| {
            let m = marker(n);
            quote! { #[allow(unused_mut, unused_assignments)] let mut #m = ::ckpt::__private::TypeOf::new(); }
        });
        let arg_markers = self.arg_markers.iter().map(|&(id, pos)| {
            let m = calls::arg_marker(id, pos);
            quote! { #[allow(unused_mut)] let mut #m = ::ckpt::__private::TypeOf::new(); }
        });
        // The normal path first: the compiler learns the markers' types from it before
        // it reads the resume path.
        quote! {
            #(#markers)*
            #(#arg_markers)*
            if !__ck.resuming() { #normal } else { #resume }
        }
    }

    /// `__ckpt_ty_x = type_of(&x);` after a statement that binds marked names.
    fn mark_types(&self, s: &syn::Stmt) -> TokenStream {
        let syn::Stmt::Local(l) = s else {
            return TokenStream::new();
        };
        let mut bs = Vec::new();
        bindings(&l.pat, false, &mut bs);
        self.mark_names(bs.iter().map(|b| b.name.to_string()))
    }

    fn mark_names(&self, names: impl Iterator<Item = String>) -> TokenStream {
        if self.resuming {
            return TokenStream::new();
        }
        let mut out = Vec::new();
        for n in names {
            if let Some(b) = self.table.get(&n) {
                if self.needs_marker(&n, b) {
                    let (m, id) = (marker(&n), &b.ident);
                    out.push(quote! { #m = ::ckpt::__private::type_of(&#id); });
                }
            }
        }
        quote!(#(#out)*)
    }

    /// A binding taken back whole needs its type named on the resume path (a loop's
    /// iterator only when saved whole: one made again names its own type, and a closure in
    /// it has another type on each path).
    fn needs_marker(&self, name: &str, b: &super::bindings::Binding) -> bool {
        let taken = match b.mode {
            Mode::Take => true,
            Mode::Iter => self.norm.iter(name).is_some_and(|i| i.whole),
            _ => false,
        };
        taken && self.live.values().any(|l| l.contains(name))
    }

    fn is_hoisted(&self, name: &str) -> bool {
        self.hoisted.iter().any(|h| h.contains(name))
    }

    fn live_at(&self, id: u32) -> &BTreeSet<String> {
        static EMPTY: BTreeSet<String> = BTreeSet::new();
        self.live.get(&id).unwrap_or(&EMPTY)
    }

    // ---------------------------------------------------------------- NORMAL

    /// The statements as written, their points expanded.
    fn normal(&mut self, stmts: &[syn::Stmt]) -> TokenStream {
        let mut out = Vec::new();
        for s in stmts {
            out.push(self.normal_stmt(s));
        }
        quote!(#(#out)*)
    }

    fn normal_stmt(&mut self, s: &syn::Stmt) -> TokenStream {
        let checks = self.moved_captures(s);
        let stmts = self.rewrite_let(s);
        let marks = self.mark_types(s);
        if !has_point_stmt(s) {
            return quote!(#checks #(#stmts)* #marks);
        }
        let (pre, post, counted) = self.around(s);
        let mut out = Vec::new();
        for mut st in stmts {
            let mut x = Expand {
                ctx: self,
                counted: &counted,
            };
            x.visit_stmt_mut(&mut st);
            out.push(st);
        }
        quote! { #(#pre)* #(#out)* #marks #(#post)* }
    }

    // ---------------------------------------------------------------- RESUME

    /// The statements resumed at the target, which is in them.
    /// `used_after`: the names the code after these statements (in the same scope) reads;
    /// `restored`: the names the resume path has bound already; `scope`: the names bound
    /// around these statements (a name bound deeper is restored there).
    fn resume(
        &mut self,
        stmts: &[syn::Stmt],
        used_after: &BTreeSet<String>,
        restored: &BTreeSet<String>,
        scope: &BTreeSet<String>,
    ) -> TokenStream {
        let Some(k) = stmts.iter().rposition(has_point_stmt) else {
            // Not reachable: the caller checked the target is here.
            return quote! { ::ckpt::__private::resume_failed(&__ck, "no point here") };
        };
        let (prefix, s, suffix) = (&stmts[..k], &stmts[k], &stmts[k + 1..]);
        let ids = ids_in_stmt(s);
        let (lo, hi) = (
            *ids.iter().min().expect("a point"),
            *ids.iter().max().expect("a point"),
        );
        let prefix_has_points = prefix.iter().any(has_point_stmt);
        // The names the prefix binds (and s, when it has two branches) that s or the code
        // after reads: declared here, before any branch, and assigned where the resume path
        // restores them — or by the program itself, when it assigns them before reading.
        let mut outside: Vec<String> = Vec::new();
        let mut after: BTreeSet<String> = Uses::of_stmts_skipping(suffix, &BTreeSet::new());
        after.extend(used_after.iter().cloned());
        // Read on the resume path: live at one of s's points (restored there), or read
        // after s (then assigned before, on every path from the target).
        let mut reads = after.clone();
        for id in &ids {
            reads.extend(self.live_at(*id).iter().cloned());
        }
        let declared_by = |st: &syn::Stmt| -> Vec<String> {
            let mut bs = Vec::new();
            if let Some((pat, _)) = head_iter(st) {
                bindings(pat, false, &mut bs);
            } else if let syn::Stmt::Local(l) = st {
                bindings(&l.pat, false, &mut bs);
            }
            bs.iter().map(|b| b.name.to_string()).collect()
        };
        // With points in the prefix too, its names read on any of its own resume paths are
        // declared here as well, not in the branch that resumes there: a name of s or after
        // may borrow from them (`longest = word` with `word` from `text`), so they live as
        // long as in the function as written.
        if let Some(first) = prefix.iter().position(has_point_stmt) {
            for st in &prefix[first..] {
                for id in ids_in_stmt(st) {
                    reads.extend(self.live_at(id).iter().cloned());
                }
            }
            reads.extend(Uses::of_stmts_skipping(
                &prefix[first + 1..],
                &BTreeSet::new(),
            ));
        }
        // Assigned in s (`cur = &node.next;` in a loop that walks a list): declared here,
        // its type from that assignment, though not restored when it is not live.
        reads.extend(assigned_in(s));
        // A closure (or a value holding one) made again has another type on each side of
        // the split: never declared before it, but bound in each branch and once more after
        // it, when the code after reads it (from names declared here).
        let mut rebind: Vec<syn::Stmt> = Vec::new();
        if prefix_has_points {
            for st in prefix {
                for n in declared_by(st) {
                    if !after.contains(&n) || self.is_hoisted(&n) {
                        continue;
                    }
                    if let Some(again) = self.closure_rerun(&n) {
                        if let syn::Stmt::Local(l) = &again {
                            if let Some(init) = &l.init {
                                reads.extend(Uses::of_expr(&init.expr));
                            }
                        }
                        if !rebind.iter().any(|r| r == &again) {
                            rebind.push(again);
                        }
                    }
                }
            }
        }
        let mut scope_here = scope.clone();
        for st in prefix {
            for n in declared_by(st) {
                scope_here.insert(n.clone());
                if reads.contains(&n)
                    && !self.is_hoisted(&n)
                    && !outside.contains(&n)
                    && (!prefix_has_points || self.closure_rerun(&n).is_none())
                {
                    outside.push(n);
                }
            }
        }
        if prefix_has_points {
            for n in declared_by(s) {
                if after.contains(&n) && !self.is_hoisted(&n) && !outside.contains(&n) {
                    outside.push(n);
                }
            }
        }
        let decls: Vec<TokenStream> = outside.iter().map(|n| self.declaration(n)).collect();
        self.hoisted.push(outside.iter().cloned().collect());
        // The target is in s: what every point of s needs, and a count loop's head.
        let (head, mut bound) = self.rehead_in(prefix, &ids, restored);
        let mut here = self.common(&ids, restored, &bound);
        here.retain(|n| scope_here.contains(n));
        let (restore, more) = self.restore_names(&here);
        bound.extend(more);
        bound.extend(restored.iter().cloned());
        let (pre, post, counted) = self.around(s);
        let s_res = self.resume_stmt(s, &counted, &bound, &scope_here);
        let branch_then = quote! { #head #restore #(#pre)* #s_res #(#post)* };
        let head = if prefix_has_points {
            let mut later = Uses::of_stmt(s);
            later.extend(after.iter().cloned());
            let before = self.resume(prefix, &later, restored, scope);
            let s_norm = self.normal_stmt(s);
            quote! {
                #(#decls)*
                if __ck.resume_in(#lo, #hi) { #branch_then } else { #before #s_norm }
                #(#rebind)*
            }
        } else {
            quote! { #(#decls)* #branch_then }
        };
        self.hoisted.pop();
        let suffix_ts = self.normal(suffix);
        quote! { #head #suffix_ts }
    }

    /// For a `let` made again whose value holds a `move` closure and that a point needs:
    /// a check, before it, that what the closure captures is `Copy`. The resume path makes
    /// the closure again from the captured locals, and a value moved into it (a `String`)
    /// is nowhere to be saved; the check makes that a compile error on the capture, saying
    /// so, instead of a borrow error in generated code.
    fn moved_captures(&self, s: &syn::Stmt) -> TokenStream {
        let syn::Stmt::Local(l) = s else {
            return TokenStream::new();
        };
        let mut bs = Vec::new();
        bindings(&l.pat, false, &mut bs);
        let needed = bs.iter().any(|b| {
            let n = b.name.to_string();
            matches!(self.table.get(&n).map(|b| &b.mode), Some(Mode::Rerun(_)))
                && self.live.values().any(|live| live.contains(&n))
        });
        let Some(init) = l.init.as_ref().filter(|_| needed) else {
            return TokenStream::new();
        };
        struct F(Vec<syn::ExprClosure>);
        impl<'a> syn::visit::Visit<'a> for F {
            fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
                if c.capture.is_some() {
                    self.0.push(c.clone());
                }
            }
        }
        let mut f = F(Vec::new());
        syn::visit::Visit::visit_expr(&mut f, &init.expr);
        let mut out = Vec::new();
        for c in f.0 {
            for n in Uses::of_expr(&syn::Expr::Closure(c.clone())) {
                if self.table.get(&n).is_none() {
                    continue; // not a local: an item, a constant
                }
                let id = syn::Ident::new(&n, syn::spanned::Spanned::span(&c));
                out.push(quote_spanned! {id.span()=> ::ckpt::__private::captured_by_copy(::ckpt::__private::type_of(&#id)); });
            }
        }
        quote!(#(#out)*)
    }

    /// The statement that makes `name` again, when it is made again and holds a closure.
    fn closure_rerun(&self, name: &str) -> Option<syn::Stmt> {
        let b = self.table.get(name)?;
        let Mode::Rerun(st) = &b.mode else {
            return None;
        };
        struct F(bool);
        impl<'a> syn::visit::Visit<'a> for F {
            fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {
                self.0 = true;
            }
        }
        let mut f = F(false);
        syn::visit::Visit::visit_stmt(&mut f, st);
        f.0.then(|| self.rerun_stmt(st))
    }

    /// The names live at every one of `ids` and not bound yet.
    fn common(
        &self,
        ids: &[u32],
        restored: &BTreeSet<String>,
        bound: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        let mut it = ids.iter();
        let Some(first) = it.next() else {
            return BTreeSet::new();
        };
        let mut all = self.live_at(*first).clone();
        for id in it {
            let l = self.live_at(*id);
            all.retain(|n| l.contains(n));
        }
        all.retain(|n| !restored.contains(n) && !bound.contains(n));
        all
    }

    /// The head of a count loop in `prefix`: the iterator was rebuilt one item short;
    /// take that item again. Binds the head's names live at any of `ids`.
    fn rehead_in(
        &self,
        prefix: &[syn::Stmt],
        ids: &[u32],
        restored: &BTreeSet<String>,
    ) -> (TokenStream, BTreeSet<String>) {
        let mut any = BTreeSet::new();
        for id in ids {
            any.extend(self.live_at(*id).iter().cloned());
        }
        for st in prefix {
            if let Some((pat, it)) = head_iter(st) {
                if self.norm.iter(&it).is_some_and(|i| !i.whole) {
                    return self.rehead(pat, &it, &any, restored);
                }
            }
        }
        (TokenStream::new(), BTreeSet::new())
    }
    fn declaration(&self, name: &str) -> TokenStream {
        let Some(b) = self.table.get(name) else {
            let id = format_ident!("{}", name);
            return quote! { let #id; };
        };
        let id = &b.ident;
        let m = if b.mutable || b.mut_borrow || matches!(b.mode, Mode::Iter) {
            quote!(mut)
        } else {
            quote!()
        };
        let ty = b.ty.as_ref().map(|t| quote!(: #t));
        quote! { #[allow(unused_mut)] let #m #id #ty; }
    }

    /// Binds `names` on the resume path, in the order the function binds them: taken back
    /// (`Take`), made again (`Rerun`), matched again (`Rematch`), or their loop's iterator
    /// rebuilt (`Iter`). Returns the code and the names it bound (a loop's head binds its
    /// own: see [`Self::rehead`]).
    fn restore_names(&self, names: &BTreeSet<String>) -> (TokenStream, BTreeSet<String>) {
        let mut list: Vec<(&String, &super::bindings::Binding)> = names
            .iter()
            .filter_map(|n| self.table.get(n).map(|b| (n, b)))
            .collect();
        list.sort_by_key(|(_, b)| b.order);
        let mut out = Vec::new();
        let mut bound = BTreeSet::new();
        for (n, b) in &list {
            match &b.mode {
                Mode::Take => {
                    out.push(self.take(n));
                    bound.insert((*n).clone());
                }
                Mode::Head(_) if b.mutable => {
                    out.push(self.take(n));
                    bound.insert((*n).clone());
                }
                Mode::Iter => {
                    out.push(self.iter_load(n));
                    bound.insert((*n).clone());
                }
                Mode::Rerun(st) => {
                    let syn::Stmt::Local(l) = st else { continue };
                    let mut bs = Vec::new();
                    bindings(&l.pat, false, &mut bs);
                    // One `let` binds all its names: once.
                    if bs.iter().any(|x| bound.contains(&x.name.to_string())) {
                        continue;
                    }
                    let again = self.rerun_stmt(st);
                    out.extend(self.rewrite_let(&again).into_iter().map(|s| quote!(#s)));
                    bound.extend(bs.iter().map(|x| x.name.to_string()));
                }
                Mode::Rematch { scrut, pat } => {
                    if bound.contains(*n) {
                        continue;
                    }
                    let mut bs = Vec::new();
                    bindings(pat, true, &mut bs);
                    let group: Vec<String> = bs
                        .iter()
                        .map(|x| x.name.to_string())
                        .filter(|x| names.contains(x))
                        .collect();
                    out.push(self.rematch(scrut, pat, &group));
                    bound.extend(group);
                }
                Mode::Head(_) | Mode::Param => {}
            }
        }
        (quote!(#(#out)*), bound)
    }

    /// A restored binding: assigned when declared before the split, bound otherwise.
    fn bind(&self, name: &str, value: TokenStream) -> TokenStream {
        let Some(b) = self.table.get(name) else {
            return TokenStream::new();
        };
        let id = &b.ident;
        if self.is_hoisted(name) {
            quote_spanned! {id.span()=> #id = #value; }
        } else {
            let m = if b.mutable || b.mut_borrow || matches!(b.mode, Mode::Iter) {
                quote!(mut)
            } else {
                quote!()
            };
            let ty = b.ty.as_ref().map(|t| quote!(: #t));
            quote_spanned! {id.span()=> #[allow(unused_mut)] let #m #id #ty = #value; }
        }
    }

    fn take(&self, name: &str) -> TokenStream {
        let key = display(name);
        let span = self
            .table
            .get(name)
            .map_or(proc_macro2::Span::call_site(), |b| b.ident.span());
        let m = marker(name);
        self.bind(
            name,
            quote_spanned! {span=> {
                #[allow(unused_imports)]
                use ::ckpt::__private::{TakeState as _, TakeOther as _};
                (&&::ckpt::__private::Take(&__ck, #m)).__ckpt_take(#key)
            }},
        )
    }

    /// A count loop's head on the resume path: the iterator was rebuilt one item short;
    /// take that item again (a `mut` binding changed since comes from the image, where it
    /// is needed).
    fn rehead(
        &self,
        pat: &syn::Pat,
        it: &str,
        any: &BTreeSet<String>,
        restored: &BTreeSet<String>,
    ) -> (TokenStream, BTreeSet<String>) {
        let itv = format_ident!("{}", it);
        let mut bs = Vec::new();
        bindings(pat, false, &mut bs);
        let (p2, _) = temp_pattern(pat, |_| true);
        let mut sets = Vec::new();
        let mut bound = BTreeSet::new();
        for b in &bs {
            let n = b.name.to_string();
            // A `mut` head binding is taken back (the body changes it), unless the `mut` is
            // the one a loop over a mutable borrow gets to be made again (the table knows).
            let mutable = self.table.get(&n).map_or(b.mutable, |tb| tb.mutable);
            if !any.contains(&n) || restored.contains(&n) || mutable {
                continue;
            }
            let t = format_ident!("__ckpt_h_{}", n);
            sets.push(self.bind(&n, quote!(#t)));
            bound.insert(n);
        }
        let what = format!("a loop in `{}` ended early", self.model.name);
        let ts = quote! {
            #[allow(unused_variables)]
            let ::core::option::Option::Some(#p2) = ::core::iter::Iterator::next(&mut #itv) else {
                ::ckpt::__private::resume_failed(&__ck, #what)
            };
            #(#sets)*
        };
        (ts, bound)
    }

    fn rematch(&self, scrut: &syn::Expr, pat: &syn::Pat, names: &[String]) -> TokenStream {
        let (p2, _) = temp_pattern(pat, |_| true);
        let temps: Vec<syn::Ident> = names
            .iter()
            .map(|n| format_ident!("__ckpt_h_{}", n))
            .collect();
        let what = format!("a `match` in `{}` took another arm", self.model.name);
        let tuple = format_ident!("__ckpt_rm");
        let sets: Vec<TokenStream> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let i = syn::Index::from(i);
                self.bind(n, quote!(#tuple.#i))
            })
            .collect();
        quote! {
            #[allow(unused_variables)]
            let #tuple = match #scrut {
                #p2 => (#(#temps,)*),
                _ => ::ckpt::__private::resume_failed(&__ck, #what),
            };
            #(#sets)*
        }
    }

    fn iter_load(&self, name: &str) -> TokenStream {
        let key = display(name);
        let Some(it) = self.norm.iter(name) else {
            return TokenStream::new();
        };
        let span = syn::spanned::Spanned::span(&it.iterable);
        let value = if it.whole {
            // Spanned at the loop's iterable, its errors too.
            let m = syn::Ident::new(&marker(name).to_string(), span);
            quote_spanned! {span=> ::ckpt::__private::iter_take_as(&__ck, #m, #key) }
        } else {
            let ordered = super::normalize::ordered(&it.iterable);
            quote_spanned! {span=> {
                #[allow(unused_imports)]
                use ::ckpt::__private::{IterLoadCount as _, IterLoadFallback as _, IterLoadReplay as _};
                (&&&::ckpt::__private::IterLoad::new(#ordered)).__ckpt_load(&__ck, #key)
            }}
        };
        self.bind(name, value)
    }

    /// A `let` made again; `mut` when it is made again after each point too.
    fn rerun_stmt(&self, st: &syn::Stmt) -> syn::Stmt {
        let syn::Stmt::Local(l) = st else {
            return st.clone();
        };
        let mut bs = Vec::new();
        bindings(&l.pat, false, &mut bs);
        let again = bs.iter().any(|b| {
            self.table
                .get(&b.name.to_string())
                .is_some_and(|t| t.mut_borrow)
        });
        if !again {
            return st.clone();
        }
        let mut l2 = l.clone();
        struct M;
        impl VisitMut for M {
            fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
                i.mutability = Some(Default::default());
            }
        }
        M.visit_pat_mut(&mut l2.pat);
        l2.attrs.push(syn::parse_quote!(#[allow(unused_mut)]));
        syn::Stmt::Local(l2)
    }

    /// `s` resumed at its target.
    fn resume_stmt(
        &mut self,
        s: &syn::Stmt,
        counted: &[String],
        restored: &BTreeSet<String>,
        scope: &BTreeSet<String>,
    ) -> TokenStream {
        let mut out = Vec::new();
        for mut st in self.rewrite_let(s) {
            if has_point_stmt(&st) {
                let mut r = ResumeUnit {
                    ctx: self,
                    counted,
                    restored,
                    scope,
                    done: false,
                };
                r.visit_stmt_mut(&mut st);
            }
            out.push(st);
        }
        quote!(#(#out)*)
    }

    // ---------------------------------------------------------------- both

    /// `let x = e;` → `x = e;` when `x` was declared before a split; a pattern binding
    /// such names goes through temporaries.
    fn rewrite_let(&self, s: &syn::Stmt) -> Vec<syn::Stmt> {
        let syn::Stmt::Local(l) = s else {
            return vec![s.clone()];
        };
        let mut bs = Vec::new();
        bindings(&l.pat, false, &mut bs);
        if !bs.iter().any(|b| self.is_hoisted(&b.name.to_string())) {
            return vec![s.clone()];
        }
        let Some(init) = &l.init else {
            return Vec::new();
        };
        let simple = match &l.pat {
            syn::Pat::Ident(i) if i.subpat.is_none() => Some(&i.ident),
            syn::Pat::Type(t) => match &*t.pat {
                syn::Pat::Ident(i) if i.subpat.is_none() => Some(&i.ident),
                _ => None,
            },
            _ => None,
        };
        if let (Some(x), None) = (simple, &init.diverge) {
            let e = &init.expr;
            return vec![syn::parse_quote! { #x = #e; }];
        }
        let (pat, moves) = temp_pattern(&l.pat, |n| self.is_hoisted(n));
        let e = &init.expr;
        let mut out: Vec<syn::Stmt> = vec![match &init.diverge {
            Some((_, d)) => syn::parse_quote! { let #pat = #e else #d; },
            None => syn::parse_quote! { let #pat = #e; },
        }];
        out.extend(moves);
        out
    }

    /// Around the points directly in `s`: mutable borrows live there are ended before and
    /// made again after (their loop's count copied first), so the captures can read what
    /// they borrow.
    fn around(&self, s: &syn::Stmt) -> (Vec<TokenStream>, Vec<TokenStream>, Vec<String>) {
        let (mut pre, mut post, mut counted) = (Vec::new(), Vec::new(), Vec::new());
        for id in direct_points(s) {
            for name in self.live_at(id) {
                let Some(b) = self.table.get(name) else {
                    continue;
                };
                match &b.mode {
                    Mode::Iter => {
                        let Some(it) = self.norm.iter(name) else {
                            continue;
                        };
                        if it.whole || !it.mut_borrow || counted.contains(name) {
                            continue;
                        }
                        counted.push(name.clone());
                        let v = &b.ident;
                        let c = format_ident!("__ckpt_c_{}", name);
                        // The items taken, for the index of an item lent (see `calls`).
                        let n = format_ident!("__ckpt_n_{}", name);
                        pre.push(quote! {
                            #[allow(unused_variables)]
                            let #n = ::ckpt::__private::Counted::taken(&#v);
                        });
                        pre.push(quote! {
                            let #c = {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{SuspendReplay as _, SuspendAny as _};
                                (&&::ckpt::__private::Suspend::new(#v)).__ckpt_suspend()
                            };
                        });
                        let ordered = super::normalize::ordered(&it.iterable);
                        let (p2, _) = temp_pattern(&it.pat, |_| true);
                        let mut sets = Vec::new();
                        let mut bs = Vec::new();
                        bindings(&it.pat, false, &mut bs);
                        for hb in bs {
                            let n = hb.name.to_string();
                            if self.live_at(id).contains(&n) {
                                let x = &hb.name;
                                let t = format_ident!("__ckpt_h_{}", n);
                                sets.push(quote! { #x = #t; });
                            }
                        }
                        let what = format!("a loop in `{}` ended early", self.model.name);
                        post.push(quote! {
                            #v = #c.__ckpt_resume(|| #ordered);
                            #[allow(unused_variables)]
                            let ::core::option::Option::Some(#p2) = ::core::iter::Iterator::next(&mut #v) else {
                                ::ckpt::__private::resume_failed(&__ck, #what)
                            };
                            #(#sets)*
                        });
                    }
                    Mode::Rerun(syn::Stmt::Local(l)) if b.mut_borrow => {
                        let x = &b.ident;
                        if let (syn::Pat::Ident(_), Some(init)) = (&l.pat, &l.init) {
                            let e = &init.expr;
                            post.push(quote! { #x = #e; });
                        }
                    }
                    _ => {}
                }
            }
        }
        (pre, post, counted)
    }

    fn capture(
        &self,
        id: u32,
        lent: &[String],
        counted: &[String],
        parts: &[calls::PartCapture],
    ) -> TokenStream {
        let live = self.live_at(id).clone();
        CaptureSpec {
            model: self.model,
            table: self.table,
            norm: self.norm,
            live: &live,
            lent,
            counted,
            parts,
            span: self.points.get(id).span,
        }
        .closure()
    }

    fn expand_point(
        &mut self,
        id: u32,
        e: &syn::Expr,
        counted: &[String],
        path: Path,
    ) -> TokenStream {
        let p = self.points.get(id);
        let span = p.span;
        match &p.kind {
            Kind::Save {
                on_request: true, ..
            } => {
                let cap = self.capture(id, &[], counted, &[]);
                quote_spanned! {span=> __ck.safe_point(#id, &#cap) }
            }
            Kind::Save { to, .. } => {
                let cap = self.capture(id, &[], counted, &[]);
                let dest = match (to, e, path) {
                    (true, syn::Expr::Call(c), Path::Normal) => {
                        let arg = &c.args[0];
                        quote! {
                            ::ckpt::__private::Dest::Path(::core::convert::AsRef::<::std::path::Path>::as_ref(&(#arg)))
                        }
                    }
                    _ => quote!(::ckpt::__private::Dest::Default),
                };
                quote_spanned! {span=> __ck.save_point(#id, #dest, &#cap) }
            }
            kind => {
                let (args, why) = calls::classify(e, self.model, self.table);
                let lent: Vec<String> = args
                    .iter()
                    .filter_map(|a| match a {
                        calls::Arg::Lend(x) => Some(x.clone()),
                        _ => None,
                    })
                    .collect();
                let parts = calls::part_captures(id, &args);
                let cap = self.capture(id, &lent, counted, &parts);
                let generic = p.generic && why.is_none();
                self.arg_markers
                    .extend(calls::marked_args(generic, &args).map(|pos| (id, pos)));
                calls::expand_call(
                    id,
                    e,
                    kind,
                    &args,
                    &parts,
                    why,
                    cap,
                    path == Path::Resume,
                    generic,
                    span,
                )
            }
        }
    }
}

fn marker(name: &str) -> syn::Ident {
    format_ident!("__ckpt_ty_{}", name)
}

/// The pattern with the bindings chosen by `pick` renamed `__ckpt_h_<name>` (without
/// `mut`), and the assignments `name = __ckpt_h_<name>;`.
fn temp_pattern(pat: &syn::Pat, pick: impl Fn(&str) -> bool) -> (syn::Pat, Vec<syn::Stmt>) {
    struct R<'p, F>(&'p F, Vec<syn::Stmt>);
    impl<F: Fn(&str) -> bool> VisitMut for R<'_, F> {
        fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
            let n = i.ident.to_string();
            let constant = n.starts_with(|c: char| c.is_uppercase()) && i.subpat.is_none();
            if (self.0)(&n) && !constant {
                let t = format_ident!("__ckpt_h_{}", n);
                let x = i.ident.clone();
                self.1.push(syn::parse_quote! { #x = #t; });
                i.ident = t;
                // `mut x` binds a temporary that is only moved; `ref mut x` stays.
                if i.by_ref.is_none() {
                    i.mutability = None;
                }
            }
            syn::visit_mut::visit_pat_ident_mut(self, i);
        }
        fn visit_field_pat_mut(&mut self, f: &mut syn::FieldPat) {
            syn::visit_mut::visit_field_pat_mut(self, f);
            f.colon_token = Some(Default::default());
        }
    }
    let mut p = pat.clone();
    let mut r = R(&pick, Vec::new());
    r.visit_pat_mut(&mut p);
    (p, r.1)
}

/// The locals a statement assigns whole (`x = …`), outside closures and items.
fn assigned_in(s: &syn::Stmt) -> BTreeSet<String> {
    struct A(BTreeSet<String>);
    impl<'a> syn::visit::Visit<'a> for A {
        fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
            if let Some(n) = super::vars::ident_of(&a.left) {
                self.0.insert(n);
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut a = A(BTreeSet::new());
    syn::visit::Visit::visit_stmt(&mut a, s);
    a.0
}

/// The markers of a statement outside its nested blocks.
fn direct_points(s: &syn::Stmt) -> Vec<u32> {
    struct D(Vec<u32>);
    impl<'a> syn::visit::Visit<'a> for D {
        fn visit_expr(&mut self, e: &'a syn::Expr) {
            match e {
                syn::Expr::Block(_)
                | syn::Expr::Unsafe(_)
                | syn::Expr::Loop(_)
                | syn::Expr::Closure(_)
                | syn::Expr::Async(_)
                | syn::Expr::If(_)
                | syn::Expr::Match(_) => {}
                _ => {
                    syn::visit::visit_expr(self, e);
                    if let Some(id) = marker_id(e) {
                        self.0.push(id);
                    }
                }
            }
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut d = D(Vec::new());
    syn::visit::Visit::visit_stmt(&mut d, s);
    d.0
}
