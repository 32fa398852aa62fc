//! Procedural macros of ckpt. Use them through the `ckpt` crate, which re-exports them.

mod checkpointable;
mod derive;

use proc_macro::TokenStream;

/// Makes a function, an `impl` block or an inline `mod` resumable from a checkpoint.
///
/// See the `ckpt` crate documentation.
#[proc_macro_attribute]
pub fn checkpointable(attr: TokenStream, item: TokenStream) -> TokenStream {
    checkpointable::expand(attr.into(), item.into()).into()
}

/// Derives `ckpt::State` for a struct or an enum.
///
/// Field attributes: `#[ckpt(skip)]`, `#[ckpt(init = path)]`, `#[ckpt(serde)]`.
#[proc_macro_derive(State, attributes(ckpt))]
pub fn derive_state(item: TokenStream) -> TokenStream {
    derive::expand(item.into()).into()
}
