//! Procedural macros of ckpt. Use them through the `ckpt` crate, which re-exports them.

mod checkpointable;
mod derive;

use proc_macro::TokenStream;

/// Makes a function, an `impl` block, a `trait` or an inline `mod` resumable from a
/// checkpoint: a restore continues right after the `ckpt::save()` that wrote the image,
/// inside the same calls, loops and branches, with the same local values.
///
/// - On `fn main`: the agent's prologue (options, restore) and the registration of the
///   statics and thread-locals that can change (found by `ckpt_build::instrument()` in
///   `build.rs`, which every crate using the attribute needs).
/// - On any other function or method (generic ones too): resumable when a save happens
///   in it or in a checkpointable function it calls. Values kept across a save point must
///   be `ckpt::State` (derive it); borrows are made again from what they borrow.
/// - On a `trait`: its default methods, and `Box<dyn Trait>` becomes `ckpt::State` (each
///   `#[checkpointable] impl Trait for T` saves its value with its type).
///
/// The code is otherwise left as written: std's types stay std's, except that `std::fs`,
/// `std::io`, `std::env` and `std::time` are routed to ckpt's components. Set
/// `CKPT_EXPAND=fn:<name>` while building to see what a function became. What cannot be
/// resumed (a save point inside a closure, say) is a compile error on the expression.
///
/// ```ignore
/// #[ckpt::checkpointable]
/// trait Task {
///     fn step(&mut self) -> bool;
/// }
///
/// #[derive(ckpt::State)]
/// struct Countdown(u32);
///
/// #[ckpt::checkpointable]
/// impl Task for Countdown {
///     fn step(&mut self) -> bool {
///         self.0 -= 1;
///         ckpt::save().expect("checkpoint");
///         self.0 > 0
///     }
/// }
///
/// #[ckpt::checkpointable]
/// fn main() {
///     let mut tasks: Vec<Box<dyn Task>> = vec![Box::new(Countdown(3))];
///     for t in tasks.iter_mut() {
///         while t.step() {}
///     }
/// }
/// ```
///
/// (Not compiled here: the macro crate cannot depend on the runtime. The `ckpt` crate's
/// documentation compiles its examples, and `tests/corpus` runs ninety programs like it.)
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
/// - `#[ckpt(secret, init = path)]`: a key, token or password: never written to an image
///   (nor shown by `cargo ckpt inspect`), made again at restore by `path()` (which reads
///   it again from where the program got it). `secret` without `init` is an error.
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
