//! Pass `rename`: every binding of a function gets a name of its own.
//!
//! Shadowing is ordinary Rust (`let line = line.trim();`), but a save point may need
//! both bindings at once: the outer one to make the inner one again on restore, or to
//! save a value the inner one hides. So a binding that reuses a name already bound in
//! the function is renamed `name_ckpt_sN` (its N-th binding), with every use in its
//! scope: paths, struct shorthands (`S { x }`), macro arguments and the implicit
//! captures of format strings (`"{x}"`). Images show it as `name#N`.
//!
//! Closure parameters are left alone: closures hold no points, and the free names of a
//! closure are read with its scopes.

use std::collections::BTreeMap;

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::visit_mut::VisitMut;

/// Single underscore: the renamed binding stays snake case for the lint.
const SUFFIX: &str = "_ckpt_s";

/// The name an image shows for a binding: `line` or `line#2`.
pub fn display(name: &str) -> String {
    match name.rsplit_once(SUFFIX) {
        Some((base, n)) if n.chars().all(|c| c.is_ascii_digit()) => format!("{base}#{n}"),
        _ => name.to_string(),
    }
}

pub struct Renamer {
    scopes: Vec<Vec<(String, syn::Ident)>>,
    /// How many times each name has been bound so far.
    seen: BTreeMap<String, u32>,
}

impl Renamer {
    /// Starts with the function's parameters bound.
    pub fn new(params: impl IntoIterator<Item = String>) -> Renamer {
        let mut r = Renamer {
            scopes: vec![Vec::new()],
            seen: BTreeMap::new(),
        };
        for p in params {
            r.seen.insert(p.clone(), 1);
            let id = format_ident!("{}", p);
            r.scopes[0].push((p, id));
        }
        r
    }

    /// Renames the names in `mapping` (and nothing else) in what it visits; names bound
    /// inside (a closure's parameters, its `let`s) shadow them as in Rust.
    pub fn with_mapping(mapping: Vec<(String, syn::Ident)>) -> Renamer {
        let seen = mapping.iter().map(|(n, _)| (n.clone(), 1)).collect();
        Renamer {
            scopes: vec![mapping],
            seen,
        }
    }

    pub fn run(&mut self, body: &mut syn::Block) {
        // The body's statements share the parameters' scope.
        self.stmts(&mut body.stmts);
    }

