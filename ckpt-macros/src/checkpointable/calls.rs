//! Pass `calls`: the arguments of a call point, and the captures of every point.
//!
//! A call point calls the very function the user wrote, on the normal path and on the
//! resume path. Each argument (the receiver first, at position 0 of a method call) is
//! passed one of three ways:
//! - **Lend**: `&mut x`, or `x` when `x` is a `&mut` parameter, or a receiver `x`/`self`:
//!   the callee holds the value now, so the caller does not save it; the innermost
//!   frame that holds it does, and a restore hands it back to `x` through the *lent
//!   map* (DESIGN §4.5);
//! - **Same**: made again by the resume path exactly as written — a literal, a closure,
//!   an item, a borrow of a place, a binding that is itself made again;
//! - **Load**: any other value: evaluated once on the normal path; the callee saves the
//!   parameter it became, and the resume path passes that back (`resume_arg`), with its
//!   type taken from the callee's own signature.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use super::bindings::{Mode, Table};
use super::model::{FnModel, Passing};
use super::normalize::Norm;
use super::points::{marker_id, Kind, Points};
use super::rename::display;
use super::vars::{ident_of, Uses};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Lend(String),
    /// A part of a local (`&mut x.f[i]`, a receiver `self.engine`): the local is saved
    /// with a hole there, the callee saves the part.
    LendPart(LentPart),
    Same,
    /// `by_ref`: `&`/`&mut` of a temporary (`Some(mutable)`).
    Load {
        by_ref: Option<bool>,
    },
}

/// The local a part is lent from, and the path to the part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LentPart {
    pub root: String,
    /// The root is a reference (`self` in a `&mut self` method, a `&mut` parameter).
    pub deref: bool,
    pub path: Vec<PartStep>,
    /// An item of a loop over `X.iter_mut()` (`f(item)`, `item.m()`): the argument is
    /// passed as written on both paths (the item is made again on the resume path), and
    /// the root is read through the loop's pointer to it, taken before the loop.
    pub again: Option<syn::Ident>,
}

/// How a capture writes a part lent at a call: the root local through a raw pointer
/// (`ptr`) with a hole at `steps`, and the index temporaries the path uses.
pub struct PartCapture {
    pub root: String,
    pub deref: bool,
    pub ptr: syn::Ident,
    /// `&[Step::…]`.
    pub steps: TokenStream,
    /// `#i`: the callee parameter holding the part.
    pub target: String,
    pub ix: Vec<(syn::Ident, syn::Expr)>,
    /// The pointer to the root taken before a loop (see [`LentPart::again`]).
    pub given: Option<syn::Ident>,
}

