//! Pass `liveness`: which bindings each point's resume path needs.
//!
//! A backward walk over the body in evaluation order. A binding is live at a point when
//! the code that runs after the point (on the same path: not the other branch of an
//! `if`, through loop iterations and `break`/`continue` to their targets) reads it
//! before assigning it, or when the point itself needs it on the resume path (an
//! argument made again, a local lent to the call). A value moved *into* the call, or
//! read only before it, is not live there: `acc = acc.absorb(&xs)` does not save `acc`,
//! and `for x in v` in one branch does not save `v` for the other branch.
//!
//! Names are unique after `rename`, so a `let` simply ends the liveness of its names.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::points::{has_point_expr, marker_id};
use super::vars::Uses;

type Set = BTreeSet<String>;

/// What one point needs beyond what runs after it (set by the caller of [`analyze`]).
pub trait Needs {
    fn needs(&self, id: u32, marker: &syn::Expr) -> Set;
}

struct Target {
    label: Option<String>,
    after: Set,
    top: Set,
}

pub struct Liveness<'a> {
    needs: &'a dyn Needs,
    pub at: BTreeMap<u32, Set>,
    targets: Vec<Target>,
}

/// Live sets at every point of `body`.
pub fn analyze(body: &syn::Block, needs: &dyn Needs) -> BTreeMap<u32, Set> {
    let mut l = Liveness {
        needs,
        at: BTreeMap::new(),
        targets: Vec::new(),
    };
    l.stmts(&body.stmts, Set::new());
    l.at
}

