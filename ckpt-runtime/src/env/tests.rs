use std::ffi::{OsStr, OsString};
use std::sync::MutexGuard;

use super::component::{self, Saved};
use super::view::Snapshot;
use super::*;
use crate::error::Error;
use crate::state::{decode_slice, Encoder, Value};

fn os(s: &str) -> OsString {
    OsString::from(s)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    v.iter().map(|(k, v)| (os(k), os(v))).collect()
}

#[cfg(unix)]
fn not_utf8() -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(vec![b'x', 0xff, b'y'])
}

/// Holds the module's global state for one test and puts it back afterwards.
/// The env component's global state, taken for one test; the process's real environment
/// (which a restore replaces) is put back on drop.
struct Global(
    #[allow(dead_code)] MutexGuard<'static, ()>,
    Vec<(std::ffi::OsString, std::ffi::OsString)>,
);

impl Global {
    fn take() -> Global {
        let g = TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        reset();
        Global(g, std::env::vars_os().collect())
    }
}

impl Drop for Global {
    fn drop(&mut self) {
        reset();
        for (k, _) in std::env::vars_os() {
            std::env::remove_var(k);
        }
        for (k, v) in &self.1 {
            std::env::set_var(k, v);
        }
    }
}

/// Encodes `saved` and decodes it again to a [`Value`], as an image would.
fn encoded(saved: &Saved) -> Value {
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    component::write(&mut e, saved);
    e.finish().unwrap();
    decode_slice(&bytes).unwrap().0
}

#[test]
fn snapshot_is_sorted_keeps_the_last_of_a_name_and_drops_ckpt_variables() {
    let s = Snapshot::new(pairs(&[
        ("B", "1"),
        ("A", "x"),
        ("CKPT_FILE", "a.ckpt"),
        ("B", "2"),
    ]));
    let got: Vec<(&OsStr, &OsStr)> = s.iter().collect();
    assert_eq!(
        got,
        [
            (OsStr::new("A"), OsStr::new("x")),
            (OsStr::new("B"), OsStr::new("2"))
        ]
    );
    assert_eq!(s.get(OsStr::new("B")), Some(OsStr::new("2")));
    assert_eq!(s.get(OsStr::new("C")), None);
    assert_eq!(s.get(OsStr::new("CKPT_FILE")), None);
}

#[test]
fn policy_parses_and_rejects_with_the_valid_values() {
    assert_eq!(Policy::parse("saved").unwrap(), Policy::Saved);
    assert_eq!(Policy::parse("current").unwrap(), Policy::Current);
    assert_eq!(Policy::parse(" ").unwrap(), Policy::Saved);
    assert_eq!(Policy::default(), Policy::Saved);
    let e = Policy::parse("live").unwrap_err();
    let Error::Usage(m) = &e else { panic!("{e}") };
    for needle in ["CKPT_ENV", "\"live\"", "`saved`", "`current`"] {
        assert!(m.contains(needle), "{needle} missing in {m}");
    }
}

#[test]
fn component_round_trip_keeps_non_utf8_bytes() {
    let mut vars = pairs(&[("HOME", "/home/a"), ("LANG", "C")]);
    let mut args = vec![os("app"), os("--steps"), os("5")];
    #[cfg(unix)]
    {
        vars.push((os("ODD"), not_utf8()));
        args.push(not_utf8());
    }
    let saved = Saved {
        args,
        vars: Snapshot::new(vars),
        absent: Vec::new(),
        whole: true,
    };
    let v = encoded(&saved);
    assert!(matches!(v.get("args"), Some(Value::Array(_))), "{v:?}");
    assert_eq!(
        v.get("vars")
            .and_then(|m| m.get("HOME"))
            .and_then(Value::as_str),
        Some("/home/a")
    );
    assert_eq!(component::parse(&v).unwrap(), saved);
}

#[test]
fn malformed_component_state_is_a_type_error() {
    for bad in [
        Value::Uint(3),
        Value::Map(Vec::new().into()),
        Value::Map(vec![(Value::Text("args".into()), Value::Uint(1))].into()),
        Value::Map(
            vec![
                (
                    Value::Text("args".into()),
                    Value::Array(vec![Value::Uint(1)].into()),
                ),
                (Value::Text("vars".into()), Value::Map(Vec::new().into())),
            ]
            .into(),
        ),
        Value::Map(
            vec![
                (Value::Text("args".into()), Value::Array(Vec::new().into())),
                (Value::Text("vars".into()), Value::Array(Vec::new().into())),
            ]
            .into(),
        ),
    ] {
        let e = component::parse(&bad).unwrap_err();
        assert!(matches!(e, Error::Type { .. }), "{bad:?}: {e}");
    }
}

