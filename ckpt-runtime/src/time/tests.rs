use super::clock::{self, offset_for, parse_component, restored_now, Policy, Saved};
use super::*;
use crate::state::{decode_slice, Encoder};

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn monotonic_restore_continues_from_the_saved_value() {
    let saved = Saved {
        now: s(100),
        wall: s(1_000),
    };
    // Restored 50 s of wall time later, in a process whose clock reads 86_400 s.
    let t = restored_now(saved, s(1_050), Policy::Monotonic, s(5));
    assert_eq!(t, s(100));
    // The offset makes offset + since_base == target.
    let since = Duration::from_millis(3);
    assert_eq!(offset_for(t, since) + since, t);
}

#[test]
fn wall_policy_adds_the_downtime() {
    let saved = Saved {
        now: s(100),
        wall: s(1_000),
    };
    assert_eq!(restored_now(saved, s(1_050), Policy::Wall, s(0)), s(150));
    // A wall clock that went back adds nothing.
    assert_eq!(restored_now(saved, s(900), Policy::Wall, s(0)), s(100));
}

#[test]
fn restore_never_moves_the_clock_back() {
    let saved = Saved {
        now: s(10),
        wall: s(1_000),
    };
    assert_eq!(
        restored_now(saved, s(1_000), Policy::Monotonic, s(20)),
        s(20)
    );
    assert_eq!(offset_for(s(1), s(2)), Duration::ZERO);
}

#[test]
fn policy_parses_and_rejects() {
    assert_eq!(Policy::parse("wall").unwrap(), Policy::Wall);
    assert_eq!(Policy::parse("monotonic").unwrap(), Policy::Monotonic);
    assert_eq!(Policy::parse("").unwrap(), Policy::Monotonic);
    assert!(matches!(Policy::parse("real"), Err(Error::Usage(_))));
}

#[test]
fn now_is_monotonic_and_starts_at_the_origin() {
    let a = Instant::now();
    let b = Instant::now();
    assert!(b >= a);
    assert!(a.0 >= clock::ORIGIN);
    // Subtracting a few seconds from an early reading works, as with std.
    let _ = a - s(10);
    assert!(a.elapsed() < s(60));
    assert_eq!(a.checked_duration_since(a + s(1)), None);
    assert_eq!(a.saturating_duration_since(a + s(1)), Duration::ZERO);
    assert_eq!((a + s(2)) - a, s(2));
    let mut c = a;
    c += s(3);
    c -= s(1);
    assert_eq!(c.duration_since(a), s(2));
}

#[test]
fn into_std_maps_to_about_the_same_moment() {
    let a = Instant::now();
    let later = (a + s(1)).into_std();
    let now = std::time::Instant::now();
    let d = later.saturating_duration_since(now);
    assert!(d > Duration::from_millis(500) && d <= s(1), "{d:?}");
}

#[test]
fn instant_state_round_trip() {
    let i = Instant(Duration::new(123, 456));
    let bytes = crate::state::to_vec(&i).unwrap();
    let back: Instant = crate::state::from_slice(&bytes).unwrap();
    assert_eq!(back, i);
}

#[test]
fn component_state_round_trip() {
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    clock::save_component(&mut e).unwrap();
    e.finish().unwrap();
    let (v, _) = decode_slice(&bytes).unwrap();
    let saved = parse_component(&v).unwrap();
    assert!(saved.now >= clock::ORIGIN);
    assert!(saved.wall > s(1_600_000_000));
    // Restoring the state just saved keeps the clock monotonic.
    let before = Instant::now();
    clock::restore_component(&v, Policy::Monotonic).unwrap();
    assert!(Instant::now() >= before);
    assert!(parse_component(&Value::Uint(3)).is_err());
}
