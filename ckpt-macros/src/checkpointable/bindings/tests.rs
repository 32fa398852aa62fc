use super::super::{analysis::Analysis, ctxt::Ctxt, points};
use super::*;

/// The table of a function whose checkpointable callee is `step`, after `points`
/// and `normalize`.
fn table_of(src: &str) -> (Table, Norm) {
    let f: syn::ItemFn = syn::parse_str(src).unwrap();
    let model = FnModel::new(&f.sig, &f.block, None);
    let mut body = (*f.block).clone();
    let mut analysis = Analysis::default();
    analysis.add_fn("step".into());
    let mut cx = Ctxt::default();
    points::mark(&mut body, &analysis, None, &mut cx);
    assert!(cx.is_empty());
    let refs = model
        .params
        .iter()
        .filter(|p| p.passing != Passing::Value)
        .filter_map(|p| p.name.as_ref().map(|n| n.to_string()))
        .collect();
    let mut norm = Norm::default();
    norm.run(&mut body, &[], refs);
    (table(&body, &model, &norm), norm)
}

/// `name: mode` for each binding, in binding order (see [`Binding::describe`]).
fn modes(src: &str) -> Vec<String> {
    table_of(src)
        .0
        .describe()
        .lines()
        .map(str::to_string)
        .collect()
}

fn rerun(src: &str) -> bool {
    rerun_class(&syn::parse_str(src).unwrap())
}

#[test]
fn parameters_come_first_and_plain_values_are_taken() {
    assert_eq!(
        modes("fn f(p: &mut Vec<u8>, n: u64) { let mut x = 0; let y = n + 1; let s = step(); step(); }"),
        ["p: param, mut borrow", "n: param", "x: take", "y: take", "s: take"]
    );
}

#[test]
fn borrows_literals_and_closures_are_run_again() {
    assert_eq!(
        modes(
            r#"fn f(grid: &Grid, r: usize) {
                let sep = ", ";
                let row = &grid[r];
                let score = |w: u64| w * 2;
                let at = ::core::ptr::addr_of!(grid);
                let ops = vec![("id", Box::new(|x| x))];
                let words: Vec<&str> = row.split(' ').collect();
                step();
            }"#
        ),
        [
            "grid: param",
            "r: param",
            r#"sep: rerun `let sep = ", " ;`"#,
            "row: rerun `let row = & grid [r] ;`",
            "score: rerun `let score = | w : u64 | w * 2 ;`",
            "at: rerun `let at = :: core :: ptr :: addr_of ! (grid) ;`",
            r#"ops: rerun `let ops = vec ! [("id" , Box :: new (| x | x))] ;`"#,
            "words: rerun `let words : Vec < & str > = row . split (' ') . collect () ;`",
        ]
    );
}

#[test]
fn owned_results_and_mut_lets_are_taken() {
    assert_eq!(
        modes("fn f(row: &str) { let n = row.trim().len(); let s = row.trim().to_string(); let mut t = \"a\"; step(); }"),
        ["row: param", "n: take", "s: take", "t: take"]
    );
}

#[test]
fn a_let_whose_input_changes_while_it_is_in_use_is_taken() {
    // `k` changes before `g` is last used: `g` made again would see the new `k`.
    assert_eq!(
        modes("fn f() { let mut k = 2; let g = move |w: u64| w * k; k += 1; g(3); step(); }"),
        ["k: take", "g: take"]
    );
    // Changed after its last use: made again.
    assert_eq!(
        modes("fn f() { let mut k = 2; let g = move |w: u64| w * k; g(3); k += 1; step(); }"),
        ["k: take", "g: rerun `let g = move | w : u64 | w * k ;`"]
    );
    // A method that may change its receiver counts as a change.
    assert_eq!(
        modes("fn f(c: &Cell<u8>) { let x = c.get(); c.set(2); use_it(x); step(); }"),
        ["c: param", "x: take"]
    );
}

#[test]
fn a_mutable_borrow_made_again_is_marked() {
    assert_eq!(
        modes("fn f() { let mut v = vec![1]; let r = &mut v[0]; step(r); }"),
        ["v: take", "r: rerun `let r = & mut v [0] ;`, mut borrow"]
    );
}

#[test]
fn loop_items_of_an_iterator_saved_by_count_are_heads() {
    assert_eq!(
        modes("fn f(v: Vec<u8>) { for x in v.iter() { step(x); } for y in 0..3 { step(y); } }"),
        [
            "v: param",
            "__ckpt_it1: iter",
            "x: head of __ckpt_it1",
            "__ckpt_it2: iter",
            "y: take",
        ]
    );
}

