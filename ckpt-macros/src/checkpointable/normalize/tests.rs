use super::*;
use quote::quote;

/// The normalized statements, with each loop's `ordered(..)` wrapper shown as
/// `ordered (ITERABLE)`, and what the pass recorded of each loop (see [`facts`]).
fn normalized_with(src: &str, params: &[(&str, &str)], refs: &[&str]) -> (String, Vec<String>) {
    let mut b: syn::Block = syn::parse_str(src).unwrap();
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let mut norm = Norm::default();
    norm.run(
        &mut b,
        &params,
        refs.iter().map(|r| r.to_string()).collect(),
    );
    let stmts = &b.stmts;
    let mut code = quote!(#(#stmts)*).to_string();
    for it in &norm.iters {
        let iterable = &it.iterable;
        // As spliced into the body (parsed: `&&` is two `&`s there).
        let wrapper: syn::Expr = syn::parse2(ordered(iterable)).unwrap();
        code = code.replace(
            &quote!(#wrapper).to_string(),
            &format!("ordered ({})", quote!(#iterable)),
        );
    }
    (code, norm.iters.iter().map(facts).collect())
}

fn normalized(src: &str) -> String {
    normalized_with(src, &[], &[]).0
}

fn loops(src: &str) -> Vec<String> {
    normalized_with(src, &[], &[]).1
}

/// `VAR: ITERABLE, whole|by count[, mut borrow][, lends X via PTR]`.
fn facts(it: &LoopIter) -> String {
    let iterable = &it.iterable;
    let mut s = format!(
        "{}: {}, {}",
        it.var,
        quote!(#iterable),
        if it.whole { "whole" } else { "by count" }
    );
    if it.mut_borrow {
        s += ", mut borrow";
    }
    if let Some(l) = &it.lend {
        let coll = &l.coll;
        s += &format!(", lends {} via {}", quote!(#coll), l.ptr);
    }
    s
}

#[test]
fn a_for_with_a_point_becomes_a_counted_labelled_loop_with_a_head() {
    assert_eq!(
        normalized("{ for x in v.iter() { __ckpt_point_1(x); } }"),
        "{ let mut __ckpt_it1 = :: ckpt :: __private :: Counted :: new (ordered (v . iter ())) ; \
         '__ckpt_l1 : loop { # [allow (unused_mut)] let :: core :: option :: Option :: Some (x) = \
         :: core :: iter :: Iterator :: next (& mut __ckpt_it1) else { break '__ckpt_l1 ; } ; \
         __ckpt_point_1 (x) ; } }"
    );
}

#[test]
fn loops_without_points_are_left_alone() {
    assert_eq!(
        normalized("{ for x in v.iter() { f(x); } while c { g(); } if let Some(x) = o { f(x); } }"),
        "for x in v . iter () { f (x) ; } while c { g () ; } if let Some (x) = o { f (x) ; }"
    );
}

#[test]
fn ranges_consumed_locals_calls_and_readers_are_saved_whole() {
    let one = |src: &str, params: &[(&str, &str)]| {
        let body = format!("{{ {src} {{ __ckpt_point_1(); }} }}");
        normalized_with(&body, params, &[]).1
    };
    assert_eq!(one("for x in 0..n", &[]), ["__ckpt_it1: 0 .. n, whole"]);
    assert_eq!(one("for x in v", &[]), ["__ckpt_it1: v, whole"]);
    assert_eq!(
        one("for x in v.into_iter()", &[]),
        ["__ckpt_it1: v . into_iter (), whole"]
    );
    assert_eq!(one("for x in make()", &[]), ["__ckpt_it1: make (), whole"]);
    assert_eq!(
        one("for k in m.into_keys()", &[]),
        ["__ckpt_it1: m . into_keys (), whole"]
    );
    assert_eq!(
        one("for x in v.drain(..)", &[]),
        ["__ckpt_it1: v . drain (..), whole, mut borrow"]
    );
    assert_eq!(
        one("for l in r.lines()", &[("r", "impl BufRead")]),
        ["__ckpt_it1: r . lines (), whole"]
    );
    assert_eq!(
        one("let r = BufReader::new(f); for l in r.lines()", &[]),
        ["__ckpt_it1: r . lines (), whole"]
    );
}

#[test]
fn iterables_over_borrowed_collections_are_saved_by_count() {
    assert_eq!(
        loops("{ for x in v.iter() { __ckpt_point_1(); } }"),
        ["__ckpt_it1: v . iter (), by count"]
    );
    // Not a reader: `lines()` of a string borrows it.
    assert_eq!(
        loops("{ for l in text.lines() { __ckpt_point_1(); } }"),
        ["__ckpt_it1: text . lines (), by count"]
    );
    // A parameter passed by reference is not consumed by the loop.
    assert_eq!(
        normalized_with(
            "{ for x in v { __ckpt_point_1(); } }",
            &[("v", "&Vec<u8>")],
            &["v"]
        )
        .1,
        ["__ckpt_it1: v, by count"]
    );
}

#[test]
fn adapters_of_a_whole_iterator_become_ckpts() {
    assert_eq!(
        loops("{ for x in make().skip(1).step_by(2).take(5) { __ckpt_point_1(); } }"),
        [
            "__ckpt_it1: :: ckpt :: __private :: take (:: ckpt :: __private :: step_by \
          (:: ckpt :: __private :: skip (make () , 1) , 2) , 5), whole"
        ]
    );
    // Over an iterator saved by count they stay as written.
    assert_eq!(
        loops("{ for x in v.iter().skip(1) { __ckpt_point_1(); } }"),
        ["__ckpt_it1: v . iter () . skip (1), by count"]
    );
}

#[test]
fn adapters_over_a_consumed_local_are_saved_whole() {
    assert_eq!(
        loops("{ for x in v.into_iter().skip(1) { __ckpt_point_1(); } }"),
        ["__ckpt_it1: :: ckpt :: __private :: skip (v . into_iter () , 1), whole"]
    );
}

#[test]
fn a_loop_over_a_mutable_borrow_lends_its_items() {
    assert_eq!(
        normalized_with(
            "{ for x in v.iter_mut() { __ckpt_point_1(x); } }",
            &[("v", "&mut Vec<u8>")],
            &["v"]
        ),
        (
            "{ let __ckpt_lp1 = :: core :: ptr :: addr_of ! (* v) ; \
             let mut __ckpt_it1 = :: ckpt :: __private :: Counted :: new (ordered (v . iter_mut ())) ; \
             '__ckpt_l1 : loop { # [allow (unused_mut)] let :: core :: option :: Option :: Some (mut x) = \
             :: core :: iter :: Iterator :: next (& mut __ckpt_it1) else { break '__ckpt_l1 ; } ; \
             __ckpt_point_1 (x) ; } }"
                .to_string(),
            vec!["__ckpt_it1: v . iter_mut (), by count, mut borrow, lends v via __ckpt_lp1".to_string()]
        )
    );
    // The pointer is to the root of the collection.
    assert_eq!(
        normalized_with(
            "{ for t in &mut self.tasks { __ckpt_point_1(t); } }",
            &[],
            &["self"]
        )
        .1,
        ["__ckpt_it1: & mut self . tasks, by count, mut borrow, lends self . tasks via __ckpt_lp1"]
    );
    // An item bound by a pattern is not lent.
    assert_eq!(
        loops("{ for (a, b) in v.iter_mut() { __ckpt_point_1(a); } }"),
        ["__ckpt_it1: v . iter_mut (), by count, mut borrow"]
    );
}

#[test]
fn enumerate_over_an_iterator_saved_by_count_is_counted_by_the_loop() {
    let (code, recorded) = normalized_with(
        "{ for (i, x) in v.iter().enumerate() { __ckpt_point_1(i, x); } }",
        &[],
        &[],
    );
    assert_eq!(
        code,
        "{ let mut __ckpt_n1 : usize = 0 ; \
         let mut __ckpt_it1 = :: ckpt :: __private :: Counted :: new (ordered (v . iter ())) ; \
         '__ckpt_l1 : loop { # [allow (unused_mut)] let :: core :: option :: Option :: Some (x) = \
         :: core :: iter :: Iterator :: next (& mut __ckpt_it1) else { break '__ckpt_l1 ; } ; \
         let i = __ckpt_n1 ; __ckpt_n1 += 1 ; __ckpt_point_1 (i , x) ; } }"
    );
    assert_eq!(recorded, ["__ckpt_it1: v . iter (), by count"]);
}

#[test]
fn enumerate_over_a_whole_iterator_is_ckpts() {
    assert_eq!(
        loops("{ for (i, x) in (0..n).enumerate() { __ckpt_point_1(); } }"),
        ["__ckpt_it1: :: ckpt :: __private :: enumerate ((0 .. n)), whole"]
    );
}

#[test]
fn map_values_are_picked_by_the_maps_type() {
    assert_eq!(
        loops("{ for x in m.values() { __ckpt_point_1(); } }"),
        [
            "__ckpt_it1: { # [allow (unused_imports)] use :: ckpt :: __private :: \
          { ValuesHash as _ , ValuesAny as _ } ; (& & :: ckpt :: __private :: PickRef (& m)) \
          . __ckpt_values (| __m | __m . values ()) }, by count"
        ]
    );
    // A parameter by reference is reborrowed.
    assert_eq!(
        normalized_with(
            "{ for x in m.values_mut() { __ckpt_point_1(); } }",
            &[("m", "&mut HashMap<u8, u8>")],
            &["m"]
        )
        .1,
        [
            "__ckpt_it1: { # [allow (unused_imports)] use :: ckpt :: __private :: \
          { ValuesMutHash as _ , ValuesMutAny as _ } ; (& & :: ckpt :: __private :: PickMut :: new \
          (& mut * m)) . __ckpt_values_mut (| __m | __m . values_mut ()) }, by count, mut borrow"
        ]
    );
}

#[test]
fn a_borrowed_temporary_is_bound_before_the_loop() {
    let (code, recorded) = normalized_with(
        "{ for c in node.children.borrow().iter() { __ckpt_point_1(c); } }",
        &[],
        &[],
    );
    assert!(
        code.starts_with("{ let __ckpt_src1 = node . children . borrow () ; let mut __ckpt_it1"),
        "{code}"
    );
    assert_eq!(recorded, ["__ckpt_it1: __ckpt_src1 . iter (), by count"]);
    let (code, recorded) = normalized_with(
        "{ for c in make().chars() { __ckpt_point_1(c); } }",
        &[],
        &[],
    );
    assert!(code.starts_with("{ let __ckpt_src1 = make () ;"), "{code}");
    assert_eq!(recorded, ["__ckpt_it1: __ckpt_src1 . chars (), whole"]);
    let (code, _) = normalized_with(
        "{ for c in x.borrow_mut().iter_mut() { __ckpt_point_1(c); } }",
        &[],
        &[],
    );
    assert!(
        code.starts_with("{ let mut __ckpt_src1 = x . borrow_mut () ;"),
        "{code}"
    );
    // `trim()` borrows `s`: nothing to bind.
    assert_eq!(
        loops("{ for c in s.trim().chars() { __ckpt_point_1(c); } }"),
        ["__ckpt_it1: s . trim () . chars (), by count"]
    );
}

#[test]
fn short_circuit_operands_with_points_become_branches() {
    assert_eq!(
        normalized("{ let a1 = a && __ckpt_point_1(); let a2 = a || __ckpt_point_2(); let a3 = __ckpt_point_3() && b; }"),
        "let a1 = (if a { __ckpt_point_1 () } else { false }) ; \
         let a2 = (if a { true } else { __ckpt_point_2 () }) ; \
         let a3 = __ckpt_point_3 () && b ;"
    );
}

#[test]
fn if_let_with_points_becomes_match() {
    assert_eq!(
        normalized("{ if let Some(x) = o { __ckpt_point_1(x); } else { g(); } }"),
        "match o { Some (x) => { __ckpt_point_1 (x) ; } , _ => { g () ; } }"
    );
    assert_eq!(
        normalized("{ if let Some(x) = __ckpt_point_1() { f(x); } }"),
        "match __ckpt_point_1 () { Some (x) => { f (x) ; } , _ => { } }"
    );
}

#[test]
fn while_becomes_a_loop_that_breaks() {
    assert_eq!(
        normalized("{ while i < n { __ckpt_point_1(); i += 1; } }"),
        "'__ckpt_l1 : loop { if ! (i < n) { break '__ckpt_l1 ; } __ckpt_point_1 () ; i += 1 ; }"
    );
    assert_eq!(
        normalized("{ while let Some(x) = s.pop() { __ckpt_point_1(x); } }"),
        "'__ckpt_l1 : loop { let Some (x) = s . pop () else { break '__ckpt_l1 ; } ; __ckpt_point_1 (x) ; }"
    );
}

#[test]
fn unlabelled_break_and_continue_get_the_loops_label() {
    // Inner loops and closures keep their own.
    assert_eq!(
        normalized("{ 'outer: while c { loop { break; } if d { continue; } if e { break; } let f = || loop { break }; __ckpt_point_1(); } }"),
        "'outer : loop { if ! (c) { break 'outer ; } loop { break ; } if d { continue 'outer ; } \
         if e { break 'outer ; } let f = | | loop { break } ; __ckpt_point_1 () ; }"
    );
    assert_eq!(
        normalized("{ loop { if d { break 1; } __ckpt_point_1(); } }"),
        "'__ckpt_l1 : loop { if d { break '__ckpt_l1 1 ; } __ckpt_point_1 () ; }"
    );
}

#[test]
fn else_ifs_and_match_arms_with_points_become_blocks() {
    assert_eq!(
        normalized("{ if a { f(); } else if b { __ckpt_point_1(); } }"),
        "if a { f () ; } else { if b { __ckpt_point_1 () ; } }"
    );
    assert_eq!(
        normalized("{ match o { Some(x) => __ckpt_point_1(x), None => g() } }"),
        "match o { Some (x) => { __ckpt_point_1 (x) } , None => g () }"
    );
}

#[test]
fn nested_loops_get_labels_and_iterators_of_their_own() {
    assert_eq!(
        loops("{ for x in v.iter() { for y in 0..x { __ckpt_point_1(x, y); } } }"),
        [
            "__ckpt_it1: v . iter (), by count",
            "__ckpt_it2: 0 .. x, whole"
        ]
    );
}

#[test]
fn renamed_patterns_and_iterables_are_taken_from_the_body() {
    let mut b: syn::Block =
        syn::parse_str("{ let v = a; let v = b; for v in v.iter() { __ckpt_point_1(v); } }")
            .unwrap();
    let mut norm = Norm::default();
    norm.run(&mut b, &[], BTreeSet::new());
    super::super::rename::Renamer::new([]).run(&mut b);
    norm.sync_renamed(&b);
    let it = &norm.iters[0];
    let (pat, iterable) = (&it.pat, &it.iterable);
    assert_eq!(quote!(#pat).to_string(), "v_ckpt_s3");
    assert_eq!(quote!(#iterable).to_string(), "v_ckpt_s2 . iter ()");
}
