//! The per-thread frame stack and the resume cursor.

use std::cell::RefCell;

use crate::error::{Error, Result};
use crate::image::FrameRecord;
use crate::state::{Encoder, Loader, State, Value};

/// Static description of one checkpointable function, emitted by the macro.
#[derive(Debug)]
pub struct FnInfo {
    /// `name` or `Type::name`.
    pub name: &'static str,
    /// Hash of the function's tokens; a restore into a different body is refused.
    pub hash: u64,
    /// Parameter names by position (receiver excluded), `#i` for patterns.
    pub params: &'static [&'static str],
}

/// A capture: writes a frame's live locals (or its argument slots) into an image.
pub type Capture<'a> = dyn Fn(&mut Writer<'_, '_>) -> Result<()> + 'a;

/// Which part of a frame a capture is asked to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Live,
    Args,
}

/// Hands a capture the encoder; the capture calls [`Writer::put`] for each live local
/// and [`Writer::put_arg`] for each argument slot it holds innermost.
pub struct Writer<'e, 'w> {
    pub(crate) enc: &'e mut Encoder<'w>,
    pub(crate) part: Part,
}

impl<'w> Writer<'_, 'w> {
    /// Writes a live local.
    pub fn put<T: State>(&mut self, name: &str, v: &T) -> Result<()> {
        if self.part == Part::Live {
            self.enc.text(name);
            self.enc.put(v)?;
        }
        Ok(())
    }

    /// Writes an argument slot (`&mut` parameter or receiver) this frame holds innermost.
    pub fn put_arg<T: State>(&mut self, name: &str, v: &T) -> Result<()> {
        if self.part == Part::Args {
            self.enc.text(name);
            self.enc.put(v)?;
        }
        Ok(())
    }

    /// Gives raw access to the encoder for the live part (used by iterator captures).
    pub(crate) fn live_encoder(&mut self, name: &str) -> Option<&mut Encoder<'w>> {
        if self.part == Part::Live {
            self.enc.text(name);
            Some(&mut *self.enc)
        } else {
            None
        }
    }
}

/// A call point registered by a caller for the duration of one call.
pub(crate) struct CallReg {
    pub id: u32,
    pub callee: &'static str,
    pub lent: &'static [(&'static str, &'static str)],
    /// Lifetime erased; see `Frame::enter_call` for why this is sound.
    pub capture: *const Capture<'static>,
    pub consumed: bool,
}

/// One checkpointable function on the call stack.
pub(crate) struct Active {
    pub info: &'static FnInfo,
    pub call: Option<CallReg>,
    /// The callee name of the call point that opened this frame (`"main"` for the
    /// root); `None` if no call point was registered (a call ckpt did not see).
    pub opened_by: Option<&'static str>,
}

pub(crate) struct Agent {
    pub stack: Vec<Active>,
    /// The image's frames by depth while resuming; a frame's values are taken from its
    /// record, and values it lent to callees from theirs.
    pub records: Vec<Option<FrameRecord>>,
    /// The next frame opened resumes (set by `start` and by a resuming call point).
    pub resume_next: bool,
    pub loader: Option<Loader>,
    pub restored: bool,
    /// Image path of the restore in progress (for error messages).
    pub restore_path: Option<std::path::PathBuf>,
}

thread_local! {
    pub(crate) static AGENT: RefCell<Agent> = const { RefCell::new(Agent::new()) };
}

impl Agent {
    const fn new() -> Agent {
        Agent {
            stack: Vec::new(),
            records: Vec::new(),
            resume_next: false,
            loader: None,
            restored: false,
            restore_path: None,
        }
    }
}

/// `Type::name` and `name` match a call written as `name`.
pub(crate) fn same_fn(call: &str, info: &str) -> bool {
    call == info || info.rsplit("::").next() == Some(call)
}

