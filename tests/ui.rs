//! Every construct the resume transform rejects is a compile error with a span on the
//! user's code and a message that says what to do (DESIGN §4.6); so is every OS call
//! ckpt cannot virtualize inside a `#[checkpointable(deny)]` item (`ui-tests/deny_*`),
//! and only there (`ui-tests/pass/`).

#[test]
fn rejected_constructs() {
    // The cases are compiled without a build script: the macro knows only what it sees.
    std::env::set_var("CKPT_ALLOW_NO_ANALYSIS", "1");
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