#[test]
fn a_fresh_process_sees_the_real_arguments_and_environment() {
    let _g = Global::take();
    std::env::set_var("CKPT_TEST_ENV_FRESH", "real");
    assert_eq!(var("CKPT_TEST_ENV_FRESH").as_deref(), Ok("real"));
    assert_eq!(var("CKPT_TEST_ENV_NOT_SET"), Err(VarError::NotPresent));
    let ours: Vec<OsString> = args_os().collect();
    assert_eq!(ours, std::env::args_os().collect::<Vec<_>>());
    assert_eq!(vars_os().count(), std::env::vars_os().count());
    set_var("CKPT_TEST_ENV_FRESH", "changed");
    assert_eq!(
        std::env::var("CKPT_TEST_ENV_FRESH").as_deref(),
        Ok("changed")
    );
    remove_var("CKPT_TEST_ENV_FRESH");
    assert!(var_os("CKPT_TEST_ENV_FRESH").is_none());
}

#[test]
fn restore_shows_the_saved_arguments_and_environment_by_default() {
    let _g = Global::take();
    std::env::set_var("ENV_TEST_DEMO", "restoring");
    std::env::set_var("CKPT_TEST_ENV_OWN", "from the restoring process");
    let saved = Saved {
        args: vec![os("app"), os("--n"), os("3")],
        vars: Snapshot::new(pairs(&[
            ("ENV_TEST_DEMO", "saved"),
            ("ENV_TEST_ONLY_SAVED", "1"),
            ("CKPT_TEST_ENV_OWN", "saved, ignored"),
        ])),
        absent: Vec::new(),
        whole: true,
    };
    restore_component(&encoded(&saved), Policy::Saved).unwrap();

    assert_eq!(args().collect::<Vec<_>>(), ["app", "--n", "3"]);
    assert_eq!(var("ENV_TEST_DEMO").as_deref(), Ok("saved"));
    assert_eq!(var("ENV_TEST_ONLY_SAVED").as_deref(), Ok("1"));
    // Not in the saved environment: not there, though the real one has PATH, say.
    assert_eq!(var("PATH"), Err(VarError::NotPresent));
    // ckpt's own variables come from this process.
    assert_eq!(
        var("CKPT_TEST_ENV_OWN").as_deref(),
        Ok("from the restoring process")
    );
    let mut all: Vec<(String, String)> = vars().collect();
    all.sort();
    let (ours, ckpt): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(k, _)| !k.starts_with("CKPT_"));
    assert_eq!(
        ours,
        [
            ("ENV_TEST_DEMO".to_string(), "saved".to_string()),
            ("ENV_TEST_ONLY_SAVED".to_string(), "1".to_string()),
        ]
    );
    assert!(ckpt.iter().any(|(k, _)| k == "CKPT_TEST_ENV_OWN"));
    // The process as a whole sees it: std's reads and child processes too.
    assert_eq!(std::env::var("ENV_TEST_DEMO").as_deref(), Ok("saved"));
    assert!(std::env::var_os("PATH").is_none());

    // Changes reach both the restored view and the real environment.
    set_var("ENV_TEST_DEMO", "set after the restore");
    assert_eq!(var("ENV_TEST_DEMO").as_deref(), Ok("set after the restore"));
    assert_eq!(
        std::env::var("ENV_TEST_DEMO").as_deref(),
        Ok("set after the restore")
    );
    remove_var("ENV_TEST_ONLY_SAVED");
    assert!(var_os("ENV_TEST_ONLY_SAVED").is_none());

    // The next save records what the program sees, not the real environment.
    let again = Saved::now();
    assert_eq!(again.args, saved.args);
    assert_eq!(
        again.vars,
        Snapshot::new(pairs(&[("ENV_TEST_DEMO", "set after the restore")]))
    );

    std::env::remove_var("ENV_TEST_DEMO");
    std::env::remove_var("CKPT_TEST_ENV_OWN");
}

#[test]
fn current_policy_keeps_the_saved_arguments_and_the_real_environment() {
    let _g = Global::take();
    std::env::set_var("ENV_TEST_CURRENT", "restoring");
    let saved = Saved {
        args: vec![os("app"), os("x")],
        vars: Snapshot::new(pairs(&[("ENV_TEST_CURRENT", "saved")])),
        absent: Vec::new(),
        whole: true,
    };
    restore_component(&encoded(&saved), Policy::Current).unwrap();
    assert_eq!(args().collect::<Vec<_>>(), ["app", "x"]);
    assert_eq!(var("ENV_TEST_CURRENT").as_deref(), Ok("restoring"));
    assert_eq!(var_os("PATH").is_some(), std::env::var_os("PATH").is_some());
    std::env::remove_var("ENV_TEST_CURRENT");
}

