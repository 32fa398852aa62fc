//! Pass `unmove`: a `move` closure kept across a save point owns what it captured, and a
//! restore cannot reach inside a closure. So before the other passes,
//!
//! ```text
//! let label = move |i| format!("{prefix}-{i}");      // a save point follows
//! ```
//!
//! becomes
//!
//! ```text
//! let mut __ckpt_mv1_prefix = prefix;                 // what `move` took, in a local
//! let label = |i| format!("{__ckpt_mv1_prefix}-{i}"); // borrowed from there
//! ```
//!
//! The captured values move exactly where `move` moved them (a `Copy` one is copied, and
//! the original can change on its own), but they now live in locals the function's frame
//! saves, and the closure is made again on restore from them, like any closure that
//! borrows. Only `let NAME = move |..| ..;` statements followed by a point in their block
//! are changed, and not when the block hands the closure out (its tail or a `return`
//! names it, or a call takes it by value: `thread::spawn(work)`) or the closure captures
//! `self`.
//!
//! A closure that changes what it borrows (`let mut add = |x| total += x;`, and a `move`
//! one once rewritten as above) holds a `&mut` to those locals across the point, so the
//! frame cannot read them there. Before it, a pointer to each is taken, and the closure
//! is wrapped: `let mut add = lends(|x| total += x, (__ckpt_p2_total,));`. A point while
//! the closure lives saves those locals through the pointers (`split` and `calls` find
//! them in the `lends` call); a restore makes the pointers and the closure again.

use std::collections::BTreeSet;

use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::points::has_point_stmt;
use super::rename::Renamer;
use super::vars::{bindings, Uses};

/// Rewrites the `move` closures of `body` (see the module docs); `params` are the
/// function's parameter names.
pub fn run(body: &mut syn::Block, params: impl IntoIterator<Item = String>) {
    let mut locals: BTreeSet<String> = params.into_iter().collect();
    bound_names(body, &mut locals);
    let closures = closure_names(body);
    let mut u = Unmove {
        locals,
        closures,
        next: 0,
    };
    u.block(body);
}

struct Unmove {
    /// Every name a pattern of the function binds.
    locals: BTreeSet<String>,
    /// The names `let NAME = |..| ..;` binds: a `move` closure that captures one is left
    /// as written (a closure held in a local of ckpt's could not be saved; the closure
    /// captured is made again on restore, as the capturing one is).
    closures: BTreeSet<String>,
    next: u32,
}

impl Unmove {
    fn block(&mut self, b: &mut syn::Block) {
        let mut i = 0;
        while i < b.stmts.len() {
            // Nested blocks first (their own statements).
            self.visit_stmt_mut(&mut b.stmts[i]);
            let later_point = b.stmts[i + 1..].iter().any(has_point_stmt);
            let handed_out = |name: &str, rest: &[syn::Stmt]| {
                // A value the block ends with (a loop or a branch ending it yields `()`
                // or its own tail, not the closure).
                let tail = match rest.last() {
                    Some(syn::Stmt::Expr(e, None)) => {
                        !matches!(
                            e,
                            syn::Expr::ForLoop(_)
                                | syn::Expr::While(_)
                                | syn::Expr::Loop(_)
                                | syn::Expr::If(_)
                                | syn::Expr::Match(_)
                                | syn::Expr::Block(_)
                        ) && Uses::of_expr(e).contains(name)
                    }
                    _ => false,
                };
                tail || rest.iter().any(|s| returns(s, name))
            };
            let mut extra = Vec::new();
            let (head, rest) = b.stmts.split_at_mut(i + 1);
            if let (true, syn::Stmt::Local(l)) = (later_point, &mut head[i]) {
                if single_name(&l.pat).is_some_and(|name| !handed_out(&name, rest)) {
                    extra = self.local(l);
                    extra.extend(self.lending(l));
                }
            }
            let n = extra.len();
            for (k, s) in extra.into_iter().enumerate() {
                b.stmts.insert(i + k, s);
            }
            i += n + 1;
        }
    }

