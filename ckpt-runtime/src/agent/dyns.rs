//! Trait objects in checkpoints: `Box<dyn Trait>` for a `#[checkpointable] trait`.
//!
//! The trait gets a hidden method that each `#[checkpointable] impl Trait for T` fills in
//! ([`save_dyn`]): the value is written with its type and a constructor, a function of
//! this executable that loads a `T` and boxes it as the trait object (saved as a code
//! address, as `fn` pointers are). The trait's `State` impl for `Box<dyn Trait>` loads
//! through that constructor ([`load_dyn`]):
//!
//! ```text
//! 0xC4E0({ "type": "app::Download", "dyn": "alloc::boxed::Box<dyn app::Task>",
//!          "ctor": 0xC0DE(offset), "v": <the Download> })
//! ```
//!
//! A method of such an impl saves its `self` in this envelope too, so that a value lent
//! through `&mut dyn Trait` comes back in the form a `Box<dyn Trait>` loads; a loader
//! of the value's own type (`Download`) takes it out of the envelope (see
//! `Loader::load`).

use crate::error::{Error, Result};
use crate::state::code::{load_address, save_address};
use crate::state::{Encoder, Loader, State, Value};

/// Loads a `T` and boxes it as the trait object `B` (`Box<dyn Trait>`).
pub type DynCtor<B> = fn(Value, &mut Loader) -> Result<B>;

/// Writes `x`, a `T` behind a `B` (`Box<dyn Trait>`), with `ctor`, the function that makes
/// it again.
pub fn save_dyn<T: State, B>(e: &mut Encoder<'_>, x: &T, ctor: DynCtor<B>) -> Result<()> {
    e.tag(crate::state::DYN_TAG);
    e.map(4);
    e.text("type");
    e.text(std::any::type_name::<T>());
    e.text("dyn");
    e.text(std::any::type_name::<B>());
    e.text("ctor");
    save_address(ctor as usize, e)?;
    e.text("v");
    e.put(x)
}

/// Makes the `B` (`Box<dyn Trait>`) that [`save_dyn`] wrote.
pub fn load_dyn<B>(v: Value, l: &mut Loader) -> Result<B> {
    let want = std::any::type_name::<B>();
    let v = match v {
        Value::Tag(crate::state::DYN_TAG, inner) => *inner,
        other => return Err(Error::ty("", format!("a `{want}`"), other.kind())),
    };
    let mut fields = v.into_fields("a trait object")?;
    let ty: String = fields.take("type", l)?;
    let dyn_ty: String = fields.take("dyn", l)?;
    if dyn_ty != want {
        return Err(Error::ty(
            "",
            format!("a `{want}`"),
            format!("a `{dyn_ty}` (holding a `{ty}`)"),
        ));
    }
    let addr: usize = fields.take_with("ctor", l, load_address)?;
    let value: Value = fields.take_with("v", l, |v, _| Ok(v))?;
    // SAFETY: `addr` is, in this process, the function `save_dyn` was given for a `B`
    // (its type name was checked above) by this very executable (`load_address` checked
    // its identity): a `DynCtor<B>`.
    let ctor = unsafe { std::mem::transmute::<usize, DynCtor<B>>(addr) };
    ctor(value, l).map_err(|e| e.within(&ty))
}

/// The hidden method's body in a `#[checkpointable] trait`, for implementations that are
/// not `#[checkpointable]`: a save of such a value fails, saying what to annotate.
pub fn dyn_not_saveable(ty: &str, trait_name: &str) -> Result<()> {
    Err(Error::Unsaveable {
        at: format!("a `dyn {trait_name}` holding a `{ty}`"),
        detail: format!(
            "its `impl {trait_name} for {ty}` is not #[checkpointable]; annotate that impl \
             (and derive ckpt::State for the type)"
        ),
    })
}
