//! Pass `hoist`: evaluation order around points.
//!
//! A restore re-enters the statement that holds a point and evaluates it again up to
//! the point. So, within one statement (not counting the blocks nested in it):
//! - at most one *unit* remains: a point, or an `if`/`match`/loop/block with points in
//!   its bodies; every earlier unit is evaluated into a `let __ckpt_tN = …;` before the
//!   statement, in source order;
//! - every operand evaluated before that unit is *pure* (a literal, a path to an item, a
//!   borrow of a place, a closure) or is evaluated into a temporary as well, so nothing
//!   runs twice and every value keeps the moment it was read;
//! - `if` conditions and `match` scrutinees hold no point (the resume path does not
//!   evaluate them: it goes straight to the branch it was saved in).
//!
//! `total + f(&mut s)?` becomes `let __ckpt_t1 = total; let __ckpt_t2 = f(&mut s)?;
//! __ckpt_t1 + __ckpt_t2`; `if f(&mut x)? % 3 == 0 {…}` becomes `let __ckpt_t1 =
//! f(&mut x)? % 3 == 0; if __ckpt_t1 {…}`.

use quote::format_ident;
use syn::visit_mut::VisitMut;

use super::places::{is_compound_assign, is_place};
use super::points::{has_point_expr, marker_id};

#[derive(Default)]
pub struct Hoist {
    next_temp: u32,
}

impl Hoist {
    pub fn run(&mut self, body: &mut syn::Block) {
        self.visit_block_mut(body);
    }

    fn temp(&mut self) -> syn::Ident {
        self.next_temp += 1;
        format_ident!("__ckpt_t{}", self.next_temp)
    }

