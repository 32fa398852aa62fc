//! Pass 2: normalize control flow around points (DESIGN §4.1).
//!
//! Loops that hold a point become labelled `loop`s (`for` gets a named, saved iterator;
//! `while` a `break`); unlabelled `break`/`continue` inside them get the label; `if let`
//! with points becomes `match`; points in conditions and scrutinees, and statements with
//! several points, are evaluated into `__ckpt_t` temporaries first, in source order.

use proc_macro2::Span;
use quote::format_ident;
use quote::ToTokens;
use std::collections::BTreeSet;
use syn::parse_quote;
use syn::visit_mut::VisitMut;

use super::points::{has_point_block, has_point_expr, has_point_stmt, marker_id};

/// A `for` loop's iterator: the local that holds it and the iterable expression,
/// re-evaluated on restore when the iterator is saved by count.
pub struct LoopIter {
    pub var: syn::Ident,
    pub iterable: syn::Expr,
    /// The local the loop consumes (`v` in `for x in v`, `for l in reader.lines()`): not
    /// saved, the iterator is saved whole instead. Set by [`mark_consumed`].
    pub consumes: Option<String>,
}

#[derive(Default)]
pub struct Norm {
    pub iters: Vec<LoopIter>,
    next_label: u32,
    next_temp: u32,
    next_iter: u32,
}

