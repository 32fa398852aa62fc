//! `#[derive(State)]`: parse the item into a small model, read the `#[ckpt(...)]`
//! attributes while collecting every error, then generate `save`/`load` (in `generate`).

mod generate;

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Member, Type};

/// Expands `#[derive(State)]` on `item`.
pub fn expand(item: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(item) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let model = Model::parse(&input, &mut cx);
    match cx.finish() {
        // The compiler keeps the item itself; only the errors are emitted.
        Err(e) => e.to_compile_error(),
        Ok(()) => generate::generate(&input, &model),
    }
}

/// Collects errors so one build reports them all.
#[derive(Default)]
struct Ctxt {
    errors: Option<syn::Error>,
}

impl Ctxt {
    fn error(&mut self, e: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(e),
            None => self.errors = Some(e),
        }
    }

    fn finish(self) -> Result<(), syn::Error> {
        self.errors.map_or(Ok(()), Err)
    }
}

/// What a derive sees of the item.
pub(crate) enum Model {
    Struct(Shape),
    Enum(Vec<Variant>),
}

pub(crate) struct Variant {
    pub ident: Ident,
    pub shape: Shape,
}

pub(crate) enum Shape {
    /// `{ a: A, b: B }`: a CBOR map keyed by field name.
    Named(Vec<Field>),
    /// `(A, B)`: a CBOR array.
    Tuple(Vec<Field>),
    /// No fields: null (struct) or the variant name (enum).
    Unit,
}

pub(crate) struct Field {
    pub member: Member,
    pub ty: Type,
    pub rebuild: Rebuild,
    /// How a saved field is saved and loaded.
    pub via: Via,
}

/// Through what a saved field is saved and loaded.
pub(crate) enum Via {
    /// Its type's `State` impl.
    State,
    /// `#[ckpt(serde)]`: serde (`Serialize` + `Deserialize`).
    Serde,
    /// `#[ckpt(with = path)]`: `path::save` and `path::load`.
    With(syn::Path),
}

impl Field {
    /// The key of a named field (raw identifiers without `r#`).
    pub fn name(&self) -> String {
        match &self.member {
            Member::Named(i) => {
                let s = i.to_string();
                s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
            }
            Member::Unnamed(i) => i.index.to_string(),
        }
    }

    pub fn saved(&self) -> bool {
        matches!(self.rebuild, Rebuild::Saved)
    }

    /// Saved through an adapter (serde or a `with` module), not its type's `State`.
    pub fn adapted(&self) -> bool {
        self.saved() && !matches!(self.via, Via::State)
    }
}

/// How a field gets its value on load.
pub(crate) enum Rebuild {
    /// Saved and loaded.
    Saved,
    /// `#[ckpt(skip)]`: `Default::default()`.
    Default,
    /// `#[ckpt(init = path)]` (and `#[ckpt(secret, init = path)]`): `path()`.
    Init(syn::Path),
}

impl Model {
    fn parse(input: &DeriveInput, cx: &mut Ctxt) -> Model {
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("ckpt")) {
            cx.error(syn::Error::new_spanned(
                attr,
                "`#[ckpt(...)]` goes on fields (`skip`, `init = path`, `secret`, `serde`, `with = path`), not on the type",
            ));
        }
        match &input.data {
            Data::Struct(s) => Model::Struct(Shape::parse(&s.fields, cx)),
            Data::Enum(e) => Model::Enum(
                e.variants
                    .iter()
                    .map(|v| {
                        for attr in v.attrs.iter().filter(|a| a.path().is_ident("ckpt")) {
                            cx.error(syn::Error::new_spanned(
                                attr,
                                "`#[ckpt(...)]` goes on fields, not on variants",
                            ));
                        }
                        Variant {
                            ident: v.ident.clone(),
                            shape: Shape::parse(&v.fields, cx),
                        }
                    })
                    .collect(),
            ),
            Data::Union(u) => {
                cx.error(syn::Error::new_spanned(
                    u.union_token,
                    "`State` cannot be derived for a union: ckpt cannot tell which field is live; implement `ckpt::state::State` by hand",
                ));
                Model::Struct(Shape::Unit)
            }
        }
    }
}

impl Shape {
    fn parse(fields: &Fields, cx: &mut Ctxt) -> Shape {
        let parse = |fields: &syn::punctuated::Punctuated<syn::Field, _>, cx: &mut Ctxt| {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (rebuild, via) = field_attrs(f, cx);
                    Field {
                        member: match &f.ident {
                            Some(id) => Member::Named(id.clone()),
                            None => Member::Unnamed(syn::Index {
                                index: i as u32,
                                span: f.ty.span(),
                            }),
                        },
                        ty: f.ty.clone(),
                        rebuild,
                        via,
                    }
                })
                .collect()
        };
        match fields {
            Fields::Named(n) => Shape::Named(parse(&n.named, cx)),
            Fields::Unnamed(u) => Shape::Tuple(parse(&u.unnamed, cx)),
            Fields::Unit => Shape::Unit,
        }
    }
}

