//! Pass `normalize`: control flow around points (DESIGN §4.1).
//!
//! Loops that hold a point become labelled `loop`s: `for` gets a named iterator and a
//! *head* statement that takes the next item, `while` a `break`; unlabelled
//! `break`/`continue` inside them get the label; `if let` with points becomes `match`;
//! arm bodies with points become blocks. Each `for` loop's iterator is saved either whole
//! (ranges, consumed collections, readers' lines, iterables made by a call: it must be
//! `State`) or by the count of items taken (a re-evaluable iterable over a borrowed
//! collection: it must iterate in a stable order); see [`LoopIter`].

use std::collections::BTreeSet;

use proc_macro2::Span;
use quote::{format_ident, ToTokens};
use syn::parse_quote;
use syn::visit_mut::VisitMut;

use super::points::{has_point_block, has_point_expr};

/// std's functions that make an iterator from their arguments alone, the same each time
/// (`iter::zip(&a, &b)`, `iter::repeat(x).take(n)`, `iter::successors(first, next)`): a
/// loop over one is resumed by calling it again, as over a function returning `impl
/// Iterator` (not `from_fn`/`repeat_with`, whose closures may keep state).
const STD_ITER_FNS: &[&str] = &["zip", "repeat", "repeat_n", "once", "successors", "empty"];

/// Method names std's collections, strings, readers and iterators use: a method of the
/// program's own with one of these names (`fn iter(&self) -> impl Iterator`) does not make
/// every `x.iter()` a call to be made again (a std `HashMap`'s `iter()` is resumed by its
/// keys, see `pick_values` and `Replay`).
const STD_ITER_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "keys",
    "values",
    "values_mut",
    "into_keys",
    "into_values",
    "drain",
    "lines",
    "chars",
    "char_indices",
    "bytes",
    "split",
    "split_whitespace",
    "windows",
    "chunks",
    "enumerate",
    "rev",
    "zip",
    "map",
    "filter",
    "filter_map",
    "take",
    "skip",
    "step_by",
    "chain",
    "cloned",
    "copied",
    "peekable",
    "incoming",
    "range",
    "flat_map",
    "flatten",
];

/// A `for` loop's iterator.
pub struct LoopIter {
    /// The local that holds it (`__ckpt_itN`).
    pub var: syn::Ident,
    /// The iterable expression; evaluated again on restore when saved by count.
    pub iterable: syn::Expr,
    /// Saved whole (it must be `State`); otherwise saved as the count of items taken,
    /// rebuilt from `iterable` on restore, and the loop's pattern is bound again by the
    /// head from the rebuilt iterator.
    pub whole: bool,
    /// The iterator holds a mutable borrow (`iter_mut()`, `&mut v`, `values_mut()`): it
    /// and the loop's bindings are made again after each point, so the points' captures
    /// can read the collection.
    pub mut_borrow: bool,
    /// A loop over `X.iter_mut()` / `&mut X` (X a place) binding each item to one name:
    /// an item passed to a call is lent as the part `X[n - 1]` (see `calls`), read
    /// through this pointer to X's root, taken before the loop borrows it.
    pub lend: Option<LoopLend>,
    /// The loop's pattern (after `rename`, see [`Norm::sync_renamed`]).
    pub pat: syn::Pat,
}

#[derive(Default)]
pub struct Norm {
    pub iters: Vec<LoopIter>,
    next_label: u32,
    next_iter: u32,
    /// Locals that read as readers (`BufReader`, `File`, `stdin()`...), whose
    /// `lines()`/`bytes()`/`split()` consume them.
    readers: BTreeSet<String>,
    /// Parameters passed by reference: `for x in v` with `v: &Vec<T>` borrows.
    ref_params: BTreeSet<String>,
    /// Readers lent as `&mut` parameters (`r: &mut BufReader<File>`): their
    /// `lines()`/`bytes()`/`split()` take an item at a time from the reader, which the
    /// caller keeps.
    lent_readers: BTreeSet<String>,
    /// Functions and methods returning `impl Iterator` (`Analysis::iter_fns`).
    pub iter_fns: BTreeSet<String>,
}

impl Norm {
    /// `params`: the parameters' names and types; `ref_params`: those passed by
    /// reference.
    pub fn run(
        &mut self,
        body: &mut syn::Block,
        params: &[(String, String)],
        ref_params: BTreeSet<String>,
    ) {
        self.readers = readers(body, params);
        self.lent_readers = params
            .iter()
            .filter(|(name, ty)| {
                self.readers.contains(name) && ty.replace(' ', "").starts_with("&mut")
            })
            .map(|(name, _)| name.clone())
            .collect();
        self.ref_params = ref_params;
        self.visit_block_mut(body);
    }

