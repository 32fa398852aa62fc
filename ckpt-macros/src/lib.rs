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
/// A named struct is saved as a map from field names to values, a tuple struct as an
/// array, an enum as its variant name (unit variants) or `{"Variant": payload}`.
///
/// Field attributes:
/// - `#[ckpt(skip)]`: not saved; `Default::default()` on load.
/// - `#[ckpt(init = path)]`: not saved; `path()` on load.
/// - `#[ckpt(serde)]`: saved through serde (the type implements `Serialize` and
///   `Deserialize`; ckpt's feature `serde`).
/// - `#[ckpt(with = path)]`: saved by `path::save(&T, &mut Encoder) -> Result<(), ckpt::Error>`
///   and loaded by `path::load(Value, &mut Loader) -> Result<T, ckpt::Error>`, like serde's
///   `with`: the way to save a field whose type comes from another crate and has no `State`
///   impl. See the `ckpt::state::State` documentation for an example.
///
/// `path` may also be written as a string literal (`init = "path"`).
#[proc_macro_derive(State, attributes(ckpt))]
pub fn derive_state(item: TokenStream) -> TokenStream {
    derive::expand(item.into()).into()
}
