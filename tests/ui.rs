//! Every construct the resume transform rejects is a compile error with a span on the
//! user's code and a message that says what to do (DESIGN §4.6).

#[test]
fn rejected_constructs() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/*.rs");
}