    /// `x.values()` / `x.values_mut()` chosen by the type of `x` (see
    /// `ckpt::__private::PickRef`).
    fn pick_values(&self, iterable: &syn::Expr) -> Option<syn::Expr> {
        let syn::Expr::MethodCall(m) = iterable else {
            return None;
        };
        if !m.args.is_empty() || m.turbofish.is_some() {
            return None;
        }
        let x = &m.receiver;
        // A reference parameter is reborrowed (`&mut *m`), anything else borrowed.
        let by_ref = super::vars::ident_of(x).is_some_and(|n| self.ref_params.contains(&n));
        let target: syn::Expr = if by_ref {
            parse_quote!(*#x)
        } else {
            (**x).clone()
        };
        if m.method == "values" {
            Some(parse_quote! {{
                #[allow(unused_imports)]
                use ::ckpt::__private::{ValuesHash as _, ValuesAny as _};
                (&&::ckpt::__private::PickRef(&#target)).__ckpt_values(|__m| __m.values())
            }})
        } else if m.method == "values_mut" {
            Some(parse_quote! {{
                #[allow(unused_imports)]
                use ::ckpt::__private::{ValuesMutHash as _, ValuesMutAny as _};
                (&&::ckpt::__private::PickMut::new(&mut #target)).__ckpt_values_mut(|__m| __m.values_mut())
            }})
        } else {
            None
        }
    }

    pub fn iter(&self, var: &str) -> Option<&LoopIter> {
        self.iters.iter().find(|i| i.var == var)
    }

    /// Takes the loops' patterns and iterables from the renamed body (the head
    /// statements hold them).
    pub fn sync_renamed(&mut self, body: &syn::Block) {
        struct Heads<'a>(&'a mut Vec<LoopIter>);
        impl<'ast> syn::visit::Visit<'ast> for Heads<'_> {
            fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
                if let Some((pat, var)) = head_iter(s) {
                    if let Some(it) = self.0.iter_mut().find(|i| i.var == var) {
                        it.pat = pat.clone();
                    }
                }
                if let syn::Stmt::Local(l) = s {
                    if let (syn::Pat::Ident(pi), Some(init)) = (&l.pat, &l.init) {
                        let var = pi.ident.to_string();
                        if let Some(it) = self.0.iter_mut().find(|i| i.var == var) {
                            if let Some(e) = counted_iterable(&init.expr) {
                                it.iterable = e.clone();
                            }
                        }
                    }
                }
                syn::visit::visit_stmt(self, s);
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        syn::visit::Visit::visit_block(&mut Heads(&mut self.iters), body);
    }

    fn label(&mut self, existing: &Option<syn::Label>) -> syn::Lifetime {
        match existing {
            Some(l) => l.name.clone(),
            None => {
                self.next_label += 1;
                syn::Lifetime::new(&format!("'__ckpt_l{}", self.next_label), Span::call_site())
            }
        }
    }

    /// `for PAT in r.lines() { … }` over a reader lent as `&mut` (see `lent_readers`):
    /// the loop's condition, which takes the next item through a fresh iterator, so that
    /// no iterator lives across the loop's points. std's `Lines`, `Bytes` and `Split` keep
    /// nothing but the reader, and the reader (with its buffer) is the caller's, saved in
    /// the caller's frame and lent again on resume.
    fn per_item(&self, iterable: &syn::Expr) -> Option<syn::Expr> {
        let syn::Expr::MethodCall(m) = iterable else {
            return None;
        };
        if !matches!(m.method.to_string().as_str(), "lines" | "bytes" | "split") {
            return None;
        }
        let r = super::vars::ident_of(&m.receiver)?;
        if !self.lent_readers.contains(&r) {
            return None;
        }
        let (r, method, args) = (format_ident!("{}", r), &m.method, &m.args);
        Some(parse_quote!(::core::iter::Iterator::next(&mut (&mut *#r).#method(#args))))
    }

    /// A loop over a call of a function or method returning `impl Iterator` (`evens(n)`,
    /// `self.open_orders()`, maybe under adapters): the call wrapped in ckpt's `remade`,
    /// so that the loop is saved by count and resumed by calling it again (its type is
    /// opaque: neither saved whole nor known to iterate in a stable order). True if so.
    fn wrap_remade(&self, iterable: &mut syn::Expr) -> bool {
        let mut cur = iterable;
        loop {
            let hit = match &*cur {
                syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| {
                    let n = s.ident.to_string();
                    self.iter_fns.contains(&n) || STD_ITER_FNS.contains(&n.as_str())
                })),
                syn::Expr::MethodCall(m) => {
                    let n = m.method.to_string();
                    self.iter_fns.contains(&n) && !STD_ITER_METHODS.contains(&n.as_str())
                }
                _ => false,
            };
            if hit {
                let inner = cur.clone();
                *cur = parse_quote!(::ckpt::__private::remade(#inner));
                return true;
            }
            cur = match cur {
                syn::Expr::MethodCall(m) => &mut m.receiver,
                syn::Expr::Paren(p) => &mut p.expr,
                _ => return false,
            };
        }
    }

    /// Whether a loop over `iterable` saves its iterator whole.
    fn whole(&self, iterable: &syn::Expr) -> bool {
        let consumed =
            |e: &syn::Expr| moved_local(e).is_some_and(|v| !self.ref_params.contains(&v));
        consumed(iterable)
            || consumed(adapted(iterable))
            || matches!(chain_root(iterable), syn::Expr::Struct(_))
            || is_ckpt_enumerate(iterable)
            || is_range(iterable)
            || has_plain_call(iterable)
            || matches!(iterable, syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "lines" | "bytes" | "split")
                    && super::vars::ident_of(unlocked(&m.receiver))
                        .is_some_and(|r| self.readers.contains(&r)))
            || matches!(iterable, syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "drain" | "into_values" | "into_keys"))
            // A listener's connections (`listener.incoming()`): the iterator has no
            // position, it is saved as the listener it takes from.
            || matches!(iterable, syn::Expr::MethodCall(m)
                if m.method == "incoming" && m.args.is_empty())
    }
}

/// `ROOT.filter(p).map(f).filter_map(g)` (and `copied()`, `cloned()`): ROOT and the
/// adapters, innermost first, when each adapter takes one closure that is not `move` (made again for each item, it
/// borrows what it would have borrowed once) and ROOT walks a collection (`x.iter()`,
/// `x.keys()`, `x.values()`, `x.into_iter()`, `&x`...).
fn adapted_chain(e: &syn::Expr) -> Option<(syn::Expr, Vec<(String, syn::Expr)>)> {
    let mut steps = Vec::new();
    let mut cur = e;
    while let syn::Expr::MethodCall(m) = cur {
        let name = m.method.to_string();
        if matches!(name.as_str(), "copied" | "cloned") && m.args.is_empty() {
            steps.push((name, parse_quote!(())));
            cur = &m.receiver;
            continue;
        }
        if !matches!(name.as_str(), "filter" | "map" | "filter_map") {
            break;
        }
        let (Some(arg), 1, None) = (m.args.first(), m.args.len(), &m.turbofish) else {
            return None;
        };
        match arg {
            syn::Expr::Closure(c) if c.capture.is_none() && c.asyncness.is_none() => {}
            _ => return None,
        }
        steps.push((name, arg.clone()));
        cur = &m.receiver;
    }
    if steps.is_empty() {
        return None;
    }
    if !walks_collection(cur) {
        return None;
    }
    steps.reverse();
    Some((cur.clone(), steps))
}

/// `x.iter()`, `x.keys()`, `x.values()`, `x.into_iter()`, `&x`..., possibly under
/// `enumerate()`, `rev()`.
fn walks_collection(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::MethodCall(m) if m.args.is_empty() => match m.method.to_string().as_str() {
            "iter" | "iter_mut" | "keys" | "values" | "values_mut" | "into_iter" | "into_keys"
            | "into_values" | "chars" | "bytes" => true,
            "enumerate" | "rev" => walks_collection(&m.receiver),
            _ => false,
        },
        syn::Expr::Reference(_) => true,
        _ => false,
    }
}

/// A reader behind `.lock()` (`stdin.lock()`): the reader itself.
fn unlocked(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::MethodCall(m) if m.method == "lock" && m.args.is_empty() => {
            unlocked(&m.receiver)
        }
        _ => e,
    }
}

/// The name of the local a `for` head statement takes from: `__ckpt_itN` in
/// `let Some(PAT) = Iterator::next(&mut __ckpt_itN) else { break 'l; };`.
pub fn head_iter(s: &syn::Stmt) -> Option<(&syn::Pat, String)> {
    let syn::Stmt::Local(l) = s else { return None };
    let init = l.init.as_ref()?;
    init.diverge.as_ref()?;
    let syn::Expr::Call(c) = &*init.expr else {
        return None;
    };
    let syn::Expr::Path(f) = &*c.func else {
        return None;
    };
    if f.path.segments.last()?.ident != "next" || c.args.len() != 1 {
        return None;
    }
    let syn::Expr::Reference(r) = &c.args[0] else {
        return None;
    };
    let var = super::vars::ident_of(&r.expr)?;
    if !var.starts_with("__ckpt_it") {
        return None;
    }
    let syn::Pat::TupleStruct(ts) = &l.pat else {
        return None;
    };
    Some((ts.elems.first()?, var))
}

/// The iterator a loop takes from `iterable`: `IntoIterator::into_iter(iterable)`, a hash
/// map's or set's collected in this run's order (see `ckpt::__private::Order`).
pub fn ordered(iterable: &syn::Expr) -> proc_macro2::TokenStream {
    quote::quote! {{
        #[allow(unused_imports)]
        use ::ckpt::__private::{OrderAny as _, OrderHash as _};
        (&&::ckpt::__private::Order::new(::core::iter::IntoIterator::into_iter(#iterable))).__ckpt_order()
    }}
}

/// `ITERABLE` in the loop's `Counted::new(… into_iter(ITERABLE) …)`.
fn counted_iterable(e: &syn::Expr) -> Option<&syn::Expr> {
    struct F<'a>(Option<&'a syn::Expr>);
    impl<'a> syn::visit::Visit<'a> for F<'a> {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            if self.0.is_some() {
                return;
            }
            if let syn::Expr::Path(p) = &*c.func {
                if p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "into_iter")
                {
                    self.0 = c.args.first();
                    return;
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut f = F(None);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

fn is_ckpt_enumerate(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p)
        if p.path.segments.last().is_some_and(|s| s.ident == "enumerate")
            && p.path.segments.iter().any(|s| s.ident == "__private")))
}

fn is_range(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Range(_) => true,
        syn::Expr::Paren(p) => is_range(&p.expr),
        _ => false,
    }
}

/// A call of a function or a macro (not a method) outside closures: an iterable made by
/// it cannot be made again without running it again.
/// What adapters (`skip`, `take`, `step_by`, `enumerate`, `rev`, `zip`..., ending a method
/// chain) adapt: `v.into_iter()` in `v.into_iter().skip(1)`.
fn adapted(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "skip" | "take" | "step_by" | "enumerate" | "rev" | "peekable" | "fuse"
            ) =>
        {
            adapted(&m.receiver)
        }
        syn::Expr::Paren(p) => adapted(&p.expr),
        other => other,
    }
}

/// The receiver at the start of a method chain (`Fib {..}` in `(Fib {..}).take(3)`).
fn chain_root(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::MethodCall(m) => chain_root(&m.receiver),
        syn::Expr::Paren(p) => chain_root(&p.expr),
        other => other,
    }
}

