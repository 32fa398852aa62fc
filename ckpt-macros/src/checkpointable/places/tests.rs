use super::*;

fn place(src: &str) -> bool {
    is_place(&syn::parse_str(src).unwrap())
}

#[test]
fn locals_fields_and_elements_at_pure_indexes_are_places() {
    for src in [
        "x", "self", "x.f", "x.0", "x.f[i]", "v[i + 1]", "v[1..n]", "v[i][j]", "*p", "(*p).f",
        "(x)",
    ] {
        assert!(place(src), "{src} is a place");
    }
}

#[test]
fn calls_paths_and_computed_indexes_are_not_places() {
    for src in [
        "f()",
        "x.m()",
        "v[f(i)]",
        "v[x.len()]",
        "m::X",
        "&x",
        "x + 1",
        "1",
    ] {
        assert!(!place(src), "{src} is not a place");
    }
}

#[test]
fn borrowing_methods_hand_out_borrows_of_their_receiver() {
    for m in [
        "iter", "iter_mut", "chars", "trim", "as_str", "get", "borrow", "values",
    ] {
        assert!(borrowing_method(m), "{m} borrows");
    }
    for m in ["len", "push", "into_iter", "clone", "to_string", "collect"] {
        assert!(!borrowing_method(m), "{m} does not borrow");
    }
}