    fn lookup(&self, name: &str) -> Option<&syn::Ident> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.iter().rev().find(|(n, _)| n == name).map(|(_, id)| id))
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        f(self);
        self.scopes.pop();
    }

    fn stmts(&mut self, stmts: &mut [syn::Stmt]) {
        for s in stmts {
            match s {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &mut l.init {
                        self.visit_expr_mut(&mut init.expr);
                        if let Some((_, e)) = &mut init.diverge {
                            self.visit_expr_mut(e);
                        }
                    }
                    self.bind(&mut l.pat, false, true);
                }
                syn::Stmt::Item(_) => {}
                other => self.visit_stmt_mut(other),
            }
        }
    }

    /// Binds the names of a pattern in the innermost scope. `in_match`: a lone
    /// capitalised identifier is a constant or variant, not a binding. `rename`: a name
    /// bound before gets a new one.
    fn bind(&mut self, p: &mut syn::Pat, in_match: bool, rename: bool) {
        use syn::Pat;
        match p {
            Pat::Ident(i) => {
                let s = i.ident.to_string();
                let constant =
                    in_match && i.subpat.is_none() && s.starts_with(|c: char| c.is_uppercase());
                if !constant {
                    let id = self.fresh(&i.ident, rename);
                    i.ident = id;
                }
                if let Some((_, sub)) = &mut i.subpat {
                    self.bind(sub, in_match, rename);
                }
            }
            Pat::Struct(s) => {
                for f in s.fields.iter_mut() {
                    let short = f.colon_token.is_none();
                    self.bind(&mut f.pat, in_match, rename);
                    if short {
                        if let (syn::Member::Named(m), Pat::Ident(pi)) = (&f.member, &*f.pat) {
                            if pi.ident != *m {
                                f.colon_token = Some(Default::default());
                            }
                        }
                    }
                }
            }
            Pat::Tuple(t) => t
                .elems
                .iter_mut()
                .for_each(|e| self.bind(e, in_match, rename)),
            Pat::TupleStruct(t) => t
                .elems
                .iter_mut()
                .for_each(|e| self.bind(e, in_match, rename)),
            Pat::Slice(s) => s
                .elems
                .iter_mut()
                .for_each(|e| self.bind(e, in_match, rename)),
            Pat::Reference(r) => self.bind(&mut r.pat, in_match, rename),
            Pat::Type(t) => self.bind(&mut t.pat, in_match, rename),
            Pat::Paren(p) => self.bind(&mut p.pat, in_match, rename),
            Pat::Or(o) => {
                let mut cases = o.cases.iter_mut();
                if let Some(first) = cases.next() {
                    self.bind(first, in_match, rename);
                }
                // The other cases bind the same names: use the first case's.
                for c in cases {
                    self.rename_uses_in_pat(c, in_match);
                }
            }
            _ => {}
        }
    }

    fn rename_uses_in_pat(&mut self, p: &mut syn::Pat, in_match: bool) {
        struct R<'a>(&'a Renamer, bool);
        impl VisitMut for R<'_> {
            fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
                let s = i.ident.to_string();
                let constant =
                    self.1 && i.subpat.is_none() && s.starts_with(|c: char| c.is_uppercase());
                if !constant {
                    if let Some(id) = self.0.lookup(&s) {
                        i.ident = syn::Ident::new(&id.to_string(), i.ident.span());
                    }
                }
                syn::visit_mut::visit_pat_ident_mut(self, i);
            }
        }
        R(self, in_match).visit_pat_mut(p);
    }

    fn fresh(&mut self, ident: &syn::Ident, rename: bool) -> syn::Ident {
        let name = ident.to_string();
        let id = if !rename {
            ident.clone()
        } else {
            let n = self.seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                syn::Ident::new(&format!("{name}{SUFFIX}{n}"), ident.span())
            } else {
                ident.clone()
            }
        };
        if let Some(top) = self.scopes.last_mut() {
            top.push((name, id.clone()));
        }
        id
    }

    fn renamed(&self, ident: &syn::Ident) -> Option<syn::Ident> {
        let id = self.lookup(&ident.to_string())?;
        (*id != *ident).then(|| syn::Ident::new(&id.to_string(), ident.span()))
    }

    /// A format string with its implicit captures renamed.
    fn format_string(&self, lit: &syn::LitStr) -> Option<syn::LitStr> {
        let text = lit.to_token_stream().to_string();
        let caps = super::vars::format_captures(&text);
        let mut out = String::new();
        let mut last = 0;
        let mut changed = false;
        for (range, name) in caps {
            if let Some(id) = self.lookup(&name) {
                if *id != name {
                    out.push_str(&text[last..range.start]);
                    out.push_str(&id.to_string());
                    last = range.end;
                    changed = true;
                }
            }
        }
        if !changed {
            return None;
        }
        out.push_str(&text[last..]);
        let mut lit2: syn::LitStr = syn::parse_str(&out).ok()?;
        lit2.set_span(lit.span());
        Some(lit2)
    }

    fn tokens(&self, ts: TokenStream) -> TokenStream {
        let mut out = Vec::new();
        let mut prev_dot = false;
        for tt in ts {
            let dot = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '.');
            let tt = match tt {
                TokenTree::Ident(i) if !prev_dot => match self.renamed(&i) {
                    Some(r) => TokenTree::Ident(r),
                    None => TokenTree::Ident(i),
                },
                TokenTree::Group(g) => {
                    let mut ng = proc_macro2::Group::new(g.delimiter(), self.tokens(g.stream()));
                    ng.set_span(g.span());
                    TokenTree::Group(ng)
                }
                other => other,
            };
            prev_dot = dot;
            out.push(tt);
        }
        out.into_iter().collect()
    }
}

