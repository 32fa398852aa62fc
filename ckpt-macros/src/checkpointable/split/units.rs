//! The statement-level visitors of `split`: NORMAL expansion of a statement's points, the
//! RESUME of the statement that holds the target, and the retargeting of a resumed loop
//! iteration's `break`/`continue`.

use super::*;

/// NORMAL: expands the points of one statement; nested blocks are NORMAL too.
pub(super) struct Expand<'c, 'a> {
    pub(super) ctx: &'c mut Ctx<'a>,
    pub(super) counted: &'c [String],
}

impl VisitMut for Expand<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let Some(id) = marker_id(e) {
            // Receiver and arguments first: they may hold nested blocks.
            syn::visit_mut::visit_expr_mut(self, e);
            let ts = self.ctx.expand_point(id, e, self.counted, Path::Normal);
            *e = parse(ts);
            return;
        }
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            syn::Expr::Block(b) if has_point_block(&b.block) => {
                let ts = self.ctx.normal(&b.block.stmts);
                b.block = parse_block(ts);
            }
            syn::Expr::Unsafe(b) if has_point_block(&b.block) => {
                let ts = self.ctx.normal(&b.block.stmts);
                b.block = parse_block(ts);
            }
            syn::Expr::Loop(l) if has_point_block(&l.body) => {
                let ts = self.ctx.normal(&l.body.stmts);
                l.body = parse_block(ts);
            }
            syn::Expr::Match(m) => {
                syn::visit_mut::visit_expr_match_mut(self, m);
                // The types of arm bindings taken back on the resume path.
                for arm in m.arms.iter_mut() {
                    let mut bs = Vec::new();
                    bindings(&arm.pat, true, &mut bs);
                    let marks = self.ctx.mark_names(bs.iter().map(|b| b.name.to_string()));
                    if marks.is_empty() {
                        continue;
                    }
                    let body = &arm.body;
                    *arm.body = parse(quote!({ #marks #body }));
                    arm.comma = Some(Default::default());
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        if has_point_block(b) {
            let ts = self.ctx.normal(&b.stmts);
            *b = parse_block(ts);
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// RESUME of one statement: finds the unit holding the target and resumes into it; the
/// code around it is kept (it is pure: `hoist` made it so).
pub(super) struct ResumeUnit<'c, 'a> {
    pub(super) ctx: &'c mut Ctx<'a>,
    pub(super) counted: &'c [String],
    /// Names the resume path has bound already.
    pub(super) restored: &'c BTreeSet<String>,
    /// Names bound around the statement.
    pub(super) scope: &'c BTreeSet<String>,
    pub(super) done: bool,
}

impl ResumeUnit<'_, '_> {
    /// A block resumed: RESUME of its statements.
    fn block(
        &mut self,
        b: &syn::Block,
        restored: &BTreeSet<String>,
        scope: &BTreeSet<String>,
    ) -> syn::Block {
        let ts = self.ctx.resume(&b.stmts, &BTreeSet::new(), restored, scope);
        parse_block(ts)
    }

    /// What a branch holding `ids` binds before it runs: the names every one of its
    /// points needs, bound around it (`scope`) and not bound yet. Returns the code and all
    /// names bound after it.
    fn branch_restore(
        &self,
        ids: &[u32],
        scope: &BTreeSet<String>,
    ) -> (TokenStream, BTreeSet<String>) {
        let mut need = self.ctx.common(ids, self.restored, &BTreeSet::new());
        need.retain(|n| scope.contains(n));
        let (ts, mut bound) = self.ctx.restore_names(&need);
        bound.extend(self.restored.iter().cloned());
        (ts, bound)
    }

    /// Chooses among branches by the target's range; `None` for branches without points.
    fn choose(&mut self, branches: Vec<(Vec<u32>, TokenStream)>) -> TokenStream {
        let with: Vec<(Vec<u32>, TokenStream)> = branches
            .into_iter()
            .filter(|(ids, _)| !ids.is_empty())
            .collect();
        let what = format!("no branch in `{}` holds the point", self.ctx.model.name);
        let mut out = quote! { ::ckpt::__private::resume_failed(&__ck, #what) };
        for (i, (ids, ts)) in with.iter().enumerate().rev() {
            if i + 1 == with.len() && i == 0 {
                out = quote! { { #ts } };
                break;
            }
            let lo = ids.iter().min().expect("ids");
            let hi = ids.iter().max().expect("ids");
            out = quote! { if __ck.resume_in(#lo, #hi) { #ts } else { #out } };
        }
        out
    }
}

impl ResumeUnit<'_, '_> {
    /// A branch (a block or an expression) resumed: what its points all need, then its
    /// code resumed.
    fn branch(&mut self, e: &syn::Expr, ids: &[u32], pat: Option<&syn::Pat>) -> TokenStream {
        let mut scope = self.scope.clone();
        if let Some(p) = pat {
            let mut bs = Vec::new();
            bindings(p, true, &mut bs);
            scope.extend(bs.iter().map(|b| b.name.to_string()));
        }
        let (restore, bound) = self.branch_restore(ids, &scope);
        let body = match e {
            syn::Expr::Block(b) if b.label.is_none() => {
                let b = self.block(&b.block, &bound, &scope);
                quote!(#b)
            }
            other => {
                let mut x = other.clone();
                let mut r = ResumeUnit {
                    ctx: self.ctx,
                    counted: self.counted,
                    restored: &bound,
                    scope: &scope,
                    done: false,
                };
                r.visit_expr_mut(&mut x);
                quote!(#x)
            }
        };
        quote! { #restore #body }
    }
}

impl VisitMut for ResumeUnit<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if self.done || !has_point_expr(e) {
            return;
        }
        if let Some(id) = marker_id(e) {
            self.done = true;
            let ts = self.ctx.expand_point(id, e, self.counted, Path::Resume);
            *e = parse(ts);
            return;
        }
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            syn::Expr::Block(b) => {
                self.done = true;
                let (restored, scope) = (self.restored, self.scope);
                b.block = self.block(&b.block, restored, scope);
            }
            syn::Expr::Unsafe(b) => {
                self.done = true;
                let (restored, scope) = (self.restored, self.scope);
                b.block = self.block(&b.block, restored, scope);
            }
            syn::Expr::If(i) => {
                self.done = true;
                let mut branches = Vec::new();
                let then_ids = ids_in_block(&i.then_branch);
                if !then_ids.is_empty() {
                    let then = syn::Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block: i.then_branch.clone(),
                    });
                    let ts = self.branch(&then, &then_ids, None);
                    branches.push((then_ids, ts));
                }
                if let Some((_, els)) = &i.else_branch {
                    let ids = super::super::points::ids_in_expr(els);
                    if !ids.is_empty() {
                        let ts = self.branch(els, &ids, None);
                        branches.push((ids, ts));
                    }
                }
                let ts = self.choose(branches);
                *e = parse(quote!({ #ts }));
            }
            syn::Expr::Match(m) => {
                self.done = true;
                let mut branches = Vec::new();
                for arm in &m.arms {
                    let ids = super::super::points::ids_in_expr(&arm.body);
                    if !ids.is_empty() {
                        let ts = self.branch(&arm.body, &ids, Some(&arm.pat));
                        branches.push((ids, ts));
                    }
                }
                let ts = self.choose(branches);
                *e = parse(quote!({ #ts }));
            }
            syn::Expr::Loop(l) => {
                // The resumed iteration, then the loop as written. In the resumed
                // iteration `continue 'l` goes on to the loop and `break 'l` leaves both:
                //
                //   'exit: { 'first: { RESUME(body) } 'l: loop { NORMAL(body) } }
                self.done = true;
                self.ctx.next_loop += 1;
                let n = self.ctx.next_loop;
                let first = syn::Lifetime::new(
                    &format!("'__ckpt_first{n}"),
                    proc_macro2::Span::call_site(),
                );
                let exit =
                    syn::Lifetime::new(&format!("'__ckpt_exit{n}"), proc_macro2::Span::call_site());
                let resumed =
                    self.ctx
                        .resume(&l.body.stmts, &BTreeSet::new(), self.restored, self.scope);
                let mut resumed = parse_block(resumed);
                if let Some(label) = &l.label {
                    Retarget {
                        label: &label.name,
                        first: &first,
                        exit: &exit,
                    }
                    .visit_block_mut(&mut resumed);
                }
                let normal = self.ctx.normal(&l.body.stmts);
                let label = &l.label;
                *e = parse(quote! {
                    #exit: {
                        #first: #resumed
                        #label loop { #normal }
                    }
                });
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// In a loop's resumed iteration: `continue 'l` → `break 'first`, `break 'l v` → `break
/// 'exit v`.
pub(super) struct Retarget<'l> {
    pub(super) label: &'l syn::Lifetime,
    pub(super) first: &'l syn::Lifetime,
    pub(super) exit: &'l syn::Lifetime,
}

impl VisitMut for Retarget<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        match e {
            syn::Expr::Continue(c) if c.label.as_ref() == Some(self.label) => {
                let first = self.first;
                *e = syn::parse_quote!(break #first);
            }
            syn::Expr::Break(b) if b.label.as_ref() == Some(self.label) => {
                b.label = Some(self.exit.clone());
            }
            _ => {}
        }
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

pub(super) fn parse(ts: TokenStream) -> syn::Expr {
    syn::parse2(ts.clone())
        .unwrap_or_else(|e| panic!("ckpt: generated code does not parse: {e}\n{ts}"))
}

pub(super) fn parse_block(ts: TokenStream) -> syn::Block {
    syn::parse2(quote!({ #ts }))
        .unwrap_or_else(|e| panic!("ckpt: generated block does not parse: {e}\n{ts}"))
}
