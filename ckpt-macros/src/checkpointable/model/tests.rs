use super::*;

fn model_of(src: &str, self_ty: Option<&str>) -> FnModel {
    let f: syn::ItemFn = syn::parse_str(src).unwrap();
    FnModel::new(&f.sig, &f.block, self_ty)
}

/// `POS NAME PASSING[ mut]` for each parameter.
fn params(src: &str) -> Vec<String> {
    model_of(src, None)
        .params
        .iter()
        .map(|p| {
            let m = if p.mutable { " mut" } else { "" };
            format!("{} {} {:?}{m}", p.pos, p.display(), p.passing)
        })
        .collect()
}

/// The `where` clause `add_state_bounds` leaves on `sig` (in an inherent impl
/// `outer`, like `impl<T> S<T>`).
fn bounded(sig: &str, outer: Option<&str>) -> String {
    let f: syn::ItemFn = syn::parse_str(&format!("{sig} {{}}")).unwrap();
    let imp: Option<syn::ItemImpl> = outer.map(|o| syn::parse_str(&format!("{o} {{}}")).unwrap());
    let mut sig = f.sig;
    FnModel::add_state_bounds(&mut sig, imp.as_ref().map(|i| &i.generics));
    let w = &sig.generics.where_clause;
    quote!(#w).to_string()
}

#[test]
fn parameters_are_numbered_with_the_receiver_first() {
    let m = model_of(
        "fn f(&mut self, a: &T, mut b: u64, (c, d): (u8, u8), e: (&mut Vec<u8>)) {}",
        Some("Sim"),
    );
    assert_eq!(m.name, "Sim::f");
    assert_eq!(m.param_names(), ["self", "a", "b", "#3", "e"]);
    assert_eq!(
        params("fn f(&mut self, a: &T, mut b: u64, (c, d): (u8, u8), e: (&mut Vec<u8>)) {}"),
        [
            "0 self Mut",
            "1 a Shared",
            "2 b Value mut",
            "3 #3 Value",
            "4 e Mut"
        ]
    );
    let received: Vec<String> = m
        .params
        .iter()
        .map(|p| p.received_as().to_string())
        .collect();
    assert_eq!(
        received,
        ["self", "__ckpt_p1", "__ckpt_p2", "__ckpt_p3", "__ckpt_p4"]
    );
    assert!(m.params[0].is_receiver() && !m.params[1].is_receiver());
    assert_eq!(model_of("fn f() {}", None).name, "f");
}

#[test]
fn receivers_are_passed_as_written() {
    assert_eq!(params("fn f(self) {}"), ["0 self Value"]);
    assert_eq!(params("fn f(mut self) {}"), ["0 self Value mut"]);
    assert_eq!(params("fn f(&self) {}"), ["0 self Shared"]);
    // `mut` of a `&mut self` would be the reference's, not the value's.
    assert_eq!(params("fn f(&mut self) {}"), ["0 self Mut"]);
    assert_eq!(params("fn f(self: Box<Self>) {}"), ["0 self Value"]);
}

#[test]
fn typed_reference_receivers_are_passed_by_reference() {
    assert_eq!(params("fn f(self: &mut Self) {}"), ["0 self Mut"]);
    assert_eq!(params("fn f(self: &Self) {}"), ["0 self Shared"]);
}

#[test]
fn the_signature_receives_typed_parameters_by_position() {
    let f: syn::ItemFn = syn::parse_str("fn f(&self, (a, b): (u8, u8), mut n: u64) {}").unwrap();
    let m = FnModel::new(&f.sig, &f.block, None);
    let sig = m.signature(&f.sig);
    assert_eq!(
        quote!(#sig).to_string(),
        "fn f (& self , __ckpt_p1 : (u8 , u8) , __ckpt_p2 : u64)"
    );
}

#[test]
fn type_parameters_a_frame_may_save_must_be_state() {
    assert_eq!(
        bounded(
            "fn f<T, F: Fn(T) -> T, I: Iterator<Item = T>, U: ?Sized, S: ckpt::State, W>(t: T) where W: FnMut()",
            None
        ),
        "where W : FnMut () , T : :: ckpt :: State"
    );
    assert_eq!(
        bounded(
            "fn f<T: Clone + ckpt::State, J>(t: T) where J: IntoIterator",
            None
        ),
        "where J : IntoIterator"
    );
    assert_eq!(bounded("fn f(t: u8)", None), "");
}

#[test]
fn an_inherent_impls_type_parameters_are_bounded_too() {
    assert_eq!(
        bounded(
            "fn run<T>(&self, t: T)",
            Some("impl<K, V: Clone, G: FnMut()> Map<K, V, G>")
        ),
        "where K : :: ckpt :: State , V : :: ckpt :: State , T : :: ckpt :: State"
    );
    assert_eq!(
        bounded("fn run(&self)", Some("impl<F> S<F> where F: Fn()")),
        ""
    );
}

#[test]
fn a_methods_where_clause_exempts_the_impls_parameters() {
    assert_eq!(
        bounded("fn run(&self) where F: Fn()", Some("impl<F> S<F>")),
        "where F : Fn ()"
    );
}

#[test]
fn types_are_named_by_their_last_segment() {
    let ty = |s: &str| type_name(&syn::parse_str(s).unwrap());
    assert_eq!(ty("Sim"), "Sim");
    assert_eq!(ty("crate::sim::Sim<T>"), "Sim");
}

#[test]
fn the_hash_follows_the_tokens() {
    let h = |s: &str| body_hash(&s.parse().unwrap());
    assert_eq!(h("fn f() { a(); }"), h("fn f()  {  a();  }"));
    assert_ne!(h("fn f() { a(); }"), h("fn f() { b(); }"));
}
