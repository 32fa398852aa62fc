//! State: how values are saved into and loaded from an image.
//!
//! A value implements [`State`] (built in for std types, `#[derive(ckpt::State)]` for
//! yours). Saving streams CBOR through an [`Encoder`]; reading decodes CBOR into a
//! [`Value`] tree ([`decode`]), and a [`Loader`] turns values back into Rust values.
//!
//! Layout of the encoding, so images stay readable by `cargo ckpt inspect`:
//! - named structs: a map with the field names as text keys; tuple structs: an array;
//!   unit structs: null; enums: `"Variant"` for a unit variant, else `{"Variant": payload}`
//!   (payload: an array for tuple variants, a map for struct variants).
//! - `Option`: null or a one-item array; `Result`: `{"Ok": v}` / `{"Err": e}`.
//! - slices of primitive numbers (`Vec<f64>`, `[u32; N]`, `Box<[i16]>`...): one RFC 8746
//!   typed array (tag + byte string, little endian), written and read in one system call.
//! - `Rc`/`Arc`: tag 28 around the first occurrence of an object, tag 29 + index later
//!   (the identity table lives in the encoder for the whole image).
//! - function pointers: tag 0xC0DE around an offset in the executable ([`code`]).
//!
//! Depth: values may nest as deep as the program's data (a linked list of a million
//! nodes). Saving and loading recurse once per level through [`Encoder::put`] and
//! [`Loader::load`], which move to a new stack segment when the current one is nearly
//! used up; decoding, dropping, comparing and re-encoding a [`Value`] tree use no stack
//! per level at all. The only nesting limit is [`MAX_TAG_CHAIN`] tags directly inside each
//! other, which the encoder refuses as the decoder does.

mod borrowed;
pub mod code;
mod collections;
pub(crate) mod decode;
mod encode;
mod impls;
mod iter;
mod loader;
mod net;
mod num;
mod remaining;
mod serde_bridge;
mod shared;
mod tree;
mod typed;
pub(crate) use typed::read_typed;
mod value;

#[cfg(test)]
mod tests;

pub use decode::{decode, decode_slice, DecodeError, Limits, MAX_LEN, MAX_TAG_CHAIN};

/// The hasher of ckpt's own maps and sets: fixed keys, never std's `RandomState`. std
/// gives each thread random keys once and steps them for every `RandomState` made after,
/// so a map ckpt made (at a save, say) would change the keys of the program's next maps,
/// and with them their iteration order: a replay, which makes no images, would then
/// iterate the program's maps in another order than the recorded run.
pub(crate) type Fixed = std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>;
/// A map of ckpt's own (see [`Fixed`]).
pub(crate) type FixedMap<K, V> = std::collections::HashMap<K, V, Fixed>;
/// A set of ckpt's own (see [`Fixed`]).
pub(crate) type FixedSet<T> = std::collections::HashSet<T, Fixed>;
pub use encode::Encoder;
#[doc(hidden)]
pub use encode::Shared as ShareOutcome;
pub(crate) use encode::{digest_of, Bulk, ALIGN};
pub use iter::StableOrder;

/// The CBOR tag of a trait object's envelope: `{type, dyn, ctor, v}` (see
/// `ckpt::__private::save_dyn`).
pub const DYN_TAG: u64 = 0xC4E0;
pub use loader::{Loader, SharedTable};
pub use remaining::Remaining;
pub use serde_bridge::{load_serde, save_serde};
#[doc(hidden)]
pub use serde_bridge::{Serde, SerdeBridge};
pub use tree::{Entries, Items};
#[doc(hidden)]
pub use value::{Elements, Fields};
pub use value::{TypedArray, Value};

use crate::Error;

/// Encodes one value into CBOR bytes, as an image holds it (for tests of `State` impls
/// and for tools).
pub fn to_vec<T: State>(v: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.put(v)?;
    e.finish()?;
    Ok(out)
}

/// Decodes and loads one value written by [`to_vec`] (or any single CBOR item).
pub fn from_slice<T: State>(bytes: &[u8]) -> Result<T, Error> {
    let (v, shared) = decode_slice(bytes)?;
    Loader::new(shared).load(v)
}