impl VisitMut for Renamer {
    fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
        if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 {
            if let Some(r) = self.renamed(&p.path.segments[0].ident) {
                p.path.segments[0].ident = r;
            }
        }
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.scoped(|r| r.stmts(&mut b.stmts));
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        self.scoped(|r| {
            for p in c.inputs.iter_mut() {
                r.bind(p, false, false);
            }
            r.visit_expr_mut(&mut c.body);
        });
    }

    fn visit_arm_mut(&mut self, a: &mut syn::Arm) {
        self.scoped(|r| {
            r.bind(&mut a.pat, true, true);
            if let Some((_, g)) = &mut a.guard {
                r.visit_expr_mut(g);
            }
            r.visit_expr_mut(&mut a.body);
        });
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        let mut lets = Vec::new();
        self.cond_parts(&mut i.cond, &mut lets);
        self.scoped(|r| {
            for p in lets {
                r.bind(p, true, true);
            }
            r.visit_block_mut(&mut i.then_branch);
        });
        if let Some((_, e)) = &mut i.else_branch {
            self.visit_expr_mut(e);
        }
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        let mut lets = Vec::new();
        self.cond_parts(&mut w.cond, &mut lets);
        self.scoped(|r| {
            for p in lets {
                r.bind(p, true, true);
            }
            r.visit_block_mut(&mut w.body);
        });
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        self.scoped(|r| {
            r.bind(&mut f.pat, false, true);
            r.visit_block_mut(&mut f.body);
        });
    }

    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        if f.colon_token.is_none() {
            if let syn::Member::Named(m) = &f.member {
                if let Some(r) = self.renamed(m) {
                    f.colon_token = Some(Default::default());
                    f.expr = syn::parse_quote!(#r);
                    return;
                }
            }
        }
        syn::visit_mut::visit_field_value_mut(self, f);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        use syn::punctuated::Punctuated;
        // Macros that look at their tokens, not their values, see what the user wrote.
        let name = m.path.segments.last().map(|s| s.ident.to_string());
        if matches!(
            name.as_deref(),
            Some("stringify" | "concat" | "include" | "include_str" | "include_bytes" | "env")
        ) {
            return;
        }
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let before = m.tokens.to_string();
        let tokens = match syn::parse::Parser::parse2(parser, m.tokens.clone()) {
            Ok(mut args) => {
                for a in args.iter_mut() {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = a
                    {
                        if let Some(n) = self.format_string(s) {
                            *s = n;
                        }
                        continue;
                    }
                    self.visit_expr_mut(a);
                }
                quote!(#args)
            }
            Err(_) => self.tokens(m.tokens.clone()),
        };
        // Untouched unless a name in it was renamed (the tokens keep their spelling).
        if tokens.to_string() != quote_tokens_of(&before) {
            m.tokens = tokens;
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl Renamer {
    /// Visits the initializers of an `if`/`while` condition and returns its `let`
    /// patterns, to be bound over the body.
    fn cond_parts<'e>(&mut self, e: &'e mut syn::Expr, lets: &mut Vec<&'e mut syn::Pat>) {
        let and = matches!(e, syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)));
        if and {
            if let syn::Expr::Binary(b) = e {
                self.cond_parts(&mut b.left, lets);
                self.cond_parts(&mut b.right, lets);
            }
            return;
        }
        match e {
            syn::Expr::Let(l) => {
                self.visit_expr_mut(&mut l.expr);
                lets.push(&mut l.pat);
            }
            syn::Expr::Paren(p) => self.cond_parts(&mut p.expr, lets),
            other => self.visit_expr_mut(other),
        }
    }
}

/// `tokens` re-printed the way `quote!` prints them, to compare with a rebuilt stream.
fn quote_tokens_of(printed: &str) -> String {
    printed
        .parse::<TokenStream>()
        .map(|ts| {
            use syn::punctuated::Punctuated;
            let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
            match syn::parse::Parser::parse2(parser, ts.clone()) {
                Ok(args) => quote!(#args).to_string(),
                Err(_) => ts.to_string(),
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(src: &str) -> String {
        let mut b: syn::Block = syn::parse_str(src).unwrap();
        Renamer::new(["p".to_string()]).run(&mut b);
        let stmts = &b.stmts;
        quote!(#(#stmts)*).to_string()
    }

    #[test]
    fn shadowing_bindings_get_their_own_names() {
        assert_eq!(
            renamed(
                r#"{ let line = p; let line = line.trim(); println!("{line} {}", line.len()); }"#
            ),
            r#"let line = p ; let line_ckpt_s2 = line . trim () ; println ! ("{line_ckpt_s2} {}" , line_ckpt_s2 . len ()) ;"#
        );
    }

    #[test]
    fn scopes_end_where_rust_ends_them() {
        assert_eq!(
            renamed("{ let x = 1; { let x = 2; f(x); } g(x); let s = S { x }; }"),
            "let x = 1 ; { let x_ckpt_s2 = 2 ; f (x_ckpt_s2) ; } g (x) ; let s = S { x } ;"
        );
        assert_eq!(
            renamed("{ let x = 1; match o { Some(x) => f(x), None => g(x) } }"),
            "let x = 1 ; match o { Some (x_ckpt_s2) => f (x_ckpt_s2) , None => g (x) }"
        );
    }

    #[test]
    fn closures_keep_their_parameters() {
        assert_eq!(
            renamed("{ let x = 1; let f = |x| x + 1; let x = f(x); }"),
            "let x = 1 ; let f = | x | x + 1 ; let x_ckpt_s2 = f (x) ;"
        );
    }

    #[test]
    fn struct_shorthands_follow() {
        assert_eq!(
            renamed("{ let x = 1; let x = 2; let s = S { x }; let S { x } = s; }"),
            "let x = 1 ; let x_ckpt_s2 = 2 ; let s = S { x : x_ckpt_s2 } ; let S { x : x_ckpt_s3 } = s ;"
        );
        assert_eq!(display("x_ckpt_s3"), "x#3");
    }
}
