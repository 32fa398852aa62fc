//! Syntactic variable analysis: which locals an expression uses, which a pattern binds.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;

/// The free names of a piece of syntax: single-segment paths, identifiers inside macro
/// calls that are not expressions, and `{name}` in format strings, minus the names bound
/// inside it before their use (a `let` earlier in the same block, a closure parameter, a
/// `match` arm's or `for`'s pattern, `if let`/`while let`). A name bound inside refers to
/// that binding, not to an outer local of the same name.
#[derive(Default)]
pub struct Uses {
    used: BTreeSet<String>,
    skip: BTreeSet<String>,
    scopes: Vec<BTreeSet<String>>,
}

impl Uses {
    /// The free names of `stmts` (a `let` among them binds for the ones after it);
    /// the initializers of the locals named in `skip` do not count.
    pub fn of_stmts_skipping(stmts: &[syn::Stmt], skip: &BTreeSet<String>) -> BTreeSet<String> {
        let mut u = Uses {
            used: BTreeSet::new(),
            skip: skip.clone(),
            scopes: vec![BTreeSet::new()],
        };
        for s in stmts {
            u.visit_stmt(s);
        }
        u.used
    }

    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn use_name(&mut self, name: String) {
        if !self.bound(&name) {
            self.used.insert(name);
        }
    }

    fn bind(&mut self, p: &syn::Pat, in_match: bool) {
        let mut b = Vec::new();
        bindings(p, in_match, &mut b);
        if let Some(top) = self.scopes.last_mut() {
            top.extend(b.into_iter().map(|b| b.name.to_string()));
        }
    }

    /// Runs `f` in a new scope.
    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(BTreeSet::new());
        f(self);
        self.scopes.pop();
    }

    /// An `if`/`while` condition: the initializers of its `let`s are visited first, then
    /// their bindings scope over `body`.
    fn cond_then(&mut self, cond: &syn::Expr, body: impl FnOnce(&mut Self)) {
        let mut lets = Vec::new();
        let_parts(cond, &mut lets);
        for part in &lets {
            match part {
                CondPart::Let(l) => self.visit_expr(&l.expr),
                CondPart::Other(e) => self.visit_expr(e),
            }
        }
        self.scoped(|u| {
            for part in &lets {
                if let CondPart::Let(l) = part {
                    u.bind(&l.pat, true);
                }
            }
            body(u);
        });
    }

    fn tokens(&mut self, ts: &TokenStream) {
        for tt in ts.clone() {
            match tt {
                TokenTree::Ident(i) => self.use_name(i.to_string()),
                TokenTree::Group(g) => self.tokens(&g.stream()),
                TokenTree::Literal(l) => self.format_args(&l.to_string()),
                TokenTree::Punct(_) => {}
            }
        }
    }

    fn format_args(&mut self, lit: &str) {
        for (_, n) in format_captures(lit) {
            self.use_name(n);
        }
    }
}

/// A piece of an `if`/`while` condition: a `let` or another expression (`&&` chains are
/// split).
enum CondPart<'a> {
    Let(&'a syn::ExprLet),
    Other(&'a syn::Expr),
}

fn let_parts<'a>(e: &'a syn::Expr, out: &mut Vec<CondPart<'a>>) {
    match e {
        syn::Expr::Let(l) => out.push(CondPart::Let(l)),
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let_parts(&b.left, out);
            let_parts(&b.right, out);
        }
        syn::Expr::Paren(p) => let_parts(&p.expr, out),
        other => out.push(CondPart::Other(other)),
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 {
            self.use_name(p.path.segments[0].ident.to_string());
        }
        syn::visit::visit_expr_path(self, p);
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scoped(|u| {
            for s in &b.stmts {
                u.visit_stmt(s);
            }
        });
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.scoped(|u| {
            for p in &c.inputs {
                u.bind(p, false);
            }
            u.visit_expr(&c.body);
        });
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.scoped(|u| {
            u.bind(&a.pat, true);
            if let Some((_, g)) = &a.guard {
                u.visit_expr(g);
            }
            u.visit_expr(&a.body);
        });
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.scoped(|u| {
            u.bind(&f.pat, false);
            u.visit_block(&f.body);
        });
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        self.cond_then(&i.cond, |u| u.visit_block(&i.then_branch));
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.cond_then(&w.cond, |u| u.visit_block(&w.body));
    }
    /// Arguments that parse as comma-separated expressions (`println!`, `format!`,
    /// `assert_eq!`, `vec!`...) are visited as expressions, so a field name (`p.name`) is
    /// not a use of a local `name`; format strings add their `{name}` captures. Anything
    /// else counts every identifier (an over-approximation).
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        use syn::punctuated::Punctuated;
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        match syn::parse::Parser::parse2(parser, m.tokens.clone()) {
            Ok(args) => {
                for a in &args {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = a
                    {
                        self.format_args(&s.to_token_stream().to_string());
                    }
                    self.visit_expr(a);
                }
            }
            Err(_) => self.tokens(&m.tokens),
        }
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_local(&mut self, l: &'ast syn::Local) {
        let skipped = !self.skip.is_empty() && {
            let mut b = Vec::new();
            bindings(&l.pat, false, &mut b);
            b.iter().any(|b| self.skip.contains(&b.name.to_string()))
        };
        if !skipped {
            // The initializer (and `else`) see the names from before this `let`.
            if let Some(init) = &l.init {
                self.visit_expr(&init.expr);
                if let Some((_, e)) = &init.diverge {
                    self.visit_expr(e);
                }
            }
        }
        self.bind(&l.pat, false);
    }
}