impl Agent {
    /// Every frame up to `depth` was opened by a call ckpt registered, to that function.
    pub fn check_registered(&self, depth: usize) -> Result<()> {
        for (d, f) in self.stack[..=depth].iter().enumerate() {
            let caller = if d == 0 {
                "(not checkpointable)"
            } else {
                self.stack[d - 1].info.name
            };
            let detail = match f.opened_by {
                Some(callee) if same_fn(callee, f.info.name) => continue,
                Some("main") => "it was not reached from a #[checkpointable] main".to_string(),
                Some(callee) => format!("the call registered there was to `{callee}`"),
                None => {
                    "it was called through a function that is not #[checkpointable], or a call \
                         ckpt did not recognise (a closure, a method on a field or temporary)"
                        .to_string()
                }
            };
            return Err(Error::UnregisteredCall {
                function: f.info.name.into(),
                caller: caller.into(),
                detail,
            });
        }
        Ok(())
    }

    /// Removes the value of `name` for the frame at `depth`, following the lent map
    /// down to the frame that saved it.
    pub fn take_value(&mut self, depth: usize, name: &str) -> Result<Value, String> {
        let Some(rec) = self.records.get_mut(depth).and_then(Option::as_mut) else {
            return Err(format!("frame {depth} is not resuming"));
        };
        if let Some(i) = rec.live.iter().position(|(n, _)| n == name) {
            return Ok(rec.live.swap_remove(i).1);
        }
        let Some(mut param) = rec
            .lent
            .iter()
            .find(|(l, _)| l == name)
            .map(|(_, p)| p.clone())
        else {
            return Err(format!("`{}` holds no value for `{name}`", rec.function));
        };
        for d in depth + 1..self.records.len() {
            let Some(callee) = self.records[d].as_mut() else {
                break;
            };
            if let Some(i) = callee.args.iter().position(|(n, _)| *n == param) {
                return Ok(callee.args.swap_remove(i).1);
            }
            match callee.lent.iter().find(|(l, _)| *l == param) {
                Some((_, p)) => param = p.clone(),
                None => {
                    return Err(format!(
                        "`{}` neither saved nor lent on its argument `{param}`",
                        callee.function
                    ))
                }
            }
        }
        Err(format!("no frame holds the value lent as `{name}`"))
    }

    /// Writes every frame of the stack (outermost first), the innermost with `inner`.
    pub fn write_frames(&self, enc: &mut Encoder<'_>, at: u32, inner: &Capture<'_>) -> Result<()> {
        enc.array(self.stack.len() as u64);
        for (d, act) in self.stack.iter().enumerate() {
            let innermost = d + 1 == self.stack.len();
            let (point, lent, cap): (u32, &[(&str, &str)], &Capture<'_>) = if innermost {
                (at, &[], inner)
            } else {
                let call = act.call.as_ref().ok_or_else(|| Error::UnregisteredCall {
                    function: self.stack[d + 1].info.name.into(),
                    caller: act.info.name.into(),
                    detail: "the caller registered no call".into(),
                })?;
                // SAFETY: the capture was registered by `Frame::enter_call` through a
                // `CallGuard` that borrows it and unregisters it on drop; the guard is
                // created only by macro-generated code, which never leaks it, so the
                // pointer is live for as long as the registration exists.
                (call.id, call.lent, unsafe { &*call.capture })
            };
            enc.map(6);
            enc.text("fn");
            enc.text(act.info.name);
            enc.text("hash");
            enc.uint(act.info.hash);
            enc.text("at");
            enc.uint(point as u64);
            for (key, part) in [("live", Part::Live), ("args", Part::Args)] {
                enc.text(key);
                enc.map_indef();
                cap(&mut Writer { enc, part })?;
                enc.end();
            }
            enc.text("lent");
            enc.map(lent.len() as u64);
            for (local, target) in lent {
                enc.text(local);
                enc.text(&self.resolve_param(d + 1, target));
            }
        }
        Ok(())
    }

    /// `#i` → the callee's parameter name.
    fn resolve_param(&self, callee_depth: usize, target: &str) -> String {
        if let Some(i) = target
            .strip_prefix('#')
            .and_then(|i| i.parse::<usize>().ok())
        {
            if let Some(p) = self
                .stack
                .get(callee_depth)
                .and_then(|a| a.info.params.get(i))
            {
                return (*p).to_string();
            }
        }
        target.to_string()
    }
}
