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
