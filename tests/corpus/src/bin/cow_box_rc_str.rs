//! `Cow<str>` (borrowed or owned after normalising), `Box<str>` and `Rc<str>` values kept
//! in locals across saves.
use std::borrow::Cow;
use std::rc::Rc;

fn normalize(s: &str) -> Cow<'_, str> {
    if s.contains(' ') || s.chars().any(|c| c.is_uppercase()) {
        Cow::Owned(s.replace(' ', "_").to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

#[ckpt::checkpointable]
fn main() {
    let titles = [
        "intro",
        "Getting Started",
        "ownership",
        "Smart Pointers",
        "traits",
        "error handling",
        "closures",
        "Iterators",
        "macros",
        "unsafe",
    ];
    let label: Box<str> = "chapter".into();
    let mut interned: Vec<Rc<str>> = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let norm = normalize(t);
        ckpt::save().expect("checkpoint");
        let kind = match &norm {
            Cow::Borrowed(_) => "borrowed",
            Cow::Owned(_) => "owned",
        };
        println!("{label} {}: {t} -> {norm} ({kind})", i + 1);
        let boxed: Box<str> = norm.into_owned().into_boxed_str();
        let shared: Rc<str> = Rc::from(boxed);
        interned.push(Rc::clone(&shared));
    }
    let total: usize = interned.iter().map(|s| s.len()).sum();
    println!("{} {label}s, {total} bytes of names", interned.len());
    println!("last: {}", interned.last().unwrap());
}
