//! The per-thread frame stack and the resume cursor.

use std::cell::RefCell;

use super::args::Entry;
use super::parts::{self, Step};
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
    /// Parameter names by position (the receiver first, as `self`), `#i` for patterns.
    pub params: &'static [&'static str],
    /// Where each save point and call point is in the source (`src/main.rs:12`), by point
    /// id - 1; empty where the compiler did not say. Written into frame records as
    /// `site` for `cargo ckpt inspect`; a restore never reads it.
    pub sites: &'static [&'static str],
}

impl FnInfo {
    /// `file:line` of point `id`, if known.
    pub(crate) fn site(&self, id: u32) -> Option<&'static str> {
        let i = usize::try_from(id).ok()?.checked_sub(1)?;
        self.sites.get(i).copied().filter(|s| !s.is_empty())
    }
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
/// and writes its parameters' entries through `Writer::arg_slot`.
pub struct Writer<'e, 'w> {
    pub(crate) enc: &'e mut Encoder<'w>,
    pub(crate) part: Part,
    /// The lent map of the caller's call into this frame (`("x", "#1")`: the caller's `x`
    /// comes back from this frame's parameter 1; `("#2", "#2")`: the caller's argument 2
    /// does).
    pub(crate) needs: &'e [(&'static str, &'static str)],
    /// The function whose frame is written.
    pub(crate) function: &'static str,
    /// Parts of locals lent to the callee, written as holes: (local, path, callee target).
    pub(crate) holes: &'e mut Vec<(String, Vec<Step>, &'static str)>,
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

    /// Writes a live local with a part lent to the call (`write` writes it with a hole
    /// there, see [`super::parts`]); `target` is the callee parameter (`#i`) holding it.
    pub fn put_part(
        &mut self,
        name: &str,
        path: &[Step],
        target: &'static str,
        write: impl FnOnce(&mut Encoder<'w>) -> Result<()>,
    ) -> Result<()> {
        if self.part == Part::Live {
            self.enc.text(name);
            write(self.enc)?;
            self.holes.push((name.to_string(), path.to_vec(), target));
        }
        Ok(())
    }

    /// Writes a `&mut` parameter with a part lent to the call, as its entry.
    pub fn put_arg_part(
        &mut self,
        pos: usize,
        name: &str,
        ty: &str,
        path: &[Step],
        target: &'static str,
        write: impl FnOnce(&mut Encoder<'w>) -> Result<()>,
    ) -> Result<()> {
        if let Some(enc) = self.arg_slot(pos, name, false) {
            enc.map(2);
            enc.text("type");
            enc.text(ty);
            enc.text("v");
            write(enc)?;
            self.holes.push((name.to_string(), path.to_vec(), target));
        }
        Ok(())
    }

    /// Writes the iterator of a loop saved by count.
    pub fn put_count(&mut self, name: &str, n: u64) -> Result<()> {
        if let Some(enc) = self.live_encoder(name) {
            enc.map(1);
            enc.text("count");
            enc.uint(n);
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

    /// Whether the caller needs parameter `pos` of this frame handed back.
    pub(crate) fn caller_needs(&self, pos: usize) -> bool {
        let target = format!("#{pos}");
        self.needs.iter().any(|(_, t)| *t == target)
            || (pos == 0 && self.needs.iter().any(|(_, t)| *t == "self"))
    }

    /// The function whose frame is written.
    pub(crate) fn function(&self) -> &'static str {
        self.function
    }

    /// The encoder positioned at the entry of parameter `pos` (key written), in the
    /// argument part; `None` elsewhere, or when `needed_only` and the caller does not need
    /// it.
    pub(crate) fn arg_slot(
        &mut self,
        pos: usize,
        key: &str,
        needed_only: bool,
    ) -> Option<&mut Encoder<'w>> {
        if self.part != Part::Args || (needed_only && !self.caller_needs(pos)) {
            return None;
        }
        self.enc.text(key);
        Some(&mut *self.enc)
    }
}

/// A call point registered by a caller for the duration of one call.
pub(crate) struct CallReg {
    pub id: u32,
    pub callee: &'static str,
    pub lent: &'static [(&'static str, &'static str)],
    /// Lifetime erased; see `Frame::enter_call` for why this is sound. `None` for a
    /// barrier.
    pub capture: Option<*const Capture<'static>>,
    pub consumed: bool,
    /// A call that cannot be resumed, and why.
    pub barrier: Option<&'static str>,
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
            if d > 0 {
                if let Some(why) = self.stack[d - 1].call.as_ref().and_then(|c| c.barrier) {
                    return Err(Error::UnregisteredCall {
                        function: f.info.name.into(),
                        caller: caller.into(),
                        detail: why.into(),
                    });
                }
            }
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

    /// Removes the value of `name` for the frame at `depth`: its own live value, or the
    /// value lent down the lent map to the frame that saved it.
    pub fn take_value(&mut self, depth: usize, name: &str) -> Result<Value, String> {
        let Some(rec) = self.records.get_mut(depth).and_then(Option::as_mut) else {
            return Err(format!("frame {depth} is not resuming"));
        };
        if let Some(i) = rec.live.iter().position(|(n, _)| n == name) {
            let mut v = rec.live.swap_remove(i).1;
            self.fill_holes(depth, name, &mut v)?;
            return Ok(v);
        }
        let entry = self.take_entry(depth, name)?;
        entry
            .value
            .ok_or_else(|| format!("the image holds no value for `{name}`"))
    }

    /// Puts back into `v` (the value of `name` in the frame at `depth`) the parts that
    /// frame lent to its callee, each from the frame down the lent map that saved it.
    fn fill_holes(&mut self, depth: usize, name: &str, v: &mut Value) -> Result<(), String> {
        let holes: Vec<_> = match self.records.get(depth).and_then(Option::as_ref) {
            Some(rec) => rec
                .holes
                .iter()
                .filter(|h| h.local == name)
                .cloned()
                .collect(),
            None => return Ok(()),
        };
        for h in holes {
            let part = self.follow(depth + 1, h.param.clone(), None)?;
            let Some(value) = part.value else {
                return Err(format!(
                    "the image holds no value for the part of `{name}` lent"
                ));
            };
            if !parts::fill(v, &h.path, value) {
                return Err(format!("`{name}` has no hole where its lent part goes"));
            }
        }
        Ok(())
    }

    /// The entry of the callee parameter that `name` (a local, or `#i` for an argument)
    /// was lent to at the call the frame at `depth` stopped in: its type and constructor
    /// from the first callee, its value from the frame down the lent map that saved it.
    pub(crate) fn take_entry(&mut self, depth: usize, name: &str) -> Result<Entry, String> {
        let Some(rec) = self.records.get(depth).and_then(Option::as_ref) else {
            return Err(format!("frame {depth} is not resuming"));
        };
        let Some(param) = rec
            .lent
            .iter()
            .find(|(l, _)| l == name)
            .map(|(_, p)| p.clone())
        else {
            return Err(format!("`{}` holds no value for `{name}`", rec.function));
        };
        self.follow(depth + 1, param, None)
    }

    /// The entry of parameter `param` of the frame at `depth`, its value from the frame
    /// down the lent map that saved it (`first`: the entry met so far, whose type and
    /// constructor are the caller's).
    fn follow(
        &mut self,
        depth: usize,
        mut param: String,
        mut first: Option<Entry>,
    ) -> Result<Entry, String> {
        for d in depth..self.records.len() {
            let Some(callee) = self.records[d].as_mut() else {
                break;
            };
            let function = callee.function.clone();
            let entry = callee
                .args
                .iter()
                .position(|(n, _)| *n == param)
                .map(|i| Entry::parse(callee.args.swap_remove(i).1));
            if let Some(mut e) = entry {
                if e.value.is_some() || e.absent {
                    if let Some(v) = e.value.as_mut() {
                        self.fill_holes(d, &param, v)?;
                    }
                    return Ok(match first {
                        Some(mut f) => {
                            f.value = e.value;
                            f.absent = e.absent;
                            f
                        }
                        None => e,
                    });
                }
                first.get_or_insert(e);
            }
            let callee = self.records[d].as_ref().expect("checked above");
            match callee.lent.iter().find(|(l, _)| *l == param) {
                Some((_, p)) => param = p.clone(),
                None => {
                    return Err(format!(
                        "`{function}` neither saved nor lent on its parameter `{param}`"
                    ))
                }
            }
        }
        Err(format!("no frame holds the value lent as `{param}`"))
    }

    /// The entry of this frame's own parameter `key`, if still in the image.
    pub(crate) fn take_own_arg(&mut self, depth: usize, key: &str) -> Option<Entry> {
        let rec = self.records.get_mut(depth)?.as_mut()?;
        let i = rec.args.iter().position(|(n, _)| n == key)?;
        Some(Entry::parse(rec.args.swap_remove(i).1))
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
                let Some(capture) = call.capture else {
                    return Err(Error::UnregisteredCall {
                        function: self.stack[d + 1].info.name.into(),
                        caller: act.info.name.into(),
                        detail: call.barrier.unwrap_or("the call cannot be resumed").into(),
                    });
                };
                // SAFETY: the capture was registered by `Frame::enter_call` through a
                // `CallGuard` that borrows it and unregisters it on drop; the guard is
                // created only by macro-generated code, which never leaks it, so the
                // pointer is live for as long as the registration exists.
                (call.id, call.lent, unsafe { &*capture })
            };
            // What this frame's caller needs handed back.
            let needs: &[(&'static str, &'static str)] = match d {
                0 => &[],
                _ => self.stack[d - 1].call.as_ref().map_or(&[], |c| c.lent),
            };
            let site = act.info.site(point);
            enc.map(if site.is_some() { 8 } else { 7 });
            enc.text("fn");
            enc.text(act.info.name);
            enc.text("hash");
            enc.uint(act.info.hash);
            enc.text("at");
            enc.uint(point as u64);
            if let Some(site) = site {
                enc.text("site");
                enc.text(site);
            }
            let mut holes = Vec::new();
            for (key, part) in [("live", Part::Live), ("args", Part::Args)] {
                enc.text(key);
                enc.map_indef();
                cap(&mut Writer {
                    enc,
                    part,
                    needs,
                    function: act.info.name,
                    holes: &mut holes,
                })?;
                enc.end();
            }
            enc.text("holes");
            enc.array(holes.len() as u64);
            for (local, path, target) in &holes {
                enc.array(3);
                enc.text(local);
                enc.array(path.len() as u64);
                for step in path {
                    step.save(enc);
                }
                enc.text(&self.resolve_param(d + 1, target));
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