/// `x.take(n)`, `x.skip(n)`, `x.step_by(n)` (and `enumerate()`) at the end of a loop's
/// iterable, as ckpt's adapters.
fn lift_adapters(e: syn::Expr) -> syn::Expr {
    let syn::Expr::MethodCall(m) = e else {
        return e;
    };
    let name = m.method.to_string();
    let inner = lift_adapters((*m.receiver).clone());
    match (name.as_str(), m.args.len()) {
        ("take" | "skip" | "step_by", 1) => {
            let f = format_ident!("{}", name);
            let arg = &m.args[0];
            parse_quote!(::ckpt::__private::#f(#inner, #arg))
        }
        ("enumerate", 0) => parse_quote!(::ckpt::__private::enumerate(#inner)),
        _ => syn::Expr::MethodCall(m),
    }
}

fn has_plain_call(e: &syn::Expr) -> bool {
    struct F(bool);
    impl<'a> syn::visit::Visit<'a> for F {
        fn visit_expr_call(&mut self, _: &'a syn::ExprCall) {
            self.0 = true;
        }
        fn visit_expr_macro(&mut self, _: &'a syn::ExprMacro) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = F(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// Declares every binding of a pattern `mut`.
fn make_mut(p: &mut syn::Pat) {
    struct M;
    impl VisitMut for M {
        fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
            if i.by_ref.is_none() {
                i.mutability = Some(Default::default());
            }
            syn::visit_mut::visit_pat_ident_mut(self, i);
        }
    }
    M.visit_pat_mut(p);
}

/// Whether an iterable borrows mutably.
fn borrows_mut(e: &syn::Expr) -> bool {
    struct F(bool);
    impl<'a> syn::visit::Visit<'a> for F {
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            if r.mutability.is_some() {
                self.0 = true;
            }
            syn::visit::visit_expr_reference(self, r);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            let n = m.method.to_string();
            if n.ends_with("_mut") || n == "drain" {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = F(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// See [`LoopIter::lend`].
#[derive(Clone, Debug)]
pub struct LoopLend {
    /// The collection `X`.
    pub coll: syn::Expr,
    /// `__ckpt_lpN`: `addr_of!(root of X)`.
    pub ptr: syn::Ident,
}

/// `X` in `X.iter_mut()` / `&mut X`, when X is a place.
fn lent_collection(iterable: &syn::Expr) -> Option<&syn::Expr> {
    let x = match iterable {
        syn::Expr::MethodCall(m) if m.method == "iter_mut" && m.args.is_empty() => &*m.receiver,
        syn::Expr::Reference(r) if r.mutability.is_some() => &*r.expr,
        _ => return None,
    };
    super::places::is_place(x).then_some(x)
}

/// The local at the root of a place (`self` in `self.tasks`).
fn place_root(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(_) => super::vars::ident_of(e),
        syn::Expr::Field(f) => place_root(&f.base),
        syn::Expr::Index(i) => place_root(&i.expr),
        syn::Expr::Paren(p) => place_root(&p.expr),
        syn::Expr::Unary(u) => place_root(&u.expr),
        _ => None,
    }
}

/// `(a, b)`: its two patterns.
fn pair_pattern(p: &syn::Pat) -> Option<(syn::Pat, syn::Pat)> {
    match p {
        syn::Pat::Tuple(t) if t.elems.len() == 2 => Some((t.elems[0].clone(), t.elems[1].clone())),
        syn::Pat::Paren(p) => pair_pattern(&p.pat),
        _ => None,
    }
}

/// In an iterable like `x.borrow().iter()` or `make().chars()`, the temporary a borrowing
/// method borrows (`x.borrow()`, `make()`): replaced by a local `__ckpt_srcN`, returned
/// as its `let`.
fn borrowed_temporary(iterable: &mut syn::Expr, n: u32) -> Option<syn::Stmt> {
    let mut cur = iterable;
    loop {
        match cur {
            syn::Expr::MethodCall(m) => {
                let borrows = super::places::borrowing_method(&m.method.to_string());
                let temporary = match &*m.receiver {
                    syn::Expr::Call(_) => true,
                    // A guard (`borrow()`) is a value; `trim()` / `as_str()` are borrows.
                    syn::Expr::MethodCall(r) => {
                        let name = r.method.to_string();
                        matches!(name.as_str(), "borrow" | "borrow_mut")
                            || !super::places::borrowing_method(&name)
                    }
                    _ => false,
                };
                if borrows && temporary {
                    let src = format_ident!("__ckpt_src{}", n);
                    let value = std::mem::replace(&mut *m.receiver, parse_quote!(#src));
                    if m.method.to_string().ends_with("_mut") {
                        return Some(parse_quote! { let mut #src = #value; });
                    }
                    return Some(parse_quote! { let #src = #value; });
                }
                cur = &mut *m.receiver;
            }
            syn::Expr::Paren(p) => cur = &mut *p.expr,
            _ => return None,
        }
    }
}

/// `v` in `for x in v` / `for x in v.into_iter()`: a local the loop consumes.
/// The local a loop's iterable consumes, through ckpt's adapters
/// (`::ckpt::__private::enumerate(jobs)`, `take(jobs, 3)`) and `into_iter()`.
pub fn consumed_root(iterable: &syn::Expr) -> Option<String> {
    match iterable {
        syn::Expr::Call(c)
            if matches!(&*c.func, syn::Expr::Path(p)
                if p.path.segments.iter().any(|s| s.ident == "__private")) =>
        {
            consumed_root(c.args.first()?)
        }
        syn::Expr::Paren(p) => consumed_root(&p.expr),
        other => moved_local(other),
    }
}

pub fn moved_local(iterable: &syn::Expr) -> Option<String> {
    use super::vars::ident_of;
    match iterable {
        syn::Expr::Path(_) => ident_of(iterable),
        syn::Expr::MethodCall(m) if m.method == "into_iter" && m.args.is_empty() => {
            ident_of(&m.receiver)
        }
        _ => None,
    }
}

/// Gives unlabelled `break`/`continue` of one loop body the loop's label.
struct Relabel<'a>(&'a syn::Lifetime);
impl VisitMut for Relabel<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Break(b) if b.label.is_none() => {
                b.label = Some(self.0.clone());
                if let Some(v) = &mut b.expr {
                    self.visit_expr_mut(v);
                }
            }
            syn::Expr::Continue(c) if c.label.is_none() => c.label = Some(self.0.clone()),
            syn::Expr::Loop(_) | syn::Expr::While(_) | syn::Expr::ForLoop(_) => {}
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl VisitMut for Norm {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        // `l && r` / `l || r` with a point in `r`: `r` runs only sometimes, so it becomes
        // a branch: `if l { r } else { false }` / `if l { true } else { r }`.
        if let syn::Expr::Binary(b) = e {
            if has_point_expr(&b.right) {
                let (l, r) = (&b.left, &b.right);
                match b.op {
                    syn::BinOp::And(_) => *e = parse_quote!((if #l { #r } else { false })),
                    syn::BinOp::Or(_) => *e = parse_quote!((if #l { true } else { #r })),
                    _ => {}
                }
            }
        }
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => return,
            syn::Expr::ForLoop(f)
                if has_point_block(&f.body) && adapted_chain(&f.expr).is_some() =>
            {
                // `for PAT in ROOT.filter(p).map(f)… { BODY }` with a point in BODY: the loop
                // over ROOT (resumed however ROOT's loop is), the adapters applied to each
                // item at the top of the body, in the same order the lazy chain would apply
                // them. So a chain over a hash map resumes like a loop over the map.
                self.next_iter += 1;
                let v = format_ident!("__ckpt_v{}", self.next_iter);
                let (root, steps) = adapted_chain(&f.expr).expect("checked");
                let mut stmts: Vec<syn::Stmt> = Vec::new();
                for (method, arg) in steps {
                    stmts.push(match method.as_str() {
                        "filter" => parse_quote! {
                            if !::ckpt::__private::lowered_filter(&#v, #arg) { continue; }
                        },
                        "map" => parse_quote! {
                            let #v = ::ckpt::__private::lowered_map(#v, #arg);
                        },
                        "copied" => parse_quote! { let #v = *#v; },
                        "cloned" => parse_quote! { let #v = ::core::clone::Clone::clone(#v); },
                        _ => parse_quote! {
                            let ::core::option::Option::Some(#v) =
                                ::ckpt::__private::lowered_filter_map(#v, #arg) else { continue; };
                        },
                    });
                }
                let (label, pat, body) = (&f.label, &f.pat, &f.body);
                let body_stmts = &body.stmts;
                *e = parse_quote! {
                    #label for #v in #root {
                        #(#stmts)*
                        let #pat = #v;
                        #(#body_stmts)*
                    }
                };
                self.visit_expr_mut(e);
                return;
            }
            syn::Expr::ForLoop(f)
                if has_point_block(&f.body) && self.per_item(&f.expr).is_some() =>
            {
                let next = self.per_item(&f.expr);
                let (label, pat, body) = (&f.label, &f.pat, &f.body);
                *e = parse_quote! {
                    #label while let ::core::option::Option::Some(#pat) = #next #body
                };
                self.visit_expr_mut(e);
                return;
            }
            syn::Expr::ForLoop(f) if has_point_block(&f.body) => {
                let label = self.label(&f.label);
                self.next_iter += 1;
                let var = format_ident!("__ckpt_it{}", self.next_iter);
                let mut iterable = (*f.expr).clone();
                let remade = self.wrap_remade(&mut iterable);
                let mut pat = (*f.pat).clone();
                let mut counter = None;
                // `x.enumerate()` over an iterator saved whole: ckpt's enumerate, which is
                // `State` when what it adapts is. Over any other, with a `(n, item)`
                // pattern: the loop over `x`, and `n` counted by the loop itself, so that
                // `m.values().enumerate()` over a hash map is resumed like `m.values()`.
                if let syn::Expr::MethodCall(m) = &iterable {
                    if m.method == "enumerate" && m.args.is_empty() {
                        if !remade && self.whole(&m.receiver) {
                            let inner = &m.receiver;
                            iterable = parse_quote!(::ckpt::__private::enumerate(#inner));
                        } else if let Some((n_pat, item_pat)) = pair_pattern(&pat) {
                            let n = format_ident!("__ckpt_n{}", self.next_iter);
                            counter = Some((n, n_pat));
                            iterable = (*m.receiver).clone();
                            pat = item_pat;
                        }
                    }
                }
                // `m.values()` / `m.values_mut()` of a std hash map: its values with the
                // keys its loop is saved by (of anything else: as written).
                let whole = !remade && self.whole(&iterable);
                if let Some(picked) = self.pick_values(&iterable) {
                    iterable = picked;
                }
                // An iterator saved whole keeps `take`/`skip`/`step_by` as ckpt's adapters,
                // which are `State` when what they adapt is.
                if whole {
                    iterable = lift_adapters(iterable);
                }
                // `for c in node.children.borrow().iter()`: the temporary the loop borrows
                // lives as long as the loop, as in a `for`.
                let source = borrowed_temporary(&mut iterable, self.next_iter);
                let mut body = f.body.clone();
                Relabel(&label).visit_block_mut(&mut body);
                let (count_init, count_step) = match &counter {
                    Some((n, n_pat)) => (
                        quote::quote! { let mut #n: usize = 0; },
                        quote::quote! { let #n_pat = #n; #n += 1; },
                    ),
                    None => Default::default(),
                };
                let stmts = &body.stmts;
                let lend = match (lent_collection(&iterable), &pat) {
                    (Some(x), syn::Pat::Ident(pi)) if pi.subpat.is_none() => {
                        place_root(x).map(|root| (x.clone(), root))
                    }
                    _ => None,
                };
                let (lend, lend_ptr) = match lend {
                    Some((coll, root)) => {
                        let ptr = format_ident!("__ckpt_lp{}", self.next_iter);
                        let r = format_ident!("{}", root);
                        let place: syn::Expr = if self.ref_params.contains(&root) {
                            parse_quote!(*#r)
                        } else {
                            parse_quote!(#r)
                        };
                        let stmt: syn::Stmt =
                            parse_quote! { let #ptr = ::core::ptr::addr_of!(#place); };
                        (Some(LoopLend { coll, ptr }), Some(stmt))
                    }
                    None => (None, None),
                };
                self.iters.push(LoopIter {
                    var: var.clone(),
                    whole,
                    mut_borrow: borrows_mut(&iterable),
                    lend: lend.filter(|_| borrows_mut(&iterable)),
                    iterable: iterable.clone(),
                    pat: pat.clone(),
                });
                let ordered = ordered(&iterable);
                // A loop over a mutable borrow makes its bindings again after each point:
                // they are assigned, so `mut`.
                if borrows_mut(&iterable) {
                    make_mut(&mut pat);
                }
                *e = parse_quote! {{
                    #source
                    #count_init
                    #lend_ptr
                    let mut #var = ::ckpt::__private::Counted::new(#ordered);
                    #label: loop {
                        #[allow(unused_mut)]
                        let ::core::option::Option::Some(#pat) = ::core::iter::Iterator::next(&mut #var) else { break #label; };
                        #count_step
                        #(#stmts)*
                    }
                }};
            }
            syn::Expr::While(w) if has_point_block(&w.body) || has_point_expr(&w.cond) => {
                let label = self.label(&w.label);
                let mut body = w.body.clone();
                Relabel(&label).visit_block_mut(&mut body);
                let stmts = &body.stmts;
                let head: syn::Stmt = match &*w.cond {
                    syn::Expr::Let(l) => {
                        let (pat, init) = (&l.pat, &l.expr);
                        parse_quote! { let #pat = #init else { break #label; }; }
                    }
                    c => parse_quote! { if !(#c) { break #label; } },
                };
                *e = parse_quote! { #label: loop { #head #(#stmts)* } };
            }
            syn::Expr::Loop(l) if has_point_block(&l.body) => {
                let label = self.label(&l.label);
                Relabel(&label).visit_block_mut(&mut l.body);
                l.label = Some(syn::Label {
                    name: label,
                    colon_token: Default::default(),
                });
            }
            syn::Expr::If(i)
                if matches!(&*i.cond, syn::Expr::Let(_))
                    && (has_point_block(&i.then_branch)
                        || has_point_expr(&i.cond)
                        || i.else_branch
                            .as_ref()
                            .is_some_and(|(_, b)| has_point_expr(b))) =>
            {
                let syn::Expr::Let(l) = &*i.cond else {
                    unreachable!()
                };
                let (pat, scrut, then) = (&l.pat, &l.expr, &i.then_branch);
                let otherwise: syn::Expr = match &i.else_branch {
                    Some((_, b)) => (**b).clone(),
                    None => parse_quote!({}),
                };
                *e = parse_quote! { match #scrut { #pat => #then, _ => #otherwise } };
            }
            _ => {}
        }
        // An `else if` with points becomes `else { if … }`: a block, split like any.
        if let syn::Expr::If(i) = e {
            if let Some((_, els)) = &mut i.else_branch {
                if !matches!(&**els, syn::Expr::Block(_)) && has_point_expr(els) {
                    let inner = (**els).clone();
                    **els = parse_quote!({ #inner });
                }
            }
        }
        // Arm bodies with points become blocks so they can be split.
        if let syn::Expr::Match(m) = e {
            for arm in &mut m.arms {
                if has_point_expr(&arm.body) && !matches!(&*arm.body, syn::Expr::Block(_)) {
                    let b = &arm.body;
                    *arm.body = parse_quote!({ #b });
                    arm.comma = Some(Default::default());
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `let x = f(..)` (also `f(..)?`, `f(..).expect(..)`, `f(..).unwrap()`) where `f` is a
/// plain function returning a std reader (`reader_fns`, from the analysis): the
/// initializer becomes `(&&AdoptReader::new(..)).__ckpt_adopt()`, which turns std's
/// `BufReader<File>` or `File` into ckpt's (and leaves any other type as it is), so the
/// local is a reader ckpt saves, and its `lines()` loops are saved whole.
pub fn adopt_readers(body: &mut syn::Block, reader_fns: &BTreeSet<String>) {
    if reader_fns.is_empty() {
        return;
    }
    fn calls_reader_fn(e: &syn::Expr, fns: &BTreeSet<String>) -> bool {
        match e {
            syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| fns.contains(&s.ident.to_string()))),
            syn::Expr::Try(t) => calls_reader_fn(&t.expr, fns),
            syn::Expr::Paren(p) => calls_reader_fn(&p.expr, fns),
            syn::Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "expect" | "unwrap" | "unwrap_or_else" | "context" | "with_context"
                ) =>
            {
                calls_reader_fn(&m.receiver, fns)
            }
            _ => false,
        }
    }
    struct Lets<'a>(&'a BTreeSet<String>);
    impl VisitMut for Lets<'_> {
        fn visit_local_mut(&mut self, l: &mut syn::Local) {
            syn::visit_mut::visit_local_mut(self, l);
            let Some(init) = &mut l.init else { return };
            if init.diverge.is_some() {
                return;
            }
            let adopt = |e: &mut syn::Expr| {
                *e = parse_quote! {{
                    #[allow(unused_imports)]
                    use ::ckpt::__private::{AdoptAny as _, AdoptBufFile as _, AdoptFile as _};
                    (&&::ckpt::__private::AdoptReader::new(#e)).__ckpt_adopt()
                }};
            };
            if calls_reader_fn(&init.expr, self.0) {
                adopt(&mut init.expr);
                return;
            }
            // `BufReader::new(open_file(..)?)`, `BufReader::with_capacity(n, open_file(..)?)`.
            let mut at = &mut *init.expr;
            while let syn::Expr::Try(syn::ExprTry { expr: t, .. })
            | syn::Expr::Paren(syn::ExprParen { expr: t, .. }) = at
            {
                at = &mut **t;
            }
            if let syn::Expr::Call(c) = at {
                let wraps = matches!(&*c.func, syn::Expr::Path(p)
                    if p.path.segments.len() >= 2
                        && p.path.segments[p.path.segments.len() - 2].ident == "BufReader");
                if let Some(arg) = c.args.last_mut().filter(|_| wraps) {
                    if calls_reader_fn(arg, self.0) {
                        adopt(arg);
                    }
                }
            }
        }
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    Lets(reader_fns).visit_block_mut(body);
}

/// Words in a local's type or initializer that make it a reader (`BufReader::new(..)`,
/// `File::open(..)`, `stdin().lock()`, `r: impl BufRead`, a reader adopted from a plain
/// function, see [`adopt_readers`]): `BufRead::lines`, `BufRead::split` and `Read::bytes`
/// consume such a local.
const READER_WORDS: &[&str] = &[
    "AdoptReader",
    "BufReader",
    "File",
    "stdin",
    "Stdin",
    "StdinLock",
    "BufRead",
    "Read",
    "Cursor",
    "TcpStream",
    "UnixStream",
    "ChildStdout",
    "Chain",
    "Take",
];

/// The locals that are readers by their declaration (parameters' types, `let`s'
/// patterns and initializers).
fn readers(body: &syn::Block, params: &[(String, String)]) -> BTreeSet<String> {
    let mut readers = BTreeSet::new();
    // Identifiers only: a word inside a string literal ("Read failed") does not count.
    fn idents(ts: proc_macro2::TokenStream, out: &mut Vec<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
                proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                _ => {}
            }
        }
    }
    let is_reader = |tokens: &str| {
        let mut words = Vec::new();
        if let Ok(ts) = tokens.parse::<proc_macro2::TokenStream>() {
            idents(ts, &mut words);
        }
        words.iter().any(|w| READER_WORDS.contains(&w.as_str()))
    };
    for (name, ty) in params {
        if is_reader(ty) {
            readers.insert(name.clone());
        }
    }
    struct Lets<'a>(&'a mut Vec<(String, String)>);
    impl<'ast> syn::visit::Visit<'ast> for Lets<'_> {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            let tokens = format!(
                "{} {}",
                l.pat.to_token_stream(),
                l.init
                    .as_ref()
                    .map(|i| i.expr.to_token_stream())
                    .unwrap_or_default()
            );
            let mut names = Vec::new();
            super::vars::bindings(&l.pat, false, &mut names);
            for b in names {
                self.0.push((b.name.to_string(), tokens.clone()));
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut lets = Vec::new();
    syn::visit::Visit::visit_block(&mut Lets(&mut lets), body);
    for (name, tokens) in lets {
        if is_reader(&tokens) {
            readers.insert(name);
        }
    }
    readers
}

#[cfg(test)]
mod tests;
