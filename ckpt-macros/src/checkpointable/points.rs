//! Pass `points`: finds the save points and the call points of a body, gives them ids
//! in evaluation order, and marks each in place; rejects the places where a save point
//! cannot be resumed (DESIGN §4.6).
//!
//! A marked point stays an ordinary call expression, so every later pass sees its
//! receiver and arguments as the user's code: `f(a, b)` becomes `__ckpt_point_3(a, b)`,
//! `x.m(a)` becomes `x.__ckpt_point_4(a)`, `ckpt::save()` becomes `__ckpt_point_5()`.
//! The table keeps what the marker replaced (the callee's path or method name).
//!
//! Call points are chosen by name (syn has no types): any call whose function or method
//! name is the name of a checkpointable function of the crate. A false match costs a
//! registration at run time, never a compile error: the generated code calls the very
//! function the user wrote, and only a callee that opens a checkpointable frame resumes.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::format_ident;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::analysis::Analysis;
use super::ctxt::Ctxt;

pub enum Kind {
    /// `ckpt::save()` (`to: false`), `ckpt::save_to(path)` (`to: true`) or
    /// `ckpt::safepoint()` (`on_request`: saves only when a checkpoint was requested).
    Save { to: bool, on_request: bool },
    /// A call by path (`f(..)`, `m::f(..)`, `Type::f(..)`); `func` is the original path.
    Path { callee: String, func: syn::ExprPath },
    /// A method call `recv.m(..)`.
    Method {
        callee: String,
        method: syn::Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
}

pub struct Point {
    pub kind: Kind,
    pub span: Span,
    /// The callee's arguments may fix its type parameters (`Analysis::generic`): a
    /// computed argument is passed back on the resume path with a type marker.
    pub generic: bool,
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

    /// Where each point is in the user's source (`src/main.rs:12`), by id - 1, for the
    /// frame records of images (`cargo ckpt inspect` shows them); empty where the
    /// compiler does not say (a span built by a macro, an older rustc).
    pub fn sites(&self) -> Vec<String> {
        self.list.iter().map(|p| site(p.span)).collect()
    }
}

/// `file:line` of a span, or empty when the compiler gives no real file for it (a token
/// stream built outside a compilation, as in this crate's tests, says `<parsed string>`).
pub fn site(span: Span) -> String {
    let file = span.file();
    let line = span.start().line;
    if file.is_empty() || file.starts_with('<') || line == 0 {
        return String::new();
    }
    format!("{file}:{line}")
}

const PREFIX: &str = "__ckpt_point_";

/// Types of std a call `Type::f(..)` names, never a checkpointable one of the crate.
const STD_TYPES: &[&str] = &[
    "Vec",
    "String",
    "Box",
    "Rc",
    "Arc",
    "Weak",
    "Cell",
    "RefCell",
    "OnceCell",
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "VecDeque",
    "BinaryHeap",
    "LinkedList",
    "Option",
    "Result",
    "Some",
    "Ok",
    "Err",
    "Cow",
    "PathBuf",
    "Path",
    "OsString",
    "Duration",
    "Instant",
    "SystemTime",
    "File",
    "OpenOptions",
    "BufReader",
    "BufWriter",
    "Mutex",
    "RwLock",
    "Ordering",
    "Wrapping",
    "Reverse",
    "Default",
    "From",
    "Into",
    "Iterator",
];

fn id_of(ident: &syn::Ident) -> Option<u32> {
    ident.to_string().strip_prefix(PREFIX)?.parse().ok()
}

/// The id of a marker expression.
pub fn marker_id(e: &syn::Expr) -> Option<u32> {
    match e {
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                id_of(&p.path.segments[0].ident)
            }
            _ => None,
        },
        syn::Expr::MethodCall(m) => id_of(&m.method),
        _ => None,
    }
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

/// All marker ids inside, in evaluation order.
pub fn ids_in_stmt(s: &syn::Stmt) -> Vec<u32> {
    let mut c = Collect(Vec::new());
    c.visit_stmt(s);
    c.0
}

