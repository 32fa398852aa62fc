pub fn expand(item: proc_macro2::TokenStream) -> proc_macro2::TokenStream { let _ = item; proc_macro2::TokenStream::new() }