#[test]
fn items_of_a_loop_over_iter_mut_are_lent_heads() {
    assert_eq!(
        modes("fn f() { let mut v = vec![1]; for z in v.iter_mut() { step(z); } }"),
        [
            "v: take",
            "__ckpt_lp1: rerun `let __ckpt_lp1 = :: core :: ptr :: addr_of ! (v) ;`",
            "__ckpt_it1: iter",
            "z: head of __ckpt_it1, mut borrow, item lent via __ckpt_lp1",
        ]
    );
    // Declared `mut` by `normalize` only to be made again: not changed by the program.
    let (t, _) = table_of("fn f() { let mut v = vec![1]; for z in v.iter_mut() { step(z); } }");
    assert!(!t.get("z").unwrap().mutable);
}

#[test]
fn arm_bindings_of_a_borrowed_scrutinee_are_matched_again() {
    assert_eq!(
        modes(
            "fn f(stack: &Vec<u8>, x: &Vec<u8>, o: Option<u8>) {
                match stack.last() { Some(top) => { step(top); } None => {} }
                match x.len() { n => { step(n); } }
                match o { Some(mut q) => { step(q); } None => {} }
                match o { Some(quiet) => {} None => {} }
            }"
        ),
        [
            "stack: param",
            "x: param",
            "o: param",
            "top: rematch `Some (top)` against `stack . last ()`",
            "n: take",
            "q: take",
        ]
    );
    // `if let` is a `match` after `normalize`.
    assert_eq!(
        modes("fn f(stack: &Vec<u8>) { if let Some(top) = stack.last() { step(top); } }"),
        [
            "stack: param",
            "top: rematch `Some (top)` against `stack . last ()`"
        ]
    );
}

#[test]
fn ref_bindings_are_in_the_table() {
    let (t, _) =
        table_of("fn f(o: Option<String>) { match o { Some(ref s) => { step(); s.len(); } None => {} } let ref r = o; step(); r; }");
    assert!(t.get("s").is_some());
    assert!(t.get("r").is_some());
}

#[test]
fn a_binding_made_again_brings_its_inputs() {
    let src = "fn f(grid: &Grid, v: Vec<u8>) { let i = step(); let row = &grid[i]; for x in v.iter() { step(row, x); } }";
    let (t, norm) = table_of(src);
    let names = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
    assert_eq!(names(t.inputs("row", &norm)), ["grid", "i"]);
    assert_eq!(names(t.inputs("x", &norm)), ["__ckpt_it1"]);
    assert_eq!(names(t.inputs("__ckpt_it1", &norm)), ["v"]);
    let mut live: BTreeSet<String> = ["row".to_string(), "x".to_string()].into();
    t.close(&mut live, &norm);
    assert_eq!(names(live), ["__ckpt_it1", "grid", "i", "row", "v", "x"]);
}

#[test]
fn the_rerun_class_is_borrows_literals_and_closures() {
    for src in [
        r#""a""#,
        r#"b"a""#,
        "&v[i]",
        "&x.f",
        "&*p",
        "|w| w + k",
        "addr_of!(x)",
        "std::ptr::addr_of!(x)",
        r#"vec![("a", Box::new(|x| x))]"#,
        "[|x| x, |x| x + 1]",
        "(|x| x) as fn(u8) -> u8",
        "line.split(' ')",
        "line.split(' ').collect::<Vec<_>>()",
        "s.trim().chars()",
        "v.iter().map(|x| x * 2)",
        "x.borrow()",
        "Path::new(&s)",
        "std::str::from_utf8(&b)",
    ] {
        assert!(rerun(src), "{src} is made again");
    }
}

#[test]
fn owned_values_are_not_in_the_rerun_class() {
    for src in [
        "5",
        "x",
        "x + 1",
        "f(x)",
        "&make()",
        "x.clone()",
        "s.trim().len()",
        "s.trim().to_string()",
        "v.iter().count()",
        "v.get(f(i))",
        "vec![1, 2]",
        "(|x| x, g(y))",
    ] {
        assert!(!rerun(src), "{src} is saved");
    }
}

#[test]
fn a_boxed_closure_is_made_again() {
    assert!(rerun("Box::new(move |x| x + k)"));
}

#[test]
fn a_value_copied_out_of_a_cell_is_taken() {
    let e = |s: &str| rerun_class(&syn::parse_str(s).unwrap());
    assert!(!e("counter.get()"));
    assert!(e("v.get(0)"));
    assert!(e("map.get(&key)"));
}
