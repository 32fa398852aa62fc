//! Syntactic variable analysis: which locals an expression uses, which a pattern binds.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;

/// Names used by a piece of syntax: single-segment paths, identifiers inside macro
/// calls and `{name}` in format strings.
#[derive(Default)]
pub struct Uses(pub BTreeSet<String>, BTreeSet<String>);

impl Uses {
    /// Like `of_stmts`, but the initializers of the locals named in `skip` do not count.
    pub fn of_stmts_skipping(stmts: &[syn::Stmt], skip: &BTreeSet<String>) -> BTreeSet<String> {
        let mut u = Uses(BTreeSet::new(), skip.clone());
        for s in stmts {
            u.visit_stmt(s);
        }
        u.0
    }

    fn tokens(&mut self, ts: &TokenStream) {
        for tt in ts.clone() {
            match tt {
                TokenTree::Ident(i) => {
                    self.0.insert(i.to_string());
                }
                TokenTree::Group(g) => self.tokens(&g.stream()),
                TokenTree::Literal(l) => format_args_of(&l.to_string(), &mut self.0),
                TokenTree::Punct(_) => {}
            }
        }
    }
}

/// `{name}` and `{name:?}` in a string literal.
fn format_args_of(lit: &str, out: &mut BTreeSet<String>) {
    if !lit.starts_with('"') && !lit.starts_with('r') {
        return;
    }
    let b = lit.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && !b[start].is_ascii_digit() {
                out.insert(lit[start..j].to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 {
            self.0.insert(p.path.segments[0].ident.to_string());
        }
        syn::visit::visit_expr_path(self, p);
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
                        format_args_of(&s.to_token_stream().to_string(), &mut self.0);
                    }
                    self.visit_expr(a);
                }
            }
            Err(_) => self.tokens(&m.tokens),
        }
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if !self.1.is_empty() {
            let mut b = Vec::new();
            bindings(&l.pat, false, &mut b);
            if b.iter().any(|b| self.1.contains(&b.name.to_string())) {
                return;
            }
        }
        syn::visit::visit_local(self, l);
    }
}

/// A binding introduced by a pattern.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: syn::Ident,
    pub mutable: bool,
}

impl Binding {
    /// `mut name` or `name`, to bind it again.
    pub fn pattern(&self) -> proc_macro2::TokenStream {
        let n = &self.name;
        if self.mutable {
            quote::quote!(mut #n)
        } else {
            quote::quote!(#n)
        }
    }
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
            if !constant && i.by_ref.is_none() {
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