impl Liveness<'_> {
    fn stmts(&mut self, stmts: &[syn::Stmt], after: Set) -> Set {
        let mut live = after;
        for s in stmts.iter().rev() {
            live = self.stmt(s, live);
        }
        live
    }

    fn stmt(&mut self, s: &syn::Stmt, after: Set) -> Set {
        match s {
            syn::Stmt::Local(l) => {
                let mut live = after;
                let mut bs = Vec::new();
                super::vars::bindings(&l.pat, false, &mut bs);
                for b in bs {
                    live.remove(&b.name.to_string());
                }
                match &l.init {
                    Some(init) => {
                        if let Some((_, e)) = &init.diverge {
                            let out = self.expr(e, Set::new());
                            live.extend(out);
                        }
                        self.expr(&init.expr, live)
                    }
                    None => live,
                }
            }
            syn::Stmt::Expr(e, _) => self.expr(e, after),
            syn::Stmt::Macro(m) => {
                let mut live = after;
                live.extend(Uses::of_stmt(&syn::Stmt::Macro(m.clone())));
                live
            }
            syn::Stmt::Item(_) => after,
        }
    }

    fn target(&self, label: &Option<syn::Lifetime>) -> Option<&Target> {
        match label {
            Some(l) => {
                let name = l.ident.to_string();
                self.targets
                    .iter()
                    .rev()
                    .find(|t| t.label.as_deref() == Some(name.as_str()))
            }
            None => self.targets.iter().rev().find(|t| t.label.is_some()),
        }
    }

    /// A point-free expression: its uses, its kills, and the sets of the loops it leaves
    /// with `break`/`continue`.
    fn plain(&mut self, e: &syn::Expr, after: Set) -> Set {
        let mut live = after;
        if let syn::Expr::Assign(a) = e {
            if let Some(x) = super::vars::ident_of(&a.left) {
                live.remove(&x);
                live.extend(Uses::of_expr(&a.right));
                return live;
            }
        }
        live.extend(Uses::of_expr(e));
        // Jumps out of this expression to our loops.
        struct Jumps(Vec<(Option<syn::Lifetime>, bool)>, u32);
        impl<'a> Visit<'a> for Jumps {
            fn visit_expr_break(&mut self, b: &'a syn::ExprBreak) {
                if b.label.is_some() || self.1 == 0 {
                    self.0.push((b.label.clone(), true));
                }
                syn::visit::visit_expr_break(self, b);
            }
            fn visit_expr_continue(&mut self, c: &'a syn::ExprContinue) {
                if c.label.is_some() || self.1 == 0 {
                    self.0.push((c.label.clone(), false));
                }
            }
            fn visit_expr_loop(&mut self, l: &'a syn::ExprLoop) {
                self.1 += 1;
                syn::visit::visit_expr_loop(self, l);
                self.1 -= 1;
            }
            fn visit_expr_while(&mut self, l: &'a syn::ExprWhile) {
                self.1 += 1;
                syn::visit::visit_expr_while(self, l);
                self.1 -= 1;
            }
            fn visit_expr_for_loop(&mut self, l: &'a syn::ExprForLoop) {
                self.1 += 1;
                syn::visit::visit_expr_for_loop(self, l);
                self.1 -= 1;
            }
            fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
            fn visit_item(&mut self, _: &'a syn::Item) {}
        }
        let mut j = Jumps(Vec::new(), 0);
        j.visit_expr(e);
        for (label, brk) in j.0 {
            if let Some(t) = self.target(&label) {
                let add = if brk { t.after.clone() } else { t.top.clone() };
                live.extend(add);
            }
        }
        live
    }

    fn expr(&mut self, e: &syn::Expr, after: Set) -> Set {
        if !has_point_expr(e) {
            return self.plain(e, after);
        }
        if let Some(id) = marker_id(e) {
            let mut at = after.clone();
            at.extend(self.needs.needs(id, e));
            self.at.insert(id, at.clone());
            // Receiver and arguments run before the point.
            let mut live = at;
            let skip = usize::from(matches!(e, syn::Expr::Call(_)));
            for c in children(e).into_iter().skip(skip).rev() {
                live = self.expr(c, live);
            }
            return live;
        }
        match e {
            syn::Expr::Block(b) => self.labelled(&b.label, &b.block.stmts, after, false),
            syn::Expr::Unsafe(u) => self.stmts(&u.block.stmts, after),
            syn::Expr::Loop(l) => self.labelled(&l.label, &l.body.stmts, after, true),
            syn::Expr::If(i) => {
                let t = self.stmts(&i.then_branch.stmts, after.clone());
                let f = match &i.else_branch {
                    Some((_, e)) => self.expr(e, after),
                    None => after,
                };
                let mut both = t;
                both.extend(f);
                self.expr(&i.cond, both)
            }
            syn::Expr::Match(m) => {
                let mut arms = Set::new();
                for arm in &m.arms {
                    let mut live = self.expr(&arm.body, after.clone());
                    if let Some((_, g)) = &arm.guard {
                        live = self.expr(g, live);
                    }
                    let mut bs = Vec::new();
                    super::vars::bindings(&arm.pat, true, &mut bs);
                    for b in bs {
                        live.remove(&b.name.to_string());
                    }
                    arms.extend(live);
                }
                self.expr(&m.expr, arms)
            }
            syn::Expr::Break(b) => {
                let out = self
                    .target(&b.label)
                    .map(|t| t.after.clone())
                    .unwrap_or_default();
                match &b.expr {
                    Some(v) => self.expr(v, out),
                    None => out,
                }
            }
            syn::Expr::Continue(c) => self
                .target(&c.label)
                .map(|t| t.top.clone())
                .unwrap_or_default(),
            syn::Expr::Return(r) => match &r.expr {
                Some(v) => self.expr(v, Set::new()),
                None => Set::new(),
            },
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                let mut r = self.expr(&b.right, after.clone());
                r.extend(after);
                self.expr(&b.left, r)
            }
            syn::Expr::Assign(a) => {
                let mut live = after;
                match super::vars::ident_of(&a.left) {
                    Some(x) => {
                        live.remove(&x);
                    }
                    None => {
                        live = self.expr(&a.left, live);
                    }
                }
                self.expr(&a.right, live)
            }
            _ => {
                let kids = children(e);
                let mut live = after;
                for c in kids.iter().rev() {
                    live = self.expr(c, live);
                }
                // The operands before the one holding points are pure (see `hoist`): the
                // resume path evaluates them again, so their names are needed there.
                if let Some(k) = kids.iter().rposition(|c| has_point_expr(c)) {
                    let skip_func = usize::from(matches!(e, syn::Expr::Call(_)));
                    let mut pre = Set::new();
                    for c in kids.iter().take(k).skip(skip_func) {
                        pre.extend(Uses::of_expr(c));
                    }
                    if !pre.is_empty() {
                        for id in super::points::ids_in_expr(kids[k]) {
                            self.at.entry(id).or_default().extend(pre.iter().cloned());
                        }
                    }
                }
                live
            }
        }
    }

    /// A loop (`repeat`) or a labelled block.
    fn labelled(
        &mut self,
        label: &Option<syn::Label>,
        stmts: &[syn::Stmt],
        after: Set,
        repeat: bool,
    ) -> Set {
        let name = label.as_ref().map(|l| l.name.ident.to_string());
        if !repeat {
            self.targets.push(Target {
                label: name,
                after: after.clone(),
                top: Set::new(),
            });
            let out = self.stmts(stmts, after);
            self.targets.pop();
            return out;
        }
        // The end of the body goes back to its top: iterate to the fixpoint.
        let mut top = Set::new();
        for _ in 0..64 {
            self.targets.push(Target {
                label: name.clone().or_else(|| Some(String::new())),
                after: after.clone(),
                top: top.clone(),
            });
            let new = self.stmts(stmts, top.clone());
            self.targets.pop();
            if new == top {
                break;
            }
            top.extend(new);
        }
        top
    }
}

