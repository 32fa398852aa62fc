use super::super::{analysis::Analysis, bindings, ctxt::Ctxt, points};
use super::*;

/// A function after `points` (checkpointable: `fn step`, `Sim::advance`),
/// `normalize` and `bindings`.
struct Prepared {
    body: syn::Block,
    points: Points,
    model: FnModel,
    table: Table,
}

fn prepare(src: &str, self_ty: Option<&str>) -> Prepared {
    let f: syn::ItemFn = syn::parse_str(src).unwrap();
    let model = FnModel::new(&f.sig, &f.block, self_ty);
    let mut body = (*f.block).clone();
    let mut a = Analysis::default();
    a.add_fn("step".into());
    a.add_method("Sim".into(), "advance".into());
    let mut cx = Ctxt::default();
    let points = points::mark(&mut body, &a, self_ty, &mut cx);
    assert!(cx.is_empty());
    let refs = model
        .params
        .iter()
        .filter(|p| p.passing != Passing::Value)
        .filter_map(|p| p.name.as_ref().map(|n| n.to_string()))
        .collect();
    let mut norm = Norm::default();
    norm.run(&mut body, &[], refs);
    let table = bindings::table(&body, &model, &norm);
    Prepared {
        body,
        points,
        model,
        table,
    }
}

/// The call markers of the body, in id order.
fn markers(b: &syn::Block) -> Vec<syn::Expr> {
    struct V(Vec<syn::Expr>);
    impl<'a> syn::visit::Visit<'a> for V {
        fn visit_expr(&mut self, e: &'a syn::Expr) {
            syn::visit::visit_expr(self, e);
            if marker_id(e).is_some() {
                self.0.push(e.clone());
            }
        }
    }
    let mut v = V(Vec::new());
    syn::visit::Visit::visit_block(&mut v, b);
    v.0
}

/// One line per call point: its arguments (`lend x`, `part x.f`, `same`, `load`,
/// `load &`, `load &mut`), then why it cannot be resumed, if so.
fn classified_in(src: &str, self_ty: Option<&str>) -> Vec<String> {
    let p = prepare(src, self_ty);
    markers(&p.body)
        .iter()
        .map(|e| {
            let (args, why) = classify(e, &p.model, &p.table);
            let args: Vec<String> = args.iter().map(show).collect();
            let mut s = args.join(", ");
            if let Some(why) = why {
                s += &format!(" ({why})");
            }
            s
        })
        .collect()
}

fn classified(src: &str) -> Vec<String> {
    classified_in(src, None)
}

fn show(a: &Arg) -> String {
    match a {
        Arg::Lend(x) => format!("lend {x}"),
        Arg::LendPart(p) => {
            let mut s = if p.deref {
                format!("part (*{})", p.root)
            } else {
                format!("part {}", p.root)
            };
            for st in &p.path {
                match st {
                    PartStep::Field(f) => s += &format!(".{f}"),
                    PartStep::Index(i) => s += &format!("[{i}]"),
                }
            }
            if let Some(ptr) = &p.again {
                s += &format!(" again via {ptr}");
            }
            s
        }
        Arg::Same => "same".into(),
        Arg::Load { by_ref: None } => "load".into(),
        Arg::Load {
            by_ref: Some(false),
        } => "load &".into(),
        Arg::Load { by_ref: Some(true) } => "load &mut".into(),
    }
}

#[test]
fn mutable_borrows_of_locals_mut_parameters_and_receivers_are_lent() {
    assert_eq!(
        classified("fn f(p: &mut Vec<u8>) { let mut x = 0; step(&mut x); step(p); x.advance(); (*x).advance(); }"),
        ["lend x", "lend p", "lend x", "lend x"]
    );
    assert_eq!(
        classified_in("fn f(&mut self) { self.advance(); }", Some("Sim")),
        ["lend self"]
    );
}

#[test]
fn parts_of_locals_and_of_self_are_lent_in_part() {
    assert_eq!(
        classified("fn f() { let mut x = S::default(); let mut v = vec![]; let i = 1; step(&mut x.f); step(&mut v[i]); step(&mut x.f.g[i].h); }"),
        ["part x.f", "part v[i]", "part x.f.g[i].h"]
    );
    assert_eq!(
        classified_in(
            "fn f(&mut self) { self.engine.advance(); step(&mut self.engine); }",
            Some("Sim")
        ),
        ["part (*self).engine", "part (*self).engine"]
    );
}