    /// The closure `let` initializes (`move` or not, as `moving` says) and the locals it
    /// captures, unless it is async or a `move` one that captures `self`.
    fn closure_of<'l>(
        &self,
        l: &'l mut syn::Local,
        moving: bool,
    ) -> Option<(&'l mut syn::Expr, Vec<String>)> {
        let init = l.init.as_mut().filter(|i| i.diverge.is_none())?;
        let e = strip_parens(&mut init.expr);
        let syn::Expr::Closure(c) = &*e else {
            return None;
        };
        if c.capture.is_some() != moving || c.asyncness.is_some() {
            return None;
        }
        let free = Uses::of_expr(e);
        // A `move` closure would take `self` itself; a borrowing one borrows it like a
        // parameter.
        if moving && (free.contains("self") || free.iter().any(|n| self.closures.contains(n))) {
            return None;
        }
        let captured = free
            .into_iter()
            .filter(|n| {
                (self.locals.contains(n) || n == "self")
                    && !n.starts_with(|ch: char| ch.is_uppercase())
            })
            .collect();
        Some((e, captured))
    }

    /// The captures of `let NAME = move |..| ..;` moved into locals; the closure no
    /// longer `move`. Returns the statements that bind the locals.
    fn local(&mut self, l: &mut syn::Local) -> Vec<syn::Stmt> {
        let next = self.next + 1;
        let Some((e, captured)) = self.closure_of(l, true) else {
            return Vec::new();
        };
        let syn::Expr::Closure(c) = e else {
            return Vec::new();
        };
        let mut stmts = Vec::new();
        let mut mapping = Vec::new();
        for n in &captured {
            let hidden = syn::Ident::new(&format!("__ckpt_mv{next}_{n}"), c.or1_token.span);
            let orig = syn::Ident::new(n, c.or1_token.span);
            stmts.push(syn::parse_quote! { let mut #hidden = #orig; });
            mapping.push((n.clone(), hidden));
        }
        c.capture = None;
        Renamer::with_mapping(mapping.clone()).visit_expr_closure_mut(c);
        self.next = next;
        self.locals
            .extend(mapping.into_iter().map(|(_, h)| h.to_string()));
        stmts
    }

    /// `let mut NAME = |..| ..;` (a closure that may change what it borrows): a pointer to
    /// each local it captures, taken before it borrows them, and the closure wrapped in
    /// `lends(closure, (pointers,))`. A point while the closure lives saves those locals
    /// through the pointers (the closure's borrow stands), and a restore makes the
    /// pointers and the closure again from the restored locals.
    fn lending(&mut self, l: &mut syn::Local) -> Vec<syn::Stmt> {
        let mutable = matches!(&l.pat, syn::Pat::Ident(i) if i.mutability.is_some())
            || matches!(&l.pat, syn::Pat::Type(t) if matches!(&*t.pat, syn::Pat::Ident(i) if i.mutability.is_some()));
        if !mutable {
            return Vec::new();
        }
        let next = self.next + 1;
        let Some((e, captured)) = self.closure_of(l, false) else {
            return Vec::new();
        };
        if captured.is_empty() {
            return Vec::new();
        }
        let span = e.span();
        let mut stmts = Vec::new();
        let mut ptrs = Vec::new();
        for n in &captured {
            let p = syn::Ident::new(
                &format!("__ckpt_p{next}_{}", n.trim_start_matches('_')),
                span,
            );
            let x = syn::Ident::new(n, span);
            stmts.push(syn::parse_quote! { let #p = ::core::ptr::addr_of!(#x); });
            ptrs.push(p);
        }
        let closure = e.clone();
        *e = syn::parse_quote! {
            ::ckpt::__private::lends(#closure, (#(#ptrs,)*))
        };
        self.next = next;
        stmts
    }
}

impl VisitMut for Unmove {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.block(b);
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn strip_parens(e: &mut syn::Expr) -> &mut syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&mut p.expr),
        other => other,
    }
}

/// `NAME` or `NAME: T` (with `mut`).
fn single_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) if i.subpat.is_none() && i.by_ref.is_none() => Some(i.ident.to_string()),
        syn::Pat::Type(t) => single_name(&t.pat),
        _ => None,
    }
}

/// A `return` in `s` whose value names `name`, or `name` passed by value to a call
/// (`thread::spawn(work)`, `Box::new(f)`: it may have to outlive the function).
fn returns(s: &syn::Stmt, name: &str) -> bool {
    struct R<'n>(&'n str, bool);
    impl R<'_> {
        fn args<'a>(&mut self, args: impl IntoIterator<Item = &'a syn::Expr>) {
            self.1 |= args
                .into_iter()
                .any(|a| super::vars::ident_of(a).is_some_and(|n| n == self.0));
        }
    }
    impl<'a> syn::visit::Visit<'a> for R<'_> {
        fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
            if let Some(e) = &r.expr {
                self.1 |= Uses::of_expr(e).contains(self.0);
            }
        }
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            self.args(&c.args);
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            self.args(&m.args);
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut r = R(name, false);
    syn::visit::Visit::visit_stmt(&mut r, s);
    r.1
}

/// The names the patterns of `b` bind (outside closures and items).
fn bound_names(b: &syn::Block, out: &mut BTreeSet<String>) {
    struct B<'o>(&'o mut BTreeSet<String>);
    impl<'a> syn::visit::Visit<'a> for B<'_> {
        fn visit_local(&mut self, l: &'a syn::Local) {
            self.pat(&l.pat, false);
            syn::visit::visit_local(self, l);
        }
        fn visit_expr_for_loop(&mut self, f: &'a syn::ExprForLoop) {
            self.pat(&f.pat, false);
            syn::visit::visit_expr_for_loop(self, f);
        }
        fn visit_arm(&mut self, a: &'a syn::Arm) {
            self.pat(&a.pat, true);
            syn::visit::visit_arm(self, a);
        }
        fn visit_expr_let(&mut self, l: &'a syn::ExprLet) {
            self.pat(&l.pat, true);
            syn::visit::visit_expr_let(self, l);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    impl B<'_> {
        fn pat(&mut self, p: &syn::Pat, in_match: bool) {
            let mut bs = Vec::new();
            bindings(p, in_match, &mut bs);
            self.0.extend(bs.into_iter().map(|b| b.name.to_string()));
        }
    }
    syn::visit::Visit::visit_block(&mut B(out), b);
}

/// The names bound by `let NAME = |..| ..;` (a closure, maybe in parentheses) in `b`,
/// outside closures and items.
fn closure_names(b: &syn::Block) -> BTreeSet<String> {
    struct C(BTreeSet<String>);
    impl<'a> syn::visit::Visit<'a> for C {
        fn visit_local(&mut self, l: &'a syn::Local) {
            let mut e = l.init.as_ref().map(|i| &*i.expr);
            while let Some(syn::Expr::Paren(p)) = e {
                e = Some(&p.expr);
            }
            if let (Some(syn::Expr::Closure(_)), Some(n)) = (e, single_name(&l.pat)) {
                self.0.insert(n);
            }
            syn::visit::visit_local(self, l);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut c = C(BTreeSet::new());
    syn::visit::Visit::visit_block(&mut c, b);
    c.0
}
