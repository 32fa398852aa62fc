use super::*;
use quote::quote;

/// The crate's checkpointable items: `fn step`, `Sim::advance`, `Sim::new`.
fn analysis() -> Analysis {
    let mut a = Analysis::default();
    a.add_fn("step".into());
    a.add_method("Sim".into(), "advance".into());
    a.add_method("Sim".into(), "new".into());
    a
}

/// A body after `mark`: its statements, what each point replaced (`save`,
/// `save_to`, the callee's path, or `.method`), and the errors.
struct Marked {
    body: String,
    points: Vec<String>,
    errors: String,
}

fn marked_in(src: &str, self_ty: Option<&str>) -> Marked {
    let mut b: syn::Block = syn::parse_str(src).unwrap();
    let mut cx = Ctxt::default();
    let points = mark(&mut b, &analysis(), self_ty, &mut cx);
    let stmts = &b.stmts;
    let points = points
        .list
        .iter()
        .map(|p| match &p.kind {
            Kind::Save {
                on_request: true, ..
            } => "safepoint".to_string(),
            Kind::Save { to: false, .. } => "save".to_string(),
            Kind::Save { to: true, .. } => "save_to".to_string(),
            Kind::Path { func, .. } => quote!(#func).to_string(),
            Kind::Method {
                method, turbofish, ..
            } => format!(".{method}{}", quote!(#turbofish)),
        })
        .collect();
    Marked {
        body: quote!(#(#stmts)*).to_string(),
        points,
        errors: cx.into_compile_errors().to_string(),
    }
}

fn marked(src: &str) -> Marked {
    marked_in(src, None)
}

#[test]
fn nested_calls_get_their_ids_first() {
    let m = marked("{ let x = step(step(a)); b.advance(step(c)); }");
    assert_eq!(
        m.body,
        "let x = __ckpt_point_2 (__ckpt_point_1 (a)) ; b . __ckpt_point_4 (__ckpt_point_3 (c)) ;"
    );
    assert_eq!(m.points, ["step", "step", "step", ".advance"]);
}

#[test]
fn calls_of_checkpointable_names_are_points() {
    let m = marked(
        "{ step(x); m::step(x); Sim::new(); Sim::advance(s); x.advance(); other(x); x.len(); }",
    );
    assert_eq!(
        m.body,
        "__ckpt_point_1 (x) ; __ckpt_point_2 (x) ; __ckpt_point_3 () ; __ckpt_point_4 (s) ; \
         x . __ckpt_point_5 () ; other (x) ; x . len () ;"
    );
    assert_eq!(
        m.points,
        [
            "step",
            "m :: step",
            "Sim :: new",
            "Sim :: advance",
            ".advance"
        ]
    );
}

#[test]
fn self_paths_are_points_in_an_impl_only() {
    assert_eq!(marked("{ Self::advance(); }").points, Vec::<String>::new());
    let m = marked_in("{ Self::advance(); }", Some("Sim"));
    assert_eq!(m.body, "__ckpt_point_1 () ;");
    assert_eq!(m.points, ["Self :: advance"]);
}

#[test]
fn std_types_are_not_points_even_when_the_crate_has_the_name() {
    let m = marked("{ let v = Vec::new(); let s = String::new(); let r = Rc::new(x); }");
    assert_eq!(
        m.body,
        "let v = Vec :: new () ; let s = String :: new () ; let r = Rc :: new (x) ;"
    );
    assert!(m.points.is_empty());
}

#[test]
fn saves_are_points() {
    let m = marked("{ ckpt::save()?; ::ckpt::save(); ckpt::save_to(p); ckpt::safepoint(); }");
    assert_eq!(
        m.body,
        "__ckpt_point_1 () ? ; __ckpt_point_2 () ; __ckpt_point_3 (p) ; __ckpt_point_4 () ;"
    );
    assert_eq!(m.points, ["save", "save", "save_to", "safepoint"]);
    assert_eq!(m.errors, "");
}

#[test]
fn a_save_with_wrong_arguments_is_an_error() {
    let m = marked("{ ckpt::save(1); }");
    assert!(m.points.is_empty());
    assert!(m
        .errors
        .contains("`ckpt::save()` and `ckpt::safepoint()` take no argument"));
}

#[test]
fn a_method_points_turbofish_is_kept_with_the_point() {
    let m = marked("{ x.advance::<u8>(); }");
    assert_eq!(m.body, "x . __ckpt_point_1 () ;");
    assert_eq!(m.points, [".advance:: < u8 >"]);
}

#[test]
fn calls_in_closures_and_items_are_not_points() {
    let src = "{ let f = || step(a); fn inner() { step(b); ckpt::save(); } }";
    let m = marked(src);
    assert!(m.points.is_empty());
    assert_eq!(m.errors, "");
    assert_eq!(
        m.body,
        "let f = | | step (a) ; fn inner () { step (b) ; ckpt :: save () ; }"
    );
}

#[test]
fn macro_arguments_up_to_the_last_point_are_evaluated_first() {
    // `v[i]` is read by reference, as the macro reads it; `y.len()` after the last
    // point stays in the macro.
    let m = marked(r#"{ println!("{} {} {} {}", v[i], x.len(), step(a), y.len()); }"#);
    assert_eq!(
        m.body,
        r#"{ let __ckpt_ma1_1 = & v [i] ; let __ckpt_ma1_2 = x . len () ; let __ckpt_ma1_3 = __ckpt_point_1 (a) ; println ! ("{} {} {} {}" , * __ckpt_ma1_1 , __ckpt_ma1_2 , __ckpt_ma1_3 , y . len ()) } ;"#
    );
}

#[test]
fn places_and_literals_stay_in_the_macro() {
    assert_eq!(
        marked(r#"{ println!("{} {}", x.total, step(a)); }"#).body,
        r#"{ let __ckpt_ma1_2 = __ckpt_point_1 (a) ; println ! ("{} {}" , x . total , __ckpt_ma1_2) } ;"#
    );
    assert_eq!(
        marked(r#"{ write!(out, "{}", step(a))?; }"#).body,
        r#"{ let __ckpt_ma1_2 = __ckpt_point_1 (a) ; write ! (out , "{}" , __ckpt_ma1_2) } ? ;"#
    );
}

#[test]
fn vec_elements_are_moved_into_temporaries() {
    assert_eq!(
        marked("{ let v = vec![x, step(a)]; }").body,
        "let v = { let __ckpt_ma1_0 = x ; let __ckpt_ma1_1 = __ckpt_point_1 (a) ; vec ! [__ckpt_ma1_0 , __ckpt_ma1_1] } ;"
    );
}

#[test]
fn named_and_assert_arguments_are_unfolded() {
    assert_eq!(
        marked(r#"{ let s = format!("{n}", n = step(a)); }"#).body,
        r#"let s = { let __ckpt_ma1_1 = __ckpt_point_1 (a) ; format ! ("{n}" , n = __ckpt_ma1_1) } ;"#
    );
    assert_eq!(
        marked(r#"{ assert!(step(a) > 0, "positive"); }"#).body,
        r#"{ let __ckpt_ma1_0 = __ckpt_point_1 (a) > 0 ; assert ! (__ckpt_ma1_0 , "positive") } ;"#
    );
}

#[test]
fn macros_without_points_are_left_alone() {
    let m = marked(r#"{ println!("{}", x.len()); dbg!(x); }"#);
    assert_eq!(m.body, r#"println ! ("{}" , x . len ()) ; dbg ! (x) ;"#);
    assert!(m.points.is_empty());
}

#[test]
fn a_save_in_a_closure_or_async_block_is_an_error() {
    let m = marked("{ let f = || ckpt::save(); }");
    assert!(m.points.is_empty());
    assert!(
        m.errors.contains("cannot sit inside a closure"),
        "{}",
        m.errors
    );
    let m = marked("{ let f = async { ckpt::save() }; }");
    assert!(m.points.is_empty());
    assert!(
        m.errors.contains("cannot sit inside an async block"),
        "{}",
        m.errors
    );
}

#[test]
fn a_save_in_a_match_guard_is_an_error() {
    let m = marked("{ match x { Some(y) if ckpt::save().is_ok() => {} _ => {} } }");
    assert!(
        m.errors.contains("cannot sit in a match guard"),
        "{}",
        m.errors
    );
}

#[test]
fn a_save_in_the_else_of_let_else_is_an_error() {
    let m = marked("{ let Some(x) = o else { ckpt::save(); return; }; }");
    assert!(
        m.errors
            .contains("cannot sit in the `else` block of `let ... else`"),
        "{}",
        m.errors
    );
}

#[test]
fn a_save_in_an_unknown_macro_is_an_error() {
    let m = marked("{ dbg!(ckpt::save()); }");
    assert!(m.points.is_empty());
    assert!(
        m.errors.contains("cannot sit inside this macro call"),
        "{}",
        m.errors
    );
}

#[test]
fn ids_are_read_in_evaluation_order_outside_closures() {
    let b: syn::Block = syn::parse_str(
        "{ __ckpt_point_2(__ckpt_point_1(a)); let f = || __ckpt_point_3(); b.__ckpt_point_4(); }",
    )
    .unwrap();
    assert_eq!(ids_in_block(&b), [1, 2, 4]);
    assert!(has_point_stmt(&b.stmts[0]));
    assert!(!has_point_stmt(&b.stmts[1]));
    let e: syn::Expr = syn::parse_str("x.__ckpt_point_7(y)").unwrap();
    assert_eq!(marker_id(&e), Some(7));
}
