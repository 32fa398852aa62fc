//! Pass `bindings`: how each binding of the function comes back on the resume path.
//!
//! After `rename`, every binding has a name of its own, so one table keyed by name
//! describes them all:
//! - **Take**: saved by the points' captures and taken back from the image (it must be
//!   `State`);
//! - **Rerun**: a `let` whose value is a borrow, a string literal or a closure (`let sep
//!   = ", "`, `let row = &grid[r]`, `let words: Vec<&str> = line.split(' ').collect()`,
//!   `let score = |w: &str| w.len() * k`): it cannot be saved and need not be, because
//!   while it lives the borrow checker keeps what it reads unchanged; the resume path
//!   runs the `let` again from its restored inputs;
//! - **Head**: the pattern of a `for` loop whose iterator is saved by count: the resume
//!   path rebuilds the iterator one item short and takes the item again;
//! - **Rematch**: the bindings of a `match` arm whose scrutinee is a borrow (`if let
//!   Some(top) = stack.last()`): the resume path matches again;
//! - **Iter**: a loop's iterator, saved whole or by count (see `normalize`);
//! - **Param**: a parameter, handed back through the call (see `calls`).

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::model::{FnModel, Passing};
use super::normalize::{head_iter, Norm};
use super::places::borrowing_method;
use super::points::has_point_expr;
use super::vars::{bindings, Uses};

pub enum Mode {
    Take,
    /// The `let` statement to run again.
    Rerun(syn::Stmt),
    /// The loop iterator (`__ckpt_itN`) whose head binds it.
    Head(String),
    /// The scrutinee and pattern to match again.
    Rematch {
        scrut: syn::Expr,
        pat: syn::Pat,
    },
    Iter,
    /// Position of the parameter.
    Param,
}

pub struct Binding {
    pub ident: syn::Ident,
    pub mode: Mode,
    /// Declared `mut`.
    pub mutable: bool,
    /// The declared type of a `let x: T = …`.
    pub ty: Option<syn::Type>,
    /// Holds a mutable borrow made again after each point (see `split`).
    pub mut_borrow: bool,
    /// Where it is bound among the function's bindings: a binding made again from others
    /// comes after them.
    pub order: usize,
    /// The item of a loop over `X.iter_mut()`: lent to a call as a part of X.
    pub item: Option<super::normalize::LoopLend>,
}

impl Binding {
    /// `name: mode`, and whether it holds a mutable borrow or is a lent loop item.
    pub fn describe(&self) -> String {
        use quote::ToTokens;
        let mode = match &self.mode {
            Mode::Take => "take".to_string(),
            Mode::Rerun(s) => format!("rerun `{}`", s.to_token_stream()),
            Mode::Head(it) => format!("head of {it}"),
            Mode::Rematch { scrut, pat } => format!(
                "rematch `{}` against `{}`",
                pat.to_token_stream(),
                scrut.to_token_stream()
            ),
            Mode::Iter => "iter".to_string(),
            Mode::Param => "param".to_string(),
        };
        let mut s = format!("{}: {mode}", self.ident);
        if self.mut_borrow {
            s += ", mut borrow";
        }
        if let Some(l) = &self.item {
            s += &format!(", item lent via {}", l.ptr);
        }
        s
    }
}

#[derive(Default)]
pub struct Table {
    pub map: BTreeMap<String, Binding>,
}

impl Table {
    pub fn get(&self, name: &str) -> Option<&Binding> {
        self.map.get(name)
    }

    /// What must be restored for `name` to be made again on the resume path.
    pub fn inputs(&self, name: &str, norm: &Norm) -> BTreeSet<String> {
        let Some(b) = self.map.get(name) else {
            return BTreeSet::new();
        };
        let names = match &b.mode {
            Mode::Rerun(syn::Stmt::Local(l)) => l
                .init
                .as_ref()
                .map(|i| Uses::of_expr(&i.expr))
                .unwrap_or_default(),
            Mode::Head(it) => [it.clone()].into(),
            Mode::Rematch { scrut, .. } => Uses::of_expr(scrut),
            Mode::Iter => match norm.iter(name) {
                Some(it) if !it.whole => Uses::of_expr(&it.iterable),
                _ => BTreeSet::new(),
            },
            _ => BTreeSet::new(),
        };
        names
            .into_iter()
            .filter(|n| self.map.contains_key(n))
            .collect()
    }