/// A binding introduced by a pattern.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: syn::Ident,
    pub mutable: bool,
}

/// The bindings of a pattern, in source order. `in_match`: a lone capitalised
/// identifier is taken for a constant or unit variant, not a binding.
pub fn bindings(p: &syn::Pat, in_match: bool, out: &mut Vec<Binding>) {
    use syn::Pat;
    match p {
        Pat::Ident(i) => {
            let s = i.ident.to_string();
            let constant =
                in_match && i.subpat.is_none() && s.starts_with(|c: char| c.is_uppercase());
            if !constant {
                out.push(Binding {
                    name: i.ident.clone(),
                    mutable: i.mutability.is_some(),
                });
            }
            if let Some((_, sub)) = &i.subpat {
                bindings(sub, in_match, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|e| bindings(e, in_match, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|e| bindings(e, in_match, out)),
        Pat::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| bindings(&f.pat, in_match, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|e| bindings(e, in_match, out)),
        Pat::Reference(r) => bindings(&r.pat, in_match, out),
        Pat::Type(t) => bindings(&t.pat, in_match, out),
        Pat::Paren(p) => bindings(&p.pat, in_match, out),
        Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                bindings(first, in_match, out)
            }
        }
        _ => {}
    }
}

impl Uses {
    /// The free names of one expression.
    pub fn of_expr(e: &syn::Expr) -> BTreeSet<String> {
        let mut u = Uses {
            used: BTreeSet::new(),
            skip: BTreeSet::new(),
            scopes: vec![BTreeSet::new()],
        };
        u.visit_expr(e);
        u.used
    }

    /// The free names of one statement (its own bindings do not count for it).
    pub fn of_stmt(s: &syn::Stmt) -> BTreeSet<String> {
        Self::of_stmts_skipping(std::slice::from_ref(s), &BTreeSet::new())
    }
}

/// `x` for a path expression naming a single identifier.
pub fn ident_of(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p)
            if p.qself.is_none()
                && p.path.leading_colon.is_none()
                && p.path.segments.len() == 1
                && p.path.segments[0].arguments.is_none() =>
        {
            Some(p.path.segments[0].ident.to_string())
        }
        syn::Expr::Paren(p) => ident_of(&p.expr),
        _ => None,
    }
}

/// The names captured implicitly by a format string literal (`"{name}"`, `"{x:?}"`,
/// `"{:w$}"`), with their byte ranges in the literal's text.
pub fn format_captures(lit: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    if !lit.starts_with('"') && !lit.starts_with('r') {
        return out;
    }
    let b = lit.as_bytes();
    let ident_end = |mut j: usize| {
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let j = ident_end(start);
            if j > start && !b[start].is_ascii_digit() {
                out.push((start..j, lit[start..j].to_string()));
            }
            // The spec: `name$` for a width or precision is a capture too.
            let mut k = j;
            while k < b.len() && b[k] != b'}' {
                if b[k].is_ascii_alphabetic() || b[k] == b'_' {
                    let e = ident_end(k);
                    if b.get(e) == Some(&b'$') {
                        out.push((k..e, lit[k..e].to_string()));
                    }
                    k = e.max(k + 1);
                } else {
                    k += 1;
                }
            }
            i = k;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    fn free(src: &str) -> Vec<String> {
        let b: syn::Block = syn::parse_str(src).unwrap();
        Uses::of_stmts_skipping(&b.stmts, &BTreeSet::new())
            .into_iter()
            .collect()
    }

    #[test]
    fn names_bound_inside_are_not_free() {
        assert_eq!(
            free("{ let v = a; g(v); let w = |v| v + b; }"),
            ["a", "b", "g"]
        );
        assert_eq!(free("{ match x { Some(y) => y, None => z } }"), ["x", "z"]);
        assert_eq!(free("{ if let Some(q) = q { q } else { r } }"), ["q", "r"]);
        assert_eq!(free("{ for i in it { let v = i; v; } v }"), ["it", "v"]);
        assert_eq!(free("{ { let t = 1; t; } t }"), ["t"]);
        assert_eq!(
            free(r#"{ let name = 1; println!("{name} {}", p.name); other }"#),
            ["other", "p"]
        );
        assert_eq!(
            free(r#"{ let f = |x: i32| format!("{x:>width$.prec$}"); }"#),
            ["prec", "width"]
        );
    }
}