#[test]
fn a_range_or_a_part_of_a_by_value_parameter_cannot_be_lent() {
    assert_eq!(
        classified("fn f() { let mut v = vec![]; step(&mut v[1..]); }"),
        ["same (it lends a range of a value)"]
    );
    assert_eq!(
        classified("fn f(v: Vec<u8>) { step(&mut v.f); }"),
        ["same (it lends a part of a parameter passed by value)"]
    );
}

#[test]
fn items_of_a_loop_over_iter_mut_are_lent_as_parts_again() {
    assert_eq!(
        classified(
            "fn f() { let mut v = vec![]; for t in v.iter_mut() { step(t); t.advance(); } }"
        ),
        [
            "part v[(__ckpt_n___ckpt_it1 as usize) - 1] again via __ckpt_lp1",
            "part v[(__ckpt_n___ckpt_it1 as usize) - 1] again via __ckpt_lp1",
        ]
    );
    assert_eq!(
        classified("fn f(v: &mut Vec<u8>) { for t in v.iter_mut() { step(t); } }"),
        ["part (*v)[(__ckpt_n___ckpt_it1 as usize) - 1] again via __ckpt_lp1"]
    );
}

#[test]
fn what_the_resume_path_makes_again_is_passed_the_same() {
    assert_eq!(
        classified(
            r#"fn f(q: &Vec<u8>) {
                let x = S::default();
                let s = String::new();
                let r = &x;
                step(1, "a", |y| y, &x, &x.f, s.as_bytes(), CONST, m::X, q, r);
            }"#
        ),
        ["same, same, same, same, same, same, same, same, same, same"]
    );
}

#[test]
fn other_values_are_loaded() {
    assert_eq!(
        classified(
            "fn f(n: u64) { let x = 1; let s = String::new(); step(x, x + 1, &make(), &mut make(), s.len(), n); make().advance(); }"
        ),
        ["load, load, load &, load &mut, load, load", "load"]
    );
}

#[test]
fn a_mutable_borrow_held_in_a_local_cannot_be_resumed() {
    assert_eq!(
        classified("fn f() { let mut v = S::default(); let w = &mut v; w.advance(); step(w); }"),
        [
            "same (its receiver is a mutable borrow of part of a value)",
            "same (it passes a mutable borrow of part of a value)",
        ]
    );
}

#[test]
fn a_point_needs_what_it_lends_and_makes_again() {
    let needs_of = |src: &str| -> Vec<Vec<String>> {
        let p = prepare(src, None);
        markers(&p.body)
            .iter()
            .map(|e| {
                needs(e, &p.points, &p.model, &p.table)
                    .into_iter()
                    .collect()
            })
            .collect()
    };
    // `y` is loaded: the callee hands it back.
    assert_eq!(
        needs_of("fn f() { let mut x = 0; let y = 1; let z = 2; step(&mut x, y, &z); }"),
        [["x", "z"]]
    );
    assert_eq!(
        needs_of("fn f(path: &str) { ckpt::save_to(path); }"),
        [["path"]]
    );
    assert_eq!(
        needs_of("fn f() { let mut v = vec![]; step(&mut v[1..]); }"),
        [Vec::<String>::new()]
    );
    assert_eq!(
        needs_of("fn f() { let mut v = vec![]; for t in v.iter_mut() { step(t); } }"),
        [["__ckpt_lp1", "t", "v"]]
    );
}

#[test]
fn calls_that_cannot_be_resumed_are_made_inside_a_barrier() {
    let mut p = prepare(
        "fn f() { let mut v = vec![]; step(&mut v[1..]); step(&mut v); }",
        None,
    );
    unmark_unsupported(&mut p.body, &p.points, &p.model, &p.table);
    let stmts = &p.body.stmts;
    assert_eq!(
        quote!(#(#stmts)*).to_string(),
        "let mut v = vec ! [] ; { let __ckpt_g = __ck . barrier (1u32 , \
         \"the call of `step` cannot be resumed: it lends a range of a value\") ; \
         let __ckpt_r = step (& mut v [1 ..]) ; :: core :: mem :: drop (__ckpt_g) ; __ckpt_r } ; \
         __ckpt_point_2 (& mut v) ;"
    );
}