    /// One line per binding, in binding order (`CKPT_EXPAND=bindings`).
    pub fn describe(&self) -> String {
        let mut bs: Vec<&Binding> = self.map.values().collect();
        bs.sort_by_key(|b| b.order);
        bs.iter().map(|b| b.describe() + "\n").collect()
    }

    /// Adds to `live` everything its members need to be made again.
    pub fn close(&self, live: &mut BTreeSet<String>, norm: &Norm) {
        let mut todo: Vec<String> = live.iter().cloned().collect();
        while let Some(n) = todo.pop() {
            for i in self.inputs(&n, norm) {
                if live.insert(i.clone()) {
                    todo.push(i);
                }
            }
        }
        live.retain(|n| self.map.contains_key(n));
    }
}

/// Builds the table of a normalized, renamed body.
pub fn table(body: &syn::Block, model: &FnModel, norm: &Norm) -> Table {
    let mut t = Table::default();
    for p in &model.params {
        if let Some(n) = &p.name {
            t.map.insert(
                n.to_string(),
                Binding {
                    ident: n.clone(),
                    mode: Mode::Param,
                    mutable: p.mutable,
                    ty: p.ty.clone(),
                    mut_borrow: p.passing == Passing::Mut,
                    order: p.pos,
                    item: None,
                },
            );
        }
    }
    let mut v = Collect {
        t: &mut t,
        norm,
        next: model.params.len(),
    };
    v.visit_block(body);
    t
}

struct Collect<'a> {
    t: &'a mut Table,
    norm: &'a Norm,
    next: usize,
}

impl Collect<'_> {
    fn add(
        &mut self,
        pat: &syn::Pat,
        in_match: bool,
        mode: impl Fn() -> Mode,
        ty: Option<&syn::Type>,
    ) {
        let mut bs = Vec::new();
        bindings(pat, in_match, &mut bs);
        let single = bs.len() == 1;
        for b in bs {
            self.next += 1;
            self.t.map.insert(
                b.name.to_string(),
                Binding {
                    ident: b.name.clone(),
                    mode: mode(),
                    mutable: b.mutable,
                    ty: ty.filter(|_| single).cloned(),
                    mut_borrow: false,
                    order: self.next,
                    item: None,
                },
            );
        }
    }
}

impl<'ast> Visit<'ast> for Collect<'_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        for (i, s) in b.stmts.iter().enumerate() {
            self.visit_stmt(s);
            let syn::Stmt::Local(l) = s else { continue };
            if let Some((pat, it)) = head_iter(s) {
                let count = self.norm.iter(&it).is_some_and(|li| !li.whole);
                let mut_borrow = self.norm.iter(&it).is_some_and(|li| li.mut_borrow);
                let it2 = it.clone();
                self.add(
                    pat,
                    false,
                    || {
                        if count {
                            Mode::Head(it2.clone())
                        } else {
                            Mode::Take
                        }
                    },
                    None,
                );
                if mut_borrow {
                    // `normalize` declared them `mut` to make them again after each point;
                    // they are not changed by the program.
                    let lend = self.norm.iter(&it).and_then(|li| li.lend.clone());
                    let mut bs = Vec::new();
                    bindings(pat, false, &mut bs);
                    for b in bs {
                        if let Some(e) = self.t.map.get_mut(&b.name.to_string()) {
                            e.mut_borrow = true;
                            e.mutable = false;
                            e.item = lend.clone();
                        }
                    }
                }
                continue;
            }
            let (pat, ty) = match &l.pat {
                syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                p => (p, None),
            };
            if let syn::Pat::Ident(pi) = pat {
                if pi.ident.to_string().starts_with("__ckpt_it") {
                    self.add(pat, false, || Mode::Iter, None);
                    continue;
                }
            }
            let rerun = rerun_eligible(l, &b.stmts[i + 1..]);
            let stmt = s.clone();
            self.add(
                &l.pat,
                false,
                || {
                    if rerun {
                        Mode::Rerun(stmt.clone())
                    } else {
                        Mode::Take
                    }
                },
                ty,
            );
            if rerun && mut_borrowing(l) {
                let mut bs = Vec::new();
                bindings(&l.pat, false, &mut bs);
                for b in bs {
                    if let Some(e) = self.t.map.get_mut(&b.name.to_string()) {
                        e.mut_borrow = true;
                    }
                }
            }
        }
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        // The arms' bindings come before what their bodies bind.
        self.visit_expr(&m.expr);
        self.arm_bindings(m);
        for arm in &m.arms {
            if let Some((_, g)) = &arm.guard {
                self.visit_expr(g);
            }
            self.visit_expr(&arm.body);
        }
    }

    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl Collect<'_> {
    fn arm_bindings(&mut self, m: &syn::ExprMatch) {
        let rematch = rerun_class(&m.expr);
        for arm in &m.arms {
            if !has_point_expr(&arm.body) {
                continue;
            }
            let mut bs = Vec::new();
            bindings(&arm.pat, true, &mut bs);
            let ok = rematch && bs.iter().all(|b| !b.mutable);
            let (scrut, pat) = ((*m.expr).clone(), arm.pat.clone());
            self.add(
                &arm.pat,
                true,
                || {
                    if ok {
                        Mode::Rematch {
                            scrut: scrut.clone(),
                            pat: pat.clone(),
                        }
                    } else {
                        Mode::Take
                    }
                },
                None,
            );
        }
    }
}