pub fn ids_in_expr(e: &syn::Expr) -> Vec<u32> {
    let mut c = Collect(Vec::new());
    c.visit_expr(e);
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
        // Receiver and arguments run before the point itself.
        syn::visit::visit_expr(self, e);
        if let Some(id) = marker_id(e) {
            self.0.push(id);
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
    cx: &mut Ctxt,
) -> Points {
    let mut m = Marker {
        analysis,
        self_ty,
        points: Points::default(),
        cx,
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
    cx: &'a mut Ctxt,
    closure: u32,
    async_: u32,
}

fn path_idents(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// `ckpt::save` / `ckpt::save_to` / `ckpt::safepoint` (with or without a leading `::`):
/// `(to, on_request)`.
fn save_kind(func: &syn::Expr) -> Option<(bool, bool)> {
    let syn::Expr::Path(p) = func else {
        return None;
    };
    match path_idents(&p.path)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()[..]
    {
        ["ckpt", "save"] => Some((false, false)),
        ["ckpt", "save_to"] => Some((true, false)),
        ["ckpt", "safepoint"] => Some((false, true)),
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
                        if f == "save" || f == "save_to" || f == "safepoint" {
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
    fn push(&mut self, kind: Kind, span: Span) -> syn::Ident {
        let generic = match &kind {
            Kind::Path { callee, .. } | Kind::Method { callee, .. } => {
                self.analysis.generic.contains(callee)
            }
            Kind::Save { .. } => false,
        };
        self.points.list.push(Point {
            kind,
            span,
            generic,
        });
        format_ident!("{}{}", PREFIX, self.points.list.len(), span = span)
    }

    /// Whether a call by this path may be a call of a checkpointable function. Generous on
    /// purpose: a false match only registers the call.
    fn may_be_checkpointable(&self, p: &syn::Path) -> bool {
        let ids = path_idents(p);
        let Some(name) = ids.last() else { return false };
        if ids.len() == 1 {
            return self.analysis.fns.contains(name);
        }
        let ty = &ids[ids.len() - 2];
        if ty == "Self" {
            return self.self_ty.is_some() && self.analysis.method_names.contains(name);
        }
        if ty.starts_with(|c: char| c.is_uppercase()) {
            // `Vec::new()` is std's even when the crate has a checkpointable `new`.
            if STD_TYPES.contains(&ty.as_str()) {
                return self.analysis.methods.contains(&(ty.clone(), name.clone()));
            }
            return self.analysis.method_names.contains(name);
        }
        self.analysis.fns.contains(name)
    }

    fn in_closure(&self) -> bool {
        self.closure > 0 || self.async_ > 0
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
            syn::Expr::Macro(m) => {
                if let Some(desugared) = desugar_matches(m) {
                    *e = desugared;
                    self.visit_expr_mut(e);
                    return;
                }
                if let Some(unfolded) = self.unfold(m) {
                    *e = unfolded;
                } else {
                    self.visit_macro_mut(&mut m.mac);
                }
                return;
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
        let span = e.span();
        match e {
            syn::Expr::Call(c) => {
                if let Some((to, on_request)) = save_kind(&c.func) {
                    if self.in_closure() {
                        let what = if self.closure > 0 {
                            "a closure"
                        } else {
                            "an async block"
                        };
                        let node = c.clone();
                        self.cx.error_spanned(
                            node,
                            format!(
                                "ckpt: a save point cannot sit inside {what}: a restore cannot re-enter it; \
                                 move `ckpt::save()` into the #[checkpointable] function's own body"
                            ),
                        );
                        return;
                    }
                    let n = usize::from(to);
                    if c.args.len() != n {
                        let msg = if to {
                            "ckpt: `ckpt::save_to` takes one argument, the image's path"
                        } else {
                            "ckpt: `ckpt::save()` and `ckpt::safepoint()` take no argument; `ckpt::save_to(path)` saves to another file"
                        };
                        self.cx.error_at(span, msg);
                        return;
                    }
                    let id = self.push(Kind::Save { to, on_request }, span);
                    *c.func = syn::parse_quote_spanned!(span=> #id);
                    return;
                }
                let syn::Expr::Path(p) = &*c.func else { return };
                if self.in_closure() || p.qself.is_some() || !self.may_be_checkpointable(&p.path) {
                    return;
                }
                let callee = p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                let func = p.clone();
                let id = self.push(Kind::Path { callee, func }, span);
                *c.func = syn::parse_quote_spanned!(span=> #id);
            }
            syn::Expr::MethodCall(mc) => {
                if self.in_closure() || !self.analysis.method_names.contains(&mc.method.to_string())
                {
                    return;
                }
                let kind = Kind::Method {
                    callee: mc.method.to_string(),
                    method: mc.method.clone(),
                    turbofish: mc.turbofish.take(),
                };
                mc.method = self.push(kind, span);
            }
            _ => {}
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        if let Some(span) = tokens_mention_save(&m.tokens) {
            self.cx.error_at(
                span,
                "ckpt: a save point cannot sit inside this macro call (ckpt sees into the \
                 arguments of `println!`, `format!`, `write!`, `assert!`, `matches!` and `vec!` only); call \
                 `ckpt::save()` in a statement of its own before the macro",
            );
        }
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        syn::visit_mut::visit_local_mut(self, l);
        if let Some(init) = &l.init {
            if let Some((_, diverge)) = &init.diverge {
                if has_point_expr(diverge) {
                    let node = diverge.clone();
                    self.cx.error_spanned(
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
                self.cx.error_spanned(
                    node,
                    "ckpt: a save point cannot sit in a match guard; move it into the arm",
                );
            }
        }
    }

    fn visit_stmt_mut(&mut self, s: &mut syn::Stmt) {
        // `println!(..);` as a statement: seen as the expression it is, so calls in its
        // arguments can be points.
        if let syn::Stmt::Macro(m) = s {
            if unfoldable(&m.mac).is_some() {
                let (mac, semi) = (m.mac.clone(), m.semi_token);
                let attrs = m.attrs.clone();
                *s = syn::Stmt::Expr(
                    syn::Expr::Macro(syn::ExprMacro { attrs, mac }),
                    semi.or_else(|| Some(Default::default())),
                );
            }
        }
        syn::visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `matches!(e, PAT if GUARD)` as the `match` it stands for, so that ckpt sees the calls
/// in `e` and the guard (`matches!(step(&mut s), Some(_))` with a saving `step`).
fn desugar_matches(m: &syn::ExprMacro) -> Option<syn::Expr> {
    if m.mac.path.segments.last()?.ident != "matches" || !m.attrs.is_empty() {
        return None;
    }
    let (e, pat, guard) = m
        .mac
        .parse_body_with(|input: syn::parse::ParseStream| {
            let e: syn::Expr = input.parse()?;
            input.parse::<syn::Token![,]>()?;
            let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
            let guard = if input.peek(syn::Token![if]) {
                input.parse::<syn::Token![if]>()?;
                Some(input.parse::<syn::Expr>()?)
            } else {
                None
            };
            let _ = input.parse::<Option<syn::Token![,]>>()?;
            Ok((e, pat, guard))
        })
        .ok()?;
    let guard = guard.map(|g| quote::quote!(if #g));
    Some(syn::parse_quote_spanned! {m.mac.path.span()=>
        match #e {
            #pat #guard => true,
            _ => false,
        }
    })
}

/// How a standard macro takes its arguments, for those whose arguments are expressions.
#[derive(Clone, Copy, PartialEq)]
enum Takes {
    /// By reference: `println!`, `format!`, `write!`, `assert_eq!`, `panic!` ...
    ByRef,
    /// By value: `vec![a, b]`.
    ByValue,
}

/// The standard macros whose calls ckpt sees into.
fn unfoldable(m: &syn::Macro) -> Option<Takes> {
    let name = m.path.segments.last()?.ident.to_string();
    match name.as_str() {
        "print" | "println" | "eprint" | "eprintln" | "format" | "write" | "writeln" | "panic"
        | "assert" | "assert_eq" | "assert_ne" | "debug_assert" | "debug_assert_eq"
        | "debug_assert_ne" | "todo" | "unimplemented" | "unreachable" => Some(Takes::ByRef),
        "vec" => Some(Takes::ByValue),
        _ => None,
    }
}

impl Marker<'_> {
    /// A standard macro whose arguments hold points (`println!("{}", total(&v))`): its
    /// arguments up to the last point are evaluated first, in order, into temporaries the
    /// macro then reads - `{ let __ckpt_ma1 = total(&v); println!("{}", __ckpt_ma1) }` -
    /// so that each point is a call in a statement of the body. Arguments that are places
    /// (`x`, `self.n`) and literals stay where they are; those after the last point too.
    fn unfold(&mut self, m: &mut syn::ExprMacro) -> Option<syn::Expr> {
        use syn::punctuated::Punctuated;
        let takes = unfoldable(&m.mac)?;
        let mut args = m
            .mac
            .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        let before = self.points.list.len();
        let mut has = Vec::new();
        for a in args.iter_mut() {
            let n = self.points.list.len();
            let value = match a {
                syn::Expr::Assign(x) => &mut *x.right,
                a => a,
            };
            self.visit_expr_mut(value);
            has.push(self.points.list.len() > n);
        }
        if self.points.list.len() == before {
            return None;
        }
        let last = has.iter().rposition(|h| *h)?;
        let mut lets: Vec<syn::Stmt> = Vec::new();
        for (i, a) in args.iter_mut().enumerate().take(last + 1) {
            let value = match a {
                syn::Expr::Assign(x) => &mut *x.right,
                a => a,
            };
            let stays = matches!(value, syn::Expr::Lit(_))
                || (takes == Takes::ByRef && !has[i] && plain_place(value));
            if stays {
                continue;
            }
            let t = format_ident!("__ckpt_ma{}_{}", before + 1, i);
            let by_ref = takes == Takes::ByRef && !has[i] && super::places::is_place(value);
            let old = std::mem::replace(value, syn::parse_quote!(#t));
            if by_ref {
                lets.push(syn::parse_quote! { let #t = &#old; });
                *value = syn::parse_quote!(*#t);
            } else {
                lets.push(syn::parse_quote! { let #t = #old; });
            }
        }
        let path = &m.mac.path;
        let bang = &m.mac.bang_token;
        let attrs = &m.attrs;
        let call: syn::Expr = match m.mac.delimiter {
            syn::MacroDelimiter::Bracket(_) => syn::parse_quote! { #(#attrs)* #path #bang [#args] },
            syn::MacroDelimiter::Brace(_) => syn::parse_quote! { #(#attrs)* #path #bang {#args} },
            syn::MacroDelimiter::Paren(_) => syn::parse_quote! { #(#attrs)* #path #bang (#args) },
        };
        Some(syn::parse_quote! {{ #(#lets)* #call }})
    }
}

/// A local or a field of one (`x`, `self.total`): read where the macro reads it.
fn plain_place(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(p) => p.qself.is_none(),
        syn::Expr::Field(f) => plain_place(&f.base),
        syn::Expr::Paren(p) => plain_place(&p.expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