#[test]
fn other_threads_see_a_change_made_after_their_first_read() {
    let _g = Global::take();
    let saved = Saved {
        args: vec![os("app")],
        vars: Snapshot::new(pairs(&[("ENV_TEST_THREADS", "one")])),
        absent: Vec::new(),
        whole: true,
    };
    restore_component(&encoded(&saved), Policy::Saved).unwrap();
    let (to_main, from_thread) = std::sync::mpsc::channel();
    let (to_thread, from_main) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        to_main.send(var("ENV_TEST_THREADS")).unwrap();
        from_main.recv().unwrap();
        to_main.send(var("ENV_TEST_THREADS")).unwrap();
    });
    assert_eq!(from_thread.recv().unwrap().as_deref(), Ok("one"));
    set_var("ENV_TEST_THREADS", "two");
    to_thread.send(()).unwrap();
    assert_eq!(from_thread.recv().unwrap().as_deref(), Ok("two"));
    t.join().unwrap();
    std::env::remove_var("ENV_TEST_THREADS");
}

#[cfg(unix)]
#[test]
fn non_unicode_values_are_not_unicode_errors() {
    let _g = Global::take();
    let saved = Saved {
        args: vec![os("app"), not_utf8()],
        vars: Snapshot::new(vec![(os("ENV_TEST_ODD"), not_utf8())]),
        absent: Vec::new(),
        whole: true,
    };
    restore_component(&encoded(&saved), Policy::Saved).unwrap();
    assert_eq!(var("ENV_TEST_ODD"), Err(VarError::NotUnicode(not_utf8())));
    assert_eq!(args_os().nth(1), Some(not_utf8()));
    let caught = std::panic::catch_unwind(|| args().count());
    assert!(
        caught.is_err(),
        "args() must panic on a non-Unicode argument"
    );
}

#[test]
fn iterators_are_shaped_like_std() {
    fn exact_double<I: ExactSizeIterator + DoubleEndedIterator + std::fmt::Debug>(_: &I) {}
    fn debug<I: Iterator + std::fmt::Debug>(_: &I) {}
    let _g = Global::take();
    let saved = Saved {
        args: vec![os("app"), os("a"), os("b")],
        vars: Snapshot::new(pairs(&[("ENV_TEST_ITER", "1")])),
        absent: Vec::new(),
        whole: true,
    };
    restore_component(&encoded(&saved), Policy::Saved).unwrap();
    let mut a = args();
    exact_double(&a);
    assert_eq!(a.len(), 3);
    assert_eq!(a.next_back().as_deref(), Some("b"));
    assert!(format!("{a:?}").contains("\"a\""), "{a:?}");
    let o = args_os();
    exact_double(&o);
    let v = vars();
    debug(&v);
    assert!(v.size_hint().0 >= 1);
    debug(&vars_os());
    // std's other items are here too.
    let _: std::path::PathBuf = temp_dir();
    assert_eq!(consts::OS, std::env::consts::OS);
}

#[test]
fn only_the_variables_the_program_used_are_saved_and_restored() {
    let _g = Global::take();
    std::env::set_var("ENV_TEST_USED", "1");
    std::env::set_var("ENV_TEST_UNUSED", "a secret the program never reads");
    std::env::remove_var("ENV_TEST_MISSING");
    assert_eq!(var("ENV_TEST_USED").as_deref(), Ok("1"));
    assert!(var_os("ENV_TEST_MISSING").is_none());
    set_var("ENV_TEST_SET", "x");
    let saved = Saved::now();
    assert!(!saved.whole);
    assert_eq!(
        saved.vars,
        Snapshot::new(pairs(&[("ENV_TEST_SET", "x"), ("ENV_TEST_USED", "1")]))
    );
    assert_eq!(saved.absent, [os("ENV_TEST_MISSING")]);
    let image = encoded(&saved);
    assert!(!format!("{image:?}").contains("a secret"));

    // The restoring process has other values: the used ones come back as saved (unset
    // ones unset), the others stay the restoring process's.
    reset();
    std::env::set_var("ENV_TEST_USED", "2");
    std::env::set_var("ENV_TEST_MISSING", "now set");
    std::env::set_var("ENV_TEST_UNUSED", "restoring");
    std::env::remove_var("ENV_TEST_SET");
    restore_component(&image, Policy::Saved).unwrap();
    assert_eq!(var("ENV_TEST_USED").as_deref(), Ok("1"));
    assert_eq!(var("ENV_TEST_SET").as_deref(), Ok("x"));
    assert!(var_os("ENV_TEST_MISSING").is_none());
    assert_eq!(std::env::var("ENV_TEST_UNUSED").as_deref(), Ok("restoring"));
    // The restored run's next save still holds what the saved run had used.
    let again = Saved::now();
    assert_eq!(again.absent, [os("ENV_TEST_MISSING")]);
    assert_eq!(again.vars.len(), 2);
    // Listing the environment uses all of it.
    let _ = vars_os().count();
    assert!(Saved::now().whole);
    for k in [
        "ENV_TEST_USED",
        "ENV_TEST_UNUSED",
        "ENV_TEST_SET",
        "ENV_TEST_MISSING",
    ] {
        std::env::remove_var(k);
    }
}
