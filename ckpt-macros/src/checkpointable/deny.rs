//! Deny mode: inside the annotated item, the constructs of the checkpointability report
//! (`os_rules.rs`: `libc::*`, `std::process`, `std::thread::spawn`, raw file descriptors,
//! ...) become compile errors instead of build-script warnings.
//!
//! It is on for `#[checkpointable(deny)]`, and for every `#[checkpointable]` item when
//! `CKPT_REPORT=deny` is in rustc's environment: set by the user, or exported by a build
//! script that calls `ckpt_build::Config::new().deny().instrument()`. The build script
//! covers what this check cannot see (functions declared in `extern` blocks elsewhere in
//! the crate, files of `mod foo;` declarations).

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::Visit;

use super::os_rules::{self, ForeignNames};

/// The attribute argument that turns deny mode on.
const DENY: &str = "deny";

/// Reads the attribute arguments (empty, or `deny`) and the environment. Returns what
/// turned deny mode on, for the error messages, or `None` when it is off.
pub(super) fn mode(attr: TokenStream, errors: &mut Vec<syn::Error>) -> Option<&'static str> {
    let mut deny = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident(DENY) {
            if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
                deny = true;
                return Ok(());
            }
            return Err(meta.error("ckpt: `deny` takes no value: #[checkpointable(deny)]"));
        }
        let name = meta.path.to_token_stream().to_string().replace(' ', "");
        Err(meta.error(format!(
            "ckpt: unknown argument `{name}`: #[checkpointable] takes no arguments, or `deny` \
             (OS calls ckpt cannot virtualize in the item become compile errors)"
        )))
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, attr) {
        errors.push(e);
    }
    if deny {
        Some("`#[checkpointable(deny)]`")
    } else if env_denies(std::env::var("CKPT_REPORT").ok().as_deref()) {
        Some("`CKPT_REPORT=deny`")
    } else {
        None
    }
}

/// `CKPT_REPORT=deny` (any case, surrounding blanks ignored); anything else only warns.
fn env_denies(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case(DENY))
}

/// One error per construct of the rule table in the checkpointable functions of `item`:
/// the spans are the user's, the message is the report's reason and says what enabled
/// deny mode (`why`).
pub(super) fn check(item: &syn::Item, why: &str, errors: &mut Vec<syn::Error>) {
    let mut foreign = BTreeSet::new();
    ForeignNames(&mut foreign).visit_item(item);
    let mut bodies = Vec::new();
    bodies_of(item, &mut bodies);
    for body in bodies {
        // Items declared in a body are not part of the function: a `#[checkpointable]`
        // one is checked by its own expansion.
        for hit in os_rules::scan_block(body, &foreign).hits {
            let msg = format!("ckpt: {} (denied by {why})", hit.reason);
            errors.push(syn::Error::new_spanned(&hit.tokens, msg));
        }
    }
}

/// The bodies of the functions the annotation makes checkpointable, as the report counts
/// them: a function, the methods of an `impl`, default methods of a trait, and all of
/// these inside an inline `mod`.
fn bodies_of<'a>(item: &'a syn::Item, out: &mut Vec<&'a syn::Block>) {
    match item {
        syn::Item::Fn(f) => out.push(&f.block),
        syn::Item::Impl(i) => out.extend(i.items.iter().filter_map(|it| match it {
            syn::ImplItem::Fn(f) => Some(&f.block),
            _ => None,
        })),
        syn::Item::Trait(t) => out.extend(t.items.iter().filter_map(|it| match it {
            syn::TraitItem::Fn(f) => f.default.as_ref(),
            _ => None,
        })),
        syn::Item::Mod(m) => {
            for it in m.content.iter().flat_map(|(_, items)| items) {
                bodies_of(it, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn messages(item: TokenStream) -> Vec<String> {
        let item: syn::Item = syn::parse2(item).expect("item");
        let mut errors = Vec::new();
        check(&item, "`X`", &mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_argument_and_the_environment() {
        let mut errors = Vec::new();
        assert!(mode(quote!(deny), &mut errors).is_some());
        assert!(errors.is_empty());
        mode(quote!(fast), &mut errors);
        mode(quote!(deny = true), &mut errors);
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].to_string().contains("unknown argument `fast`"),
            "{}",
            errors[0]
        );
        assert!(errors[0].to_string().contains("or `deny`"), "{}", errors[0]);
        assert!(
            errors[1].to_string().contains("takes no value"),
            "{}",
            errors[1]
        );
        assert!(env_denies(Some(" Deny")));
        assert!(!env_denies(Some("warn")));
        assert!(!env_denies(None));
    }

    #[test]
    fn one_error_per_construct_with_the_report_reason() {
        let got = messages(quote! {
            mod m {
                extern "C" { fn c_twice(x: i32) -> i32; }
                fn f() { let _ = unsafe { c_twice(libc::getpid()) }; }
                impl S { fn g(&self) { std::thread::spawn(|| ()); } }
                trait T { fn h(&self) { std::process::exit(0) } }
                const C: i32 = unsafe { libc::getpid() };
            }
        });
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("ckpt: `c_twice` is declared in an `extern` block"));
        assert!(got[1].starts_with("ckpt: `libc::getpid` calls the C library directly"));
        assert!(got[2].starts_with("ckpt: `std::thread::spawn` starts an OS thread"));
        assert!(got[3].starts_with("ckpt: `std::process::exit` ends the process"));
        assert!(got[3].ends_with("(denied by `X`)"));
    }

    #[test]
    fn nested_items_are_left_to_their_own_annotation() {
        let got = messages(quote! {
            fn f() { fn helper() { unsafe { libc::getpid() }; } }
        });
        assert!(got.is_empty(), "{got:?}");
    }
}
