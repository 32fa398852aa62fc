//! Compile errors about how a package is set up, each compiled with the environment a
//! real build gives it: without a build script (no analysis), and with an analysis that
//! lists a global ckpt cannot save.

#[test]
fn setup_errors() {
    // Without `ckpt_build::instrument()` in build.rs the macro has no analysis, and says
    // which line to add.
    std::env::remove_var("CKPT_ALLOW_NO_ANALYSIS");
    std::env::remove_var("CKPT_ANALYSIS");
    {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui-tests/setup/no_build_script.rs");
    }
    // With the analysis a build script writes: a static `main` must register is refused
    // when its type cannot be saved.
    let analysis = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/ui-tests/setup/globals.analysis"
    );
    std::env::set_var("CKPT_ANALYSIS", analysis);
    {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui-tests/setup/static_not_state.rs");
    }
}
