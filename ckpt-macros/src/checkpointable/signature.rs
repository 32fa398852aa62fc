//! What a function's signature tells a caller (shared with ckpt-build's analysis, which
//! includes this file).

use quote::ToTokens;

/// A function whose arguments may fix a type parameter: its own type parameters, an
/// `impl Trait` parameter, or (for an associated function without `self`) the type
/// parameters of its `impl`. A call of one passes a computed argument back on the resume
/// path with the type the normal path gave it.
pub fn infers_from_args(sig: &syn::Signature, imp: Option<&syn::Generics>) -> bool {
    let own = sig.generics.type_params().next().is_some();
    let impl_arg = sig.inputs.iter().any(|a| match a {
        syn::FnArg::Typed(t) => {
            t.ty.to_token_stream()
                .into_iter()
                .any(|tt| matches!(tt, proc_macro2::TokenTree::Ident(i) if i == "impl"))
        }
        syn::FnArg::Receiver(_) => false,
    });
    let from_impl =
        sig.receiver().is_none() && imp.is_some_and(|g| g.type_params().next().is_some());
    own || impl_arg || from_impl
}

/// A function that returns an iterator of a type it does not name (`impl Iterator<..>`,
/// `Box<dyn Iterator<..>>`, or their double-ended and exact-size kin). A `for` with a save
/// point over one it calls is resumed by calling it again and skipping the items the loop
/// had taken.
pub fn returns_opaque_iterator(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, t) = output else {
        return false;
    };
    let mut opaque = false;
    let mut iterator = false;
    fn walk(ts: proc_macro2::TokenStream, opaque: &mut bool, iterator: &mut bool) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    if i == "impl" || i == "dyn" {
                        *opaque = true;
                    }
                    if matches!(
                        i.to_string().as_str(),
                        "Iterator" | "DoubleEndedIterator" | "ExactSizeIterator"
                    ) {
                        *iterator = true;
                    }
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), opaque, iterator),
                _ => {}
            }
        }
    }
    walk(t.to_token_stream(), &mut opaque, &mut iterator);
    opaque && iterator
}