    /// Replaces `e` by a fresh temporary bound to it in `pre` (after the temporaries its
    /// own hoisting needs).
    fn take(&mut self, e: &mut syn::Expr, pre: &mut Vec<syn::Stmt>) {
        let t = self.temp();
        let mut value = std::mem::replace(e, syn::parse_quote!(#t));
        self.process(&mut value, pre);
        pre.push(syn::parse_quote! { let #t = #value; });
    }

    /// Makes `e` hold at most one unit, with only pure operands evaluated before it.
    fn process(&mut self, e: &mut syn::Expr, pre: &mut Vec<syn::Stmt>) {
        if !has_point_expr(e) {
            return;
        }
        if let syn::Expr::Struct(st) = e {
            // `Vm { code, .. }`: written out, so that a temporary can replace `code`.
            for f in st.fields.iter_mut() {
                f.colon_token.get_or_insert_with(Default::default);
            }
        }
        match e {
            syn::Expr::If(i) => {
                if has_point_expr(&i.cond) {
                    self.take(&mut i.cond, pre);
                }
            }
            syn::Expr::Match(m) => {
                if has_point_expr(&m.expr) {
                    self.take(&mut m.expr, pre);
                }
            }
            syn::Expr::Loop(_)
            | syn::Expr::While(_)
            | syn::Expr::ForLoop(_)
            | syn::Expr::Block(_)
            | syn::Expr::Unsafe(_)
            | syn::Expr::Closure(_)
            | syn::Expr::Async(_)
            | syn::Expr::Macro(_) => {}
            _ => {
                // A point's own receiver and arguments run before it: a point among them
                // is taken whole; the rest is evaluated once by the call expansion.
                let marker = marker_id(e).is_some();
                let receiver_like = is_receiver_like(e);
                let func_path =
                    matches!(e, syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(_)));
                let mut kids = children(e);
                let Some(k) = kids.iter().rposition(|c| has_point_expr(c)) else {
                    return;
                };
                for (i, c) in kids.iter_mut().enumerate() {
                    if i < k {
                        if i == 0 && func_path {
                            continue;
                        }
                        let place_ok = i == 0 && receiver_like && is_place(c);
                        if has_point_expr(c) || !(pure(c) || place_ok) {
                            self.take(c, pre);
                        }
                    } else if i == k {
                        if marker {
                            self.take(c, pre);
                        } else {
                            self.process(c, pre);
                        }
                    }
                }
            }
        }
    }
}

impl VisitMut for Hoist {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mut out = Vec::with_capacity(b.stmts.len());
        for mut s in std::mem::take(&mut b.stmts) {
            // Nested blocks first: their statements are hoisted within them.
            self.visit_stmt_mut(&mut s);
            let mut pre = Vec::new();
            match &mut s {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &mut l.init {
                        self.process(&mut init.expr, &mut pre);
                    }
                }
                syn::Stmt::Expr(e, _) => self.process(e, &mut pre),
                _ => {}
            }
            out.extend(pre);
            out.push(s);
        }
        b.stmts = out;
    }

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The operands of `e` in evaluation order.
fn children(e: &mut syn::Expr) -> Vec<&mut syn::Expr> {
    use syn::Expr::*;
    match e {
        Array(a) => a.elems.iter_mut().collect(),
        Assign(a) => vec![&mut *a.right, &mut *a.left],
        Binary(b) => vec![&mut *b.left, &mut *b.right],
        Call(c) => std::iter::once(&mut *c.func)
            .chain(c.args.iter_mut())
            .collect(),
        Cast(c) => vec![&mut *c.expr],
        Field(f) => vec![&mut *f.base],
        Group(g) => vec![&mut *g.expr],
        Index(i) => vec![&mut *i.expr, &mut *i.index],
        MethodCall(m) => std::iter::once(&mut *m.receiver)
            .chain(m.args.iter_mut())
            .collect(),
        Paren(p) => vec![&mut *p.expr],
        Range(r) => r
            .start
            .iter_mut()
            .chain(r.end.iter_mut())
            .map(|b| &mut **b)
            .collect(),
        Reference(r) => vec![&mut *r.expr],
        Repeat(r) => vec![&mut *r.expr],
        Return(r) => r.expr.iter_mut().map(|b| &mut **b).collect(),
        Break(b) => b.expr.iter_mut().map(|b| &mut **b).collect(),
        Struct(s) => s
            .fields
            .iter_mut()
            .map(|f| &mut f.expr)
            .chain(s.rest.iter_mut().map(|b| &mut **b))
            .collect(),
        Try(t) => vec![&mut *t.expr],
        Tuple(t) => t.elems.iter_mut().collect(),
        Unary(u) => vec![&mut *u.expr],
        Let(l) => vec![&mut *l.expr],
        _ => Vec::new(),
    }
}

/// Expressions whose first operand is a place used through a borrow: a method's
/// receiver, an indexed or compound-assigned place.
fn is_receiver_like(e: &syn::Expr) -> bool {
    matches!(
        e,
        syn::Expr::MethodCall(_) | syn::Expr::Index(_) | syn::Expr::Field(_)
    ) || matches!(e, syn::Expr::Binary(b) if is_compound_assign(&b.op))
}

/// Evaluating it later gives the same value and has no effect: a literal, a path to an
/// item (not a local), a borrow of a place, a closure.
fn pure(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) | syn::Expr::Closure(_) => true,
        syn::Expr::Path(p) => {
            p.qself.is_some()
                || p.path.segments.len() > 1
                || p.path
                    .segments
                    .first()
                    .is_some_and(|s| s.ident.to_string().starts_with(|c: char| c.is_uppercase()))
        }
        syn::Expr::Reference(r) => is_place(&r.expr) || pure(&r.expr),
        syn::Expr::Paren(p) => pure(&p.expr),
        syn::Expr::Group(g) => pure(&g.expr),
        syn::Expr::Tuple(t) => t.elems.iter().all(pure),
        syn::Expr::Array(a) => a.elems.iter().all(pure),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn hoisted(src: &str) -> String {
        let mut b: syn::Block = syn::parse_str(src).unwrap();
        Hoist::default().run(&mut b);
        let stmts = &b.stmts;
        quote!(#(#stmts)*).to_string()
    }

    #[test]
    fn earlier_units_and_impure_operands_go_first_in_order() {
        assert_eq!(
            hoisted("{ let x = total + __ckpt_point_1(&mut s)? + __ckpt_point_2(&mut t)?; }"),
            "let __ckpt_t2 = total ; let __ckpt_t1 = __ckpt_t2 + __ckpt_point_1 (& mut s) ? ; \
             let x = __ckpt_t1 + __ckpt_point_2 (& mut t) ? ;"
        );
    }

    #[test]
    fn conditions_and_scrutinees_lose_their_points() {
        assert_eq!(
            hoisted("{ if __ckpt_point_1(&mut x)? % 3 == 0 { a(); } }"),
            "let __ckpt_t1 = __ckpt_point_1 (& mut x) ? % 3 == 0 ; if __ckpt_t1 { a () ; }"
        );
        assert_eq!(
            hoisted("{ match __ckpt_point_1(&mut x)? { 1 => {} _ => {} } }"),
            "let __ckpt_t1 = __ckpt_point_1 (& mut x) ? ; match __ckpt_t1 { 1 => { } _ => { } }"
        );
    }

    #[test]
    fn receivers_and_borrows_stay_in_place() {
        assert_eq!(
            hoisted("{ v.push(__ckpt_point_1(&mut s)?); g(&a, __ckpt_point_2(&mut s)?); }"),
            "v . push (__ckpt_point_1 (& mut s) ?) ; g (& a , __ckpt_point_2 (& mut s) ?) ;"
        );
    }

    #[test]
    fn nested_points_in_arguments_run_first() {
        assert_eq!(
            hoisted("{ __ckpt_point_2(x.len(), __ckpt_point_1(&mut s)?); }"),
            "let __ckpt_t1 = x . len () ; let __ckpt_t2 = __ckpt_point_1 (& mut s) ? ; \
             __ckpt_point_2 (__ckpt_t1 , __ckpt_t2) ;"
        );
    }
}