/// A `let` whose value can be made again instead of saved: no `mut` binding, an
/// initializer of the [`rerun_class`], and inputs not changed while its bindings are in
/// use (`rest`: the statements after it in its block).
fn rerun_eligible(l: &syn::Local, rest: &[syn::Stmt]) -> bool {
    let Some(init) = &l.init else { return false };
    if init.diverge.is_some() || has_point_expr(&init.expr) {
        return false;
    }
    let mut bs = Vec::new();
    bindings(&l.pat, false, &mut bs);
    // A `lends` closure is `mut` to be called; it holds no state of its own.
    let lends = lends_call(&init.expr).is_some();
    if bs.is_empty() || (bs.iter().any(|b| b.mutable) && !lends) || has_ref_binding(&l.pat) {
        return false;
    }
    if !rerun_class(&init.expr) {
        return false;
    }
    // The statements up to the last one that uses a binding of this `let`.
    let names: BTreeSet<String> = bs.iter().map(|b| b.name.to_string()).collect();
    let last = rest
        .iter()
        .rposition(|s| Uses::of_stmt(s).iter().any(|n| names.contains(n)));
    let span = match last {
        Some(k) => &rest[..=k],
        None => &rest[..0],
    };
    // A pointer to a place (`addr_of!(x)`) stays right whatever the place holds.
    if is_addr_of(&init.expr) {
        return true;
    }
    let inputs = Uses::of_expr(&init.expr);
    !span.iter().any(|s| mutates_any(s, &inputs))
}

fn has_ref_binding(p: &syn::Pat) -> bool {
    struct F(bool);
    impl<'a> Visit<'a> for F {
        fn visit_pat_ident(&mut self, i: &'a syn::PatIdent) {
            if i.by_ref.is_some() {
                self.0 = true;
            }
            syn::visit::visit_pat_ident(self, i);
        }
    }
    let mut f = F(false);
    f.visit_pat(p);
    f.0
}

/// Methods whose result owns its value (it can be saved): a chain ending in one of them
/// is not made again.
const OWNING: &[&str] = &[
    "len",
    "count",
    "sum",
    "product",
    "is_empty",
    "contains",
    "contains_key",
    "starts_with",
    "ends_with",
    "to_string",
    "to_owned",
    "to_vec",
    "to_uppercase",
    "to_lowercase",
    "clone",
    "cloned",
    "copied",
    "parse",
    "into_owned",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "any",
    "all",
    "fold",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "unwrap_or_default",
    "to_path_buf",
    "to_os_string",
    "to_string_lossy",
    "position",
    "rposition",
];

/// Paths of functions that only make a borrowed view of their arguments.
const VIEWS: &[&str] = &[
    "Path::new",
    "OsStr::new",
    "str::from_utf8",
    "std::str::from_utf8",
];

