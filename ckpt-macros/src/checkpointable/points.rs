//! Pass 1: find the save points and call points of a body, give them ids in source
//! order, and replace each by a marker `__ckpt_point!(id)`; reject the places where a
//! save point cannot be resumed (DESIGN §4.6).

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::analysis::Analysis;

/// A call's target after the rewrite to the `__ckpt_` twin.
pub enum Target {
    /// `path::__ckpt_f::<G>`.
    Path(syn::ExprPath),
    /// `recv.__ckpt_m::<G>`; the receiver is a local or `self`.
    Method {
        recv: syn::Ident,
        method: syn::Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
}

pub enum Kind {
    Save {
        to: Option<syn::Expr>,
    },
    Call {
        callee: String,
        target: Target,
        args: Vec<syn::Expr>,
    },
}

pub struct Point {
    pub kind: Kind,
    pub span: Span,
}

/// The points of one function, indexed by id - 1.
#[derive(Default)]
pub struct Points {
    pub list: Vec<Point>,
}

impl Points {
    pub fn get(&self, id: u32) -> &Point {
        &self.list[id as usize - 1]
    }
}

pub const MARKER: &str = "__ckpt_point";

/// The id of a marker expression.
pub fn marker_id(e: &syn::Expr) -> Option<u32> {
    let syn::Expr::Macro(m) = e else { return None };
    if !m.mac.path.is_ident(MARKER) {
        return None;
    }
    match m.mac.tokens.clone().into_iter().next() {
        Some(TokenTree::Literal(l)) => l.to_string().parse().ok(),
        _ => None,
    }
}

/// `__ckpt_point!(id; original tokens)`: the original tokens keep the names the point
/// uses visible to the liveness scan.
fn marker(id: u32, span: Span, original: &syn::Expr) -> syn::Expr {
    let ident = syn::Ident::new(MARKER, span);
    let lit = proc_macro2::Literal::u32_unsuffixed(id);
    syn::parse_quote_spanned!(span=> #ident!(#lit; #original))
}

/// True if the expression is a marker or contains one outside closures and items.
pub fn has_point_expr(e: &syn::Expr) -> bool {
    let mut f = Finder(false);
    f.visit_expr(e);
    f.0
}

pub fn has_point_stmt(s: &syn::Stmt) -> bool {
    let mut f = Finder(false);
    f.visit_stmt(s);
    f.0
}

pub fn has_point_block(b: &syn::Block) -> bool {
    let mut f = Finder(false);
    f.visit_block(b);
    f.0
}

/// All marker ids inside, in source order.
pub fn ids_in_stmt(s: &syn::Stmt) -> Vec<u32> {
    let mut c = Collect(Vec::new());
    c.visit_stmt(s);
    c.0
}

pub fn ids_in_block(b: &syn::Block) -> Vec<u32> {
    let mut c = Collect(Vec::new());
    c.visit_block(b);
    c.0
}

struct Finder(bool);
impl<'a> Visit<'a> for Finder {
    fn visit_expr(&mut self, e: &'a syn::Expr) {
        if self.0 {
            return;
        }
        if marker_id(e).is_some() {
            self.0 = true;
            return;
        }
        syn::visit::visit_expr(self, e)
    }
    fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

struct Collect(Vec<u32>);
impl<'a> Visit<'a> for Collect {
    fn visit_expr(&mut self, e: &'a syn::Expr) {
        match marker_id(e) {
            Some(id) => self.0.push(id),
            None => syn::visit::visit_expr(self, e),
        }
    }
    fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// Marks the points of `body`.
pub fn mark(
    body: &mut syn::Block,
    analysis: &Analysis,
    self_ty: Option<&str>,
    errors: &mut Vec<syn::Error>,
) -> Points {
    let mut m = Marker {
        analysis,
        self_ty,
        points: Points::default(),
        errors,
        closure: 0,
        async_: 0,
    };
    m.visit_block_mut(body);
    m.points
}

struct Marker<'a> {
    analysis: &'a Analysis,
    self_ty: Option<&'a str>,
    points: Points,
    errors: &'a mut Vec<syn::Error>,
    closure: u32,
    async_: u32,
}

fn path_idents(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// `ckpt::save` / `ckpt::save_to` (with or without a leading `::`).
fn save_kind(func: &syn::Expr) -> Option<bool> {
    let syn::Expr::Path(p) = func else {
        return None;
    };
    match path_idents(&p.path)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()[..]
    {
        ["ckpt", "save"] => Some(false),
        ["ckpt", "save_to"] => Some(true),
        _ => None,
    }
}

/// Finds `ckpt :: save` in macro tokens.
fn tokens_mention_save(ts: &TokenStream) -> Option<Span> {
    let toks: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, t) in toks.iter().enumerate() {
        if let TokenTree::Group(g) = t {
            if let Some(s) = tokens_mention_save(&g.stream()) {
                return Some(s);
            }
        }
        if let TokenTree::Ident(id) = t {
            if id == "ckpt" && toks.len() > i + 3 {
                let is_colon =
                    |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ':');
                if is_colon(&toks[i + 1]) && is_colon(&toks[i + 2]) {
                    if let TokenTree::Ident(f) = &toks[i + 3] {
                        if f == "save" || f == "save_to" {
                            return Some(f.span());
                        }
                    }
                }
            }
        }
    }
    None
}

impl Marker<'_> {
    fn push(&mut self, kind: Kind, span: Span, original: &syn::Expr) -> syn::Expr {
        self.points.list.push(Point { kind, span });
        marker(self.points.list.len() as u32, span, original)
    }

    /// `Some(false)` for a checkpointable free function, `Some(true)` for an associated
    /// function called by path (`Type::f`, `Self::f`), `None` otherwise.
    fn classify_path(&self, p: &syn::Path) -> Option<bool> {
        let ids = path_idents(p);
        let name = ids.last()?;
        if ids.len() == 1 {
            return self.analysis.fns.contains(name).then_some(false);
        }
        let ty = &ids[ids.len() - 2];
        if ty == "Self" {
            let t = self.self_ty?;
            return self
                .analysis
                .methods
                .contains(&(t.to_string(), name.clone()))
                .then_some(true);
        }
        if self.analysis.methods.contains(&(ty.clone(), name.clone())) {
            return Some(true);
        }
        (self.analysis.fns.contains(name) && !ty.starts_with(|c: char| c.is_uppercase()))
            .then_some(false)
    }

    fn reject(&mut self, span: Span, msg: &str) {
        self.errors.push(syn::Error::new(span, msg));
    }

    fn reject_at<T: quote::ToTokens>(&mut self, node: T, msg: &str) {
        self.errors.push(syn::Error::new_spanned(node, msg));
    }
}

impl VisitMut for Marker<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        // Post-order: nested points get their ids first (they run first).
        match e {
            syn::Expr::Closure(c) => {
                self.closure += 1;
                syn::visit_mut::visit_expr_closure_mut(self, c);
                self.closure -= 1;
                return;
            }
            syn::Expr::Async(a) => {
                self.async_ += 1;
                syn::visit_mut::visit_expr_async_mut(self, a);
                self.async_ -= 1;
                return;
            }
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                syn::visit_mut::visit_expr_binary_mut(self, b);
                if has_point_expr(&b.right) {
                    let right = b.right.clone();
                    self.reject_at(
                        right,
                        "ckpt: a save point cannot sit in the right operand of `&&` or `||` (it may not run, \
                         and a restore could not tell); evaluate it into a `let` before the condition",
                    );
                }
                return;
            }
            syn::Expr::Macro(m) => {
                self.visit_macro_mut(&mut m.mac);
                return;
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
        let span = e.span();
        let point = match e {
            syn::Expr::Call(c) => match save_kind(&c.func) {
                Some(to) => {
                    if self.closure > 0 || self.async_ > 0 {
                        let what = if self.closure > 0 {
                            "a closure"
                        } else {
                            "an async block"
                        };
                        let node = c.clone();
                        self.reject_at(
                            node,
                            &format!(
                                "ckpt: a save point cannot sit inside {what}: a restore cannot re-enter it; \
                                 move `ckpt::save()` into the #[checkpointable] function's own body"
                            ),
                        );
                        return;
                    }
                    let n = if to { 1 } else { 0 };
                    if c.args.len() != n {
                        self.reject(
                            span,
                            &format!("ckpt: this save point takes {n} argument(s)"),
                        );
                        return;
                    }
                    Some(Kind::Save {
                        to: c.args.first().cloned(),
                    })
                }
                None => {
                    let syn::Expr::Path(p) = &*c.func else { return };
                    if self.closure > 0 || self.async_ > 0 || p.qself.is_some() {
                        return;
                    }
                    let Some(method) = self.classify_path(&p.path) else {
                        return;
                    };
                    let mut target = p.clone();
                    let last = target.path.segments.last_mut().expect("non-empty path");
                    let callee = last.ident.to_string();
                    if method {
                        last.ident =
                            syn::Ident::new(&format!("__ckpt_{callee}"), last.ident.span());
                    } else {
                        // A free function's twin lives in a module of the same name, so
                        // `use path::f` brings it along.
                        let generics = std::mem::take(&mut last.arguments);
                        let span = last.ident.span();
                        target.path.segments.push(syn::PathSegment {
                            ident: syn::Ident::new("__ckpt", span),
                            arguments: generics,
                        });
                    }
                    Some(Kind::Call {
                        callee,
                        target: Target::Path(target),
                        args: c.args.iter().cloned().collect(),
                    })
                }
            },
            syn::Expr::MethodCall(mc) => {
                if self.closure > 0
                    || self.async_ > 0
                    || !self.analysis.method_names.contains(&mc.method.to_string())
                {
                    return;
                }
                let recv = match &*mc.receiver {
                    syn::Expr::Path(p)
                        if p.qself.is_none()
                            && p.path.segments.len() == 1
                            && p.path.leading_colon.is_none() =>
                    {
                        p.path.segments[0].ident.clone()
                    }
                    _ => return, // not resumable; a save inside reports the call at run time
                };
                let callee = mc.method.to_string();
                let method = syn::Ident::new(&format!("__ckpt_{callee}"), mc.method.span());
                Some(Kind::Call {
                    callee,
                    target: Target::Method {
                        recv,
                        method,
                        turbofish: mc.turbofish.clone(),
                    },
                    args: mc.args.iter().cloned().collect(),
                })
            }
            _ => None,
        };
        if let Some(kind) = point {
            *e = self.push(kind, span, &e.clone());
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        if let Some(span) = tokens_mention_save(&m.tokens) {
            self.reject(
                span,
                "ckpt: a save point cannot sit inside a macro call (ckpt cannot see into macro \
                 arguments); call `ckpt::save()` in a statement of its own before the macro",
            );
        }
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        syn::visit_mut::visit_local_mut(self, l);
        if let Some(init) = &l.init {
            if let Some((_, diverge)) = &init.diverge {
                if has_point_expr(diverge) {
                    let node = diverge.clone();
                    self.reject_at(
                        node,
                        "ckpt: a save point cannot sit in the `else` block of `let ... else` (its bindings \
                         do not exist there); use a `match` instead",
                    );
                }
            }
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        syn::visit_mut::visit_arm_mut(self, arm);
        if let Some((_, g)) = &arm.guard {
            if has_point_expr(g) {
                let node = g.clone();
                self.reject_at(
                    node,
                    "ckpt: a save point cannot sit in a match guard; move it into the arm",
                );
            }
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
