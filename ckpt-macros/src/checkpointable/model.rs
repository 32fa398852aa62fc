//! The model of one checkpointable function: its name as images show it, and its
//! parameters classified once (receiver, references, by-value), by position.
//!
//! The function keeps its signature: callers call it as written, on the normal path and
//! on the resume path. Only the parameter *patterns* change: each typed parameter is
//! received as `__ckpt_pI` and bound to the user's pattern at the top of the body, so
//! patterns like `(a, b): (u64, u64)` or `mut n: u64` stay the user's business.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};

/// How a parameter is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passing {
    /// `&T` (or `&self`).
    Shared,
    /// `&mut T` (or `&mut self`).
    Mut,
    /// By value (or `self`).
    Value,
}

/// One parameter, receiver included (position 0 when present).
pub struct Param {
    /// Position in the call, receiver first.
    pub pos: usize,
    /// The binding the body knows it by, when the pattern is a plain identifier
    /// (`self` for the receiver).
    pub name: Option<syn::Ident>,
    /// `mut name` (or `mut self`).
    pub mutable: bool,
    pub passing: Passing,
    /// The user's pattern (typed parameters only).
    pub pat: Option<syn::Pat>,
    /// The declared type (typed parameters only).
    pub ty: Option<syn::Type>,
}

impl Param {
    pub fn is_receiver(&self) -> bool {
        self.pat.is_none()
    }

    /// The identifier the signature receives this parameter as.
    pub fn received_as(&self) -> syn::Ident {
        if self.is_receiver() {
            format_ident!("self")
        } else {
            format_ident!("__ckpt_p{}", self.pos)
        }
    }

    /// The name images show (`self`, the binding, or `#i` for a pattern).
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) => n.to_string(),
            None => format!("#{}", self.pos),
        }
    }
}

/// One function to transform.
pub struct FnModel {
    /// `f` or `Type::f`.
    pub name: String,
    pub params: Vec<Param>,
    /// Hash of the function's tokens: a restore into a changed body is refused.
    pub hash: u64,
    /// A method of `impl Trait for T` of a checkpointable trait: its receiver is saved in
    /// the trait object's envelope (see `ckpt::__private::arg_self_dyn`).
    pub dyn_trait: Option<syn::Path>,
    /// A default method of that trait: `Self` is any implementation.
    pub in_trait: bool,
}