/// An initializer whose value is (or is built from) borrows of places, a string literal
/// or a closure.
pub fn rerun_class(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(l) => matches!(
            l.lit,
            syn::Lit::Str(_) | syn::Lit::ByteStr(_) | syn::Lit::CStr(_)
        ),
        syn::Expr::Reference(r) => place_like(&r.expr),
        syn::Expr::Closure(_) => true,
        // A closure that changes what it borrows, with the pointers to those locals
        // (`unmove`): made again, as closures are.
        syn::Expr::Call(_) if lends_call(e).is_some() => true,
        // `addr_of!(x)`: where `x` is, again.
        syn::Expr::Macro(_) if is_addr_of(e) => true,
        syn::Expr::Paren(p) => rerun_class(&p.expr),
        syn::Expr::Group(g) => rerun_class(&g.expr),
        // A table of closures (`vec![("double", Box::new(|x| x * 2)), ...]`): made again,
        // as its closures are.
        syn::Expr::Tuple(_) | syn::Expr::Array(_) | syn::Expr::Macro(_) | syn::Expr::Cast(_) => {
            has_closure(e) && made_of_constants(e)
        }
        syn::Expr::Call(_) if has_closure(e) => made_of_constants(e),
        syn::Expr::MethodCall(_) => {
            let chain = method_chain(e);
            let Some((root, methods)) = chain else {
                return false;
            };
            let Some(last) = methods.last() else {
                return false;
            };
            place_like(root)
                && methods.iter().any(|m| borrowing_method(m))
                && !OWNING.contains(&last.as_str())
        }
        syn::Expr::Call(c) => {
            let Some(joined) = super::places::call_path(c) else {
                return false;
            };
            VIEWS.iter().any(|v| joined.ends_with(v))
        }
        _ => false,
    }
}

fn has_closure(e: &syn::Expr) -> bool {
    struct F(bool);
    impl<'a> Visit<'a> for F {
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {
            self.0 = true;
        }
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            if let Some(args) = vec_args(m) {
                args.iter().for_each(|a| self.visit_expr(a));
            }
        }
    }
    let mut f = F(false);
    f.visit_expr(e);
    f.0
}

/// `vec![a, b, ..]`: its elements.
fn vec_args(m: &syn::Macro) -> Option<Vec<syn::Expr>> {
    use syn::punctuated::Punctuated;
    if m.path.segments.last().is_none_or(|s| s.ident != "vec") {
        return None;
    }
    let args = m
        .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    Some(args.into_iter().collect())
}

/// Literals, closures, and tuples, arrays, `vec!`s, `Box::new`/`Rc::new`/`Arc::new`/`Some`
/// and casts of those: evaluating it again gives an equal value (closures capture the
/// locals the resume path restored).
fn made_of_constants(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) | syn::Expr::Closure(_) => true,
        syn::Expr::Paren(p) => made_of_constants(&p.expr),
        syn::Expr::Tuple(t) => t.elems.iter().all(made_of_constants),
        syn::Expr::Array(a) => a.elems.iter().all(made_of_constants),
        syn::Expr::Cast(c) => made_of_constants(&c.expr),
        syn::Expr::Macro(m) => vec_args(&m.mac).is_some_and(|a| a.iter().all(made_of_constants)),
        syn::Expr::Call(c) => {
            let Some(joined) = super::places::call_path(c) else {
                return false;
            };
            ["Box::new", "Rc::new", "Arc::new", "Some"]
                .iter()
                .any(|w| joined == *w || joined.ends_with(&format!("::{w}")))
                && c.args.iter().all(made_of_constants)
        }
        _ => false,
    }
}

/// A place, a string literal, or a borrow of either.
fn place_like(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(p) => p.qself.is_none() && p.path.segments.len() == 1,
        syn::Expr::Field(f) => place_like(&f.base),
        syn::Expr::Index(i) => place_like(&i.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => place_like(&u.expr),
        syn::Expr::Paren(p) => place_like(&p.expr),
        syn::Expr::Reference(r) => place_like(&r.expr),
        syn::Expr::Lit(l) => matches!(l.lit, syn::Lit::Str(_)),
        _ => false,
    }
}

/// `root.m1(..).m2(..)`: the root and the method names, when every argument is free of
/// calls other than closures.
fn method_chain(e: &syn::Expr) -> Option<(&syn::Expr, Vec<String>)> {
    let mut methods = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            syn::Expr::MethodCall(m) => {
                if !m.args.iter().all(simple_arg) {
                    return None;
                }
                // `cell.get()` copies a value out of a `Cell` (it may change behind a shared
                // reference); `v.get(i)` / `map.get(&k)` borrow.
                let name = m.method.to_string();
                if name == "get" && m.args.is_empty() {
                    methods.push("get()".to_string());
                } else {
                    methods.push(name);
                }
                cur = &m.receiver;
            }
            syn::Expr::Try(t) => cur = &t.expr,
            syn::Expr::Paren(p) => cur = &p.expr,
            _ => break,
        }
    }
    methods.reverse();
    Some((cur, methods))
}

