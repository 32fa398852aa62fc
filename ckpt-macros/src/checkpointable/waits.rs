//! Wait points: before a statement that may block on the network (`listener.accept()`,
//! `socket.recv_from(&mut buf)`, the head of `for stream in listener.incoming()`, a
//! `while let … = socket.recv_from(..)`), the body gets
//!
//! ```text
//! while (&&::ckpt::__private::NetWait(&x)).__ckpt_net_wait() {
//!     ::ckpt::__private::net_wait_saved(::ckpt::safepoint());
//! }
//! ```
//!
//! For ckpt's sockets the condition waits until the call would not block, or until a
//! checkpoint is requested (a signal, `--ckpt-every`, frames waiting for an image): the
//! safepoint then saves, as if just before the call, and a restore makes the call again.
//! For any other type it is `false` at once. Only calls whose receiver is a local or a
//! field (`listener`, `self.socket`) and that run whenever the statement runs get one;
//! closures, async blocks and macro arguments are left alone.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;

/// Methods that wait for the network, with their argument counts.
const WAITING: &[(&str, usize)] = &[
    ("accept", 0),
    ("recv_from", 1),
    ("recv", 1),
    ("peek_from", 1),
];

/// Inserts the wait points of `body`.
pub fn insert(body: &mut syn::Block) {
    Waits.visit_block_mut(body);
}

struct Waits;

impl VisitMut for Waits {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        for s in b.stmts.iter_mut() {
            self.visit_stmt_mut(s);
        }
        let mut out = Vec::with_capacity(b.stmts.len());
        for s in std::mem::take(&mut b.stmts) {
            let s = loop_with_wait(s);
            let mut recvs = Vec::new();
            match &s {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &l.init {
                        scan(&init.expr, &mut recvs);
                    }
                }
                syn::Stmt::Expr(e, _) => scan(e, &mut recvs),
                _ => {}
            }
            for r in dedup(recvs) {
                out.push(syn::parse2(wait(&r)).expect("a wait statement"));
            }
            out.push(s);
        }
        b.stmts = out;
    }

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
}

/// The wait statement for receiver `r`.
fn wait(r: &syn::Expr) -> TokenStream {
    quote! {
        while {
            #[allow(unused_imports)]
            use ::ckpt::__private::{NetWaitNet as _, NetWaitOther as _};
            (&&::ckpt::__private::NetWait(&#r)).__ckpt_net_wait()
        } {
            ::ckpt::__private::net_wait_saved(::ckpt::safepoint());
        }
    }
}

fn dedup(v: Vec<syn::Expr>) -> Vec<syn::Expr> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for e in v {
        let k = quote!(#e).to_string();
        if !seen.contains(&k) {
            seen.push(k);
            out.push(e);
        }
    }
    out
}

/// A local, `self`, or a field of one (`self.socket`, `server.listener`).
fn is_place(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(p) => p.qself.is_none() && p.path.segments.len() == 1,
        syn::Expr::Field(f) => is_place(&f.base),
        syn::Expr::Paren(p) => is_place(&p.expr),
        _ => false,
    }
}

/// The receivers of waiting calls that `e` makes whenever it is evaluated.
fn scan(e: &syn::Expr, out: &mut Vec<syn::Expr>) {
    use syn::Expr as E;
    match e {
        E::MethodCall(m) => {
            scan(&m.receiver, out);
            for a in &m.args {
                scan(a, out);
            }
            let name = m.method.to_string();
            if WAITING
                .iter()
                .any(|(n, args)| *n == name && *args == m.args.len())
                && is_place(&m.receiver)
            {
                out.push((*m.receiver).clone());
            }
        }
        E::Try(t) => scan(&t.expr, out),
        E::Paren(p) => scan(&p.expr, out),
        E::Group(g) => scan(&g.expr, out),
        E::Reference(r) => scan(&r.expr, out),
        E::Unary(u) => scan(&u.expr, out),
        E::Cast(c) => scan(&c.expr, out),
        E::Field(f) => scan(&f.base, out),
        E::Binary(b) => {
            scan(&b.left, out);
            if !matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) {
                scan(&b.right, out);
            }
        }
        E::If(i) => scan(&i.cond, out),
        E::Match(m) => scan(&m.expr, out),
        E::Let(l) => scan(&l.expr, out),
        E::Assign(a) => scan(&a.right, out),
        E::Call(c) => c.args.iter().for_each(|a| scan(a, out)),
        E::Tuple(t) => t.elems.iter().for_each(|a| scan(a, out)),
        E::Array(a) => a.elems.iter().for_each(|x| scan(x, out)),
        _ => {}
    }
}

/// `for PAT in x.incoming() BODY` and a `while` whose condition waits become a `loop`
/// that starts with the wait:
/// `loop { WAIT; let PAT = match Iterator::next(&mut x.incoming()) { Some(v) => v, None => break }; BODY }`
/// and `loop { WAIT; if COND BODY else { break } }`.
fn loop_with_wait(s: syn::Stmt) -> syn::Stmt {
    let (e, semi) = match s {
        syn::Stmt::Expr(e, semi) => (e, semi),
        other => return other,
    };
    let e = match e {
        syn::Expr::ForLoop(f) => {
            let incoming = match &*f.expr {
                syn::Expr::MethodCall(m)
                    if m.method == "incoming" && m.args.is_empty() && is_place(&m.receiver) =>
                {
                    Some((*m.receiver).clone())
                }
                _ => None,
            };
            match incoming {
                Some(r) => {
                    let (label, pat, iterable, body, attrs) =
                        (&f.label, &f.pat, &f.expr, &f.body, &f.attrs);
                    let w = wait(&r);
                    syn::parse_quote! {
                        #(#attrs)*
                        #label loop {
                            #w
                            let #pat = match ::core::iter::Iterator::next(&mut #iterable) {
                                ::core::option::Option::Some(__ckpt_v) => __ckpt_v,
                                ::core::option::Option::None => break,
                            };
                            #body
                        }
                    }
                }
                None => syn::Expr::ForLoop(f),
            }
        }
        syn::Expr::While(w) => {
            let mut recvs = Vec::new();
            scan(&w.cond, &mut recvs);
            if recvs.is_empty() {
                syn::Expr::While(w)
            } else {
                let waits = dedup(recvs).into_iter().map(|r| wait(&r));
                let (label, cond, body, attrs) = (&w.label, &w.cond, &w.body, &w.attrs);
                syn::parse_quote! {
                    #(#attrs)*
                    #label loop {
                        #(#waits)*
                        if #cond #body else { break }
                    }
                }
            }
        }
        other => other,
    };
    syn::Stmt::Expr(e, semi)
}