/// The parts a call lends, with the names its expansion and its capture share.
pub fn part_captures(id: u32, args: &[Arg]) -> Vec<PartCapture> {
    let mut out = Vec::new();
    for (pos, a) in args.iter().enumerate() {
        let Arg::LendPart(p) = a else { continue };
        let ptr = quote::format_ident!("__ckpt_pr{}_{}", id, pos);
        let mut ix = Vec::new();
        let mut steps = Vec::new();
        for (n, st) in p.path.iter().enumerate() {
            match st {
                PartStep::Field(f) => steps.push(quote!(::ckpt::__private::Step::Field(#f))),
                PartStep::Index(e) => {
                    let t = quote::format_ident!("__ckpt_ix{}_{}_{}", id, pos, n);
                    let expr: syn::Expr =
                        syn::parse_str(e).unwrap_or_else(|_| syn::parse_quote!(0));
                    steps.push(quote!(::ckpt::__private::Step::Index(#t)));
                    ix.push((t, expr));
                }
            }
        }
        out.push(PartCapture {
            root: p.root.clone(),
            deref: p.deref,
            ptr,
            steps: quote!(&[#(#steps),*]),
            target: format!("#{pos}"),
            ix,
            given: p.again.clone(),
        });
    }
    out
}

/// The place a lent part is reached at, with the index temporaries.
fn part_place(p: &LentPart, pc: &PartCapture) -> TokenStream {
    let root = quote::format_ident!("{}", p.root);
    let mut place = if p.deref {
        quote!((*#root))
    } else {
        quote!(#root)
    };
    let mut ix = pc.ix.iter();
    for st in &p.path {
        match st {
            PartStep::Field(f) => {
                let m: syn::Member = syn::parse_str(f).unwrap_or_else(|_| syn::parse_quote!(0));
                place = quote!(#place.#m);
            }
            PartStep::Index(_) => {
                let (t, _) = ix.next().expect("one temporary per index");
                place = quote!(#place[#t]);
            }
        }
    }
    place
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartStep {
    Field(String),
    /// The index expression (evaluated once, before the call).
    Index(String),
}

/// `x.f[i].g` (or `*x`-rooted): the root binding, whether it is behind `*`, and the path.
fn part_of(e: &syn::Expr) -> Option<(String, bool, Vec<PartStep>)> {
    let mut path = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            syn::Expr::Field(f) => {
                let name = match &f.member {
                    syn::Member::Named(n) => n.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                path.push(PartStep::Field(name));
                cur = &f.base;
            }
            syn::Expr::Index(i) => {
                let ix = &i.index;
                path.push(PartStep::Index(quote!(#ix).to_string()));
                cur = &i.expr;
            }
            syn::Expr::Paren(p) => cur = &p.expr,
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                let root = ident_of(&u.expr)?;
                path.reverse();
                return Some((root, true, path));
            }
            _ => {
                let root = ident_of(cur)?;
                path.reverse();
                return Some((root, false, path));
            }
        }
    }
}

/// A lent part, when `e` is a place below a local that can be lent in part.
fn lent_part(
    e: &syn::Expr,
    model: &FnModel,
    table: &Table,
) -> Result<Option<LentPart>, &'static str> {
    let Some((root, mut deref, path)) = part_of(e) else {
        return Ok(None);
    };
    if path.is_empty() {
        return Ok(None);
    }
    if path
        .iter()
        .any(|s| matches!(s, PartStep::Index(i) if i.contains("..")))
    {
        return Err("it lends a range of a value");
    }
    match model.param_named(&root) {
        Some(p) => match p.passing {
            Passing::Mut | Passing::Shared => deref = true,
            Passing::Value => return Err("it lends a part of a parameter passed by value"),
        },
        None => match table.get(&root).map(|b| &b.mode) {
            Some(Mode::Take) if !deref => {}
            Some(_) | None => return Err("it lends a part of a value held by reference"),
        },
    }
    Ok(Some(LentPart {
        root,
        deref,
        path,
        again: None,
    }))
}

/// An item of a loop over `X.iter_mut()` passed to a call (`item`, `item.as_mut()`,
/// `&mut *item`, `&mut **item`): the part `X[n - 1]` it is.
fn item_part(a: &syn::Expr, model: &FnModel, table: &Table) -> Option<LentPart> {
    let mut cur = a;
    loop {
        match cur {
            syn::Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "as_mut" | "as_deref_mut") =>
            {
                cur = &m.receiver
            }
            syn::Expr::Reference(r) if r.mutability.is_some() => cur = &r.expr,
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => cur = &u.expr,
            syn::Expr::Paren(p) => cur = &p.expr,
            _ => break,
        }
    }
    let name = ident_of(cur)?;
    let b = table.get(&name)?;
    let lend = b.item.as_ref()?;
    let Mode::Head(it) = &b.mode else {
        return None;
    };
    let (root, mut deref, mut path) = part_of(&lend.coll)?;
    match model.param_named(&root) {
        Some(p) if p.passing != Passing::Value => deref = true,
        Some(_) => return None,
        None if !matches!(table.get(&root).map(|b| &b.mode), Some(Mode::Take)) => return None,
        None => {}
    }
    path.push(PartStep::Index(format!("(__ckpt_n_{it} as usize) - 1")));
    Some(LentPart {
        root,
        deref,
        path,
        again: Some(lend.ptr.clone()),
    })
}

/// Why a call cannot be resumed (its saves report it), or `None`.
pub type Unsupported = Option<&'static str>;

/// The arguments of a call marker, receiver first, and whether the call can be resumed.
pub fn classify(e: &syn::Expr, model: &FnModel, table: &Table) -> (Vec<Arg>, Unsupported) {
    let mut out = Vec::new();
    let mut unsupported = None;
    let mut one = |a: &syn::Expr, receiver: bool, out: &mut Vec<Arg>| {
        let (arg, why) = if receiver {
            receiver_arg(a, model, table)
        } else {
            value_arg(a, model, table)
        };
        if why.is_some() && unsupported.is_none() {
            unsupported = why;
        }
        out.push(arg);
    };
    match e {
        syn::Expr::MethodCall(m) => {
            one(&m.receiver, true, &mut out);
            for a in &m.args {
                one(a, false, &mut out);
            }
        }
        syn::Expr::Call(c) => {
            for a in &c.args {
                one(a, false, &mut out);
            }
        }
        _ => {}
    }
    (out, unsupported)
}

fn receiver_arg(a: &syn::Expr, model: &FnModel, table: &Table) -> (Arg, Unsupported) {
    if let Some(p) = item_part(a, model, table) {
        return (Arg::LendPart(p), None);
    }
    if let Some(x) = ident_of(a) {
        if table
            .get(&x)
            .is_some_and(|b| b.mut_borrow && !matches!(b.mode, Mode::Param))
        {
            return (
                Arg::Same,
                Some("its receiver is a mutable borrow of part of a value"),
            );
        }
        return (Arg::Lend(x), None);
    }
    match a {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => match ident_of(&u.expr) {
            Some(x) => (Arg::Lend(x), None),
            None => (Arg::Same, Some("its receiver is part of a value")),
        },
        syn::Expr::Paren(p) => receiver_arg(&p.expr, model, table),
        syn::Expr::Field(_) | syn::Expr::Index(_) => match lent_part(a, model, table) {
            Ok(Some(p)) => (Arg::LendPart(p), None),
            Ok(None) => (Arg::Same, Some("its receiver is part of a value")),
            Err(why) => (Arg::Same, Some(why)),
        },
        _ => (Arg::Load { by_ref: None }, None),
    }
}

fn value_arg(a: &syn::Expr, model: &FnModel, table: &Table) -> (Arg, Unsupported) {
    if let Some(p) = item_part(a, model, table) {
        return (Arg::LendPart(p), None);
    }
    match a {
        syn::Expr::Lit(_) | syn::Expr::Closure(_) => (Arg::Same, None),
        syn::Expr::Paren(p) => value_arg(&p.expr, model, table),
        syn::Expr::Path(p) if ident_of(a).is_none() => {
            let _ = p;
            (Arg::Same, None)
        }
        syn::Expr::Path(_) => {
            let x = ident_of(a).unwrap_or_default();
            if let Some(p) = model.param_named(&x) {
                return match p.passing {
                    Passing::Mut => (Arg::Lend(x), None),
                    Passing::Shared => (Arg::Same, None),
                    Passing::Value => (Arg::Load { by_ref: None }, None),
                };
            }
            match table.get(&x).map(|b| (&b.mode, b.mut_borrow)) {
                Some((Mode::Param, _)) => (Arg::Same, None),
                Some((_, true)) => (
                    Arg::Same,
                    Some("it passes a mutable borrow of part of a value"),
                ),
                Some((Mode::Rerun(_) | Mode::Head(_) | Mode::Rematch { .. }, _)) => {
                    (Arg::Same, None)
                }
                Some(_) => (Arg::Load { by_ref: None }, None),
                // Not a binding: a constant or a function item.
                None => (Arg::Same, None),
            }
        }
        syn::Expr::Reference(r) if r.mutability.is_some() => {
            if let Some(x) = ident_of(&r.expr) {
                return (Arg::Lend(x), None);
            }
            match &*r.expr {
                syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                    match ident_of(&u.expr) {
                        Some(x) => (Arg::Lend(x), None),
                        None => (Arg::Same, Some("it lends part of a value mutably")),
                    }
                }
                e if super::places::is_place(e) => match lent_part(e, model, table) {
                    Ok(Some(p)) => (Arg::LendPart(p), None),
                    Ok(None) => (Arg::Same, Some("it lends part of a value mutably")),
                    Err(why) => (Arg::Same, Some(why)),
                },
                _ => (Arg::Load { by_ref: Some(true) }, None),
            }
        }
        syn::Expr::Reference(r) => {
            if super::places::is_place(&r.expr) || matches!(&*r.expr, syn::Expr::Lit(_)) {
                (Arg::Same, None)
            } else {
                (
                    Arg::Load {
                        by_ref: Some(false),
                    },
                    None,
                )
            }
        }
        // A borrow made from a place (`text.as_bytes()`, `v.iter()`): made again.
        e if super::bindings::rerun_class(e) => (Arg::Same, None),
        _ => (Arg::Load { by_ref: None }, None),
    }
}

/// The names a point's resume path needs at the point itself: the arguments it makes
/// again and the locals it lends.
pub fn needs(e: &syn::Expr, points: &Points, model: &FnModel, table: &Table) -> BTreeSet<String> {
    let Some(id) = marker_id(e) else {
        return BTreeSet::new();
    };
    let mut out = BTreeSet::new();
    match &points.get(id).kind {
        Kind::Save { .. } => {
            if let syn::Expr::Call(c) = e {
                for a in &c.args {
                    out.extend(Uses::of_expr(a));
                }
            }
        }
        _ => {
            let (args, why) = classify(e, model, table);
            if why.is_some() {
                return out;
            }
            for (a, x) in args.iter().zip(operands(e)) {
                match a {
                    Arg::Lend(n) => {
                        out.insert(n.clone());
                    }
                    Arg::LendPart(p) => {
                        out.insert(p.root.clone());
                        if let Some(ptr) = &p.again {
                            out.insert(ptr.to_string());
                            out.extend(Uses::of_expr(x));
                        }
                    }
                    Arg::Same => out.extend(Uses::of_expr(x)),
                    Arg::Load { .. } => {}
                }
            }
        }
    }
    out
}

/// Receiver (for a method call) and arguments, in order.
pub fn operands(e: &syn::Expr) -> Vec<&syn::Expr> {
    match e {
        syn::Expr::MethodCall(m) => std::iter::once(&*m.receiver).chain(m.args.iter()).collect(),
        syn::Expr::Call(c) => c.args.iter().collect(),
        _ => Vec::new(),
    }
}

/// What the capture of one point writes.
pub struct CaptureSpec<'a> {
    pub model: &'a FnModel,
    pub table: &'a Table,
    pub norm: &'a Norm,
    /// The bindings live at the point (closed under what they need to be made again).
    pub live: &'a BTreeSet<String>,
    /// Locals lent to the call (not written by this frame).
    pub lent: &'a [String],
    /// Iterators whose count was copied before the point (`__ckpt_c_<iter>`).
    pub counted: &'a [String],
    /// Parts lent to the call.
    pub parts: &'a [PartCapture],
    pub span: Span,
}

impl CaptureSpec<'_> {
    /// `|__w| { … }`: writes the live locals and the parameters.
    /// The locals borrowed by a live `lends` closure, with the pointer a save reads each
    /// through (see `unmove`).
    fn lent_to_closures(&self) -> std::collections::BTreeMap<String, syn::Ident> {
        let mut out = std::collections::BTreeMap::new();
        for name in self.live {
            let Some(Mode::Rerun(syn::Stmt::Local(l))) = self.table.get(name).map(|b| &b.mode)
            else {
                continue;
            };
            let Some(ptrs) = l
                .init
                .as_ref()
                .and_then(|i| super::bindings::lends_call(&i.expr))
            else {
                continue;
            };
            for p in ptrs {
                let Some(pb) = self.table.get(&p) else {
                    continue;
                };
                let Mode::Rerun(syn::Stmt::Local(pl)) = &pb.mode else {
                    continue;
                };
                let Some(syn::Expr::Macro(m)) = pl.init.as_ref().map(|i| &*i.expr) else {
                    continue;
                };
                // `addr_of!(self)` too: `self` is a keyword, not an `Ident` to syn.
                if let Ok(x) = m
                    .mac
                    .parse_body_with(<syn::Ident as syn::ext::IdentExt>::parse_any)
                {
                    out.insert(x.to_string(), pb.ident.clone());
                }
            }
        }
        out
    }

    pub fn closure(&self) -> TokenStream {
        let lent_to_closures = self.lent_to_closures();
        let mut puts = Vec::new();
        for pc in self.parts {
            for (t, _) in &pc.ix {
                let key = t.to_string();
                puts.push(quote! { __w.put(#key, &#t)?; });
            }
            if self.model.param_named(&pc.root).is_some() {
                continue; // written with the parameters
            }
            let (key, ptr, steps, target) = (display(&pc.root), &pc.ptr, &pc.steps, &pc.target);
            puts.push(quote! {
                __w.put_part(#key, #steps, #target, |__e| {
                    #[allow(unused_imports)]
                    use ::ckpt::__private::{PartsYes as _, PartsNo as _};
                    (&&::ckpt::__private::Parts(#ptr)).__ckpt_save_except(#steps, __e)
                })?;
            });
        }
        for name in self.live {
            if self.lent.contains(name) || self.parts.iter().any(|p| p.root == *name) {
                continue;
            }
            let Some(b) = self.table.get(name) else {
                continue;
            };
            let id = &b.ident;
            let key = display(name);
            match &b.mode {
                Mode::Take => match lent_to_closures.get(name) {
                    Some(p) => puts.push(quote_spanned! {id.span()=>
                        __w.put(#key, ::ckpt::__private::lent_ref(#p))?;
                    }),
                    None => puts.push(quote_spanned! {id.span()=> __w.put(#key, &#id)?; }),
                },
                Mode::Iter => {
                    let whole = self.norm.iter(name).is_some_and(|i| i.whole);
                    let span = self
                        .norm
                        .iter(name)
                        .map_or(self.span, |it| syn::spanned::Spanned::span(&it.iterable));
                    if self.counted.contains(name) {
                        let c = quote::format_ident!("__ckpt_c_{}", name);
                        puts.push(quote! { #c.__ckpt_put(__w, #key)?; });
                    } else if whole {
                        // Spanned at the loop's iterable, its errors too.
                        let id = syn::Ident::new(&id.to_string(), span);
                        puts.push(quote_spanned! {span=> ::ckpt::__private::IterSaveWhole::save(&#id, __w, #key)?; });
                    } else {
                        puts.push(quote_spanned! {span=> {
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{IterSaveCount as _, IterSaveFallback as _, IterSaveReplay as _};
                            (&&&::ckpt::__private::IterSave(&#id)).__ckpt_save(__w, #key)?;
                        }});
                    }
                }
                Mode::Rerun(_) | Mode::Head(_) | Mode::Rematch { .. } | Mode::Param => {}
            }
        }
        puts.extend(self.params(&lent_to_closures));
        let span = self.span;
        quote_spanned! {span=>
            |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                #(#puts)*
                ::core::result::Result::Ok(())
            }
        }
    }

    /// Every parameter, as the caller may need it handed back (those a live closure
    /// borrows read through their pointers, `lent_to_closures`).
    fn params(
        &self,
        lent_to_closures: &std::collections::BTreeMap<String, syn::Ident>,
    ) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for p in &self.model.params {
            let pos = p.pos;
            let key = p.display();
            let lent = p
                .name
                .as_ref()
                .is_some_and(|n| self.lent.contains(&n.to_string()));
            let ty_marker = quote::format_ident!("__ckpt_ty{}", pos);
            let named_live = p
                .name
                .as_ref()
                .is_some_and(|n| self.live.contains(&n.to_string()));
            let ts = match p.passing {
                Passing::Value => {
                    if lent {
                        quote! {{
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{ArgCtorState as _, ArgCtorNone as _};
                            (&&::ckpt::__private::ArgType(#ty_marker)).__ckpt_lent(__w, #pos, #key)?;
                        }}
                    } else if named_live {
                        let id = p.name.as_ref().expect("named");
                        let read = match lent_to_closures.get(&id.to_string()) {
                            Some(ptr) => quote!(::ckpt::__private::lent_ref(#ptr)),
                            None => quote!(&#id),
                        };
                        quote_spanned! {id.span()=> {
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{ArgValState as _, ArgValNone as _};
                            (&&::ckpt::__private::ArgVal(#read)).__ckpt_put(__w, #pos, #key)?;
                        }}
                    } else {
                        quote! {{
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{ArgPlaceholder as _, ArgDefaultYes as _, ArgStatePlaceholder as _, ArgDefaultNo as _};
                            (&&&&::ckpt::__private::ArgType(#ty_marker)).__ckpt_default(__w, #pos, #key)?;
                        }}
                    }
                }
                Passing::Mut | Passing::Shared => {
                    if lent {
                        continue;
                    }
                    if let Some(pc) = p
                        .name
                        .as_ref()
                        .and_then(|n| self.parts.iter().find(|pc| *n == pc.root))
                    {
                        let (ptr, steps, target) = (&pc.ptr, &pc.steps, &pc.target);
                        out.push(quote! {
                            __w.put_arg_part(#pos, #key, ::ckpt::__private::type_name_of_ptr(#ptr), #steps, #target, |__e| {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{PartsYes as _, PartsNo as _};
                                (&&::ckpt::__private::Parts(#ptr)).__ckpt_save_except(#steps, __e)
                            })?;
                        });
                        continue;
                    }
                    let Some(id) = &p.name else { continue };
                    let needed_only = p.passing == Passing::Shared && !p.is_receiver();
                    if let (true, Some(tr)) = (p.is_receiver(), &self.model.dyn_trait) {
                        let via = if self.model.in_trait {
                            quote!(arg_self_in_trait)
                        } else {
                            quote!(arg_self_dyn)
                        };
                        out.push(quote! {
                            ::ckpt::__private::#via::<Self>(__w, #pos, #key, #needed_only, &|__e| {
                                <Self as #tr>::__ckpt_save_dyn(self, __e)
                            })?;
                        });
                        continue;
                    }
                    let read = match lent_to_closures.get(&id.to_string()) {
                        Some(ptr) => quote!(&**::ckpt::__private::lent_ref(#ptr)),
                        None => quote!(&*#id),
                    };
                    quote! {{
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{ArgRefState as _, ArgRefNone as _};
                        (&&::ckpt::__private::ArgRef(#read)).__ckpt_put(__w, #pos, #key, #needed_only)?;
                    }}
                }
            };
            out.push(ts);
        }
        out
    }
}

/// The marker of the type of the computed argument at `pos` of the call point `id`, for
/// a generic callee (declared by `split::Ctx::body`).
pub fn arg_marker(id: u32, pos: usize) -> syn::Ident {
    quote::format_ident!("__ckpt_ta_{}_{}", id, pos)
}

/// The positions of a generic callee's computed arguments, which get type markers.
pub fn marked_args(generic: bool, args: &[Arg]) -> impl Iterator<Item = usize> + '_ {
    args.iter()
        .enumerate()
        .filter(move |(_, a)| generic && matches!(a, Arg::Load { .. }))
        .map(|(pos, _)| pos)
}

/// The expansion of a call point, on the normal path or on the resume path (`resume`:
/// the arguments the callee saved are passed back).
#[allow(clippy::too_many_arguments)]
pub fn expand_call(
    id: u32,
    e: &syn::Expr,
    kind: &Kind,
    args: &[Arg],
    parts: &[PartCapture],
    unsupported: Unsupported,
    capture: TokenStream,
    resume: bool,
    generic: bool,
    span: Span,
) -> TokenStream {
    // The parts lent: their index temporaries (saved by the capture, taken back on the
    // resume path) and their roots' addresses, taken before the call borrows them.
    let mut prelude = Vec::new();
    for pc in parts {
        for (t, x) in &pc.ix {
            let key = t.to_string();
            if resume {
                prelude.push(quote! { let #t: usize = __ck.take(#key); });
            } else {
                prelude.push(quote! { let #t: usize = #x; });
            }
        }
        let ptr = &pc.ptr;
        if let Some(given) = &pc.given {
            prelude.push(quote! { let #ptr = #given; });
            continue;
        }
        let root = quote::format_ident!("{}", pc.root);
        let place = if pc.deref {
            quote!(*#root)
        } else {
            quote!(#root)
        };
        prelude.push(quote! { let #ptr = ::core::ptr::addr_of!(#place); });
    }
    let mut parts_iter = parts.iter();
    let callee = match kind {
        Kind::Path { callee, .. } | Kind::Method { callee, .. } => callee.clone(),
        Kind::Save { .. } => String::new(),
    };
    let ops = operands(e);
    let is_method = matches!(e, syn::Expr::MethodCall(_));
    let generic = generic && unsupported.is_none();
    let passed: Vec<TokenStream> = args
        .iter()
        .zip(&ops)
        .enumerate()
        .map(|(pos, (a, x))| match a {
            // A `&mut` parameter passed on is reborrowed, so this frame keeps it.
            Arg::Lend(_) if ident_of(x).is_some() && !(pos == 0 && is_method) => {
                quote!(&mut *#x)
            }
            Arg::Lend(_) | Arg::Same => quote!(#x),
            Arg::LendPart(p) => {
                let pc = parts_iter.next().expect("one capture per lent part");
                if p.again.is_some() {
                    return quote!(#x);
                }
                let place = part_place(p, pc);
                if pos == 0 && is_method {
                    place
                } else {
                    quote!(&mut #place)
                }
            }
            // A generic callee: the type the normal path gave the argument (after
            // coercion to the parameter's type) is kept in a marker for the resume path.
            Arg::Load { by_ref } if generic => {
                let m = arg_marker(id, pos);
                match (by_ref, resume) {
                    (None, false) => quote!(::ckpt::__private::mark_arg(&mut #m, #x)),
                    (Some(false), false) => {
                        quote!(::ckpt::__private::mark_arg_ref(&mut #m, #x))
                    }
                    (Some(true), false) => {
                        quote!(::ckpt::__private::mark_arg_mut(&mut #m, #x))
                    }
                    (None, true) => quote!(__ck.resume_arg_as(#m, #pos)),
                    (Some(_), true) => quote!(__ck.resume_arg_ref_as(#m, #pos)),
                }
            }
            Arg::Load { .. } if !resume => quote!(#x),
            Arg::Load { by_ref: None } => quote!(__ck.resume_arg(#pos)),
            Arg::Load { by_ref: Some(_) } => quote!(__ck.resume_arg_ref(#pos)),
        })
        .collect();
    let call = match (kind, e) {
        (Kind::Path { func, .. }, _) => quote! { #func(#(#passed),*) },
        (
            Kind::Method {
                method, turbofish, ..
            },
            syn::Expr::MethodCall(_),
        ) => {
            let recv = &passed[0];
            let rest = &passed[1..];
            let recv = match args.first() {
                Some(Arg::Load { .. }) => quote!((#recv)),
                _ => recv.clone(),
            };
            quote! { #recv.#method #turbofish(#(#rest),*) }
        }
        _ => quote!(),
    };
    if let Some(why) = unsupported {
        let why = format!("the call of `{callee}` cannot be resumed: {why}");
        return quote_spanned! {span=> {
            let __ckpt_g = __ck.barrier(#id, #why);
            let __ckpt_r = #call;
            ::core::mem::drop(__ckpt_g);
            __ckpt_r
        }};
    }
    let lent_pairs = args.iter().enumerate().filter_map(|(pos, a)| {
        let target = format!("#{pos}");
        match a {
            Arg::Lend(x) => {
                let x = display(x);
                Some(quote!((#x, #target)))
            }
            Arg::Load { .. } => Some(quote!((#target, #target))),
            Arg::Same | Arg::LendPart(_) => None,
        }
    });
    quote_spanned! {span=> {
        #(#prelude)*
        let __ckpt_cap = #capture;
        let __ckpt_g = __ck.enter_call(#id, #callee, &[#(#lent_pairs),*], &__ckpt_cap);
        let __ckpt_r = #call;
        ::core::mem::drop(__ckpt_g);
        __ckpt_r
    }}
}

/// Calls that cannot be resumed stop being points: they are made as written, inside a
/// *barrier* that makes a save reached through them fail with the reason.
pub fn unmark_unsupported(body: &mut syn::Block, points: &Points, model: &FnModel, table: &Table) {
    struct U<'a> {
        points: &'a Points,
        model: &'a FnModel,
        table: &'a Table,
    }
    impl syn::visit_mut::VisitMut for U<'_> {
        fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            let Some(id) = marker_id(e) else { return };
            let p = self.points.get(id);
            let (callee, original) = match (&p.kind, &*e) {
                (Kind::Path { callee, func }, syn::Expr::Call(c)) => {
                    let args = &c.args;
                    (callee, quote!(#func(#args)))
                }
                (
                    Kind::Method {
                        callee,
                        method,
                        turbofish,
                    },
                    syn::Expr::MethodCall(m),
                ) => {
                    let (recv, args) = (&m.receiver, &m.args);
                    (callee, quote!(#recv.#method #turbofish(#args)))
                }
                _ => return,
            };
            let (_, why) = classify(e, self.model, self.table);
            let Some(why) = why else { return };
            let why = format!("the call of `{callee}` cannot be resumed: {why}");
            let span = p.span;
            *e = syn::parse_quote_spanned! {span=> {
                let __ckpt_g = __ck.barrier(#id, #why);
                let __ckpt_r = #original;
                ::core::mem::drop(__ckpt_g);
                __ckpt_r
            }};
        }
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    syn::visit_mut::VisitMut::visit_block_mut(
        &mut U {
            points,
            model,
            table,
        },
        body,
    );
}

#[cfg(test)]
mod tests;
