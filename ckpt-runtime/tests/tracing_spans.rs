//! With the `tracing` feature, writing, reading and verifying an image open the spans
//! that name its phases, with the image's path as a field.

use std::sync::{Arc, Mutex};

use ckpt::image::{self, signature::Key, Fingerprint, Header, Limits};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Records the name and fields of every span opened.
struct Spans(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let mut fields = String::new();
        attrs.record(&mut |f: &tracing::field::Field, v: &dyn std::fmt::Debug| {
            fields.push_str(&format!(" {}={v:?}", f.name()));
        });
        let name = attrs.metadata().name();
        self.0.lock().unwrap().push(format!("{name}{fields}"));
    }
}

#[test]
fn saving_reading_and_verifying_open_their_spans() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Spans(seen.clone()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.ckpt");
    let key = Key::new(b"a key for the test".to_vec()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let header = Header {
            format: image::FORMAT_VERSION,
            fingerprint: Fingerprint::default(),
            created_unix: 0,
            program: "spans".into(),
            args: vec!["spans".into()],
            ckpt_file: None,
            options: Vec::new(),
        };
        image::write_signed(
            &path,
            &header,
            Some(&key),
            &mut |e| {
                e.array(0);
                Ok(())
            },
            &mut |e| {
                e.map(0);
                Ok(())
            },
        )
        .unwrap();
        image::signature::verify(&path, &key).unwrap();
        image::read(&path, &Limits::default()).unwrap();
    });
    let seen = seen.lock().unwrap().clone();
    for name in [
        "ckpt.write",
        "ckpt.fsync",
        "ckpt.rename",
        "ckpt.verify",
        "ckpt.read",
    ] {
        assert!(
            seen.iter()
                .any(|s| s.starts_with(name) && s.contains("spans.ckpt")),
            "{name} missing in {seen:?}"
        );
    }
}
