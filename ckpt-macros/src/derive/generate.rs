//! Code generation of `#[derive(State)]`: the `save` and `load` bodies for the model.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident};

use super::{Field, Model, Rebuild, Shape, Via};

/// The `impl State` for the item, inside `const _: () = { ... };`.
pub(crate) fn generate(input: &DeriveInput, model: &Model) -> TokenStream {
    let ident = &input.ident;
    let name = ident.to_string();
    let mut generics = input.generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let bounds = bounds(model, &params);
    if !bounds.is_empty() {
        generics.make_where_clause().predicates.extend(bounds);
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let (save, load) = match model {
        Model::Struct(shape) => struct_body(shape, &name, quote!(#ident)),
        Model::Enum(variants) => enum_body(variants, &name, ident),
    };
    let placeholder = placeholder(model, ident);
    let parts = match model {
        Model::Struct(shape) if !packed(input) => {
            parts_impl(shape, &name, &impl_g, ident, &ty_g, where_c)
        }
        _ => TokenStream::new(),
    };
    quote! {
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl #impl_g ::ckpt::__private::State for #ident #ty_g #where_c {
                fn save(&self, __ckpt_e: &mut ::ckpt::__private::Encoder<'_>) -> ::core::result::Result<(), ::ckpt::Error> {
                    #save
                }
                fn load(
                    __ckpt_v: ::ckpt::__private::Value,
                    __ckpt_l: &mut ::ckpt::__private::Loader,
                ) -> ::core::result::Result<Self, ::ckpt::Error> {
                    #load
                }
                fn placeholder() -> ::core::option::Option<Self> {
                    #placeholder
                }
            }
            #parts
        };
    }
}

/// `#[repr(packed)]`: its fields may be unaligned, so none is lent in part.
fn packed(input: &DeriveInput) -> bool {
    input.attrs.iter().any(|a| {
        a.path().is_ident("repr") && a.meta.to_token_stream().to_string().contains("packed")
    })
}

/// `impl SaveParts`: the struct written with the field on a lent path saved apart (a
/// field of it lent to a call; see `ckpt::__private::SaveParts`). Fields are reached by
/// `offset_of!`, so the generated code holds no `unsafe`.
fn parts_impl(
    shape: &Shape,
    name: &str,
    impl_g: &syn::ImplGenerics<'_>,
    ident: &Ident,
    ty_g: &syn::TypeGenerics<'_>,
    where_c: Option<&syn::WhereClause>,
) -> TokenStream {
    let (fields, named) = match shape {
        Shape::Named(f) => (f, true),
        Shape::Tuple(f) => (f, false),
        Shape::Unit => return TokenStream::new(),
    };
    let saved: Vec<&Field> = fields.iter().filter(|f| f.saved()).collect();
    let n = saved.len() as u64;
    let head = if named {
        quote!(__ckpt_e.map(#n);)
    } else {
        quote!(__ckpt_e.array(#n);)
    };
    let puts = saved.iter().map(|f| {
        let m = &f.member;
        let ty = &f.ty;
        let key = match &f.member {
            syn::Member::Named(i) => i.to_string(),
            syn::Member::Unnamed(i) => i.index.to_string(),
        };
        let label = if named {
            let k = f.name();
            quote!(__ckpt_e.text(#k);)
        } else {
            TokenStream::new()
        };
        let whole = match &f.via {
            Via::State => quote! {
                ::ckpt::__private::put_field::<#ty>(__ckpt_base, ::core::mem::offset_of!(Self, #m), __ckpt_e)?;
            },
            Via::Serde => quote! {
                ::ckpt::__private::save_serde::<#ty>(
                    ::ckpt::__private::field_ref::<#ty>(__ckpt_base, ::core::mem::offset_of!(Self, #m)),
                    __ckpt_e,
                )?;
            },
            Via::With(path) => quote! {
                #path::save(
                    ::ckpt::__private::field_ref::<#ty>(__ckpt_base, ::core::mem::offset_of!(Self, #m)),
                    __ckpt_e,
                )?;
            },
        };
        quote! {
            #label
            if __ckpt_head == #key {
                #[allow(unused_imports)]
                use ::ckpt::__private::{PartsYes as _, PartsNo as _};
                (&&::ckpt::__private::Parts(
                    ::ckpt::__private::field_ptr::<#ty>(__ckpt_base, ::core::mem::offset_of!(Self, #m)),
                ))
                .__ckpt_save_except(__ckpt_rest, __ckpt_e)
                .map_err(|e| e.within(#key))?;
            } else {
                #whole
            }
        }
    });
    let _ = name;
    quote! {
        #[automatically_derived]
        impl #impl_g ::ckpt::__private::SaveParts for #ident #ty_g #where_c {
            fn save_except(
                __ckpt_this: *const Self,
                __ckpt_path: &[::ckpt::__private::Step],
                __ckpt_e: &mut ::ckpt::__private::Encoder<'_>,
            ) -> ::core::result::Result<(), ::ckpt::Error> {
                let (__ckpt_head, __ckpt_rest) = match __ckpt_path.split_first() {
                    ::core::option::Option::Some((::ckpt::__private::Step::Field(__ckpt_f), __ckpt_r)) => (*__ckpt_f, __ckpt_r),
                    _ => return ::core::result::Result::Err(::ckpt::__private::bad_path(__ckpt_path)),
                };
                let __ckpt_base = __ckpt_this.cast::<u8>();
                #head
                #(#puts)*
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// Every field of the item.
fn all_fields(model: &Model) -> Vec<&Field> {
    fn of(shape: &Shape) -> Vec<&Field> {
        match shape {
            Shape::Named(f) | Shape::Tuple(f) => f.iter().collect(),
            Shape::Unit => Vec::new(),
        }
    }
    match model {
        Model::Struct(shape) => of(shape),
        Model::Enum(variants) => variants.iter().flat_map(|v| of(&v.shape)).collect(),
    }
}

/// True if `tokens` name the identifier `id` anywhere (a type parameter in a field type).
fn mentions(tokens: TokenStream, id: &Ident) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => &i == id,
        TokenTree::Group(g) => mentions(g.stream(), id),
        _ => false,
    })
}

/// The where-predicates of the impl: `P: State` for each type parameter, except those used
/// only in fields saved through an adapter (`#[ckpt(serde)]`, `#[ckpt(with = path)]`);
/// `Ty: SerdeBridge` (Serialize + DeserializeOwned) for each `#[ckpt(serde)]` field type
/// that uses a type parameter. A `with` module states its own bounds.
fn bounds(model: &Model, params: &[Ident]) -> Vec<syn::WherePredicate> {
    let fields = all_fields(model);
    let mut out: Vec<syn::WherePredicate> = Vec::new();
    for p in params {
        let mut in_adapter = false;
        let mut in_state = false;
        for f in &fields {
            if mentions(f.ty.to_token_stream(), p) {
                if f.adapted() {
                    in_adapter = true;
                } else {
                    in_state = true;
                }
            }
        }
        if in_state || !in_adapter {
            out.push(syn::parse_quote!(#p: ::ckpt::__private::State));
        }
    }
    let mut seen = Vec::new();
    for f in fields
        .iter()
        .filter(|f| f.saved() && matches!(f.via, Via::Serde))
    {
        let ty = &f.ty;
        let key = ty.to_token_stream().to_string();
        if params.iter().any(|p| mentions(ty.to_token_stream(), p)) && !seen.contains(&key) {
            seen.push(key);
            out.push(syn::parse_quote_spanned!(ty.span()=> #ty: ::ckpt::__private::SerdeBridge));
        }
    }
    out
}

/// Saves one field reached through `x` (a reference): an expression of type
/// `Result<(), ckpt::Error>`.
fn save_one(f: &Field, x: TokenStream) -> TokenStream {
    let ty = &f.ty;
    match &f.via {
        // Through `put`, which grows the stack on deep values (see `Encoder::put`).
        Via::State => quote_spanned!(ty.span()=> __ckpt_e.put::<#ty>(#x)),
        Via::Serde => {
            quote_spanned!(ty.span()=> ::ckpt::__private::save_serde::<#ty>(#x, __ckpt_e))
        }
        Via::With(path) => quote_spanned!(path.span()=> #path::save(#x, __ckpt_e)),
    }
}

/// Loads a saved field: `take`/`next` is the `Fields`/`Elements` method for a field of
/// its own type, `take_with`/`next_with` for one loaded by a function; `key` is the name
/// argument (empty for tuple fields).
fn load_one(f: &Field, method: &str, key: TokenStream) -> TokenStream {
    let ty = &f.ty;
    match &f.via {
        Via::State => {
            let m = format_ident!("{}", method);
            quote_spanned!(ty.span()=> __ckpt_f.#m::<#ty>(#key __ckpt_l)?)
        }
        Via::Serde => {
            let m = format_ident!("{}", method);
            quote_spanned!(ty.span()=> __ckpt_f.#m::<::ckpt::__private::Serde<#ty>>(#key __ckpt_l)?.0)
        }
        Via::With(path) => {
            let m = format_ident!("{}_with", method);
            quote_spanned!(path.span()=> __ckpt_f.#m(#key __ckpt_l, #path::load)?)
        }
    }
}

/// The expression that rebuilds a field that is not saved.
fn rebuilt(f: &Field) -> TokenStream {
    match &f.rebuild {
        Rebuild::Init(path) => quote!(#path()),
        _ => quote!(::core::default::Default::default()),
    }
}

/// Writes the fields of a shape, given how to reach each field (`&self.a` or a binding):
/// statements ending in an expression that is the `save`'s result. The last field's save is
/// that expression (a tail call: a deep value's recursion, often through its last field,
/// then keeps no result slot per level).
fn save_fields(shape: &Shape, access: impl Fn(usize, &Field) -> TokenStream) -> TokenStream {
    let (head, fields) = match shape {
        Shape::Unit => return quote!(__ckpt_e.null(); ::core::result::Result::Ok(())),
        Shape::Named(fields) => {
            let n = fields.iter().filter(|f| f.saved()).count() as u64;
            (quote!(__ckpt_e.map(#n);), fields)
        }
        Shape::Tuple(fields) => {
            let n = fields.iter().filter(|f| f.saved()).count() as u64;
            (quote!(__ckpt_e.array(#n);), fields)
        }
    };
    let named = matches!(shape, Shape::Named(_));
    let saved: Vec<(usize, &Field)> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.saved())
        .collect();
    let last = saved.len().checked_sub(1);
    let puts = saved.iter().enumerate().map(|(k, (i, f))| {
        let key = if named {
            let key = f.name();
            quote!(__ckpt_e.text(#key);)
        } else {
            TokenStream::new()
        };
        let save = save_one(f, access(*i, f));
        if Some(k) == last {
            quote!(#key #save)
        } else {
            quote!(#key #save?;)
        }
    });
    let tail = match last {
        Some(_) => TokenStream::new(),
        None => quote!(::core::result::Result::Ok(())),
    };
    quote!(#head #(#puts)* #tail)
}

/// Builds `ctor { ... }` / `ctor(...)` / `ctor` from the value in `__ckpt_v`.
fn load_fields(shape: &Shape, ty: &str, ctor: TokenStream) -> TokenStream {
    match shape {
        Shape::Unit => quote! {
            match __ckpt_v {
                ::ckpt::__private::Value::Null => ::core::result::Result::Ok(#ctor),
                __ckpt_other => ::core::result::Result::Err(::ckpt::Error::ty("", #ty, __ckpt_other.kind())),
            }
        },
        Shape::Named(fields) => {
            let inits = fields.iter().map(|f| {
                let m = &f.member;
                let key = f.name();
                let x = if f.saved() {
                    load_one(f, "take", quote!(#key,))
                } else {
                    rebuilt(f)
                };
                quote!(#m: #x)
            });
            quote! {
                let mut __ckpt_f = __ckpt_v.into_fields(#ty)?;
                ::core::result::Result::Ok(#ctor { #(#inits),* })
            }
        }
        Shape::Tuple(fields) => {
            let n = fields.iter().filter(|f| f.saved()).count();
            let inits = fields.iter().map(|f| {
                let m = &f.member;
                let x = if f.saved() {
                    load_one(f, "next", TokenStream::new())
                } else {
                    rebuilt(f)
                };
                quote!(#m: #x)
            });
            quote! {
                let mut __ckpt_f = __ckpt_v.into_elements(#ty, #n)?;
                ::core::result::Result::Ok(#ctor { #(#inits),* })
            }
        }
    }
}

fn struct_body(shape: &Shape, name: &str, ctor: TokenStream) -> (TokenStream, TokenStream) {
    let save = save_fields(shape, |_, f| {
        let m = &f.member;
        quote!(&self.#m)
    });
    let load = load_fields(shape, name, ctor);
    (save, load)
}

fn binding(i: usize) -> Ident {
    format_ident!("__ckpt_{}", i, span = Span::call_site())
}

fn enum_body(variants: &[super::Variant], name: &str, ident: &Ident) -> (TokenStream, TokenStream) {
    let save_arms = variants.iter().map(|v| {
        let vi = &v.ident;
        let key = vi.to_string();
        match &v.shape {
            Shape::Unit => quote! {
                #ident::#vi => {
                    __ckpt_e.text(#key);
                    ::core::result::Result::Ok(())
                }
            },
            shape => {
                let fields = match shape {
                    Shape::Named(f) | Shape::Tuple(f) => f,
                    Shape::Unit => unreachable!(),
                };
                let pats = fields.iter().enumerate().map(|(i, f)| {
                    let m = &f.member;
                    if f.saved() {
                        let b = binding(i);
                        quote!(#m: #b)
                    } else {
                        quote!(#m: _)
                    }
                });
                let body = save_fields(shape, |i, _| {
                    let b = binding(i);
                    quote!(#b)
                });
                quote! {
                    #ident::#vi { #(#pats),* } => {
                        __ckpt_e.map(1);
                        __ckpt_e.text(#key);
                        #body
                    }
                }
            }
        }
    });
    let load_arms = variants.iter().map(|v| {
        let vi = &v.ident;
        let key = vi.to_string();
        let ty = format!("{name}::{key}");
        let body = load_fields(&v.shape, &ty, quote!(#ident::#vi));
        quote! {
            #key => {
                let __ckpt_v = __ckpt_payload;
                (|| -> ::core::result::Result<Self, ::ckpt::Error> { #body })()
                    .map_err(|__ckpt_err| __ckpt_err.within(#key))
            }
        }
    });
    let save = if variants.is_empty() {
        quote!(match *self {})
    } else {
        quote! {
            match self {
                #(#save_arms)*
            }
        }
    };
    let expected = format!("a variant of {name}");
    let load = quote! {
        let (__ckpt_name, __ckpt_payload) = __ckpt_v.into_variant(#name)?;
        match __ckpt_name.as_str() {
            #(#load_arms)*
            _ => ::core::result::Result::Err(::ckpt::Error::ty(
                "",
                #expected,
                ::std::format!("variant `{}`", __ckpt_name),
            )),
        }
    };
    (save, load)
}

/// `State::placeholder`: the struct from its fields' placeholders; an enum's first unit
/// variant, else its first variant whose fields have placeholders and do not name the
/// enum itself (so `enum Expr { Add(Box<Expr>, Box<Expr>), Num(f64) }` does not recurse).
fn placeholder(model: &Model, ident: &Ident) -> TokenStream {
    /// `Some(ctor { .. })`, or `None` when a field's placeholder is unknown.
    fn build(shape: &Shape, ctor: TokenStream) -> Option<TokenStream> {
        let fields = match shape {
            Shape::Unit => return Some(quote!(::core::option::Option::Some(#ctor))),
            Shape::Named(f) | Shape::Tuple(f) => f,
        };
        let mut inits = Vec::new();
        for f in fields {
            let m = &f.member;
            let ty = &f.ty;
            let x = match (&f.rebuild, &f.via) {
                (Rebuild::Saved, Via::State) => {
                    quote!(<#ty as ::ckpt::__private::State>::placeholder()?)
                }
                (Rebuild::Default, _) => quote!(::core::default::Default::default()),
                // A `with`/serde field has no `State`; an `init` hook may do I/O.
                _ => return None,
            };
            inits.push(quote!(#m: #x));
        }
        Some(quote! {
            (|| ::core::option::Option::Some(#ctor { #(#inits),* }))()
        })
    }
    let none = quote!(::core::option::Option::None);
    match model {
        Model::Struct(shape) => build(shape, quote!(#ident)).unwrap_or(none),
        Model::Enum(variants) => {
            let own = |v: &&super::Variant| match &v.shape {
                Shape::Unit => false,
                Shape::Named(f) | Shape::Tuple(f) => f.iter().any(|f| {
                    mentions(f.ty.to_token_stream(), ident)
                        || mentions(f.ty.to_token_stream(), &format_ident!("Self"))
                }),
            };
            let mut order: Vec<&super::Variant> = variants
                .iter()
                .filter(|v| matches!(v.shape, Shape::Unit))
                .collect();
            order.extend(
                variants
                    .iter()
                    .filter(|v| !matches!(v.shape, Shape::Unit))
                    .filter(|v| !own(v)),
            );
            let tries = order.iter().filter_map(|v| {
                let vi = &v.ident;
                build(&v.shape, quote!(#ident::#vi))
            });
            quote! {
                #(
                    if let ::core::option::Option::Some(__ckpt_p) = #tries {
                        return ::core::option::Option::Some(__ckpt_p);
                    }
                )*
                #none
            }
        }
    }
}