/// A value that can be saved in a checkpoint image and loaded back.
///
/// Derive it with `#[derive(ckpt::State)]`; it is implemented for the std types a
/// program usually holds (numbers, strings, collections, `Rc`/`Arc`, cells, locks...).
///
/// ```
/// #[derive(ckpt::State, Debug, PartialEq)]
/// struct Particle { pos: (f64, f64), hits: Vec<u32> }
///
/// let p = Particle { pos: (1.0, -2.5), hits: vec![3, 4] };
/// let bytes = ckpt::state::to_vec(&p).unwrap();
/// let back: Particle = ckpt::state::from_slice(&bytes).unwrap();
/// assert_eq!(back, p);
/// ```
///
/// # Types of other crates
///
/// The orphan rule keeps you from implementing `State` for a type of another crate, so
/// a field of such a type says how it is saved instead:
///
/// - `#[ckpt(with = path)]`: the module (or any path) `path` has
///   `fn save(v: &T, e: &mut Encoder<'_>) -> Result<(), ckpt::Error>` and
///   `fn load(v: Value, l: &mut Loader) -> Result<T, ckpt::Error>`, like serde's `with`;
/// - `#[ckpt(serde)]`: the type implements `Serialize` and `Deserialize` (feature `serde`);
/// - `#[ckpt(skip)]`: not saved, rebuilt with `Default` or `#[ckpt(init = path)]`.
///
/// ```
/// use ckpt::state::{Encoder, Loader, State, Value};
///
/// // Stands for a type of another crate: no `State` impl, fields public.
/// mod geo {
///     #[derive(Debug, PartialEq)]
///     pub struct Point { pub lat: f64, pub lon: f64 }
/// }
///
/// /// Saves a `geo::Point` as the pair `[lat, lon]`.
/// mod point_as_pair {
///     use super::*;
///     pub fn save(p: &geo::Point, e: &mut Encoder<'_>) -> Result<(), ckpt::Error> {
///         e.put(&(p.lat, p.lon))
///     }
///     pub fn load(v: Value, l: &mut Loader) -> Result<geo::Point, ckpt::Error> {
///         let (lat, lon) = l.load(v)?;
///         Ok(geo::Point { lat, lon })
///     }
/// }
///
/// #[derive(ckpt::State, Debug, PartialEq)]
/// struct Trip {
///     #[ckpt(with = point_as_pair)]
///     from: geo::Point,
///     km: f64,
/// }
///
/// # fn main() {
/// let t = Trip { from: geo::Point { lat: 48.85, lon: 2.35 }, km: 12.5 };
/// let back: Trip = ckpt::state::from_slice(&ckpt::state::to_vec(&t).unwrap()).unwrap();
/// assert_eq!(back, t);
/// # }
/// ```
///
/// # Implementing it by hand
///
/// Save the values a type holds with [`Encoder::put`] and load them with
/// [`Loader::load`], not by calling their `save`/`load` directly: those two grow the stack
/// when little is left, which is what lets values nested a million deep (a long
/// `Option<Box<Node>>` list) save and restore. Derived and built-in impls do.
///
/// `load` must not upgrade a `Weak` it was just given, nor drop a value that does so:
/// while a graph of shared objects is being rebuilt, an object reached through a `Weak`
/// may not be complete yet (derived impls and the built-in ones never upgrade). Strong
/// `Rc`/`Arc` cycles cannot be saved; make the back edge a `Weak`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be saved in a checkpoint",
    label = "`{Self}` does not implement `ckpt::State`",
    note = "derive `ckpt::State` for it or implement `ckpt::state::State` by hand; for a type of another crate, give the field `#[ckpt(with = module)]` (a module with `save` and `load` functions) or `#[ckpt(serde)]` (a Serialize + Deserialize type), or mark it `#[ckpt(skip)]` (rebuilt with `Default` or `#[ckpt(init = path)]`); for a `dyn Trait`, put `#[ckpt::checkpointable]` on the trait and on its impls"
)]
pub trait State: Sized {
    /// Writes `self` as exactly one CBOR item.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error>;

    /// Whether `load` takes a trait object's envelope itself (`Box<dyn Trait>` of a
    /// `#[checkpointable] trait`); any other type loads from the value inside one (a value
    /// saved behind `&mut dyn Trait` and loaded as its own type).
    #[doc(hidden)]
    const TAKES_DYN: bool = false;

    /// Rebuilds a value from what [`save`](State::save) wrote.
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error>;

    /// Some value of the type, only ever dropped: what a restore hands a function for a
    /// by-value parameter it had already moved away when it saved (`fn add(&mut self,
    /// item: T) { self.items.push(item); ckpt::save()?; … }`), whose value is gone.
    /// `None` (the default) when the type has none; then that save fails and says so.
    /// std's types give their `Default`, derived impls build one from their fields' (an
    /// enum from its first variant that has one and does not hold the enum itself).
    #[doc(hidden)]
    fn placeholder() -> Option<Self> {
        None
    }

    /// Writes a slice as one CBOR item. Element-wise (a CBOR array) by default;
    /// primitive numbers write one typed array instead (like `Hash::hash_slice`).
    #[doc(hidden)]
    fn save_slice(xs: &[Self], e: &mut Encoder<'_>) -> Result<(), Error> {
        e.array(xs.len() as u64);
        tree::grow_for_loop(|| xs.iter().try_for_each(|x| e.put(x)))
    }

    /// Reads what [`save_slice`](State::save_slice) wrote.
    #[doc(hidden)]
    fn load_vec(v: Value, l: &mut Loader) -> Result<Vec<Self>, Error> {
        match v {
            Value::Array(items) => tree::grow_for_loop(|| {
                let mut out = Vec::with_capacity(items.len());
                for (i, x) in items.into_iter().enumerate() {
                    out.push(l.load(x).map_err(|e| e.within_index(i))?);
                }
                Ok(out)
            }),
            other => Err(Error::ty("", "an array", other.kind())),
        }
    }
}