/// Reads the `#[ckpt(...)]` attributes of one field: how it is rebuilt, and through what
/// it is saved.
fn field_attrs(f: &syn::Field, cx: &mut Ctxt) -> (Rebuild, Via) {
    let mut skip = false;
    let mut secret: Option<Span> = None;
    let mut init: Option<syn::Path> = None;
    let mut serde: Option<Span> = None;
    let mut with: Option<(Span, syn::Path)> = None;
    // `init = path` and `with = path` take a path, bare or in a string literal.
    let path_value = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<syn::Path> {
        let value = meta.value()?;
        if value.peek(syn::LitStr) {
            value.parse::<syn::LitStr>()?.parse()
        } else {
            value.parse()
        }
    };
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("ckpt")) {
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                if skip {
                    return Err(meta.error("duplicate `skip`"));
                }
                skip = true;
                Ok(())
            } else if meta.path.is_ident("secret") {
                if secret.is_some() {
                    return Err(meta.error("duplicate `secret`"));
                }
                secret = Some(meta.path.span());
                Ok(())
            } else if meta.path.is_ident("init") {
                if init.is_some() {
                    return Err(meta.error("duplicate `init`"));
                }
                init = Some(path_value(&meta)?);
                Ok(())
            } else if meta.path.is_ident("serde") {
                if serde.is_some() {
                    return Err(meta.error("duplicate `serde`"));
                }
                serde = Some(meta.path.span());
                Ok(())
            } else if meta.path.is_ident("with") {
                if with.is_some() {
                    return Err(meta.error("duplicate `with`"));
                }
                with = Some((meta.path.span(), path_value(&meta)?));
                Ok(())
            } else {
                Err(meta.error(
                    "unknown ckpt attribute; expected `skip`, `init = path`, `secret`, `serde` or `with = path`",
                ))
            }
        });
        if let Err(e) = r {
            cx.error(e);
        }
    }
    if let Some(span) = serde {
        if skip || init.is_some() {
            cx.error(syn::Error::new(
                span,
                "`serde` saves the field through serde; it cannot be combined with `skip` or `init`, which do not save it",
            ));
        }
    }
    if let Some((span, _)) = &with {
        if skip || init.is_some() {
            cx.error(syn::Error::new(
                *span,
                "`with` saves the field through `path::save` and `path::load`; it cannot be combined with `skip` or `init`, which do not save it",
            ));
        }
        if serde.is_some() {
            cx.error(syn::Error::new(
                *span,
                "a field is saved either through serde or through a `with` module, not both; remove `serde` or `with`",
            ));
        }
    }
    if let Some(span) = secret {
        if init.is_none() || skip {
            cx.error(syn::Error::new(
                span,
                "a `secret` field is never written to an image and is made again at restore by a function you name: `#[ckpt(secret, init = path)]` (`path()` returns the value, e.g. reads the key again)",
            ));
        }
        if serde.is_some() || with.is_some() {
            cx.error(syn::Error::new(
                span,
                "a `secret` field is never written to an image; it cannot also be saved through `serde` or `with`",
            ));
        }
    }
    let rebuild = match init {
        Some(p) => Rebuild::Init(p),
        None if skip => Rebuild::Default,
        None => Rebuild::Saved,
    };
    let via = match (with, serde) {
        (Some((_, path)), _) => Via::With(path),
        (None, Some(_)) => Via::Serde,
        (None, None) => Via::State,
    };
    (rebuild, via)
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    fn errors(item: proc_macro2::TokenStream) -> String {
        let out = expand(item).to_string();
        assert!(out.contains("compile_error"), "{out}");
        out
    }

    #[test]
    fn bad_attributes_are_all_reported() {
        let out = errors(quote! {
            struct S {
                #[ckpt(skipp)]
                a: u8,
                #[ckpt(serde, skip)]
                b: u8,
                #[ckpt(skip, skip)]
                c: u8,
                #[ckpt(serde)]
                #[ckpt(serde)]
                d: u8,
            }
        });
        assert!(out.contains("unknown ckpt attribute"), "{out}");
        assert!(
            out.contains("cannot be combined with `skip` or `init`"),
            "{out}"
        );
        assert!(out.contains("duplicate `skip`"), "{out}");
        assert!(out.contains("duplicate `serde`"), "{out}");
    }

    #[test]
    fn a_secret_needs_its_init_hook_and_is_never_saved_otherwise() {
        let out = errors(quote! {
            struct S {
                #[ckpt(secret)]
                a: String,
                #[ckpt(secret, init = f, serde)]
                b: String,
                #[ckpt(secret, secret, init = f)]
                c: String,
            }
        });
        assert!(out.contains("`#[ckpt(secret, init = path)]`"), "{out}");
        assert!(
            out.contains("cannot also be saved through `serde`"),
            "{out}"
        );
        assert!(out.contains("duplicate `secret`"), "{out}");
        let ok = super::expand(quote! {
            struct S {
                #[ckpt(secret, init = load_key)]
                key: String,
                n: u64,
            }
        })
        .to_string();
        assert!(!ok.contains("compile_error"), "{ok}");
        assert!(ok.contains("load_key"), "{ok}");
        assert!(
            !ok.contains("\"key\""),
            "the secret's name is written: {ok}"
        );
    }

    #[test]
    fn with_is_exclusive_of_skip_init_and_serde() {
        let out = errors(quote! {
            struct S {
                #[ckpt(with = m, skip)]
                a: u8,
                #[ckpt(with = m, serde)]
                b: u8,
                #[ckpt(with = m, with = n)]
                c: u8,
                #[ckpt(with)]
                d: u8,
            }
        });
        assert!(out.contains("`with` saves the field through"), "{out}");
        assert!(
            out.contains("either through serde or through a `with` module"),
            "{out}"
        );
        assert!(out.contains("duplicate `with`"), "{out}");
        assert!(out.contains("expected `=`"), "{out}");
    }

    #[test]
    fn with_fields_call_the_module_and_bound_nothing() {
        let out = expand(quote!(
            struct G<T, U> {
                #[ckpt(with = adapters::foreign)]
                only_with: Foreign<T>,
                #[ckpt(with = "adapters::pair")]
                pair: (U, U),
                plain: U,
            }
        ))
        .to_string();
        let norm = out.replace(' ', "");
        assert!(!norm.contains("T:::ckpt::__private::State"), "{out}");
        assert!(norm.contains("U:::ckpt::__private::State"), "{out}");
        assert!(
            norm.contains("adapters::foreign::save(&self.only_with,__ckpt_e)?"),
            "{out}"
        );
        assert!(
            norm.contains("take_with(\"only_with\",__ckpt_l,adapters::foreign::load)?"),
            "{out}"
        );
        assert!(norm.contains("adapters::pair::save(&self.pair"), "{out}");
        let out = expand(quote!(
            struct H(#[ckpt(with = m)] Foreign, u8);
        ))
        .to_string()
        .replace(' ', "");
        assert!(out.contains("next_with(__ckpt_l,m::load)?"), "{out}");
    }

    #[test]
    fn unions_and_type_level_attributes_are_refused() {
        assert!(errors(quote!(union U { a: u8 })).contains("union"));
        assert!(errors(quote!(
            #[ckpt(skip)]
            struct S;
        ))
        .contains("goes on fields"));
    }

    #[test]
    fn serde_fields_go_through_the_bridge_and_bound_their_types() {
        let out = expand(quote!(
            struct G<T, U, V> {
                #[ckpt(serde)]
                only_serde: Vec<T>,
                #[ckpt(serde)]
                both: U,
                plain: U,
                #[ckpt(serde)]
                fixed: Foreign,
                #[ckpt(skip)]
                skipped: V,
            }
        ))
        .to_string();
        let norm = out.replace(' ', "");
        assert!(!norm.contains("T:::ckpt::__private::State"), "{out}");
        assert!(
            norm.contains("Vec<T>:::ckpt::__private::SerdeBridge"),
            "{out}"
        );
        assert!(norm.contains("U:::ckpt::__private::State"), "{out}");
        assert!(norm.contains("U:::ckpt::__private::SerdeBridge"), "{out}");
        assert!(norm.contains("V:::ckpt::__private::State"), "{out}");
        assert!(!norm.contains("Foreign:::ckpt"), "{out}");
        assert!(norm.contains("save_serde::<Foreign>(&self.fixed"), "{out}");
        assert!(
            norm.contains("take::<::ckpt::__private::Serde<Foreign>>(\"fixed\""),
            "{out}"
        );
    }

    #[test]
    fn generics_get_bounds_and_the_impl_is_wrapped() {
        let out = expand(quote!(
            struct G<T: Clone, 'a>
            where
                T: Copy,
            {
                x: &'a T,
            }
        ))
        .to_string();
        assert!(out.starts_with("# [allow"), "{out}");
        assert!(out.contains("const _ : () ="), "{out}");
        assert!(out.contains("T : :: ckpt :: __private :: State"), "{out}");
    }
}