impl FnModel {
    pub fn new(sig: &syn::Signature, block: &syn::Block, self_ty: Option<&str>) -> FnModel {
        let name = match self_ty {
            Some(t) => format!("{t}::{}", sig.ident),
            None => sig.ident.to_string(),
        };
        let mut params = Vec::new();
        for (pos, arg) in sig.inputs.iter().enumerate() {
            match arg {
                syn::FnArg::Receiver(r) => params.push(Param {
                    pos,
                    name: Some(format_ident!("self")),
                    mutable: r.mutability.is_some() && r.reference.is_none(),
                    // `&mut self`, or typed: `self: &mut Self` (`r.ty` is the type either way).
                    passing: match strip(&r.ty) {
                        syn::Type::Reference(t) if t.mutability.is_some() => Passing::Mut,
                        syn::Type::Reference(_) => Passing::Shared,
                        _ => Passing::Value,
                    },
                    pat: None,
                    ty: None,
                }),
                syn::FnArg::Typed(t) => {
                    let passing = match strip(&t.ty) {
                        syn::Type::Reference(r) if r.mutability.is_some() => Passing::Mut,
                        syn::Type::Reference(_) => Passing::Shared,
                        _ => Passing::Value,
                    };
                    let (name, mutable) = match &*t.pat {
                        syn::Pat::Ident(i) if i.subpat.is_none() && i.by_ref.is_none() => {
                            (Some(i.ident.clone()), i.mutability.is_some())
                        }
                        _ => (None, false),
                    };
                    params.push(Param {
                        pos,
                        name,
                        mutable,
                        passing,
                        pat: Some((*t.pat).clone()),
                        ty: Some((*t.ty).clone()),
                    })
                }
            }
        }
        FnModel {
            name,
            params,
            hash: body_hash(&quote!(#sig #block)),
            dyn_trait: None,
            in_trait: false,
        }
    }

    /// The parameter a body binding stands for, if any.
    pub fn param_named(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name.as_ref().is_some_and(|n| n == name))
    }

    /// The signature with typed parameters received as `__ckpt_pI` (and `mut self`
    /// kept: the body is still the method's).
    pub fn signature(&self, sig: &syn::Signature) -> syn::Signature {
        let mut out = sig.clone();
        for (arg, p) in out.inputs.iter_mut().zip(&self.params) {
            if let syn::FnArg::Typed(t) = arg {
                let id = p.received_as();
                *t.pat = syn::parse_quote!(#id);
            }
        }
        out
    }

    /// Adds `P: ckpt::State` to the signature's `where` clause for each type parameter
    /// `P` of the function and of its inherent impl (`outer`) whose values a frame may
    /// save: every one except those bounded by a closure or iterator trait (a caller
    /// makes a closure again; a loop saves its iterator its own way) and `?Sized` ones.
    /// In a trait impl (`outer: None` there) nothing is added: its methods cannot ask
    /// more than the trait.
    pub fn add_state_bounds(sig: &mut syn::Signature, outer: Option<&syn::Generics>) {
        // `impl Trait` parameters are type parameters too (`name: impl Into<String>`).
        for arg in sig.inputs.iter_mut() {
            if let syn::FnArg::Typed(pt) = arg {
                if let syn::Type::ImplTrait(it) = &mut *pt.ty {
                    if !it.bounds.iter().any(exempt) {
                        it.bounds.push(syn::parse_quote!(::ckpt::State));
                    }
                }
            }
        }
        let mut params: Vec<(syn::Ident, bool)> = Vec::new();
        // Either where clause (the impl's, the method's) may bound either's parameters.
        let wheres: Vec<&syn::WherePredicate> = outer
            .into_iter()
            .chain(std::iter::once(&sig.generics))
            .filter_map(|g| g.where_clause.as_ref())
            .flat_map(|w| w.predicates.iter())
            .collect();
        for g in outer.into_iter().chain(std::iter::once(&sig.generics)) {
            for p in g.type_params() {
                let skip = p.bounds.iter().any(exempt)
                    || wheres.iter().any(|pred| {
                        matches!(pred, syn::WherePredicate::Type(t)
                            if matches!(&t.bounded_ty, syn::Type::Path(tp) if tp.path.is_ident(&p.ident))
                                && t.bounds.iter().any(exempt))
                    });
                params.push((p.ident.clone(), skip));
            }
        }
        let wanted: Vec<&syn::Ident> = params
            .iter()
            .filter(|(_, skip)| !skip)
            .map(|(id, _)| id)
            .collect();
        if wanted.is_empty() {
            return;
        }
        let w = sig.generics.make_where_clause();
        for id in wanted {
            w.predicates.push(syn::parse_quote!(#id: ::ckpt::State));
        }
    }

    /// The parameters in `consumed` (iterators a loop with a point consumes, saved whole)
    /// bounded `State`: `impl Iterator<..> + State`, `impl IntoIterator<.., IntoIter:
    /// State>`, or for a type parameter `I: State` / `<I as IntoIterator>::IntoIter:
    /// State` (iterator type parameters are otherwise exempt, see `add_state_bounds`).
    pub fn bound_consumed_iterators(&self, sig: &mut syn::Signature, consumed: &BTreeSet<String>) {
        let positions: BTreeSet<usize> = self
            .params
            .iter()
            .filter(|p| {
                p.name
                    .as_ref()
                    .is_some_and(|n| consumed.contains(&n.to_string()))
            })
            .map(|p| p.pos)
            .collect();
        let iterator = |b: &syn::TypeParamBound| -> Option<bool> {
            let syn::TypeParamBound::Trait(t) = b else {
                return None;
            };
            match t.path.segments.last()?.ident.to_string().as_str() {
                "Iterator" | "DoubleEndedIterator" | "ExactSizeIterator" => Some(false),
                "IntoIterator" => Some(true),
                _ => None,
            }
        };
        let mut wheres: Vec<syn::WherePredicate> = Vec::new();
        let generics = sig.generics.clone();
        for (pos, arg) in sig.inputs.iter_mut().enumerate() {
            let syn::FnArg::Typed(pt) = arg else { continue };
            if !positions.contains(&pos) {
                continue;
            }
            match &mut *pt.ty {
                syn::Type::ImplTrait(it) => {
                    let kinds: Vec<bool> = it.bounds.iter().filter_map(iterator).collect();
                    // The parameter itself too: the loop took it, so a restore hands the
                    // function its placeholder.
                    if !kinds.is_empty() {
                        it.bounds.push(syn::parse_quote!(::ckpt::State));
                    }
                    if kinds.contains(&true) && !kinds.contains(&false) {
                        for b in it.bounds.iter_mut() {
                            let syn::TypeParamBound::Trait(t) = b else {
                                continue;
                            };
                            let Some(last) = t.path.segments.last_mut() else {
                                continue;
                            };
                            if last.ident != "IntoIterator" {
                                continue;
                            }
                            match &mut last.arguments {
                                syn::PathArguments::AngleBracketed(a) => {
                                    a.args.push(syn::parse_quote!(IntoIter: ::ckpt::State));
                                }
                                args @ syn::PathArguments::None => {
                                    *args = syn::PathArguments::AngleBracketed(
                                        syn::parse_quote!(<IntoIter: ::ckpt::State>),
                                    );
                                }
                                syn::PathArguments::Parenthesized(_) => {}
                            }
                        }
                    }
                }
                syn::Type::Path(tp) if tp.qself.is_none() => {
                    let Some(id) = tp.path.get_ident() else {
                        continue;
                    };
                    let mut bounds: Vec<&syn::TypeParamBound> = generics
                        .type_params()
                        .filter(|p| p.ident == *id)
                        .flat_map(|p| p.bounds.iter())
                        .collect();
                    if let Some(w) = &generics.where_clause {
                        for pred in &w.predicates {
                            if let syn::WherePredicate::Type(t) = pred {
                                if matches!(&t.bounded_ty, syn::Type::Path(b) if b.path.is_ident(id))
                                {
                                    bounds.extend(t.bounds.iter());
                                }
                            }
                        }
                    }
                    let kinds: Vec<bool> = bounds.into_iter().filter_map(iterator).collect();
                    if kinds.contains(&false) {
                        wheres.push(syn::parse_quote!(#id: ::ckpt::State));
                    } else if kinds.contains(&true) {
                        wheres.push(syn::parse_quote!(#id: ::ckpt::State));
                        wheres.push(syn::parse_quote!(
                            <#id as ::core::iter::IntoIterator>::IntoIter: ::ckpt::State
                        ));
                    }
                }
                _ => {}
            }
        }
        if !wheres.is_empty() {
            sig.generics.make_where_clause().predicates.extend(wheres);
        }
    }

    /// The names of the parameters by position, for `FnInfo`.
    pub fn param_names(&self) -> Vec<String> {
        self.params.iter().map(Param::display).collect()
    }
}

/// A bound that exempts a type parameter from `State`: `?Sized`, a closure trait, an
/// iterator trait.
fn exempt(b: &syn::TypeParamBound) -> bool {
    match b {
        syn::TypeParamBound::Trait(t) => {
            matches!(t.modifier, syn::TraitBoundModifier::Maybe(_))
                || t.path.segments.last().is_some_and(|s| {
                    matches!(
                        s.ident.to_string().as_str(),
                        "Fn" | "FnMut"
                            | "FnOnce"
                            | "Iterator"
                            | "IntoIterator"
                            | "DoubleEndedIterator"
                            | "ExactSizeIterator"
                            | "State"
                    )
                })
        }
        _ => false,
    }
}

fn strip(t: &syn::Type) -> &syn::Type {
    match t {
        syn::Type::Paren(p) => strip(&p.elem),
        syn::Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// FNV-1a of tokens.
pub fn body_hash(ts: &TokenStream) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in ts.to_string().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// `Type` of `impl … for Type`: its last path segment, as the analysis names methods.
pub fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        other => other.to_token_stream().to_string(),
    }
}

#[cfg(test)]
mod tests;