/// The operands of `e` in evaluation order (see `hoist`).
fn children(e: &syn::Expr) -> Vec<&syn::Expr> {
    use syn::Expr::*;
    match e {
        Array(a) => a.elems.iter().collect(),
        Assign(a) => vec![&*a.right, &*a.left],
        Binary(b) => vec![&*b.left, &*b.right],
        Call(c) => std::iter::once(&*c.func).chain(c.args.iter()).collect(),
        Cast(c) => vec![&*c.expr],
        Field(f) => vec![&*f.base],
        Group(g) => vec![&*g.expr],
        Index(i) => vec![&*i.expr, &*i.index],
        MethodCall(m) => std::iter::once(&*m.receiver).chain(m.args.iter()).collect(),
        Paren(p) => vec![&*p.expr],
        Range(r) => r.start.iter().chain(r.end.iter()).map(|b| &**b).collect(),
        Reference(r) => vec![&*r.expr],
        Repeat(r) => vec![&*r.expr],
        Struct(s) => s
            .fields
            .iter()
            .map(|f| &f.expr)
            .chain(s.rest.iter().map(|b| &**b))
            .collect(),
        Try(t) => vec![&*t.expr],
        Tuple(t) => t.elems.iter().collect(),
        Unary(u) => vec![&*u.expr],
        Let(l) => vec![&*l.expr],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoNeeds;
    impl Needs for NoNeeds {
        fn needs(&self, _: u32, _: &syn::Expr) -> Set {
            Set::new()
        }
    }

    fn live(src: &str) -> Vec<(u32, Vec<String>)> {
        let b: syn::Block = syn::parse_str(src).unwrap();
        // Only locals (single lowercase letters and `acc`, `xs`, `it`) count here.
        let local = |n: &String| n.len() <= 2 || n == "acc";
        analyze(&b, &NoNeeds)
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().filter(local).collect()))
            .collect()
    }

    #[test]
    fn moved_into_the_call_or_assigned_after_is_not_live() {
        assert_eq!(
            live("{ let mut acc = a0; acc = acc.__ckpt_point_1(&xs); use_it(acc, xs); }"),
            [(1, vec!["xs".into()])]
        );
        assert_eq!(
            live("{ let r = __ckpt_point_1(data); print(r); }"),
            [(1, vec![])]
        );
    }

    #[test]
    fn the_other_branch_is_not_after_the_point() {
        assert_eq!(
            live("{ if c { __ckpt_point_1(); a; } else { b; } d; }"),
            [(1, vec!["a".into(), "d".into()])]
        );
    }

    #[test]
    fn loops_carry_their_body_around() {
        assert_eq!(
            live("{ 'l: loop { let x = it; if x { break 'l; } __ckpt_point_1(); y; } z; }"),
            [(1, vec!["it".into(), "y".into(), "z".into()])]
        );
    }
}
