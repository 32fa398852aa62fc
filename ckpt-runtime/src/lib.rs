//! ckpt: compile-time checkpointing for ordinary Rust programs.
//!
//! Annotate `main` and the functions that hold save points with
//! [`#[checkpointable]`](checkpointable), call [`save()`] where a checkpoint makes sense,
//! and run the program with `--restore FILE` to continue after the last save point.
//!
//! ```no_run
//! use ckpt::checkpointable;
//!
//! #[checkpointable]
//! fn main() {
//!     let mut total = 0u64;
//!     for i in 0..1_000u64 {
//!         total += i;
//!         if i % 100 == 0 {
//!             ckpt::save().expect("checkpoint");
//!         }
//!     }
//!     println!("{total}");
//! }
//! ```
#![warn(missing_docs)]

// The derive macros name `::ckpt`: this lets the runtime derive `State` for its own types.
extern crate self as ckpt;

/// Enters a `tracing` span named `$name` for the rest of the enclosing block (feature
/// `tracing`; without it, nothing).
#[cfg(feature = "tracing")]
macro_rules! phase {
    ($name:literal $(, $k:ident = $v:expr)*) => {
        let _phase = tracing::info_span!($name $(, $k = tracing::field::display(&$v))*).entered();
    };
}
#[cfg(not(feature = "tracing"))]
macro_rules! phase {
    ($name:literal $(, $k:ident = $v:expr)*) => {
        $(let _ = &$v;)*
    };
}

pub mod collections;
pub mod env;
pub mod error;
pub mod fs;
pub mod gfx;
pub mod image;
pub mod io;
pub mod net;
mod policy;
pub mod rand;
pub mod replay;
pub mod state;
pub mod time;

#[cfg(feature = "agent")]
mod agent;
#[cfg(feature = "agent")]
pub use agent::{
    request_checkpoint, request_exit, restored, safepoint, save, save_to, wait_durable,
};

pub use ckpt_macros::{checkpointable, State};
pub use error::{Error, Result};
pub use state::State;

/// Items used by the code that `#[checkpointable]` and `#[derive(State)]` generate.
/// Not a public API: names and signatures change without notice.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "agent")]
    pub use crate::agent::private::*;
    pub use crate::state::{load_serde, save_serde, Serde, SerdeBridge};
    pub use crate::state::{Encoder, Loader, State, Value};
}
