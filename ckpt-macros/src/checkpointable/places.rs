//! Syntactic facts about expressions that several passes share: what is a place, which
//! methods return a borrow of their receiver. No pass depends on another through these.

/// A place: a local, a field or an element of one, through `*`.
pub fn is_place(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(p) => p.qself.is_none() && p.path.segments.len() == 1,
        syn::Expr::Field(f) => is_place(&f.base),
        syn::Expr::Index(i) => is_place(&i.expr) && pure_index(&i.index),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is_place(&u.expr),
        syn::Expr::Paren(p) => is_place(&p.expr),
        _ => false,
    }
}

fn pure_index(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) | syn::Expr::Path(_) => true,
        syn::Expr::Range(r) => r.start.iter().chain(r.end.iter()).all(|x| pure_index(x)),
        syn::Expr::Binary(b) => pure_index(&b.left) && pure_index(&b.right),
        syn::Expr::Paren(p) => pure_index(&p.expr),
        _ => false,
    }
}

/// Methods that borrow their receiver and hand out something that borrows it.
const BORROWING: &[&str] = &[
    "iter",
    "iter_mut",
    "chars",
    "char_indices",
    "bytes",
    "lines",
    "split",
    "split_whitespace",
    "split_ascii_whitespace",
    "splitn",
    "rsplit",
    "rsplitn",
    "split_terminator",
    "split_inclusive",
    "matches",
    "match_indices",
    "trim",
    "trim_start",
    "trim_end",
    "trim_matches",
    "trim_start_matches",
    "trim_end_matches",
    "strip_prefix",
    "strip_suffix",
    "as_str",
    "as_slice",
    "as_mut_slice",
    "as_ref",
    "as_mut",
    "as_bytes",
    "as_path",
    "as_os_str",
    "as_deref",
    "as_deref_mut",
    "to_str",
    "get",
    "get_mut",
    "first",
    "last",
    "first_mut",
    "last_mut",
    "keys",
    "values",
    "values_mut",
    "range",
    "range_mut",
    "windows",
    "chunks",
    "chunks_exact",
    "rchunks",
    "split_at",
    "split_at_mut",
    "split_first",
    "split_last",
    "peek",
    "borrow",
    "borrow_mut",
    "file_name",
    "extension",
    "parent",
    "file_stem",
];

/// A method whose result borrows from its receiver (`iter`, `chars`, `borrow`, ...).
pub fn borrowing_method(name: &str) -> bool {
    BORROWING.contains(&name)
}

#[cfg(test)]
mod tests;

/// `a::b::f` of a call `a::b::f(..)` by path, as text.
pub fn call_path(c: &syn::ExprCall) -> Option<String> {
    let syn::Expr::Path(p) = &*c.func else {
        return None;
    };
    let path: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    Some(path.join("::"))
}

/// `+=`, `-=`, ... : an assignment that reads its place too.
pub fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}
