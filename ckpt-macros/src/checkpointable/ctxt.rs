//! Errors of one expansion, collected so one build shows them all (serde_derive's
//! `Ctxt`): every pass reports into it and goes on, and the front end emits them all
//! next to the original item.

use std::fmt::Display;

use quote::ToTokens;

/// The error collector of one `#[checkpointable]` expansion.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// An error spanning the user's tokens `node`.
    pub fn error_spanned<T: ToTokens, M: Display>(&mut self, node: T, msg: M) {
        self.errors.push(syn::Error::new_spanned(node, msg));
    }

    /// An error at `span`.
    pub fn error_at<M: Display>(&mut self, span: proc_macro2::Span, msg: M) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// An error produced elsewhere (a parse error).
    pub fn push(&mut self, e: syn::Error) {
        self.errors.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// All errors, as `compile_error!` invocations.
    pub fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
