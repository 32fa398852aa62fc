//! `analyze` on package trees made on the fly, without cargo.

mod common;

use ckpt_build::analysis::TargetKind;
use ckpt_build::analyze;
use common::TempDir;

/// The analysis text with every sources hash replaced by `H`, so expectations stay
/// readable; hashing has its own tests.
fn masked(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("fingerprint ") {
                let mut f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f.len(), 5, "five fields in {l:?}");
                assert_eq!(f[2].len(), 16, "16 hex digits in {l:?}");
                assert!(f[2].bytes().all(|b| b.is_ascii_hexdigit()));
                f[2] = "H";
                f.join("\t")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn full_package() -> TempDir {
    let dir = TempDir::new("full");
    dir.write("Cargo.toml", "[package]\nname = \"my-app\"\n")
        .write(
            "src/lib.rs",
            r#"
            use ckpt::checkpointable;
            mod sim;
            pub mod util;
            #[path = "elsewhere/place.rs"]
            mod renamed;
            #[cfg(windows)]
            mod missing_on_purpose;

            #[checkpointable]
            pub fn run() {}
            pub fn not_me() {}

            pub mod inline {
                #[ckpt::checkpointable]
                fn in_inline() {}
                fn plain() {}
                mod deeper;
            }
            "#,
        )
        .write(
            "src/sim.rs",
            r#"
            pub struct Sim<T>(T);
            impl<T> Sim<T> {
                #[checkpointable]
                pub fn step(&mut self) {}
                pub fn plain(&self) {}
            }
            #[ckpt::checkpointable]
            impl Other {
                fn x() {}
                fn y(&self) {}
            }
            impl Walk for &mut Sim<u8> {
                #[checkpointable]
                fn walk(&mut self) {}
            }
            mod sub;
            "#,
        )
        .write("src/sim/sub.rs", "#[checkpointable] fn sub_fn() {}")
        .write("src/inline/deeper.rs", "#[checkpointable] fn deep() {}")
        .write(
            "src/util/mod.rs",
            r#"
            #[checkpointable]
            mod all {
                fn f1() {}
                impl crate::Sim { fn g(&self) {} }
                mod n { fn f2() {} }
                trait Tr { fn required(&self); fn provided(&self) {} }
            }
            "#,
        )
        .write(
            "src/elsewhere/place.rs",
            "#[checkpointable] fn via_path() {}",
        )
        .write(
            "src/main.rs",
            "#[checkpointable] fn main() { my_app::run() }",
        )
        .write(
            "src/bin/tool-a/main.rs",
            "mod helper;\n#[checkpointable] fn main() {}",
        )
        .write("src/bin/tool-a/helper.rs", "#[checkpointable] fn help() {}")
        .write("src/bin/plain.rs", "fn main() {}")
        .write("examples/walk-er.rs", "#[checkpointable] fn main() {}")
        .write("examples/multi/main.rs", "mod part; fn main() {}")
        .write(
            "examples/multi/part.rs",
            "#[checkpointable] fn part_fn() {}",
        )
        .write("examples/notes.txt", "not a target")
        .write("tests/e2e.rs", "#[test] fn t() {}")
        .write("benches/speed.rs", "#[checkpointable] fn bench() {}");
    dir
}

#[test]
fn collects_every_target_and_module() {
    let dir = full_package();
    let a = analyze(dir.path(), "my-app", "0.3.1").expect("analyze");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    let text = a.render(
        "rustc 1.95.0 (59807616e 2026-04-14)\n",
        "x86_64-unknown-linux-gnu",
    );
    let fp = |c: &str| {
        format!(
            "fingerprint {c}\t0.3.1\tH\trustc 1.95.0 (59807616e 2026-04-14)\tx86_64-unknown-linux-gnu"
        )
    };
    let expected = [
        "ckpt-analysis 1".to_owned(),
        "crate my_app".to_owned(),
        fp("my_app"),
        "fn deep".to_owned(),
        "fn f1".to_owned(),
        "fn f2".to_owned(),
        "fn in_inline".to_owned(),
        "fn main".to_owned(),
        "fn run".to_owned(),
        "fn sub_fn".to_owned(),
        "fn via_path".to_owned(),
        "method Other x".to_owned(),
        "method Other y".to_owned(),
        "method Sim g".to_owned(),
        "method Sim step".to_owned(),
        "method Sim walk".to_owned(),
        "method Tr provided".to_owned(),
        "trait Tr".to_owned(),
        "crate plain".to_owned(),
        fp("plain"),
        "crate tool_a".to_owned(),
        fp("tool_a"),
        "fn help".to_owned(),
        "fn main".to_owned(),
        "crate multi".to_owned(),
        fp("multi"),
        "fn part_fn".to_owned(),
        "crate walk_er".to_owned(),
        fp("walk_er"),
        "fn main".to_owned(),
        "crate e2e".to_owned(),
        fp("e2e"),
        "crate speed".to_owned(),
        fp("speed"),
        "fn bench".to_owned(),
    ]
    .join("\n")
        + "\n";
    assert_eq!(masked(&text), expected);

    let lib = a.crate_named("my_app").expect("lib crate");
    assert_eq!(lib.kind, TargetKind::Lib);
    assert_eq!(
        lib.files,
        [
            "src/elsewhere/place.rs",
            "src/inline/deeper.rs",
            "src/lib.rs",
            "src/main.rs",
            "src/sim.rs",
            "src/sim/sub.rs",
            "src/util/mod.rs",
        ]
    );
    let tool = a.crate_named("tool_a").expect("bin");
    assert_eq!(tool.kind, TargetKind::Bin);
    assert_eq!(
        tool.files,
        ["src/bin/tool-a/helper.rs", "src/bin/tool-a/main.rs"]
    );
    assert_eq!(
        a.crate_named("multi").expect("example").files,
        ["examples/multi/main.rs", "examples/multi/part.rs"]
    );
}

#[test]
fn unparsable_file_is_a_warning_and_the_rest_goes_on() {
    let dir = TempDir::new("broken");
    dir.write(
        "src/lib.rs",
        "mod bad;\nmod good;\n#[checkpointable] fn ok() {}",
    )
    .write("src/bad.rs", "fn broken( {\n")
    .write("src/good.rs", "#[checkpointable] fn fine() {}");
    let a = analyze(dir.path(), "pkg", "1.0.0").expect("analyze");
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    let w = a.warnings[0].to_string();
    assert!(w.starts_with("ckpt: cannot parse src/bad.rs: "), "{w}");
    assert!(
        w.ends_with("(checkpointable calls into it will not be resumable)"),
        "{w}"
    );
    assert!(w.contains("line "), "syn error has a location: {w}");
    let lib = a.crate_named("pkg").expect("lib");
    assert_eq!(lib.functions.iter().collect::<Vec<_>>(), ["fine", "ok"]);
    // The broken file was read, so it is part of the fingerprint.
    assert_eq!(lib.files, ["src/bad.rs", "src/good.rs", "src/lib.rs"]);
}

#[test]
fn missing_root_is_an_error() {
    let dir = TempDir::new("gone");
    let missing = dir.path().join("nope");
    let err = analyze(&missing, "pkg", "1.0.0").expect_err("no root");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn module_cycles_through_path_terminate() {
    let dir = TempDir::new("cycle");
    dir.write("src/lib.rs", "#[path = \"a.rs\"] mod a;").write(
        "src/a.rs",
        "#[path = \"../src/lib.rs\"] mod back; #[checkpointable] fn a() {}",
    );
    let a = analyze(dir.path(), "cyc", "0.1.0").expect("analyze");
    assert_eq!(a.crates[0].files, ["src/a.rs", "src/lib.rs"]);
    assert!(a.crates[0].functions.contains("a"));
}

#[test]
fn hash_changes_with_any_source_and_only_then() {
    let dir = full_package();
    let fp = |d: &TempDir, c: &str| {
        analyze(d.path(), "my-app", "0.3.1")
            .expect("analyze")
            .fingerprint_of(c, "rustc x", "t")
            .expect("crate")
            .sources
    };
    let before = fp(&dir, "my_app");
    let walker = fp(&dir, "walk_er");
    assert_eq!(before, fp(&dir, "my_app"), "stable across runs");
    dir.write("src/sim/sub.rs", "#[checkpointable] fn sub_fn() { }");
    assert_ne!(before, fp(&dir, "my_app"), "a module file changed");
    assert_eq!(walker, fp(&dir, "walk_er"), "other targets unaffected");
}

#[test]
fn fingerprint_parts() {
    let dir = full_package();
    let a = analyze(dir.path(), "my-app", "0.3.1").expect("analyze");
    let f = a
        .fingerprint_of("walk_er", " rustc 1.95.0\n", "aarch64-apple-darwin")
        .expect("crate");
    assert_eq!(f.crate_name, "walk_er");
    assert_eq!(f.crate_version, "0.3.1");
    assert_eq!(f.sources.len(), 16);
    assert_eq!(f.rustc, "rustc 1.95.0");
    assert_eq!(f.target, "aarch64-apple-darwin");
    assert!(a.fingerprint_of("nope", "r", "t").is_none());
}

#[test]
fn items_inside_function_bodies_and_cfg_attr() {
    let dir = TempDir::new("nested");
    dir.write(
        "src/main.rs",
        r#"
        #[checkpointable]
        fn main() {
            #[checkpointable]
            fn helper() {}
            fn not_inherited() {}
            struct S;
            impl S {
                #[checkpointable]
                fn run(&self) {}
            }
        }
        #[cfg_attr(feature = "ckpt", ckpt::checkpointable)]
        fn maybe() {}
        "#,
    );
    let a = analyze(dir.path(), "nest", "0.1.0").expect("analyze");
    let krate = a.crate_named("nest").expect("bin");
    assert_eq!(
        krate.functions.iter().collect::<Vec<_>>(),
        ["helper", "main", "maybe"]
    );
    assert_eq!(
        krate.methods.iter().collect::<Vec<_>>(),
        [&("S".to_owned(), "run".to_owned())]
    );
}

#[test]
fn fingerprint_of_uses_the_installed_toolchain() {
    let dir = full_package();
    let fp =
        ckpt_build::fingerprint_of(dir.path(), "my-app", "0.3.1", "walk_er").expect("fingerprint");
    let analysis = analyze(dir.path(), "my-app", "0.3.1").expect("analyze");
    let expected = analysis
        .fingerprint_of("walk_er", &fp.rustc, &fp.target)
        .expect("crate");
    assert_eq!(fp, expected);
    assert!(fp.rustc.starts_with("rustc "), "{}", fp.rustc);
    assert!(fp.target.contains('-'), "{}", fp.target);
    let err =
        ckpt_build::fingerprint_of(dir.path(), "my-app", "0.3.1", "nope").expect_err("no crate");
    assert!(err.to_string().contains("`nope`"), "{err}");
}