impl Norm {
    pub fn run(&mut self, body: &mut syn::Block) {
        self.visit_block_mut(body);
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

    fn temp(&mut self) -> syn::Ident {
        self.next_temp += 1;
        format_ident!("__ckpt_t{}", self.next_temp)
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
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => return,
            syn::Expr::ForLoop(f) if has_point_block(&f.body) => {
                let label = self.label(&f.label);
                self.next_iter += 1;
                let var = format_ident!("__ckpt_it{}", self.next_iter);
                let iterable = (*f.expr).clone();
                let pat = &f.pat;
                let mut body = f.body.clone();
                Relabel(&label).visit_block_mut(&mut body);
                let stmts = &body.stmts;
                self.iters.push(LoopIter {
                    var: var.clone(),
                    iterable: iterable.clone(),
                    consumes: None,
                });
                *e = parse_quote! {{
                    let mut #var = ::ckpt::__private::Counted::new(::core::iter::IntoIterator::into_iter(#iterable));
                    #label: loop {
                        let ::core::option::Option::Some(#pat) = ::core::iter::Iterator::next(&mut #var) else { break #label; };
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
        // Points in an `else if` condition need a block to be hoisted into.
        if let syn::Expr::If(i) = e {
            if let Some((_, els)) = &mut i.else_branch {
                if let syn::Expr::If(inner) = &**els {
                    if has_point_expr(&inner.cond) {
                        let inner = (**els).clone();
                        **els = parse_quote!({ #inner });
                    }
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

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mut out = Vec::with_capacity(b.stmts.len());
        for mut s in std::mem::take(&mut b.stmts) {
            // A marker alone in a statement re-parses as a statement macro: keep it an expression.
            if let syn::Stmt::Macro(m) = &s {
                if m.mac.path.is_ident(super::points::MARKER) {
                    let semi = m.semi_token;
                    s = syn::Stmt::Expr(
                        syn::Expr::Macro(syn::ExprMacro {
                            attrs: m.attrs.clone(),
                            mac: m.mac.clone(),
                        }),
                        semi,
                    );
                }
            }
            self.visit_stmt_mut(&mut s);
            if has_point_stmt(&s) {
                let all = units_stmt(&s) >= 2;
                let mut h = Hoist {
                    norm: self,
                    pre: Vec::new(),
                    all,
                };
                h.visit_stmt_mut(&mut s);
                out.extend(h.pre);
            }
            out.push(s);
        }
        b.stmts = out;
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// How many separately resumable units a statement holds: points, and structured
/// expressions (`if`, `match`, loops, blocks) with points in their bodies.
fn units_stmt(s: &syn::Stmt) -> usize {
    match s {
        syn::Stmt::Local(l) => l.init.as_ref().map_or(0, |i| units(&i.expr)),
        syn::Stmt::Expr(e, _) => units(e),
        _ => 0,
    }
}

fn units(e: &syn::Expr) -> usize {
    if marker_id(e).is_some() {
        return 1;
    }
    match e {
        syn::Expr::Closure(_) | syn::Expr::Async(_) => 0,
        syn::Expr::If(i) => {
            let branches = has_point_block(&i.then_branch)
                || i.else_branch
                    .as_ref()
                    .is_some_and(|(_, b)| has_point_expr(b));
            units(&i.cond) + branches as usize
        }
        syn::Expr::Match(m) => {
            units(&m.expr) + m.arms.iter().any(|a| has_point_expr(&a.body)) as usize
        }
        syn::Expr::Loop(_)
        | syn::Expr::Block(_)
        | syn::Expr::Unsafe(_)
        | syn::Expr::While(_)
        | syn::Expr::ForLoop(_) => has_point_expr(e) as usize,
        _ => {
            let mut n = Counter(0);
            syn::visit::visit_expr(&mut n, e);
            n.0
        }
    }
}

/// Sums `units` over the direct sub-expressions of an expression.
struct Counter(usize);
impl<'a> syn::visit::Visit<'a> for Counter {
    fn visit_expr(&mut self, e: &'a syn::Expr) {
        self.0 += units(e);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// Moves points out of conditions and scrutinees (always) and every unit of a
/// statement with several (when `all`), into `let __ckpt_tN = ...;` before it.
struct Hoist<'a> {
    norm: &'a mut Norm,
    pre: Vec<syn::Stmt>,
    all: bool,
}

impl Hoist<'_> {
    fn take(&mut self, e: &mut syn::Expr) {
        let t = self.norm.temp();
        let value = std::mem::replace(e, parse_quote!(#t));
        self.pre.push(parse_quote! { let #t = #value; });
    }

    fn with_all(&mut self, all: bool, e: &mut syn::Expr) {
        let saved = std::mem::replace(&mut self.all, all);
        self.visit_expr_mut(e);
        self.all = saved;
    }
}

impl VisitMut for Hoist<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if marker_id(e).is_some() {
            if self.all {
                self.take(e);
            }
            return;
        }
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            syn::Expr::If(i) => {
                self.with_all(true, &mut i.cond);
                if self.all && units(e) > 0 {
                    self.take(e);
                }
            }
            syn::Expr::Match(m) => {
                self.with_all(true, &mut m.expr);
                if self.all && m.arms.iter().any(|a| has_point_expr(&a.body)) {
                    self.take(e);
                }
            }
            syn::Expr::Loop(_)
            | syn::Expr::Block(_)
            | syn::Expr::Unsafe(_)
            | syn::Expr::While(_)
            | syn::Expr::ForLoop(_) => {
                if self.all && has_point_expr(e) {
                    self.take(e);
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Words in a local's type or initializer that make it a reader (`BufReader::new(..)`,
/// `File::open(..)`, `stdin().lock()`, `r: impl BufRead`): `BufRead::lines`,
/// `BufRead::split` and `Read::bytes` consume such a local.
const READER_WORDS: &[&str] = &[
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

/// Decides which loops consume a local: `for x in v` and `for x in v.into_iter()`
/// always; `for l in r.lines()` (also `bytes()`, `split(b)`) when `r` is a reader by
/// its declaration (`readers`, from the parameters and `let`s of the body).
pub fn mark_consumed(iters: &mut [LoopIter], body: &syn::Block, params: &[(String, String)]) {
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
    for it in iters {
        it.consumes = super::split::moved_local(&it.iterable).or_else(|| match &it.iterable {
            syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "lines" | "bytes" | "split") =>
            {
                super::split::ident_of(&m.receiver).filter(|r| readers.contains(r))
            }
            _ => None,
        });
    }
}