fn simple_arg(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) | syn::Expr::Closure(_) | syn::Expr::Path(_) => true,
        syn::Expr::Reference(r) => simple_arg(&r.expr),
        syn::Expr::Range(r) => r.start.iter().chain(r.end.iter()).all(|x| simple_arg(x)),
        syn::Expr::Field(f) => simple_arg(&f.base),
        syn::Expr::Binary(b) => simple_arg(&b.left) && simple_arg(&b.right),
        syn::Expr::Paren(p) => simple_arg(&p.expr),
        syn::Expr::Unary(u) => simple_arg(&u.expr),
        _ => false,
    }
}

/// A `let` whose value holds a mutable borrow (`&mut x`, `x.iter_mut()`, `x.get_mut(i)`).
fn mut_borrowing(l: &syn::Local) -> bool {
    let Some(init) = &l.init else { return false };
    struct F(bool);
    impl<'a> Visit<'a> for F {
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            self.0 |= r.mutability.is_some();
            syn::visit::visit_expr_reference(self, r);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            self.0 |= m.method.to_string().ends_with("_mut");
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = F(false);
    f.visit_expr(&init.expr);
    f.0
}

/// Methods that do not change their receiver.
const READ_ONLY: &[&str] = &[
    "len",
    "is_empty",
    "iter",
    "get",
    "contains",
    "contains_key",
    "clone",
    "to_string",
    "as_str",
    "chars",
    "bytes",
    "lines",
    "split",
    "trim",
    "first",
    "last",
    "keys",
    "values",
    "starts_with",
    "ends_with",
    "find",
    "to_owned",
    "to_vec",
    "as_slice",
    "as_bytes",
    "split_whitespace",
    "char_indices",
    "windows",
    "chunks",
    "range",
    "borrow",
    "as_ref",
    "eq",
    "cmp",
    "partial_cmp",
    "fmt",
    "display",
    "to_lowercase",
    "to_uppercase",
    "parse",
    "binary_search",
    "peek",
    "is_some",
    "is_none",
    "unwrap",
    "expect",
    "copied",
    "cloned",
];

/// Whether a statement may change one of `names`: assigned, borrowed mutably, or the
/// receiver of a method that may change it.
fn mutates_any(s: &syn::Stmt, names: &BTreeSet<String>) -> bool {
    struct F<'a>(&'a BTreeSet<String>, bool);
    fn root(e: &syn::Expr) -> Option<String> {
        match e {
            syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                Some(p.path.segments[0].ident.to_string())
            }
            syn::Expr::Field(f) => root(&f.base),
            syn::Expr::Index(i) => root(&i.expr),
            syn::Expr::Unary(u) => root(&u.expr),
            syn::Expr::Paren(p) => root(&p.expr),
            _ => None,
        }
    }
    impl<'a> Visit<'a> for F<'_> {
        fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
            self.1 |= root(&a.left).is_some_and(|r| self.0.contains(&r));
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'a syn::ExprBinary) {
            if super::places::is_compound_assign(&b.op) {
                self.1 |= root(&b.left).is_some_and(|r| self.0.contains(&r));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            if r.mutability.is_some() {
                self.1 |= root(&r.expr).is_some_and(|n| self.0.contains(&n));
            }
            syn::visit::visit_expr_reference(self, r);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if !READ_ONLY.contains(&m.method.to_string().as_str()) {
                self.1 |= root(&m.receiver).is_some_and(|n| self.0.contains(&n));
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_macro(&mut self, _: &'a syn::Macro) {}
    }
    let mut f = F(names, false);
    f.visit_stmt(s);
    f.1
}

#[cfg(test)]
mod tests;

/// `::ckpt::__private::lends(closure, (p1, p2,))`: the pointers' names.
pub fn lends_call(e: &syn::Expr) -> Option<Vec<String>> {
    let syn::Expr::Call(c) = e else { return None };
    let syn::Expr::Path(p) = &*c.func else {
        return None;
    };
    if p.path.segments.last()?.ident != "lends" || c.args.len() != 2 {
        return None;
    }
    let syn::Expr::Tuple(t) = &c.args[1] else {
        return None;
    };
    t.elems.iter().map(super::vars::ident_of).collect()
}

fn is_addr_of(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Macro(m)
        if m.mac.path.segments.last().is_some_and(|s| s.ident == "addr_of"))
}
