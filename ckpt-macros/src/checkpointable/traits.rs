//! Which traits' objects ckpt can save: one rule for `#[checkpointable]` on a trait (which
//! makes `Box<dyn Trait>` `State`) and for ckpt-build's analysis (which tells the trait's
//! impls, in other items, that it did). ckpt-build includes this file as it is
//! (`#[path]`), so the two cannot disagree.

use quote::ToTokens;

/// Whether `Box<dyn Trait>` can be made of a trait (as far as syntax tells): no generics,
/// no associated types or constants, no supertrait that forbids it, and every method
/// callable on a trait object (no type parameters, no `Self` by value) unless it is
/// `where Self: Sized`.
pub(crate) fn dyn_capable(t: &syn::ItemTrait) -> bool {
    if !t.generics.params.is_empty() || t.generics.where_clause.is_some() {
        return false;
    }
    let blocked = [
        "Sized",
        "Clone",
        "Copy",
        "Default",
        "Eq",
        "PartialEq",
        "Ord",
        "PartialOrd",
        "Hash",
    ];
    for b in &t.supertraits {
        if let syn::TypeParamBound::Trait(tb) = b {
            if tb
                .path
                .segments
                .last()
                .is_some_and(|s| blocked.contains(&s.ident.to_string().as_str()))
            {
                return false;
            }
        }
    }
    let sized_only = |sig: &syn::Signature| {
        sig.generics.where_clause.as_ref().is_some_and(|w| {
            w.predicates.iter().any(|p| {
                matches!(p, syn::WherePredicate::Type(pt)
                    if matches!(&pt.bounded_ty, syn::Type::Path(tp) if tp.path.is_ident("Self"))
                        && pt.bounds.iter().any(|b| matches!(b, syn::TypeParamBound::Trait(tb) if tb.path.is_ident("Sized"))))
            })
        })
    };
    for it in &t.items {
        match it {
            syn::TraitItem::Fn(f) => {
                if sized_only(&f.sig) {
                    continue;
                }
                if f.sig.generics.type_params().next().is_some() {
                    return false;
                }
                let by_value_self = f.sig.inputs.first().is_some_and(|a| {
                    matches!(a, syn::FnArg::Receiver(r) if r.reference.is_none()
                        && matches!(&*r.ty, syn::Type::Path(tp) if tp.path.is_ident("Self")))
                });
                let mentions_self = |ts: proc_macro2::TokenStream| {
                    ts.into_iter()
                        .any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i == "Self"))
                };
                let returns_self = match &f.sig.output {
                    syn::ReturnType::Type(_, ty) => mentions_self(ty.to_token_stream()),
                    syn::ReturnType::Default => false,
                };
                let takes_self = f
                    .sig
                    .inputs
                    .iter()
                    .skip(1)
                    .any(|a| mentions_self(a.to_token_stream()));
                if by_value_self || returns_self || takes_self || f.sig.receiver().is_none() {
                    return false;
                }
            }
            syn::TraitItem::Type(_) | syn::TraitItem::Const(_) => return false,
            _ => {}
        }
    }
    true
}
